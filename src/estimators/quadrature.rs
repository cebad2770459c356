//! Quadrature rules for thermodynamic integration over t (or lambda) in [a, b].
//!
//! A rule is a list of nodes t_j and weights w_j with integral_a^b f(t) dt ~ sum_j w_j f(t_j).
//! For TI the integrand f(t_j) = < d(beta U_t)/dt >_{t_j} is dimensionless (kT per unit t), so
//! the integral is a free-energy difference in kT.
//!
//! Rules provided:
//! - Gauss-Legendre on [a, b] with n nodes: exact for polynomials of degree <= 2n - 1
//!   (Abramowitz & Stegun, Handbook of Mathematical Functions, eq. 25.4.29; nodes by Newton
//!   iteration on the Legendre polynomial P_n, Numerical Recipes 3rd ed., sec. 4.6.1).
//! - Clenshaw-Curtis on n Chebyshev extreme points, both ends included, with its nested half rule as
//!   an embedded error estimate ([`super::clenshaw_curtis`]).
//! - On a given list of nodes t_0, ..., t_{n-1} (strictly monotone, not necessarily uniform):
//!   left rectangle w_j = t_{j+1} - t_j (w_{n-1} = 0; exact for constants, error O(h)),
//!   trapezoid w_j = (t_{j+1} - t_{j-1}) / 2 with one-sided ends (exact for linear functions, O(h^2)).
//! - Midpoint rule on given interval edges e_0, ..., e_m: nodes (e_j + e_{j+1}) / 2,
//!   weights e_{j+1} - e_j (exact for linear functions, O(h^2)).
//!
//! Weights carry the sign of the integration direction: nodes running from 1 down to 0 give
//! integral_1^0, i.e. minus integral_0^1.
//!
//! Error propagation for independent node estimates (one simulation per node):
//! Var(sum_j w_j f_j) = sum_j w_j^2 se_j^2 (see [`integrate_with_error`]). This is the statistical
//! error only; the discretisation error of the rule is not included.

use anyhow::{bail, ensure, Result};

/// Nodes and weights of a quadrature rule: integral ~ `sum_j weights[j] * f(nodes[j])`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quadrature {
    /// Quadrature nodes t_j (same length as `weights`).
    pub nodes: Vec<f64>,
    /// Quadrature weights w_j (units of t).
    pub weights: Vec<f64>,
}

impl Quadrature {
    /// `sum_j w_j values[j]`. Panics if `values.len() != self.weights.len()`.
    pub fn integrate(&self, values: &[f64]) -> f64 {
        integrate(values, &self.weights)
    }

