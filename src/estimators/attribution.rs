//! Auditable readout of a TI free energy (docs/design.md sec. 2): exact additive attribution to named
//! terms, quadrature nodes, particles and pair-distance shells, with a completeness check and
//! per-term uncertainties from one shared bootstrap.
//!
//! With Gauss-Legendre nodes t_j (weights w_j, n_j samples x_{j,i} each) the estimate
//!
//! ```text
//! beta A = - sum_j (w_j / n_j) sum_i du/dt(x_{j,i}, t_j),     du/dt = sum_k du_k/dt
//! ```
//!
//! is linear in the integrand, so it splits exactly into contributions
//! C[k, j, i] = -(w_j / n_j) du_k/dt(x_{j,i}, t_j) of term k (kT). Every marginal -- per term
//! A_k = sum_{j,i} C[k, j, i], per node, per particle p (from the per-particle split of each term),
//! per shell (from the per-shell split of each term) -- sums to beta A. [`attribute`] computes them
//! and checks that they do to round-off ([`Completeness`]).
//!
//! Uncertainties: one stratified bootstrap ([`super::bootstrap::shared_bootstrap`]) resamples the
//! same units for all terms and shells, so Cov(A_k, A_l) and Var(beta A) = sum_{k,l} Cov(A_k, A_l)
//! come from the same replicates. Resampling units ([`Resampling`]): for independent windows, blocks
//! of consecutive samples within each node (non-overlapping block bootstrap, Carlstein, Ann. Stat. 14,
//! 1171 (1986), for correlated chains; blocks of one sample for independent samples); for
//! reverse-SDE snapshots, whole trajectories, because sample i of every node comes from trajectory i
//! and the nodes are correlated. Per-particle values get no error bars (only per-node sums are kept).
//!
//! Array layouts are row-major; units kT for contributions, kT per unit t for du/dt.

use super::bootstrap::shared_bootstrap;
use crate::model::{ShellSplit, Terms};
use anyhow::{bail, ensure, Result};
use ndarray::Array2;

/// The samples of one quadrature node: per-sample du_k/dt, shell splits, and per-particle sums.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeSamples {
    /// Node time t_j.
    pub t: f64,
    /// Quadrature weight w_j.
    pub weight: f64,
    /// Number of terms K.
    pub n_terms: usize,
    /// Columns per term of the shell split (S + 2: S shells, overflow, unbinned); 0 without shells.
    pub n_shell_cols: usize,
    /// Particles N of the per-particle split; 0 without it.
    pub n_particles: usize,
    /// du_k/dt per sample, shape (n_j, K).
    pub terms: Vec<f64>,
    /// Shell split per sample, shape (n_j, K, S + 2); empty without shells.
    pub shells: Vec<f64>,
    /// Sum over samples of the per-particle split of du_k/dt, shape (N, K); empty without it.
    pub particle_sums: Vec<f64>,
    /// Sizes of consecutive blocks of samples resampled as units (sum n_j); empty = one sample each.
    pub units: Vec<usize>,
}

impl NodeSamples {
    /// An empty node with K terms.
    pub fn new(t: f64, weight: f64, n_terms: usize) -> Self {
        Self { t, weight, n_terms, ..Default::default() }
    }

    /// Number of samples n_j.
    pub fn n_samples(&self) -> usize {
        self.terms.len() / self.n_terms.max(1)
    }

    /// Appends one sample: `terms` (K values), its per-particle split `per_particle` (shape (N, K),
    /// or empty) and shell split `shells` (shape (K, S + 2), or empty). The layout must not change
    /// between samples.
    pub fn push(&mut self, terms: &[f64], per_particle: &[f64], shells: &[f64]) {
        assert_eq!(terms.len(), self.n_terms, "terms per sample");
        let first = self.terms.is_empty();
        if first {
            self.n_particles = per_particle.len() / self.n_terms;
            self.n_shell_cols = shells.len() / self.n_terms;
            self.particle_sums = vec![0.0; per_particle.len()];
        }
        assert_eq!(per_particle.len(), self.n_particles * self.n_terms, "per-particle layout changed");
        assert_eq!(shells.len(), self.n_shell_cols * self.n_terms, "shell layout changed");
        self.terms.extend_from_slice(terms);
        self.shells.extend_from_slice(shells);
        for (s, v) in self.particle_sums.iter_mut().zip(per_particle) {
            *s += v;
        }
    }

