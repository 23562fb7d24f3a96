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
    """Save ``fig`` atomically (format from the suffix) and close it; the same bytes every time.

    No timestamps or software versions are written, and SVG element ids are hashed with a fixed
    salt (``svg.hashsalt``; matplotlib's default draws random ids).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        The file written; its suffix gives the format.
    dpi : int, optional
        Resolution of raster formats.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    plt = _plt()
    path = Path(path)
    # the keys each backend stamps with the time or its version, dropped
    meta = {".svg": {"Date": None}, ".pdf": {"CreationDate": None}, ".png": {"Software": None}}.get(path.suffix.lower(), {})
    with atomic_path(path) as tmp, plt.rc_context({"svg.hashsalt": "latentgraph"}):
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", metadata=meta)
    plt.close(fig)
    return path


def _interval(ax: Any, x: Any, part: pd.DataFrame, col: str, color: str, bars: bool = False) -> None:
    """Draw ``<col>_lo``..``<col>_hi`` of ``part`` (when present) as a band, or as error bars."""
    lo, hi = f"{col}_lo", f"{col}_hi"
    if lo not in part.columns or hi not in part.columns or part[lo].isna().all():
        return
    if bars:
        y = part[col].to_numpy()
        err = [y - part[lo].to_numpy(), part[hi].to_numpy() - y]
        ax.errorbar(x, y, yerr=err, fmt="none", ecolor=color, elinewidth=0.8, capsize=2, alpha=0.8)
    else:
        ax.fill_between(x, part[lo], part[hi], color=color, alpha=0.15, lw=0)


def plot_training(histories: Mapping[str, pd.DataFrame], path: str | Path, window: tuple[int, int] | None = None) -> Path:
    """Train and test accuracy per epoch, one panel per run (thesis Fig 5.1).

    Parameters
    ----------
    histories : mapping of str to pandas.DataFrame
        Run name -> its training history (columns ``epoch``, ``train_accuracy``, ``test_accuracy``).
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    window : tuple of (int, int), optional
        The stability window [first, last] epochs, shaded; None: no shading.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
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
    """Jaccard (top) and CNS (bottom) against epoch t, epoch to epoch and seed to seed.

    Left: epoch to epoch, one line style per run; right: seed to seed, one line style per
    pair of runs; one colour per k. Dotted: the permutation null (chance level) when the
    table has ``jaccard_null``/``cns_null``; shaded: the resampling interval when it has
    ``jaccard_lo``/``_hi`` (:mod:`latentgraph.compare.intervals`).

    Parameters
    ----------
    df : pandas.DataFrame
        A stability table (:func:`latentgraph.experiments.stability.stability_table`).
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex=True, sharey="row", squeeze=False)
    ks = sorted(df["k"].unique())
    colors = {k: f"C{i}" for i, k in enumerate(ks)}
    styles = ["-", "--", ":", "-."]
    titles = {"epoch": "epoch to epoch: G_t vs G_t+1", "seed": "seed to seed: G_A,t vs G_B,t"}
    for row, (measure, name) in enumerate((("jaccard", "graph average Jaccard"), ("cns", "class neighbourhood sim."))):
        for col, comparison in enumerate(("epoch", "seed")):
            ax = axes[row][col]
            part = df[df["comparison"] == comparison]
            for r, run in enumerate(part["run"].drop_duplicates()):
                for k in ks:
                    line = part[(part["run"] == run) & (part["k"] == k)]
                    ax.plot(line["epoch_a"], line[measure], styles[r % len(styles)], color=colors[k], marker="o",
                            ms=3, label=f"{run}, k={k}")
                    _interval(ax, line["epoch_a"], line, measure, colors[k])
                    if f"{measure}_null" in line.columns:  # chance level: shuffled sample correspondence
                        ax.plot(line["epoch_a"], line[f"{measure}_null"], ":", color=colors[k], lw=1,
                                label="chance (dotted)" if r == 0 and k == ks[0] else None)
            if row == 0:
                ax.set_title(titles[comparison])
            if row == 1:
                ax.set_xlabel("epoch t")
            if col == 0:
                ax.set_ylabel(name)
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower right", ncol=2)
    fig.suptitle("kNN-graph stability during training and across seeds")
    fig.tight_layout()
    return save_figure(fig, path)


# --------------------------------------------------------------------------- noise (thesis §5.1.1)

_NOISE_MEASURES = {"jaccard": "graph average Jaccard similarity", "cns": "class neighbourhood similarity"}
_NOISE_X = "relative noise variance p  (Y = X + N(0, p·σ²))"


def _noise_lines(ax: Any, summary: pd.DataFrame, measure: str, chance: pd.DataFrame | None,
                 xmax: float | None = None) -> None:
    ks = sorted(summary["k"].unique())
    for i, k in enumerate(ks):
        part = summary[summary["k"] == k].sort_values("p")
        if xmax is not None:
            part = part[part["p"] <= xmax * (1 + 1e-9)]
        color = f"C{i}"
        ax.plot(part["p"], part[measure], marker="o", ms=3, color=color, label=f"k = {k}")
        std = part.get(f"{measure}_std")
        if std is not None and (std > 0).any():
            ax.fill_between(part["p"], part[measure] - std, part[measure] + std, color=color, alpha=0.2, lw=0)
        _interval(ax, part["p"], part, measure, color, bars=True)
        if chance is not None:
            row = chance[chance["k"] == k]
            if len(row):
                ax.axhline(float(row[measure].iloc[0]), color=color, ls="--", lw=1, label=f"chance, k = {k}")
    ax.set_xlabel(_NOISE_X)
    ax.grid(alpha=0.3)


def plot_noise_similarity(summary: pd.DataFrame, chance: pd.DataFrame | None, measure: str, path: str | Path,
                          zoom_max: float | None = None, title: str | None = None) -> Path:
    """Jaccard or CNS of G(Y) against G(X) per k vs p (thesis Figs 5.2, 5.3), chance levels dashed.

    Parameters
    ----------
    summary : pandas.DataFrame
        The noise summary: columns p, k, <measure> and optionally <measure>_std (drawn as a
        band), <measure>_lo/_hi (the resampling interval, drawn as error bars) and ``repeats``.
    chance : pandas.DataFrame or None
        The chance levels: columns k and <measure>; None: not drawn.
    measure : {"jaccard", "cns"}
        The measure plotted.
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    zoom_max : float, optional
        A second panel shows p <= zoom_max (Fig 5.2b) when the grid has at least two points there.
    title : str, optional
        A second title line; None: none.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For another ``measure``.
    """
    plt = _plt()
    if measure not in _NOISE_MEASURES:
        raise ValueError(f"measure must be one of {list(_NOISE_MEASURES)}")
    zoom = zoom_max is not None and int((summary["p"].drop_duplicates() <= zoom_max * (1 + 1e-9)).sum()) >= 2
    fig, axes = plt.subplots(1, 2 if zoom else 1, figsize=(11 if zoom else 6, 4.4), squeeze=False,
                             layout="constrained")
    ax = axes[0][0]
    _noise_lines(ax, summary, measure, chance)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(_NOISE_MEASURES[measure])
    ax.set_title("full range" if zoom else _NOISE_MEASURES[measure])
    ax.legend(fontsize=7, loc="best", ncol=2)
    if zoom:
        az = axes[0][1]
        _noise_lines(az, summary, measure, None, xmax=zoom_max)
        az.set_xlim(0, zoom_max)
        az.set_title(f"zoom: p ≤ {zoom_max:g} (chance levels in the left panel)")
        az.set_ylabel(_NOISE_MEASURES[measure])
        az.legend(fontsize=7, loc="best")
    what = "Jaccard similarity" if measure == "jaccard" else "class neighbourhood similarity"
    n_rep = int(summary["repeats"].max()) if "repeats" in summary else 1
    band = f"; band = ±1 std over {n_rep} draws" if n_rep > 1 else ""
    if f"{measure}_lo" in summary.columns:
        band += "; bars = resampling interval over the test samples"
    fig.suptitle(f"{what} of the kNN graph under noise vs the clean graph{band}" + (f"\n{title}" if title else ""),
                 fontsize=10)
    return save_figure(fig, path)


def plot_noise_accuracy(summary: pd.DataFrame, path: str | Path, clean_accuracy: float | None = None,
                        chance_accuracy: float | None = None, title: str | None = None) -> Path:
    """Accuracy of the fc head on the perturbed latents vs p (thesis Fig 5.4).

    Left: the accuracy on [0, 1] with the clean accuracy and the chance level (majority
    class); right, when the clean accuracy is given: the drop below it in percentage points.

    Parameters
    ----------
    summary : pandas.DataFrame
        The noise summary (columns p, k, accuracy, optionally accuracy_std); the accuracy is
        read at the smallest k (it does not depend on k).
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    clean_accuracy : float, optional
        The head's accuracy on the clean latents; None: no line and no right panel.
    chance_accuracy : float, optional
        The majority-class accuracy; None: no line.
    title : str, optional
        A second title line; None: none.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    plt = _plt()
    k0 = sorted(summary["k"].unique())[0]
    part = summary[summary["k"] == k0].sort_values("p")  # accuracy does not depend on k
    std = part.get("accuracy_std")
    band = std is not None and bool((std > 0).any())
    ncols = 2 if clean_accuracy is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.5 * ncols, 4.2), squeeze=False, layout="constrained")
    ax = axes[0][0]
    ax.plot(part["p"], part["accuracy"], marker="o", ms=3, color="C0", label="accuracy on Y")
    if band:
        ax.fill_between(part["p"], part["accuracy"] - std, part["accuracy"] + std, color="C0", alpha=0.2, lw=0,
                        label="±1 std over draws")
    if clean_accuracy is not None:
        ax.axhline(clean_accuracy, color="k", ls=":", lw=1, label=f"clean test accuracy {clean_accuracy:.3f}")
    if chance_accuracy is not None:
        ax.axhline(chance_accuracy, color="C3", ls="--", lw=1, label=f"chance (majority class) {chance_accuracy:.3f}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(_NOISE_X)
    ax.set_ylabel("test accuracy of the fc head")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("accuracy on the perturbed latents")
    if clean_accuracy is not None:
        az = axes[0][1]
        drop = 100 * (clean_accuracy - part["accuracy"])
        az.plot(part["p"], drop, marker="o", ms=3, color="C0")
        if band:
            az.fill_between(part["p"], drop - 100 * std, drop + 100 * std, color="C0", alpha=0.2, lw=0)
        az.axhline(0, color="k", ls=":", lw=1)
        az.set_xlabel(_NOISE_X)
        az.set_ylabel("accuracy drop vs clean (percentage points)")
        az.grid(alpha=0.3)
        az.set_title("drop below the clean accuracy")
    fig.suptitle("Accuracy of the trained fc head on Y = X + noise" + (f"\n{title}" if title else ""), fontsize=10)
    return save_figure(fig, path)


def plot_path_lengths(stats: Mapping[str, Any], path: str | Path, title: str | None = None) -> Path:
    """Histogram of weighted shortest-path lengths of the clean graph (thesis Fig 5.5).

    The median path length and the mean L1 norm of one noise vector at p = 1 are drawn as
    vertical lines.

    Parameters
    ----------
    stats : mapping
        The JSON of :func:`latentgraph.graphs.path_stats.knn_graph_statistics`, with a
        ``noise_l1_norm`` entry (optional: without it, no noise line).
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    title : str, optional
        A second title line; None: none.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import numpy as np

    plt = _plt()
    w = stats["weighted"]
    edges = np.asarray(w["bin_edges"], dtype=float)
    counts = np.asarray(w["counts"], dtype=float)
    last = int(np.flatnonzero(counts)[-1]) + 1 if counts.any() else 1
    edges, counts = edges[: last + 1], counts[:last]
    frac = counts / max(1.0, counts.sum())
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(edges[:-1], frac, width=np.diff(edges), align="edge", color="C0", alpha=0.8, label="pairs (i, j)")
    ax.axvline(w["median"], color="k", lw=1.5, label=f"median {w['median']:.4g}")
    norm = stats.get("noise_l1_norm")
    if norm:
        ax.axvline(norm["mc_mean"], color="C3", ls="--", lw=1.5,
                   label=f"mean L1 norm of a noise vector at p = 1: {norm['mc_mean']:.4g}")
    ew = stats.get("edge_weight", {})
    if ew.get("median") is not None:
        ax.axvline(ew["median"], color="C2", ls=":", lw=1.5, label=f"median kNN edge length {ew['median']:.4g}")
    hop = stats["hop"]
    text = (f"k = {stats.get('k')}, {stats['n_vertices']} vertices, {stats['n_edges']} edges\n"
            f"hop diameter {hop['diameter']}, mean hop path {hop['average_path_length']:.2f}\n"
            f"{hop['components']} component(s), {w['unreachable_pairs']} unreachable pairs")
    ax.text(0.99, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8})
    metric = str(stats.get("metric", "l1")).upper()
    ax.set_xlabel(f"weighted ({metric}) shortest-path length")
    ax.set_ylabel("fraction of connected pairs")
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center right")
    ax.set_title("Shortest-path lengths between all pairs of vertices" + (f"\n{title}" if title else ""), fontsize=10)
    return save_figure(fig, path)


def plot_pruning(df: pd.DataFrame, path: str | Path, measure: str = "cns", reference: pd.DataFrame | None = None,
                 title: str | None = None) -> Path:
    """Similarity of each pruning round's graph to round 0's against the round (thesis Figs 5.13/5.14).

    One panel per rate, one line per k.

    Parameters
    ----------
    df : pandas.DataFrame
        The pruning table (``latentgraph.nets.pruning.TABLE_COLUMNS``); its ``<column>_lo``/``_hi``
        resampling intervals, when present, are drawn as error bars.
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    measure : {"cns", "jaccard"}, optional
        The similarity plotted.
    reference : pandas.DataFrame, optional
        Columns ``k, jaccard, cns``: the mean seed-to-seed similarity of the stability
        experiment, drawn as a dashed horizontal line per k; None: the figure says that it is absent.
    title : str, optional
        Put in front of the figure title; None: nothing.

    Returns
    -------
    pathlib.Path
        ``path``.
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
            _interval(ax, line["round"].to_numpy(), line, col, colors[k], bars=True)
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
    if f"{col}_lo" in df.columns:
        ref += "; bars: resampling interval over the test samples"
    fig.suptitle(f"{title + ': ' if title else ''}{name} to the unpruned network\n{ref}", fontsize=10)
    return save_figure(fig, path)


def plot_class_graph(nodes: pd.DataFrame, edges: pd.DataFrame, path: str | Path, color: str = "louvain",
                     n_labels: int = 10, title: str = "Class graph") -> Path:
    """The class graph laid out (thesis Figs 5.6/5.8/5.11): size = degree, colour = community or accuracy.

    Parameters
    ----------
    nodes : pandas.DataFrame
        One row per vertex: ``x``, ``y``, ``degree`` and the ``color`` column, plus
        ``class_name`` for the labels.
    edges : pandas.DataFrame
        ``source``, ``target``: row positions in ``nodes``.
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    color : str, optional
        The column of ``nodes`` that colours the vertices: an integer community (``louvain``,
        ``leiden``; with a legend) or a numeric value such as ``class_accuracy`` (with a colour bar).
    n_labels : int, optional
        Number of highest-degree vertices labelled with their class name (0: none).
    title : str, optional
        The figure title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import numpy as np
    from matplotlib.collections import LineCollection

    from .graphs.export import community_color

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
    """Number of vertices per degree on log-log axes (thesis Figs 5.7/5.12).

    Parameters
    ----------
    degrees : pandas.DataFrame
        Columns ``degree`` and ``count``.
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    title : str, optional
        The figure title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(degrees["degree"], degrees["count"], "o", ms=4)
    ax.set_xlabel("degree")
    ax.set_ylabel("number of vertices")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)


