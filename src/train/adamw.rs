//! AdamW (Loshchilov & Hutter, ICLR 2019) with bias correction and decoupled weight decay; the
//! learning rate of each step comes from the schedule of [`TrainSettings::learning_rate`].

use super::TrainSettings;

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
    fn first_step() {
        let s = TrainSettings::default();
        // First AdamW step moves each parameter by lr * sign(g) (plus decay).
        let mut a = AdamW::new(2);
        let mut th = vec![1.0, -2.0];
        a.update(&mut th, &[0.5, -3.0], 0.1, &s);
        assert!((th[0] - (1.0 - 0.1 * (0.5 / (0.5 + 1e-8) + 1e-4))).abs() < 1e-12, "{}", th[0]);
        assert!((th[1] - (-2.0 + 0.1 * (3.0 / (3.0 + 1e-8)) + 0.1 * 1e-4 * 2.0)).abs() < 1e-12, "{}", th[1]);
    }
}
