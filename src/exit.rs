//! Exit codes and the classification of errors into them (README "Exit codes").
//!
//! - [`EXIT_RUNTIME`] (1): a run-time failure (a results file that cannot be written at the end, a
//!   numerical failure, non-finite results).
//! - [`EXIT_INPUT`] (2): bad input: the TOML file, the command line, and the files the input names
//!   (training data, model files, checkpoints, the output path). Nothing is run or overwritten.
//! - [`EXIT_INTERRUPTED`] (3): interrupted but resumable (stopped by SIGTERM, SIGINT or SIGUSR1
//!   after writing a checkpoint and the finished work items, [`crate::run::interrupt`]); rerunning
//!   the same command continues. The jobscripts requeue on it.
//!
//! An error is bad input when its chain holds a [`ConfigError`] or a [`BadInput`]; an error that
//! every rank has already learned about through a collective is an [`Agreed`], which carries its code.

use crate::input_error::ConfigError;
use thiserror::Error;

/// Exit code for run-time failures.
pub const EXIT_RUNTIME: i32 = 1;
/// Exit code for bad input or usage.
pub const EXIT_INPUT: i32 = 2;
/// Exit code for a run that was interrupted and can be resumed by running it again.
pub const EXIT_INTERRUPTED: i32 = 3;

/// A problem with a file or path the input names (training data, model, checkpoint, output path):
/// the user's input, so exit code [`EXIT_INPUT`]. Display is the message alone.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Marks any error as bad input, keeping its message and chain (e.g. `.map_err(bad_input)` on the
/// loading of a training data file, whose HDF5 errors are otherwise indistinguishable from
/// run-time ones).
pub fn bad_input(e: anyhow::Error) -> anyhow::Error {
    if is_input(&e) {
        return e;
    }
    anyhow::Error::new(BadInput(format!("{e:#}")))
}

/// An error that every rank knows about because it went through a collective
/// ([`crate::parallel::Comm::agree`]): the ranks leave together with `code` and without MPI_Abort.
/// `error` is the local error to print, `None` on ranks that only follow another rank's failure
/// (or whose error is the one rank 0 prints).
#[derive(Debug)]
pub struct Agreed {
    /// Exit code every rank leaves with (the largest of the failing ranks' codes).
    pub code: i32,
    /// This rank's own error, when it has one to print.
    pub error: Option<anyhow::Error>,
}

impl std::fmt::Display for Agreed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            Some(e) => write!(f, "{e:#}"),
            None => write!(f, "another rank failed (exit code {})", self.code),
        }
    }
}

impl std::error::Error for Agreed {}

/// True when the error is the user's input (a [`ConfigError`] or [`BadInput`] in its chain).
pub fn is_input(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<ConfigError>() || c.is::<BadInput>())
        || e.downcast_ref::<ConfigError>().is_some()
        || e.downcast_ref::<BadInput>().is_some()
}

/// The exit code of an error: an [`Agreed`] error's own code, [`EXIT_INPUT`] for bad input,
/// else [`EXIT_RUNTIME`].
pub fn code_of(e: &anyhow::Error) -> i32 {
    if let Some(a) = e.downcast_ref::<Agreed>() {
        return a.code;
    }
    if is_input(e) {
        EXIT_INPUT
    } else {
        EXIT_RUNTIME
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes_follow_the_error_chain() {
        let cfg: anyhow::Error = ConfigError::invalid("system", "density", -1, "a positive density").into();
        assert_eq!(code_of(&cfg), EXIT_INPUT);
        assert_eq!(code_of(&cfg.context("loading")), EXIT_INPUT);
        let io = anyhow::anyhow!("disk full");
        assert_eq!(code_of(&io), EXIT_RUNTIME);
        let marked = bad_input(anyhow::anyhow!("truncated").context("training data file 'x.h5'"));
        assert_eq!(code_of(&marked), EXIT_INPUT);
        assert_eq!(marked.to_string(), "training data file 'x.h5': truncated");
        let ctx: Result<(), BadInput> = Err(BadInput("no such file".into()));
        assert_eq!(code_of(&ctx.context("outer").unwrap_err()), EXIT_INPUT);
        let agreed = anyhow::Error::new(Agreed { code: 7, error: None }).context("stage");
        assert_eq!(code_of(&agreed), 7);
    }
}
