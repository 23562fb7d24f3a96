"""Build one self-contained explorer page: data (:mod:`latentgraph.explore.data`) as inline JSON
plus the template, style, behaviour and vendored libraries of this package, all in one HTML file.

The page makes no network request: sigma.js, graphology and graphology-library
(``vendor/``, MIT, versions in ``vendor/README.md``), the data and the thumbnail atlas (PNG
data URIs) are all inline, so the file opens from disk, offline, and inside
``snakemake --report``'s page.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..io import read_knn, read_latents
from ..utils import LatentGraphError, write_text_atomic
from .data import Panel, class_view, order_latents, sample_panel, thumbnails_for
from .thumbs import read_thumbnails

log = logging.getLogger(__name__)

#: The vendored JavaScript files, in load order
VENDOR_FILES = ("graphology.umd.min.js", "graphology-library.min.js", "sigma.min.js")


def _asset(name: str) -> str:
    return resources.files("latentgraph.explore").joinpath(name).read_text(encoding="utf-8")


def vendor_js() -> str:
    """The vendored libraries, concatenated, without their source-map comments.

    Returns
    -------
    str
        JavaScript text (licence headers kept).
    """
    parts = []
    for name in VENDOR_FILES:
        text = _asset(f"vendor/{name}")
        parts.append(re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.MULTILINE))
    return "\n;\n".join(parts)


def render_page(data: dict[str, Any], title: str) -> str:
    """The HTML of a page holding ``data``.

    Parameters
    ----------
    data : dict
        The page's data (see :func:`page_data`); JSON-serialisable.
    title : str
        The page title.

    Returns
    -------
    str
        A complete HTML document.
    """
    import html

    payload = json.dumps(data, separators=(",", ":"), sort_keys=True, allow_nan=False)
    payload = payload.replace("</", "<\\/").replace("<!--", "<\\!--")
    out = _asset("template.html")
    # one pass, so that no inserted text is searched for a later placeholder
    pieces = {"__TITLE__": html.escape(title), "__CSS__": _asset("explorer.css"), "__VENDOR__": vendor_js(),
              "__APP__": _asset("explorer.js"), "__DATA__": payload}
    return re.sub("|".join(pieces), lambda m: pieces[m.group(0)], out)


@dataclass
class GraphInput:
    """One graph of samples to show: its latents and kNN table files and a title.

    Parameters
    ----------
    latents : str or os.PathLike
        The latents Parquet file.
    knn : str or os.PathLike or None
        The kNN table Parquet file built from them; None: searched here (exact, at the
        page's k, with ``metric``).
    title : str, optional
        The panel's heading (default: run and epoch from the latents' metadata, else the file name).
    metric : str, optional
        The metric of a kNN search made here (``l1`` or ``l2``).
    """

    latents: str | os.PathLike
    knn: str | os.PathLike | None = None
    title: str | None = None
    metric: str = "l1"


@dataclass
class PageOptions:
    """How a page is built.

    Parameters
    ----------
    k : int or None
        Neighbours shown per sample (None: 4, the thesis's k, or the tables' k when smaller).
    seed : int
        Seed of the layouts.
    n_neighbors : int
        UMAP's neighbourhood size (capped at the table's k + 1).
    directed : bool
        Per-sample Jaccard of the directed neighbour sets instead of the undirected graphs'.
    thumbnail_cap : int
        At most this many thumbnails in a page.
    thumbnail_size : int or None
        Cell side of the thumbnails in pixels (None: as stored).
    hubs : int
        Hubs listed in the class view when the class graph gives no list.
    extra_notes : list of str
        Lines shown under the page title.
    """

    k: int | None = None
    seed: int = 0
    n_neighbors: int = 15
    directed: bool = False
    thumbnail_cap: int = 20000
    thumbnail_size: int | None = None
    hubs: int = 10
    extra_notes: list[str] = field(default_factory=list)


def _title(lat: Any, path: str | os.PathLike) -> str:
    m = lat.metadata
    if m.get("run") is not None and m.get("epoch") is not None:
        return f"{m['run']}, epoch {int(m['epoch'])}"
    return Path(path).stem


def _class_names(lat: Any, names: list[str] | None, where: str) -> list[str] | None:
    labels_max = int(lat.labels.max()) if lat.n else -1
    meta = lat.metadata.get("class_names")
    n_classes = len(meta) if meta else labels_max + 1
    if names is not None:
        if len(names) != n_classes:
            raise LatentGraphError(f"{where}: {len(names)} class names, but the latents have {n_classes} classes "
                                   f"(labels 0..{n_classes - 1})")
        return [str(s) for s in names]
    return [str(s) for s in meta] if meta else None


def page_data(graphs: list[GraphInput], *, class_graph: dict[str, Any] | None = None,
              thumbnails: str | os.PathLike | None = None, class_names: list[str] | None = None,
              class_names_source: str = "class names", options: PageOptions | None = None) -> dict[str, Any]:
    """Everything one page shows, as a JSON-serialisable dict.

    Parameters
    ----------
    graphs : list of GraphInput
        One or two graphs of the same samples (the second is shown side by side).
    class_graph : dict, optional
        ``nodes``, ``edges`` and optionally ``stats`` paths of a class graph (the class view).
    thumbnails : str or os.PathLike, optional
        A thumbnails file (:func:`latentgraph.explore.data.write_thumbnails`); None: the page
        says it has none.
    class_names : list of str, optional
        Class names by label (default: the latents' metadata, else the label numbers).
    class_names_source : str, optional
        Where ``class_names`` came from, for error messages.
    options : PageOptions, optional
        Layout, k, thumbnails.

    Returns
    -------
    dict
        ``title``, ``class_names``, ``sample_id``, ``samples`` (panels), ``class_view``,
        ``thumbnails``, ``thumbnail_note`` and ``notes``.

    Raises
    ------
    LatentGraphError
        With no graph or more than two, for graphs of different samples, a ``k`` larger
        than a table's, or class names of the wrong length.
    """
    opt = options or PageOptions()
    if not 1 <= len(graphs) <= 2:
        raise LatentGraphError(f"an explorer page shows one or two graphs, got {len(graphs)}")
    tables, lats = [], []
    for g in graphs:
        lat = read_latents(g.latents)
        if g.knn is None:
            from ..graphs.knn import knn_table

            if opt.k is not None and not 1 <= opt.k < lat.n:
                raise LatentGraphError(f"k={opt.k}: must be between 1 and the number of samples - 1 ({lat.n - 1})")
            kk = min(max(int(opt.k or 4), opt.n_neighbors - 1), lat.n - 1)  # the layout uses up to n_neighbors - 1
            table = knn_table(lat.X, kk, lat.labels, lat.sample_id, metric=g.metric,
                              metadata={"source": str(g.latents)})
        else:
            table = read_knn(g.knn)
        tables.append(table)
        lats.append(order_latents(lat, table))
    names = _class_names(lats[0], class_names, class_names_source)
    k = int(opt.k) if opt.k is not None else min([4] + [t.k for t in tables])
    if k > min(t.k for t in tables):
        raise LatentGraphError(f"k={k}: the kNN tables hold k={min(t.k for t in tables)} at most")
    row_ids = tables[0].sample_id
    panels = []
    for i, (g, t, lat) in enumerate(zip(graphs, tables, lats, strict=True)):
        other = tables[1 - i] if len(tables) == 2 else None
        title = g.title or _title(lat, g.latents)
        panels.append(sample_panel(Panel(title, lat, t), k, seed=opt.seed, n_neighbors=opt.n_neighbors, other=other,
                                   directed=opt.directed, row_order=row_ids))
    notes = list(opt.extra_notes)
    atlas, thumb_note = None, None
    if thumbnails is None:
        thumb_note = "no thumbnails: the page was built without a thumbnails file (the latents hold no images)"
    else:
        atlas, thumb_note = thumbnails_for(row_ids, read_thumbnails(thumbnails), opt.thumbnail_cap, opt.thumbnail_size)
    if thumb_note:
        notes.append(thumb_note[0].upper() + thumb_note[1:] + ".")
    cview = None
    if class_graph is not None:
        cview = class_view(class_graph["nodes"], class_graph["edges"], class_graph.get("stats"), n_hubs=opt.hubs,
                           seed=opt.seed)
    else:
        notes.append("No class graph in this page.")
    return {
        "class_names": names or [str(c) for c in range(int(row_ids.size and lats[0].labels.max()) + 1)],
        "sample_id": [int(s) for s in row_ids],
        "samples": panels,
        "class_view": cview,
        "thumbnails": atlas,
        "thumbnail_note": thumb_note,
        "notes": notes,
    }


def class_graph_page_data(nodes: str | os.PathLike, edges: str | os.PathLike, stats: str | os.PathLike | None = None,
                          *, class_names: list[str] | None = None, seed: int = 0, hubs: int = 10) -> dict[str, Any]:
    """The data of a page with a class view only (e.g. the thesis's ImageNet class graph).

    Parameters
    ----------
    nodes, edges : str or os.PathLike
        The class graph's node and edge CSV files (see :func:`latentgraph.explore.data.class_view`).
    stats : str or os.PathLike, optional
        Its ``stats.json`` (hub list).
    class_names : list of str, optional
        Names replacing the node table's (one per node).
    seed : int, optional
        Seed of the layout when the node table has no positions.
    hubs : int, optional
        Hubs listed when ``stats`` gives none.

    Returns
    -------
    dict
        As :func:`page_data`, without samples.
    """
    cview = class_view(nodes, edges, stats, n_hubs=hubs, seed=seed, class_names=class_names)
    return {"class_names": cview["name"], "sample_id": [], "samples": [], "class_view": cview, "thumbnails": None,
            "thumbnail_note": None, "notes": ["No samples in this page: a class graph only."]}


def write_page(path: str | os.PathLike, data: dict[str, Any], title: str) -> Path:
    """Write a page atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.html`` file to write.
    data : dict
        The page's data (:func:`page_data` or :func:`class_graph_page_data`).
    title : str
        The page title.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    text = render_page(_plain(data), title)
    write_text_atomic(path, text)
    log.info("wrote %s (%.1f MB)", path, len(text.encode()) / 1e6)
    return Path(path)


def _plain(obj: Any) -> Any:
    """numpy scalars and arrays to plain Python, recursively (json.dumps takes only these)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj
