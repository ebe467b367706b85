//! Generic fixed-step classical RK4, step-doubling error estimates, step selection and the sampling loop.
//!
//! The pieces follow the argmin split: a *problem* is a [`VectorField`] dx/dt = F(t, x) on a state
//! that implements [`OdeState`]; the *step* is [`Rk4`]; [`integrate`] is the *driver* loop that owns
//! the schedule (landing exactly on sample times), divergence detection and the error estimate,
//! and hands every sample to a callback (the concrete drivers turn that into observer calls).
//!
//! ## Error estimates (step doubling, Richardson)
//!
//! One RK4 step of length h has local error ≈ C h⁵; two steps of h/2 have ≈ C h⁵/16. Their
//! difference is (15/16) C h⁵, so the local error of the *h step* is ≈ (16/15)‖x_h − x_{h/2,h/2}‖
//! (and that of the two half steps ≈ ‖diff‖/15). The same argument on a whole run gives the
//! global error of the h trajectory: e_h(t) ≈ (16/15)‖x_h(t) − x_{h/2}(t)‖. Two modes
//! ([`ErrorEstimate`]):
//! - [`ErrorEstimate::Shadow`] (default): a shadow trajectory with step h/2 runs in lockstep;
//!   the global error estimate (16/15)‖x_h(t) − x_{h/2}(t)‖ is available at every step and sample.
//!   Cost: 12 vector-field evaluations per step instead of 4 (3×).
//! - [`ErrorEstimate::LocalSampled`]: every k-th step is step-doubled (k1 shared: 11 evaluations
//!   instead of 4); the local error per unit time (16/15)‖diff‖/h is tracked, and every step is
//!   charged the rate of the last checked step. The accumulated charge Σ rate·h is an estimate of
//!   the global error when errors neither grow nor cancel (contracting flows); the max rate is what
//!   [`choose_step`] bounds.
//!
//! In both modes the reported trajectory is the plain h trajectory, bit for bit: the estimate
//! never changes the result.
//!
//! The vector fields of this project are only piecewise smooth: the ReLU pattern 1{w_rᵀx_i ≥ 0}
//! switches, and the flow can even slide along a kink z_ir = 0 (RK4 then chatters across it).
//! Once patterns flip, the observed convergence order of the h trajectory drops to about 1
//! (measured: the error halves, not /16, when h halves), and for order p the Richardson factor is
//! 2^p/(2^p − 1): 16/15 for p = 4, 2 for p = 1. The reported numbers use 16/15 (asymptotically
//! exact on smooth stretches); multiply by [`ANY_ORDER_FACTOR`] = 15/8 for an estimate valid
//! for any order p ≥ 1 (what a claim check should use before calling a violation real).

use crate::error::{Result, invalid};

/// A state of an ODE: a vector space element with a norm (for error estimates).
///
/// Implemented for `faer::Col<f64>`, `faer::Mat<f64>` and `model::Network` (the pair (W, a)).
pub trait OdeState: Clone {
    /// `self ← self + alpha · x` (same shape).
    fn axpy(&mut self, alpha: f64, x: &Self);
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

/// A problem dx/dt = F(t, x).
pub trait VectorField {
    /// The state x.
    type State: OdeState;
    /// F(t, x), with the loss at x.
    fn evaluate(&self, t: f64, x: &Self::State) -> Result<Evaluation<Self::State>>;
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
    /// One RK4 step of length `h` from `x` at time `t`, given k1 = F(t, x). Three evaluations.
    ///
    /// The sum x + h/6 k1 + h/3 k2 + h/3 k3 + h/6 k4 is accumulated in that order as each stage
    /// arrives, so at most one stage derivative is alive besides k1 (peak ≈ 5 copies of the state).
    pub fn step_from<F: VectorField>(field: &F, t: f64, x: &F::State, k1: &F::State, h: f64) -> Result<F::State> {
        let mut out = x.clone();
        out.axpy(h / 6.0, k1);
        let mut stage = x.clone();
        stage.axpy(0.5 * h, k1);
        let k2 = field.evaluate(t + 0.5 * h, &stage)?.derivative;
        out.axpy(h / 3.0, &k2);
        let mut stage = x.clone();
        stage.axpy(0.5 * h, &k2);
        drop(k2);
        let k3 = field.evaluate(t + 0.5 * h, &stage)?.derivative;
        out.axpy(h / 3.0, &k3);
        let mut stage = x.clone();
        stage.axpy(h, &k3);
        drop(k3);
        let k4 = field.evaluate(t + h, &stage)?.derivative;
        out.axpy(h / 6.0, &k4);
        Ok(out)
    }

