//! `nti generate`: samples of a trained LJ model by the reverse SDE for any N, with the TI
//! integrand accumulated along the way (estimate of -beta A_ex(N) = ln(Z_0 / V^N)), the RDF of the
//! t = 0 samples, and H5MD trajectories of the final configurations.
//! Trajectories are cut into chunks of `batch`, dealt round-robin over ranks and merged in chunk
//! order on rank 0, so the output does not depend on the number of ranks.

use super::items::{fingerprint, ItemStore};
use crate::config::Input;
use crate::diffusion::corrector::CorrectorStats;
use crate::diffusion::reverse::{reverse_sde, ReverseRun, ReverseSettings};
use crate::io::{h5md, h5util, Provenance, ScalarResult};
use crate::model::Conf;
use crate::observables::RdfHistogram;
use crate::parallel::{owned_items, pack, unpack, Comm};
use crate::system::SimBox;
use anyhow::Result;
use std::path::Path;
use std::time::Instant;

/// The input sections a reverse-SDE chunk depends on (besides the model, fingerprinted by its checksum).
const ITEM_KEYS: &[&str] = &["generate", "run"];

/// Result for one N.
#[derive(Clone, Debug)]
pub struct Generated {
    /// Particle number.
    pub n: usize,
    /// Box side.
    pub side: f64,
    /// Merged run.
    pub run: ReverseRun,
    /// RDF of the t = 0 samples: centres and g(r).
    pub rdf: (Vec<f64>, Vec<f64>),
}

fn to_buffer(r: &ReverseRun) -> Vec<f64> {
    let mut flat = vec![];
    for s in &r.sum_terms {
        flat.extend_from_slice(s);
    }
    let mut recs = vec![
        r.t.clone(),
        flat,
        r.sum_sq.clone(),
        r.per_trajectory.clone(),
        r.per_trajectory_trap.clone(),
        r.samples.iter().flat_map(|c| c.y.iter().copied()).collect(),
        r.corrector.iter().flat_map(|c| c.to_vec()).collect(),
    ];
    for snap in &r.snapshots {
        recs.push(snap.iter().flat_map(|c| c.y.iter().copied()).collect());
    }
    pack(&recs)
}

fn from_buffer(b: &[f64], side: f64, dim: usize) -> ReverseRun {
    let v = unpack(b);
    ReverseRun {
        t: v[0].clone(),
        sum_terms: v[1].chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        sum_sq: v[2].clone(),
        per_trajectory: v[3].clone(),
        per_trajectory_trap: v[4].clone(),
        samples: v[5].chunks_exact(dim).map(|y| Conf { y: y.to_vec(), side }).collect(),
        corrector: v[6].chunks_exact(5).map(CorrectorStats::from_slice).collect(),
        snapshots: v[7..].iter().map(|s| s.chunks_exact(dim).map(|y| Conf { y: y.to_vec(), side }).collect()).collect(),
    }
}

/// Seed of the reverse-SDE streams for particle number `n` (trajectory i then uses
/// (this seed, Reverse, i)).
pub fn reverse_seed(seed: u64, n: usize) -> u64 {
    crate::rng::splitmix64(seed ^ ((n as u64) << 32))
}

/// One reverse-SDE run: N, the box side, the `[generate]` settings, the run seed and the times at
/// which to record snapshots.
pub struct ReverseJob<'a> {
    /// Particle number N.
    pub n: usize,
    /// Box side L (sigma).
    pub side: f64,
    /// Trajectories, batch, steps, correctors.
    pub g: &'a crate::config::GenerateConfig,
    /// `[run] seed`.
    pub seed: u64,
    /// Snapshot times.
    pub snap: &'a [f64],
}

