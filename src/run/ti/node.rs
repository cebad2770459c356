//! One Metropolis-corrected window of `nti ti` (quadrature node j at time t_j for one N): where its
//! chains start ([`super::starts`]), the window run ([`crate::diffusion::windows`]), and the flat
//! buffers that carry its results to rank 0: the row of `/ti/N<n>/windows` ([`WINDOW_COLUMNS`]), the
//! per-sample split for the attribution, and the recorded du/dt series of every chain.

use super::starts::{from_data, start_z, DataStarts, StartGrid};
use super::WINDOW_TRAJ_BASE;
use crate::config::{GenerateConfig, TiConfig};
use crate::diffusion::reverse::{reverse_sde, ReverseSettings};
use crate::diffusion::windows::{WindowProgress, WindowRun, WindowSettings};
use crate::estimators::window_mbar::WindowEnergies;
use crate::model::ParticleModel;
use crate::run::generate::reverse_seed;
use crate::state_buf::SafePointFn;

/// Per-window record: t, weight, corrected mean/stderr/stat. ineff./acceptance/eps, prior and network
/// parts, uncorrected mean/stderr, configurational temperature (and stderr) of the window chains and
/// of the reverse-SDE samples at the node, the z of the identity <|grad u|^2> = <laplacian u> for
/// both, the number of chains started from data and the z of their disagreement with the
/// reverse-SDE-started chains ([`super::starts`]; NaN unless both kinds ran), the drift z of the
/// production run (first against second half of the kept part;
/// [`crate::diffusion::windows::WindowResult::drift_z`]) and the fraction of the recorded samples
/// discarded as the chains' equilibration (`[ti] window_discard`); with `[ti] window_stein_probes`
/// the mean, stderr and statistical inefficiency of the Stein-controlled samples and the fitted
/// coefficient ([`crate::diffusion::stein`]; 1 for an exact model; NaN without), and the number of
/// recorded samples (all chains; `[ti] window_pilot` makes it differ between windows).
pub(crate) type WindowRow = [f64; 26];

/// Names of the [`WindowRow`] columns in /ti/N<n>/windows.
pub(crate) const WINDOW_COLUMNS: [&str; 26] = [
    "t",
    "weight",
    "mean",
    "stderr",
    "statistical_inefficiency",
    "acceptance",
    "mala_eps",
    "mean_prior",
    "mean_network",
    "uncorrected_mean",
    "uncorrected_stderr",
    "conf_temperature",
    "conf_temperature_stderr",
    "uncorrected_conf_temperature",
    "uncorrected_conf_temperature_stderr",
    "conf_temperature_z",
    "uncorrected_conf_temperature_z",
    "data_start_chains",
    "start_z",
    "drift_z",
    "discarded_fraction",
    "stein_mean",
    "stein_stderr",
    "stein_statistical_inefficiency",
    "stein_coefficient",
    "recorded_samples",
];

/// What one window sends to rank 0 (flat buffers, first element the window index j).
pub(super) struct NodeBuffers {
    /// [j, mean, stderr, stat. ineff., acceptance, eps, mean prior, mean network, T_conf, its stderr,
    /// its z, data-started chains, start z, drift z, discarded fraction, Stein mean, stderr, stat.
    /// ineff., coefficient, recorded samples].
    pub row: Vec<f64>,
    /// [j, NodeSamples::to_buffer()].
    pub split: Vec<f64>,
    /// [j, chains, samples per chain, the du/dt series chain by chain].
    pub series: Vec<f64>,
    /// [j] alone without `[ti] window_mbar`, else [j, [`WindowEnergies::to_buffer`]]: the reduced
    /// energies of the recorded samples at the times of MBAR over the windows.
    pub energies: Vec<f64>,
}

/// The run-wide inputs of the windows at one N.
pub(super) struct NodeContext<'a> {
    pub model: &'a dyn ParticleModel,
    pub n: usize,
    pub side: f64,
    pub generate: &'a GenerateConfig,
    pub ti: &'a TiConfig,
    pub seed: u64,
    pub data: &'a DataStarts,
    pub edges: &'a [f64],
    /// Number of quadrature nodes.
    pub nodes: usize,
    /// Times at which the recorded samples' energies are evaluated for MBAR over the windows
    /// (crate::estimators::window_mbar::mbar_times; empty without `[ti] window_mbar`).
    pub energy_at: &'a [f64],
    /// Production steps per window (`[ti] window_pilot`).
    pub alloc: &'a super::Allocation,
}

