"""Exact kNN against a numpy brute-force oracle, with duplicates and ties; backends agree
bit for bit; graphs built from the table; bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from helpers import REPO

from latentgraph.graphs.knn import KnnTable, adjacency, edges, knn, knn_graph, knn_table, resolve_knn_backend
from latentgraph.utils import LatentGraphError

faiss = pytest.importorskip("faiss")


def oracle(X: np.ndarray, k: int, metric: str = "l1") -> tuple[np.ndarray, np.ndarray]:
    """Full distance matrix in float64; stable sort orders ties by index; self excluded."""
    X = X.astype(np.float64)
    diff = X[:, None, :] - X[None, :, :]
    D = np.abs(diff).sum(-1) if metric == "l1" else np.sqrt((diff**2).sum(-1))
    np.fill_diagonal(D, np.inf)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(D, idx, axis=1)


def tied_data(seed: int = 0, n: int = 400, d: int = 12) -> np.ndarray:
    """Coarsely rounded values (many equal distances) plus exact duplicate rows."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, d)) * 2) / 2
    X[10] = X[20] = X[30] = X[40]  # four identical latents
    X[50:60] = X[60]  # a block of eleven identical latents: more than k + 1 at distance 0
    return X.astype(np.float32)


@pytest.mark.parametrize(
    "backend, metric",
    [("numpy", "l1"), ("numpy", "l2"), ("faiss", "l1"), ("faiss", "l2"), ("numba", "l1")],
)
def test_matches_oracle_with_duplicates_and_ties(backend, metric):
    X = tied_data()
    k = 8
    idx, dist = knn(X, k, metric=metric, backend=backend)
    ref_i, ref_d = oracle(X, k, metric)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-12, atol=0)
    # the self-match is removed by index even where duplicates tie with it at distance 0
    assert not np.any(idx == np.arange(len(X))[:, None])
    assert np.all(dist[50:61, :8] == 0)  # ten duplicates each, eight kept


def test_backends_identical_on_continuous_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 64)).astype(np.float32) * rng.uniform(0.1, 10, size=64).astype(np.float32)
    a = knn(X, 16, backend="numpy")
    for backend in ("faiss", "numba"):
        b = knn(X, 16, backend=backend)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])  # bit-identical distances


def test_numba_kernel_handles_block_edges():
    # sizes that are not multiples of the 4-query micro-tile or the cache blocks
    from latentgraph.graphs import _l1kernel

    rng = np.random.default_rng(8)
    X = rng.normal(size=(_l1kernel.QUERY_BLOCK + 7, 33)).astype(np.float32)
    ref_i, _ = oracle(X, 5)
    np.testing.assert_array_equal(knn(X, 5, backend="numba")[0], ref_i)
    with pytest.raises(LatentGraphError, match="supports metric 'l1' only"):
        knn(X, 5, metric="l2", backend="numba")


def test_numba_min_form_falls_back_where_its_bound_is_loose(caplog):
    """Non-negative latents far from 0 with small differences: sum q + sum x - 2 sum min(q, x)
    cancels, its float32 error bound exceeds the gaps between neighbours, and the rows are
    searched again with |q - x|; the result still equals brute force bit for bit."""
    from latentgraph.graphs._l1kernel import l1_form

    rng = np.random.default_rng(21)
    X = (1000.0 + rng.normal(size=(600, 48)) * 0.01).astype(np.float32)
    assert l1_form(X) == "min"
    ref = knn(X, 8, backend="numpy")
    with caplog.at_level("DEBUG", logger="latentgraph"):
        got = knn(X, 8, backend="numba")
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    assert "searched again with the abs form" in caplog.text
    # and on ordinary non-negative latents the min form's candidates suffice
    Y = np.maximum(rng.normal(size=(600, 48)), 0).astype(np.float32)
    caplog.clear()
    with caplog.at_level("DEBUG", logger="latentgraph"):
        got = knn(Y, 8, backend="numba")
    np.testing.assert_array_equal(got[0], knn(Y, 8, backend="numpy")[0])
    assert "searched again" not in caplog.text


