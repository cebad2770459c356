//! The per-pair loops of the fused message op ([`super::message`]): forward (with the tangent when
//! `DUAL`) and reverse (over the value stream, and over the tangent stream too when `DUAL`), on
//! flat row-major slices. Each pair p = (i, j) handles both of its directed edges at once, so the
//! filter row w_p is read once; rows are re-sliced to their exact length before the channel loops
//! so that the compiler drops the bounds checks and vectorises them.
//!
//! Absent tangents read as zero rows; absent tangent adjoints are not computed (`DUAL` = false).

#![allow(clippy::needless_range_loop)] // channel loops over several equal-length rows

use crate::model::simd::multiversion_generic;

multiversion_generic! {
    /// Scalar messages: Y_i += phi_j o w_p, Y_j += phi_i o w_p (and the tangent when `DUAL`).
    pub fn scalar_forward<const DUAL: bool>(x: &Inputs<'_>, y: &mut [f64], yd: &mut [f64]) => scalar_forward_body
}

multiversion_generic! {
    /// Vector messages: Y_dst,c += sigma D_pc beta + v_src,c o alpha over both edges of every
    /// pair. `NV` = the vector channels V if known at compile time (then the register-array form
    /// of [`super::kernels_fixed`] runs), or 0 for any V.
    pub fn vector_forward<const DUAL: bool, const NV: usize>(x: &Inputs<'_>, y: &mut [f64], yd: &mut [f64]) => vector_forward_body
}

multiversion_generic! {
    /// Reverse of [`scalar_forward`]: phibar, wbar (and phidotbar, wdotbar when `DUAL`).
    pub fn scalar_reverse<const DUAL: bool>(x: &Inputs<'_>, o: &mut Outputs<'_>) => scalar_reverse_body
}

multiversion_generic! {
    /// Reverse of [`vector_forward`]: phibar, wbar, vbar, Dbar (and phidotbar, wdotbar, vdotbar
    /// when `DUAL`). `NV` as in [`vector_forward`].
    pub fn vector_reverse<const DUAL: bool, const NV: usize>(x: &Inputs<'_>, o: &mut Outputs<'_>) => vector_reverse_body
}

/// Read-only inputs of one message op. Shapes: phi (N x cphi, columns c0..c0+m used), w (P x m),
/// v (3N x V, rows 3i + c), d (P x 3); the tangents have the shapes of their values.
pub struct Inputs<'a> {
    /// First particle of every pair.
    pub pi: &'a [usize],
    /// Second particle of every pair.
    pub pj: &'a [usize],
    /// Node features phi.
    pub phi: &'a [f64],
    /// Their tangent.
    pub phid: Option<&'a [f64]>,
    /// Columns of phi.
    pub cphi: usize,
    /// First used column of phi (and of the filter).
    pub c0: usize,
    /// Used columns m.
    pub m: usize,
    /// Filter values w = B Wm.
    pub w: &'a [f64],
    /// Their tangent.
    pub wd: Option<&'a [f64]>,
    /// Sender vector features (vector messages after the first layer).
    pub v: Option<&'a [f64]>,
    /// Their tangent.
    pub vd: Option<&'a [f64]>,
    /// Scaled pair separations (vector messages; empty for scalar ones).
    pub d: &'a [f64],
    /// Their tangent.
    pub dd: Option<&'a [f64]>,
}

impl<'a> Inputs<'a> {
    /// True if any input has a tangent.
    pub fn has_tangent(&self) -> bool {
        self.phid.is_some() || self.wd.is_some() || self.vd.is_some() || self.dd.is_some()
    }

    #[inline(always)]
    fn phi_row(&self, k: usize) -> &'a [f64] {
        &self.phi[k * self.cphi + self.c0..][..self.m]
    }

    #[inline(always)]
    fn phid_row(&self, k: usize, zero: &'a [f64]) -> &'a [f64] {
        self.phid.map_or(&zero[..self.m], |t| &t[k * self.cphi + self.c0..][..self.m])
    }
}

/// Output adjoints (read) and input adjoints (accumulated) of the reverse pass. Slices of the
/// tangent stream are empty unless `DUAL`.
pub struct Outputs<'a> {
    /// Ybar (None = zero).
    pub yb: Option<&'a [f64]>,
    /// Ydotbar.
    pub tb: &'a [f64],
    /// phibar (N x cphi).
    pub phib: &'a mut [f64],
    /// phidotbar.
    pub phidb: &'a mut [f64],
    /// wbar (P x m).
    pub wb: &'a mut [f64],
    /// wdotbar.
    pub wdb: &'a mut [f64],
    /// vbar (3N x V), if v is an input.
    pub vb: Option<&'a mut [f64]>,
    /// vdotbar.
    pub vdb: &'a mut [f64],
    /// Dbar (P x 3) of vector messages.
    pub db: &'a mut [f64],
}

