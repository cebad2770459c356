//! The fused message op of the message-passing network: filter, gather, product and scatter of
//! one layer's messages in one pass over the neighbour pairs, with its forward tangent and its
//! reverse pass over both the value and the tangent stream (docs/design.md sec. 6).
//!
//! Pairs p = (i, j), i < j, with the scaled separation D_p = (x_j - x_i) / r_c (P x 3) and the
//! radial basis B_p (P x K). Each pair carries two directed edges, e = (src j -> dst i, sigma = +1)
//! and e = (src i -> dst j, sigma = -1); both share the filter w_p = B_p W (the basis depends on
//! |D_p| only), so the filter GEMM runs once per pair, not per edge. With phi the node features
//! (N x C) and the m filter columns c0..c0+m of W (K x C):
//!
//! ```text
//! scalar:  Y_dst    += phi_src o w_p                                    (N x m)
//! vector:  alpha = phi_src[:V] o w_p[:V],  beta = phi_src[V:] o w_p[V:]   (m = 2V)
//!          Y_dst,c  += sigma D_pc beta + v_src,c o alpha                  (3N x V, rows 3 dst + c)
//! ```
//!
//! Tangents follow the product rule; the reverse pass of a product y = a b over both streams is
//! abar = ybar b + ydotbar bdot, adotbar = ydotbar b (and a <-> b). The adjoints of the leaves B and
//! D are returned in the value stream only (the tape never needs a leaf's tangent adjoint).
//! Forward values and tangents add in the same order as the unfused gather-multiply-scatter chain
//! they replace.

use super::kernels::{self, Inputs, Outputs};
use crate::model::gemm::{mm, mm_into};
use crate::model::simd::Isa;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};
use std::rc::Rc;

/// Neighbour pairs (i_p, j_p) of a configuration of `n` particles.
#[derive(Debug, Default)]
pub struct PairIndex {
    /// Number of particles N.
    pub n: usize,
    /// First particle i of every pair (P).
    pub i: Vec<usize>,
    /// Second particle j of every pair (P).
    pub j: Vec<usize>,
}

impl PairIndex {
    /// Number of pairs P.
    pub fn len(&self) -> usize {
        self.i.len()
    }

    /// True if there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.i.is_empty()
    }
}

/// The inputs of one message op (node ids on the tape, and the filter block).
#[derive(Clone, Debug)]
pub struct MsgSpec {
    /// Node features phi (N x C).
    pub phi: usize,
    /// Vector features v (3N x V) of the senders (vector messages after the first layer).
    pub v: Option<usize>,
    /// Radial basis leaf B (P x K).
    pub b: usize,
    /// Scaled separation leaf D (P x 3): Some for vector messages, None for scalar ones.
    pub d: Option<usize>,
    /// Offset of the filter block W (K x C, row-major) in the parameter vector.
    pub off: usize,
    /// First filter (and phi) column c0 of this message.
    pub c0: usize,
    /// Number of columns m (F for scalar messages, 2V for vector ones).
    pub m: usize,
}

/// A recorded message op: its spec, pairs, and the filter values (and tangents) kept for reverse.
pub struct MsgOp {
    /// Inputs.
    pub spec: MsgSpec,
    /// Column count C of the filter block.
    c: usize,
    pairs: Rc<PairIndex>,
    w: Array2<f64>,
    wdot: Option<Array2<f64>>,
}

/// Adjoints of a message op's inputs (value stream `bar`, tangent stream `tbar`).
pub struct MsgAdjoints {
    /// (phibar, phidotbar), N x C.
    pub phi: (Option<Array2<f64>>, Option<Array2<f64>>),
    /// (vbar, vdotbar), 3N x V.
    pub v: (Option<Array2<f64>>, Option<Array2<f64>>),
    /// Bbar, P x K.
    pub b: Option<Array2<f64>>,
    /// Dbar, P x 3.
    pub d: Option<Array2<f64>>,
}

fn sl(a: &Array2<f64>) -> &[f64] {
    a.as_slice().expect("standard-layout array")
}

fn sl_mut(a: &mut Array2<f64>) -> &mut [f64] {
    a.as_slice_mut().expect("standard-layout array")
}

/// The columns c0..c0+m of the filter block W (K x C) at `off`.
fn filter<'a>(params: &'a [f64], spec: &MsgSpec, k: usize, c: usize) -> ArrayView2<'a, f64> {
    let w = ArrayView2::from_shape((k, c), &params[spec.off..spec.off + k * c]).expect("filter block");
    w.slice_move(s![.., spec.c0..spec.c0 + spec.m])
}

/// Forward pass: the op record, Y and (if any input has a tangent) Ydot. `val`/`tan` are the
/// tape's node values and tangents; `c` is the column count of the filter block.
pub fn forward(
    params: &[f64],
    val: &[Array2<f64>],
    tan: &[Option<Array2<f64>>],
    spec: MsgSpec,
    c: usize,
    pairs: &Rc<PairIndex>,
) -> (MsgOp, Array2<f64>, Option<Array2<f64>>) {
    let bv = &val[spec.b];
    let k = bv.ncols();
    let wf = filter(params, &spec, k, c);
    let w = mm(bv.view(), wf);
    let wdot = tan[spec.b].as_ref().map(|bd| mm(bd.view(), wf));
    let op = MsgOp { spec, c, pairs: pairs.clone(), w, wdot };
    let x = op.inputs(val, tan);
    let shape = match op.spec.d {
        None => (op.pairs.n, op.spec.m),
        Some(_) => (3 * op.pairs.n, op.spec.m / 2),
    };
    let mut y = Array2::zeros(shape);
    let mut yd = x.has_tangent().then(|| Array2::zeros(shape));
    let isa = Isa::best();
    match (op.spec.d, yd.as_mut()) {
        (None, None) => kernels::scalar_forward::<false>(isa, &x, sl_mut(&mut y), &mut []),
        (None, Some(yd)) => kernels::scalar_forward::<true>(isa, &x, sl_mut(&mut y), sl_mut(yd)),
        // V = 8 vector channels (the paper's width and the default) with fixed-length channel
        // loops; any other width through the general kernel.
        (Some(_), None) if op.spec.m == 16 => kernels::vector_forward::<false, 8>(isa, &x, sl_mut(&mut y), &mut []),
        (Some(_), Some(yd)) if op.spec.m == 16 => {
            kernels::vector_forward::<true, 8>(isa, &x, sl_mut(&mut y), sl_mut(yd))
        }
        (Some(_), None) => kernels::vector_forward::<false, 0>(isa, &x, sl_mut(&mut y), &mut []),
        (Some(_), Some(yd)) => kernels::vector_forward::<true, 0>(isa, &x, sl_mut(&mut y), sl_mut(yd)),
    }
    (op, y, yd)
}

