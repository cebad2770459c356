#!/usr/bin/env python3
"""Equation-of-state reference for the paper's min-image Lennard-Jones system (T = 1.25, L = 6).

The full-potential equations of state (Kolafa & Nezbeda 1994, "KN"; Johnson, Zollweg & Gubbins
1993, "JZG"; validation/eos_values.py) describe the LJ fluid with every pair interacting. The
paper's `cutoff = "min-image"` lets each pair interact once, at its minimum-image distance, i.e.
with the partner's image inside the cube [-L/2, L/2]^3 centred on the particle: the interactions
beyond that cube are missing. With g(r) = 1 there (r >= L/2 = 3 sigma, where |g - 1| < 0.01 in the
liquid), the missing energy per particle is first-order perturbation theory

    du = (rho / 2) int_{outside the cube} u_LJ(r) d^3r,

and the same term is missing from beta a_ex (beta F_ex is linear in a perturbation whose
configuration average is that of g = 1):

    beta A_ex(N) ~ N [ a_res(rho, T) - du ] / T,   u/N ~ u_ex(rho, T) - du.

The integral is the sphere tail 4 pi int_3^inf r^2 u dr minus the part of the cube outside the
sphere (midpoint rule on a grid of one octant). Finite-size effects in beta A_ex(N) (O(1) kT in
total, a few 0.1 kT at these N in the T = 1.5 table of validation/README.md) are not included;
the KN - JZG difference is a measure of the equations' own uncertainty.

Run as a script to print the table; with --data DIR (a run.py run directory) the energy per
particle of its MC trajectories (train_N*.h5, ref_N*.h5: /observables/replica_*/potential_energy_per_particle) is
printed beside the EOS value, a check of the min-image correction against simulation.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from eos_values import johnson_zollweg_gubbins, kolafa_nezbeda  # noqa: E402

TEMPERATURE = 1.25
BOX = 6.0


def u_lj(r: float) -> float:
    return 4.0 * (r**-12 - r**-6)


def outside_cube_integral(side: float = BOX, grid: int = 240) -> float:
    """int over |x|_inf > side/2 of u_LJ(|x|) d^3x (sigma = epsilon = 1)."""
    h = 0.5 * side
    tail_sphere = 4.0 * math.pi * 4.0 * (h**-9 / 9.0 - h**-3 / 3.0)  # int_{r > h}
    d = h / grid
    pts = [(i + 0.5) * d for i in range(grid)]
    in_cube_out_sphere = 0.0
    h2 = h * h
    for x in pts:
        for y in pts:
            r2xy = x * x + y * y
            for z in pts:
                r2 = r2xy + z * z
                if r2 > h2:
                    in_cube_out_sphere += u_lj(math.sqrt(r2))
    return tail_sphere - 8.0 * in_cube_out_sphere * d**3


_OUT = None


def missing_energy_per_particle(rho: float) -> float:
    """du = (rho/2) int_outside u (epsilon; negative: the missing interactions are attractive)."""
    global _OUT
    if _OUT is None:
        _OUT = outside_cube_integral()
    return 0.5 * rho * _OUT


def beta_a_ex(n: int, which: str = "KN") -> float:
    """N beta a_ex of the min-image system from the full-potential EOS (kT)."""
    eos = kolafa_nezbeda() if which == "KN" else johnson_zollweg_gubbins()
    rho = n / BOX**3
    return n * (eos.a_res(rho, TEMPERATURE) - missing_energy_per_particle(rho)) / TEMPERATURE


def u_per_particle(n: int, which: str = "KN") -> float:
    eos = kolafa_nezbeda() if which == "KN" else johnson_zollweg_gubbins()
    rho = n / BOX**3
    return eos.u_ex(rho, TEMPERATURE) - missing_energy_per_particle(rho)


def mc_energy(path: Path) -> tuple[float, float] | None:
    """Mean and block stderr of U/N over the replicas of an nti sample file, or None."""
    try:
        import h5py
    except ImportError:
        return None
    with h5py.File(path, "r") as f:
        means = []
        for rep in f["observables"].values() if "observables" in f else []:
            if "potential_energy_per_particle" in rep:
                means.append(float(rep["potential_energy_per_particle/value"][()].mean()))
        if len(means) < 2:
            return None
    m = sum(means) / len(means)
    se = math.sqrt(sum((x - m) ** 2 for x in means) / (len(means) - 1) / len(means))
    return m, se


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="run.py run directory: compare U/N of its MC files with the EOS")
    a = ap.parse_args()
    print(f"min-image LJ, T = {TEMPERATURE}, L = {BOX}: int_outside-cube u d^3r = {outside_cube_integral():.6f}")
    print(f"{'N':>4} {'rho':>7} {'du/T':>8} {'N a KN':>9} {'N a JZG':>9} {'u/N KN':>8} {'u/N JZG':>8} {'u/N MC':>16}")
    for n in range(40, 201, 20):
        rho = n / BOX**3
        mc = ""
        if a.data:
            for name in (f"train_N{n}.h5", f"ref_N{n}.h5"):
                p = Path(a.data) / name
                if p.is_file() and (e := mc_energy(p)):
                    mc = f"{e[0]:.4f}±{e[1]:.4f}"
        print(f"{n:>4} {rho:>7.4f} {missing_energy_per_particle(rho) / TEMPERATURE:>8.4f} {beta_a_ex(n, 'KN'):>9.2f} "
              f"{beta_a_ex(n, 'JZG'):>9.2f} {u_per_particle(n, 'KN'):>8.3f} {u_per_particle(n, 'JZG'):>8.3f} {mc:>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
