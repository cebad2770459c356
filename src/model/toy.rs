//! The Gaussian-prior model for the exact-answer systems (docs/design.md sec. 4, the paper's toy):
//! u(y, t) = t (1 - t) E_NN(y, t) + (1 - t) E_0(y) + t E_1(y),  E_1 = |y|^2 / 2 + (D/2) ln(2 pi),
//! so that u(., 0) = E_0 exactly and u(., 1) = -ln N(y; 0, I) (Z_1 = 1). The network is an MLP on
//! [y, tau(t)]; samples are batched as the rows of one matrix.

use super::mlp::{matrix, Mlp};
use super::{BatchCotangent, Conf, EnergyModel, NoiseCotangent, Terms, TimeEmbedding};
use crate::model::exact::ExactSystem;
use crate::schedule::{NoiseSchedule, VpSchedule};
use ndarray::Array1;
use std::sync::Arc;

/// Toy energy model over an exact-answer system.
#[derive(Clone)]
pub struct ToyModel {
    /// The t = 0 distribution.
    pub system: Arc<dyn ExactSystem>,
    /// Network on [y, tau(t)].
    pub mlp: Mlp,
    /// Time features.
    pub time: TimeEmbedding,
    /// Parameters.
    pub params: Vec<f64>,
    /// Noise schedule.
    pub schedule: VpSchedule,
}

/// Per-sample results of a batched evaluation.
pub struct ToyEval {
    /// u.
    pub u: Vec<f64>,
    /// grad_y u, (B, D).
    pub grad: Vec<Vec<f64>>,
    /// du/dt split into [prior, network].
    pub dudt: Vec<[f64; 2]>,
    /// u split into [prior, network].
    pub terms: Vec<[f64; 2]>,
}

impl ToyModel {
    /// A model with hidden widths `hidden` and `n_freq` time frequencies, parameters from `rng`.
    pub fn new(system: Arc<dyn ExactSystem>, hidden: &[usize], n_freq: usize, rng: &mut crate::rng::Stream) -> Self {
        let time = TimeEmbedding { n_freq };
        let mlp = Mlp::new(system.dim() + time.n_features(), hidden);
        let params = mlp.init_params(rng, 0.1);
        Self { system, mlp, time, params, schedule: VpSchedule::default() }
    }

    fn prior_energy(&self, y: &[f64]) -> f64 {
        0.5 * y.iter().map(|v| v * v).sum::<f64>() + 0.5 * y.len() as f64 * (2.0 * std::f64::consts::PI).ln()
    }

    fn input(&self, ys: &[&[f64]], ts: &[f64]) -> ndarray::Array2<f64> {
        let d = self.system.dim();
        let nf = self.time.n_features();
        let mut data = Vec::with_capacity(ys.len() * (d + nf));
        for (y, &t) in ys.iter().zip(ts) {
            data.extend_from_slice(y);
            data.extend(self.time.features(t));
        }
        matrix(ys.len(), d + nf, data)
    }

    /// Energies, gradients and time derivatives of a batch (one forward and one backward pass).
    pub fn eval(&self, ys: &[&[f64]], ts: &[f64]) -> ToyEval {
        let d = self.system.dim();
        let fw = self.mlp.forward(&self.params, self.input(ys, ts));
        let gin = self.mlp.input_grad(&self.params, &fw, &Array1::ones(ys.len()));
        let mut out = ToyEval { u: vec![], grad: vec![], dudt: vec![], terms: vec![] };
        for (b, (y, &t)) in ys.iter().zip(ts).enumerate() {
            let enn = fw.out[b];
            let (e0, e1) = (self.system.energy(y), self.prior_energy(y));
            let c = t * (1.0 - t);
            let prior = (1.0 - t) * e0 + t * e1;
            let g0 = self.system.grad(y);
            let grad: Vec<f64> = (0..d).map(|k| c * gin[[b, k]] + (1.0 - t) * g0[k] + t * y[k]).collect();
            let dtau = self.time.derivative(t);
            let denn_dt: f64 = dtau.iter().enumerate().map(|(k, v)| gin[[b, d + k]] * v).sum();
            out.u.push(prior + c * enn);
            out.terms.push([prior, c * enn]);
            out.grad.push(grad);
            out.dudt.push([e1 - e0, (1.0 - 2.0 * t) * enn + c * denn_dt]);
        }
        out
    }

    /// The parameter VJP of the predicted noise eps_b = s(t_b) grad_y u over a batch (see
    /// [`EnergyModel::noise_vjp_batch`]): one forward pass, the cotangents, one tangent pass.
    /// grad_y u = c grad E_NN + analytic terms with c = t(1-t), so
    /// (w / D) v . d eps / d theta = (w s c / D) d/dtheta [grad E_NN . v].
    pub fn noise_vjp_ys(&self, ys: &[&[f64]], ts: &[f64], cotangent: &mut BatchCotangent<'_>, grad: &mut [f64]) {
        let d = self.system.dim();
        let nf = self.time.n_features();
        let fw = self.mlp.forward(&self.params, self.input(ys, ts));
        let gin = self.mlp.input_grad(&self.params, &fw, &Array1::ones(ys.len()));
        let mut xdot = vec![0.0; ys.len() * (d + nf)];
        let mut rw = Array1::zeros(ys.len());
        for (b, (y, &t)) in ys.iter().zip(ts).enumerate() {
            let c = t * (1.0 - t);
            let s = self.schedule.sigma(t);
            let g0 = self.system.grad(y);
            let eps: Vec<f64> = (0..d).map(|k| s * (c * gin[[b, k]] + (1.0 - t) * g0[k] + t * y[k])).collect();
            let (v, w) = cotangent(b, &eps);
            xdot[b * (d + nf)..b * (d + nf) + d].copy_from_slice(&v);
            rw[b] = w * s * c / d as f64;
        }
        self.mlp.tangent_param_grad(&self.params, &fw, &matrix(ys.len(), d + nf, xdot), &rw, grad);
    }
}

