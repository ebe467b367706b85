//! The width-threshold search of docs/theory.md §6: a geometric grid extended up and down, refined
//! by bisection, with a sequential anytime-valid test at each width whose family-wise error rate
//! is stated.
//!
//! For one event at a fixed configuration the search returns an interval (lower, upper] for the
//! smallest width m* at which P(event) ≥ target:
//!
//! - **upper** is the smallest width tested from which every larger tested width is *supported*;
//! - **lower** is the largest tested width below it that is *refuted*: a decided failure, never a
//!   width that was merely not supported. An undecided width moves neither end.
//!
//! Each width is tested by [`crate::verdict::decide`] at level α/W (W the most widths the search
//! may visit), looking after each seed count of `looks` and stopping once decided. The bounds are
//! a confidence sequence, valid at every look at once, so the looks cost no level: by a union
//! bound over widths the probability that any decision is wrong — and hence, when P(event) grows
//! with m, that the interval misses m* — is at most α. Seeds of one width are nested across looks
//! (trials 0..S); widths draw independent streams (the caller's oracle sees to it).

use serde::{Deserialize, Serialize};

use crate::verdict::{Counts, Kind, Level, Outcome, Target, Verdict, decide, undetermined_reason};
use crate::{InferenceError, sequence};

/// Where a width threshold lies: in (lower, upper].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The largest width at which the event was *refuted* below `upper`; none (open) when no
    /// width was refuted.
    pub lower: Option<usize>,
    /// The smallest width from which every larger width tested is supported; none (open) when the
    /// largest width is not supported.
    pub upper: Option<usize>,
    /// Why the seeds cannot place the threshold at all (e.g. too few seeds to support the target
    /// at any width), in words; none when the ends above are the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undetermined: Option<String>,
}

impl Threshold {
    /// The interval from widths and their verdicts (any order): upper = the smallest width from
    /// which every larger one is supported, lower = the largest refuted width below it.
    pub fn from_verdicts(tested: &[(usize, Verdict)]) -> Threshold {
        let mut sorted = tested.to_vec();
        sorted.sort_by_key(|(m, _)| *m);
        let mut upper = None;
        for &(m, v) in sorted.iter().rev() {
            if v == Verdict::Supported {
                upper = Some(m);
            } else {
                break;
            }
        }
        let lower = sorted
            .iter()
            .filter(|(m, v)| *v == Verdict::Refuted && upper.is_none_or(|u| *m < u))
            .map(|(m, _)| *m)
            .max();
        Threshold { lower, upper, undetermined: None }
    }

    /// The next width to bisect at: the geometric midpoint of the widest gap (by ratio) between
    /// consecutive `tested` widths inside [lower, upper]; none when an end is open or no gap can
    /// be split. An undecided width inside the interval is kept as a gap end, so no width is ever
    /// tested twice.
    pub fn next_bisection(&self, tested: &[usize]) -> Option<usize> {
        let (lo, hi) = (self.lower?, self.upper?);
        let mut inside: Vec<usize> = tested.iter().copied().filter(|&m| lo <= m && m <= hi).collect();
        inside.sort_unstable();
        inside.dedup();
        inside
            .windows(2)
            .map(|w| (w[0], w[1], ((w[0] as f64) * (w[1] as f64)).sqrt().round() as usize))
            .filter(|&(a, b, mid)| a < mid && mid < b)
            .max_by(|x, y| (x.1 as f64 / x.0 as f64).total_cmp(&(y.1 as f64 / y.0 as f64)))
            .map(|(_, _, mid)| mid)
    }

    /// The ratio `width` ÷ m* as an interval: (width ÷ upper, width ÷ lower), an end open where the
    /// threshold's is (an undetermined upper end leaves the ratio open below). None when neither
    /// end is decided.
    pub fn ratio_of(&self, width: f64) -> Option<Interval> {
        (self.lower.is_some() || self.upper.is_some()).then(|| Interval {
            lower: self.upper.map(|u| width / u as f64),
            upper: self.lower.map(|l| width / l as f64),
        })
    }
}

