#!/usr/bin/env python3
"""Is a window's drift z large because its error is underestimated, or because the chains relax?

Reads the corrected windows of an `nti ti` (or `nti run` stage `ti.h5`) results file, with many
chains per window (e.g. `--set ti.window_chains=16`), and for every window (or those with
|drift z| above --min-z) compares, over the chains c:

  d_c  = m2_c - m1_c, the change of chain c's mean du/dt from the first to the second half of
         its (first --samples recorded samples of) production, as in src/diffusion/windows.rs;
  se_c = sqrt(se1_c^2 + se2_c^2), its block-averaged error as nti computes it (Flyvbjerg-Petersen,
         at least 32 blocks, so no blocking at all for halves under 64 samples);

  ratio   = sd_c(d_c) / rms_c(se_c): the true spread of the statistic over independent chains
            against its claimed error (1 when the error is right; > 1 = underestimated);
  relax z = mean_c(d_c) / (sd_c(d_c) / sqrt(C)): a systematic change common to the chains
            (genuine relaxation from the warm start), with an error from the chains' spread;
  tau     = integrated autocorrelation time (recorded samples) of du/dt over the whole production,
            pooled over chains (Sokal's automatic window, c = 5);
  s_block = statistical inefficiency nti's block average reports for a half (1 = no blocking);
  g       = statistical inefficiency of the chains pooled (Geyer's initial positive sequence over the
            autocovariance of each chain about its mean, as src/estimators/autocorr.rs);
  between = sd_c(m_c) / se(g): spread of the chain means against the error of one chain's mean
            with that g (1 when the chains sample one distribution and the error is right; > 1 =
            chains that do not mix within their length).

Usage: validation/window_drift.py FILE.h5 [--n 50] [--samples 100] [--min-z 0]
Needs numpy and h5py (the system python3; see the Makefile's PYNUM).
"""
import argparse

import h5py
import numpy as np

MIN_BLOCKS = 32


def block_average(x):
    """nti's block average (src/estimators/block.rs): (mean, stderr, statistical inefficiency)."""
    x = np.asarray(x, float)
    n = len(x)
    level = lambda b: (np.sqrt(b.var() / (len(b) - 1)), np.sqrt(b.var() / (len(b) - 1)) / np.sqrt(2 * (len(b) - 1)))
    b = x.copy()
    se, err = level(b)
    while len(b) // 2 >= MIN_BLOCKS:
        nb = 0.5 * (b[0 : 2 * (len(b) // 2) : 2] + b[1 : 2 * (len(b) // 2) : 2])
        se2, err2 = level(nb)
        if se2 <= se + err:
            se = max(se, se2)
            break
        b, se, err = nb, se2, err2
    s = n * se * se / x.var() if x.var() > 0 else 1.0
    return x.mean(), se, s


def tau_int(chains, c=5.0):
    """Integrated autocorrelation time of equal-length chains (pooled autocovariance), Sokal's window."""
    x = np.asarray(chains, float)
    x = x - x.mean(axis=1, keepdims=True)
    n = x.shape[1]
    acf = np.zeros(n)
    for row in x:
        f = np.fft.rfft(row, 2 * n)
        acf += np.fft.irfft(f * np.conj(f))[:n]
    acf /= acf[0]
    tau = 1.0
    for m in range(1, n):
        tau = 1.0 + 2.0 * acf[1 : m + 1].sum()
        if m >= c * tau:
            break
    return max(tau, 1.0)


def geyer(chains):
    """(variance corrected by 1/(1 - g/n), g) pooled over chains about their own means."""
    cen = [np.asarray(c, float) - np.mean(c) for c in chains]
    tot = sum(len(c) for c in cen)
    ac = lambda k: sum((c[: len(c) - k] * c[k:]).sum() for c in cen if k < len(c)) / tot
    g0, s, k = ac(0), 0.0, 0
    while k + 1 < max(len(c) for c in cen):
        p = ac(k) + ac(k + 1)
        if p <= 0:
            break
        s, k = s + p, k + 2
    g = max(2 * s / g0 - 1, 1.0)
    n = tot / len(cen)
    return g0 * (1 / (1 - g / n) if g < 0.5 * n else 2.0), g


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--n", type=int, default=50, help="particle number (group /ti/N<n>)")
    ap.add_argument("--samples", type=int, default=0, help="recorded samples per chain used for d_c (0 = all)")
    ap.add_argument("--min-z", type=float, default=0.0, help="only windows whose stored |drift z| exceeds this")
    a = ap.parse_args()
    with h5py.File(a.file, "r") as f:
        g = f[f"ti/N{a.n}/windows"]
        t, series, drift = g["t"][:], g["series"][:], g["drift_z"][:]
        acc = g["acceptance"][:]
    k = a.samples or series.shape[2]
    print(f"{a.file}: {series.shape[1]} chains x {series.shape[2]} recorded samples; d_c over the first {k}")
    print(f"{'t':>7} {'acc':>5} {'drift z':>8} {'sd(d)':>9} {'rms(se)':>9} {'ratio':>6} {'relax z':>8} "
          f"{'tau':>6} {'s_block':>7} {'chain z rms':>11} {'g':>6} {'between':>7}")
    for j in range(len(t)):
        if abs(drift[j]) < a.min_z:
            continue
        # Windows of a pilot-allocated run ([ti] window_pilot) have fewer samples, NaN-padded.
        kj = min(k, int(np.isfinite(series[j, 0]).sum()))
        d, se, sb = [], [], []
        for x in series[j, :, :kj]:
            h = len(x) // 2
            m1, s1, i1 = block_average(x[:h])
            m2, s2, i2 = block_average(x[h:])
            d.append(m2 - m1)
            se.append(np.hypot(s1, s2))
            sb.append(0.5 * (i1 + i2))
        d, se = np.array(d), np.array(se)
        sd = d.std(ddof=1)
        rms = np.sqrt((se**2).mean())
        relax = d.mean() / (sd / np.sqrt(len(d)))
        zc = np.sqrt(((d / se) ** 2).mean())
        tau = tau_int(series[j, :, :kj])
        var, g = geyer(series[j, :, :kj])
        between = series[j, :, :kj].mean(axis=1).std(ddof=1) / np.sqrt(var * g / kj)
        print(f"{t[j]:7.4f} {acc[j]:5.2f} {drift[j]:8.1f} {sd:9.3f} {rms:9.3f} {sd / rms:6.2f} {relax:8.1f} "
              f"{tau:6.1f} {np.mean(sb):7.2f} {zc:11.2f} {g:6.1f} {between:7.2f}")


if __name__ == "__main__":
    main()
