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

#[cfg(test)]
use super::descriptor_kernels::dot3;
use super::descriptor_kernels::{self as kernels, moment_rows, Isa, N_MOMENTS};
use super::radial_basis::Basis;
#[cfg(test)]
use super::radial_basis::{cutoff, EXP_M2};
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
        let mw = N_MOMENTS * k_n;
        out.n = n;
        out.n_radial = k_n;
        out.pairs.clear();
        out.pairs.extend(list.within(self.r_cut).copied());
        let pairs = &out.pairs;

        // Per-pair radial weights w_k and their derivatives w_k'.
        let basis = Basis::new(self);
        zero(&mut out.w, pairs.len() * k_n);
        zero(&mut out.dw, pairs.len() * k_n);
        kernels::radial(Isa::best(), &basis, pairs, &mut out.w, &mut out.dw);

        // Moments A, V, Q per particle: each pair's contribution c, computed once, is added to
        // both particles (V with the opposite sign for j).
        zero(&mut out.m, n * mw);
        zero(&mut out.pair_buf, mw);
        kernels::moments(Isa::best(), pairs, &out.w, k_n, &mut out.m, &mut out.pair_buf);

        // G from the moments: A, |V|^2 and ||Q||_F^2 per channel.
        let nf = 3 * k_n;
        zero(&mut out.values, n * nf);
        for (m, g) in out.m.chunks_exact(mw).zip(out.values.chunks_exact_mut(nf)) {
            let [ca, vx, vy, vz, q0, q1, q2, q3, q4, q5] = moment_rows(m, k_n);
            let (ga, rest) = g.split_at_mut(k_n);
            let (gb, gc) = rest.split_at_mut(k_n);
            for k in 0..k_n {
                ga[k] = ca[k];
                gb[k] = vx[k] * vx[k] + vy[k] * vy[k] + vz[k] * vz[k];
                gc[k] = q0[k] * q0[k]
                    + q1[k] * q1[k]
                    + q2[k] * q2[k]
                    + 2.0 * (q3[k] * q3[k] + q4[k] * q4[k] + q5[k] * q5[k]);
            }
        }
    }
}

/// Resizes `v` to `len` zeros, keeping its allocation.
fn zero(v: &mut Vec<f64>, len: usize) {
    v.clear();
    v.resize(len, 0.0);
}

/// Reusable buffers for [`Descriptors::vjp_into`] and [`Descriptors::jvp_into`], so that
/// repeated derivative passes allocate nothing.
#[derive(Clone, Debug, Default)]
pub struct DescriptorScratch {
    /// Per-particle adjoints or tangents of the moments, (N, 10K).
    rows: Vec<f64>,
    /// One pair's per-channel terms (10K).
    pair: Vec<f64>,
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
    /// Moments per particle, shape (N, 10K): row i holds the channel blocks
    /// [A, Vx, Vy, Vz, Qxx, Qyy, Qzz, Qxy, Qxz, Qyz] of A_ik, V_ik and the symmetric Q_ik.
    m: Vec<f64>,
    /// One pair's moment contribution (10K), reused across pairs.
    pair_buf: Vec<f64>,
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
        let mut grad = Vec::new();
        self.vjp_into(gbar, &mut DescriptorScratch::default(), &mut grad);
        grad
    }

    /// [`Descriptors::vjp`] into `grad` (resized to N), with reusable buffers.
    pub fn vjp_into(&self, gbar: &[f64], scratch: &mut DescriptorScratch, grad: &mut Vec<[f64; 3]>) {
        let k_n = self.n_radial;
        let (nf, mw) = (3 * k_n, N_MOMENTS * k_n);
        assert_eq!(gbar.len(), self.n * nf, "gbar must have shape (N, n_features)");
        // Per-particle adjoints of the moments, in the moment layout:
        // [gbar_A, u = 2 gbar_B V (3 blocks), U = 2 gbar_C Q (6 blocks)].
        zero(&mut scratch.rows, self.n * mw);
        for ((adj, m), g) in scratch.rows.chunks_exact_mut(mw).zip(self.m.chunks_exact(mw)).zip(gbar.chunks_exact(nf)) {
            let (ga, rest) = g.split_at(k_n);
            let (gb, gc) = rest.split_at(k_n);
            adj[..k_n].copy_from_slice(ga);
            for (blk, (a, v)) in adj[k_n..].chunks_exact_mut(k_n).zip(m[k_n..].chunks_exact(k_n)).enumerate() {
                let gm = if blk < 3 { gb } else { gc };
                for k in 0..k_n {
                    a[k] = 2.0 * gm[k] * v[k];
                }
            }
        }
        grad.clear();
        grad.resize(self.n, [0.0; 3]);
        zero(&mut scratch.pair, 4 * k_n);
        kernels::vjp(Isa::best(), &self.pairs, &self.w, &self.dw, k_n, &scratch.rows, &mut scratch.pair, grad);
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
        let mut out = Vec::new();
        self.jvp_into(dx, &mut DescriptorScratch::default(), &mut out);
        out
    }

    /// [`Descriptors::jvp`] into `out` (resized to (N, 3K)), with reusable buffers.
    pub fn jvp_into(&self, dx: &[[f64; 3]], scratch: &mut DescriptorScratch, out: &mut Vec<f64>) {
        let k_n = self.n_radial;
        let (nf, mw) = (3 * k_n, N_MOMENTS * k_n);
        assert_eq!(dx.len(), self.n, "dx must have shape (N, 3)");
        // Tangents of the moments, in the moment layout [A', V' (3 blocks), Q' (6 blocks)].
        zero(&mut scratch.rows, self.n * mw);
        zero(&mut scratch.pair, mw);
        kernels::jvp(Isa::best(), &self.pairs, &self.w, &self.dw, k_n, dx, &mut scratch.rows, &mut scratch.pair);
        zero(out, self.n * nf);
        let rows = scratch.rows.chunks_exact(mw).zip(self.m.chunks_exact(mw));
        for ((t, m), o) in rows.zip(out.chunks_exact_mut(nf)) {
            let [ta, tx, ty, tz, t0, t1, t2, t3, t4, t5] = moment_rows(t, k_n);
            let [_, vx, vy, vz, q0, q1, q2, q3, q4, q5] = moment_rows(m, k_n);
            let (oa, rest) = o.split_at_mut(k_n);
            let (ob, oc) = rest.split_at_mut(k_n);
            for k in 0..k_n {
                oa[k] = ta[k];
                ob[k] = 2.0 * (vx[k] * tx[k] + vy[k] * ty[k] + vz[k] * tz[k]);
                let frob = q0[k] * t0[k]
                    + q1[k] * t1[k]
                    + q2[k] * t2[k]
                    + 2.0 * (q3[k] * t3[k] + q4[k] * t4[k] + q5[k] * t5[k]);
                oc[k] = 2.0 * frob;
            }
        }
    }
}

#[cfg(test)]
#[path = "descriptors_tests.rs"]
mod tests;
