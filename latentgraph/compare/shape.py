"""Geometry-level measures between two latent matrices: Procrustes, the CCA family, RSA, RBF CKA.

Every function takes two (N, d_x) and (N, d_y) numeric matrices of the same N samples (rows)
and returns a float. Accumulation is in float64; the matrices themselves are never copied
whole into float64 unless stated, and no N x N matrix is formed except where noted:

- :func:`procrustes`, :func:`procrustes_angular`, :func:`procrustes_size_shape`: orthogonal
  Procrustes distances (Ding et al. 2021; Williams et al. 2021) from the nuclear norm of the
  centred cross-covariance XᵀY. Time O(N d_x d_y), memory O(d_x d_y + block · d).
- :func:`canonical_correlations`, :func:`mean_cca`, :func:`svcca` (Raghu et al. 2017),
  :func:`pwcca` (Morcos et al. 2018): from the d x d covariance blocks (whitening by
  eigendecomposition, rank-truncated). Time O(N (d_x + d_y)² + d³), memory O((d_x + d_y)²).
- :func:`rsa` (Kriegeskorte et al. 2008): Spearman correlation of the Euclidean
  representational dissimilarity matrices' upper triangles; exact (N(N-1)/2 distances per
  side) up to ``max_pairs`` pairs, above it a seeded uniform sample of ``n_pairs`` pairs
  (memory O(n_pairs)).
- :func:`cka_rbf`: CKA with Gaussian kernels (Kornblith et al. 2019), bandwidth σ² =
  ``bandwidth``² x the median squared distance between distinct samples; the N x N kernels
  are formed and summed in row blocks of at most :data:`RBF_BLOCK_ELEMS` entries (time
  O(N² d), memory O(N d) for the centred float64 copies plus 64 MiB per kernel block: no
  N x N matrix at any N, so no sampling path is needed; at N = 50,000 the N² d products
  take minutes, see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from ..utils import LatentGraphError

log = logging.getLogger(__name__)

#: Rows per block when accumulating over samples.
BLOCK_ROWS = 4096
#: Eigenvalues of a covariance below this fraction of its largest count as zero (rank truncation).
RANK_TOL = 1e-10
#: RSA and the RBF bandwidth use all pairs up to this many, a sample of pairs above it.
MAX_PAIRS = 2_000_000
#: Pairs sampled above :data:`MAX_PAIRS`.
N_PAIRS = 1_000_000
#: RBF CKA forms at most this many kernel entries at a time per kernel (2²³ float64: 64 MiB).
RBF_BLOCK_ELEMS = 1 << 23


def check_latents(X: Any, Y: Any, what: str = "measure", min_n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two latent matrices of the same samples, validated.

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) numeric matrices.
    what : str, optional
        Name of the measure for error messages.
    min_n : int, optional
        Fewest samples the measure is defined for (default 3).

    Returns
    -------
    tuple of numpy.ndarray
        The two arrays (as given when already arrays).

    Raises
    ------
    LatentGraphError
        For non-2-D, non-numeric or non-finite input, different sample counts or too few samples.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2:
        raise LatentGraphError(f"{what} needs two 2-D latent matrices (samples x features), got shapes "
                               f"{X.shape} and {Y.shape}")
    if X.shape[0] != Y.shape[0]:
        raise LatentGraphError(f"{what} needs the same samples in both matrices: {X.shape[0]} and {Y.shape[0]} rows")
    if X.shape[0] < min_n:
        raise LatentGraphError(f"{what} needs at least {min_n} samples, got {X.shape[0]}")
    for M in (X, Y):
        if M.dtype.kind not in "fiu" or M.shape[1] < 1:
            raise LatentGraphError(f"{what} needs numeric matrices with at least one column, got dtype {M.dtype}, "
                                   f"shape {M.shape}")
        if M.dtype.kind == "f" and not np.isfinite(M).all():
            raise LatentGraphError(f"{what}: input contains NaN or inf values")
    return X, Y


def _means(X: np.ndarray) -> np.ndarray:
    total = np.zeros(X.shape[1])
    for s in range(0, X.shape[0], BLOCK_ROWS):
        total += np.asarray(X[s : s + BLOCK_ROWS], dtype=np.float64).sum(axis=0)
    return total / X.shape[0]


def covariances(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centred scatter matrices XcᵀXc, YcᵀYc and XcᵀYc, accumulated over row blocks in float64.

    Parameters
    ----------
    X, Y : numpy.ndarray
        (N, d_x) and (N, d_y) matrices of the same samples.

    Returns
    -------
    tuple of numpy.ndarray
        (d_x, d_x), (d_y, d_y) and (d_x, d_y) float64 matrices (sums, not divided by N).
    """
    mx, my = _means(X), _means(Y)
    dx, dy = X.shape[1], Y.shape[1]
    cxx, cyy, cxy = np.zeros((dx, dx)), np.zeros((dy, dy)), np.zeros((dx, dy))
    for s in range(0, X.shape[0], BLOCK_ROWS):
        xb = np.asarray(X[s : s + BLOCK_ROWS], dtype=np.float64) - mx
        yb = np.asarray(Y[s : s + BLOCK_ROWS], dtype=np.float64) - my
        cxx += xb.T @ xb
        cyy += yb.T @ yb
        cxy += xb.T @ yb
    return cxx, cyy, cxy


