//! Command-line interface: parse arguments, dispatch, map errors to exit codes
//! (0 success, 1 run-time failure, 2 bad input or usage).

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
    /// Reference simulation (Monte Carlo or Langevin) with observables, written to HDF5.
    Sample {
        /// TOML input file.
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

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Example => {
            print!("{EXAMPLE_INPUT}");
            0
        }
        Command::Check { config, set } => match Input::load(&config, &set) {
            Ok(input) => {
                println!("# {}: valid\n{}", config.display(), input.effective_toml());
                0
            }
            Err(e) => input_error(&e),
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
            let comm = Comm::init_mpi();
            let code = sample(&comm, &config, &set);
            drop(comm);
            code
        }
    }
}

fn input_error(e: &ConfigError) -> i32 {
    eprintln!("error: {e}");
    EXIT_INPUT
}

fn sample(comm: &Comm, config: &std::path::Path, set: &[String]) -> i32 {
    let input = match Input::load(config, set) {
        Ok(i) => i,
        Err(e) => {
            return if comm.is_root() { input_error(&e) } else { EXIT_INPUT };
        }
    };
    match crate::run::run_sample(&input, comm) {
        Ok(Some(summary)) => {
            print!("{}", crate::run::sample::report(&input, &summary));
            0
        }
        Ok(None) => 0,
        Err(e) => {
            if comm.is_root() {
                eprintln!("error: {e:#}");
            }
            EXIT_RUNTIME
        }
    }
}
