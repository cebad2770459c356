//! The one-line verdict printed at the end of `nti run`: per N, the most reliable Neural TI
//! estimate against the conventional baseline, and the count of passed and warned checks.

use super::checks::{self, baseline_of, Status};
use super::load::ReportData;
use crate::io::ScalarResult;

/// The most reliable Neural TI beta A_ex of N: the Metropolis-corrected windows' quadrature with
/// the Fokker-Planck control variate (`-stein`), else without it (not MBAR over them, an
/// alternative reported beside it), else the reverse SDE corrected by them, else the reverse-SDE
/// trapezoid rule. The same choice as /ti/fit (`TiForN::windows_estimate`).
fn headline(results: &[ScalarResult], n: usize) -> Option<&ScalarResult> {
    let a =
        |p: &dyn Fn(&str) -> bool| results.iter().find(|r| r.name == "beta_a_ex" && r.n_particles == n && p(&r.method));
    a(&|m| m.starts_with("windows-") && m.ends_with("-stein"))
        .or_else(|| a(&|m| m.starts_with("windows-") && !m.ends_with("-uncorrected") && !m.ends_with("-mbar")))
        .or_else(|| a(&|m| m.starts_with("reverse-sde-") && m.ends_with("-corrected")))
        .or_else(|| a(&|m| m == "reverse-sde-trapezoid"))
}

/// "verdict: ..." for the data of a results file.
pub fn verdict(d: &ReportData) -> String {
    let mut ns: Vec<usize> = d.results.iter().filter(|r| r.name == "beta_a_ex").map(|r| r.n_particles).collect();
    ns.sort_unstable();
    ns.dedup();
    let mut parts = Vec::new();
    let mut disagree = 0;
    for n in ns {
        let Some(h) = headline(&d.results, n) else { continue };
        let mut p = format!("N = {n}: beta A_ex = {:.3} ± {:.3} kT ({})", h.value, h.stderr, h.method);
        if let Some(b) = baseline_of(&d.results, n) {
            if let Some(z) = checks::z(h, b) {
                p += &format!(", {} {:.3} ± {:.3}: z = {z:+.2}", b.method, b.value, b.stderr);
                disagree += usize::from(z.abs() > 3.0);
            }
        }
        parts.push(p);
    }
    let cs = checks::checks(d);
    let warn = cs.iter().filter(|c| c.status == Status::Warn).count();
    let outcome = if warn == 0 && disagree == 0 {
        format!("all {} checks pass", cs.len())
    } else {
        format!("{} of {} checks warn (see the report)", warn, cs.len())
    };
    if parts.is_empty() {
        return format!("verdict: {outcome}");
    }
    format!("verdict: {}; {outcome}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::test_result as r;

    /// The corrected windows are the headline (not the uncorrected ones listed first); a warned
    /// check turns "all pass" into a count.
    #[test]
    fn headline_and_outcome() {
        let mut d = ReportData {
            results: vec![
                r("beta_a_ex", "windows-gl24-uncorrected", -10.9, 0.5),
                r("beta_a_ex", "windows-gl24-mala", -11.3, 0.2),
                r("beta_a_ex", "mbar-K11", -11.5, 0.1),
                r("window_drift_max_z", "windows-gl24-mala", 1.0, f64::NAN),
            ],
            ..Default::default()
        };
        let v = verdict(&d);
        assert!(v.contains("-11.300 ± 0.200 kT (windows-gl24-mala), mbar-K11 -11.500 ± 0.100: z = +0.89"), "{v}");
        assert!(v.ends_with("all 3 checks pass"), "{v}");
        d.results[3].value = 5.0;
        assert!(verdict(&d).ends_with("1 of 3 checks warn (see the report)"), "{}", verdict(&d));
        // With the Fokker-Planck control variate its estimate, listed after the plain one, leads.
        d.results.push(r("beta_a_ex", "windows-gl24-mala-stein", -11.4, 0.1));
        let v = verdict(&d);
        assert!(v.contains("-11.400 ± 0.100 kT (windows-gl24-mala-stein)"), "{v}");
    }
}
