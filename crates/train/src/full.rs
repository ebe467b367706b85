//! The full solver: every neuron stored, first-layer GD through `descent`, flows through `flow` and `both-layers`.

use model::{Control, Dataset, Network, Status};

use crate::{MAX_SAMPLES, Method, Options, Row, TrainError, Trained, Watch, gd_stride};

/// Hands every step to the caller's [`Watch`], as an observer of any of the dynamics.
struct Watching<'a>(&'a mut dyn Watch);

impl model::Observer<descent::View<'_>, descent::DescentError> for Watching<'_> {
    fn observe(&mut self, view: &descent::View<'_>) -> descent::Result<Control> {
        Ok(self.0.at_step(view.state.iteration()))
    }
}

impl model::Observer<flow::Snapshot<'_>, flow::FlowError> for Watching<'_> {
    fn observe(&mut self, snapshot: &flow::Snapshot<'_>) -> flow::Result<Control> {
        Ok(self.0.at_step(snapshot.step))
    }
}

/// Keeps the cheap quantities of the latest accepted GD iterate (O(nm/64) per iterate for the
/// pattern-change fraction), so that the last iterate is a row even when it falls between samples.
struct LastIterate(Option<Row>);

impl model::Observer<descent::View<'_>, descent::DescentError> for LastIterate {
    fn observe(&mut self, view: &descent::View<'_>) -> descent::Result<Control> {
        let state = view.state;
        self.0 = Some(Row {
            t: 0.0,
            step: state.iteration(),
            loss: state.loss(),
            residual_sq: state.residual_norm_sq(),
            bound_ratio: None,
            pattern_change_fraction: if state.iteration() == 0 { 0.0 } else { state.pattern_change_fraction() },
            max_weight_distance: state.max_weight_distance(),
            lambda_min_h: None,
        });
        Ok(Control::Continue)
    }
}

/// A recorded sample as a row, with the bound ratio of its dynamics (discrete for first-layer GD).
fn row(s: &model::Sample, bound_ratio: Option<f64>) -> Row {
    Row {
        t: s.t,
        step: s.step,
        loss: s.loss,
        residual_sq: s.residual_sq,
        bound_ratio,
        pattern_change_fraction: s.pattern_change_fraction,
        max_weight_distance: s.max_weight_distance,
        lambda_min_h: s.lambda_min_h,
    }
}

/// Trains `net` on `data` with every neuron stored; `watch` sees every step. The options are
/// checked first ([`Options::validate`]).
pub fn train(data: &Dataset, net: &Network, options: &Options, watch: &mut dyn Watch) -> Result<Trained, TrainError> {
    options.validate(crate::Spelling::CommandLine)?;
    match options.method {
        Method::Gd => first_layer_gd(data, net, options, watch),
        Method::Flow | Method::BothFlow | Method::BothGd => flow_like(data, net, options, watch),
    }
}

/// The note a GD status carries when the sampling stride was raised.
fn stride_note(stride: usize, every: usize) -> String {
    if stride == every {
        String::new()
    } else {
        format!(
            " (sampled every {stride} iterations, not {every}, to keep at most {MAX_SAMPLES} samples; the last iterate is kept)"
        )
    }
}

/// One sentence for a flow or both-layers run that stopped early.
fn flow_status_sentence(status: &Status) -> Option<String> {
    match status {
        Status::Diverged { t, step, reason } => Some(match reason {
            model::Divergence::NonFinite => {
                format!(
                    "diverged after step {step} (t = {t}): a value became non-finite; lower the step (--step, --eta)"
                )
            }
            model::Divergence::LossGrowth { loss, initial_loss, factor } => format!(
                "diverged after step {step} (t = {t}): the loss {loss:e} passed {factor:e} × the initial loss {initial_loss:e}; lower the step (--step, --eta)"
            ),
        }),
        Status::Stopped { t, step } => Some(format!("stopped at step {step} (t = {t})")),
        Status::Completed => None,
    }
}

