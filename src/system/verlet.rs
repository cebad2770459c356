//! Verlet neighbour lists (half lists, each pair once) with a skin, built from cell lists.
//!
//! A list built with range r_c + skin stays valid while no particle has moved more than
//! skin/2 since the build (Allen & Tildesley, Computer Simulation of Liquids, 2nd ed., sec. 5.3).
//!
//! Layout (chosen for the speed of the force loop, in the manner of LAMMPS's ghost atoms):
//! the list does not refer to particles directly but to *images*. An image is a particle
//! displaced by a fixed vector (a multiple of the box side in each direction), fixed at the
//! build. The first kind of image is each particle itself (shifted into the box if it was given
//! unwrapped); the others are periodic copies next to the box faces ("ghosts"). Every pair
//! within range is stored once, as a pair of images whose plain difference is the
//! minimum-image separation, so force loops need no periodic-boundary arithmetic: they gather
//! the image positions `x[particle] + offset` ([`VerletList::image_positions`]), sum over the
//! pairs, and add each image's force to its particle ([`VerletList::accumulate_forces`]).
//!
//! The images are ordered by cell (real cells and the ghost cells around them, in grid order),
//! which keeps neighbours close in memory: the build reads a cell and its z neighbours as one
//! contiguous run, and visits each neighbouring cell pair once (half stencil), with no
//! minimum-image arithmetic and no per-row sorting. Positions passed to the force loop must be
//! those of the build moved continuously (not re-wrapped) by less than skin/2, which is what
//! molecular dynamics does between builds ([`VerletList::needs_rebuild`] reports any re-wrap).

use super::{Positions, SimBox};

/// Half neighbour list over particle images, in compressed-row form.
///
/// Image `k` is particle `image_particle(k)` displaced by `image_offset(k)`; its list partners
/// are the images `neigh[start[k]..start[k+1]]`. Every pair of particles closer than the list
/// range appears exactly once, as a pair (k, l) of images with
/// `x[k] + offset[k] - (x[l] + offset[l])` equal to their minimum-image separation.
#[derive(Clone, Debug, Default)]
pub struct VerletList {
    /// Row offsets, length (number of images) + 1.
    pub start: Vec<u32>,
    /// Partner images.
    pub neigh: Vec<u32>,
    /// Particle of each image.
    particle: Vec<u32>,
    /// Displacement of each image from its particle (multiples of the box side).
    offset: Vec<[f64; 3]>,
    reference: Positions,
    skin: f64,
    builds: u64,
    scratch: Scratch,
}

/// Buffers reused between builds.
#[derive(Clone, Debug, Default)]
struct Scratch {
    /// Wrapping shift of each particle (x + shift lies in the box).
    shift: Vec<[f64; 3]>,
    /// Real cell of each particle, then the particles sorted by cell.
    cell_of: Vec<u32>,
    sorted: Vec<u32>,
    /// Offsets of the real cells in `sorted` (counting sort), then of all cells in the images.
    real_start: Vec<u32>,
    cell_start: Vec<u32>,
    /// Image positions at the build (brute force: pos; cells: px, py, pz).
    pos: Vec<[f64; 3]>,
    px: Vec<f64>,
    py: Vec<f64>,
    pz: Vec<f64>,
    /// One row's partners.
    row: Vec<u32>,
}

/// Cells per list range: cells of side >= r_list / REACH, neighbours up to REACH cells away.
/// Two halves the candidates tested per particle relative to one (a smaller stencil volume).
const REACH: usize = 2;

impl VerletList {
    /// Builds the list for wrapped `positions` with interaction range `rc` and `skin`.
    pub fn new(simbox: &SimBox, positions: &Positions, rc: f64, skin: f64) -> Self {
        let mut v = Self { skin, ..Default::default() };
        v.rebuild(simbox, positions, rc);
        v
    }

