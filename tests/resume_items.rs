//! Work items resumed from inside: a sampling replica, a baseline lambda window (or Widom
//! replica) or a corrected TI window (MALA or HMC chains) stopped in the middle saves its state (`<stem>.items/<kind>_<id>.state.h5`), and the
//! rerun continues it from there. Every results file is compared dataset by dataset and attribute
//! by attribute, bitwise, with an uninterrupted 1-rank run (provenance and wall times aside), for
//! stops on 1 and 2 ranks, resumed on the same or the other rank count, for Metropolis MC (cell
//! lists), Langevin dynamics (Verlet list), the MC lambda windows and the TI windows' chains; and
//! a run killed with
//! SIGKILL resumes from its last periodic save (`[output] item_save_seconds`).
//!
//! Stops come from the documented test hook `NTI_TEST_STOP_AFTER_STEPS=K[@RANK]` (a stop request,
//! as from SIGTERM, once a rank's items have made K steps in this process), so they land at an
//! exact step inside an item rather than wherever a signal happens to arrive.

mod common;
use common::fixtures::sampled_dir;
use common::*;
use hdf5::{Group, Location};
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// N = 108 at rho = 0.5 (L = 6) with r_c = 2: 3 cells per side, so MC moves reorder the cells.
fn sample_input(method: &str) -> String {
    format!(
        "version = 1\n[system]\nn_particles = 108\ndensity = 0.5\ntemperature = 1.5\ncutoff = 2.0\n\
         [sample]\nmethod = \"{method}\"\nreplicas = 3\nequilibration = 60\nproduction = 200\nstride = 10\n\
         widom_insertions = 5\nrdf_bins = 20\ntrajectory = true\nmelt_sweeps = 20\n[run]\nseed = 9\n\
         [output]\nfile = \"ref.h5\"\n"
    )
}

/// Four lambda windows of 100 + 500 sweeps and two Widom replicas of 50 + 200 sweeps.
const BASELINE: &str = "version = 1\n[system]\nn_particles = 20\ndensity = 0.1\ntemperature = 1.5\ncutoff = 2.5\n\
tail_correction = true\n[sample]\nreplicas = 2\nequilibration = 50\nproduction = 200\n[baseline]\nwindows = 4\n\
equilibration = 100\nproduction = 500\nwidom_insertions = 5\n[run]\nseed = 3\n[output]\nfile = \"ref.h5\"\n";

/// Every dataset and attribute of a results file as (path, bits), except provenance, wall times
/// and the warnings the writing process logged (`/diagnostics@warnings`, `n_warnings`: a log of that
/// process; a resumed run does not repeat the warnings of the items finished before the stop).
fn contents(p: &Path) -> Vec<(String, Vec<u64>)> {
    fn attrs(loc: &Location, path: &str, out: &mut Vec<(String, Vec<u64>)>) {
        for a in loc.attr_names().unwrap() {
            if a == "wall_seconds" || (path == "/diagnostics" && (a == "warnings" || a == "n_warnings")) {
                continue;
            }
            let v = loc.attr(&a).unwrap().read_raw::<f64>().map(|v| v.iter().map(|x| x.to_bits()).collect());
            out.push((format!("{path}@{a}"), v.unwrap_or_default()));
        }
    }
    fn walk(g: &Group, path: &str, out: &mut Vec<(String, Vec<u64>)>) {
        attrs(g, path, out);
        for name in g.member_names().unwrap() {
            let p = format!("{path}/{name}");
            if name == "provenance" {
                continue;
            }
            if let Ok(ds) = g.dataset(&name) {
                let v = ds.read_raw::<f64>().map(|v| v.iter().map(|x| x.to_bits()).collect());
                out.push((p.clone(), v.unwrap_or_default()));
                attrs(&ds, &p, out);
            } else if let Ok(sub) = g.group(&name) {
                walk(&sub, &p, out);
            }
        }
    }
    let f = hdf5::File::open(p).unwrap();
    let mut out = Vec::new();
    walk(&f, "", &mut out);
    out
}

