"""Nearest-neighbour measures between two latent matrices: CKNNA, kNN rank similarity, second-order cosine.

All three compare the cosine k-nearest-neighbour sets of every sample in two representations,
as ReSi (Klabunde et al. 2024, ``repsim/measures/nearest_neighbor.py``) and Huh et al. (2024)
do: rows are scaled to unit length and the k nearest other rows found by exact search
(:func:`latentgraph.graphs.knn.knn` on the normalised rows, Euclidean, which orders
neighbours as the cosine distance does). Everything after the search works on the (N, k)
neighbour tables: time O(N k d) (second-order cosine, CKNNA) or O(N k²) (rank similarity),
memory O(N k) plus blocks, never an N x N matrix.

- :func:`cknna`: centred kernel nearest-neighbour alignment (Huh et al. 2024): the debiased
  HSIC of the cosine kernels restricted to pairs that are neighbours in both, normalised by
  each kernel restricted to its own neighbours.
- :func:`knn_rank_similarity`: ReSi's rank similarity (Wang et al. 2020): shared neighbours
  weighted by how close their ranks are.
- :func:`second_order_cosine`: ReSi's second-order cosine similarity (Hamilton et al. 2016):
  the cosine similarity of the distance profiles to the union of both neighbour sets.

:class:`NeighbourPair` computes the normalised rows and neighbour tables once, for several k
and for the permutation null (a shuffle relabels Y's table instead of searching again).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..utils import LatentGraphError
from .shape import check_latents

if TYPE_CHECKING:  # scipy.sparse is imported where it is used: the CLI's parser imports this module
    import scipy.sparse as sp

log = logging.getLogger(__name__)

#: Gathered elements (rows x columns x features) per block of the second-order cosine.
BLOCK_ELEMS = 1 << 22


def unit_rows(X: Any, what: str = "measure") -> np.ndarray:
    """Rows scaled to unit Euclidean length, in float64.

    Parameters
    ----------
    X : array_like
        (N, d) latents.
    what : str, optional
        Name for error messages.

    Returns
    -------
    numpy.ndarray
        (N, d) float64.

    Raises
    ------
    LatentGraphError
        When a row is all zeros (its cosine is undefined).
    """
    X = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1)
    if np.any(norms == 0):
        raise LatentGraphError(f"{what}: {int(np.sum(norms == 0))} sample(s) are all zeros; cosine neighbours "
                               "are undefined for them")
    return X / norms[:, None]


def cosine_knn(X: Any, k: int, backend: str = "auto") -> np.ndarray:
    """The k nearest other rows of every row by cosine distance.

    Parameters
    ----------
    X : array_like
        (N, d) latents without all-zero rows.
    k : int
        Neighbours, 1 <= k < N.
    backend : str, optional
        kNN backend of :func:`latentgraph.graphs.knn.knn` (default ``"auto"``).

    Returns
    -------
    numpy.ndarray
        (N, k) int64 neighbour table, each row by increasing cosine distance.
    """
    from ..graphs.knn import knn

    return knn(unit_rows(X, "cosine kNN"), int(k), metric="l2", backend=backend)[0]


def _check_k(k: int, n: int, what: str) -> int:
    k = int(k)
    if not 1 <= k < n:
        raise LatentGraphError(f"{what}: need 1 <= k < N = {n}, got k = {k}")
    return k


def rank_similarity_tables(ta: np.ndarray, tb: np.ndarray, block: int = 4096) -> np.ndarray:
    """ReSi's kNN rank similarity of every sample from two ordered (N, k) neighbour tables.

    For sample i with shared neighbours J = N_A(i) ∩ N_B(i) at ranks r_A(j), r_B(j) (1 = nearest),

    .. math:: s_i = \\frac{1}{\\sum_{t=1}^{|J|} 1/t} \\sum_{j \\in J}
              \\frac{2}{(1 + |r_A(j) - r_B(j)|)\\,(r_A(j) + r_B(j))}

    and s_i = 0 when J is empty (ReSi ``_rank_sim_i``). 1 when the tables agree.

    Parameters
    ----------
    ta, tb : numpy.ndarray
        (N, k) integer neighbour tables, rows ordered nearest first.
    block : int, optional
        Rows per block (memory O(block · k²)).

    Returns
    -------
    numpy.ndarray
        (N,) float64 in [0, 1].
    """
    n, k = ta.shape
    out = np.empty(n)
    ranks = np.arange(1, k + 1, dtype=np.float64)
    harmonic = np.concatenate([[1.0], np.cumsum(1.0 / ranks)])  # harmonic[0] unused (no shared neighbour)
    for s in range(0, n, block):
        eq = ta[s : s + block, :, None] == tb[s : s + block, None, :]  # (b, k, k)
        hit = eq.any(axis=2)
        rb = eq.argmax(axis=2) + 1.0
        ra = ranks[None, :]
        score = np.where(hit, 2.0 / ((1.0 + np.abs(ra - rb)) * (ra + rb)), 0.0).sum(axis=1)
        m = hit.sum(axis=1)
        out[s : s + block] = np.where(m > 0, score / harmonic[m], 0.0)
    return out


def _union_weights(ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
    """(N, 2k) weights of the columns of [ta, tb]: 0 for a tb entry already in ta (the union, each once)."""
    dup = (tb[:, :, None] == ta[:, None, :]).any(axis=2)
    return np.concatenate([np.ones(ta.shape, dtype=np.float64), (~dup).astype(np.float64)], axis=1)


def _cosine_distances_to(U: np.ndarray, cols: np.ndarray, rows: slice) -> np.ndarray:
    """1 − û_i · û_j for i in ``rows`` and j = cols[i - start, :], from unit rows U."""
    return 1.0 - np.einsum("id,icd->ic", U[rows], U[cols])


def second_order_per_vertex(Xn: np.ndarray, Yn: np.ndarray, ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
    """Second-order cosine similarity of every sample, from unit rows and neighbour tables.

    s_i = cos(d_X(i, U_i), d_Y(i, U_i)) with U_i = N_A(i) ∪ N_B(i) and d the cosine
    distances from sample i (ReSi ``second_order_cosine_similarity``). NaN where a distance
    vector is all zero (duplicated samples).

    Parameters
    ----------
    Xn, Yn : numpy.ndarray
        (N, d_x), (N, d_y) unit rows (:func:`unit_rows`).
    ta, tb : numpy.ndarray
        (N, k) neighbour tables of Xn and Yn.

    Returns
    -------
    numpy.ndarray
        (N,) float64 in [0, 1] (NaN where undefined).
    """
    n, k = ta.shape
    cols = np.concatenate([ta, tb], axis=1)
    w = _union_weights(ta, tb)
    rows = max(1, BLOCK_ELEMS // max(1, 2 * k * max(Xn.shape[1], Yn.shape[1])))
    out = np.empty(n)
    for s in range(0, n, rows):
        sl = slice(s, min(n, s + rows))
        dx = np.clip(_cosine_distances_to(Xn, cols[sl], sl), 0.0, 2.0)
        dy = np.clip(_cosine_distances_to(Yn, cols[sl], sl), 0.0, 2.0)
        ww = w[sl]
        num = np.sum(ww * dx * dy, axis=1)
        den = np.sqrt(np.sum(ww * dx * dx, axis=1) * np.sum(ww * dy * dy, axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[sl] = num / den
    return out


def _masked_kernel(U: np.ndarray, table: np.ndarray, keep: np.ndarray | None = None) -> sp.csr_array:
    """Sparse N x N kernel with K_ij = û_i · û_j on the entries (i, table[i, t]) (where ``keep``)."""
    import scipy.sparse as sp

    n, k = table.shape
    rows = np.repeat(np.arange(n), k)
    cols = table.reshape(-1)
    vals = np.einsum("id,id->i", U[rows], U[cols])
    if keep is not None:
        m = keep.reshape(-1)
        rows, cols, vals = rows[m], cols[m], vals[m]
    return sp.csr_array((vals, (rows, cols)), shape=(n, n))


def hsic_unbiased_sparse(A: sp.csr_array, B: sp.csr_array) -> float:
    """Unbiased HSIC (Song et al. 2012, eq. 5) of two sparse kernels with zero diagonals.

    As Huh et al.'s ``hsic_unbiased``: [Σ_ij A_ij B_ji + 1ᵀA1 · 1ᵀB1 / ((m−1)(m−2))
    − 2 · 1ᵀAB1 / (m−2)] / (m(m−3)), in O(nnz).

    Parameters
    ----------
    A, B : scipy.sparse.csr_array
        (m, m) kernels, zero diagonals, m >= 4.

    Returns
    -------
    float
        The estimate.
    """
    m = A.shape[0]
    t1 = float(A.multiply(B.T).sum())
    t2, t3 = float(A.sum()), float(B.sum())
    t4 = float(np.asarray(A.sum(axis=0)).ravel() @ np.asarray(B.sum(axis=1)).ravel())
    return (t1 + t2 * t3 / ((m - 1) * (m - 2)) - 2.0 * t4 / (m - 2)) / (m * (m - 3))


def _shared(ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
    """(N, k) bool: whether ta[i, t] is also in tb[i]."""
    return (ta[:, :, None] == tb[:, None, :]).any(axis=2)


def cknna_from(Xn: np.ndarray, Yn: np.ndarray, ta: np.ndarray, tb: np.ndarray) -> float:
    """CKNNA from unit rows and cosine neighbour tables (see :func:`cknna`).

    Parameters
    ----------
    Xn, Yn : numpy.ndarray
        (N, d_x), (N, d_y) unit rows.
    ta, tb : numpy.ndarray
        (N, k) neighbour tables of Xn and Yn.

    Returns
    -------
    float
        The CKNNA value.

    Raises
    ------
    LatentGraphError
        When a neighbour-restricted kernel has no positive HSIC.
    """
    shared = _shared(ta, tb)
    kl = hsic_unbiased_sparse(_masked_kernel(Xn, ta, shared), _masked_kernel(Yn, ta, shared))
    Kk, Ll = _masked_kernel(Xn, ta), _masked_kernel(Yn, tb)
    kk, ll = hsic_unbiased_sparse(Kk, Kk), hsic_unbiased_sparse(Ll, Ll)
    if not (kk > 0 and ll > 0):
        raise LatentGraphError("cknna is undefined: a neighbour-restricted kernel has no positive HSIC")
    return float(kl / math.sqrt(kk * ll))


class NeighbourPair:
    """Unit rows and cosine kNN tables of two representations, for several k and shuffles.

    The tables are searched once at ``kmax``; the first k columns are the k nearest
    neighbours (rows are ordered by distance, then index). ``perm`` arguments take Y's rows
    in that order: its table is relabelled, not searched again.

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 4 samples, no all-zero rows.
    kmax : int
        Largest k used, 1 <= kmax < N.
    backend : str, optional
        kNN backend (default ``"auto"``).

    Raises
    ------
    LatentGraphError
        For invalid input or kmax.
    """

    def __init__(self, X: Any, Y: Any, kmax: int, backend: str = "auto") -> None:
        X, Y = check_latents(X, Y, "nearest-neighbour measure", min_n=4)
        self.n = X.shape[0]
        self.kmax = _check_k(kmax, self.n, "nearest-neighbour measure")
        self.Xn, self.Yn = unit_rows(X, "first latents"), unit_rows(Y, "second latents")
        from ..graphs.knn import knn

        self.ta = knn(self.Xn, self.kmax, metric="l2", backend=backend)[0]
        self.tb = knn(self.Yn, self.kmax, metric="l2", backend=backend)[0]

    def _tables(self, k: int, perm: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = int(k)
        if not 1 <= k <= self.kmax:
            raise LatentGraphError(f"nearest-neighbour measure: k = {k} outside 1..{self.kmax}")
        if perm is None:
            return self.ta[:, :k], self.tb[:, :k], self.Yn
        perm = np.asarray(perm, dtype=np.int64)
        inv = np.empty_like(perm)
        inv[perm] = np.arange(perm.size)
        return self.ta[:, :k], inv[self.tb[perm, :k]], self.Yn[perm]

    def value(self, name: str, k: int, perm: np.ndarray | None = None) -> float:
        """One measure at k, Y's rows optionally in the order ``perm``.

        Parameters
        ----------
        name : str
            ``"cknna"``, ``"rank_sim"`` or ``"second_order_cos"``.
        k : int
            Neighbours, 1 <= k <= kmax.
        perm : numpy.ndarray, optional
            (N,) permutation of Y's rows (None: as given).

        Returns
        -------
        float
            The measure's value.

        Raises
        ------
        LatentGraphError
            For an unknown name or k out of range.
        """
        ta, tb, Yn = self._tables(k, perm)
        if name == "cknna":
            if self.n < 4:
                raise LatentGraphError("cknna needs at least 4 samples")
            return cknna_from(self.Xn, Yn, ta, tb)
        if name == "rank_sim":
            return float(np.mean(rank_similarity_tables(ta, tb)))
        if name == "second_order_cos":
            s = second_order_per_vertex(self.Xn, Yn, ta, tb)
            bad = int(np.isnan(s).sum())
            if bad == s.size:
                raise LatentGraphError("second_order_cos is undefined: every distance profile is all zeros")
            if bad:
                log.warning("second_order_cos: %d sample(s) with all-zero distance profiles left out", bad)
            return float(np.nanmean(s))
        raise LatentGraphError(f"unknown nearest-neighbour measure {name!r}; allowed: cknna, rank_sim, "
                               "second_order_cos")


def cknna(X: Any, Y: Any, k: int = 10) -> float:
    """Centred kernel nearest-neighbour alignment (Huh et al. 2024, *The Platonic Representation Hypothesis*).

    With the cosine kernels K = X̂X̂ᵀ, L = ŶŶᵀ (unit rows), M_K the directed cosine kNN mask
    of X and M_L that of Y,

    .. math:: \\mathrm{CKNNA} = \\frac{\\mathrm{HSIC}_u((M_K M_L) \\circ K,\\ (M_K M_L) \\circ L)}
              {\\sqrt{\\mathrm{HSIC}_u(M_K \\circ K, M_K \\circ K)\\;\\mathrm{HSIC}_u(M_L \\circ L, M_L \\circ L)}}

    (∘ elementwise, HSIC_u the unbiased estimator exactly as Huh et al.'s ``hsic_unbiased``,
    whose first term is Σ_ij A_ij B_ji). Huh et al. add 1e-6 to the denominator; here it is
    not added. 1 for identical inputs; not bounded by 1 in general (the masks differ
    between numerator and denominator), near 0 for unrelated representations.

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 4 samples, no all-zero rows.
    k : int, optional
        Neighbours (default 10), 1 <= k < N.

    Returns
    -------
    float
        The CKNNA value (larger = more similar).
    """
    return NeighbourPair(X, Y, k).value("cknna", k)


def knn_rank_similarity(X: Any, Y: Any, k: int = 10) -> float:
    """ReSi's kNN rank similarity (Wang et al. 2020; Klabunde et al. 2024) of cosine neighbours, in [0, 1].

    The mean over samples of :func:`rank_similarity_tables`. 1 for identical inputs.

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 4 samples, no all-zero rows.
    k : int, optional
        Neighbours (default 10), 1 <= k < N.

    Returns
    -------
    float
        The mean rank similarity (larger = more similar).
    """
    return NeighbourPair(X, Y, k).value("rank_sim", k)


def second_order_cosine(X: Any, Y: Any, k: int = 10) -> float:
    """ReSi's second-order cosine similarity (Hamilton et al. 2016) of cosine neighbours, in [0, 1].

    The mean over samples of :func:`second_order_per_vertex`: the cosine similarity of the
    cosine distances from sample i to the union of its k nearest neighbours in X and in Y,
    computed in X and in Y. 1 for identical inputs.

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 4 samples, no all-zero rows.
    k : int, optional
        Neighbours (default 10), 1 <= k < N.

    Returns
    -------
    float
        The mean similarity (larger = more similar).
    """
    return NeighbourPair(X, Y, k).value("second_order_cos", k)
