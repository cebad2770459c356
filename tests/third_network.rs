//! The seam of the energy model: a third network, written here and nowhere else (a deliberately
//! tiny pair-only E_NN), plugs into the LJ model through the `Network` trait and passes the same
//! finite-difference and invariance battery as the shipped networks. Two deliberately wrong
//! variants of it (a gradient 0.1 % off, a parameter gradient 0.1 % off) must fail the battery,
//! which shows that the battery can detect such bugs.
//!
//! The network: E_NN = sum_{i<j, r_ij < r_c} c(t) f(r_ij), c(t) = a + b t, f(r) = (1 - (r/r_c)^2)^4
//! (C^3 at r_c, smooth enough for the gradient theorem's quadrature), parameters theta = (a, b).

#![allow(clippy::needless_range_loop)]

use nti::model::lj_model::{LjModel, LjModelSpec, PriorCutoff};
use nti::model::network::{At, NetOut, Network, Residual, Want};
use nti::model::pair_term::PairTermSpec;
use nti::model::{Conf, EnergyModel};
use nti::rng::{stream, Purpose};
use nti::system::{PairList, SimBox};
use rand::RngExt;
use std::sync::Arc;

mod common;
use common::battery;

const L: f64 = 6.0;
const RC: f64 = 2.0;

/// Which deliberate bug the network carries.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bug {
    None,
    Gradient,
    ParamGradient,
}

#[derive(Debug)]
struct PairOnly {
    bug: Bug,
}

/// f(r) and f'(r).
fn radial(r: f64) -> (f64, f64) {
    let s = 1.0 - (r / RC) * (r / RC);
    (s * s * s * s, -8.0 * r / (RC * RC) * s * s * s)
}

/// Pairs i < j within RC from the model's shared neighbour list: (i, j, x_j - x_i, r).
fn pairs(list: &PairList) -> Vec<(usize, usize, [f64; 3], f64)> {
    list.within(RC).map(|p| (p.i as usize, p.j as usize, p.d, p.r)).collect()
}

impl PairOnly {
    fn grad(&self, p: &[f64], list: &PairList, t: f64) -> Vec<[f64; 3]> {
        let c = p[0] + p[1] * t * if self.bug == Bug::Gradient { 1.001 } else { 1.0 };
        let mut g = vec![[0.0; 3]; list.n_particles()];
        for (i, j, d, r) in pairs(list) {
            let s = c * radial(r).1 / r;
            for a in 0..3 {
                g[j][a] += s * d[a];
                g[i][a] -= s * d[a];
            }
        }
        g
    }
}

impl Network for PairOnly {
    fn kind(&self) -> &'static str {
        "test-pair-only"
    }
    fn n_params(&self) -> usize {
        2
    }
    fn init_params(&self, _rng: &mut nti::rng::Stream) -> Vec<f64> {
        vec![0.8, -0.5]
    }
    fn cutoff(&self) -> f64 {
        RC
    }
    fn evaluate(&self, at: &At<'_>, want: Want) -> NetOut {
        let (p, list, t) = (at.params, at.pairs, at.t);
        let n = list.n_particles();
        let (mut e_i, mut de_i) = (vec![0.0; n], vec![0.0; n]);
        for (i, j, _, r) in pairs(list) {
            let f = radial(r).0;
            for k in [i, j] {
                e_i[k] += 0.5 * (p[0] + p[1] * t) * f;
                de_i[k] += 0.5 * p[1] * f;
            }
        }
        let grad = if want.grad { self.grad(p, list, t) } else { vec![[0.0; 3]; n] };
        NetOut { e_i, de_i, grad }
    }
    fn isolated(&self, _p: &[f64], _side: f64, _t: f64) -> (f64, f64) {
        (0.0, 0.0)
    }
    /// d/d(a, b) [grad_x E_NN . r] = (1, t) sum_pairs f'(r) rhat . (r_j - r_i).
    fn score_param_grad(&self, at: &At<'_>, res: &mut Residual<'_>, grad: &mut [f64]) {
        let (p, list, t) = (at.params, at.pairs, at.t);
        let out = NetOut { grad: self.grad(p, list, t), ..Default::default() };
        if let Some((r, scale)) = res(&out) {
            let mut s = 0.0;
            for (i, j, d, rr) in pairs(list) {
                s += radial(rr).1 / rr * (0..3).map(|a| d[a] * (r[j][a] - r[i][a])).sum::<f64>();
            }
            let off = if self.bug == Bug::ParamGradient { 1.001 } else { 1.0 };
            grad[0] += scale * s * off;
            grad[1] += scale * s * t;
        }
    }
    fn forward_flops(&self, _pairs: &PairList) -> f64 {
        0.0
    }
}

