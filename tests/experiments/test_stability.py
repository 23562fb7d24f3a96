"""The stability table (epoch to epoch, seed to seed) against brute-force set comparisons, and its
Markdown."""

from __future__ import annotations

import pytest
from helpers import neighbour_sets, set_jaccard_cns

from latentgraph.experiments.stability import COLUMNS, stability_markdown, stability_pairs, stability_table


def brute_force(a, b, labels, k):
    """Graph average Jaccard and CNS of two undirected kNN graphs from Python sets."""
    jac, cns = set_jaccard_cns(neighbour_sets(a.indices, k), neighbour_sets(b.indices, k), labels)
    return jac.mean(), cns.mean()


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

