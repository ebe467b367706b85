//! Exponent fits of docs/theory.md §6: log m* = α x + β (x = log n, log 1/δ or log 1/λ0) by interval regression over the threshold intervals, widened by a Student-t term for the scatter about the line.
//!
//! The least-squares slope is linear in the responses, α = Σ_k w_k y_k with
//! w_k = (x_k − x̄)/Σ_j (x_j − x̄)². When each threshold m*_k is only known to lie in an interval
//! [ℓ_k, u_k], the least-squares slopes of every choice y_k ∈ [log ℓ_k, log u_k] form the interval
//! [Σ w_k (w_k > 0 ? log ℓ_k : log u_k), Σ w_k (w_k > 0 ? log u_k : log ℓ_k)] (the *box*); it contains
//! the least-squares slope of the true thresholds whenever every threshold interval covers its
//! m* (probability ≥ 1 − Σ α_k by the searches' error rates). The true thresholds scatter about a
//! power law (log factors, the data drawn at each n): with k ≥ 3 points the box is widened on each
//! side by t_{k−2, (1+c)/2} · s/√Sxx, s² the mean squared residual of the fit through the interval
//! midpoints (which also contains the intervals' own widths, so the term is conservative). The
//! interval for α is then the box ± that term; an end is open when a threshold interval it needs
//! is open (no supported width).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::result::Interval;

/// One point of a fit: the regressor and the interval [lower, upper] for log m* (upper none: open).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitPoint {
    /// x (e.g. log n).
    pub x: f64,
    /// Lower end of log m*.
    pub lower: f64,
    /// Upper end of log m*, none when no width was supported.
    pub upper: Option<f64>,
}

/// A fitted exponent with its interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExponentFit {
    /// Number of points.
    pub points: usize,
    /// The slope through the interval midpoints (none when some interval is open).
    pub slope: Option<f64>,
    /// The intercept β through the midpoints.
    pub intercept: Option<f64>,
    /// The box: least-squares slopes over every choice inside the threshold intervals.
    pub slope_box: Interval,
    /// The residual standard error s/√Sxx of the midpoint slope (0 with two points).
    pub standard_error: f64,
    /// The Student-t quantile applied to it.
    pub t: f64,
    /// Confidence of the t term.
    pub confidence: f64,
    /// The interval for α: the box widened by t · standard error on each side.
    pub interval: Interval,
}

/// The least-squares slope and intercept of `ys` on `xs` (at least two distinct x).
pub fn least_squares(xs: &[f64], ys: &[f64]) -> (f64, f64) {
    let k = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / k, ys.iter().sum::<f64>() / k);
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    (slope, my - slope * mx)
}

