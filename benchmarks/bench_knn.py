"""Exact L1 kNN, N = 10,000 x 512: ours (auto backend) vs FAISS IndexFlat(METRIC_L1) and
scikit-learn brute force, in one run on the same data and threads.

    python benchmarks/bench_knn.py [--n 10000] [--d 512] [--k 16] [--threads 2]

Goal (2 CPU cores): ours <= 0.5x the FAISS time, with identical neighbours.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import timeit, versions, write

from latentgraph.graphs.knn import cpu_name, device_name, knn, resolve_knn_backend


def latent_like(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Non-negative, heavy-tailed features with uneven scales, like avgpool activations."""
    rng = np.random.default_rng(seed)
    scale = rng.gamma(2.0, 0.5, size=d).astype(np.float32)
    return (np.maximum(rng.normal(size=(n, d)), 0).astype(np.float32) * scale)


def gpu_run(args: argparse.Namespace) -> dict:
    """FAISS on the GPU at N = ``args.gpu_n`` against the CPU backend, same data, same results.

    The GPU is named without torch (the graph-gpu env has none): ``nvidia-smi``, else FAISS's GPU count.
    """
    X = latent_like(args.gpu_n, args.d, seed=1)
    # warm-up (smoke test, CUDA context, kernels): the GPU's fixed cost in a process, which
    # latentgraph.graphs.knn.GPU_MIN_N weighs against the CPU's search
    t_start, _ = timeit(lambda: knn(X[:1024], args.k, backend="faiss-gpu"))
    t_gpu, (gi, gd) = timeit(lambda: knn(X, args.k, backend="faiss-gpu"), repeat=args.repeat)
    cpu_backend = "numba"  # auto would pick faiss-gpu here
    t_cpu, (ci, cd) = timeit(lambda: knn(X, args.k, backend=cpu_backend, threads=args.threads))
    return {"device": device_name(), "cpu": cpu_name(), "n": args.gpu_n,
            "seconds_gpu_first_call_1024_rows": t_start, "seconds_gpu": t_gpu, "seconds_cpu": t_cpu, "cpu_backend": cpu_backend,
            "identical": bool(np.array_equal(gi, ci) and np.array_equal(gd, cd))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (scikit-learn: one)")
    ap.add_argument("--gpu-n", type=int, default=50_000, help="rows of the GPU run (when FAISS sees a GPU)")
    args = ap.parse_args()
    import faiss
    from sklearn.neighbors import NearestNeighbors

    X = latent_like(args.n, args.d)
    backend = resolve_knn_backend("auto", args.n, "l1")
    knn(X[:512], args.k, backend=backend, threads=args.threads)  # warm-up (numba loads its cached kernel)

    t_ours, (idx, dist) = timeit(lambda: knn(X, args.k, backend=backend, threads=args.threads), repeat=args.repeat)

    faiss.omp_set_num_threads(args.threads)

    def faiss_raw():
        index = faiss.IndexFlat(args.d, faiss.METRIC_L1)
        index.add(X)
        return index.search(X, args.k + 1)

    faiss_raw_small = faiss.IndexFlat(args.d, faiss.METRIC_L1)  # warm-up (OpenMP pool)
    faiss_raw_small.add(X[:512])
    faiss_raw_small.search(X[:512], args.k + 1)
    t_faiss, _ = timeit(faiss_raw, repeat=args.repeat)
    t_faiss_exact, (fi, fd) = timeit(lambda: knn(X, args.k, backend="faiss", threads=args.threads),
                                     repeat=args.repeat)
    nn = NearestNeighbors(n_neighbors=args.k + 1, algorithm="brute", metric="manhattan", n_jobs=args.threads)
    t_sk, _ = timeit(lambda: nn.fit(X).kneighbors(X))
    identical = bool(np.array_equal(idx, fi) and np.array_equal(dist, fd))
    gpu = gpu_run(args) if faiss.get_num_gpus() > 0 else None

    result = {
        "n": args.n, "d": args.d, "k": args.k, "threads": args.threads, "backend": backend,
        "seconds": {"ours": t_ours, "faiss_indexflat_l1": t_faiss, "faiss_backend_exact": t_faiss_exact,
                    "sklearn_brute": t_sk},
        "ratio_ours_over_faiss": t_ours / t_faiss,
        "ratio_ours_over_sklearn": t_ours / t_sk,
        "identical_to_faiss_backend": identical,
        "versions": versions("numpy", "faiss", "sklearn", "numba"),
        "gpu": gpu,
    }
    md = (f"Exact L1 kNN, N = {args.n:,} x {args.d}, k = {args.k}, {args.threads} threads.\n\n"
          "| method | seconds | ours / method |\n|---|---|---|\n"
          f"| ours (backend `{backend}`, exact, ties by index) | {t_ours:.2f} | 1.00 |\n"
          f"| FAISS `IndexFlat(METRIC_L1)` search, k+1 | {t_faiss:.2f} | {t_ours / t_faiss:.2f} |\n"
          f"| ours with backend `faiss` (FAISS + exact re-rank) | {t_faiss_exact:.2f} | {t_ours / t_faiss_exact:.2f} |\n"
          f"| scikit-learn brute force (manhattan) | {t_sk:.2f} | {t_ours / t_sk:.2f} |\n\n"
          f"Neighbours and distances identical between backends `{backend}` and `faiss`: {identical}. "
          f"Best of {args.repeat} runs (scikit-learn: one).")
    if gpu:
        md += (f"\n\nGPU ({gpu['device']}), N = {gpu['n']:,} x {args.d}, k = {args.k}: backend `faiss-gpu` (GPU "
               f"search + exact re-rank) {gpu['seconds_gpu']:.2f} s, backend `{gpu['cpu_backend']}` on the CPU "
               f"{gpu['seconds_cpu']:.2f} s ({gpu['seconds_cpu'] / gpu['seconds_gpu']:.1f}x); identical: "
               f"{gpu['identical']}. The first GPU search (1,024 rows: smoke test, CUDA and FAISS start-up) "
               f"took {gpu['seconds_gpu_first_call_1024_rows']:.2f} s; CPU: {gpu['cpu']}.")
    else:
        md += "\n\nNo GPU visible to FAISS: the GPU run (backend `faiss-gpu`) was skipped."
    write("bench_knn", result, md)


if __name__ == "__main__":
    main()
