//! The message-passing network E_NN(x, t) = sum_i E_i: PaiNN-style equivariant message passing
//! with scalar features s_i (F) and vector features v_i (3 x V), conditioned on t
//! (K. T. Schütt, O. T. Unke, M. Gastegger, ICML 2021, "Equivariant message passing for the
//! prediction of tensorial properties and molecular spectra"; time conditioning as in the energy
//! network of Máté, Fleuret & Bereau, J. Phys. Chem. Lett. 15, 11395 (2024)).
//!
//! ```text
//! s_i^0 = W_t tau(t) + b,   v_i^0 = 0                                   (tau: Fourier time features)
//! layer l (message):  phi_j = W_2 silu(W_1 s_j + A tau + b_1) + b_2       (F + 2V columns)
//!                     m_ij  = phi_j o (W_f B(r_ij))  = [m^s, m^vv, m^vs]   (no bias: m -> 0 at r_c)
//!                     s_i  += sum_j m^s_ij
//!                     v_i  += sum_j ( v_j o m^vv_ij + w_ij o m^vs_ij )      (w_ij = d_ij / r_c)
//!          (update):  U v_i, V v_i (channel mixing, no bias),  n_i = sum_c (V v_i)_c^2,
//!                     p_i = sum_c (U v_i)_c (V v_i)_c
//!                     a_i = W_4 silu(W_3 [s_i, n_i] + A' tau + b_3) + b_4 = [a^vv, a^sv, a^ss]
//!                     s_i += a^ss_i + a^sv_i o (P p_i),   v_i += (U v_i) o a^vv_i
//! readout:            E_i = w_6 silu(W_5 s_i + b_5) + b_6
//! ```
//!
//! Only norms and inner products of vector features enter the scalars, so E_NN is invariant under
//! rotations, reflections, translations and permutations; the radial basis carries the smooth
//! cutoff, so E_NN is C^2 in the positions. Shapes: s (N x F), v (3N x V, rows 3i + c), B (P x K) over the neighbour pairs.

use super::graph::{Graph, RadialBasis};
use super::message::MsgSpec;
use super::tape::{Id, Tape};
use ndarray::Array2;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Shape of the message-passing network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MpSpec {
    /// Message-passing layers.
    pub layers: usize,
    /// Scalar features F.
    pub scalars: usize,
    /// Vector features V.
    pub vectors: usize,
    /// Radial basis channels K.
    pub n_radial: usize,
    /// Centre of the first radial channel (sigma).
    pub r_min: f64,
    /// Message cutoff (sigma).
    pub r_cut: f64,
}

/// One dense block of the flat parameter vector: W (n_in x n_out, row-major), then b (n_out) if bias.
#[derive(Clone, Copy, Debug)]
struct Lin {
    off: usize,
    n_in: usize,
    n_out: usize,
    bias: bool,
}

#[derive(Clone, Debug)]
struct LayerParams {
    phi1: Lin,
    phi_t: Lin,
    phi2: Lin,
    filt: Lin,
    u: Lin,
    v: Lin,
    up1: Lin,
    up_t: Lin,
    up2: Lin,
    proj: Lin,
}

/// The network: spec and parameter layout.
#[derive(Clone, Debug)]
pub struct MpNet {
    /// Shape.
    pub spec: MpSpec,
    n_time: usize,
    t0: Lin,
    layers: Vec<LayerParams>,
    ro1: Lin,
    ro2: Lin,
    n_params: usize,
    /// Blocks in allocation order, with the init scale of their weights.
    blocks: Vec<(Lin, f64)>,
}

impl MpNet {
    /// The layout for `spec` with `n_time` time features.
    pub fn new(spec: MpSpec, n_time: usize) -> Self {
        let (f, v, k) = (spec.scalars, spec.vectors, spec.n_radial);
        let mut off = 0;
        let mut blocks = vec![];
        let mut lin = |n_in: usize, n_out: usize, bias: bool, scale: f64| {
            let l = Lin { off, n_in, n_out, bias };
            off += n_in * n_out + if bias { n_out } else { 0 };
            blocks.push((l, scale));
            l
        };
        let t0 = lin(n_time, f, true, 1.0);
        let layers = (0..spec.layers)
            .map(|_| LayerParams {
                phi1: lin(f, f, true, 1.0),
                phi_t: lin(n_time, f, false, 1.0),
                phi2: lin(f, f + 2 * v, true, 1.0),
                filt: lin(k, f + 2 * v, false, 1.0),
                u: lin(v, v, false, 1.0),
                v: lin(v, v, false, 1.0),
                up1: lin(f + v, f, true, 1.0),
                up_t: lin(n_time, f, false, 1.0),
                up2: lin(f, 2 * f + v, true, 1.0),
                proj: lin(v, f, false, 1.0),
            })
            .collect();
        let ro1 = lin(f, f, true, 1.0);
        let ro2 = lin(f, 1, true, 0.1);
        Self { spec, n_time, t0, layers, ro1, ro2, n_params: off, blocks }
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.n_params
    }

