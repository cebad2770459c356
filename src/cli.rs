//! Command-line interface: parse arguments, dispatch, map errors to exit codes
//! (0 success, 1 run-time failure, 2 bad input or usage, 3 interrupted by a signal after saving
//! the work: rerun the same command to resume).

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

/// Exit code for bad input or usage.
pub const EXIT_INPUT: i32 = 2;
/// Exit code for run-time failures.
pub const EXIT_RUNTIME: i32 = 1;
pub use crate::run::interrupt::EXIT_INTERRUPTED;

/// MPI and the stop-request handlers (SIGTERM, SIGINT, SIGUSR1) of a computing command.
fn init() -> Comm {
    let comm = Comm::init_mpi();
    crate::run::interrupt::install();
    comm
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Example => {
            print!("{EXAMPLE_INPUT}");
            0
        }
        Command::Eos { temperature, density, json } => eos(temperature, &density, json),
        Command::Check { config, set } => match Input::load(&config, &set) {
            Ok(input) => {
                println!("# {}: valid\n{}", config.display(), input.effective_toml());
                0
            }
            Err(e) => input_error(&config, &e),
        },
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
        Command::Sample { config, set } => {
            let comm = init();
            let code = sample(&comm, &config, &set);
            drop(comm);
            code
        }
        Command::Train { config, set, restart } => with_input(&config, &set, |input, comm| {
            crate::run::train::run_train(input, comm, restart.as_deref()).map(|_| {
                if comm.is_root() {
                    println!("training finished; results in {}", input.config.output.file);
                }
            })
        }),
        Command::Run { config, set } => {
            let comm = init();
            let code = pipeline(&comm, &config, &set);
            drop(comm);
            code
        }
        Command::Baseline { config, set } => with_input(&config, &set, |input, comm| {
            if let Some(s) = crate::run::baseline::run_baseline(input, comm)? {
                print!("{}", crate::io::summary::to_table(&s.results));
                println!("results written to {}", input.config.output.file);
            }
            Ok(())
        }),
        Command::Ti { config, set } => with_input(&config, &set, |input, comm| {
            if let Some(all) = crate::run::ti::run_ti(input, comm)? {
                let r: Vec<_> = all.into_iter().flat_map(|a| a.results).collect();
                print!("{}", crate::io::summary::to_table(&r));
                println!("results written to {}", input.config.output.file);
            }
            Ok(())
        }),
        Command::Generate { config, set } => with_input(&config, &set, |input, comm| {
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

/// Loads the input under MPI and runs `f`, mapping errors to exit codes (messages from rank 0).
fn with_input(config: &std::path::Path, set: &[String], f: impl FnOnce(&Input, &Comm) -> anyhow::Result<()>) -> i32 {
    let comm = init();
    let code = match Input::load(config, set) {
        Err(e) => {
            if comm.is_root() {
                input_error(config, &e)
            } else {
                EXIT_INPUT
            }
        }
        Ok(input) => match f(&input, &comm) {
            Ok(()) => 0,
            Err(e) => failure(&comm, config, &e),
        },
    };
    drop(comm);
    code
}

/// Prints an input error (on the calling rank) naming the input file; returns [`EXIT_INPUT`].
fn input_error(config: &std::path::Path, e: &ConfigError) -> i32 {
    match e {
        ConfigError::File { .. } | ConfigError::Syntax { .. } => eprintln!("error: {e}"),
        _ => eprintln!("error: {}: {e}", config.display()),
    }
    EXIT_INPUT
}

/// Maps an error of a run to its exit code, printed on rank 0: [`EXIT_INTERRUPTED`] after a stop
/// on a signal, [`EXIT_INPUT`] when the input is
/// what is wrong (a [`ConfigError`] anywhere in the chain, e.g. a model file that does not match
/// the input, found only once the file is read), else [`EXIT_RUNTIME`].
fn failure(comm: &Comm, config: &std::path::Path, e: &anyhow::Error) -> i32 {
    if let Some(i) = e.chain().find_map(|c| c.downcast_ref::<crate::run::interrupt::Interrupted>()) {
        if comm.is_root() {
            eprintln!("nti: {i} (exit code {EXIT_INTERRUPTED})");
        }
        return EXIT_INTERRUPTED;
    }
    let input = e.chain().any(|c| c.is::<ConfigError>());
    if comm.is_root() {
        if input {
            eprintln!("error: {}: {e:#}", config.display());
        } else {
            eprintln!("error: {e:#}");
        }
    }
    if input {
        EXIT_INPUT
    } else {
        EXIT_RUNTIME
    }
}

fn sample(comm: &Comm, config: &std::path::Path, set: &[String]) -> i32 {
    let input = match Input::load(config, set).and_then(|i| i.config.require_system().map(|_| i.clone())) {
        Ok(i) => i,
        Err(e) => {
            return if comm.is_root() { input_error(config, &e) } else { EXIT_INPUT };
        }
    };
    match crate::run::run_sample(&input, comm) {
        Ok(Some(summary)) => {
            print!("{}", crate::run::sample::report(&input, &summary));
            0
        }
        Ok(None) => 0,
        Err(e) => failure(comm, config, &e),
    }
}

fn pipeline(comm: &Comm, config: &std::path::Path, set: &[String]) -> i32 {
    let input = match Input::load(config, set).and_then(|i| i.config.require_system().map(|_| i.clone())) {
        Ok(i) => i,
        Err(e) => {
            return if comm.is_root() { input_error(config, &e) } else { EXIT_INPUT };
        }
    };
    match crate::run::pipeline::run_pipeline(&input, comm) {
        Ok(Some(r)) => {
            print!("{}", crate::run::pipeline::report(&r));
            println!(
                "results written to {} (stage files in {})",
                input.config.output.file,
                crate::run::pipeline::stage_dir(&input.config).display()
            );
            0
        }
        Ok(None) => 0,
        Err(e) => failure(comm, config, &e),
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
