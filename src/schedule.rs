//! Noise schedules of the forward process y_t = alpha(t) y_0 + sigma(t) z, z ~ N(0, I), written as
//! the SDE dy = -c(t) y dt + g(t) dW (Song et al., ICLR 2021, arXiv 2011.13456).

/// A forward noising process.
pub trait NoiseSchedule: Send + Sync {
    /// Noise standard deviation sigma(t) in noise coordinates.
    fn sigma(&self, t: f64) -> f64;
    /// Signal scale alpha(t) (1 for variance exploding).
    fn alpha(&self, _t: f64) -> f64 {
        1.0
    }
    /// Diffusion coefficient g^2(t).
    fn g2(&self, t: f64) -> f64;
    /// Drift coefficient c(t) of f(y, t) = -c(t) y (0 for variance exploding).
    fn drift(&self, _t: f64) -> f64 {
        0.0
    }
    /// True when coordinates live on the unit torus (wrapped into [0, 1)).
    fn periodic(&self) -> bool;
}

/// Variance exploding on the torus (fractional coordinates x / L):
/// sigma(t) = sigma_min^(1-t) sigma_max^t, g^2(t) = d sigma^2/dt = 2 sigma^2 ln(sigma_max/sigma_min).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VeSchedule {
    /// sigma(0), in units of the box side.
    pub sigma_min: f64,
    /// sigma(1), in units of the box side.
    pub sigma_max: f64,
}

impl VeSchedule {
    /// ln(sigma_max / sigma_min) = d ln sigma / dt.
    pub fn log_ratio(&self) -> f64 {
        (self.sigma_max / self.sigma_min).ln()
    }
}

impl Default for VeSchedule {
    /// The paper's values: sigma_min = 1e-3, sigma_max = 0.5.
    fn default() -> Self {
        Self { sigma_min: 1e-3, sigma_max: 0.5 }
    }
}

impl NoiseSchedule for VeSchedule {
    fn sigma(&self, t: f64) -> f64 {
        self.sigma_min.powf(1.0 - t) * self.sigma_max.powf(t)
    }
    fn g2(&self, t: f64) -> f64 {
        let s = self.sigma(t);
        2.0 * s * s * self.log_ratio()
    }
    fn periodic(&self) -> bool {
        true
    }
}

/// Variance preserving: alpha = cos(phi(t)), sigma = sin(phi(t)), phi linear in t from
/// arccos(alpha_0) to arccos(alpha_1) (the paper's toy uses 0.999 and 0.001). Then
/// c(t) = tan(phi) phi' and g^2(t) = 2 c(t) = beta(t).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VpSchedule {
    /// phi(0).
    pub phi0: f64,
    /// phi(1).
    pub phi1: f64,
}

impl Default for VpSchedule {
    fn default() -> Self {
        Self { phi0: 0.999f64.acos(), phi1: 0.001f64.acos() }
    }
}

impl VpSchedule {
    fn phi(&self, t: f64) -> f64 {
        self.phi0 + (self.phi1 - self.phi0) * t
    }
}

impl NoiseSchedule for VpSchedule {
    fn sigma(&self, t: f64) -> f64 {
        self.phi(t).sin()
    }
    fn alpha(&self, t: f64) -> f64 {
        self.phi(t).cos()
    }
    fn g2(&self, t: f64) -> f64 {
        2.0 * self.drift(t)
    }
    fn drift(&self, t: f64) -> f64 {
        self.phi(t).tan() * (self.phi1 - self.phi0)
    }
    fn periodic(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g2_is_the_derivative_of_the_variance() {
        // VE: g^2 = d sigma^2/dt. VP: d sigma^2/dt = -2 c sigma^2 + g^2 (variance of the OU-type SDE)
        // and d alpha/dt = -c alpha.
        let ve = VeSchedule::default();
        let vp = VpSchedule::default();
        let h = 1e-6;
        for t in [0.01, 0.3, 0.5, 0.9] {
            let fd = (ve.sigma(t + h).powi(2) - ve.sigma(t - h).powi(2)) / (2.0 * h);
            assert!((ve.g2(t) - fd).abs() < 1e-7 * fd.abs().max(1e-6), "VE t={t}");
            let fd = (vp.sigma(t + h).powi(2) - vp.sigma(t - h).powi(2)) / (2.0 * h);
            let want = -2.0 * vp.drift(t) * vp.sigma(t).powi(2) + vp.g2(t);
            assert!((want - fd).abs() < 1e-6 * fd.abs().max(1.0), "VP t={t}: {want} vs {fd}");
            let fa = (vp.alpha(t + h) - vp.alpha(t - h)) / (2.0 * h);
            assert!((fa + vp.drift(t) * vp.alpha(t)).abs() < 1e-6, "VP alpha t={t}");
        }
        assert!((ve.sigma(0.0) - 1e-3).abs() < 1e-18 && (ve.sigma(1.0) - 0.5).abs() < 1e-15);
    }
}
