//! Run configuration of a gradient flow: end time, step (fixed or from a tolerance), sample times, error estimate.

use crate::error::{Result, invalid};
use crate::ode::{ErrorEstimate, StepSelection};

/// How the RK4 step h is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepSize {
    /// A fixed h > 0.
    Fixed(f64),
    /// Chosen by [`crate::choose_step`]: halve from `h_initial` until the estimated local error per
    /// unit time is ≤ `tol`.
    Tolerance(StepSelection),
}

/// When observers are called (always at t = 0 and t = T; the driver lands exactly on each time).
#[derive(Debug, Clone, PartialEq)]
pub enum SampleTimes {
    /// t_k = T·k/intervals, k = 0..=intervals (intervals ≥ 1).
    Uniform {
        /// Number of intervals.
        intervals: usize,
    },
    /// These times (each finite, in [0, T]; sorted and deduplicated; 0 and T are added).
    Explicit(Vec<f64>),
}

/// Where a flow runs (see [`crate::kernel`]; both layers: `both_layers::kernel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Space {
    /// Kernel space when d ≥ n (one n×n×m GEMM per evaluation instead of two n×d×m), weight space otherwise.
    #[default]
    Auto,
    /// On (W, a): two n×d×m GEMMs per evaluation.
    Weight,
    /// On (Z, C) with dZ/dt = −K D(Z), W − W(0) = Cᵀ X. Under the embedded error estimate each
    /// RK4 step is the lazy step of [`crate::lazy`] (about one n×n×m GEMM: the pattern is frozen
    /// where it provably cannot change, the same step to rounding); otherwise every stage is
    /// evaluated in full.
    Kernel,
    /// Kernel space with every RK4 stage evaluated in full (one n×n×m GEMM per evaluation, the
    /// bits of the generic composition): the lazy step off.
    KernelFused,
}

impl Space {
    /// Whether a flow on `data` runs in kernel space.
    pub fn kernel(self, data: &model::Dataset) -> bool {
        match self {
            Space::Auto => data.d() >= data.n(),
            Space::Weight => false,
            Space::Kernel | Space::KernelFused => true,
        }
    }
}

/// Configuration of [`crate::run`] (and of `both_layers::run`). Plain data with [`Default`].
#[derive(Debug, Clone, PartialEq)]
pub struct FlowConfig {
    /// End time T ≥ 0.
    pub t_end: f64,
    /// RK4 step.
    pub step: StepSize,
    /// Sample times.
    pub samples: SampleTimes,
    /// Error estimate (default: the embedded estimate, ≈ 1× cost; step doubling is an option).
    pub error_estimate: ErrorEstimate,
    /// Weight or kernel space (the first-layer flow, and both layers in `both_layers::run`).
    pub space: Space,
    /// The run diverges when the loss exceeds this × its initial value (> 1), or is not finite.
    pub divergence_factor: f64,
}

impl Default for FlowConfig {
    /// T = 10, h = 0.01, 100 sample intervals, embedded error estimate, space chosen from n and d,
    /// divergence at 10⁶ × the initial loss.
    fn default() -> Self {
        FlowConfig {
            t_end: 10.0,
            step: StepSize::Fixed(0.01),
            samples: SampleTimes::Uniform { intervals: 100 },
            error_estimate: ErrorEstimate::Embedded,
            space: Space::Auto,
            divergence_factor: model::DEFAULT_DIVERGENCE_FACTOR,
        }
    }
}

impl FlowConfig {
    /// The validated, sorted sample times 0 = t_0 < … < t_K = T.
    pub fn sample_times(&self) -> Result<Vec<f64>> {
        let t_end = self.t_end;
        if !(t_end.is_finite() && t_end >= 0.0) {
            return Err(invalid("t_end", t_end, "the end time T must be finite and ≥ 0"));
        }
        let mut times = match &self.samples {
            SampleTimes::Uniform { intervals } => {
                if *intervals == 0 {
                    return Err(invalid("samples.intervals", 0, "need at least one interval"));
                }
                (0..=*intervals)
                    .map(|k| if k == *intervals { t_end } else { t_end * k as f64 / *intervals as f64 })
                    .collect()
            }
            SampleTimes::Explicit(ts) => {
                for &t in ts {
                    if !(t.is_finite() && (0.0..=t_end).contains(&t)) {
                        return Err(invalid(
                            "samples",
                            t,
                            format!("every sample time must be finite and in [0, T = {t_end}]"),
                        ));
                    }
                }
                let mut v = ts.clone();
                v.push(0.0);
                v.push(t_end);
                v
            }
        };
        times.sort_by(f64::total_cmp);
        times.dedup();
        Ok(times)
    }

    /// Checks everything but the step-selection parameters (those are checked by [`crate::choose_step`]).
    pub fn validate(&self) -> Result<()> {
        self.sample_times()?;
        if let StepSize::Fixed(h) = self.step
            && !(h.is_finite() && h > 0.0)
        {
            return Err(invalid("step", h, "the RK4 step h must be finite and positive"));
        }
        if let StepSize::Fixed(h) = self.step
            && self.t_end > 0.0
            && h > self.t_end * (1.0 + 1e-12)
        {
            return Err(invalid(
                "step",
                h,
                format!(
                    "the RK4 step h is longer than the horizon T = {}; it is used as given, never shortened: lower it",
                    self.t_end
                ),
            ));
        }
        if let ErrorEstimate::LocalSampled { every: 0 } = self.error_estimate {
            return Err(invalid("error_estimate.every", 0, "check at least one step in every (every ≥ 1)"));
        }
        if !(self.divergence_factor.is_finite() && self.divergence_factor > 1.0) {
            return Err(invalid("divergence_factor", self.divergence_factor, "must be finite and > 1"));
        }
        Ok(())
    }
}
