//! The LJ model with the message-passing network as E_NN ([`crate::model::mp`]), a child module of
//! `lj_model`: the same time-dependent energy
//!   E_theta(x, t) = t (1 - t) E_NN(x, t) + (1 - t) sigma_min beta U_soft(x; a = t),
//! with E_NN = sum_i E_i the network's per-particle energies, minus N times the energy of an
//! isolated particle (one without neighbours) when `isolated_zero` is set.

use super::{Eval, LjModel};
use crate::model::pair_term::{pairs_within, PairRow};
use crate::model::Conf;
use crate::system::{Positions, SimBox};

impl LjModel {
    fn mp_net(&self) -> &crate::model::mp::MpNet {
        self.mp.as_ref().expect("message-passing model")
    }

    /// The network's parameters (all but the walls' at the end).
    fn mp_params(&self) -> &[f64] {
        &self.params[..self.params.len() - self.spec.pair.n_params()]
    }

    /// The pairs the walls need (none without walls).
    fn wall_pairs(&self, x: &Positions, simbox: &SimBox) -> Vec<PairRow> {
        if self.spec.pair.enabled() {
            pairs_within(x, simbox, self.spec.pair.reach())
        } else {
            vec![]
        }
    }

    /// [`LjModel::eval`] for the message-passing network.
    pub(super) fn eval_mp(&self, c: &Conf, t: f64, with_grad: bool) -> Eval {
        let x = Self::positions(c);
        let simbox = SimBox::new(c.side);
        let (tau, dtau) = (self.spec.time.features(t), self.spec.time.derivative(t));
        let ne = self.mp_net().evaluate(self.mp_params(), &x, &simbox, &tau, &dtau, with_grad);
        let (mut e_i, mut de_i, mut g_nn) = (ne.e_i, ne.de_i, ne.grad);
        if self.spec.pair.enabled() {
            let pe = self.spec.pair.evaluate_pairs(x.len(), self.wall_pairs(&x, &simbox), self.pair_params(), t);
            for i in 0..x.len() {
                e_i[i] += pe.e_i[i];
                de_i[i] += pe.de_i[i];
                if with_grad {
                    for (g, p) in g_nn[i].iter_mut().zip(&pe.grad[i]) {
                        *g += p;
                    }
                }
            }
        }
        if self.spec.isolated_zero {
            let (e0, de0) = self.isolated_mp(c.side, &tau, &dtau);
            for (e, d) in e_i.iter_mut().zip(de_i.iter_mut()) {
                *e -= e0;
                *d -= de0;
            }
        }
        let (p_i, dp_i, g_p) = self.prior(&x, &simbox, t);
        Eval { e_i, de_i, g_nn, p_i, dp_i, g_p }
    }

    /// Energy of a particle without neighbours, and its t-derivative.
    fn isolated_mp(&self, side: f64, tau: &[f64], dtau: &[f64]) -> (f64, f64) {
        let ne = self.mp_net().evaluate(self.mp_params(), &vec![[0.0; 3]], &SimBox::new(side), tau, dtau, false);
        (ne.e_i[0], ne.de_i[0])
    }

    /// grad_x E_NN and grad_x beta U_soft at (c, t).
    pub(super) fn grads_mp(&self, c: &Conf, t: f64) -> (Positions, Vec<[f64; 3]>, Vec<[f64; 3]>) {
        let x = Self::positions(c);
        let simbox = SimBox::new(c.side);
        let mut g_nn = self.mp_net().gradient(self.mp_params(), &x, &simbox, &self.spec.time.features(t));
        if self.spec.pair.enabled() {
            let pe = self.spec.pair.evaluate_pairs(x.len(), self.wall_pairs(&x, &simbox), self.pair_params(), t);
            for (g, p) in g_nn.iter_mut().zip(&pe.grad) {
                for a in 0..3 {
                    g[a] += p[a];
                }
            }
        }
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
        let simbox = SimBox::new(side);
        let (g_net, g_pair) = grad.split_at_mut(grad.len() - self.spec.pair.n_params());
        self.mp_net().direction_param_grad(self.mp_params(), x, &simbox, &tau, r, scale, g_net);
        self.spec.pair.tangent_param_grad_pairs(self.wall_pairs(x, &simbox), t, r, scale, g_pair);
    }
}
