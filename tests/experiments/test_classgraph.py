"""Tests of latentgraph.experiments.classgraph: eq. 4.2 against brute force, the class kNN graph, files,
bad input, the pretrained extraction path and the workflow stage."""

from __future__ import annotations

import copy
import json
import os
import re
import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from helpers import (
    REPO,
    disconnected_graph,
    full,
    knn_graph,
    load_yaml,
    make_imagefolder,
    nx_distances,
    snakemake,
    write_yaml,
)

from latentgraph.config import CLASSGRAPH_FILES
from latentgraph.experiments.classgraph import (
    ClassDistances,
    ClassGraphWarning,
    class_distances,
    class_distances_from_latents,
    class_knn_graph,
    class_neighbors,
    read_class_distances,
    write_class_distances,
)
from latentgraph.graphs.knn import edges, knn
from latentgraph.io import Latents, read_latents
from latentgraph.utils import LatentGraphError


def brute_class_means(D: np.ndarray, labels: np.ndarray):
    """Eq. 4.2 by loops: mean over reachable ordered pairs (s != t); unreachable share."""
    classes = np.unique(labels)
    C = classes.size
    mean = np.full((C, C), np.nan)
    frac = np.full((C, C), np.nan)
    for i, a in enumerate(classes):
        for j, b in enumerate(classes):
            vals = [D[s, t] for s in np.flatnonzero(labels == a) for t in np.flatnonzero(labels == b) if s != t]
            if vals:
                v = np.asarray(vals)
                fin = v[np.isfinite(v)]
                mean[i, j] = fin.mean() if fin.size else np.nan
                frac[i, j] = 1 - fin.size / v.size
    return mean, frac


