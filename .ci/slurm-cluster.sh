# A one-node SLURM cluster on localhost (Debian's slurm-wlm and munge), for .ci/slurm-test and
# benchmarks/bench_sharding_slurm.sh. Source this file, then:
#
#   slurm_cluster_start CPUS MEM_MB   # needs $work (a scratch folder); installs slurm-wlm and
#                                     # munge if missing, writes /etc/slurm/slurm.conf (an
#                                     # existing one is kept in $work and put back), starts
#                                     # munge (unless running), slurmctld and slurmd, waits
#                                     # for the node to be idle
#   slurm_cluster_stop                # cancels what is left in the queue, stops the daemons
#                                     # slurm_cluster_start started (by pid), restores the config
#
# Needs root (apt, munge, the daemons). Job steps (srun inside a job) read the default config
# path, hence /etc/slurm/slurm.conf.

slurm_conf=/etc/slurm/slurm.conf
slurm_backup=""
slurm_pids=()  # daemons slurm_cluster_start started

slurm_cluster_start() {
  local cpus=$1 mem_mb=$2 host
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "installing slurm-wlm and munge (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
  fi
  host=$(hostname -s)
  mkdir -p "$work/spool/ctld" "$work/spool/d" "$work/log" /etc/slurm
  if [ -e "$slurm_conf" ]; then slurm_backup=$work/slurm.conf.orig; cp "$slurm_conf" "$slurm_backup"; fi
  cat >"$slurm_conf" <<CONF
ClusterName=latentgraph-ci
SlurmctldHost=$host(127.0.0.1)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

  # munge: reuse a running daemon, else start one (its key comes with the package)
  if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    su -s /bin/sh munge -c /usr/sbin/munged
    sleep 1
    slurm_pids+=("$(cat /run/munge/munged.pid)")
  fi
  slurmctld -f "$slurm_conf"
  sleep 1
  slurm_pids+=("$(cat "$work/slurmctld.pid")")
  slurmd -f "$slurm_conf"
  sleep 1
  slurm_pids+=("$(cat "$work/slurmd.pid")")
  for _ in $(seq 30); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && break
    sleep 1
  done
  sinfo
}

slurm_cluster_stop() {
  # jobs left in the queue (the cluster is ours): cancel them while slurmctld runs, so no
  # job step outlives the daemons
  if [ "${#slurm_pids[@]}" -gt 0 ] && [ -e "$work/slurmctld.pid" ]; then
    squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null || true
    for _ in $(seq 10); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 1; done
  fi
  local pid
  for pid in "${slurm_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${slurm_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  slurm_pids=()
  if [ -n "$slurm_backup" ]; then mv "$slurm_backup" "$slurm_conf"; else rm -f "$slurm_conf"; fi
  slurm_backup=""
}
