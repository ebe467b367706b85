//! The `Claim` trait: what a claim of the paper tells the one runner.
//!
//! It tells the runner its identity, profiles, preparation, events, the evaluation of one seed, and
//! findings.
//! A claim is one file implementing [`Claim`] and one entry in the table of `lib.rs`. Everything
//! that makes a verdict evidence — vacuous seeds, the numerical band, sanity identities, per-event
//! premises, probability budgets, thresholds, independent streams — is in [`crate::engine`], once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::LemmaError;
use crate::bounds::ProofOrders;
use crate::config::CheckConfig;
use crate::profile::Profile;
use crate::result::{
    EventResult, ExpectationResult, Observation, Outcome, Premise, ProofWidth, Relation, Role, Target, Threshold,
};

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
    /// Its configuration under a named profile.
    fn config(&self, profile: Profile) -> CheckConfig;
    /// Draws the data and computes everything that does not depend on a seed (λ0, radii, widths,
    /// horizons), refusing derived quantities outside their domain before any seed runs.
    fn prepare<'a>(&self, cfg: &'a CheckConfig) -> Result<Prepared<'a>, LemmaError>;
    /// Flop-equivalents of one seed at width m with λ0 of the data: the one cost model, read by
    /// the plan line, the refusals and the scaling forecast (built from [`crate::cost`]).
    fn seed_flops(&self, cfg: &CheckConfig, lambda0: f64, m: usize) -> f64;
    /// Du et al.'s orders of the width premise of event `event`; none when it holds at any width.
    fn proof_orders(&self, _event: &str) -> Option<ProofOrders> {
        None
    }
}

/// Refuses δ for a statement whose target 1 − `events`·δ would not be positive (`who` names it).
pub fn chained_target(who: &str, events: u32, delta: f64) -> Result<(), LemmaError> {
    if f64::from(events) * delta >= 1.0 {
        return Err(LemmaError::Config {
            name: "delta",
            value: delta.to_string(),
            reason: format!("{who} claims probability 1 − {events}δ, which must be positive: take δ < 1/{events}"),
        });
    }
    Ok(())
}

/// A claim prepared for one configuration: its data (λ0 and the statement) and its evaluation.
pub struct Prepared<'a> {
    lambda0: f64,
    statement: String,
    evaluation: Box<dyn Evaluation + 'a>,
}

impl<'a> Prepared<'a> {
    /// λ0 of the data, the statement with its constants, and the per-seed evaluation.
    pub fn new(lambda0: f64, statement: impl Into<String>, evaluation: impl Evaluation + 'a) -> Self {
        Prepared { lambda0, statement: statement.into(), evaluation: Box::new(evaluation) }
    }
    /// λ0 = λmin(H∞) of the data.
    pub fn lambda0(&self) -> f64 {
        self.lambda0
    }
    /// The statement, with its constants.
    pub fn statement(&self) -> String {
        self.statement.clone()
    }
}

impl<'a> std::ops::Deref for Prepared<'a> {
    type Target = dyn Evaluation + 'a;
    fn deref(&self) -> &Self::Target {
        &*self.evaluation
    }
}

/// What a prepared claim checks, and the evaluation of one seed.
pub trait Evaluation: Sync {
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
    fn notes(&self, measured: &Measurements) -> Vec<String>;
}

/// An event to judge: key, description, role, width premise and claimed probability.
#[derive(Debug, Clone)]
pub struct EventSpec {
    /// Short key, unique within the claim.
    pub key: &'static str,
    /// What it says.
    pub description: String,
    /// Statement, proof step or sanity identity.
    pub role: Role,
    /// The width this event needs.
    pub premise: Premise,
    /// Claimed probability.
    pub target: Target,
    /// How the target's probability was counted (docs/theory.md §2.9), when it is not 1 − δ.
    pub budget: Option<String>,
    /// An implication whose proof bounds the joint event (`inference::Kind::Implication`):
    /// supported by the live seeds' conditional rate, refuted only through the joint event.
    pub implication: bool,
}

impl EventSpec {
    /// An event with no width premise, claimed with probability `target`.
    pub fn new(key: &'static str, role: Role, target: Target, description: impl Into<String>) -> Self {
        EventSpec {
            key,
            description: description.into(),
            role,
            premise: Premise::AnyWidth,
            target,
            budget: None,
            implication: false,
        }
    }
    /// The same event judged as an implication whose proof bounds the joint event
    /// (docs/theory.md §2.9: Lem 2.5).
    pub fn implication(mut self) -> Self {
        self.implication = true;
        self
    }
    /// The same event with a width premise.
    pub fn premise(mut self, premise: Premise) -> Self {
        self.premise = premise;
        self
    }
    /// The same event with its probability budget explained.
    pub fn budget(mut self, why: impl Into<String>) -> Self {
        self.budget = Some(why.into());
        self
    }
}

