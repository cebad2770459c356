//! One lambda-window of the conventional baseline: Metropolis MC on exp(-beta U_lambda) (same cutoff
//! mode and tail treatment as the system), recording beta dU/dlambda and the reduced energies
//! beta U_lambda'(x) of each sample at every window lambda' (the MBAR matrix column).
//! Tail corrections of the soft-core path are the numeric integrals of the lambda potential.

use crate::energy::PairEnergy;
use crate::potential::{numeric_tail_integral, Alchemical, CutoffMode, LambdaScaled, PairPotential};
use crate::rng::{stream, Purpose};
use crate::sampling::{MetropolisMc, Sampler};
use crate::system::{lattice, Positions, SimBox};

/// Series of one window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LambdaWindowOutput {
    /// Window index k.
    pub window: usize,
    /// beta dU/dlambda of each sample.
    pub du_dlambda: Vec<f64>,
    /// Reduced energies beta U_{lambda_l}(x_n): samples x windows, row-major (n * K + l).
    pub u_all: Vec<f64>,
    /// MC acceptance in production.
    pub acceptance: f64,
}

/// beta U_lambda(x) and beta dU_lambda/dlambda(x) over all pairs (tail included when `mode` has one).
pub fn lambda_energy(x: &Positions, simbox: &SimBox, mode: CutoffMode, lambda: f64, beta: f64) -> (f64, f64) {
    let pe = PairEnergy::new(LambdaScaled { lambda }, *simbox, mode, x.len());
    let n = x.len();
    let (mut u, mut du) = (0.0, 0.0);
    let rc2 = pe.potential.rc2();
    for i in 0..n {
        for j in i + 1..n {
            let r2 = simbox.dist2(&x[i], &x[j]);
            if r2 < rc2 {
                u += pe.potential.energy(r2);
                du += pe.potential.denergy_dlambda(r2);
            }
        }
    }
    if let CutoffMode::Spherical { rc, tail: true, .. } = mode {
        let rho = n as f64 / simbox.volume();
        let p = LambdaScaled { lambda };
        u += n as f64 * pe.tail.energy_per_particle;
        du += n as f64 * 0.5 * rho * numeric_tail_integral(|r2| p.denergy_dlambda(r2), rc);
    }
    (beta * u, beta * du)
}

/// The conventional baseline's path and its Monte Carlo settings: `n` particles in `simbox` with the
/// interaction `mode` at `temperature`, windows at `lambdas`, each run for `equilibration` +
/// `production` MC sweeps with a sample every `stride`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LambdaPath<'a> {
    /// Particle number.
    pub n: usize,
    /// The box.
    pub simbox: SimBox,
    /// Cutoff mode and tail treatment (the system's).
    pub mode: CutoffMode,
    /// Temperature T (beta = 1/T).
    pub temperature: f64,
    /// Window lambdas.
    pub lambdas: &'a [f64],
    /// Equilibration sweeps (step size adapted, discarded).
    pub equilibration: u64,
    /// Production sweeps.
    pub production: u64,
    /// A sample every `stride` production sweeps.
    pub stride: u64,
    /// Seed of the streams (seed, MonteCarlo, 10^6 + k) of window k.
    pub seed: u64,
}

/// Runs window `k` of `path` at `path.lambdas[k]`.
pub fn run_lambda_window(path: &LambdaPath, k: usize) -> LambdaWindowOutput {
    let LambdaPath { n, simbox, mode, temperature, lambdas, equilibration, production, stride, seed } = *path;
    let beta = 1.0 / temperature;
    let pe = PairEnergy::new(LambdaScaled { lambda: lambdas[k] }, simbox, mode, n);
    let mut mc = MetropolisMc::new(pe, lattice::fcc(n, &simbox), temperature, 0.2, 0.4);
    let mut rng = stream(seed, Purpose::MonteCarlo, 1_000_000 + k as u64);
    for s in 0..equilibration {
        mc.step(&mut rng);
        if (s + 1) % 10 == 0 {
            mc.adapt();
        }
    }
    mc.reset_counters();
    let mut out = LambdaWindowOutput { window: k, ..Default::default() };
    for s in 1..=production {
        mc.step(&mut rng);
        if s % stride == 0 {
            let x = mc.positions();
            let (_, du) = lambda_energy(&x, &simbox, mode, lambdas[k], beta);
            out.du_dlambda.push(du);
            for &l in lambdas {
                out.u_all.push(lambda_energy(&x, &simbox, mode, l, beta).0);
            }
        }
    }
    out.acceptance = mc.acceptance().unwrap_or(f64::NAN);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_derivative_matches_central_differences_with_tails() {
        let b = SimBox::new(7.0);
        let x = lattice::fcc(64, &b);
        let mode = CutoffMode::Spherical { rc: 3.0, shift: false, tail: true };
        for l in [0.1, 0.5, 0.9] {
            let (_, du) = lambda_energy(&x, &b, mode, l, 0.8);
            let h = 1e-6;
            let fd =
                (lambda_energy(&x, &b, mode, l + h, 0.8).0 - lambda_energy(&x, &b, mode, l - h, 0.8).0) / (2.0 * h);
            assert!((du - fd).abs() < 1e-6 * fd.abs().max(1.0), "lambda {l}: {du} vs {fd}");
        }
        // End points: full LJ with tail at 0, nothing at 1.
        let (u0, _) = lambda_energy(&x, &b, mode, 0.0, 1.0);
        let pe = PairEnergy::new(crate::potential::LennardJones, b, mode, 64);
        let lj = pe.total(&x).energy + 64.0 * pe.tail.energy_per_particle;
        assert!((u0 - lj).abs() < 1e-9 * lj.abs());
        assert_eq!(lambda_energy(&x, &b, mode, 1.0, 1.0).0, 0.0);
    }
}
