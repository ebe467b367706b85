//! Commands on users' own data: `kernel` (H∞, G∞, λ0 of a `.npy` data set) and `train` (flow, GD or both-layers training from given `.npy` files, trajectory as JSON or CSV).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use faer::Col;
use model::{Dataset, Network, RowNorms};
use serde::Serialize;

use crate::UserError;
use crate::estimate::{self, MAX_TRAIN_SAMPLES};
use crate::files::{write_all, write_file};

/// Exit status of `train` when the run diverged (the trajectory up to the last finite iterate is
/// still written). 0 completed, 2 bad input, 4 diverged.
pub const EXIT_DIVERGED: u8 = 4;

/// Options of `kernel`.
#[derive(clap::Args, Debug, Clone)]
pub struct KernelArgs {
    /// Inputs X as a 2-D float64 (or float32) `.npy` file (n × d, unit rows).
    #[arg(long)]
    pub x: PathBuf,
    /// Divide each row of X by its norm instead of rejecting non-unit rows.
    #[arg(long)]
    pub normalise: bool,
    /// Write H∞ to this `.npy` file.
    #[arg(long)]
    pub h_out: Option<PathBuf>,
    /// Write G∞ to this `.npy` file.
    #[arg(long)]
    pub g_out: Option<PathBuf>,
}

/// Reads X (and y), checks `bytes_for(n, d)` fits in memory before anything of size n² is
/// allocated, and validates the data set. float32 inputs get float32's norm tolerance.
fn load_data(
    x: &Path,
    y: Option<&Path>,
    normalise: bool,
    bytes_for: impl Fn(usize, usize) -> (String, u64),
) -> Result<Dataset, UserError> {
    let (xm, precision) = model::npy::read_matrix_and_precision(x)?;
    let (what, bytes) = bytes_for(xm.nrows(), xm.ncols());
    model::network::ensure_fits(&what, bytes).map_err(|e| UserError(format!("{}: {e}", x.display())))?;
    estimate::check_machine_memory(&what, bytes).map_err(|e| UserError(format!("{}: {}", x.display(), e.0)))?;
    let yv = match y {
        Some(p) => model::npy::read_vector(p)?,
        None => Col::zeros(xm.nrows()),
    };
    let norms = match (normalise, precision) {
        (true, _) => RowNorms::Normalise,
        (false, model::npy::Precision::Float32) => RowNorms::Float32,
        (false, model::npy::Precision::Float64) => RowNorms::default(),
    };
    let data = Dataset::new(xm, yv, norms).map_err(|e| {
        // Name the file that holds the problem: the labels' file for a label error.
        let about_labels = matches!(&e, model::ModelError::NonFinite { what: "labels y", .. })
            || matches!(&e, model::ModelError::LabelsOverflow { .. })
            || matches!(&e, model::ModelError::Shape { what, .. } if what.starts_with("labels"));
        let file = match (about_labels, y) {
            (true, Some(p)) => p,
            _ => x,
        };
        UserError(format!("{}: {e}", file.display()))
    })?;
    if let Some(p) = data.closest_pair().filter(|p| p.lambda0_bound < NEARLY_PARALLEL_BOUND) {
        eprintln!(
            "note: {}: rows {} and {} are nearly parallel (cosine {}): λ0 ≤ 1/2 − H∞_ij = {:.3e}, and the widths the theory needs grow like λ0^−4 (here ≥ 1e{:.0})",
            x.display(),
            p.i,
            p.j,
            p.cosine,
            p.lambda0_bound,
            -4.0 * p.lambda0_bound.log10()
        );
    }
    Ok(data)
}

/// Below this bound on λ0 (from the closest pair of rows) `kernel` and `train` print a note.
pub const NEARLY_PARALLEL_BOUND: f64 = 1e-3;

