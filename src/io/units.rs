//! Units of the arrays in nti's results files: the H5MD `unit` attribute, in reduced
//! Lennard-Jones units (docs/design.md, "Files"). Unit strings follow the H5MD units grammar
//! (space-separated symbols with an optional integer power):
//!
//! | string | meaning |
//! | --- | --- |
//! | `sigma`, `sigma-3` | length, number density |
//! | `epsilon`, `epsilon sigma-3` | energy, pressure |
//! | `kT` | a free energy or reduced energy beta*U (all TI integrands, work values) |
//! | `tau`, `sweep` | time of dynamics (sigma sqrt(m/epsilon)); Monte Carlo sweeps |
//! | `1` | dimensionless (fractions, counts, weights, t in [0, 1], z-scores, losses) |
//!
//! The H5MD groups (`/particles`, `/observables`) get their units from [`super::h5md`], where
//! they are written. Every other array gets its unit here, from its path, when the finished
//! results file is committed ([`super::OutputFile::commit`]): one table for every writer, so a
//! new array without a unit is noticed (logged, and caught by the `file_units` test) rather than
//! silently shipped. A table with a `columns` attribute lists one unit per column, comma-separated.

use anyhow::Result;
use hdf5::{Group, Location};
use std::path::Path;

/// Unit of the array at `path` (without leading '/'), or None when the table does not know it.
pub fn unit_of(path: &str) -> Option<&'static str> {
    let seg: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let name = *seg.last()?;
    let parent = if seg.len() >= 2 { seg[seg.len() - 2] } else { "" };
    if name.ends_with("_z") {
        return Some("1");
    }
    let u = match seg[0] {
        "rdf" => match name {
            "r" => "sigma",
            "g" | "g_stderr" => "1",
            _ => return None,
        },
        "training" => match name {
            "step" | "train_loss" | "val_loss" | "lr" | "val_loss_by_t" => "1",
            _ => return None,
        },
        "model" if name == "params" => "1",
        "baseline" => match name {
            "lambda" | "weight" | "statistical_inefficiency" | "acceptance" | "n_k" | "overlap" => "1",
            "du_dlambda_mean" | "du_dlambda_stderr" | "u_kn" | "f_k" => "kT",
            _ => return None,
        },
        "grand_canonical" => match name {
            "beta_mu" => "kT",
            "mean_n" | "edge_weight" => "1",
            "mean_density" | "mean_density_stderr" => "sigma-3",
            _ => return None,
        },
        "ti" if parent == "fit" => match name {
            "n" | "mu_n" => "1",
            "beta_a_ex" | "beta_a_ex_stderr" | "beta_mu_ex" | "beta_mu_ex_stderr" => "kT",
            // beta*A_ex(N) = N sum_k c_k rho^k: c_k in kT sigma^(3k).
            "coefficients" => "kT sigma3k",
            "covariance" => "kT2 sigma3(k+l)",
            "leave_one_out" => "1, kT, kT, kT, kT, 1",
            _ => return None,
        },
        // MBAR over the windows: free energies in kT, overlap (probabilities) and sample counts 1.
        "ti" if parent == "mbar" => match name {
            "t" | "n_k" | "overlap" => "1",
            "f_k" | "f_k_stderr" => "kT",
            _ => return None,
        },
        "ti" if seg.contains(&"attribution") => match (parent, name) {
            ("terms", "covariance") => "kT2",
            ("shells", "edges") => "sigma",
            ("nodes", "t" | "weight" | "n_samples") => "1",
            (_, "value" | "stderr" | "particles") => "kT",
            _ => return None,
        },
        "ti" => match name {
            "t"
            | "weight"
            | "statistical_inefficiency"
            | "acceptance"
            | "mala_eps"
            | "corrector_t"
            | "corrector_acceptance"
            | "corrector_eps"
            | "data_start_chains"
            | "discarded_fraction"
            | "stein_statistical_inefficiency"
            | "stein_coefficient"
            | "recorded_samples" => "1",
            // The configurational temperature in reduced form: 1 for exact samples.
            n if n.contains("conf_temperature") => "1",
            "mean" | "stderr" | "mean_prior" | "mean_network" | "uncorrected_mean" | "uncorrected_stderr"
            | "stein_mean" | "stein_stderr" | "series" | "ais_work" | "per_trajectory" | "corrector_du" => "kT",
            _ => return None,
        },
        _ => return None,
    };
    Some(u)
}

/// Gives every array of the HDF5 file at `path` that has neither `unit` nor `reduced_unit` its
/// unit from [`unit_of`]. Returns the paths of arrays the table does not know (left without unit).
pub fn annotate(path: &Path) -> Result<Vec<String>> {
    let f = hdf5::File::open_rw(path)?;
    let mut unknown = vec![];
    visit(&f, "", &mut |p, ds| {
        if has_unit(ds) {
            return Ok(());
        }
        match unit_of(p) {
            Some(u) => super::h5md::set_unit(ds, u),
            None => {
                unknown.push(p.to_string());
                Ok(())
            }
        }
    })?;
    f.close()?;
    Ok(unknown)
}

/// Whether a dataset carries a unit (`unit`, or `reduced_unit` where H5MD readers forbid `unit`).
pub fn has_unit(ds: &Location) -> bool {
    ds.attr("unit").is_ok() || ds.attr("reduced_unit").is_ok()
}

/// Calls `f(path, dataset)` for every dataset below `g` (hard-linked datasets once per link).
pub fn visit(g: &Group, prefix: &str, f: &mut dyn FnMut(&str, &Location) -> Result<()>) -> Result<()> {
    for name in g.member_names()? {
        let p = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        if let Ok(ds) = g.dataset(&name) {
            f(&p, &ds)?;
        } else if let Ok(sub) = g.group(&name) {
            visit(&sub, &p, f)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::unit_of;

    #[test]
    fn table_covers_each_writer_and_refuses_unknown_paths() {
        assert_eq!(unit_of("rdf/r"), Some("sigma"));
        assert_eq!(unit_of("rdf/generated_N32/g"), Some("1"));
        assert_eq!(unit_of("ti/N20/windows/conf_temperature_stderr"), Some("1"));
        assert_eq!(unit_of("ti/N20/windows/drift_z"), Some("1"));
        assert_eq!(unit_of("ti/N20/windows/mean"), Some("kT"));
        assert_eq!(unit_of("ti/N20/attribution/mala/shells/edges"), Some("sigma"));
        assert_eq!(unit_of("ti/N20/attribution/mala/nodes/t"), Some("1"));
        assert_eq!(unit_of("ti/N20/attribution/mala/nodes/value"), Some("kT"));
        assert_eq!(unit_of("ti/fit/n"), Some("1"));
        assert_eq!(unit_of("baseline/mbar/u_kn"), Some("kT"));
        assert_eq!(unit_of("grand_canonical/mean_density"), Some("sigma-3"));
        assert_eq!(unit_of("ti/N20/new_array"), None);
        assert_eq!(unit_of("somewhere/else"), None);
    }
}
