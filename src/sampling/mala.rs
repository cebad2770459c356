//! Metropolis-adjusted Langevin (MALA) on exp(-u(y, t)) at a fixed diffusion time t
//! (Roberts & Tweedie, Bernoulli 2, 341 (1996)): proposal y' = y - eps grad u(y) + sqrt(2 eps) xi,
//! accepted with probability min(1, exp(-u(y') + u(y) + ln q(y|y') - ln q(y'|y))),
//! ln q(b|a) = -|b - a + eps grad u(a)|^2 / (4 eps). On the torus (periodic schedules) coordinates are
//! wrapped and displacements taken at minimum image, which is exact while proposals move much less
//! than half the box; the step is capped to make sure of that ([`MAX_PERIODIC_EPS`]). The chain
//! leaves exp(-u(., t)) invariant whatever the model's quality, which is what makes
//! Metropolis-corrected TI windows and annealed importance sampling exact.

use crate::model::{Conf, EnergyModel};
use crate::rng::Stream;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// State of one MALA chain.
#[derive(Clone, Debug)]
pub struct MalaChain {
    /// Current configuration.
    pub conf: Conf,
    /// u at the current configuration.
    pub u: f64,
    /// grad u at the current configuration.
    pub grad: Vec<f64>,
    /// Step size eps (noise-coordinate units squared).
    pub eps: f64,
    /// Proposals made / accepted.
    pub attempted: u64,
    /// Accepted proposals.
    pub accepted: u64,
    /// Diffusion time of the target.
    pub t: f64,
}

/// Largest MALA step on the torus (fractional coordinates squared): the proposal's spread is then
/// sqrt(2 eps) = 0.05 box lengths, so the minimum-image displacement in ln q is the wrapped Gaussian
/// to exp(-50) (images at 10 spreads). Near t = 1, where u is nearly flat, the warm-up would
/// otherwise grow eps to box-sized moves for which ln q, and so detailed balance, is wrong
/// (tests/mala_lj.rs: `mala_stays_exact_near_t1_on_the_torus`). HMC needs no cap: its acceptance
/// involves no proposal density.
pub const MAX_PERIODIC_EPS: f64 = 1.25e-3;

fn wrap_delta(d: f64, periodic: bool) -> f64 {
    if periodic {
        d - d.round()
    } else {
        d
    }
}

impl MalaChain {
    /// A chain at time `t` starting from `conf`.
    pub fn new<M: EnergyModel + ?Sized>(model: &M, conf: Conf, t: f64, eps: f64) -> Self {
        let (u, grad) = model.energy_grad(&conf, t);
        Self { conf, u, grad, eps, attempted: 0, accepted: 0, t }
    }

    /// Moves the chain to time `t` (re-evaluating u and its gradient), as in annealing.
    pub fn set_time<M: EnergyModel + ?Sized>(&mut self, model: &M, t: f64) {
        let (u, grad) = model.energy_grad(&self.conf, t);
        self.u = u;
        self.grad = grad;
        self.t = t;
    }

    /// One MALA step; returns whether the proposal was accepted. On the torus eps is first capped
    /// at [`MAX_PERIODIC_EPS`].
    pub fn step<M: EnergyModel + ?Sized>(&mut self, model: &M, rng: &mut Stream) -> bool {
        let periodic = model.schedule().periodic();
        if periodic {
            self.eps = self.eps.min(MAX_PERIODIC_EPS);
        }
        let eps = self.eps;
        let s = (2.0 * eps).sqrt();
        let mut y = self.conf.y.clone();
        for (k, v) in y.iter_mut().enumerate() {
            let z: f64 = StandardNormal.sample(rng);
            *v += -eps * self.grad[k] + s * z;
            if periodic {
                *v -= v.floor();
            }
        }
        let prop = Conf { y, side: self.conf.side };
        let (u2, g2) = model.energy_grad(&prop, self.t);
        // ln q(x|x') - ln q(x'|x)
        let mut fwd = 0.0f64;
        let mut bwd = 0.0f64;
        for (((yn, yo), go), gn) in prop.y.iter().zip(&self.conf.y).zip(&self.grad).zip(&g2) {
            let d = wrap_delta(yn - yo, periodic);
            fwd += (d + eps * go).powi(2);
            bwd += (-d + eps * gn).powi(2);
        }
        let log_a = -(u2 - self.u) - bwd / (4.0 * eps) + fwd / (4.0 * eps);
        self.attempted += 1;
        let accept = log_a >= 0.0 || rng.random::<f64>() < log_a.exp();
        if accept {
            self.conf = prop;
            self.u = u2;
            self.grad = g2;
            self.accepted += 1;
        }
        accept
    }

