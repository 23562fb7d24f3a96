"""The hubness table of the measures stage equals the measure it tabulates."""

from __future__ import annotations

from latentgraph.compare.measures import hubness
from latentgraph.experiments.measure_tables import HUBNESS_COLUMNS, hubness_markdown, hubness_table


def test_hubness_table_equals_the_measure(graphs):
    tables, _ = graphs
    df = hubness_table(tables, ["A"], [2, 4], [2, 4])
    assert list(df.columns) == HUBNESS_COLUMNS and len(df) == 4
    for row in df.itertuples(index=False):
        h = hubness(tables[("A", row.epoch)], row.k)
        assert row.hub_skew == h["skewness"] and row.max_occurrence == h["max_occurrence"]
    assert "| A | 2 |" in hubness_markdown(df)

