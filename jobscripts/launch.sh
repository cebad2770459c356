#!/bin/bash
# Shared part of the nti jobscripts (sourced, not submitted): the MPI launcher, forwarding of
# Slurm's warning signal, and requeueing of a run that stopped on it.
#
# Launcher: $LAUNCH if set; else `srun --mpi=pmix` when Slurm offers the pmix plugin (Debian's
# and Ubuntu's Open MPI are built for PMIx and fail under plain `srun`); else mpirun with the
# job's task count. Exit codes of nti: 0 done, 1 run-time failure, 2 bad input, 3 interrupted
# after saving its work (checkpoint, finished work items): rerunning the same command resumes.

nti_launcher() {
    if [ -n "${LAUNCH:-}" ]; then
        echo "$LAUNCH"
    elif [ -n "${SLURM_JOB_ID:-}" ] && command -v srun >/dev/null \
        && srun --mpi=list 2>&1 | grep -q pmix; then
        echo "srun --mpi=pmix"
    else
        echo "mpirun -np ${SLURM_NTASKS:-1}"
    fi
}

# Runs "$@" under the launcher in the background, forwards SIGUSR1/SIGTERM/SIGINT received by
# this shell to it (srun and mpirun pass SIGUSR1 on to every rank; nti then checkpoints at its
# next safe point and exits with code 3), and requeues the job when nti stopped that way.
nti_run_requeue() {
    local launcher rc
    launcher=$(nti_launcher)
    echo "nti jobscript: launching with: $launcher (restart count ${SLURM_RESTART_COUNT:-0})"
    NTI_SIGNALLED=0
    # shellcheck disable=SC2086
    $launcher "$@" &
    local pid=$!
    trap 'NTI_SIGNALLED=1; kill -USR1 $pid 2>/dev/null' USR1 TERM INT
    # `wait` returns early when a trapped signal arrives; wait again until the launcher ends.
    while true; do
        wait $pid
        rc=$?
        kill -0 $pid 2>/dev/null || break
    done
    trap - USR1 TERM INT
    # mpirun reports 3 from its ranks; a launcher killed while forwarding may report another
    # non-zero code after the ranks saved their work, so a signal plus a non-input failure counts.
    if [ "$rc" -eq 3 ] || { [ "$NTI_SIGNALLED" -eq 1 ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; }; then
        if [ -n "${SLURM_JOB_ID:-}" ] && [ "${NTI_REQUEUE:-1}" = 1 ]; then
            echo "nti jobscript: interrupted (exit code $rc); work saved; requeueing job $SLURM_JOB_ID"
            scontrol requeue "$SLURM_JOB_ID"
        else
            echo "nti jobscript: interrupted (exit code $rc); work saved; resubmit the same command to resume"
        fi
        return 3
    fi
    return "$rc"
}
