"""The tables of validation/paper_lj/free_energy.py: the beta*A_ex of every run by method
(Collected), the printed tables 1-3 with the equation of state and the grand-canonical curve, and the
small numeric helpers they use (standard errors, z scores, the local slope fit).

Python 3 standard library (h5py optional: the grand-canonical group and nti's /ti/fit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import a_of_n
import eos_minimage
from fe_runs import TEMPERATURE, VOLUME, Run, log, nti_fit_difference, read_grand_canonical

WCOL = 15  # width of a method column of table 1 and of the finite differences


# ----------------------------------------------------------------------------- numeric helpers


def finite(*xs: float) -> bool:
    return all(isinstance(x, (int, float)) and math.isfinite(x) for x in xs)


def strict_json(x):
    """NaN and infinities as null (strict JSON)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): strict_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [strict_json(v) for v in x]
    return x


def zscore(v: tuple[float, float], ref: tuple[float, float]) -> float:
    if not finite(v[0], ref[0]):
        return math.nan
    s = math.hypot(v[1] if finite(v[1]) else 0.0, ref[1] if finite(ref[1]) else 0.0)
    return (v[0] - ref[0]) / s if s > 0 else math.nan


def pm(v: tuple[float, float], d: int = 2) -> str:
    if not finite(v[0]):
        return "-"
    return f"{v[0]:.{d}f}±{v[1]:.{d}f}" if finite(v[1]) else f"{v[0]:.{d}f}±nan"


def slope_fit(a: dict[int, tuple[float, float]], n: int, h: int) -> tuple[float, float]:
    """beta*mu_ex(N) ~ d beta*A_ex/dN at N + 1/2 from an unweighted least-squares parabola through
    beta*A_ex(N') over 2h + 2 consecutive N' around N + 1/2 (N - h .. N + 1 + h, shifted to stay
    inside the computed range); the values at different N are independent (own random streams),
    so the error is propagated from their standard errors. Needs every N' of the window."""
    lo_all, hi_all = min(a), max(a)
    width = 2 * h + 2
    lo = min(max(n - h, lo_all), hi_all - width + 1)
    pts = [(m - (n + 0.5), a.get(m, (math.nan, math.nan))) for m in range(lo, lo + width)]
    if lo < lo_all or len(pts) < 3 or any(not finite(*v) for _, v in pts):
        return (math.nan, math.nan)
    # normal equations for y = c0 + c1 x + c2 x^2; the slope at x = 0 is c1 = sum_i w_i y_i
    s = [sum(x**k for x, _ in pts) for k in range(5)]
    m3 = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]]

    def det(m):
        return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))

    d = det(m3)
    if d == 0:
        return (math.nan, math.nan)
    w = []
    for x, _ in pts:  # Cramer's rule for c1 with right-hand side (1, x, x^2) of one point
        r = [1.0, x, x * x]
        mm = [[m3[i][0], r[i], m3[i][2]] for i in range(3)]
        w.append(det(mm) / d)
    return (sum(wi * v[0] for wi, (_, v) in zip(w, pts)), math.sqrt(sum((wi * v[1]) ** 2 for wi, (_, v) in zip(w, pts))))


def gc_mu_ex_at(gc: dict, rho: float, max_edge: float = 1e-3) -> float:
    """beta*mu_ex at density rho, interpolated linearly in <rho> along the grand-canonical curve
    (only between points whose probability at the ladder's edges is below max_edge)."""
    pts = sorted((r, m) for r, m, e in zip(gc["mean_density"], gc["beta_mu_ex"], gc["edge_weight"])
                 if e < max_edge and finite(r, m))
    for (r0, m0), (r1, m1) in zip(pts, pts[1:]):
        if r0 <= rho <= r1 and r1 > r0:
            return m0 + (m1 - m0) * (rho - r0) / (r1 - r0)
    return math.nan


# ----------------------------------------------------------------------------- the values by method


