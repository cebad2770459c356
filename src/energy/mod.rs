//! Evaluation of pair sums: total energy, virial, forces, single-particle and test-particle
//! energies over cell lists, Verlet lists or all pairs (min-image mode). Pure kernels; the
//! samplers own the loops that call them.

pub mod split;

pub use split::ParticleSplit;

use crate::potential::{CutoffMode, PairPotential, TailCorrection, Truncated};
use crate::system::{CellList, Positions, SimBox, VerletList};

/// Potential energy U (epsilon) and virial W = sum_pairs r_ij . f_ij (epsilon).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EnergyVirial {
    /// Sum of pair energies.
    pub energy: f64,
    /// Pair virial sum.
    pub virial: f64,
}

impl std::ops::AddAssign for EnergyVirial {
    fn add_assign(&mut self, o: Self) {
        self.energy += o.energy;
        self.virial += o.virial;
    }
}

/// A pair-interacting system of `n` particles in a periodic box.
#[derive(Clone, Debug)]
pub struct PairEnergy<P> {
    /// The (truncated) pair potential actually summed.
    pub potential: Truncated<P>,
    /// Periodic box.
    pub simbox: SimBox,
    /// Interaction mode.
    pub mode: CutoffMode,
    /// Tail corrections (zero unless enabled).
    pub tail: TailCorrection,
    /// Number of particles.
    pub n: usize,
}

impl<P: PairPotential> PairEnergy<P> {
    /// Sets up `inner` for `n` particles in `simbox` with the given interaction mode.
    pub fn new(inner: P, simbox: SimBox, mode: CutoffMode, n: usize) -> Self {
        let mut pe = Self::without_tail_constants(inner, simbox, mode, n);
        if let CutoffMode::Spherical { rc, tail: true, .. } = mode {
            pe.tail = TailCorrection::new(&pe.potential.inner, rc, pe.density());
        }
        pe
    }

    /// As [`PairEnergy::new`], but with `tail` left at zero even when the mode has a tail
    /// correction: for pair sums that do not need the tail constants of the engine (energy per
    /// particle, pressure, chemical potential; each a quadrature), such as
    /// [`PairEnergy::split_by_particle`], which integrates its own.
    pub fn without_tail_constants(inner: P, simbox: SimBox, mode: CutoffMode, n: usize) -> Self {
        let potential = match mode {
            CutoffMode::Spherical { rc, shift, .. } => Truncated::new(inner, rc, shift),
            CutoffMode::MinImage => Truncated::untruncated(inner),
        };
        Self { potential, simbox, mode, tail: TailCorrection::none(), n }
    }

    /// Number density N / V.
    pub fn density(&self) -> f64 {
        self.n as f64 / self.simbox.volume()
    }

    /// Interaction range used for neighbour structures.
    pub fn range(&self) -> f64 {
        self.mode.range()
    }

    /// A cell list suited to this interaction range.
    pub fn cell_list(&self, x: &Positions) -> CellList {
        CellList::new(self.simbox, self.range(), x)
    }

    /// Energy and virial of the pair (i, j) at minimum-image separation d = x_i - x_j.
    #[inline(always)]
    fn pair(&self, d: [f64; 3]) -> (f64, f64, f64) {
        let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        let (u, f) = self.potential.energy_force(r2);
        (u, f, f * r2)
    }

    /// Total energy and virial by all pairs or a fresh cell list (wrapped positions).
    pub fn total(&self, x: &Positions) -> EnergyVirial {
        let cells = self.cell_list(x);
        self.total_with(x, &cells)
    }

    /// Total energy and virial using an up-to-date cell list.
    pub fn total_with(&self, x: &Positions, cells: &CellList) -> EnergyVirial {
        let mut ev = EnergyVirial::default();
        for (i, xi) in x.iter().enumerate() {
            cells.for_each_candidate(xi, |j| {
                if j > i {
                    let (u, _, w) = self.pair(self.simbox.delta_near(xi, &x[j]));
                    ev.energy += u;
                    ev.virial += w;
                }
            });
        }
        ev
    }

    /// Energy and virial of particle `i` placed at `xi` with all others (j != i).
    #[inline]
    pub fn particle(&self, x: &Positions, cells: &CellList, i: usize, xi: &[f64; 3]) -> EnergyVirial {
        let mut ev = EnergyVirial::default();
        cells.for_each_candidate(xi, |j| {
            if j != i {
                let (u, _, w) = self.pair(self.simbox.delta_near(xi, &x[j]));
                ev.energy += u;
                ev.virial += w;
            }
        });
        ev
    }

