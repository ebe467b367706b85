//! The step's fast paths against the plain definitions.
//!
//! The fast paths: fused patterns, predictions and finiteness, warm-started λmin(H(k)).

use descent::{DescentConfig, LearningRate, Method, Problem};
use model::network::predictions;
use model::{Dataset, Network, PatternBits};

/// After every step, in both methods, the patterns the step packed are those of Z, u(k) has the
/// bits of `predictions(Z, a)`, and the pattern-change fraction is the direct count. Widths
/// that are not multiples of 64 or of the column block exercise the ragged blocks and words.
#[test]
fn fused_patterns_and_predictions_equal_the_definitions() {
    let (n, d) = (13, 9);
    let data = Dataset::sphere(n, d, 8, 0).unwrap();
    for m in [70usize, 700] {
        let net = Network::init(m, d, 8, 1).unwrap();
        for method in [Method::KernelSpace, Method::WeightSpace] {
            let config =
                DescentConfig { learning_rate: LearningRate::Fixed(1.5), iterations: 20, method, ..Default::default() };
            let problem = Problem::new(&data, &net, &config).unwrap();
            let mut state = problem.initial_state().unwrap();
            let z0 = state.preactivations().to_owned();
            for _ in 0..20 {
                problem.step(&mut state).unwrap();
                let z = state.preactivations();
                assert_eq!(state.patterns(), &PatternBits::from_preactivations(z), "{method:?} m = {m}");
                let u = predictions(z, net.a.as_ref());
                for i in 0..n {
                    assert_eq!(state.predictions()[i].to_bits(), u[i].to_bits(), "{method:?} m = {m}, u_{i}");
                }
                let flips = (0..n)
                    .flat_map(|i| (0..m).map(move |r| (i, r)))
                    .filter(|&(i, r)| (z[(i, r)] >= 0.0) != (z0[(i, r)] >= 0.0))
                    .count();
                assert_eq!(state.pattern_change_fraction(), flips as f64 / (n * m) as f64);
            }
            assert!(state.pattern_change_fraction() > 0.0, "{method:?} m = {m}: no flips, the test is vacuous");
        }
    }
}

/// λmin(H(k)) along a trajectory: warm-started inverse iteration (n ≥ 64, so the warm path
/// runs) against the dense solver, to 10⁻¹², with only the first call dense.
#[test]
fn warm_started_lambda_min_equals_the_dense_solver_along_a_run() {
    let (n, d, m) = (80, 80, 3000);
    let data = Dataset::sphere(n, d, 5, 0).unwrap();
    let net = Network::init(m, d, 5, 1).unwrap();
    let config = DescentConfig { learning_rate: LearningRate::Fixed(0.8), iterations: 15, ..Default::default() };
    let problem = Problem::new(&data, &net, &config).unwrap();
    let mut state = problem.initial_state().unwrap();
    let mut worst: f64 = 0.0;
    for k in 0..=15 {
        if k > 0 {
            problem.step(&mut state).unwrap();
        }
        let warm = problem.lambda_min_h(&state).unwrap();
        let dense = problem.lambda_min_h_dense(&state).unwrap();
        worst = worst.max((warm - dense).abs());
    }
    assert!(worst <= 1e-12, "warm and dense λmin differ by {worst:e}");
    assert!(state.pattern_change_fraction() > 0.0, "H(k) never changed: the test is vacuous");
    assert_eq!(state.lambda_min_solves(), (1, 15), "only the first call may be dense");
}

/// H(k) from the co-activation counts the steps keep up to date equals, bit for bit, H(k) from a
/// recount of the state's patterns and the plain definition to rounding, in weight and kernel
/// space: with a small step (a few flips a step: the counts are updated) and with H asked for
/// every third iterate of a large step (many flips pile up between calls: the recount fallback).
#[test]
fn kept_co_activation_counts_equal_a_recount() {
    let (n, d, m) = (64, 64, 4096);
    let data = Dataset::sphere(n, d, 8, 0).unwrap();
    let net = Network::init(m, d, 8, 0).unwrap();
    for method in [descent::Method::KernelSpace, descent::Method::WeightSpace] {
        for (eta, every) in [(0.02, 1), (60.0, 3)] {
            let config =
                DescentConfig { learning_rate: LearningRate::Fixed(eta), iterations: 12, method, ..Default::default() };
            let problem = Problem::new(&data, &net, &config).unwrap();
            let mut state = problem.initial_state().unwrap();
            let mut flips = Vec::new();
            let mut before = state.patterns().clone();
            for k in 0..=12 {
                if k > 0 {
                    problem.step(&mut state).unwrap();
                }
                if k % every != 0 {
                    continue;
                }
                flips.push(state.patterns().changed_count(&before));
                before = state.patterns().clone();
                let kept = problem.gram_h(&state).unwrap();
                let recount = model::gram_h_from_patterns(data.input_gram(), state.patterns());
                assert!(kept == recount, "{method:?}, η = {eta}, k = {k}: kept counts differ from a recount");
                if k == 12 {
                    let w = problem.weights(&state).unwrap();
                    let direct = model::gram_h_direct(data.x(), w.as_ref(), net.a.as_ref());
                    assert!((&kept - &direct).norm_max() < 1e-12, "{method:?}, η = {eta}, k = {k}");
                }
            }
            let words = m.div_ceil(64) as u64 * n as u64;
            assert!(flips[1..].iter().any(|&f| f > 0), "{method:?}, η = {eta}: no flips, the test is vacuous");
            if eta > 1.0 {
                assert!(flips[1..].iter().any(|&f| f > words / 64), "η = {eta} must reach the recount: {flips:?}");
            } else {
                assert!(flips[1..].iter().any(|&f| f > 0 && f <= words / 64), "η = {eta} must update: {flips:?}");
            }
        }
    }
}
