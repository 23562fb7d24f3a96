"""All-pairs shortest paths on sparse graphs, streamed in blocks of source vertices.

A dense N x N distance matrix is never built: :func:`distance_blocks` yields one
(batch, N) block of shortest-path distances at a time, and callers fold each block into
what they need before the next one is computed. :func:`class_path_sums` is that fold for
the class graph (thesis eq. 4.2): every block is reduced at once to per-class sums, so the
whole computation needs O(jobs * batch * N + C^2) memory for N vertices and C classes.

Routines (chosen by ``benchmarks/bench_apsp.py``, see the README's class-graph section):

- ``numba`` (:mod:`latentgraph.graphs._pathkernel`): Dijkstra with a 4-ary heap, or a
  breadth-first search for hop counts, compiled, run in threads without the GIL, each
  source's distances added to its class sums as they are settled (no distance row is
  stored); the fastest for both kinds of path length;
- ``scipy``: ``scipy.sparse.csgraph.dijkstra`` on blocks of sources, folded with one
  ``np.add.reduceat`` per block;
- ``igraph``: ``Graph.distances`` (the project's graph library), folded the same way; it
  returns Python lists, which costs time on weighted graphs.

``backend="auto"`` picks numba when it is installed, else scipy for lengths and igraph for
hops. All give the same sums up to floating-point rounding (tests compare them). scipy and
igraph hold the GIL, so their blocks run in worker processes (``n_jobs``); numba uses
``n_jobs`` threads. The blocks' class sums are added in source order in the caller, so
for a given routine the result does not depend on ``batch_size`` or ``n_jobs``.

Sharding (``classgraph.shards``, one cluster job per shard): row i of the class sums only
gets contributions from the sources of class i, so :func:`class_shards` splits the classes
into contiguous ranges balanced by their numbers of sources, ``class_path_sums(...,
shard=(i, S))`` computes only the rows of shard i's classes, and
:func:`add_class_path_sums` adds the shards' partial sums in shard order. Every row is
the same additions in the same order as in one job, and the other shards add exact zeros,
so the sharded result equals the one-job result bitwise (tests check it).
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..utils import LatentGraphError, check_shards, default_jobs

log = logging.getLogger(__name__)

BACKENDS = ("auto", "numba", "scipy", "igraph")


def to_igraph(n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None, directed: bool = False) -> Any:
    """An igraph ``Graph`` with ``n`` vertices, the given edges and an optional ``weight`` attribute.

    Parameters
    ----------
    n : int
        Number of vertices.
    src, dst : numpy.ndarray
        Endpoints of each edge (vertex positions).
    weights : numpy.ndarray, optional
        One finite, non-negative length per edge, stored as the ``weight`` edge attribute;
        None (default) stores none.
    directed : bool, optional
        Build a directed graph (default: undirected).

    Returns
    -------
    igraph.Graph
        The graph.

    Raises
    ------
    LatentGraphError
        When ``weights`` has the wrong length or holds negative or non-finite values.
    """
    import igraph as ig

    g = ig.Graph(n=int(n), edges=np.column_stack([src, dst]).astype(np.int64).tolist(), directed=directed)
    if weights is not None:
        w = _check_lengths(weights, np.asarray(src).size)
        g.es["weight"] = w.tolist()
    return g


def to_csr(n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> sp.csr_array:
    """The symmetric sparse adjacency (data = edge length, 1 without weights) of an undirected graph.

    Parameters
    ----------
    n : int
        Number of vertices.
    src, dst : numpy.ndarray
        1-D endpoints of the edges ``{src[i], dst[i]}``, each given once, in 0..n-1.
        Self-loops are dropped; repeated edges keep their shortest length.
    weights : numpy.ndarray, optional
        One finite, non-negative length per edge; None (default) gives every edge length 1.

    Returns
    -------
    scipy.sparse.csr_array
        (n, n) symmetric adjacency with sorted indices. Zero lengths are kept as explicit
        entries (``scipy.sparse.csgraph`` treats them as edges of length 0).

    Raises
    ------
    LatentGraphError
        For malformed edge lists, endpoints out of range or invalid lengths.
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if src.shape != dst.shape or src.ndim != 1:
        raise LatentGraphError(f"edge lists must be 1-D and of equal length, got {src.shape} and {dst.shape}")
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise LatentGraphError(f"edge endpoints must lie in 0..{n - 1}")
    w = np.ones(src.size) if weights is None else _check_lengths(weights, src.size)
    keep = src != dst  # self-loops never shorten a path
    s = np.concatenate([src[keep], dst[keep]])
    d = np.concatenate([dst[keep], src[keep]])
    ww = np.concatenate([w[keep], w[keep]])
    # one entry per (s, d): the shortest of repeated edges
    order = np.lexsort((ww, d, s))
    s, d, ww = s[order], d[order], ww[order]
    first = np.ones(s.size, dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
    s, d, ww = s[first], d[first], ww[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=n), out=indptr[1:])
    A = sp.csr_array((ww, d.astype(np.int32 if n < 2**31 else np.int64), indptr.astype(np.int32 if s.size < 2**31 else np.int64)),
                     shape=(n, n))
    A.has_sorted_indices = True
    return A


