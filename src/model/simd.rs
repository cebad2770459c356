//! The SIMD instruction set the hand-written kernels run with, chosen at run time.
//!
//! The release build targets baseline x86-64 (SSE2), so that one binary runs on every x86-64
//! node of a cluster. Kernels whose loops the compiler vectorises are compiled a second (and
//! third) time with AVX2 (and AVX-512F) enabled, and [`Isa::best`] picks the widest build this
//! CPU runs. All builds perform the same IEEE operations in the same order: Rust never contracts
//! a * b + c into a fused multiply-add, and lane-wise SIMD operations round like scalar ones. So
//! results are bitwise identical across builds, CPUs and ranks (the kernels' tests compare them).

/// Instruction set a kernel runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// The portable build (baseline of the target).
    Baseline,
    /// The AVX2 build (x86-64 with AVX2).
    Avx2,
    /// The AVX-512F build (x86-64 with AVX-512F); kernels without such a build use AVX2.
    Avx512,
}

impl Isa {
    /// The widest build this CPU runs (the detection is cached by std).
    #[inline]
    pub fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    /// Every build this CPU runs, narrowest first (for tests that compare them).
    pub fn available() -> Vec<Self> {
        let best = Self::best();
        [Isa::Baseline, Isa::Avx2, Isa::Avx512].into_iter().filter(|&i| i as u8 <= best as u8).collect()
    }
}

/// Defines `pub fn $name<const ...>(isa: Isa, args)` that runs the `#[inline(always)]` generic
/// function `$body` in the build `isa` selects (a wider one only where the CPU has it).
macro_rules! multiversion_generic {
    ($(#[$doc:meta])* pub fn $name:ident<$(const $g:ident: $gt:ty),*>($($arg:ident : $ty:ty),* $(,)?) => $body:ident) => {
        $(#[$doc])*
        pub fn $name<$(const $g: $gt),*>(isa: $crate::model::simd::Isa, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                use $crate::model::simd::Isa;
                #[target_feature(enable = "avx512f")]
                fn avx512<$(const $g: $gt),*>($($arg: $ty),*) {
                    $body::<$($g),*>($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2<$(const $g: $gt),*>($($arg: $ty),*) {
                    $body::<$($g),*>($($arg),*)
                }
                if isa == Isa::Avx512 && std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F (checked just above).
                    return unsafe { avx512::<$($g),*>($($arg),*) };
                }
                if isa != Isa::Baseline && std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    return unsafe { avx2::<$($g),*>($($arg),*) };
                }
            }
            let _ = isa;
            $body::<$($g),*>($($arg),*)
        }
    };
}
pub(crate) use multiversion_generic;
