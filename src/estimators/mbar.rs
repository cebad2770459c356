//! Multistate Bennett acceptance ratio (MBAR).
//!
//! References:
//! - M. R. Shirts & J. D. Chodera, J. Chem. Phys. 129, 124105 (2008) ("S&C"): estimator and
//!   asymptotic covariance (appendix D).
//! - Z. Tan, J. Am. Stat. Assoc. 99, 1027 (2004); L. Zhu & E. Gallicchio / Zhu & Hagan (UWHAM);
//!   M. R. Shirts, arXiv:1704.00891 (2017), the convex objective used by pymbar 3/4.
//!
//! # Notation (everything dimensionless, free energies in kT)
//! - K states, N = sum_k N_k samples in total; state k contributed N_k samples, stored as a
//!   contiguous block of columns of `u_kn`, blocks in state order.
//! - `u_kn[[k, n]]` = u_k(x_n) = beta_k U_k(x_n) (+ beta_k p V_n, ...): the reduced potential of sample
//!   x_n evaluated in state k (shape K x N, row-major).
//! - f_k = -ln Z_k = -ln integral exp(-u_k(x)) dx, reported relative to state 0 (f_0 = 0).
//!
//! # Equations
//! The MBAR free energies solve the self-consistent equations (S&C eq. 11)
//!   f_i = -ln sum_n exp(-u_in) / sum_k N_k exp(f_k - u_kn),
//! equivalently they minimise the convex function (Shirts 2017, eq. 7)
//!   F(f) = sum_n ln sum_k N_k exp(f_k - u_kn) - sum_k N_k f_k,
//! with gradient g_i = N_i (sum_n W_ni - 1) and Hessian
//!   H_ij = N_i delta_ij sum_n W_ni - N_i N_j sum_n W_ni W_nj,
//! where W_ni = exp(f_i - u_in) / sum_k N_k exp(f_k - u_kn) are the MBAR weights (N x K, columns
//! normalised, sum_n W_ni = 1, and sum_k N_k W_nk = 1 for every n). F is invariant under a common
//! shift of f, so f_0 = 0 is fixed and Newton steps are taken in f_1..f_{K-1}, where H is positive
//! definite whenever the states are connected by overlap. All sums over states use log-sum-exp.
//!
//! Asymptotic covariance (S&C eq. D.4 with the thin-SVD evaluation of pymbar's "svd-ew"):
//!   Theta = W^T (I_N - W diag(N_k) W^T)^+ W  (K x K).
//! With the thin SVD W = U S V^T, Theta = V S (I_K - S V^T diag(N_k) V S)^+ S V^T, which needs only
//! K x K work after the SVD. The variance of a difference is
//!   var(f_j - f_i) = Theta_ii + Theta_jj - 2 Theta_ij (S&C eq. 12).
//! Overlap matrix (S&C eq. 25 / Klimovich et al., J. Comput.-Aided Mol. Des. 29, 397 (2015)):
//!   O = W^T W diag(N_k) (K x K, rows sum to 1; O_ij = probability that a sample from state i is
//!   reweighted into state j); its second-largest eigenvalue 1 - lambda_2 measures connectivity.

use anyhow::{anyhow, bail, ensure, Context, Result};
use ndarray::{Array1, Array2, Axis};
use ndarray_linalg::{Eigh, JobSvd, Solve, SVDDC, UPLO};

/// Result of an MBAR analysis. All free energies in kT, relative to state 0.
#[derive(Clone, Debug)]
pub struct MbarResult {
    /// Dimensionless free energies f_k = -ln Z_k + ln Z_0 (length K, `f[0] = 0`).
    pub f: Vec<f64>,
    /// Asymptotic standard errors of the differences: `df[[i, j]]` = sd(f_j - f_i) (K x K, symmetric, zero diagonal).
    pub df: Array2<f64>,
    /// Asymptotic covariance matrix Theta of the f_k (K x K); only differences are meaningful.
    pub theta: Array2<f64>,
    /// Overlap matrix O = W^T W diag(N_k) (K x K; each row sums to 1).
    pub overlap: Array2<f64>,
    /// Total number of iterations (self-consistent warm start + Newton).
    pub iterations: usize,
    /// Largest relative gradient max_i |sum_n W_ni - 1| at the solution.
    pub max_rel_gradient: f64,
}

