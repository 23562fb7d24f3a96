"""A cache-blocked exact L1 candidate search on the CPU (numba).

FAISS's ``IndexFlat(METRIC_L1)`` has no GEMM formulation (L1 is not an inner product), so
it streams every database row from memory once per query batch and is memory bound. This
kernel tiles the work: a block of queries stays in cache while a block of database rows
streams past it, and four queries share every database load. The innermost loop is a
float32 |q - x| reduction that LLVM vectorises (fastmath allows the reassociation).

It only proposes candidates (the ``kk`` smallest float32 distances per query); the caller
re-ranks them exactly in float64 (see :mod:`latentgraph.graphs.knn`).
"""

from __future__ import annotations

import numpy as np

try:  # numba is optional: without it the "numba" backend is simply unavailable
    import numba
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_NUMBA = False

QUERY_BLOCK = 256
DB_BLOCK = 2048


if HAVE_NUMBA:

    @njit(inline="always", fastmath=True, cache=True)
    def _insert(best_d, best_i, q, dist, idx, kk):  # pragma: no cover - compiled
        # best_d[q] is sorted ascending; best_d[q, kk-1] is the current threshold
        pos = kk - 1
        while pos > 0 and best_d[q, pos - 1] > dist:
            best_d[q, pos] = best_d[q, pos - 1]
            best_i[q, pos] = best_i[q, pos - 1]
            pos -= 1
        best_d[q, pos] = dist
        best_i[q, pos] = idx

    @njit(parallel=True, fastmath=True, cache=True)
    def _search(X, kk, qstart, qstop, qblock, dblock):  # pragma: no cover - compiled
        # queries qstart..qstop-1 against every row; result row r is query qstart + r
        n, d = X.shape
        nq = qstop - qstart
        best_d = np.full((nq, kk), np.inf, dtype=np.float32)
        best_i = np.full((nq, kk), -1, dtype=np.int64)
        n_qblocks = (nq + qblock - 1) // qblock
        for qb in prange(n_qblocks):
            q0 = qb * qblock
            q1 = min(nq, q0 + qblock)
            for d0 in range(0, n, dblock):
                d1 = min(n, d0 + dblock)
                q = q0
                while q + 4 <= q1:
                    t0 = best_d[q, kk - 1]
                    t1 = best_d[q + 1, kk - 1]
                    t2 = best_d[q + 2, kk - 1]
                    t3 = best_d[q + 3, kk - 1]
                    for j in range(d0, d1):
                        a0 = np.float32(0.0)
                        a1 = np.float32(0.0)
                        a2 = np.float32(0.0)
                        a3 = np.float32(0.0)
                        for c in range(d):
                            x = X[j, c]
                            a0 += abs(X[qstart + q, c] - x)
                            a1 += abs(X[qstart + q + 1, c] - x)
                            a2 += abs(X[qstart + q + 2, c] - x)
                            a3 += abs(X[qstart + q + 3, c] - x)
                        if a0 < t0:
                            _insert(best_d, best_i, q, a0, j, kk)
                            t0 = best_d[q, kk - 1]
                        if a1 < t1:
                            _insert(best_d, best_i, q + 1, a1, j, kk)
                            t1 = best_d[q + 1, kk - 1]
                        if a2 < t2:
                            _insert(best_d, best_i, q + 2, a2, j, kk)
                            t2 = best_d[q + 2, kk - 1]
                        if a3 < t3:
                            _insert(best_d, best_i, q + 3, a3, j, kk)
                            t3 = best_d[q + 3, kk - 1]
                    q += 4
                while q < q1:
                    t0 = best_d[q, kk - 1]
                    for j in range(d0, d1):
                        a0 = np.float32(0.0)
                        for c in range(d):
                            a0 += abs(X[qstart + q, c] - X[j, c])
                        if a0 < t0:
                            _insert(best_d, best_i, q, a0, j, kk)
                            t0 = best_d[q, kk - 1]
                    q += 1
        return best_i, best_d


def l1_candidates(X: np.ndarray, kk: int, threads: int | None = None,
                  rows: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``kk`` nearest rows of X (itself included) of the query rows ``X[a:b]`` by float32 L1 distance.

    ``rows=(a, b)`` (default: all rows) selects the queries; row r of the result is query
    ``a + r``. Returns (indices int64, distances float64), each row ascending. Ties and
    rounding are the caller's business: it re-ranks exactly.
    """
    if not HAVE_NUMBA:
        raise ImportError("the numba backend needs numba (pip install numba)")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if threads:
        numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))
    a, b = (0, X.shape[0]) if rows is None else (int(rows[0]), int(rows[1]))
    idx, dist = _search(X, int(kk), a, b, QUERY_BLOCK, DB_BLOCK)
    return idx, dist.astype(np.float64)
