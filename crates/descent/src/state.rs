//! The iterate of a descent run: k, Z(k) = X W(k)ᵀ, u(k), the residual and per-neuron distances to init.

use std::sync::Mutex;

use faer::{Col, ColRef, Mat, MatRef};
use model::{LambdaMinWarmStart, PatternBits};

use crate::minibatch::MinibatchSampler;

/// Where the first layer is kept.
#[derive(Debug, Clone)]
pub(crate) enum Position {
    /// W(k) itself (m × d), for [`crate::Method::WeightSpace`].
    Weights(Mat<f64>),
    /// C(k) (n × m) with W(k) − W(0) = C(k)ᵀ X, for [`crate::Method::KernelSpace`].
    Coefficients(Mat<f64>),
}

/// The state after k steps. Made by [`crate::Problem::initial_state`], advanced by
/// [`crate::Problem::step`]; observers read it through these accessors.
///
/// Every quantity here is O(nm) or less to keep; W(k) itself is materialised only on request
/// ([`crate::Problem::weights`]).
#[derive(Debug, Clone)]
pub struct State {
    pub(crate) iteration: usize,
    pub(crate) z: Mat<f64>,
    pub(crate) u: Col<f64>,
    pub(crate) residual: Col<f64>,
    pub(crate) residual_norm_sq: f64,
    /// ‖w_r(k) − w_r(0)‖² per neuron.
    pub(crate) squared_distances: Vec<f64>,
    pub(crate) position: Position,
    pub(crate) initial_patterns: PatternBits,
    pub(crate) initial_predictions: Col<f64>,
    pub(crate) sampler: Option<MinibatchSampler>,
    /// The residual the last step used: u − y (full batch) or its masked, n/b-scaled minibatch form.
    pub(crate) step_residual: Col<f64>,
    /// The patterns of Z(k), s_ir(k) = 1{Z_ir(k) ≥ 0}, packed by the step that made Z(k).
    pub(crate) patterns: PatternBits,
    /// Whether every entry of Z(k) is finite (found by the step that made Z(k)).
    pub(crate) z_finite: bool,
    /// The eigenvector of λmin(H) from the last [`crate::Problem::lambda_min_h`] call on this
    /// run, which warm-starts the next one.
    pub(crate) lambda_min_warm: WarmCell,
    /// The co-activation counts S Sᵀ of `patterns` (row-major n × n), once H(k) has been asked
    /// for on this run; every later step updates them from the entries it flipped, so the next
    /// H(k) needs no recount.
    pub(crate) co_activation: CountsCell,
}

/// The co-activation counts behind a lock (filled by `&State` readers); cloning clones them.
#[derive(Debug, Default)]
pub(crate) struct CountsCell(pub(crate) Mutex<Option<Vec<u32>>>);

impl Clone for CountsCell {
    fn clone(&self) -> Self {
        CountsCell(Mutex::new(self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()))
    }
}

/// A [`LambdaMinWarmStart`] behind a lock, so that `&State` readers can update it; cloning a
/// state clones the warm start.
#[derive(Debug, Default)]
pub(crate) struct WarmCell(pub(crate) Mutex<LambdaMinWarmStart>);

impl Clone for WarmCell {
    fn clone(&self) -> Self {
        WarmCell(Mutex::new(self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()))
    }
}