fn assert_same(a: &Path, b: &Path, what: &str) {
    let (x, y) = (contents(a), contents(b));
    assert!(x.len() > 10, "{}: too few entries to compare ({})", a.display(), x.len());
    let names = |c: &[(String, Vec<u64>)]| c.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&x), names(&y), "{what}: the files hold different datasets");
    for ((n, u), (_, v)) in x.iter().zip(&y) {
        assert!(u == v, "{what}: {n} differs from the uninterrupted run");
    }
}

/// `nti <args>` on `np` ranks in `d` with the test hook set to `hook` (if any).
fn launch(d: &Path, np: usize, hook: Option<&str>, args: &[&str]) -> Output {
    let mut c: Command = if np == 1 { nti() } else { mpirun(np) };
    if let Some(h) = hook {
        // mpirun passes the environment on to its local ranks.
        c.env("NTI_TEST_STOP_AFTER_STEPS", h);
    }
    c.args(args).current_dir(d).env("RUST_LOG", "info").output().unwrap()
}

/// Runs a stage that must stop (exit code 3) with `in_progress` items saved inside; returns its log.
fn stops(d: &Path, np: usize, hook: &str, args: &[&str], in_progress: usize) -> String {
    let o = launch(d, np, Some(hook), args);
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(3), "hook {hook} on {np} ranks: {e}");
    let saved = match in_progress {
        1 => "1 in progress saved".to_string(),
        k => format!("{k} in progress saved"),
    };
    assert!(e.contains(&saved), "hook {hook} on {np} ranks should leave {saved}: {e}");
    e
}

/// Runs a stage to its end; returns its log.
fn finishes(d: &Path, np: usize, args: &[&str]) -> String {
    let o = launch(d, np, None, args);
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{e}");
    e
}

