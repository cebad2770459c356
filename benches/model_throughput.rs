//! Benchmark of the energy model (not a test): time per training step (batch 32, N = 200, the paper's
//! LJ state L = 6, min-image), energy-plus-gradient throughput in configurations per second, the
//! network's achieved GFLOP/s and the peak resident memory. Run on 1 rank with
//! `cargo bench --bench model_throughput`, or on several with
//! `mpirun -np 2 target/release/deps/model_throughput-<hash> --bench` (see validation/bench_model.sh).
//! Prints one table row per measurement from rank 0. With the argument `mp` the message-passing
//! network (nti::model::mp at the paper's width, "paper-mp": 3 layers, 32 scalar and 8 vector
//! features, 16 radial channels, cutoff 2 sigma) replaces the descriptor MLP ("default"). With
//! `--json` rank 0 prints one JSON object (the same figures, machine-readable) instead of the
//! table, for validation/bench_model.sh's before/after comparison. `NTI_PEAK_GFLOPS` (set by
//! validation/bench_model.sh: the measured OpenBLAS dgemm rate on as many cores as ranks) is
//! reported beside the achieved rate.
//!
//! Flops counted: the dense layers only (2 rows n_in n_out per linear map, the message filter
//! once per neighbour pair; `Network::forward_flops`), times 2 for energy + gradient (forward and
//! input adjoint) and times 8 for a training configuration (gradient pass 2, then the tangent pass
//! 2 and its reverse over both streams with the parameter products 4). Besides, the dense layers'
//! own rate is measured directly: every matrix product of the network (`nti::model::gemm`) counts
//! its 2 m n k flops and its wall time (`dense_gflops`, and `dense_time_share` of the step).

use nti::model::descriptors::DescriptorSpec;
use nti::model::gemm;
use nti::model::lj_model::{LjModel, LjModelSpec, PriorCutoff};
use nti::model::mp::MpSpec;
use nti::model::pair_term::PairTermSpec;
use nti::model::{Conf, EnergyModel, TimeEmbedding};
use nti::parallel::{owned_items, Comm};
use nti::rng::{stream, Purpose};
use nti::schedule::VeSchedule;
use nti::system::{lattice, PairList, SimBox};
use nti::train::{Dataset, TrainSettings, Trainer};
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<f64>().unwrap_or(0.0))
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// Kernel (system) CPU time over all CPU time of this process so far.
fn sys_fraction() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    s(u.ru_stime) / (s(u.ru_utime) + s(u.ru_stime)).max(1e-9)
}

fn configs(n: usize, count: usize, l: f64) -> Vec<Conf> {
    let b = SimBox::new(l);
    let mut r = stream(1, Purpose::Init, 0);
    (0..count)
        .map(|_| {
            let x = lattice::jittered_fcc(n, &b, 0.2, &mut r);
            let y = x.iter().flat_map(|p| p.iter().map(|v| v / l)).collect();
            Conf { y, side: l }
        })
        .collect()
}

/// The dense layers' own rate over all ranks: counted product flops (summed over ranks) per mean
/// second inside the products, and the mean share of the measured `elapsed` spent in them.
fn dense_rate(comm: &Comm, (flops, secs): (f64, f64), elapsed: f64) -> (f64, f64) {
    let s = comm.all_reduce_sum(&[flops, secs, secs / elapsed]);
    let size = comm.size() as f64;
    (s[0] / (s[1] / size) / 1e9, s[2] / size)
}

