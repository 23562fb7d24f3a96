"""The ``latentgraph`` command line: the library's steps on files, without Snakemake.

    latentgraph knn LATENTS.parquet --k 16 -o GRAPH.parquet
    latentgraph compare A.parquet B.parquet --k 4 8 16 [--directed] [-o table.csv]
    latentgraph compare A.npy B.npy --labels y.npy --measure mutual_knn cns_sym cka spectral hubness --null 20
    latentgraph classgraph LATENTS.parquet [--k 4] [--class-k 4] [--class-names FILE] -o DIR
    latentgraph graphstats GRAPH [--nodes NODES.csv] [--json]
    latentgraph explore LATENTS.parquet [SECOND.parquet] [--knn G.parquet ...] [--classgraph DIR] [--thumbnails T.parquet] -o PAGE.html
    latentgraph explore --nodes NODES.csv --edges EDGES.csv -o PAGE.html
    latentgraph extract WEIGHTS.pth --arch resnet50 --root DIR --layer layer3 --reduce avg -o LATENTS.parquet

Inputs are latents Parquet files (see :mod:`latentgraph.io`); ``compare`` also accepts
kNN graph files written by ``knn`` and ``.npy`` latent matrices with ``--labels``. Errors in the input are reported in one line and
exit with status 2. Output paths (``-o``) are checked before any work, and every result file
is written atomically (a failed command leaves no partial result).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .utils import LatentGraphError, atomic_path

log = logging.getLogger("latentgraph")

METRIC_HELP_COMPARE = (
    "distance of the kNN search on latents (l1 or l2). A kNN graph file must have been built with it (its metadata "
    "says which); two graph files must agree. Default: the metric of a graph file among the inputs, else l1. A graph "
    "file that does not record its metric is taken to use --metric, which it then needs unless both inputs are graph "
    "files"
)


def _bounded_int(text: str, lowest: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < lowest:
        raise argparse.ArgumentTypeError(f"{v} must be >= {lowest}")
    return v


def _positive_int(text: str) -> int:
    """An integer >= 1 (argparse type)."""
    return _bounded_int(text, 1)


def _add_knn_options(p: argparse.ArgumentParser, metric_default: str | None = "l1",
                     metric_help: str = "distance (default: l1, as the thesis)") -> None:
    p.add_argument("--metric", choices=["l1", "l2"], default=metric_default, help=metric_help)
    p.add_argument("--backend", choices=["auto", "numpy", "numba", "faiss", "faiss-gpu"], default="auto",
                   help="search backend; results are identical (default: auto)")
    p.add_argument("--threads", type=_positive_int, default=None, help="CPU threads for the search")


def check_output(path: str | os.PathLike, *, folder: bool = False, option: str = "-o") -> Path:
    """Check, before any work, that ``path`` can receive a command's result; return it as a Path.

    Parameters
    ----------
    path : str or os.PathLike
        The output path given on the command line.
    folder : bool
        True for a command that writes a folder of files (``classgraph``), False for one file.
    option : str
        The option that gave ``path``, named in the error message.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    LatentGraphError
        A file output that is an existing folder, a folder output that is an existing file,
        a path below a file, or a path whose nearest existing folder is not writable.
    """
    p = Path(path)
    text = os.fspath(path)
    if folder:
        if p.exists() and not p.is_dir():
            raise LatentGraphError(f"{option} {text}: is a file; {option} takes the folder to write the result files to")
    elif p.is_dir() or text.endswith(("/", os.sep)):
        raise LatentGraphError(f"{option} {text}: is a folder; {option} takes the name of the file to write")
    above = p.absolute() if folder and p.is_dir() else p.absolute().parent
    while not above.exists() and not above.is_symlink() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise LatentGraphError(f"{option} {text}: {above} is a file, not a folder; {option} needs a path in a folder")
    if not os.access(above, os.W_OK | os.X_OK):
        raise LatentGraphError(f"{option} {text}: folder {above} is not writable; choose a folder you can write to")
    return p


def _check_npy_options(args: argparse.Namespace, paths: Sequence[str]) -> None:
    """``--labels`` and ``--ids`` describe ``.npy`` latents; with Parquet inputs only they are an error."""
    if any(str(path).lower().endswith(".npy") for path in paths):
        return
    for option, value in (("--labels", args.labels), ("--ids", args.ids)):
        if value is not None:
            what = "is a Parquet file" if len(paths) == 1 else "are Parquet files"
            raise LatentGraphError(f"{option} {value}: applies to .npy latents only; {' and '.join(map(str, paths))} "
                                   f"{what}, whose labels and sample ids come from the file")


def _parquet_schema(path: str) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except FileNotFoundError:
        raise LatentGraphError(f"{path}: file does not exist") from None
    except Exception as exc:
        raise LatentGraphError(f"{path}: cannot read as Parquet ({type(exc).__name__}: {exc})") from exc


def graph_file_metric(path: str) -> tuple[bool, str | None]:
    """Whether ``path`` is a kNN graph file, and the metric its metadata records.

    Parameters
    ----------
    path : str
        A latents (Parquet or ``.npy``) or kNN graph Parquet file.

    Returns
    -------
    tuple of (bool, str or None)
        ``(is a kNN graph file, its metric or None when the file does not record one)``.
    """
    from .io import META_KEY

    if str(path).lower().endswith(".npy"):
        return False, None
    schema = _parquet_schema(path)
    if "neighbor_ids" not in schema.names:
        return False, None
    raw = (schema.metadata or {}).get(META_KEY)
    try:
        meta = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise LatentGraphError(f"{path}: metadata is not valid JSON: {exc}") from exc
    metric = meta.get("metric") if isinstance(meta, dict) else None
    return True, None if metric is None else str(metric)


def resolve_metric(paths: Sequence[str], metric: str | None) -> str:
    """The one metric of a comparison of ``paths``, checked against the kNN graph files among them.

    Parameters
    ----------
    paths : sequence of str
        The compared files (latents or kNN graph files).
    metric : str or None
        ``--metric``, or None when it was not given.

    Returns
    -------
    str
        ``metric`` if given, else the metric recorded by the graph files, else ``"l1"``.

    Raises
    ------
    LatentGraphError
        A graph file built with another metric than ``metric``, graph files of different
        metrics, or a graph file that does not record its metric compared with latents
        without ``metric``.
    """
    graphs = {}
    for path in paths:
        is_graph, stored = graph_file_metric(path)
        if is_graph:
            graphs[path] = stored
    known = {path: m for path, m in graphs.items() if m is not None}
    if metric is not None:
        for path, m in known.items():
            if m != metric:
                raise LatentGraphError(f"{path}: kNN graph was built with metric {m}, not --metric {metric}; "
                                       f"give --metric {m} or leave it out")
        return metric
    if len(set(known.values())) > 1:
        (pa, ma), (pb, mb) = list(known.items())[:2]
        raise LatentGraphError(f"{pa} (metric {ma}) and {pb} (metric {mb}): kNN graphs of different metrics "
                               "cannot be compared")
    if known:
        return next(iter(known.values()))
    unknown = list(graphs)
    if unknown and len(graphs) < len(paths):
        raise LatentGraphError(f"{unknown[0]}: kNN graph file does not record its metric; give --metric (l1 or l2) "
                               "to say which it was built with")
    return "l1"


def load_graph_or_latents(path: str, k: int, metric: str, backend: str, threads: int | None) -> Any:
    """A KnnTable from a kNN graph file, or computed from a latents file.

    Parameters
    ----------
    path, k, metric, backend, threads
        As in :func:`load_graph_and_latents`.

    Returns
    -------
    KnnTable
        The table.
    """
    return load_graph_and_latents(path, k, metric, backend, threads)[0]


def load_graph_and_latents(path: str, k: int, metric: str, backend: str, threads: int | None,
                           labels: str | None = None, ids: str | None = None) -> tuple[Any, Any]:
    """``(KnnTable, latents or None)`` from a kNN graph file, a latents file or a ``.npy`` matrix.

    Parameters
    ----------
    path : str
        A kNN graph Parquet file, a latents Parquet file or a ``.npy`` latent matrix.
    k : int
        Neighbours needed: latents are searched at ``k``; a graph file must store at least ``k``.
    metric : str
        ``"l1"`` or ``"l2"``. Latents are searched with it; a graph file must record it (one
        that records no metric is taken to use it, see :func:`resolve_metric`).
    backend : str
        kNN search backend (see :func:`latentgraph.graphs.knn.knn`).
    threads : int or None
        CPU threads of the search.
    labels : str, optional
        Labels file of ``.npy`` latents (``.npy``, ``.txt`` or ``.csv``).
    ids : str, optional
        Sample ids file of ``.npy`` latents (default: row numbers).

    Returns
    -------
    table : KnnTable
        The kNN table.
    latents : numpy.ndarray or None
        The latent matrix; None for a graph file.

    Raises
    ------
    LatentGraphError
        For an unreadable file, a graph file of another metric or too few neighbours, or a
        failed search.
    """
    from .graphs.knn import knn_table
    from .io import read_knn, read_latents_any

    if not str(path).lower().endswith(".npy") and "neighbor_ids" in _parquet_schema(path).names:
        table = read_knn(path)
        stored = table.metadata.get("metric")
        if stored is None:
            table.metric = metric
        elif str(stored) != metric:
            raise LatentGraphError(f"{path}: kNN graph was built with metric {stored}, not {metric}")
        if table.k < k:
            raise LatentGraphError(f"{path}: graph stores k={table.k} neighbours, fewer than the k={k} asked for")
        return table, None
    lat = read_latents_any(path, labels=labels, ids=ids)
    try:
        t = knn_table(lat.X, k, lat.labels, lat.sample_id, metric=metric, backend=backend, threads=threads)
    except LatentGraphError as exc:
        raise LatentGraphError(f"{path}: {exc}") from exc
    t.metadata["source"] = path
    return t, lat.X


def add_knn(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph knn``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, to which the arguments are added.
    """
    p.add_argument("latents", help="latents Parquet file (sample_id, label, latent), or a .npy matrix with --labels")
    p.add_argument("--k", type=_positive_int, required=True, help="number of neighbours (the largest you need)")
    p.add_argument("-o", "--output", required=True, help="graph Parquet file to write")
    p.add_argument("--labels", help="labels of .npy latents: .npy, .txt (one per line) or .csv (a label column)")
    p.add_argument("--ids", help="sample ids of .npy latents, same formats (default: row numbers)")
    _add_knn_options(p)


