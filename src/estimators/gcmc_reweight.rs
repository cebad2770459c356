//! Grand-canonical reweighting of canonical excess free energies (docs/design.md sec. 1-2).
//!
//! Given beta*A_ex(N) (kT) for every N = n_min..=n_max at fixed volume V and temperature T, the
//! canonical partition functions are (reduced units, thermal wavelength Lambda, 1 by default)
//!   ln Q_N = N ln V - ln N! - 3 N ln Lambda - beta A_ex(N),
//! and the grand-canonical distribution at reduced chemical potential beta*mu is
//!   p(N | beta mu) = exp(beta mu N + ln Q_N) / sum_M exp(beta mu M + ln Q_M),
//! normalised with log-sum-exp over the available range (the ensemble is truncated to
//! [n_min, n_max]; check `edge_weight` to see whether that matters). From it
//!   ⟨N⟩ = sum_N N p(N), Var N = ⟨N^2⟩ - ⟨N⟩^2 = d⟨N⟩/d(beta mu), ⟨rho⟩ = ⟨N⟩ / V.
//! The finite-size excess chemical potential of inserting particle N+1 is
//!   beta mu_ex(N) = beta A_ex(N+1) - beta A_ex(N).
//! (Mate, Fleuret & Bereau, J. Phys. Chem. Lett. 15, 11395 (2024); Frenkel & Smit, Understanding
//! Molecular Simulation, 2nd ed., ch. 5.6 and 7.2.)
//!
//! Error propagation assumes the beta*A_ex(N) are independent estimates with standard errors se_N
//! (separate runs per N), to first order:
//!   se(beta mu_ex(N))^2 = se_N^2 + se_{N+1}^2,
//!   d⟨N⟩/d(beta A_ex(M)) = -p(M) (M - ⟨N⟩),  se(⟨N⟩)^2 = sum_M p(M)^2 (M - ⟨N⟩)^2 se_M^2,
//!   at fixed ⟨N⟩: d(beta mu)/d(beta A_ex(M)) = p(M) (M - ⟨N⟩) / Var N.

use anyhow::{bail, ensure, Result};

/// beta*A_ex(N) over a contiguous range of N at fixed V and T, with standard errors.
#[derive(Clone, Debug, PartialEq)]
pub struct ExcessLadder {
    /// Smallest particle number N of `beta_a_ex[0]`.
    pub n_min: usize,
    /// beta*A_ex(N) for N = n_min, n_min + 1, ... (kT).
    pub beta_a_ex: Vec<f64>,
    /// Standard errors of `beta_a_ex` (kT), same length.
    pub stderr: Vec<f64>,
    /// Volume V (sigma^3).
    pub volume: f64,
    /// Temperature T (epsilon / k_B); only used to convert beta*mu to mu.
    pub temperature: f64,
    /// Thermal de Broglie wavelength Lambda (sigma); 1 by convention in reduced units.
    pub lambda: f64,
}

/// Grand-canonical averages at one beta*mu.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GcAverages {
    /// Reduced chemical potential beta*mu.
    pub beta_mu: f64,
    /// ⟨N⟩.
    pub mean_n: f64,
    /// Standard error of ⟨N⟩ propagated from the beta*A_ex errors.
    pub mean_n_stderr: f64,
    /// Var N = ⟨N^2⟩ - ⟨N⟩^2 (= d⟨N⟩/d(beta mu)).
    pub var_n: f64,
    /// ⟨rho⟩ = ⟨N⟩ / V.
    pub mean_density: f64,
    /// Standard error of ⟨rho⟩.
    pub mean_density_stderr: f64,
    /// p(n_min) + p(n_max): probability at the ends of the range (truncation diagnostic).
    pub edge_weight: f64,
}

/// beta*mu that gives a target ⟨rho⟩.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DensityPoint {
    /// Target density rho = ⟨N⟩ / V.
    pub density: f64,
    /// beta*mu with ⟨rho⟩(beta mu) = density.
    pub beta_mu: f64,
    /// Standard error of beta*mu propagated from the beta*A_ex errors.
    pub beta_mu_stderr: f64,
    /// Excess part beta*mu - ln(rho Lambda^3) (same standard error as beta*mu).
    pub beta_mu_ex: f64,
    /// mu = T * beta*mu (epsilon).
    pub mu: f64,
    /// Averages at the solution.
    pub averages: GcAverages,
}

/// beta*mu_ex(N) = beta*A_ex(N+1) - beta*A_ex(N) with its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MuExcess {
    /// N (the particle inserted is number N + 1).
    pub n: usize,
    /// beta*mu_ex(N) (kT).
    pub value: f64,
    /// sqrt(se_N^2 + se_{N+1}^2) (kT).
    pub stderr: f64,
}

