//! The network E_NN(x, t) of the LJ model's time-dependent energy (docs/design.md sec. 6): what a
//! network must provide to the composed model [`super::lj_model::LjModel`], and the factory that
//! builds one from the model spec.
//!
//! A network is a parameter-free description (its shape); its parameters theta are a slice that
//! the model owns and passes in, so that optimisers, checkpoints and MPI reductions see one flat
//! vector. Every network returns per-particle energies E_i (so that E_NN = sum_i E_i splits exactly
//! by particle), their t-derivatives and grad_x E_NN, and the parameter gradient of the
//! directional derivative grad_x E_NN . r (reverse over forward) that score matching needs.
//!
//! Adding an architecture: one new file with a type that implements [`Network`], plus one arm in
//! [`build`] (and a field in the spec that selects it).
//!
//! Units: positions x in sigma (N x 3, minimum image in `simbox`), gradients per sigma, t in [0, 1].

pub mod descriptor_mlp;
pub mod message_passing;

use super::lj_model::LjModelSpec;
use crate::system::{PairList, Positions, SimBox};
use std::sync::Arc;

/// Where a network is evaluated: its parameters, the positions x (N x 3, sigma) in `simbox`, their
/// neighbour pairs, and t.
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    /// The network's parameters (a slice of the model's).
    pub params: &'a [f64],
    /// Positions (sigma).
    pub x: &'a Positions,
    /// The periodic box.
    pub simbox: &'a SimBox,
    /// The configuration's neighbour pairs, built by the model to at least [`Network::cutoff`] and
    /// shared with its other terms.
    pub pairs: &'a PairList,
    /// Diffusion time in [0, 1].
    pub t: f64,
}

/// What one evaluation of E_NN at (x, t) gives.
#[derive(Clone, Debug, Default)]
pub struct NetOut {
    /// E_i per particle (N); empty from [`Network::score_param_grad`] for networks that do not need it.
    pub e_i: Vec<f64>,
    /// dE_i/dt per particle (N); empty where `e_i` is.
    pub de_i: Vec<f64>,
    /// grad_x E_NN (N x 3, 1/sigma); zeros when not asked for.
    pub grad: Vec<[f64; 3]>,
}

/// The residual of a score-matching step, computed by the model from the network's gradient:
/// `Some((r, scale))` asks the network to add `scale` x d/dtheta [grad_x E_NN . r] into the
/// gradient, `None` (t(1-t) = 0: the network does not enter) asks for nothing.
pub type Residual<'a> = dyn FnMut(&NetOut) -> Option<(Vec<[f64; 3]>, f64)> + 'a;

/// The derivatives an evaluation should compute beside the energies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    /// grad_x E_NN.
    pub grad: bool,
    /// dE_i/dt.
    pub dt: bool,
}

/// A time-conditioned energy network E_NN(x, t) = sum_i E_i.
pub trait Network: Send + Sync + std::fmt::Debug {
    /// Short name of the model kind it makes (`/model/kind` in results files).
    fn kind(&self) -> &'static str;
    /// Number of parameters.
    fn n_params(&self) -> usize;
    /// Initial parameters drawn from `rng`.
    fn init_params(&self, rng: &mut crate::rng::Stream) -> Vec<f64>;
    /// Cutoff of the interactions it sees (sigma); must be at most L/2.
    fn cutoff(&self) -> f64;
    /// E_i at (x, t), and what `want` asks for beside it: grad_x E_NN and dE_i/dt (left at zero
    /// where not asked for; a network may compute them anyway where that costs nothing).
    fn evaluate(&self, at: &At<'_>, want: Want) -> NetOut;
    /// E and dE/dt of one particle without neighbours (the energy zero that the model subtracts).
    fn isolated(&self, params: &[f64], side: f64, t: f64) -> (f64, f64);
    /// grad_x E_NN (in `NetOut::grad`) passed to
    /// `residual`, then `scale` x d/dtheta [grad_x E_NN . r] added into `grad` for the (r, scale)
    /// it returns; one forward pass serves both where the network can.
    fn score_param_grad(&self, at: &At<'_>, residual: &mut Residual<'_>, grad: &mut [f64]);
    /// Floating-point operations of the dense layers of one forward pass at `x` (2 per
    /// multiply-add; elementwise, gather and scatter work not counted), for benchmarks.
    fn forward_flops(&self, pairs: &PairList) -> f64;
}

/// The network that `spec` describes: message passing when `spec.message_passing` is set,
/// otherwise the descriptor MLP.
pub fn build(spec: &LjModelSpec) -> Arc<dyn Network> {
    match &spec.message_passing {
        Some(ms) => Arc::new(message_passing::MessagePassing::new(ms.clone(), spec.time)),
        None => Arc::new(descriptor_mlp::DescriptorMlp::new(spec.descriptors.clone(), spec.time, &spec.hidden)),
    }
}
