//! The data set of a check, drawn from its configuration alone.

use model::Dataset;

use crate::config::{self, CheckConfig, DataKind};
use crate::error::LemmaError;

/// Largest number of sphere draws tried for correlated data before giving up.
pub const CORRELATED_TRIES: u64 = 10_000;

/// The data set of a check (trial 0 of the data streams of `master_seed`; for correlated data the
/// first trial whose inputs qualify, see [`DataKind::Correlated`]).
pub fn make_data(cfg: &CheckConfig) -> Result<Dataset, LemmaError> {
    Ok(match cfg.data {
        DataKind::Sphere => Dataset::sphere(cfg.n, cfg.d, cfg.master_seed, 0)?,
        DataKind::Orthonormal => Dataset::orthonormal(cfg.n, cfg.d, cfg.master_seed, 0)?,
        DataKind::Correlated => {
            for trial in 0..CORRELATED_TRIES {
                let data = Dataset::sphere(cfg.n, cfg.d, cfg.master_seed, trial)?;
                let (lo, hi) = off_diagonal_range(&data);
                if (config::CORRELATED_MIN..=config::CORRELATED_MAX).contains(&hi) && lo.is_finite() {
                    return Ok(data);
                }
            }
            return Err(LemmaError::Config {
                name: "data",
                value: "correlated".into(),
                reason: format!(
                    "no draw of {} points on the sphere in d = {} among {CORRELATED_TRIES} had a pair with |x_iᵀx_j| ≥ {} and none above {}: change n or d",
                    cfg.n,
                    cfg.d,
                    config::CORRELATED_MIN,
                    config::CORRELATED_MAX
                ),
            });
        }
    })
}

/// The smallest and largest |x_iᵀx_j| over pairs i < j (±∞ when n = 1).
pub fn off_diagonal_range(data: &Dataset) -> (f64, f64) {
    let k = data.input_gram();
    let mut range = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..data.n() {
        for j in i + 1..data.n() {
            let c = k[(i, j)].abs();
            range = (range.0.min(c), range.1.max(c));
        }
    }
    range
}
