#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for the integration tests (needs root and Debian's apt).
#   scripts/slurm-cluster.sh up     install slurm-wlm, munge, slurmdbd and MariaDB if missing, start every daemon
#   scripts/slurm-cluster.sh down   stop the daemons this script started
# Accounting (slurmdbd + MariaDB) is part of it because submitit reads sacct to see jobs that ended outside its
# control (cancelled, or killed at the time limit). Facts: ../shared/notes/slurm.md.
set -euo pipefail

STATE=${GROKLAB_SLURM_STATE:-/var/lib/groklab-slurm}
HOST=$(hostname -s)
CPUS=$(nproc)

log() { echo "slurm-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what did not come up within ${seconds}s (logs in $STATE)"
}

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmdbd >/dev/null && command -v munged >/dev/null \
    && command -v mariadbd >/dev/null && return 0
  command -v apt-get >/dev/null || die "slurm-wlm is not installed and apt-get is missing: install slurm-wlm, munge, slurmdbd, mariadb-server"
  log "installing slurm-wlm munge slurmdbd mariadb-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm slurmdbd munge mariadb-server >/dev/null
}

start_munge() {
  mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
  chmod 0400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
  wait_for 10 munged munge -n
}

start_mariadb() {
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! pgrep -x mariadbd >/dev/null; then
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    mariadbd --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
      --skip-networking=0 --bind-address=127.0.0.1 >"$STATE/mariadb.log" 2>&1 &
    echo $! >"$STATE/mariadb.pid"
  fi
  wait_for 30 MariaDB mariadb -e "select 1"
  mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'groklab';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
}

write_configs() {
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  local memory
  memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  cat >/etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=groklab
StorageLoc=slurm_acct_db
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/slurmdbd.log
EOF
  chmod 0600 /etc/slurm/slurmdbd.conf
  cat >/etc/slurm/slurm.conf <<EOF
ClusterName=groklab
SlurmctldHost=$HOST
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/none
JobRequeue=1
MinJobAge=30
# submitit ignores the SIGTERM of scancel: the SIGKILL follows after 5 s instead of the default 30
KillWait=5
SchedulerParameters=sched_interval=1
NodeName=$HOST CPUs=$CPUS RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root (it installs packages and starts daemons)"
  mkdir -p "$STATE"
  install_packages
  start_munge
  start_mariadb
  write_configs
  pgrep -x slurmdbd >/dev/null || slurmdbd
  wait_for 30 slurmdbd sacctmgr -n list cluster
  sacctmgr -i -Q add cluster groklab >/dev/null 2>&1 || true
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
  wait_for 30 "node $HOST" sh -c "sinfo -h -N -o %T | grep -Eq '^(idle|mixed|allocated)'"
  wait_for 30 sacct sacct -n -X
  log "up: $(sinfo -h -o '%P %D %C %T')"
}

down() {
  for daemon in slurmd slurmctld slurmdbd; do pkill -x "$daemon" 2>/dev/null || true; done
  if [ -f "$STATE/mariadb.pid" ]; then kill "$(cat "$STATE/mariadb.pid")" 2>/dev/null || true; rm -f "$STATE/mariadb.pid"; fi
  pkill -x munged 2>/dev/null || true
  log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac
