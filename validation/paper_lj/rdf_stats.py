#!/usr/bin/env python3
"""Comparison of a generated g(r) with a reference g(r): z-scores where the Gaussian approximation
holds, and a Poisson count test where it does not.

The generated sample is F independent frames of N particles in a periodic cube of side L. With
nti's normalisation, a frame's g in bin i is h_i / (c_i), c_i = N (N - 1) / (2 L^3) * V_i, where h_i
is the number of pairs in the bin and V_i the shell volume. The standard error of g_gen is the
spread over frames, se_gen = std_f(g) / sqrt(F); z = (g_gen - g_ref) / sqrt(se_ref^2 + se_gen^2).

That z is meaningless where the generated sample expects only a few pairs: in a bin that no frame
reaches, se_gen = 0 and any g_ref > 0 gives |z| -> infinity, although zero pairs is the likely
outcome when lambda_i = F c_i g_ref(r_i) (the expected count under the reference) is below 1. Bins
with lambda_i < LAMBDA_MIN (= 10) therefore leave the Gaussian statistics and are tested together:
K = sum_i F c_i g_gen(r_i) observed pairs against a Poisson law of mean Lambda = sum_i lambda_i,
converted to a z-equivalent with the mid-p value (Lancaster 1961):
    z = Phi^{-1}( P(X < K) + P(X = K) / 2 ),  X ~ Poisson(Lambda),
negative for too few pairs, positive for too many (the overlapping pairs of an under-structured
core), +inf when Lambda = 0 < K. The reference's own error on Lambda is neglected (its sample is
several hundred times larger).

    python3 validation/paper_lj/rdf_stats.py --self-test
"""
from __future__ import annotations

import math
import sys
from statistics import NormalDist

LAMBDA_MIN = 10.0
# Smallest r (sigma) of the comparison: the reference has no pairs below (its core ends near 0.9).
R_LO = 0.8


def rdf_frames(x, side, bins):
    """Per-frame g(r) on [0, side/2] with nti's normalisation (rho = (N-1)/V).

    x: positions (F, N, 3) in sigma; returns (bin centres (bins,), g per frame (F, bins)).
    """
    import numpy as np

    f, n, _ = x.shape
    d = x[:, :, None, :] - x[:, None, :, :]
    d -= side * np.round(d / side)
    iu = np.triu_indices(n, 1)
    r = np.sqrt((d**2).sum(-1))[:, iu[0], iu[1]]
    edges = np.linspace(0.0, side / 2, bins + 1)
    h = np.stack([np.histogram(ri, edges)[0] for ri in r]).astype(float)
    return 0.5 * (edges[1:] + edges[:-1]), h / pair_norm(n, side, edges)


def pair_norm(n, side, edges):
    """c_i = N (N - 1) / (2 L^3) * V_i: pairs per unit g in bin i of one frame."""
    import numpy as np

    edges = np.asarray(edges, dtype=float)
    shell = 4.0 / 3.0 * math.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    return 0.5 * n * (n - 1) / side**3 * shell


def poisson_mid_z(k, lam):
    """z-equivalent of observing k counts from Poisson(lam), by the mid-p value."""
    if lam <= 0.0:
        return 0.0 if k == 0 else math.inf
    k = int(round(k))
    # P(X = j) in log space: exp(-lam) alone underflows for lam > 745.
    pmf = [math.exp(j * math.log(lam) - lam - math.lgamma(j + 1)) for j in range(k + 1)]
    p = sum(pmf[:k]) + 0.5 * pmf[k]
    # Beyond double precision (p within round-off of 0 or 1) the tail is reported as infinite.
    if p <= 1e-300:
        return -math.inf
    if p >= 1.0 - 1e-15:
        return math.inf
    return NormalDist().inv_cdf(p)


