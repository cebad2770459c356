"""Report of validation/cost_benchmark.py: the estimators at N0 from the two pilots, the printed
tables (cost to the target stderr at N0, check of the extrapolation model, isotherm routes) and
benchmark.json.

Standard library only. See cost_benchmark.py for the method and the extrapolation model.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from cost_model import Cost, PerN, fixed_fraction, isotherm_ns, loglog_slope, to_target
from cost_stages import CUTOFF, SIDE, TEMPERATURE, VOLUME, Plan, Stages, result


# ----------------------------------------------------------------------------------------------
# report helpers
# ----------------------------------------------------------------------------------------------

def f_s(x: float, w: int = 9) -> str:
    if x is None or not math.isfinite(x):
        return f"{'-':>{w}}"
    if abs(x) >= 1e5:
        return f"{x:>{w}.3g}"
    return f"{x:>{w}.1f}" if abs(x) >= 10 else f"{x:>{w}.2f}"


def f_e(x: float, w: int = 9) -> str:
    return f"{'-':>{w}}" if x is None or not math.isfinite(x) else f"{x:>{w}.4f}"


class Report:
    def __init__(self, path: Path):
        self.path = path
        self.lines: list[str] = []

    def __call__(self, s: str = "") -> None:
        print(s, flush=True)
        self.lines.append(s)

    def save(self) -> None:
        self.path.write_text("\n".join(self.lines) + "\n")

# ----------------------------------------------------------------------------------------------
# estimators at N0
# ----------------------------------------------------------------------------------------------

def estimator(plan: Plan, label: str, rec1: dict, recf: dict, method: str, notes: list[str],
              name: str = "beta_a_ex") -> dict:
    """One estimator from the x1 and xF pilots: values, stderrs, costs, fixed fraction, cost to target."""
    fac, target = plan.fac, plan.target
    v1, e1 = result(rec1, name, method)
    vf, ef = result(recf, name, method)
    c1, cf = Cost.of(rec1), Cost.of(recf)
    frac, note = fixed_fraction(c1.cpu, cf.cpu, 1.0, float(fac))
    if note:
        notes.append(f"{label}: {note}")
    return dict(label=label, method=method, v1=v1, e1=e1, vf=vf, ef=ef, c1=c1, cf=cf, frac=frac,
                pred_ef=e1 / math.sqrt(fac),
                at_target=to_target(cf, frac, ef, target))


def n0_estimators(plan: Plan, st: Stages, notes: list[str]) -> dict[str, dict]:
    """The estimators at N0, keyed head, plain, trap, mbar, ti (in that order). head and plain come
    from the windows allocated by the pilot ([ti] window_pilot), whose cost is a fixed cost of both."""
    n0, fac, Kb = plan.n0, plan.fac, plan.Kb
    ti, rev, base = st.ti, st.rev, st.base
    est = {}
    est["head"] = estimator(plan, f"Neural TI, {plan.headline}", ti[(n0, 1)], ti[(n0, fac)], plan.headline, notes)
    est["plain"] = estimator(plan, f"Neural TI, {plan.plain_windows}", ti[(n0, 1)], ti[(n0, fac)],
                             plan.plain_windows, notes)
    est["trap"] = estimator(plan, "Neural TI, reverse-sde-trapezoid", rev[1], rev[fac], "reverse-sde-trapezoid", notes)
    # the trapezoid estimate of the reverse-only run must equal the one inside the headline run
    vt_h, _ = result(ti[(n0, 1)], "beta_a_ex", "reverse-sde-trapezoid")
    if abs(vt_h - est["trap"]["v1"]) > 1e-9 * max(1.0, abs(vt_h)):
        notes.append(f"reverse-only run's trapezoid estimate {est['trap']['v1']:.6f} differs from the headline "
                     f"run's {vt_h:.6f} (expected identical: same trajectories)")
    est["mbar"] = estimator(plan, f"TI + MBAR, mbar-K{Kb}", base[(n0, 1)], base[(n0, fac)], f"mbar-K{Kb}", notes)
    est["ti"] = estimator(plan, f"conventional TI, ti-lambda-trapezoid-K{Kb}", base[(n0, 1)], base[(n0, fac)],
                          f"ti-lambda-trapezoid-K{Kb}", notes)
    return est


# ----------------------------------------------------------------------------------------------
# report: cost at N0
# ----------------------------------------------------------------------------------------------

def uniform_estimator(plan: Plan, st: Stages, est: dict[str, dict]) -> dict:
    """The headline estimator of the pilot run (equal steps in every window, x1 effort): the same
    windows before the allocation, extrapolated with the headline's fixed fraction."""
    rec = st.pilot[plan.n0]
    v, e = result(rec, "beta_a_ex", plan.headline)
    c = Cost.of(rec)
    return dict(v=v, e=e, c=c, at_target=to_target(c, est["head"]["frac"], e, plan.target))


