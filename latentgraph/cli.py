"""The ``latentgraph`` command line: the library's steps on files, without Snakemake.

    latentgraph knn LATENTS.parquet --k 16 -o GRAPH.parquet
    latentgraph compare A.parquet B.parquet --k 4 8 16 [--directed] [-o table.csv]

Inputs are latents Parquet files (see :mod:`latentgraph.io`); ``compare`` also accepts
kNN graph files written by ``knn``. Errors in the input are reported in one line and
exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .utils import LatentGraphError, atomic_path

log = logging.getLogger("latentgraph")

def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} must be >= 1")
    return v


def _add_knn_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metric", choices=["l1", "l2"], default="l1", help="distance (default: l1, as the thesis)")
    p.add_argument("--backend", choices=["auto", "numpy", "numba", "faiss", "faiss-gpu"], default="auto",
                   help="search backend; results are identical (default: auto)")
    p.add_argument("--threads", type=_positive_int, default=None, help="CPU threads for the search")


def load_graph_or_latents(path: str, k: int, metric: str, backend: str, threads: int | None) -> Any:
    """A KnnTable from a kNN graph file, or computed from a latents file."""
    import pyarrow.parquet as pq

    from .io import read_knn, read_latents
    from .knn import knn_table

    try:
        names = pq.read_schema(path).names
    except FileNotFoundError:
        raise LatentGraphError(f"{path}: file does not exist") from None
    except Exception as exc:
        raise LatentGraphError(f"{path}: cannot read as Parquet ({type(exc).__name__}: {exc})") from exc
    if "neighbor_ids" in names:
        table = read_knn(path)
        if table.k < k:
            raise LatentGraphError(f"{path}: graph stores k={table.k} neighbours, fewer than the k={k} asked for")
        return table
    lat = read_latents(path)
    try:
        t = knn_table(lat.X, k, lat.labels, lat.sample_id, metric=metric, backend=backend, threads=threads)
    except LatentGraphError as exc:
        raise LatentGraphError(f"{path}: {exc}") from exc
    t.metadata["source"] = path
    return t


def add_knn(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph knn``."""
    p.add_argument("latents", help="latents Parquet file (sample_id, label, latent)")
    p.add_argument("--k", type=_positive_int, required=True, help="number of neighbours (the largest you need)")
    p.add_argument("-o", "--output", required=True, help="graph Parquet file to write")
    _add_knn_options(p)


def run_knn(args: argparse.Namespace) -> int:
    """Write the kNN graph of a latents file."""
    from .io import read_latents, write_knn
    from .knn import knn_table

    lat = read_latents(args.latents)
    try:
        table = knn_table(lat.X, args.k, lat.labels, lat.sample_id, metric=args.metric, backend=args.backend,
                          threads=args.threads)
    except LatentGraphError as exc:
        raise LatentGraphError(f"{args.latents}: {exc}") from exc
    write_knn(args.output, table, metadata={"latents": str(args.latents)})
    print(f"wrote {args.output}: {table.n} vertices, k={table.k}, metric={table.metric}, "
          f"backend={table.metadata['backend']}")
    return 0


def add_compare(p: argparse.ArgumentParser) -> None:
    """Arguments of ``latentgraph compare``."""
    p.add_argument("a", help="latents or kNN graph Parquet file (graph A; CNS divides by A's neighbourhoods)")
    p.add_argument("b", help="latents or kNN graph Parquet file (graph B), same samples as A")
    p.add_argument("--k", type=_positive_int, nargs="+", default=[4, 8, 16], help="neighbour counts (default: 4 8 16)")
    p.add_argument("--directed", action="store_true", help="compare directed kNN graphs (default: undirected union)")
    p.add_argument("-o", "--output", help="also write the table as CSV")
    _add_knn_options(p)


def run_compare(args: argparse.Namespace) -> int:
    """Print (and optionally write) Jaccard and CNS for each k."""
    from .similarity import compare_tables

    kmax = max(args.k)
    a = load_graph_or_latents(args.a, kmax, args.metric, args.backend, args.threads)
    b = load_graph_or_latents(args.b, kmax, args.metric, args.backend, args.threads)
    df = compare_tables(a, b, args.k, directed=args.directed)
    text = df.to_csv(index=False, float_format="%.6f")
    sys.stdout.write(text)
    if args.output:
        with atomic_path(args.output) as tmp:
            Path(tmp).write_text(text)
    return 0


#: Every subcommand as (name, help, add_arguments, run), in the order ``--help`` lists them.
COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = [
    ("knn", "exact kNN graph of a latents file, written as Parquet", add_knn, run_knn),
    ("compare", "Jaccard and class neighbourhood similarity between two latents (or graph) files",
     add_compare, run_compare),
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="latentgraph", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, add, run in COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        add(p)
        p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``latentgraph`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args._run(args) or 0)
    except LatentGraphError as exc:
        print(f"latentgraph {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
