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
