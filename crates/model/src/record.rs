//! The one trajectory recorder of every dynamics: first-layer and both-layer gradient flow,
//! first-layer GD and SGD, both-layer GD.
//!
//! A dynamics shows the recorder what it samples through [`Recordable`]; the [`Recorder`] turns
//! each sample into a [`Sample`] of the quantities the claims and Fig. 1 read:
//! - the loss and ‖y − u(t)‖²; λmin(H(t)) when asked (O(n²m/64 + n³)); the pattern-change
//!   fraction against t = 0; max_r ‖w_r(t) − w_r(0)‖₂ and ‖W(t) − W(0)‖_F; u(t) when asked;
//! - the bound ratio ‖y − u(t)‖² / (e^{−λ0 t} ‖y − u(0)‖²) of slide Thm 2.1 / Lem 2.4 (paper
//!   Thm 3.2 / Lem 3.3), and of Thm 2.6 (paper Thm 3.3) on a both-layer run: the bound holds iff ≤ 1;
//! - for a discrete dynamics with step η, the ratio to (1 − ηλ0/2)^k ‖y − u(0)‖² of slide Thm 3.1
//!   (paper Thm 4.1);
//! - max distance / R′ with R′ = 2√n ‖y − u(0)‖ / (√m λ0) (Lem 2.4 = paper Lem 3.3);
//! - whether the premise λmin(H(s)) ≥ λ0/2 held at every sample so far where λmin was computed;
//! - the gap ‖u(t) − u∞(t)‖ to the infinite-width prediction of [`InfiniteWidth`]: the flow's
//!   y + e^{−K∞ t}(u(0) − y), or for a discrete dynamics the GD iteration's y + (I − ηK∞)^k (u(0) − y);
//! - the integrator's error estimates (flows), and on a both-layer run the [`SecondLayer`] extras.

use faer::{Col, ColRef, Mat, MatRef};

use crate::dynamics::{Control, Observer};
use crate::{
    Dataset, InfiniteTrajectory, InfiniteWidth, ModelError, PatternBits, gram_g, gram_h, lambda_min, neuron_distances,
    pattern_change_fraction,
};

/// The integrator's error estimate at one sample of a flow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleError {
    /// Estimated global error of the state in its norm (see flow's `ErrorEstimate`).
    pub state: f64,
    /// Estimated error of the predictions u(t) (Embedded: the summed ‖u(x) − u(x − δ)‖ of the
    /// steps' embedded errors δ; Shadow: (16/15)‖u(x_h) − u(x_h − (x_h − x_{h/2}))‖); `None` when
    /// the field has no predictions or under LocalSampled.
    pub u: Option<f64>,
    /// Estimated error of every single neuron, max_r of its summed (Embedded) or (16/15)·shadow
    /// (Shadow) error: what guards a per-neuron distance such as max_r ‖w_r(t) − w_r(0)‖.
    pub neuron: Option<f64>,
}

/// How far the first layer has moved from t = 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Movement {
    /// (1/(mn)) Σ_{r,i} 1{s_ir(t) ≠ s_ir(0)}.
    pub pattern_change_fraction: f64,
    /// max_r ‖w_r(t) − w_r(0)‖₂.
    pub max_weight_distance: f64,
    /// ‖W(t) − W(0)‖_F.
    pub weight_distance_frobenius: f64,
}

/// The start of a run, kept by the recorder for a dynamics whose state keeps no memory of it
/// (the flows show (W, a) and Z; gradient descent's state tracks its own distances and patterns).
#[derive(Debug, Clone)]
pub struct Baseline {
    w0: Mat<f64>,
    a0: Col<f64>,
    patterns0: PatternBits,
}

impl Baseline {
    /// W(0), a(0) and the sign pattern of Z(0) = X W(0)ᵀ.
    pub fn new(w: MatRef<'_, f64>, a: ColRef<'_, f64>, z: MatRef<'_, f64>) -> Self {
        Baseline { w0: w.to_owned(), a0: a.to_owned(), patterns0: PatternBits::from_preactivations(z) }
    }

