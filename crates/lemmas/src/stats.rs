//! Statistics of docs/theory.md §3.1: exact Clopper–Pearson intervals and the supported / inconclusive / refuted / error verdict.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF};

/// The verdict on one claim or one event (docs/theory.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval's lower bound is at least the claimed probability (or, for a deterministic
    /// claim, no violation beyond numerical tolerance).
    Supported,
    /// The interval straddles the claimed probability: more seeds would decide.
    Inconclusive,
    /// The interval's upper bound is below the claimed probability (or a deterministic violation).
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

/// Exact two-sided Clopper–Pearson interval at confidence `confidence` for `k` successes out of
/// `trials`: [B(α/2; k, S−k+1), B(1−α/2; k+1, S−k)] with Beta quantiles B, and 0 / 1 at the ends.
pub fn clopper_pearson(k: u64, trials: u64, confidence: f64) -> (f64, f64) {
    assert!(trials > 0 && k <= trials, "clopper_pearson: need 0 ≤ k ≤ S, S > 0");
    assert!(confidence > 0.0 && confidence < 1.0, "clopper_pearson: confidence in (0, 1)");
    let alpha = 1.0 - confidence;
    let (k, s) = (k as f64, trials as f64);
    let lower = if k == 0.0 { 0.0 } else { Beta::new(k, s - k + 1.0).expect("shapes > 0").inverse_cdf(alpha / 2.0) };
    let upper =
        if k == s { 1.0 } else { Beta::new(k + 1.0, s - k).expect("shapes > 0").inverse_cdf(1.0 - alpha / 2.0) };
    (lower, upper)
}

/// Verdict for "P(E) ≥ target" from the interval (docs/theory.md §3.1).
pub fn probability_verdict(interval: (f64, f64), target: f64) -> Verdict {
    if interval.1 < target {
        Verdict::Refuted
    } else if interval.0 >= target {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    }
}

/// Median of a non-empty slice (mean of the two middle values for even length).
pub fn median(values: &[f64]) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k % 2 == 1 { v[k / 2] } else { 0.5 * (v[k / 2 - 1] + v[k / 2]) }
}

/// Mean and standard error of the mean (0 for a single value).
pub fn mean_and_standard_error(values: &[f64]) -> (f64, f64) {
    assert!(!values.is_empty(), "mean of nothing");
    let s = values.len() as f64;
    let mean = values.iter().sum::<f64>() / s;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (s - 1.0);
    (mean, (var / s).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known values: k = 0 of 10 (upper 1 − 0.025^{1/10} = 0.3085), k = 10 of 10, k = 5 of 10
    /// (R's binom.test: 0.1871, 0.8129), k = 3 of 20 (0.0321, 0.3789).
    #[test]
    fn clopper_pearson_against_known_values() {
        let check = |k, s, lo: f64, hi: f64| {
            let (l, h) = clopper_pearson(k, s, 0.95);
            assert!((l - lo).abs() < 5e-5 && (h - hi).abs() < 5e-5, "k={k} S={s}: ({l}, {h}) vs ({lo}, {hi})");
        };
        check(0, 10, 0.0, 0.3085);
        check(10, 10, 0.6915, 1.0);
        check(5, 10, 0.1871, 0.8129);
        check(3, 20, 0.0321, 0.3789);
        let (_, h) = clopper_pearson(0, 10, 0.95);
        assert!((h - (1.0 - 0.025f64.powf(0.1))).abs() < 1e-12);
    }

    #[test]
    fn verdicts_follow_the_interval() {
        assert_eq!(probability_verdict(clopper_pearson(100, 100, 0.95), 0.9), Verdict::Supported);
        assert_eq!(probability_verdict(clopper_pearson(10, 10, 0.95), 0.9), Verdict::Inconclusive);
        assert_eq!(probability_verdict(clopper_pearson(50, 100, 0.95), 0.9), Verdict::Refuted);
        assert_eq!(Verdict::combine([Verdict::Supported, Verdict::Inconclusive]), Verdict::Inconclusive);
        assert_eq!(Verdict::combine([Verdict::Supported, Verdict::Refuted]), Verdict::Refuted);
        assert_eq!(Verdict::combine([]), Verdict::Inconclusive);
        assert_eq!(Verdict::combine([Verdict::Refuted, Verdict::Error]), Verdict::Error);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
