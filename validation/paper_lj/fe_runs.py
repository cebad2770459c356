"""Running nti for validation/paper_lj/free_energy.py: the paper system, the `nti ti` and
`nti baseline` inputs, one run in its own directory (Run), the runs of one validation, and the
model (trained by run.py when no --model is given).

Python 3 standard library; numpy/h5py only decide how the model is trained (make_model).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent

# the paper's system (docs/design.md sec. 2)
TEMPERATURE = 1.25
BOX = 6.0
VOLUME = BOX**3
TRAIN_N = [40, 80, 120, 160, 200]


def log(msg: str = "") -> None:
    print(msg, flush=True)


# ----------------------------------------------------------------------------- inputs


def run_output_toml(seed: int) -> list[str]:
    """The [run] and [output] sections shared by every input this script writes."""
    return ["[run]", f"seed = {seed}", "", "[output]", 'file = "results.h5"', "overwrite = false", ""]


def ti_toml(model: Path, ns: list[int], p: dict, seed: int, ranks: int, corrected: bool) -> str:
    traj = p["cv_trajectories"] if corrected else p["trajectories"]
    batch = max(1, math.ceil(traj / max(ranks, 1)))  # one chunk per rank and N
    rule = p.get("window_rule", "gauss-legendre")
    what = (f"reverse SDE + {p['windows']} Metropolis-corrected ({p.get('window_sampler', 'mala')}) {rule} windows" if corrected
            else "reverse SDE only, every N")
    sampler = p.get("window_sampler", "mala")
    ti = ([f"windows = {p['windows']}", f"window_chains = {p['window_chains']}",
           f"window_warmup = {p['window_warmup']}", f"window_steps = {p['window_steps']}",
           f"window_sampler = {json.dumps(sampler)}", f"hmc_leapfrog = {p.get('hmc_leapfrog', 10)}",
           f"window_stride = {p.get('window_stride', 5)}",
           f"window_discard = {json.dumps(p.get('window_discard', 'none'))}",
           f"window_rule = {json.dumps(rule)}"]
          if corrected else ["windows = 0"])
    start = p.get("window_start", "reverse-sde")
    if corrected and start != "reverse-sde":
        # the reference simulation: the training files run.py writes next to the model
        data = [str(model.parent / f"train_N{n}.h5") for n in ns if (model.parent / f"train_N{n}.h5").is_file()]
        if not data:
            sys.exit(f"error: --window-start {start}: no training files train_N<n>.h5 for N = {ns} next to {model}")
        ti += [f"window_start = {json.dumps(start)}", f"window_data = {json.dumps(data)}"]
    return "\n".join([
        f"# validation/paper_lj/free_energy.py: Neural TI, {what}",
        f"# paper system: T = {TEMPERATURE} (from the model), L = {BOX}, min-image",
        "version = 1",
        "",
        "[generate]",
        f"model = {json.dumps(str(model))}",
        f"n_particles = {json.dumps(ns)}",
        f"box_side = {BOX}",
        f"trajectories = {traj}",
        f"steps = {p['steps']}",
        f"batch = {batch}",
        "",
        "[ti]",
        *ti,
        "ais_chains = 0",
        "",
        *run_output_toml(seed),
    ])


def baseline_toml(n: int, k: int, p: dict, seed: int) -> str:
    return "\n".join([
        f"# validation/paper_lj/free_energy.py: conventional TI + MBAR, K = {k} uniform lambda windows",
        "version = 1",
        "",
        "[system]",
        'kind = "lennard-jones"',
        f"n_particles = {n}",
        f"density = {n / VOLUME!r}",
        f"temperature = {TEMPERATURE}",
        'cutoff = "min-image"',
        "tail_correction = false",
        "",
        "[baseline]",
        f"windows = {k}",
        'spacing = "uniform"',
        f"equilibration = {p['equilibration']}",
        f"production = {p['production']}",
        f"stride = {p['stride']}",
        "mbar = true",
        "widom_insertions = 0",
        "",
        *run_output_toml(seed),
    ])


# ----------------------------------------------------------------------------- running


def nti_env() -> dict:
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    env.setdefault("RUST_LOG", "info")
    return env


def launcher(ranks: int) -> list[str]:
    if ranks <= 1:
        return []
    mpirun = shutil.which("mpirun")
    if not mpirun:
        sys.exit("error: --ranks > 1 needs mpirun on PATH (or use --ranks 1)")
    return [mpirun, "--oversubscribe", "-np", str(ranks)]


class Run:
    """One nti run in its own directory <outdir>/<name>: input.toml, run.log (first line = the
    command), results.h5, summary.json."""

    def __init__(self, name: str, command: str, toml: str, ranks: int):
        self.name, self.command, self.toml, self.ranks = name, command, toml, ranks
        self.ok, self.reused, self.wall, self.error = False, False, 0.0, ""
        self.results: list[dict] = []
        self.dir: Path | None = None

    def execute(self, nti: Path, outdir: Path, reuse: bool) -> "Run":
        work = outdir / self.name
        self.dir = work
        h5, inp = work / "results.h5", work / "input.toml"
        if work.exists():
            if h5.is_file() and inp.is_file() and inp.read_text() == self.toml:
                self.reused = True
                return self._summary(nti)
            if h5.is_file():
                self.error = f"{work} holds a finished run of a different input (not touched)"
                return self
            if not reuse:
                self.error = f"{work} exists"
                return self
            k = 1
            while work.with_name(f"{work.name}.incomplete{k}").exists():
                k += 1
            work.rename(work.with_name(f"{work.name}.incomplete{k}"))
        work.mkdir(parents=True)
        inp.write_text(self.toml)
        cmd = launcher(self.ranks) + [str(nti), self.command, "input.toml"]
        t0 = time.monotonic()
        with open(work / "run.log", "w") as fh:
            fh.write("$ " + " ".join(cmd) + "\n")
            fh.flush()
            rc = subprocess.run(cmd, cwd=work, stdout=fh, stderr=subprocess.STDOUT, env=nti_env()).returncode
        self.wall = time.monotonic() - t0
        (work / "wall_seconds.txt").write_text(f"{self.wall:.3f}\n")
        if rc != 0:
            lines = (work / "run.log").read_text(errors="replace").strip().splitlines()[1:]
            errs = [ln for ln in lines if ln.lower().startswith("error") or " ERROR " in ln]
            tail = "\n    ".join(errs[:5] or lines[-8:])
            self.error = f"nti {self.command} exited with status {rc} (log {work / 'run.log'}):\n    {tail}"
            return self
        return self._summary(nti)

    def _summary(self, nti: Path) -> "Run":
        assert self.dir is not None
        if self.reused and (self.dir / "wall_seconds.txt").is_file():
            self.wall = float((self.dir / "wall_seconds.txt").read_text())
        s = subprocess.run([str(nti), "summary", str(self.dir / "results.h5"), "--json"], capture_output=True, text=True)
        if s.returncode != 0:
            self.error = f"nti summary failed: {s.stderr.strip()}"
            return self
        (self.dir / "summary.json").write_text(s.stdout)
        self.results = json.loads(s.stdout)["results"]
        self.ok = True
        return self

    def get(self, name: str, method: str, n: int) -> tuple[float, float]:
        for r in self.results:
            if r["name"] == name and r["method"] == method and r["n_particles"] == n:
                v, e = r.get("value"), r.get("stderr")
                return (math.nan if v is None else float(v), math.nan if e is None else float(e))
        return (math.nan, math.nan)


def run_and_report(run: Run, nti: Path, outdir: Path, reuse: bool, what: str) -> Run:
    log(f"[{run.name}] {what} ...")
    run.execute(nti, outdir, reuse)
    status = ("reused" if run.reused else "ok") if run.ok else "FAILED"
    log(f"[{run.name}] {status}" + (f" ({'ran' if run.reused else 'in'} {run.wall:.0f} s)" if run.wall else "") + (f": {run.error}" if run.error else ""))
    return run


def make_model(a, outdir: Path, nti: Path, quick: bool) -> Path:
    """A model trained by run.py (--stop-after train) in <outdir>/model/, reused if present."""
    parent = outdir / "model"
    existing = sorted(parent.glob("paper_lj*")) if parent.is_dir() else []
    for d in existing:
        if (d / "train.h5").is_file():
            log(f"model: reusing {d / 'train.h5'} (made by run.py earlier)")
            return d / "train.h5"
    try:
        import numpy  # noqa: F401
        import h5py  # noqa: F401
        have_np = True
    except ImportError:
        have_np = False
    if not have_np:
        return make_model_stdlib(a, parent, nti, quick)
    cmd = [sys.executable, str(HERE / "run.py"), "--stop-after", "train", "--ranks", str(a.ranks)]
    if existing:
        cmd += ["--reuse", str(existing[-1])]
    else:
        parent.mkdir(exist_ok=True)
        cmd += ["--out", str(parent), "--nti", str(nti), "--seed", str(a.seed)] + (["--quick"] if quick else [])
    log(f"model: no --model given: training one with run.py{' --quick' if quick else ''} "
        f"(log {parent / 'run_py.log'}):\n  $ {' '.join(cmd)}")
    t0 = time.monotonic()
    with open(parent / "run_py.log", "a") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT).returncode
    text = (parent / "run_py.log").read_text(errors="replace")
    dirs = re.findall(r"^run directory: (.+)$", text, re.M)
    if rc != 0 or not dirs or not (Path(dirs[-1]) / "train.h5").is_file():
        log("\n".join(text.strip().splitlines()[-10:]))
        sys.exit(f"error: run.py failed (status {rc}); see {parent / 'run_py.log'}")
    log(f"model: {Path(dirs[-1]) / 'train.h5'} ({time.monotonic() - t0:.0f} s)")
    return Path(dirs[-1]) / "train.h5"


def make_model_stdlib(a, parent: Path, nti: Path, quick: bool) -> Path:
    """Without numpy/h5py run.py cannot run; the same sample and train inputs (run.py's own input
    writers and parameters) are run here directly."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("paper_lj_run", HERE / "run.py")
    rp = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(rp)
    p = dict(rp.QUICK if quick else rp.FULL)
    work = parent / ("paper_lj_quick_stdlib" if quick else "paper_lj_stdlib")
    work.mkdir(parents=True, exist_ok=True)
    log(f"model: no --model given and numpy/h5py are missing (run.py needs them): running run.py's "
        f"sample and train inputs{' (--quick)' if quick else ''} directly in {work}")
    launch = launcher(a.ranks)
    for n in p["train_n"]:
        name = f"train_N{n}"
        if (work / f"{name}.h5").exists():
            continue
        (work / f"{name}.toml").write_text(rp.sample_toml(n, a.seed + n, p, p["train_production"], p["train_stride"],
                                                          True, f"{name}.h5"))
        rp.run_nti(launch + [str(nti), "sample", f"{name}.toml"], work, name)
    if not (work / "train.h5").exists():
        (work / "train.toml").write_text(rp.train_toml(p, [f"train_N{n}.h5" for n in p["train_n"]], p["steps"], a.seed))
        cmd = launch + [str(nti), "train", "train.toml"]
        if (work / "train.ckpt.h5").exists():
            cmd += ["--restart", "train.ckpt.h5"]
        rp.run_nti(cmd, work, "train")
    return work / "train.h5"


