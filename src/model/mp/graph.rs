//! The neighbour graph of the message-passing network and its geometric inputs, with their
//! tangents (JVP) and adjoints (VJP) with respect to the positions.
//!
//! Edges are directed, e = (j -> i) for every pair with minimum-image distance r_ij < r_c, both
//! directions; d_e = x_j - x_i (minimum image, sigma), r_e = |d_e|, unit vector u_e = d_e / r_e.
//! Inputs per edge: the radial basis B_ek = c exp(-(r - mu_k)^2 / (2 w^2)) f_c(r), K Gaussians
//! with centres mu_k evenly spaced on [r_min, r_c] and width w = their spacing, times the C^2
//! cutoff f_c(r) = (1 - r^2/r_c^2)^3 (so messages switch on smoothly; Behler, J. Chem. Phys. 134,
//! 074106 (2011)), and the normalisation c = 1 / (4 pi int_0^r_c r^2 f_c dr) = 1 / (0.6383 r_c^3),
//! one over the cutoff-weighted neighbour count at unit density, so that message sums stay O(1)
//! at every density (the "average number of neighbours" normalisation of NequIP and MACE); and
//! the scaled displacement w_e = d_e / r_c (not u_e: noised configurations contain pairs at
//! r -> 0, where u_e and its derivative are singular), stored as rows 3e + c (c = x, y, z)
//! repeated over V columns so that it multiplies vector features elementwise.
//!
//! Derivatives (xdot a displacement of the positions, N x 3):
//!   rdot_e = u_e . (xdot_j - xdot_i),  Bdot_ek = B'_k(r_e) rdot_e,  wdot_e = (xdot_j - xdot_i) / r_c,
//!   and the transposes: dbar_e = (sum_k Bbar_ek B'_k) u_e + wbar_e / r_c,
//!   xbar_j += dbar_e, xbar_i -= dbar_e.

#![allow(clippy::needless_range_loop)] // edge and component index loops mirror the formulas

use crate::system::PairList;
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

/// 4 pi int_0^1 x^2 (1 - x^2)^3 dx = 4 pi (1/3 - 3/5 + 3/7 - 1/9).
const NEIGHBOUR_INTEGRAL: f64 = 4.0 * std::f64::consts::PI * (1.0 / 3.0 - 3.0 / 5.0 + 3.0 / 7.0 - 1.0 / 9.0);

impl RadialBasis {
    fn width(&self) -> f64 {
        if self.n > 1 {
            (self.r_cut - self.r_min) / (self.n - 1) as f64
        } else {
            self.r_cut - self.r_min
        }
    }

    /// The normalisation c = 1 / (4 pi int_0^r_c r^2 f_c(r) dr).
    pub fn norm(&self) -> f64 {
        1.0 / (NEIGHBOUR_INTEGRAL * self.r_cut.powi(3))
    }

    /// B_k(r) and dB_k/dr into `b`, `db` (length K).
    pub fn eval(&self, r: f64, b: &mut [f64], db: &mut [f64]) {
        let inv_rc2 = 1.0 / (self.r_cut * self.r_cut);
        let om = 1.0 - r * r * inv_rc2;
        let c = self.norm();
        let (fc, dfc) = if om <= 0.0 { (0.0, 0.0) } else { (c * om * om * om, -6.0 * c * r * om * om * inv_rc2) };
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
    r_cut: f64,
    b: Array2<f64>,
    db: Array2<f64>,
}

impl Graph {
    /// The graph of a configuration from its neighbour pairs `list` (built to at least the basis
    /// cutoff rb.r_cut), with the basis `rb`: two directed edges per pair within the cutoff.
    pub fn new(list: &PairList, rb: &RadialBasis) -> Self {
        let n = list.n_particles();
        let (mut src, mut dst, mut d, mut r) = (vec![], vec![], vec![], vec![]);
        for p in list.within(rb.r_cut) {
            // The pair's separation is x_j - x_i (minimum image).
            let (i, j, dij) = (p.i as usize, p.j as usize, p.d);
            src.extend([j, i]);
            dst.extend([i, j]);
            d.extend([dij, [-dij[0], -dij[1], -dij[2]]]);
            r.extend([p.r, p.r]);
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
            r_cut: rb.r_cut,
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

    /// Scaled displacements w_e = d_e / r_c as rows 3e + c, repeated over `v` columns (3E x v).
    pub fn displacements(&self, v: usize) -> Array2<f64> {
        let mut w = Array2::zeros((3 * self.n_edges(), v));
        for (e, d) in self.d.iter().enumerate() {
            for c in 0..3 {
                w.row_mut(3 * e + c).fill(d[c] / self.r_cut);
            }
        }
        w
    }

    /// u_e = d_e / r_e (0 for r_e = 0, where only the kink of r itself is left).
    fn unit(&self, e: usize) -> [f64; 3] {
        let (r, d) = (self.r[e], self.d[e]);
        if r > 0.0 {
            [d[0] / r, d[1] / r, d[2] / r]
        } else {
            [0.0; 3]
        }
    }

    /// Tangents (Bdot, wdot repeated over `v` columns) along a displacement `xdot` (N x 3).
    pub fn jvp(&self, xdot: &[[f64; 3]], v: usize) -> (Array2<f64>, Array2<f64>) {
        let e_n = self.n_edges();
        let mut bd = Array2::zeros(self.b.raw_dim());
        let mut wd = Array2::zeros((3 * e_n, v));
        for e in 0..e_n {
            let (i, j) = (self.dst[e], self.src[e]);
            let dd = [xdot[j][0] - xdot[i][0], xdot[j][1] - xdot[i][1], xdot[j][2] - xdot[i][2]];
            let u = self.unit(e);
            let rdot = u[0] * dd[0] + u[1] * dd[1] + u[2] * dd[2];
            for (o, g) in bd.row_mut(e).iter_mut().zip(self.db.row(e)) {
                *o = g * rdot;
            }
            for c in 0..3 {
                wd.row_mut(3 * e + c).fill(dd[c] / self.r_cut);
            }
        }
        (bd, wd)
    }

    /// Position gradient (N x 3) from the adjoints of B (E x K) and of the repeated scaled
    /// displacements (3E x v); either may be absent (zero).
    pub fn vjp(&self, bbar: Option<&Array2<f64>>, wbar: Option<&Array2<f64>>) -> Vec<[f64; 3]> {
        let mut g = vec![[0.0; 3]; self.n];
        for e in 0..self.n_edges() {
            let u = self.unit(e);
            let rbar: f64 = bbar.map_or(0.0, |bb| bb.row(e).iter().zip(self.db.row(e)).map(|(a, b)| a * b).sum());
            let mut dbar = [rbar * u[0], rbar * u[1], rbar * u[2]];
            if let Some(wb) = wbar {
                for c in 0..3 {
                    dbar[c] += wb.row(3 * e + c).sum() / self.r_cut;
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
