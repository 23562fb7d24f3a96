"""Iterative magnitude pruning (lottery tickets, thesis §2.6, §4.3) with early stopping (§3.6.2).

The experiment (Frankle & Carbin 2019, as the thesis ran it):

1. start from the initial weights θ0 of a run;
2. round 0: train the unpruned network with early stopping;
3. round i > 0: prune the fraction p of the *remaining* convolution weights of round
   i-1's trained network by magnitude, reset the surviving weights to θ0 (or rewind them
   to the weights after epoch j of round 0, as later lottery-ticket work does), and train
   again with early stopping under the new mask.

Only convolution weights are ever pruned (every ``nn.Conv*`` module's ``weight``, the 1x1
shortcut convolutions included); the ``fc`` layer, biases and BatchNorm are never pruned
(they are reset with everything else). Masks are dicts ``{state-dict name: bool tensor}``
with True = the weight survives. Pruned weights are held at exactly zero during training:
after every optimiser step they are set to zero again and their momentum buffers cleared.

Magnitude ties are broken by position (a stable sort over the conv weights in the model's
order), so pruning is reproducible; each round prunes ``floor(p * remaining + 1/2)``
weights (globally, or per layer with ``scope="layerwise"``).

The early stopper follows §3.6.2 literally: after each epoch the validation loss (on a
split carved from the training set, never the test set) is compared with the lowest seen
so far; a new lowest saves the parameters and resets the patience count, anything else
increments it; when the count reaches ``patience`` (or ``max_epochs`` epochs are done)
training stops and the saved parameters are restored.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiments.pruning import TABLE_COLUMNS, pruning_markdown, pruning_table, read_summary, seed_reference  # noqa: F401
from ..utils import LatentGraphError, atomic_path
from .models import save_torch_file

log = logging.getLogger(__name__)

SCOPES = ("global", "layerwise")
RESETS = ("init", "rewind")
MASK_FORMAT = "latentgraph-mask/1"
HISTORY_COLUMNS = ["epoch", "schedule_epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                   "improved", "seconds"]

Mask = dict[str, Any]  # name -> bool tensor (True = kept)


# --------------------------------------------------------------------------- settings


def rate_label(rate: float) -> str:
    """The canonical text of a pruning rate in paths: 0.2 -> ``0.2``, 0.01 -> ``0.01``.

    Parameters
    ----------
    rate : float
        A pruning rate in (0, 1).

    Returns
    -------
    str
        The shortest positional decimal text of the rate.

    Raises
    ------
    LatentGraphError
        When the rate is not in (0, 1) (see :func:`check_rate`).
    """
    check_rate(rate)
    return np.format_float_positional(float(rate), trim="-")


def check_rate(rate: Any) -> float:
    """``rate`` as a float in the open interval (0, 1), else :class:`LatentGraphError`.

    Parameters
    ----------
    rate : Any
        The value to check (a number; ``bool`` is rejected).

    Returns
    -------
    float
        ``rate``.

    Raises
    ------
    LatentGraphError
        When ``rate`` is not a number in the open interval (0, 1).
    """
    try:
        p = float(rate)
    except (TypeError, ValueError):
        raise LatentGraphError(f"pruning rate must be a number in (0, 1), got {rate!r}") from None
    if not (0.0 < p < 1.0) or isinstance(rate, bool):
        raise LatentGraphError(f"pruning rate must lie in the open interval (0, 1), got {rate!r}")
    return p


@dataclass
class PruneSettings:
    """How one pruning experiment prunes, resets and stops (config section ``pruning``).

    Parameters
    ----------
    scope : {"global", "layerwise"}
        ``global``: one magnitude ranking over all conv weights; ``layerwise``: the rate of
        each conv layer.
    reset : {"init", "rewind"}
        Survivors go back to θ0 (``init``, Frankle and Carbin 2019) or to round 0's weights
        after ``rewind_epoch`` (``rewind``).
    rewind_epoch : int
        With ``reset="rewind"``: the epoch j of round 0 whose weights the survivors rewind
        to, in 1..max_epochs-1.
    patience : int
        Epochs without a new lowest validation loss before training stops (>= 1).
    max_epochs : int
        Upper limit of epochs per round (>= 1).
    min_delta : float
        A loss counts as a new lowest only when it is lower by more than this (>= 0).

    Raises
    ------
    LatentGraphError
        For a value outside these bounds.
    """

    scope: str = "global"
    reset: str = "init"
    rewind_epoch: int = 1
    patience: int = 3
    max_epochs: int = 30
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise LatentGraphError(f"pruning.scope must be one of {list(SCOPES)}, got {self.scope!r}")
        if self.reset not in RESETS:
            raise LatentGraphError(f"pruning.reset must be one of {list(RESETS)}, got {self.reset!r}")
        if int(self.patience) < 1:
            raise LatentGraphError(f"pruning.early_stopping.patience must be >= 1, got {self.patience}")
        if int(self.max_epochs) < 1:
            raise LatentGraphError(f"pruning.early_stopping.max_epochs must be >= 1, got {self.max_epochs}")
        if float(self.min_delta) < 0:
            raise LatentGraphError(f"pruning.early_stopping.min_delta must be >= 0, got {self.min_delta}")
        if self.reset == "rewind" and not 1 <= int(self.rewind_epoch) < int(self.max_epochs):
            raise LatentGraphError(f"pruning.rewind_epoch must lie in 1..max_epochs-1 = 1..{int(self.max_epochs) - 1}, "
                                   f"got {self.rewind_epoch}")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> PruneSettings:
        """Settings from a config's ``pruning`` section.

        Parameters
        ----------
        cfg
            The ``pruning`` section, validated or partial: a missing key takes the field
            default above, which equals the schema's (``tests/test_defaults.py``).

        Returns
        -------
        PruneSettings
            The settings.
        """
        d = cls()  # the one set of defaults: the field defaults
        es = cfg.get("early_stopping", {}) or {}
        return cls(
            scope=str(cfg.get("scope", d.scope)),
            reset=str(cfg.get("reset", d.reset)),
            rewind_epoch=int(cfg.get("rewind_epoch", d.rewind_epoch)),
            patience=int(es.get("patience", d.patience)),
            max_epochs=int(es.get("max_epochs", d.max_epochs)),
            min_delta=float(es.get("min_delta", d.min_delta)),
        )

    @property
    def start_epoch(self) -> int:
        """The learning-rate schedule's epoch at which pruned rounds start (j when rewinding)."""
        return int(self.rewind_epoch) if self.reset == "rewind" else 0


