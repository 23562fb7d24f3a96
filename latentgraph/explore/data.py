"""The data of an explorer page: class graph, sample layout, neighbours, colourings, thumbnails.

Everything a page shows is computed here, in Python, and handed to the page as one JSON
object (:mod:`latentgraph.explore.page` inlines it): the browser only draws and looks up.

* :func:`class_view` reads a class graph: this workflow's ``nodes.csv``/``edges.csv``/
  ``stats.json`` (:mod:`latentgraph.experiments.classgraph`) or any node/edge CSV pair such
  as the thesis's ImageNet class graph (``id, class_name, class_accuracy,
  own_mean_shortest_path, degree, gephi_modularity_class`` and ``source, target, weight``).
* :func:`sample_layout` places every sample in 2-D: UMAP (umap-learn) of the latents on the
  run's own kNN table (``precomputed_knn``), seeded, so equal inputs give equal positions.
* :func:`sample_panel` gathers one graph's samples: positions, labels, predictions, its k
  nearest neighbours (row positions), k-occurrence (in-degree of the directed kNN graph) and,
  against a second graph of the same samples, the per-sample Jaccard similarity.
* :func:`thumbnail_atlas` packs thumbnails into sprite sheets (one PNG or JPEG per page,
  each sample a cell), much smaller than one data URI per sample.
"""

from __future__ import annotations

import base64
import io as _io
import json
import logging
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..graphs.knn import KnnTable, align
from ..io import Latents
from ..utils import LatentGraphError

log = logging.getLogger(__name__)

#: Side of a layout's square, in the integer units stored in the page
LAYOUT_SCALE = 10000
#: Thumbnails per row (and rows) of one atlas page
ATLAS_GRID = 64


# --------------------------------------------------------------------------- class graph


def _num_or_none(values: Any, digits: int = 6) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        f = float(v)
        out.append(None if not math.isfinite(f) else round(f, digits))
    return out


