//! Gradient flow of the first layer (a fixed), integrated with classical RK4, with observers and a trajectory recorder.
//!
//! Checks slide Thm 2.1 (paper Thm 3.2) and Lem 2.4 (paper Lem 3.3) along simulated trajectories:
//! the flow dW/dt = −∂L/∂W gives du/dt = H(t)(y − u), and under λmin(H(s)) ≥ λ0/2 on [0, t],
//! ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖² and max_r ‖w_r(t) − w_r(0)‖ ≤ R' = 2√n‖y − u(0)‖/(√m λ0).
//!
//! Layout (argmin's separation):
//! - *problem*: a [`VectorField`] — [`FirstLayerField`] here, the (W, a) field in `both_layers`;
//! - *step*: [`Rk4`], generic over any [`OdeState`] (implemented for `Col`, `Mat` and [`model::Network`]);
//! - *state*: time and weights inside [`integrate`]; observers see a [`Snapshot`] with the cached
//!   forward pass (Z, u, u − y);
//! - *driver*: [`integrate`] (generic: the grid fixed by h, samples, divergence, error estimate)
//!   and [`run`] / [`run_with_field`] (concrete: validation, step selection, observers); a run
//!   ends with a [`Status`] and observers return a [`Control`], both `model::dynamics`'s, shared
//!   with `descent` and `both-layers`;
//! - the first-layer flow runs in kernel space ([`kernel`]: Z and C with W − W(0) = Cᵀ X, one
//!   n×n×m GEMM per evaluation, fused per block of neurons) when d ≥ n; [`lazy`] steps it for
//!   about one GEMM per step by freezing the ReLU pattern where it provably cannot change.
//!
//! Determinism: every kernel has thread-count-independent blocks and ordered reductions (the
//! model crate's GEMMs, this crate's chunked axpy and norms, sequential eigensolvers), so a run
//! gives the same bits on 1 and N threads.

pub mod config;
pub mod driver;
pub mod error;
pub mod kernel;
pub mod lazy;
pub mod ode;
pub mod pool;
pub mod recorder;
pub mod state;

pub use config::{FlowConfig, SampleTimes, Space, StepSize};
pub use driver::{
    FirstLayerField, FirstLayerTerms, NoObserver, RunOutcome, Snapshot, final_predictions, negate, network_error_parts,
    run, run_with_field, run_with_view, validate_network,
};
pub use error::{FlowError, Result};
pub use kernel::{KernelField, KernelState, PARALLEL_WORK};
pub use lazy::{LazyCounters, LazyKernel, LazyOptions, LazyStep, REBUILD_ROW_FLIPS};
/// The run vocabulary shared with `descent` and `both-layers` (defined in `model::dynamics`).
pub use model::{Control, Divergence, Observer, Status};
pub use ode::{
    ANY_ORDER_FACTOR, EMBEDDED_SAFETY, ErrorEstimate, ErrorParts, ErrorReport, Evaluation, GRID_SNAP, Integration,
    MAX_STEPS, OdeState, Plan, Rk4, SampleError, SampleEvent, StepChoice, StepDoubling, StepSelection, VectorField,
    check_step_fits, choose_step, embedded_step, integrate, steps_for,
};
pub use pool::MatPool;
pub use recorder::{Recorder, RecorderOptions, Sample, SecondLayer, Trajectory, ratio_to_bound, safe_ratio};
