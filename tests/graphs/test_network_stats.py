"""Tests of latentgraph.graphs.network_stats: measures against networkx, hubs, communities, graph files,
bad input, and the thesis's own ImageNet class graph (Table 5.6)."""

from __future__ import annotations

import json

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from helpers import REPO
from scipy.stats import skew

from latentgraph.cli import main
from latentgraph.graphs.network_stats import (
    communities,
    degree_distribution,
    graph_summary,
    hubs,
    k_occurrence_skewness,
    load_graph,
    measures,
)
from latentgraph.utils import LatentGraphError

REFERENCE = REPO.parent / "shared" / "reference" / "thesis_imagenet_class_graph"


def random_graph(seed=0, n=40, p=0.08):
    """An Erdos-Renyi graph plus a separate triangle (two or more components), with distances."""
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(iu[0].size) < p
    e = list(zip(iu[0][keep].tolist(), iu[1][keep].tolist(), strict=True)) + [(n, n + 1), (n + 1, n + 2), (n, n + 2)]
    g = ig.Graph(n=n + 3, edges=e)
    g.es["distance"] = rng.uniform(0.5, 3.0, g.ecount()).tolist()
    return g


def to_nx(g) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(g.vcount()))
    for e in g.es:
        G.add_edge(e.source, e.target, distance=e["distance"] if "distance" in g.es.attributes() else 1.0)
    return G


def test_measures_equal_networkx():
    g = random_graph()
    G = to_nx(g)
    m = measures(g, distance="distance")
    comps = [G.subgraph(c) for c in nx.connected_components(G)]
    assert m["components"] == len(comps) >= 2
    assert m["diameter"] == max(nx.diameter(c) for c in comps if c.number_of_nodes() > 1)
    pairs = sum(c.number_of_nodes() * (c.number_of_nodes() - 1) for c in comps)
    total = sum(sum(d for lengths in nx.shortest_path_length(c) for d in lengths[1].values()) for c in comps)
    assert m["average_path_length"] == pytest.approx(total / pairs)
    assert m["clustering"] == pytest.approx(nx.average_clustering(G))
    assert m["transitivity"] == pytest.approx(nx.transitivity(G))
    assert m["average_degree"] == pytest.approx(2 * G.number_of_edges() / G.number_of_nodes())
    assert m["degree_skewness"] == pytest.approx(skew([d for _, d in G.degree()]))
    wtotal = sum(sum(d for lengths in nx.shortest_path_length(c, weight="distance") for d in lengths[1].values())
                 for c in comps)
    assert m["weighted_average_path_length"] == pytest.approx(wtotal / pairs)
    wdiam = max(max(d.values()) for c in comps for _, d in nx.shortest_path_length(c, weight="distance"))
    assert m["weighted_diameter"] == pytest.approx(wdiam)


def test_degree_distribution_and_hubs():
    g = ig.Graph.Star(6) + ig.Graph(n=2, edges=[(0, 1)])
    g.vs["class_name"] = list("abcdefgh")
    dd = degree_distribution(g)
    assert dd["degree"].tolist() == [1, 5] and dd["count"].tolist() == [7, 1]
    h = hubs(g, 3)
    assert h["name"].tolist() == ["a", "b", "c"] and h["degree"].tolist() == [5, 1, 1]  # ties by index


def test_k_occurrence_skewness():
    nb = np.array([[1, 2], [0, 2], [0, 1], [0, 2], [0, -1]])
    assert k_occurrence_skewness(nb) == pytest.approx(skew(np.bincount(nb[nb >= 0], minlength=5)))
    assert k_occurrence_skewness(np.array([[1], [0]])) == 0.0


def two_cliques() -> ig.Graph:
    g = ig.Graph.Full(5) + ig.Graph.Full(5)
    g.add_edge(0, 5)
    return g


@pytest.mark.parametrize("method", ["louvain", "leiden"])
def test_communities_two_cliques_and_modularity(method):
    g = two_cliques()
    c = communities(g, method, seed=3)
    assert c.count == 2 and c.sizes.tolist() == [5, 5]
    assert c.membership[0] == 0  # ids by size, then by smallest member
    G = nx.Graph(g.get_edgelist())
    parts = [set(np.flatnonzero(c.membership == i).tolist()) for i in range(c.count)]
    assert c.modularity == pytest.approx(nx.community.modularity(G, parts))


