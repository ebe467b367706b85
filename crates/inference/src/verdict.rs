//! The one verdict rule: supported / inconclusive / refuted / error from counts of seed outcomes.
//!
//! An event claimed to hold with probability ≥ p is judged from the live seeds (those whose
//! per-seed premise held) by the anytime-valid bounds of [`crate::sequence`], each side at α/2:
//!
//! - **supported** when the lower bound, band seeds counted as failures, is ≥ p;
//! - **refuted** when the upper bound, band seeds counted as successes, is < p;
//! - **inconclusive** otherwise, and when no seed is live.
//!
//! Whatever the true probability, the verdict is wrong with probability at most α, at any seed
//! count and after any number of looks. An event claimed always (a deterministic step) is
//! refuted by one failure beyond the numerical band, supported when every live seed held beyond
//! it, and inconclusive otherwise. An identity that cannot fail is an error when it fails.

use serde::{Deserialize, Serialize};

use crate::{InferenceError, sequence};

/// The verdict on one claim or one event (docs/theory.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The lower confidence bound is at least the claimed probability (or, for a deterministic
    /// claim, no violation beyond numerical tolerance).
    Supported,
    /// Neither side is decided: more seeds would decide (they may be added at no cost in level).
    Inconclusive,
    /// The upper confidence bound is below the claimed probability (or a deterministic violation).
    Refuted,
    /// A sanity identity failed: the program is wrong, and the run says so (docs/theory.md §3.4).
    Error,
}

impl Verdict {
    /// Lower-case word used in tables.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Refuted => "refuted",
            Verdict::Error => "error",
        }
    }

    /// Combines verdicts over several widths or events: any error → error; else any refuted →
    /// refuted; all supported → supported; otherwise inconclusive. An empty list is inconclusive.
    pub fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let mut any = false;
        let mut all_supported = true;
        let mut refuted = false;
        for v in verdicts {
            any = true;
            match v {
                Verdict::Error => return Verdict::Error,
                Verdict::Refuted => refuted = true,
                Verdict::Inconclusive => all_supported = false,
                Verdict::Supported => {}
            }
        }
        if refuted {
            Verdict::Refuted
        } else if any && all_supported {
            Verdict::Supported
        } else {
            Verdict::Inconclusive
        }
    }
}

/// What one seed says about one event (docs/theory.md §3.2–§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The event held with a margin larger than the numerical band.
    Holds,
    /// The event failed by more than the numerical band.
    Fails,
    /// The value lies within the numerical band of its bound, or the band is not finite or as large
    /// as the quantity it guards: neither evidence for nor against the event.
    WithinBand,
    /// The seed's per-seed premise failed (a conditional claim): no evidence either way.
    Vacuous,
}

/// What probability an event is claimed to have.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// P(event) ≥ this, judged by the anytime-valid bounds.
    Probability(f64),
    /// Deterministic: must hold on every live seed (beyond the numerical band).
    Always,
}

impl Target {
    /// The claimed probability (1 for an event claimed always).
    pub fn probability(self) -> f64 {
        match self {
            Target::Always => 1.0,
            Target::Probability(p) => p,
        }
    }
}

/// What the event is to the verdict rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A claim, or a step of a proof: judged against its target on the live seeds.
    Claim,
    /// An implication "if P then Q" whose proof bounds the joint event, P(P and not Q) ≤ 1 − target
    /// (Lem 2.5: P(R′ < R and the conclusion fails) ≤ 2δ); vacuous seeds are those where P failed.
    /// *Supported* needs the conditional rate on the live seeds to clear the target (which implies
    /// the joint bound); *refuted* needs the joint event to fail it, vacuous seeds counting for the
    /// joint event — a conditional failure rate above 1 − target alone refutes nothing, since the
    /// proof licenses up to (1 − target)/P(P). No live seed is inconclusive.
    Implication,
    /// An identity that cannot fail: a failure is an error of the program.
    Identity,
}

/// Counts of seed outcomes at one width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Live seeds (their per-seed premise held).
    pub live: u64,
    /// Seeds whose premise failed: counted apart, never evidence.
    pub vacuous: u64,
    /// Live seeds on which the event held beyond the band.
    pub successes: u64,
    /// Live seeds within the numerical band.
    pub within_band: u64,
}

impl Counts {
    /// Counts the outcomes.
    pub fn of(outcomes: impl IntoIterator<Item = Outcome>) -> Counts {
        let mut c = Counts::default();
        for o in outcomes {
            match o {
                Outcome::Vacuous => c.vacuous += 1,
                Outcome::Holds => {
                    c.live += 1;
                    c.successes += 1
                }
                Outcome::WithinBand => {
                    c.live += 1;
                    c.within_band += 1
                }
                Outcome::Fails => c.live += 1,
            }
        }
        c
    }

    /// Live seeds where the event failed beyond the band.
    pub fn failures(&self) -> u64 {
        self.live - self.successes - self.within_band
    }