# ----------------------------------------------------------------------------- the runs of one validation


def run_neural_ti(model: Path, ns: list[int], subset: list[int], p: dict, a, nti: Path,
                  outdir: Path) -> tuple[Run, Run]:
    """Neural TI: the reverse SDE at every N, and the corrected windows at the subset."""
    rev = run_and_report(Run("ti_reverse", "ti", ti_toml(model, ns, p, a.seed, a.ranks, False), a.ranks),
                         nti, outdir, bool(a.reuse),
                         f"nti ti, reverse SDE only: {len(ns)} N from {ns[0]} to {ns[-1]}, "
                         f"{p['trajectories']} trajectories x {p['steps']} steps per N")
    cor = run_and_report(Run("ti_corrected", "ti", ti_toml(model, subset, p, a.seed + 1, a.ranks, True), a.ranks),
                         nti, outdir, bool(a.reuse),
                         f"nti ti, {p['windows']} {p.get('window_sampler', 'mala').upper()}-corrected windows ({p['window_chains']} chains x "
                         f"({p['window_warmup']} + {p['window_steps']}) steps) + {p['cv_trajectories']} reverse-SDE "
                         f"trajectories at N = {subset}")
    return rev, cor


def run_baselines(subset: list[int], ks: list[int], p: dict, a, nti: Path, outdir: Path) -> dict[tuple[int, int], Run]:
    """Conventional TI / MBAR: one nti baseline per (N, K), single-rank, --jobs at a time (largest first)."""
    base_runs = {(n, k): Run(f"baseline_N{n}_K{k}", "baseline", baseline_toml(n, k, p, a.seed + 1000 * (i + 1) + n), 1)
                 for i, k in enumerate(ks) for n in subset}
    log(f"[baseline] nti baseline at N = {subset}, K = {ks} ({p['equilibration']} + {p['production']} sweeps per "
        f"window, stride {p['stride']}), {len(base_runs)} runs, {a.jobs} at a time ...")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        order = sorted(base_runs, key=lambda nk: -(nk[0] ** 2) * nk[1])
        futs = [pool.submit(r.execute, nti, outdir, bool(a.reuse)) for r in (base_runs[x] for x in order)]
        for f in futs:
            r = f.result()
            status = ("reused" if r.reused else "ok") if r.ok else "FAILED"
            log(f"  {r.name}: {status}" + (f" ({'ran' if r.reused else 'in'} {r.wall:.0f} s)" if r.wall else "") + (f": {r.error}" if r.error else ""))
    log(f"[baseline] {time.monotonic() - t0:.0f} s")
    return base_runs


