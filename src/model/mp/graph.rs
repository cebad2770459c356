//! The neighbour graph of the message-passing network and its geometric inputs, with their
//! tangents (JVP) and adjoints (VJP) with respect to the positions.
//!
//! Edges are directed, e = (j -> i) for every pair with minimum-image distance r_ij < r_c, both
//! directions; d_e = x_j - x_i (minimum image, sigma), r_e = |d_e|, unit vector u_e = d_e / r_e.
//! Inputs per edge: the radial basis B_ek = exp(-(r - mu_k)^2 / (2 w^2)) f_c(r), K Gaussians with
//! centres mu_k evenly spaced on [r_min, r_c] and width w = their spacing, times the C^2 cutoff
//! f_c(r) = (1 - r^2/r_c^2)^3 (so messages switch on smoothly; Behler, J. Chem. Phys. 134,
//! 074106 (2011)); and u_e, stored as rows 3e + c (c = x, y, z) repeated over V columns so that
//! it multiplies vector features elementwise.
//!
//! Derivatives (xdot a displacement of the positions, N x 3):
//!   rdot_e = u_e . (xdot_j - xdot_i),  Bdot_ek = B'_k(r_e) rdot_e,  udot_e = (ddot - u (u . ddot)) / r,
//!   and the transposes: dbar_e = (sum_k Bbar_ek B'_k) u_e + (ubar_e - u_e (u_e . ubar_e)) / r_e,
//!   xbar_j += dbar_e, xbar_i -= dbar_e.

#![allow(clippy::needless_range_loop)] // edge and component index loops mirror the formulas

use crate::system::{Positions, SimBox};
use ndarray::Array2;
use std::rc::Rc;

/// Gaussian radial basis times the smooth cutoff.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RadialBasis {
    /// Number of channels K.
    pub n: usize,
    /// Centre of the first channel (sigma).
    pub r_min: f64,
    /// Cutoff r_c (sigma).
    pub r_cut: f64,
}

impl RadialBasis {
    fn width(&self) -> f64 {
        if self.n > 1 {
            (self.r_cut - self.r_min) / (self.n - 1) as f64
        } else {
            self.r_cut - self.r_min
        }
    }

    /// B_k(r) and dB_k/dr into `b`, `db` (length K).
    pub fn eval(&self, r: f64, b: &mut [f64], db: &mut [f64]) {
        let om = 1.0 - r * r / (self.r_cut * self.r_cut);
        let (fc, dfc) =
            if om <= 0.0 { (0.0, 0.0) } else { (om * om * om, -6.0 * r * om * om / (self.r_cut * self.r_cut)) };
        let w = self.width();
        for k in 0..self.n {
            let mu = self.r_min + k as f64 * w;
            let a = (r - mu) / w;
            let g = (-0.5 * a * a).exp();
            b[k] = g * fc;
            db[k] = -a / w * g * fc + g * dfc;
        }
    }
}

/// Directed edges within the cutoff and the index maps the network gathers and scatters with.
pub struct Graph {
    /// Number of particles N.
    pub n: usize,
    /// Sender j of every edge (E).
    pub src: Rc<Vec<usize>>,
    /// Receiver i of every edge (E).
    pub dst: Rc<Vec<usize>>,
    /// Vector rows: 3 src + c for row 3e + c (3E).
    pub src3: Rc<Vec<usize>>,
    /// Vector rows: 3 dst + c for row 3e + c (3E).
    pub dst3: Rc<Vec<usize>>,
    /// Row 3e + c -> e (3E).
    pub edge3: Rc<Vec<usize>>,
    /// Row 3i + c -> i (3N).
    pub node3: Rc<Vec<usize>>,
    d: Vec<[f64; 3]>,
    r: Vec<f64>,
    b: Array2<f64>,
    db: Array2<f64>,
}

