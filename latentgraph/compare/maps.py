"""Maps: every representation against every other, for any measure (layer × layer, epoch × epoch, N models).

:func:`similarity_map` compares each of a list of *row* representations with each of a list
of *column* representations (the same list for a square map) with
:func:`latentgraph.compare.measures.compare`, and returns one tidy table (``row``, ``col``,
``k``, ``measure``, ``value``). What depends on one representation only is computed once per
representation, not once per pair:

- its kNN table (searched once at the largest k), for the graph measures, and its Laplacian
  spectra per k (the spectral distance);
- for linear CKA (:class:`CKATerms`), the centred representation and its self-HSIC terms:
  with few samples (N ≤ :data:`GRAM_MAX` and N² below the feature-space cost) the centred
  Gram matrix with a zero diagonal K̃ = X_cX_cᵀ − diag, its row sums and HSIC(K̃, K̃); a pair
  is then one elementwise product, HSIC_u(K̃, L̃) from Σ K̃∘L̃, 1ᵀK̃1, 1ᵀL̃1 and (K̃1)·(L̃1)
  (Song et al. 2012), O(N²) instead of O(N² d); otherwise the feature-space terms of
  :class:`latentgraph.compare.measures.LinearCKA` (one X_cᵀX_c per model, one X_cᵀY_c per pair).
  An N-model map thus costs N per-model passes plus N² cheap cross terms
  (``benchmarks/bench_maps.py`` measures it against the naive pairwise loop).

The other measures of the latents are evaluated pair by pair (their cross terms dominate).
A square map of symmetric measures computes each unordered pair once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..utils import LatentGraphError
from . import registry

log = logging.getLogger(__name__)

#: Largest sample count for which :class:`CKATerms` keeps an N x N Gram matrix per model.
GRAM_MAX = 4096
#: Columns of a map table.
MAP_COLUMNS = ["row", "col", "k", "measure", "value"]


@dataclass
class CKATerms:
    """What debiased linear CKA needs of one representation, computed once.

    Parameters
    ----------
    n : int
        Samples.
    method : str
        ``"gram"`` or ``"features"``.
    hsic_self : float
        HSIC_u(K, K).
    t2 : float
        1ᵀK̃1.
    gram : numpy.ndarray or None
        K̃ (``"gram"``).
    rowsum : numpy.ndarray or None
        K̃1 (``"gram"``).
    side : object or None
        The feature-space summary of :class:`latentgraph.compare.measures.LinearCKA` (``"features"``).
    """

    n: int
    method: str
    hsic_self: float
    t2: float
    gram: np.ndarray | None = None
    rowsum: np.ndarray | None = None
    side: Any = None

    @classmethod
    def of(cls, X: Any, method: str = "gram") -> CKATerms:
        """The terms of one representation.

        Parameters
        ----------
        X : array_like
            (N, d) latents, N >= 4.
        method : str, optional
            ``"gram"`` (default) or ``"features"``.

        Returns
        -------
        CKATerms
            The terms.

        Raises
        ------
        LatentGraphError
            For invalid input or an unknown method.
        """
        from .measures import _check_pair, _hsic, _self_features, _side

        X, _ = _check_pair(X, X)
        n = X.shape[0]
        if method == "gram":
            Xc = np.asarray(X, dtype=np.float64)
            Xc = Xc - Xc.mean(axis=0)
            K = Xc @ Xc.T
            np.fill_diagonal(K, 0.0)
            r = K.sum(axis=1)
            t2 = float(r.sum())
            h = _hsic(float(np.sum(K * K)), t2, t2, float(r @ r), n)
            return cls(n, method, h, t2, gram=K, rowsum=r)
        if method == "features":
            s = _side(X, 4096)
            t1, t2, t4, _ = _self_features(s, 4096)
            return cls(n, method, _hsic(t1, t2, t2, t4, n), t2, side=s)
        raise LatentGraphError(f"unknown CKA method {method!r}; allowed: 'gram', 'features'")

    def cka(self, other: CKATerms) -> float:
        """Debiased linear CKA with another representation of the same samples.

        Parameters
        ----------
        other : CKATerms
            The other representation's terms (same method and N).

        Returns
        -------
        float
            The value.

        Raises
        ------
        LatentGraphError
            When a representation has no variance.
        """
        from .measures import _cross_features, _hsic

        if not (self.hsic_self > 0 and other.hsic_self > 0):
            raise LatentGraphError("CKA is undefined: a representation has no variance")
        if self.method == "gram":
            assert self.gram is not None and other.gram is not None
            assert self.rowsum is not None and other.rowsum is not None
            t1, t4 = float(np.sum(self.gram * other.gram)), float(self.rowsum @ other.rowsum)
        else:
            t1, t4, _ = _cross_features(self.side, other.side, None, 4096)
        return float(_hsic(t1, self.t2, other.t2, t4, self.n) / math.sqrt(self.hsic_self * other.hsic_self))


def cka_method(n: int, dims: Sequence[int], pairs: int | None = None) -> str:
    """``"gram"`` when N x N Gram matrices are cheaper than the feature-space terms, else ``"features"``.

    Counts multiply-adds: the Gram path costs Σ n² d_i per model plus n² per pair, the
    feature path Σ n d_i² per model plus n d_i d_j per pair (median d for the pairs); the
    Gram path needs n <= :data:`GRAM_MAX` (one n x n float64 matrix per model).

    Parameters
    ----------
    n : int
        Samples.
    dims : sequence of int
        The representations' dimensions.
    pairs : int, optional
        Pairs compared (default: every unordered pair of ``dims``).

    Returns
    -------
    str
        The method.
    """
    if not dims or n > GRAM_MAX:
        return "features"
    m = len(dims)
    pairs = m * (m + 1) // 2 if pairs is None else int(pairs)
    d = float(sorted(dims)[m // 2])
    gram = n * n * float(sum(dims)) + pairs * n * n
    feat = n * float(sum(x * x for x in dims)) + pairs * n * d * d
    return "gram" if gram < feat else "features"


def cka_matrix(Xs: Sequence[Any], Ys: Sequence[Any] | None = None, method: str | None = None) -> np.ndarray:
    """Debiased linear CKA of every X against every Y, per-model terms computed once.

    Parameters
    ----------
    Xs : sequence of array_like
        Row representations, (N, d_i) each, the same samples in the same order.
    Ys : sequence of array_like, optional
        Column representations (default: ``Xs``, a square symmetric map).
    method : str, optional
        ``"gram"`` or ``"features"`` (default: :func:`cka_method`).

    Returns
    -------
    numpy.ndarray
        (len(Xs), len(Ys)) values.
    """
    square = Ys is None
    Ys = Xs if Ys is None else Ys
    allx = [np.asarray(x) for x in [*Xs, *([] if square else Ys)]]
    method = method or cka_method(allx[0].shape[0], [x.shape[1] for x in allx],
                                  None if square else len(Xs) * len(Ys))
    tx = [CKATerms.of(x, method) for x in Xs]
    ty = tx if square else [CKATerms.of(y, method) for y in Ys]
    out = np.empty((len(tx), len(ty)))
    for i, a in enumerate(tx):
        for j, b in enumerate(ty):
            if square and j < i:
                out[i, j] = out[j, i]
            else:
                out[i, j] = a.cka(b)
    return out


def aligned_latents(items: Sequence[Any], names: Sequence[str]) -> list[Any]:
    """The latents reordered to the first one's samples; an error naming the files when samples differ.

    Parameters
    ----------
    items : sequence of Latents
        The representations.
    names : sequence of str
        Their names (files) for errors.

    Returns
    -------
    list of Latents
        Each in the first one's sample order.

    Raises
    ------
    LatentGraphError
        When two of them do not hold the same samples, or labels disagree.
    """
    from ..io import Latents

    if not items:
        raise LatentGraphError("no latents given")
    ref = items[0]
    out = [ref]
    order_ref = np.argsort(ref.sample_id)
    for lat, name in zip(items[1:], names[1:], strict=True):
        if lat.n != ref.n or not np.array_equal(np.sort(lat.sample_id), ref.sample_id[order_ref]):
            only = np.setdiff1d(lat.sample_id, ref.sample_id).size + np.setdiff1d(ref.sample_id, lat.sample_id).size
            raise LatentGraphError(f"{name} and {names[0]} hold different samples ({lat.n} and {ref.n} rows, {only} "
                                   "sample ids in only one); every file must hold the same samples")
        if np.array_equal(lat.sample_id, ref.sample_id):
            out.append(lat)
            continue
        o = np.argsort(lat.sample_id)
        pos = o[np.searchsorted(lat.sample_id, ref.sample_id, sorter=o)]
        if not np.array_equal(lat.labels[pos], ref.labels):
            raise LatentGraphError(f"{name} and {names[0]} disagree on the labels of the same samples")
        out.append(Latents(lat.X[pos], lat.labels[pos], lat.sample_id[pos], metadata=dict(lat.metadata)))
    return out


def map_measures(measures: Sequence[str]) -> list[str]:
    """Validate the measures of a map (pair measures; ``hubness`` is per graph).

    Parameters
    ----------
    measures : sequence of str
        Registry names or ``all``.

    Returns
    -------
    list of str
        The names.

    Raises
    ------
    LatentGraphError
        For ``hubness`` or an unknown name.
    """
    ms = [m for m in registry.expand(measures, have_latents=True) if not (m == "hubness" and "all" in measures)]
    if "hubness" in ms:
        raise LatentGraphError("measure 'hubness' is a per-graph statistic; a map needs a pair measure")
    return ms


def similarity_map(rows: Sequence[tuple[str, Any]], cols: Sequence[tuple[str, Any]] | None, measures: Sequence[str],
                   ks: Sequence[int], *, metric: str = "l2", directed: bool = False, n_eigs: int = 20,
                   backend: str = "auto", threads: int | None = None) -> pd.DataFrame:
    """Every row representation against every column representation, per measure and k.

    Parameters
    ----------
    rows : sequence of (str, Latents)
        Named representations (Latents over the same samples).
    cols : sequence of (str, Latents), optional
        The columns; None: ``rows`` (a square map; symmetric measures computed once per
        unordered pair, the diagonal included).
    measures : sequence of str
        Pair measures (:func:`map_measures`); the map column of each is the last of its
        registry columns (``cns_sym`` for ``cns_sym``).
    ks : sequence of int
        Neighbour counts (latents measures without k repeat their value per k).
    metric : str, optional
        Distance of the kNN graphs (default ``"l2"``).
    directed : bool, optional
        Jaccard and CNS on the directed graphs.
    n_eigs : int, optional
        Eigenvalues of the spectral distance (at most N).
    backend : str, optional
        kNN backend.
    threads : int, optional
        kNN threads.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`MAP_COLUMNS`, rows in the order (measure, k, row, col).

    Raises
    ------
    LatentGraphError
        For mismatched samples, invalid measures or k.
    """
    from ..graphs.knn import knn_table
    from .measures import compare, laplacian_spectrum

    square = cols is None
    cols = rows if cols is None else cols
    ms = map_measures(measures)
    ks = sorted({int(k) for k in ks})
    if not ks:
        raise LatentGraphError("map: no k given")
    names = [n for n, _ in rows] + ([] if square else [n for n, _ in cols])
    lats = aligned_latents([x for _, x in rows] + ([] if square else [x for _, x in cols]), names)
    n_rows = len(rows)
    r_lat, c_lat = lats[:n_rows], (lats[:n_rows] if square else lats[n_rows:])
    n_eigs = min(int(n_eigs), lats[0].n)
    graph_ms = [m for m in ms if registry.get(m).needs == "graphs"]
    other_ms = [m for m in ms if registry.get(m).needs == "latents" and m != "cka"]
    tables: dict[int, Any] = {}

    def table(i: int) -> Any:
        if i not in tables:
            lat = lats[i]
            tables[i] = knn_table(lat.X, max(ks), lat.labels, lat.sample_id, metric=metric, backend=backend,
                                  threads=threads)
        return tables[i]

    spectra: dict[int, dict[int, np.ndarray]] = {}

    def spectra_of(i: int) -> dict[int, np.ndarray] | None:
        if "spectral" not in graph_ms:
            return None
        if i not in spectra:  # once per representation and k, not once per pair
            spectra[i] = {k: laplacian_spectrum(table(i), n_eigs, k=k) for k in ks}
        return spectra[i]

    values: dict[tuple[str, int], np.ndarray] = {(m, k): np.full((len(r_lat), len(c_lat)), np.nan)
                                                 for m in ms for k in ks}
    if "cka" in ms:
        cm = cka_matrix([x.X for x in r_lat], None if square else [x.X for x in c_lat])
        for k in ks:
            values[("cka", k)][:] = cm
    pair_ms = graph_ms + other_ms
    if pair_ms:
        col_of = {m: registry.get(m).columns[-1] for m in pair_ms}
        for i in range(len(r_lat)):
            for j in range(len(c_lat)):
                ci = j if square else n_rows + j
                todo = [m for m in pair_ms if not (square and j < i and registry.get(m).symmetric)]
                if square and j < i:
                    for m in pair_ms:
                        if m not in todo:
                            for k in ks:
                                values[(m, k)][i, j] = values[(m, k)][j, i]
                if not todo:
                    continue
                df = compare(table(i), table(ci), ks, todo, directed=directed, xa=r_lat[i].X, xb=c_lat[j].X,
                             n_eigs=n_eigs, spectra_a=spectra_of(i), spectra_b=spectra_of(ci))
                for m in todo:
                    for r, k in enumerate(df["k"]):
                        values[(m, int(k))][i, j] = float(df[col_of[m]].iloc[r])
    out = []
    for m in ms:
        for k in ks:
            M = values[(m, k)]
            for i, (rn, _) in enumerate(rows):
                for j, (cn, _) in enumerate(cols):
                    out.append((rn, cn, k, m, float(M[i, j])))
    return pd.DataFrame(out, columns=MAP_COLUMNS)


def as_matrix(df: pd.DataFrame, measure: str, k: int | None = None) -> pd.DataFrame:
    """One measure's map as a square (or rectangular) frame, rows and columns in first-seen order.

    Parameters
    ----------
    df : pandas.DataFrame
        A map table (:data:`MAP_COLUMNS`).
    measure : str
        The measure.
    k : int, optional
        The neighbour count (default: the smallest in the table).

    Returns
    -------
    pandas.DataFrame
        Values indexed by ``row`` and ``col``.

    Raises
    ------
    LatentGraphError
        When the table has no such measure or k.
    """
    part = df[df["measure"] == measure]
    if part.empty:
        raise LatentGraphError(f"the map has no measure {measure!r}; it has {sorted(df['measure'].unique())}")
    k = int(part["k"].min()) if k is None else int(k)
    part = part[part["k"] == k]
    if part.empty:
        raise LatentGraphError(f"the map has no k = {k} for {measure!r}")
    M = part.pivot(index="row", columns="col", values="value")
    return M.loc[list(dict.fromkeys(part["row"])), list(dict.fromkeys(part["col"]))]


def cluster_order(M: Any, larger_is_more_similar: bool | None = True) -> np.ndarray:
    """Leaf order of an average-linkage hierarchical clustering of a square map.

    Dissimilarity: ``max - M`` for similarities, ``M`` for distances, symmetrised, zero diagonal.

    Parameters
    ----------
    M : array_like
        (N, N) map.
    larger_is_more_similar : bool, optional
        The measure's direction (default True).

    Returns
    -------
    numpy.ndarray
        (N,) order of the rows (identity for N < 3 or a map with NaN).
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    A = np.asarray(M, dtype=np.float64)
    n = A.shape[0]
    if n < 3 or A.shape[1] != n or not np.isfinite(A).all():
        return np.arange(n)
    D = (np.nanmax(A) - A) if larger_is_more_similar is not False else A - np.nanmin(A)
    D = 0.5 * (D + D.T)
    np.fill_diagonal(D, 0.0)
    D = np.clip(D, 0.0, None)
    return leaves_list(linkage(squareform(D, checks=False), method="average"))
