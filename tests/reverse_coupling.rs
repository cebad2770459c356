//! Multilevel coupling of reverse-SDE runs (`brownian_substeps`, Giles, Oper. Res. 56, 607 (2008)):
//! a run with S steps and r Brownian increments per step follows the Brownian path of the run with
//! S r steps and the same seed, so the two end near each other and the per-trajectory difference of
//! their TI integrals has a far smaller spread than either integral. Exact diffusion path of two
//! independent Gaussians (variances 0.5 and 2), so the drift is the exact score.

use nti::diffusion::reverse::{reverse_sde, ReverseRun, ReverseSettings};
use nti::model::exact::Gaussians;
use nti::model::exact_path::ExactPathModel;

const TRAJ: usize = 400;

fn run(m: &ExactPathModel, steps: usize, r: usize, seed: u64) -> ReverseRun {
    let s = ReverseSettings { dim: 2, steps, brownian_substeps: r, batch: 100, seed, ..Default::default() };
    reverse_sde(m, &s, 0, TRAJ)
}

fn mean_sq_dist(a: &ReverseRun, b: &ReverseRun) -> f64 {
    let d: f64 = a
        .samples
        .iter()
        .zip(&b.samples)
        .map(|(x, y)| x.y.iter().zip(&y.y).map(|(p, q)| (p - q).powi(2)).sum::<f64>())
        .sum();
    d / a.samples.len() as f64
}

fn var(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

#[test]
fn coarse_run_follows_the_fine_runs_brownian_path() {
    let m = ExactPathModel::gaussians(&Gaussians { variances: vec![0.5, 2.0] });
    let fine = run(&m, 1000, 1, 3);
    let coarse = run(&m, 250, 4, 3);
    let independent = run(&m, 250, 4, 4);
    // End points: coupled pairs are close; independent pairs are two independent draws of
    // N(0, diag(0.5, 2)), mean squared distance 2 (0.5 + 2) = 5.
    let coupled = mean_sq_dist(&fine, &coarse);
    let apart = mean_sq_dist(&fine, &independent);
    eprintln!("mean squared end-point distance: coupled {coupled:.4}, independent {apart:.4}");
    assert!(apart > 3.0, "independent end points too close ({apart})");
    assert!(coupled < 0.05 * apart, "coupled end points are not close: {coupled} against {apart}");
    // TI integrals: the paired difference has a small spread.
    let d: Vec<f64> = fine.per_trajectory.iter().zip(&coarse.per_trajectory).map(|(a, b)| a - b).collect();
    let (vd, vf, vc) = (var(&d), var(&fine.per_trajectory), var(&coarse.per_trajectory));
    eprintln!("variance of J: fine {vf:.4}, coarse {vc:.4}, fine - coarse {vd:.5}");
    assert!(vd < 0.05 * (vf + vc), "coupled difference spread {vd} not small against {vf} + {vc}");
}

#[test]
fn one_increment_per_step_is_the_uncoupled_path() {
    let m = ExactPathModel::gaussians(&Gaussians { variances: vec![0.5, 2.0] });
    let a = run(&m, 100, 1, 8);
    let s = ReverseSettings { dim: 2, steps: 100, batch: 100, seed: 8, ..Default::default() };
    let b = reverse_sde(&m, &s, 0, TRAJ);
    assert_eq!(a.per_trajectory, b.per_trajectory);
}
