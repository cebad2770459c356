#!/usr/bin/env bash
# Reproduces models/lj_T1.5_L8_rc3.h5: MC training data at N = 50, 100, 200, 300 (sample.toml), then
# `nti train` (train.toml) on RANKS MPI ranks (results do not depend on the rank count). Run it in an
# empty directory:  bash /path/to/nti/models/recipes/lj_T1.5_L8_rc3/make.sh [NTI] [RANKS]
# An interrupted training continues from train.ckpt.h5 when the same command is run again (finished
# samples are kept). Wall time on 2 cores: sampling about 10 minutes, training about 3 hours.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nti=${1:-$here/../../../target/release/nti}
ranks=${2:-2}
source "$here/../common.sh"
recipe_sample "$here/sample.toml" 512 15083 300 200 100 50
recipe_run train "$here/train.toml"
