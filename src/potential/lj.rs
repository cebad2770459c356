//! Lennard-Jones 12-6 potential u(r) = 4 (r^-12 - r^-6) in reduced units.

use super::PairPotential;

/// Full (untruncated) Lennard-Jones pair potential, epsilon = sigma = 1.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LennardJones;

impl PairPotential for LennardJones {
    #[inline(always)]
    fn energy(&self, r2: f64) -> f64 {
        let s6 = 1.0 / (r2 * r2 * r2);
        4.0 * s6 * (s6 - 1.0)
    }

    /// f/r = (48 r^-14 - 24 r^-8).
    #[inline(always)]
    fn energy_force(&self, r2: f64) -> (f64, f64) {
        let inv2 = 1.0 / r2;
        let s6 = inv2 * inv2 * inv2;
        (4.0 * s6 * (s6 - 1.0), 24.0 * s6 * (2.0 * s6 - 1.0) * inv2)
    }

    /// Closed form: I_u = 16 pi (rc^-9 / 9 - rc^-3 / 3), I_w = 4 pi (8 rc^-3 - (16/3) rc^-9).
    fn tail_integrals(&self, rc: f64) -> (f64, f64) {
        let pi = std::f64::consts::PI;
        let r3 = rc.powi(-3);
        let r9 = r3 * r3 * r3;
        (16.0 * pi * (r9 / 9.0 - r3 / 3.0), 4.0 * pi * (8.0 * r3 - 16.0 / 3.0 * r9))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{fd, numeric_tail_integrals};

    #[test]
    fn minimum_is_minus_one_with_zero_force() {
        let rmin = 2f64.powf(1.0 / 6.0);
        let (u, f) = LennardJones.energy_force(rmin * rmin);
        assert!((u + 1.0).abs() < 1e-14, "u(2^1/6) = {u}");
        assert!(f.abs() < 1e-13, "f(2^1/6) = {f}");
        assert_eq!(LennardJones.energy(1.0), 0.0);
    }

    #[test]
    fn force_is_minus_gradient() {
        for r in [0.85, 0.95, 1.0, 1.12, 1.5, 2.0, 2.49, 3.0, 4.5] {
            let e = fd::force_rel_error(&LennardJones, r);
            assert!(e < 1e-7, "r = {r}: rel. error {e}");
        }
    }

    #[test]
    fn closed_form_tail_equals_numeric_integral() {
        for rc in [2.0, 2.5, 3.0, 4.0] {
            let (au, aw) = LennardJones.tail_integrals(rc);
            let (nu, nw) = numeric_tail_integrals(&LennardJones, rc);
            assert!((au - nu).abs() < 1e-10 * au.abs(), "I_u rc={rc}: {au} vs {nu}");
            assert!((aw - nw).abs() < 1e-10 * aw.abs(), "I_w rc={rc}: {aw} vs {nw}");
        }
    }
}
