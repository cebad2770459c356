//! `nti report`: a tiny `nti run` (three N, so every section exists; a few seconds) gives one
//! self-contained HTML page with every section and its SVG figures; the report of a stage file
//! holds that stage's sections and names the absent ones; the warnings a run prints are stored in its
//! file and listed in the report; a file of the wrong kind is refused with exit code 2 and nothing
//! written.

mod common;
use common::{run_in, scratch};
use std::fs;
use std::path::Path;

const TINY: &str = "version = 1\n[system]\nn_particles = 20\ndensity = 0.1\ntemperature = 1.5\ncutoff = 2.5\n\
tail_correction = true\n[sample]\nreplicas = 2\nequilibration = 200\nproduction = 1000\nstride = 10\nrdf_bins = 40\n\
[model]\nhidden = [8, 8]\nn_radial = 4\nr_cut = 2.5\nn_freq = 2\n[train]\nsteps = 100\nbatch = 8\nmicro_batch = 4\n\
eval_every = 20\ncheckpoint_every = 100\nvalidation_samples = 16\n[generate]\ntrajectories = 8\nsteps = 40\n\
[ti]\nwindows = 4\nwindow_chains = 2\nwindow_warmup = 20\nwindow_steps = 40\nais_chains = 4\n\
[baseline]\nwindows = 4\nequilibration = 100\nproduction = 500\n\
[pipeline]\ntrain_n = [20]\nti_n = [19, 20, 21]\nbaseline_n = [20]\n[run]\nseed = 3\n[output]\nfile = \"tiny.h5\"\n";

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Every reference in the page points into the page: no src/href/url(...) to a file or the
/// network, no scripts, no imports. (The SVG namespace URI is an identifier, not a fetch.)
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for bad in ["src=", "href=", "url(", "@import", "<script", "<link", "<iframe", "<object", "<embed"] {
        assert!(!lower.contains(bad), "the page references something outside itself ({bad}):\n{}", &html[..2000]);
    }
    let without_ns = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"), "a network address in the page");
}