    /// One RK4 step of length `h`; returns the new state and the loss at `x`. Four evaluations.
    pub fn step<F: VectorField>(field: &F, t: f64, x: &F::State, h: f64) -> Result<(F::State, f64)> {
        let e = field.evaluate(t, x)?;
        Ok((Self::step_from(field, t, x, &e.derivative, h)?, e.loss))
    }

    /// One h step and two h/2 steps from `x`, sharing k1 = F(t, x). Ten evaluations besides k1.
    pub fn step_doubling_from<F: VectorField>(
        field: &F,
        t: f64,
        x: &F::State,
        k1: &F::State,
        h: f64,
    ) -> Result<StepDoubling<F::State>> {
        let full = Self::step_from(field, t, x, k1, h)?;
        let mid = Self::step_from(field, t, x, k1, 0.5 * h)?;
        let (halves, _) = Self::step(field, t + 0.5 * h, &mid, 0.5 * h)?;
        let local_error = local_error_of(&full, &halves);
        Ok(StepDoubling { full, halves, local_error })
    }
}

/// Multiply a reported (16/15)·diff estimate by this for the order-1 factor 2·diff, which bounds the
/// Richardson factor 2^p/(2^p − 1) for every convergence order p ≥ 1 (see the module docs).
pub const ANY_ORDER_FACTOR: f64 = 15.0 / 8.0;

/// (16/15)‖a − b‖, or +∞ when either side is not finite (never NaN).
fn local_error_of<S: OdeState>(a: &S, b: &S) -> f64 {
    if !a.is_finite() || !b.is_finite() {
        return f64::INFINITY;
    }
    let d = 16.0 / 15.0 * a.distance(b);
    if d.is_finite() { d } else { f64::INFINITY }
}

/// How the integration error is estimated (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorEstimate {
    /// A shadow trajectory with step h/2: global error (16/15)‖x_h(t) − x_{h/2}(t)‖ at every step. 3× cost.
    #[default]
    Shadow,
    /// Step doubling on every `every`-th step (every ≥ 1): local error per unit time, accumulated.
    LocalSampled {
        /// Check one step in this many (1: every step).
        every: usize,
    },
}

/// The integration error of one run, in the norm of the state (Frobenius of W, or of (W, a)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorReport {
    /// How it was estimated.
    pub method: ErrorEstimate,
    /// Estimated global error of the state at the end of the run.
    pub final_state_error: f64,
    /// Max over step ends of the estimated global error (Shadow), or the accumulated charge
    /// Σ rate·h (LocalSampled; then equal to `final_state_error`).
    pub max_state_error: f64,
    /// LocalSampled: max over checked steps of (16/15)‖diff‖/h. `None` for Shadow.
    pub max_local_error_per_unit_time: Option<f64>,
    /// Number of steps whose error was measured (all steps for Shadow).
    pub checked_steps: usize,
}

/// Why a run was declared divergent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Divergence {
    /// The state, the loss or the predictions became NaN or ±∞.
    NonFinite,
    /// The loss exceeded `factor` × the initial loss.
    LossGrowth {
        /// The loss that tripped the check.
        loss: f64,
        /// The loss at the start of the run.
        initial_loss: f64,
        /// The configured factor.
        factor: f64,
    },
}

/// How a run ended. `t` and `step` name the last finite state, which is what the run returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunStatus {
    /// Reached the end time (or the last iteration).
    Completed,
    /// An observer asked to stop after the sample at `t`.
    Stopped {
        /// Time of the last sample.
        t: f64,
        /// Steps (iterations) taken.
        step: usize,
    },
    /// The dynamics blew up; the returned state is the last finite one, at time `t`.
    Diverged {
        /// Time of the returned (last good) state.
        t: f64,
        /// Steps (iterations) taken to it.
        step: usize,
        /// What was detected.
        reason: Divergence,
    },
}

