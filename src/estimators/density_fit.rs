//! beta*A_ex(N) at every N from estimates at a grid of N, by a weighted least-squares fit in density.
//!
//! Metropolis-corrected Neural TI costs tens of core-minutes per N on a dense liquid, so it is run
//! at a grid of N (say every 20th) rather than at every N. Between the grid points beta*A_ex(N) of
//! a finite system is smooth, and the virial-like form (beta*a_ex -> 0 as rho -> 0)
//!
//! ```text
//! beta*A_ex(N) = N sum_{k=1..m} c_k rho^k = J(N) . c,   rho = N / V,   J_k(N) = N rho^k,
//! ```
//!
//! is fitted with weights 1/se_i^2 (independent estimates): c = (J^T W J)^-1 J^T W a, covariance
//! C = (J^T W J)^-1, so beta*A_ex(N) = J(N).c with variance J(N)^T C J(N), and beta*mu_ex(N) =
//! A(N+1) - A(N) with the correlated error from J(N+1) - J(N). The grand-canonical average
//! `<N>(beta mu)` of [`super::gcmc_reweight`] over the fitted ladder has, to first order,
//! `d<N>/dc = -sum_M p(M) (M - <N>) J(M)`, so `se(<N>)^2 = v^T C v` with that vector v (the ladder's
//! own error formula would treat the strongly correlated fitted values as independent).
//! Checks: chi^2 of the fit and leave-one-out (each grid value against the fit of the others,
//! z = (a_i - pred_i)/sqrt(se_i^2 + se_pred^2)). The degree m = 5 is fixed: on the equation-of-state
//! curve with noise of corrected-TI size it gives calibrated errors, while choosing m per data set
//! under-covers beta*mu_ex (validation/paper_lj/a_of_n.py --self-test).
//! (Hurvich & Tsai 1989 and Chodera 2016 are not used here; the fit is ordinary weighted least
//! squares, e.g. Press et al., Numerical Recipes, 3rd ed., sec. 15.4.)

use super::gcmc_reweight::ExcessLadder;
use anyhow::{ensure, Result};
use ndarray::{Array1, Array2};
use ndarray_linalg::Inverse;

/// Degree of the fit (see the module doc).
pub const DEFAULT_DEGREE: usize = 5;

/// One leave-one-out check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeaveOneOut {
    /// Grid N.
    pub n: usize,
    /// Its value and standard error.
    pub value: f64,
    /// Standard error of `value`.
    pub stderr: f64,
    /// Prediction of the fit through the other points, and its standard error.
    pub pred: f64,
    /// Standard error of `pred`.
    pub pred_stderr: f64,
    /// (value - pred) / sqrt(stderr^2 + pred_stderr^2).
    pub z: f64,
}

/// The fitted beta*A_ex(N) (kT) at volume V (sigma^3).
#[derive(Clone, Debug)]
pub struct AexFit {
    /// Degree m.
    pub degree: usize,
    /// Volume V.
    pub volume: f64,
    /// Coefficients c_1..c_m.
    pub coef: Array1<f64>,
    /// Their covariance, shape (m, m).
    pub cov: Array2<f64>,
    /// Weighted sum of squared residuals.
    pub chi2: f64,
    /// Number of grid points.
    pub n_points: usize,
}

impl AexFit {
    /// Fits `points` = [(N, beta*A_ex, stderr)] with degree min(`degree`, points - 1). Needs at
    /// least 2 points with distinct N, finite values and positive finite errors.
    pub fn fit(points: &[(usize, f64, f64)], volume: f64, degree: usize) -> Result<Self> {
        ensure!(points.len() >= 2, "a fit of beta*A_ex(N) needs at least 2 values of N, got {}", points.len());
        ensure!(volume.is_finite() && volume > 0.0, "volume must be positive, got {volume}");
        for &(n, a, s) in points {
            ensure!(a.is_finite() && s.is_finite() && s > 0.0, "beta*A_ex(N = {n}) = {a} ± {s}: not usable in a fit");
        }
        let m = degree.min(points.len() - 1).max(1);
        let mut ata = Array2::<f64>::zeros((m, m));
        let mut aty = Array1::<f64>::zeros(m);
        for &(n, a, s) in points {
            let j = basis(n as f64, m, volume);
            let w = 1.0 / (s * s);
            for p in 0..m {
                aty[p] += w * j[p] * a;
                for q in 0..m {
                    ata[[p, q]] += w * j[p] * j[q];
                }
            }
        }
        let cov = ata.inv()?;
        let coef = cov.dot(&aty);
        let chi2 = points.iter().map(|&(n, a, s)| ((a - basis(n as f64, m, volume).dot(&coef)) / s).powi(2)).sum();
        Ok(Self { degree: m, volume, coef, cov, chi2, n_points: points.len() })
    }

