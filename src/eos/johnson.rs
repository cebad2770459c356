//! Johnson-Zollweg-Gubbins modified Benedict-Webb-Rubin (MBWR) equation of state of the full
//! Lennard-Jones fluid: J. K. Johnson, J. A. Zollweg and K. E. Gubbins, "The Lennard-Jones
//! equation of state revisited", Mol. Phys. 78, 591-618 (1993).
//!
//! Reduced LJ units throughout (see [`crate::eos`]). The excess Helmholtz free energy per
//! particle, in units of epsilon, is (JZG eq. (5) with Tables 5 and 10)
//!
//! ```text
//! a_ex(rho, T) = sum_{i=1..8} a_i(T) rho^i / i + sum_{i=1..6} b_i(T) G_i(rho)
//! P(rho, T)    = rho T + sum_{i=1..8} a_i(T) rho^(i+1) + F sum_{i=1..6} b_i(T) rho^(2i+1)
//! F   = exp(-gamma rho^2),  gamma = 3
//! G_1 = (1 - F) / (2 gamma),  G_i = -(F rho^(2(i-1)) - 2 (i-1) G_{i-1}) / (2 gamma)  (i >= 2)
//! a_1 = x1 T + x2 sqrt(T) + x3 + x4/T + x5/T^2      b_1 = x20/T^2 + x21/T^3
//! a_2 = x6 T + x7 + x8/T + x9/T^2                   b_2 = x22/T^2 + x23/T^4
//! a_3 = x10 T + x11 + x12/T                         b_3 = x24/T^2 + x25/T^3
//! a_4 = x13                                         b_4 = x26/T^2 + x27/T^4
//! a_5 = x14/T + x15/T^2                             b_5 = x28/T^2 + x29/T^3
//! a_6 = x16/T                                       b_6 = x30/T^2 + x31/T^3 + x32/T^4
//! a_7 = x17/T + x18/T^2
//! a_8 = x19/T^2
//! ```
//!
//! and beta A_ex / N = a_ex / T (the a_i G_i sum is in epsilon units; this reading reproduces the
//! file's check value beta a_ex(T = 1.35, rho = 0.6) = -1.237403479 to 1e-9, whereas a_ex itself
//! is -1.670).
//!
//! The internal energy per particle U = d(beta a_ex)/d(beta) is evaluated **analytically**: every
//! coefficient a_i, b_i is a sum of terms x T^p, and d(x T^(p-1))/d(beta) = (1 - p) x T^p, so
//!
//! ```text
//! U = sum_i c_i rho^i / i + sum_i d_i G_i,   c_i = sum (1 - p) x T^p over the terms of a_i,
//!                                            d_i = sum (1 - p) x T^p over the terms of b_i,
//! ```
//!
//! which is exactly JZG's Table 7 (e.g. c_1 = x2 sqrt(T)/2 + x3 + 2 x4/T + 3 x5/T^2). The unit
//! tests check it against a Richardson-extrapolated numerical beta-derivative of beta a_ex.
//!
//! The parameters gamma and x1..x32 are read from the embedded file
//! `validation/reference/lj_eos_johnson1993.toml`.

use std::sync::OnceLock;

use anyhow::{ensure, Context};
use serde::Deserialize;

use super::LjEos;

/// The embedded coefficient file.
const JZG_TOML: &str = include_str!("../../validation/reference/lj_eos_johnson1993.toml");

/// Number of MBWR parameters x1..x32.
const N_PARAMS: usize = 32;

/// Structure of a_1..a_8 (JZG Table 5): for each a_i the terms as (k, 2p), meaning x_k T^p
/// (x numbered from 1, exponent stored doubled so that sqrt(T) is representable).
const A_TERMS: [&[(usize, i32)]; 8] = [
    &[(1, 2), (2, 1), (3, 0), (4, -2), (5, -4)],
    &[(6, 2), (7, 0), (8, -2), (9, -4)],
    &[(10, 2), (11, 0), (12, -2)],
    &[(13, 0)],
    &[(14, -2), (15, -4)],
    &[(16, -2)],
    &[(17, -2), (18, -4)],
    &[(19, -4)],
];

