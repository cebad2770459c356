//! The per-pair loops of the descriptors ([`super::descriptors`]): radial weights, moment
//! accumulation, VJP and JVP, each compiled twice, for baseline x86-64 and for AVX2, and chosen at run time.
//!
//! Why two builds: the loops run over K channels with contiguous per-channel arrays, which the
//! compiler vectorises; the default target (x86-64, SSE2) gives it two doubles per instruction,
//! AVX2 four. Both builds perform the same IEEE operations in the same order (Rust never
//! contracts a*b + c into a fused multiply-add, and lane-wise vector operations round like
//! scalar ones), so their results are bitwise identical; `tests` checks it. Other
//! architectures use the portable build.
//!
//! Layout: per particle (or per pair contribution) a row of 10 channel blocks of K values,
//! [A, Vx, Vy, Vz, Qxx, Qyy, Qzz, Qxy, Qxz, Qyz] (see [`super::descriptors::Descriptors`]).

use super::radial_basis::Basis;
use crate::system::Pair;

/// Number of per-channel moment components kept per particle: A (1), V (3) and Q (6).
pub(super) const N_MOMENTS: usize = 10;

pub(super) use super::simd::Isa;

/// Defines `pub(super) fn $name(isa, args)` that runs the `#[inline(always)]` body `$body` in
/// the build `isa` selects (the AVX2 one only where the CPU has it).
macro_rules! multiversion {
    ($(#[$doc:meta])* fn $name:ident => $body:ident ( $($arg:ident : $ty:ty),* $(,)? )) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        pub(super) fn $name(isa: Isa, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if isa != Isa::Baseline && std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            let _ = isa;
            $body($($arg),*)
        }
    };
}

/// Re-slices each named slice to exactly `k` elements, so that the compiler sees the common
/// length and drops the bounds checks (and can vectorise) in the loops over the K channels.
macro_rules! fit {
    ($k:expr; mut $($x:ident),*) => { $(let $x = &mut $x[..$k];)* };
    ($k:expr; $($x:ident),*) => { $(let $x = &$x[..$k];)* };
}

multiversion! {
    /// Fills the radial weights `w` and their derivatives `dw` (n_pairs x K) of every pair.
    fn radial => radial_body(basis: &Basis, pairs: &[Pair], w: &mut [f64], dw: &mut [f64])
}

multiversion! {
    /// Adds every pair's contribution to the moments `m` (N x 10K, zeroed by the caller) of both
    /// its particles, from the radial weights `w` (n_pairs x K); `c` (10K) is scratch.
    fn moments => moments_body(pairs: &[Pair], w: &[f64], k_n: usize, m: &mut [f64], c: &mut [f64])
}

multiversion! {
    /// Adds dE/dx into `grad` (N, zeroed by the caller) from the moment adjoints `adj`
    /// (N x 10K: [gbar_A, 2 gbar_B V, 2 gbar_C Q]); `t` (4K) is scratch.
    fn vjp => vjp_body(
        pairs: &[Pair], w: &[f64], dw: &[f64], k_n: usize, adj: &[f64], t: &mut [f64], grad: &mut [[f64; 3]],
    )
}

multiversion! {
    /// Adds the tangents of the moments along `dx` into `rows` (N x 10K, zeroed by the caller);
    /// `c` (10K) is scratch.
    fn jvp => jvp_body(
        pairs: &[Pair], w: &[f64], dw: &[f64], k_n: usize, dx: &[[f64; 3]], rows: &mut [f64], c: &mut [f64],
    )
}

#[inline(always)]
fn radial_body(basis: &Basis, pairs: &[Pair], w: &mut [f64], dw: &mut [f64]) {
    let k_n = basis.n_radial();
    for ((pair, w), dw) in pairs.iter().zip(w.chunks_exact_mut(k_n)).zip(dw.chunks_exact_mut(k_n)) {
        basis.eval(pair.r, w, dw);
    }
}

