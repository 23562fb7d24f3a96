"""Per-sample stability: the values behind every graph average, and where instability lies.

Every comparison of two kNN graphs the workflow makes (epoch to epoch, seed to seed, clean
to noisy, round 0 to round i, run A to run B at a layer) reports the graph average Jaccard
similarity and CNS, means over the vertices. :func:`per_sample_table` keeps the values of
every vertex, beside what may explain them: the sample's class, the predictions of the two
networks and its k-occurrence (in-degree in the directed kNN graph, Radovanović et al. 2010)
in each graph. The mean of its ``jaccard`` (``cns``) column at a k is the graph average
Jaccard (CNS) of :func:`latentgraph.compare.similarity.compare_tables` at that k.

:func:`per_sample_summary` answers "which samples and classes are unstable, and is
instability where the errors are?": mean similarity of samples both networks classify
correctly, of samples whose correctness flips, and of samples both get wrong; per class;
per k-occurrence bin (antihubs ... hubs); and Spearman's rank correlation of the
similarities with the k-occurrence. :func:`per_sample_markdown` writes it as Markdown
tables and :func:`latentgraph.plotting.plot_per_sample` as a figure.

No PyTorch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..utils import LatentGraphError, atomic_path, check_k

log = logging.getLogger(__name__)

#: The columns of a per-sample frame, in order (identifier columns of a stage go in front).
COLUMNS = ["k", "sample_id", "label", "prediction_a", "prediction_b", "jaccard", "cns",
           "k_occurrence_a", "k_occurrence_b"]
#: Stored types: compact, exact for ids, classes and counts; similarities as float32 (their
#: means agree with the float64 graph averages to about 1e-7).
DTYPES = {"k": "int32", "sample_id": "int64", "label": "int32", "prediction_a": "int32", "prediction_b": "int32",
          "jaccard": "float32", "cns": "float32", "k_occurrence_a": "int32", "k_occurrence_b": "int32"}
#: ``prediction_a``/``prediction_b`` of a sample whose prediction is not known.
NO_PREDICTION = -1
#: Columns of :func:`per_sample_summary` after the group columns.
SUMMARY_COLUMNS = ["k", "section", "item", "n", "jaccard", "cns"]
#: The sections of a summary, in order.
SECTIONS = ("status", "class", "k_occurrence", "spearman")
#: Correctness of a sample in the two graphs' networks (``status`` section items).
STATUSES = ("correct", "flipped", "wrong", "unknown", "all")
#: The k-occurrence bins (``k_occurrence`` section items), in order.
BINS = ("0 (antihub)", "1 to k-1", "k to 2k", "> 2k (hub)")


def _positions(ids_a: np.ndarray, ids_b: np.ndarray) -> np.ndarray:
    """Row of each of ``ids_a`` in ``ids_b`` (the tables hold the same samples: checked by ``align``)."""
    if ids_a.shape == ids_b.shape and np.array_equal(ids_a, ids_b):
        return np.arange(ids_a.size)
    order = np.argsort(ids_b, kind="stable")
    return order[np.searchsorted(ids_b, ids_a, sorter=order)]


def _predictions(pred: Any, n: int, which: str) -> np.ndarray:
    if pred is None:
        return np.full(n, NO_PREDICTION, dtype=np.int64)
    p = np.asarray(pred)
    if p.shape != (n,) or p.dtype.kind not in "iu":
        raise LatentGraphError(f"prediction_{which} must be ({n},) integers in the rows of table {which}, "
                               f"got shape {p.shape} and dtype {p.dtype}")
    return p.astype(np.int64)


def per_sample_table(a: Any, b: Any, ks: Sequence[int], directed: bool = False, *,
                     prediction_a: Any = None, prediction_b: Any = None) -> pd.DataFrame:
    """Per-sample Jaccard, CNS and k-occurrence of one comparison of two kNN tables, for every k.

    The same Jaccard and CNS as :func:`latentgraph.compare.similarity.compare_tables` (the
    graphs are directed or undirected as there; CNS with ``a`` as G_A), vertex by vertex:
    the mean of ``jaccard`` (``cns``) at a k is that k's graph average. The k-occurrence is
    always the in-degree in the *directed* kNN graph (hubness), whatever ``directed``.

    Parameters
    ----------
    a, b : KnnTable
        :class:`latentgraph.graphs.knn.KnnTable` objects over the same samples (matched by
        ``sample_id``; their row orders may differ). Rows of the result follow ``a``.
    ks : sequence of int
        Neighbour counts, each at most both tables' ``k``.
    directed : bool, optional
        Compare directed kNN graphs instead of undirected ones (default).
    prediction_a, prediction_b : array_like, optional
        The class predicted for each sample by the network of ``a`` (``b``), in the rows of
        that table; None: unknown (:data:`NO_PREDICTION`).

    Returns
    -------
    pandas.DataFrame
        The columns :data:`COLUMNS` with the types :data:`DTYPES`, N rows per distinct k
        in increasing order.

    Raises
    ------
    LatentGraphError
        When the tables hold different samples, a k exceeds a table's, or a prediction
        array has the wrong shape.
    """
    from ..graphs.knn import align
    from .similarity import cns_per_vertex, jaccard_per_vertex

    def k_occurrence(t: Any, k: int) -> np.ndarray:  # as measures.k_occurrence, without its imports
        return np.bincount(t.indices[:, :k].reshape(-1), minlength=t.n)

    pa_ = _predictions(prediction_a, a.n, "a")
    pb_ = _predictions(prediction_b, b.n, "b")
    b_al = align(a, b)
    pb_ = pb_[_positions(a.sample_id, b.sample_id)]
    frames = []
    for k in sorted({int(x) for x in ks}):
        for t, name in ((a, "first"), (b, "second")):
            check_k(k, stored=t.k, where=f"{name} graph")
        A = a.adjacency(k, directed=directed)
        B = b_al.adjacency(k, directed=directed)
        frames.append(pd.DataFrame({
            "k": k, "sample_id": a.sample_id, "label": a.labels, "prediction_a": pa_, "prediction_b": pb_,
            "jaccard": jaccard_per_vertex(A, B), "cns": cns_per_vertex(A, B, a.labels),
            "k_occurrence_a": k_occurrence(a, k), "k_occurrence_b": k_occurrence(b_al, k),
        }))
    if not frames:
        raise LatentGraphError("no k given")
    return pd.concat(frames, ignore_index=True)[COLUMNS].astype(DTYPES)


def with_keys(df: pd.DataFrame, **keys: Any) -> pd.DataFrame:
    """A per-sample frame with constant identifier columns in front (e.g. ``comparison``, ``run``).

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`per_sample_table`.
    **keys
        Column name -> the value of every row, in the order given.

    Returns
    -------
    pandas.DataFrame
        A copy with the key columns first.
    """
    out = df.copy()
    for i, (name, value) in enumerate(keys.items()):
        out.insert(i, name, value)
    return out


def write_per_sample(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a per-sample frame to Parquet, atomically and byte for byte reproducibly.

    Parameters
    ----------
    df : pandas.DataFrame
        Per-sample rows (identifier columns, then :data:`COLUMNS`).
    path : str or os.PathLike
        The Parquet file.
    """
    import pyarrow as pa

    from ..io import write_parquet

    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False).replace_schema_metadata(None)
    with atomic_path(path) as tmp:
        write_parquet(table, tmp)


