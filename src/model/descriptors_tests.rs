//! Tests of the descriptors: central finite differences of the VJP and JVP, invariances, cutoff
//! smoothness and the neighbour search.

use super::*;
use crate::rng::{stream, Purpose};
use crate::system::CellList;
use rand::RngExt;

const L: f64 = 6.0;

fn spec(r_cut: f64) -> DescriptorSpec {
    DescriptorSpec { n_radial: 8, r_min: 0.7, r_cut }
}

fn uniform(r: &mut crate::rng::Stream, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * r.random::<f64>()
}

fn unit_vector(r: &mut crate::rng::Stream) -> [f64; 3] {
    loop {
        let v = [uniform(r, -1.0, 1.0), uniform(r, -1.0, 1.0), uniform(r, -1.0, 1.0)];
        let n2 = dot3(&v, &v);
        if n2 > 1e-2 && n2 <= 1.0 {
            let s = 1.0 / n2.sqrt();
            return [v[0] * s, v[1] * s, v[2] * s];
        }
    }
}

/// `n` particles in the box of side L, at least 0.75 apart, except planted pairs: every
/// 6th particle sits at r_cut - 1e-3 from its predecessor and every 6th+3 at 0.8.
fn config(seed: u64, n: usize, r_cut: f64) -> Positions {
    let b = SimBox::new(L);
    let mut r = stream(seed, Purpose::Init, 0);
    let mut x: Positions = Vec::with_capacity(n);
    while x.len() < n {
        let m = x.len();
        let planted = match m % 6 {
            1 => Some(r_cut - 1e-3),
            4 => Some(0.8),
            _ => None,
        };
        let cand = match planted {
            Some(d) => {
                let u = unit_vector(&mut r);
                let p = x[m - 1];
                b.wrap(&[p[0] + d * u[0], p[1] + d * u[1], p[2] + d * u[2]])
            }
            None => [uniform(&mut r, 0.0, L), uniform(&mut r, 0.0, L), uniform(&mut r, 0.0, L)],
        };
        let ok =
            x.iter().enumerate().all(|(j, p)| (planted.is_some() && j == m - 1) || b.dist2(p, &cand) >= 0.75 * 0.75);
        if ok {
            x.push(cand);
        }
    }
    x
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, a| m.max(a.abs()))
}

fn sum_dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Max over components of |a - fd| / max(|fd|, 1e-3 max|fd|): a relative error, except that
/// components far below the typical magnitude are judged against 1e-3 of it, because their
/// finite-difference error (round-off eps |F| / h and truncation h^2 F''') is set by the
/// scale of the whole function, not by the component itself.
fn rel_err(a: &[f64], fd: &[f64]) -> f64 {
    let floor = 1e-3 * max_abs(fd);
    a.iter().zip(fd).map(|(x, y)| (x - y).abs() / y.abs().max(floor)).fold(0.0, f64::max)
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len());
    let scale = max_abs(b).max(1e-300);
    let err = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale;
    assert!(err < tol, "{what}: max relative deviation {err:e} >= {tol:e}");
}

#[test]
fn planted_pairs_are_present() {
    for &rc in &[2.0, 3.0] {
        let x = config(11, 48, rc);
        let b = SimBox::new(L);
        assert!((b.dist2(&x[0], &x[1]).sqrt() - (rc - 1e-3)).abs() < 1e-12);
        assert!((b.dist2(&x[3], &x[4]).sqrt() - 0.8).abs() < 1e-12);
    }
}

#[test]
fn cell_list_finds_all_pairs() {
    let b = SimBox::new(L);
    for &rc in &[2.0, 2.9, 3.0] {
        let x = config(3, 60, rc);
        let g = spec(rc).compute(&x, &b);
        let mut n = 0;
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                if b.dist2(&x[i], &x[j]) < rc * rc {
                    n += 1;
                }
            }
        }
        assert_eq!(g.n_pairs(), n, "r_cut = {rc}");
        // A_i0 summed over particles = 2 sum_pairs w_0.
        assert!(n > 0);
    }
    assert!(!CellList::new(b, 2.0, &config(3, 60, 2.0)).is_brute_force());
}

