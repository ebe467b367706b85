//! Gradient-flow trajectories for the flow claims (Thm 2.1, Lem 2.4, Lem 2.5, Thm 2.6).
//!
//! Horizons are chosen to let the bound bite, and numerical bands come from the integrator's own
//! error estimates.

use flow::{ErrorEstimate, FlowConfig, RecorderOptions, RunOutcome, SampleTimes, Snapshot, StepSize};
use model::{Dataset, InfiniteWidth, Network};

use crate::claim::Measurements;
use crate::claim::{Judge, worst_of};
use crate::result::{Observation, Outcome};
use crate::{CheckConfig, LemmaError};

/// Sample intervals of a flow check's trajectory.
pub const SAMPLE_INTERVALS: usize = 40;

/// Relative allowance for floating-point rounding in exact inequalities.
pub const ROUNDING: f64 = 1e-12;

/// One sampled point of a flow trajectory, with everything the flow checks compare.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// Time t.
    pub t: f64,
    /// ‖y − u(t)‖².
    pub residual_sq: f64,
    /// ‖y − u(t)‖² / (e^{−λ0 t}‖y − u(0)‖²).
    pub bound_ratio: f64,
    /// Band on `bound_ratio` from the integrator's error estimate of u (made valid at any order), plus rounding.
    pub ratio_band: f64,
    /// The integrator's error estimate of u(t) (made valid at any order; +∞ when not finite).
    pub u_error: f64,
    /// λmin(H(t)) (H with a_r(t)² weights).
    pub lambda_min_h: f64,
    /// λmin(H(t) + G(t)), both-layer runs only.
    pub lambda_min_h_plus_g: Option<f64>,
    /// max_r ‖w_r(t) − w_r(0)‖.
    pub max_distance: f64,
    /// Band on per-neuron distances: the integrator's per-neuron error estimate (made valid at any order).
    pub distance_band: f64,
    /// max_r ‖∂L/∂w_r(t)‖ (= max_r ‖dw_r/dt‖).
    pub max_neuron_gradient: f64,
}

/// A sampled flow trajectory and its constants.
#[derive(Debug, Clone)]
pub struct Run {
    /// Samples at t_k = T·k/[`SAMPLE_INTERVALS`].
    pub points: Vec<Point>,
    /// ‖y − u(0)‖.
    pub initial_residual_norm: f64,
    /// u(0) − y (the start the kernel-limit predictions of `kernel_limit` take).
    pub initial_residual: Vec<f64>,
    /// R′ = 2√n ‖y − u(0)‖ / (√m λ0).
    pub r_prime: f64,
    /// Whether the run reached T (or the rounding level) without diverging.
    pub completed: bool,
}

/// Horizons longer than this many RK4 steps are refused before anything runs.
pub const MAX_STEPS: f64 = 2e6;

/// A run stops once ‖y − u‖² has fallen below this × ‖y − u(0)‖² (the rounding level).
pub const ROUNDING_LEVEL: f64 = 1e-26;

/// The horizon λ0·T the flow claims run to: the bound e^{−λ0 T} has fallen by e⁻⁸ (docs/theory.md §3.6).
pub const LAMBDA0_T: f64 = 8.0;

/// λ0, refused unless positive and finite (every radius, width and horizon divides by it).
pub fn positive_lambda0(lambda0: f64) -> Result<f64, LemmaError> {
    if lambda0.is_finite() && lambda0 > 0.0 {
        Ok(lambda0)
    } else {
        Err(LemmaError::Config {
            name: "data",
            value: format!("λ0 = {lambda0:e}"),
            reason: "λ0 = λmin(H∞) must be positive: the inputs are (nearly) parallel; change n, d or the master seed"
                .into(),
        })
    }
}

/// The horizon of a flow claim: T = max(horizon, 8/λ0), refused when T/h exceeds [`MAX_STEPS`].
pub fn horizon(cfg: &CheckConfig, lambda0: f64) -> Result<f64, LemmaError> {
    let t = cfg.horizon.max(LAMBDA0_T / lambda0);
    if t / cfg.step > MAX_STEPS {
        return Err(LemmaError::Config {
            name: "step",
            value: format!("{:e}", cfg.step),
            reason: format!(
                "the horizon T = max(horizon, 8/λ0) = {t:.4} with λ0 = {lambda0:.4} needs {:.3e} RK4 steps, more than {MAX_STEPS:e}: raise the step",
                t / cfg.step
            ),
        });
    }
    Ok(t)
}

impl Run {
    /// The prefix of points on which λmin(H(s)) ≥ λ0/2 held at every sample so far (Lem 2.4's premise).
    pub fn premise_span(&self, lambda0: f64) -> &[Point] {
        let end = self.points.iter().position(|p| p.lambda_min_h < lambda0 / 2.0).unwrap_or(self.points.len());
        &self.points[..end]
    }
}

