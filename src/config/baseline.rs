//! `[baseline]`: the conventional free-energy baselines of nti baseline (TI and MBAR along the
//! soft-core lambda path, Widom insertion); defaults and checks.

use super::ConfigError;
use serde::{Deserialize, Serialize};

/// `[baseline]`: conventional TI along U_lambda = (1 - lambda) u_soft(r; lambda) with MC at K windows,
/// MBAR over the same windows, and optionally Widom insertion at lambda = 0 (crate::baseline,
/// crate::potential::softcore).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineConfig {
    /// Number of lambda windows K (paper: 5 to 100). Default 20.
    pub windows: usize,
    /// "uniform" (trapezoid, includes both ends) or "gauss-legendre". Default "uniform".
    pub spacing: Spacing,
    /// MC sweeps discarded per window (paper: 2000 samples). Default 2000.
    pub equilibration: u64,
    /// MC sweeps of production per window (paper: 10000 samples). Default 10000.
    pub production: u64,
    /// Sweeps between samples. Default 10.
    pub stride: u64,
    /// Also estimate with MBAR (samples subsampled by their statistical inefficiency). Default true.
    pub mbar: bool,
    /// Widom insertions per sample in an extra full-LJ run (0 = off). Default 0.
    pub widom_insertions: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            windows: 20,
            spacing: Spacing::Uniform,
            equilibration: 2000,
            production: 10000,
            stride: 10,
            mbar: true,
            widom_insertions: 0,
        }
    }
}

impl BaselineConfig {
    /// Enough windows for the spacing (MBAR only with both end states), a positive stride and at
    /// least two samples per window.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.spacing {
            Spacing::Uniform if self.windows < 2 => {
                return Err(ConfigError::invalid(
                    "baseline",
                    "windows",
                    self.windows,
                    "at least 2 windows with spacing = \"uniform\" (the trapezoid rule needs both end states, \
                     lambda = 0 and 1)",
                ))
            }
            Spacing::GaussLegendre if self.windows == 0 => {
                return Err(ConfigError::invalid(
                    "baseline",
                    "windows",
                    0,
                    "at least 1 window with spacing = \"gauss-legendre\"",
                ))
            }
            Spacing::GaussLegendre if self.mbar => {
                return Err(ConfigError::invalid(
                    "baseline",
                    "mbar",
                    true,
                    "false with spacing = \"gauss-legendre\": MBAR needs samples of the end states lambda = 0 \
                     and 1, which Gauss-Legendre nodes exclude (use spacing = \"uniform\" for MBAR)",
                ))
            }
            _ => {}
        }
        if self.stride == 0 {
            return Err(ConfigError::invalid(
                "baseline",
                "stride",
                0,
                "a positive number of MC sweeps between samples",
            ));
        }
        if self.production < 2 * self.stride {
            return Err(ConfigError::invalid(
                "baseline",
                "production",
                self.production,
                format!("at least 2 * stride = {} MC sweeps: two samples per window", 2 * self.stride),
            ));
        }
        Ok(())
    }
}

/// Spacing of the lambda windows of the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spacing {
    /// K uniform windows including lambda = 0 and 1, trapezoid rule.
    Uniform,
    /// K Gauss-Legendre nodes on (0, 1).
    GaussLegendre,
}
