//! The runner's library: command implementations, report generation and file writing.
//!
//! It is shared by the `xtask` binary and its tests.

/// Every human-readable line of the runner goes through [`output::human_line`]: to stdout, or to
/// stderr under `--json`, and a closed or unread pipe drops the line instead of panicking. This
/// shadows std's `println!` in every module below (macro scope is textual), and other crates of the
/// workspace (`bench-peers`) import it.
#[macro_export]
macro_rules! println {
    () => { $crate::output::human_line("") };
    ($($t:tt)*) => { $crate::output::human_line(&format!($($t)*)) };
}

/// std's `eprintln!` panics when stderr is closed or a broken pipe; this drops the line instead
/// (issue 27, class 4: no input, configuration or environment reaches a panic).
#[macro_export]
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
pub mod merge;
pub mod output;
pub mod parse;
pub mod records;
pub mod scaling;
pub mod solver;
pub mod verify;

/// What stops a command, by class: the class decides the exit status and the message's prefix.
/// No blanket conversion: every error of another type is classed where it is converted.
#[derive(Debug)]
pub enum CommandError {
    /// The input is out of its domain (an option, a file's contents, a configuration, a folder
    /// another run holds): exit status 2, nothing written.
    Input(String),
    /// Reading or writing a file failed for a reason outside the input (a full disk, a vanished
    /// folder, permissions): exit status 5.
    Io(String),
    /// A computation failed where no input is to blame (a numerical routine did not converge, a
    /// dynamics run broke, a bug): exit status 6.
    Internal(String),
}

impl CommandError {
    /// The exit status of the class: 2 bad input, 5 I/O failure, 6 internal failure.
    pub fn exit_status(&self) -> u8 {
        match self {
            CommandError::Input(_) => 2,
            CommandError::Io(_) => 5,
            CommandError::Internal(_) => 6,
        }
    }

    /// The one-line message, prefixed by its class unless it is bad input.
    pub fn message(&self) -> String {
        match self {
            CommandError::Input(m) => m.clone(),
            CommandError::Io(m) => format!("I/O failure: {m}"),
            CommandError::Internal(m) => format!("internal failure (please report it): {m}"),
        }
    }
}

impl From<train::ModelError> for CommandError {
    fn from(e: train::ModelError) -> Self {
        train::TrainError::from(e).into()
    }
}

impl From<train::TrainError> for CommandError {
    fn from(e: train::TrainError) -> Self {
        match e {
            train::TrainError::Input(m) => CommandError::Input(m),
            train::TrainError::Internal(m) => CommandError::Internal(m),
        }
    }
}

impl From<lemmas::LemmaError> for CommandError {
    fn from(e: lemmas::LemmaError) -> Self {
        match e {
            lemmas::LemmaError::Config { .. } => CommandError::Input(e.to_string()),
            lemmas::LemmaError::Model(m) => m.into(),
            lemmas::LemmaError::Dynamics(m) => CommandError::Internal(m),
            lemmas::LemmaError::Store(m) => CommandError::Io(m),
        }
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError::Io(e.to_string())
    }
}

/// The version every report states.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
