"""The explorer's Python side: the page data matches the kNN tables and the class graph, the
layout is deterministic, bad inputs fail clearly (or degrade as documented), pages are
self-contained."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO

from latentgraph.cli import main
from latentgraph.explore import GraphInput, PageOptions, class_graph_page_data, page_data, render_page, write_page
from latentgraph.explore.data import scale_layout, thumbnail_atlas
from latentgraph.explore.plan import explore_pages
from latentgraph.explore.thumbs import read_thumbnails, write_thumbnails
from latentgraph.graphs.knn import knn_table
from latentgraph.io import read_knn, write_knn, write_latents
from latentgraph.utils import LatentGraphError

THESIS_GRAPH = REPO.parent / "shared" / "reference" / "thesis_imagenet_class_graph"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two seeded latents files of the same 200 samples (rows in different orders), their kNN
    tables (k = 8), thumbnails and a class graph folder of the first."""
    d = tmp_path_factory.mktemp("explore")
    rng = np.random.default_rng(0)
    C, n, dim = 5, 40, 8
    labels = np.repeat(np.arange(C), n)
    centres = rng.normal(size=(C, dim)) * 3
    ids = np.arange(labels.size) * 3 + 7
    for name, seed in (("A", 0), ("B", 1)):
        r = np.random.default_rng(seed)
        X = (centres[labels] + r.normal(size=(labels.size, dim))).astype(np.float32)
        pred = labels.copy()
        pred[r.choice(labels.size, 20, replace=False)] = r.integers(0, C, 20)
        perm = np.arange(labels.size) if name == "A" else r.permutation(labels.size)
        write_latents(d / f"{name}.parquet", X[perm], labels[perm], ids[perm], pred[perm],
                      {"run": name, "epoch": 3})
        write_knn(d / f"knn{name}.parquet", knn_table(X[perm], 8, labels[perm], ids[perm], backend="numpy"))
    images = rng.integers(0, 256, size=(labels.size, 16, 16, 1), dtype=np.uint8)
    write_thumbnails(d / "thumbs.parquet", ids, images, {"dataset": "synthetic"})
    assert main(["classgraph", str(d / "A.parquet"), "--class-k", "2", "--no-figures", "-o", str(d / "cg")]) == 0
    return d


def graphs(d: Path, two: bool = True) -> list[GraphInput]:
    out = [GraphInput(d / "A.parquet", d / "knnA.parquet")]
    if two:
        out.append(GraphInput(d / "B.parquet", d / "knnB.parquet"))
    return out


@pytest.fixture(scope="module")
def page(files):
    cg = {"nodes": files / "cg" / "nodes.csv", "edges": files / "cg" / "edges.csv", "stats": files / "cg" / "stats.json"}
    return page_data(graphs(files), class_graph=cg, thumbnails=files / "thumbs.parquet", options=PageOptions(k=4))


def test_sample_neighbours_k_occurrence_and_jaccard_match_the_knn_tables(files, page):
    ids = np.asarray(page["sample_id"])
    for panel, name in zip(page["samples"], "AB", strict=True):
        t = read_knn(files / f"knn{name}.parquet")
        row = {int(s): i for i, s in enumerate(t.sample_id)}
        nbr = np.asarray(panel["nbr"]).reshape(len(ids), 4)
        for i, s in enumerate(ids):
            expected = t.sample_id[t.indices[row[int(s)], :4]]
            assert list(ids[nbr[i]]) == list(expected)  # the k nearest, nearest first, as sample ids
            assert panel["label"][i] == t.labels[row[int(s)]]
        kocc = np.zeros(len(ids), int)
        for s in t.sample_id[t.indices[:, :4]].ravel():
            kocc[np.flatnonzero(ids == s)[0]] += 1
        assert panel["kocc"] == kocc.tolist()
    # per-sample Jaccard of the undirected k = 4 graphs, from neighbour sets built here
    sets = []
    for name in "AB":
        t = read_knn(files / f"knn{name}.parquet")
        nb = {int(s): set() for s in t.sample_id}
        for i, s in enumerate(t.sample_id):
            for j in t.sample_id[t.indices[i, :4]]:
                nb[int(s)].add(int(j))
                nb[int(j)].add(int(s))
        sets.append(nb)
    expected = [len(sets[0][s] & sets[1][s]) / len(sets[0][s] | sets[1][s]) for s in ids.tolist()]
    assert np.allclose(page["samples"][0]["jaccard"], expected, atol=1e-4)
    assert page["samples"][0]["jaccard"] == page["samples"][1]["jaccard"]


