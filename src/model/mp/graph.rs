//! The neighbour graph of the message-passing network and its geometric inputs, with their
//! tangents (JVP) and adjoints (VJP) with respect to the positions.
//!
//! Pairs p = (i, j), i < j, with minimum-image distance r_p < r_c; each stands for the two
//! directed edges j -> i and i -> j of the messages ([`super::message`]); d_p = x_j - x_i (minimum
//! image, sigma), r_p = |d_p|, unit vector u_p = d_p / r_p. Inputs per pair: the radial basis B_ek = c exp(-(r - mu_k)^2 / (2 w^2)) f_c(r), K Gaussians
//! with centres mu_k evenly spaced on [r_min, r_c] and width w = their spacing, times the C^2
//! cutoff f_c(r) = (1 - r^2/r_c^2)^3 (so messages switch on smoothly; Behler, J. Chem. Phys. 134,
//! 074106 (2011)), and the normalisation c = 1 / (4 pi int_0^r_c r^2 f_c dr) = 1 / (0.6383 r_c^3),
//! one over the cutoff-weighted neighbour count at unit density, so that message sums stay O(1)
//! at every density (the "average number of neighbours" normalisation of NequIP and MACE); and
//! the scaled separation D_p = d_p / r_c (not u_p: noised configurations contain pairs at
//! r -> 0, where u_p and its derivative are singular), P x 3.
//!
//! Derivatives (xdot a displacement of the positions, N x 3):
//!   rdot_p = u_p . (xdot_j - xdot_i),  Bdot_pk = B'_k(r_p) rdot_p,  Ddot_p = (xdot_j - xdot_i) / r_c,
//!   and the transposes: dbar_p = (sum_k Bbar_pk B'_k) u_p + Dbar_p / r_c,
//!   xbar_j += dbar_p, xbar_i -= dbar_p.

#![allow(clippy::needless_range_loop)] // edge and component index loops mirror the formulas

use super::message::PairIndex;
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

/// The neighbour pairs within the cutoff, their geometry, and the index map the network's
/// per-particle vector sums use.
pub struct Graph {
    /// Number of particles N.
    pub n: usize,
    /// The pairs (i, j) within the cutoff.
    pub pairs: Rc<PairIndex>,
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
    /// cutoff rb.r_cut), with the basis `rb`.
    pub fn new(list: &PairList, rb: &RadialBasis) -> Self {
        let n = list.n_particles();
        let mut pairs = PairIndex { n, i: vec![], j: vec![] };
        let (mut d, mut r) = (vec![], vec![]);
        for p in list.within(rb.r_cut) {
            // The pair's separation is x_j - x_i (minimum image).
            pairs.i.push(p.i as usize);
            pairs.j.push(p.j as usize);
            d.push(p.d);
            r.push(p.r);
        }
        let np = r.len();
        let (mut b, mut db) = (Array2::zeros((np, rb.n)), Array2::zeros((np, rb.n)));
        for p in 0..np {
            rb.eval(r[p], b.row_mut(p).as_slice_mut().expect("row"), db.row_mut(p).as_slice_mut().expect("row"));
        }
        Self {
            n,
            pairs: Rc::new(pairs),
            node3: Rc::new((0..n).flat_map(|i| [i, i, i]).collect()),
            d,
            r,
            r_cut: rb.r_cut,
            b,
            db,
        }
    }

    /// Number of pairs P (each two directed edges).
    pub fn n_pairs(&self) -> usize {
        self.r.len()
    }

    /// Radial basis B (P x K).
    pub fn basis(&self) -> Array2<f64> {
        self.b.clone()
    }

    /// Scaled separations D_p = d_p / r_c (P x 3).
    pub fn separations(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.n_pairs(), 3), |(p, c)| self.d[p][c] / self.r_cut)
    }

    /// u_p = d_p / r_p (0 for r_p = 0, where only the kink of r itself is left).
    fn unit(&self, p: usize) -> [f64; 3] {
        let (r, d) = (self.r[p], self.d[p]);
        if r > 0.0 {
            [d[0] / r, d[1] / r, d[2] / r]
        } else {
            [0.0; 3]
        }
    }

    /// Tangents (Bdot P x K, Ddot P x 3) along a displacement `xdot` (N x 3).
    pub fn jvp(&self, xdot: &[[f64; 3]]) -> (Array2<f64>, Array2<f64>) {
        let np = self.n_pairs();
        let mut bd = Array2::zeros(self.b.raw_dim());
        let mut dd = Array2::zeros((np, 3));
        for p in 0..np {
            let (i, j) = (self.pairs.i[p], self.pairs.j[p]);
            let dx = [xdot[j][0] - xdot[i][0], xdot[j][1] - xdot[i][1], xdot[j][2] - xdot[i][2]];
            let u = self.unit(p);
            let rdot = u[0] * dx[0] + u[1] * dx[1] + u[2] * dx[2];
            for (o, g) in bd.row_mut(p).iter_mut().zip(self.db.row(p)) {
                *o = g * rdot;
            }
            for c in 0..3 {
                dd[[p, c]] = dx[c] / self.r_cut;
            }
        }
        (bd, dd)
    }

    /// Position gradient (N x 3) from the adjoints of B (P x K) and of D (P x 3); either may be
    /// absent (zero).
    pub fn vjp(&self, bbar: Option<&Array2<f64>>, dbar: Option<&Array2<f64>>) -> Vec<[f64; 3]> {
        let mut g = vec![[0.0; 3]; self.n];
        for p in 0..self.n_pairs() {
            let u = self.unit(p);
            let rbar: f64 = bbar.map_or(0.0, |bb| bb.row(p).iter().zip(self.db.row(p)).map(|(a, b)| a * b).sum());
            let mut xb = [rbar * u[0], rbar * u[1], rbar * u[2]];
            if let Some(db) = dbar {
                for c in 0..3 {
                    xb[c] += db[[p, c]] / self.r_cut;
                }
            }
            let (i, j) = (self.pairs.i[p], self.pairs.j[p]);
            for c in 0..3 {
                g[j][c] += xb[c];
                g[i][c] -= xb[c];
            }
        }
        g
    }
}
