//! The training loop. Global sample k of the run (k = step * batch + b) draws its configuration
//! from an epoch-wise seeded permutation and its (t, z) from the stream (seed, TrainNoise, k), so the
//! data seen by a step depend only on (seed, step). The global batch is cut into fixed micro-batches;
//! micro-batch m is computed on rank m mod size, the per-micro-batch gradients are exchanged with one
//! all-reduce (each row has one non-zero contributor, so the reduction is exact) and summed in
//! micro-batch order on every rank: parameters are bitwise identical on any number of ranks, and a
//! restart from a checkpoint continues bitwise identically.

use super::loss::{dsm_loss, dsm_loss_grad_batch};
use super::target::blended_target;
use super::{AdamW, Dataset, TrainSettings};
use crate::model::{Conf, EnergyModel};
use crate::parallel::Comm;
use crate::rng::{stream, Purpose};
use rand::seq::SliceRandom;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// Loss curves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Step at which each point was recorded.
    pub step: Vec<f64>,
    /// Mean training loss since the previous point.
    pub train_loss: Vec<f64>,
    /// Validation loss at that step.
    pub val_loss: Vec<f64>,
    /// Learning rate at that step.
    pub lr: Vec<f64>,
    /// Validation loss per t-bin [k/T_BINS, (k+1)/T_BINS) at that step, flattened (points, T_BINS);
    /// NaN for an empty bin. Where in the diffusion time the model has learned what (loss 1 = no
    /// better than predicting zero noise).
    pub val_loss_by_t: Vec<f64>,
}

/// How [`Trainer::run`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// The requested number of steps was reached.
    Done,
    /// A stop was requested; every rank stopped after the same step.
    Stopped,
}

/// Number of t-bins of [`History::val_loss_by_t`].
pub const T_BINS: usize = 10;

/// Optimiser state and bookkeeping of a training run.
#[derive(Clone, Debug)]
pub struct Trainer {
    /// Settings.
    pub settings: TrainSettings,
    /// Master seed.
    pub seed: u64,
    /// Optimiser moments.
    pub opt: AdamW,
    /// Steps completed.
    pub step: u64,
    /// Loss curves.
    pub history: History,
    /// Sum and count of batch losses since the last history point.
    pub loss_acc: (f64, u64),
    perm: Option<(u64, Vec<usize>)>,
}

/// Draws the noised sample for (clean configuration `c`, stream `rng`): t ~ U(0,1), z ~ N(0, I),
/// y_t = alpha(t) y_0 + sigma(t) z (wrapped on the torus).
pub fn noised<M: EnergyModel + ?Sized>(model: &M, c: &Conf, rng: &mut crate::rng::Stream) -> (Conf, f64, Vec<f64>) {
    noised_focus(model, c, rng, None)
}

/// As [`noised`], but with probability f the time is drawn from U(t_lo, t_hi) (`focus` =
/// (t_lo, t_hi, f); see `TrainSettings::t_focus_fraction`). With f = 0 or `None` the stream is used
/// exactly as by [`noised`].
pub fn noised_focus<M: EnergyModel + ?Sized>(
    model: &M,
    c: &Conf,
    rng: &mut crate::rng::Stream,
    focus: Option<(f64, f64, f64)>,
) -> (Conf, f64, Vec<f64>) {
    let mut t: f64 = rng.random();
    if let Some((lo, hi, f)) = focus.filter(|x| x.2 > 0.0) {
        let v: f64 = rng.random();
        if v < f {
            t = lo + (hi - lo) * t;
        }
    }
    let (c, z) = noised_at(model, c, t, rng);
    (c, t, z)
}

/// The noised copy y_t = alpha(t) y_0 + sigma(t) z (wrapped on the torus) of `c` at a given t,
/// with z ~ N(0, I) from `rng`; returns (y_t, z).
pub fn noised_at<M: EnergyModel + ?Sized>(
    model: &M,
    c: &Conf,
    t: f64,
    rng: &mut crate::rng::Stream,
) -> (Conf, Vec<f64>) {
    let z: Vec<f64> = (0..c.y.len())
        .map(|_| {
            let v: f64 = StandardNormal.sample(rng);
            v
        })
        .collect();
    let s = model.schedule();
    let (a, sg) = (s.alpha(t), s.sigma(t));
    let mut y: Vec<f64> = c.y.iter().zip(&z).map(|(y0, zi)| a * y0 + sg * zi).collect();
    if s.periodic() {
        for v in &mut y {
            *v -= v.floor();
        }
    }
    (Conf { y, side: c.side }, z)
}

