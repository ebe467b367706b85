//! The trajectory recorder against independent computations from the materialised W(k).

mod common;

use common::KeepAll;
use descent::{DescentConfig, LearningRate, Problem, Recorder, RecorderOptions, theorem_bound};
use model::{Dataset, InfiniteWidth, Network, PatternBits};

/// At the sampled k: pattern-change fraction, max_r ‖w_r − w_r(0)‖, ‖W − W(0)‖_F and λmin(H(k)) from
/// W(k) by the model's plain routines; the bound by its formula; u∞(k) by the recursion
/// v ← (I − ηH∞) v; and the sampled iterations (every 7th and the last).
#[test]
fn recorded_quantities_match_direct_computations() {
    let (n, d, m) = (8, 5, 300);
    let data = Dataset::sphere(n, d, 40, 0).unwrap();
    let net = Network::init(m, d, 40, 0).unwrap();
    let at = vec![0, 7, 14, 21, 28, 30];
    let config = DescentConfig {
        learning_rate: LearningRate::Fixed(0.6),
        iterations: 30,
        sample_every: 7,
        ..Default::default()
    };
    let problem = Problem::new(&data, &net, &config).unwrap();
    let recorder =
        Recorder::new(problem.infinite_width().unwrap(), RecorderOptions { lambda_min_every: 1, keep_u: true });
    let mut observers = (KeepAll { materialise_at: at.clone(), ..Default::default() }, recorder);
    let outcome = problem.run(&mut observers).unwrap();
    let (keep, recorder) = observers;
    let trajectory = recorder.into_trajectory();
    let iterations: Vec<usize> = trajectory.samples.iter().map(|s| s.step).collect();
    assert_eq!(iterations, at);
    assert_eq!(trajectory.eta, Some(0.6));

    let w0 = &net.w;
    let patterns0 = PatternBits::from_preactivations(model::network::preactivations(data.x(), w0.as_ref()).as_ref());
    let iw = InfiniteWidth::from_kernel_spectrum(model::h_infinity(data.input_gram())).unwrap();
    let r0 = &keep.snapshots[0].u - data.y();
    assert_eq!(keep.snapshots.len(), at.len(), "the observers see the samples only");
    let mut changed_any = false;
    for (j, s) in trajectory.samples.iter().enumerate() {
        let k = s.step;
        assert_eq!(keep.snapshots[j].iteration, k);
        assert!((s.t - 0.6 * k as f64).abs() <= 1e-15 * k as f64);
        let w = keep.snapshots[j].w.as_ref().unwrap();
        let z = model::network::preactivations(data.x(), w.as_ref());
        let fraction = model::pattern_change_fraction(&PatternBits::from_preactivations(z.as_ref()), &patterns0);
        assert_eq!(s.pattern_change_fraction, fraction, "k = {k}");
        changed_any |= fraction > 0.0;
        let dist = model::max_weight_distance(w.as_ref(), w0.as_ref());
        assert!((s.max_weight_distance - dist).abs() < 1e-12, "k = {k}: {} vs {dist}", s.max_weight_distance);
        let frob = (w - w0).norm_l2();
        assert!(
            (s.weight_distance_frobenius - frob).abs() < 1e-12,
            "k = {k}: {} vs {frob}",
            s.weight_distance_frobenius
        );
        let h = model::gram_h_direct(data.x(), w.as_ref(), net.a.as_ref());
        let lambda = model::lambda_min(h.as_ref()).unwrap();
        assert!((s.lambda_min_h.unwrap() - lambda).abs() < 1e-12, "k = {k}");
        assert_eq!(s.u, keep.snapshots[j].u.iter().copied().collect::<Vec<_>>());
        assert_eq!(s.loss, keep.snapshots[j].loss);
        let bound = theorem_bound(0.6, iw.lambda0(), r0.squared_norm_l2(), k);
        let ratio = s.discrete_bound_ratio.unwrap();
        assert!(
            (ratio - s.residual_sq / bound).abs() <= 1e-12 * ratio,
            "k = {k}: {ratio} vs {}",
            s.residual_sq / bound
        );
        // u∞(k) by k products with (I − ηH∞).
        let mut v = r0.clone();
        for _ in 0..k {
            v = &v - (iw.kernel() * &v) * 0.6;
        }
        let gap = (&keep.snapshots[j].u - (data.y() + &v)).norm_l2();
        assert!((s.u_infinity_gap - gap).abs() < 1e-12, "k = {k}");
    }
    assert!(changed_any, "choose a step that flips patterns");
    assert_eq!(trajectory.lambda0, iw.lambda0());
    assert_eq!(outcome.lambda0, Some(iw.lambda0()));
    let last = trajectory.samples.last().unwrap();
    assert_eq!((outcome.final_loss, outcome.final_max_weight_distance), (last.loss, last.max_weight_distance));
}

/// The lower-level API: stepping by hand, then `run_from` for the rest, gives the same bits as one run.
#[test]
fn stepping_by_hand_then_run_from_equals_one_run() {
    let data = Dataset::sphere(6, 4, 41, 0).unwrap();
    let net = Network::init(100, 4, 41, 0).unwrap();
    let whole = DescentConfig { learning_rate: LearningRate::Fixed(0.5), iterations: 20, ..Default::default() };
    let mut all = KeepAll::default();
    Problem::new(&data, &net, &whole).unwrap().run(&mut all).unwrap();

    let rest = DescentConfig { iterations: 12, ..whole };
    let problem = Problem::new(&data, &net, &rest).unwrap();
    let mut state = problem.initial_state().unwrap();
    for _ in 0..8 {
        problem.step(&mut state).unwrap();
    }
    let mut tail = KeepAll::default();
    let outcome = problem.run_from(state, &mut tail).unwrap();
    assert_eq!(outcome.iterations, 20);
    assert_eq!(&all.snapshots[8..], &tail.snapshots[..]);
}
