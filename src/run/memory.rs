//! Peak-memory estimate of a run's stages, checked against the memory this machine has available
//! (`MemAvailable` of /proc/meminfo) before any large allocation: an input too big for the machine
//! (say `n_particles = 1000000000`) is an input error naming the estimate, the memory and the keys
//! that drive it, not an allocation failure hours into a job.
//!
//! The estimate is an upper bound of the dominant arrays, each written out below, times
//! [`SAFETY`] for what is not itemised (allocator slack, temporaries, small per-step arrays):
//! - particle state, per replica/chain: 6 arrays of N x 3 f64 (positions, previous positions,
//!   forces, velocities, two scratch copies), cell lists (2 indices per particle) and a neighbour
//!   list of N x min(N, 4/3 pi (r_c + 0.5)^3 rho + 1) indices (skin <= 0.5 sigma; none in
//!   min-image mode, which sums over all pairs without a list);
//! - trajectories kept in memory: configurations x N x 3 f64, three times on rank 0 (each rank's
//!   send buffer, the gathered copy, the unpacked frames);
//! - model evaluation, per configuration of a batch: N x neighbours(r_cut) x width x 4 f64 (values
//!   and three derivative components per pair feature; width = the widest layer);
//! - training data: every data file's size on disk, twice (read buffer and configurations);
//! - MBAR: K x K x samples f64, three times (reduced energies, weights, a working copy).
//!
//! Every rank of a node may hold its share at once, so the estimate is for the whole job on one
//! node (all replicas, windows and chains), not per rank.

use crate::config::{Config, Cutoff};
use crate::exit::BadInput;
use std::path::Path;

/// Factor for what the itemised arrays leave out.
pub const SAFETY: f64 = 2.0;
const F64: f64 = 8.0;

/// Estimated peak memory of one stage.
#[derive(Clone, Debug, PartialEq)]
pub struct StageMemory {
    /// Command of the stage (sample, train, generate, ti, baseline).
    pub stage: &'static str,
    /// Upper bound in bytes.
    pub bytes: f64,
    /// The input keys that drive it, for the error message.
    pub keys: &'static str,
}

/// Neighbours per particle within `r` at density `rho` (itself included), at most N.
fn neighbours(n: f64, rho: f64, r: f64) -> f64 {
    (4.0 / 3.0 * std::f64::consts::PI * r.powi(3) * rho + 1.0).min(n)
}

/// One replica's or chain's particle state (positions, forces, cells, neighbour list).
fn particle_state(n: f64, rho: f64, r_list: f64) -> f64 {
    6.0 * n * 3.0 * F64 + 2.0 * n * F64 + n * neighbours(n, rho, r_list) * F64
}

/// Evaluating the energy model (and its derivatives) on one configuration.
fn model_eval(cfg: &Config, n: f64, rho: f64) -> f64 {
    let m = &cfg.model;
    let width = [m.n_radial, m.mp_scalars + 3 * m.mp_vectors, m.mp_radial]
        .into_iter()
        .chain(m.hidden.iter().copied())
        .max()
        .unwrap_or(1) as f64;
    let (_, rc) = m.network_cutoff();
    particle_state(n, rho, rc + 0.5) + n * neighbours(n, rho, rc) * width * 4.0 * F64
}

/// N, rho and the spherical cutoff (0 for min-image) of `[system]`.
fn system_size(cfg: &Config) -> (f64, f64, f64) {
    let s = cfg.sys();
    let rc = match s.cutoff {
        Cutoff::Radius(r) => r,
        Cutoff::MinImage => 0.0,
    };
    (s.n_particles as f64, s.density, rc)
}