/// Prints λ0 = λmin(H∞), λmax(H∞), λmin(G∞) and writes H∞ / G∞ when asked.
pub fn kernel(args: KernelArgs) -> Result<ExitCode, UserError> {
    // K, H∞, G∞, H∞ + G∞ and the eigensolver's two n × n workspaces: six n × n f64 arrays.
    let kernel_bytes = |n: usize, _d: usize| {
        let bytes = (n as u64).saturating_mul(n as u64).saturating_mul(6 * 8);
        (format!("kernel of n = {n} inputs (six {n} × {n} f64 matrices)"), bytes)
    };
    let stages = KernelProgress::new();
    stages.stage("reading and checking X");
    let data = load_data(&args.x, None, args.normalise, kernel_bytes)?;
    stages.stage("H∞ and G∞ (closed forms, O(n²))");
    let h = model::h_infinity(data.input_gram());
    let g = model::g_infinity(data.input_gram());
    stages.stage("eigenvalues of H∞ (O(n³))");
    let hev = model::symmetric_eigenvalues(h.as_ref())?;
    stages.stage("λmin(G∞) (O(n³))");
    let gmin = model::lambda_min(g.as_ref())?;
    stages.stage("λmin(H∞ + G∞) (O(n³))");
    let hg_min = model::lambda_min((&h + &g).as_ref())?;
    stages.finish();
    println!("n = {}, d = {}", data.n(), data.d());
    // Dataset::new refused n = 0 and H∞ is n × n, so hev has n ≥ 1 values.
    println!("λ0 = λmin(H∞) = {:.10e}", hev[0]);
    println!("λmax(H∞)      = {:.10e}", hev[hev.len() - 1]);
    println!("λmin(G∞)      = {:.10e}", gmin);
    println!("λmin(H∞ + G∞) = {:.10e}", hg_min);
    // Both outputs or neither.
    let mut outputs: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if let Some(p) = &args.h_out {
        outputs.push((p.clone(), model::npy::matrix_to_npy_bytes(h.as_ref())));
    }
    if let Some(p) = &args.g_out {
        outputs.push((p.clone(), model::npy::matrix_to_npy_bytes(g.as_ref())));
    }
    // outputs[0] and outputs[1] are read only when outputs.len() == 2.
    if outputs.len() == 2 && outputs[0].0 == outputs[1].0 {
        return Err(UserError(format!(
            "--h-out and --g-out are the same file {}: give two paths",
            outputs[0].0.display()
        )));
    }
    let files: Vec<(PathBuf, &[u8])> = outputs.iter().map(|(p, b)| (p.clone(), b.as_slice())).collect();
    write_all(&files)?;
    for (p, _) in &outputs {
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Which dynamics `train` runs.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Gradient flow of the first layer (RK4).
    Flow,
    /// Gradient descent of the first layer.
    Gd,
    /// Gradient flow of both layers (RK4).
    BothFlow,
    /// Gradient descent of both layers.
    BothGd,
}

/// Options of `train`.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainArgs {
    /// Inputs X (n × d float64 `.npy`, unit rows).
    #[arg(long)]
    pub x: PathBuf,
    /// Labels y (length-n float64 `.npy`).
    #[arg(long)]
    pub y: PathBuf,
    /// First layer W(0) (m × d `.npy`); without it, a seeded init of width --width.
    #[arg(long)]
    pub w: Option<PathBuf>,
    /// Second layer a(0) (length-m `.npy`); required with --w.
    #[arg(long)]
    pub a: Option<PathBuf>,
    /// Width m of the seeded init (when --w is not given).
    #[arg(long, value_parser = crate::parse::parse_usize_count, default_value_t = 1000)]
    pub width: usize,
    /// Seed of the seeded init.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Dynamics.
    #[arg(long, value_enum, default_value = "gd")]
    pub method: Method,
    /// GD step η (default: the theorem's λ0/n² for gd, 0.01 for both-gd).
    #[arg(long)]
    pub eta: Option<f64>,
    /// GD iterations.
    #[arg(long, value_parser = crate::parse::parse_usize_count, default_value_t = 100)]
    pub iterations: usize,
    /// Flow horizon T.
    #[arg(long, default_value_t = 5.0)]
    pub horizon: f64,
    /// RK4 step h.
    #[arg(long, default_value_t = 0.01)]
    pub step: f64,
    /// Record every k-th iteration (GD; raised so that at most 100000 samples are kept, the last
    /// iterate always among them) / 50·k sample intervals (flow).
    #[arg(long, value_parser = crate::parse::parse_usize_count, default_value_t = 1)]
    pub every: usize,
    /// Also record λmin(H) at each sample (O(n³) each).
    #[arg(long)]
    pub lambda_min: bool,
    /// Divide each row of X by its norm instead of rejecting non-unit rows.
    #[arg(long)]
    pub normalise: bool,
    /// Output file: `.json` or `.csv`.
    #[arg(long)]
    pub out: PathBuf,
    /// Which solver runs the dynamics (`--solver`).
    #[command(flatten)]
    pub solver: crate::solver::SolverArgs,
}

