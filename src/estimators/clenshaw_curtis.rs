//! Clenshaw-Curtis quadrature with its embedded half rule: a TI estimate over t-windows that
//! carries an estimate of its own discretisation error at no extra sampling cost.
//!
//! On [-1, 1] the (n + 1)-point rule has the Chebyshev extreme points x_k = cos(k pi / n),
//! k = 0..n (both ends included), and integrates exactly every polynomial of degree <= n
//! (degree n + 1 for even n by symmetry). Its weights are (Trefethen, *Spectral Methods in MATLAB*,
//! SIAM 2000, `clencurt.m`; Waldvogel, BIT 46, 195 (2006)), with theta_k = k pi / n:
//!
//!   n even: w_0 = w_n = 1 / (n^2 - 1),
//!           w_k = (2/n) [1 - sum_{j=1}^{n/2-1} 2 cos(2 j theta_k) / (4 j^2 - 1) - cos(n theta_k) / (n^2 - 1)];
//!   n odd:  w_0 = w_n = 1 / n^2,
//!           w_k = (2/n) [1 - sum_{j=1}^{(n-1)/2} 2 cos(2 j theta_k) / (4 j^2 - 1)].
//!
//! For even n the nodes of the (n/2 + 1)-point rule are the even-indexed nodes of the n-point one
//! (cos(2k pi / n) = cos(k pi / (n/2))): the rules are *nested*. With independent node estimates
//! f_j +- s_j (one simulation per window) both integrals come from the same windows, and
//!
//!   E = Q_coarse - Q_fine = sum_j (w^c_j - w^f_j) f_j,   se(E)^2 = sum_j (w^c_j - w^f_j)^2 s_j^2
//!
//! (w^c_j = 0 at odd j) is the embedded error estimate: E estimates the discretisation error of the
//! coarse rule and, for an integrand the fine rule resolves better (the usual case: the error falls
//! at least like the rule's degree; Trefethen, SIAM Rev. 50, 67 (2008)), bounds that of the fine
//! one from above. The same construction as the Gauss-Kronrod pair of QUADPACK (Piessens et al.
//! 1983), with nested nodes instead of a Kronrod extension.
//!
//! Units: weights in units of the variable (t); E in the integrand's units times t (kT for TI).

use super::quadrature::Quadrature;
use anyhow::{ensure, Result};
use std::f64::consts::PI;

/// Clenshaw-Curtis rule with `m >= 2` nodes (n = m - 1 intervals) on [a, b], nodes ascending
/// from a to b (both ends included); exact for polynomials of degree <= m - 1.
pub fn clenshaw_curtis(m: usize, a: f64, b: f64) -> Result<Quadrature> {
    ensure!(m >= 2, "Clenshaw-Curtis rule needs at least 2 nodes (both ends), got {m}");
    ensure!(a.is_finite() && b.is_finite() && a != b, "interval [{a}, {b}] must be finite and non-empty");
    let n = m - 1;
    let nf = n as f64;
    let mut w = vec![0.0; m];
    let end = if n % 2 == 0 { 1.0 / (nf * nf - 1.0) } else { 1.0 / (nf * nf) };
    w[0] = end;
    w[n] = end;
    for (k, wk) in w.iter_mut().enumerate().take(n).skip(1) {
        let theta = k as f64 * PI / nf;
        let mut v = 1.0;
        let half = if n % 2 == 0 { n / 2 - 1 } else { (n - 1) / 2 };
        for j in 1..=half {
            let jf = j as f64;
            v -= 2.0 * (2.0 * jf * theta).cos() / (4.0 * jf * jf - 1.0);
        }
        if n % 2 == 0 {
            v -= (nf * theta).cos() / (nf * nf - 1.0);
        }
        *wk = 2.0 * v / nf;
    }
    // x_k = cos(k pi / n) runs from 1 to -1: store ascending, x_{n-k} = -x_k exactly.
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    let x = |k: usize| -> f64 {
        let two_k = 2 * k;
        if two_k == n {
            0.0
        } else if two_k < n {
            -(k as f64 * PI / nf).cos()
        } else {
            ((n - k) as f64 * PI / nf).cos()
        }
    };
    let nodes = (0..m)
        .map(|k| {
            if k == 0 {
                a
            } else if k == n {
                b
            } else {
                c + h * x(k)
            }
        })
        .collect();
    // Ascending order reverses k; the weights are symmetric (w_k = w_{n-k}).
    let weights = w.iter().rev().map(|&wk| h * wk).collect();
    Ok(Quadrature { nodes, weights })
}

