//! The whole input: the version, one struct per section (each in its own file with its defaults and
//! checks), and the checks that need more than one section.

use super::translate::section;
use super::{
    BaselineConfig, ConfigError, GenerateConfig, ModelConfig, OutputConfig, PipelineConfig, RunConfig, SampleConfig,
    SystemConfig, TiConfig, INPUT_VERSION,
};
use crate::train::TrainSettings;
use serde::Serialize;

/// A validated input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// Input format version (must be 1).
    pub version: i64,
    /// `[system]`: what is simulated (required by `nti sample`; `nti train` takes the physics from
    /// its data files).
    pub system: Option<SystemConfig>,
    /// `[sample]`: the reference simulation.
    pub sample: SampleConfig,
    /// `[run]`: seeds and run control.
    pub run: RunConfig,
    /// `[output]`: the results file.
    pub output: OutputConfig,
    /// `[model]`: the energy network (nti train).
    pub model: ModelConfig,
    /// `[train]`: score-matching training (nti train).
    pub train: TrainSettings,
    /// `[generate]`: reverse-SDE sampling from a trained model (nti generate).
    pub generate: GenerateConfig,
    /// `[baseline]`: conventional TI and MBAR along the soft-core lambda path (nti baseline).
    pub baseline: BaselineConfig,
    /// `[ti]`: Metropolis-corrected windows and annealed importance sampling (nti ti; the reverse-SDE
    /// part is configured in `[generate]`).
    pub ti: TiConfig,
    /// `[pipeline]`: the stages of nti run.
    pub pipeline: PipelineConfig,
}

/// The top-level keys: `version` and the sections.
const SECTIONS: &[&str] =
    &["version", "system", "sample", "run", "output", "model", "train", "generate", "baseline", "ti", "pipeline"];

impl Config {
    /// Deserialises a parsed table section by section.
    pub fn from_table(mut table: toml::Table) -> Result<Self, ConfigError> {
        for key in table.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                return Err(ConfigError::UnknownKey {
                    section: "top level".into(),
                    key: key.clone(),
                    expected: SECTIONS.join(", "),
                });
            }
        }
        let version = match table.remove("version") {
            None => {
                return Err(ConfigError::Missing {
                    section: "top level".into(),
                    key: "version".into(),
                    expected: format!("version = {INPUT_VERSION}"),
                })
            }
            Some(toml::Value::Integer(v)) if v == INPUT_VERSION => v,
            Some(v) => {
                return Err(ConfigError::invalid(
                    "top level",
                    "version",
                    v,
                    format!("{INPUT_VERSION} (the input version this nti reads)"),
                ))
            }
        };
        let system = if table.contains_key("system") { Some(section(&mut table, "system", true)?) } else { None };
        let sample = section(&mut table, "sample", false)?;
        let run = section(&mut table, "run", false)?;
        let output = section(&mut table, "output", false)?;
        let model = section(&mut table, "model", false)?;
        let train = section(&mut table, "train", false)?;
        let generate = section(&mut table, "generate", false)?;
        let baseline = section(&mut table, "baseline", false)?;
        let ti = section(&mut table, "ti", false)?;
        let pipeline = section(&mut table, "pipeline", false)?;
        Ok(Self { version, system, sample, run, output, model, train, generate, baseline, ti, pipeline })
    }

    /// The `[system]` section; callers have checked it is present (see [`Config::require_system`]).
    pub fn sys(&self) -> &SystemConfig {
        self.system.as_ref().expect("[system] checked by require_system")
    }

    /// Error unless the input has a `[system]` section.
    pub fn require_system(&self) -> Result<&SystemConfig, ConfigError> {
        self.system.as_ref().ok_or_else(|| ConfigError::MissingSection { section: "system".into() })
    }

    /// Box side L = (N / rho)^(1/3) of `[system]`.
    pub fn box_side(&self) -> f64 {
        self.sys().box_side()
    }

    /// Range checks that serde cannot express, section by section; `[system]` (when present) sets
    /// the box that bounds `[pipeline]` and `[sample]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.output.validate()?;
        self.model.validate()?;
        super::train::validate(&self.train)?;
        self.generate.validate()?;
        self.ti.validate()?;
        self.baseline.validate()?;
        let Some(s) = &self.system else { return Ok(()) };
        s.validate()?;
        let l = s.box_side();
        self.pipeline.validate(l)?;
        self.sample.validate(l)
    }

    /// What `nti generate` and `nti ti` need of `[generate]` beyond [`Config::validate`]: a model
    /// file, at least one N and the box side; returns the box side.
    pub fn require_generate(&self) -> Result<f64, ConfigError> {
        self.generate.require()
    }

    /// What `nti run` needs beyond [`Config::validate`]: a `[system]` section, and a `[model]`
    /// network cutoff (`r_cut` or `mp_cutoff`) that fits the one box every stage runs in (checked here, before the
    /// reference simulations, rather than by the training stage after them).
    pub fn validate_run(&self) -> Result<(), ConfigError> {
        let s = self.require_system()?;
        let l = self.box_side();
        let (key, rc) = self.model.network_cutoff();
        if rc > 0.5 * l {
            return Err(ConfigError::invalid(
                "model",
                key,
                rc,
                format!(
                    "at most L/2 = {:.6}: nti run trains in the box of side L = {l:.6} of [system] n_particles = {} \
                     and density = {}",
                    0.5 * l,
                    s.n_particles,
                    s.density
                ),
            ));
        }
        Ok(())
    }
}
