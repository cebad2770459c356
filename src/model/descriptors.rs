//! Invariant per-particle descriptors (Behler-Parrinello / ACE-like) with exact, hand-written
//! first derivatives (DESIGN.md sec. 6).
//!
//! Units: lengths (`r_min`, `r_cut`, positions) in sigma; every descriptor is dimensionless.
//!
//! # Definitions
//!
//! Smooth cutoff (C^2 at r_c: f_c, f_c' and f_c'' all vanish there):
//!
//! ```text
//! f_c(r) = (1 - (r/r_c)^2)^3   for r < r_c,   0 otherwise
//! ```
//!
//! Radial basis of K >= 2 Gaussians with centres mu_k = r_min + k w evenly spaced in
//! [r_min, r_c] and common width w = (r_c - r_min)/(K - 1):
//!
//! ```text
//! e_k(r) = exp(-((r - mu_k)/w)^2),      w_k(r) = e_k(r) f_c(r),      k = 0..K-1
//! ```
//!
//! For particle i and its neighbours j != i within r_c, with the minimum-image vector
//! r_ij = x_j - x_i, r = |r_ij| and rhat = r_ij / r:
//!
//! ```text
//! A_ik = sum_j w_k(r)                                     radial density
//! B_ik = |V_ik|^2,     V_ik = sum_j w_k(r) rhat           vector (dipole) moment
//! C_ik = ||Q_ik||_F^2, Q_ik = sum_j w_k(r) (rhat rhat^T - I/3)   traceless quadrupole moment
//! ```
//!
//! The feature row of particle i is `[A_i0..A_i(K-1), B_i0..B_i(K-1), C_i0..C_i(K-1)]`
//! (3K features); the matrix G has shape (N, 3K), row-major. A and the squared norms of the
//! moments are invariant under rotations, translations and permutations of the neighbours;
//! B and C carry the 3-body (angular) information, since |V|^2 = sum_jl w_j w_l cos(theta_jl)
//! and ||Q||^2 = sum_jl w_j w_l (cos^2(theta_jl) - 1/3).
//!
//! References: J. Behler and M. Parrinello, Phys. Rev. Lett. 98, 146401 (2007) (atom-centred
//! symmetry functions with a smooth cutoff); R. Drautz, Phys. Rev. B 99, 014104 (2019)
//! (atomic cluster expansion: invariants as contractions of per-atom moment tensors).
//!
//! # Derivatives
//!
//! With phi_k = w_k / r (so V = sum phi r_ij) and psi_k = w_k / r^2
//! (so Q = sum psi r_ij r_ij^T - (w_k/3) I), both the vector-Jacobian product (VJP, for
//! forces/scores) and the Jacobian-vector product (JVP, for the directional derivative used by
//! the reverse-over-forward score-matching gradient) are sums over the stored neighbour pairs;
//! see [`Descriptors::vjp`] and [`Descriptors::jvp`].
//!
//! # Notes
//!
//! * rhat is singular at r = 0, so the first derivatives of B and C grow like w_k(r)/r for
//!   very close pairs. Coincident particles (r_ij = 0 exactly) contribute w_k(0) to A only
//!   (their direction is undefined) and nothing to the VJP/JVP (not differentiable there).
//! * Pairs are found with a [`CellList`] of range r_c, each unordered pair once; its
//!   contributions go to both particles (V changes sign, A and Q do not).

use crate::system::{CellList, Positions, SimBox};

/// Hyper-parameters of the descriptors: K radial channels on [r_min, r_cut] (sigma).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DescriptorSpec {
    /// Number K >= 2 of Gaussian radial channels.
    pub n_radial: usize,
    /// Centre of the first Gaussian, 0 <= r_min < r_cut (sigma).
    pub r_min: f64,
    /// Cutoff radius r_c (sigma); must satisfy r_c <= L/2 for the box used.
    pub r_cut: f64,
}

