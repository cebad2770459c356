//! The radial basis of the invariant descriptors ([`super::descriptors`]): K Gaussians times a
//! smooth cutoff, w_k(r) = exp(-((r - mu_k)/w)^2) f_c(r), and their r-derivatives, evaluated
//! with two exponentials per distance (a recurrence over the channels) rather than K.
//!
//! Units: r, mu_k and w in sigma; w_k dimensionless, w_k' per sigma.

use super::descriptors::DescriptorSpec;

/// exp(-2), the ratio between successive Gaussian recurrence factors.
pub(super) const EXP_M2: f64 = 0.1353352832366127;

/// The radial basis w_k(r) = e_k(r) f_c(r) and its derivative.
pub(super) struct Basis {
    k_n: usize,
    r_min: f64,
    inv_w: f64,
    inv_rc2: f64,
    /// The channel numbers 0, 1, .., K-1 as floats (so that the last loop of
    /// [`Basis::eval`] has no integer conversion or running count and vectorises).
    ks: Vec<f64>,
}

impl Basis {
    /// The basis of `spec` (K channels on [r_min, r_cut]).
    pub(super) fn new(spec: &DescriptorSpec) -> Self {
        Self {
            k_n: spec.n_radial,
            r_min: spec.r_min,
            inv_w: 1.0 / spec.width(),
            inv_rc2: 1.0 / (spec.r_cut * spec.r_cut),
            ks: (0..spec.n_radial).map(|k| k as f64).collect(),
        }
    }

    /// Number K of channels.
    pub(super) fn n_radial(&self) -> usize {
        self.k_n
    }

    /// Fills w[k] = w_k(r) and dw[k] = w_k'(r) for 0 <= r < r_c (both slices of length K).
    ///
    /// With t = (r - r_min)/w, e_k = exp(-(t - k)^2); starting from the channel k0 nearest t,
    /// e_{k+1} = e_k exp(2(t - k) - 1) and e_{k-1} = e_k exp(-2(t - k) - 1), whose factors change
    /// by exp(-2) per step. Two exponentials per pair instead of K, and no spurious underflow
    /// (every e_k is reached from a value near 1 through decreasing terms).
    #[inline(always)]
    pub(super) fn eval(&self, r: f64, w: &mut [f64], dw: &mut [f64]) {
        let (fc, dfc) = cutoff(r, self.inv_rc2);
        let k_n = self.k_n;
        let (w, dw) = (&mut w[..k_n], &mut dw[..k_n]);
        let t = (r - self.r_min) * self.inv_w;
        let k0 = nearest_channel(t, k_n - 1);
        let d0 = t - k0 as f64;
        // w holds e_k for now; the running products stay in registers.
        let e0 = (-d0 * d0).exp();
        w[k0] = e0;
        let up = (2.0 * d0 - 1.0).exp();
        let (mut e, mut f) = (e0, up);
        for wk in &mut w[k0 + 1..] {
            e *= f;
            *wk = e;
            f *= EXP_M2;
        }
        let (mut e, mut f) = (e0, EXP_M2 / up); // exp(-2 d0 - 1)
        for wk in w[..k0].iter_mut().rev() {
            e *= f;
            *wk = e;
            f *= EXP_M2;
        }
        for ((w, dw), &kf) in w.iter_mut().zip(dw.iter_mut()).zip(&self.ks[..k_n]) {
            let e = *w;
            let de = -2.0 * (t - kf) * self.inv_w * e;
            *w = e * fc;
            *dw = de * fc + e * dfc;
        }
    }
}

/// round(t) clamped to [0, k_max], as an index: the same as `t.round().clamp(0, k_max)` (round
/// half away from zero) without a call into libm's `round` (baseline x86-64 has no rounding
/// instruction). For t > 0, k = trunc(t) and its fraction t - k are exact.
#[inline(always)]
fn nearest_channel(t: f64, k_max: usize) -> usize {
    if t.is_nan() || t <= 0.0 {
        return 0;
    }
    if t >= k_max as f64 {
        return k_max;
    }
    let k = t as usize;
    if t - k as f64 >= 0.5 {
        k + 1
    } else {
        k
    }
}

/// Smooth cutoff f_c(r) = (1 - r^2/r_c^2)^3 for r < r_c (0 beyond) and its derivative.
#[inline]
pub(super) fn cutoff(r: f64, inv_rc2: f64) -> (f64, f64) {
    let om = 1.0 - r * r * inv_rc2;
    if om <= 0.0 {
        return (0.0, 0.0);
    }
    (om * om * om, -6.0 * r * om * om * inv_rc2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index rounding agrees with `f64::round` and the clamp on both sides of every half
    /// integer, at the clamps, far outside and for NaN.
    #[test]
    fn nearest_channel_matches_round_and_clamp() {
        let k_max = 7;
        let mut ts = vec![f64::NAN, -3.0, -0.5, -0.0, 0.0, 1e-300, 6.5, 7.0, 7.49, 7.5, 1e9];
        for h in 0..=16 {
            let x = 0.5 * h as f64;
            // The neighbouring doubles of x (x > 0; for x = 0 the smallest positive one).
            ts.extend([x, f64::from_bits(x.to_bits() + 1)]);
            if x > 0.0 {
                ts.push(f64::from_bits(x.to_bits() - 1));
            }
        }
        for t in ts {
            let want = t.round().clamp(0.0, k_max as f64) as usize;
            assert_eq!(nearest_channel(t, k_max), want, "t = {t:e}");
        }
    }
}