    /// Degrees of freedom n - m.
    pub fn dof(&self) -> usize {
        self.n_points.saturating_sub(self.degree)
    }

    fn linear(&self, j: &Array1<f64>) -> (f64, f64) {
        (j.dot(&self.coef), j.dot(&self.cov.dot(j)).max(0.0).sqrt())
    }

    /// beta*A_ex(N) and its standard error.
    pub fn a_ex(&self, n: f64) -> (f64, f64) {
        self.linear(&basis(n, self.degree, self.volume))
    }

    /// beta*mu_ex(N) = beta*A_ex(N + 1) - beta*A_ex(N) and its standard error.
    pub fn mu_ex(&self, n: usize) -> (f64, f64) {
        let d = basis(n as f64 + 1.0, self.degree, self.volume) - basis(n as f64, self.degree, self.volume);
        self.linear(&d)
    }

    /// The fitted values at every N of n_min..=n_max as a ladder (errors: the fit's diagonal; use
    /// [`AexFit::mean_n_stderr`] for `<N>`).
    pub fn ladder(&self, n_min: usize, n_max: usize, temperature: f64) -> Result<ExcessLadder> {
        let (a, s): (Vec<f64>, Vec<f64>) = (n_min..=n_max).map(|n| self.a_ex(n as f64)).unzip();
        ExcessLadder::new(n_min, a, s, self.volume, temperature)
    }

    /// Gradient of the grand-canonical `<N>` at `beta_mu` over `ladder` (built by [`AexFit::ladder`])
    /// with respect to the coefficients: `-sum_M p(M) (M - <N>) J(M)`.
    pub fn mean_n_gradient(&self, ladder: &ExcessLadder, beta_mu: f64) -> Array1<f64> {
        let p = ladder.distribution(beta_mu);
        let mean: f64 = ladder.ns().zip(&p).map(|(n, p)| n as f64 * p).sum();
        let mut v = Array1::<f64>::zeros(self.degree);
        for (n, p) in ladder.ns().zip(&p) {
            v.scaled_add(-p * (n as f64 - mean), &basis(n as f64, self.degree, self.volume));
        }
        v
    }

    /// Standard error of `<N>(beta_mu)` from the fit's covariance, sqrt(v^T C v).
    pub fn mean_n_stderr(&self, ladder: &ExcessLadder, beta_mu: f64) -> f64 {
        let v = self.mean_n_gradient(ladder, beta_mu);
        v.dot(&self.cov.dot(&v)).max(0.0).sqrt()
    }

    /// Leave-one-out over `points` at this fit's degree (needs more points than the degree).
    pub fn leave_one_out(&self, points: &[(usize, f64, f64)]) -> Result<Vec<LeaveOneOut>> {
        ensure!(points.len() > self.degree, "leave-one-out needs more than {} points", self.degree);
        points
            .iter()
            .enumerate()
            .map(|(i, &(n, value, stderr))| {
                let rest: Vec<_> = points.iter().enumerate().filter(|(k, _)| *k != i).map(|(_, p)| *p).collect();
                let (pred, pred_stderr) = Self::fit(&rest, self.volume, self.degree)?.a_ex(n as f64);
                Ok(LeaveOneOut { n, value, stderr, pred, pred_stderr, z: (value - pred) / stderr.hypot(pred_stderr) })
            })
            .collect()
    }
}

