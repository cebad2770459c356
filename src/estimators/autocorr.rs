//! Statistical inefficiency of short correlated series from their autocorrelation function,
//! pooled over independent chains of the same process (Geyer, Stat. Sci. 7, 473 (1992), the
//! initial positive sequence estimator).
//!
//! Block averaging ([`super::block_average`]) needs at least 32 blocks per level, so a series of n
//! samples resolves statistical inefficiencies up to about n / 64 only: for the 50-sample halves of
//! a 100-sample window chain it does no blocking at all and reports the naive error, too small by
//! sqrt(g) when g is 10-30 (measured: validation/README.md, "Window drift"). The autocovariance,
//! pooled over the C chains of a window (each about its own mean), uses every lag of every chain:
//!
//! ```text
//! gamma_k = sum_c sum_i (x_ci - m_c)(x_c,i+k - m_c) / sum_c n_c,
//! g = -1 + 2 sum_{m < M} (gamma_2m + gamma_2m+1) / gamma_0,
//! ```
//!
//! M the first m whose pair sum is not positive. The sample variance of a series of n samples
//! with inefficiency g underestimates the variance by the factor (1 - g / n); it is corrected
//! (the factor capped at 2, where g >= n / 2 leaves the series with about two independent samples).
//!
//! A trend within a short series is indistinguishable from slow correlation, and inflates both
//! estimates; that is right for the error of a chain's mean, but would hide the trend from a test
//! for it. [`PooledCorrelation::of_residuals`] therefore measures the fluctuations of several chains
//! about their common mean path instead, which a trend shared by the chains does not enter.

/// Variance and statistical inefficiency of a set of chains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PooledCorrelation {
    /// Stationary variance: pooled over chains about their own means and corrected for the
    /// correlation of the samples (1 / (1 - g / n), at most 2) ([`Self::of`]), or of the
    /// fluctuations about the chains' common mean path ([`Self::of_residuals`]).
    pub variance: f64,
    /// Statistical inefficiency g = 1 + 2 sum_k rho_k (1 for uncorrelated samples, >= 1).
    pub stat_ineff: f64,
}

impl PooledCorrelation {
    /// Estimates both from `chains` (each of at least 2 samples; shorter ones are skipped), each
    /// centred about its own mean. NaN for both when no chain has 2 samples; g = 1 for constant
    /// chains.
    pub fn of(chains: &[&[f64]]) -> Self {
        let chains: Vec<&[f64]> = chains.iter().copied().filter(|c| c.len() >= 2).collect();
        if chains.is_empty() {
            return Self { variance: f64::NAN, stat_ineff: f64::NAN };
        }
        let centred: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| {
                let m = c.iter().sum::<f64>() / c.len() as f64;
                c.iter().map(|v| v - m).collect()
            })
            .collect();
        let (g0, g) = initial_positive_sequence(&centred);
        if g0.is_nan() || g0 <= 0.0 {
            return Self { variance: 0.0, stat_ineff: 1.0 };
        }
        let n_mean = centred.iter().map(Vec::len).sum::<usize>() as f64 / centred.len() as f64;
        let correction = if g < 0.5 * n_mean { 1.0 / (1.0 - g / n_mean) } else { 2.0 };
        Self { variance: g0 * correction, stat_ineff: g }
    }

    /// Estimates both from the fluctuations of C >= 2 chains about their common mean path: chain c
    /// at step i contributes (x_ci - xbar_i) sqrt(C / (C - 1)), xbar_i the mean over chains at step
    /// i (the first min length steps). A change that every chain makes alike (relaxation from
    /// similar starts) is not counted as fluctuation, so a drift test against these errors still
    /// sees it ([`crate::diffusion::windows::drift_z`]). With one chain (or none), [`Self::of`].
    pub fn of_residuals(chains: &[&[f64]]) -> Self {
        let c = chains.len();
        let n = chains.iter().map(|x| x.len()).min().unwrap_or(0);
        if c < 2 || n < 2 {
            return Self::of(chains);
        }
        let scale = (c as f64 / (c as f64 - 1.0)).sqrt();
        let path: Vec<f64> = (0..n).map(|i| chains.iter().map(|x| x[i]).sum::<f64>() / c as f64).collect();
        let resid: Vec<Vec<f64>> =
            chains.iter().map(|x| x[..n].iter().zip(&path).map(|(v, m)| (v - m) * scale).collect()).collect();
        let (g0, g) = initial_positive_sequence(&resid);
        if g0.is_nan() || g0 <= 0.0 {
            return Self { variance: 0.0, stat_ineff: 1.0 };
        }
        Self { variance: g0, stat_ineff: g }
    }

    /// Standard error of the mean of `n` consecutive samples: sqrt(variance g / n).
    pub fn stderr_of_mean(&self, n: usize) -> f64 {
        (self.variance * self.stat_ineff / n as f64).sqrt()
    }
}

