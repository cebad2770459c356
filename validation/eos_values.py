#!/usr/bin/env python3
"""Full Lennard-Jones equations of state, recomputed in Python from the coefficient files.

Reads the reference files next to this script (nothing is hard-coded here except the
published check values that the crate's own tests also use):

* validation/reference/lj_eos_kolafa1994.toml   (Kolafa & Nezbeda 1994, "KN")
* validation/reference/lj_eos_johnson1993.toml  (Johnson, Zollweg & Gubbins 1993, "JZG")

Reduced LJ units.  Each EOS object offers
  a_res(rho, T)       residual (excess) Helmholtz free energy per particle, units of epsilon
  pressure(rho, T)    total pressure
  beta_mu_ex(rho, T)  = a_res/T + Z - 1,  Z = P/(rho T)
  u_ex(rho, T)        excess internal energy per particle = a - T da/dT (numerical derivative)

Run as a script, it prints its self-checks (the check values stored in the TOML files and
the beta*mu_ex values of the crate's implementation at T = 2.0) and a small table.
Exit status is non-zero if a check fails.
"""

from __future__ import annotations

import math
import sys
import tomllib
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


class KolafaNezbeda:
    """Kolafa & Nezbeda, Fluid Phase Equilib. 100, 1 (1994)."""

    def __init__(self, path: Path = REFERENCE_DIR / "lj_eos_kolafa1994.toml"):
        with open(path, "rb") as f:
            data = tomllib.load(f)
        self.data = data
        self.gamma = float(data["gamma"])
        self.d_coeffs = data["d_coeffs"]
        self.db2 = [(int(e["i"]), float(e["c"])) for e in data["dB2"]]
        self.cij = [(int(e["i"]), int(e["j"]), float(e["c"])) for e in data["C"]]
        self.checks = data.get("check", [])

    def d_hbh(self, t: float) -> float:
        c = self.d_coeffs
        return (
            c["inv_T"] / t
            + c["inv_sqrt_T"] / math.sqrt(t)
            + c["const"]
            + c["sqrt_T"] * math.sqrt(t)
            + c["ln_T"] * math.log(t)
        )

    def db2_hbh(self, t: float) -> float:
        return sum(c * t ** (i / 2.0) for i, c in self.db2)

    def eta(self, rho: float, t: float) -> float:
        return math.pi / 6.0 * rho * self.d_hbh(t) ** 3

    def a_res(self, rho: float, t: float) -> float:
        eta = self.eta(rho, t)
        a_hs = t * (
            (5.0 / 3.0) * math.log(1.0 - eta)
            + eta * (34.0 - 33.0 * eta + 4.0 * eta * eta) / (6.0 * (1.0 - eta) ** 2)
        )
        a_b2 = math.exp(-self.gamma * rho * rho) * rho * t * self.db2_hbh(t)
        a_c = sum(c * t ** (i / 2.0) * rho**j for i, j, c in self.cij)
        return a_hs + a_b2 + a_c

    def pressure(self, rho: float, t: float) -> float:
        eta = self.eta(rho, t)
        z_hs = (1.0 + eta + eta * eta - (2.0 / 3.0) * eta**3 * (1.0 + eta)) / (1.0 - eta) ** 3
        g = self.gamma * rho * rho
        b2 = t * self.db2_hbh(t) * rho * math.exp(-g) * (1.0 - 2.0 * g)
        c = sum(j * c * t ** (i / 2.0) * rho**j for i, j, c in self.cij)
        return rho * (t * z_hs + b2 + c)

    def beta_mu_ex(self, rho: float, t: float) -> float:
        return self.a_res(rho, t) / t + self.pressure(rho, t) / (rho * t) - 1.0

    def u_ex(self, rho: float, t: float) -> float:
        return _u_from_a(self.a_res, rho, t)


class JohnsonZollwegGubbins:
    """Johnson, Zollweg & Gubbins, Mol. Phys. 78, 591 (1993), modified BWR."""

    def __init__(self, path: Path = REFERENCE_DIR / "lj_eos_johnson1993.toml"):
        with open(path, "rb") as f:
            data = tomllib.load(f)
        self.data = data
        self.gamma = float(data["gamma"])
        self.x = [None] + [float(v) for v in data["x"]]  # 1-based like the paper
        if len(self.x) != 33:
            raise ValueError(f"JZG: expected 32 x coefficients, found {len(self.x) - 1}")
        self.checks = data.get("check", [])

    def _ab(self, t: float):
        x = self.x
        st = math.sqrt(t)
        a = [
            None,
            x[1] * t + x[2] * st + x[3] + x[4] / t + x[5] / t**2,
            x[6] * t + x[7] + x[8] / t + x[9] / t**2,
            x[10] * t + x[11] + x[12] / t,
            x[13],
            x[14] / t + x[15] / t**2,
            x[16] / t,
            x[17] / t + x[18] / t**2,
            x[19] / t**2,
        ]
        b = [
            None,
            x[20] / t**2 + x[21] / t**3,
            x[22] / t**2 + x[23] / t**4,
            x[24] / t**2 + x[25] / t**3,
            x[26] / t**2 + x[27] / t**4,
            x[28] / t**2 + x[29] / t**3,
            x[30] / t**2 + x[31] / t**3 + x[32] / t**4,
        ]
        return a, b

    def _g(self, rho: float):
        gam = self.gamma
        f = math.exp(-gam * rho * rho)
        g = [None, (1.0 - f) / (2.0 * gam)]
        for i in range(2, 7):
            g.append(-(f * rho ** (2 * (i - 1)) - 2.0 * (i - 1) * g[i - 1]) / (2.0 * gam))
        return f, g

    def a_res(self, rho: float, t: float) -> float:
        a, b = self._ab(t)
        _, g = self._g(rho)
        return sum(a[i] * rho**i / i for i in range(1, 9)) + sum(b[i] * g[i] for i in range(1, 7))

    def pressure(self, rho: float, t: float) -> float:
        a, b = self._ab(t)
        f, _ = self._g(rho)
        return (
            rho * t
            + sum(a[i] * rho ** (i + 1) for i in range(1, 9))
            + f * sum(b[i] * rho ** (2 * i + 1) for i in range(1, 7))
        )

    def beta_mu_ex(self, rho: float, t: float) -> float:
        return self.a_res(rho, t) / t + self.pressure(rho, t) / (rho * t) - 1.0

    def u_ex(self, rho: float, t: float) -> float:
        return _u_from_a(self.a_res, rho, t)


