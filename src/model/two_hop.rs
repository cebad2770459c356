//! Two-hop descriptors: each particle's view of its neighbours' neighbourhoods (docs/design.md sec. 6,
//! "other architectures (message passing) may follow behind the same trait").
//!
//! ```text
//! H_ikf = sum_{j != i, r_ij < r_c} w_k(r_ij) A_jf,      k < K2,  f < K
//! ```
//!
//! with w_k = e_k f_c the radial channels and A_jf = sum_l w_f(r_jl) the radial densities of
//! [`super::descriptors`]. H is a fixed (parameter-free) message-passing step: the radial
//! densities of the neighbours, weighted by the first K2 channels (the first shell). It tells the
//! per-particle network how crowded the neighbours are, a many-body signal that one layer of
//! invariants of the own neighbourhood does not carry (in dense liquids the score of a particle
//! depends on whether its neighbours can give way). H is invariant under permutations,
//! translations and rotations, smooth (C^2) at r_c, and linear in the neighbours' A.
//! Cf. the interaction blocks of SchNet (K. T. Schütt et al., J. Chem. Phys. 148, 241722 (2018))
//! with a fixed filter and identity update.
//!
//! Derivatives, with s_ij = rhat_ij . (dx_j - dx_i):
//!
//! ```text
//! JVP:  Hdot_ikf = sum_j [ w_k'(r_ij) s_ij A_jf + w_k(r_ij) Adot_jf ]
//! VJP:  per pair, c_ij = sum_{k,f} w_k'(r_ij) (Hbar_ikf A_jf + Hbar_jkf A_if) along rhat_ij
//!       (added to x_j, subtracted from x_i), and Abar_jf += sum_k w_k Hbar_ikf,
//!       Abar_if += sum_k w_k Hbar_jkf, which go on through the base descriptors' VJP.
//! ```
//!
//! Layout: the K2 K features follow the 3K base features of each row, k-major (index k K + f).

use super::descriptors::Descriptors;

/// Appends the two-hop features H (K2 channels) to the base descriptors `d` (whose values have
/// shape (N, 3K)); afterwards `d.values` has shape (N, 3K + K2 K).
pub(super) fn extend(d: &mut Descriptors, k2: usize) {
    let (n, k_n) = (d.n, d.n_radial);
    let nb = 3 * k_n;
    let nf = nb + k2 * k_n;
    let mut vals = vec![0.0; n * nf];
    for i in 0..n {
        vals[i * nf..i * nf + nb].copy_from_slice(&d.values[i * nb..(i + 1) * nb]);
    }
    for (p, pair) in d.pairs.iter().enumerate() {
        let (i, j) = (pair.i as usize, pair.j as usize);
        for k in 0..k2 {
            let wk = d.w[p * k_n + k];
            for f in 0..k_n {
                vals[i * nf + nb + k * k_n + f] += wk * d.values[j * nb + f];
                vals[j * nf + nb + k * k_n + f] += wk * d.values[i * nb + f];
            }
        }
    }
    d.values = vals;
    d.n_two_hop = k2;
}

/// Jacobian-vector product of all features, shape (N, 3K + K2 K).
pub(super) fn jvp(d: &Descriptors, dx: &[[f64; 3]]) -> Vec<f64> {
    let (n, k_n, k2) = (d.n, d.n_radial, d.n_two_hop);
    let nb = 3 * k_n;
    let nf = nb + k2 * k_n;
    let base = d.jvp_base(dx);
    let mut out = vec![0.0; n * nf];
    for i in 0..n {
        out[i * nf..i * nf + nb].copy_from_slice(&base[i * nb..(i + 1) * nb]);
    }
    let a = |j: usize, f: usize| d.values[j * nf + f];
    for (p, pair) in d.pairs.iter().enumerate() {
        let (i, j) = (pair.i as usize, pair.j as usize);
        let dr = [dx[j][0] - dx[i][0], dx[j][1] - dx[i][1], dx[j][2] - dx[i][2]];
        let s = (pair.d[0] * dr[0] + pair.d[1] * dr[1] + pair.d[2] * dr[2]) * pair.inv_r;
        for k in 0..k2 {
            let (wk, dwk) = (d.w[p * k_n + k], d.dw[p * k_n + k]);
            for f in 0..k_n {
                out[i * nf + nb + k * k_n + f] += dwk * s * a(j, f) + wk * base[j * nb + f];
                out[j * nf + nb + k * k_n + f] += dwk * s * a(i, f) + wk * base[i * nb + f];
            }
        }
    }
    out
}

