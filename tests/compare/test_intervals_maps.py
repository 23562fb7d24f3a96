"""Intervals (coverage on known truth, determinism, bounds, bad input) and maps (self map,
layer x layer diagonal, compare-many = pairwise compare, mismatched samples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latentgraph.cli import main
from latentgraph.compare import intervals as I
from latentgraph.compare.maps import as_matrix, cka_matrix, cluster_order, similarity_map
from latentgraph.compare.measures import cka_linear, compare
from latentgraph.graphs.knn import knn_table
from latentgraph.io import Latents, write_latents
from latentgraph.utils import LatentGraphError


def related(seed: int, n: int = 120, dx: int = 6, dy: int = 5, noise: float = 0.7):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    X = rng.normal(size=(3, dx))[labels] * 1.5 + rng.normal(size=(n, dx))
    Y = X @ rng.normal(size=(dx, dy)) + noise * rng.normal(size=(n, dy))
    return X, Y, labels


def tables(X, Y, labels, k=8):
    ids = np.arange(X.shape[0])
    return (knn_table(X, k, labels, ids, metric="l2", backend="numpy"),
            knn_table(Y, k, labels, ids, metric="l2", backend="numpy"))


def test_vertex_bootstrap_coverage_on_known_mean():
    """A population of per-vertex values with a known mean: the 90 % interval of the mean of
    n drawn vertices covers it in about 90 % of 400 seeded draws."""
    pop = np.random.default_rng(0).beta(2, 5, 200_000)
    truth = pop.mean()
    hits = 0
    for s in range(400):
        v = np.random.default_rng(1000 + s).choice(pop, 150)
        lo, hi = I.vertex_mean_interval(v, I.resample_counts(150, 200, s), 0.9)
        hits += lo <= truth <= hi
    assert 0.85 <= hits / 400 <= 0.95


def test_half_sampling_coverage_of_cka():
    """Half-sampling intervals of linear CKA: coverage of the population value (CKA of a very
    large sample) near nominal over seeded draws."""
    rng = np.random.default_rng(3)
    W = rng.normal(size=(4, 3))

    def draw(n, r):
        X = r.normal(size=(n, 4))
        return X, X @ W + 2.0 * r.normal(size=(n, 3))

    truth = cka_linear(*draw(200_000, np.random.default_rng(99)))
    hits, runs = 0, 120
    for s in range(runs):
        X, Y = draw(100, np.random.default_rng(500 + s))
        est = cka_linear(X, Y)
        lo, hi = I.half_sample_interval(lambda i, X=X, Y=Y: cka_linear(X[i], Y[i]), est, 100, 100, 0.9, s)
        hits += lo <= truth <= hi
    assert 0.8 <= hits / runs <= 0.98


def test_compare_intervals_bounds_and_determinism():
    X, Y, labels = related(1)
    a, b = tables(X, Y, labels)
    ms = ["jaccard", "cns_sym", "mutual_knn", "spectral", "hubness", "cka", "procrustes", "rank_sim", "cknna"]
    df = compare(a, b, [4, 8], ms, xa=X, xb=Y, resamples=30, seed=5)
    again = compare(a, b, [4, 8], ms, xa=X, xb=Y, resamples=30, seed=5)
    pd.testing.assert_frame_equal(df, again)
    for c in ["jaccard", "cns", "cns_ba", "cns_sym", "mutual_knn", "spectral", "hub_skew_a", "hub_frac_b", "cka",
              "procrustes", "rank_sim", "cknna"]:
        assert (df[f"{c}_lo"] <= df[c] + 1e-12).all() and (df[c] <= df[f"{c}_hi"] + 1e-12).all(), c
        assert (df[f"{c}_hi"] > df[f"{c}_lo"]).all(), c
    other = compare(a, b, [4, 8], ms, xa=X, xb=Y, resamples=30, seed=6)
    assert not np.allclose(df["jaccard_lo"], other["jaccard_lo"])
    plain = compare(a, b, [4, 8], ms, xa=X, xb=Y)
    pd.testing.assert_frame_equal(plain, df[plain.columns])


@pytest.mark.parametrize("bad", [1, -3, 2.5, "x"])
def test_resamples_below_two_is_an_error(bad):
    X, Y, labels = related(2)
    a, b = tables(X, Y, labels)
    with pytest.raises(LatentGraphError, match="resamples"):
        compare(a, b, [4], ["jaccard"], resamples=bad)
    with pytest.raises(LatentGraphError, match="ci"):
        compare(a, b, [4], ["jaccard"], resamples=10, ci=1.5)


def test_cka_matrix_equals_pairwise_both_methods():
    X, Y, _ = related(4)
    Z = np.tanh(Y @ np.ones((5, 7)))
    Xs = [X, Y, Z + 0.1 * X[:, :1]]
    ref = np.array([[cka_linear(p, q) for q in Xs] for p in Xs])
    for method in ("gram", "features"):
        np.testing.assert_allclose(cka_matrix(Xs, method=method), ref, atol=1e-10)
    np.testing.assert_allclose(cka_matrix(Xs[:1], Xs[1:]), ref[:1, 1:], atol=1e-10)


def lat(X, labels, ids=None):
    ids = np.arange(X.shape[0]) if ids is None else ids
    return Latents(np.asarray(X, dtype=np.float32), labels, ids)


def test_map_self_diagonal_and_equals_compare():
    X, Y, labels = related(5)
    items = [("x", lat(X, labels)), ("y", lat(Y, labels)), ("z", lat(X[:, ::-1] + 0.3 * X[:, :1], labels))]
    ms = ["jaccard", "cns", "cka", "procrustes", "spectral"]
    df = similarity_map(items, None, ms, [4], metric="l2")
    for m, ident in (("jaccard", 1.0), ("cns", 1.0), ("cka", 1.0), ("procrustes", 0.0), ("spectral", 0.0)):
        M = as_matrix(df, m, 4).to_numpy()
        np.testing.assert_allclose(np.diag(M), ident, atol=1e-6)
    ta = {n: knn_table(x.X, 4, labels, x.sample_id, metric="l2", backend="numpy") for n, x in items}
    for (na, xa), (nb, xb) in [(items[0], items[1]), (items[1], items[0]), (items[2], items[1])]:
        ref = compare(ta[na], ta[nb], [4], ms, xa=xa.X, xb=xb.X)
        for m in ms:
            got = df[(df.row == na) & (df.col == nb) & (df.measure == m)]["value"].item()
            assert got == pytest.approx(float(ref[m].iloc[0]), abs=1e-9), (m, na, nb)


def test_layer_by_layer_diagonal_equals_same_layer_table():
    """Rectangular map (A's layers x B's layers): its diagonal is compare_layer's values."""
    from latentgraph.experiments.layers import compare_layer

    X, Y, labels = related(6)
    A = [("l1", lat(X, labels)), ("l2", lat(np.tanh(X), labels))]
    B = [("l1", lat(Y, labels)), ("l2", lat(np.tanh(Y), labels))]
    df = similarity_map(A, B, ["jaccard", "cka"], [4], metric="l1")
    for i, ((name, la), (_, lb)) in enumerate(zip(A, B, strict=True)):
        ref = compare_layer(la, lb, [4], ["cka"], layer=name, metric="l1")
        for m in ("jaccard", "cka"):
            M = as_matrix(df, m, 4).to_numpy()
            assert M[i, i] == pytest.approx(float(ref[m].iloc[0]), abs=1e-9)


