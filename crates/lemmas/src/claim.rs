//! The `Claim` trait: what a claim of the paper tells the one runner (identity, profiles, preparation, events, the evaluation of one seed, findings).
//!
//! A claim is one file implementing [`Claim`] and one entry in the table of `lib.rs`. Everything
//! that makes a verdict evidence — vacuous seeds, the numerical band, sanity identities, per-event
//! premises, probability budgets, thresholds, independent streams — is in [`crate::engine`], once.

use crate::LemmaError;
use crate::config::{CheckConfig, ClaimId};
use crate::engine::{EventSpec, MeasureSpec, Measured, SeedCtx, SeedOutcome};
use crate::profile::Profile;
use crate::result::ProofWidth;

/// A claim's names: slide and paper numbers, file key, short title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Slide number, e.g. "Lem 2.2".
    pub slide: &'static str,
    /// Paper number, e.g. "Lem 3.1".
    pub paper: &'static str,
    /// File-name key, e.g. "lem-2.2".
    pub key: &'static str,
    /// Short name.
    pub title: &'static str,
}

/// A claim of the paper.
pub trait Claim: Sync {
    /// Its entry in the table.
    fn id(&self) -> ClaimId;
    /// Its names.
    fn identity(&self) -> Identity;
    /// Its configuration under a named profile.
    fn config(&self, profile: Profile) -> CheckConfig;
    /// Draws the data and computes everything that does not depend on a seed (λ0, radii, widths,
    /// horizons), refusing derived quantities outside their domain before any seed runs.
    fn prepare<'a>(&self, cfg: &'a CheckConfig) -> Result<Box<dyn Prepared + 'a>, LemmaError>;
}

/// A claim prepared for one configuration.
pub trait Prepared: Sync {
    /// λ0 = λmin(H∞) of the data.
    fn lambda0(&self) -> f64;
    /// The statement, with its constants.
    fn statement(&self) -> String;
    /// The widths the proofs need (the first is compared with the empirical threshold).
    fn proof_widths(&self) -> Vec<ProofWidth>;
    /// The statement (exactly one), the proof steps and the sanity identities.
    fn events(&self) -> Vec<EventSpec>;
    /// Expectations and reported per-seed quantities.
    fn measures(&self) -> Vec<MeasureSpec> {
        Vec::new()
    }
    /// One seed at one width: an observation of every event (judged by `seed.judge(key)`) and the
    /// values of the measures. Deterministic in (m, trial).
    fn evaluate(&self, seed: &SeedCtx<'_>) -> Result<SeedOutcome, LemmaError>;
    /// Findings computed from the results, and remarks a reader needs.
    fn notes(&self, measured: &Measured) -> Vec<String>;
}
