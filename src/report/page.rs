//! Assembly of the report page: one self-contained HTML document (inline CSS and SVG; no scripts,
//! no links to anything outside the page), with the sections of [`super::figures`], the summary
//! table and the checks. Sections without data are left out and named in a note at the top.

use super::checks::{self, baseline_of, is_neural, Status};
use super::figures;
use super::load::ReportData;
use super::plot::{self, Chart};
use crate::io::ScalarResult;
use anyhow::Result;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1000px;margin:1em auto;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.5em 0}\
td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}td.num{text-align:right;font-family:monospace;white-space:nowrap}td.nw{white-space:nowrap}\
.pass{color:#0a7a3a;font-weight:bold}.warn{color:#b35900;font-weight:bold}.note{background:#f4f4f4;padding:.5em 1em}\
.muted{color:#777}tr.grp td{border-top:2px solid #999}svg{max-width:100%;height:auto}figure{margin:1em 0}figcaption{font-size:.9em;color:#444}.verdict{font-weight:bold}table.checks{width:100%}table.checks td:nth-child(6){min-width:16em}";

/// A page under construction: its sections and the names of those left out.
struct Page {
    body: String,
    absent: Vec<&'static str>,
}

impl Page {
    fn section(&mut self, id: &str, title: &'static str, content: Option<String>) {
        match content {
            Some(c) if !c.is_empty() => self.body += &format!("<h2 id=\"{id}\">{}</h2>\n{c}\n", esc(title)),
            _ => self.absent.push(title),
        }
    }
}

fn figure(c: &Chart, caption: &str) -> Result<String> {
    Ok(format!("<figure>{}<figcaption>{}</figcaption></figure>\n", plot::svg(c)?, esc(caption)))
}

fn num(v: f64, prec: usize) -> String {
    if v.is_finite() {
        format!("{v:.prec$}")
    } else {
        "–".into()
    }
}

/// The reference of N for the z column: the Kolafa-Nezbeda equation of state, else JZG.
fn reference_of(results: &[ScalarResult], n: usize) -> Option<&ScalarResult> {
    let a = |p: &str| results.iter().find(|r| r.name == "beta_a_ex" && r.n_particles == n && r.method.starts_with(p));
    a("eos-kolafa").or_else(|| a("eos-"))
}

/// True when AIS at N has too few effective samples to be compared (see [`checks::ais_min_ess`]).
fn ais_uninformative(d: &ReportData, n: usize) -> Option<f64> {
    let ess = d.results.iter().find(|r| r.name == "ais_effective_sample_size" && r.n_particles == n)?.value;
    let chains = d.ti.iter().find(|t| t.n == n).map_or(0, |t| t.ais_work.len());
    (ess < checks::ais_min_ess(chains)).then_some(ess)
}

/// The headline table: beta A_ex(N) (and beta mu_ex) by every method, with z against the baseline
/// and against the equation of state (for the equation of state: the z of the baseline against it).
fn summary_table(d: &ReportData) -> Option<String> {
    let rows: Vec<&ScalarResult> =
        d.results.iter().filter(|r| r.name == "beta_a_ex" || r.name == "beta_mu_ex").collect();
    if rows.is_empty() {
        return None;
    }
    let mut s = String::from(
        "<table><tr><th>quantity</th><th>N</th><th>rho (sigma^-3)</th><th>method</th><th>value (kT)</th>\
         <th>stderr (kT)</th><th>z vs baseline</th><th>z vs EOS</th></tr>\n",
    );
    let mut sorted = rows.clone();
    sorted.sort_by_key(|r| (r.name != "beta_a_ex", r.n_particles, !is_neural(&r.method)));
    let mut footnote = false;
    let mut group = None;
    for r in sorted {
        // A rule above the first row of every (quantity, N) group.
        let tr = if group.replace((r.name.as_str(), r.n_particles)) == Some((r.name.as_str(), r.n_particles)) {
            "<tr>"
        } else {
            "<tr class=grp>"
        };
        let zcell = |o: Option<&ScalarResult>| match o.filter(|o| !std::ptr::eq(*o, r)).and_then(|o| checks::z(r, o)) {
            Some(z) if r.name == "beta_a_ex" => format!("{z:+.2}"),
            _ => "–".into(),
        };
        let mut zb = zcell(baseline_of(&d.results, r.n_particles));
        let zr = zcell(reference_of(&d.results, r.n_particles));
        let mut method = esc(&r.method);
        if r.method == "ais" {
            if let Some(ess) = ais_uninformative(d, r.n_particles) {
                method += &format!(" <span class=\"warn\">not informative (ESS {ess:.1})*</span>");
                zb = "–".into();
                footnote = true;
            }
        }
        s += &format!(
            "{tr}<td>{}</td><td class=num>{}</td><td class=num>{:.5}</td><td>{method}</td><td class=num>{}</td>\
             <td class=num>{}</td><td class=num>{zb}</td><td class=num>{zr}</td></tr>\n",
            if r.name == "beta_a_ex" { "beta A_ex" } else { "beta mu_ex" },
            r.n_particles,
            r.density,
            num(r.value, 4),
            num(r.stderr, 4)
        );
    }
    s += "</table>\n<p class=muted>Baseline: MBAR, else TI along the lambda path. EOS: N beta a_ex of the \
          Kolafa-Nezbeda equation of state (thermodynamic limit, so small finite-size differences are \
          expected). z = difference / combined standard error; – where an error is unknown.";
    if footnote {
        s += " * AIS with an effective sample size this small has no usable error bar; it is left out of \
              the comparison (see the checks).";
    }
    s += "</p>\n";
    Some(s)
}

/// All scalar results, collapsed.
fn all_results(d: &ReportData) -> String {
    let mut s = String::from(
        "<details><summary>All scalar results</summary><table><tr><th>name</th><th>method</th><th>N</th>\
         <th>value</th><th>stderr</th><th>units</th></tr>\n",
    );
    for r in &d.results {
        s += &format!(
            "<tr><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td>{}</td></tr>\n",
            esc(&r.name),
            esc(&r.method),
            r.n_particles,
            num(r.value, 6),
            num(r.stderr, 4),
            esc(&r.units)
        );
    }
    s + "</table></details>\n"
}

/// The warnings the run logged (stored in the file), as a list after the checks.
fn logged_warnings(d: &ReportData) -> Option<String> {
    let w = d.warnings.as_ref()?;
    if w.is_empty() {
        return Some("<p>The run logged no warnings.</p>\n".into());
    }
    let items: String = w.iter().map(|l| format!("<li>{}</li>\n", esc(l))).collect();
    Some(format!(
        "<p class=warn>The run logged {} warning{} (as printed; stored in the file under /diagnostics):</p>\n\
         <ul class=warnings>\n{items}</ul>\n",
        w.len(),
        if w.len() == 1 { "" } else { "s" }
    ))
}

fn checks_table(d: &ReportData) -> Option<String> {
    let mut cs = checks::checks(d);
    // Warnings first (stable: otherwise in the order of the results).
    cs.sort_by_key(|c| c.status != Status::Warn);
    let logged = logged_warnings(d);
    if cs.is_empty() {
        // Without checks, the section is there only for warnings.
        return logged.filter(|_| d.warnings.as_ref().is_some_and(|w| !w.is_empty()));
    }
    let warn = cs.iter().filter(|c| c.status == Status::Warn).count();
    let mut s = format!("<p>{} checks: {} pass, {warn} warn.</p>\n", cs.len(), cs.len() - warn);
    s += "<table class=checks><tr><th></th><th>check</th><th>estimate</th><th>value</th><th>pass if</th><th>what to do</th></tr>\n";
    for c in &cs {
        let (class, mark, advice) = match c.status {
            Status::Pass => ("pass", "✔ pass", "–"),
            Status::Warn => ("warn", "⚠ warn", c.advice.as_str()),
        };
        s += &format!(
            "<tr><td class=\"{class} nw\">{mark}</td><td>{}</td><td>{}</td><td class=num>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&c.what),
            esc(&c.scope),
            esc(&c.value),
            esc(&c.threshold),
            esc(advice)
        );
    }
    Some(s + "</table>\n" + &logged.unwrap_or_default())
}

fn attribution_section(d: &ReportData) -> Result<Option<String>> {
    let mut s = String::new();
    for t in &d.ti {
        if let Some(c) = figures::attribution_terms(t) {
            s += &figure(
                &c,
                "Bars: each estimate's beta A_ex split into the prior (LJ pair) and network terms, \
                              with bootstrap standard errors; 'total' is their sum.",
            )?;
        }
        for a in &t.attribution {
            if let Some(c) = figures::attribution_shells(t.n, a) {
                s += &figure(&c, "Contribution of the pair distances in each shell; error bars: bootstrap se.")?;
            }
            let mut tab = format!(
                "<table><tr><th colspan=2>{} (N = {}), {} bootstrap resamples</th></tr>\n",
                esc(&a.method),
                t.n,
                a.n_boot
            );
            if let Some((edges, v, e)) = &a.shells {
                let last = edges.last().copied().unwrap_or(f64::NAN);
                for (k, name) in a.term_names.iter().enumerate() {
                    let s_n = edges.len().saturating_sub(1);
                    let cell = |j: usize| {
                        format!(
                            "{} ± {}",
                            num(v[k].get(j).copied().unwrap_or(f64::NAN), 4),
                            num(e[k].get(j).copied().unwrap_or(f64::NAN), 4)
                        )
                    };
                    tab += &format!(
                        "<tr><td>{} beyond r = {last} (kT)</td><td class=num>{}</td></tr>\n",
                        esc(name),
                        cell(s_n)
                    );
                    tab +=
                        &format!("<tr><td>{} unbinned (kT)</td><td class=num>{}</td></tr>\n", esc(name), cell(s_n + 1));
                }
            }
            for (k, v) in &a.completeness {
                tab += &format!("<tr><td>completeness residual, {k}</td><td class=num>{v:.1e}</td></tr>\n");
            }
            s += &(tab + "</table>\n");
        }
    }
    Ok((!s.is_empty()).then_some(s))
}

/// The whole page.
pub fn render(d: &ReportData) -> Result<String> {
    let mut p = Page { body: String::new(), absent: vec![] };
    p.section("summary", "Summary", summary_table(d).map(|t| t + &all_results(d)));
    p.section("checks", "Consistency checks", checks_table(d));
    let mut integrand = String::new();
    for t in &d.ti {
        if let Some(c) = figures::integrand(t) {
            integrand += &figure(
                &c,
                "Line and band: reverse-SDE mean of du/dt over trajectories, ± 1 standard error. Points: the \
                 t-windows, uncorrected (reverse-SDE samples at the node) and corrected (Metropolis chains), ± 1 se. \
                 beta A_ex = -integral over t.",
            )?;
        }
        if let Some(c) = figures::window_diagnostics(t) {
            integrand +=
                &figure(&c, "Per-window z-scores behind the window checks (|z| above the limit: not converged).")?;
        }
    }
    p.section("integrand", "TI integrand <du/dt>(t)", Some(integrand));
    p.section("attribution", "Attribution by term and distance shell", attribution_section(d)?);
    let mut land = String::new();
    if let Some((c, bm)) = figures::landscape(&d.results, d.eos.as_ref()) {
        land += &figure(
            &c,
            &format!(
                "W(N) = beta A(N) - beta mu N with beta A = beta A_ex + ln N! - N ln V (thermal wavelength 1), at \
                 beta mu = {bm:.3}, the value that levels the ends; error bars: se of beta A_ex. Line: the \
                 Kolafa-Nezbeda equation of state, beta A_ex = N a_ex(N/V, T) (thermodynamic limit per \
                 particle), at the same beta mu and offset."
            ),
        )?;
    }
    if let Some(c) = d.grand_canonical.as_ref().and_then(|gc| figures::density_isotherm(gc, d.eos.as_ref())) {
        land += &figure(
            &c,
            "Mean density of the grand-canonical ensemble over the N computed, ± 1 se band; line: the \
             Kolafa-Nezbeda equation of state, beta mu = ln rho + beta mu_ex(rho, T).",
        )?;
    }
    p.section("landscape", "Grand-canonical landscape", Some(land));
    if let Some(c) = d.training.as_ref().and_then(figures::training) {
        p.section(
            "training",
            "Training",
            Some(figure(&c, "Loss on the training batches and on held-out validation samples.")?),
        );
    } else {
        p.absent.push("Training");
    }
    match figures::rdf(d) {
        Some(c) => p.section(
            "rdf",
            "Radial distribution function",
            Some(figure(&c, "g(r); band: ± 1 se of the reference simulation.")?),
        ),
        None => p.absent.push("Radial distribution function"),
    }
    match figures::baseline(d) {
        Some(c) => p.section(
            "baseline",
            "Conventional baseline",
            Some(figure(&c, "Mean lambda-derivative per soft-core window, ± 1 se.")?),
        ),
        None => p.absent.push("Conventional baseline"),
    }
    let mut head = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nti report: {}</title>\
         <style>{STYLE}</style></head><body>\n<h1>nti report: {}</h1>\n<table>",
        esc(&d.file.display().to_string()),
        esc(&d.file.file_name().unwrap_or_default().to_string_lossy())
    );
    head += &format!(
        "<tr><td>file</td><td>{}</td></tr><tr><td>stage</td><td>nti {}</td></tr>",
        esc(&d.file.display().to_string()),
        esc(&d.kind)
    );
    for (k, v) in &d.provenance {
        head += &format!("<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
    }
    for s in &d.sources {
        head += &format!("<tr><td>also read</td><td>{}</td></tr>", esc(&s.display().to_string()));
    }
    head += "</table>\n";
    head += &format!("<p class=verdict>{}</p>\n", esc(&super::verdict::verdict(d)));
    let mut notes: Vec<String> = d.notes.iter().map(|n| esc(n)).collect();
    if !p.absent.is_empty() {
        notes.push(format!("Not in this file, so not shown: {}.", esc(&p.absent.join(", "))));
    }
    if !notes.is_empty() {
        head += &format!("<p class=note>{}</p>\n", notes.join("<br>"));
    }
    Ok(head + &p.body + "</body></html>\n")
}
