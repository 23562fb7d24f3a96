"""Approximate k-nearest-neighbour graphs (FAISS IVF and HNSW), labelled with their measured recall.

The exact search of :mod:`latentgraph.graphs.knn` stays the default (``knn.method: exact``).
An approximate method trades neighbours for speed, so every approximate table says how many
it lost:

1. a FAISS index proposes the ``k + 1`` nearest rows of every row (``IndexIVFFlat`` or
   ``IndexHNSWFlat``, both with ``METRIC_L1`` or ``METRIC_L2``);
2. the candidates are re-ranked exactly as the exact path does (float64 distances, the row
   itself removed by index, rows sorted by (distance, index)): the *distances* of an
   approximate table are exact, only its neighbour *sets* may differ;
3. a row for which the index found fewer than k other rows (possible with IVF when the
   probed lists are small) is searched exactly instead; their number is recorded;
4. recall@k is measured against the exact search on ``recall_queries`` rows drawn with a
   seeded generator: recall = mean over those rows of ``|approx ∩ exact| / k``, for every k
   asked for (the table's k included).

Determinism: IVF trains its k-means on a seeded subsample with ``Clustering.seed`` set, adds
and searches deterministically (each query and each assignment is independent of the
threads). HNSW's ``add`` with several threads inserts vertices concurrently (under
per-vertex locks), so the graph it builds may depend on thread timing; in our check (20,000 x
64 rows, 2 and 8 threads, three builds each) the builds were identical, but FAISS does not
promise it, so the index is built with **one** thread (and searched with all of them):
determinism costs build time. Same latents + same parameters + same seed -> the same table,
byte for byte (tested with 1 and 2 threads).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..utils import LatentGraphError

log = logging.getLogger(__name__)

METHODS = ("exact", "ivf", "hnsw")
#: Parameters of each approximate method and their defaults (the schema's ``knn.ivf`` and ``knn.hnsw``).
METHOD_DEFAULTS: dict[str, dict[str, Any]] = {
    "ivf": {"nlist": None, "nprobe": 16},
    "hnsw": {"M": 32, "efConstruction": 80, "efSearch": 64},
}
#: Training rows per IVF list (FAISS warns below 39; more costs time and changes little).
IVF_TRAIN_PER_LIST = 64


@dataclass
class RecallReport:
    """Recall of an approximate neighbour table against the exact one on sampled queries.

    Parameters
    ----------
    recall : dict of int to float
        k -> mean over the queries of ``|approx_k ∩ exact_k| / k``.
    queries : int
        Number of query rows measured.
    seed : int
        Seed of the query sample.
    seconds : float, optional
        Time of the exact search of the queries.
    """

    recall: dict[int, float]
    queries: int
    seed: int
    seconds: float = 0.0

    def at(self, k: int) -> float:
        """Recall at ``k``.

        Parameters
        ----------
        k : int
            A k the report was measured at.

        Returns
        -------
        float
            The recall.
        """
        return self.recall[int(k)]


@dataclass
class ApproxInfo:
    """How an approximate table was made, for its metadata.

    Parameters
    ----------
    method : str
        ``"ivf"`` or ``"hnsw"``.
    params : dict
        The method's parameters as used (IVF's ``nlist`` resolved).
    build_seconds, search_seconds : float
        Time to build (train and add) the index and to search it.
    exact_rows : int
        Rows searched exactly because the index returned fewer than k other rows.
    extra : dict, optional
        Anything else worth recording.
    """

    method: str
    params: dict[str, Any]
    build_seconds: float
    search_seconds: float
    exact_rows: int
    extra: dict[str, Any] = field(default_factory=dict)


def check_method(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate a kNN method and fill in its parameters' defaults.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    params : dict, optional
        The method's parameters (keys of :data:`METHOD_DEFAULTS`); missing ones take the defaults.

    Returns
    -------
    dict
        The complete parameters (empty for ``exact``).

    Raises
    ------
    LatentGraphError
        For an unknown method or parameter, or a parameter out of range.
    """
    if method not in METHODS:
        raise LatentGraphError(f"unknown knn.method {method!r}; allowed: {list(METHODS)}")
    if method == "exact":
        return {}
    given = dict(params or {})
    unknown = sorted(set(given) - set(METHOD_DEFAULTS[method]))
    if unknown:
        raise LatentGraphError(f"unknown knn.{method} parameter(s) {unknown}; allowed: {sorted(METHOD_DEFAULTS[method])}")
    out = {**METHOD_DEFAULTS[method], **{k: v for k, v in given.items() if v is not None or k == "nlist"}}
    for key, value in out.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
            raise LatentGraphError(f"knn.{method}.{key} must be an integer >= 1, got {value!r}")
        out[key] = int(value)
    return out


