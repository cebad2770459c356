//! Consistency of samples with the energy: the configurational temperature (Rugh, PRL 78, 772
//! (1997); Butler, Ayton, Jepps & Evans, J. Chem. Phys. 109, 6519 (1998)) in reduced form,
//!
//! ```text
//! T_conf(t) = < |grad_y u_t|^2 > / < laplacian_y u_t >,
//! ```
//!
//! which is exactly 1 for samples that follow exp(-u_t) (integration by parts) and deviates where
//! they do not: T_conf < 1 for samples more disordered than exp(-u_t) would have them (|grad u|^2
//! small against the curvature), T_conf > 1 for over-structured ones. Applied to MALA window
//! samples (exact for exp(-u_t): a check of the sampler and of the error bars) and to reverse-SDE
//! samples at the same t (a check of the learned score along the path; docs/design.md sec. 2). The
//! ratio does not depend on the units of y (fractional or sigma).
//!
//! The Laplacian uses Hutchinson's trace estimator with a Rademacher vector v (E[v v^T] = I):
//! laplacian u ~ v . H v, with the Hessian-vector product H v from a central difference of the
//! hand-written gradient, (grad u(y + h v) - grad u(y - h v)) / (2h) (error O(h^2)). Over many
//! samples this is unbiased for < laplacian u >; its extra variance is part of the error bar.

use crate::estimators::block_average;
use crate::model::{Conf, EnergyModel};
use crate::rng::Stream;
use rand::RngExt;

/// Central-difference step along v in units of the box side's sigma: h = FD_STEP / side in y.
pub const FD_STEP: f64 = 1e-5;

/// |grad_y u|^2 and v . H v at (c, t) for the direction `v` (length D): three gradient evaluations.
pub fn grad_sq_and_curvature<M: EnergyModel + ?Sized>(model: &M, c: &Conf, t: f64, v: &[f64]) -> (f64, f64) {
    let (_, g) = model.energy_grad(c, t);
    grad_sq_and_curvature_at(model, c, &g, t, v)
}

/// [`grad_sq_and_curvature`] with the gradient `g` at (c, t) already known (e.g. a MALA chain's):
/// two gradient evaluations.
pub fn grad_sq_and_curvature_at<M: EnergyModel + ?Sized>(
    model: &M,
    c: &Conf,
    g: &[f64],
    t: f64,
    v: &[f64],
) -> (f64, f64) {
    let h = FD_STEP / c.side;
    let shifted = |s: f64| Conf { y: c.y.iter().zip(v).map(|(y, d)| y + s * h * d).collect(), side: c.side };
    let (_, gp) = model.energy_grad(&shifted(1.0), t);
    let (_, gm) = model.energy_grad(&shifted(-1.0), t);
    let g2 = g.iter().map(|a| a * a).sum();
    let vhv = v.iter().zip(gp.iter().zip(&gm)).map(|(d, (a, b))| d * (a - b)).sum::<f64>() / (2.0 * h);
    (g2, vhv)
}

/// A Rademacher vector of length `dim` (entries +-1).
pub fn rademacher(dim: usize, rng: &mut Stream) -> Vec<f64> {
    (0..dim).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect()
}

/// Running sums of |grad u|^2 and the Hutchinson curvature, one pair per sample, in sample order.
#[derive(Clone, Debug, Default)]
pub struct ConfTemperatureSamples {
    /// |grad_y u|^2 per sample.
    pub grad_sq: Vec<f64>,
    /// v . H v per sample.
    pub curvature: Vec<f64>,
}

/// T_conf with its standard error and the number of samples; `z` tests the identity itself,
/// z = mean(|grad u|^2 - v.Hv) / se, which stays well defined where `<laplacian u>` ~ 0 (a nearly
/// flat energy, e.g. t -> 1) and the ratio and its delta-method error do not.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConfTemperature {
    pub value: f64,
    pub stderr: f64,
    pub z: f64,
    pub samples: usize,
}

impl ConfTemperatureSamples {
    /// Measures one sample at (c, t) with a fresh Rademacher direction from `rng`.
    pub fn push<M: EnergyModel + ?Sized>(&mut self, model: &M, c: &Conf, t: f64, rng: &mut Stream) {
        let (_, g) = model.energy_grad(c, t);
        self.push_at(model, c, &g, t, rng);
    }

    /// [`Self::push`] with the gradient `g` at (c, t) already known.
    pub fn push_at<M: EnergyModel + ?Sized>(&mut self, model: &M, c: &Conf, g: &[f64], t: f64, rng: &mut Stream) {
        let v = rademacher(c.y.len(), rng);
        let (g2, vhv) = grad_sq_and_curvature_at(model, c, g, t, &v);
        self.grad_sq.push(g2);
        self.curvature.push(vhv);
    }

    /// Appends another set (e.g. the next chain).
    pub fn extend(&mut self, other: &Self) {
        self.grad_sq.extend_from_slice(&other.grad_sq);
        self.curvature.extend_from_slice(&other.curvature);
    }

    /// T_conf = mean(a) / mean(b) with the delta-method error se(a - T b) / mean(b), where se is
    /// the block-averaged standard error of the series (correlated chain samples; for independent
    /// samples it is the plain standard error). NaN with fewer than 2 samples.
    pub fn estimate(&self) -> ConfTemperature {
        let n = self.grad_sq.len();
        if n < 2 {
            return ConfTemperature { value: f64::NAN, stderr: f64::NAN, z: f64::NAN, samples: n };
        }
        let ma = self.grad_sq.iter().sum::<f64>() / n as f64;
        let mb = self.curvature.iter().sum::<f64>() / n as f64;
        let r = ma / mb;
        let d: Vec<f64> = self.grad_sq.iter().zip(&self.curvature).map(|(a, b)| a - r * b).collect();
        let se = block_average(&d).stderr;
        let diff = block_average(&self.grad_sq.iter().zip(&self.curvature).map(|(a, b)| a - b).collect::<Vec<_>>());
        ConfTemperature { value: r, stderr: se / mb.abs(), z: diff.mean / diff.stderr, samples: n }
    }
}

/// T_conf of a set of configurations at time `t`, one Rademacher direction each from `rng`.
pub fn conf_temperature<M: EnergyModel + ?Sized>(
    model: &M,
    confs: &[Conf],
    t: f64,
    rng: &mut Stream,
) -> ConfTemperature {
    let mut s = ConfTemperatureSamples::default();
    for c in confs {
        s.push(model, c, t, rng);
    }
    s.estimate()
}