def test_numba_int16_form_falls_back_where_quantisation_is_coarse(caplog, monkeypatch):
    """One huge value sets the int16 form's step far above the neighbours' gaps. The pilot
    search sees that its bound cannot vouch for the rows and keeps the float32 forms; made
    to use it anyway, the rows it cannot vouch for are searched again with the next form
    (min for non-negative rows, else abs). Either way the result equals brute force bit for
    bit. On ordinary latents the int16 candidates suffice."""
    from latentgraph.graphs import knn as knn_module
    from latentgraph.graphs._l1kernel import int16_supported

    if not int16_supported():
        pytest.skip("the int16 form needs a CPU with AVX-512 BW and VNNI")
    rng = np.random.default_rng(22)
    X = rng.normal(size=(700, 80)).astype(np.float32)
    X[0, 0] = 1e5
    for data, nxt in ((X, "abs"), (np.abs(X), "min")):
        ref = knn(data, 8, backend="numpy")
        for forced in (False, True):
            if forced:
                monkeypatch.setattr(knn_module, "INT16_MAX_UNSAFE", 1.0)
            caplog.clear()
            with caplog.at_level("DEBUG", logger="latentgraph"):
                got = knn(data, 8, backend="numba")
            np.testing.assert_array_equal(got[0], ref[0])
            np.testing.assert_array_equal(got[1], ref[1])
            if forced:
                assert f"searched again with the {nxt} form" in caplog.text
            else:
                assert "float32 forms instead" in caplog.text  # (row 0 itself may still need the abs form)
        monkeypatch.undo()
    Y = np.maximum(rng.normal(size=(700, 80)), 0).astype(np.float32)
    caplog.clear()
    with caplog.at_level("DEBUG", logger="latentgraph"):
        got = knn(Y, 8, backend="numba")
    ref = knn(Y, 8, backend="numpy")
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    assert ": used" in caplog.text and "searched again" not in caplog.text


def test_numba_rerank_computes_only_the_candidates_that_can_win(monkeypatch):
    """The exact re-rank skips candidates whose float32 distance exceeds the (k+1)-th's by
    more than twice the error bound: on latent-like data (ties and duplicates included) the
    result equals brute force bit for bit, and fewer than all candidates are computed."""
    from latentgraph.graphs import _l1kernel
    from latentgraph.graphs.knn import _needed

    rng = np.random.default_rng(31)
    X = np.maximum(rng.normal(size=(900, 40)), 0).astype(np.float32)
    X[100:120] = X[0]  # duplicates: ties at distance 0
    X = np.round(X * 4) / 4  # many tied distances
    counts = []
    real = _l1kernel.l1_exact

    def spy(X, cand, rows, count=None, **kwargs):
        counts.append((count, cand.shape[1]))
        return real(X, cand, rows, count=count, **kwargs)

    monkeypatch.setattr(_l1kernel, "l1_exact", spy)
    for k in (1, 4, 16):
        ref = knn(X, k, backend="numpy")
        got = knn(X, k, backend="numba")
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    assert all(c is not None and (c >= 2).all() and (c <= m).all() for c, m in counts)
    assert sum(int(c.sum()) for c, _ in counts) < 0.95 * sum(c.size * m for c, m in counts)
    # the counts: a prefix of each row holding the k + 1 first and every one within 2 tol
    approx = np.array([[0.0, 1.0, 1.0, 2.0, 3.5, 9.0]])
    assert _needed(approx, np.array([0.5]), 2).tolist() == [4]
    assert _needed(approx, np.array([0.0]), 2).tolist() == [3]
    assert _needed(approx, np.array([10.0]), 1).tolist() == [6]


def test_sorted_rows_and_slicing_equals_smaller_search():
    X = tied_data(seed=5)
    idx, dist = knn(X, 12, backend="faiss")
    # rows sorted by (distance, index)
    for i in range(len(X)):
        keys = list(zip(dist[i], idx[i], strict=True))
        assert keys == sorted(keys)
    for k in (1, 4, 8):
        i_k, d_k = knn(X, k, backend="faiss")
        np.testing.assert_array_equal(idx[:, :k], i_k)
        np.testing.assert_array_equal(dist[:, :k], d_k)


def test_k_equal_n_minus_one_and_tiny_sets():
    X = np.array([[0.0], [1.0], [3.0]], dtype=np.float32)
    idx, dist = knn(X, 2, backend="faiss")
    np.testing.assert_array_equal(idx, [[1, 2], [0, 2], [1, 0]])
    np.testing.assert_array_equal(dist, [[1, 3], [1, 2], [2, 3]])


def test_bad_input_errors():
    X = np.zeros((5, 3), dtype=np.float32)
    with pytest.raises(LatentGraphError, match="smaller than the number of samples"):
        knn(X, 5)
    with pytest.raises(LatentGraphError, match="positive integer"):
        knn(X, 0)
    with pytest.raises(LatentGraphError, match="positive integer"):
        knn(X, 2.5)
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(LatentGraphError, match="NaN or inf"):
        knn(bad, 2)
    bad[2, 1] = np.inf
    with pytest.raises(LatentGraphError, match="NaN or inf"):
        knn(bad, 2)
    with pytest.raises(LatentGraphError, match="2-D"):
        knn(np.zeros(5), 2)
    with pytest.raises(LatentGraphError, match="unknown metric"):
        knn(X, 2, metric="cosine")
    with pytest.raises(LatentGraphError, match="unknown kNN backend"):
        knn(X, 2, backend="annoy")