@pytest.mark.parametrize("weights", ["l1", "hops"])
def test_class_distances_equal_brute_force(weights):
    labels, s, t, w = knn_graph(n=100, C=5, seed=4)
    cd = class_distances(labels, s, t, w, weights=weights, batch_size=9)
    D = nx_distances(labels.size, s, t, w if weights == "l1" else None)
    mean, frac = brute_class_means(D, labels)
    np.testing.assert_allclose(cd.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(cd.unreachable_fraction, frac, atol=0)
    np.testing.assert_array_equal(cd.mean, cd.mean.T)  # symmetric
    np.testing.assert_allclose(cd.within, np.diag(mean), rtol=1e-12)


def test_class_distances_disconnected_graph(caplog):
    n, src, dst, w, labels = disconnected_graph()
    cd = class_distances(labels, src, dst, w, class_names=["a", "b", "c"])
    mean, frac = brute_class_means(nx_distances(n, src, dst, w), labels)
    np.testing.assert_allclose(cd.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(cd.unreachable_fraction, frac)
    f = cd.unreachable_fraction
    assert ((f > 0) & (f < 1)).any()  # partly reachable class pairs: mean over the reachable ones
    assert f[1, 1] == 1 and np.isnan(cd.mean[1, 1])  # class b's samples never meet: no mean
    assert cd.names == ["a", "b", "c"] and cd.metadata["n_components"] == 3
    assert "unreachable" in caplog.text


def test_single_sample_class_is_nan_with_warning():
    labels, s, t, w = knn_graph(n=60, C=3, seed=1)
    labels = labels.copy()
    labels[labels == 2] = 0
    labels[7] = 2  # class 2 now has one sample
    with pytest.warns(ClassGraphWarning, match="single sample"):
        cd = class_distances(labels, s, t, w)
    assert np.isnan(cd.mean[2, 2]) and np.isfinite(cd.mean[2, :2]).all()
    g = class_knn_graph(cd, 1)  # the graph is still built
    assert g.vcount() == 3 and np.isnan(g.vs[2]["within_class_distance"])


def test_class_neighbors_ties_nan_and_padding():
    M = np.array([[0, 2, 2, 1], [2, 0, 3, np.nan], [2, 3, 0, 5], [1, np.nan, 5, 0]], dtype=float)
    nb = class_neighbors(M, 2)
    assert nb.tolist() == [[3, 1], [0, 2], [0, 1], [0, 2]]  # the tie 2 = 2 goes to the lower index
    M2 = M.copy()
    M2[1, 2] = M2[2, 1] = np.nan
    with pytest.warns(ClassGraphWarning, match="fewer than class_k"):
        nb2 = class_neighbors(M2, 2)
    assert nb2[1].tolist() == [0, -1]
    with pytest.raises(LatentGraphError, match="smaller than the number of classes"):
        class_neighbors(M, 4)
    with pytest.raises(LatentGraphError, match="positive"):
        class_neighbors(M, 0)


def _cd(mean: np.ndarray, names=None) -> ClassDistances:
    C = mean.shape[0]
    ones = np.ones((C, C), dtype=np.int64)
    return ClassDistances(mean=mean, pairs=ones, total=ones, classes=np.arange(C), names=names or list("abcd")[:C],
                          sizes=np.full(C, 5), accuracy=np.linspace(0.5, 1, C))


def test_class_knn_graph_edges_and_attributes():
    M = np.array([[1, 2, 4, 1], [2, 1, 3, 6], [4, 3, 1, 5], [1, 6, 5, 1]], dtype=float)
    g = class_knn_graph(_cd(M), 1)
    # nearest: a->d, b->a, c->b, d->a; undirected union = {a-d, a-b, b-c}
    got = sorted(tuple(sorted(e)) for e in g.get_edgelist())
    assert got == [(0, 1), (0, 3), (1, 2)]
    dist = dict(zip([tuple(sorted(e)) for e in g.get_edgelist()], g.es["distance"], strict=True))
    assert dist == {(0, 3): 1.0, (0, 1): 2.0, (1, 2): 3.0}
    np.testing.assert_allclose(g.es["similarity"], [1.0 / d for d in g.es["distance"]])  # min distance is 1
    assert g.vs["k_occurrence"] == [2, 1, 0, 1] and g.vs["degree"] == [2, 2, 1, 1]
    assert g.vs["class_name"] == list("abcd") and g.vs["within_class_distance"] == [1, 1, 1, 1]
    with pytest.raises(LatentGraphError, match="smaller than the number of classes"):
        class_knn_graph(_cd(M), 4)
    Z = M.copy()
    Z[0, 3] = Z[3, 0] = 0.0
    with pytest.raises(LatentGraphError, match="must be > 0"):
        class_knn_graph(_cd(Z), 1)


def test_class_distances_parquet_round_trip(tmp_path):
    n, src, dst, w, labels = disconnected_graph()
    cd = class_distances(labels, src, dst, w, class_names=["x", "y", "z"], prediction=labels, metadata={"k": 4})
    path = write_class_distances(tmp_path / "cd.parquet", cd)
    back = read_class_distances(path)
    np.testing.assert_array_equal(back.mean, cd.mean)
    np.testing.assert_array_equal(back.pairs, cd.pairs)
    np.testing.assert_array_equal(back.total, cd.total)
    assert back.names == cd.names and back.metadata["k"] == 4
    np.testing.assert_array_equal(back.accuracy, [1.0, 1.0, 1.0])
    df = pd.read_parquet(path)
    assert len(df) == 9 and set(df.columns) >= {"class_a", "class_b", "mean_distance", "unreachable_fraction"}
    with pytest.raises(LatentGraphError, match="class distance file lacks column"):
        pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "bad.parquet")
        read_class_distances(tmp_path / "bad.parquet")
    with pytest.raises(LatentGraphError, match="does not exist"):
        read_class_distances(tmp_path / "missing.parquet")


def test_from_latents_matches_manual_pipeline():
    rng = np.random.default_rng(7)
    C, per = 4, 30
    labels = np.repeat(np.arange(C), per)
    X = rng.normal(size=(C, 5))[labels] + rng.normal(size=(labels.size, 5))
    pred = np.where(rng.random(labels.size) < 0.7, labels, (labels + 1) % C)
    lat = Latents(X=X, labels=labels, sample_id=np.arange(labels.size), prediction=pred, metadata={"class_names": list("wxyz"), "run": "A"})
    cd = class_distances_from_latents(lat, 4)
    idx, dist = knn(lat.X, 4, backend="numpy")
    s, t, w = edges(idx, distances=dist)
    mean, _ = brute_class_means(nx_distances(labels.size, s, t, w), labels)
    np.testing.assert_allclose(cd.mean, mean, rtol=1e-12)
    assert cd.names == list("wxyz") and cd.metadata["k"] == 4 and cd.metadata["run"] == "A"
    np.testing.assert_allclose(cd.accuracy, [np.mean(pred[labels == c] == c) for c in range(C)])
    from scipy.stats import skew

    assert cd.metadata["sample_k_occurrence_skewness"] == pytest.approx(skew(np.bincount(idx.ravel(), minlength=120)))
    with pytest.raises(LatentGraphError, match="smaller than the number of samples"):
        class_distances_from_latents(lat, lat.n)


def test_bad_weights_and_names():
    labels, s, t, w = knn_graph(n=40, C=3)
    with pytest.raises(LatentGraphError, match="unknown path weights"):
        class_distances(labels, s, t, w, weights="l2")
    with pytest.raises(LatentGraphError, match="class names"):
        class_distances(labels, s, t, w, class_names=["only", "two"])
    with pytest.raises(LatentGraphError, match="non-negative"):
        class_distances(labels, s, t, -w)


# --------------------------------------------------------------------------- config and workflow


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["classgraph"].update(class_k=4), r"classgraph\.class_k: 4 must be smaller than the number of classes \(4\)"),
        (lambda c: c["classgraph"]["source"].update(run="Z"), r"classgraph\.source\.run: run 'Z' is not trained"),
        (lambda c: c["classgraph"]["source"].update(epoch=9), r"classgraph\.source\.epoch: epoch 9 must lie inside"),
        (lambda c: c["classgraph"].update(weights="l2"), r"classgraph\.weights: 'l2' is not allowed"),
        (lambda c: c["classgraph"]["source"].update(pretrained={}), r"weights"),
    ],
)
def test_bad_classgraph_config(tiny_config, edit, message):
    cfg = copy.deepcopy(tiny_config)
    edit(cfg)
    with pytest.raises(LatentGraphError, match=message):
        full(cfg)


