#!/usr/bin/env bash
# MD throughput of nti side by side with LAMMPS on the system of LAMMPS's bench/in.lj
# (32,000 LJ atoms, fcc at rho = 0.8442, r_c = 2.5, skin 0.3, T = 1.44, NVE, dt = 0.005,
# 100 steps), on 1 and 2 MPI ranks, plus nti's Monte Carlo moves per second.
#
# Usage: validation/bench_md_lammps.sh [rounds]     (default 3; best of `rounds` runs per code
#        and rank count, LAMMPS and nti alternating)
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

# One LAMMPS run on $1 ranks -> "particle-steps/s particle-steps-per-CPU-second", from
# "Loop time of X on P procs for S steps with N atoms" and "C% CPU use with P MPI tasks ..."
# (C is the CPU time per rank over the wall time of the loop).
lammps_rate() {
    local out line cpu
    if [ "$1" = 1 ]; then
        out=$(cd "$work" && "$lmp" -in in.lj -log none 2>&1)
    else
        out=$(cd "$work" && mpirun -np "$1" "$lmp" -in in.lj -log none 2>&1)
    fi
    line=$(grep -E "^Loop time of" <<<"$out") || { echo "$out" >&2; echo "LAMMPS run failed" >&2; exit 1; }
    cpu=$(grep -m1 -E "% CPU use with" <<<"$out" | sed 's/%.*//')
    awk -v c="$cpu" '{r = $12 * $9 / $4; printf "%.6e %.6e\n", r, r / $6 / (c / 100)}' <<<"$line"
}
field() { grep -m1 "^RESULT $1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# One nti MD run on $1 ranks -> "particle-steps/s particle-steps-per-CPU-second list-builds"
nti_rate() {
    local out
    if [ "$1" = 1 ]; then
        out=$("$bin" --md-only --repeat 1)
    else
        out=$(mpirun -np "$1" "$bin" --md-only --repeat 1)
    fi
    echo "$(field md particle_steps_per_s <<<"$out") $(field md per_cpu_s <<<"$out") $(field md builds <<<"$out")"
}
max() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a + 0 > b + 0) ? a : b}'; }

# The two codes alternate, so that both see the same conditions on a shared machine.
echo "running LAMMPS ($lmp) and nti alternately, $repeats round(s) ..." >&2
l1="" l2="" n1="" n2="" c_l1="" c_l2="" c_n1="" c_n2="" b1=""
for _ in $(seq "$repeats"); do
    read -r r c < <(lammps_rate 1); l1=$(max "$r" "$l1"); c_l1=$(max "$c" "$c_l1")
    read -r r c b1 < <(nti_rate 1); n1=$(max "$r" "$n1"); c_n1=$(max "$c" "$c_n1")
    read -r r c < <(lammps_rate 2); l2=$(max "$r" "$l2"); c_l2=$(max "$c" "$c_l2")
    read -r r c _ < <(nti_rate 2); n2=$(max "$r" "$n2"); c_n2=$(max "$c" "$c_n2")
done
for v in "$l1" "$l2" "$n1" "$n2" "$c_l1" "$c_l2" "$c_n1" "$c_n2"; do
    [[ "$v" =~ ^[0-9.]+e[+-]?[0-9]+$ ]] || { echo "a benchmark run failed (rates: $l1 $l2 $n1 $n2 $c_l1 $c_l2 $c_n1 $c_n2)" >&2; exit 1; }
done
lmp_version=$("$lmp" -h 2>/dev/null | grep -m1 -E "Large-scale|LAMMPS" | sed 's/^ *//' || true)
echo "running nti's Monte Carlo benchmark ..." >&2
mc=$("$bin" --mc-only --repeat "$repeats")
load_after=$(load)

model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
cores=$(lscpu | awk -F: '/^Core\(s\) per socket/{c=$2} /^Socket\(s\)/{s=$2} END{print c*s}')
threads=$(nproc)

echo
echo "Hardware: $model, $cores cores ($threads hardware threads); load average before/after: $load_before / $load_after"
echo "LAMMPS: $lmp_version"
grep -m1 "^nti " <<<"$mc" || true
echo "System: LAMMPS bench/in.lj, N = 32000, 100 steps; best of $repeats runs each, the codes alternating"
echo
awk -v r1="$l1" -v r2="$l2" -v n1="$n1" -v n2="$n2" -v cr1="$c_l1" -v cr2="$c_l2" -v cn1="$c_n1" -v cn2="$c_n2" -v b1="$b1" 'BEGIN {
    printf "%-7s %5s %17s %13s %12s %17s %13s  %s\n", "code", "ranks", "particle-steps/s", "per core", "nti/LAMMPS",
        "per CPU-second", "nti/LAMMPS", "note";
    f = "%-7s %5d %17.4e %13.4e %12s %17.4e %13s  %s\n";
    printf f, "LAMMPS", 1, r1, r1, "", cr1, "", "5 list builds (every 20 steps, unchecked)";
    printf f, "nti", 1, n1, n1, sprintf("%.2f", n1 / r1), cn1, sprintf("%.2f", cn1 / cr1), b1 " list builds (skin/2 criterion)";
    printf f, "LAMMPS", 2, r2, r2 / 2, "", cr2, "", "one system, domain decomposition";
    printf f, "nti", 2, n2, n2 / 2, sprintf("%.2f", n2 / r2), cn2, sprintf("%.2f", cn2 / cr2), "2 independent replicas, one per rank";
}'
echo
echo "particle-steps/s: wall clock (best round); per core = that / ranks. per CPU-second: particle-steps"
echo "over the CPU time the ranks spent in the timed loop (LAMMPS: loop time x '% CPU use' x ranks;"
echo "nti: /proc thread CPU time), which other load on the machine affects far less than wall time."
echo
echo "nti Metropolis MC (1 rank):"
grep "^MC " <<<"$mc" | sed 's/^/  /'