    /// Rebuilds from `positions` (normally wrapped; unwrapped ones are shifted into the box
    /// through the image offsets).
    pub fn rebuild(&mut self, simbox: &SimBox, positions: &Positions, rc: f64) {
        let n = positions.len();
        let r_list = rc + self.skin;
        let l = simbox.side();
        // Cells of side >= r_list / REACH; brute force when the box is shorter than 3 r_list.
        let per_range = if r_list.is_finite() && r_list > 0.0 { (l / r_list).floor() as usize } else { 0 };
        // Cap the cell count so memory stays O(N) in very dilute systems.
        let cap = ((n.max(1) as f64) * 2.0).cbrt().ceil() as usize;
        let m = (REACH * per_range).min(cap.max(REACH * 3));
        let s = &mut self.scratch;
        s.shift.clear();
        s.shift.extend(positions.iter().map(|p| {
            let k = |v: f64| -l * (v / l).floor();
            [k(p[0]), k(p[1]), k(p[2])]
        }));
        self.start.clear();
        self.neigh.clear();
        self.particle.clear();
        self.offset.clear();
        if per_range < 3 {
            self.rebuild_all_pairs(l, positions, r_list);
        } else {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                unsafe { self.rebuild_cells_avx2(l, m, positions, r_list) }
            } else {
                self.rebuild_cells(l, m, positions, r_list);
            }
            #[cfg(not(target_arch = "x86_64"))]
            self.rebuild_cells(l, m, positions, r_list);
        }
        assert!(self.particle.len() < u32::MAX as usize, "too many images for a u32 neighbour list");
        self.reference.clone_from(positions);
        self.builds += 1;
    }

    /// [`Self::rebuild_cells`] compiled for AVX2 (same result: the build is exact arithmetic
    /// on the same inputs, only the distance tests are vectorised more widely).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn rebuild_cells_avx2(&mut self, l: f64, m: usize, positions: &Positions, r_list: f64) {
        self.rebuild_cells(l, m, positions, r_list)
    }

    /// Cell mode (m >= 3 REACH cells per side of side >= r_list / REACH): images in a grid of
    /// (m + REACH) x (m + 2 REACH) x (m + 2 REACH) cells, x in 0..m+REACH, y and z in
    /// -REACH..m+REACH; the cells outside 0..m are ghosts (periodic copies).
    #[inline(always)]
    fn rebuild_cells(&mut self, l: f64, m: usize, positions: &Positions, r_list: f64) {
        const K: usize = REACH;
        let s = &mut self.scratch;
        let n = positions.len();
        // Counting sort of the particles by real cell.
        let inv_side = m as f64 / l;
        let cell_1d = |v: f64| ((v * inv_side) as usize).min(m - 1);
        s.cell_of.clear();
        s.real_start.clear();
        s.real_start.resize(m * m * m + 1, 0);
        for (p, sh) in positions.iter().zip(&s.shift) {
            let c = (cell_1d(p[0] + sh[0]) * m + cell_1d(p[1] + sh[1])) * m + cell_1d(p[2] + sh[2]);
            s.cell_of.push(c as u32);
            s.real_start[c + 1] += 1;
        }
        for c in 0..m * m * m {
            s.real_start[c + 1] += s.real_start[c];
        }
        s.sorted.clear();
        s.sorted.resize(n, 0);
        let mut fill: Vec<u32> = s.real_start[..m * m * m].to_vec();
        for (i, &c) in s.cell_of.iter().enumerate() {
            s.sorted[fill[c as usize] as usize] = i as u32;
            fill[c as usize] += 1;
        }
        // Images cell by cell over the extended grid; y and z indices are stored shifted by K.
        let (gx, gyz) = (m + K, m + 2 * K);
        let ext = |x: usize, y: usize, z: usize| (x * gyz + y) * gyz + z;
        // Source cell and image shift of grid index g (already unshifted).
        let src = |g: i64| -> (usize, f64) {
            let mi = m as i64;
            if g < 0 {
                ((g + mi) as usize, -l)
            } else if g >= mi {
                ((g - mi) as usize, l)
            } else {
                (g as usize, 0.0)
            }
        };
        s.cell_start.clear();
        s.px.clear();
        s.py.clear();
        s.pz.clear();
        for x in 0..gx {
            for y in 0..gyz {
                for z in 0..gyz {
                    s.cell_start.push(self.particle.len() as u32);
                    let ((sx, ox), (sy, oy), (sz, oz)) =
                        (src(x as i64), src(y as i64 - K as i64), src(z as i64 - K as i64));
                    let c = (sx * m + sy) * m + sz;
                    for &i in &s.sorted[s.real_start[c] as usize..s.real_start[c + 1] as usize] {
                        let sh = s.shift[i as usize];
                        let off = [sh[0] + ox, sh[1] + oy, sh[2] + oz];
                        let p = positions[i as usize];
                        self.particle.push(i);
                        self.offset.push(off);
                        s.px.push(p[0] + off[0]);
                        s.py.push(p[1] + off[1]);
                        s.pz.push(p[2] + off[2]);
                    }
                }
            }
        }
        s.cell_start.push(self.particle.len() as u32);
        // Padding read (and masked) by the last block of a run at the end.
        for v in [&mut s.px, &mut s.py, &mut s.pz] {
            v.extend([f64::INFINITY; SCAN]);
        }
        // Rows of the real cells: the half stencil of (2K + 1)^3 - 1 neighbour cells, as runs
        // contiguous in z: this column above the image itself (own cell, later images only,
        // and dz = 1..K), then the columns (0, dy), dy = 1..K, and (dx, dy), dx = 1..K,
        // |dy| <= K, each over dz = -K..K.
        let r2 = r_list * r_list;
        let cs = &s.cell_start;
        let mut runs = Vec::with_capacity(K * (2 * K + 2));
        self.start.push(0);
        for x in 0..gx {
            for y in 0..gyz {
                for z in 0..gyz {
                    let c = ext(x, y, z);
                    let (c0, c1) = (cs[c] as usize, cs[c + 1] as usize);
                    let real = x < m && (K..m + K).contains(&y) && (K..m + K).contains(&z);
                    if !real {
                        for _ in c0..c1 {
                            self.start.push(self.neigh.len() as u32);
                        }
                        continue;
                    }
                    let column =
                        |x: usize, y: usize| (cs[ext(x, y, z - K)] as usize, cs[ext(x, y, z + K) + 1] as usize);
                    runs.clear();
                    runs.extend((1..=K).map(|dy| column(x, y + dy)));
                    for dx in 1..=K {
                        runs.extend((y - K..=y + K).map(|yy| column(x + dx, yy)));
                    }
                    let own_end = cs[ext(x, y, z + K) + 1] as usize;
                    let n_cand = own_end - c0 + runs.iter().map(|r| r.1 - r.0).sum::<usize>();
                    // Slack for the last block of each run, written in full.
                    if s.row.len() < n_cand + SCAN {
                        s.row.resize(n_cand + SCAN, 0);
                    }
                    let (px, py, pz) = (&s.px[..], &s.py[..], &s.pz[..]);
                    for a in c0..c1 {
                        let (ax, ay, az) = (px[a], py[a], pz[a]);
                        let mut k = 0;
                        for &(b0, b1) in std::iter::once(&(a + 1, own_end)).chain(&runs) {
                            k = scan_run([ax, ay, az], (px, py, pz), b0, b1, r2, &mut s.row, k);
                        }
                        self.neigh.extend_from_slice(&s.row[..k]);
                        self.start.push(self.neigh.len() as u32);
                    }
                }
            }
        }
    }

    /// Brute-force mode (boxes shorter than three list ranges): all pairs i < j by minimum
    /// image; the first N images are the particles in index order, ghosts follow as needed.
    fn rebuild_all_pairs(&mut self, l: f64, positions: &Positions, r_list: f64) {
        let s = &mut self.scratch;
        let n = positions.len();
        let r2 = r_list * r_list;
        s.pos.clear();
        for (i, (p, sh)) in positions.iter().zip(&s.shift).enumerate() {
            self.particle.push(i as u32);
            self.offset.push(*sh);
            s.pos.push([p[0] + sh[0], p[1] + sh[1], p[2] + sh[2]]);
        }
        // Ghost image of particle j shifted by `code` (base 3 over {-L, 0, L}^3), if made.
        s.cell_of.clear();
        s.cell_of.resize(27 * n, u32::MAX);
        self.start.push(0);
        for i in 0..n {
            for j in i + 1..n {
                let (a, b) = (s.pos[i], s.pos[j]);
                let mut code = 0;
                let mut d2 = 0.0;
                let mut img = [0.0; 3];
                for k in 0..3 {
                    let d = a[k] - b[k];
                    // Positions in [0, L]: |d| <= L, so the nearest image is within one box side.
                    let t = if d > 0.5 * l {
                        1.0
                    } else if d < -0.5 * l {
                        -1.0
                    } else {
                        0.0
                    };
                    img[k] = t * l;
                    code = 3 * code + (t as i64 + 1) as usize;
                    d2 += (d - img[k]) * (d - img[k]);
                }
                if d2 < r2 {
                    let partner = if code == 13 {
                        j as u32
                    } else {
                        let slot = &mut s.cell_of[27 * j + code];
                        if *slot == u32::MAX {
                            *slot = self.particle.len() as u32;
                            let sh = self.offset[j];
                            self.particle.push(j as u32);
                            self.offset.push([sh[0] + img[0], sh[1] + img[1], sh[2] + img[2]]);
                        }
                        *slot
                    };
                    self.neigh.push(partner);
                }
            }
            self.start.push(self.neigh.len() as u32);
        }
        for _ in n..self.particle.len() {
            self.start.push(self.neigh.len() as u32);
        }
    }

    /// Number of images (particles and ghosts).
    pub fn n_images(&self) -> usize {
        self.particle.len()
    }

    /// Particle of image `k`.
    pub fn image_particle(&self, k: usize) -> usize {
        self.particle[k] as usize
    }

    /// Displacement of image `k` from its particle.
    pub fn image_offset(&self, k: usize) -> [f64; 3] {
        self.offset[k]
    }

    /// Current image positions `x[particle] + offset` into `out` (overwritten), for positions
    /// moved continuously since the build.
    /// The fourth component is zero (padding for aligned vector loads).
    pub fn image_positions(&self, x: &Positions, out: &mut Vec<[f64; 4]>) {
        out.clear();
        out.extend(self.particle.iter().zip(&self.offset).map(|(&i, o)| {
            let p = x[i as usize];
            [p[0] + o[0], p[1] + o[1], p[2] + o[2], 0.0]
        }));
    }

    /// Particle forces `f` (overwritten) as the sums of their images' forces `fi` (the fourth
    /// component of `fi` is ignored).
    pub fn accumulate_forces(&self, fi: &[[f64; 4]], f: &mut [[f64; 3]]) {
        assert_eq!(fi.len(), self.particle.len(), "one force per image expected");
        for v in f.iter_mut() {
            *v = [0.0; 3];
        }
        for (&i, g) in self.particle.iter().zip(fi) {
            let v = &mut f[i as usize];
            v[0] += g[0];
            v[1] += g[1];
            v[2] += g[2];
        }
    }

    /// Number of particles the list was built for.
    pub fn n_particles(&self) -> usize {
        self.reference.len()
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

    /// The positions of the last build (what [`VerletList::needs_rebuild`] compares with); a
    /// list built anew from them is this list.
    pub fn reference(&self) -> &Positions {
        &self.reference
    }

    /// Number of builds so far.
    pub fn builds(&self) -> u64 {
        self.builds
    }

    /// Number of stored pairs.
    pub fn n_pairs(&self) -> usize {
        self.neigh.len()
    }

    /// The stored pairs as particle indices (i, j), i < j, sorted (for tests and checks).
    pub fn pairs(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::with_capacity(self.neigh.len());
        for (k, row) in self.start.windows(2).enumerate() {
            let i = self.particle[k];
            for &b in &self.neigh[row[0] as usize..row[1] as usize] {
                let j = self.particle[b as usize];
                out.push((i.min(j), i.max(j)));
            }
        }
        out.sort_unstable();
        out
    }
}