/// max_r ‖∂L/∂w_r‖ at a snapshot; stops the run at the rounding level.
struct NeuronGradients {
    values: Vec<f64>,
    /// u(0) − y, from the first sample.
    initial_residual: Vec<f64>,
    initial_loss: f64,
    lambda0: f64,
    stop_above_ratio: Option<f64>,
}

impl flow::Observer<flow::Snapshot<'_>, flow::FlowError> for NeuronGradients {
    fn observe(&mut self, s: &Snapshot<'_>) -> flow::Result<flow::Control> {
        if s.sample_index == 0 {
            self.initial_loss = s.loss;
            self.initial_residual = s.residual.iter().copied().collect();
        }
        let g = model::network::grad_w(s.data.x(), s.z, s.a, s.residual);
        let mut norms = vec![0.0f64; g.nrows()];
        for k in 0..g.ncols() {
            let c = g.col(k);
            for (r, v) in norms.iter_mut().enumerate() {
                *v += c[r] * c[r];
            }
        }
        self.values.push(norms.into_iter().fold(0.0, f64::max).sqrt());
        let ratio = s.loss / ((-self.lambda0 * s.t).exp() * self.initial_loss);
        let failed = self.stop_above_ratio.is_some_and(|r| ratio > r * (1.0 + 1e-6));
        Ok(if s.sample_index > 0 && (failed || s.loss <= ROUNDING_LEVEL * self.initial_loss) {
            flow::Control::Stop
        } else {
            flow::Control::Continue
        })
    }
}

/// The flow configuration of a check: T = `t_end` (see [`horizon`]), fixed h = step, and step
/// doubling (a shadow trajectory at h/2) as the error estimate: the embedded estimate, at a third
/// of the cost, can fall far below the true error where patterns flip (docs/theory.md §3.3), so it
/// does not decide verdicts.
pub fn flow_config(cfg: &CheckConfig, t_end: f64) -> FlowConfig {
    FlowConfig {
        t_end,
        step: StepSize::Fixed(cfg.step),
        samples: SampleTimes::Uniform { intervals: SAMPLE_INTERVALS },
        error_estimate: ErrorEstimate::Shadow,
        ..FlowConfig::default()
    }
}

/// Runs the first-layer flow (or, with `both_layers`, the flow on (W, a)) and samples it.
pub fn run(
    data: &Dataset,
    net: &Network,
    reference: &InfiniteWidth,
    config: &FlowConfig,
    both_layers: bool,
) -> Result<Run, LemmaError> {
    run_until(data, net, reference, config, both_layers, None)
}

/// [`run`], stopped (as completed) at the first sample where the decay ratio exceeds
/// `stop_above_ratio`: for a claim whose only use of the run is that decay bound, the rest of the
/// run cannot change its failure.
pub fn run_until(
    data: &Dataset,
    net: &Network,
    reference: &InfiniteWidth,
    config: &FlowConfig,
    both_layers: bool,
    stop_above_ratio: Option<f64>,
) -> Result<Run, LemmaError> {
    let options = RecorderOptions { lambda_min_every: 1, keep_u: false };
    let mut grads = NeuronGradients {
        values: Vec::new(),
        initial_residual: Vec::new(),
        initial_loss: 0.0,
        lambda0: reference.lambda0(),
        stop_above_ratio,
    };
    let (outcome, samples, extra): (RunOutcome, Vec<flow::Sample>, Vec<Option<f64>>) = if both_layers {
        let mut rec = both_layers::recorder(reference, options);
        let out = both_layers::run(data, net, config, &mut (&mut rec, &mut grads)).map_err(dynamics)?;
        let traj = rec.into_trajectory();
        let extra = traj.samples.iter().map(|s| s.second_layer.and_then(|x| x.lambda_min_h_plus_g)).collect();
        (out, traj.samples, extra)
    } else {
        let mut rec = flow::Recorder::new(reference, options);
        let out = flow::run(data, net, config, &mut (&mut rec, &mut grads)).map_err(dynamics)?;
        let traj = rec.into_trajectory();
        let n = traj.samples.len();
        (out, traj.samples, vec![None; n])
    };
    let r0 = samples.first().map_or(0.0, |s| s.residual_sq.sqrt());
    // The band factor of the estimate (× 15/8 for step doubling: valid at any order p ≥ 1).
    let factor = config.error_estimate.band_factor();
    let (n, m) = (data.n() as f64, net.m() as f64);
    let points = samples
        .iter()
        .zip(extra)
        .zip(&grads.values)
        .map(|((s, hg), g)| {
            // Without a shadow there is no estimate of u's error: an unknown band decides nothing.
            let u_err = s.u_error_estimate.map_or(f64::INFINITY, |e| factor * e);
            let res = s.residual_sq.sqrt();
            let bound = (-reference.lambda0() * s.t).exp() * r0 * r0;
            let ratio_band = if s.t == 0.0 {
                0.0
            } else if bound > 0.0 {
                (2.0 * res * u_err + u_err * u_err) / bound + ROUNDING * s.bound_ratio
            } else {
                f64::INFINITY
            };
            Point {
                t: s.t,
                residual_sq: s.residual_sq,
                bound_ratio: s.bound_ratio,
                ratio_band,
                u_error: u_err,
                lambda_min_h: s.lambda_min_h.unwrap_or(f64::INFINITY),
                lambda_min_h_plus_g: hg,
                max_distance: s.max_weight_distance,
                distance_band: if s.t == 0.0 {
                    0.0
                } else {
                    s.neuron_error_estimate.map_or(f64::INFINITY, |e| factor * e)
                },
                max_neuron_gradient: *g,
            }
        })
        .collect();
    Ok(Run {
        points,
        initial_residual_norm: r0,
        initial_residual: grads.initial_residual,
        r_prime: 2.0 * n.sqrt() * r0 / (m.sqrt() * reference.lambda0()),
        completed: matches!(outcome.status, flow::Status::Completed | flow::Status::Stopped { .. }),
    })
}

