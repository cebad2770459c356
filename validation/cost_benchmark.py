#!/usr/bin/env python3
"""Cost benchmark: Neural TI against conventional TI + MBAR (issue "Neural TI free energies").

Question: the wall time and core-seconds needed to reach a standard error of 0.1 kT on
beta*A_ex at N = 200 (Lennard-Jones, T = 1.5, box L = 8, r_c = 3 with tail corrections) by
  - Neural TI, training counted and not counted, and
  - conventional TI + MBAR along the soft-core lambda path (MC at K uniform lambda windows);
and the cost of a whole beta*mu_ex(rho) isotherm of at least 30 densities both ways.

Method: pilot calculations, then an explicit extrapolation (printed with the numbers).
Every stage is its own `nti` process (one input, one log, one results file per stage, all kept in
the output directory), run one at a time; each is timed from outside (wall clock, and the CPU time
of the process tree from wait4); core-seconds = ranks x wall.

  1. Training data: `nti sample` (Metropolis MC, trajectories on) at each N of --isotherm-n
     (full: N = 50, 200, 350, rho = 0.10 .. 0.68; moderate: 50, 200, 300); `nti train`: one model on all of them.
  2. Neural TI at N0 = 200 with a fixed estimator configuration: first a pilot run with equal steps
     in every window (another seed), then the windows with their production allocated by it
     ([ti] window_pilot: Neyman, n_j ~ |w_j| a_j, same total), at two sampling efforts s = 1 and
     s = F (--factor, default 4, 2 with --moderate; F x the windows' production steps, another
     seed; chains, warm-up and the reverse-SDE trajectories fixed, as the baseline's equilibration):
       - headline estimator "windows-gl<K>-mala-stein" (K Metropolis-corrected Gauss-Legendre windows
         alone with the Fokker-Planck control variate, [ti] window_stein_probes = 4 by default; the
         estimate nti's /ti/fit and the verdicts use); its stderr is the one that is
         extrapolated, and the pilot run is a fixed cost of it; the run is `nti ti` with windows = K,
         ais_chains = 0 (its reverse-SDE trajectories are counted; the windows' chains start from
         their own); >= 2 chains per window, so that nti's between-chain check of the window errors
         applies;
       - "windows-gl<K>-mala" (the same windows without the control variate), same run;
       - the headline estimator of the pilot run itself (equal steps: the allocation's effect);
       - "reverse-sde-trapezoid" (uncorrected reverse SDE alone), costed by its own `nti ti` run
         with windows = 0 (reverse SDE only; its trajectories scale with s);
     and the pilot and the allocated run at the other --isotherm-n (s = 1) for the N-scaling.
  3. Conventional: `nti baseline` (K_b uniform lambda windows, MC, MBAR over the same windows;
     K_b = 48 full, 40 moderate: at N = 200 K_b = 12 leaves neighbour overlaps of ~1e-3 and MBAR's
     error does not shrink with sampling) at N0 with production P and F x P (another seed), and at
     the other --isotherm-n with P;
     unless --no-widom, `nti sample` with Widom insertions at each --isotherm-n.

Extrapolation model (sampling-limited estimators):
     stderr(s) = stderr_pilot * sqrt(s_pilot / s)        (independent samples)
     cost(s)   = c_fixed + c_sampling * s                (c_fixed: equilibration, set-up)
  so  cost to stderr e* = c_fixed + (cost_pilot - c_fixed) * (stderr_pilot / e*)^2.
  c_fixed and c_sampling come from a straight-line fit of CPU seconds of the two pilots at N0
  (fixed fraction applied to wall and core-seconds alike); the extrapolation starts from the
  larger pilot. Training data and training are fixed costs (counted or not). The second pilot
  checks the model: predicted stderr_F = stderr_1 / sqrt(F) against the measured one, and the
  cost ratio against c(F)/c(1). Bias (e.g. of the uncorrected reverse SDE) is NOT part of the
  criterion: only the standard error is.

Isotherm (>= 30 densities, N_i evenly spaced over the --isotherm-n range, beta*mu_ex(N) =
beta*A_ex(N+1) - beta*A_ex(N) from two independent runs, each to stderr e*/sqrt(2), so that
stderr(beta*mu_ex) = e*): per-N cost to stderr 0.1 kT is measured at the --isotherm-n and
interpolated piecewise as a power law in N (log-log), never extrapolated outside the measured range;
  Neural TI   = training data at the --isotherm-n + one training + sum_i [TI(N_i) + TI(N_i + 1)];
  ladder      = training + TI at every N in the range (grand-canonical reweighting needs them all);
  TI + MBAR   = sum_i [baseline(N_i) + baseline(N_i + 1)];
  Widom       = sum_i Widom run at N_i to stderr e* (valid while insertions succeed);
  conventional best = per density the cheaper of TI + MBAR and Widom.

The machine is shared: the script prints the CPU model, core count and load average at start and
end (and per run in runs.json). CPU seconds are the most load-robust measure; wall and core-seconds
(ranks x wall) grow with the load of other jobs.

    python3 validation/cost_benchmark.py --quick       # N0 = 20: checks that the script runs (< 1 min)
    python3 validation/cost_benchmark.py --moderate    # smaller pilots, same system (~25 CPU-minutes)
    python3 validation/cost_benchmark.py               # full pilots (several CPU-hours)

Options: --out DIR (parent of the new run directory), --reuse DIR (continue in an earlier run
directory: finished stages with identical inputs are read back), --ranks R (MPI ranks per stage,
default 1), --factor F (default 4; 2 with --moderate), --target E (kT, default 0.1), --points M
(isotherm densities, default 30), --isotherm-n N1,N2,... , --no-widom, --nti PATH, --set KEY=VALUE (passed to every stage).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nti_runner import find_nti, fresh_output_dir, freeze_binary  # noqa: E402

# The pieces live in sibling modules (one concept each); every name this script used to define
# is imported here, so that `from cost_benchmark import ...` keeps working:
#   cost_stages.py  the system, the machine, the stage inputs, running a stage, the stage sequence
#   cost_model.py   Cost, the extrapolation to a target stderr, the per-N interpolation
#   cost_report.py  estimators at N0, the printed tables, benchmark.json
from cost_model import Cost, PerN, fixed_fraction, isotherm_ns, loglog_slope, to_target  # noqa: E402,F401
from cost_report import (  # noqa: E402,F401
    Report, f_e, f_s, n0_estimators, report_isotherm, report_n0, write_benchmark_json,
)
from cost_stages import (  # noqa: E402,F401
    CUTOFF, SEED, SIDE, TEMPERATURE, VOLUME, Plan, Runner, Stages, baseline_input, fmt_load, machine,
    provenance_wall, result, run_stages, sample_input, system_toml, ti_input, train_input,
)

PRESETS = {
    "full": dict(
        n0=200, isotherm_n=[50, 200, 350],
        replicas=2, equilibration=2000, production=20000, stride=20,
        steps=6000, lr_decay_every=3600, eval_every=300, hidden="[64, 64]",
        gen_steps=1000, trajectories=64, windows=24, window_chains=2, window_warmup=300, window_steps=500,
        base_windows=48, base_equilibration=1000, base_production=6000, base_stride=10,
        widom_equilibration=2000, widom_production=10000, widom_stride=10, widom_insertions=200, factor=4,
    ),
    "moderate": dict(
        n0=200, isotherm_n=[50, 200, 300],
        replicas=2, equilibration=1000, production=10000, stride=20,
        steps=2000, lr_decay_every=1200, eval_every=200, hidden="[32, 32]",
        gen_steps=1000, trajectories=8, windows=24, window_chains=2, window_warmup=200, window_steps=300,
        base_windows=40, base_equilibration=500, base_production=1500, base_stride=10,
        widom_equilibration=1000, widom_production=4000, widom_stride=10, widom_insertions=200, factor=2,
    ),
    "quick": dict(
        n0=20, isotherm_n=[10, 20, 40],
        replicas=2, equilibration=200, production=2000, stride=10,
        steps=300, lr_decay_every=200, eval_every=100, hidden="[16, 16]",
        gen_steps=200, trajectories=8, windows=8, window_chains=2, window_warmup=50, window_steps=100,
        base_windows=6, base_equilibration=200, base_production=1000, base_stride=10,
        widom_equilibration=200, widom_production=1000, widom_stride=10, widom_insertions=50, factor=4,
    ),
}



# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="tiny N and budgets: checks that the script runs, not for numbers")
    g.add_argument("--moderate", action="store_true", help="smaller pilots at the full system (N0 = 200)")
    ap.add_argument("--out", help="parent directory of the new run directory")
    ap.add_argument("--reuse", metavar="DIR", help="continue in an earlier run directory (finished stages are read back)")
    ap.add_argument("--ranks", type=int, default=1, help="MPI ranks per stage (1 = no mpirun; default 1)")
    ap.add_argument("--factor", type=int, help="sampling effort of the second pilot (default 4; 2 with --moderate)")
    ap.add_argument("--target", type=float, default=0.1, help="target standard error in kT (default 0.1)")
    ap.add_argument("--points", type=int, default=30, help="isotherm densities (default 30)")
    ap.add_argument("--isotherm-n", help="comma-separated N at which the per-N cost is measured (include N0)")
    ap.add_argument("--no-widom", action="store_true", help="skip the Widom runs")
    ap.add_argument("--nti", help="nti binary (default $NTI or target/release/nti)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="input override for every stage")
    return ap.parse_args(argv)


def make_plan(a: argparse.Namespace) -> Plan:
    """The preset's budgets with the command-line overrides (exits on a bad --factor)."""
    preset = "quick" if a.quick else "moderate" if a.moderate else "full"
    p = dict(PRESETS[preset])
    if a.isotherm_n:
        p["isotherm_n"] = sorted({int(x) for x in a.isotherm_n.split(",")})
    n0, ns_iso, fac, target = p["n0"], p["isotherm_n"], a.factor or p["factor"], a.target
    if n0 not in ns_iso:
        ns_iso = sorted(ns_iso + [n0])
    if fac < 2:
        sys.exit("error: --factor must be >= 2")
    return Plan(preset, p, n0, ns_iso, fac, target)