    /// W(0).
    pub fn initial_weights(&self) -> MatRef<'_, f64> {
        self.w0.as_ref()
    }

    /// The movement of (W, Z) from this start; refuses weights of another shape.
    pub fn movement(&self, w: MatRef<'_, f64>, z: MatRef<'_, f64>) -> Result<Movement, ModelError> {
        if (self.w0.nrows(), self.w0.ncols()) != (w.nrows(), w.ncols()) {
            return Err(ModelError::Shape {
                what: "first layer against its value at the start of the run".into(),
                expected: format!("{} × {}", self.w0.nrows(), self.w0.ncols()),
                found: format!("{} × {}", w.nrows(), w.ncols()),
            });
        }
        let distances = neuron_distances(w, self.w0.as_ref());
        Ok(Movement {
            pattern_change_fraction: pattern_change_fraction(&PatternBits::from_preactivations(z), &self.patterns0),
            max_weight_distance: distances.iter().copied().fold(0.0, f64::max),
            weight_distance_frobenius: distances.iter().map(|d| d * d).sum::<f64>().sqrt(),
        })
    }

    /// The second-layer extras of (Z, a) from this start; λmin(H + G) when `lambda_min`.
    pub fn second_layer(
        &self,
        data: &Dataset,
        z: MatRef<'_, f64>,
        a: ColRef<'_, f64>,
        lambda_min_h_plus_g: bool,
    ) -> Result<SecondLayer, ModelError> {
        if a.nrows() != self.a0.nrows() {
            return Err(ModelError::Shape {
                what: "second layer against its value at the start of the run".into(),
                expected: format!("{} entries", self.a0.nrows()),
                found: format!("{} entries", a.nrows()),
            });
        }
        let (mut sq, mut max) = (0.0f64, 0.0f64);
        for r in 0..a.nrows() {
            let d = a[r] - self.a0[r];
            sq += d * d;
            max = max.max(d.abs());
        }
        let lambda_min_h_plus_g = if lambda_min_h_plus_g {
            Some(lambda_min((gram_h(data.input_gram(), z, a) + gram_g(z)).as_ref())?)
        } else {
            None
        };
        Ok(SecondLayer { lambda_min_h_plus_g, a_distance: sq.sqrt(), max_a_distance: max })
    }
}

/// What a sample of a dynamics shows the [`Recorder`]. Flow's and both-layers' `Snapshot` and
/// descent's `View` implement it.
pub trait Recordable {
    /// The error of the dynamics' run (a model error converts into it).
    type Error: From<ModelError>;
    /// The data set.
    fn data(&self) -> &Dataset;
    /// Time t (gradient descent: t = kη).
    fn t(&self) -> f64;
    /// RK4 steps so far (gradient descent: the iteration k).
    fn step(&self) -> usize;
    /// Index of this sample in its run; a sample with index 0 starts the recorder afresh.
    fn sample_index(&self) -> usize;
    /// Predictions u(t).
    fn u(&self) -> ColRef<'_, f64>;
    /// ‖y − u(t)‖².
    fn residual_sq(&self) -> f64;
    /// Width m.
    fn width(&self) -> usize;
    /// `Some(η)` for a discrete dynamics with step η (then t = kη and u∞ is the GD prediction).
    fn eta(&self) -> Option<f64> {
        None
    }
    /// The integrator's error estimate (flows).
    fn error(&self) -> Option<SampleError> {
        None
    }
    /// u(0) of the run `step` counts from, when the state knows it (a run continued from a later
    /// iterate); `None`: the first sample's u.
    fn initial_u(&self) -> Option<ColRef<'_, f64>> {
        None
    }
    /// The start the recorder keeps for [`Recordable::movement`], taken at the first sample;
    /// `None` when the state measures its own movement.
    fn baseline(&self) -> Option<Baseline>;
    /// Pattern changes and distances since t = 0 (`baseline`: what [`Recordable::baseline`] gave
    /// at the first sample).
    fn movement(&self, baseline: Option<&Baseline>) -> Result<Movement, Self::Error>;
    /// λmin(H(t)), H with a_r(t)² weights.
    fn lambda_min_h(&self) -> Result<f64, Self::Error>;
    /// The both-layer extras; `None` for a dynamics whose second layer is fixed.
    fn second_layer(
        &self,
        _baseline: Option<&Baseline>,
        _lambda_min: bool,
    ) -> Result<Option<SecondLayer>, Self::Error> {
        Ok(None)
    }
}

