//! Multilayer perceptron with SiLU activations and hand-written derivatives, batched over rows
//! so that every layer is a matrix product (GEMM).
//!
//! Layers: a_l = h_{l-1} W_l^T + b_l, h_l = silu(a_l) for hidden layers, y = h_L w_out^T + b_out
//! (linear scalar output). Rows are samples (particles), columns features.
//! silu(a) = a s(a), s = 1/(1 + e^-a) (Elfwing et al., Neural Netw. 107, 3 (2018));
//! silu' = s (1 + a (1 - s)), silu'' = s (1 - s) (2 + a (1 - 2 s)).
//!
//! Derivatives:
//! - [`Mlp::input_grad`]: reverse mode, d(sum_m ybar_m y_m)/d x.
//! - [`Mlp::tangent_param_grad`]: reverse-over-forward. Forward tangents along input directions
//!   xdot give ydot_m = dy_m/dx_m . xdot_m; the gradient of J = sum_m w_m ydot_m with respect to
//!   the parameters is back-propagated through the value and tangent streams together (this is the
//!   second-order derivative that score matching on an energy needs; docs/design.md sec. 6).

use super::gemm::{mm, mm_into};
use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use rand_distr::{Distribution, StandardNormal};

/// Layer sizes [n_in, hidden..., 1]; parameters are kept outside in one flat vector:
/// for each layer W (n_out x n_in, row-major) then b (n_out).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mlp {
    /// Layer widths, input first, output (1) last.
    pub sizes: Vec<usize>,
}

/// Activations saved by [`Mlp::forward`]: pre-activations a_l and outputs h_l (h_0 = input).
pub struct Forward {
    /// Pre-activations of the hidden layers, (M, n_l) each.
    pub pre: Vec<Array2<f64>>,
    /// silu'(a) of the hidden layers (kept so that no exponential is evaluated twice).
    pub d1: Vec<Array2<f64>>,
    /// silu''(a) of the hidden layers.
    pub d2: Vec<Array2<f64>>,
    /// Layer outputs h_0 (input) .. h_L (last hidden), (M, n_l) each.
    pub post: Vec<Array2<f64>>,
    /// Network output y, (M).
    pub out: Array1<f64>,
}

