//! Finished work items of a stage (sampling replicas, lambda windows, TI windows), kept on disk
//! while the stage runs so that an interrupted stage, rerun with the same input, redoes only the
//! items that had not finished. Every item carries its own random streams (keyed by seed, purpose
//! and item id), so a kept item is bitwise what recomputing it would give, on any number of ranks.
//!
//! Layout: `<output stem>.items/` next to the stage's results file, holding `input.toml` (the
//! input sections the items depend on) and one HDF5 file per item, `<kind>_<id>.h5` (dataset
//! `data`, attributes `fingerprint` and `checksum`), each written to a temporary file and renamed.
//! The directory is removed once the results file is in place. Items from another input are never
//! used: the stage stops with an error naming the directory, unless `[output] overwrite = true`,
//! which discards them.
//!
//! An item in progress can also be kept (`<kind>_<id>.state.h5`, same fingerprint, checksum and
//! rename rules): an item computed through [`ItemStore::run_resumable`] is handed a
//! [`SafePoint`] that it calls at its safe points (e.g. after every MC sweep); the safe point saves
//! the item's state when this rank is asked to stop, and every `[output] item_save_seconds`, and a
//! rerun continues the item from that state. The state file is removed when the item finishes.
//!
//! Ranks take the items round-robin; after each round they agree (one all-reduce) on a stop
//! request (`interrupt`), so all ranks stop together at the end of a round with their finished
//! items saved, and the stage returns [`super::interrupt::Interrupted`]. A rank that stopped
//! inside an item (its own request, seen at a safe point) has saved that item's state and waits
//! for the same agreement.

use super::interrupt::{agree_any, requested, Interrupted};
pub use super::safe_point::SafePoint;
use crate::io::checkpoint::checksum;
use crate::io::h5util::{get_str, set_str, write_f64};
use crate::parallel::Comm;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The finished-item store of one stage run.
pub struct ItemStore {
    dir: PathBuf,
    fingerprint: String,
}