/// Row `r` of length `len`, or zeros where the array is absent.
#[inline(always)]
fn opt_row<'a>(a: Option<&'a [f64]>, r: usize, len: usize, zero: &'a [f64]) -> &'a [f64] {
    a.map_or(&zero[..len], |a| &a[r * len..][..len])
}

/// Rows i and j (i != j) of a row-major array with `stride` columns, columns off..off+len.
#[inline(always)]
fn rows2(a: &mut [f64], i: usize, j: usize, stride: usize, off: usize, len: usize) -> (&mut [f64], &mut [f64]) {
    if i < j {
        let (lo, hi) = a.split_at_mut(j * stride);
        (&mut lo[i * stride + off..][..len], &mut hi[off..][..len])
    } else {
        let (lo, hi) = a.split_at_mut(i * stride);
        let (rj, ri) = (&mut lo[j * stride + off..][..len], &mut hi[off..][..len]);
        (ri, rj)
    }
}

#[inline(always)]
fn scalar_forward_body<const DUAL: bool>(x: &Inputs<'_>, y: &mut [f64], yd: &mut [f64]) {
    let m = x.m;
    let zero = vec![0.0; m];
    for p in 0..x.pi.len() {
        let (i, j) = (x.pi[p], x.pj[p]);
        let w = &x.w[p * m..][..m];
        let (phi_i, phi_j) = (x.phi_row(i), x.phi_row(j));
        let (yi, yj) = rows2(y, i, j, m, 0, m);
        for q in 0..m {
            yi[q] += phi_j[q] * w[q];
        }
        for q in 0..m {
            yj[q] += phi_i[q] * w[q];
        }
        if DUAL {
            let wd = opt_row(x.wd, p, m, &zero);
            let (pd_i, pd_j) = (x.phid_row(i, &zero), x.phid_row(j, &zero));
            let (ydi, ydj) = rows2(yd, i, j, m, 0, m);
            for q in 0..m {
                ydi[q] += pd_j[q] * w[q] + phi_j[q] * wd[q];
            }
            for q in 0..m {
                ydj[q] += pd_i[q] * w[q] + phi_i[q] * wd[q];
            }
        }
    }
}

/// Per-edge factors of the vector message (each V long): alpha_q = phi[q] w[q],
/// beta_q = phi[V + q] w[V + q], and their tangents.
struct Gates {
    al: Vec<f64>,
    be: Vec<f64>,
    ald: Vec<f64>,
    bed: Vec<f64>,
}

impl Gates {
    fn new(nv: usize) -> Self {
        let z = || vec![0.0; nv];
        Self { al: z(), be: z(), ald: z(), bed: z() }
    }

    /// The factors of the edge from `src` (phi row `ph`, tangent `pd`) over the pair's filter row.
    #[inline(always)]
    fn fill<const DUAL: bool>(&mut self, ph: &[f64], pd: &[f64], w: &[f64], wd: &[f64]) {
        let nv = self.al.len();
        let (al, be) = (&mut self.al[..nv], &mut self.be[..nv]);
        let (p0, p1, w0, w1) = (&ph[..nv], &ph[nv..2 * nv], &w[..nv], &w[nv..2 * nv]);
        for q in 0..nv {
            al[q] = p0[q] * w0[q];
            be[q] = p1[q] * w1[q];
        }
        if DUAL {
            let (ald, bed) = (&mut self.ald[..nv], &mut self.bed[..nv]);
            let (d0, d1, v0, v1) = (&pd[..nv], &pd[nv..2 * nv], &wd[..nv], &wd[nv..2 * nv]);
            for q in 0..nv {
                ald[q] = d0[q] * w0[q] + p0[q] * v0[q];
                bed[q] = d1[q] * w1[q] + p1[q] * v1[q];
            }
        }
    }
}

