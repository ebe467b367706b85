//! One door to training a network on given data, for the runner's `train` and Python's `train`.
//!
//! The four methods (first-layer flow and GD, both-layer flow and GD), their options and their
//! checks, the two solvers (every neuron stored, or the reduced solver of docs/theory.md §5 for
//! first-layer dynamics at large widths) and one trajectory format ([`Row`], [`Trained`]). The
//! caller brings the data and the network, and a [`Watch`] that sees every step (a progress bar,
//! a cancellation flag); the dynamics themselves run through each crate's `model::execute` loop.

mod error;
mod full;
mod kernel;
mod solver;

pub use error::TrainError;
pub use full::train;
pub use kernel::{Kernels, kernels};
pub use solver::{AUTO_MAX_INPUTS, AUTO_MIN_WIDTH, Init, MAX_REDUCED_WIDTH, Solver, reduced_applies, train_reduced};

/// The data set's closest pair of rows (a bound on λ0), for the caller's note on nearly parallel inputs.
pub use model::ClosestPair;
/// The vocabulary of the door: data, networks, run control and the `.npy` files they come from.
pub use model::network::{MEMORY_LIMIT_BYTES, ensure_fits};
pub use model::{Control, Dataset, ModelError, Network, RowNorms, Status, npy};

use serde::Serialize;

/// The most samples a trajectory keeps: GD raises its sampling stride to stay below it, and a flow
/// refuses more sample intervals.
pub const MAX_SAMPLES: usize = 100_000;

/// Which dynamics `train` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl Method {
    /// Every method by its name.
    pub const ALL: [(&'static str, Method); 4] =
        [("flow", Method::Flow), ("gd", Method::Gd), ("both-flow", Method::BothFlow), ("both-gd", Method::BothGd)];

    /// The method named `name` ("flow", "gd", "both-flow", "both-gd").
    pub fn parse(name: &str) -> Result<Method, TrainError> {
        Method::ALL.iter().find(|(n, _)| *n == name).map(|&(_, m)| m).ok_or_else(|| {
            TrainError::Input(format!("method {name:?}: expected one of \"gd\", \"flow\", \"both-flow\", \"both-gd\""))
        })
    }

    /// Whether it is gradient descent (iterations, a step η) rather than a flow (a horizon T, RK4 steps h).
    pub fn is_gd(self) -> bool {
        matches!(self, Method::Gd | Method::BothGd)
    }

    /// Whether it trains the first layer only (the reduced solver's domain).
    pub fn first_layer(self) -> bool {
        matches!(self, Method::Flow | Method::Gd)
    }
}

/// The options of a run besides the data and the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Which dynamics.
    pub method: Method,
    /// GD step η (default: the theorem's λ0/n² for first-layer GD, 0.01 for both-layer GD).
    pub eta: Option<f64>,
    /// GD iterations.
    pub iterations: usize,
    /// Flow horizon T.
    pub horizon: f64,
    /// RK4 step h.
    pub step: f64,
    /// GD: record every k-th iteration (raised to keep at most [`MAX_SAMPLES`]); flow: 50·k sample intervals.
    pub every: usize,
    /// Also record λmin(H) at each sample (O(n³) each).
    pub lambda_min: bool,
}

/// How a frontend names an option in its messages: the command line's `--every 0`, Python's `every = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// `--name value`.
    CommandLine,
    /// `name = value`.
    Python,
}

impl Spelling {
    /// The option's name as the user types it.
    pub fn name(self, name: &str) -> String {
        match self {
            Spelling::CommandLine => format!("--{name}"),
            Spelling::Python => name.to_string(),
        }
    }
    /// The option with its value.
    pub fn setting(self, name: &str, value: impl std::fmt::Display) -> String {
        match self {
            Spelling::CommandLine => format!("--{name} {value}"),
            Spelling::Python => format!("{name} = {value}"),
        }
    }
}

impl Options {
    /// Refuses options outside their domains, naming the option as the frontend spells it.
    /// [`train`] and [`train_reduced`] check again, in the command line's spelling.
    pub fn validate(&self, spell: Spelling) -> Result<(), TrainError> {
        let bad = |s: String| Err(TrainError::Input(s));
        if self.every == 0 {
            return bad(format!("{}: must be at least 1", spell.setting("every", 0)));
        }
        if self.iterations == 0 && self.method.is_gd() {
            return bad(format!("{}: gradient descent needs at least one iteration", spell.setting("iterations", 0)));
        }
        if !self.method.is_gd() {
            if !(self.horizon.is_finite() && self.horizon > 0.0) {
                return bad(format!(
                    "{}: the flow's horizon T must be positive",
                    spell.setting("horizon", self.horizon)
                ));
            }
            if !(self.step.is_finite() && self.step > 0.0) {
                return bad(format!(
                    "{}: the RK4 step h must be finite and positive",
                    spell.setting("step", self.step)
                ));
            }
            if self.every.saturating_mul(50) > MAX_SAMPLES {
                let every = spell.name("every");
                return bad(format!(
                    "{}: the flow would keep {} samples (50 per unit of {every}), more than {MAX_SAMPLES}: lower {every}",
                    spell.setting("every", self.every),
                    self.every.saturating_mul(50)
                ));
            }
        }
        Ok(())
    }

    /// The steps a run takes (GD iterations, or ⌈T/h⌉ RK4 steps) and their unit, for a progress bar.
    pub fn planned_steps(&self) -> (u64, &'static str) {
        if self.method.is_gd() {
            (self.iterations as u64, "iterations")
        } else {
            ((self.horizon / self.step).ceil() as u64, "RK4 steps")
        }
    }
}

