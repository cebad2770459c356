#!/usr/bin/env python3
"""Widom beta*mu_ex from nti against the Kolafa-Nezbeda equation of state.

Runs `nti sample` (Metropolis MC with Widom test-particle insertions, N = 500, r_c = 3 with
tail corrections) at T = 2.0 and rho = 0.1, 0.3, 0.5, reads beta_mu_ex (method "widom") from
`nti summary --json`, and compares it with the Kolafa-Nezbeda (1994) EOS; the
Johnson-Zollweg-Gubbins (1993) EOS is shown for scale (the two EOS differ by ~0.015 here).
Both EOS are recomputed in Python from validation/reference/*.toml by eos_values.py, whose
self-check runs first.

PASS for a state when |nti - KN| < 0.03 (kT). Exit status 1 if any state fails.

    python3 validation/widom_eos.py            # full: about 5 min on 2 cores
    python3 validation/widom_eos.py --quick    # CI: about 30 s

Options: --jobs N, --nti PATH, --out DIR, --scale F, --set KEY=VALUE (as in nist_table.py).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eos_values  # noqa: E402
from nti_runner import RunSpec, find_nti, prepare_output, run_all  # noqa: E402

T = 2.0
DENSITIES = [0.1, 0.3, 0.5]
TOLERANCE = 0.03
FULL = dict(replicas=4, equilibration=2000, production=20000, stride=10, widom_insertions=1000)
QUICK = dict(replicas=2, equilibration=1000, production=4000, stride=10, widom_insertions=500)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI: short runs")
    ap.add_argument("--jobs", type=int, default=2, help="concurrent nti processes (default 2)")
    ap.add_argument("--nti", help="nti binary (default $NTI or <repo>/target/release/nti)")
    ap.add_argument("--out", help="parent directory for this run's new output directory (default: system temp)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply equilibration and production lengths")
    ap.add_argument("--resume", metavar="DIR",
                    help="continue an interrupted run in its output directory DIR (finished runs are reused, "
                         "with the binary copied there)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="extra `--set section.key=value` for every nti sample run (repeatable)")
    args = ap.parse_args(argv)

    print("EOS self-check (eos_values.py):")
    if not eos_values.self_check(verbose=True):
        print("FAIL: the Python EOS does not reproduce its check values")
        return 1
    kn, jzg = eos_values.kolafa_nezbeda(), eos_values.johnson_zollweg_gubbins()

    nti = find_nti(args.nti)
    p = QUICK if args.quick else FULL
    eq, prod = int(round(p["equilibration"] * args.scale)), int(round(p["production"] * args.scale))
    specs = [RunSpec(name=f"widom_T{T:.2f}_rho{rho:.3f}", temperature=T, density=rho, seed=31000 + k,
                     replicas=p["replicas"], equilibration=eq, production=prod, stride=p["stride"],
                     widom_insertions=p["widom_insertions"], extra_sets=list(args.sets), cost=rho)
             for k, rho in enumerate(DENSITIES)]
    mode = "quick" if args.quick else "full"
    banner = (f"\nnti Widom beta*mu_ex vs EOS ({mode}): T = {T}, rho = {DENSITIES}, N = 500, r_c = 3 + tails, "
          f"{p['replicas']} replicas x {eq}+{prod} sweeps, {p['widom_insertions']} insertions every "
          f"{p['stride']} sweeps")
    outdir, nti = prepare_output(nti, args.out, args.resume, "nti_widom_", banner)
    t0 = time.monotonic()
    results = run_all(nti, specs, outdir, args.jobs, resume=bool(args.resume))
    wall = time.monotonic() - t0

    header = (f"{'T':>4} {'rho':>5} | {'bmu_ex (nti)':>12} {'se':>8} | {'KN':>9} {'nti-KN':>8} {'z_KN':>6} | "
              f"{'JZG':>9} {'nti-JZG':>8} | {'u (nti)':>9} {'p (nti)':>9} | verdict")
    print()
    print(header)
    print("-" * len(header))
    rows, n_fail = [], 0
    for rho, res in zip(DENSITIES, results):
        if not res.ok or "beta_mu_ex" not in res.results:
            n_fail += 1
            print(f"{T:4.1f} {rho:5.2f} | RUN FAILED: {res.error or 'no beta_mu_ex in results'}")
            rows.append(dict(T=T, rho=rho, ok=False, error=res.error))
            continue
        m = res.results["beta_mu_ex"]
        u = res.results["potential_energy_per_particle"]["value"]
        pr = res.results["pressure"]["value"]
        v_kn, v_jzg = kn.beta_mu_ex(rho, T), jzg.beta_mu_ex(rho, T)
        d_kn, d_jzg = m["value"] - v_kn, m["value"] - v_jzg
        z = d_kn / m["stderr"] if m["stderr"] > 0 else math.nan
        ok = abs(d_kn) < TOLERANCE
        n_fail += not ok
        notes = "PASS" if ok else "FAIL"
        if any("plateau" in w for w in res.warnings):
            notes += " (block SE not converged)"
        print(f"{T:4.1f} {rho:5.2f} | {m['value']:12.5f} {m['stderr']:8.1e} | {v_kn:9.5f} {d_kn:+8.4f} {z:+6.2f} | "
              f"{v_jzg:9.5f} {d_jzg:+8.4f} | {u:9.5f} {pr:9.5f} | {notes}")
        rows.append(dict(T=T, rho=rho, ok=ok, beta_mu_ex=m["value"], stderr=m["stderr"], kn=v_kn, diff_kn=d_kn,
                         z_kn=z, jzg=v_jzg, diff_jzg=d_jzg, u=u, p=pr, seed=res.spec.seed,
                         wall_seconds=res.wall_seconds, cpu_seconds=res.cpu_seconds, warnings=res.warnings))
    print("-" * len(header))
    print(f"criterion |nti - KN| < {TOLERANCE} kT; z_KN = (nti - KN) / se (EOS error not included, shown for information)")
    with open(outdir / "widom_eos.json", "w") as f:
        json.dump(dict(mode=mode, wall_seconds=wall, cpu_seconds=sum(r.cpu_seconds for r in results), nti=str(nti), tolerance=TOLERANCE, states=rows), f, indent=1)
    cpu = sum(r.cpu_seconds for r in results)
    print(f"wall time {wall:.0f} s ({args.jobs} concurrent runs); CPU time of the nti runs {cpu:.0f} s"
          f"{' (runs reused by --resume not counted)' if any(r.reused for r in results) else ''}; "
          f"results in {outdir / 'widom_eos.json'}")
    if n_fail:
        print(f"FAIL: {n_fail} of {len(DENSITIES)} states")
        return 1
    print(f"PASS: all {len(DENSITIES)} states within {TOLERANCE} of Kolafa-Nezbeda")
    return 0


if __name__ == "__main__":
    sys.exit(main())
