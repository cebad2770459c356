#!/usr/bin/env python3
"""Cost benchmark: Neural TI against conventional TI + MBAR (issue "Neural TI free energies").

Question: the wall time and core-seconds needed to reach a standard error of 0.1 kT on
beta*A_ex at N = 200 (Lennard-Jones, T = 1.5, box L = 8, r_c = 3 with tail corrections) by
  - Neural TI, training counted and not counted, and
  - conventional TI + MBAR along the soft-core lambda path (MC at K uniform lambda windows);
and the cost of a whole beta*mu_ex(rho) isotherm of at least 30 densities both ways.

Method: pilot calculations, then an explicit extrapolation (printed with the numbers).
Every stage is its own `nti` process (one input, one log, one results file per stage, all kept in
the output directory), run one at a time; each is timed from outside (wall clock, and the CPU time
of the process tree from wait4); core-seconds = ranks x wall.

  1. Training data: `nti sample` (Metropolis MC, trajectories on) at each N of --isotherm-n
     (full: N = 50, 200, 350, rho = 0.10 .. 0.68; moderate: 50, 200, 300); `nti train`: one model on all of them.
  2. Neural TI at N0 = 200 with a fixed estimator configuration, at two sampling efforts s = 1 and
     s = F (--factor, default 4, 2 with --moderate; F x the reverse-SDE trajectories and F x the
     MALA chains per window, another seed):
       - headline estimator "windows-gl<K>-mala" (K Metropolis-corrected Gauss-Legendre windows alone,
         the estimate nti's /ti/fit and the validation verdicts use); its stderr is the one that is
         extrapolated; the run is `nti ti` with windows = K, ais_chains = 0 (its reverse-SDE
         trajectories warm-start the chains and are counted); >= 2 chains per window, so that nti's
         between-chain check of the window errors applies at both efforts;
       - "reverse-sde-gl<K>-mala-corrected" (the reverse-SDE trapezoid integral with the same windows
         as a control variate; session 8 found it biased where the reverse SDE is far off), same run;
       - "reverse-sde-trapezoid" (uncorrected reverse SDE alone), costed by its own `nti ti` run
         with windows = 0 (reverse SDE only; same trajectories, so the same estimate);
     and the headline run at the other --isotherm-n (s = 1) for the N-scaling.
  3. Conventional: `nti baseline` (K_b uniform lambda windows, MC, MBAR over the same windows;
     K_b = 48 full, 40 moderate: at N = 200 K_b = 12 leaves neighbour overlaps of ~1e-3 and MBAR's
     error does not shrink with sampling) at N0 with production P and F x P (another seed), and at
     the other --isotherm-n with P;
     unless --no-widom, `nti sample` with Widom insertions at each --isotherm-n.

Extrapolation model (sampling-limited estimators):
     stderr(s) = stderr_pilot * sqrt(s_pilot / s)        (independent samples)
     cost(s)   = c_fixed + c_sampling * s                (c_fixed: equilibration, set-up)
  so  cost to stderr e* = c_fixed + (cost_pilot - c_fixed) * (stderr_pilot / e*)^2.
  c_fixed and c_sampling come from a straight-line fit of CPU seconds of the two pilots at N0
  (fixed fraction applied to wall and core-seconds alike); the extrapolation starts from the
  larger pilot. Training data and training are fixed costs (counted or not). The second pilot
  checks the model: predicted stderr_F = stderr_1 / sqrt(F) against the measured one, and the
  cost ratio against c(F)/c(1). Bias (e.g. of the uncorrected reverse SDE) is NOT part of the
  criterion: only the standard error is.

Isotherm (>= 30 densities, N_i evenly spaced over the --isotherm-n range, beta*mu_ex(N) =
beta*A_ex(N+1) - beta*A_ex(N) from two independent runs, each to stderr e*/sqrt(2), so that
stderr(beta*mu_ex) = e*): per-N cost to stderr 0.1 kT is measured at the --isotherm-n and
interpolated piecewise as a power law in N (log-log), never extrapolated outside the measured range;
  Neural TI   = training data at the --isotherm-n + one training + sum_i [TI(N_i) + TI(N_i + 1)];
  ladder      = training + TI at every N in the range (grand-canonical reweighting needs them all);
  TI + MBAR   = sum_i [baseline(N_i) + baseline(N_i + 1)];
  Widom       = sum_i Widom run at N_i to stderr e* (valid while insertions succeed);
  conventional best = per density the cheaper of TI + MBAR and Widom.

The machine is shared: the script prints the CPU model, core count and load average at start and
end (and per run in runs.json). CPU seconds are the most load-robust measure; wall and core-seconds
(ranks x wall) grow with the load of other jobs.

    python3 validation/cost_benchmark.py --quick       # N0 = 20: checks that the script runs (< 1 min)
    python3 validation/cost_benchmark.py --moderate    # smaller pilots, same system (~25 CPU-minutes)
    python3 validation/cost_benchmark.py               # full pilots (several CPU-hours)

Options: --out DIR (parent of the new run directory), --reuse DIR (continue in an earlier run
directory: finished stages with identical inputs are read back), --ranks R (MPI ranks per stage,
default 1), --factor F (default 4; 2 with --moderate), --target E (kT, default 0.1), --points M
(isotherm densities, default 30), --isotherm-n N1,N2,... , --no-widom, --nti PATH, --set KEY=VALUE (passed to every stage).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nti_runner import find_nti, fresh_output_dir, freeze_binary  # noqa: E402

SIDE = 8.0
VOLUME = SIDE ** 3
TEMPERATURE = 1.5
CUTOFF = 3.0
SEED = 2024

PRESETS = {
    "full": dict(
        n0=200, isotherm_n=[50, 200, 350],
        replicas=2, equilibration=2000, production=20000, stride=20,
        steps=6000, lr_decay_every=3600, eval_every=300, hidden="[64, 64]",
        gen_steps=1000, trajectories=64, windows=24, window_chains=2, window_warmup=300, window_steps=500,
        base_windows=48, base_equilibration=1000, base_production=6000, base_stride=10,
        widom_equilibration=2000, widom_production=10000, widom_stride=10, widom_insertions=200, factor=4,
    ),
    "moderate": dict(
        n0=200, isotherm_n=[50, 200, 300],
        replicas=2, equilibration=1000, production=10000, stride=20,
        steps=2000, lr_decay_every=1200, eval_every=200, hidden="[32, 32]",
        gen_steps=1000, trajectories=8, windows=24, window_chains=2, window_warmup=200, window_steps=300,
        base_windows=40, base_equilibration=500, base_production=1500, base_stride=10,
        widom_equilibration=1000, widom_production=4000, widom_stride=10, widom_insertions=200, factor=2,
    ),
    "quick": dict(
        n0=20, isotherm_n=[10, 20, 40],
        replicas=2, equilibration=200, production=2000, stride=10,
        steps=300, lr_decay_every=200, eval_every=100, hidden="[16, 16]",
        gen_steps=200, trajectories=8, windows=8, window_chains=2, window_warmup=50, window_steps=100,
        base_windows=6, base_equilibration=200, base_production=1000, base_stride=10,
        widom_equilibration=200, widom_production=1000, widom_stride=10, widom_insertions=50, factor=4,
    ),
}


# ----------------------------------------------------------------------------------------------
# machine
# ----------------------------------------------------------------------------------------------

def machine() -> dict:
    model, cores = "unknown", os.cpu_count() or 0
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        names = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")]
        if names:
            model, cores = names[0], len(names)
    except OSError:
        pass
    mhz = ""
    try:
        m = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
             if ln.startswith("cpu MHz")]
        mhz = m[0] if m else ""
    except OSError:
        pass
    return dict(cpu_model=model, logical_cpus=cores, cpu_mhz=mhz, host=platform.node(),
                kernel=platform.release(), loadavg=list(os.getloadavg()), time=time.strftime("%Y-%m-%d %H:%M:%S %Z"))


def fmt_load(la) -> str:
    return "/".join(f"{x:.2f}" for x in la)


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------

def system_toml(n: int) -> str:
    return f"""[system]
