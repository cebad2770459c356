//! Verlet neighbour lists (half lists, each pair once) with a skin, built from cell lists.
//!
//! A list built with range r_c + skin stays valid while no particle has moved more than
//! skin/2 since the build (Allen & Tildesley, Computer Simulation of Liquids, 2nd ed., sec. 5.3).
//!
//! For cache locality the list works in a *cell order* of the particles: at each build the
//! particles are sorted by cell (a counting sort, stable in the particle index), and the list
//! refers to positions in that order. Force loops gather the positions into cell order,
//! run over the list, and scatter the forces back, so results are reported in the caller's
//! particle order. The build visits each pair of neighbouring cells once (a half stencil of
//! 13 neighbour cells plus the cell itself) with the periodic image fixed per cell pair, so it
//! needs no minimum-image arithmetic and no per-row sorting.

use super::{Positions, SimBox};

/// Half neighbour list in compressed-row form, in cell order.
///
/// Particle `order[k]` is the k-th particle in cell order; its list partners are the
/// particles `order[l]` for `l` in `neigh[start[k]..start[k+1]]`. Every pair within the list
/// range appears exactly once (in the row of one of its two particles). In brute-force mode
/// (box shorter than three list ranges) the order is the identity and row k holds l > k.
#[derive(Clone, Debug, Default)]
pub struct VerletList {
    /// Row offsets, length N + 1 (rows in cell order).
    pub start: Vec<u32>,
    /// Partners as positions in cell order.
    pub neigh: Vec<u32>,
    /// Cell order: `order[k]` is the index of the k-th particle in cell order.
    pub order: Vec<u32>,
    reference: Positions,
    skin: f64,
    builds: u64,
    /// Scratch of the build: cell of each particle, then cell offsets.
    cell_of: Vec<u32>,
    cell_start: Vec<u32>,
    sorted: Vec<[f64; 3]>,
}

/// The 13 "forward" neighbour offsets of a cell: half of the 26, one of each pair (s, -s).
const HALF_STENCIL: [[i64; 3]; 13] = [
    [0, 0, 1],
    [0, 1, -1],
    [0, 1, 0],
    [0, 1, 1],
    [1, -1, -1],
    [1, -1, 0],
    [1, -1, 1],
    [1, 0, -1],
    [1, 0, 0],
    [1, 0, 1],
    [1, 1, -1],
    [1, 1, 0],
    [1, 1, 1],
];

impl VerletList {
    /// Builds the list for wrapped `positions` with interaction range `rc` and `skin`.
    pub fn new(simbox: &SimBox, positions: &Positions, rc: f64, skin: f64) -> Self {
        let mut v = Self { skin, ..Default::default() };
        v.rebuild(simbox, positions, rc);
        v
    }

    /// Rebuilds from wrapped `positions`.
    pub fn rebuild(&mut self, simbox: &SimBox, positions: &Positions, rc: f64) {
        let n = positions.len();
        assert!(n < u32::MAX as usize, "too many particles for a u32 neighbour list");
        let r_list = rc + self.skin;
        let l = simbox.side();
        let mut m = if r_list.is_finite() && r_list > 0.0 { (l / r_list).floor() as usize } else { 1 };
        // Cap the cell count so memory stays O(N) in very dilute systems.
        let cap = ((n.max(1) as f64) * 2.0).cbrt().ceil() as usize;
        if m > 3 && m > cap {
            m = cap.max(3);
        }
        self.start.clear();
        self.neigh.clear();
        self.start.reserve(n + 1);
        self.start.push(0);
        if m < 3 {
            self.rebuild_all_pairs(simbox, positions, r_list);
        } else {
            self.bin(simbox, positions, m);
            self.rebuild_cells(l, m, r_list);
        }
        self.reference.clone_from(positions);
        self.builds += 1;
    }

