"""The class graph (thesis §4.2, §5.2): classes linked by their mean shortest-path distance.

1. The sample kNN graph G (undirected, k = 4 in the thesis, edge length = the L1 distance
   or one hop) is searched for all-pairs shortest paths, streamed and folded per class pair
   (:func:`latentgraph.graphs.shortest_paths.class_path_sums`); no N x N matrix is built.
2. :func:`class_distances` turns the sums into the C x C matrix of eq. 4.2: the mean
   shortest-path distance between the samples of two classes. The diagonal (within-class
   distance) leaves out the pairs (s, s). Pairs in different connected components of G are
   left out of the mean; their share is kept per class pair (``unreachable_fraction``).
3. :func:`class_knn_graph` links every class to its ``class_k`` nearest classes (undirected
   union). Edges carry ``distance`` (the mean distance) and ``similarity`` = the smallest edge
   distance divided by the edge's distance, in (0, 1]: distances are not similarities, and
   community detection and force layouts need the latter.

Sampled sources (``classgraph.sources_per_class: m``, :func:`sampled_class_distances`): m
seeded random sources per class instead of all N; each class pair's mean is estimated from
the sampled sources of both classes (a ratio estimator: m = the class size gives eq. 4.2
itself), with its standard error (finite-population correction per class) and a 95 %
Student-t interval (Welch-Satterthwaite degrees of freedom) stored beside it; the class kNN
graph then counts its edges that are ambiguous within those intervals
(:func:`ambiguous_edges`).

Files: :func:`write_class_distances` stores the matrix as a long Parquet table (one row per
ordered class pair) with per-class information in the file metadata. The files of a class
graph are written as one set (:func:`staged_paths`): all of them, or on a failure none.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..graphs.shortest_paths import ClassPathSums, SourceClassRows, class_path_sums
from ..io import META_KEY, Latents, read_table, write_parquet
from ..utils import CLASSGRAPH_FILES, LatentGraphError, atomic_path, check_k

log = logging.getLogger(__name__)

WEIGHTS = ("l1", "hops")


def check_weights(weights: Any) -> str:
    """Validate a path-length kind (``classgraph.weights``).

    Parameters
    ----------
    weights : str
        ``"l1"`` (sum of the kNN distances) or ``"hops"`` (number of edges).

    Returns
    -------
    str
        ``weights``.

    Raises
    ------
    LatentGraphError
        For any other value, listing the allowed ones.
    """
    if weights not in WEIGHTS:
        raise LatentGraphError(f"unknown path weights {weights!r}; allowed: {list(WEIGHTS)}")
    return weights


class ClassGraphWarning(UserWarning):
    """Something in the data makes part of the class graph undefined (e.g. a one-sample class)."""


@dataclass
class ClassDistances:
    """The class distance matrix (eq. 4.2) with its pair counts and per-class information.

    Parameters
    ----------
    mean : numpy.ndarray
        (C, C) float64: ``mean[i, j]`` is the mean shortest-path distance from the samples of
        class ``classes[i]`` to those of ``classes[j]`` over the reachable pairs (NaN when
        there is none).
    pairs : numpy.ndarray
        (C, C) int64: the reachable ordered sample pairs of each class pair.
    total : numpy.ndarray
        (C, C) int64: all ordered sample pairs of each class pair.
    classes : numpy.ndarray
        (C,) int64 label values, ascending.
    names : list of str
        The class names, in the order of ``classes``.
    sizes : numpy.ndarray
        (C,) int64 number of samples of each class.
    accuracy : numpy.ndarray
        (C,) float64 per-class accuracy of the model; NaN without predictions.
    metadata : dict, optional
        How the matrix was made (weights, k, metric, source, ...).
    se : numpy.ndarray, optional
        (C, C) standard errors of ``mean`` when it is estimated from sampled sources; None
        (default) for the exact matrix.
    ci_low, ci_high : numpy.ndarray, optional
        (C, C) bounds of the 95 % intervals of ``mean`` (sampled sources only).
    """

    mean: np.ndarray  # (C, C) float64
    pairs: np.ndarray  # (C, C) int64
    total: np.ndarray  # (C, C) int64
    classes: np.ndarray  # (C,) int64 label values
    names: list[str]
    sizes: np.ndarray  # (C,) int64
    accuracy: np.ndarray  # (C,) float64, NaN without predictions
    metadata: dict[str, Any] = field(default_factory=dict)
    se: np.ndarray | None = None  # (C, C) standard errors (sampled sources only)
    ci_low: np.ndarray | None = None  # (C, C) 95 % interval (sampled sources only)
    ci_high: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return int(self.classes.size)

    @property
    def unreachable_fraction(self) -> np.ndarray:
        """Share of the ordered pairs of each class pair that no path connects (NaN: no pairs)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.total > 0, 1.0 - self.pairs / np.maximum(self.total, 1), np.nan)

    @property
    def within(self) -> np.ndarray:
        """Within-class mean distance (the diagonal)."""
        return np.diag(self.mean).copy()


def _class_names(classes: np.ndarray, names: list[str] | None) -> list[str]:
    if names is None:
        return [str(int(c)) for c in classes]
    if classes.size and int(classes.max()) >= len(names):
        raise LatentGraphError(
            f"labels go up to {int(classes.max())} but only {len(names)} class names are given"
        )
    return [str(names[int(c)]) for c in classes]


