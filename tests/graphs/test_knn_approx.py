"""Tests of latentgraph.graphs.knn_approx: approximate kNN (FAISS IVF, HNSW) labelled with measured recall."""

from __future__ import annotations

import re

import numpy as np
import pytest

from latentgraph.graphs.knn import knn, knn_table
from latentgraph.graphs.knn_approx import (
    approximate_knn,
    build_knn_table,
    check_method,
    exact_rows,
    measure_recall,
    method_label,
    recall_at_k,
    recall_queries_sample,
)
from latentgraph.io import read_knn, write_knn
from latentgraph.utils import LatentGraphError

pytest.importorskip("faiss")

N, D, K = 1500, 24, 8


@pytest.fixture(scope="module")
def data():
    """Clustered latents (20 clusters) with labels."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 20, N)
    centres = rng.normal(size=(20, D)) * 2
    X = (centres[labels] + rng.normal(size=(N, D))).astype(np.float32)
    return X, labels


def brute(X, k, metric="l1"):
    """Exact kNN by a full float64 distance matrix, ties by index."""
    X64 = X.astype(np.float64)
    diff = X64[:, None, :] - X64[None, :, :]
    Dm = np.abs(diff).sum(2) if metric == "l1" else np.sqrt((diff**2).sum(2))
    np.fill_diagonal(Dm, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(X)), Dm.shape), Dm), axis=1)[:, :k]
    return order


def test_recall_at_k_against_brute_force():
    """recall = mean |approx ∩ exact| / k, counted by hand on a tiny table."""
    exact = np.array([[1, 2, 3], [0, 2, 3]])
    approx = np.array([[2, 1, 9], [7, 8, 9]])
    r = recall_at_k(approx, exact, [1, 2, 3])
    assert r[1] == pytest.approx((0 + 0) / 2)  # first columns 2 vs 1, 7 vs 0
    assert r[2] == pytest.approx((2 + 0) / 4)
    assert r[3] == pytest.approx((2 + 0) / 6)
    with pytest.raises(LatentGraphError, match="outside"):
        recall_at_k(approx, exact, [4])


@pytest.mark.parametrize("method", ["ivf", "hnsw"])
def test_measured_recall_is_the_true_recall(data, method):
    """The recall of the table, measured on all rows, equals recall against brute force; distances are exact."""
    X, _ = data
    idx, dist, info = approximate_knn(X, K, method=method, params={"nprobe": 2} if method == "ivf" else {"efSearch": 10, "M": 4})
    truth = brute(X, K)
    true_recall = recall_at_k(idx, truth)[K]
    rep = measure_recall(X, idx, queries=N, ks=[K])
    assert rep.queries == N and rep.at(K) == pytest.approx(true_recall)
    assert 0.2 < true_recall < 1.0  # these parameters do lose neighbours: the measurement can fail
    # the query itself never a neighbour; distances exact and sorted
    assert not (idx == np.arange(N)[:, None]).any()
    exact_d = np.abs(X.astype(np.float64)[:, None, :] - X.astype(np.float64)[idx]).sum(2)
    np.testing.assert_array_equal(dist, exact_d)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_sampled_recall_is_close_and_seeded(data):
    """A seeded sample of queries: same seed, same rows; estimate near the full recall."""
    X, _ = data
    idx, _, _ = approximate_knn(X, K, method="hnsw", params={"efSearch": 10, "M": 4})
    full = recall_at_k(idx, brute(X, K))[K]
    a = measure_recall(X, idx, queries=400, seed=5)
    b = measure_recall(X, idx, queries=400, seed=5)
    assert a.recall == b.recall and a.queries == 400
    assert abs(a.at(K) - full) < 0.05
    np.testing.assert_array_equal(recall_queries_sample(N, 400, 5), recall_queries_sample(N, 400, 5))
    assert not np.array_equal(recall_queries_sample(N, 400, 5), recall_queries_sample(N, 400, 6))


def test_exact_rows_equal_exact_table(data):
    X, _ = data
    rows = np.arange(0, N, 13)
    idx, _ = knn(X, K, backend="numpy")
    np.testing.assert_array_equal(exact_rows(X, rows, K)[0], idx[rows])


def test_exact_method_unchanged(data):
    """method exact is knn_table itself: same neighbours, same metadata (no method keys)."""
    X, labels = data
    a = knn_table(X, K, labels, backend="numpy", metadata={"run": "A"})
    b = build_knn_table(X, K, labels, method="exact", backend="numpy", metadata={"run": "A"}, min_recall=0.99)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.distances, b.distances)
    assert a.metadata == b.metadata and "method" not in b.metadata
    assert method_label(b.metadata) == "exact"


@pytest.mark.parametrize("method", ["ivf", "hnsw"])
def test_deterministic(data, method, tmp_path):
    """Same input, parameters and seed -> the same file bytes, whatever the thread count."""
    X, labels = data
    paths = []
    for i, threads in enumerate((1, 2)):
        t = build_knn_table(X, K, labels, method=method, recall_queries=300, threads=threads)
        paths.append(write_knn(tmp_path / f"{i}.parquet", t))
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_metadata_written_and_read(data, tmp_path):
    X, labels = data
    t = build_knn_table(X, K, labels, method="hnsw", params={"M": 8}, recall_queries=300, recall_ks=[4, 8],
                        min_recall=0.5, seed=2)
    path = write_knn(tmp_path / "g.parquet", t)
    meta = read_knn(path).metadata
    assert meta["method"] == "hnsw"
    assert meta["method_params"] == {"M": 8, "efConstruction": 80, "efSearch": 64}
    assert meta["recall_queries"] == 300 and meta["recall_seed"] == 2 and meta["min_recall"] == 0.5
    assert set(meta["recall_by_k"]) == {"4", "8"} and meta["recall_at_k"] == meta["recall_by_k"]["8"]
    assert 0.5 <= meta["recall_at_k"] <= 1.0
    assert method_label(meta).startswith("hnsw (recall@8 = ")


def test_min_recall_unmet_fails_and_writes_nothing(data, tmp_path):
    """knn.min_recall above the measured recall: a message naming key, recall and method; no file."""
    X, labels = data
    out = tmp_path / "g.parquet"
    with pytest.raises(LatentGraphError, match=r"knn.min_recall = 0.999 not met: knn.method 'ivf' .*recall@8 = 0\.\d+"):
        t = build_knn_table(X, K, labels, method="ivf", params={"nprobe": 1}, min_recall=0.999)
        write_knn(out, t)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_bad_method_and_params():
    with pytest.raises(LatentGraphError, match="unknown knn.method 'annoy'"):
        check_method("annoy")
    with pytest.raises(LatentGraphError, match=r"unknown knn.hnsw parameter\(s\) \['nprobe'\]"):
        check_method("hnsw", {"nprobe": 3})
    with pytest.raises(LatentGraphError, match="knn.ivf.nprobe must be an integer >= 1"):
        check_method("ivf", {"nprobe": 0})
    assert check_method("ivf", {"nlist": None}) == {"nlist": None, "nprobe": 16}
    assert check_method("exact") == {}


def test_l2_metric(data):
    X, _ = data
    idx, dist, _ = approximate_knn(X[:400], 4, metric="l2", method="hnsw")
    truth = brute(X[:400], 4, "l2")
    assert recall_at_k(idx, truth)[4] > 0.9


def test_stability_table_names_the_method(data):
    """Exact graphs: the table as before (no column); an approximate graph: a knn_method column and a note."""
    from latentgraph.experiments.stability import METHOD_COLUMN, stability_markdown, stability_table

    X, labels = data
    X2 = X + np.random.default_rng(0).normal(size=X.shape).astype(np.float32) * 0.2
    ex = {("A", 1): knn_table(X, K, labels), ("A", 2): knn_table(X2, K, labels)}
    plain = stability_table(ex, ["A"], [1, 2], [4, K])
    assert METHOD_COLUMN not in plain.columns
    assert "approximately" not in stability_markdown(plain)
    ap = dict(ex)
    ap[("A", 2)] = build_knn_table(X2, K, labels, method="hnsw", recall_queries=200)
    df = stability_table(ap, ["A"], [1, 2], [4, K])
    assert df.columns[-1] == METHOD_COLUMN
    assert df[METHOD_COLUMN].iloc[0].startswith("exact / hnsw (recall@8 = ")
    np.testing.assert_array_equal(df[["k"]].to_numpy(), plain[["k"]].to_numpy())
    assert re.search(r"kNN graphs searched approximately: hnsw, recall@8 [01]\.\d{4}; exact ", stability_markdown(df))
    with_measures = stability_table(ap, ["A"], [1, 2], [4], measures=["mutual_knn"])
    assert with_measures.columns[-1] == METHOD_COLUMN
