//! Metropolis-corrected TI windows: at quadrature nodes t_j, MALA or HMC chains on exp(-u(., t_j)),
//! warm-started from reverse-SDE samples, measure < du/dt >_{t_j} without the reverse SDE's bias.
//! The integral int_0^1 < du/dt > dt = ln(Z_0 / Z_1) is then sum_j w_j <du/dt>_j with error
//! sqrt(sum_j w_j^2 se_j^2) (windows are independent). Per window: block-averaged standard error,
//! statistical inefficiency (2 tau_int) and acceptance; and the per-sample split of du/dt into terms
//! (and pair-distance shells) for the attribution of the free energy (crate::estimators::attribution);
//! and the configurational temperature of the production samples (a check of the sampler).

use super::consistency::{ConfTemperature, ConfTemperatureSamples};
use super::stein::{controlled, fp_term, stein_coefficient};
use super::window_state::CHAIN_STATE;
pub use super::window_state::{ChainProgress, ChainRecord, WindowProgress};
use crate::estimators::attribution::{chain_blocks, NodeSamples};
use crate::estimators::autocorr::PooledCorrelation;
use crate::estimators::equilibration::detect_equilibration;
pub use crate::estimators::equilibration::WindowDiscard;
use crate::estimators::{block_average, BlockEstimate};
use crate::model::{Conf, EnergyModel};
use crate::rng::{splitmix64, stream, Purpose};
use crate::sampling::chain::{new_chain, ChainKind};
use crate::state_buf::{SafePointFn, StateReader, StateWriter};

/// Settings of a window.
#[derive(Clone, Copy, Debug)]
pub struct WindowSettings {
    /// The chain: MALA or HMC (crate::sampling::chain).
    pub sampler: ChainKind,
    /// HMC leapfrog steps per proposal (gradient evaluations per step; unused by MALA).
    pub leapfrog: usize,
    /// Warm-up steps (step size adapted, discarded); a step is one proposal.
    pub warmup: usize,
    /// Production steps.
    pub steps: usize,
    /// Record du/dt every `stride` steps.
    pub stride: usize,
    /// Initial step-size parameter eps (the MALA step; HMC's leapfrog step is sqrt(2 eps)).
    pub eps: f64,
    /// Target acceptance during warm-up.
    pub target_acceptance: f64,
    /// Measure the configurational temperature every this many production steps (0 = never);
    /// its probe directions come from their own stream, so the chains do not depend on it.
    pub tconf_every: usize,
    /// Start of each chain's production discarded before averaging (none, or Chodera's automatic
    /// detection over t0 = k T / 100, k <= 50; crate::estimators::equilibration). The chains, the
    /// stored series and T_conf (over the whole production) do not depend on it.
    pub discard: WindowDiscard,
    /// Rademacher probes of the Fokker-Planck control variate per recorded sample (0 = off;
    /// [`super::stein`]); one gradient evaluation each, from their own streams, so the chains do
    /// not depend on it.
    pub stein_probes: usize,
}

/// Fewest kept samples (all chains) for the control-variate estimate: its coefficient is fitted to
/// the same samples, which makes the error bar too small by O(1/n) (with 2 samples the fit is exact
/// and the error 0). Windows with fewer report none.
pub const MIN_STEIN_SAMPLES: usize = 20;

/// Candidate grid of the automatic discard: t0 = k T / 100.
const DISCARD_GRID: usize = 100;

