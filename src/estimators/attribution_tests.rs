//! Tests of [`super::attribute`]: completeness to round-off, bootstrap consistency, a known answer.

use super::*;
use crate::rng::{stream, Purpose};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// Random nodes with K terms, N particles and `cols` shell columns whose per-particle and shell
/// splits add up to the terms (as a model's do), with very different magnitudes per term.
fn random_nodes(sizes: &[usize], k_n: usize, np: usize, cols: usize, seed: u64) -> Vec<NodeSamples> {
    let mut r = stream(seed, Purpose::Init, 3);
    let mags = [150.0, -3.0, 0.02, 40.0];
    sizes
        .iter()
        .enumerate()
        .map(|(j, &n)| {
            let mut nd = NodeSamples::new(0.1 + 0.2 * j as f64, 0.1 + r.random::<f64>(), k_n);
            for _ in 0..n {
                let pp: Vec<f64> = (0..np * k_n).map(|q| mags[q % k_n] * (1.0 + r.random::<f64>())).collect();
                let terms: Vec<f64> = (0..k_n).map(|k| (0..np).map(|p| pp[p * k_n + k]).sum()).collect();
                let mut sh = vec![0.0; k_n * cols];
                for k in 0..k_n {
                    for s in 0..cols - 1 {
                        sh[k * cols + s] = terms[k] * r.random::<f64>() / cols as f64;
                    }
                    sh[k * cols + cols - 1] = terms[k] - sh[k * cols..k * cols + cols - 1].iter().sum::<f64>();
                }
                nd.push(&terms, &pp, &sh);
            }
            nd
        })
        .collect()
}

#[test]
fn every_marginal_sums_to_the_total_to_round_off() {
    for (seed, resampling) in [(1, Resampling::PerNode), (2, Resampling::PerNode), (3, Resampling::Paired)] {
        let sizes: &[usize] = if resampling == Resampling::Paired { &[40, 40, 40, 40] } else { &[7, 40, 1, 23] };
        let nodes = random_nodes(sizes, 3, 5, 6, seed);
        let edges = [0.0, 1.0, 2.0, 3.0, 4.0];
        let a = attribute(&nodes, &["a", "b", "c"], &edges, resampling, 200, seed).unwrap();
        let c = a.completeness;
        assert!(c.particles.is_some() && c.shells.is_some());
        assert!(c.max() < 1e-10, "{c:?}");
        assert!(c.max() < 1e-13, "round-off only: {c:?}");
        // The total equals the plain quadrature of the per-sample totals.
        let q: f64 = nodes.iter().map(|nd| -nd.weight * nd.terms.iter().sum::<f64>() / nd.n_samples() as f64).sum();
        assert!(a.residual_against(q) < 1e-13);
        assert_eq!(a.nodes.dim(), (sizes.len(), 3));
        assert_eq!(a.particles.as_ref().unwrap().dim(), (5, 3));
        assert_eq!(a.shells.as_ref().unwrap().dim(), (3, 6));
    }
}

#[test]
fn covariance_diagonal_is_stderr_squared_and_total_variance_is_its_sum() {
    let nodes = random_nodes(&[30, 50, 20], 2, 3, 4, 7);
    let a = attribute(&nodes, &["prior", "network"], &[0.0, 0.5, 1.0], Resampling::PerNode, 500, 11).unwrap();
    for k in 0..2 {
        let v = a.term_cov[[k, k]];
        assert!((v - a.term_stderr[k].powi(2)).abs() <= 1e-12 * v, "{v} vs {}", a.term_stderr[k]);
        assert!(a.term_stderr[k] > 0.0);
    }
    assert_eq!(a.term_cov[[0, 1]], a.term_cov[[1, 0]]);
    assert!((a.total_stderr.powi(2) - a.term_cov.sum()).abs() <= 1e-12 * a.term_cov.sum().abs());
    // Same seed, same answer; another seed, other replicates.
    let b = attribute(&nodes, &["prior", "network"], &[0.0, 0.5, 1.0], Resampling::PerNode, 500, 11).unwrap();
    assert_eq!(a.term_cov, b.term_cov);
    let c = attribute(&nodes, &["prior", "network"], &[0.0, 0.5, 1.0], Resampling::PerNode, 500, 12).unwrap();
    assert_ne!(a.term_cov, c.term_cov);
    // Explicit single-sample units are the default.
    let mut units = nodes.clone();
    for nd in &mut units {
        nd.units = vec![1; nd.n_samples()];
    }
    let d = attribute(&units, &["prior", "network"], &[0.0, 0.5, 1.0], Resampling::PerNode, 500, 11).unwrap();
    assert_eq!(a.term_cov, d.term_cov);
}