#[test]
fn basis_recurrence_matches_direct_formula() {
    for sp in [spec(2.0), spec(3.0), DescriptorSpec { n_radial: 40, r_min: 0.0, r_cut: 3.0 }] {
        let basis = Basis::new(&sp);
        let k_n = sp.n_radial;
        let (mut w, mut dw) = (vec![0.0; k_n], vec![0.0; k_n]);
        let rc = sp.r_cut;
        for s in 0..=1000 {
            let r = 1e-3 + (rc - 2e-3) * s as f64 / 1000.0;
            basis.eval(r, &mut w, &mut dw);
            // Reference: one exp per channel. Tolerance 1e-11: the two evaluations round
            // t - k (error ~ 2 |t - k|^2 eps in e_k) and 1 - (r/r_c)^2 (cancellation near r_c,
            // ~ 3 eps / (1 - (r/r_c)^2) in f_c) differently; a wrong recurrence would be off by O(1).
            let fc = (1.0 - (r / rc).powi(2)).powi(3);
            let dfc = -6.0 * r / (rc * rc) * (1.0 - (r / rc).powi(2)).powi(2);
            for k in 0..k_n {
                let z = (r - sp.centre(k)) / sp.width();
                let e = (-z * z).exp();
                let de = -2.0 * z / sp.width() * e;
                let (w0, dw0) = (e * fc, de * fc + e * dfc);
                assert!((w[k] - w0).abs() <= 1e-11 * w0.abs() + 1e-300, "w_{k}({r}) = {} vs {w0}", w[k]);
                assert!((dw[k] - dw0).abs() <= 1e-11 * dw0.abs() + 1e-300, "w'_{k}({r}) = {} vs {dw0}", dw[k]);
            }
        }
    }
    assert_eq!(EXP_M2, (-2.0f64).exp());
}

/// Test 1: VJP against central finite differences of sum(gbar . G).
#[test]
fn vjp_matches_finite_differences() {
    let b = SimBox::new(L);
    for (seed, rc) in [(1u64, 2.0), (2, 3.0)] {
        let sp = spec(rc);
        let x = config(seed, 48, rc);
        let g = sp.compute(&x, &b);
        let mut r = stream(seed, Purpose::Init, 1);
        let gbar: Vec<f64> = (0..g.values().len()).map(|_| uniform(&mut r, -1.0, 1.0)).collect();
        let grad = g.vjp(&gbar);
        // h = 3e-6 balances truncation (~h^2 G'''/6; the narrowest Gaussians have w = 0.19)
        // against round-off (~eps |G| / h): measured errors ~1e-7 (1e-6 with h = 1e-5).
        let h = 3e-6;
        let mut fd = Vec::new();
        let mut an = Vec::new();
        for a in 0..x.len() {
            for c in 0..3 {
                let mut xp = x.clone();
                xp[a][c] += h;
                let mut xm = x.clone();
                xm[a][c] -= h;
                let fp = sum_dot(&gbar, sp.compute(&xp, &b).values());
                let fm = sum_dot(&gbar, sp.compute(&xm, &b).values());
                fd.push((fp - fm) / (2.0 * h));
                an.push(grad[a][c]);
            }
        }
        let err = rel_err(&an, &fd);
        eprintln!("vjp vs FD, r_cut = {rc}: max rel err {err:e} (max |grad| {:e})", max_abs(&fd));
        assert!(err < 1e-6, "vjp rel err {err:e}");
    }
}

/// Test 2: JVP against central finite differences of G along a random dx.
#[test]
fn jvp_matches_finite_differences() {
    let b = SimBox::new(L);
    for (seed, rc) in [(4u64, 2.0), (5, 3.0)] {
        let sp = spec(rc);
        let x = config(seed, 48, rc);
        let g = sp.compute(&x, &b);
        let mut r = stream(seed, Purpose::Init, 1);
        let dx: Vec<[f64; 3]> = (0..x.len())
            .map(|_| [uniform(&mut r, -1.0, 1.0), uniform(&mut r, -1.0, 1.0), uniform(&mut r, -1.0, 1.0)])
            .collect();
        let an = g.jvp(&dx);
        // h = 3e-6 balances truncation (~h^2 G'''/6; the narrowest Gaussians have w = 0.19)
        // against round-off (~eps |G| / h): measured errors ~1e-7 (1e-6 with h = 1e-5).
        let h = 3e-6;
        let shift = |s: f64| -> Positions {
            x.iter().zip(&dx).map(|(p, d)| [p[0] + s * d[0], p[1] + s * d[1], p[2] + s * d[2]]).collect()
        };
        let gp = sp.compute(&shift(h), &b);
        let gm = sp.compute(&shift(-h), &b);
        let fd: Vec<f64> = gp.values().iter().zip(gm.values()).map(|(p, m)| (p - m) / (2.0 * h)).collect();
        let err = rel_err(&an, &fd);
        eprintln!("jvp vs FD, r_cut = {rc}: max rel err {err:e} (max |dG| {:e})", max_abs(&fd));
        assert!(err < 1e-6, "jvp rel err {err:e}");
    }
}