/// `nti sample`: every replica's state plus the trajectories and observables kept in memory.
pub fn sample(cfg: &Config) -> StageMemory {
    let (n, rho, rc) = system_size(cfg);
    let p = &cfg.sample;
    let replicas = p.replicas as f64;
    let frames = (p.production / p.stride.max(1) + 1) as f64;
    let traj = if p.trajectory { replicas * frames * n * 3.0 * F64 } else { 0.0 };
    let rdf = (p.rdf_bins as f64) * replicas * F64;
    let bytes =
        SAFETY * (replicas * particle_state(n, rho, rc + 0.5) + 3.0 * traj + replicas * frames * 5.0 * F64 + rdf);
    StageMemory {
        stage: "sample",
        bytes,
        keys: "[system] n_particles, [sample] replicas, production / stride with trajectory = true",
    }
}

/// `nti baseline`: one MC state per lambda window and the MBAR matrices.
pub fn baseline(cfg: &Config) -> StageMemory {
    let (n, rho, rc) = system_size(cfg);
    let b = &cfg.baseline;
    let k = b.windows as f64;
    let samples = (b.production / b.stride.max(1) + 1) as f64;
    let mbar = if b.mbar { 3.0 * k * k * samples * F64 } else { 0.0 };
    let bytes = SAFETY * (k * particle_state(n, rho, rc + 0.5) + mbar + 3.0 * k * samples * F64);
    StageMemory { stage: "baseline", bytes, keys: "[system] n_particles, [baseline] windows, production / stride" }
}

/// `nti train`: the training data (from the files' sizes) and one batch of model evaluations
/// at the data's largest N and density (read from the files; files that cannot be read count
/// as empty here and are reported when training loads them).
pub fn train(cfg: &Config) -> StageMemory {
    let mut data = 0.0;
    let (mut n, mut rho) = (0.0f64, 0.0f64);
    for f in &cfg.train.data {
        data += std::fs::metadata(f).map(|m| m.len() as f64).unwrap_or(0.0);
        if let Ok((fn_, _, l, _)) = crate::io::trajectories::read_system(Path::new(f)) {
            n = n.max(fn_ as f64);
            rho = rho.max(fn_ as f64 / l.powi(3));
        }
    }
    let batch = cfg.train.batch as f64;
    let bytes = SAFETY * (2.0 * data + batch * model_eval(cfg, n, rho));
    StageMemory { stage: "train", bytes, keys: "[train] data (file sizes), batch, [model] r_cut, hidden" }
}

/// `nti generate` (and the reverse SDE of `nti ti`, with `ti` its windows and chains): the
/// trajectories and their snapshots, one batch of model evaluations, the window chains.
pub fn generate(cfg: &Config, ti: bool) -> Option<StageMemory> {
    let side = cfg.require_generate().ok()?;
    let g = &cfg.generate;
    let t = &cfg.ti;
    let (windows, chains) = if ti { (t.windows as f64, t.window_chains as f64) } else { (0.0, 0.0) };
    let per_n = |n: usize| {
        let (n, rho) = (n as f64, n as f64 / side.powi(3));
        let conf = n * 3.0 * F64;
        let trajectories = 3.0 * g.trajectories as f64 * conf * (2.0 + windows + g.corrector_t.len() as f64);
        let series = windows * chains * (t.window_steps / t.window_stride.max(1) + 1) as f64 * F64;
        let window_chains = windows * chains * (particle_state(n, rho, 0.0) + model_eval(cfg, n, rho));
        trajectories + g.batch as f64 * model_eval(cfg, n, rho) + window_chains + series
    };
    let bytes = SAFETY * g.n_particles.iter().map(|&n| per_n(n)).fold(0.0, f64::max);
    let (stage, keys) = if ti {
        ("ti", "[generate] n_particles, trajectories, batch, [ti] windows, window_chains")
    } else {
        ("generate", "[generate] n_particles, trajectories, batch")
    };
    Some(StageMemory { stage, bytes, keys })
}

