#!/usr/bin/env python3
"""Paper Lennard-Jones system (Mate, Fleuret & Bereau, JPCL 15, 11395 (2024); DESIGN.md sec. 2):
T = 1.25, box L = 6 sigma, min-image interactions, N = 40 ... 200.

Pipeline (every step is a separate `nti` process, MPI over --ranks):
  1. nti sample: training trajectories at N = 40, 80, 120, 160, 200 and reference RDFs at the
     held-out N = 60, 120, 180 (independent seeds; 120 is also a training size, as in the issue);
  2. nti train: one model on the five training files (data-parallel on --ranks ranks; 18000 steps,
     target score matching);
  3. nti generate: reverse SDE (Euler-Maruyama, 1000 steps) at N = 60, 120, 180 with MALA correctors
     on the model's own ensembles at t = 0.3, 0.2, 0.1 (200 steps each; predictor-corrector);
  4. report: loss curve, RDF comparison (max |g_gen - g_ref|, z per bin, chi2 per bin, a Poisson test
     of the sparse bins, first peak, a verdict), LJ energy and closest pair distance of the generated
     samples, timings and ranks; a PNG plot and a JSON summary.

Needs numpy and h5py (matplotlib optional, for the plot):  pip install numpy h5py matplotlib

  python3 validation/paper_lj/run.py --quick         # toy scale, ~10-30 s: runs + loss decreases
  python3 validation/paper_lj/run.py                 # full, ~30 min wall on 2 cores
  python3 validation/paper_lj/run.py --reuse DIR     # resume an earlier run / redo its report
  python3 validation/paper_lj/run.py --data-from DIR --r-min 0.8   # new model on DIR's MC data

Exit status: 0 on success; 1 if a run fails, generated data are non-finite or the validation
loss did not decrease. The RDF agreement is reported with a verdict, not enforced (see README.md):
"consistent" when chi2 per Gaussian bin is below 1 + 3 sqrt(2 / bins) and the sparse-bin |z| < 3.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
from rdf_stats import compare as rdf_compare, rdf_frames  # noqa: E402  (sibling module)

TEMPERATURE = 1.25
BOX = 6.0

FULL = dict(
    train_n=[40, 80, 120, 160, 200],
    ref_n=[60, 120, 180],
    replicas=4,
    equilibration=2000,
    train_production=20000,   # sweeps per replica; 1000 frames per replica at stride 20
    train_stride=20,
    ref_production=40000,
    ref_stride=10,
    rdf_bins=60,              # dr = 0.05 sigma over [0, L/2]
    steps=18000,              # 18 % of the paper's 100k; 6000 gives a worse model at t <= 0.3 (README)
    batch=32,
    micro_batch=4,
    lr=1e-3,
    decay_at=0.6,             # lr x 0.1 at 60 % of the run (paper: at 50k of 100k steps)
    lr_min=1e-5,
    eval_points=40,
    validation_samples=256,
    hidden=[64, 64],
    n_radial=8,
    r_min=0.5,                # centre of the first radial Gaussian; 0.8 leaves overlapping pairs (README)
    # reverse-SDE trajectories per N: cost per trajectory grows as N^2, and so do the pairs per
    # frame that the RDF averages over, so fewer at large N
    gen_trajectories={"60": 64, "120": 32, "180": 24},
    gen_steps=1000,
    gen_batch=8,
    # target score matching (DESIGN.md sec. 2): the LJ force enters the regression target at small t
    train_extra=["target_score=true"],
    # predictor-corrector: MALA on the model's own ensembles at t = 0.3, 0.2, 0.1 (README, sessions
    # 15-16); `--generate 'corrector_t=[]' --generate corrector_steps=0` is the plain reverse SDE
    generate_extra=["corrector_t=[0.3, 0.2, 0.1]", "corrector_steps=200"],
)

QUICK = dict(
    train_n=[40, 80],
    ref_n=[60],
    replicas=2,
    equilibration=200,
    train_production=1000,
    train_stride=10,
    ref_production=2000,
    ref_stride=10,
    rdf_bins=30,
    steps=100,
    batch=8,
    micro_batch=2,
    lr=3e-3,
    decay_at=0.6,
    lr_min=1e-5,
    eval_points=6,
    validation_samples=32,
    hidden=[16, 16],
    n_radial=4,
    r_min=0.5,
    gen_trajectories={"60": 4},
    gen_steps=100,
    gen_batch=2,
)


def log(msg: str) -> None:
    print(msg, flush=True)


def find_nti(explicit: str | None) -> Path:
    cand = Path(explicit or os.environ.get("NTI") or REPO / "target" / "release" / "nti")
    if not cand.is_file() or not os.access(cand, os.X_OK):
        sys.exit(f"error: nti binary '{cand}' not found (cargo build --release, or --nti PATH)")
    return cand.resolve()


def launcher(ranks: int) -> list[str]:
    if ranks <= 1:
        return []
    mpirun = shutil.which("mpirun")
    if not mpirun:
        sys.exit("error: --ranks > 1 needs mpirun on PATH")
    return [mpirun, "--oversubscribe", "-np", str(ranks)]


def run_nti(cmd: list[str], cwd: Path, name: str) -> float:
    """Runs one nti command in cwd, logs to <name>.log; returns wall seconds."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")  # waiting ranks yield the core (shared machines)
    env.setdefault("RUST_LOG", "info")
    t0 = time.monotonic()
    with open(cwd / f"{name}.log", "w") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        p = subprocess.run(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        tail = (cwd / f"{name}.log").read_text().splitlines()[-15:]
        log("\n".join(tail))
        sys.exit(f"error: '{' '.join(cmd)}' failed with status {p.returncode} (log: {cwd / (name + '.log')})")
    return dt


def sample_toml(n: int, seed: int, p: dict, production: int, stride: int, trajectory: bool, out: str) -> str:
    return f"""# paper LJ system: T = {TEMPERATURE}, L = {BOX}, min-image (validation/paper_lj/run.py)
version = 1

[system]
n_particles = {n}
density = {n / BOX**3!r}
temperature = {TEMPERATURE}
cutoff = "min-image"
tail_correction = false

[sample]
method = "mc"
replicas = {p['replicas']}
equilibration = {p['equilibration']}
production = {production}
stride = {stride}
rdf_bins = {p['rdf_bins']}
trajectory = {str(trajectory).lower()}

[run]
seed = {seed}

[output]
file = "{out}"
"""


def extra_model_lines(p: dict, key: str = "model_extra") -> str:
    """Extra [model] / [train] keys given with --model / --train KEY=VALUE (TOML, verbatim)."""
    return "".join(f"{kv}\n" for kv in p.get(key, []))


def train_toml(p: dict, data: list[str], steps: int, seed: int) -> str:
    decay_every = max(1, round(p["decay_at"] * steps))
    eval_every = max(1, steps // p["eval_points"])
    return f"""# one model on all training sizes (validation/paper_lj/run.py)
version = 1

[train]
data = {json.dumps(data)}
steps = {steps}
batch = {p['batch']}
micro_batch = {p['micro_batch']}
lr = {p['lr']}
lr_decay = 0.1
lr_decay_every = {decay_every}
lr_min = {p['lr_min']}
weight_decay = 1e-4
validation_fraction = 0.1
validation_samples = {p['validation_samples']}
eval_every = {eval_every}
checkpoint_every = {max(1, steps // 5)}
{extra_model_lines(p, "train_extra")}
[model]
n_radial = {p['n_radial']}
r_min = {p.get('r_min', 0.8)}
r_cut = 3.0
hidden = {json.dumps(p['hidden'])}
n_freq = 4
sigma_min = 1e-3
sigma_max = 0.5
{extra_model_lines(p)}
[run]
seed = {seed}

[output]
file = "train.h5"
"""


def generate_toml(p: dict, n: int, seed: int) -> str:
    return f"""# reverse SDE at a held-out size (validation/paper_lj/run.py)
version = 1

[generate]
model = "train.h5"
n_particles = [{n}]
box_side = {BOX}
trajectories = {p['gen_trajectories'][str(n)]}
steps = {p['gen_steps']}
batch = {p['gen_batch']}
rdf_bins = {p['rdf_bins']}
{extra_model_lines(p, "generate_extra")}
[run]
seed = {seed}

[output]
file = "generate_N{n}.h5"
"""


# ----------------------------------------------------------------------------- analysis


def lj_min_image(x, side):
    """Per-frame LJ energy per particle (min-image, all pairs) and closest pair distance."""
    import numpy as np

    d = x[:, :, None, :] - x[:, None, :, :]
    d -= side * np.round(d / side)
    r2 = (d**2).sum(-1)
    n = x.shape[1]
    iu = np.triu_indices(n, 1)
    r2 = r2[:, iu[0], iu[1]]
    s6 = r2**-3
    u = 4.0 * (s6 * s6 - s6)
    return u.sum(1) / n, np.sqrt(r2.min(1))


def first_peak(r, g):
    """Location and height of the first maximum of g (parabolic refinement over 3 bins)."""
    import numpy as np

    k = int(np.argmax(np.where(r < 1.5, g, -np.inf)))
    if 0 < k < len(g) - 1:
        a, b, c = g[k - 1], g[k], g[k + 1]
        den = a - 2 * b + c
        if den < 0:
            off = 0.5 * (a - c) / den
            dr = r[1] - r[0]
            return r[k] + off * dr, b - 0.25 * (a - c) * off
    return r[k], g[k]


def analyse(outdir: Path, p: dict, timings: dict, quick: bool) -> int:
    import numpy as np
    import h5py

    rep: dict = {"mode": "quick" if quick else "full", "params": p, "timings_script_s": timings}
    tr = h5py.File(outdir / "train.h5", "r")
    h = tr["training"]
    step, trl, val, lr = (h[k][()] for k in ("step", "train_loss", "val_loss", "lr"))
    prov = dict(tr["provenance"].attrs)
    train_ranks, train_wall = int(prov["n_ranks"]), float(prov["wall_seconds"])
    git = prov.get("git_commit", "?")
    rep["loss_curve"] = {"step": step.tolist(), "train_loss": trl.tolist(), "val_loss": val.tolist(), "lr": lr.tolist()}
    nparams = tr["model/params"].shape[0]

    log("\n=== reference simulations (nti sample, Metropolis MC) ===")
    log(f"{'file':<12} {'N':>4} {'rho':>7} {'frames':>7} {'u/N':>10} {'se':>8} {'acc':>6} {'ranks':>5} {'wall s':>8}")
    samples = {}
    for role, ns in (("train", p["train_n"]), ("ref", p["ref_n"])):
        for n in ns:
            fn = outdir / f"{role}_N{n}.h5"
            with h5py.File(fn, "r") as f:
                u = f[f"results/potential_energy_per_particle__mc__N{n}"].attrs
                acc = f[f"results/mc_acceptance__mc__N{n}"].attrs["value"]
                frames = sum(f[f"particles/{k}/position/value"].shape[0] for k in f["particles"]) if "particles" in f else 0
                pv = dict(f["provenance"].attrs)
                samples[(role, n)] = dict(u=float(u["value"]), u_se=float(u["stderr"]), frames=frames,
                                          ranks=int(pv["n_ranks"]), wall=float(pv["wall_seconds"]))
                log(f"{fn.name:<12} {n:>4} {n / BOX**3:>7.4f} {frames:>7} {u['value']:>10.4f} {u['stderr']:>8.4f} "
                    f"{acc:>6.3f} {int(pv['n_ranks']):>5} {float(pv['wall_seconds']):>8.1f}")
    rep["samples"] = {f"{k[0]}_N{k[1]}": v for k, v in samples.items()}

    log(f"\n=== training (nti train): {nparams} parameters, {int(step[-1])} steps, batch {p['batch']}, "
        f"{train_ranks} ranks, {train_wall:.0f} s wall ({train_wall / max(step[-1], 1):.3f} s/step) ===")
    log(f"{'step':>7} {'train loss':>11} {'val loss':>10} {'lr':>9}")
    rows = list(range(len(step)))
    if len(rows) > 26:
        keep = sorted(set(np.linspace(0, len(rows) - 1, 25).round().astype(int).tolist()))
        rows = keep
    for i in rows:
        log(f"{int(step[i]):>7} {trl[i]:>11.5f} {val[i]:>10.5f} {lr[i]:>9.2e}")
    nv = len(val)
    w = max(1, nv // 5)
    v_first, v_last = float(val[0]), float(np.mean(val[-w:]))
    v_prev = float(np.mean(val[-2 * w:-w])) if nv >= 2 * w + 1 else float("nan")
    conv = dict(val_initial=v_first, val_final=float(val[-1]), val_min=float(np.min(val)),
                val_mean_last_fifth=v_last, val_mean_previous_fifth=v_prev,
                train_first=float(trl[1]) if len(trl) > 1 else float("nan"), train_last=float(trl[-1]))
    rep["convergence"] = conv
    log(f"validation loss: initial {v_first:.5f}, min {conv['val_min']:.5f}, final {val[-1]:.5f}; "
        f"mean of last fifth {v_last:.5f} vs previous fifth {v_prev:.5f} "
        f"(change {v_last - v_prev:+.5f}; total drop {v_last - v_first:+.5f})")

    gen_ranks, gen_wall = set(), {}
    for n in p["ref_n"]:
        with h5py.File(outdir / f"generate_N{n}.h5", "r") as f:
            gp = dict(f["provenance"].attrs)
        gen_ranks.add(int(gp["n_ranks"]))
        gen_wall[n] = float(gp["wall_seconds"])
    gen_ranks = sorted(gen_ranks)[0] if len(gen_ranks) == 1 else sorted(gen_ranks)
    log(f"\n=== generation (nti generate): {p['gen_steps']} reverse-SDE steps; trajectories per N "
        f"{p['gen_trajectories']}; {gen_ranks} ranks; wall s per N "
        f"{ {n: round(v) for n, v in gen_wall.items()} } ===")
    if p.get("generate_extra"):
        log(f"[generate] extra keys: {'; '.join(p['generate_extra'])}")
    for n in p["ref_n"]:
        with h5py.File(outdir / f"generate_N{n}.h5", "r") as f:
            if f"ti/N{n}/corrector_t" in f:
                ti = f[f"ti/N{n}"]
                for tc, acc, du in zip(ti["corrector_t"][()], ti["corrector_acceptance"][()], ti["corrector_du"][()]):
                    log(f"  N = {n}: corrector at t = {tc:.3f}: acceptance {acc:.3f}, "
                        f"u(after) - u(before) = {du / n:+.4f} kT per particle")
    rdfs = {}
    log(f"{'N':>4} {'max|dg|':>8} {'at r':>6} {'max|dg|':>8} {'at r':>6} {'max|z|':>7} {'chi2/dof':>8} "
        f"{'sparse K/exp':>13} {'z':>5} "
        f"{'peak r ref':>10} {'gen':>6} {'peak g ref':>10} {'gen':>6} {'u/N ref':>9} {'u/N gen':>14} {'r_min gen':>9}")
    log(f"{'':>4} {'r>=0.8':>8} {'':>6} {'all r':>8} {'':>6} {'r>=0.8':>7} {'r>=0.8':>8} {'r>=0.8':>13}")
    ok_finite = True
    for n in p["ref_n"]:
        with h5py.File(outdir / f"ref_N{n}.h5", "r") as f:
            r = f["observables/rdf/r"][()]
            g_ref = f["observables/rdf/g"][()]
            g_ref_se = f["observables/rdf/g_stderr"][()]
        with h5py.File(outdir / f"generate_N{n}.h5", "r") as g5:
            r_gen = g5[f"observables/generated_N{n}/rdf/r"][()]
            g_gen = g5[f"observables/generated_N{n}/rdf/g"][()]
            x = g5[f"particles/generated_N{n}/position/value"][()]
            a_ex = [g5[f"results/{k}"].attrs for k in g5.get("results", {}) if k.startswith("beta_a_ex")]
            a_ex = (float(a_ex[0]["value"]), float(a_ex[0]["stderr"])) if a_ex else (math.nan, math.nan)
        # per-frame RDF of the generated samples: reproduces nti's g and gives its standard error
        rc, gf = rdf_frames(x, BOX, len(r_gen))
        st = rdf_compare(r, g_ref, g_ref_se, gf, n, BOX)
        g_gen_se = st["g_gen_se"]
        self_check = float(np.max(np.abs(st["g_gen"] - g_gen)))
        u_gen, rmin = lj_min_image(x, BOX)
        ok_finite &= bool(np.all(np.isfinite(g_gen)) and np.all(np.isfinite(x)))
        assert np.allclose(r, r_gen), "reference and generated RDF bins differ"
        dg = g_gen - g_ref
        m = r >= 0.8
        k_all = int(np.argmax(np.abs(dg)))
        k_m = int(np.argmax(np.where(m, np.abs(dg), -1)))
        chi2 = st["chi2"]
        pr_ref, ph_ref = first_peak(r, g_ref)
        pr_gen, ph_gen = first_peak(r, g_gen)
        u_ref = samples[("ref", n)]["u"]
        ug, ug_se = float(np.mean(u_gen)), float(np.std(u_gen, ddof=1) / math.sqrt(len(u_gen))) if len(u_gen) > 1 else float("nan")
        d = dict(max_abs_dg_r08=float(abs(dg[k_m])), at_r08=float(r[k_m]), max_abs_dg_all=float(abs(dg[k_all])),
                 at_all=float(r[k_all]), max_abs_z_r08=st["max_abs_z"], chi2_per_bin_r08=chi2,
                 sparse_bins=st["sparse_bins"], sparse_pairs=st["sparse_k"], sparse_expected=st["sparse_lambda"],
                 sparse_z=st["sparse_z"], gaussian_bins=st["bins"], chi2_limit=st["chi2_limit"],
                 consistent=st["consistent"],
                 peak_r_ref=float(pr_ref), peak_r_gen=float(pr_gen), peak_g_ref=float(ph_ref), peak_g_gen=float(ph_gen),
                 u_ref=u_ref, u_ref_se=samples[("ref", n)]["u_se"], u_gen=ug, u_gen_se=ug_se,
                 r_min_gen=float(rmin.min()), frames_gen=int(len(x)), rdf_selfcheck=self_check,
                 r=r.tolist(), g_ref=g_ref.tolist(), g_ref_se=g_ref_se.tolist(), g_gen=g_gen.tolist(),
                 g_gen_se=g_gen_se.tolist(), beta_a_ex_unvalidated=a_ex)
        rdfs[n] = d
        log(f"{n:>4} {d['max_abs_dg_r08']:>8.3f} {d['at_r08']:>6.3f} {d['max_abs_dg_all']:>8.3f} {d['at_all']:>6.3f} "
            f"{d['max_abs_z_r08']:>7.1f} {chi2:>8.2f} {st['sparse_k']:>6.0f}/{st['sparse_lambda']:<6.1f} "
            f"{st['sparse_z']:>5.1f} {pr_ref:>10.3f} {pr_gen:>6.3f} {ph_ref:>10.3f} {ph_gen:>6.3f} "
            f"{u_ref:>9.4f} {ug:>7.3f}±{ug_se:<6.3f} {rmin.min():>9.3f}")
    log("max|dg|: largest |g_gen(r) - g_ref(r)| over bins (dr = "
        f"{BOX / 2 / p['rdf_bins']:.3f}); z = dg / sqrt(se_ref^2 + se_gen^2) with se_gen from the spread over "
        "independent trajectories, over the bins where the generated sample expects >= 10 pairs; sparse: the "
        "other bins together, pairs found / expected from g_ref, z of the Poisson mid-p (rdf_stats.py); peak by parabolic refinement; u/N: LJ energy per particle (min-image); "
        "r_min gen: closest pair among all generated frames.")
    log("verdict (consistent within noise: chi2/dof < 1 + 3 sqrt(2/bins) and sparse |z| < 3): " + ", ".join(
        f"N = {n} {'consistent' if v['consistent'] else 'DEVIATES'} (chi2/dof {v['chi2_per_bin_r08']:.2f} vs "
        f"{v['chi2_limit']:.2f}, {v['gaussian_bins']} bins; sparse z {v['sparse_z']:+.1f})" for n, v in rdfs.items()))
    log(f"(self-check: numpy RDF of the generated frames vs nti's: max diff "
        f"{max(v['rdf_selfcheck'] for v in rdfs.values()):.2e})")
    log("beta A_ex from nti generate's /results (first beta_a_ex entry; NOT validated here): "
        + ", ".join(f"N = {n}: {v['beta_a_ex_unvalidated'][0]:.2f} +- {v['beta_a_ex_unvalidated'][1]:.2f}"
                    for n, v in rdfs.items()))
    rep["rdf"] = {str(k): v for k, v in rdfs.items()}
    rep["ranks"] = dict(train=train_ranks, generate=gen_ranks,
                        sample=sorted({v["ranks"] for v in samples.values()}))
    rep["wall_seconds_nti"] = dict(train=train_wall, generate=gen_wall,
                                   sample=sum(v["wall"] for v in samples.values()))
    rep["git_commit"] = git

    log("\n=== timings (wall seconds, as measured by this script incl. MPI start-up) ===")
    for k, v in timings.items():
        log(f"  {k:<10} {v:>8.1f}")
    log(f"  {'total':<10} {sum(timings.values()):>8.1f}")
    log(f"ranks: sample {rep['ranks']['sample']}, train {train_ranks}, generate {gen_ranks}; nti git commit {git}")

    png = outdir / "paper_lj_rdf.png"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        k = len(p["ref_n"])
        fig, ax = plt.subplots(2, k + 1, figsize=(4.2 * (k + 1), 6.5), gridspec_kw=dict(height_ratios=[3, 1.3]),
                               squeeze=False)
        pc = [e.split("=", 1)[1].strip() for e in p.get("generate_extra", []) if e.split("=")[0].strip() == "corrector_t"]
        sampler = f"reverse SDE + correctors\nat t = {pc[0]}" if pc and pc[0].strip("[] ") else "reverse SDE"
        for j, n in enumerate(p["ref_n"]):
            d = rdfs[n]
            rr, gr, gg = np.array(d["r"]), np.array(d["g_ref"]), np.array(d["g_gen"])
            ax[0, j].plot(rr, gr, "k-", lw=1.5, label="reference MC")
            ax[0, j].errorbar(rr, gg, yerr=d["g_gen_se"], fmt="o", ms=3, color="C3", lw=0.8,
                              label=f"{sampler}\n({d['frames_gen']} samples)")
            ax[0, j].set_title(f"N = {n}, rho = {n / BOX**3:.3f}, T = {TEMPERATURE}")
            ax[0, j].set_xlim(0.6, BOX / 2)
            ax[0, j].set_ylabel("g(r)")
            ax[0, j].legend(fontsize=8, loc="lower right")
            ax[1, j].axhline(0, color="k", lw=0.5)
            ax[1, j].errorbar(rr, gg - gr, yerr=np.sqrt(np.nan_to_num(np.array(d["g_ref_se"])) ** 2
                                                          + np.nan_to_num(np.array(d["g_gen_se"])) ** 2),
                              fmt=".", color="C3", lw=0.8)
            ax[1, j].set_xlim(0.6, BOX / 2)
            ax[1, j].set_xlabel("r / sigma")
            ax[1, j].set_ylabel("g_gen - g_ref")
        ax[0, k].plot(step, trl, label="train")
        ax[0, k].plot(step, val, label="validation")
        ax[0, k].set_xlabel("step")
        ax[0, k].set_ylabel("DSM loss")
        lo, hi = np.nanmin([trl[1:].min() if len(trl) > 1 else val.min(), val.min()]), np.nanmax(val)
        ax[0, k].set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        ax[0, k].legend()
        ax[0, k].set_title(f"training: {train_ranks} ranks, {train_wall / 60:.1f} min")
        ax[1, k].semilogy(step, lr)
        ax[1, k].set_xlabel("step")
        ax[1, k].set_ylabel("lr")
        fig.tight_layout()
        fig.savefig(png, dpi=110)
        log(f"\nplot: {png}")
        rep["plot"] = str(png)
    except ImportError:
        log("\n(matplotlib not installed: no plot)")

    (outdir / "report.json").write_text(json.dumps(rep, indent=1))
    log(f"summary: {outdir / 'report.json'}")

    status = 0
    if not ok_finite:
        log("FAIL: non-finite generated positions or RDF")
        status = 1
    if not (conv["val_final"] < conv["val_initial"]) or not math.isfinite(conv["val_final"]):
        log(f"FAIL: validation loss did not decrease ({conv['val_initial']:.5f} -> {conv['val_final']:.5f})")
        status = 1
    elif quick:
        log(f"PASS (quick): pipeline ran; validation loss {conv['val_initial']:.5f} -> {conv['val_final']:.5f}")
    return status


# ----------------------------------------------------------------------------- driver


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="toy scale (CI): checks that it runs and the loss decreases")
    ap.add_argument("--nti", help="nti binary (default $NTI or target/release/nti); copied into the run directory")
    ap.add_argument("--out", help="parent directory; a new subdirectory is made (default: system temp dir)")
    ap.add_argument("--reuse", metavar="DIR", help="continue in an earlier run directory: skip finished stages")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks for every nti run (default 2; 1 = no mpirun)")
    ap.add_argument("--steps", type=int, help="training steps (full default %d)" % FULL["steps"])
    ap.add_argument("--trajectories", type=int, help="reverse-SDE trajectories at every N (full default %s)" % FULL["gen_trajectories"])
    ap.add_argument("--seed", type=int, default=2406, help="master seed (sample seeds are seed + N, + 1000 for references)")
    ap.add_argument("--r-min", type=float, help="[model] r_min, centre of the first radial channel (default %g)" % FULL["r_min"])
    ap.add_argument("--model", action="append", default=[], metavar="KEY=VALUE",
                    help="extra [model] key of the training input, TOML syntax (repeatable), "
                    "e.g. --model 'pair_walls=[0.8, 0.9]'")
    ap.add_argument("--train", action="append", default=[], metavar="KEY=VALUE",
                    help="extra [train] key, TOML syntax (repeatable), e.g. --train t_focus_fraction=0.5")
    ap.add_argument("--generate", action="append", default=[], metavar="KEY=VALUE",
                    help="extra [generate] key, TOML syntax (repeatable), e.g. --generate 'corrector_t=[0.3]' "
                    "--generate corrector_steps=200")
    ap.add_argument("--data-from", metavar="DIR", help="reuse the nti sample outputs of an earlier run directory "
                    "(same sampling parameters) instead of sampling again")
    ap.add_argument("--stop-after", choices=["sample", "train", "generate"], help="stop after this stage")
    a = ap.parse_args()

    p = dict(QUICK if a.quick else FULL)
    try:
        import numpy  # noqa: F401
        import h5py  # noqa: F401
    except ImportError:
        sys.exit(f"error: {sys.executable} lacks numpy or h5py: pip install numpy h5py matplotlib, or on "
                 "Debian apt install python3-numpy python3-h5py and run with /usr/bin/python3")

    if a.reuse:
        outdir = Path(a.reuse).resolve()
        if not outdir.is_dir():
            sys.exit(f"error: --reuse {outdir}: no such directory")
        saved = json.loads((outdir / "params.json").read_text())
        p = saved["params"]
        nti = Path(saved["nti"])
        a.seed = saved.get("seed", a.seed)
        a.quick = "quick" in outdir.name
    else:
        base = (Path(a.out) if a.out else Path(tempfile.gettempdir())).resolve()
        base.mkdir(parents=True, exist_ok=True)
        outdir = Path(tempfile.mkdtemp(prefix="paper_lj_quick_" if a.quick else "paper_lj_", dir=base))
        src = find_nti(a.nti)
        nti = outdir / "nti"
        shutil.copy2(src, nti)  # a private snapshot: a concurrent rebuild cannot change it mid-run
        (outdir / "params.json").write_text(json.dumps(dict(params=p, nti=str(nti), nti_source=str(src),
                                                            ranks=a.ranks, seed=a.seed), indent=1))
    # overrides (also on --reuse, for stages not yet run); the effective parameters are kept
    if a.steps:
        p["steps"] = a.steps
    if a.trajectories:
        p["gen_trajectories"] = {str(n): a.trajectories for n in p["ref_n"]}
    if a.r_min is not None:
        p["r_min"] = a.r_min
    for opt, key in ((a.model, "model_extra"), (a.train, "train_extra"), (a.generate, "generate_extra")):
        for kv in opt:
            if "=" not in kv:
                sys.exit(f"error: {kv!r}: expected KEY=VALUE")
            name = kv.split("=")[0].strip()
            p[key] = [e for e in p.get(key, []) if e.split("=")[0].strip() != name] + [kv]
    tfile = outdir / "timings.json"
    if a.data_from and not tfile.exists():
        src_dir = Path(a.data_from).resolve()
        sp = json.loads((src_dir / "params.json").read_text())["params"]
        keys = ["train_n", "ref_n", "replicas", "equilibration", "train_production", "train_stride",
                "ref_production", "ref_stride", "rdf_bins"]
        if any(sp.get(k) != p.get(k) for k in keys):
            sys.exit(f"error: --data-from {src_dir}: its sampling parameters differ from this run's")
        for n in p["train_n"]:
            (outdir / f"train_N{n}.h5").symlink_to(src_dir / f"train_N{n}.h5")
        for n in p["ref_n"]:
            (outdir / f"ref_N{n}.h5").symlink_to(src_dir / f"ref_N{n}.h5")
        st = json.loads((src_dir / "timings.json").read_text())
        tfile.write_text(json.dumps({"sample": st["sample"]}, indent=1))
        log(f"sample outputs reused from {src_dir} (its sampling took {st['sample']:.1f} s)")
    meta = json.loads((outdir / "params.json").read_text())
    meta["params"] = p
    (outdir / "params.json").write_text(json.dumps(meta, indent=1))
    launch = launcher(a.ranks)
    log(f"run directory: {outdir}\nbinary: {nti}\nranks: {a.ranks}  mode: {'quick' if a.quick else 'full'}")
    timings: dict = json.loads(tfile.read_text()) if tfile.exists() else {}

    def stage(name: str, fn) -> None:
        if name in timings:
            log(f"[{name}] done earlier ({timings[name]:.1f} s), skipped")
            return
        t0 = time.monotonic()
        fn()
        timings[name] = time.monotonic() - t0
        tfile.write_text(json.dumps(timings, indent=1))
        log(f"[{name}] {timings[name]:.1f} s wall")

    def do_sample() -> None:
        jobs = [("train", n, a.seed + n, p["train_production"], p["train_stride"], True) for n in p["train_n"]]
        jobs += [("ref", n, a.seed + 1000 + n, p["ref_production"], p["ref_stride"], False) for n in p["ref_n"]]
        for role, n, seed, prod, stride, traj in jobs:
            name = f"{role}_N{n}"
            if (outdir / f"{name}.h5").exists():
                continue
            (outdir / f"{name}.toml").write_text(sample_toml(n, seed, p, prod, stride, traj, f"{name}.h5"))
            dt = run_nti(launch + [str(nti), "sample", f"{name}.toml"], outdir, name)
            log(f"  sample {name}: {p['replicas']} replicas x {prod} sweeps, stride {stride}: {dt:.1f} s")

    def do_train() -> None:
        data = [f"train_N{n}.h5" for n in p["train_n"]]
        (outdir / "train.toml").write_text(train_toml(p, data, p["steps"], a.seed))
        cmd = launch + [str(nti), "train", "train.toml"]
        ck = outdir / "train.ckpt.h5"
        if ck.exists() and not (outdir / "train.h5").exists():
            cmd += ["--restart", str(ck)]
        log(f"  training {p['steps']} steps (progress: tail -f {outdir / 'train.log'})")
        dt = run_nti(cmd, outdir, "train")
        log(f"  train: {dt:.1f} s")

    def do_generate() -> None:
        for n in p["ref_n"]:
            name = f"generate_N{n}"
            if (outdir / f"{name}.h5").exists():
                continue
            (outdir / f"{name}.toml").write_text(generate_toml(p, n, a.seed))
            dt = run_nti(launch + [str(nti), "generate", f"{name}.toml"], outdir, name)
            log(f"  generate N = {n}: {p['gen_trajectories'][str(n)]} trajectories x {p['gen_steps']} steps: {dt:.1f} s")

    for name, fn in (("sample", do_sample), ("train", do_train), ("generate", do_generate)):
        stage(name, fn)
        if a.stop_after == name:
            return 0
    status = analyse(outdir, p, timings, a.quick)
    log(f"\ncommands: see {outdir}/*.log (first line of each) and the inputs {outdir}/*.toml")
    return status


if __name__ == "__main__":
    sys.exit(main())
