//! Target score matching: a lower-variance target for the score-matching residual.
//!
//! Denoising score matching (epsilon form) regresses sigma grad u(y_t, t) on the noise z of
//! y_t = alpha y_0 + sigma z, whose conditional mean is E[z | y_t] = -sigma grad ln p_t(y_t). For
//! a noise kernel that is a function of y_t - alpha y_0 (Gaussian, also on the torus) the score
//! of p_t is also the conditional mean of the clean score (De Bortoli, Hutchinson, Wirnsberger &
//! Doucet, "Target score matching", arXiv:2402.08667 (2024)):
//!
//! ```text
//! grad ln p_t(y_t) = (1/alpha) E[ grad ln p_0(y_0) | y_t ],   so
//! E[ w | y_t ] = E[ z | y_t ]  with  w = (sigma/alpha) grad u_0(y_0),
//! ```
//!
//! where u_0 = -ln p_0 + const is exact in every model (beta U_LJ for particles) when the data
//! sample exp(-u_0). Any blend tau = a z + (1 - a) w with a weight a that depends on y_t and t
//! only (never on y_0 or z) keeps the conditional mean, hence the minimiser of the loss. At small
//! t, w is almost deterministic given y_t while z carries O(1) noise per coordinate that buries
//! the signal (for the paper's LJ state a 5-10 % too soft energy at t < 0.3 changes the
//! denoising loss by ~1e-4 of its noise floor); at large t, w fluctuates wildly (overlapping
//! pairs) and z is the better target. The weight used here,
//!
//! ```text
//! a = q / (1 + q),   q = (sigma/alpha)^2 |grad u_0(y_t)|^2 / D,
//! ```
//!
//! is the clean score's size at y_t against the unit noise per coordinate: a ~ 0 (target score)
//! while the noise is small against the interaction length scales, a -> 1 (denoising) once it
//! is not.

use crate::model::{Conf, EnergyModel};

/// The blended target tau (length D) for the noised configuration `noised` = y_t of `clean` = y_0
/// at time `t` with noise `z`. Two gradient evaluations of u_0.
pub fn blended_target<M: EnergyModel + ?Sized>(model: &M, clean: &Conf, noised: &Conf, t: f64, z: &[f64]) -> Vec<f64> {
    let s = model.schedule();
    let k = s.sigma(t) / s.alpha(t);
    let (_, g0) = model.energy_grad(clean, 0.0);
    let (_, gt) = model.energy_grad(noised, 0.0);
    let q = k * k * gt.iter().map(|g| g * g).sum::<f64>() / z.len() as f64;
    if !q.is_finite() {
        return z.to_vec();
    }
    let a = q / (1.0 + q);
    z.iter().zip(&g0).map(|(zi, gi)| a * zi + (1.0 - a) * k * gi).collect()
}
