"""Thumbnails by sample id: the Parquet file the thumbnails rule writes and the explorer reads.

Columns ``sample_id`` (int64) and ``thumbnail`` (fixed-size list of uint8: S x S x C, row
major); the metadata records ``size`` S and ``channels`` C (1 = grey, 3 = RGB). Needs only
numpy and pyarrow, so both the torch jobs and the graph jobs import it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..io import META_KEY, read_table, write_parquet
from ..utils import LatentGraphError

__all__ = ["read_thumbnails", "write_thumbnails"]


def write_thumbnails(path: str | os.PathLike, sample_id: np.ndarray, images: np.ndarray,
                     metadata: dict[str, Any] | None = None) -> Path:
    """Write thumbnails by sample id (Parquet, atomically).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    sample_id : numpy.ndarray
        (N,) int64 unique sample ids.
    images : numpy.ndarray
        (N, S, S, C) uint8 thumbnails, C = 1 (grey) or 3 (RGB).
    metadata : dict, optional
        Provenance stored in the file (dataset, split, ...).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    LatentGraphError
        For ids and images of different lengths, repeated ids or images of the wrong shape.
    """
    ids = np.asarray(sample_id, dtype=np.int64)
    img = np.asarray(images)
    if img.ndim != 4 or img.shape[3] not in (1, 3) or img.shape[1] != img.shape[2] or img.dtype != np.uint8:
        raise LatentGraphError(f"{path}: thumbnails must be (N, S, S, 1 or 3) uint8, got {img.shape} {img.dtype}")
    if ids.shape != (img.shape[0],):
        raise LatentGraphError(f"{path}: {ids.size} sample ids for {img.shape[0]} thumbnails")
    if np.unique(ids).size != ids.size:
        raise LatentGraphError(f"{path}: sample ids repeat")
    n, s, _, c = img.shape
    flat = pa.FixedSizeListArray.from_arrays(pa.array(img.reshape(-1), type=pa.uint8()), s * s * c)
    meta = {**(metadata or {}), "size": int(s), "channels": int(c)}
    table = pa.table({"sample_id": pa.array(ids), "thumbnail": flat})
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True)})
    write_parquet(table, path)
    return Path(path)


def read_thumbnails(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a thumbnails file of :func:`write_thumbnails`.

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file.

    Returns
    -------
    sample_id : numpy.ndarray
        (N,) int64.
    images : numpy.ndarray
        (N, S, S, C) uint8.

    Raises
    ------
    LatentGraphError
        When the file is missing, unreadable or malformed.
    """
    table, meta = read_table(path, "thumbnails", ["sample_id", "thumbnail"])
    try:
        s, c = int(meta["size"]), int(meta["channels"])
    except (KeyError, TypeError, ValueError):
        raise LatentGraphError(f"{path}: thumbnails file lacks its size/channels metadata") from None
    ids = table.column("sample_id").to_numpy().astype(np.int64)
    flat = table.column("thumbnail").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    if flat.size != ids.size * s * s * c:
        raise LatentGraphError(f"{path}: thumbnails do not have {s}x{s}x{c} values each")
    return ids, flat.reshape(ids.size, s, s, c).astype(np.uint8)
