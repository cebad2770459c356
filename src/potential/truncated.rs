//! Spherical truncation (and optional shift) of a pair potential.
//!
//! u_c(r) = u(r) - `[shift]` u(r_c) for r < r_c, 0 beyond.

use super::{Alchemical, PairPotential};

/// A pair potential truncated at `rc` (infinite `rc` means no truncation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Truncated<P> {
    /// The untruncated potential.
    pub inner: P,
    rc2: f64,
    shift: f64,
}

impl<P: PairPotential> Truncated<P> {
    /// Truncates `inner` at `rc`; with `shift`, subtracts u(rc) so that the energy is continuous.
    pub fn new(inner: P, rc: f64, shift: bool) -> Self {
        let rc2 = rc * rc;
        let shift = if shift && rc.is_finite() { inner.energy(rc2) } else { 0.0 };
        Self { inner, rc2, shift }
    }

    /// No truncation (min-image mode).
    pub fn untruncated(inner: P) -> Self {
        Self { inner, rc2: f64::INFINITY, shift: 0.0 }
    }

    /// Squared cutoff r_c^2.
    pub fn rc2(&self) -> f64 {
        self.rc2
    }
}

impl<P: PairPotential> PairPotential for Truncated<P> {
    #[inline(always)]
    fn energy(&self, r2: f64) -> f64 {
        if r2 < self.rc2 {
            self.inner.energy(r2) - self.shift
        } else {
            0.0
        }
    }

    #[inline(always)]
    fn energy_force(&self, r2: f64) -> (f64, f64) {
        // Evaluated for every pair and masked, which avoids a mispredicted branch per pair.
        let inside = (r2 < self.rc2) as u8 as f64;
        let (u, f) = self.inner.energy_force(r2);
        (inside * (u - self.shift), inside * f)
    }

    fn tail_integrals(&self, rc: f64) -> (f64, f64) {
        self.inner.tail_integrals(rc)
    }
}

impl<P: Alchemical> Alchemical for Truncated<P> {
    #[inline(always)]
    fn denergy_dlambda(&self, r2: f64) -> f64 {
        if r2 < self.rc2 {
            let s = if self.shift != 0.0 { self.inner.denergy_dlambda(self.rc2) } else { 0.0 };
            self.inner.denergy_dlambda(r2) - s
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{fd, LambdaScaled, LennardJones};

    #[test]
    fn cut_and_shifted_forces_are_minus_gradient() {
        for shift in [false, true] {
            let p = Truncated::new(LennardJones, 2.5, shift);
            for r in [0.9, 1.12, 1.8, 2.4, 2.49] {
                let e = fd::force_rel_error(&p, r);
                assert!(e < 1e-7, "shift={shift} r={r}: {e}");
            }
            assert_eq!(p.energy_force(2.5 * 2.5 + 1e-9), (0.0, 0.0));
        }
        let p = Truncated::new(LennardJones, 2.5, true);
        assert!(p.energy(2.5f64.powi(2) * (1.0 - 1e-12)).abs() < 1e-12);
        let p = Truncated::new(LambdaScaled { lambda: 0.4 }, 3.0, true);
        for r in [0.5, 1.0, 2.9] {
            assert!(fd::force_rel_error(&p, r) < 1e-7);
        }
    }
}