/// The decay ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖² at every sample t > 0 of `points`, judged with
/// each sample's band; the worst sample (with its time) is the observation. A run that did not
/// complete fails it.
pub fn decay_observation(judge: &Judge, points: &[Point], completed: bool) -> Observation {
    let o = worst_of(
        points.iter().filter(|p| p.t > 0.0).map(|p| judge.at_most(p.bound_ratio, 1.0, p.ratio_band).at_time(p.t)),
    );
    if completed || o.outcome == Outcome::Vacuous { o } else { Observation { outcome: Outcome::Fails, ..o } }
}

/// The late decay rate of ‖y − u‖²: −log(r(T)/r(T/2)) / (T/2) over the second half of the samples
/// (the run may have stopped at the rounding level).
pub fn late_decay_rate(points: &[Point]) -> f64 {
    // Non-empty: lem24 passes ≥ 3 points; thm21/thm26 a run's points, where execute() samples t = 0
    // whenever loss(0) is finite, which the checks' own data guarantee.
    let (a, b) = (&points[points.len() / 2], &points[points.len() - 1]);
    if b.t <= a.t || a.residual_sq <= 0.0 || b.residual_sq <= 0.0 {
        return 0.0;
    }
    -(b.residual_sq / a.residual_sq).ln() / (b.t - a.t)
}

pub(crate) fn dynamics(e: impl std::fmt::Display) -> LemmaError {
    LemmaError::Dynamics(e.to_string())
}

/// Runs `stepper` on `state` over `moves` through the one executor `model::execute`, with its one
/// divergence rule at `model::DEFAULT_DIVERGENCE_FACTOR`; `see` looks at every sample (the start
/// first) and may stop the run. A [`LemmaError`] from `see` ends the run and is returned; the
/// stepper's own errors come back as [`LemmaError::Dynamics`]. The claims drive every run they
/// step themselves through it (the crates' own `run` functions go through `model::execute` too).
pub(crate) fn execute<S, M, F>(
    stepper: &mut S,
    state: &mut S::State,
    moves: M,
    mut see: F,
) -> Result<model::Run, LemmaError>
where
    S: model::Stepper,
    S::Error: std::fmt::Display,
    M: IntoIterator<Item = model::grid::Move>,
    F: FnMut(&S::State, model::At) -> Result<model::Control, LemmaError>,
{
    let mut failure = None;
    let run = model::execute(stepper, state, moves, model::DEFAULT_DIVERGENCE_FACTOR, |_, state, at| {
        Ok(see(state, at).unwrap_or_else(|e| {
            failure = Some(e);
            model::Control::Stop
        }))
    })
    .map_err(dynamics)?;
    failure.map_or(Ok(run), Err)
}

/// "At m = …, the late decay rate was between a and b × λ0 and c–d × 2λmin(H(T))", from the results.
pub(crate) fn rate_note(measured: &Measurements) -> Option<String> {
    let (rate, vs) = (measured.measure("decay-rate")?, measured.measure("rate-vs-2-lambda-min"));
    let row = rate.rows.iter().rev().find(|r| r.seeds > 0)?;
    let mut s = format!(
        "At m = {}, the late decay rate of ‖y − u‖² was {:.3}–{:.3} × λ0 over {} seeds (the bound's rate is 1 × λ0)",
        row.m, row.min, row.max, row.seeds
    );
    if let Some(v) = vs.and_then(|v| v.rows.iter().find(|r| r.m == row.m && r.seeds > 0)) {
        s.push_str(&format!(", and {:.3}–{:.3} × 2λmin(H(T))", v.min, v.max));
    }
    s.push('.');
    Some(s)
}
