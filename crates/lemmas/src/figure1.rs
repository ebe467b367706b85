//! The paper's Fig. 1 (Sec. 5): full-batch GD on sphere data for several widths — loss, pattern changes, distance, λmin(H(k)) and the gap to u∞(k).

use std::sync::Arc;

use descent::{DescentConfig, InfiniteWidth, Method, Problem, Recorder, RecorderConfig, Schedule, Status, StepSize};
use model::{Dataset, Network};
use serde::{Deserialize, Serialize};

use crate::LemmaError;

/// Configuration of the Fig. 1 experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Config {
    /// Number of inputs n (the paper: 1000).
    pub n: usize,
    /// Input dimension d (the paper: 1000).
    pub d: usize,
    /// Widths m, one run each.
    pub widths: Vec<usize>,
    /// Iterations (the paper: 100).
    pub iterations: usize,
    /// Fixed step η; `None` chooses η = 1/λmax(H∞) rounded down to two significant digits.
    pub eta: Option<f64>,
    /// Master seed of data and initialisations.
    pub seed: u64,
    /// Record λmin(H(k)) every this many iterations (0 = never; it costs O(n³) each time).
    pub lambda_min_every: usize,
    /// Epochs of the GD-against-SGD comparison at the middle width (0 = skip it).
    pub sgd_epochs: usize,
    /// SGD batch size of that comparison.
    pub sgd_batch_size: usize,
}

impl Figure1Config {
    /// The quick profile: n = d = 100, widths 100 … 12800, 100 iterations.
    pub fn quick() -> Self {
        Figure1Config {
            n: 100,
            d: 100,
            widths: vec![100, 400, 1_600, 6_400, 25_600],
            iterations: 100,
            eta: None,
            seed: 0,
            lambda_min_every: 1,
            sgd_epochs: 30,
            sgd_batch_size: 10,
        }
    }
    /// The paper profile: n = d = 1000, widths 1000 … 16000, 100 iterations.
    pub fn paper() -> Self {
        Figure1Config {
            n: 1000,
            d: 1000,
            widths: vec![1_000, 2_000, 4_000, 8_000, 16_000],
            iterations: 100,
            eta: None,
            seed: 0,
            lambda_min_every: 5,
            sgd_epochs: 10,
            sgd_batch_size: 100,
        }
    }
}

/// One recorded iteration of one width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Sample {
    /// Iteration k.
    pub k: usize,
    /// L(k) = ½‖y − u(k)‖² (panel a).
    pub loss: f64,
    /// Pattern-change fraction (panel b).
    pub pattern_change_fraction: f64,
    /// max_r ‖w_r(k) − w_r(0)‖ (panel c).
    pub max_weight_distance: f64,
    /// λmin(H(k)) when recorded.
    pub lambda_min_h: Option<f64>,
    /// ‖u(k) − u∞(k)‖ with u∞(k) = y + (I − ηH∞)^k (u(0) − y).
    pub infinite_width_gap: f64,
}

/// The run of one width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Run {
    /// Width m.
    pub m: usize,
    /// "completed", or "diverged at iteration k".
    pub status: String,
    /// Samples, every iteration.
    pub samples: Vec<Figure1Sample>,
    /// max_k ‖u(k) − u∞(k)‖.
    pub max_infinite_width_gap: f64,
}

/// The whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Result {
    /// Its configuration.
    pub config: Figure1Config,
    /// The step used.
    pub eta: f64,
    /// How η was chosen.
    pub eta_rule: String,
    /// λ0 = λmin(H∞).
    pub lambda0: f64,
    /// λmax(H∞).
    pub lambda_max_infinity: f64,
    /// One run per width.
    pub runs: Vec<Figure1Run>,
    /// Least-squares slope of log max-gap against log m (≈ −1/2 expected).
    pub gap_slope: Option<f64>,
    /// GD against minibatch SGD from the same init (the slide deck's closing question): at
    /// Fig. 1's η, and at η·b/n (the step whose per-example size matches GD's).
    pub sgd: Vec<SgdSummary>,
}

/// Full-batch GD against minibatch SGD at one width, by epoch (about n examples seen per epoch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdSummary {
    /// Width m.
    pub m: usize,
    /// Batch size b.
    pub batch_size: usize,
    /// Common step η.
    pub eta: f64,
    /// SGD steps per epoch ⌈n/b⌉.
    pub steps_per_epoch: usize,
    /// "completed" or "diverged at iteration k", for GD and SGD.
    pub status: (String, String),
    /// Per epoch e: (e, GD loss, SGD loss, GD pattern change, SGD pattern change, GD max distance, SGD max distance).
    pub by_epoch: Vec<(usize, f64, f64, f64, f64, f64, f64)>,
}