def default_nlist(n: int) -> int:
    """IVF lists for ``n`` rows when ``nlist`` is not given: about ``4 sqrt(n)``, at most n / 39.

    Parameters
    ----------
    n : int
        Number of rows.

    Returns
    -------
    int
        At least 1.
    """
    return max(1, min(int(round(4 * math.sqrt(n))), n // 39))


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise LatentGraphError("knn.method 'ivf' and 'hnsw' need the faiss package (faiss-cpu)") from exc
    return faiss


def approximate_candidates(
    X: np.ndarray, kk: int, metric: str, method: str, params: dict[str, Any], seed: int = 0,
    threads: int | None = None,
) -> tuple[np.ndarray, dict[str, Any], float, float]:
    """The ``kk`` nearest rows of every row by a FAISS IVF or HNSW index (the row itself included).

    Parameters
    ----------
    X : numpy.ndarray
        (N, d) float32, C-contiguous latents.
    kk : int
        Candidates per row.
    metric : str
        ``"l1"`` or ``"l2"``.
    method : str
        ``"ivf"`` or ``"hnsw"``.
    params : dict
        Complete parameters (:func:`check_method`).
    seed : int, optional
        Seed of the IVF training sample and k-means.
    threads : int, optional
        FAISS threads for training and search (HNSW's build always uses one).

    Returns
    -------
    candidates : numpy.ndarray
        (N, kk) int64 row positions, -1 where fewer were found.
    params : dict
        The parameters as used (``nlist`` resolved).
    build_seconds, search_seconds : float
        Wall times of building and searching the index.
    """
    faiss = _faiss()
    n, d = X.shape
    fmetric = faiss.METRIC_L1 if metric == "l1" else faiss.METRIC_L2
    before = faiss.omp_get_max_threads()
    if threads:
        faiss.omp_set_num_threads(int(threads))
    params = dict(params)
    try:
        t0 = time.perf_counter()
        if method == "ivf":
            nlist = int(params["nlist"] or default_nlist(n))
            if nlist > n:
                raise LatentGraphError(f"knn.ivf.nlist = {nlist} is larger than the {n} rows searched")
            params["nlist"] = nlist
            quantizer = faiss.IndexFlat(d, fmetric)
            index: Any = faiss.IndexIVFFlat(quantizer, d, nlist, fmetric)
            index.cp.seed = int(seed) % (2**31)
            n_train = min(n, IVF_TRAIN_PER_LIST * nlist)
            rng = np.random.default_rng(seed)
            train = X if n_train == n else X[np.sort(rng.choice(n, n_train, replace=False))]
            index.cp.max_points_per_centroid = max(1, -(-n_train // nlist))  # no second subsample inside FAISS
            index.train(np.ascontiguousarray(train))
            index.add(X)
            index.nprobe = min(int(params["nprobe"]), nlist)
        elif method == "hnsw":
            index = faiss.IndexHNSWFlat(d, int(params["M"]), fmetric)
            index.hnsw.efConstruction = int(params["efConstruction"])
            threads_now = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)  # concurrent insertion is not deterministic
            try:
                index.add(X)
            finally:
                faiss.omp_set_num_threads(threads_now)
            index.hnsw.efSearch = max(int(params["efSearch"]), kk)
        else:
            raise LatentGraphError(f"approximate_candidates: method {method!r} is not approximate")
        t1 = time.perf_counter()
        _, cand = index.search(X, kk)
        t2 = time.perf_counter()
    finally:
        faiss.omp_set_num_threads(before)
    return cand.astype(np.int64), params, t1 - t0, t2 - t1


def approximate_knn(
    X: Any, k: int, metric: str = "l1", method: str = "hnsw", params: dict[str, Any] | None = None, *,
    seed: int = 0, threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, ApproxInfo]:
    """Approximate k nearest neighbours of every row among the other rows, distances exact.

    Parameters
    ----------
    X : array_like
        (N, d) latents; converted to float32.
    k : int
        Number of neighbours, 1 <= k < N.
    metric : str, optional
        ``"l1"`` (default) or ``"l2"``.
    method : str, optional
        ``"ivf"`` or ``"hnsw"`` (default).
    params : dict, optional
        The method's parameters (:data:`METHOD_DEFAULTS` fill in the missing ones).
    seed : int, optional
        Seed of IVF's training (default 0).
    threads : int, optional
        FAISS threads (default: FAISS's own).

    Returns
    -------
    indices : numpy.ndarray
        (N, k) int64, each row sorted by (exact distance, index), never the row itself.
    distances : numpy.ndarray
        (N, k) float64 exact distances to those rows.
    info : ApproxInfo
        The parameters used, times and the number of rows searched exactly.
    """
    from .knn import _brute_rows, _rerank, _validate

    X = _validate(X, k, metric)
    n = X.shape[0]
    full = check_method(method, params)
    if method == "exact":
        raise LatentGraphError("approximate_knn: method 'exact' is the exact search (latentgraph.graphs.knn.knn)")
    kk = min(n, k + 1)
    cand, used, t_build, t_search = approximate_candidates(X, kk, metric, method, full, seed=seed, threads=threads)
    rows = np.arange(n, dtype=np.int64)
    idx, dist = _rerank(X, cand, rows, k, metric, threads=threads)
    short = np.flatnonzero(~np.isfinite(dist[:, -1]))  # fewer than k other rows found
    if short.size:
        log.info("knn %s: %d of %d rows got fewer than k=%d candidates and are searched exactly",
                 method, short.size, n, k)
        idx[short], dist[short] = _brute_rows(X, short, k, metric)
    info = ApproxInfo(method=method, params=used, build_seconds=t_build, search_seconds=t_search,
                      exact_rows=int(short.size))
    return idx, dist, info


def exact_rows(X: Any, rows: np.ndarray, k: int, metric: str = "l1", margin: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of some rows of ``X`` among all other rows (as the exact path orders them).

    FAISS's flat index proposes ``k + 1 + margin`` candidates per query, they are re-ranked
    in float64 and rows whose k-th distance is within float32 rounding of the last
    candidate are searched by brute force, as in :func:`latentgraph.graphs.knn.knn`; the
    result equals the rows of the exact table.

    Parameters
    ----------
    X : array_like
        (N, d) latents.
    rows : numpy.ndarray
        Row positions of the queries.
    k : int
        Number of neighbours.
    metric : str, optional
        ``"l1"`` (default) or ``"l2"``.
    margin : int, optional
        Extra candidates (default 8).

    Returns
    -------
    indices, distances : numpy.ndarray
        (len(rows), k) int64 and float64, sorted by (distance, index).
    """
    from .knn import _brute_rows, _rerank, _tolerance, _validate

    X = _validate(X, k, metric)
    rows = np.asarray(rows, dtype=np.int64)
    n = X.shape[0]
    kk = min(n, k + 1 + max(0, int(margin)))
    try:
        faiss = _faiss()
    except LatentGraphError:  # pragma: no cover - depends on the environment
        return _brute_rows(X, rows, k, metric)
    index = faiss.IndexFlat(X.shape[1], faiss.METRIC_L1 if metric == "l1" else faiss.METRIC_L2)
    index.add(X)
    D, cand = index.search(np.ascontiguousarray(X[rows]), kk)
    approx = D.astype(np.float64)
    if metric == "l2":
        approx = np.sqrt(np.maximum(approx, 0.0))
    idx, dist = _rerank(X, cand.astype(np.int64), rows, k, metric)
    if kk < n:
        unsafe = np.flatnonzero(approx[:, -1] - _tolerance(X, approx[:, -1], metric) <= dist[:, -1])
        if unsafe.size:
            idx[unsafe], dist[unsafe] = _brute_rows(X, rows[unsafe], k, metric)
    return idx, dist


def recall_queries_sample(n: int, queries: int, seed: int = 0) -> np.ndarray:
    """The seeded sample of query rows recall is measured on (all rows when ``queries`` >= n).

    Parameters
    ----------
    n : int
        Number of rows.
    queries : int
        Number of queries wanted (>= 1).
    seed : int, optional
        Seed of the sample.

    Returns
    -------
    numpy.ndarray
        Sorted int64 row positions.
    """
    if queries >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng([int(seed), 0x7EC411])
    return np.sort(rng.choice(n, int(queries), replace=False)).astype(np.int64)


def recall_at_k(approx: np.ndarray, exact: np.ndarray, ks: Any = None) -> dict[int, float]:
    """Mean ``|approx_k ∩ exact_k| / k`` over rows, for each k.

    Parameters
    ----------
    approx : numpy.ndarray
        (q, K) approximate neighbour indices of the query rows.
    exact : numpy.ndarray
        (q, K) exact neighbour indices of the same rows.
    ks : iterable of int, optional
        The k's (each <= K); None: K only.

    Returns
    -------
    dict of int to float
        k -> recall in [0, 1].
    """
    approx = np.asarray(approx)
    exact = np.asarray(exact)
    if approx.shape != exact.shape:
        raise LatentGraphError(f"recall_at_k: tables differ in shape, {approx.shape} vs {exact.shape}")
    K = approx.shape[1]
    out: dict[int, float] = {}
    for k in sorted({K} if ks is None else {int(x) for x in ks}):
        if not 1 <= k <= K:
            raise LatentGraphError(f"recall_at_k: k = {k} is outside 1..{K}")
        a, e = np.sort(approx[:, :k], axis=1), np.sort(exact[:, :k], axis=1)
        hits = sum(int((a[:, [j]] == e).any(axis=1).sum()) for j in range(k))
        out[k] = hits / (k * max(1, a.shape[0]))
    return out


def measure_recall(X: Any, indices: np.ndarray, metric: str = "l1", queries: int = 1000, seed: int = 0,
                   ks: Any = None) -> RecallReport:
    """Recall of the neighbour table ``indices`` against the exact search on seeded queries.

    Parameters
    ----------
    X : array_like
        (N, d) latents the table was built from.
    indices : numpy.ndarray
        (N, K) neighbour table to check.
    metric : str, optional
        ``"l1"`` (default) or ``"l2"``.
    queries : int, optional
        Number of query rows (default 1000; all rows when N is smaller).
    seed : int, optional
        Seed of the query sample.
    ks : iterable of int, optional
        The k's to report; None: K only.

    Returns
    -------
    RecallReport
        The recall per k, the number of queries and the seed.
    """
    indices = np.asarray(indices)
    n, K = indices.shape
    if int(queries) < 1:
        raise LatentGraphError(f"knn.recall_queries must be >= 1, got {queries!r}")
    rows = recall_queries_sample(n, int(queries), seed)
    t0 = time.perf_counter()
    exact_idx, _ = exact_rows(X, rows, K, metric)
    secs = time.perf_counter() - t0
    return RecallReport(recall=recall_at_k(indices[rows], exact_idx, ks), queries=int(rows.size), seed=int(seed),
                        seconds=secs)


def check_min_recall(report: RecallReport, k: int, min_recall: float | None, method: str,
                     params: dict[str, Any]) -> None:
    """Fail when the measured recall at ``k`` is below ``knn.min_recall``.

    Parameters
    ----------
    report : RecallReport
        The measured recall.
    k : int
        The k checked (the table's).
    min_recall : float or None
        The threshold; None checks nothing.
    method : str
        The method, for the message.
    params : dict
        Its parameters, for the message.

    Raises
    ------
    LatentGraphError
        Naming the key, the measured recall, the method and what to change.
    """
    if min_recall is None:
        return
    r = report.at(k)
    if r < float(min_recall):
        shown = ", ".join(f"{key}={v}" for key, v in sorted(params.items()))
        hint = "nprobe" if method == "ivf" else "efSearch (and efConstruction, M)"
        raise LatentGraphError(
            f"knn.min_recall = {float(min_recall):g} not met: knn.method {method!r} ({shown}) has recall@{k} = "
            f"{r:.4f} on {report.queries} seeded queries; raise knn.{method}.{hint}, lower knn.min_recall, "
            "or use knn.method: exact (no output written)"
        )


def approx_metadata(info: ApproxInfo, report: RecallReport, k: int) -> dict[str, Any]:
    """The Parquet metadata entries of an approximate table.

    Parameters
    ----------
    info : ApproxInfo
        From :func:`approximate_knn`.
    report : RecallReport
        From :func:`measure_recall`.
    k : int
        The table's k.

    Returns
    -------
    dict
        ``method``, ``method_params``, ``recall_at_k`` (at ``recall_k`` = k), ``recall_by_k`` (text keys),
        ``recall_queries``, ``recall_seed``, ``exact_fallback_rows``. Times are left out (the
        file must not depend on them).
    """
    return {
        "method": info.method,
        "method_params": dict(sorted(info.params.items())),
        "recall_at_k": float(report.at(k)),
        "recall_k": int(k),
        "recall_by_k": {str(kk): float(v) for kk, v in sorted(report.recall.items())},
        "recall_queries": int(report.queries),
        "recall_seed": int(report.seed),
        "exact_fallback_rows": int(info.exact_rows),
    }


def method_label(metadata: dict[str, Any]) -> str:
    """How a table's kNN method is named in tables: ``exact`` or e.g. ``hnsw (recall@16 = 0.982)``.

    Parameters
    ----------
    metadata : dict
        A :class:`latentgraph.graphs.knn.KnnTable`'s metadata.

    Returns
    -------
    str
        ``"exact"`` for tables without a ``method`` entry or with method exact.
    """
    method = metadata.get("method", "exact")
    if method == "exact" or "recall_at_k" not in metadata:
        return str(method)
    k = metadata.get("recall_k", metadata.get("k", "k"))
    return f"{method} (recall@{k} = {float(metadata['recall_at_k']):.4f})"


def build_knn_table(
    X: Any,
    k: int,
    labels: np.ndarray,
    sample_id: np.ndarray | None = None,
    metric: str = "l1",
    method: str = "exact",
    params: dict[str, Any] | None = None,
    *,
    recall_queries: int = 1000,
    recall_ks: Any = None,
    min_recall: float | None = None,
    seed: int = 0,
    backend: str = "auto",
    threads: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """The kNN table of ``X`` by ``method``: exact (:func:`latentgraph.graphs.knn.knn_table`) or approximate.

    ``method="exact"`` is exactly :func:`~latentgraph.graphs.knn.knn_table` (same table, same
    metadata). An approximate table gets the entries of :func:`approx_metadata`, and
    ``min_recall`` is checked before the table is returned, so a caller that writes the
    table afterwards writes nothing when the recall falls short.

    Parameters
    ----------
    X : array_like
        (N, d) latents.
    k : int
        Number of neighbours, 1 <= k < N.
    labels : numpy.ndarray
        (N,) class labels.
    sample_id : numpy.ndarray, optional
        (N,) sample ids; None numbers the rows.
    metric : str, optional
        ``"l1"`` (default) or ``"l2"``.
    method : str, optional
        ``"exact"`` (default), ``"ivf"`` or ``"hnsw"``.
    params : dict, optional
        The approximate method's parameters (``knn.ivf`` / ``knn.hnsw``).
    recall_queries : int, optional
        Query rows of the recall measurement (default 1000).
    recall_ks : iterable of int, optional
        The k's recall is reported at (default: k only); k is always included.
    min_recall : float, optional
        Smallest acceptable recall at k (``knn.min_recall``); None checks nothing.
    seed : int, optional
        Seed of IVF's training and of the recall queries (``knn.seed``).
    backend : str, optional
        Backend of the exact search (``knn.backend``).
    threads : int, optional
        CPU threads.
    metadata : dict, optional
        Provenance to store.

    Returns
    -------
    KnnTable
        The (N, k) neighbour table.

    Raises
    ------
    LatentGraphError
        For a bad method or parameter, or a recall below ``min_recall``.
    """
    from .knn import KnnTable, knn_table

    full = check_method(method, params)
    if min_recall is not None and not 0.0 <= float(min_recall) <= 1.0:
        raise LatentGraphError(f"knn.min_recall must lie in [0, 1], got {min_recall!r}")
    if method == "exact":
        return knn_table(X, k, labels, sample_id=sample_id, metric=metric, backend=backend, threads=threads,
                         metadata=metadata)
    n = np.asarray(X).shape[0]
    sample_id = np.arange(n, dtype=np.int64) if sample_id is None else np.asarray(sample_id, dtype=np.int64)
    idx, dist, info = approximate_knn(X, k, metric, method, full, seed=seed, threads=threads)
    ks = {int(k)} | {int(x) for x in (recall_ks or []) if int(x) <= k}
    report = measure_recall(X, idx, metric, queries=recall_queries, seed=seed, ks=ks)
    log.info("knn %s %s: built in %.2f s, searched in %.2f s; recall %s on %d queries", method, info.params,
             info.build_seconds, info.search_seconds,
             ", ".join(f"@{kk} = {r:.4f}" for kk, r in sorted(report.recall.items())), report.queries)
    check_min_recall(report, k, min_recall, method, info.params)
    meta = dict(metadata or {})
    meta["backend"] = "faiss"
    meta.update(approx_metadata(info, report, k))
    if min_recall is not None:
        meta["min_recall"] = float(min_recall)
    return KnnTable(idx, dist, sample_id, np.asarray(labels, dtype=np.int64), metric, meta)
