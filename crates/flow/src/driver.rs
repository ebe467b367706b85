//! The driver: validates inputs, picks h, integrates the flow with RK4 and calls observers at sample times.
//!
//! The first-layer problem is dW/dt = −∂L/∂W with a fixed (slide Thm 2.1 = paper Thm 3.2), i.e.
//! dw_r/dt = −m^{−1/2} a_r Σ_i (u_i − y_i) 1{w_rᵀx_i ≥ 0} x_i, under which du/dt = H(t)(y − u).
//! [`run_with_field`] runs any vector field on the state (W, a) with the same schedule and
//! observers; `both_layers` uses it for d(W, a)/dt = −(∂L/∂W, ∂L/∂a).

use faer::{Col, ColRef, MatRef};
use model::network::{grad_w, preactivations, predictions};
use model::{Control, Dataset, Divergence, Network, Observer, Status};

use crate::config::{FlowConfig, Space, StepSize};
use crate::error::{FlowError, Result};
use crate::kernel::{KernelField, KernelState};
use crate::lazy::LazyKernel;
use crate::ode::{
    ErrorEstimate, ErrorParts, ErrorReport, Evaluation, Integration, OdeState, Plan, SampleError, StepChoice,
};
use crate::ode::{Tracker, VectorField, sample_error, sum_parts};
use crate::ode::{choose_step, integrate};

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
    /// `Some(η)` when the snapshot comes from gradient descent with learning rate η (then t = kη).
    pub learning_rate: Option<f64>,
}

/// An observer that does nothing (as `()` does).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl<V: ?Sized, E> Observer<V, E> for NoObserver {
    fn observe(&mut self, _: &V) -> std::result::Result<Control, E> {
        Ok(Control::Continue)
    }
}

/// The outcome of a run: plain data.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// How the run ended.
    pub status: Status,
    /// Time reached (of `network`).
    pub t: f64,
    /// The RK4 step h used on the grid (fixed or chosen); never replaced.
    pub h: f64,
    /// The last grid step T − (N − 1)h (equal to h when h divides T; shorter otherwise).
    pub last_step: f64,
    /// Where the flow ran (weight space, or kernel space on (Z, C)).
    pub space: Space,
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

    fn error_parts(&self, x: &Network, delta: &Network) -> Result<ErrorParts> {
        network_error_parts(self.data, x, delta)
    }
}

/// The parts of an error δ of (W, a): ‖δ‖, per neuron ‖δw_r‖, and ‖u(x) − u(x − δ)‖ (two forward passes).
pub fn network_error_parts(data: &Dataset, x: &Network, delta: &Network) -> Result<ErrorParts> {
    let (m, d) = (delta.w.nrows(), delta.w.ncols());
    let mut sq = vec![0.0f64; m];
    for k in 0..d {
        for (r, v) in sq.iter_mut().enumerate() {
            let e = delta.w[(r, k)];
            *v += e * e;
        }
    }
    let mut shifted = x.clone();
    shifted.axpy(-1.0, delta);
    let u = predictions(preactivations(data.x(), x.w.as_ref()).as_ref(), x.a.as_ref());
    let u_shifted = predictions(preactivations(data.x(), shifted.w.as_ref()).as_ref(), shifted.a.as_ref());
    Ok(ErrorParts {
        state: delta.norm(),
        neurons: Some(sq.into_iter().map(f64::sqrt).collect()),
        u: Some((&u - &u_shifted).norm_l2()),
    })
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
/// Runs in kernel space on (Z, C) when [`FlowConfig::space`] says so ([`Space::Auto`]: when
/// d ≥ n), in weight space on (W, a) otherwise. Calls `observer` at every sample time of
/// `config` (t = 0 first). Divergence is a status, not an error; bad inputs are named errors.
pub fn run<O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized>(
    data: &Dataset,
    net: &Network,
    config: &FlowConfig,
    observer: &mut O,
) -> Result<RunOutcome> {
    if config.space.kernel(data) {
        run_kernel(data, net, config, observer)
    } else {
        run_with_field(&FirstLayerField { data }, data, net, config, observer)
    }
}

/// Validates, resolves h and builds the schedule of a run from `x0` on `field`.
fn schedule_of<F: VectorField>(field: &F, x0: &F::State, config: &FlowConfig) -> Result<(Plan, Option<StepChoice>)> {
    config.validate()?;
    let sample_times = config.sample_times()?;
    let (h, step_choice) = match config.step {
        StepSize::Fixed(h) => (h, None),
        StepSize::Tolerance(sel) => {
            let mut choice = choose_step(field, x0, config.t_end, &sel)?;
            // A chosen step longer than T would be refused by the grid: one step of T meets the
            // tolerance too (a shorter step only lowers the local error); the outcome reports it.
            if config.t_end > 0.0 && choice.h > config.t_end {
                choice.h = config.t_end;
            }
            (choice.h, Some(choice))
        }
    };
    let schedule =
        Plan { h, sample_times, error_estimate: config.error_estimate, divergence_factor: config.divergence_factor };
    schedule.validate()?;
    Ok((schedule, step_choice))
}

/// Turns each sample into a [`Snapshot`] for the observer (the executor has already applied the
/// divergence rule to the sample's loss).
struct Sampler<'a, O: ?Sized> {
    data: &'a Dataset,
    observer: &'a mut O,
}