    /// Appends a sample from a model's [`Terms`] (K = 2: prior, network) and optional [`ShellSplit`].
    pub fn push_terms(&mut self, d: &Terms, shells: Option<&ShellSplit>) {
        let pp: Vec<f64> = d.per_particle.iter().flatten().copied().collect();
        let sh: Vec<f64> = shells.map(|s| s.values.iter().flatten().copied().collect()).unwrap_or_default();
        self.push(&[d.prior, d.network], &pp, &sh);
    }

    /// Flat f64 buffer (for MPI): header [t, w, K, cols, N, n, n_units], units, terms, shells, sums.
    pub fn to_buffer(&self) -> Vec<f64> {
        let mut b = vec![
            self.t,
            self.weight,
            self.n_terms as f64,
            self.n_shell_cols as f64,
            self.n_particles as f64,
            self.n_samples() as f64,
            self.units.len() as f64,
        ];
        b.extend(self.units.iter().map(|&u| u as f64));
        b.extend_from_slice(&self.terms);
        b.extend_from_slice(&self.shells);
        b.extend_from_slice(&self.particle_sums);
        b
    }

    /// Inverse of [`NodeSamples::to_buffer`].
    pub fn from_buffer(b: &[f64]) -> Result<Self> {
        ensure!(b.len() >= 7, "node buffer too short ({} values)", b.len());
        let (k, cols, np, n, nu) = (b[2] as usize, b[3] as usize, b[4] as usize, b[5] as usize, b[6] as usize);
        let lens = [nu, n * k, n * k * cols, if np > 0 { np * k } else { 0 }];
        ensure!(
            b.len() == 7 + lens.iter().sum::<usize>(),
            "node buffer of {} values does not match its header",
            b.len()
        );
        let mut p = 7;
        let mut take = |len: usize| {
            p += len;
            b[p - len..p].to_vec()
        };
        let units = take(lens[0]).iter().map(|&u| u as usize).collect();
        Ok(Self {
            t: b[0],
            weight: b[1],
            n_terms: k,
            n_shell_cols: cols,
            n_particles: np,
            units,
            terms: take(lens[1]),
            shells: take(lens[2]),
            particle_sums: take(lens[3]),
        })
    }
}

/// Blocks of about `block_len` consecutive samples within each chain of the given lengths
/// (chains concatenated in order): chain m gets max(1, m / block_len) blocks whose sizes differ by
/// at most one. Returns the block sizes (sum = total length), for [`NodeSamples::units`].
pub fn chain_blocks(chain_lens: &[usize], block_len: usize) -> Vec<usize> {
    let b = block_len.max(1);
    let mut out = Vec::new();
    for &m in chain_lens.iter().filter(|&&m| m > 0) {
        let nb = (m / b).max(1);
        out.extend((0..nb).map(|q| m / nb + usize::from(q < m % nb)));
    }
    out
}

/// How the bootstrap resamples (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resampling {
    /// Independent nodes: each node's units ([`NodeSamples::units`]) are resampled within the node.
    PerNode,
    /// Sample i of every node comes from trajectory i (all nodes have the same n): trajectories
    /// are resampled, the same ones at every node.
    Paired,
}

/// Relative completeness residuals |marginal sum - beta A| / |beta A| (per-term sub-checks
/// included: the particles and shells of term k must also sum to A_k).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Completeness {
    /// Sum over terms.
    pub terms: f64,
    /// Sum over nodes.
    pub nodes: f64,
    /// Sum over particles (and over the particles of each term); `None` without per-particle split.
    pub particles: Option<f64>,
    /// Sum over shells (and over the shells of each term); `None` without shells.
    pub shells: Option<f64>,
}

impl Completeness {
    /// The largest residual.
    pub fn max(&self) -> f64 {
        [Some(self.terms), Some(self.nodes), self.particles, self.shells].iter().flatten().fold(0.0, |a, &b| a.max(b))
    }
}