#: Defaults of the ``pruning`` keys that :class:`PruneSettings` does not hold (the schema's, kept
#: equal by ``tests/test_defaults.py``): the rounds' validation share and, where they differ
#: from :class:`latentgraph.nets.training.TrainSettings`' field defaults (the ``train`` section's),
#: the rounds' training keys (``batch_size``, ``optimizer``, ``scheduler``).
PRUNING_DEFAULTS: dict[str, Any] = {"val_fraction": 0.1, "scheduler": {"milestones": [10, 20]}}


def train_settings(pruning_cfg: Mapping[str, Any], train_cfg: Mapping[str, Any], **override: Any) -> Any:
    """:class:`latentgraph.nets.training.TrainSettings` of the pruning rounds.

    Parameters
    ----------
    pruning_cfg
        The ``pruning`` section: batch size, optimiser and schedule, and the epoch limit
        ``early_stopping.max_epochs``. Missing keys take :data:`PRUNING_DEFAULTS`, then the
        ``TrainSettings`` field defaults; the epoch limit :class:`PruneSettings`' default.
    train_cfg
        The ``train`` section (or its execution settings): where and how fast the rounds
        run (device, amp, channels_last, workers, eval batch size, deterministic); nothing
        else is read.
    **override
        Fields set directly (e.g. ``threads``).

    Returns
    -------
    TrainSettings
        The settings of every round's training.
    """
    from .training import TrainSettings

    merged: dict[str, Any] = {k: train_cfg[k] for k in ("device", "amp", "channels_last", "num_workers",
                                                         "eval_batch_size", "deterministic") if k in train_cfg}
    for key in ("optimizer", "scheduler"):  # sub-sections: the pruning defaults, then the section's keys
        merged[key] = {**PRUNING_DEFAULTS.get(key, {}), **(pruning_cfg.get(key) or {})}
    batch_size = pruning_cfg.get("batch_size", PRUNING_DEFAULTS.get("batch_size"))
    if batch_size is not None:  # else TrainSettings' default
        merged["batch_size"] = batch_size
    max_epochs = (pruning_cfg.get("early_stopping") or {}).get("max_epochs", PruneSettings().max_epochs)
    merged["epochs"] = int(max_epochs)
    return TrainSettings.from_config(merged, **override)


