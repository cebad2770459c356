//! MPI self-checks: `mpirun -np 2` and `-np 3` give bitwise the same per-replica results as a
//! single-rank run with the same seed (replica streams are keyed by (seed, replica), not rank).

mod common;
use common::*;
use std::fs;

fn read(path: &std::path::Path, ds: &str) -> Vec<f64> {
    let f = hdf5::File::open(path).unwrap();
    f.dataset(ds).unwrap_or_else(|e| panic!("{ds}: {e}")).read_raw::<f64>().unwrap()
}

#[test]
fn per_replica_results_do_not_depend_on_the_number_of_ranks() {
    if !have_mpirun() {
        panic!("mpirun not found: install openmpi-bin (the README's setup does)");
    }
    let d = scratch();
    for (name, extra) in [("mc", ""), ("ld", "")] {
        let method = if name == "mc" { "" } else { "method = \"langevin\"\n" };
        let input = tiny_input(&format!("{name}_1.h5"), extra).replace("[sample]\n", &format!("[sample]\n{method}"));
        fs::write(d.path().join(format!("{name}.toml")), &input).unwrap();
        let o = run_in(d.path(), &["sample", &format!("{name}.toml")]);
        assert!(o.status.success(), "serial: {}", String::from_utf8_lossy(&o.stderr));
        for np in [2, 3] {
            let out = format!("{name}_{np}.h5");
            let o = mpirun(np)
                .args(["sample", &format!("{name}.toml"), "--set", &format!("output.file=\"{out}\"")])
                .current_dir(d.path())
                .output()
                .unwrap();
            assert!(o.status.success(), "np={np}: {}", String::from_utf8_lossy(&o.stderr));
            let f = hdf5::File::open(d.path().join(&out)).unwrap();
            let ranks: i64 = f.group("provenance").unwrap().attr("n_ranks").unwrap().read_scalar().unwrap();
            assert_eq!(ranks, np as i64);
            for r in 0..3 {
                let mut sets = vec![
                    format!("particles/replica_{r:03}/position/value"),
                    format!("observables/replica_{r:03}/potential_energy_per_particle/value"),
                    format!("observables/replica_{r:03}/pressure/value"),
                    format!("observables/replica_{r:03}/widom_boltzmann_factor/value"),
                ];
                if name == "ld" {
                    sets.push(format!("observables/replica_{r:03}/kinetic_energy_per_particle/value"));
                }
                for ds in sets {
                    let a = read(&d.path().join(format!("{name}_1.h5")), &ds);
                    let b = read(&d.path().join(&out), &ds);
                    assert!(!a.is_empty());
                    let same = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "{name}: {ds} differs between 1 and {np} ranks");
                }
            }
            // Different replicas really are different streams.
            let a = read(&d.path().join(&out), "observables/replica_000/potential_energy_per_particle/value");
            let b = read(&d.path().join(&out), "observables/replica_001/potential_energy_per_particle/value");
            assert_ne!(a, b);
        }
    }
}

#[test]
fn bad_input_under_mpi_exits_nonzero_on_all_ranks() {
    if !have_mpirun() {
        panic!("mpirun not found");
    }
    let d = scratch();
    fs::write(d.path().join("in.toml"), tiny_input("out.h5", "").replace("density = 0.6", "density = -1.0")).unwrap();
    let o = mpirun(2).args(["sample", "in.toml"]).current_dir(d.path()).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("[system] density = -1"), "{err}");
    assert!(!d.path().join("out.h5").exists());
    // Existing output: rank 0 refuses, the others follow, the file is untouched.
    fs::write(d.path().join("in.toml"), tiny_input("out.h5", "")).unwrap();
    fs::write(d.path().join("out.h5"), "keep").unwrap();
    let o = mpirun(2).args(["sample", "in.toml"]).current_dir(d.path()).output().unwrap();
    assert!(!o.status.success());
    assert_eq!(fs::read_to_string(d.path().join("out.h5")).unwrap(), "keep");
}

#[test]
fn baseline_windows_do_not_depend_on_the_number_of_ranks() {
    assert!(have_mpirun(), "mpirun not found");
    let d = scratch();
    let input = "version = 1\n[system]\nn_particles = 20\ndensity = 0.3\ntemperature = 1.5\ncutoff = 2.0\n\
[baseline]\nwindows = 5\nequilibration = 20\nproduction = 100\nstride = 5\n[run]\nseed = 9\n[output]\nfile = \"b1.h5\"\n";
    fs::write(d.path().join("b.toml"), input).unwrap();
    let o = run_in(d.path(), &["baseline", "b.toml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = mpirun(2)
        .args(["baseline", "b.toml", "--set", "output.file=\"b2.h5\""])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for ds in ["baseline/du_dlambda_mean", "baseline/mbar/u_kn", "baseline/mbar/f_k"] {
        let a = read(&d.path().join("b1.h5"), ds);
        let b = read(&d.path().join("b2.h5"), ds);
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()) && a.len() == b.len(), "{ds} differs");
    }
}
