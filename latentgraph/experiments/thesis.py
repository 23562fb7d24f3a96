"""The thesis's published numbers beside ours.

``report/thesis_tables.yaml`` holds the values of the thesis's chapter 5 as typed in from
its text. :func:`compare_to_thesis` reads whichever of our result tables exist (stability,
noise, class graph, pruning) and returns one long table with a row per published value:
``section, quantity, setting, k, thesis, ours``. Where the thesis gives a range (its
Table 5.2 numbers are lost; the prose gives "89-93 %") the ``thesis`` column shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["section", "quantity", "setting", "k", "thesis", "ours"]


def load_reference(path: str | Path) -> dict[str, Any]:
    """The typed-in thesis values.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file (``report/thesis_tables.yaml``).

    Returns
    -------
    dict
        Its contents, with the sections ``stability``, ``noise``, ``classgraph`` and ``pruning``.
    """
    import yaml

    with open(path) as fh:
        return yaml.safe_load(fh)


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return f"{v[0]:g}-{v[1]:g}"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _ours(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _stability(ref: dict[str, Any], df: pd.DataFrame) -> list[dict[str, Any]]:
    # the thesis numbers epochs from 0 after training (epoch t = the weights after its
    # (t+1)-th epoch); our checkpoint epoch_{t+offset} holds the same weights (epoch_000 = theta0)
    offset = int(ref.get("checkpoint_offset", 0))
    rows = []
    for comparison in ("epoch", "seed"):
        ours_c = df[df["comparison"] == comparison]
        for measure in ("jaccard", "cns"):
            spec = ref[comparison][measure]
            table = "5.2" if (comparison, measure) == ("epoch", "jaccard") else {
                ("epoch", "cns"): "5.3", ("seed", "jaccard"): "5.4", ("seed", "cns"): "5.5"}[(comparison, measure)]
            for k in (4, 8, 16):
                mine = ours_c[ours_c["k"] == k]
                if "range" in spec:
                    rows.append({"section": f"Table {table}", "quantity": f"{measure}, {comparison} to epoch",
                                 "setting": "window mean", "k": k, "thesis": _fmt(spec["range"]),
                                 "ours": _ours(float(mine[measure].mean()) if len(mine) else None)})
                    continue
                for r in spec["rows"]:
                    a, b = r["epoch_a"] + offset, r["epoch_b"] + offset
                    sel = mine[(mine["epoch_a"] == a) & (mine["epoch_b"] == b)]
                    if comparison == "epoch":
                        sel = sel[sel["run"] == sel["run"].iloc[0]] if len(sel) else sel  # run A, as the thesis
                    setting = (f"thesis epochs {r['epoch_a']}, {r['epoch_b']} = checkpoints {a}, {b}"
                               if comparison == "epoch" else f"thesis epoch {r['epoch_a']} = checkpoint {a}")
                    rows.append({"section": f"Table {table}", "quantity": f"{measure}, {comparison} comparison",
                                 "setting": setting, "k": k, "thesis": _fmt(r[f"k{k}"]),
                                 "ours": _ours(float(sel[measure].iloc[0]) if len(sel) else None)})
    return rows


def _noise(ref: dict[str, Any], summary: pd.DataFrame | None, stats: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    if summary is not None and len(summary):
        p0 = summary[summary["p"] == summary["p"].min()]
        p1 = summary[np.isclose(summary["p"], 1.0)]
        if len(p0) and len(p1):
            drop = float(p0["accuracy"].iloc[0] - p1["accuracy"].iloc[0])
            rows.append({"section": "§5.1.1", "quantity": "accuracy drop, p = 0 -> 1", "setting": "", "k": "",
                         "thesis": _fmt(ref["accuracy_drop_at_p1"]), "ours": _ours(drop)})
            c0, c1 = p0[p0["k"] == 16], p1[p1["k"] == 16]
            if len(c0) and len(c1):
                rows.append({"section": "§7", "quantity": "CNS drop, p = 0 -> 1", "setting": "", "k": 16,
                             "thesis": _fmt(ref["cns_drop_at_p1_k16"]),
                             "ours": _ours(float(c0["cns"].iloc[0] - c1["cns"].iloc[0]))})
    if stats:
        rows += [
            {"section": "§5.1.1", "quantity": "mean L1 norm of a noise vector at p = 1", "setting": "", "k": "",
             "thesis": _fmt(ref["noise_l1_norm_at_p1"]), "ours": _ours(stats["noise_l1_norm"]["mc_mean"])},
            {"section": "§5.1.1", "quantity": "hop diameter of the sample graph", "setting": "", "k": stats["k"],
             "thesis": _fmt(ref["hop_diameter_k4"]), "ours": _ours(stats["hop"]["diameter"])},
            {"section": "§5.1.1", "quantity": "average hop path length", "setting": "", "k": stats["k"],
             "thesis": _fmt(ref["hop_average_path_length_k4"]), "ours": _ours(stats["hop"]["average_path_length"])},
            {"section": "Fig 5.5", "quantity": "bulk of weighted path lengths", "setting": "quartiles", "k": stats["k"],
             "thesis": _fmt(ref["weighted_path_length_bulk"]),
             "ours": f"{stats['weighted']['quantiles']['0.25']:.0f}-{stats['weighted']['quantiles']['0.75']:.0f}"},
        ]
    return rows


def _classgraph(ref: dict[str, Any], stats: dict[str, Any], dataset: str) -> list[dict[str, Any]]:
    key = "imagenet" if dataset == "imagefolder" else dataset
    if key not in ref:
        return []
    spec, m = ref[key], stats["measures"]
    table = "Table 5.6" if key == "imagenet" else "Table 5.7"
    rows = []
    for q in ("diameter", "average_path_length", "average_degree", "clustering"):
        if q in spec:
            rows.append({"section": table, "quantity": q.replace("_", " "), "setting": "class graph", "k": "",
                         "thesis": _fmt(spec[q]), "ours": _ours(m.get(q))})
    if "louvain_communities" in spec:
        rows.append({"section": "§5.2.1", "quantity": "Louvain communities", "setting": "", "k": "",
                     "thesis": _fmt(spec["louvain_communities"]),
                     "ours": _ours(stats["communities"]["louvain"]["count"])})
    for (name, degree), hub in zip(spec.get("hubs", []), stats.get("hubs", []), strict=False):
        rows.append({"section": "§5.2.1", "quantity": f"hub rank {hub['rank']}", "setting": "", "k": "",
                     "thesis": f"{name} ({degree})", "ours": f"{hub['name']} ({hub['degree']})"})
    return rows


def _pruning(ref: dict[str, Any], df: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for rate, spec in ref.items():
        mine = df[np.isclose(df["rate"], float(rate))]
        if not len(mine):
            continue
        for r in spec["rows"]:
            sel = mine[mine["round"] == r["round"]]
            for q in ("pruned_fraction", "accuracy"):
                if q in r:
                    rows.append({"section": "Table 5.8", "quantity": q.replace("_", " "), "setting":
                                 f"p = {rate}, round {r['round']}", "k": "", "thesis": _fmt(r[q]),
                                 "ours": _ours(float(sel[q].iloc[0]) if len(sel) else None)})
            for k in (4, 8, 16):
                if f"k{k}" in r:
                    s = sel[sel["k"] == k]
                    rows.append({"section": "Table 5.9" if rate == "0.2" else "Table 5.11",
                                 "quantity": "jaccard vs round 0", "setting": f"p = {rate}, round {r['round']}",
                                 "k": k, "thesis": _fmt(r[f"k{k}"]),
                                 "ours": _ours(float(s["jaccard_vs_round0"].iloc[0]) if len(s) else None)})
    return rows


def compare_to_thesis(
    reference: str | Path,
    *,
    stability: str | Path | None = None,
    noise_summary: str | Path | None = None,
    latent_graph_stats: str | Path | None = None,
    classgraph_stats: str | Path | None = None,
    dataset: str = "cifar100",
    pruning: str | Path | None = None,
) -> pd.DataFrame:
    """One row per published value that one of the given result files can be held against.

    Parameters
    ----------
    reference : str or pathlib.Path
        The thesis values (:func:`load_reference`).
    stability : str or pathlib.Path, optional
        The stability table (CSV; Tables 5.2-5.5).
    noise_summary : str or pathlib.Path, optional
        The noise experiment's summary table (CSV; accuracy and CNS drops).
    latent_graph_stats : str or pathlib.Path, optional
        The sample graph's statistics (JSON; noise norm, hop and weighted path lengths).
    classgraph_stats : str or pathlib.Path, optional
        The class graph's ``stats.json`` (Tables 5.6/5.7, communities, hubs).
    dataset : str, optional
        The class graph's dataset, which picks its thesis table (``imagefolder`` counts as
        ImageNet); a dataset the reference lacks gives no rows.
    pruning : str or pathlib.Path, optional
        The pruning table (CSV; Tables 5.8-5.11).

    Returns
    -------
    pandas.DataFrame
        The columns :data:`COLUMNS`; results not given give no rows, values not found are ``n/a``.
    """
    ref = load_reference(reference)
    rows: list[dict[str, Any]] = []
    if stability:
        rows += _stability(ref["stability"], pd.read_csv(stability))
    if noise_summary or latent_graph_stats:
        summary = pd.read_csv(noise_summary) if noise_summary else None
        stats = json.loads(Path(latent_graph_stats).read_text()) if latent_graph_stats else None
        rows += _noise(ref["noise"], summary, stats)
    if classgraph_stats:
        rows += _classgraph(ref["classgraph"], json.loads(Path(classgraph_stats).read_text()), dataset)
    if pruning:
        rows += _pruning(ref["pruning"], pd.read_csv(pruning))
    return pd.DataFrame(rows, columns=COLUMNS)


def comparison_markdown(df: pd.DataFrame, title: str) -> str:
    """The comparison as a Markdown table.

    Parameters
    ----------
    df : pandas.DataFrame
        A table of :func:`compare_to_thesis`.
    title : str
        The level-1 heading.

    Returns
    -------
    str
        The Markdown text, ending in a newline.
    """
    lines = [f"# {title}", "", "| section | quantity | setting | k | thesis | ours |", "|---|---|---|---|---|---|"]
    for r in df.itertuples(index=False):
        lines.append(f"| {r.section} | {r.quantity} | {r.setting} | {r.k} | {r.thesis} | {r.ours} |")
    return "\n".join(lines) + "\n"