/// Structure of b_1..b_6 (JZG Table 5), same encoding as [`A_TERMS`].
const B_TERMS: [&[(usize, i32)]; 6] = [
    &[(20, -4), (21, -6)],
    &[(22, -4), (23, -8)],
    &[(24, -4), (25, -6)],
    &[(26, -4), (27, -8)],
    &[(28, -4), (29, -6)],
    &[(30, -4), (31, -6), (32, -8)],
];

/// A check value (beta a_ex at a state point) from the coefficient file.
#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(not(test), allow(dead_code))]
struct CheckValue {
    #[serde(rename = "T")]
    t: f64,
    rho: f64,
    beta_a_ex: f64,
}

/// Layout of `lj_eos_johnson1993.toml`.
#[derive(Debug, Deserialize)]
struct JzgFile {
    gamma: f64,
    x: Vec<f64>,
    #[serde(default)]
    check: Vec<CheckValue>,
}

/// The Johnson-Zollweg-Gubbins (1993) MBWR equation of state of the full LJ fluid (see the
/// module docs).
///
/// Obtain the instance with the published parameters from [`johnson_zollweg_gubbins`].
#[derive(Debug, Clone)]
pub struct Johnson {
    gamma: f64,
    x: [f64; N_PARAMS],
    #[cfg_attr(not(test), allow(dead_code))]
    checks: Vec<CheckValue>,
}

/// The Johnson-Zollweg-Gubbins (1993) EOS with the parameters embedded from
/// `validation/reference/lj_eos_johnson1993.toml`, parsed once on first use.
///
/// # Panics
/// Only if the embedded coefficient file is malformed (a build-time defect).
pub fn johnson_zollweg_gubbins() -> &'static Johnson {
    static EOS: OnceLock<Johnson> = OnceLock::new();
    EOS.get_or_init(|| Johnson::from_toml_str(JZG_TOML).expect("embedded lj_eos_johnson1993.toml is invalid"))
}

impl Johnson {
    /// Parse a parameter file with the layout of `lj_eos_johnson1993.toml`.
    pub fn from_toml_str(text: &str) -> anyhow::Result<Self> {
        let f: JzgFile = toml::from_str(text).context("parsing Johnson-Zollweg-Gubbins EOS")?;
        ensure!(f.gamma > 0.0, "Johnson-Zollweg-Gubbins EOS: gamma must be positive");
        let n = f.x.len();
        let x: [f64; N_PARAMS] =
            f.x.try_into()
                .map_err(|_| anyhow::anyhow!("Johnson-Zollweg-Gubbins EOS: expected {N_PARAMS} parameters, got {n}"))?;
        Ok(Self { gamma: f.gamma, x, checks: f.check })
    }

    /// Evaluate sum_k w(p_k) x_k T^(p_k) over the given terms, with T^(p) = sqrt(T)^(2p).
    fn coeff(&self, terms: &[(usize, i32)], sqrt_t: f64, weight: impl Fn(i32) -> f64) -> f64 {
        terms.iter().map(|&(k, p2)| weight(p2) * self.x[k - 1] * sqrt_t.powi(p2)).sum()
    }

    /// The temperature coefficients a_1..a_8 (JZG Table 5).
    fn a_coeffs(&self, t: f64) -> [f64; 8] {
        let s = t.sqrt();
        A_TERMS.map(|terms| self.coeff(terms, s, |_| 1.0))
    }

    /// The temperature coefficients b_1..b_6 (JZG Table 5).
    fn b_coeffs(&self, t: f64) -> [f64; 6] {
        let s = t.sqrt();
        B_TERMS.map(|terms| self.coeff(terms, s, |_| 1.0))
    }

    /// The energy coefficients c_1..c_8 and d_1..d_6 (JZG Table 7), c_i = d(a_i/T)/d(beta).
    fn energy_coeffs(&self, t: f64) -> ([f64; 8], [f64; 6]) {
        let s = t.sqrt();
        let w = |p2: i32| 1.0 - 0.5 * f64::from(p2);
        (A_TERMS.map(|terms| self.coeff(terms, s, w)), B_TERMS.map(|terms| self.coeff(terms, s, w)))
    }

    /// The density functions G_1..G_6 (JZG Table 6) and F = exp(-gamma rho^2).
    fn g_functions(&self, rho: f64) -> ([f64; 6], f64) {
        let f = (-self.gamma * rho * rho).exp();
        let two_gamma = 2.0 * self.gamma;
        let mut g = [0.0; 6];
        g[0] = (1.0 - f) / two_gamma;
        for i in 1..6 {
            // 0-based i corresponds to JZG index i + 1: G = -(F rho^(2i) - 2 i G_prev) / (2 gamma)
            let m = i as i32;
            g[i] = -(f * rho.powi(2 * m) - 2.0 * f64::from(m) * g[i - 1]) / two_gamma;
        }
        (g, f)
    }

