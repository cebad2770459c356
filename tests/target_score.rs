//! Target score matching (nti::train::target): the blended target has the conditional mean of the
//! noise, E[tau | y_t] = E[z | y_t] = -sigma grad ln p_t(y_t), so training keeps its minimiser.
//! Checked on the independent Gaussians (docs/design.md sec. 4) with the variance-preserving path
//! (alpha(t) < 1, so the 1/alpha factor matters), where p_t = N(0, alpha^2 v + sigma^2) per
//! coordinate and E[z | y_t] = sigma y_t / (alpha^2 v + sigma^2): the regression slope of tau on y_t
//! must be that value (z-score from the sandwich standard error, fixed seeds); the same regression
//! rejects a target without the 1/alpha factor.

use nti::model::exact::{ExactSystem, Gaussians};
use nti::model::toy::ToyModel;
use nti::model::{Conf, EnergyModel};
use nti::rng::{stream, Purpose};
use nti::train::target::blended_target;
use rand_distr::{Distribution, StandardNormal};
use std::sync::Arc;

/// Least-squares slope of y on x through the origin and its heteroscedasticity-robust stderr.
fn slope(x: &[f64], y: &[f64]) -> (f64, f64) {
    let sxx: f64 = x.iter().map(|a| a * a).sum();
    let b = x.iter().zip(y).map(|(a, c)| a * c).sum::<f64>() / sxx;
    let v: f64 = x.iter().zip(y).map(|(a, c)| (c - b * a).powi(2) * a * a).sum();
    (b, v.sqrt() / sxx)
}

#[test]
fn blended_target_has_the_conditional_mean_of_the_noise() {
    let variances = vec![0.5, 2.0];
    let sys: Arc<dyn ExactSystem> = Arc::new(Gaussians { variances: variances.clone() });
    let m = ToyModel::new(sys.clone(), &[8], 2, &mut stream(1, Purpose::ModelInit, 0));
    let sched = m.schedule();
    let mut r = stream(2, Purpose::ToyData, 0);
    for t in [0.1, 0.3, 0.6] {
        let (a, s) = (sched.alpha(t), sched.sigma(t));
        let (mut yt, mut tau, mut wrong, mut mix) = (vec![vec![]; 2], vec![vec![]; 2], vec![vec![]; 2], 0.0);
        let count = 20_000;
        for _ in 0..count {
            let y0 = sys.sample(&mut r);
            let z: Vec<f64> = (0..2).map(|_| StandardNormal.sample(&mut r)).collect();
            let y: Vec<f64> = y0.iter().zip(&z).map(|(p, q)| a * p + s * q).collect();
            let (c0, ct) = (Conf { y: y0.clone(), side: 1.0 }, Conf { y: y.clone(), side: 1.0 });
            let tv = blended_target(&m, &c0, &ct, t, &z);
            // The same blend with w = sigma grad u_0(y_0) (no 1/alpha): biased when alpha < 1.
            let g0: Vec<f64> = y0.iter().zip(&variances).map(|(p, v)| p / v).collect();
            let k = s / a;
            let blend = (tv[0] - k * g0[0]) / (z[0] - k * g0[0]);
            mix += blend;
            for d in 0..2 {
                yt[d].push(y[d]);
                tau[d].push(tv[d]);
                wrong[d].push(blend * z[d] + (1.0 - blend) * s * g0[d]);
            }
        }
        for d in 0..2 {
            let exact = s / (a * a * variances[d] + s * s);
            let (b, se) = slope(&yt[d], &tau[d]);
            let zs = (b - exact) / se;
            let (bw, sew) = slope(&yt[d], &wrong[d]);
            let zw = (bw - exact) / sew;
            eprintln!(
                "t = {t}, dim {d}: mean blend weight {:.3}; slope {b:.4} ± {se:.4} vs exact {exact:.4} \
                 (z = {zs:.2}); without 1/alpha {bw:.4} (z = {zw:.1})",
                mix / count as f64
            );
            assert!(zs.abs() < 3.0, "t = {t}, dim {d}: slope {b} ± {se} vs {exact}");
            if t >= 0.3 {
                assert!(zw.abs() > 5.0, "t = {t}, dim {d}: the check must see a missing 1/alpha (z = {zw})");
            }
        }
    }
}
