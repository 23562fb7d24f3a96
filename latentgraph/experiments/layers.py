"""Layer by layer: the latents of several modules of two networks, compared layer for layer.

The latents come from :func:`latentgraph.nets.extraction.extract_checkpoint_layers` (the
torch side); this module compares them (graph side, no torch).

The thesis studies one layer, the 512-d ``avgpool`` output of ResNet-18 (§3.1). Here any
named module can be read (``model.named_modules()``: ``layer1`` ... ``layer4``,
``layer3.1.conv2``, ``avgpool``, or ``features.3`` of a MobileNet): one forward pass over
the split records every listed module (:func:`latentgraph.nets.extraction.extract_layers`), a
convolutional (C, H, W) map becoming C features by global average pooling
(``reduce="avg"``) or C·H·W by flattening (``reduce="flatten"``). For each layer the kNN
graphs of the two networks are compared with every measure of
:func:`latentgraph.compare.measures.compare` (:func:`compare_layer`), giving a table with one row
per (layer, k).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..utils import LatentGraphError

log = logging.getLogger(__name__)

#: Identifier columns of the per-sample layer table, before :data:`latentgraph.compare.per_sample.COLUMNS`.
PER_SAMPLE_KEYS = ["layer"]
#: Columns in front of the measures in a layer table.
KEY_COLUMNS = ["layer", "depth", "dim_a", "dim_b", "k"]


def compare_layer(
    lat_a: Any,
    lat_b: Any,
    ks: Sequence[int],
    measures: Sequence[str],
    *,
    layer: str,
    depth: int = 0,
    metric: str = "l1",
    directed: bool = False,
    backend: str = "auto",
    threads: int | None = None,
    n_eigs: int = 20,
    n_perm: int = 0,
    seed: int = 0,
    per_sample: bool = False,
    ci: float = 0.95,
    resamples: int | None = 0,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Every measure between two :class:`latentgraph.io.Latents` of one layer, per k.

    Searches each kNN table once at the largest k (:func:`latentgraph.graphs.knn.knn_table`).

    Parameters
    ----------
    lat_a, lat_b : Latents
        The layer's latents of the two networks, over the same samples.
    ks : sequence of int
        The neighbourhood sizes.
    measures : sequence of str
        Measures of :func:`latentgraph.compare.measures.compare` computed after ``jaccard`` and ``cns``.
    layer : str
        The layer's name, put in the ``layer`` column.
    depth : int, optional
        The layer's position in the configured list, for plotting in order.
    metric : str, optional
        Distance of the kNN search, ``"l1"`` or ``"l2"``.
    directed : bool, optional
        Jaccard and CNS on the directed graphs (default: undirected).
    backend : str, optional
        kNN backend (see :func:`latentgraph.graphs.knn.knn`).
    threads : int, optional
        CPU threads of the kNN search.
    n_eigs : int, optional
        Eigenvalues of the spectral distance (at most the number of samples).
    n_perm : int, optional
        Shuffles of the permutation null (0: no null columns).
    seed : int, optional
        Seed of the shuffles and the resamples.
    per_sample : bool, optional
        Also return the per-sample Jaccard, CNS and k-occurrence of the two graphs
        (:func:`latentgraph.compare.per_sample.per_sample_table`, predictions from the
        latents), with :data:`PER_SAMPLE_KEYS` in front.
    ci : float, optional
        Coverage of the intervals.
    resamples : int, optional
        Resamples of the ``<column>_lo``/``_hi`` intervals (default 0: none).

    Returns
    -------
    pandas.DataFrame or tuple of pandas.DataFrame
        :func:`latentgraph.compare.measures.compare`'s table with the columns
        :data:`KEY_COLUMNS` in front, one row per k; with ``per_sample``, the pair (that
        table, the per-sample frame).

    Raises
    ------
    LatentGraphError
        When a kNN search fails (e.g. k too large), naming the latents' source.
    """
    from ..compare.measures import compare
    from ..graphs.knn import knn_table

    kmax = max(int(k) for k in ks)
    n_eigs = min(int(n_eigs), lat_a.n)
    tables = []
    for lat in (lat_a, lat_b):
        try:
            tables.append(knn_table(lat.X, kmax, lat.labels, lat.sample_id, metric=metric, backend=backend,
                                    threads=threads))
        except LatentGraphError as exc:
            raise LatentGraphError(f"{lat.metadata.get('source', 'latents')}: {exc}") from exc
    df = compare(tables[0], tables[1], ks, ["jaccard", "cns", *measures], directed=directed, xa=lat_a.X,
                 xb=lat_b.X, n_eigs=n_eigs, n_perm=n_perm, seed=seed, ci=ci, resamples=resamples)
    df.insert(0, "layer", layer)
    df.insert(1, "depth", int(depth))
    df.insert(2, "dim_a", lat_a.dim)
    df.insert(3, "dim_b", lat_b.dim)
    if not per_sample:
        return df
    from ..compare.per_sample import per_sample_table, with_keys

    samples = per_sample_table(tables[0], tables[1], ks, directed=directed, prediction_a=lat_a.prediction,
                               prediction_b=lat_b.prediction)
    return df, with_keys(samples, layer=layer)


def layers_markdown(df: pd.DataFrame, title: str | None = None, digits: int = 3) -> str:
    """One Markdown table per k: a row per layer (in depth order), a column per measure.

    Each value is followed by its permutation null in parentheses when the table has one.

    Parameters
    ----------
    df : pandas.DataFrame
        A layer table (:func:`compare_layer` frames concatenated).
    title : str, optional
        A level-1 heading put first; None: no heading.
    digits : int, optional
        Decimal places of the values.

    Returns
    -------
    str
        The Markdown text.
    """
    lines = [f"# {title}", ""] if title else []
    skip = set(KEY_COLUMNS) | {c for c in df.columns if c.endswith(("_null", "_null_std", "_lo", "_hi"))}
    measures = [c for c in df.columns if c not in skip]
    lines += ["Chance level (mean over shuffles of the sample correspondence) in parentheses (none for the "
              "spectral distance: it ignores the correspondence); hubness columns: A / B, with the level of a "
              "uniformly random k-out graph in parentheses."
              + (" Resampling interval in brackets (latentgraph.compare.intervals)."
                 if any(c.endswith("_lo") for c in df.columns) else ""), ""]
    for k, part in df.sort_values(["k", "depth"]).groupby("k", sort=True):
        lines += [f"## k = {k}", ""]
        shown = [m for m in measures if not m.endswith("_b")]
        head = ["layer", "dim"] + [m.removesuffix("_a") for m in shown]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---" * len(head) + "|")
        for _, r in part.iterrows():
            cells = [str(r["layer"]), f"{r['dim_a']}" if r["dim_a"] == r["dim_b"] else f"{r['dim_a']}/{r['dim_b']}"]
            for m in shown:
                if m.endswith("_a"):
                    base = m.removesuffix("_a")
                    cell = f"{r[m]:.{digits}f} / {r[base + '_b']:.{digits}f}"
                    null = f"{base}_null"
                else:
                    cell = f"{r[m]:.{digits}f}"
                    null = f"{m}_null"
                if null in r.index and m != "spectral":  # the spectral null is the value itself
                    cell += f" ({r[null]:.{digits}f})"
                if f"{m}_lo" in r.index and not m.endswith("_a"):
                    cell += f" [{r[m + '_lo']:.{digits}f}, {r[m + '_hi']:.{digits}f}]"
                cells.append(cell)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
