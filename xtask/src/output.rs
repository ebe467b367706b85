//! Where a command's human-readable lines go: standard output, or standard error under `--json`.
//!
//! With `--json`, standard output is kept for the results JSON alone.

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

/// Prints one human-readable line where it belongs. A closed pipe (`… | head`) is not an error:
/// the run goes on and writes its files; the line is dropped.
pub fn human_line(line: &str) {
    use std::io::Write;
    if json_on_stdout() {
        let _ = writeln!(std::io::stderr(), "{line}");
    } else {
        let _ = writeln!(std::io::stdout(), "{line}");
    }
}

/// Prints `text` to stdout as it is (the results JSON), ignoring a closed pipe.
pub fn raw_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
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
