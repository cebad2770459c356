//! Dense f64 matrix products of the energy networks, on the `gemm` crate.
//!
//! Every dense layer of the networks (descriptor MLP, message-passing node layers and radial
//! filters) is a product C = A B of f64 matrices with strided ndarray views. The `gemm` crate
//! (Sarah Quinones; BLIS-style packing and register-blocked micro-kernels) picks AVX-512, AVX2+FMA
//! or SSE2 kernels at run time from the CPU it runs on. On the network's shapes (for example
//! 3532 x 16 x 48 and 200 x 64 x 64) it runs at 35-48 GFLOP/s on one core of the project's
//! Xeon, about twice ndarray's default `matrixmultiply` (see validation/README.md, "Energy-model
//! speed"); OpenBLAS is not used here because this virtual CPU makes it fall back to generic
//! kernels unless `OPENBLAS_CORETYPE` is forced.
//!
//! Determinism: single-threaded (`Parallelism::None`); the kernel and the blocking follow the
//! CPU's features and cache sizes, so results are bitwise reproducible for one binary on one
//! machine (any rank count, any restart) and agree to rounding across CPUs.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Whether products are counted (benchmarks only; off by default, one relaxed load per product).
static COUNTING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Flops (2 m n k per product) and wall seconds spent in products on this thread.
    static COUNTED: Cell<(f64, f64)> = const { Cell::new((0.0, 0.0)) };
}

/// Starts (or stops) counting the flops and time of every product on every thread, and resets
/// this thread's totals. For the model benchmark's dense-layer rate (benches/model_throughput.rs).
pub fn count_products(on: bool) {
    COUNTING.store(on, Ordering::Relaxed);
    COUNTED.with(|c| c.set((0.0, 0.0)));
}

/// This thread's counted (flops, seconds) since [`count_products`].
pub fn counted() -> (f64, f64) {
    COUNTED.with(|c| c.get())
}

/// Runs `f` (one product of `flops`), timing it if counting is on.
#[inline]
fn timed<R>(flops: usize, f: impl FnOnce() -> R) -> R {
    if !COUNTING.load(Ordering::Relaxed) {
        return f();
    }
    let t0 = Instant::now();
    let r = f();
    let dt = t0.elapsed().as_secs_f64();
    COUNTED.with(|c| {
        let (fl, s) = c.get();
        c.set((fl + flops as f64, s + dt));
    });
    r
}

/// C = A B as a new standard-layout array. A: (m, k), B: (k, n).
pub fn mm(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    assert_eq!(b.nrows(), k, "matrix product: inner dimensions");
    if m == 0 || n == 0 || k == 0 {
        return Array2::zeros((m, n));
    }
    // No zero fill: gemm with read_dst = false writes every element of C and reads none.
    let mut c = Array2::<f64>::uninit((m, n));
    // SAFETY: C is a fresh (m, n) standard-layout buffer (row stride n, column stride 1); with
    // accumulate = false gemm overwrites all of it without reading it, so it is initialised after.
    unsafe {
        product(c.as_mut_ptr() as *mut f64, [n as isize, 1], a, b, false);
        c.assume_init()
    }
}

/// C = A B, or C += A B if `accumulate`. A: (m, k), B: (k, n), C: (m, n), any strides.
pub fn mm_into(mut c: ArrayViewMut2<'_, f64>, a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, accumulate: bool) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert_eq!(b.nrows(), k, "matrix product: inner dimensions");
    assert_eq!(c.dim(), (m, n), "matrix product: output shape");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    let cs = [c.strides()[0], c.strides()[1]];
    // SAFETY: `c` is a live (m, n) view with these strides and a unique mutable borrow.
    unsafe { product(c.as_mut_ptr(), cs, a, b, accumulate) }
}

/// The one call into gemm: C (at `c`, element strides [row, column]) = A B, or += if `accumulate`;
/// m, n, k >= 1, timed if counting is on.
///
/// # Safety
/// `c` must address an (a.nrows() x b.ncols()) matrix with strides `cs` that does not alias `a`
/// or `b`; with `accumulate` it must be initialised. Every address gemm forms
/// (ptr + i*row_stride + j*col_stride) then lies inside one of the three matrices.
unsafe fn product(c: *mut f64, cs: [isize; 2], a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, accumulate: bool) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let (as_, bs) = (a.strides(), b.strides());
    timed(2 * m * n * k, || unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c,
            cs[1],
            cs[0],
            accumulate,
            a.as_ptr(),
            as_[1],
            as_[0],
            b.as_ptr(),
            bs[1],
            bs[0],
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    fn filled(m: usize, n: usize, seed: u64) -> Array2<f64> {
        let mut x = seed;
        Array2::from_shape_fn((m, n), |_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
    }

    fn naive(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| (0..a.ncols()).map(|l| a[[i, l]] * b[[l, j]]).sum())
    }

    fn max_diff(x: &Array2<f64>, y: &Array2<f64>) -> f64 {
        x.iter().zip(y).fold(0.0, |m, (a, b)| m.max((a - b).abs()))
    }

    #[test]
    fn products_match_the_definition_for_every_layout() {
        for &(m, k, n) in &[(1, 1, 1), (7, 3, 5), (200, 64, 32), (37, 16, 48), (3, 0, 4), (0, 5, 2)] {
            let a = filled(m, k, 1);
            let b = filled(k, n, 2);
            let want = naive(a.view(), b.view());
            assert!(max_diff(&mm(a.view(), b.view()), &want) < 1e-12, "{m}x{k}x{n}");
            // Transposed (column-major) operands and a strided, transposed output.
            let (at, bt) = (a.t().to_owned().reversed_axes(), b.t().as_standard_layout().into_owned());
            assert!(max_diff(&mm(at.view(), bt.t()), &want) < 1e-12, "{m}x{k}x{n} transposed");
            let mut big = Array2::from_elem((n, 2 * m), 9.0);
            mm_into(big.slice_mut(s![.., ..;2]).reversed_axes(), a.view(), b.view(), false);
            assert!(max_diff(&big.slice(s![.., ..;2]).t().to_owned(), &want) < 1e-12, "{m}x{k}x{n} strided");
            if m > 0 {
                assert!(big.slice(s![.., 1..;2]).iter().all(|&v| v == 9.0), "{m}x{k}x{n}: wrote outside the view");
            }
            // Accumulation adds to what is there.
            let mut c = filled(m, n, 3);
            let before = c.clone();
            mm_into(c.view_mut(), a.view(), b.view(), true);
            assert!(max_diff(&c, &(&before + &want)) < 1e-12, "{m}x{k}x{n} accumulate");
        }
    }
}
