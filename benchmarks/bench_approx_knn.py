"""Approximate L1 kNN (FAISS IVF and HNSW, knn.method) against the exact search: recall@k,
time and the Jaccard/CNS of the approximate graph against the exact one, at each N, in one run
on the same data and threads.

    python benchmarks/bench_approx_knn.py [--n 50000 200000] [--d 512] [--k 16] [--threads 2]
        [--partial-exact-from 100000] [--partial-rows 10000]

Data: 100 classes of latent-like vectors (non-negative, uneven feature scales, a class
centre plus noise), like avgpool activations of a trained network. The exact search is the
project's default path (``knn``, backend auto); the approximate ones are
:func:`latentgraph.graphs.knn_approx.build_knn_table` (index build + search + exact
re-rank + recall measured on ``--queries`` seeded queries), timed in full.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import timeit, versions, write

from latentgraph.compare.similarity import compare_tables
from latentgraph.graphs.knn import knn, knn_table, resolve_knn_backend
from latentgraph.graphs.knn_approx import build_knn_table, recall_at_k

#: (method, parameters) measured at every N
CONFIGS = [
    ("ivf", {"nprobe": 4}),
    ("ivf", {"nprobe": 16}),
    ("hnsw", {"M": 16, "efConstruction": 40, "efSearch": 16}),
    ("hnsw", {"M": 32, "efConstruction": 80, "efSearch": 64}),
]
#: the defaults of knn.ivf and knn.hnsw (schemas/config.schema.yaml)
DEFAULTS = [{"nprobe": 16}, {"M": 32, "efConstruction": 80, "efSearch": 64}]


def class_latents(n: int, d: int, n_classes: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded latent-like vectors with class structure, and their labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    scale = rng.gamma(2.0, 0.5, size=d).astype(np.float32)
    centres = rng.normal(size=(n_classes, d)).astype(np.float32)
    X = np.maximum(centres[labels] + rng.normal(size=(n, d)).astype(np.float32), 0) * scale
    return X.astype(np.float32), labels


def run(n: int, args: argparse.Namespace) -> dict:
    X, labels = class_latents(n, args.d)
    ks = [4, 8, args.k]
    backend = resolve_knn_backend("auto", n, "l1")
    knn_table(X[:512], args.k, labels[:512], backend=backend, threads=args.threads)  # warm-up (numba cache)
    partial = n >= args.partial_exact_from
    configs = CONFIGS
    if partial:
        # the exact search of the first q rows only (a shard, knn(..., rows=)): its time x N / q
        # is the projected whole search; recall and the graphs' agreement on those q rows
        q = min(args.partial_rows, n)
        t_part, (ei, _) = timeit(lambda: knn(X, args.k, backend=backend, threads=args.threads, rows=(0, q)))
        t_exact = t_part * n / q
        exact = None
        configs = [c for c in CONFIGS if c[1] in DEFAULTS]
        print(f"N={n}: exact ({backend}) on rows 0..{q - 1}: {t_part:.1f} s -> projected {t_exact:.1f} s", flush=True)
    else:
        t_exact, exact = timeit(lambda: knn_table(X, args.k, labels, backend=backend, threads=args.threads))
        print(f"N={n}: exact ({backend}) {t_exact:.1f} s", flush=True)
    rows = []
    for method, params in configs:
        t, table = timeit(lambda m=method, p=params: build_knn_table(
            X, args.k, labels, method=m, params=p, recall_queries=args.queries, recall_ks=ks, threads=args.threads))
        if partial:
            true = recall_at_k(table.indices[:q], ei, ks)  # the q exactly searched rows
            sim = {"k": ks, "jaccard": [float("nan")] * len(ks), "cns": [float("nan")] * len(ks)}
        else:
            true = recall_at_k(table.indices, exact.indices, ks)  # all N rows, for the check of the sampled estimate
            sim = compare_tables(exact, table, ks)
        row = {"method": method, "params": table.metadata["method_params"], "seconds": t,
               "speedup": t_exact / t, "recall_sampled": table.metadata["recall_by_k"],
               "recall_all_rows": {str(k): v for k, v in true.items()},
               "jaccard": dict(zip(map(str, sim["k"]), sim["jaccard"], strict=True)),
               "cns": dict(zip(map(str, sim["k"]), sim["cns"], strict=True))}
        print(f"  {method} {row['params']}: {t:.1f} s ({row['speedup']:.2f}x), recall@{args.k} "
              f"{row['recall_sampled'][str(args.k)]:.4f} (all rows {true[args.k]:.4f}), "
              f"Jaccard@{args.k} {row['jaccard'][str(args.k)]:.4f}", flush=True)
        rows.append(row)
    return {"n": n, "exact_backend": backend, "exact_seconds": t_exact, "methods": rows,
            "exact_projected_from_rows": q if partial else None}


def markdown(result: dict) -> str:
    k = result["k"]
    lines = [f"Approximate vs exact L1 kNN, d = {result['d']}, k = {k}, {result['threads']} threads; recall on "
             f"{result['queries']} seeded queries (all-row recall in brackets); Jaccard and CNS of the "
             "approximate graph against the exact one (undirected).", "",
             "| N | method | parameters | time (s) | vs exact | recall@4 | recall@16 | Jaccard k=4 | Jaccard k=16 | CNS k=16 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        q = r.get("exact_projected_from_rows")
        how = f" projected from rows 0..{q - 1}" if q else ""
        lines.append(f"| {r['n']:,} | exact ({r['exact_backend']}) | | {r['exact_seconds']:.1f}{how} | 1.00x | 1 | 1 | "
                     "1 | 1 | 1 |")
        for m in r["methods"]:
            p = ", ".join(f"{a}={b}" for a, b in m["params"].items())
            lines.append(
                f"| {r['n']:,} | {m['method']} | {p} | {m['seconds']:.1f} | {m['speedup']:.2f}x | "
                f"{m['recall_sampled']['4']:.4f} ({m['recall_all_rows']['4']:.4f}) | "
                f"{m['recall_sampled'][str(k)]:.4f} ({m['recall_all_rows'][str(k)]:.4f}) | "
                f"{m['jaccard']['4']:.4f} | {m['jaccard'][str(k)]:.4f} | {m['cns'][str(k)]:.4f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[50_000, 200_000])
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--partial-exact-from", type=int, default=100_000,
                    help="from this N on, search only --partial-rows rows exactly (time projected x N / rows; "
                         "recall in brackets on those rows; no graph comparison) and run only the default "
                         "parameters of each method")
    ap.add_argument("--partial-rows", type=int, default=10_000)
    args = ap.parse_args()
    result = {"d": args.d, "k": args.k, "threads": args.threads, "queries": args.queries,
              "versions": versions("numpy", "faiss", "numba"), "runs": []}
    for n in args.n:  # written after every N: a long last N leaves the earlier ones on disk
        result["runs"].append(run(n, args))
        write("bench_approx_knn", result, markdown(result))


if __name__ == "__main__":
    main()