impl Graph {
    /// The graph of `x` (positions in sigma) in `simbox` with the basis `rb` (cutoff rb.r_cut).
    pub fn new(x: &Positions, simbox: &SimBox, rb: &RadialBasis) -> Self {
        let n = x.len();
        let rc2 = rb.r_cut * rb.r_cut;
        let (mut src, mut dst, mut d, mut r) = (vec![], vec![], vec![], vec![]);
        for i in 0..n {
            for j in i + 1..n {
                let dij = simbox.delta(&x[j], &x[i]);
                let r2 = dij[0] * dij[0] + dij[1] * dij[1] + dij[2] * dij[2];
                if r2 < rc2 {
                    // delta(a, b) = a - b (minimum image): dij = x_j - x_i.
                    let rr = r2.sqrt();
                    src.extend([j, i]);
                    dst.extend([i, j]);
                    d.extend([dij, [-dij[0], -dij[1], -dij[2]]]);
                    r.extend([rr, rr]);
                }
            }
        }
        let e_n = src.len();
        let (mut b, mut db) = (Array2::zeros((e_n, rb.n)), Array2::zeros((e_n, rb.n)));
        for e in 0..e_n {
            rb.eval(r[e], b.row_mut(e).as_slice_mut().expect("row"), db.row_mut(e).as_slice_mut().expect("row"));
        }
        let three = |v: &[usize]| -> Rc<Vec<usize>> {
            Rc::new(v.iter().flat_map(|&k| [3 * k, 3 * k + 1, 3 * k + 2]).collect())
        };
        Self {
            n,
            src3: three(&src),
            dst3: three(&dst),
            edge3: Rc::new((0..e_n).flat_map(|e| [e, e, e]).collect()),
            node3: Rc::new((0..n).flat_map(|i| [i, i, i]).collect()),
            src: Rc::new(src),
            dst: Rc::new(dst),
            d,
            r,
            b,
            db,
        }
    }

    /// Number of directed edges E.
    pub fn n_edges(&self) -> usize {
        self.r.len()
    }

    /// Radial basis B (E x K).
    pub fn basis(&self) -> Array2<f64> {
        self.b.clone()
    }

    /// Unit vectors u_e as rows 3e + c, repeated over `v` columns (3E x v).
    pub fn units(&self, v: usize) -> Array2<f64> {
        let mut u = Array2::zeros((3 * self.n_edges(), v));
        for (e, (d, r)) in self.d.iter().zip(&self.r).enumerate() {
            for c in 0..3 {
                u.row_mut(3 * e + c).fill(d[c] / r);
            }
        }
        u
    }

    /// Tangents (Bdot, udot repeated over `v` columns) along a displacement `xdot` (N x 3).
    pub fn jvp(&self, xdot: &[[f64; 3]], v: usize) -> (Array2<f64>, Array2<f64>) {
        let e_n = self.n_edges();
        let mut bd = Array2::zeros(self.b.raw_dim());
        let mut ud = Array2::zeros((3 * e_n, v));
        for e in 0..e_n {
            let (i, j) = (self.dst[e], self.src[e]);
            let dd = [xdot[j][0] - xdot[i][0], xdot[j][1] - xdot[i][1], xdot[j][2] - xdot[i][2]];
            let (r, d) = (self.r[e], self.d[e]);
            let u = [d[0] / r, d[1] / r, d[2] / r];
            let rdot = u[0] * dd[0] + u[1] * dd[1] + u[2] * dd[2];
            for (o, g) in bd.row_mut(e).iter_mut().zip(self.db.row(e)) {
                *o = g * rdot;
            }
            for c in 0..3 {
                ud.row_mut(3 * e + c).fill((dd[c] - u[c] * rdot) / r);
            }
        }
        (bd, ud)
    }

    /// Position gradient (N x 3) from the adjoints of B (E x K) and of the repeated unit vectors
    /// (3E x v); either may be absent (zero).
    pub fn vjp(&self, bbar: Option<&Array2<f64>>, ubar: Option<&Array2<f64>>) -> Vec<[f64; 3]> {
        let mut g = vec![[0.0; 3]; self.n];
        for e in 0..self.n_edges() {
            let (r, d) = (self.r[e], self.d[e]);
            let u = [d[0] / r, d[1] / r, d[2] / r];
            let rbar: f64 = bbar.map_or(0.0, |bb| bb.row(e).iter().zip(self.db.row(e)).map(|(a, b)| a * b).sum());
            let mut dbar = [rbar * u[0], rbar * u[1], rbar * u[2]];
            if let Some(ub) = ubar {
                let us = [ub.row(3 * e).sum(), ub.row(3 * e + 1).sum(), ub.row(3 * e + 2).sum()];
                let p = u[0] * us[0] + u[1] * us[1] + u[2] * us[2];
                for c in 0..3 {
                    dbar[c] += (us[c] - u[c] * p) / r;
                }
            }
            let (i, j) = (self.dst[e], self.src[e]);
            for c in 0..3 {
                g[j][c] += dbar[c];
                g[i][c] -= dbar[c];
            }
        }
        g
    }
}
