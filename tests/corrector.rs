//! Metropolis-adjusted correctors inside the reverse SDE (crate::diffusion::corrector).
//!
//! An untrained Gaussian-prior model on the 1D mixture: its reverse SDE does not sample its own
//! ensembles, but after a corrector at t_c the trajectories must follow exp(-u(y, t_c)) of the model,
//! whose moments are known here by quadrature (1D). At t_c = 0 that ensemble is the mixture itself
//! (<y> = -2/3, <y^2> = 5), whatever the network.

use nti::diffusion::corrector::Corrector;
use nti::diffusion::reverse::{reverse_sde, ReverseSettings};
use nti::model::exact::Mixture1d;
use nti::model::toy::ToyModel;
use nti::model::{Conf, EnergyModel};
use nti::rng::{stream, Purpose};
use std::sync::Arc;

const STEPS: usize = 200;

fn model() -> ToyModel {
    ToyModel::new(Arc::new(Mixture1d), &[16, 16], 2, &mut stream(11, Purpose::ModelInit, 0))
}

/// Statistics compared: P(y > 0), <y> and <y^2>.
fn stats(y: f64) -> [f64; 3] {
    [(y > 0.0) as u8 as f64, y, y * y]
}

/// <stats> under exp(-u(y, t)) by the trapezoid rule on [-15, 15].
fn exact_moments(m: &ToyModel, t: f64) -> [f64; 3] {
    let n = 30_001;
    let (a, b) = (-15.0, 15.0);
    let h = (b - a) / (n - 1) as f64;
    let us: Vec<f64> = (0..n).map(|k| m.energy_grad(&Conf { y: vec![a + k as f64 * h], side: 1.0 }, t).0).collect();
    let umin = us.iter().cloned().fold(f64::INFINITY, f64::min);
    let (mut z, mut zs) = (0.0, [0.0; 3]);
    for (k, u) in us.iter().enumerate() {
        let w = if k == 0 || k == n - 1 { 0.5 } else { 1.0 } * (-(u - umin)).exp();
        z += w;
        for (a, s) in zs.iter_mut().zip(stats(a + k as f64 * h)) {
            *a += w * s;
        }
    }
    zs.map(|v| v / z)
}

/// z-scores of the sample means of the statistics against `exact` (independent trajectories).
fn z_scores(cs: &[Conf], exact: &[f64; 3]) -> [f64; 3] {
    let m = cs.len() as f64;
    let mut out = [0.0; 3];
    for (j, o) in out.iter_mut().enumerate() {
        let v: Vec<f64> = cs.iter().map(|c| stats(c.y[0])[j]).collect();
        let mean = v.iter().sum::<f64>() / m;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0);
        *o = (mean - exact[j]) / (var / m).sqrt();
    }
    out
}

fn max_abs(z: &[f64; 3]) -> f64 {
    z.iter().fold(0.0f64, |a, b| a.max(b.abs()))
}

fn corrector(times: &[f64], steps: usize) -> Corrector {
    Corrector { times: times.to_vec(), steps, step_factor: 0.5, target_acceptance: 0.6 }
}

#[test]
fn a_corrector_at_t_brings_the_trajectories_to_the_models_own_ensemble_at_t() {
    let m = model();
    let n_traj = 4000;
    for &tc in &[0.3, 0.0] {
        let exact = exact_moments(&m, tc);
        let plain_s = ReverseSettings { steps: STEPS, batch: 500, seed: 5, snapshots: &[tc], ..Default::default() };
        let plain = reverse_sde(&m, &plain_s, 0, n_traj);
        let corr = reverse_sde(&m, &ReverseSettings { corrector: corrector(&[tc], 400), ..plain_s }, 0, n_traj);
        let z_plain = z_scores(&plain.snapshots[0], &exact);
        let z_corr = z_scores(&corr.snapshots[0], &exact);
        eprintln!(
            "t_c = {tc}: exact P(y>0), <y>, <y^2> = {exact:.4?}; z plain {z_plain:.1?}; z corrected {z_corr:.1?}"
        );
        // The check is informative only if the plain reverse SDE misses the model's ensemble.
        assert!(max_abs(&z_plain) > 6.0, "the untrained model's reverse SDE already samples its ensemble at {tc}");
        // Three statistics: 4 sigma each.
        assert!(max_abs(&z_corr) < 4.0, "corrected samples at t = {tc}: z {z_corr:?}");
        let st = &corr.corrector[0];
        let (acc, _, _) = st.means();
        assert_eq!(st.count, n_traj as f64);
        assert!((0.3..0.9).contains(&acc), "acceptance {acc}");
    }
    // u(., 0) is the mixture exactly: <y> = (2 (-2) + 2) / 3, <y^2> = 1 + 4.
    let e0 = exact_moments(&m, 0.0);
    assert!((e0[1] + 2.0 / 3.0).abs() < 1e-6 && (e0[2] - 5.0).abs() < 1e-6, "{e0:?}");
}

#[test]
fn correctors_do_not_depend_on_batching_and_leave_the_predictor_noise_alone() {
    let m = model();
    let c = corrector(&[0.7, 0.2], 20);
    let plain_s = ReverseSettings { steps: STEPS, batch: 12, seed: 9, ..Default::default() };
    let a = reverse_sde(&m, &ReverseSettings { corrector: c.clone(), ..plain_s.clone() }, 3, 12);
    let b = reverse_sde(&m, &ReverseSettings { corrector: c.clone(), batch: 5, ..plain_s.clone() }, 3, 12);
    let ya: Vec<f64> = a.samples.iter().map(|s| s.y[0]).collect();
    let yb: Vec<f64> = b.samples.iter().map(|s| s.y[0]).collect();
    assert_eq!(ya, yb, "batch 12 against batch 5");
    assert_eq!(a.corrector.len(), 2);
    // The corrector times are the first grid times at or below t_c.
    assert!((a.corrector[0].t - 0.7).abs() < 1e-12 && (a.corrector[1].t - 0.2).abs() < 1e-12);
    // Without corrector times the same call is the plain reverse SDE, bitwise.
    let none =
        reverse_sde(&m, &ReverseSettings { corrector: Corrector { times: vec![], ..c }, ..plain_s.clone() }, 3, 12);
    let plain = reverse_sde(&m, &plain_s, 3, 12);
    assert_eq!(none.per_trajectory, plain.per_trajectory);
    assert!(none.corrector.is_empty());
    // With correctors the trajectories differ (the chains moved them).
    assert_ne!(ya, plain.samples.iter().map(|s| s.y[0]).collect::<Vec<_>>());
}
