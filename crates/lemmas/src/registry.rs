//! A registry of published width bounds for two-layer ReLU nets: source, exact quotation and log10 width of each.
//!
//! Each entry of [`BOUNDS`] is one theorem: who proved it, what it assumes (which layer is
//! trained, the initialisation, the data and labels, flow or GD and its step), the statement quoted
//! exactly, whether its constants are explicit or only an order, and its width as a function of
//! (n, λ0, δ, d), returned as log10 so that no width overflows. Adding a bound is adding one entry.
//! [`local_slopes`] gives the local exponents d log m / d log n, d log m / d log(1/λ0) and
//! d log m / d log(1/δ) of an entry at a point, for setting beside the exponents the scaling sweeps
//! measure.
//!
//! Only statements read in a transcription of the paper are registered; docs/theory.md §6 lists
//! them in a table with their quotations. Du et al.'s widths with this project's explicit constants are in
//! [`crate::bounds`] (`proof_width_spec`, `log10_thm21_proof_width`, `log10_thm31_proof_width`):
//! the entries here carry the paper's order with the implicit constant set to 1.

use crate::error::LemmaError;

/// Whether the paper states the constants of its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constants {
    /// Every constant is stated: the registered width is the paper's.
    Explicit,
    /// The width is stated up to an unnamed constant (Ω, O): the registered width sets it to 1.
    OrderOnly,
}

/// Which weights the training moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trained {
    /// The first layer W; the output weights a stay at their initial values.
    FirstLayer,
    /// Both W and a.
    BothLayers,
}

/// The training dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamics {
    /// Gradient flow, dW/dt = −∂L/∂W.
    GradientFlow,
    /// Gradient descent with a fixed step, W(k+1) = W(k) − η ∂L/∂W.
    GradientDescent,
}

/// A point (n, λ0, δ, d) at which a width is evaluated.
///
/// n is taken as a real ≥ 1 so that a width can be differentiated in it; δ is the failure
/// probability of the statements registered so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Number of training points, ≥ 1.
    pub n: f64,
    /// λ0 = λmin(H∞) > 0.
    pub lambda0: f64,
    /// Failure probability, in (0, 1).
    pub delta: f64,
    /// Input dimension, ≥ 1 (no registered width uses it yet).
    pub d: f64,
}

impl Point {
    /// The point, or the first coordinate outside its domain (NaN and ±∞ included).
    pub fn validate(self) -> Result<Point, LemmaError> {
        let bad = |name: &'static str, value: f64, reason: &str| {
            Err(LemmaError::Config { name, value: value.to_string(), reason: reason.to_string() })
        };
        // Each test is written so that NaN fails it.
        if !(self.n.is_finite() && self.n >= 1.0) {
            return bad("n", self.n, "the number of points must be a finite number ≥ 1");
        }
        if !(self.lambda0.is_finite() && self.lambda0 > 0.0) {
            return bad("lambda0", self.lambda0, "λ0 must be finite and > 0");
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return bad("delta", self.delta, "δ must lie in (0, 1)");
        }
        if !(self.d.is_finite() && self.d >= 1.0) {
            return bad("d", self.d, "the dimension must be a finite number ≥ 1");
        }
        Ok(self)
    }
}

/// Where a bound was published.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// Authors, as on the paper.
    pub authors: &'static str,
    /// Year of the version cited.
    pub year: u16,
    /// Title.
    pub title: &'static str,
    /// Venue and arXiv identifier.
    pub venue: &'static str,
}

impl Source {
    /// The first author's surname with "et al." when there are more, e.g. "Du et al.".
    pub fn authors_short(&self) -> String {
        let mut names = self.authors.split(',').map(str::trim);
        let first = names.next().unwrap_or("").rsplit(' ').next().unwrap_or("").to_string();
        if names.next().is_some() { format!("{first} et al.") } else { first }
    }
}

/// What a bound assumes.
#[derive(Debug, Clone, Copy)]
pub struct Assumptions {
    /// Which layer is trained.
    pub trained: Trained,
    /// Initialisation and its scale.
    pub init: &'static str,
    /// Conditions on the inputs (norms, λ0 > 0 or a separation).
    pub data: &'static str,
    /// Conditions on the labels.
    pub labels: &'static str,
    /// Flow or GD.
    pub dynamics: Dynamics,
    /// The step size GD needs ("none" for a flow).
    pub step_size: &'static str,
}

