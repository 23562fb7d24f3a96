"""Sharded jobs: one kNN table or one class fold split over many cluster jobs (scatter/gather).

The workflow's scatter/gather rules (``knn.shards``, ``classgraph.shards``; see
``rules/knn.smk`` and ``rules/classgraph.smk``) call these functions; each shard is one
Snakemake job, so a SLURM profile runs them on as many nodes as are free.

kNN (:func:`knn_shard`, :func:`gather_knn_shards`)
    Shard i of S searches the query rows of block i (:func:`shard_rows`) against the whole
    database (:func:`latentgraph.graphs.knn.knn` with ``rows``). A row's neighbours and
    distances depend only on that row and the latents, so the gathered table equals the
    one-job table (tests compare them bitwise). Memory per job: the latents plus the shard's
    rows of the table.

Class graph (:func:`class_distance_shard`, :func:`gather_class_distances`)
    Row i of the class sums (eq. 4.2) only gets contributions from the sources of class i,
    so the shards split the classes (:func:`latentgraph.graphs.shortest_paths.class_shards`,
    balanced by their numbers of sources) and shard i computes the rows of its classes, each
    source's row added in source order as in one job. The gather adds the partial (C x C)
    sums and pair counts in shard order, where every entry comes from one shard: the result
    equals the one-job matrix bitwise. With sampled sources (``classgraph.sources_per_class``)
    a shard computes the rows of its classes' sampled sources and the gather concatenates
    them. Memory per job: the sample graph plus O(N + C^2).
    Both read the sample kNN graph from a kNN table (searched once, not once per shard).

Shard files are ``.npz`` archives (arrays plus a JSON header), written atomically; the
gathers check that they are the S shards of the same input before adding them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..graphs.knn import KnnTable, knn
from ..graphs.shortest_paths import (
    WHOLE_CLASSES,
    ClassPathSums,
    SourceClassRows,
    add_class_path_sums,
    class_path_sums,
    class_shards,
    source_class_rows,
)
from ..io import Latents
from ..utils import LatentGraphError, atomic_path, check_k, check_shards
from .classgraph import (
    ClassDistances,
    check_sources_per_class,
    check_weights,
    distances_from_sums,
    sample_graph_metadata,
    sample_sources,
    sampled_from_rows,
)

log = logging.getLogger(__name__)


def shard_rows(n: int, shards: int, shard: int) -> tuple[int, int]:
    """The query rows ``(a, b)`` of shard ``shard`` of ``shards`` equal blocks of ``n`` rows.

    Parameters
    ----------
    n : int
        Number of rows.
    shards : int
        Number of shards, 1 <= shards <= n.
    shard : int
        Shard number, 0 <= shard < shards.

    Returns
    -------
    tuple of int
        ``(a, b)``; the first ``n % shards`` shards get one row more.

    Raises
    ------
    LatentGraphError
        When ``shards`` is larger than ``n`` (a shard would be empty) or ``shard`` is out of range.
    """
    shards = check_shards(shards, n, "knn.shards", "samples", shard=shard)
    base, extra = divmod(n, shards)
    a = int(shard) * base + min(int(shard), extra)
    return a, a + base + int(int(shard) < extra)


# --------------------------------------------------------------------------- shard files


def _write_npz(path: str | os.PathLike, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, header=np.array(json.dumps(header, sort_keys=True)), **arrays)
    return Path(path)


def _read_npz(path: str | os.PathLike, kind: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            arrays = {key: z[key] for key in z.files if key != "header"}
    except (OSError, ValueError, KeyError) as exc:
        raise LatentGraphError(f"{p}: not a readable shard file ({exc})") from None
    if header.get("kind") != kind:
        raise LatentGraphError(f"{p}: not a {kind} shard (found {header.get('kind')!r})")
    return header, arrays


def _check_set(headers: list[dict[str, Any]], paths: list[Any], same: tuple[str, ...]) -> int:
    """The shards must be 0..S-1 of one S, in order, with equal ``same`` entries."""
    S = len(headers)
    for i, (h, p) in enumerate(zip(headers, paths, strict=True)):
        if h.get("shards") != S or h.get("shard") != i:
            raise LatentGraphError(f"{p}: shard {h.get('shard')} of {h.get('shards')}, expected shard {i} of {S} "
                                   "(give the shard files in shard order)")
        for key in same:
            if h.get(key) != headers[0].get(key):
                raise LatentGraphError(f"{p}: {key} = {h.get(key)!r} differs from shard 0's {headers[0].get(key)!r}; "
                                       "the shards come from different inputs or settings: rebuild them")
    return S


# --------------------------------------------------------------------------- kNN


def knn_shard(path: str | os.PathLike, lat: Latents, k: int, shard: int, shards: int, *, metric: str = "l1",
              backend: str = "auto", threads: int | None = None) -> Path:
    """Search the query rows of one shard against all latents and write them to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The shard file (``.npz``) written.
    lat : Latents
        All latents (the database).
    k : int
        Neighbours per row.
    shard, shards : int
        Shard i of S (:func:`shard_rows`).
    metric, backend, threads
        As in :func:`latentgraph.graphs.knn.knn`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from ..graphs.knn import resolve_knn_backend

    check_k(k, lat.n)
    a, b = shard_rows(lat.n, shards, shard)
    resolved = resolve_knn_backend(backend, lat.n, metric)
    log.info("kNN shard %d of %d: rows %d..%d of %d, k = %d, backend %s", shard, shards, a, b - 1, lat.n, k, resolved)
    idx, dist = knn(lat.X, k, metric=metric, backend=resolved, threads=threads, rows=(a, b))
    header = {"kind": "knn", "shard": int(shard), "shards": int(shards), "rows": [a, b], "n": lat.n, "k": int(k),
              "metric": metric, "backend": resolved}
    return _write_npz(path, header, {"indices": idx, "distances": dist, "sample_id": lat.sample_id})


