//! Input errors that name the file, section, key, offending value and what was expected (the
//! input layer, `config`, raises them; `exit` maps them to the bad-input exit code).

use thiserror::Error;

/// Every way an input can be wrong.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read input file '{path}': {message}")]
    File { path: String, message: String },
    /// The file is not valid TOML.
    #[error("input file '{path}' is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    /// A key or section that this version does not know.
    #[error("unknown key '{key}' in [{section}]; expected one of: {expected}")]
    UnknownKey { section: String, key: String, expected: String },
    /// A key of an experimental option that was removed.
    #[error("key '{key}' in [{section}] belonged to an experimental option that was removed (it measured no gain; see docs/experiments.md): delete it from the input")]
    Removed { section: String, key: String },
    /// A required section is absent.
    #[error("missing section [{section}]: this input needs it (see `nti example`)")]
    MissingSection { section: String },
    /// A required key is absent.
    #[error("missing key '{key}' in [{section}]: expected {expected}")]
    Missing { section: String, key: String, expected: String },
    /// A key has a value of the wrong type or out of range.
    #[error("invalid value for [{section}] {key} = {value}: expected {expected}")]
    Invalid { section: String, key: String, value: String, expected: String },
    /// A malformed `--set` override.
    #[error("invalid override '--set {given}': {expected}")]
    Override { given: String, expected: String },
}

impl ConfigError {
    /// Shorthand for [`ConfigError::Invalid`].
    pub fn invalid(section: &str, key: &str, value: impl std::fmt::Display, expected: impl Into<String>) -> Self {
        ConfigError::Invalid {
            section: section.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}
