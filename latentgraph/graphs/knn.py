"""Exact k-nearest-neighbour graphs of latent vectors.

The neighbour table is searched once at the largest k and sliced for smaller k (the first
k columns of an exact, tie-broken table *are* the exact table for k). Results are exact and
identical whatever the search backend:

1. a backend proposes candidates (the k + 1 + margin nearest by its own float32 arithmetic);
2. their distances are recomputed exactly in float64, the query itself is removed by index
   (not by position: duplicate latents tie at distance 0 and may come first), and rows are
   sorted by (distance, index);
3. a row whose k-th distance lies within the backend's rounding error of the last candidate
   could hide a neighbour outside the candidate set; such rows are recomputed by brute force
   (backend numba first searches them again with its form whose error is relative to the
   distance, see :func:`_numba_knn`).

Backends: ``numpy`` (blocked brute force, float64, no dependency), ``numba`` (a
cache-blocked L1 kernel, :mod:`latentgraph.graphs._l1kernel`; L1 only), ``faiss`` (``IndexFlat``
with ``METRIC_L1``/``METRIC_L2``, CPU), ``faiss-gpu`` (the same index on a GPU), and
``auto``: faiss-gpu when FAISS sees a GPU and N >= :data:`GPU_MIN_N` rows (below, the GPU's
start-up costs more than the CPU's whole search); else, for L1 on N >= 4,096 rows, numba
(3-5x faster than FAISS's memory-bound L1 scan on 2 cores, see ``benchmarks/bench_knn.py``);
else faiss; else numpy.

Before its first search, backend ``faiss-gpu`` runs a smoke test in a subprocess
(:func:`check_faiss_gpu`, once per process): a FAISS build without kernels for the GPU
aborts the process in CUDA, which would otherwise end a job without a Python error.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..utils import LatentGraphError, check_k, default_jobs

if TYPE_CHECKING:  # scipy.sparse (0.2 s to import) only where graphs become matrices: not in `latentgraph knn`
    import scipy.sparse as sp

log = logging.getLogger(__name__)

METRICS = ("l1", "l2")
BACKENDS = ("auto", "numpy", "numba", "faiss", "faiss-gpu")
NUMBA_MIN_N = 4096  # below this, FAISS's start-up is cheaper than numba's (cached) kernel load
#: ``auto`` picks faiss-gpu from this many rows on. Estimated crossover: the GPU's fixed cost in
#: a process (CUDA context, FAISS's GPU resources, the smoke test's subprocess: about 2-4 s,
#: an estimate) against the CPU kernel's search, about 1.6e-8 s x N^2 at d = 512 on 2 cores
#: when this was set, about 6e-9 s x N^2 now (0.73 s at N = 10,000, 2.2 s at 20,000;
#: docs/gpu.md), which would put it near 20,000-26,000; kept until a GPU measures its cost.
GPU_MIN_N = 15_000
_U32 = 2.0**-24  # unit roundoff of float32


# --------------------------------------------------------------------------- tables


@dataclass
class KnnTable:
    """The k nearest neighbours of every vertex, sorted by (distance, index).

    Parameters
    ----------
    indices : numpy.ndarray
        (N, k) int64; ``indices[i, j]`` is the row position of the (j+1)-th nearest other
        sample of row i.
    distances : numpy.ndarray
        (N, k) float64; ``distances[i, j]`` is the exact distance to ``indices[i, j]``.
    sample_id : numpy.ndarray
        (N,) int64 sample ids of the rows.
    labels : numpy.ndarray
        (N,) int64 class labels of the rows.
    metric : str, optional
        ``"l1"`` (default) or ``"l2"``, the metric of the distances.
    metadata : dict, optional
        Free-form provenance (e.g. ``backend``, ``source``); empty by default.
    """

    indices: np.ndarray  # (N, k) int64
    distances: np.ndarray  # (N, k) float64
    sample_id: np.ndarray  # (N,) int64
    labels: np.ndarray  # (N,) int64
    metric: str = "l1"
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of vertices."""
        return int(self.indices.shape[0])

    @property
    def k(self) -> int:
        """Number of neighbours stored per vertex (the largest usable k)."""
        return int(self.indices.shape[1])

    def slice(self, k: int) -> KnnTable:
        """The table for a smaller ``k`` (its first k columns).

        Parameters
        ----------
        k : int
            Number of neighbours to keep, 1 <= k <= :attr:`k`.

        Returns
        -------
        KnnTable
            A new table sharing ids, labels and metric; metadata is copied.
        """
        _check_slice_k(k, self.k)
        return KnnTable(
            self.indices[:, :k], self.distances[:, :k], self.sample_id, self.labels, self.metric, dict(self.metadata)
        )

    def adjacency(self, k: int | None = None, directed: bool = False) -> sp.csr_array:
        """Sparse adjacency (data = distance) of the kNN graph at ``k``; see :func:`adjacency`.

        Parameters
        ----------
        k : int, optional
            Number of neighbours; None (default) uses all stored columns.
        directed : bool, optional
            Directed graph (i -> j per neighbour) instead of the undirected union (default).

        Returns
        -------
        scipy.sparse.csr_array
            (N, N) adjacency with distances as data.
        """
        return adjacency(self.indices, k=k, directed=directed, distances=self.distances)

    def edges(self, k: int | None = None, directed: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edge list ``(source, target, distance)`` of the kNN graph at ``k``; see :func:`edges`.

        Parameters
        ----------
        k : int, optional
            Number of neighbours; None (default) uses all stored columns.
        directed : bool, optional
            Directed edges (i -> j per neighbour) instead of the undirected union (default).

        Returns
        -------
        tuple of numpy.ndarray
            ``(source, target, distance)``: int64, int64 and float64 arrays of equal length.
        """
        return edges(self.indices, k=k, directed=directed, distances=self.distances)


def _check_slice_k(k: int, kmax: int) -> None:
    check_k(k, stored=kmax, where="table")


# --------------------------------------------------------------------------- search


def _validate(X: Any, k: int, metric: str) -> np.ndarray:
    if metric not in METRICS:
        raise LatentGraphError(f"unknown metric {metric!r}; allowed: {list(METRICS)}")
    X = np.asarray(X)
    if X.ndim != 2:
        raise LatentGraphError(f"latents must be a 2-D array, got shape {X.shape}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X).all():
        raise LatentGraphError("latents contain NaN or inf values")
    n = X.shape[0]
    check_k(k, n)
    return X


def _pair_distances(Xq: np.ndarray, Xc: np.ndarray, metric: str) -> np.ndarray:
    """Exact float64 distances between query rows ``Xq`` (b, d) and ``Xc`` (b, m, d) or (m, d).

    Every backend's final distances come from this one expression, so equal inputs give
    bit-identical distances and the same (distance, index) order everywhere.
    """
    # c - q: the magnitude of q - c exactly. (b, m, d) candidates are converted once and
    # updated in place: one float64 buffer, no second temporary.
    if Xc.ndim == 2:
        diff = Xc[None, :, :].astype(np.float64) - Xq[:, None, :].astype(np.float64)
    else:
        diff = Xc.astype(np.float64)
        diff -= Xq[:, None, :].astype(np.float64)
    if metric == "l1":
        np.abs(diff, out=diff)
        return diff.sum(axis=2)
    np.square(diff, out=diff)
    return np.sqrt(diff.sum(axis=2))


def _sort_rows(idx: np.ndarray, dist: np.ndarray, self_rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop each row's own index, sort by (distance, index) and keep k columns."""
    n_sentinel = np.iinfo(np.int64).max
    is_self = (idx == self_rows[:, None]) | (idx < 0)
    dist = np.where(is_self, np.inf, dist)
    idx = np.where(is_self, n_sentinel, idx)
    order = np.lexsort((idx, dist), axis=1)[:, :k]
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(dist, order, axis=1)


def _brute_rows(X: np.ndarray, rows: np.ndarray, k: int, metric: str, block_elems: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
    """Exact kNN of ``rows`` against all of X by blocked brute force (float64)."""
    n, d = X.shape
    out_i = np.empty((rows.size, k), dtype=np.int64)
    out_d = np.empty((rows.size, k), dtype=np.float64)
    bq = max(1, min(rows.size, block_elems // max(1, d * 256)))
    bd = max(1, block_elems // max(1, d * bq))
    keep = min(n, k + 1)
    for q0 in range(0, rows.size, bq):
        q = rows[q0 : q0 + bq]
        Dq = np.empty((q.size, n), dtype=np.float64)
        for c0 in range(0, n, bd):
            Dq[:, c0 : c0 + bd] = _pair_distances(X[q], X[c0 : c0 + bd], metric)
        Dq[np.arange(q.size), q] = np.inf  # the query itself
        # candidates: the `keep` smallest values; a row with more values tied at its
        # boundary than fit is sorted in full (a stable sort orders ties by index)
        part = np.argpartition(Dq, keep - 1, axis=1)[:, :keep]
        pd = np.take_along_axis(Dq, part, axis=1)
        kth = pd.max(axis=1)
        tied = np.flatnonzero((Dq <= kth[:, None]).sum(axis=1) > keep)
        o = np.lexsort((part, pd), axis=1)[:, :k]
        bi, bd_ = np.take_along_axis(part, o, axis=1), np.take_along_axis(pd, o, axis=1)
        if tied.size:
            full = np.argsort(Dq[tied], axis=1, kind="stable")[:, :k]
            bi[tied] = full
            bd_[tied] = np.take_along_axis(Dq[tied], full, axis=1)
        out_i[q0 : q0 + q.size] = bi
        out_d[q0 : q0 + q.size] = bd_
    return out_i, out_d


def _faiss_candidates(X: np.ndarray, kk: int, metric: str, gpu: bool, threads: int | None,
                      queries: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise LatentGraphError("backend 'faiss' needs the faiss package (faiss-cpu or faiss-gpu)") from exc
    if threads:
        faiss.omp_set_num_threads(int(threads))
    d = X.shape[1]
    index: Any = faiss.IndexFlat(d, faiss.METRIC_L1 if metric == "l1" else faiss.METRIC_L2)
    if gpu:
        if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() < 1:
            raise LatentGraphError("backend 'faiss-gpu' needs a FAISS GPU build and a visible GPU")
        check_faiss_gpu()  # a CUDA abort in a subprocess, not in this one
        res = faiss.StandardGpuResources()
        index = faiss.index_cpu_to_gpu(res, 0, index)
    index.add(X)
    D, Ind = index.search(X if queries is None else X[queries[0] : queries[1]], kk)
    D = D.astype(np.float64)
    if metric == "l2":
        D = np.sqrt(np.maximum(D, 0.0))
    return Ind.astype(np.int64), D


def faiss_has_gpu() -> bool:
    """True when the installed FAISS is a GPU build and sees at least one GPU.

    Returns
    -------
    bool
        False also when FAISS is not importable.
    """
    try:
        import faiss
    except ImportError:
        return False
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


#: Python code of the GPU smoke test (:func:`check_faiss_gpu`): one L1 search of a few rows on
#: GPU 0, checked against the CPU index (each row first, distances equal up to rounding).
_GPU_SMOKE_CODE = """
import faiss, numpy as np
x = np.random.default_rng(0).random((64, 32), dtype=np.float32)
cpu = faiss.IndexFlat(32, faiss.METRIC_L1)
cpu.add(x)
res = faiss.StandardGpuResources()
gpu = faiss.index_cpu_to_gpu(res, 0, faiss.IndexFlat(32, faiss.METRIC_L1))
gpu.add(x)
D, I = gpu.search(x, 4)
Dc, Ic = cpu.search(x, 4)
if not (np.array_equal(I[:, 0], np.arange(64)) and np.allclose(D, Dc, rtol=1e-4, atol=1e-4)):
    raise SystemExit(f"the GPU's L1 distances differ from the CPU's: {D[:2]} vs {Dc[:2]}")
"""
_GPU_CHECKED = False  # set once the smoke test passed in this process


def _gpu_smoke_command() -> list[str]:
    """The command of the GPU smoke test: this interpreter running :data:`_GPU_SMOKE_CODE`."""
    return [sys.executable, "-c", _GPU_SMOKE_CODE]


def _faiss_build() -> str:
    """The FAISS in use, for messages: version, compile options and where it is installed."""
    try:
        import faiss
    except ImportError:
        return "FAISS (not importable)"
    opts = str(getattr(faiss, "get_compile_options", lambda: "")()).strip()
    where = os.path.dirname(getattr(faiss, "__file__", "") or "") or "?"
    return f"FAISS {getattr(faiss, '__version__', '?')} ({opts or 'compile options unknown'}) from {where}"


def gpu_names() -> list[str]:
    """Names and compute capabilities of the GPUs ``nvidia-smi`` lists (empty without it).

    Returns
    -------
    list of str
        One entry per GPU, e.g. ``"NVIDIA H200 (compute capability 9.0)"``; empty when
        ``nvidia-smi`` is missing, fails or times out (:func:`latentgraph.gpu.visible_gpus`).
    """
    from ..gpu import visible_gpus  # torch-free: it reads torch's version file, never imports torch

    return visible_gpus(timeout=30).labels()


def cpu_name() -> str:
    """The CPU model (``/proc/cpuinfo``, else :func:`platform.processor`) and its core count.

    Returns
    -------
    str
        ``"<model>, <n> cores"``.
    """
    import platform

    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model or platform.processor() or platform.machine() or 'CPU'}, {os.cpu_count()} cores"


def device_name() -> str:
    """What a kNN search runs on, without torch: the GPUs FAISS sees, else the CPU.

    Returns
    -------
    str
        The GPUs named by ``nvidia-smi`` when present (else counted through
        ``faiss.get_num_gpus``); without a GPU, :func:`cpu_name`.
    """
    if faiss_has_gpu():
        import faiss

        names = gpu_names()
        return ", ".join(names) if names else f"{faiss.get_num_gpus()} GPU(s) (nvidia-smi not found)"
    return cpu_name()


def check_faiss_gpu(timeout: float = 300.0) -> None:
    """Run a FAISS GPU search of a few rows in a subprocess, once per process.

    A FAISS build without kernels for the GPU (e.g. the ``faiss-gpu-cu12`` wheel, which has
    no sm_90 kernels, on an H100/H200) or a broken CUDA set-up aborts the process inside
    CUDA, with no Python error to catch. The subprocess takes that abort; this process
    raises a clear error instead. Passing once is remembered for the rest of the process.

    Parameters
    ----------
    timeout : float, optional
        Seconds the smoke test may take (CUDA start-up included); default 300.

    Raises
    ------
    LatentGraphError
        When the smoke test fails, aborts or times out; the message names the FAISS build,
        the GPUs and what to do.
    """
    global _GPU_CHECKED
    if _GPU_CHECKED:
        return
    import time

    cmd = _gpu_smoke_command()
    t0 = time.perf_counter()
    rc: int | None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        rc, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr
        rc, stderr = None, err.decode(errors="replace") if isinstance(err, bytes) else (err or "")
    if rc == 0:
        _GPU_CHECKED = True
        log.info("knn: FAISS GPU smoke test passed in %.1f s", time.perf_counter() - t0)
        return
    if rc is None:
        how = f"did not finish within {timeout:g} s"
    elif rc < 0:
        try:
            how = f"was killed by signal {signal.Signals(-rc).name}"
        except ValueError:
            how = f"was killed by signal {-rc}"
    else:
        how = f"exited with status {rc}"
    tail = "\n".join(f"    {line}" for line in (stderr or "").strip().splitlines()[-12:]) or "    (none)"
    gpus = ", ".join(gpu_names()) or "unknown (nvidia-smi not found or failed)"
    raise LatentGraphError(
        f"FAISS GPU smoke test failed: one METRIC_L1 search of 64 rows on GPU 0, run in a subprocess, {how}.\n"
        f"  FAISS build: {_faiss_build()}\n"
        f"  GPU: {gpus}; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}\n"
        f"  its stderr (last lines):\n{tail}\n"
        "What to do:\n"
        "  - A FAISS GPU build without kernels for this GPU aborts like this (\"no kernel image is available\"):\n"
        "    the faiss-gpu-cu12 wheel has none for Hopper (sm_90: H100, H200). Install the official faiss-gpu\n"
        "    wheel >= 1.15.1 (envs/graph-gpu.yaml; pip extra [gpu]).\n"
        "  - Check that nvidia-smi works on the node and that its driver supports the build's CUDA version.\n"
        "  - Meanwhile search on the CPU (same results): knn.backend: numba or faiss, or raise\n"
        "    resources.knn_gpu_min_samples so that the kNN jobs ask for no GPU."
    )


def resolve_knn_backend(backend: str = "auto", n: int | None = None, metric: str = "l1") -> str:
    """Turn ``auto`` into a concrete backend for ``n`` rows and ``metric``; validate the others.

    ``auto`` picks faiss-gpu only when FAISS sees a GPU and ``n`` is at least
    :data:`GPU_MIN_N` (or unknown); otherwise numba for L1 on ``n`` >= :data:`NUMBA_MIN_N`
    rows, else faiss, else numpy.

    Parameters
    ----------
    backend : str, optional
        One of :data:`BACKENDS`; default ``"auto"``.
    n : int, optional
        Number of rows to search; None means unknown (treated as large).
    metric : str, optional
        ``"l1"`` (default) or ``"l2"``.

    Returns
    -------
    str
        A concrete backend: ``"numpy"``, ``"numba"``, ``"faiss"`` or ``"faiss-gpu"``.

    Raises
    ------
    LatentGraphError
        For an unknown backend, or ``"numba"`` with a metric other than L1.
    """
    if backend not in BACKENDS:
        raise LatentGraphError(f"unknown kNN backend {backend!r}; allowed: {list(BACKENDS)}")
    if backend == "numba" and metric != "l1":
        raise LatentGraphError("backend 'numba' supports metric 'l1' only")
    if backend != "auto":
        return backend
    if (n is None or n >= GPU_MIN_N) and faiss_has_gpu():
        return "faiss-gpu"
    from ._l1kernel import HAVE_NUMBA

    if HAVE_NUMBA and metric == "l1" and (n is None or n >= NUMBA_MIN_N):
        return "numba"
    try:
        import faiss  # noqa: F401
    except ImportError:
        return "numpy"
    return "faiss"


def preload_numba(backend: str = "auto", n: int | None = None, metric: str = "l1") -> threading.Thread | None:
    """Start loading numba and the cached L1 kernel in a thread, when the search will use them.

    A fresh process pays about 0.5 s once for numba: its import, then, on the first call of
    any compiled function, the set-up of its compiler context (it imports its numpy
    implementation modules, and scipy through them) before the kernel's cached machine code
    loads. Started before the latents are read, that set-up overlaps the reading (pyarrow
    decodes without holding the GIL). Join the thread before searching; results do not
    depend on it. Nothing is started for a backend other than numba, for fewer than
    :data:`NUMBA_MIN_N` rows under ``auto``, or without numba.

    Parameters
    ----------
    backend : str, optional
        The search's backend setting (default ``"auto"``).
    n : int, optional
        Number of rows, when known before reading (default: unknown).
    metric : str, optional
        The search's metric (default ``"l1"``).

    Returns
    -------
    threading.Thread or None
        The started thread, or None when nothing was started.
    """
    import importlib.util

    if metric != "l1" or backend not in ("auto", "numba"):
        return None
    if backend == "auto" and n is not None and n < NUMBA_MIN_N:
        return None
    if importlib.util.find_spec("numba") is None:
        return None

    def load() -> None:
        try:
            from ._l1kernel import load_kernel

            load_kernel()
        except Exception as exc:  # noqa: BLE001 - the search itself reports real problems
            log.debug("preloading numba failed: %s", exc)

    thread = threading.Thread(target=load, name="latentgraph-preload-numba")
    thread.start()
    return thread


def knn(
    X: Any,
    k: int,
    metric: str = "l1",
    backend: str = "auto",
    threads: int | None = None,
    margin: int = 8,
    rows: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row of ``X`` (or of rows ``a..b-1``) among the other rows.

    Parameters
    ----------
    X : array_like
        (N, d) latents; converted to float32 (the stored precision of latents).
    k : int
        Number of neighbours, 1 <= k < N.
    metric : str, optional
        ``"l1"`` (Manhattan, the thesis's choice; default) or ``"l2"`` (Euclidean).
    backend : str, optional
        ``"auto"`` (default), ``"numpy"``, ``"numba"``, ``"faiss"`` or ``"faiss-gpu"``; the
        result does not depend on it.
    threads : int, optional
        CPU threads for FAISS (default: FAISS's own).
    margin : int, optional
        Extra candidates fetched beyond k + 1, so that few rows need the exact fallback
        (default 8).
    rows : tuple of int, optional
        ``(a, b)``: search only the query rows ``a..b-1`` (against all N rows), one shard
        of a sharded search (``knn.shards``); default all rows. The result's row ``r`` is
        row ``a + r`` of the full result, identical to it (every row's neighbours and
        distances depend only on that row and X).

    Returns
    -------
    indices : numpy.ndarray
        (N, k) (or (b - a, k)) int64 row positions, each row sorted by (distance, index),
        never containing the row itself.
    distances : numpy.ndarray
        The float64 exact distances, in the same order.

    Raises
    ------
    LatentGraphError
        For a bad ``k``, ``metric``, ``backend`` or ``rows``, or non-finite latents.
    """
    X = _validate(X, k, metric)
    n = X.shape[0]
    a, b = check_rows(rows, n)
    backend = resolve_knn_backend(backend, n, metric)
    queries = np.arange(a, b, dtype=np.int64)
    if backend == "numpy":
        return _brute_rows(X, queries, k, metric)

    kk = min(n, k + 1 + max(0, int(margin)))
    if backend == "numba":
        return _numba_knn(X, k, kk, queries, threads)
    cand, approx = _faiss_candidates(X, kk, metric, gpu=(backend == "faiss-gpu"), threads=threads, queries=(a, b))
    idx, dist = _rerank(X, cand, queries, k, metric, threads=threads)
    if kk < n:
        # rows whose k-th exact distance is not safely below every non-candidate's distance
        tol = _tolerance(X, approx[:, -1], metric)
        unsafe = np.flatnonzero(approx[:, -1] - tol <= dist[:, -1])
        if unsafe.size:
            log.debug("knn: %d of %d rows recomputed exactly (boundary ties)", unsafe.size, queries.size)
            idx[unsafe], dist[unsafe] = _brute_rows(X, queries[unsafe], k, metric)
    return idx, dist


def _numba_knn(X: np.ndarray, k: int, kk: int, queries: np.ndarray, threads: int | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`knn` with the numba kernel: candidates, exact re-rank, checked boundary.

    The kernel proposes ``kk`` candidates per query by an approximate distance (the ``"int16"``
    form on CPUs with AVX-512 VNNI, else ``"min"`` for non-negative latents, else ``"abs"``, see
    :func:`~latentgraph.graphs._l1kernel.l1_candidates`); :func:`~latentgraph.graphs._l1kernel.l1_exact`
    gives their exact distances with numpy's bits (so the result equals every other backend's).
    A row whose k-th exact distance is not safely below its last candidate's approximate
    distance (:func:`~latentgraph.graphs._l1kernel.l1_tolerance`) is searched again with the
    next form (``"int16"``, then ``"min"`` where the rows are non-negative, then ``"abs"``, whose
    error is relative to the distance itself), and by brute force if still not safe.
    """
    from ._l1kernel import _min_form_sums, l1_candidates, l1_exact, l1_form, quantize_int16

    n = X.shape[0]
    sums = _min_form_sums(X)  # once: the form, the kernel and the bound all use them
    forms = ["min", "abs"] if sums is not None else ["abs"]
    quant = None
    if l1_form(X) == "int16" and kk < n:
        quant = quantize_int16(X, threads=threads)
        if _int16_pays(X, k, kk, quant, threads):
            forms.insert(0, "int16")
        else:
            quant = None
    a, b = int(queries[0]), int(queries[-1]) + 1
    if kk == n:  # every row is a candidate: no bound needed (and no int16 form, see above)
        cand, _ = l1_candidates(X, kk, threads=threads, rows=(a, b), form=forms[0], sums=sums)
        return _sort_rows(cand, l1_exact(X, cand, queries, threads=threads), queries, k)
    idx, dist, safe = _form_search(X, k, kk, (a, b), queries, forms[0], sums, quant, threads)
    unsafe = np.flatnonzero(~safe)
    for form in forms[1:]:
        if not unsafe.size:
            return idx, dist
        rows = queries[unsafe]
        log.debug("knn: %d of %d rows searched again with the %s form", rows.size, queries.size, form)
        idx[unsafe], dist[unsafe], safe = _form_search(X, k, kk, rows, rows, form, sums, quant, threads)
        unsafe = unsafe[~safe]
    if unsafe.size:
        log.debug("knn: %d of %d rows recomputed exactly (boundary ties)", unsafe.size, queries.size)
        idx[unsafe], dist[unsafe] = _brute_rows(X, queries[unsafe], k, "l1")
    return idx, dist


def _form_search(X: np.ndarray, k: int, kk: int, search: Any, rows: np.ndarray, form: str, sums: Any, quant: Any,
                 threads: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One form of the numba kernel for some rows: candidates, exact re-rank, the bound's verdict.

    ``search`` is what :func:`~latentgraph.graphs._l1kernel.l1_candidates` searches (a row
    range ``(a, b)`` or an array), ``rows`` the same rows as an array; ``sums`` and ``quant``
    are used by the ``"min"`` and ``"int16"`` forms. Returns the k nearest (indices,
    distances) by exact distance among the candidates, and per row whether the bound vouches
    that no row outside the candidates is nearer than the k-th (its distance strictly below
    the last candidate's approximate distance minus the bound).
    """
    from ._l1kernel import l1_candidates, l1_exact, l1_tolerance

    cand, approx = l1_candidates(X, kk, threads=threads, rows=search, form=form,
                                 sums=sums if form == "min" else None, quant=quant if form == "int16" else None)
    tol = l1_tolerance(X, approx[:, -1], rows, form, sums=sums, quant=quant)
    idx, dist = _sort_rows(cand, l1_exact(X, cand, rows, threads=threads, count=_needed(approx, tol, k)), rows, k)
    return idx, dist, approx[:, -1] - tol > dist[:, -1]


#: rows of the pilot search that decides whether the int16 form pays (see _int16_pays)
INT16_PILOT_ROWS = 128
#: the int16 form is used when at most this fraction of the pilot's rows needs another search
INT16_MAX_UNSAFE = 0.1


def _int16_pays(X: np.ndarray, k: int, kk: int, quant: Any, threads: int | None) -> bool:
    """Whether the kernel's ``"int16"`` form will vouch for enough rows to be worth it.

    Its bound is the rows' rounding to one common step, set by the widest feature: on
    heavy-tailed latents (a few values far above the rest) the step is coarse, the bound
    exceeds the gaps between neighbours, and most rows would be searched a second time
    (row by row, at twice the cost per row of the first, symmetric search). A pilot search
    of :data:`INT16_PILOT_ROWS` evenly spaced rows (about 1 % of the work at N = 10,000)
    measures the share of rows it cannot vouch for; above :data:`INT16_MAX_UNSAFE` the float32
    forms are used instead. The choice changes the time only, never the result.
    """
    n = X.shape[0]
    rows = np.unique(np.linspace(0, n - 1, min(n, INT16_PILOT_ROWS)).astype(np.int64))
    _, _, safe = _form_search(X, k, kk, rows, rows, "int16", None, quant, threads)
    unsafe = 1.0 - float(np.mean(safe))
    log.debug("knn: the int16 form cannot vouch for %.0f%% of %d pilot rows: %s", 100 * unsafe, rows.size,
              "used" if unsafe <= INT16_MAX_UNSAFE else "float32 forms instead")
    return unsafe <= INT16_MAX_UNSAFE


def _needed(approx: np.ndarray, tol: np.ndarray, k: int) -> np.ndarray:
    """How many of each row's candidates can be among its exact k nearest.

    The candidates come sorted by float32 distance ``approx``, each within ``tol`` of its
    exact distance (``tol`` bounds the error of the row's last, largest candidate, hence of
    every one). The first k + 1 candidates hold at least k other rows, so the k-th exact
    distance is at most ``approx[:, k] + tol``; a candidate whose float32 distance exceeds that
    by more than ``tol`` is farther than k others and needs no exact distance. Ties stay in
    (``<=``): a candidate at exactly the k-th distance can win by its index.

    Parameters
    ----------
    approx : numpy.ndarray
        (Q, kk) float32 distances (as float64), each row ascending; kk > k.
    tol : numpy.ndarray
        (Q,) error bounds of the rows' last candidates.
    k : int
        Neighbours per row.

    Returns
    -------
    numpy.ndarray
        (Q,) int64 counts, each in [k + 1, kk]: the candidates that need exact distances, a prefix.
    """
    bound = approx[:, k] + 2.0 * tol
    return (approx <= bound[:, None]).sum(axis=1).astype(np.int64)


def check_rows(rows: Any, n: int) -> tuple[int, int]:
    """Validate a query row range ``(a, b)`` of an N-row search; None means all rows.

    Parameters
    ----------
    rows : tuple of int or None
        ``(a, b)`` with ``0 <= a < b <= n``.
    n : int
        Number of rows.

    Returns
    -------
    tuple of int
        ``(a, b)``.

    Raises
    ------
    LatentGraphError
        For anything but a non-empty range inside ``0..n``.
    """
    if rows is None:
        return 0, n
    try:
        a, b = (int(v) for v in rows)
    except (TypeError, ValueError):
        raise LatentGraphError(f"rows must be a pair (a, b) of row positions, got {rows!r}") from None
    if not 0 <= a < b <= n:
        raise LatentGraphError(f"rows must satisfy 0 <= a < b <= N = {n}, got ({a}, {b})")
    return a, b


def _rerank(X: np.ndarray, cand: np.ndarray, rows: np.ndarray, k: int, metric: str, block: int = 64,
            threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact float64 distances to each row's candidates, sorted by (distance, index).

    Blocks of rows run in a thread pool (numpy releases the GIL in the gathers and
    ufuncs); each block is small enough to stay in cache.
    """
    n = rows.size
    out_i = np.empty((n, k), dtype=np.int64)
    out_d = np.empty((n, k), dtype=np.float64)

    def run(s: int) -> None:
        c = cand[s : s + block]
        r = rows[s : s + block]
        safe_c = np.where(c < 0, r[:, None], c)  # faiss pads with -1 when it finds fewer
        dist = _pair_distances(X[r], X[safe_c], metric)
        out_i[s : s + block], out_d[s : s + block] = _sort_rows(c, dist, r, k)

    starts = range(0, n, block)
    workers = min(len(starts), threads or default_jobs())
    if workers <= 1:
        for s in starts:
            run(s)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
    return out_i, out_d


def _tolerance(X: np.ndarray, approx_last: np.ndarray, metric: str) -> np.ndarray:
    """A bound on |float32 distance - exact distance| for the backend's candidates."""
    d = X.shape[1]
    if metric == "l1":
        return 4.0 * (d + 2) * _U32 * approx_last + 1e-30
    # FAISS computes ||x||^2 + ||y||^2 - 2 x.y in float32: the error scales with the norms.
    sq = np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64))
    err_sq = 8.0 * (d + 2) * _U32 * (sq + sq.max())
    return np.sqrt(np.maximum(approx_last**2, 0) + err_sq) - np.sqrt(np.maximum(approx_last**2 - err_sq, 0))


# --------------------------------------------------------------------------- graphs


def edges(
    indices: np.ndarray,
    k: int | None = None,
    directed: bool = False,
    distances: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge list of a kNN graph from a neighbour table.

    Parameters
    ----------
    indices : numpy.ndarray
        (N, kmax) neighbour table, as :attr:`KnnTable.indices`.
    k : int, optional
        Number of neighbours (first k columns); None (default) uses all kmax.
    directed : bool, optional
        Directed: one edge i -> j per neighbour j of i. Undirected (the default, thesis
        Fig 2.1a): the union of those edges, each pair {i, j} once with i < j.
    distances : numpy.ndarray, optional
        (N, kmax) distances used as weights; None gives weights of one.

    Returns
    -------
    tuple of numpy.ndarray
        ``(source, target, weight)``: int64, int64 and float64 arrays of equal length.
    """
    indices = np.asarray(indices)
    kmax = indices.shape[1]
    k = kmax if k is None else k
    _check_slice_k(k, kmax)
    n = indices.shape[0]
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    dst = indices[:, :k].reshape(-1).astype(np.int64)
    w = np.ones(src.size) if distances is None else np.asarray(distances, dtype=np.float64)[:, :k].reshape(-1)
    if directed:
        return src, dst, w
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    key = lo * n + hi
    order = np.argsort(key, kind="stable")  # the first occurrence of each pair wins
    key = key[order]
    first = order[np.concatenate(([True], key[1:] != key[:-1]))]
    return lo[first], hi[first], w[first]


def adjacency(
    indices: np.ndarray,
    k: int | None = None,
    directed: bool = False,
    distances: np.ndarray | None = None,
) -> sp.csr_array:
    """Sparse N x N adjacency of the kNN graph at ``k`` (data = distance, or 1).

    The sparsity pattern is the graph: an edge of distance 0 (duplicate latents) is stored
    as an explicit zero.

    Parameters
    ----------
    indices : numpy.ndarray
        (N, kmax) neighbour table, as :attr:`KnnTable.indices`.
    k : int, optional
        Number of neighbours (first k columns); None (default) uses all kmax.
    directed : bool, optional
        Directed graph (i -> j per neighbour) instead of the undirected union (default).
    distances : numpy.ndarray, optional
        (N, kmax) distances stored as data; None stores ones.

    Returns
    -------
    scipy.sparse.csr_array
        (N, N) adjacency with sorted indices; symmetric when undirected.
    """
    n = np.asarray(indices).shape[0]
    src, dst, w = edges(indices, k=k, directed=directed, distances=distances)
    if not directed:
        src, dst, w = np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate([w, w])
    return csr_from_edges(src, dst, w, n)


def csr_from_edges(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> sp.csr_array:
    """A canonical CSR array from unique (src, dst) pairs, keeping explicit zeros.

    Parameters
    ----------
    src, dst : numpy.ndarray
        Integer row and column of each entry; the pairs must be unique.
    w : numpy.ndarray
        Value of each entry.
    n : int
        Number of vertices (the array is n x n).

    Returns
    -------
    scipy.sparse.csr_array
        (n, n) array with sorted indices.
    """
    order = np.argsort(np.asarray(src, dtype=np.int64) * n + dst)
    src, dst, w = src[order], dst[order], w[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    import scipy.sparse as sp

    A = sp.csr_array((w, dst, indptr), shape=(n, n))
    A.has_sorted_indices = True
    return A


def knn_graph(
    X: Any,
    k: int,
    metric: str = "l1",
    directed: bool = False,
    backend: str = "auto",
    threads: int | None = None,
) -> sp.csr_array:
    """The kNN graph of ``X`` as a sparse adjacency with distances as data.

    Shorthand for :func:`knn` followed by :func:`adjacency`.

    Parameters
    ----------
    X : array_like
        (N, d) latents.
    k : int
        Number of neighbours, 1 <= k < N.
    metric : str, optional
        ``"l1"`` (default) or ``"l2"``.
    directed : bool, optional
        Directed graph instead of the undirected union (default).
    backend : str, optional
        kNN backend, see :func:`resolve_knn_backend`; default ``"auto"``.
    threads : int, optional
        CPU threads for FAISS (default: FAISS's own).

    Returns
    -------
    scipy.sparse.csr_array
        (N, N) adjacency with distances as data.
    """
    idx, dist = knn(X, k, metric=metric, backend=backend, threads=threads)
    return adjacency(idx, directed=directed, distances=dist)


def knn_table(
    X: Any,
    k: int,
    labels: np.ndarray,
    sample_id: np.ndarray | None = None,
    metric: str = "l1",
    backend: str = "auto",
    threads: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> KnnTable:
    """Search once at ``k`` and wrap the result with ids and labels in a :class:`KnnTable`.

    Parameters
    ----------
    X : array_like
        (N, d) latents.
    k : int
        Number of neighbours, 1 <= k < N.
    labels : numpy.ndarray
        (N,) class labels of the rows.
    sample_id : numpy.ndarray, optional
        (N,) sample ids; None (default) numbers the rows 0..N-1.
    metric : str, optional
        ``"l1"`` (default) or ``"l2"``.
    backend : str, optional
        kNN backend, see :func:`resolve_knn_backend`; default ``"auto"``.
    threads : int, optional
        CPU threads for FAISS (default: FAISS's own).
    metadata : dict, optional
        Provenance to store; the resolved backend is added as ``"backend"``.

    Returns
    -------
    KnnTable
        The exact (N, k) neighbour table.
    """
    n = np.asarray(X).shape[0]
    sample_id = np.arange(n, dtype=np.int64) if sample_id is None else np.asarray(sample_id, dtype=np.int64)
    resolved = resolve_knn_backend(backend, n, metric)
    idx, dist = knn(X, k, metric=metric, backend=resolved, threads=threads)
    meta = dict(metadata or {})
    meta["backend"] = resolved
    return KnnTable(idx, dist, sample_id, np.asarray(labels, dtype=np.int64), metric, meta)


def align(a: KnnTable, b: KnnTable) -> KnnTable:
    """Re-express table ``b`` in the row order of ``a`` (vertices matched by ``sample_id``).

    Parameters
    ----------
    a : KnnTable
        The table whose row order is kept.
    b : KnnTable
        The table to reorder.

    Returns
    -------
    KnnTable
        ``b`` itself when its rows are already in ``a``'s order, else a reordered copy with
        ``a``'s ids and labels.

    Raises
    ------
    LatentGraphError
        When the two tables do not hold the same samples or their labels disagree.
    """
    where_a = a.metadata.get("source", "graph A")
    where_b = b.metadata.get("source", "graph B")
    if a.n == b.n and np.array_equal(a.sample_id, b.sample_id):
        perm = np.arange(a.n)
    else:
        only_a = np.setdiff1d(a.sample_id, b.sample_id)
        only_b = np.setdiff1d(b.sample_id, a.sample_id)
        if only_a.size or only_b.size:
            raise LatentGraphError(
                f"{where_a} and {where_b} hold different samples: {only_a.size} sample ids only in the first "
                f"(e.g. {only_a[:5].tolist()}), {only_b.size} only in the second (e.g. {only_b[:5].tolist()})"
            )
        order_b = np.argsort(b.sample_id)
        perm = order_b[np.searchsorted(b.sample_id, a.sample_id, sorter=order_b)]
    if not np.array_equal(a.labels, b.labels[perm]):
        bad = int(np.sum(a.labels != b.labels[perm]))
        raise LatentGraphError(f"{where_a} and {where_b} disagree on the labels of {bad} samples")
    if np.array_equal(perm, np.arange(a.n)):
        return b
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    return KnnTable(inv[b.indices[perm]], b.distances[perm], a.sample_id, a.labels, b.metric, dict(b.metadata))
