//! The one inference engine: every verdict, threshold, width ratio and exponent the project prints.
//!
//! It knows nothing of networks. Its parts, each with the level it states:
//!
//! - [`sequence`]: anytime-valid bounds on a Bernoulli probability (a beta-binomial mixture
//!   confidence sequence), valid at every seed count at once, so that adding seeds, resuming and
//!   sharding keep the level;
//! - [`verdict`]: the one rule that turns counts of seed outcomes into supported / inconclusive /
//!   refuted / error at a stated α, and says in words when a seed count cannot decide;
//! - [`search`]: the width-threshold search (lower end refuted, upper end supported) with its
//!   family-wise error rate;
//! - [`fit`]: exponent fits over threshold intervals with a stated joint level;
//! - [`mean`]: the rule for expectations (a mean against its reference, ±4 standard errors);
//! - [`binomial`]: exact fixed-look Clopper–Pearson intervals, the reference the sequence is
//!   checked against.
//!
//! docs/theory.md §3 and §6 derive every rule; each module's tests plant a law with a known answer
//! and check the stated level by simulation through the same code.

pub mod binomial;
pub mod fit;
pub mod mean;
pub mod search;
pub mod sequence;
pub mod verdict;

pub use fit::{ExponentFit, FitPoint, FitPoint2, fit_exponent, fit_exponents2, joint_confidence};
pub use mean::{EXPECTATION_Z, Relation, decide_mean, mean_and_standard_error};
pub use search::{Interval, Search, SearchConfig, Threshold, WidthTest, search};
pub use verdict::{Counts, Decision, Kind, Level, Outcome, Target, Verdict, decide, undetermined_reason};

/// What the inference refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InferenceError {
    /// Impossible counts.
    #[error("{successes} successes out of {trials} trials: need 0 ≤ successes ≤ trials and trials > 0")]
    Counts {
        /// Successes.
        successes: u64,
        /// Trials.
        trials: u64,
    },
    /// An error rate outside (0, 1).
    #[error("error rate {0} must lie in (0, 1)")]
    Level(f64),
    /// A configuration value out of its domain.
    #[error("{name} = {value}: {reason}")]
    Config {
        /// The field.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A quantile did not evaluate (statrs refused its shapes).
    #[error("a Beta quantile did not evaluate")]
    Numerical,
}
