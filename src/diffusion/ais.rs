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

/// Runs chains `first..first + count` of dimension `dim` in a box of side `side` over the uniform
/// schedule of `n_switch` switches, with `mala_steps` MALA steps of size `eps` after each switch.
#[allow(clippy::too_many_arguments)]
pub fn ais<M: EnergyModel + ?Sized>(
    model: &M,
    dim: usize,
    side: f64,
    n_switch: usize,
    mala_steps: usize,
    eps: f64,
    first: u64,
    count: usize,
    seed: u64,
) -> AisRun {
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
