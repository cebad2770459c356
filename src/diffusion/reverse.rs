//! Reverse-time SDE sampling with accumulation of the TI integrand (docs/design.md sec. 2;
//! Song et al., ICLR 2021). Euler-Maruyama with uniform steps from t = 1 to t = 0:
//!   y <- y + [c(t) y - g^2(t) grad_y u(y, t)] dt + sqrt(g^2(t) dt) z   (wrapped on the torus),
//! and along each trajectory J = sum_k (du/dt)(y_k, t_k) dt (rectangle rule at the step's start),
//! whose mean estimates int_0^1 < du/dt >_t dt = beta F(1) - beta F(0) = ln(Z_0 / Z_1)
//! (beta F(t) = -ln Z_t; for particles against the ideal gas this is -beta A_ex).
//! Trajectory i uses the stream (seed, Reverse, i): results do not depend on batching or ranks
//! as long as chunks are merged in trajectory order ([`ReverseRun::merge`]).

use super::corrector::{Corrector, CorrectorStats};
use crate::model::{Conf, EnergyModel};
use crate::rng::{stream, Purpose, Stream};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// Sums over a set of reverse-SDE trajectories (mergeable in a fixed order).
#[derive(Clone, Debug, Default)]
pub struct ReverseRun {
    /// Step times t_k (descending from 1).
    pub t: Vec<f64>,
    /// Sum over trajectories of du/dt at each step, split [prior, network].
    pub sum_terms: Vec<[f64; 2]>,
    /// Sum over trajectories of (du/dt)^2 at each step.
    pub sum_sq: Vec<f64>,
    /// Per-trajectory integrals J_i (rectangle rule, the paper's), in trajectory order.
    pub per_trajectory: Vec<f64>,
    /// Per-trajectory integrals by the trapezoid rule on the same grid (t = 0 end point included).
    pub per_trajectory_trap: Vec<f64>,
    /// Configurations recorded when the trajectories passed the requested snapshot times
    /// (first step with t_k <= t_snap), per snapshot time, in trajectory order.
    pub snapshots: Vec<Vec<Conf>>,
    /// Final configurations (t = 0), in trajectory order.
    pub samples: Vec<Conf>,
    /// Outcome of every corrector (crate::diffusion::corrector), summed over trajectories, in the
    /// order of `Corrector::times`; empty without correctors.
    pub corrector: Vec<CorrectorStats>,
}

impl ReverseRun {
    /// Number of trajectories.
    pub fn count(&self) -> usize {
        self.per_trajectory.len()
    }

    /// Appends the trajectories of `other` (which must follow this run's in trajectory order).
    pub fn merge(&mut self, other: ReverseRun) {
        if self.t.is_empty() {
            *self = other;
            return;
        }
        for (a, b) in self.sum_terms.iter_mut().zip(&other.sum_terms) {
            a[0] += b[0];
            a[1] += b[1];
        }
        for (a, b) in self.sum_sq.iter_mut().zip(&other.sum_sq) {
            *a += b;
        }
        self.per_trajectory.extend(other.per_trajectory);
        self.per_trajectory_trap.extend(other.per_trajectory_trap);
        self.samples.extend(other.samples);
        for (a, b) in self.snapshots.iter_mut().zip(other.snapshots) {
            a.extend(b);
        }
        for (a, b) in self.corrector.iter_mut().zip(&other.corrector) {
            a.add(b);
        }
    }

    /// Mean of du/dt at each step, split [prior, network].
    pub fn mean_terms(&self) -> Vec<[f64; 2]> {
        let m = self.count() as f64;
        self.sum_terms.iter().map(|s| [s[0] / m, s[1] / m]).collect()
    }

    /// Standard error of the mean of du/dt at each step.
    pub fn stderr(&self) -> Vec<f64> {
        let m = self.count() as f64;
        self.sum_terms
            .iter()
            .zip(&self.sum_sq)
            .map(|(s, q)| {
                let mu = (s[0] + s[1]) / m;
                ((q / m - mu * mu).max(0.0) / (m - 1.0).max(1.0)).sqrt()
            })
            .collect()
    }

    /// Estimate of ln(Z_0 / Z_1) = int < du/dt > dt by the rectangle rule (the paper's) and its
    /// standard error (independent trajectories).
    pub fn ln_z_ratio(&self) -> (f64, f64) {
        mean_se(&self.per_trajectory)
    }

    /// The same with the trapezoid rule.
    pub fn ln_z_ratio_trapezoid(&self) -> (f64, f64) {
        mean_se(&self.per_trajectory_trap)
    }

