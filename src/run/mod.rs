//! Drivers: each owns its loop (set up, step, observe, gather, write).

pub mod baseline;
pub mod generate;
pub mod interrupt;
pub mod items;
pub mod model_input;
pub mod pipeline;
pub mod progress;
pub mod replica;
pub mod sample;
pub mod ti;
pub mod train;
pub mod train_resume;

pub use replica::{run_replica, ReplicaOutput};
pub use sample::{run_sample, SampleSummary};

use crate::config::Input;
use crate::io::{OutputFile, Provenance};
use crate::parallel::Comm;

/// Checks the output file on rank 0 before any work and tells every rank the verdict: the
/// prepared file on rank 0, `None` on the others, an error everywhere if rank 0 refused.
pub fn prepare_output(input: &Input, comm: &Comm) -> anyhow::Result<Option<OutputFile>> {
    let o = &input.config.output;
    let out =
        if comm.is_root() { Some(OutputFile::preflight(std::path::Path::new(&o.file), o.overwrite)) } else { None };
    let ok = comm.broadcast_i64(matches!(out, Some(Ok(_)) | None) as i64);
    match out {
        Some(Err(e)) => Err(e),
        Some(Ok(f)) => Ok(Some(f)),
        None if ok == 0 => anyhow::bail!("rank 0 could not prepare the output file"),
        None => Ok(None),
    }
}

/// Provenance of a run of `command` that started at `start`.
pub fn provenance(input: &Input, comm: &Comm, start: std::time::Instant, command: &str) -> Provenance {
    Provenance {
        input_text: input.text.clone(),
        effective_input: input.effective_toml(),
        overrides: input.overrides.clone(),
        input_file: input.source.clone(),
        n_ranks: comm.size(),
        seed: input.config.run.seed,
        wall_seconds: start.elapsed().as_secs_f64(),
        command: command.into(),
    }
}
