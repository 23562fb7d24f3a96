"""The measures beyond the thesis at ImageNet-validation scale (N = 50,000):

- linear CKA (debiased) of two 50,000 x 512 float32 matrices in feature space: time, the
  extra memory it allocates (tracemalloc: numpy's allocations), against the 18.6 GiB one
  float64 50,000 x 50,000 kernel would take; one permutation of the null;
- the smallest Laplacian eigenvalues (``n_eigs``) of the undirected k = 4 and k = 16 L1
  kNN graphs of seeded clustered latents (one connected component, like real latents),
  checked against a dense eigensolver on a 2,000-vertex graph of the same kind;
- mutual kNN alignment and hubness on the k = 16 table;
- RBF CKA (debiased, median bandwidth rule): time and the memory numpy allocates
  (tracemalloc) at N = 10,000 and 20,000 (d = 512) and N = 50,000 (d = 64; at d = 512 the
  O(N² d) kernel products take minutes on 2 cores: the d = 512 rows give the scaling). The
  kernels are formed in row blocks of at most 2²³ entries, never N x N.

    python benchmarks/bench_measures.py [--n 50000] [--d 512] [--n-eigs 20] [--rbf 10000:512 50000:64]
    python benchmarks/bench_measures.py --only rbf      # the RBF CKA rows only
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from common import peak_rss_mib, timeit, write

from latentgraph.compare.measures import LinearCKA, cka_linear, hubness, laplacian_spectrum, mutual_knn
from latentgraph.compare.shape import RBF_BLOCK_ELEMS, cka_rbf
from latentgraph.graphs.knn import knn


def clustered(n: int, d: int, classes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, d)) * 0.6  # overlapping classes: one connected kNN graph
    return (centres[rng.integers(0, classes, n)] + rng.normal(size=(n, d))).astype(np.float32)


def traced(fn):
    """(seconds, peak bytes numpy allocated during fn, result)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    sec = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return sec, peak, out


