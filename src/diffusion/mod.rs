//! The diffusion process that connects data (t = 0) to the prior (t = 1): noise schedules,
//! the denoising score-matching loss and the reverse SDE (DESIGN.md sec. 2).

pub mod ais;
pub mod consistency;
pub mod corrector;
pub mod reverse;
pub mod schedule;
pub mod windows;

pub use schedule::{NoiseSchedule, VeSchedule, VpSchedule};