/// What the [`Recorder`] computes besides the cheap quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderOptions {
    /// Compute λmin(H(t)) at every this-many-th sample (0: never; 1: every sample). O(n²m/64 + n³) each.
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
    /// ‖y − u(t)‖², the left-hand side of slide Thm 2.1 and Thm 3.1 (paper Thm 3.2 and Thm 4.1).
    pub residual_sq: f64,
    /// λmin(H(t)), H with a_r(t)² weights, when computed at this sample.
    pub lambda_min_h: Option<f64>,
    /// (1/(mn)) Σ_{r,i} 1{s_ir(t) ≠ s_ir(0)} (Fig. 1(b)).
    pub pattern_change_fraction: f64,
    /// max_r ‖w_r(t) − w_r(0)‖₂ (Fig. 1(c)).
    pub max_weight_distance: f64,
    /// ‖W(t) − W(0)‖_F.
    pub weight_distance_frobenius: f64,
    /// u(t) (empty unless [`RecorderOptions::keep_u`]).
    pub u: Vec<f64>,
    /// ‖y − u(t)‖² / (e^{−λ0 t} ‖y − u(0)‖²): ≤ 1 iff the exp(−λ0 t) bound holds (0 if ‖y − u(0)‖ = 0).
    pub bound_ratio: f64,
    /// Discrete dynamics only: ‖y − u(k)‖² / ((1 − ηλ0/2)^k ‖y − u(0)‖²) (slide Thm 3.1 = paper
    /// Thm 4.1), when 1 − ηλ0/2 > 0.
    pub discrete_bound_ratio: Option<f64>,
    /// max_r ‖w_r(t) − w_r(0)‖ / R' (0 when both are 0, +∞ when only R' is).
    pub distance_over_r_prime: f64,
    /// Whether λmin(H(s)) ≥ λ0/2 at every sample s ≤ t where λmin was computed (`None`: none yet).
    pub premise_held: Option<bool>,
    /// ‖u(t) − u∞(t)‖₂ (for a discrete dynamics u∞(k) = y + (I − ηK∞)^k (u(0) − y)).
    pub u_infinity_gap: f64,
    /// Integrator's global error estimate of the state at t (flows only).
    pub state_error_estimate: Option<f64>,
    /// Integrator's error estimate of u(t) (embedded and shadow modes; see [`SampleError`]).
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
    /// λ0 = λmin(K∞) of the reference (λmin(H∞) for the first layer).
    pub lambda0: f64,
    /// The step η of a discrete dynamics (`None` for a flow).
    pub eta: Option<f64>,
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

    /// Max of the discrete (Thm 3.1) bound ratio over the samples (`None` if never recorded).
    pub fn max_discrete_bound_ratio(&self) -> Option<f64> {
        self.samples.iter().filter_map(|s| s.discrete_bound_ratio).reduce(f64::max)
    }

    /// Max of ‖u(t) − u∞(t)‖ over all samples.
    pub fn max_u_infinity_gap(&self) -> f64 {
        self.samples.iter().map(|s| s.u_infinity_gap).fold(0.0, f64::max)
    }
}

struct Start<'r> {
    baseline: Option<Baseline>,
    u_infinity: InfiniteTrajectory<'r>,
    residual0_sq: f64,
    premise_so_far: Option<bool>,
}

