//! Parameter gradient of the denoising score-matching loss of the LJ model (DESIGN.md sec. 2 and 6),
//! a child module of `lj_model`.

use super::{Eval, LjModel};
use crate::model::mlp::matrix;
use crate::model::Conf;
use crate::system::SimBox;
use ndarray::Array1;

impl LjModel {
    /// The denoising score-matching loss l = (1/D) |L grad_x E - z|^2 of one noised sample and
    /// `weight` x its parameter gradient, added into `grad` (reverse over forward, DESIGN.md sec. 6):
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
        let p_t = self.mlp_params();
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
                xdot[i * (nf + nt)..i * (nf + nt) + nf].copy_from_slice(&gdot[i * nf..(i + 1) * nf]);
            }
            let scale = weight * 2.0 * c.side * cnn / dim as f64;
            let w = Array1::from_elem(n, scale);
            let (g_mlp, g_pair) = grad.split_at_mut(self.mlp.n_params());
            self.mlp.tangent_param_grad(p_t, &fw, &matrix(n, nf + nt, xdot), &w, g_mlp);
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