/// Result of one window.
#[derive(Clone, Debug)]
pub struct WindowResult {
    /// Window time t_j.
    pub t: f64,
    /// Mean du/dt split [prior, network] and their block estimate of the total.
    pub mean_terms: [f64; 2],
    /// Block-averaged estimate of the total du/dt (mean, stderr, statistical inefficiency).
    pub total: BlockEstimate,
    /// Mean acceptance in production.
    pub acceptance: f64,
    /// Final step size.
    pub eps: f64,
    /// Configurational temperature of the production samples ([`super::consistency`]; 1 within
    /// its error for chains that sample exp(-u(., t))); NaN without measurements.
    pub tconf: ConfTemperature,
    /// Drift check of the production run (Geweke 1992): z of the change of the chains' mean du/dt
    /// from the first to the second half of production ([`drift_z`]). About N(0, 1) for chains that
    /// sample exp(-u(., t)) from the start of production; large for chains still relaxing, even when
    /// every chain relaxes the same way (which the spread of chain means and `start_z` cannot see).
    /// NaN when a chain has fewer than 4 kept samples.
    pub drift_z: f64,
    /// With `stein_probes`: the block estimate of <du/dt> from the controlled samples
    /// du/dt + a F ([`super::stein`]) and the coefficient a (1 for an exact model); `None` without,
    /// or with fewer than [`MIN_STEIN_SAMPLES`] kept samples.
    pub stein: Option<(BlockEstimate, f64)>,
    /// Block estimate of du/dt of every chain (its kept part), in chain order.
    pub chains: Vec<BlockEstimate>,
    /// Recorded total du/dt series of every chain over the whole production (including any discarded
    /// start), concatenated chain by chain.
    pub series: Vec<f64>,
    /// u(x, s) of every recorded sample at every time s of [`WindowRun::energy_at`] (sample by
    /// sample, in the order of `series`; empty without those times).
    pub energies: Vec<f64>,
    /// Recorded samples discarded from the start of every chain's production (all 0 without
    /// `discard`); the estimates, the drift check and `split` use the rest.
    pub discarded: Vec<usize>,
    /// The recorded samples split into terms [prior, network], per particle and (with shell edges)
    /// per shell, in the order of `series`; weight 1 (the caller sets the quadrature weight).
    /// Bootstrap units: blocks of about ceil(statistical inefficiency) samples within each chain.
    pub split: NodeSamples,
}

/// Runs window `id` at time `t` with one chain per starting configuration; with shell `edges`
/// (sigma; see [`EnergyModel::dt_terms_shells`]) every recorded du/dt is also split into
/// pair-distance shells. The chains, and so every other output, are the same with and without shells.
pub fn run_window<M: EnergyModel + ?Sized>(
    model: &M,
    t: f64,
    starts: &[Conf],
    s: &WindowSettings,
    seed: u64,
    id: u64,
    edges: Option<&[f64]>,
) -> WindowResult {
    WindowRun { model, t, s, seed, id, edges, energy_at: &[] }.run_to_end(starts)
}

/// One window's fixed inputs (see [`run_window`]).
pub struct WindowRun<'a, M: ?Sized> {
    /// The model.
    pub model: &'a M,
    /// Window time.
    pub t: f64,
    /// Settings.
    pub s: &'a WindowSettings,
    /// Seed of the chains' streams.
    pub seed: u64,
    /// Window id (part of the streams' keys).
    pub id: u64,
    /// Shell edges of the attribution, if any.
    pub edges: Option<&'a [f64]>,
    /// Times s at which every recorded sample's reduced energy u(x, s) is also evaluated (for MBAR
    /// over the windows, crate::estimators::window_mbar); empty for none. Energies only: the
    /// chains are the same either way.
    pub energy_at: &'a [f64],
}