@dataclass
class Collected:
    """beta*A_ex of every run by method: the columns of the tables, under nti's method names."""

    p: dict
    ns: list[int]  # N of the reverse-SDE run
    subset: list[int]  # N of the corrected windows and the baselines
    ks: list[int]
    rev: Run
    cor: Run
    base_runs: dict[tuple[int, int], Run]
    windows: int  # W
    k_ref: int  # KR: MBAR with the most windows is the reference
    sampler: str  # S: the corrected estimates are named after the window sampler
    tag: str  # cc or gl, in nti's method names
    m_rev: str
    m_cor: str
    m_mala: str
    a_rev: dict[int, tuple[float, float]]
    a_rect: dict[int, tuple[float, float]]
    cols: list[tuple[str, str, dict]]  # (label, method, N -> (value, stderr)) of table 1
    ref: dict[int, tuple[float, float]]  # MBAR with K = k_ref
    extra: dict[str, dict]  # the other estimates of the corrected run (free_energy.json)

    @property
    def rule(self) -> str:  # R
        return self.tag.upper()


def collect(p: dict, ns: list[int], subset: list[int], ks: list[int], rev: Run, cor: Run,
            base_runs: dict[tuple[int, int], Run]) -> Collected:
    """The values of the reverse-SDE run (every N), the corrected run and the baselines (subset N)."""
    W, KR = p["windows"], max(ks)
    S = p.get("window_sampler", "mala")  # the corrected estimates are named after the window sampler
    tag = "cc" if p.get("window_rule", "gauss-legendre") == "clenshaw-curtis" else "gl"  # nti's method names
    R = tag.upper()
    m_rev, m_cor, m_mala = "reverse-sde-trapezoid", f"reverse-sde-{tag}{W}-{S}-corrected", f"windows-{tag}{W}-{S}"
    a_rev = {n: rev.get("beta_a_ex", m_rev, n) for n in ns}
    a_rect = {n: rev.get("beta_a_ex", "reverse-sde-rectangle", n) for n in ns}
    cols: list[tuple[str, str, dict]] = [("NTI rev-SDE", m_rev, {n: a_rev[n] for n in subset}),
                                         (f"NTI corr {R}{W}", m_cor, {n: cor.get("beta_a_ex", m_cor, n) for n in subset})]
    for k in ks:
        cols.append((f"TI K{k}", f"ti-lambda-trapezoid-K{k}",
                     {n: base_runs[(n, k)].get("beta_a_ex", f"ti-lambda-trapezoid-K{k}", n) for n in subset}))
    for k in ks:
        cols.append((f"MBAR K{k}", f"mbar-K{k}", {n: base_runs[(n, k)].get("beta_a_ex", f"mbar-K{k}", n) for n in subset}))
    ref = {n: base_runs[(n, KR)].get("beta_a_ex", f"mbar-K{KR}", n) for n in subset}
    def windows(n: int) -> tuple[float, float]:
        # with the Fokker-Planck control variate ([ti] window_stein_probes) its estimate, as nti's /ti/fit
        v = cor.get("beta_a_ex", f"{m_mala}-stein", n)
        return v if math.isfinite(v[0]) else cor.get("beta_a_ex", m_mala, n)

    extra = {f"NTI {R}-{S.upper()} windows": {n: windows(n) for n in subset},
             "NTI rev-SDE (corrected run)": {n: cor.get("beta_a_ex", m_rev, n) for n in subset},
             f"NTI {R} uncorrected": {n: cor.get("beta_a_ex", f"windows-{tag}{W}-uncorrected", n) for n in subset}}
    if tag == "cc":  # the embedded quadrature error estimate (half rule minus all windows)
        extra["NTI CC quadrature error"] = {n: cor.get("quadrature_error", m_mala, n) for n in subset}
    return Collected(p=p, ns=ns, subset=subset, ks=ks, rev=rev, cor=cor, base_runs=base_runs, windows=W, k_ref=KR,
                     sampler=S, tag=tag, m_rev=m_rev, m_cor=m_cor, m_mala=m_mala, a_rev=a_rev, a_rect=a_rect, cols=cols,
                     ref=ref, extra=extra)