def gather_knn_shards(paths: list[str | os.PathLike], lat: Latents,
                      metadata: dict[str, Any] | None = None) -> KnnTable:
    """Join the shards of one kNN search into the table one job would have made.

    Parameters
    ----------
    paths : list of str or os.PathLike
        The shard files, in shard order.
    lat : Latents
        The latents searched (ids and labels of the rows).
    metadata : dict, optional
        Provenance stored with the table; the backend and the number of shards are added.

    Returns
    -------
    KnnTable
        The (N, k) table.

    Raises
    ------
    LatentGraphError
        When the files are not the S shards, in order, of one search of these latents.
    """
    read = [_read_npz(p, "knn") for p in paths]
    headers = [h for h, _ in read]
    S = _check_set(headers, list(paths), ("n", "k", "metric"))
    if headers[0]["n"] != lat.n:
        raise LatentGraphError(f"{paths[0]}: a search of {headers[0]['n']} rows, the latents have {lat.n}")
    for (h, arr), p in zip(read, paths, strict=True):
        if not np.array_equal(arr["sample_id"], lat.sample_id):
            raise LatentGraphError(f"{p}: searched other latents (sample ids differ): rebuild the shards")
        if tuple(h["rows"]) != shard_rows(lat.n, S, h["shard"]):
            raise LatentGraphError(f"{p}: rows {h['rows']} are not shard {h['shard']} of {S}")
    idx = np.concatenate([arr["indices"] for _, arr in read])
    dist = np.concatenate([arr["distances"] for _, arr in read])
    meta = dict(metadata or {})
    meta.update({"backend": headers[0]["backend"], "shards": S})
    return KnnTable(idx, dist, lat.sample_id, lat.labels, headers[0]["metric"], meta)


# --------------------------------------------------------------------------- class graph


@dataclass
class ClassShard:
    """The class-fold part of one shard: partial sums (exact) or sampled sources' rows.

    Parameters
    ----------
    header : dict
        Shard number and count, classes range, k, weights, sources_per_class, seed, etc.
    sums : ClassPathSums or None
        Exact mode: the shard's rows of the (C, C) sums and pair counts.
    rows : SourceClassRows or None
        Sampled mode: the rows of the shard's sampled sources.
    """

    header: dict[str, Any]
    sums: ClassPathSums | None = None
    rows: SourceClassRows | None = None