impl<M: EnergyModel + ?Sized> WindowRun<'_, M> {
    /// Runs the window from these chain starts to its end (no stops).
    pub fn run_to_end(&self, starts: &[Conf]) -> WindowResult {
        let mut never = |_: &dyn Fn() -> Vec<f64>| Ok(false);
        self.run(WindowProgress::start(starts), &mut never).expect("never stops").expect("finished")
    }

    /// Runs the window from `progress` (its start, or a state saved by an interrupted run). After
    /// every chain step it calls `safe_point(state)`, where `state()` builds the window's state
    /// ([`WindowProgress::write_parts`]); when that returns true the window stops and returns `None`.
    /// Resumed, the window is bitwise the uninterrupted one.
    pub fn run(&self, progress: WindowProgress, safe_point: &mut SafePointFn) -> anyhow::Result<Option<WindowResult>> {
        let (model, t, s, seed, id) = (self.model, self.t, self.s, self.seed, self.id);
        let WindowProgress { starts, mut finished, mut current } = progress;
        for c in finished.len()..starts.len() {
            let mut chain = new_chain(s.sampler, model, starts[c].clone(), t, s.eps, s.leapfrog);
            let key = (id << 20) + c as u64;
            let mut cur = match current.take() {
                Some(cur) => {
                    chain.restore(&mut StateReader::new(&cur.chain, CHAIN_STATE, 1)?)?;
                    cur
                }
                None => {
                    if s.warmup == 0 {
                        chain.reset_counters();
                    }
                    ChainProgress {
                        chain: Vec::new(),
                        rng: stream(seed, Purpose::Window, key),
                        probe: stream(seed, Purpose::ConfTemperature, key),
                        steps: 0,
                        record: ChainRecord::default(),
                    }
                }
            };
            while cur.steps < s.warmup + s.steps {
                chain.step(model, &mut cur.rng);
                cur.steps += 1;
                let k = cur.steps;
                if k <= s.warmup {
                    if k % 20 == 0 {
                        chain.adapt(s.target_acceptance);
                    }
                    if k == s.warmup {
                        chain.reset_counters();
                    }
                } else {
                    let k = k - s.warmup;
                    if s.tconf_every > 0 && k % s.tconf_every == 0 {
                        // The chain carries grad u at its configuration: one gradient evaluation saved.
                        cur.record.tconf.push_at(model, chain.conf(), chain.grad(), t, &mut cur.probe);
                    }
                    if k % s.stride.max(1) == 0 {
                        let (d, shells) = match self.edges {
                            Some(e) => model.dt_terms_shells(chain.conf(), t, e),
                            None => (model.dt_terms(chain.conf(), t), None),
                        };
                        cur.record.x.push(d.total());
                        if s.stein_probes > 0 {
                            let mut probe = stream(seed, Purpose::SteinProbe, splitmix64(key).wrapping_add(k as u64));
                            let st = fp_term(model, chain.conf(), chain.grad(), t, s.stein_probes, &mut probe);
                            cur.record.stein.push(st);
                        }
                        cur.record.recorded.push((d, shells));
                        cur.record.u.extend(self.energy_at.iter().map(|&s| model.energy(chain.conf(), s)));
                    }
                }
                let state = || {
                    let mut w = StateWriter::new(CHAIN_STATE, 1);
                    chain.save(&mut w);
                    WindowProgress::write_parts(&starts, &finished, Some((&cur, &w.finish())))
                };
                if safe_point(&state)? {
                    return Ok(None);
                }
            }
            cur.record.acceptance = chain.acceptance();
            cur.record.eps = chain.eps();
            finished.push(cur.record);
        }
        Ok(Some(self.estimate(&finished)))
    }

    /// The window's estimates from its chains' records, chain by chain in order.
    fn estimate(&self, records: &[ChainRecord]) -> WindowResult {
        let (t, s) = (self.t, self.s);
        let mut split = NodeSamples::new(t, 1.0, 2);
        let mut chain_lens = Vec::with_capacity(records.len());
        let (mut sp, mut sn) = (0.0, 0.0);
        let (mut acc, mut eps_sum) = (0.0, 0.0);
        let mut series = Vec::new();
        let mut energies = Vec::new();
        let mut tconf = ConfTemperatureSamples::default();
        let mut kept = Vec::with_capacity(records.len());
        let mut kept_stein = Vec::with_capacity(records.len());
        let mut discarded = Vec::with_capacity(records.len());
        for rec in records {
            tconf.extend(&rec.tconf);
            acc += rec.acceptance;
            eps_sum += rec.eps;
            let x = &rec.x;
            series.extend_from_slice(x);
            energies.extend_from_slice(&rec.u);
            let t0 = match s.discard {
                WindowDiscard::None => 0,
                WindowDiscard::Auto => detect_equilibration(x, DISCARD_GRID).t0,
            };
            discarded.push(t0);
            for (d, shells) in &rec.recorded[t0..] {
                split.push_terms(d, shells.as_ref());
                sp += d.prior;
                sn += d.network;
            }
            chain_lens.push(x.len() - t0);
            kept.push(x[t0..].to_vec());
            if rec.stein.len() == x.len() {
                kept_stein.push(rec.stein[t0..].to_vec());
            }
        }
        let kept: Vec<&[f64]> = kept.iter().map(Vec::as_slice).collect();
        let n_kept: usize = kept.iter().map(|c| c.len()).sum();
        let stein = (s.stein_probes > 0 && kept_stein.len() == kept.len() && n_kept >= MIN_STEIN_SAMPLES).then(|| {
            let st: Vec<&[f64]> = kept_stein.iter().map(Vec::as_slice).collect();
            let a = stein_coefficient(&kept, &st);
            let y = controlled(&kept, &st, a);
            let p = PooledCorrelation::of(&y.iter().map(Vec::as_slice).collect::<Vec<_>>());
            let per_chain: Vec<BlockEstimate> = y.iter().map(|c| chain_estimate(c, &p)).collect();
            (between_chain_checked(t, &per_chain, "Stein-controlled "), a)
        });
        let pooled = PooledCorrelation::of(&kept);
        let per_chain: Vec<BlockEstimate> = kept.iter().map(|x| chain_estimate(x, &pooled)).collect();
        let total = between_chain_checked(t, &per_chain, "");
        let m = chain_lens.iter().sum::<usize>().max(1) as f64;
        let g = if total.stat_ineff.is_finite() { total.stat_ineff.ceil().max(1.0) as usize } else { 1 };
        split.units = chain_blocks(&chain_lens, g);
        WindowResult {
            t,
            mean_terms: [sp / m, sn / m],
            total,
            acceptance: acc / records.len() as f64,
            eps: eps_sum / records.len() as f64,
            tconf: tconf.estimate(),
            stein,
            drift_z: drift_z(&kept, &PooledCorrelation::of_residuals(&kept)),
            chains: per_chain,
            series,
            energies,
            discarded,
            split,
        }
    }
}

