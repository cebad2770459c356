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

use super::lj_model::LjModel;
use super::{Conf, Terms};
use crate::potential::{numeric_tail_integral, Alchemical, PairPotential, SoftCore, Truncated};
use crate::schedule::NoiseSchedule;
use crate::system::SimBox;

/// du/dt of one configuration at one t, per term binned into pair-distance shells.
#[derive(Clone, Debug, PartialEq)]
pub struct ShellSplit {
    /// Shell edges r_0 = 0 < r_1 < ... < r_S (sigma), length S + 1.
    pub edges: Vec<f64>,
    /// Per term ([prior, network], the order of [`Terms`]) S + 2 columns: shells 0..S-1, the
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

/// The shell split of the LJ model's du/dt at (`c`, `t`); `terms` = `m.dt_terms(c, t)` (whose
/// network part fixes the unbinned MLP column). Panics on invalid `edges` ([`check_edges`]).
pub fn lj_dt_shells(m: &LjModel, c: &Conf, t: f64, edges: &[f64], terms: &Terms) -> ShellSplit {
    if let Err(e) = check_edges(edges) {
        panic!("{e}");
    }
    let cols = edges.len() + 1;
    let (mut prior, mut network) = (vec![0.0; cols], vec![0.0; cols]);
    let x = LjModel::positions(c);
    let n = x.len();
    let simbox = SimBox::new(c.side);
    let spec = &m.spec;
    let beta = 1.0 / spec.temperature;
    let sigma = spec.schedule.sigma(t);
    let smin = spec.schedule.sigma_min;
    let lr = spec.schedule.log_ratio();
    let cnn = t * (1.0 - t);
    // Same algebra as LjModel::dt_terms, per pair: (prior_dt - prior_e lr) / sigma.
    let prior_of = |p: f64, dp: f64| (-smin * p + (1.0 - t) * smin * dp - (1.0 - t) * smin * p * lr) / sigma;
    let net_of = |e: f64, de: f64| ((1.0 - 2.0 * t) * e + cnn * de - cnn * e * lr) / sigma;
    let sc = SoftCore { a: t };
    let pot = match spec.cutoff.rc {
        Some(rc) => Truncated::new(sc, rc, spec.cutoff.shift),
        None => Truncated::untruncated(sc),
    };
    // Pair walls: c_m(t) = sum_q W_mq rho_q(t) and dc_m/dt.
    let pair = &spec.pair;
    let w = &m.params[m.params.len() - pair.n_params()..];
    let (cw, dcw) = if pair.enabled() { pair.coefficients(w, t) } else { (vec![], vec![]) };
    let (mut b, mut db) = (vec![0.0; cw.len()], vec![0.0; cw.len()]);
    let wall_max = pair.reach();
    for i in 0..n {
        for j in i + 1..n {
            let d = simbox.delta(&x[i], &x[j]);
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let r = r2.sqrt();
            let s = shell_index(edges, r);
            prior[s] += prior_of(beta * pot.energy(r2), beta * pot.denergy_dlambda(r2));
            if pair.enabled() && r < wall_max {
                pair.radial(r, &mut b, &mut db);
                let e: f64 = cw.iter().zip(&b).map(|(a, v)| a * v).sum();
                let de: f64 = dcw.iter().zip(&b).map(|(a, v)| a * v).sum();
                network[s] += net_of(e, de);
            }
        }
    }
    if let (Some(rc), true) = (spec.cutoff.rc, spec.cutoff.tail) {
        // N particles x (rho / 2) int_rc^inf 4 pi r^2 u dr (and the same for du/da), as in the model.
        let rho = n as f64 / simbox.volume();
        let tu = 0.5 * rho * numeric_tail_integral(|r2| sc.energy(r2), rc);
        let td = 0.5 * rho * numeric_tail_integral(|r2| sc.denergy_dlambda(r2), rc);
        prior[cols - 1] = n as f64 * prior_of(beta * tu, beta * td);
    }
    network[cols - 1] = terms.network - network[..cols - 1].iter().sum::<f64>();
    ShellSplit { edges: edges.to_vec(), values: [prior, network] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::descriptors::DescriptorSpec;
    use crate::model::lj_model::{LjModelSpec, PriorCutoff};
    use crate::model::pair_term::PairTermSpec;
    use crate::model::{EnergyModel, TimeEmbedding};
    use crate::rng::{stream, Purpose};
    use crate::schedule::VeSchedule;
    use rand::RngExt;

    const L: f64 = 6.0;

    fn model(cutoff: PriorCutoff, zero_mlp: bool) -> LjModel {
        let spec = LjModelSpec {
            descriptors: DescriptorSpec { n_radial: 3, r_min: 0.8, r_cut: 2.8 },
            time: TimeEmbedding { n_freq: 2 },
            hidden: vec![8],
            schedule: VeSchedule::default(),
            temperature: 1.25,
            cutoff,
            pair: PairTermSpec { walls: vec![0.9, 1.0, 1.3], width: 0.15, n_time: 4 },
            isolated_zero: true,
            message_passing: None,
        };
        let mut m = LjModel::new(spec, &mut stream(9, Purpose::ModelInit, 0));
        let np = m.spec.pair.n_params();
        let n_mlp = m.params.len() - np;
        let mut r = stream(9, Purpose::ModelInit, 1);
        for (k, p) in m.params.iter_mut().enumerate() {
            *p = if k < n_mlp && zero_mlp { 0.0 } else { 3.0 * *p + (r.random::<f64>() - 0.5) };
        }
        m
    }

    fn config(n: usize, seed: u64) -> Conf {
        let b = SimBox::new(L);
        let mut r = stream(seed, Purpose::Init, 0);
        let mut x: Vec<[f64; 3]> = vec![[1.0, 1.0, 1.0], [1.95, 1.0, 1.0]];
        while x.len() < n {
            let p = [r.random::<f64>() * L, r.random::<f64>() * L, r.random::<f64>() * L];
            if x.iter().all(|q| b.dist2(&p, q) > 0.8 * 0.8) {
                x.push(p);
            }
        }
        Conf { y: x.iter().flat_map(|p| p.iter().map(|v| v / L)).collect(), side: L }
    }

    fn cutoffs() -> [PriorCutoff; 3] {
        [
            PriorCutoff { rc: None, shift: false, tail: false },
            PriorCutoff { rc: Some(2.5), shift: false, tail: true },
            PriorCutoff { rc: Some(2.5), shift: true, tail: false },
        ]
    }

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

    /// Exact check: the shells (with overflow and tail) add up to the prior's du/dt to 1e-12
    /// (relative), for every interaction mode and t; the model's per-particle split agrees too.
    #[test]
    fn prior_shells_sum_to_prior_time_derivative() {
        for cut in cutoffs() {
            let m = model(cut, false);
            let c = config(30, 4);
            let edges = default_edges(cut.rc.unwrap_or(L / 2.0), 0.1);
            for t in [0.0, 0.013, 0.5, 0.97] {
                let terms = m.dt_terms(&c, t);
                let (terms2, sh) = m.dt_terms_shells(&c, t, &edges);
                assert_eq!(terms, terms2);
                let sh = sh.expect("LJ model has shells");
                assert_eq!(sh.values[0].len(), edges.len() + 1);
                let sum: f64 = sh.values[0].iter().sum();
                let rel = (sum - terms.prior).abs() / terms.prior.abs();
                assert!(rel < 1e-12, "{cut:?} t = {t}: shells {sum} vs prior {} (rel {rel:e})", terms.prior);
                let net: f64 = sh.values[1].iter().sum();
                assert!((net - terms.network).abs() <= 1e-12 * terms.network.abs().max(1e-300));
                if cut.rc.is_some() {
                    // Truncated prior: nothing beyond r_c, so the overflow shell is empty.
                    assert_eq!(sh.values[0][edges.len() - 1], 0.0);
                }
                if !cut.tail {
                    assert_eq!(sh.values[0][edges.len()], 0.0);
                }
            }
        }
    }

    /// With the MLP's parameters zeroed, E_NN is the pair-wall term alone, so the wall shells carry
    /// the whole network du/dt and the unbinned (MLP) column is round-off.
    #[test]
    fn wall_shells_carry_the_whole_network_term_without_mlp() {
        let m = model(cutoffs()[1], true);
        let c = config(30, 5);
        let edges = default_edges(2.5, 0.1);
        for t in [0.2, 0.6] {
            let (terms, sh) = m.dt_terms_shells(&c, t, &edges);
            let sh = sh.unwrap();
            let walls: f64 = sh.values[1][..edges.len()].iter().sum();
            assert!(terms.network.abs() > 1e-3, "walls inactive: {}", terms.network);
            assert!((walls - terms.network).abs() < 1e-12 * terms.network.abs(), "{walls} vs {}", terms.network);
            // Walls end at 1.3 sigma: no wall contribution in shells beyond.
            assert!(sh.values[1][13..edges.len()].iter().all(|v| *v == 0.0));
        }
    }

    /// Known answer: two particles at r = 1.15 put the whole pair part into shell [1.1, 1.2).
    #[test]
    fn single_pair_lands_in_its_shell() {
        let m = model(cutoffs()[0], false);
        let c = Conf { y: vec![0.1, 0.1, 0.1, 0.1 + 1.15 / L, 0.1, 0.1], side: L };
        let edges = default_edges(3.0, 0.1);
        let (terms, sh) = m.dt_terms_shells(&c, 0.4, &edges);
        let sh = sh.unwrap();
        for (s, v) in sh.values[0].iter().enumerate() {
            if s == 11 {
                assert!((v - terms.prior).abs() < 1e-12 * terms.prior.abs());
            } else {
                assert_eq!(*v, 0.0, "shell {s}");
            }
        }
        assert!(sh.values[1][..edges.len()].iter().enumerate().all(|(s, v)| s == 11 || *v == 0.0));
    }
}
