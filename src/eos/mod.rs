//! Equations of state (EOS) of the full Lennard-Jones fluid, used as reference values for the
//! simulated free energies.
//!
//! Two independent literature fits are provided:
//!
//! * [`kolafa::Kolafa`]: Kolafa & Nezbeda, Fluid Phase Equilib. 100, 1 (1994), a hard-sphere
//!   reference plus a hybrid Barker-Henderson second-virial term plus a polynomial in rho and
//!   T^(1/2) (obtain it with [`kolafa_nezbeda`]);
//! * [`johnson::Johnson`]: Johnson, Zollweg & Gubbins, Mol. Phys. 78, 591 (1993), a modified
//!   Benedict-Webb-Rubin (MBWR) equation with 32 parameters (obtain it with
//!   [`johnson_zollweg_gubbins`]).
//!
//! Both describe the *full* (untruncated) LJ potential u(r) = 4 (r^-12 - r^-6), i.e. a simulation
//! with a cutoff plus long-range (tail) corrections. The coefficients are not retyped in code:
//! they are embedded at compile time from `validation/reference/lj_eos_*.toml` and parsed once.
//!
//! # Units and conventions
//!
//! Reduced LJ units (sigma = epsilon = k_B = 1): `rho` is the number density rho* = N sigma^3 / V,
//! `t` the temperature T* = k_B T / epsilon. All quantities are *excess* (residual) quantities
//! per particle relative to the ideal gas at the same rho and T, except the pressure, which is
//! the full pressure P* = P sigma^3 / epsilon (ideal part rho T included):
//!
//! * `beta_a_ex` = beta A_ex / N (dimensionless, units of kT);
//! * `energy_per_particle` = U_ex / N in epsilon, U_ex / N = d(beta A_ex / N)/d(beta) at fixed rho;
//! * `beta_mu_ex` = beta mu_ex = beta A_ex / N + Z - 1 with Z = P / (rho T) (dimensionless).
//!
//! All functions require rho > 0 and T > 0 (beta mu_ex divides by rho).

pub mod johnson;
pub mod kolafa;

pub use johnson::{johnson_zollweg_gubbins, Johnson};
pub use kolafa::{kolafa_nezbeda, Kolafa};

/// An equation of state of the full Lennard-Jones fluid in reduced units (see the module docs).
pub trait LjEos {
    /// Short human-readable name of the equation of state (with its literature reference).
    fn name(&self) -> &'static str;

    /// Excess Helmholtz free energy per particle in units of kT, beta A_ex / N (dimensionless).
    fn beta_a_ex(&self, rho: f64, t: f64) -> f64;

    /// Pressure P* = P sigma^3 / epsilon, including the ideal-gas part rho T.
    fn pressure(&self, rho: f64, t: f64) -> f64;

    /// Excess (configurational) internal energy per particle U_ex / N in units of epsilon,
    /// U_ex / N = d(beta A_ex / N) / d(beta) = -T^2 d(A_ex / (N T)) / dT at fixed rho.
    fn energy_per_particle(&self, rho: f64, t: f64) -> f64;

    /// Excess chemical potential in units of kT, beta mu_ex = beta A_ex / N + Z - 1 with the
    /// compressibility factor Z = P / (rho T). Requires rho > 0.
    fn beta_mu_ex(&self, rho: f64, t: f64) -> f64 {
        let z = self.pressure(rho, t) / (rho * t);
        self.beta_a_ex(rho, t) + z - 1.0
    }
}

/// Derivative f'(x) by a twice Richardson-extrapolated central difference with step `h`
/// (truncation error O(h^6)). Used by the tests to check analytic derivatives.
#[cfg(test)]
pub(crate) fn richardson_derivative(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    let central = |h: f64| (f(x + h) - f(x - h)) / (2.0 * h);
    let (d1, d2, d3) = (central(h), central(h / 2.0), central(h / 4.0));
    let r1 = (4.0 * d2 - d1) / 3.0;
    let r2 = (4.0 * d3 - d2) / 3.0;
    (16.0 * r2 - r1) / 15.0
}

