//! The LJ model with the message-passing network as E_NN ([`crate::model::mp`]), a child module of
//! `lj_model`: the same time-dependent energy
//!   E_theta(x, t) = t (1 - t) E_NN(x, t) + (1 - t) sigma_min beta U_soft(x; a = t),
//! with E_NN = sum_i E_i the network's per-particle energies, minus N times the energy of an
//! isolated particle (one without neighbours) when `isolated_zero` is set.

use super::{Eval, LjModel};
use crate::model::Conf;
use crate::system::{Positions, SimBox};

impl LjModel {
    fn mp_net(&self) -> &crate::model::mp::MpNet {
        self.mp.as_ref().expect("message-passing model")
    }

    /// [`LjModel::eval`] for the message-passing network.
    pub(super) fn eval_mp(&self, c: &Conf, t: f64, with_grad: bool) -> Eval {
        let x = Self::positions(c);
        let simbox = SimBox::new(c.side);
        let (tau, dtau) = (self.spec.time.features(t), self.spec.time.derivative(t));
        let ne = self.mp_net().evaluate(&self.params, &x, &simbox, &tau, &dtau, with_grad);
        let (mut e_i, mut de_i) = (ne.e_i, ne.de_i);
        if self.spec.isolated_zero {
            let (e0, de0) = self.isolated_mp(c.side, &tau, &dtau);
            for (e, d) in e_i.iter_mut().zip(de_i.iter_mut()) {
                *e -= e0;
                *d -= de0;
            }
        }
        let (p_i, dp_i, g_p) = self.prior(&x, &simbox, t);
        Eval { e_i, de_i, g_nn: ne.grad, p_i, dp_i, g_p }
    }

    /// Energy of a particle without neighbours, and its t-derivative.
    fn isolated_mp(&self, side: f64, tau: &[f64], dtau: &[f64]) -> (f64, f64) {
        let ne = self.mp_net().evaluate(&self.params, &vec![[0.0; 3]], &SimBox::new(side), tau, dtau, false);
        (ne.e_i[0], ne.de_i[0])
    }

    /// grad_x E_NN and grad_x beta U_soft at (c, t).
    pub(super) fn grads_mp(&self, c: &Conf, t: f64) -> (Positions, Vec<[f64; 3]>, Vec<[f64; 3]>) {
        let x = Self::positions(c);
        let simbox = SimBox::new(c.side);
        let g_nn = self.mp_net().gradient(&self.params, &x, &simbox, &self.spec.time.features(t));
        let (_, _, g_p) = self.prior(&x, &simbox, t);
        (x, g_nn, g_p)
    }

    /// Adds `scale` x d/dtheta [grad_x E_NN . r] into `grad`.
    pub(super) fn direction_param_grad_mp(
        &self,
        x: &Positions,
        side: f64,
        t: f64,
        r: &[[f64; 3]],
        scale: f64,
        grad: &mut [f64],
    ) {
        let tau = self.spec.time.features(t);
        self.mp_net().direction_param_grad(&self.params, x, &SimBox::new(side), &tau, r, scale, grad);
    }

    /// Adds sv dE_NN/dtheta + sd d(dE_NN/dt)/dtheta into `grad` (isolated-particle zero included).
    pub(super) fn nn_param_grad_mp(&self, c: &Conf, t: f64, sv: f64, sd: f64, grad: &mut [f64]) {
        let x = Self::positions(c);
        let simbox = SimBox::new(c.side);
        let (tau, dtau) = (self.spec.time.features(t), self.spec.time.derivative(t));
        let net = self.mp_net();
        net.param_grad(&self.params, &x, &simbox, &tau, &dtau, sv, sd, grad);
        if self.spec.isolated_zero {
            let n = x.len() as f64;
            net.param_grad(&self.params, &vec![[0.0; 3]], &simbox, &tau, &dtau, -n * sv, -n * sd, grad);
        }
    }
}
