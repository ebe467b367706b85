//! Serialisable results of a check: plain data with public fields (the boundary to report and runner).

use serde::{Deserialize, Serialize};

use crate::config::{CheckConfig, ClaimId};
use crate::stats::Verdict;

pub use inference::{Interval, Outcome, Target, Threshold};

/// One seed's outcome for one event at one width (the worst comparison when the event is checked
/// at many times).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// What the seed says.
    pub outcome: Outcome,
    /// The measured quantity (e.g. ‖H(0) − H∞‖₂).
    pub measured: f64,
    /// The bound it is compared with (e.g. λ0/4), after `bound_scale`.
    pub bound: f64,
    /// measured ÷ bound, oriented so that ≤ 1 means within the bound (bound ÷ measured for a lower bound).
    pub slack: f64,
    /// The numerical band around the bound: the integrator's error estimate or the rounding allowance.
    pub band: f64,
    /// Time (or iteration) at which the worst value occurred, for trajectory claims.
    pub time: Option<f64>,
}

impl Observation {
    /// A seed whose per-seed premise failed.
    pub fn vacuous() -> Self {
        Observation { outcome: Outcome::Vacuous, measured: 0.0, bound: 0.0, slack: 0.0, band: 0.0, time: None }
    }
    /// Whether the event held beyond its band.
    pub fn holds(&self) -> bool {
        self.outcome == Outcome::Holds
    }
    /// The same observation with a time attached.
    pub fn at_time(mut self, t: f64) -> Self {
        self.time = Some(t);
        self
    }
    /// The worse of two observations of one event: a failure over a band over a success (a vacuous
    /// observation is the identity); within a class, the larger slack.
    pub fn worst(self, other: Observation) -> Observation {
        let rank = |o: &Observation| match o.outcome {
            Outcome::Vacuous => 0,
            Outcome::Holds => 1,
            Outcome::WithinBand => 2,
            Outcome::Fails => 3,
        };
        match rank(&self).cmp(&rank(&other)) {
            std::cmp::Ordering::Less => other,
            std::cmp::Ordering::Greater => self,
            std::cmp::Ordering::Equal => {
                if other.slack > self.slack {
                    other
                } else {
                    self
                }
            }
        }
    }
    /// Bit-for-bit equality (any NaN equals any NaN), for checkpoints.
    pub fn same_bits(&self, other: &Observation) -> bool {
        let f = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        self.outcome == other.outcome
            && f(self.measured, other.measured)
            && f(self.bound, other.bound)
            && f(self.slack, other.slack)
            && f(self.band, other.band)
            && match (self.time, other.time) {
                (None, None) => true,
                (Some(s), Some(t)) => f(s, t),
                _ => false,
            }
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

/// What an event is to its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The claim's statement: its rows at widths meeting their premise give the claim's verdict.
    Statement,
    /// A step of the proof, with its own bound (scaled by `bound_scale`) and its own premise.
    ProofStep,
    /// An identity that cannot fail (Cauchy–Schwarz, ‖·‖₂ ≤ ‖·‖_F, Weyl): a failure is a bug, and
    /// the claim's verdict becomes `error`. Never evidence for the claim; never scaled.
    Sanity,
}

/// The width premise of an event (docs/theory.md §3.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Premise {
    /// The event holds for any width (its per-seed condition, if any, is judged seed by seed).
    AnyWidth,
    /// The event needs m ≥ this width (e.g. Lem 2.2's m₂.₂ for Lem 2.3's λmin step).
    Width {
        /// The width needed.
        width: f64,
        /// Where it comes from, e.g. "m₂.₂ (Lem 2.2)".
        source: String,
    },
    /// The width's constant is implicit in the paper: no width can be said to meet it.
    ImplicitConstant,
}

impl Premise {
    /// Whether width m meets it.
    pub fn met_at(&self, m: usize) -> bool {
        match self {
            Premise::AnyWidth => true,
            Premise::Width { width, .. } => m as f64 >= *width,
            Premise::ImplicitConstant => false,
        }
    }
}