/// The window's estimate from its chains' estimates ([`crate::estimators::combine_replicas`]).
/// Chains that have not mixed (short runs, warm starts still relaxing) make the within-chain block
/// errors too small; the spread of the chain means, sd(means)/sqrt(C), catches that. When it exceeds
/// twice the within-chain error (for mixed chains a chi^2_{C-1}/(C-1) > 4 event, p < 0.01 at C = 4)
/// the chains disagree beyond their own errors: the between-chain error is used, with a warning
/// about the `what` series.
fn between_chain_checked(t: f64, per_chain: &[BlockEstimate], what: &str) -> BlockEstimate {
    let mut total = crate::estimators::combine_replicas(per_chain);
    let c = per_chain.len();
    if c >= 2 {
        let mbar = per_chain.iter().map(|e| e.mean).sum::<f64>() / c as f64;
        let var = per_chain.iter().map(|e| (e.mean - mbar).powi(2)).sum::<f64>() / (c as f64 - 1.0);
        let between = (var / c as f64).sqrt();
        if between > 2.0 * total.stderr {
            log::warn!(
                "window t = {t:.4}: the {c} chains' {what}du/dt disagree (between-chain error {between:.3e} > 2 x \
                 within-chain {:.3e}); using the between-chain error. Longer window_warmup/window_steps would help.",
                total.stderr
            );
            total.stderr = between;
        }
    }
    total
}

/// Block estimate of one chain's mean, with the statistical inefficiency raised to the window's
/// pooled autocorrelation estimate where that is larger: block averaging resolves inefficiencies up
/// to about n / 64 only (crate::estimators::autocorr), so a short chain's block error alone is too
/// small, and the chains would seem to disagree beyond their errors.
fn chain_estimate(x: &[f64], pooled: &PooledCorrelation) -> BlockEstimate {
    let mut e = block_average(x);
    let below = e.stat_ineff.is_nan() || e.stat_ineff < pooled.stat_ineff;
    if pooled.stat_ineff.is_finite() && below && x.len() >= 2 {
        e.stat_ineff = pooled.stat_ineff;
        e.stderr = pooled.stderr_of_mean(x.len());
    }
    e
}

