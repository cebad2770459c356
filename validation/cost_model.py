"""Cost model of validation/cost_benchmark.py: the measured cost of an estimate (wall, core-seconds,
CPU seconds), the fixed + sampling extrapolation to a target standard error, the per-N power-law
interpolation of the isotherm, and the isotherm's N grid.

Standard library only. See cost_benchmark.py for the extrapolation model.
"""

from __future__ import annotations

import math


class Cost:
    """Measured cost of one estimate: wall, core-seconds (ranks x wall), CPU seconds."""

    def __init__(self, wall: float = 0.0, core: float = 0.0, cpu: float = 0.0):
        self.wall, self.core, self.cpu = wall, core, cpu

    @staticmethod
    def of(*recs: dict) -> "Cost":
        return Cost(sum(r["wall_s"] for r in recs), sum(r["core_s"] for r in recs), sum(r["cpu_s"] for r in recs))

    def __add__(self, o: "Cost") -> "Cost":
        return Cost(self.wall + o.wall, self.core + o.core, self.cpu + o.cpu)

    def __mul__(self, f: float) -> "Cost":
        return Cost(self.wall * f, self.core * f, self.cpu * f)

    __rmul__ = __mul__


def fixed_fraction(c1: float, c2: float, s1: float, s2: float) -> tuple[float, str]:
    """Straight line c = a + b s through the two pilots; the fixed fraction a / c2 of the larger
    pilot, clamped to [0, 1) (timing noise under load can give a < 0)."""
    b = (c2 - c1) / (s2 - s1)
    a = c1 - b * s1
    note = ""
    if a < 0 or b <= 0:
        note = f"fit gave a = {a:.1f} s (clamped to 0: timing noise)"
        a = 0.0
    return min(a / c2, 0.95), note


def to_target(pilot: Cost, fixed_frac: float, stderr: float, target: float) -> Cost:
    """c_fixed + c_sampling * (stderr / target)^2, c_fixed = fixed_frac * pilot."""
    r = (stderr / target) ** 2
    return pilot * fixed_frac + pilot * ((1 - fixed_frac) * r)


class PerN:
    """Cost of one run at N, as (fixed, sampling part for stderr 0.1-equivalent) at the measured N,
    interpolated piecewise as a power law in N (log-log), clamped to the measured range."""

    def __init__(self, ns: list[int], fixed: list[Cost], sampling_at_target: list[Cost], target: float):
        self.ns, self.fixed, self.samp, self.target = ns, fixed, sampling_at_target, target

    @staticmethod
    def _interp(ns, vals, n):
        if n <= ns[0]:
            return vals[0]
        if n >= ns[-1]:
            return vals[-1]
        for i in range(len(ns) - 1):
            if ns[i] <= n <= ns[i + 1]:
                lo, hi = vals[i], vals[i + 1]
                if lo <= 0 or hi <= 0:
                    return lo + (hi - lo) * (n - ns[i]) / (ns[i + 1] - ns[i])
                x = math.log(n / ns[i]) / math.log(ns[i + 1] / ns[i])
                return lo * (hi / lo) ** x
        return vals[-1]

    def cost(self, n: float, stderr: float) -> Cost:
        r = (self.target / stderr) ** 2
        out = Cost()
        for attr in ("wall", "core", "cpu"):
            f = self._interp(self.ns, [getattr(c, attr) for c in self.fixed], n)
            s = self._interp(self.ns, [getattr(c, attr) for c in self.samp], n)
            setattr(out, attr, f + s * r)
        return out


def loglog_slope(ns: list[int], vals: list[float]) -> float:
    pts = [(math.log(n), math.log(v)) for n, v in zip(ns, vals) if v > 0]
    if len(pts) < 2:
        return math.nan
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx > 0 else math.nan


def isotherm_ns(lo: int, hi: int, m: int) -> list[int]:
    ns = sorted({round(lo + i * (hi - 1 - lo) / (m - 1)) for i in range(m)})
    return ns
