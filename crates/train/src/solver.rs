//! The reduced solver of docs/theory.md §5 behind `train`: first-layer flow and GD without storing W.
//!
//! `auto` takes it for first-layer dynamics on a seeded init when the width is large against n
//! (m ≥ [`AUTO_MIN_WIDTH`] and n ≤ [`AUTO_MAX_INPUTS`]): it gives the full solver's numbers to
//! rounding without storing W. Both-layer methods always run the full solver.

use model::{Dataset, Network};
use reduced::{BudgetPolicy, Control, GivenNetwork, NeuronSource, Sample, SeededInit, System};

use crate::{MAX_SAMPLES, Method, Options, Row, TrainError, Trained, bytes, gd_stride};

/// Widths from which `auto` takes the reduced solver.
pub const AUTO_MIN_WIDTH: usize = 1_000_000;
/// Widest network the reduced solver is run at: each pass streams d normals per neuron, about an
/// hour per pass beyond this; wider runs are refused (and `auto` leaves them to the full solver,
/// which refuses them for memory).
pub const MAX_REDUCED_WIDTH: usize = 10_000_000_000;
/// Largest n for which `auto` takes the reduced solver (2ⁿ pattern counters).
pub const AUTO_MAX_INPUTS: usize = 12;

/// Which solver runs the dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// Reduced for first-layer flow and GD when m ≫ n, full otherwise.
    #[default]
    Auto,
    /// Store W and run every neuron.
    Full,
    /// The exact lazy-neuron reduction (first-layer flow and GD only).
    Reduced,
}

/// Where the reduced solver's neurons come from.
#[derive(Debug, Clone, Copy)]
pub enum Init<'a> {
    /// The seeded init of `width` neurons (`Network::init`'s streams, trial 0), drawn as it streams.
    Seeded {
        /// Width m.
        width: usize,
        /// Seed.
        seed: u64,
    },
    /// A given network.
    Given(&'a Network),
}

/// Whether `solver` asks for the reduced solver for `method` at `width` (`given`: the network is
/// given rather than seeded), before the data are read; an error when it asks for what the reduced
/// solver cannot do.
pub fn reduced_applies(solver: Solver, method: Method, given: bool, width: usize) -> Result<bool, TrainError> {
    let first_layer = method.first_layer();
    match solver {
        Solver::Full => Ok(false),
        Solver::Reduced if !first_layer => Err(TrainError::Input(format!(
            "--solver reduced --method {method:?}: the reduction is for first-layer dynamics (flow, gd) only"
        ))),
        Solver::Auto if !(first_layer && !given && (AUTO_MIN_WIDTH..=MAX_REDUCED_WIDTH).contains(&width)) => Ok(false),
        Solver::Reduced if !given && width > MAX_REDUCED_WIDTH => Err(TrainError::Input(format!(
            "--width {width} --solver reduced: each pass streams d normals per neuron, more than an hour beyond {MAX_REDUCED_WIDTH:e} neurons: lower --width"
        ))),
        _ => Ok(true),
    }
}

/// Trains on the reduced solver (call when [`reduced_applies`]); `None` when `auto` leaves the run
/// to the full solver after all (n > [`AUTO_MAX_INPUTS`]).
pub fn train_reduced(
    data: &Dataset,
    init: Init<'_>,
    options: &Options,
    solver: Solver,
) -> Result<Option<Trained>, TrainError> {
    options.validate(crate::Spelling::CommandLine)?;
    if solver == Solver::Auto && data.n() > AUTO_MAX_INPUTS {
        return Ok(None);
    }
    Ok(Some(match init {
        Init::Given(net) => run(data, &GivenNetwork::new(data, net)?, options)?,
        Init::Seeded { width, seed } => run(data, &SeededInit::new(data, width, seed, 0)?, options)?,
    }))
}

fn run<S: NeuronSource>(data: &Dataset, src: &S, o: &Options) -> Result<Trained, TrainError> {
    let sys = System::new(data, src, BudgetPolicy::default())?;
    let lambda0 = sys.lambda0();
    let st = sys.initial_state()?;
    let e0_sq = st.initial_residual_norm.powi(2);
    let mut rows = Vec::new();
    let lambda_min = o.lambda_min;
    let mut push = |s: &Sample, bound: f64| {
        rows.push(Row {
            t: s.t,
            step: s.step,
            loss: s.loss,
            residual_sq: 2.0 * s.loss,
            bound_ratio: Some(if bound > 0.0 { (2.0 * s.loss / bound).min(1e300) } else { 1e300 }),
            pattern_change_fraction: s.pattern_change_fraction,
            max_weight_distance: s.max_distance,
            lambda_min_h: lambda_min.then_some(s.lambda_min_h),
        });
        Ok::<_, reduced::ReducedError>(Control::Continue)
    };
    let (outcome, what, eta) = match o.method {
        Method::Gd => {
            let eta = o.eta.unwrap_or_else(|| descent::LearningRate::theorem_eta(1.0, lambda0, data.n()));
            let stride = gd_stride(o.iterations, o.every);
            let rate = 1.0 - eta * lambda0 / 2.0;
            let mut observer =
                model::FnObserver(|s: &Sample| push(s, e0_sq * model::infinite::integer_power(rate, s.step)));
            let out = reduced::run_gd(&sys, st, eta, o.iterations, |k| k % stride == 0, &mut observer)?;
            (out, format!("{} iterations with η = {eta}", o.iterations), Some(eta))
        }
        _ => {
            let intervals = o.every.max(1) * 50;
            let t_end = o.horizon;
            let times: Vec<f64> = (0..=intervals)
                .map(|k| if k == intervals { t_end } else { t_end * k as f64 / intervals as f64 })
                .collect();
            debug_assert!(times.len() <= MAX_SAMPLES + 1);
            let mut observer = model::FnObserver(|s: &Sample| push(s, e0_sq * (-lambda0 * s.t).exp()));
            let out = reduced::run_flow(&sys, st, o.step, &times, &mut observer)?;
            let what = format!("t = {} with h = {}", out.t, o.step);
            (out, what, None)
        }
    };
    let status = format!(
        "{} {what} (reduced solver: {} active neurons at most of {}, {} budget passes, peak memory about {})",
        if outcome.status.diverged() { "diverged before" } else { "completed" },
        outcome.max_active,
        sys.m(),
        outcome.passes,
        bytes(outcome.peak_memory.total())
    );
    Ok(Trained { rows, status, diverged: outcome.status.diverged(), eta })
}