impl EnergyModel for ToyModel {
    fn kind(&self) -> &'static str {
        "toy-gaussian-prior"
    }
    fn spec(&self) -> String {
        serde_json::json!({"kind": self.kind(), "dim": self.system.dim(), "mlp": self.mlp, "time": self.time, "schedule": self.schedule}).to_string()
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
        let e = self.eval(&[&c.y], &[t]);
        Terms { prior: e.terms[0][0], network: e.terms[0][1], per_particle: vec![] }
    }
    fn energy_grad(&self, c: &Conf, t: f64) -> (f64, Vec<f64>) {
        let mut e = self.eval(&[&c.y], &[t]);
        (e.u[0], e.grad.swap_remove(0))
    }
    fn dt_terms(&self, c: &Conf, t: f64) -> Terms {
        let e = self.eval(&[&c.y], &[t]);
        Terms { prior: e.dudt[0][0], network: e.dudt[0][1], per_particle: vec![] }
    }
    fn noise_vjp(&self, c: &Conf, t: f64, cotangent: &mut NoiseCotangent<'_>, grad: &mut [f64]) {
        self.noise_vjp_ys(&[&c.y], &[t], &mut |_, eps: &[f64]| cotangent(eps), grad)
    }
    fn grad_dt_batch(&self, cs: &[Conf], t: f64) -> Vec<(Vec<f64>, Terms)> {
        let ys: Vec<&[f64]> = cs.iter().map(|c| c.y.as_slice()).collect();
        let e = self.eval(&ys, &vec![t; cs.len()]);
        e.grad
            .into_iter()
            .zip(e.dudt)
            .map(|(g, d)| (g, Terms { prior: d[0], network: d[1], per_particle: vec![] }))
            .collect()
    }
    fn noise_vjp_batch(&self, cs: &[Conf], ts: &[f64], cotangent: &mut BatchCotangent<'_>, grad: &mut [f64]) {
        let ys: Vec<&[f64]> = cs.iter().map(|c| c.y.as_slice()).collect();
        self.noise_vjp_ys(&ys, ts, cotangent, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::exact::{DoubleWell2d, Mixture1d};
    use crate::model::EnergyModel;
    use crate::rng::{stream, Purpose};

    fn model() -> ToyModel {
        let mut r = stream(4, Purpose::Init, 0);
        let mut m = ToyModel::new(Arc::new(DoubleWell2d { a: 1.0, k: 3.0, c: 0.4 }), &[16, 16], 3, &mut r);
        // Larger output weights so the network term is not negligible in the checks.
        for p in m.params.iter_mut() {
            *p *= 3.0;
        }
        m
    }

    #[test]
    fn endpoints_are_exact() {
        let m = model();
        let c = Conf { y: vec![0.7, -0.3], side: 1.0 };
        assert!((m.energy(&c, 0.0) - m.system.energy(&c.y)).abs() < 1e-14);
        assert!((m.energy(&c, 1.0) - m.prior_energy(&c.y)).abs() < 1e-14);
    }

    #[test]
    fn gradient_time_derivative_and_loss_gradient_match_central_differences() {
        let m = model();
        let c = Conf { y: vec![0.7, -0.3], side: 1.0 };
        for t in [0.02, 0.5, 0.97] {
            let (_, g) = m.energy_grad(&c, t);
            for (k, gk) in g.iter().enumerate() {
                let (mut p, mut q) = (c.clone(), c.clone());
                p.y[k] += 1e-6;
                q.y[k] -= 1e-6;
                let fd = (m.energy(&p, t) - m.energy(&q, t)) / 2e-6;
                assert!((gk - fd).abs() < 1e-6 * fd.abs().max(1.0), "grad t={t}");
            }
            let d = m.dt_terms(&c, t);
            let fd = (m.energy(&c, t + 1e-6) - m.energy(&c, t - 1e-6)) / 2e-6;
            assert!((d.total() - fd).abs() < 1e-6 * fd.abs().max(1.0), "d/dt t={t}: {} vs {fd}", d.total());
            // The noise VJP: eps = s grad u goes to the cotangent, and (w / D) v . d eps / d theta
            // matches central differences of that function of theta.
            let (v, w) = (vec![0.4, -1.1], 1.7);
            let s = m.schedule.sigma(t);
            let f = |m: &ToyModel| -> f64 {
                let g = m.energy_grad(&c, t).1;
                w / 2.0 * g.iter().zip(&v).map(|(g, v)| s * g * v).sum::<f64>()
            };
            let mut grad = vec![0.0; m.params.len()];
            let mut seen = vec![];
            m.noise_vjp(
                &c,
                t,
                &mut |eps: &[f64]| {
                    seen = eps.to_vec();
                    (v.clone(), w)
                },
                &mut grad,
            );
            for (e, g) in seen.iter().zip(&m.energy_grad(&c, t).1) {
                assert!((e - s * g).abs() < 1e-12 * (s * g).abs().max(1.0), "eps t={t}");
            }
            let mut worst: f64 = 0.0;
            for k in (0..m.params.len()).step_by(7) {
                let (mut a, mut b) = (m.clone(), m.clone());
                a.params[k] += 1e-6;
                b.params[k] -= 1e-6;
                let fd = (f(&a) - f(&b)) / 2e-6;
                worst = worst.max((grad[k] - fd).abs() / fd.abs().max(1e-3));
            }
            assert!(worst < 1e-6, "noise VJP t={t}: worst rel. error {worst}");
        }
        let _ = Mixture1d;
    }
}