/// The seed whose observation is worst (a failure first, then a band, then the largest slack), kept as a witness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Witness {
    /// Trial index of the seed.
    pub trial: u64,
    /// What it says.
    pub outcome: Outcome,
    /// Its measured value.
    pub measured: f64,
    /// The bound.
    pub bound: f64,
    /// Its slack.
    pub slack: f64,
    /// Its numerical band.
    pub band: f64,
    /// Time of the worst value, for trajectory claims.
    pub time: Option<f64>,
}

/// One event at one width, over all seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthRow {
    /// Width m.
    pub m: usize,
    /// Whether m meets this event's width premise.
    pub premise_met: bool,
    /// Seeds that are evidence (live): their per-seed premise held.
    pub seeds: u64,
    /// Seeds whose per-seed premise failed (conditional claims): counted apart, never as successes.
    pub seeds_vacuous: u64,
    /// Live seeds on which the event held beyond the numerical band.
    pub successes: u64,
    /// Live seeds whose value lay within the numerical band (neither success nor failure).
    pub within_band: u64,
    /// p̂ = successes / seeds (0 when no seed is live).
    pub p_hat: f64,
    /// Anytime-valid lower bound of P(event) (docs/theory.md §3.1, each side at α/2) with band
    /// seeds counted as failures (0 when no seed is live).
    pub ci_lower: f64,
    /// Anytime-valid upper bound of P(event) with band seeds counted as successes (1 when no seed is live).
    pub ci_upper: f64,
    /// Verdict on the event at this width.
    pub verdict: Verdict,
    /// Median slack over live seeds (0 when none).
    pub slack_median: f64,
    /// Worst (largest) slack over live seeds (0 when none).
    pub slack_worst: f64,
    /// The worst live seed; none when no seed is live.
    pub witness: Option<Witness>,
}

/// An event (the claim itself, one proof step or one sanity identity) across widths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventResult {
    /// Short key, e.g. "statement" or "hoeffding-entrywise".
    pub key: String,
    /// What the event says, with its bound.
    pub description: String,
    /// What the event is to the claim.
    pub role: Role,
    /// Its width premise.
    pub premise: Premise,
    /// The claimed probability.
    pub target: Target,
    /// Why the target is what it is (e.g. "1 − 3δ: Lem 2.2, Lem 2.3 and Markov each spend δ").
    pub budget: Option<String>,
    /// Judged as an implication whose proof bounds the joint event (docs/theory.md §2.9): the
    /// upper bound of its rows counts the vacuous seeds for the joint event.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implication: bool,
    /// One row per width run (sweep and bisection widths, sorted by m).
    pub rows: Vec<WidthRow>,
}

pub use inference::Relation;

/// A mean over live seeds compared with a reference value at one width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationRow {
    /// Width m.
    pub m: usize,
    /// Seeds that gave a value (live seeds for conditional claims).
    pub seeds: u64,
    /// Mean over those seeds (0 when none).
    pub mean: f64,
    /// Standard error of the mean.
    pub standard_error: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// The reference value (none for a reported quantity).
    pub reference: Option<f64>,
    /// mean ÷ reference.
    pub slack: Option<f64>,
    /// Refuted when the mean is more than [`inference::EXPECTATION_Z`] standard errors on the wrong
    /// side; none for a reported quantity.
    pub verdict: Option<Verdict>,
}

/// An expectation (e.g. E B ≤ 4n²R/√(2π)) or a reported per-seed quantity across widths.
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
    /// Which route (e.g. "Hoeffding + union bound + Frobenius" or "slide").
    pub route: String,
    /// The formula with explicit constants.
    pub formula: String,
    /// Its value on this data set (may exceed any width that can be run), as computed from the
    /// formula; clamped to 1e300 when the formula leaves f64 (then `log10_width` holds it).
    pub width: f64,
    /// log10 of the width, computed in log form, when the width is beyond f64 (≥ 1e300: e.g.
    /// δ³ in a denominator at δ = 1e-300); absent otherwise, when `width` is exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log10_width: Option<f64>,
}

