//! Exact diffusion paths of the exact-answer systems (docs/design.md sec. 4): an [`EnergyModel`] with no
//! network whose time-dependent energy is the *exact* marginal of the variance-preserving (VP)
//! forward process used by [`crate::model::toy::ToyModel`], so that the reverse SDE driven by its
//! score samples every intermediate ensemble exactly (up to Euler-Maruyama discretisation). It is
//! the reference against which the reverse-SDE TI estimators and their error bars are checked.
//!
//! System: exp(-E_0(y)) = sum_c A_c N(y; mu_c, diag v_c) (a Gaussian mixture with diagonal
//! covariances), Z = sum_c A_c. This covers the independent Gaussians (one component, mu = 0,
//! A = prod_k sqrt(2 pi v_k)) and the 1D mixture 2 N(-2, 1) + N(2, 1) (A = (2, 1), Z = 3).
//!
//! Forward process (VP, Song et al., ICLR 2021, arXiv 2011.13456): y_t = a(t) y_0 + s(t) z with
//! a = cos phi(t), s = sin phi(t), phi linear in t ([`VpSchedule`]). Its marginal is again a mixture,
//!   q_t(y) = sum_c w_c prod_k N(y_k; m_ck, V_ck),  w_c = A_c / Z,  m_ck = a mu_ck,  V_ck = a^2 v_ck + s^2.
//! Energy (the additive time function makes the end-point partition functions exact):
//!   u(y, t) = -ln q_t(y) - (1 - t) ln Z,   so  Z_t = int exp(-u(., t)) = Z^(1 - t)  for every t,
//! Z_0 = Z and Z_1 = 1, and int_0^1 < du/dt >_t dt = ln(Z_0 / Z_1) = ln Z exactly. In fact
//! < du/dt >_t = ln Z - int d_t q_t = ln Z at every t: the TI integrand's mean is constant.
//! Derivatives, with responsibilities r_c = w_c N_c / q_t and phi' = phi1 - phi0,
//!   grad_k u = sum_c r_c (y_k - m_ck) / V_ck,
//!   du/dt = ln Z - sum_c r_c sum_k [ -V'_ck / (2 V_ck) + (y_k - m_ck) m'_ck / V_ck + (y_k - m_ck)^2 V'_ck / (2 V_ck^2) ],
//!   m'_ck = -s phi' mu_ck,  V'_ck = 2 a s phi' (1 - v_ck).
//!
//! End points: u(., 0) = E_0 and u(., 1) = -ln N(y; 0, I) hold exactly when phi(0) = 0 and
//! phi(1) = pi/2. The toy schedule stops short of both (a(0) = 0.999, a(1) = 0.001, because the
//! reverse-SDE drift tan(phi) phi' diverges at pi/2), so with it u(., 0) is E_0 of y_0 scaled by 0.999 and
//! smoothed by noise of variance s(0)^2 = 0.002, and u(., 1) is a Gaussian (mixture) whose means are scaled by 0.001;
//! Z_0 = Z and Z_1 = 1 stay exact, which is all TI needs. The reverse SDE starts from N(0, I), not
//! from q_1; for the 1D mixture the two differ by a mean shift of 6.7e-4 (KL divergence ~ 2e-7),
//! for the Gaussians by relative variance changes of order 1e-6; the discretisation-bias table in
//! tests/exact_estimators.rs includes this start.
//!
//! Terms: the whole energy (and du/dt) is analytic and is reported in the `prior` term; the
//! `network` term is identically zero and there are no trainable parameters.

use super::{Conf, EnergyModel, NoiseCotangent, Terms};
use crate::model::exact::Gaussians;
use crate::schedule::{NoiseSchedule, VpSchedule};

/// Exact VP-diffusion path of a diagonal Gaussian mixture (see the module documentation).
#[derive(Clone, Debug)]
pub struct ExactPathModel {
    /// ln w_c = ln(A_c / Z), normalised component weights.
    pub ln_weights: Vec<f64>,
    /// Component means mu_c, (C, D).
    pub means: Vec<Vec<f64>>,
    /// Component variances v_c, (C, D).
    pub variances: Vec<Vec<f64>>,
    /// ln Z = ln sum_c A_c.
    pub ln_z: f64,
    /// Noise schedule (the toy model's by default).
    pub schedule: VpSchedule,
    params: Vec<f64>,
}

