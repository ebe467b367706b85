//! Generic fixed-step classical RK4 on a fixed grid, error estimates, step selection and the sampling loop.
//!
//! The pieces follow the argmin split: a *problem* is a [`VectorField`] dx/dt = F(t, x) on a state
//! that implements [`OdeState`]; the *step* is [`Rk4`] (a field may fuse it, see
//! [`VectorField::rk4_step`]); [`integrate`] is the *driver* loop that owns the grid, the samples,
//! divergence detection and the error estimate, and hands every sample to a callback (the
//! concrete drivers turn that into observer calls).
//!
//! ## The grid
//!
//! The integration grid is fixed by h alone: t_k = k·h for k < N = ⌈T/h⌉ and t_N = T (the last
//! step is T − (N − 1)h ≤ h; an h longer than T is refused). A sample time between two grid
//! points t_k < s < t_{k+1} is produced by a separate RK4 step of length s − t_k from the grid
//! state x_k that never feeds back: the grid states, hence every later step, are the same bits
//! whatever the sample times (docs/theory.md §3.3).
//!
//! ## Error estimates
//!
//! Three modes ([`ErrorEstimate`]); in every mode the reported trajectory is the plain h
//! trajectory, bit for bit: the estimate never changes the result.
//! - [`ErrorEstimate::Embedded`] (default, ≈ 1× cost). Classical RK4 with the first stage of the
//!   next step (FSAL, k5 = F(t + h, x_{k+1}), which the next step needs anyway) has an embedded
//!   third-order solution x̂ = x + h(k1/6 + k2/3 + k3/3 + k5/6), so that
//!   x_{k+1} − x̂_{k+1} = (h/6)(k4 − k5) estimates the local error of a third-order step, an
//!   over-estimate of RK4's own local error wherever the field is smooth. The estimates of the
//!   state, of every neuron and of u are summed over the steps (a global estimate when errors do
//!   not grow: the first-layer flow is non-expansive in W wherever no pattern flips, its loss
//!   being a convex quadratic of W there). Not conservative where patterns flip (a kink crossed
//!   by the middle stages is invisible to k4 − k5): measured against h/8 runs in
//!   `tests/error_estimates.rs` and docs/theory.md §3.3; the claims keep step doubling.
//! - [`ErrorEstimate::Shadow`] (step doubling, 3× cost): a shadow trajectory with step h/2 runs in
//!   lockstep; the global error estimate (16/15)‖x_h(t) − x_{h/2}(t)‖ is available at every step
//!   and sample (Richardson: one RK4 step of h has local error ≈ C h⁵, two of h/2 ≈ C h⁵/16).
//! - [`ErrorEstimate::LocalSampled`]: every k-th step is step-doubled; the local error per unit
//!   time (16/15)‖diff‖/h is tracked, and every step is charged the rate of the last checked step.
//!
//! The vector fields of this project are only piecewise smooth: the ReLU pattern 1{w_rᵀx_i ≥ 0}
//! switches, and the flow can even slide along a kink z_ir = 0 (RK4 then chatters across it).
//! Once patterns flip, the observed convergence order of the h trajectory drops to about 1, and
//! for order p the Richardson factor is 2^p/(2^p − 1): 16/15 for p = 4, 2 for p = 1. The shadow
//! numbers use 16/15; multiply by [`ANY_ORDER_FACTOR`] = 15/8 for an estimate valid for any order
//! p ≥ 1. [`ErrorEstimate::band_factor`] gives the factor a claim applies for each mode.

use crate::error::{Result, invalid};

/// A state of an ODE: a vector space element with a norm (for error estimates).
///
/// Implemented for `faer::Col<f64>`, `faer::Mat<f64>`, `model::Network` (the pair (W, a)) and
/// [`crate::KernelState`] (the pair (Z, C) of the kernel-space flow).
pub trait OdeState: Clone {
    /// `self ← self + alpha · x` (same shape).
    fn axpy(&mut self, alpha: f64, x: &Self);
    /// `self ← alpha · self`.
    fn scale(&mut self, alpha: f64);
    /// A norm (Euclidean / Frobenius for the provided impls).
    fn norm(&self) -> f64;
    /// True when every entry is finite.
    fn is_finite(&self) -> bool;
    /// ‖self − other‖.
    fn distance(&self, other: &Self) -> f64 {
        let mut d = self.clone();
        d.axpy(-1.0, other);
        d.norm()
    }
}

/// F(t, x) and, as a by-product, the loss at x (used by the driver to detect divergence).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<S> {
    /// dx/dt at (t, x).
    pub derivative: S,
    /// The objective at x (the loss L for gradient flows; 0 when there is none).
    pub loss: f64,
}

/// An error of the state split the way the claims need it: the whole state, every neuron, u.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorParts {
    /// The norm of the error of the state.
    pub state: f64,
    /// The norm of the error of each neuron's weights (first layer: ‖δw_r‖), when the state has neurons.
    pub neurons: Option<Vec<f64>>,
    /// ‖u(x) − u(x − δ)‖ for the error δ, when the state has predictions.
    pub u: Option<f64>,
}

