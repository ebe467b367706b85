//! The both-layer recorder: flow's per-sample quantities plus λmin(H(t) + G(t)), ‖a(t) − a(0)‖ and the Thm 2.6 ratio.
//!
//! Slide Thm 2.6 (paper Thm 3.3): training both layers keeps the rate
//! ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖²; H now carries a_r(t)² and G(t) adds to the decay, since
//! d/dt ‖y − u‖² = −2 (y − u)ᵀ(H + G)(y − u). The ratio ‖y − u(t)‖² / (e^{−λ0 t}‖y − u(0)‖²) is
//! flow's `bound_ratio`; the infinite-width reference for both layers uses K∞ = H∞ + G∞.

use faer::Col;
use model::{InfiniteWidth, gram_g, gram_h, lambda_min};

use flow::{Control, Observer, RecorderOptions, Result, Snapshot};

/// One both-layer sample. Plain data; no field is ever NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Everything flow records (H with a_r(t)² weights; `bound_ratio` is the Thm 2.6 ratio;
    /// `u_infinity_gap` against K∞ of the reference, H∞ + G∞ from [`InfiniteWidth::both_layers`]).
    pub base: flow::Sample,
    /// λmin(H(t) + G(t)), when λmin is computed at this sample.
    pub lambda_min_h_plus_g: Option<f64>,
    /// ‖a(t) − a(0)‖₂.
    pub a_distance: f64,
    /// max_r |a_r(t) − a_r(0)|.
    pub max_a_distance: f64,
}

/// A recorded both-layer trajectory. Plain data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trajectory {
    /// Number of inputs n.
    pub n: usize,
    /// Width m.
    pub m: usize,
    /// λ0 = λmin(H∞).
    pub lambda0: f64,
    /// ‖y − u(0)‖₂.
    pub initial_residual_norm: f64,
    /// R' = 2√n ‖y − u(0)‖ / (√m λ0).
    pub r_prime: f64,
    /// First sample time where λmin(H(t)) < λ0/2 was observed.
    pub premise_first_failed_at: Option<f64>,
    /// The samples, in time order.
    pub samples: Vec<Sample>,
}

/// Records a both-layer [`Trajectory`]; one recorder per run. Works for [`crate::run`] and [`crate::descend`].
pub struct Recorder<'r> {
    inner: flow::Recorder<'r>,
    a0: Option<Col<f64>>,
    samples: Vec<Sample>,
}

impl<'r> Recorder<'r> {
    /// A recorder using λ0 and K∞ of `reference` (see [`InfiniteWidth::both_layers`]).
    pub fn new(reference: &'r InfiniteWidth, options: RecorderOptions) -> Self {
        Recorder { inner: flow::Recorder::new(reference, options), a0: None, samples: Vec::new() }
    }

    /// The samples so far.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The recorded trajectory.
    pub fn into_trajectory(self) -> Trajectory {
        let t = self.inner.into_trajectory();
        Trajectory {
            n: t.n,
            m: t.m,
            lambda0: t.lambda0,
            initial_residual_norm: t.initial_residual_norm,
            r_prime: t.r_prime,
            premise_first_failed_at: t.premise_first_failed_at,
            samples: self.samples,
        }
    }
}

impl Observer for Recorder<'_> {
    fn observe(&mut self, s: &Snapshot<'_>) -> Result<Control> {
        let base = self.inner.record(s)?.clone();
        if s.sample_index == 0 || self.a0.is_none() {
            self.a0 = Some(s.a.to_owned());
            self.samples.clear();
        }
        let a0 = self.a0.as_ref().expect("set above");
        let (mut sq, mut max) = (0.0f64, 0.0f64);
        for r in 0..a0.nrows() {
            let d = s.a[r] - a0[r];
            sq += d * d;
            max = max.max(d.abs());
        }
        let lambda_min_h_plus_g = if base.lambda_min_h.is_some() {
            let hg = gram_h(s.data.input_gram(), s.z, s.a) + gram_g(s.z);
            Some(lambda_min(hg.as_ref())?)
        } else {
            None
        };
        self.samples.push(Sample { base, lambda_min_h_plus_g, a_distance: sq.sqrt(), max_a_distance: max });
        Ok(Control::Continue)
    }
}
