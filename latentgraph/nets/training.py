"""Training with a fixed scheme (thesis §3.6.1, Table 4.1), resumable, and reproducible where it can be.

One run = one seed. The run saves its initial weights (epoch 0, θ0) and a checkpoint after
every epoch, and records loss and accuracy per epoch. Work happens in a private work
folder: each finished epoch is written there atomically together with the full training
state (optimiser momentum, RNG states, history). An interrupted run restarts from its
last finished epoch with every epoch's data order seeded by (seed, epoch). Only when all
epochs are done are the checkpoints moved to their final paths, so a workflow manager never
sees a partial run.

Reproducibility, as far as it is true:

- **CPU**: bit-reproducible. Two runs with one seed, and a run resumed after an
  interruption, end with identical weights and histories (``tests/test_train.py``).
- **CUDA, default** (``train.deterministic: false``): *not* reproducible. cuDNN autotuning
  (``benchmark``), TF32 and non-deterministic kernels (atomic adds in backward passes) are
  on for speed, so two runs with one seed, or a run resumed after a SLURM retry, differ
  in the last bits after the first step and drift apart from there.
- **CUDA with** ``train.deterministic: true``: deterministic kernels only
  (``torch.use_deterministic_algorithms(True)``: an op without one raises an error that
  names it), cuDNN autotuning off, TF32 off, ``CUBLAS_WORKSPACE_CONFIG=:4096:8``
  (:func:`configure_torch`). Runs then repeat bit for bit, but only on the same GPU model,
  driver, CUDA/cuDNN and torch version; never bit-equal to CPU runs. Its cost in speed
  has not been measured (no GPU was available to this project's development).

Per-batch losses and correct counts are summed on the device and read once per epoch, in
the order a host-side sum would take (float64), so the numbers equal those of per-step
reads bit for bit without a host synchronisation per step.

Learning rates follow ``MultiStepLR`` semantics without storing a scheduler: epoch e
(0-based) trains at lr * gamma ** (number of milestones <= e).
"""

from __future__ import annotations

