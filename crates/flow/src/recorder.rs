//! The trajectory recorder: an [`Observer`] that records, per sample, the quantities of Thm 2.1 and Lem 2.4.
//!
//! Per sample t: the loss and ‖y − u(t)‖²; λmin(H(t)) when asked (O(n³)); the pattern-change
//! fraction against t = 0; max_r ‖w_r(t) − w_r(0)‖₂ and ‖W(t) − W(0)‖_F; u(t); and along the
//! trajectory
//! - the bound ratio ‖y − u(t)‖² / (e^{−λ0 t} ‖y − u(0)‖²) of slide Thm 2.1 / Lem 2.4
//!   (paper Thm 3.2 / Lem 3.3), and of Thm 2.6 (paper Thm 3.3) on a both-layer run: the bound holds iff ≤ 1;
//! - max distance / R' with R' = 2√n ‖y − u(0)‖ / (√m λ0) (Lem 2.4 = paper Lem 3.3): ≤ 1 under its premise;
//! - whether the premise λmin(H(s)) ≥ λ0/2 held at every sample so far where λmin was computed;
//! - the gap ‖u(t) − u∞(t)‖ to the infinite-width prediction u∞(t) = y + e^{−K∞ t}(u(0) − y);
//! - the integrator's error estimates (state and u) at that sample.

use faer::{Col, Mat};
use model::{
    Control, InfiniteTrajectory, InfiniteWidth, PatternBits, gram_g, gram_h, lambda_min, neuron_distances,
    pattern_change_fraction,
};

use crate::driver::Snapshot;
use crate::error::{FlowError, Result};
use model::Observer;

/// What the [`Recorder`] computes besides the cheap quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderOptions {
    /// Compute λmin(H(t)) at every this-many-th sample (0: never; 1: every sample). O(n²m + n³) each.
    pub lambda_min_every: usize,
    /// Keep u(t) in every sample (n floats each).
    pub keep_u: bool,
}

impl Default for RecorderOptions {
    /// λmin never (it costs O(n³)), u kept.
    fn default() -> Self {
        RecorderOptions { lambda_min_every: 0, keep_u: true }
    }
}

/// One recorded sample. Plain data; no field is ever NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Time t (GD: t = kη).
    pub t: f64,
    /// RK4 steps (GD iterations) so far.
    pub step: usize,
    /// L = ½‖y − u(t)‖².
    pub loss: f64,
    /// ‖y − u(t)‖².
    pub residual_sq: f64,
    /// λmin(H(t)), H with a_r(t)² weights, when computed at this sample.
    pub lambda_min_h: Option<f64>,
    /// (1/(mn)) Σ_{r,i} 1{s_ir(t) ≠ s_ir(0)}.
    pub pattern_change_fraction: f64,
    /// max_r ‖w_r(t) − w_r(0)‖₂.
    pub max_weight_distance: f64,
    /// ‖W(t) − W(0)‖_F.
    pub weight_distance_frobenius: f64,
    /// u(t) (empty unless [`RecorderOptions::keep_u`]).
    pub u: Vec<f64>,
    /// ‖y − u(t)‖² / (e^{−λ0 t} ‖y − u(0)‖²): ≤ 1 iff the exp(−λ0 t) bound holds (0 if ‖y − u(0)‖ = 0).
    pub bound_ratio: f64,
    /// GD only: ‖y − u(k)‖² / ((1 − ηλ0/2)^k ‖y − u(0)‖²) (slide Thm 3.1 = paper Thm 4.1), when 1 − ηλ0/2 > 0.
    pub discrete_bound_ratio: Option<f64>,
    /// max_r ‖w_r(t) − w_r(0)‖ / R' (0 when both are 0, +∞ when only R' is).
    pub distance_over_r_prime: f64,
    /// Whether λmin(H(s)) ≥ λ0/2 at every sample s ≤ t where λmin was computed (`None`: none yet).
    pub premise_held: Option<bool>,
    /// ‖u(t) − u∞(t)‖₂.
    pub u_infinity_gap: f64,
    /// Integrator's global error estimate of the state at t (flows only).
    pub state_error_estimate: Option<f64>,
    /// Integrator's error estimate of u(t) (embedded and shadow modes; see [`crate::SampleError`]).
    pub u_error_estimate: Option<f64>,
    /// Integrator's error estimate of each neuron, max_r (embedded and shadow modes).
    pub neuron_error_estimate: Option<f64>,
    /// The extras of a both-layer run ([`Recorder::both_layers`]); `None` for the first layer.
    pub second_layer: Option<SecondLayer>,
}

/// What a both-layer sample adds (slide Thm 2.6 = paper Thm 3.3: a moves too, and
/// d/dt ‖y − u‖² = −2 (y − u)ᵀ(H + G)(y − u)). Plain data; no field is ever NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SecondLayer {
    /// λmin(H(t) + G(t)), when λmin is computed at this sample.
    pub lambda_min_h_plus_g: Option<f64>,
    /// ‖a(t) − a(0)‖₂.
    pub a_distance: f64,
    /// max_r |a_r(t) − a_r(0)|.
    pub max_a_distance: f64,
}

