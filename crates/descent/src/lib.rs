//! Discrete gradient descent of the first layer, checked against slide Thm 3.1 (paper Thm 4.1).
//!
//! The claim (Du, Zhai, Póczos, Singh, ICLR 2019, Thm 4.1; slide Thm 3.1): if no two inputs are
//! parallel, λ0 = λmin(H∞) > 0, m = Ω(n⁶/(λ0⁴δ³)), w_r(0) ~ N(0, I), a_r ~ unif{−1, +1} and the
//! step is η = O(λ0/n²), then with probability at least 1 − δ over the initialisation, GD on the
//! first layer, W(k+1) = W(k) − η ∂L/∂W, satisfies for k = 0, 1, 2, …
//!
//! ‖y − u(k)‖² ≤ (1 − ηλ0/2)^k ‖y − u(0)‖².
//!
//! Shape (argmin-style: problem, step, state, driver with observers):
//! - the *problem* [`Problem`]: data, initial network, the step size η resolved from [`LearningRate`];
//! - the *step* [`Problem::step`]: weight space (W, two GEMMs) or kernel space (Z ← Z − η K D, one
//!   GEMM; docs/theory.md §4.1), full batch or minibatch ([`Sampling`]);
//! - the *state* [`State`]: k, Z(k), u(k), residual, per-neuron distances to init;
//! - the *driver* [`Problem::run`] / [`run`]: stopping (iteration count, divergence past the
//!   stability limit 2/λmax(H)) and [`Observer`]s, such as the trajectory [`Recorder`]. A run ends
//!   with a [`Status`] and observers return a [`Control`] ([`Control::Stop`] ends the run), the
//!   same types (from `model::dynamics`) and the same stop semantics as `flow`'s.
//!
//! Determinism: every kernel works on fixed column blocks (`model::par`), the sampler draws from
//! `model::rng::stream(seed, trial, Purpose::Minibatch)`, eigensolvers run sequentially; the bits
//! do not depend on the number of rayon threads.

pub mod config;
pub mod driver;
pub mod error;
pub mod minibatch;
pub mod problem;
pub mod recorder;
pub mod sgd;
pub mod state;
pub mod theory;

pub use config::{DEFAULT_DIVERGENCE_FACTOR, DescentConfig, LearningRate, Method, Sampling};
pub use driver::{GdStepper, Observers, Outcome, View, run};
pub use error::{DescentError, Result};
/// The run vocabulary shared with `flow` and `both-layers` (defined in `model::dynamics`).
pub use model::{Control, Divergence, Observer, Status};
pub use problem::Problem;
pub use recorder::{Every, LossTrace, Recorder, RecorderOptions, Sample, Trajectory};
pub use sgd::{SgdComparison, SgdComparisonConfig, compare_gd_sgd};
pub use state::State;
pub use theory::{bound_ratio, stability_limit, theorem_bound};
