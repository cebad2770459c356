#!/usr/bin/env python3
"""Neural TI free energies of the paper's Lennard-Jones system against conventional TI and MBAR.

System (Mate, Fleuret & Bereau, JPCL 15, 11395 (2024); docs/design.md sec. 2): T = 1.25, cubic box
L = 6 sigma (V = 216), `cutoff = "min-image"`, rho = N / 216. One model, trained on N = 40, 80, 120,
160, 200 (validation/paper_lj/run.py), gives:

  1. `nti ti`, reverse SDE only ([ti] windows = 0), one run for every N in n_min..n_max:
     beta*A_ex(N) for every N, beta*mu_ex(N) = beta*A_ex(N+1) - beta*A_ex(N), and the
     grand-canonical <rho>(beta*mu) / beta*mu_ex(rho) that nti writes to /grand_canonical;
  2. `nti ti` with MALA-corrected Gauss-Legendre windows at the subset N = 40, 80, 120, 160, 200:
     the reverse SDE with the windows as a control variate ("corrected"; it does not rely on the
     model being exact);
  3. `nti baseline` (conventional TI along the soft-core lambda path, uniform windows, MBAR over
     the same windows) at the subset N for K = 5, 10, 20, 50 windows.

Printed: table 1 (beta*A_ex at the subset N by every method, +- standard error, z against MBAR with
the largest K), table 2 (beta*mu_ex(rho): Neural TI at every 10th N, finite differences of the
conventional values where available), the grand-canonical curve. Written to the output directory:
every input and log, free_energy.json, free_energy_table.csv and (matplotlib) free_energy.png.

  python3 validation/paper_lj/free_energy.py --model DIR      # full, with a trained run.py model
  python3 validation/paper_lj/free_energy.py                  # full, trains the model first (run.py)
  python3 validation/paper_lj/free_energy.py --quick          # CI: tiny model and budgets, minutes
  python3 validation/paper_lj/free_energy.py --reuse OUTDIR   # continue: finished runs are reused

Exit status 1 if a run fails or a result is non-finite; in full mode also if the Neural TI value of
the Metropolis-corrected windows differs from MBAR (largest K) by more than 3 combined standard errors at any subset N where
that reference is converged in K (MBAR with the largest K agrees within 3 combined standard errors
with TI on the same windows and with MBAR on the next smaller K; on the dense states it does not, and
the min-image-corrected equation of state is printed beside every method instead).
The quick model is not converged: --quick checks only that everything runs and is finite.
Python 3 standard library; h5py (grand-canonical group) and matplotlib (plot) are optional.
"""


from __future__ import annotations

import argparse
import csv
import json
import math
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from nti_runner import find_nti, fresh_output_dir, freeze_binary  # noqa: E402

# the runs and the tables live in sibling modules (same directory); their names stay importable from here
from fe_runs import (  # noqa: E402, F401
    BOX, TEMPERATURE, TRAIN_N, VOLUME, Run, baseline_toml, launcher, log, make_model, make_model_stdlib,
    nti_env, nti_fit_difference, read_grand_canonical, run_and_report, run_baselines, run_failures, run_neural_ti,
    ti_toml,
)
from fe_tables import (  # noqa: E402, F401
    Collected, Tables, collect, finite, gc_mu_ex_at, nonfinite_results, pm, print_tables, slope_fit, strict_json,
    zscore,
)

Z_MAX = 3.0