/// Runs Fig. 1.
pub fn run(cfg: &Figure1Config, mut progress: impl FnMut(usize, usize)) -> Result<Figure1Result, LemmaError> {
    if cfg.widths.is_empty() || cfg.widths.contains(&0) {
        return Err(LemmaError::Config {
            name: "widths",
            value: format!("{:?}", cfg.widths),
            reason: "give at least one positive width".into(),
        });
    }
    if cfg.iterations == 0 {
        return Err(LemmaError::Config { name: "iterations", value: "0".into(), reason: "need at least one".into() });
    }
    let data = Dataset::sphere(cfg.n, cfg.d, cfg.seed, 0)?;
    let infinite = Arc::new(InfiniteWidth::of(&data).map_err(dynamics)?);
    let (lambda0, lambda_max) = (infinite.lambda0(), infinite.lambda_max());
    let (eta, eta_rule) = match cfg.eta {
        Some(eta) => {
            if !(eta.is_finite() && eta > 0.0) {
                return Err(LemmaError::Config {
                    name: "eta",
                    value: eta.to_string(),
                    reason: "η must be positive".into(),
                });
            }
            (eta, "given on the command line".to_string())
        }
        None => {
            let raw = 1.0 / lambda_max;
            let scale = 10f64.powi(raw.log10().floor() as i32 - 1);
            let eta = (raw / scale).floor() * scale;
            (
                eta,
                format!(
                    "η = 1/λmax(H∞) = {raw:.4} rounded down to two significant digits (half the stability limit 2/λmax of the infinite-width dynamics)"
                ),
            )
        }
    };
    let mut runs = Vec::new();
    for (w, &m) in cfg.widths.iter().enumerate() {
        let net = Network::init(m, cfg.d, cfg.seed, 1)?;
        let dcfg = DescentConfig {
            step_size: StepSize::Fixed(eta),
            iterations: cfg.iterations,
            method: Method::KernelSpace,
            ..DescentConfig::default()
        };
        let problem = Problem::with_infinite_width(&data, &net, &dcfg, infinite.clone()).map_err(dynamics)?;
        let every = cfg.lambda_min_every;
        let schedule = Schedule::Every(1);
        let mut rec = Recorder::new(RecorderConfig {
            schedule,
            lambda_min_h: false,
            predictions: false,
            theorem_bound: false,
            infinite_width: true,
        })
        .map_err(dynamics)?;
        let mut lmins = LambdaMins { every, values: Vec::new() };
        let outcome = problem.run(&mut (&mut rec, &mut lmins)).map_err(dynamics)?;
        let traj = rec.into_trajectory();
        let samples: Vec<Figure1Sample> = traj
            .samples
            .iter()
            .map(|s| Figure1Sample {
                k: s.iteration,
                loss: s.loss,
                pattern_change_fraction: s.pattern_change_fraction,
                max_weight_distance: s.max_weight_distance,
                lambda_min_h: lmins.values.iter().find(|(k, _)| *k == s.iteration).map(|(_, v)| *v),
                infinite_width_gap: s.infinite_width_gap.unwrap_or(0.0),
            })
            .collect();
        let status = match outcome.status {
            Status::Completed => "completed".to_string(),
            Status::Diverged { at_iteration, .. } => format!("diverged at iteration {at_iteration}"),
        };
        let max_gap = samples.iter().map(|s| s.infinite_width_gap).fold(0.0, f64::max);
        runs.push(Figure1Run { m, status, samples, max_infinite_width_gap: max_gap });
        progress(w + 1, cfg.widths.len());
    }
    let pts: Vec<(f64, f64)> = runs
        .iter()
        .filter(|r| r.status == "completed" && r.max_infinite_width_gap > 0.0)
        .map(|r| ((r.m as f64).ln(), r.max_infinite_width_gap.ln()))
        .collect();
    let gap_slope = (pts.len() >= 2).then(|| {
        let k = pts.len() as f64;
        let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / k, pts.iter().map(|p| p.1).sum::<f64>() / k);
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        sxy / sxx
    });
    let b = cfg.sgd_batch_size.clamp(1, cfg.n);
    let sgd = if cfg.sgd_epochs > 0 {
        vec![sgd_summary(cfg, &data, eta)?, sgd_summary(cfg, &data, eta * b as f64 / cfg.n as f64)?]
    } else {
        Vec::new()
    };
    Ok(Figure1Result {
        config: cfg.clone(),
        eta,
        eta_rule,
        lambda0,
        lambda_max_infinity: lambda_max,
        runs,
        gap_slope,
        sgd,
    })
}

fn sgd_summary(cfg: &Figure1Config, data: &Dataset, eta: f64) -> Result<SgdSummary, LemmaError> {
    let m = cfg.widths[cfg.widths.len() / 2];
    let net = Network::init(m, cfg.d, cfg.seed, 1)?;
    let b = cfg.sgd_batch_size.clamp(1, cfg.n);
    let c = descent::compare_gd_sgd(
        data,
        &net,
        &descent::SgdComparisonConfig {
            step_size: StepSize::Fixed(eta),
            batch_size: b,
            epochs: cfg.sgd_epochs,
            seed: cfg.seed,
            trial: 0,
            ..Default::default()
        },
    )
    .map_err(dynamics)?;
    let status = |s: Status| match s {
        Status::Completed => "completed".to_string(),
        Status::Diverged { at_iteration, .. } => format!("diverged at iteration {at_iteration}"),
    };
    let by_epoch = c
        .gd_by_epoch
        .iter()
        .zip(&c.sgd_by_epoch)
        .enumerate()
        .map(|(e, (g, s))| {
            (
                e,
                g.loss,
                s.loss,
                g.pattern_change_fraction,
                s.pattern_change_fraction,
                g.max_weight_distance,
                s.max_weight_distance,
            )
        })
        .collect();
    Ok(SgdSummary {
        m,
        batch_size: b,
        eta,
        steps_per_epoch: c.steps_per_epoch,
        status: (status(c.gd_status), status(c.sgd_status)),
        by_epoch,
    })
}

/// Records λmin(H(k)) every `every` iterations.
struct LambdaMins {
    every: usize,
    values: Vec<(usize, f64)>,
}

impl descent::Observer for LambdaMins {
    fn observe(&mut self, problem: &Problem<'_>, state: &descent::State) -> descent::Result<()> {
        if self.every > 0 && state.iteration() % self.every == 0 {
            self.values.push((state.iteration(), problem.lambda_min_h(state)?));
        }
        Ok(())
    }
}

fn dynamics(e: impl std::fmt::Display) -> LemmaError {
    LemmaError::Dynamics(e.to_string())
}