fn sections(html: &str) -> Vec<String> {
    html.split("<h2 id=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

#[test]
fn report_of_a_run_and_of_its_stage_files() {
    let d = scratch();
    let p = d.path();
    fs::write(p.join("p.toml"), TINY).unwrap();
    // nti run writes the report beside its results and ends with its path and the verdict.
    let o = run_in(p, &["run", "p.toml"]);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let run = ok(o);
    let tail: Vec<&str> = run.lines().rev().take(2).collect();
    assert!(tail[1] == "report: tiny.html" && tail[0].starts_with("verdict: N = 19: beta A_ex = "), "{run}");
    assert!(tail[0].contains("z = ") && tail[0].contains("checks warn (see the report)"), "{run}");
    assert!(p.join("tiny.html").is_file());

    // The run file: all sections, in order, each figure an inline SVG.
    let out = ok(run_in(p, &["report", "tiny.h5", "--out", "rep"]));
    assert!(out.contains("rep/tiny.html"), "{out}");
    let html = fs::read_to_string(p.join("rep/tiny.html")).unwrap();
    assert_self_contained(&html);
    assert_eq!(
        sections(&html),
        ["summary", "checks", "integrand", "attribution", "landscape", "training", "rdf", "baseline"],
        "sections of the run's report"
    );
    // Figures: integrand and window diagnostics per N (3 + 3), term bars (3), shells (2 per N: 6),
    // W(N), <rho>(beta mu), loss, g(r), baseline.
    assert_eq!(html.matches("<svg").count(), 3 + 3 + 3 + 6 + 2 + 3, "figures");
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    for text in ["z vs baseline", "z vs EOS", "mbar-K4", "eos-kolafa-nezbeda", "W(N) - min W", "validation loss"] {
        assert!(html.contains(text), "'{text}' missing");
    }
    // Every warning the run printed is stored in its file (those of the stages prefixed with the
    // stage file) and listed in the report's checks section.
    let printed: Vec<&str> =
        stderr.lines().filter(|l| l.contains(" WARN ")).filter_map(|l| l.split_once("] ").map(|x| x.1)).collect();
    assert!(printed.iter().any(|w| w.contains("AIS effective sample size")), "the tiny run's AIS warning:\n{stderr}");
    let stored = nti::io::warnings::read(&p.join("tiny.h5")).unwrap();
    for w in &printed {
        assert!(stored.iter().any(|s| s.ends_with(w)), "printed, not stored: {w}\nstored: {stored:#?}");
        assert!(html.contains(&nti::report::page::esc(w)), "stored, not in the report: {w}");
    }
    assert!(stored.iter().any(|s| s.starts_with("ti.h5: N = ")), "stage warnings name their stage file: {stored:#?}");
    let ti_stage = nti::io::warnings::read(&p.join("tiny_stages/ti.h5")).unwrap();
    assert!(ti_stage.iter().any(|s| s.contains("AIS effective sample size")), "the TI stage file: {ti_stage:#?}");
    assert!(html.contains(&format!("The run logged {} warning", stored.len())), "the warnings' heading");
    // W(N) and <rho>(beta mu) carry the equation of state's line (full LJ with tail corrections).
    assert!(html.matches("Kolafa-Nezbeda EOS, ").count() >= 2, "the EOS lines of the landscape figures");
    // The checks carry marks, and the tiny run's 4 AIS chains are flagged as not informative.
    assert!(html.contains("✔ pass") && html.contains("⚠ warn"), "check marks");
    assert!(html.contains("not informative (ESS"), "AIS with a tiny ESS is not marked");
    assert!(!html.contains("Not in this file"), "a run file has every section");

    // A TI stage file with its baseline file: the baseline's z appears, the TI-only sections stay.
    ok(run_in(p, &["report", "tiny_stages/ti.h5", "--with", "tiny_stages/baseline_N20.h5", "--out", "with"]));
    let html = fs::read_to_string(p.join("with/ti.html")).unwrap();
    assert_eq!(sections(&html), ["summary", "checks", "integrand", "attribution", "landscape", "baseline"]);
    let row =
        html.lines().find(|l| l.contains("<td>windows-gl4-mala</td>") && l.contains("<td class=num>20</td>")).unwrap();
    let cells: Vec<&str> =
        row.split("<td").skip(1).map(|c| c.split('>').nth(1).unwrap().split('<').next().unwrap()).collect();
    assert_eq!(cells[3], "windows-gl4-mala", "{row}");
    assert!(cells[6].parse::<f64>().is_ok(), "no z against the baseline: {row}");
    let o = run_in(p, &["report", "tiny_stages/ti.h5", "--with", "p.toml"]);
    assert_eq!(o.status.code(), Some(2), "a --with file that is not a results file");

    // A stage file: only its own sections, the rest named as absent.
    ok(run_in(p, &["report", "tiny_stages/train.h5"]));
    let html = fs::read_to_string(p.join("tiny_stages/train.html")).unwrap();
    assert_self_contained(&html);
    assert_eq!(sections(&html), ["training"]);
    assert!(html.contains("Not in this file, so not shown: Summary, Consistency checks,"), "absent sections named");
    ok(run_in(p, &["report", "tiny_stages/sample_N20.h5"]));
    let html = fs::read_to_string(p.join("tiny_stages/sample_N20.html")).unwrap();
    // The short reference simulation warns (its block averages reach no plateau): a stage file
    // without checks shows the checks section for its stored warnings only.
    let sample_warnings = nti::io::warnings::read(&p.join("tiny_stages/sample_N20.h5")).unwrap();
    assert!(!sample_warnings.is_empty() && stored.iter().any(|s| s.starts_with("sample_N20.h5: ")), "{stored:#?}");
    assert_eq!(sections(&html), ["checks", "rdf"]);
    assert!(html.contains(&nti::report::page::esc(&sample_warnings[0])));
}

/// Files that are not nti results files: exit code 2, an error naming the file and what was
/// expected, and no report written.
#[test]
fn wrong_kind_of_file_is_refused() {
    let d = scratch();
    let p = d.path();
    fs::write(p.join("notes.h5"), "not hdf5").unwrap();
    let plain = hdf5::File::create(p.join("plain.h5")).unwrap();
    plain.create_group("results").unwrap();
    drop(plain);
    hdf5::File::create(p.join("run.ckpt.h5")).unwrap().create_group("checkpoint").unwrap();
    for (file, expect) in [
        ("notes.h5", "is not a readable HDF5 file"),
        ("plain.h5", "is not an nti results file"),
        ("missing.h5", "does not exist"),
        ("run.ckpt.h5", "(it is a training checkpoint)"),
    ] {
        let o = run_in(p, &["report", file, "--out", "rep"]);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {e}");
        assert!(e.contains(file) && e.contains(expect), "{file}: {e}");
    }
    assert!(!Path::new(&p.join("rep")).exists(), "a directory was created for a refused file");
}
