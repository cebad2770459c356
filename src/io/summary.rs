//! `nti summary FILE.h5 [--json]`: every scalar result of a results file.

use super::ScalarResult;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Reads all results under `/results`, sorted by group name.
pub fn read_results(path: &Path) -> Result<Vec<ScalarResult>> {
    if !path.exists() {
        bail!("results file '{}' does not exist", path.display());
    }
    let f = hdf5::File::open(path).with_context(|| format!("'{}' is not a readable HDF5 file", path.display()))?;
    let g = f
        .group("results")
        .with_context(|| format!("'{}' has no /results group (not an nti results file?)", path.display()))?;
    let mut names = g.member_names()?;
    names.sort();
    names
        .iter()
        .map(|n| ScalarResult::read(&g.group(n)?).with_context(|| format!("'{}': result /results/{n}", path.display())))
        .collect()
}

/// The JSON document {"results": [...]} of docs/design.md sec. 8.
pub fn to_json(results: &[ScalarResult]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "results": results })).expect("serialisable")
}

/// A human-readable table.
pub fn to_table(results: &[ScalarResult]) -> String {
    let mut s = format!(
        "{:<32} {:<10} {:>6} {:>8} {:>9} {:>14} {:>12}  {}\n",
        "name", "method", "N", "T", "rho", "value", "stderr", "units"
    );
    for r in results {
        s += &format!(
            "{:<32} {:<10} {:>6} {:>8.4} {:>9.5} {:>14.6} {:>12.3e}  {}\n",
            r.name, r.method, r.n_particles, r.temperature, r.density, r.value, r.stderr, r.units
        );
    }
    s
}
