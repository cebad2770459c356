//! The LJ diffusion model with the message-passing network as E_NN (nti::model::mp): central finite
//! differences of every derivative the tape computes (grad_y u, du/dt, the parameter gradients of the
//! score-matching loss, of u and of du/dt, the time-score loss), exact endpoints, invariances, the
//! gradient theorem, and the isolated-particle zero, on random configurations with a pair 1e-3
//! inside the message cutoff and one inside the LJ cutoff.

#![allow(clippy::needless_range_loop)] // index loops read best in finite-difference checks

use nti::diffusion::VeSchedule;
use nti::energy::PairEnergy;
use nti::model::descriptors::DescriptorSpec;
use nti::model::lj_model::{LjModel, LjModelSpec, PriorCutoff};
use nti::model::mp::MpSpec;
use nti::model::pair_term::PairTermSpec;
use nti::model::{dsm_loss, Conf, EnergyModel, TimeEmbedding};
use nti::potential::{CutoffMode, LennardJones};
use nti::rng::{stream, Purpose};
use nti::system::SimBox;
use rand::RngExt;

const L: f64 = 6.0;

fn model(cutoff: PriorCutoff) -> LjModel {
    let spec = LjModelSpec {
        descriptors: DescriptorSpec { n_radial: 4, r_min: 0.8, r_cut: 2.8 },
        time: TimeEmbedding { n_freq: 2 },
        hidden: vec![4],
        schedule: VeSchedule::default(),
        temperature: 1.25,
        cutoff,
        pair: PairTermSpec { walls: vec![1.0, 1.3], width: 0.15, n_time: 4 },
        isolated_zero: true,
        message_passing: Some(MpSpec { layers: 2, scalars: 6, vectors: 3, n_radial: 5, r_min: 0.8, r_cut: 2.8 }),
    };
    let mut m = LjModel::new(spec, &mut stream(9, Purpose::ModelInit, 0));
    // Larger weights than at initialisation so the network term is not negligible.
    let mut r = stream(9, Purpose::ModelInit, 1);
    for p in m.params.iter_mut() {
        *p = 1.5 * *p + 0.05 * (r.random::<f64>() - 0.5);
    }
    m
}

/// N random particles with minimum distance 0.85, plus one pair placed 1e-3 inside r_cut of the
/// descriptors and one pair 1e-3 inside the LJ cutoff 2.5. (No pair sits at a half-box separation
/// in any coordinate, where the minimum-image convention has a kink.)
fn config(n: usize, seed: u64) -> Conf {
    let b = SimBox::new(L);
    let mut r = stream(seed, Purpose::Init, 0);
    let mut x: Vec<[f64; 3]> =
        vec![[1.0, 1.0, 1.0], [1.0 + 2.8 - 1e-3, 1.0, 1.0], [4.3, 4.5, 1.0], [4.3, 4.5, 3.5 - 1e-3]];
    while x.len() < n {
        let p = [r.random::<f64>() * L, r.random::<f64>() * L, r.random::<f64>() * L];
        if x.iter().all(|q| b.dist2(&p, q) > 0.85 * 0.85) {
            x.push(p);
        }
    }
    Conf { y: x.iter().flat_map(|p| p.iter().map(|v| v / L)).collect(), side: L }
}

fn cutoffs() -> [PriorCutoff; 2] {
    [PriorCutoff { rc: None, shift: false, tail: false }, PriorCutoff { rc: Some(2.5), shift: false, tail: true }]
}

fn rel(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / b.abs().max(scale)
}

/// Worst relative error of the parameter gradient `grad` of `f` against central differences
/// (step 1e-5), over every parameter; errors are relative to max(|fd|, 1e-3 max |grad|).
fn worst_param_fd_error(m: &LjModel, grad: &[f64], f: impl Fn(&LjModel) -> f64) -> f64 {
    // Round-off (~ eps |f| / h) against truncation (~ h^2 f'''): for the loss at t = 0.02 the
    // measured worst errors were 3.0e-5, 3.7e-6, 3.0e-7, 9.9e-7 at h = 1e-7, 1e-6, 1e-5, 1e-4.
    let h = 1e-5;
    let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    let mut worst: f64 = 0.0;
    for k in 0..m.params.len() {
        let (mut a, mut b) = (m.clone(), m.clone());
        a.params[k] += h;
        b.params[k] -= h;
        worst = worst.max(rel(grad[k], (f(&a) - f(&b)) / (2.0 * h), 1e-3 * scale));
    }
    worst
}