@pytest.mark.parametrize("method", ["louvain", "leiden"])
def test_communities_are_reproducible(method):
    g = random_graph(seed=2, n=120, p=0.05)
    w = 1.0 / np.asarray(g.es["distance"])
    a = communities(g, method, weights=w, seed=11)
    b = communities(g, method, weights=w, seed=11)
    np.testing.assert_array_equal(a.membership, b.membership)
    assert a.weighted and a.modularity > 0.3
    G = nx.Graph()
    G.add_nodes_from(range(g.vcount()))
    for e, x in zip(g.es, w, strict=True):
        G.add_edge(e.source, e.target, weight=x)
    parts = [set(np.flatnonzero(a.membership == i).tolist()) for i in range(a.count)]
    assert a.modularity == pytest.approx(nx.community.modularity(G, parts, weight="weight"))
    with pytest.raises(LatentGraphError, match="> 0"):
        communities(g, method, weights=-w)


def test_load_graph_csv_and_errors(tmp_path):
    (tmp_path / "e.csv").write_text("source,target,weight\na,b,1.5\nb,c,2\nc,a,0.5\nc,d,1\n")
    (tmp_path / "n.csv").write_text("id,name,acc\na,Alpha,0.5\nb,Beta,0.7\nc,Gamma,0.9\nd,Delta,1\ne,Eps,0\n")
    g = load_graph(tmp_path / "e.csv", nodes=tmp_path / "n.csv")
    assert g.vcount() == 5 and g.ecount() == 4 and g.vs["class_name"][2] == "Gamma" and g.vs["acc"][1] == 0.7
    assert g.es["weight"] == [1.5, 2.0, 0.5, 1.0]
    s = graph_summary(g, distance="weight", seed_sweep=0)
    assert s["measures"]["components"] == 2 and s["hubs"][0]["name"] == "Gamma"
    g2 = load_graph(tmp_path / "e.csv")  # without a node file: ids in sorted order
    assert g2.vs["id"] == ["a", "b", "c", "d"]
    (tmp_path / "neg.csv").write_text("source,target,weight\n0,1,1\n1,2,0\n")
    with pytest.raises(LatentGraphError, match=r"must be finite and > 0; 1 are not, e.g. 0.0 on edge 1-2"):
        graph_summary(load_graph(tmp_path / "neg.csv"), distance="weight")
    (tmp_path / "g.txt").write_text("0 1\n")
    with pytest.raises(LatentGraphError, match=r"unknown graph file format '.txt'; allowed: \['.graphml', '.gexf', '.csv'\]"):
        load_graph(tmp_path / "g.txt")
    (tmp_path / "bad.csv").write_text("from,to\n0,1\n")
    with pytest.raises(LatentGraphError, match="'source' and 'target'"):
        load_graph(tmp_path / "bad.csv")
    (tmp_path / "n2.csv").write_text("id,name\na,A\n")
    with pytest.raises(LatentGraphError, match="missing from the node file"):
        load_graph(tmp_path / "e.csv", nodes=tmp_path / "n2.csv")
    (tmp_path / "bad.gexf").write_text("<notgexf/>")
    with pytest.raises(LatentGraphError, match="bad.gexf: cannot read GEXF .NetworkXError: No <graph> element"):
        load_graph(tmp_path / "bad.gexf")
    (tmp_path / "bad.gexf").write_text("<gexf><graph>")
    with pytest.raises(LatentGraphError, match="cannot read GEXF .ParseError"):
        load_graph(tmp_path / "bad.gexf")
    with pytest.raises(LatentGraphError, match="does not exist"):
        load_graph(tmp_path / "missing.graphml")