def _check_lengths(weights: Any, n_edges: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_edges,):
        raise LatentGraphError(f"need one edge length per edge ({n_edges}), got shape {w.shape}")
    if w.size and (not np.all(np.isfinite(w)) or w.min() < 0):
        raise LatentGraphError("edge weights must be finite and non-negative for shortest paths")
    return w


def distance_blocks(
    graph: Any,
    batch_size: int = 256,
    weights: str | None = "weight",
    sources: np.ndarray | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(sources, D)`` with D[i, j] the shortest-path distance from ``sources[i]`` to j.

    Parameters
    ----------
    graph : igraph.Graph or scipy.sparse.csr_array
        An igraph ``Graph``, or a symmetric scipy sparse adjacency from :func:`to_csr`
        (lengths are its data).
    batch_size : int, optional
        Sources per block (>= 1; default 256).
    weights : str, optional
        For an igraph graph, the edge attribute holding lengths (default ``"weight"``); for a
        sparse adjacency any non-None value means "use its data". None = hop counts.
    sources : numpy.ndarray, optional
        Source vertices; None (default) means all vertices, in order.

    Yields
    ------
    sources : numpy.ndarray
        (batch,) int64 source vertices of the block.
    D : numpy.ndarray
        (batch, N) float64 distances; unreachable vertices get ``inf``.

    Raises
    ------
    LatentGraphError
        When ``batch_size`` < 1 or the igraph graph lacks the ``weights`` attribute.
    """
    if batch_size < 1:
        raise LatentGraphError(f"batch_size must be >= 1, got {batch_size}")
    if sp.issparse(graph):
        n = graph.shape[0]
        if sources is None:
            sources = np.arange(n, dtype=np.int64)
        for s in range(0, len(sources), batch_size):
            batch = np.asarray(sources[s : s + batch_size], dtype=np.int64)
            yield batch, _scipy_rows(graph, batch, weights is not None)
        return
    n = graph.vcount()
    if sources is None:
        sources = np.arange(n, dtype=np.int64)
    if weights is not None and weights not in graph.es.attributes():
        raise LatentGraphError(f"graph has no edge attribute {weights!r}")
    for s in range(0, len(sources), batch_size):
        batch = np.asarray(sources[s : s + batch_size], dtype=np.int64)
        D = np.asarray(graph.distances(source=batch.tolist(), weights=weights), dtype=np.float64)
        yield batch, D


def _scipy_rows(A: sp.csr_array, rows: np.ndarray, weighted: bool) -> np.ndarray:
    from scipy.sparse import csgraph

    # the adjacency is symmetric, so the directed search gives the undirected distances
    # without scipy building A + A.T on every call
    return csgraph.dijkstra(A, directed=True, indices=rows, unweighted=not weighted)


def resolve_path_backend(backend: str, weighted: bool) -> str:
    """``auto`` -> the fastest routine available for the kind of path lengths (see the module docstring).

    Parameters
    ----------
    backend : str
        ``"auto"``, ``"numba"``, ``"scipy"`` or ``"igraph"``.
    weighted : bool
        True for path lengths (sums of edge lengths), False for hop counts; decides
        ``auto`` when numba is missing (scipy for lengths, igraph for hops).

    Returns
    -------
    str
        A concrete backend: ``"numba"``, ``"scipy"`` or ``"igraph"``.

    Raises
    ------
    LatentGraphError
        For an unknown backend, or ``"numba"`` without numba installed.
    """
    from ._pathkernel import HAVE_NUMBA

    if backend not in BACKENDS:
        raise LatentGraphError(f"unknown shortest-path backend {backend!r}; allowed: {list(BACKENDS)}")
    if backend == "numba" and not HAVE_NUMBA:
        raise LatentGraphError("shortest-path backend 'numba' needs numba (pip install numba)")
    if backend == "auto":
        if HAVE_NUMBA:
            return "numba"
        return "scipy" if weighted else "igraph"
    return backend


# --------------------------------------------------------------------------- class fold


@dataclass
class ClassPathSums:
    """Shortest-path distances between all ordered pairs of vertices, summed per class pair.

    Parameters
    ----------
    sums : numpy.ndarray
        (C, C) float64; ``sums[i, j]`` adds d(s, t) over the reachable ordered pairs (s, t),
        s != t, with s in class ``classes[i]`` and t in class ``classes[j]``.
    pairs : numpy.ndarray
        (C, C) int64; ``pairs[i, j]`` counts those reachable pairs.
    total : numpy.ndarray
        (C, C) int64; ``total[i, j]`` counts all of them, reachable or not (|S_i| |S_j|, or
        |S_i| (|S_i| - 1) on the diagonal).
    classes : numpy.ndarray
        (C,) int64 label values, sorted.
    sizes : numpy.ndarray
        (C,) int64 samples per class.
    n_components : int
        Number of connected components of the graph.
    backend : str
        The routine used: ``"numba"``, ``"scipy"`` or ``"igraph"``.
    weighted : bool
        True for path lengths, False for hop counts.
    n_jobs : int, optional
        Threads or processes actually used (default 1).
    """

    sums: np.ndarray  # (C, C) float64
    pairs: np.ndarray  # (C, C) int64
    total: np.ndarray  # (C, C) int64
    classes: np.ndarray  # (C,) int64 label values, sorted
    sizes: np.ndarray  # (C,) int64 samples per class
    n_components: int
    backend: str
    weighted: bool
    n_jobs: int = 1  # threads or processes actually used


#: Graphs with fewer ordered vertex pairs than this run inline (starting processes costs more).
INLINE_PAIRS = 4_000_000

# Worker state: set once per process by _init_worker (fork: inherited, spawn: pickled once).
_W: dict[str, Any] = {}


def _init_worker(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n: int, starts: np.ndarray,
                 backend: str, weighted: bool) -> None:
    A = sp.csr_array((data, indices, indptr), shape=(n, n))
    _W.clear()
    _W.update(starts=starts, backend=backend, weighted=weighted, A=A)
    if backend == "igraph":
        import igraph as ig

        coo = sp.triu(A, k=1, format="coo")
        g = ig.Graph(n=n, edges=np.column_stack([coo.row, coo.col]).tolist(), directed=False)
        if weighted:
            g.es["weight"] = coo.data.tolist()
        _W["g"] = g


def _fold_rows(bounds: tuple[int, int]) -> np.ndarray:
    """Class sums of the shortest-path rows of sources ``a..b-1`` (vertices sorted by class)."""
    a, b = bounds
    rows = np.arange(a, b, dtype=np.int64)
    if _W["backend"] == "igraph":
        D = np.asarray(_W["g"].distances(source=rows.tolist(), weights="weight" if _W["weighted"] else None),
                       dtype=np.float64)
    else:
        D = _scipy_rows(_W["A"], rows, _W["weighted"])
    D[np.isinf(D)] = 0.0  # unreachable pairs: left out of the sums, counted apart
    return np.add.reduceat(D, _W["starts"], axis=1)  # (b - a, C): columns summed per class


def _renumbered_graph(n: int, src: np.ndarray, dst: np.ndarray, lengths: np.ndarray | None, labels: Any,
                      weighted: bool, batch_size: int, n_jobs: int | None, backend: str) -> tuple:
    """Checked settings and the graph renumbered class by class: the opening of both class folds.

    Vertices are renumbered class by class, so each block's columns reduce per class in one
    contiguous ``np.add.reduceat`` and a class's sources follow each other. Returns (backend,
    jobs, inv, classes, starts, sizes, cls_of_vertex, A, n_comp, comp, M): ``inv`` maps a vertex
    to its new number; ``M`` (sparse, components x classes) counts vertices, from which the
    reachable pairs are exact.
    """
    from scipy.sparse import csgraph

    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise LatentGraphError(f"need one label per vertex ({n}), got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise LatentGraphError(f"labels must be integers, got dtype {labels.dtype}")
    if isinstance(batch_size, bool) or int(batch_size) < 1:
        raise LatentGraphError(f"batch_size must be >= 1, got {batch_size!r}")
    backend = resolve_path_backend(backend, weighted)
    jobs = default_jobs() if n_jobs is None else int(n_jobs)
    if jobs < 1:
        raise LatentGraphError(f"n_jobs must be >= 1, got {n_jobs!r}")

    # vertices renumbered class by class: each block's columns then reduce per class in
    # one contiguous np.add.reduceat, and a class's sources follow each other
    order = np.argsort(labels, kind="stable")
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    classes, starts, sizes = np.unique(labels[order], return_index=True, return_counts=True)
    C = classes.size
    cls_of_vertex = np.repeat(np.arange(C), sizes)  # class position of each renumbered vertex
    A = to_csr(n, inv[np.asarray(src, dtype=np.int64)], inv[np.asarray(dst, dtype=np.int64)],
               lengths if weighted else None)

    # reachable pairs, exactly: same connected component
    n_comp, comp = csgraph.connected_components(A, directed=False)
    M = sp.csr_array((np.ones(n, dtype=np.int64), (comp, cls_of_vertex)), shape=(n_comp, C))
    return backend, jobs, inv, classes, starts, sizes, cls_of_vertex, A, n_comp, comp, M


#: Why a class-graph shard count is bounded by the classes (in its error message).
WHOLE_CLASSES = ": each shard computes the class-sum rows of whole classes"


def class_shards(sizes: Any, shards: int) -> list[tuple[int, int]]:
    """Split C classes into ``shards`` contiguous, non-empty ranges with balanced source counts.

    Parameters
    ----------
    sizes : array_like
        (C,) samples (sources) per class, in class order.
    shards : int
        Number of shards, 1 <= shards <= C.

    Returns
    -------
    list of tuple of int
        ``(c0, c1)`` per shard: classes ``c0..c1-1``; the cut before shard i is the class
        boundary nearest to ``i * N / shards`` sources.

    Raises
    ------
    LatentGraphError
        When ``shards`` is not an integer between 1 and the number of classes.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    C = sizes.size
    S = check_shards(shards, C, "classgraph.shards", "classes", why=WHOLE_CLASSES)
    cum = np.concatenate(([0], np.cumsum(sizes)))
    cuts = [0]
    for i in range(1, S):
        c = int(np.argmin(np.abs(cum - i * cum[-1] / S)))
        cuts.append(min(max(c, cuts[-1] + 1), C - (S - i)))  # every shard keeps at least one class
    cuts.append(C)
    return [(cuts[i], cuts[i + 1]) for i in range(S)]


