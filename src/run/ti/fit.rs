//! `nti ti` over a grid of N: beta*A_ex(N) at every N between the requested ones, beta*mu_ex and the
//! grand-canonical curve, from a weighted least-squares fit through the Metropolis-corrected window
//! estimates `windows-gl<K>-<sampler>` ([`crate::estimators::density_fit`]); written to /ti/fit
//! (and to /grand_canonical when the requested N are not contiguous, where the per-N ladder cannot
//! be used). The windows alone, not the reverse SDE corrected by them: that control variate adds
//! the reverse SDE's own quadrature error between the nodes, which on a model whose reverse-SDE
//! samples are off its ensembles is not the true one (validation/paper_lj/README.md, session 8:
//! 1.7-2.9 kT at N = 100-120, against MBAR), while the windows alone are z-calibrated on the exact
//! systems and are what the grand-canonical reweighting of a contiguous range uses.

use super::TiForN;
use crate::estimators::density_fit::{AexFit, LeaveOneOut, DEFAULT_DEGREE};
use crate::io::h5util;
use anyhow::Result;

/// The fit and what follows from it.
pub(super) struct TiFit {
    /// The beta_a_ex method fitted (the windows estimate).
    pub method: String,
    pub fit: AexFit,
    pub loo: Vec<LeaveOneOut>,
    /// Every N from the smallest to the largest requested: (N, beta*A_ex, stderr).
    pub every_n: Vec<(usize, f64, f64)>,
    /// (N, beta*mu_ex(N) = A(N+1) - A(N), stderr) for N = n_min..n_max-1.
    pub mu: Vec<(usize, f64, f64)>,
    /// Grand-canonical rows: beta mu, <N>, <rho>, stderr <rho>, edge weight.
    pub gc: Vec<[f64; 5]>,
}

/// The fit through the window estimates when at least 4 N have one (degree min(5, points - 2)).
pub(super) fn fit_windows(all: &[TiForN], volume: f64, temperature: f64) -> Option<TiFit> {
    let mut pts: Vec<(usize, f64, f64)> = Vec::new();
    let mut method = String::new();
    for a in all {
        if let Some(r) = a.windows_estimate() {
            if r.value.is_finite() && r.stderr.is_finite() && r.stderr > 0.0 {
                pts.push((a.n, r.value, r.stderr));
                method = r.method.clone();
            }
        }
    }
    pts.sort_by_key(|p| p.0);
    if pts.len() < 4 {
        return None;
    }
    let run = || -> Result<TiFit> {
        let fit = AexFit::fit(&pts, volume, DEFAULT_DEGREE.min(pts.len() - 2))?;
        let loo = fit.leave_one_out(&pts)?;
        let (lo, hi) = (pts[0].0, pts[pts.len() - 1].0);
        let every_n = (lo..=hi)
            .map(|n| {
                let (a, s) = fit.a_ex(n as f64);
                (n, a, s)
            })
            .collect();
        let mu = (lo..hi)
            .map(|n| {
                let (m, s) = fit.mu_ex(n);
                (n, m, s)
            })
            .collect();
        let ladder = fit.ladder(lo, hi, temperature)?;
        let (a, b) = (((lo as f64 + 0.5) / volume).ln(), ((hi as f64 - 0.5) / volume).ln());
        let (m_lo, m_hi) = (fit.mu_ex(lo).0 + a, fit.mu_ex(hi - 1).0 + b);
        let (bm_lo, bm_hi) = (m_lo.min(m_hi) - 1.0, m_lo.max(m_hi) + 1.0);
        let gc = (0..=40)
            .map(|k| {
                let bm = bm_lo + (bm_hi - bm_lo) * k as f64 / 40.0;
                let g = ladder.averages(bm);
                let se = fit.mean_n_stderr(&ladder, bm) / volume;
                [bm, g.mean_n, g.mean_density, se, g.edge_weight]
            })
            .collect();
        Ok(TiFit { method: method.clone(), fit, loo, every_n, mu, gc })
    };
    match run() {
        Ok(f) => {
            let rms = (f.loo.iter().map(|l| l.z * l.z).sum::<f64>() / f.loo.len() as f64).sqrt();
            let worst = f.loo.iter().map(|l| l.z.abs()).fold(0.0, f64::max);
            log::info!(
                "fit of {} through {} N (degree {}): chi2 {:.2} for {} dof, leave-one-out z rms {rms:.2}, largest {worst:.2}",
                f.method,
                pts.len(),
                f.fit.degree,
                f.fit.chi2,
                f.fit.dof()
            );
            if worst > 3.0 {
                log::warn!(
                    "the fit through the windows' beta*A_ex(N) misses a grid value by {worst:.1} standard errors \
                     (leave-one-out): /ti/fit interpolates beyond its error bars; use a finer grid of N"
                );
            }
            Some(f)
        }
        Err(e) => {
            log::warn!("no fit through the windows' beta*A_ex(N): {e}");
            None
        }
    }
}

/// Writes /ti/fit.
pub(super) fn write_fit(f: &hdf5::File, t: &TiFit) -> Result<()> {
    let g = h5util::group_p(f, "ti/fit")?;
    h5util::set_str(&g, "method", &t.method)?;
    h5util::set_str(&g, "form", "beta*A_ex(N) = N sum_{k=1..degree} c_k rho^k, weighted least squares")?;
    h5util::set_i64(&g, "degree", t.fit.degree as i64)?;
    h5util::set_f64(&g, "chi2", t.fit.chi2)?;
    h5util::set_i64(&g, "dof", t.fit.dof() as i64)?;
    h5util::set_f64(&g, "volume", t.fit.volume)?;
    let m = t.fit.degree;
    h5util::write_f64(&g, "coefficients", &[m], t.fit.coef.as_slice().expect("contiguous"))?;
    h5util::write_f64(&g, "covariance", &[m, m], &t.fit.cov.iter().copied().collect::<Vec<_>>())?;
    let col = |v: &[(usize, f64, f64)], c: usize| -> Vec<f64> { v.iter().map(|r| [r.0 as f64, r.1, r.2][c]).collect() };
    let k = t.every_n.len();
    h5util::write_f64(&g, "n", &[k], &col(&t.every_n, 0))?;
    h5util::write_f64(&g, "beta_a_ex", &[k], &col(&t.every_n, 1))?;
    h5util::write_f64(&g, "beta_a_ex_stderr", &[k], &col(&t.every_n, 2))?;
    let k = t.mu.len();
    h5util::write_f64(&g, "mu_n", &[k], &col(&t.mu, 0))?;
    h5util::write_f64(&g, "beta_mu_ex", &[k], &col(&t.mu, 1))?;
    h5util::write_f64(&g, "beta_mu_ex_stderr", &[k], &col(&t.mu, 2))?;
    let loo: Vec<f64> =
        t.loo.iter().flat_map(|l| [l.n as f64, l.value, l.stderr, l.pred, l.pred_stderr, l.z]).collect();
    let d = h5util::write_f64(&g, "leave_one_out", &[t.loo.len(), 6], &loo)?;
    h5util::set_str(&d, "columns", "n, value, stderr, prediction, prediction_stderr, z")?;
    Ok(())
}
