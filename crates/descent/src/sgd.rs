//! Minibatch SGD: a measured GD-versus-SGD comparison from the same init.
//!
//! The slide deck closes with "what changes under SGD?". The theorem is about full-batch GD; here
//! the same first-layer iteration runs with the unbiased minibatch gradient (n/b) ∂L_B/∂W, and
//! [`compare_gd_sgd`] reports both trajectories at matched epochs and matched iterations.

use std::sync::Arc;

use model::{Dataset, InfiniteWidth, Network, h_infinity};

use crate::recorder::{Every, LossTrace, Recorder, RecorderOptions, Sample};
use crate::theory::guarded_ratio;
use crate::{DescentConfig, DescentError, LearningRate, Method, Problem, Result, Sampling, Status};

/// Settings of [`compare_gd_sgd`].
#[derive(Debug, Clone, PartialEq)]
pub struct SgdComparisonConfig {
    /// Step size η, shared by both runs (default: the theorem's η = λ0/n²).
    pub learning_rate: LearningRate,
    /// Update method, shared by both runs (default kernel space).
    pub method: Method,
    /// SGD batch size b (default 1).
    pub batch_size: usize,
    /// Number of epochs: GD takes `epochs` steps, SGD `epochs · ⌈n/b⌉` (default 10).
    pub epochs: usize,
    /// Master seed of the SGD sampler.
    pub seed: u64,
    /// Trial index of the SGD sampler's stream.
    pub trial: u64,
    /// Divergence rule of both runs (see [`DescentConfig::divergence_factor`]).
    pub divergence_factor: f64,
}

impl Default for SgdComparisonConfig {
    fn default() -> Self {
        SgdComparisonConfig {
            learning_rate: LearningRate::default(),
            method: Method::default(),
            batch_size: 1,
            epochs: 10,
            seed: 0,
            trial: 0,
            divergence_factor: crate::DEFAULT_DIVERGENCE_FACTOR,
        }
    }
}

/// GD and SGD from the same initialisation, measured side by side.
///
/// An epoch is one GD step, or ⌈n/b⌉ SGD steps (about n examples seen). Losses are the full loss
/// L = ½ Σ_i (u_i − y_i)² on all n inputs in both runs. If a run diverges its vectors stop early.
#[derive(Debug, Clone)]
pub struct SgdComparison {
    /// The common step size η.
    pub eta: f64,
    /// λ0 = λmin(H∞) of the data.
    pub lambda0: f64,
    /// SGD batch size b.
    pub batch_size: usize,
    /// SGD steps per epoch, ⌈n/b⌉.
    pub steps_per_epoch: usize,
    /// How the GD run ended.
    pub gd_status: Status,
    /// How the SGD run ended.
    pub sgd_status: Status,
    /// GD samples after e = 0, 1, …, epochs epochs (iteration e): loss, bound ratio, patterns, distances.
    pub gd_by_epoch: Vec<Sample>,
    /// SGD samples after e = 0, 1, …, epochs epochs (iteration e · steps_per_epoch).
    pub sgd_by_epoch: Vec<Sample>,
    /// GD loss L(k) for k = 0..=epochs.
    pub gd_loss_by_iteration: Vec<f64>,
    /// SGD loss L(k) for k = 0..=epochs · steps_per_epoch.
    pub sgd_loss_by_iteration: Vec<f64>,
}

impl SgdComparison {
    /// L_SGD / L_GD after the same number of epochs (the same number of examples seen).
    pub fn loss_ratio_by_epoch(&self) -> Vec<f64> {
        self.gd_by_epoch.iter().zip(&self.sgd_by_epoch).map(|(g, s)| ratio(s.loss, g.loss)).collect()
    }
    /// L_SGD(k) / L_GD(k) after the same number of steps k.
    pub fn loss_ratio_by_iteration(&self) -> Vec<f64> {
        self.gd_loss_by_iteration.iter().zip(&self.sgd_loss_by_iteration).map(|(g, s)| ratio(*s, *g)).collect()
    }
}

/// L_SGD / L_GD: 1 when both are 0, +∞ when only GD's is (never NaN).
fn ratio(a: f64, b: f64) -> f64 {
    guarded_ratio(a, b, 1.0)
}

/// Runs full-batch GD and minibatch SGD (batch b, seeded sampler) from the same init `net` with
/// the same η, and measures both: the slide deck's closing question, "what changes under SGD".
pub fn compare_gd_sgd(data: &Dataset, net: &Network, config: &SgdComparisonConfig) -> Result<SgdComparison> {
    let n = data.n();
    if config.batch_size == 0 || config.batch_size > n {
        return Err(DescentError::InvalidBatchSize { batch_size: config.batch_size, n });
    }
    let steps_per_epoch = n.div_ceil(config.batch_size);
    let sgd_iterations = config.epochs.checked_mul(steps_per_epoch).ok_or_else(|| DescentError::InvalidParameter {
        name: "epochs",
        value: config.epochs.to_string(),
        reason: "epochs · ⌈n/b⌉ overflows".into(),
    })?;
    let infinite = Arc::new(InfiniteWidth::from_kernel_spectrum(h_infinity(data.input_gram()))?);
    let base = DescentConfig {
        learning_rate: config.learning_rate,
        iterations: config.epochs,
        method: config.method,
        sampling: Sampling::FullBatch,
        sample_every: 1,
        divergence_factor: config.divergence_factor,
    };
    let sgd_config = DescentConfig {
        iterations: sgd_iterations,
        sampling: Sampling::Minibatch { batch_size: config.batch_size, seed: config.seed, trial: config.trial },
        ..base.clone()
    };
    let options = RecorderOptions { lambda_min_every: 0, keep_u: false };
    // Every iterate is a sample (the loss traces see them all); the recorders keep one per epoch.
    let gd = Problem::with_infinite_width(data, net, &base, infinite.clone())?;
    let mut gd_observer = (Recorder::new(&infinite, options), LossTrace::default());
    let gd_outcome = gd.run(&mut gd_observer)?;

    let sgd = Problem::with_infinite_width(data, net, &sgd_config, infinite.clone())?;
    let mut sgd_observer =
        (Every { every: steps_per_epoch, inner: Recorder::new(&infinite, options) }, LossTrace::default());
    let sgd_outcome = sgd.run(&mut sgd_observer)?;

    Ok(SgdComparison {
        eta: gd.eta(),
        lambda0: infinite.lambda0(),
        batch_size: config.batch_size,
        steps_per_epoch,
        gd_status: gd_outcome.status,
        sgd_status: sgd_outcome.status,
        gd_by_epoch: gd_observer.0.into_trajectory().samples,
        sgd_by_epoch: sgd_observer.0.inner.into_trajectory().samples,
        gd_loss_by_iteration: gd_observer.1.losses,
        sgd_loss_by_iteration: sgd_observer.1.losses,
    })
}
