//! Verlet neighbour lists (half lists, each pair once) with a skin, built from cell lists.
//!
//! A list built with range r_c + skin stays valid while no particle has moved more than
//! skin/2 since the build (Allen & Tildesley, Computer Simulation of Liquids, 2nd ed., sec. 5.3).

use super::{CellList, Positions, SimBox};

/// Half neighbour list in compressed-row form: the neighbours j > i of particle i are
/// `neigh[start[i]..start[i+1]]`.
#[derive(Clone, Debug, Default)]
pub struct VerletList {
    /// Row offsets, length N + 1.
    pub start: Vec<u32>,
    /// Neighbour indices.
    pub neigh: Vec<u32>,
    reference: Positions,
    skin: f64,
    builds: u64,
}

impl VerletList {
    /// Builds the list for wrapped `positions` with interaction range `rc` and `skin`.
    pub fn new(simbox: &SimBox, positions: &Positions, rc: f64, skin: f64) -> Self {
        let mut v = Self { skin, ..Default::default() };
        v.rebuild(simbox, positions, rc);
        v
    }

    /// Rebuilds from wrapped `positions`.
    pub fn rebuild(&mut self, simbox: &SimBox, positions: &Positions, rc: f64) {
        let r_list = rc + self.skin;
        let r2 = r_list * r_list;
        let cells = CellList::new(*simbox, r_list, positions);
        self.start.clear();
        self.neigh.clear();
        self.start.push(0);
        for (i, xi) in positions.iter().enumerate() {
            cells.for_each_candidate(xi, |j| {
                if j > i && simbox.dist2(xi, &positions[j]) < r2 {
                    self.neigh.push(j as u32);
                }
            });
            // Sorted neighbours give a more regular memory access pattern in the force loop.
            let s = *self.start.last().unwrap() as usize;
            self.neigh[s..].sort_unstable();
            self.start.push(self.neigh.len() as u32);
        }
        self.reference.clone_from(positions);
        self.builds += 1;
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
}
