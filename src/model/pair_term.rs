//! A learned, time-dependent pair repulsion inside the network energy E_NN (docs/design.md sec. 6).
//!
//! ```text
//! E_pair(x, t) = sum_{i<j} sum_{l, q} W_lq b_l(r_ij) rho_q(t)
//! b_l(r) = u^3 / (1 + u^2 / 9),  u = (r_l - r) / kappa  for r < r_l,  0 otherwise
//!          (cubic onset, C^2 at r_l; linear growth ~9u for deep overlaps)
//! rho_q(t) = exp(-((t - t_q) / h)^2),  t_q = q h,  h = 1 / (Q - 1),  q = 0..Q-1
//! ```
//!
//! Why: between the two exact endpoints the marginal energy beta U_t of a liquid is close to the LJ
//! energy smoothed over the noise width w = sigma(t) L. For a pair that is a repulsive wall near
//! contact whose Boltzmann factor is a Gaussian-smoothed step, i.e. a wall that rises like
//! (r_0 - r)^2 / (4 w^2) and stiffens as t -> 0. Gaussian radial channels of width ~0.3 sigma
//! cannot express such walls, which left the generated dense liquid under-structured
//! (validation/paper_lj/README.md). Walls at a grid of contact distances r_l span them and grow only
//! linearly when noisy samples overlap (r^-12 or soft-core shapes, with huge values at small r, made
//! training diverge, and pure cubics still caused loss spikes), and the Gaussian bumps rho_q in t (uniform in t, hence in ln sigma)
//! let their weights follow the schedule. The term is linear in W, cheap, and its attribution (half
//! of each pair to each particle) is exact. Its pairs come from the model's shared neighbour list
//! ([`crate::system::PairList`]), which reaches at least the largest contact distance.
//!
//! Units: r, r_l, kappa in sigma; t dimensionless; W and E in the units of E_NN.
//! Parameter layout: W row-major, shape (M, Q), M = number of walls.

use crate::system::Pair;
use serde::{Deserialize, Serialize};

/// Shape of the pair term. The empty wall list (the serde default, also for checkpoints written
/// before the term existed) disables it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PairTermSpec {
    /// Contact distances r_l of the walls (sigma), each below the descriptors' r_cut.
    pub walls: Vec<f64>,
    /// Length scale kappa > 0 of the walls (sigma).
    pub width: f64,
    /// Number Q >= 2 of Gaussian time bumps.
    pub n_time: usize,
}

/// Per-particle values of the pair term: E_i, dE_i/dt (half of each pair to each particle) and
/// grad_x E, shape (N, 3), 1/sigma.
pub struct PairEval {
    pub e_i: Vec<f64>,
    pub de_i: Vec<f64>,
    pub grad: Vec<[f64; 3]>,
}

/// Q >= 2 Gaussian bumps in t, rho_q(t) = exp(-((t - q h) / h)^2), h = 1 / (Q - 1), and their
/// t-derivatives.
pub fn gaussian_time_bumps(n_time: usize, t: f64) -> (Vec<f64>, Vec<f64>) {
    let h = 1.0 / (n_time as f64 - 1.0);
    (0..n_time)
        .map(|q| {
            let u = (t - q as f64 * h) / h;
            let g = (-u * u).exp();
            (g, -2.0 * u / h * g)
        })
        .unzip()
}

/// c_m(t) = sum_q W_mq rho_q(t) and dc_m/dt for every row m of W (row-major, Q columns) over
/// [`gaussian_time_bumps`].
pub fn bump_coefficients(w: &[f64], n_time: usize, t: f64) -> (Vec<f64>, Vec<f64>) {
    let (rho, drho) = gaussian_time_bumps(n_time, t);
    w.chunks_exact(n_time)
        .map(|row| {
            (
                row.iter().zip(&rho).map(|(a, b)| a * b).sum::<f64>(),
                row.iter().zip(&drho).map(|(a, b)| a * b).sum::<f64>(),
            )
        })
        .unzip()
}

impl PairTermSpec {
    /// True if the term is present.
    pub fn enabled(&self) -> bool {
        !self.walls.is_empty()
    }

    /// Number of radial functions M (walls).
    pub fn n_radial(&self) -> usize {
        self.walls.len()
    }

    /// Number of parameters M Q (0 when disabled).
    pub fn n_params(&self) -> usize {
        if self.enabled() {
            self.n_radial() * self.n_time
        } else {
            0
        }
    }

    /// rho_q(t) and d rho_q / dt, each of length Q.
    pub fn time_basis(&self, t: f64) -> (Vec<f64>, Vec<f64>) {
        gaussian_time_bumps(self.n_time, t)
    }