impl DescriptorSpec {
    /// Number of features per particle, 3K.
    pub fn n_features(&self) -> usize {
        3 * self.n_radial
    }

    /// Gaussian width w = (r_c - r_min)/(K - 1) (sigma).
    pub fn width(&self) -> f64 {
        (self.r_cut - self.r_min) / (self.n_radial as f64 - 1.0)
    }

    /// Centre mu_k = r_min + k w of channel k (sigma).
    pub fn centre(&self, k: usize) -> f64 {
        self.r_min + k as f64 * self.width()
    }

    /// Checks K >= 2, 0 <= r_min < r_cut (finite) and r_cut <= L/2 for `simbox`.
    pub fn validate(&self, simbox: &SimBox) -> anyhow::Result<()> {
        anyhow::ensure!(self.n_radial >= 2, "descriptors need n_radial >= 2 (got {})", self.n_radial);
        anyhow::ensure!(
            self.r_min.is_finite() && self.r_cut.is_finite() && 0.0 <= self.r_min && self.r_min < self.r_cut,
            "descriptors need 0 <= r_min < r_cut (got r_min = {}, r_cut = {})",
            self.r_min,
            self.r_cut
        );
        anyhow::ensure!(
            self.r_cut <= 0.5 * simbox.side(),
            "descriptor cutoff r_cut = {} exceeds half the box side L/2 = {}",
            self.r_cut,
            0.5 * simbox.side()
        );
        Ok(())
    }

    /// Descriptors G (shape (N, 3K)) of the configuration `x` (N positions, sigma; need not be
    /// wrapped) in `simbox`, together with what their derivatives need.
    ///
    /// # Panics
    /// If the spec is invalid for this box ([`DescriptorSpec::validate`]), in particular if
    /// r_cut > L/2 (the minimum image would then not be the only image within r_cut).
    pub fn compute(&self, x: &Positions, simbox: &SimBox) -> Descriptors {
        let mut out = Descriptors::default();
        self.compute_into(x, simbox, &mut out);
        out
    }