/// Vector-Jacobian product of all features: gbar has shape (N, 3K + K2 K); returns (N, 3).
pub(super) fn vjp(d: &Descriptors, gbar: &[f64]) -> Vec<[f64; 3]> {
    let (n, k_n, k2) = (d.n, d.n_radial, d.n_two_hop);
    let nb = 3 * k_n;
    let nf = nb + k2 * k_n;
    let mut gb = vec![0.0; n * nb];
    for i in 0..n {
        gb[i * nb..(i + 1) * nb].copy_from_slice(&gbar[i * nf..i * nf + nb]);
    }
    let a = |j: usize, f: usize| d.values[j * nf + f];
    let mut grad = vec![[0.0; 3]; n];
    for (p, pair) in d.pairs.iter().enumerate() {
        let (i, j) = (pair.i as usize, pair.j as usize);
        let mut c = 0.0;
        for k in 0..k2 {
            let (wk, dwk) = (d.w[p * k_n + k], d.dw[p * k_n + k]);
            for f in 0..k_n {
                let (hi, hj) = (gbar[i * nf + nb + k * k_n + f], gbar[j * nf + nb + k * k_n + f]);
                c += dwk * (hi * a(j, f) + hj * a(i, f));
                gb[j * nb + f] += wk * hi;
                gb[i * nb + f] += wk * hj;
            }
        }
        for (e, dv) in pair.d.iter().enumerate() {
            let g = c * pair.inv_r * dv;
            grad[j][e] += g;
            grad[i][e] -= g;
        }
    }
    for (g, b) in grad.iter_mut().zip(d.vjp_base(&gb)) {
        for e in 0..3 {
            g[e] += b[e];
        }
    }
    grad
}

#[cfg(test)]
mod tests {
    use crate::model::descriptors::DescriptorSpec;
    use crate::rng::{stream, Purpose};
    use crate::system::SimBox;
    use rand::RngExt;

    fn setup() -> (DescriptorSpec, SimBox, Vec<[f64; 3]>) {
        let spec = DescriptorSpec { n_radial: 4, r_min: 0.5, r_cut: 2.5, n_two_hop: 2 };
        let b = SimBox::new(5.5);
        let mut r = stream(5, Purpose::Init, 0);
        let mut x: Vec<[f64; 3]> = vec![[1.0, 1.0, 1.0], [1.0 + 2.5 - 1e-3, 1.0, 1.0]];
        while x.len() < 20 {
            let p = [r.random::<f64>() * 5.5, r.random::<f64>() * 5.5, r.random::<f64>() * 5.5];
            if x.iter().all(|q| b.dist2(&p, q) > 0.8 * 0.8) {
                x.push(p);
            }
        }
        (spec, b, x)
    }

    /// H from its definition by brute force over all pairs.
    #[test]
    fn values_match_the_definition() {
        let (spec, b, x) = setup();
        let d = spec.compute(&x, &b);
        let base = DescriptorSpec { n_two_hop: 0, ..spec.clone() }.compute(&x, &b);
        let (k_n, nb, nf) = (4, 12, spec.n_features());
        assert_eq!(nf, 12 + 8);
        let (w, rc) = (spec.width(), spec.r_cut);
        for i in 0..x.len() {
            assert_eq!(&d.values()[i * nf..i * nf + nb], &base.values()[i * nb..(i + 1) * nb]);
            for k in 0..2 {
                for f in 0..k_n {
                    let mut h = 0.0;
                    for j in 0..x.len() {
                        let r = b.dist2(&x[i], &x[j]).sqrt();
                        if j != i && r < rc {
                            let wk = (-((r - spec.centre(k)) / w).powi(2)).exp() * (1.0 - (r / rc).powi(2)).powi(3);
                            h += wk * base.values()[j * nb + f];
                        }
                    }
                    let got = d.values()[i * nf + nb + k * k_n + f];
                    assert!((got - h).abs() < 1e-12 * h.abs().max(1.0), "H[{i},{k},{f}] {got} vs {h}");
                }
            }
        }
    }

    /// JVP against central differences of the values, and VJP as its adjoint.
    #[test]
    fn jvp_matches_central_differences_and_vjp_is_its_adjoint() {
        let (spec, b, x) = setup();
        let d = spec.compute(&x, &b);
        let nf = spec.n_features();
        let mut r = stream(6, Purpose::Init, 1);
        let dx: Vec<[f64; 3]> =
            (0..x.len()).map(|_| [r.random::<f64>() - 0.5, r.random::<f64>() - 0.5, r.random::<f64>() - 0.5]).collect();
        let h = 1e-6;
        let shifted = |e: f64| -> Vec<f64> {
            let y: Vec<[f64; 3]> =
                x.iter().zip(&dx).map(|(p, v)| [p[0] + e * v[0], p[1] + e * v[1], p[2] + e * v[2]]).collect();
            spec.compute(&y, &b).values().to_vec()
        };
        let (vp, vm) = (shifted(h), shifted(-h));
        let jv = d.jvp(&dx);
        let scale = jv.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for (k, g) in jv.iter().enumerate() {
            let fd = (vp[k] - vm[k]) / (2.0 * h);
            assert!((g - fd).abs() < 1e-6 * scale, "feature {} of row {}: jvp {g} vs fd {fd}", k % nf, k / nf);
        }
        let gbar: Vec<f64> = (0..x.len() * nf).map(|_| r.random::<f64>() - 0.5).collect();
        let vj = d.vjp(&gbar);
        let lhs: f64 = vj.iter().zip(&dx).map(|(a, v)| a[0] * v[0] + a[1] * v[1] + a[2] * v[2]).sum();
        let rhs: f64 = gbar.iter().zip(&jv).map(|(a, v)| a * v).sum();
        assert!((lhs - rhs).abs() < 1e-11 * rhs.abs().max(1.0), "<vjp, dx> = {lhs} vs <gbar, jvp> = {rhs}");
    }
}
