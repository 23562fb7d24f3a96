"""Class graphs as files for people and for Gephi: GraphML, GEXF, CSV tables, a layout.

- :func:`layout`: seeded Fruchterman-Reingold positions (igraph), edges pulled by their
  similarity; the same positions go into the GEXF file and the figures.
- :func:`write_graphml`: igraph's GraphML writer (all vertex and edge attributes).
- :func:`write_gexf`: GEXF 1.2 (networkx's writer, the version Gephi, networkx and
  sigma.js read): declared, typed node and edge attributes, the similarity as the edge
  ``weight`` (Gephi's ForceAtlas2 and modularity use it), and the ``viz`` module's colour
  (community), size (degree) and position, so the graph opens in Gephi already laid out
  and coloured.
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

#: The GEXF version written (networkx's default; networkx's 1.3 output names a wrong XSI namespace)
GEXF_VERSION = "1.2draft"
#: Names networkx's GEXF writer takes as GEXF's own node and edge fields, not as attributes
GEXF_NODE_FIELDS = frozenset({"id", "label", "pid", "start", "end", "viz", "parents", "spells", "slices"})
GEXF_EDGE_FIELDS = frozenset({"id", "label", "weight", "type", "start", "end", "viz", "spells", "slices", "key"})

# 20 well-separated colours (matplotlib's tab20, reordered so that neighbours differ)
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
]


def community_color(c: int) -> str:
    """The colour of community ``c`` (cycling through :data:`PALETTE`).

    Parameters
    ----------
    c : int
        Community id.

    Returns
    -------
    str
        A ``#rrggbb`` colour.
    """
    return PALETTE[int(c) % len(PALETTE)]


def layout(g: Any, seed: int = 0, weights: str | None = "similarity", niter: int = 1000) -> np.ndarray:
    """(n, 2) Fruchterman-Reingold positions, reproducible for a given ``seed``.

    Start positions come from a numpy generator seeded with ``seed`` and igraph's own RNG
    is seeded too, so equal inputs give equal layouts.

    Parameters
    ----------
    g : igraph.Graph
        The graph.
    seed : int, optional
        Random seed (default 0).
    weights : str, optional
        Edge attribute pulling edges together (default ``"similarity"``); ignored when the
        graph lacks it; None = unweighted.
    niter : int, optional
        Fruchterman-Reingold iterations (default 1000).

    Returns
    -------
    numpy.ndarray
        (n, 2) float64 positions.
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
    """One row per vertex: ``id`` (vertex index) and every vertex attribute.

    Parameters
    ----------
    g : igraph.Graph
        The graph.

    Returns
    -------
    pandas.DataFrame
        The node table.
    """
    df = pd.DataFrame({"id": np.arange(g.vcount())})
    for a in g.vs.attributes():
        df[a] = g.vs[a]
    return df


def edge_table(g: Any) -> pd.DataFrame:
    """One row per edge: ``source``, ``target`` (vertex indices) and every edge attribute.

    Parameters
    ----------
    g : igraph.Graph
        The graph.

    Returns
    -------
    pandas.DataFrame
        The edge table.
    """
    el = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    df = pd.DataFrame({"source": el[:, 0], "target": el[:, 1]})
    for a in g.es.attributes():
        df[a] = g.es[a]
    return df


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table as CSV atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (written without its index).
    path : str or os.PathLike
        The file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)