import bisect
import logging
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..utils import LatentGraphError, atomic_path, config_hash, stable_seed
from .data import DataBundle, TensorSplit, augment_batch, prepare_batch
from .models import build_from_spec, save_checkpoint, save_torch_file

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """Hyper-parameters of the fixed training scheme (config section ``train``).

    The field defaults are the schema's (``schemas/config.schema.yaml``, kept equal by
    ``tests/test_defaults.py``) and the library's only ones: :meth:`from_config` fills every
    key a section leaves out from them, so library and workflow users train alike.

    Parameters
    ----------
    epochs : int
        Epochs E of a run.
    batch_size : int
        Training samples per optimiser step.
    lr : float
        Initial learning rate of SGD (``optimizer.lr``).
    momentum : float
        SGD momentum (``optimizer.momentum``).
    weight_decay : float
        L2 weight decay (``optimizer.weight_decay``).
    nesterov : bool
        Nesterov momentum (``optimizer.nesterov``).
    milestones : list of int
        Epochs after which the learning rate is multiplied by ``gamma`` (``scheduler.milestones``).
    gamma : float
        Learning-rate factor at each milestone (``scheduler.gamma``).
    device : str
        ``auto`` (CUDA when PyTorch sees a GPU, else CPU), ``cpu`` or ``cuda[:i]``.
    amp : bool
        bf16 autocast on CUDA (ignored on CPU).
    channels_last : bool
        channels_last memory format on CUDA (ignored elsewhere).
    threads : int or None
        CPU threads for torch; no config key (the workflow passes the job's thread count).
        None: torch's default.
    num_workers : int
        DataLoader worker processes (file-backed datasets only).
    eval_batch_size : int
        Samples per forward pass when evaluating.
    deterministic : bool
        Repeatable CUDA runs (:func:`configure_torch`); CPU runs are so always.
    """

    epochs: int = 25
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    nesterov: bool = False
    milestones: list[int] = field(default_factory=lambda: [10, 20, 30])
    gamma: float = 0.1
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    threads: int | None = None
    num_workers: int = 0
    eval_batch_size: int = 256
    deterministic: bool = False

    @classmethod
    def from_config(cls, cfg: dict[str, Any], **override: Any) -> TrainSettings:
        """Settings from a config's ``train`` section (unknown keys are ignored here).

        Parameters
        ----------
        cfg
            The ``train`` section, validated (every key present) or partial: a missing key
            takes the field default above, which equals the schema's.
        **override
            Fields set directly, after the section (e.g. ``threads``).

        Returns
        -------
        TrainSettings
            The settings.
        """
        d = cls()  # the one set of defaults: the field defaults
        opt = cfg.get("optimizer", {}) or {}
        sched = cfg.get("scheduler", {}) or {}
        kw = {
            "epochs": int(cfg.get("epochs", d.epochs)),
            "batch_size": int(cfg.get("batch_size", d.batch_size)),
            "lr": float(opt.get("lr", d.lr)),
            "momentum": float(opt.get("momentum", d.momentum)),
            "weight_decay": float(opt.get("weight_decay", d.weight_decay)),
            "nesterov": bool(opt.get("nesterov", d.nesterov)),
            "milestones": [int(m) for m in sched.get("milestones", d.milestones)],
            "gamma": float(sched.get("gamma", d.gamma)),
            "device": str(cfg.get("device", d.device)),
            "amp": bool(cfg.get("amp", d.amp)),
            "channels_last": bool(cfg.get("channels_last", d.channels_last)),
            "num_workers": int(cfg.get("num_workers", d.num_workers)),
            "eval_batch_size": int(cfg.get("eval_batch_size", d.eval_batch_size)),
            "deterministic": bool(cfg.get("deterministic", d.deterministic)),
        }
        kw.update(override)
        return cls(**kw)

    def lr_at(self, epoch_index: int) -> float:
        """Learning rate of the 0-based epoch ``epoch_index``.

        Parameters
        ----------
        epoch_index : int
            The epoch, 0-based.

        Returns
        -------
        float
            ``lr * gamma ** (number of milestones <= epoch_index)``.
        """
        return self.lr * self.gamma ** bisect.bisect_right(sorted(self.milestones), epoch_index)

    def fingerprint(self) -> dict[str, Any]:
        """The settings that change the trained weights (not where or how fast they run).

        ``deterministic`` is left out like ``device``: it picks the kernels of a CUDA run
        (and is a no-op on CPU), not the experiment, so a run may resume under the other
        value (it is then repeatable only from that point on).

        Returns
        -------
        dict
            The fields without ``device``, ``threads``, ``num_workers``, ``eval_batch_size``,
            ``channels_last`` and ``deterministic``.
        """
        d = asdict(self)
        for k in ("device", "threads", "num_workers", "eval_batch_size", "channels_last", "deterministic"):
            d.pop(k)
        return d