#[test]
fn gradient_and_time_derivative_match_central_differences() {
    for cut in cutoffs() {
        let m = model(cut);
        let c = config(24, 1);
        for t in [0.01, 0.5, 0.99] {
            let (u, g) = m.energy_grad(&c, t);
            assert!((u - m.energy(&c, t)).abs() < 1e-10 * u.abs().max(1.0));
            let scale = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            // h balances round-off (~ eps |u| / h) against truncation (~ h^2 u'''): measured worst
            // errors 1.9e-6, 2.3e-7, 8.8e-7 at h = 1e-7, 1e-6, 1e-5.
            let h = 1e-6;
            let mut worst: f64 = 0.0;
            for k in 0..c.y.len() {
                let (mut p, mut q) = (c.clone(), c.clone());
                p.y[k] += h;
                q.y[k] -= h;
                let fd = (m.energy(&p, t) - m.energy(&q, t)) / (2.0 * h);
                worst = worst.max(rel(g[k], fd, 1e-3 * scale));
            }
            assert!(worst < 1e-6, "{cut:?} t={t}: grad worst rel. error {worst:e}");
            let d = m.dt_terms(&c, t);
            let ht = 1e-6;
            let fd = (m.energy(&c, t + ht) - m.energy(&c, t - ht)) / (2.0 * ht);
            assert!(rel(d.total(), fd, 1e-6) < 1e-6, "{cut:?} t={t}: du/dt {} vs {fd}", d.total());
            let pp: f64 = d.per_particle.iter().map(|v| v[0] + v[1]).sum();
            assert!((pp - d.total()).abs() < 1e-10 * d.total().abs().max(1.0), "per-particle split");
        }
    }
}

#[test]
fn loss_parameter_gradient_matches_central_differences() {
    for cut in cutoffs() {
        let m = model(cut);
        let c = config(16, 2);
        let mut r = stream(3, Purpose::TrainNoise, 0);
        let z: Vec<f64> = (0..c.y.len()).map(|_| r.random::<f64>() - 0.5).collect();
        for t in [0.02, 0.5, 0.98] {
            let mut grad = vec![0.0; m.params.len()];
            let l = m.dsm_loss_grad(&c, t, &z, 1.0, &mut grad);
            assert!((l - dsm_loss(&m, &c, t, &z)).abs() < 1e-10 * l);
            let worst = worst_param_fd_error(&m, &grad, |q| dsm_loss(q, &c, t, &z));
            assert!(worst < 1e-6, "{cut:?} t={t}: loss gradient worst rel. error {worst:e}");
        }
    }
}

/// Particles without neighbours within the message cutoff carry no network energy at any t
/// (isolated-particle energy zero), so a dilute configuration's network term and its t-derivative
/// vanish exactly.
#[test]
fn isolated_particles_have_zero_network_energy() {
    let m = model(cutoffs()[0]);
    let c = Conf { y: vec![0.1, 0.1, 0.1, 0.6, 0.6, 0.6], side: L }; // distance 5.2 > r_cut = 2.8
    for t in [0.05, 0.5, 0.95] {
        let (e, d) = (m.energy_terms(&c, t), m.dt_terms(&c, t));
        assert_eq!((e.network, d.network), (0.0, 0.0), "t = {t}");
        assert!(e.prior != 0.0);
    }
}

