//! Drivers: each owns its loop (set up, step, observe, gather, write).

pub mod baseline;
pub mod generate;
pub mod progress;
pub mod replica;
pub mod sample;
pub mod ti;
pub mod train;

pub use replica::{run_replica, ReplicaOutput};
pub use sample::{run_sample, SampleSummary};
