"""Scaling curve: wall time and peak memory per stage for N = 1,000 ... 50,000 latents of
dimension 512 (100 classes), each stage in its own process so its peak RSS is its own.

Stages: ``knn`` (exact L1 kNN at k = 16, auto backend), ``similarity`` (Jaccard + CNS between
two k = 16 graphs), ``classgraph`` (all-pairs shortest paths on the undirected k = 4 graph
folded into class sums, auto backend, all cores).

    python benchmarks/bench_scaling.py [--sizes 1000 2000 5000 10000 20000 50000]

Writes results/benchmarks/bench_scaling.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from common import OUT, REPO, write

STAGES = ("knn", "similarity", "classgraph")


def latent_like(n: int, d: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class-clustered, non-negative latents (class means plus noise, then ReLU).

    The classes overlap the way a trained network's do: the k = 4 graph is connected (one
    component) and ~95 % of the neighbours share the vertex's class, so the shortest paths
    cross the whole graph (well-separated clusters would make them trivially short).
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    means = 0.5 * rng.normal(size=(classes, d)).astype(np.float32)
    X = np.maximum(means[labels] + rng.normal(size=(n, d)).astype(np.float32), 0)
    return X, labels


def child(stage: str, n: int, d: int, classes: int) -> dict:
    """Run one stage in this (fresh) process; report time and peak RSS."""
    import resource

    from latentgraph.compare.similarity import cns, jaccard
    from latentgraph.experiments.classgraph import class_distances
    from latentgraph.graphs.knn import adjacency, edges, knn

    X, labels = latent_like(n, d, classes)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if stage == "knn":
        knn(X[:256], 4)  # load kernels outside the timing
        t0 = time.perf_counter()
        knn(X, 16)
    elif stage == "similarity":
        ia, _ = knn(X, 16)
        ib, _ = knn(X + np.float32(0.3) * np.random.default_rng(1).normal(size=X.shape).astype(np.float32), 16)
        t0 = time.perf_counter()
        A, B = adjacency(ia, 16), adjacency(ib, 16)
        jaccard(A, B), cns(A, B, labels)
    else:
        idx, dist = knn(X, 4)
        src, dst, w = edges(idx, 4, distances=dist)
        class_distances(labels, src[:10], dst[:10], w[:10], n_jobs=None)  # load kernels outside the timing
        t0 = time.perf_counter()
        cd = class_distances(labels, src, dst, w, n_jobs=None)
    sec = time.perf_counter() - t0
    if stage == "classgraph":
        extra = {"edges": int(len(src)), "unreachable_pairs": int((cd.total - cd.pairs).sum())}
    else:
        extra = {}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"stage": stage, "n": n, "seconds": sec, "peak_rss_mib": peak, "input_rss_mib": base, **extra}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000, 20000, 50000])
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--child", nargs=2, metavar=("STAGE", "N"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.d, args.classes)))
        return
    rows = []
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for n in args.sizes:
        for stage in STAGES:
            out = subprocess.run([sys.executable, __file__, "--child", stage, str(n), "--d", str(args.d),
                                  "--classes", str(args.classes)], capture_output=True, text=True, env=env, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{stage:>10} N={n:>6}: {row['seconds']:8.2f} s, peak RSS {row['peak_rss_mib']:7.0f} MiB", flush=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for stage in STAGES:
        part = [r for r in rows if r["stage"] == stage]
        ns = [r["n"] for r in part]
        axes[0].loglog(ns, [r["seconds"] for r in part], "o-", label=stage)
        axes[1].loglog(ns, [r["peak_rss_mib"] for r in part], "o-", label=stage)
    axes[0].set(xlabel=f"N (latents, d = {args.d})", ylabel="seconds", title="wall time per stage")
    axes[1].set(xlabel=f"N (latents, d = {args.d})", ylabel="peak RSS (MiB, whole process)", title="peak memory")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.tight_layout()
    OUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT / "bench_scaling.png", dpi=130)
    md = ["| stage | " + " | ".join(f"N = {n:,}" for n in args.sizes) + " |",
          "|---" * (len(args.sizes) + 1) + "|"]
    for stage in STAGES:
        part = {r["n"]: r for r in rows if r["stage"] == stage}
        md.append(f"| {stage} (s) | " + " | ".join(f"{part[n]['seconds']:.2f}" for n in args.sizes) + " |")
        md.append(f"| {stage} (peak MiB) | " + " | ".join(f"{part[n]['peak_rss_mib']:.0f}" for n in args.sizes) + " |")
    unreachable = [r.get("unreachable_pairs") for r in rows if r["stage"] == "classgraph"]
    md.append(f"\nLatents: {args.classes} overlapping classes, d = {args.d}; the classgraph stage's k = 4 graphs "
              f"leave {max(unreachable)} ordered pairs unreachable at most (0 = one connected component). "
              "Peak RSS is that of the whole process (Python, numpy, the library and its input included).")
    md.append("\n![scaling](bench_scaling.png)")
    write("bench_scaling", {"d": args.d, "classes": args.classes, "rows": rows}, "\n".join(md))


if __name__ == "__main__":
    main()
