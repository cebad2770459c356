//! Production steps of the corrected windows allocated from a pilot run (`[ti] window_pilot`).
//!
//! The windows' estimate sum_j w_j <du/dt>_j has variance sum_j w_j^2 a_j^2 / n_j, where n_j is
//! window j's number of samples and a_j^2 = s_j^2 g_j one sample's variance times its statistical
//! inefficiency. With a fixed total of samples at equal cost per sample it is smallest for
//!
//! ```text
//! n_j ~ |w_j| a_j          (Neyman 1934; Cochran, Sampling Techniques, 1977, sec. 5.5)
//! ```
//!
//! The a_j come from an earlier `nti ti` run of the same model at the same nodes (its
//! `/ti/N<n>/windows`: a_j = se_j sqrt(n_j kept), of the Stein-controlled samples where this run uses
//! the control variate and the pilot has it). The total K x `window_steps` production steps per
//! chain stay what they are; every window keeps a floor (a tenth of the equal share, at least two
//! recorded samples per chain, and enough for the control variate), because a pilot's se_j is
//! itself uncertain and a window it underestimated would otherwise get almost nothing. The pilot's
//! a_j are smoothed over neighbouring nodes first (geometric mean of j - 1, j, j + 1): a(t) is a
//! smooth function of t, and a short pilot's a_j scatter by tens of percent (at T = 1.5, N = 200,
//! validation/README.md "Pilot allocation": 1.98x less variance than equal steps, against 1.79x
//! unsmoothed and 2.22x with the production run's own a_j). Warm-up is
//! the same in every window. The allocation is fixed before the run, so the estimate stays unbiased
//! whatever the pilot; only its variance changes (module `variance` prints the breakdown).

use super::variance::kept_samples;
use crate::config::{ConfigError, TiConfig};
use crate::diffusion::windows::MIN_STEIN_SAMPLES;
use crate::estimators::quadrature::Quadrature;
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// Production steps per chain of every window, per particle number.
#[derive(Clone, Debug, Default)]
pub struct Allocation {
    /// N -> steps of window j (node order); N absent: every window `equal`.
    steps: BTreeMap<usize, Vec<usize>>,
    /// `[ti] window_steps`.
    equal: usize,
}

impl Allocation {
    /// Equal steps in every window (no pilot) or the pilot's allocation for every N of `ns`.
    pub fn new(ti: &TiConfig, q: Option<&Quadrature>, ns: &[usize]) -> Result<Self> {
        let equal = ti.window_steps;
        let (Some(q), false) = (q, ti.window_pilot.is_empty()) else {
            return Ok(Self { steps: BTreeMap::new(), equal });
        };
        let path = &ti.window_pilot;
        let file = open_pilot(Path::new(path))?;
        let stein = ti.window_stein_probes > 0;
        let floor = floor_steps(ti);
        let mut steps = BTreeMap::new();
        for &n in ns {
            let pilot = read_pilot(&file, Path::new(path), n, &q.nodes, stein)?;
            let s = neyman_steps(
                &q.weights,
                &smooth_log3(&pilot.spread),
                q.nodes.len() * ti.window_steps,
                floor,
                ti.window_stride,
            );
            log_allocation(n, path, &pilot, &q.weights, &s, ti);
            steps.insert(n, s);
        }
        Ok(Self { steps, equal })
    }

    /// Production steps per chain of window `j` at N = `n`.
    pub fn steps(&self, n: usize, j: usize) -> usize {
        self.steps.get(&n).map_or(self.equal, |s| s[j])
    }

    /// A line for the work items' fingerprint: a resumed run must allocate as the interrupted one.
    pub fn fingerprint(&self) -> String {
        format!("{:?}", self.steps)
    }
}

/// The smallest production of a window: a tenth of the equal share, at least two recorded samples
/// per chain and (with the control variate) [`MIN_STEIN_SAMPLES`] over the chains, rounded up to
/// a multiple of the stride, and at most the equal share.
fn floor_steps(ti: &TiConfig) -> usize {
    let stride = ti.window_stride.max(1);
    let per_chain = if ti.window_stein_probes > 0 { MIN_STEIN_SAMPLES.div_ceil(ti.window_chains.max(1)) } else { 2 };
    let f = (ti.window_steps / 10).max(per_chain.max(2) * stride);
    f.div_ceil(stride).saturating_mul(stride).min(ti.window_steps)
}