kind = "lennard-jones"
n_particles = {n}
density = {n / VOLUME!r}            # L = 8
temperature = {TEMPERATURE}
cutoff = {CUTOFF}
shift = false
tail_correction = true
"""


def sample_input(p: dict, n: int, widom: bool = False) -> str:
    if widom:
        eq, prod, stride, ins, traj = (p["widom_equilibration"], p["widom_production"], p["widom_stride"],
                                       p["widom_insertions"], "false")
    else:
        eq, prod, stride, ins, traj = p["equilibration"], p["production"], p["stride"], 0, "true"
    return f"""# validation/cost_benchmark.py: {'Widom insertion' if widom else 'training data'} at N = {n}
version = 1

{system_toml(n)}
[sample]
method = "mc"
replicas = {p['replicas']}
equilibration = {eq}
production = {prod}
stride = {stride}
widom_insertions = {ins}
rdf_bins = 0
trajectory = {traj}

[run]
seed = {SEED + n + (500000 if widom else 0)}

[output]
file = "results.h5"
"""


def train_input(p: dict, data: list[str]) -> str:
    return f"""# validation/cost_benchmark.py: one model on every training N
version = 1

[model]
hidden = {p['hidden']}

[train]
data = {json.dumps(data)}
steps = {p['steps']}
lr_decay_every = {p['lr_decay_every']}
eval_every = {p['eval_every']}
checkpoint_every = {p['steps']}

