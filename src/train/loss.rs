//! The denoising score-matching loss (docs/design.md sec. 2 and 6; Vincent, Neural Comput. 23,
//! 1661 (2011); Song et al., ICLR 2021). For one noised sample y_t = alpha(t) y_0 + sigma(t) z
//! (dimension D), with the model's predicted noise eps_theta = sigma(t) grad_y u_theta(y_t, t):
//!
//! ```text
//! l = (1/D) || eps_theta - z ||^2,     dl/dtheta = (2/D) (eps_theta - z) . d eps_theta / dtheta
//! ```
//!
//! The parameter gradient is one vector-Jacobian product of the model
//! ([`EnergyModel::noise_vjp`]) with the residual r = eps_theta - z as direction and weight 2: the
//! model owns the derivative, this module the loss.

use crate::model::{Conf, EnergyModel};

/// The loss l of one noised sample alone (no gradient), from `energy_grad`.
pub fn dsm_loss<M: EnergyModel + ?Sized>(m: &M, c: &Conf, t: f64, z: &[f64]) -> f64 {
    let (_, g) = m.energy_grad(c, t);
    let s = m.schedule().sigma(t);
    g.iter().zip(z).map(|(gi, zi)| (s * gi - zi).powi(2)).sum::<f64>() / g.len() as f64
}

/// sum_b w_b l_b over a batch of noised samples `cs` at times `ts` with noises (or targets) `zs`;
/// adds sum_b w_b dl_b/dtheta into `grad`.
pub fn dsm_loss_grad_batch<M: EnergyModel + ?Sized>(
    m: &M,
    cs: &[Conf],
    ts: &[f64],
    zs: &[Vec<f64>],
    w: &[f64],
    grad: &mut [f64],
) -> f64 {
    assert!(cs.len() == ts.len() && cs.len() == zs.len() && cs.len() == w.len(), "batch lengths differ");
    let mut loss = 0.0;
    m.noise_vjp_batch(
        cs,
        ts,
        &mut |b: usize, eps: &[f64]| {
            let r: Vec<f64> = eps.iter().zip(&zs[b]).map(|(e, z)| e - z).collect();
            let l: f64 = r.iter().map(|v| v * v).sum();
            loss += w[b] * l / r.len() as f64;
            (r, w[b] * 2.0)
        },
        grad,
    );
    loss
}

/// w l of one noised sample; adds w dl/dtheta into `grad`.
pub fn dsm_loss_grad<M: EnergyModel + ?Sized>(m: &M, c: &Conf, t: f64, z: &[f64], w: f64, grad: &mut [f64]) -> f64 {
    dsm_loss_grad_batch(m, std::slice::from_ref(c), &[t], &[z.to_vec()], &[w], grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::exact::DoubleWell2d;
    use crate::model::toy::ToyModel;
    use crate::rng::{stream, Purpose};
    use std::sync::Arc;

    fn model() -> ToyModel {
        let mut m = ToyModel::new(
            Arc::new(DoubleWell2d { a: 1.0, k: 3.0, c: 0.4 }),
            &[16, 16],
            3,
            &mut stream(4, Purpose::Init, 0),
        );
        m.params_mut().iter_mut().for_each(|p| *p *= 3.0);
        m
    }

    /// The loss value equals `dsm_loss`, its parameter gradient matches central differences of
    /// `dsm_loss`, and a batch is the weighted sum of its samples (value and gradient).
    #[test]
    fn loss_gradient_matches_central_differences_and_batches_add_up() {
        let m = model();
        let cs = [Conf { y: vec![0.7, -0.3], side: 1.0 }, Conf { y: vec![-0.2, 0.9], side: 1.0 }];
        let (ts, zs, w) = ([0.3, 0.8], [vec![0.4, -1.1], vec![-0.6, 0.2]], [0.25, 0.75]);
        let np = m.params().len();
        let (mut gb, mut gs) = (vec![0.0; np], vec![0.0; np]);
        let lb = dsm_loss_grad_batch(&m, &cs, &ts, &zs, &w, &mut gb);
        let mut ls = 0.0;
        for b in 0..2 {
            let mut g = vec![0.0; np];
            let l = dsm_loss_grad(&m, &cs[b], ts[b], &zs[b], w[b], &mut g);
            assert!((l - w[b] * dsm_loss(&m, &cs[b], ts[b], &zs[b])).abs() < 1e-12);
            let mut worst: f64 = 0.0;
            for k in (0..np).step_by(5) {
                let (mut a, mut c) = (m.clone(), m.clone());
                a.params_mut()[k] += 1e-6;
                c.params_mut()[k] -= 1e-6;
                let fd = w[b] * (dsm_loss(&a, &cs[b], ts[b], &zs[b]) - dsm_loss(&c, &cs[b], ts[b], &zs[b])) / 2e-6;
                worst = worst.max((g[k] - fd).abs() / fd.abs().max(1e-3));
            }
            assert!(worst < 1e-6, "sample {b}: worst rel. error {worst}");
            ls += l;
            gs.iter_mut().zip(&g).for_each(|(s, x)| *s += x);
        }
        assert!((lb - ls).abs() < 1e-12 * ls.abs());
        assert!(gb.iter().zip(&gs).all(|(a, b)| (a - b).abs() < 1e-12 * b.abs().max(1.0)));
    }
}
