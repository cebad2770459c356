"""Stages of validation/cost_benchmark.py: the benchmark system, the machine, the `nti` inputs of
every stage, running one stage as its own timed `nti` process, and the sequence of stages.

Standard library only (h5py optional, for a diagnostic). See cost_benchmark.py for the method.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SIDE = 8.0
VOLUME = SIDE ** 3
TEMPERATURE = 1.5
CUTOFF = 3.0
SEED = 2024


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


def ti_input(p: dict, model: str, n: int, s: int, windows: bool, seed: int, pilot: str | None = None) -> str:
    """Neural TI at effort s: the windows' production (window_steps) and, without windows, the
    reverse-SDE trajectories scale with s; chains, warm-up and (with windows) the reverse SDE's
    trajectories are fixed, as the baseline's equilibration is. With `pilot` (an earlier run's
    results file) the windows' steps are allocated by Neyman's rule ([ti] window_pilot)."""
    w = p["windows"] if windows else 0
    traj = p["trajectories"] * (1 if windows else s)
    alloc = f"window_pilot = {json.dumps(pilot)}\n" if pilot else ""
    return f"""# validation/cost_benchmark.py: Neural TI at N = {n}, sampling effort x{s}{'' if windows else ' (reverse SDE only)'}
version = 1

[generate]
model = {json.dumps(model)}
n_particles = [{n}]
box_side = {SIDE}
trajectories = {traj}
steps = {p['gen_steps']}

[ti]
windows = {w}
window_chains = {p['window_chains']}
window_warmup = {p['window_warmup']}
window_steps = {p['window_steps'] * s}
{alloc}ais_chains = 0

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
    """Runs each stage as its own `nti` process in work/<name>/, timed from outside; keeps the records."""

    def __init__(self, nti: Path, work: Path, ranks: int, sets: list[str], reuse: bool):
        self.nti, self.work, self.ranks, self.sets, self.reuse = nti, work, ranks, sets, reuse
        self.records: dict[str, dict] = {}

    def run(self, name: str, command: str, text: str) -> dict:
        d = self.work / name
        rec = self._reused(name, d, text)
        if rec is None:
            rec = self._run_new(name, command, text, d)
        self.records[name] = rec
        return rec

    def _reused(self, name: str, d: Path, text: str) -> dict | None:
        """With --reuse, the record of a finished stage with the identical input; otherwise an
        existing directory of that name is set aside (renamed, never deleted) and None returned."""
        if not d.exists():
            return None
        if self.reuse and (d / "record.json").is_file() and (d / "input.toml").read_text() == text:
            rec = json.loads((d / "record.json").read_text())
            rec["reused"] = True
            print(f"  {name:<22} reused ({rec['wall_s']:.1f} s wall, {rec['cpu_s']:.1f} s cpu when run)", flush=True)
            return rec
        k = 1
        while d.with_name(f"{name}.old{k}").exists():
            k += 1
        d.rename(d.with_name(f"{name}.old{k}"))  # set aside, never deleted
        return None

    def _command(self, command: str) -> list[str]:
        cmd = [str(self.nti), command, "input.toml"] + [x for s in self.sets for x in ("--set", s)]
        if self.ranks > 1:
            cmd = ["mpirun", "--oversubscribe", "-np", str(self.ranks)] + cmd
        return cmd

    def _run_new(self, name: str, command: str, text: str, d: Path) -> dict:
        d.mkdir(parents=True)
        (d / "input.toml").write_text(text)
        cmd = self._command(command)
        load0 = list(os.getloadavg())
        print(f"  {name:<22} nti {command} ... ", end="", flush=True)
        wall, cpu = self._execute(name, cmd, d)
        load1 = list(os.getloadavg())
        summary = self._summary(name, d)
        pw, pr = provenance_wall(d / "results.h5")
        rec = dict(name=name, command=command, cmd=cmd, ranks=self.ranks, wall_s=wall, cpu_s=cpu,
                   core_s=self.ranks * wall, provenance_wall_s=pw, provenance_ranks=pr,
                   load_start=load0, load_end=load1, results=json.loads(summary)["results"])
        (d / "record.json").write_text(json.dumps(rec, indent=1))
        print(f"{wall:7.1f} s wall, {cpu:7.1f} s cpu, load {fmt_load(load0)} -> {fmt_load(load1)}", flush=True)
        return rec

    def _execute(self, name: str, cmd: list[str], d: Path) -> tuple[float, float]:
        """Runs cmd in d (logs in d); wall seconds and CPU seconds of the process tree (wait4)."""
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        env.setdefault("RUST_LOG", "info")
        t0 = time.monotonic()
        with open(d / "stdout.log", "w") as so, open(d / "stderr.log", "w") as se:
            so.write("$ " + " ".join(cmd) + "\n")
            so.flush()
            proc = subprocess.Popen(cmd, cwd=d, stdout=so, stderr=se, env=env)
            _, status, usage = os.wait4(proc.pid, 0)  # CPU of the process and its reaped children (the ranks)
        wall = time.monotonic() - t0
        rc = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        if rc != 0:
            tail = "\n".join((d / "stderr.log").read_text(errors="replace").strip().splitlines()[-8:])
            print("FAILED")
            raise RuntimeError(f"stage {name}: `{' '.join(cmd)}` exited {rc} (in {d}):\n{tail}")
        return wall, cpu

    def _summary(self, name: str, d: Path) -> str:
        """`nti summary results.h5 --json` in d, also written to d/summary.json."""
        js = subprocess.run([str(self.nti), "summary", "results.h5", "--json"], cwd=d, capture_output=True, text=True)
        if js.returncode != 0:
            raise RuntimeError(f"stage {name}: nti summary failed: {js.stderr.strip()}")
        (d / "summary.json").write_text(js.stdout)
        return js.stdout