/// An interval of positive numbers; none at an end means open there (0 or ∞).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end (none: 0).
    pub lower: Option<f64>,
    /// Upper end (none: ∞).
    pub upper: Option<f64>,
}

/// How the search walks the widths and how many seeds it may spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// The first width tested.
    pub start: usize,
    /// Ratio of the geometric grid (> 1): the search moves up by ⌈m·ratio⌉ and down by ⌊m/ratio⌋.
    pub ratio: f64,
    /// The smallest width the downward extension may reach (≥ 1).
    pub min_width: usize,
    /// The largest width the upward extension may reach.
    pub max_width: usize,
    /// Bisection steps between the two ends once they are found.
    pub bisection_steps: u32,
    /// Seed counts at which each width's test looks (strictly increasing; the last is the cap).
    pub looks: Vec<u64>,
    /// Family-wise error rate α: the interval misses m* with probability at most α.
    pub error_rate: f64,
}

impl SearchConfig {
    /// Checks every field; the error names the field.
    pub fn validate(&self) -> Result<(), InferenceError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(InferenceError::Config { name, value, reason: reason.to_string() })
        };
        if self.min_width == 0 {
            return bad("min_width", "0".into(), "a width must be at least 1");
        }
        if !(self.min_width <= self.start && self.start <= self.max_width) {
            return bad(
                "start",
                self.start.to_string(),
                &format!(
                    "the first width must lie in [min_width, max_width] = [{}, {}]",
                    self.min_width, self.max_width
                ),
            );
        }
        if !(self.ratio.is_finite() && self.ratio > 1.0) {
            return bad("ratio", self.ratio.to_string(), "the grid ratio must be finite and above 1");
        }
        if self.looks.is_empty() || self.looks[0] == 0 || self.looks.windows(2).any(|w| w[0] >= w[1]) {
            return bad("looks", format!("{:?}", self.looks), "seed counts must be positive and strictly increasing");
        }
        if !(self.error_rate > 0.0 && self.error_rate < 1.0) {
            return bad("error_rate", self.error_rate.to_string(), "the error rate must lie in (0, 1)");
        }
        Ok(())
    }

    /// W: the most widths one search may test — the grid points between `min_width` and
    /// `max_width` (both extensions together walk one grid), two more for rounding, and the
    /// bisection steps.
    pub fn max_widths(&self) -> u32 {
        let span = (self.max_width as f64 / self.min_width as f64).ln() / self.ratio.ln();
        span.ceil() as u32 + 2 + self.bisection_steps
    }

    /// The level of each width's test: α/W (each side of its bounds at α/(2W)).
    pub fn width_level(&self) -> Level {
        Level(self.error_rate).split(u64::from(self.max_widths()))
    }

    /// Refuses a search whose last look cannot support `target` even when every seed succeeds.
    pub fn can_support(&self, target: Target) -> Result<(), InferenceError> {
        let last = self.looks.last().copied().unwrap_or(0);
        match undetermined_reason(last, target, self.width_level()) {
            None => Ok(()),
            Some(why) => Err(InferenceError::Config {
                name: "looks",
                value: format!("{:?}", self.looks),
                reason: format!(
                    "no width can be supported at level α/W = {:.2e}: {why}; raise the last look",
                    self.width_level().alpha()
                ),
            }),
        }
    }

    /// The same search with looks doubled past the last until the last look can support `target`
    /// (when no count can, the looks are left as they are and [`SearchConfig::can_support`] says why).
    pub fn with_looks_to_support(&self, target: Target) -> SearchConfig {
        let mut out = self.clone();
        if let Target::Probability(p) = target
            && let Some(need) = seeds_to_support(p, self.width_level())
        {
            while out.looks.last().is_some_and(|&last| last < need) {
                let last = out.looks.last().copied().unwrap_or(1);
                out.looks.push((2 * last).min(need.max(last + 1)));
            }
        }
        out
    }

    /// The most seeds one search may evaluate: W·(last look).
    pub fn max_seeds(&self) -> u64 {
        u64::from(self.max_widths()) * self.looks.last().copied().unwrap_or(0)
    }
}

