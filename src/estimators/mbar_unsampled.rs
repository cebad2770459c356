//! MBAR with unsampled states (N_k = 0), e.g. the end points t = 0 and t = 1 of the t-windows of
//! `nti ti`, where no chain runs but every sample's reduced energy is known.
//!
//! The MBAR equations involve the sampled states only: they are solved over those
//! ([`super::mbar::mbar`]), and the free energy of every other state i follows from the same
//! per-sample denominators (Shirts & Chodera 2008, eq. 11 with N_i = 0):
//!   f_i = -ln sum_n exp(-u_in) / sum_{k sampled} N_k exp(f_k - u_kn).
//! Its asymptotic covariance is that of the augmented weight matrix W (N x K, a column per state,
//! sampled or not) with N_i = 0 in diag(N_k) (S&C eq. D.4; pymbar's treatment of unsampled states),
//! so the standard error of f_i - f_j is the one [`super::mbar::covariance`] gives for it.

use super::mbar::{log_denominators, logsumexp, mbar, uncertainties, weights, MbarResult};
use anyhow::{bail, ensure, Result};
use ndarray::{Array2, Axis};

/// MBAR over K states of which some have no samples (`n_k[i] = 0`; at least one must have some):
/// `u_kn` (K x N) holds every sample's reduced energy in every state, the samples of state k a
/// contiguous block of columns in state order (unsampled states have empty blocks). Free energies
/// relative to state 0 (sampled or not); errors, covariance and overlap over all K states (the
/// overlap's columns of unsampled states are 0). Errors as [`mbar`], and non-finite energies of
/// unsampled states.
pub fn mbar_with_unsampled(u_kn: &Array2<f64>, n_k: &[usize], tol: f64, max_iter: usize) -> Result<MbarResult> {
    let k = u_kn.nrows();
    ensure!(n_k.len() == k, "MBAR: u_kn has {k} rows (states) but n_k has {} entries", n_k.len());
    let sampled: Vec<usize> = (0..k).filter(|&i| n_k[i] > 0).collect();
    ensure!(!sampled.is_empty(), "MBAR: none of the {k} states has samples");
    if sampled.len() == k {
        return mbar(u_kn, n_k, tol, max_iter);
    }
    for ((i, j), &v) in u_kn.indexed_iter() {
        if !v.is_finite() {
            bail!("MBAR: non-finite reduced energy u_kn[{i}, {j}] = {v}");
        }
    }
    let sub = u_kn.select(Axis(0), &sampled);
    let ns: Vec<usize> = sampled.iter().map(|&i| n_k[i]).collect();
    let r = mbar(&sub, &ns, tol, max_iter)?;
    let ln_nk: Vec<f64> = ns.iter().map(|&c| (c as f64).ln()).collect();
    let log_denom = log_denominators(&sub, &ln_nk, &r.f);
    // Sampled states keep their solution; the others follow from the denominators (both on the
    // same scale, that of the first sampled state).
    let mut f: Vec<f64> = (0..k)
        .map(|i| match sampled.iter().position(|&s| s == i) {
            Some(p) => r.f[p],
            None => -logsumexp(u_kn.row(i).iter().zip(log_denom.iter()).map(|(&u, &d)| -u - d).collect::<Vec<_>>()),
        })
        .collect();
    let w = weights(u_kn, &f, &log_denom);
    let nkf: Vec<f64> = n_k.iter().map(|&c| c as f64).collect();
    let (theta, df, overlap) = uncertainties(&w, &nkf)?;
    let f0 = f[0];
    f.iter_mut().for_each(|v| *v -= f0);
    Ok(MbarResult { f, df, theta, overlap, iterations: r.iterations, max_rel_gradient: r.max_rel_gradient })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn one_sampled_state_is_exponential_averaging() {
        // Samples of state 1 only; states 0 and 2 unsampled. MBAR then is Zwanzig's formula:
        // f_i - f_1 = -ln mean_n exp(-(u_in - u_1n)), and its error the delta-method one,
        // sd(exp(-du)) / (sqrt(N) mean(exp(-du))).
        let n = 400;
        let mut r = stream(7, Purpose::ToyData, 0);
        let x: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut r)).collect();
        let u = Array2::from_shape_fn((3, n), |(s, i)| {
            let xi: f64 = x[i];
            [0.5 * xi * xi * 1.3 + 0.7, 0.5 * xi * xi, 0.5 * (xi - 0.4).powi(2) - 0.2][s]
        });
        let res = mbar_with_unsampled(&u, &[0, n, 0], 1e-12, 100).unwrap();
        for i in [0, 2] {
            let e: Vec<f64> = (0..n).map(|c| (-(u[[i, c]] - u[[1, c]])).exp()).collect();
            let m = e.iter().sum::<f64>() / n as f64;
            let sd = (e.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt();
            let (d, se) = res.delta(1, i);
            assert!((d - -m.ln()).abs() < 1e-10, "state {i}: {d} against {}", -m.ln());
            assert!((se / (sd / (n as f64).sqrt() / m) - 1.0).abs() < 1e-6, "state {i}: se {se}");
        }
        // Relative to state 0 (unsampled): f_0 = 0.
        assert_eq!(res.f[0], 0.0);
        assert!(res.overlap.column(0).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn all_sampled_is_plain_mbar_and_bad_input_is_reported() {
        let u = Array2::from_shape_fn((2, 4), |(s, i)| (s * i) as f64 * 0.1);
        let a = mbar_with_unsampled(&u, &[2, 2], 1e-12, 100).unwrap();
        let b = mbar(&u, &[2, 2], 1e-12, 100).unwrap();
        assert_eq!(a.f, b.f);
        assert!(mbar_with_unsampled(&u, &[0, 0], 1e-12, 100).unwrap_err().to_string().contains("none of the 2"));
        let mut bad = Array2::zeros((3, 4));
        bad[[0, 1]] = f64::NAN;
        assert!(mbar_with_unsampled(&bad, &[0, 4, 0], 1e-12, 100).unwrap_err().to_string().contains("non-finite"));
    }
}