def round_data_config(data_cfg: Mapping[str, Any], pruning_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The ``data`` config of the pruning rounds: the validation split is ``pruning.val_fraction``.

    Only the rounds hold out this split (for early stopping); the runs of the train stage
    keep their own ``data.val_fraction`` (0 by default: the whole training split).

    Parameters
    ----------
    data_cfg : Mapping
        The config's ``data`` section.
    pruning_cfg : Mapping
        The ``pruning`` section; a missing ``val_fraction`` takes :data:`PRUNING_DEFAULTS`'
        (the schema's).

    Returns
    -------
    dict
        A copy of ``data_cfg`` with ``val_fraction`` set.

    Raises
    ------
    LatentGraphError
        When ``pruning.val_fraction`` is not in (0, 1).
    """
    frac = float(pruning_cfg.get("val_fraction", PRUNING_DEFAULTS["val_fraction"]))
    if not 0.0 < frac < 1.0:
        raise LatentGraphError(f"pruning.val_fraction must lie in the open interval (0, 1), got {frac}")
    return {**dict(data_cfg), "val_fraction": frac}


# --------------------------------------------------------------------------- masks


def conv_weight_names(model: Any) -> list[str]:
    """State-dict names of every convolution weight, in module order (the prunable tensors).

    Parameters
    ----------
    model : torch.nn.Module
        The network.

    Returns
    -------
    list of str
        ``"<module>.weight"`` of every ``nn.Conv*`` module.
    """
    import torch.nn as nn

    return [f"{name}.weight" for name, m in model.named_modules() if isinstance(m, nn.modules.conv._ConvNd)]


def full_mask(model: Any) -> Mask:
    """The all-ones mask over the model's convolution weights (round 0: nothing pruned).

    Parameters
    ----------
    model : torch.nn.Module
        The network.

    Returns
    -------
    Mask
        ``{name: all-True bool tensor}`` for every conv weight, on the CPU.
    """
    import torch

    state = model.state_dict()
    return {n: torch.ones(state[n].shape, dtype=torch.bool) for n in conv_weight_names(model)}


def _check_mask(weights: Mapping[str, Any], mask: Mapping[str, Any]) -> None:
    for n, m in mask.items():
        if n not in weights:
            raise LatentGraphError(f"mask entry {n!r} is not a weight of the model")
        if tuple(m.shape) != tuple(weights[n].shape):
            raise LatentGraphError(f"mask entry {n!r} has shape {tuple(m.shape)}, the weight {tuple(weights[n].shape)}")
        if m.dtype != _bool_dtype():
            raise LatentGraphError(f"mask entry {n!r} must be a bool tensor, got {m.dtype}")


def _bool_dtype() -> Any:
    import torch

    return torch.bool


def _state(model_or_state: Any) -> Mapping[str, Any]:
    return model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state


def _n_to_prune(rate: float, remaining: int) -> int:
    """floor(rate * remaining + 1/2): round half up, independent of Python's banker's rounding."""
    return int(math.floor(rate * remaining + 0.5))


def _smallest_alive(weights: Mapping[str, Any], mask: Mapping[str, Any], names: Sequence[str], rate: float) -> Mask:
    """Prune the ``rate`` share of the surviving weights of ``names`` with the smallest |w|.

    Ties in magnitude are broken by flat position (stable sort), so the result is unique.
    """
    import torch

    mags = torch.cat([weights[n].detach().reshape(-1).float().abs().cpu() for n in names])
    alive = torch.cat([mask[n].reshape(-1).cpu() for n in names])
    alive_idx = torch.nonzero(alive).reshape(-1)
    vals = mags[alive_idx]
    if not bool(torch.isfinite(vals).all()):
        raise LatentGraphError(f"cannot prune by magnitude: non-finite weights among {names[:3]}...")
    count = _n_to_prune(rate, int(alive_idx.numel()))
    order = torch.sort(vals, stable=True).indices[:count]
    keep = alive.clone()
    keep[alive_idx[order]] = False
    out: Mask = {}
    start = 0
    for n in names:
        size = mask[n].numel()
        out[n] = keep[start : start + size].reshape(mask[n].shape).clone()
        start += size
    return out


def global_magnitude_prune(weights: Any, mask: Mapping[str, Any], rate: float) -> Mask:
    """A new mask: ``mask`` minus the ``rate`` share of its surviving weights with the smallest |w|.

    The ranking is global across all masked tensors (Frankle & Carbin's choice for ResNets).

    Parameters
    ----------
    weights : torch.nn.Module or dict
        A model or a state dict (the trained weights of the previous round).
    mask : Mapping of str to torch.Tensor
        Decides which tensors are prunable and which of their entries still survive.
    rate : float
        Share of the surviving weights to prune, in (0, 1).

    Returns
    -------
    Mask
        The new mask (``mask`` is not changed).

    Raises
    ------
    LatentGraphError
        For a bad rate, a mask that does not fit the weights, or non-finite weights.
    """
    p = check_rate(rate)
    w = _state(weights)
    _check_mask(w, mask)
    return _smallest_alive(w, mask, list(mask), p)


def layerwise_magnitude_prune(weights: Any, mask: Mapping[str, Any], rate: float) -> Mask:
    """Like :func:`global_magnitude_prune`, but each tensor loses the ``rate`` share of its own survivors.

    Parameters
    ----------
    weights : torch.nn.Module or dict
        A model or a state dict (the trained weights of the previous round).
    mask : Mapping of str to torch.Tensor
        Decides which tensors are prunable and which of their entries still survive.
    rate : float
        Share of each tensor's surviving weights to prune, in (0, 1).

    Returns
    -------
    Mask
        The new mask (``mask`` is not changed).

    Raises
    ------
    LatentGraphError
        For a bad rate, a mask that does not fit the weights, or non-finite weights.
    """
    p = check_rate(rate)
    w = _state(weights)
    _check_mask(w, mask)
    out: Mask = {}
    for n in mask:
        out.update(_smallest_alive(w, mask, [n], p))
    return out


def prune_mask(weights: Any, mask: Mapping[str, Any], rate: float, scope: str = "global") -> Mask:
    """Dispatch to :func:`global_magnitude_prune` or :func:`layerwise_magnitude_prune`.

    Parameters
    ----------
    weights : torch.nn.Module or dict
        A model or a state dict (the trained weights of the previous round).
    mask : Mapping of str to torch.Tensor
        The previous mask.
    rate : float
        Share of the surviving weights to prune, in (0, 1).
    scope : {"global", "layerwise"}, optional
        The ranking.

    Returns
    -------
    Mask
        The new mask.

    Raises
    ------
    LatentGraphError
        For an unknown scope, or as the pruning functions do.
    """
    if scope == "global":
        return global_magnitude_prune(weights, mask, rate)
    if scope == "layerwise":
        return layerwise_magnitude_prune(weights, mask, rate)
    raise LatentGraphError(f"pruning scope must be one of {list(SCOPES)}, got {scope!r}")


def pruned_counts(mask: Mapping[str, Any]) -> tuple[int, int]:
    """(pruned, total) number of entries over all tensors of the mask.

    Parameters
    ----------
    mask : Mapping of str to torch.Tensor
        A mask (True = kept).

    Returns
    -------
    pruned : int
        Entries masked out.
    total : int
        All entries.
    """
    total = sum(int(m.numel()) for m in mask.values())
    kept = sum(int(m.sum()) for m in mask.values())
    return total - kept, total


def pruned_fraction(mask: Mapping[str, Any]) -> float:
    """Share of masked-out entries over all tensors of the mask (the conv weights).

    Parameters
    ----------
    mask : Mapping of str to torch.Tensor
        A mask (True = kept).

    Returns
    -------
    float
        Pruned / total, 0.0 for an empty mask.
    """
    pruned, total = pruned_counts(mask)
    return pruned / total if total else 0.0


def layer_fractions(mask: Mapping[str, Any]) -> dict[str, float]:
    """Pruned share of each tensor.

    Parameters
    ----------
    mask : Mapping of str to torch.Tensor
        A mask (True = kept).

    Returns
    -------
    dict of str to float
        ``{name: pruned share}``.
    """
    return {n: 1.0 - float(m.sum()) / max(int(m.numel()), 1) for n, m in mask.items()}


class MaskEnforcer:
    """Keeps the masked weights of a model at exactly zero.

    Called after every optimiser step (``train_one_epoch(after_step=...)``): zeroes the
    pruned weights and, when an optimiser is given, their momentum buffers (so nothing
    accumulates for them). The masks live on the parameters' device.

    Parameters
    ----------
    model : torch.nn.Module
        The network; every mask entry must name one of its parameters.
    mask : Mapping of str to torch.Tensor
        The mask (True = kept).
    optimizer : torch.optim.Optimizer, optional
        The optimiser whose ``momentum_buffer`` entries are zeroed too.

    Raises
    ------
    LatentGraphError
        When the mask does not fit the model's parameters.
    """

    def __init__(self, model: Any, mask: Mapping[str, Any], optimizer: Any = None) -> None:
        params = dict(model.named_parameters())
        _check_mask(params, mask)
        self.pairs = [(params[n], (~mask[n]).to(params[n].device)) for n in mask]
        self.optimizer = optimizer

    def __call__(self) -> None:
        import torch

        with torch.no_grad():
            for p, pruned in self.pairs:
                p.masked_fill_(pruned, 0.0)
                if self.optimizer is not None:
                    buf = self.optimizer.state.get(p, {}).get("momentum_buffer")
                    if buf is not None:
                        buf.masked_fill_(pruned, 0.0)


def apply_mask(model: Any, mask: Mapping[str, Any], optimizer: Any = None) -> None:
    """Set the masked-out weights (and their momentum buffers) of ``model`` to exactly zero.

    Parameters
    ----------
    model : torch.nn.Module
        The network, changed in place.
    mask : Mapping of str to torch.Tensor
        The mask (True = kept).
    optimizer : torch.optim.Optimizer, optional
        The optimiser whose momentum buffers are zeroed too.
    """
    MaskEnforcer(model, mask, optimizer)()


def reset_to(model: Any, state: Mapping[str, Any], mask: Mapping[str, Any]) -> Any:
    """Load ``state`` (θ0 or a rewind point) into ``model`` entirely, then zero the masked weights.

    Afterwards every surviving weight, and every tensor outside the mask (fc, biases,
    BatchNorm parameters and statistics), equals ``state`` exactly: θ0 ⊙ m.

    Parameters
    ----------
    model : torch.nn.Module
        The network, changed in place.
    state : Mapping of str to torch.Tensor
        The full state dict to load (θ0 or a rewind point).
    mask : Mapping of str to torch.Tensor
        The mask (True = kept).

    Returns
    -------
    torch.nn.Module
        ``model``.

    Raises
    ------
    LatentGraphError
        When ``state`` or ``mask`` does not fit the model.
    """
    try:
        model.load_state_dict(dict(state))
    except RuntimeError as exc:
        raise LatentGraphError(f"reset weights do not fit the model: {str(exc).splitlines()[0]}") from exc
    apply_mask(model, mask)
    return model


def save_mask(path: str | Path, mask: Mapping[str, Any], **meta: Any) -> Path:
    """Write a mask (bool tensors on the CPU) plus builtin metadata atomically.

    Parameters
    ----------
    path : str or pathlib.Path
        The mask file to write.
    mask : Mapping of str to torch.Tensor
        The mask (True = kept).
    **meta : Any
        Metadata stored under ``meta`` (builtins only, so ``weights_only`` loading works).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import torch

    payload = {"format": MASK_FORMAT, "masks": {n: m.detach().cpu().to(torch.bool).clone() for n, m in mask.items()},
               "meta": dict(meta)}
    return save_torch_file(payload, path)


def load_mask(path: str | Path) -> tuple[Mask, dict[str, Any]]:
    """Read a mask written by :func:`save_mask` (``weights_only=True``).

    Parameters
    ----------
    path : str or pathlib.Path
        The mask file.

    Returns
    -------
    mask : Mask
        The mask (bool tensors on the CPU).
    meta : dict
        Its metadata.

    Raises
    ------
    LatentGraphError
        When the file is missing, unreadable or not a latentgraph mask file.
    """
    from .models import load_torch_file

    p = Path(path)
    obj = load_torch_file(p, "mask")
    if not isinstance(obj, dict) or obj.get("format") != MASK_FORMAT:
        raise LatentGraphError(f"{p}: not a latentgraph mask file (expected format {MASK_FORMAT})")
    return dict(obj["masks"]), dict(obj.get("meta", {}))


# --------------------------------------------------------------------------- early stopping


class EarlyStopping:
    """The early stopper of thesis §3.6.2, as a small state machine over validation losses.

    Call :meth:`step` once per finished epoch with its validation loss. It returns True when
    the loss is a new lowest (by more than ``min_delta``): the caller then saves the
    parameters. Otherwise the patience count grows; :attr:`should_stop` turns True when it
    reaches ``patience``. NaN/inf losses never count as improvements.

    Parameters
    ----------
    patience : int
        Epochs in a row without a new lowest loss before stopping (an integer >= 1).
    min_delta : float, optional
        A loss counts as a new lowest only when it is lower by more than this (>= 0).

    Raises
    ------
    LatentGraphError
        For a bad ``patience`` or ``min_delta``.
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        if isinstance(patience, bool) or int(patience) != patience or patience < 1:
            raise LatentGraphError(f"early-stopping patience must be an integer >= 1, got {patience!r}")
        if not min_delta >= 0:
            raise LatentGraphError(f"early-stopping min_delta must be >= 0, got {min_delta!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.best_loss = math.inf
        self.best_epoch: int | None = None
        self.count = 0
        self.epoch = 0

    def step(self, loss: float) -> bool:
        """Record one epoch's validation loss.

        Parameters
        ----------
        loss : float
            The epoch's validation loss.

        Returns
        -------
        bool
            True when it is the new best (the caller saves the parameters).
        """
        self.epoch += 1
        loss = float(loss)
        if math.isfinite(loss) and loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.count = loss, self.epoch, 0
            return True
        self.count += 1
        return False

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` epochs in a row brought no new lowest loss."""
        return self.count >= self.patience


def stopping_point(losses: Sequence[float], patience: int, max_epochs: int | None = None,
                   min_delta: float = 0.0) -> tuple[int | None, int]:
    """(best epoch, epochs trained) that :class:`EarlyStopping` gives for a loss sequence.

    Epochs are 1-based; training stops at the first of: patience exhausted, ``max_epochs``
    reached, losses exhausted.

    Parameters
    ----------
    losses : Sequence of float
        Validation losses of epochs 1, 2, ...
    patience : int
        Patience of the stopper.
    max_epochs : int, optional
        Epoch limit; None: as many as there are losses.
    min_delta : float, optional
        Least improvement that counts.

    Returns
    -------
    best_epoch : int or None
        The epoch with the lowest loss; None when no loss was finite.
    epochs_trained : int
        Epochs until the stop.
    """
    stopper = EarlyStopping(patience, min_delta)
    limit = len(losses) if max_epochs is None else min(len(losses), int(max_epochs))
    for loss in losses[:limit]:
        stopper.step(loss)
        if stopper.should_stop:
            break
    return stopper.best_epoch, stopper.epoch


@dataclass
class StoppingResult:
    """What :func:`train_early_stopping` did.

    Parameters
    ----------
    history : pandas.DataFrame
        One row per trained epoch (:data:`HISTORY_COLUMNS`).
    best_epoch : int
        The 1-based epoch of the lowest validation loss, whose parameters the model holds.
    epochs_trained : int
        Epochs trained before stopping.
    best_val_loss : float
        The lowest validation loss.
    stopped_early : bool
        True when the patience ran out, False when ``max_epochs`` was reached.
    extra : dict
        Further results (empty unless a caller adds some).
    """

    history: pd.DataFrame
    best_epoch: int
    epochs_trained: int
    best_val_loss: float
    stopped_early: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _snapshot(model: Any) -> dict[str, Any]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def train_early_stopping(
    model: Any,
    train_split: Any,
    settings: Any,
    input_size: int,
    device: Any,
    seed: int,
    *,
    validate: Callable[[Any], tuple[float, float]],
    patience: int,
    max_epochs: int,
    min_delta: float = 0.0,
    mask: Mapping[str, Any] | None = None,
    start_epoch: int = 0,
    on_epoch_end: Callable[[int, Any], None] | None = None,
    progress: bool = True,
) -> StoppingResult:
    """Train ``model`` (already on ``device``) with the early-stopping scheme of §3.6.2.

    Each epoch uses ``train.train_one_epoch`` with one SGD optimiser made from ``settings``
    for the whole call. On return ``model`` holds the parameters of the best epoch.

    Parameters
    ----------
    model : torch.nn.Module
        The network, on ``device``; trained in place.
    train_split : TensorSplit or torch.utils.data.Dataset
        The training split.
    settings : TrainSettings
        The training scheme; the learning rate of epoch e is ``settings.lr_at(start_epoch + e)``.
    input_size : int
        Side length the images are resized to.
    device : torch.device
        The ``torch.device`` to train on.
    seed : int
        The run's seed; epoch e's data order is seeded by (seed, start_epoch + e).
    validate : callable
        ``validate(model)`` returns (validation loss, validation accuracy); it must not
        look at the test split.
    patience : int
        Epochs without a new lowest validation loss before training stops.
    max_epochs : int
        Upper limit of epochs.
    min_delta : float, optional
        Least improvement of the validation loss that counts.
    mask : Mapping of str to torch.Tensor, optional
        With a mask the pruned weights stay exactly zero.
    start_epoch : int, optional
        The schedule epoch of the first epoch (j when rewinding, else 0).
    on_epoch_end : callable, optional
        ``on_epoch_end(epoch, model)`` after each epoch (1-based ``epoch``).
    progress : bool, optional
        Show progress bars.

    Returns
    -------
    StoppingResult
        The epoch history, best epoch, epochs trained, lowest validation loss and whether
        the patience ran out.

    Raises
    ------
    LatentGraphError
        When no validation loss was finite (the training diverged).
    """
    import torch
    from tqdm import tqdm

    from .training import make_optimizer, train_one_epoch

    stopper = EarlyStopping(patience, min_delta)
    optimizer = make_optimizer(model, settings)
    enforce = MaskEnforcer(model, mask, optimizer) if mask is not None else None
    if enforce is not None:
        enforce()
    best_state: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = []
    bar = tqdm(range(int(max_epochs)), desc="early stopping", file=sys.stderr, ascii=True, mininterval=5,
               disable=not progress)
    for e in bar:
        t0 = time.perf_counter()
        sched_epoch = int(start_epoch) + e
        train_loss, train_acc = train_one_epoch(model, optimizer, train_split, settings, input_size, device, seed,
                                                sched_epoch, after_step=enforce, progress=progress)
        val_loss, val_acc = validate(model)
        improved = stopper.step(val_loss)
        if improved:
            best_state = _snapshot(model)
        rows.append({"epoch": e + 1, "schedule_epoch": sched_epoch + 1, "lr": settings.lr_at(sched_epoch),
                     "train_loss": train_loss, "train_accuracy": train_acc, "val_loss": float(val_loss),
                     "val_accuracy": float(val_acc), "improved": bool(improved),
                     "seconds": time.perf_counter() - t0})
        log.info("epoch %d lr %.4g loss %.4f train %.4f val loss %.4f val %.4f%s (%.1f s)", e + 1,
                 rows[-1]["lr"], train_loss, train_acc, val_loss, val_acc, " *" if improved else "",
                 rows[-1]["seconds"])
        bar.set_postfix(val_loss=f"{float(val_loss):.3f}", patience=stopper.count)
        if on_epoch_end is not None:
            on_epoch_end(e + 1, model)
        if stopper.should_stop:
            break
    bar.close()
    if best_state is None:
        raise LatentGraphError("early stopping saw no finite validation loss; the training diverged")
    with torch.no_grad():
        model.load_state_dict(best_state)
    stopped = stopper.should_stop
    log.info("best epoch %d of %d (val loss %.4f)%s", stopper.best_epoch, stopper.epoch, stopper.best_loss,
             ", patience exhausted" if stopped else ", max epochs reached")
    return StoppingResult(history=pd.DataFrame(rows, columns=HISTORY_COLUMNS), best_epoch=int(stopper.best_epoch),
                          epochs_trained=stopper.epoch, best_val_loss=stopper.best_loss, stopped_early=stopped)


# --------------------------------------------------------------------------- one round


@dataclass(frozen=True)
class RoundFiles:
    """The files one pruning round reads and writes.

    Parameters
    ----------
    theta0 : str or pathlib.Path
        Read: the run's initial weights θ0 (the network every round starts from).
    model, mask, history, summary : str or pathlib.Path
        Written: the best-epoch checkpoint, the mask (:func:`save_mask`), the epoch
        history (CSV, :data:`HISTORY_COLUMNS`) and the JSON summary.
    previous_model, previous_mask : str or pathlib.Path, optional
        Read by rounds i > 0: round i-1's trained checkpoint and its mask.
    reset : str or pathlib.Path, optional
        Read by rounds i > 0: the checkpoint the survivors are reset to (θ0 or the rewind point).
    rewind : str or pathlib.Path, optional
        Written by round 0 with ``reset="rewind"``: the weights after epoch j.
    """

    theta0: str | Path
    model: str | Path
    mask: str | Path
    history: str | Path
    summary: str | Path
    previous_model: str | Path | None = None
    previous_mask: str | Path | None = None
    reset: str | Path | None = None
    rewind: str | Path | None = None


@dataclass(frozen=True)
class PruneRound:
    """One round of the experiment: its index, its pruning rate and its files.

    Parameters
    ----------
    index : int
        The round: 0 trains the unpruned network, i > 0 prunes round i-1's.
    files : RoundFiles
        The files it reads and writes; round i > 0 needs ``files.previous_model``,
        ``files.previous_mask`` and ``files.reset``.
    rate : float, optional
        Share of round i-1's surviving conv weights that round i > 0 prunes; None for round 0.
    """

    index: int
    files: RoundFiles
    rate: float | None = None

    def check(self) -> None:
        """Raise :class:`LatentGraphError` when a round i > 0 lacks its inputs or its rate."""
        f = self.files
        if self.index != 0 and (f.previous_model is None or f.previous_mask is None or f.reset is None
                                or self.rate is None):
            raise LatentGraphError(f"round {self.index} needs the previous round's model and mask, a reset "
                                   "checkpoint and a rate")


def prune_and_reset(model: Any, previous: Any, previous_mask: Mapping[str, Any], reset_state: Mapping[str, Any],
                    rate: float, scope: str = "global") -> Mask:
    """The prune and reset steps of a round i > 0, on models and tensors (no files).

    Parameters
    ----------
    model
        The network to train next; receives ``reset_state`` with the new mask applied.
    previous
        Round i-1's trained network (or its state dict): the magnitudes that are ranked.
    previous_mask
        Round i-1's mask: which weights still survive.
    reset_state
        The state dict the survivors are reset to (θ0, or the rewind point).
    rate
        Share of the surviving conv weights to prune, in (0, 1).
    scope
        ``"global"`` or ``"layerwise"`` ranking (:func:`prune_mask`).

    Returns
    -------
    Mask
        The new mask; ``model`` now holds ``reset_state`` ⊙ mask.
    """
    mask = prune_mask(previous, previous_mask, rate, scope)
    reset_to(model, reset_state, mask)
    return mask


def train_round(
    model: Any,
    mask: Mapping[str, Any],
    data: Any,
    input_size: int,
    train_settings: Any,
    prune_settings: PruneSettings,
    seed: int,
    device: Any,
    *,
    start_epoch: int = 0,
    on_epoch_end: Callable[[int, Any], None] | None = None,
    progress: bool = True,
) -> tuple[Any, StoppingResult]:
    """The training step of a round: early stopping on ``data.val`` under ``mask`` (no files).

    Parameters
    ----------
    model
        The network after its reset (on the CPU); moved to ``device`` (channels_last on
        CUDA with ``train_settings.channels_last``).
    mask
        The round's mask; the pruned weights stay exactly zero.
    data
        A :class:`latentgraph.nets.data.DataBundle` with a non-empty validation split.
    input_size
        Side length the images are resized to.
    train_settings
        :class:`latentgraph.nets.training.TrainSettings` of the rounds (:func:`train_settings`).
    prune_settings
        Patience, epoch limit and ``min_delta`` of the early stopper.
    seed
        Seeds each epoch's data order with (seed, schedule epoch).
    device
        The ``torch.device`` to train on (already configured, :func:`configure_torch`).
    start_epoch
        The schedule epoch of the first epoch (j when rewinding, else 0).
    on_epoch_end
        ``on_epoch_end(epoch, model)`` after each epoch (1-based); :func:`run_round` writes
        the rewind point with it.
    progress
        Show progress bars.

    Returns
    -------
    tuple
        (the model on ``device``, holding the best epoch's weights; the :class:`StoppingResult`).
    """
    import torch

    from .training import evaluate

    if data.val is None or len(data.val) == 0:
        raise LatentGraphError("pruning needs a validation split for early stopping (pruning.val_fraction > 0)")
    model = model.to(device)
    if device.type == "cuda" and train_settings.channels_last:
        model = model.to(memory_format=torch.channels_last)

    def validate(m: Any) -> tuple[float, float]:
        return evaluate(m, data.val, input_size, device, batch_size=train_settings.eval_batch_size,
                        amp=train_settings.amp, num_workers=train_settings.num_workers,
                        channels_last=train_settings.channels_last)

    result = train_early_stopping(model, data.train, train_settings, input_size, device, seed, validate=validate,
                                  patience=prune_settings.patience, max_epochs=prune_settings.max_epochs,
                                  min_delta=prune_settings.min_delta, mask=mask, start_epoch=start_epoch,
                                  on_epoch_end=on_epoch_end, progress=progress)
    state = model.state_dict()
    leaked = [n for n in mask if bool(state[n][~mask[n].to(state[n].device)].any())]
    if leaked:  # cannot happen with the enforcer in place; a guard against future edits
        raise LatentGraphError(f"pruned weights became non-zero in {leaked[:3]}")
    return model, result


def round_summary(index: int, rate: float | None, prune_settings: PruneSettings, start_epoch: int, seed: int,
                  mask: Mapping[str, Any], result: StoppingResult) -> dict[str, Any]:
    """The JSON summary of a finished round (what :func:`run_round` writes and returns).

    Parameters
    ----------
    index, rate
        The round and its pruning rate (None for round 0).
    prune_settings
        Scope and reset of the experiment (recorded for rounds i > 0 only).
    start_epoch, seed
        The schedule epoch the round started at and its seed.
    mask
        The round's mask.
    result
        What :func:`train_early_stopping` returned.

    Returns
    -------
    dict
        Builtin values only, keys as in ``experiments.pruning.read_summary``.
    """
    pruned, total = pruned_counts(mask)
    return {
        "round": int(index),
        "rate": None if rate is None else float(rate),
        "scope": None if index == 0 else prune_settings.scope,  # round 0 prunes nothing
        "reset": None if index == 0 else prune_settings.reset,
        "start_epoch": int(start_epoch),
        "seed": int(seed),
        "pruned_fraction": pruned_fraction(mask),
        "pruned_weights": pruned,
        "conv_weights": total,
        "epochs_trained": int(result.epochs_trained),
        "best_epoch": int(result.best_epoch),
        "best_val_loss": float(result.best_val_loss),
        "best_val_accuracy": float(result.history.loc[result.best_epoch - 1, "val_accuracy"]),
        "stopped_early": bool(result.stopped_early),
        "layer_pruned_fraction": layer_fractions(mask),
    }


def run_round(
    pruning_round: PruneRound,
    data: Any,
    train_settings: Any,
    prune_settings: PruneSettings,
    seed: int,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """One pruning round from files to files; returns the summary it writes.

    The file side of :func:`prune_and_reset`, :func:`train_round` and
    :func:`round_summary`: reads θ0 (and for round i > 0 the previous round's model and
    mask and the reset checkpoint), writes the best-epoch checkpoint, the mask, the epoch
    history (CSV) and the JSON summary, and in round 0 with ``files.rewind`` the weights
    after epoch j.

    Parameters
    ----------
    pruning_round
        Index, rate and files of the round.
    data
        The data bundle; its validation split drives early stopping.
    train_settings
        :class:`latentgraph.nets.training.TrainSettings` of the rounds (:func:`train_settings`).
    prune_settings
        Scope, reset, rewind epoch and early stopping.
    seed
        The run's seed.
    progress
        Show progress bars.

    Returns
    -------
    dict
        The summary (:func:`round_summary`).
    """
    from .models import load_checkpoint, model_from_checkpoint, save_checkpoint
    from .training import configure_torch, resolve_device

    pruning_round.check()
    index, rate, files = int(pruning_round.index), pruning_round.rate, pruning_round.files
    device = resolve_device(train_settings.device)
    configure_torch(device, train_settings.threads, train_settings.deterministic)
    model, ckpt0 = model_from_checkpoint(files.theta0)
    spec = ckpt0["spec"]
    if index == 0:
        mask, start_epoch = full_mask(model), 0
    else:
        prev, _ = model_from_checkpoint(files.previous_model)
        prev_mask, _ = load_mask(files.previous_mask)
        mask = prune_and_reset(model, prev, prev_mask, load_checkpoint(files.reset)["state_dict"], rate,
                               prune_settings.scope)
        start_epoch = prune_settings.start_epoch
    log.info("round %d (rate %s, %s): %.4f of %d conv weights pruned", index, rate, prune_settings.scope,
             pruned_fraction(mask), pruned_counts(mask)[1])

    write_rewind = index == 0 and files.rewind is not None
    rewound: list[int] = []

    def save_rewind_point(epoch: int, m: Any) -> None:
        if write_rewind and epoch == prune_settings.rewind_epoch:
            save_checkpoint(files.rewind, m, spec, epoch=epoch, seed=seed, rewind_point=True)
            rewound.append(epoch)

    model, result = train_round(model, mask, data, int(spec["input_size"]), train_settings, prune_settings, seed,
                                device, start_epoch=start_epoch, on_epoch_end=save_rewind_point, progress=progress)
    if write_rewind and not rewound:
        raise LatentGraphError(f"round 0 stopped after {result.epochs_trained} epochs, before the rewind epoch "
                               f"{prune_settings.rewind_epoch}; lower pruning.rewind_epoch or raise the patience")
    summary = round_summary(index, rate, prune_settings, start_epoch, seed, mask, result)
    meta = {k: summary[k] for k in ("round", "rate", "pruned_fraction", "epochs_trained", "best_epoch")}
    save_checkpoint(files.model, model, spec, epoch=int(result.best_epoch), seed=int(seed),
                    val_accuracy=summary["best_val_accuracy"], **meta)
    save_mask(files.mask, mask, **meta)
    with atomic_path(files.history) as tmp:
        result.history.to_csv(tmp, index=False)
    with atomic_path(files.summary) as tmp:
        tmp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
