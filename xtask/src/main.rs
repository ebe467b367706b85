//! The runner: `cargo xtask verify-lemmas` (the main job), `figure1` and the data commands; the only program that writes files and draws progress bars.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask::{UserError, checkpoint, data, figure1, peers, verify};

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
    /// Combines the shard checkpoints of `verify-lemmas --shard K/N` into the results one process would write.
    Merge(checkpoint::MergeArgs),
    /// The paper's Fig. 1: GD on sphere data at several widths (quick: n = d = 100; paper: n = d = 1000).
    Figure1(figure1::Args),
    /// H∞, G∞ and λ0 of your own inputs X (`.npy`).
    Kernel(data::KernelArgs),
    /// Train on your own X, y (and optionally W(0), a(0)) from `.npy` files; write the trajectory as JSON or CSV.
    Train(data::TrainArgs),
    /// Times the Rust kernels against NumPy and JAX peers doing the same computations (peers/), prints ratios, checks agreement.
    BenchPeers(peers::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::VerifyLemmas(args) => verify::run(args),
        Command::Merge(args) => checkpoint::merge(args),
        Command::Figure1(args) => figure1::run(args),
        Command::BenchPeers(args) => peers::run(args),
        Command::Kernel(args) => data::kernel(args),
        Command::Train(args) => data::train(args),
    };
    match result {
        Ok(code) => code,
        Err(UserError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
