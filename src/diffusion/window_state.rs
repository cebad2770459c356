//! A corrected TI window in progress (`super::windows`): its chains' starting configurations, the
//! raw records of the chains that finished and the state of the one running (chain, random
//! streams, steps done, record so far), written to and read from one f64 buffer
//! (`crate::state_buf`) so that an interrupted `nti ti` continues the window bitwise.

use super::consistency::ConfTemperatureSamples;
use crate::model::{Conf, ShellSplit, Terms};
use crate::rng::Stream;
use crate::state_buf::{StateReader, StateWriter};
use anyhow::{bail, Result};

/// Tag of a chain's own state inside a window state.
pub(super) const CHAIN_STATE: &str = "window chain";
/// Tag and layout version of a window state.
const WINDOW_STATE: &str = "ti window";
/// Version 2 added the reduced energies of the recorded samples ([`ChainRecord::u`]), version 3 the
/// Stein terms ([`ChainRecord::stein`]).
const VERSION: u64 = 3;

/// What a chain recorded in production: the estimates of the window are computed from these.
#[derive(Clone, Debug, Default)]
pub struct ChainRecord {
    /// Total du/dt of each recorded sample.
    pub x: Vec<f64>,
    /// Its split into terms (and shells) per sample.
    pub recorded: Vec<(Terms, Option<ShellSplit>)>,
    /// Reduced energies u(x, s) of each recorded sample at the window's energy times
    /// (`super::windows::WindowRun::energy_at`), sample by sample; empty without those times.
    pub u: Vec<f64>,
    /// Acceptance in production.
    pub acceptance: f64,
    /// Final step-size parameter.
    pub eps: f64,
    /// Configurational-temperature samples.
    pub tconf: ConfTemperatureSamples,
    /// Fokker-Planck term F of each recorded sample (`super::stein`); empty
    /// without the control variate.
    pub stein: Vec<f64>,
}

/// The chain running when the window stopped.
#[derive(Debug)]
pub struct ChainProgress {
    /// The chain's saved state (tag "window chain").
    pub chain: Vec<f64>,
    /// Its proposal stream.
    pub rng: Stream,
    /// Its configurational-temperature probe stream.
    pub probe: Stream,
    /// Steps done (warm-up and production).
    pub steps: usize,
    /// Its record so far (acceptance and eps are set when it finishes).
    pub record: ChainRecord,
}

/// A window at its start or in progress.
#[derive(Debug)]
pub struct WindowProgress {
    /// One starting configuration per chain.
    pub starts: Vec<Conf>,
    /// Records of the finished chains, in chain order.
    pub finished: Vec<ChainRecord>,
    /// The chain that was running, if any.
    pub current: Option<ChainProgress>,
}

fn write_terms(w: &mut StateWriter, d: &Terms, shells: Option<&ShellSplit>) {
    w.f64(d.prior).f64(d.network);
    let pp: Vec<f64> = d.per_particle.iter().flatten().copied().collect();
    w.f64s(&pp);
    match shells {
        Some(s) => w.u64(1).f64s(&s.edges).f64s(&s.values[0]).f64s(&s.values[1]),
        None => w.u64(0),
    };
}

fn read_terms(r: &mut StateReader) -> Result<(Terms, Option<ShellSplit>)> {
    let (prior, network) = (r.f64()?, r.f64()?);
    let pp = r.f64s()?;
    if pp.len() % 2 != 0 {
        bail!("saved per-particle terms of odd length {}", pp.len());
    }
    let per_particle = pp.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
    let shells = match r.u64()? {
        0 => None,
        _ => Some(ShellSplit { edges: r.f64s()?, values: [r.f64s()?, r.f64s()?] }),
    };
    Ok((Terms { prior, network, per_particle }, shells))
}