    /// Uncorrected windows: the quadrature sum_j w_j < du/dt >_{t_j} over the configurations recorded
    /// at the snapshot times (`nodes`, in the order they were requested), as the mean over trajectories
    /// of I_i = sum_j w_j (du/dt)(y_{i,j}, t_j), with the standard error of that mean. Snapshots at
    /// different nodes come from the same trajectories and are correlated, so the formula for
    /// independent windows, sqrt(sum_j w_j^2 se_j^2), does not apply; per-trajectory sums include the
    /// covariances (Var(sum_j w_j f_j) = sum_jl w_j w_l Cov(f_j, f_l)).
    pub fn snapshot_quadrature<M: EnergyModel + ?Sized>(
        &self,
        model: &M,
        nodes: &[f64],
        weights: &[f64],
    ) -> (f64, f64) {
        assert!(nodes.len() == weights.len() && nodes.len() == self.snapshots.len(), "one snapshot set per node");
        let mut per = vec![0.0; self.count()];
        for ((snap, &t), &w) in self.snapshots.iter().zip(nodes).zip(weights) {
            assert_eq!(snap.len(), per.len(), "snapshot count");
            for (p, (_, d)) in per.iter_mut().zip(model.grad_dt_batch(snap, t)) {
                *p += w * d.total();
            }
        }
        mean_se(&per)
    }
}

fn mean_se(v: &[f64]) -> (f64, f64) {
    let m = v.len() as f64;
    let mean = v.iter().sum::<f64>() / m;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0);
    (mean, (var / m).sqrt())
}

/// Draws a sample of the t = 1 prior: uniform on the torus or N(0, I).
pub fn prior_sample<M: EnergyModel + ?Sized>(model: &M, dim: usize, side: f64, rng: &mut Stream) -> Conf {
    let y = if model.schedule().periodic() {
        (0..dim).map(|_| rng.random::<f64>()).collect()
    } else {
        (0..dim)
            .map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                z
            })
            .collect()
    };
    Conf { y, side }
}

/// Settings of a reverse-SDE run: the space, the step count, the random streams, what to record
/// and the optional correctors. The results do not depend on `batch`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReverseSettings<'a> {
    /// Dimension of a configuration (3 N for particles).
    pub dim: usize,
    /// Box side (1 for the exact-answer systems).
    pub side: f64,
    /// Euler-Maruyama steps from t = 1 to t = 0.
    pub steps: usize,
    /// Brownian increments per step (>= 1): step k uses z = (z_1 + ... + z_r) / sqrt(r) from r
    /// consecutive standard normals of the trajectory's stream, drawn in the order a run with r times
    /// as many steps draws them. With r = 1 the path is the usual one. Runs with equal
    /// `steps * brownian_substeps` and seed share their Brownian paths (multilevel coupling, Giles,
    /// Oper. Res. 56, 607 (2008)).
    pub brownian_substeps: usize,
    /// Trajectories integrated together (one model call per step for the batch).
    pub batch: usize,
    /// Seed of the streams (seed, Reverse, i) of trajectory i.
    pub seed: u64,
    /// Times at which configurations are recorded ([`ReverseRun::snapshots`]; e.g. quadrature nodes).
    pub snapshots: &'a [f64],
    /// Metropolis-adjusted corrector steps (crate::diffusion::corrector) when a trajectory reaches
    /// each of `corrector.times` (before that step's predictor move and before any snapshot at the
    /// same step); none by default. The corrector of trajectory i, time c uses its own stream
    /// (seed, Corrector, (i << 8) + c), so the predictor's noise is the same with and without
    /// correctors.
    pub corrector: Corrector,
}

impl Default for ReverseSettings<'_> {
    /// One dimension in the unit box, the paper's 1000 steps with one Brownian increment each, batches
    /// of 256, seed 0, no snapshots and no correctors.
    fn default() -> Self {
        Self {
            dim: 1,
            side: 1.0,
            steps: 1000,
            brownian_substeps: 1,
            batch: 256,
            seed: 0,
            snapshots: &[],
            corrector: Corrector::default(),
        }
    }
}

/// Runs trajectories `first..first + count` with the settings `s`, `s.batch` trajectories at a time.
pub fn reverse_sde<M: EnergyModel + ?Sized>(model: &M, s: &ReverseSettings, first: u64, count: usize) -> ReverseRun {
    let n_steps = s.steps;
    let dt = 1.0 / n_steps as f64;
    let grid = ts_grid(n_steps);
    // Step index at which each snapshot or corrector is taken: the first k with t_k <= its time.
    let plan = Plan {
        s,
        snapshots: s.snapshots.iter().map(|&ts| ts_index(&grid, ts)).collect(),
        correctors: if s.corrector.active() {
            s.corrector.times.iter().map(|&tc| ts_index(&grid, tc)).collect()
        } else {
            vec![]
        },
    };
    let mut run = ReverseRun {
        t: (0..n_steps).map(|k| 1.0 - k as f64 * dt).collect(),
        sum_terms: vec![[0.0; 2]; n_steps],
        sum_sq: vec![0.0; n_steps],
        per_trajectory: Vec::with_capacity(count),
        per_trajectory_trap: Vec::with_capacity(count),
        snapshots: vec![Vec::new(); s.snapshots.len()],
        samples: Vec::with_capacity(count),
        corrector: plan.correctors.iter().map(|&k| CorrectorStats { t: grid[k], ..Default::default() }).collect(),
    };
    for b0 in (0..count).step_by(s.batch.max(1)) {
        let ids: Vec<u64> = (b0..(b0 + s.batch).min(count)).map(|i| first + i as u64).collect();
        run_batch(model, &plan, &ids, &mut run);
    }
    run
}

