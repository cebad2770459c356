//! Convergence checks of the corrected windows, summarised per N as results with a log line: the
//! configurational-temperature identity (`conf_temperature_max_z`), the disagreement of data- and
//! reverse-SDE-started chains (`window_start_max_z`) and the drift within production
//! (`window_drift_max_z`). Each is max_j |z_j| over the window rows of [`super::WINDOW_COLUMNS`].
//! With Clenshaw-Curtis windows also the quadrature's embedded error estimate (`quadrature_error`).

use super::{WindowRow, WINDOW_COLUMNS};
use crate::estimators::clenshaw_curtis::NestedRule;
use crate::io::ScalarResult;

/// The largest violation of <|grad u|^2> = <laplacian u> over the windows, in standard errors (the
/// `*conf_temperature_z` columns of the window rows), for the window chains (a check of the sampler: large values
/// mean chains that have not reached exp(-u_t)) and for the reverse-SDE samples at the nodes (a check
/// of the learned score: where the model is inexact its reverse SDE does not sample exp(-u_t)).
/// Results `conf_temperature_max_z` (value: max_j |z_j|, with that window's T_conf in the log) per
/// method.
pub(super) fn tconf_summary(
    windows: &[WindowRow],
    res: &dyn Fn(&str, f64, f64) -> ScalarResult,
    m_corr: &str,
    m_unc: &str,
    n: usize,
) -> Vec<ScalarResult> {
    let mut out = Vec::new();
    let col = |name: &str| WINDOW_COLUMNS.iter().position(|c| *c == name).expect("a window column");
    for (method, prefix, what) in [(m_corr, "", "window chains"), (m_unc, "uncorrected_", "reverse-SDE samples")] {
        let c = col(&format!("{prefix}conf_temperature"));
        let zc = col(&format!("{prefix}conf_temperature_z"));
        let z = |r: &WindowRow| r[zc].abs();
        let Some(worst) = windows.iter().filter(|r| z(r).is_finite()).max_by(|a, b| z(a).total_cmp(&z(b))) else {
            continue;
        };
        let zmax = z(worst);
        let msg = format!(
            "N = {n}: configurational temperature of the {what}: largest deviation at t = {:.4}, T_conf = \
             {:.3} ± {:.3} (<|grad u|^2> - <laplacian u> = {zmax:.1} standard errors from 0)",
            worst[0],
            worst[c],
            worst[c + 1]
        );
        if prefix.is_empty() && zmax > 4.0 {
            log::warn!("{msg}: the chains do not sample exp(-u_t) there; longer window_warmup/window_steps");
        } else {
            log::info!("{msg}");
        }
        out.push(ScalarResult {
            name: "conf_temperature_max_z".into(),
            value: zmax,
            stderr: f64::NAN,
            units: "1".into(),
            ..res(method, 0.0, 0.0)
        });
    }
    out
}

/// The largest |z| of a window column over the windows (`start_z`: data-started against
/// reverse-SDE-started chains, [`super::starts`]; `drift_z`: first against second half of production) as
/// the result `name` of the corrected windows (method `m_corr`), with a warning above 3 (for 24 windows of independent
/// standard normals p ~ 0.06): a window whose chains still remember their start, or still drift, is
/// not converged, whatever its error bar says.
pub(super) fn max_z_summary(
    windows: &[WindowRow],
    res: &dyn Fn(&str, f64, f64) -> ScalarResult,
    m_corr: &str,
    n: usize,
    column: &str,
    name: &str,
    what: &str,
) -> Option<ScalarResult> {
    let zc = WINDOW_COLUMNS.iter().position(|c| *c == column).expect("a window column");
    let worst = windows.iter().filter(|r| r[zc].is_finite()).max_by(|a, b| a[zc].abs().total_cmp(&b[zc].abs()))?;
    let zmax = worst[zc].abs();
    let msg = format!("N = {n}: {what} up to {zmax:.1} standard errors (t = {:.4}, z = {:+.1})", worst[0], worst[zc]);
    if zmax > 3.0 {
        log::warn!("{msg}: the windows are not converged; longer window_warmup/window_steps");
    } else {
        log::info!("{msg}");
    }
    Some(ScalarResult { name: name.into(), value: zmax, stderr: f64::NAN, units: "1".into(), ..res(m_corr, 0.0, 0.0) })
}

/// The embedded error estimate of Clenshaw-Curtis windows (crate::estimators::clenshaw_curtis):
/// `quadrature_error` = beta A_ex by the half rule on every other window minus beta A_ex by all
/// windows, with the standard error sqrt(sum_j (w^c_j - w^f_j)^2 se_j^2) (independent windows). It
/// estimates the half rule's quadrature error and bounds the full rule's; a warning when it is
/// resolved (|E| > 3 se) and larger than the full estimate's statistical error `fine_se`.
pub(super) fn quadrature_error(r: &NestedRule, rows: &[Vec<f64>], base: &ScalarResult, fine_se: f64) -> ScalarResult {
    let (means, ses): (Vec<f64>, Vec<f64>) = rows.iter().map(|row| (row[1], row[2])).unzip();
    let (e, se) = r.embedded_error(&means, &ses);
    // beta A_ex = -integral: the sign flips.
    let (value, n) = (-e, base.n_particles);
    log::info!(
        "N = {n}: quadrature error estimate of {} ({}-window half rule minus all windows): {value:+.4} +- {se:.4} kT",
        base.method,
        r.coarse_len()
    );
    if value.abs() > 3.0 * se && value.abs() > fine_se {
        log::warn!(
            "N = {n}: the {}-window half rule differs from {} by {value:+.3} +- {se:.3} kT (more than 3 se and \
             more than its statistical error {fine_se:.3}): the t-integrand is not resolved by the half rule, and \
             the full rule's quadrature error may not be negligible; use more windows",
            r.coarse_len(),
            base.method
        );
    }
    ScalarResult { name: "quadrature_error".into(), value, stderr: se, ..base.clone() }
}
