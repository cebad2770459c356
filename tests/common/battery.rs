//! The finite-difference and invariance battery that every energy model's tests run
//! (nti::model::EnergyModel): central differences of the hand-written derivatives (grad_y u,
//! du/dt with its per-particle split, the parameter gradient of the score-matching loss), the
//! invariances of a periodic particle system (permutation, translation, the box's symmetries) and
//! the gradient theorem along a path. Each check panics with what failed and by how much.
//!
//! Step sizes balance round-off (~ eps |f| / h) against truncation (~ h^2 f'''); a model whose
//! derivatives are computed less accurately (e.g. through a tape) may pass larger steps.
#![allow(clippy::needless_range_loop)] // index loops read best in finite-difference checks

use nti::model::{Conf, EnergyModel, PriorCutoff};
use nti::train::loss::{dsm_loss, dsm_loss_grad};

/// Step sizes and tolerance of the finite-difference checks.
#[derive(Clone, Copy, Debug)]
pub struct Steps {
    /// Step in noise coordinates y for grad_y u.
    pub y: f64,
    /// Step in t for du/dt.
    pub t: f64,
    /// Step in each parameter for the loss gradient.
    pub param: f64,
    /// Largest relative error accepted (relative to max(|fd|, 1e-3 max |derivative|)).
    pub tol: f64,
}

impl Default for Steps {
    fn default() -> Self {
        Self { y: 1e-7, t: 1e-6, param: 1e-6, tol: 1e-6 }
    }
}

/// |a - b| / max(|b|, scale).
pub fn rel(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / b.abs().max(scale)
}

/// grad_y u against central differences of u, u from `energy_grad` against `energy`, du/dt
/// against central differences in t, and the per-particle split of du/dt summing to its total.
pub fn gradient_and_time_derivative<M: EnergyModel + ?Sized>(m: &M, c: &Conf, ts: &[f64], s: Steps, what: &str) {
    for &t in ts {
        let (u, g) = m.energy_grad(c, t);
        assert!((u - m.energy(c, t)).abs() < 1e-10 * u.abs().max(1.0), "{what} t={t}: energy_grad value {u}");
        let scale = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let mut worst: f64 = 0.0;
        for k in 0..c.y.len() {
            let (mut p, mut q) = (c.clone(), c.clone());
            p.y[k] += s.y;
            q.y[k] -= s.y;
            let fd = (m.energy(&p, t) - m.energy(&q, t)) / (2.0 * s.y);
            worst = worst.max(rel(g[k], fd, 1e-3 * scale));
        }
        assert!(worst < s.tol, "{what} t={t}: grad worst rel. error {worst:e}");
        let d = m.dt_terms(c, t);
        let fd = (m.energy(c, t + s.t) - m.energy(c, t - s.t)) / (2.0 * s.t);
        assert!(rel(d.total(), fd, 1e-6) < s.tol, "{what} t={t}: du/dt {} vs {fd}", d.total());
        if !d.per_particle.is_empty() {
            let pp: f64 = d.per_particle.iter().map(|v| v[0] + v[1]).sum();
            assert!((pp - d.total()).abs() < 1e-10 * d.total().abs().max(1.0), "{what} t={t}: per-particle split");
        }
    }
}

/// Worst relative error of the parameter gradient `grad` of `f` against central differences over
/// every parameter (relative to max(|fd|, 1e-3 max |grad|)).
pub fn worst_param_fd_error<M: EnergyModel + Clone>(m: &M, grad: &[f64], h: f64, f: impl Fn(&M) -> f64) -> f64 {
    let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    let mut worst: f64 = 0.0;
    for k in 0..m.params().len() {
        let (mut a, mut b) = (m.clone(), m.clone());
        a.params_mut()[k] += h;
        b.params_mut()[k] -= h;
        worst = worst.max(rel(grad[k], (f(&a) - f(&b)) / (2.0 * h), 1e-3 * scale));
    }
    worst
}

