//! Time-score matching for the LJ model: the parameter gradient of the TI integrand du/dt and a
//! regression of the time score d/dt ln p_t on its conditional target.
//!
//! Why: denoising score matching constrains grad_y u only on the typical set of each p_t. Between
//! nearby t the energy is then left free to stay low on configurations that are typical of a later
//! (noisier) t, so that the model's own ensemble exp(-u(., t)) is less structured than p_t: on the
//! paper's dense LJ states, MALA on the trained u at t = 0.5 started from noised data, followed by
//! the reverse SDE, ends at u/N = -4.4 instead of -5.7 (validation/paper_lj/README.md). The time
//! score fixes the t-dependence of u on the same typical sets.
//!
//! For the VE schedule (sigma'/sigma = ln(sigma_max/sigma_min) = l, unwrapped noise)
//! ln p(y_t | y_0) = -|y_t - y_0|^2 / (2 sigma^2) - D ln sigma + const, so
//!
//! ```text
//! d/dt ln p(y_t | y_0) = l (|z|^2 - D),      d/dt ln p_t(y) = E[ l (|z|^2 - D) | y_t = y ]
//! ```
//!
//! (Choi, Meng, Song & Ermon, AISTATS 2022, "time score matching"). The model's time score is
//! d/dt ln p_t = -du/dt - d ln Z_t/dt, with an unknown x-independent second term, which cancels in
//! the difference of two samples at the same t (two noises z1, z2 of one clean configuration):
//!
//! ```text
//! L_ts = ( (-du/dt(y_1) + du/dt(y_2)) - l (|z_1|^2 - |z_2|^2) )^2 / (4 l^2 D)
//! ```
//!
//! normalised so that a model without time dependence scores 1 (Var of the target difference is
//! 4 l^2 D). Used only for t where the torus wrapping of the noise is negligible (sigma << 1).
//!
//! Parameter gradient of du/dt (network part; the prior has no parameters), with
//! a(t) = 1 - 2t - t(1-t) l:  d/dtheta du/dt = [ a dE_NN/dtheta + t(1-t) d/dtheta dE_NN/dt ] / sigma,
//! where dE_NN/dt of the MLP is the tangent along the time inputs (0 for descriptors, tau'(t)),
//! back-propagated to theta by [`Mlp::tangent_param_grad`](super::mlp::Mlp::tangent_param_grad).

use super::LjModel;
use crate::model::descriptors::Descriptors;
use crate::model::mlp::{matrix, Forward};
use crate::model::pair_term::gaussian_time_bumps;
use crate::model::Conf;
use crate::schedule::NoiseSchedule;
use crate::system::SimBox;
use ndarray::{Array1, Array2};

impl LjModel {
    /// du/dt at (c, t); adds `weight` x d(du/dt)/dtheta into `grad`.
    ///
    /// # Panics
    /// With the time-dependent readout (not supported here; the input check refuses it).
    pub fn dt_param_grad(&self, c: &Conf, t: f64, weight: f64, grad: &mut [f64]) -> f64 {
        let sigma = self.spec.schedule.sigma(t);
        let cnn = t * (1.0 - t);
        let a = 1.0 - 2.0 * t - cnn * self.spec.schedule.log_ratio();
        if self.mp.is_some() {
            self.nn_param_grad_mp(c, t, weight * a / sigma, weight * cnn / sigma, grad);
            return self.dt_terms_from(&self.eval_mp(c, t, false), t).total();
        }
        let (x, simbox) = (Self::positions(c), SimBox::new(c.side));
        let (d, fw) = self.forward(&x, &simbox, t);
        self.nn_param_grad(&d, &fw, t, weight * a / sigma, weight * cnn / sigma, grad);
        self.dt_terms_from(&self.eval_from(&x, &simbox, t, &d, &fw, false), t).total()
    }

    /// u at (c, t); adds `weight` x du/dtheta = `weight` t(1-t)/sigma dE_NN/dtheta into `grad`.
    ///
    /// # Panics
    /// With the time-dependent readout (not supported here; the input check refuses it).
    pub fn energy_param_grad(&self, c: &Conf, t: f64, weight: f64, grad: &mut [f64]) -> f64 {
        let sigma = self.spec.schedule.sigma(t);
        if self.mp.is_some() {
            self.nn_param_grad_mp(c, t, weight * t * (1.0 - t) / sigma, 0.0, grad);
            return self.energy_terms_from(&self.eval_mp(c, t, false), t).total();
        }
        let (x, simbox) = (Self::positions(c), SimBox::new(c.side));
        let (d, fw) = self.forward(&x, &simbox, t);
        self.nn_param_grad(&d, &fw, t, weight * t * (1.0 - t) / sigma, 0.0, grad);
        self.energy_terms_from(&self.eval_from(&x, &simbox, t, &d, &fw, false), t).total()
    }

