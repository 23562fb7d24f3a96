"""Class graphs as files for people and for Gephi: GraphML, GEXF 1.3, CSV tables, a layout.

- :func:`layout`: seeded Fruchterman-Reingold positions (igraph), edges pulled by their
  similarity; the same positions go into the GEXF file and the figures.
- :func:`write_graphml`: igraph's GraphML writer (all vertex and edge attributes).
- :func:`write_gexf`: GEXF 1.3 written with ``xml.etree``: declared, typed node and edge
  attributes, the similarity as the edge ``weight`` (Gephi's ForceAtlas2 and modularity
  use it), and the ``viz`` module's colour (community), size (degree) and position, so the
  graph opens in Gephi already laid out and coloured.
- :func:`node_table`, :func:`edge_table`: the same data as pandas tables (CSV).

Every writer is atomic (a failed write leaves nothing under the final name).
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..utils import LatentGraphError, atomic_path

GEXF_NS = "http://gexf.net/1.3"
VIZ_NS = "http://gexf.net/1.3/viz"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# 20 well-separated colours (matplotlib's tab20, reordered so that neighbours differ)
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
]


def community_color(c: int) -> str:
    """The colour of community ``c`` (cycling through :data:`PALETTE`)."""
    return PALETTE[int(c) % len(PALETTE)]


def layout(g: Any, seed: int = 0, weights: str | None = "similarity", niter: int = 1000) -> np.ndarray:
    """(n, 2) Fruchterman-Reingold positions, reproducible for a given ``seed``.

    Start positions come from a numpy generator seeded with ``seed`` and igraph's own RNG
    is seeded too, so equal inputs give equal layouts.
    """
    from .network_stats import _SeededIgraphRNG

    n = g.vcount()
    if n == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    start = rng.uniform(-1, 1, size=(n, 2)) * math.sqrt(n)
    w = weights if (weights is not None and weights in g.es.attributes()) else None
    with _SeededIgraphRNG(seed):
        pos = g.layout_fruchterman_reingold(weights=w, niter=niter, seed=start.tolist(), grid="nogrid")
    return np.asarray(pos.coords, dtype=np.float64)


def node_table(g: Any) -> pd.DataFrame:
    """One row per vertex: ``id`` (vertex index) and every vertex attribute."""
    df = pd.DataFrame({"id": np.arange(g.vcount())})
    for a in g.vs.attributes():
        df[a] = g.vs[a]
    return df


def edge_table(g: Any) -> pd.DataFrame:
    """One row per edge: ``source``, ``target`` (vertex indices) and every edge attribute."""
    el = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    df = pd.DataFrame({"source": el[:, 0], "target": el[:, 1]})
    for a in g.es.attributes():
        df[a] = g.es[a]
    return df


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table as CSV atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)


def write_graphml(g: Any, path: str | os.PathLike) -> Path:
    """Write ``g`` (all attributes) as GraphML atomically."""
    h = g.copy()
    for a in h.vs.attributes():  # GraphML has no None: write NaN for missing numbers
        vals = h.vs[a]
        if any(v is None for v in vals):
            h.vs[a] = [math.nan if v is None else v for v in vals]
    with atomic_path(path) as tmp:
        h.write_graphml(str(tmp))
    return Path(path)


def _gexf_type(values: list[Any]) -> str:
    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, (bool, np.bool_)) for v in vals):
        return "boolean"
    if vals and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals):
        return "long"
    if vals and all(isinstance(v, (int, float, np.integer, np.floating)) for v in vals):
        return "double"
    return "string"


def _gexf_value(v: Any, typ: str) -> str | None:
    if v is None:
        return None
    if typ == "double":
        f = float(v)
        return None if math.isnan(f) else repr(f)
    if typ == "boolean":
        return "true" if v else "false"
    if typ == "long":
        return str(int(v))
    return str(v)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def write_gexf(
    g: Any,
    path: str | os.PathLike,
    *,
    label: str | None = "class_name",
    weight: str | None = "similarity",
    positions: np.ndarray | None = None,
    color_by: str | None = "louvain",
    size_by: str | None = "degree",
    description: str = "",
) -> Path:
    """Write ``g`` as a static, undirected GEXF 1.3 file that Gephi opens.

    ``label``: the vertex attribute shown as node label; ``weight``: the edge attribute
    written as GEXF edge weight (a similarity: larger = stronger); every vertex and edge
    attribute is also declared and written as a typed attribute. ``positions`` (n, 2),
    ``color_by`` (an integer vertex attribute, e.g. a community) and ``size_by`` (a numeric
    vertex attribute) fill the ``viz`` module. Missing values (None, NaN) are left out.
    """
    n = g.vcount()
    if positions is not None and np.asarray(positions).shape != (n, 2):
        raise LatentGraphError(f"positions must have shape ({n}, 2), got {np.asarray(positions).shape}")
    ET.register_namespace("", GEXF_NS)
    ET.register_namespace("viz", VIZ_NS)
    ET.register_namespace("xsi", XSI_NS)
    q = lambda tag: f"{{{GEXF_NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("gexf"), {"version": "1.3", f"{{{XSI_NS}}}schemaLocation": f"{GEXF_NS} {GEXF_NS}/gexf.xsd"})
    meta = ET.SubElement(root, q("meta"))
    ET.SubElement(meta, q("creator")).text = "latentgraph"
    if description:
        ET.SubElement(meta, q("description")).text = description
    graph = ET.SubElement(root, q("graph"), {"mode": "static", "defaultedgetype": "undirected"})

    def declare(kind: str, names: list[str], columns: dict[str, list[Any]]) -> list[tuple[str, str, str]]:
        decl = ET.SubElement(graph, q("attributes"), {"class": kind, "mode": "static"})
        out = []
        for i, name in enumerate(names):
            typ = _gexf_type(columns[name])
            ET.SubElement(decl, q("attribute"), {"id": str(i), "title": name, "type": typ})
            out.append((str(i), name, typ))
        return out

    skip = {"x", "y"} if positions is not None else set()  # the layout goes into viz:position
    v_names = [a for a in g.vs.attributes() if a not in skip]
    v_cols = {a: g.vs[a] for a in v_names}
    e_names = list(g.es.attributes())
    e_cols = {a: g.es[a] for a in e_names}
    v_decl = declare("node", v_names, v_cols)
    e_decl = declare("edge", e_names, e_cols)

    sizes = None
    if size_by is not None and size_by in v_cols:
        s = np.asarray(v_cols[size_by], dtype=np.float64)
        lo, hi = np.nanmin(s) if s.size else 0.0, np.nanmax(s) if s.size else 1.0
        sizes = 4.0 + 36.0 * (s - lo) / (hi - lo) if hi > lo else np.full(s.size, 10.0)
    nodes_el = ET.SubElement(graph, q("nodes"))
    for v in range(n):
        attrs = {"id": str(v)}
        if label is not None and label in v_cols:
            attrs["label"] = str(v_cols[label][v])
        node = ET.SubElement(nodes_el, q("node"), attrs)
        _attvalues(node, q, v_decl, v_cols, v)
        if color_by is not None and color_by in v_cols and v_cols[color_by][v] is not None:
            r, gg, b = _rgb(community_color(int(v_cols[color_by][v])))
            ET.SubElement(node, f"{{{VIZ_NS}}}color", {"r": str(r), "g": str(gg), "b": str(b), "a": "1.0"})
        if positions is not None:
            x, y = positions[v]
            ET.SubElement(node, f"{{{VIZ_NS}}}position", {"x": f"{x:.6f}", "y": f"{y:.6f}", "z": "0.0"})
        if sizes is not None and np.isfinite(sizes[v]):
            ET.SubElement(node, f"{{{VIZ_NS}}}size", {"value": f"{sizes[v]:.4f}"})
    edges_el = ET.SubElement(graph, q("edges"))
    for i, e in enumerate(g.es):
        attrs = {"id": str(i), "source": str(e.source), "target": str(e.target)}
        if weight is not None and weight in e_cols:
            attrs["weight"] = repr(float(e_cols[weight][i]))
        edge = ET.SubElement(edges_el, q("edge"), attrs)
        _attvalues(edge, q, e_decl, e_cols, i)
    tree = ET.ElementTree(root)
    ET.indent(tree, space="  ")
    with atomic_path(path) as tmp:
        tree.write(tmp, encoding="UTF-8", xml_declaration=True)
    return Path(path)


def _attvalues(el: ET.Element, q: Any, decl: list[tuple[str, str, str]], cols: dict[str, list[Any]], i: int) -> None:
    values = [(aid, _gexf_value(cols[name][i], typ)) for aid, name, typ in decl]
    values = [(aid, v) for aid, v in values if v is not None]
    if values:
        holder = ET.SubElement(el, q("attvalues"))
        for aid, v in values:
            ET.SubElement(holder, q("attvalue"), {"for": aid, "value": v})
