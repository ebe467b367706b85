//! The error type of the gradient-flow crates: every bad input is named, never a panic or NaN.

use model::ModelError;

/// What can go wrong when setting up or running a gradient flow (or gradient descent).
///
/// Divergence of a run is *not* an error: it is reported as [`crate::Status::Diverged`] with
/// the last finite state.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FlowError {
    /// Data, weights or a Gram matrix were rejected by the model crate (shape, NaN, …).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A configuration value is outside its domain (T < 0, h ≤ 0, NaN, …).
    #[error("invalid {name} = {value}: {reason}")]
    InvalidConfig {
        /// Parameter name, as spelled in the config struct.
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// Step selection from a tolerance halved h `halvings` times without meeting the tolerance.
    #[error(
        "no step size met the tolerance {tol} (error per unit time): the last try h = {h} estimated {error_per_unit_time} after {halvings} halvings; raise the tolerance or max_halvings"
    )]
    ToleranceNotMet {
        /// Requested bound on the estimated local error per unit time.
        tol: f64,
        /// Last step size tried.
        h: f64,
        /// Its estimated local error per unit time (may be +∞ if the probe blew up).
        error_per_unit_time: f64,
        /// Number of halvings performed.
        halvings: u32,
    },
    /// An observer refused a sample (its own reason).
    #[error("observer failed: {reason}")]
    Observer {
        /// What went wrong.
        reason: String,
    },
}

/// Result type of this crate.
pub type Result<T, E = FlowError> = std::result::Result<T, E>;

/// Shorthand for an [`FlowError::InvalidConfig`].
pub(crate) fn invalid(name: &'static str, value: impl std::fmt::Display, reason: impl Into<String>) -> FlowError {
    FlowError::InvalidConfig { name, value: value.to_string(), reason: reason.into() }
}