/// A per-seed quantity: an expectation compared with a reference, or a reported rate or margin.
#[derive(Debug, Clone)]
pub struct MeasureSpec {
    /// Short key, unique within the claim.
    pub key: &'static str,
    /// What it compares.
    pub description: String,
    /// Relation of the mean to the reference.
    pub relation: Relation,
    /// Reference value (none for [`Relation::Report`]).
    pub reference: Option<f64>,
    /// A floor on the per-seed standard deviation implied by the reference model at width m
    /// (e.g. √(p(1 − p)/m) for a per-seed mean of m i.i.d. per-neuron fractions with mean p), so
    /// that a rare event never seen in a few seeds is not declared impossible.
    pub sd_floor: Option<fn(f64, usize) -> f64>,
}

impl MeasureSpec {
    /// A mean compared with a reference.
    pub fn compare(key: &'static str, relation: Relation, reference: f64, description: impl Into<String>) -> Self {
        MeasureSpec { key, description: description.into(), relation, reference: Some(reference), sd_floor: None }
    }
    /// A reported quantity (mean, min, max over seeds), compared with nothing.
    pub fn report(key: &'static str, description: impl Into<String>) -> Self {
        MeasureSpec {
            key,
            description: description.into(),
            relation: Relation::Report,
            reference: None,
            sd_floor: None,
        }
    }
}

/// Compares measured values with bounds under `bound_scale` and the numerical band (docs/theory.md
/// §3.3, §3.8): the one place where an observation's outcome is decided.
#[derive(Debug, Clone, Copy)]
pub struct Judge {
    /// The factor on bounds: a ≤-bound b becomes s·b, a ≥-bound b becomes b/s (1 for sanity identities).
    pub scale: f64,
    /// Whether the band is a rounding allowance of exact arithmetic rather than an error estimate:
    /// only an *estimate* as large as the value it guards decides nothing (docs/theory.md §3.3); a
    /// rounding allowance is a bound on the error, whatever the value (e.g. a certificate that is
    /// exactly 0).
    pub exact: bool,
}

impl Judge {
    /// A judge with `bound_scale` = `scale` whose bands are error estimates.
    pub fn new(scale: f64) -> Self {
        Judge { scale, exact: false }
    }
    /// The same judge for bands that are rounding allowances of exact arithmetic.
    pub fn for_exact_arithmetic(self) -> Self {
        Judge { exact: true, ..self }
    }
    /// "measured ≤ bound".
    pub fn at_most(&self, measured: f64, bound: f64, band: f64) -> Observation {
        self.upper(measured, bound * self.scale, band, false)
    }
    /// "measured < bound".
    pub fn below(&self, measured: f64, bound: f64, band: f64) -> Observation {
        self.upper(measured, bound * self.scale, band, true)
    }
    /// "measured ≥ bound" (slack = bound ÷ measured).
    pub fn at_least(&self, measured: f64, bound: f64, band: f64) -> Observation {
        self.lower(measured, bound / self.scale, band, false)
    }
    /// "measured > bound".
    pub fn above(&self, measured: f64, bound: f64, band: f64) -> Observation {
        self.lower(measured, bound / self.scale, band, true)
    }

    fn upper(&self, measured: f64, bound: f64, band: f64, strict: bool) -> Observation {
        let outcome = decide(bound - measured, measured, band, strict, self.exact);
        observation(outcome, measured, bound, ratio_of(measured, bound), band)
    }
    fn lower(&self, measured: f64, bound: f64, band: f64, strict: bool) -> Observation {
        let outcome = decide(measured - bound, measured, band, strict, self.exact);
        observation(outcome, measured, bound, ratio_of(bound, measured), band)
    }
}

fn ratio_of(a: f64, b: f64) -> f64 {
    crate::result::ratio(a, b)
}

/// The outcome of a comparison whose margin (≥ 0: on the right side) is `margin`, with `band`
/// guarding `measured`: a band that is not finite, or an error estimate as large as the quantity it
/// guards (not a rounding allowance, `exact`), decides nothing; a margin within the band is inconclusive.
fn decide(margin: f64, measured: f64, band: f64, strict: bool, exact: bool) -> Outcome {
    if measured.is_nan() || margin.is_nan() {
        return Outcome::Fails;
    }
    if !band.is_finite() || band < 0.0 || (!exact && band > 0.0 && band >= measured.abs()) {
        return Outcome::WithinBand;
    }
    let holds = if strict { margin > band } else { margin >= band };
    let fails = if band > 0.0 {
        margin < -band
    } else if strict {
        margin <= 0.0
    } else {
        margin < 0.0
    };
    if holds {
        Outcome::Holds
    } else if fails {
        Outcome::Fails
    } else {
        Outcome::WithinBand
    }
}