/// The attributed free energy (kT) with its marginals and bootstrap uncertainties.
#[derive(Clone, Debug)]
pub struct Attribution {
    /// Term names (length K).
    pub term_names: Vec<String>,
    /// beta A = -sum_j (w_j / n_j) sum_i du/dt, from the per-sample totals.
    pub total: f64,
    /// Bootstrap standard error of beta A, sqrt(sum_{k,l} cov[k, l]).
    pub total_stderr: f64,
    /// A_k per term, length K.
    pub terms: Vec<f64>,
    /// Bootstrap standard errors of A_k, length K (= sqrt of the diagonal of `term_cov`).
    pub term_stderr: Vec<f64>,
    /// Bootstrap covariance Cov(A_k, A_l), shape (K, K).
    pub term_cov: Array2<f64>,
    /// Node times t_j and weights w_j (length J) and samples n_j.
    pub node_t: Vec<f64>,
    pub node_weight: Vec<f64>,
    pub node_samples: Vec<usize>,
    /// Contribution per node and term, shape (J, K).
    pub nodes: Array2<f64>,
    /// Contribution per particle and term, shape (N, K); `None` without per-particle split.
    pub particles: Option<Array2<f64>>,
    /// Shell edges (sigma, length S + 1), empty without shells.
    pub shell_edges: Vec<f64>,
    /// Contribution per term and shell column, shape (K, S + 2) (shells, overflow, unbinned).
    pub shells: Option<Array2<f64>>,
    /// Bootstrap standard errors of `shells`, shape (K, S + 2).
    pub shell_stderr: Option<Array2<f64>>,
    /// Completeness residuals.
    pub completeness: Completeness,
    /// Bootstrap replicates B and seed.
    pub n_boot: usize,
    pub seed: u64,
}

impl Attribution {
    /// |beta A - value| / |beta A|: agreement with an estimate of beta A computed elsewhere.
    pub fn residual_against(&self, value: f64) -> f64 {
        (self.total - value).abs() / self.total.abs().max(f64::MIN_POSITIVE)
    }
}

