"""The plot of validation/paper_lj/free_energy.py (matplotlib; imported only when it is installed).

Three panels: beta*A_ex(N)/N against rho with the min-image-corrected equations of state (lines);
every method's difference to the EOS (mean of KN and JZG) in kT; beta*mu_ex(rho) from the EOS, the
Neural TI reverse-SDE fits, the grand-canonical curve and the finite differences between subset N.
The axes are scaled to the EOS, the corrected Neural TI and the MBAR values with the most windows:
conventional estimates with few windows are hundreds of kT off on the dense states (and their
error bars larger still), so points off the axes are listed in a note on the panel instead of
flattening everything else.
"""

from __future__ import annotations

import math

import eos_minimage


def _finite(*xs: float) -> bool:
    return all(isinstance(x, (int, float)) and math.isfinite(x) for x in xs)


def _limits(vals: list[float], pad_frac: float = 0.25, pad_min: float = 0.5) -> tuple[float, float]:
    lo, hi = min(vals), max(vals)
    pad = pad_frac * (hi - lo) + pad_min
    return lo - pad, hi + pad


def plot(png, *, volume, temperature, box, ns, subset, a_rev, cols, table2, chords, gc, half_width,
         trajectories, key_methods, every_n=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eos = {n: 0.5 * (eos_minimage.beta_a_ex(n, "KN") + eos_minimage.beta_a_ex(n, "JZG")) for n in subset}
    fig, ax = plt.subplots(1, 3, figsize=(17, 5.4))
    marks = "osD^v<>ph*"
    grid = [ns[0] + (ns[-1] - ns[0]) * i / 200 for i in range(201)]
    for which, style in (("KN", "-"), ("JZG", "--")):
        ax[0].plot([n / volume for n in grid], [eos_minimage.beta_a_ex(n, which) / n for n in grid], style, color="k",
                   lw=1, label=f"EOS {which}, min-image corrected")
    xs = [n for n in ns if _finite(*a_rev[n])]
    ax[0].plot([n / volume for n in xs], [a_rev[n][0] / n for n in xs], "-", color="C0", lw=0.7,
               label=f"Neural TI, reverse SDE (every N; {trajectories} traj.)")
    if every_n:  # the degree-m fit through the corrected values (a_of_n.py), with its 1-sigma band
        rows = every_n["every_n"]
        r = [x["rho"] for x in rows]
        a = [x["beta_a_ex"][0] / x["n"] for x in rows]
        e = [x["beta_a_ex"][1] / x["n"] for x in rows]
        ax[0].plot(r, a, "-", color="C1", lw=1, label=f"fit through the corrected values (degree {every_n['degree']})")
        ax[0].fill_between(r, [u - v for u, v in zip(a, e)], [u + v for u, v in zip(a, e)], color="C1", alpha=0.3)
        d = [x["beta_a_ex"][0] - 0.5 * sum(x["eos"]) for x in rows]
        ax[1].plot(r, d, "-", color="C1", lw=1)
        ax[1].fill_between(r, [u - x["beta_a_ex"][1] for u, x in zip(d, rows)],
                           [u + x["beta_a_ex"][1] for u, x in zip(d, rows)], color="C1", alpha=0.3)
        rm = [x["rho_mu"] for x in rows[:-1]]
        m = [x["beta_mu_ex"][0] for x in rows[:-1]]
        em = [x["beta_mu_ex"][1] for x in rows[:-1]]
        ax[2].plot(rm, m, "-", color="C1", lw=1.2, label="A(N+1) - A(N) of the fit through the corrected values")
        ax[2].fill_between(rm, [u - v for u, v in zip(m, em)], [u + v for u, v in zip(m, em)], color="C1", alpha=0.3)
    key_y0 = [eos_minimage.beta_a_ex(n, w) / n for n in grid for w in ("KN", "JZG")]
    key_y1 = [0.0]
    off: list[str] = []
    for i, (label, method, d) in enumerate(cols[1:]):
        pts = [(n, d[n][0], d[n][1]) for n in subset if _finite(d[n][0])]
        if not pts:
            continue
        kw = dict(fmt=marks[i % len(marks)], ms=5, mfc="none" if label.startswith("TI") else None, color=f"C{i + 1}",
                  label=label, lw=0.8)
        dx = (i - len(cols) / 2) * 0.002
        ax[0].errorbar([n / volume + dx for n, _, _ in pts], [v / n for n, v, _ in pts],
                       yerr=[e / n if _finite(e) else 0 for n, _, e in pts], **kw)
        ax[1].errorbar([n / volume + dx for n, _, _ in pts], [v - eos[n] for n, v, _ in pts],
                       yerr=[e if _finite(e) else 0 for _, _, e in pts], **kw)
        if method in key_methods:
            key_y0 += [v / n for n, v, _ in pts]
            key_y1 += [v - eos[n] for n, v, _ in pts]
    lim0, lim1 = _limits(key_y0, 0.15, 0.1), _limits(key_y1, 0.25, 2.0)
    for label, method, d in cols[1:]:
        for n in subset:
            v = d[n][0]
            if _finite(v) and not (lim1[0] <= v - eos[n] <= lim1[1]):
                off.append(f"{label} N={n}: {v - eos[n]:+.0f}")
    ax[0].set_ylim(*lim0)
    ax[1].set_ylim(*lim1)
    if off:
        ax[1].text(0.01, 0.01, "off scale (kT from EOS):\n" + "\n".join(off[:14]) + ("\n..." if len(off) > 14 else ""),
                   transform=ax[1].transAxes, fontsize=5.5, va="bottom", family="monospace")
    ax[0].set_xlabel("rho = N / V")
    ax[0].set_ylabel("beta A_ex(N) / N")
    ax[0].set_title(f"T = {temperature}, L = {box}, min-image")
    ax[0].legend(fontsize=6)
    ax[1].axhline(0, color="k", lw=0.5)
    ax[1].set_xlabel("rho")
    ax[1].set_ylabel("beta A_ex - EOS (KN + JZG)/2  (kT)")
    ax[1].set_title("difference to the equation of state")
    ax[1].legend(fontsize=6, loc="upper left")

    # beta*mu_ex
    mu_grid = [n + 0.5 for n in grid[:-1]]
    for which, style in (("KN", "-"), ("JZG", "--")):
        ax[2].plot([n / volume for n in mu_grid],
                   [eos_minimage.beta_a_ex(n + 0.5, which) - eos_minimage.beta_a_ex(n - 0.5, which) for n in mu_grid],
                   style, color="k", lw=1, label=f"EOS {which}")
    fits = [(r["rho"], r["fit"]) for r in table2 if _finite(*r["fit"])]
    if fits:
        ax[2].errorbar([x for x, _ in fits], [v[0] for _, v in fits], yerr=[v[1] for _, v in fits], fmt=".",
                       color="C0", ms=4, lw=0.6, label=f"Neural TI reverse SDE, local slope fit ±{half_width} N")
    if gc:
        ok = [(r, m) for r, m, e in zip(gc["mean_density"], gc["beta_mu_ex"], gc["edge_weight"]) if e < 1e-3]
        ax[2].plot([r for r, _ in ok], [m for _, m in ok], "-", color="C0", lw=1,
                   label="grand-canonical reweighting (reverse SDE)")
    key_mu = [eos_minimage.beta_a_ex(n + 0.5, "KN") - eos_minimage.beta_a_ex(n - 0.5, "KN") for n in mu_grid]
    for i, (label, method, d) in enumerate(cols[1:]):
        pts = [(c["rho"], c["values"][method]) for c in chords if _finite(*c["values"][method])]
        if pts:
            ax[2].errorbar([x for x, _ in pts], [v[0] for _, v in pts], yerr=[v[1] for _, v in pts],
                           fmt=marks[i % len(marks)], ms=5, mfc="none" if label.startswith("TI") else None,
                           color=f"C{i + 1}", lw=0.8, label=f"{label} (finite difference)")
            if method in key_methods:
                key_mu += [v[0] for _, v in pts]
    ax[2].set_ylim(*_limits(key_mu, 0.3, 0.5))
    ax[2].set_xlabel("rho")
    ax[2].set_ylabel("beta mu_ex")
    ax[2].set_title("excess chemical potential")
    ax[2].legend(fontsize=5.5)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
