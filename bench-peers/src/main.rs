//! The `bench-peers` binary: `cargo xtask bench-peers` runs it (release build) with its own arguments.

use std::process::ExitCode;

use clap::Parser;

/// Times the Rust kernels against NumPy and JAX peers doing the same computations (peers/), prints ratios, checks agreement.
#[derive(Parser)]
#[command(name = "cargo xtask bench-peers")]
struct Cli {
    #[command(flatten)]
    args: bench_peers::Args,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match bench_peers::run(cli.args) {
        Ok(code) => code,
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: {}", e.message());
            ExitCode::from(e.exit_status())
        }
    }
}
