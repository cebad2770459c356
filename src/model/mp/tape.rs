//! A small differentiation tape over matrices, with forward tangents and reverse mode over both the
//! value and the tangent stream ("reverse over forward", docs/design.md sec. 6).
//!
//! Every node holds a value Y (rows x cols) and, in dual mode, a tangent Ydot = dY/de along one
//! input direction e (a displacement of the positions, or of t). [`Tape::backward`] propagates the
//! adjoints (Ybar, Ydotbar) of a scalar J = sum Ybar_0 . Y_out + sum Ydotbar_0 . Ydot_out back to the
//! parameters and to the leaves. With Ydotbar_0 = 0 that is the ordinary gradient of the output;
//! with Ybar_0 = 0 and Ydotbar_0 = w it is the parameter gradient of the directional derivative
//! w . dY_out/de, a second derivative, which is what denoising score matching on an energy needs.
//!
//! Operations and their adjoints (A, B inputs; W, b parameters; s = SiLU):
//!
//! ```text
//! linear   Y = X W + 1 b^T    Ydot = Xdot W        Xbar = Ybar W^T,  Xdotbar = Ydotbar W^T,
//!                                                  Wbar = X^T Ybar + Xdot^T Ydotbar,  bbar = 1^T Ybar
//! silu     Y = s(X)           Ydot = s'(X) Xdot    Xbar = s' Ybar + s'' Xdot Ydotbar,  Xdotbar = s' Ydotbar
//! mul      Y = A o B          Ydot = Adot B + A Bdot
//!                             Abar = Ybar B + Ydotbar Bdot,  Adotbar = Ydotbar B  (and A <-> B)
//! add, gather (rows by index), scatter-add (rows into index), column slice, column concatenation:
//!          linear maps; the same map on the tangent, its transpose on both adjoints.
//! ```
//!
//! Parameters live outside the tape in one flat vector; a linear layer refers to its block by offset
//! (W: n_in x n_out row-major, then b: n_out). Shapes are (rows, cols) = (items, features).

use super::super::gemm::{mm, mm_into};
use super::super::mlp::silu3;
use super::message::{self, MsgOp, MsgSpec, PairIndex};
use ndarray::{s, Array2, ArrayView2, Axis};
use std::rc::Rc;

/// Index of a node on the tape.
pub type Id = usize;

enum Op {
    Leaf,
    Linear { x: Id, off: usize, n_in: usize, n_out: usize, bias: bool },
    Silu { x: Id, d1: Array2<f64>, d2: Array2<f64> },
    Mul { a: Id, b: Id },
    Add { a: Id, b: Id },
    Gather { x: Id, idx: Rc<Vec<usize>> },
    Scatter { x: Id, idx: Rc<Vec<usize>> },
    Cols { x: Id, start: usize },
    Concat { a: Id, b: Id },
    Msg(Box<MsgOp>),
}

/// The recorded computation.
pub struct Tape<'p> {
    params: &'p [f64],
    dual: bool,
    val: Vec<Array2<f64>>,
    tan: Vec<Option<Array2<f64>>>,
    ops: Vec<Op>,
}

/// Adjoints of the leaves after [`Tape::backward`] (value stream only; the tangent adjoints of
/// leaves are not needed by the model).
pub struct Adjoints {
    bar: Vec<Option<Array2<f64>>>,
}

impl Adjoints {
    /// Ybar of node `id` (None if nothing flowed into it).
    pub fn get(&self, id: Id) -> Option<&Array2<f64>> {
        self.bar[id].as_ref()
    }
}

fn add_into(slot: &mut Option<Array2<f64>>, v: Array2<f64>) {
    match slot {
        Some(a) => *a += &v,
        None => *slot = Some(v),
    }
}

impl<'p> Tape<'p> {
    /// An empty tape over `params`; `dual` records tangents.
    pub fn new(params: &'p [f64], dual: bool) -> Self {
        Self { params, dual, val: vec![], tan: vec![], ops: vec![] }
    }

    fn push(&mut self, v: Array2<f64>, t: Option<Array2<f64>>, op: Op) -> Id {
        // Values and tangents are kept in standard (row-major) layout for the fused ops.
        self.val.push(standard(v));
        self.tan.push(if self.dual { t.map(standard) } else { None });
        self.ops.push(op);
        self.val.len() - 1
    }

    /// Value of node `id`.
    pub fn value(&self, id: Id) -> &Array2<f64> {
        &self.val[id]
    }

    /// Tangent of node `id` (None = zero).
    pub fn tangent(&self, id: Id) -> Option<&Array2<f64>> {
        self.tan[id].as_ref()
    }

