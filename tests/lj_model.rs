//! The LJ diffusion model: central finite differences of every hand-written derivative (grad_y u,
//! du/dt, the parameter gradient of the score-matching loss), exact endpoints, invariances and the
//! gradient theorem, on random configurations with pairs near and far from the cutoffs.

#![allow(clippy::needless_range_loop)] // index loops read best in finite-difference checks

use nti::model::descriptors::DescriptorSpec;
use nti::model::lj_model::{LjModel, LjModelSpec, PriorCutoff};
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
        hidden: vec![12, 10],
        schedule: VeSchedule::default(),
        temperature: 1.25,
        cutoff,
        pair: PairTermSpec { walls: vec![0.9, 1.0, 1.3], width: 0.15, n_time: 4 },
        isolated_zero: true,
        message_passing: None,
    };
    let mut m = LjModel::new(spec, &mut stream(9, Purpose::ModelInit, 0));
    // Larger weights than at initialisation so the network term is not negligible.
    let mut r = stream(9, Purpose::ModelInit, 1);
    for p in m.params.iter_mut() {
        *p = 3.0 * *p + 0.05 * (r.random::<f64>() - 0.5);
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
            battery::Steps::default(),
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
            battery::Steps::default(),
            &format!("{cut:?}"),
        );
    }
}

/// Particles without neighbours within the descriptor cutoff carry no network energy at any t.
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

/// Specs written by older versions, with the fields of removed experimental variants at their
/// "off" values (or absent), still match a model that does not use them; a spec that used a
/// removed variant is refused with an error naming it; other shapes and junk do not match.
#[test]
fn specs_with_removed_variants_off_have_the_same_shape_and_on_are_refused() {
    let m = model(cutoffs()[0]);
    let mut old: serde_json::Value = serde_json::from_str(&m.spec()).unwrap();
    let o = old.as_object_mut().unwrap();
    o.insert("linear_time_basis".into(), 0.into());
    o.insert("readout_time_basis".into(), 0.into());
    o.insert("feature_shift".into(), serde_json::json!([]));
    o.get_mut("descriptors").unwrap().as_object_mut().unwrap().insert("n_two_hop".into(), 0.into());
    let off = old.to_string();
    assert!(off.contains("n_two_hop") && off != m.spec());
    assert_eq!(LjModelSpec::from_json(&off).unwrap(), m.spec);
    assert!(m.same_shape(&off));
    assert!(m.same_shape(&m.spec()));
    for (key, on) in [("readout_time_basis", serde_json::json!(4)), ("feature_scale", serde_json::json!([0.5, 2.0]))] {
        let mut v: serde_json::Value = serde_json::from_str(&m.spec()).unwrap();
        v.as_object_mut().unwrap().insert(key.into(), on);
        let err = LjModelSpec::from_json(&v.to_string()).unwrap_err();
        assert!(err.contains(key) && err.contains("removed"), "{err}");
        assert!(!m.same_shape(&v.to_string()));
    }
    let mut v: serde_json::Value = serde_json::from_str(&m.spec()).unwrap();
    v["descriptors"].as_object_mut().unwrap().insert("n_two_hop".into(), 2.into());
    assert!(LjModelSpec::from_json(&v.to_string()).unwrap_err().contains("n_two_hop"));
    let mut other = m.spec.clone();
    other.hidden = vec![5];
    assert!(!m.same_shape(&serde_json::to_string(&other).unwrap()));
    assert!(!m.same_shape("not json"));
}

/// The Hessian-vector product of the configurational-temperature diagnostic
/// (nti::diffusion::consistency, a central difference of the hand-written gradient) summed over the
/// unit vectors is the Laplacian: against second differences of the energy itself.
#[test]
fn curvature_along_unit_vectors_sums_to_the_laplacian_of_the_energy() {
    use nti::diffusion::consistency::grad_sq_and_curvature;
    let m = model(cutoffs()[1]);
    let c = config(12, 3);
    for t in [0.05, 0.5] {
        let d = c.y.len();
        let (mut lap, mut lap_fd) = (0.0, 0.0);
        let h = 1e-4 / L;
        let u0 = m.energy(&c, t);
        for k in 0..d {
            let mut e = vec![0.0; d];
            e[k] = 1.0;
            let (g2, vhv) = grad_sq_and_curvature(&m, &c, t, &e);
            assert!((g2 - m.energy_grad(&c, t).1.iter().map(|g| g * g).sum::<f64>()).abs() < 1e-12 * g2);
            lap += vhv;
            let (mut p, mut q) = (c.clone(), c.clone());
            p.y[k] += h;
            q.y[k] -= h;
            lap_fd += (m.energy(&p, t) - 2.0 * u0 + m.energy(&q, t)) / (h * h);
        }
        assert!(rel(lap, lap_fd, 1.0) < 1e-5, "t = {t}: Laplacian {lap} vs second differences {lap_fd}");
    }
}
