"""Latent extraction: run a network over a split and keep one layer's activations.

The default layer is ``avgpool`` (the 512-d input of the ResNet's ``fc`` head, thesis
§3.1). Latents are computed in true float32 on every device (no reduced-precision
autocast: bf16 would collapse near neighbours into ties), and with TF32 off
(:func:`float32_precision`): torch may otherwise run float32 convolutions and matmuls on
Ampere/Hopper GPUs as TF32 (10-bit mantissa, ~1e-3 relative error), which would bring back
those ties and make GPU latents differ from CPU latents. Every extraction path (latents,
pruning latents, layer latents, pretrained latents) goes through :func:`extract_layers`,
which holds that setting for its forward passes only and restores the previous one after
(training may keep TF32). For the ``avgpool`` layer the predictions stored with the
latents are the ``fc`` head applied to the *stored* float32 latents in float64
(:func:`head_predict`), so any later use of the head on the same latents (for instance
the noise experiment at p = 0) reproduces them exactly.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..head import head_predict  # numpy only; re-exported here for existing callers
from ..io import write_latents
from ..utils import LatentGraphError
from .data import DataBundle, prepare_batch
from .models import capture, model_from_checkpoint
from .training import fp32_precision_leaves, iterate, resolve_device

log = logging.getLogger(__name__)


def _read_or_none(read: Any) -> Any:
    """``read()``, or None where torch refuses to read a legacy TF32 flag (mixed legacy/new API use)."""
    try:
        return read()
    except RuntimeError:
        return None


@contextlib.contextmanager
def float32_precision() -> Iterator[None]:
    """Compute float32 convolutions and matmuls in IEEE float32 (no TF32) inside the block.

    On entry: float32 matmul precision ``"highest"`` (= legacy
    ``torch.backends.cuda.matmul.allow_tf32 = False``), ``torch.backends.cudnn.allow_tf32 =
    False``, and in torch >= 2.9 every per-operator ``fp32_precision`` leaf (cuBLAS matmul,
    cuDNN conv/RNN, oneDNN matmul/conv/RNN) set to ``"ieee"``: the leaves are what the
    kernels read, the legacy flags are kept in agreement so that torch's consistency checks
    pass. On exit, normal or by an exception, every one of them is restored to its value on
    entry (a legacy flag that torch refused to read on entry is left untouched). The
    settings are process-wide: do not train in another thread meanwhile.

    Yields
    ------
    None
    """
    import torch

    leaves = fp32_precision_leaves()
    saved_leaves = {name: h.fp32_precision for name, h in leaves.items()}
    saved_matmul = _read_or_none(torch.get_float32_matmul_precision)
    saved_cudnn = _read_or_none(lambda: torch.backends.cudnn.allow_tf32)
    try:
        if saved_matmul is not None:
            torch.set_float32_matmul_precision("highest")
        if saved_cudnn is not None:
            torch.backends.cudnn.allow_tf32 = False
        for handle in leaves.values():
            handle.fp32_precision = "ieee"
        yield
    finally:
        if saved_matmul is not None:
            torch.set_float32_matmul_precision(saved_matmul)
        if saved_cudnn is not None:
            torch.backends.cudnn.allow_tf32 = saved_cudnn
        for name, handle in leaves.items():
            handle.fp32_precision = saved_leaves[name]


@contextlib.contextmanager
def _repeatable_cudnn() -> Iterator[None]:
    """cuDNN picks its convolution algorithms by heuristics, deterministically (no autotuning
    that a training job may have switched on), inside the block; restored after. GPU latents
    of one checkpoint then repeat run to run on one machine."""
    import torch

    saved = torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved


def head_weights(model_or_state: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ``fc`` layer's weight (C, d) and bias (C,) as float64 numpy arrays.

    Parameters
    ----------
    model_or_state : torch.nn.Module or dict
        A network or its state dict, with an ``fc.weight`` (and usually ``fc.bias``).

    Returns
    -------
    W : numpy.ndarray
        The weight, float64, shape (C, d).
    b : numpy.ndarray
        The bias, float64, shape (C,); zeros when the head has none.

    Raises
    ------
    LatentGraphError
        When there is no ``fc`` head.
    """
    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    if "fc.weight" not in state:
        raise LatentGraphError("the model has no 'fc' head")
    W = state["fc.weight"].detach().cpu().double().numpy()
    b = state["fc.bias"].detach().cpu().double().numpy() if "fc.bias" in state else np.zeros(W.shape[0])
    return W, b


