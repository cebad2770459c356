//! `nti sample`: the reference simulation. Replicas are dealt over ranks, run independently,
//! gathered to rank 0, combined, written to one HDF5 results file and printed. Finished replicas
//! are kept (`items`) until the results file is written, and a replica in progress saves its state
//! at a stop request and periodically, so an interrupted run resumes where it stopped.

use super::items::{fingerprint, ItemStore};
use super::replica::{pair_energy, run_replica_at, ReplicaOutput};
use crate::config::{Input, SampleMethod};
use crate::estimators::{block_average, combine_replicas, BlockEstimate};
use crate::io::{h5md, h5util, Provenance, ScalarResult};
use crate::observables::RdfHistogram;
use crate::parallel::{owned_items, pack, unpack, Comm};
use anyhow::Result;
use std::path::Path;
use std::time::Instant;

/// The input sections a replica depends on.
const ITEM_KEYS: &[&str] = &["system", "sample", "run"];

/// What rank 0 knows at the end of `nti sample`.
#[derive(Clone, Debug)]
pub struct SampleSummary {
    /// Scalar results (also in `/results`).
    pub results: Vec<ScalarResult>,
    /// Per-replica outputs, ordered by replica id.
    pub replicas: Vec<ReplicaOutput>,
    /// RDF: shell centres, g(r), standard error over replicas (NaN with one replica).
    pub rdf: (Vec<f64>, Vec<f64>, Vec<f64>),
}

/// Runs the reference simulation. Returns the summary on rank 0, `None` elsewhere.
pub fn run_sample(input: &Input, comm: &Comm) -> Result<Option<SampleSummary>> {
    let cfg = &input.config;
    let start = Instant::now();
    // Rank 0 checks the output path before any work; every rank learns the verdict.
    let out = super::prepare_output(input, comm)?;
    let mine = owned_items(cfg.sample.replicas, comm.rank(), comm.size());
    log::info!("rank {}/{}: replicas {:?}", comm.rank(), comm.size(), mine);
    let fp = fingerprint(&input.effective_toml(), ITEM_KEYS, "sample");
    let store = ItemStore::open(comm, &cfg.output.file, fp, cfg.output.overwrite)?;
    let every = cfg.output.item_save_interval();
    let done = store.run_resumable(comm, "replica", cfg.sample.replicas, every, |r, sp| {
        Ok(run_replica_at(cfg, r, Some(sp))?.map(|o| o.to_buffer()))
    })?;
    let bufs: Vec<Vec<f64>> = done.into_iter().map(|(_, b)| b).collect();
    crate::io::warnings::gather(comm);
    let gathered = comm.gather_to_root(pack(&bufs));
    let Some(gathered) = gathered else { return Ok(None) };
    let mut replicas: Vec<ReplicaOutput> =
        gathered.iter().flat_map(|b| unpack(b)).map(|b| ReplicaOutput::from_buffer(&b)).collect();
    replicas.sort_by_key(|r| r.replica);
    let summary = summarize(input, replicas);
    let out = out.expect("root has the output file");
    let prov = super::provenance(input, comm, start, "sample");
    if let Err(e) = write_results(input, &summary, &prov, out.temp_path()) {
        out.abandon();
        return Err(e.context(format!("writing results file '{}'", out.target().display())));
    }
    out.commit()?;
    store.remove();
    log::info!("wrote {}", out.target().display());
    Ok(Some(summary))
}

fn estimate(series: &[Vec<f64>]) -> BlockEstimate {
    let per: Vec<BlockEstimate> = series.iter().filter(|s| !s.is_empty()).map(|s| block_average(s)).collect();
    let c = combine_replicas(&per);
    if !c.converged {
        log::warn!("block averaging did not reach a plateau; standard errors may be underestimated (run longer)");
    }
    c
}