impl RunStatus {
    /// True when the run diverged.
    pub fn diverged(&self) -> bool {
        matches!(self, RunStatus::Diverged { .. })
    }
}

/// What an observer wants after a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// Keep going.
    #[default]
    Continue,
    /// End the run now (status [`RunStatus::Stopped`]).
    Stop,
}

/// Largest number of RK4 steps a schedule may ask for (T/h plus one per sample interval).
pub const MAX_STEPS: f64 = 1e9;

/// Everything [`integrate`] needs besides the problem: step, sample times, estimate, divergence rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Largest step h (> 0). Each interval between samples is cut into ⌈Δ/h⌉ equal steps, so the
    /// driver lands exactly on every sample time; steps equal h when the sample spacing is a multiple of h.
    pub h: f64,
    /// Sample times, strictly increasing, starting at 0; the last is the end time T.
    pub sample_times: Vec<f64>,
    /// Error estimate mode.
    pub error_estimate: ErrorEstimate,
    /// Divergence when the loss exceeds this × the initial loss (> 1), or is not finite.
    pub divergence_factor: f64,
}

impl Schedule {
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
}

/// Number of equal steps of length ≤ h covering an interval of length `delta` > 0.
pub fn steps_for(delta: f64, h: f64) -> usize {
    // The slack keeps Δ = k·h (up to rounding) at k steps instead of k + 1.
    ((delta / h) * (1.0 - 1e-12)).ceil().max(1.0) as usize
}

/// What the driver hands to the sample callback.
#[derive(Debug)]
pub struct SampleEvent<'a, S> {
    /// Sample time (exactly one of [`Schedule::sample_times`]).
    pub t: f64,
    /// Index of this sample (0 at t = 0).
    pub index: usize,
    /// Steps taken so far.
    pub step: usize,
    /// The state at t.
    pub state: &'a S,
    /// The h/2 shadow state at t ([`ErrorEstimate::Shadow`] only).
    pub shadow: Option<&'a S>,
    /// Current global error estimate of the state (Shadow: (16/15)‖x_h − x_{h/2}‖; LocalSampled: accumulated charge).
    pub state_error: f64,
}

/// Result of [`integrate`]: the last finite state and how the run went.
#[derive(Debug, Clone)]
pub struct Integration<S> {
    /// How the run ended.
    pub status: RunStatus,
    /// Time of `state`.
    pub t: f64,
    /// Final (last finite) state.
    pub state: S,
    /// Steps taken.
    pub steps: usize,
    /// Vector-field evaluations, error estimation included.
    pub evaluations: usize,
    /// Integration error estimate.
    pub error: ErrorReport,
}

struct ErrorTracker {
    method: ErrorEstimate,
    current: f64,
    max: f64,
    last_rate: f64,
    max_rate: Option<f64>,
    checked: usize,
}

impl ErrorTracker {
    fn report(&self) -> ErrorReport {
        ErrorReport {
            method: self.method,
            final_state_error: self.current,
            max_state_error: self.max,
            max_local_error_per_unit_time: self.max_rate,
            checked_steps: self.checked,
        }
    }
}

