//! Samplers of the canonical ensemble exp(-beta U): Metropolis Monte Carlo, Langevin dynamics
//! (BAOAB) and velocity Verlet (NVE, for conservation checks); and chains on a model's ensemble
//! exp(-u(., t)) (MALA, HMC) for the corrected TI windows. A sampler owns its state and
//! advances it one step at a time; the replica driver (`crate::run::replica`) owns the loop.

pub mod chain;
pub mod hmc;
pub mod mala;
pub mod mc;
pub mod md;

pub use mc::MetropolisMc;
pub use md::{Integrator, MolecularDynamics};

use crate::energy::EnergyVirial;
use crate::rng::Stream;
use crate::state_buf::{StateReader, StateWriter};
use crate::system::Positions;

/// A Markov chain (or dynamics) that leaves exp(-U/T) invariant, stepped by the driver.
pub trait Sampler {
    /// Short name for logs and provenance.
    fn name(&self) -> &'static str;
    /// Advances one step: one MC sweep (N trial moves) or one MD time step.
    fn step(&mut self, rng: &mut Stream);
    /// Current positions wrapped into the box, shape (N, 3).
    fn positions(&self) -> Positions;
    /// Potential energy and virial of the current configuration (recomputed from scratch).
    fn energy_virial(&mut self) -> EnergyVirial;
    /// Adjusts tunable parameters during equilibration (MC step size); a no-op by default.
    fn adapt(&mut self) {}
    /// Acceptance ratio since the last call of `reset_counters` (MC), if defined.
    fn acceptance(&self) -> Option<f64> {
        None
    }
    /// Resets acceptance counters (at the start of production).
    fn reset_counters(&mut self) {}
    /// Kinetic energy per particle (MD), if defined.
    fn kinetic_energy_per_particle(&self) -> Option<f64> {
        None
    }
    /// Current MC maximum displacement, if defined.
    fn mc_step(&self) -> Option<f64> {
        None
    }
    /// Writes the state a restart needs to continue bitwise (not the random stream, which the
    /// driver owns).
    fn save(&self, w: &mut StateWriter);
    /// Continues from a state written by `save` of a sampler built with the same settings.
    fn restore(&mut self, r: &mut StateReader) -> anyhow::Result<()>;
}
