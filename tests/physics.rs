//! Physical invariants of the samplers: energy conservation of velocity Verlet (bounded
//! fluctuation, second order in dt), the Langevin thermostat's kinetic energy, and agreement of
//! Monte Carlo and Langevin configurational averages. Fixed seeds; tolerances from error bars.

use nti::energy::PairEnergy;
use nti::estimators::block_average;
use nti::potential::{CutoffMode, LennardJones};
use nti::rng::{stream, Purpose};
use nti::sampling::{Integrator, MetropolisMc, MolecularDynamics, Sampler};
use nti::system::{lattice, SimBox};

fn lj(n: usize, rho: f64, mode: CutoffMode) -> PairEnergy<LennardJones> {
    PairEnergy::new(LennardJones, SimBox::from_density(n, rho), mode, n)
}

/// Total-energy series (per particle) of an NVE run of `time` reduced time units at step `dt`,
/// after melting the lattice with a short Langevin run.
fn nve_energies(dt: f64, time: f64) -> Vec<f64> {
    let n = 256;
    let e = lj(n, 0.8, CutoffMode::Spherical { rc: 2.5, shift: true, tail: false });
    let x = lattice::fcc(n, &e.simbox);
    let mut rng = stream(5, Purpose::Velocities, 0);
    let v = MolecularDynamics::<LennardJones>::maxwell_boltzmann(n, 1.0, &mut rng);
    let melt = MolecularDynamics::new(e.clone(), x, v, Integrator::Baoab { dt: 0.002, gamma: 1.0, temperature: 1.0 });
    let mut melt = melt;
    for _ in 0..1000 {
        melt.step(&mut rng);
    }
    let x = melt.positions();
    let v = MolecularDynamics::<LennardJones>::maxwell_boltzmann(n, 1.0, &mut stream(6, Purpose::Velocities, 0));
    let mut md = MolecularDynamics::new(e, x, v, Integrator::VelocityVerlet { dt });
    let steps = (time / dt).round() as usize;
    (0..steps)
        .map(|_| {
            md.step(&mut rng);
            (md.kinetic_energy() + md.potential_energy()) / n as f64
        })
        .collect()
}

fn rms_about_mean(x: &[f64]) -> f64 {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn velocity_verlet_conserves_energy_to_second_order() {
    // Same initial state, a short time (1 time unit, before the chaotic trajectories at the two step
    // sizes separate): the energy fluctuation of a symplectic second-order integrator scales as dt^2.
    let coarse = nve_energies(0.004, 1.0);
    let fine = nve_energies(0.002, 1.0);
    let (sc, sf) = (rms_about_mean(&coarse), rms_about_mean(&fine));
    // Shadow-Hamiltonian argument: fluctuations scale as dt^2, a ratio of 4 (allow 2.5..6).
    let ratio = sc / sf;
    eprintln!("NVE: rms(dt=0.004) = {sc:e}, rms(dt=0.002) = {sf:e}, ratio {ratio:.2}");
    assert!((2.5..6.0).contains(&ratio), "fluctuation ratio {ratio} (rms {sc:e} vs {sf:e})");
    // Bounded: fluctuation and drift (first vs last tenth) tiny against kT = 1 per particle.
    assert!(sf < 2e-4, "rms fluctuation {sf:e} per particle at dt = 0.002");
    let long = nve_energies(0.002, 10.0);
    let k = long.len() / 10;
    let drift = (long[long.len() - k..].iter().sum::<f64>() - long[..k].iter().sum::<f64>()) / k as f64;
    eprintln!("NVE: drift {drift:e} per particle over 10 time units");
    assert!(drift.abs() < 5e-4, "drift {drift:e} per particle over 10 time units");
    assert!(rms_about_mean(&long) < 2e-4, "rms fluctuation over 10 time units");
}

fn langevin_series(seed: u64) -> (Vec<f64>, Vec<f64>) {
    let (n, t) = (108, 1.5);
    let e = lj(n, 0.7, CutoffMode::Spherical { rc: 2.5, shift: false, tail: false });
    let x = lattice::fcc(n, &e.simbox);
    let mut rng = stream(seed, Purpose::Langevin, 0);
    let v = MolecularDynamics::<LennardJones>::maxwell_boltzmann(n, t, &mut stream(seed, Purpose::Init, 0));
    let mut md = MolecularDynamics::new(e, x, v, Integrator::Baoab { dt: 0.004, gamma: 1.0, temperature: t });
    for _ in 0..2000 {
        md.step(&mut rng);
    }
    let (mut ke, mut u) = (Vec::new(), Vec::new());
    for k in 0..60_000 {
        md.step(&mut rng);
        if k % 10 == 0 {
            ke.push(md.kinetic_energy_per_particle().unwrap());
            u.push(md.potential_energy() / n as f64);
        }
    }
    (ke, u)
}

#[test]
fn langevin_kinetic_energy_is_three_halves_t_and_matches_mc_configurations() {
    let t = 1.5;
    let (ke, u_md) = langevin_series(21);
    let k = block_average(&ke);
    let z = (k.mean - 1.5 * t) / k.stderr;
    eprintln!("Langevin: <KE>/N = {:.5} ± {:.5} (exact {}), z = {z:.2}", k.mean, k.stderr, 1.5 * t);
    assert!(z.abs() < 3.0, "<KE>/N = {} ± {} vs {} (z = {z})", k.mean, k.stderr, 1.5 * t);
    assert!(k.stderr < 0.01 * 1.5 * t, "test too weak: stderr {}", k.stderr);
    // Monte Carlo at the same state samples the same configurational distribution.
    let n = 108;
    let e = lj(n, 0.7, CutoffMode::Spherical { rc: 2.5, shift: false, tail: false });
    let x = lattice::fcc(n, &e.simbox);
    let mut mc = MetropolisMc::new(e, x, t, 0.2, 0.4);
    let mut rng = stream(22, Purpose::MonteCarlo, 0);
    for s in 0..2000 {
        mc.step(&mut rng);
        if s % 10 == 9 {
            mc.adapt();
        }
    }
    let mut u_mc = Vec::new();
    for _ in 0..20_000 {
        mc.step(&mut rng);
        u_mc.push(mc.energy_virial().energy / n as f64);
    }
    let (a, b) = (block_average(&u_md), block_average(&u_mc));
    let z = (a.mean - b.mean) / (a.stderr.powi(2) + b.stderr.powi(2)).sqrt();
    eprintln!("<U>/N: Langevin {:.5} ± {:.5}, MC {:.5} ± {:.5}, z = {z:.2}", a.mean, a.stderr, b.mean, b.stderr);
    assert!(z.abs() < 3.0, "<U>/N Langevin {} ± {} vs MC {} ± {} (z = {z})", a.mean, a.stderr, b.mean, b.stderr);
}
