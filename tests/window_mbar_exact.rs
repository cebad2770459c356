//! MBAR over the Metropolis-corrected t-windows (crate::estimators::window_mbar, `[ti] window_mbar`)
//! on an exact-answer system: the untrained toy model on independent Gaussians (its learned path is
//! arbitrary, its end points exact), as the windows' quadrature is checked in
//! tests/exact_estimators.rs. MBAR must recover -ln Z within 3 of its standard errors, seed by seed,
//! and its errors must be calibrated over the seeds.

use nti::diffusion::windows::{WindowDiscard, WindowRun, WindowSettings};
use nti::estimators::quadrature::gauss_legendre;
use nti::estimators::window_mbar::{mbar_times, window_mbar, WindowEnergies};
use nti::model::exact::{ExactSystem, Gaussians};
use nti::model::toy::ToyModel;
use nti::model::Conf;
use nti::rng::{stream, Purpose};
use nti::sampling::chain::ChainKind;
use std::sync::Arc;

#[test]
fn mbar_over_windows_recovers_ln_z_of_the_gaussians() {
    let sys: Arc<dyn ExactSystem> = Arc::new(Gaussians { variances: vec![0.5, 2.0] });
    let mut m = ToyModel::new(sys.clone(), &[16, 16], 2, &mut stream(2, Purpose::ModelInit, 0));
    // A visibly non-zero network term, as in tests/exact_estimators.rs.
    for p in m.params.iter_mut() {
        *p *= 2.0;
    }
    let q = gauss_legendre(6, 0.0, 1.0).unwrap();
    let times = mbar_times(&q.nodes);
    let s = WindowSettings {
        sampler: ChainKind::Mala,
        leapfrog: 1,
        warmup: 300,
        steps: 1000,
        stride: 5,
        eps: 0.2,
        target_acceptance: 0.6,
        tconf_every: 0,
        discard: WindowDiscard::Auto,
        stein_probes: 0,
    };
    // beta A_ex = -ln(Z_0 / Z_1) = -ln Z for this system.
    let exact = -sys.ln_z();
    let mut z = Vec::new();
    for seed in 0..12u64 {
        let mut r = stream(seed, Purpose::ToyData, 0);
        let starts: Vec<Conf> = (0..4).map(|_| Conf { y: sys.sample(&mut r), side: 1.0 }).collect();
        let mut windows = Vec::new();
        let mut quad = (0.0, 0.0);
        for (j, &t) in q.nodes.iter().enumerate() {
            let run = WindowRun { model: &m, t, s: &s, seed, id: j as u64, edges: None, energy_at: &times };
            let w = run.run_to_end(&starts);
            let per_chain = w.series.len() / starts.len();
            assert_eq!(w.energies.len(), w.series.len() * times.len());
            quad.0 -= q.weights[j] * w.total.mean;
            quad.1 += (q.weights[j] * w.total.stderr).powi(2);
            windows.push(WindowEnergies {
                per_chain: vec![per_chain; starts.len()],
                discarded: w.discarded.clone(),
                stat_ineff: w.total.stat_ineff,
                u: w.energies,
            });
        }
        let est = window_mbar(&q.nodes, &windows).unwrap();
        let zs = (est.value - exact) / est.stderr;
        eprintln!(
            "seed {seed}: MBAR {:.4} ± {:.4}, quadrature {:.4} ± {:.4}, exact {exact:.4}: z = {zs:+.2}",
            est.value,
            est.stderr,
            quad.0,
            quad.1.sqrt()
        );
        assert!(zs.abs() < 3.0, "seed {seed}: MBAR {} ± {} against exact {exact}", est.value, est.stderr);
        // Every state's free energy relative to t = 0, and the ends unsampled.
        assert_eq!(est.mbar.f[0], 0.0);
        assert_eq!((est.n_k[0], est.n_k[times.len() - 1]), (0, 0));
        z.push(zs);
    }
    // Calibration over the seeds: errors neither far too small nor far too large.
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let sd = (z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    eprintln!("z over {n} seeds: mean {mean:.2}, sd {sd:.2}");
    assert!(mean.abs() < 3.0 / n.sqrt(), "mean z {mean}");
    assert!((0.5..1.6).contains(&sd), "sd of z {sd}");
}
