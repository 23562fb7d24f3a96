"""Robustness of the kNN graph to Gaussian noise in latent space (thesis §4.1, §5.1.1).

The experiment perturbs one latent representation X (N x d) with zero-mean Gaussian noise
whose variance in each dimension is a fraction p of that dimension's variance (eq. 4.1)::

    Y = X + N(0, p * sigma^2),     sigma^2 = per-dimension variance of X

and compares the kNN graph of Y with that of X (graph average Jaccard, class
neighbourhood similarity) and the accuracy of the trained ``fc`` head on Y with that on X.

- Noise draws are seeded from *what* is computed, ``(seed, p, repeat)``, never from a
  position in a grid (:func:`noise_seed`), so adding grid points or repeats never changes
  the points already computed. ``p`` is identified by a canonical text form
  (:func:`p_key`) that also names its files (``p_0.05``: 0.05 and 5e-2 coincide).
- ``Y`` is rounded to float32, the stored precision of latents; at p = 0 it *is* X, so the
  kNN graph, Jaccard = CNS = 1 and the head's predictions are reproduced exactly.
- The chance level (:func:`null_table`, :func:`chance_level`): the clean graph against a
  graph with the same out-degree whose k neighbours per vertex are distinct random other
  vertices, built with the same directed/undirected construction as the real graph. For
  directed graphs the expected Jaccard has a closed form (:func:`expected_null_jaccard`);
  for the undirected default (union of out-edges, irregular degrees) it is estimated from
  seeded draws.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..utils import LatentGraphError, check_k, stable_seed

if TYPE_CHECKING:  # pandas, scipy and the kNN code load when a function needs them (the
    import pandas as pd  # Snakefile imports this module for p_key / canonical_grid)

    from ..graphs.knn import KnnTable

log = logging.getLogger(__name__)

COLUMNS = ["p", "repeat", "k", "jaccard", "cns", "accuracy"]
SUMMARY_COLUMNS = [
    "p", "k", "repeats", "jaccard", "jaccard_std", "cns", "cns_std", "accuracy", "accuracy_std",
]
#: Identifier columns of the per-sample noise table, before :data:`latentgraph.compare.per_sample.COLUMNS`.
PER_SAMPLE_KEYS = ["p", "repeat"]
CHANCE_COLUMNS = ["k", "draws", "jaccard", "jaccard_std", "cns", "cns_std", "jaccard_closed_form"]
_KEY_DIGITS = 12  # significant digits of a canonical p (absorbs 0.1 + 0.2 style round-off)


# --------------------------------------------------------------------------- noise levels


def p_key(p: Any) -> str:
    """The canonical text of a noise level ``p`` (>= 0): ``0.05``, ``1``, ``0``, ``1e-05``.

    Equal numbers give equal keys whatever their spelling (0.05, 5e-2, 0.05000000000000001),
    so a key can name files and seed random draws.

    Parameters
    ----------
    p : float or str
        The noise level, a finite number >= 0 (anything :class:`float` accepts).

    Returns
    -------
    str
        ``p`` to 12 significant digits in ``g`` format; ``"0"`` for zero.

    Raises
    ------
    LatentGraphError
        When ``p`` is not a finite number >= 0.
    """
    try:
        v = float(p)
    except (TypeError, ValueError):
        raise LatentGraphError(f"noise level p must be a number, got {p!r}") from None
    if not math.isfinite(v) or v < 0:
        raise LatentGraphError(f"noise level p must be a finite number >= 0, got {p!r}")
    key = format(v, f".{_KEY_DIGITS}g")
    return "0" if float(key) == 0 else key


def parse_p_key(text: str) -> float:
    """The value of a canonical key; raises when ``text`` is not the canonical form of its value.

    Parameters
    ----------
    text : str
        A key as :func:`p_key` writes it (e.g. ``"0.05"``, from a file name).

    Returns
    -------
    float
        The noise level.

    Raises
    ------
    LatentGraphError
        When ``text`` is not a number or not in canonical form.
    """
    try:
        v = float(text)
    except ValueError:
        raise LatentGraphError(f"{text!r} is not a noise level (expected e.g. 0.05)") from None
    canon = p_key(v)
    if canon != text:
        raise LatentGraphError(f"noise level {text!r} is not in canonical form; use {canon!r}")
    return float(canon)


def canonical_grid(grid: Sequence[Any]) -> list[str]:
    """The sorted canonical keys of a grid of noise levels; raises on an empty grid or repeats.

    Parameters
    ----------
    grid : sequence of float or str
        The noise levels, each >= 0.

    Returns
    -------
    list of str
        The keys (:func:`p_key`), sorted by value.

    Raises
    ------
    LatentGraphError
        When the grid is empty, holds an invalid p or two spellings of the same p.
    """
    if len(grid) == 0:
        raise LatentGraphError("the noise grid is empty; give at least one p >= 0")
    keys = [p_key(p) for p in grid]
    seen: dict[str, Any] = {}
    for raw, key in zip(grid, keys, strict=True):
        if key in seen:
            raise LatentGraphError(f"noise levels {seen[key]!r} and {raw!r} are the same p = {key}")
        seen[key] = raw
    return sorted(keys, key=float)


def noise_seed(seed: int, p: Any, repeat: int) -> int:
    """The seed of one noise draw, from (seed, p, repeat) only.

    Parameters
    ----------
    seed : int
        The experiment's base seed.
    p : float or str
        The noise level (identified by its :func:`p_key`).
    repeat : int
        The repeat number at this noise level.

    Returns
    -------
    int
        A seed for :func:`numpy.random.default_rng`.
    """
    return stable_seed("noise", int(seed), p_key(p), int(repeat))


# --------------------------------------------------------------------------- statistics


def variance_vector(X: np.ndarray) -> np.ndarray:
    """Per-dimension variance sigma^2 of the latents (float64, population variance, ddof = 0).

    Parameters
    ----------
    X : numpy.ndarray
        The latents, shape (N, d) with N >= 2.

    Returns
    -------
    numpy.ndarray
        The variances, shape (d,).

    Raises
    ------
    LatentGraphError
        When ``X`` is not a 2-d array of at least two rows.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 2:
        raise LatentGraphError(f"latents must be an (N >= 2, d) array, got shape {X.shape}")
    return np.var(X.astype(np.float64), axis=0)