/// Attributes beta A over `nodes` (see the module documentation) and bootstraps it with `n_boot`
/// replicates from streams keyed by `seed`. `edges` are the shell edges of the nodes' shell split
/// (ignored when the nodes carry none). All nodes must share K, the particle count and the shell
/// layout, and have at least one sample.
pub fn attribute(
    nodes: &[NodeSamples],
    term_names: &[&str],
    edges: &[f64],
    resampling: Resampling,
    n_boot: usize,
    seed: u64,
) -> Result<Attribution> {
    ensure!(!nodes.is_empty(), "attribution needs at least one node");
    let (k_n, cols, np) = (nodes[0].n_terms, nodes[0].n_shell_cols, nodes[0].n_particles);
    ensure!(k_n == term_names.len() && k_n > 0, "attribution: {k_n} terms but {} names", term_names.len());
    for (j, nd) in nodes.iter().enumerate() {
        ensure!(nd.n_samples() > 0, "attribution: node {j} has no samples");
        if (nd.n_terms, nd.n_shell_cols, nd.n_particles) != (k_n, cols, np) {
            bail!("attribution: node {j} has another layout than node 0");
        }
        if !nd.units.is_empty() && nd.units.iter().sum::<usize>() != nd.n_samples() {
            bail!("attribution: node {j}'s units do not cover its {} samples", nd.n_samples());
        }
    }
    ensure!(cols == 0 || cols == edges.len() + 1, "attribution: {cols} shell columns for {} edges", edges.len());
    let j_n = nodes.len();
    let scale: Vec<f64> = nodes.iter().map(|nd| -nd.weight / nd.n_samples() as f64).collect();

    // Marginals.
    let mut total = 0.0;
    let mut per_node = Array2::<f64>::zeros((j_n, k_n));
    let mut shells = Array2::<f64>::zeros((k_n, cols));
    let mut particles = Array2::<f64>::zeros((np, k_n));
    for (j, nd) in nodes.iter().enumerate() {
        let mut node_total = 0.0;
        for (i, row) in nd.terms.chunks_exact(k_n).enumerate() {
            node_total += row.iter().sum::<f64>();
            for k in 0..k_n {
                per_node[[j, k]] += row[k];
                for s in 0..cols {
                    shells[[k, s]] += scale[j] * nd.shells[(i * k_n + k) * cols + s];
                }
            }
        }
        total += scale[j] * node_total;
        per_node.row_mut(j).mapv_inplace(|v| scale[j] * v);
        for p in 0..np {
            for k in 0..k_n {
                particles[[p, k]] += scale[j] * nd.particle_sums[p * k_n + k];
            }
        }
    }
    let terms: Vec<f64> = (0..k_n).map(|k| per_node.column(k).sum()).collect();
    let rel = |x: f64| (x - total).abs() / total.abs().max(f64::MIN_POSITIVE);
    let per_term = |m: &Array2<f64>, axis_rows: bool| {
        (0..k_n)
            .map(|k| if axis_rows { m.row(k).sum() } else { m.column(k).sum() })
            .zip(&terms)
            .fold(0.0f64, |a, (s, t)| a.max((s - t).abs() / total.abs().max(f64::MIN_POSITIVE)))
    };
    let completeness = Completeness {
        terms: rel(terms.iter().sum()),
        nodes: rel(per_node.rows().into_iter().map(|r| r.sum()).sum()),
        particles: (np > 0).then(|| rel(particles.sum()).max(per_term(&particles, false))),
        shells: (cols > 0).then(|| rel(shells.sum()).max(per_term(&shells, true))),
    };

    // One shared bootstrap over columns [terms (K), shells (K x cols)] of per-unit contributions.
    let n_cols = k_n + k_n * cols;
    let sample_cols = |j: usize, i: usize, out: &mut [f64]| {
        let nd = &nodes[j];
        for k in 0..k_n {
            out[k] += scale[j] * nd.terms[i * k_n + k];
            for s in 0..cols {
                out[k_n + k * cols + s] += scale[j] * nd.shells[(i * k_n + k) * cols + s];
            }
        }
    };
    let mut unit_rows: Vec<Vec<f64>> = Vec::new();
    let mut strata = Vec::new();
    match resampling {
        Resampling::PerNode => {
            for (j, nd) in nodes.iter().enumerate() {
                let units = if nd.units.is_empty() { vec![1; nd.n_samples()] } else { nd.units.clone() };
                let mut i = 0;
                for &u in &units {
                    let mut row = vec![0.0; n_cols];
                    for ii in i..i + u {
                        sample_cols(j, ii, &mut row);
                    }
                    i += u;
                    unit_rows.push(row);
                }
                strata.push(units.len());
            }
        }
        Resampling::Paired => {
            let n = nodes[0].n_samples();
            ensure!(nodes.iter().all(|nd| nd.n_samples() == n), "paired attribution needs equal samples per node");
            for i in 0..n {
                let mut row = vec![0.0; n_cols];
                for j in 0..j_n {
                    sample_cols(j, i, &mut row);
                }
                unit_rows.push(row);
            }
            strata.push(n);
        }
    }
    let columns: Vec<Vec<f64>> = (0..n_cols).map(|c| unit_rows.iter().map(|r| r[c]).collect()).collect();
    let bs = shared_bootstrap(&columns, &strata, n_boot, seed)?;
    let term_cov = bs.cov.slice(ndarray::s![..k_n, ..k_n]).to_owned();
    let shell_stderr = Array2::from_shape_vec((k_n, cols), bs.stderr[k_n..].to_vec())?;
    Ok(Attribution {
        term_names: term_names.iter().map(|s| s.to_string()).collect(),
        total,
        total_stderr: term_cov.sum().max(0.0).sqrt(),
        terms,
        term_stderr: bs.stderr[..k_n].to_vec(),
        term_cov,
        node_t: nodes.iter().map(|n| n.t).collect(),
        node_weight: nodes.iter().map(|n| n.weight).collect(),
        node_samples: nodes.iter().map(|n| n.n_samples()).collect(),
        nodes: per_node,
        particles: (np > 0).then_some(particles),
        shell_edges: if cols > 0 { edges.to_vec() } else { vec![] },
        shells: (cols > 0).then_some(shells),
        shell_stderr: (cols > 0).then_some(shell_stderr),
        completeness,
        n_boot,
        seed,
    })
}

#[cfg(test)]
#[path = "attribution_tests.rs"]
mod tests;