def class_distances(
    labels: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    lengths: np.ndarray | None,
    *,
    weights: str = "l1",
    class_names: list[str] | None = None,
    prediction: np.ndarray | None = None,
    batch_size: int = 256,
    n_jobs: int | None = 1,
    backend: str = "auto",
    progress: bool = False,
    metadata: dict[str, Any] | None = None,
) -> ClassDistances:
    """The class distance matrix of the undirected graph with edges ``{src[i], dst[i]}``.

    Parameters
    ----------
    labels : numpy.ndarray
        (N,) class label of every sample (vertex).
    src, dst : numpy.ndarray
        Endpoints of the undirected edges.
    lengths : numpy.ndarray or None
        Edge lengths (the kNN distances); needed for ``weights="l1"``.
    weights : {"l1", "hops"}, optional
        ``"l1"`` measures a path by the sum of its edge ``lengths``, ``"hops"`` by its number of edges.
    class_names : list of str, optional
        Class names indexed by label value; None: the label values as text.
    prediction : numpy.ndarray, optional
        (N,) predicted classes, for the per-class accuracy; None: accuracy NaN.
    batch_size, n_jobs, backend, progress
        As in :func:`latentgraph.graphs.shortest_paths.class_path_sums`.
    metadata : dict, optional
        Entries added to the result's metadata (before the ones recorded here).

    Returns
    -------
    ClassDistances
        The matrix; its metadata also records the weights, sample and edge counts, connected
        components and the shortest-path backend used.

    Raises
    ------
    LatentGraphError
        For unknown ``weights``, ``"l1"`` without ``lengths``, or too few ``class_names``.
    """
    check_weights(weights)
    labels = np.asarray(labels)
    n = labels.size
    if weights == "l1" and lengths is None:
        raise LatentGraphError("weights 'l1' needs edge lengths")
    sums = class_path_sums(n, src, dst, lengths, labels, weighted=weights == "l1", batch_size=batch_size,
                           n_jobs=n_jobs, backend=backend, progress=progress)
    return distances_from_sums(sums, labels, weights=weights, n_edges=int(np.asarray(src).size),
                               class_names=class_names, prediction=prediction, metadata=metadata)


def distances_from_sums(sums: ClassPathSums, labels: np.ndarray, *, weights: str, n_edges: int,
                        class_names: list[str] | None = None, prediction: np.ndarray | None = None,
                        metadata: dict[str, Any] | None = None) -> ClassDistances:
    """The class distance matrix (eq. 4.2) from the class fold's sums: the second half of :func:`class_distances`.

    Parameters
    ----------
    sums : ClassPathSums
        The fold of the sample graph (one job, or the shards added by
        :func:`latentgraph.graphs.shortest_paths.add_class_path_sums`).
    labels : numpy.ndarray
        (N,) class label of every sample.
    weights : {"l1", "hops"}
        The path length the sums measure (recorded).
    n_edges : int
        Edges of the sample graph (recorded).
    class_names, prediction, metadata
        As in :func:`class_distances`.

    Returns
    -------
    ClassDistances
        The matrix.
    """
    labels = np.asarray(labels)
    n = labels.size
    pairs_sym = sums.pairs + sums.pairs.T
    with np.errstate(invalid="ignore", divide="ignore"):
        # d(s, t) = d(t, s): both orders are summed; averaging the two sums removes rounding asymmetry
        mean = np.where(pairs_sym > 0, (sums.sums + sums.sums.T) / np.maximum(pairs_sym, 1), np.nan)
    names = _class_names(sums.classes, class_names)
    acc = np.full(sums.classes.size, np.nan)
    if prediction is not None:
        prediction = np.asarray(prediction)
        pos = np.searchsorted(sums.classes, labels)
        correct = np.bincount(pos, weights=(prediction == labels).astype(np.float64), minlength=sums.classes.size)
        acc = correct / sums.sizes
    meta = dict(metadata or {})
    meta.update({
        "weights": weights,
        "n_samples": int(n),
        "n_edges": int(n_edges),
        "n_components": sums.n_components,
        "backend": sums.backend,
    })
    cd = ClassDistances(mean=mean, pairs=sums.pairs, total=sums.total, classes=sums.classes, names=names,
                        sizes=sums.sizes, accuracy=acc, metadata=meta)
    _warn_undefined(cd)
    return cd


def _warn_undefined(cd: ClassDistances) -> None:
    single = np.flatnonzero(cd.sizes < 2)
    if single.size:
        listed = ", ".join(f"{cd.names[i]!r}" for i in single[:5])
        warnings.warn(f"{single.size} class(es) have a single sample ({listed}{', ...' if single.size > 5 else ''}): "
                      "their within-class distance is undefined (NaN)", ClassGraphWarning, stacklevel=3)
    unreach = int((cd.total - cd.pairs).sum())
    if unreach:
        frac = unreach / max(int(cd.total.sum()), 1)
        log.warning("the sample graph has %d connected components: %.2f%% of the ordered sample pairs are "
                    "unreachable and left out of the class means (see unreachable_fraction)",
                    cd.metadata.get("n_components", 0), 100 * frac)


def class_distances_from_latents(
    lat: Latents,
    k: int = 4,
    *,
    weights: str = "l1",
    metric: str = "l1",
    class_names: list[str] | None = None,
    knn_backend: str = "auto",
    threads: int | None = None,
    batch_size: int = 256,
    n_jobs: int | None = 1,
    backend: str = "auto",
    progress: bool = False,
    sources_per_class: int | None = None,
    seed: int = 0,
) -> ClassDistances:
    """Build the undirected kNN graph of ``lat`` at ``k`` and return its class distances.

    Parameters
    ----------
    lat : Latents
        The latents, with labels (and predictions, for the per-class accuracy).
    k : int, optional
        Neighbours per sample of the kNN graph (the thesis's 4).
    weights : {"l1", "hops"}, optional
        Path length: sum of the kNN distances, or number of edges.
    metric : str, optional
        Distance of the kNN search, ``"l1"`` or ``"l2"``.
    class_names : list of str, optional
        Class names indexed by label value; None: the latents' ``class_names`` metadata.
    knn_backend : str, optional
        Backend of the kNN search (see :func:`latentgraph.graphs.knn.knn`).
    threads : int, optional
        CPU threads of the kNN search.
    batch_size, n_jobs, backend, progress
        Of the shortest-path search, as in :func:`class_distances`.
    sources_per_class : int, optional
        None (default): every sample is a source (:func:`class_distances`, exact); m: m
        seeded sources per class (:func:`sampled_class_distances`, with standard errors).
    seed : int, optional
        Seed of the sampled sources (``classgraph.seed``).

    Returns
    -------
    ClassDistances
        The matrix; its metadata records k, the metric, the k-occurrence skewness of the
        sample graph (hubness), the source file and the latents' dataset, run, epoch, etc.
    """
    from ..graphs.knn import edges, knn

    check_k(k, lat.n)
    names = class_names if class_names is not None else lat.metadata.get("class_names")
    if sources_per_class is not None:  # before the search: a bad m fails at once
        check_sources_per_class(lat.labels, sources_per_class, names)
    idx, dist = knn(lat.X, k, metric=metric, backend=knn_backend, threads=threads)
    src, dst, w = edges(idx, k=k, distances=dist)
    meta = sample_graph_metadata(idx, k, metric, lat)
    if sources_per_class is not None:
        return sampled_class_distances(lat.labels, src, dst, w, sources_per_class, seed=seed, weights=weights,
                                       class_names=names, prediction=lat.prediction, batch_size=batch_size,
                                       n_jobs=n_jobs, backend=backend, progress=progress, metadata=meta)
    return class_distances(lat.labels, src, dst, w, weights=weights, class_names=names, prediction=lat.prediction,
                           batch_size=batch_size, n_jobs=n_jobs, backend=backend, progress=progress, metadata=meta)


