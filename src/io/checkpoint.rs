//! Training checkpoints in HDF5, written to a temporary file and renamed (never half-written):
//! model kind and shape (JSON), parameters, AdamW moments and step count, the step, seed and
//! data-order cursor (every random stream is keyed by (seed, purpose, index), so these are the
//! complete random state), loss curves, and the input text.
//!
//! Layout: `/checkpoint` attributes (format, kind, spec, seed, step, epoch, cursor, input_text,
//! data_files, version, git_commit); datasets `params`, `adam_m`, `adam_v`, `adam_t` (scalar),
//! `history/{step,train_loss,val_loss,lr,val_loss_by_t}`.

use super::h5util::{get_i64, get_str, set_i64, set_str, write_f64};
use crate::model::EnergyModel;
use crate::train::trainer::T_BINS;
use crate::train::{History, Trainer};
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;

/// Checkpoint format version.
pub const CHECKPOINT_FORMAT: i64 = 1;

/// FNV-1a 64-bit hash of the bytes of the parameter and moment vectors, stored with the checkpoint so
/// that corrupted data are detected on load.
pub fn checksum(parts: &[&[f64]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for v in p.iter() {
            for b in v.to_le_bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    h
}

/// What a checkpoint holds besides the model and trainer.
#[derive(Clone, Debug, Default)]
pub struct CheckpointMeta {
    /// Input file text of the run.
    pub input_text: String,
    /// Training data files.
    pub data_files: Vec<String>,
    /// Epoch and position of the data-order cursor.
    pub cursor: (u64, u64),
}

/// Writes a checkpoint atomically to `path` (replacing an older checkpoint of the same run).
pub fn write_checkpoint<M: EnergyModel + ?Sized>(
    path: &Path,
    model: &M,
    tr: &Trainer,
    meta: &CheckpointMeta,
) -> Result<()> {
    let tmp = super::partial::temp_path(path);
    let res = (|| -> Result<()> {
        let f = hdf5::File::create(&tmp)?;
        let g = f.create_group("checkpoint")?;
        set_i64(&g, "format", CHECKPOINT_FORMAT)?;
        set_str(&g, "kind", model.kind())?;
        set_str(&g, "spec", &model.spec())?;
        set_i64(&g, "seed", tr.seed as i64)?;
        set_i64(&g, "step", tr.step as i64)?;
        set_i64(&g, "epoch", meta.cursor.0 as i64)?;
        set_i64(&g, "cursor", meta.cursor.1 as i64)?;
        set_str(&g, "input_text", &meta.input_text)?;
        set_str(&g, "data_files", &meta.data_files.join("\n"))?;
        set_str(&g, "settings", &serde_json::to_string(&tr.settings)?)?;
        set_str(&g, "version", crate::VERSION)?;
        set_str(&g, "git_commit", crate::GIT_COMMIT)?;
        let p = model.params();
        write_f64(&g, "params", &[p.len()], p)?;
        write_f64(&g, "adam_m", &[p.len()], &tr.opt.m)?;
        write_f64(&g, "adam_v", &[p.len()], &tr.opt.v)?;
        set_i64(&g, "adam_t", tr.opt.t as i64)?;
        set_str(&g, "checksum", &format!("{:016x}", checksum(&[p, &tr.opt.m, &tr.opt.v])))?;
        set_f64_pair(&g, tr.loss_acc)?;
        let h = g.create_group("history")?;
        let n = tr.history.step.len();
        write_f64(&h, "step", &[n], &tr.history.step)?;
        write_f64(&h, "train_loss", &[n], &tr.history.train_loss)?;
        write_f64(&h, "val_loss", &[n], &tr.history.val_loss)?;
        write_f64(&h, "lr", &[n], &tr.history.lr)?;
        write_f64(&h, "val_loss_by_t", &[n, T_BINS], &tr.history.val_loss_by_t)?;
        f.close()?;
        Ok(())
    })();
    if let Err(e) = res {
        std::fs::remove_file(&tmp).ok();
        return Err(e.context(format!("writing checkpoint '{}'", path.display())));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        anyhow!(e).context(format!("moving checkpoint into place at '{}'", path.display()))
    })
}

/// The step and the training settings (JSON) recorded in a checkpoint, read without loading the
/// model: to decide whether a checkpoint can be resumed, and never to replace a later one.
pub fn checkpoint_step_and_settings(path: &Path) -> Result<(u64, String)> {
    let what = || format!("checkpoint '{}'", path.display());
    let f = hdf5::File::open(path)
        .map_err(|e| anyhow!("{} is not a readable HDF5 file (truncated or corrupted?): {e}", what()))?;
    let g =
        f.group("checkpoint").map_err(|_| anyhow!("{} has no /checkpoint group (not an nti checkpoint)", what()))?;
    let step = get_i64(&g, "step").with_context(what)?;
    let settings = get_str(&g, "settings").with_context(what)?;
    Ok((step.max(0) as u64, settings))
}

fn set_f64_pair(g: &hdf5::Group, acc: (f64, u64)) -> Result<()> {
    super::h5util::set_f64(g, "loss_acc_sum", acc.0)?;
    set_i64(g, "loss_acc_count", acc.1 as i64)
}

/// Reads a checkpoint into `model` (whose shape must match) and `tr` (whose settings are kept).
/// Errors name the file and what is wrong; nothing is modified on error.
pub fn read_checkpoint<M: EnergyModel + ?Sized>(
    path: &Path,
    model: &mut M,
    tr: &mut Trainer,
) -> Result<CheckpointMeta> {
    let what = || format!("checkpoint '{}'", path.display());
    if !path.exists() {
        bail!("{} does not exist", what());
    }
    let f = hdf5::File::open(path)
        .map_err(|e| anyhow!("{} is not a readable HDF5 file (truncated or corrupted?): {e}", what()))?;
    let g =
        f.group("checkpoint").map_err(|_| anyhow!("{} has no /checkpoint group (not an nti checkpoint)", what()))?;
    let read = || -> Result<_> {
        let format = get_i64(&g, "format")?;
        if format != CHECKPOINT_FORMAT {
            bail!("format {format}, expected {CHECKPOINT_FORMAT}");
        }
        let kind = get_str(&g, "kind")?;
        let spec = get_str(&g, "spec")?;
        if kind != model.kind() || !model.same_shape(&spec) {
            bail!(
                "holds a model of another shape:\n  expected {} {}\n  found    {kind} {spec}",
                model.kind(),
                model.spec()
            );
        }
        let n = model.params().len();
        let vec = |name: &str| -> Result<Vec<f64>> {
            let v = g.dataset(name).with_context(|| format!("dataset '{name}'"))?.read_raw::<f64>()?;
            if v.len() != n {
                bail!("dataset '{name}' has {} values, the model has {n} parameters", v.len());
            }
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                bail!("dataset '{name}' holds a non-finite value at index {k} of {n}: {}", v[k]);
            }
            Ok(v)
        };
        let (p, m, v) = (vec("params")?, vec("adam_m")?, vec("adam_v")?);
        let stored = get_str(&g, "checksum")?;
        let actual = format!("{:016x}", checksum(&[&p, &m, &v]));
        if stored != actual {
            bail!("is corrupted: checksum of parameters and optimiser moments is {actual}, stored {stored}");
        }
        let h = g.group("history").context("group 'history'")?;
        let hv = |name: &str| -> Result<Vec<f64>> {
            Ok(h.dataset(name).with_context(|| format!("dataset 'history/{name}'"))?.read_raw::<f64>()?)
        };
        let step = hv("step")?;
        let val_loss_by_t = hv("val_loss_by_t")?;
        if val_loss_by_t.len() != step.len() * T_BINS {
            bail!("history/val_loss_by_t has {} values, expected {} x {T_BINS}", val_loss_by_t.len(), step.len());
        }
        let history =
            History { step, train_loss: hv("train_loss")?, val_loss: hv("val_loss")?, lr: hv("lr")?, val_loss_by_t };
        let meta = CheckpointMeta {
            input_text: get_str(&g, "input_text")?,
            data_files: get_str(&g, "data_files")?.lines().map(str::to_string).collect(),
            cursor: (get_i64(&g, "epoch")? as u64, get_i64(&g, "cursor")? as u64),
        };
        let acc = (super::h5util::get_f64(&g, "loss_acc_sum")?, get_i64(&g, "loss_acc_count")? as u64);
        Ok((
            p,
            m,
            v,
            get_i64(&g, "adam_t")? as u64,
            get_i64(&g, "step")? as u64,
            get_i64(&g, "seed")? as u64,
            history,
            meta,
            acc,
        ))
    };
    let (p, m, v, t, step, seed, history, meta, acc) = read().map_err(|e| anyhow!("{} {e:#}", what()))?;
    if seed != tr.seed {
        bail!(
            "{} was written with seed {seed}, but this run has seed {}; restart with the same [run] seed",
            what(),
            tr.seed
        );
    }
    model.params_mut().copy_from_slice(&p);
    tr.opt.m = m;
    tr.opt.v = v;
    tr.opt.t = t;
    tr.step = step;
    tr.history = history;
    tr.loss_acc = acc;
    Ok(meta)
}
