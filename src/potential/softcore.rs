//! Soft-core Lennard-Jones and its lambda-scaled form, used on alchemical paths.
//!
//! u_soft(r; a) = 4 [ s^6 - s^3 ],  s = 1 / (a + r^2)   (docs/design.md sec. 1; reduces to LJ at a = 0)
//! U_lambda(r)  = (1 - lambda) u_soft(r; lambda)        (lambda = 0 full LJ, lambda = 1 ideal gas)

use super::{Alchemical, PairPotential};

/// Soft-core LJ with softening parameter `a` >= 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftCore {
    /// Softening parameter a (length^2).
    pub a: f64,
}

impl PairPotential for SoftCore {
    #[inline(always)]
    fn energy(&self, r2: f64) -> f64 {
        let s = 1.0 / (self.a + r2);
        let s3 = s * s * s;
        4.0 * s3 * (s3 - 1.0)
    }

    /// du/dr = -8 r (6 s^7 - 3 s^4), so f/r = 48 s^7 - 24 s^4.
    #[inline(always)]
    fn energy_force(&self, r2: f64) -> (f64, f64) {
        let s = 1.0 / (self.a + r2);
        let s3 = s * s * s;
        (4.0 * s3 * (s3 - 1.0), 24.0 * s3 * s * (2.0 * s3 - 1.0))
    }
}

impl Alchemical for SoftCore {
    /// du/da = 4 (6 s^5 - 3 s^2) ds/da with ds/da = -s^2: du/da = -(24 s^7 - 12 s^4).
    #[inline(always)]
    fn denergy_dlambda(&self, r2: f64) -> f64 {
        let s = 1.0 / (self.a + r2);
        let s3 = s * s * s;
        -12.0 * s3 * s * (2.0 * s3 - 1.0)
    }
}

/// The lambda-path pair energy U_lambda(r) = (1 - lambda) u_soft(r; a = lambda).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LambdaScaled {
    /// Coupling parameter lambda in [0, 1].
    pub lambda: f64,
}

impl PairPotential for LambdaScaled {
    #[inline(always)]
    fn energy(&self, r2: f64) -> f64 {
        (1.0 - self.lambda) * SoftCore { a: self.lambda }.energy(r2)
    }

    #[inline(always)]
    fn energy_force(&self, r2: f64) -> (f64, f64) {
        let (u, f) = SoftCore { a: self.lambda }.energy_force(r2);
        let c = 1.0 - self.lambda;
        (c * u, c * f)
    }
}

impl Alchemical for LambdaScaled {
    /// dU/dlambda = -u_soft + (1 - lambda) du_soft/da.
    #[inline(always)]
    fn denergy_dlambda(&self, r2: f64) -> f64 {
        let sc = SoftCore { a: self.lambda };
        -sc.energy(r2) + (1.0 - self.lambda) * sc.denergy_dlambda(r2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{fd, LennardJones};

    #[test]
    fn soft_core_reduces_to_lj_at_zero() {
        for r2 in [0.8, 1.0, 1.3, 4.0] {
            let a = SoftCore { a: 0.0 }.energy_force(r2);
            let b = LennardJones.energy_force(r2);
            assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12);
        }
        assert_eq!(LambdaScaled { lambda: 1.0 }.energy(0.01), 0.0);
    }

    #[test]
    fn forces_are_minus_gradient() {
        for a in [0.0, 0.1, 0.5, 0.9] {
            for r in [0.3, 0.9, 1.1, 1.7, 2.6] {
                let e = fd::force_rel_error(&SoftCore { a }, r);
                assert!(e < 1e-7, "soft-core a={a} r={r}: {e}");
                let e = fd::force_rel_error(&LambdaScaled { lambda: a }, r);
                assert!(e < 1e-7, "lambda-scaled l={a} r={r}: {e}");
            }
        }
    }

    #[test]
    fn lambda_derivatives_match_central_differences() {
        for l in [0.05, 0.3, 0.5, 0.8] {
            for r in [0.3, 0.9, 1.1, 1.7, 2.6] {
                let r2: f64 = r * r;
                let h = 1e-5;
                let fd_sc = (SoftCore { a: l + h }.energy(r2) - SoftCore { a: l - h }.energy(r2)) / (2.0 * h);
                let an = SoftCore { a: l }.denergy_dlambda(r2);
                assert!((an - fd_sc).abs() < 1e-7 * fd_sc.abs().max(1.0), "soft-core {l} {r}: {an} {fd_sc}");
                let fd_l =
                    (LambdaScaled { lambda: l + h }.energy(r2) - LambdaScaled { lambda: l - h }.energy(r2)) / (2.0 * h);
                let an = LambdaScaled { lambda: l }.denergy_dlambda(r2);
                assert!((an - fd_l).abs() < 1e-7 * fd_l.abs().max(1.0), "lambda {l} {r}: {an} {fd_l}");
            }
        }
    }
}
