//! The hardest-data search (docs/theory.md §6.1): a derivative-free local search over the inputs
//! and labels, from the hardest structured family, for data on which an event fails more often at a
//! fixed width.
//!
//! The search is a (1 + λ) evolution strategy with the one-step rule below; its objective is a cheap
//! surrogate, the number of seeds out of K on which the event fails at the width m_s, under common
//! random numbers within a step. Its winner is picked on noise, so the study re-measures it from
//! fresh, independent seeds by the sound threshold search ([`crate::threshold`]); the search's own
//! failure count is shown beside that interval, never in place of it.
//!
//! One step s (seeds K·s … K·s + K − 1, the same for every data set of the step):
//! 1. the incumbent's failures on the step's seeds;
//! 2. λ candidates, each the incumbent moved by [`model::families::perturb`] at scale σ; a
//!    candidate whose λ0 falls below the start's is not evaluated (the search compares at matched
//!    λ0: shrinking λ0 makes any event harder and says nothing new);
//! 3. the candidate with the most failures (the first on ties) replaces the incumbent when it has
//!    strictly more than the incumbent on the same seeds; σ then grows by [`GROW`] (at most
//!    [`SIGMA_MAX`]), otherwise it shrinks by [`SHRINK`].
//!
//! It stops after its budget of steps, when σ falls below its floor, or after `patience` steps in
//! a row without a replacement.

use serde::{Deserialize, Serialize};

use crate::LemmaError;
use crate::config::GivenData;

/// σ grows by this factor after a replacement.
pub const GROW: f64 = 1.5;
/// σ shrinks by this factor after a step without one.
pub const SHRINK: f64 = 0.5;
/// σ never exceeds this (a move of order the sphere itself).
pub const SIGMA_MAX: f64 = 1.0;

/// How a data search runs: its budget and stopping rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSearchConfig {
    /// Seeds K per data set and step (common to every data set of the step).
    pub seeds: u64,
    /// Candidates λ per step.
    pub candidates: usize,
    /// Most steps (the budget).
    pub steps: usize,
    /// The first move scale σ.
    pub sigma: f64,
    /// The search stops when σ falls below this.
    pub sigma_min: f64,
    /// The search stops after this many steps in a row without a replacement.
    pub patience: usize,
    /// Most seconds one search may take on one thread under the flop model (its whole budget of
    /// steps at the width m_s); a search that would take more is not run, and the record says so.
    pub budget_seconds: f64,
}

impl DataSearchConfig {
    /// Most seeds the search can evaluate: (λ + 1)·K per step over every step.
    pub fn max_seeds(&self) -> u64 {
        (self.candidates as u64 + 1) * self.seeds * self.steps as u64
    }

    /// Refuses a search that cannot run.
    pub fn validate(&self) -> Result<(), LemmaError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(LemmaError::Config { name, value, reason: reason.to_string() })
        };
        if self.seeds == 0 || self.candidates == 0 || self.steps == 0 || self.patience == 0 {
            return bad(
                "data_search",
                format!("{self:?}"),
                "seeds, candidates, steps and patience must each be at least 1",
            );
        }
        if !(self.sigma.is_finite() && self.sigma > 0.0 && self.sigma_min > 0.0 && self.sigma_min <= self.sigma) {
            return bad("sigma", format!("{} (floor {})", self.sigma, self.sigma_min), "need 0 < σ_min ≤ σ, finite");
        }
        if !(self.budget_seconds.is_finite() && self.budget_seconds > 0.0) {
            return bad("budget_seconds", self.budget_seconds.to_string(), "the budget must be positive and finite");
        }
        Ok(())
    }
}

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// It ran every step of its budget.
    Budget,
    /// σ fell below its floor.
    StepFloor,
    /// `patience` steps in a row replaced nothing.
    Patience,
}

impl Stop {
    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            Stop::Budget => "its budget of steps ran out",
            Stop::StepFloor => "the move scale fell below its floor",
            Stop::Patience => "no candidate beat the incumbent for `patience` steps in a row",
        }
    }
}

/// One step of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchStep {
    /// The move scale σ of the step.
    pub sigma: f64,
    /// The incumbent's failures on the step's K seeds.
    pub incumbent: u64,
    /// The best candidate's failures on the same seeds (none: every candidate fell below the λ0 floor).
    pub best: Option<u64>,
    /// Whether it replaced the incumbent.
    pub accepted: bool,
    /// Candidates not evaluated because their λ0 fell below the start's (or the data were refused).
    pub below_floor: usize,
}

/// A search that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSearch {
    /// Seeds K per data set and step.
    pub seeds_per_step: u64,
    /// Its steps.
    pub steps: Vec<SearchStep>,
    /// Why it stopped.
    pub stop: Stop,
    /// The winner (the last incumbent), with the search's stream.
    pub winner: GivenData,
    /// λ0 of the winner (at least the start's).
    pub winner_lambda0: f64,
    /// The start's failures on the first step's seeds.
    pub start_failures: u64,
    /// The winner's failures on the seeds of the step that accepted it (the start's at the first
    /// step when none was accepted): the search's estimate, biased upward by the selection.
    pub winner_failures: u64,
    /// Seeds evaluated.
    pub seeds_total: u64,
    /// Seeds on which a sanity identity failed (a bug when positive).
    pub sanity_failures: u64,
}

