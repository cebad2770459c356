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
    ///
    /// The Gaussians g_k = exp(-(a - k)^2 / 2), a = (r - r_min) / w, come from two exponentials
    /// per r: g at the nearest centre k* = round(a), and the ratio g_k / g_(k-1) = exp(a - k + 1/2),
    /// which falls by e^-1 per channel; so g_k is built outwards from k* (where it is largest,
    /// hence no spurious underflow) with products only. Relative error: a few ulp per channel.
    pub fn eval(&self, r: f64, b: &mut [f64], db: &mut [f64]) {
        let inv_rc2 = 1.0 / (self.r_cut * self.r_cut);
        let om = 1.0 - r * r * inv_rc2;
        let c = self.norm();
        let (fc, dfc) = if om <= 0.0 { (0.0, 0.0) } else { (c * om * om * om, -6.0 * c * r * om * om * inv_rc2) };
        let w = self.width();
        let a = (r - self.r_min) / w;
        let n = self.n;
        let ks = (a.round().max(0.0) as usize).min(n - 1);
        let e_inv = (-1.0f64).exp();
        let gs = (-0.5 * (a - ks as f64).powi(2)).exp();
        // Upwards: g_k = g_(k-1) q_k, q_k = exp(a - k + 1/2), q_(k+1) = q_k / e.
        let mut g = gs;
        let mut q = (a - ks as f64 - 0.5).exp();
        b[ks] = gs;
        for k in ks + 1..n {
            g *= q;
            q *= e_inv;
            b[k] = g;
        }
        // Downwards: g_(k-1) = g_k / q_k = g_k exp(-(a - k + 1/2)), and 1/q_(k-1) = (1/q_k) / e.
        let mut g = gs;
        let mut qi = (-(a - ks as f64 + 0.5)).exp();
        for k in (0..ks).rev() {
            g *= qi;
            qi *= e_inv;
            b[k] = g;
        }
        for k in 0..n {
            let g = b[k];
            b[k] = g * fc;
            db[k] = -(a - k as f64) / w * g * fc + g * dfc;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The recurrence for the Gaussians agrees with exp(-(r - mu_k)^2 / (2 w^2)) evaluated
    /// directly, channel by channel, over the whole range of r and for wide and narrow bases.
    #[test]
    fn basis_recurrence_matches_direct_gaussians() {
        for rb in [
            RadialBasis { n: 16, r_min: 0.5, r_cut: 2.0 },
            RadialBasis { n: 64, r_min: 0.1, r_cut: 5.0 },
            RadialBasis { n: 2, r_min: 0.8, r_cut: 2.8 },
        ] {
            let (mut b, mut db) = (vec![0.0; rb.n], vec![0.0; rb.n]);
            let mut worst: f64 = 0.0;
            for s in 0..=1000 {
                let r = rb.r_cut * s as f64 / 1000.0;
                rb.eval(r, &mut b, &mut db);
                let om = 1.0 - (r / rb.r_cut).powi(2);
                let fc = if om <= 0.0 { 0.0 } else { rb.norm() * om.powi(3) };
                let w = rb.width();
                for k in 0..rb.n {
                    let mu = rb.r_min + k as f64 * w;
                    let direct = (-0.5 * ((r - mu) / w).powi(2)).exp() * fc;
                    let scale = direct.abs().max(1e-300);
                    if direct > 1e-250 {
                        worst = worst.max((b[k] - direct).abs() / scale);
                    } else {
                        assert!(b[k].abs() < 1e-240, "r = {r}, k = {k}: {} vs {direct}", b[k]);
                    }
                }
            }
            assert!(worst < 1e-12, "{rb:?}: relative error {worst:e}");
        }
    }
}
