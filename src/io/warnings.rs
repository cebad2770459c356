//! The warnings of a run, stored in its results file: group `/diagnostics`, attribute `warnings`
//! (a list of strings, one per logged warning, in the order logged; ranks > 0 tagged `[rank K]`)
//! and `n_warnings`. What a run prints as a warning (chains that disagree, windows that drift, a
//! small effective sample size, ...) stays with its results, and `nti report` lists it.
//!
//! Each results file holds the warnings of the work it holds: a command takes the warnings kept by
//! the logger ([`crate::logging::take_warnings`]) when it writes its file; `nti run` adds those of
//! the stage files it used, so a reused stage keeps its warnings in the final file.

use crate::parallel::Comm;
use anyhow::{Context, Result};
use hdf5::types::VarLenUnicode;
use hdf5::File;
use std::path::Path;

/// Separates the warnings of one rank in the gathered bytes (a warning may span lines).
const SEP: char = '\u{1e}';

/// Brings the warnings kept on ranks > 0 to rank 0's, after its own (collective; call on every rank
/// at a point every rank reaches, before rank 0 writes the results file).
pub fn gather(comm: &Comm) {
    if comm.size() < 2 {
        return;
    }
    let mine = if comm.is_root() { Vec::new() } else { crate::logging::take_warnings() };
    let bytes: Vec<f64> = mine.join(&SEP.to_string()).bytes().map(f64::from).collect();
    if let Some(all) = comm.gather_to_root(bytes) {
        for b in &all[1..] {
            let text = String::from_utf8_lossy(&b.iter().map(|&v| v as u8).collect::<Vec<u8>>()).into_owned();
            crate::logging::add_warnings(text.split(SEP).filter(|w| !w.is_empty()).map(str::to_string));
        }
    }
}

/// Writes `/diagnostics` with the attributes `warnings` (one string each; an empty list when
/// there were none) and `n_warnings`.
pub fn write(f: &File, warnings: &[String]) -> Result<()> {
    let g = f.create_group("diagnostics")?;
    let v: Vec<VarLenUnicode> = warnings
        .iter()
        .map(|w| w.replace('\0', "").parse().map_err(|e| anyhow::anyhow!("warning text: {e:?}")))
        .collect::<Result<_>>()?;
    g.new_attr::<VarLenUnicode>().shape(v.len()).create("warnings")?.write(&v)?;
    super::h5util::set_i64(&g, "n_warnings", v.len() as i64)?;
    Ok(())
}

/// The warnings stored in `path` (none for files written before `/diagnostics` existed).
pub fn read(path: &Path) -> Result<Vec<String>> {
    let f = File::open(path).with_context(|| format!("cannot open '{}'", path.display()))?;
    read_open(&f)
}

/// [`read`] of an open file.
pub fn read_open(f: &File) -> Result<Vec<String>> {
    let Ok(g) = f.group("diagnostics") else { return Ok(vec![]) };
    let a = g.attr("warnings").context("/diagnostics: attribute 'warnings'")?;
    let v: Vec<VarLenUnicode> = a.read_raw()?;
    Ok(v.iter().map(|s| s.as_str().to_string()).collect())
}