def _u_from_a(a_res, rho: float, t: float, h: float = 1e-5) -> float:
    """u = d(a/T)/d(1/T) = a - T da/dT, by a central difference in T."""
    dadt = (a_res(rho, t * (1 + h)) - a_res(rho, t * (1 - h))) / (2 * t * h)
    return a_res(rho, t) - t * dadt


_KN_SINGLETON = None
_JZG_SINGLETON = None


def kolafa_nezbeda() -> KolafaNezbeda:
    global _KN_SINGLETON
    if _KN_SINGLETON is None:
        _KN_SINGLETON = KolafaNezbeda()
    return _KN_SINGLETON


def johnson_zollweg_gubbins() -> JohnsonZollwegGubbins:
    global _JZG_SINGLETON
    if _JZG_SINGLETON is None:
        _JZG_SINGLETON = JohnsonZollwegGubbins()
    return _JZG_SINGLETON


# beta*mu_ex of KN at T = 2.0 from the crate's tested Rust implementation (nti::eos),
# used here only to cross-check this Python re-implementation.
CRATE_KN_BETA_MU_EX_T2 = {0.1: -0.232054, 0.3: -0.487105, 0.5: -0.280060}


def self_check(verbose: bool = True) -> bool:
    ok = True

    def report(label: str, got: float, want: float, tol: float, rel: bool = False):
        nonlocal ok
        err = abs(got - want) / (abs(want) if rel else 1.0)
        good = err <= tol
        ok &= good
        if verbose:
            kind = "rel" if rel else "abs"
            print(f"  {label:<44s} got {got: .9f}  want {want: .9f}  {kind} err {err:.1e}  "
                  f"{'ok' if good else 'FAIL'} (tol {tol:g})")

    kn, jzg = kolafa_nezbeda(), johnson_zollweg_gubbins()
    if verbose:
        print("Kolafa-Nezbeda: check values from lj_eos_kolafa1994.toml")
    for c in kn.checks:
        report(f"KN U(T={c['T']}, rho={c['rho']})", kn.u_ex(c["rho"], c["T"]), c["U"], 1e-5, rel=True)
        report(f"KN P(T={c['T']}, rho={c['rho']})", kn.pressure(c["rho"], c["T"]), c["P"], 1e-5, rel=True)
    if verbose:
        print("Kolafa-Nezbeda: beta*mu_ex vs the crate's implementation (nti::eos), tol 1e-6")
    for rho, want in CRATE_KN_BETA_MU_EX_T2.items():
        report(f"KN beta*mu_ex(T=2.0, rho={rho})", kn.beta_mu_ex(rho, 2.0), want, 1e-6)
    if verbose:
        print("Johnson-Zollweg-Gubbins: check values from lj_eos_johnson1993.toml")
    for c in jzg.checks:
        report(f"JZG beta*a_ex(T={c['T']}, rho={c['rho']})",
               jzg.a_res(c["rho"], c["T"]) / c["T"], c["beta_a_ex"], 1e-8)
    # Internal consistency: P = rho^2 d(a)/d(rho) + rho T for both EOS.
    for name, eos in (("KN", kn), ("JZG", jzg)):
        for rho, t in ((0.3, 2.0), (0.8, 0.9)):
            h = 1e-6
            dadr = (eos.a_res(rho + h, t) - eos.a_res(rho - h, t)) / (2 * h)
            report(f"{name} P = rho T + rho^2 da/drho (T={t}, rho={rho})",
                   eos.pressure(rho, t), rho * t + rho * rho * dadr, 1e-6, rel=True)
    return ok


def main() -> int:
    ok = self_check(verbose=True)
    kn, jzg = kolafa_nezbeda(), johnson_zollweg_gubbins()
    print()
    print(f"{'T':>5} {'rho':>6} {'KN bmu_ex':>11} {'JZG bmu_ex':>11} {'KN u':>10} {'JZG u':>10} {'KN p':>10} {'JZG p':>10}")
    for t, rho in ((2.0, 0.1), (2.0, 0.3), (2.0, 0.5), (0.9, 0.8), (0.85, 0.86)):
        print(f"{t:5.2f} {rho:6.3f} {kn.beta_mu_ex(rho, t):11.6f} {jzg.beta_mu_ex(rho, t):11.6f} "
              f"{kn.u_ex(rho, t):10.5f} {jzg.u_ex(rho, t):10.5f} {kn.pressure(rho, t):10.5f} {jzg.pressure(rho, t):10.5f}")
    print()
    print("self-check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