    /// Acceptance ratio so far.
    pub fn acceptance(&self) -> f64 {
        if self.attempted == 0 {
            f64::NAN
        } else {
            self.accepted as f64 / self.attempted as f64
        }
    }
}

impl<M: EnergyModel + ?Sized> super::chain::ModelChain<M> for MalaChain {
    fn step(&mut self, model: &M, rng: &mut Stream) -> bool {
        MalaChain::step(self, model, rng)
    }
}

impl super::chain::ChainState for MalaChain {
    fn counters(&mut self) -> (&mut u64, &mut u64) {
        (&mut self.attempted, &mut self.accepted)
    }
    fn eps_mut(&mut self) -> &mut f64 {
        &mut self.eps
    }
    fn conf(&self) -> &Conf {
        &self.conf
    }
    fn grad(&self) -> &[f64] {
        &self.grad
    }
    fn save(&self, w: &mut crate::state_buf::StateWriter) {
        super::chain::save_point(w, &self.conf, self.u, &self.grad, self.eps, (self.attempted, self.accepted));
    }
    fn restore(&mut self, r: &mut crate::state_buf::StateReader) -> anyhow::Result<()> {
        let p = super::chain::read_point(r, self.conf.y.len())?;
        (self.conf, self.u, self.grad, self.eps) = (p.conf, p.u, p.grad, p.eps);
        (self.attempted, self.accepted) = (p.attempted, p.accepted);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::exact::Mixture1d;
    use crate::model::toy::ToyModel;
    use crate::rng::{stream, Purpose};
    use std::sync::Arc;

    #[test]
    fn mala_samples_the_mixture_at_t0_with_an_untrained_model() {
        // At t = 0 the toy energy is E_0 exactly, whatever the network. All chains start in the
        // minority mode (y = 2); only a chain that crosses the barrier with the right rates
        // reproduces P(y > 0) = 1/3 (chains are independent, so their spread gives the error bar).
        let m = ToyModel::new(Arc::new(Mixture1d), &[8], 2, &mut stream(1, Purpose::ModelInit, 0));
        let mut rng = stream(2, Purpose::Init, 0);
        let mut chains: Vec<MalaChain> =
            (0..64).map(|_| MalaChain::new(&m, Conf { y: vec![2.0], side: 1.0 }, 0.0, 0.5)).collect();
        let mut pos = Vec::new();
        for c in chains.iter_mut() {
            for _ in 0..500 {
                c.step(&m, &mut rng);
            }
            let mut s = 0.0;
            for _ in 0..4000 {
                c.step(&m, &mut rng);
                s += (c.conf.y[0] > 0.0) as u8 as f64;
            }
            pos.push(s / 4000.0);
        }
        let mean = pos.iter().sum::<f64>() / pos.len() as f64;
        let sd = (pos.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (pos.len() - 1) as f64).sqrt();
        let se = sd / (pos.len() as f64).sqrt();
        assert!((mean - 1.0 / 3.0).abs() < 3.5 * se, "P(y>0) = {mean} ± {se}");
        assert!(chains[0].acceptance() > 0.3);
    }
}