FULL = dict(
    # subset: the corrected windows and the baselines; every 20th N so that a_of_n.py can interpolate
    # beta*A_ex to every N (the training N and the held-out N = 60, 100, 140, 180 between them)
    n_min=40, n_max=200, n_step=1, subset=[40, 60, 80, 100, 120, 140, 160, 180, 200],
    # reverse SDE at every N (cost per trajectory ~ N^2: about an hour on 2 cores for 40..200)
    trajectories=8, steps=1000,
    # corrected windows at the subset
    # (300 + 500 MALA steps, the nti default, left the small-t windows unequilibrated: 10-17 kT off at
    # N = 80-120; 5000 + 5000 MALA steps still drifted at N = 160; HMC with 10 leapfrog steps at the
    # same 10^4 gradients per chain relaxes the small-t windows 1.5-3x faster, README session 7)
    windows=24, window_chains=4, window_warmup=500, window_steps=500, cv_trajectories=16,
    window_start="both", window_sampler="hmc", hmc_leapfrog=10, window_stride=1, window_discard="auto",
    window_rule="gauss-legendre",
    # conventional TI / MBAR (paper: 12k samples per window, first 2k discarded)
    ks=[5, 10, 20, 50], equilibration=2000, production=10000, stride=10,
    mu_every=10, fit_half_width=5,
)
QUICK = dict(
    n_min=40, n_max=80, n_step=1, subset=[40, 41, 60, 80],
    trajectories=4, steps=200,
    windows=9, window_chains=2, window_warmup=100, window_steps=200, cv_trajectories=4, window_start="both",
    window_sampler="mala", hmc_leapfrog=10, window_stride=5, window_discard="auto",
    window_rule="clenshaw-curtis",  # CI exercises the rule with the embedded quadrature error estimate
    ks=[5, 10], equilibration=300, production=1500, stride=10,
    mu_every=10, fit_half_width=5,
)
PARAM_HELP = dict(
    n_min="smallest N of the reverse-SDE run", n_max="largest N of the reverse-SDE run",
    n_step="N step of the reverse-SDE run (1 = every N; the subset is always included)",
    subset="N of the corrected windows and the conventional baselines (comma-separated)",
    trajectories="reverse-SDE trajectories per N (run 1)", steps="reverse-SDE steps (both nti ti runs)",
    windows="windows of the corrected run (odd with --window-rule clenshaw-curtis)", window_chains="chains per window",
    window_rule="quadrature of the windows: gauss-legendre or clenshaw-curtis (nested half rule on every other "
                "window: the quadrature_error estimate)",
    window_sampler="window chains: mala or hmc (Hamiltonian MC, hmc_leapfrog gradients per step)",
    hmc_leapfrog="leapfrog steps per HMC proposal", window_stride="window steps between recorded du/dt",
    window_discard="start of each window chain's production dropped: none or auto (Chodera 2016 equilibration "
                   "detection, at most half)",
    window_warmup="window warm-up steps (proposals)", window_steps="window production steps (proposals)",
    window_start="start of the window chains: reverse-sde, data (the model's training frames noised to t) or both "
                 "(even chains from data, odd from the reverse SDE; their disagreement is the start_z check)",
    cv_trajectories="reverse-SDE trajectories per N of the corrected run (the control variate)",
    ks="conventional TI/MBAR window counts K (comma-separated)", equilibration="baseline MC sweeps discarded per window",
    production="baseline MC sweeps per window", stride="baseline sweeps between samples",
    mu_every="table 2: every this many N", fit_half_width="table 2: half width (in N) of the local slope fit",
)


def parse_ints(s: str) -> list[int]:
    return [int(x) for x in re.split(r"[,\s]+", s.strip()) if x]


# ----------------------------------------------------------------------------- main


@dataclass
class Setup:
    """The validation being run: the options, the parameters, the output directory with its frozen
    binary, and the N and K."""

    a: argparse.Namespace
    quick: bool
    p: dict
    outdir: Path
    nti: Path
    subset: list[int]
    ks: list[int]
    ns: list[int]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI scale: tiny model (run.py --quick), N = 40..80 "
                    "(subset 40, 41, 60, 80), K = 5, 10, short runs; no accuracy criterion")
    ap.add_argument("--model", help="trained model: a run.py run directory holding train.h5, or a model file "
                    "(default: train one with run.py --stop-after train)")
    ap.add_argument("--nti", help="nti binary (default $NTI or target/release/nti); copied into the output directory")
    ap.add_argument("--out", help="parent directory; a new subdirectory is made (default: system temp dir)")
    ap.add_argument("--reuse", metavar="DIR", help="continue in an earlier output directory: finished runs are reused")
    ap.add_argument("--ranks", type=int, help="MPI ranks of each nti ti run and of run.py (default 2; 1 = no mpirun)")
    ap.add_argument("--jobs", type=int, help="concurrent single-rank nti baseline runs (default 2)")
    ap.add_argument("--seed", type=int, help="master seed (default 1250)")
    for k, h in PARAM_HELP.items():
        ap.add_argument("--" + k.replace("_", "-"), dest=k, help=f"{h} (full {FULL[k]}, quick {QUICK[k]})",
                        type=(str if k in ("subset", "ks", "window_start", "window_sampler", "window_discard", "window_rule")
                              else int))
    return ap.parse_args(argv)


