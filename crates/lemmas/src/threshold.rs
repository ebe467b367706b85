//! The width threshold of one event of one claim: the `inference` crate's search fed with the claim's seeds.
//!
//! The search itself (geometric grid, bisection, anytime-valid tests at level α/W per width, the
//! lower end a refuted width and the upper end a supported one) lives in [`inference::search`];
//! [`claim_threshold`] feeds it the seeds of a claim through the engine's
//! [`SeedStore`](crate::SeedStore), so it resumes from checkpoints.

use serde::{Deserialize, Serialize};

use crate::LemmaError;
use crate::claim::EventSpec;
use crate::claim::Prepared;
use crate::config::{CheckConfig, ClaimId};
use crate::engine::{RunContext, evaluate_seeds, seed_state_bytes};
use crate::result::{Outcome, Premise, ProofWidth, Role};

pub use inference::search::{Search, SearchConfig, WidthTest, search, seeds_to_support};

/// The threshold of one event of one claim at one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimThreshold {
    /// Which claim.
    pub claim: ClaimId,
    /// Which event (its key).
    pub event: String,
    /// What the event says.
    pub description: String,
    /// The event's width premise.
    pub premise: Premise,
    /// λ0 of the data.
    pub lambda0: f64,
    /// The widths the claim's proofs need at this configuration.
    pub proof_widths: Vec<ProofWidth>,
    /// The search.
    pub search: Search,
    /// Seeds (over every width tested) on which a sanity identity of the claim failed: a bug.
    pub sanity_failures: u64,
}

/// Checks, before any seed runs, that `event` exists for `claim` under `cfg` and that the search can
/// support its target (preparing the claim: data, λ0, radii).
pub fn preflight(claim: ClaimId, event: &str, cfg: &CheckConfig, search_cfg: &SearchConfig) -> Result<(), LemmaError> {
    cfg.validate()?;
    search_cfg.validate()?;
    let prepared = claim.claim().prepare(cfg)?;
    let specs = prepared.events();
    let spec = specs.iter().find(|s| s.key == event).ok_or_else(|| LemmaError::Config {
        name: "event",
        value: event.to_string(),
        reason: format!("{} has no such event", claim.slide()),
    })?;
    search_cfg.with_looks_to_support(spec.target).can_support(spec.target).map_err(|e| match LemmaError::from(e) {
        LemmaError::Config { name, value, reason } => LemmaError::Config {
            name,
            value,
            reason: format!("{} ({}, n = {}, d = {}, δ = {}): {reason}", claim.slide(), event, cfg.n, cfg.d, cfg.delta),
        },
        other => other,
    })
}

/// Searches the threshold of event `event` of `claim` under `cfg` (its data, n, d, δ; its widths
/// are ignored), taking seeds from and putting them in `ctx.store`.
pub fn claim_threshold(
    claim: ClaimId,
    event: &str,
    cfg: &CheckConfig,
    search_cfg: &SearchConfig,
    ctx: &RunContext<'_>,
) -> Result<ClaimThreshold, LemmaError> {
    cfg.validate()?;
    search_cfg.validate()?;
    model::network::ensure_fits(
        &format!(
            "the search's largest width m = {} (one seed's state, about 8·m·(12d + 6n) bytes with n = {}, d = {})",
            search_cfg.max_width, cfg.n, cfg.d
        ),
        seed_state_bytes(cfg, search_cfg.max_width),
    )?;
    let prepared: Prepared<'_> = claim.claim().prepare(cfg)?;
    let specs: Vec<EventSpec> = prepared.events();
    let Some(spec) = specs.iter().find(|s| s.key == event).cloned() else {
        let keys: Vec<&str> = specs.iter().map(|s| s.key).collect();
        return Err(LemmaError::Config {
            name: "event",
            value: event.to_string(),
            reason: format!("{} has no such event; its events are {}", claim.slide(), keys.join(", ")),
        });
    };
    let sanity: Vec<&'static str> = specs.iter().filter(|s| s.role == Role::Sanity).map(|s| s.key).collect();
    let mut sanity_failures = 0u64;
    let mut oracle = |m: usize, trials: std::ops::Range<u64>| -> Result<Vec<Outcome>, LemmaError> {
        let outs = evaluate_seeds(claim, &prepared, &specs, cfg, m, trials, ctx)?;
        // evaluate_seeds refused any outcome (stored or fresh) lacking a spec key; the sanity keys and event
        // (found in specs above) are spec keys.
        sanity_failures +=
            outs.iter().filter(|o| sanity.iter().any(|k| o.events[*k].outcome == Outcome::Fails)).count() as u64;
        Ok(outs.iter().map(|o| o.events[event].outcome).collect())
    };
    let found = search(&search_cfg.with_looks_to_support(spec.target), spec.target, &mut oracle)?;
    Ok(ClaimThreshold {
        claim,
        event: event.to_string(),
        description: spec.description,
        premise: spec.premise,
        lambda0: prepared.lambda0(),
        proof_widths: prepared.proof_widths(),
        search: found,
        sanity_failures,
    })
}