    /// The radial basis of the messages.
    pub fn basis(&self) -> RadialBasis {
        RadialBasis { n: self.spec.n_radial, r_min: self.spec.r_min, r_cut: self.spec.r_cut }
    }

    /// LeCun-normal weights W ~ N(0, scale^2 / n_in), zero biases (readout scaled by 0.1, so that
    /// a fresh network starts near zero energy).
    pub fn init_params(&self, rng: &mut crate::rng::Stream) -> Vec<f64> {
        let mut p = vec![0.0; self.n_params];
        for (l, scale) in &self.blocks {
            let sd = scale / (l.n_in as f64).sqrt();
            for w in &mut p[l.off..l.off + l.n_in * l.n_out] {
                let z: f64 = StandardNormal.sample(rng);
                *w = sd * z;
            }
        }
        p
    }

    /// Records E_i (node of shape N x 1) on `tape` from the leaves: radial basis `b` (P x K), scaled
    /// pair separations `u` (P x 3) and time features `tau` (N x n_time) of the graph `g`.
    pub fn build(&self, tape: &mut Tape<'_>, g: &Graph, b: Id, u: Id, tau: Id) -> Id {
        let (f, v) = (self.spec.scalars, self.spec.vectors);
        assert_eq!(tape.value(tau).ncols(), self.n_time, "time features");
        let lin = |tape: &mut Tape<'_>, x: Id, l: Lin| tape.linear(x, l.off, l.n_out, l.bias);
        let mut s = lin(tape, tau, self.t0);
        let mut vec: Option<Id> = None;
        for lp in &self.layers {
            // Messages.
            let h1 = lin(tape, s, lp.phi1);
            let ht = lin(tape, tau, lp.phi_t);
            let h = tape.add(h1, ht);
            let h = tape.silu(h);
            let phi = lin(tape, h, lp.phi2);
            let c = f + 2 * v;
            let msg = |c0, m, vec, d| MsgSpec { phi, v: vec, b, d, off: lp.filt.off, c0, m };
            let ds = tape.message(msg(0, f, None, None), c, &g.pairs);
            s = tape.add(s, ds);
            let dv = tape.message(msg(f, 2 * v, vec, Some(u)), c, &g.pairs);
            let vv = match vec {
                Some(vv) => tape.add(vv, dv),
                None => dv,
            };
            // Update.
            let uv = lin(tape, vv, lp.u);
            let wv = lin(tape, vv, lp.v);
            let sq = tape.mul(wv, wv);
            let norm = tape.scatter(sq, &g.node3, g.n);
            let pr = tape.mul(uv, wv);
            let inner = tape.scatter(pr, &g.node3, g.n);
            let cat = tape.concat(s, norm);
            let a1 = lin(tape, cat, lp.up1);
            let at = lin(tape, tau, lp.up_t);
            let a = tape.add(a1, at);
            let a = tape.silu(a);
            let a = lin(tape, a, lp.up2);
            let avv = tape.cols(a, 0, v);
            let asv = tape.cols(a, v, v + f);
            let ass = tape.cols(a, v + f, v + 2 * f);
            let pi = lin(tape, inner, lp.proj);
            let gate = tape.mul(asv, pi);
            let ds = tape.add(ass, gate);
            s = tape.add(s, ds);
            let avv3 = tape.gather(avv, &g.node3);
            let dv = tape.mul(uv, avv3);
            vec = Some(tape.add(vv, dv));
        }
        let h = lin(tape, s, self.ro1);
        let h = tape.silu(h);
        lin(tape, h, self.ro2)
    }

    /// Flops of the dense layers (2 rows n_in n_out each) of one forward pass over N particles and
    /// P neighbour pairs (the filter runs once per pair); the elementwise, gather and scatter work
    /// is not counted.
    pub fn forward_flops(&self, n: usize, pairs: usize) -> f64 {
        let fl = |l: &Lin, rows: usize| 2.0 * (rows * l.n_in * l.n_out) as f64;
        let mut f = fl(&self.t0, n) + fl(&self.ro1, n) + fl(&self.ro2, n);
        for lp in &self.layers {
            f += fl(&lp.filt, pairs) + fl(&lp.u, 3 * n) + fl(&lp.v, 3 * n);
            f += [lp.phi1, lp.phi_t, lp.phi2, lp.up1, lp.up_t, lp.up2, lp.proj].iter().map(|l| fl(l, n)).sum::<f64>();
        }
        f
    }

    /// tau(t) (and its t-derivative) as N identical rows.
    pub fn time_rows(n: usize, tau: &[f64]) -> Array2<f64> {
        Array2::from_shape_fn((n, tau.len()), |(_, k)| tau[k])
    }
}