def read_per_sample(path: str | os.PathLike) -> pd.DataFrame:
    """Read a per-sample Parquet file of :func:`write_per_sample`.

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file.

    Returns
    -------
    pandas.DataFrame
        Its rows.

    Raises
    ------
    LatentGraphError
        When the file is missing or lacks a column of :data:`COLUMNS`.
    """
    from ..io import read_parquet

    if not os.path.exists(path):
        raise LatentGraphError(f"{path}: per-sample table does not exist")
    df = read_parquet(path).to_pandas()
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise LatentGraphError(f"{path}: not a per-sample table, it lacks the columns {missing}")
    return df


def status(df: pd.DataFrame) -> pd.Series:
    """Correctness of each row: ``correct`` (both networks right), ``flipped``, ``wrong`` or ``unknown``.

    Parameters
    ----------
    df : pandas.DataFrame
        Per-sample rows (``label``, ``prediction_a``, ``prediction_b``).

    Returns
    -------
    pandas.Series
        One of :data:`STATUSES` per row (``unknown``: a prediction is missing).
    """
    ok_a = (df["prediction_a"] == df["label"]).to_numpy()
    ok_b = (df["prediction_b"] == df["label"]).to_numpy()
    known = ((df["prediction_a"] != NO_PREDICTION) & (df["prediction_b"] != NO_PREDICTION)).to_numpy()
    out = np.where(ok_a & ok_b, "correct", np.where(ok_a | ok_b, "flipped", "wrong"))
    return pd.Series(np.where(known, out, "unknown"), index=df.index, name="status")