#[test]
fn known_answer_two_nodes() {
    // Node 0: w = 0.25, samples du/dt = (1, 2), (3, 4); node 1: w = 0.75, one sample (5, 6).
    let mut n0 = NodeSamples::new(0.2, 0.25, 2);
    n0.push(&[1.0, 2.0], &[0.5, 2.0, 0.5, 0.0], &[]);
    n0.push(&[3.0, 4.0], &[1.0, 1.0, 2.0, 3.0], &[]);
    let mut n1 = NodeSamples::new(0.8, 0.75, 2);
    n1.push(&[5.0, 6.0], &[5.0, 6.0, 0.0, 0.0], &[]);
    let a = attribute(&[n0.clone(), n1.clone()], &["x", "y"], &[], Resampling::PerNode, 100, 1).unwrap();
    assert_eq!(a.terms, vec![-4.25, -5.25]);
    assert_eq!(a.total, -9.5);
    assert_eq!(a.nodes.as_slice().unwrap(), &[-0.5, -0.75, -3.75, -4.5]);
    // Particle 0: -(0.25 (1.5, 3) / 2 ... ) = -(0.25 * 0.75 + 0.75 * 5, 0.25 * 1.5 + 0.75 * 6).
    let p = a.particles.as_ref().unwrap();
    assert_eq!((p[[0, 0]], p[[0, 1]]), (-(0.1875 + 3.75), -(0.375 + 4.5)));
    assert_eq!((p[[1, 0]], p[[1, 1]]), (-0.3125, -0.375));
    assert!(a.shells.is_none() && a.completeness.shells.is_none());
    assert_eq!(a.completeness.max(), 0.0);
    // Node 1 has one sample and no spread; node 0's two draws from {1, 3} have a sum of variance
    // 2 x 1, scaled by (w_0 / n_0)^2 = (0.25 / 2)^2 (bootstrap with B = 100: ~15 % noise).
    let var = (0.25f64 / 2.0).powi(2) * 2.0;
    assert!((a.term_stderr[0].powi(2) / var - 1.0).abs() < 0.3, "{} vs {var}", a.term_stderr[0].powi(2));
    // x and y move together (+1 and +2 differ by the same step): correlation 1.
    let corr = a.term_cov[[0, 1]] / (a.term_stderr[0] * a.term_stderr[1]);
    assert!((corr - 1.0).abs() < 1e-12);
    // Identical samples: no spread at all.
    let mut same = NodeSamples::new(0.5, 1.0, 2);
    for _ in 0..5 {
        same.push(&[1.5, -0.5], &[], &[]);
    }
    let b = attribute(&[same], &["x", "y"], &[], Resampling::PerNode, 50, 2).unwrap();
    assert!((b.total + 1.0).abs() < 1e-15);
    assert!(b.total_stderr < 1e-14 && b.term_stderr.iter().all(|s| *s < 1e-14), "{:?}", b.term_stderr);
}

#[test]
fn bootstrap_errors_match_independent_sample_formula() {
    // A_k = -sum_j w_j mean_j(x_k): Var = sum_j w_j^2 var_j / n_j (independent iid nodes).
    let (sizes, w, sd) = ([400usize, 900], [0.3, 0.7], [[1.0, 2.0], [3.0, 0.5]]);
    let mut r = stream(5, Purpose::Init, 8);
    let nodes: Vec<NodeSamples> = (0..2)
        .map(|j| {
            let mut nd = NodeSamples::new(j as f64, w[j], 2);
            for _ in 0..sizes[j] {
                let z: [f64; 2] = [StandardNormal.sample(&mut r), StandardNormal.sample(&mut r)];
                nd.push(&[sd[j][0] * z[0], sd[j][1] * z[1]], &[], &[]);
            }
            nd
        })
        .collect();
    let a = attribute(&nodes, &["a", "b"], &[], Resampling::PerNode, 3000, 3).unwrap();
    for (k, se) in a.term_stderr.iter().enumerate() {
        let expect = (0..2).map(|j| (w[j] * sd[j][k]).powi(2) / sizes[j] as f64).sum::<f64>().sqrt();
        assert!((se / expect - 1.0).abs() < 0.1, "term {k}: {se} vs {expect}");
    }
    assert!(a.term_cov[[0, 1]].abs() < 0.15 * a.term_stderr[0] * a.term_stderr[1]);
}

