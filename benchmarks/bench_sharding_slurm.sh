#!/usr/bin/env bash
# Sharded kNN and class graph through a real SLURM: start a one-node cluster on this machine
# (.ci/slurm-cluster.sh: slurm-wlm and munge, all its CPUs, most of its memory), run
# bench_sharding.py --slurm (S = 1, 2, 4, 8 by default, every shard one srun job) with the
# given options, then cancel what is left and stop the daemons it started.
#
# Usage: benchmarks/bench_sharding_slurm.sh [PYTHON] [bench_sharding.py options...]
#   e.g. benchmarks/bench_sharding_slurm.sh .venv/bin/python --n 200000 --sources-per-class 2
# Needs root (apt, munge, the daemons). Writes results/benchmarks/bench_sharding_slurm.{json,md}.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${1:-$repo/.venv/bin/python}
shift || true
work=$(mktemp -d /tmp/latentgraph-slurm-bench.XXXXXX)
# shellcheck source=.ci/slurm-cluster.sh
source "$repo/.ci/slurm-cluster.sh"
trap slurm_cluster_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))
slurm_cluster_start "$cpus" "$mem_mb"
cd "$repo"
PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$py" benchmarks/bench_sharding.py --slurm --node-cpus "$cpus" \
  --tmp "$work" "$@"
