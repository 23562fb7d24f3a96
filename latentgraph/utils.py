"""Small shared helpers: atomic file writes, logging set-up, stable seeds, argument checks."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import numbers
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The files of a class graph's result folder, by role: the one list, read by the workflow (through
#: :mod:`latentgraph.config`) and by :mod:`latentgraph.experiments.classgraph` (its OUTPUTS, FIGURES,
#: DISTANCES_FILE). It lives here, in the standard-library-only module, so that the graph jobs need
#: neither the config's schema validator nor anything of the torch side.
CLASSGRAPH_FILES = {
    "distances": "class_distances.parquet",
    "nodes": "nodes.csv",
    "edges": "edges.csv",
    "graphml": "class_graph.graphml",
    "gexf": "class_graph.gexf",
    "stats": "stats.json",
    "summary": "summary.md",
    "degrees": "degree_distribution.csv",
    "communities_png": "class_graph.png",
    "communities_svg": "class_graph.svg",
    "accuracy_png": "class_graph_accuracy.png",
    "degrees_png": "degree_distribution.png",
}

log = logging.getLogger("latentgraph")


class LatentGraphError(ValueError):
    """A user-facing error: bad input, bad config or an unreadable file.

    The message is meant to be read by a person; the CLI prints it without a traceback.
    """


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, mkdir: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    Readers never see a half-written file and an interrupted writer leaves nothing behind
    under the final name. The temporary file keeps the final suffix (some writers, such as
    matplotlib, choose the format from it). The result gets the mode an ordinary write
    would give it (``0o666`` less the umask), not the private ``0o600`` of a temporary
    file: collaborators on a shared cluster must be able to read it.

    Parameters
    ----------
    path : str or os.PathLike
        The final file name.
    mkdir : bool, optional
        Create the parent folder first if it is missing.

    Yields
    ------
    pathlib.Path
        The temporary path to write to.
    """
    path = Path(path)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.is_file():
            os.chmod(tmp_path, 0o666 & ~current_umask())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def numba_threads(threads: int | None) -> Iterator[int]:
    """Run numba's parallel code on ``threads`` threads inside the block, then restore the setting.

    Parameters
    ----------
    threads : int or None
        Threads for the block, clipped to [1, ``NUMBA_NUM_THREADS``]; None or 0 keeps numba's
        current setting.

    Yields
    ------
    int
        The number of threads in effect inside the block.
    """
    import numba

    previous = numba.get_num_threads()
    if threads:
        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(previous)


