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
//! Ranks take the items round-robin; after each round they agree (one all-reduce) on a stop
//! request (`interrupt`), so all ranks stop together at an item boundary with their finished items
//! saved, and the stage returns [`super::interrupt::Interrupted`].

use super::interrupt::{agree, Interrupted};
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

    fn path(&self, kind: &str, id: usize) -> PathBuf {
        self.dir.join(format!("{kind}_{id}.h5"))
    }

    /// The saved buffer of item (`kind`, `id`), if it was finished by a run of the same input.
    pub fn load(&self, kind: &str, id: usize) -> Option<Vec<f64>> {
        let p = self.path(kind, id);
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

    /// Saves item (`kind`, `id`) atomically.
    pub fn save(&self, kind: &str, id: usize, data: &[f64]) -> Result<()> {
        let p = self.path(kind, id);
        let tmp = self.dir.join(format!(".{kind}_{id}.h5.partial-{}", std::process::id()));
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
        let (rank, size) = (comm.rank(), comm.size());
        let mut out = Vec::new();
        let (mut kept, mut done) = (0, 0);
        let mut progress = super::progress::Progress::new(format!("{kind}, rank {rank}"), n.div_ceil(size) as u64);
        for round in 0..n.div_ceil(size) {
            let id = round * size + rank;
            if id < n {
                let buf = match self.load(kind, id) {
                    Some(b) => {
                        kept += 1;
                        b
                    }
                    None => {
                        let b = f(id);
                        self.save(kind, id, &b)?;
                        done += 1;
                        b
                    }
                };
                out.push((id, buf));
                progress.tick(round as u64 + 1, "items");
            }
            if round + 1 < n.div_ceil(size) && agree(comm) {
                let total = comm.all_reduce_sum(&[(kept + done) as f64])[0];
                return Err(Interrupted::new(format!(
                    "during {kind}: {total} of {n} items finished and kept in '{}'",
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