/// A problem dx/dt = F(t, x).
pub trait VectorField {
    /// The state x.
    type State: OdeState;
    /// F(t, x), with the loss at x.
    fn evaluate(&self, t: f64, x: &Self::State) -> Result<Evaluation<Self::State>>;

    /// One classical RK4 step of length `h` from `x` at `t`, given k1 = F(t, x); returns x(t + h)
    /// and the last stage k4 = F(t + h, x + h k3) (for the embedded estimate). Three evaluations.
    /// A field may fuse the stages (the kernel-space flow does); the default composes `evaluate`.
    fn rk4_step(&self, t: f64, x: &Self::State, k1: &Self::State, h: f64) -> Result<(Self::State, Self::State)> {
        Rk4::step_with_last_stage(self, t, x, k1, h)
    }

    /// The parts of an error `delta` of the state `x` (default: the state norm only).
    fn error_parts(&self, _x: &Self::State, delta: &Self::State) -> Result<ErrorParts> {
        Ok(ErrorParts { state: delta.norm(), neurons: None, u: None })
    }

    /// Takes back a state the driver no longer needs (a field may reuse its buffers; default: drop it).
    fn recycle(&self, _state: Self::State) {}

    /// A copy of `x` (a field may fill a reused buffer instead of allocating; default: `clone`).
    /// The driver hands every copy back through [`VectorField::recycle`].
    fn duplicate(&self, x: &Self::State) -> Self::State {
        x.clone()
    }
}

/// Classical fourth-order Runge–Kutta:
/// k1 = F(t, x), k2 = F(t + h/2, x + h/2 k1), k3 = F(t + h/2, x + h/2 k2), k4 = F(t + h, x + h k3),
/// x(t + h) ≈ x + h/6 (k1 + 2 k2 + 2 k3 + k4).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rk4;

/// One step-doubled RK4 step (see the module docs).
#[derive(Debug, Clone)]
pub struct StepDoubling<S> {
    /// One step of length h (the result the trajectory keeps).
    pub full: S,
    /// Two steps of length h/2.
    pub halves: S,
    /// Estimated local error of `full`: (16/15)‖full − halves‖.
    pub local_error: f64,
}

impl Rk4 {
    /// One RK4 step of length `h` from `x` at time `t`, given k1 = F(t, x), with its last stage k4.
    ///
    /// The sum x + h/6 k1 + h/3 k2 + h/3 k3 + h/6 k4 is accumulated in that order as each stage
    /// arrives, so at most one stage derivative is alive besides k1 (peak ≈ 5 copies of the state).
    pub fn step_with_last_stage<F: VectorField + ?Sized>(
        field: &F,
        t: f64,
        x: &F::State,
        k1: &F::State,
        h: f64,
    ) -> Result<(F::State, F::State)> {
        // Copies come from the field and every stage goes back to it (a field with a pool allocates nothing).
        let mut out = field.duplicate(x);
        out.axpy(h / 6.0, k1);
        let mut stage = field.duplicate(x);
        stage.axpy(0.5 * h, k1);
        let k2 = field.evaluate(t + 0.5 * h, &stage)?.derivative;
        out.axpy(h / 3.0, &k2);
        field.recycle(stage);
        let mut stage = field.duplicate(x);
        stage.axpy(0.5 * h, &k2);
        field.recycle(k2);
        let k3 = field.evaluate(t + 0.5 * h, &stage)?.derivative;
        out.axpy(h / 3.0, &k3);
        field.recycle(stage);
        let mut stage = field.duplicate(x);
        stage.axpy(h, &k3);
        field.recycle(k3);
        let k4 = field.evaluate(t + h, &stage)?.derivative;
        field.recycle(stage);
        out.axpy(h / 6.0, &k4);
        Ok((out, k4))
    }

    /// One RK4 step of length `h` from `x` at time `t`, given k1 = F(t, x). Three evaluations.
    pub fn step_from<F: VectorField + ?Sized>(
        field: &F,
        t: f64,
        x: &F::State,
        k1: &F::State,
        h: f64,
    ) -> Result<F::State> {
        Ok(field.rk4_step(t, x, k1, h)?.0)
    }

    /// One RK4 step of length `h`; returns the new state and the loss at `x`. Four evaluations.
    pub fn step<F: VectorField + ?Sized>(field: &F, t: f64, x: &F::State, h: f64) -> Result<(F::State, f64)> {
        let e = field.evaluate(t, x)?;
        Ok((Self::step_from(field, t, x, &e.derivative, h)?, e.loss))
    }

