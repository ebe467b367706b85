//! The driver: validates inputs, picks h, integrates the flow with RK4 and calls observers at sample times.
//!
//! The first-layer problem is dW/dt = −∂L/∂W with a fixed (slide Thm 2.1 = paper Thm 3.2), i.e.
//! dw_r/dt = −m^{−1/2} a_r Σ_i (u_i − y_i) 1{w_rᵀx_i ≥ 0} x_i, under which du/dt = H(t)(y − u).
//! [`run_with_field`] runs any vector field on the state (W, a) with the same schedule and
//! observers; `both_layers` uses it for d(W, a)/dt = −(∂L/∂W, ∂L/∂a).

use faer::{Col, ColRef, MatRef};
use model::network::{grad_w, preactivations, predictions};
use model::{Dataset, Network};

use crate::config::{FlowConfig, StepSize};
use crate::error::{FlowError, Result};
use crate::ode::{Control, Divergence, ErrorReport, Evaluation, RunStatus, Schedule, StepChoice, VectorField};
use crate::ode::{choose_step, integrate};

/// The integrator's error estimate at one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleError {
    /// Estimated global error of the state (W, a) in the Euclidean norm (see [`crate::ErrorEstimate`]).
    pub state: f64,
    /// Estimated error of the predictions, (16/15)‖u_h(t) − u_{h/2}(t)‖ (shadow mode only).
    pub u: Option<f64>,
    /// Estimated error of every single neuron, (16/15) max_r ‖w_r,h(t) − w_r,h/2(t)‖ (shadow mode
    /// only): what guards a per-neuron distance such as max_r ‖w_r(t) − w_r(0)‖.
    pub neuron: Option<f64>,
}

/// What an observer sees at a sample time: the state with its forward pass (the cached u and residual).
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// Time t (for gradient descent: t = kη).
    pub t: f64,
    /// RK4 steps (or GD iterations k) taken so far.
    pub step: usize,
    /// Index of this sample; 0 is the initial state.
    pub sample_index: usize,
    /// The data set.
    pub data: &'a Dataset,
    /// First layer W(t), m × d.
    pub w: MatRef<'a, f64>,
    /// Second layer a(t), length m (constant when only the first layer is trained).
    pub a: ColRef<'a, f64>,
    /// Pre-activations Z = X Wᵀ, n × m.
    pub z: MatRef<'a, f64>,
    /// Predictions u(t).
    pub u: ColRef<'a, f64>,
    /// Residual u(t) − y.
    pub residual: ColRef<'a, f64>,
    /// Loss L = ½‖u − y‖².
    pub loss: f64,
    /// Integration error estimate (`None` for gradient descent, which is exact arithmetic on its own terms).
    pub error: Option<SampleError>,
    /// `Some(η)` when the snapshot comes from gradient descent with step η (then t = kη).
    pub gd_step_size: Option<f64>,
}

/// Something the driver calls at every sample time (t = 0 first), e.g. a [`crate::Recorder`].
pub trait Observer {
    /// Looks at one sample; return [`Control::Stop`] to end the run.
    fn observe(&mut self, snapshot: &Snapshot<'_>) -> Result<Control>;
}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn observe(&mut self, snapshot: &Snapshot<'_>) -> Result<Control> {
        (**self).observe(snapshot)
    }
}

/// Both observers see every sample; the run stops if either asks.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn observe(&mut self, snapshot: &Snapshot<'_>) -> Result<Control> {
        let first = self.0.observe(snapshot)?;
        let second = self.1.observe(snapshot)?;
        Ok(if first == Control::Stop || second == Control::Stop { Control::Stop } else { Control::Continue })
    }
}

/// An observer that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn observe(&mut self, _: &Snapshot<'_>) -> Result<Control> {
        Ok(Control::Continue)
    }
}