/// Fits log m* = α x + β to the points (at least two with distinct x; none otherwise).
pub fn fit_exponent(points: &[FitPoint], confidence: f64) -> Option<ExponentFit> {
    let k = points.len();
    let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
    let mx = xs.iter().sum::<f64>() / k as f64;
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    if k < 2 || sxx.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let w: Vec<f64> = xs.iter().map(|x| (x - mx) / sxx).collect();
    let mut lo = Some(0.0);
    let mut hi = Some(0.0);
    for (p, &wk) in points.iter().zip(&w) {
        if wk == 0.0 {
            continue; // a point at x̄ does not move the slope, whatever its interval
        }
        let (at_low, at_high) = if wk > 0.0 { (Some(p.lower), p.upper) } else { (p.upper, Some(p.lower)) };
        lo = lo.zip(at_low).map(|(a, y)| a + wk * y);
        hi = hi.zip(at_high).map(|(a, y)| a + wk * y);
    }
    let mids: Option<Vec<f64>> = points.iter().map(|p| p.upper.map(|u| (p.lower + u) / 2.0)).collect();
    let (slope, intercept, se) = match &mids {
        Some(ys) => {
            let (a, b) = least_squares(&xs, ys);
            let se = if k >= 3 {
                let rss: f64 = xs.iter().zip(ys).map(|(x, y)| (y - a * x - b).powi(2)).sum();
                (rss / (k - 2) as f64).sqrt() / sxx.sqrt()
            } else {
                0.0
            };
            (Some(a), Some(b), se)
        }
        None => (None, None, 0.0),
    };
    let t = if k >= 3 {
        StudentsT::new(0.0, 1.0, (k - 2) as f64).expect("k − 2 ≥ 1").inverse_cdf((1.0 + confidence) / 2.0)
    } else {
        0.0
    };
    let widen = t * se;
    Some(ExponentFit {
        points: k,
        slope,
        intercept,
        slope_box: Interval { lower: lo, upper: hi },
        standard_error: se,
        t,
        confidence,
        interval: Interval { lower: lo.map(|a| a - widen), upper: hi.map(|b| b + widen) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// Thresholds m* = A·n^α·e^{σz} bracketed by a geometric grid of ratio √2 with a random offset
    /// (the interval a search with that grid reports): the interval covers α at its confidence over
    /// repetitions, and is no wider than it must be.
    #[test]
    fn the_fit_recovers_a_planted_exponent() {
        let (a, alpha, sigma) = (30.0f64, 1.5f64, 0.15f64);
        let ns = [4.0f64, 8.0, 16.0, 32.0, 64.0];
        let step = 2f64.sqrt().ln();
        let reps = 400u64;
        let mut covered = 0;
        let mut widths = Vec::new();
        for rep in 0..reps {
            let mut rng = model::rng::stream(rep, 0, model::rng::Purpose::Auxiliary);
            let offset: f64 = rng.random();
            let points: Vec<FitPoint> = ns
                .iter()
                .map(|&n| {
                    let (u1, u2): (f64, f64) = (rng.random(), rng.random());
                    let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos(); // Box–Muller
                    let y = a.ln() + alpha * n.ln() + sigma * z;
                    let j = ((y / step) - offset).floor();
                    FitPoint { x: n.ln(), lower: (j + offset) * step, upper: Some((j + 1.0 + offset) * step) }
                })
                .collect();
            let fit = fit_exponent(&points, 0.95).unwrap();
            let (lo, hi) = (fit.interval.lower.unwrap(), fit.interval.upper.unwrap());
            covered += u64::from(lo <= alpha && alpha <= hi);
            widths.push(hi - lo);
            assert!(
                fit.slope_box.lower.unwrap() <= fit.slope.unwrap()
                    && fit.slope.unwrap() <= fit.slope_box.upper.unwrap()
            );
        }
        // At 95% over 400 repetitions, fewer than 364 covering (91%) has probability < 10⁻³.
        assert!(covered >= 364, "{covered} of {reps} intervals cover α = {alpha}");
        widths.sort_by(f64::total_cmp);
        let median = widths[widths.len() / 2];
        assert!(median < 1.5, "median interval width {median}: too wide to say anything");
    }

    /// Exact data: the box is the point α; an open threshold opens the side it pushes.
    #[test]
    fn exact_points_give_the_exponent_and_open_intervals_open_the_fit() {
        let pts: Vec<FitPoint> = [1.0f64, 2.0, 3.0]
            .iter()
            .map(|&x| FitPoint { x, lower: 2.0 * x + 1.0, upper: Some(2.0 * x + 1.0) })
            .collect();
        let fit = fit_exponent(&pts, 0.95).unwrap();
        assert!((fit.slope.unwrap() - 2.0).abs() < 1e-12 && (fit.intercept.unwrap() - 1.0).abs() < 1e-12);
        assert!((fit.interval.lower.unwrap() - 2.0).abs() < 1e-9 && (fit.interval.upper.unwrap() - 2.0).abs() < 1e-9);
        let mut open = pts.clone();
        open[2].upper = None;
        let fit = fit_exponent(&open, 0.95).unwrap();
        assert_eq!(fit.interval.upper, None, "the last point's open top leaves α unbounded above");
        assert!(fit.interval.lower.is_some());
        open[0].upper = None;
        let fit = fit_exponent(&open, 0.95).unwrap();
        assert_eq!((fit.interval.lower, fit.interval.upper), (None, None));
        assert!(fit_exponent(&pts[..1], 0.95).is_none());
    }
}
