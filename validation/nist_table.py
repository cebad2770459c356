#!/usr/bin/env python3
"""nti against the NIST SRSW Lennard-Jones NVT Monte Carlo table.

Runs `nti sample` (Metropolis MC, N = 500, r_c = 3 with tail corrections) at every state of
validation/reference/nist_srsw_lj_nvt.csv, reads `nti summary --json`, and prints

    T, rho, u +- se, u_ref, z_u, p +- se, p_ref, z_p

with z = (nti - ref) / sqrt(se_nti^2 + se_ref^2), se_ref being NIST's quoted uncertainty
where the table gives one and zero elsewhere. Exit status 1 if any |z| > 3 (or a run failed).

    python3 validation/nist_table.py            # all 20 states (about 25 min on 2 idle cores)
    python3 validation/nist_table.py --quick    # CI subset: 3 states, short runs (about 1 min)

Options: --jobs N (concurrent nti processes, default 2), --nti PATH, --out DIR (runs go to a
new subdirectory of DIR; default a new temporary directory), --state T,RHO (repeatable: only
these states), --scale F (multiply equilibration and production), --set KEY=VALUE
(repeatable, passed to every `nti sample` as --set).

Every run's directory keeps input.toml, stdout.log, stderr.log, results.h5 and summary.json.
The table is also written as nist_table.csv and nist_table.json in the output directory.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nti_runner import REFERENCE_DIR, RunSpec, find_nti, prepare_output, replica_means, run_all  # noqa: E402

NIST_CSV = REFERENCE_DIR / "nist_srsw_lj_nvt.csv"
Z_MAX = 3.0

# Run lengths (MC sweeps of N = 500 trial moves). A sweep costs ~0.7 ms at rho < 0.01 and
# ~2.6 ms at liquid density on the reference machine. nti melts its fcc start lattice first
# ([sample] melt_sweeps / melt_temperature, defaults used); the dense liquid then relaxes in a
# few hundred sweeps, and equilibration keeps a wide margin. At rho = 0.86-0.90 the block
# standard error of u and p levels off at blocks of ~1000 sweeps: 50000 sweeps per replica
# leave ~50 such blocks.
FULL = {
    "gas": dict(replicas=4, equilibration=2000, production=25000, stride=10),
    "liquid": dict(replicas=2, equilibration=3000, production=50000, stride=10),
}
QUICK = {
    "gas": dict(replicas=2, equilibration=1000, production=8000, stride=10),
    "liquid": dict(replicas=2, equilibration=2000, production=8000, stride=10),
}
# CI subset: a low-density state with quoted NIST errors, the dense state with quoted errors,
# and a dense state of the other isotherm.
QUICK_STATES = [(0.85, 0.009), (0.85, 0.86), (0.90, 0.776)]


def read_nist(path: Path = NIST_CSV) -> list[dict]:
    rows = []
    with open(path) as f:
        lines = [ln for ln in f if not ln.startswith("#") and ln.strip()]
    for i, r in enumerate(csv.DictReader(lines)):
        opt = lambda s: float(s) if s and s.strip() else None  # noqa: E731
        rows.append(dict(index=i, T=float(r["T"]), rho=float(r["rho"]), u=float(r["u"]), p=float(r["p"]),
                         u_err=opt(r["u_err"]), p_err=opt(r["p_err"])))
    return rows


def zscore(value: float, se: float, ref: float, ref_err: float | None) -> float:
    comb = math.sqrt(se * se + (ref_err or 0.0) ** 2)
    if not comb > 0.0:
        return math.nan
    return (value - ref) / comb


def parse_state(s: str) -> tuple[float, float]:
    try:
        t, rho = (float(v) for v in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--state expects T,RHO (e.g. 0.85,0.86), got '{s}'")
    return t, rho


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI subset: 3 states, short runs")
    ap.add_argument("--jobs", type=int, default=2, help="concurrent nti processes (default 2)")
    ap.add_argument("--nti", help="nti binary (default $NTI or <repo>/target/release/nti)")
    ap.add_argument("--out", help="parent directory for this run's new output directory (default: system temp)")
    ap.add_argument("--state", type=parse_state, action="append", default=[], metavar="T,RHO",
                    help="run only this state (repeatable)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply equilibration and production lengths")
    ap.add_argument("--resume", metavar="DIR",
                    help="continue an interrupted run in its output directory DIR (finished runs are reused, "
                         "with the binary copied there)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="extra `--set section.key=value` for every nti sample run (repeatable)")
    args = ap.parse_args(argv)

    nti = find_nti(args.nti)
    rows = read_nist()
    wanted = args.state or (QUICK_STATES if args.quick else None)
    if wanted:
        sel = [r for r in rows if any(abs(r["T"] - t) < 1e-9 and abs(r["rho"] - d) < 1e-9 for t, d in wanted)]
        if len(sel) != len(wanted):
            sys.exit(f"error: some requested states are not in {NIST_CSV.name}: {wanted}")
        rows = sel
    plan = QUICK if args.quick else FULL

    specs = []
    for r in rows:
        kind = "gas" if r["rho"] < 0.1 else "liquid"
        p = plan[kind]
        eq, prod = int(round(p["equilibration"] * args.scale)), int(round(p["production"] * args.scale))
        sweep_cost = 0.7 if kind == "gas" else 2.6
        specs.append(RunSpec(
            name=f"state{r['index']:02d}_T{r['T']:.2f}_rho{r['rho']:.3f}",
            temperature=r["T"], density=r["rho"],
            seed=20240 + r["index"],  # fixed per state (row index of the NIST table)
            replicas=p["replicas"], equilibration=eq, production=prod, stride=p["stride"],
            extra_sets=list(args.sets), cost=sweep_cost * p["replicas"] * (eq + prod)))

    mode = "quick" if args.quick else "full"
    banner = (f"nti NIST SRSW validation ({mode}): {len(specs)} states, N = 500, r_c = 3 + tails, "
              f"{args.jobs} concurrent runs")
    outdir, nti = prepare_output(nti, args.out, args.resume, "nti_nist_", banner)
    t0 = time.monotonic()
    results = run_all(nti, specs, outdir, args.jobs, resume=bool(args.resume))
    wall = time.monotonic() - t0

    header = (f"{'T':>5} {'rho':>6} | {'u (nti)':>10} {'se':>8} {'u_ref':>10} {'se_ref':>8} {'z_u':>6} | "
              f"{'p (nti)':>11} {'se':>8} {'p_ref':>11} {'se_ref':>8} {'z_p':>6} | {'acc':>5} {'sweeps':>12}  notes")
    print()
    print(header)
    print("-" * len(header))
    table = []
    n_bad = 0
    n_fail = 0
    for r, res in zip(rows, results):
        spec = res.spec
        notes = []
        if not res.ok:
            n_fail += 1
            print(f"{r['T']:5.2f} {r['rho']:6.3f} | RUN FAILED: {res.error}")
            table.append(dict(T=r["T"], rho=r["rho"], ok=False, error=res.error))
            continue
        u = res.results["potential_energy_per_particle"]
        p = res.results["pressure"]
        acc = res.results.get("mc_acceptance", {}).get("value", math.nan)
        z_u = zscore(u["value"], u["stderr"], r["u"], r["u_err"])
        z_p = zscore(p["value"], p["stderr"], r["p"], r["p_err"])
        bad = not (abs(z_u) <= Z_MAX and abs(z_p) <= Z_MAX)
        n_bad += bad
        if bad:
            notes.append(f"|z| > {Z_MAX:g}")
        if any("plateau" in w for w in res.warnings):
            notes.append("block SE not converged")
        # A dense state far below the liquid energy is most likely (partly) crystalline: an
        # unmelted fcc start, or a liquid at the freezing density that crystallised.
        if r["rho"] > 0.5 and u["value"] < r["u"] - 0.15:
            notes.append("u far below liquid: crystalline?")
        reps = replica_means(res.workdir / "results.h5", "potential_energy_per_particle") if res.workdir else None
        if reps:
            notes.append("replica u: " + " ".join(f"{m:.4f}" for m in reps))
        fe = lambda e: f"{e:8.1e}" if e is not None else f"{'-':>8}"  # noqa: E731
        print(f"{r['T']:5.2f} {r['rho']:6.3f} | {u['value']:10.5f} {u['stderr']:8.1e} {r['u']:10.5f} {fe(r['u_err'])} "
              f"{z_u:+6.2f} | {p['value']:11.6f} {p['stderr']:8.1e} {r['p']:11.6f} {fe(r['p_err'])} {z_p:+6.2f} | "
              f"{acc:5.3f} {spec.replicas}x{spec.equilibration}+{spec.production}  {'; '.join(notes)}")
        table.append(dict(T=r["T"], rho=r["rho"], ok=True, u=u["value"], u_se=u["stderr"], u_ref=r["u"],
                          u_ref_err=r["u_err"], z_u=z_u, p=p["value"], p_se=p["stderr"], p_ref=r["p"],
                          p_ref_err=r["p_err"], z_p=z_p, mc_acceptance=acc, replicas=spec.replicas,
                          equilibration=spec.equilibration, production=spec.production, stride=spec.stride,
                          seed=spec.seed, wall_seconds=res.wall_seconds, cpu_seconds=res.cpu_seconds, warnings=res.warnings,
                          replica_u_means=reps))
    print("-" * len(header))
    print("z = (nti - ref) / sqrt(se^2 + se_ref^2); se_ref = NIST's quoted uncertainty where given, else 0.")
    zs = [abs(x[k]) for x in table if x.get("ok") for k in ("z_u", "z_p") if not math.isnan(x[k])]
    if zs:
        rms = math.sqrt(sum(z * z for z in zs) / len(zs))
        print(f"{len(zs)} z-scores: rms {rms:.2f}, max |z| {max(zs):.2f}")
    with open(outdir / "nist_table.json", "w") as f:
        json.dump(dict(mode=mode, wall_seconds=wall, cpu_seconds=sum(r.cpu_seconds for r in results), nti=str(nti), states=table), f, indent=1)
    cols = ["T", "rho", "u", "u_se", "u_ref", "u_ref_err", "z_u", "p", "p_se", "p_ref", "p_ref_err", "z_p",
            "mc_acceptance", "replicas", "equilibration", "production", "stride", "seed", "wall_seconds", "cpu_seconds"]
    with open(outdir / "nist_table.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for x in table:
            if x.get("ok"):
                w.writerow(x)
    cpu = sum(r.cpu_seconds for r in results)
    print(f"wall time {wall:.0f} s ({args.jobs} concurrent runs); CPU time of the nti runs {cpu:.0f} s"
          f"{' (runs reused by --resume not counted)' if any(r.reused for r in results) else ''}; "
          f"table written to {outdir / 'nist_table.csv'}")
    if n_fail or n_bad:
        print(f"FAIL: {n_bad} state(s) with |z| > {Z_MAX:g}, {n_fail} run(s) failed")
        return 1
    print(f"PASS: all {len(table)} states within {Z_MAX:g} combined standard errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
