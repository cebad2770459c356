//! The vector message kernels of [`super::kernels`] for a vector width V known at compile time
//! (V = 8, the paper's width and the default), written on register arrays `[f64; V]`.
//!
//! Why a second form: in the slice form the compiler cannot prove that the adjoint rows it writes
//! (vbar, phibar, wbar) do not overlap the rows it reads, so it keeps every channel loop scalar
//! (measured: `vmulsd`/`vaddsd` only, 24 % of energy + gradient in the vector reverse pass). Here
//! every row is read into a local array before it is combined and every written row is a
//! `&mut [f64; V]` of its own, so each channel loop becomes one or two SIMD instructions.
//!
//! The arithmetic is the slice form's, operation by operation and in the same order (Rust never
//! contracts a * b + c into a fused multiply-add, and lane-wise SIMD rounds like scalar code), so
//! both forms give bitwise identical results (`fixed_width_vector_kernels_equal_the_general_ones`).
//! Absent inputs read as zero rows, as there.

use super::kernels::{Inputs, Outputs};

/// Row `at..at + N` of `a` as an array (a copy: a value in registers).
#[inline(always)]
fn load<const N: usize>(a: &[f64], at: usize) -> [f64; N] {
    a[at..at + N].try_into().expect("row of N values")
}

/// Row `at..at + N` of `a`, or zeros where `a` is absent.
#[inline(always)]
fn load_or_zero<const N: usize>(a: Option<&[f64]>, at: usize) -> [f64; N] {
    a.map_or([0.0; N], |a| load(a, at))
}

/// Row `at..at + N` of `a` to write.
#[inline(always)]
fn row<const N: usize>(a: &mut [f64], at: usize) -> &mut [f64; N] {
    (&mut a[at..at + N]).try_into().expect("row of N values")
}

/// Lane-wise product.
#[inline(always)]
fn mul<const N: usize>(a: &[f64; N], b: &[f64; N]) -> [f64; N] {
    std::array::from_fn(|q| a[q] * b[q])
}

/// y += a o b, lane-wise.
#[inline(always)]
fn add_mul<const N: usize>(y: &mut [f64; N], a: &[f64; N], b: &[f64; N]) {
    for q in 0..N {
        y[q] += a[q] * b[q];
    }
}

/// The per-edge factors alpha = phi[:V] o w[:V], beta = phi[V:] o w[V:] (and their tangents
/// alphadot = phidot[:V] o w[:V] + phi[:V] o wdot[:V], likewise beta) from the sender's phi row
/// halves `ph` (and tangents `pd`) and the pair's filter halves `w` (and `wd`).
#[inline(always)]
fn gates<const DUAL: bool, const V: usize>(
    ph: &[[f64; V]; 2],
    pd: &[[f64; V]; 2],
    w: &[[f64; V]; 2],
    wd: &[[f64; V]; 2],
) -> [[f64; V]; 4] {
    let (al, be) = (mul(&ph[0], &w[0]), mul(&ph[1], &w[1]));
    if !DUAL {
        return [al, be, [0.0; V], [0.0; V]];
    }
    let ald = std::array::from_fn(|q| pd[0][q] * w[0][q] + ph[0][q] * wd[0][q]);
    let bed = std::array::from_fn(|q| pd[1][q] * w[1][q] + ph[1][q] * wd[1][q]);
    [al, be, ald, bed]
}

/// The halves [:V] and [V:] of the m = 2V columns of `a` from `at`, or zeros where absent.
#[inline(always)]
fn halves<const V: usize>(a: Option<&[f64]>, at: usize) -> [[f64; V]; 2] {
    [load_or_zero(a, at), load_or_zero(a, at + V)]
}

