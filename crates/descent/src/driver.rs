//! The driver: runs the steps, owns stopping (iteration count, divergence) and calls observers.

use faer::Col;
use model::{Dataset, Network, Observer, Status};

use crate::{DescentConfig, DescentError, Problem, Result, State};

/// What an observer of a descent run sees after each accepted iteration (k = 0 first, then 1, 2,
/// …): the problem and the state. Observers are `model::Observer<View<'_>, DescentError>` (the one
/// observer trait of every dynamics, re-exported as [`crate::Observer`]): [`Control::Stop`] ends
/// the run with [`Status::Stopped`] at the iterate just shown (the outcome then describes that
/// iterate). The driver shows only finite states: a diverged iterate is never shown. An observer
/// error stops the run and is returned.
#[derive(Clone, Copy)]
pub struct View<'v> {
    /// The problem being run.
    pub problem: &'v Problem<'v>,
    /// The state after iteration `state.iteration()`.
    pub state: &'v State,
    /// Index of this sample in its run (0: the state the run starts from).
    pub sample_index: usize,
}

/// A list of observers of descent runs, each called in order (the run stops if any asks).
pub type Observers<'o> = Vec<Box<dyn for<'v> Observer<View<'v>, DescentError> + 'o>>;

/// The result of a run: how it ended, and the last accepted iterate's summary. All values finite.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Completed, stopped by an observer, or diverged: the shared `model::Status`, with `step` = k
    /// and `t` = kη of the returned (last accepted) iterate. On divergence the reason is
    /// [`Divergence::LossGrowth`] (carrying the loss that passed `divergence_factor · L(0)`) or
    /// [`Divergence::NonFinite`] (loss +∞ by [`Divergence::loss`]); the failing iterate is k + 1.
    pub status: Status,
    /// The step size η used.
    pub eta: f64,
    /// λ0 = λmin(H∞) if it was computed during the run (theorem step or recorder), else `None`.
    pub lambda0: Option<f64>,
    /// L(0).
    pub initial_loss: f64,
    /// The last accepted iteration k (the configured count unless diverged or stopped).
    pub iterations: usize,
    /// L(k) at that iteration.
    pub final_loss: f64,
    /// max_k L(k) over the accepted iterates: above L(0) when the step is past the stability limit
    /// 2/λmax(H) even if the run then recovers (a "catapult": patterns change until λmax(H) < 2/η).
    pub peak_loss: f64,
    /// u(k) at that iteration.
    pub final_predictions: Col<f64>,
    /// max_r ‖w_r(k) − w_r(0)‖₂ at that iteration.
    pub final_max_weight_distance: f64,
    /// ‖W(k) − W(0)‖_F at that iteration.
    pub final_frobenius_distance: f64,
}

impl Problem<'_> {
    /// Runs `config.iterations` steps from the initial state, calling `observer` at k = 0, at every
    /// `config.sample_every`-th iteration and at the last. Stops early with [`Status::Diverged`] when the loss exceeds
    /// `divergence_factor · L(0)` or anything kept is non-finite, and with [`Status::Stopped`] when
    /// an observer returns [`Control::Stop`].
    pub fn run<O: for<'v> Observer<View<'v>, DescentError> + ?Sized>(&self, observer: &mut O) -> Result<Outcome> {
        let state = self.initial_state()?;
        self.run_from(state, observer)
    }

    /// As [`Problem::run`], from a given state (made by this problem), for `config.iterations`
    /// more steps; the divergence threshold is relative to the loss of the state given.
    ///
    /// The steps go through the one executor `model::execute` (its divergence rule, its stop
    /// rule) with a [`GdStepper`]; the samples are `model::grid::iterations`' (every
    /// `sample_every`-th iterate and the last), and the outcome names the last accepted iterate
    /// even when it was not a sample.
    pub fn run_from<O: for<'v> Observer<View<'v>, DescentError> + ?Sized>(
        &self,
        mut state: State,
        observer: &mut O,
    ) -> Result<Outcome> {
        if !state.is_finite() {
            return Err(DescentError::InvalidParameter {
                name: "state",
                value: format!("iteration {}", state.iteration()),
                reason: "holds non-finite values; a run cannot start from it".into(),
            });
        }
        let initial_loss = state.loss();
        let first = state.iteration();
        let eta = self.eta();
        let moves = model::grid::iterations(eta, self.config().iterations, self.config().sample_every);
        let mut stepper = Tracked { gd: GdStepper { problem: self }, accepted: None, peak_loss: initial_loss };
        let run = model::execute(&mut stepper, &mut state, moves, self.config().divergence_factor, |_, state, at| {
            observer.observe(&View { problem: self, state, sample_index: at.index })
        })?;
        // The last accepted iterate: the state itself, unless the executor refused the step that
        // made it (GD keeps no copy; the tracker noted the iterate before that step).
        let last = match (run.status, stepper.accepted) {
            (Status::Diverged { .. }, Some(accepted)) => accepted,
            _ => Summary::of(&state),
        };
        let peak_loss = if run.status.diverged() { stepper.peak_loss } else { stepper.peak_loss.max(last.loss) };
        // The executor counts from 0; a run from iteration k₀ names iterations k₀ + k.
        let shift = |step: usize| (first + step, (first + step) as f64 * eta);
        let status = match run.status {
            Status::Completed => Status::Completed,
            Status::Stopped { step, .. } => {
                let (step, t) = shift(step);
                Status::Stopped { t, step }
            }
            Status::Diverged { step, reason, .. } => {
                let (step, t) = shift(step);
                Status::Diverged { t, step, reason }
            }
        };
        Ok(Outcome {
            status,
            eta,
            lambda0: self.lambda0_if_known(),
            initial_loss,
            iterations: last.iteration,
            final_loss: last.loss,
            peak_loss,
            final_predictions: last.predictions,
            final_max_weight_distance: last.max_weight_distance,
            final_frobenius_distance: last.frobenius_distance,
        })
    }
}

