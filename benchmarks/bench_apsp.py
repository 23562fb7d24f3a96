"""Benchmark: all-pairs shortest paths + class aggregation (the class graph's eq. 4.2).

Compares, on the same undirected k = 4 kNN graph of synthetic latents (a seeded Gaussian
mixture, one cluster per class, overlapping enough that the graph is connected like a real
latent kNN graph):

- networkx: ``single_source_dijkstra_path_length`` per source, each row folded into the
  C x C class sums with numpy; timed on a random subset of sources and scaled to all N;
- latentgraph.graphs.shortest_paths.class_path_sums with each routine - numba (compiled Dijkstra / BFS,
  threads), scipy (``csgraph.dijkstra``, processes) and igraph (``Graph.distances``,
  processes) - on one core and on all cores, weighted (L1 edge lengths) and in hops; every
  source, the real thing.

It checks that the rows networkx computed equal ours, prints the speed-up, and records the
peak resident memory of the process tree (psutil: RSS of this process + unique memory of the workers, sampled every 50 ms) to show that memory
stays O(jobs * batch * N + C^2): no N x N matrix. numba's kernels are loaded (compiled the
first time, then cached) before the timings. ``--large N`` adds one run at N vertices
(e.g. 50,000 = the ImageNet validation set) with the routine ``auto`` picks.

Writes ``<out>/bench_apsp.json`` and ``<out>/bench_apsp.md``.

    python benchmarks/bench_apsp.py                       # 10,000 vertices, 100 classes
    python benchmarks/bench_apsp.py --large 50000 --large-classes 1000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (puts the checkout's own library first on the path)

from latentgraph.graphs._pathkernel import HAVE_NUMBA  # noqa: E402
from latentgraph.graphs.knn import edges, knn  # noqa: E402
from latentgraph.graphs.shortest_paths import class_path_sums, distance_blocks, to_csr  # noqa: E402
from latentgraph.utils import default_jobs  # noqa: E402


class PeakRSS:
    """Peak memory of this process and its worker processes, sampled in a thread.

    This process counts with its resident set (RSS); forked workers with their unique set
    (USS), since the pages they share with this process are already counted. Without psutil
    it falls back to the kernel's peak RSS of this process (workers not counted).
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> int:
        try:
            import psutil
        except ImportError:  # pragma: no cover
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_full_info().uss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def machine() -> dict:
    """The machine (benchmarks/common.py) with this benchmark's library versions and load."""
    return {**common.machine(), "cores_usable": default_jobs(),
            **common.versions("numpy", "scipy", "igraph", "networkx"),
            "load_average_start": list(os.getloadavg())}


def make_graph(n: int, n_classes: int, dim: int, k: int, spread: float, seed: int):
    """Labels and the undirected kNN edge list of a seeded Gaussian mixture."""
    rng = np.random.default_rng(seed)
    labels = np.sort(rng.integers(0, n_classes, n))
    labels = rng.permutation(labels)
    centres = rng.normal(size=(n_classes, dim)) * spread
    X = (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32)
    idx, dist = knn(X, k, metric="l1")
    s, t, w = edges(idx, distances=dist)
    return labels, s, t, w


def networkx_fold(n, s, t, w, labels, sources, weighted):
    """networkx Dijkstra from each source, folded into class sums; returns (seconds, rows)."""
    import networkx as nx

    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_weighted_edges_from(zip(s.tolist(), t.tolist(), (w if weighted else np.ones_like(w)).tolist(), strict=True))
    classes, pos = np.unique(labels, return_inverse=True)
    sums = np.zeros((classes.size, classes.size))
    rows = {}
    c0, t0 = cpu_seconds(), time.perf_counter()
    for src in sources:
        lengths = nx.single_source_dijkstra_path_length(G, int(src), weight="weight")
        tgt = np.fromiter(lengths.keys(), dtype=np.int64, count=len(lengths))
        d = np.fromiter(lengths.values(), dtype=np.float64, count=len(lengths))
        np.add.at(sums[pos[src]], pos[tgt], d)
        rows[int(src)] = (tgt, d)
    return time.perf_counter() - t0, cpu_seconds() - c0, rows