def extract(
    model: Any,
    split: Any,
    input_size: int,
    device: Any,
    *,
    layer: str = "avgpool",
    batch_size: int = 256,
    num_workers: int = 0,
    reduce: str = "flatten",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latents of every sample of ``split`` at one layer (see :func:`extract_layers`).

    Parameters
    ----------
    model : torch.nn.Module
        The network (moved to ``device`` and set to eval mode).
    split : TensorSplit or torch.utils.data.Dataset
        The split to run over.
    input_size : int
        Side length the images are resized to.
    device : torch.device
        The device to run on.
    layer : str, optional
        Dotted module name whose output is kept.
    batch_size : int, optional
        Samples per forward pass.
    num_workers : int, optional
        DataLoader workers (file-backed splits only).
    reduce : {"flatten", "avg"}, optional
        How a module's output becomes one row (see :func:`latentgraph.nets.models.capture`).

    Returns
    -------
    X : numpy.ndarray
        Latents, float32, shape (N, d).
    labels : numpy.ndarray
        Labels, int64, shape (N,).
    sample_ids : numpy.ndarray
        Sample ids, int64, shape (N,).
    predictions : numpy.ndarray
        Predicted classes, int64, shape (N,).
    """
    feats, labels, ids, pred = extract_layers(model, split, input_size, device, [layer], batch_size=batch_size,
                                              num_workers=num_workers, reduce=reduce)
    return feats[layer], labels, ids, pred


def _has_fc_head(model: Any, dim: int) -> bool:
    """Whether ``model.fc`` is a linear head on ``dim`` features (the ResNet family)."""
    fc = getattr(model, "fc", None)
    return fc is not None and getattr(fc, "in_features", None) == dim and "fc.weight" in model.state_dict()


def extract_layers(
    model: Any,
    split: Any,
    input_size: int,
    device: Any,
    layers: list[str],
    *,
    batch_size: int = 256,
    num_workers: int = 0,
    reduce: str = "flatten",
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Latents of several modules in one pass over ``split``.

    Predictions are the argmax of the network's output; when ``avgpool`` is among the layers
    and the model has an ``fc`` head on it (the ResNets), they are that head applied to the
    stored float32 latents in float64 (:func:`head_predict`), as the rest of the workflow
    recomputes them. The forward passes run in true float32 on every device
    (:func:`float32_precision`: TF32 off) and, on CUDA, with cuDNN's deterministic heuristic
    algorithm choice (no autotuning); both are restored after.

    Parameters
    ----------
    model : torch.nn.Module
        The network (moved to ``device`` and set to eval mode).
    split : TensorSplit or torch.utils.data.Dataset
        The split to run over.
    input_size : int
        Side length the images are resized to.
    device : torch.device
        The device to run on.
    layers : list of str
        Dotted module names, without repeats; each must run once per forward pass.
    batch_size : int, optional
        Samples per forward pass.
    num_workers : int, optional
        DataLoader workers (file-backed splits only).
    reduce : {"flatten", "avg"}, optional
        Each module's output is flattened per sample, or with ``"avg"`` global-average-pooled
        over its spatial dimensions first (see :func:`latentgraph.nets.models.capture`).

    Returns
    -------
    X : dict of str to numpy.ndarray
        ``{layer: latents}``, float32, shape (N, d_layer).
    labels : numpy.ndarray
        Labels, int64, shape (N,).
    sample_ids : numpy.ndarray
        Sample ids, int64, shape (N,).
    predictions : numpy.ndarray
        Predicted classes, int64, shape (N,).

    Raises
    ------
    LatentGraphError
        For an empty or repeating ``layers``, an unknown module, or a module that runs more
        than once per forward pass.
    """
    import torch

    if not layers or len(set(layers)) != len(layers):
        raise LatentGraphError(f"layers must be a non-empty list without repeats, got {layers}")
    model = model.to(device).eval()
    feats: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    labels, ids, preds = [], [], []
    with torch.no_grad(), float32_precision(), _repeatable_cudnn(), contextlib.ExitStack() as stack:
        stores = {name: stack.enter_context(capture(model, name, reduce)) for name in layers}
        for x, y, sid in iterate(split, batch_size, num_workers=num_workers, pin_memory=device.type == "cuda",
                                 device=device):
            x = prepare_batch(x, input_size, device)
            out = model(x)
            for name, store in stores.items():
                if len(store) != 1:
                    raise LatentGraphError(f"module {name!r} ran {len(store)} times in one forward pass; "
                                           f"choose a module that runs once")
                feats[name].append(store.pop().float().cpu().numpy())
            preds.append(out.argmax(1).cpu().numpy())
            labels.append(np.asarray(y.cpu() if hasattr(y, "cpu") else y))
            ids.append(np.asarray(sid))
    X = {name: np.concatenate(f).astype(np.float32) for name, f in feats.items()}
    pred = np.concatenate(preds).astype(np.int64)
    if "avgpool" in X and _has_fc_head(model, X["avgpool"].shape[1]):
        W, b = head_weights(model)
        pred = head_predict(X["avgpool"], W, b)
    return X, np.concatenate(labels).astype(np.int64), np.concatenate(ids).astype(np.int64), pred


def extraction_options(config: dict[str, Any]) -> dict[str, Any]:
    """Device, batch size and loader workers of every latent-extraction job.

    These are speed knobs: the scripts read them from the config directly, not through
    rule params, so changing them never re-runs a job.

    Parameters
    ----------
    config : dict
        The (validated) workflow config.

    Returns
    -------
    dict
        ``device`` and ``num_workers`` from the ``train`` section, ``batch_size`` from
        ``latents``.
    """
    from ..execution import execution_settings

    train = execution_settings(config, "train")
    return {
        "device": train["device"],
        "batch_size": execution_settings(config, "latents")["batch_size"],
        "num_workers": train["num_workers"],
    }


def extract_checkpoint(
    checkpoint: str | Path,
    data: DataBundle,
    out: str | Path,
    *,
    split: str = "test",
    layer: str = "avgpool",
    device: str = "auto",
    batch_size: int = 256,
    num_workers: int = 0,
    metadata: dict[str, Any] | None = None,
    reduce: str = "flatten",
) -> dict[str, Any]:
    """Load a checkpoint, extract ``split`` latents at ``layer`` and write them to Parquet.

    Parameters
    ----------
    checkpoint : str or pathlib.Path
        The checkpoint (:func:`latentgraph.nets.models.save_checkpoint`); its spec gives
        the network and the input size.
    data : DataBundle
        The dataset.
    out : str or pathlib.Path
        The latents Parquet file to write.
    split : str, optional
        The bundle's split to extract (``train``, ``val`` or ``test``).
    layer : str, optional
        Dotted module name whose output is kept.
    device : str, optional
        ``auto``, ``cpu`` or ``cuda[:i]`` (see :func:`~latentgraph.nets.training.resolve_device`).
    batch_size : int, optional
        Samples per forward pass.
    num_workers : int, optional
        DataLoader workers (file-backed splits only).
    metadata : dict, optional
        Extra metadata, written over the computed keys.
    reduce : {"flatten", "avg"}, optional
        How the module's output becomes one row (see :func:`latentgraph.nets.models.capture`).

    Returns
    -------
    dict
        The metadata written with the file (dataset, split, layer, reduce, arch, model, seed,
        epoch, test_accuracy on ``split``, class_names, checkpoint, ...).

    Raises
    ------
    LatentGraphError
        When the checkpoint cannot be loaded or the dataset has no such split.
    """
    model, ckpt = model_from_checkpoint(checkpoint)
    dev = resolve_device(device)
    subset = getattr(data, split, None)
    if subset is None:
        raise LatentGraphError(f"dataset {data.name!r} has no {split!r} split")
    spec = ckpt["spec"]
    X, labels, ids, pred = extract(model, subset, int(spec["input_size"]), dev, layer=layer, batch_size=batch_size,
                                   num_workers=num_workers, reduce=reduce)
    acc = float(np.mean(pred == labels))
    meta = {
        "dataset": data.name,
        "split": split,
        "layer": layer,
        "reduce": reduce,
        "arch": spec["arch"],
        "model": spec,
        "seed": ckpt["meta"].get("seed"),
        "epoch": ckpt["meta"].get("epoch"),
        "test_accuracy": acc,
        "class_names": list(data.classes),
        "checkpoint": str(checkpoint),
    }
    meta.update(metadata or {})
    write_latents(out, X, labels, ids, prediction=pred, metadata=meta)
    log.info("%s: %d latents of dim %d, accuracy %.4f", out, X.shape[0], X.shape[1], acc)
    return meta


def extract_checkpoint_layers(
    checkpoint: str | os.PathLike,
    data: Any,
    outputs: Mapping[str, str | os.PathLike],
    *,
    split: str = "test",
    reduce: str = "avg",
    device: str = "auto",
    batch_size: int = 256,
    num_workers: int = 0,
    metadata: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Latents of every module in ``outputs`` from one checkpoint, in one pass over ``split``.

    Parameters
    ----------
    checkpoint : str or os.PathLike
        The checkpoint (:func:`latentgraph.nets.models.save_checkpoint`).
    data : DataBundle
        The dataset.
    outputs : Mapping of str to path
        Dotted module name -> the latents Parquet file to write; the order gives each file's
        ``depth`` metadata.
    split : str, optional
        The bundle's split to extract (``train``, ``val`` or ``test``).
    reduce : {"flatten", "avg"}, optional
        How each module's output becomes one row (see :func:`latentgraph.nets.models.capture`).
    device : str, optional
        ``auto``, ``cpu`` or ``cuda[:i]`` (see :func:`~latentgraph.nets.training.resolve_device`).
    batch_size : int, optional
        Samples per forward pass.
    num_workers : int, optional
        DataLoader workers (file-backed splits only).
    metadata : dict, optional
        Extra metadata for every file, written over the computed keys.

    Returns
    -------
    dict of str to int
        Each layer's latent dimension.

    Raises
    ------
    LatentGraphError
        When the checkpoint cannot be loaded, the dataset has no such split or a module is
        unusable (see :func:`extract_layers`).
    """
    model, ckpt = model_from_checkpoint(checkpoint)
    subset = getattr(data, split, None)
    if subset is None:
        raise LatentGraphError(f"dataset {data.name!r} has no {split!r} split")
    spec = ckpt["spec"]
    layers = list(outputs)
    X, labels, ids, pred = extract_layers(model, subset, int(spec["input_size"]), resolve_device(device), layers,
                                          batch_size=batch_size, num_workers=num_workers, reduce=reduce)
    acc = float(np.mean(pred == labels))
    dims = {}
    for depth, name in enumerate(layers):
        meta = {"dataset": data.name, "split": split, "layer": name, "depth": depth, "reduce": reduce,
                "arch": spec["arch"], "model": spec, "seed": ckpt["meta"].get("seed"),
                "epoch": ckpt["meta"].get("epoch"), "test_accuracy": acc, "class_names": list(data.classes),
                "checkpoint": str(checkpoint)}
        meta.update(metadata or {})
        write_latents(outputs[name], X[name], labels, ids, prediction=pred, metadata=meta)
        dims[name] = int(X[name].shape[1])
        log.info("%s: %d latents of dim %d (%s, %s)", outputs[name], X[name].shape[0], X[name].shape[1], name, reduce)
    return dims