def _nuclear(M: np.ndarray) -> float:
    return float(np.linalg.svd(M, compute_uv=False).sum()) if M.size else 0.0


def _procrustes_parts(X: Any, Y: Any, what: str) -> tuple[float, float, float]:
    """‖Xc‖²_F, ‖Yc‖²_F and the nuclear norm ‖XcᵀYc‖_* (= max over orthogonal Q of tr(QᵀXcᵀYc))."""
    X, Y = check_latents(X, Y, what, min_n=2)
    return _procrustes_of(*covariances(X, Y))


def _procrustes_of(cxx: np.ndarray, cyy: np.ndarray, cxy: np.ndarray) -> tuple[float, float, float]:
    """:func:`_procrustes_parts` from the centred scatter matrices."""
    return float(np.trace(cxx)), float(np.trace(cyy)), _nuclear(cxy)


def procrustes(X: Any, Y: Any) -> float:
    """Orthogonal Procrustes distance of the centred, Frobenius-normalised matrices (Ding et al. 2021).

    .. math:: d(X, Y) = \\min_{Q^\\top Q = I} \\|\\tilde X Q - \\tilde Y\\|_F
              = \\sqrt{2 - 2\\,\\|\\tilde X^\\top \\tilde Y\\|_*},\\quad
              \\tilde X = X_c / \\|X_c\\|_F

    with X_c the column-centred matrix and ‖·‖_* the nuclear norm; different widths are
    compared as if the narrower matrix were padded with zero columns (as ReSi does). In
    [0, √2]; 0 for identical inputs (up to rotation, translation and scale).

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 2 samples.

    Returns
    -------
    float
        The distance (smaller = more similar).

    Raises
    ------
    LatentGraphError
        For invalid input or a matrix without variance.
    """
    return _procrustes_value(*_procrustes_parts(X, Y, "procrustes"))


def _procrustes_value(nx: float, ny: float, nuc: float) -> float:
    if nx <= 0 or ny <= 0:
        raise LatentGraphError("procrustes is undefined: a representation has no variance")
    return math.sqrt(max(0.0, 2.0 - 2.0 * nuc / math.sqrt(nx * ny)))


def procrustes_angular(X: Any, Y: Any) -> float:
    """Angular shape metric of Williams et al. (2021): arccos ‖X̃ᵀỸ‖_* on centred, normalised matrices.

    The angle between the two shapes after the best rotation, in [0, π/2]; 0 for identical
    inputs. A monotone function of :func:`procrustes` (d² = 2 − 2 cos θ).

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 2 samples.

    Returns
    -------
    float
        The angle in radians (smaller = more similar).

    Raises
    ------
    LatentGraphError
        For invalid input or a matrix without variance.
    """
    return _angular_value(*_procrustes_parts(X, Y, "procrustes_angular"))