/// Test 3: <gbar, J dx> == <J^T gbar, dx>.
#[test]
fn vjp_and_jvp_are_adjoint() {
    let b = SimBox::new(L);
    for (seed, rc) in [(7u64, 2.0), (8, 3.0)] {
        let x = config(seed, 60, rc);
        let g = spec(rc).compute(&x, &b);
        let mut r = stream(seed, Purpose::Init, 2);
        for _ in 0..3 {
            let gbar: Vec<f64> = (0..g.values().len()).map(|_| uniform(&mut r, -1.0, 1.0)).collect();
            let dx: Vec<[f64; 3]> = (0..x.len())
                .map(|_| [uniform(&mut r, -1.0, 1.0), uniform(&mut r, -1.0, 1.0), uniform(&mut r, -1.0, 1.0)])
                .collect();
            let lhs = sum_dot(&gbar, &g.jvp(&dx));
            let vj = g.vjp(&gbar);
            let rhs: f64 = vj.iter().zip(&dx).map(|(a, d)| dot3(a, d)).sum();
            // Relative to the sum of magnitudes, which bounds the round-off of both sides.
            let mag: f64 = vj
                .iter()
                .zip(&dx)
                .map(|(a, d)| a[0].abs() * d[0].abs() + a[1].abs() * d[1].abs() + a[2].abs() * d[2].abs())
                .sum();
            assert!((lhs - rhs).abs() <= 1e-10 * mag.max(lhs.abs()), "adjoint: {lhs} vs {rhs}");
        }
    }
}

/// Test 4a: permuting particles permutes the rows of G and of the VJP.
#[test]
fn permutation_equivariance() {
    let b = SimBox::new(L);
    for (seed, rc) in [(9u64, 2.0), (10, 3.0)] {
        let sp = spec(rc);
        let x = config(seed, 50, rc);
        let n = x.len();
        let nf = sp.n_features();
        let mut r = stream(seed, Purpose::Init, 3);
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = ((r.random::<f64>() * (i + 1) as f64) as usize).min(i);
            perm.swap(i, j);
        }
        let y: Positions = perm.iter().map(|&p| x[p]).collect();
        let gx = sp.compute(&x, &b);
        let gy = sp.compute(&y, &b);
        let permuted: Vec<f64> = perm.iter().flat_map(|&p| gx.values()[p * nf..(p + 1) * nf].to_vec()).collect();
        assert_close(gy.values(), &permuted, 1e-12, "permutation");
        let gbar: Vec<f64> = (0..n * nf).map(|_| uniform(&mut r, -1.0, 1.0)).collect();
        let gbar_y: Vec<f64> = perm.iter().flat_map(|&p| gbar[p * nf..(p + 1) * nf].to_vec()).collect();
        let fx = gx.vjp(&gbar);
        let fy = gy.vjp(&gbar_y);
        let a: Vec<f64> = fy.iter().flatten().copied().collect();
        let bb: Vec<f64> = perm.iter().flat_map(|&p| fx[p].to_vec()).collect();
        assert_close(&a, &bb, 1e-12, "permuted vjp");
    }
}

/// Test 4b: translations (with and without wrapping) leave G unchanged.
#[test]
fn translation_invariance() {
    let b = SimBox::new(L);
    for (seed, rc) in [(12u64, 2.0), (13, 3.0)] {
        let sp = spec(rc);
        let x = config(seed, 50, rc);
        let g0 = sp.compute(&x, &b);
        let mut r = stream(seed, Purpose::Init, 4);
        for _ in 0..4 {
            let c = [uniform(&mut r, -5.0 * L, 5.0 * L), uniform(&mut r, -5.0 * L, 5.0 * L), uniform(&mut r, -L, L)];
            let y: Positions = x.iter().map(|p| [p[0] + c[0], p[1] + c[1], p[2] + c[2]]).collect();
            assert_close(sp.compute(&y, &b).values(), g0.values(), 1e-12, "translation");
            let yw: Positions = y.iter().map(|p| b.wrap(p)).collect();
            assert_close(sp.compute(&yw, &b).values(), g0.values(), 1e-12, "wrapped translation");
        }
    }
}