def nonfinite_results(res: Collected) -> list[str]:
    """The non-finite values of the runs that finished."""
    rev, cor, base_runs, ns, subset, a_rev = res.rev, res.cor, res.base_runs, res.ns, res.subset, res.a_rev
    cols = res.cols

    nonfinite = []
    if rev.ok:
        nonfinite += [f"reverse SDE N = {n}: {a_rev[n]}" for n in ns if not finite(*a_rev[n])]
    if cor.ok:
        nonfinite += [f"{cols[1][0]} N = {n}: {cols[1][2][n]}" for n in subset if not finite(*cols[1][2][n])]
    for label, method, d in cols[2:]:
        k = int(label.split("K")[-1])
        nonfinite += [f"{label} N = {n}: {d[n]}" for n in subset if base_runs[(n, k)].ok and not finite(*d[n])]
    return nonfinite


# ----------------------------------------------------------------------------- the printed tables


@dataclass
class Tables:
    """What the tables computed besides printing (free_energy.json, the CSV and the plot)."""

    csv_rows: list[dict]
    z_cor: dict[int, float]
    eos_rows: dict[int, dict]
    mu_nti: dict[int, tuple[float, float]]
    gc: dict | None
    gc_note: str
    table2: list[dict]
    chords: list[dict]
    every_n: dict | None


def print_tables(res: Collected, model: Path, failures: list[str], nti: Path) -> Tables:
    """Tables 1-3, the equation of state and the grand-canonical curve, in this order; appends to
    failures when nti's own fit disagrees with table 3."""
    csv_rows, z_cor = print_table1(res)
    eos_rows = print_eos_table(res, model)
    mu_nti, gc, gc_note, table2 = print_table2(res)
    chords = print_chords(res)
    every_n = print_table3(res, failures, nti)
    if gc:
        print_grand_canonical(res, gc)
    return Tables(csv_rows=csv_rows, z_cor=z_cor, eos_rows=eos_rows, mu_nti=mu_nti, gc=gc, gc_note=gc_note,
                  table2=table2, chords=chords, every_n=every_n)


def print_table1(res: Collected) -> tuple[list[dict], dict[int, float]]:
    """Table 1: beta*A_ex at the subset N by every method, z against the reference; the CSV rows and
    the z of the corrected Neural TI."""
    p, subset, cols, ref, extra = res.p, res.subset, res.cols, res.ref, res.extra
    W, KR, S, R, tag, m_cor = res.windows, res.k_ref, res.sampler, res.rule, res.tag, res.m_cor

    log(f"\n=== table 1: beta*A_ex(N) in kT, T = {TEMPERATURE}, V = {VOLUME:g}, min-image "
        f"(± standard error; z = (value - MBAR K{KR}) / combined standard error) ===")
    wcol = WCOL
    log(f"{'N':>4} {'rho':>7} " + " ".join(f"{c[0]:>{wcol}}" for c in cols))
    csv_rows = []
    z_cor = {}
    for n in subset:
        log(f"{n:>4} {n / VOLUME:>7.4f} " + " ".join(f"{pm(c[2][n]):>{wcol}}" for c in cols))
        zs = []
        for label, method, d in cols:
            if label == f"MBAR K{KR}":
                zs.append("ref")
                continue
            z = zscore(d[n], ref[n])
            if label.startswith("NTI corr"):
                z_cor[n] = z
            zs.append(f"{z:+.1f}" if finite(z) else "-")
        log(f"{'':>4} {'z':>7} " + " ".join(f"{z:>{wcol}}" for z in zs))
        for label, method, d in cols:
            csv_rows.append(dict(table="beta_a_ex", n=n, rho=n / VOLUME, method=method, label=label,
                                 value=d[n][0], stderr=d[n][1], z_vs_ref=zscore(d[n], ref[n])))
    log(f"NTI rev-SDE: reverse SDE, trapezoid rule ({p['trajectories']} trajectories x {p['steps']} steps, the "
        f"every-N run); NTI corr: the reverse SDE with {W} {S.upper()}-corrected {R} windows as control variate "
        f"({m_cor}); TI K: trapezoid rule over K uniform lambda windows; MBAR K: the same windows.")
    log(f"also in free_energy.json: reverse SDE rectangle rule, {R}-{S.upper()} windows alone, {R} uncorrected windows"
        + (", the CC quadrature error estimate (beta*A_ex by the half rule minus by all windows):" if tag == "cc" else ":"))
    for label, d in extra.items():
        if label.endswith("quadrature error"):  # z against its own error, not against MBAR
            log(f"  {label:<28} " + "  ".join(f"N={n}: {pm(d[n])} (z {d[n][0] / d[n][1]:+.1f})" if finite(*d[n]) else
                                           f"N={n}: -" for n in subset))
            continue
        log(f"  {label:<28} " + "  ".join(f"N={n}: {pm(d[n])} (z {zscore(d[n], ref[n]):+.1f})" if finite(d[n][0]) else
                                       f"N={n}: -" for n in subset))
    return csv_rows, z_cor


