//! Command-line interface: parse arguments, dispatch, map errors to exit codes
//! (0 success, 1 run-time failure, 2 bad input or usage, 3 interrupted by a signal after saving
//! the work: rerun the same command to resume; see [`crate::exit`]) and end every rank when one
//! fails.

use crate::config::{ConfigError, Input, EXAMPLE_INPUT};
use crate::io::summary;
use crate::parallel::Comm;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// nti: free energies of particle systems by Neural Thermodynamic Integration.
#[derive(Parser, Debug)]
#[command(name = "nti", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// The whole pipeline: sample, train, Neural TI, conventional baselines, summary (section pipeline).
    Run {
        /// TOML input file (sections system, pipeline and those of every stage).
        config: PathBuf,
        /// Override an input key: --set section.key=value (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        set: Vec<String>,
    },
    /// Reference simulation (Monte Carlo or Langevin) with observables, written to HDF5.
    Sample {
        /// TOML input file.
        config: PathBuf,
        /// Override an input key: --set section.key=value (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        set: Vec<String>,
    },
    /// Train the energy model by denoising score matching on `nti sample` trajectories.
    Train {
        /// TOML input file (sections model, train, run and output).
        config: PathBuf,
        /// Override an input key: --set section.key=value (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        set: Vec<String>,
        /// Continue from this checkpoint (bitwise identical to an uninterrupted run).
        #[arg(long)]
        restart: Option<PathBuf>,
    },
    /// Sample a trained model with the reverse SDE for any N (TI integrand, RDF, trajectories).
    Generate {
        /// TOML input file (sections generate, run and output).
        config: PathBuf,
        /// Override an input key: --set section.key=value (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        set: Vec<String>,
    },
    /// Conventional baselines: TI along the soft-core lambda path with MC windows, MBAR, Widom.
    Baseline {
        /// TOML input file (sections system, baseline, run and output).
        config: PathBuf,
        /// Override an input key: --set section.key=value (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        set: Vec<String>,
    },
    /// Neural TI free energies of a trained model: reverse SDE, corrected windows, AIS.
    Ti {
        /// TOML input file (sections generate, ti, run and output).
        config: PathBuf,
        /// Override an input key: --set section.key=value (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        set: Vec<String>,
    },
    /// Print the scalar results of a results file.
    Summary {
        /// HDF5 results file.
        file: PathBuf,
        /// Print {"results": [...]} JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a self-contained HTML report (tables, plots, checks) of a results file of any stage.
    Report {
        /// HDF5 results file (of nti run, sample, train, generate, ti or baseline).
        file: PathBuf,
        /// Further results files of the same system to include (repeatable), e.g. the nti baseline
        /// files beside an nti ti file.
        #[arg(long = "with", value_name = "FILE")]
        with: Vec<PathBuf>,
        /// Directory for the report (default: the results file's); the page is `<file stem>.html`.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Fit beta*A_ex(N) = N sum_k c_k rho^k through points given as JSON (the fit of /ti/fit, for
    /// nti ti runs at different N); prints the coefficients and their covariance as JSON.
    Fit {
        /// JSON request ("-" for standard input): {"volume": V, "sets": [{"degree": m, "points":
        /// [[N, beta_a_ex, stderr], ...]}, ...]}.
        points: PathBuf,
    },
    /// Equation-of-state values of the full LJ fluid (Kolafa-Nezbeda 1994, Johnson et al. 1993).
    Eos {
        /// Temperature (epsilon/k_B).
        #[arg(long)]
        temperature: f64,
        /// Number density (sigma^-3); repeat for several.
        #[arg(long, required = true)]
        density: Vec<f64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a complete, commented example input with every key and its default.
    Example,
    /// Validate an input and print the effective configuration (defaults and overrides applied).
    Check {
        /// TOML input file.
        config: PathBuf,
        /// Override an input key: --set section.key=value (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        set: Vec<String>,
    },
}

pub use crate::exit::{EXIT_INPUT, EXIT_INTERRUPTED, EXIT_RUNTIME};

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Example => {
            print!("{EXAMPLE_INPUT}");
            0
        }
        Command::Eos { temperature, density, json } => eos(temperature, &density, json),
        Command::Fit { points } => fit(&points),
        Command::Report { file, with, out } => match crate::report::write_report(&file, &with, out.as_deref()) {
            Ok(path) => {
                println!("report written to {}", path.display());
                0
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                crate::exit::code_of(&e)
            }
        },
        Command::Check { config, set } => check(&config, &set),
        Command::Summary { file, json } => match summary::read_results(&file) {
            Ok(r) => {
                if json {
                    println!("{}", summary::to_json(&r));
                } else {
                    print!("{}", summary::to_table(&r));
                }
                0
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_INPUT
            }
        },
        Command::Sample { config, set } => with_input(&config, &set, "sample", true, |input, comm| {
            if let Some(summary) = crate::run::run_sample(input, comm)? {
                print!("{}", crate::run::sample::report(input, &summary));
            }
            Ok(())
        }),
        Command::Train { config, set, restart } => with_input(&config, &set, "train", false, |input, comm| {
            crate::run::train::run_train(input, comm, restart.as_deref()).map(|_| {
                if comm.is_root() {
                    println!("training finished; results in {}", input.config.output.file);
                }
            })
        }),
        Command::Run { config, set } => with_input(&config, &set, "run", true, |input, comm| {
            if let Some(r) = crate::run::pipeline::run_pipeline(input, comm)? {
                print!("{}", crate::run::pipeline::report(&r));
                println!(
                    "results written to {} (stage files in {})",
                    input.config.output.file,
                    crate::run::pipeline::stage_dir(&input.config).display()
                );
                print!("{}", crate::report::after_run(std::path::Path::new(&input.config.output.file)));
            }
            Ok(())
        }),
        Command::Baseline { config, set } => with_input(&config, &set, "baseline", false, |input, comm| {
            if let Some(s) = crate::run::baseline::run_baseline(input, comm)? {
                print!("{}", crate::io::summary::to_table(&s.results));
                println!("results written to {}", input.config.output.file);
            }
            Ok(())
        }),
        Command::Ti { config, set } => with_input(&config, &set, "ti", false, |input, comm| {
            if let Some(all) = crate::run::ti::run_ti(input, comm)? {
                let r: Vec<_> = all.into_iter().flat_map(|a| a.results).collect();
                print!("{}", crate::io::summary::to_table(&r));
                println!("results written to {}", input.config.output.file);
            }
            Ok(())
        }),
        Command::Generate { config, set } => with_input(&config, &set, "generate", false, |input, comm| {
            if let Some(res) = crate::run::generate::run_generate(input, comm)? {
                println!("{:>6} {:>10} {:>14} {:>10}", "N", "L", "beta A_ex", "stderr");
                for r in res {
                    let (v, e) = r.run.ln_z_ratio();
                    println!("{:>6} {:>10.4} {:>14.4} {:>10.4}", r.n, r.side, -v, e);
                }
                println!("results written to {}", input.config.output.file);
            }
            Ok(())
        }),
    }
}

