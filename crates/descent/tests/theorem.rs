//! Slide Thm 3.1 (paper Thm 4.1) on a small over-parameterised example, with the theorem's step.
//!
//! Claim: with η = c_η λ0/n², ‖y − u(k)‖² ≤ (1 − ηλ0/2)^k ‖y − u(0)‖² for every k.

use descent::{DescentConfig, LearningRate, Problem, Recorder, RecorderOptions, Status};
use model::{Dataset, Network};

/// n = d = 5, m = 20000, η = λ0/n² (c_η = 1): every sampled ratio measured/bound is ≤ 1, until
/// the bound has fallen to a tenth (about 3900 steps; the measured residual falls far faster).
#[test]
fn theorem_bound_holds_with_the_theorem_step() {
    let (n, d, m) = (5, 5, 20_000);
    let data = Dataset::sphere(n, d, 3, 0).unwrap();
    let net = Network::init(m, d, 3, 0).unwrap();
    let lambda0 = model::lambda0(&data).unwrap();
    let eta = lambda0 / (n * n) as f64;
    // Iterations for the bound's factor (1 − ηλ0/2)^k to reach 1/10.
    let iterations = ((0.1f64).ln() / (1.0 - eta * lambda0 / 2.0).ln()).ceil() as usize;
    let config = DescentConfig {
        learning_rate: LearningRate::Theorem { c_eta: 1.0 },
        iterations,
        sample_every: iterations / 200,
        ..Default::default()
    };
    let problem = Problem::new(&data, &net, &config).unwrap();
    assert!((problem.eta() - eta).abs() <= 1e-12 * eta, "η = {} vs λ0/n² = {eta}", problem.eta());
    let mut recorder =
        Recorder::new(problem.infinite_width().unwrap(), RecorderOptions { lambda_min_every: 0, keep_u: false });
    let outcome = problem.run(&mut recorder).unwrap();
    assert_eq!(outcome.status, Status::Completed);
    let trajectory = recorder.into_trajectory();
    assert!((trajectory.lambda0 - lambda0).abs() < 1e-12);
    let samples = &trajectory.samples;
    assert!(samples.len() > 100);
    let worst = samples[1..].iter().map(|s| s.discrete_bound_ratio.unwrap()).fold(0.0, f64::max);
    let last = samples.last().unwrap();
    println!(
        "λ0 = {lambda0:.4}, η = {eta:.4e}, K = {iterations}: max ratio over k ≥ 1 {worst:.4}, final ratio {:.3e}, \
         final ‖y − u‖² / ‖y − u(0)‖² = {:.3e}, max_r ‖w_r − w_r(0)‖ = {:.3e}, pattern change {:.2e}, \
         max ‖u − u∞‖ = {:.3e}",
        last.discrete_bound_ratio.unwrap(),
        last.residual_sq / samples[0].residual_sq,
        last.max_weight_distance,
        last.pattern_change_fraction,
        trajectory.max_u_infinity_gap(),
    );
    let r0 = samples[0].residual_sq;
    for s in samples {
        let bound = descent::theorem_bound(problem.eta(), trajectory.lambda0, r0, s.step);
        let ratio = s.discrete_bound_ratio.unwrap();
        assert!(ratio <= 1.0, "k = {}: ‖y − u‖² = {} > bound {bound}", s.step, s.residual_sq);
        assert!((ratio - s.residual_sq / bound).abs() <= 1e-12 * ratio, "k = {}: the recorded ratio", s.step);
    }
    assert_eq!(samples[0].discrete_bound_ratio, Some(1.0), "at k = 0 both sides are ‖y − u(0)‖²");
    assert_eq!(last.step, iterations, "the last iterate is a sample");
    assert!(descent::theorem_bound(problem.eta(), trajectory.lambda0, r0, last.step) < 0.101 * r0);
}
