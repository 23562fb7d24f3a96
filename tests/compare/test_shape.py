"""Procrustes, the CCA family, RSA and RBF CKA, each against an independent computation: ReSi's
and Kornblith et al.'s formulas ported literally (cited per function), closed forms, and naive
N-space references (QR bases, all pairs)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.spatial.distance
import scipy.stats

from latentgraph.compare import shape as S
from latentgraph.utils import LatentGraphError


def pair(n=80, dx=5, dy=7, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dx)) * np.linspace(0.5, 3, dx) + 2.0
    Y = X @ rng.normal(size=(dx, dy)) + noise * rng.normal(size=(n, dy)) - 1.0
    return X, Y


# ---- ReSi (mklabunde/resi, repsim/measures/utils.py and procrustes.py), ported literally (numpy only)


def resi_adjust_dimensionality(R, Rp):  # utils.adjust_dimensionality, strategy="zero_pad"
    D, Dp = R.shape[1], Rp.shape[1]
    if D - Dp == 0:
        return R, Rp
    if D - Dp > 0:
        return R, np.concatenate((Rp, np.zeros((Rp.shape[0], D - Dp))), axis=1)
    return np.concatenate((R, np.zeros((R.shape[0], Dp - D))), axis=1), Rp


def resi_center_columns(R):  # utils.center_columns
    return R - R.mean(axis=0)[None, :]


def resi_normalize_matrix_norm(R):  # utils.normalize_matrix_norm
    return R / np.linalg.norm(R, ord="fro")


def resi_orthogonal_procrustes(R, Rp):  # procrustes.orthogonal_procrustes
    R, Rp = resi_adjust_dimensionality(R, Rp)
    nucnorm = scipy.linalg.orthogonal_procrustes(R, Rp)[1]
    squared_dist = -2 * nucnorm + np.linalg.norm(R, ord="fro") ** 2 + np.linalg.norm(Rp, ord="fro") ** 2
    return np.sqrt(max(squared_dist, 0))


def resi_orthogonal_angular_shape_metric(R, Rp):  # procrustes.orthogonal_angular_shape_metric
    R, Rp = resi_adjust_dimensionality(R, Rp)
    R, Rp = resi_normalize_matrix_norm(R), resi_normalize_matrix_norm(Rp)
    Qstar, nucnorm = scipy.linalg.orthogonal_procrustes(R, Rp)
    corr = np.trace(Qstar.T @ R.T @ Rp)
    return float(np.arccos(np.clip(corr, -1.0, 1.0)))


def test_procrustes_matches_resi():
    for seed, (dx, dy) in enumerate([(5, 7), (6, 6), (8, 3)]):
        X, Y = pair(dx=dx, dy=dy, seed=seed)
        Xc, Yc = resi_center_columns(X), resi_center_columns(Y)
        # orthogonal_procrustes_centered_and_normalized
        ref = resi_orthogonal_procrustes(resi_normalize_matrix_norm(Xc), resi_normalize_matrix_norm(Yc))
        assert S.procrustes(X, Y) == pytest.approx(ref, rel=1e-9)
        # procrustes_size_and_shape_distance
        assert S.procrustes_size_shape(X, Y) == pytest.approx(resi_orthogonal_procrustes(Xc, Yc), rel=1e-9)
        # orthogonal_angular_shape_metric_centered
        assert S.procrustes_angular(X, Y) == pytest.approx(resi_orthogonal_angular_shape_metric(Xc, Yc), rel=1e-9)


def test_procrustes_closed_forms():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    # a rotated, shifted, scaled copy: distance 0; size-and-shape: only the scale differs
    assert S.procrustes(X, 3 * X @ Q + 1) == pytest.approx(0, abs=1e-7)
    assert S.procrustes_angular(X, 3 * X @ Q + 1) == pytest.approx(0, abs=1e-7)
    Xc = X - X.mean(axis=0)
    assert S.procrustes_size_shape(X, 3 * X @ Q) == pytest.approx(2 * np.linalg.norm(Xc), rel=1e-9)
    # orthogonal subspaces: no shared shape, the largest distance sqrt(2) / angle pi/2
    Z = np.zeros((4, 2))
    A = np.array([[1.0, 0], [-1, 0], [0, 0], [0, 0]]) + Z
    B = np.array([[0.0, 0], [0, 0], [0, 1], [0, -1]])
    assert S.procrustes(A, B) == pytest.approx(np.sqrt(2))
    assert S.procrustes_angular(A, B) == pytest.approx(np.pi / 2)
    # d^2 = 2 - 2 cos(theta)
    X2, Y2 = pair(seed=4)
    assert S.procrustes(X2, Y2) ** 2 == pytest.approx(2 - 2 * np.cos(S.procrustes_angular(X2, Y2)))


# ---- CCA: a naive N-space reference (QR bases of the centred columns; Björck & Golub 1973)


def naive_cca(X, Y):
    Qx, _ = np.linalg.qr(X - X.mean(axis=0))
    Qy, _ = np.linalg.qr(Y - Y.mean(axis=0))
    U, s, Vt = np.linalg.svd(Qx.T @ Qy)
    return Qx, Qy, U, s, Vt


def test_canonical_correlations_match_qr_reference():
    for seed, (dx, dy) in enumerate([(5, 7), (4, 4), (9, 3)]):
        X, Y = pair(dx=dx, dy=dy, seed=seed, noise=2.0)
        s = naive_cca(X, Y)[3]
        np.testing.assert_allclose(S.canonical_correlations(X, Y), s, rtol=1e-8, atol=1e-10)
        assert S.mean_cca(X, Y) == pytest.approx(s.mean(), rel=1e-9)


def test_cca_drops_redundant_directions():
    X, Y = pair(dx=4, dy=4, seed=2, noise=1.0)
    Xr = np.concatenate([X, X[:, :2] + X[:, 2:]], axis=1)  # rank 4 in 6 columns
    assert S.canonical_correlations(Xr, Y).size == 4
    assert S.mean_cca(Xr, Y) == pytest.approx(S.mean_cca(X, Y), rel=1e-7)


def test_svcca_matches_pca_then_cca():
    X, Y = pair(n=120, dx=8, dy=6, seed=3, noise=1.0)
    X[:, 5:] *= 0.01  # small directions that SVCCA drops
    for thr in (0.99, 0.9, 1.0):
        red = []
        for M in (X, Y):
            Mc = M - M.mean(axis=0)
            U, s, Vt = np.linalg.svd(Mc, full_matrices=False)
            share = np.cumsum(s**2) / np.sum(s**2)
            keep = int(np.argmax(share >= thr - 1e-12)) + 1
            red.append(Mc @ Vt[:keep].T)
        assert S.svcca(X, Y, threshold=thr) == pytest.approx(naive_cca(*red)[3].mean(), rel=1e-8)
    with pytest.raises(LatentGraphError, match="threshold"):
        S.svcca(X, Y, threshold=0)


def test_pwcca_matches_the_papers_definition():
    for dx, dy in [(4, 6), (6, 4)]:
        X, Y = pair(n=100, dx=dx, dy=dy, seed=5, noise=1.5)
        Qx, Qy, U, s, Vt = naive_cca(X, Y)
        r = s.size
        if dx <= dy:  # the side with fewer neurons
            H, Z = Qx @ U[:, :r], X - X.mean(axis=0)  # canonical variates (unit norm), neurons
        else:
            H, Z = Qy @ Vt[:r].T, Y - Y.mean(axis=0)
        alpha = np.abs(H.T @ Z).sum(axis=1)  # Morcos et al. 2018: alpha_i = sum_j |<h_i, z_j>|
        assert S.pwcca(X, Y) == pytest.approx(np.sum(alpha * s) / alpha.sum(), rel=1e-8)


def test_cca_warns_when_n_is_too_small(caplog):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(10, 6)), rng.normal(size=(10, 6))
    with caplog.at_level("WARNING"):
        rho = S.canonical_correlations(X, Y)
    assert "exceed N - 1" in caplog.text
    assert np.sum(rho > 1 - 1e-8) >= 3  # 6 + 6 - 9 correlations are 1 by construction


# ---- RSA: ReSi's representational_similarity_analysis(inner="euclidean", outer="spearman"), ported


def resi_rsa_euclidean(R, Rp):  # rsa.representational_similarity_analysis, sklearn pairwise distances
    import sklearn.metrics

    S_ = scipy.spatial.distance.squareform(sklearn.metrics.pairwise_distances(R, metric="euclidean"), checks=False)
    Sp = scipy.spatial.distance.squareform(sklearn.metrics.pairwise_distances(Rp, metric="euclidean"), checks=False)
    return scipy.stats.spearmanr(S_, Sp).statistic


def test_rsa_matches_resi_and_a_loop():
    X, Y = pair(n=60, seed=6, noise=2.0)
    assert S.rsa(X, Y) == pytest.approx(resi_rsa_euclidean(X, Y), abs=1e-9)
    # a loop over pairs with explicit average ranks
    a = [np.linalg.norm(X[i] - X[j]) for i in range(60) for j in range(i + 1, 60)]
    b = [np.linalg.norm(Y[i] - Y[j]) for i in range(60) for j in range(i + 1, 60)]
    ra, rb = scipy.stats.rankdata(a), scipy.stats.rankdata(b)
    assert S.rsa(X, Y) == pytest.approx(np.corrcoef(ra, rb)[0, 1], abs=1e-9)


def test_rsa_sampled_pairs_estimate_the_exact_value():
    X, Y = pair(n=1500, dx=6, dy=6, seed=7, noise=3.0)
    exact = S.rsa(X, Y)
    ests = [S.rsa(X, Y, max_pairs=1000, n_pairs=100_000, seed=s) for s in range(3)]
    assert S.rsa(X, Y, max_pairs=1000, n_pairs=100_000, seed=0) == ests[0]  # seeded
    for e in ests:
        assert e == pytest.approx(exact, abs=0.01)  # standard deviation ~ 0.003 at 10^5 pairs
    assert len(set(ests)) == 3


def test_rsa_errors():
    with pytest.raises(LatentGraphError, match="distances of a representation are equal"):
        S.rsa(np.ones((5, 2)), np.arange(10.0).reshape(5, 2))
    with pytest.raises(LatentGraphError, match="same samples"):
        S.rsa(np.ones((5, 2)), np.ones((6, 2)))
    with pytest.raises(LatentGraphError, match="NaN"):
        S.rsa(np.full((5, 2), np.nan), np.ones((5, 2)))


# ---- RBF CKA: Kornblith et al. 2019's colab (google-research/google-research, representation_similarity),
#      gram_rbf and cka with its debiased option, ported literally


def kornblith_gram_rbf(x, threshold=1.0):
    dot_products = x.dot(x.T)
    sq_norms = np.diag(dot_products)
    sq_distances = -2 * dot_products + sq_norms[:, None] + sq_norms[None, :]
    sq_median_distance = np.median(sq_distances)
    return np.exp(-sq_distances / (2 * threshold**2 * sq_median_distance))


def kornblith_center_gram(gram, unbiased=False):
    gram = gram.copy()
    if unbiased:
        n = gram.shape[0]
        np.fill_diagonal(gram, 0)
        means = np.sum(gram, 0, dtype=np.float64) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        gram -= means[:, None]
        gram -= means[None, :]
        np.fill_diagonal(gram, 0)
    else:
        means = np.mean(gram, 0, dtype=np.float64)
        means -= np.mean(means) / 2
        gram -= means[:, None]
        gram -= means[None, :]
    return gram


def kornblith_cka(gram_x, gram_y, debiased=False):
    gram_x = kornblith_center_gram(gram_x, unbiased=debiased)
    gram_y = kornblith_center_gram(gram_y, unbiased=debiased)
    scaled_hsic = gram_x.ravel().dot(gram_y.ravel())
    return scaled_hsic / (np.linalg.norm(gram_x) * np.linalg.norm(gram_y))


def test_cka_rbf_matches_kornblith():
    X, Y = pair(n=70, seed=8, noise=1.0)
    for debiased in (True, False):
        for bw in (0.5, 1.0):
            gx, gy = kornblith_gram_rbf(X, bw), kornblith_gram_rbf(Y, bw)
            # the same widths as Kornblith's rule (median over all N^2 entries, diagonal zeros included)
            sx = bw * np.sqrt(np.median(scipy.spatial.distance.cdist(X, X, "sqeuclidean")))
            sy = bw * np.sqrt(np.median(scipy.spatial.distance.cdist(Y, Y, "sqeuclidean")))
            ours = S.cka_rbf(X, Y, sigma_x=sx, sigma_y=sy, debiased=debiased, block_rows=16)
            assert ours == pytest.approx(kornblith_cka(gx, gy, debiased=debiased), rel=1e-7)


def test_cka_rbf_bandwidth_rule_and_blocks():
    X, Y = pair(n=50, seed=9)
    med_x = np.median(scipy.spatial.distance.pdist(X, "sqeuclidean"))
    med_y = np.median(scipy.spatial.distance.pdist(Y, "sqeuclidean"))
    ref = S.cka_rbf(X, Y, sigma_x=0.8 * np.sqrt(med_x), sigma_y=0.8 * np.sqrt(med_y))
    assert S.cka_rbf(X, Y, bandwidth=0.8) == pytest.approx(ref, rel=1e-12)
    assert S.cka_rbf(X, Y, block_rows=7) == pytest.approx(S.cka_rbf(X, Y, block_rows=1000), rel=1e-10)
    assert S.median_sq_distance(X, max_pairs=10, n_pairs=200_000) == pytest.approx(med_x, rel=0.05)
    with pytest.raises(LatentGraphError, match="bandwidth"):
        S.cka_rbf(X, Y, bandwidth=0)
    with pytest.raises(LatentGraphError, match="no variance"):
        S.cka_rbf(np.ones((6, 2)), Y[:6])


def test_errors_name_the_measure():
    with pytest.raises(LatentGraphError, match=r"^procrustes is undefined"):
        S.procrustes(np.ones((5, 2)), np.eye(5)[:, :2])
    with pytest.raises(LatentGraphError, match=r"^cca is undefined"):
        S.canonical_correlations(np.ones((5, 2)), np.eye(5)[:, :2])
    with pytest.raises(LatentGraphError, match=r"^pwcca needs two 2-D"):
        S.pwcca(np.ones(5), np.ones((5, 2)))