fn state_files(items: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(items)
        .map(|r| r.map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default();
    v.retain(|n| n.ends_with(".state.h5"));
    v.sort();
    v
}

/// MC replicas (N = 108, 3 cells per side, Widom, RDF, trajectory) stopped inside a replica on 1
/// rank, then again on 2 ranks (inside the resumed one and a fresh one), then on 2 ranks with the
/// request on rank 1 only, and finished on 1 rank; each step resumes the saved replicas, and the
/// results equal an uninterrupted run bitwise.
#[test]
fn mc_replicas_stopped_inside_resume_bitwise_on_1_and_2_ranks() {
    assert!(have_mpirun(), "mpirun not found");
    let d = scratch();
    let p = d.path();
    fs::write(p.join("s.toml"), sample_input("mc")).unwrap();
    finishes(p, 1, &["sample", "s.toml"]);
    let args = ["sample", "s.toml", "--set", "output.file=\"a.h5\""];
    // 1 rank: replica 0 stops at step 130 of 260 (production).
    stops(p, 1, "130", &args, 1);
    assert_eq!(state_files(&p.join("a.items")), ["replica_0.state.h5"]);
    // 2 ranks: replica 0 (rank 0) resumes at 130 and stops at 170; replica 1 (rank 1) stops at 40
    // (equilibration).
    let e = stops(p, 2, "40", &args, 2);
    assert!(e.contains("replica 0: resuming from its saved state"), "{e}");
    assert_eq!(state_files(&p.join("a.items")), ["replica_0.state.h5", "replica_1.state.h5"]);
    // 2 ranks, request on rank 1 only: rank 0 finishes replica 0, rank 1 stops replica 1 again.
    let e = stops(p, 2, "100@1", &args, 1);
    assert!(e.contains("1 of 3 items finished"), "{e}");
    assert_eq!(state_files(&p.join("a.items")), ["replica_1.state.h5"]);
    let e = finishes(p, 1, &args);
    assert!(e.contains("replica 1: resuming from its saved state"), "{e}");
    assert!(!p.join("a.items").exists(), "the work-item directory is left behind");
    assert_same(&p.join("a.h5"), &p.join("ref.h5"), "MC replicas");
}

/// Langevin replicas (Verlet list, unwrapped positions between builds, velocities) stopped inside
/// on 2 ranks and resumed on 1, and stopped on 1 rank and resumed on 2.
#[test]
fn langevin_replicas_stopped_inside_resume_bitwise_on_another_rank_count() {
    assert!(have_mpirun(), "mpirun not found");
    let d = scratch();
    let p = d.path();
    fs::write(p.join("s.toml"), sample_input("langevin")).unwrap();
    finishes(p, 1, &["sample", "s.toml"]);
    for (i, (first, then)) in [(2, 1), (1, 2)].into_iter().enumerate() {
        let out = format!("output.file=\"l{i}.h5\"");
        let args = ["sample", "s.toml", "--set", &out];
        stops(p, first, "155", &args, first);
        let e = finishes(p, then, &args);
        assert!(e.contains("replica 0: resuming from its saved state"), "{e}");
        assert_same(&p.join(format!("l{i}.h5")), &p.join("ref.h5"), "Langevin replicas");
    }
}

/// Baseline lambda windows stopped inside on 1 and 2 ranks (and a Widom replica stopped inside),
/// resumed on the other rank count: bitwise the uninterrupted run.
#[test]
fn baseline_windows_stopped_inside_resume_bitwise() {
    assert!(have_mpirun(), "mpirun not found");
    let d = scratch();
    let p = d.path();
    fs::write(p.join("b.toml"), BASELINE).unwrap();
    finishes(p, 1, &["baseline", "b.toml"]);
    let args = ["baseline", "b.toml", "--set", "output.file=\"a.h5\""];
    // 1 rank: window 0 stops at sweep 300 of 600.
    stops(p, 1, "300", &args, 1);
    assert_eq!(state_files(&p.join("a.items")), ["lambda_window_0.state.h5"]);
    // 2 ranks: window 0 (rank 0) resumes and finishes; window 1 (rank 1) stops at sweep 350, so
    // both ranks stop after the first round.
    let e = stops(p, 2, "350", &args, 1);
    assert!(e.contains("lambda_window 0: resuming from its saved state"), "{e}");
    assert!(e.contains("1 of 4 items finished"), "{e}");
    assert_eq!(state_files(&p.join("a.items")), ["lambda_window_1.state.h5"]);
    // 1 rank: window 1 resumes (250 sweeps), windows 2 and 3 run (1200), Widom replica 0 stops at
    // 100 of its 250.
    let e = stops(p, 1, "1550", &args, 1);
    assert!(e.contains("lambda_window 1: resuming from its saved state"), "{e}");
    assert!(e.contains("during widom_replica"), "{e}");
    assert_eq!(state_files(&p.join("a.items")), ["widom_replica_0.state.h5"]);
    let e = finishes(p, 2, &args);
    assert!(e.contains("widom_replica 0: resuming from its saved state"), "{e}");
    assert_same(&p.join("a.h5"), &p.join("ref.h5"), "baseline");
}

/// With `[output] item_save_seconds` small, a replica's state is saved as it runs; a SIGKILL
/// (no chance to save) loses only the steps since the last save, and the rerun resumes from it
/// bitwise. A negative interval is refused as bad input.
#[test]
fn periodic_saves_survive_sigkill() {
    let d = scratch();
    let p = d.path();
    // One replica of about 2 s: the first periodic save comes after 0.05 s, the kill 0.1 s later.
    let long = sample_input("mc")
        .replace("production = 200", "production = 10000")
        .replace("replicas = 3", "replicas = 1")
        .replace("trajectory = true", "trajectory = false");
    fs::write(p.join("s.toml"), long).unwrap();
    finishes(p, 1, &["sample", "s.toml"]);
    let args = ["sample", "s.toml", "--set", "output.file=\"k.h5\"", "--set", "output.item_save_seconds=0.05"];
    let mut child = nti().args(args).current_dir(p).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let state = p.join("k.items/replica_0.state.h5");
    let t0 = Instant::now();
    while !state.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the replica ended before its first periodic save");
        assert!(t0.elapsed() < Duration::from_secs(120), "no periodic save within 120 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!p.join("k.h5").exists(), "the killed run finished before the kill; make the replica longer");
    let e = finishes(p, 1, &args);
    assert!(e.contains("replica 0: resuming from its saved state"), "{e}");
    assert_same(&p.join("k.h5"), &p.join("ref.h5"), "killed replica");
    let o = run_in(p, &["sample", "s.toml", "--set", "output.file=\"n.h5\"", "--set", "output.item_save_seconds=-1"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("[output] item_save_seconds = -1: expected a non-negative number of seconds"), "{e}");
    assert!(!p.join("n.h5").exists() && !p.join("n.items").exists());
}

/// `nti ti` on the 200-step model of the shared fixture: three corrected windows of two chains
/// (20 warm-up + 60 production steps each, du/dt every 5 with the Stein control variate's term,
/// T_conf every 10).
const TI: &str = "version = 1\n[generate]\nmodel = \"train.h5\"\nn_particles = [20]\nbox_side = 4.0548\n\
trajectories = 4\nsteps = 20\nbatch = 2\n[ti]\nwindows = 3\nwindow_chains = 2\nwindow_warmup = 20\n\
window_steps = 60\nwindow_stride = 5\ntconf_every = 10\nwindow_stein_probes = 1\n[run]\nseed = 3\n[output]\nfile = \"ref.h5\"\n";

/// Corrected TI windows stopped inside a chain (the second chain of window 0 on 1 rank; window 1
/// during production on rank 1 of 2; with HMC, both ranks' windows in warm-up) resume from their
/// saved chains, starts and records: bitwise the uninterrupted run, on 1 and 2 ranks.
#[test]
fn ti_windows_stopped_inside_resume_bitwise() {
    assert!(have_mpirun(), "mpirun not found");
    let d = sampled_dir(50);
    let p = d.path();
    finishes(p, 1, &["train", "t.toml"]);
    fs::write(p.join("ti.toml"), TI).unwrap();
    finishes(p, 1, &["ti", "ti.toml"]);
    let args = ["ti", "ti.toml", "--set", "output.file=\"a.h5\""];
    // Window 0: chain 0 finishes at step 80, chain 1 stops at step 20 of 80.
    stops(p, 1, "100", &args, 1);
    assert_eq!(state_files(&p.join("a.items")), ["window_N20_0.state.h5"]);
    let e = stops(p, 2, "130@1", &args, 1);
    assert!(e.contains("window_N20 0: resuming from its saved state"), "{e}");
    assert!(e.contains("1 of 3 items finished"), "{e}");
    assert_eq!(state_files(&p.join("a.items")), ["window_N20_1.state.h5"]);
    let e = finishes(p, 1, &args);
    assert!(e.contains("window_N20 1: resuming from its saved state"), "{e}");
    assert_same(&p.join("a.h5"), &p.join("ref.h5"), "MALA windows");
    // ... MBAR over the windows included (`[ti] window_mbar`, on by default) and the Stein-controlled
    // estimate: the energies and Fokker-Planck terms the stopped chains recorded travel in their
    // saved state.
    let names: Vec<String> = contents(&p.join("ref.h5")).into_iter().map(|(n, _)| n).collect();
    for want in [
        "/ti/N20/mbar/f_k",
        "/ti/N20/mbar/overlap",
        "/results/beta_a_ex__windows-gl3-mala-mbar__N20",
        "/results/beta_a_ex__windows-gl3-mala-stein__N20",
    ] {
        assert!(names.iter().any(|n| n.starts_with(want)), "no {want} in {names:?}");
    }

    let hmc = ["--set", "ti.window_sampler=\"hmc\"", "--set", "ti.hmc_leapfrog=3"];
    finishes(p, 1, &[&["ti", "ti.toml", "--set", "output.file=\"hmc_ref.h5\""][..], &hmc].concat());
    let args = [&["ti", "ti.toml", "--set", "output.file=\"h.h5\""][..], &hmc].concat();
    stops(p, 2, "15", &args, 2);
    assert_eq!(state_files(&p.join("h.items")), ["window_N20_0.state.h5", "window_N20_1.state.h5"]);
    finishes(p, 1, &args);
    assert_same(&p.join("h.h5"), &p.join("hmc_ref.h5"), "HMC windows");
}
