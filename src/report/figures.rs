//! The figures of `nti report`, built from [`ReportData`] as [`Chart`]s: the TI integrand, the
//! attribution by term and by distance shell, the grand-canonical landscape, the training curve,
//! g(r) and the baseline's lambda integrand. Each function returns no chart when the file lacks its
//! data.

use super::eos_line::EosReference;
use super::load::{Attribution, Columns, ReportData, TiData};
use super::plot::{Chart, Series, Style};
use crate::io::ScalarResult;

fn col(c: &Columns, name: &str) -> Vec<f64> {
    c.get(name).cloned().unwrap_or_default()
}

/// <du/dt>(t) of one N: the reverse-SDE mean with its +-1 se band, and the windows, uncorrected
/// (reverse-SDE samples at the node) and corrected (Metropolis chains), with error bars.
pub fn integrand(t: &TiData) -> Option<Chart> {
    let mut series = Vec::new();
    if !t.reverse.is_empty() {
        let (p, n) = (col(&t.reverse, "mean_prior"), col(&t.reverse, "mean_network"));
        let mean: Vec<f64> = p.iter().zip(&n).map(|(a, b)| a + b).collect();
        series.push(
            Series::new("reverse SDE (mean ± se)", Style::Line, col(&t.reverse, "t"), mean)
                .with_err(col(&t.reverse, "stderr")),
        );
    }
    if !t.windows.is_empty() {
        let x = col(&t.windows, "t");
        series.push(
            Series::new("windows, uncorrected", Style::Points, x.clone(), col(&t.windows, "uncorrected_mean"))
                .with_err(col(&t.windows, "uncorrected_stderr")),
        );
        series.push(
            Series::new("windows, corrected (Metropolis)", Style::Points, x, col(&t.windows, "mean"))
                .with_err(col(&t.windows, "stderr")),
        );
    }
    (!series.is_empty()).then(|| Chart {
        title: format!("TI integrand, N = {}", t.n),
        x_label: "diffusion time t (1)".into(),
        y_label: "<du/dt> (kT)".into(),
        series,
        zero_line: true,
        ..Default::default()
    })
}

/// Per-window convergence diagnostics of one N: the z of the drift, of data- against
/// reverse-SDE-started chains and of the configurational-temperature identity, against t.
pub fn window_diagnostics(t: &TiData) -> Option<Chart> {
    if t.windows.is_empty() {
        return None;
    }
    let x = col(&t.windows, "t");
    let series: Vec<Series> = [
        ("drift z (limit 3)", "drift_z"),
        ("data- vs SDE-start z (limit 3)", "start_z"),
        ("T_conf identity z, chains (limit 4)", "conf_temperature_z"),
    ]
    .iter()
    .map(|(label, c)| Series::new(*label, Style::Points, x.clone(), col(&t.windows, c)))
    .filter(|s| s.y.iter().any(|v| v.is_finite()))
    .collect();
    (!series.is_empty()).then(|| Chart {
        title: format!("Window convergence diagnostics, N = {}", t.n),
        x_label: "diffusion time t (1)".into(),
        y_label: "z (standard errors)".into(),
        series,
        zero_line: true,
        ..Default::default()
    })
}

/// beta A_ex by term (and the total) for every attribution of one N, with bootstrap errors.
pub fn attribution_terms(t: &TiData) -> Option<Chart> {
    let first = t.attribution.first()?;
    let mut categories = first.term_names.clone();
    categories.push("total".into());
    let series = t
        .attribution
        .iter()
        .map(|a: &Attribution| {
            let mut y = a.terms.0.clone();
            y.push(a.total.0);
            let mut e = a.terms.1.clone();
            e.push(a.total.1);
            Series::new(a.method.clone(), Style::Bars, (0..y.len()).map(|i| i as f64).collect(), y).with_err(e)
        })
        .collect();
    Some(Chart {
        title: format!("beta A_ex by term, N = {}", t.n),
        x_label: "term".into(),
        y_label: "contribution to beta A_ex (kT)".into(),
        series,
        categories,
        zero_line: true,
    })
}

/// beta A_ex by distance shell and term for one attribution (the binned shells only; the overflow
/// and unbinned parts are listed in the table beside it).
pub fn attribution_shells(n: usize, a: &Attribution) -> Option<Chart> {
    let (edges, value, err) = a.shells.as_ref()?;
    let s = edges.len().checked_sub(1)?;
    let mid: Vec<f64> = edges.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
    let series = a
        .term_names
        .iter()
        .zip(value.iter().zip(err))
        .map(|(name, (v, e))| {
            Series::new(name.clone(), Style::Points, mid.clone(), v[..s.min(v.len())].to_vec())
                .with_err(e[..s.min(e.len())].to_vec())
        })
        .collect();
    Some(Chart {
        title: format!("beta A_ex by pair-distance shell, {} (N = {n})", a.method),
        x_label: "shell centre r (sigma)".into(),
        y_label: "contribution per shell (kT)".into(),
        series,
        zero_line: true,
        ..Default::default()
    })
}