    /// As [`DescriptorSpec::compute`], but overwrites `out` and reuses its buffers: in loops over
    /// many configurations this avoids fresh large allocations (and their page faults, which
    /// cost about a third of `compute` at N = 200).
    ///
    /// # Panics
    /// As [`DescriptorSpec::compute`].
    pub fn compute_into(&self, x: &Positions, simbox: &SimBox, out: &mut Descriptors) {
        if let Err(e) = self.validate(simbox) {
            panic!("{e}");
        }
        let n = x.len();
        let k_n = self.n_radial;
        let rc2 = self.r_cut * self.r_cut;
        let zeroed = |v: &mut Vec<f64>, len: usize| {
            v.clear();
            v.resize(len, 0.0);
            std::mem::take(v)
        };

        // Unordered neighbour pairs (i < j) within r_cut, found on wrapped positions.
        let xw: Positions = x.iter().map(|p| simbox.wrap(p)).collect();
        let cells = CellList::new(*simbox, self.r_cut, &xw);
        let mut pairs = std::mem::take(&mut out.pairs);
        pairs.clear();
        {
            let mut visit = |i: usize, j: usize| {
                let d = simbox.delta_near(&xw[j], &xw[i]);
                let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                if r2 < rc2 {
                    let r = r2.sqrt();
                    let inv_r = if r > 0.0 { 1.0 / r } else { 0.0 };
                    pairs.push(Pair { i: i as u32, j: j as u32, d, r, inv_r });
                }
            };
            for (i, xi) in xw.iter().enumerate() {
                if cells.is_brute_force() {
                    for j in i + 1..n {
                        visit(i, j);
                    }
                } else {
                    cells.for_each_candidate(xi, |j| {
                        if j > i {
                            visit(i, j)
                        }
                    });
                }
            }
        }

        // Per-pair radial weights w_k and their derivatives w_k'.
        let basis = Basis::new(self);
        let mut w = zeroed(&mut out.w, pairs.len() * k_n);
        let mut dw = zeroed(&mut out.dw, pairs.len() * k_n);
        for (p, pair) in pairs.iter().enumerate() {
            basis.eval(pair.r, &mut w[p * k_n..(p + 1) * k_n], &mut dw[p * k_n..(p + 1) * k_n]);
        }

        // Moments: A (into values), V and Q (kept for the derivatives).
        let nf = 3 * k_n;
        let mut values = zeroed(&mut out.values, n * nf);
        let mut v = std::mem::take(&mut out.v);
        v.clear();
        v.resize(n * k_n, [0.0; 3]);
        let mut q = std::mem::take(&mut out.q);
        q.clear();
        q.resize(n * k_n, [0.0; 6]);
        for (p, pair) in pairs.iter().enumerate() {
            let (i, j) = (pair.i as usize, pair.j as usize);
            let d = pair.d;
            let dd = sym_outer(&d, &d);
            // Coincident particles (inv_r = 0) have no direction and contribute to A only:
            // phi = psi = 0 follow from inv_r = 0, and the isotropic part of Q is switched off.
            let iso = if pair.inv_r > 0.0 { 1.0 / 3.0 } else { 0.0 };
            for k in 0..k_n {
                let wk = w[p * k_n + k];
                values[i * nf + k] += wk;
                values[j * nf + k] += wk;
                let phi = wk * pair.inv_r;
                let psi = phi * pair.inv_r;
                let vi = &mut v[i * k_n + k];
                for a in 0..3 {
                    vi[a] += phi * d[a];
                }
                let vj = &mut v[j * k_n + k];
                for a in 0..3 {
                    vj[a] -= phi * d[a];
                }
                // psi r r^T - (w/3) I, the same for i and j (even in r_ij).
                let third = wk * iso;
                let dq = [
                    psi * dd[0] - third,
                    psi * dd[1] - third,
                    psi * dd[2] - third,
                    psi * dd[3],
                    psi * dd[4],
                    psi * dd[5],
                ];
                for (qi, dqa) in q[i * k_n + k].iter_mut().zip(&dq) {
                    *qi += dqa;
                }
                for (qj, dqa) in q[j * k_n + k].iter_mut().zip(&dq) {
                    *qj += dqa;
                }
            }
        }
        for i in 0..n {
            for k in 0..k_n {
                let vk = &v[i * k_n + k];
                values[i * nf + k_n + k] = dot3(vk, vk);
                let qk = &q[i * k_n + k];
                values[i * nf + 2 * k_n + k] = sym_frob(qk, qk);
            }
        }
        *out = Descriptors { n, n_radial: k_n, pairs, w, dw, v, q, values };
    }
}

/// One unordered neighbour pair i < j with r_ij = x_j - x_i (minimum image), r = |r_ij|.
#[derive(Clone, Copy, Debug)]
struct Pair {
    i: u32,
    j: u32,
    d: [f64; 3],
    r: f64,
    /// 1/r, or 0 for coincident particles.
    inv_r: f64,
}

/// Descriptors G of one configuration, with the neighbour pairs, radial weights and moments
/// V_ik, Q_ik that the derivatives need. `Default` is the empty set (N = 0), a buffer for
/// [`DescriptorSpec::compute_into`].
#[derive(Clone, Debug, Default)]
pub struct Descriptors {
    n: usize,
    n_radial: usize,
    pairs: Vec<Pair>,
    /// w_k(r) per pair, shape (n_pairs, K).
    w: Vec<f64>,
    /// dw_k/dr per pair, shape (n_pairs, K).
    dw: Vec<f64>,
    /// V_ik, shape (N, K) of 3-vectors.
    v: Vec<[f64; 3]>,
    /// Q_ik as symmetric [xx, yy, zz, xy, xz, yz], shape (N, K).
    q: Vec<[f64; 6]>,
    /// G, shape (N, 3K), row-major: row i = [A_i., B_i., C_i.] (dimensionless).
    pub values: Vec<f64>,
}