impl<O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized> Sampler<'_, O> {
    #[allow(clippy::too_many_arguments)]
    fn sample(
        &mut self,
        t: f64,
        step: usize,
        index: usize,
        w: MatRef<'_, f64>,
        a: ColRef<'_, f64>,
        z: MatRef<'_, f64>,
        u: &Col<f64>,
        error: SampleError,
    ) -> Result<Control> {
        let data = self.data;
        let r = u - data.y();
        let loss = 0.5 * r.squared_norm_l2();
        let snapshot = Snapshot {
            t,
            step,
            sample_index: index,
            data,
            w,
            a,
            z,
            u: u.as_ref(),
            residual: r.as_ref(),
            loss,
            error: Some(error),
            learning_rate: None,
        };
        self.observer.observe(&snapshot)
    }
}

/// Runs any vector field on (W, a) with the grid, error estimate and observers of `config`.
pub fn run_with_field<F, O>(
    field: &F,
    data: &Dataset,
    net: &Network,
    config: &FlowConfig,
    observer: &mut O,
) -> Result<RunOutcome>
where
    F: VectorField<State = Network>,
    O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized,
{
    validate_network(data, net)?;
    run_with_view(field, data, net.clone(), config, Space::Weight, observer, |state| Ok(state.clone()))
}

/// Runs any vector field from `x0` with the grid, error estimate and observers of `config`, for
/// a state that is not (W, a) itself: `network_of` gives the (W, a) of a state (at samples and at
/// the end), from which the observers' Z and u are computed. `space` is what the outcome reports.
pub fn run_with_view<F, O, V>(
    field: &F,
    data: &Dataset,
    x0: F::State,
    config: &FlowConfig,
    space: Space,
    observer: &mut O,
    network_of: V,
) -> Result<RunOutcome>
where
    F: VectorField,
    O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized,
    V: Fn(&F::State) -> Result<Network>,
{
    let (schedule, step_choice) = schedule_of(field, &x0, config)?;
    let mut sampler = Sampler { data, observer };
    let integration = integrate(field, x0, &schedule, |event| {
        let net = network_of(event.state)?;
        let fw = net.forward(data)?;
        sampler.sample(
            event.t,
            event.step,
            event.index,
            net.w.as_ref(),
            net.a.as_ref(),
            fw.z.as_ref(),
            &fw.u,
            event.error,
        )
    })?;
    let network = network_of(&integration.state)?;
    finish_integration(data, &schedule, step_choice, space, &integration, network)
}

