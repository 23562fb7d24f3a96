"""Checks of a workflow config beyond what its JSON schema can say.

The schema (``schemas/config.schema.yaml``) checks keys, types, ranges and allowed values
and fills in defaults; :func:`check_config` then checks how the parts fit together (a
window inside the trained epochs, comparisons of runs that exist, ...). Pure Python, so
the Snakefile can call it before any job runs.
"""

from __future__ import annotations

from typing import Any

from .utils import LatentGraphError


def _fail(key: str, msg: str) -> None:
    raise LatentGraphError(f"config key {key}: {msg}")


def epoch_window(config: dict[str, Any]) -> list[int]:
    """The epochs whose latents are studied (``stability.epochs`` = [first, last], inclusive)."""
    first, last = config["stability"]["epochs"]
    return list(range(int(first), int(last) + 1))


def check_config(config: dict[str, Any]) -> None:
    """Raise :class:`LatentGraphError` naming the key when parts of the config disagree."""
    train = config["train"]
    runs = train["runs"]
    epochs = int(train["epochs"])
    if not runs:
        _fail("train.runs", "needs at least one run (name: seed)")
    seeds = list(runs.values())
    if len(set(seeds)) != len(seeds):
        _fail("train.runs", f"two runs share a seed ({runs}); runs must differ in their seed")
    stab = config["stability"]
    if not stab.get("enabled", True):
        stab = None
    for r in stab["runs"] if stab else []:
        if r not in runs:
            _fail("stability.runs", f"run {r!r} is not trained; trained runs: {sorted(runs)}")
    if stab:
        first, last = stab["epochs"]
        if not 0 <= first <= last <= epochs:
            _fail("stability.epochs", f"window [{first}, {last}] must lie inside the trained epochs 0..{epochs}")
    ks = config["knn"]["k"]
    if len(set(ks)) != len(ks):
        _fail("knn.k", f"values repeat: {ks}")
    if config["data"]["dataset"] in ("cifar100", "imagefolder") and not config["data"].get("root"):
        _fail("data.root", f"dataset {config['data']['dataset']!r} needs a root folder")
    _check_pruning(config)


def _check_pruning(config: dict[str, Any]) -> None:
    """Cross-key checks of the ``pruning`` section (lottery tickets, thesis §4.3)."""
    pr = config.get("pruning")
    if not pr or not pr.get("enabled", True):
        return
    if not float(config["data"].get("val_fraction", 0.0) or 0.0) > 0:
        _fail("data.val_fraction", "pruning uses early stopping on a validation split carved from the training "
              "set (thesis 3.6.2, never the test set): set data.val_fraction > 0 (e.g. 0.1), or pruning.enabled: false")
    runs = config["train"]["runs"]
    if pr.get("run", "A") not in runs:
        _fail("pruning.run", f"run {pr.get('run')!r} is not trained; trained runs: {sorted(runs)}")
    rates = [float(p) for p in pr.get("rates", [])]
    for p in rates:
        if not 0.0 < p < 1.0:
            _fail("pruning.rates", f"every rate must lie in the open interval (0, 1), got {p}")
    if len(set(rates)) != len(rates):
        _fail("pruning.rates", f"values repeat: {pr.get('rates')}")
    es = pr.get("early_stopping", {}) or {}
    if pr.get("reset", "init") == "rewind":
        j, max_epochs = int(pr.get("rewind_epoch", 1)), int(es.get("max_epochs", 30))
        if not 1 <= j < max_epochs:
            _fail("pruning.rewind_epoch", f"{j} must lie in 1..early_stopping.max_epochs-1 = 1..{max_epochs - 1}")
