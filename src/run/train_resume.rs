//! Where `nti train` (and the train stage of `nti run`) starts: afresh, from the checkpoint given
//! with `--restart`, or automatically from the checkpoint of this output file
//! (`<output stem>.ckpt.h5`) when that was written by the same training (same model, data, seed
//! and `[train]` settings apart from `steps` and `checkpoint_every`, which do not change the
//! trajectory of the parameters). So a job that is preempted, cancelled or requeued and rerun with
//! the same input continues where it stopped, bitwise identically to an uninterrupted run.
//!
//! Work is never lost silently: a checkpoint of this output that cannot be resumed (other input,
//! corrupted, beyond `[train] steps`) stops the run with an error unless `[output] overwrite =
//! true`, and `--restart` from an earlier checkpoint never replaces a later checkpoint of this
//! output unless `[output] overwrite = true`.

use crate::config::Config;
use crate::io::checkpoint::{checkpoint_step_and_settings, read_checkpoint};
use crate::model::ParticleModel;
use crate::parallel::Comm;
use crate::train::Trainer;
use anyhow::{anyhow, bail, Result};
use std::path::{Path, PathBuf};

/// Settings that may differ between a checkpoint and the run resuming it.
const FREE_SETTINGS: &[&str] = &["steps", "checkpoint_every"];

/// Where training starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// From the initial parameters at step 0.
    Fresh,
    /// From this checkpoint.
    Checkpoint(PathBuf),
}

/// Decides on rank 0 and tells every rank (an agreed error, exit code 2, on every rank when rank 0
/// refuses). `ckpt` is
/// this output's checkpoint path, `restart` the `--restart` argument; `model` and `tr` are the
/// freshly initialised model and trainer (not modified).
pub fn decide_start(
    cfg: &Config,
    comm: &Comm,
    ckpt: &Path,
    restart: Option<&Path>,
    model: &dyn ParticleModel,
    tr: &Trainer,
) -> Result<Start> {
    let verdict = if comm.is_root() { decide(cfg, ckpt, restart, model, tr) } else { Ok(Start::Fresh) };
    // A refusal is the user's input (checkpoint of other settings, later checkpoint): exit code 2.
    let verdict = comm.agree(verdict.map_err(crate::exit::bad_input))?;
    match comm.broadcast_i64(matches!(verdict, Start::Checkpoint(_)) as i64) {
        0 => Ok(Start::Fresh),
        _ => Ok(Start::Checkpoint(restart.unwrap_or(ckpt).to_path_buf())),
    }
}

/// Rank 0's decision.
fn decide(cfg: &Config, ckpt: &Path, restart: Option<&Path>, model: &dyn ParticleModel, tr: &Trainer) -> Result<Start> {
    let overwrite = cfg.output.overwrite;
    if let Some(r) = restart {
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        };
        if ckpt.exists() && !same(r, ckpt) && !overwrite {
            if let (Ok((later, _)), Ok((from, _))) =
                (checkpoint_step_and_settings(ckpt), checkpoint_step_and_settings(r))
            {
                if later > from {
                    bail!(
                        "checkpoint '{}' of this output is at step {later}, later than '{}' (step {from}); \
                         restarting would replace it with earlier steps: restart from '{}', choose another [output] \
                         file, or set [output] overwrite = true",
                        ckpt.display(),
                        r.display(),
                        ckpt.display()
                    );
                }
            }
        }
        return Ok(Start::Checkpoint(r.to_path_buf()));
    }
    if !ckpt.exists() {
        return Ok(Start::Fresh);
    }
    match resumable(cfg, ckpt, model, tr) {
        Ok(step) => {
            log::info!("resuming training from checkpoint '{}' at step {step}", ckpt.display());
            Ok(Start::Checkpoint(ckpt.to_path_buf()))
        }
        Err(why) if overwrite => {
            log::warn!(
                "checkpoint '{}' cannot be resumed ({why:#}); training afresh and replacing it ([output] overwrite = true)",
                ckpt.display()
            );
            Ok(Start::Fresh)
        }
        Err(why) => bail!(
            "checkpoint '{}' of this output exists but cannot be resumed: {why:#}; rerun with the input that wrote it, \
             delete it, choose another [output] file, or set [output] overwrite = true to train afresh",
            ckpt.display()
        ),
    }
}

/// The step of `ckpt` when this run can resume it, else why not.
fn resumable(cfg: &Config, ckpt: &Path, model: &dyn ParticleModel, tr: &Trainer) -> Result<u64> {
    let (mut m, mut t) = (model.boxed_clone(), tr.clone());
    read_checkpoint(ckpt, m.as_mut(), &mut t)?;
    let (step, stored) = checkpoint_step_and_settings(ckpt)?;
    let strip = |v: serde_json::Value| -> serde_json::Value {
        match v {
            serde_json::Value::Object(mut o) => {
                for k in FREE_SETTINGS {
                    o.remove(*k);
                }
                serde_json::Value::Object(o)
            }
            other => other,
        }
    };
    let had = strip(serde_json::from_str(&stored).map_err(|e| anyhow!("its [train] settings do not parse: {e}"))?);
    let want = strip(serde_json::to_value(&tr.settings)?);
    if had != want {
        let (ho, wo) = (had.as_object().cloned().unwrap_or_default(), want.as_object().cloned().unwrap_or_default());
        let key = wo.keys().chain(ho.keys()).find(|k| ho.get(*k) != wo.get(*k)).cloned().unwrap_or_default();
        let show = |v: Option<&serde_json::Value>| v.map_or("(absent)".into(), |v| v.to_string());
        bail!("it was written with [train] {key} = {} and this input has {}", show(ho.get(&key)), show(wo.get(&key)));
    }
    if step > cfg.train.steps {
        bail!("it is at step {step}, beyond [train] steps = {}", cfg.train.steps);
    }
    Ok(step)
}
