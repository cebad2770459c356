//! Pair-distance shells of the TI integrand (docs/design.md sec. 2, "auditable readout").
//!
//! Both named terms of the LJ model contain pair sums, so their time derivatives split exactly over
//! the pairs (i < j) and can be binned by the minimum-image distance r_ij into shells
//! s = [r_s, r_{s+1}) of the edges r_0 = 0 < r_1 < ... < r_S, plus an overflow shell r >= r_S:
//!
//! ```text
//! prior:   du_prior/dt  = sum_{i<j} (sigma_min / sigma) [ -(1 + (1-t) ln(s_max/s_min)) b u_soft(r_ij; t)
//!                                                         + (1-t) b du_soft/da(r_ij; t) ]   + tail
//! network: du_net/dt    = sum_{i<j} [ (1-2t) e_ij + t(1-t) de_ij/dt - t(1-t) ln(s_max/s_min) e_ij ] / sigma
//!                         + (per-particle MLP part)
//! ```
//!
//! with b = beta = 1/T, e_ij the learned pair-wall energy of [`super::pair_term`]
//! (e_ij = sum_m c_m(t) b_m(r_ij)) and sigma = sigma(t) the noise scale. The parts that are no pair
//! sum go into a last, "unbinned" column: for the prior the analytic tail correction (when the
//! system has one), for the network the per-particle MLP E_i(G_i, t), which depends on whole
//! neighbourhoods and has no pair split. The columns of each term add up to that term of
//! [`EnergyModel::dt_terms`](super::EnergyModel::dt_terms) to round-off (for the network by
//! construction of the unbinned column; for the prior independently, which the tests check).
//!
//! Units: r and edges in sigma; values in kT per unit t (like du/dt).

/// du/dt of one configuration at one t, per term binned into pair-distance shells.
#[derive(Clone, Debug, PartialEq)]
pub struct ShellSplit {
    /// Shell edges r_0 = 0 < r_1 < ... < r_S (sigma), length S + 1.
    pub edges: Vec<f64>,
    /// Per term ([prior, network], the order of [`Terms`](super::Terms)) S + 2 columns: shells 0..S-1, the
    /// overflow shell r >= r_S, and the unbinned part (prior: tail correction; network: MLP).
    pub values: [Vec<f64>; 2],
}

impl ShellSplit {
    /// Number S of finite shells.
    pub fn n_shells(&self) -> usize {
        self.edges.len() - 1
    }

    /// Number of columns per term, S + 2.
    pub fn n_columns(&self) -> usize {
        self.edges.len() + 1
    }
}

/// Edges 0, w, 2w, ..., r_max (the last shell is shortened to end at r_max), w = `width` > 0.
/// Default for the LJ model: r_max = the prior's cutoff (L/2 in min-image mode), w = 0.1 sigma.
pub fn default_edges(r_max: f64, width: f64) -> Vec<f64> {
    assert!(r_max > 0.0 && width > 0.0 && r_max.is_finite(), "shell edges need r_max > 0 and width > 0");
    let n = ((r_max / width) - 1e-9).ceil().max(1.0) as usize;
    (0..=n).map(|k| (k as f64 * width).min(r_max)).collect()
}

/// Checks that `edges` start at 0 and increase strictly.
pub fn check_edges(edges: &[f64]) -> Result<(), String> {
    if edges.first() != Some(&0.0) {
        return Err(format!("shell edges must start at 0, got {edges:?}"));
    }
    if edges.windows(2).any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater) || !w[1].is_finite()) {
        return Err(format!("shell edges must increase strictly and be finite, got {edges:?}"));
    }
    Ok(())
}

/// Shell of a pair at distance r: s with r_s <= r < r_{s+1}, or S (overflow) for r >= r_S.
pub fn shell_index(edges: &[f64], r: f64) -> usize {
    edges.partition_point(|&e| e <= r).max(1) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_and_shell_index() {
        let e = default_edges(2.5, 0.1);
        assert_eq!(e.len(), 26);
        assert_eq!((e[0], e[25]), (0.0, 2.5));
        assert!(check_edges(&e).is_ok());
        assert_eq!(default_edges(0.25, 0.1), vec![0.0, 0.1, 0.2, 0.25]);
        assert!(check_edges(&[0.1, 0.2]).is_err() && check_edges(&[0.0, 0.2, 0.2]).is_err());
        assert_eq!(shell_index(&[0.0, 1.0, 2.0], 0.0), 0);
        assert_eq!(shell_index(&[0.0, 1.0, 2.0], 0.99), 0);
        assert_eq!(shell_index(&[0.0, 1.0, 2.0], 1.0), 1);
        assert_eq!(shell_index(&[0.0, 1.0, 2.0], 2.0), 2);
        assert_eq!(shell_index(&[0.0, 1.0, 2.0], 7.0), 2);
    }
}
