//! Initial configurations on a face-centred cubic lattice.

use super::{Positions, SimBox};

/// The first `n` sites of the smallest fcc lattice with at least `n` sites that fills the box
/// (4 sites per cubic cell, m^3 cells with m = ceil((n/4)^(1/3))). Positions in [0, L)^3.
pub fn fcc(n: usize, simbox: &SimBox) -> Positions {
    let mut m = 1usize;
    while 4 * m * m * m < n {
        m += 1;
    }
    let a = simbox.side() / m as f64;
    let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let mut out = Vec::with_capacity(n);
    'outer: for ix in 0..m {
        for iy in 0..m {
            for iz in 0..m {
                for b in &basis {
                    if out.len() == n {
                        break 'outer;
                    }
                    let p =
                        [(ix as f64 + b[0] + 0.25) * a, (iy as f64 + b[1] + 0.25) * a, (iz as f64 + b[2] + 0.25) * a];
                    out.push(simbox.wrap(&p));
                }
            }
        }
    }
    out
}

/// [`fcc`] sites displaced uniformly by up to +-amplitude/2 per coordinate (drawn x, y, z per
/// particle from `rng`) and wrapped: random configurations without hard overlaps, for tests and
/// benchmarks.
pub fn jittered_fcc(n: usize, simbox: &SimBox, amplitude: f64, rng: &mut crate::rng::Stream) -> Positions {
    use rand::RngExt;
    fcc(n, simbox)
        .into_iter()
        .map(|p| {
            simbox.wrap(&[
                p[0] + amplitude * (rng.random::<f64>() - 0.5),
                p[1] + amplitude * (rng.random::<f64>() - 0.5),
                p[2] + amplitude * (rng.random::<f64>() - 0.5),
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fcc_fills_and_keeps_distance() {
        let b = SimBox::from_density(500, 0.8442);
        let x = fcc(500, &b);
        assert_eq!(x.len(), 500);
        let a = b.side() / 5.0;
        let nn = a / 2f64.sqrt();
        for i in 0..x.len() {
            for j in 0..i {
                assert!(b.dist2(&x[i], &x[j]).sqrt() > nn * 0.999);
            }
        }
    }
}