def sample_graph_metadata(indices: np.ndarray, k: int, metric: str, lat: Latents) -> dict[str, Any]:
    """What a class distance file records about its sample kNN graph and latents.

    Parameters
    ----------
    indices : numpy.ndarray
        (N, k) neighbour table of the sample graph.
    k : int
        Its k.
    metric : str
        The kNN distance.
    lat : Latents
        The latents (their provenance is copied).

    Returns
    -------
    dict
        ``k``, ``metric``, the k-occurrence skewness (hubness), the latents file and their
        dataset, split, run, seed, epoch, accuracy, architecture and weights file.
    """
    from ..graphs.network_stats import k_occurrence_skewness

    meta = {
        "k": int(k),
        "metric": metric,
        "sample_k_occurrence_skewness": k_occurrence_skewness(indices),
        "latents": lat.metadata.get("source"),
    }
    for key in ("dataset", "split", "run", "seed", "epoch", "test_accuracy", "arch", "weights_file"):
        if lat.metadata.get(key) is not None:
            meta[key] = lat.metadata[key]
    return meta


# --------------------------------------------------------------------------- sampled sources

#: Nominal coverage of the intervals of :func:`sampled_class_distances`.
CONFIDENCE = 0.95


def check_sources_per_class(labels: np.ndarray, m: Any, class_names: list[str] | None = None) -> int:
    """Validate ``classgraph.sources_per_class`` against the classes of ``labels``.

    Parameters
    ----------
    labels : numpy.ndarray
        (N,) class labels.
    m : int
        Sources per class.
    class_names : list of str, optional
        Class names indexed by label value, for the message.

    Returns
    -------
    int
        ``m``.

    Raises
    ------
    LatentGraphError
        When m is not an integer >= 2 or a class has fewer than m samples (naming the class and its size).
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or int(m) < 2:
        raise LatentGraphError(f"classgraph.sources_per_class must be an integer >= 2 (or null = all), got {m!r}")
    classes, sizes = np.unique(np.asarray(labels), return_counts=True)
    small = np.flatnonzero(sizes < int(m))
    if small.size:
        i = int(small[np.argmin(sizes[small])])
        label = int(classes[i])
        name = class_names[label] if class_names is not None and label < len(class_names) else str(label)
        raise LatentGraphError(
            f"classgraph.sources_per_class = {int(m)} is larger than class {name!r} (label {label}), which has "
            f"{int(sizes[i])} samples ({small.size} class(es) have fewer than {int(m)}); use at most "
            f"{int(sizes.min())}, or null for all sources"
        )
    return int(m)


def sample_sources(labels: np.ndarray, m: int, seed: int = 0) -> np.ndarray:
    """m seeded random sources of every class (without replacement).

    Each class's draw depends only on the seed, its label and its members, so adding a class
    never changes another's sources.

    Parameters
    ----------
    labels : numpy.ndarray
        (N,) class labels.
    m : int
        Sources per class (each class must have at least m samples).
    seed : int, optional
        The seed (``classgraph.seed``).

    Returns
    -------
    numpy.ndarray
        int64 vertex positions, class by class (ascending label), ascending within a class.
    """
    from ..utils import stable_seed

    labels = np.asarray(labels)
    out = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rng = np.random.default_rng(stable_seed(int(seed), "classgraph-sources", int(c)))
        out.append(np.sort(rng.choice(members, int(m), replace=False)))
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)


def _interval(num: np.ndarray, den: np.ndarray, rows: Any, C: int, sizes: np.ndarray,
              m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ratio estimates, standard errors and 95 % half-widths of the class-pair means.

    ``rows`` holds, per class a, the (m_a, C) sums and reachable counts of its sampled
    sources. mean[a, b] = (Y_ab + Y_ba) / (X_ab + X_ba) with Y_ab = (n_a / m_a) sum of the
    sampled sources' sums to class b (X: the counts). The variance is the linearised
    (ratio-estimator) variance of a stratified sample without replacement: strata = the
    source classes a and b, residuals e_s = y_s - mean x_s, factor n_h^2 (1 - m_h / n_h) / m_h.
    """
    from scipy import stats

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    var = np.zeros((C, C))
    var_sq_df = np.zeros((C, C))  # sum of v_h^2 / (m_h - 1), for the Satterthwaite df
    for a in range(C):
        y, x = rows[a]  # (m_a, C) each
        f = 1.0 - m[a] / sizes[a]
        # source class a contributes to mean[a, :] (targets b) and, by symmetry, to mean[:, a]
        e = y - np.where(np.isfinite(mean[a]), mean[a], 0.0)[None, :] * x
        v = sizes[a] ** 2 * f * e.var(axis=0, ddof=1) / m[a]  # (C,): stratum a's part of pair (a, b)
        v[a] *= 4.0  # the diagonal's numerator counts its one stratum twice (Y_aa + Y_aa)
        var[a] += v
        var_sq_df[a] += v**2 / (m[a] - 1)
        off = np.arange(C) != a
        var[off, a] += v[off]  # pair (b, a) = pair (a, b): the same stratum term
        var_sq_df[off, a] += (v**2 / (m[a] - 1))[off]
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(den > 0, np.sqrt(var) / np.where(den > 0, den, 1.0), np.nan)
        df = np.where(var_sq_df > 0, var**2 / np.where(var_sq_df > 0, var_sq_df, 1.0), np.inf)
    q = stats.t.ppf(0.5 + CONFIDENCE / 2, np.where(np.isfinite(df), df, 1e12))
    return mean, se, q * se, df