def test_load_graph_reads_gexf_of_other_writers(tmp_path):
    """A file networkx writes (GEXF 1.2draft, its own ids and types): vertices and edges in
    file order, typed attributes, GEXF weights (1.0 where absent), directed read as undirected."""
    G = nx.Graph()
    G.add_node("b", label="Bee", size=3, ok=True)
    G.add_node("a", label="Ay", size=1, ok=False)
    G.add_node("c")
    G.add_edge("b", "c", weight=0.5, kind="x")
    G.add_edge("a", "b", kind="y")
    nx.write_gexf(G, tmp_path / "g.gexf")
    g = load_graph(tmp_path / "g.gexf")
    assert g.vs["id"] == ["b", "a", "c"] and g.vs["label"] == ["Bee", "Ay", "c"]
    assert g.vs["size"] == [3, 1, None] and g.vs["ok"] == [True, False, None]
    assert g.get_edgelist() == [(0, 2), (0, 1)] and g.es["weight"] == [0.5, 1.0] and g.es["kind"] == ["x", "y"]
    nx.write_gexf(nx.DiGraph([(0, 1), (1, 0), (1, 2)]), tmp_path / "d.gexf")
    d = load_graph(tmp_path / "d.gexf")
    assert not d.is_directed() and d.ecount() == 2


def test_graphstats_cli(tmp_path, capsys):
    (tmp_path / "e.csv").write_text("source,target,weight\n0,1,1\n1,2,2\n2,0,1\n2,3,1\n")
    assert main(["graphstats", str(tmp_path / "e.csv"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["measures"]["diameter"] == 2 and out["measures"]["edges"] == 4
    assert out["hubs"][0]["vertex"] == 2 and out["communities"]["louvain"]["count"] >= 1
    assert main(["graphstats", str(tmp_path / "e.csv")]) == 0
    text = capsys.readouterr().out
    assert "average degree" in text and "hubs (highest degree)" in text and "louvain communities" in text
    (tmp_path / "z.csv").write_text("source,target,weight\n0,1,1\n1,2,-3\n")
    assert main(["graphstats", str(tmp_path / "z.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must be finite and > 0" in err
    (tmp_path / "g.net").write_text("")
    assert main(["graphstats", str(tmp_path / "g.net")]) == 2
    assert "unknown graph file format" in capsys.readouterr().err


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not available")
def test_thesis_imagenet_class_graph_table_5_6(capsys):
    """The thesis's published ImageNet class graph reproduces Table 5.6 and section 5.2.1."""
    g = load_graph(REFERENCE / "edges.csv", nodes=REFERENCE / "nodes.csv")
    assert (g.vcount(), g.ecount()) == (1000, 3158)
    s = graph_summary(g, distance="weight", community_weights=None, seed=0)
    m = s["measures"]
    assert m["average_degree"] == pytest.approx(6.316)
    assert m["diameter"] == 14
    assert round(m["average_path_length"], 1) == 6.4
    assert round(m["clustering"], 2) == 0.46
    assert m["components"] == 1
    top = s["hubs"][:2]
    assert [h["name"].split(",")[0] for h in top] == ["miniskirt", "Band Aid"]
    assert [h["degree"] for h in top] == [85, 76]
    # Gephi's Louvain found 17 communities (16-17 in the figures); seeded Louvain lands near it
    counts = s["communities"]["louvain_seed_sweep"]["counts"]
    assert min(counts) >= 15 and max(counts) <= 20 and 17 in counts
    # the node file's degrees are the graph's
    nodes = pd.read_csv(REFERENCE / "nodes.csv")
    assert g.degree() == nodes["degree"].tolist()
    # and the CLI prints the same
    assert main(["graphstats", str(REFERENCE / "edges.csv"), "--nodes", str(REFERENCE / "nodes.csv"),
                 "--unweighted-communities", "--compare", "gephi_modularity_class", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["measures"]["average_degree"] == 6.316 and out["hubs"][0]["degree"] == 85
    # our communities largely agree with the thesis's Gephi communities (16 in the file)
    assert out["communities"]["compared_with"]["count"] == 16
    assert out["communities"]["louvain"]["nmi_vs_gephi_modularity_class"] > 0.85
    assert out["communities"]["leiden"]["nmi_vs_gephi_modularity_class"] > 0.85