/// The stages a command runs (`nti check`: every stage the input has sections for).
pub fn stages(cfg: &Config, command: &str) -> Vec<StageMemory> {
    let sys = cfg.system.is_some();
    match command {
        "sample" if sys => vec![sample(cfg)],
        "baseline" if sys => vec![baseline(cfg)],
        "train" => vec![train(cfg)],
        "generate" => generate(cfg, false).into_iter().collect(),
        "ti" => generate(cfg, true).into_iter().collect(),
        "run" if sys => {
            // The pipeline's stages at their largest N in the one box (training data do not exist yet).
            let s = cfg.sys();
            let v = cfg.box_side().powi(3);
            let at = |n: usize| {
                let mut c = cfg.clone();
                let sc = c.system.as_mut().expect("checked");
                (sc.n_particles, sc.density) = (n, n as f64 / v);
                c
            };
            let most = |ns: Vec<usize>| ns.into_iter().max().unwrap_or(s.n_particles);
            let mut st = at(most(cfg.pipeline.train_n(s.n_particles)));
            st.sample.trajectory = true;
            let mut out = vec![sample(&st), baseline(&at(most(cfg.pipeline.baseline_n.clone())))];
            let mut ti = cfg.clone();
            ti.generate.model = "(pipeline)".into();
            ti.generate.n_particles = cfg.pipeline.ti_n(s.n_particles);
            ti.generate.box_side = Some(cfg.box_side());
            out.extend(generate(&ti, true));
            out
        }
        "check" => {
            let mut out = Vec::new();
            if sys {
                out.push(sample(cfg));
                out.push(baseline(cfg));
            }
            if !cfg.train.data.is_empty() {
                out.push(train(cfg));
            }
            out.extend(generate(cfg, true));
            out
        }
        _ => vec![],
    }
}

/// `MemAvailable` of /proc/meminfo in bytes (`None` where there is none).
pub fn available() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// Human-readable bytes.
pub fn show(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}

/// Refuses stages whose estimate exceeds `available` bytes (bad input, exit code 2).
pub fn check(stages: &[StageMemory], available: Option<f64>) -> Result<(), BadInput> {
    let Some(avail) = available else { return Ok(()) };
    match stages.iter().find(|s| s.bytes > avail) {
        None => Ok(()),
        Some(s) => Err(BadInput(format!(
            "nti {} would need about {} of memory (estimate, see `nti check`), but this machine has {} available \
             (MemAvailable); reduce {}",
            s.stage,
            show(s.bytes),
            show(avail),
            s.keys
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Input, EXAMPLE_INPUT};

    #[test]
    fn a_billion_particles_is_refused_and_the_example_fits() {
        let big = Input::from_text(EXAMPLE_INPUT, &["system.n_particles=1000000000".into()], "x").unwrap();
        let s = sample(&big.config);
        // Positions alone are 24 GB.
        assert!(s.bytes > 24e9, "{}", show(s.bytes));
        let e = check(&[s], Some(64e9)).unwrap_err().to_string();
        assert!(e.contains("nti sample would need about") && e.contains("[system] n_particles"), "{e}");
        assert!(e.contains("59.6 GiB available"), "{e}");
        let ex = Input::from_text(EXAMPLE_INPUT, &[], "x").unwrap();
        let all = stages(&ex.config, "check");
        assert!(!all.is_empty());
        assert!(all.iter().all(|s| s.bytes < 1e9), "{all:?}");
        assert!(check(&all, Some(2e9)).is_ok());
        assert!(check(&all, None).is_ok());
    }

    #[test]
    fn estimates_grow_with_what_drives_them() {
        let at = |set: &[&str]| {
            let i = Input::from_text(EXAMPLE_INPUT, &set.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "x");
            sample(&i.unwrap().config).bytes
        };
        let base = at(&["sample.trajectory=true"]);
        assert!(at(&["sample.trajectory=true", "sample.replicas=8"]) > base);
        assert!(at(&["sample.trajectory=true", "sample.production=100000"]) > base);
        assert!(at(&["sample.trajectory=false"]) < base);
    }
}
