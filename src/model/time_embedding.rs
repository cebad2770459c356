//! Time embedding: tau(t) = [t, sin(pi m t), cos(pi m t) for m = 1..M] (Fourier features of t;
//! Tancik et al., NeurIPS 2020), with its exact derivative d tau / dt.

/// Fourier features of t in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TimeEmbedding {
    /// Number of frequencies M.
    pub n_freq: usize,
}

impl TimeEmbedding {
    /// Number of features 2 M + 1.
    pub fn n_features(&self) -> usize {
        2 * self.n_freq + 1
    }

    /// tau(t).
    pub fn features(&self, t: f64) -> Vec<f64> {
        let mut v = vec![t];
        for m in 1..=self.n_freq {
            let w = std::f64::consts::PI * m as f64;
            v.push((w * t).sin());
            v.push((w * t).cos());
        }
        v
    }

    /// d tau / dt.
    pub fn derivative(&self, t: f64) -> Vec<f64> {
        let mut v = vec![1.0];
        for m in 1..=self.n_freq {
            let w = std::f64::consts::PI * m as f64;
            v.push(w * (w * t).cos());
            v.push(-w * (w * t).sin());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_matches_central_differences() {
        let e = TimeEmbedding { n_freq: 4 };
        let h = 1e-6;
        for t in [0.01, 0.5, 0.97] {
            let (p, m, d) = (e.features(t + h), e.features(t - h), e.derivative(t));
            for k in 0..e.n_features() {
                let fd = (p[k] - m[k]) / (2.0 * h);
                assert!((d[k] - fd).abs() < 1e-7 * fd.abs().max(1.0));
            }
        }
    }
}
