//! Named run profiles: the configuration of every claim for `quick` (minutes on 2 cores) and `paper` (the large widths).

use serde::{Deserialize, Serialize};

use crate::{CheckConfig, ClaimId, DataKind};

/// A named set of configurations, one per claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Every claim in at most a few minutes on 2 cores; its reports are committed under `docs/`.
    Quick,
    /// The large widths: Lem 2.5's regime (m ≈ 10⁷), wider sweeps, more seeds.
    Paper,
    /// A seconds-long profile for tests and snapshots of the rendered reports.
    Tiny,
}

impl Profile {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Paper => "paper",
            Profile::Tiny => "tiny",
        }
    }

    /// The configuration of `claim` under this profile.
    pub fn config(self, claim: ClaimId) -> CheckConfig {
        let base = CheckConfig::default();
        match (self, claim) {
            (Profile::Tiny, _) => CheckConfig {
                n: 4,
                d: 4,
                widths: vec![50, 400],
                seeds: 12,
                delta: 0.2,
                bisection_steps: 2,
                horizon: 2.0,
                step: 0.1,
                ..base
            },
            (Profile::Quick, ClaimId::Lem22) => CheckConfig {
                n: 10,
                d: 10,
                widths: vec![100, 1_000, 10_000, 100_000, 400_000],
                seeds: 100,
                bisection_steps: 4,
                ..base
            },
            (Profile::Quick, ClaimId::Lem23) => {
                CheckConfig { n: 10, d: 10, widths: vec![10, 100, 1_000, 10_000], seeds: 100, ..base }
            }
            (Profile::Paper, ClaimId::Lem22) => CheckConfig {
                n: 20,
                d: 20,
                widths: vec![100, 1_000, 10_000, 100_000, 1_000_000],
                seeds: 400,
                bisection_steps: 6,
                ..base
            },
            (Profile::Paper, ClaimId::Lem23) => {
                CheckConfig { n: 20, d: 20, widths: vec![10, 100, 1_000, 10_000, 100_000], seeds: 400, ..base }
            }
            (Profile::Quick, ClaimId::Lem25) => CheckConfig {
                n: 3,
                d: 3,
                data: DataKind::Orthonormal,
                widths: vec![1_000, 10_000, 100_000],
                seeds: 20,
                delta: 0.5,
                ..base
            },
            (Profile::Quick, ClaimId::Thm31) => {
                CheckConfig { n: 10, d: 10, widths: vec![100, 1_000, 10_000], seeds: 50, iterations: 300, ..base }
            }
            (Profile::Quick, ClaimId::Lem24) => CheckConfig {
                n: 10,
                d: 10,
                widths: vec![100, 1_000, 10_000],
                seeds: 20,
                horizon: 4.0,
                step: 0.05,
                ..base
            },
            (Profile::Quick, _) => CheckConfig {
                n: 10,
                d: 10,
                widths: vec![100, 1_000, 10_000],
                seeds: 40,
                horizon: 4.0,
                step: 0.05,
                ..base
            },
            (Profile::Paper, ClaimId::Lem25) => CheckConfig {
                n: 3,
                d: 3,
                data: DataKind::Orthonormal,
                widths: vec![1_000_000, 12_000_000],
                seeds: 10,
                delta: 0.5,
                horizon: 2.0,
                step: 0.1,
                ..base
            },
            (Profile::Paper, ClaimId::Thm31) => CheckConfig {
                n: 20,
                d: 20,
                widths: vec![100, 1_000, 10_000, 100_000],
                seeds: 200,
                iterations: 2_000,
                ..base
            },
            (Profile::Paper, _) => {
                CheckConfig { n: 20, d: 20, widths: vec![100, 1_000, 10_000, 100_000], seeds: 100, ..base }
            }
        }
    }

    /// Parses "quick", "paper" or "tiny".
    pub fn parse(s: &str) -> Option<Profile> {
        [Profile::Quick, Profile::Paper, Profile::Tiny].into_iter().find(|p| p.name() == s)
    }
}
