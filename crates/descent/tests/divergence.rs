//! Past the stability limit 2/λmax(H) a blow-up is stopped and reported as diverged, never as NaN;
//! just past it, the ReLU network measurably "catapults" instead (loss up, then patterns change).

mod common;

use common::{KeepAll, any_nan};
use descent::{
    Control, DEFAULT_DIVERGENCE_FACTOR, DescentConfig, Divergence, LearningRate, Method, Outcome, Problem, Recorder,
    RecorderOptions, Status, stability_limit,
};
use model::{Dataset, Network};

const ITERATIONS: usize = 300;

/// n = d = 5, m = 400, and λmax(H(0)).
fn setup() -> (Dataset, Network, f64) {
    let data = Dataset::sphere(5, 5, 12, 0).unwrap();
    let net = Network::init(400, 5, 12, 0).unwrap();
    let probe =
        Problem::new(&data, &net, &DescentConfig { learning_rate: LearningRate::Fixed(1.0), ..Default::default() })
            .unwrap();
    let h0 = probe.gram_h(&probe.initial_state().unwrap()).unwrap();
    let lambda_max = model::lambda_max(h0.as_ref()).unwrap();
    assert_eq!(stability_limit(h0.as_ref()).unwrap(), 2.0 / lambda_max);
    (data, net, lambda_max)
}

/// λmax(H(k)) at the last observed iterate.
#[derive(Default)]
struct LastLambdaMax(f64);

impl descent::Observer<descent::View<'_>, descent::DescentError> for LastLambdaMax {
    fn observe(&mut self, view: &descent::View<'_>) -> descent::Result<Control> {
        let (problem, state) = (view.problem, view.state);
        self.0 = model::lambda_max(problem.gram_h(state)?.as_ref())?;
        Ok(Control::Continue)
    }
}

struct Run {
    outcome: Outcome,
    keep: KeepAll,
    samples: Vec<descent::Sample>,
    last_lambda_max: f64,
}

fn run(data: &Dataset, net: &Network, eta: f64, method: Method) -> Run {
    let config =
        DescentConfig { learning_rate: LearningRate::Fixed(eta), iterations: ITERATIONS, method, ..Default::default() };
    let problem = Problem::new(data, net, &config).unwrap();
    let recorder =
        Recorder::new(problem.infinite_width().unwrap(), RecorderOptions { lambda_min_every: 1, keep_u: true });
    let mut observers = ((KeepAll::default(), recorder), LastLambdaMax::default());
    let outcome = problem.run(&mut observers).unwrap();
    let ((keep, recorder), last) = observers;
    Run { outcome, keep, samples: recorder.into_trajectory().samples, last_lambda_max: last.0 }
}

fn assert_no_nan(run: &Run) {
    let o = &run.outcome;
    let scalars =
        [o.eta, o.initial_loss, o.final_loss, o.peak_loss, o.final_max_weight_distance, o.final_frobenius_distance];
    assert!(scalars.iter().all(|v| v.is_finite()), "{o:?}");
    assert!(o.final_predictions.iter().all(|v| v.is_finite()));
    if let Status::Diverged { t, reason, .. } = o.status {
        assert!(!reason.loss().is_nan() && t.is_finite());
    }
    assert!(!any_nan(&run.keep.snapshots));
    for s in &run.samples {
        let opt = [s.lambda_min_h, s.discrete_bound_ratio];
        let all = [
            s.loss,
            s.residual_sq,
            s.pattern_change_fraction,
            s.max_weight_distance,
            s.weight_distance_frobenius,
            s.bound_ratio,
            s.u_infinity_gap,
        ];
        assert!(all.iter().chain(opt.iter().flatten()).all(|v| !v.is_nan()), "{s:?}");
    }
}

/// η = 10/λmax(H(0)) (5× the limit) blows up geometrically: reported as Diverged at the first
/// iterate with L > 10⁶ L(0); observers saw only the accepted iterates; no NaN anywhere.
/// η = 1/λmax(H(0)) (half the limit) converges. That η = 10/λmax is a real blow-up and not a
/// catapult cut short is checked by letting it run with the factor at 10³⁰⁰: it still diverges.
#[test]
fn step_far_past_the_stability_limit_is_reported_as_divergence() {
    let (data, net, lambda_max) = setup();
    let config = DescentConfig {
        learning_rate: LearningRate::Fixed(10.0 / lambda_max),
        iterations: 2000,
        divergence_factor: 1e300,
        ..Default::default()
    };
    let unbounded = descent::run(&data, &net, &config, &mut ()).unwrap();
    println!("η = 10/λmax with factor 1e300: {:?}", unbounded.status);
    assert!(matches!(unbounded.status, Status::Diverged { .. }), "{:?}", unbounded.status);
    for method in [Method::KernelSpace, Method::WeightSpace] {
        let r = run(&data, &net, 10.0 / lambda_max, method);
        println!("{method:?} η = 10/λmax: {:?}, L(0) = {:.3}", r.outcome.status, r.outcome.initial_loss);
        let Status::Diverged { t, step, reason } = r.outcome.status else {
            panic!("{method:?}: η = 10/λmax was not reported as diverged: {:?}", r.outcome)
        };
        let loss = reason.loss();
        assert!(loss > r.outcome.initial_loss * DEFAULT_DIVERGENCE_FACTOR, "{loss}");
        assert_eq!(
            (r.outcome.iterations, t),
            (step, step as f64 * r.outcome.eta),
            "the status names the last accepted iterate"
        );
        assert_eq!(r.keep.snapshots.len(), step + 1, "observers see only accepted iterates");
        assert!(r.outcome.peak_loss <= r.outcome.initial_loss * DEFAULT_DIVERGENCE_FACTOR);
        assert_no_nan(&r);

        let r = run(&data, &net, 1.0 / lambda_max, method);
        let o = &r.outcome;
        println!("{method:?} η = 1/λmax: {:?}, loss {:.3e} → {:.3e}", o.status, o.initial_loss, o.final_loss);
        assert_eq!(o.status, Status::Completed);
        assert_eq!((o.iterations, r.keep.snapshots.len()), (ITERATIONS, ITERATIONS + 1));
        assert!(o.final_loss < 1e-3 * o.initial_loss, "{o:?}");
        assert_eq!(o.peak_loss, o.initial_loss, "below the limit the loss never rises here");
        assert_no_nan(&r);
    }
}

