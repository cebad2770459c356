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
//! equilibration (`[ti] window_discard`); with `[ti] window_mbar` it also records every sample's
//! reduced energy at every node and at t = 0, 1, and MBAR over the windows (module `window_mbar`)
//! gives a second corrected estimate from every sample at every t (`/ti/N<n>/mbar`).
//! Both windowed estimates are attributed to the prior and network terms, nodes, particles and
//! pair-distance shells with bootstrap errors (`attribution`; `/ti/N<n>/attribution`).
//! beta A_ex(N) = -ln(Z_0 / V^N) = -int_0^1 < du/dt >_t dt. Work items (trajectory chunks, windows,
//! AIS chains) are dealt over ranks with their own streams and merged in item order on rank 0.
//! Finished items are kept until the results file is written, and a window in progress saves its
//! state (chains, streams, records so far) at a stop request and periodically, so an interrupted
//! run resumes where it stopped.

mod allocation;
mod attribution;
mod checks;
mod estimates;
mod fit;
mod node;
mod starts;
mod variance;
mod window_mbar;

use super::generate::{distributed_reverse, reverse_seed, ReverseJob};
use super::items::{fingerprint, ItemStore};
use crate::config::{Config, GenerateConfig, Input, TiConfig, WindowRule, WindowStart};
use crate::diffusion::ais::{ais, AisSettings};
use crate::diffusion::reverse::ReverseRun;
use crate::diffusion::windows::WindowProgress;
use crate::estimators::clenshaw_curtis::NestedRule;
use crate::estimators::quadrature::{gauss_legendre, Quadrature};
use crate::estimators::window_mbar::{mbar_times, WindowMbar};
use crate::io::{h5util, Provenance, ScalarResult};
use crate::model::ParticleModel;
use crate::parallel::{pack, unpack, Comm};
use allocation::Allocation;
use anyhow::Result;
use attribution::{shell_edges, TiAttribution};
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
    /// samples) flattened in that order, NaN-padded where a window has fewer samples (empty without
    /// windows).
    pub window_series: (Vec<f64>, [usize; 3]),
    /// AIS work values.
    pub ais_work: Vec<f64>,
    /// Attributions of the windowed estimates (MALA-corrected, uncorrected).
    pub attribution: Vec<TiAttribution>,
    /// MBAR over the corrected windows (`[ti] window_mbar`; `/ti/N<n>/mbar`).
    pub mbar: Option<WindowMbar>,
}

impl TiForN {
    /// beta*A_ex of the Metropolis-corrected windows alone (`windows-gl<K>-<sampler>` or
    /// `windows-cc<K>-<sampler>`, or their Stein-controlled `...-stein` where present), the estimate
    /// the grand-canonical reweighting and `/ti/fit` use (not the reverse SDE corrected by them).
    pub fn windows_estimate(&self) -> Option<&ScalarResult> {
        let windows = |r: &&ScalarResult| {
            r.name == "beta_a_ex"
                && (r.method.starts_with("windows-gl") || r.method.starts_with("windows-cc"))
                && !r.method.ends_with("-uncorrected")
                && !r.method.ends_with("-mbar")
        };
        let found: Vec<&ScalarResult> = self.results.iter().filter(windows).collect();
        found.iter().find(|r| r.method.ends_with("-stein")).or(found.first()).copied()
    }
}

fn mean_se(x: &[f64]) -> (f64, f64) {
    let m = x.len() as f64;
    let mean = x.iter().sum::<f64>() / m;
    let v = x.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (m - 1.0).max(1.0);
    (mean, (v / m).sqrt())
}

