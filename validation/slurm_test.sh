#!/usr/bin/env bash
# A real single-node Slurm test of jobscripts/train.slurm (`make slurm-test`; run as root).
#
# Installs Debian's slurm-wlm and munge if missing, writes a minimal slurm.conf for this host
# (1 node, 2 CPUs, private state and spool directories under $WORK), starts munged, slurmctld and
# slurmd without systemd, and then:
#   1. submits jobscripts/train.slurm on a tiny input (2 tasks), sends it the warning signal during
#      training (`scancel --batch --signal=USR1`, what `--signal=B:USR1@120` does before the time
#      limit), and waits while the job checkpoints, exits with code 3, requeues itself and resumes;
#   2. compares the requeued job's model and training history bitwise with an uninterrupted
#      `nti train` of the same input on 2 ranks;
#   3. submits a job with a bad input, which must fail fast (state FAILED, exit code 2);
#   4. submits jobscripts/run.slurm (the whole pipeline) on a tiny input, sends it the warning
#      signal inside a sampling replica (once the replica's periodic state save exists), waits
#      while it saves, requeues itself and resumes the replica, and compares every file of the
#      finished pipeline bitwise with an uninterrupted `mpirun -np 2 nti run` of the same input
#      (validation/same_results.py).
# Prints job ids, states and the comparison; exits non-zero on any failure. The daemons it started
# are stopped at the end (by their pid files); packages stay installed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
NTI=${NTI:-$ROOT/target/release/nti}
WORK=${WORK:-$(mktemp -d /tmp/nti-slurm.XXXXXX)}
NODE=$(hostname -s)
STEPS=${STEPS:-3000}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export SLURM_CONF=$WORK/etc/slurm.conf
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