/// Starts MPI and tells the logger this rank (ranks > 0 then log only their warnings and errors).
fn start_mpi() -> Comm {
    let comm = Comm::init_mpi();
    crate::logging::set_rank(comm.rank(), comm.size());
    crate::run::interrupt::install();
    crate::estimators::single_threaded_lapack();
    comm
}

/// Under MPI: loads the input on every rank (all ranks agree that it loaded and that it is the
/// same effective input; `need_system` requires a `[system]` section) and runs `f`; maps the
/// outcome to an exit code (see [`report`]).
fn with_input(
    config: &std::path::Path,
    set: &[String],
    command: &str,
    need_system: bool,
    f: impl FnOnce(&Input, &Comm) -> anyhow::Result<()>,
) -> i32 {
    let comm = start_mpi();
    let res =
        crate::run::startup::load_input(&comm, config, set, command, need_system).and_then(|input| f(&input, &comm));
    let code = match res {
        Ok(()) => 0,
        Err(e) => report(&comm, config, &e),
    };
    drop(comm);
    code
}

/// Prints an error on the rank that has it (tagged `[rank K]` in a multi-rank run) and returns its
/// exit code ([`crate::exit::code_of`]). An error that is not [`crate::exit::Agreed`] may have
/// left other ranks waiting in a collective, so in a multi-rank run it ends the whole job with
/// MPI_Abort and that code. Input errors name the input file, unless the message already does.
/// A stop on a signal ([`crate::run::interrupt::Interrupted`]) gives [`EXIT_INTERRUPTED`].
fn report(comm: &Comm, config: &std::path::Path, e: &anyhow::Error) -> i32 {
    // A stop on a signal: every rank agreed on it and saved its work (no abort needed).
    if let Some(i) = e.chain().find_map(|c| c.downcast_ref::<crate::run::interrupt::Interrupted>()) {
        if comm.is_root() {
            eprintln!("nti: {i} (exit code {})", crate::exit::EXIT_INTERRUPTED);
        }
        return crate::exit::EXIT_INTERRUPTED;
    }
    let code = crate::exit::code_of(e);
    let agreed = e.downcast_ref::<crate::exit::Agreed>();
    let own = match agreed {
        None => Some(e),
        Some(a) => a.error.as_ref(),
    };
    if let Some(own) = own {
        let config_error = own.chain().find_map(|c| c.downcast_ref::<ConfigError>());
        let tag = crate::logging::error_tag();
        match config_error {
            Some(ConfigError::File { .. } | ConfigError::Syntax { .. }) | None => eprintln!("{tag}error: {e:#}"),
            Some(_) => eprintln!("{tag}error: {}: {e:#}", config.display()),
        }
    }
    if agreed.is_none() && comm.size() > 1 {
        comm.abort(code);
    }
    code
}

