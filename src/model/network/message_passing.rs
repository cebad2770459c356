//! The message-passing network as E_NN (EXPERIMENTAL; [`crate::model::mp`]): PaiNN-like scalar and
//! vector features with time-conditioned messages within the cutoff r_c (K. T. Schütt, O. T.
//! Unke & M. Gastegger, ICML 2021). Its derivatives come from one pass each of a hand-written
//! dual-number tape with reverse mode ([`crate::model::mp::eval`]).

use super::{At, NetOut, Network, Residual, Want};
use crate::model::mp::graph::Graph;
use crate::model::mp::{MpNet, MpSpec};
use crate::model::TimeEmbedding;
use crate::system::{PairList, SimBox};

/// The network and its time features.
#[derive(Clone, Debug)]
pub struct MessagePassing {
    net: MpNet,
    time: TimeEmbedding,
}

impl MessagePassing {
    /// The network of `spec` with the time features `time`.
    pub fn new(spec: MpSpec, time: TimeEmbedding) -> Self {
        Self { net: MpNet::new(spec, time.n_features()), time }
    }
}

impl Network for MessagePassing {
    fn kind(&self) -> &'static str {
        "lj-message-passing"
    }

    fn n_params(&self) -> usize {
        self.net.n_params()
    }

    fn init_params(&self, rng: &mut crate::rng::Stream) -> Vec<f64> {
        self.net.init_params(rng)
    }

    fn cutoff(&self) -> f64 {
        self.net.spec.r_cut
    }

    fn evaluate(&self, at: &At<'_>, want: Want) -> NetOut {
        let (tau, dtau) = (self.time.features(at.t), self.time.derivative(at.t));
        let ne = self.net.evaluate(at.params, at.pairs, &tau, want.dt.then_some(&dtau[..]), want.grad);
        NetOut { e_i: ne.e_i, de_i: ne.de_i, grad: ne.grad }
    }

    /// One particle at the origin of a box of side `side`.
    fn isolated(&self, params: &[f64], side: f64, t: f64) -> (f64, f64) {
        let (tau, dtau) = (self.time.features(t), self.time.derivative(t));
        let alone = PairList::new(&vec![[0.0; 3]], &SimBox::new(side), self.cutoff());
        let ne = self.net.evaluate(params, &alone, &tau, Some(&dtau), false);
        (ne.e_i[0], ne.de_i[0])
    }

    /// The gradient pass, then a separate tangent pass along r (E_i and dE_i/dt are not computed).
    fn score_param_grad(&self, at: &At<'_>, residual: &mut Residual<'_>, grad: &mut [f64]) {
        let tau = self.time.features(at.t);
        let out = NetOut { grad: self.net.gradient(at.params, at.pairs, &tau), ..Default::default() };
        if let Some((r, scale)) = residual(&out) {
            self.net.direction_param_grad(at.params, at.pairs, &tau, &r, scale, grad);
        }
    }

    fn forward_flops(&self, pairs: &PairList) -> f64 {
        self.net.forward_flops(pairs.n_particles(), Graph::new(pairs, &self.net.basis()).n_pairs())
    }
}
