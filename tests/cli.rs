//! Command-line behaviour: the input fixture corpus, bad input of every kind (clear error,
//! non-zero exit, nothing created or overwritten), and `nti summary --json`.

mod common;
use common::*;
use std::fs;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn good_fixtures_validate() {
    let dir = fixture("good");
    let mut n = 0;
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let o = run_in(&dir, &["check", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", p.display(), stderr(&o));
        n += 1;
    }
    assert!(n >= 3);
}

#[test]
fn bad_fixtures_fail_with_their_expected_error() {
    let dir = fixture("bad");
    let mut n = 0;
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let text = fs::read_to_string(&p).unwrap();
        let expect =
            text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).expect("first line '# expect: ...'");
        let o = run_in(&dir, &["check", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}: expected exit 2", p.display());
        assert!(stderr(&o).contains(expect), "{}:\n expected '{expect}'\n got '{}'", p.display(), stderr(&o));
        n += 1;
    }
    assert!(n >= 15);
}

#[test]
fn example_input_is_complete_and_valid() {
    let d = scratch();
    let o = run_in(d.path(), &["example"]);
    assert!(o.status.success());
    fs::write(d.path().join("ex.toml"), &o.stdout).unwrap();
    let c = run_in(d.path(), &["check", "ex.toml"]);
    assert!(c.status.success(), "{}", stderr(&c));
}

/// Runs `nti sample` on `input` in a scratch dir and checks failure without output files.
fn sample_fails(input: Option<&str>, args: &[&str], expect: &str) {
    let d = scratch();
    if let Some(text) = input {
        fs::write(d.path().join("in.toml"), text).unwrap();
    }
    let mut a = vec!["sample", "in.toml"];
    a.extend_from_slice(args);
    let o = run_in(d.path(), &a);
    assert_eq!(o.status.code(), Some(2), "expected exit 2 (bad input) for {expect}: {}", stderr(&o));
    assert!(stderr(&o).contains(expect), "expected '{expect}', got '{}'", stderr(&o));
    let left: Vec<_> = fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.iter().all(|f| f == "in.toml"), "files left behind: {left:?}");
}

#[test]
fn sample_rejects_bad_input_without_creating_files() {
    let good = tiny_input("out.h5", "");
    sample_fails(None, &[], "cannot read input file 'in.toml'");
    sample_fails(
        Some(&good.replace("density = 0.6", "density = 0.6\ncolour = 1")),
        &[],
        "unknown key 'colour' in [system]",
    );
    sample_fails(Some(&good.replace("n_particles = 108", "n_particles = 1.5")), &[], "[system] n_particles = 1.5");
    sample_fails(Some(&good.replace("density = 0.6", "density = -0.6")), &[], "[system] density = -0.6");
    sample_fails(Some(&good.replace("cutoff = 2.5", "cutoff = 3.0")), &[], "[system] cutoff = 3");
    sample_fails(Some(&good.replace("n_particles = 108", "n_particles = 0")), &[], "[system] n_particles = 0");
    sample_fails(
        Some(&good),
        &["--set", "output.file=/nonexistent/dir/out.h5"],
        "directory '/nonexistent/dir' does not exist",
    );
    sample_fails(Some(&good), &["--set", "system.density"], "invalid override '--set system.density'");
    sample_fails(Some(&good), &["--set", "sample.replicas=0"], "[sample] replicas = 0");
    let no_system = "version = 1\n[sample]\nreplicas = 1\n";
    sample_fails(Some(no_system), &[], "missing section [system]");
    sample_fails(
        Some(&good),
        &["--set", "system.n_particles=1000000000", "--set", "system.density=0.6"],
        "nti sample would need about",
    );
    sample_fails(Some(&good), &["--set", "output.file=\".\""], "output file '.' is a directory");
}

