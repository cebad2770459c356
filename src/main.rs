use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`nti summary f.h5 | head`) like other Unix tools.
    // SAFETY: restoring the default SIGPIPE disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).format_timestamp_secs().init();
    let cli = nti::cli::Cli::parse();
    let code = nti::cli::run(cli);
    std::process::exit(code);
}