def report_n0(rep: Report, plan: Plan, st: Stages, est: dict[str, dict], c_data0: Cost, c_train: Cost,
              c_data_all: Cost, notes: list[str]) -> list[dict]:
    """The N0 section: pilots, the cost table, fixed costs and caveats, the check of the model.
    Returns the table rows (for benchmark.json)."""
    _n0_header(rep, plan, est)
    rows = _n0_table(rep, plan, est, uniform_estimator(plan, st, est), Cost.of(st.pilot[plan.n0]), c_data0, c_train)
    _n0_fixed_costs_and_caveats(rep, plan, st, est, c_data0, c_train, c_data_all)
    _model_check(rep, plan, est, notes)
    return rows


def _n0_header(rep: Report, plan: Plan, est: dict[str, dict]) -> None:
    n0, fac, target = plan.n0, plan.fac, plan.target
    rep("\n" + "=" * 118)
    rep(f"COST TO STDERR {target} kT ON beta*A_ex AT N = {n0} (T = {TEMPERATURE}, L = {SIDE}, r_c = {CUTOFF} + tails)")
    rep("=" * 118)
    rep("Extrapolation model: stderr(s) = stderr_pilot * sqrt(s_pilot / s); cost(s) = c_fixed + c_sampling * s;")
    rep(f"  cost to {target} kT = c_fixed + (cost_pilot - c_fixed) * (stderr_pilot / {target})^2, from the x{fac} pilot;")
    rep("  c_fixed / cost_pilot from a straight line through the CPU seconds of the x1 and x{0} pilots;".format(fac))
    rep("  training data (MC at N0) and training are fixed costs, added when counted.")
    rep(f"Pilot estimates (beta*A_ex in kT): x1 and x{fac} sampling effort")
    for e in est.values():
        rep(f"  {e['label']:<48} x1: {e['v1']:10.4f} ± {e['e1']:.4f}   x{fac}: {e['vf']:10.4f} ± {e['ef']:.4f}")
    rep("")