def run_knn(args: argparse.Namespace) -> int:
    """Write the kNN graph of a latents file.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``latentgraph knn`` (see :func:`add_knn`).

    Returns
    -------
    int
        The exit status, 0; input errors raise :class:`LatentGraphError` (:func:`main` turns
        them into status 2).
    """
    from .graphs.knn import knn_table, preload_numba
    from .io import count_rows, read_latents_any, write_knn

    check_output(args.output)
    _check_npy_options(args, [args.latents])
    preload = preload_numba(args.backend, count_rows(args.latents), args.metric)  # overlaps the reading
    try:
        lat = read_latents_any(args.latents, args.labels, args.ids)
    finally:
        if preload is not None:
            preload.join()
    try:
        table = knn_table(lat.X, args.k, lat.labels, lat.sample_id, metric=args.metric, backend=args.backend,
                          threads=args.threads)
    except LatentGraphError as exc:
        raise LatentGraphError(f"{args.latents}: {exc}") from exc
    write_knn(args.output, table, metadata={"latents": str(args.latents)})
    print(f"wrote {args.output}: {table.n} vertices, k={table.k}, metric={table.metric}, "
          f"backend={table.metadata['backend']}")
    return 0


def _count(text: str) -> int:
    """0 or a positive integer (argparse type)."""
    return _bounded_int(text, 0)


