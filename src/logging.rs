//! Log set-up: env_logger on stderr (`RUST_LOG`, default info), made rank-aware once MPI is up.
//! Rank 0 logs from `info` on; every other rank logs only its own warnings and errors, each line
//! tagged `[rank K]`, so that a line printed by every rank does not appear once per rank and a
//! problem on rank K is visible and attributable.
//!
//! Every warning is also kept (whatever `RUST_LOG` shows), so that the results file can store the
//! warnings of the run that wrote it (`/diagnostics`, [`crate::io::warnings`]): [`take_warnings`]
//! hands them over, and [`crate::io::warnings::gather`] brings those of other ranks to rank 0.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// This process's rank for the log tag; -1 before MPI is initialised or in a one-rank run.
static RANK: AtomicI64 = AtomicI64::new(-1);

/// The warnings logged by this process since the last [`take_warnings`], each with its rank tag.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// env_logger for the terminal, plus the kept warnings.
struct Keeping {
    inner: env_logger::Logger,
}

impl Log for Keeping {
    fn enabled(&self, m: &Metadata) -> bool {
        m.level() <= Level::Warn || self.inner.enabled(m)
    }

    fn log(&self, record: &Record) {
        if record.level() == Level::Warn {
            keep(format!("{}{}", tag(), record.args()));
        }
        if self.inner.enabled(record.metadata()) {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

fn keep(line: String) {
    WARNINGS.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

/// The warnings logged by this process since the last call (in order), removing them: each results
/// file stores those of the work it holds.
pub fn take_warnings() -> Vec<String> {
    std::mem::take(&mut *WARNINGS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Puts warnings (e.g. those of other ranks) among this process's kept ones, without logging them.
pub fn add_warnings(lines: impl IntoIterator<Item = String>) {
    WARNINGS.lock().unwrap_or_else(|e| e.into_inner()).extend(lines);
}

/// Installs the logger (call once, first thing in `main`).
pub fn init() {
    let inner = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            let ts = buf.timestamp_seconds();
            writeln!(buf, "{}[{ts} {:<5} {}] {}", tag(), record.level(), record.target(), record.args())
        })
        .build();
    let max = inner.filter().max(LevelFilter::Warn);
    if log::set_boxed_logger(Box::new(Keeping { inner })).is_ok() {
        log::set_max_level(max);
    }
}

/// Tells the logger this process's rank among `size`: tags every later line of ranks > 0 and
/// limits ranks > 0 to warnings and errors.
pub fn set_rank(rank: usize, size: usize) {
    if size > 1 {
        RANK.store(rank as i64, Ordering::Relaxed);
    }
    if rank > 0 {
        log::set_max_level(log::max_level().min(LevelFilter::Warn));
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