def k_occurrence_bin(occurrence: Any, k: Any) -> np.ndarray:
    """The bin of each k-occurrence N_k: 0 (antihub), 1 to k-1, k to 2k, > 2k (hub; as :func:`hubness`).

    Parameters
    ----------
    occurrence : array_like
        k-occurrences.
    k : int or array_like
        The k of each value (or one k for all).

    Returns
    -------
    numpy.ndarray
        One of :data:`BINS` per value.
    """
    n = np.asarray(occurrence)
    k = np.broadcast_to(np.asarray(k), n.shape)
    return np.select([n == 0, n < k, n <= 2 * k], list(BINS[:3]), default=BINS[3])


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import spearmanr

    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")  # a constant column has no rank correlation
    return float(spearmanr(x, y).statistic)


def per_sample_summary(df: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Where is instability? Mean per-sample similarities by correctness, class and hubness.

    For each group (``by`` columns, then k), rows of four sections:

    - ``status``: items ``correct`` (both networks classify the sample right), ``flipped``
      (exactly one does), ``wrong`` (neither), ``unknown`` (a prediction missing; only when
      there are such rows) and ``all``: ``n`` rows, mean ``jaccard`` and ``cns``;
    - ``class``: one item per class label, the same means;
    - ``k_occurrence``: the bins :data:`BINS` of ``k_occurrence_a`` (the first graph's
      hubness), the same means (empty bins left out);
    - ``spearman``: item ``k_occurrence_a``; ``jaccard`` and ``cns`` hold Spearman's rank
      correlation of that column with the k-occurrence (NaN when one of them is constant).

    Means are over rows (a sample counts once per comparison pooled in a group).

    Parameters
    ----------
    df : pandas.DataFrame
        Per-sample rows: :data:`COLUMNS` and the ``by`` columns.
    by : sequence of str, optional
        Identifier columns to group by besides ``k`` (e.g. ``["comparison"]``); empty: pool
        every comparison.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then :data:`SUMMARY_COLUMNS`; groups in sorted order.

    Raises
    ------
    LatentGraphError
        When a column is missing.
    """
    by = list(by)
    missing = [c for c in [*by, *COLUMNS] if c not in df.columns]
    if missing:
        raise LatentGraphError(f"per-sample table lacks the columns {missing}")
    work = df[[*by, *COLUMNS]].copy()
    work["jaccard"] = work["jaccard"].astype(np.float64)
    work["cns"] = work["cns"].astype(np.float64)
    work["status"] = status(work)
    work["bin"] = k_occurrence_bin(work["k_occurrence_a"].to_numpy(), work["k"].to_numpy())
    rows: list[dict[str, Any]] = []
    for key, part in work.groupby([*by, "k"], sort=True):
        key = key if isinstance(key, tuple) else (key,)
        head = dict(zip([*by, "k"], key, strict=True))

        def add(section: str, item: str, sub: pd.DataFrame, head: dict[str, Any] = head) -> None:
            rows.append({**head, "section": section, "item": item, "n": len(sub),
                         "jaccard": float(sub["jaccard"].mean()), "cns": float(sub["cns"].mean())})

        for s in STATUSES[:-1]:
            sub = part[part["status"] == s]
            if len(sub) or s != "unknown":
                add("status", s, sub)
        add("status", "all", part)
        for label, sub in part.groupby("label", sort=True):
            add("class", str(label), sub)
        for b in BINS:
            sub = part[part["bin"] == b]
            if len(sub):
                add("k_occurrence", b, sub)
        occ = part["k_occurrence_a"].to_numpy(np.float64)
        rows.append({**head, "section": "spearman", "item": "k_occurrence_a", "n": len(part),
                     "jaccard": _spearman(part["jaccard"].to_numpy(), occ),
                     "cns": _spearman(part["cns"].to_numpy(), occ)})
    out = pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])
    out["n"] = out["n"].astype(np.int64)
    return out


def _fmt(v: float, digits: int) -> str:
    return "–" if not np.isfinite(v) else f"{v:.{digits}f}"


def per_sample_markdown(summary: pd.DataFrame, by: Sequence[str] = (), title: str | None = None,
                        digits: int = 3) -> str:
    """Markdown tables of a :func:`per_sample_summary`: per group, Jaccard by correctness, class and hubness.

    Each group (values of ``by``) gets one table per section with a column per k (mean
    Jaccard, with the row count for ``status`` and ``k_occurrence``), a line naming the least
    and most stable classes at each k, and Spearman's rho of Jaccard and CNS with the
    k-occurrence.

    Parameters
    ----------
    summary : pandas.DataFrame
        A frame of :func:`per_sample_summary`.
    by : sequence of str, optional
        Its group columns (as given to :func:`per_sample_summary`).
    title : str, optional
        A level-1 heading put first; None: no heading.
    digits : int, optional
        Decimal places.

    Returns
    -------
    str
        The Markdown text, ending in a newline.
    """
    by = list(by)
    lines = [f"# {title}", ""] if title else []
    lines += ["Mean per-sample graph Jaccard similarity (rows: sample-comparisons, n in parentheses). "
              "correct: both networks classify the sample right; flipped: exactly one does; wrong: neither. "
              "k-occurrence N_k of the first graph: 0 = antihub, > 2k = hub. Spearman: rank correlation "
              "with N_k.", ""]
    groups = summary.groupby(by, sort=True) if by else [((), summary)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        if by:
            lines += ["## " + ", ".join(f"{c} = {v}" for c, v in zip(by, key, strict=True)), ""]
        ks = sorted(part["k"].unique())
        for section, name in (("status", "correctness"), ("class", "class"), ("k_occurrence", "k-occurrence")):
            sec = part[part["section"] == section]
            items = list(dict.fromkeys(sec["item"]))
            lines += [f"| {name} | " + " | ".join(f"k = {k}" for k in ks) + " |", "|---" * (len(ks) + 1) + "|"]
            for item in items:
                cells = []
                for k in ks:
                    r = sec[(sec["item"] == item) & (sec["k"] == k)]
                    if r.empty:
                        cells.append("–")
                        continue
                    r = r.iloc[0]
                    cells.append(_fmt(r["jaccard"], digits) + ("" if section == "class" else f" ({int(r['n'])})"))
                lines.append(f"| {item} | " + " | ".join(cells) + " |")
            lines.append("")
            if section == "class":
                for k in ks:
                    c = sec[sec["k"] == k].sort_values(["jaccard", "item"], kind="stable")
                    if len(c):
                        lines.append(f"- k = {k}: least stable class {c['item'].iloc[0]} "
                                     f"({_fmt(c['jaccard'].iloc[0], digits)}), most stable class "
                                     f"{c['item'].iloc[-1]} ({_fmt(c['jaccard'].iloc[-1], digits)})")
                lines.append("")
        sp = part[part["section"] == "spearman"]
        lines += ["| Spearman rho with N_k | " + " | ".join(f"k = {k}" for k in ks) + " |",
                  "|---" * (len(ks) + 1) + "|"]
        for col in ("jaccard", "cns"):
            lines.append(f"| {col} | " + " | ".join(_fmt(sp[sp["k"] == k][col].iloc[0], digits) for k in ks) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"
