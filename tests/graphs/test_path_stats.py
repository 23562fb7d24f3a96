"""Tests of latentgraph.graphs.path_stats: exact values on hand-made graphs, brute force on kNN graphs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from latentgraph.graphs.knn import KnnTable, knn
from latentgraph.graphs.path_stats import StreamingHistogram, graph_statistics, knn_graph_statistics
from latentgraph.graphs.shortest_paths import to_igraph
from latentgraph.utils import LatentGraphError


def path_graph(n: int, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    src = np.arange(n - 1)
    return src, src + 1, np.ones(n - 1) if w is None else np.asarray(w, dtype=float)


def all_pairs(n: int, src, dst, w, directed=False) -> np.ndarray:
    """Brute-force weighted distances of ordered pairs i != j (networkx Dijkstra)."""
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(n))
    G.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True))
    D = np.full((n, n), np.inf)
    for i, lengths in nx.all_pairs_dijkstra_path_length(G):
        for j, d in lengths.items():
            D[i, j] = d
    return D[~np.eye(n, dtype=bool)]


def test_path_graph_exact():
    n = 6
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    s = graph_statistics(n, *path_graph(n, w), bins=10, batch_size=4)
    hop = s["hop"]
    assert hop["diameter"] == n - 1
    assert hop["average_path_length"] == pytest.approx((n + 1) / 3)
    assert hop["components"] == 1 and hop["largest_component"] == n
    assert hop["lengths"] == [1, 2, 3, 4, 5]
    assert hop["counts"] == [2 * (n - L) for L in range(1, n)]  # ordered pairs at hop distance L
    assert hop["unreachable_pairs"] == 0
    d = all_pairs(n, *path_graph(n, w))
    wt = s["weighted"]
    assert wt["reachable_pairs"] == n * (n - 1) == d.size and wt["unreachable_pairs"] == 0
    assert wt["min"] == 1.0 and wt["max"] == 15.0  # the longest path 1 + 2 + 3 + 4 + 5
    assert wt["mean"] == pytest.approx(d.mean())
    counts, _ = np.histogram(d, bins=np.asarray(wt["bin_edges"]))
    assert wt["counts"] == counts.tolist()
    assert abs(wt["median"] - np.median(d)) <= wt["quantile_error_bound"]
    assert s["n_edges"] == n - 1 and s["edge_weight"]["max"] == 5.0


@pytest.mark.parametrize("n", [7, 8])
def test_cycle_exact(n):
    src = np.arange(n)
    dst = (src + 1) % n
    s = graph_statistics(n, src, dst, np.ones(n), bins=4)
    hop = s["hop"]
    assert hop["diameter"] == n // 2
    # mean distance on a cycle: n^2 / (4 (n - 1)) for even n, (n + 1) / 4 for odd n
    expected = n * n / (4 * (n - 1)) if n % 2 == 0 else (n + 1) / 4
    assert hop["average_path_length"] == pytest.approx(expected)
    wt = s["weighted"]
    assert wt["mean"] == pytest.approx(expected)  # unit weights: weighted = hop
    assert sum(wt["counts"]) == n * (n - 1)


def test_components_and_unreachable_pairs():
    # a path of 3 and a path of 2: 2 * 3 * 2 = 12 unreachable ordered pairs
    src, dst, w = np.array([0, 1, 3]), np.array([1, 2, 4]), np.array([0.5, 0.25, 2.0])
    s = graph_statistics(5, src, dst, w, bins=4)
    assert s["hop"]["components"] == 2 and s["hop"]["component_sizes"] == [3, 2]
    assert s["hop"]["unreachable_pairs"] == 12 == s["weighted"]["unreachable_pairs"]
    assert s["weighted"]["reachable_pairs"] == 8
    assert s["hop"]["diameter"] == 2
    assert s["weighted"]["max"] == 2.0 and s["weighted"]["min"] == 0.25
    with pytest.raises(LatentGraphError):
        graph_statistics(3, np.array([0]), np.array([3]), np.array([1.0]))


def test_directed_graph():
    # 0 -> 1 -> 2: ordered reachable pairs (0,1), (1,2), (0,2)
    s = graph_statistics(3, np.array([0, 1]), np.array([1, 2]), np.array([1.0, 3.0]), directed=True, bins=2)
    assert s["hop"]["counts"] == [2, 1] and s["hop"]["unreachable_pairs"] == 3
    assert s["weighted"]["reachable_pairs"] == 3 and s["weighted"]["max"] == 4.0
    assert s["hop"]["components"] == 3 and s["hop"]["weak_components"] == 1


@pytest.mark.parametrize("directed", [False, True])
def test_knn_graph_against_networkx(directed):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5)).astype(np.float32)
    labels = rng.integers(0, 3, 90)
    idx, dist = knn(X, 6, backend="numpy")
    table = KnnTable(idx, dist, np.arange(90), labels)
    s = knn_graph_statistics(table, 3, directed=directed, bins=50, batch_size=16)
    src, dst, w = table.edges(3, directed=directed)
    d = all_pairs(90, src, dst, w, directed=directed)
    fin = d[np.isfinite(d)]
    wt = s["weighted"]
    assert wt["reachable_pairs"] == fin.size and wt["unreachable_pairs"] == d.size - fin.size
    assert wt["max"] == pytest.approx(fin.max()) and wt["mean"] == pytest.approx(fin.mean())
    counts, _ = np.histogram(fin, bins=np.asarray(wt["bin_edges"]))
    assert wt["counts"] == counts.tolist()
    for q in (0.05, 0.5, 0.95):
        assert abs(wt["quantiles"][f"{q:g}"] - np.quantile(fin, q)) <= wt["quantile_error_bound"]
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(90))
    G.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    hops = np.array([L for _, lengths in nx.all_pairs_shortest_path_length(G) for L in lengths.values() if L > 0])
    assert s["hop"]["diameter"] == hops.max()
    assert s["hop"]["average_path_length"] == pytest.approx(hops.mean())
    g = to_igraph(90, src, dst, w, directed=directed)  # igraph's own functions agree
    assert s["hop"]["diameter"] == g.diameter(directed=directed, unconn=True)
    assert s["hop"]["average_path_length"] == pytest.approx(g.average_path_length(directed=directed, unconn=True))
    assert s["hop"]["counts"] == np.bincount(hops)[1:][np.bincount(hops)[1:] > 0].tolist()
    comps = nx.number_strongly_connected_components(G) if directed else nx.number_connected_components(G)
    assert s["hop"]["components"] == comps
    assert s["k"] == 3
    # the batch size only changes the speed
    again = knn_graph_statistics(table, 3, directed=directed, bins=50, batch_size=90)
    assert again["weighted"] == wt


def test_streaming_histogram_matches_numpy():
    rng = np.random.default_rng(0)
    chunks = [rng.uniform(0, 1, 100), rng.uniform(0, 3.5, 500), rng.uniform(0, 50, 50), np.array([0.0, 50.0])]
    h = StreamingHistogram(8, upper=0.7)
    for c in chunks:
        h.add(c)
    allv = np.concatenate(chunks)
    assert h.upper == 0.7 * 2**7  # the smallest 0.7 * 2^j above the maximum 50
    # the same values in other chunks and another order give the same histogram
    h2 = StreamingHistogram(8, upper=0.7)
    for c in np.array_split(allv[::-1], 5):
        h2.add(c)
    assert h2.upper == h.upper and h2.counts.tolist() == h.counts.tolist()
    counts, _ = np.histogram(allv, bins=h.edges)
    assert h.counts.tolist() == counts.tolist()
    assert h.n == allv.size and h.total == pytest.approx(allv.sum())
    assert h.min == 0.0 and h.max == 50.0
    with pytest.raises(LatentGraphError):
        StreamingHistogram(7)
    with pytest.raises(LatentGraphError):
        StreamingHistogram(8, upper=0.0)
    with pytest.raises(LatentGraphError):
        h.add(np.array([-1.0]))
    z = StreamingHistogram(4)
    z.add(np.zeros(3))
    assert z.counts.tolist() == [3, 0, 0, 0] and z.quantile(0.5) == 0.0


def test_graphstats_command_refuses_a_graph_without_edges(tmp_path, capsys):
    from latentgraph.cli import main

    (tmp_path / "e.csv").write_text("source,target,weight\n")
    (tmp_path / "loops.csv").write_text("source,target\n0,0\n1,1\n")
    (tmp_path / "n.csv").write_text("id,name\n0,a\n1,b\n")
    for argv in (["e.csv"], ["e.csv", "--nodes", "n.csv"], ["loops.csv", "--json"]):
        path = str(tmp_path / argv[0])
        extra = [str(tmp_path / a) if a.endswith(".csv") else a for a in argv[1:]]
        assert main(["graphstats", path, *extra]) == 2, argv
        captured = capsys.readouterr()
        assert f"{path}: the graph has no edges" in captured.err and captured.out == "", argv