def test_mismatched_samples_error():
    X, Y, labels = related(7)
    items = [("x", lat(X, labels)), ("y", lat(Y[:-1], labels[:-1]))]
    with pytest.raises(LatentGraphError, match="different samples"):
        similarity_map(items, None, ["cka"], [4])
    with pytest.raises(LatentGraphError, match="per-graph"):
        similarity_map([items[0], items[0]], None, ["hubness"], [4])


def test_cluster_order_groups_blocks():
    M = np.array([[1, .1, .9, .1], [.1, 1, .1, .8], [.9, .1, 1, .1], [.1, .8, .1, 1]])
    o = list(cluster_order(M))
    assert abs(o.index(0) - o.index(2)) == 1 and abs(o.index(1) - o.index(3)) == 1


def test_compare_many_cli(tmp_path, capsys):
    X, Y, labels = related(8)
    rng = np.random.default_rng(0)
    perm = rng.permutation(X.shape[0])
    files = []
    for i, M in enumerate([X, Y, np.tanh(X)]):
        p = tmp_path / f"m{i}.parquet"
        ids = np.arange(X.shape[0])
        if i == 1:  # rows in another order: matched by sample id
            write_latents(p, M[perm].astype(np.float32), labels[perm], ids[perm])
        else:
            write_latents(p, M.astype(np.float32), labels, ids)
        files.append(str(p))
    out, fig = tmp_path / "map.parquet", tmp_path / "map.png"
    assert main(["compare-many", *files, "--measure", "cka", "jaccard", "--k", "4", "-o", str(out),
                 "--figure", str(fig)]) == 0
    df = pd.read_parquet(out)
    assert fig.stat().st_size > 0
    got = df[(df.row == "m0") & (df.col == "m1") & (df.measure == "cka")]["value"].item()
    assert got == pytest.approx(cka_linear(X, Y), abs=1e-6)
    capsys.readouterr()
    assert main(["compare", files[0], files[1], "--measure", "jaccard", "--k", "4"]) == 0
    ref = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    jac = df[(df.row == "m0") & (df.col == "m1") & (df.measure == "jaccard")]["value"].item()
    assert jac == pytest.approx(float(ref["jaccard"].iloc[0]), abs=1e-6)
    write_latents(tmp_path / "short.parquet", X[:-2].astype(np.float32), labels[:-2], np.arange(X.shape[0] - 2))
    assert main(["compare-many", files[0], str(tmp_path / "short.parquet")]) == 2
    assert "different samples" in capsys.readouterr().err
    assert main(["compare", files[0], files[1], "--resamples", "1"]) == 2


