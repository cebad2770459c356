//! Nonparametric bootstrap (Efron & Tibshirani, An Introduction to the Bootstrap, 1993, ch. 6),
//! with one set of resampled indices shared by several additive terms.
//!
//! Use case (docs/design.md sec. 2, "auditable readout"): a TI free energy is a sum of per-sample
//! contributions C[k, i] (term k, sample i, already including the quadrature weight w_j / n_j),
//! S_k = sum_i C[k, i], beta*A = sum_k S_k. Resampling the samples with the *same* indices for every
//! term gives bootstrap replicates S_k^(b) whose scatter estimates
//!   Cov(S_k, S_l) ~ 1/(B-1) sum_b (S_k^(b) - mean_k)(S_l^(b) - mean_l),
//! and, because the total is linear in the terms, Var(sum_k S_k) = sum_{k,l} Cov(S_k, S_l) exactly
//! (for the bootstrap estimates too).
//!
//! Samples from independent simulations (e.g. different quadrature nodes t_j) must be resampled
//! within their own stratum, so that each node keeps its n_j samples (stratified bootstrap,
//! Efron & Tibshirani sec. 8.4 / Davison & Hinkley 1997 sec. 3.7); plain resampling over all nodes
//! would add the spread *between* node means to the error bar. Samples are assumed independent within
//! a stratum (thin or block correlated series first).
//!
//! Random streams: replicate b uses `rng::stream(seed, Purpose::Init, BOOTSTRAP_STREAM_ID + b)`, so
//! each replicate is reproducible on its own and independent of the number of MPI ranks.

use anyhow::{ensure, Result};
use ndarray::Array2;
use rand::RngExt;

use crate::rng::{stream, Purpose};

/// Offset of the stream ids used for bootstrap replicates (within `Purpose::Init`), chosen far above
/// any replica id so that bootstrap streams never coincide with initialisation streams.
pub const BOOTSTRAP_STREAM_ID: u64 = 0xB0_0757_0000_0000;

/// Indices of bootstrap replicate `b`: for each stratum (a contiguous block of `strata[s]` samples,
/// blocks in order) draw `strata[s]` indices uniformly with replacement from that block.
/// Returns global indices into the concatenated samples (length sum(strata)).
pub fn bootstrap_resample(strata: &[usize], seed: u64, b: u64) -> Vec<usize> {
    let mut r = stream(seed, Purpose::Init, BOOTSTRAP_STREAM_ID.wrapping_add(b));
    let mut out = Vec::with_capacity(strata.iter().sum());
    let mut start = 0usize;
    for &len in strata {
        for _ in 0..len {
            out.push(start + r.random_range(0..len));
        }
        start += len;
    }
    out
}

/// `n_boot` bootstrap replicates of `n` samples: each a vector of `n` indices drawn uniformly with
/// replacement from 0..n. Replicate b equals `bootstrap_resample(&[n], seed, b)`.
pub fn bootstrap_indices(n: usize, n_boot: usize, seed: u64) -> Vec<Vec<usize>> {
    stratified_bootstrap_indices(&[n], n_boot, seed)
}

/// `n_boot` stratified bootstrap replicates (see [`bootstrap_resample`]).
pub fn stratified_bootstrap_indices(strata: &[usize], n_boot: usize, seed: u64) -> Vec<Vec<usize>> {
    (0..n_boot as u64).map(|b| bootstrap_resample(strata, seed, b)).collect()
}

/// Shared-bootstrap summary of K additive terms.
#[derive(Clone, Debug)]
pub struct SharedBootstrap {
    /// Term sums S_k = `sum_i c_k[i]` on the original sample (length K).
    pub sums: Vec<f64>,
    /// Bootstrap standard errors of the S_k (length K) = sqrt(diag(cov)).
    pub stderr: Vec<f64>,
    /// Bootstrap covariance matrix Cov(S_k, S_l) (K x K, divisor B - 1).
    pub cov: Array2<f64>,
    /// Total sum_k S_k.
    pub total: f64,
    /// Standard error of the total, sqrt(sum_{k,l} cov[k, l]).
    pub total_stderr: f64,
    /// Number of bootstrap replicates B.
    pub n_boot: usize,
}

impl SharedBootstrap {
    /// Correlation matrix `cov[k, l] / (se_k se_l)` (0 where a standard error vanishes).
    pub fn correlation(&self) -> Array2<f64> {
        let k = self.sums.len();
        Array2::from_shape_fn((k, k), |(i, j)| {
            let d = self.stderr[i] * self.stderr[j];
            if d > 0.0 {
                self.cov[[i, j]] / d
            } else {
                0.0
            }
        })
    }
}

