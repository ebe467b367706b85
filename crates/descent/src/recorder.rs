//! Observers that record a trajectory: the Fig. 1 panels, the Thm 3.1 bound and ratio, and the gap to u∞(k).

use faer::Col;

use crate::theory::{bound_ratio, theorem_bound};
use crate::{Control, DescentError, Observer, Result, View};

/// Which iterations a [`Recorder`] samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// k = 0, s, 2s, … for a stride s ≥ 1.
    Every(usize),
    /// Exactly these iterations (any order, duplicates ignored).
    At(Vec<usize>),
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::Every(1)
    }
}

impl Schedule {
    /// Whether iteration k is sampled.
    pub fn contains(&self, k: usize) -> bool {
        match self {
            Schedule::Every(s) => k.is_multiple_of(*s),
            Schedule::At(list) => list.binary_search(&k).is_ok(),
        }
    }
}

/// What a [`Recorder`] computes at each sampled iteration, beyond the always-cheap quantities
/// (loss, ‖y − u‖², pattern-change fraction, distances).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderConfig {
    /// When to sample (default every iteration).
    pub schedule: Schedule,
    /// λmin(H(k)): O(n²m/64 + n³) per sample (default off).
    pub lambda_min_h: bool,
    /// Keep u(k) itself (default on).
    pub predictions: bool,
    /// The theorem's bound (1 − ηλ0/2)^k ‖y − u(0)‖² and the ratio measured/bound (default on;
    /// needs λ0, one O(n³) eigendecomposition of H∞ per problem).
    pub theorem_bound: bool,
    /// The gap ‖u(k) − u∞(k)‖ to the infinite-width GD prediction (default on; same eigendecomposition).
    pub infinite_width: bool,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            schedule: Schedule::default(),
            lambda_min_h: false,
            predictions: true,
            theorem_bound: true,
            infinite_width: true,
        }
    }
}

/// One sampled iteration. Distances are of the first layer to its initialisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Iteration k.
    pub iteration: usize,
    /// L(k) = ½ ‖y − u(k)‖².
    pub loss: f64,
    /// ‖y − u(k)‖², the left-hand side of slide Thm 3.1 (paper Thm 4.1).
    pub residual_norm_sq: f64,
    /// λmin(H(k)), if asked for.
    pub lambda_min_h: Option<f64>,
    /// (1/(mn)) Σ_{r,i} 1{s_ir(k) ≠ s_ir(0)} (Fig. 1(b)).
    pub pattern_change_fraction: f64,
    /// max_r ‖w_r(k) − w_r(0)‖₂ (Fig. 1(c)).
    pub max_weight_distance: f64,
    /// ‖W(k) − W(0)‖_F.
    pub frobenius_distance: f64,
    /// u(k), if asked for.
    pub predictions: Option<Col<f64>>,
    /// (1 − ηλ0/2)^k ‖y − u(0)‖², if asked for.
    pub theorem_bound: Option<f64>,
    /// residual_norm_sq / theorem_bound (≤ 1 is what the theorem claims), if asked for.
    pub bound_ratio: Option<f64>,
    /// ‖u(k) − u∞(k)‖₂ with u∞(k) = y + (I − ηH∞)^k (u(0) − y), if asked for.
    pub infinite_width_gap: Option<f64>,
}

/// A recorded run: η, λ0 (when computed) and the samples in iteration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// The step size η (0 if nothing was sampled).
    pub eta: f64,
    /// λ0 = λmin(H∞), when the bound or u∞ was recorded.
    pub lambda0: Option<f64>,
    /// The samples.
    pub samples: Vec<Sample>,
}

impl Trajectory {
    /// max_k of measured/bound over the samples (None if the bound was not recorded).
    pub fn max_bound_ratio(&self) -> Option<f64> {
        self.samples.iter().filter_map(|s| s.bound_ratio).reduce(f64::max)
    }
    /// max_k ‖u(k) − u∞(k)‖ over the samples (None if not recorded).
    pub fn max_infinite_width_gap(&self) -> Option<f64> {
        self.samples.iter().filter_map(|s| s.infinite_width_gap).reduce(f64::max)
    }
}

