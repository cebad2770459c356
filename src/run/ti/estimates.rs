//! Rank 0's estimates of one N of `nti ti` from the gathered work items: the windows (uncorrected
//! quadrature over the reverse-SDE snapshots, Metropolis-corrected windows, the reverse SDE corrected
//! by them), their convergence checks and attributions; and annealed importance sampling.

use super::attribution::{attribute_windows, scalar_results, TiAttribution};
use super::checks::{max_z_summary, quadrature_error, tconf_summary};
use super::{mean_se, Items, Plan, WindowRow};
use crate::diffusion::ais::AisRun;
use crate::diffusion::consistency::{conf_temperature, ConfTemperature};
use crate::estimators::attribution::{NodeSamples, Resampling};
use crate::estimators::quadrature::Quadrature;
use crate::estimators::window_mbar::WindowMbar;
use crate::io::ScalarResult;
use crate::parallel::unpack;
use crate::rng::{stream, Purpose};
use crate::run::generate::reverse_seed;
use anyhow::Result;

/// A beta*A_ex result of one N from (method, value, stderr).
type ResultFn<'a> = dyn Fn(&str, f64, f64) -> ScalarResult + 'a;

/// The windows of one N node by node, in node order.
struct NodeTable {
    /// Gathered window rows sorted by window index (module `node`).
    rows: Vec<Vec<f64>>,
    /// The rows of /ti/N<n>/windows.
    windows: Vec<WindowRow>,
    /// Per-sample splits of the corrected windows (weight w_j) and of the reverse-SDE snapshots.
    mala_nodes: Vec<NodeSamples>,
    unc_nodes: Vec<NodeSamples>,
    /// du/dt of every reverse-SDE snapshot at every node, in trajectory order.
    node_vals: Vec<Vec<f64>>,
    /// sum_j w_j <du/dt>_j of the corrected windows, its variance, and the uncorrected sum.
    corr: f64,
    corr_var: f64,
    unc: f64,
}

/// Combines the gathered window rows and splits with the reverse-SDE snapshots at the nodes of `q`.
fn node_table(plan: &Plan, n: usize, q: &Quadrature, items: &Items) -> Result<NodeTable> {
    let rev = &items.rev;
    let mut rows: Vec<Vec<f64>> = items.windows.rows.iter().flat_map(|b| unpack(b)).collect();
    rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let mut splits: Vec<Vec<f64>> = items.windows.splits.iter().flat_map(|b| unpack(b)).collect();
    splits.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let mut tab = NodeTable {
        rows: Vec::new(),
        windows: Vec::new(),
        mala_nodes: Vec::new(),
        unc_nodes: Vec::new(),
        node_vals: Vec::new(),
        corr: 0.0,
        corr_var: 0.0,
        unc: 0.0,
    };
    for (j, r) in rows.iter().enumerate() {
        let (t, w) = (q.nodes[j], q.weights[j]);
        let mut node = NodeSamples::from_buffer(&splits[j][1..])?;
        node.weight = w;
        tab.mala_nodes.push(node);
        let mut node = NodeSamples::new(t, w, 2);
        let vals: Vec<f64> = rev.snapshots[j]
            .iter()
            .map(|c| {
                let (d, shells) = plan.model.dt_terms_shells(c, t, &plan.edges);
                node.push_terms(&d, shells.as_ref());
                d.total()
            })
            .collect();
        tab.unc_nodes.push(node);
        let (um, us) = mean_se(&vals);
        tab.node_vals.push(vals);
        tab.corr += w * r[1];
        tab.corr_var += (w * r[2]).powi(2);
        tab.unc += w * um;
        let tc = if plan.ti.tconf_every > 0 {
            let mut probe = stream(reverse_seed(plan.seed, n), Purpose::ConfTemperature, (1 << 40) + j as u64);
            conf_temperature(plan.model.as_ref(), &rev.snapshots[j], t, &mut probe)
        } else {
            ConfTemperature { value: f64::NAN, stderr: f64::NAN, z: f64::NAN, samples: 0 }
        };
        tab.windows.push([
            t, w, r[1], r[2], r[3], r[4], r[5], r[6], r[7], um, us, r[8], r[9], tc.value, tc.stderr, r[10], tc.z,
            r[11], r[12], r[13], r[14], r[15], r[16], r[17], r[18], r[19],
        ]);
    }
    tab.rows = rows;
    Ok(tab)
}

