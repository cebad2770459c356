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

#![allow(clippy::needless_range_loop)] // channel loops mirror the formulas

use ndarray::linalg::general_mat_mul;
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

/// Row `r` (length `len`) of a flat row-major array, or of zeros where the array is absent.
#[inline(always)]
fn row<'a>(a: Option<&'a [f64]>, r: usize, len: usize, zero: &'a [f64]) -> &'a [f64] {
    match a {
        Some(a) => &a[r * len..(r + 1) * len],
        None => &zero[..len],
    }
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
    let std = |a: Array2<f64>| if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() };
    let w = std(bv.dot(&wf));
    let wdot = tan[spec.b].as_ref().map(|bd| std(bd.dot(&wf)));
    let op = MsgOp { spec, c, pairs: pairs.clone(), w, wdot };
    let (y, ydot) = match op.spec.d {
        None => op.forward_scalar(val, tan),
        Some(d) => op.forward_vector(val, tan, d),
    };
    (op, y, ydot)
}

/// Slices of the inputs of one pass (absent tangents as None).
struct Ins<'a> {
    phi: &'a [f64],
    phid: Option<&'a [f64]>,
    w: &'a [f64],
    wd: Option<&'a [f64]>,
    cphi: usize,
    c0: usize,
    m: usize,
}

impl<'a> Ins<'a> {
    fn new(op: &'a MsgOp, val: &'a [Array2<f64>], tan: &'a [Option<Array2<f64>>]) -> Self {
        Ins {
            phi: sl(&val[op.spec.phi]),
            phid: tan[op.spec.phi].as_ref().map(sl),
            w: sl(&op.w),
            wd: op.wdot.as_ref().map(sl),
            cphi: val[op.spec.phi].ncols(),
            c0: op.spec.c0,
            m: op.spec.m,
        }
    }

    /// phi_src[c0..c0+m] and its tangent (zeros if absent).
    #[inline(always)]
    fn phi_row(&self, src: usize, zero: &'a [f64]) -> (&'a [f64], &'a [f64]) {
        let at = src * self.cphi + self.c0;
        let phid = self.phid.map_or(&zero[..self.m], |t| &t[at..at + self.m]);
        (&self.phi[at..at + self.m], phid)
    }
}

impl MsgOp {
    fn edges(&self, p: usize) -> [(usize, usize, f64); 2] {
        let (i, j) = (self.pairs.i[p], self.pairs.j[p]);
        [(i, j, 1.0), (j, i, -1.0)]
    }

    fn forward_scalar(&self, val: &[Array2<f64>], tan: &[Option<Array2<f64>>]) -> (Array2<f64>, Option<Array2<f64>>) {
        let x = Ins::new(self, val, tan);
        let (m, n) = (x.m, self.pairs.n);
        let zero = vec![0.0; m];
        let mut y = Array2::zeros((n, m));
        let mut yd = (x.phid.is_some() || x.wd.is_some()).then(|| Array2::zeros((n, m)));
        let ys = sl_mut(&mut y);
        let mut yds = yd.as_mut().map(sl_mut);
        for p in 0..self.pairs.len() {
            let (wp, wdp) = (row(Some(x.w), p, m, &zero), row(x.wd, p, m, &zero));
            for (dst, src, _) in self.edges(p) {
                let (ph, phd) = x.phi_row(src, &zero);
                let yr = &mut ys[dst * m..(dst + 1) * m];
                for q in 0..m {
                    yr[q] += ph[q] * wp[q];
                }
                if let Some(yds) = yds.as_deref_mut() {
                    let ydr = &mut yds[dst * m..(dst + 1) * m];
                    for q in 0..m {
                        ydr[q] += phd[q] * wp[q] + ph[q] * wdp[q];
                    }
                }
            }
        }
        (y, yd)
    }

