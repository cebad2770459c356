//! Diagnostic: where along t does a trained LJ model miss the score?
//!
//! For frames of an `nti sample` file, noised to y_t = y_0 + sigma(t) z, prints per t the
//! denoising score-matching loss l = |sigma grad u - z|^2 / D of the model, of the LJ "oracle"
//! u = beta U_LJ (the model at t = 0, a good score for small noise, poor once sigma L is a
//! sizeable fraction of the LJ wall width ~0.1 sigma) and of the model's prior term alone, and the
//! projection ratio <g_model . g_oracle> / <g_oracle . g_oracle> of the two scores; and the
//! configurational temperature of the model on the noised frames (nti::diffusion::consistency:
//! 1 if the model's ensemble exp(-u_t) is p_t, below 1 if exp(-u_t) is less structured than p_t).
//!
//!   cargo run --release --example probe_score -- MODEL.h5 DATA.h5 [FRAMES [MALA_STEPS]]
use nti::diffusion::consistency::{conf_temperature, ConfTemperatureSamples};
use nti::model::{Conf, EnergyModel};
use nti::rng::{stream, Purpose};
use nti::sampling::chain::ChainState;
use rand_distr::{Distribution, StandardNormal};

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    anyhow::ensure!(a.len() >= 3, "usage: probe_score MODEL.h5 DATA.h5 [FRAMES]");
    let model = nti::run::train::load_lj_model(std::path::Path::new(&a[1]))?;
    let data = nti::io::trajectories::load_training_data(&[a[2].clone()])?;
    let frames: usize = a.get(3).map_or(Ok(64), |s| s.parse())?;
    let step = (data.confs.len() / frames).max(1);
    let confs: Vec<&Conf> = data.confs.iter().step_by(step).take(frames).collect();
    // All parameters zero: the network term vanishes (isolated-particle zero), the prior is left.
    let mut zeroed = model.clone();
    zeroed.params.iter_mut().for_each(|p| *p = 0.0);
    let clean: Vec<Conf> = confs.iter().map(|c| (*c).clone()).collect();
    let tc0 = conf_temperature(&model, &clean, 0.0, &mut stream(7, Purpose::ConfTemperature, 1));
    println!("T_conf of the clean frames at t = 0 (u_0 = beta U_LJ): {:.3} ± {:.3}", tc0.value, tc0.stderr);
    println!(
        "{:>6} {:>9} {:>10} {:>10} {:>10} {:>8} {:>14}",
        "t", "sigma L", "l_model", "l_oracle", "l_prior", "ratio", "T_conf model"
    );
    for &t in &[0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6] {
        let s = model.schedule().sigma(t);
        let (mut lm, mut lo, mut lp, mut dot, mut nn) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut tconf = ConfTemperatureSamples::default();
        let mut probe = stream(7, Purpose::ConfTemperature, 0);
        for (k, c) in confs.iter().enumerate() {
            let mut r = stream(7, Purpose::TrainNoise, k as u64);
            let z: Vec<f64> = (0..c.y.len()).map(|_| StandardNormal.sample(&mut r)).collect();
            let ct = Conf { y: c.y.iter().zip(&z).map(|(y, zz)| (y + s * zz).rem_euclid(1.0)).collect(), side: c.side };
            tconf.push(&model, &ct, t, &mut probe);
            let (_, gm) = model.energy_grad(&ct, t);
            let (_, go) = model.energy_grad(&ct, 0.0);
            let (_, gp) = zeroed.energy_grad(&ct, t);
            let d = z.len() as f64;
            let loss = |g: &[f64]| g.iter().zip(&z).map(|(g, z)| (s * g - z).powi(2)).sum::<f64>() / d;
            lm += loss(&gm);
            lo += loss(&go);
            lp += loss(&gp);
            dot += gm.iter().zip(&go).map(|(a, b)| a * b).sum::<f64>();
            nn += go.iter().map(|b| b * b).sum::<f64>();
        }
        let m = confs.len() as f64;
        let tc = tconf.estimate();
        println!(
            "{t:>6.2} {:>9.4} {:>10.4} {:>10.4} {:>10.4} {:>8.3} {:>7.3}±{:<6.3}",
            s * confs[0].side,
            lm / m,
            lo / m,
            lp / m,
            dot / nn,
            tc.value,
            tc.stderr
        );
    }
    // Partial reverse SDE: data noised to t0, then Euler-Maruyama (dt = 1e-3) back to t = 0 with
    // the model; u/N = T beta U_LJ / N of the end points against that of the clean frames. With
    // MALA steps at t0 first (the model's own ensemble at t0, started from the noised data), an
    // under-structured end point means the model's energy at t0 is wrong, not the integration.
    let temp = model.spec.temperature;
    let n = confs[0].y.len() / 3;
    let u_of = |c: &Conf| temp * model.energy(c, 0.0) / n as f64;
    let u_data = confs.iter().map(|c| u_of(c)).sum::<f64>() / confs.len() as f64;
    let n_mala: usize = a.get(4).map_or(Ok(0), |s| s.parse())?;
    println!("\npartial reverse SDE from noised data (N = {n}), {n_mala} MALA steps at t0 first; clean frames u/N = {u_data:.4}");
    println!(
        "{:>6} {:>12} {:>8} {:>8} {:>11} {:>11} {:>11} {:>11}",
        "t0", "u/N at t=0", "se", "acc", "disp noised", "disp model", "n1 noised", "n1 model"
    );
    // Mean number of neighbours closer than 1.1 sigma per particle (min-image): the first-shell
    // pair structure of the noised data at t0 against the model's own ensemble there.
    let neighbours = |y: &[f64], side: f64| {
        let p: Vec<&[f64]> = y.chunks_exact(3).collect();
        let mut k = 0usize;
        for i in 0..p.len() {
            for j in i + 1..p.len() {
                let r2: f64 =
                    (0..3).map(|a| ((p[i][a] - p[j][a] + 0.5).rem_euclid(1.0) - 0.5).powi(2) * side * side).sum();
                k += usize::from(r2 < 1.21);
            }
        }
        2.0 * k as f64 / p.len() as f64
    };
    // Index of dispersion of the particle counts in the 27 subcubes of side L/3 (variance / mean;
    // 1 for an ideal gas, ~S(k -> 0) for a liquid): the density fluctuations of the noised data at
    // t0 against those of the model's own ensemble there (after the MALA steps).
    let dispersion = |y: &[f64]| {
        let mut counts = [0.0f64; 27];
        for p in y.chunks_exact(3) {
            let c = |v: f64| ((v.rem_euclid(1.0) * 3.0) as usize).min(2);
            counts[c(p[0]) * 9 + c(p[1]) * 3 + c(p[2])] += 1.0;
        }
        let m = counts.iter().sum::<f64>() / 27.0;
        counts.iter().map(|c| (c - m).powi(2)).sum::<f64>() / 27.0 / m
    };
    let dt: f64 = 1e-3;
    let lr = model.spec.schedule.log_ratio();
    for &t0 in &[0.1f64, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0] {
        let k_steps = (t0 / dt).round() as usize;
        let res: Vec<(f64, f64, f64, f64, f64, f64)> = confs
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let mut r = stream(11, Purpose::Reverse, k as u64);
                let s0 = model.schedule().sigma(t0);
                let mut y: Vec<f64> =
                    c.y.iter()
                        .map(|y| {
                            let z: f64 = StandardNormal.sample(&mut r);
                            (y + s0 * z).rem_euclid(1.0)
                        })
                        .collect();
                let mut acc = f64::NAN;
                let disp_noised = dispersion(&y);
                let n1_noised = neighbours(&y, c.side);
                if n_mala > 0 {
                    let mut ch =
                        nti::sampling::mala::MalaChain::new(&model, Conf { y, side: c.side }, t0, 0.05 * s0 * s0);
                    for st in 0..n_mala {
                        ch.step(&model, &mut r);
                        if st < n_mala / 2 && st % 20 == 19 {
                            ch.adapt(0.6);
                        }
                    }
                    acc = ch.acceptance();
                    y = ch.conf.y;
                }
                let disp_model = dispersion(&y);
                let n1_model = neighbours(&y, c.side);
                for st in 0..k_steps {
                    let t = t0 - st as f64 * dt;
                    let s = model.schedule().sigma(t);
                    let g2 = 2.0 * s * s * lr;
                    let (_, g) = model.energy_grad(&Conf { y: y.clone(), side: c.side }, t);
                    for (yi, gi) in y.iter_mut().zip(&g) {
                        let z: f64 = StandardNormal.sample(&mut r);
                        *yi = (*yi - g2 * gi * dt + (g2 * dt).sqrt() * z).rem_euclid(1.0);
                    }
                }
                (u_of(&Conf { y, side: c.side }), acc, disp_noised, disp_model, n1_noised, n1_model)
            })
            .collect();
        let m = res.len() as f64;
        let mean = res.iter().map(|x| x.0).sum::<f64>() / m;
        let se = (res.iter().map(|x| (x.0 - mean).powi(2)).sum::<f64>() / (m - 1.0) / m).sqrt();
        let acc = res.iter().map(|x| x.1).sum::<f64>() / m;
        let dn = res.iter().map(|x| x.2).sum::<f64>() / m;
        let dm = res.iter().map(|x| x.3).sum::<f64>() / m;
        let nn = res.iter().map(|x| x.4).sum::<f64>() / m;
        let nm = res.iter().map(|x| x.5).sum::<f64>() / m;
        println!("{t0:>6.2} {mean:>12.4} {se:>8.4} {acc:>8.3} {dn:>11.3} {dm:>11.3} {nn:>11.3} {nm:>11.3}");
    }
    Ok(())
}
