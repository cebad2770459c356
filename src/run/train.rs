//! `nti train`: score-matching training of the LJ energy model on `nti sample` trajectories,
//! data-parallel over MPI ranks, with atomic checkpoints, `--restart`, automatic resumption from
//! this output's checkpoint (`train_resume`) and a checkpoint on SIGTERM, SIGINT or SIGUSR1
//! (`interrupt`).

use super::interrupt::Interrupted;
use super::train_resume::{decide_start, Start};
use crate::config::{Config, Input, Network};
use crate::io::checkpoint::{read_checkpoint, write_checkpoint, CheckpointMeta};
use crate::io::trajectories::{load_training_data, TrainingData};
use crate::io::{h5util, Provenance};
use crate::model::descriptors::DescriptorSpec;
use crate::model::lj_model::{LjModel, LjModelSpec};
use crate::model::mp::MpSpec;
use crate::model::pair_term::PairTermSpec;
use crate::model::ParticleModel;
use crate::model::TimeEmbedding;
use crate::parallel::Comm;
use crate::rng::{stream, Purpose};
use crate::schedule::VeSchedule;
use crate::train::trainer::{Finish, T_BINS};
use crate::train::{Dataset, Trainer};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The model described by `[model]` for the physics of the data.
pub fn build_model(cfg: &Config, data: &TrainingData) -> Result<Box<dyn ParticleModel>> {
    let m = &cfg.model;
    let min_side = data.files.iter().map(|f| f.box_side).fold(f64::INFINITY, f64::min);
    let mp = m.network == Network::MessagePassing;
    let (key, rc) = m.network_cutoff();
    if rc > 0.5 * min_side {
        bail!(
            "invalid value for [model] {key} = {rc}: expected at most half the smallest box side, {:.6} (data file boxes)",
            0.5 * min_side
        );
    }
    let descriptors = DescriptorSpec { n_radial: m.n_radial, r_min: m.r_min, r_cut: m.r_cut };
    let spec = LjModelSpec {
        descriptors,
        time: TimeEmbedding { n_freq: m.n_freq },
        hidden: m.hidden.clone(),
        schedule: VeSchedule { sigma_min: m.sigma_min, sigma_max: m.sigma_max },
        temperature: data.temperature,
        cutoff: data.cutoff,
        pair: PairTermSpec { walls: m.pair_walls.clone(), width: m.pair_wall_width, n_time: m.pair_time_basis },
        isolated_zero: true,
        message_passing: mp.then_some(MpSpec {
            layers: m.mp_layers,
            scalars: m.mp_scalars,
            vectors: m.mp_vectors,
            n_radial: m.mp_radial,
            r_min: m.r_min,
            r_cut: m.mp_cutoff,
        }),
    };
    Ok(Box::new(LjModel::new(spec, &mut stream(cfg.run.seed, Purpose::ModelInit, 0))))
}

/// Default checkpoint path next to the results file: `<file>.ckpt.h5`.
pub fn checkpoint_path(cfg: &Config) -> PathBuf {
    PathBuf::from(format!("{}.ckpt.h5", cfg.output.file.trim_end_matches(".h5")))
}

/// Runs training; returns the trained model on every rank.
pub fn run_train(input: &Input, comm: &Comm, restart: Option<&Path>) -> Result<Box<dyn ParticleModel>> {
    let cfg = &input.config;
    let start = Instant::now();
    let out = super::prepare_output(input, comm)?;
    // Everything read from the files the input names (data, checkpoint) is bad input when wrong,
    // and every rank reads them: the ranks agree before the first collective of training.
    let loaded = (|| -> Result<_> {
        let mut data = load_training_data(&cfg.train.data)?;
        let model = build_model(cfg, &data)?;
        for f in &data.files {
            log::info!("data: {} (N = {}, L = {:.4}, {} frames)", f.path, f.n_particles, f.box_side, f.frames);
        }
        let dataset = Dataset::new(std::mem::take(&mut data.confs), cfg.train.validation_fraction, cfg.run.seed);
        if dataset.train.is_empty() {
            bail!("[train] data hold too few configurations for a training set");
        }
        let tr = Trainer::new(cfg.train.clone(), cfg.run.seed, model.params().len());
        Ok((data, model, dataset, tr))
    })();
    let (data, mut model, dataset, mut tr) = comm.agree(loaded.map_err(crate::exit::bad_input))?;
    // Where to start: `--restart`, this output's own checkpoint of the same training, or afresh
    // (rank 0 decides, every rank learns it); then every rank reads that checkpoint.
    let ckpt = checkpoint_path(cfg);
    if let Start::Checkpoint(r) = decide_start(cfg, comm, &ckpt, restart, model.as_ref(), &tr)? {
        let resumed = (|| -> Result<()> {
            let meta = read_checkpoint(&r, model.as_mut(), &mut tr)?;
            if meta.data_files != cfg.train.data {
                bail!(
                    "checkpoint '{}' was trained on {:?}, but [train] data = {:?}; restart with the same data",
                    r.display(),
                    meta.data_files,
                    cfg.train.data
                );
            }
            Ok(())
        })();
        comm.agree(resumed.map_err(crate::exit::bad_input))?;
        log::info!("restarting from '{}' at step {}", r.display(), tr.step);
    }
    log::info!(
        "model: {} parameters, {} training and {} validation configurations, {} ranks",
        model.params().len(),
        dataset.train.len(),
        dataset.validation.len(),
        comm.size()
    );
    let meta = |tr: &Trainer| CheckpointMeta {
        input_text: input.text.clone(),
        data_files: cfg.train.data.clone(),
        cursor: tr.data_cursor(&dataset),
    };
    let root = comm.is_root();
    let save = |m: &(dyn ParticleModel + 'static), t: &Trainer| -> Result<()> {
        let written = if root { write_checkpoint(&ckpt, m, t, &meta(t)) } else { Ok(()) };
        // Every rank learns whether rank 0 wrote it (an agreement point), so that all stop together
        // on failure with rank 0's error printed once.
        comm.agree(written)?;
        if root {
            log::info!("checkpoint at step {} -> {}", t.step, ckpt.display());
        }
        Ok(())
    };
    if tr.run(model.as_mut(), &dataset, comm, cfg.train.steps, save, super::interrupt::agree)? == Finish::Stopped {
        let ck = cfg.train.checkpoint_every;
        if ck == 0 || tr.step % ck != 0 {
            save(model.as_ref(), &tr)?; // else the periodic checkpoint of this step is already written
        }
        return Err(Interrupted::new(format!(
            "during training at step {} of {}; checkpoint '{}' written",
            tr.step,
            cfg.train.steps,
            ckpt.display()
        ))
        .into());
    }
    if tr.history.step.last().copied() != Some(tr.step as f64) {
        tr.record(model.as_ref(), &dataset, comm);
    }
    let h = &tr.history.val_loss_by_t;
    if h.len() >= T_BINS {
        let last: Vec<String> = h[h.len() - T_BINS..].iter().map(|v| format!("{v:.3}")).collect();
        log::info!("validation loss by t in [0, 0.1), [0.1, 0.2), ..., [0.9, 1]: {}", last.join(" "));
    }
    crate::io::warnings::gather(comm);
    if let Some(out) = out {
        write_checkpoint(&ckpt, model.as_ref(), &tr, &meta(&tr))?;
        let prov = super::provenance(input, comm, start, "train");
        if let Err(e) = write_train_results(out.temp_path(), model.as_ref(), &tr, &data, &prov) {
            out.abandon();
            return Err(e);
        }
        out.commit()?;
        log::info!("wrote {} and checkpoint {}", out.target().display(), ckpt.display());
    }
    Ok(model)
}

