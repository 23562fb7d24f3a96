"""The one list of measures: what each needs, its range, direction, invariances and source.

Every measure :func:`latentgraph.compare.measures.compare` (and so ``latentgraph compare``,
the stability and layer tables) can compute is a :class:`Measure` in :data:`REGISTRY`, in
column order. The declarations follow ReSi (Klabunde et al. 2024, ``repsim/measures/``):
a measure is *invariant* to a transform T when m(T(X), Y) = m(X, Y) for every X, Y, with

- ``permutation``: the same permutation of the samples (rows) of both representations;
- ``orthogonal``: X -> XQ, Q orthogonal (so also any permutation of the features);
- ``isotropic_scaling``: X -> aX, a > 0;
- ``translation``: X -> X + 1bᵀ;
- ``invertible_linear``: X -> XA, A invertible.

Graph measures compare kNN graphs; their invariances are those of the kNN graph of the
latents, declared for the Euclidean (``l2``) metric (an ``l1`` graph is not invariant to
rotations). ``tests/compare/test_registry.py`` checks every declaration: each invariance
holds, each undeclared one fails on a counter-example, identical inputs give
:attr:`Measure.identical`, and the permutation null sits at its expected level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..utils import LatentGraphError
from . import neighbours, shape

#: The transforms a measure may be invariant to (see the module docstring).
TRANSFORMS = ("permutation", "orthogonal", "isotropic_scaling", "translation", "invertible_linear")
#: Invariances of the kNN graph of latents under the Euclidean metric.
_KNN_L2 = frozenset({"permutation", "orthogonal", "isotropic_scaling", "translation"})
_SHAPE = _KNN_L2
_COSINE = frozenset({"permutation", "orthogonal", "isotropic_scaling"})
INF = float("inf")


@dataclass(frozen=True)
class Measure:
    """One registered measure.

    Parameters
    ----------
    name : str
        The name used by ``--measure``, ``measures.extra`` and :func:`compare`.
    title : str
        A short human-readable name.
    needs : str
        ``"graphs"`` (kNN graphs) or ``"latents"`` (the latent matrices themselves).
    range : tuple of float
        (lowest, highest) value the measure can take.
    larger_is_more_similar : bool or None
        Direction; None for a per-graph statistic (hubness).
    invariances : frozenset of str
        Transforms from :data:`TRANSFORMS` the measure is invariant to.
    columns : tuple of str
        Columns the measure adds to a :func:`compare` table.
    cite : str
        The reference that defines it.
    definition : str
        One-sentence definition.
    per_k : bool
        Whether the value depends on the neighbour count k (one value per row of the table).
    null : str
        ``"permutation"`` (shuffled correspondence), ``"observed"`` (the measure ignores the
        correspondence: the null is the value itself) or ``"closed_form"`` (hubness).
    identical : float or None
        The value for identical inputs (None for a per-graph statistic).
    symmetric : bool
        Whether m(X, Y) = m(Y, X).
    fn : callable, optional
        For latents measures: ``fn(X, Y)``, or ``fn(X, Y, k)`` when ``per_k``.
    resi : str, optional
        The ReSi function with the same definition, and where ours differs.
    """

    name: str
    title: str
    needs: str
    range: tuple[float, float]
    larger_is_more_similar: bool | None
    invariances: frozenset[str]
    columns: tuple[str, ...]
    cite: str
    definition: str
    per_k: bool
    null: str
    identical: float | None
    symmetric: bool = True
    fn: Callable[..., float] | None = None
    resi: str = ""

    @property
    def kind(self) -> str:
        """``"pair"`` for a similarity or distance of two representations, ``"per_graph"`` for hubness.

        Returns
        -------
        str
            The kind.
        """
        return "per_graph" if self.larger_is_more_similar is None else "pair"

    def __call__(self, X: Any, Y: Any, k: int | None = None) -> float:
        """The measure of two latent matrices (latents measures only).

        Parameters
        ----------
        X, Y : array_like
            (N, d_x) and (N, d_y) latents of the same samples.
        k : int, optional
            Neighbours, for measures with ``per_k``.

        Returns
        -------
        float
            The value.

        Raises
        ------
        LatentGraphError
            For a graph measure (use :func:`evaluate`) or a missing k.
        """
        if self.fn is None:
            raise LatentGraphError(f"measure {self.name!r} compares kNN graphs; use registry.evaluate or compare()")
        if self.per_k:
            if k is None:
                raise LatentGraphError(f"measure {self.name!r} needs k")
            return self.fn(X, Y, k)
        return self.fn(X, Y)


def _cka(X: Any, Y: Any) -> float:
    from .measures import cka_linear

    return cka_linear(X, Y)


def _m(*args: Any, **kw: Any) -> Measure:
    return Measure(*args, **kw)


#: Every measure, in the column order of :func:`latentgraph.compare.measures.compare`.
REGISTRY: tuple[Measure, ...] = (
    _m("jaccard", "graph average Jaccard similarity", "graphs", (0.0, 1.0), True, _KNN_L2, ("jaccard",),
       "thesis eq. 2.4", "mean over vertices of |N_A(v) ∩ N_B(v)| / |N_A(v) ∪ N_B(v)| (undirected kNN graphs "
       "unless --directed)", True, "permutation", 1.0,
       resi="jaccard_similarity (directed cosine kNN sets; here the graphs' metric and undirected union)"),
    _m("cns", "class neighbourhood similarity", "graphs", (0.0, 1.0), True, _KNN_L2, ("cns",), "thesis eq. 2.5",
       "mean over vertices of the multiset intersection of neighbour labels / |Y_A(v)|", True, "permutation", 1.0,
       symmetric=False),
    _m("cns_sym", "symmetric CNS", "graphs", (0.0, 1.0), True, _KNN_L2, ("cns_ba", "cns_sym"), "thesis eq. 2.5",
       "CNS in both directions and their mean", True, "permutation", 1.0),
    _m("mutual_knn", "mutual kNN alignment", "graphs", (0.0, 1.0), True, _KNN_L2, ("mutual_knn",),
       "Huh et al. 2024, The Platonic Representation Hypothesis",
       "mean over samples of |N_A^k(i) ∩ N_B^k(i)| / k on the directed kNN sets", True, "permutation", 1.0),
    _m("spectral", "spectral distance", "graphs", (0.0, INF), False, _KNN_L2, ("spectral",), "thesis §7.1",
       "L2 distance of the smallest normalised-Laplacian eigenvalues of the undirected graphs", True, "observed",
       0.0),
    _m("hubness", "hubness", "graphs", (-INF, INF), None, _KNN_L2,
       ("hub_skew_a", "hub_skew_b", "hub_frac_a", "hub_frac_b", "antihub_frac_a", "antihub_frac_b"),
       "Radovanović et al. 2010", "k-occurrence skewness, hub and antihub shares of each directed kNN graph",
       True, "closed_form", None),
    _m("cka", "linear CKA (debiased)", "latents", (-1.0, 1.0), True, _SHAPE, ("cka",),
       "Kornblith et al. 2019; Song et al. 2012",
       "HSIC_u(XXᵀ, YYᵀ) / sqrt(HSIC_u(XXᵀ, XXᵀ) HSIC_u(YYᵀ, YYᵀ)), unbiased HSIC", False, "permutation", 1.0,
       fn=_cka, resi="CKA (biased HSIC; ours is debiased, equal to it as N grows)"),
    _m("cka_rbf", "RBF CKA (debiased)", "latents", (-1.0, 1.0), True, _SHAPE, ("cka_rbf",),
       "Kornblith et al. 2019",
       "CKA of Gaussian kernels exp(-|x_i - x_j|² / 2σ²), σ² = median squared distance between distinct "
       "samples, unbiased HSIC", False, "permutation", 1.0, fn=shape.cka_rbf,
       resi="none in ReSi; Kornblith et al.'s gram_rbf(threshold=1) with the median over distinct pairs"),
    _m("procrustes", "orthogonal Procrustes distance", "latents", (0.0, float(np.sqrt(2.0))), False, _SHAPE,
       ("procrustes",), "Ding et al. 2021",
       "min over orthogonal Q of |X̃Q - Ỹ|_F of the centred, Frobenius-normalised matrices = sqrt(2 - 2|X̃ᵀỸ|_*)",
       False, "permutation", 0.0, fn=shape.procrustes,
       resi="orthogonal_procrustes_centered_and_normalized (same)"),
    _m("procrustes_angular", "angular shape metric", "latents", (0.0, float(np.pi / 2)), False, _SHAPE,
       ("procrustes_angular",), "Williams et al. 2021",
       "arccos |X̃ᵀỸ|_* of the centred, normalised matrices", False, "permutation", 0.0,
       fn=shape.procrustes_angular, resi="orthogonal_angular_shape_metric_centered (same)"),
    _m("procrustes_size_shape", "Procrustes size-and-shape distance", "latents", (0.0, INF), False,
       frozenset({"permutation", "orthogonal", "translation"}), ("procrustes_size_shape",),
       "Williams et al. 2021; Dryden & Mardia 2016",
       "min over orthogonal Q of |X_c Q - Y_c|_F of the centred matrices", False, "permutation", 0.0,
       fn=shape.procrustes_size_shape, resi="procrustes_size_and_shape_distance (same)"),
    _m("mean_cca", "mean CCA", "latents", (0.0, 1.0), True, frozenset(TRANSFORMS), ("mean_cca",),
       "Hotelling 1936; Raghu et al. 2017",
       "mean of all canonical correlations (rank-truncated whitening)", False, "permutation", 1.0,
       fn=shape.mean_cca, resi="none (ReSi's SVCCA without the SVD step)"),
    _m("svcca", "SVCCA", "latents", (0.0, 1.0), True, _SHAPE, ("svcca",), "Raghu et al. 2017",
       "mean CCA of the principal components explaining 99 % of each representation's variance", False,
       "permutation", 1.0, fn=shape.svcca,
       resi="SVCCA (its top_k_pca_comps compares the cumulative share with 0.99 x the total variance, so it "
            "keeps one component unless the total variance is below 1.01; ours keeps 99 % of the variance)"),
    _m("pwcca", "projection-weighted CCA", "latents", (0.0, 1.0), True,
       frozenset({"permutation", "isotropic_scaling", "translation"}), ("pwcca",), "Morcos et al. 2018",
       "canonical correlations weighted by α_i = Σ_j |<h_i, z_j>| over the neurons z_j of the narrower side",
       False, "permutation", 1.0, symmetric=False, fn=shape.pwcca,
       resi="PWCCA (Google's pwcca.py, which orthonormalises u-weighted activations by QR instead of using the "
            "canonical variates; ours follows the paper's definition)"),
    _m("rsa", "RSA", "latents", (-1.0, 1.0), True, _SHAPE, ("rsa",), "Kriegeskorte et al. 2008",
       "Spearman correlation of the Euclidean distance matrices' upper triangles (sampled pairs above 2·10⁶)",
       False, "permutation", 1.0, fn=shape.rsa,
       resi="representational_similarity_analysis(inner='euclidean'); ReSi's default inner='correlation' is "
            "not rotation-invariant"),
    _m("cknna", "CKNNA", "latents", (-INF, INF), True, _COSINE, ("cknna",), "Huh et al. 2024",
       "unbiased HSIC of the cosine kernels restricted to mutual kNN pairs, normalised by each kernel restricted "
       "to its own kNN", True, "permutation", 1.0, fn=neighbours.cknna,
       resi="none in ReSi; Huh et al.'s metrics.cknna (unit rows, without its +1e-6 in the denominator)"),
    _m("rank_sim", "kNN rank similarity", "latents", (0.0, 1.0), True, _COSINE, ("rank_sim",),
       "Wang et al. 2020; Klabunde et al. 2024",
       "shared cosine neighbours weighted by 2 / ((1 + |r_A - r_B|)(r_A + r_B)), normalised per sample", True,
       "permutation", 1.0, fn=neighbours.knn_rank_similarity, resi="rank_similarity (same)"),
    _m("second_order_cos", "second-order cosine similarity", "latents", (0.0, 1.0), True, _COSINE,
       ("second_order_cos",), "Hamilton et al. 2016; Klabunde et al. 2024",
       "cosine similarity of the cosine-distance profiles to the union of both kNN sets", True, "permutation",
       1.0, fn=neighbours.second_order_cosine, resi="second_order_cosine_similarity (same)"),
)

_BY_NAME = {m.name: m for m in REGISTRY}
#: Every measure name, in column order.
NAMES: tuple[str, ...] = tuple(m.name for m in REGISTRY)


def get(name: str) -> Measure:
    """The registered measure called ``name``.

    Parameters
    ----------
    name : str
        A name from :data:`NAMES`.

    Returns
    -------
    Measure
        Its declaration.

    Raises
    ------
    LatentGraphError
        For an unknown name.
    """
    if name not in _BY_NAME:
        raise LatentGraphError(f"unknown measure {name!r}; allowed: {list(NAMES)}")
    return _BY_NAME[name]


def needing_latents() -> list[str]:
    """The measures computed from the latent matrices (not from kNN graphs).

    Returns
    -------
    list of str
        Names in column order.
    """
    return [m.name for m in REGISTRY if m.needs == "latents"]


def applicable(have_latents: bool) -> list[str]:
    """The measures that can run on kNN graphs alone, or on graphs and latents.

    Parameters
    ----------
    have_latents : bool
        Whether the latent matrices are available.

    Returns
    -------
    list of str
        Names in column order (``--measure all``).
    """
    return [m.name for m in REGISTRY if have_latents or m.needs == "graphs"]


def expand(names: Sequence[str], have_latents: bool, where: str = "measures") -> list[str]:
    """Resolve ``all`` and check that every measure has what it needs.

    Parameters
    ----------
    names : sequence of str
        Measure names, or ``all``.
    have_latents : bool
        Whether the latents are available.
    where : str, optional
        What to call the names in errors.

    Returns
    -------
    list of str
        The names (``all`` replaced by :func:`applicable`), in the order given, without repeats.

    Raises
    ------
    LatentGraphError
        For an unknown name or a latents measure without latents.
    """
    out: list[str] = []
    for name in names:
        for n in applicable(have_latents) if name == "all" else [name]:
            m = get(n) if n in _BY_NAME else None
            if m is None:
                raise LatentGraphError(f"{where}: unknown measure {n!r}; allowed: all, {', '.join(NAMES)}")
            if m.needs == "latents" and not have_latents:
                raise LatentGraphError(f"measure {n!r} needs latents (the latent matrices), not only kNN graphs")
            if n not in out:
                out.append(n)
    return out


def evaluate(name: str, X: Any, Y: Any, k: int = 4, labels: Any = None, directed: bool = False) -> float:
    """Any pair measure of two latent matrices; graph measures on their exact Euclidean kNN graphs.

    The reference path of the property tests and a convenience for users: graph measures
    build :func:`latentgraph.graphs.knn.knn_table` (metric ``l2``) of both matrices at k and
    run :func:`latentgraph.compare.measures.compare`.

    Parameters
    ----------
    name : str
        A pair measure from :data:`NAMES` (not ``hubness``).
    X, Y : array_like
        (N, d_x) and (N, d_y) latents of the same samples.
    k : int, optional
        Neighbours (default 4).
    labels : array_like, optional
        Class labels (needed by ``cns``/``cns_sym``; default all zeros).
    directed : bool, optional
        Jaccard and CNS on directed graphs.

    Returns
    -------
    float
        The value (``cns_sym``: the symmetric mean).

    Raises
    ------
    LatentGraphError
        For ``hubness`` or an unknown name.
    """
    m = get(name)
    if m.kind != "pair":
        raise LatentGraphError(f"measure {name!r} is a per-graph statistic, not a comparison of two representations")
    if m.fn is not None:
        return m(X, Y, k)
    from ..graphs.knn import knn_table
    from .measures import compare

    X, Y = shape.check_latents(X, Y, name)
    n = X.shape[0]
    lab = np.zeros(n, dtype=np.int64) if labels is None else np.asarray(labels)
    ids = np.arange(n, dtype=np.int64)
    a = knn_table(np.asarray(X, dtype=np.float64), k, lab, ids, metric="l2", backend="numpy")
    b = knn_table(np.asarray(Y, dtype=np.float64), k, lab, ids, metric="l2", backend="numpy")
    df = compare(a, b, [k], [name], directed=directed, n_eigs=min(20, n))
    return float(df[m.columns[-1]].iloc[0])


def table_rows() -> list[dict[str, str]]:
    """The registry as text rows: name, needs, range, direction, invariances, citation, definition.

    Returns
    -------
    list of dict
        One dict per measure, in column order (``latentgraph measures`` and the docs table).
    """

    def num(v: float) -> str:
        if v == INF:
            return "∞"
        if v == -INF:
            return "-∞"
        return {float(np.sqrt(2.0)): "√2", float(np.pi / 2): "π/2"}.get(v, f"{v:g}")

    rows = []
    for m in REGISTRY:
        direction = {True: "larger", False: "smaller", None: "-"}[m.larger_is_more_similar]
        rows.append({
            "name": m.name,
            "title": m.title,
            "needs": m.needs,
            "range": f"[{num(m.range[0])}, {num(m.range[1])}]",
            "similar": direction,
            "per_k": "yes" if m.per_k else "no",
            "invariances": ", ".join(t for t in TRANSFORMS if t in m.invariances) or "-",
            "cite": m.cite,
            "definition": m.definition,
            "resi": m.resi or "-",
        })
    return rows
