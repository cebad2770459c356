//! The conventional baseline (`nti baseline`: TI along the soft-core lambda path with Metropolis MC
//! at K windows, and MBAR over the same windows) on an exact-answer system: two Lennard-Jones
//! particles in a periodic cube of side L with a spherical cutoff r_c <= L/2 (truncated, no tail).
//!
//! With the minimum image the pair distance vector is uniform on the cube, so
//!   beta A_ex(2) = -ln[ 1 - (4 pi / V) int_0^rc (1 - exp(-beta u_LJ(r))) r^2 dr ],
//! and at each window lambda (pair energy U_lambda(r), zero beyond r_c)
//!   <beta dU/dlambda>_lambda = 4 pi int_0^rc beta U'_lambda e^{-beta U_lambda} r^2 dr
//!                              / [ V - 4 pi int_0^rc (1 - e^{-beta U_lambda}) r^2 dr ].
//! Both are 1D integrals done here to ~1e-12 by composite Gauss-Legendre. The free energy is
//! independent of the soft-core path; the window integrand uses nti's `LambdaScaled` (its lambda
//! derivative is checked by central differences in `potential::softcore`).
//! Error bars are checked as in `exact_estimators.rs`: z-scores over seeds with mean near 0 and
//! spread near 1.

mod common;

use common::{run_in, scratch};
use nti::estimators::quadrature::gauss_legendre;
use nti::potential::{Alchemical, LambdaScaled, PairPotential};
use std::path::Path;

/// State: T = 0.7, L = 3 (rho = 2/27), r_c = 1.45 < L/2.
const TEMPERATURE: f64 = 0.7;
const DENSITY: f64 = 2.0 / 27.0;
const RC: f64 = 1.45;
const SEEDS: u64 = 120;

fn volume() -> f64 {
    2.0 / DENSITY
}

/// int_0^rc f(r) dr by 600 panels of `order`-point Gauss-Legendre (f smooth on [0, rc]).
fn integrate_order(order: usize, f: impl Fn(f64) -> f64) -> f64 {
    let panels = 600;
    let h = RC / panels as f64;
    let q = gauss_legendre(order, 0.0, h).unwrap();
    (0..panels).map(|p| q.nodes.iter().zip(&q.weights).map(|(x, w)| w * f(p as f64 * h + x)).sum::<f64>()).sum()
}

fn integrate(f: impl Fn(f64) -> f64) -> f64 {
    integrate_order(8, f)
}

/// Exact beta A_ex(2) at temperature `t` (plain truncated LJ), with `order`-point panels.
fn exact_a_order(t: f64, order: usize) -> f64 {
    let b = 1.0 / t;
    let lj = |r: f64| 4.0 * (r.powi(-12) - r.powi(-6));
    let x = integrate_order(order, |r| (1.0 - (-b * lj(r)).exp()) * r * r);
    -(1.0 - 4.0 * std::f64::consts::PI * x / volume()).ln()
}

fn exact_a(t: f64) -> f64 {
    exact_a_order(t, 8)
}

/// Exact <beta dU/dlambda> at window `lambda` and temperature `t`.
fn exact_integrand(lambda: f64, t: f64) -> f64 {
    let b = 1.0 / t;
    let p = LambdaScaled { lambda };
    let four_pi = 4.0 * std::f64::consts::PI;
    let num = integrate(|r| {
        let boltz = (-b * p.energy(r * r)).exp();
        // exp underflows to 0 inside the core at small lambda, where dU/dlambda is huge but finite.
        if boltz == 0.0 {
            0.0
        } else {
            b * p.denergy_dlambda(r * r) * boltz * r * r
        }
    });
    let den = volume() - four_pi * integrate(|r| (1.0 - (-b * p.energy(r * r)).exp()) * r * r);
    four_pi * num / den
}

fn input(seed: u64, windows: usize, spacing: &str, mbar: bool) -> String {
    format!(
        "version = 1\n[system]\nn_particles = 2\ndensity = {DENSITY:.17}\ntemperature = {TEMPERATURE}\ncutoff = {RC}\n\
         tail_correction = false\n[baseline]\nwindows = {windows}\nspacing = \"{spacing}\"\nmbar = {mbar}\n\
         equilibration = 1000\nproduction = 20000\nstride = 10\n[run]\nseed = {seed}\n[output]\nfile = \"b.h5\"\n"
    )
}

