//! Where the MALA chains of the corrected windows start (`[ti] window_start`, `window_data`).
//!
//! The Metropolis-corrected window at node t_j is exact for exp(-u(., t_j)) only once its chains have
//! forgotten their start. Warm starts from the reverse SDE inherit the sampler's errors: on dense
//! liquids its samples are under-structured and overlapping, and MALA (steps of ~0.01-0.02 sigma)
//! removes the overlaps in a few hundred steps but does not rebuild the liquid's structure. The
//! reference simulation itself offers a second start: its frames x_0 noised to t_j,
//! y = x_0 + sigma(t_j) z wrapped on the torus, are exact samples of the diffused data p_t, which the
//! model's own ensemble equals where the model is exact (and does, for every model, at t = 0).
//! With `window_start = "both"` even chains start from data and odd chains from the reverse SDE; the
//! disagreement of the two groups, z = (mean_data - mean_reverse) / sqrt(se_data^2 + se_reverse^2),
//! is a convergence check of the window that needs no reference value: chains that have forgotten
//! their start agree whatever the start.
//!
//! Frames: chain c of window j (of W windows with C chains) uses frame floor((j C + c) F / (W C)) of
//! the F frames of the file with this N (evenly spaced, so every chain of every window starts from a
//! different frame); its noise comes from the stream (seed, WindowStart, j 2^20 + c).

use crate::config::{ConfigError, WindowStart};
use crate::io::trajectories::{load_training_data, read_system};
use crate::model::ParticleModel;
use crate::model::{Conf, EnergyModel};
use crate::rng::{stream, Purpose};
use crate::train::trainer::noised_at;
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// Frames of the reference simulation per particle number (fractional coordinates).
#[derive(Clone, Debug, Default)]
pub struct DataStarts {
    frames: BTreeMap<usize, (String, Vec<Conf>)>,
}

impl DataStarts {
    /// Reads `paths` (nti sample results files with trajectories). Each must match the model's
    /// temperature and interaction mode and the box side of the run; two files with the same N are
    /// an error (which one would be meant?). Frames are read only for the particle numbers in
    /// `wanted` (every file is still checked).
    pub fn load(paths: &[String], model: &dyn ParticleModel, side: f64, wanted: &[usize]) -> Result<Self> {
        let mut frames = BTreeMap::new();
        for p in paths {
            let bad = |why: String| ConfigError::invalid("ti", "window_data", format!("\"{p}\""), why);
            if !Path::new(p).exists() {
                return Err(bad("an nti sample results file; the file does not exist".into()).into());
            }
            let (n, temp, l, cutoff) = read_system(Path::new(p)).map_err(|e| bad(format!("{e:#}")))?;
            let (mt, mc) = (model.temperature(), model.interactions());
            if (temp - mt).abs() > 1e-9 * mt || cutoff != mc {
                return Err(bad(format!(
                    "data of the model's physics (T = {mt}, {mc:?}); the file was sampled at T = {temp} with {cutoff:?}"
                ))
                .into());
            }
            if (l - side).abs() > 1e-9 * side {
                return Err(bad(format!("data in the run's box (side {side}); the file's box side is {l}")).into());
            }
            if let Some((other, _)) = frames.get(&n) {
                return Err(bad(format!("one file per particle number; '{other}' also has N = {n}")).into());
            }
            let confs = if wanted.contains(&n) {
                load_training_data(std::slice::from_ref(p)).map_err(|e| bad(format!("{e:#}")))?.confs
            } else {
                Vec::new()
            };
            frames.insert(n, (p.clone(), confs));
        }
        Ok(Self { frames })
    }

    /// The particle numbers with data (files for N that were not wanted included).
    pub fn sizes(&self) -> Vec<usize> {
        self.frames.keys().copied().collect()
    }

    /// Whether frames were read for `n` particles.
    pub fn has(&self, n: usize) -> bool {
        self.frames.get(&n).is_some_and(|(_, c)| !c.is_empty())
    }

    /// The start of chain `c` of window `j` of `grid` at time `t` for `n` particles: a data frame
    /// noised to t; `None` without data for this N.
    pub fn start<M: EnergyModel + ?Sized>(
        &self,
        model: &M,
        n: usize,
        t: f64,
        grid: &StartGrid,
        j: usize,
        c: usize,
    ) -> Option<Conf> {
        let StartGrid { windows, chains, seed } = *grid;
        let (_, confs) = self.frames.get(&n).filter(|(_, c)| !c.is_empty())?;
        let k = (j * chains + c) * confs.len() / (windows * chains).max(1);
        let mut rng = stream(seed, Purpose::WindowStart, ((j as u64) << 20) + c as u64);
        Some(noised_at(model, &confs[k.min(confs.len() - 1)], t, &mut rng).0)
    }
}

/// The windows and chains of one N whose starts [`DataStarts::start`] spreads over the frames, and
/// the seed of their noise.
#[derive(Clone, Copy, Debug)]
pub struct StartGrid {
    /// Number of windows W.
    pub windows: usize,
    /// Chains per window C.
    pub chains: usize,
    /// Seed of the streams (seed, WindowStart, j 2^20 + c).
    pub seed: u64,
}

/// Whether chain `c` starts from data under `mode` (when data exist for the N).
pub fn from_data(mode: WindowStart, c: usize) -> bool {
    match mode {
        WindowStart::ReverseSde => false,
        WindowStart::Data => true,
        WindowStart::Both => c % 2 == 0,
    }
}

/// z of the disagreement between the data-started and the reverse-SDE-started chains of a window,
/// from the chain means: (mean_d - mean_r) / sqrt(se_d^2 + se_r^2), each group's error the larger of
/// its chains' combined block error and the spread of its chain means. NaN unless both groups exist.
pub fn start_z(chain_means: &[f64], chain_stderrs: &[f64], data: &[bool]) -> f64 {
    let group = |want: bool| {
        let idx: Vec<usize> = (0..chain_means.len()).filter(|&i| data[i] == want).collect();
        let m = idx.len() as f64;
        if idx.is_empty() {
            return None;
        }
        let mean = idx.iter().map(|&i| chain_means[i]).sum::<f64>() / m;
        let within = idx.iter().map(|&i| chain_stderrs[i].powi(2)).sum::<f64>().sqrt() / m;
        let between = if idx.len() >= 2 {
            (idx.iter().map(|&i| (chain_means[i] - mean).powi(2)).sum::<f64>() / (m - 1.0) / m).sqrt()
        } else {
            0.0
        };
        Some((mean, within.max(between)))
    };
    match (group(true), group(false)) {
        (Some((md, sd)), Some((mr, sr))) => (md - mr) / (sd * sd + sr * sr).sqrt(),
        _ => f64::NAN,
    }
}
