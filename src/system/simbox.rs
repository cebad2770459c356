//! Cubic periodic box with the minimum-image convention.

/// Cubic box of side `l` (reduced units), periodic in x, y and z.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimBox {
    l: f64,
    inv_l: f64,
}

impl SimBox {
    /// Box of side `l > 0`.
    pub fn new(l: f64) -> Self {
        assert!(l > 0.0 && l.is_finite(), "box side must be positive and finite");
        Self { l, inv_l: 1.0 / l }
    }

    /// Box that holds `n` particles at number density `rho`: L = (N / rho)^(1/3).
    pub fn from_density(n: usize, rho: f64) -> Self {
        Self::new((n as f64 / rho).cbrt())
    }

    /// Side length L.
    #[inline]
    pub fn side(&self) -> f64 {
        self.l
    }

    /// Volume V = L^3.
    #[inline]
    pub fn volume(&self) -> f64 {
        self.l * self.l * self.l
    }

    /// Minimum-image displacement component: d - L round(d / L), in [-L/2, L/2].
    #[inline(always)]
    pub fn min_image_1d(&self, d: f64) -> f64 {
        d - self.l * (d * self.inv_l).round()
    }

    /// Minimum image of a displacement known to satisfy |d| < 3L/2 (both ends within a skin
    /// of the box): two compares instead of a rounding call, for the hot loops.
    #[inline(always)]
    pub fn min_image_near(&self, d: f64) -> f64 {
        // Branch-free: the comparisons become masks, so no mispredictions in pair loops.
        let h = 0.5 * self.l;
        d - self.l * (((d > h) as u8 as f64) - ((d < -h) as u8 as f64))
    }

    /// Minimum-image displacement vector a - b for positions inside (or within a skin of) the box.
    #[inline(always)]
    pub fn delta_near(&self, a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
        [self.min_image_near(a[0] - b[0]), self.min_image_near(a[1] - b[1]), self.min_image_near(a[2] - b[2])]
    }

    /// Minimum-image displacement vector a - b.
    #[inline(always)]
    pub fn delta(&self, a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
        [self.min_image_1d(a[0] - b[0]), self.min_image_1d(a[1] - b[1]), self.min_image_1d(a[2] - b[2])]
    }

    /// Squared minimum-image distance |a - b|^2.
    #[inline(always)]
    pub fn dist2(&self, a: &[f64; 3], b: &[f64; 3]) -> f64 {
        let d = self.delta(a, b);
        d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
    }

    /// Wraps one coordinate into [0, L).
    #[inline(always)]
    pub fn wrap_1d(&self, x: f64) -> f64 {
        let y = x - self.l * (x * self.inv_l).floor();
        // Guard against y == L from round-off when x is a tiny negative number.
        if y >= self.l {
            0.0
        } else {
            y
        }
    }

    /// Wraps a position into [0, L)^3.
    #[inline(always)]
    pub fn wrap(&self, x: &[f64; 3]) -> [f64; 3] {
        [self.wrap_1d(x[0]), self.wrap_1d(x[1]), self.wrap_1d(x[2])]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_image_and_wrap() {
        let b = SimBox::new(10.0);
        assert_eq!(b.min_image_1d(7.0), -3.0);
        assert_eq!(b.min_image_1d(-7.0), 3.0);
        assert_eq!(b.wrap_1d(-1e-17), 0.0);
        assert_eq!(b.wrap_1d(12.5), 2.5);
        assert!((b.dist2(&[0.5, 0.5, 0.5], &[9.5, 9.5, 9.5]) - 3.0).abs() < 1e-12);
        assert!((SimBox::from_density(500, 0.5).side() - 10.0).abs() < 1e-12);
    }
}
