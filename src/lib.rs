//! `nti`: free energies of particle systems by Neural Thermodynamic Integration.
//!
//! Reduced Lennard-Jones units throughout (sigma = epsilon = k_B = 1, mass 1);
//! free energies are reported as beta*F (units of kT). See docs/design.md (method, units, file formats, architecture map).

pub mod baseline;
pub mod cli;
pub mod config;
pub mod diffusion;
pub mod energy;
pub mod eos;
pub mod estimators;
pub mod exit;
pub mod input_error;
pub mod io;
pub mod logging;
pub mod model;
pub mod observables;
pub mod parallel;
pub mod potential;
pub mod progress;
pub mod reference;
pub mod report;
pub mod rng;
pub mod run;
pub mod sampling;
pub mod schedule;
pub mod state_buf;
pub mod system;
pub mod train;

/// Program version recorded in every results file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Git commit the binary was built from ("unknown" outside a git checkout).
pub const GIT_COMMIT: &str = env!("NTI_GIT_COMMIT");
