"""CKNNA, kNN rank similarity and second-order cosine similarity against independent
computations: ReSi's nearest_neighbor.py and Huh et al.'s metrics.cknna ported literally
(dense N x N, scikit-learn neighbours), and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.spatial.distance
import sklearn.metrics
import sklearn.neighbors

from latentgraph.compare import neighbours as NB
from latentgraph.utils import LatentGraphError


def pair(n=70, dx=5, dy=6, seed=0, noise=0.7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dx)) + 0.5
    Y = X @ rng.normal(size=(dx, dy)) + noise * rng.normal(size=(n, dy))
    return X, Y


# ---- ReSi (mklabunde/resi, repsim/measures/nearest_neighbor.py), ported literally


def resi_top_k_neighbors(R, k, inner="cosine"):
    nns = sklearn.neighbors.NearestNeighbors(n_neighbors=k + 1, metric=inner)
    nns.fit(R)
    _, nns = nns.kneighbors(R)
    return nns[:, 1:]


def resi_rank_sim_i(joint_nns_i, nns_Ri, nns_Rpi):
    if not joint_nns_i:
        return 0
    normalization = sum(1 / k for k in range(1, len(joint_nns_i) + 1))
    score = 0
    for j in joint_nns_i:
        rankj_R = np.argwhere(nns_Ri == j)[0][0] + 1
        rankj_Rp = np.argwhere(nns_Rpi == j)[0][0] + 1
        ranksim_score = 1 + abs(rankj_R - rankj_Rp)
        score_weight = rankj_R + rankj_Rp
        score += 2 / (ranksim_score * score_weight)
    return score / normalization


def resi_rank_similarity(R, Rp, k):
    nns_R = resi_top_k_neighbors(R, k)
    nns_Rp = resi_top_k_neighbors(Rp, k)
    nns_of_both = [list(set(a).intersection(set(b))) for a, b in zip(nns_R, nns_Rp, strict=True)]
    scores = np.zeros(R.shape[0])
    for i, nns_i in enumerate(nns_of_both):
        scores[i] = resi_rank_sim_i(nns_i, nns_R[i], nns_Rp[i])
    return float(np.mean(scores))


def resi_second_order_cosine_similarity(R, Rp, k):
    nns_R = resi_top_k_neighbors(R, k)
    nns_Rp = resi_top_k_neighbors(Rp, k)
    union_nns = [list(set(a).union(set(b))) for a, b in zip(nns_R, nns_Rp, strict=True)]
    dists_R = sklearn.metrics.pairwise_distances(R, metric="cosine")
    dists_Rp = sklearn.metrics.pairwise_distances(Rp, metric="cosine")
    return float(np.mean([1 - scipy.spatial.distance.cosine(dists_R[i, u], dists_Rp[i, u])
                          for i, u in enumerate(union_nns)]))


# ---- Huh et al. 2024 (minyoungg/platonic-rep, metrics.py: cknna, hsic_unbiased), ported to numpy


def huh_hsic_unbiased(K, L):
    m = K.shape[0]
    K_tilde = K.copy()
    np.fill_diagonal(K_tilde, 0)
    L_tilde = L.copy()
    np.fill_diagonal(L_tilde, 0)
    value = (np.sum(K_tilde * L_tilde.T) + np.sum(K_tilde) * np.sum(L_tilde) / ((m - 1) * (m - 2))
             - 2 * np.sum(K_tilde @ L_tilde) / (m - 2))
    return value / (m * (m - 3))


def huh_cknna(feats_A, feats_B, topk):
    n = feats_A.shape[0]
    K = feats_A @ feats_A.T
    L = feats_B @ feats_B.T

    def similarity(K, L, topk):
        K_hat, L_hat = K.copy(), L.copy()
        np.fill_diagonal(K_hat, -np.inf)
        np.fill_diagonal(L_hat, -np.inf)
        topk_K = np.argsort(-K_hat, axis=1, kind="stable")[:, :topk]
        topk_L = np.argsort(-L_hat, axis=1, kind="stable")[:, :topk]
        mask_K = np.zeros((n, n))
        np.put_along_axis(mask_K, topk_K, 1, axis=1)
        mask_L = np.zeros((n, n))
        np.put_along_axis(mask_L, topk_L, 1, axis=1)
        mask = mask_K * mask_L
        return huh_hsic_unbiased(mask * K, mask * L)

    # without the +1e-6 of the original's denominator (see latentgraph.compare.neighbours.cknna)
    return similarity(K, L, topk) / np.sqrt(similarity(K, K, topk) * similarity(L, L, topk))


def unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.mark.parametrize("k", [1, 4, 10])
def test_rank_similarity_matches_resi(k):
    X, Y = pair(seed=k)
    assert NB.knn_rank_similarity(X, Y, k) == pytest.approx(resi_rank_similarity(X, Y, k), abs=1e-12)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_second_order_cosine_matches_resi(k):
    X, Y = pair(seed=10 + k)
    assert NB.second_order_cosine(X, Y, k) == pytest.approx(resi_second_order_cosine_similarity(X, Y, k), abs=1e-9)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_cknna_matches_huh(k):
    X, Y = pair(seed=20 + k, noise=1.5)
    assert NB.cknna(X, Y, k) == pytest.approx(huh_cknna(unit(X), unit(Y), k), rel=1e-9)


def test_rank_similarity_closed_forms():
    # identical tables: 1; shared neighbour at ranks (1, 2) alone: 2 / (2 * 3) / H_1 = 1/3
    t = np.array([[1, 2], [0, 2], [0, 1]])
    np.testing.assert_allclose(NB.rank_similarity_tables(t, t), 1.0)
    a = np.array([[1, 2]])
    b = np.array([[3, 1]])
    assert NB.rank_similarity_tables(a, b)[0] == pytest.approx(1 / 3)
    # reversed order of the same two: 2 * 2/((1 + 1)(1 + 2)) / (1 + 1/2) = 4/9
    assert NB.rank_similarity_tables(np.array([[1, 2]]), np.array([[2, 1]]))[0] == pytest.approx(4 / 9)
    assert NB.rank_similarity_tables(np.array([[1, 2]]), np.array([[3, 4]]))[0] == 0.0


def test_neighbour_pair_reuses_tables_under_shuffles():
    X, Y = pair(n=50, seed=3)
    pairs = NB.NeighbourPair(X, Y, 8)
    perm = np.random.default_rng(0).permutation(50)
    for name, fn in (("cknna", NB.cknna), ("rank_sim", NB.knn_rank_similarity),
                     ("second_order_cos", NB.second_order_cosine)):
        for k in (3, 8):
            assert pairs.value(name, k) == pytest.approx(fn(X, Y, k), rel=1e-12)
            assert pairs.value(name, k, perm) == pytest.approx(fn(X, Y[perm], k), rel=1e-9)
    with pytest.raises(LatentGraphError, match="outside"):
        pairs.value("cknna", 9)
    with pytest.raises(LatentGraphError, match="unknown nearest-neighbour measure"):
        pairs.value("jaccard", 3)


def test_errors():
    X, Y = pair(n=20)
    with pytest.raises(LatentGraphError, match="need 1 <= k < N"):
        NB.cknna(X, Y, 20)
    Z = X.copy()
    Z[3] = 0
    with pytest.raises(LatentGraphError, match="all zeros"):
        NB.knn_rank_similarity(Z, Y, 3)
    with pytest.raises(LatentGraphError, match="same samples"):
        NB.second_order_cosine(X, Y[:10], 3)