    /// Every seed, live or vacuous.
    pub fn seeds(&self) -> u64 {
        self.live + self.vacuous
    }
}

/// A verdict with the bounds it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Lower bound on P(event), band seeds as failures (0 when no seed is live).
    pub lower: f64,
    /// Upper bound on P(event), band seeds as successes (1 when no seed is live).
    pub upper: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// The error rate α of a decision: each side of the bounds is taken at α/2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level(pub(crate) f64);

impl Level {
    /// A level α in (0, 1).
    pub fn new(alpha: f64) -> Result<Level, InferenceError> {
        if alpha > 0.0 && alpha < 1.0 { Ok(Level(alpha)) } else { Err(InferenceError::Level(alpha)) }
    }
    /// The level of a confidence c: α = 1 − c.
    pub fn of_confidence(confidence: f64) -> Result<Level, InferenceError> {
        Level::new(1.0 - confidence)
    }
    /// α.
    pub fn alpha(self) -> f64 {
        self.0
    }
    /// The error of each side, α/2.
    pub fn per_side(self) -> f64 {
        self.0 / 2.0
    }
    /// α/k: one of k decisions that must hold jointly at α (Bonferroni).
    pub fn split(self, k: u64) -> Level {
        Level(self.0 / k.max(1) as f64)
    }
}

/// The verdict rule (see the module documentation).
pub fn decide(counts: Counts, target: Target, kind: Kind, level: Level) -> Decision {
    let (lower, upper) = if counts.live == 0 {
        (0.0, 1.0)
    } else {
        let a = level.per_side();
        // Counts satisfy 0 ≤ k ≤ live > 0 and 0 < a < 1 by construction: the bounds cannot fail.
        let lo = sequence::bounds(counts.successes, counts.live, a).map_or(0.0, |b| b.0);
        let hi = if kind == Kind::Implication {
            let joint = counts.live + counts.vacuous;
            sequence::bounds(counts.successes + counts.within_band + counts.vacuous, joint, a).map_or(1.0, |b| b.1)
        } else {
            sequence::bounds(counts.successes + counts.within_band, counts.live, a).map_or(1.0, |b| b.1)
        };
        (lo, hi)
    };
    let failures = counts.failures();
    let verdict = match (kind, target) {
        _ if counts.live == 0 => Verdict::Inconclusive,
        (Kind::Identity, _) if failures > 0 => Verdict::Error,
        (Kind::Identity, _) | (_, Target::Always) if counts.within_band > 0 && failures == 0 => Verdict::Inconclusive,
        (Kind::Identity, _) => Verdict::Supported,
        (Kind::Implication, Target::Always) if failures > 0 => Verdict::Refuted,
        (_, Target::Always) if failures > 0 => Verdict::Refuted,
        (_, Target::Always) => Verdict::Supported,
        (_, Target::Probability(p)) if lower >= p => Verdict::Supported,
        (_, Target::Probability(p)) if upper < p => Verdict::Refuted,
        (_, Target::Probability(_)) => Verdict::Inconclusive,
    };
    Decision { lower, upper, verdict }
}