def add_class_path_sums(parts: list[ClassPathSums]) -> ClassPathSums:
    """Add the partial sums of the shards of one class fold, in shard order.

    Parameters
    ----------
    parts : list of ClassPathSums
        The results of ``class_path_sums(..., shard=(i, S))`` for i = 0..S-1.

    Returns
    -------
    ClassPathSums
        The whole fold; equal to the one-job result bitwise (each entry comes from one shard).

    Raises
    ------
    LatentGraphError
        When the parts are not the S shards of one graph (classes, sizes, path kind).
    """
    if not parts:
        raise LatentGraphError("no shards to add")
    first = parts[0]
    for p in parts[1:]:
        if (not np.array_equal(p.classes, first.classes) or not np.array_equal(p.sizes, first.sizes)
                or p.weighted != first.weighted or p.n_components != first.n_components):
            raise LatentGraphError("class-graph shards of different graphs (classes, sizes, components or weights "
                                   "differ): rebuild all shards")
    sums = np.zeros_like(first.sums)
    pairs = np.zeros_like(first.pairs)
    total = np.zeros_like(first.total)
    for p in parts:
        sums += p.sums
        pairs += p.pairs
        total += p.total
    return ClassPathSums(sums=sums, pairs=pairs, total=total, classes=first.classes, sizes=first.sizes,
                         n_components=first.n_components, backend=first.backend, weighted=first.weighted,
                         n_jobs=first.n_jobs)