def print_eos_table(res: Collected, model: Path) -> dict[int, dict]:
    """The equation of state beside every method, and the window-start and drift checks."""
    subset, cols, cor, KR, m_mala = res.subset, res.cols, res.cor, res.k_ref, res.m_mala

    eos = {n: (eos_minimage.beta_a_ex(n, "KN"), eos_minimage.beta_a_ex(n, "JZG")) for n in subset}
    u_mc = {}
    for n in subset:
        f = model.parent / f"train_N{n}.h5"
        if f.is_file():
            u_mc[n] = eos_minimage.mc_energy(f)
    log(f"\nequation of state: N beta*a_ex from the full-potential KN / JZG EOS with the min-image correction "
        f"(validation/paper_lj/eos_minimage.py; no finite-size correction). It is a reference only where the "
        f"system is a homogeneous liquid: T = {TEMPERATURE} is below the critical temperature, and at rho <~ 0.56 "
        f"the EOS is inside the two-phase region; the u/N column checks it against the training data. "
        f"d = value - (KN + JZG)/2, ± the value's standard error (the KN - JZG spread is the EOS's own uncertainty).")
    eos_cols = [c for c in cols if c[0].startswith("NTI corr") or c[0] in (f"MBAR K{KR}", f"TI K{KR}")]
    log(f"{'N':>4} {'EOS KN':>9} {'EOS JZG':>9} {'u/N KN':>8} {'u/N data':>16} " +
        " ".join(f"{'d ' + c[0]:>18}" for c in eos_cols) + f" {'start z':>8} {'drift z':>8}")
    eos_rows = {}
    for n in subset:
        mid = 0.5 * sum(eos[n])
        um = u_mc.get(n)
        zs = cor.get("window_start_max_z", m_mala, n)[0] if cor.ok else math.nan
        zd = cor.get("window_drift_max_z", m_mala, n)[0] if cor.ok else math.nan
        diffs = {c[1]: (c[2][n][0] - mid, c[2][n][1]) for c in eos_cols}
        eos_rows[n] = dict(kn=eos[n][0], jzg=eos[n][1], u_kn=eos_minimage.u_per_particle(n, "KN"),
                           u_data=um, diff=diffs, window_start_max_z=zs, window_drift_max_z=zd)
        log(f"{n:>4} {eos[n][0]:>9.2f} {eos[n][1]:>9.2f} {eos_minimage.u_per_particle(n, 'KN'):>8.3f} "
            f"{(pm(um, 4) if um else '-'):>16} " + " ".join(f"{pm(diffs[c[1]]):>18}" for c in eos_cols) +
            f" {(f'{zs:.1f}' if finite(zs) else '-'):>8} {(f'{zd:.1f}' if finite(zd) else '-'):>8}")
    log("start z: largest |z| over the windows of the disagreement between data-started and reverse-SDE-started "
        "window chains (nti ti window_start_max_z); drift z: largest |z| of the change of the chains' mean du/dt "
        "from the first to the second half of production (window_drift_max_z). Above ~3 (24 windows) the windows "
        "are not converged.")
    return eos_rows


