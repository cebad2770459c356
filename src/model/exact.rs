//! Systems with exact free energies, for tests of the whole pipeline (docs/design.md sec. 4). Each gives
//! the reduced energy E_0(y) = -ln p(y) (unnormalised), its gradient, ln Z = ln int exp(-E_0), and
//! exact samples.

use crate::rng::Stream;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// A distribution exp(-E_0(y)) / Z with known Z.
pub trait ExactSystem: Send + Sync {
    /// Dimension D.
    fn dim(&self) -> usize;
    /// E_0(y).
    fn energy(&self, y: &[f64]) -> f64;
    /// grad E_0(y).
    fn grad(&self, y: &[f64]) -> Vec<f64>;
    /// ln Z.
    fn ln_z(&self) -> f64;
    /// An exact sample.
    fn sample(&self, rng: &mut Stream) -> Vec<f64>;
}

fn normal(rng: &mut Stream) -> f64 {
    StandardNormal.sample(rng)
}

/// 1D mixture p(y) = 2 N(y; -2, 1) + N(y; 2, 1) (unnormalised), Z = 3.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mixture1d;

impl ExactSystem for Mixture1d {
    fn dim(&self) -> usize {
        1
    }
    fn energy(&self, y: &[f64]) -> f64 {
        let c = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        let p = c * (2.0 * (-0.5 * (y[0] + 2.0).powi(2)).exp() + (-0.5 * (y[0] - 2.0).powi(2)).exp());
        -p.ln()
    }
    fn grad(&self, y: &[f64]) -> Vec<f64> {
        let a = 2.0 * (-0.5 * (y[0] + 2.0).powi(2)).exp();
        let b = (-0.5 * (y[0] - 2.0).powi(2)).exp();
        // -d ln p / dy = (a (y + 2) + b (y - 2)) / (a + b)
        vec![(a * (y[0] + 2.0) + b * (y[0] - 2.0)) / (a + b)]
    }
    fn ln_z(&self) -> f64 {
        3f64.ln()
    }
    fn sample(&self, rng: &mut Stream) -> Vec<f64> {
        let mu = if rng.random::<f64>() < 2.0 / 3.0 { -2.0 } else { 2.0 };
        vec![mu + normal(rng)]
    }
}

/// Independent Gaussians E_0 = sum_k y_k^2 / (2 v_k), ln Z = sum_k (1/2) ln(2 pi v_k).
#[derive(Clone, Debug)]
pub struct Gaussians {
    /// Variances v_k.
    pub variances: Vec<f64>,
}

impl ExactSystem for Gaussians {
    fn dim(&self) -> usize {
        self.variances.len()
    }
    fn energy(&self, y: &[f64]) -> f64 {
        y.iter().zip(&self.variances).map(|(a, v)| a * a / (2.0 * v)).sum()
    }
    fn grad(&self, y: &[f64]) -> Vec<f64> {
        y.iter().zip(&self.variances).map(|(a, v)| a / v).collect()
    }
    fn ln_z(&self) -> f64 {
        self.variances.iter().map(|v| 0.5 * (2.0 * std::f64::consts::PI * v).ln()).sum()
    }
    fn sample(&self, rng: &mut Stream) -> Vec<f64> {
        self.variances.iter().map(|v| v.sqrt() * normal(rng)).collect()
    }
}

/// 2D double well E_0 = a (x^2 - 1)^2 + (k/2) (y - c x)^2. Z = sqrt(2 pi / k) int exp(-a (x^2-1)^2) dx
/// (the y-integral is Gaussian for every x; the x-integral by fine quadrature).
#[derive(Clone, Copy, Debug)]
pub struct DoubleWell2d {
    /// Barrier parameter a.
    pub a: f64,
    /// Transverse stiffness k.
    pub k: f64,
    /// Coupling c.
    pub c: f64,
}

impl DoubleWell2d {
    fn x_weight(&self, x: f64) -> f64 {
        (-self.a * (x * x - 1.0).powi(2)).exp()
    }
    fn x_range(&self) -> (f64, f64) {
        let r = 1.0 + (40.0 / self.a).sqrt().sqrt() + 1.0;
        (-r, r)
    }
}