# --------------------------------------------------------------------------- measures beyond the thesis

_EXTRA_MEASURES = {
    "cns_sym": "symmetric CNS",
    "mutual_knn": "mutual kNN alignment",
    "cka": "linear CKA (debiased)",
    "spectral": "spectral distance (↓ = alike)",
}


def plot_stability_measures(df: pd.DataFrame, path: str | Path) -> Path:
    """The stability table's extra measures (one row of panels each) against epoch t.

    Left: epoch to epoch; right: seed to seed; a colour per k, dotted: the permutation null,
    shaded: the resampling interval (``<measure>_lo``/``_hi``) when the table has one.

    Parameters
    ----------
    df : pandas.DataFrame
        A stability table with extra measures (``cns_sym``, ``mutual_knn``, ``cka``, ``spectral``).
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        When the table has none of these measures.
    """
    from .compare.registry import REGISTRY

    plt = _plt()
    # and the registry's other measures of the latents (one value per pair unless per_k)
    names = {**_EXTRA_MEASURES, **{m.name: m.title for m in REGISTRY if m.needs == "latents"
                                   and m.name not in _EXTRA_MEASURES}}
    per_pair = {"cka"} | {m.name for m in REGISTRY if m.needs == "latents" and not m.per_k}
    measures = [m for m in names if m in df.columns]
    if not measures:
        raise ValueError("the table has none of the extra measures " + ", ".join(names))
    fig, axes = plt.subplots(len(measures), 2, figsize=(10, 2.8 * len(measures)), sharex=True, squeeze=False)
    ks = sorted(df["k"].unique())
    styles = ["-", "--", ":", "-."]
    for row, measure in enumerate(measures):
        for col, comparison in enumerate(("epoch", "seed")):
            ax = axes[row][col]
            part = df[df["comparison"] == comparison]
            for r, run in enumerate(part["run"].drop_duplicates()):
                for i, k in enumerate(ks if measure not in per_pair else ks[:1]):
                    line = part[(part["run"] == run) & (part["k"] == k)]
                    color = f"C{i}" if measure not in per_pair else "k"
                    label = f"{run}, k={k}" if measure not in per_pair else f"{run}"
                    ax.plot(line["epoch_a"], line[measure], styles[r % len(styles)], color=color, marker="o", ms=3,
                            label=label)
                    _interval(ax, line["epoch_a"], line, measure, color)
                    if f"{measure}_null" in line.columns and measure != "spectral":
                        ax.plot(line["epoch_a"], line[f"{measure}_null"], ":", color=color, lw=1,
                                label="chance" if r == 0 and i == 0 else None)
            if row == 0:
                ax.set_title({"epoch": "epoch to epoch: G_t vs G_t+1", "seed": "seed to seed: G_A,t vs G_B,t"}[comparison])
            if col == 0:
                ax.set_ylabel(names[measure])
            if row == len(measures) - 1:
                ax.set_xlabel("epoch t")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6, loc="best", ncol=2)
    fig.suptitle("Measures beyond the thesis, with chance levels (dotted)"
                 + (" and resampling intervals (shaded)" if any(f"{m}_lo" in df.columns for m in measures) else ""))
    fig.tight_layout()
    return save_figure(fig, path)