def add_compare(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph compare``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, to which the arguments are added.
    """
    from .compare.registry import NAMES as MEASURES  # not .measures: that imports pandas (0.3 s) for every command

    p.add_argument("a", help="latents (Parquet, or .npy with --labels) or kNN graph Parquet file (graph A; CNS "
                   "divides by A's neighbourhoods)")
    p.add_argument("b", help="latents or kNN graph file (graph B), same samples as A")
    p.add_argument("--k", type=_positive_int, nargs="+", default=[4, 8, 16], help="neighbour counts (default: 4 8 16)")
    p.add_argument("--directed", action="store_true", help="compare directed kNN graphs (default: undirected union)")
    p.add_argument("--measure", nargs="+", choices=[*MEASURES, "all"], default=["jaccard", "cns"], metavar="MEASURE",
                   help=f"measures, one or more of {', '.join(MEASURES)}, or all (every measure the inputs allow: "
                   "the latents measures only when both inputs are latents; default: jaccard cns). Columns per k: "
                   "jaccard, cns, cns_ba + cns_sym (cns_sym), mutual_knn, spectral, hub_skew/hub_frac/antihub_frac "
                   "_a/_b (hubness), one column per other measure; the measures that need latents and not k "
                   "(cka, procrustes, CCA, rsa, ...) are one value per pair, repeated on every row. "
                   "`latentgraph measures` lists them all")
    p.add_argument("--null", type=_count, default=0, metavar="N",
                   help="shuffle the sample correspondence N times: adds <measure>_null and <measure>_null_std "
                   "columns (the chance level; default: 0 = none)")
    p.add_argument("--n-eigs", type=_positive_int, default=20, help="Laplacian eigenvalues of 'spectral' (default: 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the permutation null and the resamples (default: 0)")
    p.add_argument("--ci", type=float, default=0.95, metavar="LEVEL",
                   help="coverage of the resampling intervals (default: 0.95; with --resamples)")
    p.add_argument("--resamples", type=int, default=0, metavar="B",
                   help="resamples of the intervals: adds <measure>_lo and <measure>_hi columns (vertex bootstrap "
                   "with the graphs fixed for the vertex means, half-sampling for the latents measures; B >= 2; "
                   "default: 0 = none)")
    p.add_argument("--labels", help="labels of .npy latents: .npy, .txt (one per line) or .csv (a label column); "
                   "A and B hold the same samples in the same order")
    p.add_argument("--ids", help="sample ids of .npy latents, same formats (default: row numbers)")
    p.add_argument("-o", "--output", help="also write the table as CSV")
    _add_knn_options(p, metric_default=None, metric_help=METRIC_HELP_COMPARE)


def run_compare(args: argparse.Namespace) -> int:
    """Print (and optionally write) the requested measures for each k.

    The table goes to stdout as CSV, and to ``--output`` when given.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``latentgraph compare`` (see :func:`add_compare`).

    Returns
    -------
    int
        The exit status, 0; input errors raise :class:`LatentGraphError` (:func:`main` turns
        them into status 2).
    """
    from .compare.measures import compare
    from .utils import stable_seed

    if args.output:
        check_output(args.output)
    _check_npy_options(args, [args.a, args.b])
    metric = resolve_metric([args.a, args.b], args.metric)
    kmax = max(args.k)
    a, xa = load_graph_and_latents(args.a, kmax, metric, args.backend, args.threads, args.labels, args.ids)
    b, xb = load_graph_and_latents(args.b, kmax, metric, args.backend, args.threads, args.labels, args.ids)
    measures = compare_measures(args.measure, [(args.a, xa), (args.b, xb)])
    df = compare(a, b, args.k, measures, directed=args.directed, xa=xa, xb=xb, n_eigs=args.n_eigs,
                 n_perm=args.null, seed=stable_seed(args.seed, "compare-null"), ci=args.ci,
                 resamples=args.resamples)
    text = df.to_csv(index=False, float_format="%.6f")
    sys.stdout.write(text)
    if args.output:
        with atomic_path(args.output) as tmp:
            Path(tmp).write_text(text)
    return 0


def add_compare_many(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph compare-many``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, to which the arguments are added.
    """
    from .compare.registry import NAMES as MEASURES  # not .measures: that imports pandas (0.3 s) for every command

    p.add_argument("files", nargs="+", metavar="FILE",
                   help="latents Parquet files (checkpoints, layers, models), all over the same samples")
    p.add_argument("--measure", nargs="+", choices=[*MEASURES, "all"], default=["cka"], metavar="MEASURE",
                   help="pair measures (default: cka; hubness is per graph and not allowed)")
    p.add_argument("--k", type=_positive_int, nargs="+", default=[4], help="neighbour counts (default: 4)")
    p.add_argument("--directed", action="store_true", help="Jaccard and CNS on directed kNN graphs")
    p.add_argument("--n-eigs", type=_positive_int, default=20, help="Laplacian eigenvalues of 'spectral'")
    p.add_argument("--names", nargs="+", help="names of the files in the map (default: the file names)")
    p.add_argument("-o", "--output", help="write the map table (row, col, k, measure, value): .parquet or .csv")
    p.add_argument("--figure", help="write clustered heatmaps (one panel per measure): .png, .svg or .pdf")
    p.add_argument("--no-cluster", action="store_true", help="keep the files' order in the heatmaps")
    _add_knn_options(p)


def run_compare_many(args: argparse.Namespace) -> int:
    """The N x N map of any set of latents files: one matrix per measure (and k) to stdout as CSV.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``latentgraph compare-many`` (see :func:`add_compare_many`).

    Returns
    -------
    int
        The exit status, 0; input errors raise :class:`LatentGraphError`.

    Raises
    ------
    LatentGraphError
        For fewer than two files, mismatched samples, a wrong number of names or a bad output.
    """
    import pyarrow as pa

    from .compare.maps import as_matrix, similarity_map
    from .io import read_latents, write_parquet

    if len(args.files) < 2:
        raise LatentGraphError("compare-many needs at least two latents files")
    stems = [Path(f).stem for f in args.files]
    names = args.names or (stems if len(set(stems)) == len(stems) else list(args.files))
    if len(names) != len(args.files) or len(set(names)) != len(names):
        raise LatentGraphError(f"--names: need {len(args.files)} distinct names, one per file; got {names}")
    for out, opt in ((args.output, "-o"), (args.figure, "--figure")):
        if out:
            check_output(out, option=opt)
    if args.output and Path(args.output).suffix.lower() not in (".parquet", ".csv"):
        raise LatentGraphError(f"-o {args.output}: the table must be .parquet or .csv")
    items = [(n, read_latents(f)) for n, f in zip(names, args.files, strict=True)]
    df = similarity_map(items, None, args.measure, args.k, metric=args.metric, directed=args.directed,
                        n_eigs=args.n_eigs, backend=args.backend, threads=args.threads)
    for m in dict.fromkeys(df["measure"]):
        for k in sorted(df[df["measure"] == m]["k"].unique()):
            sys.stdout.write(f"# {m}, k = {k}\n")
            sys.stdout.write(as_matrix(df, m, int(k)).to_csv(float_format="%.6f"))
    if args.output:
        if args.output.lower().endswith(".csv"):
            with atomic_path(args.output) as tmp:
                df.to_csv(tmp, index=False, float_format="%.6f")
        else:
            with atomic_path(args.output) as tmp:
                write_parquet(pa.Table.from_pandas(df, preserve_index=False), tmp)
    if args.figure:
        from .plotting import plot_map

        plot_map(df, args.figure, cluster=not args.no_cluster,
                 title=f"{len(items)} representations" + (" (clustered)" if not args.no_cluster else ""))
    return 0


def compare_measures(names: Sequence[str], inputs: Sequence[tuple[str, Any]]) -> list[str]:
    """The measures ``compare`` runs: ``all`` resolved, latents measures checked against the inputs.

    Parameters
    ----------
    names : sequence of str
        The ``--measure`` values (registry names or ``all``).
    inputs : sequence of (str, object)
        Each input's path and its latents (None for a kNN graph file).

    Returns
    -------
    list of str
        The measures, in the order given.

    Raises
    ------
    LatentGraphError
        Naming the measure and the graph file when a measure needs latents.
    """
    from .compare import registry

    graph_files = [path for path, x in inputs if x is None]
    if not graph_files:
        return registry.expand(names, have_latents=True)
    if "all" in names:
        log.info("--measure all with the kNN graph file %s: only the measures of graphs", graph_files[0])
    for name in names:
        if name != "all" and registry.get(name).needs == "latents":
            raise LatentGraphError(f"{graph_files[0]}: measure {name!r} needs latents, this is a kNN graph file")
    return registry.expand(names, have_latents=False)


def add_measures(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph measures``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, to which the arguments are added.
    """
    p.add_argument("--format", choices=["text", "markdown", "csv"], default="text",
                   help="table format (default: text)")
    p.add_argument("--long", action="store_true", help="add the definition and the ReSi counterpart of each")


def measures_table(fmt: str = "text", long: bool = False) -> str:
    """The measure registry as a table.

    Parameters
    ----------
    fmt : str, optional
        ``"text"`` (aligned columns), ``"markdown"`` or ``"csv"``.
    long : bool, optional
        Add the definition and the ReSi counterpart columns.

    Returns
    -------
    str
        The table, newline-terminated.
    """
    import pandas as pd

    from .compare.registry import table_rows

    df = pd.DataFrame(table_rows())
    cols = ["name", "needs", "range", "similar", "per_k", "invariances", "cite"]
    if long:
        cols += ["definition", "resi"]
    df = df[cols]
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "markdown":
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in df.itertuples(index=False)]
        return "\n".join(lines) + "\n"
    return df.to_string(index=False) + "\n"


def run_measures(args: argparse.Namespace) -> int:
    """Print the measure registry: name, needs, range, direction, invariances, citation.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``latentgraph measures`` (see :func:`add_measures`).

    Returns
    -------
    int
        The exit status, 0.
    """
    sys.stdout.write(measures_table(args.format, args.long))
    return 0


def add_extract(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph extract``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, to which the arguments are added.
    """
    p.add_argument("weights", help="state-dict file of the network (e.g. torchvision's resnet50-*.pth); no download")
    p.add_argument("--arch", default="resnet18", help="any torchvision classification model name (default: resnet18)")
    p.add_argument("--dataset", choices=["imagefolder", "cifar100", "digits", "synthetic"], default="imagefolder",
                   help="data set (default: imagefolder = ROOT/val class folders)")
    p.add_argument("--root", help="data folder (imagefolder, cifar100)")
    p.add_argument("--class-names", help="class names file (one per line, or CSV with id,name)")
    p.add_argument("--split", choices=["test", "train", "val"], default="test",
                   help="split (default: test; for imagefolder the val folder)")
    p.add_argument("--layer", default="avgpool", help="module whose output is the latent (default: avgpool)")
    p.add_argument("--reduce", choices=["flatten", "avg"], default="flatten",
                   help="a (C, H, W) output: flatten it (default) or average it over H, W (C features)")
    p.add_argument("--input-size", type=_positive_int, default=224, help="image size fed to the network (default: 224)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument("--batch-size", type=_positive_int, default=256, help="images per batch (default: 256)")
    p.add_argument("-o", "--output", required=True, help="latents Parquet file to write")


def run_extract(args: argparse.Namespace) -> int:
    """Latents of one module of a network loaded from a state-dict file.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``latentgraph extract`` (see :func:`add_extract`).

    Returns
    -------
    int
        The exit status, 0; input errors raise :class:`LatentGraphError` (:func:`main` turns
        them into status 2).
    """
    from .nets.models import known_arch, unknown_arch_message
    from .nets.pretrained import extract_pretrained

    check_output(args.output)
    if not known_arch(args.arch):
        raise LatentGraphError(unknown_arch_message(args.arch))
    # checked here so that the messages name options, not the workflow's config keys
    if not Path(args.weights).is_file():
        raise LatentGraphError(f"{args.weights}: weights file does not exist (the weights argument)")
    if args.dataset in ("imagefolder", "cifar100"):
        if not args.root:
            raise LatentGraphError(f"--dataset {args.dataset} needs --root (the data folder)")
        if not Path(args.root).is_dir():
            raise LatentGraphError(f"--root {args.root}: folder does not exist")
    data_cfg = {"dataset": args.dataset, "root": args.root, "class_names": args.class_names,
                "require_train": False}
    model_cfg = {"arch": args.arch, "stem": "imagenet", "width": 64, "input_size": args.input_size}
    from .io import read_latents

    meta = extract_pretrained(args.weights, data_cfg, model_cfg, args.output, split=args.split, layer=args.layer,
                              device=args.device, batch_size=args.batch_size, reduce=args.reduce)
    lat = read_latents(args.output)
    print(f"wrote {args.output}: {lat.n} latents of dim {lat.dim} from {args.arch} module {args.layer!r} "
          f"({args.reduce}), accuracy {meta['test_accuracy']:.4f}")
    return 0


def add_classgraph(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph classgraph``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, to which the arguments are added.
    """
    p.add_argument("latents", help="latents Parquet file (sample_id, label, latent[, prediction])")
    p.add_argument("--k", type=_positive_int, default=4, help="neighbours of the sample kNN graph (default: 4)")
    p.add_argument("--class-k", type=_positive_int, default=4, help="neighbours of the class kNN graph (default: 4)")
    p.add_argument("--class-names", help="class names: a text file (one per line, in label order) or a CSV with "
                   "id and name columns (default: the latents' metadata)")
    p.add_argument("--weights", choices=["l1", "hops"], default="l1",
                   help="path length: sum of L1 edge lengths (default) or number of hops")
    p.add_argument("--metric", choices=["l1", "l2"], default="l1", help="kNN distance (default: l1, as the thesis)")
    p.add_argument("--seed", type=int, default=0, help="seed of Louvain, Leiden and the layout (default: 0)")
    p.add_argument("--resolution", type=float, default=1.0, help="modularity resolution (default: 1)")
    p.add_argument("--hubs", type=_positive_int, default=10, help="hubs to list (default: 10)")
    p.add_argument("--batch-size", type=_positive_int, default=256, help="source vertices per block (default: 256)")
    p.add_argument("--jobs", type=_positive_int, default=None, help="threads or processes (default: all cores)")
    p.add_argument("--backend", choices=["auto", "numba", "scipy", "igraph"], default="auto",
                   help="shortest-path routine; results agree (default: auto = the fastest available)")
    p.add_argument("--knn-backend", choices=["auto", "numpy", "numba", "faiss", "faiss-gpu"], default="auto",
                   help="kNN search backend; results are identical (default: auto)")
    p.add_argument("--no-figures", action="store_true",
                   help="skip the PNG/SVG figures (figures of an earlier run in the output folder are removed)")
    p.add_argument("-o", "--output", required=True,
                   help="output folder; its result files are replaced as one set when all are written")


def run_classgraph(args: argparse.Namespace) -> int:
    """Class distance matrix, class graph, statistics, communities, exports and figures.

    The files go to the ``--output`` folder, replaced as one set.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``latentgraph classgraph`` (see :func:`add_classgraph`).

    Returns
    -------
    int
        The exit status, 0; input errors raise :class:`LatentGraphError` (:func:`main` turns
        them into status 2).
    """
    import numpy as np

    from .experiments.classgraph import (
        DISTANCES_FILE,
        FIGURES,
        OUTPUTS,
        class_distances_from_latents,
        plot_class_graph_files,
        staged_paths,
        write_class_distances,
        write_class_graph,
    )
    from .io import read_latents
    from .nets.data import read_class_names

    out = check_output(args.output, folder=True)
    lat = read_latents(args.latents)
    n_classes = int(np.unique(lat.labels).size)
    if args.class_k >= n_classes:  # checked before the expensive part, so nothing is written
        raise LatentGraphError(f"--class-k {args.class_k} must be smaller than the number of classes ({n_classes})")
    if args.k >= lat.n:
        raise LatentGraphError(f"--k {args.k} must be smaller than the number of samples ({lat.n})")
    names = read_class_names(args.class_names) if args.class_names else None
    if names is not None and int(lat.labels.max()) >= len(names):
        raise LatentGraphError(f"{args.class_names}: {len(names)} names, but labels go up to {int(lat.labels.max())}")
    cd = class_distances_from_latents(lat, args.k, weights=args.weights, metric=args.metric, class_names=names,
                                      knn_backend=args.knn_backend, batch_size=args.batch_size, n_jobs=args.jobs,
                                      backend=args.backend, progress=args.verbose)
    # the whole set is written into a staging folder and moved into place at the end: a failure leaves the
    # folder as it was; without figures, the figures of an earlier run are removed with the swap
    files = {"distances": DISTANCES_FILE, **OUTPUTS, **({} if args.no_figures else FIGURES)}
    stale = [out / name for name in FIGURES.values()] if args.no_figures else []
    title = f"Class graph of {Path(args.latents).name}"
    with staged_paths({key: out / name for key, name in files.items()}, remove=stale) as tmp:
        write_class_distances(tmp["distances"], cd)
        summary = write_class_graph(cd, {key: tmp[key] for key in OUTPUTS}, args.class_k, seed=args.seed,
                                    n_hubs=args.hubs, resolution=args.resolution, title=title)
        if not args.no_figures:
            plot_class_graph_files(tmp["nodes"], tmp["edges"], tmp["degrees"], {key: tmp[key] for key in FIGURES},
                                   title=title)
    m = summary["measures"]
    print(f"wrote {out}: {cd.n_classes} classes, {m['edges']} edges, average degree {m['average_degree']:.3f}, "
          f"diameter {m['diameter']}, average path length {m['average_path_length']:.3f}, "
          f"clustering {m['clustering']:.3f}, {summary['communities']['louvain']['count']} Louvain communities")
    return 0


def add_graphstats(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph graphstats``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, to which the arguments are added.
    """
    p.add_argument("graph", help="GraphML, GEXF or CSV edge list (source,target[,weight])")
    p.add_argument("--nodes", help="node CSV for a CSV edge list: an id column and a name column")
    p.add_argument("--name-column", help="the node CSV's name column (default: class_name, name or label)")
    p.add_argument("--distance", default="auto",
                   help="edge attribute holding distances, used for weighted path lengths and (as min/d) for "
                        "community weights; 'auto' = distance, else weight; 'none' = unweighted")
    p.add_argument("--unweighted-communities", action="store_true", help="ignore edge weights in Louvain/Leiden")
    p.add_argument("--hubs", type=_positive_int, default=10, help="hubs to list (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of Louvain and Leiden (default: 0)")
    p.add_argument("--resolution", type=float, default=1.0, help="modularity resolution (default: 1)")
    p.add_argument("--compare", metavar="ATTR", help="a vertex attribute (node CSV column) holding another "
                   "partition, e.g. gephi_modularity_class: report the NMI of the communities with it")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def run_graphstats(args: argparse.Namespace) -> int:
    """Print a graph's statistics, hubs and communities.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``latentgraph graphstats`` (see :func:`add_graphstats`).

    Returns
    -------
    int
        The exit status, 0; input errors raise :class:`LatentGraphError` (:func:`main` turns
        them into status 2).
    """
    import json

    from .graphs.network_stats import default_distance_attribute, format_summary, graph_summary, load_graph, to_json

    g = load_graph(args.graph, nodes=args.nodes, name_column=args.name_column)
    if g.ecount() == 0:
        raise LatentGraphError(f"{args.graph}: the graph has no edges ({g.vcount()} vertices, after dropping "
                               "self-loops); graphstats needs at least one edge")
    if args.distance == "auto":
        distance = default_distance_attribute(g)
    elif args.distance == "none":
        distance = None
    else:
        distance = args.distance
    if distance is not None:
        from .graphs.network_stats import check_distances

        check_distances(g, distance, where=args.graph)
    summary = graph_summary(g, distance=distance, community_weights=None if args.unweighted_communities else "similarity",
                        n_hubs=args.hubs, seed=args.seed, resolution=args.resolution, compare=args.compare)
    if args.json:
        sys.stdout.write(json.dumps(to_json(summary), indent=2, default=float) + "\n")
    else:
        sys.stdout.write(format_summary(summary, title=f"graph: {args.graph}"))
    return 0


def add_explore(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph explore``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser, to which the arguments are added.
    """
    p.add_argument("latents", nargs="*", help="zero, one or two latents Parquet files of the same samples (two: shown "
                   "side by side with a linked selection)")
    p.add_argument("--knn", nargs="+", default=None, help="the kNN table files of the latents, in the same order "
                   "(default: an exact search here)")
    p.add_argument("--classgraph", help="a class graph folder (nodes.csv, edges.csv, stats.json of `latentgraph "
                   "classgraph` or the workflow) for the class view")
    p.add_argument("--nodes", help="a class graph's node CSV (id, class_name, ...), with --edges; instead of --classgraph")
    p.add_argument("--edges", help="a class graph's edge CSV (source, target, distance or weight), with --nodes")
    p.add_argument("--thumbnails", help="thumbnails Parquet file (sample_id, thumbnail; the workflow's rule thumbnails); "
                   "without it the sample view has no thumbnails")
    p.add_argument("--class-names", help="class names: a text file (one per line, in label order) or a CSV with id and "
                   "name columns; must name every class (default: the latents' metadata)")
    p.add_argument("--titles", nargs="+", help="panel titles, one per latents file (default: run and epoch)")
    p.add_argument("--k", type=_positive_int, default=None, help="neighbours shown per sample (default: 4, or the "
                   "kNN tables' k when smaller)")
    p.add_argument("--metric", choices=["l1", "l2"], default="l1", help="metric of a kNN search made here (default: l1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the layouts (default: 0)")
    p.add_argument("--n-neighbors", type=_positive_int, default=15, help="UMAP neighbourhood size (default: 15)")
    p.add_argument("--directed", action="store_true", help="per-sample Jaccard of the directed neighbour sets")
    p.add_argument("--thumbnail-cap", type=int, default=20000, help="at most this many thumbnails (default: 20000)")
    p.add_argument("--title", help="page title")
    p.add_argument("-o", "--output", required=True, help="the HTML file to write")


def run_explore(args: argparse.Namespace) -> int:
    """Write one self-contained explorer page (class view and/or sample views).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``latentgraph explore`` (see :func:`add_explore`).

    Returns
    -------
    int
        The exit status, 0; input errors raise :class:`LatentGraphError` (:func:`main` turns
        them into status 2).
    """
    from .explore import GraphInput, PageOptions, class_graph_page_data, page_data, write_page
    from .nets.data import read_class_names

    out = check_output(args.output)
    if len(args.latents) > 2:
        raise LatentGraphError(f"explore takes at most two latents files, got {len(args.latents)}")
    if args.knn is not None and len(args.knn) != len(args.latents):
        raise LatentGraphError(f"--knn: {len(args.knn)} files for {len(args.latents)} latents files")
    if args.titles is not None and len(args.titles) != len(args.latents):
        raise LatentGraphError(f"--titles: {len(args.titles)} titles for {len(args.latents)} latents files")
    if args.classgraph and (args.nodes or args.edges):
        raise LatentGraphError("--classgraph and --nodes/--edges: give one of them")
    if bool(args.nodes) != bool(args.edges):
        raise LatentGraphError("--nodes and --edges go together")
    class_graph = None
    if args.classgraph:
        d = Path(args.classgraph)
        if not d.is_dir():
            raise LatentGraphError(f"--classgraph {d}: not a folder")
        stats = d / "stats.json"
        class_graph = {"nodes": d / "nodes.csv", "edges": d / "edges.csv", "stats": stats if stats.exists() else None}
    elif args.nodes:
        class_graph = {"nodes": args.nodes, "edges": args.edges}
    names = read_class_names(args.class_names) if args.class_names else None
    if not args.latents:
        if class_graph is None:
            raise LatentGraphError("nothing to show: give latents files, --classgraph or --nodes/--edges")
        data = class_graph_page_data(class_graph["nodes"], class_graph["edges"], class_graph.get("stats"),
                                     class_names=names, seed=args.seed)
        title = args.title or f"Class graph: {Path(class_graph['nodes']).parent.name or Path(class_graph['nodes']).name}"
    else:
        graphs = [GraphInput(lat, args.knn[i] if args.knn else None, args.titles[i] if args.titles else None,
                             metric=args.metric) for i, lat in enumerate(args.latents)]
        opts = PageOptions(k=args.k, seed=args.seed, n_neighbors=args.n_neighbors, directed=args.directed,
                           thumbnail_cap=args.thumbnail_cap)
        data = page_data(graphs, class_graph=class_graph, thumbnails=args.thumbnails, class_names=names,
                         class_names_source=f"--class-names {args.class_names}", options=opts)
        title = args.title or "Explorer: " + " vs ".join(p["title"] for p in data["samples"])
    write_page(out, data, title)
    n = len(data["sample_id"])
    print(f"wrote {out}: {n} samples in {len(data['samples'])} view(s), "
          f"{'a class view' if data['class_view'] else 'no class view'}, "
          f"{'thumbnails' if data['thumbnails'] else 'no thumbnails'}")
    return 0


#: Every subcommand as (name, help, add_arguments, run), in the order ``--help`` lists them.
COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = [
    ("knn", "exact kNN graph of a latents file, written as Parquet", add_knn, run_knn),
    ("compare", "Jaccard and class neighbourhood similarity between two latents (or graph) files; more measures "
     "(mutual kNN, symmetric CNS, CKA, spectral, hubness) and permutation nulls with --measure/--null",
     add_compare, run_compare),
    ("compare-many", "the N x N map of any set of latents files (checkpoints, layers, models) for any pair measure, "
     "with a clustered heatmap", add_compare_many, run_compare_many),
    ("measures", "list every measure of compare: what it needs, range, direction, invariances, citation",
     add_measures, run_measures),
    ("classgraph", "class graph of a latents file: class distances, statistics, communities, GraphML/GEXF, figures",
     add_classgraph, run_classgraph),
    ("graphstats", "statistics, hubs and communities of a graph file (GraphML, GEXF or CSV edge list)",
     add_graphstats, run_graphstats),
    ("explore", "one self-contained HTML page to explore a class graph and the samples' kNN graphs in a browser",
     add_explore, run_explore),
    ("extract", "latents of any module of any torchvision classification model, weights from a local file",
     add_extract, run_extract),
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand's parser sets ``_run`` to its function of :data:`COMMANDS`.
    """
    parser = argparse.ArgumentParser(prog="latentgraph", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, add, run in COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        add(p)
        p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``latentgraph`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; None: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: the subcommand's (0 on success), or 2 after printing a
        :class:`LatentGraphError` in one line to stderr. Usage errors exit from argparse.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("faiss").setLevel(logging.WARNING)  # its loader's INFO lines read like failures
    try:
        return int(args._run(args) or 0)
    except LatentGraphError as exc:
        print(f"latentgraph {args.command}: error: {exc}", file=sys.stderr)
        return 2


def run() -> None:
    """Run :func:`main` and exit without the interpreter's teardown.

    The ``latentgraph`` console script and ``python -m latentgraph.cli`` call this. Once the
    command has returned, its results are written (atomically) and closed; what is left is
    Python's teardown of the loaded modules (numba's compiler, LLVM, NumPy, Arrow), about
    0.15-0.2 s of a kNN command on 2 cores. So after :func:`main` returns, this runs the
    ``atexit`` handlers, flushes stdout and stderr and leaves with :func:`os._exit`. It exits
    normally (with the full teardown) when another Python thread is still running, so no
    thread's work is cut short.

    Raises
    ------
    SystemExit
        With the exit status, when another thread is still running (the normal way out).
    """
    import atexit
    import contextlib
    import threading

    status = main()
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
