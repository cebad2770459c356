//! Hamiltonian Monte Carlo (HMC) on exp(-u(y, t)) at a fixed diffusion time t (Duane, Kennedy,
//! Pendleton & Roweth, Phys. Lett. B 195, 216 (1987); Neal, "MCMC using Hamiltonian dynamics",
//! Handbook of MCMC (2011)). Each proposal draws momenta p ~ N(0, I) (unit mass in the noise
//! coordinates y), integrates Hamilton's equations for H(y, p) = u(y, t) + |p|^2 / 2 with L leapfrog
//! steps of size h,
//!
//!   p <- p - (h/2) grad u(y);  y <- y + h p;  p <- p - (h/2) grad u(y)   (repeated L times),
//!
//! and accepts with probability min(1, exp(-(H(y', p') - H(y, p)))). The leapfrog map is
//! volume-preserving and reversible under p -> -p, so the chain leaves exp(-u(., t)) invariant
//! exactly, whatever the model. With L = 1 it is MALA with eps = h^2 / 2; with L > 1 a proposal
//! travels ballistically, about L h instead of sqrt(L) h for L MALA steps of the same cost, which
//! is what relaxes dense liquids (structural rearrangements need collective, persistent moves).
//!
//! The step is h = sqrt(2 eps), so `eps` has the meaning of the MALA step size and the same
//! warm-up adaptation applies. To avoid periodic orbits that return to the start (Mackenzie 1989),
//! every proposal scales h by a uniform factor in [0.8, 1.2] from the chain's stream. On the torus
//! (periodic schedules) coordinates are wrapped after every drift; u is periodic, so the map stays
//! exact.

use super::chain::{ChainState, ModelChain};
use crate::model::{Conf, EnergyModel};
use crate::rng::Stream;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// A point of the chain: configuration, u and grad u there.
#[derive(Clone, Debug)]
pub struct Point {
    /// Configuration.
    pub conf: Conf,
    /// u(conf, t).
    pub u: f64,
    /// grad u(conf, t), length = conf.y.len().
    pub grad: Vec<f64>,
}

/// State of one HMC chain.
#[derive(Clone, Debug)]
pub struct HmcChain {
    /// Current point.
    pub at: Point,
    /// Step-size parameter eps: the leapfrog step is h = sqrt(2 eps) (before the jitter).
    pub eps: f64,
    /// Leapfrog steps per proposal L (gradient evaluations per proposal).
    pub leapfrog: usize,
    /// Proposals made.
    pub attempted: u64,
    /// Accepted proposals.
    pub accepted: u64,
    /// Diffusion time of the target.
    pub t: f64,
}

/// Result of one leapfrog trajectory.
pub struct Trajectory {
    /// End point.
    pub end: Point,
    /// Momenta at the end.
    pub p: Vec<f64>,
    /// Energy error Delta H = H(end) - H(start).
    pub delta_h: f64,
}

/// Integrates `steps` leapfrog steps of size `h` at time `t` from `start` with momenta `p`.
pub fn leapfrog<M: EnergyModel + ?Sized>(
    model: &M,
    start: &Point,
    p: &[f64],
    h: f64,
    steps: usize,
    t: f64,
) -> Trajectory {
    let periodic = model.schedule().periodic();
    let side = start.conf.side;
    let h0 = start.u + 0.5 * p.iter().map(|v| v * v).sum::<f64>();
    let mut y = start.conf.y.clone();
    let mut p = p.to_vec();
    let mut g = start.grad.clone();
    let mut u = start.u;
    for _ in 0..steps {
        for ((pk, gk), yk) in p.iter_mut().zip(&g).zip(y.iter_mut()) {
            *pk -= 0.5 * h * gk;
            *yk += h * *pk;
            if periodic {
                *yk -= yk.floor();
            }
        }
        (u, g) = model.energy_grad(&Conf { y: y.clone(), side }, t);
        for (pk, gk) in p.iter_mut().zip(&g) {
            *pk -= 0.5 * h * gk;
        }
    }
    let h1 = u + 0.5 * p.iter().map(|v| v * v).sum::<f64>();
    Trajectory { end: Point { conf: Conf { y, side }, u, grad: g }, p, delta_h: h1 - h0 }
}

