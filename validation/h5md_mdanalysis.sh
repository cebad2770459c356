#!/usr/bin/env bash
# Runs validation/h5md_mdanalysis.py (nti's H5MD trajectory read by MDAnalysis, RDF compared with
# nti's) in a virtual environment with MDAnalysis and h5py from PyPI. The environment is created
# once and cached (NTI_MDA_VENV, default ~/.cache/nti/mdanalysis-venv); it is rebuilt when the
# pinned requirements change or it no longer imports. Extra arguments go to the Python script.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${NTI_MDA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/nti/mdanalysis-venv}
REQ="MDAnalysis==2.11.0 h5py>=3.8"
NTI=${NTI:-target/release/nti}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if [ "$(cat "$VENV/.nti-requirements" 2>/dev/null)" != "$REQ" ] \
  || ! "$VENV/bin/python" -c "import MDAnalysis, h5py" 2>/dev/null; then
  echo "h5md_mdanalysis: creating $VENV ($REQ)"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV" || { echo "h5md_mdanalysis: '$PY -m venv' failed; install python3-venv (bash .ci/setup.sh)" >&2; exit 1; }
  # shellcheck disable=SC2086 # word splitting of the requirement list is intended
  "$VENV/bin/pip" install -q $REQ
  echo "$REQ" > "$VENV/.nti-requirements"
fi
[ -x "$NTI" ] || { echo "h5md_mdanalysis: $NTI not found; build first (cargo build --release)" >&2; exit 1; }
exec "$VENV/bin/python" validation/h5md_mdanalysis.py --nti "$NTI" "$@"