/// The windowed estimates of N = `n` appended to `results` (convergence checks, uncorrected and
/// corrected windows, MBAR over them (module `window_mbar`) right after them, the corrected reverse
/// SDE, the quadrature error, the attributions' scalars); returns the window rows, the attributions
/// and the MBAR estimate.
pub(super) fn window_estimates(
    plan: &Plan,
    n: usize,
    q: &Quadrature,
    items: &Items,
    res: &ResultFn,
    results: &mut Vec<ScalarResult>,
) -> Result<(Vec<WindowRow>, Vec<TiAttribution>, Option<WindowMbar>)> {
    let (ti, rev) = (plan.ti, &items.rev);
    let tab = node_table(plan, n, q, items)?;
    let (corr, corr_var, unc) = (tab.corr, tab.corr_var, tab.unc);
    // Where the corrected estimate's variance comes from (module `variance`); cost in model
    // evaluations: every step's gradients (one for MALA, hmc_leapfrog for HMC) and every recorded du/dt.
    let grads = match ti.window_sampler {
        crate::sampling::chain::ChainKind::Hmc => ti.hmc_leapfrog,
        crate::sampling::chain::ChainKind::Mala => 1,
    } as f64;
    let recorded: f64 = tab.windows.iter().map(|r| r[25]).sum();
    let steps: f64 = (0..q.nodes.len()).map(|j| plan.alloc.steps(n, j)).sum::<usize>() as f64;
    let cost = ti.window_chains as f64 * (q.nodes.len() * ti.window_warmup) as f64 * grads
        + ti.window_chains as f64 * steps * grads
        + recorded;
    for line in super::variance::VarianceBreakdown::of(&tab.windows).lines(n, cost) {
        log::info!("{line}");
    }
    // The Stein-controlled samples: the same breakdown from their errors, at the cost of the probes.
    let stein = ti.window_stein_probes > 0;
    if stein {
        let rows: Vec<WindowRow> = tab.windows.iter().map(stein_as_main).collect();
        let cost = cost + recorded * ti.window_stein_probes as f64;
        log::info!("N = {n}: the same for the Stein-controlled samples (crate::diffusion::stein):");
        for line in super::variance::VarianceBreakdown::of(&rows).lines(n, cost) {
            log::info!("{line}");
        }
    }
    // The nodes' snapshots come from the same trajectories: the error of the uncorrected
    // quadrature is the spread of the per-trajectory sums sum_j w_j du/dt(x_jk, t_j), not
    // sqrt(sum_j w_j^2 se_j^2) (which treats the nodes as independent and was ~2x too small
    // on the exact-answer systems, tests/exact_estimators.rs).
    let per_traj: Vec<f64> =
        (0..rev.count()).map(|k| tab.node_vals.iter().zip(&q.weights).map(|(v, w)| w * v[k]).sum::<f64>()).collect();
    let (_, unc_se) = mean_se(&per_traj);
    let k = q.nodes.len();
    // The corrected estimates are named after the chains' sampler ("mala" or "hmc").
    let sampler = ti.window_sampler.name();
    let tag = ti.window_rule.tag();
    let (m_corr, m_unc) = (format!("windows-{tag}{k}-{sampler}"), format!("windows-{tag}{k}-uncorrected"));
    if ti.tconf_every > 0 {
        results.extend(tconf_summary(&tab.windows, res, &m_corr, &m_unc, n));
    }
    let start = "data-started and reverse-SDE-started window chains differ by";
    results.extend(max_z_summary(&tab.windows, res, &m_corr, n, "start_z", "window_start_max_z", start));
    let drift = "the window chains' mean du/dt changes from the first to the second half of production by";
    results.extend(max_z_summary(&tab.windows, res, &m_corr, n, "drift_z", "window_drift_max_z", drift));
    results.push(res(&m_unc, -unc, unc_se));
    let windows = res(&m_corr, -corr, corr_var.sqrt());
    let mbar = super::window_mbar::estimate(n, &q.nodes, &items.windows.energies, &windows)?;
    results.push(windows);
    let mbar = mbar.map(|(m, r)| {
        results.push(r);
        m
    });
    // Only when every window has one (windows with too few samples have none: module stein).
    if stein && tab.windows.iter().all(|r| r[21].is_finite() && r[22].is_finite()) {
        let v: f64 = tab.windows.iter().map(|r| r[1] * r[21]).sum();
        let var: f64 = tab.windows.iter().map(|r| (r[1] * r[22]).powi(2)).sum();
        results.push(res(&format!("{m_corr}-stein"), -v, var.sqrt()));
    }
    let (v, e) = control_variate(&rev.per_trajectory_trap, &tab.node_vals, &q.weights, corr, corr_var);
    results.push(res(&format!("reverse-sde-{tag}{k}-{sampler}-corrected"), -v, e));
    if let Some(r) = &plan.nested {
        results.push(quadrature_error(r, &tab.rows, &res(&m_corr, 0.0, 0.0), corr_var.sqrt()));
    }
    let aseed = reverse_seed(plan.seed, n);
    let edges = &plan.edges;
    let mut attributions = Vec::new();
    attributions.extend(attribute_windows(sampler, &m_corr, &tab.mala_nodes, edges, Resampling::PerNode, -corr, aseed));
    attributions.extend(attribute_windows(
        "uncorrected",
        &m_unc,
        &tab.unc_nodes,
        edges,
        Resampling::Paired,
        -unc,
        aseed,
    ));
    for a in &attributions {
        results.extend(scalar_results(a, &res(&a.method, 0.0, 0.0)));
    }
    Ok((tab.windows, attributions, mbar))
}