#[inline(always)]
fn moments_body(pairs: &[Pair], w: &[f64], k_n: usize, m: &mut [f64], c: &mut [f64]) {
    let mw = N_MOMENTS * k_n;
    for (pair, w) in pairs.iter().zip(w.chunks_exact(k_n)) {
        let (d, ir) = (pair.d, pair.inv_r);
        let dd = sym_outer(&d, &d);
        // Coincident particles (inv_r = 0) have no direction and contribute to A only:
        // phi = psi = 0 follow from inv_r = 0, and the isotropic part of Q is switched off.
        let iso = if ir > 0.0 { 1.0 / 3.0 } else { 0.0 };
        let [ca, vx, vy, vz, q0, q1, q2, q3, q4, q5] = split_moments(c, k_n);
        fit!(k_n; mut ca, vx, vy, vz, q0, q1, q2, q3, q4, q5);
        fit!(k_n; w);
        for k in 0..k_n {
            let wk = w[k];
            let phi = wk * ir;
            let psi = phi * ir;
            // psi r r^T - (w/3) I, the same for i and j (even in r_ij).
            let third = wk * iso;
            ca[k] = wk;
            vx[k] = phi * d[0];
            vy[k] = phi * d[1];
            vz[k] = phi * d[2];
            q0[k] = psi * dd[0] - third;
            q1[k] = psi * dd[1] - third;
            q2[k] = psi * dd[2] - third;
            q3[k] = psi * dd[3];
            q4[k] = psi * dd[4];
            q5[k] = psi * dd[5];
        }
        scatter_pair(m, mw, k_n, pair, c);
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn vjp_body(pairs: &[Pair], w: &[f64], dw: &[f64], k_n: usize, adj: &[f64], t: &mut [f64], grad: &mut [[f64; 3]]) {
    let mw = N_MOMENTS * k_n;
    let (t_rad, rest) = t[..4 * k_n].split_at_mut(k_n);
    let (t_x, rest) = rest.split_at_mut(k_n);
    let (t_y, t_z) = rest.split_at_mut(k_n);
    let pairs = pairs.iter().zip(w.chunks_exact(k_n)).zip(dw.chunks_exact(k_n));
    for ((pair, w), dw) in pairs {
        let (i, j) = (pair.i as usize, pair.j as usize);
        let (d, ir) = (pair.d, pair.inv_r);
        let [ai, uxi, uyi, uzi, q0i, q1i, q2i, q3i, q4i, q5i] = moment_rows(&adj[i * mw..], k_n);
        let [aj, uxj, uyj, uzj, q0j, q1j, q2j, q3j, q4j, q5j] = moment_rows(&adj[j * mw..], k_n);
        fit!(k_n; ai, uxi, uyi, uzi, q0i, q1i, q2i, q3i, q4i, q5i);
        fit!(k_n; aj, uxj, uyj, uzj, q0j, q1j, q2j, q3j, q4j, q5j);
        fit!(k_n; w, dw);
        fit!(k_n; mut t_rad, t_x, t_y, t_z);
        // Per-channel terms (for coincident particles inv_r = 0 makes rhat, phi, psi and
        // their derivatives vanish), then their sums over the channels in channel order.
        for k in 0..k_n {
            let (wk, dwk) = (w[k], dw[k]);
            let a = ai[k] + aj[k];
            let phi = wk * ir;
            let dphi = (dwk - phi) * ir;
            let psi = phi * ir;
            let dpsi = (dwk * ir - 2.0 * psi) * ir;
            let uu = [uxi[k] - uxj[k], uyi[k] - uyj[k], uzi[k] - uzj[k]];
            let qq =
                [q0i[k] + q0j[k], q1i[k] + q1j[k], q2i[k] + q2j[k], q3i[k] + q3j[k], q4i[k] + q4j[k], q5i[k] + q5j[k]];
            let qd = sym_mul(&qq, &d);
            t_rad[k] = a * dwk + dphi * dot3(&uu, &d) + dpsi * dot3(&d, &qd);
            t_x[k] = phi * uu[0] + 2.0 * psi * qd[0];
            t_y[k] = phi * uu[1] + 2.0 * psi * qd[1];
            t_z[k] = phi * uu[2] + 2.0 * psi * qd[2];
        }
        let mut radial = 0.0; // coefficient of rhat, summed over channels
        let mut g = [0.0; 3];
        for k in 0..k_n {
            radial += t_rad[k];
            g[0] += t_x[k];
            g[1] += t_y[k];
            g[2] += t_z[k];
        }
        for c in 0..3 {
            g[c] += radial * ir * d[c];
        }
        for c in 0..3 {
            grad[j][c] += g[c];
            grad[i][c] -= g[c];
        }
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn jvp_body(pairs: &[Pair], w: &[f64], dw: &[f64], k_n: usize, dx: &[[f64; 3]], rows: &mut [f64], c: &mut [f64]) {
    let mw = N_MOMENTS * k_n;
    let pairs = pairs.iter().zip(w.chunks_exact(k_n)).zip(dw.chunks_exact(k_n));
    for ((pair, w), dw) in pairs {
        let (i, j) = (pair.i as usize, pair.j as usize);
        let (d, ir) = (pair.d, pair.inv_r);
        let dr = [dx[j][0] - dx[i][0], dx[j][1] - dx[i][1], dx[j][2] - dx[i][2]];
        let s = dot3(&d, &dr) * ir;
        // s r r^T and the symmetrised dr r^T + r dr^T, as [xx, yy, zz, xy, xz, yz].
        let dd = sym_outer(&d, &d);
        let sym = [
            2.0 * dr[0] * d[0],
            2.0 * dr[1] * d[1],
            2.0 * dr[2] * d[2],
            dr[0] * d[1] + d[0] * dr[1],
            dr[0] * d[2] + d[0] * dr[2],
            dr[1] * d[2] + d[1] * dr[2],
        ];
        let [ca, vx, vy, vz, q0, q1, q2, q3, q4, q5] = split_moments(c, k_n);
        fit!(k_n; mut ca, vx, vy, vz, q0, q1, q2, q3, q4, q5);
        fit!(k_n; w, dw);
        for k in 0..k_n {
            let (wk, dwk) = (w[k], dw[k]);
            ca[k] = dwk * s;
            // For coincident particles inv_r = 0 makes s, phi, psi and their derivatives vanish.
            let phi = wk * ir;
            let dphi = (dwk - phi) * ir;
            let psi = phi * ir;
            let dpsi = (dwk * ir - 2.0 * psi) * ir;
            let t = dphi * s;
            vx[k] = phi * dr[0] + t * d[0];
            vy[k] = phi * dr[1] + t * d[1];
            vz[k] = phi * dr[2] + t * d[2];
            let ts = dpsi * s;
            q0[k] = ts * dd[0] + psi * sym[0];
            q1[k] = ts * dd[1] + psi * sym[1];
            q2[k] = ts * dd[2] + psi * sym[2];
            q3[k] = ts * dd[3] + psi * sym[3];
            q4[k] = ts * dd[4] + psi * sym[4];
            q5[k] = ts * dd[5] + psi * sym[5];
        }
        scatter_pair(rows, mw, k_n, pair, c);
    }
}

/// The ten channel blocks [A, Vx, Vy, Vz, Qxx, Qyy, Qzz, Qxy, Qxz, Qyz] (K each) of one
/// particle's moment row (or of a pair contribution), mutably. (Written out rather than with
/// `array::from_fn`, which the compiler does not always inline into the kernels.)
#[inline(always)]
fn split_moments(row: &mut [f64], k: usize) -> [&mut [f64]; N_MOMENTS] {
    let (b0, r) = row[..N_MOMENTS * k].split_at_mut(k);
    let (b1, r) = r.split_at_mut(k);
    let (b2, r) = r.split_at_mut(k);
    let (b3, r) = r.split_at_mut(k);
    let (b4, r) = r.split_at_mut(k);
    let (b5, r) = r.split_at_mut(k);
    let (b6, r) = r.split_at_mut(k);
    let (b7, r) = r.split_at_mut(k);
    let (b8, b9) = r.split_at_mut(k);
    [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9]
}

/// The ten channel blocks of a moment row, read-only (see [`split_moments`]).
#[inline(always)]
pub(super) fn moment_rows(row: &[f64], k: usize) -> [&[f64]; N_MOMENTS] {
    let row = &row[..N_MOMENTS * k];
    let b = |c: usize| &row[c * k..(c + 1) * k];
    [b(0), b(1), b(2), b(3), b(4), b(5), b(6), b(7), b(8), b(9)]
}

/// The rows i and j (i != j) of a row-major matrix with `width` columns, mutably.
#[inline(always)]
fn two_rows(m: &mut [f64], width: usize, i: usize, j: usize) -> (&mut [f64], &mut [f64]) {
    assert_ne!(i, j, "a pair of one particle");
    if i < j {
        let (lo, hi) = m.split_at_mut(j * width);
        (&mut lo[i * width..(i + 1) * width], &mut hi[..width])
    } else {
        let (lo, hi) = m.split_at_mut(i * width);
        (&mut hi[..width], &mut lo[j * width..(j + 1) * width])
    }
}

/// Adds a pair's moment contribution `c` (10K, as seen from i) to particle i's row of `m` and
/// its mirror image to j's: A and Q are even in r_ij, V is odd.
#[inline(always)]
fn scatter_pair(m: &mut [f64], mw: usize, k_n: usize, pair: &Pair, c: &[f64]) {
    let (mi, mj) = two_rows(m, mw, pair.i as usize, pair.j as usize);
    for (x, y) in mi.iter_mut().zip(c) {
        *x += y;
    }
    let (vs, ve) = (k_n, 4 * k_n);
    for (x, y) in mj[..vs].iter_mut().zip(&c[..vs]) {
        *x += y;
    }
    for (x, y) in mj[vs..ve].iter_mut().zip(&c[vs..ve]) {
        *x -= y;
    }
    for (x, y) in mj[ve..].iter_mut().zip(&c[ve..]) {
        *x += y;
    }
}

/// Dot product of two 3-vectors.
#[inline(always)]
pub(super) fn dot3(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// a b^T for a = b, as [xx, yy, zz, xy, xz, yz] (only used with a == b, hence symmetric).
#[inline(always)]
fn sym_outer(a: &[f64; 3], b: &[f64; 3]) -> [f64; 6] {
    [a[0] * b[0], a[1] * b[1], a[2] * b[2], a[0] * b[1], a[0] * b[2], a[1] * b[2]]
}

/// Symmetric matrix (as [xx, yy, zz, xy, xz, yz]) times a vector.
#[inline(always)]
fn sym_mul(m: &[f64; 6], x: &[f64; 3]) -> [f64; 3] {
    [
        m[0] * x[0] + m[3] * x[1] + m[4] * x[2],
        m[3] * x[0] + m[1] * x[1] + m[5] * x[2],
        m[4] * x[0] + m[5] * x[1] + m[2] * x[2],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use crate::system::{PairList, Positions, SimBox};
    use rand::RngExt;

    /// The AVX2 and baseline builds of all four kernels give bitwise identical results on the
    /// same inputs (random pairs, weights, adjoints and displacements; K = 7, not a multiple of
    /// the vector width, so that the remainder loops run too). Where the CPU has no AVX2 both
    /// calls take the baseline build and the test compares it with itself.
    #[test]
    fn avx2_and_baseline_builds_agree_bitwise() {
        let (n, l, rc, k_n) = (40, 5.0, 2.4, 7);
        let mw = N_MOMENTS * k_n;
        let mut r = stream(3, Purpose::Init, 0);
        let mut uni = |lo: f64, hi: f64| lo + (hi - lo) * r.random::<f64>();
        let x: Positions = (0..n).map(|_| [uni(0.0, l), uni(0.0, l), uni(0.0, l)]).collect();
        let list = PairList::new(&x, &SimBox::new(l), rc);
        let pairs: Vec<Pair> = list.pairs().to_vec();
        assert!(pairs.len() > 50, "too few pairs ({})", pairs.len());
        let w: Vec<f64> = (0..pairs.len() * k_n).map(|_| uni(0.0, 1.0)).collect();
        let dw: Vec<f64> = (0..pairs.len() * k_n).map(|_| uni(-2.0, 2.0)).collect();
        let adj: Vec<f64> = (0..n * mw).map(|_| uni(-1.0, 1.0)).collect();
        let dx: Vec<[f64; 3]> = (0..n).map(|_| [uni(-1.0, 1.0), uni(-1.0, 1.0), uni(-1.0, 1.0)]).collect();
        let spec = super::super::descriptors::DescriptorSpec { n_radial: k_n, r_min: 0.5, r_cut: rc };
        let basis = Basis::new(&spec);
        let run = |isa: Isa| {
            let (mut wr, mut dwr) = (vec![0.0; pairs.len() * k_n], vec![0.0; pairs.len() * k_n]);
            radial(isa, &basis, &pairs, &mut wr, &mut dwr);
            let (mut m, mut c) = (vec![0.0; n * mw], vec![0.0; mw]);
            moments(isa, &pairs, &w, k_n, &mut m, &mut c);
            let (mut t, mut grad) = (vec![0.0; 4 * k_n], vec![[0.0; 3]; n]);
            vjp(isa, &pairs, &w, &dw, k_n, &adj, &mut t, &mut grad);
            let mut rows = vec![0.0; n * mw];
            jvp(isa, &pairs, &w, &dw, k_n, &dx, &mut rows, &mut c);
            (m, grad, rows, [wr, dwr].concat())
        };
        let (base, fast) = (run(Isa::Baseline), run(Isa::best()));
        let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&base.0), bits(&fast.0), "moments");
        assert_eq!(bits(base.1.as_flattened()), bits(fast.1.as_flattened()), "vjp");
        assert_eq!(bits(&base.2), bits(&fast.2), "jvp");
        assert_eq!(bits(&base.3), bits(&fast.3), "radial weights");
        assert!(base.0.iter().any(|&v| v != 0.0) && base.1.iter().flatten().any(|&v| v != 0.0));
    }
}
