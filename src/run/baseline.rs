//! `nti baseline`: conventional TI along the soft-core lambda path with MC at K windows (windows
//! dealt round-robin over ranks, gathered and ordered on rank 0), MBAR over the same windows, and
//! optionally Widom insertion (docs/design.md sec. 3). Finished windows and replicas are kept
//! (`items`) until the results file is written, and a window or replica in progress saves its state
//! at a stop request and periodically, so an interrupted run resumes where it stopped.
//! beta A_ex(N) = -int_0^1 <beta dU/dlambda> dlambda.

use super::items::{fingerprint, ItemStore};
use super::replica::{cutoff_mode, run_replica_at};
use crate::baseline::{run_lambda_window_at, LambdaPath, LambdaWindowOutput, LambdaWindowState};
use crate::config::{Input, Spacing};
use crate::estimators::mbar::mbar;
use crate::estimators::quadrature::{rule, Rule};
pub use crate::estimators::subsample::subsample_indices;
use crate::estimators::{block_average, combine_replicas, BlockEstimate};
use crate::io::{h5util, Provenance, ScalarResult};
use crate::parallel::{pack, unpack, Comm};
use crate::system::SimBox;
use anyhow::Result;
use ndarray::Array2;
use std::path::Path;
use std::time::Instant;

/// Neighbour overlap (Shirts & Chodera 2008, overlap matrix O = W^T W N) below which MBAR's error
/// bar is flagged as unreliable (a common rule of thumb in alchemical free-energy practice).
pub(crate) const MIN_OVERLAP: f64 = 0.03;

/// The input sections a window or Widom replica depends on.
const ITEM_KEYS: &[&str] = &["system", "baseline", "sample", "run"];

/// MBAR inputs and outputs kept for the results file.
#[derive(Clone, Debug)]
pub struct MbarData {
    /// Reduced energies u_kn (K x N).
    pub u_kn: Array2<f64>,
    /// Samples per window.
    pub n_k: Vec<usize>,
    /// Free energies f_k.
    pub f_k: Vec<f64>,
    /// Overlap matrix.
    pub overlap: Array2<f64>,
}

/// Rank 0's view of the baseline.
#[derive(Clone, Debug)]
pub struct BaselineSummary {
    /// lambda of each window.
    pub lambdas: Vec<f64>,
    /// Quadrature weights.
    pub weights: Vec<f64>,
    /// Block estimate of <beta dU/dlambda> per window.
    pub windows: Vec<BlockEstimate>,
    /// MC acceptance per window.
    pub acceptance: Vec<f64>,
    /// Scalar results.
    pub results: Vec<ScalarResult>,
    /// MBAR data, when computed.
    pub mbar: Option<MbarData>,
}

