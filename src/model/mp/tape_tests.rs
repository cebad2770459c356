use super::*;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Parameters used by `build`: 47; index 47 is never referenced by any layer.
const NP: usize = 48;
const UNUSED: usize = 47;

struct Data {
    p: Vec<f64>,
    x: Array2<f64>,
    t: Array2<f64>,
    xd: Array2<f64>,
    td: Array2<f64>,
    w0: Array2<f64>,
    w1: Array2<f64>,
}

fn data() -> Data {
    let mut r = Xoshiro256PlusPlus::seed_from_u64(20240611);
    let mut m = |rows: usize, cols: usize, sc: f64| {
        Array2::from_shape_fn((rows, cols), |_| {
            let z: f64 = StandardNormal.sample(&mut r);
            sc * z
        })
    };
    let p = m(1, NP, 0.8).iter().copied().collect();
    Data { p, x: m(5, 3, 1.0), t: m(5, 2, 1.0), xd: m(5, 3, 1.0), td: m(5, 2, 1.0), w0: m(5, 1, 1.0), w1: m(5, 1, 1.0) }
}

/// A graph using every op: X (5x3), T (5x2) -> Y (5x1), tangents d.xd, d.td on the leaves.
/// Parameter blocks: 3x4 + b at 0, 3x4 (no bias) at 16, 4x3 + b at 28, 3x1 + b at 43.
fn build<'p>(p: &'p [f64], d: &Data, x: &Array2<f64>, t: &Array2<f64>, dual: bool) -> (Tape<'p>, Id, Id, Id) {
    let mut tp = Tape::new(p, dual);
    let xi = tp.leaf(x.clone(), Some(d.xd.clone()));
    let ti = tp.leaf(t.clone(), Some(d.td.clone()));
    let gi = Rc::new(vec![0, 2, 2, 4, 1, 3, 0]);
    let si = Rc::new(vec![1, 1, 3, 0, 3, 1, 0]); // rows 2 and 4 receive nothing
    let l1 = tp.linear(xi, 0, 4, true);
    let h = tp.silu(l1);
    let g = tp.gather(h, &gi);
    let h2 = tp.linear(xi, 16, 4, false);
    let g2 = tp.gather(h2, &gi);
    let m = tp.mul(g, g2);
    let q = tp.mul(g, g);
    let a = tp.add(m, q);
    let s = tp.scatter(a, &si, 5);
    let c0 = tp.cols(s, 1, 3);
    let c = tp.concat(c0, ti);
    let l3 = tp.linear(c, 28, 3, true);
    let z = tp.silu(l3);
    let y = tp.linear(z, 43, 1, true);
    (tp, y, xi, ti)
}

/// (Y, Ydot) at the given parameters and leaf values (dual mode).
fn outputs(p: &[f64], d: &Data, x: &Array2<f64>, t: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    let (tp, y, _, _) = build(p, d, x, t, true);
    (tp.value(y).clone(), tp.tangent(y).expect("output tangent").clone())
}

/// J = c0 sum(W0 o Y) + c1 sum(W1 o Ydot).
fn objective(p: &[f64], d: &Data, x: &Array2<f64>, t: &Array2<f64>, c0: f64, c1: f64) -> f64 {
    let (y, yd) = outputs(p, d, x, t);
    c0 * (&d.w0 * &y).sum() + c1 * (&d.w1 * &yd).sum()
}

/// Fourth-order central difference of f at 0.
fn fd(f: impl Fn(f64) -> Array2<f64>) -> Array2<f64> {
    let h = 1e-3;
    (8.0 * (f(h) - f(-h)) - (f(2.0 * h) - f(-2.0 * h))) / (12.0 * h)
}

/// Finite-difference gradient of the scalar f over every entry of v.
fn fd_grad(v: &Array2<f64>, f: impl Fn(&Array2<f64>) -> f64) -> Array2<f64> {
    let mut g = Array2::zeros(v.raw_dim());
    for (k, gk) in g.iter_mut().enumerate() {
        *gk = fd(|e| {
            let mut w = v.clone();
            w.as_slice_mut().unwrap()[k] += e;
            Array2::from_elem((1, 1), f(&w))
        })[[0, 0]];
    }
    g
}

fn fd_params(d: &Data, c0: f64, c1: f64) -> Array2<f64> {
    let p = Array2::from_shape_vec((1, NP), d.p.clone()).unwrap();
    fd_grad(&p, |q| objective(q.as_slice().unwrap(), d, &d.x, &d.t, c0, c1))
}

fn fd_x(d: &Data, c0: f64, c1: f64) -> Array2<f64> {
    fd_grad(&d.x, |x| objective(&d.p, d, x, &d.t, c0, c1))
}

fn fd_t(d: &Data, c0: f64, c1: f64) -> Array2<f64> {
    fd_grad(&d.t, |t| objective(&d.p, d, &d.x, t, c0, c1))
}

/// Max over entries of |a - b| / max(|b|, 1e-3); also checks that b is not trivially zero.
fn rel(what: &str, a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    assert!(b.iter().any(|v| v.abs() > 1e-2), "{what}: reference is (nearly) zero");
    let e = a.iter().zip(b).map(|(a, b)| (a - b).abs() / b.abs().max(1e-3)).fold(0.0, f64::max);
    println!("{what}: max rel err {e:.2e}");
    assert!(e < 1e-6, "{what}: max rel err {e:.3e}\n tape {a}\n fd {b}");
    e
}

