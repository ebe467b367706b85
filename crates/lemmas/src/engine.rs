//! The Monte Carlo engine: seeds in parallel per width, aggregation into rows, and the width threshold by bisection.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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

/// A cache of finished seeds: [`measure_with`] asks it before evaluating a seed and hands it every
/// seed it evaluates. The runner's checkpoint file implements it (resume, shards, merge).
///
/// A stored outcome must be the exact outcome of `eval(m, trial)` (every f64 bit for bit), so
/// that results do not depend on which seeds came from the store.
pub trait SeedStore: Sync {
    /// The stored outcome of seed `trial` at width `m` of `claim`, if there is one.
    fn get(&self, claim: ClaimId, m: usize, trial: u64) -> Option<SeedOutcome>;
    /// Records a freshly evaluated seed; an error (e.g. a full disk) stops the check.
    fn put(&self, claim: ClaimId, m: usize, trial: u64, outcome: &SeedOutcome) -> Result<(), LemmaError>;
}

/// Stores nothing: every seed is evaluated.
pub struct NoStore;
impl SeedStore for NoStore {
    fn get(&self, _: ClaimId, _: usize, _: u64) -> Option<SeedOutcome> {
        None
    }
    fn put(&self, _: ClaimId, _: usize, _: u64, _: &SeedOutcome) -> Result<(), LemmaError> {
        Ok(())
    }
}

/// A deterministic slice of the seeds: trial t belongs to shard `index` of `count` when
/// t mod count = index. Shards `0..count` partition the seeds of every width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K, in `0..count`.
    pub index: u64,
    /// N ≥ 1.
    pub count: u64,
}

impl Shard {
    /// Shard K of N; the error names the problem.
    pub fn new(index: u64, count: u64) -> Result<Self, LemmaError> {
        if count == 0 {
            return Err(LemmaError::Config {
                name: "shard",
                value: format!("{index}/{count}"),
                reason: "the number of shards N must be at least 1".into(),
            });
        }
        if index >= count {
            return Err(LemmaError::Config {
                name: "shard",
                value: format!("{index}/{count}"),
                reason: format!("K must lie in 0..{count} (shards are numbered from 0)"),
            });
        }
        Ok(Shard { index, count })
    }
    /// Whether seed `trial` belongs to this shard.
    pub fn contains(self, trial: u64) -> bool {
        trial % self.count == self.index
    }
    /// How many of the trials `0..seeds` belong to this shard.
    pub fn seeds_in(self, seeds: u64) -> u64 {
        seeds / self.count + u64::from(seeds % self.count > self.index)
    }
}

/// How a check runs: where progress goes, which store caches seeds, and which shard (if any) to run.
#[derive(Clone, Copy)]
pub struct RunContext<'a> {
    /// Receives a tick per finished seed (stored seeds included).
    pub progress: &'a dyn Progress,
    /// Seeds already finished, and where new ones are recorded.
    pub store: &'a dyn SeedStore,
    /// With a shard, only its seeds of the sweep widths run (and go to the store); the check then
    /// returns no result, because the bisection widths depend on every seed's outcome.
    pub shard: Option<Shard>,
}

impl<'a> RunContext<'a> {
    /// Every seed, no store.
    pub fn new(progress: &'a dyn Progress) -> Self {
        RunContext { progress, store: &NoStore, shard: None }
    }
}

/// Bytes of one seed's state at width m, estimated before anything is allocated: about 12 m×d
/// arrays (W, W(0), RK4 stages, step-doubling copies, gradients) and 6 n×m arrays (Z, activation
/// patterns, kernel-space iterates) of f64, the most any claim keeps.
pub fn seed_state_bytes(cfg: &CheckConfig, m: usize) -> u64 {
    let per_neuron = 12u64.saturating_mul(cfg.d as u64).saturating_add(6u64.saturating_mul(cfg.n as u64));
    (m as u64).saturating_mul(per_neuron).saturating_mul(8)
}