fn write_record(w: &mut StateWriter, rec: &ChainRecord) {
    w.f64s(&rec.x).f64(rec.acceptance).f64(rec.eps).f64s(&rec.tconf.grad_sq).f64s(&rec.tconf.curvature);
    w.u64(rec.recorded.len() as u64);
    for (d, s) in &rec.recorded {
        write_terms(w, d, s.as_ref());
    }
    w.f64s(&rec.u).f64s(&rec.stein);
}

fn read_record(r: &mut StateReader, energies: usize) -> Result<ChainRecord> {
    let (x, acceptance, eps) = (r.f64s()?, r.f64()?, r.f64()?);
    let tconf = ConfTemperatureSamples { grad_sq: r.f64s()?, curvature: r.f64s()? };
    let n = r.u64()? as usize;
    if n != x.len() {
        bail!("saved chain record has {} samples and {n} splits", x.len());
    }
    let recorded = (0..n).map(|_| read_terms(r)).collect::<Result<_>>()?;
    let u = r.f64s()?;
    if u.len() != n * energies {
        bail!("saved chain record has {} energies for {n} samples at {energies} times", u.len());
    }
    let stein = r.f64s()?;
    if !stein.is_empty() && stein.len() != n {
        bail!("saved chain record has {} Stein terms for {n} samples", stein.len());
    }
    Ok(ChainRecord { x, recorded, u, acceptance, eps, tconf, stein })
}

impl WindowProgress {
    /// A window at its start from these chain starts.
    pub fn start(starts: &[Conf]) -> Self {
        Self { starts: starts.to_vec(), finished: Vec::new(), current: None }
    }

    /// The state buffer of a window with these parts; `current`: the running chain's progress and
    /// its chain state (the `chain` field of the progress is not used).
    pub fn write_parts(
        starts: &[Conf],
        finished: &[ChainRecord],
        current: Option<(&ChainProgress, &[f64])>,
    ) -> Vec<f64> {
        let mut w = StateWriter::new(WINDOW_STATE, VERSION);
        w.u64(starts.len() as u64);
        for c in starts {
            w.f64s(&c.y).f64(c.side);
        }
        w.u64(finished.len() as u64);
        for rec in finished {
            write_record(&mut w, rec);
        }
        match current {
            Some((cur, chain)) => {
                w.u64(1).f64s(chain).rng(&cur.rng).rng(&cur.probe).u64(cur.steps as u64);
                write_record(&mut w, &cur.record);
            }
            None => {
                w.u64(0);
            }
        }
        w.finish()
    }

    /// Reads a state written by [`WindowProgress::write_parts`] for a window of `chains` chains
    /// of dimension `dim`, `steps` steps per chain and `energies` reduced energies per recorded
    /// sample, or says why it does not fit.
    pub fn read(buf: &[f64], chains: usize, dim: usize, steps: usize, energies: usize) -> Result<Self> {
        let mut r = StateReader::new(buf, WINDOW_STATE, VERSION)?;
        let n = r.u64()? as usize;
        if n != chains {
            bail!("saved window has {n} chains, this one {chains}");
        }
        let mut starts = Vec::with_capacity(n);
        for _ in 0..n {
            let y = r.f64s()?;
            if y.len() != dim {
                bail!("saved window start of dimension {}, this window {dim}", y.len());
            }
            starts.push(Conf { y, side: r.f64()? });
        }
        let f = r.u64()? as usize;
        if f > n {
            bail!("saved window has {f} finished chains of {n}");
        }
        let finished = (0..f).map(|_| read_record(&mut r, energies)).collect::<Result<Vec<_>>>()?;
        let current = match r.u64()? {
            0 => None,
            _ => {
                let chain = r.f64s()?;
                let (rng, probe, k) = (r.rng()?, r.rng()?, r.u64()? as usize);
                if f == n || k > steps {
                    bail!("saved window's running chain does not fit ({f} of {n} finished, step {k} of {steps})");
                }
                Some(ChainProgress { chain, rng, probe, steps: k, record: read_record(&mut r, energies)? })
            }
        };
        r.finish()?;
        Ok(Self { starts, finished, current })
    }
}
