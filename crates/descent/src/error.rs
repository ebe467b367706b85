//! The error type of the descent crate: every bad configuration is named, never a panic or NaN.

use model::ModelError;

/// What can be wrong with a descent run's inputs.
///
/// Divergence of the iteration is *not* an error: it is a measured outcome, reported as
/// [`crate::Status::Diverged`].
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum DescentError {
    /// Data, weights or a matrix were rejected by the model crate (wrong shape, non-finite, …).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The step size η (or the constant c_η of the theorem's step) is not a positive finite number.
    #[error("invalid step size {name} = {value}: {reason}")]
    InvalidLearningRate {
        /// `"eta"` or `"c_eta"`.
        name: &'static str,
        /// The value given.
        value: f64,
        /// Why it is invalid.
        reason: String,
    },
    /// The minibatch size b is not in 1..=n.
    #[error("invalid batch size b = {batch_size} for n = {n} inputs: need 1 ≤ b ≤ n")]
    InvalidBatchSize {
        /// The batch size given.
        batch_size: usize,
        /// Number of inputs n.
        n: usize,
    },
    /// Another parameter is outside its domain.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A [`crate::State`] was handed to a [`crate::Problem`] it was not made by.
    #[error("the state does not belong to this problem: {reason}")]
    StateMismatch {
        /// What differs.
        reason: String,
    },
}

/// Result type of this crate.
pub type Result<T, E = DescentError> = std::result::Result<T, E>;