/// ln N! = sum_{k=2}^N ln k (exact to round-off; N up to millions).
pub fn ln_factorial(n: usize) -> f64 {
    (2..=n).map(|k| (k as f64).ln()).sum()
}

fn logsumexp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

impl ExcessLadder {
    /// A ladder with Lambda = 1. Needs at least 2 values, finite energies, non-negative finite
    /// standard errors, V > 0, T > 0.
    pub fn new(n_min: usize, beta_a_ex: Vec<f64>, stderr: Vec<f64>, volume: f64, temperature: f64) -> Result<Self> {
        ensure!(beta_a_ex.len() >= 2, "grand-canonical reweighting needs beta*A_ex for at least 2 values of N");
        ensure!(
            stderr.len() == beta_a_ex.len(),
            "beta*A_ex has {} values but stderr has {}",
            beta_a_ex.len(),
            stderr.len()
        );
        for (i, (a, s)) in beta_a_ex.iter().zip(&stderr).enumerate() {
            ensure!(a.is_finite(), "beta*A_ex(N = {}) is not finite: {a}", n_min + i);
            ensure!(s.is_finite() && *s >= 0.0, "stderr of beta*A_ex(N = {}) must be finite and >= 0: {s}", n_min + i);
        }
        ensure!(volume.is_finite() && volume > 0.0, "volume must be positive, got {volume}");
        ensure!(temperature.is_finite() && temperature > 0.0, "temperature must be positive, got {temperature}");
        Ok(Self { n_min, beta_a_ex, stderr, volume, temperature, lambda: 1.0 })
    }

    /// Set the thermal wavelength Lambda (> 0).
    pub fn with_lambda(mut self, lambda: f64) -> Result<Self> {
        ensure!(lambda.is_finite() && lambda > 0.0, "thermal wavelength must be positive, got {lambda}");
        self.lambda = lambda;
        Ok(self)
    }

    /// Largest N in the ladder.
    pub fn n_max(&self) -> usize {
        self.n_min + self.beta_a_ex.len() - 1
    }

    /// The particle numbers n_min..=n_max.
    pub fn ns(&self) -> impl Iterator<Item = usize> + Clone {
        self.n_min..=self.n_max()
    }

    /// ln Q_N = N ln V - ln N! - 3 N ln Lambda - beta A_ex(N) for each N in the ladder.
    pub fn ln_q(&self) -> Vec<f64> {
        let (ln_v, ln_l) = (self.volume.ln(), self.lambda.ln());
        let mut ln_fact = ln_factorial(self.n_min);
        self.ns()
            .zip(&self.beta_a_ex)
            .map(|(n, a)| {
                if n > self.n_min {
                    ln_fact += (n as f64).ln();
                }
                n as f64 * (ln_v - 3.0 * ln_l) - ln_fact - a
            })
            .collect()
    }

    /// Normalised ln p(N | beta mu) for each N in the ladder.
    pub fn ln_p(&self, beta_mu: f64) -> Vec<f64> {
        let mut lw: Vec<f64> = self.ns().zip(self.ln_q()).map(|(n, lq)| beta_mu * n as f64 + lq).collect();
        let z = logsumexp(&lw);
        lw.iter_mut().for_each(|v| *v -= z);
        lw
    }

    /// p(N | beta mu) for each N in the ladder (sums to 1).
    pub fn distribution(&self, beta_mu: f64) -> Vec<f64> {
        self.ln_p(beta_mu).iter().map(|v| v.exp()).collect()
    }

    /// ⟨N⟩, Var N, ⟨rho⟩ and their propagated standard errors at beta*mu.
    pub fn averages(&self, beta_mu: f64) -> GcAverages {
        let p = self.distribution(beta_mu);
        let mean: f64 = self.ns().zip(&p).map(|(n, p)| n as f64 * p).sum();
        let var: f64 = self.ns().zip(&p).map(|(n, p)| (n as f64 - mean).powi(2) * p).sum();
        let se2: f64 = self.ns().zip(&p).zip(&self.stderr).map(|((n, p), s)| (p * (n as f64 - mean) * s).powi(2)).sum();
        let se = se2.sqrt();
        GcAverages {
            beta_mu,
            mean_n: mean,
            mean_n_stderr: se,
            var_n: var,
            mean_density: mean / self.volume,
            mean_density_stderr: se / self.volume,
            edge_weight: p[0] + p[p.len() - 1],
        }
    }

