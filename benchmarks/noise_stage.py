"""Time the noise stage's library steps at thesis scale on synthetic clustered latents.

    python benchmarks/noise_stage.py --n 10000 --d 512 --classes 100

Reports the seconds of one noise point (perturbation + kNN at max k + Jaccard/CNS + head),
of the chance level and of the clean graph's path statistics (igraph, streamed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from latentgraph.experiments.noise import chance_level, noise_point, variance_vector  # noqa: E402
from latentgraph.graphs.knn import knn_table  # noqa: E402
from latentgraph.graphs.path_stats import knn_graph_statistics  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--k", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--stats-k", type=int, default=4)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--batch-size", type=int, default=256)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    labels = rng.integers(0, args.classes, args.n)
    centres = rng.gamma(2.0, 1.0, size=(args.classes, args.d))
    X = np.maximum(centres[labels] + rng.normal(0, 0.7, size=(args.n, args.d)), 0).astype(np.float32)
    W, b = rng.normal(size=(args.classes, args.d)), rng.normal(size=args.classes)

    t = time.perf_counter()
    clean = knn_table(X, max(args.k), labels, backend=args.backend)
    print(f"clean kNN (N={args.n}, d={args.d}, k={max(args.k)}, {clean.metadata['backend']}): "
          f"{time.perf_counter() - t:.1f} s")
    var = variance_vector(X)
    t = time.perf_counter()
    df = noise_point(X, labels, clean, W, b, 0.5, 0, seed=0, ks=args.k, backend=args.backend, var=var)
    print(f"one noise point (p = 0.5): {time.perf_counter() - t:.1f} s; jaccard {df['jaccard'].round(3).tolist()}")
    t = time.perf_counter()
    chance_level(clean, args.k, draws=5)
    print(f"chance level (5 draws): {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    s = knn_graph_statistics(clean, args.stats_k, bins=100, batch_size=args.batch_size)
    print(f"path statistics (k = {args.stats_k}, {s['n_edges']} edges): {time.perf_counter() - t:.1f} s; "
          f"hop diameter {s['hop']['diameter']}, median path {s['weighted']['median']:.4g}")


if __name__ == "__main__":
    main()
