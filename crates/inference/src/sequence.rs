//! Anytime-valid bounds on a Bernoulli probability: the beta-binomial (Krichevsky–Trofimov)
//! mixture confidence sequence of docs/theory.md §3.6.
//!
//! For outcomes X₁, X₂, … i.i.d. Bernoulli(p) with S successes and F failures after t = S + F of
//! them, the mixture of the likelihood ratios q^S(1−q)^F / p^S(1−p)^F over the Jeffreys prior
//! q ~ Beta(½, ½) is
//!
//! M_t(p) = B(S + ½, F + ½) / (B(½, ½) · p^S (1 − p)^F),
//!
//! a non-negative martingale with mean 1 under p. By Ville's inequality P(∃t: M_t(p) ≥ 1/a) ≤ a,
//! so {p : M_t(p) < 1/a} holds the true p at *every* t at once with probability ≥ 1 − a. That set
//! is an interval [L_t, U_t] around S/t (−S ln p − F ln(1 − p) is convex in p). Because it is
//! valid uniformly over t, more seeds may be added after looking (`--resume` with more seeds,
//! another shard, a sequential look) without changing the level: no Bonferroni split over looks.
//!
//! A two-sided verdict at level α uses each side at a/2 = α/2 (see [`crate::verdict`]), so the
//! probability that a verdict is wrong is at most α whatever the true p.

use statrs::function::beta::ln_beta;

use crate::InferenceError;

/// ln M_t(p): the log of the mixture martingale at p for `successes` and `failures`.
pub fn log_mixture_ratio(successes: u64, failures: u64, p: f64) -> f64 {
    let (s, f) = (successes as f64, failures as f64);
    let log_lik = |x: f64, ln: f64| if x == 0.0 { 0.0 } else { x * ln };
    ln_beta(s + 0.5, f + 0.5) - ln_beta(0.5, 0.5) - log_lik(s, p.ln()) - log_lik(f, (1.0 - p).ln())
}

/// The one-sided anytime-valid bounds [L, U] on p at error `a` per side: with probability ≥ 1 − a
/// the true p is ≥ L at every t, and likewise ≤ U. L = 0 when S = 0, U = 1 when F = 0.
pub fn bounds(successes: u64, trials: u64, a: f64) -> Result<(f64, f64), InferenceError> {
    if trials == 0 || successes > trials {
        return Err(InferenceError::Counts { successes, trials });
    }
    if !(a > 0.0 && a < 1.0) {
        return Err(InferenceError::Level(a));
    }
    let failures = trials - successes;
    let threshold = (1.0 / a).ln();
    let p_hat = successes as f64 / trials as f64;
    let rejected = |p: f64| log_mixture_ratio(successes, failures, p) >= threshold;
    // Bisection between a rejected end and p̂ (never rejected: M_t(p̂) ≤ 1 < 1/a, since the mixture
    // is at most the likelihood at its maximum). 200 halvings reach the f64 grid of [0, 1].
    let solve = |mut out: f64, mut inside: f64| {
        for _ in 0..200 {
            let mid = 0.5 * (out + inside);
            if mid == out || mid == inside {
                break;
            }
            if rejected(mid) { out = mid } else { inside = mid }
        }
        inside
    };
    let lower = if successes == 0 { 0.0 } else { solve(0.0, p_hat) };
    let upper = if failures == 0 { 1.0 } else { solve(1.0, p_hat) };
    Ok((lower, upper))
}

/// The largest lower bound `trials` seeds can give, all succeeding: what a width tested with that
/// many seeds can support at most.
pub fn best_lower_bound(trials: u64, a: f64) -> Result<f64, InferenceError> {
    bounds(trials, trials, a).map(|(l, _)| l)
}

