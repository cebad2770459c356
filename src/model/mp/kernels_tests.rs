//! Every build of the message kernels against one reference: the slice form compiled for the
//! baseline ISA, which the finite-difference tests of the message op check (`message_tests`).
//! The SIMD builds (AVX2, AVX-512F where the CPU has them) and the register-array form for V = 8
//! must give bitwise identical outputs, forward and reverse, with and without tangents, with and
//! without sender vector features, and with an absent output adjoint.

use super::*;
use crate::model::simd::Isa;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Random inputs of one message op: N = 6 particles, 7 pairs (particle 5 in several), phi with
/// 20 columns of which m are used from column 3.
struct Case {
    pi: Vec<usize>,
    pj: Vec<usize>,
    cphi: usize,
    c0: usize,
    arrays: Vec<Vec<f64>>,
}

const N: usize = 6;

impl Case {
    fn new(m: usize, seed: u64) -> Self {
        let mut r = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (pi, pj) = (vec![0, 1, 2, 0, 5, 3, 4], vec![1, 3, 4, 3, 2, 5, 5]);
        let (np, cphi, nv) = (pi.len(), 20, m / 2);
        // phi, phid, w, wd, v, vd, d, dd, yb (vector rows), tb, yb (scalar rows), tb.
        let sizes = [N * cphi, N * cphi, np * m, np * m, 3 * N * nv, 3 * N * nv, 3 * np, 3 * np];
        let sizes = sizes.into_iter().chain([3 * N * nv, 3 * N * nv, N * m, N * m]);
        let arrays = sizes
            .map(|len| {
                (0..len)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut r);
                        0.7 * z
                    })
                    .collect()
            })
            .collect();
        Self { pi, pj, cphi, c0: 3, arrays }
    }

    /// The inputs; `tangents` and `v` say which optional arrays are present.
    fn inputs(&self, m: usize, tangents: bool, v: bool) -> Inputs<'_> {
        let a = &self.arrays;
        let opt = |k: usize, on: bool| on.then_some(&a[k][..]);
        Inputs {
            pi: &self.pi,
            pj: &self.pj,
            phi: &a[0],
            phid: opt(1, tangents),
            cphi: self.cphi,
            c0: self.c0,
            m,
            w: &a[2],
            wd: opt(3, tangents),
            v: opt(4, v),
            vd: opt(5, tangents && v),
            d: &a[6],
            dd: opt(7, tangents),
        }
    }
}

/// Which kernel family, form and optional inputs a run uses.
#[derive(Clone, Copy, Debug)]
struct Variant {
    vector: bool,
    fixed: bool,
    dual: bool,
    tangents: bool,
    v: bool,
    yb: bool,
}

/// Forward then reverse of one kernel family in one build; all outputs.
fn run(case: &Case, isa: Isa, var: Variant) -> Vec<Vec<f64>> {
    let Variant { vector, fixed, dual, tangents, v, yb } = var;
    let m = if vector { 16 } else { 8 };
    let x = case.inputs(m, tangents, v);
    let rows = if vector { 3 * N * m / 2 } else { N * m };
    let (mut y, mut yd) = (vec![0.0; rows], vec![0.0; rows]);
    let ydm: &mut [f64] = if dual { &mut yd } else { &mut [] };
    match (vector, fixed, dual) {
        (false, _, false) => scalar_forward::<false>(isa, &x, &mut y, ydm),
        (false, _, true) => scalar_forward::<true>(isa, &x, &mut y, ydm),
        (true, true, false) => vector_forward::<false, 8>(isa, &x, &mut y, ydm),
        (true, true, true) => vector_forward::<true, 8>(isa, &x, &mut y, ydm),
        (true, false, false) => vector_forward::<false, 0>(isa, &x, &mut y, ydm),
        (true, false, true) => vector_forward::<true, 0>(isa, &x, &mut y, ydm),
    }
    let (ybk, tbk) = if vector { (8, 9) } else { (10, 11) };
    let np = case.pi.len();
    let z = |len: usize| vec![0.0; len];
    let (mut phib, mut phidb, mut wb, mut wdb) = (z(N * case.cphi), z(N * case.cphi), z(np * m), z(np * m));
    let (mut vb, mut vdb, mut db) = (z(3 * N * m / 2), z(3 * N * m / 2), z(3 * np));
    let mut o = Outputs {
        yb: yb.then_some(&case.arrays[ybk][..]),
        tb: if dual { &case.arrays[tbk] } else { &[] },
        phib: &mut phib,
        phidb: if dual { &mut phidb } else { &mut [] },
        wb: &mut wb,
        wdb: if dual { &mut wdb } else { &mut [] },
        vb: (vector && v).then_some(&mut vb[..]),
        vdb: if dual && vector && v { &mut vdb } else { &mut [] },
        db: if vector { &mut db } else { &mut [] },
    };
    match (vector, fixed, dual) {
        (false, _, false) => scalar_reverse::<false>(isa, &x, &mut o),
        (false, _, true) => scalar_reverse::<true>(isa, &x, &mut o),
        (true, true, false) => vector_reverse::<false, 8>(isa, &x, &mut o),
        (true, true, true) => vector_reverse::<true, 8>(isa, &x, &mut o),
        (true, false, false) => vector_reverse::<false, 0>(isa, &x, &mut o),
        (true, false, true) => vector_reverse::<true, 0>(isa, &x, &mut o),
    }
    vec![y, yd, phib, phidb, wb, wdb, vb, vdb, db]
}

/// Scalar and vector messages: every SIMD build, and the V = 8 register-array form in every
/// build, equal the baseline slice form bitwise, in every combination of present inputs.
#[test]
fn every_kernel_build_equals_the_baseline_slice_form() {
    let case = Case::new(16, 8);
    let isas = Isa::available();
    let mut compared = 0;
    for vector in [false, true] {
        for dual in [false, true] {
            for tangents in [false, true] {
                for v in [false, true] {
                    for yb in [false, true] {
                        let var = Variant { vector, fixed: false, dual, tangents, v, yb };
                        let want = run(&case, Isa::Baseline, var);
                        assert!(want[0].iter().any(|&y| y != 0.0), "forward wrote nothing");
                        let wrote = want[2..].iter().flatten().any(|&g| g != 0.0);
                        assert_eq!(wrote, yb || dual, "reverse wrote nothing (or without seeds)");
                        for &isa in &isas {
                            for fixed in if vector { vec![false, true] } else { vec![false] } {
                                let var = Variant { fixed, ..var };
                                assert_eq!(run(&case, isa, var), want, "{isa:?}, {var:?}");
                                compared += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(compared >= 48, "compared {compared} builds");
}
