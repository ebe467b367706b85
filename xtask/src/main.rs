//! The runner: `cargo xtask verify-lemmas` and the data commands.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Checks Du et al. (ICLR 2019) by simulation", arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: check every claim (for now: what exists, the model's λ0 on the default data).
    VerifyLemmas {
        /// Number of inputs n.
        #[arg(long, default_value_t = 20)]
        n: usize,
        /// Input dimension d.
        #[arg(long, default_value_t = 20)]
        d: usize,
        /// Master seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::VerifyLemmas { n, d, seed } => {
            println!("The lemmas crate is not built yet: running what exists (the model crate).");
            match model::Dataset::sphere(n, d, seed, 0).and_then(|data| model::lambda0(&data)) {
                Ok(l0) => println!("sphere data n = {n}, d = {d}, seed {seed}: λ0 = λmin(H∞) = {l0:.6}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            }
        }
    }
}
