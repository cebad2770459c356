//! Training data: clean configurations (t = 0) in noise coordinates, split into training and
//! held-out validation sets by a seeded permutation.

use crate::model::Conf;
use crate::rng::{stream, Purpose};
use rand::seq::SliceRandom;

/// Configurations with a fixed train/validation split.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// All configurations.
    pub confs: Vec<Conf>,
    /// Indices used for training.
    pub train: Vec<usize>,
    /// Held-out indices.
    pub validation: Vec<usize>,
}

impl Dataset {
    /// Splits `confs`, holding out `fraction` of them (at least one each way when possible).
    pub fn new(confs: Vec<Conf>, fraction: f64, seed: u64) -> Self {
        let n = confs.len();
        let mut idx: Vec<usize> = (0..n).collect();
        idx.shuffle(&mut stream(seed, Purpose::DataOrder, u64::MAX));
        let n_val = ((n as f64 * fraction).round() as usize).min(n.saturating_sub(1));
        let validation = idx[..n_val].to_vec();
        let mut train = idx[n_val..].to_vec();
        train.sort_unstable();
        Self { confs, train, validation }
    }
}
