//! Shared test helpers: an observer that keeps every iterate, and exact/approximate comparisons.
#![allow(dead_code)]

use descent::{Control, Result};
use faer::{Col, ColRef, Mat, MatRef};

/// One kept iterate.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub iteration: usize,
    pub z: Mat<f64>,
    pub u: Col<f64>,
    pub loss: f64,
    pub squared_distances: Vec<f64>,
    /// W(k) materialised, when asked for at this iteration.
    pub w: Option<Mat<f64>>,
}

/// Keeps every iterate; materialises W(k) at the iterations listed.
#[derive(Debug, Default)]
pub struct KeepAll {
    pub materialise_at: Vec<usize>,
    pub snapshots: Vec<Snapshot>,
}

impl descent::Observer<descent::View<'_>, descent::DescentError> for KeepAll {
    fn observe(&mut self, view: &descent::View<'_>) -> Result<Control> {
        let (problem, state) = (view.problem, view.state);
        let k = state.iteration();
        let w = if self.materialise_at.contains(&k) { Some(problem.weights(state)?) } else { None };
        self.snapshots.push(Snapshot {
            iteration: k,
            z: state.preactivations().to_owned(),
            u: state.predictions().to_owned(),
            loss: state.loss(),
            squared_distances: state.squared_neuron_distances().to_vec(),
            w,
        });
        Ok(Control::Continue)
    }
}

pub fn max_abs_mat(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    (a - b).norm_max()
}

pub fn max_abs_col(a: ColRef<'_, f64>, b: ColRef<'_, f64>) -> f64 {
    assert_eq!(a.nrows(), b.nrows());
    (a - b).norm_max()
}

pub fn max_abs_slice(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Whether any f64 in the snapshot list is NaN.
pub fn any_nan(snapshots: &[Snapshot]) -> bool {
    snapshots.iter().any(|s| {
        s.loss.is_nan()
            || s.u.iter().any(|v| v.is_nan())
            || s.z.col_iter().any(|c| c.iter().any(|v| v.is_nan()))
            || s.squared_distances.iter().any(|v| v.is_nan())
    })
}

/// `iterations` steps of `method` at the fixed step `eta`, on the inputs `sampling` draws (the
/// other settings the defaults).
pub fn fixed_step(
    eta: f64,
    iterations: usize,
    method: descent::Method,
    sampling: descent::Sampling,
) -> descent::DescentConfig {
    descent::DescentConfig {
        learning_rate: descent::LearningRate::Fixed(eta),
        iterations,
        method,
        sampling,
        ..Default::default()
    }
}
