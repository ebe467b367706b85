//! The error type of the model crate: every bad input is named, never a panic or NaN.

use std::path::PathBuf;

use faer::{ColRef, MatRef};

use crate::Result;

/// The widths a bound on λ0 implies, for [`ModelError::SmallLambda0`].
fn widths_implied(log10_width: f64) -> String {
    if log10_width.is_finite() {
        format!("here a factor λ0^−4 ≥ 1e{log10_width:.0}")
    } else {
        "unbounded at λ0 = 0".into()
    }
}

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
    /// A row of a float32 input is not of unit norm within float32's tolerance.
    #[error(
        "input row {row} has norm {norm} (|norm - 1| > {tolerance}, the tolerance for float32 inputs); the theory needs ‖x_i‖ = 1: normalise the rows (e.g. --normalise) or fix the data"
    )]
    NotUnitRowFloat32 {
        /// Row index (0-based).
        row: usize,
        /// Its Euclidean norm.
        norm: f64,
        /// Allowed |norm − 1| for float32 rows.
        tolerance: f64,
    },
    /// λ0 = λmin(H∞) is below [`crate::data::LAMBDA0_TOLERANCE`]: the bound from rows i and j
    /// (Cauchy interlacing on their 2×2 block of H∞: λ0 ≤ 1/2 − |H∞_ij|) already shows it. Rows that
    /// coincide (cosine 1) give λ0 = 0; antipodal rows x, −x have H∞_ij = 0 and are fine.
    #[error(
        "input rows {i} and {j} are nearly parallel (cosine {cosine}): λ0 = λmin(H∞) ≤ 1/2 − H∞_ij = {bound:.3e} in f64, below the tolerance {tolerance:e}; the widths the theory needs grow like λ0^−4 (Thm 2.1: m = Ω(n⁶/(λ0⁴δ³))), {}: remove one of the two rows", widths_implied(*log10_width)
    )]
    SmallLambda0 {
        /// First row index.
        i: usize,
        /// Second row index.
        j: usize,
        /// Their cosine x_iᵀx_j.
        cosine: f64,
        /// The upper bound 1/2 − |H∞_ij| on λ0.
        bound: f64,
        /// The tolerance it fell below.
        tolerance: f64,
        /// log10 of 1/bound⁴ (the λ0-dependent factor of Thm 2.1's width; +∞ at bound 0), for the message.
        log10_width: f64,
    },
    /// A label is so large that the loss ½‖y − u‖² overflows f64.
    #[error(
        "labels y: ‖y‖² = {norm_sq:e} is not finite in f64 (largest |y_i| = {value:e} at row {row}): the loss ½‖y − u‖² would overflow; rescale the labels"
    )]
    LabelsOverflow {
        /// Row of the largest |y_i|.
        row: usize,
        /// That label.
        value: f64,
        /// ‖y‖² as computed (inf, or past [`crate::data::LABELS_NORM_SQ_LIMIT`]).
        norm_sq: f64,
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

pub(crate) fn check_finite_mat(what: &'static str, a: MatRef<'_, f64>) -> Result<()> {
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            let v = a[(i, j)];
            if !v.is_finite() {
                return Err(ModelError::NonFinite { what, row: i, col: j, value: v });
            }
        }
    }
    Ok(())
}

pub(crate) fn check_finite_col(what: &'static str, a: ColRef<'_, f64>) -> Result<()> {
    for i in 0..a.nrows() {
        if !a[i].is_finite() {
            return Err(ModelError::NonFinite { what, row: i, col: 0, value: a[i] });
        }
    }
    Ok(())
}

/// Largest allocation the model will attempt for one array, in bytes (16 GiB of the machine's 24).
pub const MEMORY_LIMIT_BYTES: u64 = 16 << 30;

/// Errors with [`ModelError::TooLarge`] when `bytes` exceeds [`MEMORY_LIMIT_BYTES`]; call before allocating.
pub fn ensure_fits(what: &str, bytes: u64) -> Result<()> {
    if bytes > MEMORY_LIMIT_BYTES {
        return Err(ModelError::TooLarge {
            what: what.to_string(),
            needed_mib: bytes >> 20,
            limit_mib: MEMORY_LIMIT_BYTES >> 20,
        });
    }
    Ok(())
}

/// `Ok` when the size `value` is positive, else [`ModelError::InvalidParameter`] naming `name`
/// (value "0") with `reason`: the check every constructor makes of n, d and m.
pub(crate) fn require_positive(name: &'static str, value: usize, reason: &str) -> crate::Result<()> {
    if value == 0 {
        return Err(ModelError::InvalidParameter { name, value: "0".into(), reason: reason.into() });
    }
    Ok(())
}
