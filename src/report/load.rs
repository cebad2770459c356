//! Reads everything `nti report` shows from a results file of any stage (sample, train, generate,
//! ti, baseline, run) into plain vectors. A run file holds only the scalar results; its stage files
//! (the TI and baseline files it lists under `/pipeline`, and the sample and training files of its
//! stage directory) are read for the arrays. What a file does not hold is simply absent.

use crate::exit::BadInput;
use crate::io::h5util::{get_f64, get_str};
use crate::io::{summary, ScalarResult};
use anyhow::{Context, Result};
use hdf5::Group;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stages that write results files (the `command` of `/provenance`).
pub const KINDS: [&str; 6] = ["sample", "train", "generate", "ti", "baseline", "run"];

/// Named columns of one group (dataset name -> values, row-major).
pub type Columns = BTreeMap<String, Vec<f64>>;

/// Pair-distance shells of an attribution: edges (S + 1, sigma), and per term the values and errors
/// (kT) of S shells, the overflow and the unbinned part.
pub type Shells = (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>);

/// One attribution (`/ti/N<n>/attribution/<label>`, see [`crate::io::attribution`]).
#[derive(Clone, Debug, Default)]
pub struct Attribution {
    /// "mala", "hmc" or "uncorrected".
    pub label: String,
    /// The estimate's method in `/results`.
    pub method: String,
    /// Term names (K).
    pub term_names: Vec<String>,
    /// Per-term values and bootstrap standard errors (kT).
    pub terms: (Vec<f64>, Vec<f64>),
    /// Sum of the terms and its bootstrap standard error (kT).
    pub total: (f64, f64),
    /// Pair-distance shells.
    pub shells: Option<Shells>,
    /// Relative completeness residuals (marginal: value).
    pub completeness: Vec<(String, f64)>,
    /// Number of bootstrap resamples.
    pub n_boot: i64,
}

/// The TI data of one N (`/ti/N<n>`).
#[derive(Clone, Debug, Default)]
pub struct TiData {
    /// Particle number.
    pub n: usize,
    /// Reverse-SDE integrand: t, mean_prior, mean_network, stderr.
    pub reverse: Columns,
    /// Window rows (columns of `WINDOW_COLUMNS`), empty without windows.
    pub windows: Columns,
    /// AIS work values (kT).
    pub ais_work: Vec<f64>,
    /// Attributions.
    pub attribution: Vec<Attribution>,
}

/// A radial distribution function.
#[derive(Clone, Debug)]
pub struct Rdf {
    /// Where it comes from ("MC reference", "reverse SDE N = 50").
    pub label: String,
    /// r (sigma), g(r), standard error (may be empty).
    pub r: Vec<f64>,
    /// g(r).
    pub g: Vec<f64>,
    /// Standard errors of g (empty when not recorded).
    pub err: Vec<f64>,
}

/// Everything the report shows.
#[derive(Clone, Debug, Default)]
pub struct ReportData {
    /// The file the report is about.
    pub file: PathBuf,
    /// Its stage (`/provenance` command).
    pub kind: String,
    /// Provenance attributes shown in the header (name, value).
    pub provenance: Vec<(String, String)>,
    /// Files read besides `file` (stage files of a run).
    pub sources: Vec<PathBuf>,
    /// Notes on what could not be read.
    pub notes: Vec<String>,
    /// The warnings the run logged (`/diagnostics`; a run's file holds its stages' too); None for
    /// files written before they were stored.
    pub warnings: Option<Vec<String>>,
    /// The equation-of-state reference of the grand-canonical figures (temperature and system).
    pub eos: Option<super::eos_line::EosReference>,
    /// Scalar results of all files read (deduplicated by name, method and N).
    pub results: Vec<ScalarResult>,
    /// TI data per N.
    pub ti: Vec<TiData>,
    /// Baseline lambda windows per N: (N, columns lambda, du_dlambda_mean, du_dlambda_stderr, ...).
    pub baselines: Vec<(usize, Columns)>,
    /// Training history (step, train_loss, val_loss, lr).
    pub training: Option<Columns>,
    /// Radial distribution functions.
    pub rdfs: Vec<Rdf>,
    /// Grand-canonical reweighting (`/grand_canonical`) and its method.
    pub grand_canonical: Option<(Columns, String)>,
    /// The fit of beta A_ex(N) (`/ti/fit`): columns n, beta_a_ex, beta_a_ex_stderr, coefficients,
    /// and (volume, degree).
    pub fit: Option<(Columns, f64, i64)>,
}

/// Reads all datasets of group `g` as f64 columns.
fn columns(g: &Group) -> Result<Columns> {
    let mut c = Columns::new();
    for name in g.member_names()? {
        if let Ok(d) = g.dataset(&name) {
            c.insert(name.clone(), d.read_raw::<f64>().with_context(|| format!("dataset '{name}'"))?);
        }
    }
    Ok(c)
}

/// The stage that wrote `f` (its `/provenance` command).
fn command_of(f: &hdf5::File) -> Option<String> {
    let g = f.group("provenance").ok()?;
    get_str(&g, "command").ok()
}

