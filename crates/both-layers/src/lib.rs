//! Gradient flow and gradient descent on both layers (W, a), reusing flow's RK4, driver, observers and recorder.
//!
//! Slide Thm 2.6 (paper Thm 3.3): with both layers trained, ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖²
//! for m = Ω(n⁶ log(m/δ)/(λ0⁴ δ³)). The flow d(W, a)/dt = −(∂L/∂W, ∂L/∂a) gives
//! du/dt = (H(t) + G(t))(y − u) with H weighted by a_r(t)².
//!
//! - [`run`]: the flow, integrated by [`flow::run_with_field`] with [`BothLayersField`] (state
//!   [`model::Network`], an [`flow::OdeState`]); same [`flow::FlowConfig`] and [`flow::RunOutcome`].
//! - [`descend`]: plain GD with step η and a divergence status ([`GdConfig`], [`GdOutcome`]).
//! - [`recorder`]: the one recorder (`model::Recorder`, re-exported by flow) with the second-layer extras λmin(H + G),
//!   ‖a(t) − a(0)‖ (an observer of both `run` and `descend`); [`model::InfiniteWidth::both_layers`]
//!   gives the reference with K∞ = H∞ + G∞.
//!
//! Errors are [`flow::FlowError`] (it wraps `model::ModelError`); divergence is a status: both
//! `run` and `descend` end with [`model::Status`] and their observers return [`model::Control`]
//! (the vocabulary of `model::dynamics`, shared with `flow` and `descent`).

pub mod field;
pub mod gd;
pub mod kernel;
pub mod recorder;

pub use field::{BothLayersField, run};
pub use gd::{BothLayersGd, GdConfig, GdIterate, GdOutcome, Iterate, KernelIterate, descend};
pub use kernel::{KernelBothField, KernelBothState};
pub use recorder::{Sample, SecondLayer, Trajectory, recorder};
