"""Single-source shortest paths folded per class, compiled with numba (threads, no GIL).

For each source the kernel runs Dijkstra (edge lengths) with an indexed 4-ary heap and
decrease-key, or a breadth-first search (hops), and adds every settled vertex's distance to
the source's row of class sums at once: no distance row is ever stored. Sources run in
parallel in numba threads, each with its own O(N) scratch arrays; each row depends on its
source only, so the result does not depend on the number of threads.

Used by :func:`latentgraph.graphs.shortest_paths.class_path_sums` (backend ``numba``); the scipy and igraph
routines compute the same sums (tests compare them).
"""

from __future__ import annotations

import numpy as np

from ..utils import numba_threads

try:  # numba is optional: without it the "numba" backend is simply unavailable
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_NUMBA = False


if HAVE_NUMBA:

    @njit(nogil=True, cache=True)
    def _dijkstra_fold(src, indptr, indices, data, cls, row, dist, pos, hk, hv):  # pragma: no cover - compiled
        # indexed 4-ary min-heap (hk keys, hv vertices, pos[v] = slot, -1 = never seen, -2 = settled)
        n = indptr.size - 1
        for i in range(n):
            dist[i] = np.inf
            pos[i] = -1
        dist[src] = 0.0
        hk[0] = 0.0
        hv[0] = src
        pos[src] = 0
        size = 1
        while size > 0:
            v = hv[0]
            dv = hk[0]
            pos[v] = -2
            row[cls[v]] += dv
            size -= 1
            if size > 0:  # move the last entry to the root and sift it down
                lk = hk[size]
                lv = hv[size]
                i = 0
                while True:
                    c = 4 * i + 1
                    if c >= size:
                        break
                    best = c
                    bk = hk[c]
                    end = min(c + 4, size)
                    for cc in range(c + 1, end):
                        if hk[cc] < bk:
                            bk = hk[cc]
                            best = cc
                    if bk < lk:
                        hk[i] = bk
                        hv[i] = hv[best]
                        pos[hv[i]] = i
                        i = best
                    else:
                        break
                hk[i] = lk
                hv[i] = lv
                pos[lv] = i
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                pu = pos[u]
                if pu == -2:
                    continue
                nd = dv + data[e]
                if nd < dist[u]:
                    dist[u] = nd
                    if pu == -1:  # insert at the end, then sift up
                        i = size
                        size += 1
                    else:  # decrease-key: sift up from its slot
                        i = pu
                    while i > 0:
                        p = (i - 1) >> 2
                        if hk[p] > nd:
                            hk[i] = hk[p]
                            hv[i] = hv[p]
                            pos[hv[i]] = i
                            i = p
                        else:
                            break
                    hk[i] = nd
                    hv[i] = u
                    pos[u] = i

    @njit(nogil=True, cache=True)
    def _bfs_fold(src, indptr, indices, cls, row, level, queue):  # pragma: no cover - compiled
        n = indptr.size - 1
        for i in range(n):
            level[i] = -1
        level[src] = 0
        queue[0] = src
        head = 0
        tail = 1
        while head < tail:
            v = queue[head]
            head += 1
            lv = level[v]
            row[cls[v]] += lv
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                if level[u] < 0:
                    level[u] = lv + 1
                    queue[tail] = u
                    tail += 1

    @njit(parallel=True, nogil=True, cache=True)
    def _class_rows(sources, indptr, indices, data, cls, n_classes, weighted, n_chunks):  # pragma: no cover
        n = indptr.size - 1
        m = sources.size
        out = np.zeros((m, n_classes), dtype=np.float64)
        per = (m + n_chunks - 1) // n_chunks
        for ch in prange(n_chunks):
            a = ch * per
            b = min(m, a + per)
            if a >= b:
                continue
            if weighted:
                dist = np.empty(n, dtype=np.float64)
                pos = np.empty(n, dtype=np.int32)
                hk = np.empty(n, dtype=np.float64)
                hv = np.empty(n, dtype=np.int32)
                for i in range(a, b):
                    _dijkstra_fold(sources[i], indptr, indices, data, cls, out[i], dist, pos, hk, hv)
            else:
                level = np.empty(n, dtype=np.int32)
                queue = np.empty(n, dtype=np.int32)
                for i in range(a, b):
                    _bfs_fold(sources[i], indptr, indices, cls, out[i], level, queue)
        return out


def class_rows(sources: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, cls: np.ndarray,
               n_classes: int, weighted: bool, threads: int) -> np.ndarray:
    """(len(sources), n_classes): per source, the summed distances to the reachable vertices of each class.

    The graph is a symmetric CSR adjacency (``indptr``, ``indices``, ``data`` = lengths);
    ``cls`` maps each vertex to its class position. Runs on ``threads`` numba threads.
    """
    if not HAVE_NUMBA:
        raise ImportError("the numba backend needs numba (pip install numba)")
    if indptr.size - 1 >= 2**31:
        raise ValueError("the numba kernel indexes vertices with int32: at most 2**31 - 1 vertices")
    with numba_threads(max(1, int(threads))):
        return _class_rows(np.ascontiguousarray(sources, dtype=np.int32), indptr.astype(np.int64, copy=False),
                           indices.astype(np.int32, copy=False), data.astype(np.float64, copy=False),
                           cls.astype(np.int32, copy=False), int(n_classes), bool(weighted),
                           int(max(1, threads) * 4))
