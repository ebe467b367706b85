//! Exponent fits of docs/theory.md §6: log m* = α x + β (x = log n, log 1/δ or log 1/λ0) by interval
//! regression over threshold intervals, widened by a Student-t term for the scatter about the
//! line, with a stated joint level.
//!
//! The least-squares slope is linear in the responses, α = Σ_k w_k y_k with
//! w_k = (x_k − x̄)/Σ_j (x_j − x̄)². When each threshold m*_k is only known to lie in an interval
//! [ℓ_k, u_k], the least-squares slopes of every choice y_k ∈ [log ℓ_k, log u_k] form the interval
//! [Σ w_k (w_k > 0 ? log ℓ_k : log u_k), Σ w_k (w_k > 0 ? log u_k : log ℓ_k)] (the *box*); it
//! contains the least-squares slope of the true thresholds whenever every threshold interval
//! covers its m*. Searched at α_s/k each, the k intervals cover jointly with probability
//! ≥ 1 − α_s. The true thresholds scatter about a power law (log factors, the data drawn at each
//! n): with k ≥ 3 points the box is widened on each side by t_{k−2, (1+c)/2} · s/√Sxx, s² the mean
//! squared residual of the fit through the interval midpoints. The interval for α then holds with
//! probability ≥ 1 − α_s − (1 − c): the *joint level* ([`joint_confidence`]) that every exponent
//! states. An end is open when a threshold interval it needs is open (no supported width).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::search::Interval;

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

/// The joint level of an exponent's interval: 1 − (the searches' total error) − (1 − the t term's
/// confidence).
pub fn joint_confidence(searches_error: f64, t_confidence: f64) -> f64 {
    1.0 - searches_error - (1.0 - t_confidence)
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
        StudentsT::new(0.0, 1.0, (k - 2) as f64).map_or(f64::INFINITY, |d| d.inverse_cdf((1.0 + confidence) / 2.0))
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

/// One point of a two-regressor fit: (x₁, x₂) and the interval [lower, upper] for log m*.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitPoint2 {
    /// The regressors, e.g. (log n, log 1/λ0).
    pub x: [f64; 2],
    /// Lower end of log m*.
    pub lower: f64,
    /// Upper end of log m*, none when no width was supported.
    pub upper: Option<f64>,
}

/// Fits log m* = α₁ x₁ + α₂ x₂ + β by interval regression, each coefficient as [`fit_exponent`]
/// fits its one: the least-squares coefficients are linear in the responses, c_j = Σ_k W_jk y_k
/// with W = (XᵀX)⁻¹Xᵀ, so over every choice y_k ∈ [lower_k, upper_k] they fill the box
/// [Σ_k W_jk (W_jk > 0 ? lower_k : upper_k), Σ_k W_jk (W_jk > 0 ? upper_k : lower_k)]; with k ≥ 4
/// points each box is widened by t_{k−3, (1+c)/2} · s √((XᵀX)⁻¹_jj), s² the mean squared residual
/// (k − 3 degrees of freedom) of the fit through the midpoints. Each interval then holds at
/// 1 − α_s − (1 − c), both together at 1 − α_s − 2(1 − c). None with fewer than three points or
/// regressors that do not vary independently (XᵀX singular to rounding).
pub fn fit_exponents2(points: &[FitPoint2], confidence: f64) -> Option<[ExponentFit; 2]> {
    let k = points.len();
    if k < 3 {
        return None;
    }
    let row = |p: &FitPoint2| [1.0, p.x[0], p.x[1]];
    let mut a = [[0.0f64; 3]; 3];
    for p in points {
        let r = row(p);
        for i in 0..3 {
            for j in 0..3 {
                a[i][j] += r[i] * r[j];
            }
        }
    }
    let inv = invert3(&a)?;
    // W = (XᵀX)⁻¹Xᵀ, one column per point.
    let w: Vec<[f64; 3]> = points
        .iter()
        .map(|p| {
            let r = row(p);
            let mut c = [0.0; 3];
            for (i, ci) in c.iter_mut().enumerate() {
                *ci = (0..3).map(|j| inv[i][j] * r[j]).sum();
            }
            c
        })
        .collect();
    let mids: Option<Vec<f64>> = points.iter().map(|p| p.upper.map(|u| (p.lower + u) / 2.0)).collect();
    let coefficients = mids.as_ref().map(|ys| {
        let mut b = [0.0; 3];
        for (wk, y) in w.iter().zip(ys) {
            for i in 0..3 {
                b[i] += wk[i] * y;
            }
        }
        b
    });
    let s = match (&mids, coefficients) {
        (Some(ys), Some(b)) if k >= 4 => {
            let rss: f64 = points.iter().zip(ys).map(|(p, y)| (y - b[0] - b[1] * p.x[0] - b[2] * p.x[1]).powi(2)).sum();
            (rss / (k - 3) as f64).sqrt()
        }
        _ => 0.0,
    };
    let t = if k >= 4 {
        StudentsT::new(0.0, 1.0, (k - 3) as f64).map_or(f64::INFINITY, |d| d.inverse_cdf((1.0 + confidence) / 2.0))
    } else {
        0.0
    };
    let fit = |j: usize| {
        let mut lo = Some(0.0);
        let mut hi = Some(0.0);
        for (p, wk) in points.iter().zip(&w) {
            let wj = wk[j];
            if wj == 0.0 {
                continue;
            }
            let (at_low, at_high) = if wj > 0.0 { (Some(p.lower), p.upper) } else { (p.upper, Some(p.lower)) };
            lo = lo.zip(at_low).map(|(a, y)| a + wj * y);
            hi = hi.zip(at_high).map(|(a, y)| a + wj * y);
        }
        let se = s * inv[j][j].max(0.0).sqrt();
        let widen = t * se;
        ExponentFit {
            points: k,
            slope: coefficients.map(|b| b[j]),
            intercept: coefficients.map(|b| b[0]),
            slope_box: Interval { lower: lo, upper: hi },
            standard_error: se,
            t,
            confidence,
            interval: Interval { lower: lo.map(|a| a - widen), upper: hi.map(|b| b + widen) },
        }
    };
    Some([fit(1), fit(2)])
}

