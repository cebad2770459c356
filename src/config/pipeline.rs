//! `[pipeline]`: what `nti run` does end to end (sample -> train -> ti -> baselines -> summary).

use super::particles::check_particle_numbers;
use super::ConfigError;
use serde::{Deserialize, Serialize};

/// `[pipeline]`: the particle numbers of each stage of `nti run`. Every stage uses one box, of
/// side L = (`[system]` n_particles / `[system]` density)^(1/3); a stage at N runs at density N / L^3.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// N of the reference simulations the one model is trained on. Default: `[system]` n_particles.
    pub train_n: Vec<usize>,
    /// N at which Neural TI estimates beta A_ex (any N, not only trained ones). Default: train_n.
    pub ti_n: Vec<usize>,
    /// N at which the conventional baseline (TI + MBAR along the soft-core path) runs. Default: none.
    pub baseline_n: Vec<usize>,
    /// Directory of the stage files (`sample_N<n>.h5`, `train.h5`, `ti.h5`, `baseline_N<n>.h5`). Finished
    /// stages found there with the same effective input are reused. Default: `"<output file stem>_stages"`.
    pub directory: String,
}

impl PipelineConfig {
    /// The training N (default: the system's N).
    pub fn train_n(&self, system_n: usize) -> Vec<usize> {
        if self.train_n.is_empty() {
            vec![system_n]
        } else {
            self.train_n.clone()
        }
    }

    /// The TI N (default: the training N).
    pub fn ti_n(&self, system_n: usize) -> Vec<usize> {
        if self.ti_n.is_empty() {
            self.train_n(system_n)
        } else {
            self.ti_n.clone()
        }
    }

    /// Every list holds distinct N with 2 <= N <= the limit of the box of side `side` (density <= 0.95).
    pub fn validate(&self, side: f64) -> Result<(), ConfigError> {
        for (key, list) in [("train_n", &self.train_n), ("ti_n", &self.ti_n), ("baseline_n", &self.baseline_n)] {
            check_particle_numbers(
                "pipeline",
                key,
                list,
                Some((side, "the nti run box: [system] n_particles / density")),
            )?;
        }
        Ok(())
    }
}