def check_rows(n, s, t, w, rows, weighted) -> float:
    """Largest |ours - networkx| over the networkx rows (ours: scipy blocks)."""
    A = to_csr(n, s, t, w if weighted else None)
    src = np.array(sorted(rows))
    worst = 0.0
    for batch, D in distance_blocks(A, batch_size=64, weights="weight" if weighted else None, sources=src):
        for i, v in enumerate(batch):
            tgt, d = rows[int(v)]
            assert np.isfinite(D[i]).sum() == tgt.size, "reachable sets differ"
            worst = max(worst, float(np.max(np.abs(D[i, tgt] - d))))
    return worst


def cpu_seconds() -> float:
    """CPU time of this process plus its finished (waited-for) children."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed_run(n, s, t, w, labels, *, backend, jobs, weighted, batch_size):
    with PeakRSS() as mem:
        c0, t0 = cpu_seconds(), time.perf_counter()
        r = class_path_sums(n, s, t, w, labels, weighted=weighted, backend=backend, n_jobs=jobs,
                            batch_size=batch_size)
        seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return seconds, cpu, mem.peak, mem.peak - mem.start, r


def bench(n, n_classes, args, large=False) -> dict:
    print(f"\n== graph: {n} vertices, {n_classes} classes, dim {args.dim}, k {args.k}", flush=True)
    t0 = time.perf_counter()
    labels, s, t, w = make_graph(n, n_classes, args.dim, args.k, args.spread, args.seed)
    from scipy.sparse import csgraph

    n_comp = int(csgraph.connected_components(to_csr(n, s, t, w), directed=False)[0])
    print(f"   kNN graph: {s.size} edges, {n_comp} component(s) ({time.perf_counter() - t0:.1f} s)", flush=True)
    out: dict = {"n": n, "classes": n_classes, "edges": int(s.size), "components": n_comp, "runs": []}
    if HAVE_NUMBA:  # load (or compile, the first time) the cached kernels outside the timings
        for weighted in (True, False):
            class_path_sums(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), np.zeros(3, dtype=np.int64),
                            weighted=weighted, backend="numba")
    rng = np.random.default_rng(args.seed + 1)
    jobs_all = args.jobs or default_jobs()
    modes = [True] if large else [True, False]
    for weighted in modes:
        mode = "l1" if weighted else "hops"
        sources = rng.choice(n, size=min(args.nx_sources, n), replace=False)
        nx_s, nx_cpu, rows = networkx_fold(n, s, t, w, labels, sources, weighted)
        per = nx_s / len(sources)
        per_cpu = nx_cpu / len(sources)
        err = check_rows(n, s, t, w, rows, weighted)
        nx_total = per * n
        print(f"   networkx {mode}: {1e3 * per:.2f} ms/source on {len(sources)} sources -> {nx_total:.0f} s for all "
              f"{n} (estimate); max |difference| to ours {err:.1e}", flush=True)
        entry = {"weights": mode, "networkx_ms_per_source": 1e3 * per, "networkx_cpu_ms_per_source": 1e3 * per_cpu,
                 "networkx_sources_timed": len(sources),
                 "networkx_total_s_estimate": nx_total, "max_abs_difference": err, "ours": []}
        if large:
            configs = [("auto", jobs_all)]
        else:
            backends = ("numba", "scipy", "igraph") if HAVE_NUMBA else ("scipy", "igraph")
            configs = [(b, j) for b in backends for j in sorted({1, jobs_all})]
        for backend, jobs in configs:
            sec, cpu, peak, grew, r = timed_run(n, s, t, w, labels, backend=backend, jobs=jobs, weighted=weighted,
                                     batch_size=args.batch_size)
            ratio = nx_total / sec
            cpu_ratio = per_cpu * n / cpu
            print(f"   ours {mode} backend={r.backend} jobs={r.n_jobs}: {sec:.1f} s ({1e3 * sec / n:.3f} ms/source), "
                  f"CPU {cpu:.1f} s, peak memory {peak / 2**20:.0f} MiB (+{grew / 2**20:.0f}), {ratio:.1f}x networkx (CPU time: "
                  f"{cpu_ratio:.1f}x)", flush=True)
            entry["ours"].append({"backend": r.backend, "jobs": r.n_jobs, "seconds": sec, "ms_per_source": 1e3 * sec / n,
                                  "cpu_seconds": cpu, "peak_rss_mib": peak / 2**20,
                                  "peak_increase_mib": grew / 2**20, "speedup_vs_networkx": ratio,
                                  "cpu_speedup_vs_networkx": cpu_ratio})
        out["runs"].append(entry)
    out["dense_matrix_gib"] = n * n * 8 / 2**30
    out["block_mib_per_job"] = args.batch_size * n * 8 / 2**20
    return out


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = ["# APSP + class aggregation benchmark", "",
             f"Machine: {m['cpu']}, {m['cores_usable']} usable cores, {m['memory_gib']} GiB; Python {m['python']}, "
             f"numpy {m['numpy']}, scipy {m['scipy']}, igraph {m['igraph']}, networkx {m['networkx']}; load average "
             f"at start {m['load_average_start'][0]:.2f}, at end {m['load_average_end'][0]:.2f}.", "",
             f"Command: `{result['command']}`", ""]
    for g in result["graphs"]:
        lines += [f"## {g['n']:,} vertices, {g['classes']} classes ({g['edges']:,} undirected edges, "
                  f"{g['components']} component(s))", "",
                  "| weights | routine | jobs | time (s) | ms / source | CPU (s) | peak memory (MiB) | of which the run (MiB) "
                  "| speed-up vs networkx | CPU-time ratio |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for run in g["runs"]:
            nx_cpu = run["networkx_cpu_ms_per_source"] * g["n"] / 1e3
            lines.append(f"| {run['weights']} | networkx (estimate from {run['networkx_sources_timed']} sources) | 1 | "
                         f"{run['networkx_total_s_estimate']:.0f} | {run['networkx_ms_per_source']:.2f} | {nx_cpu:.0f} "
                         "| | | 1 | 1 |")
            for o in run["ours"]:
                lines.append(f"| {run['weights']} | {o['backend']} | {o['jobs']} | {o['seconds']:.1f} | "
                             f"{o['ms_per_source']:.3f} | {o['cpu_seconds']:.1f} | {o['peak_rss_mib']:.0f} | "
                             f"{o['peak_increase_mib']:.0f} | "
                             f"{o['speedup_vs_networkx']:.1f}x | {o['cpu_speedup_vs_networkx']:.1f}x |")
        lines += ["", f"A dense N x N float64 matrix would take {g['dense_matrix_gib']:.2f} GiB; one block of "
                      f"{result['batch_size']} sources takes {g['block_mib_per_job']:.0f} MiB per scipy/igraph job (numba stores no "
                      "distance row: O(N) scratch per thread).", ""]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10000, help="vertices of the main graph (default 10000)")
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--k", type=int, default=4)
    p.add_argument("--spread", type=float, default=0.5, help="scale of the class centres (overlap; default 0.5)")
    p.add_argument("--nx-sources", type=int, default=40, help="sources networkx is timed on (default 40)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all usable cores)")
    p.add_argument("--large", type=int, default=0, help="also run one graph of this many vertices (e.g. 50000)")
    p.add_argument("--large-classes", type=int, default=1000)
    p.add_argument("--skip-main", action="store_true", help="only the --large run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/benchmarks")
    args = p.parse_args()
    result = {"machine": machine(), "command": "python " + " ".join(sys.argv), "batch_size": args.batch_size,
              "graphs": []}
    if not args.skip_main:
        result["graphs"].append(bench(args.n, args.classes, args))
    if args.large:
        result["graphs"].append(bench(args.large, args.large_classes, args, large=True))
    result["machine"]["load_average_end"] = list(os.getloadavg())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "bench_apsp" if not args.skip_main else f"bench_apsp_{args.large}"
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text(markdown(result))
    print(f"\nwrote {out / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
