"""Per-graph hubness tables for the workflow (the pair measures live in the stability and
layer tables)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from ..compare.measures import hubness, hubness_null
from ..graphs.knn import KnnTable

HUBNESS_COLUMNS = ["run", "epoch", "k", "n", "hub_skew", "hub_frac", "antihub_frac", "max_occurrence",
                   "hub_skew_null", "hub_frac_null", "antihub_frac_null"]



def hubness_table(graphs: Mapping[tuple[str, int], KnnTable] | Callable[[str, int], KnnTable],
                  runs: Sequence[str], epochs: Sequence[int], ks: Sequence[int]) -> pd.DataFrame:
    """Hubness (:func:`latentgraph.compare.measures.hubness`) of every directed kNN graph, per k.

    The graphs are keyed by (run, epoch); the levels of a random k-out graph (``*_null``)
    stand beside each.

    Parameters
    ----------
    graphs : mapping or callable
        The kNN tables (:class:`KnnTable`), as a mapping keyed by (run, epoch) or a function
        ``graphs(run, epoch)``.
    runs : sequence of str
        The runs.
    epochs : sequence of int
        The epochs of each run.
    ks : sequence of int
        The neighbourhood sizes.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`HUBNESS_COLUMNS`, one row per (run, epoch, k).
    """
    get = graphs if callable(graphs) else (lambda r, e: graphs[(r, e)])
    rows = []
    for run in runs:
        for e in epochs:
            t = get(run, e)
            for k in sorted({int(k) for k in ks}):
                h, h0 = hubness(t, k), hubness_null(t.n, k)
                rows.append({"run": run, "epoch": int(e), "k": k, "n": h["n"], "hub_skew": h["skewness"],
                             "hub_frac": h["hub_fraction"], "antihub_frac": h["antihub_fraction"],
                             "max_occurrence": h["max_occurrence"], "hub_skew_null": h0["skewness"],
                             "hub_frac_null": h0["hub_fraction"], "antihub_frac_null": h0["antihub_fraction"]})
    return pd.DataFrame(rows, columns=HUBNESS_COLUMNS)


def hubness_markdown(df: pd.DataFrame, title: str | None = None, digits: int = 3) -> str:
    """Mean hubness over the epochs per (run, k), with the random-graph reference.

    Parameters
    ----------
    df : pandas.DataFrame
        A table of :func:`hubness_table`.
    title : str, optional
        A level-1 heading put first; None: no heading.
    digits : int, optional
        Decimal places of the values.

    Returns
    -------
    str
        The Markdown text, ending in a newline.
    """
    lines = [f"# {title}", ""] if title else []
    lines += ["k-occurrence N_k = in-degree in the directed kNN graph (Radovanovic et al. 2010). Hubs: N_k > 2k; "
              "antihubs: N_k = 0. Mean (min-max) over the epochs; 'random' = a uniformly random k-out graph "
              "(N_k ~ Binomial(N-1, k/(N-1))).", "",
              "| run | k | skewness | random | hub fraction | random | antihub fraction | random | max N_k |",
              "|---|---|---|---|---|---|---|---|---|"]
    for (run, k), part in df.groupby(["run", "k"], sort=False):
        def rng(col: str, part: pd.DataFrame = part) -> str:
            v = part[col]
            return f"{v.mean():.{digits}f} ({v.min():.{digits}f}-{v.max():.{digits}f})"

        lines.append(f"| {run} | {k} | {rng('hub_skew')} | {part['hub_skew_null'].iloc[0]:.{digits}f} | "
                     f"{rng('hub_frac')} | {part['hub_frac_null'].iloc[0]:.{digits}f} | {rng('antihub_frac')} | "
                     f"{part['antihub_frac_null'].iloc[0]:.{digits}f} | {int(part['max_occurrence'].max())} |")
    return "\n".join(lines) + "\n"
