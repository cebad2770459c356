//! Conventional free-energy baselines (docs/design.md sec. 3): thermodynamic integration along the
//! soft-core path U_lambda = (1 - lambda) sum 4 [s^6 - s^3], s = 1/(lambda + r^2) (lambda = 0 full LJ,
//! lambda = 1 ideal gas) with Metropolis MC at K windows, and MBAR over the same windows.

pub mod lambda_window;

pub use lambda_window::{run_lambda_window, run_lambda_window_at, LambdaPath, LambdaWindowOutput, LambdaWindowState};