    /// One h step and two h/2 steps from `x`, sharing k1 = F(t, x). Ten evaluations besides k1.
    pub fn step_doubling_from<F: VectorField + ?Sized>(
        field: &F,
        t: f64,
        x: &F::State,
        k1: &F::State,
        h: f64,
    ) -> Result<StepDoubling<F::State>> {
        let full = Self::step_from(field, t, x, k1, h)?;
        let halves = Self::halves_from(field, t, x, k1, h)?;
        let local_error = local_error_of(field, &full, &halves);
        Ok(StepDoubling { full, halves, local_error })
    }

    /// Two RK4 steps of length h/2 from `x`, given k1 = F(t, x). Seven evaluations.
    pub fn halves_from<F: VectorField + ?Sized>(
        field: &F,
        t: f64,
        x: &F::State,
        k1: &F::State,
        h: f64,
    ) -> Result<F::State> {
        // Every intermediate goes back to the field, so a field with a buffer pool allocates nothing here.
        let (mid, k4) = field.rk4_step(t, x, k1, 0.5 * h)?;
        field.recycle(k4);
        let k1_mid = field.evaluate(t + 0.5 * h, &mid)?.derivative;
        let (end, k4) = field.rk4_step(t + 0.5 * h, &mid, &k1_mid, 0.5 * h)?;
        field.recycle(k4);
        field.recycle(k1_mid);
        field.recycle(mid);
        Ok(end)
    }
}

/// Multiply a reported (16/15)·diff estimate by this for the order-1 factor 2·diff, which bounds the
/// Richardson factor 2^p/(2^p − 1) for every convergence order p ≥ 1 (see the module docs).
pub const ANY_ORDER_FACTOR: f64 = 15.0 / 8.0;

/// The safety factor on the summed embedded estimate ([`ErrorEstimate::Embedded`]) when it is
/// quoted as a band. The estimate is not provably conservative where patterns flip: ×2 covers
/// every sample of the moderate flip case of `tests/error_estimates.rs` (m = 400), not all of the
/// harsh one (m = 60), which is why claims use step doubling instead (docs/theory.md §3.3).
pub const EMBEDDED_SAFETY: f64 = 2.0;

/// (16/15)‖a − b‖, or +∞ when either side is not finite (never NaN). The difference is formed in
/// a copy from the field, as [`OdeState::distance`] does, and handed back.
fn local_error_of<F: VectorField + ?Sized>(field: &F, a: &F::State, b: &F::State) -> f64 {
    if !a.is_finite() || !b.is_finite() {
        return f64::INFINITY;
    }
    let mut d = field.duplicate(a);
    d.axpy(-1.0, b);
    let distance = d.norm();
    field.recycle(d);
    finite_or_inf(16.0 / 15.0 * distance)
}

fn finite_or_inf(v: f64) -> f64 {
    if v.is_finite() { v } else { f64::INFINITY }
}

/// How the integration error is estimated (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorEstimate {
    /// The embedded third-order solution of each RK4 step (FSAL), summed over the steps: ≈ 1× cost.
    #[default]
    Embedded,
    /// A shadow trajectory with step h/2: global error (16/15)‖x_h(t) − x_{h/2}(t)‖ at every step. 3× cost.
    Shadow,
    /// Step doubling on every `every`-th step (every ≥ 1): local error per unit time, accumulated.
    LocalSampled {
        /// Check one step in this many (1: every step).
        every: usize,
    },
}

impl ErrorEstimate {
    /// The factor a claim multiplies this mode's estimates by before they guard a value:
    /// [`EMBEDDED_SAFETY`] for the embedded estimate, [`ANY_ORDER_FACTOR`] for the Richardson ones.
    pub fn band_factor(&self) -> f64 {
        match self {
            ErrorEstimate::Embedded => EMBEDDED_SAFETY,
            ErrorEstimate::Shadow | ErrorEstimate::LocalSampled { .. } => ANY_ORDER_FACTOR,
        }
    }
}

/// The integration error of one run, in the norm of the state (Frobenius of W, or of (W, a)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorReport {
    /// How it was estimated.
    pub method: ErrorEstimate,
    /// Estimated global error of the state at the end of the run.
    pub final_state_error: f64,
    /// Max over step ends of the estimated global error (Shadow), or the accumulated sum
    /// (Embedded, LocalSampled; then equal to `final_state_error`).
    pub max_state_error: f64,
    /// LocalSampled: max over checked steps of (16/15)‖diff‖/h. `None` otherwise.
    pub max_local_error_per_unit_time: Option<f64>,
    /// Number of steps whose error was measured (all steps for Embedded and Shadow).
    pub checked_steps: usize,
}

/// The integrator's error estimate at one sample (the recorder's type, defined in `model`).
pub use model::SampleError;

use model::{Control, Status};

/// Largest number of RK4 steps a schedule may ask for (T/h plus one per sample interval).
pub const MAX_STEPS: f64 = 1e9;

/// A sample time within this fraction of h of a grid point is taken at the grid point (sample
/// times such as T·k/K and grid points k′·h that agree up to rounding); the grid is `model::grid`'s.
pub use model::grid::GRID_SNAP;