#[inline]
fn sigmoid(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

/// silu(a), silu'(a), silu''(a).
#[inline]
pub fn silu3(a: f64) -> (f64, f64, f64) {
    let s = sigmoid(a);
    (a * s, s * (1.0 + a * (1.0 - s)), s * (1.0 - s) * (2.0 + a * (1.0 - 2.0 * s)))
}

impl Mlp {
    /// A network with input width `n_in`, the given hidden widths and a scalar output.
    pub fn new(n_in: usize, hidden: &[usize]) -> Self {
        let mut sizes = vec![n_in];
        sizes.extend_from_slice(hidden);
        sizes.push(1);
        Self { sizes }
    }

    /// Number of layers with weights.
    pub fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// (offset of W, offset of b, n_out, n_in) of layer `l` (0-based).
    fn layout(&self, l: usize) -> (usize, usize, usize, usize) {
        let mut off = 0;
        for k in 0..l {
            off += self.sizes[k + 1] * self.sizes[k] + self.sizes[k + 1];
        }
        let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
        (off, off + n_out * n_in, n_out, n_in)
    }

    /// Total number of parameters.
    pub fn n_params(&self) -> usize {
        (0..self.n_layers()).map(|l| self.sizes[l + 1] * (self.sizes[l] + 1)).sum()
    }

    fn w<'a>(&self, p: &'a [f64], l: usize) -> ArrayView2<'a, f64> {
        let (wo, _, n_out, n_in) = self.layout(l);
        ArrayView2::from_shape((n_out, n_in), &p[wo..wo + n_out * n_in]).expect("layout")
    }

    fn b<'a>(&self, p: &'a [f64], l: usize) -> &'a [f64] {
        let (_, bo, n_out, _) = self.layout(l);
        &p[bo..bo + n_out]
    }

    /// LeCun-normal initial weights W ~ N(0, 1/n_in), zero biases; the output layer is scaled by
    /// `out_scale` so that a fresh network starts close to zero energy.
    pub fn init_params(&self, rng: &mut crate::rng::Stream, out_scale: f64) -> Vec<f64> {
        let mut p = vec![0.0; self.n_params()];
        for l in 0..self.n_layers() {
            let (wo, _, n_out, n_in) = self.layout(l);
            let sd = (1.0 / n_in as f64).sqrt() * if l + 1 == self.n_layers() { out_scale } else { 1.0 };
            for v in &mut p[wo..wo + n_out * n_in] {
                let z: f64 = StandardNormal.sample(rng);
                *v = sd * z;
            }
        }
        p
    }

    /// Forward pass over the rows of `x` (M, n_in).
    pub fn forward(&self, p: &[f64], x: Array2<f64>) -> Forward {
        assert_eq!(x.ncols(), self.sizes[0], "MLP input width");
        assert_eq!(p.len(), self.n_params(), "MLP parameter count");
        let nl = self.n_layers();
        let mut pre = Vec::with_capacity(nl - 1);
        let (mut d1, mut d2) = (Vec::with_capacity(nl - 1), Vec::with_capacity(nl - 1));
        let mut post = vec![x];
        for l in 0..nl - 1 {
            let mut a = mm(post[l].view(), self.w(p, l).t());
            a += &ArrayView2::from_shape((1, self.sizes[l + 1]), self.b(p, l)).expect("bias");
            let (mut h, mut e1, mut e2) = (a.clone(), a.clone(), a.clone());
            ndarray::Zip::from(&a).and(&mut h).and(&mut e1).and(&mut e2).for_each(|&v, h, e1, e2| {
                let (f, g, k) = silu3(v);
                *h = f;
                *e1 = g;
                *e2 = k;
            });
            pre.push(a);
            d1.push(e1);
            d2.push(e2);
            post.push(h);
        }
        let mut out = mm(post[nl - 1].view(), self.w(p, nl - 1).t()).index_axis_move(Axis(1), 0);
        out += self.b(p, nl - 1)[0];
        Forward { pre, d1, d2, post, out }
    }

    /// d(sum_m ybar_m y_m)/dx, shape (M, n_in).
    pub fn input_grad(&self, p: &[f64], fw: &Forward, ybar: &Array1<f64>) -> Array2<f64> {
        let nl = self.n_layers();
        let w_out = self.w(p, nl - 1);
        // adjoint of the last hidden output: ybar (M,1) x w_out (1, n_L)
        let mut hbar = mm(ybar.view().insert_axis(Axis(1)), w_out);
        for l in (0..nl - 1).rev() {
            let abar = &hbar * &fw.d1[l];
            hbar = mm(abar.view(), self.w(p, l));
        }
        hbar
    }

    /// Forward tangents ydot along input directions `xdot` (M, n_in) and the parameter gradient
    /// of J = sum_m w_m ydot_m, accumulated into `grad` (length n_params). Returns ydot (M).
    pub fn tangent_param_grad(
        &self,
        p: &[f64],
        fw: &Forward,
        xdot: &Array2<f64>,
        w: &Array1<f64>,
        grad: &mut [f64],
    ) -> Array1<f64> {
        let nl = self.n_layers();
        // Forward tangents.
        let mut adot = Vec::with_capacity(nl - 1);
        let mut hdot = vec![xdot.clone()];
        let (d1, d2) = (&fw.d1, &fw.d2);
        for l in 0..nl - 1 {
            let ad = mm(hdot[l].view(), self.w(p, l).t());
            hdot.push(&ad * &d1[l]);
            adot.push(ad);
        }
        let w_out = self.w(p, nl - 1);
        let ydot = mm(hdot[nl - 1].view(), w_out.t()).index_axis_move(Axis(1), 0);
        // Output layer: dJ/dw_out = sum_m w_m hdot_L[m, :]; ydot does not depend on b_out.
        let (wo, _, _, n_in) = self.layout(nl - 1);
        let gw = mm(w.view().insert_axis(Axis(0)), hdot[nl - 1].view());
        for (g, v) in grad[wo..wo + n_in].iter_mut().zip(gw.iter()) {
            *g += v;
        }
        // Adjoints of h_L (zero: J depends on h only through tangents' coefficients) and hdot_L.
        let wcol = w.view().insert_axis(Axis(1));
        let mut hdot_bar = mm(wcol, w_out);
        let mut h_bar: Option<Array2<f64>> = None;
        for l in (0..nl - 1).rev() {
            let adot_bar = &hdot_bar * &d1[l];
            let mut a_bar = &hdot_bar * &d2[l] * &adot[l];
            if let Some(hb) = &h_bar {
                a_bar = a_bar + hb * &d1[l];
            }
            let (wo, bo, n_out, n_in) = self.layout(l);
            let gw = {
                let mut gw = mm(a_bar.t(), fw.post[l].view());
                mm_into(gw.view_mut(), adot_bar.t(), hdot[l].view(), true);
                gw
            };
            for (g, v) in grad[wo..wo + n_out * n_in].iter_mut().zip(gw.iter()) {
                *g += v;
            }
            let gb = a_bar.sum_axis(Axis(0));
            for (g, v) in grad[bo..bo + n_out].iter_mut().zip(gb.iter()) {
                *g += v;
            }
            if l > 0 {
                let wl = self.w(p, l);
                h_bar = Some(mm(a_bar.view(), wl));
                hdot_bar = mm(adot_bar.view(), wl);
            }
        }
        ydot
    }

    /// Parameter gradient of J = sum_m w_m y_m (plain back-propagation), accumulated into `grad`.
    pub fn param_grad(&self, p: &[f64], fw: &Forward, w: &Array1<f64>, grad: &mut [f64]) {
        let nl = self.n_layers();
        let (wo, bo, _, n_in) = self.layout(nl - 1);
        let gw = mm(w.view().insert_axis(Axis(0)), fw.post[nl - 1].view());
        for (g, v) in grad[wo..wo + n_in].iter_mut().zip(gw.iter()) {
            *g += v;
        }
        grad[bo] += w.sum();
        let mut hbar = mm(w.view().insert_axis(Axis(1)), self.w(p, nl - 1));
        for l in (0..nl - 1).rev() {
            let abar = &hbar * &fw.d1[l];
            let (wo, bo, n_out, n_in) = self.layout(l);
            let gw = mm(abar.t(), fw.post[l].view());
            for (g, v) in grad[wo..wo + n_out * n_in].iter_mut().zip(gw.iter()) {
                *g += v;
            }
            for (g, v) in grad[bo..bo + n_out].iter_mut().zip(abar.sum_axis(Axis(0)).iter()) {
                *g += v;
            }
            if l > 0 {
                hbar = mm(abar.view(), self.w(p, l));
            }
        }
    }

    /// Number of floating-point operations of one forward pass over `m` rows (2 per multiply-add).
    pub fn forward_flops(&self, m: usize) -> f64 {
        (0..self.n_layers()).map(|l| 2.0 * (m * self.sizes[l] * self.sizes[l + 1]) as f64).sum()
    }
}