/// The slice form of the vector forward pass (any V).
#[inline(always)]
fn vector_forward_body<const DUAL: bool, const NV: usize>(x: &Inputs<'_>, y: &mut [f64], yd: &mut [f64]) {
    if NV > 0 {
        return super::kernels_fixed::vector_forward::<DUAL, NV>(x, y, yd);
    }
    let (m, nv) = (x.m, x.m / 2);
    assert_eq!(m, 2 * nv, "vector message: m = 2 V");
    let zero = vec![0.0; m.max(3)];
    let mut g = Gates::new(nv);
    for p in 0..x.pi.len() {
        let (i, j) = (x.pi[p], x.pj[p]);
        let w = &x.w[p * m..][..m];
        let wd = opt_row(x.wd, p, m, &zero);
        let (d, dd) = (&x.d[3 * p..][..3], opt_row(x.dd, p, 3, &zero));
        for (dst, src, sg) in [(i, j, 1.0), (j, i, -1.0)] {
            g.fill::<DUAL>(x.phi_row(src), x.phid_row(src, &zero), w, wd);
            let (al, be, ald, bed) = (&g.al[..nv], &g.be[..nv], &g.ald[..nv], &g.bed[..nv]);
            for c in 0..3 {
                let (u, ud) = (sg * d[c], sg * dd[c]);
                let (r, sr) = (3 * dst + c, 3 * src + c);
                let yr = &mut y[r * nv..][..nv];
                let vs = x.v.map(|v| &v[sr * nv..][..nv]);
                match vs {
                    Some(vs) => {
                        for q in 0..nv {
                            yr[q] += u * be[q] + vs[q] * al[q];
                        }
                    }
                    None => {
                        for q in 0..nv {
                            yr[q] += u * be[q];
                        }
                    }
                }
                if DUAL {
                    let ydr = &mut yd[r * nv..][..nv];
                    match vs {
                        Some(vs) => {
                            let vds = opt_row(x.vd, sr, nv, &zero);
                            for q in 0..nv {
                                ydr[q] += (ud * be[q] + u * bed[q]) + (vds[q] * al[q] + vs[q] * ald[q]);
                            }
                        }
                        None => {
                            for q in 0..nv {
                                ydr[q] += ud * be[q] + u * bed[q];
                            }
                        }
                    }
                }
            }
        }
    }
}

#[inline(always)]
fn scalar_reverse_body<const DUAL: bool>(x: &Inputs<'_>, o: &mut Outputs<'_>) {
    let m = x.m;
    let zero = vec![0.0; m];
    for p in 0..x.pi.len() {
        let (i, j) = (x.pi[p], x.pj[p]);
        let w = &x.w[p * m..][..m];
        let (phi_i, phi_j) = (x.phi_row(i), x.phi_row(j));
        let (yb_i, yb_j) = (opt_row(o.yb, i, m, &zero), opt_row(o.yb, j, m, &zero));
        let wb = &mut o.wb[p * m..][..m];
        let (pb_i, pb_j) = rows2(o.phib, i, j, x.cphi, x.c0, m);
        if !DUAL {
            for q in 0..m {
                pb_j[q] += yb_i[q] * w[q];
                pb_i[q] += yb_j[q] * w[q];
                wb[q] += yb_i[q] * phi_j[q] + yb_j[q] * phi_i[q];
            }
            continue;
        }
        let wd = opt_row(x.wd, p, m, &zero);
        let (pd_i, pd_j) = (x.phid_row(i, &zero), x.phid_row(j, &zero));
        let (tb_i, tb_j) = (&o.tb[i * m..][..m], &o.tb[j * m..][..m]);
        for q in 0..m {
            pb_j[q] += yb_i[q] * w[q] + tb_i[q] * wd[q];
            pb_i[q] += yb_j[q] * w[q] + tb_j[q] * wd[q];
            wb[q] += (yb_i[q] * phi_j[q] + tb_i[q] * pd_j[q]) + (yb_j[q] * phi_i[q] + tb_j[q] * pd_i[q]);
        }
        let wdb = &mut o.wdb[p * m..][..m];
        let (pdb_i, pdb_j) = rows2(o.phidb, i, j, x.cphi, x.c0, m);
        for q in 0..m {
            pdb_j[q] += tb_i[q] * w[q];
            pdb_i[q] += tb_j[q] * w[q];
            wdb[q] += tb_i[q] * phi_j[q] + tb_j[q] * phi_i[q];
        }
    }
}

