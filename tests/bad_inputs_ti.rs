//! Bad input for Neural TI (`nti ti`, `nti generate`), the baseline and `nti run`: particle numbers
//! outside what the box and model allow, a model file that does not match the system, empty or
//! inconsistent window settings, stage files made with other settings. Every case gives a clear
//! error naming the file, section, key and value and what was expected, exits non-zero (2 when the
//! input is wrong), and creates or overwrites no file: the scratch directory, stage files included,
//! is byte-for-byte the same before and after. Pure input checks (no files needed) are in
//! tests/fixtures/bad (tests/cli.rs); these need a trained model or stage files.

mod common;
use common::fixtures::*;
use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// nti ti / nti generate on that model: L = 4.05 holds at most floor(0.95 L^3) = 63 particles.
const TI: &str = "version = 1\n[generate]\nmodel = \"train.h5\"\nn_particles = [12, 13]\nbox_side = 4.05\n\
trajectories = 2\nsteps = 5\nbatch = 2\n[ti]\nwindows = 2\nwindow_chains = 1\nwindow_warmup = 2\nwindow_steps = 4\n\
window_stride = 2\n[run]\nseed = 3\n[output]\nfile = \"out.h5\"\noverwrite = true\n";

/// The model's physics as a [system] section.
const SYSTEM: &str = "[system]\nn_particles = 20\ndensity = 0.3\ntemperature = 1.25\ncutoff = \"min-image\"\n\
tail_correction = false\n";

/// nti run in the same box (stage files in stages/).
const RUN: &str = "[sample]\nreplicas = 1\nequilibration = 20\nproduction = 40\nstride = 10\nrdf_bins = 0\n\
[model]\nn_radial = 4\nr_cut = 2.0\nhidden = [8]\nn_freq = 2\npair_walls = []\n[train]\nsteps = 2\nbatch = 2\n\
micro_batch = 2\neval_every = 1\nvalidation_samples = 2\n[generate]\ntrajectories = 2\nsteps = 5\nbatch = 2\n\
[ti]\nwindows = 0\nais_chains = 0\n[pipeline]\ntrain_n = [20]\ndirectory = \"stages\"\n[run]\nseed = 5\n\
[output]\nfile = \"run.h5\"\n";

fn ok(o: std::process::Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Scratch directory with data.h5, train.h5 (+ checkpoint), ti.toml, and out.h5 holding "precious"
/// (ti.toml allows overwriting it: a failed run must still leave it alone).
fn with_model() -> tempfile::TempDir {
    let d = scratch();
    let p = d.path();
    fs::write(p.join("s.toml"), sample_input(20, 40)).unwrap();
    fs::write(
        p.join("t.toml"),
        train_input(&TrainKnobs {
            hidden: "[8]",
            model_extra: "pair_walls = []
",
            steps: 2,
            batch: 2,
            eval_every: 1,
            checkpoint_every: 100,
            validation_samples: 2,
        }),
    )
    .unwrap();
    fs::write(p.join("ti.toml"), TI).unwrap();
    ok(run_in(p, &["sample", "s.toml"]));
    ok(run_in(p, &["train", "t.toml"]));
    fs::write(p.join("out.h5"), "precious").unwrap();
    d
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.insert(p.clone(), b"<dir>".to_vec());
            out.extend(snapshot(&p));
        } else {
            out.insert(p.clone(), fs::read(&p).unwrap());
        }
    }
    out
}

/// Runs `args` in `dir` and checks: exit code `code`, `expect` in stderr, the error printed once,
/// and no file created, changed or removed. Returns stderr.
fn fails(dir: &Path, args: &[&str], code: i32, expect: &str) -> String {
    let before = snapshot(dir);
    let o = run_in(dir, args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(code), "{args:?}: expected exit {code}; stderr: {err}");
    assert!(err.contains(expect), "{args:?}:\n expected '{expect}'\n got '{err}'");
    assert_eq!(err.matches("error:").count(), 1, "{args:?}: one error message expected: {err}");
    let after = snapshot(dir);
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "{args:?}: files created/removed");
    assert!(before == after, "{args:?}: a file was modified");
    err
}

