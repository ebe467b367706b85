//! Descriptive statistics of seed values (medians); every verdict, and the mean's standard error
//! it rests on, comes from the `inference` crate.

pub use inference::Verdict;

/// Median of a non-empty slice (mean of the two middle values for even length).
pub fn median(values: &[f64]) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let k = v.len();
    // Non-empty: asserted above, and the only caller (engine's slack median) checks slacks.is_empty() first.
    if k % 2 == 1 { v[k / 2] } else { 0.5 * (v[k / 2 - 1] + v[k / 2]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
