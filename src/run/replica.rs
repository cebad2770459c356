//! One replica of the reference simulation: equilibrate, then observe every `stride` steps; with
//! a safe point (`super::safe_point`) it saves its state and resumes from it bitwise.

use super::safe_point::SafePoint;
use crate::config::{Config, Cutoff, SampleMethod};
use crate::energy::PairEnergy;
use crate::observables::{widom_boltzmann_mean, RdfHistogram};
use crate::parallel::{pack, unpack};
use crate::potential::{CutoffMode, LennardJones};
use crate::progress::Progress;
use crate::rng::{stream, Purpose, Stream};
use crate::sampling::{Integrator, MetropolisMc, MolecularDynamics, Sampler};
use crate::state_buf::{StateReader, StateWriter};
use crate::system::{lattice, Positions, SimBox};
use anyhow::{bail, Result};

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
    run_replica_at(cfg, id, None).expect("without a safe point a replica neither stops nor saves").expect("finished")
}

/// Layout version of a replica's saved state.
const STATE_VERSION: u64 = 1;

/// Runs replica `id`; with a safe point (`sp`), it resumes from the state an interrupted run
/// saved, passes the safe point after every step of equilibration and production, and returns
/// `None` when it stopped there (its state saved). The melting stage has no safe points: a stop
/// request during it is seen at the first step after it.
pub fn run_replica_at(cfg: &Config, id: usize, mut sp: Option<&mut SafePoint>) -> Result<Option<ReplicaOutput>> {
    let s = &cfg.sample;
    let t = cfg.sys().temperature;
    let n = cfg.sys().n_particles;
    let energy = pair_energy(cfg);
    let simbox = energy.simbox;
    let seed = cfg.run.seed;
    let id64 = id as u64;
    let new_sampler = |x0: Positions| -> (Box<dyn Sampler>, Stream) {
        match s.method {
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
        }
    };
    let r_max = s.rdf_max.unwrap_or(0.5 * simbox.side());
    let resumed = sp.as_ref().and_then(|p| {
        p.resume(|buf| {
            let (mut sampler, _) = new_sampler(lattice::fcc(n, &simbox));
            let mut rd = StateReader::new(buf, "replica", STATE_VERSION)?;
            let st = ReplicaState::read(&mut rd, sampler.as_mut(), id, s.rdf_bins, r_max)?;
            rd.finish()?;
            Ok((sampler, st))
        })
    });
    let (mut sampler, mut st) = match resumed {
        Some((sampler, st)) => (sampler, st),
        None => {
            let x0 = melt(cfg, &energy, id);
            let (sampler, rng) = new_sampler(x0);
            let st = ReplicaState {
                done: 0,
                rng,
                widom_rng: stream(seed, Purpose::Widom, id64),
                rdf: RdfHistogram::new(s.rdf_bins, r_max),
                out: ReplicaOutput { replica: id, ..Default::default() },
            };
            (sampler, st)
        }
    };
    let beta = 1.0 / t;
    let total = s.equilibration + s.production;
    let mut progress = Progress::new(format!("replica {id} ({})", sampler.name()), total);
    let wall_before = st.out.wall_seconds;
    if st.done == 0 && s.equilibration == 0 {
        sampler.reset_counters();
    }
    while st.done < total {
        sampler.step(&mut st.rng);
        st.done += 1;
        let g = st.done;
        if g <= s.equilibration {
            if g % 10 == 0 {
                sampler.adapt();
            }
            if g == s.equilibration {
                sampler.reset_counters();
            }
        } else if (g - s.equilibration) % s.stride == 0 {
            observe(cfg, &energy, sampler.as_mut(), &mut st, g - s.equilibration, beta);
        }
        progress.tick(g, "steps");
        if let Some(p) = sp.as_deref_mut() {
            if p.check(|| st.write(sampler.as_ref(), wall_before + progress.elapsed()))? {
                return Ok(None);
            }
        }
    }
    let mut out = st.out;
    out.rdf_counts = st.rdf.counts;
    out.rdf_frames = st.rdf.frames as f64;
    out.acceptance = sampler.acceptance().unwrap_or(f64::NAN);
    out.mc_step = sampler.mc_step().unwrap_or(f64::NAN);
    out.wall_seconds = wall_before + progress.elapsed();
    Ok(Some(out))
}

