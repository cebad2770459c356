//! Input fixtures shared by the integration tests: a tiny reference-data run and a tiny training
//! run on it (N = 20, rho = 0.3, L = 4.0548, min-image, T = 1.25; descriptor cutoff 2, which
//! needs L >= 4), with the few knobs the tests vary.

use std::path::Path;

/// `nti sample` at N = 20 with `equilibration` and `production` steps, writing data.h5.
pub fn sample_input(equilibration: u64, production: u64) -> String {
    format!(
        "version = 1\n[system]\nn_particles = 20\ndensity = 0.3\ntemperature = 1.25\ncutoff = \"min-image\"\n\
         tail_correction = false\n[sample]\nreplicas = 1\nequilibration = {equilibration}\nproduction = {production}\n\
         stride = 10\nrdf_bins = 0\n[run]\nseed = 5\n[output]\nfile = \"data.h5\"\n"
    )
}

/// The `[train]` knobs the tests vary.
pub struct TrainKnobs {
    /// `[model] hidden` widths, as TOML (e.g. "[16, 16]").
    pub hidden: &'static str,
    /// Extra `[model]` lines (e.g. "pair_walls = []\n").
    pub model_extra: &'static str,
    pub steps: u64,
    pub batch: u64,
    pub eval_every: u64,
    pub checkpoint_every: u64,
    pub validation_samples: u64,
}

/// `nti train` on data.h5 with `k`, writing train.h5.
pub fn train_input(k: &TrainKnobs) -> String {
    format!(
        "version = 1\n[model]\nn_radial = 4\nr_cut = 2.0\nhidden = {}\nn_freq = 2\n{}[train]\n\
         data = [\"data.h5\"]\nsteps = {}\nbatch = {}\nmicro_batch = 2\neval_every = {}\ncheckpoint_every = {}\n\
         validation_samples = {}\n[run]\nseed = 11\n[output]\nfile = \"train.h5\"\n",
        k.hidden, k.model_extra, k.steps, k.batch, k.eval_every, k.checkpoint_every, k.validation_samples
    )
}

/// The bits of a results file's /model/params (for bitwise comparisons).
pub fn params(p: &Path) -> Vec<u64> {
    let f = hdf5::File::open(p).unwrap();
    f.dataset("model/params").unwrap().read_raw::<f64>().unwrap().iter().map(|v| v.to_bits()).collect()
}

/// The training knobs of the 200-step model (hidden 16-16, batch 6) with checkpoints every
/// `checkpoint_every` steps.
pub fn small_training(checkpoint_every: u64) -> TrainKnobs {
    TrainKnobs {
        hidden: "[16, 16]",
        model_extra: "",
        steps: 200,
        batch: 6,
        eval_every: 50,
        checkpoint_every,
        validation_samples: 16,
    }
}

/// A scratch directory with s.toml (sample_input(100, 400)), its data.h5 already sampled, and
/// t.toml (the 200-step training of [`small_training`] with checkpoints every `checkpoint_every`).
pub fn sampled_dir(checkpoint_every: u64) -> tempfile::TempDir {
    let d = super::scratch();
    std::fs::write(d.path().join("s.toml"), sample_input(100, 400)).unwrap();
    std::fs::write(d.path().join("t.toml"), train_input(&small_training(checkpoint_every))).unwrap();
    let o = super::run_in(d.path(), &["sample", "s.toml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    d
}
