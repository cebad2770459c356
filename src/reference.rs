//! Reference data shipped with nti (validation/reference): the NIST SRSW Lennard-Jones NVT
//! table, and the printed comparison of a run's results with references and z-scores.

use crate::config::{Config, Cutoff};
use crate::io::ScalarResult;

/// One state of the NIST Standard Reference Simulation Website LJ NVT table
/// (N = 500, r_c = 3 with tail corrections).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NistState {
    /// Temperature.
    pub t: f64,
    /// Density.
    pub rho: f64,
    /// Potential energy per particle (tail included).
    pub u: f64,
    /// Pressure (tail included).
    pub p: f64,
    /// Quoted uncertainty of u, where given.
    pub u_err: Option<f64>,
    /// Quoted uncertainty of p, where given.
    pub p_err: Option<f64>,
}

/// The embedded NIST table.
pub const NIST_CSV: &str = include_str!("../validation/reference/nist_srsw_lj_nvt.csv");

/// Parses the NIST table.
pub fn nist_states() -> Vec<NistState> {
    NIST_CSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("T,") && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split(',').map(str::trim).collect();
            let num = |s: &str| s.parse::<f64>().expect("NIST table number");
            let opt = |s: &str| if s.is_empty() { None } else { Some(num(s)) };
            NistState { t: num(c[0]), rho: num(c[1]), u: num(c[2]), p: num(c[3]), u_err: opt(c[4]), p_err: opt(c[5]) }
        })
        .collect()
}

/// The NIST state matching `cfg` (N = 500, r_c = 3, unshifted with tails, same T and rho).
pub fn nist_match(cfg: &Config) -> Option<NistState> {
    let s = &cfg.system;
    let setup = s.n_particles == 500 && s.cutoff == Cutoff::Radius(3.0) && s.tail_correction && !s.shift;
    if !setup {
        return None;
    }
    nist_states().into_iter().find(|st| (st.t - s.temperature).abs() < 1e-9 && (st.rho - s.density).abs() < 1e-9)
}

/// A row of the comparison: result, reference, source and z-score.
fn row(label: &str, r: &ScalarResult, reference: Option<(f64, Option<f64>, &str)>) -> String {
    let mut s = format!("  {:<26} {:>12.5} ± {:<10.2e}", label, r.value, r.stderr);
    if let Some((v, err, src)) = reference {
        let comb = (r.stderr.powi(2) + err.unwrap_or(0.0).powi(2)).sqrt();
        let z = (r.value - v) / comb;
        s += &format!("  {:>12.5}  {:<28}  z = {:+.2}", v, src, z);
    }
    s + "\n"
}

/// The comparison table printed at the end of `nti sample`.
pub fn comparison_table(cfg: &Config, results: &[ScalarResult]) -> String {
    let nist = nist_match(cfg);
    let mut out = format!("  {:<26} {:>12}   {:<10}  {:>12}  {:<28}\n", "quantity", "nti", "stderr", "reference", "source");
    for r in results {
        let reference = match (r.name.as_str(), nist) {
            ("potential_energy_per_particle", Some(n)) => Some((n.u, n.u_err, "NIST SRSW (N=500, rc=3)")),
            ("pressure", Some(n)) => Some((n.p, n.p_err, "NIST SRSW (N=500, rc=3)")),
            ("kinetic_temperature", _) => Some((cfg.system.temperature, None, "bath temperature")),
            _ => None,
        };
        out += &row(&r.name, r, reference);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nist_table_parses() {
        let s = nist_states();
        assert_eq!(s.len(), 20);
        assert_eq!(s[4].u_err, Some(1.29e-4));
        assert!(s.iter().filter(|x| x.u_err.is_some()).count() == 2);
    }
}
