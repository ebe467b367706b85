//! Commands on users' own data: `kernel` (H∞, G∞, λ0 of a `.npy` data set) and `train` (training from `.npy` files).
//!
//! `train` runs flow, GD or both-layers training from given `.npy` files and gives the trajectory
//! as JSON or CSV.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use faer::Col;
use train::{Dataset, Method, Network, Options, Solver, Trained};

use crate::CommandError;
use crate::estimate::{self, MAX_TRAIN_SAMPLES};
use crate::files::{write_all, write_file};
use crate::parse::{parse_method, parse_solver};

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
) -> Result<Dataset, CommandError> {
    let (xm, precision) = train::npy::read_matrix_and_precision(x)?;
    let (what, bytes) = bytes_for(xm.nrows(), xm.ncols());
    train::ensure_fits(&what, bytes).map_err(|e| CommandError::Input(format!("{}: {e}", x.display())))?;
    estimate::check_machine_memory(&what, bytes)
        .map_err(|e| CommandError::Input(format!("{}: {}", x.display(), e.message())))?;
    let yv = match y {
        Some(p) => train::npy::read_vector(p)?,
        None => Col::zeros(xm.nrows()),
    };
    let data = Dataset::new(xm, yv, train::row_norms(normalise, precision)).map_err(|e| {
        // Name the file that holds the problem: the labels' file for a label error.
        let about_labels = matches!(&e, train::ModelError::NonFinite { what: "labels y", .. })
            || matches!(&e, train::ModelError::LabelsOverflow { .. })
            || matches!(&e, train::ModelError::Shape { what, .. } if what.starts_with("labels"));
        let file = match (about_labels, y) {
            (true, Some(p)) => p,
            _ => x,
        };
        CommandError::Input(format!("{}: {e}", file.display()))
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
pub fn kernel(args: KernelArgs) -> Result<ExitCode, CommandError> {
    // K, H∞, G∞, H∞ + G∞ and the eigensolver's two n × n workspaces: six n × n f64 arrays.
    let kernel_bytes = |n: usize, _d: usize| {
        let bytes = (n as u64).saturating_mul(n as u64).saturating_mul(6 * 8);
        (format!("kernel of n = {n} inputs (six {n} × {n} f64 matrices)"), bytes)
    };
    let stages = KernelProgress::new();
    stages.stage("reading and checking X");
    let data = load_data(&args.x, None, args.normalise, kernel_bytes)?;
    let train::Kernels { h, g, h_eigenvalues: hev, g_lambda_min: gmin, hg_lambda_min: hg_min } =
        train::kernels(&data, &mut |what| stages.stage(what))?;
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
        outputs.push((p.clone(), train::npy::matrix_to_npy_bytes(h.as_ref())));
    }
    if let Some(p) = &args.g_out {
        outputs.push((p.clone(), train::npy::matrix_to_npy_bytes(g.as_ref())));
    }
    // outputs[0] and outputs[1] are read only when outputs.len() == 2.
    if outputs.len() == 2 && outputs[0].0 == outputs[1].0 {
        return Err(CommandError::Input(format!(
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
    /// Dynamics: flow, gd, both-flow or both-gd.
    #[arg(long, value_parser = parse_method, default_value = "gd")]
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
    pub solver: SolverArgs,
}

impl TrainArgs {
    /// The run's options, as the training door takes them.
    pub fn options(&self) -> Options {
        Options {
            method: self.method,
            eta: self.eta,
            iterations: self.iterations,
            horizon: self.horizon,
            step: self.step,
            every: self.every,
            lambda_min: self.lambda_min,
        }
    }
}

/// Refuses a `train` command whose options are out of their domains, before any data are read.
pub fn validate_train(args: &TrainArgs) -> Result<(), CommandError> {
    let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext != "json" && ext != "csv" {
        return Err(CommandError::Input(format!("--out {}: the file must end in .json or .csv", args.out.display())));
    }
    args.options().validate(train::Spelling::CommandLine)?;
    Ok(())
}

/// Trains every neuron (the full solver): W is stored. Call after [`validate_train`], and after
/// the reduced solver declined the run.
pub fn train_full(args: TrainArgs) -> Result<ExitCode, CommandError> {
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
            let net = Network::new(train::npy::read_matrix(w)?, train::npy::read_vector(a)?)
                .map_err(|e| CommandError::Input(format!("{} / {}: {e}", w.display(), a.display())))?;
            net.check_against(&data).map_err(|e| CommandError::Input(format!("{}: {e}", w.display())))?;
            net
        }
        (None, None) => Network::init(args.width, data.d(), args.seed, 0)?,
        _ => {
            return Err(CommandError::Input(
                "give both --w and --a, or neither (then --width and --seed init the network)".into(),
            ));
        }
    };
    memory(net.w.nrows())?;
    let estimate = train_estimate(&data, net.w.nrows(), &args);
    // Written so that a NaN estimate is refused too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(estimate.bound_seconds <= estimate::TIME_LIMIT_SECONDS) {
        return Err(CommandError::Input(format!(
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
    let steps = args.options().planned_steps();
    let trained = train::train(&data, &net, &args.options(), &mut TrainProgress::new(steps.0, steps.1))?;
    write_trajectory(&args.out, &trained)
}

/// Writes a trajectory (JSON or CSV by the file's ending), says so, and gives `train`'s exit status.
pub fn write_trajectory(out: &Path, trained: &Trained) -> Result<ExitCode, CommandError> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let text = if ext == "json" { trained.to_json() } else { trained.to_csv() };
    write_file(out, text.as_bytes())?;
    println!("{}; {} samples written to {}", trained.status, trained.rows.len(), out.display());
    Ok(if trained.diverged { ExitCode::from(EXIT_DIVERGED) } else { ExitCode::SUCCESS })
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

impl train::Watch for TrainProgress {
    fn at_step(&mut self, step: usize) -> train::Control {
        self.0.set_position(step as u64);
        train::Control::Continue
    }
}

impl Drop for TrainProgress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The `--solver` option of `train`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SolverArgs {
    /// Solver: full, reduced (exact lazy-neuron reduction, first layer only, W never stored) or
    /// auto (reduced for flow and gd when m ≥ 10⁶ and n ≤ 12).
    #[arg(long, value_parser = parse_solver, default_value = "auto")]
    pub solver: Solver,
}
