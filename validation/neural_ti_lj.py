#!/usr/bin/env python3
"""Neural TI against conventional TI + MBAR and the LJ equations of state (one `nti run`).

System (issue "Neural TI free energies"): Lennard-Jones at T = 1.5 in a box of side L = 8
(V = 512), r_c = 3 with tail corrections. One model is trained on N = 50, 100, 200, 300; Neural TI
gives beta*A_ex(N) at N = 50, 100, 101, 200, 201, 300, and so beta*mu_ex(N) = A(N+1) - A(N) at
N = 100 and 200; the conventional baseline (TI along the soft-core lambda path with MC windows, MBAR
over the same windows, Widom insertion) runs at the same N. The table shows, per N:

  - Neural TI, uncorrected: reverse SDE (trapezoid rule over 1000 steps) and Gauss-Legendre windows
    on reverse-SDE samples;
  - Neural TI, corrected: MALA-corrected GL windows alone (the headline estimate, z-calibrated on
    the exact-answer systems), and the reverse-SDE integral with the MALA windows as a control
    variate (biased where the reverse SDE is far off: validation/paper_lj/README.md, session 8);
    annealed importance sampling;
  - MBAR and conventional TI;
  - N * beta*a_ex(N/V) from the Kolafa-Nezbeda (KN) and Johnson-Zollweg-Gubbins (JZG) equations of
    state (thermodynamic limit: small finite-size differences are expected).

PASS when, at every N, the MALA-corrected windows' estimate and MBAR agree within 3 combined
standard errors. Exit status 1 otherwise (or if a run fails). Every input, log and stage file stays in the
output directory; `--reuse DIR` continues an interrupted run (finished stages are reused).

    python3 validation/neural_ti_lj.py            # full: about 90 minutes on 2 cores
    python3 validation/neural_ti_lj.py --quick    # CI: N = 20, 21, a minute or two

Options: --ranks R (default 2), --nti PATH, --out DIR, --reuse DIR, --set KEY=VALUE (any input key,
passed to nti run).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nti_runner import find_nti, fresh_output_dir, freeze_binary  # noqa: E402

HEADLINE = "windows-gl{w}-mala"
CONTROL_VARIATE = "reverse-sde-gl{w}-mala-corrected"
Z_MAX = 3.0

FULL = dict(
    train_n=[50, 100, 200, 300], ti_n=[50, 100, 101, 200, 201, 300], baseline_n=[50, 100, 101, 200, 201, 300],
    replicas=4, equilibration=2000, production=20000, stride=20,
    steps=6000, lr_decay_every=3600, eval_every=300, hidden="[64, 64]",
    trajectories=64, windows=32, window_chains=4, window_warmup=500, window_steps=1000, ais_chains=16,
    base_windows=40, base_equilibration=2000, base_production=10000, widom=200,
)
QUICK = dict(
    train_n=[20], ti_n=[20, 21], baseline_n=[20, 21],
    replicas=2, equilibration=500, production=4000, stride=10,
    steps=2000, lr_decay_every=1200, eval_every=200, hidden="[32, 32]",
    trajectories=32, windows=24, window_chains=2, window_warmup=300, window_steps=400, ais_chains=16,
    base_windows=8, base_equilibration=500, base_production=3000, widom=100,
)


def pipeline_input(p: dict) -> str:
    return f"""# validation/neural_ti_lj.py: Neural TI vs TI + MBAR vs EOS at T = 1.5, L = 8, r_c = 3 + tails
version = 1

[system]
n_particles = 50
density = 0.09765625
temperature = 1.5
cutoff = 3.0
tail_correction = true

[sample]
replicas = {p['replicas']}
equilibration = {p['equilibration']}
production = {p['production']}
stride = {p['stride']}

[model]
hidden = {p['hidden']}

