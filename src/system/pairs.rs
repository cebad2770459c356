//! The neighbour pairs of one configuration: every unordered pair i < j closer than a range,
//! with its minimum-image separation, found once and shared by every term that sums over pairs
//! (the energy model's prior, pair walls, descriptors and message-passing graph).
//!
//! Candidates come from a [`CellList`] on the wrapped positions (all pairs when the box holds
//! fewer than three cells per side, or for an infinite range); the separation itself is the exact
//! minimum image of the positions as given ([`SimBox::delta`]), so positions need not be wrapped.
//! Order: by i, then by j in the order the cell list visits candidates (ascending j when every
//! particle is a candidate). The order is a function of the positions alone, so sums over the
//! list are deterministic.
//!
//! Units: positions, separations and ranges in sigma.

use super::{CellList, Positions, SimBox};

/// One unordered pair i < j: d = x_j - x_i (minimum image), r^2 = |d|^2, r and 1/r (0 for
/// coincident particles).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    /// First particle (the smaller index).
    pub i: u32,
    /// Second particle.
    pub j: u32,
    /// Minimum-image separation x_j - x_i (sigma).
    pub d: [f64; 3],
    /// |d|^2 (sigma^2).
    pub r2: f64,
    /// |d| (sigma).
    pub r: f64,
    /// 1/|d| (1/sigma), 0 when the particles coincide.
    pub inv_r: f64,
}

/// The pairs of N particles closer than `range`.
#[derive(Clone, Debug, Default)]
pub struct PairList {
    n: usize,
    range: f64,
    pairs: Vec<Pair>,
}

impl PairList {
    /// The pairs i < j of `x` (N positions, sigma) in `simbox` with r^2 < range^2; an infinite
    /// `range` gives all N (N - 1) / 2 pairs (the minimum-image convention's interactions).
    pub fn new(x: &Positions, simbox: &SimBox, range: f64) -> Self {
        let n = x.len();
        let r2max = range * range;
        let mut pairs = Vec::new();
        let mut visit = |i: usize, j: usize| {
            let d = simbox.delta(&x[j], &x[i]);
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if r2 < r2max {
                let r = r2.sqrt();
                let inv_r = if r > 0.0 { 1.0 / r } else { 0.0 };
                pairs.push(Pair { i: i as u32, j: j as u32, d, r2, r, inv_r });
            }
        };
        let cells = if range.is_finite() && 3.0 * range <= simbox.side() {
            let wrapped: Positions = x.iter().map(|p| simbox.wrap(p)).collect();
            Some((CellList::new(*simbox, range, &wrapped), wrapped))
        } else {
            None
        };
        match cells {
            Some((cells, wrapped)) if !cells.is_brute_force() => {
                for (i, xi) in wrapped.iter().enumerate() {
                    cells.for_each_candidate(xi, |j| {
                        if j > i {
                            visit(i, j)
                        }
                    });
                }
            }
            _ => {
                for i in 0..n {
                    for j in i + 1..n {
                        visit(i, j);
                    }
                }
            }
        }
        Self { n, range, pairs }
    }

    /// Number of particles N.
    pub fn n_particles(&self) -> usize {
        self.n
    }

    /// The range the list was built for (sigma; infinite for all pairs).
    pub fn range(&self) -> f64 {
        self.range
    }

    /// Every pair in the list.
    pub fn pairs(&self) -> &[Pair] {
        &self.pairs
    }

    /// The pairs with r^2 < r_max^2, in list order.
    ///
    /// # Panics
    /// If `r_max` exceeds the list's range (the list would miss pairs).
    pub fn within(&self, r_max: f64) -> impl Iterator<Item = &Pair> + '_ {
        assert!(r_max <= self.range, "pairs within {r_max} asked of a list built to {}", self.range);
        let r2max = r_max * r_max;
        self.pairs.iter().filter(move |p| p.r2 < r2max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand::RngExt;

    fn config(n: usize, l: f64, seed: u64) -> Positions {
        let mut r = stream(seed, Purpose::Init, 0);
        // Some positions outside the box: the list must not depend on wrapping.
        (0..n).map(|_| [0.0; 3].map(|_: f64| (r.random::<f64>() * 1.4 - 0.2) * l)).collect()
    }

    /// The set of pairs by brute force over all pairs and the minimum image.
    fn brute(x: &Positions, b: &SimBox, range: f64) -> Vec<(u32, u32)> {
        let mut v = vec![];
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                if b.dist2(&x[i], &x[j]) < range * range {
                    v.push((i as u32, j as u32));
                }
            }
        }
        v
    }

    #[test]
    fn holds_exactly_the_pairs_within_range_with_cells_and_without() {
        for (n, l, range) in [(300, 10.0, 2.5), (120, 6.0, 2.5), (50, 5.0, f64::INFINITY), (200, 12.0, 3.0)] {
            let b = SimBox::new(l);
            let x = config(n, l, 7);
            let list = PairList::new(&x, &b, range);
            let mut got: Vec<(u32, u32)> = list.pairs().iter().map(|p| (p.i, p.j)).collect();
            got.sort_unstable();
            let want = if range.is_finite() { brute(&x, &b, range) } else { brute(&x, &b, l) };
            assert_eq!(got, want, "n={n} L={l} range={range}");
            for p in list.pairs() {
                let (i, j) = (p.i as usize, p.j as usize);
                assert!(i < j);
                assert_eq!(p.d, b.delta(&x[j], &x[i]));
                assert!((p.r * p.r - p.r2).abs() < 1e-12 && (p.r * p.inv_r - 1.0).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn within_filters_by_distance_and_refuses_a_longer_range() {
        let b = SimBox::new(10.0);
        let x = config(300, 10.0, 3);
        let list = PairList::new(&x, &b, 3.0);
        let near: Vec<(u32, u32)> = list.within(1.5).map(|p| (p.i, p.j)).collect();
        let mut sorted = near.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, brute(&x, &b, 1.5));
        assert!(std::panic::catch_unwind(|| list.within(3.1).count()).is_err());
    }

    #[test]
    fn all_pairs_come_in_ascending_order_without_cells() {
        let b = SimBox::new(5.0);
        let x = config(40, 5.0, 1);
        let list = PairList::new(&x, &b, f64::INFINITY);
        assert_eq!(list.pairs().len(), 40 * 39 / 2);
        assert!(list.pairs().windows(2).all(|w| (w[0].i, w[0].j) < (w[1].i, w[1].j)));
    }
}
