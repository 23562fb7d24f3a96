"""Tests of latentgraph.graphs.export: GEXF and GraphML read back by independent readers, the
layout's reproducibility, the CSV tables, atomic writes; and the classgraph command."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from latentgraph.cli import main
from latentgraph.graphs.export import edge_table, layout, node_table, write_gexf, write_graphml
from latentgraph.graphs.network_stats import load_graph
from latentgraph.io import write_latents
from latentgraph.utils import LatentGraphError


def class_graph() -> ig.Graph:
    g = ig.Graph(n=4, edges=[(0, 1), (1, 2), (2, 3), (0, 3)])
    g.vs["class_index"] = [0, 1, 2, 5]
    g.vs["class_name"] = ["tench, Tinca tinca", "goldfish & co", 'say "hi"', "<band aid>"]
    g.vs["class_accuracy"] = [0.5, float("nan"), 1.0, 0.25]
    g.vs["degree"] = g.degree()
    g.vs["louvain"] = [0, 0, 1, 1]
    g.es["distance"] = [2.0, 4.0, 1.0, 8.0]
    g.es["similarity"] = [0.5, 0.25, 1.0, 0.125]
    return g


def test_gexf_is_read_by_networkx_and_back(tmp_path):
    g = class_graph()
    pos = layout(g, seed=1)
    path = write_gexf(g, tmp_path / "g.gexf", positions=pos)
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.gexf.net/1.2draft}gexf" and root.get("version") == "1.2"
    meta = root.find("{http://www.gexf.net/1.2draft}meta")
    assert meta.get("lastmodifieddate") is None and meta[0].text == "latentgraph"
    G = nx.read_gexf(path)
    assert G.number_of_nodes() == 4 and G.number_of_edges() == 4
    n3 = G.nodes["3"]
    assert n3["label"] == "<band aid>" and n3["class_index"] == 5 and n3["class_accuracy"] == 0.25
    assert "class_accuracy" not in G.nodes["1"]  # NaN is left out
    assert (n3["viz"]["position"]["x"], n3["viz"]["position"]["y"]) == (pos[3, 0], pos[3, 1])  # exact
    assert (n3["viz"]["color"]["r"], n3["viz"]["color"]["g"], n3["viz"]["color"]["b"]) == (255, 127, 14)
    assert [G.nodes[v]["viz"]["size"] for v in "0123"] == [10.0] * 4  # equal degrees: the middle size
    assert G.edges["0", "1"]["weight"] == 0.5 and G.edges["0", "1"]["distance"] == 2.0
    back = load_graph(path)  # our own reader
    assert back.vs["class_name"] == g.vs["class_name"] and back.es["distance"] == g.es["distance"]
    assert back.vs["class_index"] == g.vs["class_index"] and back.vs["class_accuracy"][1] is None
    assert back.es["weight"] == g.es["similarity"] and back.get_edgelist() == g.get_edgelist()
    # equal graphs give equal files (no date in the meta element)
    assert write_gexf(g, tmp_path / "again.gexf", positions=pos).read_bytes() == path.read_bytes()


def test_gexf_keeps_the_edge_order_and_sizes_by_degree(tmp_path):
    g = ig.Graph(n=4, edges=[(2, 3), (0, 1), (1, 2), (0, 2)])  # not sorted: networkx would reorder them
    g.vs["class_name"] = list("abcd")
    g.vs["degree"] = g.degree()
    g.es["similarity"] = [0.1, 0.2, 0.3, 0.4]
    path = write_gexf(g, tmp_path / "g.gexf", color_by=None)
    back = load_graph(path)
    assert back.get_edgelist() == g.get_edgelist() and back.es["weight"] == g.es["similarity"]
    sizes = {v: d["viz"]["size"] for v, d in nx.read_gexf(path).nodes(data=True)}
    assert sizes == {"0": 22.0, "1": 22.0, "2": 40.0, "3": 4.0}  # degrees 2, 2, 3, 1 scaled to 4..40
    assert all("color" not in d["viz"] for _, d in nx.read_gexf(path).nodes(data=True))
    g.vs["label"] = list("wxyz")  # a GEXF field of its own: refused, not silently dropped
    with pytest.raises(LatentGraphError, match=r"\['label'\] carry names of GEXF's own fields"):
        write_gexf(g, tmp_path / "bad.gexf")


def test_graphml_is_read_by_networkx_and_igraph(tmp_path):
    g = class_graph()
    path = write_graphml(g, tmp_path / "g.graphml")
    G = nx.read_graphml(path)
    assert G.number_of_edges() == 4 and G.nodes["n3"]["class_name"] == "<band aid>"
    assert G.edges["n0", "n3"]["distance"] == 8.0
    back = load_graph(path)
    assert back.vs["class_name"] == g.vs["class_name"] and back.es["similarity"] == g.es["similarity"]


def test_tables_layout_and_atomic_writes(tmp_path):
    g = class_graph()
    nodes, edges = node_table(g), edge_table(g)
    assert nodes["id"].tolist() == [0, 1, 2, 3] and edges[["source", "target"]].values.tolist() == [list(e) for e in g.get_edgelist()]
    np.testing.assert_array_equal(layout(g, seed=4), layout(g, seed=4))
    assert not np.allclose(layout(g, seed=4), layout(g, seed=5))
    with pytest.raises(LatentGraphError, match="positions must have shape"):
        write_gexf(g, tmp_path / "bad.gexf", positions=np.zeros((3, 2)))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def latents_file(tmp_path):
    rng = np.random.default_rng(0)
    C, per = 6, 25
    labels = np.repeat(np.arange(C), per)
    X = rng.normal(size=(C, 8))[labels] + rng.normal(size=(labels.size, 8))
    pred = np.where(rng.random(labels.size) < 0.8, labels, 0)
    return write_latents(tmp_path / "lat.parquet", X, labels, prediction=pred,
                         metadata={"class_names": [f"c{i}" for i in range(C)]})


def test_classgraph_command(latents_file, tmp_path, capsys):
    out = tmp_path / "cg"
    assert main(["classgraph", str(latents_file), "--k", "4", "--class-k", "2", "-o", str(out)]) == 0
    assert "6 classes" in capsys.readouterr().out
    for name in ["class_distances.parquet", "nodes.csv", "edges.csv", "class_graph.graphml", "class_graph.gexf",
                 "stats.json", "summary.md", "degree_distribution.csv", "class_graph.png", "class_graph.svg",
                 "class_graph_accuracy.png", "degree_distribution.png"]:
        assert (out / name).stat().st_size > 0, name
    nodes = pd.read_csv(out / "nodes.csv")
    assert nodes["class_name"].tolist() == [f"c{i}" for i in range(6)]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["measures"]["vertices"] == 6 and stats["sample_graph"]["k"] == 4
    # graphstats on the exported files agrees with the stored statistics
    for f in ("class_graph.graphml", "class_graph.gexf"):
        assert main(["graphstats", str(out / f), "--json"]) == 0
        again = json.loads(capsys.readouterr().out)
        for key in ("diameter", "average_path_length", "average_degree", "clustering", "k_occurrence_skewness"):
            assert again["measures"][key] == pytest.approx(stats["measures"][key]), (f, key)
        assert again["communities"]["louvain"]["members"] == stats["communities"]["louvain"]["members"]
    # the hop weighting and a names file
    (tmp_path / "names.txt").write_text("\n".join(f"name {i}" for i in range(6)) + "\n")
    assert main(["classgraph", str(latents_file), "--weights", "hops", "--class-names", str(tmp_path / "names.txt"),
                 "--class-k", "3", "--no-figures", "-o", str(tmp_path / "hops")]) == 0
    assert pd.read_csv(tmp_path / "hops" / "nodes.csv")["class_name"][0] == "name 0"
    assert not (tmp_path / "hops" / "class_graph.png").exists()


def test_classgraph_command_bad_input(latents_file, tmp_path, capsys):
    out = tmp_path / "cg"
    assert main(["classgraph", str(latents_file), "--class-k", "6", "-o", str(out)]) == 2
    assert "--class-k 6 must be smaller than the number of classes (6)" in capsys.readouterr().err
    assert not out.exists()  # nothing written
    (tmp_path / "few.txt").write_text("a\nb\n")
    assert main(["classgraph", str(latents_file), "--class-names", str(tmp_path / "few.txt"), "-o", str(out)]) == 2
    assert "2 names" in capsys.readouterr().err and not out.exists()
