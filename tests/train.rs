//! Training through the command line: bitwise identical parameters on 1, 2 and 3 ranks; a run
//! stopped at step 100 and restarted from its checkpoint ends bitwise identical to an uninterrupted
//! 200-step run; refining only the pair walls leaves every other parameter unchanged; bad
//! checkpoints and data files give clear errors and overwrite nothing.

mod common;
use common::fixtures::*;
use common::*;
use std::fs;
use std::path::Path;

fn setup() -> tempfile::TempDir {
    sampled_dir(100)
}

fn ok(o: std::process::Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn training_is_bitwise_identical_on_1_2_and_3_ranks() {
    assert!(have_mpirun(), "mpirun not found");
    let d = setup();
    ok(run_in(d.path(), &["train", "t.toml", "--set", "output.file=\"r1.h5\""]));
    let p1 = params(&d.path().join("r1.h5"));
    for np in [2, 3] {
        let out = format!("r{np}.h5");
        ok(mpirun(np)
            .args(["train", "t.toml", "--set", &format!("output.file=\"{out}\"")])
            .current_dir(d.path())
            .output()
            .unwrap());
        assert_eq!(params(&d.path().join(&out)), p1, "parameters differ between 1 and {np} ranks");
    }
    // Training moved the parameters away from their initial values.
    ok(run_in(d.path(), &["train", "t.toml", "--set", "output.file=\"r0.h5\"", "--set", "train.steps=0"]));
    assert_ne!(params(&d.path().join("r0.h5")), p1);
}

/// The optional t-focus sampling and target score matching draw extra numbers from the items'
/// streams or change their rows in the same micro-batches: still the same parameters on 1 and 2
/// ranks, and different from training without them.
#[test]
fn optional_training_settings_are_rank_independent() {
    assert!(have_mpirun(), "mpirun not found");
    let d = setup();
    let opts = ["--set", "train.t_focus_fraction=0.3", "--set", "train.target_score=true", "--set", "train.steps=40"];
    let mut a = vec!["train", "t.toml", "--set", "output.file=\"ts1.h5\""];
    a.extend(opts);
    ok(run_in(d.path(), &a));
    let mut b = vec!["train", "t.toml", "--set", "output.file=\"ts2.h5\""];
    b.extend(opts);
    ok(mpirun(2).args(&b).current_dir(d.path()).output().unwrap());
    let p1 = params(&d.path().join("ts1.h5"));
    assert_eq!(
        params(&d.path().join("ts2.h5")),
        p1,
        "training with t-focus and target score differs between 1 and 2 ranks"
    );
    assert!(p1.iter().all(|v| f64::from_bits(*v).is_finite()));
    ok(run_in(d.path(), &["train", "t.toml", "--set", "output.file=\"plain.h5\"", "--set", "train.steps=40"]));
    assert_ne!(params(&d.path().join("plain.h5")), p1);
}

/// The message-passing network trains through the same data-parallel path: identical parameters
/// on 1 and 2 ranks, a run stopped at step 20 and restarted from its checkpoint ends bitwise
/// identical to the uninterrupted 40-step run, and the results file names the network.
#[test]
fn message_passing_training_is_rank_independent_and_restarts_bitwise() {
    assert!(have_mpirun(), "mpirun not found");
    let d = setup();
    let mp = [
        "--set",
        "model.network=\"message-passing\"",
        "--set",
        "model.mp_layers=2",
        "--set",
        "model.mp_scalars=8",
        "--set",
        "model.mp_vectors=2",
        "--set",
        "model.mp_radial=4",
        "--set",
        "train.checkpoint_every=20",
    ];
    let run = |out: &str, steps: &str, extra: &[&str], np: usize| {
        let mut a = vec!["train", "t.toml", "--set", out, "--set", steps];
        a.extend(mp);
        a.extend(extra);
        let cmd =
            if np == 1 { run_in(d.path(), &a) } else { mpirun(np).args(&a).current_dir(d.path()).output().unwrap() };
        ok(cmd);
    };
    run("output.file=\"mp1.h5\"", "train.steps=40", &[], 1);
    run("output.file=\"mp2.h5\"", "train.steps=40", &[], 2);
    let p1 = params(&d.path().join("mp1.h5"));
    assert_eq!(params(&d.path().join("mp2.h5")), p1, "message-passing training differs between 1 and 2 ranks");
    run("output.file=\"mph.h5\"", "train.steps=20", &[], 1);
    run("output.file=\"mpr.h5\"", "train.steps=40", &["--restart", "mph.ckpt.h5"], 1);
    assert_eq!(params(&d.path().join("mpr.h5")), p1, "restarted message-passing training differs");
    let g = hdf5::File::open(d.path().join("mp1.h5")).unwrap().group("model").unwrap();
    assert_eq!(nti::io::h5util::get_str(&g, "kind").unwrap(), "lj-message-passing");
    let spec = nti::io::h5util::get_str(&g, "spec").unwrap();
    assert!(spec.contains("\"message_passing\":{"), "spec without the network: {spec}");
    ok(run_in(d.path(), &["train", "t.toml", "--set", "output.file=\"plain.h5\"", "--set", "train.steps=40"]));
    assert_ne!(params(&d.path().join("plain.h5")).len(), p1.len());
}

#[test]
fn restart_from_checkpoint_continues_bitwise_identically() {
    let d = setup();
    ok(run_in(d.path(), &["train", "t.toml", "--set", "output.file=\"full.h5\""]));
    ok(run_in(d.path(), &["train", "t.toml", "--set", "output.file=\"half.h5\"", "--set", "train.steps=100"]));
    ok(run_in(d.path(), &["train", "t.toml", "--set", "output.file=\"resumed.h5\"", "--restart", "half.ckpt.h5"]));
    assert_eq!(params(&d.path().join("resumed.h5")), params(&d.path().join("full.h5")));
    // The loss curves agree too.
    let curve = |p: &str| {
        let f = hdf5::File::open(d.path().join(p)).unwrap();
        f.dataset("training/val_loss").unwrap().read_raw::<f64>().unwrap()
    };
    assert_eq!(curve("resumed.h5"), curve("full.h5"));
}

fn fails(d: &Path, args: &[&str], expect: &str) {
    let o = run_in(d, args);
    assert!(!o.status.success(), "expected failure: {expect}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains(expect), "expected '{expect}', got '{e}'");
}

#[test]
fn bad_checkpoints_and_data_are_clear_errors_and_nothing_is_overwritten() {
    let d = setup();
    let p = d.path();
    ok(run_in(p, &["train", "t.toml", "--set", "train.steps=100"]));
    let ck = p.join("train.ckpt.h5");
    let original = fs::read(&ck).unwrap();
    // Another shape.
    fails(
        p,
        &[
            "train",
            "t.toml",
            "--set",
            "output.file=\"o1.h5\"",
            "--set",
            "model.hidden=[8]",
            "--restart",
            "train.ckpt.h5",
        ],
        "holds a model of another shape",
    );
    // Truncated.
    fs::write(p.join("trunc.h5"), &original[..original.len() / 2]).unwrap();
    fails(p, &["train", "t.toml", "--set", "output.file=\"o2.h5\"", "--restart", "trunc.h5"], "checkpoint 'trunc.h5'");
    // Corrupted data: flip bits inside the stored parameter block (located by its bytes).
    let first: Vec<u8> = {
        let f = hdf5::File::open(&ck).unwrap();
        let v = f.dataset("checkpoint/params").unwrap().read_raw::<f64>().unwrap();
        v[..4].iter().flat_map(|x| x.to_le_bytes()).collect()
    };
    let k = original.windows(first.len()).position(|w| w == first.as_slice()).expect("parameter bytes in file");
    let mut bad = original.clone();
    bad[k + 9] ^= 0x10;
    fs::write(p.join("corrupt.h5"), &bad).unwrap();
    fails(
        p,
        &["train", "t.toml", "--set", "output.file=\"o3.h5\"", "--restart", "corrupt.h5"],
        "checkpoint 'corrupt.h5'",
    );
    // Not a checkpoint at all, and a missing one.
    fails(
        p,
        &["train", "t.toml", "--set", "output.file=\"o4.h5\"", "--restart", "data.h5"],
        "has no /checkpoint group",
    );
    fails(
        p,
        &["train", "t.toml", "--set", "output.file=\"o5.h5\"", "--restart", "nope.h5"],
        "checkpoint 'nope.h5' does not exist",
    );
    // A data file without trajectories.
    ok(run_in(p, &["sample", "s.toml", "--set", "sample.trajectory=false", "--set", "output.file=\"notraj.h5\""]));
    fails(
        p,
        &["train", "t.toml", "--set", "output.file=\"o6.h5\"", "--set", "train.data=[\"notraj.h5\"]"],
        "has no trajectories",
    );
    for o in ["o1.h5", "o2.h5", "o3.h5", "o4.h5", "o5.h5", "o6.h5"] {
        assert!(!p.join(o).exists(), "{o} was created by a failed run");
    }
    assert_eq!(fs::read(&ck).unwrap(), original, "checkpoint was modified");
    // The results file of the good run is not overwritten by a second run.
    fails(p, &["train", "t.toml"], "already exists");
}

#[test]
fn ti_pipeline_is_rank_independent() {
    assert!(have_mpirun(), "mpirun not found");
    let d = setup();
    let p = d.path();
    ok(run_in(p, &["train", "t.toml", "--set", "train.steps=20"]));
    let ti =
        "version = 1\n[generate]\nmodel = \"train.h5\"\nn_particles = [12, 13]\nbox_side = 4.05\ntrajectories = 6\n\
steps = 30\nbatch = 2\n[ti]\nwindows = 2\nwindow_chains = 2\nwindow_warmup = 10\nwindow_steps = 20\nwindow_stride = 2\n\
ais_chains = 4\nais_switches = 5\nais_mala_steps = 1\n[run]\nseed = 3\n[output]\nfile = \"ti1.h5\"\n";
    fs::write(p.join("ti.toml"), ti).unwrap();
    ok(run_in(p, &["ti", "ti.toml"]));
    ok(mpirun(2).args(["ti", "ti.toml", "--set", "output.file=\"ti2.h5\""]).current_dir(p).output().unwrap());
    let json = |f: &str| {
        let o = run_in(p, &["summary", f, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["results"].clone()
    };
    let (a, b) = (json("ti1.h5"), json("ti2.h5"));
    assert_eq!(a, b, "nti ti results differ between 1 and 2 ranks");
    let methods: Vec<String> =
        a.as_array().unwrap().iter().map(|r| r["method"].as_str().unwrap().to_string()).collect();
    for m in [
        "reverse-sde-rectangle",
        "reverse-sde-trapezoid",
        "windows-gl2-uncorrected",
        "windows-gl2-mala",
        "windows-gl2-mala-stein",
        "ais",
    ] {
        assert!(methods.iter().any(|x| x == m), "{m} missing");
    }
    for m in ["windows-gl2-mala-prior", "windows-gl2-mala-network", "windows-gl2-uncorrected-prior"] {
        assert!(methods.iter().any(|x| x == m), "attribution term {m} missing");
    }
    check_attribution(&p.join("ti1.h5"), &p.join("ti2.h5"));
    // HMC windows with the automatic equilibration discard: also rank-independent, named after their
    // sampler, and the whole production series stored.
    let hmc =
        ["--set", "ti.window_sampler=\"hmc\"", "--set", "ti.hmc_leapfrog=3", "--set", "ti.window_discard=\"auto\""];
    ok(run_in(p, &[&["ti", "ti.toml", "--set", "output.file=\"h1.h5\""][..], &hmc[..]].concat()));
    ok(mpirun(2).args(["ti", "ti.toml", "--set", "output.file=\"h2.h5\""]).args(hmc).current_dir(p).output().unwrap());
    let (a, b) = (json("h1.h5"), json("h2.h5"));
    assert_eq!(a, b, "nti ti results with HMC windows differ between 1 and 2 ranks");
    let methods: Vec<&str> = a.as_array().unwrap().iter().map(|r| r["method"].as_str().unwrap()).collect();
    for m in ["windows-gl2-hmc", "reverse-sde-gl2-hmc-corrected", "windows-gl2-hmc-network"] {
        assert!(methods.contains(&m), "{m} missing");
    }
    assert!(!methods.iter().any(|m| m.contains("mala")), "HMC windows reported under a MALA name");
    let (h1, h2) = (hdf5::File::open(p.join("h1.h5")).unwrap(), hdf5::File::open(p.join("h2.h5")).unwrap());
    for n in [12, 13] {
        let w = format!("ti/N{n}/windows");
        let series = h1.dataset(&format!("{w}/series")).unwrap();
        assert_eq!(series.shape(), vec![2, 2, 10], "(windows, chains, window_steps / window_stride)");
        let x = series.read_raw::<f64>().unwrap();
        assert_eq!(x, h2.dataset(&format!("{w}/series")).unwrap().read_raw::<f64>().unwrap());
        assert!(x.iter().all(|v| v.is_finite()));
        let frac = h1.dataset(&format!("{w}/discarded_fraction")).unwrap().read_raw::<f64>().unwrap();
        assert!(frac.iter().all(|f| (0.0..=0.5).contains(f)), "discarded fraction {frac:?}");
    }
    // Clenshaw-Curtis windows (t = 0, 1/2, 1): named after the rule, with the embedded error estimate
    // beta A_ex(half rule: t = 0 and 1, weights 1/2) - beta A_ex(all three windows).
    let cc = ["--set", "ti.window_rule=\"clenshaw-curtis\"", "--set", "ti.windows=3", "--set", "output.file=\"cc.h5\""];
    ok(run_in(p, &[&["ti", "ti.toml"][..], &cc[..]].concat()));
    let c = json("cc.h5");
    let cc2 = [&cc[..4], &["--set", "output.file=\"cc2.h5\""][..]].concat();
    ok(mpirun(2).arg("ti").arg("ti.toml").args(&cc2).current_dir(p).output().unwrap());
    assert_eq!(c, json("cc2.h5"), "nti ti results with Clenshaw-Curtis windows differ between 1 and 2 ranks");
    let get = |name: &str, method: &str| {
        c.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name && r["method"] == method && r["n_particles"] == 12)
            .unwrap_or_else(|| panic!("{name} {method} missing"))
            .clone()
    };
    let fine = get("beta_a_ex", "windows-cc3-mala");
    let qe = get("quadrature_error", "windows-cc3-mala");
    let f = hdf5::File::open(p.join("cc.h5")).unwrap();
    let col = |d: &str| f.dataset(&format!("ti/N12/windows/{d}")).unwrap().read_raw::<f64>().unwrap();
    let (t, w, m, se) = (col("t"), col("weight"), col("mean"), col("stderr"));
    assert_eq!(t, vec![0.0, 0.5, 1.0]);
    assert!(w.iter().zip([1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0]).all(|(a, b)| (a - b).abs() < 1e-15), "weights {w:?}");
    let coarse = -0.5 * (m[0] + m[2]);
    let value = |r: &serde_json::Value, k: &str| r[k].as_f64().unwrap();
    assert!((value(&fine, "value") + w.iter().zip(&m).map(|(a, b)| a * b).sum::<f64>()).abs() < 1e-12);
    assert!((value(&qe, "value") - (coarse - value(&fine, "value"))).abs() < 1e-12, "quadrature_error {qe}");
    let se_e = ((1.0f64 / 3.0 * se[0]).powi(2) + (2.0 / 3.0 * se[1]).powi(2) + (1.0 / 3.0 * se[2]).powi(2)).sqrt();
    assert!((value(&qe, "stderr") - se_e).abs() < 1e-12 * (1.0 + se_e));
    // A grid of N that is not contiguous: /ti/fit holds every N in between from the fit through the
    // window estimates, with its leave-one-out check, and the grand-canonical curve comes from it.
    let grid = ["--set", "generate.n_particles=[10, 12, 14, 16]", "--set", "output.file=\"fit.h5\""];
    ok(run_in(p, &[&["ti", "ti.toml"][..], &grid[..]].concat()));
    let f = hdf5::File::open(p.join("fit.h5")).unwrap();
    let read = |d: &str| f.dataset(d).unwrap().read_raw::<f64>().unwrap();
    assert_eq!(read("ti/fit/n"), (10..=16).map(|n| n as f64).collect::<Vec<_>>());
    let (a, se) = (read("ti/fit/beta_a_ex"), read("ti/fit/beta_a_ex_stderr"));
    assert!(a.iter().chain(&se).all(|v| v.is_finite()) && se.iter().all(|s| *s > 0.0));
    let mu = read("ti/fit/beta_mu_ex");
    assert!(mu.iter().zip(a.windows(2)).all(|(m, w)| (m - (w[1] - w[0])).abs() < 1e-9 * (1.0 + m.abs())));
    assert_eq!(f.dataset("ti/fit/leave_one_out").unwrap().shape(), vec![4, 6]);
    let method: String = f
        .group("grand_canonical")
        .unwrap()
        .attr("method")
        .unwrap()
        .read_scalar::<hdf5::types::VarLenUnicode>()
        .unwrap()
        .to_string();
    // The windows with the Fokker-Planck control variate ([ti] window_stein_probes, on by default).
    assert_eq!(method, "fit: windows-gl2-mala-stein", "grand-canonical method");
    // Any N is accepted within the box, beyond it is a clear error.
    let o = run_in(p, &["ti", "ti.toml", "--set", "output.file=\"ti3.h5\"", "--set", "generate.n_particles=[100]"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("[generate] n_particles = 100"));
    assert!(!p.join("ti3.h5").exists());
}

/// /ti/N<n>/attribution/{mala,uncorrected}: present, complete to round-off (every marginal sums to
/// the total, which agrees with the headline estimate), of the documented shapes, and bitwise the
/// same on 1 (`a`) and 2 (`b`) ranks.
fn check_attribution(a: &Path, b: &Path) {
    let (fa, fb) = (hdf5::File::open(a).unwrap(), hdf5::File::open(b).unwrap());
    let read =
        |f: &hdf5::File, p: &str| f.dataset(p).unwrap_or_else(|_| panic!("{p} missing")).read_raw::<f64>().unwrap();
    let attr = |g: &hdf5::Group, name: &str| -> f64 { g.attr(name).unwrap().read_scalar().unwrap() };
    for n in [12usize, 13] {
        for label in ["mala", "uncorrected"] {
            let base = format!("ti/N{n}/attribution/{label}");
            let g = fa.group(&base).unwrap_or_else(|_| panic!("{base} missing"));
            let c = g.group("completeness").unwrap();
            let worst = attr(&c, "max");
            eprintln!("{base}: completeness residual {worst:.2e}");
            assert!(worst < 1e-10, "{base}: completeness residual {worst:e}");
            for m in ["terms", "nodes", "particles", "shells", "headline"] {
                assert!(attr(&c, m) <= worst, "{base}: {m}");
            }
            let total = attr(&g, "total");
            let terms = read(&fa, &format!("{base}/terms/value"));
            assert_eq!(terms.len(), 2);
            assert!((terms.iter().sum::<f64>() - total).abs() < 1e-10 * total.abs());
            let cov = fa.dataset(&format!("{base}/terms/covariance")).unwrap();
            assert_eq!(cov.shape(), vec![2, 2]);
            let se = read(&fa, &format!("{base}/terms/stderr"));
            let cv = cov.read_raw::<f64>().unwrap();
            assert!((cv[0] - se[0] * se[0]).abs() <= 1e-12 * cv[0] && (cv[3] - se[1] * se[1]).abs() <= 1e-12 * cv[3]);
            assert_eq!(fa.dataset(&format!("{base}/particles")).unwrap().shape(), vec![n, 2]);
            assert_eq!(fa.dataset(&format!("{base}/nodes/value")).unwrap().shape(), vec![2, 2]);
            let edges = read(&fa, &format!("{base}/shells/edges"));
            let shells = fa.dataset(&format!("{base}/shells/value")).unwrap();
            assert_eq!(shells.shape(), vec![2, edges.len() + 1]);
            let sv = shells.read_raw::<f64>().unwrap();
            assert!((sv.iter().sum::<f64>() - total).abs() < 1e-10 * total.abs());
            for d in [
                "terms/value",
                "terms/stderr",
                "terms/covariance",
                "nodes/value",
                "particles",
                "shells/value",
                "shells/stderr",
            ] {
                let (x, y) = (read(&fa, &format!("{base}/{d}")), read(&fb, &format!("{base}/{d}")));
                let bits = |v: &[f64]| v.iter().map(|z| z.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&x), bits(&y), "{base}/{d} differs between 1 and 2 ranks");
            }
        }
    }
}
