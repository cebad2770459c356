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
    ///
    /// The engine's tail constants are not built, and the per-particle tail (two quadratures)
    /// is kept per thread for the last (a, r_c, density): evaluations at one t (an integration
    /// grid point, a batch of equal t) reuse it. Same values, bit for bit, as
    /// `self.pair_energy(..).split_by_particle(..)`.
    pub fn split(&self, pairs: &PairList, simbox: &SimBox, a: f64) -> ParticleSplit {
        let pe =
            PairEnergy::without_tail_constants(SoftCore { a }, *simbox, self.cutoff.to_mode(), pairs.n_particles());
        let tail = match self.cutoff.rc {
            Some(rc) if self.cutoff.tail => Some(cached_tail([a, rc, pe.density()], || pe.tail_by_particle())),
            _ => None,
        };
        pe.split_with_tail(pairs, self.beta(), tail.flatten())
    }
}

/// The bits of (a, r_c, density) and the per-particle tail for them.
type TailEntry = ([u64; 3], Option<(f64, f64)>);

thread_local! {
    /// The last per-particle tail of [`Prior::split`] on this thread, keyed by the bits of
    /// (a, r_c, density).
    static LAST_TAIL: std::cell::Cell<Option<TailEntry>> = const { std::cell::Cell::new(None) };
}

/// `compute()` for `key`, or the value kept from the previous call with the same key.
fn cached_tail(key: [f64; 3], compute: impl FnOnce() -> Option<(f64, f64)>) -> Option<(f64, f64)> {
    let bits = key.map(f64::to_bits);
    if let Some((k, v)) = LAST_TAIL.with(|c| c.get()) {
        if k == bits {
            return v;
        }
    }
    let v = compute();
    LAST_TAIL.with(|c| c.set(Some((bits, v))));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use crate::system::Positions;
    use rand::RngExt;

    /// The cached-tail split equals the engine's split bit for bit, for every interaction mode,
    /// when a, the box or the particle count change between calls (a stale tail would differ)
    /// and when they repeat (cache hits).
    #[test]
    fn split_matches_the_engine_split_across_changing_and_repeated_keys() {
        let mut r = stream(8, Purpose::Init, 0);
        let modes = [
            PriorCutoff { rc: Some(2.5), shift: false, tail: true },
            PriorCutoff { rc: Some(2.5), shift: true, tail: false },
            PriorCutoff { rc: None, shift: false, tail: false },
        ];
        let cases = [(0.3, 6.0, 30), (0.3, 6.0, 30), (0.7, 6.0, 30), (0.7, 6.5, 30), (0.7, 6.5, 31), (0.3, 6.0, 30)];
        for cutoff in modes {
            let prior = Prior { temperature: 1.3, cutoff };
            for &(a, l, n) in &cases {
                let b = SimBox::new(l);
                let x: Positions = (0..n).map(|_| [0.0; 3].map(|_: f64| r.random::<f64>() * l)).collect();
                let pairs = PairList::new(&x, &b, prior.range());
                let want = prior.pair_energy(b, n, a).split_by_particle(&pairs, prior.beta());
                assert_eq!(prior.split(&pairs, &b, a), want, "{cutoff:?}, a = {a}, L = {l}, N = {n}");
            }
        }
    }
}
