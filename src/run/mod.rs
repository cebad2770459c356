//! Drivers: each owns its loop (set up, step, observe, gather, write).

pub mod baseline;
pub mod generate;
pub mod interrupt;
pub mod items;
pub mod memory;
pub mod model_input;
pub mod pipeline;
/// Progress lines live in [`crate::progress`] (used by drivers and the trainer); re-exported here
/// for existing paths.
pub use crate::progress;
pub mod replica;
pub mod safe_point;
pub mod sample;
pub mod startup;
pub mod ti;
pub mod train;
pub mod train_resume;

pub use replica::{run_replica, run_replica_at, ReplicaOutput};
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

/// Refuses non-finite free energies at the end of `nti ti` / `nti generate`: the results file
/// stays (its integrands under /ti show where the estimate broke down), but the run fails with a
/// run-time error (exit code 1) naming every non-finite value, so that no script takes a NaN for
/// a result. `values`: (what, value) pairs.
pub fn refuse_non_finite(
    file: &std::path::Path,
    values: impl IntoIterator<Item = (String, f64)>,
) -> anyhow::Result<()> {
    let bad: Vec<String> =
        values.into_iter().filter(|(_, v)| !v.is_finite()).map(|(w, v)| format!("{w} = {v}")).collect();
    if bad.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 4;
    let more = if bad.len() > SHOWN { format!(" and {} more", bad.len() - SHOWN) } else { String::new() };
    let bad = [bad[..bad.len().min(SHOWN)].join(", "), more].concat();
    anyhow::bail!(
        "non-finite free energies: {}; the model's energies overflow or are undefined on these samples. \
         Results file '{}' was written for diagnosis (integrands under /ti)",
        bad,
        file.display()
    )
}

/// Provenance of a run of `command` that started at `start`, with the warnings logged since the
/// last results file was written (rank 0's, and those of other ranks brought by
/// [`crate::io::warnings::gather`]).
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
        warnings: crate::logging::take_warnings(),
    }
}
