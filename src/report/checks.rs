//! The consistency checks of a results file, each with a pass or warn mark, what it measures and
//! what to do when it warns. The thresholds are those at which the stages log their warnings
//! (src/run/ti/checks.rs, src/run/ti/estimates.rs, src/run/baseline.rs), so the report and the
//! log agree; checks whose result a file does not hold are not listed.

use super::load::ReportData;
use crate::io::ScalarResult;

/// Pass or warn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Within the threshold.
    Pass,
    /// Beyond it: read the advice.
    Warn,
}

/// One check of one estimate.
#[derive(Clone, Debug)]
pub struct Check {
    /// What is checked.
    pub what: String,
    /// Which estimate and N.
    pub scope: String,
    /// The measured value, as shown.
    pub value: String,
    /// The pass condition, as shown.
    pub threshold: String,
    /// Pass or warn.
    pub status: Status,
    /// What to do when it warns.
    pub advice: String,
}

/// The z-score of estimate `a` against reference `b` (combined standard errors; a reference without
/// an error, such as an equation of state, counts as exact); None when `a`'s error is unknown.
pub fn z(a: &ScalarResult, b: &ScalarResult) -> Option<f64> {
    let eb = if b.stderr.is_finite() { b.stderr } else { 0.0 };
    let s = (a.stderr.powi(2) + eb * eb).sqrt();
    (s.is_finite() && s > 0.0 && a.value.is_finite() && b.value.is_finite()).then(|| (a.value - b.value) / s)
}

/// The conventional baseline of N: MBAR, else TI along the lambda path.
pub fn baseline_of(results: &[ScalarResult], n: usize) -> Option<&ScalarResult> {
    let a = |p: &str| results.iter().find(|r| r.name == "beta_a_ex" && r.n_particles == n && r.method.starts_with(p));
    a("mbar").or_else(|| a("ti-lambda"))
}

/// The smallest AIS effective sample size that gives its estimate a usable error bar (as in
/// `nti ti`: 10, or 5 % of the chains when that is more).
pub fn ais_min_ess(chains: usize) -> f64 {
    10f64.max(0.05 * chains as f64)
}

