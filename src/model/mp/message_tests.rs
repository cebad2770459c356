//! Central finite differences of the fused message op on a small graph: the forward tangent, the
//! value adjoint and the tangent adjoint (reverse over forward) with respect to the parameters
//! (node layer and filter block) and every leaf (positions X, radial basis B, separations D,
//! vector features V), for scalar and vector messages together.

use super::super::tape::{Id, Tape};
use super::*;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Parameters: phi = X W (3 x 4, no bias) at 0, filter block (K = 2 x C = 4) at 12, readout
/// 3 x 1 + b at 20; 24 in all.
const NP: usize = 24;

fn pairs() -> Rc<PairIndex> {
    Rc::new(PairIndex { n: 5, i: vec![0, 1, 2, 0], j: vec![1, 3, 4, 3] })
}

fn mat(r: &mut Xoshiro256PlusPlus, rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| {
        let z: f64 = StandardNormal.sample(r);
        0.7 * z
    })
}

/// Values (index 0) and tangents (index 1) of the leaves X (5 x 3), B (4 x 2), D (4 x 3),
/// V (15 x 1); the output seeds W0, W1 (5 x 1); the parameters.
struct Data {
    leaves: Vec<[Array2<f64>; 2]>,
    w0: Array2<f64>,
    w1: Array2<f64>,
    p: Vec<f64>,
}

fn data() -> Data {
    let mut r = Xoshiro256PlusPlus::seed_from_u64(20261207);
    let leaves = [(5, 3), (4, 2), (4, 3), (15, 1)].map(|(a, b)| [mat(&mut r, a, b), mat(&mut r, a, b)]).to_vec();
    let (w0, w1) = (mat(&mut r, 5, 1), mat(&mut r, 5, 1));
    let p = mat(&mut r, 1, NP).iter().copied().collect();
    Data { leaves, w0, w1, p }
}

/// Y (5 x 1) = readout(silu([scalar message (5 x 2), node sums of the vector message (5 x 1)])),
/// with phi = X W, the vector message reading silu(V) as sender features. Returns the leaf ids.
fn build<'p>(p: &'p [f64], vals: &[Array2<f64>], d: &Data) -> (Tape<'p>, Id, Vec<Id>) {
    let mut tp = Tape::new(p, true);
    let ids: Vec<Id> = vals.iter().zip(&d.leaves).map(|(v, l)| tp.leaf(v.clone(), Some(l[1].clone()))).collect();
    let (x, b, dd, v) = (ids[0], ids[1], ids[2], ids[3]);
    let phi = tp.linear(x, 0, 4, false);
    let vs = tp.silu(v);
    let pr = pairs();
    let spec = |c0, m, v, d| MsgSpec { phi, v, b, d, off: 12, c0, m };
    let ds = tp.message(spec(0, 2, None, None), 4, &pr);
    let dv = tp.message(spec(2, 2, Some(vs), Some(dd)), 4, &pr);
    let node3 = Rc::new((0..5).flat_map(|i| [i, i, i]).collect::<Vec<usize>>());
    let n = tp.scatter(dv, &node3, 5);
    let c = tp.concat(ds, n);
    let h = tp.silu(c);
    let y = tp.linear(h, 20, 1, true);
    (tp, y, ids)
}

fn values(d: &Data) -> Vec<Array2<f64>> {
    d.leaves.iter().map(|l| l[0].clone()).collect()
}

/// J = c0 sum(W0 o Y) + c1 sum(W1 o Ydot).
fn objective(p: &[f64], vals: &[Array2<f64>], d: &Data, c0: f64, c1: f64) -> f64 {
    let (tp, y, _) = build(p, vals, d);
    c0 * (&d.w0 * tp.value(y)).sum() + c1 * (&d.w1 * tp.tangent(y).expect("tangent")).sum()
}

/// Fourth-order central difference of f at 0.
fn fd(f: impl Fn(f64) -> f64) -> f64 {
    let h = 1e-3;
    (8.0 * (f(h) - f(-h)) - (f(2.0 * h) - f(-2.0 * h))) / (12.0 * h)
}

fn check(what: &str, got: &[f64], want: &[f64]) {
    assert!(want.iter().any(|v| v.abs() > 1e-2), "{what}: reference is (nearly) zero: {want:?}");
    let e = got.iter().zip(want).map(|(a, b)| (a - b).abs() / b.abs().max(1e-3)).fold(0.0, f64::max);
    assert!(e < 1e-6, "{what}: max rel err {e:.3e}\n got {got:?}\n fd {want:?}");
}

#[test]
fn message_tangent_matches_fd() {
    let d = data();
    let vals = values(&d);
    let (tp, y, _) = build(&d.p, &vals, &d);
    let along = |e: f64| {
        let moved: Vec<Array2<f64>> = d.leaves.iter().map(|l| &l[0] + e * &l[1]).collect();
        let (tp, y, _) = build(&d.p, &moved, &d);
        tp.value(y).clone()
    };
    let got: Vec<f64> = tp.tangent(y).expect("tangent").iter().copied().collect();
    let want: Vec<f64> = (0..5).map(|r| fd(|e| along(e)[[r, 0]])).collect();
    check("Ydot", &got, &want);
}

#[test]
fn message_adjoints_match_fd() {
    let d = data();
    let vals = values(&d);
    for (c0, c1) in [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
        let (tp, y, ids) = build(&d.p, &vals, &d);
        let mut grad = vec![0.0; NP];
        let adj = tp.backward(y, (c0 != 0.0).then(|| c0 * &d.w0), (c1 != 0.0).then(|| c1 * &d.w1), &mut grad);
        let fd_p: Vec<f64> = (0..NP)
            .map(|k| {
                fd(|e| {
                    let mut q = d.p.clone();
                    q[k] += e;
                    objective(&q, &vals, &d, c0, c1)
                })
            })
            .collect();
        check(&format!("params, seeds ({c0}, {c1})"), &grad, &fd_p);
        for (l, name) in ["X", "B", "D", "V"].iter().enumerate() {
            let got: Vec<f64> = adj.get(ids[l]).expect("leaf adjoint").iter().copied().collect();
            let want: Vec<f64> = (0..vals[l].len())
                .map(|k| {
                    fd(|e| {
                        let mut moved = vals.clone();
                        moved[l].as_slice_mut().expect("standard")[k] += e;
                        objective(&d.p, &moved, &d, c0, c1)
                    })
                })
                .collect();
            check(&format!("leaf {name}, seeds ({c0}, {c1})"), &got, &want);
        }
    }
}