fn main() {
    let comm = Comm::init_mpi();
    let (n, l, batch) = (200usize, 6.0, 32usize);
    let mp = std::env::args().any(|a| a == "mp");
    let json = std::env::args().any(|a| a == "--json");
    // NTI_BENCH_MP = "layers,scalars,vectors,radial,cutoff" overrides the message-passing sizes.
    let mp_spec = match std::env::var("NTI_BENCH_MP") {
        Ok(v) => {
            let f: Vec<f64> = v.split(',').map(|x| x.trim().parse().expect("NTI_BENCH_MP: five numbers")).collect();
            assert_eq!(f.len(), 5, "NTI_BENCH_MP = layers,scalars,vectors,radial,cutoff");
            let u = |k: usize| f[k] as usize;
            MpSpec { layers: u(0), scalars: u(1), vectors: u(2), n_radial: u(3), r_min: 0.5, r_cut: f[4] }
        }
        Err(_) => MpSpec { layers: 3, scalars: 32, vectors: 8, n_radial: 16, r_min: 0.5, r_cut: 2.0 },
    };
    let spec = LjModelSpec {
        descriptors: DescriptorSpec { n_radial: 8, r_min: 0.8, r_cut: 3.0 },
        time: TimeEmbedding { n_freq: 4 },
        hidden: vec![64, 64],
        schedule: VeSchedule::default(),
        temperature: 1.25,
        cutoff: PriorCutoff { rc: None, shift: false, tail: false },
        pair: if mp { PairTermSpec { walls: vec![], ..Default::default() } } else { Default::default() },
        isolated_zero: true,
        message_passing: mp.then_some(mp_spec.clone()),
    };
    let mut model = LjModel::new(spec, &mut stream(1, Purpose::ModelInit, 0));
    let confs = configs(n, 64, l);
    // MLP flops per configuration for energy + gradient: forward (2 m k n per layer) plus the input
    // gradient (same GEMMs again); the tangent pass and its back-propagation of training add ~3x more.
    let x: Vec<[f64; 3]> = confs[0].y.chunks(3).map(|p| [p[0] * l, p[1] * l, p[2] * l]).collect();
    let fwd = model.network().forward_flops(&PairList::new(&x, &SimBox::new(l), model.network().cutoff()));
    // Energy + gradient throughput: configurations dealt over ranks, after one warm-up evaluation;
    // 12 passes over the 64 configurations (about 3 s of work for paper-mp on one rank: shorter runs
    // scattered by 30 % on this shared machine).
    let reps = 12;
    let mine = owned_items(confs.len() * reps, comm.rank(), comm.size());
    std::hint::black_box(model.energy_grad(&confs[0], 0.5));
    gemm::count_products(true);
    let t0 = Instant::now();
    let mut sink = 0.0;
    for &k in &mine {
        let (u, g) = model.energy_grad(&confs[k % confs.len()], 0.5);
        sink += u + g[0];
    }
    let local = t0.elapsed().as_secs_f64();
    let eg_dense = dense_rate(&comm, gemm::counted(), local);
    let wall = comm.all_reduce_sum(&[local])[0] / comm.size() as f64;
    let total = (confs.len() * reps) as f64;
    let rate = total / wall;
    // Training steps.
    let data = Dataset::new(confs.clone(), 0.1, 1);
    let settings = TrainSettings { batch, micro_batch: 4, eval_every: 0, checkpoint_every: 0, ..Default::default() };
    let mut tr = Trainer::new(settings, 1, model.params.len());
    tr.step(&mut model, &data, &comm); // warm-up
    let steps = 5;
    gemm::count_products(true);
    let t0 = Instant::now();
    for _ in 0..steps {
        tr.step(&mut model, &data, &comm);
    }
    let per_step = t0.elapsed().as_secs_f64() / steps as f64;
    let train_dense = dense_rate(&comm, gemm::counted(), per_step * steps as f64);
    gemm::count_products(false);
    let rss = comm.all_reduce_sum(&[peak_rss_mib()]);
    let sys = comm.all_reduce_sum(&[sys_fraction()])[0] / comm.size() as f64;
    if comm.is_root() {
        // Training flops per configuration: 8 forward passes of the dense layers (module doc).
        let train_gflops = 8.0 * fwd * batch as f64 / per_step / 1e9;
        let peak: Option<f64> = std::env::var("NTI_PEAK_GFLOPS").ok().and_then(|v| v.parse().ok());
        let eg_gflops = 2.0 * fwd * rate / 1e9;
        let name = if mp { "paper-mp" } else { "default" };
        let shape = if mp {
            format!(
                "message passing {} x ({} + {}), K = {}, r_c = {}",
                mp_spec.layers, mp_spec.scalars, mp_spec.vectors, mp_spec.n_radial, mp_spec.r_cut
            )
        } else {
            "descriptors K = 8, MLP hidden [64, 64]".into()
        };
        if json {
            let row = serde_json::json!({
                "model": name,
                "shape": shape,
                "n": n,
                "side": l,
                "params": model.params.len(),
                "ranks": comm.size(),
                "train_ms_per_step": per_step * 1e3,
                "batch": batch,
                "egrad_conf_per_s": rate,
                "egrad_gflops": eg_gflops,
                "gflops": train_gflops,
                "dense_gflops": train_dense.0,
                "dense_time_share": train_dense.1,
                "egrad_dense_gflops": eg_dense.0,
                "egrad_dense_time_share": eg_dense.1,
                "peak_gflops": peak,
                "sys_fraction": sys,
                "peak_rss_mib": rss[0],
                "sink": sink,
            });
            println!("{row}");
            return;
        }
        println!(
            "# model benchmark: N = {n}, L = {l}, {name}: {shape}, {} parameters, sink {sink:.3e}",
            model.params.len()
        );
        println!(
            "{:>5} {:>18} {:>14} {:>16} {:>16} {:>14}",
            "ranks", "train ms/step(32)", "E+grad conf/s", "MLP GFLOP/s(E+g)", "MLP GFLOP/s(trn)", "peak RSS MiB"
        );
        println!(
            "{:>5} {:>18.1} {:>14.1} {:>16.2} {:>16.2} {:>14.1}",
            comm.size(),
            per_step * 1e3,
            rate,
            eg_gflops,
            train_gflops,
            rss[0]
        );
    }
}
