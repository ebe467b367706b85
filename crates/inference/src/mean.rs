//! The rule for expectations: a mean over seeds against the value a claim states for it
//! (e.g. E B ≤ 4n²R/√(2π), Lem 2.3's expected flip count).
//!
//! A mean is refuted when it lies more than [`EXPECTATION_Z`] standard errors on the wrong side of
//! its reference, and supported when the whole ±z·se band lies on the right side; in between it is
//! inconclusive. With z = 4 a true claim is refuted with probability about 3·10⁻⁵ for a normal
//! mean (docs/theory.md §3.1); the seeds' values are independent by construction.

use serde::{Deserialize, Serialize};

use crate::Verdict;

/// Standard errors beyond which a mean contradicts its reference.
pub const EXPECTATION_Z: f64 = 4.0;

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
    /// Only reported (a margin or rate), compared with nothing.
    Report,
}

/// Mean and standard error of the mean (0 for a single value); `None` for no values.
pub fn mean_and_standard_error(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let s = values.len() as f64;
    let mean = values.iter().sum::<f64>() / s;
    if values.len() < 2 {
        return Some((mean, 0.0));
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (s - 1.0);
    Some((mean, (var / s).sqrt()))
}

/// The verdict on a mean with standard error `se` (already floored by the caller's numerical
/// band) against `reference` under `relation`; `Report` gets none.
pub fn decide_mean(mean: f64, se: f64, reference: f64, relation: Relation) -> Option<Verdict> {
    let z = EXPECTATION_Z * se;
    Some(match relation {
        Relation::Report => return None,
        Relation::AtMost if mean - z > reference => Verdict::Refuted,
        Relation::AtMost if mean + z <= reference => Verdict::Supported,
        Relation::AtLeast if mean + z < reference => Verdict::Refuted,
        Relation::AtLeast if mean - z >= reference => Verdict::Supported,
        Relation::Equal if (mean - reference).abs() > z + 1e-12 * reference.abs() => Verdict::Refuted,
        Relation::Equal => Verdict::Supported,
        _ => Verdict::Inconclusive,
    })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Exp1};

    use super::*;

    #[test]
    fn means_and_standard_errors() {
        assert_eq!(mean_and_standard_error(&[]), None);
        assert_eq!(mean_and_standard_error(&[3.0]), Some((3.0, 0.0)));
        let (m, se) = mean_and_standard_error(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(m, 2.5);
        assert!((se - (5.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn the_rule_reads_each_relation_the_right_way() {
        use Verdict::*;
        assert_eq!(decide_mean(1.0, 0.1, 2.0, Relation::AtMost), Some(Supported));
        assert_eq!(decide_mean(3.0, 0.1, 2.0, Relation::AtMost), Some(Refuted));
        assert_eq!(decide_mean(2.1, 0.1, 2.0, Relation::AtMost), Some(Inconclusive));
        assert_eq!(decide_mean(3.0, 0.1, 2.0, Relation::AtLeast), Some(Supported));
        assert_eq!(decide_mean(1.0, 0.1, 2.0, Relation::AtLeast), Some(Refuted));
        assert_eq!(decide_mean(2.3, 0.1, 2.0, Relation::Equal), Some(Supported));
        assert_eq!(decide_mean(2.5, 0.1, 2.0, Relation::Equal), Some(Refuted));
        assert_eq!(decide_mean(2.5, 0.1, 2.0, Relation::Report), None);
    }

    /// A planted law: exponential values (skewed, so the normal approximation is not exact) with
    /// mean exactly the reference. Over 4000 repetitions of 30 seeds the "≤" claim, true at its
    /// boundary, is never refuted (the nominal rate is about 3·10⁻⁵), and a mean four times it is
    /// refuted in at least a quarter of them.
    #[test]
    fn a_true_mean_at_its_boundary_is_not_refuted_and_a_false_one_is() {
        let mut rng = ChaCha8Rng::seed_from_u64(23);
        let (mut wrong, mut caught) = (0, 0);
        for _ in 0..4000 {
            let v: Vec<f64> = (0..30).map(|_| Exp1.sample(&mut rng)).collect();
            let (m, se) = mean_and_standard_error(&v).unwrap();
            wrong += usize::from(decide_mean(m, se, 1.0, Relation::AtMost) == Some(Verdict::Refuted));
            let shifted: Vec<f64> = v.iter().map(|x| 4.0 * x).collect();
            let (m, se) = mean_and_standard_error(&shifted).unwrap();
            caught += usize::from(decide_mean(m, se, 1.0, Relation::AtMost) == Some(Verdict::Refuted));
        }
        assert!(wrong <= 4, "{wrong} refutations of a true mean in 4000");
        assert!(caught >= 1000, "{caught} refutations of a false mean in 4000");
    }
}