def check_k(
    k: Any,
    n: int | None = None,
    name: str = "k",
    *,
    of: str = "samples",
    stored: int | None = None,
    where: str = "table",
) -> int:
    """``k`` as an ``int`` after checking that it is a positive integer (within bounds).

    The one validator of neighbour counts and similar sizes (``k``, ``class_k``,
    ``n_eigs``, ``n_perm``): Python and numpy integers pass, ``bool`` and floats do not.

    Parameters
    ----------
    k
        The value to check.
    n
        If given, ``k`` must be smaller than ``n`` (the number of ``of``: a kNN graph on
        ``n`` vertices has at most ``n - 1`` neighbours per vertex).
    name
        The parameter's name in messages.
    of
        What ``n`` counts, in messages (``"samples"``, ``"classes"``).
    stored
        If given, ``k`` must not exceed ``stored`` (the neighbours a table holds).
    where
        What holds the ``stored`` neighbours, in messages (``"table"``, ``"first graph"``).

    Returns
    -------
    int
        ``k``.

    Raises
    ------
    LatentGraphError
        ``{name} must be a positive integer, got ...``, ``{name}=k must be smaller than the
        number of {of} N=n`` or ``{name}=k exceeds the {stored} neighbours stored in the {where}``.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise LatentGraphError(f"{name} must be a positive integer, got {k!r}")
    if n is not None and k >= n:
        raise LatentGraphError(f"{name}={k} must be smaller than the number of {of} N={n}")
    if stored is not None and k > stored:
        raise LatentGraphError(f"{name}={k} exceeds the {stored} neighbours stored in the {where}")
    return int(k)


def check_shards(shards: Any, n: int, key: str, what: str, shard: Any = None, why: str = "") -> int:
    """Validate a shard count (an integer between 1 and ``n``) and, if given, a shard number.

    The one validator of ``knn.shards`` and ``classgraph.shards`` in the library (the config
    checks of :mod:`latentgraph.config` run the same bounds before any job).

    Parameters
    ----------
    shards : int
        The number of shards.
    n : int
        The most shards allowed (samples for kNN, classes for the class graph).
    key : str
        The config key, for the message (``knn.shards``).
    what : str
        What ``n`` counts, for the message (``samples``).
    shard : int, optional
        A shard number, which must lie in ``0..shards-1``.
    why : str, optional
        Appended to the message (why the bound is what it is).

    Returns
    -------
    int
        ``shards``.

    Raises
    ------
    LatentGraphError
        Naming the key, the value and the allowed range, or the shard out of range.
    """
    if isinstance(shards, bool) or not isinstance(shards, numbers.Integral) or not 1 <= int(shards) <= n:
        raise LatentGraphError(f"{key} = {shards!r} must be an integer between 1 and the number of {what} ({n}){why}")
    if shard is not None and not 0 <= int(shard) < int(shards):
        raise LatentGraphError(f"shard {shard} out of range for {shards} shards")
    return int(shards)


def current_umask() -> int:
    """The process's file-creation mask (read without changing it where Linux allows).

    Returns
    -------
    int
        The umask, e.g. ``0o022``.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:  # pragma: no cover - not Linux
        pass
    mask = os.umask(0o022)  # pragma: no cover
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    text : str
        Its content.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    obj : Any
        A JSON-serialisable object (numpy scalars and arrays are converted); keys are sorted.
    """
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def setup_logging(logfile: str | os.PathLike | None = None, level: int = logging.INFO) -> None:
    """Send the ``latentgraph`` logger (and warnings) to ``logfile`` or stderr.

    Workflow scripts call this with ``snakemake.log[0]``; stderr is also redirected there so
    progress bars and library warnings end up in the rule's log.

    Parameters
    ----------
    logfile : str or os.PathLike, optional
        The log file, appended to (its folder is created); None logs to stderr.
    level : int, optional
        The root logger's level (``logging.INFO`` by default).
    """
    handlers: list[logging.Handler] = []
    if logfile is not None:
        Path(logfile).parent.mkdir(parents=True, exist_ok=True)
        stream = open(logfile, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
        sys.stderr = stream
        handlers.append(logging.StreamHandler(stream))
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    for h in handlers:
        h.setFormatter(fmt)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    # FAISS's loader logs at INFO which optional CPU module (AVX-512, AVX2) it fails to load
    # before it loads the next one; in a job log that reads like the failure
    logging.getLogger("faiss").setLevel(max(level, logging.WARNING))
    logging.captureWarnings(True)


def default_jobs() -> int:
    """The CPU cores this process may use (its affinity mask, as under SLURM or taskset).

    Returns
    -------
    int
        The number of cores, at least 1.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def stable_seed(*parts: Any) -> int:
    """A 63-bit seed derived from ``parts`` by hashing their ``repr``.

    Used where a seed must depend on *what* is computed (a run, a noise level, a repeat)
    rather than on its position in a list, so that extending a grid never changes the
    points already computed.

    Parameters
    ----------
    *parts : Any
        Values whose ``repr`` identifies what is computed.

    Returns
    -------
    int
        A seed in ``[0, 2**63)``.
    """
    h = hashlib.sha256(repr(tuple(parts)).encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1


def config_hash(obj: Any) -> str:
    """A short, order-independent hash of a JSON-serialisable object.

    Parameters
    ----------
    obj : Any
        The object (dictionary keys are sorted before hashing).

    Returns
    -------
    str
        The first 16 hex digits of the SHA-256 of its JSON.
    """
    text = json.dumps(obj, sort_keys=True, default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def lazy_exports(package: str, exports: Mapping[str, str],
                 names: Sequence[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` of a package that imports its re-exports lazily.

    Each module is imported only when one of its names is first used (PEP 562), so importing
    the package stays cheap. Usage, in a package's ``__init__.py``:
    ``__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)``.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (the anchor of relative module names).
    exports : Mapping[str, str]
        Public name -> the module defining it, absolute or relative to ``package``.
    names : Sequence[str]
        What ``__dir__`` lists (the package's ``__all__``).

    Returns
    -------
    tuple of (Callable, Callable)
        The module's ``__getattr__`` and ``__dir__``.
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(names)

    return __getattr__, __dir__