/// (gamma_0, g) of centred series: the autocovariance pooled over the series, summed in pairs of
/// lags until a pair sum is not positive (Geyer's initial positive sequence); g >= 1.
fn initial_positive_sequence(centred: &[Vec<f64>]) -> (f64, f64) {
    let total: usize = centred.iter().map(Vec::len).sum();
    let longest = centred.iter().map(Vec::len).max().unwrap_or(0);
    let acov = |k: usize| {
        centred.iter().map(|c| c.iter().zip(&c[k.min(c.len())..]).map(|(a, b)| a * b).sum::<f64>()).sum::<f64>()
            / total as f64
    };
    let g0 = acov(0);
    if g0.is_nan() || g0 <= 0.0 {
        return (g0, 1.0);
    }
    let (mut pairs, mut k) = (0.0, 0);
    while k + 1 < longest {
        let p = acov(k) + acov(k + 1);
        if p <= 0.0 {
            break;
        }
        pairs += p;
        k += 2;
    }
    (g0, (2.0 * pairs / g0 - 1.0).max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand_distr::{Distribution, StandardNormal};

    fn ar1(n: usize, phi: f64, id: u64) -> Vec<f64> {
        let mut r = stream(23, Purpose::ToyData, id);
        let x0: f64 = StandardNormal.sample(&mut r);
        crate::estimators::block::ar1_from(&mut r, n, phi, x0)
    }

    #[test]
    fn inefficiency_of_ar1_chains_is_close_to_the_exact_value() {
        // 8 chains of 2000 samples, phi = 0.8: g = (1 + phi) / (1 - phi) = 9; its estimate over
        // 16000 samples is good to a few per cent.
        let x: Vec<Vec<f64>> = (0..8).map(|c| ar1(2000, 0.8, c)).collect();
        let refs: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
        let p = PooledCorrelation::of(&refs);
        assert!((p.stat_ineff / 9.0 - 1.0).abs() < 0.15, "g = {}", p.stat_ineff);
        assert!((p.variance - 1.0).abs() < 0.1, "variance {}", p.variance);
    }

    #[test]
    fn a_common_trend_inflates_the_chain_estimate_but_not_the_residual_one() {
        // 4 chains, phi = 0.5 (g = 3), 200 samples, each plus the same decay 4 exp(-i / 40).
        let x: Vec<Vec<f64>> = (0..4)
            .map(|c| {
                ar1(200, 0.5, 10 + c).iter().enumerate().map(|(i, v)| v + 4.0 * (-(i as f64) / 40.0).exp()).collect()
            })
            .collect();
        let refs: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
        let (own, resid) = (PooledCorrelation::of(&refs), PooledCorrelation::of_residuals(&refs));
        assert!(own.stat_ineff > 6.0, "own-mean g = {} (the trend counts as correlation)", own.stat_ineff);
        assert!((resid.stat_ineff / 3.0 - 1.0).abs() < 0.5, "residual g = {}", resid.stat_ineff);
        assert!((resid.variance - 1.0).abs() < 0.3, "residual variance {}", resid.variance);
    }

    #[test]
    fn uncorrelated_and_degenerate_chains() {
        let x = ar1(4000, 0.0, 99);
        let p = PooledCorrelation::of(&[&x]);
        assert!((p.stat_ineff - 1.0).abs() < 0.15, "g = {}", p.stat_ineff);
        let flat = PooledCorrelation::of(&[&[2.0, 2.0, 2.0]]);
        assert_eq!((flat.variance, flat.stat_ineff), (0.0, 1.0));
        assert!(PooledCorrelation::of(&[&[1.0]]).stat_ineff.is_nan());
    }
}
