"""Graph average Jaccard and class neighbourhood similarity against hand-computed values,
a naive per-vertex reference, and their algebraic properties."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp

from latentgraph.compare.similarity import (
    as_structure,
    cns,
    cns_per_vertex,
    compare_tables,
    jaccard,
    jaccard_per_vertex,
)
from latentgraph.graphs.knn import KnnTable, adjacency, knn
from latentgraph.utils import LatentGraphError


def graph(n: int, edges: list[tuple[int, int]], directed: bool = False) -> sp.csr_array:
    r = [a for a, b in edges] + ([] if directed else [b for a, b in edges])
    c = [b for a, b in edges] + ([] if directed else [a for a, b in edges])
    return sp.csr_array((np.ones(len(r)), (r, c)), shape=(n, n))


def naive(A: sp.csr_array, B: sp.csr_array, labels: np.ndarray) -> tuple[float, float]:
    """The definitions, one vertex at a time, with Python sets and multisets."""
    A, B = sp.csr_array(A), sp.csr_array(B)
    js, cs = [], []
    for v in range(A.shape[0]):
        na = set(A.indices[A.indptr[v] : A.indptr[v + 1]].tolist())
        nb = set(B.indices[B.indptr[v] : B.indptr[v + 1]].tolist())
        js.append(len(na & nb) / len(na | nb) if na | nb else 1.0)
        ya, yb = Counter(labels[list(na)].tolist()), Counter(labels[list(nb)].tolist())
        if na:
            cs.append(sum((ya & yb).values()) / sum(ya.values()))
    return float(np.mean(js)), float(np.mean(cs))


def test_thesis_section_2_2_6_example():
    # Fig 2.2: vertex B (index 1) keeps two of its three neighbours ({A, C, D} in G_A, {A, C, E}
    # in G_B) and its neighbours' classes are {red, red, purple} in both graphs:
    # CNS = 3/3 = 1 while Jaccard = 2/4 = 0.5.
    red, purple = 0, 1
    labels = np.array([red, red, red, purple, purple, red])  # A B C D E F
    GA = graph(6, [(1, 0), (1, 2), (1, 3)])
    GB = graph(6, [(1, 0), (1, 2), (1, 4)])
    assert jaccard_per_vertex(GA, GB)[1] == pytest.approx(0.5)
    assert cns_per_vertex(GA, GB, labels)[1] == pytest.approx(1.0)


def test_per_vertex_jaccard_of_two_neighbour_sets():
    # N(0) = {1, 2, 3} in G_A and {1, 4, 5} in G_B: one shared of five distinct
    GA = graph(6, [(0, 1), (0, 2), (0, 3)], directed=True)  # N(0) = {1, 2, 3}
    GB = graph(6, [(0, 1), (0, 4), (0, 5)], directed=True)  # N(0) = {1, 4, 5}
    j = jaccard_per_vertex(GA, GB)
    assert j[0] == pytest.approx(1 / 5)
    assert np.all(j[1:] == 1.0)  # no neighbours in either graph: identical empty sets


def test_cns_multiset_intersection_counts_multiplicity():
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    GA = graph(7, [(6, 0), (6, 1), (6, 2), (6, 4)], directed=True)  # Y_A = {0,0,0,1}
    GB = graph(7, [(6, 3), (6, 4), (6, 5)], directed=True)  # Y_B = {0,1,1}
    # |Y_A ∩ Y_B| = min(3,1) + min(1,2) = 2; / |Y_A| = 4
    assert cns_per_vertex(GA, GB, labels)[6] == pytest.approx(0.5)
    # reversed: |∩| = 2, / |Y_B| = 3  -> CNS is asymmetric
    assert cns_per_vertex(GB, GA, labels)[6] == pytest.approx(2 / 3)


def test_identity_gives_one():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 8)).astype(np.float32)
    labels = rng.integers(0, 5, size=200)
    A = adjacency(knn(X, 6, backend="numpy")[0], k=6)
    assert jaccard(A, A) == 1.0
    assert cns(A, A, labels) == 1.0


@pytest.mark.parametrize("directed", [False, True])
def test_against_naive_reference_on_random_knn_graphs(directed):
    rng = np.random.default_rng(7)
    X1 = rng.normal(size=(300, 10)).astype(np.float32)
    X2 = X1 + 0.5 * rng.normal(size=X1.shape).astype(np.float32)
    labels = rng.integers(0, 6, size=300)
    i1, _ = knn(X1, 8, backend="numpy")
    i2, _ = knn(X2, 8, backend="numpy")
    for k in (1, 4, 8):
        A, B = adjacency(i1, k=k, directed=directed), adjacency(i2, k=k, directed=directed)
        j_ref, c_ref = naive(A, B, labels)
        assert jaccard(A, B) == pytest.approx(j_ref, abs=1e-12)
        assert cns(A, B, labels) == pytest.approx(c_ref, abs=1e-12)


def test_properties_symmetry_and_range():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, size=150)
    for _ in range(5):
        A = sp.random(150, 150, density=0.05, random_state=rng, format="csr")
        B = sp.random(150, 150, density=0.05, random_state=rng, format="csr")
        A, B = A + A.T, B + B.T
        assert jaccard(A, B) == pytest.approx(jaccard(B, A))
        assert 0.0 <= jaccard(A, B) <= 1.0
        c = cns_per_vertex(A, B, labels)
        assert np.all((c[~np.isnan(c)] >= 0) & (c[~np.isnan(c)] <= 1))
        # a superset of A's neighbourhoods contains A's label multisets: CNS(A, A+B) = 1
        assert cns(A, A + B, labels) == pytest.approx(1.0)


def test_cns_at_least_jaccard_for_equal_degree_graphs():
    # with equal neighbourhood sizes, |Y_A ∩ Y_B| >= |N_A ∩ N_B| and |N_A ∪ N_B| >= |Y_A|
    rng = np.random.default_rng(5)
    X1 = rng.normal(size=(200, 6)).astype(np.float32)
    X2 = rng.normal(size=(200, 6)).astype(np.float32)
    labels = rng.integers(0, 3, size=200)
    A = adjacency(knn(X1, 5, backend="numpy")[0], directed=True)
    B = adjacency(knn(X2, 5, backend="numpy")[0], directed=True)
    assert np.all(cns_per_vertex(A, B, labels) >= jaccard_per_vertex(A, B) - 1e-12)


def test_explicit_zero_distance_edges_count_as_edges():
    # duplicate latents give distance-0 edges: the sparsity pattern, not the value, is the edge
    X = np.array([[0.0], [0.0], [1.0], [3.0]], dtype=np.float32)
    idx, dist = knn(X, 1, backend="numpy")
    A = adjacency(idx, directed=True, distances=dist)
    assert A.nnz == 4 and (A.data == 0).sum() == 2
    S = as_structure(A)
    assert S.nnz == 4 and np.all(S.data == 1)
    assert jaccard(A, S) == 1.0


def test_neighbour_tables_are_accepted_as_graphs():
    T1 = np.array([[1, 2], [0, 2], [0, 1], [0, 1]])
    T2 = np.array([[1, 3], [0, 2], [0, 1], [2, 1]])
    labels = np.array([0, 0, 1, 1])
    assert jaccard(T1, T2) == pytest.approx(np.mean([1 / 3, 1, 1, 1 / 3]))
    assert cns(T1, T2, labels) == pytest.approx(np.mean([1, 1, 1, 0.5]))


def test_bad_inputs():
    A = graph(4, [(0, 1)])
    with pytest.raises(LatentGraphError, match="different numbers of vertices"):
        jaccard(A, graph(5, [(0, 1)]))
    with pytest.raises(LatentGraphError, match="labels"):
        cns(A, A, np.array([0, 1, 2]))
    with pytest.raises(LatentGraphError, match="non-negative"):
        cns(A, A, np.array([0, 1, -1, 0]))
    with pytest.raises(LatentGraphError, match="outside"):
        jaccard(np.array([[1], [9]]), np.array([[1], [0]]))
    with pytest.raises(LatentGraphError, match="no edges"):
        cns(sp.csr_array((3, 3)), graph(3, [(0, 1)]), np.array([0, 1, 2]))


def _table(X, ids, labels, k):
    i, d = knn(X, k, backend="numpy")
    return KnnTable(i, d, np.asarray(ids), np.asarray(labels))


def test_compare_tables_matches_vertices_by_sample_id():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    Y = X + 0.3 * rng.normal(size=X.shape).astype(np.float32)
    ids = np.arange(1000, 1120)
    labels = rng.integers(0, 4, size=120)
    a = _table(X, ids, labels, 8)
    b = _table(Y, ids, labels, 8)
    perm = rng.permutation(120)
    b_shuffled = _table(Y[perm], ids[perm], labels[perm], 8)
    ref = compare_tables(a, b, [2, 4, 8])
    got = compare_tables(a, b_shuffled, [2, 4, 8])
    assert list(got.columns) == ["k", "jaccard", "cns"]
    np.testing.assert_allclose(got[["jaccard", "cns"]].to_numpy(), ref[["jaccard", "cns"]].to_numpy(), atol=1e-12)
    assert compare_tables(a, a, [4]).iloc[0][["jaccard", "cns"]].tolist() == [1.0, 1.0]


def test_compare_tables_rejects_mismatched_samples_and_labels():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=50)
    a = _table(X, np.arange(50), labels, 4)
    with pytest.raises(LatentGraphError, match="different samples"):
        compare_tables(a, _table(X, np.arange(1, 51), labels, 4), [4])
    with pytest.raises(LatentGraphError, match="disagree on the labels"):
        compare_tables(a, _table(X, np.arange(50), (labels + 1) % 3, 4), [4])
    with pytest.raises(LatentGraphError, match="exceeds"):
        compare_tables(a, a, [8])