impl HmcChain {
    /// A chain at time `t` starting from `conf`, with `leapfrog` steps per proposal (at least 1).
    pub fn new<M: EnergyModel + ?Sized>(model: &M, conf: Conf, t: f64, eps: f64, leapfrog: usize) -> Self {
        let (u, grad) = model.energy_grad(&conf, t);
        Self { at: Point { conf, u, grad }, eps, leapfrog: leapfrog.max(1), attempted: 0, accepted: 0, t }
    }

    /// One HMC proposal (L gradient evaluations); returns whether it was accepted.
    pub fn propose<M: EnergyModel + ?Sized>(&mut self, model: &M, rng: &mut Stream) -> bool {
        let p: Vec<f64> = (0..self.at.conf.y.len()).map(|_| StandardNormal.sample(rng)).collect();
        let h = (2.0 * self.eps).sqrt() * (0.8 + 0.4 * rng.random::<f64>());
        let tr = leapfrog(model, &self.at, &p, h, self.leapfrog, self.t);
        self.attempted += 1;
        let accept = tr.delta_h.is_finite() && (tr.delta_h <= 0.0 || rng.random::<f64>() < (-tr.delta_h).exp());
        if accept {
            self.at = tr.end;
            self.accepted += 1;
        }
        accept
    }
}

impl<M: EnergyModel + ?Sized> ModelChain<M> for HmcChain {
    fn step(&mut self, model: &M, rng: &mut Stream) -> bool {
        self.propose(model, rng)
    }
}

