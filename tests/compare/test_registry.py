"""The measure registry: every declaration checked (hypothesis property tests for the declared
invariances, a counter-example for every undeclared one, identical inputs, the permutation null),
the registry as the one list of names (compare, the CLI, the config schema), and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import hypergeom

from latentgraph.compare import registry as R
from latentgraph.compare.measures import MEASURE_COLUMNS, MEASURES, NULL_COLUMNS, compare
from latentgraph.graphs.knn import knn_table
from latentgraph.utils import LatentGraphError

ROOT = Path(__file__).resolve().parents[2]
PAIR = [m.name for m in R.REGISTRY if m.kind == "pair"]
# deterministic (derandomize) and small: a handful of drawn seeds per measure and transform
PROPS = settings(max_examples=4, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


def related(seed: int, n: int = 48, dx: int = 5, dy: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two related representations of n samples in 3 classes: Y a noisy linear image of X."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    X = rng.normal(size=(3, dx))[labels] * 1.5 + rng.normal(size=(n, dx))
    Y = X @ rng.normal(size=(dx, dy)) + 0.5 * rng.normal(size=(n, dy))
    return X, Y, labels


def transform(name: str, X: np.ndarray, rng: np.random.Generator, strong: bool = False) -> np.ndarray:
    """X under one transform of :data:`registry.TRANSFORMS` (rows: see the permutation case)."""
    d = X.shape[1]
    if name == "orthogonal":
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        return X @ Q
    if name == "isotropic_scaling":
        return X * (7.0 if strong else rng.uniform(0.2, 5.0))
    if name == "translation":
        return X + (10.0 * np.ones(d) if strong else rng.normal(scale=3.0, size=d))
    if name == "invertible_linear":
        Q1, _ = np.linalg.qr(rng.normal(size=(d, d)))
        Q2, _ = np.linalg.qr(rng.normal(size=(d, d)))
        s = np.geomspace(0.1, 10.0, d) if strong else rng.uniform(0.5, 2.0, d)
        return X @ (Q1 * s) @ Q2
    raise AssertionError(name)


def value(name: str, X: np.ndarray, Y: np.ndarray, labels: np.ndarray, k: int = 4) -> float:
    return R.evaluate(name, X, Y, k=k, labels=labels)


def moved(name: str, transform_name: str, seed: int, strong: bool = False) -> tuple[float, float]:
    """The measure before and after applying the transform (to X; permutation: to both)."""
    X, Y, labels = related(seed)
    rng = np.random.default_rng(seed + 1)
    before = value(name, X, Y, labels)
    if transform_name == "permutation":
        p = rng.permutation(X.shape[0])
        after = value(name, X[p], Y[p], labels[p])
    else:
        after = value(name, transform(transform_name, X, rng, strong), Y, labels)
    return before, after


# ------------------------------------------------------------------------------ declarations


def test_registry_is_consistent():
    assert len(set(R.NAMES)) == len(R.NAMES)
    assert MEASURES == R.NAMES
    assert set(MEASURE_COLUMNS) == set(R.NAMES)
    for m in R.REGISTRY:
        assert m.needs in ("graphs", "latents")
        assert m.invariances <= set(R.TRANSFORMS)
        assert m.range[0] < m.range[1]
        assert m.null in ("permutation", "observed", "closed_form")
        assert m.cite and m.definition and m.columns
        assert (m.fn is not None) == (m.needs == "latents")
        if m.identical is not None:
            assert m.range[0] <= m.identical <= m.range[1]
            bounded = np.isfinite(m.range).all()
            if bounded:  # identical inputs sit at the end of the range that means "same"
                assert m.identical == (m.range[1] if m.larger_is_more_similar else m.range[0])
    assert "cka" in NULL_COLUMNS and "procrustes" in NULL_COLUMNS and "hub_skew_a" not in NULL_COLUMNS


@pytest.mark.parametrize("name", PAIR)
def test_identical_inputs_give_the_declared_extreme(name):
    X, _, labels = related(3)
    m = R.get(name)
    assert value(name, X, X.copy(), labels) == pytest.approx(m.identical, abs=1e-6)


@pytest.mark.parametrize("name", PAIR)
def test_values_lie_in_the_declared_range(name):
    m = R.get(name)
    for seed in (0, 1):
        X, Y, labels = related(seed)
        v = value(name, X, Y, labels)
        assert m.range[0] - 1e-9 <= v <= m.range[1] + 1e-9
        # the direction: a related pair is more similar than an unrelated one
        Z = np.random.default_rng(seed + 10).normal(size=Y.shape) * Y.std(axis=0) + Y.mean(axis=0)  # same scale
        u = value(name, X, Z, labels)
        if name not in ("spectral", "cns", "cns_sym"):  # global shape / label-level: no sample correspondence
            assert (v > u) if m.larger_is_more_similar else (v < u), (v, u)


INVARIANT = [(m.name, t) for m in R.REGISTRY if m.kind == "pair" for t in R.TRANSFORMS if t in m.invariances]
NOT_INVARIANT = [(m.name, t) for m in R.REGISTRY if m.kind == "pair" for t in R.TRANSFORMS
                 if t not in m.invariances]


@pytest.mark.parametrize(("name", "t"), INVARIANT)
@PROPS
@given(seed=st.integers(0, 10_000))
def test_declared_invariance_holds(name, t, seed):
    before, after = moved(name, t, seed)
    assert after == pytest.approx(before, abs=1e-6, rel=1e-6)


@pytest.mark.parametrize(("name", "t"), NOT_INVARIANT)
def test_undeclared_invariance_fails_on_a_counter_example(name, t):
    # a strong instance of the transform (translation by 10 in every feature, scale 7, a linear
    # map with singular values 0.1..10): the value must move
    changes = [abs(a - b) for a, b in (moved(name, t, seed, strong=True) for seed in (0, 1))]
    assert max(changes) > 1e-3, changes


def test_invariance_table_covers_the_issue():
    # the kinds of measures ReSi distinguishes are all present: some measure lacks each invariance
    for t in R.TRANSFORMS[1:]:
        assert any(t not in m.invariances for m in R.REGISTRY), t
    assert "invertible_linear" in R.get("mean_cca").invariances


# ------------------------------------------------------------------------------ permutation null


def test_permutation_null_sits_at_chance():
    """Independent representations: every null near its expected value, and the observed too."""
    rng = np.random.default_rng(5)
    n, d, k = 300, 4, 5
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    labels = rng.integers(0, 3, n)
    ids = np.arange(n)
    a = knn_table(X, k, labels, ids, metric="l2", backend="numpy")
    b = knn_table(Y, k, labels, ids, metric="l2", backend="numpy")
    names = [m for m in R.NAMES if m != "hubness"]
    df = compare(a, b, [k], names, xa=X, xb=Y, n_perm=8, seed=1).iloc[0]
    chance = k / (n - 1)
    # correlation-type measures: expectation 0 for independent data (debiased CKA and CKNNA exactly)
    for col in ("cka", "cka_rbf", "rsa", "cknna"):
        assert abs(df[f"{col}_null"]) < 0.05, col
        assert abs(df[col] - df[f"{col}_null"]) < 4 * df[f"{col}_null_std"] + 0.02, col
    # mutual kNN: k/(N-1) in expectation
    assert df["mutual_knn_null"] == pytest.approx(chance, abs=0.01)
    # rank similarity of random neighbour lists: m ~ Hypergeometric(N-1, k, k) shared neighbours at
    # independent uniform ranks, E[s] = E[m / H_m] * E[2 / ((1 + |r_A - r_B|)(r_A + r_B))]
    ms = np.arange(1, k + 1)
    e_m = float(np.sum(hypergeom(n - 1, k, k).pmf(ms) * ms / np.cumsum(1.0 / ms)))
    r = np.arange(1, k + 1)
    e_f = float(np.mean(2.0 / ((1 + np.abs(r[:, None] - r[None, :])) * (r[:, None] + r[None, :]))))
    assert df["rank_sim_null"] == pytest.approx(e_m * e_f, abs=0.006)
    assert df["jaccard_null"] < 2 * chance
    # CCA family on independent data: canonical correlations of order sqrt(d / N)
    for col in ("mean_cca", "svcca", "pwcca"):
        assert df[f"{col}_null"] < 2.5 * np.sqrt(d / n), col
    # Procrustes: near the largest distance (no shared shape)
    assert df["procrustes_null"] > np.sqrt(2) - 0.25
    assert df["procrustes_angular_null"] > np.pi / 2 - 0.25
    # the spectral distance ignores the correspondence: its null is the value itself
    assert df["spectral_null"] == df["spectral"] and df["spectral_null_std"] == 0
    # every null is the same draw for the observed pair: independent data are at chance
    for m in names:
        for col in R.get(m).columns:
            if R.get(m).null == "permutation":
                assert np.isfinite(df[f"{col}_null"]) and df[f"{col}_null_std"] >= 0


def test_null_of_a_related_pair_is_far_below_it():
    X, Y, labels = related(2, n=80)
    ids = np.arange(80)
    a = knn_table(X, 4, labels, ids, metric="l2", backend="numpy")
    b = knn_table(Y, 4, labels, ids, metric="l2", backend="numpy")
    names = ["cka_rbf", "procrustes", "mean_cca", "rsa", "cknna", "rank_sim", "second_order_cos"]
    df = compare(a, b, [4], names, xa=X, xb=Y, n_perm=5, seed=0).iloc[0]
    for m in names:
        better = df[m] > df[f"{m}_null"] if R.get(m).larger_is_more_similar else df[m] < df[f"{m}_null"]
        assert better, m


def test_compare_null_is_deterministic_and_per_k():
    X, Y, labels = related(4, n=60)
    ids = np.arange(60)
    a = knn_table(X, 6, labels, ids, metric="l2", backend="numpy")
    b = knn_table(Y, 6, labels, ids, metric="l2", backend="numpy")
    names = ["procrustes", "cknna", "rank_sim"]
    d1 = compare(a, b, [3, 6], names, xa=X, xb=Y, n_perm=3, seed=7)
    d2 = compare(a, b, [3, 6], names, xa=X, xb=Y, n_perm=3, seed=7)
    assert d1.equals(d2)
    assert d1["procrustes"].nunique() == 1 and d1["cknna"].nunique() == 2
    # the per-k values are the functions' own
    assert d1["rank_sim"].iloc[0] == pytest.approx(R.evaluate("rank_sim", X, Y, k=3))
    assert d1["procrustes"].iloc[0] == pytest.approx(R.evaluate("procrustes", X, Y))


# ------------------------------------------------------------------------------ one list of names


def test_schema_measures_extra_follows_the_registry():
    schema = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())
    extra = schema["properties"]["measures"]["properties"]["extra"]
    allowed = extra["items"]["enum"]
    # every registered measure but the two the tables always hold
    assert allowed == [m for m in R.NAMES if m not in ("jaccard", "cns")]
    # the demo's defaults are unchanged
    assert extra["default"] == ["cns_sym", "mutual_knn", "spectral", "cka", "hubness"]


def test_expand_and_errors():
    assert R.expand(["all"], have_latents=False) == [m.name for m in R.REGISTRY if m.needs == "graphs"]
    assert R.expand(["all"], have_latents=True) == list(R.NAMES)
    assert R.expand(["cka", "jaccard", "cka"], have_latents=True) == ["cka", "jaccard"]
    with pytest.raises(LatentGraphError, match=r"measure 'procrustes' needs latents"):
        R.expand(["procrustes"], have_latents=False)
    with pytest.raises(LatentGraphError, match="unknown measure"):
        R.expand(["nope"], have_latents=True)
    with pytest.raises(LatentGraphError, match="per-graph statistic"):
        R.evaluate("hubness", np.eye(5), np.eye(5))


def test_compare_without_latents_names_the_measure():
    X, Y, labels = related(0, n=30)
    ids = np.arange(30)
    a = knn_table(X, 4, labels, ids, metric="l2", backend="numpy")
    b = knn_table(Y, 4, labels, ids, metric="l2", backend="numpy")
    with pytest.raises(LatentGraphError, match=r"^measure 'rsa' needs the latents"):
        compare(a, b, [4], ["jaccard", "rsa"])
    with pytest.raises(LatentGraphError, match="unknown measure"):
        compare(a, b, [4], ["rsa2"], xa=X, xb=Y)


def test_stability_table_passes_latents_measures_through():
    from latentgraph.experiments.stability import MEASURE_NAMES, stability_table

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 40)
    ids = np.arange(40)
    lat = {(r, e): rng.normal(size=(40, 4)) for r in ("A", "B") for e in (1, 2)}
    graphs = {key: knn_table(x, 4, labels, ids, metric="l2", backend="numpy") for key, x in lat.items()}
    df = stability_table(graphs, ["A", "B"], [1, 2], [4], measures=["procrustes", "cknna"], latents=lat,
                         n_perm=2)
    row = df[(df["comparison"] == "epoch") & (df["run"] == "A")].iloc[0]
    assert row["procrustes"] == pytest.approx(R.evaluate("procrustes", lat[("A", 1)], lat[("A", 2)]))
    assert row["cknna"] == pytest.approx(R.evaluate("cknna", lat[("A", 1)], lat[("A", 2)], k=4))
    assert "procrustes_null" in df.columns and "procrustes" in MEASURE_NAMES
    with pytest.raises(LatentGraphError, match="measure 'procrustes' needs the latents of run A"):
        stability_table(graphs, ["A", "B"], [1, 2], [4], measures=["procrustes"])


def test_stability_measures_figure_takes_registry_measures(tmp_path):
    from latentgraph.experiments.stability import stability_table
    from latentgraph.plotting import plot_stability_measures

    rng = np.random.default_rng(1)
    labels, ids = rng.integers(0, 3, 30), np.arange(30)
    lat = {(r, e): rng.normal(size=(30, 3)) for r in ("A", "B") for e in (1, 2, 3)}
    graphs = {key: knn_table(x, 4, labels, ids, metric="l2", backend="numpy") for key, x in lat.items()}
    df = stability_table(graphs, ["A", "B"], [1, 2, 3], [2, 4], measures=["rsa", "rank_sim"], latents=lat, n_perm=2)
    out = plot_stability_measures(df, tmp_path / "m.png")
    assert out.exists() and out.stat().st_size > 0
