//! Serialisable results of a check: plain data with public fields (the boundary to report and runner).

use serde::{Deserialize, Serialize};

use crate::config::{CheckConfig, ClaimId};
use crate::stats::Verdict;

/// One seed's outcome for one event at one width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Whether the event held.
    pub holds: bool,
    /// The measured quantity (e.g. ‖H(0) − H∞‖₂).
    pub measured: f64,
    /// The bound it is compared with (e.g. λ0/4).
    pub bound: f64,
    /// measured ÷ bound, oriented so that ≤ 1 means within the bound (bound ÷ measured for a lower bound).
    pub slack: f64,
    /// Time (or iteration) at which the worst value occurred, for trajectory claims.
    pub time: Option<f64>,
}

impl Observation {
    /// An upper-bound event "measured ≤ bound" (a NaN never holds).
    pub fn at_most(measured: f64, bound: f64) -> Self {
        let (holds, slack) = (measured <= bound, ratio(measured, bound));
        Observation { holds, measured: finite(measured), bound: finite(bound), slack, time: None }
    }
    /// A strict upper-bound event "measured < bound" (a NaN never holds).
    pub fn below(measured: f64, bound: f64) -> Self {
        let (holds, slack) = (measured < bound, ratio(measured, bound));
        Observation { holds, measured: finite(measured), bound: finite(bound), slack, time: None }
    }
    /// A lower-bound event "measured ≥ bound" (slack = bound ÷ measured; a NaN never holds).
    pub fn at_least(measured: f64, bound: f64) -> Self {
        let (holds, slack) = (measured >= bound, ratio(bound, measured));
        Observation { holds, measured: finite(measured), bound: finite(bound), slack, time: None }
    }
    /// The same observation with a time attached.
    pub fn at_time(mut self, t: f64) -> Self {
        self.time = Some(t);
        self
    }
}

/// x kept finite for serialisation: ±∞ become ±1e300 and NaN becomes 1e300 (the worst value).
pub fn finite(x: f64) -> f64 {
    if x.is_nan() { 1e300 } else { x.clamp(-1e300, 1e300) }
}

/// a ÷ b kept finite for serialisation: a non-positive denominator gives ±1e300, NaN gives 1e300.
pub fn ratio(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        1e300
    } else if b > 0.0 {
        (a / b).clamp(-1e300, 1e300)
    } else if a <= 0.0 && b == 0.0 {
        0.0
    } else {
        1e300
    }
}

/// What probability an event is claimed to have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// P(event) ≥ this, judged by a Clopper–Pearson interval.
    Probability(f64),
    /// Deterministic: must hold on every seed (beyond numerical tolerance).
    Always,
}

/// The seed whose observation is worst (largest slack), kept as a witness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Witness {
    /// Trial index of the seed (the init is `stream(master_seed, trial, …)`).
    pub trial: u64,
    /// Its measured value.
    pub measured: f64,
    /// The bound.
    pub bound: f64,
    /// Its slack.
    pub slack: f64,
    /// Time of the worst value, for trajectory claims.
    pub time: Option<f64>,
}

/// One event at one width, over all seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthRow {
    /// Width m.
    pub m: usize,
    /// Whether m meets the claim's width premise.
    pub premise_met: bool,
    /// Seeds run.
    pub seeds: u64,
    /// Seeds on which the event held.
    pub successes: u64,
    /// p̂ = successes / seeds.
    pub p_hat: f64,
    /// Clopper–Pearson lower bound.
    pub ci_lower: f64,
    /// Clopper–Pearson upper bound.
    pub ci_upper: f64,
    /// Verdict on the event at this width.
    pub verdict: Verdict,
    /// Median slack over seeds.
    pub slack_median: f64,
    /// Worst (largest) slack over seeds.
    pub slack_worst: f64,
    /// The worst seed.
    pub witness: Witness,
}

/// An event (the claim itself or one proof step) across widths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventResult {
    /// Short key, e.g. "statement" or "hoeffding-entrywise".
    pub key: String,
    /// What the event says, with its bound.
    pub description: String,
    /// The claimed probability.
    pub target: Target,
    /// One row per width run (sweep and bisection widths, sorted by m).
    pub rows: Vec<WidthRow>,
}

/// How a measured mean relates to its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The mean is claimed ≤ the reference.
    AtMost,
    /// The mean is claimed ≥ the reference.
    AtLeast,
    /// The mean is claimed equal to the reference (an exact expectation).
    Equal,
}

/// A mean over seeds compared with a reference value at one width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationRow {
    /// Width m.
    pub m: usize,
    /// Mean over seeds.
    pub mean: f64,
    /// Standard error of the mean.
    pub standard_error: f64,
    /// The reference value.
    pub reference: f64,
    /// mean ÷ reference.
    pub slack: f64,
    /// Refuted when the mean is more than [`crate::EXPECTATION_Z`] standard errors on the wrong side.
    pub verdict: Verdict,
}

/// An expectation (e.g. E B ≤ 4n²R/√(2π)) across widths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// Short key.
    pub key: String,
    /// What is compared.
    pub description: String,
    /// How the mean relates to the reference.
    pub relation: Relation,
    /// One row per width.
    pub rows: Vec<ExpectationRow>,
}

/// The width a proof needs, with its formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofWidth {
    /// Which route (e.g. "Hoeffding + union bound + Frobenius (SPEC)" or "slide").
    pub route: String,
    /// The formula with explicit constants.
    pub formula: String,
    /// Its value on this data set (may exceed any width that can be run).
    pub width: f64,
}

/// The smallest width at which the statement held with p̂ ≥ 1 − δ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Smallest width run with p̂ ≥ 1 − δ there and at every larger width run; None if never.
    pub empirical_width: Option<usize>,
    /// The largest width below it that failed (None if the smallest width already passed).
    pub largest_failing_width: Option<usize>,
    /// The proof's width (first route) ÷ the empirical width.
    pub proof_to_empirical: Option<f64>,
}

/// The result of checking one claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// Which claim.
    pub claim: ClaimId,
    /// Slide number.
    pub slide: String,
    /// Paper number.
    pub paper: String,
    /// Short name.
    pub title: String,
    /// The statement, with its constants.
    pub statement: String,
    /// The configuration that produced this result.
    pub config: CheckConfig,
    /// λ0 = λmin(H∞) of the data.
    pub lambda0: f64,
    /// Widths the proofs need.
    pub proof_widths: Vec<ProofWidth>,
    /// Whether some width run meets the premise of the claim.
    pub premise_met: bool,
    /// The statement (first) and the proof steps it rests on.
    pub events: Vec<EventResult>,
    /// Expectations the proof uses.
    pub expectations: Vec<ExpectationResult>,
    /// Empirical width threshold of the statement.
    pub threshold: Option<Threshold>,
    /// Verdict on the claim: from the statement's rows that meet the premise; inconclusive when none does.
    pub verdict: Verdict,
    /// Remarks a reader needs (typos in the slides, regimes, what was not run).
    pub notes: Vec<String>,
}