fn write_train_results(
    path: &Path,
    model: &dyn ParticleModel,
    tr: &Trainer,
    data: &TrainingData,
    prov: &Provenance,
) -> Result<()> {
    let f = hdf5::File::create(path)?;
    let h = f.create_group("training")?;
    let n = tr.history.step.len();
    h5util::write_f64(&h, "step", &[n], &tr.history.step)?;
    h5util::write_f64(&h, "train_loss", &[n], &tr.history.train_loss)?;
    h5util::write_f64(&h, "val_loss", &[n], &tr.history.val_loss)?;
    h5util::write_f64(&h, "lr", &[n], &tr.history.lr)?;
    let by_t = h5util::write_f64(&h, "val_loss_by_t", &[n, T_BINS], &tr.history.val_loss_by_t)?;
    let edges: Vec<String> = (0..=T_BINS).map(|k| format!("{}", k as f64 / T_BINS as f64)).collect();
    h5util::set_str(&by_t, "t_bin_edges", &edges.join(" "))?;
    h5util::set_str(&h, "data_files", &data.files.iter().map(|d| d.path.clone()).collect::<Vec<_>>().join("\n"))?;
    let m = f.create_group("model")?;
    h5util::set_str(&m, "kind", model.kind())?;
    h5util::set_str(&m, "spec", &model.spec())?;
    h5util::write_f64(&m, "params", &[model.params().len()], model.params())?;
    let rg = f.create_group("results")?;
    let last = |v: &Vec<f64>| v.last().copied().unwrap_or(f64::NAN);
    for (name, value) in [("validation_loss", last(&tr.history.val_loss)), ("train_loss", last(&tr.history.train_loss))]
    {
        crate::io::ScalarResult {
            name: name.into(),
            method: "dsm".into(),
            n_particles: 0,
            temperature: data.temperature,
            density: f64::NAN,
            value,
            stderr: f64::NAN,
            units: "1".into(),
        }
        .write(&rg)?;
    }
    prov.write_to(&f)?;
    f.close()?;
    Ok(())
}

/// Loads a trained model from a checkpoint or `nti train` results file.
pub fn load_model(path: &Path) -> Result<Box<dyn ParticleModel>> {
    Ok(Box::new(load_lj_model(path)?))
}

/// [`load_model`] as the concrete LJ model (for tools that look inside it).
pub fn load_lj_model(path: &Path) -> Result<LjModel> {
    if !path.exists() {
        bail!("model file '{}' does not exist", path.display());
    }
    let f = hdf5::File::open(path)
        .map_err(|e| anyhow::anyhow!("model file '{}' is not a readable HDF5 file: {e}", path.display()))?;
    let g = f.group("model").or_else(|_| f.group("checkpoint")).map_err(|_| {
        anyhow::anyhow!(
            "'{}' holds no model (/model or /checkpoint): expected an nti train results file or checkpoint",
            path.display()
        )
    })?;
    let spec = LjModelSpec::from_json(&h5util::get_str(&g, "spec")?)
        .map_err(|e| anyhow::anyhow!("'{}': model spec is not a usable LJ model: {e}", path.display()))?;
    let mut m = LjModel::new(spec, &mut stream(0, Purpose::ModelInit, 0));
    let p = g.dataset("params")?.read_raw::<f64>()?;
    if p.len() != m.params.len() {
        bail!("'{}': {} parameters stored, the model shape needs {}", path.display(), p.len(), m.params.len());
    }
    if let Some(k) = p.iter().position(|x| !x.is_finite()) {
        bail!(
            "'{}': parameter {k} of {} is {} (a model with non-finite parameters gives non-finite energies; \
             retrain it, e.g. with a smaller [train] lr)",
            path.display(),
            p.len(),
            p[k]
        );
    }
    m.params = p;
    Ok(m)
}
