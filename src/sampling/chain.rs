//! Markov chains on a model's ensemble exp(-u(y, t)) at a fixed diffusion time t: the pluggable
//! sampler of the Metropolis-corrected TI windows (crate::diffusion::windows). Implemented by MALA
//! (crate::sampling::mala) and HMC (crate::sampling::hmc); both leave exp(-u(., t)) invariant
//! exactly, and both carry u and grad u of the current configuration.

use crate::model::{Conf, EnergyModel};
use crate::rng::Stream;
use crate::state_buf::{StateReader, StateWriter};
use serde::{Deserialize, Serialize};

/// A Metropolis-corrected chain on exp(-u(., t)) of a model `M`.
pub trait ModelChain<M: EnergyModel + ?Sized>: ChainState {
    /// One proposal and its Metropolis test; returns whether it was accepted.
    fn step(&mut self, model: &M, rng: &mut Stream) -> bool;
}

/// The model-independent state of a chain: configuration, gradient, counters, and a step-size
/// parameter eps (the MALA step, fractional coordinates squared) that the warm-up adapts.
pub trait ChainState {
    /// (proposals made, proposals accepted) since the last reset.
    fn counters(&mut self) -> (&mut u64, &mut u64);
    /// The step-size parameter eps.
    fn eps_mut(&mut self) -> &mut f64;
    /// Current configuration.
    fn conf(&self) -> &Conf;
    /// grad u at the current configuration, length = conf().y.len().
    fn grad(&self) -> &[f64];
    /// Writes the state a restart needs to continue bitwise: configuration, u, grad u, eps and
    /// the counters (not the random stream, which the caller owns).
    fn save(&self, w: &mut StateWriter);
    /// Continues from a state written by `save` of a chain of the same model, time and dimension.
    fn restore(&mut self, r: &mut StateReader) -> anyhow::Result<()>;

    /// Acceptance ratio since the last reset (NaN before any proposal).
    fn acceptance(&mut self) -> f64 {
        let (a, b) = self.counters();
        if *a == 0 {
            f64::NAN
        } else {
            *b as f64 / *a as f64
        }
    }
    /// Resets the acceptance counters.
    fn reset_counters(&mut self) {
        let (a, b) = self.counters();
        *a = 0;
        *b = 0;
    }
    /// Scales eps towards a target acceptance by (acceptance / target)^2, clamped to [0.25, 2.25]
    /// (used during warm-up only), and resets the counters.
    fn adapt(&mut self, target: f64) {
        let acc = self.acceptance();
        if acc.is_finite() {
            let f = (acc / target).clamp(0.5, 1.5);
            *self.eps_mut() *= f * f;
        }
        self.reset_counters();
    }
    /// Current eps.
    fn eps(&mut self) -> f64 {
        *self.eps_mut()
    }
}

/// Writes a chain's point and numbers (the shared layout of MALA and HMC states).
pub(crate) fn save_point(w: &mut StateWriter, conf: &Conf, u: f64, grad: &[f64], eps: f64, counts: (u64, u64)) {
    w.f64s(&conf.y).f64(conf.side).f64(u).f64s(grad).f64(eps).u64(counts.0).u64(counts.1);
}

/// A chain's point and numbers as [`save_point`] wrote them.
pub(crate) struct SavedPoint {
    pub conf: Conf,
    pub u: f64,
    pub grad: Vec<f64>,
    pub eps: f64,
    pub attempted: u64,
    pub accepted: u64,
}

/// Reads what [`save_point`] wrote, checking the dimension against `dim`.
pub(crate) fn read_point(r: &mut StateReader, dim: usize) -> anyhow::Result<SavedPoint> {
    let y = r.f64s()?;
    let side = r.f64()?;
    let u = r.f64()?;
    let grad = r.f64s()?;
    if y.len() != dim || grad.len() != dim {
        anyhow::bail!("saved chain has dimension {}, this one {dim}", y.len());
    }
    let eps = r.f64()?;
    let (attempted, accepted) = (r.u64()?, r.u64()?);
    Ok(SavedPoint { conf: Conf { y, side }, u, grad, eps, attempted, accepted })
}

/// Which chain the corrected windows run (`[ti] window_sampler`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainKind {
    /// Metropolis-adjusted Langevin: one gradient evaluation per step.
    #[default]
    Mala,
    /// Hamiltonian Monte Carlo: `hmc_leapfrog` gradient evaluations per step.
    Hmc,
}

impl ChainKind {
    /// The name used in input files and in the names of the corrected estimates ("mala", "hmc").
    pub fn name(self) -> &'static str {
        match self {
            ChainKind::Mala => "mala",
            ChainKind::Hmc => "hmc",
        }
    }
}

/// Builds a chain of `kind` at time `t` from `conf` (`leapfrog` is used by HMC only).
pub fn new_chain<M: EnergyModel + ?Sized>(
    kind: ChainKind,
    model: &M,
    conf: Conf,
    t: f64,
    eps: f64,
    leapfrog: usize,
) -> Box<dyn ModelChain<M>> {
    match kind {
        ChainKind::Mala => Box::new(super::mala::MalaChain::new(model, conf, t, eps)),
        ChainKind::Hmc => Box::new(super::hmc::HmcChain::new(model, conf, t, eps, leapfrog)),
    }
}