/// The slice form of the vector reverse pass (any V). Product rule for y = a b over both
/// streams: abar = ybar b + ydotbar bdot, adotbar = ydotbar b.
#[inline(always)]
fn vector_reverse_body<const DUAL: bool, const NV: usize>(x: &Inputs<'_>, o: &mut Outputs<'_>) {
    if NV > 0 {
        return super::kernels_fixed::vector_reverse::<DUAL, NV>(x, o);
    }
    let (m, nv) = (x.m, x.m / 2);
    assert_eq!(m, 2 * nv, "vector message: m = 2 V");
    let zero = vec![0.0; m.max(3)];
    let mut g = Gates::new(nv);
    // Adjoints of alpha and beta (both streams), and the per-channel terms of the u adjoint.
    let mut gb = Gates::new(nv);
    let mut su = vec![0.0; nv];
    for p in 0..x.pi.len() {
        let (i, j) = (x.pi[p], x.pj[p]);
        let w = &x.w[p * m..][..m];
        let wd = opt_row(x.wd, p, m, &zero);
        let (d, dd) = (&x.d[3 * p..][..3], opt_row(x.dd, p, 3, &zero));
        for (dst, src, sg) in [(i, j, 1.0), (j, i, -1.0)] {
            let (ph, pd) = (x.phi_row(src), x.phid_row(src, &zero));
            g.fill::<DUAL>(ph, pd, w, wd);
            let (al, be, ald, bed) = (&g.al[..nv], &g.be[..nv], &g.ald[..nv], &g.bed[..nv]);
            let (alb, beb, aldb, bedb) = (&mut gb.al[..nv], &mut gb.be[..nv], &mut gb.ald[..nv], &mut gb.bed[..nv]);
            alb.fill(0.0);
            beb.fill(0.0);
            aldb.fill(0.0);
            bedb.fill(0.0);
            let su = &mut su[..nv];
            for c in 0..3 {
                let (u, ud) = (sg * d[c], sg * dd[c]);
                let (r, sr) = (3 * dst + c, 3 * src + c);
                let ybr = opt_row(o.yb, r, nv, &zero);
                let tbr = if DUAL { &o.tb[r * nv..][..nv] } else { &zero[..nv] };
                // y += u beta: the adjoints of u (summed over q) and of beta.
                for q in 0..nv {
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
                    let vs = &v[sr * nv..][..nv];
                    let vb = &mut o.vb.as_deref_mut().expect("v adjoint")[sr * nv..][..nv];
                    for q in 0..nv {
                        alb[q] += ybr[q] * vs[q];
                        vb[q] += ybr[q] * al[q];
                    }
                    if DUAL {
                        let vds = opt_row(x.vd, sr, nv, &zero);
                        let vdb = &mut o.vdb[sr * nv..][..nv];
                        for q in 0..nv {
                            alb[q] += tbr[q] * vds[q];
                            aldb[q] += tbr[q] * vs[q];
                            vb[q] += tbr[q] * ald[q];
                            vdb[q] += tbr[q] * al[q];
                        }
                    }
                }
            }
            // alpha = phi[q] w[q], beta = phi[V + q] w[V + q].
            let pb = &mut o.phib[src * x.cphi + x.c0..][..m];
            let wb = &mut o.wb[p * m..][..m];
            for (off, a, ad) in [(0, &*alb, &*aldb), (nv, &*beb, &*bedb)] {
                let (pbo, wbo, wo, pho) =
                    (&mut pb[off..off + nv], &mut wb[off..off + nv], &w[off..off + nv], &ph[off..off + nv]);
                for q in 0..nv {
                    pbo[q] += a[q] * wo[q];
                    wbo[q] += a[q] * pho[q];
                }
                if DUAL {
                    let (wdo, pdo) = (&wd[off..off + nv], &pd[off..off + nv]);
                    for q in 0..nv {
                        pbo[q] += ad[q] * wdo[q];
                        wbo[q] += ad[q] * pdo[q];
                    }
                    let pdb = &mut o.phidb[src * x.cphi + x.c0 + off..][..nv];
                    let wdb = &mut o.wdb[p * m + off..][..nv];
                    for q in 0..nv {
                        pdb[q] += ad[q] * wo[q];
                        wdb[q] += ad[q] * pho[q];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "kernels_tests.rs"]
mod tests;
