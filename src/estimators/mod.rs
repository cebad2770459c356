//! Statistical estimators: block averages, autocorrelation and standard errors.

pub mod attribution;
pub mod autocorr;
pub mod block;
pub mod bootstrap;
pub mod clenshaw_curtis;
pub mod density_fit;
pub mod equilibration;
pub mod gcmc_reweight;
pub mod mbar;
pub mod mbar_unsampled;
pub mod quadrature;
pub mod subsample;
pub mod window_mbar;

pub use block::{block_average, combine_replicas, BlockEstimate};

extern "C" {
    /// OpenBLAS's thread-count setter (libopenblas, linked through ndarray-linalg).
    fn openblas_set_num_threads(n: std::os::raw::c_int);
}

/// Runs OpenBLAS (the LAPACK behind MBAR and the density fits) on one thread. Its summation
/// order, and so the last bits of e.g. an MBAR error, otherwise depends on the cores a launcher
/// gives a rank (two threads for a serial run on two cores, one under mpirun's core binding), and
/// a run resumed under another launcher or rank count would not end bitwise equal. The matrices
/// are K x K for K windows, too small for threads to matter for speed. Call once at start-up.
pub fn single_threaded_lapack() {
    // SAFETY: openblas_set_num_threads only sets OpenBLAS's thread count; called before any
    // LAPACK call, from the main thread.
    unsafe { openblas_set_num_threads(1) }
}
