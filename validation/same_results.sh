#!/usr/bin/env bash
# Runs the quickstart and the quick validations with one nti binary into OUT_DIR, so that two
# binaries (before and after a refactoring) can be compared bit for bit with same_results.py:
#   bash validation/same_results.sh NTI_BINARY OUT_DIR
# then: /usr/bin/python3 validation/same_results.py OUT_A OUT_B (a python3 with numpy and h5py)
set -euo pipefail
cd "$(dirname "$0")/.."
nti=$(realpath "$1"); out=$(realpath -m "$2")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
py=$([ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)
mkdir -p "$out"/{quickstart,nist,widom,neural,paper}
mpirun --oversubscribe -np 2 "$nti" run inputs/quickstart.toml --set output.file=\""$out/quickstart/quickstart.h5"\" > "$out/quickstart/log.txt" 2>&1
python3 validation/nist_table.py --quick --nti "$nti" --out "$out/nist" > "$out/nist/log.txt" 2>&1
python3 validation/widom_eos.py --quick --nti "$nti" --out "$out/widom" > "$out/widom/log.txt" 2>&1
python3 validation/neural_ti_lj.py --quick --nti "$nti" --out "$out/neural" > "$out/neural/log.txt" 2>&1
"$py" validation/paper_lj/run.py --quick --nti "$nti" --out "$out/paper" --generate 'corrector_t=[0.3]' \
  --generate corrector_steps=4 > "$out/paper/log.txt" 2>&1
# Output directories carry a timestamp; give them fixed names so that two trees pair up.
for d in nist widom neural paper; do
  sub=$(find "$out/$d" -mindepth 1 -maxdepth 1 -type d | head -1)
  [ -n "$sub" ] && mv "$sub" "$out/$d/run"
done
echo "outputs in $out"
