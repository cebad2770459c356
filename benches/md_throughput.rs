//! Throughput benchmark (not a test): molecular dynamics in particle-steps per second on the
//! system of LAMMPS's standard `bench/in.lj`, and Metropolis Monte Carlo trial moves per second.
//!
//! MD: N = 32,000 Lennard-Jones particles on an fcc lattice at rho = 0.8442 (20^3 cells, the
//! LAMMPS lattice up to a uniform offset), r_c = 2.5 (truncated, not shifted), skin 0.3,
//! velocities at T = 1.44 (rescaled to exactly 1.44 with 3N - 3 degrees of freedom, as
//! LAMMPS's `velocity create` does), velocity Verlet NVE with dt = 0.005, 100 timed steps.
//! Like LAMMPS's "Loop time", the timing excludes setup (first list build and forces).
//!
//! Run: `cargo bench --bench md_throughput -- [--md-only | --mc-only] [--steps N]
//! [--warmup N] [--repeat R] [--cells M]`; `--kernels` times only the list build and the
//! force evaluation, separately.
//!
//! Under `mpirun -np P` every rank integrates its own full, independent replica (nti
//! parallelises over replicas, not by domain decomposition); rank 0 reports the aggregate
//! particle-steps/s = (P x N x steps) / (slowest rank's wall time).
//!
//! Machine-readable lines start with `RESULT`.

use nti::energy::PairEnergy;
use nti::parallel::Comm;
use nti::potential::{CutoffMode, LennardJones};
use nti::rng::{stream, Purpose};
use nti::sampling::{Integrator, MetropolisMc, MolecularDynamics, Sampler};
use nti::system::{lattice, SimBox, VerletList};
use rand::RngExt;
use std::time::Instant;

struct Args {
    md: bool,
    mc: bool,
    kernels: bool,
    steps: usize,
    warmup: usize,
    repeat: usize,
    cells: usize,
}

