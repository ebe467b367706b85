//! Gradient-flow trajectories for the flow claims (Thm 2.1, Lem 2.4, Lem 2.5, Thm 2.6), with tolerances from the integrator's own error estimates.

use flow::{
    ANY_ORDER_FACTOR, ErrorEstimate, FlowConfig, InfiniteWidth, Observer, RecorderOptions, RunOutcome, SampleTimes,
    Snapshot, StepSize,
};
use model::{Dataset, Network};

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
    /// Allowance on `bound_ratio` from the integrator's error estimate of u (made valid at any order).
    pub ratio_tolerance: f64,
    /// λmin(H(t)) (H with a_r(t)² weights).
    pub lambda_min_h: f64,
    /// λmin(H(t) + G(t)), both-layer runs only.
    pub lambda_min_h_plus_g: Option<f64>,
    /// max_r ‖w_r(t) − w_r(0)‖.
    pub max_distance: f64,
    /// Allowance on distances from the integrator's state error estimate.
    pub distance_tolerance: f64,
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
    /// R′ = 2√n ‖y − u(0)‖ / (√m λ0).
    pub r_prime: f64,
    /// Whether the run reached T without diverging.
    pub completed: bool,
}

impl Run {
    /// The prefix of points on which λmin(H(s)) ≥ λ0/2 held at every sample so far (Lem 2.4's premise).
    pub fn premise_span(&self, lambda0: f64) -> &[Point] {
        let end = self.points.iter().position(|p| p.lambda_min_h < lambda0 / 2.0).unwrap_or(self.points.len());
        &self.points[..end]
    }
}

/// max_r ‖∂L/∂w_r‖ at a snapshot.
struct NeuronGradients {
    values: Vec<f64>,
}

impl Observer for NeuronGradients {
    fn observe(&mut self, s: &Snapshot<'_>) -> flow::Result<flow::Control> {
        let g = model::network::grad_w(s.data.x(), s.z, s.a, s.residual);
        let mut norms = vec![0.0f64; g.nrows()];
        for k in 0..g.ncols() {
            let c = g.col(k);
            for (r, v) in norms.iter_mut().enumerate() {
                *v += c[r] * c[r];
            }
        }
        self.values.push(norms.into_iter().fold(0.0, f64::max).sqrt());
        Ok(flow::Control::Continue)
    }
}

/// The flow configuration of a check: T = horizon, fixed h = step, shadow error estimate.
pub fn flow_config(cfg: &CheckConfig) -> FlowConfig {
    FlowConfig {
        t_end: cfg.horizon,
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
    let options = RecorderOptions { lambda_min_every: 1, keep_u: false };
    let mut grads = NeuronGradients { values: Vec::new() };
    let (outcome, samples, extra): (RunOutcome, Vec<flow::Sample>, Vec<Option<f64>>) = if both_layers {
        let mut rec = both_layers::Recorder::new(reference, options);
        let out = both_layers::run(data, net, config, &mut (&mut rec, &mut grads)).map_err(dynamics)?;
        let traj = rec.into_trajectory();
        let extra = traj.samples.iter().map(|s| s.lambda_min_h_plus_g).collect();
        (out, traj.samples.into_iter().map(|s| s.base).collect(), extra)
    } else {
        let mut rec = flow::Recorder::new(reference, options);
        let out = flow::run(data, net, config, &mut (&mut rec, &mut grads)).map_err(dynamics)?;
        let traj = rec.into_trajectory();
        let n = traj.samples.len();
        (out, traj.samples, vec![None; n])
    };
    let r0 = samples.first().map_or(0.0, |s| s.residual_sq.sqrt());
    let (n, m) = (data.n() as f64, net.m() as f64);
    let points = samples
        .iter()
        .zip(extra)
        .zip(&grads.values)
        .map(|((s, hg), g)| {
            let u_err = ANY_ORDER_FACTOR * s.u_error_estimate.unwrap_or(0.0);
            let res = s.residual_sq.sqrt();
            let bound = (-reference.lambda0() * s.t).exp() * r0 * r0;
            let ratio_tolerance =
                if bound > 0.0 { (2.0 * res * u_err + u_err * u_err) / bound + ROUNDING } else { ROUNDING };
            Point {
                t: s.t,
                residual_sq: s.residual_sq,
                bound_ratio: s.bound_ratio,
                ratio_tolerance,
                lambda_min_h: s.lambda_min_h.unwrap_or(f64::INFINITY),
                lambda_min_h_plus_g: hg,
                max_distance: s.max_weight_distance,
                distance_tolerance: ANY_ORDER_FACTOR * s.state_error_estimate.unwrap_or(0.0),
                max_neuron_gradient: *g,
            }
        })
        .collect();
    Ok(Run {
        points,
        initial_residual_norm: r0,
        r_prime: 2.0 * n.sqrt() * r0 / (m.sqrt() * reference.lambda0()),
        completed: matches!(outcome.status, flow::RunStatus::Completed),
    })
}

/// The worst bound ratio over t > 0 and whether every ratio is within its tolerance.
pub fn worst_decay(points: &[Point]) -> (f64, f64, bool) {
    let mut worst = (0.0, 0.0);
    let mut holds = true;
    for p in points.iter().filter(|p| p.t > 0.0) {
        holds &= p.bound_ratio <= 1.0 + p.ratio_tolerance;
        if p.bound_ratio > worst.1 {
            worst = (p.t, p.bound_ratio);
        }
    }
    (worst.0, worst.1, holds)
}

/// The decay statement ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖² at every sample t > 0 of a completed run,
/// measured by its worst ratio (with the time it occurred).
pub fn decay_statement(r: &Run) -> crate::result::Observation {
    let (t, worst, holds) = worst_decay(&r.points);
    let mut o = crate::result::Observation::at_most(worst, 1.0).at_time(t);
    o.holds = holds && r.completed;
    o
}

/// Observed decay rate of ‖y − u‖² over the second half of the run: −log(r(T)/r(T/2)) / (T/2).
pub fn late_decay_rate(points: &[Point]) -> f64 {
    let (a, b) = (&points[points.len() / 2], &points[points.len() - 1]);
    if b.t <= a.t || a.residual_sq <= 0.0 || b.residual_sq <= 0.0 {
        return 0.0;
    }
    -(b.residual_sq / a.residual_sq).ln() / (b.t - a.t)
}

pub(crate) fn dynamics(e: impl std::fmt::Display) -> LemmaError {
    LemmaError::Dynamics(e.to_string())
}
