"""Unit tests of the experiments' table builders that the workflow test only covered end to
end: the stability table against brute-force set comparisons, its Markdown, the hubness
table, and the thesis comparison's epoch mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from latentgraph.compare.measures import hubness
from latentgraph.experiments.measure_tables import HUBNESS_COLUMNS, hubness_markdown, hubness_table
from latentgraph.experiments.stability import COLUMNS, stability_markdown, stability_pairs, stability_table
from latentgraph.experiments.thesis import compare_to_thesis
from latentgraph.graphs.knn import knn_table

N, K = 60, 4


@pytest.fixture(scope="module")
def graphs():
    """kNN tables of two runs at epochs 2..4: latents drift a little per epoch, runs differ by seed."""
    labels = np.repeat(np.arange(3), N // 3)
    out = {}
    for run, seed in (("A", 0), ("B", 1)):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(N, 5)) + labels[:, None]
        for epoch in (2, 3, 4):
            X = X + 0.3 * rng.normal(size=X.shape)
            out[(run, epoch)] = knn_table(X.astype(np.float32), K, labels, np.arange(N), backend="numpy")
    return out, labels


def brute_force(a, b, labels, k):
    """Graph average Jaccard and CNS of two undirected kNN graphs from Python sets."""
    def neighbours(t):
        nb = [set() for _ in range(N)]
        for i in range(N):
            for j in t.indices[i, :k]:
                nb[i].add(int(j))
                nb[int(j)].add(i)
        return nb

    na, nb = neighbours(a), neighbours(b)
    jac = np.mean([len(na[i] & nb[i]) / len(na[i] | nb[i]) for i in range(N)])
    cns = []  # thesis eq. 2.5: the multiset intersection of neighbour labels over A's degree
    for i in range(N):
        ca = np.bincount(labels[list(na[i])], minlength=3)
        cb = np.bincount(labels[list(nb[i])], minlength=3)
        cns.append(np.minimum(ca, cb).sum() / len(na[i]))
    return jac, float(np.mean(cns))


def test_stability_table_rows_equal_brute_force(graphs):
    tables, labels = graphs
    df = stability_table(tables, ["A", "B"], [2, 3, 4], [2, 4])
    assert list(df.columns) == COLUMNS
    assert len(df) == len(stability_pairs(["A", "B"], [2, 3, 4])) * 2 == (2 * 2 + 3) * 2
    for row in df.itertuples(index=False):
        ra, rb = (row.run, row.run) if row.comparison == "epoch" else row.run.split(" vs ")
        jac, cns = brute_force(tables[(ra, row.epoch_a)], tables[(rb, row.epoch_b)], labels, row.k)
        assert row.jaccard == pytest.approx(jac, abs=1e-12) and row.cns == pytest.approx(cns, abs=1e-12)
    seed = df[df["comparison"] == "seed"]
    epoch = df[df["comparison"] == "epoch"]
    assert seed["jaccard"].mean() < epoch["jaccard"].mean()  # drift within a run < difference across seeds


def test_stability_markdown_has_a_table_per_comparison_and_measure(graphs):
    tables, _ = graphs
    md = stability_markdown(stability_table(tables, ["A", "B"], [2, 3, 4], [2, 4]), title="t")
    assert md.startswith("# t")
    assert md.count("| k = 2 | k = 4 |") == 6  # Jaccard and CNS for A, B and A vs B
    assert "| 2, 3 |" in md and "| 3, 4 |" in md


def test_hubness_table_equals_the_measure(graphs):
    tables, _ = graphs
    df = hubness_table(tables, ["A"], [2, 4], [2, 4])
    assert list(df.columns) == HUBNESS_COLUMNS and len(df) == 4
    for row in df.itertuples(index=False):
        h = hubness(tables[("A", row.epoch)], row.k)
        assert row.hub_skew == h["skewness"] and row.max_occurrence == h["max_occurrence"]
    assert "| A | 2 |" in hubness_markdown(df)


def test_thesis_comparison_maps_thesis_epochs_to_checkpoints(tmp_path):
    """The thesis's epoch t is our checkpoint t + checkpoint_offset: rows are looked up there."""
    ref = {"stability": {"checkpoint_offset": 1, "epoch": {"jaccard": {"range": [0.89, 0.93]}, "cns": {"rows": [
        {"epoch_a": 10, "epoch_b": 11, "k4": 0.96, "k8": 0.96, "k16": 0.97}]}},
        "seed": {"jaccard": {"rows": [{"epoch_a": 10, "epoch_b": 10, "k4": 0.15, "k8": 0.18, "k16": 0.21}]},
                 "cns": {"rows": [{"epoch_a": 10, "epoch_b": 10, "k4": 0.53, "k8": 0.57, "k16": 0.64}]}}}}
    (tmp_path / "ref.yaml").write_text(yaml.safe_dump(ref))
    rows = []
    for k in (4, 8, 16):
        rows += [{"comparison": "epoch", "run": "A", "epoch_a": 10, "epoch_b": 11, "k": k, "jaccard": 0.1, "cns": 0.1},
                 {"comparison": "epoch", "run": "A", "epoch_a": 11, "epoch_b": 12, "k": k, "jaccard": 0.9, "cns": 0.95},
                 {"comparison": "seed", "run": "A vs B", "epoch_a": 11, "epoch_b": 11, "k": k, "jaccard": 0.2,
                  "cns": 0.6}]
    pd.DataFrame(rows).to_csv(tmp_path / "stability.csv", index=False)
    df = compare_to_thesis(tmp_path / "ref.yaml", stability=tmp_path / "stability.csv")
    cns = df[(df["quantity"] == "cns, epoch comparison") & (df["k"] == 4)].iloc[0]
    assert cns["setting"] == "thesis epochs 10, 11 = checkpoints 11, 12" and cns["ours"] == "0.950"
    seed = df[(df["quantity"] == "jaccard, seed comparison") & (df["k"] == 16)].iloc[0]
    assert seed["setting"] == "thesis epoch 10 = checkpoint 11" and seed["ours"] == "0.200"
    window = df[df["setting"] == "window mean"]
    assert set(window["k"]) == {4, 8, 16} and (window["thesis"] == "0.89-0.93").all()