impl MbarResult {
    /// f_j - f_i and its asymptotic standard error (kT).
    pub fn delta(&self, i: usize, j: usize) -> (f64, f64) {
        (self.f[j] - self.f[i], self.df[[i, j]])
    }

    /// 1 - second largest eigenvalue of the overlap matrix (0: disconnected states, 1: identical states).
    pub fn overlap_spectral_gap(&self) -> Result<f64> {
        // O = A D with A = W^T W (symmetric, entries >= 0) and D = diag(N_k), so O is similar to the
        // symmetric S = D^{1/2} A D^{1/2}, S_ij = sqrt(O_ij O_ji); use S for a real spectrum.
        let k = self.overlap.nrows();
        if k < 2 {
            return Ok(1.0);
        }
        let s = Array2::from_shape_fn((k, k), |(i, j)| (self.overlap[[i, j]] * self.overlap[[j, i]]).max(0.0).sqrt());
        let (ev, _) = s.eigh(UPLO::Lower).map_err(|e| anyhow!("overlap eigenvalues: {e}"))?;
        let mut ev = ev.to_vec();
        ev.sort_by(|a, b| b.total_cmp(a));
        Ok(1.0 - ev[1])
    }
}

/// ln sum_i exp(x_i), stable for any finite input; -inf for an empty or all -inf input.
pub fn logsumexp(x: impl IntoIterator<Item = f64> + Clone) -> f64 {
    let m = x.clone().into_iter().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY || !m.is_finite() {
        return m;
    }
    m + x.into_iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Validate shapes and values; returns ln N_k.
fn validate(u_kn: &Array2<f64>, n_k: &[usize]) -> Result<Vec<f64>> {
    let (k, n) = u_kn.dim();
    ensure!(k >= 1, "MBAR needs at least one state (u_kn has 0 rows)");
    ensure!(n_k.len() == k, "MBAR: u_kn has {k} rows (states) but n_k has {} entries", n_k.len());
    let total: usize = n_k.iter().sum();
    ensure!(total == n, "MBAR: sum of n_k = {total} does not equal the number of columns (samples) of u_kn = {n}");
    if let Some(i) = n_k.iter().position(|&c| c == 0) {
        bail!("MBAR: state {i} has no samples (n_k[{i}] = 0); unsampled states need crate::estimators::mbar_unsampled");
    }
    for ((i, j), &v) in u_kn.indexed_iter() {
        if !v.is_finite() {
            bail!("MBAR: non-finite reduced energy u_kn[{i}, {j}] = {v}");
        }
    }
    Ok(n_k.iter().map(|&c| (c as f64).ln()).collect())
}

/// Per-sample log denominators ln sum_k N_k exp(f_k - u_kn) (length N), computed row by row
/// (contiguous in memory) with a per-sample running maximum.
pub(super) fn log_denominators(u_kn: &Array2<f64>, ln_nk: &[f64], f: &[f64]) -> Array1<f64> {
    let n = u_kn.ncols();
    let mut m = Array1::<f64>::from_elem(n, f64::NEG_INFINITY);
    for (s, row) in u_kn.outer_iter().enumerate() {
        let c = ln_nk[s] + f[s];
        m.iter_mut().zip(row.iter()).for_each(|(m, &u)| *m = m.max(c - u));
    }
    let mut acc = Array1::<f64>::zeros(n);
    for (s, row) in u_kn.outer_iter().enumerate() {
        let c = ln_nk[s] + f[s];
        acc.iter_mut().zip(row.iter()).zip(m.iter()).for_each(|((a, &u), &m)| *a += (c - u - m).exp());
    }
    acc.iter_mut().zip(m.iter()).for_each(|(a, &m)| *a = m + a.ln());
    acc
}

/// MBAR weights W (N x K), W_ni = exp(f_i - u_in - ln denom_n).
pub(super) fn weights(u_kn: &Array2<f64>, f: &[f64], log_denom: &Array1<f64>) -> Array2<f64> {
    let (k, n) = u_kn.dim();
    let mut w = Array2::<f64>::zeros((n, k));
    for s in 0..k {
        for col in 0..n {
            w[[col, s]] = (f[s] - u_kn[[s, col]] - log_denom[col]).exp();
        }
    }
    w
}

/// The objective F(f) = sum_n ln denom_n - sum_k N_k f_k.
fn objective(log_denom: &Array1<f64>, n_k: &[usize], f: &[f64]) -> f64 {
    log_denom.sum() - n_k.iter().zip(f).map(|(&c, &fk)| c as f64 * fk).sum::<f64>()
}

/// One self-consistent iteration (S&C eq. 11), shifted to f_0 = 0.
fn self_consistent_step(u_kn: &Array2<f64>, log_denom: &Array1<f64>) -> Vec<f64> {
    let k = u_kn.nrows();
    let mut f: Vec<f64> = (0..k)
        .map(|s| -logsumexp(u_kn.row(s).iter().zip(log_denom.iter()).map(|(&u, &d)| -u - d).collect::<Vec<_>>()))
        .collect();
    let f0 = f[0];
    f.iter_mut().for_each(|v| *v -= f0);
    f
}

/// Relative gradient r_i = sum_n W_ni - 1 (computed in log space).
fn rel_gradient(u_kn: &Array2<f64>, f: &[f64], log_denom: &Array1<f64>) -> Vec<f64> {
    (0..u_kn.nrows())
        .map(|s| {
            let l =
                logsumexp(u_kn.row(s).iter().zip(log_denom.iter()).map(|(&u, &d)| f[s] - u - d).collect::<Vec<_>>());
            l.exp_m1()
        })
        .collect()
}

/// Solve the MBAR equations and compute the asymptotic uncertainties and the overlap matrix.
///
/// - `u_kn`: reduced potentials, shape (K, N); column n is sample n evaluated in every state.
/// - `n_k`: samples per state (length K, all > 0, sum = N); state k's samples are the k-th contiguous
///   block of columns.
/// - `tol`: convergence threshold on max_i |sum_n W_ni - 1| (the relative gradient) or on the largest
///   Newton update max_i |delta f_i| (kT); 1e-10 is a good default.
/// - `max_iter`: maximum number of Newton iterations (after up to 10 self-consistent warm-start
///   iterations).
///
/// Errors: inconsistent shapes (rows != len(n_k), sum n_k != columns), empty states (n_k = 0),
/// non-finite energies, failure to converge, or linear-algebra failures.
pub fn mbar(u_kn: &Array2<f64>, n_k: &[usize], tol: f64, max_iter: usize) -> Result<MbarResult> {
    let ln_nk = validate(u_kn, n_k)?;
    ensure!(tol > 0.0 && tol.is_finite(), "MBAR: tolerance must be positive, got {tol}");
    let k = u_kn.nrows();
    let nkf: Vec<f64> = n_k.iter().map(|&c| c as f64).collect();

    let mut f = vec![0.0; k];
    let mut log_denom = log_denominators(u_kn, &ln_nk, &f);
    let mut iterations = 0usize;
    let max_rel = |g: &[f64]| g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut grad = rel_gradient(u_kn, &f, &log_denom);
    let mut converged = max_rel(&grad) < tol;

    // Warm start: a few self-consistent iterations (robust far from the solution).
    const WARM_START: usize = 10;
    for _ in 0..WARM_START {
        if converged {
            break;
        }
        f = self_consistent_step(u_kn, &log_denom);
        log_denom = log_denominators(u_kn, &ln_nk, &f);
        grad = rel_gradient(u_kn, &f, &log_denom);
        iterations += 1;
        converged = max_rel(&grad) < tol;
    }

    // Newton iterations with backtracking line search on the convex objective.
    let mut newton_iter = 0usize;
    while !converged && k > 1 {
        if newton_iter >= max_iter {
            bail!(
                "MBAR did not converge in {max_iter} Newton iterations (max relative gradient {:.3e}, tol {tol:.1e})",
                max_rel(&grad)
            );
        }
        newton_iter += 1;
        iterations += 1;
        let w = weights(u_kn, &f, &log_denom);
        let colsum = w.sum_axis(Axis(0));
        let wtw = w.t().dot(&w);
        // Reduced system over states 1..K-1.
        let m = k - 1;
        let mut h = Array2::<f64>::zeros((m, m));
        let mut g = Array1::<f64>::zeros(m);
        for i in 1..k {
            g[i - 1] = nkf[i] * (colsum[i] - 1.0);
            for j in 1..k {
                h[[i - 1, j - 1]] = -nkf[i] * nkf[j] * wtw[[i, j]] + if i == j { nkf[i] * colsum[i] } else { 0.0 };
            }
        }
        let obj0 = objective(&log_denom, n_k, &f);
        let newton = h.solve(&g.mapv(|v| -v)).ok().filter(|d| d.iter().all(|v| v.is_finite()));
        let mut accepted = false;
        if let Some(d) = newton {
            let slope: f64 = g.dot(&d);
            let mut alpha = 1.0;
            for _ in 0..40 {
                let mut f_try = f.clone();
                for i in 1..k {
                    f_try[i] += alpha * d[i - 1];
                }
                let ld_try = log_denominators(u_kn, &ln_nk, &f_try);
                let obj = objective(&ld_try, n_k, &f_try);
                // Armijo condition, with slack for round-off in the O(N) objective sum.
                let slack = 1e-13 * (obj0.abs() + log_denom.iter().map(|v| v.abs()).sum::<f64>());
                if obj <= obj0 + 1e-4 * alpha * slope + slack {
                    let step = alpha * d.iter().fold(0.0f64, |mx, v| mx.max(v.abs()));
                    f = f_try;
                    log_denom = ld_try;
                    grad = rel_gradient(u_kn, &f, &log_denom);
                    converged = max_rel(&grad) < tol || (alpha == 1.0 && step < tol);
                    accepted = true;
                    break;
                }
                alpha *= 0.5;
            }
        }
        if !accepted {
            // Singular Hessian or no descent: fall back to a self-consistent step.
            let f_new = self_consistent_step(u_kn, &log_denom);
            let step = f_new.iter().zip(&f).fold(0.0f64, |mx, (a, b)| mx.max((a - b).abs()));
            f = f_new;
            log_denom = log_denominators(u_kn, &ln_nk, &f);
            grad = rel_gradient(u_kn, &f, &log_denom);
            converged = max_rel(&grad) < tol || step < tol * 1e-3;
        }
    }

    let w = weights(u_kn, &f, &log_denom);
    let (theta, df, overlap) = uncertainties(&w, &nkf)?;
    Ok(MbarResult { f, df, theta, overlap, iterations, max_rel_gradient: max_rel(&grad) })
}

/// From the MBAR weights W (N x K) and the samples per state: the covariance Theta, the standard
/// errors of all differences and the overlap matrix (see [`MbarResult`]).
pub(super) fn uncertainties(w: &Array2<f64>, nkf: &[f64]) -> Result<(Array2<f64>, Array2<f64>, Array2<f64>)> {
    let k = w.ncols();
    let theta = covariance(w, nkf)?;
    let mut df = Array2::<f64>::zeros((k, k));
    for i in 0..k {
        for j in 0..k {
            if i != j {
                df[[i, j]] = (theta[[i, i]] + theta[[j, j]] - 2.0 * theta[[i, j]]).max(0.0).sqrt();
            }
        }
    }
    let mut overlap = w.t().dot(w);
    for (mut col, &nj) in overlap.columns_mut().into_iter().zip(nkf) {
        col.mapv_inplace(|v| v * nj);
    }
    Ok((theta, df, overlap))
}

/// Asymptotic covariance Theta = V S (I_K - S V^T diag(N_k) V S)^+ S V^T from the thin SVD
/// W = U S V^T of the N x K weight matrix (S&C eq. D.4; pymbar "svd-ew").
///
/// The pseudo-inverse drops eigenvalues below 1e-10 times the largest one: I - S V^T N V S always has
/// one zero eigenvalue (the common shift of all f_k), which cancels in differences.
pub fn covariance(w: &Array2<f64>, n_k: &[f64]) -> Result<Array2<f64>> {
    let k = w.ncols();
    ensure!(n_k.len() == k, "covariance: W has {k} columns but n_k has {} entries", n_k.len());
    let (_, s, vt) = w.svddc(JobSvd::Some).map_err(|e| anyhow!("{e}")).context("thin SVD of the MBAR weights")?;
    let vt = vt.ok_or_else(|| anyhow!("thin SVD returned no V^T"))?;
    let r = s.len();
    // V S: K x r.
    let mut vs = vt.t().to_owned();
    for c in 0..r {
        vs.column_mut(c).mapv_inplace(|v| v * s[c]);
    }
    // A = S V^T N V S (r x r), M = I - A.
    let mut nvs = vs.clone();
    for (mut row, &ni) in nvs.rows_mut().into_iter().zip(n_k) {
        row.mapv_inplace(|v| v * ni);
    }
    let mut mtx = -vs.t().dot(&nvs);
    for i in 0..r {
        mtx[[i, i]] += 1.0;
    }
    let mtx = 0.5 * (&mtx + &mtx.t());
    let (ev, evec) =
        mtx.eigh(UPLO::Lower).map_err(|e| anyhow!("{e}")).context("eigen-decomposition in MBAR covariance")?;
    let emax = ev.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut pinv = Array2::<f64>::zeros((r, r));
    for (c, &lam) in ev.iter().enumerate() {
        if lam.abs() > 1e-10 * emax {
            let v = evec.column(c);
            for i in 0..r {
                for j in 0..r {
                    pinv[[i, j]] += v[i] * v[j] / lam;
                }
            }
        }
    }
    let theta = vs.dot(&pinv).dot(&vs.t());
    Ok(0.5 * (&theta + &theta.t()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand_distr::{Distribution, StandardNormal};
    use std::f64::consts::PI;

    /// Harmonic states u_k(x) = x^2 / (2 v_k), exact f_k = -(1/2) ln(2 pi v_k).
    fn harmonic_problem(vars: &[f64], n_per: usize, seed: u64, id: u64) -> (Array2<f64>, Vec<usize>, Vec<f64>) {
        let k = vars.len();
        let mut r = stream(seed, Purpose::Init, id);
        let mut xs = Vec::with_capacity(k * n_per);
        for &v in vars {
            for _ in 0..n_per {
                let z: f64 = StandardNormal.sample(&mut r);
                xs.push(v.sqrt() * z);
            }
        }
        let u = Array2::from_shape_fn((k, xs.len()), |(s, n)| xs[n] * xs[n] / (2.0 * vars[s]));
        let exact: Vec<f64> =
            vars.iter().map(|v| -0.5 * (2.0 * PI * v).ln() + 0.5 * (2.0 * PI * vars[0]).ln()).collect();
        (u, vec![n_per; k], exact)
    }

    const VARS: [f64; 5] = [1.0, 1.6, 2.5, 4.0, 6.5];

    #[test]
    fn harmonic_oscillators_within_three_sigma() {
        let (u, nk, exact) = harmonic_problem(&VARS, 500, 11, 3100);
        let r = mbar(&u, &nk, 1e-10, 100).unwrap();
        assert_eq!(r.f[0], 0.0);
        assert!(r.max_rel_gradient < 1e-10);
        for (k, &ex) in exact.iter().enumerate().skip(1) {
            let (d, e) = r.delta(0, k);
            assert!(e > 0.0 && e < 0.2, "stderr {e}");
            assert!((d - ex).abs() < 3.0 * e, "state {k}: {d} vs {ex} (+- {e})");
        }
        // Overlap rows sum to one; df symmetric.
        for i in 0..VARS.len() {
            assert!((r.overlap.row(i).sum() - 1.0).abs() < 1e-10);
            for j in 0..VARS.len() {
                assert!((r.df[[i, j]] - r.df[[j, i]]).abs() < 1e-12);
            }
        }
        let gap = r.overlap_spectral_gap().unwrap();
        assert!(gap > 0.0 && gap < 1.0, "gap {gap}");
    }

    #[test]
    fn solution_satisfies_self_consistent_equations() {
        let (u, nk, _) = harmonic_problem(&VARS, 300, 5, 3101);
        let r = mbar(&u, &nk, 1e-12, 100).unwrap();
        let ln_nk: Vec<f64> = nk.iter().map(|&c| (c as f64).ln()).collect();
        let ld = log_denominators(&u, &ln_nk, &r.f);
        let f2 = self_consistent_step(&u, &ld);
        for (a, b) in f2.iter().zip(&r.f) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
    }

    #[test]
    fn two_state_mbar_equals_bar_and_large_offsets_converge() {
        // Adding a constant c_k to u_k shifts f_k by exactly c_k (tests log-space robustness).
        let (u, nk, _) = harmonic_problem(&VARS, 200, 8, 3102);
        let r0 = mbar(&u, &nk, 1e-11, 100).unwrap();
        let shifts = [0.0, 300.0, -250.0, 800.0, 40.0];
        let mut u2 = u.clone();
        for (s, c) in shifts.iter().enumerate() {
            u2.row_mut(s).mapv_inplace(|v| v + c);
        }
        let r1 = mbar(&u2, &nk, 1e-11, 100).unwrap();
        for (k, &c) in shifts.iter().enumerate() {
            assert!((r1.f[k] - r0.f[k] - c).abs() < 1e-8, "state {k}");
            assert!((r1.df[[0, k]] - r0.df[[0, k]]).abs() < 1e-8);
        }
    }

    #[test]
    fn z_scores_are_calibrated_over_seeds() {
        // For n_seeds iid N(0,1) z-scores, (n-1) s^2 ~ chi^2_{n-1}, so the sample sd s has standard
        // deviation ~ 1/sqrt(2 (n - 1)) = 0.101 for n = 50: the band [0.6, 1.5] is -4 / +5 of those, so
        // a correct estimator fails it with probability < 1e-4 while error bars off by a factor 1.7 fail.
        // The mean of z has sd 1/sqrt(n); the bound 1.2 * 3 / sqrt(n) is a 3.6-sigma band.
        let n_seeds = 50usize;
        let k = VARS.len();
        let mut z = vec![Vec::new(); k];
        for seed in 0..n_seeds as u64 {
            let (u, nk, exact) = harmonic_problem(&VARS, 200, 1000 + seed, 3200 + seed);
            let r = mbar(&u, &nk, 1e-10, 100).unwrap();
            for s in 1..k {
                let (d, e) = r.delta(0, s);
                z[s].push((d - exact[s]) / e);
            }
        }
        let n = n_seeds as f64;
        for (s, zs) in z.iter().enumerate().skip(1) {
            let m = zs.iter().sum::<f64>() / n;
            let sd = (zs.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0)).sqrt();
            eprintln!("MBAR z-scores state {s}: mean {m:.3}, sd {sd:.3}");
            assert!(m.abs() < 1.2 * 3.0 / n.sqrt(), "state {s}: mean z = {m}");
            assert!((0.6..=1.5).contains(&sd), "state {s}: sd z = {sd}");
        }
    }

    #[test]
    fn identical_states_give_zero() {
        let (u1, _, _) = harmonic_problem(&[2.0], 400, 3, 3300);
        let mut u = Array2::<f64>::zeros((2, 400));
        u.row_mut(0).assign(&u1.row(0));
        u.row_mut(1).assign(&u1.row(0));
        let r = mbar(&u, &[150, 250], 1e-10, 50).unwrap();
        assert_eq!(r.f, vec![0.0, 0.0]);
        assert!(r.df[[0, 1]] < 1e-6, "df = {}", r.df[[0, 1]]);
        for i in 0..2 {
            assert!((r.overlap[[i, 0]] - 150.0 / 400.0).abs() < 1e-12);
            assert!((r.overlap[[i, 1]] - 250.0 / 400.0).abs() < 1e-12);
        }
        // Single state: trivially f = [0].
        let r = mbar(&u.slice(ndarray::s![0..1, ..]).to_owned(), &[400], 1e-10, 50).unwrap();
        assert_eq!(r.f, vec![0.0]);
    }

    #[test]
    fn input_errors_are_reported() {
        let u = Array2::<f64>::zeros((2, 10));
        let e = mbar(&u, &[4, 5], 1e-10, 10).unwrap_err().to_string();
        assert!(e.contains("sum of n_k = 9") && e.contains("10"), "{e}");
        let e = mbar(&u, &[10], 1e-10, 10).unwrap_err().to_string();
        assert!(e.contains("2 rows") && e.contains("1 entries"), "{e}");
        let e = mbar(&u, &[10, 0], 1e-10, 10).unwrap_err().to_string();
        assert!(e.contains("state 1 has no samples"), "{e}");
        let mut u2 = u.clone();
        u2[[1, 3]] = f64::NAN;
        let e = mbar(&u2, &[5, 5], 1e-10, 10).unwrap_err().to_string();
        assert!(e.contains("u_kn[1, 3]"), "{e}");
        assert!(mbar(&Array2::<f64>::zeros((0, 0)), &[], 1e-10, 10).is_err());
    }

    #[test]
    fn logsumexp_is_stable() {
        assert!((logsumexp(vec![1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert!((logsumexp(vec![-1000.0, -1000.0]) - (-1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(logsumexp(Vec::<f64>::new()), f64::NEG_INFINITY);
    }
}