    /// Energies and virials of particle `i` at `old` and at `new` (a trial move), in one pass
    /// over the candidates when both positions share a cell (always in brute-force mode).
    #[inline]
    pub fn particle_move(
        &self,
        x: &Positions,
        cells: &CellList,
        i: usize,
        old: &[f64; 3],
        new: &[f64; 3],
    ) -> (EnergyVirial, EnergyVirial) {
        if !cells.is_brute_force() && cells.cell_index(old) != cells.cell_index(new) {
            return (self.particle(x, cells, i, old), self.particle(x, cells, i, new));
        }
        let (mut ea, mut wa, mut eb, mut wb) = (0.0, 0.0, 0.0, 0.0);
        // Accumulating in locals (not through captured references) keeps the sums in registers.
        let mut body = |xj: &[f64; 3]| {
            let (u, _, w) = self.pair(self.simbox.delta_near(old, xj));
            let (u2, _, w2) = self.pair(self.simbox.delta_near(new, xj));
            ea += u;
            wa += w;
            eb += u2;
            wb += w2;
        };
        if cells.is_brute_force() {
            for (j, xj) in x.iter().enumerate() {
                if j != i {
                    body(xj);
                }
            }
        } else {
            cells.for_each_candidate(old, |j| {
                if j != i {
                    body(&x[j])
                }
            });
        }
        (EnergyVirial { energy: ea, virial: wa }, EnergyVirial { energy: eb, virial: wb })
    }

    /// Energy of a test particle at `xt` with all N particles (Widom insertion).
    #[inline]
    pub fn insertion(&self, x: &Positions, cells: &CellList, xt: &[f64; 3]) -> f64 {
        let mut u = 0.0;
        cells.for_each_candidate(xt, |j| {
            let d = self.simbox.delta_near(xt, &x[j]);
            u += self.potential.energy(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        });
        u
    }

    /// Forces f (overwritten, shape N x 3) with energy and virial, over a half Verlet list.
    /// Positions must be those of the list's build moved continuously (not re-wrapped) by less
    /// than half the skin, as in molecular dynamics between builds.
    ///
    /// The pair sum runs over the list's images (see [`VerletList`]), so it needs no periodic
    /// boundary arithmetic, in blocks of 8 pairs written so that the compiler vectorises
    /// them. On x86-64 CPUs with AVX2 the same code compiled for AVX2 is selected
    /// at run time; both give bit-identical results (same IEEE operations in the same order,
    /// no fused multiply-adds).
    pub fn forces(&self, x: &Positions, list: &VerletList, f: &mut [[f64; 3]]) -> EnergyVirial {
        assert_eq!(list.n_particles(), x.len(), "Verlet list built for another particle count");
        assert_eq!(f.len(), x.len(), "force buffer length differs from the particle count");
        let mut xs = Vec::new();
        list.image_positions(x, &mut xs);
        let mut fs = vec![[0.0; 4]; xs.len()];
        #[cfg(target_arch = "x86_64")]
        let ev = if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { self.forces_sorted_avx2(&xs, list, &mut fs) }
        } else {
            self.forces_sorted::<false>(&xs, list, &mut fs)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let ev = self.forces_sorted::<false>(&xs, list, &mut fs);
        list.accumulate_forces(&fs, f);
        ev
    }

    /// [`Self::forces_sorted`] compiled for AVX2, with AVX2 gathers and scatters.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn forces_sorted_avx2(&self, xs: &[[f64; 4]], list: &VerletList, fs: &mut [[f64; 4]]) -> EnergyVirial {
        self.forces_sorted::<true>(xs, list, fs)
    }