/// The fewest seeds, all succeeding, whose lower bound at error `a` reaches `target`; none when
/// no count can (target 1), or when more than `cap` would be needed.
pub fn seeds_to_support(target: f64, a: f64, cap: u64) -> Option<u64> {
    if target >= 1.0 {
        return None;
    }
    if target <= 0.0 {
        return Some(1);
    }
    let reaches = |s: u64| best_lower_bound(s, a).is_ok_and(|l| l >= target);
    // The best lower bound increases with S: double, then bisect.
    let mut hi = 1u64;
    while !reaches(hi) {
        if hi >= cap {
            return None;
        }
        hi = (hi * 2).min(cap);
    }
    let mut lo = hi / 2; // does not reach (or 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reaches(mid) { hi = mid } else { lo = mid }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binomial::clopper_pearson;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The mixture in closed form at S = t (all successes): B(t + ½, ½)/B(½, ½) = Γ(t + ½)/(√π Γ(t + 1)).
    #[test]
    fn the_mixture_matches_its_closed_form() {
        for t in [1u64, 5, 20, 200] {
            let closed = statrs::function::gamma::ln_gamma(t as f64 + 0.5)
                - 0.5 * std::f64::consts::PI.ln()
                - statrs::function::gamma::ln_gamma(t as f64 + 1.0);
            let p: f64 = 0.8;
            let want = closed - t as f64 * p.ln();
            assert!((log_mixture_ratio(t, 0, p) - want).abs() < 1e-12, "t = {t}");
        }
        // At S = 1 of 1 the lower bound solves Γ(1.5)/(√π Γ(2)) / p = 1/a, i.e. p = a/2.
        let (l, u) = bounds(1, 1, 0.05).unwrap();
        assert!((l - 0.025).abs() < 1e-12 && u == 1.0, "{l}");
    }

    /// The bounds contain the exact Clopper–Pearson interval at the same per-side error (a
    /// sequence pays for being valid at every look), and contain p̂.
    #[test]
    fn the_sequence_is_never_narrower_than_the_exact_interval() {
        for (k, s) in [(0u64, 10u64), (3, 20), (20, 20), (45, 50), (180, 200), (999, 1000)] {
            let (l, u) = bounds(k, s, 0.025).unwrap();
            let (cl, cu) = clopper_pearson(k, s, 0.95).unwrap();
            let p = k as f64 / s as f64;
            assert!(l <= cl + 1e-12 && u >= cu - 1e-12, "k={k} S={s}: ({l}, {u}) vs CP ({cl}, {cu})");
            assert!(l <= p && p <= u);
        }
        // 20 seeds, all succeeding, support at most 0.77 at a = 0.025 (the page's "undetermined").
        let best = best_lower_bound(20, 0.025).unwrap();
        assert!((0.70..0.80).contains(&best), "{best}");
        let need = seeds_to_support(0.9, 0.025, 1 << 20).unwrap();
        assert!(best_lower_bound(need, 0.025).unwrap() >= 0.9 && best_lower_bound(need - 1, 0.025).unwrap() < 0.9);
        assert_eq!(seeds_to_support(1.0, 0.025, 1000), None);
        assert_eq!(seeds_to_support(0.999999, 0.025, 1000), None, "more than the cap");
    }

    /// The planted-law check of the stated level: Bernoulli(p) outcomes watched after *every*
    /// seed up to 500; the lower bound ever exceeding p (or the upper ever falling below it) is
    /// what the sequence promises happens with probability ≤ a on each side. 2000 sequences at
    /// a = 0.05: more than 130 misses on a side has probability < 10⁻⁴ when the level holds.
    /// A fixed-look Clopper–Pearson interval watched the same way misses far more often, which is
    /// why the verdicts do not use it.
    #[test]
    fn the_sequence_holds_its_level_at_every_look() {
        let (a, runs, horizon) = (0.05, 2000u64, 500u64);
        for &p in &[0.3f64, 0.9, 0.97] {
            let (mut low_miss, mut high_miss, mut cp_miss) = (0, 0, 0);
            for run in 0..runs {
                let mut rng = ChaCha8Rng::seed_from_u64(run * 7 + (p * 1000.0) as u64);
                let (mut k, mut low, mut high, mut cp) = (0u64, false, false, false);
                for t in 1..=horizon {
                    k += u64::from(rng.random::<f64>() < p);
                    // Looks every 10 seeds keep the test fast; the claim holds at every t.
                    if t % 10 != 0 {
                        continue;
                    }
                    let (l, u) = bounds(k, t, a).unwrap();
                    low |= l > p;
                    high |= u < p;
                    let (cl, cu) = clopper_pearson(k, t, 1.0 - 2.0 * a).unwrap();
                    cp |= cl > p || cu < p;
                }
                low_miss += u64::from(low);
                high_miss += u64::from(high);
                cp_miss += u64::from(cp);
            }
            assert!(low_miss <= 130 && high_miss <= 130, "p = {p}: {low_miss}, {high_miss} of {runs}");
            assert!(cp_miss > low_miss + high_miss, "p = {p}: repeated CP looks miss {cp_miss}");
        }
    }
}