/// Exact second virial coefficient of the full LJ fluid,
/// B2(T) = -2 pi int_0^inf (exp(-u(r)/T) - 1) r^2 dr, by composite Simpson quadrature.
#[cfg(test)]
pub(crate) fn lj_second_virial(t: f64) -> f64 {
    let beta = 1.0 / t;
    let integrand = |r: f64| -> f64 {
        if r < 0.3 {
            // exp(-beta u) underflows to 0 far inside the core
            return -r * r;
        }
        let ir6 = r.powi(-6);
        let u = 4.0 * ir6 * (ir6 - 1.0);
        (-beta * u).exp_m1() * r * r
    };
    let r_max = 40.0_f64;
    let n = 400_000; // even number of Simpson intervals
    let h = r_max / n as f64;
    let mut s = integrand(0.0) + integrand(r_max);
    for k in 1..n {
        let w = if k % 2 == 1 { 4.0 } else { 2.0 };
        s += w * integrand(k as f64 * h);
    }
    let integral = s * h / 3.0;
    // Beyond r_max, exp(-beta u) - 1 ~ 4 beta r^-6: int_rmax^inf 4 beta r^-4 dr = 4 beta / (3 rmax^3)
    let tail = 4.0 * beta / (3.0 * r_max.powi(3));
    -2.0 * std::f64::consts::PI * (integral + tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn richardson_derivative_is_accurate() {
        let d = richardson_derivative(|x| x.sin() * x.exp(), 0.7, 1e-2);
        let exact = 0.7_f64.exp() * (0.7_f64.sin() + 0.7_f64.cos());
        assert!((d - exact).abs() < 1e-11, "{d} vs {exact}");
    }

    #[test]
    fn lj_second_virial_known_values() {
        // Boyle temperature of the LJ fluid T_B = 3.4179 (B2 = 0); B2(1) = (2 pi / 3) * (-2.5381)
        // = -5.3158 (Hirschfelder, Curtiss & Bird, Molecular Theory of Gases and Liquids, 1954).
        assert!(lj_second_virial(3.4179).abs() < 1e-3);
        assert!((lj_second_virial(1.0) + 5.3158).abs() < 1e-3);
    }

    #[test]
    fn both_eos_agree_on_mu_at_t2() {
        let (kn, jzg) = (kolafa_nezbeda(), johnson_zollweg_gubbins());
        for rho in [0.1, 0.3, 0.5] {
            let (a, b) = (kn.beta_mu_ex(rho, 2.0), jzg.beta_mu_ex(rho, 2.0));
            assert!((a - b).abs() < 0.02, "rho={rho}: KN {a} vs JZG {b}");
        }
    }

    #[test]
    fn both_eos_agree_on_energy_and_pressure() {
        let (kn, jzg) = (kolafa_nezbeda(), johnson_zollweg_gubbins());
        let (u1, u2) = (kn.energy_per_particle(0.6, 1.35), jzg.energy_per_particle(0.6, 1.35));
        assert!((u1 - u2).abs() < 0.05, "KN {u1} vs JZG {u2}");
        // liquid states near the triple point
        for (rho, t) in [(0.776, 0.85), (0.86, 0.9)] {
            let (u1, u2) = (kn.energy_per_particle(rho, t), jzg.energy_per_particle(rho, t));
            assert!((u1 - u2).abs() < 0.05, "U at rho={rho}, T={t}: {u1} vs {u2}");
            let (p1, p2) = (kn.pressure(rho, t), jzg.pressure(rho, t));
            assert!((p1 - p2).abs() < 0.05, "P at rho={rho}, T={t}: {p1} vs {p2}");
        }
    }

    /// Both equations of state with what differs between them: their own closed-form second
    /// virial coefficient and how close it is to the exact LJ B2(T) (JZG's a_1 / T is a fit, not the
    /// exact B2; KN's hybrid Barker-Henderson term is fitted to it).
    struct Case {
        eos: &'static dyn LjEos,
        second_virial: fn(f64) -> f64,
        exact_b2_tolerance: f64,
    }

    fn cases() -> [Case; 2] {
        [
            Case {
                eos: johnson_zollweg_gubbins(),
                second_virial: |t| johnson_zollweg_gubbins().second_virial(t),
                exact_b2_tolerance: 0.1,
            },
            Case {
                eos: kolafa_nezbeda(),
                second_virial: |t| kolafa_nezbeda().second_virial(t),
                exact_b2_tolerance: 1e-3,
            },
        ]
    }

    /// Gas, supercritical, near-triple-point liquid and dense hot states.
    const STATES: [(f64, f64); 6] = [(0.1, 2.0), (0.4, 1.3), (0.6, 1.35), (0.776, 0.85), (0.86, 0.9), (1.0, 4.0)];

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn pressure_is_density_derivative_of_free_energy() {
        // P = rho^2 d(A_ex/N)/drho + rho T, with A_ex/N = T beta_a_ex.
        for Case { eos, .. } in cases() {
            for (rho, t) in STATES {
                let da = t * richardson_derivative(|r| eos.beta_a_ex(r, t), rho, 1e-3);
                let p_fd = rho * rho * da + rho * t;
                let p = eos.pressure(rho, t);
                assert!(rel(p, p_fd) < 1e-6, "{}: rho={rho}, T={t}: {p} vs {p_fd}", eos.name());
            }
        }
    }

    #[test]
    fn energy_is_beta_derivative_of_free_energy() {
        for Case { eos, .. } in cases() {
            for (rho, t) in STATES {
                let beta = 1.0 / t;
                let u_fd = richardson_derivative(|b| eos.beta_a_ex(rho, 1.0 / b), beta, 1e-3 * beta);
                let u = eos.energy_per_particle(rho, t);
                assert!((u - u_fd).abs() < 1e-8 * u.abs().max(1.0), "{}: {u} vs {u_fd}", eos.name());
            }
        }
    }

    #[test]
    fn low_density_limit_is_second_virial() {
        for Case { eos, second_virial, exact_b2_tolerance } in cases() {
            for t in [0.7, 1.0, 1.35, 2.0, 5.0] {
                let rho = 1e-6;
                let b2_eos = eos.beta_a_ex(rho, t) / rho;
                assert!(b2_eos.is_finite());
                assert!(rel(b2_eos, second_virial(t)) < 1e-5, "{}: T={t}", eos.name());
                let b2 = lj_second_virial(t);
                assert!(
                    (b2_eos - b2).abs() < exact_b2_tolerance * b2.abs().max(1.0),
                    "{}: T={t}: {b2_eos} vs {b2}",
                    eos.name()
                );
            }
        }
    }

    #[test]
    fn trait_objects_work() {
        let all: [&dyn LjEos; 2] = [kolafa_nezbeda(), johnson_zollweg_gubbins()];
        for eos in all {
            assert!(!eos.name().is_empty());
            let mu = eos.beta_mu_ex(0.3, 2.0);
            assert!(mu.is_finite());
        }
    }
}
