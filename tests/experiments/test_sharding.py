"""Sharded kNN searches and class folds (knn.shards, classgraph.shards): equal to one job, bitwise."""

from __future__ import annotations

import numpy as np
import pytest

from latentgraph.experiments import sharding as sh
from latentgraph.experiments.classgraph import class_distances_from_latents
from latentgraph.graphs.knn import knn, knn_table
from latentgraph.graphs.shortest_paths import class_shards
from latentgraph.io import Latents
from latentgraph.utils import LatentGraphError


def _latents(n: int = 900, d: int = 24, C: int = 9, seed: int = 0, connected: bool = True) -> Latents:
    rng = np.random.default_rng(seed)
    # unequal classes (sizes 1:2:...:C), clustered, with duplicate rows (ties at distance 0)
    p = np.arange(1, C + 1) / np.arange(1, C + 1).sum()
    labels = rng.choice(C, n, p=p)
    centres = rng.normal(scale=3.0 if connected else 40.0, size=(C, d))
    X = (centres[labels] + rng.normal(size=(n, d))).astype(np.float32)
    X[10] = X[11]
    X[200] = X[201]
    return Latents(X=X, labels=labels, sample_id=np.arange(n) * 7 + 3, prediction=rng.integers(0, C, n),
                   metadata={"source": "mem.parquet", "dataset": "synthetic", "epoch": 3})


@pytest.mark.parametrize("backend", ["numpy", "numba", "faiss"])
def test_knn_rows_equal_the_rows_of_the_whole_search(backend):
    lat = _latents(n=700)
    full_i, full_d = knn(lat.X, 8, backend=backend)
    for a, b in [(0, 1), (0, 350), (350, 699), (699, 700), (10, 12)]:
        i2, d2 = knn(lat.X, 8, backend=backend, rows=(a, b))
        assert np.array_equal(i2, full_i[a:b]) and np.array_equal(d2, full_d[a:b]), (a, b)


@pytest.mark.parametrize("rows", [(0, 0), (5, 3), (-1, 4), (0, 701), "ab", (1,)])
def test_knn_rows_out_of_range_is_a_clear_error(rows):
    with pytest.raises(LatentGraphError, match="rows"):
        knn(np.zeros((700, 4), dtype=np.float32) + np.arange(700)[:, None], 3, rows=rows)


def test_shard_rows_cover_every_row_once():
    for n, S in [(10, 1), (10, 3), (10, 10), (1001, 7)]:
        parts = [sh.shard_rows(n, S, i) for i in range(S)]
        assert parts[0][0] == 0 and parts[-1][1] == n
        assert all(a < b for a, b in parts) and all(parts[i][1] == parts[i + 1][0] for i in range(S - 1))
        assert max(b - a for a, b in parts) - min(b - a for a, b in parts) <= 1


def test_knn_shards_larger_than_n_is_a_clear_error():
    with pytest.raises(LatentGraphError, match=r"knn.shards = 11 must be an integer between 1 and the number of samples \(10\)"):
        sh.shard_rows(10, 11, 0)
    with pytest.raises(LatentGraphError, match="out of range"):
        sh.shard_rows(10, 2, 2)


def test_class_shards_are_contiguous_nonempty_and_balanced():
    sizes = np.array([100, 1, 1, 1, 300, 50, 50, 2, 400, 95])
    for S in range(1, sizes.size + 1):
        parts = class_shards(sizes, S)
        assert len(parts) == S and parts[0][0] == 0 and parts[-1][1] == sizes.size
        assert all(c0 < c1 for c0, c1 in parts) and all(parts[i][1] == parts[i + 1][0] for i in range(S - 1))
    equal = class_shards(np.full(100, 50), 4)
    assert [c1 - c0 for c0, c1 in equal] == [25, 25, 25, 25]


@pytest.mark.parametrize("S", [0, 11, True, 2.5])
def test_class_shards_out_of_range_is_a_clear_error(S):
    with pytest.raises(LatentGraphError, match="classgraph.shards"):
        class_shards(np.ones(10, dtype=int), S)