    /// An input with value `v` and tangent `t` (None = zero).
    pub fn leaf(&mut self, v: Array2<f64>, t: Option<Array2<f64>>) -> Id {
        self.push(v, t, Op::Leaf)
    }

    fn weights(&self, off: usize, n_in: usize, n_out: usize) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((n_in, n_out), &self.params[off..off + n_in * n_out]).expect("weight block")
    }

    /// Y = X W (+ b): parameters at `off`, W (n_in x n_out) then b (n_out) if `bias`.
    pub fn linear(&mut self, x: Id, off: usize, n_out: usize, bias: bool) -> Id {
        let n_in = self.val[x].ncols();
        let w = self.weights(off, n_in, n_out);
        let mut y = mm(self.val[x].view(), w);
        if bias {
            let b = ndarray::ArrayView1::from(&self.params[off + n_in * n_out..off + n_in * n_out + n_out]);
            y += &b;
        }
        let t = self.tan[x].as_ref().map(|t| mm(t.view(), w));
        self.push(y, t, Op::Linear { x, off, n_in, n_out, bias })
    }

    /// Y = silu(X) elementwise.
    pub fn silu(&mut self, x: Id) -> Id {
        let xv = &self.val[x];
        let (mut y, mut d1, mut d2) = (xv.clone(), xv.clone(), xv.clone());
        ndarray::Zip::from(&mut y).and(&mut d1).and(&mut d2).and(xv).for_each(|y, d1, d2, &a| {
            let (f, g, h) = silu3(a);
            *y = f;
            *d1 = g;
            *d2 = h;
        });
        let t = self.tan[x].as_ref().map(|t| t * &d1);
        self.push(y, t, Op::Silu { x, d1, d2 })
    }

    /// Y = A o B elementwise (equal shapes).
    pub fn mul(&mut self, a: Id, b: Id) -> Id {
        let y = &self.val[a] * &self.val[b];
        let t = match (&self.tan[a], &self.tan[b]) {
            (None, None) => None,
            (Some(ta), None) => Some(ta * &self.val[b]),
            (None, Some(tb)) => Some(&self.val[a] * tb),
            (Some(ta), Some(tb)) => Some(ta * &self.val[b] + &self.val[a] * tb),
        };
        self.push(y, t, Op::Mul { a, b })
    }

    /// Y = A + B (equal shapes).
    pub fn add(&mut self, a: Id, b: Id) -> Id {
        let y = &self.val[a] + &self.val[b];
        let t = match (&self.tan[a], &self.tan[b]) {
            (None, None) => None,
            (Some(ta), None) => Some(ta.clone()),
            (None, Some(tb)) => Some(tb.clone()),
            (Some(ta), Some(tb)) => Some(ta + tb),
        };
        self.push(y, t, Op::Add { a, b })
    }

    /// `Y[r] = X[idx[r]]` (row gather).
    pub fn gather(&mut self, x: Id, idx: &Rc<Vec<usize>>) -> Id {
        let y = gather_rows(&self.val[x], idx);
        let t = self.tan[x].as_ref().map(|t| gather_rows(t, idx));
        self.push(y, t, Op::Gather { x, idx: idx.clone() })
    }

    /// `Y[k] = sum over r with idx[r] = k of X[r]`, for k < `n_out` (row scatter-add).
    pub fn scatter(&mut self, x: Id, idx: &Rc<Vec<usize>>, n_out: usize) -> Id {
        let y = scatter_rows(&self.val[x], idx, n_out);
        let t = self.tan[x].as_ref().map(|t| scatter_rows(t, idx, n_out));
        self.push(y, t, Op::Scatter { x, idx: idx.clone() })
    }

    /// Columns start..end of X.
    pub fn cols(&mut self, x: Id, start: usize, end: usize) -> Id {
        let y = self.val[x].slice(s![.., start..end]).to_owned();
        let t = self.tan[x].as_ref().map(|t| t.slice(s![.., start..end]).to_owned());
        self.push(y, t, Op::Cols { x, start })
    }

    /// [A, B] side by side (equal row counts).
    pub fn concat(&mut self, a: Id, b: Id) -> Id {
        let cat = |p: &Array2<f64>, q: &Array2<f64>| ndarray::concatenate![Axis(1), *p, *q];
        let y = cat(&self.val[a], &self.val[b]);
        let t = match (&self.tan[a], &self.tan[b]) {
            (None, None) => None,
            (ta, tb) => {
                let za = || Array2::zeros(self.val[a].raw_dim());
                let zb = || Array2::zeros(self.val[b].raw_dim());
                Some(cat(&ta.clone().unwrap_or_else(za), &tb.clone().unwrap_or_else(zb)))
            }
        };
        self.push(y, t, Op::Concat { a, b })
    }

    /// The fused message op of [`super::message`]: `spec` names the inputs, `c` is the column count
    /// of the filter block, `pairs` the neighbour pairs. Y is N x m (scalar) or 3N x V (vector).
    pub fn message(&mut self, spec: MsgSpec, c: usize, pairs: &Rc<PairIndex>) -> Id {
        let (op, y, yd) = message::forward(self.params, &self.val, &self.tan, spec, c, pairs);
        self.push(y, yd, Op::Msg(Box::new(op)))
    }

    /// Reverse pass from node `out` with seeds `ybar` (value adjoint) and `ydotbar` (tangent
    /// adjoint), either None = zero. Parameter gradients are added into `grad` (length of the
    /// parameter vector); the value adjoints of every node are returned (for the leaves).
    pub fn backward(
        &self,
        out: Id,
        ybar: Option<Array2<f64>>,
        ydotbar: Option<Array2<f64>>,
        grad: &mut [f64],
    ) -> Adjoints {
        self.reverse(out, ybar, ydotbar, Some(grad), true)
    }

    /// [`Tape::backward`] for the parameter gradient alone: the fused message ops skip the adjoint
    /// of the radial basis B (the GEMM wbar Wm^T), which training does not need. The separations'
    /// adjoint is still formed inside the kernels (it costs no product), and other leaves'
    /// adjoints are returned as usual.
    pub fn backward_params(
        &self,
        out: Id,
        ybar: Option<Array2<f64>>,
        ydotbar: Option<Array2<f64>>,
        grad: &mut [f64],
    ) -> Adjoints {
        self.reverse(out, ybar, ydotbar, Some(grad), false)
    }

    /// [`Tape::backward`] without the parameter gradients (for gradients with respect to the
    /// leaves alone; saves the X^T Ybar products of every linear layer).
    pub fn backward_inputs(&self, out: Id, ybar: Option<Array2<f64>>, ydotbar: Option<Array2<f64>>) -> Adjoints {
        self.reverse(out, ybar, ydotbar, None, true)
    }

    fn reverse(
        &self,
        out: Id,
        ybar: Option<Array2<f64>>,
        ydotbar: Option<Array2<f64>>,
        mut grad: Option<&mut [f64]>,
        leaves: bool,
    ) -> Adjoints {
        let n = self.val.len();
        let mut bar: Vec<Option<Array2<f64>>> = (0..n).map(|_| None).collect();
        let mut tbar: Vec<Option<Array2<f64>>> = (0..n).map(|_| None).collect();
        bar[out] = ybar;
        tbar[out] = ydotbar;
        for id in (0..=out).rev() {
            let (yb, tb) = match &self.ops[id] {
                Op::Leaf => continue,
                _ => (bar[id].take(), tbar[id].take()),
            };
            if yb.is_none() && tb.is_none() {
                continue;
            }
            match &self.ops[id] {
                Op::Leaf => unreachable!(),
                &Op::Linear { x, off, n_in, n_out, bias } => {
                    let w = self.weights(off, n_in, n_out);
                    if let Some(yb) = &yb {
                        add_into(&mut bar[x], mm(yb.view(), w.t()));
                    }
                    if let Some(tb) = &tb {
                        add_into(&mut tbar[x], mm(tb.view(), w.t()));
                    }
                    if let Some(grad) = grad.as_deref_mut() {
                        let gw = &mut grad[off..off + n_in * n_out];
                        let mut gwv = ndarray::ArrayViewMut2::from_shape((n_in, n_out), gw).expect("weight block");
                        if let Some(yb) = &yb {
                            mm_into(gwv.view_mut(), self.val[x].t(), yb.view(), true);
                        }
                        if let (Some(tb), Some(xt)) = (&tb, &self.tan[x]) {
                            mm_into(gwv.view_mut(), xt.t(), tb.view(), true);
                        }
                        if let (true, Some(yb)) = (bias, &yb) {
                            let gb = &mut grad[off + n_in * n_out..off + n_in * n_out + n_out];
                            for (g, v) in gb.iter_mut().zip(yb.sum_axis(Axis(0))) {
                                *g += v;
                            }
                        }
                    }
                }
                Op::Silu { x, d1, d2 } => {
                    let x = *x;
                    let mut xb = yb.map(|yb| yb * d1);
                    if let Some(tb) = &tb {
                        if let Some(xt) = &self.tan[x] {
                            let extra = tb * xt * d2;
                            match &mut xb {
                                Some(a) => *a += &extra,
                                None => xb = Some(extra),
                            }
                        }
                        add_into(&mut tbar[x], tb * d1);
                    }
                    if let Some(v) = xb {
                        add_into(&mut bar[x], v);
                    }
                }
                &Op::Mul { a, b } => {
                    for (p, q) in [(a, b), (b, a)] {
                        // p's adjoints from Y = P o Q.
                        let mut pb = yb.as_ref().map(|yb| yb * &self.val[q]);
                        if let (Some(tb), Some(qt)) = (&tb, &self.tan[q]) {
                            let extra = tb * qt;
                            match &mut pb {
                                Some(v) => *v += &extra,
                                None => pb = Some(extra),
                            }
                        }
                        if let Some(v) = pb {
                            add_into(&mut bar[p], v);
                        }
                        if let Some(tb) = &tb {
                            add_into(&mut tbar[p], tb * &self.val[q]);
                        }
                    }
                }
                &Op::Add { a, b } => {
                    for p in [a, b] {
                        if let Some(v) = &yb {
                            add_into(&mut bar[p], v.clone());
                        }
                        if let Some(v) = &tb {
                            add_into(&mut tbar[p], v.clone());
                        }
                    }
                }
                Op::Gather { x, idx } => {
                    let nr = self.val[*x].nrows();
                    if let Some(v) = &yb {
                        add_into(&mut bar[*x], scatter_rows(v, idx, nr));
                    }
                    if let Some(v) = &tb {
                        add_into(&mut tbar[*x], scatter_rows(v, idx, nr));
                    }
                }
                Op::Scatter { x, idx } => {
                    if let Some(v) = &yb {
                        add_into(&mut bar[*x], gather_rows(v, idx));
                    }
                    if let Some(v) = &tb {
                        add_into(&mut tbar[*x], gather_rows(v, idx));
                    }
                }
                &Op::Cols { x, start } => {
                    let place = |v: &Array2<f64>| {
                        let mut z = Array2::zeros(self.val[x].raw_dim());
                        z.slice_mut(s![.., start..start + v.ncols()]).assign(v);
                        z
                    };
                    if let Some(v) = &yb {
                        add_into(&mut bar[x], place(v));
                    }
                    if let Some(v) = &tb {
                        add_into(&mut tbar[x], place(v));
                    }
                }
                Op::Msg(op) => {
                    let (yb, tb) = (yb.map(standard), tb.map(standard));
                    let a = op.reverse(
                        self.params,
                        &self.val,
                        &self.tan,
                        yb.as_ref(),
                        tb.as_ref(),
                        grad.as_deref_mut(),
                        leaves,
                    );
                    let sp = &op.spec;
                    for (id, (vb, vtb)) in [(Some(sp.phi), a.phi), (sp.v, a.v)] {
                        if let Some(id) = id {
                            if let Some(v) = vb {
                                add_into(&mut bar[id], v);
                            }
                            if let Some(v) = vtb {
                                add_into(&mut tbar[id], v);
                            }
                        }
                    }
                    for (id, v) in [(Some(sp.b), a.b), (sp.d, a.d)] {
                        if let (Some(id), Some(v)) = (id, v) {
                            add_into(&mut bar[id], v);
                        }
                    }
                }
                &Op::Concat { a, b } => {
                    let na = self.val[a].ncols();
                    for (slot, v) in [(&mut bar, &yb), (&mut tbar, &tb)] {
                        if let Some(v) = v {
                            add_into(&mut slot[a], v.slice(s![.., ..na]).to_owned());
                            add_into(&mut slot[b], v.slice(s![.., na..]).to_owned());
                        }
                    }
                }
            }
        }
        Adjoints { bar }
    }
}

/// `a` in standard (row-major) layout: itself if it already is, else a copy.
fn standard(a: Array2<f64>) -> Array2<f64> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

/// `Y[r] = X[idx[r]]` (row gather).
pub fn gather_rows(x: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    let c = x.ncols();
    let mut y = Array2::zeros((idx.len(), c));
    for (mut row, &k) in y.rows_mut().into_iter().zip(idx) {
        row.assign(&x.row(k));
    }
    y
}

/// `Y[k] = sum_{r: idx[r] = k} X[r]`, k < `n_out` (row scatter-add).
pub fn scatter_rows(x: &Array2<f64>, idx: &[usize], n_out: usize) -> Array2<f64> {
    let mut y = Array2::zeros((n_out, x.ncols()));
    for (row, &k) in x.rows().into_iter().zip(idx) {
        let mut t = y.row_mut(k);
        t += &row;
    }
    y
}

#[cfg(test)]
#[path = "tape_tests.rs"]
mod tests;
