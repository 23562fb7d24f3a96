"""Latent extraction: run a network over a split and keep one layer's activations.

The default layer is ``avgpool`` (the 512-d input of the ResNet's ``fc`` head, thesis
§3.1). Latents are computed in float32 (no reduced-precision autocast: bf16 would collapse
near neighbours into ties). For the ``avgpool`` layer the predictions stored with the
latents are the ``fc`` head applied to the *stored* float32 latents in float64
(:func:`head_predict`), so any later use of the head on the same latents (for instance
the noise experiment at p = 0) reproduces them exactly.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from .data import DataBundle, prepare_batch
from .head import head_predict  # numpy only; re-exported here for existing callers
from .io import write_latents
from .models import capture, model_from_checkpoint
from .train import iterate, resolve_device
from .utils import LatentGraphError

log = logging.getLogger(__name__)


def head_weights(model_or_state: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ``fc`` layer's weight (C, d) and bias (C,) as float64 numpy arrays."""
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latents of every sample of ``split``; returns (X float32, labels, sample_ids, predictions)."""
    import torch

    model = model.to(device).eval()
    feats, labels, ids, preds = [], [], [], []
    with torch.no_grad(), capture(model, layer) as store:
        for x, y, sid in iterate(split, batch_size, num_workers=num_workers, pin_memory=device.type == "cuda",
                                 device=device):
            x = prepare_batch(x, input_size, device)
            out = model(x)
            feats.append(store.pop().float().cpu().numpy())
            preds.append(out.argmax(1).cpu().numpy())
            labels.append(np.asarray(y.cpu() if hasattr(y, "cpu") else y))
            ids.append(np.asarray(sid))
    X = np.concatenate(feats).astype(np.float32)
    pred = np.concatenate(preds).astype(np.int64)
    if layer == "avgpool":
        W, b = head_weights(model)
        pred = head_predict(X, W, b)
    return X, np.concatenate(labels).astype(np.int64), np.concatenate(ids).astype(np.int64), pred


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
) -> dict[str, Any]:
    """Load a checkpoint, extract ``split`` latents at ``layer`` and write them to Parquet.

    Returns the metadata written with the file (dataset, split, arch, seed, epoch,
    test_accuracy, class_names, ...).
    """
    model, ckpt = model_from_checkpoint(checkpoint)
    dev = resolve_device(device)
    subset = getattr(data, split, None)
    if subset is None:
        raise LatentGraphError(f"dataset {data.name!r} has no {split!r} split")
    spec = ckpt["spec"]
    X, labels, ids, pred = extract(model, subset, int(spec["input_size"]), dev, layer=layer, batch_size=batch_size,
                                   num_workers=num_workers)
    acc = float(np.mean(pred == labels))
    meta = {
        "dataset": data.name,
        "split": split,
        "layer": layer,
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