/// Candidates tested together in [`scan_run`].
const SCAN: usize = 4;

/// For each `k`, the positions of the set bits of `k` in increasing order (then zeros).
const COMPACT: [[u8; SCAN]; 1 << SCAN] = {
    let mut t = [[0u8; SCAN]; 1 << SCAN];
    let mut mask = 0;
    while mask < 1 << SCAN {
        let (mut bit, mut k) = (0, 0);
        while bit < SCAN {
            if mask & (1 << bit) != 0 {
                t[mask][k] = bit as u8;
                k += 1;
            }
            bit += 1;
        }
        mask += 1;
    }
    t
};

/// Appends to `row` (from `k` on) the images b in `b0..b1` closer than sqrt(r2) to `xa`, and
/// returns the new length. Blocks of SCAN candidates: vectorisable distance tests, then a
/// branch-free compaction through a table; `row` needs SCAN - 1 entries of slack and the
/// coordinate arrays SCAN - 1 entries of padding after the last image.
#[inline(always)]
fn scan_run(
    xa: [f64; 3],
    p: (&[f64], &[f64], &[f64]),
    b0: usize,
    b1: usize,
    r2: f64,
    row: &mut [u32],
    mut k: usize,
) -> usize {
    let mut b = b0;
    while b < b1 {
        let (x, y, z) = (&p.0[b..b + SCAN], &p.1[b..b + SCAN], &p.2[b..b + SCAN]);
        let mut mask = 0usize;
        for i in 0..SCAN {
            let (dx, dy, dz) = (xa[0] - x[i], xa[1] - y[i], xa[2] - z[i]);
            mask |= ((dx * dx + dy * dy + dz * dz < r2) as usize) << i;
        }
        // Only candidates before b1.
        mask &= (1usize << (b1 - b).min(SCAN)) - 1;
        let sel = &COMPACT[mask];
        let out = &mut row[k..k + SCAN];
        for i in 0..SCAN {
            out[i] = (b + sel[i] as usize) as u32;
        }
        k += mask.count_ones() as usize;
        b += SCAN;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::PairEnergy;
    use crate::potential::{CutoffMode, LennardJones};
    use crate::rng::{stream, Purpose};
    use rand::RngExt;

    fn random_config(n: usize, l: f64, seed: u64) -> Positions {
        // Jittered lattice: random but free of hard overlaps; some pairs near any cutoff.
        crate::system::lattice::jittered_fcc(n, &SimBox::new(l), 0.4, &mut stream(seed, Purpose::Init, 0))
    }

    fn shuffled(mut x: Positions, seed: u64) -> Positions {
        let mut r = stream(seed, Purpose::Init, 1);
        for i in (1..x.len()).rev() {
            x.swap(i, r.random_range(0..=i));
        }
        x
    }

    /// Every pair closer than r_list exactly once, none farther, with image offsets that give
    /// the minimum-image separation; for boxes with 2 (brute force), 3 and more cells per
    /// side, in shuffled particle order, from wrapped and from unwrapped positions.
    #[test]
    fn list_holds_exactly_the_pairs_within_range() {
        for (n, rho, rc) in [(108, 0.6, 1.9), (500, 0.8442, 2.5), (864, 0.8442, 2.5), (2048, 0.5, 2.5)] {
            let l = (n as f64 / rho).cbrt();
            let b = SimBox::new(l);
            let x = shuffled(random_config(n, l, 9), 4);
            let r2 = (rc + 0.3) * (rc + 0.3);
            let mut expect = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    if b.dist2(&x[i], &x[j]) < r2 {
                        expect.push((i as u32, j as u32));
                    }
                }
            }
            // The same configuration given unwrapped by whole box sides.
            let unwrapped: Positions = x
                .iter()
                .enumerate()
                .map(|(i, p)| [p[0] + l * (i % 3) as f64, p[1] - l * (i % 2) as f64, p[2]])
                .collect();
            for (xx, label) in [(&x, "wrapped"), (&unwrapped, "unwrapped")] {
                let list = VerletList::new(&b, xx, rc, 0.3);
                assert_eq!(list.pairs(), expect, "n = {n}, {label}");
                let mut xi = Vec::new();
                list.image_positions(xx, &mut xi);
                for (k, row) in list.start.windows(2).enumerate() {
                    for &m in &list.neigh[row[0] as usize..row[1] as usize] {
                        let (i, j) = (list.image_particle(k), list.image_particle(m as usize));
                        let want = b.delta(&x[i], &x[j]);
                        for c in 0..3 {
                            assert!((xi[k][c] - xi[m as usize][c] - want[c]).abs() < 1e-9, "n = {n}, {label}");
                        }
                    }
                }
                let mut own: Vec<usize> = (0..list.n_images()).map(|k| list.image_particle(k)).collect();
                own.sort_unstable();
                own.dedup();
                assert_eq!(own.len(), n, "every particle has an image");
            }
        }
    }

    /// Verlet-list forces equal all-pairs forces, also after the particles moved (unwrapped,
    /// less than skin/2) since the build.
    #[test]
    fn list_forces_match_all_pairs_after_moves() {
        for (n, rho) in [(108, 0.6), (500, 0.8442), (2916, 0.8442)] {
            let l = (n as f64 / rho).cbrt();
            let b = SimBox::new(l);
            let rc = if n == 108 { 1.9 } else { 2.5 };
            let pe = PairEnergy::new(LennardJones, b, CutoffMode::Spherical { rc, shift: false, tail: false }, n);
            let mut x = shuffled(random_config(n, l, 2), 7);
            let mut r = stream(5, Purpose::Init, 2);
            let list = VerletList::new(&b, &x, rc, 0.3);
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