    /// beta*mu_ex(N) = beta*A_ex(N+1) - beta*A_ex(N) for N = n_min..n_max-1, errors of independent estimates.
    pub fn beta_mu_ex(&self) -> Vec<MuExcess> {
        (0..self.beta_a_ex.len() - 1)
            .map(|i| MuExcess {
                n: self.n_min + i,
                value: self.beta_a_ex[i + 1] - self.beta_a_ex[i],
                stderr: self.stderr[i].hypot(self.stderr[i + 1]),
            })
            .collect()
    }

    /// The beta*mu at which ⟨rho⟩ = `density`, by bracketing and bisection on the monotone ⟨N⟩(beta mu)
    /// until the bracket is narrower than `tol` (in beta*mu; e.g. 1e-12).
    ///
    /// Errors if the target ⟨N⟩ = density * V is not strictly inside (n_min, n_max).
    pub fn beta_mu_for_density(&self, density: f64, tol: f64) -> Result<DensityPoint> {
        ensure!(density.is_finite() && density > 0.0, "target density must be positive, got {density}");
        ensure!(tol > 0.0, "bisection tolerance must be positive, got {tol}");
        let target = density * self.volume;
        let (lo_n, hi_n) = (self.n_min as f64, self.n_max() as f64);
        if !(target > lo_n && target < hi_n) {
            bail!(
                "target density {density} (<N> = {target:.4} in V = {}) is outside the range N = {}..={} of the beta*A_ex data",
                self.volume,
                self.n_min,
                self.n_max()
            );
        }
        let mean = |bm: f64| self.averages(bm).mean_n;
        // Initial guess: ideal-gas part plus the finite-size mu_ex near the target.
        let i = ((target.round() as usize).clamp(self.n_min, self.n_max() - 1)) - self.n_min;
        let guess = (density * self.lambda.powi(3)).ln() + self.beta_a_ex[i + 1] - self.beta_a_ex[i];
        let (mut lo, mut hi) = (guess - 1.0, guess + 1.0);
        let mut width = 1.0;
        let mut tries = 0;
        while mean(lo) >= target {
            width *= 2.0;
            lo -= width;
            tries += 1;
            ensure!(tries < 200, "could not bracket beta*mu from below for density {density}");
        }
        width = 1.0;
        while mean(hi) <= target {
            width *= 2.0;
            hi += width;
            tries += 1;
            ensure!(tries < 400, "could not bracket beta*mu from above for density {density}");
        }
        for _ in 0..300 {
            if hi - lo <= tol {
                break;
            }
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if mean(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let beta_mu = 0.5 * (lo + hi);
        let av = self.averages(beta_mu);
        let p = self.distribution(beta_mu);
        let se2: f64 = self
            .ns()
            .zip(&p)
            .zip(&self.stderr)
            .map(|((n, p), s)| (p * (n as f64 - av.mean_n) / av.var_n * s).powi(2))
            .sum();
        Ok(DensityPoint {
            density,
            beta_mu,
            beta_mu_stderr: se2.sqrt(),
            beta_mu_ex: beta_mu - (density * self.lambda.powi(3)).ln(),
            mu: beta_mu * self.temperature,
            averages: av,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand_distr::{Distribution, StandardNormal};

    fn poisson_ln_pmf(n: usize, mean: f64) -> f64 {
        n as f64 * mean.ln() - mean - ln_factorial(n)
    }

    #[test]
    fn ideal_gas_is_poisson() {
        let (v, lambda) = (125.0, 0.8);
        let l = ExcessLadder::new(0, vec![0.0; 301], vec![0.0; 301], v, 1.5).unwrap().with_lambda(lambda).unwrap();
        let beta_mu: f64 = -1.3;
        let mean = beta_mu.exp() * v / lambda.powi(3);
        let lp = l.ln_p(beta_mu);
        for (n, &lpn) in lp.iter().enumerate() {
            if lpn > -600.0 {
                assert!((lpn - poisson_ln_pmf(n, mean)).abs() < 1e-9 * (1.0 + lpn.abs()), "N = {n}");
            }
        }
        let av = l.averages(beta_mu);
        assert!((av.mean_n - mean).abs() < 1e-9 * mean, "{} vs {mean}", av.mean_n);
        assert!((av.var_n - mean).abs() < 1e-8 * mean);
        assert!((av.mean_density - mean / v).abs() < 1e-12);
        assert!(av.edge_weight < 1e-25); // p(0) = exp(-66.5)
        assert!(l.beta_mu_ex().iter().all(|m| m.value == 0.0 && m.stderr == 0.0));
        // Inverse: beta*mu = ln(rho Lambda^3).
        let rho = 0.5;
        let d = l.beta_mu_for_density(rho, 1e-13).unwrap();
        assert!((d.beta_mu - (rho * lambda.powi(3)).ln()).abs() < 1e-10, "{}", d.beta_mu);
        assert!(d.beta_mu_ex.abs() < 1e-10);
        assert!((d.mu - 1.5 * d.beta_mu).abs() < 1e-15);
        assert!((d.averages.mean_density - rho).abs() < 1e-10);
    }

    #[test]
    fn linear_excess_free_energy_shifts_mu_by_c() {
        let (v, c, n_min) = (64.0, 2.7, 10usize);
        let a: Vec<f64> = (n_min..=250).map(|n| c * n as f64 + 3.0).collect();
        let l = ExcessLadder::new(n_min, a, vec![0.01; 241], v, 1.0).unwrap();
        for m in l.beta_mu_ex() {
            assert!((m.value - c).abs() < 1e-12);
            assert!((m.stderr - 0.01 * 2f64.sqrt()).abs() < 1e-15);
        }
        let rho = 1.2; // <N> = 76.8, deep inside [10, 250]
        let d = l.beta_mu_for_density(rho, 1e-13).unwrap();
        assert!((d.beta_mu - (rho.ln() + c)).abs() < 1e-9, "{}", d.beta_mu);
        assert!((d.beta_mu_ex - c).abs() < 1e-9);
        let p = l.distribution(d.beta_mu);
        let mean = rho * v;
        for (i, n) in l.ns().enumerate() {
            assert!((p[i] - poisson_ln_pmf(n, mean).exp()).abs() < 1e-12, "N = {n}");
        }
    }

    #[test]
    fn density_outside_range_is_an_error() {
        let l = ExcessLadder::new(20, vec![0.0; 21], vec![0.0; 21], 100.0, 1.0).unwrap();
        let e = l.beta_mu_for_density(0.5, 1e-10).unwrap_err().to_string();
        assert!(e.contains("outside the range N = 20..=40"), "{e}");
        assert!(l.beta_mu_for_density(0.1, 1e-10).is_err());
        assert!(l.beta_mu_for_density(0.3, 1e-10).is_ok());
        assert!(ExcessLadder::new(0, vec![0.0], vec![0.0], 1.0, 1.0).is_err());
        assert!(ExcessLadder::new(0, vec![0.0; 3], vec![0.0; 2], 1.0, 1.0).is_err());
        assert!(ExcessLadder::new(0, vec![0.0, f64::NAN], vec![0.0; 2], 1.0, 1.0).is_err());
        assert!(ExcessLadder::new(0, vec![0.0; 2], vec![0.0; 2], -1.0, 1.0).is_err());
    }

    #[test]
    fn propagated_errors_match_scatter_of_noisy_ladders() {
        // Repulsive mean-field model beta*A_ex = b N^2 / V; perturb each beta*A_ex(N) independently with
        // N(0, se_N^2) and compare the scatter of ⟨N⟩(beta mu) and beta*mu(rho) with the propagated
        // standard errors via z-scores (sd of the sample sd over 200 seeds ~ 0.05).
        let (v, b, n_min, n_max) = (100.0, 1.5, 0usize, 200usize);
        let exact: Vec<f64> = (n_min..=n_max).map(|n| b * (n * n) as f64 / v).collect();
        let se: Vec<f64> = (n_min..=n_max).map(|n| 0.02 + 0.0005 * n as f64).collect();
        let base = ExcessLadder::new(n_min, exact.clone(), se.clone(), v, 1.0).unwrap();
        let (beta_mu, rho) = (0.5, 0.6);
        let a0 = base.averages(beta_mu);
        let d0 = base.beta_mu_for_density(rho, 1e-13).unwrap();
        assert!(a0.edge_weight < 1e-12 && d0.averages.edge_weight < 1e-12);
        let n_seeds = 200;
        let (mut z1, mut z2) = (Vec::new(), Vec::new());
        for seed in 0..n_seeds {
            let mut r = stream(seed, Purpose::Init, 4400);
            let noisy: Vec<f64> = exact
                .iter()
                .zip(&se)
                .map(|(a, s)| {
                    let z: f64 = StandardNormal.sample(&mut r);
                    a + s * z
                })
                .collect();
            let l = ExcessLadder::new(n_min, noisy, se.clone(), v, 1.0).unwrap();
            z1.push((l.averages(beta_mu).mean_n - a0.mean_n) / a0.mean_n_stderr);
            z2.push((l.beta_mu_for_density(rho, 1e-13).unwrap().beta_mu - d0.beta_mu) / d0.beta_mu_stderr);
        }
        for (name, z) in [("<N>", z1), ("beta mu", z2)] {
            let n = z.len() as f64;
            let m = z.iter().sum::<f64>() / n;
            let sd = (z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
            assert!(m.abs() < 3.6 / n.sqrt(), "{name}: mean z {m}");
            assert!((sd - 1.0).abs() < 0.2, "{name}: sd z {sd}");
        }
    }
}