/// The first-layer flow in kernel space ([`KernelField`]); W is materialised at samples and at the end.
fn run_kernel<O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized>(
    data: &Dataset,
    net: &Network,
    config: &FlowConfig,
    observer: &mut O,
) -> Result<RunOutcome> {
    validate_network(data, net)?;
    let field = KernelField::new(data, &net.a);
    let x0 = KernelState::initial(data, net);
    let (schedule, step_choice) = schedule_of(&field, &x0, config)?;
    if schedule.error_estimate == ErrorEstimate::Embedded && config.space != Space::KernelFused {
        return run_lazy(&field, data, net, x0, schedule, step_choice, observer);
    }
    let mut sampler = Sampler { data, observer };
    let integration = integrate(&field, x0, &schedule, |event| {
        let state = event.state;
        let w = state.weights(data, net.w.as_ref());
        let u = field.predictions(state.z.as_ref());
        sampler.sample(event.t, event.step, event.index, w.as_ref(), net.a.as_ref(), state.z.as_ref(), &u, event.error)
    })?;
    let network = Network { w: integration.state.weights(data, net.w.as_ref()), a: net.a.clone() };
    let space = if config.space == Space::KernelFused { Space::KernelFused } else { Space::Kernel };
    finish_integration(data, &schedule, step_choice, space, &integration, network)
}

/// The state of a lazy kernel run: the grid state (stepped lazily in place), or a state between
/// grid points made for a sample (never stepped). One lives per run, so the size of the larger
/// variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
enum LazyState<'a> {
    Grid(LazyKernel<'a>),
    Sample(KernelState),
}

impl LazyState<'_> {
    fn kernel_state(&self) -> &KernelState {
        match self {
            LazyState::Grid(lazy) => lazy.state(),
            LazyState::Sample(state) => state,
        }
    }
}

/// The lazy kernel-space RK4 step ([`LazyKernel`]) as a `model::Stepper`, with the embedded
/// error estimate summed as [`integrate`] sums it. It updates in place and keeps no copy, so a
/// refused step is not undone: [`run_lazy`] then returns the last sampled state.
struct LazyStepper<'a> {
    _state: std::marker::PhantomData<LazyState<'a>>,
    tracker: Tracker,
    shown: SampleError,
    /// RK4 evaluations the steps stand for (4 a step, as the fused step counts them).
    evaluations: usize,
}

impl<'a> model::Stepper for LazyStepper<'a> {
    type State = LazyState<'a>;
    type Error = FlowError;

    fn start(&mut self, state: &LazyState<'a>) -> Result<f64> {
        // model::dynamics::execute hands start/step/between only the grid state (Sample states go to observers).
        let LazyState::Grid(lazy) = state else { unreachable!("a run starts on the grid") };
        let m = lazy.state().z.ncols();
        self.tracker.set_parts(ErrorParts { state: 0.0, neurons: Some(vec![0.0; m]), u: Some(0.0) });
        self.shown = sample_error(self.tracker.parts());
        self.evaluations = 1;
        Ok(lazy.loss())
    }

    fn step(&mut self, state: &mut LazyState<'a>, from: f64, to: f64) -> Result<f64> {
        // model::dynamics::execute hands start/step/between only the grid state (Sample states go to observers).
        let LazyState::Grid(lazy) = state else { unreachable!("the executor steps the grid state only") };
        let step = lazy.step(to - from)?;
        self.evaluations += 4;
        self.tracker.add_step(&step.error);
        self.shown = sample_error(self.tracker.parts());
        Ok(if step.loss.is_finite() { step.loss } else { f64::INFINITY })
    }

    fn between(&mut self, state: &LazyState<'a>, from: f64, to: f64) -> Result<Option<(LazyState<'a>, f64)>> {
        // model::dynamics::execute hands start/step/between only the grid state (Sample states go to observers).
        let LazyState::Grid(lazy) = state else { unreachable!("samples start from the grid state") };
        let (between, loss, parts) = lazy.between(to - from)?;
        self.evaluations += 4;
        self.shown = sample_error(&sum_parts(self.tracker.parts(), &parts));
        Ok(Some((LazyState::Sample(between), if loss.is_finite() { loss } else { f64::INFINITY })))
    }
}