/// u, grad_y u and du/dt at one point.
struct Eval {
    u: f64,
    grad: Vec<f64>,
    dudt: f64,
}

impl ExactPathModel {
    /// `exp(-E_0) = sum_c amplitudes[c] N(y; means[c], diag variances[c])`.
    pub fn new(amplitudes: &[f64], means: Vec<Vec<f64>>, variances: Vec<Vec<f64>>, schedule: VpSchedule) -> Self {
        assert!(!amplitudes.is_empty() && amplitudes.len() == means.len() && means.len() == variances.len());
        let d = means[0].len();
        assert!(means.iter().chain(&variances).all(|v| v.len() == d), "inconsistent dimensions");
        assert!(amplitudes.iter().all(|&a| a > 0.0) && variances.iter().flatten().all(|&v| v > 0.0));
        let z: f64 = amplitudes.iter().sum();
        let ln_weights = amplitudes.iter().map(|a| (a / z).ln()).collect();
        Self { ln_weights, means, variances, ln_z: z.ln(), schedule, params: vec![] }
    }

    /// Path of the independent Gaussians E_0 = sum_k y_k^2 / (2 v_k) with the toy schedule.
    pub fn gaussians(sys: &Gaussians) -> Self {
        let v = sys.variances.clone();
        let amp: f64 = v.iter().map(|v| (2.0 * std::f64::consts::PI * v).sqrt()).product();
        Self::new(&[amp], vec![vec![0.0; v.len()]], vec![v], VpSchedule::default())
    }

    /// Path of the 1D mixture 2 N(-2, 1) + N(2, 1) (Z = 3) with the toy schedule.
    pub fn mixture1d() -> Self {
        Self::new(&[2.0, 1.0], vec![vec![-2.0], vec![2.0]], vec![vec![1.0], vec![1.0]], VpSchedule::default())
    }

