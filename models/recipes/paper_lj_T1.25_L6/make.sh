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
source "$here/../common.sh"
recipe_sample "$here/sample.toml" 216 25083 200 160 120 80 40
recipe_run train "$here/train.toml"
