//! The Fokker-Planck (Stein) control variate of the corrected windows' integrand.
//!
//! The forward process dy = -c(t) y dt + g(t) dW has marginals that obey the Fokker-Planck equation
//! d p_t / dt = c div(y p_t) + (g^2 / 2) laplacian p_t (variance exploding: c = 0, g^2 = d sigma^2/dt,
//! the heat equation). A model that is exact, p_t = exp(-u_t) / Z_t, therefore has at every y
//!
//! ```text
//! du/dt (y, t) = -F(y, t) - d ln Z_t / dt,                                              (1)
//! F = (g^2 / 2) (|grad_y u|^2 - laplacian_y u) + c (D - y . grad_y u),
//! ```
//!
//! while for any model the Stein identities (integration by parts with the vector fields grad u and
//! y; on the torus, where c = 0, only the first is needed)
//!
//! ```text
//! < |grad_y u_t|^2 - laplacian_y u_t >_t = 0,   < D - y . grad_y u_t >_t = 0,   so  < F >_t = 0,   (2)
//! ```
//!
//! hold exactly in the window's own ensemble exp(-u_t). So Y = du/dt + a F has the mean of du/dt for
//! every coefficient a, and for a = 1 its fluctuations are the model's Fokker-Planck residual only
//! (zero for an exact model): the cage rattling that dominates the variance of du/dt at
//! 0.1 < t < 0.5 on dense liquids cancels. This is the zero-variance principle of Assaraf &
//! Caffarel (Phys. Rev. Lett. 83, 4682 (1999)) with the Langevin-Stein operator (Mira, Solgi &
//! Imparato, Stat. Comput. 23, 653 (2013)). The window uses the least-squares coefficient
//! a = -cov(du/dt, F) / var(F) over its kept samples (which can only reduce the variance, and falls
//! back to a ~ 0 where F only adds noise, e.g. t -> 1) and reports it: 1 where the model satisfies
//! (1) and the Laplacian is exact; the probes' noise in F attenuates it (errors in variables: a is
//! the model's coefficient times var(F_exact) / var(F)), so with Hutchinson it is a lower bound.
//!
//! The Laplacian is Hutchinson's estimate with K Rademacher probes v_k, laplacian u ~ (1/K)
//! sum_k v_k . (grad u(y + h v_k) - grad u(y)) / h: one gradient evaluation per probe (the chain
//! carries grad u(y)). The forward difference's O(h) error is odd in v and averages out; its extra
//! variance, and the probes', enter the window's error bar like any other fluctuation. Measured at
//! T = 1.5, N = 200 (models/lj_T1.5_L8_rc3.h5, 24 windows x 4 chains; validation/README.md,
//! "Fokker-Planck control variate"): K = 4 cuts the variance of <du/dt> 3.5-20x at t = 0.23-0.6,
//! where most of the variance is, and that of beta A_ex 4.3x, for 1.4x the CPU time. Where the
//! chains mix slowly (t < 0.1) the controlled samples are more correlated and gain little.

use super::consistency::{rademacher, FD_STEP};
use crate::model::{Conf, EnergyModel};
use crate::rng::Stream;

/// F(y, t) of eq. (1) at (c, t), with `g` = grad_y u at (c, t) and the Laplacian from `probes`
/// Rademacher directions drawn from `rng` (one gradient evaluation each).
pub fn fp_term<M: EnergyModel + ?Sized>(
    model: &M,
    c: &Conf,
    g: &[f64],
    t: f64,
    probes: usize,
    rng: &mut Stream,
) -> f64 {
    let h = FD_STEP / c.side;
    let mut lap = 0.0;
    for _ in 0..probes {
        let v = rademacher(c.y.len(), rng);
        let shifted = Conf { y: c.y.iter().zip(&v).map(|(y, d)| y + h * d).collect(), side: c.side };
        let (_, gp) = model.energy_grad(&shifted, t);
        lap += v.iter().zip(gp.iter().zip(g)).map(|(d, (a, b))| d * (a - b)).sum::<f64>() / h;
    }
    let s = g.iter().map(|a| a * a).sum::<f64>() - lap / probes.max(1) as f64;
    let sch = model.schedule();
    let drift = sch.drift(t);
    let virial = if drift != 0.0 { c.y.len() as f64 - c.y.iter().zip(g).map(|(y, g)| y * g).sum::<f64>() } else { 0.0 };
    0.5 * sch.g2(t) * s + drift * virial
}

/// The least-squares coefficient a = -cov(x, s) / var(s) over the samples of all chains (each
/// chain's pairs (x_i, s_i), here du/dt and F); 0 when s does not vary.
pub fn stein_coefficient(x: &[&[f64]], s: &[&[f64]]) -> f64 {
    let n: usize = x.iter().map(|c| c.len()).sum();
    if n < 2 {
        return 0.0;
    }
    let mx = x.iter().flat_map(|c| c.iter()).sum::<f64>() / n as f64;
    let ms = s.iter().flat_map(|c| c.iter()).sum::<f64>() / n as f64;
    let (mut cov, mut var) = (0.0, 0.0);
    for (xc, sc) in x.iter().zip(s) {
        for (a, b) in xc.iter().zip(sc.iter()) {
            cov += (a - mx) * (b - ms);
            var += (b - ms) * (b - ms);
        }
    }
    if var > 0.0 {
        -cov / var
    } else {
        0.0
    }
}

/// The controlled series Y = x + a s of every chain.
pub fn controlled(x: &[&[f64]], s: &[&[f64]], a: f64) -> Vec<Vec<f64>> {
    x.iter().zip(s).map(|(xc, sc)| xc.iter().zip(sc.iter()).map(|(x, s)| x + a * s).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coefficient_removes_a_linear_dependence_exactly() {
        // x = 3 - 2 s + (noise orthogonal to s): a = 2 and Y = x + 2 s is the noise plus 3.
        let s1 = [1.0, -1.0, 2.0, -2.0];
        let s2 = [0.5, -0.5];
        let e1 = [0.1, 0.1, -0.1, -0.1];
        let e2 = [0.0, 0.0];
        let x1: Vec<f64> = s1.iter().zip(&e1).map(|(s, e)| 3.0 - 2.0 * s + e).collect();
        let x2: Vec<f64> = s2.iter().zip(&e2).map(|(s, e)| 3.0 - 2.0 * s + e).collect();
        let a = stein_coefficient(&[&x1, &x2], &[&s1, &s2]);
        assert!((a - 2.0).abs() < 1e-12, "a = {a}");
        let y = controlled(&[&x1, &x2], &[&s1, &s2], a);
        for (yc, ec) in y.iter().zip([&e1[..], &e2[..]]) {
            for (y, e) in yc.iter().zip(ec) {
                assert!((y - 3.0 - e).abs() < 1e-12);
            }
        }
        assert_eq!(stein_coefficient(&[&x1], &[&[1.0; 4]]), 0.0);
    }
}