def test_outputs_figures_and_distances_partition_the_file_list():
    from latentgraph.experiments.classgraph import DISTANCES_FILE, FIGURES, OUTPUTS

    assert CLASSGRAPH_FILES == {"distances": DISTANCES_FILE, **OUTPUTS, **FIGURES}


def test_classgraph_source_defaults():
    from latentgraph.config import classgraph_source

    cfg = full({"name": "x", "train": {"epochs": 17}})
    assert classgraph_source(cfg) == {"kind": "trained", "run": "A", "epoch": 17, "tag": "A/epoch_017"}
    im = full(load_yaml(REPO / "configs" / "imagenet_classgraph.yaml"))
    assert classgraph_source(im)["kind"] == "pretrained" and not im["stability"]["enabled"]


def test_imagenet_config_dry_run(tmp_path):
    """The pretrained ImageNet config plans extraction -> distances -> graph -> figures, no training."""
    proc = snakemake(tmp_path, "-n", configfile=REPO / "configs" / "imagenet_classgraph.yaml")
    out = proc.stdout + proc.stderr
    for rule in ("pretrained_latents", "class_distances", "class_graph", "plot_class_graph"):
        assert rule in out
    assert "rule train:" not in out and not re.search(r"^train\s+\d+$", out, re.M)  # no train job in the stats


def test_workflow_class_graph(tiny_run):
    """The tiny run's class graph: every file, and the matrix equals a brute-force recomputation."""
    d = tiny_run / "results" / "tiny" / "classgraph" / "A" / "epoch_003"
    for name in CLASSGRAPH_FILES.values():
        assert (d / name).stat().st_size > 0, name
    cd = read_class_distances(d / CLASSGRAPH_FILES["distances"])
    lat = read_latents(tiny_run / cd.metadata["latents"])
    idx, dist = knn(lat.X, 4, backend="numpy")
    s, t, w = edges(idx, distances=dist)
    mean, _ = brute_class_means(nx_distances(lat.n, s, t, w), lat.labels)
    np.testing.assert_allclose(cd.mean, mean, rtol=1e-12)
    stats = json.loads((d / CLASSGRAPH_FILES["stats"]).read_text())
    nodes = pd.read_csv(d / CLASSGRAPH_FILES["nodes"])
    assert stats["measures"]["vertices"] == len(nodes) == 4 and stats["class_graph"]["class_k"] == 2
    np.testing.assert_allclose(nodes["within_class_distance"], np.diag(mean), rtol=1e-12)
    G = nx.read_gexf(d / CLASSGRAPH_FILES["gexf"], version="1.3")
    assert G.number_of_edges() == stats["measures"]["edges"]


@pytest.mark.slow
def test_workflow_pretrained_source(tmp_path):
    """A pretrained config end to end: state-dict file + val ImageFolder -> class graph, no training."""
    torch = pytest.importorskip("torch")
    from latentgraph.nets.models import build_model

    root = make_imagefolder(tmp_path / "imnet", n_classes=4, per_class=5)
    torch.manual_seed(1)
    torch.save(build_model("resnet18", 4, "imagenet", 4).state_dict(), tmp_path / "w.pth")
    cfg = load_yaml(REPO / "configs" / "imagenet_classgraph.yaml")
    cfg["name"] = "pre"
    cfg["data"].update(root=str(root), class_names=str(root / "names.txt"))
    cfg["model"].update(width=4, input_size=16)
    cfg["train"].update(device="cpu", num_workers=0)
    cfg["classgraph"].update(class_k=2, source={"pretrained": {"weights": str(tmp_path / "w.pth")}})
    cfg["resources"] = {"gpu": 0, "latents": {"threads": 1}, "graph": {"threads": 1}}
    write_yaml(tmp_path / "pre.yaml", cfg)
    snakemake(tmp_path, configfile=tmp_path / "pre.yaml")
    d = tmp_path / "results" / "pre" / "classgraph" / "pretrained"
    nodes = pd.read_csv(d / "nodes.csv")
    assert nodes["class_name"].tolist() == [f"class {c}" for c in range(4)]
    assert nodes["n_samples"].tolist() == [5, 5, 5, 5]
    assert not (tmp_path / "results" / "pre" / "train").exists()
    # nothing left to do; new weights in the file (an input once it exists) rerun the chain
    out = snakemake(tmp_path, "-n", configfile=tmp_path / "pre.yaml")
    assert "Nothing to be done" in out.stdout + out.stderr
    torch.manual_seed(2)
    torch.save(build_model("resnet18", 4, "imagenet", 4).state_dict(), tmp_path / "w.pth")
    later = time.time() + 60
    os.utime(tmp_path / "w.pth", (later, later))
    out = snakemake(tmp_path, "-n", configfile=tmp_path / "pre.yaml")
    assert "pretrained_latents" in out.stdout + out.stderr


