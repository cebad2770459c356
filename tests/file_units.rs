//! Files other tools read: every array of every results file (sample, train, ti, baseline,
//! generate, run) carries its unit, and the H5MD groups have the form MDAnalysis's H5MD reader
//! accepts as written (box edges a time series of the trajectory's frames; every member of
//! /observables a value/step/time series with one entry per frame; no unit MDAnalysis would
//! refuse on the datasets it converts). The reader itself is exercised by
//! validation/h5md_mdanalysis.py.

mod common;
use common::*;
use hdf5::{Group, Location};
use std::fs;
use std::path::{Path, PathBuf};

/// Pipeline with RDF and trajectories, MC sampling (stage files in tiny_stages/).
const PIPELINE: &str = "version = 1\n[system]\nn_particles = 20\ndensity = 0.1\ntemperature = 1.5\ncutoff = 2.5\n\
tail_correction = true\n[sample]\nreplicas = 2\nequilibration = 100\nproduction = 600\nstride = 10\nrdf_bins = 20\n\
[model]\nhidden = [8, 8]\nn_radial = 4\nr_cut = 2.5\nn_freq = 2\n[train]\nsteps = 100\nbatch = 8\nmicro_batch = 4\n\
eval_every = 50\ncheckpoint_every = 50\nvalidation_samples = 8\n[generate]\ntrajectories = 4\nsteps = 20\n\
[ti]\nwindows = 2\nwindow_chains = 1\nais_chains = 4\n[baseline]\nwindows = 4\nequilibration = 100\nproduction = 400\n\
[pipeline]\ntrain_n = [20]\nti_n = [20]\nbaseline_n = [20]\n[run]\nseed = 3\n[output]\nfile = \"tiny.h5\"\n";

/// TI over four N (for /ti/fit and /grand_canonical) and generate with a corrector, on the
/// pipeline's model (box side (20 / 0.1)^(1/3)).
const TI: &str = "version = 1\n[generate]\nmodel = \"tiny_stages/train.h5\"\nn_particles = [18, 19, 20, 21]\n\
box_side = 5.848\ntrajectories = 4\nsteps = 10\nbatch = 2\ncorrector_t = [0.3]\ncorrector_steps = 4\n\
[ti]\nwindows = 2\nwindow_chains = 1\nwindow_warmup = 2\nwindow_steps = 4\nwindow_stride = 2\n[run]\nseed = 3\n\
[output]\nfile = \"ti4.h5\"\n";

