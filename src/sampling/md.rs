//! Molecular dynamics with unit masses: velocity Verlet (NVE) and Langevin BAOAB (NVT).
//!
//! Velocity Verlet: B(dt/2) A(dt) B(dt/2) (Swope et al., J. Chem. Phys. 76, 637 (1982)).
//! BAOAB: B(dt/2) A(dt/2) O(dt) A(dt/2) B(dt/2), with the exact Ornstein-Uhlenbeck step
//! O: v <- c1 v + sqrt((1 - c1^2) T) xi, c1 = exp(-gamma dt)
//! (Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34; J. Chem. Phys. 138, 174102 (2013)).
//! Forces over a Verlet list with skin (or all pairs in min-image mode).

use super::Sampler;
use crate::energy::{EnergyVirial, PairEnergy};
use crate::potential::{CutoffMode, PairPotential};
use crate::rng::Stream;
use crate::state_buf::{StateReader, StateWriter};
use crate::system::{Positions, VerletList};
use rand_distr::{Distribution, StandardNormal};

/// Time integrator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Integrator {
    /// Velocity Verlet, microcanonical.
    VelocityVerlet {
        /// Time step.
        dt: f64,
    },
    /// Langevin dynamics, BAOAB splitting.
    Baoab {
        /// Time step.
        dt: f64,
        /// Friction gamma.
        gamma: f64,
        /// Bath temperature.
        temperature: f64,
    },
}

/// MD state. Positions are kept unwrapped between neighbour-list builds and wrapped at each build.
pub struct MolecularDynamics<P> {
    energy: PairEnergy<P>,
    x: Positions,
    v: Vec<[f64; 3]>,
    f: Vec<[f64; 3]>,
    list: Option<VerletList>,
    ev: EnergyVirial,
    integrator: Integrator,
    steps: u64,
}

/// Verlet-list skin (sigma), as in LAMMPS's `bench/in.lj`.
pub const SKIN: f64 = 0.3;

impl<P: PairPotential> MolecularDynamics<P> {
    /// Sets up MD from wrapped positions and velocities (unit masses).
    pub fn new(energy: PairEnergy<P>, x: Positions, v: Vec<[f64; 3]>, integrator: Integrator) -> Self {
        let list = match energy.mode {
            CutoffMode::Spherical { rc, .. } => Some(VerletList::new(&energy.simbox, &x, rc, SKIN)),
            CutoffMode::MinImage => None,
        };
        let n = x.len();
        let mut md =
            Self { energy, x, v, f: vec![[0.0; 3]; n], list, ev: EnergyVirial::default(), integrator, steps: 0 };
        md.compute_forces();
        md
    }

    /// Maxwell-Boltzmann velocities at temperature `t` with zero total momentum.
    pub fn maxwell_boltzmann(n: usize, t: f64, rng: &mut Stream) -> Vec<[f64; 3]> {
        let s = t.sqrt();
        let mut v: Vec<[f64; 3]> = (0..n)
            .map(|_| {
                let mut a = [0.0; 3];
                for c in &mut a {
                    let z: f64 = StandardNormal.sample(rng);
                    *c = s * z;
                }
                a
            })
            .collect();
        let mut p = [0.0; 3];
        for vi in &v {
            for k in 0..3 {
                p[k] += vi[k] / n as f64;
            }
        }
        for vi in &mut v {
            for k in 0..3 {
                vi[k] -= p[k];
            }
        }
        v
    }

    fn compute_forces(&mut self) {
        self.ev = match &mut self.list {
            Some(list) => {
                if list.needs_rebuild(&self.x) {
                    let b = self.energy.simbox;
                    for xi in &mut self.x {
                        *xi = b.wrap(xi);
                    }
                    list.rebuild(&b, &self.x, self.energy.range());
                }
                self.energy.forces(&self.x, list, &mut self.f)
            }
            None => self.energy.forces_all_pairs(&self.x, &mut self.f),
        };
    }

    #[inline]
    fn kick(&mut self, h: f64) {
        for (v, f) in self.v.iter_mut().zip(&self.f) {
            v[0] += h * f[0];
            v[1] += h * f[1];
            v[2] += h * f[2];
        }
    }