/// J_k(N) = N rho^k, k = 1..m.
pub fn basis(n: f64, degree: usize, volume: f64) -> Array1<f64> {
    let rho = n / volume;
    Array1::from_iter((1..=degree as i32).map(|k| n * rho.powi(k)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand_distr::{Distribution, StandardNormal};

    const V: f64 = 216.0;

    fn truth(n: f64) -> f64 {
        // A smooth LJ-like curve: attraction at low density, steep repulsion at high density.
        let r = n / V;
        n * (-4.0 * r + 1.5 * r * r + 2.0 * r.powi(4) + 1.2 * r.powi(5))
    }

    #[test]
    fn exact_polynomials_are_recovered_to_round_off() {
        let pts: Vec<_> = (40..=200).step_by(20).map(|n| (n, truth(n as f64), 0.5 + 0.01 * n as f64)).collect();
        let f = AexFit::fit(&pts, V, DEFAULT_DEGREE).unwrap();
        assert!(f.chi2 < 1e-12, "chi2 {}", f.chi2);
        let worst = (40..=200).map(|n| (f.a_ex(n as f64).0 - truth(n as f64)).abs()).fold(0.0, f64::max);
        // The normal equations square the basis' condition number (~1e4 here): ~1e-8 relative.
        assert!(worst < 1e-6, "largest |fit - truth| {worst:e} kT");
        for n in 40..200 {
            let mu = f.mu_ex(n).0;
            assert!((mu - (f.a_ex(n as f64 + 1.0).0 - f.a_ex(n as f64).0)).abs() < 1e-10);
        }
        for l in f.leave_one_out(&pts).unwrap() {
            assert!(l.z.abs() < 1e-6, "{l:?}");
        }
    }

    #[test]
    fn errors_are_calibrated_over_seeds() {
        // Noisy grid values: the fitted A and mu_ex at off-grid N and the leave-one-out z are N(0,1).
        let (mut za, mut zm, mut zl) = (Vec::new(), Vec::new(), Vec::new());
        for seed in 0..300u64 {
            let mut rng = stream(seed, Purpose::ToyData, 77);
            let pts: Vec<_> = (40..=200)
                .step_by(20)
                .map(|n| {
                    let s = 0.5 + 0.01 * n as f64;
                    let z: f64 = StandardNormal.sample(&mut rng);
                    (n, truth(n as f64) + s * z, s)
                })
                .collect();
            let f = AexFit::fit(&pts, V, DEFAULT_DEGREE).unwrap();
            let n = 41 + (seed as usize * 37) % 158;
            let (a, s) = f.a_ex(n as f64);
            za.push((a - truth(n as f64)) / s);
            let (m, s) = f.mu_ex(n);
            zm.push((m - (truth(n as f64 + 1.0) - truth(n as f64))) / s);
            zl.push(f.leave_one_out(&pts).unwrap()[(seed % 9) as usize].z);
        }
        for (name, z) in [("A", &za), ("mu", &zm), ("loo", &zl)] {
            let k = z.len() as f64;
            let mean = z.iter().sum::<f64>() / k;
            let rms = (z.iter().map(|v| v * v).sum::<f64>() / k).sqrt();
            assert!(mean.abs() < 3.0 / k.sqrt(), "{name}: z mean {mean}");
            assert!((rms - 1.0).abs() < 3.0 / (2.0 * k).sqrt(), "{name}: z rms {rms}");
        }
    }

    #[test]
    fn mean_n_gradient_matches_central_differences() {
        let pts: Vec<_> = (40..=200).step_by(20).map(|n| (n, truth(n as f64), 1.0)).collect();
        let f = AexFit::fit(&pts, V, DEFAULT_DEGREE).unwrap();
        let mean_n = |g: &AexFit, bm: f64| {
            let l = g.ladder(40, 200, 1.0).unwrap();
            l.averages(bm).mean_n
        };
        for bm in [-3.0, -1.0, 0.5] {
            let l = f.ladder(40, 200, 1.0).unwrap();
            let v = f.mean_n_gradient(&l, bm);
            for k in 0..f.degree {
                // A step that moves beta*A_ex(200) by 1e-3 kT, and the fourth-order central stencil:
                // <N> is strongly curved in c (its cumulants carry J(M)^3 ~ 10^7) and its ln Q_N
                // are ~10^3, so a two-point difference cannot reach 1e-6 between round-off and
                // truncation.
                let h = 1e-3 / basis(200.0, f.degree, V)[k];
                let at = |d: f64| {
                    let mut g = f.clone();
                    g.coef[k] += d;
                    mean_n(&g, bm)
                };
                let fd = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
                assert!((fd - v[k]).abs() <= 1e-6 * v[k].abs().max(1e-8), "beta mu {bm}, k {k}: {fd} vs {}", v[k]);
            }
        }
    }

    #[test]
    fn bad_points_are_errors() {
        assert!(AexFit::fit(&[(40, 1.0, 1.0)], V, 5).is_err());
        assert!(AexFit::fit(&[(40, 1.0, 0.0), (60, 2.0, 1.0)], V, 5).is_err());
        assert!(AexFit::fit(&[(40, f64::NAN, 1.0), (60, 2.0, 1.0)], V, 5).is_err());
        assert!(AexFit::fit(&[(40, 1.0, 1.0), (60, 2.0, 1.0)], -1.0, 5).is_err());
    }
}