fn parse_args() -> Args {
    let mut a = Args { md: true, mc: true, kernels: false, steps: 100, warmup: 5, repeat: 3, cells: 20 };
    let mut it = std::env::args().skip(1);
    let num = |it: &mut dyn Iterator<Item = String>, key: &str| -> usize {
        let v = it.next().unwrap_or_else(|| panic!("{key} needs a value"));
        v.parse().unwrap_or_else(|_| panic!("{key}: not a non-negative integer: {v}"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--md-only" => a.mc = false,
            "--mc-only" => a.md = false,
            "--kernels" => a.kernels = true,
            "--steps" => a.steps = num(&mut it, "--steps"),
            "--warmup" => a.warmup = num(&mut it, "--warmup"),
            "--repeat" => a.repeat = num(&mut it, "--repeat").max(1),
            "--cells" => a.cells = num(&mut it, "--cells").max(1),
            // `cargo bench` passes `--bench` to harness-less benchmarks.
            "--bench" => {}
            other => panic!(
                "unknown argument {other}; expected --md-only, --mc-only, --steps N, --warmup N, --repeat R, --cells M"
            ),
        }
    }
    a
}

/// CPU time (user + system) of the calling thread in seconds, from /proc/thread-self/stat
/// (Linux; resolution one clock tick, 1/100 s); `None` where unavailable.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start with the state (field 3);
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// One MD measurement: wall and CPU seconds of the timed steps, per-particle energies at start
/// and end of the timed steps, list builds during them.
struct MdRun {
    wall: f64,
    cpu: f64,
    e_start: [f64; 3],
    e_end: [f64; 3],
    builds: u64,
}

fn energies<P: nti::potential::PairPotential>(md: &MolecularDynamics<P>, n: usize) -> [f64; 3] {
    let (u, k) = (md.potential_energy() / n as f64, md.kinetic_energy() / n as f64);
    [u, k, u + k]
}

fn md_once(args: &Args, replica: u64, comm: &Comm) -> MdRun {
    let n = 4 * args.cells.pow(3);
    let rho = 0.8442;
    let t0 = 1.44;
    let simbox = SimBox::from_density(n, rho);
    let energy = PairEnergy::new(LennardJones, simbox, CutoffMode::Spherical { rc: 2.5, shift: false, tail: false }, n);
    let x = lattice::fcc(n, &simbox);
    let mut rng = stream(87287, Purpose::Velocities, replica);
    let mut v = MolecularDynamics::<LennardJones>::maxwell_boltzmann(n, t0, &mut rng);
    let ke: f64 = 0.5 * v.iter().map(|v| v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sum::<f64>();
    let scale = (0.5 * t0 * (3 * n - 3) as f64 / ke).sqrt();
    for vi in &mut v {
        for c in vi.iter_mut() {
            *c *= scale;
        }
    }
    let mut md = MolecularDynamics::new(energy, x, v, Integrator::VelocityVerlet { dt: 0.005 });
    for _ in 0..args.warmup {
        md.step(&mut rng);
    }
    let e_start = energies(&md, n);
    let b0 = md.list_builds();
    // Start all ranks together so the aggregate rate measures concurrent work.
    comm.all_reduce_sum(&[0.0]);
    let cpu0 = thread_cpu_seconds();
    let start = Instant::now();
    for _ in 0..args.steps {
        md.step(&mut rng);
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, thread_cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    MdRun { wall, cpu, e_start, e_end: energies(&md, n), builds: md.list_builds() - b0 }
}

fn bench_md(args: &Args, comm: &Comm) {
    let n = 4 * args.cells.pow(3);
    let ranks = comm.size();
    let work = (ranks * n * args.steps) as f64;
    let mut best: Option<(f64, MdRun)> = None;
    let mut best_cpu = f64::INFINITY;
    for rep in 0..args.repeat {
        let run = md_once(args, comm.rank() as u64, comm);
        // The aggregate is limited by the slowest rank: max wall time over ranks. CPU time is
        // summed over ranks (CPU seconds spent on the timed steps).
        let mut mine = vec![0.0; ranks + 1];
        mine[comm.rank()] = run.wall;
        mine[ranks] = run.cpu;
        let all = comm.all_reduce_sum(&mine);
        let slowest = all[..ranks].iter().cloned().fold(0.0, f64::max);
        let cpu = all[ranks];
        if comm.is_root() {
            println!(
                "  md repeat {rep}: {slowest:.4} s wall (slowest of {ranks} rank(s)), {cpu:.2} CPU s, {:.4e} particle-steps/s, {} list builds",
                work / slowest,
                run.builds
            );
        }
        best_cpu = best_cpu.min(cpu);
        match &best {
            Some((b, _)) if *b <= slowest => {}
            _ => best = Some((slowest, run)),
        }
    }
    let (wall, run) = best.expect("at least one repeat");
    if comm.is_root() {
        let rate = work / wall;
        let per_cpu = work / best_cpu;
        let drift = (run.e_end[2] - run.e_start[2]) / run.e_start[2].abs();
        println!(
            "MD in.lj: N = {n}, {} steps (+{} warm-up), {ranks} rank(s) x 1 independent replica each, best of {}",
            args.steps, args.warmup, args.repeat
        );
        println!("  wall time (slowest rank) {wall:.4} s, list builds {}", run.builds);
        println!("  particle-steps/s {rate:.4e} total, {:.4e} per rank", rate / ranks as f64);
        println!("  particle-steps per CPU second {per_cpu:.4e} (CPU time {best_cpu:.2} s over all ranks; robust to other load)");
        println!(
            "  rank 0 per particle: start U {:.7} K {:.7} E {:.7}; end U {:.7} K {:.7} E {:.7}; relative drift {drift:.2e}",
            run.e_start[0], run.e_start[1], run.e_start[2], run.e_end[0], run.e_end[1], run.e_end[2]
        );
        println!(
            "RESULT md n={n} steps={} ranks={ranks} wall_s={wall:.6} particle_steps_per_s={rate:.6e} per_rank={:.6e} cpu_s={best_cpu:.3} per_cpu_s={per_cpu:.6e} e_start={:.12} e_end={:.12} builds={}",
            args.steps,
            rate / ranks as f64,
            run.e_start[2],
            run.e_end[2],
            run.builds
        );
    }
}

/// An MC state point: N particles at (rho, T) with cutoff rc; `equil` step-tuning sweeps, then
/// the best of `repeat` timings of `sweeps` sweeps.
#[derive(Clone, Copy)]
struct McCase {
    label: &'static str,
    n: usize,
    rho: f64,
    t: f64,
    rc: f64,
    equil: usize,
    sweeps: usize,
}

/// MC trial moves per second for one state point.
fn bench_mc(case: &McCase, repeat: usize) {
    let McCase { label, n, rho, t, rc, equil, sweeps } = *case;
    let simbox = SimBox::from_density(n, rho);
    let energy = PairEnergy::new(LennardJones, simbox, CutoffMode::Spherical { rc, shift: false, tail: false }, n);
    let cells = energy.cell_list(&lattice::fcc(n, &simbox));
    let brute = cells.is_brute_force();
    let mut mc = MetropolisMc::new(energy, lattice::fcc(n, &simbox), t, 0.1, 0.4);
    let mut rng = stream(2024, Purpose::MonteCarlo, 0);
    for _ in 0..equil {
        mc.step(&mut rng);
        mc.adapt();
    }
    mc.reset_counters();
    let mut best = f64::INFINITY;
    for _ in 0..repeat {
        let start = Instant::now();
        for _ in 0..sweeps {
            mc.step(&mut rng);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let rate = (n * sweeps) as f64 / best;
    let u = mc.energy_virial().energy / n as f64;
    println!(
        "MC {label}: N = {n}, rho = {rho}, T = {t}, rc = {rc} ({}), step {:.3}, acceptance {:.3}, U/N {u:.4}: {rate:.4e} moves/s (best of {repeat} x {sweeps} sweeps)",
        if brute { "all pairs: box < 3 r_c" } else { "cell lists" },
        mc.mc_step().unwrap_or(0.0),
        mc.acceptance().unwrap_or(0.0),
    );
    println!("RESULT mc case={label} n={n} moves_per_s={rate:.6e}");
}

/// Times the two MD kernels alone on the in.lj lattice: list build and force evaluation.
fn bench_kernels(args: &Args) {
    let n = 4 * args.cells.pow(3);
    let simbox = SimBox::from_density(n, 0.8442);
    let energy = PairEnergy::new(LennardJones, simbox, CutoffMode::Spherical { rc: 2.5, shift: false, tail: false }, n);
    // A liquid-like configuration: the lattice with random displacements.
    let mut rng = stream(1, Purpose::Init, 0);
    let x: Vec<[f64; 3]> = lattice::fcc(n, &simbox)
        .iter()
        .map(|p| {
            simbox.wrap(&[
                p[0] + 0.3 * rng.random::<f64>(),
                p[1] + 0.3 * rng.random::<f64>(),
                p[2] + 0.3 * rng.random::<f64>(),
            ])
        })
        .collect();
    let mut list = VerletList::new(&simbox, &x, 2.5, 0.3);
    // Minimum over repetitions: robust against other load on the machine.
    let reps = 30;
    let mut t_build = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        list.rebuild(&simbox, &x, 2.5);
        t_build = t_build.min(t.elapsed().as_secs_f64());
    }
    let mut f = vec![[0.0; 3]; n];
    let mut t_force = f64::INFINITY;
    let mut e = 0.0;
    for _ in 0..reps {
        let t = Instant::now();
        e += energy.forces(&x, &list, &mut f).energy;
        t_force = t_force.min(t.elapsed().as_secs_f64());
    }
    println!(
        "kernels: N = {n}, {} list pairs; list build {:.3} ms, forces {:.3} ms ({:.2} ns/pair), U/N {:.5} (min of {reps})",
        list.n_pairs(),
        1e3 * t_build,
        1e3 * t_force,
        1e9 * t_force / list.n_pairs() as f64,
        e / (reps * n) as f64
    );
}

fn main() {
    let args = parse_args();
    let comm = Comm::init_mpi();
    if comm.is_root() {
        println!("nti {} ({}), md_throughput benchmark", nti::VERSION, nti::GIT_COMMIT);
    }
    if args.kernels {
        if comm.is_root() {
            bench_kernels(&args);
        }
        return;
    }
    if args.md {
        bench_md(&args, &comm);
    }
    if args.mc && comm.is_root() {
        if comm.size() > 1 {
            println!("(MC measured on rank 0 only)");
        }
        let cases = [
            McCase { label: "nist", n: 500, rho: 0.776, t: 0.9, rc: 3.0, equil: 50, sweeps: 100 },
            McCase { label: "inlj4000", n: 4000, rho: 0.8442, t: 1.44, rc: 2.5, equil: 20, sweeps: 20 },
        ];
        for case in &cases {
            bench_mc(case, args.repeat);
        }
    }
}