/// Runs `nti ti`; results on rank 0. Steps: load the model and check the output file, plan the
/// windows, then per N run the work items on all ranks (`run_items`) and turn them into estimates
/// on rank 0 (`estimate`); finally beta mu_ex from consecutive N, the fit over N, the
/// grand-canonical curve, and the results file.
pub fn run_ti(input: &Input, comm: &Comm) -> Result<Option<Vec<TiForN>>> {
    let start = Instant::now();
    let (model, side) = super::model_input::load_checked_model(&input.config, comm)?;
    let out = super::prepare_output(input, comm)?;
    let plan = Plan::new(&input.config, model, side)?;
    // After every input check, so that bad input leaves no work-item directory behind.
    let model_sum = format!("model {:016x}", crate::io::checkpoint::checksum(&[plan.model.params()]));
    let extra = format!("{model_sum} {} {}", plan.model.spec(), plan.alloc.fingerprint());
    let fp = fingerprint(&input.effective_toml(), ITEM_KEYS, &extra);
    let store = ItemStore::open(comm, &input.config.output.file, fp, input.config.output.overwrite)?;
    let mut all = Vec::new();
    for &n in &input.config.generate.n_particles {
        if let Some(items) = run_items(&plan, n, comm, &store)? {
            all.push(estimate(&plan, n, items)?);
        }
    }
    crate::io::warnings::gather(comm);
    let Some(out) = out else { return Ok(None) };
    add_chemical_potentials(&mut all);
    // Over a grid of N: every N in between from the fit through the window estimates; its
    // grand-canonical curve stands in where the requested N are not contiguous.
    let temperature = plan.model.temperature();
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
    let values = all.iter().flat_map(|a| &a.results).filter(|r| r.name.starts_with("beta_"));
    super::refuse_non_finite(
        out.target(),
        values.map(|r| (format!("{} ({}, N = {})", r.name, r.method, r.n_particles), r.value)),
    )?;
    Ok(Some(all))
}

/// What every N of a run shares: the settings, the model and its box, the window quadrature
/// (Gauss-Legendre, or Clenshaw-Curtis with its nested half rule), the shell edges of the
/// attribution and the data frames that can start window chains.
struct Plan<'a> {
    generate: &'a GenerateConfig,
    ti: &'a TiConfig,
    seed: u64,
    model: Box<dyn ParticleModel>,
    side: f64,
    nested: Option<NestedRule>,
    q: Option<Quadrature>,
    nodes: Vec<f64>,
    /// Times of MBAR over the windows (0, the nodes, 1; empty without `[ti] window_mbar`).
    mbar_times: Vec<f64>,
    edges: Vec<f64>,
    data: DataStarts,
    /// Interval of periodic saves of a window in progress (`[output] item_save_seconds`).
    item_save: Option<std::time::Duration>,
    /// Production steps per window (`[ti] window_pilot`; module `allocation`).
    alloc: Allocation,
}

impl<'a> Plan<'a> {
    fn new(cfg: &'a Config, model: Box<dyn ParticleModel>, side: f64) -> Result<Self> {
        let (g, ti) = (&cfg.generate, &cfg.ti);
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
        let edges = shell_edges(model.as_ref(), side);
        let data = if ti.window_start == WindowStart::ReverseSde || ti.windows == 0 {
            DataStarts::default()
        } else {
            let d = DataStarts::load(&ti.window_data, model.as_ref(), side, &g.n_particles)?;
            log::info!("window chains start from data ({:?}) at N = {:?}", ti.window_start, d.sizes());
            d
        };
        let item_save = cfg.output.item_save_interval();
        let mbar_times = if ti.window_mbar && !nodes.is_empty() { mbar_times(&nodes) } else { Vec::new() };
        let seed = cfg.run.seed;
        let alloc = Allocation::new(ti, q.as_ref(), &g.n_particles)?;
        Ok(Self { generate: g, ti, seed, model, side, nested, q, nodes, mbar_times, edges, data, item_save, alloc })
    }

    /// A beta*A_ex result of `method` for N = `n` (in kT).
    fn beta_a_ex(&self, n: usize, method: &str, value: f64, stderr: f64) -> ScalarResult {
        ScalarResult {
            name: "beta_a_ex".into(),
            method: method.into(),
            n_particles: n,
            temperature: self.model.temperature(),
            density: n as f64 / self.side.powi(3),
            value,
            stderr,
            units: "kT".into(),
        }
    }
}