/// The parameter gradient of the score-matching loss (`dsm_loss_grad`) against central
/// differences of `dsm_loss`, and the loss it returns against `dsm_loss`.
pub fn loss_parameter_gradient<M: EnergyModel + Clone>(m: &M, c: &Conf, z: &[f64], ts: &[f64], s: Steps, what: &str) {
    for &t in ts {
        let mut grad = vec![0.0; m.params().len()];
        let l = dsm_loss_grad(m, c, t, z, 1.0, &mut grad);
        assert!((l - dsm_loss(m, c, t, z)).abs() < 1e-10 * l, "{what} t={t}: loss value {l}");
        assert!(grad.iter().any(|g| *g != 0.0), "{what} t={t}: the loss gradient is identically zero");
        let worst = worst_param_fd_error(m, &grad, s.param, |q| dsm_loss(q, c, t, z));
        assert!(worst < s.tol, "{what} t={t}: loss gradient worst rel. error {worst:e}");
    }
}

/// `c` with every particle's fractional coordinates mapped by `f` and wrapped into [0, 1).
pub fn transformed(c: &Conf, f: impl Fn([f64; 3]) -> [f64; 3]) -> Conf {
    let y = c.y.chunks(3).flat_map(|p| {
        let q = f([p[0], p[1], p[2]]);
        q.into_iter().map(|v| v - v.floor())
    });
    Conf { y: y.collect(), side: c.side }
}

/// u unchanged (to 1e-11 relative) under a permutation of the particles, a translation, an axis
/// permutation, a reflection and a 90-degree rotation of the periodic cube.
pub fn invariances<M: EnergyModel + ?Sized>(m: &M, c: &Conf, ts: &[f64], what: &str) {
    for &t in ts {
        let u = m.energy(c, t);
        let tol = 1e-11 * u.abs().max(1.0);
        let mut perm = c.clone();
        let n = c.y.len() / 3;
        for i in 0..n {
            let j = (7 * i + 3) % n;
            perm.y[3 * j..3 * j + 3].copy_from_slice(&c.y[3 * i..3 * i + 3]);
        }
        assert!((m.energy(&perm, t) - u).abs() < tol, "{what} t={t}: permutation");
        let shifted = transformed(c, |p| [p[0] + 0.37, p[1] - 0.81, p[2] + 0.55]);
        assert!((m.energy(&shifted, t) - u).abs() < tol, "{what} t={t}: translation");
        let swapped = transformed(c, |p| [p[2], p[0], p[1]]);
        assert!((m.energy(&swapped, t) - u).abs() < tol, "{what} t={t}: axis permutation");
        let mirrored = transformed(c, |p| [1.0 - p[0], p[1], p[2]]);
        assert!((m.energy(&mirrored, t) - u).abs() < tol, "{what} t={t}: reflection");
        let rot = transformed(c, |p| [p[1], 1.0 - p[0], p[2]]);
        assert!((m.energy(&rot, t) - u).abs() < tol, "{what} t={t}: 90-degree rotation");
    }
}

/// u(b) - u(a) = int_0^1 grad u(a + s (b - a)) . (b - a) ds, with b = a + `dir`, by 40-point
/// composite Gauss-Legendre (10 panels of 4 points), to 1e-9 relative.
pub fn gradient_theorem<M: EnergyModel + ?Sized>(m: &M, a: &Conf, dir: &[f64], t: f64, what: &str) {
    let at = |s: f64| Conf { y: a.y.iter().zip(dir).map(|(y, d)| y + s * d).collect(), side: a.side };
    let (xg, wg) = (
        [-0.861136311594053, -0.339981043584856, 0.339981043584856, 0.861136311594053],
        [0.347854845137454, 0.652145154862546, 0.652145154862546, 0.347854845137454],
    );
    let panels = 10;
    let mut integral = 0.0;
    for p in 0..panels {
        let (lo, hi) = (p as f64 / panels as f64, (p + 1) as f64 / panels as f64);
        for (x, w) in xg.iter().zip(wg) {
            let s = 0.5 * (lo + hi) + 0.5 * (hi - lo) * x;
            let (_, g) = m.energy_grad(&at(s), t);
            integral += 0.5 * (hi - lo) * w * g.iter().zip(dir).map(|(a, b)| a * b).sum::<f64>();
        }
    }
    let du = m.energy(&at(1.0), t) - m.energy(&at(0.0), t);
    assert!((integral - du).abs() < 1e-9 * du.abs().max(1.0), "{what}: line integral {integral} vs difference {du}");
}