    /// Sorts the particles by cell: fills `order`, `cell_start` and the sorted wrapped positions.
    fn bin(&mut self, simbox: &SimBox, positions: &Positions, m: usize) {
        let n_cells = m * m * m;
        let inv_side = m as f64 / simbox.side();
        let cell_1d = |v: f64| ((v * inv_side) as usize).min(m - 1);
        self.cell_of.clear();
        self.cell_start.clear();
        self.cell_start.resize(n_cells + 1, 0);
        for p in positions {
            let p = simbox.wrap(p);
            let c = (cell_1d(p[0]) * m + cell_1d(p[1])) * m + cell_1d(p[2]);
            self.cell_of.push(c as u32);
            self.cell_start[c + 1] += 1;
        }
        for c in 0..n_cells {
            self.cell_start[c + 1] += self.cell_start[c];
        }
        self.order.clear();
        self.order.resize(positions.len(), 0);
        self.sorted.clear();
        self.sorted.resize(positions.len(), [0.0; 3]);
        // Next free slot of each cell, reusing the offsets shifted by one cell.
        let mut fill: Vec<u32> = self.cell_start[..n_cells].to_vec();
        for (i, &c) in self.cell_of.iter().enumerate() {
            let k = fill[c as usize] as usize;
            fill[c as usize] += 1;
            self.order[k] = i as u32;
            self.sorted[k] = simbox.wrap(&positions[i]);
        }
    }

    /// List over cell pairs (m >= 3 cells per side, cell side >= r_list).
    fn rebuild_cells(&mut self, l: f64, m: usize, r_list: f64) {
        let r2 = r_list * r_list;
        let mi = m as i64;
        let xs = &self.sorted;
        let cs = &self.cell_start;
        let neigh = &mut self.neigh;
        for cx in 0..mi {
            for cy in 0..mi {
                for cz in 0..mi {
                    let c = ((cx * mi + cy) * mi + cz) as usize;
                    // Neighbour cells with the periodic shift of their particles' images.
                    let mut stencil = [(0usize, [0.0f64; 3]); 13];
                    for (s, o) in stencil.iter_mut().zip(&HALF_STENCIL) {
                        let wrap = |v: i64| -> (i64, f64) {
                            if v < 0 {
                                (v + mi, -l)
                            } else if v >= mi {
                                (v - mi, l)
                            } else {
                                (v, 0.0)
                            }
                        };
                        let (x, sx) = wrap(cx + o[0]);
                        let (y, sy) = wrap(cy + o[1]);
                        let (z, sz) = wrap(cz + o[2]);
                        *s = (((x * mi + y) * mi + z) as usize, [sx, sy, sz]);
                    }
                    let (a0, a1) = (cs[c] as usize, cs[c + 1] as usize);
                    for a in a0..a1 {
                        let xa = xs[a];
                        for (b, xb) in xs[a + 1..a1].iter().enumerate() {
                            if dist2(&xa, xb) < r2 {
                                neigh.push((a + 1 + b) as u32);
                            }
                        }
                        for (nc, sh) in &stencil {
                            // Partner image x_b + sh; compare x_a - sh with x_b instead.
                            let xa_s = [xa[0] - sh[0], xa[1] - sh[1], xa[2] - sh[2]];
                            let (b0, b1) = (cs[*nc] as usize, cs[*nc + 1] as usize);
                            for (b, xb) in xs[b0..b1].iter().enumerate() {
                                if dist2(&xa_s, xb) < r2 {
                                    neigh.push((b0 + b) as u32);
                                }
                            }
                        }
                        self.start.push(neigh.len() as u32);
                    }
                }
            }
        }
    }

    /// List over all pairs k < l by minimum image (boxes shorter than three list ranges).
    fn rebuild_all_pairs(&mut self, simbox: &SimBox, positions: &Positions, r_list: f64) {
        let r2 = r_list * r_list;
        let n = positions.len();
        self.order.clear();
        self.order.extend(0..n as u32);
        for (i, xi) in positions.iter().enumerate() {
            for (j, xj) in positions.iter().enumerate().skip(i + 1) {
                if simbox.dist2(xi, xj) < r2 {
                    self.neigh.push(j as u32);
                }
            }
            self.start.push(self.neigh.len() as u32);
        }
    }

    /// True when some particle moved more than skin/2 from its position at the last build
    /// (positions given unwrapped since that build).
    pub fn needs_rebuild(&self, positions: &Positions) -> bool {
        let lim = 0.25 * self.skin * self.skin;
        positions.iter().zip(&self.reference).any(|(a, b)| {
            let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
            d[0] * d[0] + d[1] * d[1] + d[2] * d[2] > lim
        })
    }