/// The test at one width: the seeds it took and what they decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthTest {
    /// Width m.
    pub m: usize,
    /// Seeds evaluated (trials 0..seeds).
    pub seeds: u64,
    /// Live seeds among them (not vacuous).
    pub live: u64,
    /// Live seeds where the event held.
    pub successes: u64,
    /// Live seeds within the numerical band (neither holds nor fails).
    pub within_band: u64,
    /// Anytime-valid lower bound on P(event) at the width level (successes only).
    pub lower_bound: f64,
    /// Anytime-valid upper bound on P(event) at the width level (band seeds counted as successes).
    pub upper_bound: f64,
    /// Supported, refuted, or inconclusive after the last look.
    pub verdict: Verdict,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// The interval (lower, upper] for m*: see the module documentation for what each end means.
    pub threshold: Threshold,
    /// Every width tested, by increasing m.
    pub tests: Vec<WidthTest>,
    /// The claimed probability P(event) ≥ target (1 for an event claimed always).
    pub target: f64,
    /// α: the probability that the interval misses m* (monotone P(event) in m).
    pub error_rate: f64,
    /// The level of each width's test, α/W.
    #[serde(alias = "look_level")]
    pub width_level: f64,
    /// Seeds evaluated over all widths.
    pub seeds_total: u64,
    /// Seeds the same widths would have taken at the last look each (no sequential stopping).
    pub seeds_without_stopping: u64,
}

impl Search {
    /// The interval's width ratio upper ÷ lower (none when open at an end).
    pub fn ratio(&self) -> Option<f64> {
        match (self.threshold.lower, self.threshold.upper) {
            (Some(l), Some(u)) => Some(u as f64 / l as f64),
            _ => None,
        }
    }
}

/// The fewest seeds, all succeeding, that support `target` at `level` (none for target 1).
pub fn seeds_to_support(target: f64, level: Level) -> Option<u64> {
    sequence::seeds_to_support(target, level.per_side(), 1 << 40)
}

/// The test of `target` at width m from the outcomes of trials 0..S.
fn width_test(m: usize, outcomes: &[Outcome], target: Target, level: Level, last_look: bool) -> WidthTest {
    let counts = Counts::of(outcomes.iter().copied());
    let d = decide(counts, target, Kind::Claim, level);
    // An event claimed always is supported only at the last look: a sequential stop on "no
    // failure yet" would support after one seed.
    let verdict = if target == Target::Always && d.verdict == Verdict::Supported && !last_look {
        Verdict::Inconclusive
    } else {
        d.verdict
    };
    WidthTest {
        m,
        seeds: outcomes.len() as u64,
        live: counts.live,
        successes: counts.successes,
        within_band: counts.within_band,
        lower_bound: d.lower,
        upper_bound: d.upper,
        verdict,
    }
}