def result(rec: dict, name: str, method: str) -> tuple[float, float]:
    for r in rec["results"]:
        if r["name"] == name and r["method"] == method:
            v, e = r["value"], r["stderr"]
            return (math.nan if v is None else v, math.nan if e is None else e)
    raise KeyError(f"{rec['name']}: no result {name} / {method}")


# ----------------------------------------------------------------------------------------------
# the benchmark plan and the sequence of stages
# ----------------------------------------------------------------------------------------------

@dataclass
class Plan:
    """Preset budgets and the choices derived from the command line."""

    preset: str
    p: dict
    n0: int
    ns_iso: list[int]
    fac: int
    target: float

    @property
    def K(self) -> int:
        return self.p["windows"]

    @property
    def Kb(self) -> int:
        return self.p["base_windows"]

    @property
    def headline(self) -> str:
        # the windows with the Fokker-Planck control variate ([ti] window_stein_probes, on by default)
        return f"windows-gl{self.K}-mala-stein"

    @property
    def plain_windows(self) -> str:
        return f"windows-gl{self.K}-mala"



@dataclass
class Stages:
    """The records (Runner.run) of every stage."""

    samples: dict[int, dict]
    train: dict
    pilot: dict[int, dict]
    ti: dict[tuple[int, int], dict]
    rev: dict[int, dict]
    base: dict[tuple[int, int], dict]
    widom: dict[int, dict] = field(default_factory=dict)


def run_stages(runner: Runner, plan: Plan, work: Path, with_widom: bool) -> Stages:
    """Runs every stage, one at a time (RuntimeError if one fails)."""
    p, n0, ns_iso, fac = plan.p, plan.n0, plan.ns_iso, plan.fac
    # 1. training data + training
    samples = {n: runner.run(f"sample_N{n}", "sample", sample_input(p, n)) for n in ns_iso}
    data = [str((work / f"sample_N{n}" / "results.h5").resolve()) for n in ns_iso]
    train = runner.run("train", "train", train_input(p, data))
    model = str((work / "train" / "results.h5").resolve())
    # 2. Neural TI: a pilot with equal steps per window at every N, then the windows with their
    # production allocated by it (Neyman) at x1 and, at N0, xF
    pilot, ti = {}, {}
    for n in ns_iso:
        pilot[n] = runner.run(f"ti_pilot_N{n}", "ti", ti_input(p, model, n, 1, True, SEED + 3))
        pfile = str((work / f"ti_pilot_N{n}" / "results.h5").resolve())
        ti[(n, 1)] = runner.run(f"ti_N{n}_x1", "ti", ti_input(p, model, n, 1, True, SEED, pfile))
        if n == n0:
            ti[(n0, fac)] = runner.run(f"ti_N{n0}_x{fac}", "ti", ti_input(p, model, n0, fac, True, SEED + 1, pfile))
    rev = {1: runner.run(f"ti_rev_N{n0}_x1", "ti", ti_input(p, model, n0, 1, False, SEED)),
           fac: runner.run(f"ti_rev_N{n0}_x{fac}", "ti", ti_input(p, model, n0, fac, False, SEED + 1))}
    # 3. conventional
    base = {}
    for n in ns_iso:
        base[(n, 1)] = runner.run(f"baseline_N{n}_x1", "baseline", baseline_input(p, n, 1, SEED + 7 + n))
    base[(n0, fac)] = runner.run(f"baseline_N{n0}_x{fac}", "baseline", baseline_input(p, n0, fac, SEED + 8 + n0))
    widom = {}
    if with_widom:
        for n in ns_iso:
            widom[n] = runner.run(f"widom_N{n}", "sample", sample_input(p, n, widom=True))
    return Stages(samples, train, pilot, ti, rev, base, widom)