    /// Pair sum over the list with image positions `xs`; image forces added to `fs`.
    /// `AVX2` selects explicit AVX2 loads and transposes for the gathers and scatters (only
    /// from [`Self::forces_sorted_avx2`]); the arithmetic is the same code either way.
    #[inline(always)]
    fn forces_sorted<const AVX2: bool>(&self, xs: &[[f64; 4]], list: &VerletList, fs: &mut [[f64; 4]]) -> EnergyVirial {
        /// Pairs handled together (vector lanes).
        const L: usize = 8;

        /// Per-lane partial sums.
        #[derive(Default)]
        struct Sums {
            energy: [f64; L],
            virial: [f64; L],
        }

        /// Sum of the lanes in a fixed pairwise order (the same on every CPU).
        #[inline(always)]
        fn lane_sum(v: &[f64; L]) -> f64 {
            let mut w = *v;
            let mut h = L / 2;
            while h > 0 {
                for l in 0..h {
                    w[l] += w[l + h];
                }
                h /= 2;
            }
            w[0]
        }

        /// One block of L partners of a particle: their indices into the image positions and a
        /// weight per lane (1 for a real partner, 0 for padding).
        struct Lanes {
            idx: [u32; L],
            valid: [f64; L],
        }

        /// L pairs (xa, xs[idx[l]]) at once, each weighted by `valid[l]` (1 or 0): energies
        /// and virials into `acc`, forces into `fa` (lanes) and subtracted from `fs[idx[l]]`.
        #[inline(always)]
        fn block<P: PairPotential, const AVX2: bool>(
            potential: &Truncated<P>,
            xa: &[f64; 3],
            lanes: &Lanes,
            xs: &[[f64; 4]],
            fs: &mut [[f64; 4]],
            fa: &mut [[f64; L]; 3],
            acc: &mut Sums,
        ) {
            let (idx, valid) = (&lanes.idx, &lanes.valid);
            let mut d = [[0.0; L]; 3];
            #[cfg(target_arch = "x86_64")]
            if AVX2 {
                // SAFETY: AVX2 = true only under forces_sorted_avx2, run on AVX2 CPUs only.
                unsafe { avx2_gather(xa, idx, xs, &mut d) };
            }
            if !AVX2 {
                for l in 0..L {
                    let xb = xs[idx[l] as usize];
                    for k in 0..3 {
                        d[k][l] = xa[k] - xb[k];
                    }
                }
            }
            let mut g = [[0.0; L]; 3];
            for l in 0..L {
                let (dx, dy, dz) = (d[0][l], d[1][l], d[2][l]);
                let r2 = dx * dx + dy * dy + dz * dz;
                // Truncated::energy_force masks pairs beyond r_c to zero without a branch.
                let (u, fr) = potential.energy_force(r2);
                let fr = valid[l] * fr;
                acc.energy[l] += valid[l] * u;
                acc.virial[l] += fr * r2;
                g[0][l] = fr * dx;
                g[1][l] = fr * dy;
                g[2][l] = fr * dz;
            }
            for k in 0..3 {
                for l in 0..L {
                    fa[k][l] += g[k][l];
                }
            }
            #[cfg(target_arch = "x86_64")]
            if AVX2 {
                // SAFETY: as for the gather.
                unsafe { avx2_scatter_sub(idx, &g, fs) };
            }
            if !AVX2 {
                for l in 0..L {
                    let fb = &mut fs[idx[l] as usize];
                    fb[0] -= g[0][l];
                    fb[1] -= g[1][l];
                    fb[2] -= g[2][l];
                }
            }
        }

        // AVX2 gathers and scatters, 4 lanes at a time as 4 x 4 transposes of the padded rows;
        // bit-identical to the portable loops (the same subtractions, one lane after another).

        /// d[k][l] = xa[k] - xs[idx[l]][k].
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        #[inline]
        unsafe fn avx2_gather(xa: &[f64; 3], idx: &[u32; L], xs: &[[f64; 4]], d: &mut [[f64; L]; 3]) {
            use std::arch::x86_64::*;
            let a = _mm256_setr_pd(xa[0], xa[1], xa[2], 0.0);
            for h in 0..L / 4 {
                // Bounds-checked indexing; each row is 4 f64, read whole.
                let row = |l: usize| _mm256_sub_pd(a, _mm256_loadu_pd(xs[idx[4 * h + l] as usize].as_ptr()));
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
                let (t0, t1) = (_mm256_unpacklo_pd(r0, r1), _mm256_unpackhi_pd(r0, r1));
                let (t2, t3) = (_mm256_unpacklo_pd(r2, r3), _mm256_unpackhi_pd(r2, r3));
                _mm256_storeu_pd(d[0][4 * h..].as_mut_ptr(), _mm256_permute2f128_pd::<0x20>(t0, t2));
                _mm256_storeu_pd(d[1][4 * h..].as_mut_ptr(), _mm256_permute2f128_pd::<0x20>(t1, t3));
                _mm256_storeu_pd(d[2][4 * h..].as_mut_ptr(), _mm256_permute2f128_pd::<0x31>(t0, t2));
            }
        }

        /// fs[idx[l]][k] -= g[k][l], lane after lane (lanes may repeat an index).
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        #[inline]
        unsafe fn avx2_scatter_sub(idx: &[u32; L], g: &[[f64; L]; 3], fs: &mut [[f64; 4]]) {
            use std::arch::x86_64::*;
            let z = _mm256_setzero_pd();
            for h in 0..L / 4 {
                let gx = _mm256_loadu_pd(g[0][4 * h..].as_ptr());
                let gy = _mm256_loadu_pd(g[1][4 * h..].as_ptr());
                let gz = _mm256_loadu_pd(g[2][4 * h..].as_ptr());
                let (t0, t1) = (_mm256_unpacklo_pd(gx, gy), _mm256_unpackhi_pd(gx, gy));
                let (t2, t3) = (_mm256_unpacklo_pd(gz, z), _mm256_unpackhi_pd(gz, z));
                let lanes = [
                    _mm256_permute2f128_pd::<0x20>(t0, t2),
                    _mm256_permute2f128_pd::<0x20>(t1, t3),
                    _mm256_permute2f128_pd::<0x31>(t0, t2),
                    _mm256_permute2f128_pd::<0x31>(t1, t3),
                ];
                for (l, v) in lanes.into_iter().enumerate() {
                    let fb = fs[idx[4 * h + l] as usize].as_mut_ptr();
                    _mm256_storeu_pd(fb, _mm256_sub_pd(_mm256_loadu_pd(fb), v));
                }
            }
        }

        let mut acc = Sums::default();
        for (a, rows) in list.start.windows(2).enumerate() {
            let xa = [xs[a][0], xs[a][1], xs[a][2]];
            let row = &list.neigh[rows[0] as usize..rows[1] as usize];
            let mut fa = [[0.0; L]; 3];
            let mut blocks = row.chunks_exact(L);
            for blk in &mut blocks {
                let lanes = Lanes { idx: blk.try_into().expect("block of L lanes"), valid: [1.0; L] };
                block::<P, AVX2>(&self.potential, &xa, &lanes, xs, fs, &mut fa, &mut acc);
            }
            let rest = blocks.remainder();
            if !rest.is_empty() {
                // Pad with copies of a real partner, masked to zero.
                let mut lanes = Lanes { idx: [rest[0]; L], valid: [0.0; L] };
                for (k, &b) in rest.iter().enumerate() {
                    lanes.idx[k] = b;
                    lanes.valid[k] = 1.0;
                }
                block::<P, AVX2>(&self.potential, &xa, &lanes, xs, fs, &mut fa, &mut acc);
            }
            let fx = &mut fs[a];
            for (k, c) in fa.iter().enumerate() {
                fx[k] += lane_sum(c);
            }
        }
        EnergyVirial { energy: lane_sum(&acc.energy), virial: lane_sum(&acc.virial) }
    }

