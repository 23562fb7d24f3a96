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
  values, not B recomputations; the spectral distance's interval (kNN graphs of each subset
  rebuilt, two spectra per subset and k, at most ``SPECTRAL_RESAMPLES`` subsets).
- Half-sampling of the latents measures, vectorised over the B subsets
  (:func:`latentgraph.compare.intervals.cka_draws`, ``covariance_draws``) against the
  per-subset loop (``_latents_draws_loop``, the code before) in the same run, with the
  largest difference between the two: linear CKA at 899 x 64 and 5,000 x 512, the six
  Procrustes / CCA measures at 899 x 64.

    python benchmarks/bench_maps.py [--samples 1000] [--dim 128] [--models 4 8 16] [--resamples 200]
    python benchmarks/bench_maps.py --only half-sampling   # the half-sampling rows only
    python benchmarks/bench_maps.py --only spectral        # the spectral interval's cost only
    python benchmarks/bench_maps.py --only spectral-coverage   # its calibration on synthetic data (~3 min)
"""

from __future__ import annotations

import argparse

import numpy as np
from common import peak_rss_mib, timeit, write

from latentgraph.compare import intervals as I
from latentgraph.compare.maps import CKATerms, cka_matrix
from latentgraph.compare.measures import cka_linear, compare
from latentgraph.compare.shape import COVARIANCE_MEASURES
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


def demo_graphs(d: int = 128) -> tuple:
    """Seeded demo-sized latents (899 samples, 10 classes) and their L1 kNN tables at k = 16."""
    rng = np.random.default_rng(0)
    n, labels = 899, rng.integers(0, 10, 899)
    X = (rng.normal(size=(10, d))[labels] + rng.normal(size=(n, d))).astype(np.float32)
    Y = (X @ (rng.normal(size=(d, d)) / np.sqrt(d)) + 0.7 * rng.normal(size=(n, d))).astype(np.float32)
    ids = np.arange(n)
    return X, Y, knn_table(X, 16, labels, ids, metric="l1"), knn_table(Y, 16, labels, ids, metric="l1")


def half_sampling(B: int, sizes: list[tuple[int, int]]) -> tuple[dict, str]:
    """Vectorised half-sampling against the per-subset loop, in the same run."""
    res: dict = {"half_sampling": [], "resamples": B}
    rows = []

    def row(what: str, n: int, d: int, t_loop: float, t_vec: float, diff: float, how: str) -> None:
        res["half_sampling"].append(dict(measures=what, samples=n, dim=d, loop_seconds=t_loop, vectorised_seconds=t_vec,
                                         max_abs_diff=diff, path=how))
        rows.append(f"| {what} | {n:,} x {d} | {t_loop:.2f} | {t_vec:.2f} ({how}) | {t_loop / t_vec:.1f}x | "
                    f"{diff:.1e} |")
        print(rows[-1], flush=True)

    for n, d in sizes:
        X, Y = models(2, n, d, 7)
        idx = I.subsample_indices(n, B, 0)
        t_loop, ref = timeit(lambda X=X, Y=Y, idx=idx: I._latents_draws_loop(X, Y, ["cka"], [4], idx))
        # both paths on the small size; the large one only on the path auto takes (the other costs as the loop)
        for method in ("gram", "features") if n * d <= 100_000 else (I.cka_draws_method(n, d, d, B, idx.shape[1]),):
            t_vec, v = timeit(lambda X=X, Y=Y, idx=idx, method=method: I.cka_draws(X, Y, idx, method=method))
            auto = I.cka_draws_method(n, d, d, B, idx.shape[1]) == method
            row("linear CKA", n, d, t_loop, t_vec, float(np.abs(v - ref["cka"][0]).max()),
                method + (" = auto" if auto else ""))
    X, Y = models(2, sizes[0][0], sizes[0][1], 7)
    n, d = X.shape
    idx = I.subsample_indices(n, B, 0)
    cov = list(COVARIANCE_MEASURES)
    t_loop, ref = timeit(lambda: I._latents_draws_loop(X, Y, cov, [4], idx))
    t_vec, got = timeit(lambda: I.covariance_draws(X, Y, idx, cov))
    row("Procrustes (3), mean CCA, SVCCA, PWCCA", n, d, t_loop, t_vec,
        max(float(np.abs(got[c] - ref[c][0]).max()) for c in cov), "shared scatter matrices")

    md = (f"Half-sampling (B = {B} subsets of N/2 samples), vectorised over the subsets against the per-subset loop "
          "(same run, one repeat):\n\n| measures | samples x dim | loop (s) | vectorised (s) | speed-up | max diff |\n"
          "|---|---|---|---|---|---|\n" + "\n".join(rows))
    return res, md


def spectral_cost(B: int) -> tuple[dict, str]:
    """compare() of the spectral distance on demo-sized graphs without and with its interval."""
    X, Y, a, b = demo_graphs()
    ks = [4, 8, 16]
    t0, _ = timeit(lambda: compare(a, b, ks, ["spectral"]))
    t1, df = timeit(lambda: compare(a, b, ks, ["spectral"], xa=X, xb=Y, resamples=B, seed=1))
    t2, _ = timeit(lambda: compare(a, b, ks, ["spectral"], resamples=B, seed=1))
    spec = dict(plain_seconds=t0, with_latents_seconds=t1, tables_only_seconds=t2,
                subsets=min(B, I.SPECTRAL_RESAMPLES), table=df.round(4).to_dict("records"))
    md = (f"Spectral distance on 899-sample L1 kNN graphs (k = 4, 8, 16, 20 eigenvalues): plain {t0:.2f} s; with the "
          f"interval ({spec['subsets']} subsets, graphs rebuilt per subset) {t1:.2f} s with the latents, {t2:.2f} s from "
          "the tables alone.\n\n" + df.round(4).to_markdown(index=False))
    print(md, flush=True)
    return {"spectral_interval": spec}, md


def spectral_coverage(draws: int = 150, runs: int = 60, n: int = 300, k: int = 8, n_eigs: int = 10,
                      B: int = 50) -> tuple[dict, str]:
    """Calibration of the spectral distance's half-sampling interval on synthetic data.

    A population (5 Gaussian classes in 8-d; Y = XW + noise): E[D_N], the mean spectral
    distance of the L2 kNN graphs of ``draws`` independent test sets of n samples, is the
    target; the 90 % interval of each of ``runs`` other test sets should cover it in about
    90 % of them.
    """
    rng0 = np.random.default_rng(0)
    centres, W = rng0.normal(size=(5, 8)) * 2.0, rng0.normal(size=(8, 8)) / np.sqrt(8)

    def sample(seed: int) -> tuple:
        r = np.random.default_rng(seed)
        lab = r.integers(0, 5, n)
        X = centres[lab] + r.normal(size=(n, 8))
        Y = X @ W + 0.8 * r.normal(size=(n, 8))
        ids = np.arange(n)
        return (X.astype(np.float32), Y.astype(np.float32),
                knn_table(X, k, lab, ids, metric="l2", backend="numpy"),
                knn_table(Y, k, lab, ids, metric="l2", backend="numpy"))

    vals = [compare(*sample(10_000 + s)[2:], [k], ["spectral"], n_eigs=n_eigs)["spectral"].iloc[0]
            for s in range(draws)]
    truth, sd = float(np.mean(vals)), float(np.std(vals, ddof=1))
    hits, widths = 0, []
    for s in range(runs):
        X, Y, a, b = sample(500 + s)
        df = compare(a, b, [k], ["spectral"], xa=X, xb=Y, n_eigs=n_eigs, resamples=B, seed=s, ci=0.9)
        lo, hi = float(df["spectral_lo"].iloc[0]), float(df["spectral_hi"].iloc[0])
        hits += lo <= truth <= hi
        widths.append(hi - lo)
    res = dict(target=truth, sd_over_test_sets=sd, coverage=hits / runs, mean_width=float(np.mean(widths)),
               normal_width=2 * 1.645 * sd, runs=runs, draws=draws, n=n, k=k, n_eigs=n_eigs, resamples=B)
    md = (f"Spectral interval calibration ({n} samples, k = {k}, {n_eigs} eigenvalues, {B} subsets): the 90 % interval "
          f"covered E[D_N] = {truth:.4f} (mean over {draws} independent test sets, sd {sd:.4f}) in {hits} of {runs} "
          f"test sets ({hits / runs:.0%}); mean width {np.mean(widths):.4f} against 2 x 1.645 x sd = "
          f"{2 * 1.645 * sd:.4f}.")
    print(md, flush=True)
    return {"spectral_coverage": res}, md


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--wide-dim", type=int, default=2048)
    ap.add_argument("--big-samples", type=int, default=20000)
    ap.add_argument("--models", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--half-sizes", type=int, nargs="+", default=[899, 64, 5000, 512],
                    help="pairs samples dim of the half-sampling rows")
    ap.add_argument("--only", choices=["half-sampling", "spectral", "spectral-coverage"], default=None)
    args = ap.parse_args()
    sizes = list(zip(args.half_sizes[::2], args.half_sizes[1::2], strict=True))
    if args.only:
        parts = {"half-sampling": lambda: half_sampling(args.resamples, sizes),
                 "spectral": lambda: spectral_cost(args.resamples), "spectral-coverage": spectral_coverage}
        res, md = parts[args.only]()
        res["peak_rss_mib"] = peak_rss_mib()
        write("bench_maps", res, md + f"\n\nPeak RSS {res['peak_rss_mib']:.0f} MiB.")
        return
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
    X, Y, a, b = demo_graphs()
    ks, B = [4, 8, 16], args.resamples
    iv_rows = []
    for name, ms in (("graph measures (jaccard, cns_sym, mutual_knn, hubness)",
                      ["jaccard", "cns", "cns_sym", "mutual_knn", "hubness"]),
                     ("linear CKA", ["cka"]),
                     ("Procrustes, mean CCA", ["procrustes", "mean_cca"]),
                     ("spectral distance", ["spectral"])):
        t0, _ = timeit(lambda ms=ms: compare(a, b, ks, ms, xa=X, xb=Y), repeat=3)
        t1, _ = timeit(lambda ms=ms: compare(a, b, ks, ms, xa=X, xb=Y, resamples=B, seed=1), repeat=1)
        res[f"intervals_{ms[0]}"] = dict(plain_seconds=t0, with_intervals_seconds=t1)
        iv_rows.append(f"| {name} | {t0:.3f} | {t1:.3f} | {(t1 - t0) / t0:.1f} | {B} |")
        print(iv_rows[-1], flush=True)
    half, half_md = half_sampling(B, sizes)
    spec, spec_md = spectral_cost(B)
    res.update(half)
    res.update(spec)
    half_md += "\n\n" + spec_md
    res["peak_rss_mib"] = peak_rss_mib()
    md = ("Linear-CKA map of N models (debiased): per-model terms once, then one cross term per pair, against "
          "the naive loop of `cka_linear` over the N(N-1)/2 pairs (same run, best of one).\n\n"
          "| samples x dim | path | N models | per-model terms (s) | cross terms (s) | map total (s) | naive (s) | "
          "speed-up | max diff |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
          f"Intervals on 899-sample kNN graphs (k = 4, 8, 16): `compare()` without and with `resamples={B}` "
          "(vertex bootstrap with the graphs fixed for the graph measures; half-sampling for the latents "
          "measures).\n\n| measures | plain (s) | with intervals (s) | extra cost in plain runs | B |\n"
          "|---|---|---|---|---|\n" + "\n".join(iv_rows) + "\n\n" + half_md + f"\n\nPeak RSS {res['peak_rss_mib']:.0f} MiB.")
    write("bench_maps", res, md)


if __name__ == "__main__":
    main()
