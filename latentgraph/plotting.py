"""Figures (matplotlib, Agg backend). Plotting is kept apart from computing: every function
takes a finished table and a path, and writes the figure atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .utils import atomic_path


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, dpi: int = 150) -> Path:
    """Save ``fig`` atomically (format from the suffix) and close it; no timestamps."""
    plt = _plt()
    path = Path(path)
    meta = {"Date": None} if path.suffix.lower() in (".svg", ".pdf") else {}
    if path.suffix.lower() == ".png":
        meta = {"Software": None}
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", metadata=meta)
    plt.close(fig)
    return path


def plot_training(histories: Mapping[str, pd.DataFrame], path: str | Path, window: tuple[int, int] | None = None) -> Path:
    """Train and test accuracy per epoch, one panel per run (thesis Fig 5.1)."""
    plt = _plt()
    runs = list(histories)
    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.4), sharey=True, squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        h = histories[run]
        ax.plot(h["epoch"], h["train_accuracy"], marker="o", ms=3, label="train")
        ax.plot(h["epoch"], h["test_accuracy"], marker="s", ms=3, label="test")
        if window is not None:
            ax.axvspan(window[0], window[1], color="grey", alpha=0.15, label="latent window")
        ax.set_title(f"run {run}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy")
    axes[0][0].legend(loc="lower right")
    fig.suptitle("Training and test accuracy")
    return save_figure(fig, path)


def plot_stability(df: pd.DataFrame, path: str | Path) -> Path:
    """Jaccard and CNS against epoch, one line per (comparison, run, k)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    ks = sorted(df["k"].unique())
    colors = {k: f"C{i}" for i, k in enumerate(ks)}
    styles = {"epoch": "-", "seed": "--"}
    for ax, measure, name in zip(axes, ("jaccard", "cns"), ("graph average Jaccard", "class neighbourhood sim."),
                                 strict=True):
        for (comparison, run, k), part in df.groupby(["comparison", "run", "k"], sort=True):
            label = f"{'t vs t+1' if comparison == 'epoch' else 'seed'} {run}, k={k}"
            ax.plot(part["epoch_a"], part[measure], styles[comparison], color=colors[k], marker="o", ms=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch t")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("similarity")
    axes[1].legend(fontsize=7, loc="lower right", ncol=2)
    fig.suptitle("kNN-graph stability: epoch to epoch (solid) and seed to seed (dashed)")
    return save_figure(fig, path)


def plot_pruning(df: pd.DataFrame, path: str | Path, measure: str = "cns", reference: pd.DataFrame | None = None,
                 title: str | None = None) -> Path:
    """Similarity of each pruning round's graph to round 0's against the round (thesis Figs 5.13/5.14).

    ``df`` is the pruning table (``latentgraph.prune.TABLE_COLUMNS``); ``measure`` is
    ``"cns"`` or ``"jaccard"``. One panel per rate, one line per k. ``reference`` (columns
    ``k, jaccard, cns``: the mean seed-to-seed similarity of the stability experiment) is
    drawn as a dashed horizontal line per k; without it the figure says that it is absent.
    """
    import math

    plt = _plt()
    col = {"cns": "cns_vs_round0", "jaccard": "jaccard_vs_round0"}[measure]
    name = {"cns": "class neighbourhood similarity", "jaccard": "graph average Jaccard similarity"}[measure]
    rates = sorted(df["rate"].unique(), reverse=True)
    ks = sorted(df["k"].unique())
    colors = {k: f"C{i}" for i, k in enumerate(ks)}
    fig, axes = plt.subplots(1, len(rates), figsize=(5.2 * len(rates), 4.2), sharey=True, squeeze=False,
                             layout="constrained")
    levels = list(df[col])
    for ax, rate in zip(axes[0], rates, strict=True):
        part = df[df["rate"] == rate]
        for k in ks:
            line = part[part["k"] == k].sort_values("round")
            ax.plot(line["round"], line[col], marker="o", ms=3, color=colors[k], label=f"k={k}")
            if reference is not None and k in set(reference["k"]):
                level = float(reference.loc[reference["k"] == k, measure].iloc[0])
                ax.axhline(level, ls="--", lw=1, color=colors[k], alpha=0.8, label=f"seed to seed, k={k}")
                levels.append(level)
        rounds = part.drop_duplicates("round").sort_values("round")
        ax.set_xticks(rounds["round"])
        ax.set_xticklabels([f"{int(t)}\n{100 * f:.0f}%" for t, f in zip(rounds["round"], rounds["pruned_fraction"],
                                                                         strict=True)], fontsize=7)
        ax.set_xlabel("pruning iteration t (pruned conv weights)")
        ax.set_title(f"p = {rate:g}")
        ax.grid(alpha=0.3)
    # from 0.1 below the lowest value (in steps of 0.1) to 1: the thesis's range of interest
    axes[0][0].set_ylim(max(0.0, math.floor(10 * min(levels) - 1) / 10), 1.02)
    axes[0][0].set_ylabel(f"{name}, G_0 vs G_t")
    axes[0][-1].legend(fontsize=7, loc="lower left", ncol=2)
    ref = ("dashed: mean seed-to-seed similarity (stability experiment)" if reference is not None
           else "no seed-to-seed reference (no stability table with seed pairs)")
    fig.suptitle(f"{title + ': ' if title else ''}{name} to the unpruned network\n{ref}", fontsize=10)
    return save_figure(fig, path)
