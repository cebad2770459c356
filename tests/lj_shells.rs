//! The shell split of the LJ model's TI integrand (model::shells, LjModel::dt_terms_shells):
//! exact sums against the model's du/dt in every interaction mode, the walls' shells, and a
//! known-answer single pair.

use nti::model::descriptors::DescriptorSpec;
use nti::model::lj_model::LjModel;
use nti::model::lj_model::{LjModelSpec, PriorCutoff};
use nti::model::pair_term::PairTermSpec;
use nti::model::shells::default_edges;
use nti::model::Conf;
use nti::model::{EnergyModel, TimeEmbedding};
use nti::rng::{stream, Purpose};
use nti::schedule::VeSchedule;
use rand::RngExt;

mod common;
use common::battery;

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

/// Pairs planted at distances of interest, then random particles.
fn config(n: usize, seed: u64) -> Conf {
    battery::spread_config(n, seed, L, &[[1.0, 1.0, 1.0], [1.95, 1.0, 1.0]], 0.8)
}

fn cutoffs() -> [PriorCutoff; 3] {
    [
        PriorCutoff { rc: None, shift: false, tail: false },
        PriorCutoff { rc: Some(2.5), shift: false, tail: true },
        PriorCutoff { rc: Some(2.5), shift: true, tail: false },
    ]
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