def test_auto_backend_resolves_without_gpu():
    assert resolve_knn_backend("auto", n=100) in ("faiss", "faiss-gpu")
    assert resolve_knn_backend("auto", n=100_000) in ("numba", "faiss-gpu")
    assert resolve_knn_backend("auto", n=100_000, metric="l2") in ("faiss", "faiss-gpu")


def test_auto_picks_the_gpu_only_for_large_searches(monkeypatch):
    """A GPU's start-up costs more than the CPU's whole search of a few thousand rows."""
    import latentgraph.graphs.knn as knn_mod

    monkeypatch.setattr(knn_mod, "faiss_has_gpu", lambda: True)
    assert resolve_knn_backend("auto", n=60) == "faiss"
    assert resolve_knn_backend("auto", n=knn_mod.GPU_MIN_N - 1) in ("numba", "faiss")
    assert resolve_knn_backend("auto", n=knn_mod.GPU_MIN_N - 1, metric="l2") == "faiss"
    assert resolve_knn_backend("auto", n=knn_mod.GPU_MIN_N) == "faiss-gpu"
    assert resolve_knn_backend("auto", n=None) == "faiss-gpu"  # unknown: assume large
    assert resolve_knn_backend("faiss-gpu", n=60) == "faiss-gpu"  # asked for explicitly
    X = np.random.default_rng(0).random((60, 8), dtype=np.float32)
    idx, _ = knn(X, 4)  # on the CPU: a faiss-gpu search would fail here (no GPU build)
    assert np.array_equal(idx, oracle(X, 4)[0])
    monkeypatch.setattr(knn_mod, "faiss_has_gpu", lambda: False)
    from latentgraph.graphs._l1kernel import HAVE_NUMBA

    assert resolve_knn_backend("auto", n=10**6) == ("numba" if HAVE_NUMBA else "faiss")


ABORT = "import os, sys; sys.stderr.write('CUDA error: no kernel image is available\\n'); sys.stderr.flush(); os.abort()"


@pytest.fixture
def smoke(monkeypatch):
    """Replace the GPU smoke test's command; returns the list of commands run."""
    import latentgraph.graphs.knn as knn_mod

    runs: list[str] = []
    monkeypatch.setattr(knn_mod, "_GPU_CHECKED", False)

    def use(code: str) -> None:
        def command() -> list[str]:
            runs.append(code)
            return [sys.executable, "-c", code]

        monkeypatch.setattr(knn_mod, "_gpu_smoke_command", command)

    use.runs = runs  # type: ignore[attr-defined]
    return use


def test_gpu_smoke_test_turns_a_cuda_abort_into_a_clear_error(smoke):
    from latentgraph.graphs.knn import check_faiss_gpu

    smoke(ABORT)
    with pytest.raises(LatentGraphError) as err:
        check_faiss_gpu()
    msg = str(err.value)
    for part in ("SIGABRT", "FAISS build: FAISS 1.", "GPU:", "no kernel image is available", "sm_90",
                 "wheel >= 1.15.1", "knn.backend", "resources.knn_gpu_min_samples"):
        assert part in msg, (part, msg)
    smoke("raise SystemExit(3)")
    with pytest.raises(LatentGraphError, match="exited with status 3"):
        check_faiss_gpu()
    smoke("import time; time.sleep(30)")
    with pytest.raises(LatentGraphError, match="did not finish within 0.5 s"):
        check_faiss_gpu(timeout=0.5)
    smoke("pass")
    check_faiss_gpu()
    smoke(ABORT)
    check_faiss_gpu()  # passed once: not run again in this process
    assert smoke.runs[-1] == "pass"


def test_faiss_gpu_backend_runs_the_smoke_test_before_its_first_search(smoke, monkeypatch):
    """A stand-in GPU FAISS (the CPU index behind the GPU API) shows where the check runs."""
    import types

    fake = types.ModuleType("faiss")
    for name in ("IndexFlat", "METRIC_L1", "METRIC_L2", "omp_set_num_threads", "__version__"):
        setattr(fake, name, getattr(faiss, name))
    fake.StandardGpuResources = object
    fake.get_num_gpus = lambda: 1
    fake.index_cpu_to_gpu = lambda res, device, index: index
    monkeypatch.setitem(sys.modules, "faiss", fake)
    X = np.random.default_rng(1).random((50, 6), dtype=np.float32)
    smoke(ABORT)
    with pytest.raises(LatentGraphError, match="SIGABRT"):
        knn(X, 3, backend="faiss-gpu")
    smoke("pass")
    for _ in range(2):
        idx, dist = knn(X, 3, backend="faiss-gpu")
        assert np.array_equal(idx, oracle(X, 3)[0])
    assert smoke.runs == [ABORT, "pass"]  # once per process, before the first search


