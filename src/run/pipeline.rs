//! `nti run`: the whole pipeline in one box of side L = (`[system]` n_particles / density)^(1/3):
//!
//! 1. `sample` at every training N (density N / L^3, trajectories on; seed = `[run]` seed + N);
//! 2. `train`: one model on all of them;
//! 3. `ti`: Neural TI at every TI N (reverse SDE, corrected windows, AIS as configured);
//! 4. `baseline`: conventional TI + MBAR at every baseline N (seed = `[run]` seed + 1000003 + N);
//! 5. summary: every stage's scalar results, plus N beta a_ex from the Kolafa-Nezbeda and
//!    Johnson-Zollweg-Gubbins equations of state when the system is full LJ (spherical cutoff with
//!    tail corrections), in the output file, and a comparison table on standard output.
//!
//! Stage files live in `[pipeline] directory`. A stage whose file exists is reused when the
//! sections it depends on (e.g. `[system]`, `[sample]`, `[run]` for sampling) are unchanged in that
//! file's recorded effective input; otherwise the run stops with an error, unless
//! `[output] overwrite = true`, which reruns it. So an interrupted or extended pipeline (more TI N,
//! other estimator settings) redoes only what changed. Within a stage, an interrupted training
//! resumes from its checkpoint (`train.ckpt.h5`) and the other stages keep their finished work
//! items (`<stage file>.partial/`), so a resubmitted job continues where the last one stopped.

