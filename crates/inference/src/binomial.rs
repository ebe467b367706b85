//! Exact binomial bounds for one look at a fixed seed count: Clopper–Pearson intervals.
//!
//! These are valid only when the number of seeds S is fixed before any outcome is seen. Every
//! verdict of the project uses the anytime-valid bounds of [`crate::sequence`] instead; the exact
//! interval stays as the reference a confidence sequence is compared with (it is never wider) and
//! for the Monte Carlo checks of the inference itself.

use statrs::distribution::{Beta, ContinuousCDF};

use crate::InferenceError;

/// Exact two-sided Clopper–Pearson interval at confidence `confidence` for `k` successes out of
/// `trials`: [B(α/2; k, S−k+1), B(1−α/2; k+1, S−k)] with Beta quantiles B, and 0 / 1 at the ends.
pub fn clopper_pearson(k: u64, trials: u64, confidence: f64) -> Result<(f64, f64), InferenceError> {
    if trials == 0 || k > trials {
        return Err(InferenceError::Counts { successes: k, trials });
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(InferenceError::Level(1.0 - confidence));
    }
    let alpha = 1.0 - confidence;
    let (k, s) = (k as f64, trials as f64);
    let quantile =
        |a: f64, b: f64, q: f64| Beta::new(a, b).map(|d| d.inverse_cdf(q)).map_err(|_| InferenceError::Numerical);
    let lower = if k == 0.0 { 0.0 } else { quantile(k, s - k + 1.0, alpha / 2.0)? };
    let upper = if k == s { 1.0 } else { quantile(k + 1.0, s - k, 1.0 - alpha / 2.0)? };
    Ok((lower, upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known values: k = 0 of 10 (upper 1 − 0.025^{1/10} = 0.3085), k = 10 of 10, k = 5 of 10
    /// (R's binom.test: 0.1871, 0.8129), k = 3 of 20 (0.0321, 0.3789).
    #[test]
    fn clopper_pearson_against_known_values() {
        let check = |k, s, lo: f64, hi: f64| {
            let (l, h) = clopper_pearson(k, s, 0.95).unwrap();
            assert!((l - lo).abs() < 5e-5 && (h - hi).abs() < 5e-5, "k={k} S={s}: ({l}, {h}) vs ({lo}, {hi})");
        };
        check(0, 10, 0.0, 0.3085);
        check(10, 10, 0.6915, 1.0);
        check(5, 10, 0.1871, 0.8129);
        check(3, 20, 0.0321, 0.3789);
        let (_, h) = clopper_pearson(0, 10, 0.95).unwrap();
        assert!((h - (1.0 - 0.025f64.powf(0.1))).abs() < 1e-12);
        assert!(clopper_pearson(3, 2, 0.95).is_err());
        assert!(clopper_pearson(0, 0, 0.95).is_err());
        assert!(clopper_pearson(1, 2, 1.0).is_err());
    }
}