impl Descriptors {
    /// G, shape (N, 3K), row-major: row i = [A_i0..A_i(K-1), B_i0.., C_i0..].
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Number of particles N.
    pub fn n_particles(&self) -> usize {
        self.n
    }

    /// Number of features per particle, 3K.
    pub fn n_features(&self) -> usize {
        3 * self.n_radial
    }

    /// Number of unordered neighbour pairs {i, j} with r_ij < r_cut (each counted once).
    pub fn n_pairs(&self) -> usize {
        self.pairs.len()
    }

    /// The neighbour pairs i < j within r_cut as (i, j, r_ij = x_j - x_i, r, 1/r) (1/r = 0 for
    /// coincident particles), in the order the derivatives use.
    pub fn pair_list(&self) -> impl Iterator<Item = (usize, usize, [f64; 3], f64, f64)> + '_ {
        self.pairs.iter().map(|p| (p.i as usize, p.j as usize, p.d, p.r, p.inv_r))
    }

    /// Vector-Jacobian product: given gbar = dE/dG, shape (N, 3K) row-major, returns
    /// dE/dx = `sum_{i,f} gbar[i,f] dG[i,f]/dx`, shape (N, 3) (units 1/sigma per unit of E).
    ///
    /// Per pair and channel, with u = 2 gbar_B V (u_ij = u_i - u_j since V_j gets -phi r_ij),
    /// U = 2 gbar_C Q (U_i + U_j) and a = gbar_A (a_i + a_j), the gradient with respect to
    /// r_ij is
    ///
    /// ```text
    /// a w_k' rhat + phi u + phi' (u . r_ij) rhat + psi' (r_ij^T U r_ij) rhat + 2 psi U r_ij
    /// ```
    ///
    /// (the term -(w_k'/3) tr(U) rhat vanishes because Q, hence U, is traceless); it is added to
    /// x_j and subtracted from x_i.
    pub fn vjp(&self, gbar: &[f64]) -> Vec<[f64; 3]> {
        let k_n = self.n_radial;
        let nf = 3 * k_n;
        assert_eq!(gbar.len(), self.n * nf, "gbar must have shape (N, 3K)");
        // Per-particle adjoints of the moments: u_ik = 2 gbar_B,ik V_ik, U_ik = 2 gbar_C,ik Q_ik.
        let mut u = vec![[0.0; 3]; self.n * k_n];
        let mut uq = vec![[0.0; 6]; self.n * k_n];
        for i in 0..self.n {
            for k in 0..k_n {
                let gb = 2.0 * gbar[i * nf + k_n + k];
                let gc = 2.0 * gbar[i * nf + 2 * k_n + k];
                let (vk, qk) = (&self.v[i * k_n + k], &self.q[i * k_n + k]);
                u[i * k_n + k] = [gb * vk[0], gb * vk[1], gb * vk[2]];
                uq[i * k_n + k] = [gc * qk[0], gc * qk[1], gc * qk[2], gc * qk[3], gc * qk[4], gc * qk[5]];
            }
        }
        let mut grad = vec![[0.0; 3]; self.n];
        for (p, pair) in self.pairs.iter().enumerate() {
            let (i, j) = (pair.i as usize, pair.j as usize);
            let (d, ir) = (pair.d, pair.inv_r);
            // For coincident particles inv_r = 0 makes rhat, phi, psi and their derivatives vanish.
            let mut radial = 0.0; // coefficient of rhat, summed over channels
            let mut g = [0.0; 3];
            for k in 0..k_n {
                let (wk, dwk) = (self.w[p * k_n + k], self.dw[p * k_n + k]);
                let a = gbar[i * nf + k] + gbar[j * nf + k];
                let phi = wk * ir;
                let dphi = (dwk - phi) * ir;
                let psi = phi * ir;
                let dpsi = (dwk * ir - 2.0 * psi) * ir;
                let (ui, uj) = (&u[i * k_n + k], &u[j * k_n + k]);
                let uu = [ui[0] - uj[0], ui[1] - uj[1], ui[2] - uj[2]];
                let (qi, qj) = (&uq[i * k_n + k], &uq[j * k_n + k]);
                let mut qq = [0.0; 6];
                for c in 0..6 {
                    qq[c] = qi[c] + qj[c];
                }
                let qd = sym_mul(&qq, &d);
                radial += a * dwk + dphi * dot3(&uu, &d) + dpsi * dot3(&d, &qd);
                for c in 0..3 {
                    g[c] += phi * uu[c] + 2.0 * psi * qd[c];
                }
            }
            for c in 0..3 {
                g[c] += radial * ir * d[c];
            }
            for c in 0..3 {
                grad[j][c] += g[c];
                grad[i][c] -= g[c];
            }
        }
        grad
    }

    /// Jacobian-vector product: the directional derivative dG/dx . dx for a displacement field
    /// dx of shape (N, 3) (sigma); returns shape (N, 3K), row-major like G (per sigma of dx).
    ///
    /// Per pair, with dr = dx_j - dx_i and s = rhat . dr:
    ///
    /// ```text
    /// A' += w_k' s
    /// V' += phi dr + phi' s r_ij                      (with the opposite sign for particle j)
    /// Q' += psi' s r_ij r_ij^T + psi (dr r_ij^T + r_ij dr^T) - (w_k'/3) s I
    /// B' = 2 V . V',   C' = 2 <Q, Q'>_F
    /// ```
    ///
    /// (the isotropic term of Q' is dropped because <Q, I> = tr Q = 0).
    pub fn jvp(&self, dx: &[[f64; 3]]) -> Vec<f64> {
        let k_n = self.n_radial;
        let nf = 3 * k_n;
        assert_eq!(dx.len(), self.n, "dx must have shape (N, 3)");
        let mut out = vec![0.0; self.n * nf];
        let mut dv = vec![[0.0; 3]; self.n * k_n];
        let mut dq = vec![[0.0; 6]; self.n * k_n];
        for (p, pair) in self.pairs.iter().enumerate() {
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
            for k in 0..k_n {
                let (wk, dwk) = (self.w[p * k_n + k], self.dw[p * k_n + k]);
                let da = dwk * s;
                out[i * nf + k] += da;
                out[j * nf + k] += da;
                // For coincident particles inv_r = 0 makes s, phi, psi and their derivatives vanish.
                let phi = wk * ir;
                let dphi = (dwk - phi) * ir;
                let psi = phi * ir;
                let dpsi = (dwk * ir - 2.0 * psi) * ir;
                let t = dphi * s;
                let dva = [phi * dr[0] + t * d[0], phi * dr[1] + t * d[1], phi * dr[2] + t * d[2]];
                let vi = &mut dv[i * k_n + k];
                for c in 0..3 {
                    vi[c] += dva[c];
                }
                let vj = &mut dv[j * k_n + k];
                for c in 0..3 {
                    vj[c] -= dva[c];
                }
                let ts = dpsi * s;
                let mut dqa = [0.0; 6];
                for c in 0..6 {
                    dqa[c] = ts * dd[c] + psi * sym[c];
                }
                for (qi, x) in dq[i * k_n + k].iter_mut().zip(&dqa) {
                    *qi += x;
                }
                for (qj, x) in dq[j * k_n + k].iter_mut().zip(&dqa) {
                    *qj += x;
                }
            }
        }
        for i in 0..self.n {
            for k in 0..k_n {
                let ik = i * k_n + k;
                out[i * nf + k_n + k] = 2.0 * dot3(&self.v[ik], &dv[ik]);
                out[i * nf + 2 * k_n + k] = 2.0 * sym_frob(&self.q[ik], &dq[ik]);
            }
        }
        out
    }
}