/// Neyman allocation with a floor: window j gets `floor` plus its share |w_j| a_j / sum_k |w_k| a_k
/// of the rest of `budget`, rounded down to a multiple of `stride` (so the total never exceeds
/// `budget`). Equal shares when every a_j is 0.
pub fn neyman_steps(weights: &[f64], spread: &[f64], budget: usize, floor: usize, stride: usize) -> Vec<usize> {
    let stride = stride.max(1);
    let score: Vec<f64> = weights.iter().zip(spread).map(|(w, a)| w.abs() * a).collect();
    let total: f64 = score.iter().sum();
    let free = budget.saturating_sub(weights.len() * floor) as f64;
    score
        .iter()
        .map(|s| {
            let extra = if total > 0.0 { free * s / total } else { free / weights.len() as f64 };
            floor + (extra / stride as f64).floor() as usize * stride
        })
        .collect()
}

/// Geometric mean of each value and its neighbours in node order (two values at the ends); a zero
/// makes its neighbourhood's mean zero.
pub fn smooth_log3(a: &[f64]) -> Vec<f64> {
    (0..a.len())
        .map(|j| {
            let nb = &a[j.saturating_sub(1)..(j + 2).min(a.len())];
            (nb.iter().map(|v| v.ln()).sum::<f64>() / nb.len() as f64).exp()
        })
        .collect()
}

/// What the pilot says about one N.
struct Pilot {
    /// Per-sample spread a_j = se_j sqrt(kept samples).
    spread: Vec<f64>,
    /// Whether the spreads are those of the Stein-controlled samples.
    stein: bool,
}

/// The error of a bad pilot file: names the key and the file.
fn bad_pilot(path: &Path, why: String) -> anyhow::Error {
    ConfigError::invalid("ti", "window_pilot", format!("\"{}\"", path.display()), why).into()
}

/// Opens the pilot file (an input error when it is missing or not HDF5).
fn open_pilot(path: &Path) -> Result<hdf5::File> {
    if !path.is_file() {
        return Err(bad_pilot(
            path,
            "an earlier nti ti results file (a pilot run of the same model and windows); the file does not exist \
             (or \"\" for equal steps in every window)"
                .into(),
        ));
    }
    hdf5::File::open(path).map_err(|e| bad_pilot(path, format!("an nti ti results file (HDF5): {e}")))
}

/// Reads the per-sample spreads of N = `n` from the pilot file `f` (at `path`); its nodes must be
/// this run's.
fn read_pilot(f: &hdf5::File, path: &Path, n: usize, nodes: &[f64], stein: bool) -> Result<Pilot> {
    let bad = |why: String| bad_pilot(path, why);
    let g = f.group(&format!("ti/N{n}/windows")).map_err(|_| {
        bad(format!(
            "an nti ti results file with corrected windows at N = {n} (this run's N); it has no /ti/N{n}/windows"
        ))
    })?;
    let col = |name: &str| -> Result<Vec<f64>> {
        g.dataset(name).and_then(|d| d.read_raw::<f64>()).map_err(|_| {
            bad(format!(
                "a /ti/N{n}/windows group with the column '{name}' (written by nti ti since the pilot \
                         allocation); it is missing or unreadable"
            ))
        })
    };
    let t = col("t")?;
    if t.len() != nodes.len() || t.iter().zip(nodes).any(|(a, b)| (a - b).abs() > 1e-9) {
        return Err(bad(format!(
            "a pilot at this run's {} window nodes (same [ti] windows and window_rule); its /ti/N{n}/windows has {} \
             nodes{}",
            nodes.len(),
            t.len(),
            if t.len() == nodes.len() { " at other times" } else { "" }
        )));
    }
    let (se, disc, rec) = (col("stderr")?, col("discarded_fraction")?, col("recorded_samples")?);
    let stein_se = if stein { col("stein_stderr")? } else { vec![f64::NAN; t.len()] };
    let use_stein = stein && stein_se.iter().all(|v| v.is_finite());
    let mut spread = Vec::with_capacity(t.len());
    for j in 0..t.len() {
        let kept = kept_samples(rec[j], disc[j]);
        let e = if use_stein { stein_se[j] } else { se[j] };
        if !(e.is_finite() && e >= 0.0 && kept > 0.0) {
            return Err(bad(format!(
                "finite window errors at N = {n}; window {j} (t = {:.4}) has stderr {e} from {kept} samples",
                t[j]
            )));
        }
        spread.push(e * kept.sqrt());
    }
    Ok(Pilot { spread, stein: use_stein })
}