fn row(g: &[f64]) -> Array2<f64> {
    Array2::from_shape_vec((1, g.len()), g.to_vec()).unwrap()
}

/// Runs backward on a fresh tape; returns (parameter gradient, X adjoint, T adjoint).
fn reverse(d: &Data, dual: bool, c0: f64, c1: f64) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
    let (tp, y, xi, ti) = build(&d.p, d, &d.x, &d.t, dual);
    let mut grad = vec![0.0; NP];
    let yb = (c0 != 0.0).then(|| c0 * &d.w0);
    let tb = (c1 != 0.0).then(|| c1 * &d.w1);
    let adj = tp.backward(y, yb, tb, &mut grad);
    assert_eq!(grad[UNUSED], 0.0);
    (row(&grad), adj.get(xi).expect("X adjoint").clone(), adj.get(ti).expect("T adjoint").clone())
}

#[test]
fn tangent_matches_fd_of_value() {
    let d = data();
    let (_, ydot) = outputs(&d.p, &d, &d.x, &d.t);
    let fdv = fd(|e| outputs(&d.p, &d, &(&d.x + e * &d.xd), &(&d.t + e * &d.td)).0);
    rel("Ydot", &ydot, &fdv);
    // Without dual mode no tangent is recorded.
    let (tp, y, _, _) = build(&d.p, &d, &d.x, &d.t, false);
    assert!(tp.tangent(y).is_none());
    assert_eq!(tp.value(y), &outputs(&d.p, &d, &d.x, &d.t).0);
}

#[test]
fn value_adjoint_matches_fd() {
    let d = data();
    let (gp, gx, gt) = (fd_params(&d, 1.0, 0.0), fd_x(&d, 1.0, 0.0), fd_t(&d, 1.0, 0.0));
    let mut prev: Option<(Array2<f64>, Array2<f64>)> = None;
    for dual in [false, true] {
        let (g, xb, tb) = reverse(&d, dual, 1.0, 0.0);
        rel(&format!("value adjoint, params, dual={dual}"), &g, &gp);
        rel(&format!("value adjoint, X, dual={dual}"), &xb, &gx);
        rel(&format!("value adjoint, T, dual={dual}"), &tb, &gt);
        if let Some((pg, px)) = &prev {
            // With ydotbar = None the result must not depend on dual mode.
            assert!((&g - pg).iter().all(|v| v.abs() < 1e-12));
            assert!((&xb - px).iter().all(|v| v.abs() < 1e-12));
        }
        prev = Some((g, xb));
    }
}

#[test]
fn tangent_adjoint_matches_fd() {
    let d = data();
    let (g1, _, _) = reverse(&d, true, 0.0, 1.0);
    rel("tangent adjoint, params", &g1, &fd_params(&d, 0.0, 1.0));
    // Both seeds at once: the sum of the two gradients.
    let (g0, _, _) = reverse(&d, true, 1.0, 0.0);
    let (g01, _, _) = reverse(&d, true, 1.0, 1.0);
    rel("both seeds, params", &g01, &fd_params(&d, 1.0, 1.0));
    assert!((&g01 - &(&g0 + &g1)).iter().all(|v| v.abs() < 1e-12));
}

#[test]
fn leaf_adjoint_collects_tangent_stream() {
    let d = data();
    let (_, x1, t1) = reverse(&d, true, 0.0, 1.0);
    rel("tangent adjoint, X", &x1, &fd_x(&d, 0.0, 1.0));
    rel("tangent adjoint, T", &t1, &fd_t(&d, 0.0, 1.0));
    let (_, x01, t01) = reverse(&d, true, 1.0, 1.0);
    rel("both seeds, X", &x01, &fd_x(&d, 1.0, 1.0));
    rel("both seeds, T", &t01, &fd_t(&d, 1.0, 1.0));
    // The tangent stream contributes visibly to the value adjoint of the leaves.
    let (_, x0, _) = reverse(&d, true, 1.0, 0.0);
    assert!((&x01 - &x0).iter().any(|v| v.abs() > 1e-2));
}

#[test]
fn gradient_is_added_into_grad() {
    let d = data();
    let (fresh, _, _) = reverse(&d, true, 1.0, 1.0);
    let (tp, y, _, _) = build(&d.p, &d, &d.x, &d.t, true);
    let mut grad = vec![0.25; NP];
    tp.backward(y, Some(d.w0.clone()), Some(d.w1.clone()), &mut grad);
    assert_eq!(grad[UNUSED], 0.25);
    assert!(grad.iter().zip(&fresh).all(|(g, f)| (g - 0.25 - f).abs() < 1e-12));
    // A second pass over the same tape adds the same gradient again.
    tp.backward(y, Some(d.w0.clone()), Some(d.w1.clone()), &mut grad);
    assert!(grad.iter().zip(&fresh).all(|(g, f)| (g - 0.25 - 2.0 * f).abs() < 1e-12));
}