def run_directory(a: argparse.Namespace, preset: str) -> tuple[Path, Path]:
    """The run directory and the binary frozen in it (--reuse: the earlier run's)."""
    if a.reuse:
        work = Path(a.reuse).resolve()
        nti = work / "nti"
        if not nti.is_file():
            sys.exit(f"error: --reuse {work}: no frozen binary {nti}")
    else:
        work = fresh_output_dir(a.out, f"cost_benchmark_{preset}_")
        nti = freeze_binary(find_nti(a.nti), work)
    return work, nti


def report_start(rep: Report, a: argparse.Namespace, plan: Plan, work: Path, nti: Path, m0: dict) -> None:
    """settings.json and the banner: run directory, binary, machine, load, system."""
    preset, n0, ns_iso, fac = plan.preset, plan.n0, plan.ns_iso, plan.fac
    (work / "settings.json").write_text(json.dumps(dict(preset=preset, params=plan.p, factor=fac, target=plan.target,
                                                        points=a.points, ranks=a.ranks, sets=a.set,
                                                        machine_start=m0, argv=sys.argv), indent=1))
    rep(f"nti cost benchmark ({preset}{': NOT FOR NUMBERS, checks that the script runs' if a.quick else ''})")
    rep(f"run directory: {work}  (every input, log, results file and record.json per stage)")
    rep(f"binary: {nti}")
    rep(f"machine: {m0['cpu_model']}, {m0['logical_cpus']} logical CPUs ({m0['cpu_mhz']} MHz), host {m0['host']}, "
        f"kernel {m0['kernel']}")
    rep(f"load average at start (1/5/15 min): {fmt_load(m0['loadavg'])}  -- the machine is SHARED with other jobs; "
        f"wall and core-seconds include their interference, CPU seconds much less so")
    rep(f"system: LJ T = {TEMPERATURE}, L = {SIDE} (V = {VOLUME:.0f}), r_c = {CUTOFF} + tails; N0 = {n0} "
        f"(rho = {n0 / VOLUME:.4f}); per-N costs at N = {ns_iso}; ranks per stage {a.ranks}; second pilot x{fac}")
    rep("")


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    plan = make_plan(a)
    work, nti = run_directory(a, plan.preset)
    rep = Report(work / "report.txt")
    m0 = machine()
    report_start(rep, a, plan, work, nti, m0)
    runner = Runner(nti, work, a.ranks, a.set, bool(a.reuse))
    t_start = time.monotonic()

    try:
        rep("stages (run one at a time):")
        st = run_stages(runner, plan, work, with_widom=not a.no_widom)
    except RuntimeError as e:
        rep(f"\nFAIL: {e}")
        rep.save()
        return 1
    m1 = machine()
    elapsed = time.monotonic() - t_start
    rep(f"\nall stages: {elapsed:.0f} s elapsed; load average at end: {fmt_load(m1['loadavg'])}")
    (work / "runs.json").write_text(json.dumps(runner.records, indent=1))

    notes: list[str] = []
    c_train = Cost.of(st.train)
    c_data0 = Cost.of(st.samples[plan.n0])
    c_data_all = Cost.of(*st.samples.values())
    est = n0_estimators(plan, st, notes)
    rows = report_n0(rep, plan, st, est, c_data0, c_train, c_data_all, notes)
    iso, iso_rows, tabs = report_isotherm(rep, plan, st, est, c_data_all + c_train, a.points, notes)

    rep(f"load average at end: {fmt_load(m1['loadavg'])} (start {fmt_load(m0['loadavg'])}); machine: "
        f"{m0['cpu_model']}, {m0['logical_cpus']} logical CPUs, shared with other jobs during this run")
    if a.quick:
        rep("QUICK RUN: tiny N and budgets; the numbers above check the script, they are not results.")
    write_benchmark_json(work / "benchmark.json", plan, m0, m1, rows, iso, iso_rows, tabs, est, notes)
    rep(f"\nreport: {work / 'report.txt'}; numbers: {work / 'benchmark.json'}; per-stage records: {work / 'runs.json'}")
    rep.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
