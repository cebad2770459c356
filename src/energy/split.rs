//! An alchemical pair sum split by particle, over a configuration's shared neighbour pairs
//! ([`PairList`]): what a model term built on a physical potential needs (the soft-core prior of
//! the Neural TI energy, docs/design.md sec. 6).
//!
//! ```text
//! s U(x; lambda) = sum_i s U_i,   U_i = (1/2) sum_{j != i} u(r_ij; lambda) + u_tail,
//! s dU_i/dlambda,                 s grad_x U
//! ```
//!
//! with a scale s (beta for kT units). Each pair gives half its energy to either particle, so the
//! per-particle parts add up to the total (attribution by particle relies on it). With a tail
//! correction, every particle gets u_tail = (rho / 2) int_rc^inf 4 pi r^2 u dr and its lambda
//! derivative, both by the same quadrature ([`numeric_tail_integral`], linear in u), so that the
//! derivative is the derivative of the energy to round-off.
//!
//! Units: energies in epsilon times `scale`; gradients per sigma.

use super::PairEnergy;
use crate::potential::{numeric_tail_integral, Alchemical, CutoffMode, PairPotential};
use crate::system::PairList;

/// Per-particle energies, their lambda derivatives and the gradient of a pair sum (N entries each).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParticleSplit {
    /// s U_i (N).
    pub e_i: Vec<f64>,
    /// s dU_i/dlambda (N).
    pub de_i: Vec<f64>,
    /// s grad_{x_i} U (N x 3, per sigma).
    pub grad: Vec<[f64; 3]>,
}

impl<P: Alchemical> PairEnergy<P> {
    /// `scale` x the pair sum split by particle, over `pairs` (the configuration's neighbour pairs,
    /// built to at least the interaction range; the pair list's particles are this system's).
    ///
    /// # Panics
    /// If the list has another particle count or a shorter range than the interactions.
    pub fn split_by_particle(&self, pairs: &PairList, scale: f64) -> ParticleSplit {
        self.split_with_tail(pairs, scale, self.tail_by_particle())
    }

    /// [`PairEnergy::split_by_particle`] with the per-particle tail and its lambda derivative
    /// given (as [`PairEnergy::tail_by_particle`] returns them for this system), for callers
    /// that keep them between evaluations.
    ///
    /// # Panics
    /// As [`PairEnergy::split_by_particle`].
    pub fn split_with_tail(&self, pairs: &PairList, scale: f64, tail: Option<(f64, f64)>) -> ParticleSplit {
        let n = self.n;
        assert_eq!(pairs.n_particles(), n, "pair list built for another particle count");
        let half = 0.5 * scale;
        let (mut e, mut de, mut g) = (vec![0.0; n], vec![0.0; n], vec![[0.0; 3]; n]);
        for p in pairs.within(self.range()) {
            let (i, j) = (p.i as usize, p.j as usize);
            let (u, f) = self.potential.energy_force(p.r2);
            let du = self.potential.denergy_dlambda(p.r2);
            e[i] += half * u;
            e[j] += half * u;
            de[i] += half * du;
            de[j] += half * du;
            // d = x_j - x_i and the force on i from j is f (x_i - x_j).
            for (k, dk) in p.d.iter().enumerate() {
                g[i][k] += scale * f * dk;
                g[j][k] -= scale * f * dk;
            }
        }
        if let Some((tu, td)) = tail {
            for i in 0..n {
                e[i] += scale * tu;
                de[i] += scale * td;
            }
        }
        ParticleSplit { e_i: e, de_i: de, grad: g }
    }

    /// The tail correction per particle and its lambda derivative (epsilon, unscaled), by one
    /// quadrature: (u_tail, du_tail/dlambda) with u_tail = (rho / 2) int_rc^inf 4 pi r^2 u dr;
    /// `None` without a tail correction.
    pub fn tail_by_particle(&self) -> Option<(f64, f64)> {
        let CutoffMode::Spherical { rc, tail: true, .. } = self.mode else {
            return None;
        };
        let rho = self.density();
        let inner = &self.potential.inner;
        let tu = 0.5 * rho * numeric_tail_integral(|r2| inner.energy(r2), rc);
        let td = 0.5 * rho * numeric_tail_integral(|r2| inner.denergy_dlambda(r2), rc);
        Some((tu, td))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::SoftCore;
    use crate::rng::{stream, Purpose};
    use crate::system::{Positions, SimBox};
    use rand::RngExt;

    fn config(n: usize, l: f64) -> Positions {
        let b = SimBox::new(l);
        let mut r = stream(5, Purpose::Init, 0);
        let mut x: Positions = vec![];
        while x.len() < n {
            let p = [0.0; 3].map(|_: f64| r.random::<f64>() * l);
            if x.iter().all(|q| b.dist2(&p, q) > 0.7 * 0.7) {
                x.push(p);
            }
        }
        x
    }

    fn modes() -> [CutoffMode; 3] {
        [
            CutoffMode::MinImage,
            CutoffMode::Spherical { rc: 2.5, shift: false, tail: true },
            CutoffMode::Spherical { rc: 2.5, shift: true, tail: false },
        ]
    }

    /// The parts add up to the engine's total (plus N u_tail), and the gradient and the lambda
    /// derivative match central differences of the total.
    #[test]
    fn parts_add_up_and_derivatives_match_central_differences() {
        let (n, l, scale, h) = (40, 6.0, 0.8, 1e-6);
        let b = SimBox::new(l);
        let x = config(n, l);
        for mode in modes() {
            let total = |x: &Positions, a: f64| -> f64 {
                let pe = PairEnergy::new(SoftCore { a }, b, mode, n);
                let s = pe.split_by_particle(&PairList::new(x, &b, mode.range()), scale);
                s.e_i.iter().sum()
            };
            let a = 0.35;
            let pe = PairEnergy::new(SoftCore { a }, b, mode, n);
            let s = pe.split_by_particle(&PairList::new(&x, &b, mode.range()), scale);
            let want = scale * (pe.total(&x).energy + n as f64 * pe.tail.energy_per_particle);
            let sum: f64 = s.e_i.iter().sum();
            assert!((sum - want).abs() < 1e-9 * want.abs().max(1.0), "{mode:?}: {sum} vs {want}");
            let fd = (total(&x, a + h) - total(&x, a - h)) / (2.0 * h);
            let de: f64 = s.de_i.iter().sum();
            assert!((de - fd).abs() < 1e-6 * fd.abs().max(1.0), "{mode:?} dU/da {de} vs {fd}");
            for (i, k) in [(0, 0), (7, 1), (n - 1, 2)] {
                let (mut p, mut m) = (x.clone(), x.clone());
                p[i][k] += h;
                m[i][k] -= h;
                let fd = (total(&p, a) - total(&m, a)) / (2.0 * h);
                assert!((s.grad[i][k] - fd).abs() < 1e-6 * fd.abs().max(1.0), "{mode:?} grad {i} {k}");
            }
        }
    }
}