#[test]
fn endpoints_are_exact_for_random_parameters() {
    for (cut, mode) in [
        (cutoffs()[0], CutoffMode::MinImage),
        (cutoffs()[1], CutoffMode::Spherical { rc: 2.5, shift: false, tail: true }),
        (
            PriorCutoff { rc: Some(2.5), shift: true, tail: false },
            CutoffMode::Spherical { rc: 2.5, shift: true, tail: false },
        ),
    ] {
        let m = model(cut);
        let c = config(30, 4);
        let x: Vec<[f64; 3]> = c.y.chunks(3).map(|p| [p[0] * L, p[1] * L, p[2] * L]).collect();
        let pe = PairEnergy::new(LennardJones, SimBox::new(L), mode, x.len());
        let ev = pe.total(&x);
        let beta_u = (ev.energy + x.len() as f64 * pe.tail.energy_per_particle) / 1.25;
        let u0 = m.energy(&c, 0.0);
        assert!((u0 - beta_u).abs() < 1e-12 * beta_u.abs(), "{cut:?}: u(0) = {u0} vs beta U_LJ = {beta_u}");
        assert_eq!(m.energy(&c, 1.0), 0.0);
    }
}

fn transformed(c: &Conf, f: impl Fn([f64; 3]) -> [f64; 3]) -> Conf {
    let y = c.y.chunks(3).flat_map(|p| {
        let q = f([p[0], p[1], p[2]]);
        q.into_iter().map(|v| v - v.floor())
    });
    Conf { y: y.collect(), side: c.side }
}

#[test]
fn energy_is_invariant_under_permutation_translation_and_box_symmetries() {
    for cut in cutoffs() {
        let m = model(cut);
        let c = config(20, 5);
        for t in [0.1, 0.6] {
            let u = m.energy(&c, t);
            let tol = 1e-11 * u.abs().max(1.0);
            let mut perm = c.clone();
            let n = c.y.len() / 3;
            for i in 0..n {
                let j = (7 * i + 3) % n;
                perm.y[3 * j..3 * j + 3].copy_from_slice(&c.y[3 * i..3 * i + 3]);
            }
            assert!((m.energy(&perm, t) - u).abs() < tol, "permutation");
            let shifted = transformed(&c, |p| [p[0] + 0.37, p[1] - 0.81, p[2] + 0.55]);
            assert!((m.energy(&shifted, t) - u).abs() < tol, "translation");
            let swapped = transformed(&c, |p| [p[2], p[0], p[1]]);
            assert!((m.energy(&swapped, t) - u).abs() < tol, "axis permutation");
            let mirrored = transformed(&c, |p| [1.0 - p[0], p[1], p[2]]);
            assert!((m.energy(&mirrored, t) - u).abs() < tol, "reflection");
            let rot = transformed(&c, |p| [p[1], 1.0 - p[0], p[2]]);
            assert!((m.energy(&rot, t) - u).abs() < tol, "90-degree rotation");
        }
    }
}

#[test]
fn gradient_theorem_holds_along_a_path() {
    // u(b) - u(a) = int_0^1 grad u(a + s (b - a)) . (b - a) ds by 40-point composite Gauss-Legendre
    // (10 panels of 4 points); min-image prior (smooth in x).
    let m = model(cutoffs()[0]);
    let a = config(12, 6);
    let mut r = stream(7, Purpose::Init, 1);
    let dir: Vec<f64> = (0..a.y.len()).map(|_| 0.004 * (r.random::<f64>() - 0.5)).collect();
    let t = 0.4;
    let at = |s: f64| Conf { y: a.y.iter().zip(&dir).map(|(y, d)| y + s * d).collect(), side: L };
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
            integral += 0.5 * (hi - lo) * w * g.iter().zip(&dir).map(|(a, b)| a * b).sum::<f64>();
        }
    }
    let du = m.energy(&at(1.0), t) - m.energy(&at(0.0), t);
    assert!((integral - du).abs() < 1e-9 * du.abs().max(1.0), "line integral {integral} vs difference {du}");
}