/// Opens `path` as a results file of one of [`KINDS`]; anything else is bad input (exit code 2).
fn open(path: &Path) -> Result<(hdf5::File, String)> {
    let bad = |why: String| anyhow::Error::new(BadInput(why));
    if !path.is_file() {
        return Err(bad(format!("'{}' does not exist or is not a file", path.display())));
    }
    let f = hdf5::File::open(path).map_err(|e| {
        bad(format!("'{}' is not a readable HDF5 file ({e}); expected an nti results file", path.display()))
    })?;
    let kind = command_of(&f).filter(|k| KINDS.contains(&k.as_str()));
    match (kind, f.group("results").is_ok()) {
        (Some(k), true) => Ok((f, k)),
        _ => {
            let what = if f.group("checkpoint").is_ok() { " (it is a training checkpoint)" } else { "" };
            Err(bad(format!(
                "'{}' is not an nti results file{what}: expected a /results group and /provenance written by \
                 nti {}",
                path.display(),
                KINDS.join(", nti ")
            )))
        }
    }
}

/// Reads the report's data from `path` (and, for a run, its stage files), then from every file of
/// `with` (results files of other stages of the same system, e.g. the baselines of an `nti ti`
/// file); each must be a results file like `path`.
pub fn load_with(path: &Path, with: &[PathBuf]) -> Result<ReportData> {
    let mut d = load(path)?;
    for w in with {
        let (f, _) = open(w)?;
        read_arrays(&f, &mut d).with_context(|| format!("'{}'", w.display()))?;
        merge(&mut d.results, summary::read_results(w)?);
        d.sources.push(w.clone());
    }
    d.ti.sort_by_key(|t| t.n);
    d.baselines.sort_by_key(|b| b.0);
    Ok(d)
}

/// Appends the results of `more` that `results` does not hold yet (same name, method and N).
fn merge(results: &mut Vec<ScalarResult>, more: Vec<ScalarResult>) {
    for r in more {
        if !results.iter().any(|x| x.key() == r.key()) {
            results.push(r);
        }
    }
}

/// Reads the report's data from `path` (and, for a run, its stage files).
pub fn load(path: &Path) -> Result<ReportData> {
    let (f, kind) = open(path)?;
    let mut d = ReportData { file: path.to_path_buf(), kind: kind.clone(), ..Default::default() };
    if let Ok(p) = f.group("provenance") {
        for key in ["command_line", "version", "git_commit", "n_ranks", "seed", "wall_seconds", "hostname"] {
            let v = get_str(&p, key)
                .or_else(|_| crate::io::h5util::get_i64(&p, key).map(|v| v.to_string()))
                .or_else(|_: anyhow::Error| get_f64(&p, key).map(|v| format!("{v:.1}")));
            if let Ok(v) = v {
                d.provenance.push((key.into(), v));
            }
        }
    }
    d.results = summary::read_results(path)?;
    let input = f.group("provenance").ok().and_then(|p| get_str(&p, "effective_input").ok());
    let temperature = d.results.iter().map(|r| r.temperature).find(|t| t.is_finite() && *t > 0.0);
    d.eos = super::eos_line::EosReference::from_input(input.as_deref(), temperature);
    if f.group("diagnostics").is_ok() {
        match crate::io::warnings::read_open(&f) {
            Ok(w) => d.warnings = Some(w),
            Err(e) => d.notes.push(format!("the stored warnings could not be read: {e:#}")),
        }
    }
    read_arrays(&f, &mut d).with_context(|| format!("'{}'", path.display()))?;
    if kind == "run" {
        for s in stage_files(&f, path, &mut d.notes) {
            match hdf5::File::open(&s).map_err(anyhow::Error::from).and_then(|g| {
                read_arrays(&g, &mut d)?;
                summary::read_results(&s)
            }) {
                Ok(rs) => {
                    merge(&mut d.results, rs);
                    d.sources.push(s);
                }
                Err(e) => d.notes.push(format!("stage file '{}' not read: {e:#}", s.display())),
            }
        }
    }
    d.ti.sort_by_key(|t| t.n);
    d.baselines.sort_by_key(|b| b.0);
    Ok(d)
}

/// The stage files of a run file: those listed in `/pipeline/result_files`, and the sample and
/// training files, looked up in the stage directory as recorded, else beside the run file (the
/// directory `<stem>_stages` of a moved results directory).
fn stage_files(f: &hdf5::File, path: &Path, notes: &mut Vec<String>) -> Vec<PathBuf> {
    let Ok(p) = f.group("pipeline") else { return vec![] };
    let recorded = PathBuf::from(get_str(&p, "stage_directory").unwrap_or_default());
    let beside = path.parent().unwrap_or(Path::new(".")).join(recorded.file_name().unwrap_or_default());
    let Some(dir) = [recorded.clone(), beside].into_iter().find(|d| d.is_dir()) else {
        notes.push(format!(
            "stage directory '{}' not found: only the scalar results of the run file are shown",
            recorded.display()
        ));
        return vec![];
    };
    let mut names: Vec<String> = get_str(&p, "result_files")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| Path::new(l).file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut extra: Vec<String> = rd
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| (n.starts_with("sample_N") || n == "train.h5") && n.ends_with(".h5"))
            .collect();
        extra.sort();
        names.extend(extra);
    }
    names.dedup();
    names.into_iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect()
}

