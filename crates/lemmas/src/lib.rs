//! Monte Carlo checks of the paper's claims (Lem 2.2–2.5, Thm 2.1, 2.6, 3.1): proof widths, Clopper–Pearson intervals, slack and verdicts.
//!
//! Each check takes a plain [`CheckConfig`] and returns a serialisable [`ClaimResult`]. Seeds run
//! in parallel (rayon), one ChaCha8 stream per seed (`model::rng::stream(master_seed, trial, …)`),
//! and results are collected in trial order, so they are identical for any thread count.
//! The data of a check are drawn once from `master_seed` (trial 0 of the input and label streams);
//! seed `trial` initialises the network from the first- and second-layer streams of that trial.
//! [`check_with`] also takes a seed store (the runner's checkpoint: finished seeds are not redone)
//! and an optional shard (a deterministic slice of the seeds), without changing any result.

pub mod config;
pub mod engine;
pub mod figure1;
pub mod lem22;
pub mod lem23;
pub mod lem24;
pub mod lem25;
pub mod profile;
pub mod result;
pub mod stats;
pub mod thm21;
pub mod thm26;
pub mod thm31;
pub mod trajectory;

pub use config::{CheckConfig, ClaimId, DataKind};
pub use engine::{NoProgress, NoStore, Progress, RunContext, SeedOutcome, SeedStore, Shard};
pub use profile::Profile;
pub use result::ClaimResult;
pub use stats::Verdict;

use model::{Dataset, ModelError};

/// Standard errors beyond which a mean contradicts its reference.
pub const EXPECTATION_Z: f64 = 4.0;

/// What can stop a check.
#[derive(Debug, thiserror::Error)]
pub enum LemmaError {
    /// A configuration field is outside its domain.
    #[error("invalid configuration: {name} = {value}: {reason}")]
    Config {
        /// Field name.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why.
        reason: String,
    },
    /// Data, weights or a numerical routine failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A dynamics run failed.
    #[error("{0}")]
    Dynamics(String),
    /// The seed store (the runner's checkpoint) failed or holds something unusable.
    #[error("{0}")]
    Store(String),
}

/// The data set of a check (trial 0 of the data streams of `master_seed`).
pub fn make_data(cfg: &CheckConfig) -> Result<Dataset, LemmaError> {
    Ok(match cfg.data {
        DataKind::Sphere => Dataset::sphere(cfg.n, cfg.d, cfg.master_seed, 0)?,
        DataKind::Orthonormal => Dataset::orthonormal(cfg.n, cfg.d, cfg.master_seed, 0)?,
    })
}

/// Runs the check of `claim`.
pub fn check(claim: ClaimId, cfg: &CheckConfig, progress: &dyn Progress) -> Result<ClaimResult, LemmaError> {
    complete(check_with(claim, cfg, &RunContext::new(progress)))
}

/// Runs the check of `claim` with a seed store and an optional shard (see [`RunContext`]).
/// Without a shard the result is `Some`, and identical to [`check`]'s whatever the store held;
/// with a shard it is `None` and the shard's seeds are in the store.
pub fn check_with(claim: ClaimId, cfg: &CheckConfig, ctx: &RunContext<'_>) -> Result<Option<ClaimResult>, LemmaError> {
    match claim {
        ClaimId::Lem22 => lem22::check_with(cfg, ctx),
        ClaimId::Lem23 => lem23::check_with(cfg, ctx),
        ClaimId::Lem24 => lem24::check_with(cfg, ctx),
        ClaimId::Lem25 => lem25::check_with(cfg, ctx),
        ClaimId::Thm21 => thm21::check_with(cfg, ctx),
        ClaimId::Thm26 => thm26::check_with(cfg, ctx),
        ClaimId::Thm31 => thm31::check_with(cfg, ctx),
    }
}

/// The result of a check run without a shard (which always has one).
pub(crate) fn complete(r: Result<Option<ClaimResult>, LemmaError>) -> Result<ClaimResult, LemmaError> {
    r.map(|r| r.expect("without a shard a check returns its result"))
}

/// Builds a [`ClaimResult`] from what was measured: verdict from the statement's premise rows,
/// and the proof-to-empirical width ratio from the first proof width.
pub(crate) fn assemble(
    claim: ClaimId,
    cfg: &CheckConfig,
    lambda0: f64,
    statement: &str,
    proof_widths: Vec<result::ProofWidth>,
    measured: engine::Measured,
    notes: Vec<String>,
) -> ClaimResult {
    let (verdict, premise_met) = engine::claim_verdict(&measured.events[0]);
    let threshold = measured.threshold.map(|mut t| {
        t.proof_to_empirical = match (t.empirical_width, proof_widths.first()) {
            (Some(e), Some(p)) => Some(p.width / e as f64),
            _ => None,
        };
        t
    });
    ClaimResult {
        claim,
        slide: claim.slide().into(),
        paper: claim.paper().into(),
        title: claim.title().into(),
        statement: statement.into(),
        config: cfg.clone(),
        lambda0,
        proof_widths,
        premise_met,
        events: measured.events,
        expectations: measured.expectations,
        threshold,
        verdict,
        notes,
    }
}