def print_table2(res: Collected) -> tuple[dict, dict | None, str, list[dict]]:
    """Table 2: beta*mu_ex(rho) from the reverse SDE (and the conventional values where N and N+1 are
    both in the subset); nti's beta_mu_ex by N, the grand-canonical curve (or why not) and the rows."""
    p, ns, subset, rev, base_runs, a_rev = res.p, res.ns, res.subset, res.rev, res.base_runs, res.a_rev
    cols, KR, m_rev = res.cols, res.k_ref, res.m_rev

    mu_nti = {}  # N -> A(N+1) - A(N) (nti's beta_mu_ex, reverse SDE)
    for n in ns:
        if n + 1 in a_rev:
            v = rev.get("beta_mu_ex", m_rev, n)
            if not finite(v[0]):
                x, y = a_rev[n], a_rev[n + 1]
                v = (y[0] - x[0], math.hypot(x[1], y[1]))
            mu_nti[n] = v
    gc, gc_note = (read_grand_canonical(rev.dir / "results.h5") if rev.ok else (None, "reverse-SDE run failed"))
    h = p["fit_half_width"]
    rows2 = [n for n in ns if n + 1 in a_rev and (n % p["mu_every"] == 0 or n == subset[0])]
    if not rows2:  # thinned N: chords between successive N
        rows2 = ns[:-1]
    log(f"\n=== table 2: beta*mu_ex(rho) in kT, rho = (N + 1/2)/V (every {p['mu_every']}th N) ===")
    hdr2 = ["N", "rho", "A(N+1)-A(N)", f"fit ±{h}", "GC"] + [f"corr", f"MBAR K{KR}", f"TI K{KR}"]
    log(f"{hdr2[0]:>4} {hdr2[1]:>7} {hdr2[2]:>14} {hdr2[3]:>13} {hdr2[4]:>7} {hdr2[5]:>13} {hdr2[6]:>13} {hdr2[7]:>13}")
    table2 = []
    for n in rows2:
        nxt = min((m for m in ns if m > n), default=None)
        if nxt is None:
            continue
        x, y = a_rev[n], a_rev[nxt]
        step = nxt - n
        d = mu_nti.get(n) if step == 1 else ((y[0] - x[0]) / step, math.hypot(x[1], y[1]) / step)
        rho = (n + nxt) / 2 / VOLUME
        fit = slope_fit(a_rev, n, h) if p["n_step"] == 1 else (math.nan, math.nan)
        g = gc_mu_ex_at(gc, rho) if gc else math.nan

        def conv(dd: dict) -> tuple[float, float]:
            if n in dd and n + 1 in dd:
                return (dd[n + 1][0] - dd[n][0], math.hypot(dd[n][1], dd[n + 1][1]))
            return (math.nan, math.nan)

        c_cor = conv(cols[1][2])
        c_mb = conv({m: base_runs[(m, KR)].get("beta_a_ex", f"mbar-K{KR}", m) for m in subset})
        c_ti = conv({m: base_runs[(m, KR)].get("beta_a_ex", f"ti-lambda-trapezoid-K{KR}", m) for m in subset})
        table2.append(dict(n=n, n_next=nxt, rho=rho, diff=d, fit=fit, gc=g, corrected=c_cor, mbar=c_mb, ti=c_ti))
        log(f"{n:>4} {rho:>7.4f} {pm(d):>14} {pm(fit):>13} {(f'{g:.2f}' if finite(g) else '-'):>7} {pm(c_cor):>13} "
            f"{pm(c_mb):>13} {pm(c_ti):>13}")
    log(f"A(N+1)-A(N): Neural TI reverse SDE (nti ti's beta_mu_ex); fit ±{h}: slope at N + 1/2 of a least-squares "
        f"parabola through the reverse-SDE beta*A_ex(N-{h} .. N+1+{h}) (window shifted at the ends of the range); GC: beta*mu - ln<rho> of nti's grand-canonical reweighting "
        f"(Lambda = 1) interpolated at rho; corr/MBAR/TI: differences of the corrected Neural TI / conventional "
        f"values where N and N+1 are both in the subset.")
    if any(r["n_next"] - r["n"] > 1 for r in table2):
        log("(N not consecutive: the A(N+1)-A(N) column is (A(N') - A(N)) / (N' - N) for the next computed N', "
            "at rho = (N + N')/(2V))")
    if gc is None:
        log(f"(grand canonical: {gc_note})")
    return mu_nti, gc, gc_note, table2


