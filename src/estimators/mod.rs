//! Statistical estimators: block averages and standard errors.

pub mod block;

pub use block::{block_average, combine_replicas, BlockEstimate};