/// Shared stratified bootstrap of the sums of K terms.
///
/// - `terms`: K vectors of per-sample contributions, all of the same length n (term k, sample i).
/// - `strata`: sizes of contiguous blocks of independent simulations (sum = n); pass `&[n]` for a
///   plain bootstrap. Samples are resampled within their stratum, with the same indices for all terms.
/// - `n_boot`: number of replicates B (>= 2; 1000 or more for error bars, more for covariances).
///
/// Returns the term sums, their bootstrap standard errors and covariance, and the total with its
/// standard error (total variance = sum of all covariance entries). Units: those of the
/// contributions (kT for free-energy contributions).
pub fn shared_bootstrap<T: AsRef<[f64]>>(
    terms: &[T],
    strata: &[usize],
    n_boot: usize,
    seed: u64,
) -> Result<SharedBootstrap> {
    ensure!(!terms.is_empty(), "shared bootstrap needs at least one term");
    ensure!(n_boot >= 2, "shared bootstrap needs at least 2 replicates, got {n_boot}");
    let n = terms[0].as_ref().len();
    for (k, t) in terms.iter().enumerate() {
        ensure!(
            t.as_ref().len() == n,
            "shared bootstrap: term {k} has {} samples but term 0 has {n}",
            t.as_ref().len()
        );
        ensure!(t.as_ref().iter().all(|v| v.is_finite()), "shared bootstrap: term {k} has non-finite contributions");
    }
    let total_strata: usize = strata.iter().sum();
    ensure!(total_strata == n, "shared bootstrap: strata sizes sum to {total_strata} but terms have {n} samples");
    let kn = terms.len();
    let sums: Vec<f64> = terms.iter().map(|t| t.as_ref().iter().sum()).collect();

    // Replicate sums (B x K), then their covariance.
    let mut reps = Array2::<f64>::zeros((n_boot, kn));
    for b in 0..n_boot {
        let idx = bootstrap_resample(strata, seed, b as u64);
        for (k, t) in terms.iter().enumerate() {
            let t = t.as_ref();
            reps[[b, k]] = idx.iter().map(|&i| t[i]).sum();
        }
    }
    let means: Vec<f64> = (0..kn).map(|k| reps.column(k).sum() / n_boot as f64).collect();
    let mut cov = Array2::<f64>::zeros((kn, kn));
    for b in 0..n_boot {
        for i in 0..kn {
            let di = reps[[b, i]] - means[i];
            for j in 0..=i {
                cov[[i, j]] += di * (reps[[b, j]] - means[j]);
            }
        }
    }
    for i in 0..kn {
        for j in 0..=i {
            cov[[i, j]] /= (n_boot - 1) as f64;
            cov[[j, i]] = cov[[i, j]];
        }
    }
    let stderr = (0..kn).map(|k| cov[[k, k]].max(0.0).sqrt()).collect();
    let total = sums.iter().sum();
    let total_stderr = cov.sum().max(0.0).sqrt();
    Ok(SharedBootstrap { sums, stderr, cov, total, total_stderr, n_boot })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, StandardNormal};

    fn normals(n: usize, id: u64) -> Vec<f64> {
        let mut r = stream(77, Purpose::Init, id);
        (0..n).map(|_| StandardNormal.sample(&mut r)).collect()
    }

    fn sample_sd(x: &[f64]) -> f64 {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0)).sqrt()
    }

    #[test]
    fn indices_are_reproducible_in_range_and_stratified() {
        let a = bootstrap_indices(50, 3, 1);
        assert_eq!(a, bootstrap_indices(50, 3, 1));
        assert_ne!(a, bootstrap_indices(50, 3, 2));
        assert_ne!(a[0], a[1]);
        assert!(a.iter().all(|r| r.len() == 50 && r.iter().all(|&i| i < 50)));
        let s = stratified_bootstrap_indices(&[3, 0, 5, 2], 20, 4);
        for r in &s {
            assert_eq!(r.len(), 10);
            assert!(r[0..3].iter().all(|&i| i < 3));
            assert!(r[3..8].iter().all(|&i| (3..8).contains(&i)));
            assert!(r[8..10].iter().all(|&i| (8..10).contains(&i)));
        }
    }

    #[test]
    fn stderr_of_mean_matches_sd_over_sqrt_n() {
        // Bootstrap sd of the mean of n iid samples -> sd sqrt((n-1)/n) / sqrt(n); with B = 4000 its
        // relative Monte Carlo error is ~ 1/sqrt(2B) = 1.1 %, far inside the 10 % tolerance.
        for (id, n) in [(1u64, 400usize), (2, 2000)] {
            let x: Vec<f64> = normals(n, 500 + id).iter().map(|z| 3.0 + 2.0 * z).collect();
            let c: Vec<f64> = x.iter().map(|v| v / n as f64).collect(); // contributions to the mean
            let r = shared_bootstrap(&[c], &[n], 4000, 10 + id).unwrap();
            let expect = sample_sd(&x) / (n as f64).sqrt();
            assert!((r.stderr[0] / expect - 1.0).abs() < 0.1, "n = {n}: {} vs {expect}", r.stderr[0]);
            assert!((r.total - x.iter().sum::<f64>() / n as f64).abs() < 1e-12);
        }
    }

    #[test]
    fn correlated_terms_covariances_and_total() {
        let n = 1000;
        let a: Vec<f64> = normals(n, 600).iter().map(|z| z / n as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| -2.0 * v + 0.5 / n as f64).collect(); // perfectly anti-correlated
        let c: Vec<f64> = normals(n, 601).iter().map(|z| z / n as f64).collect(); // independent
        let r = shared_bootstrap(&[a.clone(), b, c], &[n], 3000, 5).unwrap();
        let (va, vb) = (r.cov[[0, 0]], r.cov[[1, 1]]);
        assert!((vb / va - 4.0).abs() < 1e-9);
        assert!((r.cov[[0, 1]] / va + 2.0).abs() < 1e-9);
        let corr = r.correlation();
        assert!((corr[[0, 1]] + 1.0).abs() < 1e-9);
        assert!(corr[[0, 2]].abs() < 0.1, "independent terms correlate: {}", corr[[0, 2]]);
        // Total variance = sum of covariance entries = variance of the replicate totals.
        let total_var = r.cov.sum();
        assert!((r.total_stderr - total_var.sqrt()).abs() < 1e-15);
        assert!((r.total - r.sums.iter().sum::<f64>()).abs() < 1e-15);
        // a + b = -a + const and c is independent: Var(total) ~ Var(S_a) + Var(S_c).
        let expect = (va + r.cov[[2, 2]]).sqrt();
        assert!((r.total_stderr / expect - 1.0).abs() < 0.1);
        // S_a is the mean of n standard normals z = n a: stderr ~ sd(z) / sqrt(n).
        let sd_z = sample_sd(&a) * n as f64;
        assert!((r.stderr[0] / (sd_z / (n as f64).sqrt()) - 1.0).abs() < 0.1);
    }

    #[test]
    fn stratified_bootstrap_excludes_between_stratum_spread() {
        // Two independent "nodes" with very different means; the sum's variance is the sum of the
        // within-node variances of the node means (weights 1/n_j).
        let (n1, n2) = (300usize, 800usize);
        let x1: Vec<f64> = normals(n1, 700).iter().map(|z| 10.0 + z).collect();
        let x2: Vec<f64> = normals(n2, 701).iter().map(|z| -5.0 + 3.0 * z).collect();
        let mut c: Vec<f64> = x1.iter().map(|v| v / n1 as f64).collect();
        c.extend(x2.iter().map(|v| v / n2 as f64));
        let r = shared_bootstrap(&[c], &[n1, n2], 4000, 9).unwrap();
        let expect = (sample_sd(&x1).powi(2) / n1 as f64 + sample_sd(&x2).powi(2) / n2 as f64).sqrt();
        assert!((r.stderr[0] / expect - 1.0).abs() < 0.1, "{} vs {expect}", r.stderr[0]);
    }

    #[test]
    fn errors_on_bad_input() {
        assert!(shared_bootstrap(&[vec![1.0, 2.0], vec![1.0]], &[2], 10, 1).is_err());
        assert!(shared_bootstrap(&[vec![1.0, 2.0]], &[3], 10, 1).is_err());
        assert!(shared_bootstrap(&[vec![1.0, f64::NAN]], &[2], 10, 1).is_err());
        assert!(shared_bootstrap(&[vec![1.0, 2.0]], &[2], 1, 1).is_err());
        assert!(shared_bootstrap::<Vec<f64>>(&[], &[0], 10, 1).is_err());
    }
}