    /// The same system with another schedule.
    pub fn with_schedule(mut self, schedule: VpSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Dimension D.
    pub fn dim(&self) -> usize {
        self.means[0].len()
    }

    fn eval(&self, y: &[f64], t: f64) -> Eval {
        let d = self.dim();
        let (a, s) = (self.schedule.alpha(t), self.schedule.sigma(t));
        let dphi = self.schedule.phi1 - self.schedule.phi0;
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let nc = self.ln_weights.len();
        // Per component: ln(w_c N_c), sum_k d_k (y - m)/V (gradient of -ln N_c), -d/dt ln N_c.
        let mut ln_rho = Vec::with_capacity(nc);
        let mut grads = Vec::with_capacity(nc);
        let mut dts = Vec::with_capacity(nc);
        for c in 0..nc {
            let (mu, v) = (&self.means[c], &self.variances[c]);
            let mut l = self.ln_weights[c];
            let mut g = Vec::with_capacity(d);
            let mut dt = 0.0;
            for k in 0..d {
                let m = a * mu[k];
                let vv = a * a * v[k] + s * s;
                let dm = -s * dphi * mu[k];
                let dv = 2.0 * a * s * dphi * (1.0 - v[k]);
                let r = y[k] - m;
                l -= 0.5 * (ln2pi + vv.ln()) + r * r / (2.0 * vv);
                g.push(r / vv);
                dt -= -dv / (2.0 * vv) + r * dm / vv + r * r * dv / (2.0 * vv * vv);
            }
            ln_rho.push(l);
            grads.push(g);
            dts.push(dt);
        }
        let mx = ln_rho.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = ln_rho.iter().map(|l| (l - mx).exp()).collect();
        let sum: f64 = e.iter().sum();
        let ln_q = mx + sum.ln();
        let mut grad = vec![0.0; d];
        let mut dudt = self.ln_z;
        for c in 0..nc {
            let r = e[c] / sum;
            for k in 0..d {
                grad[k] += r * grads[c][k];
            }
            dudt += r * dts[c];
        }
        Eval { u: -ln_q - (1.0 - t) * self.ln_z, grad, dudt }
    }
}

fn analytic(v: f64) -> Terms {
    Terms { prior: v, network: 0.0, per_particle: vec![] }
}

impl EnergyModel for ExactPathModel {
    fn kind(&self) -> &'static str {
        "exact-vp-path"
    }
    fn spec(&self) -> String {
        serde_json::json!({"kind": self.kind(), "ln_weights": self.ln_weights, "means": self.means,
            "variances": self.variances, "ln_z": self.ln_z, "schedule": self.schedule})
        .to_string()
    }
    fn params(&self) -> &[f64] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }
    fn schedule(&self) -> &dyn NoiseSchedule {
        &self.schedule
    }
    fn energy_terms(&self, c: &Conf, t: f64) -> Terms {
        analytic(self.eval(&c.y, t).u)
    }
    fn energy_grad(&self, c: &Conf, t: f64) -> (f64, Vec<f64>) {
        let e = self.eval(&c.y, t);
        (e.u, e.grad)
    }
    fn dt_terms(&self, c: &Conf, t: f64) -> Terms {
        analytic(self.eval(&c.y, t).dudt)
    }
    fn grad_dt_batch(&self, cs: &[Conf], t: f64) -> Vec<(Vec<f64>, Terms)> {
        cs.iter()
            .map(|c| {
                let e = self.eval(&c.y, t);
                (e.grad, analytic(e.dudt))
            })
            .collect()
    }
    /// There are no parameters: the cotangent sees the predicted noise, `grad` is untouched.
    fn noise_vjp(&self, c: &Conf, t: f64, cotangent: &mut NoiseCotangent<'_>, _grad: &mut [f64]) {
        let s = self.schedule().sigma(t);
        let eps: Vec<f64> = self.eval(&c.y, t).grad.iter().map(|g| s * g).collect();
        cotangent(&eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::exact::{ExactSystem, Mixture1d};

    /// phi from 0 to pi/2: the end points are exact.
    fn full() -> VpSchedule {
        VpSchedule { phi0: 0.0, phi1: std::f64::consts::FRAC_PI_2 }
    }

    fn models() -> Vec<(ExactPathModel, Box<dyn ExactSystem>)> {
        let g = Gaussians { variances: vec![0.5, 2.0] };
        vec![(ExactPathModel::gaussians(&g), Box::new(g)), (ExactPathModel::mixture1d(), Box::new(Mixture1d))]
    }

    fn prior_energy(y: &[f64]) -> f64 {
        y.iter().map(|v| 0.5 * v * v + 0.5 * (2.0 * std::f64::consts::PI).ln()).sum()
    }

    #[test]
    fn gradient_and_time_derivative_match_central_differences() {
        let h = 1e-6;
        for (m, _) in models() {
            for sched in [VpSchedule::default(), full()] {
                let m = m.clone().with_schedule(sched);
                let d = m.dim();
                for y in [vec![0.3, -1.2], vec![-2.5, 0.7], vec![1.9, 2.2]] {
                    let c = Conf { y: y[..d].to_vec(), side: 1.0 };
                    for t in [0.0, 0.02, 0.3, 0.5, 0.8, 0.97] {
                        let (u, g) = m.energy_grad(&c, t);
                        assert_eq!(u, m.energy(&c, t));
                        for (k, gk) in g.iter().enumerate() {
                            let (mut p, mut q) = (c.clone(), c.clone());
                            p.y[k] += h;
                            q.y[k] -= h;
                            let fd = (m.energy(&p, t) - m.energy(&q, t)) / (2.0 * h);
                            let rel = (gk - fd).abs() / fd.abs().max(1.0);
                            assert!(rel < 1e-6, "{} grad_{k} t={t} y={:?}: {gk} vs {fd}", m.dim(), c.y);
                        }
                        let dt = m.dt_terms(&c, t);
                        assert_eq!(dt.network, 0.0);
                        let fd = (m.energy(&c, t + h) - m.energy(&c, t - h)) / (2.0 * h);
                        let rel = (dt.total() - fd).abs() / fd.abs().max(1.0);
                        assert!(rel < 1e-6, "{} d/dt t={t} y={:?}: {} vs {fd}", m.dim(), c.y, dt.total());
                        let b = m.grad_dt_batch(std::slice::from_ref(&c), t);
                        assert_eq!(b[0].0, g);
                        assert_eq!(b[0].1.total(), dt.total());
                    }
                }
            }
        }
    }

    #[test]
    fn end_points_are_the_system_and_the_prior() {
        // Exact with phi(0) = 0 and phi(1) = pi/2.
        for (m, sys) in models() {
            let m = m.with_schedule(full());
            for y in [vec![0.3, -1.2], vec![-2.5, 0.7], vec![4.0, -3.0]] {
                let c = Conf { y: y[..sys.dim()].to_vec(), side: 1.0 };
                let (e0, e1) = (sys.energy(&c.y), prior_energy(&c.y));
                assert!((m.energy(&c, 0.0) - e0).abs() < 1e-12 * e0.abs().max(1.0), "u_0 at {:?}", c.y);
                assert!((m.energy(&c, 1.0) - e1).abs() < 1e-12 * e1.abs().max(1.0), "u_1 at {:?}", c.y);
            }
        }
        // With the toy schedule (a(0) = 0.999, a(1) = 0.001) the end points are close, not equal:
        // u_0 is E_0 smoothed by noise of variance 0.002.
        for (m, sys) in models() {
            for y in [vec![0.3, -1.2], vec![-2.5, 0.7]] {
                let c = Conf { y: y[..sys.dim()].to_vec(), side: 1.0 };
                assert!((m.energy(&c, 0.0) - sys.energy(&c.y)).abs() < 0.02);
                assert!((m.energy(&c, 1.0) - prior_energy(&c.y)).abs() < 0.01);
            }
        }
    }

    /// int exp(-u(., t)) dy = Z^(1 - t) and int exp(-u) du/dt dy / Z_t = ln Z (midpoint quadrature).
    #[test]
    fn partition_function_and_mean_integrand_are_exact_at_every_t() {
        for (m, sys) in models() {
            let d = sys.dim();
            let (lo, n) = (-12.0, if d == 1 { 4000 } else { 600 });
            let h = 24.0 / n as f64;
            let grid: Vec<f64> = (0..n).map(|i| lo + (i as f64 + 0.5) * h).collect();
            let points: Vec<Vec<f64>> = if d == 1 {
                grid.iter().map(|&x| vec![x]).collect()
            } else {
                grid.iter().flat_map(|&x| grid.iter().map(move |&y| vec![x, y])).collect()
            };
            let cell = h.powi(d as i32);
            for t in [0.0, 0.25, 0.6, 1.0] {
                let (mut z, mut zd) = (0.0, 0.0);
                for p in &points {
                    let e = m.eval(p, t);
                    let w = (-e.u).exp() * cell;
                    z += w;
                    zd += w * e.dudt;
                }
                let want = (1.0 - t) * sys.ln_z();
                assert!((z.ln() - want).abs() < 1e-9, "d={d} t={t}: ln Z_t {} vs {want}", z.ln());
                assert!((zd / z - sys.ln_z()).abs() < 1e-9, "d={d} t={t}: <du/dt> {} vs {}", zd / z, sys.ln_z());
            }
        }
    }

    #[test]
    fn noise_vjp_passes_the_predicted_noise_and_has_no_parameters() {
        let m = ExactPathModel::mixture1d();
        assert!(m.params().is_empty());
        let c = Conf { y: vec![0.4], side: 1.0 };
        let mut g: Vec<f64> = vec![];
        let mut seen = vec![];
        m.noise_vjp(
            &c,
            0.5,
            &mut |eps: &[f64]| {
                seen = eps.to_vec();
                (vec![1.0], 2.0)
            },
            &mut g,
        );
        let want = m.schedule().sigma(0.5) * m.energy_grad(&c, 0.5).1[0];
        assert_eq!(seen, vec![want]);
    }
}
