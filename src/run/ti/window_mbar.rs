//! MBAR over the corrected windows of one N in `nti ti` (`[ti] window_mbar`, issue 25; the estimator
//! is crate::estimators::window_mbar): the windows' gathered energy buffers (module `node`) into
//! the estimate `<windows method>-mbar`, logged beside the windows' quadrature, and its free
//! energies and overlap matrix in `/ti/N<n>/mbar`.

use crate::estimators::window_mbar::{window_mbar, WindowEnergies, WindowMbar};
use crate::io::{h5util, ScalarResult};
use crate::parallel::unpack;
// Below this overlap between neighbouring windows MBAR's asymptotic error is not reliable (the
// baseline's threshold for its lambda windows).
use crate::run::baseline::MIN_OVERLAP;
use anyhow::{bail, Result};

/// The MBAR estimate from the gathered energy buffers ([j, WindowEnergies buffer] per window, in
/// any order) of windows at `nodes`; `None` when MBAR over the windows is off (buffers hold [j]
/// only). `windows` is the quadrature estimate it is logged beside.
pub(super) fn estimate(
    n: usize,
    nodes: &[f64],
    bufs: &[Vec<f64>],
    windows: &ScalarResult,
) -> Result<Option<(WindowMbar, ScalarResult)>> {
    let mut items: Vec<Vec<f64>> = bufs.iter().flat_map(|b| unpack(b)).collect();
    items.sort_by(|a, b| a[0].total_cmp(&b[0]));
    if items.iter().all(|b| b.len() == 1) {
        return Ok(None);
    }
    if items.len() != nodes.len() || items.iter().enumerate().any(|(j, b)| b[0] as usize != j || b.len() == 1) {
        bail!("internal: energy buffers of {} windows for {} nodes, not one each", items.len(), nodes.len());
    }
    let energies = items.iter().map(|b| WindowEnergies::from_buffer(&b[1..])).collect::<Result<Vec<_>>>()?;
    // A failed solve (no overlap at all, say) loses this estimate only, not the run's others.
    let m = match window_mbar(nodes, &energies) {
        Ok(m) => m,
        Err(e) => {
            log::warn!("N = {n}: MBAR over the windows failed ({e:#}); no {}-mbar estimate", windows.method);
            return Ok(None);
        }
    };
    let r = ScalarResult {
        method: format!("{}-mbar", windows.method),
        value: m.value,
        stderr: m.stderr,
        ..windows.clone()
    };
    let z = (r.value - windows.value) / (r.stderr.powi(2) + windows.stderr.powi(2)).sqrt();
    log::info!(
        "N = {n}: beta A_ex = {:.4} ± {:.4} kT ({}), {:.4} ± {:.4} kT ({}; {} samples at {} states): z = {z:+.2}",
        windows.value,
        windows.stderr,
        windows.method,
        r.value,
        r.stderr,
        r.method,
        m.n_k.iter().sum::<usize>(),
        m.times.len()
    );
    let overlap = m.min_neighbour_overlap();
    if overlap < MIN_OVERLAP {
        log::warn!(
            "N = {n}: {}: the smallest overlap between neighbouring windows is {overlap:.2e} < {MIN_OVERLAP}: its \
             error bar is not reliable",
            r.method
        );
    }
    Ok(Some((m, r)))
}

/// `/ti/N<n>/mbar`: `t` (the K + 2 states: 0, the nodes, 1), `n_k` (samples per state after
/// discard and thinning; 0 at the ends), `f_k` (kT, relative to t = 0), `f_k_stderr` (standard
/// error of f_k - f_0) and `overlap` ((K + 2) x (K + 2); zero columns at the unsampled ends).
pub(super) fn write_mbar(g: &hdf5::Group, m: &WindowMbar) -> Result<()> {
    let k = m.times.len();
    let mg = g.create_group("mbar")?;
    h5util::write_f64(&mg, "t", &[k], &m.times)?;
    h5util::write_f64(&mg, "n_k", &[k], &m.n_k.iter().map(|&v| v as f64).collect::<Vec<_>>())?;
    h5util::write_f64(&mg, "f_k", &[k], &m.mbar.f)?;
    h5util::write_f64(&mg, "f_k_stderr", &[k], &m.mbar.df.row(0).to_vec())?;
    let o = m.mbar.overlap.as_standard_layout();
    h5util::write_f64(&mg, "overlap", &[k, k], o.as_slice().expect("standard layout"))?;
    Ok(())
}
