//! Exact-answer systems (DESIGN.md sec. 4): estimators that are exact whatever the model's quality
//! (annealed importance sampling, Metropolis-corrected TI windows) must recover ln Z of the
//! independent Gaussians and the 1D mixture with an *untrained* network; their error bars are
//! checked by z-scores over 20 seeds (mean near 0, spread near 1).

use nti::diffusion::ais::ais;
use nti::model::exact::{ExactSystem, Gaussians, Mixture1d};
use nti::model::toy::ToyModel;
use nti::rng::{stream, Purpose};
use std::sync::Arc;

fn untrained(sys: Arc<dyn ExactSystem>, seed: u64) -> ToyModel {
    let mut m = ToyModel::new(sys, &[16, 16], 2, &mut stream(seed, Purpose::ModelInit, 0));
    // A visibly non-zero network term: the learned path is arbitrary but the endpoints are exact.
    for p in m.params.iter_mut() {
        *p *= 2.0;
    }
    m
}

/// Mean and sd of z-scores; with n independent standard normals, the mean has sd 1/sqrt(n) and the
/// sample sd has sd ~ 1/sqrt(2(n-1)): accept |mean| < 3/sqrt(n) and sd within 3.5 of those sds of 1
/// (lower end) — error bars that are too small or too large both fail.
fn check_z(name: &str, z: &[f64]) {
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let sd = (z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let sd_sd = 1.0 / (2.0 * (n - 1.0)).sqrt();
    eprintln!("{name}: z mean {mean:.3}, sd {sd:.3} over {n} seeds");
    assert!(mean.abs() < 3.0 / n.sqrt(), "{name}: mean z {mean}");
    assert!((sd - 1.0).abs() < 3.5 * sd_sd, "{name}: sd of z {sd}");
}

#[test]
fn ais_recovers_ln_z_with_calibrated_errors() {
    let systems: Vec<(&str, Arc<dyn ExactSystem>)> =
        vec![("gaussians", Arc::new(Gaussians { variances: vec![0.5, 2.0] })), ("mixture", Arc::new(Mixture1d))];
    for (name, sys) in systems {
        let m = untrained(sys.clone(), 1);
        let mut z = Vec::new();
        for seed in 0..20 {
            let r = ais(&m, sys.dim(), 1.0, 60, 4, 0.3, 0, 200, seed);
            let (est, se, ess) = r.estimate();
            assert!(ess > 20.0, "{name}: ESS {ess}");
            z.push((est - sys.ln_z()) / se);
        }
        check_z(&format!("AIS {name}"), &z);
    }
}

#[test]
fn corrected_windows_recover_ln_z_with_calibrated_errors() {
    use nti::diffusion::windows::{run_window, WindowSettings};
    use nti::estimators::quadrature::gauss_legendre;
    use nti::model::Conf;
    // Gauss-Legendre on [0, 1]; MALA chains at each node started from exact t = 0 samples (the warm-up
    // carries them to the node's distribution). sum_j w_j <du/dt>_j = ln(Z_0 / Z_1) = ln Z.
    let sys: Arc<dyn ExactSystem> = Arc::new(Gaussians { variances: vec![0.5, 2.0] });
    let m = untrained(sys.clone(), 2);
    let q = gauss_legendre(10, 0.0, 1.0).unwrap();
    let s = WindowSettings { warmup: 300, steps: 1500, stride: 5, eps: 0.2, target_acceptance: 0.6 };
    let mut z = Vec::new();
    for seed in 0..20u64 {
        let mut r = stream(seed, Purpose::ToyData, 0);
        let starts: Vec<Conf> = (0..4).map(|_| Conf { y: sys.sample(&mut r), side: 1.0 }).collect();
        let (mut est, mut var) = (0.0, 0.0);
        for (j, (&t, &w)) in q.nodes.iter().zip(&q.weights).enumerate() {
            let res = run_window(&m, t, &starts, &s, seed, j as u64);
            assert!(res.acceptance > 0.3, "acceptance {} at t = {t}", res.acceptance);
            est += w * res.total.mean;
            var += (w * res.total.stderr).powi(2);
        }
        z.push((est - sys.ln_z()) / var.sqrt());
    }
    check_z("corrected windows (gaussians)", &z);
}
