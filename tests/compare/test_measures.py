"""Measures beyond the thesis, each against an independent computation: brute-force loops,
closed forms, dense eigensolvers, the U-statistic definition of the debiased HSIC; and
their invariances."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

import latentgraph.compare.measures as M
from latentgraph.compare.similarity import cns, compare_tables, jaccard
from latentgraph.graphs.knn import KnnTable, adjacency, knn, knn_table
from latentgraph.utils import LatentGraphError

# --------------------------------------------------------------------------- helpers


def clustered(n=120, d=6, classes=4, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    centres = rng.normal(size=(classes, d)) * 2
    X = centres[labels] + noise * rng.normal(size=(n, d))
    return X.astype(np.float32), labels


def brute_hsic_u(K, L):
    """The debiased HSIC as the U-statistic over ordered distinct 4-tuples (Song et al.
    2012, Theorem 2): the mean of k_ij l_ij + k_ij l_qr - 2 k_ij l_iq."""
    n = K.shape[0]
    total, count = 0.0, 0
    for i, j, q, r in itertools.permutations(range(n), 4):
        total += K[i, j] * L[i, j] + K[i, j] * L[q, r] - 2 * K[i, j] * L[i, q]
        count += 1
    return total / count


def brute_cka(X, Y, debiased):
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    K, L = X @ X.T, Y @ Y.T
    if debiased:
        return brute_hsic_u(K, L) / math.sqrt(brute_hsic_u(K, K) * brute_hsic_u(L, L))
    n = K.shape[0]
    H = np.eye(n) - 1.0 / n
    hs = lambda A, B: np.trace(A @ H @ B @ H)  # noqa: E731
    return hs(K, L) / math.sqrt(hs(K, K) * hs(L, L))


def dense_laplacian_eigs(A, normalized=True):
    A = np.asarray(A, dtype=np.float64)
    A = ((A + A.T) > 0).astype(np.float64)
    np.fill_diagonal(A, 0)
    deg = A.sum(1)
    if normalized:
        di = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1)), 0)
        L = np.diag((deg > 0).astype(float)) - di[:, None] * A * di[None, :]
    else:
        L = np.diag(deg) - A
    return np.sort(np.linalg.eigvalsh(L))


# --------------------------------------------------------------------------- mutual kNN


def test_mutual_knn_against_a_loop_and_closed_cases():
    X, _ = clustered(90, seed=1)
    Y = X + 0.5 * np.random.default_rng(2).normal(size=X.shape).astype(np.float32)
    ia, _ = knn(X, 10, backend="numpy")
    ib, _ = knn(Y, 10, backend="numpy")
    for k in (1, 3, 10):
        loop = np.mean([len(set(ia[i, :k]) & set(ib[i, :k])) / k for i in range(90)])
        assert M.mutual_knn(ia, ib, k) == pytest.approx(loop, abs=1e-15)
        assert M.mutual_knn(ib, ia, k) == pytest.approx(loop, abs=1e-15)  # symmetric
    assert M.mutual_knn(ia, ia, 5) == 1.0
    # relation to the directed Jaccard similarity: J = m / (2k - m) per vertex
    m = M.mutual_knn_per_vertex(ia, ib, 4) * 4
    from latentgraph.compare.similarity import jaccard_per_vertex

    Ja = jaccard_per_vertex(adjacency(ia, 4, directed=True), adjacency(ib, 4, directed=True))
    np.testing.assert_allclose(Ja, m / (8 - m))
    with pytest.raises(LatentGraphError, match="exceeds the 10 neighbours"):
        M.mutual_knn(ia, ib, 11)
    with pytest.raises(LatentGraphError, match="twice in one row"):
        M.mutual_knn(np.array([[1, 1], [0, 2], [0, 1]]), np.array([[1, 2], [0, 2], [0, 1]]))


# --------------------------------------------------------------------------- symmetric CNS


def test_cns_symmetric_both_directions():
    X, labels = clustered(80, seed=3)
    Y = X[::-1].copy()  # another geometry over the same vertices
    A = adjacency(knn(X, 5, backend="numpy")[0], k=5)
    B = adjacency(knn(Y, 2, backend="numpy")[0], k=2)
    ab, ba, mean = M.cns_symmetric(A, B, labels)
    assert ab == cns(A, B, labels) and ba == cns(B, A, labels) and mean == pytest.approx((ab + ba) / 2)
    assert ab != pytest.approx(ba)  # asymmetric when the degrees differ
    # brute force: multiset intersections per vertex
    def loop(G, H):
        vals = []
        for v in range(80):
            ya = Counter(labels[G.indices[G.indptr[v] : G.indptr[v + 1]]].tolist())
            yb = Counter(labels[H.indices[H.indptr[v] : H.indptr[v + 1]]].tolist())
            vals.append(sum((ya & yb).values()) / sum(ya.values()))
        return np.mean(vals)

    assert ab == pytest.approx(loop(A, B)) and ba == pytest.approx(loop(B, A))


# --------------------------------------------------------------------------- CKA


@pytest.mark.parametrize("debiased", [True, False])
@pytest.mark.parametrize("method", ["features", "gram"])
def test_cka_against_brute_force(debiased, method):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(9, 4)) + 5.0  # a large mean: centring must not change the estimator
    Y = X @ rng.normal(size=(4, 3)) + 0.7 * rng.normal(size=(9, 3)) - 2.0
    got = M.cka_linear(X, Y, debiased=debiased, method=method, block_rows=4)
    assert got == pytest.approx(brute_cka(X, Y, debiased), rel=1e-10, abs=1e-12)


def test_cka_feature_and_gram_forms_agree_blockwise():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 20)).astype(np.float32) + 3
    Y = np.tanh(X @ rng.normal(size=(20, 7))).astype(np.float32)
    for debiased in (True, False):
        ref = M.cka_linear(X, Y, debiased=debiased, method="gram")
        for rows in (1, 7, 64, 4096):
            assert M.cka_linear(X, Y, debiased=debiased, method="features", block_rows=rows) == pytest.approx(
                ref, rel=1e-9)


def test_cka_invariances():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 12))
    Y = X[:, :8] @ rng.normal(size=(8, 10)) + rng.normal(size=(200, 10))
    Q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    perm = rng.permutation(200)
    for debiased in (True, False):
        ref = M.cka_linear(X, Y, debiased=debiased)
        assert M.cka_linear(X @ Q, Y, debiased=debiased) == pytest.approx(ref, rel=1e-9)  # orthogonal
        assert M.cka_linear(3.7 * X, 0.01 * Y, debiased=debiased) == pytest.approx(ref, rel=1e-9)  # isotropic scale
        assert M.cka_linear(X + 100, Y - 3, debiased=debiased) == pytest.approx(ref, rel=1e-8)  # translation
        assert M.cka_linear(X[perm], Y[perm], debiased=debiased) == pytest.approx(ref, rel=1e-9)  # samples
        assert M.cka_linear(Y, X, debiased=debiased) == pytest.approx(ref, rel=1e-9)  # symmetric
        assert M.cka_linear(X, X, debiased=debiased) == pytest.approx(1.0)
    # not invariant to an anisotropic scaling (CKA is not a CCA)
    S = np.diag(np.linspace(0.1, 10, 12))
    assert abs(M.cka_linear(X @ S, Y) - M.cka_linear(X, Y)) > 1e-3


def test_debiased_cka_is_near_zero_for_independent_representations():
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(400, 64)), rng.normal(size=(400, 64))
    assert abs(M.cka_linear(X, Y)) < 0.02
    assert M.cka_linear(X, Y, debiased=False) > 0.1  # the biased estimator is far from 0 here


def test_cka_errors_and_memory_form():
    with pytest.raises(LatentGraphError, match="same samples"):
        M.cka_linear(np.zeros((5, 2)), np.zeros((6, 2)))
    with pytest.raises(LatentGraphError, match="at least 4"):
        M.cka_linear(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(LatentGraphError, match="first representation has no variance"):
        M.cka_linear(np.ones((10, 2)), np.random.default_rng(0).normal(size=(10, 2)))
    with pytest.raises(LatentGraphError, match="second representation has no variance"):
        M.cka_linear(np.random.default_rng(0).normal(size=(10, 2)), np.ones((10, 2)), debiased=False)
    with pytest.raises(LatentGraphError, match="NaN"):
        M.cka_linear(np.full((10, 2), np.nan), np.ones((10, 2)))
    # auto: feature space whenever d^2 terms are smaller than N^2 (never an N x N kernel then)
    X = np.random.default_rng(0).normal(size=(500, 8))
    assert M.LinearCKA(X, X).method == "features"
    assert M.LinearCKA(X[:10], X[:10]).method == "gram"  # 10^2 < 3 * 8^2
    # the kernel form sums its N x N products in row blocks: any block size, same value
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(37, 50)), rng.normal(size=(37, 40))
    ref = M.LinearCKA(A, B, method="features")
    for elems in (1, 37, 100, 1 << 23):
        got = M._gram_parts(ref.a.X - ref.a.mean, ref.b.X - ref.b.mean, None, block_elems=elems)
        assert got == pytest.approx(M._gram_parts(ref.a.X - ref.a.mean, ref.b.X - ref.b.mean, None))
    assert M.LinearCKA(A, B, method="gram").value() == pytest.approx(ref.value(), rel=1e-10)
    perm = rng.permutation(37)
    assert M.LinearCKA(A, B, method="gram").value(perm) == pytest.approx(ref.value(perm), rel=1e-10)
    assert M.LinearCKA(A, B).method == "gram"


# --------------------------------------------------------------------------- spectra


def cycle(n):
    i = np.arange(n)
    return sp.csr_array((np.ones(n), (i, (i + 1) % n)), shape=(n, n))


def test_laplacian_spectrum_closed_forms():
    n = 12
    full = sp.csr_array(np.ones((n, n)) - np.eye(n))
    np.testing.assert_allclose(M.laplacian_spectrum(full, n), [0] + [n / (n - 1)] * (n - 1), atol=1e-12)
    j = np.arange(n)
    np.testing.assert_allclose(M.laplacian_spectrum(cycle(n), n), np.sort(1 - np.cos(2 * np.pi * j / n)), atol=1e-12)
    np.testing.assert_allclose(M.laplacian_spectrum(cycle(n), n, normalized=False),
                               np.sort(2 - 2 * np.cos(2 * np.pi * j / n)), atol=1e-12)


def test_laplacian_spectrum_against_dense_eigvalsh_with_components(monkeypatch):
    rng = np.random.default_rng(8)
    # three clusters far apart -> a kNN graph with several components, plus a directed table
    X = np.concatenate([rng.normal(size=(150, 3)), rng.normal(size=(60, 3)) + 50, rng.normal(size=(5, 3)) - 80])
    idx, _ = knn(X.astype(np.float32), 4, backend="numpy")
    A = adjacency(idx, k=4).toarray()
    for normalized in (True, False):
        ref = dense_laplacian_eigs(A, normalized)
        assert np.sum(ref < 1e-9) == 3
        np.testing.assert_allclose(M.laplacian_spectrum(idx, 30, normalized, k=4), ref[:30], atol=1e-9)
        # the Lanczos path for components larger than DENSE_MAX gives the same values
        monkeypatch.setattr(M, "DENSE_MAX", 40)
        np.testing.assert_allclose(M.laplacian_spectrum(idx, 30, normalized, k=4), ref[:30], atol=1e-8)
        monkeypatch.setattr(M, "DENSE_MAX", 1500)
    got = M.laplacian_spectrum(idx, 30, k=4)
    assert np.all(got[:3] == 0.0) and got[3] > 0  # exact zeros, one per component
    # isolated vertices are components of their own
    iso = sp.csr_array((np.ones(2), ([0, 1], [1, 0])), shape=(4, 4))
    np.testing.assert_allclose(M.laplacian_spectrum(iso, 4), [0, 0, 0, 2], atol=1e-12)


def test_spectral_distance():
    X, _ = clustered(100, seed=9)
    t = knn_table(X, 8, np.zeros(100, dtype=np.int64), backend="numpy")
    u = knn_table(X + np.random.default_rng(1).normal(size=X.shape).astype(np.float32), 8,
                  np.zeros(100, dtype=np.int64), backend="numpy")
    d = M.spectral_distance(t, u, 10, k=4)
    sa, sb = M.laplacian_spectrum(t, 10, k=4), M.laplacian_spectrum(u, 10, k=4)
    assert d == pytest.approx(np.sqrt(np.sum((sa - sb) ** 2))) and d > 0
    assert M.spectral_distance(t, t, 10, k=4) == 0.0
    # relabelling the vertices changes nothing: the spectrum ignores correspondence
    perm = np.random.default_rng(2).permutation(100)
    assert M.spectral_distance(t, M.permute_table(t, perm), 10, k=4) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(LatentGraphError, match="exceeds the number of vertices"):
        M.laplacian_spectrum(t, 101, k=4)


# --------------------------------------------------------------------------- hubness


def test_hubness_against_a_loop_and_scipy():
    X, _ = clustered(300, d=40, seed=10, noise=3.0)  # high-dimensional: hubs appear
    idx, _ = knn(X, 10, backend="numpy")
    for k in (1, 5, 10):
        occ = Counter(idx[:, :k].reshape(-1).tolist())
        counts = np.array([occ.get(i, 0) for i in range(300)])
        h = M.hubness(idx, k)
        assert h["skewness"] == pytest.approx(stats.skew(counts, bias=True))
        assert h["hub_fraction"] == np.mean(counts > 2 * k)
        assert h["antihub_fraction"] == np.mean(counts == 0)
        assert h["max_occurrence"] == counts.max() and counts.mean() == k
    np.testing.assert_array_equal(M.k_occurrence(idx, 3), np.bincount(idx[:, :3].ravel(), minlength=300))


def test_hubness_null_is_the_binomial_random_k_out_graph():
    n, k = 200, 5
    h = M.hubness_null(n, k)
    m, p = n - 1, k / (n - 1)
    assert h["skewness"] == pytest.approx(float(stats.binom.stats(m, p, moments="s")))
    assert h["antihub_fraction"] == pytest.approx(stats.binom.pmf(0, m, p))
    assert h["hub_fraction"] == pytest.approx(1 - stats.binom.cdf(2 * k, m, p))
    # Monte Carlo: random k-out graphs
    rng = np.random.default_rng(11)
    sk = []
    for _ in range(200):
        t = np.argsort(rng.random((n, n - 1)), axis=1)[:, :k]
        t += t >= np.arange(n)[:, None]
        sk.append(M.hubness(t, k)["skewness"])
    assert np.mean(sk) == pytest.approx(h["skewness"], abs=0.05)


# --------------------------------------------------------------------------- permutation null


def test_permutation_null_of_mutual_knn_is_k_over_n_minus_1():
    X, labels = clustered(150, seed=12)
    a = knn_table(X, 6, labels, backend="numpy")
    b = knn_table(X + 0.3 * np.random.default_rng(3).normal(size=X.shape).astype(np.float32), 6, labels,
                  backend="numpy")
    null = M.permutation_null(lambda s, t: M.mutual_knn(s, t, 6), a, b, n_perm=200, seed=1)
    assert null.values.shape == (200,)
    assert null.mean == pytest.approx(6 / 149, rel=0.08)  # E|N_A ∩ random k-set| = k^2 / (N - 1)
    assert M.mutual_knn(a, b, 6) > null.mean + 10 * null.std
    # seeded: the same seed gives the same values, another seed others
    again = M.permutation_null(lambda s, t: M.mutual_knn(s, t, 6), a, b, n_perm=200, seed=1)
    np.testing.assert_array_equal(null.values, again.values)
    other = M.permutation_null(lambda s, t: M.mutual_knn(s, t, 6), a, b, n_perm=200, seed=2)
    assert not np.array_equal(null.values, other.values)
    # latents: rows shuffled; sparse adjacencies: P B P^T
    cnull = M.permutation_null(M.cka_linear, X, X, n_perm=20, seed=0)
    assert abs(cnull.mean) < 0.05
    A = a.adjacency(6)
    jn = M.permutation_null(jaccard, A, A, 5, 0)
    assert jn.mean < 0.2


def test_permute_table_moves_neighbourhoods():
    X, labels = clustered(50, seed=13)
    t = knn_table(X, 4, labels, backend="numpy")
    perm = np.random.default_rng(0).permutation(50)
    p = M.permute_table(t, perm)
    # the relabelled graph is P A P^T, and relabelling back recovers the table
    A, B = t.adjacency(4, directed=True).toarray(), p.adjacency(4, directed=True).toarray()
    np.testing.assert_array_equal(B, A[np.ix_(perm, perm)])
    inv = np.argsort(perm)
    np.testing.assert_array_equal(M.permute_table(p, inv).indices, t.indices)


# --------------------------------------------------------------------------- compare


@pytest.fixture
def pair():
    X, labels = clustered(140, d=8, seed=14)
    rng = np.random.default_rng(15)
    Y = np.tanh(X @ rng.normal(size=(8, 6))).astype(np.float32) + 0.2 * rng.normal(size=(140, 6)).astype(np.float32)
    ids = np.arange(140) * 7 + 3
    return X, Y, labels, ids


def test_compare_matches_the_single_measures(pair):
    X, Y, labels, ids = pair
    a = knn_table(X, 8, labels, ids, backend="numpy")
    b = knn_table(Y, 8, labels, ids, backend="numpy")
    df = M.compare(a, b, [2, 8], M.MEASURES, xa=X, xb=Y, n_eigs=6)
    assert list(df.columns) == ["k", *M.columns(M.MEASURES)]
    base = compare_tables(a, b, [2, 8])
    pd.testing.assert_frame_equal(df[["k", "jaccard", "cns"]], base)  # the thesis's columns, identical
    for _, r in df.iterrows():
        k = int(r["k"])
        A, B = a.adjacency(k), b.adjacency(k)
        assert r["cns_ba"] == cns(B, A, labels) and r["cns_sym"] == pytest.approx((r["cns"] + r["cns_ba"]) / 2)
        assert r["mutual_knn"] == M.mutual_knn(a, b, k)
        assert r["spectral"] == pytest.approx(M.spectral_distance(a, b, 6, k=k))
        assert r["hub_skew_a"] == M.hubness(a, k)["skewness"] and r["antihub_frac_b"] == M.hubness(b, k)[
            "antihub_fraction"]
        assert r["cka"] == pytest.approx(M.cka_linear(X, Y))
    # the default is the thesis's table
    assert list(M.compare(a, b, [2]).columns) == ["k", "jaccard", "cns"]


def test_compare_is_invariant_to_a_common_permutation_of_the_samples(pair):
    X, Y, labels, ids = pair
    perm = np.random.default_rng(16).permutation(140)
    a = knn_table(X, 6, labels, ids, backend="numpy")
    b = knn_table(Y, 6, labels, ids, backend="numpy")
    ap = knn_table(X[perm], 6, labels[perm], ids[perm], backend="numpy")
    bp = knn_table(Y[perm], 6, labels[perm], ids[perm], backend="numpy")
    ms = [m for m in M.MEASURES if m != "hubness"] + ["hubness"]
    ref = M.compare(a, b, [3, 6], ms, xa=X, xb=Y, n_eigs=5)
    pd.testing.assert_frame_equal(M.compare(ap, bp, [3, 6], ms, xa=X[perm], xb=Y[perm], n_eigs=5), ref,
                                  rtol=1e-9)
    # B given in another row order (matched by sample id) changes nothing either
    pd.testing.assert_frame_equal(M.compare(a, bp, [3, 6], ms, xa=X, xb=Y[perm], n_eigs=5), ref, rtol=1e-9)


def test_compare_null_columns(pair):
    X, Y, labels, ids = pair
    a = knn_table(X, 6, labels, ids, backend="numpy")
    b = knn_table(Y, 6, labels, ids, backend="numpy")
    df = M.compare(a, b, [2, 6], M.MEASURES, xa=X, xb=Y, n_eigs=5, n_perm=12, seed=3)
    assert list(df.columns) == ["k", *M.columns(M.MEASURES, null=True)]
    # the null of each graph measure is permutation_null with the same seed
    for i, k in enumerate([2, 6]):
        nul = M.permutation_null(lambda s, t, k=k: M.mutual_knn(s, t, k), a, b, 12, seed=3)
        assert df["mutual_knn_null"][i] == pytest.approx(nul.mean) and df["mutual_knn_null_std"][i] == pytest.approx(
            nul.std)
    cn = M.permutation_null(M.cka_linear, X, Y, 12, seed=3)
    assert df["cka_null"][0] == pytest.approx(cn.mean) and df["cka_null_std"][0] == pytest.approx(cn.std)
    assert (df["spectral_null"] == df["spectral"]).all() and (df["spectral_null_std"] == 0).all()
    assert (df["jaccard"] > df["jaccard_null"] + 3 * df["jaccard_null_std"]).all()
    assert df["hub_skew_null"][0] == pytest.approx(M.hubness_null(140, 2)["skewness"])


def test_compare_errors(pair):
    X, Y, labels, ids = pair
    a = knn_table(X, 4, labels, ids, backend="numpy")
    with pytest.raises(LatentGraphError, match="unknown measure"):
        M.compare(a, a, [2], ["jaccard", "no_such_measure"])
    with pytest.raises(LatentGraphError, match="needs the latents"):
        M.compare(a, a, [2], ["cka"])
    with pytest.raises(LatentGraphError, match="exceeds the 4 neighbours"):
        M.compare(a, a, [5])
    assert isinstance(a, KnnTable)