/// Copies a (M, n) row-major slice into an ndarray matrix.
pub fn matrix(m: usize, n: usize, data: Vec<f64>) -> Array2<f64> {
    Array2::from_shape_vec((m, n), data).expect("matrix shape")
}

/// Rows `r0..r1` of a matrix.
pub fn rows(a: &Array2<f64>, r0: usize, r1: usize) -> Array2<f64> {
    a.slice(s![r0..r1, ..]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};

    fn setup() -> (Mlp, Vec<f64>, Array2<f64>, Array2<f64>, Array1<f64>) {
        let mlp = Mlp::new(5, &[7, 6]);
        let mut r = stream(1, Purpose::Init, 42);
        let p = mlp.init_params(&mut r, 1.0);
        let mut rnd = |n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut r);
                    z
                })
                .collect()
        };
        let x = matrix(4, 5, rnd(20));
        let xdot = matrix(4, 5, rnd(20));
        let w = Array1::from(rnd(4));
        // non-zero biases so that every parameter path is exercised
        let mut p = p;
        for (k, v) in p.iter_mut().enumerate() {
            if *v == 0.0 {
                *v = 0.1 * ((k % 7) as f64 - 3.0);
            }
        }
        (mlp, p, x, xdot, w)
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1.0)
    }

    #[test]
    fn silu_derivatives_match_central_differences() {
        for a in [-4.0, -1.0, -0.1, 0.0, 0.3, 2.0, 6.0] {
            let h = 1e-5;
            let (_, d1, d2) = silu3(a);
            let fd1 = (silu3(a + h).0 - silu3(a - h).0) / (2.0 * h);
            let fd2 = (silu3(a + h).1 - silu3(a - h).1) / (2.0 * h);
            assert!(rel(d1, fd1) < 1e-9 && rel(d2, fd2) < 1e-9, "a = {a}");
        }
    }

    #[test]
    fn input_gradient_and_tangent_match_central_differences() {
        let (mlp, p, x, xdot, w) = setup();
        let fw = mlp.forward(&p, x.clone());
        let g = mlp.input_grad(&p, &fw, &w);
        let h = 1e-6;
        for m in 0..4 {
            for c in 0..5 {
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp[[m, c]] += h;
                xm[[m, c]] -= h;
                let fd = (w.dot(&mlp.forward(&p, xp).out) - w.dot(&mlp.forward(&p, xm).out)) / (2.0 * h);
                assert!(rel(g[[m, c]], fd) < 1e-8, "input grad [{m},{c}]: {} vs {fd}", g[[m, c]]);
            }
        }
        let mut grad = vec![0.0; mlp.n_params()];
        let ydot = mlp.tangent_param_grad(&p, &fw, &xdot, &w, &mut grad);
        let fd = (mlp.forward(&p, &x + &(&xdot * h)).out - mlp.forward(&p, &x - &(&xdot * h)).out) / (2.0 * h);
        for m in 0..4 {
            assert!(rel(ydot[m], fd[m]) < 1e-8, "tangent {m}: {} vs {}", ydot[m], fd[m]);
        }
    }

    #[test]
    fn parameter_gradient_matches_central_differences() {
        let (mlp, p, x, _, w) = setup();
        let j = |q: &[f64]| w.dot(&mlp.forward(q, x.clone()).out);
        let fw = mlp.forward(&p, x.clone());
        let mut grad = vec![0.0; mlp.n_params()];
        mlp.param_grad(&p, &fw, &w, &mut grad);
        let worst = worst_fd_error(&p, &grad, j);
        assert!(worst < 1e-7, "worst relative error {worst}");
    }

    /// Largest relative error of `grad` against central differences of `j` at `p` (h = 1e-6).
    fn worst_fd_error(p: &[f64], grad: &[f64], j: impl Fn(&[f64]) -> f64) -> f64 {
        let h = 1e-6;
        (0..p.len()).fold(0.0f64, |worst, k| {
            let (mut pp, mut pm) = (p.to_vec(), p.to_vec());
            pp[k] += h;
            pm[k] -= h;
            worst.max(rel(grad[k], (j(&pp) - j(&pm)) / (2.0 * h)))
        })
    }

    #[test]
    fn tangent_parameter_gradient_matches_central_differences() {
        let (mlp, p, x, xdot, w) = setup();
        let j = |q: &[f64]| -> f64 {
            let fw = mlp.forward(q, x.clone());
            let mut scratch = vec![0.0; mlp.n_params()];
            w.dot(&mlp.tangent_param_grad(q, &fw, &xdot, &w, &mut scratch))
        };
        let fw = mlp.forward(&p, x.clone());
        let mut grad = vec![0.0; mlp.n_params()];
        mlp.tangent_param_grad(&p, &fw, &xdot, &w, &mut grad);
        let worst = worst_fd_error(&p, &grad, j);
        assert!(worst < 1e-7, "worst relative error {worst}");
    }
}