/// Runs the search for "P(event) ≥ target" with `oracle(m, trials)` returning the outcomes of the
/// given trials at width m, in trial order.
pub fn search<E: From<InferenceError>>(
    cfg: &SearchConfig,
    target: Target,
    oracle: &mut dyn FnMut(usize, std::ops::Range<u64>) -> Result<Vec<Outcome>, E>,
) -> Result<Search, E> {
    cfg.validate()?;
    cfg.can_support(target)?;
    let level = cfg.width_level();
    let budget = cfg.max_widths() as usize;
    let mut tests: Vec<WidthTest> = Vec::new();
    let mut seeds_total = 0u64;
    let mut test = |m: usize, tests: &mut Vec<WidthTest>| -> Result<Verdict, E> {
        if let Some(t) = tests.iter().find(|t| t.m == m) {
            return Ok(t.verdict);
        }
        let mut outcomes: Vec<Outcome> = Vec::new();
        let mut result = width_test(m, &[], target, level, false);
        for (k, &s) in cfg.looks.iter().enumerate() {
            let more = oracle(m, outcomes.len() as u64..s)?;
            outcomes.extend(more);
            result = width_test(m, &outcomes, target, level, k + 1 == cfg.looks.len());
            if result.verdict != Verdict::Inconclusive {
                break;
            }
        }
        seeds_total += result.seeds;
        let v = result.verdict;
        let at = tests.partition_point(|x| x.m < m);
        tests.insert(at, result);
        Ok(v)
    };
    // Up from the start until a width is supported.
    let mut m = cfg.start;
    let mut v = test(m, &mut tests)?;
    while v != Verdict::Supported && tests.len() < budget {
        let next = ((m as f64 * cfg.ratio).ceil() as usize).max(m + 1);
        if next > cfg.max_width {
            break;
        }
        m = next;
        v = test(m, &mut tests)?;
    }
    // Down from the smallest width until one is refuted (a decided lower end).
    let mut m = tests[0].m;
    while tests[0].verdict != Verdict::Refuted && m > cfg.min_width && tests.len() < budget {
        m = ((m as f64 / cfg.ratio).floor() as usize).clamp(cfg.min_width, m - 1);
        test(m, &mut tests)?;
    }
    let interval =
        |tests: &[WidthTest]| Threshold::from_verdicts(&tests.iter().map(|t| (t.m, t.verdict)).collect::<Vec<_>>());
    // Bisection: halve (geometrically) the widest gap between tested widths inside the interval.
    for _ in 0..cfg.bisection_steps {
        if tests.len() >= budget {
            break;
        }
        let tested: Vec<usize> = tests.iter().map(|t| t.m).collect();
        let Some(mid) = interval(&tests).next_bisection(&tested) else { break };
        test(mid, &mut tests)?;
    }
    Ok(Search {
        threshold: interval(&tests),
        seeds_without_stopping: tests.len() as u64 * cfg.looks.last().copied().unwrap_or(0),
        tests,
        target: target.probability(),
        error_rate: cfg.error_rate,
        width_level: level.alpha(),
        seeds_total,
    })
}

/// A planted event for the tests of this crate and of its users: success with probability
/// p(m) = max(0, 1 − c/m) (so P ≥ 1 − δ exactly from m* = c/δ), drawn from a stream of
/// (run, m, trial) that no other (m, trial) shares.
pub fn planted_outcome(run: u64, c: f64, m: usize, trial: u64) -> Outcome {
    let p = (1.0 - c / m as f64).max(0.0);
    if uniform(run, m as u64, trial) < p { Outcome::Holds } else { Outcome::Fails }
}