/// The radial basis w_k(r) = e_k(r) f_c(r) and its derivative.
struct Basis {
    k_n: usize,
    r_min: f64,
    inv_w: f64,
    inv_rc2: f64,
}

/// exp(-2), the ratio between successive Gaussian recurrence factors.
const EXP_M2: f64 = 0.1353352832366127;

impl Basis {
    fn new(spec: &DescriptorSpec) -> Self {
        Self {
            k_n: spec.n_radial,
            r_min: spec.r_min,
            inv_w: 1.0 / spec.width(),
            inv_rc2: 1.0 / (spec.r_cut * spec.r_cut),
        }
    }

    /// Fills w[k] = w_k(r) and dw[k] = w_k'(r) for 0 <= r < r_c.
    ///
    /// With t = (r - r_min)/w, e_k = exp(-(t - k)^2); starting from the channel k0 nearest t,
    /// e_{k+1} = e_k exp(2(t - k) - 1) and e_{k-1} = e_k exp(-2(t - k) - 1), whose factors change
    /// by exp(-2) per step. Two exponentials per pair instead of K, and no spurious underflow
    /// (every e_k is reached from a value near 1 through decreasing terms).
    #[inline]
    fn eval(&self, r: f64, w: &mut [f64], dw: &mut [f64]) {
        let (fc, dfc) = cutoff(r, self.inv_rc2);
        let k_n = self.k_n;
        let t = (r - self.r_min) * self.inv_w;
        let k0 = t.round().clamp(0.0, (k_n - 1) as f64) as usize;
        let d0 = t - k0 as f64;
        // w holds e_k for now.
        w[k0] = (-d0 * d0).exp();
        let up = (2.0 * d0 - 1.0).exp();
        let mut f = up;
        for k in k0..k_n - 1 {
            w[k + 1] = w[k] * f;
            f *= EXP_M2;
        }
        let mut f = EXP_M2 / up; // exp(-2 d0 - 1)
        for k in (1..=k0).rev() {
            w[k - 1] = w[k] * f;
            f *= EXP_M2;
        }
        for k in 0..k_n {
            let e = w[k];
            let de = -2.0 * (t - k as f64) * self.inv_w * e;
            w[k] = e * fc;
            dw[k] = de * fc + e * dfc;
        }
    }
}

