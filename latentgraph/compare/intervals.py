"""How sure: resampling intervals for every measure of :func:`latentgraph.compare.measures.compare`.

Three schemes, chosen by what a measure is:

- **Vertex bootstrap with the graphs fixed** (:func:`vertex_mean_interval`) for the measures
  that are means over the test samples of a per-vertex value: Jaccard, CNS (both directions
  and their mean), mutual kNN, kNN rank similarity, second-order cosine similarity and the
  hub / antihub shares; the k-occurrence skewness gets the same resamples of its vertices.
  One (B, N) matrix of multinomial counts (each row: N draws with replacement) times the
  (N,) per-vertex values gives all B resampled means at once. The interval is the sampling
  uncertainty of *the average over the test samples given the graphs*: the kNN graphs are
  not rebuilt per resample, because a bootstrap sample with repeated samples breaks a kNN
  graph (a duplicate is its copy's nearest neighbour at distance 0, so every measure of the
  neighbour sets jumps). It does not include the variability of the graphs themselves.
- **Half-sampling** (:func:`half_sample_interval`) for the measures of the latent matrices
  (CKA, RBF CKA, Procrustes, the CCA family, RSA, CKNNA): B subsets of m = ⌊N/2⌋ samples
  drawn without replacement (no repeated samples, so every measure is well defined,
  including the kernel and nearest-neighbour ones), the measure recomputed on each. The
  spread of the subsample estimates around their mean is rescaled by sqrt(m / (N − m))
  (the delete-d jackknife of Shao & Wu 1989 with d = N − m: a mean of m of N samples drawn
  without replacement has variance σ²(1/m − 1/N), so the factor turns it into σ²/N; = 1 for
  m = N/2), and the interval is the estimate minus the rescaled 1 − α/2 and α/2 quantiles of
  those centred deviations (Politis, Romano & Wolf 1999, ch. 2). Centring on the subsample
  mean rather than the estimate removes the bias of a measure computed on fewer samples
  (nearest-neighbour measures at a fixed k see a wider neighbourhood in half the samples);
  the interval is widened to contain the estimate where quantiles of skewed deviations
  would not.
- **Half-sampling of the graphs** for the spectral distance (:func:`spectral_draws`): it is
  not a mean over vertices but compares the global Laplacian spectra of the two graphs, so
  the vertex bootstrap does not apply. On each subset both kNN graphs are *rebuilt as the kNN
  graphs of the subset* and their spectral distance is computed, then the same
  :func:`half_sample_bounds`. Not the induced subgraphs: a vertex of the induced subgraph of
  a kNN graph keeps only its neighbours that fell in the subset (about k/2 of them at half
  the samples, a number that varies from vertex to vertex), so it is a sparser graph of
  another kind whose small eigenvalues differ systematically from those of a kNN graph; the
  subsample must be what the estimate is, a kNN graph of the samples at hand. The rebuild is
  cheap and exact from the stored tables: a subset vertex's k nearest subset samples are the
  first k of its stored (sorted) neighbours that lie in the subset, while the row holds at
  least k of them; rows with fewer (k near the stored k) are searched exactly among the
  subset's latents when :func:`latentgraph.compare.measures.compare` has them (else they
  keep the neighbours they have, with a warning; see :func:`subset_neighbours`). Each
  subset costs two Laplacian spectra per k, so only the first :data:`SPECTRAL_RESAMPLES`
  (50) of the B subsets are used (with B = 200 the spectral interval costs 50 x 2 x len(k)
  spectra; measured in ``docs/benchmarks.md``). The rescaling by sqrt(m / (N − m)) assumes
  the distance fluctuates like a smooth statistic of N samples (variance ∝ 1/N), as for the
  other measures; for a spectral quantity this is an approximation, not a theorem.

Vectorised over the subsets (:func:`_latents_draws`): linear CKA on all B subsets at once
(:func:`cka_draws`: the debiased HSIC terms of every subset from the N x N kernels and the
(N, B) indicator matrix of the subsets, or batched feature-space products), the Procrustes
and CCA measures from one set of scatter matrices per subset shared by all six
(:func:`covariance_draws`); RBF CKA, RSA and CKNNA, whose kernels, distance ranks or
neighbours change with each subset, are recomputed per subset. The results equal the
per-subset loop (:func:`_latents_draws_loop`) to rounding (tests: 1e-10).

Everything is seeded: the same inputs, level, B and seed give the same bytes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..utils import LatentGraphError
from .shape import _hsic_u

log = logging.getLogger(__name__)

#: Columns whose interval comes from the vertex bootstrap (graphs fixed).
VERTEX_COLUMNS = ("jaccard", "cns", "cns_ba", "cns_sym", "mutual_knn", "rank_sim", "second_order_cos",
                  "hub_skew_a", "hub_skew_b", "hub_frac_a", "hub_frac_b", "antihub_frac_a", "antihub_frac_b")
#: Widths up to which the per-subset d x d decompositions run on one BLAS thread (:func:`covariance_draws`).
SMALL_LINALG = 256
#: At most this many of the B subsets give the spectral distance's interval (see the module docstring).
SPECTRAL_RESAMPLES = 50


def check_resamples(resamples: Any, where: str = "resamples") -> int:
    """Validate a resample count: 0 or None disables intervals, otherwise at least 2.

    Parameters
    ----------
    resamples : int or None
        The number of resamples B.
    where : str, optional
        What to call it in the error.

    Returns
    -------
    int
        B (0 when disabled).

    Raises
    ------
    LatentGraphError
        For a count of 1, a negative count or a non-integer.
    """
    if resamples is None:
        return 0
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)):
        raise LatentGraphError(f"{where} must be an integer >= 2 (0 or null: no intervals), got {resamples!r}")
    b = int(resamples)
    if b == 0:
        return 0
    if b < 2:
        raise LatentGraphError(f"{where} must be >= 2 for an interval (0 or null: no intervals), got {b}")
    return b


def check_level(level: Any, where: str = "ci") -> float:
    """Validate a confidence level, strictly between 0 and 1.

    Parameters
    ----------
    level : float
        The nominal coverage, e.g. 0.95.
    where : str, optional
        What to call it in the error.

    Returns
    -------
    float
        The level.

    Raises
    ------
    LatentGraphError
        Outside (0, 1).
    """
    try:
        x = float(level)
    except (TypeError, ValueError):
        raise LatentGraphError(f"{where} must be a number in (0, 1), e.g. 0.95; got {level!r}") from None
    if not 0.0 < x < 1.0:
        raise LatentGraphError(f"{where} must be in (0, 1), e.g. 0.95; got {level!r}")
    return x


def resample_counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """Bootstrap counts: B rows of how often each of n samples is drawn in n draws with replacement.

    Parameters
    ----------
    n : int
        Samples.
    resamples : int
        B, at least 2.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray
        (B, n) float64 counts, each row summing to n.
    """
    b = check_resamples(resamples)
    rng = np.random.default_rng([int(seed), 0xB007])
    return rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(np.float64)


def _tails(level: float) -> tuple[float, float]:
    a = (1.0 - level) / 2.0
    return a, 1.0 - a


def vertex_mean_interval(values: Any, counts: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of vertex means, all resamples in one matrix product.

    Parameters
    ----------
    values : array_like
        (N,) or (R, N) per-vertex values (NaN: left out of the mean, as CNS leaves out
        vertices without neighbours).
    counts : numpy.ndarray
        (B, N) resample counts (:func:`resample_counts`).
    level : float
        Nominal coverage.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bounds, shape (R,) (a 0-d array for 1-D input).
    """
    v = np.asarray(values, dtype=np.float64)
    one = v.ndim == 1
    v = np.atleast_2d(v)
    ok = ~np.isnan(v)
    num = counts @ np.where(ok, v, 0.0).T  # (B, R)
    den = counts @ ok.T.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = num / den
    lo, hi = np.nanquantile(means, _tails(level), axis=0)
    est = np.array([np.nanmean(r) if r[~np.isnan(r)].size else np.nan for r in v])
    lo, hi = np.fmin(lo, est), np.fmax(hi, est)
    return (lo[0], hi[0]) if one else (lo, hi)


