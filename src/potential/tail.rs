//! Analytic long-range (tail) corrections for a spherical cutoff, assuming g(r) = 1 beyond r_c
//! (Allen & Tildesley, 2nd ed., sec. 2.8):
//!   u_tail / N = (rho / 2) I_u,   p_tail = -(rho^2 / 6) I_w,   mu_tail = rho I_u = 2 u_tail / N,
//! with I_u = int_rc^inf 4 pi r^2 u dr and I_w = int_rc^inf 4 pi r^3 u'(r) dr.
//! For LJ: u_tail/N = (8/3) pi rho [ rc^-9/3 - rc^-3 ], p_tail = (16/3) pi rho^2 [ (2/3) rc^-9 - rc^-3 ].

use super::PairPotential;

/// Tail corrections in energy units (multiply by beta for kT units).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TailCorrection {
    /// Energy per particle.
    pub energy_per_particle: f64,
    /// Pressure.
    pub pressure: f64,
    /// Chemical potential of an inserted particle.
    pub chemical_potential: f64,
}

impl TailCorrection {
    /// Corrections for `potential` cut at `rc` in a fluid of number density `rho`.
    pub fn new<P: PairPotential>(potential: &P, rc: f64, rho: f64) -> Self {
        let (iu, iw) = potential.tail_integrals(rc);
        Self { energy_per_particle: 0.5 * rho * iu, pressure: -rho * rho * iw / 6.0, chemical_potential: rho * iu }
    }

    /// No correction.
    pub fn none() -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::LennardJones;
    use std::f64::consts::PI;

    #[test]
    fn lj_tails_match_textbook_formulas() {
        let (rho, rc): (f64, f64) = (0.7, 3.0);
        let t = TailCorrection::new(&LennardJones, rc, rho);
        let u = 8.0 / 3.0 * PI * rho * (rc.powi(-9) / 3.0 - rc.powi(-3));
        let p = 16.0 / 3.0 * PI * rho * rho * (2.0 / 3.0 * rc.powi(-9) - rc.powi(-3));
        assert!((t.energy_per_particle - u).abs() < 1e-14);
        assert!((t.pressure - p).abs() < 1e-14);
        assert!((t.chemical_potential - 2.0 * u).abs() < 1e-14);
    }
}
