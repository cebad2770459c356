#!/usr/bin/env bash
# Installs the system packages nti needs (idempotent: only missing packages are installed).
set -euo pipefail
pkgs=(libopenmpi-dev openmpi-bin libhdf5-dev libopenblas-dev libclang-dev pkg-config gfortran python3 python3-numpy python3-h5py python3-venv)
[ "${NTI_WITH_LAMMPS:-0}" = "1" ] && pkgs+=(lammps)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2; exit 1; }
