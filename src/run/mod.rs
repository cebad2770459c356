//! Drivers: each owns its loop (set up, step, observe, gather, write).

pub mod baseline;
pub mod generate;
pub mod model_input;
pub mod pipeline;
pub mod progress;
pub mod replica;
pub mod sample;
pub mod startup;
pub mod ti;
pub mod train;

pub use replica::{run_replica, ReplicaOutput};
pub use sample::{run_sample, SampleSummary};

use crate::config::Input;
use crate::io::{OutputFile, Provenance};
use crate::parallel::Comm;

/// Checks the output file on rank 0 before any work and tells every rank the verdict
/// (collective): the prepared file on rank 0, `None` on the others, an error everywhere (printed
/// by rank 0, exit code 2) if rank 0 refused.
pub fn prepare_output(input: &Input, comm: &Comm) -> anyhow::Result<Option<OutputFile>> {
    let o = &input.config.output;
    let out = if comm.is_root() {
        OutputFile::preflight(std::path::Path::new(&o.file), o.overwrite).map(Some)
    } else {
        Ok(None)
    };
    comm.agree(out)
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