def _n0_table(rep: Report, plan: Plan, est: dict[str, dict], uni: dict, c_pilot: Cost, c_data0: Cost,
              c_train: Cost) -> list[dict]:
    p, fac, target, K, Kb = plan.p, plan.fac, plan.target, plan.K, plan.Kb
    headline = plan.headline
    hdr = (f"{'method':<44} | {'what is counted':<44} | {'wall s':>9} | {'core-s':>9} | {'cpu-s':>9} | "
           f"{'stderr':>8} | {'to ' + str(target) + ' kT: wall s':>17} | {'core-s':>9} | {'cpu-s':>9}")
    rep(hdr)
    rep("-" * len(hdr))
    rows = []

    def row(method, counted, measured: Cost, stderr, to_t: Cost):
        rows.append(dict(method=method, counted=counted, wall=measured.wall, core=measured.core, cpu=measured.cpu,
                         stderr=stderr, target_wall=to_t.wall, target_core=to_t.core, target_cpu=to_t.cpu))
        rep(f"{method:<44} | {counted:<44} | {f_s(measured.wall)} | {f_s(measured.core)} | {f_s(measured.cpu)} | "
            f"{f_e(stderr, 8)} | {f_s(to_t.wall, 17)} | {f_s(to_t.core)} | {f_s(to_t.cpu)}")

    est_head, est_trap, est_mbar, est_ti = (est[k] for k in ("head", "trap", "mbar", "ti"))
    tr_w = p["trajectories"] * fac
    win = f"{K} win. x {p['window_chains']} ch. x {p['window_steps'] * fac} steps"
    row(f"Neural TI {headline}", f"TI only (pilot + {win}, Neyman)", est_head["cf"] + c_pilot, est_head["ef"],
        est_head["at_target"] + c_pilot)
    row(f"Neural TI {headline}", "TI + pilot + training data (MC N0) + training",
        est_head["cf"] + c_pilot + c_data0 + c_train, est_head["ef"], est_head["at_target"] + c_pilot + c_data0 + c_train)
    est_plain = est["plain"]
    row(f"Neural TI {plan.plain_windows}", "same run, without the FP control variate", est_plain["cf"] + c_pilot,
        est_plain["ef"], est_plain["at_target"] + c_pilot)
    row(f"Neural TI {headline}", "x1, equal steps per window (the pilot run)", uni["c"], uni["e"], uni["at_target"])
    row("Neural TI reverse-sde-trapezoid", f"reverse SDE only ({tr_w} trajectories)", est_trap["cf"], est_trap["ef"],
        est_trap["at_target"])
    row("Neural TI reverse-sde-trapezoid", "rev. SDE + training data (MC N0) + training",
        est_trap["cf"] + c_data0 + c_train, est_trap["ef"], est_trap["at_target"] + c_data0 + c_train)
    row(f"TI + MBAR mbar-K{Kb}", f"{Kb} MC windows x ({p['base_equilibration']} + {p['base_production'] * fac})",
        est_mbar["cf"], est_mbar["ef"], est_mbar["at_target"])
    row(f"conventional TI ti-lambda-trapezoid-K{Kb}", "same runs as MBAR", est_ti["cf"], est_ti["ef"],
        est_ti["at_target"])
    rep("-" * len(hdr))
    return rows


def _n0_fixed_costs_and_caveats(rep: Report, plan: Plan, st: Stages, est: dict[str, dict], c_data0: Cost,
                                c_train: Cost, c_data_all: Cost) -> None:
    p, n0, ns_iso, fac, Kb = plan.p, plan.n0, plan.ns_iso, plan.fac, plan.Kb
    rep(f"fixed costs: training data at N0 = {n0}: {c_data0.wall:.1f} s wall / {c_data0.cpu:.1f} s cpu; "
        f"training (model on N = {ns_iso}): {c_train.wall:.1f} s wall / {c_train.cpu:.1f} s cpu "
        f"({p['steps']} steps, hidden {p['hidden']}); all training data ({len(ns_iso)} N): "
        f"{c_data_all.wall:.1f} s wall / {c_data_all.cpu:.1f} s cpu")
    rep(f"caveats: (1) the conventional TI row has only its statistical error; the bias of the trapezoid rule over "
        f"{Kb} windows is not costed. (2) nti's MBAR keeps n/g samples per window (fractional stride, "
        "g the statistical inefficiency of the reduced energies), as pymbar does. (3) MBAR needs overlap between neighbouring "
        "windows, which falls with N at fixed K: too few windows make its stderr unreliable (flagged below).")
    ovl = []
    for key, rec in sorted(st.base.items()):
        try:
            ovl.append(f"N = {key[0]} x{key[1]}: {result(rec, 'mbar_min_neighbour_overlap', f'mbar-K{Kb}')[0]:.3f}")
        except KeyError:
            pass
    if ovl:
        rep(f"MBAR smallest neighbour overlap (K = {Kb}; nti warns below 0.03): " + ", ".join(ovl))
    rep(f"fixed fraction of the x{fac} pilot (fit): " + ", ".join(f"{e['label'].split(',')[0]} "
        f"{e['method']}: {e['frac']:.3f}" for e in (est["head"], est["trap"], est["mbar"])))


