//! The simulated system: periodic box, particle positions, neighbour structures.

pub mod cells;
pub mod lattice;
pub mod pairs;
pub mod simbox;
pub mod verlet;

pub use cells::CellList;
pub use pairs::{Pair, PairList};
pub use simbox::SimBox;
pub use verlet::VerletList;

/// Particle positions, shape (N, 3), in reduced length units, wrapped into [0, L).
pub type Positions = Vec<[f64; 3]>;
