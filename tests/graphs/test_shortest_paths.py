"""Tests of latentgraph.graphs.shortest_paths: streamed shortest paths and their class fold against networkx."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import brute_class_sums, disconnected_graph, knn_graph, nx_distances

from latentgraph.graphs import shortest_paths as paths
from latentgraph.graphs._pathkernel import HAVE_NUMBA
from latentgraph.graphs.shortest_paths import class_path_sums, distance_blocks, to_csr, to_igraph
from latentgraph.utils import LatentGraphError

BACKENDS = ["numba", "scipy", "igraph"] if HAVE_NUMBA else ["scipy", "igraph"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("weighted", [True, False])
def test_class_sums_equal_networkx_on_knn_graph(backend, weighted):
    labels, s, t, w = knn_graph()
    D = nx_distances(labels.size, s, t, w if weighted else None)
    S, P, T = brute_class_sums(D, labels)
    r = class_path_sums(labels.size, s, t, w, labels, weighted=weighted, batch_size=7, backend=backend)
    np.testing.assert_allclose(r.sums, S, rtol=1e-12)
    np.testing.assert_array_equal(r.pairs, P)
    np.testing.assert_array_equal(r.total, T)
    assert r.backend == backend and r.weighted == weighted


@pytest.mark.parametrize("backend", BACKENDS)
def test_class_sums_disconnected_graph(backend):
    n, src, dst, w, labels = disconnected_graph()
    D = nx_distances(n, src, dst, w)
    S, P, T = brute_class_sums(D, labels)
    r = class_path_sums(n, src, dst, w, labels, backend=backend, batch_size=3)
    assert r.n_components == 3
    np.testing.assert_allclose(r.sums, S, rtol=1e-12)
    np.testing.assert_array_equal(r.pairs, P)
    np.testing.assert_array_equal(r.total, T)
    assert (r.pairs < r.total).any()  # some pairs are unreachable


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_length_edges_and_repeats(backend):
    # duplicate latents give edges of length 0; repeated edges keep the shortest length
    src = np.array([0, 1, 1, 2, 2])
    dst = np.array([1, 2, 2, 3, 2])
    w = np.array([0.0, 2.0, 1.0, 0.0, 5.0])
    labels = np.array([0, 0, 1, 1])
    r = class_path_sums(4, src, dst, w, labels, backend=backend)
    S, P, _ = brute_class_sums(nx_distances(4, src, dst, w), labels)
    np.testing.assert_allclose(r.sums, S)
    np.testing.assert_array_equal(r.pairs, P)
    A = to_csr(4, src, dst, w)
    assert A.nnz == 6 and A[1, 2] == 1.0 and A[0, 1] == 0.0  # explicit zero kept, self-loop dropped


@pytest.mark.parametrize("backend", BACKENDS)
def test_result_does_not_depend_on_batches_or_jobs(monkeypatch, backend):
    labels, s, t, w = knn_graph(n=300, C=5, seed=3)
    ref = class_path_sums(labels.size, s, t, w, labels, batch_size=300, n_jobs=1, backend=backend)
    monkeypatch.setattr(paths, "INLINE_PAIRS", 0)  # use worker processes even for a small graph
    for batch, jobs in [(1, 1), (17, 2), (64, 3)]:
        r = class_path_sums(labels.size, s, t, w, labels, batch_size=batch, n_jobs=jobs, backend=backend)
        assert r.n_jobs == jobs
        np.testing.assert_array_equal(r.sums, ref.sums)  # bit-identical: same additions, same order
        np.testing.assert_array_equal(r.pairs, ref.pairs)


def test_backends_agree_and_auto_choice(monkeypatch):
    labels, s, t, w = knn_graph(n=200, seed=5)
    sums = [class_path_sums(labels.size, s, t, w, labels, backend=b).sums for b in BACKENDS]
    for other in sums[1:]:
        np.testing.assert_allclose(other, sums[0], rtol=1e-12)
    from latentgraph.graphs import _pathkernel

    assert paths.resolve_path_backend("auto", True) == ("numba" if HAVE_NUMBA else "scipy")
    monkeypatch.setattr(_pathkernel, "HAVE_NUMBA", False)
    assert paths.resolve_path_backend("auto", True) == "scipy"
    assert paths.resolve_path_backend("auto", False) == "igraph"
    with pytest.raises(LatentGraphError, match="needs numba"):
        paths.resolve_path_backend("numba", True)


def test_non_contiguous_labels():
    labels, s, t, w = knn_graph(n=80, C=3, seed=2)
    shifted = np.array([7, 11, 40])[labels]
    r = class_path_sums(labels.size, s, t, w, shifted)
    r0 = class_path_sums(labels.size, s, t, w, labels)
    assert r.classes.tolist() == [7, 11, 40]
    np.testing.assert_array_equal(r.sums, r0.sums)


def test_distance_blocks_igraph_and_scipy_agree():
    labels, s, t, w = knn_graph(n=90, seed=1)
    n = labels.size
    g = to_igraph(n, s, t, w)
    A = to_csr(n, s, t, w)
    D = nx_distances(n, s, t, w)
    rows_i = np.concatenate([D_ for _, D_ in distance_blocks(g, batch_size=32)])
    rows_s = np.concatenate([D_ for _, D_ in distance_blocks(A, batch_size=25)])
    np.testing.assert_allclose(rows_i, D)
    np.testing.assert_allclose(rows_s, D)
    hops_s = np.concatenate([D_ for _, D_ in distance_blocks(A, batch_size=40, weights=None)])
    hops_i = np.concatenate([D_ for _, D_ in distance_blocks(g, batch_size=40, weights=None)])
    np.testing.assert_array_equal(hops_s, hops_i)


def test_bad_input():
    n, src, dst, w, labels = disconnected_graph()
    with pytest.raises(LatentGraphError, match="non-negative"):
        class_path_sums(n, src, dst, -w, labels)
    with pytest.raises(LatentGraphError, match="non-negative"):
        to_igraph(n, src, dst, np.full(src.size, np.nan))
    with pytest.raises(LatentGraphError, match="one label per vertex"):
        class_path_sums(n, src, dst, w, labels[:-1])
    with pytest.raises(LatentGraphError, match="integers"):
        class_path_sums(n, src, dst, w, labels.astype(float))
    with pytest.raises(LatentGraphError, match="backend"):
        class_path_sums(n, src, dst, w, labels, backend="networkx")
    with pytest.raises(LatentGraphError, match="batch_size"):
        class_path_sums(n, src, dst, w, labels, batch_size=0)
    with pytest.raises(LatentGraphError, match="0..7"):
        to_csr(n, src, dst + 5, w)


@pytest.mark.slow
def test_benchmark_script_runs(tmp_path):
    """benchmarks/bench_apsp.py on a small graph: writes its tables, networkx agrees with us."""
    import json
    import subprocess
    import sys

    from helpers import REPO

    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_apsp.py"), "--n", "600", "--classes", "6",
                           "--nx-sources", "4", "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "bench_apsp.json").read_text())
    runs = result["graphs"][0]["runs"]
    assert [r["weights"] for r in runs] == ["l1", "hops"]
    assert all(r["max_abs_difference"] < 1e-9 for r in runs)
    assert {o["backend"] for o in runs[0]["ours"]} == set(BACKENDS)
    assert "speed-up vs networkx" in (tmp_path / "bench_apsp.md").read_text()
