//! The error type of the model crate: every bad input is named, never a panic or NaN.

use std::path::PathBuf;

/// What can be wrong with data, weights or files given to the model.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ModelError {
    /// A matrix or vector holds NaN or ±Inf.
    #[error("{what} holds a non-finite value ({value}) at row {row}, column {col}")]
    NonFinite {
        /// Which array.
        what: &'static str,
        /// Row index (0-based).
        row: usize,
        /// Column index (0-based; 0 for vectors).
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// An input row is not of unit Euclidean norm within the tolerance.
    #[error(
        "input row {row} has norm {norm} (|norm - 1| > {tolerance}); the theory needs ‖x_i‖ = 1: normalise the rows (e.g. --normalise) or fix the data"
    )]
    NotUnitRow {
        /// Row index (0-based).
        row: usize,
        /// Its Euclidean norm.
        norm: f64,
        /// Allowed |norm − 1|.
        tolerance: f64,
    },
    /// Two inputs are parallel (or anti-parallel), so λ0 = λmin(H∞) = 0 and the theory does not apply.
    #[error("input rows {i} and {j} are parallel (cosine {cosine}); λ0 = λmin(H∞) would be 0: remove one of them")]
    ParallelRows {
        /// First row index.
        i: usize,
        /// Second row index.
        j: usize,
        /// Their cosine x_iᵀx_j.
        cosine: f64,
    },
    /// Something that must have at least one element has none.
    #[error("{what} is empty")]
    Empty {
        /// What is empty.
        what: &'static str,
    },
    /// Sizes that must agree do not.
    #[error("shape mismatch: {what}: expected {expected}, found {found}")]
    Shape {
        /// What is being compared.
        what: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A parameter is outside its domain.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// An allocation would not fit in memory.
    #[error(
        "{what} needs about {needed_mib} MiB, more than the {limit_mib} MiB allowed: use a smaller width or fewer inputs"
    )]
    TooLarge {
        /// What would be allocated.
        what: String,
        /// Estimated size in MiB.
        needed_mib: u64,
        /// Limit in MiB.
        limit_mib: u64,
    },
    /// A `.npy` file cannot be read or written.
    #[error("{path}: {reason}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The symmetric eigensolver did not converge.
    #[error("the eigenvalue solver did not converge on a {n}×{n} matrix")]
    EigenSolver {
        /// Matrix size.
        n: usize,
    },
}
