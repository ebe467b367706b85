//! The Monte Carlo engine: seeds in parallel per width, aggregation into rows, and the width threshold by bisection.

use rayon::prelude::*;

use crate::config::{CheckConfig, ClaimId};
use crate::result::{
    EventResult, ExpectationResult, ExpectationRow, Observation, Relation, Target, Threshold, WidthRow, Witness,
};
use crate::stats::{Verdict, clopper_pearson, mean_and_standard_error, median, probability_verdict};
use crate::{EXPECTATION_Z, LemmaError};

/// Receives a tick per finished seed (the runner draws progress bars with it).
pub trait Progress: Sync {
    /// Seed `trial` of width `m` of `claim` is done.
    fn seed_done(&self, claim: ClaimId, m: usize, trial: u64);
}

/// Ignores progress.
pub struct NoProgress;
impl Progress for NoProgress {
    fn seed_done(&self, _: ClaimId, _: usize, _: u64) {}
}

/// An event to judge: key, description and claimed probability.
pub struct EventSpec {
    /// Short key.
    pub key: &'static str,
    /// What it says.
    pub description: String,
    /// Claimed probability.
    pub target: Target,
}

/// An expectation to compare.
pub struct ExpectationSpec {
    /// Short key.
    pub key: &'static str,
    /// What it compares.
    pub description: String,
    /// Relation of the mean to the reference.
    pub relation: Relation,
    /// Reference value.
    pub reference: f64,
    /// A floor on the per-seed standard deviation implied by the reference model at width m
    /// (e.g. √(p(1 − p)/m) for a per-seed mean of m i.i.d. per-neuron fractions with mean p), so
    /// that a rare event never seen in a few seeds is not declared impossible.
    pub sd_floor: Option<fn(f64, usize) -> f64>,
}

/// What one seed at one width produced: one observation per event, one value per expectation.
#[derive(Debug, Clone)]
pub struct SeedOutcome {
    /// In the order of the event specs.
    pub events: Vec<Observation>,
    /// In the order of the expectation specs.
    pub values: Vec<f64>,
}

/// A claim's evaluation: per (m, trial) outcome; must be deterministic in (m, trial).
pub type Evaluate<'a> = dyn Fn(usize, u64) -> Result<SeedOutcome, LemmaError> + Sync + 'a;

/// Everything measured for a claim, before it becomes a [`crate::ClaimResult`].
pub struct Measured {
    /// Events, rows sorted by width.
    pub events: Vec<EventResult>,
    /// Expectations, rows sorted by width.
    pub expectations: Vec<ExpectationResult>,
    /// Threshold of the first event (when it is probabilistic).
    pub threshold: Option<Threshold>,
}

/// Runs every width of the sweep on every seed (seeds in parallel, results in trial order), then
/// refines the first event's width threshold by bisection and aggregates.
pub fn measure(
    claim: ClaimId,
    cfg: &CheckConfig,
    events: &[EventSpec],
    expectations: &[ExpectationSpec],
    premise: &(dyn Fn(usize) -> bool + Sync),
    eval: &Evaluate<'_>,
    progress: &dyn Progress,
) -> Result<Measured, LemmaError> {
    let run_width = |m: usize| -> Result<Vec<SeedOutcome>, LemmaError> {
        (0..cfg.seeds)
            .into_par_iter()
            .map(|trial| {
                let out = eval(m, trial)?;
                debug_assert_eq!(out.events.len(), events.len());
                progress.seed_done(claim, m, trial);
                Ok(out)
            })
            .collect()
    };
    let mut runs: Vec<(usize, Vec<SeedOutcome>)> = Vec::new();
    for &m in &cfg.widths {
        runs.push((m, run_width(m)?));
    }
    let target = 1.0 - cfg.delta;
    let holds_rate =
        |outs: &[SeedOutcome]| outs.iter().filter(|o| o.events[0].holds).count() as f64 / outs.len() as f64;
    let mut threshold = None;
    if matches!(events.first().map(|e| e.target), Some(Target::Probability(_))) {
        let passing = |runs: &[(usize, Vec<SeedOutcome>)]| -> (Option<usize>, Option<usize>) {
            // Smallest width from which every larger width passes, and the failing width just below.
            let mut first_pass = None;
            let mut last_fail = None;
            for (m, outs) in runs {
                if holds_rate(outs) >= target {
                    if first_pass.is_none() {
                        first_pass = Some(*m);
                    }
                } else {
                    first_pass = None;
                    last_fail = Some(*m);
                }
            }
            (first_pass, last_fail)
        };
        let (mut pass, mut fail) = passing(&runs);
        for _ in 0..cfg.bisection_steps {
            let (Some(hi), Some(lo)) = (pass, fail) else { break };
            let mid = ((hi as f64) * (lo as f64)).sqrt().round() as usize;
            if mid <= lo || mid >= hi {
                break;
            }
            let outs = run_width(mid)?;
            if holds_rate(&outs) >= target {
                pass = Some(mid);
            } else {
                fail = Some(mid);
            }
            runs.push((mid, outs));
        }
        runs.sort_by_key(|(m, _)| *m);
        threshold = Some(Threshold { empirical_width: pass, largest_failing_width: fail, proof_to_empirical: None });
    }
    let event_results = events
        .iter()
        .enumerate()
        .map(|(e, spec)| EventResult {
            key: spec.key.to_string(),
            description: spec.description.clone(),
            target: spec.target,
            rows: runs
                .iter()
                .map(|(m, outs)| width_row(*m, premise(*m), spec.target, outs, e, cfg.confidence))
                .collect(),
        })
        .collect();
    let expectation_results = expectations
        .iter()
        .enumerate()
        .map(|(v, spec)| ExpectationResult {
            key: spec.key.to_string(),
            description: spec.description.clone(),
            relation: spec.relation,
            rows: runs
                .iter()
                .map(|(m, outs)| {
                    let values: Vec<f64> = outs.iter().map(|o| o.values[v]).collect();
                    let floor = spec.sd_floor.map_or(0.0, |f| f(spec.reference, *m) / (values.len() as f64).sqrt());
                    expectation_row(*m, &values, spec.reference, spec.relation, floor)
                })
                .collect(),
        })
        .collect();
    Ok(Measured { events: event_results, expectations: expectation_results, threshold })
}