/// The outcome of a run: plain data.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// How the run ended.
    pub status: RunStatus,
    /// Time reached (of `network`).
    pub t: f64,
    /// The RK4 step used (fixed or chosen).
    pub h: f64,
    /// The step selection, when the step came from a tolerance.
    pub step_choice: Option<StepChoice>,
    /// RK4 steps taken.
    pub steps: usize,
    /// Vector-field evaluations (error estimation and step selection included).
    pub evaluations: usize,
    /// Integration error estimate over the run.
    pub error: ErrorReport,
    /// Final (last finite) weights.
    pub network: Network,
    /// Final predictions u (empty if they are not finite).
    pub u: Vec<f64>,
    /// Final loss ½‖u − y‖² (+∞ if not finite).
    pub loss: f64,
}

/// The first-layer gradient flow dW/dt = −∂L/∂W, a fixed (the derivative of a is 0).
///
/// The state is the whole [`Network`]; its `a` is carried along unchanged (bit for bit).
#[derive(Debug, Clone, Copy)]
pub struct FirstLayerField<'a> {
    /// The data set.
    pub data: &'a Dataset,
}

impl VectorField for FirstLayerField<'_> {
    type State = Network;
    fn evaluate(&self, _t: f64, x: &Network) -> Result<Evaluation<Network>> {
        let t = FirstLayerTerms::of(self.data, x);
        Ok(Evaluation { derivative: Network { w: t.minus_grad_w, a: Col::zeros(x.a.nrows()) }, loss: t.loss })
    }
}

/// What every vector field on (W, a) starts from: the forward pass, the residual, the loss and −∂L/∂W.
#[derive(Debug, Clone)]
pub struct FirstLayerTerms {
    /// Z = X Wᵀ (n × m).
    pub z: faer::Mat<f64>,
    /// r = u − y.
    pub residual: Col<f64>,
    /// L = ½‖r‖².
    pub loss: f64,
    /// −∂L/∂W (m × d).
    pub minus_grad_w: faer::Mat<f64>,
}

impl FirstLayerTerms {
    /// Computes them at `x` on `data`.
    pub fn of(data: &Dataset, x: &Network) -> Self {
        let z = preactivations(data.x(), x.w.as_ref());
        let u = predictions(z.as_ref(), x.a.as_ref());
        let residual = &u - data.y();
        let loss = 0.5 * residual.squared_norm_l2();
        let mut minus_grad_w = grad_w(data.x(), z.as_ref(), x.a.as_ref(), residual.as_ref());
        negate(&mut minus_grad_w);
        FirstLayerTerms { z, residual, loss, minus_grad_w }
    }
}

/// `m ← −m` in place.
pub fn negate(m: &mut faer::Mat<f64>) {
    for j in 0..m.ncols() {
        for v in m.col_as_slice_mut(j) {
            *v = -*v;
        }
    }
}

/// Checks a network against a data set: W is m × d, a has m entries, all finite, m ≥ 1.
pub fn validate_network(data: &Dataset, net: &Network) -> Result<()> {
    Ok(net.validate_against(data)?)
}

/// Gradient flow of the first layer (a fixed) from `net`, integrated with RK4 (slide Thm 2.1 = paper Thm 3.2).
///
/// Calls `observer` at every sample time of `config` (t = 0 first). Divergence is a status, not
/// an error; bad inputs are named errors.
pub fn run<O: Observer + ?Sized>(
    data: &Dataset,
    net: &Network,
    config: &FlowConfig,
    observer: &mut O,
) -> Result<RunOutcome> {
    run_with_field(&FirstLayerField { data }, data, net, config, observer)
}

