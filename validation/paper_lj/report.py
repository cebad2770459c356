"""Report of a validation/paper_lj/run.py run directory: MC reference and training data, the loss
curve, the RDF of the generated samples against the reference (rdf_stats.py), LJ energy and closest
pairs, timings; printed, and written as report.json and paper_lj_rdf.png."""
from __future__ import annotations

import json
import math
from pathlib import Path

from rdf_stats import R_LO, compare as rdf_compare, rdf_frames


def log(msg: str) -> None:
    print(msg, flush=True)




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


def analyse(outdir: Path, p: dict, timings: dict, quick: bool, box: float, temperature: float) -> int:
    """Reads the run directory's HDF5 files, prints the report, writes report.json and the PNG; the
    exit status (0, or 1 if generated data are non-finite or the validation loss did not decrease)."""
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
                log(f"{fn.name:<12} {n:>4} {n / box**3:>7.4f} {frames:>7} {u['value']:>10.4f} {u['stderr']:>8.4f} "
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
            # /rdf since the H5MD layout for MDAnalysis; /observables/rdf in older files
            rg = f["rdf"] if "rdf" in f else f["observables/rdf"]
            r, g_ref, g_ref_se = rg["r"][()], rg["g"][()], rg["g_stderr"][()]
        with h5py.File(outdir / f"generate_N{n}.h5", "r") as g5:
            gg = g5[f"rdf/generated_N{n}"] if "rdf" in g5 else g5[f"observables/generated_N{n}/rdf"]
            r_gen, g_gen = gg["r"][()], gg["g"][()]
            x = g5[f"particles/generated_N{n}/position/value"][()]
            a_ex = [g5[f"results/{k}"].attrs for k in g5.get("results", {}) if k.startswith("beta_a_ex")]
            a_ex = (float(a_ex[0]["value"]), float(a_ex[0]["stderr"])) if a_ex else (math.nan, math.nan)
        # per-frame RDF of the generated samples: reproduces nti's g and gives its standard error
        rc, gf = rdf_frames(x, box, len(r_gen))
        st = rdf_compare(r, g_ref, g_ref_se, gf, n, box)
        g_gen_se = st["g_gen_se"]
        self_check = float(np.max(np.abs(st["g_gen"] - g_gen)))
        u_gen, rmin = lj_min_image(x, box)
        ok_finite &= bool(np.all(np.isfinite(g_gen)) and np.all(np.isfinite(x)))
        assert np.allclose(r, r_gen), "reference and generated RDF bins differ"
        dg = g_gen - g_ref
        m = r >= R_LO
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
        f"{box / 2 / p['rdf_bins']:.3f}); z = dg / sqrt(se_ref^2 + se_gen^2) with se_gen from the spread over "
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
            ax[0, j].set_title(f"N = {n}, rho = {n / box**3:.3f}, T = {temperature}")
            ax[0, j].set_xlim(0.6, box / 2)
            ax[0, j].set_ylabel("g(r)")
            ax[0, j].legend(fontsize=8, loc="lower right")
            ax[1, j].axhline(0, color="k", lw=0.5)
            ax[1, j].errorbar(rr, gg - gr, yerr=np.sqrt(np.nan_to_num(np.array(d["g_ref_se"])) ** 2
                                                          + np.nan_to_num(np.array(d["g_gen_se"])) ** 2),
                              fmt=".", color="C3", lw=0.8)
            ax[1, j].set_xlim(0.6, box / 2)
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