    /// Number of builds so far.
    pub fn builds(&self) -> u64 {
        self.builds
    }

    /// Number of stored pairs.
    pub fn n_pairs(&self) -> usize {
        self.neigh.len()
    }

    /// The stored pairs as particle indices (i, j) with i < j, sorted (for tests and checks).
    pub fn pairs(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::with_capacity(self.neigh.len());
        for k in 0..self.order.len() {
            let i = self.order[k];
            for &l in &self.neigh[self.start[k] as usize..self.start[k + 1] as usize] {
                let j = self.order[l as usize];
                out.push((i.min(j), i.max(j)));
            }
        }
        out.sort_unstable();
        out
    }
}

#[inline(always)]
fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::PairEnergy;
    use crate::potential::{CutoffMode, LennardJones};
    use crate::rng::{stream, Purpose};
    use rand::RngExt;

    fn random_config(n: usize, l: f64, seed: u64) -> Positions {
        let b = SimBox::new(l);
        let mut r = stream(seed, Purpose::Init, 0);
        crate::system::lattice::fcc(n, &b)
            .into_iter()
            .map(|p| b.wrap(&[p[0] + 0.4 * (r.random::<f64>() - 0.5), p[1] + 0.4 * (r.random::<f64>() - 0.5), p[2] + 0.4 * (r.random::<f64>() - 0.5)]))
            .collect()
    }

    /// Every pair closer than r_list exactly once, none farther (up to round-off at r_list),
    /// for boxes with 2 (brute force), 3 and more cells per side, in shuffled particle order.
    #[test]
    fn list_holds_exactly_the_pairs_within_range() {
        for (n, rho, rc) in [(108, 0.6, 1.9), (500, 0.8442, 2.5), (864, 0.8442, 2.5), (2048, 0.5, 2.5)] {
            let l = (n as f64 / rho).cbrt();
            let b = SimBox::new(l);
            let mut x = random_config(n, l, 9);
            // Shuffle so that index order says nothing about position.
            let mut r = stream(4, Purpose::Init, 1);
            for i in (1..n).rev() {
                x.swap(i, r.random_range(0..=i));
            }
            let list = VerletList::new(&b, &x, rc, 0.3);
            let r2 = (rc + 0.3) * (rc + 0.3);
            let mut expect = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    if b.dist2(&x[i], &x[j]) < r2 {
                        expect.push((i as u32, j as u32));
                    }
                }
            }
            assert_eq!(list.pairs(), expect, "n = {n}");
            let mut seen = list.order.clone();
            seen.sort_unstable();
            assert!(seen.iter().enumerate().all(|(k, &i)| k == i as usize));
        }
    }

    /// Verlet-list forces equal all-pairs forces, also after the particles moved (unwrapped,
    /// less than skin/2) since the build.
    #[test]
    fn list_forces_match_all_pairs_after_moves() {
        for (n, rho) in [(500, 0.8442), (2916, 0.8442)] {
            let l = (n as f64 / rho).cbrt();
            let b = SimBox::new(l);
            let pe = PairEnergy::new(LennardJones, b, CutoffMode::Spherical { rc: 2.5, shift: false, tail: false }, n);
            let mut x = random_config(n, l, 2);
            let mut r = stream(5, Purpose::Init, 2);
            let list = VerletList::new(&b, &x, 2.5, 0.3);
            for step in 0..2 {
                let mut f = vec![[0.0; 3]; n];
                let mut fl = vec![[1.0; 3]; n];
                let ev = pe.forces_all_pairs(&x, &mut f);
                let evl = pe.forces(&x, &list, &mut fl);
                assert!((ev.energy - evl.energy).abs() < 1e-10 * ev.energy.abs(), "step {step}");
                assert!((ev.virial - evl.virial).abs() < 1e-10 * ev.virial.abs(), "step {step}");
                for i in 0..n {
                    for k in 0..3 {
                        assert!((f[i][k] - fl[i][k]).abs() < 1e-9 * f[i][k].abs().max(1.0), "i = {i}");
                    }
                }
                // Move every particle by < skin/2 without wrapping.
                for p in &mut x {
                    for c in p.iter_mut() {
                        *c += 0.08 * (r.random::<f64>() - 0.5);
                    }
                }
                assert!(!list.needs_rebuild(&x));
            }
        }
    }
}
