//! What stops a run, in two classes: bad input (the caller's to fix) and an internal failure.

/// What stops a run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data, the network or an option is out of its domain.
    #[error("{0}")]
    Input(String),
    /// A computation failed where no input is to blame (a numerical routine did not converge, an
    /// observer failed, a state did not match its problem: a bug).
    #[error("{0}")]
    Internal(String),
}

impl From<model::ModelError> for TrainError {
    fn from(e: model::ModelError) -> Self {
        match e {
            model::ModelError::EigenSolver { .. } => TrainError::Internal(e.to_string()),
            _ => TrainError::Input(e.to_string()),
        }
    }
}

impl From<flow::FlowError> for TrainError {
    fn from(e: flow::FlowError) -> Self {
        match e {
            flow::FlowError::Model(m) => m.into(),
            flow::FlowError::Observer { .. } => TrainError::Internal(e.to_string()),
            _ => TrainError::Input(e.to_string()),
        }
    }
}

impl From<descent::DescentError> for TrainError {
    fn from(e: descent::DescentError) -> Self {
        match e {
            descent::DescentError::Model(m) => m.into(),
            descent::DescentError::StateMismatch { .. } => TrainError::Internal(e.to_string()),
            _ => TrainError::Input(e.to_string()),
        }
    }
}

impl From<reduced::ReducedError> for TrainError {
    fn from(e: reduced::ReducedError) -> Self {
        match e {
            reduced::ReducedError::Model(m) => m.into(),
            _ => TrainError::Input(e.to_string()),
        }
    }
}