/// A uniform on [0, 1) from SplitMix64 of (a, b, c): the planted laws need no generator crate.
pub fn uniform(a: u64, b: u64, c: u64) -> f64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (mix(mix(mix(a) ^ b) ^ c) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planted(run: u64, c: f64) -> impl FnMut(usize, std::ops::Range<u64>) -> Result<Vec<Outcome>, InferenceError> {
        move |m, trials| Ok(trials.map(|t| planted_outcome(run, c, m, t)).collect())
    }

    fn cfg() -> SearchConfig {
        SearchConfig {
            start: 16,
            ratio: 2.0,
            min_width: 1,
            max_width: 1 << 14,
            bisection_steps: 4,
            looks: vec![40, 80, 160, 320, 640],
            error_rate: 0.05,
        }
    }

    /// The interval contains the true threshold m_true = c/δ at the stated error rate over repeated
    /// runs, and is narrow: the search locates it, not merely brackets everything.
    #[test]
    fn the_interval_covers_a_planted_threshold_at_the_stated_rate() {
        let (c, delta) = (5.0f64, 0.1f64);
        let m_true = c / delta; // 1 − c/m ≥ 1 − δ ⟺ m ≥ c/δ = 50
        let runs = 400u64;
        let mut misses = 0;
        let mut ratios = Vec::new();
        for run in 0..runs {
            let s = search(&cfg(), Target::Probability(1.0 - delta), &mut planted(run, c)).unwrap();
            let t = &s.threshold;
            let covers = t.lower.is_none_or(|l| (l as f64) < m_true) && t.upper.is_none_or(|u| u as f64 >= m_true);
            misses += u64::from(!covers);
            ratios.push(s.ratio().unwrap_or(f64::INFINITY));
            assert!(s.tests.len() as u32 <= cfg().max_widths(), "the union bound counts every width tested");
        }
        // α = 0.05 over 400 runs: more than 35 misses has probability < 10⁻³.
        assert!(misses <= 35, "{misses} of {runs} intervals miss m_true = {m_true}");
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        assert!(median <= 4.0, "the median interval upper ÷ lower is {median}: the search does not locate m*");
    }

    /// The lower end is a refuted width: the planted law at a width below the lower end fails
    /// more often than the target allows.
    #[test]
    fn the_lower_end_is_refuted_and_the_upper_end_supported() {
        let s = search(&cfg(), Target::Probability(0.9), &mut planted(3, 5.0)).unwrap();
        let lo = s.threshold.lower.unwrap();
        let hi = s.threshold.upper.unwrap();
        let at = |m: usize| s.tests.iter().find(|t| t.m == m).unwrap().verdict;
        assert_eq!(at(lo), Verdict::Refuted);
        assert_eq!(at(hi), Verdict::Supported);
        assert!(s.tests.iter().filter(|t| t.m > hi).all(|t| t.verdict == Verdict::Supported));
    }

    /// The level of each width's test is α/W, W counting every grid point between the smallest and
    /// largest width, the rounding slack and the bisection steps; the looks cost nothing.
    #[test]
    fn the_level_of_each_width_is_the_error_rate_over_widths() {
        let c = cfg();
        let w = c.max_widths();
        assert_eq!(w, 14 + 2 + 4);
        assert!((c.width_level().alpha() - 0.05 / f64::from(w)).abs() < 1e-18);
        let more_looks = SearchConfig { looks: (1..=64).map(|k| k * 10).collect(), ..cfg() };
        assert_eq!(more_looks.width_level(), c.width_level());
    }

    /// Extends downward when the first width already passes, and reports an interval open below
    /// only when the smallest width passes too; open above when no width passes.
    #[test]
    fn the_grid_extends_down_and_up() {
        let from_above = SearchConfig { start: 4096, ..cfg() };
        let s = search(&from_above, Target::Probability(0.9), &mut planted(7, 5.0)).unwrap();
        let (lo, hi) = (s.threshold.lower.unwrap(), s.threshold.upper.unwrap());
        assert!(lo < 50 && hi >= 50 && s.tests[0].m < 50, "{:?}", s.threshold);
        let always = search(&cfg(), Target::Probability(0.9), &mut planted(7, 0.0)).unwrap();
        assert_eq!((always.threshold.lower, always.threshold.upper), (None, Some(1)), "p ≡ 1: m* = 1");
        let never =
            search(&SearchConfig { max_width: 512, ..cfg() }, Target::Probability(0.9), &mut planted(7, 1e6)).unwrap();
        assert_eq!(never.threshold.upper, None, "p(512) = 0: no width supported");
        assert_eq!(never.threshold.lower, Some(512));
    }

    /// A bad search configuration is a named error; too few seeds to support the target is refused
    /// before any seed runs, with the reason.
    #[test]
    fn bad_search_configurations_are_refused() {
        for bad in [
            SearchConfig { ratio: 1.0, ..cfg() },
            SearchConfig { looks: vec![10, 10], ..cfg() },
            SearchConfig { min_width: 0, ..cfg() },
            SearchConfig { start: 1 << 20, ..cfg() },
            SearchConfig { error_rate: 0.0, ..cfg() },
            SearchConfig { looks: vec![10, 20], ..cfg() },
        ] {
            assert!(search(&bad, Target::Probability(0.9), &mut planted(0, 1.0)).is_err(), "{bad:?}");
        }
        let mut calls = 0;
        let mut counting = |_: usize, _: std::ops::Range<u64>| -> Result<Vec<Outcome>, InferenceError> {
            calls += 1;
            Ok(vec![])
        };
        let few = search(&SearchConfig { looks: vec![10, 20], ..cfg() }, Target::Probability(0.9), &mut counting);
        assert!(few.unwrap_err().to_string().contains("no width can be supported"));
        assert_eq!(calls, 0);
        let extended = SearchConfig { looks: vec![10, 20], ..cfg() }.with_looks_to_support(Target::Probability(0.9));
        assert!(extended.can_support(Target::Probability(0.9)).is_ok(), "{:?}", extended.looks);
        assert_eq!(&extended.looks[..3], &[10, 20, 40]);
        let level = cfg().width_level();
        let s = seeds_to_support(0.9, level).unwrap();
        assert_eq!(extended.looks.last(), Some(&s), "the last look is exactly what the target needs");
        let lower = |n: u64| sequence::best_lower_bound(n, level.per_side()).unwrap();
        assert!(lower(s) >= 0.9 && lower(s - 1) < 0.9, "S = {s}");
    }

    /// Bisection splits the widest gap inside the interval and never returns a tested width (the
    /// quick profile once re-ran m = 3162 four times when an undecided width sat between the ends).
    #[test]
    fn bisection_splits_the_widest_untested_gap() {
        let t = Threshold { lower: Some(100), upper: Some(10000), undetermined: None };
        assert_eq!(t.next_bisection(&[100, 10000]), Some(1000));
        assert_eq!(t.next_bisection(&[100, 1000, 10000]), Some(3162), "a tie goes to the last widest gap");
        assert_eq!(t.next_bisection(&[100, 3162, 10000]), Some(562));
        let tested = [100, 101, 1000, 10000];
        assert!(!tested.contains(&t.next_bisection(&tested).unwrap()));
        assert_eq!(Threshold { lower: Some(10), upper: Some(11), undetermined: None }.next_bisection(&[10, 11]), None);
        assert_eq!(Threshold { lower: None, upper: Some(11), undetermined: None }.next_bisection(&[10, 11]), None);
    }

    #[test]
    fn thresholds_from_verdicts_take_refuted_lower_ends_only() {
        use Verdict::*;
        let t = Threshold::from_verdicts(&[(10, Refuted), (20, Inconclusive), (40, Supported), (80, Supported)]);
        assert_eq!((t.lower, t.upper), (Some(10), Some(40)));
        let t = Threshold::from_verdicts(&[(10, Inconclusive), (40, Supported)]);
        assert_eq!((t.lower, t.upper), (None, Some(40)), "an undecided width is no lower end");
        let t = Threshold::from_verdicts(&[(10, Supported), (40, Inconclusive)]);
        assert_eq!((t.lower, t.upper), (None, None));
        let r = Threshold { lower: Some(10), upper: Some(40), undetermined: None }.ratio_of(400.0).unwrap();
        assert_eq!((r.lower, r.upper), (Some(10.0), Some(40.0)));
        assert!(Threshold { lower: None, upper: None, undetermined: Some("x".into()) }.ratio_of(1.0).is_none());
        let refuted_only = Threshold { lower: Some(10), upper: None, undetermined: Some("x".into()) };
        let r = refuted_only.ratio_of(400.0).unwrap();
        assert_eq!((r.lower, r.upper), (None, Some(40.0)), "a refuted width still bounds the ratio above");
    }
}
