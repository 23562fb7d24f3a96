"""Run every benchmark one after the other (each in its own process, so one's memory and
threads do not disturb the next) and collect their Markdown into
results/benchmarks/README.md.

    python benchmarks/run_all.py            # all of them (about 15 min on 2 cores)
    python benchmarks/run_all.py knn apsp   # a selection, by short name

The GPU benchmarks (training throughput; FAISS on the GPU in ``bench_knn``) run their GPU
part only where torch / FAISS see a GPU.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from common import OUT, REPO

BENCHMARKS = ("knn", "approx_knn", "similarity", "apsp", "sampled_classgraph", "sharding", "communities", "measures",
              "maps", "scaling", "train")  # bench_<name>.py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {' '.join(BENCHMARKS)}")
    args = ap.parse_args()
    names = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; allowed: {list(BENCHMARKS)}")
    failed = []
    for name in names:
        script = REPO / "benchmarks" / f"bench_{name}.py"
        t0 = time.perf_counter()
        print(f"== {name}: python benchmarks/{script.name}", flush=True)
        rc = subprocess.run([sys.executable, str(script)], cwd=REPO).returncode
        print(f"== {name}: exit {rc}, {time.perf_counter() - t0:.0f} s", flush=True)
        if rc:
            failed.append(name)
    parts = ["# Benchmarks\n", "Written by `python benchmarks/run_all.py`; one section per benchmark.\n"]
    for md in sorted(OUT.glob("bench_*.md")):
        parts.append(md.read_text())
    (OUT / "README.md").write_text("\n".join(parts))
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