/// One row of a written trajectory.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Time t (GD: t = kη).
    pub t: f64,
    /// Iteration k (GD) or RK4 step count (flow).
    pub step: usize,
    /// Loss ½‖y − u‖².
    pub loss: f64,
    /// ‖y − u‖².
    pub residual_sq: f64,
    /// ‖y − u(t)‖² / (e^{−λ0 t}‖y − u(0)‖²) (flows), or / ((1 − ηλ0/2)^k ‖y − u(0)‖²) (first-layer GD).
    pub bound_ratio: Option<f64>,
    /// Pattern-change fraction against t = 0.
    pub pattern_change_fraction: f64,
    /// max_r ‖w_r − w_r(0)‖.
    pub max_weight_distance: f64,
    /// λmin(H), when asked.
    pub lambda_min_h: Option<f64>,
}

/// Trains on the given data and writes the trajectory.
pub fn train(args: TrainArgs) -> Result<ExitCode, UserError> {
    let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext != "json" && ext != "csv" {
        return Err(UserError(format!("--out {}: the file must end in .json or .csv", args.out.display())));
    }
    if args.every == 0 {
        return Err(UserError("--every 0: must be at least 1".into()));
    }
    if args.iterations == 0 && matches!(args.method, Method::Gd | Method::BothGd) {
        return Err(UserError("--iterations 0: gradient descent needs at least one iteration".into()));
    }
    if !(args.horizon.is_finite() && args.horizon > 0.0) && matches!(args.method, Method::Flow | Method::BothFlow) {
        return Err(UserError(format!("--horizon {}: the flow's horizon T must be positive", args.horizon)));
    }
    if matches!(args.method, Method::Flow | Method::BothFlow) && !(args.step.is_finite() && args.step > 0.0) {
        return Err(UserError(format!("--step {}: the RK4 step h must be finite and positive", args.step)));
    }
    if matches!(args.method, Method::Flow | Method::BothFlow) && args.every.saturating_mul(50) > MAX_TRAIN_SAMPLES {
        return Err(UserError(format!(
            "--every {}: the flow would keep {} samples (50 per unit of --every), more than {MAX_TRAIN_SAMPLES}: lower --every",
            args.every,
            args.every.saturating_mul(50)
        )));
    }
    if let Some(done) = crate::solver::train_reduced(&args)? {
        return Ok(done);
    }
    let width = args.width;
    let train_bytes = |n: usize, d: usize| {
        // K and the n × m pre-activations dominate, besides a few m × d copies of W.
        let m = width as u64;
        let b = ((n as u64).saturating_mul(n as u64))
            .saturating_add(m.saturating_mul(6 * n as u64 + 12 * d as u64))
            .saturating_mul(8);
        (format!("training n = {n} inputs at width m = {width}"), b)
    };
    let data = load_data(&args.x, Some(&args.y), args.normalise, train_bytes)?;
    let memory = |m: usize| {
        estimate::check_machine_memory(
            &format!("training at width m = {m} (W, its RK4 stages and the n × m arrays of an evaluation)"),
            train_estimate(&data, m, &args).memory_bytes,
        )
    };
    if args.w.is_none() {
        // Before W is drawn (the estimate holds about twelve copies of it).
        memory(args.width)?;
    }
    let net = match (&args.w, &args.a) {
        (Some(w), Some(a)) => {
            let net = Network::new(model::npy::read_matrix(w)?, model::npy::read_vector(a)?)
                .map_err(|e| UserError(format!("{} / {}: {e}", w.display(), a.display())))?;
            net.check_against(&data).map_err(|e| UserError(format!("{}: {e}", w.display())))?;
            net
        }
        (None, None) => Network::init(args.width, data.d(), args.seed, 0)?,
        _ => {
            return Err(UserError(
                "give both --w and --a, or neither (then --width and --seed init the network)".into(),
            ));
        }
    };
    memory(net.w.nrows())?;
    let estimate = train_estimate(&data, net.w.nrows(), &args);
    // Written so that a NaN estimate is refused too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(estimate.bound_seconds <= estimate::TIME_LIMIT_SECONDS) {
        return Err(UserError(format!(
            "train would take up to about {} by a flop bound ({} steps; more than {}): lower --iterations or --horizon, or raise --step",
            estimate::duration(estimate.bound_seconds),
            estimate.work,
            estimate::duration(estimate::TIME_LIMIT_SECONDS)
        )));
    }
    // The flop bound and the memory estimate only refuse (above); they are not forecasts.
    println!(
        "train: {:?}, n = {}, d = {}, m = {}, {} steps",
        args.method,
        data.n(),
        data.d(),
        net.w.nrows(),
        estimate.work
    );
    let (rows, status, diverged) = match args.method {
        Method::Gd => run_gd(&data, &net, &args)?,
        Method::Flow | Method::BothFlow | Method::BothGd => run_flowlike(&data, &net, &args)?,
    };
    let text = if ext == "json" {
        // Derived structs of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
        // null and the target is a String, so serialising (and json!'s to_value) cannot fail.
        serde_json::to_string_pretty(&serde_json::json!({ "status": status, "samples": rows })).expect("serialise")
            + "\n"
    } else {
        to_csv(&rows)
    };
    write_file(&args.out, text.as_bytes())?;
    println!("{status}; {} samples written to {}", rows.len(), args.out.display());
    Ok(if diverged { ExitCode::from(EXIT_DIVERGED) } else { ExitCode::SUCCESS })
}

