"""Issue 15's remaining interval work: the vectorised half-sampling of the latents measures
equals the per-subset loop; the spectral distance's interval rebuilds the kNN graphs of each
subset (equal to a fresh exact kNN search of the subset) and every compare column has bounds."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from latentgraph.compare import intervals as I
from latentgraph.compare.measures import columns, compare, laplacian_spectrum, spectral_distance_from
from latentgraph.compare.shape import COVARIANCE_MEASURES, covariances, from_covariances
from latentgraph.graphs.knn import knn_table
from latentgraph.utils import LatentGraphError

COV = list(COVARIANCE_MEASURES)


def pair(seed: int, n: int, dx: int, dy: int, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    X = rng.normal(size=(4, dx))[labels] + rng.normal(size=(n, dx)) + offset
    Y = X[:, : min(dx, dy)] @ rng.normal(size=(min(dx, dy), dy)) + 0.8 * rng.normal(size=(n, dy)) - offset
    return X.astype(np.float32), Y.astype(np.float32), labels


@pytest.mark.parametrize("n,dx,dy,offset", [(120, 6, 5, 0.0), (200, 40, 30, 50.0), (60, 90, 70, 3.0)])
def test_vectorised_draws_equal_the_loop(n, dx, dy, offset):
    X, Y, _ = pair(n + dx, n, dx, dy, offset)
    idx = I.subsample_indices(n, 25, 7)
    names = ["cka", *COV, "rsa", "cka_rbf"]
    ref = I._latents_draws_loop(X, Y, names, [4, 8], idx)
    new = I._latents_draws(X, Y, names, [4, 8], idx)
    for name in names:
        assert new[name].shape == (2, 25)
        np.testing.assert_allclose(new[name], ref[name], rtol=0, atol=1e-10, err_msg=name)
    for method in ("gram", "features", "auto"):
        np.testing.assert_allclose(I.cka_draws(X, Y, idx, method=method), ref["cka"][0], rtol=0, atol=1e-10)
    # small blocks/chunks: several row blocks of the kernels, several chunks of subsets
    np.testing.assert_allclose(I.cka_draws(X, Y, idx, method="gram", block_elems=7 * n), ref["cka"][0], atol=1e-10)
    np.testing.assert_allclose(I.cka_draws(X, Y, idx, method="features", block_elems=3 * n * (dx + dy)),
                               ref["cka"][0], atol=1e-10)
    got = I.covariance_draws(X, Y, idx, COV, block_elems=1)
    for name in COV:
        np.testing.assert_allclose(got[name], ref[name][0], atol=1e-10, err_msg=name)


def test_cka_draws_undefined_subset_is_nan_and_bad_method():
    X, Y, _ = pair(1, 40, 3, 3)
    X[:20] = 1.0  # a subset of the first 20 rows has no variance in X
    idx = np.vstack([np.arange(20), np.arange(20, 40)])
    for method in ("gram", "features"):
        v = I.cka_draws(X, Y, idx, method=method)
        assert np.isnan(v[0]) and np.isfinite(v[1])
    with pytest.raises(LatentGraphError, match="method"):
        I.cka_draws(X, Y, idx, method="qr")
    with pytest.raises(LatentGraphError, match="covariances"):
        from_covariances("rsa", *covariances(X, Y), 40)


def test_from_covariances_equals_the_measures():
    from latentgraph.compare import registry

    X, Y, _ = pair(3, 90, 7, 5, 2.0)
    for name in COV:
        assert from_covariances(name, *covariances(X, Y), 90) == pytest.approx(registry.get(name)(X, Y), abs=1e-12)


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_subset_neighbours_is_the_knn_table_of_the_subset(metric):
    X, _, labels = pair(4, 150, 8, 8)
    t = knn_table(X, 12, labels, np.arange(150), metric=metric, backend="numpy")
    rows = I.subsample_indices(150, 3, 1)[0]
    exact = knn_table(X[rows], 12, labels[rows], rows, metric=metric, backend="numpy").indices
    for k in (2, 4, 12):
        tab, short = I.subset_neighbours(t, rows, k, X)
        np.testing.assert_array_equal(tab, exact[:, :k])
        bare, short_bare = I.subset_neighbours(t, rows, k)
        assert short_bare == short
        ok = np.all(bare >= 0, axis=1)
        assert (~ok).sum() == short  # exactly the short rows miss neighbours
        np.testing.assert_array_equal(bare[ok], exact[ok, :k])  # the others are exact from the table alone
    assert I.subset_neighbours(t, rows, 2)[1] < I.subset_neighbours(t, rows, 12)[1]
    # the induced subgraph is not it: rows lose neighbours
    pos = np.full(150, -1)
    pos[rows] = np.arange(rows.size)
    induced = pos[t.indices[rows, :4]]
    assert (induced < 0).any()


def test_spectral_interval_draws_and_columns():
    X, Y, labels = pair(5, 160, 6, 6)
    ids = np.arange(160)
    a = knn_table(X, 8, labels, ids, metric="l2", backend="numpy")
    b = knn_table(Y, 8, labels, ids, metric="l2", backend="numpy")
    idx = I.subsample_indices(160, 4, 2)
    d = I.spectral_draws(a, b, [3, 8], idx, 6, X, Y)
    for j, rows in enumerate(idx):
        sa = knn_table(X[rows], 8, labels[rows], rows, metric="l2", backend="numpy")
        sb = knn_table(Y[rows], 8, labels[rows], rows, metric="l2", backend="numpy")
        for i, k in enumerate([3, 8]):
            ref = spectral_distance_from(laplacian_spectrum(sa, 6, k=k), laplacian_spectrum(sb, 6, k=k))
            assert d[i, j] == pytest.approx(ref, abs=1e-10)
    df = compare(a, b, [3, 8], ["spectral", "cka"], xa=X, xb=Y, n_eigs=6, resamples=20, seed=3)
    assert list(df.columns) == ["k", *columns(["spectral", "cka"], ci=True)]
    assert {"spectral_lo", "spectral_hi"} <= set(df.columns)
    assert (df["spectral_lo"] <= df["spectral"]).all() and (df["spectral"] <= df["spectral_hi"]).all()
    assert (df["spectral_hi"] > df["spectral_lo"]).all()
    # same bytes for the same seed; the graph-only call (no latents) also has bounds
    np.testing.assert_array_equal(df.to_numpy(), compare(a, b, [3, 8], ["spectral", "cka"], xa=X, xb=Y, n_eigs=6,
                                                         resamples=20, seed=3).to_numpy())
    bare = compare(a, b, [3], ["spectral"], n_eigs=6, resamples=20, seed=3)
    assert bare["spectral_lo"].iloc[0] <= bare["spectral"].iloc[0] <= bare["spectral_hi"].iloc[0]


def test_spectral_interval_latents_follow_the_sample_order():
    """b's table in another row order: its latents are aligned like the table (same bounds)."""
    X, Y, labels = pair(6, 120, 5, 5)
    ids = np.arange(120)
    a = knn_table(X, 6, labels, ids, metric="l1", backend="numpy")
    b = knn_table(Y, 6, labels, ids, metric="l1", backend="numpy")
    p = np.random.default_rng(0).permutation(120)
    bp = knn_table(Y[p], 6, labels[p], ids[p], metric="l1", backend="numpy")
    ref = compare(a, b, [6], ["spectral"], xa=X, xb=Y, n_eigs=5, resamples=12, seed=1)
    got = compare(a, bp, [6], ["spectral"], xa=X, xb=Y[p], n_eigs=5, resamples=12, seed=1)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), atol=1e-12)


