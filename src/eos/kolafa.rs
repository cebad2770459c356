//! Kolafa-Nezbeda equation of state of the full Lennard-Jones fluid:
//! J. Kolafa and I. Nezbeda, "The Lennard-Jones fluid: an accurate analytic and theoretically-based
//! equation of state", Fluid Phase Equilib. 100, 1-34 (1994) (the "LJEOS" of that paper).
//!
//! Reduced LJ units throughout (see [`crate::eos`]). The residual Helmholtz free energy per
//! particle, in units of epsilon, is
//!
//! ```text
//! A_res(rho, T) = A_HS(rho, T) + exp(-gamma rho^2) rho T dB2_hBH(T) + sum_ij C_ij T^(i/2) rho^j
//! A_HS   = T [ (5/3) ln(1 - eta) + eta (34 - 33 eta + 4 eta^2) / (6 (1 - eta)^2) ]
//! eta    = (pi / 6) rho d(T)^3
//! d(T)   = c_-2 / T + c_-1 / sqrt(T) + c_0 + c_1 sqrt(T) + c_ln ln T     (hybrid BH diameter)
//! dB2_hBH(T) = sum_i c_i T^(i/2)        (B2(T) = (2 pi / 3) d^3 + dB2_hBH)
//! ```
//!
//! so beta A_ex / N = A_res / T. The pressure is the analytic density derivative
//! P = rho T + rho^2 dA_res/drho:
//!
//! ```text
//! P    = rho [ T z_HS + T dB2_hBH rho exp(-gamma rho^2) (1 - 2 gamma rho^2) + sum_ij j C_ij T^(i/2) rho^j ]
//! z_HS = (1 + eta + eta^2 - (2/3) eta^3 (1 + eta)) / (1 - eta)^3
//! ```
//!
//! The internal energy per particle U = d(beta A_res)/d(beta) = -T^2 d(A_res/T)/dT is evaluated
//! **analytically** (term by term, including the temperature dependence of d(T) through eta):
//!
//! ```text
//! U = -3 T^2 eta f_HS'(eta) d'(T) / d(T) - T^2 rho exp(-gamma rho^2) dB2_hBH'(T)
//!     - sum_ij (i/2 - 1) C_ij T^(i/2) rho^j,        with eta f_HS'(eta) = z_HS - 1,
//! ```
//!
//! where f_HS = A_HS / T; the unit tests check it against a Richardson-extrapolated numerical
//! temperature derivative of beta A_res.
//!
//! The coefficients (gamma, d(T), dB2_hBH, C_ij) are read from the embedded file
//! `validation/reference/lj_eos_kolafa1994.toml`.

use std::sync::OnceLock;

use anyhow::{ensure, Context};
use serde::Deserialize;

use super::LjEos;

/// The embedded coefficient file.
const KN_TOML: &str = include_str!("../../validation/reference/lj_eos_kolafa1994.toml");

/// Coefficients of the hybrid Barker-Henderson diameter d(T).
#[derive(Debug, Clone, Copy, Deserialize)]
struct DiameterCoeffs {
    #[serde(rename = "inv_T")]
    inv_t: f64,
    #[serde(rename = "inv_sqrt_T")]
    inv_sqrt_t: f64,
    #[serde(rename = "const")]
    constant: f64,
    #[serde(rename = "sqrt_T")]
    sqrt_t: f64,
    #[serde(rename = "ln_T")]
    ln_t: f64,
}

/// One term c T^(i/2) of dB2_hBH(T).
#[derive(Debug, Clone, Copy, Deserialize)]
struct B2Term {
    i: i32,
    c: f64,
}

/// One term C_ij T^(i/2) rho^j of the polynomial part.
#[derive(Debug, Clone, Copy, Deserialize)]
struct CTerm {
    i: i32,
    j: i32,
    c: f64,
}

/// A check value (U and P at a state point) from the coefficient file.
#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(not(test), allow(dead_code))]
struct CheckValue {
    #[serde(rename = "T")]
    t: f64,
    rho: f64,
    #[serde(rename = "U")]
    u: f64,
    #[serde(rename = "P")]
    p: f64,
}

