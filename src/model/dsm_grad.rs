//! Parameter gradient of the denoising score-matching loss of the LJ model (docs/design.md sec. 2 and 6),
//! a child module of `lj_model`.

use super::{Eval, LjModel};
use crate::model::mlp::matrix;
use crate::model::pair_term::gaussian_time_bumps;
use crate::model::Conf;
use crate::system::SimBox;
use ndarray::Array1;

impl LjModel {
    /// The denoising score-matching loss l = (1/D) |L grad_x E - z|^2 of one noised sample and
    /// `weight` x its parameter gradient, added into `grad` (reverse over forward, docs/design.md sec. 6):
    /// with the residual r = L grad_x E - z held fixed,
    /// dl/dtheta = (2 L t(1-t) / D) d/dtheta [grad_x E_NN . r], the tangent of E_NN along r
    /// (descriptor JVP, then the MLP tangent pass) back-propagated to theta.
    pub(super) fn dsm_loss_grad_impl(&self, c: &Conf, t: f64, z: &[f64], weight: f64, grad: &mut [f64]) -> f64 {
        if self.mp.is_some() {
            return self.dsm_loss_grad_mp(c, t, z, weight, grad);
        }
        let x = Self::positions(c);
        let simbox = SimBox::new(c.side);
        let n = x.len();
        let (d, fw) = self.forward(&x, &simbox, t);
        let nf = self.spec.descriptors.n_features();
        let nt = self.spec.time.n_features();
        let p_t = self.mlp_params(t);
        let inv = self.inv_scale();
        let Eval { g_nn, g_p, .. } = self.eval_from(&x, &simbox, t, &d, &fw, true);
        let (_, smin) = self.sig(t);
        let cnn = t * (1.0 - t);
        let dim = 3 * n;
        let mut r = vec![[0.0; 3]; n];
        let mut loss = 0.0;
        for i in 0..n {
            for k in 0..3 {
                let ge = cnn * g_nn[i][k] + (1.0 - t) * smin * g_p[i][k];
                let v = c.side * ge - z[3 * i + k];
                r[i][k] = v;
                loss += v * v;
            }
        }
        if cnn > 0.0 {
            let gdot = d.jvp(&r);
            let mut xdot = vec![0.0; n * (nf + nt)];
            for i in 0..n {
                for (k, (x, s)) in xdot[i * (nf + nt)..i * (nf + nt) + nf].iter_mut().zip(&inv).enumerate() {
                    *x = gdot[i * nf + k] * s;
                }
            }
            let scale = weight * 2.0 * c.side * cnn / dim as f64;
            let w = Array1::from_elem(n, scale);
            let n_mlp = self.mlp.n_params();
            let (g_mlp, g_rest) = grad.split_at_mut(n_mlp);
            let n_ro = self.spec.readout_time_basis * self.readout_width();
            let (g_ro, g_rest) = g_rest.split_at_mut(n_ro);
            let (g_lin, g_pair) = g_rest.split_at_mut(g_rest.len() - self.spec.pair.n_params());
            let hw = self.readout_width();
            let before: Vec<f64> = g_mlp[n_mlp - hw..].to_vec();
            self.mlp.tangent_param_grad(&p_t, &fw, &matrix(n, nf + nt, xdot), &w, g_mlp);
            // Readout: the output layer's gradient, times rho_q(t), for every bump q.
            if n_ro > 0 {
                let (rho, _) = gaussian_time_bumps(self.spec.readout_time_basis, t);
                let d_out: Vec<f64> = g_mlp[n_mlp - hw..].iter().zip(&before).map(|(a, b)| a - b).collect();
                for (row, r) in g_ro.chunks_exact_mut(hw).zip(&rho) {
                    for (g, d) in row.iter_mut().zip(&d_out) {
                        *g += r * d;
                    }
                }
            }
            // Linear term: d/dA_fq sum_i c_f(t) Gdot_if = rho_q(t) sum_i Gdot_if / s_f.
            let q_n = self.spec.linear_time_basis;
            if q_n > 0 {
                let (rho, _) = gaussian_time_bumps(q_n, t);
                for f in 0..nf {
                    let s: f64 = (0..n).map(|i| gdot[i * nf + f]).sum::<f64>() * inv[f] * scale;
                    for (g, r) in g_lin[f * q_n..(f + 1) * q_n].iter_mut().zip(&rho) {
                        *g += s * r;
                    }
                }
            }
            self.spec.pair.tangent_param_grad(&d, t, &r, scale, g_pair);
        }
        weight * loss / dim as f64
    }

    /// [`Self::dsm_loss_grad_impl`] for the message-passing network: the same residual, and the
    /// parameter gradient of grad_x E_NN . r from one tape pass with a tangent along r.
    fn dsm_loss_grad_mp(&self, c: &Conf, t: f64, z: &[f64], weight: f64, grad: &mut [f64]) -> f64 {
        let (x, g_nn, g_p) = self.grads_mp(c, t);
        let (_, smin) = self.sig(t);
        let cnn = t * (1.0 - t);
        let dim = z.len();
        let mut loss = 0.0;
        let r: Vec<[f64; 3]> = (0..x.len())
            .map(|i| {
                std::array::from_fn(|k| {
                    let v = c.side * (cnn * g_nn[i][k] + (1.0 - t) * smin * g_p[i][k]) - z[3 * i + k];
                    loss += v * v;
                    v
                })
            })
            .collect();
        if cnn > 0.0 {
            let scale = weight * 2.0 * c.side * cnn / dim as f64;
            self.direction_param_grad_mp(&x, c.side, t, &r, scale, grad);
        }
        weight * loss / dim as f64
    }
}
