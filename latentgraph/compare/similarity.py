"""Similarity between two graphs on the same vertices (thesis §2.2.6).

Graphs are given as sparse N x N adjacency matrices (scipy) whose *sparsity pattern* is the
edge set, or as (N, k) neighbour tables (row i lists the out-neighbours of vertex i). Both
graphs must use the same vertex order. Everything is vectorised with sparse algebra.

- Graph average Jaccard similarity (eq. 2.4): the mean over vertices v of
  |N_A(v) ∩ N_B(v)| / |N_A(v) ∪ N_B(v)|.
- Class neighbourhood similarity, CNS (eq. 2.5): the mean over vertices of
  |Y_A(v) ∩ Y_B(v)| / |Y_A(v)|, where Y(v) is the multiset of the neighbours' labels and ∩
  the multiset intersection (per class, the smaller count). CNS is not symmetric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..utils import LatentGraphError, check_k


def as_structure(G: Any, n: int | None = None) -> sp.csr_array:
    """The 0/1 pattern of a graph as a canonical CSR array (no duplicates, data = 1).

    Parameters
    ----------
    G : scipy.sparse array or numpy.ndarray
        A square scipy sparse matrix/array (its stored entries are edges, explicit zeros
        included) or an (N, k) integer neighbour table (directed edges i -> G[i, j]).
    n : int, optional
        Number of vertices of a neighbour table; None (default) = its row count. Ignored
        for a sparse matrix.

    Returns
    -------
    scipy.sparse.csr_array
        (n, n) pattern with float64 data 1.

    Raises
    ------
    LatentGraphError
        For a non-square matrix, a non-integer or non-2-D table, or out-of-range indices.
    """
    if sp.issparse(G):
        A = sp.csr_array(G, copy=True)
        if A.shape[0] != A.shape[1]:
            raise LatentGraphError(f"adjacency must be square, got shape {A.shape}")
        A.sum_duplicates()  # canonical; keeps explicit zeros (they are edges)
        A.data = np.ones_like(A.data, dtype=np.float64)
        return A
    T = np.asarray(G)
    if T.ndim != 2 or T.dtype.kind not in "iu":
        raise LatentGraphError("a graph must be a sparse adjacency or an (N, k) integer neighbour table")
    n = T.shape[0] if n is None else n
    if T.size and (T.min() < 0 or T.max() >= n):
        raise LatentGraphError("neighbour table refers to vertices outside 0..N-1")
    rows = np.repeat(np.arange(T.shape[0]), T.shape[1])
    A = sp.csr_array((np.ones(rows.size), (rows, T.reshape(-1))), shape=(n, n))
    A.sum_duplicates()
    A.data[:] = 1.0
    return A


def _pair(A: Any, B: Any) -> tuple[sp.csr_array, sp.csr_array]:
    A, B = as_structure(A), as_structure(B)
    if A.shape != B.shape:
        raise LatentGraphError(f"graphs have different numbers of vertices: {A.shape[0]} and {B.shape[0]}")
    return A, B


def _row_sums(M: sp.csr_array) -> np.ndarray:
    return np.asarray(M.sum(axis=1)).reshape(-1)


def jaccard_per_vertex(A: Any, B: Any) -> np.ndarray:
    """Jaccard similarity of each vertex's neighbour sets in graphs A and B.

    Parameters
    ----------
    A, B : scipy.sparse array or numpy.ndarray
        The two graphs on the same vertices, as sparse adjacencies or (N, k) neighbour
        tables (see :func:`as_structure`).

    Returns
    -------
    numpy.ndarray
        (N,) similarities in [0, 1]. A vertex with no neighbours in either graph has
        identical (empty) sets and scores 1.
    """
    A, B = _pair(A, B)
    inter = _row_sums(A.multiply(B))
    union = np.diff(A.indptr) + np.diff(B.indptr) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def jaccard(A: Any, B: Any) -> float:
    """Graph average Jaccard similarity J_avg(G_A, G_B) (thesis eq. 2.4), in [0, 1].

    Parameters
    ----------
    A, B : scipy.sparse array or numpy.ndarray
        The two graphs on the same vertices, as sparse adjacencies or (N, k) neighbour
        tables (see :func:`as_structure`).

    Returns
    -------
    float
        The mean of :func:`jaccard_per_vertex`.
    """
    return float(np.mean(jaccard_per_vertex(A, B)))


def _label_counts(A: sp.csr_array, labels: np.ndarray) -> sp.csr_array:
    n = A.shape[0]
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise LatentGraphError(f"labels have shape {labels.shape}, expected ({n},)")
    if labels.dtype.kind not in "iu" or (labels.size and labels.min() < 0):
        raise LatentGraphError("labels must be non-negative integers")
    n_cls = int(labels.max()) + 1 if labels.size else 0
    onehot = sp.csr_array((np.ones(n), (np.arange(n), labels)), shape=(n, n_cls))
    return sp.csr_array(A @ onehot)


def cns_per_vertex(A: Any, B: Any, labels: Any) -> np.ndarray:
    """Class neighbourhood similarity of each vertex, |Y_A ∩ Y_B| / |Y_A|.

    Parameters
    ----------
    A, B : scipy.sparse array or numpy.ndarray
        The two graphs on the same vertices, as sparse adjacencies or (N, k) neighbour
        tables (see :func:`as_structure`).
    labels : array_like
        (N,) non-negative integer class label of every vertex.

    Returns
    -------
    numpy.ndarray
        (N,) similarities in [0, 1]. Vertices without neighbours in A have no defined
        value and get NaN.
    """
    A, B = _pair(A, B)
    CA, CB = _label_counts(A, labels), _label_counts(B, labels)
    inter = _row_sums(CA.minimum(CB))
    deg = np.diff(A.indptr).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(deg > 0, inter / np.where(deg > 0, deg, 1.0), np.nan)


def cns(A: Any, B: Any, labels: Any) -> float:
    """Class neighbourhood similarity CNS(G_A, G_B) (thesis eq. 2.5), averaged over vertices.

    Vertices with no neighbours in A are left out of the mean. Not symmetric in A and B.

    Parameters
    ----------
    A, B : scipy.sparse array or numpy.ndarray
        The two graphs on the same vertices, as sparse adjacencies or (N, k) neighbour
        tables (see :func:`as_structure`).
    labels : array_like
        (N,) non-negative integer class label of every vertex.

    Returns
    -------
    float
        CNS in [0, 1].

    Raises
    ------
    LatentGraphError
        When graph A has no edges.
    """
    v = cns_per_vertex(A, B, labels)
    if np.all(np.isnan(v)):
        raise LatentGraphError("CNS is undefined: graph A has no edges")
    return float(np.nanmean(v))


def compare_tables(a: Any, b: Any, ks: Sequence[int], directed: bool = False) -> pd.DataFrame:
    """Jaccard and CNS between two kNN tables for every k in ``ks``.

    Each table is searched once at its largest k and sliced.

    Parameters
    ----------
    a, b : KnnTable
        :class:`latentgraph.graphs.knn.KnnTable` objects over the same samples (matched by
        ``sample_id``; their row orders may differ).
    ks : sequence of int
        Neighbour counts, each at most both tables' ``k``.
    directed : bool, optional
        Compare directed kNN graphs instead of undirected ones (default).

    Returns
    -------
    pandas.DataFrame
        Columns ``k, jaccard, cns``, one row per distinct k in increasing order.
    """
    from ..graphs.knn import align

    b = align(a, b)
    rows = []
    for k in sorted(set(int(x) for x in ks)):
        for t, name in ((a, "first"), (b, "second")):
            check_k(k, stored=t.k, where=f"{name} graph")
        A = a.adjacency(k, directed=directed)
        B = b.adjacency(k, directed=directed)
        rows.append({"k": k, "jaccard": jaccard(A, B), "cns": cns(A, B, a.labels)})
    return pd.DataFrame(rows, columns=["k", "jaccard", "cns"])
