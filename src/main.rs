use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`nti summary f.h5 | head`) like other Unix tools.
    // SAFETY: restoring the default SIGPIPE disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    nti::logging::init();
    let cli = nti::cli::Cli::parse();
    let code = nti::cli::run(cli);
    std::process::exit(code);
}