/// What [`climb`] found.
pub struct Climb {
    /// Its steps.
    pub steps: Vec<SearchStep>,
    /// Why it stopped.
    pub stop: Stop,
    /// The last incumbent.
    pub winner: model::Dataset,
    /// Its λ0.
    pub winner_lambda0: f64,
    /// The start's objective at the first step.
    pub start_failures: u64,
    /// The winner's objective at the step that accepted it (the start's when none did).
    pub winner_failures: u64,
}

/// The search of the module documentation on any objective: `objective(data, step)` counts the
/// failures of `data` on step `step`'s seeds (the same seeds for every data set of a step);
/// candidates with λ0 below `floor` are not evaluated.
pub fn climb(
    start: &model::Dataset,
    floor: f64,
    config: &DataSearchConfig,
    stream: u64,
    mut objective: impl FnMut(&model::Dataset, u64) -> Result<u64, LemmaError>,
) -> Result<Climb, LemmaError> {
    config.validate()?;
    let mut incumbent = start.clone();
    let mut incumbent_lambda0 = model::lambda0(start)?;
    let mut sigma = config.sigma;
    let mut idle = 0;
    let mut steps = Vec::new();
    let mut start_failures = None;
    let mut winner_failures = None;
    let mut stop = Stop::Budget;
    for step in 0..config.steps as u64 {
        let held = objective(&incumbent, step)?;
        start_failures.get_or_insert(held);
        let mut best: Option<(u64, model::Dataset, f64)> = None;
        let mut below_floor = 0;
        for c in 0..config.candidates as u64 {
            let trial = step * config.candidates as u64 + c;
            // A move whose rows nearly coincide is refused by the data's own validation: like a
            // candidate below the λ0 floor, it is not evaluated.
            let Ok(candidate) = model::families::perturb(&incumbent, sigma, model::LabelScale::NormN, stream, trial)
            else {
                below_floor += 1;
                continue;
            };
            let lambda0 = model::lambda0(&candidate)?;
            if lambda0 < floor {
                below_floor += 1;
                continue;
            }
            let f = objective(&candidate, step)?;
            if best.as_ref().is_none_or(|(b, _, _)| f > *b) {
                best = Some((f, candidate, lambda0));
            }
        }
        let best_failures = best.as_ref().map(|(f, _, _)| *f);
        let accepted = best_failures.is_some_and(|f| f > held);
        steps.push(SearchStep { sigma, incumbent: held, best: best_failures, accepted, below_floor });
        match best {
            Some((f, candidate, lambda0)) if accepted => {
                incumbent = candidate;
                incumbent_lambda0 = lambda0;
                winner_failures = Some(f);
                sigma = (sigma * GROW).min(SIGMA_MAX);
                idle = 0;
            }
            _ => {
                sigma *= SHRINK;
                idle += 1;
            }
        }
        if sigma < config.sigma_min {
            stop = Stop::StepFloor;
            break;
        }
        if idle >= config.patience {
            stop = Stop::Patience;
            break;
        }
    }
    // The loop ran at least once (validate refused zero steps).
    let start_failures = start_failures.unwrap_or(0);
    Ok(Climb {
        steps,
        stop,
        winner: incumbent,
        winner_lambda0: incumbent_lambda0,
        start_failures,
        winner_failures: winner_failures.unwrap_or(start_failures),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small search for tests: 24 seeds, 3 candidates, 6 steps.
    pub(crate) fn quick() -> DataSearchConfig {
        DataSearchConfig {
            seeds: 24,
            candidates: 3,
            steps: 6,
            sigma: 0.3,
            sigma_min: 0.01,
            patience: 3,
            budget_seconds: 60.0,
        }
    }

    /// A planted landscape: "seed k fails" when the mean of x_{i,3}² exceeds (k + ½)/K, so the
    /// objective is K times that mean, rounded down. The search must climb it (strictly, step by
    /// step), stop by its rule, and never go below a λ0 floor it is given.
    #[test]
    fn the_search_climbs_a_planted_landscape() {
        let start = model::Dataset::sphere(6, 3, 5, 0).unwrap();
        let k = 64u64;
        let mean_sq = |d: &model::Dataset| (0..d.n()).map(|i| d.x()[(i, 2)].powi(2)).sum::<f64>() / d.n() as f64;
        let objective = |d: &model::Dataset, _step: u64| {
            Ok((0..k).filter(|j| mean_sq(d) > (*j as f64 + 0.5) / k as f64).count() as u64)
        };
        let config = DataSearchConfig { steps: 40, patience: 6, ..quick() };
        let out = climb(&start, 0.0, &config, 9, objective).unwrap();
        assert!(out.winner_failures > out.start_failures + 8, "{} → {}", out.start_failures, out.winner_failures);
        assert!(mean_sq(&out.winner) > mean_sq(&start) + 0.1);
        let mut held = out.start_failures;
        for s in &out.steps {
            assert!(s.incumbent >= held, "the incumbent never gets worse on a noiseless landscape");
            held = s.incumbent;
        }
        assert!(out.steps.len() <= config.steps);
        // With the start's λ0 as the floor, no candidate below it is taken.
        let floor = model::lambda0(&start).unwrap();
        let matched = climb(&start, floor, &config, 9, objective).unwrap();
        assert!(matched.winner_lambda0 >= floor);
        assert!((model::lambda0(&matched.winner).unwrap() - matched.winner_lambda0).abs() < 1e-15);
        assert!(matched.steps.iter().any(|s| s.below_floor > 0), "some moves lower λ0 and are refused");
    }
}