/// The work items of one N as gathered on rank 0: the merged reverse SDE (snapshots at the window
/// nodes) and the flat buffers of the windows (rows, per-sample splits, series) and AIS chunks.
struct Items {
    rev: ReverseRun,
    windows: WindowBuffers,
    ais: Vec<Vec<f64>>,
}

/// Runs the work items of N = `n` on every rank (reverse-SDE chunks, window j on rank j mod size,
/// AIS chains in chunks of 8) and gathers them; `Some` on rank 0 only.
fn run_items(plan: &Plan, n: usize, comm: &Comm, store: &ItemStore) -> Result<Option<Items>> {
    let job = ReverseJob { n, side: plan.side, g: plan.generate, seed: plan.seed, snap: &plan.nodes };
    let rev = distributed_reverse(plan.model.as_ref(), &job, comm, Some(store))?;
    let w = run_windows(plan, n, comm, store)?;
    let abufs = run_ais(plan, n, comm, store)?;
    let wg = comm.gather_to_root(pack(&w.rows));
    let ag = comm.gather_to_root(pack(&abufs));
    let sg = comm.gather_to_root(pack(&w.splits));
    let xg = comm.gather_to_root(pack(&w.series));
    let eg = comm.gather_to_root(pack(&w.energies));
    let (Some(rev), Some(rows), Some(ais), Some(splits), Some(series), Some(energies)) = (rev, wg, ag, sg, xg, eg)
    else {
        return Ok(None);
    };
    Ok(Some(Items { rev, windows: WindowBuffers { rows, splits, series, energies }, ais }))
}

/// Flat buffers of windows (module `node`), each starting with the window index: rows, per-sample
/// splits, du/dt series and reduced energies for MBAR (in [`Items`], one packed buffer per rank).
#[derive(Default)]
struct WindowBuffers {
    rows: Vec<Vec<f64>>,
    splits: Vec<Vec<f64>>,
    series: Vec<Vec<f64>>,
    energies: Vec<Vec<f64>>,
}

/// This rank's corrected windows, each kept in `store` when finished (a resumed run reads the kept
/// ones instead of recomputing them).
fn run_windows(plan: &Plan, n: usize, comm: &Comm, store: &ItemStore) -> Result<WindowBuffers> {
    let mut bufs = WindowBuffers::default();
    let Some(q) = &plan.q else { return Ok(bufs) };
    let cx = NodeContext {
        model: plan.model.as_ref(),
        n,
        side: plan.side,
        generate: plan.generate,
        ti: plan.ti,
        seed: plan.seed,
        data: &plan.data,
        edges: &plan.edges,
        nodes: plan.nodes.len(),
        energy_at: &plan.mbar_times,
        alloc: &plan.alloc,
    };
    let (kind, every) = (format!("window_N{n}"), plan.item_save);
    let (chains, dim) = (plan.ti.window_chains, 3 * n);
    let energies = plan.mbar_times.len();
    let done = store.run_resumable(comm, &kind, q.nodes.len(), every, |j, sp| {
        let steps = plan.ti.window_warmup + plan.alloc.steps(n, j);
        let resume = sp.resume(|buf| WindowProgress::read(buf, chains, dim, steps, energies));
        let b = run_node(&cx, j, q.nodes[j], resume, &mut |state| sp.check(state))?;
        Ok(b.map(|b| pack(&[b.row, b.split, b.series, b.energies])))
    })?;
    for (_, buf) in done {
        let mut parts = unpack(&buf).into_iter();
        let mut next = || parts.next().ok_or_else(|| anyhow::anyhow!("a kept TI window lacks a buffer"));
        bufs.rows.push(next()?);
        bufs.splits.push(next()?);
        bufs.series.push(next()?);
        bufs.energies.push(next()?);
    }
    Ok(bufs)
}