def sampled_class_distances(
    labels: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    lengths: np.ndarray | None,
    sources_per_class: int,
    *,
    seed: int = 0,
    weights: str = "l1",
    class_names: list[str] | None = None,
    prediction: np.ndarray | None = None,
    batch_size: int = 256,
    n_jobs: int | None = 1,
    backend: str = "auto",
    progress: bool = False,
    metadata: dict[str, Any] | None = None,
) -> ClassDistances:
    """The class distance matrix estimated from ``sources_per_class`` seeded sources per class, with error bars.

    Every sampled source s of class a gives, by one shortest-path search, the sum y_sb of
    its distances to the reachable samples of each class b and their number x_sb. Scaled to
    the class (n_a / m), these estimate the sums and pair counts of eq. 4.2 in the direction
    a -> b; as d(s, t) = d(t, s), both directions are used:
    mean[a, b] = (Y_ab + Y_ba) / (X_ab + X_ba). With m = the class sizes this is
    :func:`class_distances`'s matrix (up to rounding). The standard error is that of a ratio
    estimator from a stratified sample without replacement (strata: the source classes,
    finite-population correction 1 - m / n_a), and the 95 % interval uses Student's t with
    Welch-Satterthwaite degrees of freedom.

    Parameters
    ----------
    labels : numpy.ndarray
        (N,) class label of every sample.
    src, dst : numpy.ndarray
        Endpoints of the undirected edges.
    lengths : numpy.ndarray or None
        Edge lengths; needed for ``weights="l1"``.
    sources_per_class : int
        m, sources per class (2 <= m <= the smallest class).
    seed : int, optional
        Seed of the sources (:func:`sample_sources`).
    weights : {"l1", "hops"}, optional
        Path length, as in :func:`class_distances`.
    class_names : list of str, optional
        Class names indexed by label value.
    prediction : numpy.ndarray, optional
        (N,) predicted classes, for the per-class accuracy.
    batch_size, n_jobs, backend, progress
        As in :func:`latentgraph.graphs.shortest_paths.source_class_rows`.
    metadata : dict, optional
        Entries added to the result's metadata.

    Returns
    -------
    ClassDistances
        ``mean`` the estimates, ``se``, ``ci_low``, ``ci_high`` their errors; ``pairs`` and
        ``total`` are exact (from the connected components). Its metadata records
        ``sources_per_class``, ``sources_seed`` and how the intervals are made.

    Raises
    ------
    LatentGraphError
        For a bad ``sources_per_class`` (naming the class too small for it), unknown
        ``weights`` or ``"l1"`` without lengths.
    """
    from ..graphs.shortest_paths import source_class_rows

    check_weights(weights)
    labels = np.asarray(labels)
    n = labels.size
    if weights == "l1" and lengths is None:
        raise LatentGraphError("weights 'l1' needs edge lengths")
    m = check_sources_per_class(labels, sources_per_class, class_names)
    sources = sample_sources(labels, m, seed)
    rows = source_class_rows(n, src, dst, lengths, labels, sources, weighted=weights == "l1",
                             batch_size=batch_size, n_jobs=n_jobs, backend=backend, progress=progress)
    return sampled_from_rows(rows, labels, src, dst, m, seed=seed, weights=weights, class_names=class_names,
                             prediction=prediction, metadata=metadata)


def sampled_from_rows(rows: SourceClassRows, labels: np.ndarray, src: np.ndarray, dst: np.ndarray, m: int, *,
                      seed: int, weights: str, class_names: list[str] | None = None,
                      prediction: np.ndarray | None = None,
                      metadata: dict[str, Any] | None = None) -> ClassDistances:
    """The sampled class distances from the sampled sources' rows: the second half of :func:`sampled_class_distances`.

    Parameters
    ----------
    rows : SourceClassRows
        The rows of the sources of :func:`sample_sources` (one job, or the shards' rows
        concatenated in shard order).
    labels : numpy.ndarray
        (N,) class label of every sample.
    src, dst : numpy.ndarray
        Endpoints of the sample graph's edges (for the exact pair counts).
    m : int
        Sources per class.
    seed, weights, class_names, prediction, metadata
        As in :func:`sampled_class_distances`.

    Returns
    -------
    ClassDistances
        The estimates with their standard errors and intervals.
    """
    from scipy.sparse import csgraph

    from ..graphs.shortest_paths import to_csr

    labels = np.asarray(labels)
    n = labels.size
    sources = rows.sources
    C = rows.classes.size
    sizes = rows.sizes.astype(np.float64)
    m_c = np.full(C, float(m))
    per_class = []
    Y = np.zeros((C, C))
    X = np.zeros((C, C))
    for a in range(C):
        sel = rows.source_class == a
        y, x = rows.sums[sel], rows.reach[sel].astype(np.float64)
        per_class.append((y, x))
        Y[a] = sizes[a] / m * y.sum(axis=0)
        X[a] = sizes[a] / m * x.sum(axis=0)
    mean, se, half, df = _interval(Y + Y.T, X + X.T, per_class, C, sizes, m_c)
    # exact pair counts, as class_distances reports them
    pos = np.searchsorted(rows.classes, labels)
    A = to_csr(n, np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64), None)
    _, comp = csgraph.connected_components(A, directed=False)
    M = np.zeros((int(comp.max()) + 1 if n else 0, C), dtype=np.int64)
    np.add.at(M, (comp, pos), 1)
    pairs = (M.T @ M).astype(np.int64)
    pairs[np.diag_indices(C)] -= rows.sizes
    total = np.outer(rows.sizes, rows.sizes).astype(np.int64)
    total[np.diag_indices(C)] -= rows.sizes
    names = _class_names(rows.classes, class_names)
    acc = np.full(C, np.nan)
    if prediction is not None:
        prediction = np.asarray(prediction)
        correct = np.bincount(pos, weights=(prediction == labels).astype(np.float64), minlength=C)
        acc = correct / rows.sizes
    meta = dict(metadata or {})
    meta.update({
        "weights": weights,
        "n_samples": int(n),
        "n_edges": int(np.asarray(src).size),
        "n_components": rows.n_components,
        "backend": rows.backend,
        "sources_per_class": int(m),
        "sources_seed": int(seed),
        "n_sources": int(sources.size),
        "interval": f"{int(100 * CONFIDENCE)}% Student-t (Welch-Satterthwaite df) around a stratified ratio "
                    "estimator; standard errors with finite-population correction 1 - m/n per source class",
    })
    cd = ClassDistances(mean=mean, pairs=pairs, total=total, classes=rows.classes, names=names, sizes=rows.sizes,
                        accuracy=acc, metadata=meta, se=se, ci_low=mean - half, ci_high=mean + half)
    _warn_undefined(cd)
    return cd