say() { echo "slurm_test: $*"; }
die() { say "FAIL: $*"; say "logs and files kept in $WORK"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (the daemons are started without systemd)"
[ -x "$NTI" ] || die "$NTI not found; build first (cargo build --release)"

# --- packages (idempotent) ---
missing=()
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi

# --- daemons ---
mkdir -p "$WORK"/{etc,state,spool,log,job}
cat > "$SLURM_CONF" <<EOF
ClusterName=nti-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobRequeue=1
MinJobAge=600
SlurmdTimeout=30
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
MUNGE_PID=""
JOBS=()
stop_daemons() {
  [ ${#JOBS[@]} -gt 0 ] && scancel "${JOBS[@]}" 2>/dev/null && sleep 2
  for f in "$WORK/slurmd.pid" "$WORK/slurmctld.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  [ -n "$MUNGE_PID" ] && kill "$MUNGE_PID" 2>/dev/null
  sleep 1
  # Logs and files are kept after a failure (or with KEEP=1) for inspection.
  [ "$PASSED" = 1 ] && [ "${KEEP:-0}" != 1 ] && rm -rf "$WORK"
}
PASSED=0
trap stop_daemons EXIT
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then  # no working munged yet: start one
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  [ -f /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 600 /etc/munge/munge.key
  runuser -u munge -- munged || die "munged did not start"
  MUNGE_PID=$(cat /run/munge/munged.pid 2>/dev/null)
  munge -n | unmunge >/dev/null || die "munge does not work"
fi
slurmctld || die "slurmctld did not start (log: $WORK/log/slurmctld.log)"
slurmd -N "$NODE" || die "slurmd did not start (log: $WORK/log/slurmd.log)"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o "%P %D %T %c" | sed 's/^/slurm_test: partition /'
sinfo -h -o %T | grep -q idle || die "the node did not become idle (logs in $WORK/log)"

# --- inputs ---
JOB=$WORK/job
cat > "$JOB/s.toml" <<EOF
version = 1
[system]
n_particles = 20
density = 0.3
temperature = 1.25
cutoff = "min-image"
tail_correction = false
[sample]
replicas = 1
equilibration = 100
production = 400
stride = 10
rdf_bins = 0
[run]
seed = 5
[output]
file = "data.h5"
EOF
cat > "$JOB/t.toml" <<EOF
version = 1
[model]
n_radial = 4
r_cut = 2.0
hidden = [16, 16]
n_freq = 2
[train]
data = ["$JOB/data.h5"]
steps = $STEPS
batch = 6
micro_batch = 2
eval_every = 100
checkpoint_every = 100
validation_samples = 16
[run]
seed = 11
[output]
file = "train.h5"
EOF
(cd "$JOB" && RUST_LOG=warn "$NTI" sample s.toml >/dev/null) || die "nti sample failed"
t0=$(date +%s)
(cd "$JOB" && RUST_LOG=warn mpirun --oversubscribe -np 2 "$NTI" train t.toml --set 'output.file="reference.h5"' \
  >/dev/null 2>"$WORK/reference.err") || die "reference training failed: $(cat "$WORK/reference.err")"
say "reference: uninterrupted nti train on 2 ranks ($STEPS steps) took $(( $(date +%s) - t0 )) s"

state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
field() { scontrol show job "$1" 2>/dev/null | grep -o "$2=[^ ]*" | head -1 | cut -d= -f2; }

# --- 1. signal during training, requeue, resume ---
# Submitted from the repository root, as the README says (the jobscript sources jobscripts/launch.sh).
ID=$(sbatch --parsable --ntasks=2 --time=00:10:00 --output="$JOB/train-%j.log" \
  --export=ALL,NTI="$NTI",RUST_LOG=info jobscripts/train.slurm "$JOB/t.toml" "$JOB/train.h5") || die "sbatch failed"
JOBS+=("$ID")
say "submitted training job $ID"
for _ in $(seq 120); do
  [ -f "$JOB/train.ckpt.h5" ] && break
  case "$(state "$ID")" in COMPLETED|FAILED|CANCELLED) break ;; esac
  sleep 0.5
done
cd "$JOB"
[ -f train.ckpt.h5 ] || die "job $ID wrote no checkpoint (state $(state "$ID")); log: $(cat "$JOB/train-$ID.log")"
say "job $ID state $(state "$ID") with a checkpoint: scancel --batch --signal=USR1 $ID"
scancel --batch --signal=USR1 "$ID"
seen_requeue=0
for _ in $(seq 600); do
  s=$(state "$ID")
  r=$(field "$ID" Restarts)
  if [ "${r:-0}" -ge 1 ] && [ "$seen_requeue" -eq 0 ]; then
    seen_requeue=1
    # slurmctld holds a requeued job for a while (Reason=BeginTime, ~2 min here); start it now,
    # as a busy cluster's scheduler would at some point (this does not change what is tested).
    say "job $ID requeued: state $s, reason $(field "$ID" Reason), restarts $r; scontrol update StartTime=now"
    scontrol update JobId="$ID" StartTime=now
  fi
  case "$s" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
  sleep 1
done
say "job $ID final state $s, exit code $(field "$ID" ExitCode), restarts $(field "$ID" Restarts)"
grep -E "nti jobscript|interrupted|resum|exit code" "$JOB/train-$ID.log" | sed 's/^/slurm_test:   log: /'
[ "$s" = COMPLETED ] || die "job $ID ended $s; log: $JOB/train-$ID.log"
[ "$seen_requeue" -eq 1 ] || die "job $ID was not requeued"
grep -q "requeueing job $ID" "$JOB/train-$ID.log" || die "job $ID did not requeue itself"
"$PY" - "$JOB/reference.h5" "$JOB/train.h5" <<'EOF' || die "requeued training differs from the uninterrupted one"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
bad = []
for k in ["model/params", "training/step", "training/train_loss", "training/val_loss", "training/lr", "training/val_loss_by_t"]:
    x, y = a[k][()], b[k][()]
    same = x.shape == y.shape and x.tobytes() == y.tobytes()
    print(f"slurm_test:   {k}: {x.size} values, bitwise {'identical' if same else 'DIFFERENT'}")
    bad += [] if same else [k]
sys.exit(1 if bad else 0)
EOF
say "requeued job $ID ends bitwise identical to the uninterrupted run"

# --- 2. bad input fails fast ---
sed 's/^steps = .*/steps = -5/' t.toml > bad.toml
t0=$(date +%s)
BID=$(cd "$ROOT" && sbatch --parsable --ntasks=2 --time=00:05:00 --output="$JOB/bad-%j.log" \
  --export=ALL,NTI="$NTI" jobscripts/train.slurm "$JOB/bad.toml" "$JOB/bad.h5") || die "sbatch failed"
JOBS+=("$BID")
for _ in $(seq 120); do
  s=$(state "$BID")
  case "$s" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL) break ;; esac
  sleep 0.5
done
say "bad-input job $BID: state $s, exit code $(field "$BID" ExitCode), $(( $(date +%s) - t0 )) s after submission"
grep -m1 "error" "$JOB/bad-$BID.log" | sed 's/^/slurm_test:   log: /'
[ "$s" = FAILED ] && [ "$(field "$BID" ExitCode)" = "2:0" ] || die "bad-input job $BID: expected FAILED with exit code 2:0"
[ ! -e bad.h5 ] || die "bad-input job left bad.h5"

# --- 3. the whole pipeline, signalled inside a sampling replica ---
# Sampling takes ~4 s per replica on an idle machine (600,200 sweeps of 20 particles at ~170,000
# sweeps/s; 150,000 sweeps once finished in 0.9 s, before a 1 s save interval came round);
# [output] item_save_seconds = 0.1 saves a running replica's state every 0.1 s, and the signal is
# sent once the first save exists, so it lands inside the replica on a fast or a loaded machine.
cat > "$JOB/p.toml" <<EOF
version = 1
[system]
n_particles = 20
density = 0.1
temperature = 1.5
cutoff = 2.5
tail_correction = true
[sample]
replicas = 2
equilibration = 200
production = 600000
stride = 4000
rdf_bins = 0
[model]
hidden = [16, 16]
n_radial = 4
r_cut = 2.5
n_freq = 2
[train]
steps = 300
batch = 8
micro_batch = 4
eval_every = 100
checkpoint_every = 50
validation_samples = 16
[generate]
trajectories = 16
batch = 2
steps = 100
[ti]
windows = 4
window_chains = 2
[baseline]
windows = 4
equilibration = 200
production = 2000
[pipeline]
train_n = [20]
ti_n = [20]
baseline_n = [20]
[run]
seed = 3
[output]
item_save_seconds = 0.1
EOF
mkdir -p "$JOB/pipe"
# The run name is a path, so the job's files land in $JOB/pipe while it runs from the repository root.
PJ=$(cd "$ROOT" && sbatch --parsable --ntasks=2 --time=00:10:00 --output="$JOB/pipe-%j.log" \
  --export=ALL,NTI="$NTI",RUST_LOG=info jobscripts/run.slurm "$JOB/p.toml" "$JOB/pipe/pipe") || die "sbatch failed"
JOBS+=("$PJ")
say "submitted pipeline job $PJ"
mark="$JOB/pipe/pipe_stages/sample_N20.items/replica_0.state.h5"
for _ in $(seq 240); do
  [ -f "$mark" ] && break
  case "$(state "$PJ")" in COMPLETED|FAILED|CANCELLED) break ;; esac
  sleep 0.25
done
[ -f "$mark" ] || die "job $PJ saved no replica state (state $(state "$PJ")); log: $(cat "$JOB/pipe-$PJ.log")"
say "job $PJ state $(state "$PJ") with a saved replica state: scancel --batch --signal=USR1 $PJ"
scancel --batch --signal=USR1 "$PJ"
seen_requeue=0
for _ in $(seq 600); do
  s=$(state "$PJ")
  r=$(field "$PJ" Restarts)
  if [ "${r:-0}" -ge 1 ] && [ "$seen_requeue" -eq 0 ]; then
    seen_requeue=1
    say "job $PJ requeued: state $s, reason $(field "$PJ" Reason), restarts $r; scontrol update StartTime=now"
    scontrol update JobId="$PJ" StartTime=now
  fi
  case "$s" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
  sleep 1
done
say "job $PJ final state $s, exit code $(field "$PJ" ExitCode), restarts $(field "$PJ" Restarts)"
grep -E "nti jobscript|interrupted|resum|exit code" "$JOB/pipe-$PJ.log" | sed 's/^/slurm_test:   log: /'
[ "$s" = COMPLETED ] || die "job $PJ ended $s; log: $JOB/pipe-$PJ.log"
[ "$seen_requeue" -eq 1 ] || die "job $PJ was not requeued"
grep -q "interrupted by SIGUSR1 during replica" "$JOB/pipe-$PJ.log" || die "job $PJ was not stopped during sampling"
grep -q "replica 0: resuming from its saved state" "$JOB/pipe-$PJ.log" || die "job $PJ did not resume its replica"
# The uninterrupted reference (same file names under $JOB/ref; same_results.py compares recorded
# paths relative to each tree). USER as Slurm sets it, since H5MD files name their author.
mkdir -p "$JOB/ref"
t0=$(date +%s)
(cd "$JOB/ref" && USER=${USER:-$(id -un)} RUST_LOG=warn mpirun --oversubscribe -np 2 "$NTI" run "$JOB/p.toml" \
  --set output.file="\"$JOB/ref/pipe-$PJ.h5\"" --set pipeline.directory="\"$JOB/ref/pipe_stages\"" \
  >/dev/null 2>"$WORK/pipe_reference.err") || die "reference pipeline failed: $(cat "$WORK/pipe_reference.err")"
say "reference: uninterrupted nti run on 2 ranks took $(( $(date +%s) - t0 )) s"
"$PY" "$ROOT/validation/same_results.py" "$JOB/ref" "$JOB/pipe" | sed 's/^/slurm_test:   /'
[ "${PIPESTATUS[0]}" -eq 0 ] || die "the requeued pipeline differs from the uninterrupted one"
say "requeued pipeline job $PJ ends bitwise identical to the uninterrupted run"
PASSED=1
echo "slurm_test: 3 passed, 0 failed"