impl ExactSystem for DoubleWell2d {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&self, y: &[f64]) -> f64 {
        self.a * (y[0] * y[0] - 1.0).powi(2) + 0.5 * self.k * (y[1] - self.c * y[0]).powi(2)
    }
    fn grad(&self, y: &[f64]) -> Vec<f64> {
        let d = y[1] - self.c * y[0];
        vec![4.0 * self.a * y[0] * (y[0] * y[0] - 1.0) - self.k * self.c * d, self.k * d]
    }
    fn ln_z(&self) -> f64 {
        let (lo, hi) = self.x_range();
        let n = 20_000;
        let h = (hi - lo) / n as f64;
        let zx: f64 = (0..n).map(|i| self.x_weight(lo + (i as f64 + 0.5) * h) * h).sum();
        zx.ln() + 0.5 * (2.0 * std::f64::consts::PI / self.k).ln()
    }
    fn sample(&self, rng: &mut Stream) -> Vec<f64> {
        // x by rejection from a uniform proposal on the support (weight <= 1), then y | x Gaussian.
        let (lo, hi) = self.x_range();
        let x = loop {
            let x = lo + (hi - lo) * rng.random::<f64>();
            if rng.random::<f64>() < self.x_weight(x) {
                break x;
            }
        };
        vec![x, self.c * x + normal(rng) / self.k.sqrt()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};

    fn check_grad(s: &dyn ExactSystem, y: &[f64]) {
        let g = s.grad(y);
        for k in 0..y.len() {
            let (mut p, mut m) = (y.to_vec(), y.to_vec());
            p[k] += 1e-6;
            m[k] -= 1e-6;
            let fd = (s.energy(&p) - s.energy(&m)) / 2e-6;
            assert!((g[k] - fd).abs() < 1e-7 * fd.abs().max(1.0), "{k}: {} vs {fd}", g[k]);
        }
    }

    #[test]
    fn gradients_match_central_differences() {
        check_grad(&Mixture1d, &[0.3]);
        check_grad(&Mixture1d, &[-2.5]);
        check_grad(&Gaussians { variances: vec![0.5, 2.0] }, &[0.3, -1.2]);
        check_grad(&DoubleWell2d { a: 2.0, k: 4.0, c: 0.5 }, &[0.8, -0.1]);
    }

    #[test]
    fn partition_functions_match_quadrature_and_samples_match_moments() {
        // 1D mixture: Z = 3 by direct quadrature of exp(-E_0).
        let n = 40_000;
        let h = 30.0 / n as f64;
        let z: f64 = (0..n).map(|i| (-Mixture1d.energy(&[-15.0 + (i as f64 + 0.5) * h])).exp() * h).sum();
        assert!((z - 3.0).abs() < 1e-9, "{z}");
        // Sample mean of the mixture is (2 (-2) + 2) / 3 = -2/3; sd of the sample mean ~ 2/sqrt(n).
        let mut r = stream(3, Purpose::Init, 0);
        let m = 40_000;
        let mean = (0..m).map(|_| Mixture1d.sample(&mut r)[0]).sum::<f64>() / m as f64;
        let sd = (1.0 + 16.0 / 9.0 * 2.0f64).sqrt() / (m as f64).sqrt(); // var = 1 + 32/9
        assert!((mean + 2.0 / 3.0).abs() < 4.0 * sd, "mixture mean {mean}");
        // Double well: samples' <x^2> against quadrature.
        let dw = DoubleWell2d { a: 2.0, k: 4.0, c: 0.5 };
        let (lo, hi) = dw.x_range();
        let h = (hi - lo) / n as f64;
        let (mut z0, mut z2) = (0.0, 0.0);
        for i in 0..n {
            let x = lo + (i as f64 + 0.5) * h;
            z0 += dw.x_weight(x) * h;
            z2 += x * x * dw.x_weight(x) * h;
        }
        let x2: Vec<f64> = (0..m).map(|_| dw.sample(&mut r)[0].powi(2)).collect();
        let mx = x2.iter().sum::<f64>() / m as f64;
        let sx = (x2.iter().map(|v| (v - mx).powi(2)).sum::<f64>() / m as f64).sqrt() / (m as f64).sqrt();
        assert!((mx - z2 / z0).abs() < 4.0 * sx, "<x^2> {mx} vs {}", z2 / z0);
    }
}