    /// sum_j w_j f(t_j).
    pub fn integrate_fn(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.nodes.iter().zip(&self.weights).map(|(&t, &w)| w * f(t)).sum()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True for a rule without nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Named quadrature rules, for building a rule with `n` nodes on [a, b] via [`rule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Gauss-Legendre nodes and weights.
    GaussLegendre,
    /// Clenshaw-Curtis on n Chebyshev extreme points including both ends (n >= 2;
    /// crate::estimators::clenshaw_curtis).
    ClenshawCurtis,
    /// Trapezoid on n uniform nodes including both ends (n >= 2).
    Trapezoid,
    /// Midpoint rule on n uniform sub-intervals (nodes at their centres).
    Midpoint,
    /// Left rectangle on n uniform nodes including both ends (the last node has weight 0; n >= 2).
    LeftRectangle,
}

/// A rule with `n` nodes on [a, b]: Gauss-Legendre, or the uniform-grid versions of the node-list
/// rules (uniform nodes a + j (b - a) / (n - 1) for trapezoid / left rectangle, or n equal
/// sub-intervals for the midpoint rule).
pub fn rule(kind: Rule, n: usize, a: f64, b: f64) -> Result<Quadrature> {
    match kind {
        Rule::GaussLegendre => gauss_legendre(n, a, b),
        Rule::ClenshawCurtis => super::clenshaw_curtis::clenshaw_curtis(n, a, b),
        Rule::Trapezoid | Rule::LeftRectangle => {
            let nodes = uniform_nodes(n, a, b)?;
            let weights =
                if kind == Rule::Trapezoid { trapezoid_weights(&nodes)? } else { left_rectangle_weights(&nodes)? };
            Ok(Quadrature { nodes, weights })
        }
        Rule::Midpoint => {
            ensure!(n >= 1, "midpoint rule needs at least 1 sub-interval, got 0");
            midpoint_rule(&uniform_nodes(n + 1, a, b)?)
        }
    }
}

/// `n` uniformly spaced nodes from `a` to `b` inclusive (n >= 2, a != b, both finite).
pub fn uniform_nodes(n: usize, a: f64, b: f64) -> Result<Vec<f64>> {
    ensure!(n >= 2, "a uniform grid including both ends needs at least 2 nodes, got {n}");
    ensure!(a.is_finite() && b.is_finite() && a != b, "interval [{a}, {b}] must be finite and non-empty");
    let h = (b - a) / (n - 1) as f64;
    Ok((0..n).map(|j| if j == n - 1 { b } else { a + j as f64 * h }).collect())
}

/// Legendre polynomial P_n(x) and its derivative P_n'(x), by the three-term recurrence
/// j P_j = (2j - 1) x P_{j-1} - (j - 1) P_{j-2}; P_n'(x) = n (x P_n - P_{n-1}) / (x^2 - 1).
fn legendre_with_derivative(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for j in 2..=n {
        let jf = j as f64;
        let p2 = ((2.0 * jf - 1.0) * x * p1 - (jf - 1.0) * p0) / jf;
        p0 = p1;
        p1 = p2;
    }
    let dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, dp)
}

/// Gauss-Legendre rule with `n >= 1` nodes on [a, b] (nodes ordered from a to b).
///
/// On [-1, 1] the nodes x_i are the roots of P_n and the weights are
/// w_i = 2 / ((1 - x_i^2) P_n'(x_i)^2) (Abramowitz & Stegun 25.4.29). The roots are found by Newton
/// iteration from the Tricomi-type initial guess x_i ~ cos(pi (i + 3/4) / (n + 1/2)); the rule is mapped
/// affinely to [a, b]: t = (a + b)/2 + (b - a)/2 x, w -> (b - a)/2 w. Exact for polynomials of
/// degree <= 2n - 1. Works to full double precision for n up to several hundred.
pub fn gauss_legendre(n: usize, a: f64, b: f64) -> Result<Quadrature> {
    ensure!(n >= 1, "Gauss-Legendre rule needs at least 1 node, got 0");
    ensure!(a.is_finite() && b.is_finite(), "interval [{a}, {b}] must be finite");
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    let m = n.div_ceil(2);
    for i in 0..m {
        // i-th largest root.
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut converged = false;
        for _ in 0..100 {
            let (p, dp) = legendre_with_derivative(n, z);
            let dz = p / dp;
            z -= dz;
            if dz.abs() <= 1e-15 * z.abs().max(1e-300) || dz.abs() < 1e-300 {
                converged = true;
                break;
            }
        }
        if !converged {
            // Newton ends in a round-off limit cycle of a few ulp; accept it if tiny.
            let (p, dp) = legendre_with_derivative(n, z);
            if (p / dp).abs() > 1e-13 {
                bail!("Gauss-Legendre root {i} of n = {n} did not converge");
            }
        }
        if n % 2 == 1 && i == m - 1 {
            z = 0.0; // the middle root is exactly 0 for odd n
        }
        let (_, dp) = legendre_with_derivative(n, z);
        let wi = 2.0 / ((1.0 - z * z) * dp * dp);
        // Roots come in +/- pairs: store ascending.
        x[i] = -z;
        x[n - 1 - i] = z;
        w[i] = wi;
        w[n - 1 - i] = wi;
    }
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    Ok(Quadrature { nodes: x.iter().map(|&xi| c + h * xi).collect(), weights: w.iter().map(|&wi| h * wi).collect() })
}

fn check_monotone(nodes: &[f64], what: &str, min_len: usize) -> Result<()> {
    ensure!(nodes.len() >= min_len, "{what} needs at least {min_len} nodes, got {}", nodes.len());
    ensure!(nodes.iter().all(|t| t.is_finite()), "{what}: nodes must be finite");
    let increasing = nodes.windows(2).all(|p| p[1] > p[0]);
    let decreasing = nodes.windows(2).all(|p| p[1] < p[0]);
    ensure!(increasing || decreasing, "{what}: nodes must be strictly increasing or strictly decreasing");
    Ok(())
}

/// Left-rectangle weights on a given node list t_0..t_{n-1} (n >= 2, strictly monotone):
/// w_j = t_{j+1} - t_j for j < n - 1, w_{n-1} = 0, so sum_j w_j f(t_j) = sum_j f(t_j) (t_{j+1} - t_j)
/// approximates integral_{t_0}^{t_{n-1}} f dt with error O(h).
pub fn left_rectangle_weights(nodes: &[f64]) -> Result<Vec<f64>> {
    check_monotone(nodes, "left-rectangle rule", 2)?;
    let n = nodes.len();
    let mut w = vec![0.0; n];
    for j in 0..n - 1 {
        w[j] = nodes[j + 1] - nodes[j];
    }
    Ok(w)
}

/// Trapezoid weights on a given node list t_0..t_{n-1} (n >= 2, strictly monotone):
/// w_0 = (t_1 - t_0)/2, w_j = (t_{j+1} - t_{j-1})/2, w_{n-1} = (t_{n-1} - t_{n-2})/2;
/// approximates integral_{t_0}^{t_{n-1}} f dt, exact for linear f, error O(h^2).
pub fn trapezoid_weights(nodes: &[f64]) -> Result<Vec<f64>> {
    check_monotone(nodes, "trapezoid rule", 2)?;
    let n = nodes.len();
    let mut w = vec![0.0; n];
    for j in 0..n - 1 {
        let h = 0.5 * (nodes[j + 1] - nodes[j]);
        w[j] += h;
        w[j + 1] += h;
    }
    Ok(w)
}

/// Midpoint rule on given interval edges e_0..e_m (m >= 1 intervals, strictly monotone):
/// nodes (e_j + e_{j+1})/2 and weights e_{j+1} - e_j; approximates integral_{e_0}^{e_m} f dt,
/// exact for linear f, error O(h^2). The integrand is evaluated at the returned nodes.
pub fn midpoint_rule(edges: &[f64]) -> Result<Quadrature> {
    check_monotone(edges, "midpoint rule (interval edges)", 2)?;
    let nodes = edges.windows(2).map(|e| 0.5 * (e[0] + e[1])).collect();
    let weights = edges.windows(2).map(|e| e[1] - e[0]).collect();
    Ok(Quadrature { nodes, weights })
}

/// `sum_j weights[j] * values[j]`. Panics if the lengths differ.
pub fn integrate(values: &[f64], weights: &[f64]) -> f64 {
    assert_eq!(values.len(), weights.len(), "integrate: {} values but {} weights", values.len(), weights.len());
    values.iter().zip(weights).map(|(v, w)| v * w).sum()
}

/// Integral and its standard error from independent node estimates:
/// I = sum_j w_j v_j, se(I) = sqrt( sum_j w_j^2 se_j^2 ).
///
/// `values[j]` is the estimate of the integrand at node j, `stderr[j]` its standard error, and
/// `weights[j]` the quadrature weight; estimates at different nodes must be statistically independent
/// (separate simulations), otherwise use a shared bootstrap (see `estimators::bootstrap`).
/// Units: those of value x weight (kT for TI). Panics if the three lengths differ.
pub fn integrate_with_error(values: &[f64], stderr: &[f64], weights: &[f64]) -> (f64, f64) {
    assert_eq!(
        stderr.len(),
        weights.len(),
        "integrate_with_error: {} stderrs but {} weights",
        stderr.len(),
        weights.len()
    );
    let value = integrate(values, weights);
    let var: f64 = stderr.iter().zip(weights).map(|(s, w)| w * w * s * s).sum();
    (value, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn gauss_legendre_five_point_reference_values() {
        // Abramowitz & Stegun, Table 25.4 (n = 5).
        let q = gauss_legendre(5, -1.0, 1.0).unwrap();
        let x = [-0.906_179_845_938_664, -0.538_469_310_105_683, 0.0, 0.538_469_310_105_683, 0.906_179_845_938_664];
        let w = [
            0.236_926_885_056_189,
            0.478_628_670_499_366,
            0.568_888_888_888_889,
            0.478_628_670_499_366,
            0.236_926_885_056_189,
        ];
        for j in 0..5 {
            assert!((q.nodes[j] - x[j]).abs() < 1e-14, "node {j}: {} vs {}", q.nodes[j], x[j]);
            assert!((q.weights[j] - w[j]).abs() < 1e-14, "weight {j}: {} vs {}", q.weights[j], w[j]);
        }
        assert_eq!(q.nodes[2], 0.0);
        assert!((q.weights[2] - 128.0 / 225.0).abs() < 1e-15);
    }

    #[test]
    fn gauss_legendre_exact_to_degree_2n_minus_1_on_shifted_interval() {
        let (a, b) = (0.3f64, 2.1f64);
        let exact = |d: i32| (b.powi(d + 1) - a.powi(d + 1)) / (d as f64 + 1.0);
        for n in [1usize, 2, 3, 5, 8, 13, 20] {
            let q = gauss_legendre(n, a, b).unwrap();
            assert_eq!(q.len(), n);
            assert!(q.nodes.windows(2).all(|p| p[1] > p[0]) && q.nodes[0] > a && q.nodes[n - 1] < b);
            for d in 0..(2 * n as i32) {
                let got = q.integrate_fn(|t| t.powi(d));
                let rel = (got - exact(d)).abs() / exact(d).abs();
                assert!(rel < 1e-13, "n = {n}, degree {d}: rel error {rel}");
            }
            // Degree 2n is not integrated exactly: the error of t^(2n) is
            // (b - a)^(2n+1) (n!)^4 / ((2n + 1) ((2n)!)^2) (A&S 25.4.30 with f^(2n) = (2n)!).
            if n <= 8 {
                let d = 2 * n as i32;
                let fact = |m: usize| (1..=m).map(|v| v as f64).product::<f64>();
                let e = (b - a).powi(d + 1) * fact(n).powi(4) / ((d as f64 + 1.0) * fact(2 * n).powi(2));
                let got = exact(d) - q.integrate_fn(|t| t.powi(d));
                assert!((got - e).abs() < 1e-4 * e + 1e-13 * exact(d), "n = {n}: error {got} vs {e}");
            }
        }
        // Large n: weights sum to the interval length, nodes symmetric.
        let q = gauss_legendre(200, 0.0, 1.0).unwrap();
        assert!((q.weights.iter().sum::<f64>() - 1.0).abs() < 1e-13);
        assert!((q.integrate_fn(|t| (3.0 * t).sin()) - (1.0 - 3f64.cos()) / 3.0).abs() < 1e-14);
        assert!(gauss_legendre(0, 0.0, 1.0).is_err());
    }

    #[test]
    fn node_list_rules_exactness_and_order() {
        let nodes = [0.0, 0.1, 0.35, 0.5, 0.8, 1.0];
        let lin = |t: f64| 2.0 - 3.0 * t;
        let vals: Vec<f64> = nodes.iter().map(|&t| lin(t)).collect();
        let exact = 2.0 - 1.5;
        assert!((integrate(&vals, &trapezoid_weights(&nodes).unwrap()) - exact).abs() < 1e-15);
        let ones = vec![1.0; nodes.len()];
        assert!((integrate(&ones, &left_rectangle_weights(&nodes).unwrap()) - 1.0).abs() < 1e-15);
        let left: f64 = (0..5).map(|j| lin(nodes[j]) * (nodes[j + 1] - nodes[j])).sum();
        assert!((integrate(&vals, &left_rectangle_weights(&nodes).unwrap()) - left).abs() < 1e-15);
        let mid = midpoint_rule(&nodes).unwrap();
        assert_eq!(mid.len(), 5);
        assert!((mid.integrate_fn(lin) - exact).abs() < 1e-15);
        // Reversed direction flips the sign.
        let rev: Vec<f64> = nodes.iter().rev().copied().collect();
        let rvals: Vec<f64> = rev.iter().map(|&t| lin(t)).collect();
        assert!((integrate(&rvals, &trapezoid_weights(&rev).unwrap()) + exact).abs() < 1e-15);
        // Convergence orders on exp(t): trapezoid and midpoint O(h^2), rectangle O(h).
        let e = std::f64::consts::E - 1.0;
        let err = |k: Rule, n: usize| (rule(k, n, 0.0, 1.0).unwrap().integrate_fn(f64::exp) - e).abs();
        for (k, order) in [(Rule::Trapezoid, 2.0), (Rule::Midpoint, 2.0), (Rule::LeftRectangle, 1.0)] {
            let (n1, n2) = if k == Rule::Midpoint { (16, 32) } else { (17, 33) };
            let ratio = err(k, n1) / err(k, n2);
            assert!((ratio.log2() - order).abs() < 0.1, "{k:?}: observed order {}", ratio.log2());
        }
        assert!(trapezoid_weights(&[0.0, 0.5, 0.5]).is_err());
        assert!(trapezoid_weights(&[0.0]).is_err());
        assert!(left_rectangle_weights(&[0.0, f64::NAN]).is_err());
        assert!(midpoint_rule(&[1.0, 0.0, 0.5]).is_err());
    }

    #[test]
    fn integrate_with_error_matches_scatter_of_noisy_integrals() {
        // Noisy node estimates v_j = f(t_j) + se_j z_j; the z-scores of the integral over many
        // seeds must have mean ~0 and sd ~1 (sd of the sample sd for 400 seeds ~ 0.035).
        let q = gauss_legendre(6, 0.0, 1.0).unwrap();
        let f = |t: f64| 5.0 * t * t - 2.0;
        let exact = 5.0 / 3.0 - 2.0;
        let se: Vec<f64> = (0..6).map(|j| 0.1 + 0.05 * j as f64).collect();
        let n_seeds = 400;
        let mut zs = Vec::new();
        for seed in 0..n_seeds {
            let mut r = stream(seed, Purpose::Init, 9001);
            let vals: Vec<f64> = q
                .nodes
                .iter()
                .zip(&se)
                .map(|(&t, &s)| {
                    let z: f64 = StandardNormal.sample(&mut r);
                    f(t) + s * z
                })
                .collect();
            let (v, e) = integrate_with_error(&vals, &se, &q.weights);
            let expect_e = se.iter().zip(&q.weights).map(|(s, w)| s * s * w * w).sum::<f64>().sqrt();
            assert!((e - expect_e).abs() < 1e-15);
            zs.push((v - exact) / e);
        }
        let m = zs.iter().sum::<f64>() / n_seeds as f64;
        let sd = (zs.iter().map(|z| (z - m) * (z - m)).sum::<f64>() / (n_seeds as f64 - 1.0)).sqrt();
        assert!(m.abs() < 3.0 / (n_seeds as f64).sqrt(), "mean z = {m}");
        assert!((sd - 1.0).abs() < 0.15, "sd z = {sd}");
    }
}