def _sample_graph(table: KnnTable, k: int, lat: Latents) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if table.n != lat.n or not np.array_equal(table.sample_id, lat.sample_id):
        raise LatentGraphError("the kNN table and the latents hold different samples (sample ids differ)")
    check_k(k, lat.n)
    if k > table.k:
        raise LatentGraphError(f"classgraph.k = {k} is larger than the kNN table's k = {table.k}")
    return table.edges(k=k)


def class_distance_shard(table: KnnTable, lat: Latents, k: int, shard: int, shards: int, *, weights: str = "l1",
                         sources_per_class: int | None = None, seed: int = 0, batch_size: int = 256,
                         n_jobs: int | None = 1, backend: str = "auto", progress: bool = False) -> ClassShard:
    """Compute one shard of the class fold of the sample kNN graph at ``k``.

    Parameters
    ----------
    table : KnnTable
        The kNN table of ``lat`` (at ``k`` or more neighbours; an exact table, so that its
        first k columns are the kNN graph at k).
    lat : Latents
        The latents (labels).
    k : int
        Neighbours of the sample graph (``classgraph.k``).
    shard, shards : int
        Shard i of S; S at most the number of classes.
    weights : {"l1", "hops"}, optional
        Path length.
    sources_per_class : int, optional
        Sampled mode: m sources per class; None: all sources.
    seed : int, optional
        Seed of the sampled sources.
    batch_size, n_jobs, backend, progress
        As in :func:`latentgraph.graphs.shortest_paths.class_path_sums`.

    Returns
    -------
    ClassShard
        The shard's part, for :func:`write_class_shard`.

    Raises
    ------
    LatentGraphError
        For a shard count above the number of classes, a bad ``sources_per_class``, or a kNN
        table of other samples or too small a k.
    """
    check_weights(weights)
    labels = lat.labels
    C = int(np.unique(labels).size)
    check_shards(shards, C, "classgraph.shards", "classes", shard=shard, why=WHOLE_CLASSES)
    src, dst, w = _sample_graph(table, k, lat)
    header = {"kind": "classgraph", "shard": int(shard), "shards": int(shards), "n": lat.n, "k": int(k),
              "weights": weights, "n_classes": C, "sources_per_class": sources_per_class, "seed": int(seed)}
    if sources_per_class is None:
        sums = class_path_sums(lat.n, src, dst, w, labels, weighted=weights == "l1", batch_size=batch_size,
                               n_jobs=n_jobs, backend=backend, progress=progress, shard=(int(shard), int(shards)))
        return ClassShard(header=header, sums=sums)
    m = check_sources_per_class(labels, sources_per_class, lat.metadata.get("class_names"))
    sources = sample_sources(labels, m, seed)  # class by class: shard i's classes are one slice
    c0, c1 = class_shards(np.full(C, m), int(shards))[int(shard)]
    rows = source_class_rows(lat.n, src, dst, w, labels, sources[c0 * m : c1 * m], weighted=weights == "l1",
                             batch_size=batch_size, n_jobs=n_jobs, backend=backend, progress=progress)
    return ClassShard(header=header, rows=rows)


