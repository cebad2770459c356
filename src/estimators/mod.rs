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
pub mod quadrature;

pub use block::{block_average, combine_replicas, BlockEstimate};