def _model_check(rep: Report, plan: Plan, est: dict[str, dict], notes: list[str]) -> None:
    """Predicted against measured stderr of the xF pilot, cost ratios; then every note so far."""
    fac, target = plan.fac, plan.target
    rep(f"\nCheck of the extrapolation model with the x{fac} pilot (independent seed):")
    rep(f"{'estimator':<48} {'stderr x1':>10} {'predicted x' + str(fac):>13} {'measured x' + str(fac):>13} "
        f"{'meas/pred':>9} {'cpu x' + str(fac) + '/x1':>10} {'wall x' + str(fac) + '/x1':>11}")
    for e in est.values():
        q = e["ef"] / e["pred_ef"]
        flag = "" if 0.6 <= q <= 1.6 else "  <- NOT sampling-limited as piloted: its extrapolation is invalid"
        if flag:
            notes.append(f"{e['label']}: measured/predicted stderr {q:.2f} at x{fac}; cost to {target} kT not trustworthy")
        rep(f"{e['label']:<48} {f_e(e['e1'], 10)} {f_e(e['pred_ef'], 13)} {f_e(e['ef'], 13)} "
            f"{q:>9.2f} {e['cf'].cpu / e['c1'].cpu:>10.2f} {e['cf'].wall / e['c1'].wall:>11.2f}{flag}")
    rep(f"  (cost ratio expected ~{fac} for pure sampling, less with fixed costs; a stderr ratio outside 0.6-1.6 (flagged)"
        " means the stderr estimates of the pilots are too noisy or not sampling-limited)")
    for n in notes:
        rep(f"  note: {n}")


# ----------------------------------------------------------------------------------------------
# report: isotherm
# ----------------------------------------------------------------------------------------------

def per_n(runs: dict, ns_iso: list[int], method: str, name: str, frac: float, target: float,
          extra_fixed: dict | None = None) -> tuple[PerN, list]:
    """Per-N cost model from one run per measured N, and its table rows (N, cost, stderr, cost to
    target); `extra_fixed` (N -> Cost, e.g. the pilot run) is added to the fixed cost and the run's cost."""
    fixed, samp, tab = [], [], []
    for n in ns_iso:
        rec = runs[n]
        c = Cost.of(rec)
        x = extra_fixed[n] if extra_fixed else Cost()
        _, e = result(rec, name, method)
        fixed.append(c * frac + x)
        samp.append(c * ((1 - frac) * (e / target) ** 2))
        tab.append((n, c + x, e, c * frac + x + c * ((1 - frac) * (e / target) ** 2)))
    return PerN(ns_iso, fixed, samp, target), tab


@dataclass
class IsothermTotals:
    """Summed cost of each route over the isotherm."""

    ti_pairs: Cost
    bl_pairs: Cost
    wi_total: Cost
    best_conv: Cost
    n_widom_better: int
    ladder: Cost


def report_isotherm(rep: Report, plan: Plan, st: Stages, est: dict[str, dict], fixed_nti: Cost, points: int,
                    notes: list[str]) -> tuple[list[int], list[dict], tuple[list, list, list]]:
    """The isotherm section. Returns the N of the isotherm, the route rows and the per-N tables."""
    iso = _isotherm_header(rep, plan, points)
    (pn_ti, pn_bl, pn_wi), tabs = _per_n_section(rep, plan, st, est, notes)
    se_a = plan.target / math.sqrt(2)
    tot = isotherm_totals(iso, pn_ti, pn_bl, pn_wi, se_a, plan.target)
    _isotherm_assumptions(rep, plan, iso, se_a)
    iso_rows = _isotherm_table(rep, plan, iso, tot, fixed_nti, pn_wi is not None)
    return iso, iso_rows, tabs


def _isotherm_header(rep: Report, plan: Plan, points: int) -> list[int]:
    ns_iso, target = plan.ns_iso, plan.target
    rep("\n" + "=" * 118)
    m = points
    lo, hi = ns_iso[0], ns_iso[-1]
    iso = isotherm_ns(lo, hi, m)
    if len(iso) < m:
        rep(f"(only {len(iso)} distinct N in [{lo}, {hi - 1}] for {m} points)")
    rep(f"ISOTHERM beta*mu_ex(rho) at T = {TEMPERATURE}: {len(iso)} densities, N = {iso[0]} .. {iso[-1]} "
        f"(rho = {iso[0] / VOLUME:.3f} .. {iso[-1] / VOLUME:.3f}), stderr {target} kT on each beta*mu_ex")
    rep("=" * 118)
    return iso