fn width_row(m: usize, premise_met: bool, target: Target, outs: &[SeedOutcome], e: usize, confidence: f64) -> WidthRow {
    let seeds = outs.len() as u64;
    let obs: Vec<(u64, Observation)> = outs.iter().enumerate().map(|(t, o)| (t as u64, o.events[e])).collect();
    let successes = obs.iter().filter(|(_, o)| o.holds).count() as u64;
    let (ci_lower, ci_upper) = clopper_pearson(successes, seeds, confidence);
    let verdict = match target {
        Target::Probability(p) => probability_verdict((ci_lower, ci_upper), p),
        Target::Always => {
            if successes == seeds {
                Verdict::Supported
            } else {
                Verdict::Refuted
            }
        }
    };
    let slacks: Vec<f64> = obs.iter().map(|(_, o)| o.slack).collect();
    let (wt, wo) = obs.iter().fold(obs[0], |best, cur| if cur.1.slack > best.1.slack { *cur } else { best });
    WidthRow {
        m,
        premise_met,
        seeds,
        successes,
        p_hat: successes as f64 / seeds as f64,
        ci_lower,
        ci_upper,
        verdict,
        slack_median: median(&slacks),
        slack_worst: wo.slack,
        witness: Witness { trial: wt, measured: wo.measured, bound: wo.bound, slack: wo.slack, time: wo.time },
    }
}

/// Compares a mean with its reference: refuted beyond [`EXPECTATION_Z`] standard errors on the
/// wrong side; for ≤ / ≥, supported when the whole ±z·se band is on the right side. The standard
/// error is at least `se_floor`.
pub fn expectation_row(m: usize, values: &[f64], reference: f64, relation: Relation, se_floor: f64) -> ExpectationRow {
    let (mean, se) = mean_and_standard_error(values);
    let se = se.max(se_floor);
    let z = EXPECTATION_Z * se;
    let verdict = match relation {
        Relation::AtMost if mean - z > reference => Verdict::Refuted,
        Relation::AtMost if mean + z <= reference => Verdict::Supported,
        Relation::AtLeast if mean + z < reference => Verdict::Refuted,
        Relation::AtLeast if mean - z >= reference => Verdict::Supported,
        Relation::Equal if (mean - reference).abs() > z + 1e-12 * reference.abs() => Verdict::Refuted,
        Relation::Equal => Verdict::Supported,
        _ => Verdict::Inconclusive,
    };
    let (mean, se) = (crate::result::finite(mean), crate::result::finite(se));
    ExpectationRow { m, mean, standard_error: se, reference, slack: crate::result::ratio(mean, reference), verdict }
}

/// The claim's verdict: the statement's rows that meet the premise, combined; inconclusive if none.
pub fn claim_verdict(statement: &EventResult) -> (Verdict, bool) {
    let met: Vec<Verdict> = statement.rows.iter().filter(|r| r.premise_met).map(|r| r.verdict).collect();
    if met.is_empty() { (Verdict::Inconclusive, false) } else { (Verdict::combine(met), true) }
}