    fn forward_vector(
        &self,
        val: &[Array2<f64>],
        tan: &[Option<Array2<f64>>],
        did: usize,
    ) -> (Array2<f64>, Option<Array2<f64>>) {
        let x = Ins::new(self, val, tan);
        let (m, n, nv) = (x.m, self.pairs.n, x.m / 2);
        let zero = vec![0.0; m.max(3)];
        let (dv, dd) = (sl(&val[did]), tan[did].as_ref().map(sl));
        let v = self.spec.v.map(|id| sl(&val[id]));
        let vd = self.spec.v.and_then(|id| tan[id].as_ref().map(sl));
        let dual = x.phid.is_some() || x.wd.is_some() || dd.is_some() || vd.is_some();
        let mut y = Array2::zeros((3 * n, nv));
        let mut yd = dual.then(|| Array2::zeros((3 * n, nv)));
        let ys = sl_mut(&mut y);
        let mut yds = yd.as_mut().map(sl_mut);
        let (mut al, mut be, mut ald, mut bed) = (vec![0.0; nv], vec![0.0; nv], vec![0.0; nv], vec![0.0; nv]);
        for p in 0..self.pairs.len() {
            let (wp, wdp) = (row(Some(x.w), p, m, &zero), row(x.wd, p, m, &zero));
            let (dp, ddp) = (row(Some(dv), p, 3, &zero), row(dd, p, 3, &zero));
            for (dst, src, sg) in self.edges(p) {
                let (ph, phd) = x.phi_row(src, &zero);
                for q in 0..nv {
                    al[q] = ph[q] * wp[q];
                    be[q] = ph[nv + q] * wp[nv + q];
                    ald[q] = phd[q] * wp[q] + ph[q] * wdp[q];
                    bed[q] = phd[nv + q] * wp[nv + q] + ph[nv + q] * wdp[nv + q];
                }
                for cc in 0..3 {
                    let (u, ud) = (sg * dp[cc], sg * ddp[cc]);
                    let (r, sr) = (3 * dst + cc, 3 * src + cc);
                    let yr = &mut ys[r * nv..(r + 1) * nv];
                    match v {
                        Some(v) => {
                            let vs = &v[sr * nv..(sr + 1) * nv];
                            for q in 0..nv {
                                yr[q] += u * be[q] + vs[q] * al[q];
                            }
                        }
                        None => {
                            for q in 0..nv {
                                yr[q] += u * be[q];
                            }
                        }
                    }
                    if let Some(yds) = yds.as_deref_mut() {
                        let ydr = &mut yds[r * nv..(r + 1) * nv];
                        match v {
                            Some(v) => {
                                let (vs, vds) = (&v[sr * nv..(sr + 1) * nv], row(vd, sr, nv, &zero));
                                for q in 0..nv {
                                    ydr[q] += (ud * be[q] + u * bed[q]) + (vds[q] * al[q] + vs[q] * ald[q]);
                                }
                            }
                            None => {
                                for q in 0..nv {
                                    ydr[q] += ud * be[q] + u * bed[q];
                                }
                            }
                        }
                    }
                }
            }
        }
        (y, yd)
    }