    /// b_l(r) into `b` and db_l/dr into `db` (length M each).
    pub fn radial(&self, r: f64, b: &mut [f64], db: &mut [f64]) {
        for (l, &rl) in self.walls.iter().enumerate() {
            let u = (rl - r) / self.width;
            (b[l], db[l]) = if u > 0.0 {
                let (u2, den) = (u * u, 1.0 + u * u / 9.0);
                (u2 * u / den, -(3.0 * u2 + u2 * u2 / 9.0) / (den * den * self.width))
            } else {
                (0.0, 0.0)
            };
        }
    }

    /// c_m(t) = sum_q W_mq rho_q(t) and its t-derivative.
    pub fn coefficients(&self, w: &[f64], t: f64) -> (Vec<f64>, Vec<f64>) {
        bump_coefficients(w, self.n_time, t)
    }

    /// Largest contact distance (0 when disabled): pairs beyond it do not contribute.
    pub fn reach(&self) -> f64 {
        self.walls.iter().fold(0.0, |a: f64, &r| a.max(r))
    }

    /// Energy per particle, its t-derivative and the gradient of the `n` particles, from their
    /// neighbour pairs (every pair closer than [`Self::reach`]; others contribute zero). `w` has
    /// length M Q.
    pub fn evaluate<'p>(&self, n: usize, pairs: impl IntoIterator<Item = &'p Pair>, w: &[f64], t: f64) -> PairEval {
        let mut out = PairEval { e_i: vec![0.0; n], de_i: vec![0.0; n], grad: vec![[0.0; 3]; n] };
        if !self.enabled() {
            return out;
        }
        assert_eq!(w.len(), self.n_params(), "pair-term parameters");
        let (c, dc) = self.coefficients(w, t);
        let m_n = self.n_radial();
        let (mut b, mut db) = (vec![0.0; m_n], vec![0.0; m_n]);
        for p in pairs {
            let (i, j, dv) = (p.i as usize, p.j as usize, p.d);
            self.radial(p.r, &mut b, &mut db);
            let e: f64 = c.iter().zip(&b).map(|(x, y)| x * y).sum();
            let de: f64 = dc.iter().zip(&b).map(|(x, y)| x * y).sum();
            let g = c.iter().zip(&db).map(|(x, y)| x * y).sum::<f64>() * p.inv_r;
            out.e_i[i] += 0.5 * e;
            out.e_i[j] += 0.5 * e;
            out.de_i[i] += 0.5 * de;
            out.de_i[j] += 0.5 * de;
            for (a, d) in dv.iter().enumerate() {
                out.grad[j][a] += g * d;
                out.grad[i][a] -= g * d;
            }
        }
        out
    }

    /// Adds `scale` x d/dW of the directional derivative sum_k dx_k . grad_{x_k} E_pair to
    /// `grad` (length M Q): the reverse-over-forward parameter gradient of the score-matching
    /// loss (docs/design.md sec. 6). `dx` has shape (N, 3); `pairs` as in [`Self::evaluate`].
    pub fn tangent_param_grad<'p>(
        &self,
        pairs: impl IntoIterator<Item = &'p Pair>,
        t: f64,
        dx: &[[f64; 3]],
        scale: f64,
        grad: &mut [f64],
    ) {
        if !self.enabled() {
            return;
        }
        assert_eq!(grad.len(), self.n_params(), "pair-term gradient");
        let m_n = self.n_radial();
        let (mut b, mut db) = (vec![0.0; m_n], vec![0.0; m_n]);
        let mut acc = vec![0.0; m_n];
        for p in pairs {
            let (i, j, dv) = (p.i as usize, p.j as usize, p.d);
            self.radial(p.r, &mut b, &mut db);
            let proj = p.inv_r * (0..3).map(|a| dv[a] * (dx[j][a] - dx[i][a])).sum::<f64>();
            for (s, g) in acc.iter_mut().zip(&db) {
                *s += g * proj;
            }
        }
        let (rho, _) = self.time_basis(t);
        self.add_outer(&acc, &rho.iter().map(|r| scale * r).collect::<Vec<_>>(), grad);
    }

    /// grad[l Q + q] += s_l c_q: a parameter gradient that factorises into a radial sum s (M)
    /// and time weights c (Q), since E_pair is linear in W.
    fn add_outer(&self, s: &[f64], c: &[f64], grad: &mut [f64]) {
        for (l, sl) in s.iter().enumerate() {
            for (q, cq) in c.iter().enumerate() {
                grad[l * self.n_time + q] += sl * cq;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use crate::system::{PairList, SimBox};
    use rand::RngExt;

    fn setup() -> (PairTermSpec, f64, SimBox, Vec<[f64; 3]>, Vec<f64>) {
        let spec = PairTermSpec { walls: vec![0.9, 1.2, 2.4], width: 0.1, n_time: 4 };
        let ds = 2.5; // range of the pair list (beyond the largest wall)
        let b = SimBox::new(5.5);
        let mut r = stream(3, Purpose::Init, 0);
        let mut x: Vec<[f64; 3]> = vec![[1.0, 1.0, 1.0], [1.0 + 2.5 - 1e-3, 1.0, 1.0]];
        while x.len() < 12 {
            let p = [r.random::<f64>() * 5.5, r.random::<f64>() * 5.5, r.random::<f64>() * 5.5];
            if x.iter().all(|q| b.dist2(&p, q) > 0.8 * 0.8) {
                x.push(p);
            }
        }
        let w = (0..spec.n_params()).map(|_| r.random::<f64>() - 0.5).collect();
        (spec, ds, b, x, w)
    }

    fn total(spec: &PairTermSpec, ds: &f64, b: &SimBox, x: &[[f64; 3]], w: &[f64], t: f64) -> f64 {
        spec.evaluate(x.len(), PairList::new(&x.to_vec(), b, *ds).pairs(), w, t).e_i.iter().sum()
    }

    #[test]
    fn gradient_time_and_parameter_derivatives_match_central_differences() {
        let (spec, ds, b, x, w) = setup();
        let h = 1e-6;
        for t in [0.02, 0.5, 0.97] {
            let d = PairList::new(&x, &b, ds);
            let ev = spec.evaluate(x.len(), d.pairs(), &w, t);
            for k in 0..x.len() {
                for a in 0..3 {
                    let (mut p, mut m) = (x.clone(), x.clone());
                    p[k][a] += h;
                    m[k][a] -= h;
                    let fd = (total(&spec, &ds, &b, &p, &w, t) - total(&spec, &ds, &b, &m, &w, t)) / (2.0 * h);
                    assert!(
                        (ev.grad[k][a] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                        "grad {k} {a}: {} {fd}",
                        ev.grad[k][a]
                    );
                }
            }
            let fd = (total(&spec, &ds, &b, &x, &w, t + h) - total(&spec, &ds, &b, &x, &w, t - h)) / (2.0 * h);
            let de: f64 = ev.de_i.iter().sum();
            assert!((de - fd).abs() < 1e-6 * fd.abs().max(1.0), "dE/dt {de} {fd}");
            // d/dW of the directional derivative along dx, against differences of the gradient.
            let mut r = stream(4, Purpose::Init, 0);
            let dx: Vec<[f64; 3]> = (0..x.len()).map(|_| [0; 3].map(|_| r.random::<f64>() - 0.5)).collect();
            let dirder = |w: &[f64]| -> f64 {
                let g = spec.evaluate(x.len(), d.pairs(), w, t).grad;
                g.iter().zip(&dx).map(|(g, v)| g[0] * v[0] + g[1] * v[1] + g[2] * v[2]).sum()
            };
            let mut grad = vec![0.0; spec.n_params()];
            spec.tangent_param_grad(d.pairs(), t, &dx, 1.0, &mut grad);
            for k in 0..w.len() {
                let (mut p, mut m) = (w.clone(), w.clone());
                p[k] += h;
                m[k] -= h;
                let fd = (dirder(&p) - dirder(&m)) / (2.0 * h);
                assert!((grad[k] - fd).abs() < 1e-6 * fd.abs().max(1.0), "dW {k}: {} {fd}", grad[k]);
            }
        }
    }

    #[test]
    fn radial_derivative_matches_central_differences_and_walls_are_c2() {
        let spec = PairTermSpec { walls: vec![0.8, 1.1], width: 0.1, n_time: 3 };
        let (mut b, mut db, mut bp, mut bm, mut scratch) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
        let h = 1e-6;
        for r in [0.05, 0.6, 0.95, 1.05] {
            spec.radial(r, &mut b, &mut db);
            spec.radial(r + h, &mut bp, &mut scratch);
            spec.radial(r - h, &mut bm, &mut scratch);
            for m in 0..2 {
                let fd = (bp[m] - bm[m]) / (2.0 * h);
                assert!((db[m] - fd).abs() < 1e-7 * fd.abs().max(1.0), "r {r} m {m}: {} {fd}", db[m]);
            }
        }
        // Value, slope and curvature vanish at the contact distance: b ~ u^3 just inside.
        spec.radial(1.1 - 1e-4, &mut b, &mut db);
        assert!((b[1] - 1e-9).abs() < 1e-12 && (db[1] + 3e-5).abs() < 1e-8, "{} {}", b[1], db[1]);
        // Deep overlap: linear growth, slope -> 9 / kappa.
        spec.radial(-1000.0, &mut b, &mut db);
        assert!((db[1] + 90.0).abs() < 1e-2, "{}", db[1]);
        spec.radial(1.1, &mut b, &mut db);
        assert_eq!((b[1], db[1]), (0.0, 0.0));
    }

    #[test]
    fn disabled_term_is_zero_and_has_no_parameters() {
        let (_, ds, b, x, _) = setup();
        let spec = PairTermSpec::default();
        assert_eq!(spec.n_params(), 0);
        let ev = spec.evaluate(x.len(), PairList::new(&x, &b, ds).pairs(), &[], 0.3);
        assert!(ev.e_i.iter().chain(&ev.de_i).all(|v| *v == 0.0));
    }
}
