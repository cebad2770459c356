//! Automated equilibration detection (Chodera, J. Chem. Theory Comput. 12, 1799 (2016)).
//!
//! A chain started away from its stationary distribution carries an initial transient that biases
//! the mean. Discarding the first t0 samples trades that bias for variance; Chodera's rule picks the
//! t0 that maximises the number of effectively uncorrelated samples left,
//!
//! ```text
//! t0* = argmax_{t0}  N_eff(t0),   N_eff(t0) = (T - t0) / g(t0),
//! ```
//!
//! with g(t0) the statistical inefficiency of x[t0..T] (here from block averaging,
//! [`super::block_average`]). A transient inflates the variance and the apparent correlation of the
//! series that contains it, so N_eff rises as it is cut away and falls again once only stationary
//! data are being thrown out. Candidates are t0 = k T / `grid`, k = 0 .. grid/2: at least half of the
//! series is always kept, so a first-half/second-half drift check of the rest still has data.

use super::block::{block_average, BlockEstimate};

/// Which start of a chain's production is discarded before averaging (the `[ti] window_discard`
/// key of the corrected TI windows, crate::diffusion::windows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowDiscard {
    /// Average the whole production (warm-up only is discarded).
    #[default]
    None,
    /// Per chain, discard the t0 that maximises the effective sample size (Chodera 2016).
    Auto,
}

/// Result of [`detect_equilibration`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Equilibration {
    /// Samples discarded from the start.
    pub t0: usize,
    /// Effective sample size (T - t0) / g of the kept part.
    pub n_eff: f64,
    /// Block estimate of the kept part x[t0..].
    pub kept: BlockEstimate,
}

/// Chodera's t0 over the candidates k T / grid, k = 0 ..= grid / 2 (`grid` >= 2). Series shorter
/// than 4 samples, or whose statistical inefficiency is undefined (constant), keep everything.
pub fn detect_equilibration(x: &[f64], grid: usize) -> Equilibration {
    let n = x.len();
    let whole = block_average(x);
    let keep_all = Equilibration { t0: 0, n_eff: n_eff(n, &whole), kept: whole };
    if n < 4 || grid < 2 {
        return keep_all;
    }
    let mut best = keep_all;
    for k in 1..=grid / 2 {
        let t0 = k * n / grid;
        let kept = block_average(&x[t0..]);
        let e = n_eff(n - t0, &kept);
        // Strictly better only: ties (and NaN) keep the earlier, longer series.
        if e > best.n_eff || (best.n_eff.is_nan() && e.is_finite()) {
            best = Equilibration { t0, n_eff: e, kept };
        }
    }
    best
}

fn n_eff(len: usize, e: &BlockEstimate) -> f64 {
    if e.stat_ineff.is_finite() && e.stat_ineff > 0.0 {
        len as f64 / e.stat_ineff.max(1.0)
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};

    /// AR(1) with unit stationary variance and coefficient phi, started at `x0`.
    fn ar1(n: usize, phi: f64, x0: f64, id: u64) -> Vec<f64> {
        crate::estimators::block::ar1_from(&mut stream(17, Purpose::ToyData, id), n, phi, x0)
    }

    #[test]
    fn transient_is_cut_and_the_mean_is_unbiased() {
        // Chains started 100 sd out relax with tau = 1/(1 - phi) = 20 samples: the transient lasts
        // about 20 ln 100 = 92 of 2000 samples. Kept means over 40 chains must scatter around the true
        // mean 0 with their own errors (z rms ~ 1); the whole-series means must not (negative control).
        let (mut z_kept, mut z_all, mut t0s) = (Vec::new(), Vec::new(), Vec::new());
        for id in 0..40 {
            let x = ar1(2000, 0.95, 100.0, id);
            let e = detect_equilibration(&x, 100);
            z_kept.push(e.kept.mean / e.kept.stderr);
            // The whole series' mean in units of the stationary error (the block error of the
            // whole series is itself inflated by the transient and would hide the bias).
            z_all.push(block_average(&x).mean / e.kept.stderr);
            t0s.push(e.t0);
        }
        let rms = |z: &[f64]| (z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64).sqrt();
        let mean = |z: &[f64]| z.iter().sum::<f64>() / z.len() as f64;
        // rms of 40 N(0,1): 1 +- 3 sqrt(1/80) (3 sigma); mean: 0 +- 3/sqrt(40).
        assert!((rms(&z_kept) - 1.0).abs() < 3.0 * (1.0f64 / 80.0).sqrt(), "kept z rms {}", rms(&z_kept));
        assert!(mean(&z_kept).abs() < 3.0 / 40f64.sqrt(), "kept z mean {}", mean(&z_kept));
        assert!(mean(&z_all) > 3.0, "the transient must bias the whole series (z mean {})", mean(&z_all));
        assert!(t0s.iter().all(|&t| t > 0), "every chain's transient must be seen: {t0s:?}");
    }

    #[test]
    fn stationary_series_keep_most_of_their_data() {
        // No transient: the kept fraction averages well above the 1/2 floor, and the kept means stay
        // calibrated (the selection itself must not bias them).
        let (mut kept, mut z) = (0.0, Vec::new());
        for id in 100..140 {
            let x = ar1(2000, 0.9, 0.0, id);
            let e = detect_equilibration(&x, 100);
            kept += (x.len() - e.t0) as f64 / x.len() as f64 / 40.0;
            z.push(e.kept.mean / e.kept.stderr);
        }
        let rms = (z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64).sqrt();
        assert!(kept > 0.8, "mean kept fraction {kept}");
        assert!((rms - 1.0).abs() < 3.0 * (1.0f64 / 80.0).sqrt(), "z rms {rms}");
    }

    #[test]
    fn short_or_constant_series_keep_everything() {
        assert_eq!(detect_equilibration(&[1.0, 2.0, 3.0], 20).t0, 0);
        assert_eq!(detect_equilibration(&[2.0; 100], 20).t0, 0);
        assert_eq!(detect_equilibration(&ar1(100, 0.5, 0.0, 7), 1).t0, 0);
    }
}