def test_predictions_and_class_names_come_from_the_latents(files, page):
    from latentgraph.io import read_latents

    lat = read_latents(files / "B.parquet")
    pos = {int(s): i for i, s in enumerate(lat.sample_id)}
    assert page["samples"][1]["pred"] == [int(lat.prediction[pos[s]]) for s in page["sample_id"]]
    assert page["class_names"] == ["0", "1", "2", "3", "4"]


def test_class_view_matches_the_class_graph_files(files, page):
    cv = page["class_view"]
    nodes = pd.read_csv(files / "cg" / "nodes.csv")
    edges = pd.read_csv(files / "cg" / "edges.csv")
    stats = json.loads((files / "cg" / "stats.json").read_text())
    assert cv["name"] == nodes["class_name"].astype(str).tolist()
    assert sorted(zip(cv["edges"]["source"], cv["edges"]["target"], strict=True)) == sorted(
        zip(edges["source"], edges["target"], strict=True))
    assert cv["degree"] == nodes["degree"].tolist()
    assert cv["hubs"] == [h["vertex"] for h in stats["hubs"]]
    assert np.allclose(cv["accuracy"], nodes["class_accuracy"], atol=1e-4)
    assert np.allclose(cv["within"], nodes["within_class_distance"], atol=1e-4)
    assert [m for m, _ in cv["communities"]] == ["Louvain", "Leiden"]
    assert cv["communities"][0][1] == nodes["louvain"].tolist()


def test_layout_is_deterministic_and_seeded(files):
    opts = PageOptions(k=4, seed=3)
    one = render_page(page_data(graphs(files, two=False), options=opts), "t")
    two = render_page(page_data(graphs(files, two=False), options=opts), "t")
    assert one == two  # same input + seed -> same bytes
    other = page_data(graphs(files, two=False), options=PageOptions(k=4, seed=4))
    again = page_data(graphs(files, two=False), options=opts)
    assert other["samples"][0]["x"] != again["samples"][0]["x"]


def test_layout_keeps_classes_apart(files, page):
    """UMAP of well separated classes: a sample's nearest other point in the layout is mostly of its class."""
    P = page["samples"][0]
    xy = np.column_stack([P["x"], P["y"]]).astype(float)
    d = np.abs(xy[:, None, :] - xy[None, :, :]).sum(-1)
    np.fill_diagonal(d, np.inf)
    lab = np.asarray(P["label"])
    assert np.mean(lab[d.argmin(1)] == lab) > 0.9
    assert min(P["x"]) >= 0 and max(max(P["x"]), max(P["y"])) <= 10000


def test_scale_layout_fills_the_square():
    out = scale_layout(np.array([[0.0, 0.0], [2.0, 1.0], [1.0, 0.5]]))
    assert out.tolist() == [[0, 2500], [10000, 7500], [5000, 5000]]


def test_thumbnails_round_trip_and_atlas_cells(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(70, 8, 8, 1), dtype=np.uint8)
    ids = np.arange(70) * 2
    write_thumbnails(tmp_path / "t.parquet", ids, images)
    rid, rim = read_thumbnails(tmp_path / "t.parquet")
    assert np.array_equal(rid, ids) and np.array_equal(rim, images)
    from PIL import Image

    def decode(uri):
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))

    pages = thumbnail_atlas(images, grid=8)  # grey: lossless PNG pages of 64 cells
    assert len(pages) == 2 and pages[0].startswith("data:image/png;base64,")
    r, c = divmod(13, 8)
    assert np.array_equal(decode(pages[0])[r * 8:(r + 1) * 8, c * 8:(c + 1) * 8], images[13, :, :, 0])
    assert np.array_equal(decode(pages[1])[0:8, 8:16], images[65, :, :, 0])
    # colour: JPEG pages, each cell close to its thumbnail (smooth images survive JPEG well)
    yy, xx = np.mgrid[0:16, 0:16]
    smooth = np.stack([np.stack([xx * 15, yy * 15, (xx + yy) * 7 + 3 * i], -1) for i in range(5)]).astype(np.uint8)
    colour = thumbnail_atlas(smooth, grid=4)
    assert colour[0].startswith("data:image/jpeg;base64,") and colour == thumbnail_atlas(smooth, grid=4)
    sheet = decode(colour[0])
    assert np.abs(sheet[16:32, 0:16].astype(int) - smooth[4]).mean() < 3