/// This rank's AIS chunks of 8 chains: [chunk index, work values...] each, each kept in `store`
/// when finished (`ais_N<n>_<chunk>`).
fn run_ais(plan: &Plan, n: usize, comm: &Comm, store: &ItemStore) -> Result<Vec<Vec<f64>>> {
    let ti = plan.ti;
    let chunk = 8;
    let n_chunks = ti.ais_chains.div_ceil(chunk);
    let s = AisSettings {
        dim: 3 * n,
        side: plan.side,
        switches: ti.ais_switches,
        mala_steps: ti.ais_mala_steps,
        eps: ti.mala_eps,
        seed: reverse_seed(plan.seed, n) ^ 0xA15,
    };
    let done = store.run(comm, &format!("ais_N{n}"), n_chunks, |c| {
        let count = chunk.min(ti.ais_chains - c * chunk);
        ais(plan.model.as_ref(), &s, (c * chunk) as u64, count).work
    })?;
    Ok(done.into_iter().map(|(c, w)| std::iter::once(c as f64).chain(w).collect()).collect())
}

/// The estimates of N = `n` from its gathered work items (rank 0): the reverse SDE by both rules,
/// the windows with their checks and attributions (module `estimates`), and AIS.
fn estimate(plan: &Plan, n: usize, items: Items) -> Result<TiForN> {
    let res = |method: &str, value: f64, stderr: f64| plan.beta_a_ex(n, method, value, stderr);
    let rev = &items.rev;
    let mut results = Vec::new();
    let (v, e) = rev.ln_z_ratio();
    results.push(res("reverse-sde-rectangle", -v, e));
    let (v, e) = rev.ln_z_ratio_trapezoid();
    results.push(res("reverse-sde-trapezoid", -v, e));
    let mt = rev.mean_terms();
    let se = rev.stderr();
    let integrand: Vec<[f64; 4]> = (0..rev.t.len()).map(|k| [rev.t[k], mt[k][0], mt[k][1], se[k]]).collect();
    let window_series = gather_series(&items.windows.series)?;
    let (windows, attribution, mbar) = match &plan.q {
        Some(q) => estimates::window_estimates(plan, n, q, &items, &res, &mut results)?,
        None => (Vec::new(), Vec::new(), None),
    };
    let ais_work = estimates::ais_estimates(n, &items.ais, &res, &mut results);
    Ok(TiForN { n, results, integrand, windows, window_series, ais_work, attribution, mbar })
}

/// beta mu_ex(N) = beta A_ex(N + 1) - beta A_ex(N) from consecutive N, per method (added to the
/// first N's results).
fn add_chemical_potentials(all: &mut [TiForN]) {
    let mut extra = Vec::new();
    for a in all.iter() {
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
}

/// The windows' du/dt series from rank 0's gathered buffers ([j, chains, samples, values...]) as one
/// (windows, chains, samples) array in window order; windows with fewer samples per chain than the
/// longest (`[ti] window_pilot`) are padded with NaN at the end of each chain.
fn gather_series(bufs: &[Vec<f64>]) -> Result<(Vec<f64>, [usize; 3])> {
    let mut items: Vec<Vec<f64>> = bufs.iter().flat_map(|b| unpack(b)).collect();
    items.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let Some(first) = items.first() else { return Ok((Vec::new(), [0; 3])) };
    let c = first[1] as usize;
    if items.iter().any(|b| b[1] as usize != c || b.len() != 3 + c * b[2] as usize) {
        anyhow::bail!("internal: window series of unequal chain counts or inconsistent lengths");
    }
    let k = items.iter().map(|b| b[2] as usize).max().unwrap_or(0);
    let mut x = Vec::with_capacity(items.len() * c * k);
    for b in &items {
        let kb = b[2] as usize;
        for chain in b[3..].chunks(kb.max(1)).take(c) {
            x.extend_from_slice(chain);
            x.resize(x.len() + k - chain.len(), f64::NAN);
        }
    }
    Ok((x, [items.len(), c, k]))
}

/// Grand-canonical reweighting (docs/design.md sec. 2) when the requested N form a contiguous range:
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
        if let Some(m) = &r.mbar {
            window_mbar::write_mbar(&g, m)?;
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
    prov.write_to(&f)?;
    f.close()?;
    Ok(())
}