impl ProofWidth {
    /// A proof width from its formula evaluated twice: directly (`width`) and in log form
    /// (`log10_width`, the same formula as a sum of logarithms). The direct value is kept, bit for
    /// bit, when it is a finite f64 below 1e300; otherwise the log form is (and `width` is 1e300).
    pub fn new(route: impl Into<String>, formula: impl Into<String>, width: f64, log10_width: f64) -> Self {
        let (width, log10_width) =
            if width.is_finite() && width < 1e300 { (width, None) } else { (1e300, Some(log10_width)) };
        ProofWidth { route: route.into(), formula: formula.into(), width, log10_width }
    }

    /// log10 of the width, exact in either representation (+∞ when the formula is unbounded, e.g. λ0 = 0).
    pub fn log10(&self) -> f64 {
        self.log10_width.unwrap_or_else(|| self.width.log10())
    }
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
    /// [`crate::config::fingerprint`] of `config`: readers of a results file recompute it and
    /// refuse a configuration edited after the numbers were computed.
    #[serde(default)]
    pub fingerprint: String,
    /// λ0 = λmin(H∞) of the data.
    pub lambda0: f64,
    /// Widths the proofs need.
    pub proof_widths: Vec<ProofWidth>,
    /// Whether some width run meets the premise of the statement.
    pub premise_met: bool,
    /// The statement and the proof steps and sanity identities it rests on (each with its role).
    pub events: Vec<EventResult>,
    /// Expectations the proof uses, and reported per-seed quantities (rates, margins).
    pub expectations: Vec<ExpectationResult>,
    /// Empirical width threshold of the statement.
    pub threshold: Threshold,
    /// The proof's (first) width ÷ the empirical threshold: an interval, since the threshold is one.
    pub proof_to_empirical: Option<Interval>,
    /// Verdict on the claim: `error` if a sanity identity failed; else from the statement's rows
    /// that meet their premise and have a live seed; inconclusive when none does.
    pub verdict: Verdict,
    /// Findings computed from these results, and remarks a reader needs.
    pub notes: Vec<String>,
}

impl ClaimResult {
    /// The statement's event.
    pub fn statement_event(&self) -> Option<&EventResult> {
        self.events.iter().find(|e| e.role == Role::Statement)
    }
}

#[cfg(test)]
mod proof_width_tests {
    use crate::{ClaimId, Profile};

    /// At δ = 1e-300 the widths of Lem 2.5, Thm 2.1, Thm 2.6 and Thm 3.1 leave f64 (δ² and δ³ in
    /// a denominator), yet each claim still states one: its log10, from the formula in log form,
    /// equal to the direct formula's log10 at δ = 0.1 and shifted by exactly the δ-power times 299
    /// decades at δ = 1e-300 (Lem 2.2's and Lem 2.3's widths stay in f64 and exact).
    #[test]
    fn proof_widths_beyond_f64_are_kept_in_log_form() {
        let decades = |id: ClaimId| match id {
            ClaimId::Lem25 => Some(2.0),
            ClaimId::Thm21 | ClaimId::Thm31 => Some(3.0),
            _ => None,
        };
        for &id in ClaimId::ALL.iter() {
            let mut cfg = Profile::Tiny.config(id);
            let at = |delta: f64, cfg: &mut crate::CheckConfig| {
                cfg.delta = delta;
                let prep = id.claim().prepare(cfg).unwrap();
                prep.proof_widths()
            };
            let (small, huge) = (at(0.1, &mut cfg), at(1e-300, &mut cfg));
            assert_eq!(small.len(), huge.len());
            for (s, h) in small.iter().zip(&huge) {
                assert!(s.log10_width.is_none(), "{id:?}: δ = 0.1 gives a width in f64");
                assert!((s.log10() - s.width.log10()).abs() < 1e-12);
                assert!(h.log10().is_finite(), "{id:?}: δ = 1e-300 gives no width");
                if let Some(k) = decades(id) {
                    assert!(h.log10_width.is_some(), "{id:?}: the width at δ = 1e-300 should be beyond f64");
                    assert!((h.log10() - s.log10() - 299.0 * k).abs() < 1e-9, "{id:?}: {} vs {}", h.log10(), s.log10());
                }
                if id == ClaimId::Thm26 {
                    // n⁶ log(m/δ)/(λ0⁴δ³): three powers of δ and the logarithm's growth.
                    assert!(h.log10() - s.log10() > 897.0, "{id:?}");
                }
            }
        }
    }
}
