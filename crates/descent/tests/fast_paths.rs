//! The step's fast paths against the plain definitions: fused patterns, predictions and finiteness, warm-started λmin(H(k)).

use descent::{DescentConfig, Method, Problem, LearningRate};
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