# --------------------------------------------------------------------------- files


@contextlib.contextmanager
def staged_paths(
    paths: Mapping[str, str | os.PathLike], remove: Iterable[str | os.PathLike] = ()
) -> Iterator[dict[str, Path]]:
    """Temporary paths for a set of result files, moved into place together on success.

    The temporary files sit in a hidden staging folder inside each final folder (beside it
    when the folder does not exist yet), so the final renames stay on one file system. On
    success every file is renamed to its final path, the files ``remove`` (stale members of
    the set, e.g. figures not made this time) are deleted, and the staging folders go; on
    a failure the staging folders go and the final paths are left as they were.

    Parameters
    ----------
    paths : mapping of str to path
        Key -> final path; final paths must be distinct.
    remove : iterable of path
        Files deleted (if present) once the new files are in place.

    Yields
    ------
    dict of str to Path
        Key -> the temporary path to write.
    """
    finals = {key: Path(path) for key, path in paths.items()}
    if len(set(finals.values())) != len(finals):
        raise LatentGraphError("result files of one set must have distinct paths")
    staging: dict[Path, Path] = {}
    created: list[Path] = []  # folders made here for the staging folders, deepest first
    done = False
    try:
        for folder in dict.fromkeys(path.parent for path in finals.values()):
            home = folder if folder.is_dir() else folder.parent
            created += [d for d in (home, *home.parents) if not d.exists()]
            home.mkdir(parents=True, exist_ok=True)
            staging[folder] = Path(tempfile.mkdtemp(prefix=f".{folder.name or 'out'}.", suffix=".tmp", dir=home))
        temps = {key: staging[path.parent] / path.name for key, path in finals.items()}
        yield temps
        for folder in staging:
            folder.mkdir(parents=True, exist_ok=True)
        for key, path in finals.items():
            os.replace(temps[key], path)
        for path in remove:
            if Path(path) not in finals.values():
                with contextlib.suppress(FileNotFoundError):
                    Path(path).unlink()
        done = True
    finally:
        for tmp in staging.values():
            shutil.rmtree(tmp, ignore_errors=True)
        if not done:
            for d in sorted(set(created), key=lambda d: len(d.parts), reverse=True):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only if empty