/// A Clenshaw-Curtis rule and its embedded half rule on the same nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct NestedRule {
    /// The (n + 1)-point rule (n even).
    pub fine: Quadrature,
    /// Weights of the (n/2 + 1)-point rule on the fine rule's nodes (0 at the odd-indexed nodes).
    pub coarse_weights: Vec<f64>,
}

impl NestedRule {
    /// The nested pair with `m` nodes on [a, b]; `m` must be odd and >= 3 (the coarse rule then has
    /// (m + 1) / 2 >= 2 nodes).
    pub fn new(m: usize, a: f64, b: f64) -> Result<Self> {
        ensure!(
            m >= 3 && m % 2 == 1,
            "a nested Clenshaw-Curtis pair needs an odd number of nodes >= 3 (the half rule uses every \
             other node), got {m}"
        );
        let fine = clenshaw_curtis(m, a, b)?;
        let coarse = clenshaw_curtis(m.div_ceil(2), a, b)?;
        let mut coarse_weights = vec![0.0; m];
        for (k, w) in coarse.weights.iter().enumerate() {
            coarse_weights[2 * k] = *w;
        }
        Ok(Self { fine, coarse_weights })
    }

    /// Number of nodes of the coarse rule.
    pub fn coarse_len(&self) -> usize {
        self.fine.len().div_ceil(2)
    }

