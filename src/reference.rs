//! Reference data shipped with nti (validation/reference): the NIST SRSW Lennard-Jones NVT
//! table, and the printed comparison of a run's results with references and z-scores.

use crate::config::{Config, Cutoff};
use crate::eos::{johnson_zollweg_gubbins, kolafa_nezbeda, LjEos};
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
    let s = cfg.sys();
    let setup = s.n_particles == 500 && s.cutoff == Cutoff::Radius(3.0) && s.tail_correction && !s.shift;
    if !setup {
        return None;
    }
    nist_states().into_iter().find(|st| (st.t - s.temperature).abs() < 1e-9 && (st.rho - s.density).abs() < 1e-9)
}

/// True when the run's setup approximates the full LJ fluid that the equations of state describe
/// (spherical cutoff with tail corrections).
pub fn full_lj_comparable(cfg: &Config) -> bool {
    matches!(cfg.sys().cutoff, Cutoff::Radius(_)) && cfg.sys().tail_correction && !cfg.sys().shift
}

/// Equation-of-state value of a named result (u per particle incl. ideal-free excess, P, beta mu_ex).
pub fn eos_value(eos: &dyn LjEos, name: &str, rho: f64, t: f64) -> Option<f64> {
    match name {
        "potential_energy_per_particle" => Some(eos.energy_per_particle(rho, t)),
        "pressure" => Some(eos.pressure(rho, t)),
        "beta_mu_ex" => Some(eos.beta_mu_ex(rho, t)),
        _ => None,
    }
}

/// The comparison table printed at the end of `nti sample`: each result with its standard error;
/// beside it the NIST SRSW value with the z-score (where the state is in the table), and the
/// Kolafa-Nezbeda and Johnson-Zollweg-Gubbins equations of state with the difference (where the
/// setup is comparable with the full LJ fluid; EOS describe N -> infinity, expect O(1/N) offsets).
pub fn comparison_table(cfg: &Config, results: &[ScalarResult]) -> String {
    let nist = nist_match(cfg);
    let (rho, t) = (cfg.sys().density, cfg.sys().temperature);
    let eos: Vec<(&dyn LjEos, &str)> = if full_lj_comparable(cfg) {
        vec![(kolafa_nezbeda(), "EOS Kolafa-Nezbeda 1994"), (johnson_zollweg_gubbins(), "EOS Johnson et al. 1993")]
    } else {
        vec![]
    };
    let mut out = format!(
        "  {:<30} {:>12} {:>10}   {:>12}  {:<26} {:>9}\n",
        "quantity", "nti", "stderr", "reference", "source", "z / diff"
    );
    for r in results {
        out += &format!("  {:<30} {:>12.5} {:>10.2e}", r.name, r.value, r.stderr);
        let mut refs: Vec<String> = Vec::new();
        let nist_ref = match (r.name.as_str(), nist) {
            ("potential_energy_per_particle", Some(n)) => Some((n.u, n.u_err)),
            ("pressure", Some(n)) => Some((n.p, n.p_err)),
            _ => None,
        };
        if let Some((v, err)) = nist_ref {
            let z = (r.value - v) / (r.stderr.powi(2) + err.unwrap_or(0.0).powi(2)).sqrt();
            refs.push(format!("{:>12.5}  {:<26} {:>+9.2}", v, "NIST SRSW (N=500, rc=3)", z) + " (z)");
        }
        if r.name == "kinetic_temperature" {
            refs.push(format!("{:>12.5}  {:<26} {:>+9.2} (z)", t, "bath temperature", (r.value - t) / r.stderr));
        }
        for (e, label) in &eos {
            if let Some(v) = eos_value(*e, &r.name, rho, t) {
                refs.push(format!("{:>12.5}  {:<26} {:>+9.4}", v, label, r.value - v));
            }
        }
        if refs.is_empty() {
            out += "\n";
        }
        for (k, line) in refs.iter().enumerate() {
            if k > 0 {
                out += &format!("  {:<30} {:>12} {:>10}", "", "", "");
            }
            out += &format!("   {line}\n");
        }
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
