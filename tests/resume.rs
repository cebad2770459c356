//! Preemption: SIGTERM/SIGUSR1 during training writes a checkpoint at the step where every rank
//! stopped and exits with code 3; rerunning the command resumes from it automatically and ends
//! bitwise identical to an uninterrupted run, on 1 and 2 ranks; a checkpoint of this output is
//! never replaced by an earlier one nor resumed by another training.

mod common;
use common::fixtures::*;
use common::*;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn curve(p: &Path) -> Vec<u64> {
    let f = hdf5::File::open(p).unwrap();
    f.dataset("training/val_loss").unwrap().read_raw::<f64>().unwrap().iter().map(|v| v.to_bits()).collect()
}

fn ckpt_step(p: &Path) -> u64 {
    nti::io::checkpoint::checkpoint_step_and_settings(p).unwrap().0
}

fn ok(o: std::process::Output) -> String {
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{e}");
    e
}

fn setup() -> tempfile::TempDir {
    sampled_dir(50)
}

/// The direct children of `pid` (the ranks of a local mpirun).
fn children(pid: u32) -> Vec<i32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Waits for `path` to exist (e.g. the run's first periodic checkpoint) and for `target` to name
/// a process, then sends `sig` to it.
fn signal_when(child: &mut Child, path: &Path, target: impl Fn(&Child) -> Option<i32>, sig: i32) {
    let t0 = Instant::now();
    while !path.exists() || target(child).is_none() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first checkpoint");
        assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = target(child).expect("checked");
    // SAFETY: sending a signal to a process this test started.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill {pid}");
}

/// A long training (never reaching its 10^6 steps) of output `out` on `np` ranks, stopped by
/// `sig` sent to one rank after its first checkpoint; returns the step it stopped at.
fn interrupt_training(d: &Path, np: usize, out: &str, sig: i32) -> u64 {
    let args = ["train", "t.toml", "--set", "train.steps=1000000", "--set", out];
    let mut cmd = if np == 1 {
        let mut c = nti();
        c.args(args);
        c
    } else {
        let mut c = mpirun(np);
        c.args(args);
        c
    };
    // Stderr goes to a file: a pipe nobody reads could fill and block the run.
    let log = d.join(format!("np{np}.log"));
    let mut child = cmd
        .current_dir(d)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stem = out.trim_start_matches("output.file=\"").trim_end_matches(".h5\"");
    let ckpt = d.join(format!("{stem}.ckpt.h5"));
    let rank = |c: &Child| if np == 1 { Some(c.id() as i32) } else { children(c.id()).get(1).copied() };
    signal_when(&mut child, &ckpt, rank, sig);
    let code = exit_code(child);
    let e = fs::read_to_string(&log).unwrap();
    assert_eq!(code, 3, "exit code after the signal on {np} ranks: {e}");
    let at = e.split("during training at step ").nth(1).expect("the interruption message names the step");
    let k: u64 = at.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(ckpt_step(&ckpt), k, "the checkpoint holds the step where the run stopped");
    assert!((50..1_000_000).contains(&k));
    assert!(!d.join(format!("{stem}.h5")).exists(), "an interrupted run wrote a results file");
    k
}

/// Waits for the exit code (watchdog: 120 s, not a timing assertion).
fn exit_code(mut child: Child) -> i32 {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        if t0.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            panic!("the interrupted run did not end within 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mpi_or_serial(d: &Path, np: usize, args: &[&str]) -> std::process::Output {
    let mut c: Command = if np == 1 { nti() } else { mpirun(np) };
    c.args(args).current_dir(d).env("RUST_LOG", "info").output().unwrap()
}

#[test]
fn interrupted_training_resumes_bitwise_on_1_and_2_ranks() {
    assert!(have_mpirun(), "mpirun not found");
    let d = setup();
    let p = d.path();
    for (np, sig) in [(1, libc::SIGTERM), (2, libc::SIGTERM), (2, libc::SIGUSR1)] {
        let out = format!("output.file=\"sig{np}_{sig}.h5\"");
        let k = interrupt_training(p, np, &out, sig);
        // Rerun the command (with a reachable number of steps): it resumes at step k.
        let steps = format!("train.steps={}", k + 30);
        let e = ok(mpi_or_serial(p, np, &["train", "t.toml", "--set", &steps, "--set", &out]));
        assert!(
            e.contains(&format!("resuming training from checkpoint 'sig{np}_{sig}.ckpt.h5' at step {k}")),
            "the rerun did not resume at step {k}: {e}"
        );
        // Bitwise the uninterrupted run of k + 30 steps.
        let reference = format!("output.file=\"ref{np}_{sig}.h5\"");
        ok(run_in(p, &["train", "t.toml", "--set", &steps, "--set", &reference]));
        let (a, b) = (p.join(format!("sig{np}_{sig}.h5")), p.join(format!("ref{np}_{sig}.h5")));
        assert_eq!(params(&a), params(&b), "resumed parameters differ on {np} ranks");
        assert_eq!(curve(&a), curve(&b), "resumed loss curve differs on {np} ranks");
    }
}

/// Rerunning an unfinished training resumes from its checkpoint with the same input, but never
/// from a checkpoint of other settings, never beyond `[train] steps`, and `--restart` from an
/// earlier checkpoint does not replace a later one; `[output] overwrite = true` trains afresh.
#[test]
fn checkpoints_are_resumed_only_when_they_belong_to_this_training() {
    let d = setup();
    let p = d.path();
    ok(run_in(p, &["train", "t.toml", "--set", "train.steps=100", "--set", "output.file=\"early.h5\""]));
    ok(run_in(p, &["train", "t.toml", "--set", "train.steps=150"]));
    let ck = p.join("train.ckpt.h5");
    let later = fs::read(&ck).unwrap();
    assert_eq!(ckpt_step(&ck), 150);
    fs::remove_file(p.join("train.h5")).unwrap();
    let fails = |args: &[&str], expect: &str| {
        let o = run_in(p, args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && e.contains(expect), "expected '{expect}', got '{e}'");
        assert_eq!(fs::read(&ck).unwrap(), later, "the later checkpoint was modified");
        assert!(!p.join("train.h5").exists());
    };
    fails(&["train", "t.toml", "--restart", "early.ckpt.h5"], "is at step 150, later than 'early.ckpt.h5' (step 100)");
    fails(&["train", "t.toml", "--set", "train.lr=0.002"], "written with [train] lr = 0.001 and this input has 0.002");
    fails(&["train", "t.toml", "--set", "train.steps=120"], "it is at step 150, beyond [train] steps = 120");
    fails(&["train", "t.toml", "--set", "run.seed=12"], "seed");
    // Same training: resumes at 150 and ends where an uninterrupted 200-step run ends.
    let e = ok(nti().args(["train", "t.toml"]).current_dir(p).env("RUST_LOG", "info").output().unwrap());
    assert!(e.contains("resuming training from checkpoint 'train.ckpt.h5' at step 150"), "{e}");
    ok(run_in(p, &["train", "t.toml", "--set", "output.file=\"full.h5\""]));
    assert_eq!(params(&p.join("train.h5")), params(&p.join("full.h5")));
    // overwrite = true with other settings trains afresh (and says so).
    fs::remove_file(p.join("train.h5")).unwrap();
    let o = nti()
        .args(["train", "t.toml", "--set", "train.lr=0.002", "--set", "output.overwrite=true"])
        .current_dir(p)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let e = ok(o);
    assert!(e.contains("training afresh"), "{e}");
    assert!(!e.contains("resuming"), "{e}");
}

/// A small whole pipeline (a few seconds).
const PIPELINE: &str = "version = 1\n[system]\nn_particles = 20\ndensity = 0.1\ntemperature = 1.5\ncutoff = 2.5\n\
tail_correction = true\n[sample]\nreplicas = 6\nequilibration = 200\nproduction = 2000\nstride = 10\nrdf_bins = 0\n\
[model]\nhidden = [16, 16]\nn_radial = 4\nr_cut = 2.5\nn_freq = 2\n[train]\nsteps = 600\nbatch = 8\nmicro_batch = 4\n\
eval_every = 100\ncheckpoint_every = 50\nvalidation_samples = 16\n[generate]\ntrajectories = 32\nbatch = 2\nsteps = 200\n\
[ti]\nwindows = 6\nwindow_chains = 2\nais_chains = 8\n[baseline]\nwindows = 6\nequilibration = 300\nproduction = 3000\n\
[pipeline]\ntrain_n = [20]\nti_n = [20]\nbaseline_n = [20]\n[run]\nseed = 3\n[output]\nfile = \"tiny.h5\"\n";

fn summary_json(p: &Path) -> String {
    let o = nti().args(["summary", "--json"]).arg(p).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The log `next` of a rerun resumed what the log `previous` says was interrupted: training from
/// the step it stopped at, a work-item stage with its finished items kept.
fn check_resumed(previous: &str, next: &str) {
    let Some(msg) = previous.lines().find(|l| l.contains("interrupted by")) else { return };
    if let Some(at) = msg.split("during training at step ").nth(1) {
        let k = at.split_whitespace().next().unwrap();
        assert!(next.contains(&format!("at step {k}")) && next.contains("resuming training"), "not resumed: {next}");
    } else {
        let kind = msg.split(" during ").nth(1).unwrap().split(':').next().unwrap();
        assert!(next.contains(&format!("{kind}: ")) && next.contains("items kept from an earlier run"), "{next}");
    }
}

/// `nti run` on 2 ranks, stopped by SIGTERM (to one rank) once during sampling, training, the TI
/// reverse SDE (16 chunks), the TI windows and the baseline windows (each time as soon as that stage's first work item or
/// checkpoint is on disk), rerun each time with the same command: every rerun resumes, and the
/// final results are bitwise those of one uninterrupted run on 1 rank; no work-item directories or
/// temporary files are left behind.
#[test]
fn pipeline_interrupted_in_every_stage_resumes_bitwise() {
    assert!(have_mpirun(), "mpirun not found");
    let (a, b) = (scratch(), scratch());
    for d in [&a, &b] {
        fs::write(d.path().join("p.toml"), PIPELINE).unwrap();
    }
    ok(run_in(a.path(), &["run", "p.toml"]));
    let p = b.path();
    let st = p.join("tiny_stages");
    let marks = [
        st.join("sample_N20.items/replica_0.h5"),
        st.join("train.ckpt.h5"),
        st.join("ti.items/reverse_N20_0.h5"),
        st.join("ti.items/window_N20_0.h5"),
        st.join("baseline_N20.items/lambda_window_0.h5"),
    ];
    let mut previous = String::new();
    for (i, mark) in marks.iter().enumerate() {
        let log = p.join(format!("run{i}.log"));
        let mut child = mpirun(2)
            .args(["run", "p.toml"])
            .current_dir(p)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Both ranks have installed their handlers once rank 0 (the only rank that logs info) logs
        // the pipeline's plan: handlers are installed right after MPI starts, and the plan comes
        // after the collective agreement on the input, which rank 1 reaches only after that.
        let started = || fs::read_to_string(&log).unwrap_or_default().contains("nti run: box");
        signal_when(&mut child, mark, |c| children(c.id()).get(1).copied().filter(|_| started()), libc::SIGTERM);
        let code = exit_code(child);
        let e = fs::read_to_string(&log).unwrap();
        assert_eq!(code, 3, "run {i} (signal once {} exists): {e}", mark.display());
        assert!(e.contains("rerun the same command to resume"), "{e}");
        let line = e.lines().find(|l| l.contains("interrupted by")).unwrap_or("");
        eprintln!("run {i}: {line}");
        let during =
            ["during replica", "during training", "during reverse_N20", "during window_N20", "during lambda_window"];
        assert!(line.contains(during[i]), "run {i} should stop {}: {line}", during[i]);
        check_resumed(&previous, &e);
        previous = e;
    }
    let e = ok(mpirun(2).args(["run", "p.toml"]).current_dir(p).env("RUST_LOG", "info").output().unwrap());
    check_resumed(&previous, &e);
    assert_eq!(summary_json(&p.join("tiny.h5")), summary_json(&a.path().join("tiny.h5")));
    let left: Vec<String> = fs::read_dir(&st)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".items") || n.contains(".partial-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