/// Runs `job.g.trajectories` reverse-SDE trajectories in chunks of `g.batch` dealt over the ranks,
/// with the correctors of `g` (crate::diffusion::corrector), recording snapshots at `job.snap`;
/// the merged run (chunks in order) on rank 0, `None` elsewhere. With a `store`, every finished
/// chunk is kept as a work item (`reverse_N<n>_<chunk>`), so that an interrupted run resumes with
/// the chunks it had (each chunk's streams are keyed by its trajectory ids, so a kept chunk is
/// bitwise what recomputing it gives); a stop request ends it with [`super::interrupt::Interrupted`].
pub fn distributed_reverse<M: crate::model::EnergyModel + ?Sized>(
    model: &M,
    job: &ReverseJob<'_>,
    comm: &Comm,
    store: Option<&ItemStore>,
) -> Result<Option<ReverseRun>> {
    let (n, g) = (job.n, job.g);
    let n_chunks = g.trajectories.div_ceil(g.batch);
    let s = ReverseSettings {
        dim: 3 * n,
        side: job.side,
        steps: g.steps,
        brownian_substeps: g.brownian_substeps(),
        batch: g.batch,
        seed: reverse_seed(job.seed, n),
        snapshots: job.snap,
        corrector: g.corrector(),
    };
    let chunk = |c: usize| -> Vec<f64> {
        let first = c * g.batch;
        let count = g.batch.min(g.trajectories - first);
        // count <= batch: the chunk is integrated as one batch.
        to_buffer(&reverse_sde(model, &s, first as u64, count))
    };
    let done: Vec<(usize, Vec<f64>)> = match store {
        Some(st) => st.run(comm, &format!("reverse_N{n}"), n_chunks, chunk)?,
        None => {
            let mine = owned_items(n_chunks, comm.rank(), comm.size());
            let mut progress = crate::progress::Progress::new(format!("reverse SDE N = {n}"), mine.len() as u64);
            mine.iter()
                .enumerate()
                .map(|(k, &c)| {
                    let b = chunk(c);
                    progress.tick(k as u64 + 1, "chunks");
                    (c, b)
                })
                .collect()
        }
    };
    let bufs: Vec<Vec<f64>> = done.into_iter().map(|(c, b)| std::iter::once(c as f64).chain(b).collect()).collect();
    let Some(all) = comm.gather_to_root(pack(&bufs)) else { return Ok(None) };
    let mut chunks: Vec<(usize, ReverseRun)> =
        all.iter().flat_map(|b| unpack(b)).map(|b| (b[0] as usize, from_buffer(&b[1..], job.side, 3 * n))).collect();
    chunks.sort_by_key(|c| c.0);
    let mut run = ReverseRun::default();
    for (_, c) in chunks {
        run.merge(c);
    }
    Ok(Some(run))
}

/// Runs `nti generate`; returns the results on rank 0.
pub fn run_generate(input: &Input, comm: &Comm) -> Result<Option<Vec<Generated>>> {
    let cfg = &input.config;
    let g = &cfg.generate;
    let start = Instant::now();
    let (model, side) = super::model_input::load_checked_model(cfg, comm)?;
    let out = super::prepare_output(input, comm)?;
    // After every input check, so that bad input leaves no work-item directory behind.
    let model_sum = format!("model {:016x}", crate::io::checkpoint::checksum(&[model.params()]));
    let fp = fingerprint(&input.effective_toml(), ITEM_KEYS, &format!("{model_sum} {}", model.spec()));
    let store = ItemStore::open(comm, &cfg.output.file, fp, cfg.output.overwrite)?;
    let mut results = Vec::new();
    for &n in &g.n_particles {
        let job = ReverseJob { n, side, g, seed: cfg.run.seed, snap: &[] };
        let Some(run) = distributed_reverse(model.as_ref(), &job, comm, Some(&store))? else { continue };
        let simbox = SimBox::new(side);
        let mut rdf = RdfHistogram::new(g.rdf_bins, 0.5 * side);
        for c in &run.samples {
            let x: Vec<[f64; 3]> = c.y.chunks_exact(3).map(|p| [p[0] * side, p[1] * side, p[2] * side]).collect();
            rdf.accumulate(&x, &simbox);
        }
        let (ln_z, se) = run.ln_z_ratio();
        log::info!("N = {n}: -beta A_ex (reverse SDE, rectangle rule) = {ln_z:.4} ± {se:.4}");
        for c in &run.corrector {
            let (acc, du, eps) = c.means();
            log::info!(
                "N = {n}: corrector at t = {:.4}: acceptance {acc:.3}, eps {eps:.3e}, u(after) - u(before) = {du:.3} kT \
                 ({:.4} per particle)",
                c.t,
                du / n as f64
            );
        }
        results.push(Generated { n, side, rdf: (rdf.centers(), rdf.g(n, &simbox)), run });
    }
    crate::io::warnings::gather(comm);
    let Some(out) = out else { return Ok(None) };
    let prov = super::provenance(input, comm, start, "generate");
    if let Err(e) = write_generated(out.temp_path(), &results, &model.temperature(), &prov) {
        out.abandon();
        return Err(e);
    }
    out.commit()?;
    store.remove();
    let values = results.iter().map(|r| (format!("beta_a_ex (reverse SDE, N = {})", r.n), -r.run.ln_z_ratio().0));
    super::refuse_non_finite(out.target(), values)?;
    Ok(Some(results))
}