/// Runs the baseline; results on rank 0.
pub fn run_baseline(input: &Input, comm: &Comm) -> Result<Option<BaselineSummary>> {
    let cfg = &input.config;
    let sys = cfg.require_system()?.clone();
    let b = &cfg.baseline;
    let start = Instant::now();
    let out = super::prepare_output(input, comm)?;
    let kind = match b.spacing {
        Spacing::Uniform => Rule::Trapezoid,
        Spacing::GaussLegendre => Rule::GaussLegendre,
    };
    let q = rule(kind, b.windows, 0.0, 1.0)?;
    let (n, t) = (sys.n_particles, sys.temperature);
    let simbox = SimBox::from_density(n, sys.density);
    let mode = cutoff_mode(cfg);
    let path = LambdaPath {
        n,
        simbox,
        mode,
        temperature: t,
        lambdas: &q.nodes,
        equilibration: b.equilibration,
        production: b.production,
        stride: b.stride,
        seed: cfg.run.seed,
    };
    let fp = fingerprint(&input.effective_toml(), ITEM_KEYS, "baseline");
    let store = ItemStore::open(comm, &cfg.output.file, fp, cfg.output.overwrite)?;
    let every = cfg.output.item_save_interval();
    let bufs: Vec<Vec<f64>> = store
        .run_resumable(comm, "lambda_window", b.windows, every, |k, sp| {
            let resume = sp.resume(|buf| LambdaWindowState::read(&path, k, buf));
            let w = run_lambda_window_at(&path, k, resume, &mut |state| sp.check(state))?;
            Ok(w.map(|w| pack(&[vec![k as f64, w.acceptance], w.du_dlambda, w.u_all])))
        })?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    // Widom insertion in ordinary full-LJ replicas (same machinery as nti sample).
    let widom_bufs: Vec<Vec<f64>> = if b.widom_insertions > 0 {
        let mut c = cfg.clone();
        c.sample.widom_insertions = b.widom_insertions;
        c.sample.trajectory = false;
        c.sample.rdf_bins = 0;
        store
            .run_resumable(comm, "widom_replica", c.sample.replicas, every, |r, sp| {
                Ok(run_replica_at(&c, r, Some(sp))?.map(|o| o.widom))
            })?
            .into_iter()
            .map(|(_, b)| b)
            .collect()
    } else {
        vec![]
    };
    crate::io::warnings::gather(comm);
    let gathered = comm.gather_to_root(pack(&bufs));
    let widom_all = comm.gather_to_root(pack(&widom_bufs));
    let (Some(gathered), Some(widom_all)) = (gathered, widom_all) else { return Ok(None) };
    let mut wins: Vec<LambdaWindowOutput> = gathered
        .iter()
        .flat_map(|g| unpack(g))
        .map(|g| {
            let r = unpack(&g);
            LambdaWindowOutput {
                window: r[0][0] as usize,
                acceptance: r[0][1],
                du_dlambda: r[1].clone(),
                u_all: r[2].clone(),
            }
        })
        .collect();
    wins.sort_by_key(|w| w.window);
    let est: Vec<BlockEstimate> = wins.iter().map(|w| block_average(&w.du_dlambda)).collect();
    let ti: f64 = est.iter().zip(&q.weights).map(|(e, w)| w * e.mean).sum();
    let ti_se = est.iter().zip(&q.weights).map(|(e, w)| (w * e.stderr).powi(2)).sum::<f64>().sqrt();
    let res = |name: &str, method: String, value: f64, stderr: f64, units: &str| ScalarResult {
        name: name.into(),
        method,
        n_particles: n,
        temperature: t,
        density: sys.density,
        value,
        stderr,
        units: units.into(),
    };
    let spacing = if kind == Rule::Trapezoid { "trapezoid" } else { "gauss-legendre" };
    let mut results = vec![res("beta_a_ex", format!("ti-lambda-{spacing}-K{}", b.windows), -ti, ti_se, "kT")];
    let mut mbar_out = None;
    if b.mbar && kind == Rule::Trapezoid {
        // Subsample each window by its statistical inefficiency g so samples are ~independent
        // (fractional stride: n / g samples are kept, also for g slightly above 1).
        let k = b.windows;
        let mut cols: Vec<&[f64]> = Vec::new();
        let mut n_k = Vec::new();
        for (w, e) in wins.iter().zip(&est) {
            let all: Vec<&[f64]> = w.u_all.chunks_exact(k).collect();
            let rows: Vec<&[f64]> = subsample_indices(all.len(), e.stat_ineff).into_iter().map(|i| all[i]).collect();
            n_k.push(rows.len());
            cols.extend(rows);
        }
        let mut u = Array2::zeros((k, cols.len()));
        for (j, c) in cols.iter().enumerate() {
            for l in 0..k {
                u[[l, j]] = c[l];
            }
        }
        let r = mbar(&u, &n_k, 1e-10, 200)?;
        results.push(res("beta_a_ex", format!("mbar-K{k}"), -r.f[k - 1], r.df[[0, k - 1]], "kT"));
        // MBAR's asymptotic error assumes overlapping neighbours; with little overlap it can be far
        // too small (K = 5 on the paper's dense states: -41.9 +- 2.1 against -77.2 +- 2.6 at K = 10).
        let min_overlap = (0..k - 1).map(|i| r.overlap[[i, i + 1]]).fold(f64::INFINITY, f64::min);
        results.push(res("mbar_min_neighbour_overlap", format!("mbar-K{k}"), min_overlap, f64::NAN, "1"));
        if min_overlap < MIN_OVERLAP {
            log::warn!(
                "MBAR: the smallest overlap between neighbouring lambda windows is {min_overlap:.2e} < {MIN_OVERLAP}: \
                 its error bar is not reliable; use more windows"
            );
        }
        mbar_out = Some(MbarData { u_kn: u, n_k, f_k: r.f.clone(), overlap: r.overlap.clone() });
    } else if b.mbar {
        log::warn!("MBAR needs the lambda = 0 and 1 end states: use spacing = \"uniform\"; skipped");
    }
    let widom: Vec<Vec<f64>> = widom_all.iter().flat_map(|g| unpack(g)).collect();
    if !widom.is_empty() {
        let per: Vec<BlockEstimate> = widom.iter().map(|w| block_average(w)).collect();
        let bw = combine_replicas(&per);
        let tail = super::replica::pair_energy(cfg).tail.chemical_potential / t;
        results.push(res("beta_mu_ex", "widom".into(), -bw.mean.ln() + tail, bw.stderr / bw.mean, "kT"));
    }
    let summary = BaselineSummary {
        lambdas: q.nodes.clone(),
        weights: q.weights.clone(),
        acceptance: wins.iter().map(|w| w.acceptance).collect(),
        windows: est,
        results,
        mbar: mbar_out,
    };
    let out = out.expect("root");
    let prov = super::provenance(input, comm, start, "baseline");
    if let Err(e) = write_baseline(out.temp_path(), &summary, &prov) {
        out.abandon();
        return Err(e);
    }
    out.commit()?;
    store.remove();
    Ok(Some(summary))
}