    #[inline]
    fn drift(&mut self, h: f64) {
        for (x, v) in self.x.iter_mut().zip(&self.v) {
            x[0] += h * v[0];
            x[1] += h * v[1];
            x[2] += h * v[2];
        }
    }

    /// Writes everything a restart needs to continue bitwise: positions (unwrapped since the last
    /// neighbour-list build), velocities, the positions of that build and the step count. Forces
    /// and the list are functions of these and are rebuilt by [`MolecularDynamics::restore_state`].
    pub fn save_state(&self, w: &mut StateWriter) {
        w.vec3s(&self.x).vec3s(&self.v);
        match &self.list {
            Some(l) => w.u64(1).vec3s(l.reference()),
            None => w.u64(0),
        };
        w.u64(self.steps);
    }

    /// Continues the dynamics saved by [`MolecularDynamics::save_state`]; `self` has the same energy and
    /// integrator (its own state is replaced).
    pub fn restore_state(&mut self, r: &mut StateReader) -> anyhow::Result<()> {
        let n = self.x.len();
        let (x, v) = (r.vec3s(n)?, r.vec3s(n)?);
        let has_list = r.u64()? == 1;
        if has_list != self.list.is_some() {
            anyhow::bail!(
                "saved dynamics {} a neighbour list, this run {}",
                if has_list { "has" } else { "has no" },
                if self.list.is_some() { "uses one" } else { "does not" }
            );
        }
        if let (true, CutoffMode::Spherical { rc, .. }) = (has_list, self.energy.mode) {
            let reference = r.vec3s(n)?;
            let list = VerletList::new(&self.energy.simbox, &reference, rc, SKIN);
            if list.needs_rebuild(&x) {
                anyhow::bail!("saved positions are beyond the skin of their neighbour list");
            }
            self.list = Some(list);
        }
        self.steps = r.u64()?;
        (self.x, self.v) = (x, v);
        self.compute_forces();
        Ok(())
    }

    /// Total kinetic energy sum v^2 / 2.
    pub fn kinetic_energy(&self) -> f64 {
        0.5 * self.v.iter().map(|v| v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sum::<f64>()
    }

    /// Potential energy from the last force evaluation.
    pub fn potential_energy(&self) -> f64 {
        self.ev.energy
    }

    /// Neighbour-list builds so far (0 without a list).
    pub fn list_builds(&self) -> u64 {
        self.list.as_ref().map_or(0, |l| l.builds())
    }

    /// Time steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

impl<P: PairPotential> Sampler for MolecularDynamics<P> {
    fn save(&self, w: &mut StateWriter) {
        self.save_state(w)
    }

    fn restore(&mut self, r: &mut StateReader) -> anyhow::Result<()> {
        self.restore_state(r)
    }

    fn name(&self) -> &'static str {
        match self.integrator {
            Integrator::VelocityVerlet { .. } => "velocity-verlet",
            Integrator::Baoab { .. } => "langevin-baoab",
        }
    }

    fn step(&mut self, rng: &mut Stream) {
        match self.integrator {
            Integrator::VelocityVerlet { dt } => {
                self.kick(0.5 * dt);
                self.drift(dt);
                self.compute_forces();
                self.kick(0.5 * dt);
            }
            Integrator::Baoab { dt, gamma, temperature } => {
                self.kick(0.5 * dt);
                self.drift(0.5 * dt);
                let c1 = (-gamma * dt).exp();
                let c2 = ((1.0 - c1 * c1) * temperature).sqrt();
                for v in &mut self.v {
                    for c in v.iter_mut() {
                        let z: f64 = StandardNormal.sample(rng);
                        *c = c1 * *c + c2 * z;
                    }
                }
                self.drift(0.5 * dt);
                self.compute_forces();
                self.kick(0.5 * dt);
            }
        }
        self.steps += 1;
    }

    fn positions(&self) -> Positions {
        let b = self.energy.simbox;
        self.x.iter().map(|x| b.wrap(x)).collect()
    }

    fn energy_virial(&mut self) -> EnergyVirial {
        self.ev
    }

    fn kinetic_energy_per_particle(&self) -> Option<f64> {
        Some(self.kinetic_energy() / self.x.len() as f64)
    }
}