/// Layout of `lj_eos_kolafa1994.toml`.
#[derive(Debug, Deserialize)]
struct KnFile {
    gamma: f64,
    d_coeffs: DiameterCoeffs,
    #[serde(rename = "dB2")]
    db2: Vec<B2Term>,
    #[serde(rename = "C")]
    c: Vec<CTerm>,
    #[serde(default)]
    check: Vec<CheckValue>,
}

/// The Kolafa-Nezbeda (1994) equation of state of the full LJ fluid (see the module docs).
///
/// Obtain the instance with the published coefficients from [`kolafa_nezbeda`].
#[derive(Debug, Clone)]
pub struct Kolafa {
    gamma: f64,
    d: DiameterCoeffs,
    db2: Vec<B2Term>,
    c: Vec<CTerm>,
    #[cfg_attr(not(test), allow(dead_code))]
    checks: Vec<CheckValue>,
}

/// The Kolafa-Nezbeda (1994) EOS with the coefficients embedded from
/// `validation/reference/lj_eos_kolafa1994.toml`, parsed once on first use.
///
/// # Panics
/// Only if the embedded coefficient file is malformed (a build-time defect).
pub fn kolafa_nezbeda() -> &'static Kolafa {
    static EOS: OnceLock<Kolafa> = OnceLock::new();
    EOS.get_or_init(|| Kolafa::from_toml_str(KN_TOML).expect("embedded lj_eos_kolafa1994.toml is invalid"))
}

impl Kolafa {
    /// Parse a coefficient file with the layout of `lj_eos_kolafa1994.toml`.
    pub fn from_toml_str(text: &str) -> anyhow::Result<Self> {
        let f: KnFile = toml::from_str(text).context("parsing Kolafa-Nezbeda EOS coefficients")?;
        ensure!(f.gamma > 0.0, "Kolafa-Nezbeda EOS: gamma must be positive");
        ensure!(!f.db2.is_empty() && !f.c.is_empty(), "Kolafa-Nezbeda EOS: empty dB2 or C coefficient table");
        Ok(Self { gamma: f.gamma, d: f.d_coeffs, db2: f.db2, c: f.c, checks: f.check })
    }

    /// Hybrid Barker-Henderson hard-sphere diameter d(T) (units of sigma).
    pub fn hs_diameter(&self, t: f64) -> f64 {
        let s = t.sqrt();
        let d = &self.d;
        d.inv_t / t + d.inv_sqrt_t / s + d.constant + d.sqrt_t * s + d.ln_t * t.ln()
    }

    /// d d(T) / dT.
    fn hs_diameter_dt(&self, t: f64) -> f64 {
        let s = t.sqrt();
        let d = &self.d;
        -d.inv_t / (t * t) - 0.5 * d.inv_sqrt_t / (t * s) + 0.5 * d.sqrt_t / s + d.ln_t / t
    }

    /// Hard-sphere packing fraction eta = (pi/6) rho d(T)^3.
    pub fn packing_fraction(&self, rho: f64, t: f64) -> f64 {
        std::f64::consts::FRAC_PI_6 * rho * self.hs_diameter(t).powi(3)
    }

    /// dB2_hBH(T) = B2(T) - (2 pi / 3) d(T)^3 (units of sigma^3).
    pub fn delta_b2(&self, t: f64) -> f64 {
        let s = t.sqrt();
        self.db2.iter().map(|b| b.c * s.powi(b.i)).sum()
    }

    /// d dB2_hBH / dT.
    fn delta_b2_dt(&self, t: f64) -> f64 {
        let s = t.sqrt();
        self.db2.iter().map(|b| b.c * 0.5 * f64::from(b.i) * s.powi(b.i) / t).sum()
    }

    /// Second virial coefficient implied by the EOS, B2(T) = (2 pi / 3) d^3 + dB2_hBH
    /// (units of sigma^3); the low-density limit of beta A_ex / (N rho).
    pub fn second_virial(&self, t: f64) -> f64 {
        2.0 * std::f64::consts::FRAC_PI_3 * self.hs_diameter(t).powi(3) + self.delta_b2(t)
    }

    /// Residual Helmholtz free energy per particle A_res / N in units of epsilon.
    pub fn a_res(&self, rho: f64, t: f64) -> f64 {
        let eta = self.packing_fraction(rho, t);
        let a_hs = t * hs_free_energy(eta);
        let a_b2 = (-self.gamma * rho * rho).exp() * rho * t * self.delta_b2(t);
        let s = t.sqrt();
        let poly: f64 = self.c.iter().map(|c| c.c * s.powi(c.i) * rho.powi(c.j)).sum();
        a_hs + a_b2 + poly
    }
}