/// [`super::kernels::vector_forward`] for V channels.
#[inline(always)]
pub(super) fn vector_forward<const DUAL: bool, const V: usize>(x: &Inputs<'_>, y: &mut [f64], yd: &mut [f64]) {
    let m = 2 * V;
    assert_eq!(x.m, m, "vector message: m = 2 V");
    for p in 0..x.pi.len() {
        let (i, j) = (x.pi[p], x.pj[p]);
        let w = halves::<V>(Some(x.w), p * m);
        let wd = if DUAL { halves::<V>(x.wd, p * m) } else { [[0.0; V]; 2] };
        let d: [f64; 3] = load(x.d, 3 * p);
        let dd: [f64; 3] = load_or_zero(x.dd, 3 * p);
        for (dst, src, sg) in [(i, j, 1.0), (j, i, -1.0)] {
            let at = src * x.cphi + x.c0;
            let ph = halves::<V>(Some(x.phi), at);
            let pd = if DUAL { halves::<V>(x.phid, at) } else { [[0.0; V]; 2] };
            let [al, be, ald, bed] = gates::<DUAL, V>(&ph, &pd, &w, &wd);
            for c in 0..3 {
                let (u, ud) = (sg * d[c], sg * dd[c]);
                let (r, sr) = (3 * dst + c, 3 * src + c);
                let vs = x.v.map(|v| load::<V>(v, sr * V));
                let yr = row::<V>(y, r * V);
                match &vs {
                    Some(vs) => {
                        for q in 0..V {
                            yr[q] += u * be[q] + vs[q] * al[q];
                        }
                    }
                    None => {
                        for q in 0..V {
                            yr[q] += u * be[q];
                        }
                    }
                }
                if DUAL {
                    let ydr = row::<V>(yd, r * V);
                    match &vs {
                        Some(vs) => {
                            let vds = load_or_zero::<V>(x.vd, sr * V);
                            for q in 0..V {
                                ydr[q] += (ud * be[q] + u * bed[q]) + (vds[q] * al[q] + vs[q] * ald[q]);
                            }
                        }
                        None => {
                            for q in 0..V {
                                ydr[q] += ud * be[q] + u * bed[q];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// [`super::kernels::vector_reverse`] for V channels.
#[inline(always)]
pub(super) fn vector_reverse<const DUAL: bool, const V: usize>(x: &Inputs<'_>, o: &mut Outputs<'_>) {
    let m = 2 * V;
    assert_eq!(x.m, m, "vector message: m = 2 V");
    for p in 0..x.pi.len() {
        let (i, j) = (x.pi[p], x.pj[p]);
        let w = halves::<V>(Some(x.w), p * m);
        let wd = if DUAL { halves::<V>(x.wd, p * m) } else { [[0.0; V]; 2] };
        let d: [f64; 3] = load(x.d, 3 * p);
        let dd: [f64; 3] = load_or_zero(x.dd, 3 * p);
        for (dst, src, sg) in [(i, j, 1.0), (j, i, -1.0)] {
            let at = src * x.cphi + x.c0;
            let ph = halves::<V>(Some(x.phi), at);
            let pd = if DUAL { halves::<V>(x.phid, at) } else { [[0.0; V]; 2] };
            let [al, be, ald, bed] = gates::<DUAL, V>(&ph, &pd, &w, &wd);
            // Adjoints of alpha and beta (both streams).
            let (mut alb, mut beb, mut aldb, mut bedb) = ([0.0; V], [0.0; V], [0.0; V], [0.0; V]);
            for c in 0..3 {
                let (u, ud) = (sg * d[c], sg * dd[c]);
                let (r, sr) = (3 * dst + c, 3 * src + c);
                let ybr = load_or_zero::<V>(o.yb, r * V);
                let tbr = if DUAL { load::<V>(o.tb, r * V) } else { [0.0; V] };
                // y += u beta: the adjoints of u (summed over q) and of beta.
                let mut su = [0.0; V];
                for q in 0..V {
                    su[q] = ybr[q] * be[q];
                    beb[q] += ybr[q] * u;
                    if DUAL {
                        su[q] += tbr[q] * bed[q];
                        beb[q] += tbr[q] * ud;
                        bedb[q] += tbr[q] * u;
                    }
                }
                o.db[3 * p + c] += sg * su.iter().sum::<f64>();
                // y += v_src alpha: the adjoints of alpha and of v_src.
                if let Some(v) = x.v {
                    let vs = load::<V>(v, sr * V);
                    let vb = row::<V>(o.vb.as_deref_mut().expect("v adjoint"), sr * V);
                    for q in 0..V {
                        alb[q] += ybr[q] * vs[q];
                        vb[q] += ybr[q] * al[q];
                    }
                    if DUAL {
                        let vds = load_or_zero::<V>(x.vd, sr * V);
                        for q in 0..V {
                            alb[q] += tbr[q] * vds[q];
                            aldb[q] += tbr[q] * vs[q];
                            vb[q] += tbr[q] * ald[q];
                        }
                        add_mul(row::<V>(o.vdb, sr * V), &tbr, &al);
                    }
                }
            }
            // alpha = phi[q] w[q], beta = phi[V + q] w[V + q].
            for (h, a, ad) in [(0, &alb, &aldb), (1, &beb, &bedb)] {
                let off = h * V;
                {
                    let pbo = row::<V>(o.phib, at + off);
                    add_mul(pbo, a, &w[h]);
                    if DUAL {
                        add_mul(pbo, ad, &wd[h]);
                    }
                }
                {
                    let wbo = row::<V>(o.wb, p * m + off);
                    add_mul(wbo, a, &ph[h]);
                    if DUAL {
                        add_mul(wbo, ad, &pd[h]);
                    }
                }
                if DUAL {
                    add_mul(row::<V>(o.phidb, at + off), ad, &w[h]);
                    add_mul(row::<V>(o.wdb, p * m + off), ad, &ph[h]);
                }
            }
        }
    }
}