def write_class_shard(path: str | os.PathLike, part: ClassShard) -> Path:
    """Write a :class:`ClassShard` (``.npz``, atomically).

    Parameters
    ----------
    path : str or os.PathLike
        The shard file.
    part : ClassShard
        The shard's part.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if part.sums is not None:
        s = part.sums
        header = {**part.header, "n_components": s.n_components, "backend": s.backend, "weighted": s.weighted,
                  "n_jobs": s.n_jobs}
        arrays = {"sums": s.sums, "pairs": s.pairs, "total": s.total, "classes": s.classes, "sizes": s.sizes}
    else:
        r = part.rows
        assert r is not None
        header = {**part.header, "n_components": r.n_components, "backend": r.backend, "weighted": r.weighted}
        arrays = {"sources": r.sources, "source_class": r.source_class, "sums": r.sums, "reach": r.reach,
                  "classes": r.classes, "sizes": r.sizes}
    return _write_npz(path, header, arrays)


def read_class_shard(path: str | os.PathLike) -> ClassShard:
    """Read a file written by :func:`write_class_shard`.

    Parameters
    ----------
    path : str or os.PathLike
        The shard file.

    Returns
    -------
    ClassShard
        The shard's part.

    Raises
    ------
    LatentGraphError
        When the file is missing or not a class-graph shard.
    """
    header, a = _read_npz(path, "classgraph")
    common = {"classes": a["classes"], "sizes": a["sizes"], "n_components": int(header["n_components"]),
              "backend": header["backend"], "weighted": bool(header["weighted"])}
    if header.get("sources_per_class") is None:
        sums = ClassPathSums(sums=a["sums"], pairs=a["pairs"], total=a["total"], n_jobs=int(header["n_jobs"]),
                             **common)
        return ClassShard(header=header, sums=sums)
    rows = SourceClassRows(sources=a["sources"], source_class=a["source_class"], sums=a["sums"], reach=a["reach"],
                           **common)
    return ClassShard(header=header, rows=rows)


def gather_class_distances(parts: list[ClassShard], table: KnnTable, lat: Latents, *, metric: str = "l1",
                           class_names: list[str] | None = None, paths: list[Any] | None = None) -> ClassDistances:
    """Add the shards of one class fold and finish the class distance matrix.

    Parameters
    ----------
    parts : list of ClassShard
        Shards 0..S-1, in order (:func:`read_class_shard`).
    table : KnnTable
        The kNN table the shards used (for the sample graph's edges and metadata).
    lat : Latents
        The latents (labels, predictions, provenance).
    metric : str, optional
        The kNN distance (recorded).
    class_names : list of str, optional
        Class names by label; None: the latents' ``class_names`` metadata.
    paths : list, optional
        The shard files, for messages.

    Returns
    -------
    ClassDistances
        Equal (bitwise) to what one job computes from the same kNN graph; its metadata adds
        ``shards``.

    Raises
    ------
    LatentGraphError
        When the parts are not the S shards of one fold of this sample graph.
    """
    if not parts:
        raise LatentGraphError("no class-graph shards to gather")
    paths = list(paths) if paths is not None else [f"shard {i}" for i in range(len(parts))]
    headers = [p.header for p in parts]
    S = _check_set(headers, paths, ("n", "k", "weights", "n_classes", "sources_per_class", "seed"))
    h = headers[0]
    if h["n"] != lat.n:
        raise LatentGraphError(f"{paths[0]}: a fold of {h['n']} samples, the latents have {lat.n}")
    k, weights = int(h["k"]), h["weights"]
    src, dst, _ = _sample_graph(table, k, lat)
    names = class_names if class_names is not None else lat.metadata.get("class_names")
    meta = sample_graph_metadata(table.indices[:, :k], k, metric, lat)
    meta["shards"] = S
    if h["sources_per_class"] is None:
        sums = add_class_path_sums([p.sums for p in parts if p.sums is not None])
        return distances_from_sums(sums, lat.labels, weights=weights, n_edges=int(src.size), class_names=names,
                                   prediction=lat.prediction, metadata=meta)
    rs = [p.rows for p in parts if p.rows is not None]
    r0 = rs[0]
    rows = SourceClassRows(sources=np.concatenate([r.sources for r in rs]),
                           source_class=np.concatenate([r.source_class for r in rs]),
                           sums=np.concatenate([r.sums for r in rs]), reach=np.concatenate([r.reach for r in rs]),
                           classes=r0.classes, sizes=r0.sizes, n_components=r0.n_components, backend=r0.backend,
                           weighted=r0.weighted)
    m, seed = int(h["sources_per_class"]), int(h["seed"])
    if not np.array_equal(rows.sources, sample_sources(lat.labels, m, seed)):
        raise LatentGraphError("the shards' sampled sources are not those of sources_per_class "
                               f"{m} and seed {seed}: rebuild the shards")
    return sampled_from_rows(rows, lat.labels, src, dst, m, seed=seed, weights=weights, class_names=names,
                             prediction=lat.prediction, metadata=meta)
