//! Block averaging of correlated time series (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989)).
//!
//! The series is repeatedly halved into blocks of size 2^k; the standard error of the mean at level
//! k is SE_k = sqrt(var(block means) / (n_b - 1)) with its own uncertainty SE_k / sqrt(2 (n_b - 1)).
//! SE_k grows with k until blocks are longer than the correlation time, then plateaus. We take the
//! first level whose successor no longer grows beyond that uncertainty (at least 32 blocks kept).
//! Statistical inefficiency s = n SE^2 / var(x) (Allen & Tildesley, 2nd ed., sec. 8.4).

use serde::Serialize;

/// Mean of a correlated series with its block-averaged standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct BlockEstimate {
    /// Sample mean.
    pub mean: f64,
    /// Standard error of the mean.
    pub stderr: f64,
    /// Statistical inefficiency (1 for uncorrelated samples).
    pub stat_ineff: f64,
    /// Number of samples.
    pub n_samples: usize,
    /// Block size at the chosen level (0 when several replicas were combined).
    pub block_size: usize,
    /// False when no plateau was reached before fewer than 32 blocks remained.
    pub converged: bool,
}

const MIN_BLOCKS: usize = 32;

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
    (m, v)
}

/// Block-averaged estimate of the mean of `x`. Needs at least 2 samples.
pub fn block_average(x: &[f64]) -> BlockEstimate {
    let n = x.len();
    if n < 2 {
        return BlockEstimate {
            mean: x.first().copied().unwrap_or(f64::NAN),
            stderr: f64::NAN,
            stat_ineff: f64::NAN,
            n_samples: n,
            block_size: 1,
            converged: false,
        };
    }
    let (mean, var0) = mean_var(x);
    let mut blocks: Vec<f64> = x.to_vec();
    let mut size = 1usize;
    let level = |b: &[f64]| {
        let (_, v) = mean_var(b);
        let nb = b.len() as f64;
        let se = (v / (nb - 1.0)).sqrt();
        (se, se / (2.0 * (nb - 1.0)).sqrt())
    };
    let (mut se, mut err) = level(&blocks);
    let mut converged = false;
    while blocks.len() / 2 >= MIN_BLOCKS {
        let next: Vec<f64> = blocks.chunks_exact(2).map(|c| 0.5 * (c[0] + c[1])).collect();
        let (se2, err2) = level(&next);
        if se2 <= se + err {
            converged = true;
            se = se.max(se2);
            size *= 2;
            break;
        }
        blocks = next;
        size *= 2;
        se = se2;
        err = err2;
    }
    // Without a plateau (too few blocks left while SE still grew) the last, largest estimate is
    // kept and flagged as not converged.
    let stat_ineff = if var0 > 0.0 { n as f64 * se * se / var0 } else { 1.0 };
    BlockEstimate { mean, stderr: se, stat_ineff, n_samples: n, block_size: size, converged }
}

/// Combines independent estimates (replicas) of the same mean, weighting by sample count:
/// mean = sum n_r m_r / sum n_r, SE = sqrt(sum n_r^2 SE_r^2) / sum n_r.
pub fn combine_replicas(est: &[BlockEstimate]) -> BlockEstimate {
    let ntot: usize = est.iter().map(|e| e.n_samples).sum();
    let nt = ntot as f64;
    let mean = est.iter().map(|e| e.n_samples as f64 * e.mean).sum::<f64>() / nt;
    let se = est.iter().map(|e| (e.n_samples as f64 * e.stderr).powi(2)).sum::<f64>().sqrt() / nt;
    let s = est.iter().map(|e| e.n_samples as f64 * e.stat_ineff).sum::<f64>() / nt;
    BlockEstimate {
        mean,
        stderr: se,
        stat_ineff: s,
        n_samples: ntot,
        block_size: 0,
        converged: est.iter().all(|e| e.converged),
    }
}

/// Test series: AR(1) x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t (unit stationary variance) started
/// at x_0 = `x0`, n values x_1 .. x_n.
#[cfg(test)]
pub(crate) fn ar1_from(r: &mut crate::rng::Stream, n: usize, phi: f64, x0: f64) -> Vec<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let c = (1.0 - phi * phi).sqrt();
    let mut x = x0;
    (0..n)
        .map(|_| {
            let e: f64 = StandardNormal.sample(r);
            x = phi * x + c * e;
            x
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand_distr::{Distribution, StandardNormal};

    /// A stationary AR(1) series (see [`super::ar1_from`]); its statistical inefficiency is
    /// (1 + phi) / (1 - phi).
    fn ar1(n: usize, phi: f64, seed: u64) -> Vec<f64> {
        let mut r = stream(seed, Purpose::Init, 99);
        let x0: f64 = StandardNormal.sample(&mut r);
        super::ar1_from(&mut r, n, phi, x0)
    }

    #[test]
    fn error_bars_of_correlated_series_have_unit_z_spread() {
        // 200 independent AR(1) series with true mean 0: if the block SE is right, z = mean/SE has
        // <z^2> = 1; the sampling sd of <z^2> over 200 series is about sqrt(2/200) = 0.1, and the
        // SE estimate's own noise (~1/sqrt(2*32)) inflates it a little; accept |<z^2> - 1| < 0.35.
        let phi = 0.9;
        let mut z2 = 0.0;
        let mut s_sum = 0.0;
        let m = 200;
        for seed in 0..m {
            let e = block_average(&ar1(1 << 14, phi, seed));
            z2 += (e.mean / e.stderr).powi(2);
            s_sum += e.stat_ineff;
        }
        z2 /= m as f64;
        let s_true = (1.0 + phi) / (1.0 - phi);
        let s_mean = s_sum / m as f64;
        assert!((z2 - 1.0).abs() < 0.35, "<z^2> = {z2}");
        assert!((s_mean / s_true - 1.0).abs() < 0.2, "stat. inefficiency {s_mean} vs {s_true}");
    }

    #[test]
    fn uncorrelated_series_has_unit_inefficiency_and_naive_error() {
        let x = ar1(1 << 14, 0.0, 7);
        let e = block_average(&x);
        let naive = (mean_var(&x).1 / (x.len() as f64 - 1.0)).sqrt();
        assert!((e.stderr / naive - 1.0).abs() < 0.25, "{} vs {naive}", e.stderr);
        let c = combine_replicas(&[e, e]);
        assert!((c.stderr - e.stderr / 2f64.sqrt()).abs() < 1e-15);
    }
}