def run_failures(rev: Run, cor: Run, base_runs: dict[tuple[int, int], Run]) -> list[str]:
    """The failed runs, and a model not at the paper's temperature."""
    failures: list[str] = []
    for r in [rev, cor, *base_runs.values()]:
        if not r.ok:
            failures.append(f"{r.name}: {r.error}")
    temps = {r.get("temperature") for run in (rev, cor) for r in run.results if r["name"] == "beta_a_ex"}
    if temps and any(t is None or abs(t - TEMPERATURE) > 1e-9 for t in temps):
        failures.append(f"the model's temperature {sorted(temps)} is not T = {TEMPERATURE}: not the paper's system")
    return failures


# ----------------------------------------------------------------------------- reading results


def read_grand_canonical(h5: Path) -> tuple[dict | None, str]:
    try:
        import h5py  # type: ignore
    except ImportError:
        return None, "h5py not installed: /grand_canonical not read"
    with h5py.File(h5, "r") as f:
        if "grand_canonical" not in f:
            return None, "no /grand_canonical group (nti writes it when the N form a contiguous range of >= 3)"
        g = f["grand_canonical"]
        d = {k: [float(x) for x in g[k][()]] for k in ("beta_mu", "mean_n", "mean_density", "mean_density_stderr",
                                                       "edge_weight")}
        m = g.attrs.get("method", "")
        d["method"] = m.decode() if isinstance(m, bytes) else str(m)
    # Lambda = 1 (reduced units): beta*mu = ln(rho Lambda^3) + beta*mu_ex
    d["beta_mu_ex"] = [bm - math.log(r) if r > 0 else math.nan for bm, r in zip(d["beta_mu"], d["mean_density"])]
    return d, ""


def nti_fit_difference(cor: "Run", every_n: dict) -> float | None:
    """Largest |beta*A_ex| difference between nti's /ti/fit and a_of_n.py's table (None without
    h5py or without /ti/fit, which nti writes from 4 corrected N on)."""
    try:
        import h5py  # type: ignore
    except ImportError:
        return None
    with h5py.File(cor.dir / "results.h5", "r") as f:
        if "ti/fit" not in f:
            return None
        ns = [int(x) for x in f["ti/fit/n"][()]]
        a = [float(x) for x in f["ti/fit/beta_a_ex"][()]]
    mine = {r["n"]: r["beta_a_ex"][0] for r in every_n["every_n"]}
    return max(abs(v - mine[n]) for n, v in zip(ns, a) if n in mine)

