//! Commands on users' own data: `kernel` (H∞, G∞, λ0 of a `.npy` data set) and `train` (flow, GD or both-layers training from given `.npy` files, trajectory as JSON or CSV).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use faer::Col;
use model::{Dataset, Network, RowNorms};
use serde::Serialize;

use crate::UserError;
use crate::files::write_file;

/// Options of `kernel`.
#[derive(clap::Args, Debug, Clone)]
pub struct KernelArgs {
    /// Inputs X as a 2-D float64 `.npy` file (n × d, unit rows).
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

fn load_data(x: &Path, y: Option<&Path>, normalise: bool) -> Result<Dataset, UserError> {
    let xm = model::npy::read_matrix(x)?;
    let yv = match y {
        Some(p) => model::npy::read_vector(p)?,
        None => Col::zeros(xm.nrows()),
    };
    let norms = if normalise { RowNorms::Normalise } else { RowNorms::default() };
    Dataset::new(xm, yv, norms).map_err(|e| {
        // Name the file that holds the problem: the labels' file for a label error.
        let about_labels = matches!(&e, model::ModelError::NonFinite { what: "labels y", .. })
            || matches!(&e, model::ModelError::Shape { what, .. } if what.starts_with("labels"));
        let file = match (about_labels, y) {
            (true, Some(p)) => p,
            _ => x,
        };
        UserError(format!("{}: {e}", file.display()))
    })
}

/// Prints λ0 = λmin(H∞), λmax(H∞), λmin(G∞) and writes H∞ / G∞ when asked.
pub fn kernel(args: KernelArgs) -> Result<ExitCode, UserError> {
    let data = load_data(&args.x, None, args.normalise)?;
    let h = model::h_infinity(data.input_gram());
    let g = model::g_infinity(data.input_gram());
    let hev = model::symmetric_eigenvalues(h.as_ref())?;
    let gmin = model::lambda_min(g.as_ref())?;
    println!("n = {}, d = {}", data.n(), data.d());
    println!("λ0 = λmin(H∞) = {:.10e}", hev[0]);
    println!("λmax(H∞)      = {:.10e}", hev[hev.len() - 1]);
    println!("λmin(G∞)      = {:.10e}", gmin);
    println!("λmin(H∞ + G∞) = {:.10e}", model::lambda_min((&h + &g).as_ref())?);
    if let Some(p) = &args.h_out {
        model::npy::write_matrix(p, h.as_ref())?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = &args.g_out {
        model::npy::write_matrix(p, g.as_ref())?;
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
    #[arg(long, default_value_t = 1000)]
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
    #[arg(long, default_value_t = 100)]
    pub iterations: usize,
    /// Flow horizon T.
    #[arg(long, default_value_t = 5.0)]
    pub horizon: f64,
    /// RK4 step h.
    #[arg(long, default_value_t = 0.01)]
    pub step: f64,
    /// Record every k-th iteration (GD) / this many sample intervals (flow).
    #[arg(long, default_value_t = 1)]
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
    let data = load_data(&args.x, Some(&args.y), args.normalise)?;
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
    let (rows, status) = match args.method {
        Method::Gd => run_gd(&data, &net, &args)?,
        Method::Flow | Method::BothFlow | Method::BothGd => run_flowlike(&data, &net, &args)?,
    };
    let text = if ext == "json" {
        serde_json::to_string_pretty(&serde_json::json!({ "status": status, "samples": rows })).expect("serialise")
            + "\n"
    } else {
        to_csv(&rows)
    };
    write_file(&args.out, text.as_bytes())?;
    println!("{status}; {} samples written to {}", rows.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn run_gd(data: &Dataset, net: &Network, args: &TrainArgs) -> Result<(Vec<Row>, String), UserError> {
    let step_size = match args.eta {
        Some(eta) => descent::StepSize::Fixed(eta),
        None => descent::StepSize::Theorem { c_eta: 1.0 },
    };
    let cfg = descent::DescentConfig { step_size, iterations: args.iterations, ..Default::default() };
    let mut rec = descent::Recorder::new(descent::RecorderConfig {
        schedule: descent::Schedule::Every(args.every),
        lambda_min_h: args.lambda_min,
        predictions: false,
        theorem_bound: true,
        infinite_width: false,
    })?;
    let outcome = descent::run(data, net, &cfg, &mut rec)?;
    let traj = rec.into_trajectory();
    let rows = traj
        .samples
        .iter()
        .map(|s| Row {
            t: s.iteration as f64 * traj.eta,
            step: s.iteration,
            loss: s.loss,
            residual_sq: s.residual_norm_sq,
            bound_ratio: s.bound_ratio,
            pattern_change_fraction: s.pattern_change_fraction,
            max_weight_distance: s.max_weight_distance,
            lambda_min_h: s.lambda_min_h,
        })
        .collect();
    let status = match outcome.status {
        descent::Status::Completed => format!("completed {} iterations with η = {}", outcome.iterations, outcome.eta),
        descent::Status::Diverged { at_iteration, loss } => {
            format!("diverged at iteration {at_iteration} (loss {loss:e}) with η = {}", outcome.eta)
        }
    };
    Ok((rows, status))
}

fn run_flowlike(data: &Dataset, net: &Network, args: &TrainArgs) -> Result<(Vec<Row>, String), UserError> {
    let options = flow::RecorderOptions { lambda_min_every: usize::from(args.lambda_min), keep_u: false };
    let both = args.method != Method::Flow;
    let reference = if both { both_layers::infinite_width(data)? } else { flow::InfiniteWidth::first_layer(data)? };
    let mut rec = flow::Recorder::new(&reference, options);
    let status = match args.method {
        Method::BothGd => {
            let eta = args.eta.unwrap_or(0.01);
            let cfg = both_layers::GdConfig {
                eta,
                iterations: args.iterations,
                sample_every: args.every,
                ..Default::default()
            };
            let out = both_layers::descend(data, net, &cfg, &mut rec)?;
            format!("{:?} after {} iterations with η = {eta}", out.status, out.iterations)
        }
        _ => {
            let cfg = flow::FlowConfig {
                t_end: args.horizon,
                step: flow::StepSize::Fixed(args.step),
                samples: flow::SampleTimes::Uniform { intervals: args.every.max(1) * 50 },
                ..Default::default()
            };
            let out =
                if both { both_layers::run(data, net, &cfg, &mut rec)? } else { flow::run(data, net, &cfg, &mut rec)? };
            format!(
                "{:?} at t = {} (h = {}, estimated state error {:.3e})",
                out.status, out.t, out.h, out.error.max_state_error
            )
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
    Ok((rows, status))
}

fn to_csv(rows: &[Row]) -> String {
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
