//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod battery;
pub mod fixtures;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The nti binary built for the tests.
pub fn nti() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nti"))
}

/// Runs nti with `args` in directory `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    nti().args(args).current_dir(dir).env("RUST_LOG", "warn").output().expect("run nti")
}

/// A fresh scratch directory.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Path of a test fixture.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// A small, fast LJ input (N = 108, short MC run) writing `out`.
pub fn tiny_input(out: &str, extra: &str) -> String {
    format!(
        "version = 1\n[system]\nn_particles = 108\ndensity = 0.6\ntemperature = 1.5\ncutoff = 2.5\n\
         [sample]\nreplicas = 3\nequilibration = 50\nproduction = 100\nstride = 10\nwidom_insertions = 20\nrdf_bins = 20\n\
         [run]\nseed = 7\n[output]\nfile = \"{out}\"\n{extra}"
    )
}

/// True when an MPI launcher is available.
pub fn have_mpirun() -> bool {
    Command::new("mpirun").arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// mpirun with the flags needed as root and for more ranks than cores.
pub fn mpirun(np: usize) -> Command {
    let mut c = Command::new("mpirun");
    c.env("OMPI_ALLOW_RUN_AS_ROOT", "1").env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1").env("RUST_LOG", "warn").args([
        "--oversubscribe",
        "-np",
        &np.to_string(),
        env!("CARGO_BIN_EXE_nti"),
    ]);
    c
}
