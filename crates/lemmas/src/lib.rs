//! Monte Carlo checks of the paper's claims (Lem 2.2–2.5, Thm 2.1, 2.6, 3.1): proof widths, Clopper–Pearson intervals, slack and verdicts.
//!
//! Each check takes a plain [`CheckConfig`] and returns a serialisable [`ClaimResult`]. Seeds run
//! in parallel (rayon), one ChaCha8 stream per seed (`model::rng::stream(master_seed, trial, …)`),
//! and results are collected in trial order, so they are identical for any thread count.
//! The data of a check are drawn once from `master_seed` (trial 0 of the input and label streams);
//! seed `trial` initialises the network from the first- and second-layer streams of that trial.

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
pub use engine::{NoProgress, Progress};
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
    match claim {
        ClaimId::Lem22 => lem22::check(cfg, progress),
        ClaimId::Lem23 => lem23::check(cfg, progress),
        ClaimId::Lem24 => lem24::check(cfg, progress),
        ClaimId::Lem25 => lem25::check(cfg, progress),
        ClaimId::Thm21 => thm21::check(cfg, progress),
        ClaimId::Thm26 => thm26::check(cfg, progress),
        ClaimId::Thm31 => thm31::check(cfg, progress),
    }
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