def variance_summary(var: np.ndarray) -> dict[str, float]:
    """Table 5.1 of the thesis: max, min and mean of the variance vector (plus median, zero dims).

    Parameters
    ----------
    var : numpy.ndarray
        The variance vector, as :func:`variance_vector` returns.

    Returns
    -------
    dict
        ``max``, ``min``, ``mean``, ``median`` (floats) and ``zero_dims`` (the number of
        dimensions of variance 0).
    """
    var = np.asarray(var, dtype=np.float64)
    return {
        "max": float(var.max()),
        "min": float(var.min()),
        "mean": float(var.mean()),
        "median": float(np.median(var)),
        "zero_dims": int(np.sum(var == 0)),
    }


def noise_l1_norm(var: np.ndarray, p: float = 1.0, samples: int = 10000, seed: int = 0,
                  block: int = 4096) -> dict[str, float]:
    """Monte-Carlo mean (and std) of the L1 norm of one noise vector N(0, p * sigma^2).

    Parameters
    ----------
    var : numpy.ndarray
        The variance vector sigma^2, shape (d,).
    p : float, optional
        The noise level.
    samples : int, optional
        Number of noise vectors drawn (>= 1).
    seed : int, optional
        Seed of the draws, combined with ``p``.
    block : int, optional
        Vectors drawn at a time (bounds the memory).

    Returns
    -------
    dict
        ``p``, ``samples``, ``mc_mean`` and ``mc_std`` (the sample's mean and std; std 0 for
        one sample) and ``exact_mean``, ``sqrt(2 p / pi) * sum(sigma)``, as a check.

    Raises
    ------
    LatentGraphError
        When ``samples`` < 1.
    """
    var = np.asarray(var, dtype=np.float64)
    if samples < 1:
        raise LatentGraphError(f"samples must be >= 1, got {samples}")
    scale = np.sqrt(p * var)
    rng = np.random.default_rng(stable_seed("noise-norm", int(seed), p_key(p)))
    norms = np.empty(samples)
    for s in range(0, samples, block):
        m = min(block, samples - s)
        norms[s : s + m] = np.abs(rng.standard_normal((m, var.size)) * scale).sum(axis=1)
    return {
        "p": float(p),
        "samples": int(samples),
        "mc_mean": float(norms.mean()),
        "mc_std": float(norms.std(ddof=1)) if samples > 1 else 0.0,
        "exact_mean": float(math.sqrt(2.0 / math.pi) * scale.sum()),
    }


# --------------------------------------------------------------------------- perturbation