/// Everything [`integrate`] needs besides the problem: step, sample times, estimate, divergence
/// rule. (When a descent recorder records is `descent::Schedule`; this is the plan of a whole run.)
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The step h (> 0, at most T when T > 0). The grid is t_k = k·h, k < ⌈T/h⌉, and T; sample
    /// times between grid points never change it (see the module docs).
    pub h: f64,
    /// Sample times, strictly increasing, starting at 0; the last is the end time T.
    pub sample_times: Vec<f64>,
    /// Error estimate mode.
    pub error_estimate: ErrorEstimate,
    /// Divergence when the loss exceeds this × the initial loss (> 1), or is not finite.
    pub divergence_factor: f64,
}

impl Plan {
    /// Checks h, the sample times, the estimate mode and the divergence factor.
    pub fn validate(&self) -> Result<()> {
        if !(self.h.is_finite() && self.h > 0.0) {
            return Err(invalid("h", self.h, "the step must be finite and positive"));
        }
        let times = &self.sample_times;
        if times.first() != Some(&0.0) {
            return Err(invalid("sample_times", format!("{times:?}"), "must start at t = 0"));
        }
        for pair in times.windows(2) {
            if !(pair[1].is_finite() && pair[1] > pair[0]) {
                return Err(invalid("sample_times", format!("{times:?}"), "must be finite and strictly increasing"));
            }
        }
        check_step_fits(self.h, self.t_end())?;
        if let ErrorEstimate::LocalSampled { every: 0 } = self.error_estimate {
            return Err(invalid("error_estimate.every", 0, "check at least one step in every (every ≥ 1)"));
        }
        if !(self.divergence_factor.is_finite() && self.divergence_factor > 1.0) {
            return Err(invalid("divergence_factor", self.divergence_factor, "must be finite and > 1"));
        }
        let steps = self.t_end() / self.h + (self.sample_times.len() as f64);
        if steps > MAX_STEPS {
            return Err(invalid("h", self.h, format!("T/h ≈ {steps:.3e} steps exceeds the limit {MAX_STEPS:e}")));
        }
        Ok(())
    }

    /// End time T (the last sample time).
    pub fn t_end(&self) -> f64 {
        *self.sample_times.last().unwrap_or(&0.0)
    }

    /// Number of grid steps N = ⌈T/h⌉ (0 when T = 0).
    pub fn grid_steps(&self) -> usize {
        if self.t_end() > 0.0 { steps_for(self.t_end(), self.h) } else { 0 }
    }

    /// Grid point t_k: k·h for k < N, T for k = N.
    pub fn grid_time(&self, k: usize) -> f64 {
        if k >= self.grid_steps() { self.t_end() } else { k as f64 * self.h }
    }

    /// The length of the last grid step, T − (N − 1)h (h when h divides T up to rounding).
    pub fn last_step(&self) -> f64 {
        let n = self.grid_steps();
        if n == 0 { 0.0 } else { self.t_end() - self.grid_time(n - 1) }
    }
}

/// Refuses an h longer than a positive horizon T (it would be silently shortened to T).
pub fn check_step_fits(h: f64, t_end: f64) -> Result<()> {
    if t_end > 0.0 && h > t_end * (1.0 + 1e-12) {
        return Err(invalid(
            "h",
            h,
            format!(
                "the RK4 step is longer than the horizon T = {t_end}; the step is used as given, never shortened: lower it"
            ),
        ));
    }
    Ok(())
}

/// Number of equal steps of length ≤ h covering an interval of length `delta` > 0.
pub use model::grid::steps_for;

/// What the driver hands to the sample callback.
#[derive(Debug)]
pub struct SampleEvent<'a, S> {
    /// Sample time (exactly one of [`Plan::sample_times`]).
    pub t: f64,
    /// Index of this sample (0 at t = 0).
    pub index: usize,
    /// Grid steps taken so far (a sample between grid points counts the steps to the grid point before it).
    pub step: usize,
    /// The state at t.
    pub state: &'a S,
    /// The error estimate at t.
    pub error: SampleError,
}

/// Result of [`integrate`]: the last finite state and how the run went.
#[derive(Debug, Clone)]
pub struct Integration<S> {
    /// How the run ended.
    pub status: Status,
    /// Time of `state`.
    pub t: f64,
    /// Final (last finite) state.
    pub state: S,
    /// Grid steps taken.
    pub steps: usize,
    /// Vector-field evaluations, error estimation and off-grid samples included.
    pub evaluations: usize,
    /// Integration error estimate.
    pub error: ErrorReport,
}