/// Sees every step of a run: moves a progress bar, or stops the run (at its next sample) on request.
pub trait Watch {
    /// Step `step` (a GD iteration or an RK4 step) is done.
    fn at_step(&mut self, step: usize) -> Control;
}

/// A watch that sees nothing and never stops a run.
pub struct Unwatched;

impl Watch for Unwatched {
    fn at_step(&mut self, _: usize) -> Control {
        Control::Continue
    }
}

/// One sample of a trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// What a run gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    /// The samples, in order; a GD run's last accepted iterate is always among them.
    pub rows: Vec<Row>,
    /// One sentence: how the run ended, with its step and solver.
    pub status: String,
    /// Whether it diverged (the loss grew past its factor, or a value became non-finite).
    pub diverged: bool,
    /// The GD step η used (none for flows).
    pub eta: Option<f64>,
}

impl Trained {
    /// The trajectory as JSON: `{"status", "samples"}` (non-finite values as null).
    pub fn to_json(&self) -> String {
        // Derived structs of numbers, strings and Options: serde_json writes NaN/±∞ as null and the
        // target is a String, so serialising (and json!'s to_value) cannot fail.
        serde_json::to_string_pretty(&serde_json::json!({ "status": self.status, "samples": self.rows }))
            .expect("a trajectory serialises")
            + "\n"
    }

    /// The trajectory as CSV, one row per sample (empty cells where a value was not recorded).
    pub fn to_csv(&self) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:e}"));
        let mut s = String::from(
            "t,step,loss,residual_sq,bound_ratio,pattern_change_fraction,max_weight_distance,lambda_min_h\n",
        );
        for r in &self.rows {
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
}

/// The GD sampling stride: `every`, raised to ⌈K / (MAX − 1)⌉ when K / every + 2 samples would pass
/// [`MAX_SAMPLES`] (K iterations; the last iterate is always kept as well).
pub fn gd_stride(iterations: usize, every: usize) -> usize {
    if iterations / every + 2 <= MAX_SAMPLES { every } else { iterations.div_ceil(MAX_SAMPLES - 2) }
}

/// Bytes in binary units, e.g. "512 B", "1.5 GiB".
pub fn bytes(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{b} B") } else { format!("{v:.1} {}", units[u]) }
}

/// How the rows of an X read from a file are held to unit norm: divided by their norms with
/// `normalise`, else checked at the tolerance of the file's precision (float32 or float64).
pub fn row_norms(normalise: bool, precision: npy::Precision) -> RowNorms {
    match (normalise, precision) {
        (true, _) => RowNorms::Normalise,
        (false, npy::Precision::Float32) => RowNorms::Float32,
        (false, npy::Precision::Float64) => RowNorms::default(),
    }
}

/// Reads a data set from `.npy` files: X (float64, or float32 whose rows are unit to float32
/// precision) and y; with `normalise`, each row of X is divided by its norm instead.
pub fn load(x: &std::path::Path, y: &std::path::Path, normalise: bool) -> Result<Dataset, TrainError> {
    let (xm, precision) = npy::read_matrix_and_precision(x)?;
    let yv = npy::read_vector(y)?;
    Dataset::new(xm, yv, row_norms(normalise, precision))
        .map_err(|e| TrainError::Input(format!("{} / {}: {e}", x.display(), y.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_by_name_and_bad_options_are_named() {
        for (name, m) in Method::ALL {
            assert_eq!(Method::parse(name).expect("a listed name parses"), m);
        }
        assert!(Method::parse("sgd").is_err_and(|e| e.to_string().contains("expected one of")));
        let o = Options {
            method: Method::Flow,
            eta: None,
            iterations: 0,
            horizon: 1.0,
            step: 0.1,
            every: 1,
            lambda_min: false,
        };
        assert!(o.validate(Spelling::CommandLine).is_ok(), "a flow needs no iterations");
        let message = |o: Options| o.validate(Spelling::CommandLine).expect_err("refused").to_string();
        assert!(message(Options { method: Method::Gd, ..o.clone() }).starts_with("--iterations 0"));
        assert!(message(Options { every: 0, ..o.clone() }).starts_with("--every 0"));
        assert!(message(Options { horizon: f64::NAN, ..o.clone() }).starts_with("--horizon NaN"));
        assert!(message(Options { step: -1.0, ..o.clone() }).starts_with("--step -1"));
        assert!(message(Options { every: 2001, ..o.clone() }).contains("more than 100000"));
        let python = Options { every: 2001, ..o.clone() }.validate(Spelling::Python).expect_err("refused").to_string();
        assert!(
            python.starts_with("every = 2001: the flow would keep 100050 samples (50 per unit of every)"),
            "{python}"
        );
        assert_eq!(Options { horizon: 1.0, step: 0.3, ..o }.planned_steps(), (4, "RK4 steps"));
    }

    #[test]
    fn the_gd_stride_keeps_at_most_max_samples() {
        assert_eq!(gd_stride(100, 1), 1);
        for (k, every) in [(10_000_000, 1), (MAX_SAMPLES * 3, 2), (u32::MAX as usize, 7)] {
            let s = gd_stride(k, every);
            assert!(k / s + 2 <= MAX_SAMPLES, "K = {k}, every = {every}: stride {s}");
            assert!(s >= every);
        }
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
    }
}