/// Steps, time and memory of a `train` run (GD: iterations; flow: T/h RK4 steps of 4 evaluations).
fn train_estimate(data: &Dataset, m: usize, args: &TrainArgs) -> estimate::Estimate {
    let (n, d, mf) = (data.n() as f64, data.d() as f64, m as f64);
    let per_eval = 8.0 * n * mf * d + 2.0 * n * n * mf;
    let (steps, evals) = match args.method {
        Method::Gd | Method::BothGd => (args.iterations as f64, args.iterations as f64),
        Method::Flow | Method::BothFlow => {
            let s = (args.horizon / args.step).ceil();
            (s, 4.0 * s)
        }
    };
    let lambda = if args.lambda_min { n * n * n * 10.0 * MAX_TRAIN_SAMPLES.min(steps as usize) as f64 } else { 0.0 };
    let memory = ((data.n() * data.n()) as u64)
        .saturating_add((m as u64).saturating_mul(6 * data.n() as u64 + 12 * data.d() as u64))
        .saturating_add((MAX_TRAIN_SAMPLES as u64) * 80)
        .saturating_mul(8);
    estimate::Estimate {
        work: if steps.is_finite() && steps < u64::MAX as f64 { steps as u64 } else { u64::MAX },
        seconds: f64::NAN,
        bound_seconds: (evals * per_eval + lambda) / (estimate::FLOPS_PER_THREAD * estimate::cores() as f64),
        memory_bytes: memory,
        disk_bytes: 0,
    }
}

/// The GD sampling stride: `every`, raised to ⌈K / (MAX − 1)⌉ when K / every + 2 samples would pass
/// [`MAX_TRAIN_SAMPLES`] (K iterations; the last iterate is always kept as well).
pub fn gd_stride(iterations: usize, every: usize) -> usize {
    if iterations / every + 2 <= MAX_TRAIN_SAMPLES { every } else { iterations.div_ceil(MAX_TRAIN_SAMPLES - 2) }
}

/// One sentence for a flow or both-layers run that stopped early.
fn flow_status_sentence(status: &model::Status) -> Option<String> {
    match status {
        model::Status::Diverged { t, step, reason } => Some(match reason {
            model::Divergence::NonFinite => {
                format!(
                    "diverged after step {step} (t = {t}): a value became non-finite; lower the step (--step, --eta)"
                )
            }
            model::Divergence::LossGrowth { loss, initial_loss, factor } => format!(
                "diverged after step {step} (t = {t}): the loss {loss:e} passed {factor:e} × the initial loss {initial_loss:e}; lower the step (--step, --eta)"
            ),
        }),
        model::Status::Stopped { t, step } => Some(format!("stopped at step {step} (t = {t})")),
        model::Status::Completed => None,
    }
}