    /// Excess Helmholtz free energy per particle a_ex = A_ex / N in units of epsilon.
    pub fn a_ex(&self, rho: f64, t: f64) -> f64 {
        let (a, b) = (self.a_coeffs(t), self.b_coeffs(t));
        let (g, _) = self.g_functions(rho);
        mbwr_sum(&a, &b, &g, rho)
    }

    /// Second virial coefficient implied by the EOS, B2(T) = a_1(T) / T (units of sigma^3):
    /// the low-density limit of beta a_ex / rho (the G_i are O(rho^2)).
    pub fn second_virial(&self, t: f64) -> f64 {
        self.a_coeffs(t)[0] / t
    }
}

/// sum_i a_i rho^i / i + sum_i b_i G_i.
fn mbwr_sum(a: &[f64; 8], b: &[f64; 6], g: &[f64; 6], rho: f64) -> f64 {
    let poly: f64 = a
        .iter()
        .enumerate()
        .map(|(i, ai)| {
            let n = i as i32 + 1;
            ai * rho.powi(n) / f64::from(n)
        })
        .sum();
    let exp_part: f64 = b.iter().zip(g).map(|(bi, gi)| bi * gi).sum();
    poly + exp_part
}

impl LjEos for Johnson {
    fn name(&self) -> &'static str {
        "Johnson-Zollweg-Gubbins MBWR (Mol. Phys. 78, 591 (1993))"
    }

    fn beta_a_ex(&self, rho: f64, t: f64) -> f64 {
        self.a_ex(rho, t) / t
    }

    fn pressure(&self, rho: f64, t: f64) -> f64 {
        let (a, b) = (self.a_coeffs(t), self.b_coeffs(t));
        let f = (-self.gamma * rho * rho).exp();
        let poly: f64 = a.iter().enumerate().map(|(i, ai)| ai * rho.powi(i as i32 + 2)).sum();
        let exp_part: f64 = b.iter().enumerate().map(|(i, bi)| bi * rho.powi(2 * i as i32 + 3)).sum();
        rho * t + poly + f * exp_part
    }

    fn energy_per_particle(&self, rho: f64, t: f64) -> f64 {
        let (c, d) = self.energy_coeffs(t);
        let (g, _) = self.g_functions(rho);
        mbwr_sum(&c, &d, &g, rho)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eos::richardson_derivative;

    // The thermodynamic consistency tests shared with Kolafa-Nezbeda are in crate::eos (tests).

    #[test]
    fn reproduces_check_value() {
        let eos = johnson_zollweg_gubbins();
        assert_eq!(eos.checks.len(), 1);
        for c in &eos.checks {
            // the check value is beta a_ex = a_ex / T, not a_ex
            let v = eos.beta_a_ex(c.rho, c.t);
            assert!((v - c.beta_a_ex).abs() < 1e-8, "{v} vs {}", c.beta_a_ex);
            assert!((eos.a_ex(c.rho, c.t) - c.beta_a_ex).abs() > 0.1);
        }
    }

    #[test]
    fn g_functions_match_closed_forms() {
        // G_2 = (1 - F (gamma rho^2 + 1)) / (2 gamma^2)
        let eos = johnson_zollweg_gubbins();
        let (rho, gamma) = (0.7_f64, eos.gamma);
        let (g, f) = eos.g_functions(rho);
        let g2 = (1.0 - f * (gamma * rho * rho + 1.0)) / (2.0 * gamma * gamma);
        assert!((g[1] - g2).abs() < 1e-14);
        // dG_i/drho = F rho^(2i-1), the identity behind the pressure formula
        for (i, gi) in g.iter().enumerate() {
            let h = 1e-3;
            let deriv = richardson_derivative(|r| eos.g_functions(r).0[i], rho, h);
            let expect = f * rho.powi(2 * i as i32 + 1);
            assert!((deriv - expect).abs() < 1e-10, "G_{}: {deriv} vs {expect}", i + 1);
            assert!(gi.is_finite());
        }
    }
}