/// Combines the replicas into scalar results and the RDF.
pub fn summarize(input: &Input, replicas: Vec<ReplicaOutput>) -> SampleSummary {
    let cfg = &input.config;
    let (n, t, rho) = (cfg.sys().n_particles, cfg.sys().temperature, cfg.sys().density);
    let method = match cfg.sample.method {
        SampleMethod::Mc => "mc",
        SampleMethod::Langevin => "langevin",
    };
    let res = |name: &str, method: &str, value: f64, stderr: f64, units: &str| ScalarResult {
        name: name.into(),
        method: method.into(),
        n_particles: n,
        temperature: t,
        density: rho,
        value,
        stderr,
        units: units.into(),
    };
    let mut results = Vec::new();
    let u = estimate(&replicas.iter().map(|r| r.energy.clone()).collect::<Vec<_>>());
    results.push(res("potential_energy_per_particle", method, u.mean, u.stderr, "epsilon"));
    let p = estimate(&replicas.iter().map(|r| r.pressure.clone()).collect::<Vec<_>>());
    results.push(res("pressure", method, p.mean, p.stderr, "epsilon/sigma^3"));
    if cfg.sample.widom_insertions > 0 {
        let b = estimate(&replicas.iter().map(|r| r.widom.clone()).collect::<Vec<_>>());
        let tail = pair_energy(cfg).tail.chemical_potential / t;
        // beta mu_ex = -ln <B> + beta mu_tail; delta method: SE = SE(B) / <B>.
        results.push(res("beta_mu_ex", "widom", -b.mean.ln() + tail, b.stderr / b.mean, "kT"));
    }
    if cfg.sample.method == SampleMethod::Langevin {
        let k = estimate(&replicas.iter().map(|r| r.kinetic.clone()).collect::<Vec<_>>());
        results.push(res("kinetic_temperature", method, 2.0 / 3.0 * k.mean, 2.0 / 3.0 * k.stderr, "epsilon/k_B"));
    } else {
        let acc = replicas.iter().map(|r| r.acceptance).sum::<f64>() / replicas.len() as f64;
        results.push(res("mc_acceptance", method, acc, f64::NAN, "1"));
    }
    let rdf = rdf_summary(input, &replicas);
    SampleSummary { results, replicas, rdf }
}

fn rdf_summary(input: &Input, replicas: &[ReplicaOutput]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let cfg = &input.config;
    if cfg.sample.rdf_bins == 0 {
        return (vec![], vec![], vec![]);
    }
    let e = pair_energy(cfg);
    let r_max = cfg.sample.rdf_max.unwrap_or(0.5 * e.simbox.side());
    let per: Vec<Vec<f64>> = replicas
        .iter()
        .map(|r| {
            let h = RdfHistogram { r_max, counts: r.rdf_counts.clone(), frames: r.rdf_frames as u64 };
            h.g(e.n, &e.simbox)
        })
        .collect();
    let nb = cfg.sample.rdf_bins;
    let m = per.len() as f64;
    let mean: Vec<f64> = (0..nb).map(|k| per.iter().map(|g| g[k]).sum::<f64>() / m).collect();
    let err: Vec<f64> = (0..nb)
        .map(|k| {
            if per.len() < 2 {
                return f64::NAN;
            }
            let v = per.iter().map(|g| (g[k] - mean[k]).powi(2)).sum::<f64>() / (m - 1.0);
            (v / m).sqrt()
        })
        .collect();
    let centers = RdfHistogram::new(nb, r_max).centers();
    (centers, mean, err)
}

