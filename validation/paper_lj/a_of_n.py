#!/usr/bin/env python3
"""beta*A_ex(N) at every N, beta*mu_ex(rho) and <rho>(beta*mu) from corrected Neural TI at a grid of N.

The Metropolis-corrected windows of `nti ti` give beta*A_ex(N) that does not rely on the model being
exact, but they cost 10-40 core-minutes per N on the paper's system, so they are run at a grid of N
(every 20th) and not at all 161 N. Between the grid points beta*A_ex(N) is smooth (a finite
system: no singularity in N), and the standard virial-like form

    beta*A_ex(N) = N * sum_{k=1..m} c_k rho^k,     rho = N / V,                       (1)

(beta*a_ex -> 0 as rho -> 0) is fitted by weighted least squares (weights 1/stderr^2; the values at
different N come from independent chains). The fit is nti's own (`nti fit`, the fit that `nti ti`
writes to /ti/fit when one run covers the grid; src/estimators/density_fit.rs); this script combines
the grid points of separate `nti ti` runs, evaluates the fit and prints the checks. The degree is fixed, m = 5 (at most n - 2 for n grid
points): on the equation-of-state curve with noise of the corrected values' size (`--self-test`) it
gives calibrated errors for beta*A_ex, beta*mu_ex and the leave-one-out z, while choosing m per data
set by the corrected Akaike criterion AICc = chi^2 + 2m + 2m(m+1)/(n-m-1) (Hurvich & Tsai,
Biometrika 76, 297 (1989); printed for every m as a diagnostic) under-covers beta*mu_ex (z rms 1.5:
the post-selection bias of too low a degree). The fit is validated by leave-one-out: each grid point is predicted from the others, z = (A_i - pred_i) /
sqrt(se_i^2 + se_pred^2); |z| <~ 2 everywhere means the interpolation error is below the
statistical error. From the fit:

- beta*A_ex(N) +- se at every N (se from the parameter covariance, J C J^T);
- beta*mu_ex(N) = beta*A_ex(N+1) - beta*A_ex(N) at rho = (N + 1/2)/V, with the correlated error;
- the grand-canonical reweighting (docs/design.md sec. 2): p(N) ~ exp(beta*mu N) V^N / N! exp(-beta*A_ex(N))
  (Lambda = 1) over the N range, <rho>(beta*mu), its error from 400 draws of c ~ N(c_hat, C), and
  the probability of the range's end points ("edge weight": large means <rho> is cut off by the range).

Standard library only (h5py is not needed: the values come from `nti summary --json`, the fits from
`nti fit`).

  python3 validation/paper_lj/a_of_n.py RESULTS.h5 [RESULTS.h5 ...] [--method M] [--nti PATH]

reads every `beta_a_ex` of method M (default: the windows, `windows-gl<K>-<sampler>` or `windows-cc<K>-<sampler>`) from the given
nti ti result files and prints the fit, the leave-one-out check, beta*A_ex and beta*mu_ex at every
--every'th N beside the min-image-corrected equations of state, and the grand-canonical curve.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

VOLUME = 216.0


# ----------------------------------------------------------------------------- small linear algebra


def _cholesky(a: list[list[float]]) -> list[list[float]]:
    n = len(a)
    l = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = a[i][j] - sum(l[i][k] * l[j][k] for k in range(j))
            l[i][j] = math.sqrt(max(s, 0.0)) if i == j else (s / l[j][j] if l[j][j] > 0 else 0.0)
    return l


# ----------------------------------------------------------------------------- the fit


def basis(n: float, degree: int, volume: float) -> list[float]:
    """d beta*A_ex(N) / d c_k = N rho^k, k = 1..degree (eq. 1)."""
    rho = n / volume
    return [n * rho**k for k in range(1, degree + 1)]


@dataclass
class Fit:
    degree: int
    volume: float
    coef: list[float]
    cov: list[list[float]]
    chi2: float
    npoints: int

    @property
    def dof(self) -> int:
        return self.npoints - self.degree

    @property
    def aicc(self) -> float:
        m, n = self.degree, self.npoints
        return self.chi2 + 2 * m + (2 * m * (m + 1) / (n - m - 1) if n - m - 1 > 0 else math.inf)

    def _lin(self, j: list[float]) -> tuple[float, float]:
        v = sum(a * b for a, b in zip(j, self.coef))
        var = sum(j[a] * self.cov[a][b] * j[b] for a in range(len(j)) for b in range(len(j)))
        return v, math.sqrt(max(var, 0.0))

    def a_ex(self, n: float) -> tuple[float, float]:
        """beta*A_ex(N) +- standard error of the fit."""
        return self._lin(basis(n, self.degree, self.volume))

    def mu_ex(self, n: int) -> tuple[float, float]:
        """beta*A_ex(N+1) - beta*A_ex(N), at rho = (N + 1/2)/V, with the correlated error."""
        j1, j0 = basis(n + 1, self.degree, self.volume), basis(n, self.degree, self.volume)
        return self._lin([x - y for x, y in zip(j1, j0)])

    def with_coef(self, coef: list[float]) -> "Fit":
        return Fit(self.degree, self.volume, coef, self.cov, self.chi2, self.npoints)


def fit_all(sets: list[tuple[dict[int, tuple[float, float]], int]], nti: Path, volume: float = VOLUME) -> list[Fit]:
    """Weighted least squares of eq. (1) through each ({N: (beta*A_ex, stderr)}, degree), by `nti fit`
    (one process for all sets)."""
    req = dict(volume=volume, sets=[dict(degree=m, points=[[n, *pts[n]] for n in sorted(pts)]) for pts, m in sets])
    s = subprocess.run([str(nti), "fit", "-"], input=json.dumps(req), capture_output=True, text=True)
    if s.returncode != 0:
        raise ValueError(f"nti fit: {s.stderr.strip()}")
    return [Fit(f["degree"], volume, f["coefficients"], f["covariance"], f["chi2"], f["n_points"])
            for f in json.loads(s.stdout)["fits"]]


def fit(points: dict[int, tuple[float, float]], degree: int, nti: Path, volume: float = VOLUME) -> Fit:
    """Weighted least squares of eq. (1) through {N: (beta*A_ex, stderr)}, by `nti fit`."""
    return fit_all([(points, degree)], nti, volume)[0]


DEGREE = 5


def choose(points: dict[int, tuple[float, float]], nti: Path, volume: float = VOLUME, max_degree: int = 7,
           by_aicc: bool = False) -> tuple[Fit, list[Fit]]:
    """All degrees 1 .. min(max_degree, n - 2), and the fit used: degree min(DEGREE, n - 2), or with
    by_aicc the one with the smallest AICc (under-covers beta*mu_ex, see the module doc)."""
    degrees = range(1, min(max_degree, len(points) - 2) + 1)
    if not degrees:
        raise ValueError(f"need at least 3 grid points, got {len(points)}")
    cands = fit_all([(points, m) for m in degrees], nti, volume)
    if by_aicc:
        return min(cands, key=lambda f: f.aicc), cands
    return cands[min(DEGREE, len(points) - 2) - 1], cands


def leave_one_out(points: dict[int, tuple[float, float]], degree: int, nti: Path,
                  volume: float = VOLUME) -> dict[int, dict]:
    """Each grid point predicted by the fit of the others: prediction, its error, z."""
    ns = [n for n in sorted(points) if len(points) - 1 > degree]
    fits = fit_all([({m: v for m, v in points.items() if m != n}, degree) for n in ns], nti, volume)
    out = {}
    for n, f in zip(ns, fits):
        pred, se = f.a_ex(n)
        v, e = points[n]
        out[n] = dict(pred=pred, se_pred=se, z=(v - pred) / math.hypot(e, se))
    return out


# ----------------------------------------------------------------------------- grand canonical


def _gc_point(a_ex: dict[int, float], beta_mu: float, volume: float) -> tuple[float, float]:
    """<N> and the edge weight p(N_min) + p(N_max) at beta*mu (Lambda = 1)."""
    ns = sorted(a_ex)
    lw = [beta_mu * n + n * math.log(volume) - math.lgamma(n + 1) - a_ex[n] for n in ns]
    top = max(lw)
    p = [math.exp(x - top) for x in lw]
    s = sum(p)
    return sum(n * q for n, q in zip(ns, p)) / s, (p[0] + p[-1]) / s


def grand_canonical(f: Fit, n_range: range, beta_mus: list[float], draws: int = 400, seed: int = 1) -> list[dict]:
    """<N>, <rho> +- se (from draws of the fit coefficients), beta*mu_ex = beta*mu - ln<rho>, edge weight."""
    l = _cholesky(f.cov)
    rng = random.Random(seed)
    coefs = []
    for _ in range(draws):
        z = [rng.gauss(0.0, 1.0) for _ in f.coef]
        coefs.append([c + sum(l[i][k] * z[k] for k in range(i + 1)) for i, c in enumerate(f.coef)])
    a0 = {n: f.a_ex(n)[0] for n in n_range}
    samples = [{n: f.with_coef(c).a_ex(n)[0] for n in n_range} for c in coefs]
    out = []
    for bm in beta_mus:
        mean_n, edge = _gc_point(a0, bm, f.volume)
        ds = [_gc_point(s, bm, f.volume)[0] / f.volume for s in samples]
        mu = sum(ds) / len(ds)
        se = math.sqrt(sum((d - mu) ** 2 for d in ds) / (len(ds) - 1))
        rho = mean_n / f.volume
        out.append(dict(beta_mu=bm, mean_n=mean_n, mean_density=rho, mean_density_stderr=se,
                        beta_mu_ex=bm - math.log(rho), edge_weight=edge))
    return out


# ----------------------------------------------------------------------------- report


def report(points: dict[int, tuple[float, float]], n_range: range, nti: Path, every: int = 10,
           volume: float = VOLUME, log=print, eos=None) -> dict:
    """Fit, print and return everything (JSON-ready). eos(n) -> (KN, JZG) or None."""
    best, cands = choose(points, nti, volume)
    log(f"fit of beta*A_ex(N) = N sum_k c_k rho^k through {len(points)} values (N = "
        f"{sorted(points)}), weights 1/stderr^2:")
    log(f"{'degree':>6} {'chi2':>8} {'dof':>4} {'chi2/dof':>8} {'AICc':>8}")
    for c in cands:
        log(f"{c.degree:>6} {c.chi2:>8.2f} {c.dof:>4} {c.chi2 / max(c.dof, 1):>8.2f} {c.aicc:>8.2f}"
            + ("   <- used" if c is best else ""))
    loo = leave_one_out(points, best.degree, nti, volume)
    log(f"leave-one-out (degree {best.degree}): each grid value against the fit of the others")
    log(f"{'N':>4} {'value':>16} {'prediction':>16} {'z':>6}")
    for n, d in loo.items():
        v = points[n]
        log(f"{n:>4} {v[0]:>9.2f}±{v[1]:<6.2f} {d['pred']:>9.2f}±{d['se_pred']:<6.2f} {d['z']:>+6.2f}")
    zs = [d["z"] for d in loo.values()]
    rms = math.sqrt(sum(z * z for z in zs) / len(zs)) if zs else math.nan
    log(f"leave-one-out rms z {rms:.2f} over {len(zs)} points (about 1 if the interpolation error is below the "
        f"statistical error), largest |z| {max(abs(z) for z in zs):.2f}")
    rows = []
    log(f"\nbeta*A_ex(N) and beta*mu_ex = A(N+1) - A(N) from the fit, every {every}th N (± fit standard error)")
    log(f"{'N':>4} {'rho':>7} {'beta*A_ex':>16} {'EOS KN / JZG':>17} {'rho(N+1/2)':>10} {'beta*mu_ex':>14} "
        f"{'EOS KN / JZG':>15}")
    for n in n_range:
        a = best.a_ex(n)
        m = best.mu_ex(n)
        e = eos(n) if eos else None
        e1 = eos(n + 1) if eos else None
        row = dict(n=n, rho=n / volume, beta_a_ex=a, beta_mu_ex=m, rho_mu=(n + 0.5) / volume,
                   eos=e, eos_mu=(None if not e else (e1[0] - e[0], e1[1] - e[1])))
        rows.append(row)
        if (n - n_range.start) % every == 0:
            es = f"{e[0]:>8.2f}/{e[1]:<8.2f}" if e else "-"
            ms = f"{row['eos_mu'][0]:>7.3f}/{row['eos_mu'][1]:<7.3f}" if e else "-"
            log(f"{n:>4} {n / volume:>7.4f} {a[0]:>9.2f}±{a[1]:<6.2f} {es:>17} {(n + 0.5) / volume:>10.4f} "
                f"{m[0]:>7.3f}±{m[1]:<6.3f} {ms:>15}")
    lo = min(r["beta_mu_ex"][0] + math.log(r["rho_mu"]) for r in rows)
    hi = max(r["beta_mu_ex"][0] + math.log(r["rho_mu"]) for r in rows)
    bms = [lo + (hi - lo) * i / 24 for i in range(25)]
    gc = grand_canonical(best, n_range, bms)
    log(f"\ngrand-canonical reweighting of the fitted beta*A_ex(N), N = {n_range.start}..{n_range.stop - 1} (Lambda = 1)")
    log(f"{'beta*mu':>9} {'<N>':>8} {'<rho>':>16} {'beta*mu_ex':>10} {'edge weight':>11}")
    for g in gc[::3]:
        log(f"{g['beta_mu']:>9.3f} {g['mean_n']:>8.2f} {g['mean_density']:>8.4f}±{g['mean_density_stderr']:<7.4f} "
            f"{g['beta_mu_ex']:>10.3f} {g['edge_weight']:>11.1e}")
    return dict(degree=best.degree, coef=best.coef, cov=best.cov, chi2=best.chi2, dof=best.dof,
                candidates=[dict(degree=c.degree, chi2=c.chi2, dof=c.dof, aicc=c.aicc) for c in cands],
                leave_one_out={str(n): d for n, d in loo.items()}, loo_rms_z=rms, every_n=rows, grand_canonical=gc,
                points={str(n): v for n, v in points.items()})


def self_test(nti: Path, reps: int = 400, seed: int = 5, degree: int | None = None, by_aicc: bool = False,
              log=print) -> bool:
    """Calibration of the interpolation on a known curve: the min-image KN equation of state at the
    grid N = 40, 60, .., 200 plus Gaussian noise of the size of the corrected values' errors
    (0.5 + 0.01 N kT). Per replicate one z at a random N of 40..200 for beta*A_ex and beta*mu_ex,
    and one leave-one-out z at a random grid point, so the z's are independent. Passes when the
    mean is within 3/sqrt(reps) of 0 and the rms within 3/sqrt(2 reps) of 1 for beta*A_ex and the
    beta*mu_ex and the leave-one-out z. degree: another fixed degree (degree 2 must fail: the negative
    control); by_aicc: the degree chosen per replicate by AICc (under-covers beta*mu_ex)."""
    import eos_minimage

    rng = random.Random(seed)
    grid = range(40, 201, 20)
    se = {n: 0.5 + 0.01 * n for n in grid}
    true = {n: eos_minimage.beta_a_ex(n, "KN") for n in range(40, 202)}
    # Per replicate: noisy grid values, the N of the z's of beta*A_ex and beta*mu_ex, the grid point
    # left out. The fits of all replicates go to nti in one or two batches.
    draws = []
    for _ in range(reps):
        pts = {n: (true[n] + rng.gauss(0.0, se[n]), se[n]) for n in grid}
        draws.append((pts, rng.randrange(40, 200), rng.choice(list(grid))))
    if degree:
        degrees = [degree] * reps
    elif by_aicc:
        m_max = min(7, len(grid) - 2)
        cands = fit_all([(pts, m) for pts, _, _ in draws for m in range(1, m_max + 1)], nti)
        degrees = [min(cands[i * m_max:(i + 1) * m_max], key=lambda f: f.aicc).degree for i in range(reps)]
    else:
        degrees = [min(DEGREE, len(grid) - 2)] * reps
    fits = fit_all([(pts, m) for (pts, _, _), m in zip(draws, degrees)]
                   + [({m: x for m, x in pts.items() if m != g}, d) for (pts, _, g), d in zip(draws, degrees)], nti)
    za, zm, zl = [], [], []
    for (pts, n, g), f, f_rest in zip(draws, fits[:reps], fits[reps:]):
        v, e = f.a_ex(n)
        za.append((v - true[n]) / e)
        v, e = f.mu_ex(n)
        zm.append((v - (true[n + 1] - true[n])) / e)
        pred, sp = f_rest.a_ex(g)
        zl.append((pts[g][0] - pred) / math.hypot(se[g], sp))

    def stats(z):
        return sum(z) / len(z), math.sqrt(sum(x * x for x in z) / len(z))

    tol_m, tol_r = 3 / math.sqrt(reps), 3 / math.sqrt(2 * reps)
    ok = True
    for name, z in (("beta*A_ex", za), ("beta*mu_ex", zm), ("leave-one-out", zl)):
        m, r = stats(z)
        good = abs(m) <= tol_m and abs(r - 1) <= tol_r
        ok &= good
        log(f"{name:>14}: z mean {m:+.3f} (tolerance {tol_m:.3f}), rms {r:.3f} (tolerance 1 ± {tol_r:.3f})"
            + ("" if good else "  OUT"))
    return ok


def read_points(files: list[Path], nti: Path, method: str | None) -> tuple[dict[int, tuple[float, float]], str]:
    pts: dict[int, tuple[float, float]] = {}
    used = set()
    for f in files:
        m_file = method
        s = subprocess.run([str(nti), "summary", str(f), "--json"], capture_output=True, text=True)
        if s.returncode != 0:
            sys.exit(f"error: nti summary {f}: {s.stderr.strip()}")
        res = [r for r in json.loads(s.stdout)["results"] if r["name"] == "beta_a_ex"]
        if m_file is None:  # per file: its window estimate (named after the window sampler)
            cands = sorted({r["method"] for r in res if r["method"].startswith(("windows-gl", "windows-cc"))
                            and not r["method"].endswith(("-uncorrected", "-mbar"))})
            # with the Fokker-Planck control variate ([ti] window_stein_probes) its estimate, as nti's /ti/fit
            cands = [c for c in cands if c.endswith("-stein")] or cands
            if len(cands) != 1:
                sys.exit(f"error: {f}: expected one window estimate (windows-gl*-<sampler> or windows-cc*-<sampler>), found {cands}; "
                         f"pass --method")
            m_file = cands[0]
        used.add(m_file)
        for r in res:
            if r["method"] == m_file and r.get("value") is not None and r.get("stderr") is not None:
                n = int(r["n_particles"])
                if n in pts:
                    sys.exit(f"error: N = {n} appears in more than one file ({f})")
                pts[n] = (float(r["value"]), float(r["stderr"]))
    if not pts:
        sys.exit(f"error: no beta_a_ex of method {method or 'windows-gl*-<sampler>'} in {[str(f) for f in files]}")
    return pts, ", ".join(sorted(used))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="*", help="nti ti result files (results.h5)")
    ap.add_argument("--self-test", action="store_true", help="check the fit's error bars on a known curve and exit "
                    "(the fit with a fixed degree 2 as negative control must fail)")
    ap.add_argument("--method", help="beta_a_ex method to fit (default: the Metropolis-corrected windows, "
                    "windows-gl<K>-<sampler>, as nti's /ti/fit)")
    ap.add_argument("--nti", help="nti binary (default $NTI or target/release/nti)")
    ap.add_argument("--n-min", type=int, default=40)
    ap.add_argument("--n-max", type=int, default=200)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--volume", type=float, default=VOLUME)
    ap.add_argument("--json", help="write everything to this JSON file")
    a = ap.parse_args(argv)
    from nti_runner import find_nti

    import eos_minimage

    nti = find_nti(a.nti)
    if a.self_test:
        print(f"self test: nti's fit (degree {DEGREE}) on the KN equation of state + noise, 400 replicates")
        ok = self_test(nti)
        print("negative control: the same with the degree fixed at 2 (too stiff for this curve)")
        bad = self_test(nti, degree=2)
        print("PASS" if ok and not bad else "FAIL" + ("" if ok else ": the fit's errors are not calibrated")
              + ("" if not bad else ": the negative control passed, the check cannot see interpolation bias"))
        return 0 if ok and not bad else 1
    if not a.results:
        ap.error("give nti ti result files, or --self-test")

    for f in a.results:
        if not Path(f).is_file():
            sys.exit(f"error: {f}: no such file")
    pts, method = read_points([Path(f) for f in a.results], nti, a.method)
    print(f"method {method}")
    rep = report(pts, range(a.n_min, a.n_max + 1), nti, a.every, a.volume,
                 eos=lambda n: (eos_minimage.beta_a_ex(n, "KN"), eos_minimage.beta_a_ex(n, "JZG")))
    if a.json:
        Path(a.json).write_text(json.dumps(dict(method=method, **rep), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