impl MsgOp {
    /// The kernels' view of the inputs.
    fn inputs<'a>(&'a self, val: &'a [Array2<f64>], tan: &'a [Option<Array2<f64>>]) -> Inputs<'a> {
        let id_sl = |id: Option<usize>| id.map(|id| sl(&val[id]));
        let id_tan = |id: Option<usize>| id.and_then(|id| tan[id].as_ref().map(sl));
        Inputs {
            pi: &self.pairs.i,
            pj: &self.pairs.j,
            phi: sl(&val[self.spec.phi]),
            phid: id_tan(Some(self.spec.phi)),
            cphi: val[self.spec.phi].ncols(),
            c0: self.spec.c0,
            m: self.spec.m,
            w: sl(&self.w),
            wd: self.wdot.as_ref().map(sl),
            v: id_sl(self.spec.v),
            vd: id_tan(self.spec.v),
            d: id_sl(self.spec.d).unwrap_or(&[]),
            dd: id_tan(self.spec.d),
        }
    }

    /// Reverse pass with the output adjoints `yb` (value) and `tb` (tangent), either None = zero.
    /// Adds the filter's parameter gradient into `grad` if given; the adjoint of the radial basis
    /// only if `leaves`.
    #[allow(clippy::too_many_arguments)] // the tape's state, the two seeds and what to return
    pub fn reverse(
        &self,
        params: &[f64],
        val: &[Array2<f64>],
        tan: &[Option<Array2<f64>>],
        yb: Option<&Array2<f64>>,
        tb: Option<&Array2<f64>>,
        grad: Option<&mut [f64]>,
        leaves: bool,
    ) -> MsgAdjoints {
        let x = self.inputs(val, tan);
        let zeros = |a: &Array2<f64>| Array2::<f64>::zeros(a.raw_dim());
        let dual = tb.is_some();
        let mut phib = zeros(&val[self.spec.phi]);
        let mut phidb = dual.then(|| zeros(&val[self.spec.phi]));
        let mut wb = zeros(&self.w);
        let mut wdb = dual.then(|| zeros(&self.w));
        let mut vb = self.spec.v.map(|id| zeros(&val[id]));
        let mut vdb = if dual { self.spec.v.map(|id| zeros(&val[id])) } else { None };
        let mut db = self.spec.d.map(|id| zeros(&val[id]));
        let nothing: &mut [f64] = &mut [];
        let mut out = Outputs {
            yb: yb.map(sl),
            tb: tb.map(sl).unwrap_or(&[]),
            phib: sl_mut(&mut phib),
            phidb: phidb.as_mut().map_or(&mut [][..], sl_mut),
            wb: sl_mut(&mut wb),
            wdb: wdb.as_mut().map_or(&mut [][..], sl_mut),
            vb: vb.as_mut().map(sl_mut),
            vdb: vdb.as_mut().map_or(&mut [][..], sl_mut),
            db: db.as_mut().map_or(nothing, sl_mut),
        };
        let isa = Isa::best();
        match (self.spec.d, dual) {
            (None, false) => kernels::scalar_reverse::<false>(isa, &x, &mut out),
            (None, true) => kernels::scalar_reverse::<true>(isa, &x, &mut out),
            (Some(_), false) if self.spec.m == 16 => kernels::vector_reverse::<false, 8>(isa, &x, &mut out),
            (Some(_), true) if self.spec.m == 16 => kernels::vector_reverse::<true, 8>(isa, &x, &mut out),
            (Some(_), false) => kernels::vector_reverse::<false, 0>(isa, &x, &mut out),
            (Some(_), true) => kernels::vector_reverse::<true, 0>(isa, &x, &mut out),
        }
        // The filter w = B Wm (and wdot = Bdot Wm): Bbar = wbar Wm^T; dWm += B^T wbar + Bdot^T wdotbar.
        let bv = &val[self.spec.b];
        let k = bv.ncols();
        let wf = filter(params, &self.spec, k, self.c);
        let bb = leaves.then(|| mm(wb.view(), wf.t()));
        if let Some(grad) = grad {
            let gw = &mut grad[self.spec.off..self.spec.off + k * self.c];
            let gwv = ArrayViewMut2::from_shape((k, self.c), gw).expect("filter block");
            let mut gwm = gwv.slice_move(s![.., self.spec.c0..self.spec.c0 + self.spec.m]);
            mm_into(gwm.view_mut(), bv.t(), wb.view(), true);
            if let (Some(bd), Some(wdb)) = (tan[self.spec.b].as_ref(), wdb.as_ref()) {
                mm_into(gwm.view_mut(), bd.t(), wdb.view(), true);
            }
        }
        MsgAdjoints { phi: (Some(phib), phidb), v: (vb, vdb), b: bb, d: db }
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