/// The settings with the grid steps at which snapshots are recorded and correctors run
/// (index n_steps = at t = 0).
struct Plan<'s, 'a> {
    s: &'s ReverseSettings<'a>,
    snapshots: Vec<usize>,
    correctors: Vec<usize>,
}

/// Integrates the trajectories `ids` together from t = 1 to t = 0 and appends them to `run`.
fn run_batch<M: EnergyModel + ?Sized>(model: &M, plan: &Plan, ids: &[u64], run: &mut ReverseRun) {
    let s = plan.s;
    let n_steps = s.steps;
    let dt = 1.0 / n_steps as f64;
    let sched = model.schedule();
    let mut rngs: Vec<Stream> = ids.iter().map(|&i| stream(s.seed, Purpose::Reverse, i)).collect();
    let mut cs: Vec<Conf> = rngs.iter_mut().map(|r| prior_sample(model, s.dim, s.side, r)).collect();
    let mut j = vec![0.0; cs.len()];
    let mut trap = vec![0.0; cs.len()];
    let r = s.brownian_substeps.max(1);
    let mut z = vec![0.0; s.dim];
    for k in 0..n_steps {
        let t = run.t[k];
        run_correctors(model, plan, k, t, &mut cs, ids, &mut run.corrector);
        take_snapshots(plan, k, &cs, &mut run.snapshots);
        let out = model.grad_dt_batch(&cs, t);
        let (c, g2) = (sched.drift(t), sched.g2(t));
        let noise = (g2 * dt).sqrt();
        for (i, (g, terms)) in out.into_iter().enumerate() {
            let v = terms.total();
            j[i] += v * dt;
            trap[i] += if k == 0 { 0.5 * v * dt } else { v * dt };
            run.sum_terms[k][0] += terms.prior;
            run.sum_terms[k][1] += terms.network;
            run.sum_sq[k] += v * v;
            brownian_increment(&mut rngs[i], r, &mut z);
            let y = &mut cs[i].y;
            for ((yk, gk), zk) in y.iter_mut().zip(&g).zip(&z) {
                *yk += (c * *yk - g2 * gk) * dt + noise * zk;
                if sched.periodic() {
                    *yk -= yk.floor();
                }
            }
        }
    }
    run_correctors(model, plan, n_steps, 0.0, &mut cs, ids, &mut run.corrector);
    // Trapezoid end point at t = 0.
    for (i, (_, terms)) in model.grad_dt_batch(&cs, 0.0).into_iter().enumerate() {
        trap[i] += 0.5 * terms.total() * dt;
    }
    take_snapshots(plan, n_steps, &cs, &mut run.snapshots);
    run.per_trajectory.extend(j);
    run.per_trajectory_trap.extend(trap);
    run.samples.extend(cs);
}

/// Fills `z` (one entry per coordinate) with the standardised sum of `r` Brownian increments:
/// r rounds of one standard normal per coordinate, z = (sum of the rounds) / sqrt(r). With r = 1
/// this is one normal per coordinate, as a run with r times as many steps draws at each step.
fn brownian_increment(rng: &mut Stream, r: usize, z: &mut [f64]) {
    for zk in z.iter_mut() {
        *zk = StandardNormal.sample(rng);
    }
    if r > 1 {
        for _ in 1..r {
            for zk in z.iter_mut() {
                let d: f64 = StandardNormal.sample(rng);
                *zk += d;
            }
        }
        let scale = 1.0 / (r as f64).sqrt();
        z.iter_mut().for_each(|zk| *zk *= scale);
    }
}

/// Runs every corrector due at grid step `k` (time `t`) on the configurations `cs` of the
/// trajectories `ids`, adding its outcome to `stats`.
fn run_correctors<M: EnergyModel + ?Sized>(
    model: &M,
    plan: &Plan,
    k: usize,
    t: f64,
    cs: &mut [Conf],
    ids: &[u64],
    stats: &mut [CorrectorStats],
) {
    for (c, &kc) in plan.correctors.iter().enumerate() {
        if kc == k {
            for (conf, &id) in cs.iter_mut().zip(ids) {
                let (new, st) = plan.s.corrector.run(model, conf, t, plan.s.seed, id, c);
                *conf = new;
                stats[c].add(&st);
            }
        }
    }
}

/// Records the configurations `cs` for every snapshot due at grid step `k`.
fn take_snapshots(plan: &Plan, k: usize, cs: &[Conf], snapshots: &mut [Vec<Conf>]) {
    for (snap, &ks) in snapshots.iter_mut().zip(&plan.snapshots) {
        if ks == k {
            snap.extend(cs.iter().cloned());
        }
    }
}

/// The step times t_k = 1 - k / n, k = 0..n (t_n = 0).
fn ts_grid(n: usize) -> Vec<f64> {
    (0..=n).map(|k| 1.0 - k as f64 / n as f64).collect()
}

/// First index k with t_k <= t (n if none before the end).
fn ts_index(grid: &[f64], t: f64) -> usize {
    grid.iter().position(|&g| g <= t + 1e-12).unwrap_or(grid.len() - 1)
}
