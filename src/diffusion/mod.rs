//! The diffusion process that connects data (t = 0) to the prior (t = 1): noise schedules,
//! the denoising score-matching loss and the reverse SDE (docs/design.md sec. 2).

pub mod ais;
pub mod consistency;
pub mod corrector;
pub mod reverse;
pub mod stein;
pub mod window_state;
pub mod windows;

/// The noise schedules live in [`crate::schedule`] (below both the model and the diffusion process);
/// re-exported here for existing paths.
pub use crate::schedule::{NoiseSchedule, VeSchedule, VpSchedule};
