//! What can stop a check: `LemmaError`, one variant per class of failure.

use model::ModelError;

/// What can stop a check.
#[derive(Debug, thiserror::Error)]
pub enum LemmaError {
    /// A configuration field (or a quantity derived from it) is outside its domain.
    #[error("invalid configuration: {name} = {value}: {reason}")]
    Config {
        /// Field name.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why.
        reason: String,
    },
    /// Data, weights or a numerical routine failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A dynamics run failed.
    #[error("{0}")]
    Dynamics(String),
    /// The seed store (the runner's checkpoint) failed or holds something unusable.
    #[error("{0}")]
    Store(String),
}

impl From<inference::InferenceError> for LemmaError {
    fn from(e: inference::InferenceError) -> Self {
        match e {
            inference::InferenceError::Config { name, value, reason } => LemmaError::Config { name, value, reason },
            other => LemmaError::Config { name: "inference", value: String::new(), reason: other.to_string() },
        }
    }
}