def class_path_sums(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    lengths: np.ndarray | None,
    labels: np.ndarray,
    *,
    weighted: bool = True,
    batch_size: int = 256,
    n_jobs: int | None = 1,
    backend: str = "auto",
    progress: bool = False,
    shard: tuple[int, int] | None = None,
) -> ClassPathSums:
    """Sum all-pairs shortest-path distances of an undirected graph per pair of classes.

    Parameters
    ----------
    n : int
        Number of vertices.
    src, dst : numpy.ndarray
        Endpoints of the undirected edges ``{src[i], dst[i]}``.
    lengths : numpy.ndarray or None
        ``lengths[i]`` is the length of edge i (finite, >= 0; ignored when ``weighted`` is
        False).
    labels : numpy.ndarray
        (n,) class label of every vertex (integers >= 0).
    weighted : bool, optional
        True (default): path length = sum of edge lengths; False: number of hops.
    batch_size : int, optional
        Source vertices per block (default 256); memory is about ``8 * batch_size * n``
        bytes per job.
    n_jobs : int, optional
        Threads (numba) or worker processes (scipy, igraph); default 1; None = all cores
        this process may use. Small graphs run in this process.
    backend : str, optional
        ``auto`` (default), ``numba``, ``scipy`` or ``igraph`` (see the module docstring);
        the sums agree to rounding.
    progress : bool, optional
        Show a ``tqdm`` progress bar over the blocks (default False).
    shard : tuple of int, optional
        ``(i, S)``: only the sources of shard i of S (:func:`class_shards`), whose classes'
        rows of ``sums``, ``pairs`` and ``total`` are filled, the other rows zero; add the
        S shards with :func:`add_class_path_sums`. Default: all sources.

    Returns
    -------
    ClassPathSums
        The per-class sums and pair counts.

    Raises
    ------
    LatentGraphError
        For labels of the wrong shape or dtype, ``batch_size`` or ``n_jobs`` < 1, an invalid
        backend, invalid edges, or a shard number out of range or S above the number of classes.

    Notes
    -----
    Every ordered pair (s, t), s != t, is visited once (d(s, t) and d(t, s) both count, as in
    eq. 4.2). Pairs in different connected components are unreachable: they are left out of
    ``sums`` and ``pairs`` and counted exactly from the components.
    """
    (backend, jobs, inv, classes, starts, sizes, cls_of_vertex, A, n_comp, comp,
     M) = _renumbered_graph(n, src, dst, lengths, labels, weighted, batch_size, n_jobs, backend)
    C = classes.size
    pairs = (M.T @ M).toarray().astype(np.int64)
    pairs[np.diag_indices(C)] -= sizes  # no self-pairs
    total = np.outer(sizes, sizes).astype(np.int64)
    total[np.diag_indices(C)] -= sizes

    v0, v1 = 0, n  # the sources (renumbered vertices, class by class)
    if shard is not None:
        i, S = (int(v) for v in shard)
        check_shards(S, C, "classgraph.shards", "classes", shard=i, why=WHOLE_CLASSES)
        c0, c1 = class_shards(sizes, S)[i]
        keep = np.zeros(C, dtype=bool)
        keep[c0:c1] = True
        pairs[~keep] = 0
        total[~keep] = 0
        v0, v1 = int(starts[c0]), int(starts[c1 - 1] + sizes[c1 - 1])
        log.info("shard %d of %d: classes %d..%d, sources %d..%d", i, S, c0, c1 - 1, v0, v1 - 1)
    bounds = [(a, min(a + batch_size, v1)) for a in range(v0, v1, batch_size)]
    if backend != "numba":
        jobs = min(jobs, len(bounds))
        if n * n < INLINE_PAIRS:  # a second or less: not worth starting processes
            jobs = 1
    log.info("all-pairs shortest paths: %d vertices, %d edges, %d classes, %d component(s), %s, backend %s, "
             "%d block(s) of %d sources, %d job(s)", n, A.nnz // 2, C, n_comp, "weighted" if weighted else "hops",
             backend, len(bounds), batch_size, jobs)
    sums = np.zeros((C, C), dtype=np.float64)
    init_args = (A.indptr, A.indices, A.data, n, starts.astype(np.int64), backend, weighted)
    bar = _progress(len(bounds), progress)
    try:
        if backend == "numba":
            from ._pathkernel import class_rows

            results = (class_rows(np.arange(a, b, dtype=np.int64), A.indptr, A.indices, A.data, cls_of_vertex, C,
                                  weighted, jobs) for a, b in bounds)
            _consume(results, bounds, cls_of_vertex, sums, bar)
        elif jobs == 1:
            _init_worker(*init_args)
            results: Iterator[np.ndarray] = map(_fold_rows, bounds)
            _consume(results, bounds, cls_of_vertex, sums, bar)
        else:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            ctx = multiprocessing.get_context(method)
            with ctx.Pool(jobs, initializer=_init_worker, initargs=init_args) as pool:
                # imap keeps the blocks in source order: the sums do not depend on scheduling
                _consume(pool.imap(_fold_rows, bounds, chunksize=1), bounds, cls_of_vertex, sums, bar)
    finally:
        _W.clear()
        if bar is not None:
            bar.close()
    return ClassPathSums(sums=sums, pairs=pairs, total=total, classes=classes.astype(np.int64),
                         sizes=sizes.astype(np.int64), n_components=int(n_comp), backend=backend, weighted=weighted,
                         n_jobs=jobs)