def test_graph_and_pruning_intervals_match_compare():
    """The noise/pruning helpers give compare()'s Jaccard and CNS intervals for the same seed."""
    X, Y, labels = related(9)
    a, b = tables(X, Y, labels)
    ref = compare(a, b, [4, 8], ["jaccard", "cns"], resamples=40, seed=3)
    got = I.graph_intervals(a, b, [8, 4], level=0.95, resamples=40, seed=3)
    for c in ("jaccard_lo", "jaccard_hi", "cns_lo", "cns_hi"):
        np.testing.assert_allclose(got[c], ref[c])
    _, c = tables(X, np.tanh(Y), labels)
    pr = I.pruning_intervals(a, {("0.2", 1): b, ("0.2", 2): c}, [4], level=0.9, resamples=40, seed=0)
    assert list(pr["round"]) == [0, 1, 2] and (pr["rate"] == 0.2).all()
    assert pr.loc[0, "jaccard_vs_round0_lo"] == pr.loc[0, "jaccard_vs_round0_hi"] == 1.0  # round 0 vs itself
    assert (pr["cns_vs_round0_lo"] <= pr["cns_vs_round0_hi"]).all()
    means = I.mean_intervals(pd.DataFrame({"p": [0, 0, 1], "k": [4, 4, 4], "jaccard_lo": [0.1, 0.3, 0.5],
                                           "jaccard": [0.2, 0.4, 0.6]}), ["p", "k"])
    assert list(means.columns) == ["p", "k", "jaccard_lo"] and means["jaccard_lo"].tolist() == [0.2, 0.5]
