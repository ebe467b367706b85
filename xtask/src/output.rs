//! Where a command's human-readable lines go: standard output, or standard error when `--json` keeps standard output for the results JSON alone.

use std::sync::atomic::{AtomicBool, Ordering};

static JSON_ON_STDOUT: AtomicBool = AtomicBool::new(false);

/// From now on, human-readable lines go to standard error (`--json`).
pub fn reserve_stdout_for_json() {
    JSON_ON_STDOUT.store(true, Ordering::Relaxed);
}

/// Whether `--json` is in force.
pub fn json_on_stdout() -> bool {
    JSON_ON_STDOUT.load(Ordering::Relaxed)
}

/// Prints one human-readable line where it belongs.
pub fn human_line(line: &str) {
    if json_on_stdout() {
        eprintln!("{line}");
    } else {
        std::println!("{line}");
    }
}

/// What an exit status of `verify-lemmas` or `merge` means, in one line.
pub fn exit_meaning(code: u8) -> &'static str {
    match code {
        0 => "exit status 0: every claim supported or inconclusive",
        1 => "exit status 1: some claim refuted",
        2 => "exit status 2: bad input",
        3 => "exit status 3: some claim's verdict is `error` (a sanity identity failed: a bug, please report it)",
        _ => "exit status: see --help",
    }
}
