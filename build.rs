//! Records the git commit in the binary for provenance.
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    let tag = if dirty { format!("{commit}-dirty") } else { commit };
    println!("cargo:rustc-env=NTI_GIT_COMMIT={tag}");
    // Rerun on commits and checkouts (HEAD, index) and on every edit of the sources, so that a
    // binary built from an uncommitted change says "-dirty" (without the source paths the tag of
    // the last commit stuck to such binaries).
    for path in [".git/HEAD", ".git/index", "src", "Cargo.toml", "Cargo.lock", "build.rs"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
