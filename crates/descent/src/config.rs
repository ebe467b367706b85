//! Configuration of a descent run: learning rate η, update method, batch sampling, sampling stride, stopping rules.

use crate::{DescentError, Result};

pub use model::DEFAULT_DIVERGENCE_FACTOR;

/// The learning rate η of W(k+1) = W(k) − η ∂L/∂W.
///
/// Not flow's `StepSize`: the flow's h is how finely an ODE is solved (the answer must not depend
/// on it, and the error estimate says by how much it does), while η is part of the dynamics
/// studied (Thm 3.1 is about GD with this η, and a large η changes what GD does). Two ideas, two
/// names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LearningRate {
    /// A fixed η > 0.
    Fixed(f64),
    /// η = c_η λ0 / n², the step of slide Thm 3.1 (paper Thm 4.1), whose proof asks for
    /// η = O(λ0/n²) with an implicit constant; λ0 = λmin(H∞) is computed from the data.
    Theorem {
        /// The constant c_η > 0 (default 1).
        c_eta: f64,
    },
}

impl Default for LearningRate {
    fn default() -> Self {
        LearningRate::Theorem { c_eta: 1.0 }
    }
}

impl LearningRate {
    /// η = c_η λ0 / n² for n inputs: the theorem's step, computed here only, so that every run
    /// and every forecast that needs it has the same bits.
    pub fn theorem_eta(c_eta: f64, lambda0: f64, n: usize) -> f64 {
        let nf = n as f64;
        c_eta * lambda0 / (nf * nf)
    }

    /// Checks that η or c_η is a positive finite number.
    pub fn validate(&self) -> Result<()> {
        let (name, value) = match *self {
            LearningRate::Fixed(eta) => ("eta", eta),
            LearningRate::Theorem { c_eta } => ("c_eta", c_eta),
        };
        if !value.is_finite() {
            return Err(DescentError::InvalidLearningRate { name, value, reason: "must be finite".into() });
        }
        if value <= 0.0 {
            return Err(DescentError::InvalidLearningRate { name, value, reason: "must be positive".into() });
        }
        Ok(())
    }
}

/// How a step is computed. Both are the same iteration; they differ only in rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Keep W (m × d): gradient Dᵀ X and Z = X Wᵀ, two n×d×m GEMMs per step (the reference path).
    WeightSpace,
    /// Keep Z = X Wᵀ and update Z ← Z − η K D with K = X Xᵀ, one n×n×m GEMM per step (docs/theory.md §4.1).
    /// Cheaper than [`Method::WeightSpace`] when n < 2d; W is materialised only on request.
    #[default]
    KernelSpace,
}

/// Which inputs enter each step's gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    /// Full-batch gradient descent: every step uses ∂L/∂W on all n inputs.
    #[default]
    FullBatch,
    /// Minibatch SGD: each step draws b distinct indices B (without replacement) from the stream
    /// `model::rng::stream(seed, trial, Purpose::Minibatch)` and uses (n/b) ∂L_B/∂W with
    /// L_B = ½ Σ_{i∈B} (u_i − y_i)², an unbiased estimate of ∂L/∂W.
    Minibatch {
        /// Batch size b, 1 ≤ b ≤ n.
        batch_size: usize,
        /// Master seed of the sampler.
        seed: u64,
        /// Trial index of the sampler's stream.
        trial: u64,
    },
}

/// Everything a run needs besides the data and the initial network.
#[derive(Debug, Clone, PartialEq)]
pub struct DescentConfig {
    /// Step size η (default: the theorem's η = λ0/n²).
    pub learning_rate: LearningRate,
    /// Number of steps k = 1..=iterations (default 100, as in Fig. 1).
    pub iterations: usize,
    /// Update method (default [`Method::KernelSpace`]).
    pub method: Method,
    /// Full batch or minibatch (default full batch).
    pub sampling: Sampling,
    /// Observers see k = 0, every `sample_every`-th iterate and the last (≥ 1; default 1, every
    /// iterate), as in both-layer GD; the outcome names the last accepted iterate regardless.
    pub sample_every: usize,
    /// A run stops as diverged when the loss exceeds this multiple of L(0), or any value is
    /// non-finite (default [`DEFAULT_DIVERGENCE_FACTOR`]; must be > 1).
    pub divergence_factor: f64,
}

impl Default for DescentConfig {
    fn default() -> Self {
        DescentConfig {
            learning_rate: LearningRate::default(),
            iterations: 100,
            method: Method::default(),
            sampling: Sampling::default(),
            sample_every: 1,
            divergence_factor: DEFAULT_DIVERGENCE_FACTOR,
        }
    }
}

impl DescentConfig {
    /// Checks the step size, the divergence factor, the sampling stride and the batch size against n.
    pub fn validate(&self, n: usize) -> Result<()> {
        self.learning_rate.validate()?;
        if !(self.divergence_factor.is_finite() && self.divergence_factor > 1.0) {
            return Err(DescentError::InvalidParameter {
                name: "divergence_factor",
                value: self.divergence_factor.to_string(),
                reason: "must be a finite number above 1".into(),
            });
        }
        if self.sample_every == 0 {
            return Err(DescentError::InvalidParameter {
                name: "sample_every",
                value: "0".into(),
                reason: "sample at least every iteration (≥ 1)".into(),
            });
        }
        if let Sampling::Minibatch { batch_size, .. } = self.sampling
            && (batch_size == 0 || batch_size > n)
        {
            return Err(DescentError::InvalidBatchSize { batch_size, n });
        }
        Ok(())
    }
}