/// First-layer GD (or SGD) as a `model::Stepper`: one [`Problem::step`] in place. A refused
/// iterate is left in the state (no copy is kept); [`Problem::run_from`] notes the iterate before
/// each step, O(n), and reports that one when a step is refused.
pub struct GdStepper<'p, 'a> {
    /// The problem whose steps it takes.
    pub problem: &'p Problem<'a>,
}

impl model::Stepper for GdStepper<'_, '_> {
    type State = State;
    type Error = DescentError;

    fn start(&mut self, state: &State) -> Result<f64> {
        Ok(state.loss())
    }

    fn step(&mut self, state: &mut State, _from: f64, _to: f64) -> Result<f64> {
        self.problem.step(state)?;
        Ok(if state.is_finite() { state.loss() } else { f64::INFINITY })
    }
}

/// A [`GdStepper`] that notes, before each step, the iterate it starts from (the last accepted
/// one, should the executor refuse the step) and the peak loss over accepted iterates, so that
/// the outcome names them even when they were not samples. O(n) per step.
struct Tracked<'p, 'a> {
    gd: GdStepper<'p, 'a>,
    accepted: Option<Summary>,
    peak_loss: f64,
}

impl model::Stepper for Tracked<'_, '_> {
    type State = State;
    type Error = DescentError;

    fn start(&mut self, state: &State) -> Result<f64> {
        self.gd.start(state)
    }

    fn step(&mut self, state: &mut State, from: f64, to: f64) -> Result<f64> {
        match &mut self.accepted {
            Some(summary) => summary.update(state),
            None => self.accepted = Some(Summary::of(state)),
        }
        self.peak_loss = self.peak_loss.max(state.loss());
        self.gd.step(state, from, to)
    }
}

/// Runs gradient descent of the first layer on `data` from `net` (W(0), a fixed) with `config`,
/// calling `observer` at every accepted iteration. See [`Problem::run`].
pub fn run<O: for<'v> Observer<View<'v>, DescentError> + ?Sized>(
    data: &Dataset,
    net: &Network,
    config: &DescentConfig,
    observer: &mut O,
) -> Result<Outcome> {
    Problem::new(data, net, config)?.run(observer)
}

/// The last accepted (finite) iterate.
struct Summary {
    iteration: usize,
    loss: f64,
    predictions: Col<f64>,
    max_weight_distance: f64,
    frobenius_distance: f64,
}

impl Summary {
    /// Overwrites the summary with `state`'s, reusing the predictions' buffer.
    fn update(&mut self, state: &State) {
        self.iteration = state.iteration();
        self.loss = state.loss();
        self.predictions.copy_from(state.predictions());
        self.max_weight_distance = state.max_weight_distance();
        self.frobenius_distance = state.frobenius_distance();
    }

    fn of(state: &State) -> Self {
        Summary {
            iteration: state.iteration(),
            loss: state.loss(),
            predictions: state.predictions().to_owned(),
            max_weight_distance: state.max_weight_distance(),
            frobenius_distance: state.frobenius_distance(),
        }
    }
}