/// The first-layer flow in kernel space under the embedded estimate, stepped lazily (see
/// [`crate::lazy`]) through the one executor. On divergence the run returns the last sampled
/// state (the lazy step keeps no copy to undo a refused step) and its status names that sample.
fn run_lazy<O: for<'s> Observer<Snapshot<'s>, FlowError> + ?Sized>(
    field: &KernelField<'_>,
    data: &Dataset,
    net: &Network,
    x0: KernelState,
    schedule: Plan,
    step_choice: Option<StepChoice>,
    observer: &mut O,
) -> Result<RunOutcome> {
    let mut sampler = Sampler { data, observer };
    let mut stepper = LazyStepper {
        _state: std::marker::PhantomData,
        tracker: Tracker::new(ErrorEstimate::Embedded),
        shown: SampleError { state: 0.0, u: None, neuron: None },
        evaluations: 0,
    };
    let mut state = LazyState::Grid(LazyKernel::new(field, x0)?);
    // The last sample's W (made for the observers anyway): what a diverged run returns.
    let mut last: Option<(f64, usize, faer::Mat<f64>)> = None;
    let moves = model::grid::walk(schedule.h, &schedule.sample_times);
    let run = model::execute(&mut stepper, &mut state, moves, schedule.divergence_factor, |stepper, state, at| {
        let x = state.kernel_state();
        let w = x.weights(data, net.w.as_ref());
        let u = field.predictions(x.z.as_ref());
        let control =
            sampler.sample(at.t, at.step, at.index, w.as_ref(), net.a.as_ref(), x.z.as_ref(), &u, stepper.shown);
        last = Some((at.t, at.step, w));
        control
    })?;
    let (status, t, steps, w) = match (run.status, last) {
        (Status::Diverged { reason, .. }, Some((t, step, w))) => (Status::Diverged { t, step, reason }, t, step, w),
        (status, _) => {
            let x = match state {
                LazyState::Grid(lazy) => lazy.into_state(),
                LazyState::Sample(x) => x,
            };
            (status, run.t, run.steps, x.weights(data, net.w.as_ref()))
        }
    };
    let network = Network { w, a: net.a.clone() };
    finish(
        data,
        &schedule,
        step_choice,
        status,
        Space::Kernel,
        t,
        steps,
        stepper.evaluations,
        stepper.tracker.report(),
        network,
    )
}

/// [`finish`] for a run [`integrate`] made: its status, end time, steps, evaluations and error
/// report, with `network` the (W, a) of its final state.
fn finish_integration<S>(
    data: &Dataset,
    schedule: &Plan,
    step_choice: Option<StepChoice>,
    space: Space,
    integration: &Integration<S>,
    network: Network,
) -> Result<RunOutcome> {
    finish(
        data,
        schedule,
        step_choice,
        integration.status,
        space,
        integration.t,
        integration.steps,
        integration.evaluations,
        integration.error,
        network,
    )
}

/// The [`RunOutcome`] of a run that ended with `status` at `t` after `steps` grid steps: adds the
/// step selection's evaluations and the final predictions, and marks a non-finite end as diverged.
#[allow(clippy::too_many_arguments)]
fn finish(
    data: &Dataset,
    schedule: &Plan,
    step_choice: Option<StepChoice>,
    status: Status,
    space: Space,
    t: f64,
    steps: usize,
    evaluations: usize,
    error: ErrorReport,
    network: Network,
) -> Result<RunOutcome> {
    let mut status = status;
    let evaluations = evaluations + step_choice.map_or(0, |c| c.evaluations);
    let (u, loss) = final_predictions(data, &network)?;
    if u.is_empty() && !status.diverged() {
        status = Status::Diverged { t, step: steps, reason: Divergence::NonFinite };
    }
    Ok(RunOutcome {
        status,
        t,
        h: schedule.h,
        last_step: schedule.last_step(),
        space,
        step_choice,
        steps,
        evaluations,
        error,
        network,
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