/// Hard-sphere free energy per particle in units of kT (Kolafa-Nezbeda form),
/// f_HS(eta) = (5/3) ln(1 - eta) + eta (34 - 33 eta + 4 eta^2) / (6 (1 - eta)^2).
fn hs_free_energy(eta: f64) -> f64 {
    let one_m = 1.0 - eta;
    5.0 / 3.0 * (-eta).ln_1p() + eta * (34.0 - 33.0 * eta + 4.0 * eta * eta) / (6.0 * one_m * one_m)
}

/// Hard-sphere compressibility factor consistent with [`hs_free_energy`],
/// z_HS = 1 + eta f_HS'(eta) = (1 + eta + eta^2 - (2/3) eta^3 (1 + eta)) / (1 - eta)^3.
fn hs_compressibility(eta: f64) -> f64 {
    let one_m = 1.0 - eta;
    (1.0 + eta + eta * eta - 2.0 / 3.0 * eta.powi(3) * (1.0 + eta)) / one_m.powi(3)
}

impl LjEos for Kolafa {
    fn name(&self) -> &'static str {
        "Kolafa-Nezbeda (Fluid Phase Equilib. 100, 1 (1994))"
    }

    fn beta_a_ex(&self, rho: f64, t: f64) -> f64 {
        self.a_res(rho, t) / t
    }

    fn pressure(&self, rho: f64, t: f64) -> f64 {
        let eta = self.packing_fraction(rho, t);
        let g_rho2 = self.gamma * rho * rho;
        let b2 = t * self.delta_b2(t) * rho * (-g_rho2).exp() * (1.0 - 2.0 * g_rho2);
        let s = t.sqrt();
        let poly: f64 = self.c.iter().map(|c| f64::from(c.j) * c.c * s.powi(c.i) * rho.powi(c.j)).sum();
        rho * (t * hs_compressibility(eta) + b2 + poly)
    }

    fn energy_per_particle(&self, rho: f64, t: f64) -> f64 {
        // U = -T^2 d(A_res / T)/dT, term by term.
        let eta = self.packing_fraction(rho, t);
        // d f_HS / dT = f_HS'(eta) * 3 eta d'/d = 3 (z_HS - 1) d'/d
        let u_hs = -3.0 * t * t * (hs_compressibility(eta) - 1.0) * self.hs_diameter_dt(t) / self.hs_diameter(t);
        let u_b2 = -t * t * rho * (-self.gamma * rho * rho).exp() * self.delta_b2_dt(t);
        let s = t.sqrt();
        let u_poly: f64 =
            self.c.iter().map(|c| -(0.5 * f64::from(c.i) - 1.0) * c.c * s.powi(c.i) * rho.powi(c.j)).sum();
        u_hs + u_b2 + u_poly
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The thermodynamic consistency tests shared with Johnson-Zollweg-Gubbins are in crate::eos (tests).

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// The check values come from the widely circulated (SklogWiki) Fortran implementation, whose
    /// literal constants are default (single-precision) REALs, so they carry ~1e-7 relative
    /// rounding of every coefficient. Evaluated in double precision with the published
    /// coefficients, U agrees to < 3e-7 relative and P to < 1.1e-6 in the compressibility factor
    /// Z = P / (rho T) (P itself is a small difference of large terms at rho = 0.4, T = 1.3, where
    /// the relative deviation in P is 5e-6).
    #[test]
    fn reproduces_check_values() {
        let eos = kolafa_nezbeda();
        assert_eq!(eos.checks.len(), 2);
        for c in &eos.checks {
            let u = eos.energy_per_particle(c.rho, c.t);
            let p = eos.pressure(c.rho, c.t);
            assert!(rel(u, c.u) < 2e-6, "U({}, {}) = {u} vs {}", c.rho, c.t, c.u);
            let dz = (p - c.p).abs() / (c.rho * c.t);
            assert!(dz < 2e-6, "P({}, {}) = {p} vs {}", c.rho, c.t, c.p);
        }
    }
}
