//! Attribution of the windowed TI estimates of `nti ti` (docs/design.md sec. 2, "auditable readout"):
//! beta A_ex(N) split into the prior (soft-core LJ) and network terms, per node, per particle and
//! per pair-distance shell, with one shared bootstrap (crate::estimators::attribution). Layout in
//! the results file: crate::io::attribution.

use crate::estimators::attribution::{attribute, Attribution, NodeSamples, Resampling};
use crate::io::ScalarResult;
use crate::model::shells::default_edges;
use crate::model::ParticleModel;

/// Bootstrap replicates of the attribution.
pub const N_BOOT: usize = 1000;
/// Width of the pair-distance shells (sigma).
pub const SHELL_WIDTH: f64 = 0.1;
/// Names of the model's terms, in the order of [`crate::model::Terms`].
pub const TERM_NAMES: [&str; 2] = ["prior", "network"];

/// Shell edges 0, 0.1, ..., r_max: r_max = the prior's cutoff, or L/2 in min-image mode (pairs
/// farther apart, towards the box corners, land in the overflow shell).
pub fn shell_edges(model: &dyn ParticleModel, side: f64) -> Vec<f64> {
    default_edges(model.interactions().rc.unwrap_or(0.5 * side), SHELL_WIDTH)
}

/// One attributed estimate of one N.
#[derive(Clone, Debug)]
pub struct TiAttribution {
    /// Group name under /ti/N<n>/attribution ("mala" or "hmc", "uncorrected").
    pub label: String,
    /// Method of the attributed estimate in /results.
    pub method: String,
    /// Bootstrap units, in words.
    pub resampling: String,
    /// The estimate's value in /results (kT).
    pub headline: f64,
    /// The attribution.
    pub attribution: Attribution,
}

/// Attributes the windows `nodes` of estimate `label` (method `method`, value `headline`) for N
/// particles; the bootstrap seed is derived from `seed` (the reverse-SDE seed of this N) and the
/// label only. Failures (e.g. a window without samples) are logged and give `None`.
pub fn attribute_windows(
    label: &str,
    method: &str,
    nodes: &[NodeSamples],
    edges: &[f64],
    resampling: Resampling,
    headline: f64,
    seed: u64,
) -> Option<TiAttribution> {
    let tag = label.bytes().fold(0xA77B_u64, |h, b| crate::rng::splitmix64(h ^ b as u64));
    let bseed = crate::rng::splitmix64(seed ^ tag);
    match attribute(nodes, &TERM_NAMES, edges, resampling, N_BOOT, bseed) {
        Ok(a) => {
            let h = a.residual_against(headline);
            log::info!(
                "{method}: beta A_ex = {:.4} = prior {:.4} ± {:.4} + network {:.4} ± {:.4}; completeness residual {:.1e} \
                 (headline {h:.1e})",
                a.total,
                a.terms[0],
                a.term_stderr[0],
                a.terms[1],
                a.term_stderr[1],
                a.completeness.max()
            );
            let resampling = match resampling {
                Resampling::PerNode => "per node: blocks of ceil(statistical inefficiency) samples within each chain",
                Resampling::Paired => "paired: reverse-SDE trajectories, shared by all nodes",
            };
            Some(TiAttribution {
                label: label.into(),
                method: method.into(),
                resampling: resampling.into(),
                headline,
                attribution: a,
            })
        }
        Err(e) => {
            log::warn!("{method}: no attribution: {e:#}");
            None
        }
    }
}

/// Scalar results of an attribution: "beta_a_ex_term" per term (method "<method>-<term>", value with
/// bootstrap stderr, kT) and "attribution_completeness" (largest relative residual, including the
/// agreement with the headline estimate; units 1). `base` supplies N, T and density.
pub fn scalar_results(x: &TiAttribution, base: &ScalarResult) -> Vec<ScalarResult> {
    let a = &x.attribution;
    let mut out: Vec<ScalarResult> = a
        .term_names
        .iter()
        .enumerate()
        .map(|(k, name)| ScalarResult {
            name: "beta_a_ex_term".into(),
            method: format!("{}-{name}", x.method),
            value: a.terms[k],
            stderr: a.term_stderr[k],
            units: "kT".into(),
            ..base.clone()
        })
        .collect();
    out.push(ScalarResult {
        name: "attribution_completeness".into(),
        method: x.method.clone(),
        value: a.completeness.max().max(a.residual_against(x.headline)),
        stderr: f64::NAN,
        units: "1".into(),
        ..base.clone()
    });
    out
}
