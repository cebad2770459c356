//! Widom test-particle insertion (Widom, J. Chem. Phys. 39, 2808 (1963)):
//! beta mu_ex = -ln < exp(-beta dU) >, with dU the energy of a test particle inserted at a
//! uniformly random position. With a spherical cutoff, beta mu_tail = beta rho I_u is added.

use crate::energy::PairEnergy;
use crate::potential::PairPotential;
use crate::rng::Stream;
use crate::system::{CellList, Positions};
use rand::RngExt;

/// Mean of exp(-beta dU) over `m` random insertions into configuration `x`.
pub fn widom_boltzmann_mean<P: PairPotential>(
    energy: &PairEnergy<P>,
    x: &Positions,
    cells: &CellList,
    beta: f64,
    m: usize,
    rng: &mut Stream,
) -> f64 {
    let l = energy.simbox.side();
    let mut s = 0.0;
    for _ in 0..m {
        let xt = [rng.random::<f64>() * l, rng.random::<f64>() * l, rng.random::<f64>() * l];
        let du = energy.insertion(x, cells, &xt);
        s += (-beta * du).exp();
    }
    s / m as f64
}
