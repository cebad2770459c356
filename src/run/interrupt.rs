//! Graceful interruption: SIGTERM, SIGINT and SIGUSR1 ask the running stage to stop at its next
//! safe point, write what it has (a training checkpoint, finished work items), and exit with
//! [`EXIT_INTERRUPTED`], so that rerunning the same command resumes the work.
//!
//! The signal handler only stores the signal number in an atomic (async-signal-safe). Stages poll
//! [`agree`] at safe points: an all-reduce of every rank's flag, so that all ranks stop at the same
//! step or work item even when the signal reached only one of them. A second SIGINT (Ctrl-C twice
//! at a terminal) restores the default action and ends the process at once.
//!
//! Slurm: `#SBATCH --signal=B:USR1@120` delivers SIGUSR1 to the batch shell 120 s before the time
//! limit; the jobscripts in `jobscripts/` forward it to the launcher (`srun` and Open MPI's
//! `mpirun` both pass SIGUSR1 on to every rank). SIGUSR1 is used rather than SIGTERM because
//! `mpirun` answers SIGTERM by killing its ranks itself after a short grace time.

use crate::parallel::Comm;
use std::sync::atomic::{AtomicI32, Ordering};

pub use crate::exit::EXIT_INTERRUPTED;

/// Signal number of the first stop request (0: none).
static REQUESTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    let first = REQUESTED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst).is_ok();
    if !first && sig == libc::SIGINT {
        // SAFETY: signal() and raise() are async-signal-safe (POSIX.1-2008, signal-safety(7)).
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// Installs the stop-request handler for SIGTERM, SIGINT and SIGUSR1 (idempotent).
pub fn install() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
        // SAFETY: a zeroed sigaction with an extern "C" handler that touches only an atomic; the
        // mask is emptied with sigemptyset before use.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                log::warn!("cannot install the handler for signal {sig}: {}", std::io::Error::last_os_error());
            }
        }
    }
}

/// The signal that asked this rank to stop, if any (local, no communication).
pub fn requested() -> Option<i32> {
    match REQUESTED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Collective: true on every rank when any rank has been asked to stop. Call at the same safe
/// points on every rank.
pub fn agree(comm: &Comm) -> bool {
    agree_any(comm, requested().is_some())
}

/// Collective: true on every rank when `local` is true on any rank.
pub fn agree_any(comm: &Comm, local: bool) -> bool {
    if comm.size() == 1 {
        return local;
    }
    comm.all_reduce_sum(&[local as u8 as f64])[0] > 0.0
}

/// The pseudo signal number of a stop requested by the test hook `NTI_TEST_STOP_AFTER_STEPS`
/// (`super::safe_point`).
pub const TEST_HOOK: i32 = -1;

/// Requests a stop as a signal would (`sig`: the signal number, or [`TEST_HOOK`]).
pub fn request(sig: i32) {
    REQUESTED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst).ok();
}

/// Name of a signal number for messages.
pub fn signal_name(sig: Option<i32>) -> &'static str {
    match sig {
        Some(libc::SIGTERM) => "SIGTERM",
        Some(libc::SIGINT) => "SIGINT",
        Some(libc::SIGUSR1) => "SIGUSR1",
        Some(TEST_HOOK) => "the test hook NTI_TEST_STOP_AFTER_STEPS",
        Some(_) => "a signal",
        None => "a signal on another rank",
    }
}

/// The error a stage returns after it stopped on request and saved its work; the command line
/// maps it to [`EXIT_INTERRUPTED`].
#[derive(Debug, thiserror::Error)]
#[error("interrupted by {signal} {what}; rerun the same command to resume")]
pub struct Interrupted {
    /// Signal name.
    pub signal: &'static str,
    /// Where the stage stopped and what it saved.
    pub what: String,
}

impl Interrupted {
    /// The error for this rank's request (or another rank's) with a description of what was saved.
    pub fn new(what: impl Into<String>) -> Self {
        Self { signal: signal_name(requested()), what: what.into() }
    }
}
