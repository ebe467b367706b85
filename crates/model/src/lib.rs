//! Two-layer ReLU network of Du, Zhai, Póczos, Singh (ICLR 2019): data, network, gradients, Gram matrices and λ0.
//!
//! The Gram matrices are H, G, H∞ and G∞. The crate also holds the infinite-width reference
//! ([`InfiniteWidth`]: the flow and GD predictions under K∞); the run vocabulary the three dynamics
//! share ([`dynamics`]: [`Status`], [`Divergence`], [`Control`], and the one executor [`execute`]
//! of any [`Stepper`]); and the one trajectory recorder of every dynamics ([`record`]: a
//! [`Recorder`] of anything [`Recordable`]).
//!
//! Everything here follows docs/theory.md §1. Layout conventions (column-major faer matrices):
//! - inputs `X` are `n × d` with unit rows x_i (a [`Dataset`] cannot hold anything else);
//! - first-layer weights `W` are `m × d` with rows w_r; second-layer weights `a` have length m;
//! - pre-activations `Z = X Wᵀ` are `n × m`, so column r holds neuron r on every input.
//!
//! Parallelism is explicit and deterministic: work is cut into blocks whose boundaries do not
//! depend on the number of threads ([`par::COLUMN_BLOCK`]); each block runs sequential kernels
//! and blocks are combined in a fixed order. The rayon pool the caller installs decides only the
//! speed, never the bits.

mod bitcount;
pub mod chacha;
pub mod data;
pub mod dynamics;
pub mod error;
pub mod families;
pub mod gram;
pub mod grid;
pub mod infinite;
pub mod linalg;
pub mod network;
pub mod npy;
pub mod par;
pub mod patterns;
pub mod record;
pub mod rng;
pub mod sampler;
pub mod simd;

pub use data::{ClosestPair, Dataset, RowNorms};
pub use dynamics::{
    At, Control, DEFAULT_DIVERGENCE_FACTOR, Divergence, FnObserver, Observer, Run, Status, Stepper, execute,
};
pub use error::ModelError;
pub use families::{Family, FamilyParams, LabelScale};
pub use gram::{
    g_infinity, gram_g, gram_g_direct, gram_h, gram_h_direct, gram_h_from_counts, gram_h_from_patterns, h_infinity,
    input_gram, lambda0,
};
pub use infinite::{InfiniteTrajectory, InfiniteWidth, integer_power};
pub use linalg::{
    LambdaMinWarmStart, expm_symmetric, lambda_max, lambda_min, lambda_min_warm_started, spectral_norm_symmetric,
    symmetric_eigen, symmetric_eigenvalues,
};
pub use network::{Forward, Network};
pub use patterns::{PatternBits, max_weight_distance, neuron_distances, pattern_change_fraction};
pub use record::{
    Baseline, Every, Movement, Recordable, Recorder, RecorderOptions, Sample, SampleError, SecondLayer, Trajectory,
    discrete_bound_ratio, ratio_to_bound, safe_ratio,
};
pub use rng::{Purpose, stream};
pub use sampler::GaussianPreactivations;

/// Result type of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
