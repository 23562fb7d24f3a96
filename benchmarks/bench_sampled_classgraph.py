"""Sampled class distances (classgraph.sources_per_class = m) against the exact eq. 4.2 matrix:
time, largest error and the coverage of the 95 % intervals, for several m in one run.

    python benchmarks/bench_sampled_classgraph.py [--n 50000] [--classes 100] [--m 10 50 200] [--threads 2]

Graph: the undirected L1 kNN graph (k = 4, the thesis's) of a seeded Gaussian mixture
(``--classes`` classes, ``--dim`` dimensions), built once; only the shortest-path stage is
timed (numba Dijkstra on ``--threads`` threads): all N sources for the exact matrix, m per
class for the sampled one.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import timeit, versions, write

from latentgraph.experiments.classgraph import ambiguous_edges, class_distances, sampled_class_distances
from latentgraph.graphs.knn import edges, knn


def make_graph(n: int, n_classes: int, dim: int, spread: float, seed: int = 0):
    """Labels and the undirected k = 4 kNN edge list of a seeded Gaussian mixture."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % n_classes)  # equal classes (n / n_classes each)
    centres = rng.normal(size=(n_classes, dim)) * spread
    X = (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32)
    idx, dist = knn(X, 4, metric="l1")
    s, t, w = edges(idx, distances=dist)
    return labels, s, t, w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--spread", type=float, default=0.5, help="class-centre scale (overlapping classes, connected graph)")
    ap.add_argument("--m", type=int, nargs="+", default=[10, 50, 200])
    ap.add_argument("--class-k", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    labels, s, t, w = make_graph(args.n, args.classes, args.dim, args.spread)
    sampled_class_distances(labels[:2000] % 5, s[s < 2000] * 0, t[s < 2000] * 0, w[s < 2000], 2)  # numba warm-up
    t_exact, exact = timeit(lambda: class_distances(labels, s, t, w, n_jobs=args.threads))
    print(f"exact: {t_exact:.1f} s, {exact.metadata['n_components']} component(s)", flush=True)
    rows = []
    for m in args.m:
        secs, cd = timeit(lambda m=m: sampled_class_distances(labels, s, t, w, m, seed=0, n_jobs=args.threads))
        rel = np.abs(cd.mean - exact.mean) / exact.mean
        covered = float(np.mean((cd.ci_low <= exact.mean) & (exact.mean <= cd.ci_high)))
        amb = ambiguous_edges(cd, args.class_k)
        from latentgraph.experiments.classgraph import class_neighbors

        same_graph = bool(np.array_equal(class_neighbors(cd.mean, args.class_k),
                                         class_neighbors(exact.mean, args.class_k)))
        row = {"m": m, "sources": int(cd.metadata["n_sources"]), "seconds": secs, "speedup": t_exact / secs,
               "max_rel_error": float(rel.max()), "mean_rel_error": float(rel.mean()),
               "max_abs_error": float(np.abs(cd.mean - exact.mean).max()),
               "median_rel_se": float(np.median(cd.se / cd.mean)), "coverage_95": covered,
               "ambiguous_edges": amb["ambiguous_edges"], "edges": amb["edges"],
               "same_class_neighbours_as_exact": same_graph}
        print(f"m={m}: {secs:.1f} s ({row['speedup']:.1f}x), max rel error {row['max_rel_error']:.4f}, "
              f"coverage {covered:.3f}, ambiguous {amb['ambiguous_edges']}/{amb['edges']}", flush=True)
        rows.append(row)
    result = {"n": args.n, "classes": args.classes, "dim": args.dim, "spread": args.spread, "threads": args.threads,
              "n_components": exact.metadata["n_components"], "exact_seconds": t_exact, "rows": rows,
              "versions": versions("numpy", "numba", "scipy")}
    lines = [f"Class distances on the k = 4 L1 kNN graph of N = {args.n:,} samples ({args.classes} classes of "
             f"{args.n // args.classes}, {args.dim}-d Gaussian mixture), numba Dijkstra, {args.threads} threads. "
             f"Exact (all {args.n:,} sources): {t_exact:.1f} s.", "",
             "| m per class | sources | time (s) | vs exact | max rel. error | mean rel. error | median SE/mean | "
             "95% coverage | ambiguous edges | class kNN lists = exact |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['m']} | {r['sources']:,} | {r['seconds']:.1f} | {r['speedup']:.1f}x faster | "
                     f"{r['max_rel_error']:.4f} | {r['mean_rel_error']:.4f} | {r['median_rel_se']:.4f} | "
                     f"{r['coverage_95']:.3f} | {r['ambiguous_edges']} of {r['edges']} | "
                     f"{'yes' if r['same_class_neighbours_as_exact'] else 'no'} |")
    write("bench_sampled_classgraph", result, "\n".join(lines))


if __name__ == "__main__":
    main()