def perturb(X: np.ndarray, var: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Y = X + N(0, p * var) (eq. 4.1), rounded to float32; ``Y is X``-equal at p = 0.

    Parameters
    ----------
    X : numpy.ndarray
        The clean latents, shape (N, d); used as float32.
    var : numpy.ndarray
        Per-dimension variances, shape (d,), all >= 0.
    p : float
        The noise level, finite and >= 0.
    rng : numpy.random.Generator
        The source of the noise.

    Returns
    -------
    numpy.ndarray
        The perturbed latents Y, float32, shape (N, d).

    Raises
    ------
    LatentGraphError
        When ``var`` has the wrong shape or a negative entry, or ``p`` is invalid.
    """
    X = np.asarray(X, dtype=np.float32)
    var = np.asarray(var, dtype=np.float64)
    if var.shape != (X.shape[1],):
        raise LatentGraphError(f"variance vector has shape {var.shape}, expected ({X.shape[1]},)")
    if p < 0 or not math.isfinite(p):
        raise LatentGraphError(f"noise level p must be a finite number >= 0, got {p!r}")
    if np.any(var < 0):
        raise LatentGraphError("variances must be >= 0")
    noise = rng.standard_normal(X.shape)
    noise *= np.sqrt(p * var)
    noise += X
    return noise.astype(np.float32)


def noise_point(
    X: np.ndarray,
    labels: np.ndarray,
    clean: KnnTable,
    W: np.ndarray,
    b: np.ndarray,
    p: Any,
    repeat: int,
    seed: int,
    ks: Sequence[int],
    *,
    directed: bool = False,
    metric: str = "l1",
    backend: str = "auto",
    threads: int | None = None,
    var: np.ndarray | None = None,
    per_sample: bool = False,
    ci: float = 0.95,
    resamples: int | None = 0,
    ci_seed: int = 0,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """One point of the sweep: Jaccard and CNS of G(Y) against ``clean`` per k, and the head's accuracy.

    The kNN table of Y is searched once at max(ks) and sliced.

    Parameters
    ----------
    X : numpy.ndarray
        The clean latents, shape (N, d), rows in the order of ``clean``.
    labels : numpy.ndarray
        The class labels, shape (N,); must equal ``clean.labels``.
    clean : KnnTable
        The kNN table of ``X``.
    W, b : numpy.ndarray
        The ``fc`` head's weight (C, d) and bias (C,).
    p : float or str
        The noise level.
    repeat : int
        The repeat number; with ``seed`` and ``p`` it seeds the draw (:func:`noise_seed`).
    seed : int
        The experiment's base seed.
    ks : sequence of int
        The neighbourhood sizes compared.
    directed : bool, optional
        Compare the directed kNN graphs (default: their symmetrisations).
    metric : str, optional
        Distance of the kNN search of Y, ``"l1"`` (default) or ``"l2"``.
    backend : str, optional
        kNN backend (see :func:`latentgraph.graphs.knn.knn`).
    threads : int, optional
        CPU threads of the kNN search.
    var : numpy.ndarray, optional
        The variance vector of ``X``; None: computed here (:func:`variance_vector`).
    per_sample : bool, optional
        Also return the per-sample values of the comparison
        (:func:`latentgraph.compare.per_sample.per_sample_table`, the clean graph as the
        first; predictions: the head on X and on Y), with :data:`PER_SAMPLE_KEYS` in front.

    ci : float, optional
        Coverage of the intervals (with ``resamples``).
    resamples : int, optional
        Resamples of the vertex-bootstrap intervals ``jaccard_lo``/``_hi``, ``cns_lo``/``_hi``
        (:func:`latentgraph.compare.intervals.graph_intervals`; default 0: none).
    ci_seed : int, optional
        Seed of the resamples.


    Returns
    -------
    pandas.DataFrame or tuple of pandas.DataFrame
        The columns :data:`COLUMNS` (then the interval columns, with ``resamples``), one row
        per k; with ``per_sample``, the pair (that table, the per-sample frame).

    Raises
    ------
    LatentGraphError
        When ``X``/``labels`` and ``clean`` describe different samples, or ``ks`` is empty.
    """
    from ..compare.similarity import compare_tables
    from ..graphs.knn import KnnTable, knn
    from ..head import head_predict

    key = p_key(p)
    pv = float(key)
    X = np.asarray(X, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    if X.shape[0] != clean.n or not np.array_equal(labels, clean.labels):
        raise LatentGraphError("the latents and the clean kNN table do not describe the same samples in the same order")
    ks = sorted(set(int(k) for k in ks))
    if not ks:
        raise LatentGraphError("no k given")
    if var is None:
        var = variance_vector(X)
    rng = np.random.default_rng(noise_seed(seed, key, repeat))
    Y = perturb(X, var, pv, rng)
    idx, dist = knn(Y, max(ks), metric=metric, backend=backend, threads=threads)
    noisy = KnnTable(idx, dist, clean.sample_id, clean.labels, metric, {"source": f"noise p={key} repeat={repeat}"})
    df = compare_tables(clean, noisy, ks, directed=directed)
    pred_y = head_predict(Y, W, b)
    acc = float(np.mean(pred_y == labels))
    df.insert(0, "p", pv)
    df.insert(1, "repeat", int(repeat))
    df["accuracy"] = acc
    log.info("p=%s repeat=%d: accuracy %.4f, jaccard %s", key, repeat, acc,
             ", ".join(f"k={k}: {j:.4f}" for k, j in zip(df["k"], df["jaccard"], strict=True)))
    out = df[COLUMNS]
    if resamples:
        import pandas as pd

        from ..compare.intervals import graph_intervals

        iv = graph_intervals(clean, noisy, ks, level=ci, resamples=int(resamples), seed=ci_seed, directed=directed)
        out = pd.concat([out, iv.drop(columns="k")], axis=1)
    if not per_sample:
        return out
    from ..compare.per_sample import per_sample_table, with_keys

    samples = per_sample_table(clean, noisy, ks, directed=directed, prediction_a=head_predict(X, W, b),
                               prediction_b=pred_y)
    samples = with_keys(samples, p=pv, repeat=int(repeat)).astype({"repeat": "int32"})
    return out, samples


def check_clean_accuracy(X: np.ndarray, labels: np.ndarray, prediction: np.ndarray | None, W: np.ndarray,
                         b: np.ndarray, test_accuracy: float | None = None, where: str = "latents") -> float:
    """Check that the head on the clean latents reproduces the stored predictions; return the accuracy.

    This is the p = 0 guarantee of the experiment: a mismatch means the head does not belong
    to the latents (another checkpoint or layer) and every accuracy in the sweep would be wrong.

    Parameters
    ----------
    X : numpy.ndarray
        The clean latents, shape (N, d).
    labels : numpy.ndarray
        The class labels, shape (N,).
    prediction : numpy.ndarray or None
        The stored predictions, shape (N,); None: not checked.
    W, b : numpy.ndarray
        The ``fc`` head's weight (C, d) and bias (C,).
    test_accuracy : float, optional
        The model's recorded test accuracy, which must equal the head's exactly; None: not checked.
    where : str, optional
        What the latents are, for the error messages.

    Returns
    -------
    float
        The head's accuracy on ``X``.

    Raises
    ------
    LatentGraphError
        When the predictions or the accuracy are not reproduced.
    """
    from ..head import head_predict

    pred = head_predict(np.asarray(X, dtype=np.float32), W, b)
    acc = float(np.mean(pred == labels))
    if prediction is not None and not np.array_equal(pred, prediction):
        bad = int(np.sum(pred != prediction))
        raise LatentGraphError(f"{where}: the fc head does not reproduce {bad} of the stored predictions; "
                               "head and latents come from different checkpoints or layers")
    if test_accuracy is not None and acc != float(test_accuracy):
        raise LatentGraphError(f"{where}: accuracy of the head on the clean latents ({acc}) differs from the "
                               f"model's recorded test accuracy ({test_accuracy})")
    return acc


def summarise_noise(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over repeats per (p, k) (std is 0 with one repeat); columns :data:`SUMMARY_COLUMNS`.

    Parameters
    ----------
    df : pandas.DataFrame
        Sweep rows with the columns :data:`COLUMNS` (e.g. :func:`noise_point` frames concatenated).

    Returns
    -------
    pandas.DataFrame
        One row per (p, k), sorted.
    """
    g = df.groupby(["p", "k"], sort=True)
    out = g.agg(
        repeats=("repeat", "nunique"),
        jaccard=("jaccard", "mean"),
        jaccard_std=("jaccard", "std"),
        cns=("cns", "mean"),
        cns_std=("cns", "std"),
        accuracy=("accuracy", "mean"),
        accuracy_std=("accuracy", "std"),
    ).reset_index()
    return out.fillna({"jaccard_std": 0.0, "cns_std": 0.0, "accuracy_std": 0.0})[SUMMARY_COLUMNS]


# --------------------------------------------------------------------------- chance level


def random_neighbours(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """(n, k) table: row i holds k distinct vertices other than i, a uniform random k-subset in random order.

    Robert Floyd's sampling algorithm, vectorised over rows (a loop over the k columns only).

    Parameters
    ----------
    n : int
        Number of vertices.
    k : int
        Neighbours per vertex, 1 <= k < n.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    numpy.ndarray
        The int64 neighbour table, shape (n, k).
    """
    check_k(k, n)
    m = n - 1  # candidates: the other vertices, numbered 0..n-2
    out = np.empty((n, k), dtype=np.int64)
    for c, j in enumerate(range(m - k, m)):
        t = rng.integers(0, j + 1, size=n)
        taken = (out[:, :c] == t[:, None]).any(axis=1) if c else np.zeros(n, dtype=bool)
        out[:, c] = np.where(taken, j, t)
    # Floyd's set is uniform but its order is not: shuffle each row
    order = np.argsort(rng.random((n, k)), axis=1)
    out = np.take_along_axis(out, order, axis=1)
    rows = np.arange(n)[:, None]
    return out + (out >= rows)  # skip the vertex itself


def null_table(clean: KnnTable, k: int, rng: np.random.Generator) -> KnnTable:
    """A random graph on the vertices of ``clean`` with out-degree ``k`` (distances are 0: unweighted).

    Parameters
    ----------
    clean : KnnTable
        The table whose samples, labels and metric the null graph takes.
    k : int
        The out-degree.
    rng : numpy.random.Generator
        The source of randomness (:func:`random_neighbours`).

    Returns
    -------
    KnnTable
        The null graph.
    """
    from ..graphs.knn import KnnTable

    idx = random_neighbours(clean.n, k, rng)
    return KnnTable(idx, np.zeros(idx.shape), clean.sample_id, clean.labels, clean.metric, {"source": "null graph"})


def chance_level(clean: KnnTable, ks: Sequence[int], draws: int = 5, seed: int = 0,
                 directed: bool = False) -> pd.DataFrame:
    """Jaccard and CNS of ``clean`` against random graphs of the same out-degree, per k.

    Each draw is one random table at max(ks), sliced for smaller k (the first k of a random
    ordering of a uniform subset are a uniform k-subset).

    Parameters
    ----------
    clean : KnnTable
        The clean kNN table.
    ks : sequence of int
        The neighbourhood sizes.
    draws : int, optional
        Number of random graphs (>= 1).
    seed : int, optional
        Base seed; draw ``i`` is seeded from (seed, i) only.
    directed : bool, optional
        Compare the directed graphs (default: their symmetrisations, as in the sweep).

    Returns
    -------
    pandas.DataFrame
        The columns :data:`CHANCE_COLUMNS`, one row per k: mean and std over the draws, and
        the closed-form expectation for directed graphs (NaN for undirected ones).

    Raises
    ------
    LatentGraphError
        When ``draws`` < 1.
    """
    import pandas as pd

    from ..compare.similarity import compare_tables

    ks = sorted(set(int(k) for k in ks))
    if draws < 1:
        raise LatentGraphError(f"draws must be >= 1, got {draws}")
    frames = []
    for i in range(draws):
        rng = np.random.default_rng(stable_seed("noise-chance", int(seed), i))
        frames.append(compare_tables(clean, null_table(clean, max(ks), rng), ks, directed=directed))
    df = pd.concat(frames, ignore_index=True)
    g = df.groupby("k", sort=True)
    out = g.agg(jaccard=("jaccard", "mean"), jaccard_std=("jaccard", "std"), cns=("cns", "mean"),
                cns_std=("cns", "std")).reset_index()
    out = out.fillna({"jaccard_std": 0.0, "cns_std": 0.0})
    out.insert(1, "draws", draws)
    out["jaccard_closed_form"] = [expected_null_jaccard(clean.n, k) if directed else np.nan for k in out["k"]]
    return out[CHANCE_COLUMNS]


def expected_null_jaccard(n: int, k: int) -> float:
    """E[J] between a k-out-regular directed graph and the random null graph of the same out-degree.

    The overlap X of two k-subsets of the n - 1 other vertices, one fixed and one uniform,
    is Hypergeometric(n - 1, k, k), and each vertex's Jaccard is X / (2k - X).

    Parameters
    ----------
    n : int
        Number of vertices.
    k : int
        The out-degree.

    Returns
    -------
    float
        The expected graph average Jaccard similarity.
    """
    from scipy.stats import hypergeom

    x = np.arange(0, k + 1)
    pmf = hypergeom.pmf(x, n - 1, k, k)
    return float(np.sum(pmf * x / (2 * k - x)))


def majority_share(labels: np.ndarray) -> float:
    """Accuracy of always predicting the most frequent class (the chance level of accuracy).

    Parameters
    ----------
    labels : numpy.ndarray
        Non-negative integer class labels.

    Returns
    -------
    float
        The share of the most frequent label.
    """
    labels = np.asarray(labels)
    return float(np.bincount(labels).max() / labels.size)