fn read(path: &Path, ds: &str) -> Vec<f64> {
    let f = hdf5::File::open(path).unwrap();
    f.dataset(ds).unwrap_or_else(|e| panic!("{ds}: {e}")).read_raw::<f64>().unwrap()
}

/// (value, stderr) of the result whose method starts with `method`, from `nti summary --json`.
fn result(dir: &Path, method: &str) -> (f64, f64) {
    let o = run_in(dir, &["summary", "--json", "b.h5"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "beta_a_ex" && r["method"].as_str().unwrap().starts_with(method))
        .unwrap_or_else(|| panic!("no beta_a_ex by {method}: {v}"));
    (r["value"].as_f64().unwrap(), r["stderr"].as_f64().unwrap())
}

/// Runs `nti baseline` on the two-particle system; returns the run directory.
fn run(seed: u64, windows: usize, spacing: &str, mbar: bool) -> tempfile::TempDir {
    let d = scratch();
    std::fs::write(d.path().join("b.toml"), input(seed, windows, spacing, mbar)).unwrap();
    let o = run_in(d.path(), &["baseline", "b.toml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    d
}

/// (mean, sd) of z-scores, checked as in `exact_estimators.rs`: with n independent standard
/// normals the mean has sd 1/sqrt(n) and the sample sd has sd ~ 1/sqrt(2(n-1)); accept
/// |mean| < 3/sqrt(n) and |sd - 1| < 3.5/sqrt(2(n-1)).
fn z_ok(z: &[f64]) -> (f64, f64, bool) {
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let sd = (z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let ok = mean.abs() < 3.0 / n.sqrt() && (sd - 1.0).abs() < 3.5 / (2.0 * (n - 1.0)).sqrt();
    (mean, sd, ok)
}

fn check_z(name: &str, z: &[f64]) {
    let (mean, sd, ok) = z_ok(z);
    eprintln!("{name}: z mean {mean:.3}, sd {sd:.3} over {}", z.len());
    assert!(ok, "{name}: z mean {mean}, sd {sd} over {} values", z.len());
}

/// Window means against the exact integrand over seeds: (pooled bias t, reported/observed error).
/// The bias of window k is judged by the spread of its means over seeds, t_k = mean(d) / (sd(d) /
/// sqrt(S)) with d = mean - exact, pooled as sum_k t_k / sqrt(K). Per-run z = d / se would not do:
/// the integrand is skewed (a point mass at 0 for pairs beyond r_c), so a run's mean and its
/// estimated error are correlated (-0.5 to -0.85 here) and z is biased by ~0.08 although the means
/// are not. The error bars: r = sqrt(sum_k <se_k^2> / sum_k var_k), the reported over the observed
/// error, pooled; returned with its own sd, (1/2) sqrt(sum_k 2 var_k^2 / (S - 1)) / sum_k var_k
/// (Gaussian sample variances; the windows' variances differ, so fewer than K effectively count).
fn window_checks(means: &[Vec<f64>], ses: &[Vec<f64>], exact: &[f64]) -> (f64, f64, f64) {
    let k = means.len() as f64;
    let (mut t_sum, mut se2, mut var, mut var2) = (0.0, 0.0, 0.0, 0.0);
    for ((m, e), x) in means.iter().zip(ses).zip(exact) {
        let s = m.len() as f64;
        let d: Vec<f64> = m.iter().map(|v| v - x).collect();
        let mean = d.iter().sum::<f64>() / s;
        let v = d.iter().map(|di| (di - mean).powi(2)).sum::<f64>() / (s - 1.0);
        t_sum += mean / (v / s).sqrt();
        var += v;
        var2 += 2.0 * v * v / (s - 1.0);
        se2 += e.iter().map(|x| x * x).sum::<f64>() / s;
    }
    (t_sum / k.sqrt(), (se2 / var).sqrt(), 0.5 * var2.sqrt() / var)
}

#[test]
fn exact_integrals_are_converged() {
    // The 8-point panel rule against the 16-point one: the "exact" values are exact to round-off.
    let (a, a16) = (exact_a(TEMPERATURE), exact_a_order(TEMPERATURE, 16));
    assert!((a - a16).abs() < 1e-12, "{a} vs {a16}");
    // Independent value: scipy.integrate.quad (adaptive, breakpoints 0.9, 1.0, 1.12) of the same
    // formula gives -0.351400964772 for T = 0.7, L = 3, r_c = 1.45.
    assert!((a + 0.351400964772).abs() < 1e-9, "beta A_ex(2) = {a}");
}

#[test]
fn baseline_ti_and_mbar_recover_the_two_particle_free_energy_with_calibrated_errors() {
    let exact = exact_a(TEMPERATURE);
    // Uniform K = 16 (trapezoid TI + MBAR) and Gauss-Legendre K = 12 (TI). Their quadrature errors on
    // the exact integrand must be far below the statistical errors for the z-test to be about the
    // sampling and the error bars (checked below against the first run's standard errors).
    let (k_u, k_gl) = (16, 12);
    let nodes_u: Vec<f64> = (0..k_u).map(|i| i as f64 / (k_u - 1) as f64).collect();
    let exact_u: Vec<f64> = nodes_u.iter().map(|&l| exact_integrand(l, TEMPERATURE)).collect();
    let trap: f64 = -(0..k_u - 1).map(|i| 0.5 * (exact_u[i] + exact_u[i + 1]) / (k_u - 1) as f64).sum::<f64>();
    let gl = gauss_legendre(k_gl, 0.0, 1.0).unwrap();
    let gl_exact: f64 =
        -gl.nodes.iter().zip(&gl.weights).map(|(&l, w)| w * exact_integrand(l, TEMPERATURE)).sum::<f64>();
    eprintln!("exact beta A_ex(2) = {exact:.6}; quadrature of the exact integrand: trapezoid K{k_u} {trap:.6}, GL{k_gl} {gl_exact:.6}");

    let (mut z_ti_u, mut z_mbar, mut z_ti_gl) = (vec![], vec![], vec![]);
    // Per window k: the run means and their reported standard errors, over seeds.
    let (mut win_mean, mut win_se) = (vec![vec![]; k_u], vec![vec![]; k_u]);
    // Negative control: the same windows judged against the integrand at T = 0.75 (what a sampler
    // at the wrong temperature would produce) must fail the per-window check.
    let exact_wrong_t: Vec<f64> = nodes_u.iter().map(|&l| exact_integrand(l, 0.75)).collect();
    for seed in 0..SEEDS {
        let d = run(100 + seed, k_u, "uniform", true);
        let f = d.path().join("b.h5");
        let lam = read(&f, "baseline/lambda");
        assert_eq!(lam.len(), k_u);
        let mean = read(&f, "baseline/du_dlambda_mean");
        let se = read(&f, "baseline/du_dlambda_stderr");
        for k in 0..k_u {
            assert!((lam[k] - nodes_u[k]).abs() < 1e-12);
            win_mean[k].push(mean[k]);
            win_se[k].push(se[k]);
        }
        let (v, e) = result(d.path(), "ti-lambda-trapezoid");
        if seed == 0 {
            assert!((trap - exact).abs() < 0.1 * e, "trapezoid K{k_u} quadrature error {} vs stderr {e}", trap - exact);
        }
        z_ti_u.push((v - exact) / e);
        let (v, e) = result(d.path(), "mbar");
        z_mbar.push((v - exact) / e);
        let d = run(500 + seed, k_gl, "gauss-legendre", false);
        let (v, e) = result(d.path(), "ti-lambda-gauss-legendre");
        if seed == 0 {
            assert!((gl_exact - exact).abs() < 0.1 * e, "GL{k_gl} quadrature error {} vs stderr {e}", gl_exact - exact);
        }
        z_ti_gl.push((v - exact) / e);
    }
    let (t_bias, ratio, ratio_sd) = window_checks(&win_mean, &win_se, &exact_u);
    eprintln!("window means: pooled bias t {t_bias:.2}, reported/observed error {ratio:.3} +- {ratio_sd:.3}");
    // The pooled t of K windows is N(0, 1).
    assert!(t_bias.abs() < 3.0, "window means are biased: pooled t = {t_bias}");
    assert!((ratio - 1.0).abs() < 3.5 * ratio_sd, "window error bars off: reported/observed = {ratio} +- {ratio_sd}");
    let (t_wrong, _, _) = window_checks(&win_mean, &win_se, &exact_wrong_t);
    eprintln!("negative control (integrand at T = 0.75): pooled bias t {t_wrong:.2}");
    assert!(t_wrong.abs() > 3.0, "the window check cannot tell T = 0.7 from T = 0.75");
    check_z("TI trapezoid K16", &z_ti_u);
    check_z("MBAR K16", &z_mbar);
    check_z("TI Gauss-Legendre K12", &z_ti_gl);
}
