//! Metropolis-adjusted corrector steps inside the reverse SDE (a predictor-corrector sampler:
//! Song et al., ICLR 2021, sec. 4.2, with the Langevin corrector made exact for the model's own
//! ensemble by a Metropolis test, as energy parameterisations allow: Du et al., ICML 2023).
//!
//! When a reverse-SDE trajectory reaches a corrector time t_c (the first grid time t_k <= t_c), it
//! pauses for `steps` MALA steps on exp(-u(y, t_k)) (crate::sampling::mala), then continues. The
//! step eps starts at `step_factor * sigma(t_k)^2` (noise-coordinate units squared) and is adapted
//! towards `target_acceptance` every [`ADAPT_EVERY`] steps during the first half; the second half runs
//! at a fixed eps and gives the reported acceptance. The corrector pulls the trajectory towards the
//! learned ensemble at t_k: it helps where the model's ensemble is right (T_conf = 1, MALA started
//! from p_t stays there) and the reverse SDE arriving there is not, and it hurts where the learned
//! ensemble itself is wrong. At t_c = 0 the ensemble is exp(-beta U_LJ) exactly, whatever the
//! network: correctors at t = 0 hide the model's quality, so validation runs keep t_c > 0.
//!
//! Trajectory i, corrector c uses the stream (seed, Corrector, (i << 8) + c): results do not
//! depend on batching or ranks.

use crate::model::{Conf, EnergyModel};
use crate::rng::{stream, Purpose};
use crate::sampling::chain::ChainState;
use crate::sampling::mala::MalaChain;

/// Steps between step-size adaptations during the first half of a corrector.
pub const ADAPT_EVERY: usize = 10;

/// Corrector settings (`[generate] corrector_t`, `corrector_steps`, `corrector_step`,
/// `corrector_acceptance`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Corrector {
    /// Corrector times t_c in [0, 1), in any order; empty = plain reverse SDE.
    pub times: Vec<f64>,
    /// MALA steps per corrector (at least 2 when `times` is not empty).
    pub steps: usize,
    /// Initial eps / sigma(t)^2.
    pub step_factor: f64,
    /// Acceptance targeted during the adaptive first half.
    pub target_acceptance: f64,
}

/// Sums over trajectories of one corrector's outcome (mergeable by addition).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CorrectorStats {
    /// Grid time at which the corrector ran (the first t_k <= t_c).
    pub t: f64,
    /// Number of trajectories.
    pub count: f64,
    /// Sum of the acceptance of the fixed-eps second half.
    pub acceptance: f64,
    /// Sum of u(after) - u(before) at t (how far the reverse SDE was from the model's ensemble,
    /// in kT).
    pub du: f64,
    /// Sum of the final eps.
    pub eps: f64,
}

impl CorrectorStats {
    /// Adds another set of trajectories at the same corrector.
    pub fn add(&mut self, o: &CorrectorStats) {
        self.count += o.count;
        self.acceptance += o.acceptance;
        self.du += o.du;
        self.eps += o.eps;
    }

    /// (mean acceptance, mean du, mean eps).
    pub fn means(&self) -> (f64, f64, f64) {
        let m = self.count.max(1.0);
        (self.acceptance / m, self.du / m, self.eps / m)
    }

    /// As a flat record [t, count, acceptance, du, eps] (for MPI buffers).
    pub fn to_vec(&self) -> [f64; 5] {
        [self.t, self.count, self.acceptance, self.du, self.eps]
    }

    /// From [`CorrectorStats::to_vec`]'s record.
    pub fn from_slice(v: &[f64]) -> Self {
        Self { t: v[0], count: v[1], acceptance: v[2], du: v[3], eps: v[4] }
    }
}

impl Corrector {
    /// Whether any corrector runs.
    pub fn active(&self) -> bool {
        !self.times.is_empty() && self.steps > 0
    }

    /// Runs corrector `c` at time `t` on `conf` (trajectory `traj`): returns the new configuration
    /// and this trajectory's stats.
    pub fn run<M: EnergyModel + ?Sized>(
        &self,
        model: &M,
        conf: &Conf,
        t: f64,
        seed: u64,
        traj: u64,
        c: usize,
    ) -> (Conf, CorrectorStats) {
        let mut rng = stream(seed, Purpose::Corrector, (traj << 8) + c as u64);
        let sigma = model.schedule().sigma(t);
        let mut chain = MalaChain::new(model, conf.clone(), t, self.step_factor * sigma * sigma);
        let u0 = chain.u;
        let half = self.steps / 2;
        for s in 0..half {
            chain.step(model, &mut rng);
            if (s + 1) % ADAPT_EVERY == 0 {
                chain.adapt(self.target_acceptance);
            }
        }
        ChainState::reset_counters(&mut chain);
        for _ in half..self.steps {
            chain.step(model, &mut rng);
        }
        let stats = CorrectorStats {
            t,
            count: 1.0,
            acceptance: ChainState::acceptance(&mut chain),
            du: chain.u - u0,
            eps: chain.eps,
        };
        (chain.conf, stats)
    }
}
