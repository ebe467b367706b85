//! The runner: `cargo xtask verify-lemmas` (the main job) and the data commands; the only crate that writes files and draws progress bars.

mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Checks Du, Zhai, Póczos, Singh (ICLR 2019) by simulation",
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: check every claim by Monte Carlo and write the reports (default profile: quick).
    VerifyLemmas(verify::Args),
}

/// A user error: printed as one line, exit status 2.
#[derive(Debug)]
pub struct UserError(pub String);

impl<E: std::fmt::Display> From<E> for UserError {
    fn from(e: E) -> Self {
        UserError(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::VerifyLemmas(args) => verify::run(args),
    };
    match result {
        Ok(code) => code,
        Err(UserError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
