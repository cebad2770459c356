//! Faults on one rank of an MPI job: every rank must end promptly with a non-zero exit code, and
//! the rank that had the error prints it, tagged `[rank K]`. The ranks are started as an MPMD
//! launch (`mpirun -np 1 nti ... : -np 1 nti ...`) with another command line or another working
//! directory per rank. Every launch runs under a watchdog: a job still running after
//! [`WATCHDOG`] is killed and the test fails (a hang is a failure, not a stuck CI job). The
//! measured time to exit is printed (`cargo test --release --test mpi_faults -- --nocapture`).

mod common;
use common::fixtures::*;
use common::*;
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a faulty job may run before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Outcome of one launch.
struct Run {
    code: Option<i32>,
    stderr: String,
    seconds: f64,
}

/// Runs an mpirun command line (`ranks`: per rank, its working directory and nti arguments)
/// under the watchdog, in its own process group so that a hung job can be killed whole.
fn launch(name: &str, ranks: &[(&Path, Vec<&str>)]) -> Run {
    assert!(have_mpirun(), "mpirun not found: install openmpi-bin (the README's setup does)");
    let mut c = Command::new("mpirun");
    c.env("OMPI_ALLOW_RUN_AS_ROOT", "1").env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1").env("RUST_LOG", "info");
    c.arg("--oversubscribe");
    for (k, (dir, args)) in ranks.iter().enumerate() {
        if k > 0 {
            c.arg(":");
        }
        c.args(["-np", "1", "-wdir", dir.to_str().unwrap(), env!("CARGO_BIN_EXE_nti")]).args(args);
    }
    c.stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0);
    let start = Instant::now();
    let mut child = c.spawn().expect("start mpirun");
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        pipe.read_to_string(&mut s).ok();
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > WATCHDOG {
            // SAFETY: signals the process group this test created for mpirun and its ranks.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            child.wait().ok();
            panic!("{name}: still running after {WATCHDOG:?}: the job hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seconds = start.elapsed().as_secs_f64();
    let stderr = reader.join().unwrap();
    eprintln!("{name}: exit code {:?} after {seconds:.2} s", status.code());
    Run { code: status.code(), stderr, seconds }
}

/// Scratch directory holding `in.toml` (a short MC run writing out.h5).
fn sample_dir() -> tempfile::TempDir {
    let d = scratch();
    fs::write(d.path().join("in.toml"), tiny_input("out.h5", "")).unwrap();
    d
}

/// Scratch directory with data.h5 (nti sample) and t.toml.
fn train_dir() -> tempfile::TempDir {
    let d = scratch();
    fs::write(d.path().join("s.toml"), sample_input(20, 40)).unwrap();
    fs::write(
        d.path().join("t.toml"),
        train_input(&TrainKnobs {
            hidden: "[8]",
            model_extra: "pair_walls = []
",
            steps: 4,
            batch: 2,
            eval_every: 1,
            checkpoint_every: 1,
            validation_samples: 2,
        }),
    )
    .unwrap();
    let o = run_in(d.path(), &["sample", "s.toml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    d
}

/// Names of the files in `dir`.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    v.sort();
    v
}

#[test]
fn bad_input_on_rank_1_only_ends_every_rank() {
    let d = sample_dir();
    let p = d.path();
    let r = launch(
        "bad input on rank 1",
        &[(p, vec!["sample", "in.toml"]), (p, vec!["sample", "in.toml", "--set", "system.density=-1"])],
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("[rank 1] error: in.toml: invalid value for [system] density = -1"), "{}", r.stderr);
    assert!(!r.stderr.contains("[rank 0] error"), "rank 0 had no error:\n{}", r.stderr);
    assert!(r.seconds < WATCHDOG.as_secs_f64());
    assert_eq!(files(p), ["in.toml"]);
}

#[test]
fn different_valid_inputs_on_the_ranks_are_refused() {
    let d = sample_dir();
    let p = d.path();
    let r = launch(
        "another density on rank 1",
        &[(p, vec!["sample", "in.toml"]), (p, vec!["sample", "in.toml", "--set", "system.density=0.7"])],
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    let want = "the effective input of rank 1 differs from rank 0's: system.density = 0.6 on rank 0, 0.7 on rank 1";
    assert!(r.stderr.contains(want), "{}", r.stderr);
    assert_eq!(r.stderr.matches(want).count(), 1, "printed once:\n{}", r.stderr);
    let r = launch(
        "another seed on rank 1",
        &[(p, vec!["sample", "in.toml"]), (p, vec!["sample", "in.toml", "--set", "run.seed=8"])],
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("run.seed = 7 on rank 0, 8 on rank 1"), "{}", r.stderr);
    assert_eq!(files(p), ["in.toml"]);
}

#[test]
fn training_data_unreadable_on_rank_1_only_ends_every_rank() {
    let d = train_dir();
    let (r0, r1) = (d.path().join("r0"), d.path().join("r1"));
    for r in [&r0, &r1] {
        fs::create_dir(r).unwrap();
        fs::copy(d.path().join("t.toml"), r.join("t.toml")).unwrap();
    }
    fs::copy(d.path().join("data.h5"), r0.join("data.h5")).unwrap();
    // Rank 1 runs in a directory where data.h5 is missing, then where it is truncated: the same
    // input, a different file.
    let run = |name| launch(name, &[(&r0, vec!["train", "t.toml"]), (&r1, vec!["train", "t.toml"])]);
    let r = run("training data missing on rank 1");
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("[rank 1] error: training data file 'data.h5' does not exist"), "{}", r.stderr);
    let bytes = fs::read(d.path().join("data.h5")).unwrap();
    fs::write(r1.join("data.h5"), &bytes[..bytes.len() / 3]).unwrap();
    let r = run("training data truncated on rank 1");
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("[rank 1] error: training data file 'data.h5'"), "{}", r.stderr);
    assert!(r.stderr.contains("truncated"), "{}", r.stderr);
    assert_eq!(files(&r0), ["data.h5", "t.toml"]);
}

#[test]
fn checkpoint_that_cannot_be_written_on_rank_0_ends_every_rank() {
    // Rank 0 fails at its first checkpoint; the checkpoint write is an agreement point, so every
    // rank stops with exit code 1 and rank 0 prints its error once. (A directory
    // in the checkpoint's place; `overwrite = true` so that training starts afresh instead of
    // refusing the unreadable checkpoint at start, which is an agreed exit code 2.)
    let d = train_dir();
    let p = d.path();
    fs::create_dir(p.join("train.ckpt.h5")).unwrap();
    let args = vec!["train", "t.toml", "--set", "output.overwrite=true"];
    let r = launch("checkpoint unwritable on rank 0", &[(p, args.clone()), (p, args)]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("[rank 0] error: moving checkpoint into place at 'train.ckpt.h5'"), "{}", r.stderr);
    assert!(!r.stderr.contains("MPI_ABORT"), "{}", r.stderr);
    assert_eq!(files(p), ["data.h5", "s.toml", "t.toml", "train.ckpt.h5"], "no partial file or results left");
}

#[test]
fn each_log_line_appears_once_under_mpi() {
    let d = train_dir();
    let p = d.path();
    let r = launch("normal training on 2 ranks", &[(p, vec!["train", "t.toml"]), (p, vec!["train", "t.toml"])]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Every rank reads the data and builds the model; only rank 0 logs it.
    assert_eq!(r.stderr.matches("] data: data.h5 (N = 20").count(), 1, "{}", r.stderr);
    assert_eq!(r.stderr.matches("] model: ").count(), 1, "{}", r.stderr);
    assert!(!r.stderr.contains("[rank 1]"), "rank 1 had nothing to report:\n{}", r.stderr);
}

#[test]
fn error_outside_an_agreement_point_ends_every_rank_through_mpi_abort() {
    // `nti ti` reads `[ti] window_data` on every rank after the agreed model and output checks,
    // outside an agreement point: with the file missing on rank 1 only, rank 1 fails alone while
    // rank 0 goes on to the next collective. The error path then ends the job with MPI_Abort and
    // the error's exit code (2, bad input); rank 1 prints its error.
    let d = train_dir();
    let p = d.path();
    let o = run_in(p, &["train", "t.toml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let side = (20.0f64 / 0.3).cbrt();
    let ti = format!(
        "version = 1\n[generate]\nmodel = \"train.h5\"\nn_particles = [20]\nbox_side = {side}\ntrajectories = 2\n\
         steps = 5\nbatch = 2\n[ti]\nwindows = 2\nwindow_chains = 1\nwindow_warmup = 2\nwindow_steps = 4\n\
         window_stride = 2\nwindow_start = \"data\"\nwindow_data = [\"data.h5\"]\n[run]\nseed = 3\n\
         [output]\nfile = \"out.h5\"\n"
    );
    let (r0, r1) = (p.join("r0"), p.join("r1"));
    for r in [&r0, &r1] {
        fs::create_dir(r).unwrap();
        fs::write(r.join("ti.toml"), &ti).unwrap();
        fs::copy(p.join("train.h5"), r.join("train.h5")).unwrap();
    }
    fs::copy(p.join("data.h5"), r0.join("data.h5")).unwrap();
    let r = launch("window data missing on rank 1", &[(&r0, vec!["ti", "ti.toml"]), (&r1, vec!["ti", "ti.toml"])]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("[rank 1] error: ti.toml: invalid value for [ti] window_data"), "{}", r.stderr);
    assert!(r.stderr.contains("the file does not exist"), "{}", r.stderr);
    // Ending at all is the evidence of the abort: without it rank 0 waits for ever and the watchdog
    // fails the test. (Open MPI's own "MPI_ABORT was invoked" notice is not required: under load its
    // help-message aggregation can fail and print an ORTE error instead.)
    assert!(r.seconds < WATCHDOG.as_secs_f64());
    assert!(!r0.join("out.h5").exists(), "no results file");
}
