//! The descriptor network (docs/design.md sec. 6): E_NN = sum_i MLP([G_i(x), tau(t)]), a
//! per-particle MLP with SiLU activations on the invariant descriptors G_i of particle i's
//! neighbourhood ([`crate::model::descriptors`]: radial densities and the norms of vector and
//! quadrupole moments) and the Fourier time features tau(t) (Behler & Parrinello, Phys. Rev.
//! Lett. 98, 146401 (2007), with time conditioning).
//!
//! Derivatives: grad_x E_NN = VJP of the descriptors with dE/dG from the MLP's input gradient;
//! dE_i/dt = (dE_i/dtau) . tau'(t); the score-matching parameter gradient
//! d/dtheta [grad_x E_NN . r] = tangent of E_NN along r (descriptor JVP, then the MLP's tangent
//! pass), back-propagated to theta (reverse over forward, [`Mlp::tangent_param_grad`]).
//!
//! Shapes: MLP input rows [G_i (3K), tau (2M)] for N particles; parameters those of the MLP.

use super::{At, NetOut, Network, Residual, Want};
use crate::model::descriptors::{DescriptorScratch, DescriptorSpec, Descriptors};
use crate::model::mlp::{matrix, Forward, Mlp};
use crate::model::TimeEmbedding;
use crate::system::PairList;
use ndarray::Array1;
use std::cell::RefCell;

/// Buffers of one evaluation (descriptors with their pairs, weights and moments, derivative
/// scratch, gbar), kept per thread between evaluations so that the large per-configuration
/// arrays are reused rather than allocated (and page-faulted) anew for every configuration.
#[derive(Default)]
struct Work {
    desc: Descriptors,
    scratch: DescriptorScratch,
    gbar: Vec<f64>,
    gdot: Vec<f64>,
}

thread_local! {
    static WORK: RefCell<Work> = RefCell::new(Work::default());
}

/// Runs `f` with this thread's [`Work`] buffers (fresh ones if they are in use, e.g. by a
/// nested evaluation; contents never carry over, only capacity).
fn with_work<R>(f: impl FnOnce(&mut Work) -> R) -> R {
    let mut work = WORK.with(|w| w.try_borrow_mut().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default());
    let out = f(&mut work);
    WORK.with(|w| {
        if let Ok(mut w) = w.try_borrow_mut() {
            *w = work;
        }
    });
    out
}

/// Descriptors, time features and the per-particle MLP.
#[derive(Clone, Debug)]
pub struct DescriptorMlp {
    descriptors: DescriptorSpec,
    time: TimeEmbedding,
    mlp: Mlp,
}

impl DescriptorMlp {
    /// The network for these descriptors, time features and hidden widths.
    pub fn new(descriptors: DescriptorSpec, time: TimeEmbedding, hidden: &[usize]) -> Self {
        let mlp = Mlp::new(descriptors.n_features() + time.n_features(), hidden);
        Self { descriptors, time, mlp }
    }

    /// Descriptors of x and the MLP's forward pass on the rows [G_i, tau(t)].
    ///
    /// # Panics
    /// If the descriptors do not fit the box ([`DescriptorSpec::validate`]).
    fn forward(&self, params: &[f64], at: &At<'_>, d: &mut Descriptors) -> Forward {
        if let Err(e) = self.descriptors.validate(at.simbox) {
            panic!("{e}");
        }
        self.descriptors.compute_into(at.pairs, d);
        let n = at.pairs.n_particles();
        let t = at.t;
        let (nf, nt) = (self.descriptors.n_features(), self.time.n_features());
        let tau = self.time.features(t);
        let mut data = Vec::with_capacity(n * (nf + nt));
        for row in d.values().chunks_exact(nf) {
            data.extend_from_slice(row);
            data.extend_from_slice(&tau);
        }
        self.mlp.forward(params, matrix(n, nf + nt, data))
    }

    /// E_i, dE_i/dt and, with `with_grad`, grad_x E_NN from a forward pass.
    fn outputs(&self, params: &[f64], work: &mut Work, fw: &Forward, t: f64, with_grad: bool) -> NetOut {
        let Work { desc: d, scratch, gbar, .. } = work;
        let n = d.n_particles();
        let nf = self.descriptors.n_features();
        let gin = self.mlp.input_grad(params, fw, &Array1::ones(n));
        let dtau = self.time.derivative(t);
        gbar.clear();
        let mut de_i = Vec::with_capacity(n);
        for i in 0..n {
            let row = gin.row(i);
            gbar.extend(row.iter().take(nf).copied());
            de_i.push(row.iter().skip(nf).zip(&dtau).map(|(a, b)| a * b).sum());
        }
        let mut grad = Vec::new();
        if with_grad {
            d.vjp_into(gbar, scratch, &mut grad);
        } else {
            grad.resize(n, [0.0; 3]);
        }
        NetOut { e_i: fw.out.to_vec(), de_i, grad }
    }
}

impl Network for DescriptorMlp {
    fn kind(&self) -> &'static str {
        "lj-descriptor-mlp"
    }

    fn n_params(&self) -> usize {
        self.mlp.n_params()
    }

    fn init_params(&self, rng: &mut crate::rng::Stream) -> Vec<f64> {
        self.mlp.init_params(rng, 0.1)
    }

    fn cutoff(&self) -> f64 {
        self.descriptors.r_cut
    }

    fn evaluate(&self, at: &At<'_>, want: Want) -> NetOut {
        with_work(|work| {
            let fw = self.forward(at.params, at, &mut work.desc);
            self.outputs(at.params, work, &fw, at.t, want.grad)
        })
    }

    /// The MLP on the input row of a particle without neighbours (G = 0).
    fn isolated(&self, params: &[f64], _side: f64, t: f64) -> (f64, f64) {
        let nf = self.descriptors.n_features();
        let mut row = vec![0.0; nf];
        row.extend(self.time.features(t));
        let len = row.len();
        let fw = self.mlp.forward(params, matrix(1, len, row));
        let gin = self.mlp.input_grad(params, &fw, &Array1::ones(1));
        let dtau = self.time.derivative(t);
        (fw.out[0], gin.row(0).iter().skip(nf).zip(&dtau).map(|(a, b)| a * b).sum::<f64>())
    }

    fn score_param_grad(&self, at: &At<'_>, residual: &mut Residual<'_>, grad: &mut [f64]) {
        let params = at.params;
        with_work(|work| {
            let fw = self.forward(params, at, &mut work.desc);
            let out = self.outputs(params, work, &fw, at.t, true);
            let Some((r, scale)) = residual(&out) else { return };
            let n = at.pairs.n_particles();
            let (nf, nt) = (self.descriptors.n_features(), self.time.n_features());
            let Work { desc, scratch, gdot, .. } = work;
            desc.jvp_into(&r, scratch, gdot);
            let mut xdot = vec![0.0; n * (nf + nt)];
            for i in 0..n {
                xdot[i * (nf + nt)..i * (nf + nt) + nf].copy_from_slice(&gdot[i * nf..(i + 1) * nf]);
            }
            let w = Array1::from_elem(n, scale);
            self.mlp.tangent_param_grad(params, &fw, &matrix(n, nf + nt, xdot), &w, grad);
        })
    }

    /// The MLP's GEMMs over N rows (the descriptors are not counted).
    fn forward_flops(&self, pairs: &PairList) -> f64 {
        self.mlp.forward_flops(pairs.n_particles())
    }
}
