//! `nti ti`: beta A_ex(N) of a trained model for each requested N by
//! - the reverse SDE (paper's rectangle rule, trapezoid rule) with the integrand per step and term;
//! - Gauss-Legendre t-windows, uncorrected (reverse-SDE configurations at the nodes) and
//!   Metropolis-corrected (MALA chains at each node, each warm-started by its own reverse-SDE
//!   trajectory), side by side;
//! - annealed importance sampling along the learned path, with its effective sample size;
//!
//! and beta mu_ex(N) = beta A_ex(N + 1) - beta A_ex(N) for consecutive requested N; over a grid of
//! N, beta A_ex and beta mu_ex at every N in between from a fit through the window estimates
//! (module `fit`; /ti/fit). Each window (module `node`) stores its chains' du/dt series and can discard their
//! equilibration (`[ti] window_discard`).
//! Both windowed estimates are attributed to the prior and network terms, nodes, particles and
//! pair-distance shells with bootstrap errors (`attribution`; `/ti/N<n>/attribution`).
//! beta A_ex(N) = -ln(Z_0 / V^N) = -int_0^1 < du/dt >_t dt. Work items (trajectory chunks, windows,
//! AIS chains) are dealt over ranks with their own streams and merged in item order on rank 0.

mod attribution;
mod checks;
mod fit;
mod node;
mod starts;

use super::generate::{distributed_reverse, reverse_seed};
use super::items::{fingerprint, ItemStore};
use crate::config::{Input, WindowRule, WindowStart};
use crate::diffusion::ais::ais;
use crate::diffusion::consistency::{conf_temperature, ConfTemperature};
use crate::estimators::attribution::{NodeSamples, Resampling};
use crate::estimators::clenshaw_curtis::NestedRule;
use crate::estimators::quadrature::gauss_legendre;
use crate::io::{h5util, Provenance, ScalarResult};
use crate::model::EnergyModel;
use crate::parallel::{owned_items, pack, unpack, Comm};
use crate::rng::{stream, Purpose};
use anyhow::Result;
use attribution::{attribute_windows, scalar_results, shell_edges, TiAttribution};
use checks::{max_z_summary, quadrature_error, tconf_summary};
use node::{run_node, NodeContext};
pub(crate) use node::{WindowRow, WINDOW_COLUMNS};
use starts::DataStarts;
use std::path::Path;
use std::time::Instant;

/// The input sections a TI window depends on (besides the model, fingerprinted by its checksum).
const ITEM_KEYS: &[&str] = &["generate", "ti", "run"];

/// Offset of the trajectory ids that warm-start window chains (disjoint from the main run's).
const WINDOW_TRAJ_BASE: u64 = 1 << 40;

/// Results for one N.
#[derive(Clone, Debug)]
pub struct TiForN {
    /// Particle number.
    pub n: usize,
    /// Estimates (also in /results).
    pub results: Vec<ScalarResult>,
    /// Reverse-SDE integrand: t, mean prior part, mean network part, stderr.
    pub integrand: Vec<[f64; 4]>,
    /// Window rows.
    pub windows: Vec<WindowRow>,
    /// Recorded du/dt of every window chain over its whole production, shape (windows, chains,
    /// samples) flattened in that order (empty without windows).
    pub window_series: (Vec<f64>, [usize; 3]),
    /// AIS work values.
    pub ais_work: Vec<f64>,
    /// Attributions of the windowed estimates (MALA-corrected, uncorrected).
    pub attribution: Vec<TiAttribution>,
}

impl TiForN {
    /// beta*A_ex of the Metropolis-corrected windows alone (`windows-gl<K>-<sampler>` or
    /// `windows-cc<K>-<sampler>`), the estimate
    /// the grand-canonical reweighting and `/ti/fit` use (not the reverse SDE corrected by them).
    pub fn windows_estimate(&self) -> Option<&ScalarResult> {
        self.results.iter().find(|r| {
            r.name == "beta_a_ex"
                && (r.method.starts_with("windows-gl") || r.method.starts_with("windows-cc"))
                && !r.method.ends_with("-uncorrected")
        })
    }
}

fn mean_se(x: &[f64]) -> (f64, f64) {
    let m = x.len() as f64;
    let mean = x.iter().sum::<f64>() / m;
    let v = x.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (m - 1.0).max(1.0);
    (mean, (v / m).sqrt())
}