/// Runs any vector field on (W, a) with the schedule, error estimate and observers of `config`.
pub fn run_with_field<F, O>(
    field: &F,
    data: &Dataset,
    net: &Network,
    config: &FlowConfig,
    observer: &mut O,
) -> Result<RunOutcome>
where
    F: VectorField<State = Network>,
    O: Observer + ?Sized,
{
    validate_network(data, net)?;
    config.validate()?;
    let sample_times = config.sample_times()?;
    let t_end = config.t_end;
    let (h, step_choice) = match config.step {
        StepSize::Fixed(h) => (h, None),
        StepSize::Tolerance(sel) => {
            let choice = choose_step(field, net, t_end, &sel)?;
            (choice.h, Some(choice))
        }
    };
    let schedule = Schedule {
        h,
        sample_times,
        error_estimate: config.error_estimate,
        divergence_factor: config.divergence_factor,
    };
    let mut sample_divergence: Option<(f64, usize, Divergence)> = None;
    let mut initial_loss = f64::NAN;
    let integration = integrate(field, net.clone(), &schedule, |event| {
        let state = event.state;
        let fw = state.forward(data)?;
        let r = &fw.u - data.y();
        let loss = 0.5 * r.squared_norm_l2();
        if event.index == 0 {
            initial_loss = loss;
        }
        if !loss.is_finite() {
            sample_divergence = Some((event.t, event.step, Divergence::NonFinite));
            return Ok(Control::Stop);
        }
        if loss > config.divergence_factor * initial_loss.max(f64::MIN_POSITIVE) {
            let reason = Divergence::LossGrowth { loss, initial_loss, factor: config.divergence_factor };
            sample_divergence = Some((event.t, event.step, reason));
            return Ok(Control::Stop);
        }
        let (u_error, neuron_error) = match event.shadow {
            Some(sh) => {
                let us = sh.forward(data)?.u;
                let e = 16.0 / 15.0 * (&fw.u - &us).norm_l2();
                let neuron = 16.0 / 15.0 * max_row_distance(state.w.as_ref(), sh.w.as_ref());
                let finite = |e: f64| if e.is_finite() { e } else { f64::INFINITY };
                (Some(finite(e)), Some(finite(neuron)))
            }
            None => (None, None),
        };
        let snapshot = Snapshot {
            t: event.t,
            step: event.step,
            sample_index: event.index,
            data,
            w: state.w.as_ref(),
            a: state.a.as_ref(),
            z: fw.z.as_ref(),
            u: fw.u.as_ref(),
            residual: r.as_ref(),
            loss,
            error: Some(SampleError { state: event.state_error, u: u_error, neuron: neuron_error }),
            gd_step_size: None,
        };
        observer.observe(&snapshot)
    })?;
    let mut status = integration.status;
    if let Some((t, step, reason)) = sample_divergence {
        status = RunStatus::Diverged { t, step, reason };
    }
    let evaluations = integration.evaluations + step_choice.map_or(0, |c| c.evaluations);
    let (u, loss) = final_predictions(data, &integration.state)?;
    if u.is_empty() && !status.diverged() {
        status = RunStatus::Diverged { t: integration.t, step: integration.steps, reason: Divergence::NonFinite };
    }
    Ok(RunOutcome {
        status,
        t: integration.t,
        h,
        step_choice,
        steps: integration.steps,
        evaluations,
        error: integration.error,
        network: integration.state,
        u,
        loss,
    })
}

/// max_r ‖a_r − b_r‖₂ over the rows of two m × d matrices (NaN propagates as +∞).
pub fn max_row_distance(a: faer::MatRef<'_, f64>, b: faer::MatRef<'_, f64>) -> f64 {
    let mut sq = vec![0.0f64; a.nrows()];
    for k in 0..a.ncols() {
        for (r, v) in sq.iter_mut().enumerate() {
            let d = a[(r, k)] - b[(r, k)];
            *v += d * d;
        }
    }
    sq.into_iter().fold(0.0, |acc, x| if x.is_nan() { f64::INFINITY } else { acc.max(x) }).sqrt()
}

/// u and ½‖u − y‖² of a network; (empty, +∞) when not finite, so no NaN leaves the crate.
pub fn final_predictions(data: &Dataset, net: &Network) -> Result<(Vec<f64>, f64), FlowError> {
    let u = net.forward(data)?.u;
    let loss = 0.5 * (&u - data.y()).squared_norm_l2();
    if loss.is_finite() { Ok((u.iter().copied().collect(), loss)) } else { Ok((Vec::new(), f64::INFINITY)) }
}
