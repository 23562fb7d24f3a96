"""Network statistics of a class graph (thesis Tables 5.6/5.7, Figs 5.7-5.12).

- :func:`measures`: diameter and average path length (in hops, as Gephi and the thesis
  report them; weighted by a distance attribute too when there is one), average degree,
  average clustering coefficient, connected components, degree and k-occurrence skewness;
- :func:`degree_distribution`, :func:`hubs` (highest degree, with names);
- :func:`communities`: Louvain (igraph ``community_multilevel``) and Leiden (leidenalg,
  ``ModularityVertexPartition``: the modularity objective, not leidenalg's CPM default),
  both seeded; community ids are renumbered by size so that they do not depend on the
  algorithm's internal numbering;
- :func:`load_graph`: GraphML, GEXF or a CSV edge list (``source,target[,weight]``) with an
  optional node CSV (``id`` and a name column), e.g. the thesis's published ImageNet class
  graph.

Graphs are igraph ``Graph`` objects; names live in a vertex attribute (``class_name`` for
the graphs this package writes).
"""

from __future__ import annotations

import logging
import math
import os
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..utils import LatentGraphError

log = logging.getLogger(__name__)

NAME_ATTRIBUTES = ("class_name", "name", "label", "id")
GRAPH_FORMATS = (".graphml", ".gexf", ".csv")
METHODS = ("louvain", "leiden")


# --------------------------------------------------------------------------- measures


