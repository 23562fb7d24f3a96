"""Which explorer pages a workflow config asks for (``explore`` section; rules/explore.smk)."""

from __future__ import annotations

from typing import Any

from ..utils import LatentGraphError


def explore_pages(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The explorer pages of a validated workflow config, one per explored run and epoch.

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Returns
    -------
    list of dict
        Per page: ``run``, ``epoch``, ``tag`` (``A/epoch_016``: the page's path under
        ``explore/``), ``second`` (``{"run", "epoch"}`` of the graph shown beside it, or
        None) and ``classgraph`` (True when the class graph stage's source is this run and
        epoch, so the page gets a class view). Empty when the section is disabled or the
        config trains no runs: no stage that needs a trained run is enabled (stability,
        noise, pruning, a class graph of a trained run) and ``explore.runs`` is not given, as
        in a pretrained-only config (its latents open with ``latentgraph explore``).

    Raises
    ------
    LatentGraphError
        Naming the key, for an unknown run, an epoch outside 0..train.epochs or an
        ``explore.k`` above the largest ``knn.k``.
    """
    ex = config.get("explore") or {}
    runs_all = list((config.get("train") or {}).get("runs") or {})
    if not ex.get("enabled", True) or not runs_all:
        return []
    last = int(config["train"]["epochs"])
    cg = config.get("classgraph") or {}
    src = cg.get("source") or {}
    cg_trained = bool(cg.get("enabled", True)) and not src.get("pretrained")
    trains = cg_trained or any((config.get(s) or {}).get("enabled", False) for s in ("stability", "noise", "pruning"))
    if not trains and ex.get("runs") is None:
        return []  # nothing is trained: a page would start training runs nobody asked for
    cg_run = src.get("run", runs_all[0])
    cg_epoch = last if src.get("epoch") is None else int(src["epoch"])
    runs = ex.get("runs")
    if runs is None:
        runs = [cg_run if cg_run in runs_all else runs_all[0]]
    for r in runs:
        if r not in runs_all:
            raise LatentGraphError(f"explore.runs: unknown run {r!r}; train.runs has {runs_all}")
    epochs = ex.get("epochs")
    if epochs is None:
        epochs = [cg_epoch if cg_trained else last]
    for e in epochs:
        if not 0 <= int(e) <= last:
            raise LatentGraphError(f"explore.epochs: epoch {e} outside 0..train.epochs ({last})")
    kmax = max((config.get("knn") or {}).get("k") or [4])
    if ex.get("k") is not None and int(ex["k"]) > kmax:
        raise LatentGraphError(f"explore.k: {ex['k']} is larger than the largest knn.k ({kmax}), which the kNN tables hold")
    compare = ex.get("compare", "seed")
    pages = []
    for r in runs:
        for e in sorted({int(x) for x in epochs}):
            second = None
            if compare == "seed" and len(runs_all) > 1:
                second = {"run": runs_all[(runs_all.index(r) + 1) % len(runs_all)], "epoch": e}
            elif compare == "epoch" and e > 0:
                second = {"run": r, "epoch": e - 1}
            pages.append({"run": r, "epoch": e, "tag": f"{r}/epoch_{e:03d}", "second": second,
                          "classgraph": cg_trained and r == cg_run and e == cg_epoch})
    return pages