/// The running error estimate of [`integrate`] (and of the lazy kernel run, `crate::driver`).
#[derive(Clone)]
pub(crate) struct Tracker {
    method: ErrorEstimate,
    /// Embedded: summed parts; Shadow: the parts at the last grid point; LocalSampled: the charge.
    parts: ErrorParts,
    max: f64,
    last_rate: f64,
    max_rate: Option<f64>,
    checked: usize,
    /// Grid steps accepted (LocalSampled checks every `every`-th).
    steps: usize,
}

impl Tracker {
    /// A tracker for `method` with no error yet (the parts of t = 0 are set by the caller).
    pub(crate) fn new(method: ErrorEstimate) -> Self {
        Tracker {
            method,
            parts: ErrorParts::default(),
            max: 0.0,
            last_rate: 0.0,
            max_rate: match method {
                ErrorEstimate::LocalSampled { .. } => Some(0.0),
                _ => None,
            },
            checked: 0,
            steps: 0,
        }
    }

    /// The summed parts so far.
    pub(crate) fn parts(&self) -> &ErrorParts {
        &self.parts
    }

    /// Starts from these (zero) parts.
    pub(crate) fn set_parts(&mut self, parts: ErrorParts) {
        self.parts = parts;
    }

    /// Adds one step's embedded error.
    pub(crate) fn add_step(&mut self, p: &ErrorParts) {
        self.add(p);
        self.checked += 1;
        self.steps += 1;
    }

    pub(crate) fn report(&self) -> ErrorReport {
        ErrorReport {
            method: self.method,
            final_state_error: self.parts.state,
            max_state_error: self.max,
            max_local_error_per_unit_time: self.max_rate,
            checked_steps: self.checked,
        }
    }

    fn add(&mut self, p: &ErrorParts) {
        self.parts = sum_parts(&self.parts, p);
        self.max = self.max.max(self.parts.state);
    }
}

pub(crate) fn sum_parts(a: &ErrorParts, b: &ErrorParts) -> ErrorParts {
    let neurons = match (&a.neurons, &b.neurons) {
        (Some(x), Some(y)) => Some(x.iter().zip(y).map(|(p, q)| finite_or_inf(p + q)).collect()),
        (None, Some(y)) => Some(y.clone()),
        (x, None) => x.clone(),
    };
    let u = match (a.u, b.u) {
        (Some(x), Some(y)) => Some(finite_or_inf(x + y)),
        (None, y) => y,
        (x, None) => x,
    };
    ErrorParts { state: finite_or_inf(a.state + b.state), neurons, u }
}

fn scaled_parts(p: ErrorParts, factor: f64) -> ErrorParts {
    ErrorParts {
        state: finite_or_inf(factor * p.state),
        neurons: p.neurons.map(|v| v.into_iter().map(|e| finite_or_inf(factor * e)).collect()),
        u: p.u.map(|e| finite_or_inf(factor * e)),
    }
}

pub(crate) fn sample_error(p: &ErrorParts) -> SampleError {
    SampleError {
        state: finite_or_inf(p.state),
        u: p.u.map(finite_or_inf),
        neuron: p
            .neurons
            .as_ref()
            .map(|v| v.iter().fold(0.0f64, |acc, &e| if e.is_nan() { f64::INFINITY } else { acc.max(e) })),
    }
}

/// The embedded error (h/6)(k4 − k5) of a step of length h, split into parts. Consumes k4 (the
/// difference is formed in it) and hands it back to the field.
fn embedded_parts<F: VectorField>(
    field: &F,
    x_next: &F::State,
    k4: F::State,
    k5: &F::State,
    h: f64,
) -> Result<ErrorParts> {
    let mut delta = k4;
    delta.axpy(-1.0, k5);
    delta.scale(h / 6.0);
    let parts = if delta.is_finite() {
        field.error_parts(x_next, &delta)
    } else {
        Ok(ErrorParts { state: f64::INFINITY, neurons: None, u: Some(f64::INFINITY) })
    };
    field.recycle(delta);
    parts
}

/// One grid step of [`integrate`] under [`ErrorEstimate::Embedded`], without its checks: the RK4
/// stages from (t, x) given k1 = F(t, x), F at the new point (the next step's k1, whose loss the
/// divergence rule reads) and the parts of the embedded error (h/6)(k4 − k5). Four evaluations.
/// For the benches and the NumPy comparison, which time exactly this work.
pub fn embedded_step<F: VectorField>(
    field: &F,
    t: f64,
    x: &F::State,
    k1: &F::State,
    h: f64,
) -> Result<(F::State, Evaluation<F::State>, ErrorParts)> {
    let (next, k4) = field.rk4_step(t, x, k1, h)?;
    let k5 = field.evaluate(t + h, &next)?;
    let parts = embedded_parts(field, &next, k4, &k5.derivative, h)?;
    Ok((next, k5, parts))
}