def print_chords(res: Collected) -> list[dict]:
    """Finite differences between successive subset N, every method."""
    subset, cols = res.subset, res.cols
    wcol = WCOL

    # chords between successive subset N (all methods)
    log(f"\nfinite differences between successive subset N: (A(N2) - A(N1)) / (N2 - N1), in kT, "
        f"at rho = (N1 + N2)/(2V)")
    log(f"{'N1-N2':>8} {'rho':>7} " + " ".join(f"{c[0]:>{wcol}}" for c in cols))
    chords = []
    for n1, n2 in zip(subset, subset[1:]):
        vals = []
        for label, method, d in cols:
            x, y = d[n1], d[n2]
            vals.append(((y[0] - x[0]) / (n2 - n1), math.hypot(x[1], y[1]) / (n2 - n1)))
        chords.append(dict(n1=n1, n2=n2, rho=(n1 + n2) / 2 / VOLUME, values={c[1]: v for c, v in zip(cols, vals)}))
        log(f"{f'{n1}-{n2}':>8} {(n1 + n2) / 2 / VOLUME:>7.4f} " + " ".join(f"{pm(v, 3):>{wcol}}" for v in vals))
    return chords


def print_table3(res: Collected, failures: list[str], nti: Path) -> dict | None:
    """Table 3: every N from the windows' values at the subset (a_of_n.py, by `nti fit`), checked
    against the fit inside the corrected run (/ti/fit)."""
    p, ns, subset, cor, extra, S, R = res.p, res.ns, res.subset, res.cor, res.extra, res.sampler, res.rule

    # ---- table 3: every N from the windows' values at the subset (a_of_n.py; the same estimate as
    # nti's /ti/fit: the windows alone, not the reverse SDE corrected by them, see README session 8)
    win = extra[f"NTI {R}-{S.upper()} windows"]
    corr_pts = {n: win[n] for n in subset if finite(*win[n]) and win[n][1] > 0}
    every_n = None
    if len(corr_pts) >= 3:
        log(f"\n=== table 3: beta*A_ex(N) for every N = {ns[0]}..{ns[-1]} and beta*mu_ex(rho) from the "
            f"Metropolis-corrected {R}-{S.upper()} windows at the subset (validation/paper_lj/a_of_n.py) ===")
        every_n = a_of_n.report(corr_pts, range(ns[0], ns[-1] + 1), nti, p["mu_every"], VOLUME, log=log,
                                eos=lambda n: (eos_minimage.beta_a_ex(n, "KN"), eos_minimage.beta_a_ex(n, "JZG")))
        # the fit inside the corrected run (/ti/fit, src/estimators/density_fit.rs) is the same code
        # as `nti fit`: the two must agree to round-off (both degree min(5, points - 2)), a check of
        # the values passed through nti summary and JSON
        every_n["nti_fit_max_abs_diff"] = nti_fit_difference(cor, every_n) if cor.ok else None
        if every_n["nti_fit_max_abs_diff"] is not None:
            d = every_n["nti_fit_max_abs_diff"]
            log(f"nti's own fit (/ti/fit of ti_corrected): largest |difference| to this table {d:.2e} kT"
                + ("" if d < 1e-6 else "  <- DISAGREE"))
            if not d < 1e-6:
                failures.append(f"nti /ti/fit and a_of_n.py disagree by {d:.2e} kT")
    else:
        log("\n(table 3 needs window values at >= 3 subset N)")
    return every_n


def print_grand_canonical(res: Collected, gc: dict) -> None:
    """Every 4th point of nti's grand-canonical reweighting of the reverse-SDE beta*A_ex(N)."""
    ns = res.ns

    log(f"\ngrand-canonical reweighting of the reverse-SDE beta*A_ex(N), N = {ns[0]}..{ns[-1]} "
        f"(nti ti /grand_canonical, method {gc['method']}):")
    log(f"{'beta*mu':>9} {'<N>':>8} {'<rho>':>15} {'beta*mu_ex':>10} {'edge weight':>11}")
    for i in range(0, len(gc["beta_mu"]), 4):
        log(f"{gc['beta_mu'][i]:>9.3f} {gc['mean_n'][i]:>8.2f} "
            f"{gc['mean_density'][i]:>8.4f}±{gc['mean_density_stderr'][i]:<6.4f} {gc['beta_mu_ex'][i]:>10.3f} "
            f"{gc['edge_weight'][i]:>11.1e}")
    log("(edge weight: probability of the smallest or largest N of the ladder; large values mean <rho> is "
        "cut off by the N range)")
