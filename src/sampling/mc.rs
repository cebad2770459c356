//! Metropolis Monte Carlo with single-particle displacement moves
//! (Metropolis et al., J. Chem. Phys. 21, 1087 (1953); Frenkel & Smit, 2nd ed., sec. 3.2).
//!
//! A trial move displaces a randomly chosen particle uniformly within a cube of half-side
//! `step`; it is accepted with probability min(1, exp(-beta dU)). The step is tuned towards a
//! target acceptance ratio during equilibration only (tuning during production would break
//! detailed balance).

use super::Sampler;
use crate::energy::{EnergyVirial, PairEnergy};
use crate::potential::PairPotential;
use crate::rng::Stream;
use crate::state_buf::{StateReader, StateWriter};
use crate::system::{CellList, Positions};
use rand::RngExt;

/// Metropolis MC state: positions, cell list, running energy and virial, step size.
pub struct MetropolisMc<P> {
    energy: PairEnergy<P>,
    x: Positions,
    cells: CellList,
    ev: EnergyVirial,
    beta: f64,
    step: f64,
    target: f64,
    attempted: u64,
    accepted: u64,
    window: (u64, u64),
}

impl<P: PairPotential> MetropolisMc<P> {
    /// Sets up MC at temperature `t` from wrapped positions `x`.
    pub fn new(energy: PairEnergy<P>, x: Positions, t: f64, step: f64, target_acceptance: f64) -> Self {
        let cells = energy.cell_list(&x);
        let ev = energy.total_with(&x, &cells);
        Self {
            energy,
            x,
            cells,
            ev,
            beta: 1.0 / t,
            step,
            target: target_acceptance,
            attempted: 0,
            accepted: 0,
            window: (0, 0),
        }
    }

    /// One trial move of particle `i`; returns whether it was accepted.
    #[inline]
    pub fn trial_move(&mut self, i: usize, rng: &mut Stream) -> bool {
        let old = self.x[i];
        let d = [
            self.step * (2.0 * rng.random::<f64>() - 1.0),
            self.step * (2.0 * rng.random::<f64>() - 1.0),
            self.step * (2.0 * rng.random::<f64>() - 1.0),
        ];
        let new = self.energy.simbox.wrap(&[old[0] + d[0], old[1] + d[1], old[2] + d[2]]);
        let (e_old, e_new) = self.energy.particle_move(&self.x, &self.cells, i, &old, &new);
        let du = e_new.energy - e_old.energy;
        self.attempted += 1;
        self.window.0 += 1;
        let accept = du <= 0.0 || rng.random::<f64>() < (-self.beta * du).exp();
        if accept {
            self.x[i] = new;
            self.cells.move_particle(i, &new);
            self.ev.energy += du;
            self.ev.virial += e_new.virial - e_old.virial;
            self.accepted += 1;
            self.window.1 += 1;
        }
        accept
    }

    /// Writes everything a restart needs to continue this chain bitwise: positions, the order of
    /// the cell list (the order of the energy sums), the running energy and virial, the step size
    /// and the acceptance counters.
    pub fn save_state(&self, w: &mut StateWriter) {
        w.vec3s(&self.x).u32s(&self.cells.order()).f64(self.ev.energy).f64(self.ev.virial).f64(self.step);
        w.u64(self.attempted).u64(self.accepted).u64(self.window.0).u64(self.window.1);
    }

    /// Continues the chain saved by [`MetropolisMc::save_state`]; `self` is a chain of the same energy,
    /// temperature and target (its own positions are replaced).
    pub fn restore_state(&mut self, r: &mut StateReader) -> anyhow::Result<()> {
        let x = r.vec3s(self.x.len())?;
        let mut cells = self.energy.cell_list(&x);
        cells.set_order(&r.u32s()?).map_err(anyhow::Error::msg)?;
        self.ev = EnergyVirial { energy: r.f64()?, virial: r.f64()? };
        self.step = r.f64()?;
        (self.attempted, self.accepted) = (r.u64()?, r.u64()?);
        self.window = (r.u64()?, r.u64()?);
        (self.x, self.cells) = (x, cells);
        Ok(())
    }

    /// The running (incrementally updated) energy and virial.
    pub fn running_energy_virial(&self) -> EnergyVirial {
        self.ev
    }
}

impl<P: PairPotential> Sampler for MetropolisMc<P> {
    fn save(&self, w: &mut StateWriter) {
        self.save_state(w)
    }

