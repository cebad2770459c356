//! Temporary ("partial") files: results files and checkpoints are written to a hidden
//! `.NAME.partial-HOST-PID` beside the target and renamed into place when complete. A process
//! killed while writing leaves its partial file behind; the next run that writes into the same
//! directory removes those of dead processes (PID not alive on this host), with a warning naming
//! each, and leaves alone those of live processes and of other hosts (a shared file system).
//! Files of the older `.NAME.partial-PID` form count as this host's.

use std::path::{Path, PathBuf};

/// This host's name (from the kernel; "localhost" if unavailable), without '/' so it fits in a
/// file name.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it on success.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let h = if ok { String::from_utf8_lossy(&buf[..end]).to_string() } else { String::new() };
    if h.is_empty() {
        "localhost".into()
    } else {
        h.replace('/', "_")
    }
}

/// The partial file of `target` for this process: `.NAME.partial-HOST-PID` in its directory.
pub fn temp_path(target: &Path) -> PathBuf {
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    dir.join(format!(".{name}.partial-{}-{}", hostname(), std::process::id()))
}

/// The (host, PID) a partial file name belongs to: `None` for other files; the host is `None` for
/// the older `.NAME.partial-PID` form.
fn owner(file_name: &str) -> Option<(Option<&str>, u32)> {
    let rest = file_name.strip_prefix('.')?.rsplit_once(".partial-")?.1;
    match rest.rsplit_once('-') {
        Some((host, pid)) if !host.is_empty() => Some((Some(host), pid.parse().ok()?)),
        _ => Some((None, rest.parse().ok()?)),
    }
}

/// True when a process with this PID exists on this host.
fn alive(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks for existence and permission; nothing is sent.
    let r = unsafe { libc::kill(p, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the partial files of dead processes of this host in `dir`, each with a warning;
/// returns the paths removed. Unreadable directories and files that cannot be removed are
/// skipped (the write that follows reports a real problem with the directory).
pub fn remove_stale(dir: &Path) -> Vec<PathBuf> {
    let host = hostname();
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return removed };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some((h, pid)) = owner(&name) else { continue };
        if h.is_some_and(|h| h != host) || alive(pid) || !e.path().is_file() {
            continue;
        }
        let p = e.path();
        if std::fs::remove_file(&p).is_ok() {
            let shown = p.strip_prefix(".").unwrap_or(&p);
            log::warn!("removed '{}', left behind by process {pid}, which no longer runs", shown.display());
            removed.push(p);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names_parse_with_and_without_host() {
        assert_eq!(owner(".out.h5.partial-node-7-1234"), Some((Some("node-7"), 1234)));
        assert_eq!(owner(".out.h5.partial-99"), Some((None, 99)));
        assert_eq!(owner("out.h5.partial-99"), None);
        assert_eq!(owner(".out.h5"), None);
        assert_eq!(owner(".x.partial-host-abc"), None);
        let t = temp_path(Path::new("d/run.h5"));
        assert_eq!(
            owner(t.file_name().unwrap().to_str().unwrap()),
            Some((Some(hostname().as_str()), std::process::id()))
        );
    }

    #[test]
    fn only_dead_processes_files_of_this_host_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let me = std::process::id();
        // A PID above the kernel's pid_max (4194304 at most) cannot be alive.
        let dead = 4_194_305 + 17;
        let host = hostname();
        let names = [
            format!(".a.h5.partial-{host}-{dead}"),
            format!(".b.h5.partial-{dead}"),
            format!(".c.h5.partial-{host}-{me}"),
            format!(".d.h5.partial-{me}"),
            format!(".e.h5.partial-other{host}-{dead}"),
            "results.h5".to_string(),
        ];
        for n in &names {
            std::fs::write(d.path().join(n), "x").unwrap();
        }
        let mut gone: Vec<String> =
            remove_stale(d.path()).iter().map(|p| p.file_name().unwrap().to_string_lossy().to_string()).collect();
        gone.sort();
        assert_eq!(gone, vec![names[0].clone(), names[1].clone()]);
        for n in &names[2..] {
            assert!(d.path().join(n).exists(), "{n} removed");
        }
    }
}
