//! Reading `nti sample` results files as training data: every frame of every replica's H5MD
//! trajectory, with the system's physics (temperature, interaction mode) checked to agree across files.

use super::h5util::{get_f64, get_i64};
use crate::model::lj_model::PriorCutoff;
use crate::model::Conf;
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;

/// One data file's contribution.
#[derive(Clone, Debug)]
pub struct DataFile {
    /// Path as given.
    pub path: String,
    /// Particles per configuration.
    pub n_particles: usize,
    /// Box side.
    pub box_side: f64,
    /// Number of configurations read.
    pub frames: usize,
}

/// Configurations (fractional coordinates) and the physics they were sampled with.
#[derive(Clone, Debug)]
pub struct TrainingData {
    /// All frames of all files.
    pub confs: Vec<Conf>,
    /// Temperature shared by all files.
    pub temperature: f64,
    /// Interaction mode shared by all files.
    pub cutoff: PriorCutoff,
    /// Per-file summary.
    pub files: Vec<DataFile>,
}

/// Reads the `/system` group of a results file: (N, T, L, cutoff mode).
pub fn read_system(path: &Path) -> Result<(usize, f64, f64, PriorCutoff)> {
    let f = hdf5::File::open(path).map_err(|e| anyhow!("'{}' is not a readable HDF5 file: {e}", path.display()))?;
    let s = f
        .group("system")
        .map_err(|_| anyhow!("'{}' has no /system group (not an nti sample results file)", path.display()))?;
    let rc = get_f64(&s, "cutoff_radius")?;
    let cutoff = PriorCutoff {
        rc: rc.is_finite().then_some(rc),
        shift: get_i64(&s, "shift")? != 0,
        tail: get_i64(&s, "tail_correction")? != 0,
    };
    Ok((get_i64(&s, "n_particles")? as usize, get_f64(&s, "temperature")?, get_f64(&s, "box_side")?, cutoff))
}

/// Loads every trajectory frame of `paths`.
pub fn load_training_data(paths: &[String]) -> Result<TrainingData> {
    if paths.is_empty() {
        bail!("[train] data is empty: list the results files of nti sample runs, e.g. data = [\"lj_n40.h5\"]");
    }
    let mut out = TrainingData {
        confs: vec![],
        temperature: f64::NAN,
        cutoff: PriorCutoff { rc: None, shift: false, tail: false },
        files: vec![],
    };
    for (k, p) in paths.iter().enumerate() {
        let path = Path::new(p);
        if !path.exists() {
            bail!("training data file '{p}' does not exist");
        }
        let (n, t, l, cutoff) = read_system(path).with_context(|| format!("training data file '{p}'"))?;
        if k == 0 {
            out.temperature = t;
            out.cutoff = cutoff;
        } else if (t - out.temperature).abs() > 1e-12 || cutoff != out.cutoff {
            bail!(
                "training data file '{p}' was sampled at T = {t} with {cutoff:?}, but '{}' at T = {} with {:?}; \
                 one model needs one temperature and interaction mode",
                paths[0],
                out.temperature,
                out.cutoff
            );
        }
        let f = hdf5::File::open(path)?;
        let parts = f.group("particles").map_err(|_| {
            anyhow!("training data file '{p}' has no trajectories (/particles): rerun nti sample with [sample] trajectory = true")
        })?;
        let mut names = parts.member_names()?;
        names.sort();
        let mut frames = 0;
        for name in &names {
            let ds = parts
                .dataset(&format!("{name}/position/value"))
                .with_context(|| format!("'{p}': /particles/{name}"))?;
            let shape = ds.shape();
            if shape.len() != 3 || shape[1] != n || shape[2] != 3 {
                bail!("'{p}': /particles/{name}/position/value has shape {shape:?}, expected (frames, {n}, 3)");
            }
            let v = ds.read_raw::<f64>()?;
            for fr in v.chunks_exact(3 * n) {
                out.confs.push(Conf { y: fr.iter().map(|x| x / l - (x / l).floor()).collect(), side: l });
            }
            frames += shape[0];
        }
        if frames == 0 {
            bail!(
                "training data file '{p}' has no trajectory frames: rerun nti sample with [sample] trajectory = true"
            );
        }
        out.files.push(DataFile { path: p.clone(), n_particles: n, box_side: l, frames });
    }
    Ok(out)
}