fn ok(o: std::process::Output) {
    assert!(o.status.success(), "nti failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// Every dataset below `g` as (path, dataset).
fn datasets(g: &Group, prefix: &str, out: &mut Vec<(String, hdf5::Dataset)>) {
    for name in g.member_names().unwrap() {
        let p = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        if let Ok(ds) = g.dataset(&name) {
            out.push((p, ds));
        } else if let Ok(sub) = g.group(&name) {
            datasets(&sub, &p, out);
        }
    }
}

fn attr_str(loc: &Location, name: &str) -> Option<String> {
    let a = loc.attr(name).ok()?;
    a.read_scalar::<hdf5::types::VarLenAscii>()
        .map(|s| s.as_str().to_string())
        .or_else(|_| a.read_scalar::<hdf5::types::VarLenUnicode>().map(|s| s.as_str().to_string()))
        .ok()
}

/// The four datasets MDAnalysis converts, which carry `reduced_unit` instead of `unit`.
fn converted_by_mdanalysis(path: &str) -> bool {
    path.starts_with("particles/")
        && ["/position/value", "/position/time", "/box/edges/value", "/box/edges/time"]
            .iter()
            .any(|s| path.ends_with(s))
}

/// Missing or misplaced units in `file`, one line each.
fn unit_problems(file: &Path) -> Vec<String> {
    let f = hdf5::File::open(file).unwrap();
    let mut all = vec![];
    datasets(&f, "", &mut all);
    let mut bad = vec![];
    for (p, ds) in &all {
        let (unit, reduced) = (attr_str(ds, "unit"), attr_str(ds, "reduced_unit"));
        let expect_reduced = converted_by_mdanalysis(p);
        match (unit, reduced) {
            (None, Some(_)) if expect_reduced => {}
            (Some(u), None) if !expect_reduced && !u.is_empty() => {}
            (u, r) => bad.push(format!("{}: {p}: unit {u:?}, reduced_unit {r:?}", file.display())),
        }
    }
    bad
}

/// Departures from the H5MD form MDAnalysis's reader needs, one line each.
fn h5md_problems(file: &Path) -> Vec<String> {
    let f = hdf5::File::open(file).unwrap();
    let mut bad = vec![];
    let Ok(parts) = f.group("particles") else { return bad };
    let mut frames = None;
    for name in parts.member_names().unwrap() {
        let pos = parts.dataset(&format!("{name}/position/value")).unwrap().shape();
        frames.get_or_insert(pos[0]);
        match parts.group(&format!("{name}/box/edges")) {
            Ok(e) => {
                for (d, shape) in [("value", vec![pos[0], 3]), ("step", vec![pos[0]]), ("time", vec![pos[0]])] {
                    match e.dataset(d) {
                        Ok(x) if x.shape() == shape => {}
                        _ => bad.push(format!("particles/{name}/box/edges/{d}: not of shape {shape:?}")),
                    }
                }
            }
            Err(_) => bad.push(format!("particles/{name}/box/edges is not a time-dependent group")),
        }
    }
    let frames = frames.unwrap_or(0);
    if let Ok(obs) = f.group("observables") {
        // The reader reads observables/<k>/value[frame], or observables/<k>/<sub>/value[frame].
        for k in obs.member_names().unwrap() {
            let g = obs.group(&k);
            let series: Vec<String> = match &g {
                Ok(g) if g.link_exists("value") => vec![k.clone()],
                Ok(g) => g.member_names().unwrap().into_iter().map(|s| format!("{k}/{s}")).collect(),
                Err(_) => vec![k.clone()],
            };
            for s in series {
                let ok = obs.group(&s).is_ok_and(|e| {
                    ["value", "step", "time"].iter().all(|d| e.dataset(d).is_ok_and(|x| x.shape()[0] >= frames))
                });
                if !ok {
                    bad.push(format!(
                        "{}: observables/{s} is not a value/step/time series of >= {frames} entries",
                        file.display()
                    ));
                }
            }
        }
    }
    bad
}

#[test]
fn every_array_has_a_unit_and_trajectories_have_the_h5md_form_mdanalysis_reads() {
    let d = scratch();
    let p = d.path();
    fs::write(p.join("p.toml"), PIPELINE).unwrap();
    fs::write(p.join("ti.toml"), TI).unwrap();
    fs::write(p.join("s.toml"), tiny_input("langevin.h5", "")).unwrap();
    ok(run_in(p, &["run", "p.toml"]));
    ok(run_in(p, &["ti", "ti.toml"]));
    ok(run_in(p, &["generate", "ti.toml", "--set", "output.file=\"gen.h5\""]));
    // Langevin, Widom: the kinetic energy and Widom series, time in tau.
    let lg = ["--set", "sample.method=\"langevin\"", "--set", "sample.replicas=1"];
    ok(run_in(p, &[&["sample", "s.toml"][..], &lg].concat()));

    let mut files: Vec<PathBuf> = ["tiny.h5", "ti4.h5", "gen.h5", "langevin.h5"].iter().map(|f| p.join(f)).collect();
    for e in fs::read_dir(p.join("tiny_stages")).unwrap() {
        let path = e.unwrap().path();
        if !path.to_string_lossy().ends_with(".ckpt.h5") {
            files.push(path);
        }
    }
    assert_eq!(files.len(), 8, "expected the stage files sample, train, ti, baseline: {files:?}");
    let mut bad = vec![];
    for f in &files {
        bad.extend(unit_problems(f));
        bad.extend(h5md_problems(f));
    }
    assert!(bad.is_empty(), "{} problems:\n{}", bad.len(), bad.join("\n"));

    // Units as documented in docs/design.md.
    let unit = |file: &str, path: &str, attr: &str| {
        let f = hdf5::File::open(p.join(file)).unwrap();
        attr_str(&f.dataset(path).unwrap(), attr).unwrap()
    };
    assert_eq!(unit("tiny_stages/sample_N20.h5", "particles/replica_001/position/value", "reduced_unit"), "sigma");
    assert_eq!(unit("tiny_stages/sample_N20.h5", "observables/replica_000/pressure/time", "unit"), "sweep");
    assert_eq!(unit("tiny_stages/sample_N20.h5", "rdf/r", "unit"), "sigma");
    assert_eq!(unit("langevin.h5", "observables/replica_000/kinetic_energy_per_particle/value", "unit"), "epsilon");
    assert_eq!(unit("langevin.h5", "particles/replica_000/position/time", "reduced_unit"), "tau");
    assert_eq!(unit("ti4.h5", "ti/fit/beta_mu_ex", "unit"), "kT");
    assert_eq!(unit("tiny_stages/baseline_N20.h5", "baseline/mbar/u_kn", "unit"), "kT");
    // The box edges repeat the box side (written in /system) at every frame.
    let f = hdf5::File::open(p.join("tiny_stages/sample_N20.h5")).unwrap();
    let side: f64 = f.group("system").unwrap().attr("box_side").unwrap().read_scalar().unwrap();
    let edges = f.dataset("particles/replica_000/box/edges/value").unwrap().read_raw::<f64>().unwrap();
    assert!(!edges.is_empty() && edges.iter().all(|&e| e == side), "box edges {edges:?} != side {side}");
}
