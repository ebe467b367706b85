//! The both-layer recorder: the one recorder of every dynamics (`model::Recorder`), whose samples then carry the
//! second-layer extras ([`flow::SecondLayer`]: λmin(H(t) + G(t)), ‖a(t) − a(0)‖).
//!
//! Slide Thm 2.6 (paper Thm 3.3): training both layers keeps the rate
//! ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖²; H now carries a_r(t)² and G(t) adds to the decay, since
//! d/dt ‖y − u‖² = −2 (y − u)ᵀ(H + G)(y − u). The ratio ‖y − u(t)‖² / (e^{−λ0 t}‖y − u(0)‖²) is
//! flow's `bound_ratio`; the infinite-width reference for both layers uses K∞ = H∞ + G∞.

use model::InfiniteWidth;

use flow::{Recorder, RecorderOptions};

pub use flow::{Sample, SecondLayer, Trajectory};

/// The recorder of a both-layer run ([`crate::run`] or [`crate::descend`]): the one recorder with
/// the second-layer extras, using λ0 and K∞ of `reference` (see [`InfiniteWidth::both_layers`]).
pub fn recorder(reference: &InfiniteWidth, options: RecorderOptions) -> Recorder<'_> {
    Recorder::both_layers(reference, options)
}
