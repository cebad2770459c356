//! Where the variance of the corrected windows' estimate comes from, printed with every `nti ti`
//! run: per window the quadrature weight w_j, the standard error se_j of <du/dt>_j, its share
//! (w_j se_j)^2 / sum_k (w_k se_k)^2 of the estimate's variance, the statistical inefficiency g_j,
//! the per-sample spread a_j = se_j sqrt(n_j) (n_j recorded samples; a_j^2 = s_j^2 g_j, the
//! variance of one sample times its inefficiency) and the cost of the window in model evaluations.
//!
//! Neyman allocation (Neyman 1934; for stratified sampling: Cochran, Sampling Techniques, 1977,
//! sec. 5.5): with a fixed total of M samples at equal cost per sample, the variance
//! sum_j w_j^2 a_j^2 / n_j is smallest for n_j proportional to w_j a_j, where it is
//! (sum_j w_j a_j)^2 / M. The ratio of the present variance to that one is the factor by which a
//! pilot-based allocation of the same effort would cut the cost of a target error (issue
//! "Neural TI that pays for itself").

use super::WindowRow;

/// Kept samples of a window from its recorded samples and the fraction discarded as
/// equilibration (NaN: none discarded).
pub fn kept_samples(recorded: f64, discarded_fraction: f64) -> f64 {
    recorded * (1.0 - if discarded_fraction.is_finite() { discarded_fraction } else { 0.0 })
}

/// One window's line of the breakdown.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowVariance {
    /// Window time t_j.
    pub t: f64,
    /// Quadrature weight w_j.
    pub weight: f64,
    /// Standard error of <du/dt>_j.
    pub stderr: f64,
    /// Share of the estimate's variance, (w_j se_j)^2 / sum_k (w_k se_k)^2.
    pub share: f64,
    /// Statistical inefficiency g_j of the window's samples.
    pub stat_ineff: f64,
    /// Per-sample spread a_j = se_j sqrt(n_j).
    pub spread: f64,
    /// Recorded samples n_j.
    pub samples: f64,
}

/// The breakdown of one N: per window, the present standard error of the estimate and the one
/// the same number of samples would give under Neyman allocation.
#[derive(Clone, Debug, PartialEq)]
pub struct VarianceBreakdown {
    /// Per window, in node order.
    pub windows: Vec<WindowVariance>,
    /// sqrt(sum_j w_j^2 se_j^2).
    pub stderr: f64,
    /// (sum_j w_j a_j) / sqrt(sum_j n_j): the standard error with the samples allocated
    /// proportionally to w_j a_j.
    pub neyman_stderr: f64,
}

impl VarianceBreakdown {
    /// From the rows of /ti/N<n>/windows (columns t, weight, mean, stderr, statistical
    /// inefficiency, ..., the fraction discarded as equilibration, ..., and last the recorded samples
    /// of the window (all chains, before any discard)).
    pub fn of(rows: &[WindowRow]) -> Self {
        let var: f64 = rows.iter().map(|r| (r[1] * r[3]).powi(2)).sum();
        let windows: Vec<WindowVariance> = rows
            .iter()
            .map(|r| (r, kept_samples(r[25], r[20])))
            .map(|(r, samples)| WindowVariance {
                t: r[0],
                weight: r[1],
                stderr: r[3],
                share: if var > 0.0 { (r[1] * r[3]).powi(2) / var } else { f64::NAN },
                stat_ineff: r[4],
                spread: r[3] * samples.sqrt(),
                samples,
            })
            .collect();
        let total: f64 = windows.iter().map(|w| w.samples).sum();
        let neyman = windows.iter().map(|w| w.weight.abs() * w.spread).sum::<f64>() / total.sqrt();
        Self { windows, stderr: var.sqrt(), neyman_stderr: neyman }
    }

    /// Cost ratio of the present allocation to Neyman's at equal error: (se / se_Neyman)^2 >= 1.
    pub fn neyman_gain(&self) -> f64 {
        (self.stderr / self.neyman_stderr).powi(2)
    }

    /// The printed table: one line per window, then the totals. `cost` = model evaluations of all
    /// windows.
    pub fn lines(&self, n: usize, cost: f64) -> Vec<String> {
        let mut out = vec![format!(
            "N = {n}: variance of the corrected windows' estimate, by window (cost {cost:.0} model evaluations in all):"
        )];
        out.push(format!(
            "  {:>8} {:>9} {:>11} {:>7} {:>10} {:>14} {:>8}",
            "t", "weight", "stderr", "share", "stat.ineff", "a = se sqrt(n)", "samples"
        ));
        for w in &self.windows {
            out.push(format!(
                "  {:>8.4} {:>9.5} {:>11.4e} {:>6.1}% {:>10.1} {:>14.4e} {:>8.0}",
                w.t,
                w.weight,
                w.stderr,
                100.0 * w.share,
                w.stat_ineff,
                w.spread,
                w.samples
            ));
        }
        out.push(format!(
            "N = {n}: stderr {:.4} now; {:.4} with the same samples allocated by Neyman (n_j ~ w_j a_j): \
             a {:.2}x cheaper estimate at equal error",
            self.stderr,
            self.neyman_stderr,
            self.neyman_gain()
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: f64, w: f64, se: f64, g: f64) -> WindowRow {
        let mut r = [0.0; 26]; // nothing discarded (column 20)
        r[25] = 100.0;
        r[0] = t;
        r[1] = w;
        r[3] = se;
        r[4] = g;
        r
    }

    #[test]
    fn shares_sum_to_one_and_equal_windows_gain_nothing() {
        let rows = [row(0.1, 0.5, 2.0, 3.0), row(0.9, 0.5, 2.0, 3.0)];
        let b = VarianceBreakdown::of(&rows);
        assert_eq!(b.windows.iter().map(|w| w.share).sum::<f64>(), 1.0);
        assert!((b.stderr - 2.0f64.sqrt()).abs() < 1e-12);
        assert!((b.neyman_gain() - 1.0).abs() < 1e-12, "{}", b.neyman_gain());
    }

    /// Two windows, w = 1/2 each, spreads a = 1 and 9 with 100 samples each: now
    /// var = (0.25 + 20.25) / 100 = 0.205; Neyman puts 20 and 180 samples: (0.5 + 4.5)^2 / 200 = 0.125.
    #[test]
    fn neyman_allocation_matches_the_hand_computation() {
        let rows = [row(0.1, 0.5, 0.1, 1.0), row(0.9, 0.5, 0.9, 1.0)];
        let b = VarianceBreakdown::of(&rows);
        assert!((b.stderr.powi(2) - 0.205).abs() < 1e-12);
        assert!((b.neyman_stderr.powi(2) - 0.125).abs() < 1e-12);
        assert!((b.neyman_gain() - 1.64).abs() < 1e-12);
        assert!((b.windows[1].share - 20.25 / 20.5).abs() < 1e-12);
        assert_eq!(b.lines(50, 1e4).len(), 2 + 2 + 1);
        // A discarded start leaves fewer samples: the same stderr then means a smaller spread.
        let mut r = rows;
        r[1][20] = 0.75;
        let b = VarianceBreakdown::of(&r);
        assert_eq!(b.windows[1].samples, 25.0);
        assert!((b.windows[1].spread - 0.9 * 5.0).abs() < 1e-12);
    }
}