def class_view(nodes_csv: str | os.PathLike, edges_csv: str | os.PathLike,
               stats_json: str | os.PathLike | None = None, *, n_hubs: int = 10, seed: int = 0,
               class_names: list[str] | None = None) -> dict[str, Any]:
    """The class graph as the page's class view: classes, edges, communities, hubs.

    Parameters
    ----------
    nodes_csv : str or os.PathLike
        Node table with an ``id`` column and a name column (``class_name`` or ``name``);
        optional ``class_accuracy``, ``within_class_distance`` (or the thesis's
        ``own_mean_shortest_path``), ``n_samples``, ``degree``, ``x``/``y`` and community
        columns (``louvain``, ``leiden``, ``gephi_modularity_class``).
    edges_csv : str or os.PathLike
        Edge table ``source, target`` (node ids) with ``distance`` or ``weight`` (the mean
        shortest-path distance between the two classes).
    stats_json : str or os.PathLike, optional
        The class graph's ``stats.json``: its hub list is used when given.
    n_hubs : int, optional
        Hubs listed when ``stats_json`` gives none (highest degree first).
    seed : int, optional
        Seed of the layout computed when the node table has no ``x``/``y``.
    class_names : list of str, optional
        Names replacing the node table's, indexed by node row; must have one per node.

    Returns
    -------
    dict
        ``name``, ``x``, ``y`` (integers in [0, 10000]), ``degree``, ``accuracy``,
        ``within``, ``n_samples`` (lists, None where unknown), ``communities`` (``[method,
        community ids]`` pairs), ``edges`` (``source``, ``target``, ``distance`` lists of
        node rows) and ``hubs`` (node rows, highest degree first).

    Raises
    ------
    LatentGraphError
        When a file is missing or lacks a needed column, an edge names an unknown node, or
        ``class_names`` has the wrong length.
    """
    nodes = _read_csv(nodes_csv, "node table")
    edges = _read_csv(edges_csv, "edge table")
    if "id" not in nodes.columns:
        raise LatentGraphError(f"{nodes_csv}: node table needs an 'id' column, has {list(nodes.columns)}")
    name_col = next((c for c in ("class_name", "name", "label") if c in nodes.columns), None)
    if name_col is None:
        raise LatentGraphError(f"{nodes_csv}: node table needs a 'class_name' or 'name' column")
    if not {"source", "target"} <= set(edges.columns):
        raise LatentGraphError(f"{edges_csv}: edge table needs 'source' and 'target' columns, has {list(edges.columns)}")
    dist_col = next((c for c in ("distance", "weight") if c in edges.columns), None)
    index = {v: i for i, v in enumerate(nodes["id"].tolist())}
    unknown = sorted({v for v in pd.concat([edges["source"], edges["target"]]).tolist() if v not in index}, key=str)
    if unknown:
        raise LatentGraphError(f"{edges_csv}: edges name {len(unknown)} node ids missing from {nodes_csv}, e.g. {unknown[:5]}")
    n = len(nodes)
    names = [str(s) for s in nodes[name_col].tolist()]
    if class_names is not None:
        if len(class_names) != n:
            raise LatentGraphError(f"class names: {len(class_names)} given, the class graph has {n} classes")
        names = [str(s) for s in class_names]
    src = edges["source"].map(index).to_numpy(np.int64)
    dst = edges["target"].map(index).to_numpy(np.int64)
    dist = edges[dist_col].to_numpy(np.float64) if dist_col else np.ones(src.size)
    degree = np.bincount(np.concatenate([src, dst]), minlength=n)
    if {"x", "y"} <= set(nodes.columns):
        pos = nodes[["x", "y"]].to_numpy(np.float64)
    else:
        pos = _class_layout(n, src, dst, dist, seed)
    acc = nodes["class_accuracy"] if "class_accuracy" in nodes.columns else [math.nan] * n
    within_col = next((c for c in ("within_class_distance", "own_mean_shortest_path") if c in nodes.columns), None)
    within = nodes[within_col] if within_col else [math.nan] * n
    comms = []  # [method, membership] pairs, in this order (a dict's keys would be sorted in the page's JSON)
    for col, label in (("louvain", "Louvain"), ("leiden", "Leiden"), ("gephi_modularity_class", "Gephi modularity class")):
        if col in nodes.columns:
            comms.append([label, [int(v) for v in nodes[col].tolist()]])
    hubs: list[int] = []
    if stats_json is not None:
        stats = json.loads(Path(stats_json).read_text())
        by_name = {nm: i for i, nm in enumerate(nodes[name_col].astype(str).tolist())}
        hubs = [int(h["vertex"]) if "vertex" in h else by_name[str(h["name"])] for h in stats.get("hubs", [])]
    if not hubs:
        order = np.lexsort((np.arange(n), -degree))
        hubs = [int(i) for i in order[: min(n_hubs, n)]]
    spos = scale_layout(pos)
    return {
        "name": names,
        "x": spos[:, 0].tolist(),
        "y": spos[:, 1].tolist(),
        "degree": degree.astype(int).tolist(),
        "accuracy": _num_or_none(acc, 4),
        "within": _num_or_none(within, 4),
        "n_samples": [int(v) for v in nodes["n_samples"].tolist()] if "n_samples" in nodes.columns else None,
        "communities": comms,
        "edges": {"source": src.tolist(), "target": dst.tolist(), "distance": _num_or_none(dist, 4)},
        "hubs": hubs,
    }


