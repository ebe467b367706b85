//! The runner: `cargo xtask verify-lemmas` (the main job), `figure1` and the data commands.
//!
//! It is the only program that writes files and draws progress bars.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask::{CommandError, data, figure1, merge, scaling, solver, verify};

/// What `verify-lemmas` writes and its exit statuses, shown under its `--help`.
const VERIFY_AFTER_HELP: &str = "\
Writes, under --out (default docs/):
  index.md                  the verdict table, one row per claim, linking one page per claim
  <claim>.md                each claim's page: configuration, events, expectations, thresholds
  results-<profile>.json    every number of every claim (also printed to stdout with --json)
  checkpoint-<profile>.jsonl  the finished seeds while it runs (deleted at the end; kept by --shard)
  .overparam.lock           held while it runs: a second run on the same --out is refused

Before it starts it prints a one-line plan (claims, profile, largest width, estimated time and
memory); at the end, where the reports are.

Exit status:
  0  every claim supported or inconclusive
  1  some claim refuted
  2  bad input (a one-line message on stderr; nothing is written)
  3  some claim's verdict is `error`: a sanity identity failed, which is a bug (please report it)";

/// What `train` writes and its exit statuses.
const TRAIN_AFTER_HELP: &str = "\
Writes --out (.json: {\"status\", \"samples\"}; .csv: one row per sample), atomically. At most
100000 samples are kept: a longer GD run is sampled at a larger stride, the last iterate always kept.

Exit status:
  0  completed
  2  bad input (a one-line message on stderr; nothing is written)
  4  diverged (the loss grew past 10^6 × its start or became non-finite); the trajectory up to the
     last finite iterate is written, and the status line says where";

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Checks Du, Zhai, Póczos, Singh (ICLR 2019) by simulation",
    arg_required_else_help = true,
    after_help = "Exit status: 0 success, 1 a claim refuted (verify-lemmas, merge, bench-peers: a disagreement), \
2 bad input, 3 a claim's verdict is `error` (a bug), 4 train diverged, 5 an I/O failure, 6 an internal \
failure. See each command's --help."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: check every claim by Monte Carlo and write the reports (default profile: quick).
    #[command(after_help = VERIFY_AFTER_HELP, allow_negative_numbers = true)]
    VerifyLemmas(verify::Args),
    /// Combines the shard checkpoints of `verify-lemmas --shard K/N` into the results one process would write.
    #[command(
        after_help = "Writes what verify-lemmas writes under --out; the same exit statuses (0, 1, 2, 3).",
        allow_negative_numbers = true
    )]
    Merge(merge::MergeArgs),
    /// The paper's Fig. 1: GD on sphere data at several widths (quick: n = d = 100; paper: n = d = 1000).
    #[command(
        allow_negative_numbers = true,
        after_help = "Exit status: 0 done, 2 bad input, 4 a run diverged (the reports are still written, and a line says which runs)."
    )]
    Figure1(figure1::Args),
    /// H∞, G∞ and λ0 of your own inputs X (`.npy`).
    #[command(
        after_help = "Writes --h-out and --g-out both or neither. Exit status: 0 done, 2 bad input.",
        allow_negative_numbers = true
    )]
    Kernel(data::KernelArgs),
    /// Train on your own X, y (and optionally W(0), a(0)) from `.npy` files; write the trajectory as JSON or CSV.
    #[command(after_help = TRAIN_AFTER_HELP, allow_negative_numbers = true)]
    Train(data::TrainArgs),
    /// How much width is really needed: width-threshold searches over n, δ and d, exponent fits beside the proofs' (docs/scaling/).
    #[command(
        after_help = "Writes index.md, results.json and img/ under --out (default docs/<profile>). Exit status: 0 done, 2 bad input, 3 a sanity identity failed (a bug).",
        allow_negative_numbers = true
    )]
    Scaling(scaling::Args),
    /// The hardest data: width thresholds on structured data families against sphere data, the hardest family at each n (docs/hardest/).
    #[command(
        after_help = "Writes index.md, results.json and img/ under --out (default docs/<profile>). Exit status: 0 done, 2 bad input, 3 a sanity identity failed (a bug).",
        allow_negative_numbers = true
    )]
    Hardest(scaling::Args),
    /// Times the Rust kernels against NumPy and JAX peers doing the same computations (peers/), prints ratios, checks agreement.
    #[command(allow_negative_numbers = true)]
    #[command(disable_help_flag = true)]
    BenchPeers {
        /// The arguments of `bench-peers` (its own crate: see `cargo xtask bench-peers --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// clap's message cut to one line: its first line and a pointer to `--help`.
/// `train`: validates the options, then runs the reduced solver when it is asked for (or `auto`
/// picks it), else the full one.
fn train(args: data::TrainArgs) -> Result<ExitCode, CommandError> {
    data::validate_train(&args)?;
    match solver::train_reduced(&args)? {
        Some(done) => Ok(done),
        None => data::train_full(args),
    }
}

/// `bench-peers` lives in its own crate (it times the lower crates directly, which the runner does
/// not depend on): runs it through cargo, in release, with the given arguments.
fn bench_peers(args: &[String]) -> Result<ExitCode, CommandError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["run", "--quiet", "--release", "--package", "bench-peers", "--"])
        .args(args)
        .status()
        .map_err(|e| CommandError::Io(format!("cannot start cargo to run bench-peers: {e}")))?;
    // A status without a code (killed by a signal) is a failure of the run, not bad input.
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::from(1),
    })
}

fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("error: invalid arguments").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let usage = text.lines().find_map(|l| l.trim().strip_prefix("Usage: ")).map(str::trim);
    match usage {
        Some(u) => format!("{first} (usage: {u}; see --help)"),
        None => format!("{first} (see --help)"),
    }
}

/// glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which
/// the per-seed arrays of a long run come from the heap arenas and freed memory is kept: the
/// `scaling` profile grew past 8 GiB resident by its 20th configuration with about 250 MiB live.
/// A fixed threshold keeps large arrays mapped, so they go back to the system when freed (the same
/// run then stays near 250 MiB). Results do not depend on it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn bound_retained_memory() {
    // SAFETY: mallopt only changes allocator parameters; called first thing in main, before any
    // thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn bound_retained_memory() {}

/// The one-line error on stderr; a closed or unread stderr drops it (the exit status still says it).
fn print_error(message: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "error: {message}");
}

fn main() -> ExitCode {
    bound_retained_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            print_error(&one_line(&e));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::VerifyLemmas(args) => verify::run(args),
        Command::Merge(args) => merge::merge(args),
        Command::Figure1(args) => figure1::run(args),
        Command::BenchPeers { args } => bench_peers(&args),
        Command::Scaling(args) => scaling::run(args, scaling::Study::Scaling),
        Command::Hardest(args) => scaling::run(args, scaling::Study::Hardest),
        Command::Kernel(args) => data::kernel(args),
        Command::Train(args) => train(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e.message());
            ExitCode::from(e.exit_status())
        }
    }
}
