//! The derivatives of the message-passing network that the LJ model needs, each one tape pass:
//!
//! - [`MpNet::evaluate`]: E_i, dE_i/dt (tangent along t: taudot = tau'(t)) and grad_x E_NN
//!   (reverse pass with Ybar = 1);
//! - [`MpNet::direction_param_grad`]: d/dtheta [grad_x E_NN . r] for a fixed direction r (tangent
//!   along x, reverse pass with Ydotbar = 1): the score-matching parameter gradient with the
//!   residual held fixed (docs/design.md sec. 6).
//!
//! Positions in sigma (N x 3), gradients per sigma.

use super::graph::Graph;
use super::net::MpNet;
use super::tape::{Id, Tape};
use crate::system::PairList;
use ndarray::Array2;

/// E_NN per particle, its t-derivative, and grad_x E_NN (zero unless requested).
pub struct NetEval {
    /// E_i (N).
    pub e_i: Vec<f64>,
    /// dE_i/dt (N).
    pub de_i: Vec<f64>,
    /// grad_x E_NN (N x 3, 1/sigma).
    pub grad: Vec<[f64; 3]>,
}

/// Tangent direction of one pass.
enum Dir<'a> {
    /// Along t: taudot = tau'(t).
    Time(&'a [f64]),
    /// Along the positions.
    Space(&'a [[f64; 3]]),
    /// No tangent (primal only).
    None,
}

impl MpNet {
    fn record<'p>(&self, params: &'p [f64], g: &Graph, tau: &[f64], dir: Dir<'_>) -> (Tape<'p>, Id, Id, Id) {
        super::heap::keep_freed_memory();
        let mut tape = Tape::new(params, !matches!(dir, Dir::None));
        let (bt, ut, taut) = match dir {
            Dir::Space(xd) => {
                let (bd, dd) = g.jvp(xd);
                (Some(bd), Some(dd), None)
            }
            Dir::Time(dtau) => (None, None, Some(Self::time_rows(g.n, dtau))),
            Dir::None => (None, None, None),
        };
        let b = tape.leaf(g.basis(), bt);
        let u = tape.leaf(g.separations(), ut);
        let tau_id = tape.leaf(Self::time_rows(g.n, tau), taut);
        let out = self.build(&mut tape, g, b, u, tau_id);
        (tape, out, b, u)
    }

    /// E_i at time features `tau`; dE_i/dt if given their derivative `dtau` (else zero), and
    /// grad_x E_NN if `with_grad` (else zero).
    pub fn evaluate(
        &self,
        params: &[f64],
        list: &PairList,
        tau: &[f64],
        dtau: Option<&[f64]>,
        with_grad: bool,
    ) -> NetEval {
        let g = Graph::new(list, &self.basis());
        let dir = dtau.map_or(Dir::None, Dir::Time);
        let (tape, out, b, u) = self.record(params, &g, tau, dir);
        let e_i = tape.value(out).column(0).to_vec();
        let de_i = tape.tangent(out).map_or_else(|| vec![0.0; g.n], |t| t.column(0).to_vec());
        let grad = if with_grad {
            let adj = tape.backward_inputs(out, Some(Array2::ones((g.n, 1))), None);
            g.vjp(adj.get(b), adj.get(u))
        } else {
            vec![[0.0; 3]; g.n]
        };
        NetEval { e_i, de_i, grad }
    }

    /// grad_x E_NN alone (primal pass and reverse pass).
    pub fn gradient(&self, params: &[f64], list: &PairList, tau: &[f64]) -> Vec<[f64; 3]> {
        let g = Graph::new(list, &self.basis());
        let (tape, out, b, u) = self.record(params, &g, tau, Dir::None);
        let adj = tape.backward_inputs(out, Some(Array2::ones((g.n, 1))), None);
        g.vjp(adj.get(b), adj.get(u))
    }

    /// Adds `scale` x d/dtheta [grad_x E_NN . r] into `grad` (r: N x 3).
    pub fn direction_param_grad(
        &self,
        params: &[f64],
        list: &PairList,
        tau: &[f64],
        r: &[[f64; 3]],
        scale: f64,
        grad: &mut [f64],
    ) {
        let g = Graph::new(list, &self.basis());
        let (tape, out, _, _) = self.record(params, &g, tau, Dir::Space(r));
        tape.backward_params(out, None, Some(Array2::from_elem((g.n, 1), scale)), grad);
    }
}