def _consume(results: Iterator[np.ndarray], bounds: list[tuple[int, int]], cls_of_vertex: np.ndarray,
             sums: np.ndarray, bar: Any) -> None:
    for (a, b), R in zip(bounds, results, strict=True):
        # row by row in source order (np.add.at is sequential): the same additions in the
        # same order whatever the block size or the number of jobs
        np.add.at(sums, cls_of_vertex[a:b], R)
        if bar is not None:
            bar.update(1)


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="shortest paths", unit="block", mininterval=5.0)


# --------------------------------------------------------------------------- sampled sources


@dataclass
class SourceClassRows:
    """Shortest-path distances from some source vertices, summed per target class.

    Parameters
    ----------
    sources : numpy.ndarray
        (S,) int64 source vertices (original positions).
    source_class : numpy.ndarray
        (S,) int64 class position (index into ``classes``) of each source.
    sums : numpy.ndarray
        (S, C) float64; ``sums[s, j]`` adds d(source s, t) over the reachable t != s of class j.
    reach : numpy.ndarray
        (S, C) int64; how many such t there are.
    classes : numpy.ndarray
        (C,) int64 label values, sorted.
    sizes : numpy.ndarray
        (C,) int64 samples per class.
    n_components : int
        Number of connected components of the graph.
    backend : str
        The routine used.
    weighted : bool
        True for path lengths, False for hop counts.
    """

    sources: np.ndarray
    source_class: np.ndarray
    sums: np.ndarray
    reach: np.ndarray
    classes: np.ndarray
    sizes: np.ndarray
    n_components: int
    backend: str
    weighted: bool