fn model(bug: Bug) -> LjModel {
    let spec = LjModelSpec {
        temperature: 1.25,
        cutoff: PriorCutoff { rc: None, shift: false, tail: false },
        pair: PairTermSpec { walls: vec![0.9, 1.2], width: 0.15, n_time: 3 },
        ..Default::default()
    };
    let mut m = LjModel::with_network(spec, Arc::new(PairOnly { bug }), &mut stream(3, Purpose::ModelInit, 0));
    let mut r = stream(3, Purpose::ModelInit, 1);
    for p in m.params.iter_mut().skip(2) {
        *p = r.random::<f64>() - 0.5;
    }
    m
}

/// N random particles at least 0.85 apart in the L = 6 box, plus a pair 1e-3 inside r_c; no pair
/// within 0.05 of a half-box separation in any coordinate (where the minimum image has a kink
/// that the gradient theorem's quadrature would not resolve).
fn config(n: usize, seed: u64) -> Conf {
    let b = SimBox::new(L);
    let mut r = stream(seed, Purpose::Init, 0);
    let mut x: Vec<[f64; 3]> = vec![[1.0, 1.0, 1.0], [1.0 + RC - 1e-3, 1.0, 1.0]];
    while x.len() < n {
        let p = [r.random::<f64>() * L, r.random::<f64>() * L, r.random::<f64>() * L];
        let kink = |q: &[f64; 3]| (0..3).any(|a| ((p[a] - q[a]).abs() - 0.5 * L).abs() < 0.05);
        if x.iter().all(|q| b.dist2(&p, q) > 0.85 * 0.85 && !kink(q)) {
            x.push(p);
        }
    }
    Conf { y: x.iter().flat_map(|p| p.iter().map(|v| v / L)).collect(), side: L }
}

fn noise(c: &Conf) -> Vec<f64> {
    let mut r = stream(5, Purpose::TrainNoise, 0);
    (0..c.y.len()).map(|_| r.random::<f64>() - 0.5).collect()
}

#[test]
fn a_third_network_passes_the_battery() {
    let m = model(Bug::None);
    assert_eq!(m.kind(), "test-pair-only");
    assert_eq!(m.params.len(), 2 + 2 * 3);
    battery::gradient_and_time_derivative(&m, &config(20, 1), &[0.01, 0.5, 0.99], Default::default(), "pair-only");
    let c = config(16, 2);
    battery::loss_parameter_gradient(&m, &c, &noise(&c), &[0.02, 0.5, 0.98], Default::default(), "pair-only");
    battery::invariances(&m, &config(20, 5), &[0.1, 0.6], "pair-only");
    let a = config(12, 6);
    let mut r = stream(7, Purpose::Init, 1);
    let dir: Vec<f64> = (0..a.y.len()).map(|_| 0.004 * (r.random::<f64>() - 0.5)).collect();
    battery::gradient_theorem(&m, &a, &dir, 0.4, "pair-only");
}

#[test]
#[should_panic(expected = "grad worst rel. error")]
fn the_battery_catches_a_gradient_off_by_a_tenth_of_a_percent() {
    battery::gradient_and_time_derivative(&model(Bug::Gradient), &config(20, 1), &[0.5], Default::default(), "bug");
}

#[test]
#[should_panic(expected = "loss gradient worst rel. error")]
fn the_battery_catches_a_parameter_gradient_off_by_a_tenth_of_a_percent() {
    let c = config(16, 2);
    battery::loss_parameter_gradient(&model(Bug::ParamGradient), &c, &noise(&c), &[0.5], Default::default(), "bug");
}