/// The `keys` sections of an effective input (TOML text), plus `extra` (e.g. the model's
/// checksum): what the items of a stage depend on.
pub fn fingerprint(effective_toml: &str, keys: &[&str], extra: &str) -> String {
    let t: toml::Table = effective_toml.parse().unwrap_or_default();
    let s: toml::Table = keys.iter().filter_map(|k| t.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
    format!("{}# {extra}\n", toml::to_string(&s).unwrap_or_default())
}

fn hash(text: &str) -> String {
    let v: Vec<f64> = text.bytes().map(f64::from).collect();
    format!("{:016x}", checksum(&[&v]))
}

impl ItemStore {
    /// The store of results file `output` (all ranks; rank 0 checks and creates the directory).
    pub fn open(comm: &Comm, output: &str, fingerprint: String, overwrite: bool) -> Result<Self> {
        let dir = PathBuf::from(format!("{}.items", output.trim_end_matches(".h5")));
        let verdict = if comm.is_root() { Some(prepare(&dir, &fingerprint, overwrite)) } else { None };
        if comm.broadcast_i64(matches!(verdict, Some(Ok(())) | None) as i64) == 0 {
            if let Some(Err(e)) = verdict {
                return Err(e);
            }
            bail!("rank 0 could not prepare the work-item directory '{}'", dir.display());
        }
        Ok(Self { dir, fingerprint })
    }

    /// The saved buffer of item (`kind`, `id`), if it was finished by a run of the same input.
    pub fn load(&self, kind: &str, id: usize) -> Option<Vec<f64>> {
        self.load_file(&format!("{kind}_{id}"))
    }

    /// Saves item (`kind`, `id`) atomically.
    pub fn save(&self, kind: &str, id: usize, data: &[f64]) -> Result<()> {
        self.save_file(&format!("{kind}_{id}"), data)
    }

    /// The saved state of item (`kind`, `id`) in progress, if a run of the same input saved one.
    pub fn load_state(&self, kind: &str, id: usize) -> Option<Vec<f64>> {
        self.load_file(&format!("{kind}_{id}.state"))
    }

    /// Saves the state of item (`kind`, `id`) in progress atomically.
    pub fn save_state(&self, kind: &str, id: usize, data: &[f64]) -> Result<()> {
        self.save_file(&format!("{kind}_{id}.state"), data)
    }

    /// Removes the saved state of item (`kind`, `id`) (it has finished).
    pub fn remove_state(&self, kind: &str, id: usize) {
        let p = self.dir.join(format!("{kind}_{id}.state.h5"));
        if let Err(e) = std::fs::remove_file(&p) {
            if e.kind() != std::io::ErrorKind::NotFound {
                log::warn!("could not remove the saved state '{}': {e}", p.display());
            }
        }
    }

    fn load_file(&self, name: &str) -> Option<Vec<f64>> {
        let p = self.dir.join(format!("{name}.h5"));
        if !p.exists() {
            return None;
        }
        let read = || -> Result<Vec<f64>> {
            let f = hdf5::File::open(&p)?;
            if get_str(&f, "fingerprint")? != hash(&self.fingerprint) {
                bail!("written for another input");
            }
            let v = f.dataset("data")?.read_raw::<f64>()?;
            if get_str(&f, "checksum")? != format!("{:016x}", checksum(&[&v])) {
                bail!("checksum mismatch");
            }
            Ok(v)
        };
        match read() {
            Ok(v) => Some(v),
            Err(e) => {
                log::warn!("work item '{}' is not usable ({e:#}); recomputing it", p.display());
                None
            }
        }
    }

    fn save_file(&self, name: &str, data: &[f64]) -> Result<()> {
        let p = self.dir.join(format!("{name}.h5"));
        let tmp = self.dir.join(format!(".{name}.h5.partial-{}", std::process::id()));
        let res = (|| -> Result<()> {
            let f = hdf5::File::create(&tmp)?;
            write_f64(&f, "data", &[data.len()], data)?;
            set_str(&f, "fingerprint", &hash(&self.fingerprint))?;
            set_str(&f, "checksum", &format!("{:016x}", checksum(&[data])))?;
            f.close()?;
            Ok(())
        })();
        if let Err(e) = res {
            std::fs::remove_file(&tmp).ok();
            return Err(e.context(format!("writing work item '{}'", p.display())));
        }
        std::fs::rename(&tmp, &p).with_context(|| format!("moving work item into place at '{}'", p.display()))
    }

    /// Items `0..n` of `kind` dealt round-robin over ranks: each from the store when saved, else
    /// computed by `f` and saved. Returns this rank's (id, buffer) pairs in id order, or
    /// [`Interrupted`] on every rank after a stop request (the finished items are saved).
    pub fn run(
        &self,
        comm: &Comm,
        kind: &str,
        n: usize,
        mut f: impl FnMut(usize) -> Vec<f64>,
    ) -> Result<Vec<(usize, Vec<f64>)>> {
        self.run_resumable(comm, kind, n, None, |id, _| Ok(Some(f(id))))
    }

    /// As [`ItemStore::run`], for items that can stop and resume inside: `f(id, safe_point)`
    /// returns the finished buffer, or `None` after it stopped at a safe point (its state saved
    /// there). `save_every`: the interval of periodic state saves (`None`: only on a stop).
    pub fn run_resumable(
        &self,
        comm: &Comm,
        kind: &str,
        n: usize,
        save_every: Option<std::time::Duration>,
        mut f: impl FnMut(usize, &mut SafePoint) -> Result<Option<Vec<f64>>>,
    ) -> Result<Vec<(usize, Vec<f64>)>> {
        let (rank, size) = (comm.rank(), comm.size());
        let rounds = n.div_ceil(size);
        let mut out = Vec::new();
        let (mut kept, mut done, mut stopped) = (0, 0, false);
        let mut progress = super::progress::Progress::new(format!("{kind}, rank {rank}"), rounds as u64);
        for round in 0..rounds {
            let id = round * size + rank;
            if id < n && !stopped {
                let buf = match self.load(kind, id) {
                    Some(b) => {
                        kept += 1;
                        Some(b)
                    }
                    None => {
                        let mut sp = SafePoint::new(self, kind, id, rank, save_every);
                        let b = f(id, &mut sp)?;
                        if let Some(b) = &b {
                            self.save(kind, id, b)?;
                            sp.finished();
                            done += 1;
                        }
                        b
                    }
                };
                match buf {
                    Some(b) => out.push((id, b)),
                    None => stopped = true,
                }
                progress.tick(round as u64 + 1, "items");
            }
            // Between rounds any stop request ends the stage; after the last round only an item
            // left unfinished does (the stage's results can be written).
            let local = stopped || (round + 1 < rounds && requested().is_some());
            if agree_any(comm, local) {
                let t = comm.all_reduce_sum(&[(kept + done) as f64, stopped as u8 as f64]);
                let partial = match t[1] as usize {
                    0 => String::new(),
                    1 => ", 1 in progress saved,".into(),
                    k => format!(", {k} in progress saved,"),
                };
                return Err(Interrupted::new(format!(
                    "during {kind}: {} of {n} items finished{partial} and kept in '{}'",
                    t[0],
                    self.dir.display()
                ))
                .into());
            }
        }
        if kept > 0 {
            log::info!("{kind}: {kept} items kept from an earlier run, {done} computed (rank {rank})");
        }
        Ok(out)
    }

    /// Removes the store once the results file is written (rank 0).
    pub fn remove(&self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            log::warn!("could not remove the work-item directory '{}': {e}", self.dir.display());
        }
    }
}

/// Rank 0: creates the directory, or checks that its items belong to this input.
fn prepare(dir: &Path, fingerprint: &str, overwrite: bool) -> Result<()> {
    let stamp = dir.join("input.toml");
    if dir.exists() {
        let had = std::fs::read_to_string(&stamp).unwrap_or_default();
        if had == fingerprint {
            log::info!("resuming: finished work items in '{}' are reused", dir.display());
            return Ok(());
        }
        if !overwrite {
            bail!(
                "work-item directory '{}' holds finished items of a run with another input ({}); rerun with that \
                 input to resume it, delete the directory, or set [output] overwrite = true to discard them",
                dir.display(),
                first_section_difference(&had, fingerprint)
            );
        }
        log::warn!("discarding work items of another input in '{}' ([output] overwrite = true)", dir.display());
        std::fs::remove_dir_all(dir).with_context(|| format!("removing '{}'", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating work-item directory '{}'", dir.display()))?;
    std::fs::write(&stamp, fingerprint).with_context(|| format!("writing '{}'", stamp.display()))
}

/// "[section] key" of the first difference between two fingerprints.
fn first_section_difference(had: &str, want: &str) -> String {
    let (a, b): (toml::Table, toml::Table) = (had.parse().unwrap_or_default(), want.parse().unwrap_or_default());
    let empty = toml::Table::new();
    for (s, v) in b.iter().chain(a.iter()) {
        let (x, y) = (
            a.get(s).and_then(|v| v.as_table()).unwrap_or(&empty),
            b.get(s).and_then(|v| v.as_table()).unwrap_or(&empty),
        );
        if let Some(k) = x.keys().chain(y.keys()).find(|k| x.get(*k) != y.get(*k)) {
            return format!("[{s}] {k} differs");
        }
        if a.get(s) != Some(v) {
            return format!("[{s}] differs");
        }
    }
    "the model or its data differ".into()
}