/// The shadow error (16/15)(x − shadow) split into parts.
fn shadow_parts<F: VectorField>(field: &F, x: &F::State, shadow: &F::State) -> Result<ErrorParts> {
    if !shadow.is_finite() {
        return Ok(ErrorParts { state: f64::INFINITY, neurons: None, u: Some(f64::INFINITY) });
    }
    let mut delta = field.duplicate(x);
    delta.axpy(-1.0, shadow);
    let parts = field.error_parts(x, &delta);
    field.recycle(delta);
    Ok(scaled_parts(parts?, 16.0 / 15.0))
}

/// Two RK4 steps of length h/2 from the shadow state `sh` at `t`, with its own k1 = F(t, sh),
/// handed back to the field. Eight evaluations.
fn shadow_halves<F: VectorField>(field: &F, t: f64, sh: &F::State, h: f64) -> Result<F::State> {
    let e = field.evaluate(t, sh)?;
    let end = Rk4::halves_from(field, t, sh, &e.derivative, h)?;
    field.recycle(e.derivative);
    Ok(end)
}

/// The RK4 stepper of [`integrate`] on any [`VectorField`]: it keeps k1 = F(t, x) of the grid
/// state (FSAL: the next step's first stage is the last step's k5), the error estimate of the
/// chosen mode, and what a refused step needs to be undone. The executor is `model::execute`.
pub struct Rk4Stepper<'f, F: VectorField> {
    field: &'f F,
    method: ErrorEstimate,
    /// F at the grid state (its loss is the state's loss).
    k1: Option<Evaluation<F::State>>,
    shadow: Option<F::State>,
    tracker: Tracker,
    /// The error estimate of the state last made (grid or between): what its sample shows.
    shown: SampleError,
    /// Vector-field evaluations so far.
    evaluations: usize,
    /// State, k1, shadow and tracker before the last step, for [`model::Stepper::reject`].
    undo: Option<Undo<F::State>>,
}

struct Undo<S> {
    state: S,
    k1: Evaluation<S>,
    shadow: Option<S>,
    tracker: Tracker,
}

impl<'f, F: VectorField> Rk4Stepper<'f, F> {
    /// A stepper for `field` with the error estimate `method`.
    pub fn new(field: &'f F, method: ErrorEstimate) -> Self {
        let tracker = Tracker::new(method);
        Rk4Stepper {
            field,
            method,
            k1: None,
            shadow: None,
            tracker,
            shown: SampleError { state: 0.0, u: None, neuron: None },
            evaluations: 0,
            undo: None,
        }
    }

    /// The error estimate at the state last shown to a sample.
    pub fn sample_error(&self) -> SampleError {
        self.shown
    }

    /// The run's error report.
    pub fn report(&self) -> ErrorReport {
        self.tracker.report()
    }

    /// Vector-field evaluations so far (error estimation and between samples included).
    pub fn evaluations(&self) -> usize {
        self.evaluations
    }

    fn k1(&self) -> &Evaluation<F::State> {
        // execute() calls start() (which sets k1) before any step/between; reject() only swaps k1 for an earlier Some.
        self.k1.as_ref().expect("the executor starts the stepper before it steps")
    }
}

