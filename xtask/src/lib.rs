//! The runner's library: command implementations, report generation and file writing, shared by the `xtask` binary and its tests.

/// Every human-readable line of the runner goes through [`output::human_line`]: to stdout, or to
/// stderr under `--json`, and a closed or unread pipe drops the line instead of panicking. This
/// shadows std's `println!` in every module below (macro scope is textual).
macro_rules! println {
    () => { $crate::output::human_line("") };
    ($($t:tt)*) => { $crate::output::human_line(&format!($($t)*)) };
}

/// std's `eprintln!` panics when stderr is closed or a broken pipe; this drops the line instead
/// (issue 27, class 4: no input, configuration or environment reaches a panic).
macro_rules! eprintln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

pub mod checkpoint;
pub mod data;
pub mod estimate;
pub mod figure1;
pub mod files;
pub mod heartbeat;
pub mod lock;
pub mod output;
pub mod parse;
pub mod peers;
pub mod records;
pub mod scaling;
pub mod solver;
pub mod verify;

/// A user error: printed as one line, exit status 2.
#[derive(Debug)]
pub struct UserError(pub String);

impl<E: std::fmt::Display> From<E> for UserError {
    fn from(e: E) -> Self {
        UserError(e.to_string())
    }
}

/// The version every report states.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
