//! The per-pair loops of the fused message op ([`super::message`]): forward (with the tangent when
//! `DUAL`) and reverse (over the value stream, and over the tangent stream too when `DUAL`), on
//! flat row-major slices. Each pair p = (i, j) handles both of its directed edges at once, so the
//! filter row w_p is read once; rows are re-sliced to their exact length before the channel loops
//! so that the compiler drops the bounds checks and vectorises them.
//!
//! Absent tangents read as zero rows; absent tangent adjoints are not computed (`DUAL` = false).

#![allow(clippy::needless_range_loop)] // channel loops over several equal-length rows

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

/// Scalar messages: Y_i += phi_j o w_p, Y_j += phi_i o w_p (and the tangent when `DUAL`).
pub fn scalar_forward<const DUAL: bool>(x: &Inputs<'_>, y: &mut [f64], yd: &mut [f64]) {
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

/// Per-edge tiles of the vector message, each 3V long (index c V + q): alpha_q, beta_q, the edge's
/// signed separation component u_c, and their tangents.
struct Tiles {
    al: Vec<f64>,
    be: Vec<f64>,
    u: Vec<f64>,
    ald: Vec<f64>,
    bed: Vec<f64>,
    ud: Vec<f64>,
}

impl Tiles {
    fn new(nv: usize) -> Self {
        let z = || vec![0.0; 3 * nv];
        Self { al: z(), be: z(), u: z(), ald: z(), bed: z(), ud: z() }
    }

    /// alpha = phi[q] w[q], beta = phi[V + q] w[V + q], u = sg d; tangents when `DUAL`.
    #[allow(clippy::too_many_arguments)] // the edge's rows, each a formula input
    #[inline(always)]
    fn fill<const DUAL: bool>(
        &mut self,
        ph: &[f64],
        pd: &[f64],
        w: &[f64],
        wd: &[f64],
        d: &[f64],
        dd: &[f64],
        sg: f64,
    ) {
        let nv = ph.len() / 2;
        for c in 0..3 {
            let o = c * nv;
            for q in 0..nv {
                self.al[o + q] = ph[q] * w[q];
                self.be[o + q] = ph[nv + q] * w[nv + q];
                self.u[o + q] = sg * d[c];
                if DUAL {
                    self.ald[o + q] = pd[q] * w[q] + ph[q] * wd[q];
                    self.bed[o + q] = pd[nv + q] * w[nv + q] + ph[nv + q] * wd[nv + q];
                    self.ud[o + q] = sg * dd[c];
                }
            }
        }
    }
}

/// Vector messages: Y_dst,c += sigma D_pc beta + v_src,c o alpha over both edges of every pair.
pub fn vector_forward<const DUAL: bool>(x: &Inputs<'_>, y: &mut [f64], yd: &mut [f64]) {
    let (m, nv) = (x.m, x.m / 2);
    let b3 = 3 * nv;
    let zero = vec![0.0; m.max(b3)];
    let mut t = Tiles::new(nv);
    for p in 0..x.pi.len() {
        let (i, j) = (x.pi[p], x.pj[p]);
        let w = &x.w[p * m..][..m];
        let wd = opt_row(x.wd, p, m, &zero);
        let (d, dd) = (&x.d[3 * p..][..3], opt_row(x.dd, p, 3, &zero));
        for (dst, src, sg) in [(i, j, 1.0), (j, i, -1.0)] {
            let ph = x.phi_row(src);
            t.fill::<DUAL>(ph, x.phid_row(src, &zero), w, wd, d, dd, sg);
            let (al, be, u) = (&t.al[..b3], &t.be[..b3], &t.u[..b3]);
            let yr = &mut y[dst * b3..][..b3];
            match x.v {
                Some(v) => {
                    let vs = &v[src * b3..][..b3];
                    for r in 0..b3 {
                        yr[r] += u[r] * be[r] + vs[r] * al[r];
                    }
                }
                None => {
                    for r in 0..b3 {
                        yr[r] += u[r] * be[r];
                    }
                }
            }
            if DUAL {
                let (ald, bed, ud) = (&t.ald[..b3], &t.bed[..b3], &t.ud[..b3]);
                let ydr = &mut yd[dst * b3..][..b3];
                match x.v {
                    Some(v) => {
                        let (vs, vds) = (&v[src * b3..][..b3], opt_row(x.vd, src, b3, &zero));
                        for r in 0..b3 {
                            ydr[r] += (ud[r] * be[r] + u[r] * bed[r]) + (vds[r] * al[r] + vs[r] * ald[r]);
                        }
                    }
                    None => {
                        for r in 0..b3 {
                            ydr[r] += ud[r] * be[r] + u[r] * bed[r];
                        }
                    }
                }
            }
        }
    }
}

/// Reverse of [`scalar_forward`]: phibar, wbar (and phidotbar, wdotbar when `DUAL`).
pub fn scalar_reverse<const DUAL: bool>(x: &Inputs<'_>, o: &mut Outputs<'_>) {
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

/// Reverse of [`vector_forward`]: phibar, wbar, vbar, Dbar (and phidotbar, wdotbar, vdotbar when
/// `DUAL`). Product rule for y = a b over both streams: abar = ybar b + ydotbar bdot,
/// adotbar = ydotbar b.
pub fn vector_reverse<const DUAL: bool>(x: &Inputs<'_>, o: &mut Outputs<'_>) {
    let (m, nv) = (x.m, x.m / 2);
    let b3 = 3 * nv;
    let zero = vec![0.0; m.max(b3)];
    let mut t = Tiles::new(nv);
    // Per-edge products before their reduction over c (u adjoint) or over q (alpha, beta adjoints).
    let mut s = Tiles::new(nv);
    let (mut alb, mut beb, mut aldb, mut bedb) = (vec![0.0; nv], vec![0.0; nv], vec![0.0; nv], vec![0.0; nv]);
    for p in 0..x.pi.len() {
        let (i, j) = (x.pi[p], x.pj[p]);
        let w = &x.w[p * m..][..m];
        let wd = opt_row(x.wd, p, m, &zero);
        let (d, dd) = (&x.d[3 * p..][..3], opt_row(x.dd, p, 3, &zero));
        for (dst, src, sg) in [(i, j, 1.0), (j, i, -1.0)] {
            let (ph, pd) = (x.phi_row(src), x.phid_row(src, &zero));
            t.fill::<DUAL>(ph, pd, w, wd, d, dd, sg);
            let (al, be, u) = (&t.al[..b3], &t.be[..b3], &t.u[..b3]);
            let (ald, bed, ud) = (&t.ald[..b3], &t.bed[..b3], &t.ud[..b3]);
            let ybr = opt_row(o.yb, dst, b3, &zero);
            let tbr = if DUAL { &o.tb[dst * b3..][..b3] } else { &zero[..b3] };
            // y += u beta: s.u -> adjoint of u (summed over q), s.be, s.bed -> of beta (over c).
            let (su, sbe, sbed) = (&mut s.u[..b3], &mut s.be[..b3], &mut s.bed[..b3]);
            for r in 0..b3 {
                su[r] = ybr[r] * be[r];
                sbe[r] = ybr[r] * u[r];
                if DUAL {
                    su[r] += tbr[r] * bed[r];
                    sbe[r] += tbr[r] * ud[r];
                    sbed[r] = tbr[r] * u[r];
                }
            }
            // y += v_src alpha: s.al, s.ald -> adjoints of alpha (over c); vbar directly.
            if let Some(v) = x.v {
                let vs = &v[src * b3..][..b3];
                let (sal, sald) = (&mut s.al[..b3], &mut s.ald[..b3]);
                let vb = &mut o.vb.as_deref_mut().expect("v adjoint")[src * b3..][..b3];
                for r in 0..b3 {
                    sal[r] = ybr[r] * vs[r];
                    vb[r] += ybr[r] * al[r];
                }
                if DUAL {
                    let vds = opt_row(x.vd, src, b3, &zero);
                    let vdb = &mut o.vdb[src * b3..][..b3];
                    for r in 0..b3 {
                        sal[r] += tbr[r] * vds[r];
                        sald[r] = tbr[r] * vs[r];
                        vb[r] += tbr[r] * ald[r];
                        vdb[r] += tbr[r] * al[r];
                    }
                }
            }
            for c in 0..3 {
                o.db[3 * p + c] += sg * s.u[c * nv..(c + 1) * nv].iter().sum::<f64>();
            }
            for q in 0..nv {
                let sum3 = |a: &[f64]| a[q] + a[nv + q] + a[2 * nv + q];
                beb[q] = sum3(&s.be);
                alb[q] = if x.v.is_some() { sum3(&s.al) } else { 0.0 };
                if DUAL {
                    bedb[q] = sum3(&s.bed);
                    aldb[q] = if x.v.is_some() { sum3(&s.ald) } else { 0.0 };
                }
            }
            // alpha = phi[q] w[q], beta = phi[V + q] w[V + q].
            let pb = &mut o.phib[src * x.cphi + x.c0..][..m];
            let wb = &mut o.wb[p * m..][..m];
            for (off, gb, gdb) in [(0, &alb, &aldb), (nv, &beb, &bedb)] {
                for q in 0..nv {
                    pb[off + q] += gb[q] * w[off + q];
                    wb[off + q] += gb[q] * ph[off + q];
                    if DUAL {
                        pb[off + q] += gdb[q] * wd[off + q];
                        wb[off + q] += gdb[q] * pd[off + q];
                    }
                }
                if DUAL {
                    let pdb = &mut o.phidb[src * x.cphi + x.c0..][..m];
                    let wdb = &mut o.wdb[p * m..][..m];
                    for q in 0..nv {
                        pdb[off + q] += gdb[q] * w[off + q];
                        wdb[off + q] += gdb[q] * ph[off + q];
                    }
                }
            }
        }
    }
}
