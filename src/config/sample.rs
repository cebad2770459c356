//! `[sample]`: the reference simulation (Monte Carlo or Langevin dynamics), its defaults and checks.

use super::positive;
use super::ConfigError;
use serde::{Deserialize, Serialize};

/// Reference-simulation method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleMethod {
    /// Metropolis Monte Carlo, single-particle displacements; one step = one sweep of N trial moves.
    Mc,
    /// Langevin dynamics, BAOAB splitting; one step = one time step.
    Langevin,
}

/// `[sample]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SampleConfig {
    /// "mc" or "langevin". Default "mc".
    pub method: SampleMethod,
    /// Independent replicas, spread over MPI ranks. Default 2.
    pub replicas: usize,
    /// Equilibration steps (MC sweeps or MD steps), discarded. Default 1000.
    pub equilibration: u64,
    /// Production steps. Default 10000.
    pub production: u64,
    /// MC sweeps at `melt_temperature` that melt the initial fcc lattice before equilibration, so that
    /// dense states start from a disordered fluid (an fcc start at rho >~ 0.9 stays crystalline).
    /// Default 200.
    pub melt_sweeps: u64,
    /// Temperature of the melting stage (epsilon/k_B). Default 3.0.
    pub melt_temperature: f64,
    /// Observe (energy, pressure, Widom, RDF, frame) every `stride` steps. Default 10.
    pub stride: u64,
    /// Initial MC maximum displacement per coordinate (sigma); adapted during equilibration only. Default 0.2.
    pub mc_step: f64,
    /// Target MC acceptance ratio for the step adaptation. Default 0.4.
    pub target_acceptance: f64,
    /// Langevin time step (reduced time units). Default 0.005.
    pub timestep: f64,
    /// Langevin friction gamma (inverse reduced time). Default 1.0.
    pub friction: f64,
    /// Widom test-particle insertions per observation (0 = off). Default 0.
    pub widom_insertions: usize,
    /// Radial distribution function bins (0 = off). Default 200.
    pub rdf_bins: usize,
    /// RDF range in sigma (<= L/2); default L/2.
    pub rdf_max: Option<f64>,
    /// Store trajectory frames (H5MD) at every observation. Default true.
    pub trajectory: bool,
}

impl Default for SampleConfig {
    fn default() -> Self {
        Self {
            method: SampleMethod::Mc,
            replicas: 2,
            equilibration: 1000,
            production: 10000,
            melt_sweeps: 200,
            melt_temperature: 3.0,
            stride: 10,
            mc_step: 0.2,
            target_acceptance: 0.4,
            timestep: 0.005,
            friction: 1.0,
            widom_insertions: 0,
            rdf_bins: 200,
            rdf_max: None,
            trajectory: true,
        }
    }
}

impl SampleConfig {
    /// Range checks in the box of side `l` of `[system]` (lengths are bounded by L/2).
    pub fn validate(&self, l: f64) -> Result<(), ConfigError> {
        if !(self.melt_temperature.is_finite() && self.melt_temperature > 0.0) {
            return Err(ConfigError::invalid(
                "sample",
                "melt_temperature",
                self.melt_temperature,
                "a positive temperature",
            ));
        }
        if self.replicas == 0 {
            return Err(ConfigError::invalid("sample", "replicas", 0, "at least 1 replica"));
        }
        if self.stride == 0 {
            return Err(ConfigError::invalid("sample", "stride", 0, "a positive number of steps"));
        }
        if self.production < 2 * self.stride {
            return Err(ConfigError::invalid(
                "sample",
                "production",
                self.production,
                format!("at least 2 * stride = {} steps (two observations)", 2 * self.stride),
            ));
        }
        if !(self.mc_step.is_finite() && self.mc_step > 0.0 && self.mc_step <= 0.5 * l) {
            return Err(ConfigError::invalid(
                "sample",
                "mc_step",
                self.mc_step,
                format!("a displacement in (0, L/2 = {:.6}]", 0.5 * l),
            ));
        }
        if !(self.target_acceptance > 0.0 && self.target_acceptance < 1.0) {
            return Err(ConfigError::invalid(
                "sample",
                "target_acceptance",
                self.target_acceptance,
                "a ratio in (0, 1)",
            ));
        }
        positive("sample", "timestep", self.timestep, "reduced time units")?;
        if !(self.friction.is_finite() && self.friction >= 0.0) {
            return Err(ConfigError::invalid(
                "sample",
                "friction",
                self.friction,
                "a non-negative friction (inverse time)",
            ));
        }
        if let Some(r) = self.rdf_max {
            if !(r.is_finite() && r > 0.0 && r <= 0.5 * l) {
                return Err(ConfigError::invalid(
                    "sample",
                    "rdf_max",
                    r,
                    format!("a distance in (0, L/2 = {:.6}]", 0.5 * l),
                ));
            }
        }
        Ok(())
    }
}
