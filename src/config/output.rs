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
    /// Seconds between saves of the state of a running sampling replica or lambda window
    /// (`<output stem>.items/`), so that a kill -9 loses at most this much of it; a stop request
    /// (SIGTERM, SIGINT, SIGUSR1) always saves. 0 = only on a stop request. Default 300.
    pub item_save_seconds: f64,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self { file: "nti_results.h5".to_string(), overwrite: false, item_save_seconds: 300.0 }
    }
}

impl OutputConfig {
    /// A non-blank file name and a finite, non-negative save interval.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.file.trim().is_empty() {
            return Err(ConfigError::invalid("output", "file", "\"\"", "a file name"));
        }
        let s = self.item_save_seconds;
        if !(s.is_finite() && s >= 0.0) {
            return Err(ConfigError::invalid("output", "item_save_seconds", s, "a non-negative number of seconds"));
        }
        Ok(())
    }

    /// The interval of periodic item-state saves (`None`: only on a stop request).
    pub fn item_save_interval(&self) -> Option<std::time::Duration> {
        (self.item_save_seconds > 0.0).then(|| std::time::Duration::from_secs_f64(self.item_save_seconds.min(1e12)))
    }
}