fn observation(outcome: Outcome, measured: f64, bound: f64, slack: f64, band: f64) -> Observation {
    use crate::result::finite;
    Observation { outcome, measured: finite(measured), bound: finite(bound), slack, band: finite(band), time: None }
}

/// The worst of many observations of one event (a failure first, then a band, then the largest
/// slack); vacuous when there are none.
pub fn worst_of(observations: impl IntoIterator<Item = Observation>) -> Observation {
    observations.into_iter().fold(Observation::vacuous(), Observation::worst)
}

/// A finite f64, or NaN / ±∞ written as "NaN", "inf", "-inf" (JSON has no such numbers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonF64(pub f64);

impl Serialize for JsonF64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_finite() {
            s.serialize_f64(x)
        } else if x.is_nan() {
            s.serialize_str("NaN")
        } else if x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }
}

impl<'de> Deserialize<'de> for JsonF64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Value {
            Number(f64),
            Named(String),
        }
        match Value::deserialize(d)? {
            Value::Number(x) => Ok(JsonF64(x)),
            Value::Named(s) => match s.as_str() {
                "NaN" => Ok(JsonF64(f64::NAN)),
                "inf" => Ok(JsonF64(f64::INFINITY)),
                "-inf" => Ok(JsonF64(f64::NEG_INFINITY)),
                other => Err(serde::de::Error::custom(format!("not a number: {other:?}"))),
            },
        }
    }
}

/// What one seed at one width produced: an observation per event and a value per measure, by key.
/// (A vacuous seed may leave measures out.)
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SeedOutcome {
    /// Observations by event key.
    pub events: BTreeMap<String, Observation>,
    /// Values by measure key.
    pub values: BTreeMap<String, JsonF64>,
}

impl SeedOutcome {
    /// Records the observation of event `key`.
    pub fn event(mut self, key: &str, o: Observation) -> Self {
        self.events.insert(key.to_string(), o);
        self
    }
    /// Records the value of measure `key`.
    pub fn value(mut self, key: &str, x: f64) -> Self {
        self.values.insert(key.to_string(), JsonF64(x));
        self
    }
    /// Bit-for-bit equality (any NaN equals any NaN: they aggregate alike), for checkpoints.
    pub fn same_bits(&self, other: &SeedOutcome) -> bool {
        let f = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        self.events.len() == other.events.len()
            && self.values.len() == other.values.len()
            && self.events.iter().zip(&other.events).all(|((k, a), (l, b))| k == l && a.same_bits(b))
            && self.values.iter().zip(&other.values).all(|((k, a), (l, b))| k == l && f(a.0, b.0))
    }
}

/// One seed's environment: its width, trial, the seed of its own streams and the judges of its events.
pub struct SeedCtx<'a> {
    /// Width m.
    pub m: usize,
    /// Trial index t.
    pub trial: u64,
    /// Seed of this (claim, width)'s initialisation streams: pass it with `trial` to
    /// `Network::init` or the sampler. Independent across claims and widths (docs/theory.md §3.5).
    pub init_seed: u64,
    pub(crate) bound_scale: f64,
    pub(crate) specs: &'a [EventSpec],
}

impl SeedCtx<'_> {
    /// The judge of event `key`: `bound_scale` for statements and proof steps, 1 for sanity identities.
    pub fn judge(&self, key: &str) -> Judge {
        // Every key passed is a string literal of the same claim's events() (program invariant, not input).
        let spec = self.specs.iter().find(|s| s.key == key).unwrap_or_else(|| panic!("no event keyed {key:?}"));
        Judge::new(if spec.role == Role::Sanity { 1.0 } else { self.bound_scale })
    }
}

/// Everything measured for a claim, before it becomes a [`ClaimResult`].
#[derive(Debug, Clone)]
pub struct Measurements {
    /// Events, rows sorted by width.
    pub events: Vec<EventResult>,
    /// Expectations and reported quantities, rows sorted by width.
    pub expectations: Vec<ExpectationResult>,
    /// Where the statement's threshold lies.
    pub threshold: Threshold,
}

impl Measurements {
    /// The event keyed `key`.
    pub fn event(&self, key: &str) -> Option<&EventResult> {
        self.events.iter().find(|e| e.key == key)
    }
    /// The measure keyed `key`.
    pub fn measure(&self, key: &str) -> Option<&ExpectationResult> {
        self.expectations.iter().find(|e| e.key == key)
    }
}