[run]
seed = {SEED}

[output]
file = "results.h5"
"""


def ti_input(p: dict, model: str, n: int, s: int, windows: bool, seed: int) -> str:
    w = p["windows"] if windows else 0
    return f"""# validation/cost_benchmark.py: Neural TI at N = {n}, sampling effort x{s}{'' if windows else ' (reverse SDE only)'}
version = 1

[generate]
model = {json.dumps(model)}
n_particles = [{n}]
box_side = {SIDE}
trajectories = {p['trajectories'] * s}
steps = {p['gen_steps']}

[ti]
windows = {w}
window_chains = {p['window_chains'] * s}
window_warmup = {p['window_warmup']}
window_steps = {p['window_steps']}
ais_chains = 0

[run]
seed = {seed}

[output]
file = "results.h5"
"""


def baseline_input(p: dict, n: int, s: int, seed: int) -> str:
    return f"""# validation/cost_benchmark.py: TI + MBAR along the soft-core lambda path at N = {n}, production x{s}
version = 1

{system_toml(n)}
[baseline]
windows = {p['base_windows']}
spacing = "uniform"
equilibration = {p['base_equilibration']}
production = {p['base_production'] * s}
stride = {p['base_stride']}
mbar = true
widom_insertions = 0

[run]
seed = {seed}