def prepare(a: argparse.Namespace) -> Setup:
    """The parameters (with --reuse those of the earlier run) with the overrides, the output
    directory with the frozen binary, and params.json; exits on an invalid choice."""
    overrides = {k: getattr(a, k) for k in PARAM_HELP if getattr(a, k) is not None}
    for k in ("subset", "ks"):
        if k in overrides:
            overrides[k] = parse_ints(overrides[k])
    if a.reuse:
        outdir = Path(a.reuse).resolve()
        if not (outdir / "params.json").is_file() or not (outdir / "nti").is_file():
            sys.exit(f"error: --reuse {outdir}: not an output directory of this script (no params.json / nti)")
        saved = json.loads((outdir / "params.json").read_text())
        quick, p = saved["quick"], saved["params"]
        nti = outdir / "nti"
        for k in ("ranks", "jobs", "seed"):
            if getattr(a, k) is None:
                setattr(a, k, saved[k])
        if a.model is None:
            a.model = saved.get("model_arg")
    else:
        quick = a.quick
        p = dict(QUICK if quick else FULL)
        outdir = fresh_output_dir(a.out, "paper_lj_fe_quick_" if quick else "paper_lj_fe_")
        nti = freeze_binary(find_nti(a.nti), outdir)
    a.ranks = 2 if a.ranks is None else a.ranks
    a.jobs = 2 if a.jobs is None else a.jobs
    a.seed = 1250 if a.seed is None else a.seed
    p.update(overrides)
    if p["steps"] < 2 or p["trajectories"] < 2 or p["cv_trajectories"] < 2:
        sys.exit("error: steps, trajectories and cv_trajectories must be at least 2 (standard errors)")
    subset = sorted(set(p["subset"]))
    ks = sorted(set(p["ks"]))
    ns = sorted(set(range(p["n_min"], p["n_max"] + 1, p["n_step"])) | set(subset))
    (outdir / "params.json").write_text(json.dumps(dict(
        quick=quick, params=p, ranks=a.ranks, jobs=a.jobs, seed=a.seed, model_arg=a.model,
        nti=str(nti), command=sys.argv), indent=1))
    return Setup(a=a, quick=quick, p=p, outdir=outdir, nti=nti, subset=subset, ks=ks, ns=ns)


def resolve_model(s: Setup) -> Path:
    """The model file: --model (a run.py run directory or a model file), else trained by run.py."""
    a, outdir, nti, quick = s.a, s.outdir, s.nti, s.quick
    if a.model:
        m = Path(a.model).resolve()
        model = m / "train.h5" if m.is_dir() else m
        if not model.is_file():
            sys.exit(f"error: --model {a.model}: no model file {model}")
        log(f"model: {model}")
    else:
        model = make_model(a, outdir, nti, quick).resolve()
    return model


def make_plot(s: Setup, res: Collected, tables: Tables) -> tuple[Path, str]:
    """free_energy.png (fe_plot.py, matplotlib), or why there is none."""
    p, outdir, ns, subset = s.p, s.outdir, s.ns, s.subset
    a_rev, cols, m_cor, KR = res.a_rev, res.cols, res.m_cor, res.k_ref
    table2, chords, gc, every_n, h = tables.table2, tables.chords, tables.gc, tables.every_n, p["fit_half_width"]
    png = outdir / "free_energy.png"
    plot_note = ""
    try:
        import fe_plot

        fe_plot.plot(png, volume=VOLUME, temperature=TEMPERATURE, box=BOX, ns=ns, subset=subset, a_rev=a_rev,
                     cols=cols, table2=table2, chords=chords, gc=gc, half_width=h, trajectories=p["trajectories"],
                     key_methods={m_cor, f"mbar-K{KR}"}, every_n=every_n)
        log(f"\nplot: {png}")
    except ImportError:
        plot_note = "matplotlib not installed: no plot"
        log(f"\n({plot_note})")
    return png, plot_note


@dataclass
class Verdict:
    """Whether Neural TI agrees with the conventional reference, and where that was checked."""

    k_prev: int | None  # the next smaller K
    ref_ok: dict[int, bool]  # N -> the reference is converged in K
    checked: list[int]
    unchecked: list[int]
    z_win: dict[int, float]  # N -> z of the corrected windows against the reference
    ok_acc: bool


