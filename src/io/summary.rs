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

/// A human-readable table; the name and method columns are as wide as their longest entry, so that
/// the numeric columns line up whatever the method names.
pub fn to_table(results: &[ScalarResult]) -> String {
    let wn = results.iter().map(|r| r.name.chars().count()).chain(["name".len()]).max().unwrap_or(4);
    let wm = results.iter().map(|r| r.method.chars().count()).chain(["method".len()]).max().unwrap_or(6);
    let mut s = format!(
        "{:<wn$} {:<wm$} {:>6} {:>8} {:>9} {:>14} {:>12}  {}\n",
        "name", "method", "N", "T", "rho", "value", "stderr", "units"
    );
    for r in results {
        s += &format!(
            "{:<wn$} {:<wm$} {:>6} {:>8.4} {:>9.5} {:>14.6} {:>12.3e}  {}\n",
            r.name, r.method, r.n_particles, r.temperature, r.density, r.value, r.stderr, r.units
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, method: &str, value: f64) -> ScalarResult {
        ScalarResult {
            name: name.into(),
            method: method.into(),
            n_particles: 200,
            temperature: 1.5,
            density: 0.39,
            value,
            stderr: 0.05,
            units: "kT".into(),
        }
    }

    /// Every row's value column ends at the same character position as the header's, with a method
    /// name longer than any fixed width (the column used to be 10 characters wide).
    #[test]
    fn columns_line_up_for_long_method_names() {
        let rows = [
            result("beta_a_ex", "mbar-K11", -11.5),
            result("beta_a_ex", "windows-gl24-mala-uncorrected-with-a-long-suffix", -11.6),
            result("beta_mu_ex_with_a_long_name", "widom", -0.4),
        ];
        let t = to_table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        let end_of = |l: &str, what: &str| l.find(what).map(|i| i + what.len()).unwrap();
        let header_end = end_of(lines[0], "value");
        for (l, v) in lines[1..].iter().zip(["-11.500000", "-11.600000", "-0.400000"]) {
            assert_eq!(end_of(l, v), header_end, "misaligned row:\n{t}");
        }
    }
}