fn run_gd(data: &Dataset, net: &Network, args: &TrainArgs) -> Result<(Vec<Row>, String, bool), UserError> {
    let learning_rate = match args.eta {
        Some(eta) => descent::LearningRate::Fixed(eta),
        None => descent::LearningRate::Theorem { c_eta: 1.0 },
    };
    let cfg = descent::DescentConfig { learning_rate, iterations: args.iterations, ..Default::default() };
    let stride = gd_stride(args.iterations, args.every);
    let problem = descent::Problem::new(data, net, &cfg)?;
    let reference = problem.infinite_width()?;
    // Every iterate is shown (the bar moves, the last one is kept); the record keeps every
    // `stride`-th.
    let options = model::RecorderOptions { lambda_min_every: usize::from(args.lambda_min), keep_u: false };
    let mut rec = model::Every { every: stride, inner: model::Recorder::new(reference, options) };
    let mut bar = TrainProgress::new(args.iterations as u64, "iterations");
    let mut last = LastIterate(None);
    let outcome = problem.run(&mut (&mut rec, (&mut bar, &mut last)))?;
    bar.0.finish_and_clear();
    let traj = rec.inner.into_trajectory();
    let mut rows: Vec<Row> = traj
        .samples
        .iter()
        .map(|s| Row {
            t: s.t,
            step: s.step,
            loss: s.loss,
            residual_sq: s.residual_sq,
            bound_ratio: s.discrete_bound_ratio,
            pattern_change_fraction: s.pattern_change_fraction,
            max_weight_distance: s.max_weight_distance,
            lambda_min_h: s.lambda_min_h,
        })
        .collect();
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
        model::Status::Completed => format!("completed {} iterations with η = {}", outcome.iterations, outcome.eta),
        model::Status::Stopped { step, .. } => format!("stopped at iteration {step} with η = {}", outcome.eta),
        // `step` is the last accepted iterate; the message names the first failing one.
        model::Status::Diverged { step, reason, .. } => format!(
            "diverged at iteration {} (loss {:e}) with η = {}: lower --eta",
            step + 1,
            reason.loss(),
            outcome.eta
        ),
    };
    if stride != args.every {
        status.push_str(&format!(
            " (sampled every {stride} iterations, not {}, to keep at most {MAX_TRAIN_SAMPLES} samples; the last iterate is kept)",
            args.every
        ));
    }
    Ok((rows, status, diverged))
}