#[test]
fn paired_resampling_keeps_cross_node_correlation() {
    // Node 1 mirrors node 0 (x_1 = -x_0, equal weights): the paired total has no variance, while
    // treating the nodes as independent would add their variances.
    let mut r = stream(6, Purpose::Init, 9);
    let (mut a0, mut a1) = (NodeSamples::new(0.2, 0.5, 1), NodeSamples::new(0.8, 0.5, 1));
    for _ in 0..100 {
        let z: f64 = StandardNormal.sample(&mut r);
        a0.push(&[z], &[], &[]);
        a1.push(&[-z], &[], &[]);
    }
    let nodes = [a0, a1];
    let paired = attribute(&nodes, &["u"], &[], Resampling::Paired, 500, 1).unwrap();
    let indep = attribute(&nodes, &["u"], &[], Resampling::PerNode, 500, 1).unwrap();
    assert!(paired.total_stderr < 1e-12, "{}", paired.total_stderr);
    assert!(indep.total_stderr > 0.05, "{}", indep.total_stderr);
}

#[test]
fn chain_blocks_cover_every_chain() {
    assert_eq!(chain_blocks(&[10, 10], 3), vec![4, 3, 3, 4, 3, 3]);
    assert_eq!(chain_blocks(&[5], 1), vec![1; 5]);
    assert_eq!(chain_blocks(&[2, 0, 3], 10), vec![2, 3]);
    let b = chain_blocks(&[200, 200, 200, 200], 7);
    assert_eq!(b.iter().sum::<usize>(), 800);
    assert!(b.iter().all(|&s| s == 7 || s == 8));
}

#[test]
fn buffers_round_trip_and_layout_errors() {
    let mut nodes = random_nodes(&[3, 4], 2, 3, 5, 9);
    nodes[1].units = vec![2, 2];
    for nd in &nodes {
        assert_eq!(&NodeSamples::from_buffer(&nd.to_buffer()).unwrap(), nd);
    }
    let plain = NodeSamples { t: 0.3, weight: 0.5, n_terms: 2, terms: vec![1.0, 2.0], ..Default::default() };
    assert_eq!(NodeSamples::from_buffer(&plain.to_buffer()).unwrap(), plain);
    assert!(NodeSamples::from_buffer(&[1.0, 2.0]).is_err());
    let mut bad = nodes[0].to_buffer();
    bad.pop();
    assert!(NodeSamples::from_buffer(&bad).is_err());
    // Wrong names, edges, units, empty nodes and mixed layouts are errors.
    let e = [0.0, 1.0, 2.0, 3.0];
    assert!(attribute(&nodes, &["p", "n"], &e, Resampling::PerNode, 10, 1).is_ok());
    assert!(attribute(&nodes, &["p"], &e, Resampling::PerNode, 10, 1).is_err());
    assert!(attribute(&nodes, &["p", "n"], &e[..2], Resampling::PerNode, 10, 1).is_err());
    assert!(attribute(&nodes, &["p", "n"], &e, Resampling::Paired, 10, 1).is_err());
    let mut u = nodes.clone();
    u[1].units = vec![1, 1];
    assert!(attribute(&u, &["p", "n"], &e, Resampling::PerNode, 10, 1).is_err());
    let mix = vec![nodes[0].clone(), random_nodes(&[3], 2, 2, 5, 9).remove(0)];
    assert!(attribute(&mix, &["p", "n"], &e, Resampling::PerNode, 10, 1).is_err());
    assert!(attribute(&[NodeSamples::new(0.1, 1.0, 2)], &["p", "n"], &[], Resampling::PerNode, 10, 1).is_err());
}