impl ChainState for HmcChain {
    fn counters(&mut self) -> (&mut u64, &mut u64) {
        (&mut self.attempted, &mut self.accepted)
    }
    fn eps_mut(&mut self) -> &mut f64 {
        &mut self.eps
    }
    fn conf(&self) -> &Conf {
        &self.at.conf
    }
    fn grad(&self) -> &[f64] {
        &self.at.grad
    }
    fn save(&self, w: &mut crate::state_buf::StateWriter) {
        let a = &self.at;
        super::chain::save_point(w, &a.conf, a.u, &a.grad, self.eps, (self.attempted, self.accepted));
    }
    fn restore(&mut self, r: &mut crate::state_buf::StateReader) -> anyhow::Result<()> {
        let p = super::chain::read_point(r, self.at.conf.y.len())?;
        (self.at, self.eps) = (Point { conf: p.conf, u: p.u, grad: p.grad }, p.eps);
        (self.attempted, self.accepted) = (p.attempted, p.accepted);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::exact::{Gaussians, Mixture1d};
    use crate::model::toy::ToyModel;
    use crate::rng::{stream, Purpose};
    use std::sync::Arc;

    fn toy() -> ToyModel {
        ToyModel::new(Arc::new(Mixture1d), &[8], 2, &mut stream(1, Purpose::ModelInit, 0))
    }

    #[test]
    fn leapfrog_is_reversible_and_second_order() {
        // Reversibility: integrate, flip the momenta, integrate back: the start is recovered to
        // round-off. Second order: the energy error of a fixed trajectory length falls as h^2.
        let m = ToyModel::new(
            Arc::new(Gaussians { variances: vec![0.3, 0.7, 1.5] }),
            &[8],
            2,
            &mut stream(3, Purpose::ModelInit, 0),
        );
        let c = Conf { y: vec![0.4, -0.9, 1.3], side: 1.0 };
        let t = 0.37;
        let (u, grad) = m.energy_grad(&c, t);
        let start = Point { conf: c.clone(), u, grad };
        let p = vec![0.8, -0.2, 0.5];
        let fwd = leapfrog(&m, &start, &p, 0.05, 20, t);
        let back_p: Vec<f64> = fwd.p.iter().map(|v| -v).collect();
        let back = leapfrog(&m, &fwd.end, &back_p, 0.05, 20, t);
        for (a, b) in back.end.conf.y.iter().zip(&c.y) {
            assert!((a - b).abs() < 1e-12, "not reversible: {a} vs {b}");
        }
        assert!((back.delta_h + fwd.delta_h).abs() < 1e-12);
        let e1 = leapfrog(&m, &start, &p, 0.04, 25, t).delta_h.abs();
        let e2 = leapfrog(&m, &start, &p, 0.02, 50, t).delta_h.abs();
        let ratio = e1 / e2;
        assert!((ratio - 4.0).abs() < 0.4, "energy error ratio for h -> h/2 is {ratio}, expected 4");
    }

    #[test]
    fn hmc_samples_the_mixture_at_t0_with_an_untrained_model() {
        // At t = 0 the toy energy is E_0 exactly. All chains start in the minority mode (y = 2);
        // only a chain that crosses the barrier with the right rates gives P(y > 0) = 1/3.
        let m = toy();
        let mut rng = stream(2, Purpose::Init, 0);
        let mut pos = Vec::new();
        let mut acc = 0.0;
        for _ in 0..64 {
            let mut c = HmcChain::new(&m, Conf { y: vec![2.0], side: 1.0 }, 0.0, 0.05, 8);
            for _ in 0..200 {
                c.propose(&m, &mut rng);
            }
            let mut s = 0.0;
            for _ in 0..2000 {
                c.propose(&m, &mut rng);
                s += (c.at.conf.y[0] > 0.0) as u8 as f64;
            }
            pos.push(s / 2000.0);
            acc += c.accepted as f64 / c.attempted as f64 / 64.0;
        }
        let mean = pos.iter().sum::<f64>() / pos.len() as f64;
        let sd = (pos.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (pos.len() - 1) as f64).sqrt();
        let se = sd / (pos.len() as f64).sqrt();
        eprintln!("HMC: P(y > 0) = {mean:.4} ± {se:.4} (exact 1/3), acceptance {acc:.2}");
        assert!((mean - 1.0 / 3.0).abs() < 3.5 * se, "P(y>0) = {mean} ± {se}");
        assert!(acc > 0.5, "acceptance {acc}");
    }

    #[test]
    fn a_broken_acceptance_test_is_detected() {
        // Negative control for the test above: dropping the kinetic energy from H (a classic bug)
        // biases P(y > 0) far beyond the test's tolerance.
        let m = toy();
        let mut rng = stream(2, Purpose::Init, 0);
        let mut pos = Vec::new();
        for _ in 0..64 {
            let mut c = HmcChain::new(&m, Conf { y: vec![2.0], side: 1.0 }, 0.0, 0.05, 8);
            let mut s = 0.0;
            for k in 0..2200 {
                let p: Vec<f64> = vec![StandardNormal.sample(&mut rng)];
                let tr = leapfrog(&m, &c.at, &p, 0.3, 8, 0.0);
                let du = tr.end.u - c.at.u; // wrong: should be delta_h
                if du <= 0.0 || rng.random::<f64>() < (-du).exp() {
                    c.at = tr.end;
                }
                if k >= 200 {
                    s += (c.at.conf.y[0] > 0.0) as u8 as f64;
                }
            }
            pos.push(s / 2000.0);
        }
        let mean = pos.iter().sum::<f64>() / pos.len() as f64;
        let sd = (pos.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (pos.len() - 1) as f64).sqrt();
        let se = sd / (pos.len() as f64).sqrt();
        eprintln!("HMC without the kinetic energy: P(y > 0) = {mean:.4} ± {se:.4} (exact 1/3)");
        assert!((mean - 1.0 / 3.0).abs() > 3.5 * se, "the broken sampler was not detected: {mean} ± {se}");
    }
}