def test_device_name_needs_no_torch(monkeypatch):
    import ast

    import latentgraph.graphs.knn as knn_mod

    monkeypatch.setattr(knn_mod, "faiss_has_gpu", lambda: False)
    assert knn_mod.device_name().endswith(" cores")
    monkeypatch.setattr(knn_mod, "faiss_has_gpu", lambda: True)
    monkeypatch.setattr(knn_mod, "gpu_names", lambda: ["NVIDIA H200 (compute capability 9.0)"])
    assert knn_mod.device_name() == "NVIDIA H200 (compute capability 9.0)"
    bench = REPO / "benchmarks" / "bench_knn.py"
    imported = {a.name.split(".")[0] for n in ast.walk(ast.parse(bench.read_text())) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(ast.parse(bench.read_text()))
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert "torch" not in imported  # the graph-gpu env has no torch


def test_knn_jobs_ask_for_a_gpu_only_for_large_splits():
    """Thesis CIFAR-100 (10,000 test images) searches on CPUs, ImageNet (50,000) on a GPU."""
    import yaml

    from latentgraph.config import KNN_GPU_MIN_SAMPLES, UNKNOWN_SPLIT_SIZE, knn_on_gpu, split_size

    repo = REPO
    schema = yaml.safe_load((repo / "schemas" / "config.schema.yaml").read_text())
    default = schema["properties"]["resources"]["properties"]["knn_gpu_min_samples"]["default"]
    assert default == KNN_GPU_MIN_SAMPLES
    cifar = yaml.safe_load((repo / "configs" / "thesis_cifar100.yaml").read_text())
    imagenet = yaml.safe_load((repo / "configs" / "imagenet_classgraph.yaml").read_text())
    assert cifar["resources"]["gpu"] and imagenet["resources"]["gpu"]
    assert split_size(cifar) == 10_000 and split_size(imagenet) is None
    assert not knn_on_gpu(cifar)
    assert knn_on_gpu(imagenet)  # imagefolder: as large as ImageNet's validation set
    assert KNN_GPU_MIN_SAMPLES <= UNKNOWN_SPLIT_SIZE
    cifar["resources"]["knn_gpu_min_samples"] = 10_000  # at least the threshold: the GPU
    assert knn_on_gpu(cifar)
    cifar["resources"]["knn_gpu_min_samples"] = 10_001
    assert not knn_on_gpu(cifar)
    imagenet["resources"]["gpu"] = 0  # CPU configs never ask for a GPU
    assert not knn_on_gpu(imagenet)
    imagenet["resources"].update(gpu=1, knn_gpu_min_samples=50_001)
    assert not knn_on_gpu(imagenet)


def test_undirected_edges_are_the_union_of_knn_edges():
    # thesis Fig 2.1: A is among the 2 nearest of B and C, but they are not among A's 2 nearest
    X = np.array([[0.0], [1.0], [1.1], [-1.0], [-1.2]], dtype=np.float32)
    idx, _ = knn(X, 2, backend="numpy")
    s, t, _ = edges(idx, directed=False)
    got = set(zip(s.tolist(), t.tolist(), strict=True))
    ref = {(min(i, j), max(i, j)) for i in range(5) for j in idx[i]}
    assert got == ref
    A = adjacency(idx, directed=False).toarray() != 0
    assert (A == A.T).all()
    deg = A.sum(1)
    assert deg.min() >= 2  # every vertex keeps at least its k neighbours
    D = adjacency(idx, directed=True)
    assert (np.diff(D.indptr) == 2).all()


def test_knn_graph_and_table_helpers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    G = knn_graph(X, 3)
    assert G.shape == (60, 60) and (G != G.T).nnz == 0
    labels = rng.integers(0, 3, 60)
    t = knn_table(X, 6, labels, sample_id=np.arange(100, 160))
    assert isinstance(t, KnnTable) and t.k == 6 and t.metadata["backend"] in ("faiss", "faiss-gpu")
    s = t.slice(3)
    np.testing.assert_array_equal(s.indices, t.indices[:, :3])
    with pytest.raises(LatentGraphError):
        t.slice(7)
    # weights on the graph are the exact distances
    src, dst, w = t.edges(3)
    np.testing.assert_allclose(w, np.abs(X[src].astype(np.float64) - X[dst].astype(np.float64)).sum(1))
