//! The equation-of-state lines of the report's grand-canonical figures: W(N) and `<rho>(beta mu)` of
//! the full Lennard-Jones fluid by the Kolafa-Nezbeda equation (crate::eos, the one the summary
//! table compares against), from beta A_ex(N) = N a_ex(N / V, T) (thermodynamic limit per particle)
//! and beta mu = ln rho + beta mu_ex(rho, T) (thermal wavelength 1).
//!
//! The equation describes the full LJ potential (spherical cutoff with tail corrections); for any
//! other system (min-image, truncated or shifted) the line is still drawn, labelled as not this
//! system's potential, since its shape is the reference the data are read against.

use super::plot::{Series, Style};
use crate::eos::{kolafa_nezbeda, LjEos};

/// What the line is drawn for: the temperature and whether the system is the full LJ fluid.
#[derive(Clone, Debug, PartialEq)]
pub struct EosReference {
    /// Temperature (epsilon / k_B).
    pub temperature: f64,
    /// Some(true): full LJ with tail corrections; Some(false): another potential (named in
    /// `system`); None: not known from the file.
    pub full_lj: Option<bool>,
    /// The system's interaction as read from the input ("min-image", "r_c = 2.5, no tail
    /// corrections"), for the label when it is not full LJ.
    pub system: String,
}

impl EosReference {
    /// From the effective input TOML of `/provenance` (its `[system]`) and the results'
    /// temperature; None without a temperature.
    pub fn from_input(effective_input: Option<&str>, temperature: Option<f64>) -> Option<Self> {
        let sys = effective_input
            .and_then(|t| t.parse::<toml::Table>().ok())
            .and_then(|t| t.get("system").and_then(|s| s.as_table()).cloned());
        let temperature =
            temperature.or_else(|| sys.as_ref().and_then(|s| s.get("temperature")).and_then(|v| v.as_float()))?;
        let Some(s) = sys else { return Some(Self { temperature, full_lj: None, system: String::new() }) };
        let tails = s.get("tail_correction").and_then(|v| v.as_bool()).unwrap_or(false);
        let shift = s.get("shift").and_then(|v| v.as_bool()).unwrap_or(false);
        let (full, system) = match s.get("cutoff") {
            Some(toml::Value::Float(rc)) => (
                tails && !shift,
                format!(
                    "r_c = {rc}{}{}",
                    if tails { "" } else { ", no tail corrections" },
                    if shift { ", shifted" } else { "" }
                ),
            ),
            Some(toml::Value::Integer(rc)) => (tails && !shift, format!("r_c = {rc}")),
            Some(v) => (false, v.as_str().unwrap_or("other cutoff").to_string()),
            None => (false, "unknown cutoff".into()),
        };
        Some(Self { temperature, full_lj: Some(full), system })
    }

    fn label(&self, what: &str) -> String {
        match self.full_lj {
            Some(true) => format!("Kolafa-Nezbeda EOS, {what}"),
            Some(false) => {
                format!("Kolafa-Nezbeda EOS of full LJ, {what} (this system: {}; not its potential)", self.system)
            }
            None => format!("Kolafa-Nezbeda EOS of full LJ, {what}"),
        }
    }

    /// W(N) - w0 of the equation of state over N = n_min ..= n_max (at most 200 points) in
    /// volume `v`, at the data's `beta_mu` and offset `w0`, so that data and line share one axis.
    pub fn landscape(&self, n_min: usize, n_max: usize, v: f64, beta_mu: f64, w0: f64) -> Series {
        let step = ((n_max - n_min) / 200).max(1);
        let ns: Vec<usize> = (n_min..=n_max).step_by(step).chain(std::iter::once(n_max)).collect();
        let mut ns = ns;
        ns.dedup();
        let eos = kolafa_nezbeda();
        let ln_fact = |n: usize| (1..=n).map(|k| (k as f64).ln()).sum::<f64>();
        let w: Vec<f64> = ns
            .iter()
            .map(|&n| {
                let a_ex = n as f64 * eos.beta_a_ex(n as f64 / v, self.temperature);
                a_ex + ln_fact(n) - n as f64 * v.ln() - beta_mu * n as f64 - w0
            })
            .collect();
        Series::new(self.label("N a_ex(N/V)"), Style::Line, ns.iter().map(|&n| n as f64).collect(), w)
    }

    /// `<rho>(beta mu)` of the equation of state, beta mu = ln rho + beta mu_ex(rho, T), over the
    /// beta mu range [lo, hi] (rho from 1e-4 to 1.1; below the critical temperature the line shows the
    /// equation's van der Waals loop).
    pub fn isotherm(&self, lo: f64, hi: f64) -> Option<Series> {
        let eos = kolafa_nezbeda();
        let (r0, r1, m) = (1e-4f64, 1.1f64, 400);
        let (x, y): (Vec<f64>, Vec<f64>) = (0..=m)
            .map(|k| r0 * (r1 / r0).powf(k as f64 / m as f64))
            .map(|rho| (rho.ln() + eos.beta_mu_ex(rho, self.temperature), rho))
            .filter(|(bm, _)| bm.is_finite() && *bm >= lo && *bm <= hi)
            .unzip();
        (x.len() >= 2).then(|| Series::new(self.label("rho(beta mu)"), Style::Line, x, y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_of_the_effective_input() {
        let full = "[system]\ntemperature = 1.5\ncutoff = 3.0\ntail_correction = true\n";
        let r = EosReference::from_input(Some(full), None).expect("a temperature");
        assert_eq!((r.temperature, r.full_lj), (1.5, Some(true)));
        assert!(r.label("x").starts_with("Kolafa-Nezbeda EOS, "));
        let mi = "[system]\ntemperature = 1.25\ncutoff = \"min-image\"\n";
        let r = EosReference::from_input(Some(mi), None).expect("a temperature");
        assert_eq!(r.full_lj, Some(false));
        assert!(r.label("x").contains("this system: min-image"), "{}", r.label("x"));
        let r = EosReference::from_input(None, Some(2.0)).expect("the results' temperature");
        assert_eq!(r.full_lj, None);
        assert!(EosReference::from_input(None, None).is_none());
    }

    #[test]
    fn lines_follow_the_equation() {
        // The isotherm's points satisfy beta mu = ln rho + beta mu_ex(rho); the landscape at the
        // equation's own chemical potential for rho = N / V has zero slope there (dW/dN = 0).
        let r = EosReference { temperature: 2.0, full_lj: Some(true), system: String::new() };
        let s = r.isotherm(-4.0, -1.0).expect("points in range");
        let eos = kolafa_nezbeda();
        for (bm, rho) in s.x.iter().zip(&s.y) {
            assert!((bm - (rho.ln() + eos.beta_mu_ex(*rho, 2.0))).abs() < 1e-12);
            assert!((-4.0..=-1.0).contains(bm));
        }
        let v = 1000.0;
        let bm = (0.3f64).ln() + eos.beta_mu_ex(0.3, 2.0);
        let w = r.landscape(200, 400, v, bm, 0.0);
        let i = w.x.iter().position(|&n| n == 300.0).expect("N = 300 on the grid");
        let slope = (w.y[i + 1] - w.y[i - 1]) / (w.x[i + 1] - w.x[i - 1]);
        assert!(slope.abs() < 0.02, "dW/dN at the equation's density: {slope}");
        let min = w.y.iter().copied().fold(f64::INFINITY, f64::min);
        assert!((w.y[i] - min).abs() < 0.05, "W has its minimum at rho = 0.3");
    }
}
