//! Safe creation of results files: checked before the run, written to a temporary file next to
//! the target and renamed into place at the end, so an existing file is never overwritten
//! unless asked for and a crash never leaves a half-written results file under the final name.

use crate::exit::BadInput;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A results file that will be written atomically.
#[derive(Clone, Debug)]
pub struct OutputFile {
    target: PathBuf,
    temp: PathBuf,
}

impl OutputFile {
    /// Checks that `path` can be written (and does not exist unless `overwrite`), before any
    /// work is done. Creates nothing that outlives the check.
    pub fn preflight(path: &Path, overwrite: bool) -> Result<Self> {
        if path.is_dir() {
            return Err(BadInput(format!(
                "output file '{}' is a directory; set [output] file to a file name",
                path.display()
            ))
            .into());
        }
        if path.exists() && !overwrite {
            return Err(BadInput(format!(
                "output file '{}' already exists; choose another [output] file or set [output] overwrite = true \
                 (e.g. --set output.overwrite=true)",
                path.display()
            ))
            .into());
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(BadInput(format!(
                "cannot write output file '{}': directory '{}' does not exist",
                path.display(),
                dir.display()
            ))
            .into());
        }
        super::partial::remove_stale(&dir);
        let temp = super::partial::temp_path(path);
        std::fs::File::create(&temp)
            .with_context(|| format!("cannot write output file '{}' (directory '{}')", path.display(), dir.display()))
            .map_err(crate::exit::bad_input)?;
        std::fs::remove_file(&temp).ok();
        Ok(Self { target: path.to_path_buf(), temp })
    }

    /// Path of the temporary file to write into.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Gives every array of the finished temporary file its `unit` attribute ([`super::units`]),
    /// then renames it onto the target. An array the unit table does not know is logged and
    /// left without unit; a failure to annotate is logged too: neither costs the results.
    pub fn commit(&self) -> Result<()> {
        match super::units::annotate(&self.temp) {
            Ok(unknown) if !unknown.is_empty() => {
                log::warn!("{}: no unit known for {}", self.target.display(), unknown.join(", "))
            }
            Ok(_) => {}
            Err(e) => log::warn!("{}: could not write unit attributes: {e:#}", self.target.display()),
        }
        std::fs::rename(&self.temp, &self.target)
            .with_context(|| format!("cannot move '{}' to '{}'", self.temp.display(), self.target.display()))
    }

    /// Removes the temporary file after a failure.
    pub fn abandon(&self) {
        std::fs::remove_file(&self.temp).ok();
    }
}