impl<F: VectorField> model::Stepper for Rk4Stepper<'_, F> {
    type State = F::State;
    type Error = crate::FlowError;

    fn start(&mut self, x: &F::State) -> Result<f64> {
        let k1 = self.field.evaluate(0.0, x)?;
        self.evaluations += 1;
        let loss = k1.loss;
        // The error at t = 0 is 0, in the parts this field and mode report.
        let zero = match self.method {
            ErrorEstimate::LocalSampled { .. } => ErrorParts::default(),
            _ => {
                let mut nothing = x.clone();
                nothing.scale(0.0);
                self.field.error_parts(x, &nothing)?
            }
        };
        self.tracker.parts = ErrorParts { state: 0.0, ..zero };
        self.shown = sample_error(&self.tracker.parts);
        if self.method == ErrorEstimate::Shadow {
            self.shadow = Some(x.clone());
        }
        self.k1 = Some(k1);
        Ok(loss)
    }

    fn step(&mut self, x: &mut F::State, t: f64, t_next: f64) -> Result<f64> {
        let field = self.field;
        let dt = t_next - t;
        let (x_next, k4) = field.rk4_step(t, x, &self.k1().derivative, dt)?;
        self.evaluations += 3;
        if !x_next.is_finite() {
            // Nothing changed: a refusal has nothing to undo.
            if let Some(u) = self.undo.take() {
                field.recycle(u.state);
                field.recycle(u.k1.derivative);
            }
            field.recycle(k4);
            field.recycle(x_next);
            return Ok(f64::INFINITY);
        }
        let k5 = field.evaluate(t_next, &x_next)?;
        self.evaluations += 1;
        let tracker = self.tracker.clone();
        // The shadow before this step, moved (not copied) into the undo.
        let mut shadow = None;
        match self.method {
            ErrorEstimate::Embedded => {
                let p = embedded_parts(field, &x_next, k4, &k5.derivative, dt)?;
                self.tracker.add(&p);
                self.tracker.checked += 1;
            }
            ErrorEstimate::Shadow => {
                // start() sets the shadow in Shadow mode; step() puts the new one back before returning Ok,
                // reject() restores the saved one, and an Err ends the run.
                field.recycle(k4);
                let sh = self.shadow.take().expect("shadow mode keeps a shadow");
                let end = shadow_halves(field, t, &sh, dt)?;
                self.evaluations += 8;
                self.tracker.parts = shadow_parts(field, &x_next, &end)?;
                self.tracker.max = self.tracker.max.max(self.tracker.parts.state);
                self.tracker.checked += 1;
                self.shadow = Some(end);
                shadow = Some(sh);
            }
            ErrorEstimate::LocalSampled { every } => {
                field.recycle(k4);
                if self.tracker.steps.is_multiple_of(every) {
                    let halves = Rk4::halves_from(field, t, x, &self.k1().derivative, dt)?;
                    self.evaluations += 7;
                    let rate = local_error_of(field, &x_next, &halves) / dt;
                    field.recycle(halves);
                    self.tracker.last_rate = rate;
                    self.tracker.max_rate = Some(self.tracker.max_rate.unwrap_or(0.0).max(rate));
                    self.tracker.checked += 1;
                }
                self.tracker.parts.state = finite_or_inf(self.tracker.parts.state + self.tracker.last_rate * dt);
                self.tracker.max = self.tracker.max.max(self.tracker.parts.state);
            }
        }
        self.tracker.steps += 1;
        let loss = if k5.loss.is_finite() { k5.loss } else { f64::INFINITY };
        let old_state = std::mem::replace(x, x_next);
        // execute() calls start() (which sets k1) before any step/between; reject() only swaps k1 for an earlier Some.
        let old_k1 = self.k1.replace(k5).expect("started");
        if let Some(u) = self.undo.replace(Undo { state: old_state, k1: old_k1, shadow, tracker }) {
            field.recycle(u.state);
            field.recycle(u.k1.derivative);
            if let Some(sh) = u.shadow {
                field.recycle(sh);
            }
        }
        self.shown = sample_error(&self.tracker.parts);
        Ok(loss)
    }

    fn reject(&mut self, x: &mut F::State) {
        if let Some(u) = self.undo.take() {
            let refused = std::mem::replace(x, u.state);
            self.field.recycle(refused);
            if let Some(k) = self.k1.replace(u.k1) {
                self.field.recycle(k.derivative);
            }
            if self.method == ErrorEstimate::Shadow
                && let Some(sh) = std::mem::replace(&mut self.shadow, u.shadow)
            {
                self.field.recycle(sh);
            }
            self.tracker = u.tracker;
            self.shown = sample_error(&self.tracker.parts);
        }
    }

    fn between(&mut self, x: &F::State, t: f64, ts: f64) -> Result<Option<(F::State, f64)>> {
        let field = self.field;
        let tau = ts - t;
        let (xs, k4s) = field.rk4_step(t, x, &self.k1().derivative, tau)?;
        self.evaluations += 3;
        if !xs.is_finite() {
            field.recycle(k4s);
            return Ok(Some((xs, f64::INFINITY)));
        }
        let k5s = field.evaluate(ts, &xs)?;
        self.evaluations += 1;
        let parts = match self.method {
            ErrorEstimate::Embedded => {
                sum_parts(&self.tracker.parts, &embedded_parts(field, &xs, k4s, &k5s.derivative, tau)?)
            }
            ErrorEstimate::Shadow => {
                field.recycle(k4s);
                // start() sets the shadow in Shadow mode; step() puts the new one back before returning Ok,
                // reject() restores the saved one, and an Err ends the run.
                let sh = self.shadow.as_ref().expect("shadow mode keeps a shadow");
                let shs = shadow_halves(field, t, sh, tau)?;
                self.evaluations += 8;
                let parts = shadow_parts(field, &xs, &shs);
                field.recycle(shs);
                parts?
            }
            ErrorEstimate::LocalSampled { .. } => {
                field.recycle(k4s);
                ErrorParts {
                    state: finite_or_inf(self.tracker.parts.state + self.tracker.last_rate * tau),
                    neurons: None,
                    u: None,
                }
            }
        };
        field.recycle(k5s.derivative);
        self.shown = sample_error(&parts);
        let loss = if k5s.loss.is_finite() { k5s.loss } else { f64::INFINITY };
        Ok(Some((xs, loss)))
    }

    fn recycle(&mut self, state: F::State) {
        self.field.recycle(state);
    }
}