/// One published width bound.
#[derive(Debug, Clone, Copy)]
pub struct PublishedBound {
    /// Unique key, e.g. "dzps19-thm3.2".
    pub key: &'static str,
    /// The paper.
    pub source: Source,
    /// Theorem number in the paper, e.g. "Thm 3.2".
    pub theorem: &'static str,
    /// What it assumes.
    pub assumptions: Assumptions,
    /// The statement, quoted exactly from the source (docs/theory.md §6 says how math is typeset).
    pub statement: &'static str,
    /// The width as the statement gives it.
    pub width_formula: &'static str,
    /// Whether the width's constants are stated.
    pub constants: Constants,
    /// log10 of the width at (n, λ0, δ, d), for inputs that [`Point::validate`] accepts; order-only
    /// widths take their implicit constant as 1.
    pub log10_width: fn(n: f64, lambda0: f64, delta: f64, d: f64) -> f64,
}

impl PublishedBound {
    /// log10 of the width at `p`, or an error when `p` is outside the domain or the width is not
    /// finite there.
    pub fn log10_width_at(&self, p: Point) -> Result<f64, LemmaError> {
        let p = p.validate()?;
        let value = (self.log10_width)(p.n, p.lambda0, p.delta, p.d);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(LemmaError::Config {
                name: "width",
                value: value.to_string(),
                reason: format!("{}'s log10 width is not finite at {p:?}", self.key),
            })
        }
    }
}

/// log10 of Du et al.'s order n⁶/(λ0⁴δ³), implicit constant 1 (the same as
/// [`crate::bounds::log10_thm31_width_order`], for a real n).
fn log10_dzps19_order(n: f64, lambda0: f64, delta: f64, _d: f64) -> f64 {
    6.0 * n.log10() - 4.0 * lambda0.log10() - 3.0 * delta.log10()
}

/// Du, Zhai, Póczos, Singh, Thm 3.2 (gradient flow, first layer). Thm 4.1 shares its assumptions.
const DZPS19_THM32: PublishedBound = PublishedBound {
    key: "dzps19-thm3.2",
    source: Source {
        authors: "S. S. Du, X. Zhai, B. Póczos, A. Singh",
        year: 2019,
        title: "Gradient Descent Provably Optimizes Over-parameterized Neural Networks",
        venue: "ICLR 2019, arXiv:1810.02054",
    },
    theorem: "Thm 3.2",
    assumptions: Assumptions {
        trained: Trained::FirstLayer,
        init: "w_r(0) ∼ N(0, I), a_r ∼ unif{−1, 1}; a fixed",
        data: "‖x_i‖₂ = 1; λ0 = λmin(H∞) > 0 (Assumption 3.1; no two inputs parallel suffices, Thm 3.1)",
        labels: "|y_i| ≤ C for some constant C",
        dynamics: Dynamics::GradientFlow,
        step_size: "none (flow)",
    },
    statement: "Theorem 3.2 (Convergence Rate of Gradient Flow). Suppose Assumption 3.1 holds and for all \
                i ∈ [n], ‖x_i‖₂ = 1 and |y_i| ≤ C for some constant C. Then if we set the number of hidden \
                nodes […], then with probability at least 1 − δ over the initialization, we have […] \
                The number of hidden nodes m required is Ω(n⁶/(λ0⁴δ³)), which depends on the number of \
                samples n, λ0, and the failure probability δ.",
    width_formula: "m = Ω(n⁶/(λ0⁴δ³))",
    constants: Constants::OrderOnly,
    log10_width: log10_dzps19_order,
};

/// The published bounds, one entry each.
pub static BOUNDS: &[PublishedBound] = &[
    DZPS19_THM32,
    PublishedBound {
        key: "dzps19-thm4.1",
        theorem: "Thm 4.1",
        assumptions: Assumptions {
            dynamics: Dynamics::GradientDescent,
            step_size: "η = O(λ0/n²)",
            ..DZPS19_THM32.assumptions
        },
        statement: "Theorem 4.1 (Convergence Rate of Gradient Descent). Under the same assumptions as in \
                    Theorem 3.2. if we set the number of hidden nodes m = Ω(n⁶/(λ0⁴δ³)), we i.i.d. initialize \
                    w_r ∼ N(0, I), a_r ∼ unif[{−1, 1}] for r ∈ [m], and we set the step size η = O(λ0/n²) \
                    then with probability at least 1 − δ over the random initialization we have for \
                    k = 0, 1, 2, … ‖u(k) − y‖₂² ≤ (1 − ηλ0/2)^k ‖u(0) − y‖₂²",
        ..DZPS19_THM32
    },
];

