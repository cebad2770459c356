//! `[train]` settings: optimiser, learning-rate schedule, batches and bookkeeping of score-matching
//! training, with their defaults (the paper's). Defined here rather than in the input layer so that
//! training does not depend on it; the input layer (`[train]` in config/) reads and checks the section.

use serde::{Deserialize, Serialize};

/// `[train]`: optimiser, schedule, batch and bookkeeping. Defaults follow the paper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSettings {
    /// HDF5 results files of `nti sample` whose trajectories are the training data.
    pub data: Vec<String>,
    /// Optimiser steps. Default 100000.
    pub steps: u64,
    /// Global batch size (configurations per step). Default 32.
    pub batch: usize,
    /// Micro-batch size: the global batch is cut into fixed micro-batches whose gradients are summed
    /// in a fixed order, so results do not depend on the number of ranks. Default 4.
    pub micro_batch: usize,
    /// Initial learning rate. Default 1e-3.
    pub lr: f64,
    /// Learning-rate factor applied every `lr_decay_every` steps. Default 0.1.
    pub lr_decay: f64,
    /// Steps between learning-rate decays. Default 50000.
    pub lr_decay_every: u64,
    /// Learning-rate floor. Default 1e-5.
    pub lr_min: f64,
    /// AdamW beta1. Default 0.9.
    pub beta1: f64,
    /// AdamW beta2. Default 0.999.
    pub beta2: f64,
    /// AdamW epsilon. Default 1e-8.
    pub eps: f64,
    /// Decoupled weight decay. Default 1e-4.
    pub weight_decay: f64,
    /// Fraction of configurations held out for the validation loss. Default 0.1.
    pub validation_fraction: f64,
    /// Number of (configuration, t, z) validation samples, fixed for the whole run. Default 256.
    pub validation_samples: usize,
    /// Steps between validation-loss evaluations (and loss-curve points). Default 1000.
    pub eval_every: u64,
    /// Steps between checkpoints (0 = only at the end). Default 10000.
    pub checkpoint_every: u64,
    /// Focus interval [t_lo, t_hi] of the training times (see `t_focus_fraction`). Default [0.3, 0.7].
    pub t_focus: Vec<f64>,
    /// Fraction f of training samples whose time is drawn from U(t_lo, t_hi) instead of U(0, 1).
    /// Without reweighting, this changes the weight of the score-matching loss over t to
    /// `lambda(t) = (1 - f) + f 1[t_lo, t_hi](t) / (t_hi - t_lo)` (Song et al., ICLR 2021, eq. 7):
    /// the network's capacity goes where the reverse SDE forms the liquid's structure (for the
    /// paper's dense LJ states t = 0.4-0.6; validation/paper_lj/README.md). The validation loss
    /// keeps t ~ U(0, 1). Default 0 (uniform, the paper's).
    pub t_focus_fraction: f64,
    /// Target score matching (De Bortoli, Hutchinson, Wirnsberger & Doucet, arXiv:2402.08667
    /// (2024)): the noise z in the score-matching residual is blended with the clean score, whose
    /// conditional mean given y_t is the same (`crate::train::target`). Removes the noise floor
    /// that hides the score at small t from plain denoising score matching. Needs training data
    /// that sample exp(-u_0) (the reference simulation at the model's T and interactions).
    /// Default false (the paper's denoising score matching).
    pub target_score: bool,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            steps: 100_000,
            batch: 32,
            micro_batch: 4,
            lr: 1e-3,
            lr_decay: 0.1,
            lr_decay_every: 50_000,
            lr_min: 1e-5,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-4,
            validation_fraction: 0.1,
            validation_samples: 256,
            eval_every: 1000,
            checkpoint_every: 10_000,
            t_focus: vec![0.3, 0.7],
            t_focus_fraction: 0.0,
            target_score: false,
        }
    }
}

impl TrainSettings {
    /// The step-decay schedule of the Neural TI paper (x0.1 every 50k steps, floor 1e-5 with the
    /// defaults): lr(step) = max(lr0 * decay^floor(step / decay_every), lr_min).
    pub fn learning_rate(&self, step: u64) -> f64 {
        let k = step.checked_div(self.lr_decay_every).unwrap_or(0);
        (self.lr * self.lr_decay.powi(k.min(1000) as i32)).max(self.lr_min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule() {
        let s = TrainSettings::default();
        assert_eq!(s.learning_rate(0), 1e-3);
        assert!((s.learning_rate(50_000) - 1e-4).abs() < 1e-18);
        assert_eq!(s.learning_rate(10_000_000), 1e-5);
    }
}