/// Refuses a configuration whose widest sweep width would not fit in memory
/// ([`model::network::MEMORY_LIMIT_BYTES`]), before anything is allocated.
pub fn ensure_fits_in_memory(cfg: &CheckConfig) -> Result<(), LemmaError> {
    for &m in &cfg.widths {
        model::network::ensure_fits(
            &format!("width m = {m} (one seed's state, about 8·m·(12d + 6n) bytes with n = {}, d = {})", cfg.n, cfg.d),
            seed_state_bytes(cfg, m),
        )?;
    }
    Ok(())
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedOutcome {
    /// In the order of the event specs.
    pub events: Vec<Observation>,
    /// In the order of the expectation specs (a non-finite value is written as "NaN", "inf" or "-inf").
    #[serde(with = "named_non_finite")]
    pub values: Vec<f64>,
}

/// Serialises f64 values as JSON numbers, and NaN and ±∞ (which JSON lacks) as strings.
mod named_non_finite {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Value {
        Number(f64),
        Named(String),
    }

    pub fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let named = |x: f64| {
            if x.is_finite() {
                Value::Number(x)
            } else if x.is_nan() {
                Value::Named("NaN".into())
            } else if x > 0.0 {
                Value::Named("inf".into())
            } else {
                Value::Named("-inf".into())
            }
        };
        s.collect_seq(values.iter().map(|&x| named(x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<Value>::deserialize(d)?
            .into_iter()
            .map(|v| match v {
                Value::Number(x) => Ok(x),
                Value::Named(s) => match s.as_str() {
                    "NaN" => Ok(f64::NAN),
                    "inf" => Ok(f64::INFINITY),
                    "-inf" => Ok(f64::NEG_INFINITY),
                    other => Err(serde::de::Error::custom(format!("not a number: {other:?}"))),
                },
            })
            .collect()
    }
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
    let measured = measure_with(claim, cfg, events, expectations, premise, eval, &RunContext::new(progress))?;
    Ok(measured.expect("without a shard every seed runs"))
}

/// [`measure`] with a seed store and an optional shard. Each seed is taken from the store when it
/// is there, else evaluated and put in the store. With a shard, only the shard's seeds of the sweep
/// widths run, and the result is `None`: the bisection widths depend on all seeds' outcomes, so
/// they are chosen (and run) by whoever aggregates the shards.
pub fn measure_with(
    claim: ClaimId,
    cfg: &CheckConfig,
    events: &[EventSpec],
    expectations: &[ExpectationSpec],
    premise: &(dyn Fn(usize) -> bool + Sync),
    eval: &Evaluate<'_>,
    ctx: &RunContext<'_>,
) -> Result<Option<Measured>, LemmaError> {
    ensure_fits_in_memory(cfg)?;
    let run_width = |m: usize| -> Result<Vec<SeedOutcome>, LemmaError> {
        (0..cfg.seeds)
            .into_par_iter()
            .filter(|&trial| ctx.shard.is_none_or(|s| s.contains(trial)))
            .map(|trial| {
                let out = match ctx.store.get(claim, m, trial) {
                    Some(out) => {
                        if out.events.len() != events.len() || out.values.len() != expectations.len() {
                            return Err(LemmaError::Store(format!(
                                "a stored seed of {} (m = {m}, trial {trial}) has {} events and {} values, the check has {} and {}: it comes from another version of the check; delete the checkpoint",
                                claim.slide(),
                                out.events.len(),
                                out.values.len(),
                                events.len(),
                                expectations.len()
                            )));
                        }
                        out
                    }
                    None => {
                        let out = eval(m, trial)?;
                        debug_assert_eq!(out.events.len(), events.len());
                        ctx.store.put(claim, m, trial, &out)?;
                        out
                    }
                };
                ctx.progress.seed_done(claim, m, trial);
                Ok(out)
            })
            .collect()
    };
    if ctx.shard.is_some() {
        for &m in &cfg.widths {
            run_width(m)?;
        }
        return Ok(None);
    }
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
    Ok(Some(Measured { events: event_results, expectations: expectation_results, threshold }))
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Remembers every seed put, counting puts.
    #[derive(Default)]
    struct MemoryStore {
        seeds: Mutex<HashMap<(ClaimId, usize, u64), SeedOutcome>>,
        puts: AtomicUsize,
    }

    impl SeedStore for MemoryStore {
        fn get(&self, claim: ClaimId, m: usize, trial: u64) -> Option<SeedOutcome> {
            self.seeds.lock().unwrap().get(&(claim, m, trial)).cloned()
        }
        fn put(&self, claim: ClaimId, m: usize, trial: u64, outcome: &SeedOutcome) -> Result<(), LemmaError> {
            self.puts.fetch_add(1, Ordering::Relaxed);
            assert!(
                self.seeds.lock().unwrap().insert((claim, m, trial), outcome.clone()).is_none(),
                "a seed is put once"
            );
            Ok(())
        }
    }

    /// A synthetic claim whose event holds on trial t at width m when (t·7 + m) mod 10 < m/10 (so
    /// wider is better and the threshold is bisected), counting evaluations.
    fn run(cfg: &CheckConfig, store: &dyn SeedStore, shard: Option<Shard>, evals: &AtomicUsize) -> Option<Measured> {
        let events = [EventSpec { key: "e", description: "synthetic".into(), target: Target::Probability(0.9) }];
        let expectations = [ExpectationSpec {
            key: "v",
            description: "synthetic".into(),
            relation: Relation::AtMost,
            reference: 1.0,
            sd_floor: None,
        }];
        let eval = |m: usize, t: u64| {
            evals.fetch_add(1, Ordering::Relaxed);
            let x = ((t * 7 + m as u64) % 10) as f64;
            Ok(SeedOutcome {
                events: vec![Observation::at_most(x, (m / 10) as f64)],
                values: vec![if t == 3 { f64::NAN } else { x / (m as f64) }],
            })
        };
        let ctx = RunContext { progress: &NoProgress, store, shard };
        measure_with(ClaimId::Lem22, cfg, &events, &expectations, &|_| true, &eval, &ctx).unwrap()
    }

    fn cfg() -> CheckConfig {
        CheckConfig { widths: vec![10, 100], seeds: 7, bisection_steps: 3, ..CheckConfig::default() }
    }

    #[test]
    fn shards_partition_the_seeds() {
        for count in 1..6 {
            for seeds in 0..13 {
                let mut owner = vec![None; seeds as usize];
                for index in 0..count {
                    let s = Shard::new(index, count).unwrap();
                    let mine: Vec<u64> = (0..seeds).filter(|&t| s.contains(t)).collect();
                    assert_eq!(mine.len() as u64, s.seeds_in(seeds));
                    for t in mine {
                        assert!(owner[t as usize].replace(index).is_none(), "trial {t} in two shards");
                    }
                }
                assert!(owner.iter().all(Option::is_some), "every trial has a shard");
            }
        }
        assert!(Shard::new(2, 2).is_err() && Shard::new(0, 0).is_err());
    }

    #[test]
    fn stored_seeds_are_not_recomputed_and_give_the_same_results() {
        let (store, evals) = (MemoryStore::default(), AtomicUsize::new(0));
        let first = run(&cfg(), &store, None, &evals).unwrap();
        let computed = evals.load(Ordering::Relaxed);
        assert_eq!(store.puts.load(Ordering::Relaxed), computed);
        assert!(computed > 14, "the threshold was bisected: {computed} seeds");
        let again = AtomicUsize::new(0);
        let second = run(&cfg(), &store, None, &again).unwrap();
        assert_eq!(again.load(Ordering::Relaxed), 0, "everything came from the store");
        assert_eq!(first.events, second.events);
        assert_eq!(format!("{:?}", first.expectations), format!("{:?}", second.expectations));
        assert_eq!(first.threshold, second.threshold);
        let plain = measure_with_no_store();
        assert_eq!(plain.events, first.events);
    }

    fn measure_with_no_store() -> Measured {
        run(&cfg(), &NoStore, None, &AtomicUsize::new(0)).unwrap()
    }

    #[test]
    fn a_shard_runs_only_its_sweep_seeds_and_returns_nothing() {
        let (store, evals) = (MemoryStore::default(), AtomicUsize::new(0));
        let shard = Shard::new(1, 3).unwrap();
        assert!(run(&cfg(), &store, Some(shard), &evals).is_none());
        let keys: Vec<(usize, u64)> = {
            let mut k: Vec<_> = store.seeds.lock().unwrap().keys().map(|&(_, m, t)| (m, t)).collect();
            k.sort();
            k
        };
        assert_eq!(keys, vec![(10, 1), (10, 4), (100, 1), (100, 4)]);
        // The shards together, then an aggregating run, equal one run of everything.
        for index in [0, 2] {
            run(&cfg(), &store, Some(Shard::new(index, 3).unwrap()), &evals);
        }
        let merged = run(&cfg(), &store, None, &AtomicUsize::new(0)).unwrap();
        assert_eq!(merged.events, measure_with_no_store().events);
    }

    #[test]
    fn seed_outcomes_round_trip_through_json_with_non_finite_values() {
        let out = SeedOutcome {
            events: vec![Observation::at_most(0.1 + 0.2, 1.0 / 3.0).at_time(2.5)],
            values: vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e-300, std::f64::consts::PI],
        };
        let text = serde_json::to_string(&out).unwrap();
        assert!(text.contains(r#"["NaN","inf","-inf",-0.0,1e-300,3.141592653589793]"#), "{text}");
        let back: SeedOutcome = serde_json::from_str(&text).unwrap();
        assert!(back.values[0].is_nan());
        let bits = |o: &SeedOutcome| o.values[1..].iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&out));
        assert_eq!(back.events, out.events);
    }

    #[test]
    fn a_width_too_large_for_memory_is_refused_before_running() {
        let cfg = CheckConfig { widths: vec![10, 1 << 40], ..CheckConfig::default() };
        let evals = AtomicUsize::new(0);
        let events = [EventSpec { key: "e", description: "synthetic".into(), target: Target::Always }];
        let eval = |_: usize, _: u64| {
            evals.fetch_add(1, Ordering::Relaxed);
            Ok(SeedOutcome { events: vec![Observation::at_most(0.0, 1.0)], values: vec![] })
        };
        let err = measure(ClaimId::Lem22, &cfg, &events, &[], &|_| true, &eval, &NoProgress).err().unwrap();
        assert!(err.to_string().contains("width m = 1099511627776") && err.to_string().contains("MiB"), "{err}");
        assert_eq!(evals.load(Ordering::Relaxed), 0, "nothing ran");
    }
}