    /// The embedded error estimate E = Q_coarse - Q_fine and its standard error
    /// sqrt(sum_j (w^c_j - w^f_j)^2 se_j^2) for independent node estimates `values` +- `stderr`.
    pub fn embedded_error(&self, values: &[f64], stderr: &[f64]) -> (f64, f64) {
        assert!(values.len() == self.fine.len() && stderr.len() == self.fine.len(), "one value per node");
        let (mut e, mut var) = (0.0, 0.0);
        for ((&v, &s), (&wf, &wc)) in values.iter().zip(stderr).zip(self.fine.weights.iter().zip(&self.coarse_weights))
        {
            e += (wc - wf) * v;
            var += ((wc - wf) * s).powi(2);
        }
        (e, var.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_weights() {
        // n = 2 is Simpson's rule; n = 4 on [-1, 1]: 1/15, 8/15, 12/15, 8/15, 1/15.
        let q = clenshaw_curtis(3, 0.0, 1.0).unwrap();
        for (w, e) in q.weights.iter().zip([1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0]) {
            assert!((w - e).abs() < 1e-15, "{w} vs {e}");
        }
        assert_eq!(q.nodes, vec![0.0, 0.5, 1.0]);
        let q = clenshaw_curtis(5, -1.0, 1.0).unwrap();
        for (w, e) in q.weights.iter().zip([1.0, 8.0, 12.0, 8.0, 1.0]) {
            assert!((w - e / 15.0).abs() < 1e-15, "{w} vs {}", e / 15.0);
        }
        let x = 0.5f64.sqrt();
        for (t, e) in q.nodes.iter().zip([-1.0, -x, 0.0, x, 1.0]) {
            assert!((t - e).abs() < 1e-15, "{t} vs {e}");
        }
        assert!(clenshaw_curtis(1, 0.0, 1.0).is_err());
        assert!(NestedRule::new(4, 0.0, 1.0).is_err());
        assert!(NestedRule::new(1, 0.0, 1.0).is_err());
    }

    #[test]
    fn exact_for_polynomials_up_to_the_rule_degree() {
        for m in [2usize, 3, 4, 7, 12, 25, 49] {
            let (a, b) = (-0.3, 1.7);
            let q = clenshaw_curtis(m, a, b).unwrap();
            assert!(q.nodes.windows(2).all(|p| p[1] > p[0]), "ascending nodes");
            let deg = if m % 2 == 1 { m } else { m - 1 }; // n + 1 for even n, n for odd n
            for p in 0..=deg {
                let exact = (b.powi(p as i32 + 1) - a.powi(p as i32 + 1)) / (p as f64 + 1.0);
                let got = q.integrate_fn(|t| t.powi(p as i32));
                assert!((got - exact).abs() < 1e-13 * (1.0 + exact.abs()), "m {m} degree {p}: {got} vs {exact}");
            }
            // One degree more is not exact (the rule's degree is sharp): T_k(x) = cos(k acos x) with
            // k = degree + 1 (even), integral over [-1, 1] = 2 / (1 - k^2).
            let k = (deg + 1) as f64;
            let q = clenshaw_curtis(m, -1.0, 1.0).unwrap();
            let got = q.integrate_fn(|x| (k * x.clamp(-1.0, 1.0).acos()).cos());
            let exact = 2.0 / (1.0 - k * k);
            assert!(
                (got - exact).abs() > 0.1 * exact.abs(),
                "m {m}: T_{k} should not be integrated exactly ({got} vs {exact})"
            );
        }
    }

    #[test]
    fn nested_pair_shares_nodes_and_its_estimate_bounds_the_error() {
        let r = NestedRule::new(25, 0.0, 1.0).unwrap();
        let coarse = clenshaw_curtis(13, 0.0, 1.0).unwrap();
        for (k, &w) in coarse.weights.iter().enumerate() {
            assert!((r.fine.nodes[2 * k] - coarse.nodes[k]).abs() < 1e-15);
            assert_eq!(r.coarse_weights[2 * k], w);
            assert_eq!(r.coarse_weights.get(2 * k + 1).copied().unwrap_or(0.0), 0.0);
        }
        assert_eq!(r.coarse_len(), 13);
        // Smooth integrands with a sharp feature near t = 0 (the TI integrand's structure
        // relaxation): the embedded estimate is at least the fine rule's true error, and close to
        // the coarse rule's.
        for (scale, m) in [(0.02, 9usize), (0.02, 25), (0.05, 13), (0.1, 7), (0.1, 25)] {
            let f = |t: f64| 100.0 * (-t / scale).exp() + 3.0 * (5.0 * t).sin();
            let exact = 100.0 * scale * (1.0 - (-1.0 / scale).exp()) + 3.0 * (1.0 - 5f64.cos()) / 5.0;
            let r = NestedRule::new(m, 0.0, 1.0).unwrap();
            let vals: Vec<f64> = r.fine.nodes.iter().map(|&t| f(t)).collect();
            let fine = r.fine.integrate(&vals);
            let coarse = crate::estimators::quadrature::integrate(&vals, &r.coarse_weights);
            let (e, se) = r.embedded_error(&vals, &vec![0.0; m]);
            assert_eq!(se, 0.0);
            assert!((e - (coarse - fine)).abs() < 1e-12);
            eprintln!(
                "scale {scale}, {m} nodes: fine error {:.3e}, coarse error {:.3e}, estimate {e:.3e}",
                fine - exact,
                coarse - exact
            );
            assert!(e.abs() >= (fine - exact).abs(), "estimate {e} below the fine error {}", fine - exact);
            assert!((e - (coarse - exact)).abs() <= 0.5 * (coarse - exact).abs() + 1e-12);
        }
    }

    #[test]
    fn embedded_error_standard_error_matches_the_spread_over_noisy_replicates() {
        use crate::rng::{stream, Purpose};
        use rand_distr::{Distribution, StandardNormal};
        let r = NestedRule::new(11, 0.0, 1.0).unwrap();
        let f = |t: f64| (3.0 * t).cos() * 10.0;
        let se: Vec<f64> = r.fine.nodes.iter().map(|&t| 0.5 + t).collect();
        let (e0, s0) = r.embedded_error(&r.fine.nodes.iter().map(|&t| f(t)).collect::<Vec<_>>(), &se);
        let mut rng = stream(5, Purpose::ToyData, 0);
        let reps = 4000;
        let (mut sum, mut sum2) = (0.0, 0.0);
        for _ in 0..reps {
            let v: Vec<f64> = r
                .fine
                .nodes
                .iter()
                .zip(&se)
                .map(|(&t, &s)| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    f(t) + s * z
                })
                .collect();
            let (e, _) = r.embedded_error(&v, &se);
            sum += (e - e0) / s0;
            sum2 += ((e - e0) / s0).powi(2);
        }
        let mean = sum / reps as f64;
        let sd = (sum2 / reps as f64 - mean * mean).sqrt();
        // mean ~ N(0, 1/sqrt(reps)); sd ~ 1 +- 1/sqrt(2 reps).
        assert!(mean.abs() < 3.0 / (reps as f64).sqrt(), "mean z {mean}");
        assert!((sd - 1.0).abs() < 3.0 / (2.0 * reps as f64).sqrt(), "sd z {sd}");
    }
}
