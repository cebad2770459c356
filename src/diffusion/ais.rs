//! Annealed importance sampling / Jarzynski along the learned path (Neal, Stat. Comput. 11, 125
//! (2001); Jarzynski, PRL 78, 2690 (1997)): start from the t = 1 prior, and for the schedule
//! 1 = tau_0 > tau_1 > ... > tau_K = 0 alternate the energy switch W += u(x, tau_k) - u(x, tau_{k-1})
//! with MALA steps that leave exp(-u(., tau_k)) invariant. Then Z_0 / Z_1 = E[exp(-W)] exactly,
//! whatever the model's quality; ln(Z_0/Z_1) = ln mean exp(-W) with a delta-method error and the
//! effective sample size ESS = (sum w)^2 / sum w^2 of the weights w = exp(-W).

use super::reverse::prior_sample;
use crate::model::EnergyModel;
use crate::rng::{stream, Purpose};
use crate::sampling::mala::MalaChain;

/// Work values of a set of AIS chains.
#[derive(Clone, Debug, Default)]
pub struct AisRun {
    /// Work W_i of each chain (kT), in chain order.
    pub work: Vec<f64>,
    /// Mean MALA acceptance of each chain.
    pub acceptance: Vec<f64>,
}

impl AisRun {
    /// ln(Z_0 / Z_1) = ln mean exp(-W), its standard error (delta method) and the ESS.
    pub fn estimate(&self) -> (f64, f64, f64) {
        let m = self.work.len() as f64;
        let a = self.work.iter().map(|w| -w).fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = self.work.iter().map(|x| (-x - a).exp()).collect();
        let mean = w.iter().sum::<f64>() / m;
        let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0);
        let ess = w.iter().sum::<f64>().powi(2) / w.iter().map(|v| v * v).sum::<f64>();
        (a + mean.ln(), (var / m).sqrt() / mean, ess)
    }
}

/// Settings of AIS chains: the space, the switching schedule, the MALA steps and the streams.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AisSettings {
    /// Dimension of a configuration (3 N for particles).
    pub dim: usize,
    /// Box side (1 for the exact-answer systems).
    pub side: f64,
    /// Energy switches on the uniform schedule tau_k = 1 - k / switches.
    pub switches: usize,
    /// MALA steps after each switch.
    pub mala_steps: usize,
    /// MALA step size eps.
    pub eps: f64,
    /// Seed of the streams (seed, Ais, i) of chain i.
    pub seed: u64,
}

/// Runs chains `first..first + count` with the settings `s`.
pub fn ais<M: EnergyModel + ?Sized>(model: &M, s: &AisSettings, first: u64, count: usize) -> AisRun {
    let (dim, side, n_switch, mala_steps, eps, seed) = (s.dim, s.side, s.switches, s.mala_steps, s.eps, s.seed);
    let mut run = AisRun::default();
    for i in 0..count as u64 {
        let mut rng = stream(seed, Purpose::Ais, first + i);
        let c = prior_sample(model, dim, side, &mut rng);
        let mut chain = MalaChain::new(model, c, 1.0, eps);
        let mut w = 0.0;
        for k in 1..=n_switch {
            let t = 1.0 - k as f64 / n_switch as f64;
            let u_old = chain.u;
            chain.set_time(model, t);
            w += chain.u - u_old;
            for _ in 0..mala_steps {
                chain.step(model, &mut rng);
            }
        }
        run.work.push(w);
        run.acceptance.push(chain.acceptance());
    }
    run
}
