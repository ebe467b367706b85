//! `train --solver full|reduced|auto`: the reduced solver of docs/theory.md §5 behind the `train` command.
//!
//! `auto` (the default) takes the reduced solver for first-layer dynamics (flow, gd) on a seeded
//! init when the width is large against n (m ≥ [`AUTO_MIN_WIDTH`] and n ≤ [`AUTO_MAX_INPUTS`]):
//! it gives the full solver's numbers to rounding without storing W. Both-layer methods always
//! run the full solver (the reduction is first-layer only).

use std::path::Path;
use std::process::ExitCode;

use model::{Dataset, RowNorms};
use reduced::{BudgetPolicy, Control, GivenNetwork, NeuronSource, Sample, SeededInit, System};

use crate::UserError;
use crate::data::{EXIT_DIVERGED, Method, Row, TrainArgs};
use crate::estimate::MAX_TRAIN_SAMPLES;

/// Widths from which `--solver auto` takes the reduced solver.
pub const AUTO_MIN_WIDTH: usize = 1_000_000;
/// Widest network the reduced solver is run at: each pass streams d normals per neuron, about an
/// hour per pass beyond this; wider runs are refused (and `auto` leaves them to the full solver,
/// which refuses them for memory).
pub const MAX_REDUCED_WIDTH: usize = 10_000_000_000;
/// Largest n for which `--solver auto` takes the reduced solver (2ⁿ pattern counters).
pub const AUTO_MAX_INPUTS: usize = 12;

/// Which solver `train` runs.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// Reduced for first-layer flow and GD when m ≫ n, full otherwise.
    #[default]
    Auto,
    /// Store W and run every neuron.
    Full,
    /// The exact lazy-neuron reduction (first-layer flow and GD only).
    Reduced,
}

/// The `--solver` option of `train`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SolverArgs {
    /// Solver: full, reduced (exact lazy-neuron reduction, first layer only, W never stored) or
    /// auto (reduced for flow and gd when m ≥ 10⁶ and n ≤ 12).
    #[arg(long, value_enum, default_value = "auto")]
    pub solver: Solver,
}

/// Runs `train` on the reduced solver when `args` ask for it (or `auto` picks it); `None` means
/// the caller runs the full solver.
pub fn train_reduced(args: &TrainArgs) -> Result<Option<ExitCode>, UserError> {
    let first_layer = matches!(args.method, Method::Flow | Method::Gd);
    match args.solver.solver {
        Solver::Full => return Ok(None),
        Solver::Reduced if !first_layer => {
            return Err(UserError(format!(
                "--solver reduced --method {:?}: the reduction is for first-layer dynamics (flow, gd) only",
                args.method
            )));
        }
        Solver::Auto
            if !(first_layer && args.w.is_none() && (AUTO_MIN_WIDTH..=MAX_REDUCED_WIDTH).contains(&args.width)) =>
        {
            return Ok(None);
        }
        Solver::Reduced if args.w.is_none() && args.width > MAX_REDUCED_WIDTH => {
            return Err(UserError(format!(
                "--width {} --solver reduced: each pass streams d normals per neuron, more than an hour beyond {MAX_REDUCED_WIDTH:e} neurons: lower --width",
                args.width
            )));
        }
        _ => {}
    }
    let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let data = load(&args.x, &args.y, args.normalise)?;
    if args.solver.solver == Solver::Auto && data.n() > AUTO_MAX_INPUTS {
        return Ok(None);
    }
    let rows_and_status = match (&args.w, &args.a) {
        (Some(w), Some(a)) => {
            let net = model::Network::new(model::npy::read_matrix(w)?, model::npy::read_vector(a)?)
                .map_err(|e| UserError(format!("{} / {}: {e}", w.display(), a.display())))?;
            let src = GivenNetwork::new(&data, &net).map_err(|e| UserError(format!("{}: {e}", w.display())))?;
            run(&data, &src, args)?
        }
        (None, None) => run(&data, &SeededInit::new(&data, args.width, args.seed, 0)?, args)?,
        _ => {
            return Err(UserError(
                "give both --w and --a, or neither (then --width and --seed init the network)".into(),
            ));
        }
    };
    let (rows, status, diverged) = rows_and_status;
    let text = if ext == "json" {
        // Derived structs of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
        // null and the target is a String, so serialising (and json!'s to_value) cannot fail.
        serde_json::to_string_pretty(&serde_json::json!({ "status": status, "samples": rows })).expect("serialise")
            + "\n"
    } else {
        crate::data::to_csv(&rows)
    };
    crate::files::write_file(&args.out, text.as_bytes())?;
    println!("{status}; {} samples written to {}", rows.len(), args.out.display());
    Ok(Some(if diverged { ExitCode::from(EXIT_DIVERGED) } else { ExitCode::SUCCESS }))
}

fn load(x: &Path, y: &Path, normalise: bool) -> Result<Dataset, UserError> {
    let (xm, precision) = model::npy::read_matrix_and_precision(x)?;
    let yv = model::npy::read_vector(y)?;
    let norms = match (normalise, precision) {
        (true, _) => RowNorms::Normalise,
        (false, model::npy::Precision::Float32) => RowNorms::Float32,
        (false, model::npy::Precision::Float64) => RowNorms::default(),
    };
    Dataset::new(xm, yv, norms).map_err(|e| UserError(format!("{} / {}: {e}", x.display(), y.display())))
}

fn run<S: NeuronSource>(data: &Dataset, src: &S, args: &TrainArgs) -> Result<(Vec<Row>, String, bool), UserError> {
    let sys = System::new(data, src, BudgetPolicy::default())?;
    let lambda0 = sys.lambda0();
    let n = data.n() as f64;
    println!("train: {:?} on the reduced solver, n = {}, d = {}, m = {}", args.method, data.n(), data.d(), sys.m());
    let st = sys.initial_state()?;
    let e0_sq = st.initial_residual_norm.powi(2);
    let mut rows = Vec::new();
    let lambda_min = args.lambda_min;
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
        Control::Continue
    };
    let (outcome, what) = match args.method {
        Method::Gd => {
            let eta = args.eta.unwrap_or(lambda0 / (n * n));
            let stride = crate::data::gd_stride(args.iterations, args.every);
            let rate = 1.0 - eta * lambda0 / 2.0;
            let out = reduced::run_gd(&sys, st, eta, args.iterations, |k| k % stride == 0, &mut |s: &Sample| {
                push(s, e0_sq * model::infinite::integer_power(rate, s.step))
            })?;
            (out, format!("{} iterations with η = {eta}", args.iterations))
        }
        _ => {
            let intervals = args.every.max(1) * 50;
            let t_end = args.horizon;
            let times: Vec<f64> = (0..=intervals)
                .map(|k| if k == intervals { t_end } else { t_end * k as f64 / intervals as f64 })
                .collect();
            debug_assert!(times.len() <= MAX_TRAIN_SAMPLES + 1);
            let out = reduced::run_flow(&sys, st, args.step, &times, &mut |s: &Sample| {
                push(s, e0_sq * (-lambda0 * s.t).exp())
            })?;
            let what = format!("t = {} with h = {}", out.t, args.step);
            (out, what)
        }
    };
    let status = format!(
        "{} {what} (reduced solver: {} active neurons at most of {}, {} budget passes, peak memory about {})",
        if outcome.diverged { "diverged before" } else { "completed" },
        outcome.max_active,
        sys.m(),
        outcome.passes,
        crate::estimate::bytes(outcome.peak_memory.total())
    );
    Ok((rows, status, outcome.diverged))
}