def judge(res: Collected, quick: bool) -> Verdict:
    """Neural TI (the corrected windows) against MBAR with the largest K, only where the conventional
    reference is itself converged in K; no accuracy criterion in quick mode."""
    ks, subset, base_runs, ref, extra, KR, S, R = (res.ks, res.subset, res.base_runs, res.ref, res.extra, res.k_ref,
                                                   res.sampler, res.rule)
    k_prev = ks[-2] if len(ks) >= 2 else None
    ref_ok = {}
    for n in subset:
        ti_k = base_runs[(n, KR)].get("beta_a_ex", f"ti-lambda-trapezoid-K{KR}", n)
        z_ti = zscore(ti_k, ref[n])
        z_prev = (zscore(base_runs[(n, k_prev)].get("beta_a_ex", f"mbar-K{k_prev}", n), ref[n])
                  if k_prev else math.nan)
        ref_ok[n] = finite(z_ti, z_prev) and abs(z_ti) <= Z_MAX and abs(z_prev) <= Z_MAX
    checked = [n for n in subset if ref_ok[n]]
    unchecked = [n for n in subset if not ref_ok[n]]
    # The verdict is on the Metropolis-corrected windows alone (the estimate nti's /ti/fit uses):
    # the reverse SDE corrected by them (z_cor, printed beside) adds the reverse SDE's quadrature
    # error between the nodes, 1.7-3 kT at N = 100-120 on the session-7 model (README session 8).
    win_d = extra[f"NTI {R}-{S.upper()} windows"]
    z_win = {n: zscore(win_d[n], ref[n]) for n in subset}
    ok_acc = True
    if not quick:
        for n in checked:
            z = z_win.get(n, math.nan)
            if not (finite(z) and abs(z) <= Z_MAX):
                ok_acc = False
        if not checked:
            ok_acc = False
    return Verdict(k_prev=k_prev, ref_ok=ref_ok, checked=checked, unchecked=unchecked, z_win=z_win, ok_acc=ok_acc)