/// Test 4c: the symmetries of the cube (axis permutations, reflections) leave G unchanged.
#[test]
fn cube_symmetry_invariance() {
    let b = SimBox::new(L);
    for (seed, rc) in [(14u64, 2.0), (15, 3.0)] {
        let sp = spec(rc);
        let x = config(seed, 50, rc);
        let g0 = sp.compute(&x, &b);
        type Map = fn(&[f64; 3]) -> [f64; 3];
        let maps: [Map; 5] = [
            |p| [p[1], p[2], p[0]],
            |p| [p[1], p[0], p[2]],
            |p| [L - p[0], p[1], p[2]],
            |p| [p[0], L - p[1], L - p[2]],
            |p| [L - p[2], p[0], L - p[1]],
        ];
        for (m, f) in maps.iter().enumerate() {
            let y: Positions = x.iter().map(|p| b.wrap(&f(p))).collect();
            assert_close(sp.compute(&y, &b).values(), g0.values(), 1e-12, &format!("cube symmetry {m}"));
        }
    }
}

/// Test 4c': a cluster of diameter < L - r_cut is invariant under any rotation about its
/// centre (no periodic image comes within r_cut).
#[test]
fn rotation_invariance_of_isolated_cluster() {
    let b = SimBox::new(L);
    let sp = spec(2.0);
    let mut r = stream(16, Purpose::Init, 0);
    let centre = [3.0, 3.0, 3.0];
    let mut x: Positions = Vec::new();
    while x.len() < 14 {
        let u = unit_vector(&mut r);
        let rad = 1.5 * r.random::<f64>().cbrt();
        let p = [centre[0] + rad * u[0], centre[1] + rad * u[1], centre[2] + rad * u[2]];
        if x.iter().all(|q| b.dist2(q, &p) > 0.7 * 0.7) {
            x.push(p);
        }
    }
    let g0 = sp.compute(&x, &b);
    assert!(g0.n_pairs() > 10);
    // Random rotation from a random unit quaternion.
    for _ in 0..3 {
        let q: [f64; 4] = {
            let v = [
                uniform(&mut r, -1.0, 1.0),
                uniform(&mut r, -1.0, 1.0),
                uniform(&mut r, -1.0, 1.0),
                uniform(&mut r, -1.0, 1.0),
            ];
            let n = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            [v[0] / n, v[1] / n, v[2] / n, v[3] / n]
        };
        let (w, a, bq, c) = (q[0], q[1], q[2], q[3]);
        let rot = [
            [1.0 - 2.0 * (bq * bq + c * c), 2.0 * (a * bq - w * c), 2.0 * (a * c + w * bq)],
            [2.0 * (a * bq + w * c), 1.0 - 2.0 * (a * a + c * c), 2.0 * (bq * c - w * a)],
            [2.0 * (a * c - w * bq), 2.0 * (bq * c + w * a), 1.0 - 2.0 * (a * a + bq * bq)],
        ];
        let y: Positions = x
            .iter()
            .map(|p| {
                let d = [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]];
                [centre[0] + dot3(&rot[0], &d), centre[1] + dot3(&rot[1], &d), centre[2] + dot3(&rot[2], &d)]
            })
            .collect();
        assert_close(sp.compute(&y, &b).values(), g0.values(), 1e-12, "rotation");
    }
}