/// The starting configuration of replica `id`: the fcc lattice, melted at high temperature (own
/// stream) when `[sample] melt_sweeps` > 0 so that dense states start disordered.
fn melt(cfg: &Config, energy: &PairEnergy<LennardJones>, id: usize) -> Positions {
    let s = &cfg.sample;
    let x0 = lattice::fcc(cfg.sys().n_particles, &energy.simbox);
    if s.melt_sweeps == 0 {
        return x0;
    }
    let mut melt = MetropolisMc::new(energy.clone(), x0, s.melt_temperature, s.mc_step, s.target_acceptance);
    let mut r = stream(cfg.run.seed, Purpose::Melt, id as u64);
    for k in 0..s.melt_sweeps {
        melt.step(&mut r);
        if (k + 1) % 10 == 0 {
            melt.adapt();
        }
    }
    melt.positions()
}

/// Records the observables of production step `k`.
fn observe(
    cfg: &Config,
    energy: &PairEnergy<LennardJones>,
    sampler: &mut dyn Sampler,
    st: &mut ReplicaState,
    k: u64,
    beta: f64,
) {
    let s = &cfg.sample;
    let out = &mut st.out;
    let x = sampler.positions();
    let ev = sampler.energy_virial();
    out.step.push(k as f64);
    out.energy.push(energy.energy_per_particle(&ev));
    out.pressure.push(energy.pressure(&ev, cfg.sys().temperature));
    if let Some(ke) = sampler.kinetic_energy_per_particle() {
        out.kinetic.push(ke);
    }
    if s.widom_insertions > 0 {
        let cells = energy.cell_list(&x);
        out.widom.push(widom_boltzmann_mean(energy, &x, &cells, beta, s.widom_insertions, &mut st.widom_rng));
    }
    if s.rdf_bins > 0 {
        st.rdf.accumulate(&x, &energy.simbox);
    }
    if s.trajectory {
        out.frames.extend(x.iter().flatten());
    }
}

/// Everything of a replica in progress besides its sampler: steps done (equilibration and
/// production, after melting), random streams, accumulators and the series recorded so far.
struct ReplicaState {
    done: u64,
    rng: Stream,
    widom_rng: Stream,
    rdf: RdfHistogram,
    out: ReplicaOutput,
}

impl ReplicaState {
    /// The saved state with the sampler's; `wall`: the replica's wall time so far.
    fn write(&self, sampler: &dyn Sampler, wall: f64) -> Vec<f64> {
        let mut w = StateWriter::new("replica", STATE_VERSION);
        w.u64(self.done).rng(&self.rng).rng(&self.widom_rng);
        sampler.save(&mut w);
        w.f64s(&self.rdf.counts).u64(self.rdf.frames);
        let o = &self.out;
        for v in [&o.step, &o.energy, &o.pressure, &o.widom, &o.kinetic, &o.frames] {
            w.f64s(v);
        }
        w.f64(wall);
        w.finish()
    }

    /// Inverse of `write`; restores the sampler too.
    fn read(r: &mut StateReader, sampler: &mut dyn Sampler, id: usize, bins: usize, r_max: f64) -> Result<Self> {
        let (done, rng, widom_rng) = (r.u64()?, r.rng()?, r.rng()?);
        sampler.restore(r)?;
        let mut rdf = RdfHistogram::new(bins, r_max);
        rdf.counts = r.f64s()?;
        rdf.frames = r.u64()?;
        if rdf.counts.len() != bins {
            bail!("saved RDF has {} shells, [sample] rdf_bins = {bins}", rdf.counts.len());
        }
        let mut out = ReplicaOutput { replica: id, ..Default::default() };
        for v in [&mut out.step, &mut out.energy, &mut out.pressure, &mut out.widom, &mut out.kinetic, &mut out.frames]
        {
            *v = r.f64s()?;
        }
        out.wall_seconds = r.f64()?;
        Ok(Self { done, rng, widom_rng, rdf, out })
    }
}
