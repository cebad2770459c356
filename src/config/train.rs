//! Checks of `[train]`. The section's struct and defaults, [`TrainSettings`], live in crate::train
//! (training reads them without depending on the input layer); this file is the input side.

use super::ConfigError;
use crate::train::TrainSettings;

/// Positive batches, a positive finite learning rate, fractions in range, an ordered focus interval
/// in [0, 1] and AdamW betas in [0, 1).
pub fn validate(t: &TrainSettings) -> Result<(), ConfigError> {
    if t.batch == 0 || t.micro_batch == 0 {
        let (k, v) = if t.batch == 0 { ("batch", t.batch) } else { ("micro_batch", t.micro_batch) };
        return Err(ConfigError::invalid("train", k, v, "a positive number of configurations"));
    }
    if !(t.lr > 0.0 && t.lr.is_finite()) {
        return Err(ConfigError::invalid("train", "lr", t.lr, "a positive learning rate"));
    }
    if !(0.0..1.0).contains(&t.validation_fraction) {
        return Err(ConfigError::invalid(
            "train",
            "validation_fraction",
            t.validation_fraction,
            "a fraction in [0, 1)",
        ));
    }
    if !(0.0..=1.0).contains(&t.t_focus_fraction) {
        return Err(ConfigError::invalid("train", "t_focus_fraction", t.t_focus_fraction, "a fraction in [0, 1]"));
    }
    if t.t_focus.len() != 2 || !(0.0 <= t.t_focus[0] && t.t_focus[0] < t.t_focus[1] && t.t_focus[1] <= 1.0) {
        return Err(ConfigError::invalid(
            "train",
            "t_focus",
            format!("{:?}", t.t_focus),
            "[t_lo, t_hi] with 0 <= t_lo < t_hi <= 1",
        ));
    }
    if !(0.0..1.0).contains(&t.beta1) || !(0.0..1.0).contains(&t.beta2) {
        return Err(ConfigError::invalid("train", "beta1", t.beta1, "beta1 and beta2 in [0, 1)"));
    }
    Ok(())
}