/// A configuration of `n` particles in a periodic box of side `side` (sigma): the `planted`
/// positions first (pairs placed at chosen distances, e.g. just inside a cutoff), then uniform
/// random ones from `seed`, each at least `min_dist` from all before it; in noise coordinates.
pub fn spread_config(n: usize, seed: u64, side: f64, planted: &[[f64; 3]], min_dist: f64) -> Conf {
    use rand::RngExt;
    let b = nti::system::SimBox::new(side);
    let mut r = nti::rng::stream(seed, nti::rng::Purpose::Init, 0);
    let mut x: Vec<[f64; 3]> = planted.to_vec();
    while x.len() < n {
        let p = [r.random::<f64>() * side, r.random::<f64>() * side, r.random::<f64>() * side];
        if x.iter().all(|q| b.dist2(&p, q) > min_dist * min_dist) {
            x.push(p);
        }
    }
    Conf { y: x.iter().flat_map(|p| p.iter().map(|v| v / side)).collect(), side }
}

/// Isolated-particle energy zero: particles without neighbours within the network's cutoff carry
/// no network energy at any t, so a dilute configuration (two particles 5.2 sigma apart in a box
/// of side `side` >= 6) has a network term and t-derivative of exactly zero.
pub fn isolated_particles_have_zero_network_energy<M: EnergyModel + ?Sized>(m: &M, side: f64) {
    let c = Conf { y: vec![0.1, 0.1, 0.1, 0.6, 0.6, 0.6], side };
    for t in [0.05, 0.5, 0.95] {
        let (e, d) = (m.energy_terms(&c, t), m.dt_terms(&c, t));
        assert_eq!((e.network, d.network), (0.0, 0.0), "t = {t}");
        assert!(e.prior != 0.0);
    }
}

/// Exact endpoints for random parameters: u(x, 0) = beta U_LJ(x) (by the engine's pair sum, with
/// the tail correction where the mode has one) and u(x, 1) = 0, in every interaction mode, for the
/// models that `make` builds at temperature `temperature`.
pub fn endpoints_are_exact<M: EnergyModel>(make: impl Fn(PriorCutoff) -> M, c: &Conf, temperature: f64) {
    use nti::energy::PairEnergy;
    use nti::potential::{CutoffMode, LennardJones};
    for mode in [
        CutoffMode::MinImage,
        CutoffMode::Spherical { rc: 2.5, shift: false, tail: true },
        CutoffMode::Spherical { rc: 2.5, shift: true, tail: false },
    ] {
        let m = make(PriorCutoff::from_mode(mode));
        let x: Vec<[f64; 3]> = c.y.chunks(3).map(|p| [p[0] * c.side, p[1] * c.side, p[2] * c.side]).collect();
        let pe = PairEnergy::new(LennardJones, nti::system::SimBox::new(c.side), mode, x.len());
        let beta_u = (pe.total(&x).energy + x.len() as f64 * pe.tail.energy_per_particle) / temperature;
        let u0 = m.energy(c, 0.0);
        assert!((u0 - beta_u).abs() < 1e-12 * beta_u.abs(), "{mode:?}: u(0) = {u0} vs beta U_LJ = {beta_u}");
        assert_eq!(m.energy(c, 1.0), 0.0);
    }
}
