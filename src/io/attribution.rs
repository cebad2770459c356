//! HDF5 layout of a free-energy attribution ([`crate::estimators::attribution::Attribution`]),
//! written by `nti ti` under `/ti/N<n>/attribution/<estimate>` (estimate "mala" or "hmc" after the window sampler, and "uncorrected"):
//!
//! ```text
//! attributes  method, resampling, term_names (K strings), total, total_stderr (kT),
//!             headline_value (the estimate as in /results, kT), n_boot, bootstrap_seed
//! terms/      value (K), stderr (K), covariance (K, K)                              kT, kT^2
//! nodes/      t (J), weight (J), n_samples (J), value (J, K)                        kT
//! particles   (N, K)                                                                kT
//! shells/     edges (S + 1, sigma), value (K, S + 2), stderr (K, S + 2)              kT
//!             columns: S shells [r_s, r_{s+1}), overflow r >= r_S, unbinned part
//!             (prior: tail correction; network: per-particle MLP)
//! completeness/  attributes terms, nodes, particles, shells, headline, max: relative residuals
//!             |marginal sum - total| / |total| (headline: |total - headline_value| / |total|)
//! ```
//!
//! Contribution of term k at node j and sample i: C[k, j, i] = -(w_j / n_j) du_k/dt(x_{j,i}, t_j).

use super::h5util::{group_p, set_f64, set_i64, set_str, write_f64};
use crate::estimators::attribution::Attribution;
use anyhow::Result;
use hdf5::types::VarLenUnicode;
use hdf5::Group;
use ndarray::Array2;

fn write_2d(g: &Group, name: &str, a: &Array2<f64>) -> Result<()> {
    let v: Vec<f64> = a.iter().copied().collect(); // logical (row-major) order
    write_f64(g, name, &[a.nrows(), a.ncols()], &v)?;
    Ok(())
}

/// Writes `a` into group `g` (see the module documentation for the layout). `method` is the
/// estimate's method in `/results`, `resampling` describes the bootstrap units, `headline` is that
/// estimate's value.
pub fn write_attribution(g: &Group, a: &Attribution, method: &str, resampling: &str, headline: f64) -> Result<()> {
    set_str(g, "method", method)?;
    set_str(g, "resampling", resampling)?;
    let names: Vec<VarLenUnicode> = a.term_names.iter().map(|s| s.parse().expect("plain names")).collect();
    g.new_attr::<VarLenUnicode>().shape([names.len()]).create("term_names")?.write(&names)?;
    set_f64(g, "total", a.total)?;
    set_f64(g, "total_stderr", a.total_stderr)?;
    set_f64(g, "headline_value", headline)?;
    set_i64(g, "n_boot", a.n_boot as i64)?;
    set_i64(g, "bootstrap_seed", a.seed as i64)?;
    let k = a.terms.len();
    let t = group_p(g, "terms")?;
    write_f64(&t, "value", &[k], &a.terms)?;
    write_f64(&t, "stderr", &[k], &a.term_stderr)?;
    write_2d(&t, "covariance", &a.term_cov)?;
    let nd = group_p(g, "nodes")?;
    write_f64(&nd, "t", &[a.node_t.len()], &a.node_t)?;
    write_f64(&nd, "weight", &[a.node_weight.len()], &a.node_weight)?;
    let ns: Vec<f64> = a.node_samples.iter().map(|&n| n as f64).collect();
    write_f64(&nd, "n_samples", &[ns.len()], &ns)?;
    write_2d(&nd, "value", &a.nodes)?;
    if let Some(p) = &a.particles {
        write_2d(g, "particles", p)?;
    }
    if let (Some(v), Some(e)) = (&a.shells, &a.shell_stderr) {
        let s = group_p(g, "shells")?;
        write_f64(&s, "edges", &[a.shell_edges.len()], &a.shell_edges)?;
        write_2d(&s, "value", v)?;
        write_2d(&s, "stderr", e)?;
        set_str(
            &s,
            "columns",
            "S shells [edges[s], edges[s+1]), overflow r >= edges[S], unbinned (prior: tail correction; \
             network: per-particle MLP)",
        )?;
    }
    let c = group_p(g, "completeness")?;
    let r = &a.completeness;
    set_f64(&c, "terms", r.terms)?;
    set_f64(&c, "nodes", r.nodes)?;
    if let Some(p) = r.particles {
        set_f64(&c, "particles", p)?;
    }
    if let Some(s) = r.shells {
        set_f64(&c, "shells", s)?;
    }
    let h = a.residual_against(headline);
    set_f64(&c, "headline", h)?;
    set_f64(&c, "max", r.max().max(h))?;
    Ok(())
}
