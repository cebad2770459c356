//! AdamW (Loshchilov & Hutter, ICLR 2019) with bias correction and decoupled weight decay, and the
//! step-decay learning-rate schedule of the Neural TI paper (x0.1 every 50k steps, floor 1e-5).

use serde::{Deserialize, Serialize};

/// `[train]`: optimiser, schedule, batch and bookkeeping. Defaults follow the paper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// HDF5 results files of `nti sample` whose trajectories are the training data.
    #[serde(default)]
    pub data: Vec<String>,
    /// Optimiser steps. Default 100000.
    #[serde(default = "d_steps")]
    pub steps: u64,
    /// Global batch size (configurations per step). Default 32.
    #[serde(default = "d_batch")]
    pub batch: usize,
    /// Micro-batch size: the global batch is cut into fixed micro-batches whose gradients are summed
    /// in a fixed order, so results do not depend on the number of ranks. Default 4.
    #[serde(default = "d_micro")]
    pub micro_batch: usize,
    /// Initial learning rate. Default 1e-3.
    #[serde(default = "d_lr")]
    pub lr: f64,
    /// Learning-rate factor applied every `lr_decay_every` steps. Default 0.1.
    #[serde(default = "d_decay")]
    pub lr_decay: f64,
    /// Steps between learning-rate decays. Default 50000.
    #[serde(default = "d_decay_every")]
    pub lr_decay_every: u64,
    /// Learning-rate floor. Default 1e-5.
    #[serde(default = "d_lr_min")]
    pub lr_min: f64,
    /// AdamW beta1. Default 0.9.
    #[serde(default = "d_b1")]
    pub beta1: f64,
    /// AdamW beta2. Default 0.999.
    #[serde(default = "d_b2")]
    pub beta2: f64,
    /// AdamW epsilon. Default 1e-8.
    #[serde(default = "d_eps")]
    pub eps: f64,
    /// Decoupled weight decay. Default 1e-4.
    #[serde(default = "d_wd")]
    pub weight_decay: f64,
    /// Fraction of configurations held out for the validation loss. Default 0.1.
    #[serde(default = "d_val")]
    pub validation_fraction: f64,
    /// Number of (configuration, t, z) validation samples, fixed for the whole run. Default 256.
    #[serde(default = "d_nval")]
    pub validation_samples: usize,
    /// Steps between validation-loss evaluations (and loss-curve points). Default 1000.
    #[serde(default = "d_eval")]
    pub eval_every: u64,
    /// Steps between checkpoints (0 = only at the end). Default 10000.
    #[serde(default = "d_ckpt")]
    pub checkpoint_every: u64,
    /// Focus interval [t_lo, t_hi] of the training times (see `t_focus_fraction`). Default [0.3, 0.7].
    #[serde(default = "d_focus")]
    pub t_focus: Vec<f64>,
    /// Fraction f of training samples whose time is drawn from U(t_lo, t_hi) instead of U(0, 1).
    /// Without reweighting, this changes the weight of the score-matching loss over t to
    /// `lambda(t) = (1 - f) + f 1[t_lo, t_hi](t) / (t_hi - t_lo)` (Song et al., ICLR 2021, eq. 7):
    /// the network's capacity goes where the reverse SDE forms the liquid's structure (for the
    /// paper's dense LJ states t = 0.4-0.6; validation/paper_lj/README.md). The validation loss
    /// keeps t ~ U(0, 1). Default 0 (uniform, the paper's).
    #[serde(default)]
    pub t_focus_fraction: f64,
    /// Target score matching (De Bortoli, Hutchinson, Wirnsberger & Doucet, arXiv:2402.08667
    /// (2024)): the noise z in the score-matching residual is blended with the clean score, whose
    /// conditional mean given y_t is the same (`crate::train::target`). Removes the noise floor
    /// that hides the score at small t from plain denoising score matching. Needs training data
    /// that sample exp(-u_0) (the reference simulation at the model's T and interactions).
    /// Default false (the paper's denoising score matching).
    #[serde(default)]
    pub target_score: bool,
}

fn d_focus() -> Vec<f64> {
    vec![0.3, 0.7]
}

fn d_steps() -> u64 {
    100_000
}
fn d_batch() -> usize {
    32
}
fn d_micro() -> usize {
    4
}
fn d_lr() -> f64 {
    1e-3
}
fn d_decay() -> f64 {
    0.1
}
fn d_decay_every() -> u64 {
    50_000
}
fn d_lr_min() -> f64 {
    1e-5
}
fn d_b1() -> f64 {
    0.9
}
fn d_b2() -> f64 {
    0.999
}
fn d_eps() -> f64 {
    1e-8
}
fn d_wd() -> f64 {
    1e-4
}
fn d_val() -> f64 {
    0.1
}
fn d_nval() -> usize {
    256
}
fn d_eval() -> u64 {
    1000
}
fn d_ckpt() -> u64 {
    10_000
}

impl Default for TrainSettings {
    fn default() -> Self {
        toml::from_str("").expect("all keys have defaults")
    }
}

impl TrainSettings {
    /// lr(step) = max(lr0 * decay^floor(step / decay_every), lr_min).
    pub fn learning_rate(&self, step: u64) -> f64 {
        let k = step.checked_div(self.lr_decay_every).unwrap_or(0);
        (self.lr * self.lr_decay.powi(k.min(1000) as i32)).max(self.lr_min)
    }
}

/// AdamW moment estimates.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW {
    /// First moments m.
    pub m: Vec<f64>,
    /// Second moments v.
    pub v: Vec<f64>,
    /// Number of updates applied.
    pub t: u64,
}

impl AdamW {
    /// Zero moments for `n` parameters.
    pub fn new(n: usize) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n], t: 0 }
    }

    /// theta <- theta - lr (m_hat / (sqrt(v_hat) + eps) + wd theta).
    pub fn update(&mut self, theta: &mut [f64], g: &[f64], lr: f64, s: &TrainSettings) {
        self.t += 1;
        let c1 = 1.0 - s.beta1.powi(self.t.min(i32::MAX as u64) as i32);
        let c2 = 1.0 - s.beta2.powi(self.t.min(i32::MAX as u64) as i32);
        for i in 0..theta.len() {
            self.m[i] = s.beta1 * self.m[i] + (1.0 - s.beta1) * g[i];
            self.v[i] = s.beta2 * self.v[i] + (1.0 - s.beta2) * g[i] * g[i];
            let mh = self.m[i] / c1;
            let vh = self.v[i] / c2;
            theta[i] -= lr * (mh / (vh.sqrt() + s.eps) + s.weight_decay * theta[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_and_first_step() {
        let s = TrainSettings::default();
        assert_eq!(s.learning_rate(0), 1e-3);
        assert!((s.learning_rate(50_000) - 1e-4).abs() < 1e-18);
        assert_eq!(s.learning_rate(10_000_000), 1e-5);
        // First AdamW step moves each parameter by lr * sign(g) (plus decay).
        let mut a = AdamW::new(2);
        let mut th = vec![1.0, -2.0];
        a.update(&mut th, &[0.5, -3.0], 0.1, &s);
        assert!((th[0] - (1.0 - 0.1 * (0.5 / (0.5 + 1e-8) + 1e-4))).abs() < 1e-12, "{}", th[0]);
        assert!((th[1] - (-2.0 + 0.1 * (3.0 / (3.0 + 1e-8)) + 0.1 * 1e-4 * 2.0)).abs() < 1e-12, "{}", th[1]);
    }
}