    /// Reverse pass with the output adjoints `yb` (value) and `tb` (tangent), either None = zero.
    /// Adds the filter's parameter gradient into `grad` if given.
    pub fn reverse(
        &self,
        params: &[f64],
        val: &[Array2<f64>],
        tan: &[Option<Array2<f64>>],
        yb: Option<&Array2<f64>>,
        tb: Option<&Array2<f64>>,
        grad: Option<&mut [f64]>,
    ) -> MsgAdjoints {
        let x = Ins::new(self, val, tan);
        let np = self.pairs.len();
        let zeros = |a: &Array2<f64>| Array2::<f64>::zeros(a.raw_dim());
        let dual = tb.is_some();
        let mut phib = zeros(&val[self.spec.phi]);
        let mut phidb = dual.then(|| zeros(&val[self.spec.phi]));
        let mut wb = Array2::<f64>::zeros((np, x.m));
        let mut wdb = dual.then(|| Array2::<f64>::zeros((np, x.m)));
        let mut acc = Acc {
            phib: sl_mut(&mut phib),
            phidb: phidb.as_mut().map(sl_mut),
            wb: sl_mut(&mut wb),
            wdb: wdb.as_mut().map(sl_mut),
        };
        let (yb, tb) = (yb.map(sl), tb.map(sl));
        let (mut vb, mut vdb, mut db) = (None, None, None);
        match self.spec.d {
            None => self.reverse_scalar(&x, yb, tb, &mut acc),
            Some(did) => {
                vb = self.spec.v.map(|id| zeros(&val[id]));
                vdb = if dual { self.spec.v.map(|id| zeros(&val[id])) } else { None };
                let mut dbar = zeros(&val[did]);
                let vin = VecIns {
                    v: self.spec.v.map(|id| sl(&val[id])),
                    vd: self.spec.v.and_then(|id| tan[id].as_ref().map(sl)),
                    d: sl(&val[did]),
                    dd: tan[did].as_ref().map(sl),
                };
                let mut vacc =
                    VecAcc { vb: vb.as_mut().map(sl_mut), vdb: vdb.as_mut().map(sl_mut), db: sl_mut(&mut dbar) };
                self.reverse_vector(&x, yb, tb, &vin, &mut acc, &mut vacc);
                db = Some(dbar);
            }
        }
        // The filter w = B Wm (and wdot = Bdot Wm): Bbar = wbar Wm^T; dWm += B^T wbar + Bdot^T wdotbar.
        let bv = &val[self.spec.b];
        let k = bv.ncols();
        let wf = filter(params, &self.spec, k, self.c);
        let bb = wb.dot(&wf.t());
        if let Some(grad) = grad {
            let gw = &mut grad[self.spec.off..self.spec.off + k * self.c];
            let gwv = ArrayViewMut2::from_shape((k, self.c), gw).expect("filter block");
            let mut gwm = gwv.slice_move(s![.., self.spec.c0..self.spec.c0 + self.spec.m]);
            general_mat_mul(1.0, &bv.t(), &wb, 1.0, &mut gwm);
            if let (Some(bd), Some(wdb)) = (tan[self.spec.b].as_ref(), wdb.as_ref()) {
                general_mat_mul(1.0, &bd.t(), wdb, 1.0, &mut gwm);
            }
        }
        MsgAdjoints { phi: (Some(phib), phidb), v: (vb, vdb), b: Some(bb), d: db }
    }

    fn reverse_scalar(&self, x: &Ins<'_>, yb: Option<&[f64]>, tb: Option<&[f64]>, acc: &mut Acc<'_>) {
        let m = x.m;
        let zero = vec![0.0; m];
        for p in 0..self.pairs.len() {
            let (wp, wdp) = (row(Some(x.w), p, m, &zero), row(x.wd, p, m, &zero));
            for (dst, src, _) in self.edges(p) {
                let (ph, phd) = x.phi_row(src, &zero);
                let ybr = row(yb, dst, m, &zero);
                let at = src * x.cphi + x.c0;
                let pb = &mut acc.phib[at..at + m];
                let wbp = &mut acc.wb[p * m..(p + 1) * m];
                match tb {
                    None => {
                        for q in 0..m {
                            pb[q] += ybr[q] * wp[q];
                            wbp[q] += ybr[q] * ph[q];
                        }
                    }
                    Some(tb) => {
                        let tbr = &tb[dst * m..(dst + 1) * m];
                        for q in 0..m {
                            pb[q] += ybr[q] * wp[q] + tbr[q] * wdp[q];
                            wbp[q] += ybr[q] * ph[q] + tbr[q] * phd[q];
                        }
                        let pdb = &mut acc.phidb.as_deref_mut().expect("dual")[at..at + m];
                        let wdbp = &mut acc.wdb.as_deref_mut().expect("dual")[p * m..(p + 1) * m];
                        for q in 0..m {
                            pdb[q] += tbr[q] * wp[q];
                            wdbp[q] += tbr[q] * ph[q];
                        }
                    }
                }
            }
        }
    }

