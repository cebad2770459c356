use clap::Parser;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).format_timestamp_secs().init();
    let cli = nti::cli::Cli::parse();
    let code = nti::cli::run(cli);
    std::process::exit(code);
}
