"""Stability of the kNN graph during training and across seeds (thesis §4.1, Tables 5.2-5.5).

- ``epoch`` comparisons: G_{A_t} vs G_{A_{t+1}} for consecutive epochs of each run;
- ``seed`` comparisons: G_{A_t} vs G_{B_t} for every pair of runs at the same epoch.

Each comparison reports the graph average Jaccard similarity and the class neighbourhood
similarity (CNS, with the first graph as G_A) for every k. With ``measures`` the table gains
the columns of :func:`latentgraph.compare.measures.compare` after these (symmetric CNS, mutual kNN,
spectral distance, CKA, and their permutation nulls).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..compare.registry import REGISTRY as _REGISTRY
from ..compare.similarity import compare_tables
from ..graphs.knn import KnnTable

COLUMNS = ["comparison", "run", "epoch_a", "epoch_b", "k", "jaccard", "cns"]
#: Column naming the kNN method of the compared graphs; present only when one of them is approximate.
METHOD_COLUMN = "knn_method"


def method_of(a: KnnTable, b: KnnTable) -> str:
    """How the two compared graphs were searched, e.g. ``exact`` or ``hnsw (recall@16 = 0.9821)``.

    Parameters
    ----------
    a, b : KnnTable
        The compared tables (their metadata's ``method`` and ``recall_at_k``).

    Returns
    -------
    str
        One label when both agree, else ``"<a> / <b>"``.
    """
    from ..graphs.knn_approx import method_label

    la, lb = method_label(a.metadata), method_label(b.metadata)
    return la if la == lb else f"{la} / {lb}"


def _with_method(out: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Append :data:`METHOD_COLUMN` (one label per row) unless every graph is exact."""
    if all(m == "exact" for m in methods):
        return out
    out = out.copy()
    out[METHOD_COLUMN] = methods
    return out


def seed_pair_name(run_a: str, run_b: str) -> str:
    """How a seed-to-seed comparison is named in the ``run`` column.

    Parameters
    ----------
    run_a, run_b : str
        The names of the two runs compared.

    Returns
    -------
    str
        ``"<run_a> vs <run_b>"``.
    """
    return f"{run_a} vs {run_b}"


def stability_pairs(runs: Sequence[str], epochs: Sequence[int]) -> list[tuple[str, str, str, int, int]]:
    """All comparisons as (comparison, run_a, run_b, epoch_a, epoch_b).

    Parameters
    ----------
    runs : sequence of str
        The runs (seeds); every pair of them is compared at each epoch.
    epochs : sequence of int
        The epochs; sorted, and consecutive ones are compared within each run.

    Returns
    -------
    list of tuple
        First the ``"epoch"`` comparisons (run_a = run_b, epoch_b the next epoch) of every run,
        then the ``"seed"`` comparisons (every pair of runs, epoch_a = epoch_b).
    """
    epochs = sorted(epochs)
    pairs = []
    for run in runs:
        for ea, eb in itertools.pairwise(epochs):
            pairs.append(("epoch", run, run, ea, eb))
    for ra, rb in itertools.combinations(runs, 2):
        for e in epochs:
            pairs.append(("seed", ra, rb, e, e))
    return pairs


def stability_table(
    graphs: Mapping[tuple[str, int], KnnTable] | Callable[[str, int], KnnTable],
    runs: Sequence[str],
    epochs: Sequence[int],
    ks: Sequence[int],
    directed: bool = False,
    *,
    measures: Sequence[str] | None = None,
    latents: Mapping[tuple[str, int], Any] | None = None,
    n_eigs: int = 20,
    n_perm: int = 0,
    seed: int = 0,
    ci: float = 0.95,
    resamples: int | None = 0,
) -> pd.DataFrame:
    """The stability table (columns :data:`COLUMNS`) from kNN tables keyed by (run, epoch).

    Spectra are computed once per graph and k.

    Parameters
    ----------
    graphs : mapping or callable
        The kNN tables (:class:`KnnTable`), as a mapping keyed by (run, epoch) or a function
        ``graphs(run, epoch)`` (e.g. one that loads them lazily).
    runs : sequence of str
        The runs (seeds) compared; see :func:`stability_pairs`.
    epochs : sequence of int
        The epochs compared; see :func:`stability_pairs`.
    ks : sequence of int
        The neighbourhood sizes; one row per comparison and k.
    directed : bool, optional
        Compare the directed kNN graphs (default: their symmetrisations).
    measures : sequence of str, optional
        Extra measures of :mod:`latentgraph.compare.measures` (``cns_sym``, ``mutual_knn``,
        ``spectral``, ``cka``; ``hubness`` is a per-graph statistic and is left out here),
        appended as columns after :data:`COLUMNS`. None: only :data:`COLUMNS`.
    latents : mapping, optional
        The latent arrays keyed like ``graphs`` (rows in the graphs' order); needed by ``cka``.
    n_eigs : int, optional
        Number of Laplacian eigenvalues of the spectral distance.
    n_perm : int, optional
        Permutations of the nulls: > 0 adds each measure's permutation null
        (``<column>_null``, ``<column>_null_std``). Only with ``measures``.
    seed : int, optional
        Seed of the nulls, combined with the pair compared.
    ci : float, optional
        Coverage of the intervals (with ``resamples``).
    resamples : int, optional
        Resamples of the ``<column>_lo``/``_hi`` intervals (:mod:`latentgraph.compare.intervals`;
        default 0: none). Only with ``measures``.

    Returns
    -------
    pandas.DataFrame
        One row per (comparison, k): :data:`COLUMNS`, then the extra measures' columns, then
        :data:`METHOD_COLUMN` when a graph is approximate (its method and measured recall).

    Raises
    ------
    LatentGraphError
        When ``cka`` is asked for and ``latents`` lacks a (run, epoch).
    """
    get = graphs if callable(graphs) else (lambda r, e: graphs[(r, e)])
    extra = [m for m in (measures or []) if m != "hubness"]
    if measures is not None:
        return _stability_with_measures(get, runs, epochs, ks, directed, extra, latents, n_eigs, n_perm, seed,
                                        ci, resamples)
    frames = []
    methods: list[str] = []
    for comparison, ra, rb, ea, eb in stability_pairs(runs, epochs):
        ta, tb = get(ra, ea), get(rb, eb)
        df = compare_tables(ta, tb, ks, directed=directed)
        df.insert(0, "comparison", comparison)
        df.insert(1, "run", ra if comparison == "epoch" else seed_pair_name(ra, rb))
        df.insert(2, "epoch_a", ea)
        df.insert(3, "epoch_b", eb)
        frames.append(df)
        methods += [method_of(ta, tb)] * len(df)
    return _with_method(pd.concat(frames, ignore_index=True)[COLUMNS], methods)


def _stability_with_measures(get: Callable[[str, int], KnnTable], runs: Sequence[str], epochs: Sequence[int],
                             ks: Sequence[int], directed: bool, extra: list[str],
                             latents: Mapping[tuple[str, int], Any] | None, n_eigs: int, n_perm: int,
                             seed: int, ci: float = 0.95, resamples: int | None = 0) -> pd.DataFrame:
    from ..compare.measures import compare, laplacian_spectrum
    from ..utils import LatentGraphError, stable_seed

    spectra: dict[tuple[str, int], dict[int, Any]] = {}

    def spectra_of(run: str, epoch: int) -> dict[int, Any] | None:
        if "spectral" not in extra:
            return None
        if (run, epoch) not in spectra:
            t = get(run, epoch)
            spectra[(run, epoch)] = {int(k): laplacian_spectrum(t, n_eigs, k=int(k)) for k in ks}
        return spectra[(run, epoch)]

    from ..compare.registry import needing_latents

    with_latents = [m for m in extra if m in needing_latents()]

    def x_of(run: str, epoch: int) -> Any:
        if not with_latents:
            return None
        if latents is None or (run, epoch) not in latents:
            raise LatentGraphError(f"measure {with_latents[0]!r} needs the latents of run {run} at epoch {epoch}")
        return latents[(run, epoch)]

    frames = []
    methods: list[str] = []
    for comparison, ra, rb, ea, eb in stability_pairs(runs, epochs):
        ta, tb = get(ra, ea), get(rb, eb)
        methods_ab = method_of(ta, tb)
        df = compare(ta, tb, ks, ["jaccard", "cns", *extra], directed=directed,
                     xa=x_of(ra, ea), xb=x_of(rb, eb), n_eigs=n_eigs, n_perm=n_perm,
                     seed=stable_seed(seed, "stability-null", ra, int(ea), rb, int(eb)),
                     spectra_a=spectra_of(ra, ea), spectra_b=spectra_of(rb, eb), ci=ci, resamples=resamples)
        df.insert(0, "comparison", comparison)
        df.insert(1, "run", ra if comparison == "epoch" else seed_pair_name(ra, rb))
        df.insert(2, "epoch_a", ea)
        df.insert(3, "epoch_b", eb)
        frames.append(df)
        methods += [methods_ab] * len(df)
    out = pd.concat(frames, ignore_index=True)
    return _with_method(out[COLUMNS + [c for c in out.columns if c not in COLUMNS]], methods)


#: Identifier columns of the per-sample stability table, before :data:`latentgraph.compare.per_sample.COLUMNS`.
PER_SAMPLE_KEYS = ["comparison", "run", "epoch_a", "epoch_b"]


def stability_per_sample(
    graphs: Mapping[tuple[str, int], KnnTable] | Callable[[str, int], KnnTable],
    runs: Sequence[str],
    epochs: Sequence[int],
    ks: Sequence[int],
    directed: bool = False,
    predictions: Mapping[tuple[str, int], Any] | None = None,
) -> pd.DataFrame:
    """Per-sample values behind every row of :func:`stability_table` (same comparisons, same order).

    For each comparison (:func:`stability_pairs`) and k, one row per sample
    (:func:`latentgraph.compare.per_sample.per_sample_table`); the mean of ``jaccard``
    (``cns``) over a comparison's rows at a k is that row's ``jaccard`` (``cns``) in the
    stability table.

    Parameters
    ----------
    graphs : mapping or callable
        The kNN tables, keyed by (run, epoch) or a function ``graphs(run, epoch)``.
    runs : sequence of str
        The runs (seeds) compared.
    epochs : sequence of int
        The epochs compared.
    ks : sequence of int
        The neighbourhood sizes.
    directed : bool, optional
        Compare the directed kNN graphs (default: their symmetrisations).
    predictions : mapping, optional
        The network's class prediction of every sample, keyed like ``graphs``, in the rows of
        that graph; None (or a missing key): unknown.

    Returns
    -------
    pandas.DataFrame
        :data:`PER_SAMPLE_KEYS`, then :data:`latentgraph.compare.per_sample.COLUMNS`.
    """
    from ..compare.per_sample import per_sample_table, with_keys

    get = graphs if callable(graphs) else (lambda r, e: graphs[(r, e)])
    preds = predictions or {}
    frames = []
    for comparison, ra, rb, ea, eb in stability_pairs(runs, epochs):
        df = per_sample_table(get(ra, ea), get(rb, eb), ks, directed=directed,
                              prediction_a=preds.get((ra, ea)), prediction_b=preds.get((rb, eb)))
        frames.append(with_keys(df, comparison=comparison,
                                run=ra if comparison == "epoch" else seed_pair_name(ra, rb),
                                epoch_a=int(ea), epoch_b=int(eb)))
    out = pd.concat(frames, ignore_index=True)
    return out.astype({"epoch_a": "int32", "epoch_b": "int32"})


#: Readable names of the measures a stability table may hold.
MEASURE_NAMES = {
    "jaccard": "Graph average Jaccard similarity",
    "cns": "Class neighbourhood similarity",
    "cns_ba": "CNS(G_B, G_A), the reverse direction",
    "cns_sym": "Symmetric CNS (mean of both directions)",
    "mutual_knn": "Mutual kNN alignment (Huh et al. 2024)",
    "spectral": "Spectral distance (smallest normalised-Laplacian eigenvalues; 0 = isospectral)",
    "cka": "Linear CKA of the latents (debiased; one value per pair)",
}
# the other measures of the latents, named from the registry (latentgraph measures)
MEASURE_NAMES.update({m.name: f"{m.title[0].upper()}{m.title[1:]} ({m.cite}; "
                      f"{'larger' if m.larger_is_more_similar else 'smaller'} = more similar)"
                      for m in _REGISTRY if m.needs == "latents" and m.name not in MEASURE_NAMES})


def stability_markdown(df: pd.DataFrame, digits: int = 3, title: str | None = None,
                       measures: Sequence[str] = ("jaccard", "cns")) -> str:
    """Thesis-style tables: one per (measure, comparison, run), epochs as rows, k as columns.

    When the table has a measure's permutation null (``<measure>_null``), a last row
    ``chance`` gives its mean ± std (averaged over the rows above); not for the spectral
    distance, which ignores the correspondence (its null is the value itself).

    Parameters
    ----------
    df : pandas.DataFrame
        A stability table, as :func:`stability_table` returns.
    digits : int, optional
        Decimal places of the values.
    title : str, optional
        A level-1 heading put first; None: no heading.
    measures : sequence of str, optional
        The columns of ``df`` to tabulate, in order (names from :data:`MEASURE_NAMES`).

    Returns
    -------
    str
        The Markdown text.
    """
    lines: list[str] = []
    if title:
        lines += [f"# {title}", ""]
    if METHOD_COLUMN in df.columns:  # approximate graphs: say so before any number
        lines += [f"kNN graphs searched approximately: {_methods_summary(df[METHOD_COLUMN])} (recall against the "
                  "exact search on seeded queries; knn.method).", ""]
    for comparison in ("epoch", "seed"):
        sub = df[df["comparison"] == comparison]
        for run in sub["run"].drop_duplicates():
            part = sub[sub["run"] == run]
            for measure in measures:
                wide = part.pivot_table(index=["epoch_a", "epoch_b"], columns="k", values=measure, sort=True)
                what = f"G_{{{run},t}} vs G_{{{run},t+1}}" if comparison == "epoch" else f"{run} at epoch t"
                lines += [f"## {MEASURE_NAMES.get(measure, measure)}: {what}", ""]
                ks = list(wide.columns)
                head = "epoch t, t+1" if comparison == "epoch" else "epoch t"
                lines.append(f"| {head} | " + " | ".join(f"k = {k}" for k in ks) + " |")
                lines.append("|---" * (len(ks) + 1) + "|")
                for (ea, eb), vals in wide.iterrows():
                    label = f"{ea}, {eb}" if comparison == "epoch" else f"{ea}"
                    lines.append(f"| {label} | " + " | ".join(f"{v:.{digits}f}" for v in vals) + " |")
                null = f"{measure}_null"
                if null in part.columns and measure != "spectral":  # its null is the value itself
                    mean, sd = part.groupby("k")[null].mean(), part.groupby("k")[f"{null}_std"].mean()
                    lines.append("| chance | " + " | ".join(f"{mean[k]:.{digits}f} ± {sd[k]:.{digits}f}" for k in ks)
                                 + " |")
                lines.append("")
    return "\n".join(lines)


def _methods_summary(labels: pd.Series) -> str:
    """``hnsw, recall@16 0.9962-0.9982 over 12 graphs``: the labels of :func:`method_of`, condensed."""
    import re

    found: dict[tuple[str, str], set[float]] = {}
    plain: set[str] = set()
    for label in labels.drop_duplicates():
        for part in str(label).split(" / "):
            m = re.fullmatch(r"(\S+) \(recall@(\S+) = ([0-9.]+)\)", part)
            if m:
                found.setdefault((m.group(1), m.group(2)), set()).add(float(m.group(3)))
            else:
                plain.add(part)
    out = [f"{method}, recall@{k} {min(v):.4f}" + (f"-{max(v):.4f}" if len(v) > 1 else "")
           for (method, k), v in sorted(found.items())]
    return "; ".join(out + sorted(plain))


def summarise_stability(df: pd.DataFrame) -> pd.DataFrame:
    """Mean Jaccard and CNS per (comparison, k): the one-line answer of the experiment.

    Parameters
    ----------
    df : pandas.DataFrame
        A stability table, as :func:`stability_table` returns.

    Returns
    -------
    pandas.DataFrame
        Columns ``comparison``, ``k``, ``jaccard``, ``cns``: the means over runs and epochs.
    """
    return df.groupby(["comparison", "k"], as_index=False)[["jaccard", "cns"]].mean()


def describe(meta: dict[str, Any]) -> str:
    """A one-line description of a latents file's metadata, for logs and captions.

    Parameters
    ----------
    meta : dict
        The metadata; its ``dataset``, ``split``, ``arch``, ``seed``, ``epoch`` and
        ``test_accuracy`` are shown, when present.

    Returns
    -------
    str
        ``"key=value"`` pairs joined by commas.
    """
    keys = ("dataset", "split", "arch", "seed", "epoch", "test_accuracy")
    return ", ".join(f"{k}={meta.get(k)}" for k in keys if k in meta)