/// Logs the allocation of N = `n` and the standard error the pilot's spreads predict for it and for
/// equal steps.
fn log_allocation(n: usize, path: &str, pilot: &Pilot, weights: &[f64], steps: &[usize], ti: &TiConfig) {
    let samples = |s: usize| (ti.window_chains * (s / ti.window_stride.max(1))) as f64;
    let predicted = |f: &dyn Fn(usize) -> usize| {
        let v: f64 = (0..steps.len()).map(|j| (weights[j] * pilot.spread[j]).powi(2) / samples(f(j)).max(1.0)).sum();
        v.sqrt()
    };
    let (equal, neyman) = (predicted(&|_| ti.window_steps), predicted(&|j| steps[j]));
    let list: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
    log::info!(
        "N = {n}: window production steps per chain by the pilot '{path}' (Neyman, n_j ~ |w_j| a_j of its {} samples): \
         [{}]; predicted stderr {neyman:.4} against {equal:.4} with {} steps in every window ({:.2}x less variance)",
        if pilot.stein { "Stein-controlled" } else { "plain" },
        list.join(", "),
        ti.window_steps,
        (equal / neyman).powi(2)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_weight_times_spread_above_the_floor_within_the_budget() {
        let (w, a) = ([0.1, 0.4, 0.4, 0.1], [1.0, 2.0, 0.5, 0.0]);
        let s = neyman_steps(&w, &a, 4 * 500, 50, 5);
        assert!(s.iter().sum::<usize>() <= 2000 && s.iter().sum::<usize>() > 2000 - 4 * 5, "{s:?}");
        assert!(s.iter().all(|v| v % 5 == 0 && *v >= 50), "{s:?}");
        // The rest, 1800 steps, in proportion 0.1 : 0.8 : 0.2 : 0.
        let want = [50.0 + 1800.0 / 11.0, 50.0 + 1800.0 * 8.0 / 11.0, 50.0 + 1800.0 * 2.0 / 11.0, 50.0];
        for (g, w) in s.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 5.0, "{s:?} against {want:?}");
        }
        // No spread anywhere: equal shares.
        assert_eq!(neyman_steps(&w, &[0.0; 4], 2000, 50, 5), vec![500; 4]);
    }

    #[test]
    fn smoothing_is_the_geometric_mean_of_the_neighbours() {
        let s = smooth_log3(&[1.0, 4.0, 16.0, 2.0]);
        let want = [2.0, 4.0, 128f64.cbrt(), 32f64.sqrt()];
        for (g, w) in s.iter().zip(want) {
            assert!((g - w).abs() < 1e-12 * w, "{s:?} against {want:?}");
        }
        assert!((smooth_log3(&[3.0])[0] - 3.0).abs() < 1e-12);
        assert_eq!(smooth_log3(&[0.0, 1.0, 1.0, 1.0])[..3], [0.0, 0.0, 1.0]);
    }

    #[test]
    fn the_floor_keeps_two_samples_per_chain_and_the_control_variates_minimum() {
        let mut ti = TiConfig { window_steps: 500, window_stride: 5, window_chains: 4, ..TiConfig::default() };
        assert_eq!(floor_steps(&ti), 50);
        ti.window_steps = 40;
        // MIN_STEIN_SAMPLES = 20 over 4 chains: 5 samples per chain, 25 steps; capped at the share.
        assert_eq!(floor_steps(&ti), 25);
        ti.window_stein_probes = 0;
        assert_eq!(floor_steps(&ti), 10);
        ti.window_steps = 12;
        ti.window_stein_probes = 4;
        assert_eq!(floor_steps(&ti), 12);
    }

    #[test]
    fn neyman_steps_minimise_the_predicted_variance() {
        // Against random other allocations of the same budget, Neyman's (floor 0, stride 1) is never
        // worse (by more than the rounding).
        let (w, a): ([f64; 4], [f64; 4]) = ([0.2, 0.3, 0.3, 0.2], [3.0, 1.0, 0.3, 0.1]);
        let var = |s: &[usize]| (0..4).map(|j| (w[j] * a[j]).powi(2) / s[j] as f64).sum::<f64>();
        let best = var(&neyman_steps(&w, &a, 4000, 0, 1));
        for k in 0..50u64 {
            let x = crate::rng::splitmix64(k);
            let cut = [(x % 1000) as usize + 1, ((x >> 10) % 1000) as usize + 1, ((x >> 20) % 1000) as usize + 1];
            let s = [cut[0], cut[1], cut[2], 4000 - cut.iter().sum::<usize>()];
            assert!(var(&s) >= best * (1.0 - 1e-3), "{s:?}: {} < {best}", var(&s));
        }
    }
}