impl State {
    /// The iteration count k (0 before the first step).
    pub fn iteration(&self) -> usize {
        self.iteration
    }
    /// Pre-activations Z(k) = X W(k)ᵀ (n × m).
    pub fn preactivations(&self) -> MatRef<'_, f64> {
        self.z.as_ref()
    }
    /// Predictions u(k) (length n).
    pub fn predictions(&self) -> ColRef<'_, f64> {
        self.u.as_ref()
    }
    /// Residual u(k) − y.
    pub fn residual(&self) -> ColRef<'_, f64> {
        self.residual.as_ref()
    }
    /// ‖y − u(k)‖², the left-hand side of slide Thm 3.1 (paper Thm 4.1).
    pub fn residual_norm_sq(&self) -> f64 {
        self.residual_norm_sq
    }
    /// Loss L(k) = ½ ‖y − u(k)‖².
    pub fn loss(&self) -> f64 {
        0.5 * self.residual_norm_sq
    }
    /// ‖w_r(k) − w_r(0)‖² for r = 1..m (in kernel space a running value, clamped at 0 when read
    /// through the distance accessors).
    pub fn squared_neuron_distances(&self) -> &[f64] {
        &self.squared_distances
    }
    /// max_r ‖w_r(k) − w_r(0)‖₂ (Lem 2.4's quantity, Fig. 1(c)).
    pub fn max_weight_distance(&self) -> f64 {
        self.squared_distances.iter().fold(0.0f64, |acc, &q| acc.max(q)).max(0.0).sqrt()
    }
    /// ‖W(k) − W(0)‖_F = (Σ_r ‖w_r(k) − w_r(0)‖²)^{1/2}.
    pub fn frobenius_distance(&self) -> f64 {
        self.squared_distances.iter().sum::<f64>().max(0.0).sqrt()
    }
    /// The activation patterns at k = 0, s_ir(0) = 1{Z_ir(0) ≥ 0}.
    pub fn initial_patterns(&self) -> &PatternBits {
        &self.initial_patterns
    }
    /// Predictions u(0).
    pub fn initial_predictions(&self) -> ColRef<'_, f64> {
        self.initial_predictions.as_ref()
    }
    /// The coefficients C(k) (n × m) with W(k) − W(0) = C(k)ᵀ X, in kernel space; `None` in weight space.
    pub fn coefficients(&self) -> Option<MatRef<'_, f64>> {
        match &self.position {
            Position::Coefficients(c) => Some(c.as_ref()),
            Position::Weights(_) => None,
        }
    }
    /// The minibatch the last step used (indices in draw order); `None` for full batch or at k = 0.
    pub fn last_batch(&self) -> Option<&[usize]> {
        match &self.sampler {
            Some(s) if self.iteration > 0 => Some(s.current_batch()),
            _ => None,
        }
    }
    /// The activation patterns at k, s_ir(k) = 1{Z_ir(k) ≥ 0}.
    pub fn patterns(&self) -> &PatternBits {
        &self.patterns
    }
    /// Pattern-change fraction against k = 0, (1/(mn)) Σ_{r,i} 1{s_ir(k) ≠ s_ir(0)} (Fig. 1(b)),
    /// from the packed patterns: O(nm/64).
    pub fn pattern_change_fraction(&self) -> f64 {
        model::pattern_change_fraction(&self.patterns, &self.initial_patterns)
    }
    /// Bytes this state keeps on the heap: Z, the position (C in kernel space, W in weight space),
    /// the per-neuron distances, the patterns of k and of 0, the co-activation counts (n² u32, once
    /// H(k) was asked for) and the length-n vectors. The
    /// kernel-space step adds per-thread scratch of 2 · n · `COLUMN_BLOCK` f64 (model::par),
    /// independent of m; the problem holds W(0) (m × d) and K (n × n).
    pub fn heap_bytes(&self) -> usize {
        let f = std::mem::size_of::<f64>();
        let mat = |rows: usize, cols: usize| rows * cols * f;
        let position = match &self.position {
            Position::Weights(w) => mat(w.nrows(), w.ncols()),
            Position::Coefficients(c) => mat(c.nrows(), c.ncols()),
        };
        let patterns = (self.patterns.word_major().len() + self.initial_patterns.word_major().len()) * 8;
        let counts = self.co_activation.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map_or(0, |c| c.len() * 4);
        let n = self.z.nrows();
        mat(self.z.nrows(), self.z.ncols())
            + position
            + self.squared_distances.len() * f
            + patterns
            + counts
            + 5 * n * f
    }
    /// How the λmin(H) calls on this run were answered so far: (dense solves, warm-started solves).
    pub fn lambda_min_solves(&self) -> (usize, usize) {
        let warm = self.lambda_min_warm.0.lock().unwrap_or_else(|e| e.into_inner());
        (warm.dense_solves(), warm.warm_solves())
    }
    /// Whether every kept value is finite (checked by the driver after each step).
    pub fn is_finite(&self) -> bool {
        self.residual_norm_sq.is_finite() && self.squared_distances.iter().all(|q| q.is_finite()) && self.z_finite
    }
}