/// The least-squares slope of ln(width) of `bound` against x over `points` (x, point): the bound's
/// local exponent along a series, the way the pages fit the measured thresholds and the proof's
/// widths (λ0 and δ moving with the points as they do in the series). None with fewer than two
/// distinct x, or where the width is undefined at a point.
pub fn series_slope(bound: &PublishedBound, points: &[(f64, Point)]) -> Option<f64> {
    let xs: Vec<f64> = points.iter().map(|(x, _)| *x).collect();
    let first = *xs.first()?;
    if !xs.iter().any(|x| (x - first).abs() > 1e-12) {
        return None;
    }
    let ys: Vec<f64> = points
        .iter()
        .map(|(_, p)| bound.log10_width_at(*p).ok().map(|l| l * std::f64::consts::LN_10))
        .collect::<Option<_>>()?;
    Some(inference::fit::least_squares(&xs, &ys).0)
}

/// The entry with this key.
pub fn find(key: &str) -> Option<&'static PublishedBound> {
    BOUNDS.iter().find(|b| b.key == key)
}

/// Step of the central differences of [`local_slopes`], in decades (log10 units) of the variable:
/// exact for a power law up to rounding (about 10⁻¹⁰ for log-widths below 10³), and within about
/// 10⁻⁹ of the derivative when the width carries logarithmic factors.
pub const SLOPE_STEP_DECADES: f64 = 1e-4;

/// The local exponents of a width at a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slopes {
    /// d log m / d log n.
    pub n: f64,
    /// d log m / d log(1/λ0).
    pub inv_lambda0: f64,
    /// d log m / d log(1/δ).
    pub inv_delta: f64,
}

