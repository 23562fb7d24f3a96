"""Stability of the kNN graph during training and across seeds (thesis §4.1, Tables 5.2-5.5).

- ``epoch`` comparisons: G_{A_t} vs G_{A_{t+1}} for consecutive epochs of each run;
- ``seed`` comparisons: G_{A_t} vs G_{B_t} for every pair of runs at the same epoch.

Each comparison reports the graph average Jaccard similarity and the class neighbourhood
similarity (CNS, with the first graph as G_A) for every k.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from .knn import KnnTable
from .similarity import compare_tables

COLUMNS = ["comparison", "run", "epoch_a", "epoch_b", "k", "jaccard", "cns"]


def seed_pair_name(run_a: str, run_b: str) -> str:
    """How a seed-to-seed comparison is named in the ``run`` column."""
    return f"{run_a} vs {run_b}"


def stability_pairs(runs: Sequence[str], epochs: Sequence[int]) -> list[tuple[str, str, str, int, int]]:
    """All comparisons as (comparison, run_a, run_b, epoch_a, epoch_b)."""
    epochs = sorted(epochs)
    pairs = []
    for run in runs:
        for ea, eb in itertools.pairwise(epochs):
            pairs.append(("epoch", run, run, ea, eb))
    for ra, rb in itertools.combinations(runs, 2):
        for e in epochs:
            pairs.append(("seed", ra, rb, e, e))
    return pairs


def stability_table(
    graphs: Mapping[tuple[str, int], KnnTable] | Callable[[str, int], KnnTable],
    runs: Sequence[str],
    epochs: Sequence[int],
    ks: Sequence[int],
    directed: bool = False,
) -> pd.DataFrame:
    """The stability table (columns :data:`COLUMNS`) from kNN tables keyed by (run, epoch)."""
    get = graphs if callable(graphs) else (lambda r, e: graphs[(r, e)])
    frames = []
    for comparison, ra, rb, ea, eb in stability_pairs(runs, epochs):
        df = compare_tables(get(ra, ea), get(rb, eb), ks, directed=directed)
        df.insert(0, "comparison", comparison)
        df.insert(1, "run", ra if comparison == "epoch" else seed_pair_name(ra, rb))
        df.insert(2, "epoch_a", ea)
        df.insert(3, "epoch_b", eb)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def stability_markdown(df: pd.DataFrame, digits: int = 3, title: str | None = None) -> str:
    """Thesis-style tables: one per (measure, comparison, run), epochs as rows, k as columns."""
    lines: list[str] = []
    if title:
        lines += [f"# {title}", ""]
    names = {"jaccard": "Graph average Jaccard similarity", "cns": "Class neighbourhood similarity"}
    for comparison in ("epoch", "seed"):
        sub = df[df["comparison"] == comparison]
        for run in sub["run"].drop_duplicates():
            part = sub[sub["run"] == run]
            for measure in ("jaccard", "cns"):
                wide = part.pivot_table(index=["epoch_a", "epoch_b"], columns="k", values=measure, sort=True)
                what = f"G_{{{run},t}} vs G_{{{run},t+1}}" if comparison == "epoch" else f"{run} at epoch t"
                lines += [f"## {names[measure]}: {what}", ""]
                ks = list(wide.columns)
                head = "epoch t, t+1" if comparison == "epoch" else "epoch t"
                lines.append(f"| {head} | " + " | ".join(f"k = {k}" for k in ks) + " |")
                lines.append("|---" * (len(ks) + 1) + "|")
                for (ea, eb), vals in wide.iterrows():
                    label = f"{ea}, {eb}" if comparison == "epoch" else f"{ea}"
                    lines.append(f"| {label} | " + " | ".join(f"{v:.{digits}f}" for v in vals) + " |")
                lines.append("")
    return "\n".join(lines)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Mean Jaccard and CNS per (comparison, k): the one-line answer of the experiment."""
    return df.groupby(["comparison", "k"], as_index=False)[["jaccard", "cns"]].mean()


def describe(meta: dict[str, Any]) -> str:
    """A one-line description of a latents file's metadata, for logs and captions."""
    keys = ("dataset", "split", "arch", "seed", "epoch", "test_accuracy")
    return ", ".join(f"{k}={meta.get(k)}" for k in keys if k in meta)
