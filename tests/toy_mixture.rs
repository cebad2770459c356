//! End to end on an exact-answer system: train the Gaussian-prior model on exact samples of the 1D
//! mixture p(y) = 2 N(-2, 1) + N(2, 1) (Z = 3) by denoising score matching, then estimate Z with the
//! reverse SDE and thermodynamic integration along the learned path (the paper's toy, docs/design.md sec. 4).

use nti::diffusion::reverse::{reverse_sde, ReverseSettings};
use nti::model::exact::{ExactSystem, Mixture1d};
use nti::model::toy::ToyModel;
use nti::model::Conf;
use nti::parallel::Comm;
use nti::rng::{stream, Purpose};
use nti::train::{Dataset, TrainSettings, Trainer};
use std::sync::Arc;

#[test]
fn mixture_partition_function_within_two_percent() {
    let seed = 3;
    let sys = Arc::new(Mixture1d);
    let mut r = stream(seed, Purpose::ToyData, 0);
    let confs: Vec<Conf> = (0..5000).map(|_| Conf { y: sys.sample(&mut r), side: 1.0 }).collect();
    let data = Dataset::new(confs, 0.1, seed);
    let mut model = ToyModel::new(sys.clone(), &[64, 64, 64], 4, &mut stream(seed, Purpose::ModelInit, 0));
    let settings = TrainSettings {
        steps: 15_000,
        batch: 32,
        micro_batch: 32,
        lr_decay_every: 10_000,
        weight_decay: 0.0,
        eval_every: 5000,
        checkpoint_every: 0,
        validation_samples: 512,
        ..Default::default()
    };
    let comm = Comm::serial();
    let mut tr = Trainer::new(settings.clone(), seed, model.params.len());
    let t0 = std::time::Instant::now();
    tr.run(&mut model, &data, &comm, settings.steps, |_, _| Ok(()), |_| false).unwrap();
    let train_s = t0.elapsed().as_secs_f64();
    let t0 = std::time::Instant::now();
    let run = reverse_sde(&model, &ReverseSettings { steps: 1000, batch: 1000, seed, ..Default::default() }, 0, 16_000);
    // ln(Z_0 / Z_1) with Z_1 = 1 (normalised Gaussian prior).
    let (ln_z, se) = run.ln_z_ratio();
    let z = ln_z.exp();
    eprintln!(
        "mixture: val loss {:?}; Z = {z:.4} (ln Z = {:.4} ± {se:.4}, exact {:.4}); train {train_s:.1} s, reverse {:.1} s",
        tr.history.val_loss,
        ln_z,
        sys.ln_z(),
        t0.elapsed().as_secs_f64()
    );
    assert!((z / 3.0 - 1.0).abs() < 0.02, "Z = {z}");
    // The statistical error must be small enough for the 2% check to mean something.
    assert!(se < 0.01, "stderr of ln Z {se}");
}
