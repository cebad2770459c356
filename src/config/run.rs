//! `[run]`: seeds and run control.

use serde::{Deserialize, Serialize};

/// `[run]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Master seed; every random stream is keyed by (seed, purpose, replica id). Default 2024.
    pub seed: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self { seed: 2024 }
    }
}
