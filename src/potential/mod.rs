//! Pair potentials: what an interaction *is* (energy and force of one pair), kept apart from
//! how sums over pairs are evaluated (`crate::energy`).

pub mod lj;
pub mod softcore;
pub mod tail;
pub mod truncated;

pub use lj::LennardJones;
pub use softcore::{LambdaScaled, SoftCore};
pub use tail::TailCorrection;
pub use truncated::Truncated;

/// A spherically symmetric pair potential u(r) in reduced units (energy in epsilon, r in sigma).
pub trait PairPotential: Clone + Send + Sync {
    /// Pair energy u(r), given r^2.
    fn energy(&self, r2: f64) -> f64;

    /// Pair energy and the force factor f(r)/r = -u'(r)/r, given r^2. The force on particle i
    /// from j is (f/r) * (x_i - x_j); the pair virial is (f/r) * r^2.
    fn energy_force(&self, r2: f64) -> (f64, f64);

    /// Tail integrals beyond `rc`: (I_u, I_w) with I_u = int_rc^inf 4 pi r^2 u(r) dr and
    /// I_w = int_rc^inf 4 pi r^2 r u'(r) dr. The default integrates numerically (substitution
    /// r = rc / y and composite Simpson on y in (0, 1]); potentials with a closed form override it.
    fn tail_integrals(&self, rc: f64) -> (f64, f64) {
        numeric_tail_integrals(self, rc)
    }
}

/// A pair potential along an alchemical coupling parameter lambda (or soft-core parameter a).
pub trait Alchemical: PairPotential {
    /// d u(r; lambda) / d lambda at fixed r, given r^2.
    fn denergy_dlambda(&self, r2: f64) -> f64;
}

/// int_rc^inf 4 pi r^2 f(r^2) dr by the substitution r = rc / y and composite Simpson on y in (0, 1]
/// (f decaying at least as r^-4, so the integrand vanishes at y = 0).
pub fn numeric_tail_integral(f: impl Fn(f64) -> f64, rc: f64) -> f64 {
    let n = 2000;
    let h = 1.0 / n as f64;
    let four_pi = 4.0 * std::f64::consts::PI;
    let mut s = 0.0;
    for k in 1..=n {
        let y = k as f64 * h;
        let w = if k == n {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let r = rc / y;
        s += w * four_pi * r * r * rc / (y * y) * f(r * r);
    }
    s * h / 3.0
}

/// Composite Simpson evaluation of the tail integrals (see [`PairPotential::tail_integrals`]).
pub fn numeric_tail_integrals<P: PairPotential>(p: &P, rc: f64) -> (f64, f64) {
    let n = 2000; // even number of Simpson intervals
    let h = 1.0 / n as f64;
    let four_pi = 4.0 * std::f64::consts::PI;
    let integrand = |y: f64| -> (f64, f64) {
        if y <= 0.0 {
            return (0.0, 0.0);
        }
        let r = rc / y;
        let (u, f_over_r) = p.energy_force(r * r);
        // dr = rc / y^2 dy;  r u'(r) = -(f/r) r^2
        let jac = four_pi * r * r * rc / (y * y);
        (jac * u, jac * (-f_over_r * r * r))
    };
    let (mut su, mut sw) = (0.0, 0.0);
    for k in 0..=n {
        let w = if k == 0 || k == n {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let (a, b) = integrand(k as f64 * h);
        su += w * a;
        sw += w * b;
    }
    (su * h / 3.0, sw * h / 3.0)
}

/// How pairs interact across the periodic box (`[system] cutoff`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CutoffMode {
    /// Spherical cutoff r_c <= L/2, optionally shifted so u(r_c) = 0, optionally with the
    /// analytic long-range (tail) corrections of the unshifted potential.
    Spherical { rc: f64, shift: bool, tail: bool },
    /// Every pair at its minimum-image distance, no spherical cutoff (Neural TI paper setup).
    MinImage,
}

impl CutoffMode {
    /// The interaction range (infinite for min-image).
    pub fn range(&self) -> f64 {
        match *self {
            CutoffMode::Spherical { rc, .. } => rc,
            CutoffMode::MinImage => f64::INFINITY,
        }
    }
}

#[cfg(test)]
pub(crate) mod fd {
    //! Central finite-difference checks shared by the potential tests.
    use super::PairPotential;

    /// Error of f/r against -du/dr / r by central differences at distance r, relative to
    /// max(|f|, 1) (forces are O(1) in reduced units; near a zero crossing the absolute error counts).
    pub fn force_rel_error<P: PairPotential>(p: &P, r: f64) -> f64 {
        let h = 1e-5 * r;
        let up = p.energy((r + h) * (r + h));
        let um = p.energy((r - h) * (r - h));
        let fd = -(up - um) / (2.0 * h) / r;
        let (_, f) = p.energy_force(r * r);
        (f - fd).abs() / fd.abs().max(1.0)
    }
}