def _angular_value(nx: float, ny: float, nuc: float) -> float:
    if nx <= 0 or ny <= 0:
        raise LatentGraphError("procrustes_angular is undefined: a representation has no variance")
    return float(np.arccos(np.clip(nuc / math.sqrt(nx * ny), -1.0, 1.0)))


def procrustes_size_shape(X: Any, Y: Any) -> float:
    """Procrustes size-and-shape distance: centred but not normalised (Williams et al. 2021; Dryden & Mardia 2016).

    .. math:: d(X, Y) = \\min_{Q^\\top Q = I} \\|X_c Q - Y_c\\|_F
              = \\sqrt{\\|X_c\\|_F^2 + \\|Y_c\\|_F^2 - 2\\,\\|X_c^\\top Y_c\\|_*}

    In [0, ∞); depends on the scale of the latents (not invariant to isotropic scaling).

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 2 samples.

    Returns
    -------
    float
        The distance (smaller = more similar), in the units of the latents.
    """
    return _size_shape_value(*_procrustes_parts(X, Y, "procrustes_size_shape"))


def _size_shape_value(nx: float, ny: float, nuc: float) -> float:
    return math.sqrt(max(0.0, nx + ny - 2.0 * nuc))


# --------------------------------------------------------------------------------- CCA family