    /// Adds sv dE_NN/dtheta + sd d(dE_NN/dt)/dtheta into `grad`, from the descriptors `d` and the
    /// MLP forward pass `fw` at time `t`.
    fn nn_param_grad(&self, d: &Descriptors, fw: &Forward, t: f64, sv: f64, sd: f64, grad: &mut [f64]) {
        assert_eq!(
            self.spec.readout_time_basis, 0,
            "parameter gradients of u and du/dt do not support the time-dependent readout"
        );
        let n = fw.out.len();
        let (nf, nt) = (self.spec.descriptors.n_features(), self.spec.time.n_features());
        let dtau = self.spec.time.derivative(t);
        let p = self.mlp_params(t);
        let n_mlp = self.mlp.n_params();
        let (g_mlp, g_rest) = grad.split_at_mut(n_mlp);
        let (g_lin, g_pair) = g_rest.split_at_mut(g_rest.len() - self.spec.pair.n_params());
        // MLP rows: the N particles with weight 1, and the isolated particle (G = 0) with weight -N.
        let tangent = |rows: usize| {
            let mut xd = Array2::<f64>::zeros((rows, nf + nt));
            for mut r in xd.rows_mut() {
                for (k, v) in dtau.iter().enumerate() {
                    r[nf + k] = *v;
                }
            }
            xd
        };
        self.mlp.param_grad(&p, fw, &Array1::from_elem(n, sv), g_mlp);
        self.mlp.tangent_param_grad(&p, fw, &tangent(n), &Array1::from_elem(n, sd), g_mlp);
        if self.spec.isolated_zero {
            let fw0 = self.mlp.forward(&p, matrix(1, nf + nt, self.isolated_row(t)));
            self.mlp.param_grad(&p, &fw0, &Array1::from_elem(1, -(n as f64) * sv), g_mlp);
            self.mlp.tangent_param_grad(&p, &fw0, &tangent(1), &Array1::from_elem(1, -(n as f64) * sd), g_mlp);
        }
        // Linear term: d/dA_fq of [sv E_lin + sd dE_lin/dt] = (sv rho_q + sd rho_q') sum_i G_if / s_f.
        let q_n = self.spec.linear_time_basis;
        if q_n > 0 {
            let (rho, drho) = gaussian_time_bumps(q_n, t);
            let inv = self.inv_scale();
            for f in 0..nf {
                let s: f64 = d.values().chunks_exact(nf).map(|row| row[f]).sum::<f64>() * inv[f];
                for q in 0..q_n {
                    g_lin[f * q_n + q] += s * (sv * rho[q] + sd * drho[q]);
                }
            }
        }
        // Pair walls: d/dW_lq = (sv rho_q + sd rho_q') sum_pairs b_l(r).
        self.spec.pair.value_param_grad(d.pair_list(), t, sv, sd, g_pair);
    }

    /// The time-score loss L_ts of two noised copies `c1`, `c2` (noises `z1`, `z2`) of one clean
    /// configuration at time `t` (module docs); adds `weight` x dL_ts/dtheta into `grad` and returns
    /// `weight` x L_ts.
    pub fn time_score_loss(
        &self,
        (c1, z1): (&Conf, &[f64]),
        (c2, z2): (&Conf, &[f64]),
        t: f64,
        weight: f64,
        grad: &mut [f64],
    ) -> f64 {
        let l = self.spec.schedule.log_ratio();
        let dim = z1.len() as f64;
        let (mut g1, mut g2) = (vec![0.0; grad.len()], vec![0.0; grad.len()]);
        let d1 = self.dt_param_grad(c1, t, 1.0, &mut g1);
        let d2 = self.dt_param_grad(c2, t, 1.0, &mut g2);
        let sq = |z: &[f64]| z.iter().map(|v| v * v).sum::<f64>();
        let res = (d2 - d1) - l * (sq(z1) - sq(z2));
        let norm = 4.0 * l * l * dim;
        let k = weight * 2.0 * res / norm;
        for ((g, a), b) in grad.iter_mut().zip(&g1).zip(&g2) {
            *g += k * (b - a);
        }
        weight * res * res / norm
    }
}