def compare(r, g_ref, g_ref_se, g_frames, n, side, r_lo=R_LO):
    """Statistics of g_gen (mean of g_frames (F, bins)) against g_ref over bins with r >= r_lo.

    Returns a dict: dg (bins,), se (bins,), z (bins, 0 outside the Gaussian bins), gaussian (mask),
    chi2 per Gaussian bin, max |z| over Gaussian bins, and the sparse-bin Poisson test
    (sparse_bins, sparse_k, sparse_lambda, sparse_z).
    """
    import numpy as np

    r = np.asarray(r, dtype=float)
    g_ref = np.asarray(g_ref, dtype=float)
    gf = np.asarray(g_frames, dtype=float)
    f = len(gf)
    g_gen = gf.mean(0)
    g_gen_se = gf.std(0, ddof=1) / math.sqrt(f) if f > 1 else np.full_like(g_gen, np.nan)
    dr = r[1] - r[0]
    c = pair_norm(n, side, np.append(r - 0.5 * dr, r[-1] + 0.5 * dr))
    lam = f * c * g_ref
    m = r >= r_lo
    se = np.sqrt(np.nan_to_num(np.asarray(g_ref_se, dtype=float)) ** 2 + np.nan_to_num(g_gen_se) ** 2)
    gauss = m & (lam >= LAMBDA_MIN) & (se > 0)
    dg = g_gen - g_ref
    z = np.where(gauss, dg / np.where(se > 0, se, 1.0), 0.0)
    sparse = m & ~gauss
    k = float(np.sum(f * c[sparse] * g_gen[sparse]))
    lam_s = float(np.sum(lam[sparse]))
    nb = int(gauss.sum())
    chi2 = float(np.sum(z[gauss] ** 2) / max(nb, 1))
    # chi2 per bin of nb independent unit normals: mean 1, standard deviation sqrt(2 / nb)
    chi2_limit = 1.0 + 3.0 * math.sqrt(2.0 / max(nb, 1))
    sz = poisson_mid_z(k, lam_s)
    return dict(
        g_gen=g_gen, g_gen_se=g_gen_se, dg=dg, se=se, z=z, gaussian=gauss, bins=nb, chi2=chi2,
        chi2_limit=chi2_limit, max_abs_z=float(np.max(np.abs(z[gauss]))) if gauss.any() else math.nan,
        sparse_bins=int(sparse.sum()), sparse_k=k, sparse_lambda=lam_s, sparse_z=sz,
        consistent=bool(nb > 0 and chi2 < chi2_limit and abs(sz) < 3.0),
    )