/// The local exponents of `bound`'s width at `p`, by central differences in log10 of each variable
/// with step [`SLOPE_STEP_DECADES`]: (L(x·10^h) − L(x·10^−h))/(2h), L = log10 width, the sign flipped
/// for 1/λ0 and 1/δ. `p` must be valid; the shifted points need not be (δ·10^h may exceed 1), since
/// a width formula is defined for every positive argument.
pub fn local_slopes(bound: &PublishedBound, p: Point) -> Result<Slopes, LemmaError> {
    bound.log10_width_at(p)?;
    let f = bound.log10_width;
    let h = SLOPE_STEP_DECADES;
    let (up, down) = (10f64.powf(h), 10f64.powf(-h));
    let slope = |hi: f64, lo: f64| (hi - lo) / (2.0 * h);
    let slopes = Slopes {
        n: slope(f(p.n * up, p.lambda0, p.delta, p.d), f(p.n * down, p.lambda0, p.delta, p.d)),
        inv_lambda0: -slope(f(p.n, p.lambda0 * up, p.delta, p.d), f(p.n, p.lambda0 * down, p.delta, p.d)),
        inv_delta: -slope(f(p.n, p.lambda0, p.delta * up, p.d), f(p.n, p.lambda0, p.delta * down, p.d)),
    };
    if [slopes.n, slopes.inv_lambda0, slopes.inv_delta].iter().all(|s| s.is_finite()) {
        Ok(slopes)
    } else {
        Err(LemmaError::Config {
            name: "width",
            value: format!("{slopes:?}"),
            reason: format!("{}'s local slopes are not finite at {p:?}", bound.key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Along a series over ln n at fixed λ0 and δ the slope is the bound's n-exponent, 6; with λ0
    /// falling as 1/n along the series it is 6 + 4 = 10; with one distinct x there is none.
    #[test]
    fn a_bounds_slope_along_a_series_follows_its_formula() {
        let at = |n: f64, lambda0: f64| (n.ln(), Point { n, lambda0, delta: 0.1, d: 3.0 });
        let bound = &BOUNDS[0];
        let fixed: Vec<_> = [4.0, 8.0, 16.0, 32.0].iter().map(|&n| at(n, 0.05)).collect();
        assert!((series_slope(bound, &fixed).unwrap() - 6.0).abs() < 1e-12);
        let falling: Vec<_> = [4.0, 8.0, 16.0].iter().map(|&n| at(n, 0.2 / n)).collect();
        assert!((series_slope(bound, &falling).unwrap() - 10.0).abs() < 1e-12);
        assert_eq!(series_slope(bound, &[at(4.0, 0.05), at(4.0, 0.01)]), None);
        assert_eq!(series_slope(bound, &[at(4.0, 0.05), at(8.0, 0.0)]), None, "λ0 = 0 has no width");
    }

    const TOL: f64 = 1e-8;

    fn point(n: f64, lambda0: f64, delta: f64) -> Point {
        Point { n, lambda0, delta, d: 10.0 }
    }

    /// Points spread over the domain, extremes included.
    fn points() -> Vec<Point> {
        let mut out = Vec::new();
        for n in [1.0, 2.0, 16.0, 1e3, 1e6] {
            for lambda0 in [1e-6, 0.01, 0.25, 0.5] {
                for delta in [1e-12, 0.01, 0.1, 0.9] {
                    out.push(point(n, lambda0, delta));
                }
            }
        }
        out
    }

    fn dzps19() -> [&'static PublishedBound; 2] {
        // Both keys are entries of BOUNDS above; a missing one is a failed test.
        [find("dzps19-thm3.2").expect("Thm 3.2 registered"), find("dzps19-thm4.1").expect("Thm 4.1 registered")]
    }

    #[test]
    fn dzps19_slopes_are_6_in_n_4_in_inverse_lambda0_and_3_in_inverse_delta_everywhere() {
        for b in dzps19() {
            for p in points() {
                let s = local_slopes(b, p).expect("a valid point");
                assert!((s.n - 6.0).abs() < TOL, "{} at {p:?}: slope in n {}", b.key, s.n);
                assert!((s.inv_lambda0 - 4.0).abs() < TOL, "{} at {p:?}: slope in 1/λ0 {}", b.key, s.inv_lambda0);
                assert!((s.inv_delta - 3.0).abs() < TOL, "{} at {p:?}: slope in 1/δ {}", b.key, s.inv_delta);
            }
        }
    }

    #[test]
    fn dzps19_width_is_the_order_with_constant_one() {
        for b in dzps19() {
            assert_eq!(b.constants, Constants::OrderOnly);
            // n = 16, λ0 = 0.25, δ = 0.1: 16⁶ · 0.25⁻⁴ · 0.1⁻³ = 16⁶ · 256 · 1000 = 4.294967296e12.
            let l = b.log10_width_at(point(16.0, 0.25, 0.1)).expect("valid");
            assert!((l - 4.294967296e12f64.log10()).abs() < 1e-12, "{}: {l}", b.key);
            for n in [1usize, 7, 64, 1000] {
                let p = point(n as f64, 0.05, 0.02);
                let ours = b.log10_width_at(p).expect("valid");
                let theirs = crate::bounds::log10_thm31_width_order(n, p.delta, p.lambda0);
                assert!((ours - theirs).abs() < 1e-12, "{} at n = {n}: {ours} vs bounds {theirs}", b.key);
            }
        }
    }

    #[test]
    fn dzps19_entries_record_their_assumptions() {
        let [flow, gd] = dzps19();
        assert_eq!(
            (flow.assumptions.trained, flow.assumptions.dynamics),
            (Trained::FirstLayer, Dynamics::GradientFlow)
        );
        assert_eq!((gd.assumptions.trained, gd.assumptions.dynamics), (Trained::FirstLayer, Dynamics::GradientDescent));
        assert_eq!(gd.assumptions.step_size, "η = O(λ0/n²)");
        for b in [flow, gd] {
            assert!(b.statement.contains("Ω(n⁶/(λ0⁴δ³))"), "{}: the quotation states the width", b.key);
            assert!(b.statement.starts_with(&format!("Theorem {}", &b.theorem[4..])), "{}: theorem number", b.key);
        }
    }

    /// The slope routine on a width with a logarithmic factor, set against the hand-computed
    /// derivative: m = 8 n² log(2n²/δ)/λ0² (bounds::proof_width_spec, for a real n) has
    /// d log m / d log n = 2 + 2/log(2n²/δ), d log m / d log(1/λ0) = 2 and
    /// d log m / d log(1/δ) = 1/log(2n²/δ). At n = 10, δ = 0.1: log(2000) = 7.600902…, so
    /// 2.263126… and 0.131563….
    #[test]
    fn slopes_of_a_width_with_a_log_factor_match_the_hand_computed_derivative() {
        fn log10_lem22(n: f64, lambda0: f64, delta: f64, _d: f64) -> f64 {
            (8.0 * n * n * (2.0 * n * n / delta).ln()).log10() - 2.0 * lambda0.log10()
        }
        let b = PublishedBound { key: "test-log-factor", log10_width: log10_lem22, ..DZPS19_THM32 };
        let s = local_slopes(&b, point(10.0, 0.3, 0.1)).expect("valid");
        let log_term = 2000f64.ln();
        assert!((log_term - 7.600902459542082).abs() < 1e-12);
        assert!((s.n - (2.0 + 2.0 / log_term)).abs() < TOL, "slope in n {}", s.n);
        assert!((s.n - 2.263126).abs() < 1e-6, "slope in n {}", s.n);
        assert!((s.inv_lambda0 - 2.0).abs() < TOL, "slope in 1/λ0 {}", s.inv_lambda0);
        assert!((s.inv_delta - 1.0 / log_term).abs() < TOL, "slope in 1/δ {}", s.inv_delta);
        // The formula agrees with bounds.rs at integer n.
        let direct = crate::bounds::log10_proof_width_spec(10, 0.1, 0.3);
        assert!((log10_lem22(10.0, 0.3, 0.1, 1.0) - direct).abs() < 1e-12);
    }

    #[test]
    fn keys_are_unique_and_every_entry_has_a_quotation_and_a_theorem() {
        assert!(!BOUNDS.is_empty());
        let mut keys: Vec<&str> = BOUNDS.iter().map(|b| b.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(
            keys.len(),
            BOUNDS.len(),
            "duplicate keys among {:?}",
            BOUNDS.iter().map(|b| b.key).collect::<Vec<_>>()
        );
        for b in BOUNDS {
            assert!(!b.key.trim().is_empty());
            assert!(!b.statement.trim().is_empty(), "{}: empty quotation", b.key);
            assert!(b.theorem.chars().any(|c| c.is_ascii_digit()), "{}: no theorem number in {:?}", b.key, b.theorem);
            for (field, text) in [
                ("authors", b.source.authors),
                ("title", b.source.title),
                ("venue", b.source.venue),
                ("width", b.width_formula),
            ] {
                assert!(!text.trim().is_empty(), "{}: empty {field}", b.key);
            }
            assert!(find(b.key).is_some_and(|f| std::ptr::eq(f, b)), "{}: find returns another entry", b.key);
        }
        assert!(find("no-such-bound").is_none());
    }

    #[test]
    fn log_widths_are_finite_at_valid_points() {
        for b in BOUNDS {
            for p in points() {
                let l = b.log10_width_at(p).unwrap_or_else(|e| panic!("{} at {p:?}: {e}", b.key));
                assert!(l.is_finite(), "{} at {p:?}: {l}", b.key);
                let s = local_slopes(b, p).unwrap_or_else(|e| panic!("{} at {p:?}: {e}", b.key));
                assert!(s.n.is_finite() && s.inv_lambda0.is_finite() && s.inv_delta.is_finite());
            }
        }
    }

    #[test]
    fn bad_inputs_are_refused_without_panic() {
        let good = point(16.0, 0.25, 0.1);
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let bad: Vec<(&str, Point)> = [0.0, 0.5, -3.0, nan, inf]
            .iter()
            .map(|&n| ("n", Point { n, ..good }))
            .chain([0.0, -0.1, nan, inf, -inf].iter().map(|&lambda0| ("lambda0", Point { lambda0, ..good })))
            .chain([0.0, 1.0, 1.5, -0.1, nan, inf].iter().map(|&delta| ("delta", Point { delta, ..good })))
            .chain([0.0, nan, inf].iter().map(|&d| ("d", Point { d, ..good })))
            .collect();
        for b in BOUNDS {
            for (name, p) in &bad {
                match b.log10_width_at(*p) {
                    Err(LemmaError::Config { name: got, .. }) => assert_eq!(got, *name, "{} at {p:?}", b.key),
                    other => panic!("{} at {p:?}: expected a refusal naming {name}, got {other:?}", b.key),
                }
                assert!(local_slopes(b, *p).is_err(), "{} at {p:?}: slopes of a bad point", b.key);
            }
        }
        assert!(good.validate().is_ok());
    }

    /// The refusal of a width that is not finite at a valid point (a mutant entry): the slope and
    /// width routines report it instead of returning ±∞ or NaN.
    #[test]
    fn a_non_finite_width_is_refused() {
        fn broken(_n: f64, _lambda0: f64, _delta: f64, _d: f64) -> f64 {
            f64::NAN
        }
        let b = PublishedBound { key: "test-broken", log10_width: broken, ..DZPS19_THM32 };
        assert!(b.log10_width_at(point(4.0, 0.2, 0.1)).is_err());
        assert!(local_slopes(&b, point(4.0, 0.2, 0.1)).is_err());
    }
}