fn write_baseline(path: &Path, s: &BaselineSummary, prov: &Provenance) -> Result<()> {
    let f = hdf5::File::create(path)?;
    let g = f.create_group("baseline")?;
    let k = s.lambdas.len();
    h5util::write_f64(&g, "lambda", &[k], &s.lambdas)?;
    h5util::write_f64(&g, "weight", &[k], &s.weights)?;
    h5util::write_f64(&g, "du_dlambda_mean", &[k], &s.windows.iter().map(|e| e.mean).collect::<Vec<_>>())?;
    h5util::write_f64(&g, "du_dlambda_stderr", &[k], &s.windows.iter().map(|e| e.stderr).collect::<Vec<_>>())?;
    h5util::write_f64(
        &g,
        "statistical_inefficiency",
        &[k],
        &s.windows.iter().map(|e| e.stat_ineff).collect::<Vec<_>>(),
    )?;
    h5util::write_f64(&g, "acceptance", &[k], &s.acceptance)?;
    if let Some(MbarData { u_kn: u, n_k, f_k: fk, overlap }) = &s.mbar {
        let m = g.create_group("mbar")?;
        h5util::write_f64(&m, "u_kn", &[u.nrows(), u.ncols()], u.as_slice().expect("standard layout"))?;
        h5util::write_f64(&m, "n_k", &[n_k.len()], &n_k.iter().map(|&v| v as f64).collect::<Vec<_>>())?;
        h5util::write_f64(&m, "f_k", &[fk.len()], fk)?;
        h5util::write_f64(
            &m,
            "overlap",
            &[overlap.nrows(), overlap.ncols()],
            overlap.as_slice().expect("standard layout"),
        )?;
    }
    let rg = f.create_group("results")?;
    for r in &s.results {
        r.write(&rg)?;
    }
    prov.write_to(&f)?;
    f.close()?;
    Ok(())
}
