//! Progress lines with rate and estimated time to completion, at most every few seconds.

use std::time::{Duration, Instant};

/// Reports `done / total` with rate and ETA through `log::info!`.
pub struct Progress {
    label: String,
    total: u64,
    start: Instant,
    last: Instant,
    every: Duration,
}

impl Progress {
    /// Starts the clock for `total` units of work.
    pub fn new(label: impl Into<String>, total: u64) -> Self {
        let now = Instant::now();
        Self { label: label.into(), total, start: now, last: now, every: Duration::from_secs(5) }
    }

    /// Call after each unit; logs when the reporting interval has passed.
    pub fn tick(&mut self, done: u64, unit: &str) {
        let now = Instant::now();
        if now.duration_since(self.last) < self.every && done < self.total {
            return;
        }
        self.last = now;
        let el = now.duration_since(self.start).as_secs_f64();
        let rate = done as f64 / el.max(1e-9);
        let eta = (self.total.saturating_sub(done)) as f64 / rate.max(1e-12);
        log::info!(
            "{}: {done}/{} {unit} ({:.1}%), {rate:.1} {unit}/s, elapsed {el:.1} s, ETA {eta:.1} s",
            self.label,
            self.total,
            100.0 * done as f64 / self.total.max(1) as f64
        );
    }

    /// Seconds since start.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}
