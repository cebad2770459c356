//! From serde's messages to errors that name the section, the key, the value and what was expected
//! (in the words of an input file, not of Rust types), and the keys of removed options.

use super::ConfigError;
use serde::Deserialize;

/// Deserialises one section, turning serde's messages into errors that name section and key.
pub(super) fn section<T: for<'de> Deserialize<'de> + Default>(
    table: &mut toml::Table,
    name: &str,
    required: bool,
) -> Result<T, ConfigError> {
    let value = match table.remove(name) {
        None if !required => return Ok(T::default()),
        None => return Err(ConfigError::MissingSection { section: name.to_string() }),
        Some(v) => v,
    };
    let sub = match value {
        toml::Value::Table(t) => t,
        other => return Err(ConfigError::invalid("top level", name, other, format!("a [{name}] section (table)"))),
    };
    T::deserialize(toml::Value::Table(sub.clone())).map_err(|e| serde_to_config_error(name, &sub, &e.to_string()))
}

/// Keys of experimental options that were removed (docs/experiments.md); an input that still sets
/// one gets an error that says so instead of "unknown key".
const REMOVED_KEYS: [(&str, &str); 14] = [
    ("model", "standardize"),
    ("model", "linear_time_basis"),
    ("model", "readout_time_basis"),
    ("model", "n_two_hop"),
    ("train", "time_score_weight"),
    ("train", "time_score_t_max"),
    ("train", "time_score_t_min"),
    ("train", "cd_weight"),
    ("train", "cd_steps"),
    ("train", "cd_step_size"),
    ("train", "cd_fraction"),
    ("train", "cd_t_range"),
    ("train", "score_weight"),
    ("train", "trainable"),
];

/// Maps a serde/toml message onto a [`ConfigError`] naming the section and key.
fn serde_to_config_error(section: &str, table: &toml::Table, msg: &str) -> ConfigError {
    let first = msg.lines().next().unwrap_or(msg).trim().to_string();
    let between = |s: &str| s.split('`').nth(1).map(str::to_string);
    if let Some(rest) = first.strip_prefix("unknown field ") {
        let key = between(rest).unwrap_or_default();
        let expected = rest
            .split_once("expected ")
            .map(|x| x.1.replace('`', "").trim_start_matches("one of ").to_string())
            .unwrap_or_default();
        if REMOVED_KEYS.contains(&(section, key.as_str())) {
            return ConfigError::Removed { section: section.into(), key };
        }
        return ConfigError::UnknownKey { section: section.into(), key, expected };
    }
    if let Some(rest) = first.strip_prefix("missing field ") {
        let key = between(rest).unwrap_or_default();
        return ConfigError::Missing {
            section: section.into(),
            key,
            expected: "a value (this key has no default)".into(),
        };
    }
    let key = msg.lines().find_map(|l| l.trim().strip_prefix("in ").and_then(between)).unwrap_or_default();
    let value = table.get(&key).map(|v| v.to_string()).unwrap_or_else(|| "?".into());
    let expected = first.split_once("expected ").map(|x| friendly_type(x.1)).unwrap_or(first.clone());
    ConfigError::Invalid { section: section.into(), key, value, expected }
}

/// Replaces Rust type names in serde messages by what a user would write.
fn friendly_type(expected: &str) -> String {
    match expected.trim() {
        "usize" | "u64" | "u32" => "a non-negative integer".into(),
        "i64" | "i32" => "an integer".into(),
        "f64" | "f32" => "a number".into(),
        "a boolean" | "bool" => "true or false".into(),
        other => other.replace('`', "\""),
    }
}