def write_graphml(g: Any, path: str | os.PathLike) -> Path:
    """Write ``g`` (all attributes) as GraphML atomically.

    Missing (None) vertex attribute values are written as NaN (GraphML has no None).

    Parameters
    ----------
    g : igraph.Graph
        The graph (not modified).
    path : str or os.PathLike
        The file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
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


def _gexf_value(v: Any, typ: str) -> Any:
    """``v`` as the Python type networkx writes as GEXF type ``typ``; None for a missing value."""
    if v is None:
        return None
    if typ == "double":
        f = float(v)
        return None if math.isnan(f) else f
    if typ == "boolean":
        return bool(v)
    if typ == "long":
        return int(v)
    return str(v)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _typed_columns(seq: Any, names: list[str]) -> dict[str, list[Any]]:
    """Every attribute of an igraph vertex or edge sequence as one GEXF type per column."""
    cols = {}
    for name in names:
        values = seq[name]
        typ = _gexf_type(values)
        cols[name] = [_gexf_value(v, typ) for v in values]
    return cols


def gexf_graph(
    g: Any,
    *,
    label: str | None = "class_name",
    weight: str | None = "similarity",
    positions: np.ndarray | None = None,
    color_by: str | None = "louvain",
    size_by: str | None = "degree",
) -> Any:
    """``g`` as the networkx graph :func:`write_gexf` writes (see there for details).

    Parameters
    ----------
    g : igraph.Graph
        An undirected graph.
    label : str, optional
        The vertex attribute shown as node label (default ``"class_name"``).
    weight : str, optional
        The edge attribute written as edge weight (default ``"similarity"``).
    positions : numpy.ndarray, optional
        (n, 2) layout for ``viz:position``.
    color_by : str, optional
        Integer vertex attribute picking the ``viz:color`` (default ``"louvain"``).
    size_by : str, optional
        Numeric vertex attribute scaled to ``viz:size`` 4..40 (default ``"degree"``).

    Returns
    -------
    networkx.Graph
        Nodes are the vertex indices, in order, with their attributes (typed as in GEXF:
        ``long``, ``double``, ``boolean``, ``string``; missing values left out), ``label``
        and ``viz``; edges carry ``id`` (the igraph edge index), ``weight`` and their
        attributes.

    Raises
    ------
    LatentGraphError
        When ``positions`` has the wrong shape or an attribute is named like a GEXF field.
    """
    import networkx as nx

    n = g.vcount()
    if positions is not None and np.asarray(positions).shape != (n, 2):
        raise LatentGraphError(f"positions must have shape ({n}, 2), got {np.asarray(positions).shape}")
    skip = {"x", "y"} if positions is not None else set()  # the layout goes into viz:position
    v_cols = _typed_columns(g.vs, [a for a in g.vs.attributes() if a not in skip])
    e_cols = _typed_columns(g.es, list(g.es.attributes()))
    clash = sorted(GEXF_NODE_FIELDS & set(v_cols)) + sorted((GEXF_EDGE_FIELDS - {weight}) & set(e_cols))
    if clash:
        raise LatentGraphError(f"attributes {clash} carry names of GEXF's own fields; rename them to write GEXF")
    sizes = None
    if size_by is not None and size_by in v_cols:
        s = np.asarray(g.vs[size_by], dtype=np.float64)
        lo, hi = np.nanmin(s) if s.size else 0.0, np.nanmax(s) if s.size else 1.0
        sizes = 4.0 + 36.0 * (s - lo) / (hi - lo) if hi > lo else np.full(s.size, 10.0)
    G = nx.Graph()
    for v in range(n):
        data = {a: col[v] for a, col in v_cols.items() if col[v] is not None}
        viz: dict[str, Any] = {}
        if color_by is not None and color_by in v_cols and v_cols[color_by][v] is not None:
            r, gg, b = _rgb(community_color(int(v_cols[color_by][v])))
            viz["color"] = {"r": r, "g": gg, "b": b, "a": 1.0}
        if sizes is not None and np.isfinite(sizes[v]):
            viz["size"] = float(sizes[v])
        if positions is not None:
            viz["position"] = {"x": float(positions[v][0]), "y": float(positions[v][1]), "z": 0.0}
        if viz:
            data["viz"] = viz
        if label is not None and label in v_cols:
            data["label"] = str(g.vs[label][v])
        G.add_node(v, **data)
    for i, e in enumerate(g.es):
        data = {a: col[i] for a, col in e_cols.items() if col[i] is not None}
        data["id"] = str(i)
        if weight is not None and weight in e_cols:
            data["weight"] = float(g.es[weight][i])
        G.add_edge(e.source, e.target, **data)
    return G


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
    """Write ``g`` as a static, undirected GEXF file (version :data:`GEXF_VERSION`) that Gephi opens.

    Written by networkx's GEXF writer from :func:`gexf_graph`; the ``meta`` element names
    latentgraph and ``description`` and carries no date, so equal graphs give equal files.

    Parameters
    ----------
    g : igraph.Graph
        An undirected igraph graph.
    path : str or os.PathLike
        The file (written atomically).
    label : str, optional
        The vertex attribute shown as node label (default ``"class_name"``).
    weight : str, optional
        The edge attribute written as GEXF edge weight (a similarity: larger = stronger;
        default ``"similarity"``).
    positions : numpy.ndarray, optional
        (n, 2) layout written as ``viz:position`` (the attributes ``x``, ``y`` are then not
        written again).
    color_by : str, optional
        An integer vertex attribute (a community) that picks the ``viz:color``
        (:data:`PALETTE`); default ``"louvain"``.
    size_by : str, optional
        A numeric vertex attribute scaled to ``viz:size`` 4..40 (default ``"degree"``).
    description : str, optional
        Text of the ``meta`` description (default: none).

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    Every vertex and edge attribute is also declared and written as a typed attribute;
    missing values (None, NaN) are left out. Attribute names that are GEXF fields of their
    own (:data:`GEXF_NODE_FIELDS`, :data:`GEXF_EDGE_FIELDS`, except the ``weight`` attribute
    itself) are refused.
    """
    from networkx.readwrite.gexf import GEXFWriter

    G = gexf_graph(g, label=label, weight=weight, positions=positions, color_by=color_by, size_by=size_by)
    writer = GEXFWriter(version=GEXF_VERSION)
    meta = writer.xml.find("meta")
    meta.attrib.pop("lastmodifieddate", None)  # a date makes equal graphs differ
    meta.find("creator").text = "latentgraph"
    if description:
        ET.SubElement(meta, "description").text = description
    writer.add_graph(G)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        writer.write(fh)
    return Path(path)
