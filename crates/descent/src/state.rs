//! The iterate of a descent run: k, Z(k) = X W(k)ᵀ, u(k), the residual and per-neuron distances to init.

use faer::{Col, ColRef, Mat, MatRef};
use model::PatternBits;

use crate::sgd::MinibatchSampler;

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
    /// Kernel-space scratch: D = (r aᵀ/√m) ⊙ 1{Z ≥ 0} and P = K D (n × m each; 0 × 0 otherwise).
    pub(crate) d: Mat<f64>,
    pub(crate) p: Mat<f64>,
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
    /// Pattern-change fraction against k = 0, (1/(mn)) Σ_{r,i} 1{s_ir(k) ≠ s_ir(0)} (Fig. 1(b)). O(nm).
    pub fn pattern_change_fraction(&self) -> f64 {
        let now = PatternBits::from_preactivations(self.z.as_ref());
        model::pattern_change_fraction(&now, &self.initial_patterns)
    }
    /// Whether every kept value is finite (checked by the driver after each step).
    pub(crate) fn is_finite(&self) -> bool {
        self.residual_norm_sq.is_finite()
            && self.squared_distances.iter().all(|q| q.is_finite())
            && self.z.col_iter().all(|c| c.iter().all(|v| v.is_finite()))
    }
}