def _whitener(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvectors V, eigenvalues w (descending, above RANK_TOL x largest) and W = V diag(w^-1/2)."""
    w, V = np.linalg.eigh(c)
    order = np.argsort(w)[::-1]
    w, V = w[order], V[:, order]
    top = w[0] if w.size else 0.0
    keep = w > RANK_TOL * top if top > 0 else np.zeros(w.size, bool)
    w, V = w[keep], V[:, keep]
    return V, w, V / np.sqrt(w)


def _cca(cxx: np.ndarray, cyy: np.ndarray, cxy: np.ndarray, n: int, what: str
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Canonical correlations of centred scatter blocks: (rho, Wx, Wy, U, Vt) with rho descending."""
    _, wx, Wx = _whitener(cxx)
    _, wy, Wy = _whitener(cyy)
    if wx.size == 0 or wy.size == 0:
        raise LatentGraphError(f"{what} is undefined: a representation has no variance")
    if wx.size + wy.size > n - 1:
        log.warning("%s: ranks %d + %d exceed N - 1 = %d samples: %d canonical correlations are 1 by construction",
                    what, wx.size, wy.size, n - 1, wx.size + wy.size - (n - 1))
    U, s, Vt = np.linalg.svd(Wx.T @ cxy @ Wy, full_matrices=False)
    return np.clip(s, 0.0, 1.0), Wx, Wy, U, Vt


def canonical_correlations(X: Any, Y: Any) -> np.ndarray:
    """All canonical correlations ρ_1 >= ... >= ρ_r of two representations (Hotelling 1936).

    ρ_i are the singular values of Σ_xx^{-1/2} Σ_xy Σ_yy^{-1/2}, computed from the centred
    scatter matrices; directions with variance below ``RANK_TOL`` x the largest are dropped
    (rank-deficient latents), so r = min(rank X, rank Y). When rank X + rank Y > N − 1 some
    correlations are 1 whatever the data (a warning is logged): use :func:`svcca` then.

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 3 samples.

    Returns
    -------
    numpy.ndarray
        (r,) float64 correlations in [0, 1], descending.

    Raises
    ------
    LatentGraphError
        For invalid input or a matrix without variance.
    """
    X, Y = check_latents(X, Y, "cca")
    return _cca(*covariances(X, Y), X.shape[0], "cca")[0]


def _mean_cca_of(cxx: np.ndarray, cyy: np.ndarray, cxy: np.ndarray, n: int) -> float:
    return float(np.mean(_cca(cxx, cyy, cxy, n, "cca")[0]))


def mean_cca(X: Any, Y: Any) -> float:
    """Mean canonical correlation ρ̄ = (1/r) Σ ρ_i (Raghu et al. 2017; Kornblith et al. 2019's ρ̄_CCA).

    Invariant to any invertible linear map of either representation. In [0, 1], 1 for
    identical inputs.

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 3 samples.

    Returns
    -------
    float
        The mean of :func:`canonical_correlations`.
    """
    X, Y = check_latents(X, Y, "cca")
    return _mean_cca_of(*covariances(X, Y), X.shape[0])


def _top_components(w: np.ndarray, threshold: float) -> int:
    share = np.cumsum(w) / w.sum()
    return int(np.searchsorted(share, threshold - 1e-12) + 1)


def svcca(X: Any, Y: Any, threshold: float = 0.99) -> float:
    """SVCCA (Raghu et al. 2017): mean canonical correlation of the leading principal components.

    Each centred representation is reduced to its fewest principal components that explain
    at least ``threshold`` of its variance (Raghu et al. keep 99 %), then :func:`mean_cca`
    of the two reductions. Everything from the d x d scatter matrices. In [0, 1].

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 3 samples.
    threshold : float, optional
        Share of variance kept, in (0, 1] (default 0.99).

    Returns
    -------
    float
        The SVCCA similarity.

    Raises
    ------
    LatentGraphError
        For invalid input, a bad threshold or a matrix without variance.
    """
    if not 0 < threshold <= 1:
        raise LatentGraphError(f"svcca threshold must be in (0, 1], got {threshold}")
    X, Y = check_latents(X, Y, "svcca")
    return _svcca_of(*covariances(X, Y), X.shape[0], threshold)


def _svcca_of(cxx: np.ndarray, cyy: np.ndarray, cxy: np.ndarray, n: int, threshold: float = 0.99) -> float:
    Vx, wx, _ = _whitener(cxx)
    Vy, wy, _ = _whitener(cyy)
    if wx.size == 0 or wy.size == 0:
        raise LatentGraphError("svcca is undefined: a representation has no variance")
    kx, ky = _top_components(wx, threshold), _top_components(wy, threshold)
    Px, Py = Vx[:, :kx], Vy[:, :ky]  # principal directions; the reduced data are Xc Px, Yc Py
    rho = _cca(np.diag(wx[:kx]), np.diag(wy[:ky]), Px.T @ cxy @ Py, n, "svcca")[0]
    return float(np.mean(rho))


def pwcca(X: Any, Y: Any) -> float:
    """Projection-weighted CCA (Morcos et al. 2018): canonical correlations weighted by the variance they account for.

    With h_i the unit-norm canonical variates of the side with fewer neurons (X on a tie)
    and z_j that side's centred neuron columns, α_i = Σ_j |⟨h_i, z_j⟩| and
    ρ_PW = Σ α_i ρ_i / Σ α_i. The inner products are (U_iᵀ Wᵀ C) of the scatter matrix C and
    whitener W, so no N-long vector is formed. Not symmetric in general; in [0, 1].

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 3 samples.

    Returns
    -------
    float
        The PWCCA similarity.
    """
    X, Y = check_latents(X, Y, "pwcca")
    return _pwcca_of(*covariances(X, Y), X.shape[0])


def _pwcca_of(cxx: np.ndarray, cyy: np.ndarray, cxy: np.ndarray, n: int) -> float:
    rho, Wx, Wy, U, Vt = _cca(cxx, cyy, cxy, n, "pwcca")
    r = rho.size
    if Wx.shape[1] <= Wy.shape[1]:
        inner = U[:, :r].T @ Wx.T @ cxx  # (r, d_x): <h_i, z_j>
    else:
        inner = Vt[:r] @ Wy.T @ cyy
    alpha = np.abs(inner).sum(axis=1)
    return float(alpha @ rho / alpha.sum())


#: The measures that are functions of the centred scatter matrices XcᵀXc, YcᵀYc, XcᵀYc and N alone.
COVARIANCE_MEASURES = ("procrustes", "procrustes_angular", "procrustes_size_shape", "mean_cca", "svcca", "pwcca")


def from_covariances(name: str, cxx: np.ndarray, cyy: np.ndarray, cxy: np.ndarray, n: int) -> float:
    """A measure of :data:`COVARIANCE_MEASURES` from precomputed centred scatter matrices.

    The same value as the measure on the latents whose :func:`covariances` these are (the
    functions above compute them and call this); for many subsets of the same samples
    (:mod:`latentgraph.compare.intervals`) the three matrices are computed once per subset
    and shared by all six measures.

    Parameters
    ----------
    name : str
        A name from :data:`COVARIANCE_MEASURES` (``svcca`` with its default threshold 0.99).
    cxx, cyy, cxy : numpy.ndarray
        (d_x, d_x), (d_y, d_y) and (d_x, d_y) centred scatter matrices (sums, not divided by N).
    n : int
        Number of samples they were summed over.

    Returns
    -------
    float
        The measure's value.

    Raises
    ------
    LatentGraphError
        For an unknown name, or where the measure is undefined (no variance).
    """
    if name in ("procrustes", "procrustes_angular", "procrustes_size_shape"):
        parts = _procrustes_of(cxx, cyy, cxy)
        return {"procrustes": _procrustes_value, "procrustes_angular": _angular_value,
                "procrustes_size_shape": _size_shape_value}[name](*parts)
    if name == "mean_cca":
        return _mean_cca_of(cxx, cyy, cxy, n)
    if name == "svcca":
        return _svcca_of(cxx, cyy, cxy, n)
    if name == "pwcca":
        return _pwcca_of(cxx, cyy, cxy, n)
    raise LatentGraphError(f"{name!r} is not a function of the covariances; allowed: {list(COVARIANCE_MEASURES)}")


# ---------------------------------------------------------------------------------------- RSA


def _pair_sample(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, m)
    j = rng.integers(0, n - 1, m)
    return i, j + (j >= i)


def _pair_sq_distances(X: np.ndarray, i: np.ndarray, j: np.ndarray, block: int = 1 << 11) -> np.ndarray:
    out = np.empty(i.size)
    for s in range(0, i.size, block):
        d = np.asarray(X[i[s : s + block]], dtype=np.float64) - np.asarray(X[j[s : s + block]], dtype=np.float64)
        out[s : s + block] = np.einsum("ij,ij->i", d, d)
    return out


def rsa(X: Any, Y: Any, max_pairs: int = MAX_PAIRS, n_pairs: int = N_PAIRS, seed: int = 0) -> float:
    """Representational similarity analysis (Kriegeskorte et al. 2008): Spearman correlation of the two RDMs.

    The representational dissimilarity matrices hold the Euclidean distances between samples;
    their upper triangles (i < j) are compared by Spearman's rank correlation (ties get
    average ranks). Exact while N(N − 1)/2 <= ``max_pairs`` (memory ~ 5 x 8 bytes per pair);
    above it ``n_pairs`` pairs (i ≠ j) drawn uniformly with replacement from
    ``default_rng(seed)``, the same pairs in both representations (memory O(n_pairs); at
    10⁶ pairs the estimate's standard deviation is about 0.001, see the measures page).

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 3 samples.
    max_pairs : int, optional
        Largest number of pairs computed exactly (default 2,000,000, N ≈ 2,000).
    n_pairs : int, optional
        Pairs sampled above that (default 1,000,000).
    seed : int, optional
        Seed of the pair sample (default 0).

    Returns
    -------
    float
        Spearman's ρ in [−1, 1] (larger = more similar).

    Raises
    ------
    LatentGraphError
        For invalid input or a representation whose distances are all equal.
    """
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr

    X, Y = check_latents(X, Y, "rsa")
    n = X.shape[0]
    if n * (n - 1) // 2 <= max_pairs:
        dx = pdist(np.asarray(X, dtype=np.float64), "sqeuclidean")
        dy = pdist(np.asarray(Y, dtype=np.float64), "sqeuclidean")
    else:
        i, j = _pair_sample(n, int(n_pairs), seed)
        dx, dy = _pair_sq_distances(X, i, j), _pair_sq_distances(Y, i, j)
    if np.ptp(dx) == 0 or np.ptp(dy) == 0:
        raise LatentGraphError("rsa is undefined: all distances of a representation are equal")
    # squared distances rank as the distances do
    return float(spearmanr(dx, dy)[0])


# ------------------------------------------------------------------------------------ RBF CKA


def median_sq_distance(X: Any, max_pairs: int = MAX_PAIRS, n_pairs: int = N_PAIRS, seed: int = 0) -> float:
    """Median squared Euclidean distance between distinct samples (exact, or over a seeded pair sample).

    Parameters
    ----------
    X : array_like
        (N, d) latents.
    max_pairs : int, optional
        All N(N − 1)/2 pairs up to this many (default 2,000,000).
    n_pairs : int, optional
        Uniformly sampled pairs above it (default 1,000,000).
    seed : int, optional
        Seed of the sample.

    Returns
    -------
    float
        The median.
    """
    from scipy.spatial.distance import pdist

    X = np.asarray(X)
    n = X.shape[0]
    if n * (n - 1) // 2 <= max_pairs:
        return float(np.median(pdist(np.asarray(X, dtype=np.float64), "sqeuclidean")))
    i, j = _pair_sample(n, int(n_pairs), seed)
    return float(np.median(_pair_sq_distances(X, i, j)))


def _hsic_u(t1: Any, t2: Any, t3: Any, t4: Any, n: int) -> Any:
    """Debiased HSIC (Song et al. 2012, eq. 5) from T1 = tr(K̃L̃), T2 = 1ᵀK̃1, T3 = 1ᵀL̃1,
    T4 = 1ᵀK̃L̃1, where K̃, L̃ are the kernels with their diagonals set to zero.

    The one copy of the formula: linear CKA (:mod:`.measures`, :mod:`.maps`), RBF CKA here
    and the vectorised half-sampling (:mod:`.intervals`, elementwise over arrays of T's).
    """
    return (t1 + t2 * t3 / ((n - 1) * (n - 2)) - 2.0 * t4 / (n - 2)) / (n * (n - 3))


def _hsic_b(kl: float, sk: float, sl: float, rkrl: float, n: int) -> float:
    """tr(KHLH) from Σ K∘L, 1ᵀK1, 1ᵀL1 and Σ_i (K1)_i (L1)_i (the 1/(n−1)² cancels in CKA)."""
    return kl - 2.0 * rkrl / n + sk * sl / (n * n)


def _rbf_block(Xf: np.ndarray, q: np.ndarray, s: int, e: int, s2: float, diag: float) -> np.ndarray:
    """Rows s..e of the Gaussian kernel exp(−‖x_i − x_j‖² / 2σ²), its diagonal set to ``diag``,
    computed in place in one (e − s, N) float64 array."""
    K = Xf[s:e] @ Xf.T
    K *= -2.0
    K += q[s:e, None]
    K += q[None, :]
    np.maximum(K, 0.0, out=K)
    K *= -1.0 / (2.0 * s2)
    np.exp(K, out=K)
    K[np.arange(e - s), np.arange(s, e)] = diag
    return K


def cka_rbf(X: Any, Y: Any, bandwidth: float = 1.0, sigma_x: float | None = None, sigma_y: float | None = None,
            debiased: bool = True, block_rows: int = 1024, seed: int = 0) -> float:
    """CKA with Gaussian (RBF) kernels (Kornblith et al. 2019), debiased by default.

    K_ij = exp(−‖x_i − x_j‖² / (2σ_x²)), likewise L for Y. Bandwidth rule (Kornblith et
    al.'s ``gram_rbf``): σ² = ``bandwidth``² x the median squared distance between
    distinct samples (:func:`median_sq_distance`; Kornblith et al. take the median over
    all N² entries, diagonal zeros included, a shift of 1/(2N) in the quantile), unless
    ``sigma_x``/``sigma_y`` are given. With the median rule the measure is invariant to
    isotropic scaling. ``debiased=True`` uses the unbiased HSIC of Song et al. (2012) as
    :func:`latentgraph.compare.measures.cka_linear` does (null ≈ 0); ``False`` gives the
    biased tr(KHLH) form. The kernels are built in place and summed in blocks of at most
    ``block_rows`` rows and :data:`RBF_BLOCK_ELEMS` (2²³) entries: time O(N² d), memory
    O(N d + 2²³) float64; no N x N matrix is held at any N (exact at N = 50,000, where one
    kernel would be 18.6 GiB; the time is what grows, see ``docs/benchmarks.md``).

    Parameters
    ----------
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same N >= 4 samples.
    bandwidth : float, optional
        Multiple of the median distance (default 1.0), > 0.
    sigma_x, sigma_y : float, optional
        Explicit kernel widths (override the rule).
    debiased : bool, optional
        Unbiased HSIC estimator (default True).
    block_rows : int, optional
        Most rows of the kernels formed at a time (default 1024; fewer when N > 8,192, so a
        block holds at most 2²³ entries).
    seed : int, optional
        Seed of the median's pair sample above 2,000,000 pairs.

    Returns
    -------
    float
        The CKA value (1 for identical inputs; larger = more similar).

    Raises
    ------
    LatentGraphError
        For invalid input, a non-positive bandwidth or a representation without variance.
    """
    X, Y = check_latents(X, Y, "cka_rbf", min_n=4)
    if not bandwidth > 0:
        raise LatentGraphError(f"cka_rbf bandwidth must be > 0, got {bandwidth}")
    n = X.shape[0]
    Xf, Yf = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    Xf, Yf = Xf - Xf.mean(axis=0), Yf - Yf.mean(axis=0)
    s2 = []
    for M, sigma in ((Xf, sigma_x), (Yf, sigma_y)):
        v = sigma**2 if sigma is not None else bandwidth**2 * median_sq_distance(M, seed=seed)
        if not v > 0:
            raise LatentGraphError("cka_rbf is undefined: a representation has no variance (median distance 0)")
        s2.append(v)
    qx, qy = np.einsum("ij,ij->i", Xf, Xf), np.einsum("ij,ij->i", Yf, Yf)
    kl = kk = ll = 0.0
    rk, rl = np.empty(n), np.empty(n)
    rows = max(1, min(int(block_rows), RBF_BLOCK_ELEMS // n))
    diag = 0.0 if debiased else 1.0
    for s in range(0, n, rows):
        e = min(n, s + rows)
        K, L = _rbf_block(Xf, qx, s, e, s2[0], diag), _rbf_block(Yf, qy, s, e, s2[1], diag)
        kl += float(np.einsum("ij,ij->", K, L))
        kk += float(np.einsum("ij,ij->", K, K))
        ll += float(np.einsum("ij,ij->", L, L))
        rk[s:e], rl[s:e] = K.sum(axis=1), L.sum(axis=1)
    sk, sl = float(rk.sum()), float(rl.sum())
    if debiased:
        num = _hsic_u(kl, sk, sl, float(rk @ rl), n)
        hx, hy = _hsic_u(kk, sk, sk, float(rk @ rk), n), _hsic_u(ll, sl, sl, float(rl @ rl), n)
    else:
        num = _hsic_b(kl, sk, sl, float(rk @ rl), n)
        hx, hy = _hsic_b(kk, sk, sk, float(rk @ rk), n), _hsic_b(ll, sl, sl, float(rl @ rl), n)
    if not (hx > 0 and hy > 0):
        raise LatentGraphError("cka_rbf is undefined: a kernel has no variance")
    return float(num / math.sqrt(hx * hy))