/// The inverse of a symmetric positive 3 × 3 matrix by cofactors; none when its determinant is
/// below 10⁻¹² of the product of its diagonal (regressors that do not vary independently).
fn invert3(a: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |i: usize, j: usize| {
        let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
        let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
        a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]
    };
    let det = a[0][0] * c(0, 0) + a[0][1] * c(0, 1) + a[0][2] * c(0, 2);
    let scale = a[0][0] * a[1][1] * a[2][2];
    if !(det.is_finite() && scale > 0.0 && det > 1e-12 * scale) {
        return None;
    }
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = c(j, i) / det;
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InferenceError;
    use crate::search::{SearchConfig, planted_outcome, search, uniform};
    use crate::verdict::Target;

    fn normal(a: u64, b: u64) -> f64 {
        let (u1, u2) = (uniform(a, b, 1), uniform(a, b, 2));
        (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos() // Box–Muller
    }

    /// Thresholds m* = A·n^α·e^{σz} bracketed by a geometric grid of ratio √2 with a random offset:
    /// the t term alone covers α at its confidence, and the interval is no wider than it must be.
    #[test]
    fn the_fit_recovers_a_planted_exponent() {
        let (a, alpha, sigma) = (30.0f64, 1.5f64, 0.15f64);
        let ns = [4.0f64, 8.0, 16.0, 32.0, 64.0];
        let step = 2f64.sqrt().ln();
        let reps = 400u64;
        let mut covered = 0;
        let mut widths = Vec::new();
        for rep in 0..reps {
            let offset = uniform(rep, 99, 0);
            let points: Vec<FitPoint> = ns
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let y = a.ln() + alpha * n.ln() + sigma * normal(rep, i as u64);
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
        assert!(covered >= 380, "{covered} of {reps} intervals cover α = {alpha}");
        widths.sort_by(f64::total_cmp);
        let median = widths[widths.len() / 2];
        assert!(median < 1.5, "median interval width {median}: too wide to say anything");
    }

    /// The whole pipeline at its stated joint level: a planted law m*_k = A n_k^α e^{σ z_k} at
    /// n = 4 … 64, each threshold found by the search (at α_s/k) from Bernoulli seeds whose success
    /// probability crosses 1 − δ exactly at m*_k, then the fit with its t term at 1 − α_t. The
    /// exponent interval must cover α in at least 1 − α_s − α_t = 95% of 400 repetitions (the
    /// stated level; the observed coverage is printed by `--nocapture`).
    #[test]
    fn the_pipeline_covers_a_planted_exponent_at_its_joint_level() {
        let (a, alpha, sigma, delta) = (20.0f64, 1.5f64, 0.2f64, 0.1f64);
        let ns = [4.0f64, 8.0, 16.0, 32.0, 64.0];
        let (searches_error, t_confidence) = (0.025, 0.975);
        let stated = joint_confidence(searches_error, t_confidence);
        assert!((stated - 0.95).abs() < 1e-12);
        let k = ns.len() as f64;
        let cfg = SearchConfig {
            start: 64,
            ratio: 2.0,
            min_width: 1,
            max_width: 1 << 22,
            bisection_steps: 3,
            looks: vec![100, 200, 400, 800, 1600],
            error_rate: searches_error / k,
        };
        let reps = 400u64;
        let mut covered = 0u64;
        let mut widths = Vec::new();
        for rep in 0..reps {
            let points: Vec<FitPoint> = ns
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let m_star = a * n.powf(alpha) * (sigma * normal(rep + 1000, i as u64)).exp();
                    let c = delta * m_star;
                    let run = rep * 16 + i as u64;
                    let mut oracle = |m: usize, trials: std::ops::Range<u64>| -> Result<_, InferenceError> {
                        Ok(trials.map(|t| planted_outcome(run, c, m, t)).collect())
                    };
                    let s = search(&cfg, Target::Probability(1.0 - delta), &mut oracle).unwrap();
                    let lower = s.threshold.lower.map_or(0.0, |l| (l as f64).ln());
                    FitPoint { x: n.ln(), lower, upper: s.threshold.upper.map(|u| (u as f64).ln()) }
                })
                .collect();
            let fit = fit_exponent(&points, t_confidence).unwrap();
            let covers = fit.interval.lower.is_none_or(|l| l <= alpha) && fit.interval.upper.is_none_or(|u| alpha <= u);
            covered += u64::from(covers);
            if let (Some(l), Some(u)) = (fit.interval.lower, fit.interval.upper) {
                widths.push(u - l);
            }
        }
        let coverage = covered as f64 / reps as f64;
        println!("joint coverage {coverage} against the stated {stated}");
        assert!(coverage >= stated, "the exponent interval covers α in {covered} of {reps}: below the stated {stated}");
        widths.sort_by(f64::total_cmp);
        assert!(
            widths.len() as u64 == reps && widths[widths.len() / 2] < 2.0,
            "median width {:?}",
            widths.get(widths.len() / 2)
        );
    }

    /// The two-regressor fit on a planted law m* = A n^α λ0^{−β} e^{σz}, bracketed like the search's
    /// grid: each coefficient's interval covers its planted value at least at the t term's
    /// confidence over 400 repetitions, and exact data give the coefficients exactly.
    #[test]
    fn the_two_regressor_fit_recovers_both_planted_exponents() {
        let (a, alpha, beta, sigma) = (30.0f64, 1.5f64, 2.0f64, 0.15f64);
        let step = 2f64.sqrt().ln();
        let reps = 400u64;
        let (mut cover_n, mut cover_l) = (0, 0);
        for rep in 0..reps {
            let offset = uniform(rep, 77, 0);
            let points: Vec<FitPoint2> = (0..8u64)
                .map(|i| {
                    let n = [4.0f64, 8.0, 16.0, 32.0][i as usize % 4];
                    let inv_lambda0 = (uniform(rep, i, 5) * 5.0).exp() * 10.0; // 1/λ0 in [10, 1500]
                    let y = a.ln() + alpha * n.ln() + beta * inv_lambda0.ln() + sigma * normal(rep + 5000, i);
                    let j = ((y / step) - offset).floor();
                    FitPoint2 {
                        x: [n.ln(), inv_lambda0.ln()],
                        lower: (j + offset) * step,
                        upper: Some((j + 1.0 + offset) * step),
                    }
                })
                .collect();
            let [fn_, fl] = fit_exponents2(&points, 0.95).unwrap();
            let inside = |f: &ExponentFit, v: f64| f.interval.lower.unwrap() <= v && v <= f.interval.upper.unwrap();
            cover_n += u64::from(inside(&fn_, alpha));
            cover_l += u64::from(inside(&fl, beta));
        }
        assert!(cover_n >= 380 && cover_l >= 380, "coverage {cover_n} and {cover_l} of {reps}");
        let exact: Vec<FitPoint2> = [(1.0, 0.0), (2.0, 1.0), (3.0, 0.5), (1.5, 2.0)]
            .iter()
            .map(|&(x1, x2)| {
                let y = 0.5 + 2.0 * x1 - 1.0 * x2;
                FitPoint2 { x: [x1, x2], lower: y, upper: Some(y) }
            })
            .collect();
        let [f1, f2] = fit_exponents2(&exact, 0.95).unwrap();
        assert!((f1.slope.unwrap() - 2.0).abs() < 1e-12 && (f2.slope.unwrap() + 1.0).abs() < 1e-12);
        assert!((f1.interval.upper.unwrap() - 2.0).abs() < 1e-9 && (f2.interval.lower.unwrap() + 1.0).abs() < 1e-9);
        // Collinear regressors, or too few points: no fit. An open top opens the side it pushes.
        let collinear: Vec<FitPoint2> =
            [1.0, 2.0, 3.0, 4.0].iter().map(|&x| FitPoint2 { x: [x, 2.0 * x], lower: x, upper: Some(x) }).collect();
        assert!(fit_exponents2(&collinear, 0.95).is_none());
        assert!(fit_exponents2(&exact[..2], 0.95).is_none());
        let mut open = exact.clone();
        open[2].upper = None;
        let [f1, _] = fit_exponents2(&open, 0.95).unwrap();
        assert!(f1.interval.lower.is_none() || f1.interval.upper.is_none(), "{f1:?}");
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
