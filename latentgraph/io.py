"""Reading and writing latents and kNN graphs as Parquet.

Latents file (one row per sample, the spine's schema)::

    sample_id   int64                        unique per file
    label       int64                        class index, >= 0
    latent      fixed_size_list<float32>[d]  the penultimate-layer activation
    prediction  int64 (optional)             the model's predicted class

File-level metadata sits under the schema metadata key ``latentgraph`` as JSON (dataset,
split, arch, seed, epoch, test_accuracy, class_names, ...).

kNN graph file (one row per vertex, neighbours sorted by (distance, index))::

    sample_id     int64
    label         int64
    neighbor_ids  fixed_size_list<int64>[k]    sample ids of the k nearest other samples
    distances     fixed_size_list<float64>[k]  their exact distances

Both writers are atomic; both readers validate and name the file in every error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .utils import LatentGraphError, atomic_path

META_KEY = b"latentgraph"


@dataclass
class Latents:
    """Latent vectors of N samples with their ids, labels and file metadata.

    The arrays are checked and converted by :func:`validate_latents` on construction.

    Parameters
    ----------
    X : numpy.ndarray
        Latents, float32, shape (N, d).
    labels : numpy.ndarray
        Class indices, int64, shape (N,).
    sample_id : numpy.ndarray
        Unique sample ids, int64, shape (N,).
    prediction : numpy.ndarray, optional
        The model's predicted classes, int64, shape (N,); None when unknown.
    metadata : dict
        File-level metadata (dataset, split, arch, ...); ``source`` names the file read, if any.
    """

    X: np.ndarray  # (N, d) float32
    labels: np.ndarray  # (N,) int64
    sample_id: np.ndarray  # (N,) int64
    prediction: np.ndarray | None = None  # (N,) int64
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.X, self.labels, self.sample_id = validate_latents(
            self.X, self.labels, self.sample_id, source=self.metadata.get("source")
        )
        if self.prediction is not None:
            self.prediction = np.asarray(self.prediction, dtype=np.int64)
            if self.prediction.shape != self.labels.shape:
                raise LatentGraphError(f"{self._src()}prediction has shape {self.prediction.shape}, "
                                       f"expected {self.labels.shape}")

    def _src(self) -> str:
        src = self.metadata.get("source")
        return f"{src}: " if src else ""

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        """Latent dimension d."""
        return int(self.X.shape[1])

    @property
    def accuracy(self) -> float | None:
        """Fraction of samples whose prediction equals the label (None without predictions)."""
        if self.prediction is None:
            return None
        return float(np.mean(self.prediction == self.labels))


def validate_latents(
    X: Any, labels: Any, sample_id: Any = None, *, source: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check latents, labels and ids; return them as float32 / int64 / int64 arrays.

    Parameters
    ----------
    X : array_like
        Latents, shape (N, d) with N >= 2 and d >= 1, real and finite (also in float32).
    labels : array_like
        One non-negative integer class per row (integral floats are accepted).
    sample_id : array_like, optional
        One unique integer id per row; None gives ``0 .. N-1``.
    source : str, optional
        The file the values came from, named in error messages.

    Returns
    -------
    X : numpy.ndarray
        The latents, C-contiguous float32.
    labels : numpy.ndarray
        The labels, int64.
    sample_id : numpy.ndarray
        The ids, int64.

    Raises
    ------
    LatentGraphError
        For a non 2-D matrix, NaN or inf values, labels that are not non-negative integers
        or do not match the number of rows, and repeated ids.
    """
    where = f"{source}: " if source else ""
    X = np.asarray(X)
    if X.ndim != 2:
        raise LatentGraphError(f"{where}latents must be a 2-D array (samples x dims), got shape {X.shape}")
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise LatentGraphError(f"{where}latents need at least 2 samples and 1 dimension, got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise LatentGraphError(f"{where}latents must be real numbers, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise LatentGraphError(
            f"{where}latents contain {int(bad.sum())} NaN/inf values in {rows.size} rows "
            f"(first rows: {rows[:5].tolist()}); values that overflow float32 count as inf"
        )
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise LatentGraphError(f"{where}labels have shape {labels.shape}, expected ({X.shape[0]},) to match the latents")
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise LatentGraphError(f"{where}labels must be integers")
    elif labels.dtype.kind not in "iu":
        raise LatentGraphError(f"{where}labels must be integers, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise LatentGraphError(f"{where}labels must be >= 0, found {int(labels.min())}")
    if sample_id is None:
        sample_id = np.arange(X.shape[0], dtype=np.int64)
    sample_id = np.asarray(sample_id)
    if sample_id.shape != (X.shape[0],) or sample_id.dtype.kind not in "iu":
        raise LatentGraphError(f"{where}sample_id must be {X.shape[0]} integers, got {sample_id.dtype} {sample_id.shape}")
    sample_id = sample_id.astype(np.int64)
    uniq, counts = np.unique(sample_id, return_counts=True)
    if uniq.size != sample_id.size:
        dup = uniq[counts > 1]
        raise LatentGraphError(f"{where}sample_id values repeat ({dup.size} ids, e.g. {dup[:5].tolist()})")
    return X, labels, sample_id


def _numpy_to_array(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """A 1-D numpy array as an Arrow array of ``arrow_type``, sharing its buffer when the dtypes match.

    ``pa.array`` checks its input for pandas objects, which imports pandas (0.2-0.6 s of
    every command's start-up); wrapping the buffer needs none of it.
    """
    v = np.asarray(values)
    if v.ndim != 1 or v.dtype != np.dtype(arrow_type.to_pandas_dtype()):
        return pa.array(v, type=arrow_type)
    v = np.ascontiguousarray(v)
    return pa.Array.from_buffers(arrow_type, len(v), [None, pa.py_buffer(v)])


def _fixed_list(values: np.ndarray, arrow_type: pa.DataType) -> pa.FixedSizeListArray:
    n, k = values.shape
    flat = _numpy_to_array(np.ascontiguousarray(values).reshape(-1), arrow_type)
    return pa.FixedSizeListArray.from_arrays(flat, k)


def _is_number(t: pa.DataType) -> bool:
    """An integer or float Arrow type that numpy holds as is (float16 excluded)."""
    return (pa.types.is_integer(t) or pa.types.is_floating(t)) and not pa.types.is_float16(t)


def _open_parquet(path: str | os.PathLike, **options: Any) -> pq.ParquetFile:
    """A Parquet file opened for reading with its page checksums verified (see :func:`write_parquet`)."""
    return pq.ParquetFile(path, page_checksum_verification=True, **options)


def _array_to_numpy(arr: pa.Array) -> np.ndarray:
    """An Arrow array as numpy; null-free numbers as a read-only view of the values buffer.

    pyarrow's ``to_numpy`` goes through its pandas conversion layer, which imports pandas
    (0.2-0.6 s of every command's start-up); the view of a null-free integer or float
    array needs none of it.
    """
    t = arr.type
    if arr.null_count == 0 and _is_number(t):
        dtype = np.dtype(t.to_pandas_dtype())
        return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)
    return arr.to_numpy(zero_copy_only=False)


def _list_column_to_numpy(col: pa.ChunkedArray, dtype: Any, name: str, where: str) -> np.ndarray:
    arr = col.combine_chunks()
    if pa.types.is_fixed_size_list(arr.type):
        width = arr.type.list_size
    elif pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        lengths = np.asarray(arr.value_lengths().fill_null(-1))
        if lengths.size and (lengths.min() != lengths.max() or lengths.min() < 0):
            raise LatentGraphError(f"{where}column {name!r} has lists of different lengths or nulls")
        width = int(lengths[0]) if lengths.size else 0
    else:
        raise LatentGraphError(f"{where}column {name!r} must be a list column, got {arr.type}")
    if arr.null_count:
        raise LatentGraphError(f"{where}column {name!r} has {arr.null_count} null rows")
    if pa.types.is_fixed_size_list(arr.type):
        # the values of the rows, as flatten() gives them (no null rows, checked above);
        # flatten() of a fixed-size list imports pyarrow.compute (0.1-0.2 s of start-up)
        flat = arr.values.slice(arr.offset * width, len(arr) * width)
    else:
        flat = arr.flatten()
    if flat.null_count:
        raise LatentGraphError(f"{where}column {name!r} has null values inside its lists")
    if not (pa.types.is_floating(flat.type) or pa.types.is_integer(flat.type)):
        raise LatentGraphError(f"{where}column {name!r} must hold numbers, got {flat.type}")
    values = _array_to_numpy(flat)
    if dtype is not None:
        values = values.astype(dtype, copy=False)
    return values.reshape(len(arr), width)


def _int_column(table: pa.Table, name: str, where: str) -> np.ndarray:
    col = table.column(name)
    if col.null_count:
        raise LatentGraphError(f"{where}column {name!r} has {col.null_count} nulls")
    if not pa.types.is_integer(col.type):
        raise LatentGraphError(f"{where}column {name!r} must be an integer column, got {col.type}")
    return _array_to_numpy(col.combine_chunks()).astype(np.int64)


def write_parquet(table: pa.Table, path: str | os.PathLike) -> None:
    """Write ``table`` to ``path`` (already a temporary path) with a CRC-32 checksum on every page.

    :func:`read_parquet` verifies them, so a file changed on disk after it was written
    (a bit flip, a partial copy) fails on read instead of giving other numbers.

    Parameters
    ----------
    table : pyarrow.Table
        The table to write.
    path : str or os.PathLike
        The file to write (not atomic by itself; callers pass a path from :func:`~latentgraph.utils.atomic_path`).
    """
    pq.write_table(table, path, write_page_checksum=True)


def read_parquet(path: str | os.PathLike) -> pa.Table:
    """Read a Parquet file, verifying the page checksums of files that carry them.

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file.

    Returns
    -------
    pyarrow.Table
        Its content, with the schema metadata.
    """
    # ParquetFile, not pq.read_table: read_table goes through pyarrow.dataset, whose import
    # loads pandas (0.3-0.6 s of every command's start-up); a single file needs neither.
    # One thread: nearly all of a project file is one or two list columns, which Arrow's
    # threads do not split within a row group, and starting its thread pool costs about
    # 0.1 s of CPU in a fresh process (measured on a 10,000 x 512 latents file).
    with _open_parquet(path) as fh:
        return fh.read(use_threads=False)


def read_table(path: str | os.PathLike, what: str, required: list[str],
               skip: tuple[str, ...] = ()) -> tuple[pa.Table, dict[str, Any]]:
    """Open one of the project's Parquet files: every error names the file and ``what`` it is.

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file.
    what : str
        What the file should be, for the messages (e.g. ``"kNN graph"``).
    required : list of str
        Columns it must have.
    skip : tuple of str, optional
        Columns to leave unread (checked to exist when required; the caller reads them
        another way, e.g. :func:`read_list_column`).

    Returns
    -------
    pyarrow.Table
        The table.
    dict
        Its ``latentgraph`` metadata (empty when it has none), with ``source`` set to ``path``.

    Raises
    ------
    LatentGraphError
        When the file is missing, not Parquet, lacks a required column, or its metadata is not JSON.
    """
    path = Path(path)
    where = f"{path}: "
    if not path.exists():
        raise LatentGraphError(f"{where}{what} file does not exist")
    try:
        with _open_parquet(path) as fh:
            names = fh.schema_arrow.names
            missing = [c for c in required if c not in names]
            if missing:
                raise LatentGraphError(f"{where}{what} file lacks column(s) {missing}; it has {names}")
            table = fh.read(columns=[c for c in names if c not in skip], use_threads=False)
    except LatentGraphError:
        raise
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise _unreadable(where, what, exc) from exc
    meta: dict[str, Any] = {}
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw:
        try:
            meta = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LatentGraphError(f"{where}metadata is not valid JSON: {exc}") from exc
    meta["source"] = str(path)
    return table, meta


def _unreadable(where: str, what: str, exc: Exception) -> LatentGraphError:
    return LatentGraphError(f"{where}cannot read {what} file as Parquet ({type(exc).__name__}: {exc}); "
                            f"if it is a workflow result, delete it and rerun naming it as the target "
                            f"(or --forcerun its rule)")


#: bytes of values per batch when a list column is read in batches (see read_list_column);
#: smaller batches leave less freed memory behind in the allocator but cost more per row
#: (the batches alone at 100,000 x 512: 2 MiB +229 MiB peak / 1.6 s, 8 MiB +281 / 1.2 s, 16 MiB +341 / 1.0 s)
LIST_BATCH_BYTES = 4 << 20


def read_list_column(path: str | os.PathLike, name: str, what: str) -> np.ndarray:
    """A fixed-width list column of numbers as an (N, width) array, read in batches.

    Reading a whole column at once holds the compressed column chunk, its decoded pages,
    the repetition and definition levels of every value and the Arrow array together: the
    process grew by 844-970 MiB reading 100,000 x 512 float32 latents (195 MiB), in 2.5-3.1
    s. This reads batches of about :data:`LIST_BATCH_BYTES` into one preallocated array
    with buffered page reads: 317 MiB (the array included) in 0.92 s. Lists of another type
    (variable-size lists) are read whole, with the same checks.

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file (page checksums verified, as :func:`read_parquet`).
    name : str
        The column.
    what : str
        What the file is, for the messages.

    Returns
    -------
    numpy.ndarray
        (N, width) array of the values' dtype, writable.

    Raises
    ------
    LatentGraphError
        When the file is unreadable or the column has nulls, lists of different lengths or
        values that are not numbers; the message names the file.
    """
    where = f"{path}: "
    try:
        with _open_parquet(path, buffer_size=1 << 20, pre_buffer=False) as fh:
            typ = fh.schema_arrow.field(name).type
            if not (pa.types.is_fixed_size_list(typ) and _is_number(typ.value_type)):
                # another list type (or wrong values): the whole column, with its checks
                return _list_column_to_numpy(fh.read(columns=[name], use_threads=False).column(name), None,
                                             name, where)
            width = typ.list_size
            dtype = np.dtype(typ.value_type.to_pandas_dtype())
            n = fh.metadata.num_rows
            out = np.empty((n, width), dtype=dtype)
            rows = max(1024, LIST_BATCH_BYTES // max(1, width * dtype.itemsize))
            r = null_rows = null_values = 0
            for batch in fh.iter_batches(batch_size=rows, columns=[name], use_threads=False):
                col = batch.column(0)
                null_rows += col.null_count
                if col.null_count:
                    continue
                flat = col.values.slice(col.offset * width, len(col) * width)
                null_values += flat.null_count
                if not flat.null_count:
                    out[r : r + len(col)] = _array_to_numpy(flat).reshape(len(col), width)
                r += len(col)
    except LatentGraphError:
        raise
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise _unreadable(where, what, exc) from exc
    if null_rows:
        raise LatentGraphError(f"{where}column {name!r} has {null_rows} null rows")
    if null_values:
        raise LatentGraphError(f"{where}column {name!r} has null values inside its lists")
    if r != n:  # pragma: no cover - the footer and the pages disagree: pyarrow raises first
        raise LatentGraphError(f"{where}column {name!r} has {r} rows, the file says {n}")
    return out


def write_latents(
    path: str | os.PathLike,
    X: np.ndarray,
    labels: np.ndarray,
    sample_id: np.ndarray | None = None,
    prediction: np.ndarray | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Validate and write latents to ``path`` (Parquet, atomically).

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file to write.
    X : numpy.ndarray
        Latents, shape (N, d); stored as float32.
    labels : numpy.ndarray
        Class indices, shape (N,).
    sample_id : numpy.ndarray, optional
        Unique ids, shape (N,); None gives ``0 .. N-1``.
    prediction : numpy.ndarray, optional
        Predicted classes, shape (N,); the ``prediction`` column is written only when given.
    metadata : dict, optional
        File-level metadata stored as JSON; ``source`` is dropped and ``latent_dim`` and
        ``n_samples`` are added unless present.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    LatentGraphError
        When :func:`validate_latents` rejects the arrays.
    """
    X, labels, sample_id = validate_latents(X, labels, sample_id)
    cols = {
        "sample_id": pa.array(sample_id, type=pa.int64()),
        "label": pa.array(labels, type=pa.int64()),
        "latent": _fixed_list(X, pa.float32()),
    }
    if prediction is not None:
        cols["prediction"] = pa.array(np.asarray(prediction, dtype=np.int64), type=pa.int64())
    meta = dict(metadata or {})
    meta.pop("source", None)
    meta.setdefault("latent_dim", int(X.shape[1]))
    meta.setdefault("n_samples", int(X.shape[0]))
    table = pa.table(cols).replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True)})
    with atomic_path(path) as tmp:
        write_parquet(table, tmp)
    return Path(path)


def read_latents(path: str | os.PathLike) -> Latents:
    """Read and validate a latents Parquet file (see the module docstring for the schema).

    Parameters
    ----------
    path : str or os.PathLike
        The latents Parquet file.

    Returns
    -------
    Latents
        Its latents, labels, ids, predictions (if stored) and metadata, with ``source`` set
        to the path.

    Raises
    ------
    LatentGraphError
        When the file is missing, unreadable, lacks a column or holds invalid values.
    """
    # the latents in batches into one array (about a third of the peak memory of a whole read)
    table, meta = read_table(path, "latents", ["sample_id", "label", "latent"], skip=("latent",))
    where = f"{path}: "
    sample_id = _int_column(table, "sample_id", where)
    labels = _int_column(table, "label", where)
    X = read_list_column(path, "latent", "latents")
    prediction = _int_column(table, "prediction", where) if "prediction" in table.column_names else None
    return Latents(X=X, labels=labels, sample_id=sample_id, prediction=prediction, metadata=meta)


def write_knn(path: str | os.PathLike, table: Any, metadata: dict[str, Any] | None = None) -> Path:
    """Write a :class:`latentgraph.graphs.knn.KnnTable` to Parquet (atomically).

    Parameters
    ----------
    path : str or os.PathLike
        The Parquet file to write.
    table : KnnTable
        The kNN graph; neighbours are stored as sample ids.
    metadata : dict, optional
        Metadata merged over the table's own; ``k`` and ``metric`` are always the table's.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    ids = table.sample_id
    cols = {
        "sample_id": _numpy_to_array(ids, pa.int64()),
        "label": _numpy_to_array(table.labels, pa.int64()),
        "neighbor_ids": _fixed_list(ids[table.indices], pa.int64()),
        "distances": _fixed_list(table.distances.astype(np.float64), pa.float64()),
    }
    meta = dict(table.metadata)
    meta.update(metadata or {})
    meta.pop("source", None)
    meta.update({"k": int(table.k), "metric": table.metric})
    arrow = pa.table(cols).replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True)})
    with atomic_path(path) as tmp:
        write_parquet(arrow, tmp)
    return Path(path)


def read_knn(path: str | os.PathLike) -> Any:
    """Read a kNN graph Parquet file written by :func:`write_knn` into a ``KnnTable``.

    Parameters
    ----------
    path : str or os.PathLike
        The kNN graph Parquet file.

    Returns
    -------
    KnnTable
        The graph, neighbours as row indices; its metric from the metadata (``l1`` if absent).

    Raises
    ------
    LatentGraphError
        When the file is missing, unreadable, lacks a column or its neighbour ids are not
        sample ids of the file.
    """
    from .graphs.knn import KnnTable

    lists = ("neighbor_ids", "distances")  # read in batches, as the latents
    table, meta = read_table(path, "kNN graph", ["sample_id", "label", *lists], skip=lists)
    where = f"{path}: "
    ids = _int_column(table, "sample_id", where)
    labels = _int_column(table, "label", where)
    nbr_ids = read_list_column(path, "neighbor_ids", "kNN graph").astype(np.int64, copy=False)
    dist = read_list_column(path, "distances", "kNN graph").astype(np.float64, copy=False)
    order = np.argsort(ids, kind="stable")
    pos = np.searchsorted(ids, nbr_ids, sorter=order)
    pos = np.clip(pos, 0, ids.size - 1)
    rows = order[pos]
    if not np.array_equal(ids[rows], nbr_ids):
        raise LatentGraphError(f"{where}neighbor_ids refer to sample ids that are not rows of the file")
    return KnnTable(
        indices=rows,
        distances=dist,
        sample_id=ids,
        labels=labels,
        metric=str(meta.get("metric", "l1")),
        metadata=meta,
    )


# --------------------------------------------------------------------------- bring your own latents


def read_vector_file(path: str | os.PathLike, what: str = "labels") -> np.ndarray:
    """One integer per sample from a ``.npy``, ``.txt`` or ``.csv`` file.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file (a 1-D array), ``.txt`` (one value per line) or ``.csv`` (a column
        named after ``what``, or the only column).
    what : str, optional
        What the values are, in messages and for the ``.csv`` column: ``"labels"`` (column
        ``label`` or ``labels``), ``"sample ids"`` (``sample_id``, ``id`` or ``ids``) or any
        other name (a column of that name).

    Returns
    -------
    numpy.ndarray
        The values, int64, shape (N,).

    Raises
    ------
    LatentGraphError
        When the file is missing, unreadable, of another type, not 1-D or not integers.
    """
    p = Path(path)
    if not p.exists():
        raise LatentGraphError(f"{p}: {what} file does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            v = np.load(p, allow_pickle=False)
        elif suffix == ".txt":
            v = np.loadtxt(p, dtype=np.float64, ndmin=1)
        elif suffix == ".csv":
            import pandas as pd

            df = pd.read_csv(p)
            names = {"labels": ("label", "labels"), "sample ids": ("sample_id", "id", "ids")}.get(what, (what,))
            col = next((c for c in names if c in df.columns), None)
            if col is None and df.shape[1] == 1:
                col = df.columns[0]
            if col is None:
                raise LatentGraphError(f"{p}: no {'/'.join(names)} column among {list(df.columns)}")
            v = df[col].to_numpy()
        else:
            raise LatentGraphError(f"{p}: {what} must be a .npy, .txt or .csv file")
    except LatentGraphError:
        raise
    except Exception as exc:
        raise LatentGraphError(f"{p}: cannot read {what} ({type(exc).__name__}: {exc})") from exc
    v = np.asarray(v)
    if v.ndim != 1:
        raise LatentGraphError(f"{p}: {what} must be one value per sample, got shape {v.shape}")
    if v.dtype.kind == "f":
        if not np.all(np.isfinite(v)) or not np.all(v == np.round(v)):
            raise LatentGraphError(f"{p}: {what} must be integers")
        v = v.astype(np.int64)
    elif v.dtype.kind not in "iu":
        raise LatentGraphError(f"{p}: {what} must be integers, got {v.dtype}")
    return v.astype(np.int64)


def count_rows(path: str | os.PathLike) -> int | None:
    """Number of samples in a latents file (Parquet footer or ``.npy`` header), without reading it.

    Parameters
    ----------
    path : str or os.PathLike
        A latents Parquet file or ``.npy`` matrix.

    Returns
    -------
    int or None
        The row count; None when the file cannot be opened as either (the reader then says why).
    """
    try:
        if str(path).lower().endswith(".npy"):
            return int(np.load(path, mmap_mode="r").shape[0])
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # noqa: BLE001 - reported by the real read
        return None


def read_latents_any(
    path: str | os.PathLike, labels: str | os.PathLike | None = None, ids: str | os.PathLike | None = None
) -> Latents:
    """Latents from a Parquet file in the spine schema, or from a ``.npy`` matrix (N, d).

    Errors name the file.

    Parameters
    ----------
    path : str or os.PathLike
        A latents Parquet file or a ``.npy`` matrix of shape (N, d).
    labels : str or os.PathLike, optional
        For a ``.npy`` matrix (required there): the labels file, read by :func:`read_vector_file`.
    ids : str or os.PathLike, optional
        For a ``.npy`` matrix: a sample-id file, read by :func:`read_vector_file`; default 0..N-1.

    Returns
    -------
    Latents
        The validated latents.

    Raises
    ------
    LatentGraphError
        When a ``.npy`` matrix has no labels file, a file is missing or unreadable, or the
        values are invalid.
    """
    p = Path(path)
    if p.suffix.lower() == ".npy":
        if labels is None:
            raise LatentGraphError(f"{p}: a .npy latents matrix needs a labels file (--labels)")
        if not p.exists():
            raise LatentGraphError(f"{p}: latents file does not exist")
        try:
            X = np.load(p, allow_pickle=False)
        except Exception as exc:
            raise LatentGraphError(f"{p}: cannot read as .npy ({type(exc).__name__}: {exc})") from exc
        y = read_vector_file(labels, "labels")
        sid = read_vector_file(ids, "sample ids") if ids is not None else None
        if X.ndim == 2 and y.shape[0] != X.shape[0]:
            raise LatentGraphError(f"{labels}: {y.shape[0]} labels for the {X.shape[0]} rows of {p}")
        return Latents(X=X, labels=y, sample_id=sid, metadata={"source": str(p)})
    return read_latents(p)