def self_test():
    """Checks on synthetic data with known answers; exits 1 on failure."""
    import numpy as np

    fails = []

    def check(name, ok):
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        if not ok:
            fails.append(name)

    # Mid-p z of Poisson: symmetric about the median for large lambda, exact small cases.
    check("k = 0, lambda = 0.6: z = Phi^-1(exp(-0.6)/2) = -0.600",
          abs(poisson_mid_z(0, 0.6) - NormalDist().inv_cdf(math.exp(-0.6) / 2)) < 1e-12)
    check("k = 0, lambda = 0: z = 0", poisson_mid_z(0, 0.0) == 0.0)
    check("k = 3, lambda = 0: z = +inf", poisson_mid_z(3, 0.0) == math.inf)
    check("k = 40, lambda = 10: z > 6", poisson_mid_z(40, 10.0) > 6.0)
    check("k = lambda + 2 sqrt(lambda), lambda = 400: z within 0.1 of 2",
          abs(poisson_mid_z(440, 400.0) - 2.0) < 0.1)
    check("k = 800, lambda = 760 (exp(-lambda) underflows): z within 0.1 of 40 / sqrt(760)",
          abs(poisson_mid_z(800, 760.0) - 40.0 / math.sqrt(760.0)) < 0.1)
    # Calibration: counts drawn from the null reproduce the exact mean and variance of z under
    # Poisson(3) (sums over k; the mid-p z of a discrete law has variance a little below 1), within
    # 4 standard errors of the sample mean and sample variance.
    rng = np.random.default_rng(7)
    zs = np.array([poisson_mid_z(k, 3.0) for k in rng.poisson(3.0, 4000)])
    ks = np.arange(21)  # P(X > 20) ~ 1e-11 is negligible; beyond, z is +inf in double precision
    pk = np.exp(ks * math.log(3.0) - 3.0 - np.array([math.lgamma(k + 1) for k in ks]))
    zk = np.array([poisson_mid_z(k, 3.0) for k in ks])
    m_ex = float(np.sum(pk * zk))
    v_ex = float(np.sum(pk * zk**2)) - m_ex**2
    z_mean = (zs.mean() - m_ex) / (zs.std() / math.sqrt(len(zs)))
    d2 = (zs - zs.mean()) ** 2
    z_var = (zs.var() - v_ex) / (d2.std() / math.sqrt(len(zs)))
    check(f"null Poisson(3): mean z {zs.mean():+.3f} vs exact {m_ex:+.3f} (z {z_mean:+.1f}), var z {zs.var():.3f} "
          f"vs exact {v_ex:.3f} (z {z_var:+.1f}); |z| < 4", abs(z_mean) < 4 and abs(z_var) < 4)

    # compare(): an ideal gas of F frames against g_ref = 1 is consistent; the bins near r = 0 are
    # sparse and go to the Poisson test; a copy with extra close pairs is flagged there.
    side, n, f, bins = 6.0, 60, 64, 60
    x = rng.uniform(0.0, side, (f, n, 3))
    r, gf = rdf_frames(x, side, bins)
    ref = np.ones(bins)
    s = compare(r, ref, np.full(bins, 1e-3), gf, n, side, r_lo=0.0)
    check(f"ideal gas vs g = 1: chi2/bin {s['chi2']:.2f} (< 1 + 3 sqrt(2/bins) = {s['chi2_limit']:.2f}), "
          f"sparse z {s['sparse_z']:+.2f} (|.| < 3), {s['sparse_bins']} sparse bins: verdict consistent",
          s["sparse_bins"] >= 1 and s["consistent"])
    y = x.copy()
    y[:, 1] = y[:, 0] + np.array([0.075, 0.0, 0.0])  # one pair at r = 0.075 (a sparse bin) per frame
    _, gf2 = rdf_frames(y, side, bins)
    s2 = compare(r, ref, np.full(bins, 1e-3), gf2, n, side, r_lo=0.0)
    check(f"one extra pair at r = 0.075 per frame: sparse z {s2['sparse_z']:+.1f} (> 5), verdict not consistent",
          s2["sparse_z"] > 5 and not s2["consistent"])
    # A 10 % too high g everywhere beyond r = 1 is caught by chi2 (se per bin ~ 0.03 here).
    s4 = compare(r, ref, np.full(bins, 1e-3), gf * np.where(r > 1.0, 1.1, 1.0), n, side, r_lo=0.0)
    check(f"g x 1.1 beyond r = 1: chi2/bin {s4['chi2']:.1f} > limit {s4['chi2_limit']:.2f}", not s4["consistent"])
    # The defect this module fixes: an empty bin with g_ref > 0 but lambda < 1 is not an outlier.
    r1 = np.array([0.875, 0.925])
    g1 = np.zeros((32, 2))
    g1[:, 1] = 1.0
    s3 = compare(r1, [0.0012, 1.0], [4e-5, 1e-3], g1, 120, side, r_lo=0.8)
    exact = NormalDist().inv_cdf(0.5 * math.exp(-s3["sparse_lambda"]))
    check(f"empty bin, lambda {s3['sparse_lambda']:.2f}: sparse z {s3['sparse_z']:+.2f} = Phi^-1(exp(-lambda)/2) "
          f"{exact:+.2f}, not an outlier", abs(s3["sparse_z"] - exact) < 1e-12 and s3["sparse_bins"] == 1)
    print("PASS" if not fails else f"FAIL: {', '.join(fails)}")
    return 0 if not fails else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(__doc__)