/// Integrates `field` from `x0` at t = 0 through every sample time of `schedule` with RK4.
///
/// Calls `on_sample` at t = 0 and at each sample time, in order, with the state landed exactly
/// there. Divergence (a non-finite state, or a loss — evaluated at the start of each step — that
/// is not finite or exceeds `divergence_factor` × the initial loss) ends the run with
/// [`RunStatus::Diverged`] and the last finite state; the callback never sees a non-finite state.
pub fn integrate<F, C>(field: &F, x0: F::State, schedule: &Schedule, mut on_sample: C) -> Result<Integration<F::State>>
where
    F: VectorField,
    C: FnMut(&SampleEvent<'_, F::State>) -> Result<Control>,
{
    schedule.validate()?;
    if !x0.is_finite() {
        return Err(invalid("initial state", "non-finite", "every entry must be finite"));
    }
    let h = schedule.h;
    let mut x = x0;
    let mut shadow = match schedule.error_estimate {
        ErrorEstimate::Shadow => Some(x.clone()),
        ErrorEstimate::LocalSampled { .. } => None,
    };
    let mut tracker = ErrorTracker {
        method: schedule.error_estimate,
        current: 0.0,
        max: 0.0,
        last_rate: 0.0,
        max_rate: match schedule.error_estimate {
            ErrorEstimate::Shadow => None,
            ErrorEstimate::LocalSampled { .. } => Some(0.0),
        },
        checked: 0,
    };
    let (mut steps, mut evaluations) = (0usize, 0usize);
    let mut initial_loss: Option<f64> = None;
    let times = &schedule.sample_times;

    macro_rules! finish {
        ($status:expr, $t:expr) => {
            return Ok(Integration { status: $status, t: $t, state: x, steps, evaluations, error: tracker.report() })
        };
    }

    let event = SampleEvent { t: 0.0, index: 0, step: 0, state: &x, shadow: shadow.as_ref(), state_error: 0.0 };
    if on_sample(&event)? == Control::Stop {
        finish!(RunStatus::Stopped { t: 0.0, step: 0 }, 0.0);
    }
    for index in 1..times.len() {
        let (t0, t1) = (times[index - 1], times[index]);
        let n = steps_for(t1 - t0, h);
        let s = (t1 - t0) / n as f64;
        for j in 0..n {
            let t = t0 + j as f64 * s;
            let t_next = if j + 1 == n { t1 } else { t0 + (j + 1) as f64 * s };
            let dt = t_next - t;
            let k1 = field.evaluate(t, &x)?;
            evaluations += 1;
            let loss0 = *initial_loss.get_or_insert(k1.loss);
            if !k1.loss.is_finite() {
                finish!(RunStatus::Diverged { t, step: steps, reason: Divergence::NonFinite }, t);
            }
            let limit = schedule.divergence_factor * loss0.max(f64::MIN_POSITIVE);
            if k1.loss > limit {
                let reason =
                    Divergence::LossGrowth { loss: k1.loss, initial_loss: loss0, factor: schedule.divergence_factor };
                finish!(RunStatus::Diverged { t, step: steps, reason }, t);
            }
            let next = match schedule.error_estimate {
                ErrorEstimate::Shadow => {
                    let next = Rk4::step_from(field, t, &x, &k1.derivative, dt)?;
                    let sh = shadow.as_mut().expect("shadow mode keeps a shadow");
                    let (mid, _) = Rk4::step(field, t, sh, 0.5 * dt)?;
                    let (end, _) = Rk4::step(field, t + 0.5 * dt, &mid, 0.5 * dt)?;
                    *sh = end;
                    evaluations += 3 + 8;
                    next
                }
                ErrorEstimate::LocalSampled { every } => {
                    if steps.is_multiple_of(every) {
                        let d = Rk4::step_doubling_from(field, t, &x, &k1.derivative, dt)?;
                        evaluations += 10;
                        let rate = d.local_error / dt;
                        tracker.last_rate = rate;
                        tracker.max_rate = Some(tracker.max_rate.unwrap_or(0.0).max(rate));
                        tracker.checked += 1;
                        d.full
                    } else {
                        evaluations += 3;
                        Rk4::step_from(field, t, &x, &k1.derivative, dt)?
                    }
                }
            };
            if !next.is_finite() {
                finish!(RunStatus::Diverged { t, step: steps, reason: Divergence::NonFinite }, t);
            }
            x = next;
            steps += 1;
            match &shadow {
                Some(sh) => {
                    tracker.current = local_error_of(&x, sh);
                    tracker.checked += 1;
                }
                None => tracker.current += tracker.last_rate * dt,
            }
            tracker.max = tracker.max.max(tracker.current);
        }
        let event =
            SampleEvent { t: t1, index, step: steps, state: &x, shadow: shadow.as_ref(), state_error: tracker.current };
        if on_sample(&event)? == Control::Stop {
            finish!(RunStatus::Stopped { t: t1, step: steps }, t1);
        }
    }
    let t_end = schedule.t_end();
    finish!(RunStatus::Completed, t_end)
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
                rate = rate.max(d.local_error / s);
                if !rate.is_finite() || !d.full.is_finite() {
                    rate = f64::INFINITY;
                    break;
                }
                x = d.full;
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