/// A window row with its Stein-controlled mean, stderr and statistical inefficiency in place of the
/// plain ones (columns 2-4), for the variance breakdown.
fn stein_as_main(r: &WindowRow) -> WindowRow {
    let mut o = *r;
    o[2] = r[21];
    o[3] = r[22];
    o[4] = r[23];
    o
}

/// The AIS estimate of N = `n` and its effective sample size appended to `results` (with at least
/// two chains); returns the work values in chain order.
pub(super) fn ais_estimates(n: usize, bufs: &[Vec<f64>], res: &ResultFn, results: &mut Vec<ScalarResult>) -> Vec<f64> {
    let mut chunks: Vec<Vec<f64>> = bufs.iter().flat_map(|b| unpack(b)).collect();
    chunks.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let work: Vec<f64> = chunks.iter().flat_map(|c| c[1..].to_vec()).collect();
    if work.len() < 2 {
        return work;
    }
    let r = AisRun { work: work.clone(), acceptance: vec![] };
    let (v, e, ess) = r.estimate();
    log::info!("N = {n}: AIS effective sample size {ess:.1} of {}", work.len());
    // With a handful of chains carrying all the weight the delta-method error is itself
    // meaningless (it tends to 1 kT whatever the true error): report it as unknown.
    let min_ess = 10f64.max(0.05 * work.len() as f64);
    let e = if ess < min_ess {
        log::warn!(
            "N = {n}: AIS effective sample size {ess:.1} < {min_ess}: its beta A_ex has no reliable \
             error bar (reported as NaN); use more switches/MALA steps or the windows"
        );
        f64::NAN
    } else {
        e
    };
    results.push(res("ais", -v, e));
    results.push(ScalarResult {
        name: "ais_effective_sample_size".into(),
        method: "ais".into(),
        value: ess,
        stderr: f64::NAN,
        units: "1".into(),
        ..res("ais", 0.0, 0.0)
    });
    work
}

/// The reverse-SDE integral with the Metropolis correction from the windows as a control variate:
///
/// ```text
/// ln(Z_0/Z_1) ~ (1/K) sum_k [ J_k - sum_j w_j du/dt(x_jk, t_j) ] + sum_j w_j <du/dt>_{MALA, t_j}
/// ```
///
/// with J_k trajectory k's trapezoid-rule integral over the fine reverse-SDE grid and x_jk its
/// configuration at node t_j. If the model is exact both node terms have the same mean and this is
/// the fine-grid estimate; otherwise the MALA means correct it at the nodes. Any x-independent
/// part g(t) of the learned u_t (a gauge that score matching cannot see, and that makes the integrand
/// oscillate with amplitudes of hundreds of kT while integrating to g(1) - g(0) = 0) cancels in the
/// bracket, so the Gauss-Legendre rule only has to integrate the smooth model-error correction.
/// Variance: the spread of the bracket over the independent trajectories plus sum_j w_j^2 se_j^2
/// of the independent MALA windows. Returns (estimate of ln(Z_0/Z_1), stderr).
fn control_variate(per_traj: &[f64], node_vals: &[Vec<f64>], weights: &[f64], mala: f64, mala_var: f64) -> (f64, f64) {
    let bracket: Vec<f64> = (0..per_traj.len())
        .map(|k| per_traj[k] - node_vals.iter().zip(weights).map(|(v, w)| w * v[k]).sum::<f64>())
        .collect();
    let (m, se) = mean_se(&bracket);
    (m + mala, (se * se + mala_var).sqrt())
}