def plot_layers(df: pd.DataFrame, path: str | Path, title: str | None = None) -> Path:
    """Each measure of the layer table against the layer (in depth order), a line per k.

    Dotted: the permutation null; shaded: the resampling interval (``<measure>_lo``/``_hi``)
    when the table has one; hubness: run A solid, run B dashed, random graph dotted.

    Parameters
    ----------
    df : pandas.DataFrame
        A layer table (:func:`latentgraph.experiments.layers.compare_layer` frames concatenated).
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    title : str, optional
        The figure title; None: "Layer by layer: run A vs run B".

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    plt = _plt()
    panels = [m for m in ("jaccard", "cns", "cns_sym", "mutual_knn", "cka", "spectral", "hub_skew_a")
              if m in df.columns]
    ncol = 3
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    order = df.drop_duplicates("layer").sort_values("depth")
    x = {layer: i for i, layer in enumerate(order["layer"])}
    ks = sorted(df["k"].unique())
    names = {"jaccard": "graph average Jaccard", "cns": "CNS(A, B)", "hub_skew_a": "k-occurrence skewness",
             **_EXTRA_MEASURES}
    for ax, m in zip(axes.ravel(), panels, strict=False):
        for i, k in enumerate(ks if m != "cka" else ks[:1]):
            part = df[df["k"] == k].sort_values("depth")
            xs = [x[v] for v in part["layer"]]
            color = f"C{i}" if m != "cka" else "k"
            if m == "hub_skew_a":
                ax.plot(xs, part["hub_skew_a"], "-", color=color, marker="o", ms=3, label=f"A, k={k}")
                ax.plot(xs, part["hub_skew_b"], "--", color=color, marker="s", ms=3, label=f"B, k={k}")
                null = "hub_skew_null"
            else:
                ax.plot(xs, part[m], "-", color=color, marker="o", ms=3, label=f"k={k}" if m != "cka" else "A vs B")
                _interval(ax, xs, part, m, color)
                null = f"{m}_null"
            if null in part.columns and m != "spectral":
                ax.plot(xs, part[null], ":", color=color, lw=1, label="chance" if i == 0 else None)
        ax.set_title(names.get(m, m))
        ax.set_xticks(range(len(x)), list(x), rotation=30, fontsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best")
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title or "Layer by layer: run A vs run B")
    fig.tight_layout()
    return save_figure(fig, path)


# --------------------------------------------------------------------------- per-sample stability


def plot_per_sample(summary: pd.DataFrame, path: str | Path, by: list[str] | tuple[str, ...] = (),
                    title: str | None = None) -> Path:
    """Mean per-sample Jaccard by correctness, class and k-occurrence bin: a row of panels each, a column per k.

    One line per group (values of ``by``: e.g. epoch and seed comparisons; a sequential
    colour map when there are more than ten); Spearman's rho of Jaccard with the
    k-occurrence in the legend of the bottom row.

    Parameters
    ----------
    summary : pandas.DataFrame
        A frame of :func:`latentgraph.compare.per_sample.per_sample_summary`.
    path : str or pathlib.Path
        The figure file; its suffix (``.png``, ``.svg``, ``.pdf``) gives the format.
    by : sequence of str, optional
        The summary's group columns.
    title : str, optional
        The figure title; None: "Per-sample stability".

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    plt = _plt()
    by = list(by)
    ks = sorted(summary["k"].unique())
    sections = (("status", "correctness"), ("class", "class"), ("k_occurrence", "k-occurrence N_k (first graph)"))
    fig, axes = plt.subplots(len(sections), len(ks), figsize=(3.8 * len(ks), 8.4), sharey=True, squeeze=False)
    groups = [((), summary)] if not by else list(summary.groupby(by, sort=True))
    if len(groups) > 10:
        cmap = plt.get_cmap("viridis")
        colors = [cmap(i / max(1, len(groups) - 1)) for i in range(len(groups))]
    else:
        colors = [f"C{i}" for i in range(len(groups))]
    for row, (section, name) in enumerate(sections):
        for col, k in enumerate(ks):
            ax = axes[row][col]
            items = list(dict.fromkeys(summary[(summary["section"] == section) & (summary["k"] == k)]["item"]))
            items = [i for i in items if i != "unknown"]
            x = {item: i for i, item in enumerate(items)}
            for (key, part), color in zip(groups, colors, strict=True):
                key = key if isinstance(key, tuple) else (key,)
                label = ", ".join(str(v) for v in key) or "all"
                sec = part[(part["section"] == section) & (part["k"] == k) & part["item"].isin(items)]
                if row == len(sections) - 1:
                    rho = part[(part["section"] == "spearman") & (part["k"] == k)]["jaccard"]
                    label += f" (rho {rho.iloc[0]:.2f})" if len(rho) and pd.notna(rho.iloc[0]) else ""
                ax.plot([x[i] for i in sec["item"]], sec["jaccard"], "-", color=color, marker="o", ms=3, lw=1,
                        label=label)
            ax.set_xticks(range(len(items)), items, rotation=30 if section != "class" else 0, fontsize=7)
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"k = {k}")
            if col == 0:
                ax.set_ylabel(f"mean Jaccard by {name}", fontsize=8)
            if col == len(ks) - 1 and len(groups) <= 10:
                ax.legend(fontsize=6, loc="lower right")
            elif col == len(ks) - 1 and row == 0:  # many groups: one legend, right of the panels
                ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0), ncol=1 + len(groups) // 16,
                          title=", ".join(by), title_fontsize=7)
    fig.suptitle(title or "Per-sample stability")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_map(df: pd.DataFrame, path: str | Path, k: int | None = None, cluster: bool = False,
             title: str | None = None, xlabel: str | None = None, ylabel: str | None = None) -> Path:
    """Heatmaps of a map table (:func:`latentgraph.compare.maps.similarity_map`), one panel per measure.

    Parameters
    ----------
    df : pandas.DataFrame
        A map table (``row``, ``col``, ``k``, ``measure``, ``value``).
    path : str or pathlib.Path
        The figure file; its suffix gives the format.
    k : int, optional
        The neighbour count shown (default: the smallest in the table).
    cluster : bool, optional
        Order rows and columns of each square panel by average-linkage clustering
        (:func:`latentgraph.compare.maps.cluster_order`); default: the table's order.
    title : str, optional
        The figure title.
    xlabel, ylabel : str, optional
        Axis labels.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from .compare import registry
    from .compare.maps import as_matrix, cluster_order

    plt = _plt()
    measures = list(dict.fromkeys(df["measure"]))
    ncol = min(3, len(measures))
    nrow = -(-len(measures) // ncol)
    size = min(6.0, max(3.2, 0.15 * df["col"].nunique() + 2.5))
    fig, axes = plt.subplots(nrow, ncol, figsize=(size * ncol, size * 0.9 * nrow), squeeze=False,
                             layout="constrained")
    for ax, m in zip(axes.ravel(), measures, strict=False):
        M = as_matrix(df, m, k)
        larger = registry.get(m).larger_is_more_similar
        if cluster and M.shape[0] == M.shape[1] and list(M.index) == list(M.columns):
            o = cluster_order(M.to_numpy(), larger)
            M = M.iloc[o, o]
        im = ax.imshow(M.to_numpy(), cmap="viridis" if larger is not False else "viridis_r", aspect="auto")
        fs = 6 if M.shape[1] <= 20 else 4
        ax.set_xticks(range(M.shape[1]), [str(c) for c in M.columns], rotation=90, fontsize=fs)
        ax.set_yticks(range(M.shape[0]), [str(r) for r in M.index], fontsize=fs)
        kk = int(df[df["measure"] == m]["k"].min()) if k is None else k
        ax.set_title(f"{m}" + (f" (k = {kk})" if registry.get(m).per_k else ""), fontsize=9)
        if xlabel:
            ax.set_xlabel(xlabel, fontsize=8)
        if ylabel:
            ax.set_ylabel(ylabel, fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    for ax in axes.ravel()[len(measures):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