def test_thumbnail_index_follows_the_page_rows_and_the_cap(files):
    d = page_data(graphs(files, two=False), thumbnails=files / "thumbs.parquet", options=PageOptions(k=4, thumbnail_cap=50))
    idx = d["thumbnails"]["index"]
    assert idx[:50] == list(range(50)) and set(idx[50:]) == {-1}
    assert any("first 50 of 200" in n for n in d["notes"])


@pytest.mark.parametrize("bad", [np.zeros((3, 8, 8, 2), np.uint8), np.zeros((3, 8, 6, 1), np.uint8),
                                 np.zeros((3, 8, 8, 1), np.float32)])
def test_bad_thumbnails_are_refused(tmp_path, bad):
    with pytest.raises(LatentGraphError, match="thumbnails must be"):
        write_thumbnails(tmp_path / "t.parquet", np.arange(3), bad)


def test_latents_without_images_give_a_page_without_thumbnails(files, tmp_path):
    d = page_data(graphs(files, two=False), options=PageOptions(k=4))
    assert d["thumbnails"] is None and "no thumbnails" in d["thumbnail_note"]
    assert any("No thumbnails" in n for n in d["notes"])
    html = render_page(d, "t")
    assert "no thumbnails" in html


def test_class_names_of_the_wrong_length_are_a_clear_error(files, tmp_path, capsys):
    names = tmp_path / "names.txt"
    names.write_text("cat\ndog\n")
    rc = main(["explore", str(files / "A.parquet"), "--class-names", str(names), "-o", str(tmp_path / "p.html")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "2 class names, but the latents have 5 classes" in err and str(names) in err
    assert not (tmp_path / "p.html").exists()
    with pytest.raises(LatentGraphError, match="class names"):
        page_data(graphs(files, two=False), class_names=["a"] * 6)


def test_graphs_of_different_samples_and_too_large_k_are_errors(files, tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    write_latents(tmp_path / "other.parquet", X, np.arange(30) % 3, np.arange(30))
    write_knn(tmp_path / "knn_other.parquet", knn_table(X, 5, np.arange(30) % 3, np.arange(30), backend="numpy"))
    with pytest.raises(LatentGraphError, match="differ|different samples"):
        page_data([graphs(files, two=False)[0], GraphInput(tmp_path / "other.parquet", tmp_path / "knn_other.parquet")])
    with pytest.raises(LatentGraphError, match="k=9"):
        page_data(graphs(files, two=False), options=PageOptions(k=9))
    with pytest.raises(LatentGraphError, match="different samples"):
        page_data([GraphInput(files / "A.parquet", tmp_path / "knn_other.parquet")])


def test_class_graph_files_with_unknown_nodes_are_errors(tmp_path):
    pd.DataFrame({"id": [0, 1], "class_name": ["a", "b"]}).to_csv(tmp_path / "n.csv", index=False)
    pd.DataFrame({"source": [0], "target": [5], "weight": [1.0]}).to_csv(tmp_path / "e.csv", index=False)
    with pytest.raises(LatentGraphError, match="missing from"):
        class_graph_page_data(tmp_path / "n.csv", tmp_path / "e.csv")
    pd.DataFrame({"id": [0, 1], "what": ["a", "b"]}).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(LatentGraphError, match="class_name"):
        class_graph_page_data(tmp_path / "n.csv", tmp_path / "e.csv")


@pytest.mark.skipif(not (THESIS_GRAPH / "nodes.csv").exists(), reason="the thesis's reference class graph is not here")
def test_the_thesis_imagenet_class_graph_opens(tmp_path):
    d = class_graph_page_data(THESIS_GRAPH / "nodes.csv", THESIS_GRAPH / "edges.csv")
    cv = d["class_view"]
    assert len(cv["name"]) == 1000
    hubs = [cv["name"][i] for i in cv["hubs"][:2]]
    assert hubs == ["miniskirt, mini", "Band Aid"]  # the thesis's §5.2.1 hubs
    assert cv["communities"][0][0] == "Gephi modularity class"
    tabby = cv["name"].index("tabby, tabby cat")
    nb = {cv["name"][t if s == tabby else s] for s, t in zip(cv["edges"]["source"], cv["edges"]["target"], strict=True)
          if tabby in (s, t)}
    assert {"tiger cat", "Egyptian cat", "Persian cat"} <= nb


def test_page_is_self_contained(files, page, tmp_path):
    path = write_page(tmp_path / "p.html", page, "a <test> page")
    html = path.read_text()
    assert "<title>a &lt;test&gt; page</title>" in html
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "sourceMappingURL" not in html
    data = re.search(r'<script type="application/json" id="lg-data">(.*?)</script>', html, re.S).group(1)
    assert json.loads(data.replace("<\\/", "</"))["sample_id"] == page["sample_id"]


def test_cli_writes_a_class_graph_page_and_a_sample_page(files, tmp_path, capsys):
    assert main(["explore", "--classgraph", str(files / "cg"), "-o", str(tmp_path / "c.html")]) == 0
    assert main(["explore", str(files / "A.parquet"), str(files / "B.parquet"), "--knn", str(files / "knnA.parquet"),
                 str(files / "knnB.parquet"), "--thumbnails", str(files / "thumbs.parquet"), "--k", "4",
                 "-o", str(tmp_path / "s.html")]) == 0
    out = capsys.readouterr().out
    assert "200 samples in 2 view(s)" in out and "thumbnails" in out
    # without --knn the kNN search happens here: the same neighbours as the stored tables
    assert main(["explore", str(files / "A.parquet"), "--k", "4", "-o", str(tmp_path / "n.html")]) == 0
    stored = page_data(graphs(files, two=False), options=PageOptions(k=4))
    searched = page_data([GraphInput(files / "A.parquet")], options=PageOptions(k=4))
    assert stored["samples"][0]["nbr"] == searched["samples"][0]["nbr"]


def test_explore_pages_of_the_config(tiny_config):
    from helpers import full

    cfg = full(tiny_config)
    pages = explore_pages(cfg)
    assert pages == [{"run": "A", "epoch": 3, "tag": "A/epoch_003", "second": {"run": "B", "epoch": 3},
                      "classgraph": True}]
    cfg["explore"].update({"runs": ["B"], "epochs": [2, 3], "compare": "epoch"})
    pages = explore_pages(cfg)
    assert [(p["tag"], p["second"], p["classgraph"]) for p in pages] == [
        ("B/epoch_002", {"run": "B", "epoch": 1}, False), ("B/epoch_003", {"run": "B", "epoch": 2}, False)]
    cfg["explore"]["runs"] = ["Z"]
    with pytest.raises(LatentGraphError, match="explore.runs"):
        explore_pages(cfg)
    cfg["explore"].update({"runs": None, "epochs": [9]})
    with pytest.raises(LatentGraphError, match="explore.epochs"):
        explore_pages(cfg)
    cfg["explore"].update({"epochs": None, "k": 5})
    with pytest.raises(LatentGraphError, match="explore.k: 5 is larger than the largest knn.k"):
        explore_pages(cfg)
    cfg["explore"]["enabled"] = False
    assert explore_pages(cfg) == []


def test_a_pretrained_only_config_gets_no_page():
    """configs/imagenet_classgraph.yaml trains nothing: a page must not start training runs."""
    from helpers import REPO, full, load_yaml

    cfg = full(load_yaml(REPO / "configs" / "imagenet_classgraph.yaml"))
    assert cfg["classgraph"]["source"].get("pretrained") and cfg["explore"]["enabled"]
    assert explore_pages(cfg) == []
    cfg["explore"]["runs"] = ["A"]  # asked for explicitly: then it trains A
    assert [p["tag"] for p in explore_pages(cfg)] == [f"A/epoch_{cfg['train']['epochs']:03d}"]