fn write_results(input: &Input, s: &SampleSummary, prov: &Provenance, path: &Path) -> Result<()> {
    let cfg = &input.config;
    let f = hdf5::File::create(path)?;
    h5md::write_header(&f)?;
    let n = cfg.sys().n_particles;
    let l = cfg.box_side();
    let (dt, time_unit) = match cfg.sample.method {
        SampleMethod::Mc => (1.0, "sweep"),
        SampleMethod::Langevin => (cfg.sample.timestep, "tau"),
    };
    for r in &s.replicas {
        let name = format!("replica_{:03}", r.replica);
        let time: Vec<f64> = r.step.iter().map(|k| k * dt).collect();
        if !r.frames.is_empty() {
            let t = h5md::Trajectory { frames: &r.frames, n, side: l, step: &r.step, time: &time, time_unit };
            h5md::write_trajectory(&f, &name, &t)?;
        }
        let series = [
            ("potential_energy_per_particle", &r.energy, "epsilon", true),
            ("pressure", &r.pressure, "epsilon sigma-3", true),
            ("widom_boltzmann_factor", &r.widom, "1", false),
            ("kinetic_energy_per_particle", &r.kinetic, "epsilon", false),
        ];
        for (obs, value, unit, always) in series {
            if always || !value.is_empty() {
                h5md::write_observable(&f, &format!("{name}/{obs}"), value, unit, &r.step, &time, time_unit)?;
            }
        }
        let g = h5util::group_p(&f, &format!("observables/{name}"))?;
        h5util::set_f64(&g, "mc_acceptance", r.acceptance)?;
        h5util::set_f64(&g, "mc_step", r.mc_step)?;
        h5util::set_f64(&g, "wall_seconds", r.wall_seconds)?;
    }
    if !s.rdf.0.is_empty() {
        // Not a time series, so outside /observables (H5MD readers expect value/step/time there).
        let g = h5util::group_p(&f, "rdf")?;
        let nb = s.rdf.0.len();
        h5util::write_f64(&g, "r", &[nb], &s.rdf.0)?;
        h5util::write_f64(&g, "g", &[nb], &s.rdf.1)?;
        h5util::write_f64(&g, "g_stderr", &[nb], &s.rdf.2)?;
    }
    let rg = f.create_group("results")?;
    for r in &s.results {
        r.write(&rg)?;
    }
    let sys = f.create_group("system")?;
    h5util::set_i64(&sys, "n_particles", n as i64)?;
    h5util::set_f64(&sys, "density", cfg.sys().density)?;
    h5util::set_f64(&sys, "temperature", cfg.sys().temperature)?;
    h5util::set_f64(&sys, "box_side", l)?;
    h5util::set_str(
        &sys,
        "cutoff",
        &toml::Value::try_from(cfg.sys().cutoff).map(|v| v.to_string()).unwrap_or_default(),
    )?;
    let rc = match cfg.sys().cutoff {
        crate::config::Cutoff::Radius(r) => r,
        crate::config::Cutoff::MinImage => f64::NAN,
    };
    h5util::set_f64(&sys, "cutoff_radius", rc)?;
    h5util::set_i64(&sys, "shift", cfg.sys().shift as i64)?;
    h5util::set_i64(&sys, "tail_correction", cfg.sys().tail_correction as i64)?;
    prov.write_to(&f)?;
    f.close()?;
    Ok(())
}

/// The printed report: every result, beside reference values where they apply.
pub fn report(input: &Input, s: &SampleSummary) -> String {
    let cfg = &input.config;
    let mut out = format!(
        "\nnti sample: Lennard-Jones N = {}, rho = {}, T = {}, cutoff = {}, {} replicas x {} steps ({})\n",
        cfg.sys().n_particles,
        cfg.sys().density,
        cfg.sys().temperature,
        toml::Value::try_from(cfg.sys().cutoff).map(|v| v.to_string()).unwrap_or_default(),
        cfg.sample.replicas,
        cfg.sample.production,
        match cfg.sample.method {
            SampleMethod::Mc => "Metropolis MC sweeps",
            SampleMethod::Langevin => "Langevin BAOAB steps",
        }
    );
    out += &crate::reference::comparison_table(cfg, &s.results);
    out += &format!("results written to {}\n", cfg.output.file);
    out
}
