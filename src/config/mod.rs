//! Input files: versioned TOML, unknown keys rejected, every error names section, key, value and
//! what was expected. Command-line overrides `--set section.key=value` are applied to the parsed
//! table before validation.
//!
//! One file per input section holds the section's struct, its defaults and its checks
//! (`[train]`'s struct lives in crate::train, its checks in `train.rs` here); `top_level.rs` holds the
//! whole input and the checks across sections; `translate.rs` turns serde's messages into
//! [`ConfigError`]s.

mod baseline;
mod generate;
mod model;
mod output;
mod overrides;
mod particles;
mod pipeline;
mod run;
mod sample;
mod system;
mod ti;
mod top_level;
mod train;
mod translate;

pub use crate::input_error::ConfigError;
pub use baseline::{BaselineConfig, Spacing};
pub use generate::GenerateConfig;
pub use model::{ModelConfig, Network};
pub use output::OutputConfig;
pub use overrides::apply_override;
pub use particles::{check_particle_numbers, max_particles, MAX_DENSITY};
pub use pipeline::PipelineConfig;
pub use run::RunConfig;
pub use sample::{SampleConfig, SampleMethod};
pub use system::{Cutoff, SystemConfig, SystemKind};
pub use ti::{TiConfig, WindowDiscard, WindowRule, WindowStart};
pub use top_level::Config;

/// The input-file format version this program reads.
pub const INPUT_VERSION: i64 = 1;

/// A complete, commented example input with every key at its default (`nti example`).
pub const EXAMPLE_INPUT: &str = include_str!("../../inputs/example.toml");

/// A loaded input: the validated configuration and the text it came from.
#[derive(Clone, Debug)]
pub struct Input {
    /// Validated configuration.
    pub config: Config,
    /// The input file's text as read.
    pub text: String,
    /// Overrides applied on top, as given on the command line.
    pub overrides: Vec<String>,
    /// Where the input came from.
    pub source: String,
}

impl Input {
    /// Reads, overrides, deserialises and validates an input file.
    pub fn load(path: &std::path::Path, overrides: &[String]) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::File { path: path.display().to_string(), message: e.to_string() })?;
        Self::from_text(&text, overrides, &path.display().to_string())
    }

    /// Parses input text (named `source` in errors).
    pub fn from_text(text: &str, overrides: &[String], source: &str) -> Result<Self, ConfigError> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax { path: source.to_string(), message: e.to_string() })?;
        for o in overrides {
            apply_override(&mut table, o)?;
        }
        let config = Config::from_table(table)?;
        config.validate()?;
        Ok(Self { config, text: text.to_string(), overrides: overrides.to_vec(), source: source.to_string() })
    }

    /// The effective configuration as TOML (defaults filled in, overrides applied).
    pub fn effective_toml(&self) -> String {
        toml::to_string(&self.config).unwrap_or_default()
    }
}

/// Error unless `v` is a finite positive number: "a positive number (`what`)".
fn positive(section: &str, key: &str, v: f64, what: &str) -> Result<(), ConfigError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::invalid(section, key, v, format!("a positive number ({what})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_input_shows_every_default() {
        let i = Input::from_text(EXAMPLE_INPUT, &[], "example").expect("example parses");
        let c = &i.config;
        assert_eq!(c.sample, SampleConfig::default());
        assert_eq!(c.run, RunConfig::default());
        assert_eq!(c.output, OutputConfig::default());
        assert_eq!(c.model, ModelConfig::default());
        assert_eq!(c.train, crate::train::TrainSettings::default());
        assert_eq!(c.generate, GenerateConfig::default());
        assert_eq!(c.baseline, BaselineConfig::default());
        assert_eq!(c.ti, TiConfig::default());
        assert_eq!(c.pipeline, PipelineConfig::default());
        let s = c.sys();
        assert_eq!(
            (s.cutoff, s.shift, s.tail_correction, s.kind),
            (Cutoff::Radius(3.0), false, true, SystemKind::LennardJones)
        );
    }

    /// Every input shipped in inputs/ and in the model recipes parses and validates, and a model it
    /// names exists (paths relative to the repository root, where the inputs say to run them).
    #[test]
    fn shipped_inputs_parse_and_name_existing_models() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        let mut dirs = vec![root.join("inputs"), root.join("models/recipes")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()) {
                if e.is_dir() {
                    dirs.push(e);
                } else if e.extension().is_some_and(|x| x == "toml") {
                    files.push(e);
                }
            }
        }
        assert!(files.len() >= 5, "found {files:?}");
        for f in &files {
            let i = Input::load(f, &[]).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let model = &i.config.generate.model;
            if !model.is_empty() && f.starts_with(root.join("inputs")) {
                assert!(root.join(model).is_file(), "{}: model {model} is not in the repository", f.display());
            }
        }
    }

    #[test]
    fn overrides_apply_before_validation() {
        let i = Input::from_text(EXAMPLE_INPUT, &["system.density=0.25".into(), "sample.method=langevin".into()], "x")
            .unwrap();
        assert_eq!(i.config.sys().density, 0.25);
        assert_eq!(i.config.sample.method, SampleMethod::Langevin);
        let e = Input::from_text(EXAMPLE_INPUT, &["system.density=-1".into()], "x").unwrap_err();
        assert!(e.to_string().contains("[system] density = -1"), "{e}");
    }

    /// The modules allowed to import the input layer: it and the drivers above it.
    const ABOVE_CONFIG: [&str; 6] = ["config", "run", "cli.rs", "reference.rs", "main.rs", "lib.rs"];

    /// Whether Rust source `text` names the module `config` of the crate (comments aside).
    fn imports_config(text: &str) -> bool {
        let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        let grouped = code.split("crate::{").skip(1).any(|rest| {
            let group = rest.split("};").next().unwrap_or(rest);
            group.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == "config")
        });
        grouped || code.contains("crate::config") || code.contains("super::config")
    }

    /// Imports point down: no module below the input layer (physics, numerics, model, training,
    /// i/o) names it; they take plain settings such as `crate::train::TrainSettings`, which this
    /// layer reads and checks. New modules count as below unless listed in [`ABOVE_CONFIG`].
    #[test]
    fn lower_modules_do_not_import_config() {
        fn walk(p: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            if p.is_dir() {
                for e in std::fs::read_dir(p).unwrap() {
                    walk(&e.unwrap().path(), out);
                }
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p.to_path_buf());
            }
        }
        assert!(imports_config("use crate::{\n    config::Cutoff,\n    rng::stream,\n};"));
        assert!(!imports_config("// see crate::config\nfn config() {}\nuse crate::{model::Conf, rng};"));
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        for e in std::fs::read_dir(&src).unwrap() {
            let p = e.unwrap().path();
            if !ABOVE_CONFIG.contains(&p.file_name().unwrap().to_str().unwrap()) {
                walk(&p, &mut files);
            }
        }
        assert!(files.len() > 20, "{} files below config", files.len());
        let offenders: Vec<_> = files.iter().filter(|f| imports_config(&std::fs::read_to_string(f).unwrap())).collect();
        assert!(offenders.is_empty(), "modules below the input layer import crate::config: {offenders:?}");
    }
}