/// The most accurate beta A_ex per N available (corrected windows, else the reverse-SDE
/// trapezoid rule, else MBAR), as (N, result), for every N with one; all from one method family.
pub fn best_per_n(results: &[ScalarResult]) -> Vec<(usize, ScalarResult)> {
    let mut ns: Vec<usize> = results.iter().filter(|r| r.name == "beta_a_ex").map(|r| r.n_particles).collect();
    ns.sort_unstable();
    ns.dedup();
    let prefs: [&dyn Fn(&str) -> bool; 3] = [
        &|m: &str| {
            (m.starts_with("windows-gl") || m.starts_with("windows-cc"))
                && !m.ends_with("-uncorrected")
                && !m.ends_with("-mbar")
        },
        &|m: &str| m == "reverse-sde-trapezoid",
        &|m: &str| m.starts_with("mbar"),
    ];
    for p in prefs {
        let rows: Vec<(usize, ScalarResult)> = ns
            .iter()
            .filter_map(|&n| {
                results
                    .iter()
                    .find(|r| r.name == "beta_a_ex" && r.n_particles == n && p(&r.method))
                    .map(|r| (n, r.clone()))
            })
            .collect();
        if rows.len() >= 2 {
            return rows;
        }
    }
    vec![]
}

/// The grand-canonical landscape W(N) = beta A(N) - beta mu N at the beta mu that levels its
/// ends (beta A = beta A_ex + ln N! - N ln V, thermal wavelength 1), with the A_ex errors, and
/// the equation of state's W(N) at the same beta mu and offset (`eos`); needs two or more N.
/// Returns the chart and that beta mu.
pub fn landscape(results: &[ScalarResult], eos: Option<&EosReference>) -> Option<(Chart, f64)> {
    let rows = best_per_n(results);
    let (first, last) = (rows.first()?, rows.last()?);
    if first.0 == last.0 {
        return None;
    }
    let volume = first.0 as f64 / first.1.density;
    let ln_fact = |n: usize| (1..=n).map(|k| (k as f64).ln()).sum::<f64>();
    let a_tot = |(n, r): &(usize, ScalarResult)| r.value + ln_fact(*n) - *n as f64 * volume.ln();
    let beta_mu = (a_tot(last) - a_tot(first)) / (last.0 - first.0) as f64;
    let w: Vec<f64> = rows.iter().map(|x| a_tot(x) - beta_mu * x.0 as f64).collect();
    let w0 = w.iter().copied().fold(f64::INFINITY, f64::min);
    let mut series = vec![Series::new(
        format!("{} (± se)", first.1.method),
        Style::Points,
        rows.iter().map(|x| x.0 as f64).collect(),
        w.iter().map(|v| v - w0).collect(),
    )
    .with_err(rows.iter().map(|x| x.1.stderr).collect())];
    if let Some(e) = eos {
        series.push(e.landscape(first.0, last.0, volume, beta_mu, w0));
    }
    let chart = Chart {
        title: format!("Grand-canonical landscape at beta mu = {beta_mu:.3}"),
        x_label: "particle number N".into(),
        y_label: "W(N) - min W (kT)".into(),
        series,
        ..Default::default()
    };
    Some((chart, beta_mu))
}

/// `<rho>(beta mu)` by grand-canonical reweighting (`/grand_canonical`), with the equation of
/// state's rho(beta mu) over the same beta mu range (`eos`).
pub fn density_isotherm(gc: &(Columns, String), eos: Option<&EosReference>) -> Option<Chart> {
    let (c, method) = gc;
    let s = Series::new(format!("{method} (± se)"), Style::Line, col(c, "beta_mu"), col(c, "mean_density"))
        .with_err(col(c, "mean_density_stderr"));
    let range =
        s.x.iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let line = eos.and_then(|e| e.isotherm(range.0, range.1));
    let mut series = vec![s];
    series.extend(line);
    (!series[0].x.is_empty()).then(|| Chart {
        title: "Density against chemical potential (grand-canonical reweighting)".into(),
        x_label: "beta mu (1, thermal wavelength 1)".into(),
        y_label: "<rho> (sigma^-3)".into(),
        series,
        ..Default::default()
    })
}

/// Training and validation loss against the optimisation step.
pub fn training(c: &Columns) -> Option<Chart> {
    let step = col(c, "step");
    let series: Vec<Series> = [("training loss", "train_loss"), ("validation loss", "val_loss")]
        .iter()
        .map(|(l, k)| Series::new(*l, Style::Line, step.clone(), col(c, k)))
        .filter(|s| !s.y.is_empty())
        .collect();
    (!series.is_empty()).then(|| Chart {
        title: "Denoising score-matching loss".into(),
        x_label: "optimisation step".into(),
        y_label: "loss (per degree of freedom, 1)".into(),
        series,
        ..Default::default()
    })
}

/// All radial distribution functions of the file, the reference with its error band.
pub fn rdf(d: &ReportData) -> Option<Chart> {
    let series: Vec<Series> = d
        .rdfs
        .iter()
        .map(|r| Series::new(r.label.clone(), Style::Line, r.r.clone(), r.g.clone()).with_err(r.err.clone()))
        .collect();
    (!series.is_empty()).then(|| Chart {
        title: "Radial distribution function".into(),
        x_label: "r (sigma)".into(),
        y_label: "g(r) (1)".into(),
        series,
        ..Default::default()
    })
}

/// The baseline's <du/dlambda>(lambda) along the soft-core path, for every N.
pub fn baseline(d: &ReportData) -> Option<Chart> {
    let series: Vec<Series> = d
        .baselines
        .iter()
        .map(|(n, c)| {
            Series::new(format!("N = {n}"), Style::Points, col(c, "lambda"), col(c, "du_dlambda_mean"))
                .with_err(col(c, "du_dlambda_stderr"))
        })
        .filter(|s| !s.x.is_empty())
        .collect();
    (!series.is_empty()).then(|| Chart {
        title: "Conventional TI along the soft-core lambda path".into(),
        x_label: "lambda (1)".into(),
        y_label: "<du/dlambda> (kT)".into(),
        series,
        zero_line: true,
        ..Default::default()
    })
}