    /// Forces over all pairs (min-image mode or tiny systems).
    pub fn forces_all_pairs(&self, x: &Positions, f: &mut [[f64; 3]]) -> EnergyVirial {
        for fi in f.iter_mut() {
            *fi = [0.0; 3];
        }
        let mut ev = EnergyVirial::default();
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                let d = self.simbox.delta(&x[i], &x[j]);
                let (u, fr, w) = self.pair(d);
                ev.energy += u;
                ev.virial += w;
                for k in 0..3 {
                    f[i][k] += fr * d[k];
                    f[j][k] -= fr * d[k];
                }
            }
        }
        ev
    }

    /// Potential energy per particle including the tail correction.
    pub fn energy_per_particle(&self, ev: &EnergyVirial) -> f64 {
        ev.energy / self.n as f64 + self.tail.energy_per_particle
    }

    /// Virial pressure P = rho T + W / (3 V) + p_tail at temperature `t`.
    pub fn pressure(&self, ev: &EnergyVirial, t: f64) -> f64 {
        self.density() * t + ev.virial / (3.0 * self.simbox.volume()) + self.tail.pressure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{LambdaScaled, LennardJones, SoftCore};
    use crate::rng::{stream, Purpose};

    fn random_config(n: usize, l: f64, seed: u64) -> Positions {
        // Jittered lattice: random but free of hard overlaps; some pairs near any cutoff.
        crate::system::lattice::jittered_fcc(n, &SimBox::new(l), 0.3, &mut stream(seed, Purpose::Init, 0))
    }

    /// Total-energy forces against central differences of the total energy, every mode.
    fn check_forces<P: PairPotential>(inner: P, mode: CutoffMode, tol: f64) {
        let n = 64;
        let l = (n as f64 / 0.6f64).cbrt();
        let b = SimBox::new(l);
        let pe = PairEnergy::new(inner, b, mode, n);
        let x = random_config(n, l, 3);
        let mut f = vec![[0.0; 3]; n];
        let ev = pe.forces_all_pairs(&x, &mut f);
        let mut fl = vec![[0.0; 3]; n];
        if let CutoffMode::Spherical { rc, .. } = mode {
            let list = VerletList::new(&b, &x, rc, 0.3);
            let ev2 = pe.forces(&x, &list, &mut fl);
            assert!((ev.energy - ev2.energy).abs() < 1e-10 * ev.energy.abs().max(1.0));
            assert!((ev.virial - ev2.virial).abs() < 1e-10 * ev.virial.abs().max(1.0));
        }
        let et = pe.total(&x);
        assert!((et.energy - ev.energy).abs() < 1e-10 * ev.energy.abs().max(1.0));
        let h = 1e-6;
        for i in [0, 7, 31, 63] {
            for k in 0..3 {
                let mut xp = x.clone();
                xp[i][k] += h;
                let mut xm = x.clone();
                xm[i][k] -= h;
                let fd = -(pe.total(&xp).energy - pe.total(&xm).energy) / (2.0 * h);
                assert!((f[i][k] - fd).abs() < tol * fd.abs().max(1.0), "{mode:?} i={i} k={k}: {} vs {fd}", f[i][k]);
                if matches!(mode, CutoffMode::Spherical { .. }) {
                    assert!((fl[i][k] - f[i][k]).abs() < 1e-10 * f[i][k].abs().max(1.0));
                }
            }
        }
    }

    #[test]
    fn forces_are_minus_gradient_of_total_energy_in_every_mode() {
        let modes = [
            CutoffMode::Spherical { rc: 1.9, shift: false, tail: true },
            CutoffMode::Spherical { rc: 1.9, shift: true, tail: false },
            CutoffMode::MinImage,
        ];
        for m in modes {
            check_forces(LennardJones, m, 1e-6);
            check_forces(SoftCore { a: 0.3 }, m, 1e-6);
            check_forces(LambdaScaled { lambda: 0.4 }, m, 1e-6);
        }
    }

    #[test]
    fn particle_and_insertion_energies_are_consistent_with_total() {
        let n = 100;
        let l = (n as f64 / 0.5f64).cbrt();
        let b = SimBox::new(l);
        let pe = PairEnergy::new(LennardJones, b, CutoffMode::Spherical { rc: 1.5, shift: false, tail: false }, n);
        let x = random_config(n, l, 5);
        let cells = pe.cell_list(&x);
        assert!(!cells.is_brute_force());
        let total = pe.total(&x).energy;
        let sum: f64 = (0..n).map(|i| pe.particle(&x, &cells, i, &x[i]).energy).sum();
        assert!((0.5 * sum - total).abs() < 1e-10 * total.abs());
        // A fused trial-move evaluation equals two separate ones, within and across cells.
        for new in [[x[3][0] + 0.05, x[3][1], x[3][2]], [x[3][0] + 2.0, x[3][1] - 1.0, x[3][2]]] {
            let new = b.wrap(&new);
            let (a, c) = pe.particle_move(&x, &cells, 3, &x[3], &new);
            assert!((a.energy - pe.particle(&x, &cells, 3, &x[3]).energy).abs() < 1e-12);
            assert!((c.energy - pe.particle(&x, &cells, 3, &new).energy).abs() < 1e-12);
            assert!((c.virial - pe.particle(&x, &cells, 3, &new).virial).abs() < 1e-12);
        }
        // Removing particle 0 and re-inserting it must cost its particle energy.
        let mut rest = x.clone();
        let x0 = rest.remove(0);
        let pr = PairEnergy::new(LennardJones, b, pe.mode, n - 1);
        let c2 = pr.cell_list(&rest);
        let ins = pr.insertion(&rest, &c2, &x0);
        assert!((ins - pe.particle(&x, &cells, 0, &x[0]).energy).abs() < 1e-12);
    }
}