/// Reads the arrays of one file (any stage) into `d`.
fn read_arrays(f: &hdf5::File, d: &mut ReportData) -> Result<()> {
    let kind = command_of(f).unwrap_or_default();
    if let Ok(ti) = f.group("ti") {
        for name in ti.member_names()? {
            let Some(n) = name.strip_prefix('N').and_then(|s| s.parse::<usize>().ok()) else { continue };
            let g = ti.group(&name)?;
            let mut t = TiData { n, ..Default::default() };
            if let Ok(r) = g.group("reverse") {
                t.reverse = columns(&r)?;
            } else if kind == "generate" {
                // nti generate writes the reverse-SDE integrand directly under /ti/N<n>.
                t.reverse = columns(&g)?;
            }
            if let Ok(w) = g.group("windows") {
                t.windows = columns(&w)?;
                t.windows.remove("series");
            }
            if let Ok(a) = g.dataset("ais_work") {
                t.ais_work = a.read_raw()?;
            }
            if let Ok(ag) = g.group("attribution") {
                for label in ag.member_names()? {
                    t.attribution.push(attribution(&ag.group(&label)?, &label)?);
                }
            }
            d.ti.push(t);
        }
        if let Ok(fit) = ti.group("fit") {
            let mut c = columns(&fit)?;
            c.remove("covariance");
            c.remove("leave_one_out");
            let degree = fit.attr("degree").and_then(|a| a.read_scalar::<i64>()).unwrap_or(0);
            d.fit = Some((c, get_f64(&fit, "volume").unwrap_or(f64::NAN), degree));
        }
    }
    if let Ok(b) = f.group("baseline") {
        let n = f
            .group("results")?
            .member_names()?
            .iter()
            .find_map(|k| k.rsplit("__N").next().and_then(|s| s.parse::<usize>().ok()))
            .unwrap_or(0);
        d.baselines.push((n, columns(&b)?));
    }
    if let Ok(t) = f.group("training") {
        let mut c = columns(&t)?;
        c.remove("val_loss_by_t");
        d.training = Some(c);
    }
    // g(r): `/rdf` (and `/rdf/generated_N<n>`) since the H5MD layout that MDAnalysis reads;
    // `/observables/rdf` (and `/observables/generated_N<n>/rdf`) in older files.
    let mut push = |label: String, r: &Group| -> Result<()> {
        let c = columns(r)?;
        let get = |k: &str| c.get(k).cloned().unwrap_or_default();
        if !get("r").is_empty() {
            d.rdfs.push(Rdf { label, r: get("r"), g: get("g"), err: get("g_stderr") });
        }
        Ok(())
    };
    if let Ok(top) = f.group("rdf") {
        push(format!("{kind} (reference)"), &top)?;
        for name in top.member_names()? {
            if let Ok(g) = top.group(&name) {
                push(format!("{kind} {name}"), &g)?;
            }
        }
    } else if let Ok(o) = f.group("observables") {
        for name in o.member_names()? {
            let g = o.group(&name)?;
            let rdf = if name == "rdf" { Some(g) } else { g.group("rdf").ok() };
            if let Some(r) = rdf {
                let label = if name == "rdf" { format!("{kind} (reference)") } else { format!("{kind} {name}") };
                push(label, &r)?;
            }
        }
    }
    if let Ok(g) = f.group("grand_canonical") {
        d.grand_canonical = Some((columns(&g)?, get_str(&g, "method").unwrap_or_default()));
    }
    Ok(())
}

fn attribution(g: &Group, label: &str) -> Result<Attribution> {
    let names: Vec<hdf5::types::VarLenUnicode> = g.attr("term_names")?.read_raw()?;
    let tg = g.group("terms")?;
    let mut a = Attribution {
        label: label.into(),
        method: get_str(g, "method")?,
        term_names: names.iter().map(|s| s.as_str().to_string()).collect(),
        terms: (tg.dataset("value")?.read_raw()?, tg.dataset("stderr")?.read_raw()?),
        total: (get_f64(g, "total")?, get_f64(g, "total_stderr")?),
        n_boot: g.attr("n_boot").and_then(|a| a.read_scalar::<i64>()).unwrap_or(0),
        ..Default::default()
    };
    if let Ok(s) = g.group("shells") {
        let rows = |name: &str| -> Result<Vec<Vec<f64>>> {
            let ds = s.dataset(name)?;
            let cols = ds.shape().get(1).copied().unwrap_or(1).max(1);
            Ok(ds.read_raw::<f64>()?.chunks(cols).map(|c| c.to_vec()).collect())
        };
        a.shells = Some((s.dataset("edges")?.read_raw()?, rows("value")?, rows("stderr")?));
    }
    if let Ok(c) = g.group("completeness") {
        for k in ["terms", "nodes", "particles", "shells", "headline"] {
            if let Ok(v) = get_f64(&c, k) {
                a.completeness.push((k.into(), v));
            }
        }
    }
    Ok(a)
}