fn run_flowlike(data: &Dataset, net: &Network, args: &TrainArgs) -> Result<(Vec<Row>, String, bool), UserError> {
    let options = flow::RecorderOptions { lambda_min_every: usize::from(args.lambda_min), keep_u: false };
    let both = args.method != Method::Flow;
    let reference =
        if both { model::InfiniteWidth::both_layers(data)? } else { model::InfiniteWidth::first_layer(data)? };
    let mut rec = flow::Recorder::new(&reference, options);
    let (status, diverged) = match args.method {
        Method::BothGd => {
            let eta = args.eta.unwrap_or(0.01);
            let stride = gd_stride(args.iterations, args.every);
            let cfg =
                both_layers::GdConfig { eta, iterations: args.iterations, sample_every: stride, ..Default::default() };
            let mut bar = TrainProgress::new(args.iterations as u64, "iterations");
            let out = both_layers::descend(data, net, &cfg, &mut FlowProgress { inner: &mut rec, bar: &mut bar })?;
            bar.0.finish_and_clear();
            let mut status = match flow_status_sentence(&out.status) {
                Some(s) => format!("{s}, with η = {eta}"),
                None => format!("completed {} iterations with η = {eta}", out.iterations),
            };
            if stride != args.every {
                status.push_str(&format!(
                    " (sampled every {stride} iterations, not {}, to keep at most {MAX_TRAIN_SAMPLES} samples; the last iterate is kept)",
                    args.every
                ));
            }
            (status, out.status.diverged())
        }
        _ => {
            let cfg = flow::FlowConfig {
                t_end: args.horizon,
                step: flow::StepSize::Fixed(args.step),
                samples: flow::SampleTimes::Uniform { intervals: args.every.max(1) * 50 },
                ..Default::default()
            };
            let steps = (args.horizon / args.step).ceil() as u64;
            let mut bar = TrainProgress::new(steps, "RK4 steps");
            let mut observer = FlowProgress { inner: &mut rec, bar: &mut bar };
            let out = if both {
                both_layers::run(data, net, &cfg, &mut observer)?
            } else {
                flow::run(data, net, &cfg, &mut observer)?
            };
            bar.0.finish_and_clear();
            let what = flow_status_sentence(&out.status).unwrap_or_else(|| format!("completed at t = {}", out.t));
            // The step reported is the step used on the grid; a last step shorter than h lands on T.
            let last = if (out.last_step - out.h).abs() > 1e-9 * out.h {
                format!(", last step {:.6e} to land on T = {}", out.last_step, args.horizon)
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
            (status, out.status.diverged())
        }
    };
    let traj = rec.into_trajectory();
    let rows = traj
        .samples
        .iter()
        .map(|s| Row {
            t: s.t,
            step: s.step,
            loss: s.loss,
            residual_sq: s.residual_sq,
            bound_ratio: Some(s.bound_ratio),
            pattern_change_fraction: s.pattern_change_fraction,
            max_weight_distance: s.max_weight_distance,
            lambda_min_h: s.lambda_min_h,
        })
        .collect();
    Ok((rows, status, diverged))
}

/// The stages of a `kernel` run on stderr (a spinner with the stage and the time spent, drawn when
/// stderr is a terminal and hidden otherwise): at n = 10⁴ the eigenvalues take minutes.
struct KernelProgress(indicatif::ProgressBar, #[allow(dead_code)] crate::heartbeat::Heartbeat);

impl KernelProgress {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::new_spinner();
        // A constant template that indicatif accepts; tests draw it.
        bar.set_style(
            indicatif::ProgressStyle::with_template("   kernel {spinner} {msg}  {elapsed}").expect("valid template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        let beat = crate::heartbeat::Heartbeat::watch("kernel", vec![bar.clone()]);
        KernelProgress(bar, beat)
    }
    fn stage(&self, what: &'static str) {
        self.0.set_message(what);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Drop for KernelProgress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The progress bar of a `train` run (drawn on stderr when it is a terminal, hidden otherwise).
struct TrainProgress(indicatif::ProgressBar, #[allow(dead_code)] crate::heartbeat::Heartbeat);

impl TrainProgress {
    fn new(len: u64, unit: &str) -> Self {
        let bar = indicatif::ProgressBar::new(len);
        let template = format!("   train [{{bar:30}}] {{pos}}/{{len}} {unit}  {{elapsed}} (eta {{eta}})");
        // A template of constant text (unit is one of two literals) that indicatif accepts; tests draw it.
        bar.set_style(
            indicatif::ProgressStyle::with_template(&template).expect("valid template").progress_chars("=> "),
        );
        bar.set_prefix(format!("train ({unit})"));
        let beat = crate::heartbeat::Heartbeat::watch("train", vec![bar.clone()]);
        TrainProgress(bar, beat)
    }
}

impl descent::Observer<descent::View<'_>, descent::DescentError> for TrainProgress {
    fn observe(&mut self, view: &descent::View<'_>) -> descent::Result<descent::Control> {
        let state = view.state;
        self.0.set_position(state.iteration() as u64);
        Ok(descent::Control::Continue)
    }
}

/// Keeps the cheap quantities of the latest accepted GD iterate (O(nm/64) per iterate for the
/// pattern-change fraction), so that the last iterate is a row even when it falls between samples.
struct LastIterate(Option<Row>);

impl descent::Observer<descent::View<'_>, descent::DescentError> for LastIterate {
    fn observe(&mut self, view: &descent::View<'_>) -> descent::Result<descent::Control> {
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
        Ok(descent::Control::Continue)
    }
}

/// A flow observer that also moves the progress bar to each sample's step.
struct FlowProgress<'a, O: ?Sized> {
    inner: &'a mut O,
    bar: &'a mut TrainProgress,
}

impl<O> flow::Observer<flow::Snapshot<'_>, flow::FlowError> for FlowProgress<'_, O>
where
    O: for<'s> flow::Observer<flow::Snapshot<'s>, flow::FlowError> + ?Sized,
{
    fn observe(&mut self, snapshot: &flow::Snapshot<'_>) -> flow::Result<flow::Control> {
        self.bar.0.set_position(snapshot.step as u64);
        self.inner.observe(snapshot)
    }
}

/// A trajectory as CSV, one row per sample (empty cells where a value was not recorded).
pub(crate) fn to_csv(rows: &[Row]) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:e}"));
    let mut s =
        String::from("t,step,loss,residual_sq,bound_ratio,pattern_change_fraction,max_weight_distance,lambda_min_h\n");
    for r in rows {
        s.push_str(&format!(
            "{:e},{},{:e},{:e},{},{:e},{:e},{}\n",
            r.t,
            r.step,
            r.loss,
            r.residual_sq,
            opt(r.bound_ratio),
            r.pattern_change_fraction,
            r.max_weight_distance,
            opt(r.lambda_min_h)
        ));
    }
    s
}