/// Integrates `field` from `x0` at t = 0 on the grid of `schedule` with RK4 (see the module docs),
/// through the one executor `model::execute` with an [`Rk4Stepper`].
///
/// Calls `on_sample` at t = 0 and at each sample time, in order, with the state there: the grid
/// state at a grid point, a separate step from the last grid point otherwise. Divergence is the
/// executor's rule: a step or a sample state whose loss is not finite or exceeds
/// `divergence_factor` × L(0) is refused, and the run ends with [`Status::Diverged`] and the last
/// accepted state; the callback never sees a refused state.
pub fn integrate<F, C>(field: &F, x0: F::State, schedule: &Plan, mut on_sample: C) -> Result<Integration<F::State>>
where
    F: VectorField,
    C: FnMut(&SampleEvent<'_, F::State>) -> Result<Control>,
{
    schedule.validate()?;
    if !x0.is_finite() {
        return Err(invalid("initial state", "non-finite", "every entry must be finite"));
    }
    let mut stepper = Rk4Stepper::new(field, schedule.error_estimate);
    let mut x = x0;
    let moves = model::grid::walk(schedule.h, &schedule.sample_times);
    let run = model::execute(&mut stepper, &mut x, moves, schedule.divergence_factor, |stepper, state, at| {
        let event = SampleEvent { t: at.t, index: at.index, step: at.step, state, error: stepper.sample_error() };
        on_sample(&event)
    })?;
    Ok(Integration {
        status: run.status,
        t: run.t,
        state: x,
        steps: run.steps,
        evaluations: stepper.evaluations(),
        error: stepper.report(),
    })
}

/// How to pick h from a tolerance (see [`choose_step`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSelection {
    /// Bound on the estimated local error per unit time, (16/15)‖x_h − x_{h/2,h/2}‖ / h, in the state norm.
    pub tol: f64,
    /// First h tried.
    pub h_initial: f64,
    /// Give up (with [`crate::FlowError::ToleranceNotMet`]) after this many halvings.
    pub max_halvings: u32,
    /// Number of step-doubled probe steps from t = 0.
    pub probe_steps: usize,
}

impl Default for StepSelection {
    fn default() -> Self {
        StepSelection { tol: 1e-8, h_initial: 0.1, max_halvings: 20, probe_steps: 8 }
    }
}

/// The step [`choose_step`] picked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepChoice {
    /// The chosen step.
    pub h: f64,
    /// Its estimated local error per unit time on the probe (max over probe steps).
    pub error_per_unit_time: f64,
    /// How many times h_initial was halved.
    pub halvings: u32,
    /// Vector-field evaluations spent on the probes.
    pub evaluations: usize,
}

/// Picks h: try `h_initial`, halve until the estimated local error per unit time is ≤ `tol`.
///
/// The probe integrates `probe_steps` step-doubled RK4 steps from t = 0 (over min(probe_steps·h, T))
/// and takes the max of (16/15)‖x_h − x_{h/2,h/2}‖ / h. The start of a gradient flow is where
/// ‖y − u‖, hence the speed, is largest; pattern flips later can raise the local error again, so
/// the run's own [`ErrorReport`] says whether the tolerance held throughout. For a
/// non-expanding flow, tol · T then bounds the global error to leading order.
pub fn choose_step<F: VectorField>(field: &F, x0: &F::State, t_end: f64, sel: &StepSelection) -> Result<StepChoice> {
    if !(sel.tol.is_finite() && sel.tol > 0.0) {
        return Err(invalid("tol", sel.tol, "the tolerance must be finite and positive"));
    }
    if !(sel.h_initial.is_finite() && sel.h_initial > 0.0) {
        return Err(invalid("h_initial", sel.h_initial, "the first step must be finite and positive"));
    }
    if sel.probe_steps == 0 {
        return Err(invalid("probe_steps", 0, "probe at least one step"));
    }
    if !(t_end.is_finite() && t_end >= 0.0) {
        return Err(invalid("t_end", t_end, "the end time must be finite and ≥ 0"));
    }
    let mut h = sel.h_initial;
    let mut evaluations = 0;
    let mut halvings = 0;
    loop {
        let span = (sel.probe_steps as f64 * h).min(t_end);
        let mut rate: f64 = 0.0;
        if span > 0.0 {
            let n = steps_for(span, h);
            let s = span / n as f64;
            let mut x = x0.clone();
            for j in 0..n {
                let t = j as f64 * s;
                let k1 = field.evaluate(t, &x)?;
                let d = Rk4::step_doubling_from(field, t, &x, &k1.derivative, s)?;
                evaluations += 11;
                field.recycle(k1.derivative);
                field.recycle(d.halves);
                rate = rate.max(d.local_error / s);
                if !rate.is_finite() || !d.full.is_finite() {
                    rate = f64::INFINITY;
                    break;
                }
                field.recycle(std::mem::replace(&mut x, d.full));
            }
        }
        if rate <= sel.tol {
            return Ok(StepChoice { h, error_per_unit_time: rate, halvings, evaluations });
        }
        if halvings == sel.max_halvings {
            return Err(crate::FlowError::ToleranceNotMet { tol: sel.tol, h, error_per_unit_time: rate, halvings });
        }
        h *= 0.5;
        halvings += 1;
    }
}
