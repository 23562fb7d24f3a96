"""Maps and intervals: what they cost.

- An N-model linear-CKA map (:func:`latentgraph.compare.maps.cka_matrix`: per-model terms
  computed once, then one cheap cross term per pair) against the naive loop that calls
  :func:`latentgraph.compare.measures.cka_linear` for every unordered pair, in the same run,
  for several N: the per-model part grows as N passes, the naive loop as N² full CKAs.
  Both the Gram path (few samples, N x N centred kernels per model) and the feature-space
  path (many samples) are timed; the two maps agree to rounding.
- Intervals (:mod:`latentgraph.compare.intervals`) on demo-sized kNN graphs (899 samples,
  k = 4, 8, 16): ``compare()`` with and without ``resamples=B``, against B times the
  measures themselves: the vertex bootstrap is one (B, N) count matrix times the per-vertex
  values, not B recomputations.

    python benchmarks/bench_maps.py [--samples 1000] [--dim 128] [--models 4 8 16] [--resamples 200]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import peak_rss_mib, timeit, write

from latentgraph.compare.maps import CKATerms, cka_matrix
from latentgraph.compare.measures import cka_linear, compare
from latentgraph.graphs.knn import knn_table


def models(m: int, n: int, d: int, seed: int) -> list[np.ndarray]:
    """m related representations of n samples (random mixtures of shared factors plus noise)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, d))
    return [(base @ rng.normal(size=(d, d)) / np.sqrt(d) + 0.5 * rng.normal(size=(n, d))).astype(np.float32)
            for _ in range(m)]


def naive(Xs: list[np.ndarray]) -> np.ndarray:
    out = np.eye(len(Xs))
    for i in range(len(Xs)):
        for j in range(i + 1, len(Xs)):
            out[i, j] = out[j, i] = cka_linear(Xs[i], Xs[j])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--wide-dim", type=int, default=2048)
    ap.add_argument("--big-samples", type=int, default=20000)
    ap.add_argument("--models", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--resamples", type=int, default=200)
    args = ap.parse_args()
    res: dict = {"samples": args.samples, "dim": args.dim, "big_samples": args.big_samples, "maps": []}
    rows = []
    for n, dim, method in ((args.samples, args.wide_dim, "gram"), (args.samples, args.dim, "features"),
                           (args.big_samples, args.dim, "features")):
        for m in args.models:
            Xs = models(m, n, dim, m)
            t_terms, _ = timeit(lambda Xs=Xs, method=method: [CKATerms.of(x, method) for x in Xs])
            t_map, M = timeit(lambda Xs=Xs, method=method: cka_matrix(Xs, method=method))
            t_naive, R = timeit(lambda Xs=Xs: naive(Xs))
            diff = float(np.abs(M - R).max())
            row = dict(samples=n, dim=dim, method=method, models=m, per_model_seconds=t_terms, map_seconds=t_map,
                       naive_seconds=t_naive, max_abs_diff=diff)
            res["maps"].append(row)
            rows.append(f"| {n:,} x {dim} | {method} | {m} | {t_terms:.3f} | {t_map - t_terms:.3f} | "
                        f"{t_map:.3f} | {t_naive:.3f} | {t_naive / t_map:.1f}x | {diff:.1e} |")
            print(rows[-1], flush=True)

    # intervals on demo-sized graphs
    rng = np.random.default_rng(0)
    n, labels = 899, rng.integers(0, 10, 899)
    X = (rng.normal(size=(10, 128))[labels] + rng.normal(size=(n, 128))).astype(np.float32)
    Y = (X @ (rng.normal(size=(128, 128)) / np.sqrt(128)) + 0.7 * rng.normal(size=(n, 128))).astype(np.float32)
    ids = np.arange(n)
    a, b = knn_table(X, 16, labels, ids, metric="l1"), knn_table(Y, 16, labels, ids, metric="l1")
    ks, B = [4, 8, 16], args.resamples
    iv_rows = []
    for name, ms in (("graph measures (jaccard, cns_sym, mutual_knn, hubness)",
                      ["jaccard", "cns", "cns_sym", "mutual_knn", "hubness"]),
                     ("linear CKA", ["cka"]),
                     ("Procrustes, mean CCA", ["procrustes", "mean_cca"])):
        t0, _ = timeit(lambda ms=ms: compare(a, b, ks, ms, xa=X, xb=Y), repeat=3)
        t1, _ = timeit(lambda ms=ms: compare(a, b, ks, ms, xa=X, xb=Y, resamples=B, seed=1), repeat=1)
        res[f"intervals_{ms[0]}"] = dict(plain_seconds=t0, with_intervals_seconds=t1)
        iv_rows.append(f"| {name} | {t0:.3f} | {t1:.3f} | {(t1 - t0) / t0:.1f} | {B} |")
        print(iv_rows[-1], flush=True)
    res["peak_rss_mib"] = peak_rss_mib()
    md = ("Linear-CKA map of N models (debiased): per-model terms once, then one cross term per pair, against "
          "the naive loop of `cka_linear` over the N(N-1)/2 pairs (same run, best of one).\n\n"
          "| samples x dim | path | N models | per-model terms (s) | cross terms (s) | map total (s) | naive (s) | "
          "speed-up | max diff |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
          f"Intervals on 899-sample kNN graphs (k = 4, 8, 16): `compare()` without and with `resamples={B}` "
          "(vertex bootstrap with the graphs fixed for the graph measures; half-sampling for the latents "
          "measures).\n\n| measures | plain (s) | with intervals (s) | extra cost in plain runs | B |\n"
          "|---|---|---|---|---|\n" + "\n".join(iv_rows) + f"\n\nPeak RSS {res['peak_rss_mib']:.0f} MiB.")
    write("bench_maps", res, md)


if __name__ == "__main__":
    main()