/// Records a [`Trajectory`] of any dynamics; one recorder per run (a sample with index 0 starts
/// it afresh).
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

    /// W(0), once the first sample of a dynamics that keeps no memory of it has been seen.
    pub fn initial_weights(&self) -> Option<MatRef<'_, f64>> {
        self.start.as_ref().and_then(|s| s.baseline.as_ref()).map(Baseline::initial_weights)
    }

    /// Records one sample and returns it.
    pub fn record<V: Recordable + ?Sized>(&mut self, v: &V) -> Result<&Sample, V::Error> {
        let data = v.data();
        let (n, m) = (data.n(), v.width());
        if self.reference.n() != n {
            return Err(ModelError::Shape {
                what: "infinite-width reference against the data set".into(),
                expected: format!("{n} inputs"),
                found: format!("{} inputs", self.reference.n()),
            }
            .into());
        }
        let lambda0 = self.reference.lambda0();
        let residual_sq = v.residual_sq();
        if v.sample_index() == 0 || self.start.is_none() {
            let (u0, residual0_sq) = match v.initial_u() {
                Some(u0) => {
                    let r0: Col<f64> = Col::from_fn(n, |i| u0[i] - data.y()[i]);
                    (u0, r0.squared_norm_l2())
                }
                None => (v.u(), residual_sq),
            };
            let residual0_norm = residual0_sq.sqrt();
            self.trajectory = Trajectory {
                n,
                m,
                lambda0,
                eta: v.eta(),
                initial_residual_norm: residual0_norm,
                r_prime: 2.0 * (n as f64).sqrt() * residual0_norm / ((m as f64).sqrt() * lambda0),
                premise_first_failed_at: None,
                samples: Vec::new(),
            };
            self.start = Some(Start {
                baseline: v.baseline(),
                u_infinity: self.reference.trajectory(u0, data.y())?,
                residual0_sq,
                premise_so_far: None,
            });
        }
        // The branch above sets start whenever it is None.
        let start = self.start.as_mut().expect("set above");
        let movement = v.movement(start.baseline.as_ref())?;
        let lambda_min_here =
            self.options.lambda_min_every > 0 && v.sample_index().is_multiple_of(self.options.lambda_min_every);
        let lambda_min_h = if lambda_min_here { Some(v.lambda_min_h()?) } else { None };
        if let Some(l) = lambda_min_h {
            let held = l >= lambda0 / 2.0;
            if !held && self.trajectory.premise_first_failed_at.is_none() {
                self.trajectory.premise_first_failed_at = Some(v.t());
            }
            start.premise_so_far = Some(start.premise_so_far.unwrap_or(true) && held);
        }
        let u = v.u();
        let u_inf = match v.eta() {
            Some(eta) => start.u_infinity.gd_at(eta, v.step()),
            None => start.u_infinity.flow_at(v.t()),
        };
        let u_infinity_gap = (0..n).map(|i| (u[i] - u_inf[i]).powi(2)).sum::<f64>().sqrt();
        let discrete_bound_ratio =
            v.eta().and_then(|eta| discrete_bound_ratio(residual_sq, start.residual0_sq, eta, lambda0, v.step()));
        let second_layer =
            if self.second_layer { v.second_layer(start.baseline.as_ref(), lambda_min_h.is_some())? } else { None };
        let error = v.error();
        let sample = Sample {
            t: v.t(),
            step: v.step(),
            loss: 0.5 * residual_sq,
            residual_sq,
            lambda_min_h,
            pattern_change_fraction: movement.pattern_change_fraction,
            max_weight_distance: movement.max_weight_distance,
            weight_distance_frobenius: movement.weight_distance_frobenius,
            u: if self.options.keep_u { u.iter().copied().collect() } else { Vec::new() },
            bound_ratio: ratio_to_bound(residual_sq, start.residual0_sq, -lambda0 * v.t()),
            discrete_bound_ratio,
            distance_over_r_prime: safe_ratio(movement.max_weight_distance, self.trajectory.r_prime),
            premise_held: start.premise_so_far,
            u_infinity_gap,
            state_error_estimate: error.map(|e| e.state),
            u_error_estimate: error.and_then(|e| e.u),
            neuron_error_estimate: error.and_then(|e| e.neuron),
            second_layer,
        };
        self.trajectory.samples.push(sample);
        // A sample was pushed just above.
        Ok(self.trajectory.samples.last().expect("just pushed"))
    }
}

impl<V: Recordable + ?Sized> Observer<V, V::Error> for Recorder<'_> {
    fn observe(&mut self, sample: &V) -> Result<Control, V::Error> {
        self.record(sample)?;
        Ok(Control::Continue)
    }
}

/// Shows an observer every `every`-th sample only (sample index 0, s, 2s, …): the one stated rule
/// by which a record keeps fewer samples than its dynamics produces (the SGD comparison records
/// once per epoch while its loss trace sees every iteration).
#[derive(Debug, Clone)]
pub struct Every<O> {
    /// The stride s ≥ 1 (0 counts as 1).
    pub every: usize,
    /// The observer shown those samples.
    pub inner: O,
}

impl<V: Recordable + ?Sized, O: Observer<V, V::Error>> Observer<V, V::Error> for Every<O> {
    fn observe(&mut self, sample: &V) -> Result<Control, V::Error> {
        if sample.sample_index().is_multiple_of(self.every.max(1)) {
            self.inner.observe(sample)
        } else {
            Ok(Control::Continue)
        }
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

/// ‖y − u(k)‖² / ((1 − ηλ0/2)^k ‖y − u(0)‖²), the ratio to the bound of slide Thm 3.1 (paper
/// Thm 4.1), in logs; `None` when 1 − ηλ0/2 ≤ 0 (no bound to compare with).
pub fn discrete_bound_ratio(residual_sq: f64, residual0_sq: f64, eta: f64, lambda0: f64, k: usize) -> Option<f64> {
    let base = 1.0 - eta * lambda0 / 2.0;
    (base > 0.0).then(|| ratio_to_bound(residual_sq, residual0_sq, k as f64 * base.ln()))
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