/// A recorded trajectory with the constants its ratios use. Plain data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trajectory {
    /// Number of inputs n.
    pub n: usize,
    /// Width m.
    pub m: usize,
    /// λ0 = λmin(H∞).
    pub lambda0: f64,
    /// ‖y − u(0)‖₂.
    pub initial_residual_norm: f64,
    /// R' = 2√n ‖y − u(0)‖ / (√m λ0) (Lem 2.4 = paper Lem 3.3). Lem 2.5 (paper Lem 3.4) closes
    /// the argument for all t when R' < R = √(2π) δ λ0 / (16 n²) (the R of Lem 2.3 = paper Lem 3.2).
    pub r_prime: f64,
    /// First sample time where λmin(H(t)) < λ0/2 was observed.
    pub premise_first_failed_at: Option<f64>,
    /// The samples, in time order.
    pub samples: Vec<Sample>,
}

impl Trajectory {
    /// Samples up to (excluding) the first where the premise λmin(H) ≥ λ0/2 was seen to fail.
    ///
    /// Lem 2.4 (paper Lem 3.3) speaks about exactly this span (as far as the samples can tell).
    pub fn samples_while_premise_held(&self) -> &[Sample] {
        let end = self.samples.iter().position(|s| s.premise_held == Some(false)).unwrap_or(self.samples.len());
        &self.samples[..end]
    }

    /// Max of the bound ratio over all samples (0 for an empty trajectory).
    pub fn max_bound_ratio(&self) -> f64 {
        self.samples.iter().map(|s| s.bound_ratio).fold(0.0, f64::max)
    }

    /// Max of ‖u(t) − u∞(t)‖ over all samples.
    pub fn max_u_infinity_gap(&self) -> f64 {
        self.samples.iter().map(|s| s.u_infinity_gap).fold(0.0, f64::max)
    }
}

struct Start<'r> {
    w0: Mat<f64>,
    a0: Col<f64>,
    patterns0: PatternBits,
    u_infinity: InfiniteTrajectory<'r>,
    residual0_sq: f64,
    premise_so_far: Option<bool>,
}

/// Records a [`Trajectory`]; one recorder per run (a sample with index 0 starts it afresh).
///
/// Borrows the [`InfiniteWidth`] reference (λ0, K∞) computed once per data set.
pub struct Recorder<'r> {
    reference: &'r InfiniteWidth,
    options: RecorderOptions,
    second_layer: bool,
    start: Option<Start<'r>>,
    trajectory: Trajectory,
}

impl<'r> Recorder<'r> {
    /// A recorder using λ0 and K∞ of `reference`.
    pub fn new(reference: &'r InfiniteWidth, options: RecorderOptions) -> Self {
        Recorder { reference, options, second_layer: false, start: None, trajectory: Trajectory::default() }
    }

    /// The recorder of a both-layer run (flow or GD): every sample also carries [`SecondLayer`]
    /// (λmin(H + G) whenever λmin(H) is computed, and ‖a − a(0)‖). H carries a_r(t)², the bound
    /// ratio is Thm 2.6's, and u∞ uses the K∞ of `reference` (H∞ + G∞ from
    /// [`InfiniteWidth::both_layers`]).
    pub fn both_layers(reference: &'r InfiniteWidth, options: RecorderOptions) -> Self {
        Recorder { second_layer: true, ..Self::new(reference, options) }
    }

    /// The samples so far.
    pub fn samples(&self) -> &[Sample] {
        &self.trajectory.samples
    }

    /// The trajectory so far.
    pub fn trajectory(&self) -> &Trajectory {
        &self.trajectory
    }

    /// The recorded trajectory.
    pub fn into_trajectory(self) -> Trajectory {
        self.trajectory
    }

    /// W(0), once the first sample has been seen.
    pub fn initial_weights(&self) -> Option<&Mat<f64>> {
        self.start.as_ref().map(|s| &s.w0)
    }