#[test]
fn ti_and_generate_reject_particle_numbers_and_boxes_the_model_does_not_allow() {
    let d = with_model();
    let p = d.path();
    fs::write(p.join("nobox.toml"), TI.replace("box_side = 4.05\n", "")).unwrap();
    fs::write(p.join("non.toml"), TI.replace("n_particles = [12, 13]\n", "")).unwrap();
    for cmd in ["ti", "generate"] {
        let set = |v: &str| vec![cmd, "ti.toml", "--set", v].into_iter().map(String::from).collect::<Vec<_>>();
        let cases: [(Vec<String>, &str); 8] = [
            (set("generate.n_particles=[1, 12]"), "ti.toml: invalid value for [generate] n_particles = 1: expected particle numbers 2 <= N <= 63"),
            (
                set("generate.n_particles=[12, 64]"),
                "invalid value for [generate] n_particles = 64: expected particle numbers 2 <= N <= 63: density N / L^3 <= 0.95 in the box of side L = 4.05 ([generate] box_side)",
            ),
            (set("generate.n_particles=[12, 13, 12]"), "invalid value for [generate] n_particles = [12, 13, 12]: expected distinct particle numbers (N = 12 is listed more than once)"),
            (set("generate.n_particles=[]"), "invalid value for [generate] n_particles = []: expected a non-empty list of particle numbers"),
            (vec![cmd.into(), "non.toml".into()], "non.toml: invalid value for [generate] n_particles = []: expected a non-empty list"),
            (vec![cmd.into(), "nobox.toml".into()], "nobox.toml: missing key 'box_side' in [generate]: expected the side L (sigma) of the cubic box"),
            (set("generate.box_side=0"), "invalid value for [generate] box_side = 0: expected a positive box side L (sigma)"),
            (
                set("generate.box_side=3.9"),
                "invalid value for [generate] box_side = 3.9: expected at least 4 = twice the largest cutoff of model 'train.h5' (network cutoff 2)",
            ),
        ];
        // nti generate shares the checks (src/run/model_input.rs): a few cases suffice there.
        for (k, (args, expect)) in cases.iter().enumerate() {
            if cmd == "ti" || [1, 3, 7].contains(&k) {
                let a: Vec<&str> = args.iter().map(String::as_str).collect();
                fails(p, &a, 2, expect);
            }
        }
    }
}

