//! One replica of the reference simulation: equilibrate, then observe every `stride` steps.

use crate::config::{Config, Cutoff, SampleMethod};
use crate::energy::PairEnergy;
use crate::observables::{widom_boltzmann_mean, RdfHistogram};
use crate::parallel::{pack, unpack};
use crate::potential::{CutoffMode, LennardJones};
use crate::progress::Progress;
use crate::rng::{stream, Purpose};
use crate::sampling::{Integrator, MetropolisMc, MolecularDynamics, Sampler};
use crate::system::{lattice, SimBox};

/// Time series and accumulators of one replica (production phase only).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicaOutput {
    /// Replica id.
    pub replica: usize,
    /// Step number (counted from the start of production) of each observation.
    pub step: Vec<f64>,
    /// Potential energy per particle, tail included (epsilon).
    pub energy: Vec<f64>,
    /// Virial pressure, tail included (epsilon / sigma^3).
    pub pressure: Vec<f64>,
    /// Mean Widom Boltzmann factor exp(-beta dU) per observation (empty when off).
    pub widom: Vec<f64>,
    /// Kinetic energy per particle (MD only).
    pub kinetic: Vec<f64>,
    /// RDF pair counts summed over observations.
    pub rdf_counts: Vec<f64>,
    /// Number of configurations in the RDF.
    pub rdf_frames: f64,
    /// Trajectory frames, shape (F, N, 3) flattened (empty when off).
    pub frames: Vec<f64>,
    /// MC acceptance ratio in production (NaN for MD).
    pub acceptance: f64,
    /// Final MC maximum displacement (NaN for MD).
    pub mc_step: f64,
    /// Wall time of this replica (s); not part of the deterministic output.
    pub wall_seconds: f64,
}

impl ReplicaOutput {
    /// Flattens into one f64 buffer for MPI transfer.
    pub fn to_buffer(&self) -> Vec<f64> {
        pack(&[
            vec![self.replica as f64, self.rdf_frames, self.acceptance, self.mc_step, self.wall_seconds],
            self.step.clone(),
            self.energy.clone(),
            self.pressure.clone(),
            self.widom.clone(),
            self.kinetic.clone(),
            self.rdf_counts.clone(),
            self.frames.clone(),
        ])
    }

    /// Inverse of [`ReplicaOutput::to_buffer`].
    pub fn from_buffer(buf: &[f64]) -> Self {
        let r = unpack(buf);
        Self {
            replica: r[0][0] as usize,
            rdf_frames: r[0][1],
            acceptance: r[0][2],
            mc_step: r[0][3],
            wall_seconds: r[0][4],
            step: r[1].clone(),
            energy: r[2].clone(),
            pressure: r[3].clone(),
            widom: r[4].clone(),
            kinetic: r[5].clone(),
            rdf_counts: r[6].clone(),
            frames: r[7].clone(),
        }
    }
}

/// The interaction mode described by `[system]`.
pub fn cutoff_mode(cfg: &Config) -> CutoffMode {
    match cfg.sys().cutoff {
        Cutoff::Radius(rc) => CutoffMode::Spherical { rc, shift: cfg.sys().shift, tail: cfg.sys().tail_correction },
        Cutoff::MinImage => CutoffMode::MinImage,
    }
}

/// The pair-energy evaluator for `[system]`.
pub fn pair_energy(cfg: &Config) -> PairEnergy<LennardJones> {
    let n = cfg.sys().n_particles;
    PairEnergy::new(LennardJones, SimBox::from_density(n, cfg.sys().density), cutoff_mode(cfg), n)
}

/// Runs replica `id` of the reference simulation described by `cfg`.
pub fn run_replica(cfg: &Config, id: usize) -> ReplicaOutput {
    let s = &cfg.sample;
    let t = cfg.sys().temperature;
    let n = cfg.sys().n_particles;
    let energy = pair_energy(cfg);
    let simbox = energy.simbox;
    let mut x0 = lattice::fcc(n, &simbox);
    if s.melt_sweeps > 0 {
        // Melt the lattice at high temperature (own stream), so dense states start disordered.
        let mut melt = MetropolisMc::new(energy.clone(), x0, s.melt_temperature, s.mc_step, s.target_acceptance);
        let mut r = stream(cfg.run.seed, Purpose::Melt, id as u64);
        for k in 0..s.melt_sweeps {
            melt.step(&mut r);
            if (k + 1) % 10 == 0 {
                melt.adapt();
            }
        }
        x0 = melt.positions();
    }
    let seed = cfg.run.seed;
    let id64 = id as u64;
    let (mut sampler, mut rng): (Box<dyn Sampler>, _) = match s.method {
        SampleMethod::Mc => (
            Box::new(MetropolisMc::new(energy.clone(), x0, t, s.mc_step, s.target_acceptance)),
            stream(seed, Purpose::MonteCarlo, id64),
        ),
        SampleMethod::Langevin => {
            let mut init = stream(seed, Purpose::Init, id64);
            let v = MolecularDynamics::<LennardJones>::maxwell_boltzmann(n, t, &mut init);
            let integ = Integrator::Baoab { dt: s.timestep, gamma: s.friction, temperature: t };
            (Box::new(MolecularDynamics::new(energy.clone(), x0, v, integ)), stream(seed, Purpose::Langevin, id64))
        }
    };
    let mut widom_rng = stream(seed, Purpose::Widom, id64);
    let beta = 1.0 / t;
    let r_max = s.rdf_max.unwrap_or(0.5 * simbox.side());
    let mut rdf = RdfHistogram::new(s.rdf_bins, r_max);
    let mut out = ReplicaOutput { replica: id, ..Default::default() };
    let total = s.equilibration + s.production;
    let mut progress = Progress::new(format!("replica {id} ({})", sampler.name()), total);
    for k in 0..s.equilibration {
        sampler.step(&mut rng);
        if (k + 1) % 10 == 0 {
            sampler.adapt();
        }
        progress.tick(k + 1, "steps");
    }
    sampler.reset_counters();
    for k in 1..=s.production {
        sampler.step(&mut rng);
        progress.tick(s.equilibration + k, "steps");
        if k % s.stride != 0 {
            continue;
        }
        let x = sampler.positions();
        let ev = sampler.energy_virial();
        out.step.push(k as f64);
        out.energy.push(energy.energy_per_particle(&ev));
        out.pressure.push(energy.pressure(&ev, t));
        if let Some(ke) = sampler.kinetic_energy_per_particle() {
            out.kinetic.push(ke);
        }
        if s.widom_insertions > 0 {
            let cells = energy.cell_list(&x);
            out.widom.push(widom_boltzmann_mean(&energy, &x, &cells, beta, s.widom_insertions, &mut widom_rng));
        }
        if s.rdf_bins > 0 {
            rdf.accumulate(&x, &simbox);
        }
        if s.trajectory {
            out.frames.extend(x.iter().flatten());
        }
    }
    out.rdf_counts = rdf.counts;
    out.rdf_frames = rdf.frames as f64;
    out.acceptance = sampler.acceptance().unwrap_or(f64::NAN);
    out.mc_step = sampler.mc_step().unwrap_or(f64::NAN);
    out.wall_seconds = progress.elapsed();
    out
}
