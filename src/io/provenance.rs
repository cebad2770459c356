//! Provenance stored with every result: input text, program version, git commit, ranks, seed,
//! wall time, host and command line; and the run's warnings (`/diagnostics`).

use super::h5util::{set_f64, set_i64, set_str};
use anyhow::Result;
use hdf5::Group;

/// Where a result came from.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// The input file's text as read.
    pub input_text: String,
    /// The effective configuration (defaults filled in, overrides applied), TOML.
    pub effective_input: String,
    /// Command-line overrides.
    pub overrides: Vec<String>,
    /// Input file path.
    pub input_file: String,
    /// Number of MPI ranks.
    pub n_ranks: usize,
    /// Master seed.
    pub seed: u64,
    /// Wall time of the run (s).
    pub wall_seconds: f64,
    /// The command (e.g. "sample").
    pub command: String,
    /// The warnings the run logged, on every rank (`/diagnostics`, [`super::warnings`]).
    pub warnings: Vec<String>,
}

impl Provenance {
    /// Writes `/provenance` ([`Self::write`]) and `/diagnostics` (the warnings) into `f`.
    pub fn write_to(&self, f: &hdf5::File) -> Result<()> {
        self.write(&f.create_group("provenance")?)?;
        super::warnings::write(f, &self.warnings)
    }

    /// Writes the provenance as attributes of group `g` (`/provenance`).
    pub fn write(&self, g: &Group) -> Result<()> {
        set_str(g, "input_text", &self.input_text)?;
        set_str(g, "effective_input", &self.effective_input)?;
        set_str(g, "overrides", &self.overrides.join("\n"))?;
        set_str(g, "input_file", &self.input_file)?;
        set_str(g, "program", "nti")?;
        set_str(g, "version", crate::VERSION)?;
        set_str(g, "git_commit", crate::GIT_COMMIT)?;
        set_str(g, "command", &self.command)?;
        set_str(g, "command_line", &std::env::args().collect::<Vec<_>>().join(" "))?;
        set_str(g, "hostname", std::fs::read_to_string("/etc/hostname").unwrap_or_default().trim())?;
        set_i64(g, "n_ranks", self.n_ranks as i64)?;
        set_i64(g, "seed", self.seed as i64)?;
        set_f64(g, "wall_seconds", self.wall_seconds)?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        set_i64(g, "finished_unix_time", now as i64)?;
        Ok(())
    }
}