/// Runs window j at time t: starts (data-noised frames or reverse-SDE trajectories stopped at t),
/// chains, and the buffers for rank 0. With `resume` (the window's state saved by an interrupted
/// run) it continues from there, starts included; `safe_point` is called after every chain step
/// ([`WindowRun::run`]); `None` when the window stopped there.
pub(super) fn run_node(
    cx: &NodeContext,
    j: usize,
    t: f64,
    resume: Option<WindowProgress>,
    safe_point: &mut SafePointFn,
) -> anyhow::Result<Option<NodeBuffers>> {
    let (model, n, ti) = (cx.model, cx.n, cx.ti);
    let has_data = cx.data.has(n);
    let use_data: Vec<bool> = (0..ti.window_chains).map(|c| has_data && from_data(ti.window_start, c)).collect();
    let rseed = reverse_seed(cx.seed, n);
    let progress = match resume {
        Some(p) => p,
        None => WindowProgress::start(&chain_starts(cx, j, t, &use_data)),
    };
    let s = WindowSettings {
        sampler: ti.window_sampler,
        leapfrog: ti.hmc_leapfrog,
        warmup: ti.window_warmup,
        steps: cx.alloc.steps(n, j),
        stride: ti.window_stride,
        eps: ti.mala_eps,
        target_acceptance: ti.target_acceptance,
        tconf_every: ti.tconf_every,
        discard: ti.window_discard,
        stein_probes: ti.window_stein_probes,
    };
    let run = WindowRun { model, t, s: &s, seed: rseed, id: j as u64, edges: Some(cx.edges), energy_at: cx.energy_at };
    let Some(w) = run.run(progress, safe_point)? else { return Ok(None) };
    let chains = ti.window_chains;

    let kept: usize = w.chains.iter().map(|e| e.n_samples).sum();
    let dropped: usize = w.discarded.iter().sum();
    let frac = dropped as f64 / (kept + dropped).max(1) as f64;
    log::info!(
        "N = {n}: window t = {t:.4}: <du/dt> = {:.4} ± {:.4}, acceptance {:.2}, T_conf {:.3} ± {:.3}{}",
        w.total.mean,
        w.total.stderr,
        w.acceptance,
        w.tconf.value,
        w.tconf.stderr,
        if dropped > 0 { format!(", discarded {:.0} % as equilibration", 100.0 * frac) } else { String::new() }
    );
    let mut split = vec![j as f64];
    split.extend(w.split.to_buffer());
    let per_chain = w.series.len() / chains.max(1);
    let mut series = vec![j as f64, chains as f64, per_chain as f64];
    series.extend_from_slice(&w.series);
    let mut row = vec![
        j as f64,
        w.total.mean,
        w.total.stderr,
        w.total.stat_ineff,
        w.acceptance,
        w.eps,
        w.mean_terms[0],
        w.mean_terms[1],
        w.tconf.value,
        w.tconf.stderr,
        w.tconf.z,
        use_data.iter().filter(|d| **d).count() as f64,
        start_z(
            &w.chains.iter().map(|e| e.mean).collect::<Vec<_>>(),
            &w.chains.iter().map(|e| e.stderr).collect::<Vec<_>>(),
            &use_data,
        ),
        w.drift_z,
        frac,
    ];
    row.extend(match &w.stein {
        Some((e, a)) => {
            log::info!(
                "N = {n}: window t = {t:.4}: Stein-controlled <du/dt> = {:.4} ± {:.4} (coefficient {a:.3}; 1 for a model that obeys the Fokker-Planck equation)",
                e.mean,
                e.stderr
            );
            [e.mean, e.stderr, e.stat_ineff, *a]
        }
        None => [f64::NAN; 4],
    });
    row.push(w.series.len() as f64);
    let mut energies = vec![j as f64];
    if !cx.energy_at.is_empty() {
        let e = WindowEnergies {
            per_chain: vec![per_chain; chains],
            discarded: w.discarded.clone(),
            stat_ineff: w.total.stat_ineff,
            u: w.energies,
        };
        energies.extend(e.to_buffer());
    }
    Ok(Some(NodeBuffers { row, split, series, energies }))
}

/// The starting configurations of window j's chains: data-noised frames where `use_data`, else
/// reverse-SDE trajectories stopped at t.
fn chain_starts(cx: &NodeContext, j: usize, t: f64, use_data: &[bool]) -> Vec<crate::model::Conf> {
    let (model, n, ti) = (cx.model, cx.n, cx.ti);
    let n_rev = use_data.iter().filter(|d| !**d).count();
    let first = WINDOW_TRAJ_BASE + (j * ti.window_chains) as u64;
    let rseed = reverse_seed(cx.seed, n);
    let mut warm = if n_rev > 0 {
        let s = ReverseSettings {
            dim: 3 * n,
            side: cx.side,
            steps: cx.generate.steps,
            brownian_substeps: cx.generate.brownian_substeps(),
            batch: n_rev,
            seed: rseed,
            snapshots: &[t],
            corrector: cx.generate.corrector(),
        };
        reverse_sde(model, &s, first, n_rev).snapshots.swap_remove(0).into_iter()
    } else {
        Vec::new().into_iter()
    };
    let grid = StartGrid { windows: cx.nodes, chains: ti.window_chains, seed: rseed };
    use_data
        .iter()
        .enumerate()
        .map(|(c, &d)| match d {
            true => cx.data.start(model, n, t, &grid, j, c).expect("data for this N"),
            false => warm.next().expect("one reverse-SDE start per reverse chain"),
        })
        .collect()
}