def write_report(s: Setup, res: Collected, tables: Tables, verdict: Verdict, *, model: Path, nti_version: str, git: str,
                 png: Path, plot_note: str, wall: float, failures: list[str]) -> None:
    """free_energy.json (everything, NaN as null) and free_energy_table.csv (table 1)."""
    a, quick, p, nti, outdir, ns, subset = s.a, s.quick, s.p, s.nti, s.outdir, s.ns, s.subset
    rev, cor, base_runs, a_rev, a_rect, cols, ref, extra, KR = (res.rev, res.cor, res.base_runs, res.a_rev, res.a_rect,
                                                                res.cols, res.ref, res.extra, res.k_ref)
    csv_rows, z_cor, eos_rows, mu_nti = tables.csv_rows, tables.z_cor, tables.eos_rows, tables.mu_nti
    gc, gc_note, table2, chords, every_n = tables.gc, tables.gc_note, tables.table2, tables.chords, tables.every_n
    z_win, ref_ok, ok_acc = verdict.z_win, verdict.ref_ok, verdict.ok_acc
    report = dict(
        mode="quick" if quick else "full", system=dict(temperature=TEMPERATURE, box_side=BOX, cutoff="min-image"),
        params=p, ranks=a.ranks, jobs=a.jobs, seed=a.seed, model=str(model), nti=str(nti), nti_version=nti_version,
        git_commit_of_checkout=git, reference=f"mbar-K{KR}",
        runs={r.name: dict(ok=r.ok, reused=r.reused, wall_seconds=r.wall, error=r.error, dir=str(r.dir))
              for r in [rev, cor, *base_runs.values()]},
        beta_a_ex_reverse_sde={str(n): dict(trapezoid=a_rev[n], rectangle=a_rect[n]) for n in ns},
        table1={str(n): {c[1]: dict(value=c[2][n][0], stderr=c[2][n][1], z=zscore(c[2][n], ref[n])) for c in cols}
                | {lab: dict(value=d[n][0], stderr=d[n][1],
                             z=(d[n][0] / d[n][1] if lab.endswith("quadrature error") and finite(*d[n])
                                else zscore(d[n], ref[n]))) for lab, d in extra.items()}
                for n in subset},
        beta_mu_ex_reverse_sde={str(n): v for n, v in mu_nti.items()},
        table2=table2, chords=chords, grand_canonical=gc, grand_canonical_note=gc_note, every_n_from_corrected=every_n,
        z_corrected_vs_ref={str(n): z for n, z in z_cor.items()},
        z_windows_vs_ref={str(n): z for n, z in z_win.items()},
        reference_converged_in_k={str(n): v for n, v in ref_ok.items()},
        equation_of_state={str(n): r for n, r in eos_rows.items()},
        plot=str(png) if not plot_note else plot_note, wall_seconds=wall, failures=failures,
        passed=(not failures) and ok_acc,
    )
    (outdir / "free_energy.json").write_text(json.dumps(strict_json(report), indent=1, default=str))
    with open(outdir / "free_energy_table.csv", "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(csv_rows[0].keys()) if csv_rows else ["table"])
        wr.writeheader()
        wr.writerows(csv_rows)
    log(f"report: {outdir / 'free_energy.json'}, {outdir / 'free_energy_table.csv'}; inputs and logs in "
        f"{outdir}/*/ (input.toml, run.log); total {wall:.0f} s wall")


def conclude(res: Collected, tables: Tables, verdict: Verdict, failures: list[str], quick: bool) -> int:
    """The failures and the verdict; the exit status."""
    KR, S, R, z_cor = res.k_ref, res.sampler, res.rule, tables.z_cor
    k_prev, checked, unchecked = verdict.k_prev, verdict.checked, verdict.unchecked
    z_win, ok_acc = verdict.z_win, verdict.ok_acc
    for f in failures:
        log(f"FAIL: {f}")
    if failures:
        return 1
    if quick:
        log("PASS (quick): every run finished and every result is finite (the quick model is not converged: "
            "no accuracy criterion)")
        return 0
    zs = ", ".join(f"N={n}: {z_win.get(n, math.nan):+.2f}" for n in checked)
    log("(reverse SDE corrected by the windows, for comparison: "
        + ", ".join(f"N={n}: z {z_cor.get(n, math.nan):+.2f}" for n in checked) + ")")
    if unchecked:
        log(f"not checked: N = {unchecked}: the conventional reference is not converged in K there (MBAR K{KR} "
            f"differs from TI K{KR} or from MBAR K{k_prev} by more than {Z_MAX} combined standard errors); compare "
            f"with the equation of state above")
    if ok_acc:
        log(f"PASS: Neural TI ({R}-{S.upper()} windows) vs MBAR K{KR} within {Z_MAX} combined standard errors at every subset N "
            f"where the reference is converged ({zs})")
        return 0
    log(f"FAIL: Neural TI ({R}-{S.upper()} windows) vs MBAR K{KR} not within {Z_MAX} combined standard errors at every subset N "
        f"where the reference is converged ({zs or 'none is'})")
    return 1


def main(argv: list[str] | None = None) -> int:
    """The runs, the tables, the plot, the report; the exit status."""
    a = parse_args(argv)
    s = prepare(a)
    quick, p, outdir, nti, subset, ks, ns = s.quick, s.p, s.outdir, s.nti, s.subset, s.ks, s.ns
    t_start = time.monotonic()
    log(f"paper LJ system: T = {TEMPERATURE}, L = {BOX}, min-image; mode {'quick' if quick else 'full'}")
    log(f"output directory {outdir}" + (" (reused)" if a.reuse else "") + f"\nbinary {nti} (frozen copy)")
    nti_version = subprocess.run([str(nti), "--version"], capture_output=True, text=True).stdout.strip()
    git = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()

    model = resolve_model(s)
    rev, cor = run_neural_ti(model, ns, subset, p, a, nti, outdir)
    base_runs = run_baselines(subset, ks, p, a, nti, outdir)
    failures = run_failures(rev, cor, base_runs)
    res = collect(p, ns, subset, ks, rev, cor, base_runs)
    failures += ["non-finite result: " + x for x in nonfinite_results(res)]
    tables = print_tables(res, model, failures, nti)
    png, plot_note = make_plot(s, res, tables)
    verdict = judge(res, quick)
    wall = time.monotonic() - t_start
    write_report(s, res, tables, verdict, model=model, nti_version=nti_version, git=git, png=png, plot_note=plot_note,
                 wall=wall, failures=failures)
    log(f"{nti_version}; checkout {git}; model {model}")
    return conclude(res, tables, verdict, failures, quick)


if __name__ == "__main__":
    sys.exit(main())