def skewness_interval(occ: Any, counts: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile bootstrap interval of the population skewness of per-vertex values.

    Weighted moments with the resample counts as weights, vectorised over resamples.

    Parameters
    ----------
    occ : array_like
        (N,) values (the k-occurrences of a kNN graph).
    counts : numpy.ndarray
        (B, N) resample counts.
    level : float
        Nominal coverage.

    Returns
    -------
    (float, float)
        Lower and upper bound (NaN for a resample without spread).
    """
    x = np.asarray(occ, dtype=np.float64)
    w = counts / counts.sum(axis=1, keepdims=True)
    m1 = w @ x
    m2 = w @ x**2 - m1**2
    m3 = w @ x**3 - 3.0 * m1 * (w @ x**2) + 2.0 * m1**3
    with np.errstate(invalid="ignore", divide="ignore"):
        skew = np.where(m2 > 0, m3 / np.where(m2 > 0, m2, 1.0) ** 1.5, np.nan)
    if np.all(np.isnan(skew)):
        return math.nan, math.nan
    lo, hi = np.nanquantile(skew, _tails(level))
    d = x - x.mean()
    s2 = float(np.mean(d**2))
    est = float(np.mean(d**3) / s2**1.5) if s2 > 0 else math.nan
    if not math.isnan(est):
        lo, hi = min(lo, est), max(hi, est)
    return float(lo), float(hi)


def subsample_indices(n: int, resamples: int, seed: int, m: int | None = None) -> np.ndarray:
    """B sorted subsets of m of n samples drawn without replacement (half-sampling).

    Parameters
    ----------
    n : int
        Samples.
    resamples : int
        B, at least 2.
    seed : int
        Seed of ``numpy.random.default_rng``.
    m : int, optional
        Subset size (default ⌊n / 2⌋).

    Returns
    -------
    numpy.ndarray
        (B, m) int64 indices, each row sorted.

    Raises
    ------
    LatentGraphError
        When m is not in 2..n-1.
    """
    b = check_resamples(resamples)
    m = n // 2 if m is None else int(m)
    if not 2 <= m < n:
        raise LatentGraphError(f"half-sampling needs 2 <= m < n samples, got m = {m}, n = {n}")
    rng = np.random.default_rng([int(seed), 0x5AB5])
    return np.sort(np.stack([rng.choice(n, m, replace=False) for _ in range(b)]), axis=1)


def half_sample_bounds(estimate: float, draws: Any, n: int, m: int, level: float) -> tuple[float, float]:
    """The half-sampling interval from subsample estimates (see the module docstring).

    Parameters
    ----------
    estimate : float
        The full-sample value.
    draws : array_like
        (B,) values on subsets of m samples (NaN: a subset where the measure was undefined).
    n, m : int
        Full and subset sample counts.
    level : float
        Nominal coverage.

    Returns
    -------
    (float, float)
        Lower and upper bound, containing the estimate.
    """
    d = np.asarray(draws, dtype=np.float64)
    d = d[~np.isnan(d)]
    if d.size < 2 or math.isnan(estimate):
        return math.nan, math.nan
    dev = (d - d.mean()) * math.sqrt(m / (n - m))
    q_lo, q_hi = np.quantile(dev, _tails(level))
    lo, hi = estimate - q_hi, estimate - q_lo
    return float(min(lo, estimate)), float(max(hi, estimate))


def half_sample_interval(fn: Callable[[np.ndarray], float], estimate: float, n: int, resamples: int,
                         level: float, seed: int, m: int | None = None) -> tuple[float, float]:
    """Half-sampling interval of any statistic of n samples.

    Parameters
    ----------
    fn : callable
        ``fn(idx)``: the statistic on the samples ``idx`` (sorted int array).
    estimate : float
        The statistic on all n samples.
    n : int
        Samples.
    resamples : int
        B, at least 2.
    level : float
        Nominal coverage.
    seed : int
        Seed of the subsets.
    m : int, optional
        Subset size (default ⌊n / 2⌋).

    Returns
    -------
    (float, float)
        Lower and upper bound.
    """
    idx = subsample_indices(n, resamples, seed, m)
    draws = [fn(i) for i in idx]
    return half_sample_bounds(estimate, draws, n, idx.shape[1], check_level(level))


def _latents_draws_loop(xa: np.ndarray, xb: np.ndarray, names: Sequence[str], ks: Sequence[int], idx: np.ndarray
                        ) -> dict[str, np.ndarray]:
    """Every latents measure on every subset, one subset at a time: per column, (len(ks), B).

    The reference for :func:`_latents_draws` (which must give the same values) and the
    path of the measures it does not vectorise.
    """
    from . import registry
    from .measures import LinearCKA
    from .neighbours import NeighbourPair

    out = {name: np.full((len(ks), idx.shape[0]), np.nan) for name in names}
    per_k = [n for n in names if registry.get(n).per_k]
    for j, rows in enumerate(idx):
        xs, ys = xa[rows], xb[rows]
        for name in names:
            if name in per_k:
                continue
            try:
                v = LinearCKA(xs, ys).value() if name == "cka" else registry.get(name)(xs, ys)
            except LatentGraphError as exc:
                log.debug("%s undefined on a subset: %s", name, exc)
                v = math.nan
            out[name][:, j] = v
        if per_k:
            kk = [k for k in ks if k < rows.size]
            pair = NeighbourPair(xs, ys, max(kk)) if kk else None
            for name in per_k:
                for i, k in enumerate(ks):
                    if pair is not None and k < rows.size:
                        out[name][i, j] = pair.value(name, k)
    return out


def _cka_ratio(num: np.ndarray, hx: np.ndarray, hy: np.ndarray) -> np.ndarray:
    ok = (hx > 0) & (hy > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, num / np.sqrt(np.where(ok, hx * hy, 1.0)), np.nan)


def _cka_draws_gram(xa: np.ndarray, xb: np.ndarray, idx: np.ndarray, block_elems: int) -> np.ndarray:
    """Debiased linear CKA on every subset from the two N x N kernels, in row blocks.

    The unbiased HSIC is a U-statistic of the kernels with zero diagonal, unchanged by a
    translation of the latents, so the kernels of the columns centred once over all N
    samples serve every subset S: with w the (N,) 0/1 indicator of S and K̃ the kernel with
    zero diagonal, T1 = wᵀ(K̃∘L̃)w, T2 = wᵀK̃w, T3 = wᵀL̃w, T4 = Σ_i w_i (K̃w)_i (L̃w)_i. All B
    subsets at once: (rows, N) blocks of K̃, L̃, K̃∘L̃, K̃∘K̃, L̃∘L̃ times the (N, B) indicator
    matrix. Time O(N² (d_x + d_y + 5B)), memory O(block · N + N B).
    """
    n, b, m = xa.shape[0], idx.shape[0], idx.shape[1]
    Xc = np.asarray(xa, dtype=np.float64)
    Yc = np.asarray(xb, dtype=np.float64)
    Xc, Yc = Xc - Xc.mean(axis=0), Yc - Yc.mean(axis=0)
    Wt = np.zeros((n, b))
    Wt[idx, np.arange(b)[:, None]] = 1.0
    kw, lw = np.empty((n, b)), np.empty((n, b))
    t1, kk, ll = np.zeros(b), np.zeros(b), np.zeros(b)
    rows = max(1, block_elems // max(1, n))
    for s in range(0, n, rows):
        e = min(n, s + rows)
        diag = (np.arange(e - s), np.arange(s, e))
        K, L = Xc[s:e] @ Xc.T, Yc[s:e] @ Yc.T
        K[diag], L[diag] = 0.0, 0.0
        w = Wt[s:e]
        kw[s:e], lw[s:e] = K @ Wt, L @ Wt
        t1 += np.einsum("rb,rb->b", w, (K * L) @ Wt)
        kk += np.einsum("rb,rb->b", w, (K * K) @ Wt)
        ll += np.einsum("rb,rb->b", w, (L * L) @ Wt)
    t2, t3 = np.einsum("nb,nb->b", Wt, kw), np.einsum("nb,nb->b", Wt, lw)
    num = _hsic_u(t1, t2, t3, np.einsum("nb,nb,nb->b", Wt, kw, lw), m)
    hx = _hsic_u(kk, t2, t2, np.einsum("nb,nb,nb->b", Wt, kw, kw), m)
    hy = _hsic_u(ll, t3, t3, np.einsum("nb,nb,nb->b", Wt, lw, lw), m)
    return _cka_ratio(num, hx, hy)


def _gather(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(c, m, d) float64 rows of x per subset, centred by each subset's mean."""
    g = np.asarray(x[rows], dtype=np.float64)
    return g - g.mean(axis=1, keepdims=True)


def _chunk(m: int, d: int, block_elems: int) -> int:
    return max(1, block_elems // max(1, m * d))


def _cka_draws_features(xa: np.ndarray, xb: np.ndarray, idx: np.ndarray, block_elems: int) -> np.ndarray:
    """Debiased linear CKA on every subset in feature space, batched matrix products over chunks of subsets.

    The feature-space terms of :class:`latentgraph.compare.measures.LinearCKA` (centred on
    each subset's mean), with ``np.matmul`` over a (c, m, d) stack of c subsets. The same
    arithmetic as one subset at a time, without B Python-level passes.
    """
    b, m = idx.shape
    out = np.empty(b)
    c = _chunk(m, xa.shape[1] + xb.shape[1], block_elems)
    for s in range(0, b, c):
        X, Y = _gather(xa, idx[s : s + c]), _gather(xb, idx[s : s + c])
        Xt, Yt = X.transpose(0, 2, 1), Y.transpose(0, 2, 1)
        p, q = np.einsum("cmi,cmi->cm", X, X), np.einsum("cmi,cmi->cm", Y, Y)
        sx, sy = X.sum(axis=1), Y.sum(axis=1)
        G, Gx, Gy = Xt @ Y, Xt @ X, Yt @ Y
        xq, yp = np.einsum("cim,cm->ci", Xt, q), np.einsum("cim,cm->ci", Yt, p)
        xp, yq = np.einsum("cim,cm->ci", Xt, p), np.einsum("cim,cm->ci", Yt, q)
        pq, pp, qq = np.einsum("cm,cm->c", p, q), np.einsum("cm,cm->c", p, p), np.einsum("cm,cm->c", q, q)
        t1 = np.einsum("cij,cij->c", G, G) - pq
        t4 = np.einsum("ci,cij,cj->c", sx, G, sy) - np.einsum("ci,ci->c", sx, xq) - np.einsum("ci,ci->c", sy, yp) + pq
        t2x, t2y = np.einsum("ci,ci->c", sx, sx) - p.sum(axis=1), np.einsum("ci,ci->c", sy, sy) - q.sum(axis=1)
        hx = _hsic_u(np.einsum("cij,cij->c", Gx, Gx) - pp, t2x, t2x,
                     np.einsum("ci,cij,cj->c", sx, Gx, sx) - 2.0 * np.einsum("ci,ci->c", sx, xp) + pp, m)
        hy = _hsic_u(np.einsum("cij,cij->c", Gy, Gy) - qq, t2y, t2y,
                     np.einsum("ci,cij,cj->c", sy, Gy, sy) - 2.0 * np.einsum("ci,ci->c", sy, yq) + qq, m)
        out[s : s + c] = _cka_ratio(_hsic_u(t1, t2x, t2y, t4, m), hx, hy)
    return out


def cka_draws_method(n: int, dx: int, dy: int, b: int, m: int) -> str:
    """The path ``cka_draws(method="auto")`` takes: the one with fewer multiply-adds.

    Parameters
    ----------
    n, dx, dy : int
        Samples and the two widths.
    b, m : int
        Subsets and subset size.

    Returns
    -------
    str
        ``"gram"`` (N² (d_x + d_y + 5B)) or ``"features"`` (B m (d_x² + d_y² + d_x d_y)).
    """
    return "gram" if n * n * (dx + dy + 5 * b) < b * m * (dx * dx + dy * dy + dx * dy) else "features"


def cka_draws(xa: Any, xb: Any, idx: np.ndarray, method: str = "auto", block_elems: int = 1 << 22) -> np.ndarray:
    """Debiased linear CKA on each of B subsets of the samples, vectorised over the subsets.

    Equal (to rounding, ~1e-12) to :func:`latentgraph.compare.measures.cka_linear` on
    each subset, without B separate passes:

    - ``"gram"``: the N x N kernels of the latents centred once, formed block by block and
      multiplied with the (N, B) 0/1 indicator matrix of the subsets (all B subsets in a
      few matrix products; time O(N² (d_x + d_y + 5B)), independent of the subset size);
    - ``"features"``: the d x d Gram matrices of each subset by batched ``np.matmul`` over
      chunks of subsets (time O(B m (d_x² + d_y² + d_x d_y)), as the loop, but no
      per-subset Python work);
    - ``"auto"`` (default): the one with fewer floating-point operations.

    Parameters
    ----------
    xa, xb : array_like
        (N, d_x) and (N, d_y) latents of the same samples.
    idx : numpy.ndarray
        (B, m) subsets of row positions (:func:`subsample_indices`).
    method : str, optional
        ``"auto"``, ``"gram"`` or ``"features"``.
    block_elems : int, optional
        Float64 elements of one block of a kernel or one chunk of stacked subsets
        (default 2²², 32 MiB).

    Returns
    -------
    numpy.ndarray
        (B,) CKA values (NaN where a subset has no variance).

    Raises
    ------
    LatentGraphError
        For an unknown method.
    """
    xa, xb = np.asarray(xa), np.asarray(xb)
    n, dx, dy = xa.shape[0], xa.shape[1], xb.shape[1]
    b, m = idx.shape
    if method == "auto":
        method = cka_draws_method(n, dx, dy, b, m)
    if method == "gram":
        return _cka_draws_gram(xa, xb, idx, block_elems)
    if method == "features":
        return _cka_draws_features(xa, xb, idx, block_elems)
    raise LatentGraphError(f"unknown CKA method {method!r}; allowed: 'auto', 'gram', 'features'")


def covariance_draws(xa: Any, xb: Any, idx: np.ndarray, names: Sequence[str], block_elems: int = 1 << 22
                     ) -> dict[str, np.ndarray]:
    """The Procrustes and CCA-family measures on each of B subsets, sharing one set of scatter matrices per subset.

    Every measure of :data:`latentgraph.compare.shape.COVARIANCE_MEASURES` is a function of
    XcᵀXc, YcᵀYc and XcᵀYc of the subset (centred on its own mean): these are computed once
    per subset by batched ``np.matmul`` over chunks of stacked subsets and shared by all the
    measures asked for (the loop computes them once per measure and subset); the Procrustes
    measures alone need only the traces of the first two. The per-subset eigen- and singular
    value decompositions of widths up to :data:`SMALL_LINALG` run on one BLAS thread.

    Parameters
    ----------
    xa, xb : array_like
        (N, d_x) and (N, d_y) latents.
    idx : numpy.ndarray
        (B, m) subsets of row positions.
    names : sequence of str
        Names from :data:`latentgraph.compare.shape.COVARIANCE_MEASURES`.
    block_elems : int, optional
        Float64 elements of one chunk of stacked subsets (default 2²²).

    Returns
    -------
    dict
        Per name, (B,) values (NaN where the measure is undefined on a subset).
    """
    from .shape import from_covariances

    xa, xb = np.asarray(xa), np.asarray(xb)
    b, m = idx.shape
    out = {name: np.full(b, np.nan) for name in names}
    full = any(nm in ("mean_cca", "svcca", "pwcca") for nm in names)
    c = _chunk(m, xa.shape[1] + xb.shape[1], block_elems)
    for s in range(0, b, c):
        X, Y = _gather(xa, idx[s : s + c]), _gather(xb, idx[s : s + c])
        Xt = X.transpose(0, 2, 1)
        cxy = Xt @ Y
        if full:
            cxx, cyy = Xt @ X, Y.transpose(0, 2, 1) @ Y
        else:  # only the traces matter
            cxx = np.einsum("cmi,cmi->c", X, X)[:, None, None]
            cyy = np.einsum("cmi,cmi->c", Y, Y)[:, None, None]
        with _one_blas_thread(max(xa.shape[1], xb.shape[1]) <= SMALL_LINALG):
            for j in range(cxy.shape[0]):
                for name in names:
                    try:
                        out[name][s + j] = from_covariances(name, cxx[j], cyy[j], cxy[j], m)
                    except LatentGraphError as exc:
                        log.debug("%s undefined on a subset: %s", name, exc)
    return out


def _one_blas_thread(small: bool) -> Any:
    """A context that runs BLAS/LAPACK on one thread (for many small d x d decompositions, where
    a threaded BLAS spends more time waking threads than computing: 84-176x slower on a loaded
    machine), or does nothing."""
    import contextlib

    if not small:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn's dependency; without it, run as configured
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _latents_draws(xa: np.ndarray, xb: np.ndarray, names: Sequence[str], ks: Sequence[int], idx: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """Every latents measure (half-sampled ones) on every subset: per column, (len(ks), B).

    Linear CKA all subsets at once (:func:`cka_draws`), the Procrustes and CCA measures
    from one set of scatter matrices per subset (:func:`covariance_draws`), the others
    (RBF CKA, RSA, CKNNA: kernels, distance ranks or neighbours of each subset) one subset at
    a time (:func:`_latents_draws_loop`). Equal to the loop to rounding.
    """
    from .shape import COVARIANCE_MEASURES

    out: dict[str, np.ndarray] = {}
    if "cka" in names:
        out["cka"] = np.tile(cka_draws(xa, xb, idx), (len(ks), 1))
    cov = [nm for nm in names if nm in COVARIANCE_MEASURES]
    if cov:
        for name, v in covariance_draws(xa, xb, idx, cov).items():
            out[name] = np.tile(v, (len(ks), 1))
    rest = [nm for nm in names if nm not in out]
    if rest:
        out.update(_latents_draws_loop(xa, xb, rest, ks, idx))
    return {name: out[name] for name in names}


def subset_neighbours(t: Any, rows: np.ndarray, k: int, x: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """The k-nearest-neighbour table of a subset of the samples, rebuilt from a kNN table (and the latents).

    The induced subgraph of a kNN graph is not the kNN graph of the subset: a vertex keeps
    only those of its k neighbours that lie in the subset (about k/2 of them at half the
    samples), so degrees shrink and vary, and the Laplacian spectrum would be that of a
    sparser graph of another kind. Instead, each subset vertex gets its k nearest *other
    subset* samples: they are the first k entries of its stored neighbour row (sorted by
    distance, then index) that lie in the subset, as long as the row holds at least k of
    them. Rows with fewer (short rows: k is close to the stored k) are searched exactly
    among the subset's latents when ``x`` is given (the same exact search as the kNN
    tables: :func:`latentgraph.graphs.knn.knn`, or brute force for a few rows), so the
    table equals the exact kNN table of the subset. Without latents a short row keeps only
    the neighbours it has (fewer than k; -1 fills the rest). Rows taken from an approximate
    table (``knn.method`` ivf or hnsw) inherit its misses.

    Parameters
    ----------
    t : KnnTable
        The table of all N samples (exact, sorted rows), metric ``t.metric``.
    rows : numpy.ndarray
        (m,) sorted row positions of the subset.
    k : int
        Neighbours per vertex, < m.
    x : numpy.ndarray, optional
        (N, d) latents in the table's row order.

    Returns
    -------
    (numpy.ndarray, int)
        (m, k) int64 neighbour table in subset positions (-1: missing), and the number of
        short rows (searched among the latents, or left short without them).
    """
    n = t.n
    pos = np.full(n, -1, dtype=np.int64)
    pos[rows] = np.arange(rows.size)
    T = pos[t.indices[rows]]
    inside = T >= 0
    order = np.argsort(~inside, axis=1, kind="stable")[:, :k]  # in-subset entries first, in order
    tab = np.take_along_axis(T, order, axis=1)
    if tab.shape[1] < k:
        tab = np.concatenate([tab, np.full((rows.size, k - tab.shape[1]), -1, dtype=np.int64)], axis=1)
    short = np.flatnonzero(inside.sum(axis=1) < k)
    if short.size and x is not None:
        from ..graphs.knn import _brute_rows, knn

        xs = np.ascontiguousarray(np.asarray(x)[rows], dtype=np.float32)
        if short.size > rows.size // 4:
            tab = knn(xs, k, metric=t.metric)[0]
        else:
            tab[short] = _brute_rows(xs, short, k, t.metric)[0]
    return tab, int(short.size)


def _subset_graph(tab: np.ndarray) -> Any:
    """Directed sparse pattern of an (m, k) neighbour table with -1 for missing entries."""
    import scipy.sparse as sp

    m = tab.shape[0]
    ok = tab >= 0
    src = np.broadcast_to(np.arange(m)[:, None], tab.shape)[ok]
    return sp.csr_array((np.ones(src.size), (src, tab[ok])), shape=(m, m))


def spectral_draws(a: Any, b: Any, ks: Sequence[int], idx: np.ndarray, n_eigs: int, xa: np.ndarray | None = None,
                   xb: np.ndarray | None = None) -> np.ndarray:
    """The spectral distance between the kNN graphs of each subset of the samples, per k.

    For each subset and k, both graphs are rebuilt as the kNN graphs of the subset
    (:func:`subset_neighbours`, from the stored tables, completed from the latents where
    given) and compared by :func:`latentgraph.compare.measures.spectral_distance` (the same
    ``n_eigs`` smallest normalised-Laplacian eigenvalues of the undirected graphs). The
    eigensolvers run on one BLAS thread: many small dense problems, where a threaded BLAS
    on a busy machine was 8x slower (2026-12-02).

    Parameters
    ----------
    a, b : KnnTable
        The two tables, b aligned to a's samples.
    ks : sequence of int
        Neighbour counts.
    idx : numpy.ndarray
        (B, m) subsets.
    n_eigs : int
        Eigenvalues per spectrum (at most m).
    xa, xb : numpy.ndarray, optional
        Latents in a's row order, for the short rows.

    Returns
    -------
    numpy.ndarray
        (len(ks), B) distances (NaN for a k not below the subset size; all NaN, with a
        warning, when a subset has fewer than ``n_eigs`` samples).
    """
    from .measures import laplacian_spectrum, spectral_distance_from

    kmax = max(ks)
    out = np.full((len(ks), idx.shape[0]), np.nan)
    if n_eigs > idx.shape[1]:
        log.warning("spectral interval: %d eigenvalues need at least as many samples in a subset, it has %d: no "
                    "interval", n_eigs, idx.shape[1])
        return out
    n_short = 0
    with _one_blas_thread(True):  # many small (dense up to 1,500 vertices) eigenproblems
        for j, rows in enumerate(idx):
            tabs = []
            for t, x in ((a, xa), (b, xb)):
                tab, short = subset_neighbours(t, rows, min(kmax, rows.size - 1), x)
                n_short += short if x is None else 0
                tabs.append(tab)
            for i, k in enumerate(ks):
                if k >= rows.size:
                    continue
                sa, sb = (laplacian_spectrum(_subset_graph(tab[:, :k]), n_eigs) for tab in tabs)
                out[i, j] = spectral_distance_from(sa, sb)
    if n_short:
        log.warning("spectral interval: %d subset rows (over the subsets and both graphs) had fewer than k = %d stored "
                    "neighbours in the subset and no latents to search them: at that k they keep fewer neighbours",
                    n_short, kmax)
    return out


def compare_intervals(a: Any, b: Any, ks: Sequence[int], measures: Sequence[str], *, level: float,
                      resamples: int, seed: int, directed: bool = False, xa: np.ndarray | None = None,
                      xb: np.ndarray | None = None, values: Mapping[str, Sequence[float]] | None = None,
                      pair: Any = None, n_eigs: int = 20) -> dict[str, list[float]]:
    """``<column>_lo`` and ``<column>_hi`` of a :func:`latentgraph.compare.measures.compare` table.

    Parameters
    ----------
    a, b : KnnTable
        The two tables, b already aligned to a's samples.
    ks : sequence of int
        The table's k values (sorted).
    measures : sequence of str
        The table's measures (canonical, ``cns`` present when ``cns_sym`` is).
    level : float
        Nominal coverage.
    resamples : int
        B, at least 2.
    seed : int
        Seed of the resamples.
    directed : bool, optional
        Jaccard and CNS on the directed graphs.
    xa, xb : numpy.ndarray, optional
        Latents in a's row order (the latents measures).
    values : mapping, optional
        The table's estimates per column (one per k), for the half-sampling intervals.
    pair : NeighbourPair, optional
        The cosine neighbour tables of the latents (``rank_sim``, ``second_order_cos``).
    n_eigs : int, optional
        Eigenvalues of the spectral distance (default 20).

    Returns
    -------
    dict
        Per interval column, one bound per k.
    """
    from . import registry
    from .measures import k_occurrence, mutual_knn_per_vertex
    from .neighbours import rank_similarity_tables, second_order_per_vertex
    from .similarity import cns_per_vertex, jaccard_per_vertex

    level = check_level(level)
    resamples = check_resamples(resamples)
    if not resamples:
        return {}
    n = a.n
    counts = resample_counts(n, resamples, seed)
    out: dict[str, list[float]] = {}

    def put(col: str, lo: float, hi: float) -> None:
        if col in registry.NAMES:  # never outside the measure's range (a spectral distance is >= 0)
            low, high = registry.get(col).range
            lo, hi = min(max(lo, low), high), max(min(hi, high), low)
        out.setdefault(f"{col}_lo", []).append(float(lo))
        out.setdefault(f"{col}_hi", []).append(float(hi))

    half = [m for m in measures if registry.get(m).needs == "latents" and m not in ("rank_sim", "second_order_cos")]
    for k in ks:
        rows: dict[str, np.ndarray] = {}
        if "jaccard" in measures or "cns" in measures:
            A, B = a.adjacency(k, directed=directed), b.adjacency(k, directed=directed)
            if "jaccard" in measures:
                rows["jaccard"] = jaccard_per_vertex(A, B)
            if "cns" in measures:
                rows["cns"] = cns_per_vertex(A, B, a.labels)
                if "cns_sym" in measures:
                    rows["cns_ba"] = cns_per_vertex(B, A, a.labels)
                    rows["cns_sym"] = 0.5 * (rows["cns"] + rows["cns_ba"])
        if "mutual_knn" in measures:
            rows["mutual_knn"] = mutual_knn_per_vertex(a, b, k)
        if pair is not None and ("rank_sim" in measures or "second_order_cos" in measures):
            ta, tb, yn = pair._tables(k, None)
            if "rank_sim" in measures:
                rows["rank_sim"] = rank_similarity_tables(ta, tb)
            if "second_order_cos" in measures:
                rows["second_order_cos"] = second_order_per_vertex(pair.Xn, yn, ta, tb)
        if "hubness" in measures:
            for side, t in (("a", a), ("b", b)):
                occ = k_occurrence(t, k)
                rows[f"hub_frac_{side}"] = (occ > 2 * k).astype(np.float64)
                rows[f"antihub_frac_{side}"] = (occ == 0).astype(np.float64)
                put(f"hub_skew_{side}", *skewness_interval(occ, counts, level))
        if rows:
            names = list(rows)
            lo, hi = vertex_mean_interval(np.stack([rows[c] for c in names]), counts, level)
            for c, low, high in zip(names, lo, hi, strict=True):
                put(c, low, high)
    idx = subsample_indices(n, resamples, seed) if (half and xa is not None) or "spectral" in measures else None
    draws: dict[str, np.ndarray] = {}
    if half and xa is not None and xb is not None:
        draws = _latents_draws(xa, xb, half, ks, idx)
    if "spectral" in measures:
        draws["spectral"] = spectral_draws(a, b, ks, idx[:SPECTRAL_RESAMPLES], n_eigs, xa, xb)
    for name, d in draws.items():
        for i in range(len(ks)):
            est = float(values[name][i]) if values is not None and name in values else math.nan
            put(name, *half_sample_bounds(est, d[i], n, idx.shape[1], level))
    return out


def interval_columns(cols: Sequence[str]) -> list[str]:
    """The ``_lo``/``_hi`` columns that go with a table's measure columns.

    Parameters
    ----------
    cols : sequence of str
        Measure columns of a :func:`latentgraph.compare.measures.compare` table.

    Returns
    -------
    list of str
        ``<c>_lo``, ``<c>_hi`` for every column (every column has an interval), in column order.
    """
    return [f"{c}{s}" for c in cols for s in ("_lo", "_hi")]


def graph_intervals(a: Any, b: Any, ks: Sequence[int], *, level: float, resamples: int, seed: int,
                    directed: bool = False) -> Any:
    """Vertex-bootstrap intervals of Jaccard and CNS between two kNN tables (the thesis's measures).

    For tables built by :func:`latentgraph.compare.similarity.compare_tables` (noise, pruning):
    the same resamples as :func:`compare_intervals`.

    Parameters
    ----------
    a, b : KnnTable
        The two tables (b is aligned to a's samples).
    ks : sequence of int
        Neighbour counts.
    level : float
        Nominal coverage.
    resamples : int
        B, at least 2.
    seed : int
        Seed of the resamples.
    directed : bool, optional
        Directed graphs (default: undirected).

    Returns
    -------
    pandas.DataFrame
        Columns ``k``, ``jaccard_lo``, ``jaccard_hi``, ``cns_lo``, ``cns_hi``, one row per k.
    """
    import pandas as pd

    from ..graphs.knn import align

    ks = sorted({int(k) for k in ks})
    bounds = compare_intervals(a, align(a, b), ks, ["jaccard", "cns"], level=level, resamples=resamples, seed=seed,
                               directed=directed)
    return pd.DataFrame({"k": ks, **{c: bounds[c] for c in ("jaccard_lo", "jaccard_hi", "cns_lo", "cns_hi")}})


def mean_intervals(df: Any, keys: Sequence[str]) -> Any:
    """The mean of every ``_lo``/``_hi`` column per group (e.g. over the noise draws of one p and k).

    Parameters
    ----------
    df : pandas.DataFrame
        A table with interval columns.
    keys : sequence of str
        The grouping columns.

    Returns
    -------
    pandas.DataFrame
        ``keys`` and the mean of each interval column (no interval columns: only ``keys``).
    """
    cols = [c for c in df.columns if c.endswith(("_lo", "_hi"))]
    return df.groupby(list(keys), sort=True)[cols].mean().reset_index()


def pruning_intervals(round0: Any, rounds: Mapping[tuple[Any, int], Any], ks: Sequence[int], *, level: float,
                      resamples: int, seed: int, directed: bool = False) -> Any:
    """Vertex-bootstrap intervals of every pruning round's Jaccard and CNS to round 0.

    The interval columns of :func:`latentgraph.experiments.pruning.pruning_table` (merged on
    ``rate``, ``round``, ``k``; round 0 of each rate is compared with itself).

    Parameters
    ----------
    round0 : KnnTable
        The unpruned round's graph (G_A of the CNS).
    rounds : mapping
        (rate, round) -> KnnTable of every pruned round.
    ks : sequence of int
        Neighbour counts.
    level : float
        Nominal coverage.
    resamples : int
        B, at least 2.
    seed : int
        Seed, combined with the rate and round (:func:`latentgraph.utils.stable_seed`).
    directed : bool, optional
        Directed graphs (default: undirected).

    Returns
    -------
    pandas.DataFrame
        Columns ``rate``, ``round``, ``k``, ``jaccard_vs_round0_lo``/``_hi``, ``cns_vs_round0_lo``/``_hi``.
    """
    import pandas as pd

    from ..utils import stable_seed

    frames = []
    for rate in sorted({r for r, _ in rounds}, key=lambda r: -float(r)):
        items = [(0, round0)] + sorted(((i, g) for (r, i), g in rounds.items() if r == rate), key=lambda t: t[0])
        for i, g in items:
            iv = graph_intervals(round0, g, ks, level=level, resamples=resamples, directed=directed,
                                 seed=stable_seed(seed, "pruning-ci", str(rate), int(i)))
            iv = iv.rename(columns={c: c.replace("_lo", "_vs_round0_lo").replace("_hi", "_vs_round0_hi")
                                    for c in iv.columns if c != "k"})
            iv.insert(0, "rate", float(rate))
            iv.insert(1, "round", int(i))
            frames.append(iv)
    return pd.concat(frames, ignore_index=True)