def rbf_rows(sizes: list[str]) -> tuple[list[dict], str]:
    """RBF CKA of two related n x d matrices for each "n:d" in sizes: seconds, numpy's peak allocation."""
    out, lines = [], []
    for nd in sizes:
        n, d = (int(v) for v in nd.split(":"))
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, d)).astype(np.float32)
        Y = X @ (rng.normal(size=(d, d)) / np.sqrt(d)).astype(np.float32) + rng.normal(size=(n, d)).astype(np.float32)
        sec, peak, v = traced(lambda X=X, Y=Y: cka_rbf(X, Y))
        rows = max(1, min(1024, RBF_BLOCK_ELEMS // n))
        out.append(dict(n=n, d=d, cka_rbf=v, seconds=sec, extra_mib=peak / 2**20, block_rows=rows,
                        kernel_gib=n * n * 8 / 2**30))
        lines.append(f"| RBF CKA, debiased | two {n:,} x {d} float32 | {sec:.1f} | {peak / 2**20:.0f} MiB allocated "
                     f"(blocks of {rows} x {n:,}; one N x N float64 kernel: {n * n * 8 / 2**30:.1f} GiB); "
                     f"value {v:.4f} |")
        print(lines[-1], flush=True)
    return out, "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--graph-d", type=int, default=32)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--n-eigs", type=int, default=20)
    ap.add_argument("--rbf", nargs="+", default=["10000:512", "20000:512", "50000:64"], metavar="N:D",
                    help="sizes of the RBF CKA rows")
    ap.add_argument("--only", choices=["rbf"], default=None)
    args = ap.parse_args()
    head = "| measure | input | seconds | notes |\n|---|---|---|---|\n"
    if args.only == "rbf":
        rbf, md = rbf_rows(args.rbf)
        write("bench_measures", {"rbf_cka": rbf, "peak_rss_mib": peak_rss_mib()},
              head + md + f"\n\nPeak RSS of the whole run {peak_rss_mib():.0f} MiB.")
        return
    n, d = args.n, args.d
    res: dict = {"n": n, "d": d, "n_eigs": args.n_eigs}

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(np.float32)
    Y = (X @ (rng.normal(size=(d, d)) / np.sqrt(d)).astype(np.float32) + rng.normal(size=(n, d)).astype(np.float32))
    sec, peak, c = traced(lambda: cka_linear(X, Y))
    res.update(cka=c, cka_seconds=sec, cka_extra_mib=peak / 2**20, kernel_gib=n * n * 8 / 2**30)
    sec_b, _, cb = traced(lambda: cka_linear(X, Y, debiased=False))
    res.update(cka_biased=cb, cka_biased_seconds=sec_b)
    obj = LinearCKA(X, Y)
    sec_p, c0 = timeit(lambda: obj.value(rng.permutation(n)))
    res.update(cka_null_one_perm=c0, cka_null_seconds_per_perm=sec_p)
    X = Y = obj = None  # free 400 MB before the graphs

    # a dense check of the sparse eigensolver on a smaller graph of the same kind
    import latentgraph.compare.measures as M

    small = clustered(2000, args.graph_d, 100, 1)
    idx_s, _ = knn(small, 4)
    M.DENSE_MAX, keep = 100, M.DENSE_MAX
    sparse_vals = laplacian_spectrum(idx_s, args.n_eigs, k=4)
    M.DENSE_MAX = 5000
    dense_vals = laplacian_spectrum(idx_s, args.n_eigs, k=4)
    M.DENSE_MAX = keep
    res["eigs_max_abs_diff_vs_dense_n2000"] = float(np.abs(sparse_vals - dense_vals).max())

    Z = clustered(n, args.graph_d, args.classes, 2)
    t_knn, (idx, _) = timeit(lambda: knn(Z, 16))
    res["knn_seconds"] = t_knn
    for k in (4, 16):
        t, vals = timeit(lambda k=k: laplacian_spectrum(idx, args.n_eigs, k=k))
        res[f"spectrum_k{k}_seconds"] = t
        res[f"spectrum_k{k}"] = vals.tolist()
    idx2, _ = knn(Z + 0.3 * rng.normal(size=Z.shape).astype(np.float32), 16)
    t_m, m16 = timeit(lambda: mutual_knn(idx, idx2, 16), repeat=3)
    t_h, h16 = timeit(lambda: hubness(idx, 16), repeat=3)
    res.update(mutual_knn_seconds=t_m, mutual_knn=m16, hubness_seconds=t_h, hubness=h16)
    res["rbf_cka"], rbf_md = rbf_rows(args.rbf)
    res["peak_rss_mib"] = peak_rss_mib()
    md = (f"N = {n:,} samples.\n\n| measure | input | seconds | notes |\n|---|---|---|---|\n"
          f"| linear CKA, debiased (feature space) | two {n:,} x {d} float32 matrices | {res['cka_seconds']:.2f} | "
          f"extra memory {res['cka_extra_mib']:.0f} MiB (an N x N float64 kernel: {res['kernel_gib']:.1f} GiB); "
          f"CKA = {c:.4f} |\n"
          f"| linear CKA, biased | same | {sec_b:.2f} | CKA = {cb:.4f} |\n"
          f"| CKA permutation null | same | {sec_p:.2f} per shuffle | value {c0:.5f} |\n"
          f"| {args.n_eigs} smallest normalised-Laplacian eigenvalues | undirected k = 4 kNN graph | "
          f"{res['spectrum_k4_seconds']:.1f} | ARPACK Lanczos; on a 2,000-vertex graph max difference to the dense "
          f"solver {res['eigs_max_abs_diff_vs_dense_n2000']:.1e} |\n"
          f"| same | undirected k = 16 kNN graph | {res['spectrum_k16_seconds']:.1f} | |\n"
          f"| mutual kNN alignment | two (N, 16) tables | {t_m:.3f} | {m16:.3f} |\n"
          f"| hubness | (N, 16) table | {t_h:.3f} | skewness {h16['skewness']:.2f} |\n" + rbf_md + "\n\n"
          f"kNN graphs: exact L1, {args.graph_d}-d clustered latents ({args.classes} overlapping classes), search "
          f"{t_knn:.1f} s. Peak RSS of the whole run {res['peak_rss_mib']:.0f} MiB.")
    write("bench_measures", res, md)


if __name__ == "__main__":
    main()