/// The trajectory recorder: an [`Observer`] that samples at the iterations of its [`Schedule`].
///
/// Records one run. The bound and u∞(k) are taken relative to the u(0) the state carries, so the
/// recorder may also be attached to a run continued with [`Problem::run_from`].
#[derive(Debug, Clone)]
pub struct Recorder {
    config: RecorderConfig,
    eta: Option<f64>,
    lambda0: Option<f64>,
    /// α = Vᵀ(u(0) − y) in the eigenbasis of H∞.
    alpha: Option<Col<f64>>,
    samples: Vec<Sample>,
}

impl Recorder {
    /// A recorder; errors on a zero stride.
    pub fn new(mut config: RecorderConfig) -> Result<Self> {
        match &mut config.schedule {
            Schedule::Every(0) => {
                return Err(DescentError::InvalidParameter {
                    name: "schedule",
                    value: "Every(0)".into(),
                    reason: "the sampling stride must be at least 1".into(),
                });
            }
            Schedule::Every(_) => {}
            Schedule::At(list) => {
                list.sort_unstable();
                list.dedup();
            }
        }
        Ok(Recorder { config, eta: None, lambda0: None, alpha: None, samples: Vec::new() })
    }

    /// The samples so far.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The finished trajectory.
    pub fn into_trajectory(self) -> Trajectory {
        Trajectory { eta: self.eta.unwrap_or(0.0), lambda0: self.lambda0, samples: self.samples }
    }
}

impl Observer<View<'_>, DescentError> for Recorder {
    fn observe(&mut self, view: &View<'_>) -> Result<Control> {
        let (problem, state) = (view.problem, view.state);
        let k = state.iteration();
        if !self.config.schedule.contains(k) {
            return Ok(Control::Continue);
        }
        let eta = problem.eta();
        self.eta = Some(eta);
        let y = problem.data().y();
        let initial_residual = state.initial_predictions() - y;
        let mut sample = Sample {
            iteration: k,
            loss: state.loss(),
            residual_norm_sq: state.residual_norm_sq(),
            lambda_min_h: None,
            pattern_change_fraction: if k == 0 { 0.0 } else { state.pattern_change_fraction() },
            max_weight_distance: state.max_weight_distance(),
            frobenius_distance: state.frobenius_distance(),
            predictions: self.config.predictions.then(|| state.predictions().to_owned()),
            theorem_bound: None,
            bound_ratio: None,
            infinite_width_gap: None,
        };
        if self.config.lambda_min_h {
            sample.lambda_min_h = Some(problem.lambda_min_h(state)?);
        }
        if self.config.theorem_bound || self.config.infinite_width {
            let iw = problem.infinite_width()?;
            self.lambda0 = Some(iw.lambda0());
            if self.config.theorem_bound {
                let bound = theorem_bound(eta, iw.lambda0(), initial_residual.squared_norm_l2(), k);
                sample.theorem_bound = Some(bound);
                sample.bound_ratio = Some(bound_ratio(sample.residual_norm_sq, bound));
            }
            if self.config.infinite_width {
                if self.alpha.is_none() {
                    self.alpha = Some(iw.coefficients(initial_residual.as_ref())?);
                }
                if let Some(alpha) = &self.alpha {
                    let u_inf = iw.gd_prediction(y, alpha.as_ref(), eta, k)?;
                    sample.infinite_width_gap = Some((state.predictions() - &u_inf).norm_l2());
                }
            }
        }
        self.samples.push(sample);
        Ok(Control::Continue)
    }
}

/// The loss at every observed iteration, in order: `losses[k] = L(k)` for a run observed from k = 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LossTrace {
    /// L(k) = ½ ‖y − u(k)‖².
    pub losses: Vec<f64>,
}

impl Observer<View<'_>, DescentError> for LossTrace {
    fn observe(&mut self, view: &View<'_>) -> Result<Control> {
        let (_problem, state) = (view.problem, view.state);
        self.losses.push(state.loss());
        Ok(Control::Continue)
    }
}
