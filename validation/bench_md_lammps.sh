#!/usr/bin/env bash
# MD throughput of nti side by side with LAMMPS on the system of LAMMPS's bench/in.lj
# (32,000 LJ atoms, fcc at rho = 0.8442, r_c = 2.5, skin 0.3, T = 1.44, NVE, dt = 0.005,
# 100 steps), on 1 and 2 MPI ranks, plus nti's Monte Carlo moves per second.
#
# Usage: validation/bench_md_lammps.sh [repeats]     (default 3; best of `repeats` for both codes)
# Env:   LMP=<lammps binary> (default: lmp, lmp_serial or lmp_mpi from PATH)
#
# What is compared, honestly:
# - LAMMPS on 2 ranks decomposes ONE 32,000-atom system over the ranks (domain decomposition).
# - nti parallelises over independent replicas, not by domain decomposition: on 2 ranks each
#   rank integrates its own full 32,000-particle replica, and the aggregate rate is
#   2 x 32,000 x 100 / (wall time of the slower rank). Both are "particle-steps per second
#   on P cores", but only LAMMPS makes a single trajectory faster with more ranks.
# - Timings exclude setup in both codes (LAMMPS "Loop time"; nti times the steps after the
#   first list build and force evaluation, plus 5 untimed warm-up steps).
# - nti rebuilds its Verlet list when a particle has moved more than skin/2 (exact);
#   LAMMPS's in.lj rebuilds every 20 steps without checking ("check no").
set -euo pipefail

repeats=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
lmp=${LMP:-}
if [ -z "$lmp" ]; then
    for c in lmp lmp_serial lmp_mpi; do
        if command -v "$c" >/dev/null; then lmp=$c; break; fi
    done
fi
[ -n "$lmp" ] || { echo "no LAMMPS binary found (install Debian's lammps package or set LMP)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpirun not found" >&2; exit 1; }

# LAMMPS's bench/in.lj, verbatim in substance.
cat > "$work/in.lj" <<'LJ'
# 3d Lennard-Jones melt (LAMMPS bench/in.lj)
variable        x index 1
variable        y index 1
variable        z index 1
variable        xx equal 20*$x
variable        yy equal 20*$y
variable        zz equal 20*$z
units           lj
atom_style      atomic
lattice         fcc 0.8442
region          box block 0 ${xx} 0 ${yy} 0 ${zz}
create_box      1 box
create_atoms    1 box
mass            1 1.0
velocity        all create 1.44 87287 loop geom
pair_style      lj/cut 2.5
pair_coeff      1 1 1.0 1.0 2.5
neighbor        0.3 bin
neigh_modify    delay 0 every 20 check no
fix             1 all nve
run             100
LJ

echo "building nti's benchmark (cargo bench --no-run) ..." >&2
bin=$(cd "$root" && cargo bench --bench md_throughput --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "md_throughput" and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { echo "could not build/find the md_throughput benchmark" >&2; exit 1; }

load() { cut -d' ' -f1-3 /proc/loadavg; }
load_before=$(load)

# Best (shortest) LAMMPS loop time over the repeats -> "seconds steps atoms"
lammps_best() {
    local np=$1 best="" line
    for _ in $(seq "$repeats"); do
        if [ "$np" = 1 ]; then
            out=$(cd "$work" && "$lmp" -in in.lj -log none 2>&1)
        else
            out=$(cd "$work" && mpirun -np "$np" "$lmp" -in in.lj -log none 2>&1)
        fi
        line=$(grep -E "^Loop time of" <<<"$out") || { echo "$out" >&2; echo "LAMMPS run failed" >&2; exit 1; }
        # Loop time of X on P procs for S steps with N atoms
        read -r t s n < <(awk '{print $4, $9, $12}' <<<"$line")
        if [ -z "$best" ] || awk -v a="$t" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best="$t $s $n"; fi
    done
    echo "$best"
}

echo "running LAMMPS ($lmp), $repeats repeat(s) per rank count ..." >&2
read -r l1_t l1_s l1_n < <(lammps_best 1)
read -r l2_t l2_s l2_n < <(lammps_best 2)
lmp_version=$("$lmp" -h 2>/dev/null | grep -m1 -E "Large-scale|LAMMPS" | sed 's/^ *//' || true)

echo "running nti, $repeats repeat(s) per rank count ..." >&2
nti1=$("$bin" --repeat "$repeats")
nti2=$(mpirun -np 2 "$bin" --md-only --repeat "$repeats")
field() { grep -m1 "^RESULT $1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
n1=$(field md particle_steps_per_s <<<"$nti1")
n2=$(field md particle_steps_per_s <<<"$nti2")
b1=$(field md builds <<<"$nti1")
b2=$(field md builds <<<"$nti2")
load_after=$(load)

model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
cores=$(lscpu | awk -F: '/^Core\(s\) per socket/{c=$2} /^Socket\(s\)/{s=$2} END{print c*s}')
threads=$(nproc)

echo
echo "Hardware: $model, $cores cores ($threads hardware threads); load average before/after: $load_before / $load_after"
echo "LAMMPS: $lmp_version"
grep -m1 "^nti " <<<"$nti1" || true
echo "System: LAMMPS bench/in.lj, N = 32000, 100 steps, best of $repeats runs each"
echo
awk -v l1="$l1_t" -v s1="$l1_s" -v a1="$l1_n" -v l2="$l2_t" -v s2="$l2_s" -v a2="$l2_n" \
    -v n1="$n1" -v n2="$n2" -v b1="$b1" -v b2="$b2" 'BEGIN {
    r1 = a1 * s1 / l1; r2 = a2 * s2 / l2;
    printf "%-8s %5s %18s %16s %16s  %s\n", "code", "ranks", "particle-steps/s", "per core", "nti/LAMMPS", "note";
    printf "%-8s %5d %18.4e %16.4e %16s  %s\n", "LAMMPS", 1, r1, r1, "", "5 list builds (every 20 steps, unchecked)";
    printf "%-8s %5d %18.4e %16.4e %16.2f  %s\n", "nti", 1, n1, n1, n1 / r1, b1 " list builds (skin/2 criterion)";
    printf "%-8s %5d %18.4e %16.4e %16s  %s\n", "LAMMPS", 2, r2, r2 / 2, "", "one system, domain decomposition";
    printf "%-8s %5d %18.4e %16.4e %16.2f  %s\n", "nti", 2, n2, n2 / 2, n2 / r2, "2 independent replicas, one per rank";
}'
echo
echo "nti Metropolis MC (1 rank):"
grep "^MC " <<<"$nti1" | sed 's/^/  /'