def _per_n_section(rep: Report, plan: Plan, st: Stages, est: dict[str, dict], notes: list[str]):
    """Per-N cost models (Neural TI, TI + MBAR, Widom or None) and their printed tables."""
    p, ns_iso, target, Kb, headline = plan.p, plan.ns_iso, plan.target, plan.Kb, plan.headline
    widom = st.widom
    ti_n = {n: st.ti[(n, 1)] for n in ns_iso}
    bl_n = {n: st.base[(n, 1)] for n in ns_iso}
    pilots = {n: Cost.of(st.pilot[n]) for n in ns_iso}
    pn_ti, tab_ti = per_n(ti_n, ns_iso, headline, "beta_a_ex", est["head"]["frac"], target, pilots)
    pn_bl, tab_bl = per_n(bl_n, ns_iso, f"mbar-K{Kb}", "beta_a_ex", est["mbar"]["frac"], target)
    pn_wi, tab_wi = None, []
    if widom:
        melt = 200  # [sample] melt_sweeps default
        wfrac = (melt + p["widom_equilibration"]) / (melt + p["widom_equilibration"] + p["widom_production"])
        try:
            pn_wi, tab_wi = per_n(widom, ns_iso, "widom", "beta_mu_ex", wfrac, target)
        except KeyError as ex:
            notes.append(f"Widom: {ex}")
    rep("Per-N cost measured (x1 pilots; Neural TI with its allocation pilot) and cost of one run to stderr 0.1 kT "
        "(extrapolated as above):")
    rep(f"{'run':<48} {'N':>5} {'rho':>6} {'wall s':>9} {'cpu-s':>9} {'stderr':>8} {'to ' + str(target) + ': cpu-s':>14} "
        f"{'core-s':>10}")
    for label, tab in ((f"Neural TI {headline}", tab_ti), (f"TI + MBAR mbar-K{Kb} (beta*A_ex)", tab_bl),
                       ("Widom (beta*mu_ex)", tab_wi)):
        for n, c, e, t in tab:
            rep(f"{label:<48} {n:>5} {n / VOLUME:>6.3f} {f_s(c.wall)} {f_s(c.cpu)} {f_e(e, 8)} {f_s(t.cpu, 14)} "
                f"{f_s(t.core, 10)}")
        if tab:
            rep(f"{'':<48} log-log slope over N: run cost ~ N^{loglog_slope(ns_iso, [x[1].cpu for x in tab]):.2f}, "
                f"cost to {target} kT ~ N^{loglog_slope(ns_iso, [x[3].cpu for x in tab]):.2f}")
    if widom:
        rep("  (Widom: fixed fraction = (melt 200 + equilibration) / (melt + equilibration + production) sweeps;"
            " its block-averaged stderr is unreliable where insertions rarely succeed, i.e. at high density)")
    return (pn_ti, pn_bl, pn_wi), (tab_ti, tab_bl, tab_wi)


def isotherm_totals(iso: list[int], pn_ti: PerN, pn_bl: PerN, pn_wi: PerN | None, se_a: float,
                    target: float) -> IsothermTotals:
    """Pairs N, N+1 at stderr se_a each (Neural TI, TI + MBAR), Widom at stderr target, the cheaper
    conventional route per density, and the Neural TI ladder over every N."""
    ti_pairs = Cost()
    bl_pairs = Cost()
    wi_total = Cost()
    best_conv = Cost()
    n_widom_better = 0
    for n in iso:
        t_ = pn_ti.cost(n, se_a) + pn_ti.cost(n + 1, se_a)
        b_ = pn_bl.cost(n, se_a) + pn_bl.cost(n + 1, se_a)
        ti_pairs += t_
        bl_pairs += b_
        if pn_wi:
            w_ = pn_wi.cost(n, target)
            wi_total += w_
            if w_.cpu < b_.cpu:
                n_widom_better += 1
                best_conv += w_
            else:
                best_conv += b_
        else:
            best_conv += b_
    ladder = Cost()
    for n in range(iso[0], iso[-1] + 2):
        ladder += pn_ti.cost(n, se_a)
    return IsothermTotals(ti_pairs, bl_pairs, wi_total, best_conv, n_widom_better, ladder)


