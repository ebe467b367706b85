//! The error type of the reduced solver: every bad input is named, never a panic or NaN.

use model::ModelError;

/// What can go wrong in a reduced run.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ReducedError {
    /// The data or the network were refused by the model crate.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A parameter is out of its domain.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value, as given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// The active set outgrew the memory limit (the budget reached most neurons: the reduction
    /// is not the right tool at this width, run the full solver).
    #[error(
        "the reduced solver would hold {active} active neurons ({needed_mib} MiB), above the limit of {limit_mib} MiB: at this width most neurons can flip; use the full solver"
    )]
    TooManyActive {
        /// Active neurons asked for.
        active: u64,
        /// Their memory.
        needed_mib: u64,
        /// The limit.
        limit_mib: u64,
    },
}

/// Result type of this crate.
pub type Result<T, E = ReducedError> = std::result::Result<T, E>;

pub(crate) fn invalid(name: &'static str, value: impl ToString, reason: impl Into<String>) -> ReducedError {
    ReducedError::InvalidParameter { name, value: value.to_string(), reason: reason.into() }
}
