//! `nti report FILE.h5 [--out DIR]`: one self-contained HTML page (inline CSS and SVG, no
//! scripts, nothing fetched from elsewhere) with everything a results file of any stage holds:
//! the summary table with z-scores, the TI integrand, the attribution, the grand-canonical
//! landscape, the training curve, g(r), the baseline, and every consistency check with what to do.

pub mod checks;
pub mod eos_line;
pub mod figures;
pub mod load;
pub mod page;
pub mod plot;
pub mod verdict;

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Where the report of `file` goes: `DIR/<file stem>.html`, DIR defaulting to the file's directory.
pub fn report_path(file: &Path, out: Option<&Path>) -> PathBuf {
    let dir = out.map(Path::to_path_buf).unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).to_path_buf());
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    dir.join(format!("{stem}.html"))
}

/// Writes the report of a finished `nti run` and returns the lines to print after its table: the
/// report's path and the one-line verdict (or why there is no report; the run's results stand).
pub fn after_run(file: &Path) -> String {
    match load::load(file).and_then(|d| Ok((write_report(file, &[], None)?, verdict::verdict(&d)))) {
        Ok((path, v)) => format!("report: {}\n{v}\n", path.display()),
        Err(e) => format!("no report ({e:#}); the results file is complete\n"),
    }
}

/// Writes the report of `file` (written atomically: a temporary file renamed into place) and
/// returns its path. A file that is not an nti results file is bad input ([`crate::exit::BadInput`]).
/// `with` adds the data of further results files (see [`load::load_with`]).
pub fn write_report(file: &Path, with: &[PathBuf], out: Option<&Path>) -> Result<PathBuf> {
    let data = load::load_with(file, with)?;
    let html = page::render(&data)?;
    let target = report_path(file, out);
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the report directory '{}'", dir.display()))?;
    }
    let tmp = target.with_extension("html.tmp");
    std::fs::write(&tmp, html).with_context(|| format!("cannot write '{}'", tmp.display()))?;
    std::fs::rename(&tmp, &target).with_context(|| format!("cannot write '{}'", target.display()))?;
    Ok(target)
}

/// A beta A_ex result at N = 50, T = 1.5, rho = 0.1 for the report's unit tests.
#[cfg(test)]
pub(crate) fn test_result(name: &str, method: &str, value: f64, stderr: f64) -> crate::io::ScalarResult {
    crate::io::ScalarResult {
        name: name.into(),
        method: method.into(),
        n_particles: 50,
        temperature: 1.5,
        density: 0.1,
        value,
        stderr,
        units: "kT".into(),
    }
}