[output]
file = "results.h5"
"""


# ----------------------------------------------------------------------------------------------
# running one stage
# ----------------------------------------------------------------------------------------------

def provenance_wall(h5: Path) -> tuple[float | None, int | None]:
    """/provenance wall_seconds and n_ranks, if h5py is importable (optional)."""
    try:
        import h5py  # type: ignore
    except ImportError:
        return None, None
    try:
        with h5py.File(h5, "r") as f:
            a = f["provenance"].attrs
            return float(a["wall_seconds"]), int(a["n_ranks"])
    except Exception:  # noqa: BLE001 - optional diagnostic
        return None, None


class Runner:
    def __init__(self, nti: Path, work: Path, ranks: int, sets: list[str], reuse: bool):
        self.nti, self.work, self.ranks, self.sets, self.reuse = nti, work, ranks, sets, reuse
        self.records: dict[str, dict] = {}

    def run(self, name: str, command: str, text: str) -> dict:
        d = self.work / name
        rec_file = d / "record.json"
        if d.exists():
            if self.reuse and rec_file.is_file() and (d / "input.toml").read_text() == text:
                rec = json.loads(rec_file.read_text())
                rec["reused"] = True
                print(f"  {name:<22} reused ({rec['wall_s']:.1f} s wall, {rec['cpu_s']:.1f} s cpu when run)", flush=True)
                self.records[name] = rec
                return rec
            k = 1
            while d.with_name(f"{name}.old{k}").exists():
                k += 1
            d.rename(d.with_name(f"{name}.old{k}"))  # set aside, never deleted
        d.mkdir(parents=True)
        (d / "input.toml").write_text(text)
        cmd = [str(self.nti), command, "input.toml"] + [x for s in self.sets for x in ("--set", s)]
        if self.ranks > 1:
            cmd = ["mpirun", "--oversubscribe", "-np", str(self.ranks)] + cmd
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        env.setdefault("RUST_LOG", "info")
        load0 = list(os.getloadavg())
        print(f"  {name:<22} nti {command} ... ", end="", flush=True)
        t0 = time.monotonic()
        with open(d / "stdout.log", "w") as so, open(d / "stderr.log", "w") as se:
            so.write("$ " + " ".join(cmd) + "\n")
            so.flush()
            proc = subprocess.Popen(cmd, cwd=d, stdout=so, stderr=se, env=env)
            _, status, usage = os.wait4(proc.pid, 0)  # CPU of the process and its reaped children (the ranks)
        wall = time.monotonic() - t0
        rc = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        load1 = list(os.getloadavg())
        if rc != 0:
            tail = "\n".join((d / "stderr.log").read_text(errors="replace").strip().splitlines()[-8:])
            print("FAILED")
            raise RuntimeError(f"stage {name}: `{' '.join(cmd)}` exited {rc} (in {d}):\n{tail}")
        js = subprocess.run([str(self.nti), "summary", "results.h5", "--json"], cwd=d, capture_output=True, text=True)
        if js.returncode != 0:
            raise RuntimeError(f"stage {name}: nti summary failed: {js.stderr.strip()}")
        (d / "summary.json").write_text(js.stdout)
        pw, pr = provenance_wall(d / "results.h5")
        rec = dict(name=name, command=command, cmd=cmd, ranks=self.ranks, wall_s=wall, cpu_s=cpu,
                   core_s=self.ranks * wall, provenance_wall_s=pw, provenance_ranks=pr,
                   load_start=load0, load_end=load1, results=json.loads(js.stdout)["results"])
        rec_file.write_text(json.dumps(rec, indent=1))
        print(f"{wall:7.1f} s wall, {cpu:7.1f} s cpu, load {fmt_load(load0)} -> {fmt_load(load1)}", flush=True)
        self.records[name] = rec
        return rec


def result(rec: dict, name: str, method: str) -> tuple[float, float]:
    for r in rec["results"]:
        if r["name"] == name and r["method"] == method:
            v, e = r["value"], r["stderr"]
            return (math.nan if v is None else v, math.nan if e is None else e)
    raise KeyError(f"{rec['name']}: no result {name} / {method}")


# ----------------------------------------------------------------------------------------------
# cost model
# ----------------------------------------------------------------------------------------------

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
# main
# ----------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="tiny N and budgets: checks that the script runs, not for numbers")
    g.add_argument("--moderate", action="store_true", help="smaller pilots at the full system (N0 = 200)")
    ap.add_argument("--out", help="parent directory of the new run directory")
    ap.add_argument("--reuse", metavar="DIR", help="continue in an earlier run directory (finished stages are read back)")
    ap.add_argument("--ranks", type=int, default=1, help="MPI ranks per stage (1 = no mpirun; default 1)")
    ap.add_argument("--factor", type=int, help="sampling effort of the second pilot (default 4; 2 with --moderate)")
    ap.add_argument("--target", type=float, default=0.1, help="target standard error in kT (default 0.1)")
    ap.add_argument("--points", type=int, default=30, help="isotherm densities (default 30)")
    ap.add_argument("--isotherm-n", help="comma-separated N at which the per-N cost is measured (include N0)")
    ap.add_argument("--no-widom", action="store_true", help="skip the Widom runs")
    ap.add_argument("--nti", help="nti binary (default $NTI or target/release/nti)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="input override for every stage")
    a = ap.parse_args(argv)
    preset = "quick" if a.quick else "moderate" if a.moderate else "full"
    p = dict(PRESETS[preset])
    if a.isotherm_n:
        p["isotherm_n"] = sorted({int(x) for x in a.isotherm_n.split(",")})
    n0, ns_iso, fac, target = p["n0"], p["isotherm_n"], a.factor or p["factor"], a.target
    if n0 not in ns_iso:
        ns_iso = sorted(ns_iso + [n0])
    if fac < 2:
        sys.exit("error: --factor must be >= 2")
    if a.reuse:
        work = Path(a.reuse).resolve()
        nti = work / "nti"
        if not nti.is_file():
            sys.exit(f"error: --reuse {work}: no frozen binary {nti}")
    else:
        work = fresh_output_dir(a.out, f"cost_benchmark_{preset}_")
        nti = freeze_binary(find_nti(a.nti), work)
    rep = Report(work / "report.txt")
    m0 = machine()
    (work / "settings.json").write_text(json.dumps(dict(preset=preset, params=p, factor=fac, target=target,
                                                        points=a.points, ranks=a.ranks, sets=a.set,
                                                        machine_start=m0, argv=sys.argv), indent=1))
    rep(f"nti cost benchmark ({preset}{': NOT FOR NUMBERS, checks that the script runs' if a.quick else ''})")
    rep(f"run directory: {work}  (every input, log, results file and record.json per stage)")
    rep(f"binary: {nti}")
    rep(f"machine: {m0['cpu_model']}, {m0['logical_cpus']} logical CPUs ({m0['cpu_mhz']} MHz), host {m0['host']}, "
        f"kernel {m0['kernel']}")
    rep(f"load average at start (1/5/15 min): {fmt_load(m0['loadavg'])}  -- the machine is SHARED with other jobs; "
        f"wall and core-seconds include their interference, CPU seconds much less so")
    rep(f"system: LJ T = {TEMPERATURE}, L = {SIDE} (V = {VOLUME:.0f}), r_c = {CUTOFF} + tails; N0 = {n0} "
        f"(rho = {n0 / VOLUME:.4f}); per-N costs at N = {ns_iso}; ranks per stage {a.ranks}; second pilot x{fac}")
    rep("")
    runner = Runner(nti, work, a.ranks, a.set, bool(a.reuse))
    K, Kb = p["windows"], p["base_windows"]
    headline = f"windows-gl{K}-mala"
    control_variate = f"reverse-sde-gl{K}-mala-corrected"
    t_start = time.monotonic()

    try:
        # 1. training data + training
        rep("stages (run one at a time):")
        samples = {n: runner.run(f"sample_N{n}", "sample", sample_input(p, n)) for n in ns_iso}
        data = [str((work / f"sample_N{n}" / "results.h5").resolve()) for n in ns_iso]
        train = runner.run("train", "train", train_input(p, data))
        model = str((work / "train" / "results.h5").resolve())
        # 2. Neural TI
        ti = {}
        for n in ns_iso:
            ti[(n, 1)] = runner.run(f"ti_N{n}_x1", "ti", ti_input(p, model, n, 1, True, SEED))
        ti[(n0, fac)] = runner.run(f"ti_N{n0}_x{fac}", "ti", ti_input(p, model, n0, fac, True, SEED + 1))
        rev = {1: runner.run(f"ti_rev_N{n0}_x1", "ti", ti_input(p, model, n0, 1, False, SEED)),
               fac: runner.run(f"ti_rev_N{n0}_x{fac}", "ti", ti_input(p, model, n0, fac, False, SEED + 1))}
        # 3. conventional
        base = {}
        for n in ns_iso:
            base[(n, 1)] = runner.run(f"baseline_N{n}_x1", "baseline", baseline_input(p, n, 1, SEED + 7 + n))
        base[(n0, fac)] = runner.run(f"baseline_N{n0}_x{fac}", "baseline", baseline_input(p, n0, fac, SEED + 8 + n0))
        widom = {}
        if not a.no_widom:
            for n in ns_iso:
                widom[n] = runner.run(f"widom_N{n}", "sample", sample_input(p, n, widom=True))
    except RuntimeError as e:
        rep(f"\nFAIL: {e}")
        rep.save()
        return 1
    m1 = machine()
    elapsed = time.monotonic() - t_start
    rep(f"\nall stages: {elapsed:.0f} s elapsed; load average at end: {fmt_load(m1['loadavg'])}")
    (work / "runs.json").write_text(json.dumps(runner.records, indent=1))

    # ------------------------------------------------------------------ estimators at N0
    notes: list[str] = []
    c_train = Cost.of(train)
    c_data0 = Cost.of(samples[n0])
    c_data_all = Cost.of(*samples.values())

    def estimator(label, rec1, recf, method, name="beta_a_ex"):
        v1, e1 = result(rec1, name, method)
        vf, ef = result(recf, name, method)
        c1, cf = Cost.of(rec1), Cost.of(recf)
        frac, note = fixed_fraction(c1.cpu, cf.cpu, 1.0, float(fac))
        if note:
            notes.append(f"{label}: {note}")
        return dict(label=label, method=method, v1=v1, e1=e1, vf=vf, ef=ef, c1=c1, cf=cf, frac=frac,
                    pred_ef=e1 / math.sqrt(fac),
                    at_target=to_target(cf, frac, ef, target))

    est_head = estimator(f"Neural TI, {headline}", ti[(n0, 1)], ti[(n0, fac)], headline)
    est_cv = estimator(f"Neural TI, {control_variate}", ti[(n0, 1)], ti[(n0, fac)], control_variate)
    est_trap = estimator("Neural TI, reverse-sde-trapezoid", rev[1], rev[fac], "reverse-sde-trapezoid")
    # the trapezoid estimate of the reverse-only run must equal the one inside the headline run
    vt_h, _ = result(ti[(n0, 1)], "beta_a_ex", "reverse-sde-trapezoid")
    if abs(vt_h - est_trap["v1"]) > 1e-9 * max(1.0, abs(vt_h)):
        notes.append(f"reverse-only run's trapezoid estimate {est_trap['v1']:.6f} differs from the headline "
                     f"run's {vt_h:.6f} (expected identical: same trajectories)")
    est_mbar = estimator(f"TI + MBAR, mbar-K{Kb}", base[(n0, 1)], base[(n0, fac)], f"mbar-K{Kb}")
    est_ti = estimator(f"conventional TI, ti-lambda-trapezoid-K{Kb}", base[(n0, 1)], base[(n0, fac)],
                       f"ti-lambda-trapezoid-K{Kb}")

    rep("\n" + "=" * 118)
    rep(f"COST TO STDERR {target} kT ON beta*A_ex AT N = {n0} (T = {TEMPERATURE}, L = {SIDE}, r_c = {CUTOFF} + tails)")
    rep("=" * 118)
    rep("Extrapolation model: stderr(s) = stderr_pilot * sqrt(s_pilot / s); cost(s) = c_fixed + c_sampling * s;")
    rep(f"  cost to {target} kT = c_fixed + (cost_pilot - c_fixed) * (stderr_pilot / {target})^2, from the x{fac} pilot;")
    rep("  c_fixed / cost_pilot from a straight line through the CPU seconds of the x1 and x{0} pilots;".format(fac))
    rep("  training data (MC at N0) and training are fixed costs, added when counted.")
    rep(f"Pilot estimates (beta*A_ex in kT): x1 and x{fac} sampling effort")
    for e in (est_head, est_cv, est_trap, est_mbar, est_ti):
        rep(f"  {e['label']:<48} x1: {e['v1']:10.4f} ± {e['e1']:.4f}   x{fac}: {e['vf']:10.4f} ± {e['ef']:.4f}")
    rep("")
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

    tr_w = p["trajectories"] * fac
    ch_w = p["window_chains"] * fac
    row(f"Neural TI {headline}", f"TI only ({tr_w} traj., {K} win. x {ch_w} ch.)", est_head["cf"], est_head["ef"],
        est_head["at_target"])
    row(f"Neural TI {headline}", "TI + training data (MC N0) + training", est_head["cf"] + c_data0 + c_train,
        est_head["ef"], est_head["at_target"] + c_data0 + c_train)
    row(f"Neural TI {control_variate}", "same run as the windows", est_cv["cf"], est_cv["ef"], est_cv["at_target"])
    row("Neural TI reverse-sde-trapezoid", f"reverse SDE only ({tr_w} trajectories)", est_trap["cf"], est_trap["ef"],
        est_trap["at_target"])
    row("Neural TI reverse-sde-trapezoid", "rev. SDE + training data (MC N0) + training",
        est_trap["cf"] + c_data0 + c_train, est_trap["ef"], est_trap["at_target"] + c_data0 + c_train)
    row(f"TI + MBAR mbar-K{Kb}", f"{Kb} MC windows x ({p['base_equilibration']} + {p['base_production'] * fac})",
        est_mbar["cf"], est_mbar["ef"], est_mbar["at_target"])
    row(f"conventional TI ti-lambda-trapezoid-K{Kb}", "same runs as MBAR", est_ti["cf"], est_ti["ef"],
        est_ti["at_target"])
    rep("-" * len(hdr))
    rep(f"fixed costs: training data at N0 = {n0}: {c_data0.wall:.1f} s wall / {c_data0.cpu:.1f} s cpu; "
        f"training (model on N = {ns_iso}): {c_train.wall:.1f} s wall / {c_train.cpu:.1f} s cpu "
        f"({p['steps']} steps, hidden {p['hidden']}); all training data ({len(ns_iso)} N): "
        f"{c_data_all.wall:.1f} s wall / {c_data_all.cpu:.1f} s cpu")
    rep(f"caveats: (1) the conventional TI row has only its statistical error; the bias of the trapezoid rule over "
        f"{Kb} windows is not costed. (2) nti's MBAR keeps n/g samples per window (fractional stride, "
        "g the statistical inefficiency of the reduced energies), as pymbar does. (3) MBAR needs overlap between neighbouring "
        "windows, which falls with N at fixed K: too few windows make its stderr unreliable (flagged below).")
    ovl = []
    for key, rec in sorted(base.items()):
        try:
            ovl.append(f"N = {key[0]} x{key[1]}: {result(rec, 'mbar_min_neighbour_overlap', f'mbar-K{Kb}')[0]:.3f}")
        except KeyError:
            pass
    if ovl:
        rep(f"MBAR smallest neighbour overlap (K = {Kb}; nti warns below 0.03): " + ", ".join(ovl))
    rep(f"fixed fraction of the x{fac} pilot (fit): " + ", ".join(f"{e['label'].split(',')[0]} "
        f"{e['method']}: {e['frac']:.3f}" for e in (est_head, est_cv, est_trap, est_mbar)))

    rep(f"\nCheck of the extrapolation model with the x{fac} pilot (independent seed):")
    rep(f"{'estimator':<48} {'stderr x1':>10} {'predicted x' + str(fac):>13} {'measured x' + str(fac):>13} "
        f"{'meas/pred':>9} {'cpu x' + str(fac) + '/x1':>10} {'wall x' + str(fac) + '/x1':>11}")
    for e in (est_head, est_cv, est_trap, est_mbar, est_ti):
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

    # ------------------------------------------------------------------ isotherm
    rep("\n" + "=" * 118)
    m = a.points
    lo, hi = ns_iso[0], ns_iso[-1]
    iso = isotherm_ns(lo, hi, m)
    if len(iso) < m:
        rep(f"(only {len(iso)} distinct N in [{lo}, {hi - 1}] for {m} points)")
    rep(f"ISOTHERM beta*mu_ex(rho) at T = {TEMPERATURE}: {len(iso)} densities, N = {iso[0]} .. {iso[-1]} "
        f"(rho = {iso[0] / VOLUME:.3f} .. {iso[-1] / VOLUME:.3f}), stderr {target} kT on each beta*mu_ex")
    rep("=" * 118)

    def per_n(runs: dict, method: str, name: str, frac: float) -> tuple[PerN, list]:
        fixed, samp, tab = [], [], []
        for n in ns_iso:
            rec = runs[n]
            c = Cost.of(rec)
            _, e = result(rec, name, method)
            fixed.append(c * frac)
            samp.append(c * ((1 - frac) * (e / target) ** 2))
            tab.append((n, c, e, c * frac + c * ((1 - frac) * (e / target) ** 2)))
        return PerN(ns_iso, fixed, samp, target), tab

    ti_n = {n: ti[(n, 1)] for n in ns_iso}
    bl_n = {n: base[(n, 1)] for n in ns_iso}
    pn_ti, tab_ti = per_n(ti_n, headline, "beta_a_ex", est_head["frac"])
    pn_bl, tab_bl = per_n(bl_n, f"mbar-K{Kb}", "beta_a_ex", est_mbar["frac"])
    pn_wi, tab_wi = None, []
    if widom:
        melt = 200  # [sample] melt_sweeps default
        wfrac = (melt + p["widom_equilibration"]) / (melt + p["widom_equilibration"] + p["widom_production"])
        try:
            pn_wi, tab_wi = per_n(widom, "widom", "beta_mu_ex", wfrac)
        except KeyError as ex:
            notes.append(f"Widom: {ex}")
    rep("Per-N cost measured (x1 pilots) and cost of one run to stderr 0.1 kT (extrapolated as above):")
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

    se_a = target / math.sqrt(2)
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
    fixed_nti = c_data_all + c_train
    rep(f"\nAssumptions: beta*mu_ex(N) = beta*A_ex(N+1) - beta*A_ex(N) from two independent runs at stderr "
        f"{target}/sqrt(2) = {se_a:.4f} kT each;")
    rep(f"  per-N cost = fixed + sampling * (stderr_N / target)^2, with the fixed fraction of the N0 pilots, "
        f"interpolated between N = {ns_iso} as a piecewise power law;")
    rep(f"  Neural TI: one model for the whole range, trained once on MC data at N = {ns_iso} with the pilot's "
        f"training budget (assumed sufficient for the range);")
    rep(f"  the ladder (grand-canonical reweighting, <rho>(beta mu)) needs beta*A_ex at every N = {iso[0]}..{iso[-1] + 1} "
        f"({iso[-1] + 2 - iso[0]} runs);")
    rep("  wall on R ranks = core-seconds / R if the independent runs are spread perfectly (they are: one run per N).")
    ihdr = f"{'route':<66} | {'runs':>5} | {'core-s':>10} | {'cpu-s':>10} | {'core-h':>8} | {'vs TI+MBAR (cpu)':>16}"
    rep(ihdr)
    rep("-" * len(ihdr))
    iso_rows = []

    def irow(route, runs, c: Cost):
        iso_rows.append(dict(route=route, runs=runs, core=c.core, cpu=c.cpu))
        rep(f"{route:<66} | {runs:>5} | {f_s(c.core, 10)} | {f_s(c.cpu, 10)} | {c.core / 3600:>8.3f} | "
            f"{c.cpu / bl_pairs.cpu if bl_pairs.cpu > 0 else math.nan:>16.3f}")

    irow(f"Neural TI {headline}: TI only (pairs N, N+1)", 2 * len(iso), ti_pairs)
    irow("Neural TI: TI pairs + training data + training", 2 * len(iso) + len(ns_iso) + 1, ti_pairs + fixed_nti)
    irow("Neural TI ladder (every N) + training data + training", iso[-1] + 2 - iso[0] + len(ns_iso) + 1,
         ladder + fixed_nti)
    irow(f"TI + MBAR (K = {Kb}) pairs N, N+1", 2 * len(iso), bl_pairs)
    if pn_wi:
        irow("Widom at every density", len(iso), wi_total)
        irow(f"conventional best per density (Widom at {n_widom_better} of {len(iso)})", len(iso) * 2 - n_widom_better,
             best_conv)
    rep("-" * len(ihdr))
    rep(f"load average at end: {fmt_load(m1['loadavg'])} (start {fmt_load(m0['loadavg'])}); machine: "
        f"{m0['cpu_model']}, {m0['logical_cpus']} logical CPUs, shared with other jobs during this run")
    if a.quick:
        rep("QUICK RUN: tiny N and budgets; the numbers above check the script, they are not results.")
    (work / "benchmark.json").write_text(json.dumps(dict(
        preset=preset, params=p, factor=fac, target=target, machine_start=m0, machine_end=m1,
        n0_table=rows, isotherm=dict(ns=iso, rows=iso_rows, per_n=dict(
            neural_ti=[(n, c.cpu, e, t.cpu) for n, c, e, t in tab_ti],
            mbar=[(n, c.cpu, e, t.cpu) for n, c, e, t in tab_bl],
            widom=[(n, c.cpu, e, t.cpu) for n, c, e, t in tab_wi])),
        estimators={e["label"]: dict(v1=e["v1"], e1=e["e1"], vf=e["vf"], ef=e["ef"], fixed_fraction=e["frac"],
                                     cpu1=e["c1"].cpu, cpuf=e["cf"].cpu, wall1=e["c1"].wall, wallf=e["cf"].wall)
                    for e in (est_head, est_cv, est_trap, est_mbar, est_ti)},
        notes=notes), indent=1))
    rep(f"\nreport: {work / 'report.txt'}; numbers: {work / 'benchmark.json'}; per-stage records: {work / 'runs.json'}")
    rep.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