    /// Records one sample and returns it (for wrappers such as the both-layer recorder).
    pub fn record(&mut self, s: &Snapshot<'_>) -> Result<&Sample> {
        let (n, m) = (s.data.n(), s.w.nrows());
        if self.reference.n() != n {
            return Err(FlowError::Model(model::ModelError::Shape {
                what: "infinite-width reference against the data set".into(),
                expected: format!("{n} inputs"),
                found: format!("{} inputs", self.reference.n()),
            }));
        }
        let lambda0 = self.reference.lambda0();
        let residual_sq = s.residual.squared_norm_l2();
        let patterns = PatternBits::from_preactivations(s.z);
        if s.sample_index == 0 || self.start.is_none() {
            let residual0_norm = residual_sq.sqrt();
            self.trajectory = Trajectory {
                n,
                m,
                lambda0,
                initial_residual_norm: residual0_norm,
                r_prime: 2.0 * (n as f64).sqrt() * residual0_norm / ((m as f64).sqrt() * lambda0),
                premise_first_failed_at: None,
                samples: Vec::new(),
            };
            self.start = Some(Start {
                w0: s.w.to_owned(),
                a0: s.a.to_owned(),
                patterns0: patterns.clone(),
                u_infinity: self.reference.trajectory(s.u, s.data.y())?,
                residual0_sq: residual_sq,
                premise_so_far: None,
            });
        }
        let start = self.start.as_mut().expect("set above");
        if (start.w0.nrows(), start.w0.ncols()) != (s.w.nrows(), s.w.ncols()) {
            return Err(FlowError::Observer { reason: "the weights changed shape during a run".into() });
        }
        let distances = neuron_distances(s.w, start.w0.as_ref());
        let max_weight_distance = distances.iter().copied().fold(0.0, f64::max);
        let weight_distance_frobenius = distances.iter().map(|d| d * d).sum::<f64>().sqrt();
        let lambda_min_h =
            if self.options.lambda_min_every > 0 && s.sample_index.is_multiple_of(self.options.lambda_min_every) {
                Some(lambda_min(gram_h(s.data.input_gram(), s.z, s.a).as_ref())?)
            } else {
                None
            };
        if let Some(l) = lambda_min_h {
            let held = l >= lambda0 / 2.0;
            if !held && self.trajectory.premise_first_failed_at.is_none() {
                self.trajectory.premise_first_failed_at = Some(s.t);
            }
            start.premise_so_far = Some(start.premise_so_far.unwrap_or(true) && held);
        }
        let u_inf = start.u_infinity.flow_at(s.t);
        let u_infinity_gap = (0..n).map(|i| (s.u[i] - u_inf[i]).powi(2)).sum::<f64>().sqrt();
        let discrete_bound_ratio = s.gd_step_size.and_then(|eta| {
            let base = 1.0 - eta * lambda0 / 2.0;
            (base > 0.0).then(|| ratio_to_bound(residual_sq, start.residual0_sq, s.step as f64 * base.ln()))
        });
        let second_layer = if self.second_layer {
            let (mut sq, mut max) = (0.0f64, 0.0f64);
            for r in 0..start.a0.nrows() {
                let d = s.a[r] - start.a0[r];
                sq += d * d;
                max = max.max(d.abs());
            }
            let lambda_min_h_plus_g = match lambda_min_h {
                Some(_) => Some(lambda_min((gram_h(s.data.input_gram(), s.z, s.a) + gram_g(s.z)).as_ref())?),
                None => None,
            };
            Some(SecondLayer { lambda_min_h_plus_g, a_distance: sq.sqrt(), max_a_distance: max })
        } else {
            None
        };
        let sample = Sample {
            t: s.t,
            step: s.step,
            loss: 0.5 * residual_sq,
            residual_sq,
            lambda_min_h,
            pattern_change_fraction: pattern_change_fraction(&patterns, &start.patterns0),
            max_weight_distance,
            weight_distance_frobenius,
            u: if self.options.keep_u { s.u.iter().copied().collect() } else { Vec::new() },
            bound_ratio: ratio_to_bound(residual_sq, start.residual0_sq, -lambda0 * s.t),
            discrete_bound_ratio,
            distance_over_r_prime: safe_ratio(max_weight_distance, self.trajectory.r_prime),
            premise_held: start.premise_so_far,
            u_infinity_gap,
            state_error_estimate: s.error.map(|e| e.state),
            u_error_estimate: s.error.and_then(|e| e.u),
            neuron_error_estimate: s.error.and_then(|e| e.neuron),
            second_layer,
        };
        self.trajectory.samples.push(sample);
        Ok(self.trajectory.samples.last().expect("just pushed"))
    }
}

impl Observer<Snapshot<'_>, FlowError> for Recorder<'_> {
    fn observe(&mut self, snapshot: &Snapshot<'_>) -> Result<Control> {
        self.record(snapshot)?;
        Ok(Control::Continue)
    }
}

/// value / (e^{log_bound} · value0), computed in logs (no overflow of e^{λ0 t}); 0 when value = 0.
pub fn ratio_to_bound(value: f64, value0: f64, log_bound: f64) -> f64 {
    if value == 0.0 {
        0.0
    } else if value0 == 0.0 {
        f64::INFINITY
    } else {
        (value.ln() - value0.ln() - log_bound).exp()
    }
}

/// a / b with 0/0 = 0 and a/0 = +∞ (never NaN for a, b ≥ 0).
pub fn safe_ratio(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else if b == 0.0 {
        f64::INFINITY
    } else {
        a / b
    }
}
