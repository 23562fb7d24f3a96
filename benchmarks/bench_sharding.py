"""Sharded kNN and class graph (knn.shards, classgraph.shards) at N = 200,000: one shard job measured,
the S = 1, 2, 4, 8 runs and 1.28 M samples projected from it.

    python benchmarks/bench_sharding.py [--n 200000] [--dim 512] [--classes 1000]
        [--knn-shards 8] [--class-shards 64] [--check-n 20000] [--threads 2]

Each shard runs as its own process, as a cluster job would (the workflow's rules call the
same functions: ``knn_shard``, ``class_distance_shard``): its wall time and peak resident
memory (its own ``VmHWM``) are measured. Shards have equal
work (the same number of query rows against the same database; whole classes of equal size
as sources), so one measured shard gives the wall time of every S: a cluster with S free
nodes finishes in one shard's time, ``T(S) = T_shard(S_measured) * S_measured / S``; this
is a projection, stated as such in the output. Before that, ``--check-n`` samples are run
for real with S = 1, 2, 4, 8 (every shard, in sequence) to check that the gathered results
equal the one-job results and that the shards' times add up to the one-job time.

With ``--slurm`` (run it through ``benchmarks/bench_sharding_slurm.sh``, which starts a
one-node SLURM cluster on this machine and stops it afterwards) the benchmark instead runs
S = 1, 2, 4, 8 for real at ``--n`` through SLURM: every shard is one job (``srun``, its own
CPUs and memory), the S jobs of a count submitted together; it measures the SLURM wall time
(first submission to last result), each job's run time and peak memory, and checks that the
gathered results equal S = 1's bitwise. On a one-node cluster the jobs share the node, so
the wall time is about the sum of the shards; S free nodes would take the slowest shard's
time. ``--sources-per-class m`` samples the class graph's sources there (the exact fold at
200,000 samples takes hours per S on 2 cores).

Data: a seeded Gaussian mixture of ``--classes`` equal classes. The kNN shard searches the
``--dim``-d latents (k = 16, the workflow's largest). The class graph's sample graph (the
exact k = 4 L1 kNN graph) is built from 16-d latents of the same mixture: the fold's cost
depends on N, the graph's edges and C, not on d, and an exact 200,000 x 512 search for it
would only repeat the kNN measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import versions, write

HERE = Path(__file__).resolve()


def mixture(n: int, dim: int, classes: int, seed: int = 0, spread: float = 0.5):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % classes)
    centres = rng.normal(size=(classes, dim)) * spread
    return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels.astype(np.int64)


def write_latents_file(path: Path, X: np.ndarray, labels: np.ndarray) -> None:
    from latentgraph.io import write_latents

    write_latents(path, X, labels, np.arange(X.shape[0], dtype=np.int64), prediction=labels,
                  metadata={"dataset": "synthetic-mixture"})


def job(kind: str, **kw) -> dict:
    """Run one shard in a fresh process; its wall time and peak resident memory (MiB).

    The peak is the worker's own ``VmHWM`` (/proc/self/status) at its end: the rusage of a
    forked child also counts the parent's memory at the fork, the latents included.
    """
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [sys.executable, str(HERE), "--worker", kind, json.dumps({**kw, "peak_file": f.name})]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(f"{kind} shard failed: {kw}")
        peak = json.loads(Path(f.name).read_text())["peak_mib"]
    return {"seconds": wall, "peak_mib": peak}


def _run_seconds() -> float:
    """Seconds since this process started (``/proc/self/stat`` field 22, clock ticks since boot)."""
    start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    return float(Path("/proc/uptime").read_text().split()[0]) - start


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(kind: str, kw: dict) -> None:
    from latentgraph.experiments import sharding as sh
    from latentgraph.io import read_knn, read_latents

    lat = read_latents(kw["latents"])
    if kind == "knn":
        sh.knn_shard(kw["out"], lat, kw["k"], kw["shard"], kw["shards"], threads=kw["threads"])
    elif kind == "class":
        part = sh.class_distance_shard(read_knn(kw["knn"]), lat, 4, kw["shard"], kw["shards"],
                                       sources_per_class=kw.get("sources_per_class"), n_jobs=kw["threads"])
        sh.write_class_shard(kw["out"], part)
    # kind "startup": a job's fixed cost only (interpreter, imports, reading the latents)
    Path(kw["peak_file"]).write_text(json.dumps({"peak_mib": _vm_hwm_mib(), "seconds": _run_seconds()}))


def slurm_jobs(kind: str, S: int, mem_mb: int, threads: int, **kw) -> dict:
    """Submit the S shards of one count as SLURM jobs together (``srun``) and wait for all.

    Returns the SLURM wall time (first submission to last exit) and, per job, its run time
    (the worker's own clock, from its start) and peak resident memory.
    """
    procs, files = [], []
    t0 = time.perf_counter()
    for i in range(S):
        fd, name = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        files.append(Path(name))
        job_kw = {k: (v.format(i=i) if isinstance(v, str) else v) for k, v in kw.items()}
        cmd = ["srun", "--quiet", "-n1", "-c", str(threads), f"--mem={mem_mb}", "-J", f"{kind}{S}_{i}",
               sys.executable, str(HERE), "--worker", kind,
               json.dumps({**job_kw, "shard": i, "shards": S, "threads": threads, "peak_file": name})]
        procs.append(subprocess.Popen(cmd))
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - t0
    if any(codes):
        raise SystemExit(f"{kind} shards of S = {S} failed: exit codes {codes}")
    jobs = [json.loads(f.read_text()) for f in files]
    for f in files:
        f.unlink()
    return {"S": S, "slurm_wall_s": wall, "job_seconds": [j["seconds"] for j in jobs],
            "job_peak_mib": [j["peak_mib"] for j in jobs]}


def slurm_sweep(args: argparse.Namespace) -> None:
    """S = 1, 2, 4, 8 at ``--n`` through a running SLURM cluster (see the module docstring)."""
    from latentgraph.experiments import sharding as sh
    from latentgraph.graphs.knn import knn_table
    from latentgraph.io import read_latents, write_knn

    m, T = args.sources_per_class, args.threads
    counts = [int(c) for c in args.counts.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench_sharding.", dir=args.tmp) as d:
        tmp = Path(d)
        X, labels = mixture(args.n, args.dim, args.classes)
        lat_path = tmp / "latents.parquet"
        write_latents_file(lat_path, X, labels)
        del X
        X16, _ = mixture(args.n, 16, args.classes)
        lat16_path = tmp / "latents16.parquet"
        write_latents_file(lat16_path, X16, labels)
        lat, lat16 = read_latents(lat_path), read_latents(lat16_path)
        knn16_table = knn_table(lat16.X, 4, lat16.labels, sample_id=lat16.sample_id, threads=T)
        knn16 = tmp / "knn16.parquet"
        write_knn(knn16, knn16_table)
        # numba compiles each kernel once per installation (then loads it from its cache): done
        # here, outside SLURM, on a small file, so that no measured job pays it
        small, small_knn = tmp / "small.parquet", tmp / "small_knn.parquet"
        write_latents_file(small, *mixture(600, args.dim, 10))
        sl = read_latents(small)
        write_knn(small_knn, knn_table(sl.X, 4, sl.labels, sample_id=sl.sample_id))
        for S in (1, 2):
            job("knn", latents=str(small), out=str(tmp / "warm.npz"), k=16, shard=0, shards=S, threads=T)
        job("class", latents=str(small), knn=str(small_knn), out=str(tmp / "warm_c.npz"), shard=0, shards=1,
            threads=T, sources_per_class=m)
        rows, ref = [], {}
        for S in counts:
            kj = slurm_jobs("knn", S, args.knn_mem_mb, T, latents=str(lat_path), out=str(tmp / f"k{S}_{{i}}.npz"),
                            k=16)
            table = sh.gather_knn_shards([tmp / f"k{S}_{i}.npz" for i in range(S)], lat)
            cj = slurm_jobs("class", S, args.class_mem_mb, T, latents=str(lat16_path), knn=str(knn16),
                            out=str(tmp / f"c{S}_{{i}}.npz"), sources_per_class=m)
            cd = sh.gather_class_distances([sh.read_class_shard(tmp / f"c{S}_{i}.npz") for i in range(S)],
                                           knn16_table, lat16)
            ref.setdefault("knn", table)
            ref.setdefault("cd", cd)
            same = bool(np.array_equal(table.indices, ref["knn"].indices)
                        and np.array_equal(table.distances, ref["knn"].distances)
                        and np.array_equal(cd.mean, ref["cd"].mean, equal_nan=True))
            rows.append({"S": S, "knn": kj, "class": cj, "equal_to_first": same})
            print(rows[-1], flush=True)
    result = {"n": args.n, "dim": args.dim, "classes": args.classes, "threads": T, "sources_per_class": m,
              "knn_mem_mb": args.knn_mem_mb, "class_mem_mb": args.class_mem_mb, "slurm": rows,
              "versions": versions("numpy", "numba", "faiss")}
    how = f"{m} sampled sources per class" if m else "all sources"
    md = [f"Through SLURM (one-node cluster, {args.node_cpus} CPUs): N = {args.n:,}, d = {args.dim}, "
          f"{args.classes:,} classes; every shard one job (`srun -c {T}`, {T} threads); kNN k = 16; class graph "
          f"k = 4 on 16-d latents, {how}. Wall = first submission to last result; run = a job's own time "
          "(interpreter start to exit); peak = its resident memory.", "",
          "| S | kNN: SLURM wall (s) | kNN: runs (s) | kNN: peak (MiB) | class: SLURM wall (s) | class: runs (s) "
          "| class: peak (MiB) | equal to S = 1 |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        k, c = r["knn"], r["class"]
        md.append(f"| {r['S']} | {k['slurm_wall_s']:.0f} | {min(k['job_seconds']):.0f}–{max(k['job_seconds']):.0f} | "
                  f"{max(k['job_peak_mib']):.0f} | {c['slurm_wall_s']:.0f} | {min(c['job_seconds']):.0f}–"
                  f"{max(c['job_seconds']):.0f} | {max(c['job_peak_mib']):.0f} | {r['equal_to_first']} |")
    argv, opts = sys.argv[1:], []
    while argv:  # the options a user passes to bench_sharding_slurm.sh (it adds --slurm, --node-cpus, --tmp)
        a = argv.pop(0)
        if a in ("--node-cpus", "--tmp"):
            argv.pop(0)
        elif a != "--slurm":
            opts.append(a)
    opts = " ".join(opts)
    write("bench_sharding_slurm", result, "\n".join(md), command=f"benchmarks/bench_sharding_slurm.sh PYTHON {opts}")


def check(tmp: Path, n: int, dim: int, classes: int, threads: int) -> list[dict]:
    """S = 1, 2, 4, 8 for real at n samples: equal results, and the shards' times add up."""
    from latentgraph.experiments import sharding as sh
    from latentgraph.graphs.knn import knn_table
    from latentgraph.io import read_latents, write_knn

    X, labels = mixture(n, dim, classes)
    lat_path = tmp / "check_latents.parquet"
    write_latents_file(lat_path, X, labels)
    X16, _ = mixture(n, 16, classes)
    lat16_path = tmp / "check_latents16.parquet"
    write_latents_file(lat16_path, X16, labels)
    lat, lat16 = read_latents(lat_path), read_latents(lat16_path)
    knn16 = tmp / "check_knn16.parquet"
    knn16_table = knn_table(lat16.X, 4, lat16.labels, sample_id=lat16.sample_id)
    write_knn(knn16, knn16_table)
    rows, ref_knn, ref_cd = [], None, None
    for S in (1, 2, 4, 8):
        kp = [tmp / f"ck{S}_{i}.npz" for i in range(S)]
        cp = [tmp / f"cc{S}_{i}.npz" for i in range(S)]
        tk = [job("knn", latents=str(lat_path), out=str(p), k=16, shard=i, shards=S, threads=threads)
              for i, p in enumerate(kp)]
        tc = [job("class", latents=str(lat16_path), knn=str(knn16), out=str(p), shard=i, shards=S, threads=threads)
              for i, p in enumerate(cp)]
        table = sh.gather_knn_shards(kp, lat)
        cd = sh.gather_class_distances([sh.read_class_shard(p) for p in cp], knn16_table, lat16)
        if S == 1:
            ref_knn, ref_cd = table, cd
        same = bool(np.array_equal(table.indices, ref_knn.indices) and np.array_equal(table.distances, ref_knn.distances)
                    and np.array_equal(cd.mean, ref_cd.mean, equal_nan=True))
        rows.append({"S": S, "knn_sum_s": sum(t["seconds"] for t in tk), "knn_max_s": max(t["seconds"] for t in tk),
                     "class_sum_s": sum(t["seconds"] for t in tc), "class_max_s": max(t["seconds"] for t in tc),
                     "equal_to_one_job": same})
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(sys.argv[2], json.loads(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--knn-shards", type=int, default=8, help="S of the measured kNN shard (shard 0 runs)")
    ap.add_argument("--class-shards", type=int, default=64, help="S of the measured class-graph shard (shard 0 runs)")
    ap.add_argument("--check-n", type=int, default=20_000, help="samples of the S = 1, 2, 4, 8 check (0: skip)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--target-n", type=int, default=1_280_000)
    ap.add_argument("--nodes", type=int, default=64, help="projection: cluster nodes")
    ap.add_argument("--node-cores", type=int, default=32, help="projection: cores per node")
    ap.add_argument("--slurm", action="store_true",
                    help="run S = 1, 2, 4, 8 through a running SLURM cluster (see bench_sharding_slurm.sh)")
    ap.add_argument("--counts", default="1,2,4,8", help="--slurm: the shard counts")
    ap.add_argument("--sources-per-class", type=int, default=None,
                    help="--slurm: sampled sources per class for the class graph (default: all)")
    ap.add_argument("--knn-mem-mb", type=int, default=4000, help="--slurm: memory of a kNN shard job")
    ap.add_argument("--class-mem-mb", type=int, default=2000, help="--slurm: memory of a class-graph shard job")
    ap.add_argument("--node-cpus", type=int, default=2, help="--slurm: the cluster node's CPUs (for the report)")
    ap.add_argument("--tmp", default=None, help="--slurm: scratch folder (on a disk all jobs see)")
    args = ap.parse_args()
    if args.slurm:
        slurm_sweep(args)
        return

    with tempfile.TemporaryDirectory(prefix="bench_sharding.") as d:
        tmp = Path(d)
        checks = check(tmp, args.check_n, args.dim, args.classes // 10, args.threads) if args.check_n else []

        from latentgraph.graphs.knn import knn_table
        from latentgraph.io import read_latents, write_knn

        X, labels = mixture(args.n, args.dim, args.classes)
        lat_path = tmp / "latents.parquet"
        write_latents_file(lat_path, X, labels)
        del X
        startup = job("startup", latents=str(lat_path))
        print("start-up (imports, reading the latents)", startup, flush=True)
        S = args.knn_shards
        knn_job = job("knn", latents=str(lat_path), out=str(tmp / "k0.npz"), k=16, shard=0, shards=S,
                      threads=args.threads)
        print("knn shard 0 of", S, knn_job, flush=True)

        X16, labels16 = mixture(args.n, 16, args.classes)
        lat16_path = tmp / "latents16.parquet"
        write_latents_file(lat16_path, X16, labels16)
        lat16 = read_latents(lat16_path)
        t0 = time.perf_counter()
        knn16 = tmp / "knn16.parquet"
        write_knn(knn16, knn_table(lat16.X, 4, lat16.labels, sample_id=lat16.sample_id, threads=args.threads))
        t_knn16 = time.perf_counter() - t0
        SC = args.class_shards
        class_job = job("class", latents=str(lat16_path), knn=str(knn16), out=str(tmp / "c0.npz"), shard=0,
                        shards=SC, threads=args.threads)
        print("class shard 0 of", SC, class_job, flush=True)

    # projections from the measured shards (equal work per shard; a job's start-up is paid once per shard)
    n, t = args.n, args.threads
    t0 = startup["seconds"]
    knn_total = (knn_job["seconds"] - t0) * S  # the work of one job, all queries, on `threads` cores
    class_total = (class_job["seconds"] - t0) * SC
    proj = []
    for s in (1, 2, 4, 8):
        proj.append({"S": s, "knn_wall_s": t0 + knn_total / s, "class_wall_s": t0 + class_total / s})
    # 1.28 M: kNN ~ N^2 d; the fold ~ N sources x N log N per Dijkstra
    r = args.target_n / n
    knn_core_s = knn_total * t * r * r
    class_core_s = class_total * t * r * r * np.log(args.target_n) / np.log(n)
    cores = args.nodes * args.node_cores
    result = {
        "n": n, "dim": args.dim, "classes": args.classes, "threads": t, "versions": versions("numpy", "numba", "faiss"),
        "checks": checks, "knn_shard": {"S": S, **knn_job}, "class_shard": {"S": SC, **class_job},
        "startup": startup, "class_knn16_seconds": t_knn16, "projection_S": proj,
        "projection_target": {"n": args.target_n, "nodes": args.nodes, "node_cores": args.node_cores,
                              "knn_core_hours": knn_core_s / 3600, "class_core_hours": class_core_s / 3600,
                              "knn_wall_s": knn_core_s / cores, "class_wall_s": class_core_s / cores},
    }
    md = [f"N = {n:,}, {args.classes:,} classes, {t} threads per job; each shard a fresh process.", ""]
    if checks:
        md += [f"Check at N = {args.check_n:,} ({args.classes // 10} classes), every shard run: gathered = one job, "
               "and the shards' times add up.", "", "| S | kNN: sum of shards (s) | kNN: slowest shard (s) | "
               "class graph: sum (s) | slowest (s) | equal to S = 1 |", "|---|---|---|---|---|---|"]
        md += [f"| {c['S']} | {c['knn_sum_s']:.1f} | {c['knn_max_s']:.1f} | {c['class_sum_s']:.1f} | "
               f"{c['class_max_s']:.1f} | {c['equal_to_one_job']} |" for c in checks]
        md.append("")
    md += ["| job (measured) | wall (s) | peak memory (MiB) |", "|---|---|---|",
           f"| start-up only (interpreter, imports, reading the {args.dim}-d latents) | {t0:.1f} | "
           f"{startup['peak_mib']:.0f} |",
           f"| kNN shard 0 of {S} ({n // S:,} queries x {n:,}, d = {args.dim}, k = 16) | {knn_job['seconds']:.1f} | "
           f"{knn_job['peak_mib']:.0f} |",
           f"| class-graph shard 0 of {SC} ({args.classes // SC} or {args.classes // SC + 1} classes of "
           f"{n // args.classes} sources; k = 4 graph of N = {n:,}) | {class_job['seconds']:.1f} | "
           f"{class_job['peak_mib']:.0f} |", "",
           "Projected (not measured) wall time with S shards on S free nodes of this machine's speed "
           "(start-up + measured work / S):", "",
           "| S | kNN (s) | class graph (s) |", "|---|---|---|"]
    md += [f"| {p['S']} | {p['knn_wall_s']:.0f} | {p['class_wall_s']:.0f} |" for p in proj]
    pt = result["projection_target"]
    md += ["", f"Projected to N = {args.target_n:,} (kNN ~ N^2 d, fold ~ N^2 log N): kNN "
           f"{pt['knn_core_hours']:.0f} core-hours, class graph {pt['class_core_hours']:.0f} core-hours; on "
           f"{args.nodes} nodes x {args.node_cores} cores (S = {cores // t} shards of {t} threads): "
           f"{pt['knn_wall_s'] / 60:.0f} min and {pt['class_wall_s'] / 60:.0f} min of work per shard, plus "
           "start-up and queueing."]
    write("bench_sharding", result, "\n".join(md))


if __name__ == "__main__":
    main()