def resolve_device(name: str = "auto") -> Any:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error.

    Parameters
    ----------
    name : str, optional
        ``auto`` or a torch device name (``cpu``, ``cuda``, ``cuda:1``, ...).

    Returns
    -------
    torch.device
        The device.

    Raises
    ------
    LatentGraphError
        When a CUDA device is requested but PyTorch sees no GPU.
    """
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise LatentGraphError("device 'cuda' was requested but PyTorch sees no GPU")
    return torch.device(name)


#: The per-operator float32 precision handles of torch >= 2.9 (``torch.backends.<module>.<op>.fp32_precision``),
#: as (module, op). They decide what a float32 kernel computes in: cuBLAS matmuls read
#: ``cuda.matmul``, cuDNN convolutions ``cudnn.conv``; a leaf set to "none" inherits its parent's.
FP32_PRECISION_LEAVES = (("cuda", "matmul"), ("cudnn", "conv"), ("cudnn", "rnn"),
                         ("mkldnn", "matmul"), ("mkldnn", "conv"), ("mkldnn", "rnn"))


def fp32_precision_leaves() -> dict[str, Any]:
    """The per-operator ``fp32_precision`` handles this torch has, by ``"module.op"`` (none before torch 2.9).

    Returns
    -------
    dict
        ``{"cudnn.conv": torch.backends.cudnn.conv, ...}``; each handle's ``fp32_precision``
        reads and sets ``"ieee"``, ``"tf32"``, ``"bf16"`` (oneDNN only) or ``"none"``.
    """
    import torch

    out: dict[str, Any] = {}
    for module, op in FP32_PRECISION_LEAVES:
        handle = getattr(getattr(torch.backends, module, None), op, None)
        try:
            handle.fp32_precision  # noqa: B018 - probes for the attribute
        except AttributeError:
            continue
        out[f"{module}.{op}"] = handle
    return out


def set_tf32(allowed: bool) -> None:
    """Allow or forbid TF32 for float32 convolutions and matmuls on CUDA (process-wide).

    Sets both APIs so they agree (torch raises when its legacy getters see them disagree):
    the legacy ``torch.backends.cuda.matmul.allow_tf32`` (= float32 matmul precision
    "high"/"highest") and ``torch.backends.cudnn.allow_tf32``, and, in torch >= 2.9, the
    per-operator ``fp32_precision`` of cuBLAS matmuls and cuDNN convolutions/RNNs, which
    the kernels read. Forbidding also sets oneDNN's (CPU) leaves to ``"ieee"`` (no
    bf16/TF32 for float32 on CPUs that have it); allowing leaves the CPU untouched.

    Parameters
    ----------
    allowed
        True: TF32 (10-bit mantissa) is allowed; False: float32 is computed as float32.
    """
    import torch

    torch.backends.cuda.matmul.allow_tf32 = bool(allowed)
    torch.backends.cudnn.allow_tf32 = bool(allowed)
    for name, handle in fp32_precision_leaves().items():
        if name.startswith(("cuda.", "cudnn.")):
            handle.fp32_precision = "tf32" if allowed else "ieee"
        elif not allowed:
            handle.fp32_precision = "ieee"


#: cuBLAS workspace setting that makes its matmuls deterministic (NVIDIA's cuBLAS docs; torch
#: accepts ":4096:8" and ":16:8" and raises in deterministic mode without one of them).
CUBLAS_DETERMINISTIC_CONFIGS = (":4096:8", ":16:8")


def configure_torch(device: Any, threads: int | None = None, deterministic: bool = False) -> None:
    """Thread count and kernels of a training process.

    CPU: deterministic algorithms (``warn_only``): CPU runs are bit-reproducible whatever
    ``deterministic`` says. CUDA without ``deterministic``: fast and *not* reproducible
    (cuDNN autotuning, TF32, non-deterministic kernels). CUDA with ``deterministic``
    (``train.deterministic``): ``torch.use_deterministic_algorithms(True)`` (an op without
    a deterministic CUDA kernel raises an error naming it), cuDNN ``benchmark`` off and
    ``deterministic`` on, TF32 off, and ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` unless already
    one of the deterministic values. torch reads that variable when cuBLAS first runs, so
    this must be called before any CUDA work of the process (``train_run`` and
    ``prune.run_round`` call it first); a warning says when CUDA was already initialised.

    Parameters
    ----------
    device
        The ``torch.device`` the process trains on.
    threads
        CPU threads for torch (None: torch's default).
    deterministic
        Repeatable CUDA runs (same GPU model, driver and library versions); no effect on CPU.
    """
    import os

    import torch

    if threads:
        torch.set_num_threads(int(threads))
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
        return
    if deterministic:
        if os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in CUBLAS_DETERMINISTIC_CONFIGS:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_DETERMINISTIC_CONFIGS[0]
            if torch.cuda.is_initialized():
                log.warning("CUDA was initialised before train.deterministic set CUBLAS_WORKSPACE_CONFIG; "
                            "cuBLAS may ignore it (set it in the environment to be sure)")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        set_tf32(False)
    else:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.deterministic = False
        set_tf32(True)


def autocast(device: Any, enabled: bool) -> Any:
    """bf16 autocast on CUDA when ``enabled``; a no-op elsewhere.

    Parameters
    ----------
    device : torch.device
        The compute device.
    enabled : bool
        Whether autocast is wanted (``train.amp``).

    Returns
    -------
    contextlib.AbstractContextManager
        ``torch.autocast("cuda", dtype=torch.bfloat16)`` or a null context.
    """
    import contextlib

    import torch

    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def iterate(
    split: Any,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    num_workers: int = 0,
    pin_memory: bool = False,
    device: Any = None,
    augment: bool = False,
) -> Iterator[tuple[Any, Any, Any]]:
    """Batches ``(images, labels, sample_ids)`` of a split; order and augmentation are fixed by ``seed``.

    Parameters
    ----------
    split : TensorSplit or torch.utils.data.Dataset
        The split; a :class:`~latentgraph.nets.data.TensorSplit` is batched by indexing,
        anything else through a ``DataLoader``.
    batch_size : int
        Samples per batch (the last batch may be smaller).
    shuffle : bool, optional
        Random order instead of the split's order.
    seed : int, optional
        Seed of the order and the augmentation.
    num_workers : int, optional
        DataLoader workers (file-backed splits only).
    pin_memory : bool, optional
        Pinned host memory in the DataLoader (file-backed splits only).
    device : torch.device, optional
        Where in-memory splits are batched (see :meth:`~latentgraph.nets.data.TensorSplit.batch`).
    augment : bool, optional
        Apply the split's batch augmentation when it has one (training only; in-memory splits).

    Yields
    ------
    tuple of (torch.Tensor, torch.Tensor, torch.Tensor)
        Images, labels and sample ids of each batch.
    """
    import torch

    g = torch.Generator().manual_seed(int(seed) % (2**63))
    if isinstance(split, TensorSplit):
        n = len(split)
        order = torch.randperm(n, generator=g) if shuffle else torch.arange(n)
        for s in range(0, n, batch_size):
            x, y, ids = split.batch(order[s : s + batch_size], device=device)
            if augment and split.augment:
                x = augment_batch(x, g)
            yield x, y, ids
        return
    loader = torch.utils.data.DataLoader(
        split,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=g,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        drop_last=False,
    )
    yield from loader


def evaluate(
    model: Any,
    split: Any,
    input_size: int,
    device: Any,
    *,
    batch_size: int = 256,
    amp: bool = True,
    num_workers: int = 0,
    channels_last: bool = True,
) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on ``split``.

    Parameters
    ----------
    model
        The network, on ``device``.
    split
        The split to evaluate (a :class:`latentgraph.nets.data.TensorSplit` or a dataset).
    input_size
        Side length the images are resized to.
    device
        The ``torch.device`` to evaluate on.
    batch_size
        Samples per forward pass (``train.eval_batch_size``).
    amp
        bf16 autocast on CUDA (``train.amp``).
    num_workers
        DataLoader workers of file-backed splits (``train.num_workers``).
    channels_last
        channels_last input batches on CUDA (``train.channels_last``; ignored elsewhere).

    Returns
    -------
    tuple of float
        (mean loss, accuracy). Per-batch sums stay on the device and are read once at the
        end, with the values a per-batch host sum in float64 gives.
    """
    import torch
    import torch.nn.functional as F

    model.eval()
    total = 0
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    with torch.no_grad():
        for x, y, _ in iterate(split, batch_size, num_workers=num_workers, pin_memory=device.type == "cuda",
                               device=device):
            x = prepare_batch(x, input_size, device, channels_last=channels_last and device.type == "cuda")
            y = y.to(device, non_blocking=True)
            with autocast(device, amp):
                out = model(x)
            loss_sum += F.cross_entropy(out.float(), y, reduction="sum").double()
            correct += (out.argmax(1) == y).sum()
            total += int(y.numel())  # shape metadata: no device read
    return float(loss_sum) / max(total, 1), int(correct) / max(total, 1)


def train_one_epoch(
    model: Any,
    optimizer: Any,
    split: Any,
    settings: TrainSettings,
    input_size: int,
    device: Any,
    seed: int,
    epoch_index: int,
    after_step: Callable[[], None] | None = None,
    progress: bool = True,
) -> tuple[float, float]:
    """One pass over ``split`` with the learning rate of ``epoch_index``.

    Parameters
    ----------
    model : torch.nn.Module
        The network, on ``device``.
    optimizer : torch.optim.Optimizer
        Its optimiser; the learning rate of every group is set to ``settings.lr_at(epoch_index)``.
    split : TensorSplit or torch.utils.data.Dataset
        The training split (augmented where it has augmentation).
    settings : TrainSettings
        The training scheme (batch size, amp, channels_last, workers, learning rates).
    input_size : int
        Side length the images are resized to.
    device : torch.device
        The ``torch.device`` to train on.
    seed : int
        The run's seed; the data order is seeded by (seed, epoch_index).
    epoch_index : int
        The epoch, 0-based.
    after_step : callable, optional
        Called without arguments after every optimiser step (pruning uses it to re-apply masks).
    progress : bool, optional
        Show a progress bar (only when stderr is a terminal).

    Returns
    -------
    tuple of float
        (mean training loss, running training accuracy).
    """
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm

    for group in optimizer.param_groups:
        group["lr"] = settings.lr_at(epoch_index)
    model.train()
    # sums on the device, read once after the loop: no host synchronisation per step. The
    # float64 loss sum adds loss * n in batch order, as the host-side sum did (same bits).
    total = 0
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    batches = iterate(
        split,
        settings.batch_size,
        shuffle=True,
        seed=stable_seed(seed, "epoch", epoch_index),
        num_workers=settings.num_workers,
        pin_memory=device.type == "cuda",
        device=device,
        augment=True,
    )
    n_batches = (len(split) + settings.batch_size - 1) // settings.batch_size
    bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch_index + 1}", leave=False, file=sys.stderr,
               mininterval=10, ascii=True, disable=not (progress and sys.stderr.isatty()))
    for x, y, _ in bar:
        x = prepare_batch(x, input_size, device, channels_last=settings.channels_last and device.type == "cuda")
        y = y.to(device, non_blocking=True)
        with autocast(device, settings.amp):
            out = model(x)
            loss = F.cross_entropy(out.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step()
        n = int(y.numel())  # shape metadata: no device read
        loss_sum += loss.detach().double() * n
        correct += (out.detach().argmax(1) == y).sum()
        total += n
    return float(loss_sum) / max(total, 1), int(correct) / max(total, 1)


def make_optimizer(model: Any, settings: TrainSettings) -> Any:
    """SGD with the configured momentum, weight decay and Nesterov flag.

    Parameters
    ----------
    model : torch.nn.Module
        The network whose parameters are optimised.
    settings : TrainSettings
        The training scheme (``lr``, ``momentum``, ``weight_decay``, ``nesterov``).

    Returns
    -------
    torch.optim.SGD
        The optimiser, at the initial learning rate.
    """
    import torch

    return torch.optim.SGD(
        model.parameters(),
        lr=settings.lr,
        momentum=settings.momentum,
        weight_decay=settings.weight_decay,
        nesterov=settings.nesterov,
    )


HISTORY_COLUMNS = ["epoch", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"]


def train_epochs(
    model: Any,
    optimizer: Any,
    data: DataBundle,
    settings: TrainSettings,
    input_size: int,
    device: Any,
    seed: int,
    *,
    start: int = 0,
    history: Sequence[dict[str, Any]] = (),
    after_epoch: Callable[[int, list[dict[str, Any]]], None] | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """The epoch loop of a run, on a model in memory (no files): epochs ``start`` .. E-1.

    Each epoch trains on ``data.train`` (:func:`train_one_epoch`, data order seeded by
    (seed, epoch)) and evaluates on ``data.test``, so epochs resumed from a saved state
    continue exactly where the interrupted run stopped (on the CPU: bit for bit).

    Parameters
    ----------
    model
        The network, on ``device``, holding the weights after epoch ``start``.
    optimizer
        Its optimiser (:func:`make_optimizer`), in the state after epoch ``start``.
    data
        Training and test splits.
    settings
        The training scheme; ``settings.epochs`` is E.
    input_size
        Side length the images are resized to.
    device
        The ``torch.device`` to train on.
    seed
        The run's seed.
    start
        Epochs already done (0 for a fresh run).
    history
        The rows of the epochs already done (:data:`HISTORY_COLUMNS`).
    after_epoch
        ``after_epoch(epoch, history)`` after each epoch (1-based ``epoch``; ``history``
        up to and including it): :func:`train_run` saves checkpoints and state with it.
    progress
        Show progress bars.

    Returns
    -------
    list of dict
        The rows of all epochs, 1..E.
    """
    import time

    from tqdm import tqdm

    rows = list(history)
    bar = tqdm(range(start, settings.epochs), initial=start, total=settings.epochs, desc=f"seed {seed}",
               file=sys.stderr, ascii=True, mininterval=5, disable=not progress)
    for e in bar:
        t0 = time.perf_counter()
        train_loss, train_acc = train_one_epoch(model, optimizer, data.train, settings, input_size, device, seed, e,
                                                progress=progress)
        test_loss, test_acc = evaluate(model, data.test, input_size, device, batch_size=settings.eval_batch_size,
                                       amp=settings.amp, num_workers=settings.num_workers,
                                       channels_last=settings.channels_last)
        row = {"epoch": e + 1, "lr": settings.lr_at(e), "train_loss": train_loss, "train_accuracy": train_acc,
               "test_loss": test_loss, "test_accuracy": test_acc, "seconds": time.perf_counter() - t0}
        rows.append(row)
        bar.set_postfix(loss=f"{train_loss:.3f}", train=f"{train_acc:.3f}", test=f"{test_acc:.3f}")
        log.info("epoch %d/%d lr %.4g loss %.4f train %.4f test %.4f (%.1f s)", e + 1, settings.epochs,
                 row["lr"], train_loss, train_acc, test_acc, row["seconds"])
        if after_epoch is not None:
            after_epoch(e + 1, rows)
    bar.close()
    return rows


def _epoch_file(work: Path, epoch: int) -> Path:
    return work / f"epoch_{epoch:03d}.pt"


def _resume_state(work: Path, fingerprint: str) -> dict[str, Any] | None:
    """The saved state of an interrupted run in ``work`` with these settings, else None.

    Without a usable state the work folder is emptied (its files belong to other settings
    or to a torn start).
    """
    import torch

    state_path = work / "state.pt"
    state = None
    if state_path.exists():
        try:
            state = torch.load(state_path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a torn state file cannot happen (atomic), a foreign one can
            log.warning("ignoring unreadable resume state %s (%s)", state_path, exc)
        if state is not None and state.get("fingerprint") != fingerprint:
            log.warning("resume state in %s belongs to other settings; starting afresh", work)
            state = None
        if state is not None and not all(_epoch_file(work, e).exists() for e in range(state["epoch"] + 1)):
            log.warning("resume state in %s lacks checkpoints; starting afresh", work)
            state = None
    if state is None:
        for f in work.glob("*"):
            if f.is_file():
                f.unlink()
    return state


def _save_state(work: Path, fingerprint: str, epoch: int, model: Any, optimizer: Any, device: Any,
                history: Sequence[dict[str, Any]]) -> None:
    """Write the full training state after ``epoch`` (weights, optimiser, RNGs, history) atomically."""
    import torch

    state = {
        "fingerprint": fingerprint,
        "epoch": epoch,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
        "history": [[r[c] for c in HISTORY_COLUMNS] for r in history],
    }
    save_torch_file(state, work / "state.pt")


def _restore_state(state: dict[str, Any], model: Any, optimizer: Any, device: Any) -> list[dict[str, Any]]:
    """Load a saved state into ``model``, ``optimizer`` and the RNGs; returns the history so far."""
    import torch

    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    if device.type == "cuda" and state.get("cuda_rng") is not None:
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in state["history"]]


def _publish(work: Path, history: Sequence[dict[str, Any]], history_path: str | Path,
             checkpoint_paths: Sequence[str | Path]) -> pd.DataFrame:
    """History first, then the checkpoints (moves, no copies) to their final paths; then remove ``work``."""
    frame = pd.DataFrame(history, columns=HISTORY_COLUMNS)
    with atomic_path(history_path) as tmp:
        frame.to_csv(tmp, index=False)
    for e, dest in enumerate(checkpoint_paths):
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(_epoch_file(work, e)), str(dest))
    shutil.rmtree(work, ignore_errors=True)
    return frame


def train_run(
    spec: dict[str, Any],
    data: DataBundle,
    settings: TrainSettings,
    seed: int,
    checkpoint_paths: Sequence[str | Path],
    history_path: str | Path,
    work_dir: str | Path,
    *,
    data_fingerprint: Any = None,
    on_epoch_end: Callable[[int], None] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Train one run and write epoch 0..E checkpoints and the history CSV.

    The file side of :func:`train_epochs`: every finished epoch is saved in ``work_dir``
    (its checkpoint and the full training state), an interrupted run with the same
    settings resumes from there, and only a finished run is published.

    Parameters
    ----------
    spec
        The model spec (:func:`latentgraph.nets.models.model_spec`).
    data
        Training and test splits.
    settings
        The training scheme.
    seed
        Seeds the initial weights and every epoch's data order.
    checkpoint_paths
        ``checkpoint_paths[e]`` receives the weights after epoch ``e`` (index 0 = θ0): E + 1 paths.
    history_path
        The history CSV (:data:`HISTORY_COLUMNS`).
    work_dir
        The private work folder (removed once the run is published).
    data_fingerprint
        What identifies the data (:func:`data_fingerprint`); part of the resume fingerprint.
    on_epoch_end
        ``on_epoch_end(epoch)`` after each finished epoch has been saved (tests use it to
        simulate an interruption).
    progress
        Show progress bars.

    Returns
    -------
    pandas.DataFrame
        The history.
    """
    import torch

    if len(checkpoint_paths) != settings.epochs + 1:
        raise LatentGraphError(f"need {settings.epochs + 1} checkpoint paths (epochs 0..{settings.epochs}), "
                               f"got {len(checkpoint_paths)}")
    device = resolve_device(settings.device)
    configure_torch(device, settings.threads, settings.deterministic)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    fingerprint = config_hash({"spec": spec, "settings": settings.fingerprint(), "seed": seed, "data": data_fingerprint})
    state = _resume_state(work, fingerprint)

    torch.manual_seed(seed)
    model = build_from_spec(spec)
    if state is None:
        save_checkpoint(_epoch_file(work, 0), model, spec, epoch=0, seed=seed, test_accuracy=None)
    model = model.to(device)
    if device.type == "cuda" and settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, settings)
    history: list[dict[str, Any]] = []
    start = 0
    if state is not None:
        history = _restore_state(state, model, optimizer, device)
        start = int(state["epoch"])
        log.info("resuming from epoch %d of %d (%s)", start, settings.epochs, work)
    else:
        log.info("training %s seed %d for %d epochs on %s", spec["arch"], seed, settings.epochs, device)

    def save_epoch(epoch: int, rows: list[dict[str, Any]]) -> None:
        save_checkpoint(_epoch_file(work, epoch), model, spec, epoch=epoch, seed=seed,
                        test_accuracy=rows[-1]["test_accuracy"], train_accuracy=rows[-1]["train_accuracy"])
        _save_state(work, fingerprint, epoch, model, optimizer, device, rows)
        if on_epoch_end is not None:
            on_epoch_end(epoch)

    history = train_epochs(model, optimizer, data, settings, int(spec["input_size"]), device, seed, start=start,
                           history=history, after_epoch=save_epoch, progress=progress)
    return _publish(work, history, history_path, checkpoint_paths)


def data_fingerprint(data_cfg: dict[str, Any]) -> dict[str, Any]:
    """The parts of a ``data`` config that change what a model trains on.

    Parameters
    ----------
    data_cfg : dict
        The config's ``data`` section.

    Returns
    -------
    dict
        ``dataset``, ``root``, ``test_fraction``, ``split_seed``, ``val_fraction``,
        ``synthetic`` and ``augment`` (None where missing).
    """
    keys = ("dataset", "root", "test_fraction", "split_seed", "val_fraction", "synthetic", "augment")
    return {k: data_cfg.get(k) for k in keys}


def state_dicts_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when two state dicts hold exactly the same tensors.

    Parameters
    ----------
    a : dict
        A state dict.
    b : dict
        Another state dict.

    Returns
    -------
    bool
        Whether both have the same keys and equal tensors under each.
    """
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def weights_array(state: dict[str, Any]) -> np.ndarray:
    """All floating-point tensors of a state dict concatenated (for tests and checks).

    Parameters
    ----------
    state : dict
        A state dict.

    Returns
    -------
    numpy.ndarray
        Its floating-point tensors flattened and concatenated in key order, 1-D.
    """
    return np.concatenate([v.detach().cpu().numpy().ravel() for v in state.values() if v.is_floating_point()])