/// Runs `nti ti`; results on rank 0.
pub fn run_ti(input: &Input, comm: &Comm) -> Result<Option<Vec<TiForN>>> {
    let cfg = &input.config;
    let (g, ti) = (&cfg.generate, &cfg.ti);
    let start = Instant::now();
    let (model, side) = super::model_input::load_checked_model(cfg, comm)?;
    let out = super::prepare_output(input, comm)?;
    // Window quadrature: Gauss-Legendre, or Clenshaw-Curtis with its nested half rule.
    let nested = match ti.window_rule {
        WindowRule::ClenshawCurtis if ti.windows > 0 => Some(NestedRule::new(ti.windows, 0.0, 1.0)?),
        _ => None,
    };
    let q = match (&nested, ti.windows) {
        (_, 0) => None,
        (Some(r), _) => Some(r.fine.clone()),
        (None, k) => Some(gauss_legendre(k, 0.0, 1.0)?),
    };
    let nodes: Vec<f64> = q.as_ref().map(|q| q.nodes.clone()).unwrap_or_default();
    let seed = cfg.run.seed;
    let temperature = model.spec.temperature;
    let edges = shell_edges(&model, side);
    let data = if ti.window_start == WindowStart::ReverseSde || ti.windows == 0 {
        DataStarts::default()
    } else {
        let d = DataStarts::load(&ti.window_data, &model, side, &g.n_particles)?;
        log::info!("window chains start from data ({:?}) at N = {:?}", ti.window_start, d.sizes());
        d
    };
    // After every input check, so that bad input leaves no work-item directory behind.
    let model_sum = format!("model {:016x}", crate::io::checkpoint::checksum(&[model.params.as_slice()]));
    let fp = fingerprint(&input.effective_toml(), ITEM_KEYS, &format!("{model_sum} {}", model.spec()));
    let store = ItemStore::open(comm, &cfg.output.file, fp, cfg.output.overwrite)?;
    let mut all = Vec::new();
    for &n in &g.n_particles {
        let rho = n as f64 / side.powi(3);
        let res = |method: &str, value: f64, stderr: f64| ScalarResult {
            name: "beta_a_ex".into(),
            method: method.into(),
            n_particles: n,
            temperature,
            density: rho,
            value,
            stderr,
            units: "kT".into(),
        };
        // Reverse SDE (all ranks), snapshots at the window nodes.
        let rev = distributed_reverse(&model, n, side, g, seed, &nodes, comm);
        // Corrected windows: window j on rank j mod size; its row and its per-sample split.
        let cx = NodeContext {
            model: &model,
            n,
            side,
            generate: g,
            ti,
            seed,
            data: &data,
            edges: &edges,
            nodes: nodes.len(),
        };
        let (mut wbufs, mut sbufs, mut xbufs) = (Vec::new(), Vec::new(), Vec::new());
        if let Some(q) = &q {
            let done = store.run(comm, &format!("window_N{n}"), q.nodes.len(), |j| {
                let b = run_node(&cx, j, q.nodes[j]);
                pack(&[b.row, b.split, b.series])
            })?;
            for (_, buf) in done {
                let mut parts = unpack(&buf).into_iter();
                let mut next = || parts.next().ok_or_else(|| anyhow::anyhow!("a kept TI window lacks a buffer"));
                wbufs.push(next()?);
                sbufs.push(next()?);
                xbufs.push(next()?);
            }
        }
        // AIS: chains in chunks of 8 over ranks.
        let chunk = 8;
        let n_chunks = ti.ais_chains.div_ceil(chunk);
        let abufs: Vec<Vec<f64>> = owned_items(n_chunks, comm.rank(), comm.size())
            .iter()
            .map(|&c| {
                let count = chunk.min(ti.ais_chains - c * chunk);
                let r = ais(
                    &model,
                    3 * n,
                    side,
                    ti.ais_switches,
                    ti.ais_mala_steps,
                    ti.mala_eps,
                    (c * chunk) as u64,
                    count,
                    reverse_seed(seed, n) ^ 0xA15,
                );
                let mut b = vec![c as f64];
                b.extend(r.work);
                b
            })
            .collect();
        let wg = comm.gather_to_root(pack(&wbufs));
        let ag = comm.gather_to_root(pack(&abufs));
        let sg = comm.gather_to_root(pack(&sbufs));
        let xg = comm.gather_to_root(pack(&xbufs));
        let (Some(rev), Some(wg), Some(ag), Some(sg), Some(xg)) = (rev, wg, ag, sg, xg) else { continue };
        let mut results = Vec::new();
        let (v, e) = rev.ln_z_ratio();
        results.push(res("reverse-sde-rectangle", -v, e));
        let (v, e) = rev.ln_z_ratio_trapezoid();
        results.push(res("reverse-sde-trapezoid", -v, e));
        let mt = rev.mean_terms();
        let se = rev.stderr();
        let integrand: Vec<[f64; 4]> = (0..rev.t.len()).map(|k| [rev.t[k], mt[k][0], mt[k][1], se[k]]).collect();
        let mut windows = Vec::new();
        let mut attributions = Vec::new();
        let window_series = gather_series(&xg)?;
        if let Some(q) = &q {
            let mut rows: Vec<Vec<f64>> = wg.iter().flat_map(|b| unpack(b)).collect();
            rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
            let mut splits: Vec<Vec<f64>> = sg.iter().flat_map(|b| unpack(b)).collect();
            splits.sort_by(|a, b| a[0].total_cmp(&b[0]));
            let (mut mala_nodes, mut unc_nodes) = (Vec::new(), Vec::new());
            let (mut corr, mut corr_var, mut unc) = (0.0, 0.0, 0.0);
            let mut node_vals: Vec<Vec<f64>> = Vec::new();
            for (j, r) in rows.iter().enumerate() {
                let (t, w) = (q.nodes[j], q.weights[j]);
                let mut node = NodeSamples::from_buffer(&splits[j][1..])?;
                node.weight = w;
                mala_nodes.push(node);
                let mut node = NodeSamples::new(t, w, 2);
                let vals: Vec<f64> = rev.snapshots[j]
                    .iter()
                    .map(|c| {
                        let (d, shells) = model.dt_terms_shells(c, t, &edges);
                        node.push_terms(&d, shells.as_ref());
                        d.total()
                    })
                    .collect();
                unc_nodes.push(node);
                let (um, us) = mean_se(&vals);
                node_vals.push(vals);
                corr += w * r[1];
                corr_var += (w * r[2]).powi(2);
                unc += w * um;
                let tc = if ti.tconf_every > 0 {
                    let mut probe = stream(reverse_seed(seed, n), Purpose::ConfTemperature, (1 << 40) + j as u64);
                    conf_temperature(&model, &rev.snapshots[j], t, &mut probe)
                } else {
                    ConfTemperature { value: f64::NAN, stderr: f64::NAN, z: f64::NAN, samples: 0 }
                };
                windows.push([
                    t, w, r[1], r[2], r[3], r[4], r[5], r[6], r[7], um, us, r[8], r[9], tc.value, tc.stderr, r[10],
                    tc.z, r[11], r[12], r[13], r[14],
                ]);
            }
            // The nodes' snapshots come from the same trajectories: the error of the uncorrected
            // quadrature is the spread of the per-trajectory sums sum_j w_j du/dt(x_jk, t_j), not
            // sqrt(sum_j w_j^2 se_j^2) (which treats the nodes as independent and was ~2x too small
            // on the exact-answer systems, tests/exact_estimators.rs).
            let per_traj: Vec<f64> = (0..rev.count())
                .map(|k| node_vals.iter().zip(&q.weights).map(|(v, w)| w * v[k]).sum::<f64>())
                .collect();
            let (_, unc_se) = mean_se(&per_traj);
            let k = q.nodes.len();
            // The corrected estimates are named after the chains' sampler ("mala" or "hmc").
            let sampler = ti.window_sampler.name();
            let tag = ti.window_rule.tag();
            let (m_corr, m_unc) = (format!("windows-{tag}{k}-{sampler}"), format!("windows-{tag}{k}-uncorrected"));
            if ti.tconf_every > 0 {
                results.extend(tconf_summary(&windows, &res, &m_corr, &m_unc, n));
            }
            let start = "data-started and reverse-SDE-started window chains differ by";
            results.extend(max_z_summary(&windows, &res, &m_corr, n, "start_z", "window_start_max_z", start));
            let drift = "the window chains' mean du/dt changes from the first to the second half of production by";
            results.extend(max_z_summary(&windows, &res, &m_corr, n, "drift_z", "window_drift_max_z", drift));
            results.push(res(&m_unc, -unc, unc_se));
            results.push(res(&m_corr, -corr, corr_var.sqrt()));
            let (v, e) = control_variate(&rev.per_trajectory_trap, &node_vals, &q.weights, corr, corr_var);
            results.push(res(&format!("reverse-sde-{tag}{k}-{sampler}-corrected"), -v, e));
            if let Some(r) = &nested {
                results.push(quadrature_error(r, &rows, &res(&m_corr, 0.0, 0.0), corr_var.sqrt()));
            }
            let aseed = reverse_seed(seed, n);
            attributions.extend(attribute_windows(
                sampler,
                &m_corr,
                &mala_nodes,
                &edges,
                Resampling::PerNode,
                -corr,
                aseed,
            ));
            attributions.extend(attribute_windows(
                "uncorrected",
                &m_unc,
                &unc_nodes,
                &edges,
                Resampling::Paired,
                -unc,
                aseed,
            ));
            for a in &attributions {
                results.extend(scalar_results(a, &res(&a.method, 0.0, 0.0)));
            }
        }
        let mut chunks: Vec<Vec<f64>> = ag.iter().flat_map(|b| unpack(b)).collect();
        chunks.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let work: Vec<f64> = chunks.iter().flat_map(|c| c[1..].to_vec()).collect();
        if work.len() >= 2 {
            let r = crate::diffusion::ais::AisRun { work: work.clone(), acceptance: vec![] };
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
        }
        all.push(TiForN { n, results, integrand, windows, window_series, ais_work: work, attribution: attributions });
    }
    let Some(out) = out else { return Ok(None) };
    // beta mu_ex(N) from consecutive N, per method.
    let mut extra = Vec::new();
    for a in &all {
        if let Some(b) = all.iter().find(|b| b.n == a.n + 1) {
            for ra in a.results.iter().filter(|r| r.name == "beta_a_ex") {
                if let Some(rb) = b.results.iter().find(|r| r.name == "beta_a_ex" && r.method == ra.method) {
                    extra.push(ScalarResult {
                        name: "beta_mu_ex".into(),
                        value: rb.value - ra.value,
                        stderr: (ra.stderr.powi(2) + rb.stderr.powi(2)).sqrt(),
                        ..ra.clone()
                    });
                }
            }
        }
    }
    if let Some(first) = all.first_mut() {
        first.results.extend(extra);
    }
    // Over a grid of N: every N in between from the fit through the window estimates; its
    // grand-canonical curve stands in where the requested N are not contiguous.
    let fitted = fit::fit_windows(&all, side.powi(3), temperature);
    let gc = grand_canonical(&all, side, temperature)
        .or_else(|| fitted.as_ref().map(|f| (f.gc.clone(), format!("fit: {}", f.method))));
    let prov = super::provenance(input, comm, start, "ti");
    if let Err(e) = write_ti(out.temp_path(), &all, &prov, gc.as_ref(), fitted.as_ref()) {
        out.abandon();
        return Err(e);
    }
    out.commit()?;
    store.remove();
    Ok(Some(all))
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

/// The windows' du/dt series from rank 0's gathered buffers ([j, chains, samples, values...]) as one
/// (windows, chains, samples) array in window order.
fn gather_series(bufs: &[Vec<f64>]) -> Result<(Vec<f64>, [usize; 3])> {
    let mut items: Vec<Vec<f64>> = bufs.iter().flat_map(|b| unpack(b)).collect();
    items.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let Some(first) = items.first() else { return Ok((Vec::new(), [0; 3])) };
    let (c, k) = (first[1] as usize, first[2] as usize);
    if items.iter().any(|b| b[1] as usize != c || b[2] as usize != k || b.len() != 3 + c * k) {
        anyhow::bail!("internal: window series of unequal shapes");
    }
    Ok((items.iter().flat_map(|b| b[3..].iter().copied()).collect(), [items.len(), c, k]))
}

/// Grand-canonical reweighting (DESIGN.md sec. 2) when the requested N form a contiguous range:
/// <rho> and beta mu_ex on a grid of beta mu, from the most accurate available estimate per N
/// (MALA-corrected windows, else the reverse-SDE trapezoid rule).
/// Rows: beta mu, <N>, <rho>, stderr <rho>, edge weight (beta mu_ex = beta mu - ln <rho> with Lambda = 1).
fn grand_canonical(all: &[TiForN], side: f64, temperature: f64) -> Option<(Vec<[f64; 5]>, String)> {
    let mut ns: Vec<usize> = all.iter().map(|a| a.n).collect();
    ns.sort_unstable();
    if ns.len() < 3 || ns.windows(2).any(|w| w[1] != w[0] + 1) {
        return None;
    }
    let pick = |a: &TiForN| {
        a.windows_estimate()
            .or_else(|| a.results.iter().find(|r| r.name == "beta_a_ex" && r.method == "reverse-sde-trapezoid"))
            .cloned()
    };
    let mut by_n: Vec<_> = all.iter().filter_map(|a| pick(a).map(|r| (a.n, r))).collect();
    by_n.sort_by_key(|x| x.0);
    let method = by_n.first()?.1.method.clone();
    let ladder = crate::estimators::gcmc_reweight::ExcessLadder::new(
        ns[0],
        by_n.iter().map(|x| x.1.value).collect(),
        by_n.iter().map(|x| x.1.stderr).collect(),
        side.powi(3),
        temperature,
    )
    .ok()?;
    let v = side.powi(3);
    let (lo, hi) = (((ns[0] as f64 + 0.5) / v).ln(), ((*ns.last()? as f64 - 0.5) / v).ln());
    let rows = (0..=40)
        .map(|k| {
            let bm = lo - 2.0 + (hi - lo + 4.0) * k as f64 / 40.0;
            let a = ladder.averages(bm);
            [bm, a.mean_n, a.mean_density, a.mean_density_stderr, a.edge_weight]
        })
        .collect();
    Some((rows, method))
}

fn write_ti(
    path: &Path,
    all: &[TiForN],
    prov: &Provenance,
    gc: Option<&(Vec<[f64; 5]>, String)>,
    fitted: Option<&fit::TiFit>,
) -> Result<()> {
    let f = hdf5::File::create(path)?;
    if let Some(t) = fitted {
        fit::write_fit(&f, t)?;
    }
    if let Some((rows, method)) = gc {
        let g = f.create_group("grand_canonical")?;
        h5util::set_str(&g, "method", method)?;
        for (c, name) in ["beta_mu", "mean_n", "mean_density", "mean_density_stderr", "edge_weight"].iter().enumerate()
        {
            let v: Vec<f64> = rows.iter().map(|r| r[c]).collect();
            h5util::write_f64(&g, name, &[v.len()], &v)?;
        }
    }
    let rg = f.create_group("results")?;
    for r in all {
        let g = h5util::group_p(&f, &format!("ti/N{}", r.n))?;
        let k = r.integrand.len();
        let col = |c: usize| r.integrand.iter().map(|v| v[c]).collect::<Vec<_>>();
        let rv = g.create_group("reverse")?;
        h5util::write_f64(&rv, "t", &[k], &col(0))?;
        h5util::write_f64(&rv, "mean_prior", &[k], &col(1))?;
        h5util::write_f64(&rv, "mean_network", &[k], &col(2))?;
        h5util::write_f64(&rv, "stderr", &[k], &col(3))?;
        if !r.windows.is_empty() {
            let w = g.create_group("windows")?;
            for (c, name) in WINDOW_COLUMNS.iter().enumerate() {
                let v: Vec<f64> = r.windows.iter().map(|row| row[c]).collect();
                h5util::write_f64(&w, name, &[v.len()], &v)?;
            }
            let (x, shape) = &r.window_series;
            if !x.is_empty() {
                h5util::write_f64(&w, "series", shape, x)?;
            }
        }
        if !r.ais_work.is_empty() {
            h5util::write_f64(&g, "ais_work", &[r.ais_work.len()], &r.ais_work)?;
        }
        for a in &r.attribution {
            let ag = h5util::group_p(&g, &format!("attribution/{}", a.label))?;
            crate::io::attribution::write_attribution(&ag, &a.attribution, &a.method, &a.resampling, a.headline)?;
        }
        for s in &r.results {
            s.write(&rg)?;
        }
    }
    prov.write(&f.create_group("provenance")?)?;
    f.close()?;
    Ok(())
}