#[test]
fn unwritable_output_directory_is_a_clear_error() {
    // A read-only directory (root ignores permissions, so use a path under a regular file).
    let d = scratch();
    fs::write(d.path().join("afile"), "x").unwrap();
    fs::write(d.path().join("in.toml"), tiny_input("afile/out.h5", "")).unwrap();
    let o = run_in(d.path(), &["sample", "in.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("afile/out.h5"), "{}", stderr(&o));
}

#[test]
fn existing_output_is_never_overwritten_silently() {
    let d = scratch();
    fs::write(d.path().join("in.toml"), tiny_input("out.h5", "")).unwrap();
    fs::write(d.path().join("out.h5"), "precious").unwrap();
    let o = run_in(d.path(), &["sample", "in.toml"]);
    assert_eq!(o.status.code(), Some(2), "an existing output file is bad input");
    assert!(stderr(&o).contains("output file 'out.h5' already exists"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(d.path().join("out.h5")).unwrap(), "precious");
    // Explicit permission replaces it with a results file.
    let o = run_in(d.path(), &["sample", "in.toml", "--set", "output.overwrite=true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(fs::read(d.path().join("out.h5")).unwrap(), b"precious");
}

#[test]
fn sample_writes_results_that_summary_reports_as_json() {
    let d = scratch();
    fs::write(d.path().join("in.toml"), tiny_input("out.h5", "")).unwrap();
    let o = run_in(d.path(), &["sample", "in.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = run_in(d.path(), &["summary", "out.h5", "--json"]);
    assert!(s.status.success(), "{}", stderr(&s));
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).expect("JSON");
    let results = v["results"].as_array().expect("results array");
    let names: Vec<&str> = results.iter().map(|r| r["name"].as_str().unwrap()).collect();
    for want in ["potential_energy_per_particle", "pressure", "beta_mu_ex", "mc_acceptance"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for r in results {
        for k in ["name", "method", "n_particles", "temperature", "density", "value", "stderr", "units"] {
            assert!(r.get(k).is_some(), "key {k} missing in {r}");
        }
        assert_eq!(r["n_particles"], 108);
    }
    let u = results.iter().find(|r| r["name"] == "potential_energy_per_particle").unwrap();
    assert!(u["value"].as_f64().unwrap() < 0.0 && u["stderr"].as_f64().unwrap() > 0.0);
    // H5MD layout and provenance.
    let f = hdf5::File::open(d.path().join("out.h5")).unwrap();
    let pos = f.dataset("particles/replica_002/position/value").unwrap();
    assert_eq!(pos.shape(), vec![10, 108, 3]);
    let ver: Vec<i32> = f.group("h5md").unwrap().attr("version").unwrap().read_raw().unwrap();
    assert_eq!(ver, vec![1, 1]);
    let prov = f.group("provenance").unwrap();
    let text: hdf5::types::VarLenUnicode = prov.attr("input_text").unwrap().read_scalar().unwrap();
    assert!(text.as_str().contains("n_particles = 108"));
    let ranks: i64 = prov.attr("n_ranks").unwrap().read_scalar().unwrap();
    assert_eq!(ranks, 1);
}

#[test]
fn summary_of_a_non_results_file_is_a_clear_error() {
    let d = scratch();
    fs::write(d.path().join("junk.h5"), "not hdf5").unwrap();
    let o = run_in(d.path(), &["summary", "junk.h5", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'junk.h5' is not a readable HDF5 file"), "{}", stderr(&o));
    let o = run_in(d.path(), &["summary", "missing.h5"]);
    assert!(stderr(&o).contains("'missing.h5' does not exist"));
}

#[test]
fn stale_partial_files_of_dead_processes_are_removed() {
    let d = scratch();
    fs::write(d.path().join("in.toml"), tiny_input("out.h5", "")).unwrap();
    // Above the kernel's largest pid_max (2^22), so never a live process.
    let dead = 4_194_304 + 99;
    let live = std::process::id();
    let stale = [format!(".out.h5.partial-{dead}"), format!(".old.ckpt.h5.partial-{dead}")];
    let keep = format!(".other.h5.partial-{live}");
    for f in stale.iter().chain([&keep]) {
        fs::write(d.path().join(f), vec![0u8; 1000]).unwrap();
    }
    let o = run_in(d.path(), &["sample", "in.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in &stale {
        assert!(!d.path().join(f).exists(), "{f} left behind");
        assert!(
            stderr(&o).contains(&format!("removed '{f}', left behind by process {dead}, which no longer runs")),
            "{}",
            stderr(&o)
        );
    }
    assert!(d.path().join(&keep).exists(), "the partial file of a live process was removed");
}