def test_spectral_interval_too_few_samples_for_n_eigs(caplog):
    X, Y, labels = pair(7, 30, 4, 4)
    ids = np.arange(30)
    a = knn_table(X, 4, labels, ids, metric="l2", backend="numpy")
    b = knn_table(Y, 4, labels, ids, metric="l2", backend="numpy")
    with caplog.at_level(logging.WARNING):
        df = compare(a, b, [4], ["spectral"], n_eigs=20, resamples=10, seed=0)
    assert np.isnan(df["spectral_lo"].iloc[0]) and np.isnan(df["spectral_hi"].iloc[0])
    assert "no interval" in caplog.text


def test_every_compare_column_has_an_interval():
    from latentgraph.compare.measures import MEASURES

    cols = columns(list(MEASURES))
    ci = columns(list(MEASURES), ci=True)
    assert [c for c in ci if c.endswith(("_lo", "_hi"))] == [f"{c}{s}" for c in cols for s in ("_lo", "_hi")]
    assert not hasattr(I, "NO_INTERVAL")


def test_cka_rbf_blocks_do_not_change_the_value(monkeypatch):
    """RBF CKA at large N forms its kernels in blocks of at most RBF_BLOCK_ELEMS entries:
    many small blocks give the value of one block (and of a dense reference)."""
    from latentgraph.compare import shape as S

    X, Y, _ = pair(8, 150, 5, 4)
    full = S.cka_rbf(X, Y, block_rows=10_000)
    for debiased in (True, False):
        one = S.cka_rbf(X, Y, debiased=debiased, block_rows=10_000)
        monkeypatch.setattr(S, "RBF_BLOCK_ELEMS", 7 * 150)  # 7-row blocks
        many = S.cka_rbf(X, Y, debiased=debiased)
        monkeypatch.undo()
        assert many == pytest.approx(one, abs=1e-12)
    # dense reference (Song et al.'s unbiased HSIC with explicit N x N kernels)
    Xf, Yf = X.astype(np.float64), Y.astype(np.float64)

    def kernel(M):
        d2 = ((M[:, None, :] - M[None, :, :]) ** 2).sum(-1)
        K = np.exp(-d2 / (2 * np.median(d2[np.triu_indices(len(M), 1)])))
        np.fill_diagonal(K, 0.0)
        return K

    def hsic(K, L, n=150):
        one = np.ones(n)
        return (np.trace(K @ L) + (one @ K @ one) * (one @ L @ one) / ((n - 1) * (n - 2))
                - 2 * (one @ K @ L @ one) / (n - 2)) / (n * (n - 3))

    K, L = kernel(Xf), kernel(Yf)
    assert full == pytest.approx(hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L)), abs=1e-10)


def test_intervals_stay_inside_the_measures_range():
    """Half-sampling deviations can reach past a bound (a spectral distance near 0): the bounds are clipped."""
    from latentgraph.compare import registry

    X, _, labels = pair(2, 160, 6, 6)
    ids = np.arange(160)
    Y = X + 1e-3 * np.random.default_rng(0).normal(size=X.shape)  # nearly the same latents: distances near 0
    a = knn_table(X, 8, labels, ids, metric="l2", backend="numpy")
    b = knn_table(Y, 8, labels, ids, metric="l2", backend="numpy")
    names = ["spectral", "cka", "procrustes"]
    df = compare(a, b, [4, 8], names, xa=X, xb=Y, n_eigs=6, resamples=30, seed=0)
    for name in names:
        low, high = registry.get(name).range
        assert (df[f"{name}_lo"] >= low).all() and (df[f"{name}_hi"] <= high).all(), name
        assert (df[f"{name}_lo"] <= df[name]).all() and (df[name] <= df[f"{name}_hi"]).all(), name