def write_class_distances(path: str | os.PathLike, cd: ClassDistances) -> Path:
    """Write the matrix as Parquet, one row per ordered class pair (atomically).

    Columns: ``class_a``, ``class_b`` (label values), ``mean_distance`` (NaN: no reachable
    pair), ``pairs`` (reachable ordered pairs), ``total_pairs``, ``unreachable_fraction``;
    with sampled sources also ``se``, ``ci_low`` and ``ci_high`` (95 % interval).
    The metadata key ``latentgraph`` holds the per-class table (label, name, n_samples,
    accuracy) and how the matrix was made.

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file written.
    cd : ClassDistances
        The matrix.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    C = cd.n_classes
    a = np.repeat(cd.classes, C)
    b = np.tile(cd.classes, C)
    table = pa.table({
        "class_a": pa.array(a, type=pa.int64()),
        "class_b": pa.array(b, type=pa.int64()),
        "mean_distance": pa.array(cd.mean.reshape(-1), type=pa.float64()),
        "pairs": pa.array(cd.pairs.reshape(-1), type=pa.int64()),
        "total_pairs": pa.array(cd.total.reshape(-1), type=pa.int64()),
        "unreachable_fraction": pa.array(cd.unreachable_fraction.reshape(-1), type=pa.float64()),
    })
    if cd.se is not None:  # sampled sources: the error bars beside the means
        for name, arr in (("se", cd.se), ("ci_low", cd.ci_low), ("ci_high", cd.ci_high)):
            table = table.append_column(name, pa.array(np.asarray(arr, dtype=np.float64).reshape(-1),
                                                        type=pa.float64()))
    meta = dict(cd.metadata)
    meta["classes"] = [
        {"label": int(c), "name": nm, "n_samples": int(s), "accuracy": None if math.isnan(acc) else float(acc)}
        for c, nm, s, acc in zip(cd.classes, cd.names, cd.sizes, cd.accuracy, strict=True)
    ]
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True)})
    with atomic_path(path) as tmp:
        write_parquet(table, tmp)
    return Path(path)


def read_class_distances(path: str | os.PathLike) -> ClassDistances:
    """Read a file written by :func:`write_class_distances`.

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file.

    Returns
    -------
    ClassDistances
        The matrix; its metadata's ``source`` is ``path``.

    Raises
    ------
    LatentGraphError
        When the file is missing, unreadable or not a class distance file.
    """
    p = Path(path)
    table, meta = read_table(p, "class distance", ["class_a", "class_b", "mean_distance", "pairs", "total_pairs"])
    if "classes" not in meta:
        raise LatentGraphError(f"{p}: not a class distance file (its metadata lists no classes)")
    info = meta.pop("classes")
    classes = np.array([c["label"] for c in info], dtype=np.int64)
    C = classes.size
    if table.num_rows != C * C:
        raise LatentGraphError(f"{p}: expected {C * C} rows for {C} classes, found {table.num_rows}")
    a = table.column("class_a").to_numpy()
    b = table.column("class_b").to_numpy()
    if not (np.array_equal(a, np.repeat(classes, C)) and np.array_equal(b, np.tile(classes, C))):
        raise LatentGraphError(f"{p}: rows are not the ordered class pairs of its metadata")
    extra = {}
    if "se" in table.column_names:
        extra = {key: table.column(key).to_numpy().reshape(C, C).copy() for key in ("se", "ci_low", "ci_high")}
    return ClassDistances(
        **extra,
        mean=table.column("mean_distance").to_numpy().reshape(C, C).copy(),
        pairs=table.column("pairs").to_numpy().reshape(C, C).astype(np.int64),
        total=table.column("total_pairs").to_numpy().reshape(C, C).astype(np.int64),
        classes=classes,
        names=[str(c["name"]) for c in info],
        sizes=np.array([c["n_samples"] for c in info], dtype=np.int64),
        accuracy=np.array([np.nan if c["accuracy"] is None else c["accuracy"] for c in info], dtype=np.float64),
        metadata=meta,
    )


# --------------------------------------------------------------------------- class graph


def class_neighbors(mean: np.ndarray, class_k: int) -> np.ndarray:
    """The ``class_k`` nearest other classes of each class, by (mean distance, index).

    Parameters
    ----------
    mean : numpy.ndarray
        (C, C) mean class distances (NaN: no reachable pair).
    class_k : int
        Neighbours per class, 1 <= class_k < C.

    Returns
    -------
    numpy.ndarray
        (C, class_k) indices of the neighbours, nearest first. Classes with no reachable
        pair (NaN) are never neighbours; a row with fewer candidates is padded with -1
        (with a :class:`ClassGraphWarning`).
    """
    mean = np.asarray(mean, dtype=np.float64)
    C = mean.shape[0]
    check_k(class_k, C, "class_k", of="classes")
    M = np.where(np.isnan(mean), np.inf, mean)
    np.fill_diagonal(M, np.inf)
    order = np.argsort(M, axis=1, kind="stable")[:, :class_k]  # stable: ties go to the lower index
    nb = np.where(np.isfinite(np.take_along_axis(M, order, axis=1)), order, -1)
    short = int((nb < 0).any(axis=1).sum())
    if short:
        warnings.warn(f"{short} class(es) reach fewer than class_k={class_k} other classes (the sample graph is "
                      "disconnected); they get fewer class-graph neighbours", ClassGraphWarning, stacklevel=2)
    return nb


def ambiguous_edges(cd: ClassDistances, class_k: int) -> dict[str, Any]:
    """How many edges of the class kNN graph the error bars of a sampled matrix leave in doubt.

    Class i *selects* its ``class_k`` nearest classes. A selection i -> j is ambiguous when
    the 95 % interval of mean[i, j] overlaps that of i's nearest non-selected class (its
    (class_k + 1)-th candidate): ``ci_high[i, j] >= ci_low[i, c]``, so another draw of the
    sources could swap them. An undirected edge is ambiguous when every selection that made
    it is ambiguous (it could disappear).

    Parameters
    ----------
    cd : ClassDistances
        A matrix with intervals (from :func:`sampled_class_distances`).
    class_k : int
        Neighbours per class.

    Returns
    -------
    dict
        ``ambiguous_edges``, ``edges``, ``ambiguous_selections``, ``selections`` and
        ``definition``.

    Raises
    ------
    LatentGraphError
        When ``cd`` has no intervals.
    """
    if cd.ci_low is None or cd.ci_high is None:
        raise LatentGraphError("ambiguous_edges needs a class distance matrix with intervals (sampled sources)")
    C = cd.n_classes
    check_k(class_k, C, "class_k", of="classes")
    M = np.where(np.isnan(cd.mean), np.inf, cd.mean)
    np.fill_diagonal(M, np.inf)
    order = np.argsort(M, axis=1, kind="stable")  # as class_neighbors
    chosen: dict[tuple[int, int], list[bool]] = {}
    n_sel = n_amb = 0
    for i in range(C):
        nxt = int(order[i, class_k]) if class_k < C - 1 and np.isfinite(M[i, order[i, class_k]]) else -1
        for j in order[i, :class_k]:
            j = int(j)
            if not np.isfinite(M[i, j]):
                continue
            amb = nxt >= 0 and bool(cd.ci_high[i, j] >= cd.ci_low[i, nxt])
            n_sel += 1
            n_amb += amb
            chosen.setdefault((min(i, j), max(i, j)), []).append(amb)
    return {
        "ambiguous_edges": int(sum(all(v) for v in chosen.values())),
        "edges": len(chosen),
        "ambiguous_selections": int(n_amb),
        "selections": int(n_sel),
        "definition": "selection i->j ambiguous when ci_high[i,j] >= ci_low[i,c], c = i's (class_k+1)-th nearest "
                      "class; an edge is ambiguous when all its selections are",
    }


def class_knn_graph(cd: ClassDistances, class_k: int = 4) -> Any:
    """The undirected class kNN graph as an igraph ``Graph``.

    Parameters
    ----------
    cd : ClassDistances
        The class distance matrix.
    class_k : int, optional
        Each class is linked to its ``class_k`` nearest classes (undirected union).

    Returns
    -------
    igraph.Graph
        The graph, with ``class_k`` as a graph attribute. Vertex attributes: ``class_index`` (the label value), ``class_name``, ``n_samples``, ``class_accuracy``,
    ``within_class_distance``, ``k_occurrence`` (how many classes list this one among their
    ``class_k`` nearest) and ``degree``. Edge attributes: ``distance`` (mean shortest-path
    distance) and ``similarity`` (smallest edge distance / distance).

    Raises
    ------
    LatentGraphError
        When an edge's mean distance is not > 0.
    """
    import igraph as ig

    nb = class_neighbors(cd.mean, class_k)
    C = cd.n_classes
    i = np.repeat(np.arange(C), nb.shape[1])
    j = nb.reshape(-1)
    keep = j >= 0
    i, j = i[keep], j[keep]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = np.unique(lo * C + hi)
    lo, hi = key // C, key % C
    dist = cd.mean[lo, hi]
    if dist.size and not np.all(dist > 0):
        bad = int(np.flatnonzero(~(dist > 0))[0])
        raise LatentGraphError(
            f"classes {cd.names[lo[bad]]!r} and {cd.names[hi[bad]]!r} have mean distance {dist[bad]}: "
            "edge distances must be > 0 to define a similarity"
        )
    sim = dist.min() / dist if dist.size else dist
    g = ig.Graph(n=C, edges=np.column_stack([lo, hi]).tolist(), directed=False)
    g.vs["class_index"] = [int(c) for c in cd.classes]
    g.vs["class_name"] = list(cd.names)
    g.vs["n_samples"] = [int(s) for s in cd.sizes]
    g.vs["class_accuracy"] = [float(a) for a in cd.accuracy]
    g.vs["within_class_distance"] = [float(x) for x in cd.within]
    g.vs["k_occurrence"] = np.bincount(nb[nb >= 0], minlength=C).astype(int).tolist()
    g.vs["degree"] = g.degree()
    g.es["distance"] = dist.tolist()
    g.es["similarity"] = sim.tolist()
    g["class_k"] = int(class_k)
    return g


# --------------------------------------------------------------------------- outputs

#: The files a class graph is written to (names inside its output folder), by role: taken from
#: :data:`latentgraph.utils.CLASSGRAPH_FILES`, the one list, which the workflow reads too.
OUTPUTS = {k: CLASSGRAPH_FILES[k] for k in ("nodes", "edges", "graphml", "gexf", "stats", "summary", "degrees")}
#: The figures made from them.
FIGURES = {k: v for k, v in CLASSGRAPH_FILES.items() if k.endswith(("_png", "_svg"))}
#: The class distance matrix.
DISTANCES_FILE = CLASSGRAPH_FILES["distances"]


def analyse_class_graph(
    cd: ClassDistances,
    class_k: int = 4,
    *,
    seed: int = 0,
    n_hubs: int = 10,
    resolution: float = 1.0,
) -> tuple[Any, dict[str, Any]]:
    """The class kNN graph with communities and layout attached, and its summary.

    Parameters
    ----------
    cd : ClassDistances
        The class distance matrix.
    class_k : int, optional
        Neighbours per class (:func:`class_knn_graph`).
    seed : int, optional
        Seed of the community detection and the layout.
    n_hubs : int, optional
        Number of hubs (highest-degree classes) listed in the summary.
    resolution : float, optional
        Resolution of the community detection.

    Returns
    -------
    g : igraph.Graph
        :func:`class_knn_graph`'s graph plus the vertex attributes ``louvain`` and ``leiden``
        (community ids, 0 = largest; similarity-weighted, seeded) and ``x``, ``y`` (the
        seeded layout).
    summary : dict
        :func:`latentgraph.graphs.network_stats.graph_summary`'s measures, hubs, degree
        distribution and communities plus how the class and sample graphs were made.
    """
    from ..graphs.export import layout
    from ..graphs.network_stats import graph_summary

    g = class_knn_graph(cd, class_k)
    summary = graph_summary(g, distance="distance", community_weights="similarity", n_hubs=n_hubs, seed=seed,
                        resolution=resolution)
    for method, membership in summary.pop("_memberships").items():
        g.vs[method] = membership.astype(int).tolist()
    pos = layout(g, seed=seed, weights="similarity")
    g.vs["x"] = pos[:, 0].tolist()
    g.vs["y"] = pos[:, 1].tolist()
    unreach = cd.total - cd.pairs
    summary["class_graph"] = {"class_k": int(class_k), "seed": int(seed), "resolution": float(resolution),
                              "similarity": "min(edge distance) / edge distance"}
    if cd.ci_low is not None:  # sampled sources: how many edges the error bars leave in doubt
        summary["class_graph"]["ambiguity"] = ambiguous_edges(cd, class_k)
    summary["sample_graph"] = {
        **{k: v for k, v in cd.metadata.items() if k not in ("source",)},
        "classes": cd.n_classes,
        "unreachable_pair_fraction": float(unreach.sum() / max(int(cd.total.sum()), 1)),
        "single_sample_classes": [cd.names[i] for i in np.flatnonzero(cd.sizes < 2)],
    }
    return g, summary


def summary_markdown(summary: dict[str, Any], title: str = "Class graph") -> str:
    """The summary as Markdown: how it was made, Table 5.6-style measures, hubs, communities.

    Parameters
    ----------
    summary : dict
        The summary of :func:`analyse_class_graph`.
    title : str, optional
        The level-1 heading.

    Returns
    -------
    str
        The Markdown text, ending in a newline.
    """
    from ..graphs.network_stats import measures_markdown

    sg = summary["sample_graph"]
    m = summary["measures"]
    lines = [f"# {title}", ""]
    src = sg.get("latents") or "?"
    lines.append(f"Sample graph: {sg.get('n_samples')} samples of {sg['classes']} classes from `{src}`, "
                 f"undirected k={sg.get('k')} ({sg.get('metric')}), path lengths by "
                 f"{'L1 edge length' if sg.get('weights') == 'l1' else 'hops'}; {sg.get('n_components')} connected "
                 f"component(s), {100 * sg['unreachable_pair_fraction']:.3f}% of the ordered pairs unreachable.")
    lines.append(f"Class graph: undirected class kNN with class_k={summary['class_graph']['class_k']}; "
                 f"{m['vertices']} vertices, {m['edges']} edges.")
    if "ambiguity" in summary["class_graph"]:
        amb = summary["class_graph"]["ambiguity"]
        lines.append(f"Distances estimated from {sg.get('sources_per_class')} sampled sources per class "
                     f"(seed {sg.get('sources_seed')}); {amb['ambiguous_edges']} of {amb['edges']} edges are "
                     f"ambiguous within the 95% intervals ({amb['ambiguous_selections']} of {amb['selections']} "
                     "selections).")
    lines += ["", measures_markdown(summary)]
    extra = [("transitivity (global)", f"{m['transitivity']:.4f}"), ("degree skewness", f"{m['degree_skewness']:.3f}")]
    if "k_occurrence_skewness" in m:
        extra.append(("k-occurrence skewness (class graph)", f"{m['k_occurrence_skewness']:.3f}"))
    if sg.get("sample_k_occurrence_skewness") is not None:
        extra.append(("k-occurrence skewness (sample graph)", f"{sg['sample_k_occurrence_skewness']:.3f}"))
    if "weighted_diameter" in m:
        extra.append(("weighted diameter (mean distance)", f"{m['weighted_diameter']:.4g}"))
        extra.append(("weighted average path length", f"{m['weighted_average_path_length']:.4g}"))
    lines += ["| more | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in extra] + [""]
    lines += ["## Hubs", "", "| rank | class | degree | k-occurrence |", "|---|---|---|---|"]
    for h in summary["hubs"]:
        lines.append(f"| {h['rank']} | {h['name']} | {h['degree']} | {h.get('k_occurrence', '')} |")
    comms = summary["communities"]
    for method in ("louvain", "leiden"):
        c = comms[method]
        lines += ["", f"## {method.capitalize()} communities", "",
                  f"{c['count']} communities, modularity {c['modularity']:.4f} (seed {c['seed']}, weights: "
                  f"{comms['weights']}).", ""]
        for i, members in enumerate(c["members"]):
            lines.append(f"- **{i}** ({len(members)}): " + "; ".join(members))
    if "louvain_seed_sweep" in comms:
        sw = comms["louvain_seed_sweep"]
        lines += ["", f"Louvain community counts for seeds {sw['seeds'][0]}..{sw['seeds'][-1]}: {sw['counts']}"]
    return "\n".join(lines) + "\n"


def write_class_graph(
    cd: ClassDistances,
    paths: dict[str, str | os.PathLike],
    class_k: int = 4,
    *,
    seed: int = 0,
    n_hubs: int = 10,
    resolution: float = 1.0,
    title: str = "Class graph",
) -> dict[str, Any]:
    """Build the class graph of ``cd`` and write every file of :data:`OUTPUTS` to ``paths``.

    The files are written as one set (:func:`staged_paths`): on any failure (e.g. a bad
    ``class_k``) none of them is written or changed.

    Parameters
    ----------
    cd : ClassDistances
        The class distance matrix.
    paths : dict
        The keys of :data:`OUTPUTS` -> file paths.
    class_k, seed, n_hubs, resolution
        As in :func:`analyse_class_graph`.
    title : str, optional
        Title of the summary and of the GEXF description.

    Returns
    -------
    dict
        The summary of :func:`analyse_class_graph`.

    Raises
    ------
    LatentGraphError
        When ``paths`` lacks a key of :data:`OUTPUTS`.
    """
    from ..graphs.export import edge_table, node_table, write_csv, write_gexf, write_graphml
    from ..graphs.network_stats import degree_distribution, to_json
    from ..utils import write_json_atomic, write_text_atomic

    missing = [k for k in OUTPUTS if k not in paths]
    if missing:
        raise LatentGraphError(f"no output path for {missing}")
    g, summary = analyse_class_graph(cd, class_k, seed=seed, n_hubs=n_hubs, resolution=resolution)
    nodes = node_table(g)
    with staged_paths({key: paths[key] for key in OUTPUTS}) as tmp:
        write_csv(nodes, tmp["nodes"])
        write_csv(edge_table(g), tmp["edges"])
        write_graphml(g, tmp["graphml"])
        pos = nodes[["x", "y"]].to_numpy()
        write_gexf(g, tmp["gexf"], positions=pos, color_by="louvain", size_by="degree",
                   description=f"{title}: class kNN graph (class_k={class_k}); colour = Louvain community, "
                               "size = degree, edge weight = similarity")
        write_csv(degree_distribution(g), tmp["degrees"])
        write_json_atomic(tmp["stats"], to_json(summary))
        write_text_atomic(tmp["summary"], summary_markdown(summary, title))
    return summary


def plot_class_graph_files(nodes_csv: str | os.PathLike, edges_csv: str | os.PathLike,
                           degrees_csv: str | os.PathLike, paths: dict[str, str | os.PathLike],
                           title: str = "Class graph", n_labels: int = 10) -> None:
    """The figures of :data:`FIGURES` from the written node, edge and degree tables.

    The figures are written as one set (:func:`staged_paths`): all of them or none.

    Parameters
    ----------
    nodes_csv, edges_csv, degrees_csv : str or os.PathLike
        The ``nodes``, ``edges`` and ``degrees`` files of :func:`write_class_graph`.
    paths : dict
        The keys of :data:`FIGURES` -> figure paths.
    title : str, optional
        Start of the figure titles.
    n_labels : int, optional
        Number of highest-degree classes labelled by name in the graph figures.
    """
    import pandas as pd

    from ..plotting import plot_class_graph, plot_degree_distribution

    nodes = pd.read_csv(nodes_csv)
    edges = pd.read_csv(edges_csv)
    degrees = pd.read_csv(degrees_csv)
    with staged_paths({key: paths[key] for key in FIGURES}) as tmp:
        plot_class_graph(nodes, edges, tmp["communities_png"], color="louvain", n_labels=n_labels,
                         title=f"{title}: Louvain communities (size = degree)")
        plot_class_graph(nodes, edges, tmp["communities_svg"], color="louvain", n_labels=n_labels,
                         title=f"{title}: Louvain communities (size = degree)")
        plot_class_graph(nodes, edges, tmp["accuracy_png"], color="class_accuracy", n_labels=n_labels,
                         title=f"{title}: class accuracy (size = degree)")
        plot_degree_distribution(degrees, tmp["degrees_png"], title=f"{title}: degree distribution")
