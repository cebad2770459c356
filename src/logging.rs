//! Log set-up: env_logger on stderr (`RUST_LOG`, default info), made rank-aware once MPI is up.
//! Rank 0 logs from `info` on; every other rank logs only its own warnings and errors, each line
//! tagged `[rank K]`, so that a line printed by every rank does not appear once per rank and a
//! problem on rank K is visible and attributable.

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};

/// This process's rank for the log tag; -1 before MPI is initialised or in a one-rank run.
static RANK: AtomicI64 = AtomicI64::new(-1);

/// Installs the logger (call once, first thing in `main`).
pub fn init() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            let ts = buf.timestamp_seconds();
            writeln!(buf, "{}[{ts} {:<5} {}] {}", tag(), record.level(), record.target(), record.args())
        })
        .init();
}

/// Tells the logger this process's rank among `size`: tags every later line of ranks > 0 and
/// limits ranks > 0 to warnings and errors.
pub fn set_rank(rank: usize, size: usize) {
    if size > 1 {
        RANK.store(rank as i64, Ordering::Relaxed);
    }
    if rank > 0 {
        log::set_max_level(log::max_level().min(log::LevelFilter::Warn));
    }
}

/// `"[rank K] "` on ranks > 0 of a multi-rank run, else empty (rank 0's lines are the run's own).
pub fn tag() -> String {
    match RANK.load(Ordering::Relaxed) {
        r if r > 0 => format!("[rank {r}] "),
        _ => String::new(),
    }
}

/// `"[rank K] "` on every rank of a multi-rank run (rank 0 included), for error messages, which
/// any rank may print.
pub fn error_tag() -> String {
    match RANK.load(Ordering::Relaxed) {
        r if r >= 0 => format!("[rank {r}] "),
        _ => String::new(),
    }
}