impl Trainer {
    /// A fresh run for a model with `n_params` parameters.
    pub fn new(settings: TrainSettings, seed: u64, n_params: usize) -> Self {
        Self {
            settings,
            seed,
            opt: AdamW::new(n_params),
            step: 0,
            history: History::default(),
            loss_acc: (0.0, 0),
            perm: None,
        }
    }

    fn train_index(&mut self, data: &Dataset, k: u64) -> usize {
        let n = data.train.len() as u64;
        let (epoch, pos) = (k / n, (k % n) as usize);
        if self.perm.as_ref().map(|p| p.0) != Some(epoch) {
            let mut perm = data.train.clone();
            perm.shuffle(&mut stream(self.seed, Purpose::DataOrder, epoch));
            self.perm = Some((epoch, perm));
        }
        self.perm.as_ref().expect("set").1[pos]
    }

    /// Epoch and position within it of the next training sample (data-order state).
    pub fn data_cursor(&self, data: &Dataset) -> (u64, u64) {
        let k = self.step * self.settings.batch as u64;
        let n = data.train.len().max(1) as u64;
        (k / n, k % n)
    }

    /// Sums per-item rows (each computed on one rank) exactly and in item order.
    fn reduce_rows(comm: &Comm, rows: Vec<f64>, width: usize) -> Vec<f64> {
        let all = comm.all_reduce_sum(&rows);
        let mut out = vec![0.0; width];
        for r in all.chunks_exact(width) {
            for (o, v) in out.iter_mut().zip(r) {
                *o += v;
            }
        }
        out
    }

    /// One optimiser step; returns the batch loss.
    pub fn step<M: EnergyModel + ?Sized>(&mut self, model: &mut M, data: &Dataset, comm: &Comm) -> f64 {
        let s = &self.settings;
        let (b, mu) = (s.batch, s.micro_batch.max(1));
        let n_micro = b.div_ceil(mu);
        let p = model.params().len();
        let width = p + 1;
        let mut rows = vec![0.0; n_micro * width];
        let k0 = self.step * b as u64;
        let idx: Vec<usize> = (0..b as u64).map(|j| self.train_index(data, k0 + j)).collect();
        let st = &self.settings;
        let focus = (st.t_focus.len() == 2).then(|| (st.t_focus[0], st.t_focus[1], st.t_focus_fraction));
        for m in (comm.rank()..n_micro).step_by(comm.size()) {
            let (lo, hi) = (m * mu, ((m + 1) * mu).min(b));
            let (mut cs, mut ts, mut zs) = (Vec::new(), Vec::new(), Vec::new());
            let mut targets = Vec::new();
            for (j, &ix) in idx.iter().enumerate().take(hi).skip(lo) {
                let mut rng = stream(self.seed, Purpose::TrainNoise, k0 + j as u64);
                let (c, t, z) = noised_focus(model, &data.confs[ix], &mut rng, focus);
                if st.target_score {
                    targets.push(blended_target(model, &data.confs[ix], &c, t, &z));
                }
                cs.push(c);
                ts.push(t);
                zs.push(z);
            }
            let row = &mut rows[m * width..(m + 1) * width];
            let w = vec![1.0 / b as f64; cs.len()];
            let tau = if st.target_score { &targets } else { &zs };
            row[p] = dsm_loss_grad_batch(model, &cs, &ts, tau, &w, &mut row[..p]);
        }
        let total = Self::reduce_rows(comm, rows, width);
        let lr = self.settings.learning_rate(self.step);
        self.opt.update(model.params_mut(), &total[..p], lr, &self.settings);
        self.step += 1;
        self.loss_acc.0 += total[p];
        self.loss_acc.1 += 1;
        total[p]
    }

    /// Mean loss over the fixed validation samples (item i: configuration validation[i mod n],
    /// noise from (seed, Validation, i)).
    pub fn validation_loss<M: EnergyModel + ?Sized>(&self, model: &M, data: &Dataset, comm: &Comm) -> f64 {
        let n = self.settings.validation_samples;
        if data.validation.is_empty() || n == 0 {
            return f64::NAN;
        }
        self.validation_losses(model, data, comm).0
    }

