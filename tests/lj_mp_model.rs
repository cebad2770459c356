//! The LJ diffusion model with the message-passing network as E_NN (nti::model::mp): central finite
//! differences of every derivative the tape computes (grad_y u, du/dt, the parameter gradients of the
//! score-matching loss, of u and of du/dt, the time-score loss), exact endpoints, invariances, the
//! gradient theorem, and the isolated-particle zero, on random configurations with a pair 1e-3
//! inside the message cutoff and one inside the LJ cutoff.

#![allow(clippy::needless_range_loop)] // index loops read best in finite-difference checks

use nti::model::descriptors::DescriptorSpec;
use nti::model::lj_model::{LjModel, LjModelSpec, PriorCutoff};
use nti::model::mp::MpSpec;
use nti::model::pair_term::PairTermSpec;
use nti::model::{Conf, EnergyModel, TimeEmbedding};
use nti::rng::{stream, Purpose};
use nti::schedule::VeSchedule;
use rand::RngExt;

mod common;
use common::battery::{self, rel};

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
    battery::spread_config(
        n,
        seed,
        L,
        &[[1.0, 1.0, 1.0], [1.0 + 2.8 - 1e-3, 1.0, 1.0], [4.3, 4.5, 1.0], [4.3, 4.5, 3.5 - 1e-3]],
        0.85,
    )
}

fn cutoffs() -> [PriorCutoff; 2] {
    [PriorCutoff { rc: None, shift: false, tail: false }, PriorCutoff { rc: Some(2.5), shift: false, tail: true }]
}

#[test]
fn gradient_and_time_derivative_match_central_differences() {
    for cut in cutoffs() {
        battery::gradient_and_time_derivative(
            &model(cut),
            &config(24, 1),
            &[0.01, 0.5, 0.99],
            battery::Steps { y: 1e-6, param: 1e-5, ..Default::default() },
            &format!("{cut:?}"),
        );
    }
}

#[test]
fn loss_parameter_gradient_matches_central_differences() {
    for cut in cutoffs() {
        let c = config(16, 2);
        let mut r = stream(3, Purpose::TrainNoise, 0);
        let z: Vec<f64> = (0..c.y.len()).map(|_| r.random::<f64>() - 0.5).collect();
        battery::loss_parameter_gradient(
            &model(cut),
            &c,
            &z,
            &[0.02, 0.5, 0.98],
            battery::Steps { y: 1e-6, param: 1e-5, ..Default::default() },
            &format!("{cut:?}"),
        );
    }
}

/// Particles without neighbours within the message cutoff carry no network energy at any t.
#[test]
fn isolated_particles_have_zero_network_energy() {
    battery::isolated_particles_have_zero_network_energy(&model(cutoffs()[0]), L);
}

#[test]
fn endpoints_are_exact_for_random_parameters() {
    battery::endpoints_are_exact(model, &config(30, 4), 1.25);
}

#[test]
fn energy_is_invariant_under_permutation_translation_and_box_symmetries() {
    for cut in cutoffs() {
        battery::invariances(&model(cut), &config(20, 5), &[0.1, 0.6], &format!("{cut:?}"));
    }
}

#[test]
fn gradient_theorem_holds_along_a_path() {
    // Min-image prior (smooth in x).
    let a = config(12, 6);
    let mut r = stream(7, Purpose::Init, 1);
    let dir: Vec<f64> = (0..a.y.len()).map(|_| 0.004 * (r.random::<f64>() - 0.5)).collect();
    battery::gradient_theorem(&model(cutoffs()[0]), &a, &dir, 0.4, "min-image");
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