/// Every check the file's results allow.
pub fn checks(d: &ReportData) -> Vec<Check> {
    let mut out = Vec::new();
    let scope = |r: &ScalarResult| format!("{} (N = {})", r.method, r.n_particles);
    let mut push = |what: &str, r: &ScalarResult, value: String, threshold: &str, ok: bool, advice: &str| {
        out.push(Check {
            what: what.into(),
            scope: scope(r),
            value,
            threshold: threshold.into(),
            status: if ok { Status::Pass } else { Status::Warn },
            advice: advice.into(),
        })
    };
    for r in &d.results {
        let v = r.value;
        match r.name.as_str() {
            "window_drift_max_z" => push(
                "Drift of the corrected windows (largest |z| of first against second half of production)",
                r,
                format!("{v:.1}"),
                "<= 3",
                v <= 3.0,
                "the windows are not converged: increase [ti] window_warmup and window_steps (or window_chains)",
            ),
            "window_start_max_z" => push(
                "Data-started against reverse-SDE-started window chains (largest |z|)",
                r,
                format!("{v:.1}"),
                "<= 3",
                v <= 3.0,
                "the chains still remember their start: increase [ti] window_warmup and window_steps",
            ),
            "conf_temperature_max_z" if r.method.ends_with("-uncorrected") => push(
                "Configurational temperature of the reverse-SDE samples (largest |z| of <|grad u|^2> = <lap u>)",
                r,
                format!("{v:.1}"),
                "<= 4",
                v <= 4.0,
                "the learned model's reverse SDE does not sample exp(-u_t) there (the corrected windows fix the \
                 estimate): train longer ([train] steps) or use a larger model",
            ),
            "conf_temperature_max_z" => push(
                "Configurational temperature of the window chains (largest |z| of <|grad u|^2> = <lap u>)",
                r,
                format!("{v:.1}"),
                "<= 4",
                v <= 4.0,
                "the chains do not sample exp(-u_t): increase [ti] window_warmup and window_steps",
            ),
            "ais_effective_sample_size" => {
                let chains = d.ti.iter().find(|t| t.n == r.n_particles).map_or(0, |t| t.ais_work.len());
                let min = ais_min_ess(chains);
                let of = if chains > 0 { format!(" of {chains}") } else { String::new() };
                push(
                    "AIS effective sample size",
                    r,
                    format!("{v:.1}{of}"),
                    &format!(">= {min}"),
                    v >= min,
                    "AIS is not informative here (its estimate is left out of the headline comparison): more \
                     [ti] ais_switches / ais_mala_steps, or rely on the windows",
                )
            }
            "attribution_completeness" => push(
                "Completeness of the attribution (largest relative residual of the marginal sums)",
                r,
                format!("{v:.1e}"),
                "< 1e-6",
                v < 1e-6,
                "the per-term, per-shell or per-particle parts do not add up to the estimate: a bug; report it",
            ),
            "mbar_min_neighbour_overlap" => push(
                "MBAR overlap of neighbouring lambda windows (smallest)",
                r,
                format!("{v:.3}"),
                ">= 0.03",
                v >= 0.03,
                "MBAR's error bar is not reliable: more [baseline] windows",
            ),
            "quadrature_error" => {
                let fine = d
                    .results
                    .iter()
                    .find(|x| x.name == "beta_a_ex" && x.method == r.method && x.n_particles == r.n_particles);
                let fine_se = fine.map_or(f64::NAN, |x| x.stderr);
                let ok = !(v.abs() > 3.0 * r.stderr && v.abs() > fine_se);
                push(
                    "Quadrature error estimate of the windows (half rule minus full rule, kT)",
                    r,
                    format!("{v:+.3} ± {:.3}", r.stderr),
                    "|E| <= 3 se or < the estimate's se",
                    ok,
                    "the t-integrand is not resolved by the half rule: more [ti] windows",
                )
            }
            _ => {}
        }
    }
    // Every Neural TI estimate against the conventional baseline of its N.
    for r in d.results.iter().filter(|r| r.name == "beta_a_ex" && is_neural(&r.method)) {
        if let Some(zb) = baseline_of(&d.results, r.n_particles).and_then(|b| z(r, b)) {
            let advice = if is_corrected(&r.method) {
                "the corrected estimate and the baseline disagree beyond their errors: look for unconverged \
                 windows among the other checks; longer window_warmup/window_steps and baseline runs"
            } else {
                "an uncorrected estimate is exact only for an exact model: train longer or a larger model, or \
                 use the Metropolis-corrected windows"
            };
            push(
                "Agreement with the conventional baseline (z)",
                r,
                format!("{zb:+.2}"),
                "|z| <= 3",
                zb.abs() <= 3.0,
                advice,
            );
        }
    }
    out
}

/// True for the Metropolis-corrected Neural TI estimates (windows with MALA or HMC chains, the
/// reverse SDE corrected by them).
pub fn is_corrected(method: &str) -> bool {
    (method.starts_with("windows-") && !method.ends_with("-uncorrected")) || method.ends_with("-corrected")
}

/// True for the Neural TI estimates (not the baselines, equations of state or sample results).
pub fn is_neural(method: &str) -> bool {
    ["reverse-sde", "windows-", "ais", "generated"].iter().any(|p| method.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::test_result as r;

    /// The drift check warns above 3 and passes at or below it; the baseline agreement uses MBAR.
    #[test]
    fn thresholds_follow_the_log() {
        let mut d = ReportData {
            results: vec![
                r("window_drift_max_z", "windows-gl24-mala", 18.4, f64::NAN),
                r("beta_a_ex", "mbar-K11", -11.5, 0.1),
                r("beta_a_ex", "windows-gl24-mala", -10.5, 0.2),
                r("ais_effective_sample_size", "ais", 1.0, f64::NAN),
            ],
            ..Default::default()
        };
        let c = checks(&d);
        let get = |w: &str| c.iter().find(|c| c.what.starts_with(w)).unwrap();
        assert_eq!(get("Drift").status, Status::Warn);
        assert_eq!(get("AIS").status, Status::Warn);
        let agree = get("Agreement");
        assert_eq!(agree.value, "+4.47");
        assert_eq!(agree.status, Status::Warn);
        // Against a reference without an error (an equation of state) only the estimate's error counts.
        let eos = r("beta_a_ex", "eos-kolafa-nezbeda", -11.1, f64::NAN);
        assert_eq!(z(&d.results[2], &eos).map(|z| format!("{z:.2}")), Some("3.00".into()));
        assert_eq!(z(&d.results[3], &eos), None, "an estimate without an error has no z");
        d.results[0].value = 3.0;
        d.results[2].value = -11.3;
        let c = checks(&d);
        assert!(c.iter().filter(|c| !c.what.starts_with("AIS")).all(|c| c.status == Status::Pass), "{c:?}");
    }
}