@pytest.fixture
def small_latents(tmp_path):
    from latentgraph.io import write_latents

    rng = np.random.default_rng(3)
    C, per = 5, 12
    labels = np.repeat(np.arange(C), per)
    X = rng.normal(size=(C, 6))[labels] + rng.normal(size=(labels.size, 6))
    return str(write_latents(tmp_path / "lat.parquet", X, labels, metadata={"class_names": [f"c{i}" for i in range(C)]}))


def test_classgraph_command_checks_its_folder_first(small_latents, tmp_path, capsys, monkeypatch):
    import latentgraph.experiments.classgraph
    from latentgraph.cli import main

    def no_work(*args, **kwargs):
        raise AssertionError("the output folder is checked before the class distances")

    monkeypatch.setattr(latentgraph.experiments.classgraph, "class_distances_from_latents", no_work)
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "ro").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(tmp_path / "ro") else
                        real_access(p, mode, **kw))
    for out, message in ((tmp_path / "file.txt", "file.txt: is a file; -o takes the folder"),
                         (tmp_path / "file.txt" / "cg", "file.txt is a file, not a folder"),
                         (tmp_path / "ro", "is not writable"), (tmp_path / "ro" / "cg", "is not writable")):
        assert main(["classgraph", small_latents, "--class-k", "2", "-o", str(out)]) == 2, out
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert not any((tmp_path / "ro").iterdir())


def test_classgraph_command_writes_its_files_as_one_set(small_latents, tmp_path, capsys, monkeypatch):
    import latentgraph.plotting
    from latentgraph.cli import main

    out = tmp_path / "cg"
    (out / "mine").mkdir(parents=True)  # files that are not the command's stay where they are
    (out / "mine" / "notes.txt").write_text("keep")
    assert main(["classgraph", small_latents, "--class-k", "2", "-o", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert set(before) == set(CLASSGRAPH_FILES.values())

    def fail(*args, **kwargs):
        raise LatentGraphError("figure failed")

    # a failure in the last step (the figures): the previous set is left as it was, a new folder gets nothing
    monkeypatch.setattr(latentgraph.plotting, "plot_degree_distribution", fail)
    assert main(["classgraph", small_latents, "--class-k", "3", "--weights", "hops", "-o", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["mine"]  # no temporary folder left
    assert main(["classgraph", small_latents, "--class-k", "3", "-o", str(tmp_path / "new" / "cg")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cg", "lat.parquet"]
    monkeypatch.undo()
    # a rerun without figures removes the figures of the earlier set
    capsys.readouterr()
    assert main(["classgraph", small_latents, "--class-k", "3", "--no-figures", "-o", str(out)]) == 0
    tables = {v for k, v in CLASSGRAPH_FILES.items() if not k.endswith(("_png", "_svg"))}
    assert {p.name for p in out.iterdir() if p.is_file()} == tables
    assert (out / "mine" / "notes.txt").read_text() == "keep"
    assert json.loads((out / "stats.json").read_text())["class_graph"]["class_k"] == 3


def test_write_class_graph_writes_nothing_on_failure(small_latents, tmp_path, monkeypatch):
    import latentgraph.experiments.classgraph as cg
    from latentgraph.experiments.classgraph import OUTPUTS, write_class_graph

    cd = class_distances_from_latents(read_latents(small_latents), 4)

    def fail(*args, **kwargs):
        raise LatentGraphError("markdown failed")

    monkeypatch.setattr(cg, "summary_markdown", fail)
    with pytest.raises(LatentGraphError, match="markdown failed"):
        write_class_graph(cd, {key: tmp_path / "out" / name for key, name in OUTPUTS.items()}, 2)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