use super::{baseline::run_baseline, run_sample, ti::run_ti, train::run_train};
use crate::config::{Config, Cutoff, Input};
use crate::eos::{johnson_zollweg_gubbins, kolafa_nezbeda, LjEos};
use crate::io::{h5util, summary, ScalarResult};
use crate::parallel::Comm;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Seed offset of the baseline stages (distinct from the sampling stages' seed + N).
const BASELINE_SEED_OFFSET: u64 = 1_000_003;

/// The sections each stage depends on (a stage file is reused only if these are unchanged).
const SAMPLE_KEYS: &[&str] = &["system", "sample", "run"];
const TRAIN_KEYS: &[&str] = &["model", "train", "run"];
const TI_KEYS: &[&str] = &["generate", "ti", "run"];
const BASELINE_KEYS: &[&str] = &["system", "baseline", "run"];

/// Stage directory: `[pipeline] directory`, or `<output file stem>_stages`.
pub fn stage_dir(cfg: &Config) -> PathBuf {
    if cfg.pipeline.directory.is_empty() {
        PathBuf::from(format!("{}_stages", cfg.output.file.trim_end_matches(".h5")))
    } else {
        PathBuf::from(&cfg.pipeline.directory)
    }
}

/// The stage's input: the pipeline's text and overrides, the stage's configuration.
fn stage_input(input: &Input, config: Config, what: &str) -> Input {
    let mut overrides = input.overrides.clone();
    overrides.push(format!("# nti run stage: {what}"));
    Input { config, text: input.text.clone(), overrides, source: input.source.clone() }
}

/// `keys` sections of a configuration, as a TOML table.
fn sections(config: &toml::Table, keys: &[&str]) -> toml::Table {
    keys.iter().filter_map(|k| config.get(*k).map(|v| (k.to_string(), v.clone()))).collect()
}

/// Rank 0's verdict on an existing stage file: reuse (true), run (false), or an error.
fn reuse_verdict(path: &Path, stage: &Input, keys: &[&str], overwrite: bool) -> Result<bool> {
    if !path.exists() {
        return Ok(false);
    }
    if overwrite {
        log::info!("stage file {} exists; rerunning it ([output] overwrite = true)", path.display());
        return Ok(false);
    }
    let recorded = (|| -> Result<toml::Table> {
        let f = hdf5::File::open(path)?;
        let g = f.group("provenance")?;
        let text = h5util::get_str(&g, "effective_input")?;
        f.group("results")?;
        Ok(text.parse::<toml::Table>()?)
    })()
    .with_context(|| format!("stage file '{}' exists but is not a finished nti results file", path.display()))?;
    let wanted: toml::Table = stage.effective_toml().parse().context("effective input")?;
    let (had, want) = (sections(&recorded, keys), sections(&wanted, keys));
    if had == want {
        log::info!("reusing stage file {} (its [{}] sections match)", path.display(), keys.join("], ["));
        Ok(true)
    } else {
        bail!(
            "stage file '{}' was made with different settings ({}); delete it, choose another [pipeline] \
             directory, or set [output] overwrite = true to rerun it",
            path.display(),
            first_difference(&had, &want)
        )
    }
}

/// The first key whose value differs between a stage file's recorded sections and this input's,
/// as "[section] key = <file's> in the file, <input's> in this input" ("(absent)" where missing).
fn first_difference(had: &toml::Table, want: &toml::Table) -> String {
    let show = |v: Option<&toml::Value>| v.map_or("(absent)".to_string(), |v| v.to_string());
    let empty = toml::Table::new();
    let mut names: Vec<&String> = had.keys().chain(want.keys()).collect();
    names.sort();
    names.dedup();
    for s in names {
        let (a, b) = (had.get(s), want.get(s));
        let (ta, tb) = (a.and_then(|v| v.as_table()).unwrap_or(&empty), b.and_then(|v| v.as_table()).unwrap_or(&empty));
        let mut keys: Vec<&String> = ta.keys().chain(tb.keys()).collect();
        keys.sort();
        keys.dedup();
        if let Some(k) = keys.into_iter().find(|k| ta.get(*k) != tb.get(*k)) {
            return format!("[{s}] {k} = {} in the file, {} in this input", show(ta.get(k)), show(tb.get(k)));
        }
        if a != b {
            return format!("[{s}] = {} in the file, {} in this input", show(a), show(b));
        }
    }
    "no difference found".into()
}

/// Runs one stage on every rank unless rank 0 finds a reusable file.
fn stage(comm: &Comm, path: &Path, input: &Input, keys: &[&str], run: impl FnOnce(&Input) -> Result<()>) -> Result<()> {
    let overwrite = input.config.output.overwrite;
    let verdict = if comm.is_root() {
        reuse_verdict(path, input, keys, overwrite).map_err(crate::exit::bad_input)
    } else {
        Ok(false)
    };
    let reuse = comm.agree(verdict)?;
    match comm.broadcast_i64(reuse as i64) {
        1 => Ok(()),
        // The stage file is absent or `[output] overwrite = true`: the stage's own checks (e.g.
        // resuming training from its checkpoint, finished work items) see the user's setting.
        _ => run(input),
    }
}

/// Runs the pipeline; rank 0 returns every scalar result.
pub fn run_pipeline(input: &Input, comm: &Comm) -> Result<Option<Vec<ScalarResult>>> {
    let cfg = &input.config;
    cfg.validate_run()?;
    let sys = cfg.require_system()?.clone();
    let side = cfg.box_side();
    let volume = side.powi(3);
    let start = Instant::now();
    let out = super::prepare_output(input, comm)?;
    let dir = stage_dir(cfg);
    let made = if comm.is_root() {
        std::fs::create_dir_all(&dir).map_err(|e| {
            let key = if cfg.pipeline.directory.is_empty() {
                "default: the [output] file's name without .h5, plus _stages".to_string()
            } else {
                format!("[pipeline] directory = \"{}\"", cfg.pipeline.directory)
            };
            anyhow::Error::new(crate::exit::BadInput(format!(
                "cannot create the stage directory '{}' ({key}): {e}",
                dir.display()
            )))
        })
    } else {
        Ok(())
    };
    comm.agree(made)?;
    let file = |name: String| dir.join(name).display().to_string();
    let at_n = |n: usize, seed: u64, out_file: String| {
        let mut c = cfg.clone();
        let s = c.system.as_mut().expect("checked");
        s.n_particles = n;
        s.density = n as f64 / volume;
        c.run.seed = seed;
        c.output.file = out_file;
        c
    };
    let train_n = cfg.pipeline.train_n(sys.n_particles);
    let ti_n = cfg.pipeline.ti_n(sys.n_particles);
    log::info!(
        "nti run: box L = {side:.6}, training N {train_n:?}, TI N {ti_n:?}, baseline N {:?}, stages in {}",
        cfg.pipeline.baseline_n,
        dir.display()
    );

    // 1. Reference simulations.
    let mut data = Vec::new();
    for &n in &train_n {
        let mut c = at_n(n, cfg.run.seed.wrapping_add(n as u64), file(format!("sample_N{n}.h5")));
        c.sample.trajectory = true;
        data.push(c.output.file.clone());
        let si = stage_input(input, c, &format!("sample N = {n}"));
        stage(comm, Path::new(&data[data.len() - 1]), &si, SAMPLE_KEYS, |i| run_sample(i, comm).map(|_| ()))?;
    }
    // 2. One model on all of them.
    let mut used: Vec<PathBuf> = data.iter().map(PathBuf::from).collect();
    let mut c = cfg.clone();
    c.train.data = data;
    c.output.file = file("train.h5".into());
    let model_file = c.output.file.clone();
    used.push(PathBuf::from(&model_file));
    let ti_in = stage_input(input, c, "train");
    stage(comm, Path::new(&model_file), &ti_in, TRAIN_KEYS, |i| run_train(i, comm, None).map(|_| ()))?;
    // 3. Neural TI.
    let mut c = cfg.clone();
    c.generate.model = model_file;
    c.generate.n_particles = ti_n.clone();
    c.generate.box_side = Some(side);
    c.output.file = file("ti.h5".into());
    let ti_file = c.output.file.clone();
    let si = stage_input(input, c, "ti");
    stage(comm, Path::new(&ti_file), &si, TI_KEYS, |i| run_ti(i, comm).map(|_| ()))?;
    // 4. Baselines.
    used.push(PathBuf::from(&ti_file));
    let mut files = vec![PathBuf::from(&ti_file)];
    for &n in &cfg.pipeline.baseline_n {
        let seed = cfg.run.seed.wrapping_add(BASELINE_SEED_OFFSET + n as u64);
        let c = at_n(n, seed, file(format!("baseline_N{n}.h5")));
        let path = PathBuf::from(&c.output.file);
        let si = stage_input(input, c, &format!("baseline N = {n}"));
        stage(comm, &path, &si, BASELINE_KEYS, |i| run_baseline(i, comm).map(|_| ()))?;
        files.push(path);
    }
    // 5. Summary on rank 0.
    let Some(out) = out else { return Ok(None) };
    let mut results = Vec::new();
    for f in &files {
        results.extend(summary::read_results(f)?);
    }
    results.extend(eos_results(cfg, &ti_n, volume));
    let mu = chemical_potentials(&results);
    results.extend(mu);
    used.extend(files[1..].iter().cloned());
    let mut prov = super::provenance(input, comm, start, "run");
    // The stages' warnings (run now or reused), each with its stage file, before the run's own.
    let mut warnings = Vec::new();
    for f in &used {
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        match crate::io::warnings::read(f) {
            Ok(w) => warnings.extend(w.into_iter().map(|w| format!("{name}: {w}"))),
            Err(e) => log::warn!("cannot read the warnings of stage file '{}': {e:#}", f.display()),
        }
    }
    warnings.append(&mut crate::logging::take_warnings());
    warnings.append(&mut prov.warnings);
    prov.warnings = warnings;
    let written = (|| -> Result<()> {
        let f = hdf5::File::create(out.temp_path())?;
        let g = f.create_group("results")?;
        for r in &results {
            r.write(&g)?;
        }
        let s = f.create_group("pipeline")?;
        h5util::set_f64(&s, "box_side", side)?;
        h5util::set_str(&s, "stage_directory", &dir.display().to_string())?;
        let stages: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        h5util::set_str(&s, "result_files", &stages.join("\n"))?;
        prov.write_to(&f)?;
        Ok(())
    })();
    if let Err(e) = written {
        out.abandon();
        return Err(e);
    }
    out.commit()?;
    Ok(Some(results))
}

/// beta mu_ex(N) = beta A_ex(N + 1) - beta A_ex(N) for every method with both N and N + 1 (from
/// any stage files: the baselines run one N per file) that does not report it already; standard
/// errors combined in quadrature (independent runs). For the equations of state, the difference
/// of N beta a_ex, i.e. the finite-difference chemical potential at rho = (N + 1/2) / V.
fn chemical_potentials(results: &[ScalarResult]) -> Vec<ScalarResult> {
    let a: Vec<&ScalarResult> = results.iter().filter(|r| r.name == "beta_a_ex").collect();
    let mut out = Vec::new();
    for ra in &a {
        let have =
            |m: &str, n: usize| results.iter().any(|r| r.name == "beta_mu_ex" && r.method == m && r.n_particles == n);
        if have(&ra.method, ra.n_particles) {
            continue;
        }
        if let Some(rb) = a.iter().find(|rb| rb.method == ra.method && rb.n_particles == ra.n_particles + 1) {
            out.push(ScalarResult {
                name: "beta_mu_ex".into(),
                value: rb.value - ra.value,
                stderr: (ra.stderr.powi(2) + rb.stderr.powi(2)).sqrt(),
                ..(*ra).clone()
            });
        }
    }
    out
}

/// N beta a_ex(N / V) from both LJ equations of state, when the system is full LJ (spherical
/// cutoff with tail corrections, unshifted); none otherwise (min-image or truncated systems are
/// not what the equations describe).
fn eos_results(cfg: &Config, ns: &[usize], volume: f64) -> Vec<ScalarResult> {
    let s = cfg.sys();
    if !(matches!(s.cutoff, Cutoff::Radius(_)) && s.tail_correction && !s.shift) {
        return vec![];
    }
    let models: [(&str, &dyn LjEos); 2] =
        [("eos-kolafa-nezbeda", kolafa_nezbeda()), ("eos-jzg", johnson_zollweg_gubbins())];
    let mut out = Vec::new();
    for &n in ns {
        let rho = n as f64 / volume;
        for (method, e) in models {
            out.push(ScalarResult {
                name: "beta_a_ex".into(),
                method: method.into(),
                n_particles: n,
                temperature: s.temperature,
                density: rho,
                value: n as f64 * e.beta_a_ex(rho, s.temperature),
                stderr: f64::NAN,
                units: "kT".into(),
            });
        }
    }
    out
}

/// The comparison table printed by `nti run`: beta A_ex(N) by every method, and each method's
/// difference from the conventional baseline (MBAR, else TI) in combined standard errors.
pub fn report(results: &[ScalarResult]) -> String {
    let mut ns: Vec<usize> = results.iter().filter(|r| r.name == "beta_a_ex").map(|r| r.n_particles).collect();
    ns.sort_unstable();
    ns.dedup();
    let mut s = String::from("beta A_ex(N) in kT (excess free energy of N particles in the pipeline's box)\n");
    s += &format!("{:>6} {:>9}  {:<28} {:>12} {:>10} {:>12}\n", "N", "rho", "method", "value", "stderr", "z vs base");
    for n in ns {
        let rows: Vec<&ScalarResult> = results.iter().filter(|r| r.name == "beta_a_ex" && r.n_particles == n).collect();
        let base = rows
            .iter()
            .find(|r| r.method.starts_with("mbar"))
            .or_else(|| rows.iter().find(|r| r.method.starts_with("ti-")))
            .copied();
        // AIS whose effective sample size is too small for an error bar is marked, not compared.
        let ais_ess = results
            .iter()
            .find(|r| r.name == "ais_effective_sample_size" && r.n_particles == n)
            .map(|r| r.value)
            .filter(|&e| e < crate::report::checks::ais_min_ess(0));
        for r in &rows {
            if let (true, Some(ess)) = (r.method == "ais", ais_ess) {
                s += &format!(
                    "{:>6} {:>9.5}  {:<28} {:>12.4} {:>10.4} {:>12}  (not informative: effective sample size {ess:.1})\n",
                    n, r.density, r.method, r.value, r.stderr, "-"
                );
                continue;
            }
            let z = match base {
                Some(b) if !std::ptr::eq(*r, b) && r.stderr.is_finite() && b.stderr.is_finite() => {
                    format!("{:>12.2}", (r.value - b.value) / (r.stderr.powi(2) + b.stderr.powi(2)).sqrt())
                }
                _ => format!("{:>12}", "-"),
            };
            s += &format!("{:>6} {:>9.5}  {:<28} {:>12.4} {:>10.4} {z}\n", n, r.density, r.method, r.value, r.stderr);
        }
    }
    let mu: Vec<&ScalarResult> = results.iter().filter(|r| r.name == "beta_mu_ex").collect();
    if !mu.is_empty() {
        s += "beta mu_ex(N) = beta A_ex(N+1) - beta A_ex(N) in kT\n";
        for r in mu {
            s += &format!(
                "{:>6} {:>9.5}  {:<28} {:>12.4} {:>10.4}\n",
                r.n_particles, r.density, r.method, r.value, r.stderr
            );
        }
    }
    s
}