def source_class_rows(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    lengths: np.ndarray | None,
    labels: np.ndarray,
    sources: np.ndarray,
    *,
    weighted: bool = True,
    batch_size: int = 256,
    n_jobs: int | None = 1,
    backend: str = "auto",
    progress: bool = False,
) -> SourceClassRows:
    """Per-source class sums of shortest-path distances, for the given sources only.

    The building block of the sampled class distances
    (:func:`latentgraph.experiments.classgraph.sampled_class_distances`): one Dijkstra (or
    breadth-first search) per source, folded per target class as in :func:`class_path_sums`.

    Parameters
    ----------
    n : int
        Number of vertices.
    src, dst : numpy.ndarray
        Endpoints of the undirected edges.
    lengths : numpy.ndarray or None
        Edge lengths (ignored when ``weighted`` is False).
    labels : numpy.ndarray
        (n,) integer class label of every vertex.
    sources : numpy.ndarray
        Source vertices (positions 0..n-1).
    weighted : bool, optional
        Path length = sum of edge lengths (default) or number of hops.
    batch_size : int, optional
        Sources per block (default 256).
    n_jobs : int, optional
        numba threads (default 1; None = all cores); scipy and igraph run in this process.
    backend : str, optional
        ``auto``, ``numba``, ``scipy`` or ``igraph``.
    progress : bool, optional
        Show a progress bar over the blocks.

    Returns
    -------
    SourceClassRows
        The sums and reachable counts per source and class.

    Raises
    ------
    LatentGraphError
        For bad labels, sources, batch size, backend or edges.
    """
    sources = np.asarray(sources, dtype=np.int64)
    if sources.ndim != 1 or (sources.size and (sources.min() < 0 or sources.max() >= n)):
        raise LatentGraphError(f"sources must be vertex positions in 0..{n - 1}")
    (backend, jobs, inv, classes, starts, sizes, cls_of_vertex, A, n_comp, comp,
     M) = _renumbered_graph(n, src, dst, lengths, labels, weighted, batch_size, n_jobs, backend)
    C = classes.size
    M = M.toarray()
    rs = inv[sources]  # renumbered sources
    src_cls = cls_of_vertex[rs]
    reach = M[comp[rs]].astype(np.int64)
    reach[np.arange(rs.size), src_cls] -= 1  # not the source itself
    log.info("shortest paths from %d sampled sources: %d vertices, %d edges, %d classes, backend %s",
             rs.size, n, A.nnz // 2, C, backend)
    sums = np.zeros((rs.size, C), dtype=np.float64)
    bar = _progress(-(-rs.size // batch_size), progress)
    try:
        if backend != "numba":
            _init_worker(A.indptr, A.indices, A.data, n, starts.astype(np.int64), backend, weighted)
        for a in range(0, rs.size, batch_size):
            rows = rs[a : a + batch_size]
            if backend == "numba":
                from ._pathkernel import class_rows

                sums[a : a + rows.size] = class_rows(rows, A.indptr, A.indices, A.data, cls_of_vertex, C, weighted,
                                                     jobs)
            else:
                if backend == "igraph":
                    D = np.asarray(_W["g"].distances(source=rows.tolist(), weights="weight" if weighted else None),
                                   dtype=np.float64)
                else:
                    D = _scipy_rows(A, rows, weighted)
                D[np.isinf(D)] = 0.0
                sums[a : a + rows.size] = np.add.reduceat(D, starts, axis=1)
            if bar is not None:
                bar.update(1)
    finally:
        _W.clear()
        if bar is not None:
            bar.close()
    return SourceClassRows(sources=sources, source_class=src_cls.astype(np.int64), sums=sums, reach=reach,
                           classes=classes.astype(np.int64), sizes=sizes.astype(np.int64), n_components=int(n_comp),
                           backend=backend, weighted=weighted)
