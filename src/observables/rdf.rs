//! Radial distribution function g(r) from a pair-distance histogram.
//!
//! g(r_k) = 2 H_k / (M N rho' V_k), with H_k the pair count in shell k summed over M
//! configurations, V_k = (4/3) pi (r_{k+1}^3 - r_k^3) and rho' = (N - 1) / V, so that an ideal gas
//! of N particles gives g = 1 exactly (Allen & Tildesley, 2nd ed., sec. 8.2).

use crate::system::{Positions, SimBox};

/// Accumulated pair-distance histogram, range [0, r_max) in `bins` shells.
#[derive(Clone, Debug, PartialEq)]
pub struct RdfHistogram {
    /// Upper end of the histogram range (sigma), <= L/2.
    pub r_max: f64,
    /// Pair counts per shell, summed over configurations.
    pub counts: Vec<f64>,
    /// Number of configurations accumulated.
    pub frames: u64,
}

impl RdfHistogram {
    /// Empty histogram.
    pub fn new(bins: usize, r_max: f64) -> Self {
        Self { r_max, counts: vec![0.0; bins], frames: 0 }
    }

    /// Adds all pairs of one configuration.
    pub fn accumulate(&mut self, x: &Positions, simbox: &SimBox) {
        let nb = self.counts.len();
        if nb == 0 {
            return;
        }
        let scale = nb as f64 / self.r_max;
        let r2max = self.r_max * self.r_max;
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                let r2 = simbox.dist2(&x[i], &x[j]);
                if r2 < r2max {
                    let k = ((r2.sqrt() * scale) as usize).min(nb - 1);
                    self.counts[k] += 1.0;
                }
            }
        }
        self.frames += 1;
    }

    /// Shell mid-points r_k (sigma).
    pub fn centers(&self) -> Vec<f64> {
        let dr = self.r_max / self.counts.len() as f64;
        (0..self.counts.len()).map(|k| (k as f64 + 0.5) * dr).collect()
    }

    /// Normalised g(r) for `n` particles in `simbox`.
    pub fn g(&self, n: usize, simbox: &SimBox) -> Vec<f64> {
        let dr = self.r_max / self.counts.len() as f64;
        let rho1 = (n as f64 - 1.0) / simbox.volume();
        let norm = 0.5 * n as f64 * rho1 * self.frames.max(1) as f64;
        self.counts
            .iter()
            .enumerate()
            .map(|(k, &h)| {
                let (a, b) = (k as f64 * dr, (k as f64 + 1.0) * dr);
                let vk = 4.0 / 3.0 * std::f64::consts::PI * (b * b * b - a * a * a);
                h / (norm * vk)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand::RngExt;

    #[test]
    fn ideal_gas_has_unit_rdf() {
        let b = SimBox::new(5.0);
        let mut h = RdfHistogram::new(10, 2.5);
        let mut r = stream(3, Purpose::Init, 0);
        for _ in 0..400 {
            let x: Positions =
                (0..50).map(|_| [r.random::<f64>() * 5.0, r.random::<f64>() * 5.0, r.random::<f64>() * 5.0]).collect();
            h.accumulate(&x, &b);
        }
        let g = h.g(50, &b);
        // Counts in the outer shells are ~1e4 to 1e5, Poisson errors below 1-3%.
        for (k, gk) in g.iter().enumerate().skip(3) {
            let n = h.counts[k];
            assert!((gk - 1.0).abs() < 4.0 / n.sqrt(), "g[{k}] = {gk} ({n} counts)");
        }
    }
}
