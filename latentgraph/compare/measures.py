"""Measures beyond the thesis: comparing two representations of the same samples.

The thesis compares kNN graphs with the graph average Jaccard similarity and the class
neighbourhood similarity (§2.2.6, :mod:`latentgraph.compare.similarity`). This module adds

- :func:`mutual_knn`: mutual nearest-neighbour alignment (Huh et al. 2024, *The Platonic
  Representation Hypothesis*): the mean over samples i of |N_A^k(i) ∩ N_B^k(i)| / k, with
  N^k(i) the k nearest other samples of i in each representation (directed kNN sets).
- :func:`cns_symmetric`: CNS is asymmetric (thesis eq. 2.5 divides by |Y_A|); both
  directions and their mean.
- :func:`cka_linear`: linear centred kernel alignment (Kornblith et al. 2019) between the
  latent matrices themselves, by default with the debiased HSIC estimator (Song et al. 2012;
  Nguyen et al. 2021). Computed in feature space: O(N d²) time, O(d²) memory, never an
  N x N kernel (unless N² is the smaller of the two).
- :func:`laplacian_spectrum` / :func:`spectral_distance`: the global comparison the thesis
  proposes as further work (§7.1): the smallest eigenvalues of the graphs' Laplacians.
- :func:`hubness`: k-occurrence statistics of one kNN graph (Radovanović et al. 2010) with
  the closed-form values of a uniformly random k-out graph (:func:`hubness_null`).
- :func:`permutation_null`: every pair measure under a shuffled sample correspondence,
  the chance level of each table.
- :func:`compare`: all of the above for two kNN tables over a list of k, as one tidy table
  (used by ``latentgraph compare``, the stability table and the layer-by-layer table), and
  every other measure of :mod:`latentgraph.compare.registry` (Procrustes, the CCA family,
  RSA, RBF CKA from :mod:`.shape`; CKNNA, kNN rank and second-order cosine similarity from
  :mod:`.neighbours`) when the latents are given. The registry is the one list of names:
  :data:`MEASURES`, :data:`MEASURE_COLUMNS` and :data:`NULL_COLUMNS` are derived from it.

Graphs are :class:`latentgraph.graphs.knn.KnnTable` objects, (N, k) neighbour tables or sparse
adjacencies, as in :mod:`latentgraph.compare.similarity`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..graphs.knn import KnnTable, align
from ..utils import LatentGraphError, check_k
from . import registry as _registry
from .intervals import check_level, check_resamples, compare_intervals, interval_columns
from .neighbours import NeighbourPair
from .shape import _hsic_u as _hsic
from .similarity import as_structure, cns, jaccard

log = logging.getLogger(__name__)

#: Every measure :func:`compare` knows, in the order of its columns (from :data:`.registry.REGISTRY`).
MEASURES = _registry.NAMES
#: The columns each measure adds to a :func:`compare` table (besides ``k``).
MEASURE_COLUMNS = {m.name: list(m.columns) for m in _registry.REGISTRY}
#: Columns whose permutation null :func:`compare` reports as ``<column>_null`` and ``_null_std``.
NULL_COLUMNS = tuple(c for m in _registry.REGISTRY if m.null in ("permutation", "observed") for c in m.columns)
#: Measures computed from the latents by their registered function (``cka`` has its own path).
LATENT_MEASURES = tuple(m.name for m in _registry.REGISTRY if m.needs == "latents" and m.name != "cka")
#: A hub occurs more than HUB_FACTOR * k times in the kNN lists (scikit-hubness's ``hub_size``).
HUB_FACTOR = 2
#: Connected components up to this size get a dense eigensolver (exact, all eigenvalues).
DENSE_MAX = 1500


# --------------------------------------------------------------------------- neighbour sets


def _neighbour_table(t: Any, k: int | None, what: str = "graph") -> np.ndarray:
    """The first ``k`` columns of a KnnTable or an (N, kmax) integer neighbour table."""
    idx = t.indices if isinstance(t, KnnTable) else np.asarray(t)
    if idx.ndim != 2 or idx.dtype.kind not in "iu":
        raise LatentGraphError(f"{what}: expected a KnnTable or an (N, k) integer neighbour table")
    kmax = idx.shape[1]
    k = kmax if k is None else k
    check_k(k, stored=kmax, where=what)
    if idx.size and (idx.min() < 0 or idx.max() >= idx.shape[0]):
        raise LatentGraphError(f"{what}: neighbour table refers to vertices outside 0..N-1")
    return idx[:, :k]


def mutual_knn_per_vertex(a: Any, b: Any, k: int | None = None) -> np.ndarray:
    """|N_A^k(i) ∩ N_B^k(i)| / k for every sample i (directed kNN sets; see :func:`mutual_knn`).

    Parameters
    ----------
    a, b : KnnTable or numpy.ndarray
        KnnTables or (N, kmax) integer neighbour tables in the same row order; the first
        ``k`` columns are each sample's k nearest other samples.
    k : int, optional
        Number of neighbours; None (default) uses all stored columns.

    Returns
    -------
    numpy.ndarray
        (N,) float64 shares in [0, 1].

    Raises
    ------
    LatentGraphError
        When the tables differ in shape, are invalid, or list a vertex twice in one row.
    """
    ta = _neighbour_table(a, k, "first graph")
    tb = _neighbour_table(b, k, "second graph")
    if ta.shape != tb.shape:
        raise LatentGraphError(f"graphs differ in shape: {ta.shape} and {tb.shape}")
    k = ta.shape[1]
    both = np.concatenate([np.sort(ta, axis=1), np.sort(tb, axis=1)], axis=1)
    for t in (both[:, :k], both[:, k:]):
        if k > 1 and np.any(t[:, 1:] == t[:, :-1]):
            raise LatentGraphError("a neighbour table lists a vertex twice in one row")
    both.sort(axis=1)
    # each set has distinct members, so an equal adjacent pair is one shared neighbour
    shared = np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)
    return shared / k


def mutual_knn(a: Any, b: Any, k: int | None = None) -> float:
    """Mutual k-nearest-neighbour alignment (Huh et al. 2024), in [0, 1].

    .. math:: m_k(A, B) = \\frac{1}{N} \\sum_i \\frac{|N_A^k(i) \\cap N_B^k(i)|}{k}

    Unlike the thesis's Jaccard similarity it always uses the directed sets (no union with
    reverse edges), so every set has exactly k members and the measure is symmetric.

    Parameters
    ----------
    a, b : KnnTable or numpy.ndarray
        KnnTables or (N, kmax) integer neighbour tables in the same row order; the first
        ``k`` columns are each sample's k nearest other samples.
    k : int, optional
        Number of neighbours; None (default) uses all stored columns.

    Returns
    -------
    float
        The mean of :func:`mutual_knn_per_vertex`.
    """
    return float(np.mean(mutual_knn_per_vertex(a, b, k)))


def cns_symmetric(A: Any, B: Any, labels: Any) -> tuple[float, float, float]:
    """Both directions of the class neighbourhood similarity and their mean.

    CNS(G_A, G_B) divides by |Y_A| (thesis eq. 2.5), so it is not symmetric when degrees
    differ (undirected kNN graphs).

    Parameters
    ----------
    A, B : scipy.sparse array or numpy.ndarray
        The two graphs on the same vertices, as sparse adjacencies or (N, k) neighbour
        tables (see :func:`latentgraph.compare.similarity.as_structure`).
    labels : array_like
        (N,) non-negative integer class label of every vertex.

    Returns
    -------
    tuple of float
        ``(cns(A, B), cns(B, A), mean of the two)``.
    """
    ab = cns(A, B, labels)
    ba = cns(B, A, labels)
    return ab, ba, 0.5 * (ab + ba)


# --------------------------------------------------------------------------- linear CKA


@dataclass
class _Side:
    """One representation, centred, with what the HSIC estimators need of it."""

    X: np.ndarray  # (N, d) as given (any float dtype)
    mean: np.ndarray  # (d,) float64 column means
    sq: np.ndarray  # (N,) squared norms of the centred rows
    s: np.ndarray  # (d,) sum of the centred rows (zero up to rounding)


def _blocks(n: int, block_rows: int) -> range:
    return range(0, n, max(1, int(block_rows)))


def _centred(X: np.ndarray, mean: np.ndarray, rows: Any) -> np.ndarray:
    return np.asarray(X[rows], dtype=np.float64) - mean


def _check_pair(X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2:
        raise LatentGraphError(f"CKA needs two 2-D matrices, got shapes {X.shape} and {Y.shape}")
    if X.shape[0] != Y.shape[0]:
        raise LatentGraphError(f"CKA needs the same samples in both matrices: {X.shape[0]} and {Y.shape[0]} rows")
    if X.shape[0] < 4:
        raise LatentGraphError(f"CKA needs at least 4 samples, got {X.shape[0]}")
    for M in (X, Y):
        if M.dtype.kind not in "fiu":
            raise LatentGraphError(f"CKA needs numeric matrices, got dtype {M.dtype}")
        if M.dtype.kind == "f" and not np.isfinite(M).all():
            raise LatentGraphError("CKA input contains NaN or inf values")
    return X, Y


def _side(X: np.ndarray, block_rows: int) -> _Side:
    n, d = X.shape
    total = np.zeros(d)
    for s in _blocks(n, block_rows):
        total += np.asarray(X[s : s + block_rows], dtype=np.float64).sum(axis=0)
    mean = total / n
    sq = np.empty(n)
    ssum = np.zeros(d)
    for s in _blocks(n, block_rows):
        Xb = _centred(X, mean, slice(s, s + block_rows))
        sq[s : s + Xb.shape[0]] = np.einsum("ij,ij->i", Xb, Xb)
        ssum += Xb.sum(axis=0)
    return _Side(X, mean, sq, ssum)


def _cross_features(a: _Side, b: _Side, perm: np.ndarray | None, block_rows: int) -> tuple[float, float, float]:
    """T1, T4 and ||XᵀY||² of the linear kernels of a and b (b's rows permuted by perm),
    accumulated over row blocks in feature space."""
    n = a.X.shape[0]
    G = np.zeros((a.X.shape[1], b.X.shape[1]))
    xq = np.zeros(a.X.shape[1])
    yp = np.zeros(b.X.shape[1])
    q_all = b.sq if perm is None else b.sq[perm]
    for s in _blocks(n, block_rows):
        e = min(n, s + block_rows)
        Xb = _centred(a.X, a.mean, slice(s, e))
        Yb = _centred(b.X, b.mean, slice(s, e) if perm is None else perm[s:e])
        G += Xb.T @ Yb
        xq += Xb.T @ q_all[s:e]
        yp += Yb.T @ a.sq[s:e]
    pq = float(a.sq @ q_all)
    g2 = float(np.sum(G * G))
    t1 = g2 - pq
    t4 = float(a.s @ G @ b.s) - float(a.s @ xq) - float(b.s @ yp) + pq
    return t1, t4, g2


def _self_features(a: _Side, block_rows: int) -> tuple[float, float, float, float]:
    """T1, T2, T4 and ||XᵀX||² of one representation's linear kernel with itself."""
    d = a.X.shape[1]
    G = np.zeros((d, d))
    xp = np.zeros(d)
    n = a.X.shape[0]
    for s in _blocks(n, block_rows):
        Xb = _centred(a.X, a.mean, slice(s, s + block_rows))
        G += Xb.T @ Xb
        xp += Xb.T @ a.sq[s : s + Xb.shape[0]]
    pp = float(a.sq @ a.sq)
    g2 = float(np.sum(G * G))
    t1 = g2 - pp
    t2 = float(a.s @ a.s) - float(a.sq.sum())
    t4 = float(a.s @ G @ a.s) - 2.0 * float(a.s @ xp) + pp
    return t1, t2, t4, g2


def _gram_parts(Xc: np.ndarray, Yc: np.ndarray, perm: np.ndarray | None, block_elems: int = 1 << 23
                ) -> tuple[float, float, float, float, float]:
    """T1, T2, T3, T4 and tr(KL) of the centred linear kernels K = XcXcᵀ, L = YcYcᵀ (Y's
    rows in the order ``perm``), in blocks of rows: memory O(block · N), never N x N."""
    Yp = Yc if perm is None else Yc[perm]
    p, q = np.einsum("ij,ij->i", Xc, Xc), np.einsum("ij,ij->i", Yp, Yp)
    rk, rl = Xc @ Xc.sum(axis=0) - p, Yp @ Yp.sum(axis=0) - q  # K1 - diag(K), L1 - diag(L)
    n = Xc.shape[0]
    rows = max(1, block_elems // max(1, n))
    tkl = 0.0
    for s in range(0, n, rows):
        tkl += float(np.sum((Xc[s : s + rows] @ Xc.T) * (Yp[s : s + rows] @ Yp.T)))
    return tkl - float(p @ q), float(rk.sum()), float(rl.sum()), float(rk @ rl), tkl


class LinearCKA:
    """Linear CKA of two matrices, the parts independent of the sample correspondence computed once.

    For :meth:`value` under many permutations; see :func:`cka_linear` for the estimator.

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) numeric matrices of the same N >= 4 samples (rows), finite.
    debiased : bool, optional
        True (default): the unbiased HSIC estimator; False: Kornblith et al.'s biased CKA.
    method : str, optional
        ``"features"`` accumulates d x d Gram matrices over row blocks (O(N d²) time,
        O(d² + block_rows · d) memory); ``"gram"`` sums the two N x N kernels' products
        block by block (O(N² d) time, O(N d + block · N) memory: no N x N matrix either);
        ``"auto"`` (default) takes ``"gram"`` when N² is smaller than the d² terms (few
        samples of a wide layer), else ``"features"``.
    block_rows : int, optional
        Rows per block of the ``"features"`` method (default 4096).

    Raises
    ------
    LatentGraphError
        For invalid matrices or an unknown method.
    """

    def __init__(self, X: Any, Y: Any, debiased: bool = True, method: str = "auto", block_rows: int = 4096) -> None:
        X, Y = _check_pair(X, Y)
        self.n = X.shape[0]
        self.debiased = bool(debiased)
        self.block_rows = int(block_rows)
        dx, dy = X.shape[1], Y.shape[1]
        if method == "auto":
            method = "gram" if self.n * self.n < dx * dx + dy * dy + dx * dy else "features"
        if method not in ("features", "gram"):
            raise LatentGraphError(f"unknown CKA method {method!r}; allowed: 'auto', 'features', 'gram'")
        self.method = method
        self.a, self.b = _side(X, self.block_rows), _side(Y, self.block_rows)
        if method == "gram":
            self.Xc = _centred(X, self.a.mean, slice(None))
            self.Yc = _centred(Y, self.b.mean, slice(None))
            kk, ll = _gram_parts(self.Xc, self.Xc, None), _gram_parts(self.Yc, self.Yc, None)
            self._self = ((kk[0], kk[1], kk[3], kk[4]), (ll[0], ll[1], ll[3], ll[4]))
        else:
            self._self = (_self_features(self.a, self.block_rows), _self_features(self.b, self.block_rows))

    def _denominator(self) -> float:
        (t1x, t2x, t4x, gx), (t1y, t2y, t4y, gy) = self._self
        if self.debiased:
            hx, hy = _hsic(t1x, t2x, t2x, t4x, self.n), _hsic(t1y, t2y, t2y, t4y, self.n)
        else:
            hx, hy = gx, gy
        for h, name in ((hx, "first"), (hy, "second")):
            if not h > 0:
                raise LatentGraphError(f"CKA is undefined: the {name} representation has no variance"
                                       + (" (or too few samples for the debiased estimate)" if self.debiased else ""))
        return math.sqrt(hx * hy)

    def value(self, perm: np.ndarray | None = None) -> float:
        """CKA with Y's rows taken in the order ``perm`` (None: as given).

        Parameters
        ----------
        perm : numpy.ndarray, optional
            (N,) permutation of Y's rows; None (default) keeps them as given.

        Returns
        -------
        float
            The CKA value.

        Raises
        ------
        LatentGraphError
            When a representation has no variance (or, debiased, too few samples).
        """
        den = self._denominator()
        t2x, t2y = self._self[0][1], self._self[1][1]
        if self.method == "gram":
            t1, _, _, t4, g2 = _gram_parts(self.Xc, self.Yc, perm)
        else:
            t1, t4, g2 = _cross_features(self.a, self.b, perm, self.block_rows)
        num = _hsic(t1, t2x, t2y, t4, self.n) if self.debiased else g2
        return float(num / den)


def cka_linear(X: Any, Y: Any, debiased: bool = True, method: str = "auto", block_rows: int = 4096) -> float:
    """Linear CKA between two representations of the same N samples (rows).

    .. math:: \\mathrm{CKA}(K, L) = \\frac{\\mathrm{HSIC}(K, L)}{\\sqrt{\\mathrm{HSIC}(K, K)\\,\\mathrm{HSIC}(L, L)}},
              \\quad K = XX^\\top,\\ L = YY^\\top

    ``debiased=True`` (default) uses the unbiased HSIC estimator of Song et al. (2012), as
    in Nguyen et al. (2021) "Do wide and deep networks learn the same things?": with K̃, L̃
    the kernels with zero diagonal,

        HSIC_u = [tr(K̃L̃) + 1ᵀK̃1 · 1ᵀL̃1 / ((n−1)(n−2)) − 2 · 1ᵀK̃L̃1 / (n−2)] / (n(n−3)),

    whose terms are computed in feature space: tr(K̃L̃) = ‖XᵀY‖²_F − Σ_i ‖x_i‖²‖y_i‖²,
    1ᵀK̃1 = ‖Σ_i x_i‖² − Σ_i ‖x_i‖², 1ᵀK̃L̃1 = Σ_i (x_i·S_x − ‖x_i‖²)(y_i·S_y − ‖y_i‖²) with
    S_x = Σ_j x_j (expanded into d-vectors, so no N x N matrix is formed). Its expectation
    is 0 for independent representations, where the biased estimator is positive and grows
    with the dimension. ``debiased=False`` gives Kornblith et al.'s (2019) biased CKA,
    ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) on centred columns.

    Columns are centred first, in float64 (the estimators do not change; it avoids
    cancellation for latents with large means, e.g. after a ReLU). Invariant to orthogonal
    transforms and isotropic scaling of X or Y and to a common permutation of the rows;
    not to a permutation of Y's rows alone (that is the permutation null). Memory is
    O(d_x² + d_y² + block_rows · d) with ``method="features"``; no N x N matrix is formed
    by either method (see :class:`LinearCKA`).

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) numeric matrices of the same N >= 4 samples (rows), finite.
    debiased : bool, optional
        True (default): the unbiased HSIC estimator; False: Kornblith et al.'s biased CKA.
    method : str, optional
        ``"features"`` accumulates d x d Gram matrices over row blocks (O(N d²) time,
        O(d² + block_rows · d) memory); ``"gram"`` sums the two N x N kernels' products
        block by block (O(N² d) time, O(N d + block · N) memory: no N x N matrix either);
        ``"auto"`` (default) takes ``"gram"`` when N² is smaller than the d² terms (few
        samples of a wide layer), else ``"features"``.
    block_rows : int, optional
        Rows per block of the ``"features"`` method (default 4096).

    Returns
    -------
    float
        The CKA value, near 0 for independent representations (the debiased estimate
        can be negative).
    """
    return LinearCKA(X, Y, debiased=debiased, method=method, block_rows=block_rows).value()


# --------------------------------------------------------------------------- spectra


def _undirected_pattern(G: Any, k: int | None) -> sp.csr_array:
    """The symmetric 0/1 pattern (no self-loops) of a graph: the union of its edges."""
    if isinstance(G, KnnTable):
        G = G.indices[:, : G.k if k is None else _check_k_of(G, k)]
    elif k is not None and not sp.issparse(G):
        G = _neighbour_table(G, k)
    S = sp.coo_array(as_structure(G))
    n = S.shape[0]
    keep = S.row != S.col
    r, c = S.row[keep], S.col[keep]
    U = sp.csr_array((np.ones(2 * r.size), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n))
    U.sum_duplicates()
    U.data[:] = 1.0
    return U


def _check_k_of(t: KnnTable, k: int) -> int:
    _neighbour_table(t, k)
    return int(k)


def _component_spectrum(S: sp.csr_array, n_eigs: int, normalized: bool) -> np.ndarray:
    """The ``n_eigs`` smallest Laplacian eigenvalues of one connected component."""
    n = S.shape[0]
    if n == 1:
        return np.zeros(1)
    deg = np.asarray(S.sum(axis=1)).reshape(-1)
    if n <= max(DENSE_MAX, n_eigs + 1):
        Sd = S.toarray()
        if normalized:
            di = 1.0 / np.sqrt(deg)
            L = np.eye(n) - di[:, None] * Sd * di[None, :]
        else:
            L = np.diag(deg) - Sd
        return _exact_zero(np.linalg.eigvalsh(L)[:n_eigs])
    from scipy.sparse.linalg import eigsh

    # Lanczos for the largest eigenvalues of the "signless" operator: no factorisation
    # (shift-invert LU of a kNN-graph Laplacian fills in badly), and in a connected
    # component the eigenvalue 0 is simple. A fixed start vector keeps runs identical.
    v0 = np.random.default_rng(0).uniform(0.5, 1.5, size=n)
    ncv = min(n - 1, max(2 * n_eigs + 1, 40))
    if normalized:
        di = 1.0 / np.sqrt(deg)
        M = sp.csr_array(S.multiply(di[:, None]).multiply(di[None, :]))
        top = eigsh(M, k=n_eigs, which="LA", v0=v0, ncv=ncv, tol=1e-10, return_eigenvectors=False)
        vals = 1.0 - top
    else:
        dmax = float(deg.max())
        M = sp.csr_array(sp.diags_array(dmax - deg) + S)  # dmax·I − L, eigenvalues dmax − λ
        top = eigsh(M, k=n_eigs, which="LA", v0=v0, ncv=ncv, tol=1e-10, return_eigenvectors=False)
        vals = dmax - top
    return _exact_zero(vals)


def _exact_zero(vals: np.ndarray) -> np.ndarray:
    """Sorted eigenvalues of a connected component's Laplacian with the smallest (0 in exact
    arithmetic, simple) set to exactly 0 and rounding below 0 clipped."""
    vals = np.sort(np.asarray(vals, dtype=np.float64))
    vals[0] = 0.0
    return np.maximum(vals, 0.0)


def laplacian_spectrum(G: Any, n_eigs: int = 20, normalized: bool = True, k: int | None = None) -> np.ndarray:
    """The ``n_eigs`` smallest eigenvalues of a graph's Laplacian, ascending.

    The graph is taken undirected and unweighted: the union of its edges (for a KnnTable
    or neighbour table, at ``k``; default all stored columns), self-loops dropped. With
    ``normalized=True`` (default) the Laplacian is L = I − D^{-1/2} A D^{-1/2}, whose
    eigenvalues lie in [0, 2] whatever N and k, so graphs of different density compare;
    otherwise L = D − A. The multiplicity of the eigenvalue 0 is the number of connected
    components (an isolated vertex is a component of its own).

    Each connected component is solved apart (the spectrum of a graph is the union of its
    components' spectra): components up to :data:`DENSE_MAX` vertices with a dense
    symmetric eigensolver, larger ones with ARPACK's Lanczos (``scipy.sparse.linalg.eigsh``,
    tolerance 1e-10, no N x N matrix). Zero eigenvalues are returned as exact zeros.

    Parameters
    ----------
    G : KnnTable, scipy.sparse array or numpy.ndarray
        The graph: a KnnTable, an (N, kmax) neighbour table or a sparse adjacency.
    n_eigs : int, optional
        Number of smallest eigenvalues (default 20), at most the number of vertices.
    normalized : bool, optional
        True (default): L = I − D^{-1/2} A D^{-1/2}; False: L = D − A.
    k : int, optional
        For a KnnTable or neighbour table, the number of neighbours; None (default) uses
        all stored columns.

    Returns
    -------
    numpy.ndarray
        (n_eigs,) float64 eigenvalues, ascending.

    Raises
    ------
    LatentGraphError
        When ``n_eigs`` < 1 or exceeds the number of vertices, or ``k`` is invalid.
    """
    S = _undirected_pattern(G, k)
    n = S.shape[0]
    check_k(n_eigs, name="n_eigs")
    if n_eigs > n:
        raise LatentGraphError(f"n_eigs={n_eigs} exceeds the number of vertices ({n})")
    from scipy.sparse.csgraph import connected_components

    n_comp, comp = connected_components(S, directed=False)
    log.debug("laplacian_spectrum: %d vertices, %d edges, %d components", n, S.nnz // 2, n_comp)
    order = np.argsort(comp, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(comp, minlength=n_comp))))
    parts = []
    for c in range(n_comp):
        members = order[bounds[c] : bounds[c + 1]]
        sub = S[members][:, members] if n_comp > 1 else S
        parts.append(_component_spectrum(sp.csr_array(sub), min(n_eigs, members.size), normalized))
    return np.sort(np.concatenate(parts))[:n_eigs]


def spectral_distance(A: Any, B: Any, n_eigs: int = 20, normalized: bool = True, k: int | None = None) -> float:
    """Distance between the smallest Laplacian eigenvalues of two graphs (thesis §7.1).

    The Euclidean (L2) distance between the ascending vectors of the ``n_eigs`` smallest
    eigenvalues of the normalised Laplacians (:func:`laplacian_spectrum`). 0 for
    isospectral graphs; with the normalised Laplacian each eigenvalue lies in [0, 2], so the
    distance is at most 2·sqrt(n_eigs). It sees the global structure (connectivity, number
    and separation of clusters: small eigenvalues come from sparse cuts) and nothing of the
    correspondence between vertices: relabelling a graph's vertices leaves it unchanged.

    Parameters
    ----------
    A, B : KnnTable, scipy.sparse array or numpy.ndarray
        The two graphs (as for :func:`laplacian_spectrum`); they need not share vertices
        but must have at least ``n_eigs`` each.
    n_eigs : int, optional
        Number of smallest eigenvalues (default 20), at most the number of vertices.
    normalized : bool, optional
        True (default): L = I − D^{-1/2} A D^{-1/2}; False: L = D − A.
    k : int, optional
        For a KnnTable or neighbour table, the number of neighbours; None (default) uses
        all stored columns.

    Returns
    -------
    float
        The L2 distance between the two spectra.
    """
    return spectral_distance_from(laplacian_spectrum(A, n_eigs, normalized, k),
                                  laplacian_spectrum(B, n_eigs, normalized, k))


def spectral_distance_from(sa: np.ndarray, sb: np.ndarray) -> float:
    """:func:`spectral_distance` from two precomputed spectra of equal length.

    Parameters
    ----------
    sa, sb : numpy.ndarray
        Eigenvalues from :func:`laplacian_spectrum` (sorted here).

    Returns
    -------
    float
        The L2 distance between the sorted spectra.

    Raises
    ------
    LatentGraphError
        When the spectra differ in length.
    """
    sa, sb = np.sort(np.asarray(sa, dtype=np.float64)), np.sort(np.asarray(sb, dtype=np.float64))
    if sa.shape != sb.shape:
        raise LatentGraphError(f"spectra differ in length: {sa.size} and {sb.size}")
    return float(np.linalg.norm(sa - sb))


# --------------------------------------------------------------------------- hubness


def k_occurrence(t: Any, k: int | None = None) -> np.ndarray:
    """N_k(x): how many of the other samples' k-nearest-neighbour lists contain x.

    The in-degree of x in the directed kNN graph.

    Parameters
    ----------
    t : KnnTable or numpy.ndarray
        A KnnTable or an (N, kmax) integer neighbour table.
    k : int, optional
        Number of neighbours; None (default) uses all stored columns.

    Returns
    -------
    numpy.ndarray
        (N,) int64 k-occurrence of every sample.
    """
    idx = _neighbour_table(t, k)
    return np.bincount(idx.reshape(-1), minlength=idx.shape[0])


def hubness(t: Any, k: int | None = None) -> dict[str, float]:
    """Hubness of a directed kNN graph (Radovanović, Nanopoulos & Ivanović 2010, JMLR 11).

    - ``skewness``: the sample skewness of the k-occurrence, E[(N_k − μ)³] / σ³ (population
      moments, as Radovanović et al.; μ = k exactly). Computed by
      :func:`latentgraph.graphs.network_stats.k_occurrence_skewness`.
    - ``hub_fraction``: the share of samples with N_k > 2k (:data:`HUB_FACTOR` · k; the
      ``hub_size = 2`` of scikit-hubness, Feldbauer et al.).
    - ``antihub_fraction``: the share of samples with N_k = 0 (in nobody's list).
    - ``max_occurrence``: the largest N_k.

    Parameters
    ----------
    t : KnnTable or numpy.ndarray
        A KnnTable or an (N, kmax) integer neighbour table.
    k : int, optional
        Number of neighbours; None (default) uses all stored columns.

    Returns
    -------
    dict
        ``k``, ``n`` and the statistics above.
    """
    from ..graphs.network_stats import k_occurrence_skewness

    idx = _neighbour_table(t, k)
    k = idx.shape[1]
    occ = np.bincount(idx.reshape(-1), minlength=idx.shape[0])
    return {
        "k": int(k),
        "n": int(idx.shape[0]),
        "skewness": float(k_occurrence_skewness(idx, idx.shape[0])),
        "hub_fraction": float(np.mean(occ > HUB_FACTOR * k)),
        "antihub_fraction": float(np.mean(occ == 0)),
        "max_occurrence": int(occ.max()) if occ.size else 0,
    }


def hubness_null(n: int, k: int) -> dict[str, float]:
    """The same statistics for a uniformly random k-out graph on n vertices (no hubness).

    Every vertex picks k distinct others uniformly, so N_k(x) ~ Binomial(n − 1, p) with
    p = k / (n − 1) exactly: skewness (1 − 2p) / sqrt((n − 1) p (1 − p)), hub fraction
    P(N_k > 2k), antihub fraction (1 − p)^(n − 1). The reference level of a kNN graph
    without hubs.

    Parameters
    ----------
    n : int
        Number of vertices, >= 2.
    k : int
        Out-degree, 1 <= k < n.

    Returns
    -------
    dict
        ``skewness``, ``hub_fraction`` and ``antihub_fraction``.

    Raises
    ------
    LatentGraphError
        When not 1 <= k < n.
    """
    from scipy.stats import binom

    if n < 2 or not 1 <= k < n:
        raise LatentGraphError(f"need 1 <= k < n, got k={k}, n={n}")
    m, p = n - 1, k / (n - 1)
    var = m * p * (1 - p)
    return {
        "skewness": float((1 - 2 * p) / math.sqrt(var)) if var > 0 else 0.0,
        "hub_fraction": float(binom.sf(HUB_FACTOR * k, m, p)),
        "antihub_fraction": float((1 - p) ** m),
    }


# --------------------------------------------------------------------------- permutation null


@dataclass(frozen=True)
class Null:
    """A measure under shuffled sample correspondence: mean, standard deviation, values.

    Parameters
    ----------
    mean : float
        Mean of the values.
    std : float
        Sample standard deviation of the values (0 for a single shuffle).
    values : numpy.ndarray
        (n_perm,) float64 value under each shuffle.
    """

    mean: float
    std: float
    values: np.ndarray


def permute_table(t: KnnTable, perm: np.ndarray) -> KnnTable:
    """Table ``t``'s graph carried onto other vertices by the permutation ``perm``.

    Vertex i gets the neighbourhood of ``t``'s vertex ``perm[i]`` (relabelled). Ids and
    labels stay where they were, so the correspondence between the samples of two tables
    is shuffled and nothing else changes (degrees, distances and spectrum are those of
    ``t``).

    Parameters
    ----------
    t : KnnTable
        The table.
    perm : numpy.ndarray
        (N,) permutation of 0..N-1.

    Returns
    -------
    KnnTable
        The permuted table.
    """
    perm = np.asarray(perm, dtype=np.int64)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    return KnnTable(inv[t.indices[perm]], t.distances[perm], t.sample_id, t.labels, t.metric, dict(t.metadata))


def _permute(b: Any, perm: np.ndarray) -> Any:
    if isinstance(b, KnnTable):
        return permute_table(b, perm)
    if sp.issparse(b):
        B = sp.csr_array(b)
        return sp.csr_array(B[perm][:, perm])
    arr = np.asarray(b)
    if arr.ndim == 2 and arr.dtype.kind in "iu" and arr.shape[1] < arr.shape[0]:
        raise LatentGraphError("permutation_null: pass neighbour tables as KnnTable (ambiguous with latents)")
    return arr[perm]


def _null_draws(n: int, n_perm: int, seed: int,
                values: Callable[[np.ndarray], Mapping[str, Sequence[float]]]) -> dict[str, np.ndarray]:
    """Measures under ``n_perm`` shuffles of the correspondence of ``n`` samples: the one
    permutation null of this module (:func:`permutation_null`, :func:`compare`).

    The permutations are drawn from ``numpy.random.default_rng(seed)``, one
    ``rng.permutation(n)`` per shuffle; ``values(perm)`` returns, per column, the values
    under that shuffle (one per k). Returns, per column, a (values, n_perm) float64 array.
    """
    rng = np.random.default_rng(seed)
    samples: dict[str, list[list[float]]] = {}
    for _ in range(n_perm):
        for col, vals in values(rng.permutation(n)).items():
            per = samples.setdefault(col, [[] for _ in vals])
            for i, v in enumerate(vals):
                per[i].append(v)
    return {col: np.array(per, dtype=np.float64) for col, per in samples.items()}


def _null_std(draws: np.ndarray) -> np.ndarray | float:
    """Sample standard deviation over the shuffles (last axis); 0 for a single shuffle."""
    return draws.std(axis=-1, ddof=1) if draws.shape[-1] > 1 else 0.0


def permutation_null(
    measure: Callable[[Any, Any], float],
    a: Any,
    b: Any,
    n_perm: int,
    seed: int,
    permute: Callable[[Any, np.ndarray], Any] | None = None,
) -> Null:
    """The chance level of ``measure``: its values with ``b``'s sample correspondence to ``a`` shuffled.

    The distribution of ``measure(a, b')``, b' being ``b`` under a random permutation of
    its samples. Measures that ignore the correspondence (the spectral distance, hubness)
    have a degenerate null: the observed value itself.

    Parameters
    ----------
    measure : callable
        ``measure(a, b')`` returning a float.
    a : object
        First argument of ``measure``, unchanged.
    b : KnnTable, scipy.sparse array or numpy.ndarray
        Second argument, permuted; neighbour tables must be passed as KnnTables.
    n_perm : int
        Number of uniform permutations (>= 1).
    seed : int
        Seed of ``numpy.random.default_rng``, as :func:`compare` draws them (derive it
        with :func:`latentgraph.utils.stable_seed` from what is compared).
    permute : callable, optional
        ``permute(b, perm)`` makes b'; by default (None) KnnTables go through
        :func:`permute_table`, sparse adjacencies become P B Pᵀ and arrays (latents) have
        their rows taken in the order ``perm``.

    Returns
    -------
    Null
        Mean, standard deviation and values over the shuffles.
    """
    n_perm = check_k(n_perm, name="n_perm")
    n = b.n if isinstance(b, KnnTable) else b.shape[0]
    permute = permute or _permute
    vals = _null_draws(n, n_perm, seed, lambda perm: {"value": [measure(a, permute(b, perm))]})["value"][0]
    return Null(float(vals.mean()), float(_null_std(vals)), vals)


# --------------------------------------------------------------------------- one table


def check_measures(measures: Sequence[str], where: str = "measures") -> list[str]:
    """Validate measure names.

    Parameters
    ----------
    measures : sequence of str
        Names from :data:`MEASURES`.
    where : str, optional
        What to call them in error messages (default ``"measures"``).

    Returns
    -------
    list of str
        The names in canonical order without repeats.

    Raises
    ------
    LatentGraphError
        For an unknown name.
    """
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise LatentGraphError(f"{where}: unknown measure(s) {unknown}; allowed: {list(MEASURES)}")
    return [m for m in MEASURES if m in set(measures)]


def columns(measures: Sequence[str], null: bool = False, ci: bool = False) -> list[str]:
    """The columns of a :func:`compare` table for ``measures`` (after ``k``).

    Parameters
    ----------
    measures : sequence of str
        Names from :data:`MEASURES` (``cns_sym`` brings ``cns``).
    null : bool, optional
        Add the permutation-null columns (default False).
    ci : bool, optional
        Add the interval columns ``<column>_lo``, ``<column>_hi`` (default False; see
        :mod:`latentgraph.compare.intervals`).

    Returns
    -------
    list of str
        Column names in table order.
    """
    ms = check_measures(measures)
    if "cns_sym" in ms and "cns" not in ms:
        ms = check_measures([*ms, "cns"])
    cols = [c for m in ms for c in MEASURE_COLUMNS[m]]
    lohi = interval_columns(cols) if ci else []
    if null:
        cols += [f"{c}{s}" for c in cols if c in NULL_COLUMNS for s in ("_null", "_null_std")]
        if "hubness" in ms:
            cols += ["hub_skew_null", "hub_frac_null", "antihub_frac_null"]
    return cols + lohi


def _order_of(a_ids: np.ndarray, b_ids: np.ndarray) -> np.ndarray:
    """Positions in b of a's sample ids (the tables were checked to hold the same samples)."""
    if np.array_equal(a_ids, b_ids):
        return np.arange(a_ids.size)
    o = np.argsort(b_ids)
    return o[np.searchsorted(b_ids, a_ids, sorter=o)]


def _pair_values(
    a: KnnTable, b: KnnTable, k: int, ms: list[str], directed: bool, spectra: tuple[Any, Any] | None
) -> dict[str, float]:
    out: dict[str, float] = {}
    A, B = a.adjacency(k, directed=directed), b.adjacency(k, directed=directed)
    if "jaccard" in ms:
        out["jaccard"] = jaccard(A, B)
    if "cns" in ms or "cns_sym" in ms:
        out["cns"] = cns(A, B, a.labels)
        if "cns_sym" in ms:
            out["cns_ba"] = cns(B, A, a.labels)
            out["cns_sym"] = 0.5 * (out["cns"] + out["cns_ba"])
    if "mutual_knn" in ms:
        out["mutual_knn"] = mutual_knn(a, b, k)
    if "spectral" in ms and spectra is not None:
        out["spectral"] = spectral_distance_from(*spectra)
    return out


def compare(
    a: KnnTable,
    b: KnnTable,
    ks: Sequence[int],
    measures: Sequence[str] = ("jaccard", "cns"),
    *,
    directed: bool = False,
    xa: np.ndarray | None = None,
    xb: np.ndarray | None = None,
    n_eigs: int = 20,
    n_perm: int = 0,
    seed: int = 0,
    spectra_a: Mapping[int, np.ndarray] | None = None,
    spectra_b: Mapping[int, np.ndarray] | None = None,
    ci: float = 0.95,
    resamples: int | None = 0,
) -> pd.DataFrame:
    """Every requested measure between two kNN tables, one row per k.

    Columns: ``k`` and :func:`columns` of ``measures``:

    - ``jaccard``, ``cns`` (thesis eqs. 2.4, 2.5; exactly :func:`similarity.compare_tables`),
      ``cns_ba`` and ``cns_sym`` (:func:`cns_symmetric`), on the undirected graphs unless
      ``directed``;
    - ``mutual_knn`` (:func:`mutual_knn`, directed sets by definition);
    - ``spectral`` (:func:`spectral_distance` of the undirected graphs, ``n_eigs``
      eigenvalues; pass precomputed spectra per k in ``spectra_a``/``spectra_b`` to reuse them);
    - ``hub_skew_a/_b``, ``hub_frac_a/_b``, ``antihub_frac_a/_b`` (:func:`hubness` of each
      directed graph);
    - ``cka`` (:func:`cka_linear`, debiased; needs the latents ``xa``, ``xb`` in the row order
      of ``a`` and ``b``), the same on every row;
    - every other measure with ``needs == "latents"`` in :mod:`latentgraph.compare.registry`
      (one column each, named like the measure): those with ``per_k`` (``cknna``,
      ``rank_sim``, ``second_order_cos``: cosine neighbours of the latents, searched once at
      the largest k) per row, the others once per pair, repeated on every row.

    With ``n_perm > 0`` each measure of the pair also gets ``<column>_null`` and
    ``<column>_null_std``: mean and standard deviation over ``n_perm`` shuffles of the
    sample correspondence (:func:`permutation_null`; the same shuffles for every measure
    and k, seeded by ``seed``). The spectral distance does not depend on the
    correspondence, so its null equals the observed value (filled in, std 0); hubness
    gets the closed-form random-graph levels of :func:`hubness_null` instead.

    With ``resamples >= 2`` every column also gets ``<column>_lo`` and ``<column>_hi``, a
    ``ci`` resampling interval (:mod:`latentgraph.compare.intervals`: a bootstrap over the
    vertices with the graphs fixed for the vertex means, half-sampling for the measures of
    the latents and for the spectral distance, whose subset graphs are rebuilt as kNN graphs
    of the subset), seeded by ``seed``.

    Parameters
    ----------
    a, b : KnnTable
        Tables of the same samples (matched by ``sample_id``; their row orders may differ).
    ks : sequence of int
        Neighbour counts (deduplicated, sorted), each at most both tables' ``k``.
    measures : sequence of str, optional
        Names from :data:`MEASURES`; default ``("jaccard", "cns")``.
    directed : bool, optional
        Jaccard and CNS on the directed graphs (default: undirected).
    xa, xb : numpy.ndarray, optional
        Latents in the row order of ``a`` and ``b``; needed for ``cka`` and the other
        measures of the latents; with ``spectral`` and ``resamples`` they make the subset
        graphs of its interval exact kNN graphs (see :func:`.intervals.subset_neighbours`).
    n_eigs : int, optional
        Eigenvalues of the spectral distance (default 20).
    n_perm : int, optional
        Shuffles of the permutation null (default 0: no null columns).
    seed : int, optional
        Seed of the shuffles and of the interval resamples (default 0).
    spectra_a, spectra_b : mapping of int to numpy.ndarray, optional
        Precomputed Laplacian spectra per k, reused instead of recomputed.
    ci : float, optional
        Nominal coverage of the intervals (default 0.95).
    resamples : int, optional
        Resamples B of the intervals (default 0 or None: no interval columns; 1 is an error).

    Returns
    -------
    pandas.DataFrame
        One row per k, columns ``k`` and :func:`columns` of ``measures``.

    Raises
    ------
    LatentGraphError
        For unknown measures, no or too large k, different samples, or a measure of the
        latents (``cka``, ``procrustes``, ...) without matching latents.
    """
    ms = check_measures(measures)
    if "cns_sym" in ms and "cns" not in ms:
        ms = check_measures([*ms, "cns"])
    ks = sorted({int(x) for x in ks})
    if not ks:
        raise LatentGraphError("compare: no k given")
    n_res = check_resamples(resamples, "compare: resamples")
    level = check_level(ci, "compare: ci") if n_res else 0.0
    b_al = align(a, b)
    for k in ks:
        for t, name in ((a, "first"), (b_al, "second")):
            check_k(k, stored=t.k, where=f"{name} graph")
    cka_obj = None
    lat: _Latents | None = None
    needs_latents = [m for m in ms if _registry.get(m).needs == "latents"]
    if needs_latents and (xa is None or xb is None):
        raise LatentGraphError(f"measure {needs_latents[0]!r} needs the latents of both representations, "
                               "not only kNN graphs")
    # the spectral interval also uses them (exact kNN graphs of each subset: intervals.subset_neighbours)
    if xa is not None and xb is not None and (needs_latents or ("spectral" in ms and n_res)):
        xa, xb = np.asarray(xa), np.asarray(xb)
        if xa.shape[0] != a.n or xb.shape[0] != b.n:
            raise LatentGraphError(f"latents have {xa.shape[0]} and {xb.shape[0]} rows, the graphs {a.n} and {b.n}")
        xb = xb[_order_of(a.sample_id, b.sample_id)]
    if needs_latents:
        if "cka" in ms:
            cka_obj = LinearCKA(xa, xb, debiased=True)
        lat = _Latents(xa, xb, [m for m in ms if m in LATENT_MEASURES], ks)
    spectra: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if "spectral" in ms:
        for k in ks:
            sa = spectra_a[k] if spectra_a is not None and k in spectra_a else laplacian_spectrum(a, n_eigs, k=k)
            sb = spectra_b[k] if spectra_b is not None and k in spectra_b else laplacian_spectrum(b_al, n_eigs, k=k)
            spectra[k] = (sa, sb)
    rows = []
    cka_value = cka_obj.value() if cka_obj is not None else None
    for k in ks:
        row: dict[str, Any] = {"k": k}
        row.update(_pair_values(a, b_al, k, ms, directed, spectra.get(k)))
        if "hubness" in ms:
            ha, hb = hubness(a, k), hubness(b_al, k)
            row.update(hub_skew_a=ha["skewness"], hub_skew_b=hb["skewness"], hub_frac_a=ha["hub_fraction"],
                       hub_frac_b=hb["hub_fraction"], antihub_frac_a=ha["antihub_fraction"],
                       antihub_frac_b=hb["antihub_fraction"])
        if cka_value is not None:
            row["cka"] = cka_value
        if lat is not None:
            row.update(lat.values(k))
        rows.append(row)
    df = pd.DataFrame(rows)
    if n_perm:
        _add_null(df, a, b_al, ks, ms, directed, cka_obj, int(n_perm), int(seed), lat)
    if n_res:
        bounds = compare_intervals(a, b_al, ks, ms, level=level, resamples=n_res, seed=int(seed), directed=directed,
                                   xa=xa, xb=xb, values={c: df[c].tolist() for c in df.columns},
                                   pair=lat.pair if lat is not None else None, n_eigs=n_eigs)
        for col, vals in bounds.items():
            df[col] = vals
    return df[["k", *columns(ms, null=bool(n_perm), ci=bool(n_res))]]


class _Latents:
    """The latents measures of one :func:`compare` call: values per k, under shuffles of Y's rows.

    Measures independent of k are computed once per shuffle; the nearest-neighbour ones share
    one :class:`latentgraph.compare.neighbours.NeighbourPair` (one cosine kNN search per side).
    """

    def __init__(self, xa: np.ndarray, xb: np.ndarray, names: list[str], ks: list[int]) -> None:
        self.xa, self.xb, self.names, self.ks = xa, xb, names, ks
        self.pair = None
        if any(_registry.get(m).per_k for m in names):
            self.pair = NeighbourPair(xa, xb, max(ks))
        self._once = {m: _registry.get(m)(xa, xb) for m in names if not _registry.get(m).per_k}

    def values(self, k: int, perm: np.ndarray | None = None, once: dict[str, float] | None = None
               ) -> dict[str, float]:
        """Every measure at k (Y's rows in the order ``perm``; ``once``: the k-independent values)."""
        out: dict[str, float] = {}
        fixed = self._once if perm is None else (once or {})
        for m in self.names:
            if _registry.get(m).per_k:
                assert self.pair is not None
                out[m] = self.pair.value(m, k, perm)
            else:
                out[m] = fixed[m]
        return out

    def once(self, perm: np.ndarray) -> dict[str, float]:
        """The k-independent measures with Y's rows in the order ``perm``."""
        return {m: _registry.get(m)(self.xa, self.xb[perm]) for m in self.names if not _registry.get(m).per_k}


def _add_null(df: pd.DataFrame, a: KnnTable, b: KnnTable, ks: list[int], ms: list[str], directed: bool,
              cka_obj: LinearCKA | None, n_perm: int, seed: int, lat: _Latents | None = None) -> None:
    """Fill the ``*_null`` and ``*_null_std`` columns of a :func:`compare` table in place.

    One set of shuffles (:func:`_null_draws`) serves every measure and k.
    """
    graph_ms = [m for m in ms if m in ("jaccard", "cns", "cns_sym", "mutual_knn")]

    def values(perm: np.ndarray) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        if graph_ms:
            bp = permute_table(b, perm)
            for k in ks:
                for col, v in _pair_values(a, bp, k, graph_ms, directed, None).items():
                    out.setdefault(col, []).append(v)
        if cka_obj is not None:
            out["cka"] = [cka_obj.value(perm)] * len(ks)
        if lat is not None and lat.names:
            once = lat.once(perm)
            for k in ks:
                for col, v in lat.values(k, perm, once).items():
                    out.setdefault(col, []).append(v)
        return out

    for col, draws in _null_draws(a.n, n_perm, seed, values).items():  # (len(ks), n_perm) each
        df[f"{col}_null"] = draws.mean(axis=1)
        df[f"{col}_null_std"] = _null_std(draws)
    if "spectral" in ms:  # invariant under relabelling: the null is the observed value
        df["spectral_null"] = df["spectral"]
        df["spectral_null_std"] = 0.0
    if "hubness" in ms:
        nulls = [hubness_null(a.n, k) for k in ks]
        df["hub_skew_null"] = [h["skewness"] for h in nulls]
        df["hub_frac_null"] = [h["hub_fraction"] for h in nulls]
        df["antihub_frac_null"] = [h["antihub_fraction"] for h in nulls]
