"""The pruning experiment's results as tables (thesis Tables 5.8-5.11), without PyTorch.

Round summaries (JSON, written by :func:`latentgraph.nets.pruning.run_round`) and kNN tables of
each round's latents become one long table of similarities to round 0, its thesis-style
Markdown, and the seed-to-seed reference level of the stability experiment. Graph jobs
import this module; :mod:`latentgraph.nets.pruning` (which needs torch) re-exports it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..utils import LatentGraphError

TABLE_COLUMNS = ["rate", "round", "pruned_fraction", "accuracy", "epochs_trained", "best_epoch", "k",
                 "jaccard_vs_round0", "cns_vs_round0"]

def read_summary(path: str | Path) -> dict[str, Any]:
    """A round's JSON summary (written by :func:`latentgraph.nets.pruning.run_round`).

    Parameters
    ----------
    path : str or pathlib.Path
        The JSON file.

    Returns
    -------
    dict
        The summary.

    Raises
    ------
    LatentGraphError
        When the file is missing or not valid JSON.
    """
    p = Path(path)
    try:
        return json.loads(p.read_text())
    except FileNotFoundError:
        raise LatentGraphError(f"{p}: round summary does not exist") from None
    except json.JSONDecodeError as exc:
        raise LatentGraphError(f"{p}: round summary is not valid JSON: {exc}") from exc


def pruning_table(
    round0: tuple[Any, Mapping[str, Any]],
    rounds: Mapping[tuple[str, int], tuple[Any, Mapping[str, Any]]],
    ks: Sequence[int],
    directed: bool = False,
) -> pd.DataFrame:
    """Tables 5.8-5.11 as one long frame (columns :data:`TABLE_COLUMNS`).

    Every round, round 0 included (where the similarities are 1 by definition), is compared
    with round 0 for each k; the CNS uses round 0's graph as G_A.

    Parameters
    ----------
    round0 : tuple
        (kNN table, summary) of the unpruned round.
    rounds : mapping
        (rate label, round) -> (kNN table, summary) for every pruned round.
    ks : sequence of int
        The neighbourhood sizes.
    directed : bool, optional
        Compare the directed kNN graphs (default: their symmetrisations).

    Returns
    -------
    pandas.DataFrame
        One row per (rate, round, k), rates descending; ``accuracy`` is the latents' test
        accuracy (NaN when not recorded).
    """
    from ..compare.similarity import compare_tables

    g0, s0 = round0
    rates = sorted({r for r, _ in rounds}, key=lambda r: -float(r))
    frames = []
    for rate in rates:
        items = [(0, g0, s0)] + sorted(((i, g, s) for (r, i), (g, s) in rounds.items() if r == rate),
                                       key=lambda t: t[0])
        for i, g, s in items:
            df = compare_tables(g0, g, ks, directed=directed).rename(
                columns={"jaccard": "jaccard_vs_round0", "cns": "cns_vs_round0"})
            acc = g.metadata.get("test_accuracy")
            df.insert(0, "rate", float(rate))
            df.insert(1, "round", int(i))
            df.insert(2, "pruned_fraction", float(s["pruned_fraction"]))
            df.insert(3, "accuracy", float("nan") if acc is None else float(acc))
            df.insert(4, "epochs_trained", int(s["epochs_trained"]))
            df.insert(5, "best_epoch", int(s["best_epoch"]))
            frames.append(df)
    return pd.concat(frames, ignore_index=True)[TABLE_COLUMNS]


#: Identifier columns of the per-sample pruning table, before :data:`latentgraph.compare.per_sample.COLUMNS`.
PER_SAMPLE_KEYS = ["rate", "round"]


def pruning_per_sample(
    round0: Any,
    rounds: Mapping[tuple[str, int], Any],
    ks: Sequence[int],
    directed: bool = False,
    predictions: Mapping[Any, Any] | None = None,
) -> pd.DataFrame:
    """Per-sample values behind every row of :func:`pruning_table` (same comparisons, same order).

    Every round of every rate, round 0 included, against round 0 (the first graph); the mean
    of ``jaccard`` (``cns``) over a (rate, round)'s rows at a k is the table's
    ``jaccard_vs_round0`` (``cns_vs_round0``).

    Parameters
    ----------
    round0 : KnnTable
        The kNN table of the unpruned round.
    rounds : mapping
        (rate label, round) -> kNN table of every pruned round.
    ks : sequence of int
        The neighbourhood sizes.
    directed : bool, optional
        Compare the directed kNN graphs (default: their symmetrisations).
    predictions : mapping, optional
        Class predictions in each table's rows: key ``0`` for round 0, (rate label, round)
        for the others; None (or a missing key): unknown.

    Returns
    -------
    pandas.DataFrame
        :data:`PER_SAMPLE_KEYS`, then :data:`latentgraph.compare.per_sample.COLUMNS`; rates
        descending, rounds ascending.
    """
    from ..compare.per_sample import per_sample_table, with_keys

    preds = predictions or {}
    rates = sorted({r for r, _ in rounds}, key=lambda r: -float(r))
    frames = []
    for rate in rates:
        items = [(0, round0, preds.get(0))] + sorted(
            ((i, g, preds.get((r, i))) for (r, i), g in rounds.items() if r == rate), key=lambda t: t[0])
        for i, g, pred in items:
            df = per_sample_table(round0, g, ks, directed=directed, prediction_a=preds.get(0), prediction_b=pred)
            frames.append(with_keys(df, rate=float(rate), round=int(i)))
    return pd.concat(frames, ignore_index=True).astype({"round": "int32"})


def pruning_markdown(df: pd.DataFrame, digits: int = 3, title: str | None = None) -> str:
    """Thesis-style tables per rate: pruned share and accuracy, then the similarities to round 0.

    The first table is Tables 5.8/5.10, then the Jaccard (Tables 5.9/5.11) and CNS
    (Figs 5.13/5.14) of each round against round 0.

    Parameters
    ----------
    df : pandas.DataFrame
        A table of :func:`pruning_table`.
    digits : int, optional
        Decimal places of the similarities.
    title : str, optional
        A level-1 heading put first; None: no heading.

    Returns
    -------
    str
        The Markdown text.
    """
    lines: list[str] = [f"# {title}", ""] if title else []
    for rate in sorted(df["rate"].unique(), reverse=True):
        part = df[df["rate"] == rate]
        per_round = part.drop_duplicates("round").sort_values("round")
        lines += [f"## Pruning rate p = {rate:g}: pruned conv weights and test accuracy", "",
                  "| iteration | ratio of pruned weights | accuracy | epochs trained | best epoch |",
                  "|---|---|---|---|---|"]
        for _, r in per_round.iterrows():
            lines.append(f"| {int(r['round'])} | {100 * r['pruned_fraction']:.1f}% | {100 * r['accuracy']:.1f}% "
                         f"| {int(r['epochs_trained'])} | {int(r['best_epoch'])} |")
        lines.append("")
        for col, name in (("jaccard_vs_round0", "Graph average Jaccard similarity"),
                          ("cns_vs_round0", "Class neighbourhood similarity")):
            wide = part.pivot_table(index="round", columns="k", values=col, sort=True)
            lines += [f"## {name}, p = {rate:g}: G_0 vs G_t", "",
                      "| iteration | " + " | ".join(f"k = {k}" for k in wide.columns) + " |",
                      "|---" * (len(wide.columns) + 1) + "|"]
            for i, vals in wide.iterrows():
                if i == 0:
                    continue
                lines.append(f"| 0, {i} | " + " | ".join(f"{v:.{digits}f}" for v in vals) + " |")
            lines.append("")
    return "\n".join(lines)


def seed_reference(stability: pd.DataFrame | None) -> pd.DataFrame | None:
    """Mean seed-to-seed Jaccard and CNS per k from a stability table (rows comparison == "seed").

    Parameters
    ----------
    stability : pandas.DataFrame or None
        A stability table (:func:`latentgraph.experiments.stability.stability_table`).

    Returns
    -------
    pandas.DataFrame or None
        Columns ``k``, ``jaccard``, ``cns``; None without a table or seed comparisons.
    """
    if stability is None:
        return None
    seed = stability[stability["comparison"] == "seed"]
    if seed.empty:
        return None
    return seed.groupby("k", as_index=False)[["jaccard", "cns"]].mean()