    /// The validation loss and its per-t-bin means (length [`T_BINS`], NaN for empty bins).
    pub fn validation_losses<M: EnergyModel + ?Sized>(
        &self,
        model: &M,
        data: &Dataset,
        comm: &Comm,
    ) -> (f64, Vec<f64>) {
        let n = self.settings.validation_samples;
        if data.validation.is_empty() || n == 0 {
            return (f64::NAN, vec![f64::NAN; T_BINS]);
        }
        // Row i: [loss, loss in its t-bin (T_BINS columns), count in its t-bin (T_BINS columns)].
        let width = 1 + 2 * T_BINS;
        let mut rows = vec![0.0; n * width];
        for i in (comm.rank()..n).step_by(comm.size()) {
            let mut rng = stream(self.seed, Purpose::Validation, i as u64);
            let c = &data.confs[data.validation[i % data.validation.len()]];
            let (c, t, z) = noised(model, c, &mut rng);
            let l = dsm_loss(model, &c, t, &z);
            let b = ((t * T_BINS as f64) as usize).min(T_BINS - 1);
            rows[i * width] = l;
            rows[i * width + 1 + b] = l;
            rows[i * width + 1 + T_BINS + b] = 1.0;
        }
        let s = Self::reduce_rows(comm, rows, width);
        let bins = (0..T_BINS).map(|b| if s[1 + T_BINS + b] > 0.0 { s[1 + b] / s[1 + T_BINS + b] } else { f64::NAN });
        (s[0] / n as f64, bins.collect())
    }

    /// Records a loss-curve point at the current step.
    pub fn record<M: EnergyModel + ?Sized>(&mut self, model: &M, data: &Dataset, comm: &Comm) {
        let (val, by_t) = self.validation_losses(model, data, comm);
        self.history.val_loss_by_t.extend(by_t);
        let train = if self.loss_acc.1 > 0 { self.loss_acc.0 / self.loss_acc.1 as f64 } else { f64::NAN };
        self.history.step.push(self.step as f64);
        self.history.train_loss.push(train);
        self.history.val_loss.push(val);
        self.history.lr.push(self.settings.learning_rate(self.step));
        self.loss_acc = (0.0, 0);
    }

    /// Trains until `until` steps, recording loss points every `eval_every` steps and calling
    /// `checkpoint` every `checkpoint_every` steps. After every step the ranks ask `stop` whether
    /// to stop (a collective that answers the same on every rank, e.g. "a signal reached some
    /// rank"); if so they return [`Finish::Stopped`] together at the same step, without a
    /// checkpoint (the caller writes it).
    pub fn run<M: EnergyModel + ?Sized>(
        &mut self,
        model: &mut M,
        data: &Dataset,
        comm: &Comm,
        until: u64,
        mut checkpoint: impl FnMut(&M, &Trainer) -> anyhow::Result<()>,
        mut stop: impl FnMut(&Comm) -> bool,
    ) -> anyhow::Result<Finish> {
        if self.step == 0 && self.history.step.is_empty() {
            self.record(model, data, comm);
        }
        let mut progress = crate::progress::Progress::new("train", until.saturating_sub(self.step));
        let start = self.step;
        while self.step < until {
            self.step(model, data, comm);
            let every = self.settings.eval_every;
            if every > 0 && self.step % every == 0 {
                self.record(model, data, comm);
                log::info!(
                    "step {}: train loss {:.5}, validation loss {:.5}, lr {:.2e}",
                    self.step,
                    self.history.train_loss.last().unwrap_or(&f64::NAN),
                    self.history.val_loss.last().unwrap_or(&f64::NAN),
                    self.history.lr.last().unwrap_or(&f64::NAN)
                );
            }
            let ck = self.settings.checkpoint_every;
            if ck > 0 && self.step % ck == 0 && self.step < until {
                checkpoint(model, self)?;
            }
            progress.tick(self.step - start, "steps");
            if self.step < until && stop(comm) {
                return Ok(Finish::Stopped);
            }
        }
        Ok(Finish::Done)
    }
}