def _isotherm_assumptions(rep: Report, plan: Plan, iso: list[int], se_a: float) -> None:
    ns_iso, target = plan.ns_iso, plan.target
    rep(f"\nAssumptions: beta*mu_ex(N) = beta*A_ex(N+1) - beta*A_ex(N) from two independent runs at stderr "
        f"{target}/sqrt(2) = {se_a:.4f} kT each;")
    rep(f"  per-N cost = fixed + sampling * (stderr_N / target)^2, with the fixed fraction of the N0 pilots, "
        f"interpolated between N = {ns_iso} as a piecewise power law;")
    rep(f"  Neural TI: one model for the whole range, trained once on MC data at N = {ns_iso} with the pilot's "
        f"training budget (assumed sufficient for the range);")
    rep(f"  the ladder (grand-canonical reweighting, <rho>(beta mu)) needs beta*A_ex at every N = {iso[0]}..{iso[-1] + 1} "
        f"({iso[-1] + 2 - iso[0]} runs);")
    rep("  wall on R ranks = core-seconds / R if the independent runs are spread perfectly (they are: one run per N).")


def _isotherm_table(rep: Report, plan: Plan, iso: list[int], tot: IsothermTotals, fixed_nti: Cost,
                    with_widom: bool) -> list[dict]:
    ns_iso, headline, Kb = plan.ns_iso, plan.headline, plan.Kb
    bl_pairs = tot.bl_pairs
    ihdr = f"{'route':<66} | {'runs':>5} | {'core-s':>10} | {'cpu-s':>10} | {'core-h':>8} | {'vs TI+MBAR (cpu)':>16}"
    rep(ihdr)
    rep("-" * len(ihdr))
    iso_rows = []

    def irow(route, runs, c: Cost):
        iso_rows.append(dict(route=route, runs=runs, core=c.core, cpu=c.cpu))
        rep(f"{route:<66} | {runs:>5} | {f_s(c.core, 10)} | {f_s(c.cpu, 10)} | {c.core / 3600:>8.3f} | "
            f"{c.cpu / bl_pairs.cpu if bl_pairs.cpu > 0 else math.nan:>16.3f}")

    irow(f"Neural TI {headline}: TI only (pairs N, N+1)", 2 * len(iso), tot.ti_pairs)
    irow("Neural TI: TI pairs + training data + training", 2 * len(iso) + len(ns_iso) + 1, tot.ti_pairs + fixed_nti)
    irow("Neural TI ladder (every N) + training data + training", iso[-1] + 2 - iso[0] + len(ns_iso) + 1,
         tot.ladder + fixed_nti)
    irow(f"TI + MBAR (K = {Kb}) pairs N, N+1", 2 * len(iso), bl_pairs)
    if with_widom:
        irow("Widom at every density", len(iso), tot.wi_total)
        irow(f"conventional best per density (Widom at {tot.n_widom_better} of {len(iso)})",
             len(iso) * 2 - tot.n_widom_better, tot.best_conv)
    rep("-" * len(ihdr))
    return iso_rows


# ----------------------------------------------------------------------------------------------
# benchmark.json
# ----------------------------------------------------------------------------------------------

def write_benchmark_json(path: Path, plan: Plan, m0: dict, m1: dict, rows: list[dict], iso: list[int],
                         iso_rows: list[dict], tabs: tuple[list, list, list], est: dict[str, dict],
                         notes: list[str]) -> None:
    tab_ti, tab_bl, tab_wi = tabs
    path.write_text(json.dumps(dict(
        preset=plan.preset, params=plan.p, factor=plan.fac, target=plan.target, machine_start=m0, machine_end=m1,
        n0_table=rows, isotherm=dict(ns=iso, rows=iso_rows, per_n=dict(
            neural_ti=[(n, c.cpu, e, t.cpu) for n, c, e, t in tab_ti],
            mbar=[(n, c.cpu, e, t.cpu) for n, c, e, t in tab_bl],
            widom=[(n, c.cpu, e, t.cpu) for n, c, e, t in tab_wi])),
        estimators={e["label"]: dict(v1=e["v1"], e1=e["e1"], vf=e["vf"], ef=e["ef"], fixed_fraction=e["frac"],
                                     cpu1=e["c1"].cpu, cpuf=e["cf"].cpu, wall1=e["c1"].wall, wallf=e["cf"].wall)
                    for e in est.values()},
        notes=notes), indent=1))