#[test]
fn model_files_that_do_not_match_the_input_are_input_errors() {
    let d = with_model();
    let p = d.path();
    fs::write(p.join("sys.toml"), format!("{TI}{SYSTEM}")).unwrap();
    fs::write(p.join("junk.h5"), "not hdf5").unwrap();
    let m = |v: &str| format!("generate.model=\"{v}\"");
    let cases: [(&str, String, &str); 7] = [
        ("sys.toml", "system.temperature=1.5".into(), "sys.toml: invalid value for [system] temperature = 1.5: expected T = 1.25, the temperature of model 'train.h5'"),
        (
            "sys.toml",
            "system.cutoff=2.0".into(),
            "invalid value for [system] cutoff = 2: expected the interaction mode of model 'train.h5': cutoff = \"min-image\"",
        ),
        ("ti.toml", m("nope.h5"), "invalid value for [generate] model = \"nope.h5\": expected an nti train results file or checkpoint (a trained model); the file does not exist"),
        (
            "ti.toml",
            m("data.h5"),
            "invalid value for [generate] model = \"data.h5\": expected an nti train results file or checkpoint (a trained model); it holds no /model or /checkpoint group (it is an nti sample results file)",
        ),
        ("ti.toml", m("junk.h5"), "invalid value for [generate] model = \"junk.h5\": expected an nti train results file or checkpoint (a trained model); it is not a readable HDF5 file"),
        ("ti.toml", m("."), "invalid value for [generate] model = \".\": expected an nti train results file or checkpoint (a trained model); it is a directory"),
        ("ti.toml", m(""), "missing key 'model' in [generate]: expected the path of a trained model"),
    ];
    for cmd in ["ti", "generate"] {
        for (k, (file, set, expect)) in cases.iter().enumerate() {
            if cmd == "ti" || [0, 1, 3].contains(&k) {
                fails(p, &[cmd, file, "--set", set], 2, expect);
            }
        }
    }
    // A cutoff model against a min-image [system] is caught the same way; shift/tail separately.
    fs::write(
        p.join("s2.toml"),
        sample_input(20, 40).replace("cutoff = \"min-image\"\ntail_correction = false", "cutoff = 2.0"),
    )
    .unwrap();
    ok(run_in(p, &["sample", "s2.toml", "--set", "output.file=\"data2.h5\""]));
    ok(run_in(p, &["train", "t.toml", "--set", "train.data=[\"data2.h5\"]", "--set", "output.file=\"rc.h5\""]));
    let rc = TI.replace("train.h5", "rc.h5");
    fs::write(p.join("rc.toml"), format!("{rc}{SYSTEM}")).unwrap();
    fails(
        p,
        &["ti", "rc.toml"],
        2,
        "invalid value for [system] cutoff = \"min-image\": expected the interaction mode of model 'rc.h5': cutoff = 2, shift = false, tail_correction = true",
    );
    let tail = ["--set", "system.cutoff=2.0", "--set", "system.tail_correction=false"];
    fails(
        p,
        &[&["ti", "rc.toml"][..], &tail].concat(),
        2,
        "invalid value for [system] tail_correction = false: expected the interaction mode of model 'rc.h5'",
    );
    // The matching [system] is accepted, as is the checkpoint.
    ok(run_in(p, &["ti", "sys.toml", "--set", "ti.windows=0"]));
    ok(run_in(p, &["generate", "ti.toml", "--set", "generate.model=\"train.ckpt.h5\""]));
}