def _sharded(tmp_path, table, lat, S, **kw):
    paths = []
    for i in range(S):
        part = sh.class_distance_shard(table, lat, 4, i, S, **kw)
        paths.append(sh.write_class_shard(tmp_path / f"shard_{i}_of_{S}.npz", part))
    return paths, sh.gather_class_distances([sh.read_class_shard(p) for p in paths], table, lat, paths=paths)


@pytest.mark.parametrize(("backend", "weights", "m"), [("numba", "l1", None), ("scipy", "l1", None),
                                                        ("igraph", "hops", None), ("numba", "l1", 5),
                                                        ("scipy", "hops", 4)])
@pytest.mark.parametrize("connected", [True, False])
def test_sharded_class_distances_equal_one_job_bitwise(tmp_path, backend, weights, m, connected):
    lat = _latents(connected=connected)
    # the shards read a deeper table (k = 16, as rule knn writes it) sliced at k = 4
    table = knn_table(lat.X, 16, lat.labels, sample_id=lat.sample_id)
    one = class_distances_from_latents(lat, 4, weights=weights, backend=backend, sources_per_class=m, seed=2)
    if not connected:
        assert one.metadata["n_components"] > 1 and (one.pairs < one.total).any()
    for S in (1, 2, 4, 9):
        _, got = _sharded(tmp_path, table, lat, S, weights=weights, backend=backend, sources_per_class=m, seed=2,
                          batch_size=7)
        for key in ("mean", "pairs", "total", "accuracy", "sizes", "classes", "se", "ci_low", "ci_high"):
            a, b = getattr(one, key), getattr(got, key)
            assert (a is None and b is None) or np.array_equal(a, b, equal_nan=True), (S, key)
        assert got.names == one.names
        assert {k: v for k, v in got.metadata.items() if k != "shards"} == one.metadata
        assert got.metadata["shards"] == S


def test_gather_checks_the_shard_set(tmp_path):
    lat = _latents(n=300)
    table = knn_table(lat.X, 4, lat.labels, sample_id=lat.sample_id)
    paths, _ = _sharded(tmp_path / "a", table, lat, 3)
    parts = [sh.read_class_shard(p) for p in paths]
    with pytest.raises(LatentGraphError, match="expected shard 1 of 3"):
        sh.gather_class_distances([parts[0], parts[2], parts[1]], table, lat)
    with pytest.raises(LatentGraphError, match="expected shard"):
        sh.gather_class_distances(parts[:2], table, lat)
    other = sh.class_distance_shard(table, lat, 4, 1, 3, weights="hops")
    with pytest.raises(LatentGraphError, match="weights"):
        sh.gather_class_distances([parts[0], other, parts[2]], table, lat)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a shard")
    with pytest.raises(LatentGraphError, match="not a readable shard file"):
        sh.read_class_shard(bad)
    with pytest.raises(LatentGraphError, match="classgraph.shards = 10 must be an integer between 1 and the number "
                                               r"of classes \(9\)"):
        sh.class_distance_shard(table, lat, 4, 0, 10)
    with pytest.raises(LatentGraphError, match="larger than the kNN table's k"):
        sh.class_distance_shard(table, lat, 5, 0, 2)


def test_sharded_knn_table_equals_one_job(tmp_path):
    lat = _latents(n=500)
    one = knn_table(lat.X, 16, lat.labels, sample_id=lat.sample_id)
    for S in (1, 3, 500):
        paths = [sh.knn_shard(tmp_path / f"k{i}_{S}.npz", lat, 16, i, S, backend="numpy") for i in range(S)]
        got = sh.gather_knn_shards(paths, lat)
        assert np.array_equal(got.indices, one.indices) and np.array_equal(got.distances, one.distances)
        assert got.metadata["shards"] == S
    other = _latents(n=500, seed=1)
    other.sample_id = other.sample_id + 1
    with pytest.raises(LatentGraphError, match="sample ids differ"):
        sh.gather_knn_shards(paths[:500], other)