/// Smooth cutoff f_c(r) = (1 - r^2/r_c^2)^3 for r < r_c (0 beyond) and its derivative.
#[inline]
fn cutoff(r: f64, inv_rc2: f64) -> (f64, f64) {
    let om = 1.0 - r * r * inv_rc2;
    if om <= 0.0 {
        return (0.0, 0.0);
    }
    (om * om * om, -6.0 * r * om * om * inv_rc2)
}

#[inline(always)]
fn dot3(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// a b^T for a = b, as [xx, yy, zz, xy, xz, yz] (only used with a == b, hence symmetric).
#[inline(always)]
fn sym_outer(a: &[f64; 3], b: &[f64; 3]) -> [f64; 6] {
    [a[0] * b[0], a[1] * b[1], a[2] * b[2], a[0] * b[1], a[0] * b[2], a[1] * b[2]]
}

/// Frobenius inner product of two symmetric matrices stored as [xx, yy, zz, xy, xz, yz].
#[inline(always)]
fn sym_frob(a: &[f64; 6], b: &[f64; 6]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + 2.0 * (a[3] * b[3] + a[4] * b[4] + a[5] * b[5])
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
            let ok = x
                .iter()
                .enumerate()
                .all(|(j, p)| (planted.is_some() && j == m - 1) || b.dist2(p, &cand) >= 0.75 * 0.75);
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
                let c =
                    [uniform(&mut r, -5.0 * L, 5.0 * L), uniform(&mut r, -5.0 * L, 5.0 * L), uniform(&mut r, -L, L)];
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
            sp.compute_into(&x, &b, &mut buf);
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
            sp.compute_into(&x, &b, &mut buf);
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
}
