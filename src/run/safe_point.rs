//! The safe points of a work item in progress (a sampling replica, a lambda window): places in
//! its loop where its whole state can be written down and the loop continued from it bitwise
//! (e.g. between two MC sweeps). At each one [`SafePoint::check`] saves the item's state into the
//! work-item store (`super::items`) when this rank has been asked to stop, and also every
//! `[output] item_save_seconds`, so a kill -9 loses at most that much of the item; it then tells
//! the item whether to stop. The state never depends on when it was saved, so saving does not
//! change any result.
//!
//! Test hook: with `NTI_TEST_STOP_AFTER_STEPS=K` in the environment, a rank requests a stop (as a
//! SIGTERM would) once its items have passed K safe points in this process; `K@R` restricts this
//! to MPI rank R. The tests use it to stop an item at an exact step (tests/resume_items.rs).

use super::interrupt::{request, requested, TEST_HOOK};
use super::items::ItemStore;
use anyhow::Result;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The environment variable of the test hook.
pub const TEST_HOOK_VAR: &str = "NTI_TEST_STOP_AFTER_STEPS";

/// Safe points passed by this process (for the test hook).
static PASSED: AtomicU64 = AtomicU64::new(0);

/// The test hook's (K, rank) from the environment, read once.
fn hook() -> Option<(u64, Option<usize>)> {
    static HOOK: OnceLock<Option<(u64, Option<usize>)>> = OnceLock::new();
    *HOOK.get_or_init(|| {
        let v = std::env::var(TEST_HOOK_VAR).ok()?;
        let (k, r) = match v.split_once('@') {
            Some((k, r)) => (k, Some(r)),
            None => (v.as_str(), None),
        };
        let parsed = (k.trim().parse::<u64>(), r.map(|r| r.trim().parse::<usize>()));
        match parsed {
            (Ok(k), None) => Some((k, None)),
            (Ok(k), Some(Ok(r))) => Some((k, Some(r))),
            _ => {
                log::warn!("{TEST_HOOK_VAR} = '{v}' ignored: expected K or K@RANK (non-negative integers)");
                None
            }
        }
    })
}

/// The safe-point handle of one item in progress on this rank.
pub struct SafePoint<'a> {
    store: &'a ItemStore,
    kind: &'a str,
    id: usize,
    rank: usize,
    every: Option<Duration>,
    last: Instant,
}

impl<'a> SafePoint<'a> {
    /// The handle of item (`kind`, `id`) run by `rank`, saving every `every` (if set).
    pub fn new(store: &'a ItemStore, kind: &'a str, id: usize, rank: usize, every: Option<Duration>) -> Self {
        Self { store, kind, id, rank, every, last: Instant::now() }
    }

    /// The state an earlier run saved for this item, decoded by `read`; `None` (with a warning
    /// when a state was there but `read` refused it) starts the item from its beginning.
    pub fn resume<T>(&self, read: impl FnOnce(&[f64]) -> Result<T>) -> Option<T> {
        let buf = self.store.load_state(self.kind, self.id)?;
        match read(&buf) {
            Ok(t) => {
                log::info!("{} {}: resuming from its saved state", self.kind, self.id);
                Some(t)
            }
            Err(e) => {
                log::warn!("the saved state of {} {} is not usable ({e:#}); starting it afresh", self.kind, self.id);
                None
            }
        }
    }

    /// Call at every safe point with the item's state (built only when it is saved). Returns true
    /// when the item must stop now (this rank was asked to stop; the state is saved).
    pub fn check(&mut self, state: impl FnOnce() -> Vec<f64>) -> Result<bool> {
        if let Some((k, rank)) = hook() {
            if rank.map_or(true, |r| r == self.rank) && PASSED.fetch_add(1, Ordering::Relaxed) + 1 >= k {
                request(TEST_HOOK);
            }
        }
        let stop = requested().is_some();
        if stop || self.every.is_some_and(|e| self.last.elapsed() >= e) {
            self.store.save_state(self.kind, self.id, &state())?;
            self.last = Instant::now();
        }
        Ok(stop)
    }

    /// The item has finished and is saved as such: its state, if any, goes.
    pub fn finished(self) {
        self.store.remove_state(self.kind, self.id);
    }
}