/// Why a width's seeds cannot decide "supported", in words, or none when they can: a target above
/// what `live` seeds can support even if every one succeeds.
pub fn undetermined_reason(live: u64, target: Target, level: Level) -> Option<String> {
    let Target::Probability(p) = target else { return None };
    if live == 0 {
        return Some("no live seed".to_string());
    }
    let best = sequence::best_lower_bound(live, level.per_side()).ok()?;
    (best < p).then(|| {
        let need = sequence::seeds_to_support(p, level.per_side(), 1 << 40)
            .map_or("no finite number".to_string(), |s| s.to_string());
        // The target at six decimals without trailing zeros (1 − 2·0.4 prints as 0.2).
        let p = format!("{p:.6}");
        let p = p.trim_end_matches('0').trim_end_matches('.');
        let seeds = if live == 1 { "live seed" } else { "live seeds" };
        format!("{live} {seeds} can support at most {best:.3} < {p}; {need} would be needed")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(live: u64, successes: u64, within_band: u64) -> Counts {
        Counts { live, vacuous: 0, successes, within_band }
    }

    #[test]
    fn verdicts_follow_the_bounds() {
        let l = Level::new(0.05).unwrap();
        let p = Target::Probability(0.9);
        assert_eq!(decide(counts(200, 200, 0), p, Kind::Claim, l).verdict, Verdict::Supported);
        assert_eq!(decide(counts(20, 20, 0), p, Kind::Claim, l).verdict, Verdict::Inconclusive);
        assert_eq!(decide(counts(100, 50, 0), p, Kind::Claim, l).verdict, Verdict::Refuted);
        // Band seeds: counted against the lower bound and for the upper one.
        assert_eq!(decide(counts(100, 50, 50), p, Kind::Claim, l).verdict, Verdict::Inconclusive);
        assert_eq!(decide(counts(0, 0, 0), p, Kind::Claim, l).verdict, Verdict::Inconclusive);
        let a = Target::Always;
        assert_eq!(decide(counts(3, 2, 0), a, Kind::Claim, l).verdict, Verdict::Refuted);
        assert_eq!(decide(counts(3, 2, 1), a, Kind::Claim, l).verdict, Verdict::Inconclusive);
        assert_eq!(decide(counts(3, 3, 0), a, Kind::Claim, l).verdict, Verdict::Supported);
        assert_eq!(decide(counts(3, 2, 0), a, Kind::Identity, l).verdict, Verdict::Error);
        assert_eq!(decide(counts(3, 2, 1), a, Kind::Identity, l).verdict, Verdict::Inconclusive);
        assert_eq!(Verdict::combine([Verdict::Supported, Verdict::Inconclusive]), Verdict::Inconclusive);
        assert_eq!(Verdict::combine([Verdict::Supported, Verdict::Refuted]), Verdict::Refuted);
        assert_eq!(Verdict::combine([]), Verdict::Inconclusive);
        assert_eq!(Verdict::combine([Verdict::Refuted, Verdict::Error]), Verdict::Error);
    }

    /// Lem 2.5's budget (inference finding 5): the proof bounds the joint event, so a conditional
    /// failure rate above 1 − target on few live seeds among many vacuous ones does not refute,
    /// while the same failures with every seed live do; support needs the conditional rate.
    #[test]
    fn an_implication_is_refuted_only_through_its_joint_event() {
        let l = Level::new(0.05).unwrap();
        let t = Target::Probability(0.8);
        // 40 live seeds of which 20 fail (conditional rate 0.5), 360 vacuous: the joint failure
        // rate is 20/400 = 0.05 ≤ 0.2, which the proof allows.
        let few_live = Counts { live: 40, vacuous: 360, successes: 20, within_band: 0 };
        assert_eq!(decide(few_live, t, Kind::Claim, l).verdict, Verdict::Refuted, "as a conditional claim");
        assert_eq!(decide(few_live, t, Kind::Implication, l).verdict, Verdict::Inconclusive);
        let all_live = Counts { live: 400, vacuous: 0, successes: 200, within_band: 0 };
        assert_eq!(decide(all_live, t, Kind::Implication, l).verdict, Verdict::Refuted);
        let holds = Counts { live: 200, vacuous: 200, successes: 200, within_band: 0 };
        assert_eq!(decide(holds, t, Kind::Implication, l).verdict, Verdict::Supported);
        let none_live = Counts { live: 0, vacuous: 400, successes: 0, within_band: 0 };
        assert_eq!(decide(none_live, t, Kind::Implication, l).verdict, Verdict::Inconclusive);
    }

    /// Finding 1 of the inference review: 20 seeds cannot support 0.9 at α = 0.05 whatever they
    /// show, and the reason says so in words with the most they can support.
    #[test]
    fn too_few_seeds_are_named_undetermined() {
        let l = Level::new(0.05).unwrap();
        let why = undetermined_reason(20, Target::Probability(0.9), l).unwrap();
        assert!(why.starts_with("20 live seeds can support at most 0.7") && why.contains("would be needed"), "{why}");
        let why = undetermined_reason(2, Target::Probability(1.0 - 2.0 * 0.4), l).unwrap();
        assert!(why.contains("< 0.2;"), "{why}");
        assert_eq!(undetermined_reason(500, Target::Probability(0.9), l), None);
        assert_eq!(undetermined_reason(1, Target::Always, l), None);
        assert_eq!(decide(counts(20, 20, 0), Target::Probability(0.9), Kind::Claim, l).verdict, Verdict::Inconclusive);
    }

    /// The level of the rule: for true probabilities on both sides of the target and at it, the
    /// rate of wrong verdicts over many repetitions at several seed counts stays below α.
    #[test]
    fn wrong_verdicts_are_rarer_than_the_level() {
        use rand::{RngExt, SeedableRng};
        let l = Level::new(0.1).unwrap();
        let target = 0.9;
        for &p in &[0.85f64, 0.9, 0.95] {
            let mut wrong = 0u64;
            let reps = 3000u64;
            for rep in 0..reps {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(rep + (p * 1e4) as u64);
                let s = [50u64, 200, 400][(rep % 3) as usize];
                let k = (0..s).filter(|_| rng.random::<f64>() < p).count() as u64;
                let v = decide(counts(s, k, 0), Target::Probability(target), Kind::Claim, l).verdict;
                wrong += u64::from((v == Verdict::Supported && p < target) || (v == Verdict::Refuted && p >= target));
            }
            // 3000 repetitions at rate ≤ 0.1: more than 360 wrong has probability < 10⁻³.
            assert!(wrong <= 360, "p = {p}: {wrong} wrong of {reps}");
        }
    }
}