    fn restore(&mut self, r: &mut StateReader) -> anyhow::Result<()> {
        self.restore_state(r)
    }

    fn name(&self) -> &'static str {
        "metropolis-mc"
    }

    fn step(&mut self, rng: &mut Stream) {
        let n = self.x.len();
        for _ in 0..n {
            let i = rng.random_range(0..n);
            self.trial_move(i, rng);
        }
    }

    fn positions(&self) -> Positions {
        self.x.clone()
    }

    fn energy_virial(&mut self) -> EnergyVirial {
        // Recompute from scratch so round-off of the incremental sums never accumulates.
        self.ev = self.energy.total_with(&self.x, &self.cells);
        self.ev
    }

    /// Multiplies the step by (acceptance / target), clamped to [0.5, 1.5] per call and to
    /// at most L/2 overall, using the moves since the previous call.
    fn adapt(&mut self) {
        let (att, acc) = self.window;
        if att == 0 {
            return;
        }
        let ratio = acc as f64 / att as f64;
        let factor = (ratio / self.target).clamp(0.5, 1.5);
        self.step = (self.step * factor).min(0.5 * self.energy.simbox.side());
        self.window = (0, 0);
    }

    fn acceptance(&self) -> Option<f64> {
        (self.attempted > 0).then(|| self.accepted as f64 / self.attempted as f64)
    }

    fn reset_counters(&mut self) {
        self.attempted = 0;
        self.accepted = 0;
        self.window = (0, 0);
    }

    fn mc_step(&self) -> Option<f64> {
        Some(self.step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{CutoffMode, LennardJones};
    use crate::rng::{stream, Purpose};
    use crate::system::SimBox;

    /// Two LJ particles in a periodic box, min-image interaction: the distance r between them
    /// is distributed as p(r) ~ A(r) exp(-u(r)/T), where A(r) is the area of the sphere of radius r
    /// inside the cube (4 pi r^2 for r <= L/2). The histogram of r is compared with the exact
    /// distribution bin by bin with a chi-square test (fixed seed).
    #[test]
    fn two_particle_detailed_balance_matches_boltzmann() {
        let l = 3.0;
        let t = 1.5;
        let b = SimBox::new(l);
        let pe = PairEnergy::new(LennardJones, b, CutoffMode::MinImage, 2);
        let mut mc = MetropolisMc::new(pe.clone(), vec![[0.5, 0.5, 0.5], [2.0, 1.7, 1.4]], t, 0.6, 0.4);
        let mut rng = stream(11, Purpose::MonteCarlo, 0);
        let (rmin, rmax, nb) = (0.8, 1.5, 14); // r <= L/2: area 4 pi r^2 exactly
        let mut hist = vec![0u64; nb];
        let mut inside = 0u64;
        let n_samples = 100_000;
        let thin = 20; // sweeps between samples, so that samples are effectively independent
        for _ in 0..1000 {
            mc.step(&mut rng);
        }
        for _ in 0..n_samples {
            for _ in 0..thin {
                mc.step(&mut rng);
            }
            let x = mc.positions();
            let r = b.dist2(&x[0], &x[1]).sqrt();
            if (rmin..rmax).contains(&r) {
                hist[((r - rmin) / (rmax - rmin) * nb as f64) as usize] += 1;
                inside += 1;
            }
        }
        // Exact bin probabilities (conditional on rmin <= r < rmax) by fine quadrature.
        let w = |r: f64| r * r * (-LennardJones.energy(r * r) / t).exp();
        let mut p = vec![0.0; nb];
        let sub = 2000;
        for (k, pk) in p.iter_mut().enumerate() {
            let (a, c) =
                (rmin + (rmax - rmin) * k as f64 / nb as f64, rmin + (rmax - rmin) * (k + 1) as f64 / nb as f64);
            let h = (c - a) / sub as f64;
            *pk = (0..sub).map(|s| w(a + (s as f64 + 0.5) * h) * h).sum::<f64>();
        }
        let z: f64 = p.iter().sum();
        // Thinned samples are effectively independent; a chi-square
        // with nb - 1 degrees of freedom has mean 13 and sd 5.1; 99.9% quantile is about 34.5.
        let chi2: f64 = hist
            .iter()
            .zip(&p)
            .map(|(&o, &pk)| {
                let e = inside as f64 * pk / z;
                (o as f64 - e).powi(2) / e
            })
            .sum();
        assert!(chi2 < 34.5, "chi2 = {chi2} for {} dof; hist {hist:?}", nb - 1);
    }
}
