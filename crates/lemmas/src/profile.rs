//! Named run profiles: tiny (seconds, for tests), quick (minutes on 2 cores; committed under docs/) and paper.
//!
//! The paper profile has the large widths; each claim's file holds its configurations.

use serde::{Deserialize, Serialize};

use crate::{CheckConfig, ClaimId};

/// A named set of configurations, one per claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Every claim in at most a few minutes on 2 cores; its reports are committed under `docs/`.
    Quick,
    /// The large widths: Lem 2.5's regime (m ≈ 10⁶), wider sweeps, more seeds.
    Paper,
    /// A seconds-long profile for tests and snapshots of the rendered reports.
    Tiny,
    /// The proofs' own widths on the reduced solver (docs/theory.md §5): each claim of
    /// [`Profile::claims`] at a width ≥ its proof width, n = 2 (`crate::proof_width`).
    ProofWidth,
    /// [`Profile::ProofWidth`] on labels not chosen to make the widths small: the same inputs, the
    /// labels rescaled to ‖y‖² = n (`crate::proof_width::hard_base`); Lem 2.5 and Thm 2.1, with
    /// what Thm 3.1 and the hardest data would cost stated in the notes.
    ProofWidthHard,
}

impl Profile {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Paper => "paper",
            Profile::Tiny => "tiny",
            Profile::ProofWidth => "proof-width",
            Profile::ProofWidthHard => "proof-width-hard",
        }
    }

    /// The claims a profile runs when none are named (`None`: every claim).
    pub fn claims(self) -> Option<&'static [ClaimId]> {
        match self {
            Profile::ProofWidth => Some(&[ClaimId::Lem25, ClaimId::Thm21, ClaimId::Thm31]),
            Profile::ProofWidthHard => Some(&[ClaimId::Lem25, ClaimId::Thm21]),
            _ => None,
        }
    }

    /// The configuration of `claim` under this profile (from the claim's own file).
    pub fn config(self, claim: ClaimId) -> CheckConfig {
        claim.claim().config(self)
    }

    /// The tiny profile's common configuration: n = d = 4, widths 50 and 400, 12 seeds, δ = 0.2, RK4 step 0.2.
    pub fn tiny_base() -> CheckConfig {
        CheckConfig {
            n: 4,
            d: 4,
            widths: vec![50, 400],
            seeds: 12,
            delta: 0.2,
            bisection_steps: 2,
            horizon: 1.0,
            step: 0.2,
            iterations: 1,
            ..CheckConfig::default()
        }
    }

    /// Every profile.
    pub const ALL: [Profile; 5] =
        [Profile::Quick, Profile::Paper, Profile::Tiny, Profile::ProofWidth, Profile::ProofWidthHard];

    /// Parses a profile's name.
    pub fn parse(s: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// The quick profile of the flow claims: n = d = 6, widths 100, 1000, 3000, 20 seeds, h = 0.1
/// (n = 6 keeps λ0 large enough that runs to λ0·T = 8 fit the docs-freshness test's budget).
pub(crate) fn quick_flow() -> CheckConfig {
    CheckConfig {
        n: 6,
        d: 6,
        widths: vec![10, 100, 1_000, 3_000],
        seeds: 20,
        horizon: 1.0,
        step: 0.1,
        ..CheckConfig::default()
    }
}

/// The profiles the first-layer and both-layers flow claims share (Thm 2.1, Lem 2.4, Thm 2.6).
pub(crate) fn flow_profile(profile: Profile) -> CheckConfig {
    match profile {
        Profile::Tiny | Profile::ProofWidth | Profile::ProofWidthHard => Profile::tiny_base(),
        Profile::Quick => quick_flow(),
        Profile::Paper => CheckConfig { horizon: 1.0, ..CheckConfig::sized(20, &[100, 1_000, 10_000, 100_000], 100) },
    }
}
