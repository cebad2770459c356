//! One lambda-window of the conventional baseline: Metropolis MC on exp(-beta U_lambda) (same cutoff
//! mode and tail treatment as the system), recording beta dU/dlambda and the reduced energies
//! beta U_lambda'(x) of each sample at every window lambda' (the MBAR matrix column).
//! Tail corrections of the soft-core path are the numeric integrals of the lambda potential.

use crate::energy::PairEnergy;
use crate::potential::{numeric_tail_integral, Alchemical, CutoffMode, LambdaScaled, PairPotential};
use crate::rng::{stream, Purpose, Stream};
use crate::sampling::{MetropolisMc, Sampler};
use crate::state_buf::{SafePointFn, StateReader, StateWriter};
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
    let mut never = |_: &dyn Fn() -> Vec<f64>| Ok(false);
    run_lambda_window_at(path, k, None, &mut never).expect("never stops").expect("finished")
}

/// Layout version of a window's saved state.
const STATE_VERSION: u64 = 1;

/// A window in progress: its MC chain, random stream, sweeps done and the series so far.
pub struct LambdaWindowState {
    mc: MetropolisMc<LambdaScaled>,
    rng: Stream,
    done: u64,
    out: LambdaWindowOutput,
}

impl LambdaWindowState {
    /// Window `k` of `path` at its start.
    fn new(path: &LambdaPath, k: usize) -> Self {
        let pe = PairEnergy::new(LambdaScaled { lambda: path.lambdas[k] }, path.simbox, path.mode, path.n);
        let mc = MetropolisMc::new(pe, lattice::fcc(path.n, &path.simbox), path.temperature, 0.2, 0.4);
        let rng = stream(path.seed, Purpose::MonteCarlo, 1_000_000 + k as u64);
        Self { mc, rng, done: 0, out: LambdaWindowOutput { window: k, ..Default::default() } }
    }

    /// The state saved by a run of window `k` of `path` (the buffer of [`LambdaWindowState::write`]).
    pub fn read(path: &LambdaPath, k: usize, buf: &[f64]) -> anyhow::Result<Self> {
        let mut s = Self::new(path, k);
        let mut r = StateReader::new(buf, "lambda window", STATE_VERSION)?;
        s.done = r.u64()?;
        s.rng = r.rng()?;
        s.mc.restore_state(&mut r)?;
        (s.out.du_dlambda, s.out.u_all) = (r.f64s()?, r.f64s()?);
        r.finish()?;
        let (samples, nk) = (s.out.du_dlambda.len(), path.lambdas.len());
        if s.done > path.equilibration + path.production || s.out.u_all.len() != samples * nk {
            anyhow::bail!("saved window state does not fit this path ({} sweeps, {samples} samples)", s.done);
        }
        Ok(s)
    }

    /// The state as one buffer.
    pub fn write(&self) -> Vec<f64> {
        let mut w = StateWriter::new("lambda window", STATE_VERSION);
        w.u64(self.done).rng(&self.rng);
        self.mc.save_state(&mut w);
        w.f64s(&self.out.du_dlambda).f64s(&self.out.u_all);
        w.finish()
    }
}

/// Runs window `k` of `path`, continuing from `resume` (a state of this window) when given. After
/// every sweep it calls `safe_point(state)`, where `state()` builds the window's state buffer; when
/// that returns true the window stops and returns `None`. The resumed window is bitwise the
/// uninterrupted one.
pub fn run_lambda_window_at(
    path: &LambdaPath,
    k: usize,
    resume: Option<LambdaWindowState>,
    safe_point: &mut SafePointFn,
) -> anyhow::Result<Option<LambdaWindowOutput>> {
    let LambdaPath { simbox, mode, temperature, lambdas, equilibration, production, stride, .. } = *path;
    let beta = 1.0 / temperature;
    let mut st = resume.unwrap_or_else(|| {
        let mut s = LambdaWindowState::new(path, k);
        if equilibration == 0 {
            s.mc.reset_counters();
        }
        s
    });
    while st.done < equilibration + production {
        st.mc.step(&mut st.rng);
        st.done += 1;
        let done = st.done;
        if done <= equilibration {
            if done % 10 == 0 {
                st.mc.adapt();
            }
            if done == equilibration {
                st.mc.reset_counters();
            }
        } else if (done - equilibration) % stride == 0 {
            let x = st.mc.positions();
            let (_, du) = lambda_energy(&x, &simbox, mode, lambdas[k], beta);
            st.out.du_dlambda.push(du);
            for &l in lambdas {
                st.out.u_all.push(lambda_energy(&x, &simbox, mode, l, beta).0);
            }
        }
        if safe_point(&|| st.write())? {
            return Ok(None);
        }
    }
    st.out.acceptance = st.mc.acceptance().unwrap_or(f64::NAN);
    Ok(Some(st.out))
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
