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
