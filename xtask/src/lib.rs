//! The runner's library: command implementations, report generation and file writing, shared by the `xtask` binary and its tests.

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