/// Test 4d: a particle without neighbours within r_cut has an all-zero row, and a row fades
/// out smoothly (like (r_c - r)^3) as the last neighbour leaves the cutoff.
#[test]
fn isolated_particle_has_zero_row() {
    let b = SimBox::new(L);
    let sp = spec(2.0);
    let nf = sp.n_features();
    let x: Positions = vec![[0.5, 0.5, 0.5], [1.4, 0.6, 0.4], [0.6, 1.5, 0.2], [3.5, 3.5, 3.5], [5.8, 5.9, 0.1]];
    let g = sp.compute(&x, &b);
    assert!(g.values()[3 * nf..4 * nf].iter().all(|&v| v == 0.0));
    assert!(g.values()[..nf].iter().any(|&v| v != 0.0));
    assert_eq!(g.vjp(&vec![1.0; 5 * nf])[3], [0.0; 3]);
    let mut prev = f64::INFINITY;
    for &dlt in &[1e-1, 1e-2, 1e-3, 1e-4] {
        let y: Positions = vec![[1.0, 1.0, 1.0], [1.0 + 2.0 - dlt, 1.0, 1.0]];
        let m = max_abs(&sp.compute(&y, &b).values);
        assert!(m > 0.0 && m < prev && m < 10.0 * (dlt / 2.0f64).powi(3) * 8.0, "delta {dlt}: {m:e}");
        prev = m;
        let y: Positions = vec![[1.0, 1.0, 1.0], [1.0 + 2.0 + dlt, 1.0, 1.0]];
        let g = sp.compute(&y, &b);
        assert_eq!(g.n_pairs(), 0);
        assert!(g.values().iter().all(|&v| v == 0.0));
    }
}

/// Test 5: f_c, f_c' and f_c'' are continuous at r_c (all tend to 0 from below).
#[test]
fn cutoff_is_c2() {
    let rc = 2.5;
    let inv = 1.0 / (rc * rc);
    // Analytic derivative agrees with finite differences inside.
    for &r in &[0.3, 1.0, 2.0, 2.49] {
        let h = 1e-6;
        let fd = (cutoff(r + h, inv).0 - cutoff(r - h, inv).0) / (2.0 * h);
        assert!((fd - cutoff(r, inv).1).abs() < 1e-8, "f_c'({r})");
    }
    assert_eq!(cutoff(rc, inv), (0.0, 0.0));
    assert_eq!(cutoff(rc + 1e-9, inv), (0.0, 0.0));
    let mut last = [f64::INFINITY; 3];
    for &e in &[1e-2, 1e-3, 1e-4] {
        let r = rc - e;
        let (f, df) = cutoff(r, inv);
        let h = e / 10.0; // f_c'' by central differences of the analytic f_c', stencil inside r_c
        let d2f = (cutoff(r + h, inv).1 - cutoff(r - h, inv).1) / (2.0 * h);
        // Leading behaviour: f ~ (2e/rc)^3, f' ~ -3 (2/rc) (2e/rc)^2, f'' ~ 6 (2/rc)^2 (2e/rc).
        let s = 2.0 * e / rc;
        assert!((f / s.powi(3) - 1.0).abs() < 0.02, "f_c({r})");
        assert!((df / (-6.0 / rc * s * s) - 1.0).abs() < 0.02, "f_c'({r})");
        assert!((d2f / (24.0 / (rc * rc) * s) - 1.0).abs() < 0.02, "f_c''({r}) = {d2f}");
        for (l, v) in last.iter_mut().zip([f, df, d2f]) {
            assert!(v.abs() < *l);
            *l = v.abs();
        }
    }
    assert!(last[2] < 1e-3);
    // Beyond r_c everything is exactly zero, so all three derivatives are continuous.
    let (f, df) = cutoff(rc + 1e-4, inv);
    assert_eq!((f, df), (0.0, 0.0));
}

#[test]
fn compute_into_reuses_buffers_exactly() {
    let b = SimBox::new(L);
    let mut buf = Descriptors::default();
    assert_eq!((buf.n_particles(), buf.n_pairs(), buf.values().len()), (0, 0, 0));
    for (seed, n, rc) in [(21u64, 60, 3.0), (22, 30, 2.0), (23, 45, 2.5)] {
        let sp = spec(rc);
        let x = config(seed, n, rc);
        sp.compute_into(&PairList::new(&x, &b, sp.r_cut), &mut buf);
        let fresh = sp.compute(&x, &b);
        assert_eq!(buf.values(), fresh.values());
        assert_eq!((buf.n_particles(), buf.n_pairs()), (fresh.n_particles(), fresh.n_pairs()));
        let gbar: Vec<f64> = (0..fresh.values().len()).map(|f| (f as f64).sin()).collect();
        assert_eq!(buf.vjp(&gbar), fresh.vjp(&gbar));
        let dx = vec![[0.3, -0.2, 0.1]; n];
        assert_eq!(buf.jvp(&dx), fresh.jvp(&dx));
    }
}