[train]
steps = {p['steps']}
lr_decay_every = {p['lr_decay_every']}
eval_every = {p['eval_every']}
checkpoint_every = {max(p['steps'] // 5, 1)}

[generate]
trajectories = {p['trajectories']}

[ti]
windows = {p['windows']}
window_chains = {p['window_chains']}
window_warmup = {p['window_warmup']}
window_steps = {p['window_steps']}
ais_chains = {p['ais_chains']}

[baseline]
windows = {p['base_windows']}
spacing = "uniform"
equilibration = {p['base_equilibration']}
production = {p['base_production']}
widom_insertions = {p['widom']}

[pipeline]
train_n = {p['train_n']}
ti_n = {p['ti_n']}
baseline_n = {p['baseline_n']}
directory = "stages"

[run]
seed = 1506

[output]
file = "neural_ti_lj.h5"
"""


def fmt(v, e=None, w=10, d=3):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return f"{'-':>{w}}"
    s = f"{v:.{d}f}"
    if e is not None and math.isfinite(e):
        s += f"±{e:.{d}f}"
    return f"{s:>{w}}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI scale: N = 20, 21")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks (1 = no mpirun)")
    ap.add_argument("--nti", help="nti binary (default $NTI or target/release/nti)")
    ap.add_argument("--out", help="parent directory of the new run directory")
    ap.add_argument("--reuse", metavar="DIR", help="continue in an earlier run directory")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra nti input override")
    a = ap.parse_args(argv)
    p = QUICK if a.quick else FULL
    if a.reuse:
        work = Path(a.reuse).resolve()
        nti = work / "nti"
    else:
        work = fresh_output_dir(a.out, "neural_ti_lj_quick_" if a.quick else "neural_ti_lj_")
        nti = freeze_binary(find_nti(a.nti), work)
    (work / "input.toml").write_text(pipeline_input(p))
    out = work / "neural_ti_lj.h5"
    if out.exists():
        out.unlink()  # the summary is remade; the stages are reused
    cmd = [str(nti), "run", "input.toml"] + [x for s in a.set for x in ("--set", s)]
    if a.ranks > 1:
        cmd = ["mpirun", "--oversubscribe", "-np", str(a.ranks)] + cmd
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("RUST_LOG", "info")
    print(f"run directory: {work}\ncommand: {' '.join(cmd)}  (log: run.log)", flush=True)
    t0 = time.time()
    with open(work / "run.log", "a") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        rc = subprocess.run(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    wall = time.time() - t0
    if rc != 0:
        print(f"FAIL: nti run exited with {rc}; see {work / 'run.log'}")
        return 1
    js = subprocess.run([str(nti), "summary", str(out), "--json"], capture_output=True, text=True, check=True)
    results = json.loads(js.stdout)["results"]

    def get(name, method, n):
        for r in results:
            if r["name"] == name and r["method"] == method and r["n_particles"] == n:
                v, e = r["value"], r["stderr"]
                return (v if v is not None else math.nan, e if e is not None else math.nan)
        return (math.nan, math.nan)

    w, bw = p["windows"], p["base_windows"]
    cols = [
        ("rev-SDE trap", "reverse-sde-trapezoid"),
        (f"GL{w} uncorr", f"windows-gl{w}-uncorrected"),
        (f"GL{w} MALA", HEADLINE.format(w=w)),
        ("rev+MALA cv", CONTROL_VARIATE.format(w=w)),
        ("AIS", "ais"),
        (f"MBAR K{bw}", f"mbar-K{bw}"),
        (f"TI K{bw}", f"ti-lambda-trapezoid-K{bw}"),
    ]
    print(f"\nbeta*A_ex(N) in kT at T = 1.5, V = 512, r_c = 3 + tails  (wall {wall:.0f} s on {a.ranks} ranks)")
    print(f"{'N':>4} {'rho':>7} " + " ".join(f"{c[0]:>16}" for c in cols)
          + f" {'N a_ex KN':>10} {'N a_ex JZG':>10} {'z(GL-MBAR)':>10} {'AIS ESS':>8} {'Tc z MALA':>9} {'Tc z rev':>9}")
    ok = True
    for n in sorted(set(p["ti_n"]) | set(p["baseline_n"])):
        vals = [get("beta_a_ex", m, n) for _, m in cols]
        kn = get("beta_a_ex", "eos-kolafa-nezbeda", n)[0]
        jzg = get("beta_a_ex", "eos-jzg", n)[0]
        (cv, cve), (mb, mbe) = vals[2], vals[5]
        z = (cv - mb) / math.hypot(cve, mbe) if math.isfinite(cv) and math.isfinite(mb) else math.nan
        if math.isfinite(z) and abs(z) >= Z_MAX:
            ok = False
        print(f"{n:>4} {n / 512:>7.4f} " + " ".join(fmt(v, e, 16) for v, e in vals)
              + f" {fmt(kn)} {fmt(jzg)} {fmt(z, None, 10, 2)} {fmt(get('ais_effective_sample_size', 'ais', n)[0], None, 8, 1)}"
              + f" {fmt(get('conf_temperature_max_z', f'windows-gl{w}-mala', n)[0], None, 9, 1)}"
              + f" {fmt(get('conf_temperature_max_z', f'windows-gl{w}-uncorrected', n)[0], None, 9, 1)}")
    mus = sorted({r["n_particles"] for r in results if r["name"] == "beta_mu_ex"})
    if mus:
        print("\nbeta*mu_ex(N) = beta*A_ex(N+1) - beta*A_ex(N) in kT; Widom at N (baseline run); KN at rho = (N + 1/2)/V")
        print(f"{'N':>4} {f'GL{w} MALA':>16} {f'MBAR K{bw}':>16} {f'TI K{bw}':>16} {'Widom':>16} {'KN':>10}"
              f" {'z(GL-Widom)':>11} {'z(MBAR-Widom)':>13}")
        for n in mus:
            cv = get("beta_mu_ex", HEADLINE.format(w=w), n)
            mb = get("beta_mu_ex", f"mbar-K{bw}", n)
            ti = get("beta_mu_ex", f"ti-lambda-trapezoid-K{bw}", n)
            wi = get("beta_mu_ex", "widom", n)
            kn = get("beta_mu_ex", "eos-kolafa-nezbeda", n)[0]
            if all(math.isnan(x[0]) for x in (cv, mb)):
                continue
            zs = [(x[0] - wi[0]) / math.hypot(x[1], wi[1]) for x in (cv, mb)]
            print(f"{n:>4} {fmt(*cv, 16)} {fmt(*mb, 16)} {fmt(*ti, 16)} {fmt(*wi, 16)} {fmt(kn)}"
                  f" {fmt(zs[0], None, 11, 2)} {fmt(zs[1], None, 13, 2)}")
    print("Tc z: the largest |<|grad u|^2> - <laplacian u>| / stderr over the windows (configurational temperature "
          "T_conf = 1), of the MALA chains (~2-3 for 24-32 windows of a correct sampler) and of the reverse-SDE "
          "samples (large where the model is inexact); per window in /ti/N<n>/windows/conf_temperature*.")
    print(f"\n{'PASS' if ok else 'FAIL'}: Neural TI, MALA-corrected windows ({HEADLINE.format(w=w)}) vs MBAR within {Z_MAX} combined standard errors at every N")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