fn first_layer_gd(data: &Dataset, net: &Network, o: &Options, watch: &mut dyn Watch) -> Result<Trained, TrainError> {
    let learning_rate = match o.eta {
        Some(eta) => descent::LearningRate::Fixed(eta),
        None => descent::LearningRate::Theorem { c_eta: 1.0 },
    };
    let cfg = descent::DescentConfig { learning_rate, iterations: o.iterations, ..Default::default() };
    let stride = gd_stride(o.iterations, o.every);
    let problem = descent::Problem::new(data, net, &cfg)?;
    let reference = problem.infinite_width()?;
    // Every iterate is watched (and the last one kept); the record keeps every `stride`-th.
    let options = model::RecorderOptions { lambda_min_every: usize::from(o.lambda_min), keep_u: false };
    let mut rec = model::Every { every: stride, inner: model::Recorder::new(reference, options) };
    let mut last = LastIterate(None);
    let outcome = problem.run(&mut (&mut rec, (Watching(watch), &mut last)))?;
    let traj = rec.inner.into_trajectory();
    let mut rows: Vec<Row> = traj.samples.iter().map(|s| row(s, s.discrete_bound_ratio)).collect();
    // The last accepted iterate is always a row (a diverged run can stop between samples).
    if let Some(row) = last.0
        && rows.last().is_none_or(|r| r.step != row.step)
    {
        let bound_ratio = outcome.lambda0.and_then(|l0| {
            model::discrete_bound_ratio(row.residual_sq, 2.0 * outcome.initial_loss, outcome.eta, l0, row.step)
        });
        rows.push(Row { t: row.step as f64 * outcome.eta, bound_ratio, ..row });
    }
    let diverged = outcome.status.diverged();
    let mut status = match outcome.status {
        Status::Completed => format!("completed {} iterations with η = {}", outcome.iterations, outcome.eta),
        Status::Stopped { step, .. } => format!("stopped at iteration {step} with η = {}", outcome.eta),
        // `step` is the last accepted iterate; the message names the first failing one.
        Status::Diverged { step, reason, .. } => format!(
            "diverged at iteration {} (loss {:e}) with η = {}: lower --eta",
            step + 1,
            reason.loss(),
            outcome.eta
        ),
    };
    status.push_str(&stride_note(stride, o.every));
    Ok(Trained { rows, status, diverged, eta: Some(outcome.eta) })
}

fn flow_like(data: &Dataset, net: &Network, o: &Options, watch: &mut dyn Watch) -> Result<Trained, TrainError> {
    let options = flow::RecorderOptions { lambda_min_every: usize::from(o.lambda_min), keep_u: false };
    let both = o.method != Method::Flow;
    let reference =
        if both { model::InfiniteWidth::both_layers(data)? } else { model::InfiniteWidth::first_layer(data)? };
    let mut rec = flow::Recorder::new(&reference, options);
    let mut observer = (&mut rec, Watching(watch));
    let (status, diverged, eta) = match o.method {
        Method::BothGd => {
            let eta = o.eta.unwrap_or(0.01);
            let stride = gd_stride(o.iterations, o.every);
            let cfg =
                both_layers::GdConfig { eta, iterations: o.iterations, sample_every: stride, ..Default::default() };
            let out = both_layers::descend(data, net, &cfg, &mut observer)?;
            let mut status = match flow_status_sentence(&out.status) {
                Some(s) => format!("{s}, with η = {eta}"),
                None => format!("completed {} iterations with η = {eta}", out.iterations),
            };
            status.push_str(&stride_note(stride, o.every));
            (status, out.status.diverged(), Some(eta))
        }
        _ => {
            let cfg = flow::FlowConfig {
                t_end: o.horizon,
                step: flow::StepSize::Fixed(o.step),
                samples: flow::SampleTimes::Uniform { intervals: o.every.max(1) * 50 },
                ..Default::default()
            };
            let out = if both {
                both_layers::run(data, net, &cfg, &mut observer)?
            } else {
                flow::run(data, net, &cfg, &mut observer)?
            };
            let what = flow_status_sentence(&out.status).unwrap_or_else(|| format!("completed at t = {}", out.t));
            // The step reported is the step used on the grid; a last step shorter than h lands on T.
            let last = if (out.last_step - out.h).abs() > 1e-9 * out.h {
                format!(", last step {:.6e} to land on T = {}", out.last_step, o.horizon)
            } else {
                String::new()
            };
            let space = match out.space {
                flow::Space::Kernel | flow::Space::KernelFused => "kernel space",
                _ => "weight space",
            };
            let estimate = match out.error.method {
                flow::ErrorEstimate::Embedded => "embedded estimate, summed over the steps",
                flow::ErrorEstimate::Shadow => "step doubling",
                flow::ErrorEstimate::LocalSampled { .. } => "sampled step doubling",
            };
            let status = format!(
                "{what} (RK4 step h = {}{last}, {} steps in {space}; estimated state error {:.3e}, {estimate})",
                out.h, out.steps, out.error.max_state_error
            );
            (status, out.status.diverged(), None)
        }
    };
    let rows = rec.into_trajectory().samples.iter().map(|s| row(s, Some(s.bound_ratio))).collect();
    Ok(Trained { rows, status, diverged, eta })
}