#[test]
fn inconsistent_window_settings_stop_before_any_work() {
    let d = with_model();
    let p = d.path();
    let cases = [
        ("ti.windows=1", "invalid value for [ti] windows = 1: expected 0 (no windows: reverse SDE and AIS only) or at least 2 Gauss-Legendre nodes"),
        ("ti.window_chains=0", "invalid value for [ti] window_chains = 0: expected at least 1 MALA chain per window with windows = 2"),
        ("ti.window_steps=3", "invalid value for [ti] window_steps = 3: expected at least 2 * window_stride = 4 MALA steps"),
        ("ti.window_stride=0", "invalid value for [ti] window_stride = 0: expected a positive number of MALA steps"),
        ("ti.ais_chains=1", "invalid value for [ti] ais_chains = 1: expected 0 (no annealed importance sampling) or at least 2 chains"),
    ];
    for (set, expect) in cases {
        fails(p, &["ti", "ti.toml", "--set", set], 2, expect);
    }
    fails(
        p,
        &["ti", "ti.toml", "--set", "ti.ais_chains=4", "--set", "ti.ais_switches=0"],
        2,
        "invalid value for [ti] ais_switches = 0: expected at least 1 energy switch from t = 1 to 0 with ais_chains = 4",
    );
    // The reverse SDE alone (no windows, no AIS) is a valid request; window keys are then unused.
    let o = run_in(
        p,
        &[
            "ti",
            "ti.toml",
            "--set",
            "ti.windows=0",
            "--set",
            "ti.window_chains=0",
            "--set",
            "ti.ais_chains=0",
            "--set",
            "output.file=\"rev.h5\"",
        ],
    );
    ok(o);
    let s = run_in(p, &["summary", "rev.h5", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    let methods: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert!(methods.iter().all(|m| m.starts_with("reverse-sde-")), "{methods:?}");
    // Baseline: windows, MBAR with Gauss-Legendre nodes, production shorter than two strides.
    let base = format!("version = 1\n{SYSTEM}[baseline]\nwindows = 3\nequilibration = 5\nproduction = 20\nstride = 5\n[output]\nfile = \"out.h5\"\noverwrite = true\n");
    fs::write(p.join("b.toml"), base).unwrap();
    let cases = [
        (vec!["baseline.windows=1"], "invalid value for [baseline] windows = 1: expected at least 2 windows with spacing = \"uniform\""),
        (vec!["baseline.windows=0"], "invalid value for [baseline] windows = 0: expected at least 2 windows"),
        (
            vec!["baseline.windows=0", "baseline.spacing=gauss-legendre", "baseline.mbar=false"],
            "invalid value for [baseline] windows = 0: expected at least 1 window with spacing = \"gauss-legendre\"",
        ),
        (vec!["baseline.spacing=gauss-legendre"], "invalid value for [baseline] mbar = true: expected false with spacing = \"gauss-legendre\": MBAR needs samples of the end states lambda = 0 and 1"),
        (vec!["baseline.production=9"], "invalid value for [baseline] production = 9: expected at least 2 * stride = 10 MC sweeps"),
        (vec!["baseline.stride=0"], "invalid value for [baseline] stride = 0: expected a positive number of MC sweeps"),
    ];
    for (sets, expect) in cases {
        let mut a = vec!["baseline", "b.toml"];
        for s in &sets {
            a.extend(["--set", s]);
        }
        fails(p, &a, 2, expect);
    }
}

#[test]
fn nti_run_rejects_bad_particle_numbers_and_foreign_stage_files() {
    let d = scratch();
    let p = d.path();
    fs::write(p.join("run.toml"), format!("version = 1\n{SYSTEM}{RUN}")).unwrap();
    // Input errors: nothing is created (no stage directory, no output).
    let cases = [
        ("pipeline.ti_n=[20, 70]", "run.toml: invalid value for [pipeline] ti_n = 70: expected particle numbers 2 <= N <= 63: density N / L^3 <= 0.95 in the box of side L = 4.054801 (the nti run box: [system] n_particles / density)"),
        ("pipeline.train_n=[1]", "invalid value for [pipeline] train_n = 1: expected particle numbers 2 <= N <= 63"),
        ("pipeline.baseline_n=[20, 20]", "invalid value for [pipeline] baseline_n = [20, 20]: expected distinct particle numbers (N = 20 is listed more than once)"),
        ("model.r_cut=2.5", "invalid value for [model] r_cut = 2.5: expected at most L/2 = 2.027401: nti run trains in the box of side L = 4.054801"),
        ("ti.windows=1", "invalid value for [ti] windows = 1"),
    ];
    for (set, expect) in cases {
        fails(p, &["run", "run.toml", "--set", set], 2, expect);
    }
    assert!(!p.join("stages").exists());
    // A stage file made with other settings: refused (exit 1, like an existing output file), kept as is.
    fs::create_dir(p.join("stages")).unwrap();
    let other = sample_input(20, 40).replace("production = 40", "production = 60").replace("seed = 5", "seed = 25");
    fs::write(p.join("other.toml"), other).unwrap();
    ok(run_in(p, &["sample", "other.toml", "--set", "output.file=\"stages/sample_N20.h5\""]));
    fails(
        p,
        &["run", "run.toml"],
        2,
        "stage file 'stages/sample_N20.h5' was made with different settings ([sample] production = 60 in the file, 40 in this input); delete it, choose another [pipeline] directory, or set [output] overwrite = true to rerun it",
    );
    // A stage file that is not a results file at all.
    fs::write(p.join("stages/sample_N20.h5"), "half-written").unwrap();
    fails(
        p,
        &["run", "run.toml"],
        2,
        "stage file 'stages/sample_N20.h5' exists but is not a finished nti results file",
    );
    // A stage directory that cannot be created.
    fs::write(p.join("afile"), "x").unwrap();
    fails(
        p,
        &["run", "run.toml", "--set", "pipeline.directory=\"afile/stages\""],
        2,
        "cannot create the stage directory 'afile/stages' ([pipeline] directory = \"afile/stages\"):",
    );
    fails(
        p,
        &["run", "run.toml", "--set", "pipeline.directory=\"afile\""],
        2,
        "cannot create the stage directory 'afile'",
    );
}

#[test]
fn bad_ti_input_under_mpi_stops_every_rank_cleanly() {
    assert!(have_mpirun(), "mpirun not found: install openmpi-bin");
    let d = with_model();
    let p = d.path();
    fs::write(p.join("sys.toml"), format!("{TI}{SYSTEM}")).unwrap();
    for (args, code, expect) in [
        (
            vec!["ti", "sys.toml", "--set", "system.temperature=1.5"],
            2,
            "invalid value for [system] temperature = 1.5: expected T = 1.25",
        ),
        (
            vec!["ti", "ti.toml", "--set", "generate.n_particles=[12, 12]"],
            2,
            "[generate] n_particles = [12, 12]: expected distinct",
        ),
        (vec!["ti", "ti.toml", "--set", "generate.model=\"data.h5\""], 2, "it holds no /model or /checkpoint group"),
    ] {
        let before = snapshot(p);
        let o = mpirun(2).args(&args).current_dir(p).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert_eq!(err.matches("error:").count(), 1, "{args:?}: rank 0 alone reports: {err}");
        assert!(err.contains(&format!("Exit code:    {code}")) || o.status.code() == Some(code), "{args:?}: {err}");
        assert!(before == snapshot(p), "{args:?}: files changed");
    }
}

/// `[ti] window_start` / `window_data` (chains started from reference frames noised to the node's t):
/// inconsistent keys and data files of another system are input errors naming the key and file;
/// with `window_start = "both"` the run reports, per window, how many chains started from data and
/// the z of their disagreement with the reverse-SDE-started chains (only where N has data).
#[test]
fn window_data_starts_are_checked_and_reported() {
    let d = with_model();
    let p = d.path();
    let set_data = "ti.window_data=[\"data.h5\"]";
    fails(
        p,
        &["ti", "ti.toml", "--set", "ti.window_start=\"data\""],
        2,
        "invalid value for [ti] window_data = []: expected the nti sample results files to start from with window_start = \"data\"",
    );
    fails(
        p,
        &["ti", "ti.toml", "--set", set_data],
        2,
        "invalid value for [ti] window_start = \"reverse-sde\": expected \"data\" or \"both\" when window_data is given",
    );
    fails(
        p,
        &["ti", "ti.toml", "--set", set_data, "--set", "ti.window_start=\"both\""],
        2,
        "invalid value for [ti] window_chains = 1: expected at least 2 with window_start = \"both\"",
    );
    let both = ["--set", "ti.window_start=\"both\"", "--set", "ti.window_chains=2"];
    let with = |file: &str| {
        let mut a = vec!["ti", "ti.toml"];
        a.extend(both);
        a.push("--set");
        a.push(Box::leak(format!("ti.window_data=[\"{file}\"]").into_boxed_str()));
        a
    };
    fails(p, &with("nope.h5"), 2, "invalid value for [ti] window_data = \"nope.h5\": expected an nti sample results file; the file does not exist");
    // data.h5 is N = 20 in a box of side 4.0548, the run's box is 4.05.
    fails(
        p,
        &with("data.h5"),
        2,
        "invalid value for [ti] window_data = \"data.h5\": expected data in the run's box (side 4.05)",
    );
    // The same box at another temperature.
    let rho = 12.0 / 4.05f64.powi(3);
    let sample = |t: f64, file: &str| {
        sample_input(20, 40)
            .replace("n_particles = 20", "n_particles = 12")
            .replace("density = 0.3", &format!("density = {rho:?}"))
            .replace("temperature = 1.25", &format!("temperature = {t:?}"))
            .replace("data.h5", file)
    };
    fs::write(p.join("s12.toml"), sample(1.25, "d12.h5")).unwrap();
    fs::write(p.join("s12hot.toml"), sample(2.0, "d12hot.h5")).unwrap();
    ok(run_in(p, &["sample", "s12.toml"]));
    ok(run_in(p, &["sample", "s12hot.toml"]));
    fails(
        p,
        &with("d12hot.h5"),
        2,
        "invalid value for [ti] window_data = \"d12hot.h5\": expected data of the model's physics (T = 1.25",
    );
    let mut a = with("d12.h5");
    a.extend(["--set", "output.file=\"starts.h5\"", "--set", "ti.window_steps=40"]);
    ok(run_in(p, &a));
    let f = hdf5::File::open(p.join("starts.h5")).unwrap();
    let col = |n: usize, c: &str| f.dataset(&format!("ti/N{n}/windows/{c}")).unwrap().read_raw::<f64>().unwrap();
    assert_eq!(col(12, "data_start_chains"), vec![1.0, 1.0], "N = 12 has data: one of two chains from it");
    assert_eq!(col(13, "data_start_chains"), vec![0.0, 0.0], "N = 13 has no data: reverse-SDE starts");
    assert!(col(12, "start_z").iter().all(|z| z.is_finite()));
    assert!(col(13, "start_z").iter().all(|z| z.is_nan()));
    assert!(col(12, "drift_z").iter().chain(&col(13, "drift_z")).all(|z| z.is_finite()), "drift check everywhere");
    let s = run_in(p, &["summary", "starts.h5", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    let zmax: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "window_start_max_z")
        .map(|r| r["n_particles"].as_u64().unwrap())
        .collect();
    assert_eq!(zmax, vec![12], "window_start_max_z only where both kinds of chains ran");
    let drift = v["results"].as_array().unwrap().iter().filter(|r| r["name"] == "window_drift_max_z").count();
    assert_eq!(drift, 2, "window_drift_max_z for every N");
}

/// `nti generate` with a predictor-corrector writes the corrector statistics per N and names its
/// free-energy estimate apart from the plain reverse SDE's; without correctors neither appears.
#[test]
fn generate_with_corrector_writes_its_statistics_and_method() {
    let d = with_model();
    let p = d.path();
    let method = |file: &str| {
        let s = run_in(p, &["summary", file, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
        let r = v["results"].as_array().unwrap();
        r.iter()
            .filter(|r| r["name"] == "beta_a_ex")
            .map(|r| r["method"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    ok(run_in(p, &["generate", "ti.toml", "--set", "output.file=\"plain.h5\""]));
    let set = [
        "--set",
        "output.file=\"pc.h5\"",
        "--set",
        "generate.corrector_t=[0.4, 0.0]",
        "--set",
        "generate.corrector_steps=4",
    ];
    ok(run_in(p, &[&["generate", "ti.toml"][..], &set].concat()));
    assert_eq!(method("plain.h5"), vec!["reverse-sde-rect"; 2]);
    assert_eq!(method("pc.h5"), vec!["reverse-sde-pc-rect"; 2]);
    let plain = hdf5::File::open(p.join("plain.h5")).unwrap();
    assert!(plain.dataset("ti/N12/corrector_t").is_err(), "no corrector datasets without correctors");
    let f = hdf5::File::open(p.join("pc.h5")).unwrap();
    for n in [12, 13] {
        let col = |c: &str| f.dataset(&format!("ti/N{n}/{c}")).unwrap().read_raw::<f64>().unwrap();
        assert_eq!(col("corrector_t"), vec![0.4, 0.0], "N = {n}: one entry per corrector time, in input order");
        assert!(col("corrector_acceptance").iter().all(|a| (0.0..=1.0).contains(a)), "N = {n}");
        assert!(col("corrector_eps").iter().all(|e| *e > 0.0), "N = {n}");
        assert!(col("corrector_du").iter().all(|u| u.is_finite()), "N = {n}");
    }
}

/// Copies `from` to `to` with the f64 dataset `ds` changed by `f`.
fn edit_params(dir: &Path, from: &str, to: &str, ds: &str, f: impl Fn(&mut Vec<f64>)) {
    fs::copy(dir.join(from), dir.join(to)).unwrap();
    let h = hdf5::File::open_rw(dir.join(to)).unwrap();
    let d = h.dataset(ds).unwrap();
    let mut v: Vec<f64> = d.read_raw().unwrap();
    f(&mut v);
    d.write_raw(&v).unwrap();
}

/// A model with a NaN or infinite parameter is refused at load (exit 2, naming the file and the
/// first bad index); a model with finite parameters whose energies overflow gives non-finite free
/// energies, which end `nti ti` / `nti generate` with exit 1 (results file kept for diagnosis).
#[test]
fn non_finite_models_and_free_energies_are_errors() {
    let d = with_model();
    let p = d.path();
    edit_params(p, "train.h5", "nan.h5", "model/params", |v| v[3] = f64::NAN);
    edit_params(p, "train.ckpt.h5", "inf.ckpt.h5", "checkpoint/params", |v| v[5] = f64::INFINITY);
    edit_params(p, "train.h5", "huge.h5", "model/params", |v| v.iter_mut().for_each(|x| *x *= 1e305));
    for cmd in ["ti", "generate"] {
        fails(
            p,
            &[cmd, "ti.toml", "--set", "generate.model=\"nan.h5\""],
            2,
            "invalid value for [generate] model = \"nan.h5\": expected an nti train results file or checkpoint (a \
             trained model); 'nan.h5': parameter 3 of",
        );
        fails(p, &[cmd, "ti.toml", "--set", "generate.model=\"inf.ckpt.h5\""], 2, "'inf.ckpt.h5': parameter 5 of");
    }
    fails(
        p,
        &["train", "t.toml", "--restart", "inf.ckpt.h5", "--set", "output.file=\"t2.h5\""],
        2,
        "checkpoint 'inf.ckpt.h5' dataset 'params' holds a non-finite value at index 5 of",
    );
    for (cmd, out) in [("ti", "h1.h5"), ("generate", "h2.h5")] {
        let o = run_in(
            p,
            &[cmd, "ti.toml", "--set", "generate.model=\"huge.h5\"", "--set", &format!("output.file=\"{out}\"")],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert!(err.contains("error: non-finite free energies: beta_a_ex ("), "{cmd}: {err}");
        assert!(err.contains(&format!("Results file '{out}' was written for diagnosis")), "{cmd}: {err}");
        assert!(p.join(out).exists());
    }
}

/// `[ti] window_pilot`: a missing, foreign or mismatched pilot file is an input error naming the key;
/// a pilot of the same windows allocates the production steps by Neyman's rule (n_j ~ |w_j| a_j,
/// a_j smoothed over neighbouring nodes, above a floor, within the same total), recorded per window in `recorded_samples`, with the
/// shorter windows' series NaN-padded.
#[test]
fn window_pilot_allocates_the_steps_and_bad_pilots_are_input_errors() {
    let d = with_model();
    let p = d.path();
    let key = "invalid value for [ti] window_pilot";
    let set = |kv: &str| Box::leak(kv.to_string().into_boxed_str()) as &str;
    let four = ["--set", "ti.windows=4", "--set", "ti.window_chains=4", "--set", "ti.window_steps=40"];
    let args = |extra: &[&str]| {
        let mut a = vec!["ti", "ti.toml"];
        a.extend(four);
        a.extend(extra.iter().flat_map(|e| ["--set", set(e)]));
        a
    };
    fails(
        p,
        &args(&["ti.window_pilot=\"nope.h5\""]),
        2,
        &format!("{key} = \"nope.h5\": expected an earlier nti ti results file"),
    );
    fails(
        p,
        &args(&["ti.window_pilot=\"out.h5\""]),
        2,
        &format!("{key} = \"out.h5\": expected an nti ti results file (HDF5)"),
    );
    ok(run_in(p, &args(&["output.file=\"pilot.h5\""])));
    fails(
        p,
        &args(&["ti.window_pilot=\"pilot.h5\"", "ti.windows=2"]),
        2,
        &format!("{key} = \"pilot.h5\": expected a pilot at this run's 2 window nodes"),
    );
    fails(
        p,
        &args(&["ti.window_pilot=\"pilot.h5\"", "generate.n_particles=[14]"]),
        2,
        &format!("{key} = \"pilot.h5\": expected an nti ti results file with corrected windows at N = 14"),
    );
    ok(run_in(p, &args(&["ti.window_pilot=\"pilot.h5\"", "output.file=\"alloc.h5\""])));
    let (pilot, alloc) = (hdf5::File::open(p.join("pilot.h5")).unwrap(), hdf5::File::open(p.join("alloc.h5")).unwrap());
    for n in [12, 13] {
        let col =
            |f: &hdf5::File, c: &str| f.dataset(&format!("ti/N{n}/windows/{c}")).unwrap().read_raw::<f64>().unwrap();
        assert_eq!(col(&pilot, "recorded_samples"), vec![80.0; 4], "pilot: 4 chains x 40 steps / stride 2");
        // The pilot's spreads of the Stein-controlled samples (the control variate is on by default).
        let (w, se, rec) = (col(&pilot, "weight"), col(&pilot, "stein_stderr"), col(&pilot, "recorded_samples"));
        let disc = col(&pilot, "discarded_fraction");
        let a: Vec<f64> = (0..4).map(|j| se[j] * (rec[j] * (1.0 - disc[j])).sqrt()).collect();
        // Smoothed over neighbouring nodes (geometric mean of j - 1, j, j + 1).
        let gm = |v: &[f64]| v.iter().product::<f64>().powf(1.0 / v.len() as f64);
        let a = [gm(&a[0..2]), gm(&a[0..3]), gm(&a[1..4]), gm(&a[2..4])];
        let score: Vec<f64> = (0..4).map(|j| w[j].abs() * a[j]).collect();
        let total: f64 = score.iter().sum();
        // Floor: 20 controlled samples over 4 chains = 5 per chain = 10 steps; the rest of 4 x 40.
        let want: Vec<f64> =
            score.iter().map(|s| 4.0 * (10.0 + 2.0 * ((160.0 - 40.0) * s / total / 2.0).floor()) / 2.0).collect();
        let got = col(&alloc, "recorded_samples");
        assert_eq!(got, want, "N = {n}: Neyman allocation of the pilot's spreads");
        assert!(got.iter().any(|r| *r != got[0]), "N = {n}: the windows' errors differ, so must their steps: {got:?}");
        let ds = alloc.dataset(&format!("ti/N{n}/windows/series")).unwrap();
        let longest = got.iter().cloned().fold(0.0, f64::max) as usize / 4;
        assert_eq!(ds.shape(), vec![4, 4, longest]);
        let x = ds.read_raw::<f64>().unwrap();
        for (j, r) in got.iter().enumerate() {
            let block = &x[j * 4 * longest..(j + 1) * 4 * longest];
            assert_eq!(
                block.iter().filter(|v| v.is_finite()).count(),
                *r as usize,
                "window {j}: its samples, then NaN"
            );
        }
    }
}
