//! The analytic term of the LJ model's energy (docs/design.md sec. 6): the soft-core LJ energy
//! beta U_soft(x; a) at soft-core parameter a = t, in the interaction mode of the t = 0 system
//! (cutoff, shift, tail correction), evaluated as a pair sum of [`crate::energy::PairEnergy`] over
//! the model's shared neighbour pairs. At a = 0 it is beta U_LJ (Beutler et al., Chem. Phys.
//! Lett. 222, 529 (1994) for the soft-core form).
//!
//! Units: energies in kT (beta = 1/T), gradients per sigma.

use crate::energy::{PairEnergy, ParticleSplit};
use crate::potential::{CutoffMode, SoftCore};
use crate::system::{PairList, SimBox};
use serde::{Deserialize, Serialize};

/// Interaction mode of the prior term (serialisable form of [`CutoffMode`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorCutoff {
    /// Spherical cutoff radius; `None` for min-image (all pairs).
    pub rc: Option<f64>,
    /// Shifted at rc.
    pub shift: bool,
    /// Tail correction included.
    pub tail: bool,
}

impl PriorCutoff {
    /// From the engine's mode.
    pub fn from_mode(m: CutoffMode) -> Self {
        match m {
            CutoffMode::Spherical { rc, shift, tail } => Self { rc: Some(rc), shift, tail },
            CutoffMode::MinImage => Self { rc: None, shift: false, tail: false },
        }
    }

    /// The engine's mode.
    pub fn to_mode(self) -> CutoffMode {
        match self.rc {
            Some(rc) => CutoffMode::Spherical { rc, shift: self.shift, tail: self.tail },
            None => CutoffMode::MinImage,
        }
    }
}

/// beta U_soft(x; a) at temperature T in the interaction mode `cutoff`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prior {
    /// Temperature T of the t = 0 system (epsilon / k_B).
    pub temperature: f64,
    /// Interaction mode.
    pub cutoff: PriorCutoff,
}

impl Prior {
    /// beta = 1 / T.
    pub fn beta(&self) -> f64 {
        1.0 / self.temperature
    }

    /// Range of the pair interactions (sigma; infinite for min-image: all pairs).
    pub fn range(&self) -> f64 {
        self.cutoff.to_mode().range()
    }

    /// The soft-core pair sum at a for `n` particles in `simbox` (epsilon units).
    pub fn pair_energy(&self, simbox: SimBox, n: usize, a: f64) -> PairEnergy<SoftCore> {
        PairEnergy::new(SoftCore { a }, simbox, self.cutoff.to_mode(), n)
    }

    /// beta U_soft per particle, its a-derivative per particle and its gradient, over the
    /// configuration's neighbour pairs (built to at least [`Self::range`]).
    pub fn split(&self, pairs: &PairList, simbox: &SimBox, a: f64) -> ParticleSplit {
        self.pair_energy(*simbox, pairs.n_particles(), a).split_by_particle(pairs, self.beta())
    }
}