/// The drift z of a window's chains (each its kept production): d = sum_c (m2_c - m1_c) over the
/// chains' second and first halves, divided by its standard error sqrt(sum_c s^2 g (1/h1_c +
/// 1/h2_c)), where s^2 and g describe the chains' fluctuations about their common mean path
/// ([`PooledCorrelation::of_residuals`], so a relaxation the chains share counts in d only).
/// Block errors of the halves themselves, used before, do no blocking for halves under 64 samples
/// and were too small by about sqrt(g): up to 7x at the quickstart's small-t windows
/// (validation/README.md, "Window drift"). NaN when a chain has fewer than 4 samples or the chains
/// do not fluctuate.
pub fn drift_z(chains: &[&[f64]], pooled: &PooledCorrelation) -> f64 {
    if chains.is_empty() || chains.iter().any(|c| c.len() < 4) {
        return f64::NAN;
    }
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let (mut d, mut inv_n) = (0.0, 0.0);
    for c in chains {
        let (a, b) = c.split_at(c.len() / 2);
        d += mean(b) - mean(a);
        inv_n += 1.0 / a.len() as f64 + 1.0 / b.len() as f64;
    }
    let se = (pooled.variance * pooled.stat_ineff * inv_n).sqrt();
    if se > 0.0 {
        d / se
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};

    /// `c` AR(1) series of `n` samples, coefficient `phi`, unit stationary variance, each started
    /// at `x0` (in units of the stationary sd), or in equilibrium (its own N(0, 1) draw) without.
    fn chains(seed: u64, c: usize, n: usize, phi: f64, x0: Option<f64>) -> Vec<Vec<f64>> {
        (0..c)
            .map(|k| {
                let mut r = stream(seed, Purpose::ToyData, k as u64);
                let start = x0.unwrap_or_else(|| rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut r));
                crate::estimators::block::ar1_from(&mut r, n, phi, start)
            })
            .collect()
    }

    fn z_of(x: &[Vec<f64>]) -> f64 {
        let refs: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
        drift_z(&refs, &PooledCorrelation::of_residuals(&refs))
    }

    /// <z^2> and the count of |z| > 3 over `m` seeds of stationary chains.
    fn z_spread(m: u64, c: usize, n: usize, phi: f64) -> (f64, usize) {
        let z: Vec<f64> = (0..m).map(|seed| z_of(&chains(1000 + seed, c, n, phi, None))).collect();
        (z.iter().map(|v| v * v).sum::<f64>() / m as f64, z.iter().filter(|v| v.abs() > 3.0).count())
    }

    #[test]
    fn drift_z_of_short_correlated_stationary_chains_is_standard_normal() {
        // The quickstart's windows: 2 chains x 100 recorded samples, and the default 4 chains, with
        // statistical inefficiency g = (1 + phi) / (1 - phi) = 19 at phi = 0.9 (measured at small t:
        // 10-30). Chains started in equilibrium: z must be about N(0, 1) across seeds. Block
        // errors of the 50-sample halves (no blocking), the statistic before, gave <z^2> ~ g = 19
        // and |z| > 3 in about half the seeds. With 2 chains the variance about the mean path has
        // few degrees of freedom per step, so z has heavier tails (<z^2> ~ 1.4, P(|z| > 3) ~ 0.03
        // in 1000 simulated seeds); over 400 seeds the sampling sd of <z^2> is about 0.1.
        let (z2, beyond3) = z_spread(400, 2, 100, 0.9);
        assert!((0.75..1.8).contains(&z2), "2 chains: <z^2> = {z2}");
        assert!(beyond3 <= 24, "2 chains: {beyond3} of 400 |z| > 3");
        let (z2, beyond3) = z_spread(400, 4, 100, 0.9);
        assert!((0.75..1.35).contains(&z2), "4 chains: <z^2> = {z2}");
        assert!(beyond3 <= 8, "4 chains: {beyond3} of 400 |z| > 3 (N(0, 1): about 1)");
    }

    #[test]
    fn drift_z_flags_chains_that_relax_alike_from_their_start() {
        // 4 chains started 20 sd away relax with tau ~ 10 samples, all the same way: the check
        // exists for these. Errors from the chains' own autocorrelation would count the relaxation
        // as slow correlation and flag none of them (simulated: 0 of 200).
        let flagged = (0..40).filter(|&s| z_of(&chains(2000 + s, 4, 100, 0.9, Some(20.0))).abs() > 3.0).count();
        assert!(flagged >= 36, "only {flagged} of 40 relaxing sets of chains flagged");
    }

    #[test]
    fn short_chain_errors_are_raised_to_the_pooled_inefficiency() {
        // 100 samples with g = 19: block averaging stops at one level (s ~ 2); the chain's error
        // must follow the pooled estimate instead, within the estimate's own noise.
        let x = chains(3000, 4, 100, 0.9, None);
        let refs: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
        let pooled = PooledCorrelation::of(&refs);
        for c in &refs {
            let (b, e) = (block_average(c), chain_estimate(c, &pooled));
            assert!(b.stat_ineff < 4.0, "block s = {}", b.stat_ineff);
            assert!(e.stat_ineff > 8.0, "raised s = {}", e.stat_ineff);
            assert!((e.stderr - pooled.stderr_of_mean(c.len())).abs() < 1e-12);
        }
    }
}
