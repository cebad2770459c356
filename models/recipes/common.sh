# Sourced by the recipes' make.sh: MPI as root allowed, and two helpers that use $nti (the nti
# binary) and $ranks (MPI ranks; 1 = no mpirun).
#   recipe_run ARGS...                          nti ARGS on $ranks ranks
#   recipe_sample TOML VOLUME SEED_BASE N...    one MC training-data file nN.h5 per N (skipped when
#                                               present), density N / VOLUME, seed SEED_BASE + N
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}

recipe_run() { if [[ $ranks == 1 ]]; then "$nti" "$@"; else mpirun -np "$ranks" "$nti" "$@"; fi; }

recipe_sample() {
  local toml=$1 volume=$2 seed=$3 n rho
  shift 3
  for n in "$@"; do
    [[ -f n$n.h5 ]] && continue
    rho=$(python3 -c "print($n / $volume)")
    recipe_run sample "$toml" --set system.n_particles="$n" --set system.density="$rho" \
      --set output.file=\"n$n.h5\" --set run.seed=$((seed + n))
  done
}
