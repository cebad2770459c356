//! `[generate]`: reverse-SDE sampling from a trained model (nti generate; also the reverse-SDE part
//! of nti ti), optionally with predictor-corrector steps; defaults and checks.

use super::particles::check_particle_numbers;
use super::ConfigError;
use serde::{Deserialize, Serialize};

/// `[generate]`: samples from a trained model with the reverse SDE.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateConfig {
    /// Trained model: a checkpoint or `nti train` results file. Required by nti generate.
    pub model: String,
    /// Particle numbers to generate (any N, not only those trained on). Required by nti generate.
    pub n_particles: Vec<usize>,
    /// Box side L (sigma). Required by nti generate and nti ti.
    pub box_side: Option<f64>,
    /// Trajectories per N. Default 64.
    pub trajectories: usize,
    /// Reverse-SDE steps from t = 1 to 0 (paper: 1000). Default 1000.
    pub steps: usize,
    /// Trajectories integrated together. Default 16.
    pub batch: usize,
    /// Grid of the Brownian path: each of the `steps` steps takes the sum of `brownian_steps / steps`
    /// finer Brownian increments (a multiple of `steps`). Runs with the same seed and `brownian_steps`
    /// but different `steps` then follow the same Brownian path (the multilevel coupling of Giles,
    /// Oper. Res. 56, 607 (2008)), so their per-trajectory difference measures the step-size bias
    /// with a small error bar. Default: `steps` (one increment per step).
    pub brownian_steps: Option<usize>,
    /// RDF bins of the t = 0 samples. Default 100.
    pub rdf_bins: usize,
    /// Times t_c in [0, 1) at which every reverse-SDE trajectory pauses for Metropolis-adjusted
    /// corrector steps on the model's ensemble exp(-u(., t_c)) (crate::diffusion::corrector).
    /// Default [] (the plain reverse SDE of the paper).
    pub corrector_t: Vec<f64>,
    /// MALA steps per corrector time (>= 2 with corrector_t; the first half adapts the step).
    /// Default 0.
    pub corrector_steps: usize,
    /// Initial MALA step eps of a corrector as a multiple of sigma(t_c)^2. Default 0.02.
    pub corrector_step: f64,
    /// Acceptance targeted while a corrector adapts its step. Default 0.6.
    pub corrector_acceptance: f64,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self {
            model: String::new(),
            n_particles: Vec::new(),
            box_side: None,
            trajectories: 64,
            steps: 1000,
            batch: 16,
            brownian_steps: None,
            rdf_bins: 100,
            corrector_t: Vec::new(),
            corrector_steps: 0,
            corrector_step: 0.02,
            corrector_acceptance: 0.6,
        }
    }
}

impl GenerateConfig {
    /// Brownian increments summed per reverse-SDE step (`brownian_steps / steps`, 1 by default).
    pub fn brownian_substeps(&self) -> usize {
        self.brownian_steps.map_or(1, |b| b / self.steps)
    }

    /// The corrector settings of the reverse SDE.
    pub fn corrector(&self) -> crate::diffusion::corrector::Corrector {
        crate::diffusion::corrector::Corrector {
            times: self.corrector_t.clone(),
            steps: self.corrector_steps,
            step_factor: self.corrector_step,
            target_acceptance: self.corrector_acceptance,
        }
    }

    /// Range and consistency checks that depend only on the input (whatever the command).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(l) = self.box_side {
            if !(l.is_finite() && l > 0.0) {
                return Err(ConfigError::invalid("generate", "box_side", l, "a positive box side L (sigma)"));
            }
        }
        let bx = self.box_side.map(|l| (l, "[generate] box_side"));
        check_particle_numbers("generate", "n_particles", &self.n_particles, bx)?;
        if self.trajectories < 2 {
            return Err(ConfigError::invalid(
                "generate",
                "trajectories",
                self.trajectories,
                "at least 2 reverse-SDE trajectories per N (the error bar needs two)",
            ));
        }
        if self.steps == 0 {
            return Err(ConfigError::invalid("generate", "steps", 0, "a positive number of reverse-SDE steps"));
        }
        if self.batch == 0 {
            return Err(ConfigError::invalid("generate", "batch", 0, "a positive number of trajectories per batch"));
        }
        if let Some(b) = self.brownian_steps {
            if b == 0 || b % self.steps != 0 {
                return Err(ConfigError::invalid(
                    "generate",
                    "brownian_steps",
                    b,
                    format!("a positive multiple of steps = {}", self.steps),
                ));
            }
        }
        self.validate_corrector()
    }

    /// `corrector_*`: times distinct and in [0, 1), at least 2 steps when any time is given (and no
    /// steps without times), a positive finite initial step and a target acceptance in (0, 1).
    fn validate_corrector(&self) -> Result<(), ConfigError> {
        let key = "corrector_t";
        for (i, &t) in self.corrector_t.iter().enumerate() {
            if !(t.is_finite() && (0.0..1.0).contains(&t)) {
                return Err(ConfigError::invalid("generate", key, t, "corrector times in [0, 1)"));
            }
            if self.corrector_t[..i].contains(&t) {
                return Err(ConfigError::invalid(
                    "generate",
                    key,
                    format!("{:?}", self.corrector_t),
                    format!("distinct corrector times ({t} is listed more than once)"),
                ));
            }
        }
        if !self.corrector_t.is_empty() && self.corrector_steps < 2 {
            return Err(ConfigError::invalid(
                "generate",
                "corrector_steps",
                self.corrector_steps,
                "at least 2 MALA steps per corrector time when corrector_t is given (the first half adapts the step)",
            ));
        }
        if self.corrector_t.is_empty() && self.corrector_steps > 0 {
            return Err(ConfigError::invalid(
                "generate",
                "corrector_steps",
                self.corrector_steps,
                "0 when corrector_t is empty (no corrector times were given)",
            ));
        }
        if !(self.corrector_step.is_finite() && self.corrector_step > 0.0) {
            return Err(ConfigError::invalid(
                "generate",
                "corrector_step",
                self.corrector_step,
                "a positive eps / sigma(t)^2",
            ));
        }
        if !(self.corrector_acceptance > 0.0 && self.corrector_acceptance < 1.0) {
            return Err(ConfigError::invalid(
                "generate",
                "corrector_acceptance",
                self.corrector_acceptance,
                "a target acceptance in (0, 1)",
            ));
        }
        Ok(())
    }

    /// What `nti generate` and `nti ti` need beyond [`GenerateConfig::validate`]: a model file, at
    /// least one N and the box side; returns the box side.
    pub fn require(&self) -> Result<f64, ConfigError> {
        if self.model.trim().is_empty() {
            return Err(ConfigError::Missing {
                section: "generate".into(),
                key: "model".into(),
                expected: "the path of a trained model, e.g. model = \"train.h5\" (an nti train results file or \
                           its checkpoint)"
                    .into(),
            });
        }
        if self.n_particles.is_empty() {
            return Err(ConfigError::invalid(
                "generate",
                "n_particles",
                "[]",
                "a non-empty list of particle numbers, e.g. n_particles = [60, 120] (an absent key is an empty list)",
            ));
        }
        self.box_side.ok_or_else(|| ConfigError::Missing {
            section: "generate".into(),
            key: "box_side".into(),
            expected: "the side L (sigma) of the cubic box every N is simulated in, e.g. box_side = 6.0".into(),
        })
    }
}