def _read_csv(path: str | os.PathLike, what: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise LatentGraphError(f"{p}: {what} does not exist")
    try:
        return pd.read_csv(p)
    except Exception as exc:
        raise LatentGraphError(f"{p}: cannot read {what} ({type(exc).__name__}: {exc})") from exc


def _class_layout(n: int, src: np.ndarray, dst: np.ndarray, dist: np.ndarray, seed: int) -> np.ndarray:
    """Seeded Fruchterman-Reingold positions of a class graph without stored positions."""
    import igraph as ig

    from ..graphs.export import layout

    g = ig.Graph(n=n, edges=np.column_stack([src, dst]).tolist(), directed=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        g.es["similarity"] = (np.min(dist) / dist).tolist() if dist.size else []
    return layout(g, seed=seed, weights="similarity")


def scale_layout(pos: np.ndarray) -> np.ndarray:
    """Positions scaled into integers in [0, 10000] (aspect ratio kept), as stored in a page.

    Parameters
    ----------
    pos : numpy.ndarray
        (n, 2) positions.

    Returns
    -------
    numpy.ndarray
        (n, 2) int64 positions; the longer side spans 0..10000, the shorter one is centred.
    """
    pos = np.asarray(pos, dtype=np.float64)
    if pos.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    span = float(max((hi - lo).max(), 1e-12))
    out = (pos - lo) / span * LAYOUT_SCALE
    out += (LAYOUT_SCALE - out.max(axis=0)) / 2
    return np.rint(out).astype(np.int64)


# --------------------------------------------------------------------------- samples


def order_latents(lat: Latents, table: KnnTable) -> Latents:
    """The latents in the row order of a kNN table (samples matched by ``sample_id``).

    Parameters
    ----------
    lat : Latents
        Latents of the table's samples.
    table : KnnTable
        The kNN table built from them.

    Returns
    -------
    Latents
        ``lat`` itself when already in the table's order, else a reordered copy.

    Raises
    ------
    LatentGraphError
        When the two hold different samples or their labels disagree.
    """
    if lat.n == table.n and np.array_equal(lat.sample_id, table.sample_id):
        perm = np.arange(lat.n)
    else:
        pos = {int(s): i for i, s in enumerate(lat.sample_id)}
        if lat.n != table.n or any(int(s) not in pos for s in table.sample_id):
            raise LatentGraphError(f"{lat.metadata.get('source', 'latents')} and {table.metadata.get('source', 'kNN table')} "
                                   "hold different samples")
        perm = np.array([pos[int(s)] for s in table.sample_id], dtype=np.int64)
    if not np.array_equal(lat.labels[perm], table.labels):
        raise LatentGraphError(f"{lat.metadata.get('source', 'latents')}: labels disagree with the kNN table's")
    if np.array_equal(perm, np.arange(lat.n)):
        return lat
    return Latents(lat.X[perm], lat.labels[perm], lat.sample_id[perm],
                   None if lat.prediction is None else lat.prediction[perm], dict(lat.metadata))


def sample_layout(X: np.ndarray, table: KnnTable, *, seed: int = 0, n_neighbors: int = 15,
                  min_dist: float = 0.1) -> np.ndarray:
    """Deterministic 2-D positions of the samples: seeded UMAP on the run's kNN table.

    UMAP keeps the local neighbourhoods that the page is about (the k nearest neighbours of
    a clicked sample sit near it) and spreads the classes apart; given the kNN table
    (``precomputed_knn``, self added as the 0th neighbour) it lays out the very graph the
    workflow studies, without a second neighbour search. With ``random_state`` set, umap-learn
    runs single-threaded and is reproducible: equal inputs give equal positions.

    Parameters
    ----------
    X : numpy.ndarray
        (N, d) latents in the table's row order.
    table : KnnTable
        The exact kNN table of ``X``.
    seed : int, optional
        UMAP's ``random_state``.
    n_neighbors : int, optional
        UMAP's neighbourhood size, capped at the table's k + 1.
    min_dist : float, optional
        UMAP's ``min_dist``.

    Returns
    -------
    numpy.ndarray
        (N, 2) float64 positions.

    Raises
    ------
    LatentGraphError
        When there are too few samples for a layout.
    """
    n = table.n
    if X.shape[0] != n:
        raise LatentGraphError(f"layout: {X.shape[0]} latents for a kNN table of {n} samples")
    if n < 4:
        raise LatentGraphError(f"layout: {n} samples are too few (at least 4)")
    nn = int(max(2, min(n_neighbors, table.k + 1, n - 1)))
    idx = np.column_stack([np.arange(n), table.indices[:, : nn - 1]]).astype(np.int64)
    dist = np.column_stack([np.zeros(n), table.distances[:, : nn - 1]]).astype(np.float32)
    import umap

    metric = "manhattan" if table.metric == "l1" else "euclidean"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap's notes on precomputed_knn without a search index and on n_jobs
        reducer = umap.UMAP(n_neighbors=nn, min_dist=min_dist, metric=metric, random_state=int(seed),
                            precomputed_knn=(idx, dist, None), n_epochs=None, low_memory=True)
        pos = reducer.fit_transform(np.asarray(X, dtype=np.float32))
    return np.asarray(pos, dtype=np.float64)


def k_occurrence(indices: np.ndarray, n: int) -> np.ndarray:
    """k-occurrence of every vertex: how many vertices list it among their k nearest.

    Parameters
    ----------
    indices : numpy.ndarray
        (N, k) neighbour rows.
    n : int
        Number of vertices.

    Returns
    -------
    numpy.ndarray
        (N,) int64 in-degrees of the directed kNN graph.
    """
    return np.bincount(np.asarray(indices, dtype=np.int64).ravel(), minlength=n).astype(np.int64)


def per_sample_jaccard(a: KnnTable, b: KnnTable, k: int, directed: bool = False) -> np.ndarray:
    """Per-sample Jaccard similarity of two kNN graphs of the same samples at ``k``.

    Parameters
    ----------
    a, b : KnnTable
        The two graphs; ``b`` is matched to ``a``'s rows by sample id.
    k : int
        Number of neighbours.
    directed : bool, optional
        Compare the directed neighbour sets instead of the undirected graphs' (default).

    Returns
    -------
    numpy.ndarray
        (N,) similarities in [0, 1], in ``a``'s row order.
    """
    from ..compare.similarity import jaccard_per_vertex

    b = align(a, b)
    return jaccard_per_vertex(a.adjacency(k, directed=directed), b.adjacency(k, directed=directed))


@dataclass
class Panel:
    """One graph of samples as the page shows it.

    Parameters
    ----------
    title : str
        The heading of the panel (e.g. ``A, epoch 16``).
    latents : Latents
        The samples (in ``table``'s row order).
    table : KnnTable
        Their kNN table.
    """

    title: str
    latents: Latents
    table: KnnTable


def sample_panel(panel: Panel, k: int, *, seed: int = 0, n_neighbors: int = 15,
                 other: KnnTable | None = None, directed: bool = False,
                 row_order: np.ndarray | None = None) -> dict[str, Any]:
    """The JSON of one sample panel: layout, labels, predictions, neighbours, colourings.

    Parameters
    ----------
    panel : Panel
        The graph.
    k : int
        Neighbours shown per sample (at most the table's k).
    seed, n_neighbors
        Of the layout (:func:`sample_layout`).
    other : KnnTable, optional
        A second graph of the same samples: adds the per-sample Jaccard (``jaccard``).
    directed : bool, optional
        Jaccard of the directed neighbour sets instead of the undirected graphs'.
    row_order : numpy.ndarray, optional
        The sample ids in the page's row order (the first panel's); rows are reordered to it.

    Returns
    -------
    dict
        ``title``, ``k``, ``x``, ``y`` (integers), ``label``, ``pred`` (or None), ``nbr``
        (N x k neighbour rows, flattened, in the page's row order), ``kocc`` and ``jaccard``
        (or None).

    Raises
    ------
    LatentGraphError
        For a ``k`` larger than the table's or samples that differ from ``row_order``.
    """
    table, lat = panel.table, panel.latents
    if not 1 <= k <= table.k:
        raise LatentGraphError(f"k={k}: the kNN table {table.metadata.get('source', '')} holds k={table.k} at most")
    log.info("layout of %s: UMAP of %d samples (seed %d)", panel.title, table.n, seed)
    pos = scale_layout(sample_layout(lat.X, table, seed=seed, n_neighbors=n_neighbors))
    nbr = table.indices[:, :k]
    kocc = k_occurrence(nbr, table.n)
    jac = None if other is None else per_sample_jaccard(table, other, k, directed=directed)
    perm = np.arange(table.n)
    if row_order is not None:
        pos_of = {int(s): i for i, s in enumerate(table.sample_id)}
        if len(row_order) != table.n or any(int(s) not in pos_of for s in row_order):
            raise LatentGraphError(f"{panel.title}: its samples differ from the first graph's")
        perm = np.array([pos_of[int(s)] for s in row_order], dtype=np.int64)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    return {
        "title": panel.title,
        "k": int(k),
        "x": pos[perm, 0].tolist(),
        "y": pos[perm, 1].tolist(),
        "label": table.labels[perm].astype(int).tolist(),
        "pred": None if lat.prediction is None else lat.prediction[perm].astype(int).tolist(),
        "nbr": inv[nbr[perm]].ravel().astype(int).tolist(),
        "kocc": kocc[perm].astype(int).tolist(),
        "jaccard": None if jac is None else [round(float(v), 4) for v in jac[perm]],
    }


# --------------------------------------------------------------------------- thumbnails


def thumbnail_atlas(images: np.ndarray, cell: int | None = None, grid: int = ATLAS_GRID,
                    quality: int = 85) -> list[str]:
    """Pack thumbnails into sprite sheets (one image per page), as data URIs.

    Thumbnail i sits on page ``i // grid**2``, in row ``(i % grid**2) // grid`` and column
    ``i % grid`` of that page; cells are ``cell`` pixels square. Grey thumbnails go into
    PNG pages (lossless: small digits stay crisp), colour ones into JPEG pages (photos: a
    third of PNG's size, measured in docs/explorer.md). Both encoders are deterministic.

    Parameters
    ----------
    images : numpy.ndarray
        (N, S, S, C) uint8 thumbnails.
    cell : int, optional
        Cell side in pixels (default S; thumbnails are resized when it differs).
    grid : int, optional
        Cells per row and per column of a page.
    quality : int, optional
        JPEG quality of colour pages.

    Returns
    -------
    list of str
        ``data:image/png;base64,...`` or ``data:image/jpeg;base64,...`` URIs, one per page.
    """
    from PIL import Image

    n, s, c = images.shape[0], images.shape[1], images.shape[3]
    cell = int(cell or s)
    per_page = grid * grid
    pages = []
    for p0 in range(0, n, per_page):
        chunk = images[p0:p0 + per_page]
        rows = math.ceil(chunk.shape[0] / grid)
        sheet = np.zeros((rows * cell, grid * cell, c), dtype=np.uint8)
        for j, im in enumerate(chunk):
            if cell != s:
                pil = Image.fromarray(im[:, :, 0] if c == 1 else im)
                im = np.asarray(pil.resize((cell, cell), Image.Resampling.BILINEAR)).reshape(cell, cell, c)
            r, col = divmod(j, grid)
            sheet[r * cell:(r + 1) * cell, col * cell:(col + 1) * cell] = im
        buf = _io.BytesIO()
        if c == 1:
            Image.fromarray(sheet[:, :, 0], mode="L").save(buf, format="PNG", compress_level=9)
            mime = "image/png"
        else:
            Image.fromarray(sheet, mode="RGB").save(buf, format="JPEG", quality=int(quality), subsampling=0)
            mime = "image/jpeg"
        pages.append(f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii"))
    return pages


def thumbnails_for(sample_id: np.ndarray, thumbs: tuple[np.ndarray, np.ndarray], cap: int,
                   cell: int | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """The page's thumbnails of the given samples (in their order), within a cap.

    Parameters
    ----------
    sample_id : numpy.ndarray
        (N,) ids of the page's rows.
    thumbs : tuple of numpy.ndarray
        ``(ids, images)`` of :func:`read_thumbnails`.
    cap : int
        At most this many thumbnails (the first ``cap`` rows); 0 = none.
    cell : int, optional
        Cell side in pixels (default: the thumbnails' size).

    Returns
    -------
    atlas : dict or None
        ``cell``, ``grid``, ``pages`` (data URIs) and ``index`` (per row: its cell, or -1).
    note : str or None
        What the page says about missing thumbnails (None when every sample has one).
    """
    ids, images = thumbs
    pos = {int(s): i for i, s in enumerate(ids)}
    rows = [pos.get(int(s), -1) for s in sample_id]
    have = np.array([r >= 0 for r in rows])
    missing = int((~have).sum())
    keep = np.flatnonzero(have)[: max(int(cap), 0)]
    if keep.size == 0:
        return None, "no thumbnails: none of the samples is in the thumbnails file" if cap else \
            "no thumbnails: the thumbnail cap is 0"
    index = np.full(len(rows), -1, dtype=np.int64)
    index[keep] = np.arange(keep.size)
    pages = thumbnail_atlas(images[[rows[i] for i in keep]], cell=cell)
    notes = []
    if missing:
        notes.append(f"{missing} samples have no thumbnail in the thumbnails file")
    if have.sum() > keep.size:
        notes.append(f"thumbnails of the first {keep.size} of {int(have.sum())} samples only (cap {cap})")
    atlas = {"cell": int(cell or images.shape[1]), "grid": ATLAS_GRID, "pages": pages, "index": index.tolist()}
    return atlas, "; ".join(notes) or None
