//! `[output]`: the results file, its default and its check.

use super::ConfigError;
use serde::{Deserialize, Serialize};

/// `[output]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// Results file (HDF5). Default "nti_results.h5".
    pub file: String,
    /// Replace an existing results file. Default false (an existing file is an error).
    pub overwrite: bool,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self { file: "nti_results.h5".to_string(), overwrite: false }
    }
}

impl OutputConfig {
    /// A non-blank file name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.file.trim().is_empty() {
            return Err(ConfigError::invalid("output", "file", "\"\"", "a file name"));
        }
        Ok(())
    }
}
