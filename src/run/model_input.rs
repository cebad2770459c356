//! The trained model named by `[generate] model` (nti generate, nti ti), loaded on every rank and
//! checked against the input before any work: the box must hold the model's cutoffs, and a
//! `[system]` section, when the input has one, must describe the model's physics (temperature and
//! interaction mode; a model is the energy of one temperature and one interaction mode).
//! Every problem is an input error ([`ConfigError`], exit code 2) naming the key, its value, the
//! model file and what it needs.

use super::train::load_model;
use crate::config::{Config, ConfigError, Cutoff};
use crate::model::{ParticleModel, PriorCutoff};
use crate::parallel::Comm;
use anyhow::Result;
use std::path::Path;

/// Loads and checks the model of `[generate]` on every rank; returns it with the box side. Fails on
/// every rank if it fails on any (collective; the ranks that cannot load it print why).
pub fn load_checked_model(cfg: &Config, comm: &Comm) -> Result<(Box<dyn ParticleModel>, f64)> {
    let side = cfg.require_generate()?;
    let path = &cfg.generate.model;
    let what = "an nti train results file or checkpoint (a trained model)";
    let local = match unusable(path) {
        Some(why) => Err(ConfigError::invalid("generate", "model", format!("\"{path}\""), format!("{what}; {why}"))),
        None => load_model(Path::new(path))
            .map_err(|e| ConfigError::invalid("generate", "model", format!("\"{path}\""), format!("{what}; {e:#}"))),
    }
    .and_then(|m| check_model(cfg, m.as_ref(), side).map(|()| m));
    comm.agree(local.map_err(anyhow::Error::from)).map(|m| (m, side))
}

/// Why `path` cannot be a model file (missing, a directory, not HDF5, no model group), if it cannot.
fn unusable(path: &str) -> Option<String> {
    let p = Path::new(path);
    if !p.exists() {
        return Some("the file does not exist".into());
    }
    if p.is_dir() {
        return Some("it is a directory".into());
    }
    let f = match hdf5::File::open(p) {
        Ok(f) => f,
        Err(e) => return Some(format!("it is not a readable HDF5 file ({e})")),
    };
    if f.group("model").is_ok() || f.group("checkpoint").is_ok() {
        return None;
    }
    let made_by = f
        .group("provenance")
        .ok()
        .and_then(|g| crate::io::h5util::get_str(&g, "command").ok())
        .map(|c| format!(" (it is an nti {c} results file)"))
        .unwrap_or_default();
    Some(format!("it holds no /model or /checkpoint group{made_by}"))
}

/// How `[system]` would write an interaction mode.
fn describe(c: &PriorCutoff) -> String {
    match c.rc {
        None => "cutoff = \"min-image\"".into(),
        Some(rc) => format!("cutoff = {rc}, shift = {}, tail_correction = {}", c.shift, c.tail),
    }
}

/// The box of side `side` and the input's `[system]` against the model's spec.
pub fn check_model(cfg: &Config, model: &dyn ParticleModel, side: f64) -> Result<(), ConfigError> {
    let path = &cfg.generate.model;
    let (temperature, cutoff) = (model.temperature(), model.interactions());
    // The network's own cutoff: the descriptors', or the messages' with message passing.
    let (rd, rc) = (model.network_cutoff(), cutoff.rc.unwrap_or(0.0));
    if side < 2.0 * rd.max(rc) {
        let lj = cutoff.rc.map(|r| format!(", LJ cutoff {r}")).unwrap_or_default();
        return Err(ConfigError::invalid(
            "generate",
            "box_side",
            side,
            format!(
                "at least {} = twice the largest cutoff of model '{path}' (network cutoff {rd}{lj}): its \
                 interactions must fit in half the box",
                2.0 * rd.max(rc)
            ),
        ));
    }
    let Some(s) = &cfg.system else { return Ok(()) };
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
    if !same(s.temperature, temperature) {
        return Err(ConfigError::invalid(
            "system",
            "temperature",
            s.temperature,
            format!(
                "T = {}, the temperature of model '{path}' (a model is the energy of the temperature it was \
                 trained at; train one at T = {} or drop [system] from this input)",
                temperature, s.temperature
            ),
        ));
    }
    let mine = match s.cutoff {
        Cutoff::Radius(r) => PriorCutoff { rc: Some(r), shift: s.shift, tail: s.tail_correction },
        Cutoff::MinImage => PriorCutoff { rc: None, shift: false, tail: false },
    };
    let theirs = cutoff;
    let (key, value) = match (mine.rc, theirs.rc) {
        (Some(a), Some(b)) if same(a, b) => {
            if mine.shift != theirs.shift {
                ("shift", mine.shift.to_string())
            } else if mine.tail != theirs.tail {
                ("tail_correction", mine.tail.to_string())
            } else {
                return Ok(());
            }
        }
        (None, None) => return Ok(()),
        (Some(a), _) => ("cutoff", a.to_string()),
        (None, _) => ("cutoff", "\"min-image\"".to_string()),
    };
    Err(ConfigError::invalid(
        "system",
        key,
        value,
        format!(
            "the interaction mode of model '{path}': {} (a model is the energy of the interaction mode it was \
             trained with)",
            describe(&theirs)
        ),
    ))
}