fn write_generated(path: &Path, res: &[Generated], temperature: &f64, prov: &Provenance) -> Result<()> {
    let f = hdf5::File::create(path)?;
    h5md::write_header(&f)?;
    let rg = f.create_group("results")?;
    for r in res {
        let name = format!("generated_N{}", r.n);
        let frames: Vec<f64> = r.run.samples.iter().flat_map(|c| c.y.iter().map(|y| y * r.side)).collect();
        let idx: Vec<f64> = (0..r.run.samples.len()).map(|i| i as f64).collect();
        let zeros = vec![0.0; idx.len()];
        let t = h5md::Trajectory { frames: &frames, n: r.n, side: r.side, step: &idx, time: &zeros, time_unit: "1" };
        h5md::write_trajectory(&f, &name, &t)?;
        let g = h5util::group_p(&f, &format!("rdf/{name}"))?;
        h5util::write_f64(&g, "r", &[r.rdf.0.len()], &r.rdf.0)?;
        h5util::write_f64(&g, "g", &[r.rdf.1.len()], &r.rdf.1)?;
        let ti = h5util::group_p(&f, &format!("ti/N{}", r.n))?;
        let ns = r.run.t.len();
        let mt = r.run.mean_terms();
        h5util::write_f64(&ti, "t", &[ns], &r.run.t)?;
        h5util::write_f64(&ti, "mean_prior", &[ns], &mt.iter().map(|v| v[0]).collect::<Vec<_>>())?;
        h5util::write_f64(&ti, "mean_network", &[ns], &mt.iter().map(|v| v[1]).collect::<Vec<_>>())?;
        h5util::write_f64(&ti, "stderr", &[ns], &r.run.stderr())?;
        h5util::write_f64(&ti, "per_trajectory", &[r.run.count()], &r.run.per_trajectory)?;
        if !r.run.corrector.is_empty() {
            let nc = r.run.corrector.len();
            let col = |f: &dyn Fn(&CorrectorStats) -> f64| r.run.corrector.iter().map(f).collect::<Vec<f64>>();
            h5util::write_f64(&ti, "corrector_t", &[nc], &col(&|c| c.t))?;
            h5util::write_f64(&ti, "corrector_acceptance", &[nc], &col(&|c| c.means().0))?;
            h5util::write_f64(&ti, "corrector_du", &[nc], &col(&|c| c.means().1))?;
            h5util::write_f64(&ti, "corrector_eps", &[nc], &col(&|c| c.means().2))?;
        }
        let (ln_z, se) = r.run.ln_z_ratio();
        ScalarResult {
            name: "beta_a_ex".into(),
            // With correctors the samples at t <= t_c are re-equilibrated in exp(-u(., t_c)), so the
            // integrand is averaged over different ensembles than the plain reverse SDE's: name it apart.
            method: if r.run.corrector.is_empty() { "reverse-sde-rect" } else { "reverse-sde-pc-rect" }.into(),
            n_particles: r.n,
            temperature: *temperature,
            density: r.n as f64 / r.side.powi(3),
            value: -ln_z,
            stderr: se,
            units: "kT".into(),
        }
        .write(&rg)?;
    }
    prov.write_to(&f)?;
    f.close()?;
    Ok(())
}
