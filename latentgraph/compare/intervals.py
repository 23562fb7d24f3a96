"""How sure: resampling intervals for every measure of :func:`latentgraph.compare.measures.compare`.

Two schemes, chosen by what a measure is:

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

The spectral distance has no interval: it compares the global Laplacian spectra of the two
fixed graphs (not a mean over vertices), and a subsample's spectrum is that of a different
graph. Its ``_lo``/``_hi`` columns are not written.

Everything is seeded: the same inputs, level, B and seed give the same bytes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..utils import LatentGraphError

log = logging.getLogger(__name__)

#: Columns whose interval comes from the vertex bootstrap (graphs fixed).
VERTEX_COLUMNS = ("jaccard", "cns", "cns_ba", "cns_sym", "mutual_knn", "rank_sim", "second_order_cos",
                  "hub_skew_a", "hub_skew_b", "hub_frac_a", "hub_frac_b", "antihub_frac_a", "antihub_frac_b")
#: Columns without an interval (see the module docstring).
NO_INTERVAL = ("spectral",)


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


def _latents_draws(xa: np.ndarray, xb: np.ndarray, names: Sequence[str], ks: Sequence[int], idx: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """Every latents measure (half-sampled ones) on every subset: per column, (len(ks), B)."""
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


def compare_intervals(a: Any, b: Any, ks: Sequence[int], measures: Sequence[str], *, level: float,
                      resamples: int, seed: int, directed: bool = False, xa: np.ndarray | None = None,
                      xb: np.ndarray | None = None, values: Mapping[str, Sequence[float]] | None = None,
                      pair: Any = None) -> dict[str, list[float]]:
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
    if half and xa is not None and xb is not None:
        idx = subsample_indices(n, resamples, seed)
        draws = _latents_draws(xa, xb, half, ks, idx)
        for name in half:
            for i in range(len(ks)):
                est = float(values[name][i]) if values is not None else math.nan
                put(name, *half_sample_bounds(est, draws[name][i], n, idx.shape[1], level))
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
        ``<c>_lo``, ``<c>_hi`` for every column with an interval, in column order.
    """
    return [f"{c}{s}" for c in cols if c not in NO_INTERVAL for s in ("_lo", "_hi")]


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