    fn reverse_vector(
        &self,
        x: &Ins<'_>,
        yb: Option<&[f64]>,
        tb: Option<&[f64]>,
        vin: &VecIns<'_>,
        acc: &mut Acc<'_>,
        vacc: &mut VecAcc<'_>,
    ) {
        let (m, nv) = (x.m, x.m / 2);
        let zero = vec![0.0; m.max(3)];
        let nb = 4 * nv;
        // Per edge: alpha, beta, their tangents, and the adjoints of the four.
        let mut buf = vec![0.0; 2 * nb];
        for p in 0..self.pairs.len() {
            let (wp, wdp) = (row(Some(x.w), p, m, &zero), row(x.wd, p, m, &zero));
            let (dp, ddp) = (row(Some(vin.d), p, 3, &zero), row(vin.dd, p, 3, &zero));
            for (dst, src, sg) in self.edges(p) {
                let (ph, phd) = x.phi_row(src, &zero);
                let (ab, rest) = buf.split_at_mut(nb);
                let (al, rest2) = ab.split_at_mut(nv);
                let (be, rest3) = rest2.split_at_mut(nv);
                let (ald, bed) = rest3.split_at_mut(nv);
                for q in 0..nv {
                    al[q] = ph[q] * wp[q];
                    be[q] = ph[nv + q] * wp[nv + q];
                    ald[q] = phd[q] * wp[q] + ph[q] * wdp[q];
                    bed[q] = phd[nv + q] * wp[nv + q] + ph[nv + q] * wdp[nv + q];
                }
                rest.fill(0.0);
                let (alb, rest4) = rest.split_at_mut(nv);
                let (beb, rest5) = rest4.split_at_mut(nv);
                let (aldb, bedb) = rest5.split_at_mut(nv);
                for cc in 0..3 {
                    let (u, ud) = (sg * dp[cc], sg * ddp[cc]);
                    let (r, sr) = (3 * dst + cc, 3 * src + cc);
                    let ybr = row(yb, r, nv, &zero);
                    let tbr = row(tb, r, nv, &zero);
                    let mut ub = 0.0;
                    for q in 0..nv {
                        // y += u beta: adjoints of u (D) and beta.
                        ub += ybr[q] * be[q] + tbr[q] * bed[q];
                        beb[q] += ybr[q] * u + tbr[q] * ud;
                        bedb[q] += tbr[q] * u;
                    }
                    vacc.db[3 * p + cc] += sg * ub;
                    if let Some(v) = vin.v {
                        // y += v_src alpha: adjoints of v_src and alpha.
                        let (vs, vds) = (&v[sr * nv..(sr + 1) * nv], row(vin.vd, sr, nv, &zero));
                        for q in 0..nv {
                            alb[q] += ybr[q] * vs[q] + tbr[q] * vds[q];
                            aldb[q] += tbr[q] * vs[q];
                        }
                        let vb = &mut vacc.vb.as_deref_mut().expect("v adjoint")[sr * nv..(sr + 1) * nv];
                        for q in 0..nv {
                            vb[q] += ybr[q] * al[q] + tbr[q] * ald[q];
                        }
                        if let Some(vdb) = vacc.vdb.as_deref_mut() {
                            let vdb = &mut vdb[sr * nv..(sr + 1) * nv];
                            for q in 0..nv {
                                vdb[q] += tbr[q] * al[q];
                            }
                        }
                    }
                }
                // alpha = phi_src[q] w_p[q], beta = phi_src[V + q] w_p[V + q].
                let at = src * x.cphi + x.c0;
                for (o, gb, gdb) in [(0, &*alb, &*aldb), (nv, &*beb, &*bedb)] {
                    let pb = &mut acc.phib[at + o..at + o + nv];
                    let wbp = &mut acc.wb[p * m + o..p * m + o + nv];
                    for q in 0..nv {
                        pb[q] += gb[q] * wp[o + q] + gdb[q] * wdp[o + q];
                        wbp[q] += gb[q] * ph[o + q] + gdb[q] * phd[o + q];
                    }
                    if let (Some(pdb), Some(wdb)) = (acc.phidb.as_deref_mut(), acc.wdb.as_deref_mut()) {
                        for q in 0..nv {
                            pdb[at + o + q] += gdb[q] * wp[o + q];
                            wdb[p * m + o + q] += gdb[q] * ph[o + q];
                        }
                    }
                }
            }
        }
    }
}

/// Accumulators of the adjoints of phi and of the filter values.
struct Acc<'a> {
    phib: &'a mut [f64],
    phidb: Option<&'a mut [f64]>,
    wb: &'a mut [f64],
    wdb: Option<&'a mut [f64]>,
}

/// The vector message's extra inputs: v_src (3N x V), D (P x 3), and their tangents.
struct VecIns<'a> {
    v: Option<&'a [f64]>,
    vd: Option<&'a [f64]>,
    d: &'a [f64],
    dd: Option<&'a [f64]>,
}

/// Accumulators of the adjoints of v (both streams) and D (value stream).
struct VecAcc<'a> {
    vb: Option<&'a mut [f64]>,
    vdb: Option<&'a mut [f64]>,
    db: &'a mut [f64],
}
