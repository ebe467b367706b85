//! Monte Carlo checks of the paper's claims (Lem 2.2–2.5, Thm 2.1, 2.6, 3.1): proof widths, slack, and verdicts.
//!
//! The verdicts come from the `inference` engine.
//! Each claim is one module implementing [`claim::Claim`] and one entry in the table below; one
//! runner ([`engine::run_claim`]) applies the rules of docs/theory.md §3 to all of them: seeds
//! whose per-seed premise fails are counted apart, values inside the numerical band are
//! inconclusive, a failed sanity identity makes the verdict `error`, every event has its own width
//! premise and probability budget, thresholds are intervals, and each (claim, width) draws its
//! initialisations from its own streams ([`engine::init_seed`]). Seeds run in parallel (rayon) and
//! are collected in trial order, so results are identical for any thread count. The data of a
//! check are drawn once from `master_seed` (trial 0 of the input and label streams, or the first
//! accepted trial for correlated data). [`check_with`] also takes a seed store (the runner's
//! checkpoint: finished seeds are not redone) and an optional shard, without changing any result.

pub mod bounds;
pub mod claim;
pub mod config;
pub mod cost;
pub mod data;
pub mod data_search;
pub mod engine;
pub mod error;
pub mod figure1;
pub mod fit;
pub mod kernel_limit;
pub mod lem22;
pub mod lem23;
pub mod lem24;
pub mod lem25;
#[cfg(test)]
pub mod planted;
pub mod profile;
pub mod proof_width;
pub mod reduced_flow;
pub mod registry;
pub mod result;
pub mod scaling;
pub mod stats;
pub mod thm21;
pub mod thm26;
pub mod thm31;
pub mod threshold;
pub mod trajectory;

pub use claim::SeedOutcome;
pub use config::{CheckConfig, DataKind, FamilyName, GivenData, Solver};
pub use data::{CORRELATED_TRIES, make_data, off_diagonal_range};
pub use engine::{NoProgress, NoStore, Progress, RunContext, SeedStore, Shard};
pub use error::LemmaError;
pub use model::Family;
pub use profile::Profile;
pub use result::ClaimResult;
pub use stats::Verdict;

/// Standard errors beyond which a mean contradicts its reference (the inference engine's rule).
pub use inference::EXPECTATION_Z;

/// The table of claims: each line is a variant of [`ClaimId`] and the type implementing
/// [`claim::Claim`]; the order is the order of the reports.
macro_rules! claims {
    ($($(#[doc = $doc:literal])* $(#[cfg($cfg:meta)])?
        $variant:ident ($slide:literal, $paper:literal, $key:literal, $title:literal) => $claim:path,)+) => {
        /// A claim of the paper, named by its slide number with the paper's beside it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum ClaimId {
            $($(#[doc = $doc])* $(#[cfg($cfg)])? $variant,)+
        }

        impl ClaimId {
            /// Every claim, in the order the reports list them.
            pub const ALL: &'static [ClaimId] = &[$($(#[cfg($cfg)])? ClaimId::$variant,)+];

            /// The claim's implementation.
            pub fn claim(self) -> &'static dyn claim::Claim {
                match self {
                    $($(#[cfg($cfg)])? ClaimId::$variant => &$claim,)+
                }
            }

            /// Its names: slide and paper numbers, file key, short title.
            pub fn identity(self) -> claim::Identity {
                match self {
                    $($(#[cfg($cfg)])? ClaimId::$variant => claim::Identity { slide: $slide, paper: $paper, key: $key, title: $title },)+
                }
            }
        }
    };
}

claims! {
    /// Slide Lem 2.2 = paper Lem 3.1: H(0) is close to H∞.
    Lem22 ("Lem 2.2", "Lem 3.1", "lem-2.2", "H(0) is close to H∞") => lem22::Lem22,
    /// Slide Lem 2.3 = paper Lem 3.2: small weight moves keep H close to H(0).
    Lem23 ("Lem 2.3", "Lem 3.2", "lem-2.3", "small weight moves keep H close to H(0)") => lem23::Lem23,
    /// Slide Lem 2.4 = paper Lem 3.3: if λmin(H) ≥ λ0/2 then fast decay and small moves.
    Lem24 ("Lem 2.4", "Lem 3.3", "lem-2.4", "if λmin(H) ≥ λ0/2 then fast decay and small moves") => lem24::Lem24,
    /// Slide Lem 2.5 = paper Lem 3.4: R′ < R closes the argument for all t.
    Lem25 ("Lem 2.5", "Lem 3.4", "lem-2.5", "R′ < R closes the argument for all t") => lem25::Lem25,
    /// Slide Thm 2.1 = paper Thm 3.2: gradient flow converges at rate exp(−λ0 t).
    Thm21 ("Thm 2.1", "Thm 3.2", "thm-2.1", "gradient flow converges at rate exp(−λ0 t)") => thm21::Thm21,
    /// Slide Thm 2.6 = paper Thm 3.3: both layers trained, same rate.
    Thm26 ("Thm 2.6", "Thm 3.3", "thm-2.6", "both layers trained: same rate") => thm26::Thm26,
    /// Slide Thm 3.1 = paper Thm 4.1: discrete GD at rate (1 − ηλ0/2)^k.
    Thm31 ("Thm 3.1", "Thm 4.1", "thm-3.1", "discrete GD: rate (1 − ηλ0/2)^k") => thm31::Thm31,
    /// A planted claim with a known threshold, for tests: one file and this line.
    #[cfg(test)]
    Planted ("Planted", "none", "planted", "a planted law with a known threshold") => planted::Planted,
}

impl ClaimId {
    /// Slide number, e.g. "Lem 2.2".
    pub fn slide(self) -> &'static str {
        self.identity().slide
    }
    /// Paper number, e.g. "Lem 3.1".
    pub fn paper(self) -> &'static str {
        self.identity().paper
    }
    /// File-name key, e.g. "lem-2.2".
    pub fn key(self) -> &'static str {
        self.identity().key
    }
    /// Short name.
    pub fn title(self) -> &'static str {
        self.identity().title
    }
    /// Parses a key ("lem-2.2") or slide number ("Lem 2.2", "lem2.2").
    pub fn parse(s: &str) -> Option<ClaimId> {
        let norm: String = s.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_lowercase();
        ClaimId::ALL.iter().copied().find(|c| c.key().replace('-', "") == norm)
    }
}

/// Runs the check of `claim`.
pub fn check(claim: ClaimId, cfg: &CheckConfig, progress: &dyn Progress) -> Result<ClaimResult, LemmaError> {
    // RunContext::new has shard None, and run_claim returns Some whenever shard is None.
    check_with(claim, cfg, &RunContext::new(progress)).map(|r| r.expect("without a shard a check returns its result"))
}

/// Runs the check of `claim` with a seed store and an optional shard (see [`RunContext`]).
/// Without a shard the result is `Some`, and identical to [`check`]'s whatever the store held;
/// with a shard it is `None` and the shard's seeds are in the store.
pub fn check_with(claim: ClaimId, cfg: &CheckConfig, ctx: &RunContext<'_>) -> Result<Option<ClaimResult>, LemmaError> {
    engine::run_claim(claim, claim.claim(), cfg, ctx)
}
