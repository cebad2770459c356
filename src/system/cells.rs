//! Cell lists (linked cells) for O(N) neighbour searches in a cubic periodic box.
//!
//! The box is cut into m^3 cubic cells of side >= r_list, so every neighbour within r_list
//! of a particle lies in its own cell or one of the 26 adjacent ones. With fewer than 3 cells
//! per side the adjacent cells would repeat, so the list falls back to all particles
//! ("brute force"); this is also what the "min-image" interaction mode uses.

use super::{Positions, SimBox};

/// Cell list over wrapped positions.
#[derive(Clone, Debug)]
pub struct CellList {
    simbox: SimBox,
    m: usize,
    cell_side: f64,
    cells: Vec<Vec<u32>>,
    cell_of: Vec<u32>,
    /// For each cell, its 27 neighbour cells (itself included); empty when brute force.
    neighbours: Vec<[u32; 27]>,
}

impl CellList {
    /// Builds the list for `positions` (wrapped into the box) with interaction range `r_list`.
    pub fn new(simbox: SimBox, r_list: f64, positions: &Positions) -> Self {
        let mut m = if r_list.is_finite() && r_list > 0.0 { (simbox.side() / r_list).floor() as usize } else { 1 };
        if m < 3 {
            m = 1;
        }
        // Cap the cell count so memory stays O(N) in very dilute systems.
        let cap = ((positions.len().max(1) as f64) * 2.0).cbrt().ceil() as usize;
        if m > 3 && m > cap {
            m = cap.max(3);
        }
        let n_cells = m * m * m;
        let mut neighbours = Vec::new();
        if m >= 3 {
            neighbours.reserve(n_cells);
            for c in 0..n_cells {
                let (cx, cy, cz) = (c / (m * m), (c / m) % m, c % m);
                let mut nb = [0u32; 27];
                let mut k = 0;
                for dx in [m - 1, 0, 1] {
                    for dy in [m - 1, 0, 1] {
                        for dz in [m - 1, 0, 1] {
                            let (x, y, z) = ((cx + dx) % m, (cy + dy) % m, (cz + dz) % m);
                            nb[k] = (x * m * m + y * m + z) as u32;
                            k += 1;
                        }
                    }
                }
                neighbours.push(nb);
            }
        }
        let mut list = Self {
            simbox,
            m,
            cell_side: simbox.side() / m as f64,
            cells: vec![Vec::new(); n_cells],
            cell_of: vec![0; positions.len()],
            neighbours,
        };
        for (i, x) in positions.iter().enumerate() {
            let c = list.cell_index(x);
            list.cells[c].push(i as u32);
            list.cell_of[i] = c as u32;
        }
        list
    }

    /// True when the box is too small for cells and every particle is a candidate neighbour.
    pub fn is_brute_force(&self) -> bool {
        self.m < 3
    }

    /// Number of cells per side.
    pub fn cells_per_side(&self) -> usize {
        self.m
    }

    /// Cell index of a wrapped position.
    #[inline]
    pub fn cell_index(&self, x: &[f64; 3]) -> usize {
        let m = self.m;
        let f = |v: f64| ((v / self.cell_side) as usize).min(m - 1);
        (f(x[0]) * m + f(x[1])) * m + f(x[2])
    }

    /// Updates the cell of particle `i` after it moved to the wrapped position `x`.
    pub fn move_particle(&mut self, i: usize, x: &[f64; 3]) {
        let new = self.cell_index(x);
        let old = self.cell_of[i] as usize;
        if new != old {
            let v = &mut self.cells[old];
            let k = v.iter().position(|&p| p as usize == i).expect("particle in its cell");
            v.swap_remove(k);
            self.cells[new].push(i as u32);
            self.cell_of[i] = new as u32;
        }
    }

    /// Calls `f(j)` for every particle that may lie within r_list of the wrapped position `x`
    /// (a superset; callers test the distance). Each particle is visited once.
    #[inline]
    pub fn for_each_candidate(&self, x: &[f64; 3], mut f: impl FnMut(usize)) {
        if self.is_brute_force() {
            for j in 0..self.cell_of.len() {
                f(j);
            }
            return;
        }
        let c = self.cell_index(x);
        for &nc in &self.neighbours[c] {
            for &j in &self.cells[nc as usize] {
                f(j as usize);
            }
        }
    }

    /// The particles of every cell in their current order (the order in which neighbour sums run,
    /// which moves change): the cell sizes, then the particles cell by cell. With
    /// [`CellList::set_order`] a restarted sampler continues bitwise.
    pub fn order(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.cells.iter().map(|c| c.len() as u32).collect();
        v.extend(self.cells.iter().flatten());
        v
    }

    /// Restores an order saved by [`CellList::order`] from a list of the same positions; an error
    /// (the list unchanged) when it does not describe these particles' cells.
    pub fn set_order(&mut self, saved: &[u32]) -> Result<(), String> {
        let (nc, n) = (self.cells.len(), self.cell_of.len());
        if saved.len() != nc + n {
            return Err(format!("cell order of {} values, {} expected", saved.len(), nc + n));
        }
        let mut cells = Vec::with_capacity(nc);
        let mut rest = &saved[nc..];
        let mut seen = vec![false; n];
        for (c, &len) in saved[..nc].iter().enumerate() {
            let len = len as usize;
            if len > rest.len() {
                return Err("cell sizes exceed the particle count".into());
            }
            let (cell, tail) = rest.split_at(len);
            for &i in cell {
                let i = i as usize;
                if i >= n || seen[i] || self.cell_of[i] as usize != c {
                    return Err(format!("particle {i} is not once in its own cell {c}"));
                }
                seen[i] = true;
            }
            cells.push(cell.to_vec());
            rest = tail;
        }
        self.cells = cells;
        Ok(())
    }

    /// The box this list was built for.
    pub fn simbox(&self) -> &SimBox {
        &self.simbox
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use rand::RngExt;

    #[test]
    fn candidates_cover_all_neighbours_after_moves() {
        let b = SimBox::new(12.0);
        let mut r = stream(1, Purpose::Init, 0);
        let mut x: Positions =
            (0..300).map(|_| [r.random::<f64>() * 12.0, r.random::<f64>() * 12.0, r.random::<f64>() * 12.0]).collect();
        let mut cl = CellList::new(b, 2.5, &x);
        assert_eq!(cl.cells_per_side(), 4);
        for step in 0..200 {
            let i = step % x.len();
            x[i] = b.wrap(&[x[i][0] + 3.1, x[i][1] - 0.7, x[i][2] + 1.3]);
            cl.move_particle(i, &x[i]);
        }
        for i in 0..x.len() {
            let mut seen = vec![false; x.len()];
            cl.for_each_candidate(&x[i], |j| {
                assert!(!seen[j]);
                seen[j] = true
            });
            for j in 0..x.len() {
                if b.dist2(&x[i], &x[j]) < 2.5 * 2.5 {
                    assert!(seen[j], "missed neighbour {j} of {i}");
                }
            }
        }
    }
}
