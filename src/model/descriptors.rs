//! Invariant per-particle descriptors (Behler-Parrinello / ACE-like) with exact, hand-written
//! first derivatives (docs/design.md sec. 6).
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
//! * Pairs come from the configuration's shared neighbour list ([`PairList`], built once per
//!   evaluation by the model), each unordered pair once; its contributions go to both particles
//!   (V changes sign, A and Q do not).

use crate::system::{Pair, PairList, Positions, SimBox};

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
        if let Err(e) = self.validate(simbox) {
            panic!("{e}");
        }
        let mut out = Descriptors::default();
        self.compute_into(&PairList::new(x, simbox, self.r_cut), &mut out);
        out
    }

    /// As [`DescriptorSpec::compute`], but from the neighbour pairs of the configuration (a list
    /// built to at least r_cut), and overwriting `out`, whose buffers it reuses: in loops over
    /// many configurations this avoids fresh large allocations (and their page faults, which
    /// cost about a third of `compute` at N = 200). The pairs within r_cut are kept in list order.
    ///
    /// # Panics
    /// If `list` was built to a range shorter than r_cut.
    pub fn compute_into(&self, list: &PairList, out: &mut Descriptors) {
        let n = list.n_particles();
        let k_n = self.n_radial;
        let zeroed = |v: &mut Vec<f64>, len: usize| {
            v.clear();
            v.resize(len, 0.0);
            std::mem::take(v)
        };
        let mut pairs = std::mem::take(&mut out.pairs);
        pairs.clear();
        pairs.extend(list.within(self.r_cut).copied());

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

/// Descriptors G of one configuration, with the neighbour pairs, radial weights and moments
/// V_ik, Q_ik that the derivatives need. `Default` is the empty set (N = 0), a buffer for
/// [`DescriptorSpec::compute_into`].
#[derive(Clone, Debug, Default)]
pub struct Descriptors {
    pub(super) n: usize,
    pub(super) n_radial: usize,
    pub(super) pairs: Vec<Pair>,
    /// w_k(r) per pair, shape (n_pairs, K).
    pub(super) w: Vec<f64>,
    /// dw_k/dr per pair, shape (n_pairs, K).
    pub(super) dw: Vec<f64>,
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

    /// The neighbour pairs i < j within r_cut, in the order the derivatives use.
    pub fn pairs(&self) -> &[Pair] {
        &self.pairs
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
        assert_eq!(gbar.len(), self.n * self.n_features(), "gbar must have shape (N, n_features)");
        self.vjp_base(gbar)
    }

    /// [`Descriptors::vjp`] of the 3K base features alone (gbar of shape (N, 3K)).
    pub(super) fn vjp_base(&self, gbar: &[f64]) -> Vec<[f64; 3]> {
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
        self.jvp_base(dx)
    }

    /// [`Descriptors::jvp`] of the 3K base features alone, shape (N, 3K).
    pub(super) fn jvp_base(&self, dx: &[[f64; 3]]) -> Vec<f64> {
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
#[path = "descriptors_tests.rs"]
mod tests;
