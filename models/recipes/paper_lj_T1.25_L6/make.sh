#!/usr/bin/env bash
# Reproduces models/paper_lj_T1.25_L6.h5: MC training data at N = 40, 80, 120, 160, 200
# (sample.toml), then `nti train` (train.toml) on RANKS MPI ranks (results do not depend on the rank
# count). Run it in an empty directory:
#   bash /path/to/nti/models/recipes/paper_lj_T1.25_L6/make.sh [NTI] [RANKS]
# An interrupted training continues from train.ckpt.h5 when the same command is run again (finished
# samples are kept).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nti=${1:-$here/../../../target/release/nti}
ranks=${2:-2}
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
run() { if [[ $ranks == 1 ]]; then "$nti" "$@"; else mpirun -np "$ranks" "$nti" "$@"; fi; }
for n in 200 160 120 80 40; do
  [[ -f n$n.h5 ]] && continue
  rho=$(python3 -c "print($n / 216)")
  run sample "$here/sample.toml" --set system.n_particles=$n --set system.density=$rho \
    --set output.file=\"n$n.h5\" --set run.seed=$((25083 + n))
done
run train "$here/train.toml"