/// η = 3/λmax(H(0)) (1.5× the limit) is *not* a divergence for this ReLU network: the loss first
/// rises (the linearised dynamics are unstable), patterns change until λmax(H(k)) < 2/η, and the
/// run converges — the "catapult" regime. Measured here so that a change in behaviour shows.
#[test]
fn step_just_past_the_stability_limit_catapults() {
    let (data, net, lambda_max) = setup();
    let eta = 3.0 / lambda_max;
    let r = run(&data, &net, eta, Method::KernelSpace);
    let o = &r.outcome;
    println!(
        "η = 3/λmax(H(0)): {:?}, peak L/L(0) = {:.2}, final L = {:.2e}, λmax(H(0)) = {lambda_max:.3} → λmax(H(K)) = {:.3} (2/η = {:.3})",
        o.status,
        o.peak_loss / o.initial_loss,
        o.final_loss,
        r.last_lambda_max,
        2.0 / eta
    );
    assert_eq!(o.status, Status::Completed);
    assert!(o.peak_loss > 2.0 * o.initial_loss, "the loss should rise first: {o:?}");
    assert!(o.final_loss < 1e-6 * o.initial_loss, "{o:?}");
    assert!(r.last_lambda_max < 2.0 / eta, "after the catapult GD is stable: λmax(H) = {}", r.last_lambda_max);
    assert_no_nan(&r);
}

/// An absurd step overflows within one step: Diverged at k = 1 with loss +∞, still no NaN.
#[test]
fn overflow_is_reported_as_divergence_with_infinite_loss() {
    let (data, net, _) = setup();
    let r = run(&data, &net, 1e300, Method::KernelSpace);
    println!("η = 1e300: {:?}", r.outcome.status);
    assert_eq!(r.outcome.status, Status::Diverged { t: 0.0, step: 0, reason: Divergence::NonFinite });
    let Status::Diverged { reason, .. } = r.outcome.status else { unreachable!() };
    assert_eq!(reason.loss(), f64::INFINITY);
    assert_eq!((r.outcome.iterations, r.outcome.final_loss), (0, r.outcome.initial_loss));
    assert_no_nan(&r);
}

/// With a sampling stride the observers see every 7th iterate only, yet the outcome of a diverging
/// run still names the last accepted iterate, with the bits of the run that saw every iterate
/// (loss, predictions, distances, peak loss); a converging catapult run agrees as well.
#[test]
fn the_outcome_names_the_last_accepted_iterate_between_samples() {
    let (data, net, lambda_max) = setup();
    for eta in [10.0 / lambda_max, 3.0 / lambda_max] {
        let config = |sample_every| DescentConfig {
            learning_rate: LearningRate::Fixed(eta),
            iterations: ITERATIONS,
            sample_every,
            ..Default::default()
        };
        let mut every = KeepAll::default();
        let all = descent::run(&data, &net, &config(1), &mut every).unwrap();
        let mut strided = KeepAll::default();
        let some = descent::run(&data, &net, &config(7), &mut strided).unwrap();
        assert_eq!(format!("{:?}", all.status), format!("{:?}", some.status), "η = {eta}");
        assert_eq!(
            (
                all.iterations,
                all.final_loss,
                all.peak_loss,
                all.final_max_weight_distance,
                all.final_frobenius_distance
            ),
            (
                some.iterations,
                some.final_loss,
                some.peak_loss,
                some.final_max_weight_distance,
                some.final_frobenius_distance
            ),
            "η = {eta}"
        );
        assert_eq!(all.final_predictions, some.final_predictions);
        let seen: Vec<usize> = strided.snapshots.iter().map(|s| s.iteration).collect();
        assert!(seen.iter().all(|k| k % 7 == 0 || *k == ITERATIONS), "{seen:?}");
        if all.status.diverged() {
            assert_ne!(all.iterations % 7, 0, "pick a case that diverges between samples");
            assert!(*seen.last().unwrap() < all.iterations);
        }
    }
}