#[test]
fn coincident_particles_give_finite_values() {
    let b = SimBox::new(L);
    let sp = spec(2.0);
    let x: Positions = vec![[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 2.0, 1.0]];
    let g = sp.compute(&x, &b);
    assert!(g.values().iter().all(|v| v.is_finite()));
    assert!(g.vjp(&vec![1.0; 3 * sp.n_features()]).iter().flatten().all(|v| v.is_finite()));
    assert!(g.jvp(&[[1.0, 0.0, 0.0]; 3]).iter().all(|v| v.is_finite()));
}

#[test]
#[should_panic(expected = "exceeds half the box side")]
fn cutoff_beyond_half_box_panics() {
    spec(3.01).compute(&config(1, 10, 2.0), &SimBox::new(L));
}

#[test]
fn spec_serde_roundtrip() {
    let sp = spec(2.5);
    let s = serde_json::to_string(&sp).unwrap();
    assert_eq!(serde_json::from_str::<DescriptorSpec>(&s).unwrap(), sp);
    assert_eq!(sp.n_features(), 24);
    assert!(DescriptorSpec { n_radial: 1, ..sp.clone() }.validate(&SimBox::new(L)).is_err());
    assert!(DescriptorSpec { r_min: 2.5, ..sp }.validate(&SimBox::new(L)).is_err());
}

/// Timing for N = 200 at density 0.926 (L = 6), r_cut = 3, K = 8. Run with
/// `cargo test --release --lib model::descriptors -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing_n200() {
    let b = SimBox::new(L);
    let sp = spec(3.0);
    let mut r = stream(99, Purpose::Init, 0);
    let mut x: Positions = Vec::new();
    while x.len() < 200 {
        let p = [uniform(&mut r, 0.0, L), uniform(&mut r, 0.0, L), uniform(&mut r, 0.0, L)];
        if x.iter().all(|q| b.dist2(q, &p) > 0.8 * 0.8) {
            x.push(p);
        }
    }
    let gbar: Vec<f64> = (0..200 * sp.n_features()).map(|_| uniform(&mut r, -1.0, 1.0)).collect();
    let dx: Vec<[f64; 3]> = (0..200).map(|_| [uniform(&mut r, -1.0, 1.0), 0.5, -0.3]).collect();
    let reps = 300;
    let (mut t_c, mut t_v, mut t_j) = (0.0, 0.0, 0.0);
    let (mut m_c, mut m_v, mut m_j) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let mut sink = 0.0;
    let mut buf = Descriptors::default();
    let (mut t_i, mut m_i) = (0.0, f64::INFINITY);
    for _ in 0..reps {
        let t0 = std::time::Instant::now();
        sp.compute_into(&PairList::new(&x, &b, sp.r_cut), &mut buf);
        let dt = t0.elapsed().as_secs_f64();
        sink += buf.values()[1];
        t_i += dt;
        m_i = m_i.min(dt);
    }
    for _ in 0..reps {
        let t0 = std::time::Instant::now();
        let g = sp.compute(&x, &b);
        let t1 = std::time::Instant::now();
        let f = g.vjp(&gbar);
        let t2 = std::time::Instant::now();
        let jv = g.jvp(&dx);
        let t3 = std::time::Instant::now();
        sink += f[0][0] + jv[0] + g.values()[0];
        t_c += (t1 - t0).as_secs_f64();
        t_v += (t2 - t1).as_secs_f64();
        t_j += (t3 - t2).as_secs_f64();
        m_c = m_c.min((t1 - t0).as_secs_f64());
        m_v = m_v.min((t2 - t1).as_secs_f64());
        m_j = m_j.min((t3 - t2).as_secs_f64());
    }
    let g = sp.compute(&x, &b);
    eprintln!(
        "N = 200, L = 6, r_cut = 3, K = 8: {} pairs; mean (min) compute {:.0} ({:.0}) us, vjp {:.0} ({:.0}) us, \
         jvp {:.0} ({:.0}) us, compute_into {:.0} ({:.0}) us (sink {sink:e})",
        g.n_pairs(),
        1e6 * t_c / reps as f64,
        1e6 * m_c,
        1e6 * t_v / reps as f64,
        1e6 * m_v,
        1e6 * t_j / reps as f64,
        1e6 * m_j,
        1e6 * t_i / reps as f64,
        1e6 * m_i
    );
}
