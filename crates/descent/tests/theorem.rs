//! Slide Thm 3.1 (paper Thm 4.1) on a small over-parameterised example, with the theorem's step.
//!
//! Claim: with η = c_η λ0/n², ‖y − u(k)‖² ≤ (1 − ηλ0/2)^k ‖y − u(0)‖² for every k.

use descent::{DescentConfig, Problem, Recorder, RecorderConfig, Schedule, Status, StepSize};
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
    let config = DescentConfig { step_size: StepSize::Theorem { c_eta: 1.0 }, iterations, ..Default::default() };
    let problem = Problem::new(&data, &net, &config).unwrap();
    assert!((problem.eta() - eta).abs() <= 1e-12 * eta, "η = {} vs λ0/n² = {eta}", problem.eta());
    let mut recorder = Recorder::new(RecorderConfig {
        schedule: Schedule::Every(iterations / 200),
        lambda_min_h: false,
        predictions: false,
        ..Default::default()
    })
    .unwrap();
    let outcome = problem.run(&mut recorder).unwrap();
    assert_eq!(outcome.status, Status::Completed);
    let trajectory = recorder.into_trajectory();
    assert_eq!(trajectory.lambda0.map(|l| (l - lambda0).abs() < 1e-12), Some(true));
    let samples = &trajectory.samples;
    assert!(samples.len() > 100);
    let worst = samples[1..].iter().map(|s| s.bound_ratio.unwrap()).fold(0.0, f64::max);
    let last = samples.last().unwrap();
    println!(
        "λ0 = {lambda0:.4}, η = {eta:.4e}, K = {iterations}: max ratio over k ≥ 1 {worst:.4}, final ratio {:.3e}, \
         final ‖y − u‖² / ‖y − u(0)‖² = {:.3e}, max_r ‖w_r − w_r(0)‖ = {:.3e}, pattern change {:.2e}, \
         max ‖u − u∞‖ = {:.3e}",
        last.bound_ratio.unwrap(),
        last.residual_norm_sq / samples[0].residual_norm_sq,
        last.max_weight_distance,
        last.pattern_change_fraction,
        trajectory.max_infinite_width_gap().unwrap(),
    );
    for s in samples {
        let ratio = s.bound_ratio.unwrap();
        assert!(
            ratio <= 1.0,
            "k = {}: ‖y − u‖² = {} > bound {}",
            s.iteration,
            s.residual_norm_sq,
            s.theorem_bound.unwrap()
        );
    }
    assert_eq!(samples[0].bound_ratio, Some(1.0), "at k = 0 both sides are ‖y − u(0)‖²");
    assert!(last.theorem_bound.unwrap() < 0.101 * samples[0].residual_norm_sq);
}