def _skewness(x: np.ndarray) -> float:
    """Population skewness E[(x - mu)^3] / sigma^3 (0 for a constant)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return math.nan
    sd = x.std()
    if sd == 0:
        return 0.0
    return float(np.mean((x - x.mean()) ** 3) / sd**3)


def k_occurrence_skewness(neighbors: np.ndarray, n: int | None = None) -> float:
    """Hubness: the skewness of N_k, the number of kNN lists each vertex appears in.

    Parameters
    ----------
    neighbors : numpy.ndarray
        (n, k) table of neighbour indices (-1 = none).
    n : int, optional
        Number of vertices; None (default) uses the table's row count.

    Returns
    -------
    float
        The population skewness of N_k (0 for a constant, NaN for no vertices).
    """
    nb = np.asarray(neighbors)
    n = nb.shape[0] if n is None else n
    return _skewness(np.bincount(nb[nb >= 0].reshape(-1), minlength=n))


def name_attribute(g: Any) -> str | None:
    """The vertex attribute that names vertices (``class_name``, ``name``, ``label``, ``id``).

    Parameters
    ----------
    g : igraph.Graph
        The graph.

    Returns
    -------
    str or None
        The first of those attributes the graph has, or None.
    """
    attrs = g.vs.attributes()
    return next((a for a in NAME_ATTRIBUTES if a in attrs), None)


def vertex_names(g: Any) -> list[str]:
    """Vertex names (their index when the graph has none).

    Parameters
    ----------
    g : igraph.Graph
        The graph.

    Returns
    -------
    list of str
        One name per vertex, from :func:`name_attribute`.
    """
    attr = name_attribute(g)
    if attr is None:
        return [str(i) for i in range(g.vcount())]
    return [str(x) for x in g.vs[attr]]


def check_distances(g: Any, attr: str, where: str = "graph") -> np.ndarray:
    """Edge attribute ``attr`` as float64 lengths; non-finite or <= 0 values are errors.

    Parameters
    ----------
    g : igraph.Graph
        The graph.
    attr : str
        Name of the edge attribute.
    where : str, optional
        What to call the graph in error messages (default ``"graph"``).

    Returns
    -------
    numpy.ndarray
        (E,) float64 values, all finite and > 0.

    Raises
    ------
    LatentGraphError
        When the attribute is missing or a value is not finite and > 0.
    """
    if attr not in g.es.attributes():
        raise LatentGraphError(f"{where}: no edge attribute {attr!r}; edge attributes: {g.es.attributes()}")
    w = np.asarray(g.es[attr], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(w) | (w <= 0))
    if bad.size:
        e = g.es[int(bad[0])]
        raise LatentGraphError(
            f"{where}: edge weights ({attr!r}) must be finite and > 0; {bad.size} are not, e.g. "
            f"{w[bad[0]]} on edge {e.source}-{e.target}"
        )
    return w


def similarity_weights(distances: np.ndarray) -> np.ndarray:
    """Similarity of edges from their distances: min(distance) / distance, in (0, 1].

    Parameters
    ----------
    distances : numpy.ndarray
        Edge distances, > 0.

    Returns
    -------
    numpy.ndarray
        float64 similarities of the same shape (empty for no edges).
    """
    d = np.asarray(distances, dtype=np.float64)
    return d.min() / d if d.size else d


def measures(g: Any, distance: str | None = None) -> dict[str, Any]:
    """The class-graph statistics of thesis Tables 5.6/5.7 and a few more.

    Path lengths count hops (Table 5.6's diameter 14 and average path length 6.4 are hop
    counts). Disconnected graphs: the diameter is the longest finite shortest path and the
    average runs over connected pairs. The clustering coefficient is the average of the
    local coefficients, vertices of degree < 2 counting 0 (networkx's
    ``average_clustering``); ``transitivity`` is the global ratio of triangles to triads.

    Parameters
    ----------
    g : igraph.Graph
        The (undirected) graph.
    distance : str, optional
        An edge attribute of lengths > 0; when given, the weighted diameter and average
        path length are added.

    Returns
    -------
    dict
        ``vertices``, ``edges``, ``average_degree``, ``diameter``, ``average_path_length``,
        ``clustering``, ``transitivity``, ``components``, ``largest_component``,
        ``degree_min``, ``degree_max``, ``degree_skewness``; ``k_occurrence_skewness``
        when vertices have a ``k_occurrence`` attribute; ``distance_attribute``,
        ``weighted_diameter`` and ``weighted_average_path_length`` with ``distance``.
    """
    n, m = g.vcount(), g.ecount()
    deg = np.asarray(g.degree(), dtype=np.int64)
    comps = g.connected_components()
    sizes = sorted(comps.sizes(), reverse=True)
    out: dict[str, Any] = {
        "vertices": int(n),
        "edges": int(m),
        "average_degree": float(2 * m / n) if n else math.nan,
        "diameter": int(g.diameter(directed=False, unconn=True)) if m else 0,
        "average_path_length": float(g.average_path_length(directed=False, unconn=True)) if m else math.nan,
        "clustering": float(g.transitivity_avglocal_undirected(mode="zero")) if n else math.nan,
        "transitivity": float(g.transitivity_undirected()) if m else math.nan,
        "components": len(sizes),
        "largest_component": int(sizes[0]) if sizes else 0,
        "degree_min": int(deg.min()) if n else 0,
        "degree_max": int(deg.max()) if n else 0,
        "degree_skewness": _skewness(deg),
    }
    if "k_occurrence" in g.vs.attributes():
        out["k_occurrence_skewness"] = _skewness(np.asarray(g.vs["k_occurrence"], dtype=np.float64))
    if distance is not None and m:
        w = check_distances(g, distance)
        out["distance_attribute"] = distance
        out["weighted_diameter"] = float(g.diameter(directed=False, unconn=True, weights=w.tolist()))
        out["weighted_average_path_length"] = float(_weighted_apl(g, w))
    return out


def _weighted_apl(g: Any, w: np.ndarray) -> float:
    """Mean weighted shortest-path length over connected ordered pairs (streamed)."""
    from .shortest_paths import distance_blocks

    total, count = 0.0, 0
    h = g.copy()
    h.es["_w"] = w.tolist()
    for sources, D in distance_blocks(h, batch_size=256, weights="_w"):
        D[np.arange(sources.size), sources] = np.inf
        f = np.isfinite(D)
        total += float(D[f].sum())
        count += int(f.sum())
    return total / count if count else math.nan


def degree_distribution(g: Any) -> pd.DataFrame:
    """Number and share of vertices per degree (Figs 5.7/5.12).

    Parameters
    ----------
    g : igraph.Graph
        The graph.

    Returns
    -------
    pandas.DataFrame
        Columns ``degree``, ``count`` and ``fraction``, one row per degree present.
    """
    deg = np.asarray(g.degree(), dtype=np.int64)
    values, counts = np.unique(deg, return_counts=True)
    return pd.DataFrame({"degree": values, "count": counts, "fraction": counts / max(deg.size, 1)})


def hubs(g: Any, n: int = 10) -> pd.DataFrame:
    """The ``n`` highest-degree vertices, ties broken by vertex index.

    Parameters
    ----------
    g : igraph.Graph
        The graph.
    n : int, optional
        Number of hubs (default 10).

    Returns
    -------
    pandas.DataFrame
        Columns ``rank``, ``vertex``, ``name``, ``degree`` and, when vertices have that
        attribute, ``k_occurrence``.
    """
    deg = np.asarray(g.degree(), dtype=np.int64)
    order = np.lexsort((np.arange(deg.size), -deg))[: max(0, int(n))]
    names = vertex_names(g)
    df = pd.DataFrame({"rank": np.arange(1, order.size + 1), "vertex": order, "name": [names[i] for i in order],
                       "degree": deg[order]})
    if "k_occurrence" in g.vs.attributes():
        df["k_occurrence"] = [int(g.vs[int(i)]["k_occurrence"]) for i in order]
    return df


# --------------------------------------------------------------------------- communities


@dataclass
class Communities:
    """A partition of the vertices: ``membership[v]`` is v's community (0 = the largest).

    Parameters
    ----------
    method : str
        ``"louvain"`` or ``"leiden"``.
    membership : numpy.ndarray
        (n,) int64 community of each vertex, numbered by decreasing size.
    modularity : float
        Modularity of the partition (NaN for a graph without edges).
    seed : int
        Seed the algorithm ran with.
    resolution : float
        Resolution parameter of the modularity.
    weighted : bool
        Whether edge weights were used.
    """

    method: str
    membership: np.ndarray
    modularity: float
    seed: int
    resolution: float
    weighted: bool

    @property
    def sizes(self) -> np.ndarray:
        """Community sizes, largest first."""
        return np.bincount(self.membership)

    @property
    def count(self) -> int:
        """Number of communities."""
        return int(self.membership.max()) + 1 if self.membership.size else 0

    def members(self, names: list[str]) -> list[list[str]]:
        """Names of the vertices of each community.

        Parameters
        ----------
        names : list of str
            Name of every vertex, e.g. from :func:`vertex_names`.

        Returns
        -------
        list of list of str
            One list of member names per community, largest community first.
        """
        return [[names[v] for v in np.flatnonzero(self.membership == c)] for c in range(self.count)]


def _renumber(membership: np.ndarray) -> np.ndarray:
    """Community ids by decreasing size, then by smallest member: independent of the algorithm's ids."""
    membership = np.asarray(membership, dtype=np.int64)
    ids, first, counts = np.unique(membership, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    new = np.empty(ids.size, dtype=np.int64)
    new[order] = np.arange(ids.size)
    return new[np.searchsorted(ids, membership)]


class _SeededIgraphRNG:
    """igraph's RNG (Python's ``random`` by default) replaced by a seeded one for a block."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(int(seed))

    def __enter__(self) -> None:
        import igraph as ig

        ig.set_random_number_generator(self.rng)

    def __exit__(self, *exc: Any) -> None:
        import igraph as ig

        ig.set_random_number_generator(random)


def communities(
    g: Any,
    method: str = "louvain",
    weights: np.ndarray | None = None,
    seed: int = 0,
    resolution: float = 1.0,
) -> Communities:
    """Louvain or Leiden communities maximising modularity, reproducible for a given ``seed``.

    Leiden runs ``leidenalg.ModularityVertexPartition`` until no vertex moves
    (``n_iterations=-1``).

    Parameters
    ----------
    g : igraph.Graph
        The graph.
    method : str, optional
        ``"louvain"`` (default) or ``"leiden"``.
    weights : numpy.ndarray, optional
        One similarity > 0 per edge (larger = closer); None (default) = unweighted.
    seed : int, optional
        Random seed (default 0).
    resolution : float, optional
        Modularity resolution (default 1); for Leiden, a value other than 1 uses
        ``RBConfigurationVertexPartition``, the same objective with a resolution parameter.

    Returns
    -------
    Communities
        The partition, communities numbered by decreasing size.

    Raises
    ------
    LatentGraphError
        For an unknown method or invalid weights.
    """
    if method not in METHODS:
        raise LatentGraphError(f"unknown community method {method!r}; allowed: {list(METHODS)}")
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and (w.shape != (g.ecount(),) or not np.all(np.isfinite(w)) or np.any(w <= 0)):
        raise LatentGraphError("community weights must be one finite value > 0 per edge")
    wl = None if w is None else w.tolist()
    if method == "louvain":
        with _SeededIgraphRNG(seed):
            part = g.community_multilevel(weights=wl, return_levels=False, resolution=resolution)
        membership = np.asarray(part.membership)
    else:
        import leidenalg

        if resolution == 1.0:
            part = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, weights=wl, n_iterations=-1,
                                            seed=int(seed) % (2**31))
        else:
            part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights=wl,
                                            n_iterations=-1, seed=int(seed) % (2**31),
                                            resolution_parameter=resolution)
        membership = np.asarray(part.membership)
    membership = _renumber(membership)
    q = float(g.modularity(membership.tolist(), weights=wl, resolution=resolution)) if g.ecount() else math.nan
    return Communities(method, membership, q, int(seed), float(resolution), w is not None)


# --------------------------------------------------------------------------- summary


def graph_summary(
    g: Any,
    *,
    distance: str | None = None,
    community_weights: str | None = "similarity",
    n_hubs: int = 10,
    seed: int = 0,
    resolution: float = 1.0,
    seed_sweep: int = 10,
    compare: str | None = None,
) -> dict[str, Any]:
    """Statistics, hubs, degree distribution and communities of ``g`` as one JSON-able dict.

    Parameters
    ----------
    g : igraph.Graph
        The graph.
    distance : str, optional
        Edge attribute of lengths (weighted path statistics, and similarities min/d for
        communities); None (default) = none.
    community_weights : str, optional
        ``"similarity"`` (default: an edge attribute of that name, else derived from
        ``distance``, else unweighted) or None (unweighted).
    n_hubs : int, optional
        Number of hubs listed (default 10).
    seed : int, optional
        Seed of the Louvain and Leiden runs (default 0).
    resolution : float, optional
        Modularity resolution (default 1).
    seed_sweep : int, optional
        The number of Louvain communities is also reported for seeds 0..seed_sweep-1, to
        show how much it depends on the seed (default 10; 0 = no sweep).
    compare : str, optional
        A vertex attribute holding another partition (e.g. Gephi's ``modularity_class``);
        the normalised mutual information of each partition with it is added.

    Returns
    -------
    dict
        ``measures`` (:func:`measures`), ``hubs``, ``degree_distribution``,
        ``communities`` and ``_memberships`` (numpy arrays; dropped by :func:`to_json`).

    Raises
    ------
    LatentGraphError
        When ``compare`` is not a vertex attribute, ``community_weights`` is invalid or the
        weights are not finite and > 0.
    """
    if compare is not None and compare not in g.vs.attributes():
        raise LatentGraphError(f"no vertex attribute {compare!r} to compare communities with; "
                               f"vertex attributes: {g.vs.attributes()}")
    other = None if compare is None else _renumber(np.unique(np.asarray(g.vs[compare]).astype(str),
                                                             return_inverse=True)[1])
    out: dict[str, Any] = {"measures": measures(g, distance=distance)}
    names = vertex_names(g)
    out["hubs"] = hubs(g, n_hubs).to_dict(orient="records")
    out["degree_distribution"] = degree_distribution(g).to_dict(orient="list")
    w = None
    source = "none"
    if community_weights == "similarity":
        if "similarity" in g.es.attributes():
            w = check_distances(g, "similarity")  # similarities must be > 0 too
            source = "edge attribute 'similarity'"
        elif distance is not None:
            w = similarity_weights(check_distances(g, distance))
            source = f"min({distance}) / {distance}"
    elif community_weights is not None:
        raise LatentGraphError(f"community_weights must be 'similarity' or None, got {community_weights!r}")
    comms: dict[str, Any] = {"weights": source}
    memberships = {}
    for method in METHODS:
        c = communities(g, method, weights=w, seed=seed, resolution=resolution)
        memberships[method] = c.membership
        comms[method] = {
            "count": c.count,
            "sizes": c.sizes.tolist(),
            "modularity": c.modularity,
            "seed": c.seed,
            "resolution": c.resolution,
            "members": c.members(names),
        }
        if other is not None:
            comms[method][f"nmi_vs_{compare}"] = _nmi(c.membership, other)
    if seed_sweep:
        sweep = [communities(g, "louvain", weights=w, seed=s, resolution=resolution) for s in range(seed_sweep)]
        comms["louvain_seed_sweep"] = {"seeds": list(range(seed_sweep)), "counts": [c.count for c in sweep]}
        if other is not None:
            comms["louvain_seed_sweep"][f"nmi_vs_{compare}"] = [_nmi(c.membership, other) for c in sweep]
    if other is not None:
        comms["compared_with"] = {"attribute": compare, "count": int(other.max()) + 1,
                                  "modularity": float(g.modularity(other.tolist(), weights=None if w is None else w.tolist()))}
    out["communities"] = comms
    out["_memberships"] = memberships  # arrays for callers; dropped by to_json
    return out


def _nmi(a: np.ndarray, b: np.ndarray) -> float:
    import igraph as ig

    return float(ig.compare_communities(a.tolist(), b.tolist(), method="nmi"))


def to_json(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without its numpy arrays (for ``json.dump``).

    Parameters
    ----------
    summary : dict
        A :func:`graph_summary` result.

    Returns
    -------
    dict
        The summary without its keys starting with ``_``.
    """
    return {k: v for k, v in summary.items() if not k.startswith("_")}


def format_summary(summary: dict[str, Any], title: str = "", max_members: int = 8) -> str:
    """A plain-text report: the measures table, hubs and communities.

    Parameters
    ----------
    summary : dict
        A :func:`graph_summary` result.
    title : str, optional
        First line of the report (default: none).
    max_members : int, optional
        Member names listed per community before ``...`` (default 8).

    Returns
    -------
    str
        The report, ending in a newline.
    """
    m = summary["measures"]
    lines = [title] if title else []
    lines.append(f"{m['vertices']} vertices, {m['edges']} edges")
    rows = [
        ("diameter (hops)", f"{m['diameter']}"),
        ("average path length (hops)", f"{m['average_path_length']:.3f}"),
        ("average degree", f"{m['average_degree']:.3f}"),
        ("clustering coefficient (average local)", f"{m['clustering']:.4f}"),
        ("transitivity (global)", f"{m['transitivity']:.4f}"),
        ("connected components", f"{m['components']} (largest {m['largest_component']})"),
        ("degree min / max", f"{m['degree_min']} / {m['degree_max']}"),
        ("degree skewness", f"{m['degree_skewness']:.3f}"),
    ]
    if "k_occurrence_skewness" in m:
        rows.append(("k-occurrence skewness (hubness)", f"{m['k_occurrence_skewness']:.3f}"))
    if "weighted_diameter" in m:
        rows.append((f"weighted diameter ({m['distance_attribute']})", f"{m['weighted_diameter']:.4g}"))
        rows.append((f"weighted average path length ({m['distance_attribute']})",
                     f"{m['weighted_average_path_length']:.4g}"))
    width = max(len(r[0]) for r in rows)
    lines += ["", "measure".ljust(width) + "  value"] + [f"{a.ljust(width)}  {b}" for a, b in rows]
    lines += ["", "hubs (highest degree):"]
    for h in summary["hubs"]:
        lines.append(f"  {h['rank']:>3}  {h['degree']:>4}  {h['name']}")
    comms = summary["communities"]
    for method in METHODS:
        c = comms[method]
        lines += ["", f"{method} communities (seed {c['seed']}, weights: {comms['weights']}): {c['count']} "
                      f"communities, modularity {c['modularity']:.4f}, sizes {c['sizes']}"]
        for i, members in enumerate(c["members"]):
            more = f", ... (+{len(members) - max_members})" if len(members) > max_members else ""
            lines.append(f"  {i:>3} ({len(members)}): " + "; ".join(members[:max_members]) + more)
    if "louvain_seed_sweep" in comms:
        sw = comms["louvain_seed_sweep"]
        lines += ["", f"louvain communities for seeds {sw['seeds'][0]}..{sw['seeds'][-1]}: {sw['counts']}"]
    if "compared_with" in comms:
        cw = comms["compared_with"]
        key = f"nmi_vs_{cw['attribute']}"
        lines.append(f"compared with {cw['attribute']!r} ({cw['count']} communities, modularity {cw['modularity']:.4f}): "
                     f"NMI louvain {comms['louvain'][key]:.3f}, leiden {comms['leiden'][key]:.3f}")
        if key in comms.get("louvain_seed_sweep", {}):
            vals = comms["louvain_seed_sweep"][key]
            lines.append(f"  louvain NMI over the seeds: {min(vals):.3f}..{max(vals):.3f}")
    return "\n".join(lines) + "\n"


def measures_markdown(summary: dict[str, Any], reference: dict[str, Any] | None = None) -> str:
    """The Table 5.6-style measures as a Markdown table (with a reference column if given).

    Parameters
    ----------
    summary : dict
        A :func:`graph_summary` result.
    reference : dict, optional
        Reference values keyed by row label (e.g. ``"Diameter"``); adds a reference column.

    Returns
    -------
    str
        The Markdown table, ending in a newline.
    """
    m = summary["measures"]
    keys = [("Diameter", "diameter", "{:d}"), ("Average path length", "average_path_length", "{:.2f}"),
            ("Average degree", "average_degree", "{:.3f}"), ("Clustering coefficient", "clustering", "{:.3f}"),
            ("Connected components", "components", "{:d}"),
            ("Louvain communities", None, "{:d}"), ("Leiden communities", None, "{:d}")]
    head = "| measure | value |" + (" reference |" if reference else "")
    sep = "|---|---|" + ("---|" if reference else "")
    lines = [head, sep]
    for label, key, fmt in keys:
        if key is None:
            val = summary["communities"]["louvain" if label.startswith("Louvain") else "leiden"]["count"]
        else:
            val = m[key]
        row = f"| {label} | {fmt.format(val)} |"
        if reference:
            row += f" {reference.get(label, '')} |"
        lines.append(row)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- loading


def load_graph(path: str | os.PathLike, nodes: str | os.PathLike | None = None,
               name_column: str | None = None) -> Any:
    """Read an undirected graph from GraphML, GEXF or a CSV edge list.

    Directed graphs are read as undirected. Repeated edges and self-loops are dropped
    (first kept) with a warning.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.graphml``, ``.gexf`` or ``.csv`` file. CSV: columns ``source,target[,weight]``
        (vertex ids; other columns become edge attributes).
    nodes : str or os.PathLike, optional
        For a CSV edge list only: a node CSV holding an ``id`` column and a name column.
        Vertices are the ids of the node file, else those of the edges in sorted order.
    name_column : str, optional
        The name column of ``nodes`` (default: the first of class_name / name / label),
        stored as the ``class_name`` vertex attribute.

    Returns
    -------
    igraph.Graph
        The undirected simple graph, with graph attribute ``source`` = the path.

    Raises
    ------
    LatentGraphError
        When a file is missing, unreadable, of an unknown format, or inconsistent.
    """
    p = Path(path)
    if not p.exists():
        raise LatentGraphError(f"{p}: graph file does not exist")
    suffix = p.suffix.lower()
    if suffix not in GRAPH_FORMATS:
        raise LatentGraphError(f"{p}: unknown graph file format {suffix or '(none)'!r}; allowed: {list(GRAPH_FORMATS)}")
    if nodes is not None and suffix != ".csv":
        raise LatentGraphError(f"{nodes}: a node file goes with a CSV edge list only")
    if suffix == ".graphml":
        import igraph as ig

        try:
            g = ig.Graph.Read_GraphML(str(p))
        except Exception as exc:
            raise LatentGraphError(f"{p}: cannot read GraphML ({type(exc).__name__}: {exc})") from exc
    elif suffix == ".gexf":
        g = _read_gexf(p)
    else:
        g = _read_csv_graph(p, nodes, name_column)
    if g.is_directed():
        log.warning("%s: directed graph read as undirected", p)
        g.to_undirected(mode="collapse", combine_edges="first")
    if not g.is_simple():
        before = g.ecount()
        g.simplify(multiple=True, loops=True, combine_edges="first")
        log.warning("%s: dropped %d repeated edges or self-loops", p, before - g.ecount())
    g["source"] = str(p)
    return g


def _read_csv_graph(p: Path, nodes: str | os.PathLike | None, name_column: str | None) -> Any:
    import igraph as ig

    try:
        edges = pd.read_csv(p)
    except Exception as exc:
        raise LatentGraphError(f"{p}: cannot read CSV ({type(exc).__name__}: {exc})") from exc
    if not {"source", "target"} <= set(edges.columns):
        raise LatentGraphError(f"{p}: edge list needs 'source' and 'target' columns, has {list(edges.columns)}")
    if edges[["source", "target"]].isna().any().any():
        raise LatentGraphError(f"{p}: empty source/target values")
    if nodes is not None:
        np_ = Path(nodes)
        if not np_.exists():
            raise LatentGraphError(f"{np_}: node file does not exist")
        table = pd.read_csv(np_)
        if "id" not in table.columns:
            raise LatentGraphError(f"{np_}: node file needs an 'id' column, has {list(table.columns)}")
        if table["id"].duplicated().any():
            raise LatentGraphError(f"{np_}: node ids repeat")
        ids = table["id"].tolist()
    else:
        table = None
        ids = sorted(set(edges["source"].tolist()) | set(edges["target"].tolist()), key=lambda x: (str(type(x)), x))
    index = {v: i for i, v in enumerate(ids)}
    unknown = [v for v in pd.concat([edges["source"], edges["target"]]).unique() if v not in index]
    if unknown:
        raise LatentGraphError(f"{p}: edges refer to {len(unknown)} ids missing from the node file, e.g. {unknown[:5]}")
    src = edges["source"].map(index).to_numpy()
    dst = edges["target"].map(index).to_numpy()
    g = ig.Graph(n=len(ids), edges=np.column_stack([src, dst]).tolist(), directed=False)
    for col in edges.columns:
        if col in ("source", "target"):
            continue
        vals = edges[col]
        if col == "weight" or pd.api.types.is_numeric_dtype(vals):
            try:
                vals = pd.to_numeric(vals)
            except (ValueError, TypeError) as exc:
                raise LatentGraphError(f"{p}: column {col!r} must hold numbers") from exc
            g.es[col] = vals.astype(float).tolist()
        else:
            g.es[col] = vals.astype(str).tolist()
    g.vs["id"] = [str(v) for v in ids]
    if table is not None:
        col = name_column or next((c for c in ("class_name", "name", "label") if c in table.columns), None)
        if col is None or col not in table.columns:
            raise LatentGraphError(f"{nodes}: no name column {name_column or '(class_name, name or label)'}; "
                                   f"columns: {list(table.columns)}")
        g.vs["class_name"] = table[col].astype(str).tolist()
        for c in table.columns:
            if c in ("id", col):
                continue
            if pd.api.types.is_numeric_dtype(table[c]):
                g.vs[c] = table[c].astype(float).tolist()
    return g


#: What networkx's GEXF reader stores besides the attributes (not copied to igraph attributes)
_GEXF_NODE_FIELDS = ("label", "viz", "pid", "parents", "spells", "slices", "start", "end")
_GEXF_EDGE_FIELDS = ("id", "weight", "label", "spells", "slices", "start", "end")


def _read_gexf(p: Path) -> Any:
    """A GEXF graph (1.1draft, 1.2draft, 1.3; networkx's reader) as an igraph graph.

    Vertices in file order with ``id`` (the GEXF ids), ``label`` (when any node has one;
    else absent) and every declared attribute; edges with ``weight`` (GEXF's, 1.0 when
    absent) and every declared attribute, in the order of their ids when these are all
    integers (as :func:`latentgraph.graphs.export.write_gexf` writes them), else in
    networkx's order.
    """
    import igraph as ig
    import networkx as nx

    try:
        G = nx.read_gexf(p)
    except (ET.ParseError, nx.NetworkXError, KeyError, TypeError, ValueError) as exc:
        raise LatentGraphError(f"{p}: cannot read GEXF ({type(exc).__name__}: {exc})") from exc
    ids = [str(v) for v in G.nodes]
    index = {v: i for i, v in enumerate(G.nodes)}
    edges = [(u, v, d) for u, v, *_, d in (G.edges(keys=True, data=True) if G.is_multigraph() else G.edges(data=True))]
    edge_ids = [d.get("id") for _, _, d in edges]
    if all(isinstance(e, str) and e.lstrip("-").isdigit() for e in edge_ids):
        edges = [edges[i] for i in sorted(range(len(edges)), key=lambda i: int(edge_ids[i]))]
    g = ig.Graph(n=len(ids), edges=[(index[u], index[v]) for u, v, _ in edges], directed=G.is_directed())
    g.vs["id"] = ids
    node_data = [d for _, d in G.nodes(data=True)]
    labels = [d.get("label") for d in node_data]
    if any(lb is not None for lb in labels):
        g.vs["label"] = [lb if lb is not None else i for lb, i in zip(labels, ids, strict=True)]
    for key in sorted({k for d in node_data for k in d} - set(_GEXF_NODE_FIELDS)):
        g.vs[key] = [d.get(key) for d in node_data]
    g.es["weight"] = [float(d.get("weight", 1.0)) for _, _, d in edges]
    for key in sorted({k for _, _, d in edges for k in d} - set(_GEXF_EDGE_FIELDS)):
        g.es[key] = [d.get(key) for _, _, d in edges]
    return g


def default_distance_attribute(g: Any) -> str | None:
    """``distance`` if the edges have it, else ``weight`` (a CSV's third column), else None.

    Parameters
    ----------
    g : igraph.Graph
        The graph.

    Returns
    -------
    str or None
        The name of the edge attribute to use as distance.
    """
    attrs = g.es.attributes()
    return next((a for a in ("distance", "weight") if a in attrs), None)
