"""Exact L1 kNN, N = 10,000 x 512: ours against FAISS ``IndexFlat(METRIC_L1)``, whole
processes (imports and file reading included) and warm in one process, and against this
machine's arithmetic limit.

    python benchmarks/bench_knn.py [--n 10000] [--d 512] [--k 16] [--threads 2] [--runs 5]
                                   [--lanes-per-cycle 10.67] [--skip-sklearn]

Prints and writes (results/benchmarks/bench_knn.{json,md}):

1. **whole process**: ``python -m latentgraph.cli knn LATENTS.parquet --k K --threads T`` (the
   ``latentgraph knn`` command) against a FAISS script that reads the same Parquet file
   (pyarrow, without pandas), searches ``IndexFlat(METRIC_L1)`` for k + 1 and saves the
   neighbours; fresh processes, alternated, best and median of ``--runs`` after one
   untimed run of each (numba's cache, the OS file cache); plus the start-up alone
   (the same command on 120 rows, backend numba);
2. **warm, in one process**: ``knn()`` (backend auto: the numba kernel + exact re-rank),
   the kernel alone, FAISS's search alone, ``knn()`` with backend faiss, and
   scikit-learn brute force;
3. **the arithmetic limit**: the kernel computes N (N + B) d / 2 absolute differences (each
   unordered pair once, plus the diagonal blocks of B rows). Two limits: the *model*,
   ``--lanes-per-cycle`` x the clock measured by a dependent addition chain
   (``/proc/cpuinfo`` gives the nominal clock only) x T cores; and the *empirical* peak, the
   kernel's own 4 x 3 register tile (of the form it uses for these data) on cache-resident
   blocks in T threads, no memory traffic and no candidate lists. The model's lanes per
   cycle, on AMD Zen 4 (four 256-bit vector pipes; a 512-bit operation takes two
   pipe-cycles): 32 for the ``int16`` form, the kernel's on CPUs with AVX-512 VNNI (an
   integer minimum and a ``vpdpwssd`` per 32 int16 lanes: 32 x 4 / 4); 16 for the ``min``
   form (an integer minimum and a float32 addition per 16 lanes: 16 x 4 / 4; one addition
   per lane and pair is the least any float32 L1 sum needs, so this is the machine's limit
   for float32 sums), 10.7 for the ``abs`` form (the subtraction as an FMA, the absolute
   value as a mask, the addition: 16 x 4 / 6). For the ``int16`` form the fractions of the
   float32 (16-lane) model are printed too. All limits are timed in CPU time (much less
   sensitive to other processes on a shared machine than wall time). The fraction reached
   is the limit's time over the measured time: the kernel's wall time, and its CPU time / T.

Goal (2 CPU cores): ours <= 0.5x FAISS's whole-process time, within 2x of the limit,
identical neighbours.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import REPO, timeit, versions, write

from latentgraph.graphs.knn import cpu_name, device_name, knn, resolve_knn_backend

#: the FAISS side of the whole-process comparison: read the Parquet file, search, save
FAISS_SCRIPT = """
import sys
import numpy as np
import pyarrow.parquet as pq
import faiss
path, k, threads, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
col = pq.ParquetFile(path).read(columns=["latent"]).column("latent").combine_chunks()
flat = col.flatten()  # float32 values; a buffer view (pyarrow's to_numpy would import pandas)
X = np.frombuffer(flat.buffers()[1], dtype=np.float32, count=len(flat), offset=flat.offset * 4)
X = X.reshape(len(col), col.type.list_size)
faiss.omp_set_num_threads(threads)
index = faiss.IndexFlat(X.shape[1], faiss.METRIC_L1)
index.add(X)
D, I = index.search(X, k + 1)
np.save(out, I)
"""


#: model lanes per cycle and core on AMD Zen 4 (four 256-bit vector pipes), per kernel form
LANES_PER_CYCLE = {"int16": 32 * 4 / 4, "min": 16 * 4 / 4, "abs": 16 * 4 / 6}


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


def cpu_best(fn, repeat: int) -> float:
    """Least CPU time (user + system, all threads of this process) of ``repeat`` calls.

    CPU time, not wall time: on a shared machine other processes take turns on the cores,
    which stretches wall time but not the time this process actually ran.
    """
    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


def clock_ghz() -> tuple[float, float | None]:
    """(measured, nominal) core clock in GHz.

    Measured: a dependent chain of float64 additions in numba, one per 3 cycles (the
    addition latency of AMD Zen 4 and of recent Intel cores), timed in CPU time; nominal: ``/proc/cpuinfo``'s
    ``cpu MHz`` (None when absent), which a virtual machine reports without boost.
    """
    from numba import njit

    @njit
    def chain(n: int, x: float) -> float:
        a = x
        for _ in range(n):
            a = a + x
        return a

    chain(10, 1.0)
    n = 100_000_000
    best = cpu_best(lambda: chain(n, 1.0), repeat=3)
    nominal = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                nominal = float(line.split(":", 1)[1]) / 1000
                break
    except (OSError, ValueError):
        pass
    return 3 * n / best / 1e9, nominal


def tile_peak(d: int, threads: int, block: int, form: str = "min") -> float:
    """Absolute differences per second of the kernel's 4 x 3 register tile, in ``threads`` threads.

    Each thread sweeps its own pair of cache-resident blocks of ``block`` rows over and over
    with the kernel's inner loop of the given form (``_tile16`` on int16 rows, ``_tile_min``
    or ``_tile``; no memory traffic, no candidate lists): the empirical arithmetic limit of
    the kernel's inner loop on this machine. Timed in CPU time per thread (as if the cores
    were idle).
    """
    import numba
    from numba import njit, prange

    from latentgraph.graphs._l1kernel import _int16_block, _tile_of

    @njit(parallel=True, fastmath=True)
    def sweep(blocks: np.ndarray, reps: int, out: np.ndarray, m: np.float32, use_min: bool) -> None:  # pragma: no cover - compiled
        for t in prange(blocks.shape[0]):
            A = blocks[t]
            b = A.shape[0] // 2
            dd = A.shape[1]
            s = np.float32(0.0)
            acc = np.empty((4, 3), dtype=np.float32)
            for _ in range(reps):
                for i in range(0, b, 4):
                    for j in range(b, 2 * b, 3):
                        _tile_of(A, A, i, j, dd, acc, 0, 0, m, use_min)  # the kernel's own inner loops
                        s += acc.sum()
            out[t] = s

    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        rng = np.random.default_rng(0)
        if form == "int16":
            block = _int16_block(d)
            width = -(-d // 32) * 32
            blocks = rng.integers(0, 32768, size=(threads, 2 * block, width)).astype(np.int16)
        else:
            blocks = rng.random((threads, 2 * block, d), dtype=np.float32)
        out = np.zeros(threads, dtype=np.float32)
        m = np.float32(-1.0)  # the abs tile's fma(x, -1, q) subtraction, -1 unknown to the compiler
        use_min = form == "min"
        sweep(blocks, 1, out, m, use_min)
        reps = max(1, int(2e10 / (threads * block * block * d)))  # about 1 s at 20 G/s
        best = cpu_best(lambda: sweep(blocks, reps, out, m, use_min), repeat=3) / threads
    finally:
        numba.set_num_threads(previous)
    return threads * reps * block * block * d / best


def whole_process(X: np.ndarray, k: int, threads: int, runs: int) -> dict:
    """Fresh-process times (s) of ``latentgraph knn`` and of the FAISS script on one Parquet file.

    One untimed run of each first (numba's cache, the OS file cache); then ``runs`` rounds,
    each running ours, FAISS and the start-up probe (ours on 120 rows, backend numba) once.
    """
    from latentgraph.io import write_latents

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    with tempfile.TemporaryDirectory() as tmp:
        big, small = os.path.join(tmp, "latents.parquet"), os.path.join(tmp, "small.parquet")
        labels = np.arange(len(X)) % 100
        write_latents(big, X, labels)
        write_latents(small, X[:120], labels[:120])
        cli = [sys.executable, "-m", "latentgraph.cli", "knn"]
        cmds = {
            "ours": [*cli, big, "--k", str(k), "--threads", str(threads), "-o", os.path.join(tmp, "g.parquet")],
            "faiss": [sys.executable, "-c", FAISS_SCRIPT, big, str(k), str(threads), os.path.join(tmp, "f.npy")],
            "startup": [*cli, small, "--k", str(k), "--threads", str(threads), "--backend", "numba",
                        "-o", os.path.join(tmp, "s.parquet")],
        }

        def once(cmd: list[str]) -> tuple[float, float]:
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)

        times: dict[str, list[float]] = {name: [] for name in cmds}
        cpu: dict[str, list[float]] = {name: [] for name in cmds}
        for cmd in cmds.values():
            once(cmd)
        for _ in range(runs):
            for name, cmd in cmds.items():
                wall, used = once(cmd)
                times[name].append(wall)
                cpu[name].append(used)
    out = {f"{name}_{stat}": f(v) for name, v in times.items() for stat, f in (("best", min), ("median", statistics.median))}
    out.update({f"{name}_cpu_median": statistics.median(v) for name, v in cpu.items()})
    out["runs"] = times
    out["cpu_seconds"] = cpu
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="in-process times: best of this many runs")
    ap.add_argument("--runs", type=int, default=5, help="whole-process times: this many fresh processes each")
    ap.add_argument("--lanes-per-cycle", type=float, default=None,
                    help="absolute differences per cycle and core of the model limit (default, AMD Zen 4 with four "
                    "256-bit vector pipes: 16 for the kernel's min form, two 512-bit operations per 16 lanes; 10.7 "
                    "for its abs form, three)")
    ap.add_argument("--skip-sklearn", action="store_true", help="leave out scikit-learn's brute force (about 50 s)")
    ap.add_argument("--gpu-n", type=int, default=50_000, help="rows of the GPU run (when FAISS sees a GPU)")
    args = ap.parse_args()
    import faiss

    from latentgraph.graphs._l1kernel import _int16_block, block_rows, l1_candidates, l1_form

    X = latent_like(args.n, args.d)
    n, d, k, T = args.n, args.d, args.k, args.threads
    form = l1_form(X)  # "int16" on CPUs with AVX-512 VNNI, else "min" for these non-negative latents
    lanes = args.lanes_per_cycle or LANES_PER_CYCLE[form]

    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    # 1. whole processes
    wp = whole_process(X, k, T, args.runs)

    # 2. warm, in one process
    backend = resolve_knn_backend("auto", n, "l1")
    kk = min(n, k + 1 + 8)  # what knn() asks the kernel for (margin 8)
    t_first, _ = timeit(lambda: l1_candidates(X[:512], kk, threads=T))  # numba loads its cached kernel
    knn(X[:512], k, backend=backend, threads=T)  # warm-up of the backend (when auto picks faiss)
    t_ours, (idx, dist) = timeit(lambda: knn(X, k, backend=backend, threads=T), repeat=args.repeat)
    t_kernel, _ = timeit(lambda: l1_candidates(X, kk, threads=T), repeat=args.repeat)
    t_kernel_cpu = cpu_best(lambda: l1_candidates(X, kk, threads=T), args.repeat) / T  # wall time on idle cores
    faiss.omp_set_num_threads(T)

    def faiss_raw():
        index = faiss.IndexFlat(d, faiss.METRIC_L1)
        index.add(X)
        return index.search(X, k + 1)

    small = faiss.IndexFlat(d, faiss.METRIC_L1)  # warm-up (OpenMP pool)
    small.add(X[:512])
    small.search(X[:512], k + 1)
    t_faiss, _ = timeit(faiss_raw, repeat=args.repeat)
    t_faiss_exact, (fi, fd) = timeit(lambda: knn(X, k, backend="faiss", threads=T), repeat=args.repeat)
    t_sk = None
    if not args.skip_sklearn:
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute", metric="manhattan", n_jobs=T)
        t_sk, _ = timeit(lambda: nn.fit(X).kneighbors(X))
    identical = bool(np.array_equal(idx, fi) and np.array_equal(dist, fd))

    # 3. the arithmetic limit
    ghz, ghz_nominal = clock_ghz()
    block = _int16_block(d) if form == "int16" else block_rows(d)
    peak = tile_peak(d, T, block, form)
    ops_all = float(n) * n * d  # every ordered pair
    ops_sym = ops_all / 2  # each unordered pair once
    n_pad = -(-n // block) * block
    ops_kernel = n_pad * (n_pad + block) / 2 * d  # what the symmetric kernel computes
    model_rate = lanes * ghz * 1e9 * T
    limit = {"model_all": ops_all / model_rate, "model_sym": ops_sym / model_rate,
             "peak_all": ops_all / peak, "peak_sym": ops_sym / peak}
    frac = {"kernel_vs_model": limit["model_sym"] / t_kernel, "kernel_vs_peak": limit["peak_sym"] / t_kernel,
            "kernel_cpu_vs_model": limit["model_sym"] / t_kernel_cpu,
            "kernel_cpu_vs_peak": limit["peak_sym"] / t_kernel_cpu,
            "knn_vs_model": limit["model_sym"] / t_ours, "knn_vs_peak": limit["peak_sym"] / t_ours}
    f32_sym = ops_sym / (LANES_PER_CYCLE["min"] * ghz * 1e9 * T)  # the float32 (16-lane) model, for "int16"
    frac.update({"kernel_vs_f32_model": f32_sym / t_kernel, "kernel_cpu_vs_f32_model": f32_sym / t_kernel_cpu,
                 "knn_vs_f32_model": f32_sym / t_ours})
    gpu = gpu_run(args) if faiss.get_num_gpus() > 0 else None

    result = {
        "n": n, "d": d, "k": k, "threads": T, "backend": backend,
        "whole_process_seconds": wp,
        "ratio_whole_process_best": wp["ours_best"] / wp["faiss_best"],
        "ratio_whole_process_median": wp["ours_median"] / wp["faiss_median"],
        "seconds": {"ours_first_call_512_rows": t_first, "ours": t_ours, "ours_kernel_only": t_kernel,
                    "ours_kernel_cpu_per_thread": t_kernel_cpu,
                    "faiss_indexflat_l1": t_faiss, "faiss_backend_exact": t_faiss_exact, "sklearn_brute": t_sk},
        "ratio_ours_over_faiss": t_ours / t_faiss,
        "identical_to_faiss_backend": identical,
        "load_average_before": load_before,
        "limit": {"clock_ghz_measured": ghz, "clock_ghz_nominal": ghz_nominal, "lanes_per_cycle": lanes, "form": form,
                  "tile_peak_per_s": peak, "lane_ops_all_pairs": ops_all, "lane_ops_symmetric": ops_sym,
                  "lane_ops_kernel": ops_kernel, "seconds": limit, "fraction_reached": frac},
        "versions": versions("numpy", "faiss", "sklearn", "numba"),
        "gpu": gpu,
    }
    cmd = f"python benchmarks/bench_knn.py --n {n} --d {d} --k {k} --threads {T} --runs {args.runs}"
    md = (f"Exact L1 kNN, N = {n:,} x {d}, k = {k}, {T} threads. Command: `{cmd}`.\n\n"
          f"**Whole process** (fresh processes, imports and Parquet reading included; best / median of "
          f"{args.runs}, after one untimed run of each):\n\n"
          "| command | best (s) | median (s) |\n|---|---|---|\n"
          f"| `latentgraph knn` (`python -m latentgraph.cli knn --threads {T}`, writes the graph) | "
          f"{wp['ours_best']:.2f} | {wp['ours_median']:.2f} |\n"
          f"| FAISS script (pyarrow read, `IndexFlat(METRIC_L1)` search for k+1, `np.save`) | "
          f"{wp['faiss_best']:.2f} | {wp['faiss_median']:.2f} |\n"
          f"| ratio ours / FAISS | **{wp['ours_best'] / wp['faiss_best']:.2f}** | "
          f"**{wp['ours_median'] / wp['faiss_median']:.2f}** |\n"
          f"| start-up alone: `latentgraph knn` on 120 rows, backend numba | {wp['startup_best']:.2f} | "
          f"{wp['startup_median']:.2f} |\n\n"
          f"CPU seconds (user + system, median): ours {wp['ours_cpu_median']:.2f}, FAISS {wp['faiss_cpu_median']:.2f}, "
          f"start-up {wp['startup_cpu_median']:.2f}; load average before the run: {load_before}.\n\n"
          f"**Warm, in one process** (best of {args.repeat}):\n\n"
          "| method | seconds | ours / method |\n|---|---|---|\n"
          f"| ours: `knn()`, backend `{backend}` (kernel + exact re-rank, ties by index) | {t_ours:.2f} | 1.00 |\n"
          f"| ours: the numba kernel alone (`l1_candidates`, {kk} candidates) | {t_kernel:.2f} | {t_ours / t_kernel:.2f} |\n"
          f"| the kernel's least CPU seconds / {T} (its wall time on otherwise idle cores) | {t_kernel_cpu:.2f} | "
          f"{t_ours / t_kernel_cpu:.2f} |\n"
          f"| FAISS `IndexFlat(METRIC_L1)` search, k+1 | {t_faiss:.2f} | {t_ours / t_faiss:.2f} |\n"
          f"| ours with backend `faiss` (FAISS + exact re-rank) | {t_faiss_exact:.2f} | {t_ours / t_faiss_exact:.2f} |\n"
          + (f"| scikit-learn brute force (manhattan) | {t_sk:.2f} | {t_ours / t_sk:.2f} |\n" if t_sk else "")
          + f"\nFirst call in the process (512 rows: numba loads the cached kernel): {t_first:.2f} s. "
          f"Neighbours and distances identical between backends `{backend}` and `faiss`: {identical}.\n\n"
          f"**Arithmetic limit.** N² d = {ops_all:.3g} absolute differences, N² d / 2 = {ops_sym:.3g} "
          f"with symmetry (the kernel computes {ops_kernel:.3g}: diagonal blocks of {block} rows in full). "
          f"The kernel's form for these data: `{form}`. "
          f"Model: {lanes:.3g} lanes per cycle and core x {ghz:.2f} GHz (measured by a dependent "
          f"addition chain; /proc/cpuinfo says {ghz_nominal or float('nan'):.2f} GHz) x {T} cores = "
          f"{model_rate / 1e9:.1f} G/s. Empirical peak of the kernel's 4 x 3 `{form}` tile on cache-resident blocks, "
          f"{T} threads: {peak / 1e9:.1f} G/s.\n\n"
          "| limit | all pairs (s) | symmetric (s) | kernel reached | `knn()` reached |\n|---|---|---|---|---|\n"
          f"| model | {limit['model_all']:.2f} | {limit['model_sym']:.2f} | {frac['kernel_vs_model']:.0%} | "
          f"{frac['knn_vs_model']:.0%} |\n"
          f"| empirical tile peak | {limit['peak_all']:.2f} | {limit['peak_sym']:.2f} | {frac['kernel_vs_peak']:.0%} | "
          f"{frac['knn_vs_peak']:.0%} |\n\n"
          f"Reached = the symmetric limit's time / the measured time (1 = at the limit; >= 50 % = within 2x); "
          f"with the kernel's CPU seconds / {T} instead of its wall time (the limits are CPU-timed too: "
          f"less sensitive to other processes): {frac['kernel_cpu_vs_model']:.0%} of the model, "
          f"{frac['kernel_cpu_vs_peak']:.0%} of the empirical peak."
          + (f" Against the float32 model (16 lanes per cycle and core, {f32_sym:.2f} s with symmetry), which the "
             f"`int16` form's integer sums are not bound by: kernel {frac['kernel_vs_f32_model']:.0%} "
             f"({frac['kernel_cpu_vs_f32_model']:.0%} by CPU time), `knn()` {frac['knn_vs_f32_model']:.0%}."
             if form == "int16" else ""))
    if gpu:
        md += (f"\n\nGPU ({gpu['device']}), N = {gpu['n']:,} x {d}, k = {k}: backend `faiss-gpu` (GPU "
               f"search + exact re-rank) {gpu['seconds_gpu']:.2f} s, backend `{gpu['cpu_backend']}` on the CPU "
               f"{gpu['seconds_cpu']:.2f} s ({gpu['seconds_cpu'] / gpu['seconds_gpu']:.1f}x); identical: "
               f"{gpu['identical']}. The first GPU search (1,024 rows: smoke test, CUDA and FAISS start-up) "
               f"took {gpu['seconds_gpu_first_call_1024_rows']:.2f} s; CPU: {gpu['cpu']}.")
    else:
        md += "\n\nNo GPU visible to FAISS: the GPU run (backend `faiss-gpu`) was skipped."
    write("bench_knn", result, md)


if __name__ == "__main__":
    main()