/// The Hessian-vector product of the configurational-temperature diagnostic
/// (nti::diffusion::consistency, a central difference of the hand-written gradient at step 1e-5
/// sigma) summed over the unit vectors is the Laplacian: against the divergence of the gradient by
/// Richardson-extrapolated central differences at steps 2e-4 and 1e-4 sigma. (The gradient itself
/// is checked against the energy above; second differences of the energy are round-off limited
/// here, ~eps |u| / h^2 ~ 1e-4 per coordinate, too noisy to resolve the 1e-5 tolerance.)
#[test]
fn curvature_along_unit_vectors_sums_to_the_laplacian_of_the_energy() {
    use nti::diffusion::consistency::grad_sq_and_curvature;
    let m = model(cutoffs()[1]);
    let c = config(12, 3);
    for t in [0.05, 0.5] {
        let d = c.y.len();
        let (mut lap, mut lap_fd) = (0.0, 0.0);
        let g0 = m.energy_grad(&c, t).1;
        let dgrad = |k: usize, h: f64| {
            let (mut p, mut q) = (c.clone(), c.clone());
            p.y[k] += h;
            q.y[k] -= h;
            (m.energy_grad(&p, t).1[k] - m.energy_grad(&q, t).1[k]) / (2.0 * h)
        };
        for k in 0..d {
            let mut e = vec![0.0; d];
            e[k] = 1.0;
            let (g2, vhv) = grad_sq_and_curvature(&m, &c, t, &e);
            assert!((g2 - g0.iter().map(|g| g * g).sum::<f64>()).abs() < 1e-12 * g2);
            lap += vhv;
            let h = 1e-4 / L;
            lap_fd += (4.0 * dgrad(k, h) - dgrad(k, 2.0 * h)) / 3.0;
        }
        assert!(rel(lap, lap_fd, 1.0) < 1e-5, "t = {t}: Laplacian {lap} vs differences {lap_fd}");
    }
}

/// Messages vanish smoothly at the cutoff: moving one particle of a pair across r_c changes the
/// energy and the gradient continuously (a filter with a bias, or a cutoff without f_c, fails).
#[test]
fn energy_and_gradient_are_continuous_across_the_message_cutoff() {
    let m = model(cutoffs()[0]);
    let base = config(16, 8);
    let at = |r: f64| {
        let mut c = base.clone();
        c.y[3] = (1.0 + r) / L; // particle 1 at distance r from particle 0 along x
        c
    };
    // Particle 1's y_x is entry 3. Across r_c the central difference of u must equal the gradient
    // there (a jump of size J would add J / (2 h / L), i.e. fail for any J > ~1e-12 here).
    let h = 1e-6;
    for t in [0.3, 0.7] {
        let (ua, ga) = m.energy_grad(&at(2.8 - h), t);
        let (ub, gb) = m.energy_grad(&at(2.8 + h), t);
        let (_, g0) = m.energy_grad(&at(2.8), t);
        let fd = (ub - ua) / (2.0 * h / L);
        assert!(rel(g0[3], fd, 1e-3) < 1e-6, "t = {t}: du/dy across r_c {fd} vs gradient {}", g0[3]);
        let gscale = ga.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let gdiff = ga.iter().zip(&gb).fold(0.0f64, |a, (p, q)| a.max((p - q).abs()));
        assert!(gdiff < 1e-4 * gscale, "t = {t}: gradient jumps by {gdiff} (scale {gscale})");
    }
}

/// Noised configurations contain overlapping pairs: the gradient stays bounded as r -> 0 (vector
/// messages use d / r_c, not the unit vector, whose derivative grows as 1 / r).
#[test]
fn gradient_stays_bounded_for_overlapping_pairs() {
    let m = model(cutoffs()[0]);
    let base = config(16, 9);
    let grad_norm = |r: f64| {
        let mut c = base.clone();
        c.y[3] = (1.0 + r) / L;
        c.y[4] = (1.0 + 0.5 * r) / L;
        let (_, g) = m.energy_grad(&c, 0.9);
        g.iter().map(|v| v * v).sum::<f64>().sqrt()
    };
    let (a, b) = (grad_norm(1e-2), grad_norm(1e-5));
    assert!(a.is_finite() && b.is_finite());
    assert!(b < 2.0 * a, "|grad u| at r = 1e-5: {b}, at r = 1e-2: {a}");
}
