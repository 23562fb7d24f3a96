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


def plot_class_graph(nodes: pd.DataFrame, edges: pd.DataFrame, path: str | Path, color: str = "louvain",
                     n_labels: int = 10, title: str = "Class graph") -> Path:
    """The class graph laid out (thesis Figs 5.6/5.8/5.11): size = degree, colour = community or accuracy.

    ``nodes`` has ``x``, ``y``, ``degree`` and the ``color`` column (an integer community
    or a numeric value such as ``class_accuracy``), plus ``class_name`` for the labels of
    the ``n_labels`` highest-degree vertices; ``edges`` has ``source``, ``target``.
    """
    import numpy as np
    from matplotlib.collections import LineCollection

    from .export import community_color

    plt = _plt()
    xy = nodes[["x", "y"]].to_numpy(dtype=float)
    deg = nodes["degree"].to_numpy(dtype=float)
    size = 14 + 220 * (deg - deg.min()) / max(deg.max() - deg.min(), 1)
    fig, ax = plt.subplots(figsize=(10, 10))
    if len(edges):
        segs = np.stack([xy[edges["source"].to_numpy()], xy[edges["target"].to_numpy()]], axis=1)
        ax.add_collection(LineCollection(segs, colors="#999999", linewidths=0.4, alpha=0.5, zorder=1))
    order = np.argsort(deg, kind="stable")  # hubs drawn last, on top
    values = nodes[color]
    if color in ("louvain", "leiden") or values.dtype.kind in "iu":
        cols = [community_color(int(c)) for c in values]
        ax.scatter(xy[order, 0], xy[order, 1], s=size[order], c=[cols[i] for i in order], edgecolors="white",
                   linewidths=0.3, zorder=2)
        from matplotlib.lines import Line2D

        n_comm = int(values.max()) + 1 if len(values) else 0
        handles = [Line2D([], [], marker="o", ls="", color=community_color(c),
                          label=f"{c} ({int((values == c).sum())})") for c in range(min(n_comm, 20))]
        ax.legend(handles=handles, title=f"{color} community (size)", fontsize=7, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0), frameon=False)
    else:
        sc = ax.scatter(xy[order, 0], xy[order, 1], s=size[order], c=values.to_numpy(dtype=float)[order],
                        cmap="viridis", edgecolors="white", linewidths=0.3, zorder=2)
        fig.colorbar(sc, ax=ax, shrink=0.6, label=color.replace("_", " "))
    if n_labels and "class_name" in nodes:
        top = np.lexsort((np.arange(len(deg)), -deg))[:n_labels]
        for i in top:
            name = str(nodes["class_name"].iloc[i]).split(",")[0]
            ax.annotate(f"{name} ({int(deg[i])})", xy[i], fontsize=8, xytext=(4, 4), textcoords="offset points",
                        zorder=3)
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.autoscale()
    ax.axis("off")
    return save_figure(fig, path)


def plot_degree_distribution(degrees: pd.DataFrame, path: str | Path, title: str = "Degree distribution") -> Path:
    """Number of vertices per degree on log-log axes (thesis Figs 5.7/5.12)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(degrees["degree"], degrees["count"], "o", ms=4)
    ax.set_xlabel("degree")
    ax.set_ylabel("number of vertices")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)