/// `nti check`: validates the input, prints the effective configuration and the peak-memory
/// estimate of every stage the input has sections for; refuses (exit code 2) a stage that would
/// not fit in this machine's available memory.
fn check(config: &std::path::Path, set: &[String]) -> i32 {
    use crate::run::memory;
    let input = match Input::load(config, set) {
        Ok(i) => i,
        Err(e) => return report(&Comm::serial(), config, &e.into()),
    };
    let stages = memory::stages(&input.config, "check");
    let avail = memory::available();
    if let Err(e) = memory::check(&stages, avail) {
        return report(&Comm::serial(), config, &e.into());
    }
    println!("# {}: valid", config.display());
    let avail = avail.map_or("unknown".to_string(), memory::show);
    for s in &stages {
        println!("# peak memory estimate, nti {}: {} (available: {avail})", s.stage, memory::show(s.bytes));
    }
    println!("{}", input.effective_toml());
    0
}

/// `nti fit`: reads the request (a file or standard input), prints the fits as JSON.
fn fit(points: &std::path::Path) -> i32 {
    let text = if points.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map(|_| s)
    } else {
        std::fs::read_to_string(points)
    };
    let source = if points.as_os_str() == "-" { "standard input".to_string() } else { points.display().to_string() };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {source}: {e}");
            return EXIT_INPUT;
        }
    };
    match crate::io::fit_request::fit_request(&text, &source) {
        Ok(v) => {
            println!("{v}");
            0
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            EXIT_INPUT
        }
    }
}

fn eos(t: f64, densities: &[f64], json: bool) -> i32 {
    use crate::eos::{johnson_zollweg_gubbins, kolafa_nezbeda, LjEos};
    if !(t.is_finite() && t > 0.0) {
        eprintln!("error: --temperature {t}: expected a positive temperature");
        return EXIT_INPUT;
    }
    if let Some(r) = densities.iter().find(|r| !(r.is_finite() && **r > 0.0)) {
        eprintln!("error: --density {r}: expected a positive number density");
        return EXIT_INPUT;
    }
    let models: [(&str, &dyn LjEos); 2] =
        [("kolafa-nezbeda", kolafa_nezbeda()), ("johnson-zollweg-gubbins", johnson_zollweg_gubbins())];
    let mut rows = Vec::new();
    for &rho in densities {
        for (name, e) in models {
            rows.push(serde_json::json!({
                "eos": name, "temperature": t, "density": rho,
                "beta_a_ex": e.beta_a_ex(rho, t), "energy_per_particle": e.energy_per_particle(rho, t),
                "pressure": e.pressure(rho, t), "beta_mu_ex": e.beta_mu_ex(rho, t),
            }));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "eos": rows })).expect("json"));
    } else {
        println!(
            "{:<24} {:>8} {:>8} {:>12} {:>12} {:>12} {:>12}",
            "eos", "T", "rho", "beta_a_ex", "u", "P", "beta_mu_ex"
        );
        for r in &rows {
            println!(
                "{:<24} {:>8.4} {:>8.4} {:>12.6} {:>12.6} {:>12.6} {:>12.6}",
                r["eos"].as_str().unwrap_or(""),
                t,
                r["density"].as_f64().unwrap_or(f64::NAN),
                r["beta_a_ex"].as_f64().unwrap_or(f64::NAN),
                r["energy_per_particle"].as_f64().unwrap_or(f64::NAN),
                r["pressure"].as_f64().unwrap_or(f64::NAN),
                r["beta_mu_ex"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    0
}
