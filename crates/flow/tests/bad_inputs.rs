//! Bad inputs are named errors and divergence is a status: no panic, no NaN in the output.

use faer::{Col, Mat};
use flow::{
    ErrorEstimate, FlowConfig, FlowError, NoObserver, Recorder, RecorderOptions, SampleTimes, Status, StepSelection,
    StepSize, run,
};
use model::{Dataset, InfiniteWidth, ModelError, Network};

mod common;

fn setup() -> (Dataset, Network) {
    (Dataset::sphere(5, 3, 1, 0).unwrap(), Network::init(50, 3, 1, 0).unwrap())
}

fn err(data: &Dataset, net: &Network, config: &FlowConfig) -> FlowError {
    run(data, net, config, &mut NoObserver).unwrap_err()
}

fn invalid_name(e: &FlowError) -> &'static str {
    match e {
        FlowError::InvalidConfig { name, .. } => name,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn bad_inputs_are_named_errors() {
    let (data, net) = setup();
    let ok = FlowConfig { t_end: 0.1, ..FlowConfig::default() };
    assert!(run(&data, &net, &ok, &mut NoObserver).is_ok());

    // W of the wrong shape, a of the wrong length, NaN in W or a.
    let wide = Network { w: Mat::zeros(50, 4), a: net.a.clone() };
    assert!(matches!(err(&data, &wide, &ok), FlowError::Model(ModelError::Shape { .. })));
    let short_a = Network { w: net.w.clone(), a: Col::zeros(49) };
    assert!(matches!(err(&data, &short_a, &ok), FlowError::Model(ModelError::Shape { .. })));
    let mut nan_w = net.clone();
    nan_w.w[(7, 2)] = f64::NAN;
    let e = err(&data, &nan_w, &ok);
    assert!(matches!(e, FlowError::Model(ModelError::NonFinite { row: 7, col: 2, .. })), "{e}");
    let mut inf_a = net.clone();
    inf_a.a[3] = f64::INFINITY;
    assert!(matches!(err(&data, &inf_a, &ok), FlowError::Model(ModelError::NonFinite { row: 3, .. })));
    let empty = Network { w: Mat::zeros(0, 3), a: Col::zeros(0) };
    assert!(matches!(err(&data, &empty, &ok), FlowError::Model(ModelError::Empty { .. })));

    // T < 0, T = NaN, h ≤ 0, h = NaN, sample times outside [0, T], no intervals.
    let with = |f: &dyn Fn(&mut FlowConfig)| {
        let mut c = ok.clone();
        f(&mut c);
        c
    };
    for (config, name) in [
        (with(&|c| c.t_end = -1.0), "t_end"),
        (with(&|c| c.t_end = f64::NAN), "t_end"),
        (with(&|c| c.step = StepSize::Fixed(0.0)), "step"),
        (with(&|c| c.step = StepSize::Fixed(-0.1)), "step"),
        (with(&|c| c.step = StepSize::Fixed(f64::NAN)), "step"),
        (with(&|c| c.samples = SampleTimes::Explicit(vec![0.05, 0.2])), "samples"),
        (with(&|c| c.samples = SampleTimes::Explicit(vec![f64::NAN])), "samples"),
        (with(&|c| c.samples = SampleTimes::Uniform { intervals: 0 }), "samples.intervals"),
        (with(&|c| c.error_estimate = ErrorEstimate::LocalSampled { every: 0 }), "error_estimate.every"),
        (with(&|c| c.divergence_factor = 1.0), "divergence_factor"),
        (with(&|c| c.step = StepSize::Fixed(1e-300)), "h"),
        (with(&|c| c.step = StepSize::Tolerance(StepSelection { tol: 0.0, ..Default::default() })), "tol"),
        (with(&|c| c.step = StepSize::Tolerance(StepSelection { h_initial: -1.0, ..Default::default() })), "h_initial"),
    ] {
        let e = err(&data, &net, &config);
        assert_eq!(invalid_name(&e), name, "{e}");
        assert!(e.to_string().contains(name), "{e}");
    }
    let impossible = with(&|c| {
        c.step = StepSize::Tolerance(StepSelection { tol: 1e-300, h_initial: 0.1, max_halvings: 2, probe_steps: 2 })
    });
    assert!(matches!(err(&data, &net, &impossible), FlowError::ToleranceNotMet { halvings: 2, .. }));

    // λ0 ≤ 0 and a reference for another data set.
    assert!(matches!(
        InfiniteWidth::from_kernel(0.0, Mat::identity(5, 5)),
        Err(ModelError::InvalidParameter { name: "lambda0", .. })
    ));
    let other = InfiniteWidth::first_layer(&Dataset::sphere(4, 3, 1, 0).unwrap()).unwrap();
    let mut recorder = Recorder::new(&other, RecorderOptions::default());
    assert!(matches!(run(&data, &net, &ok, &mut recorder), Err(FlowError::Model(ModelError::Shape { .. }))));
}

/// T = 0 is legal: one sample, no step, the initial state back.
#[test]
fn zero_length_run_returns_the_start() {
    let (data, net) = setup();
    let reference = InfiniteWidth::first_layer(&data).unwrap();
    let mut recorder = Recorder::new(&reference, RecorderOptions::default());
    let config = FlowConfig { t_end: 0.0, ..FlowConfig::default() };
    let out = run(&data, &net, &config, &mut recorder).unwrap();
    assert_eq!((out.status, out.steps, out.t), (Status::Completed, 0, 0.0));
    assert_eq!(out.network, net);
    assert_eq!(recorder.trajectory().samples.len(), 1);
}

/// An unstable step (h·λmax(H) far beyond RK4's stability limit ≈ 2.79) makes the numerical flow
/// blow up: the run reports Diverged with the last finite state, and nothing recorded is NaN.
#[test]
fn divergence_is_a_status_not_nan() {
    let (data, net) = setup();
    let reference = InfiniteWidth::first_layer(&data).unwrap();
    let mut recorder = Recorder::new(&reference, RecorderOptions { lambda_min_every: 1, keep_u: true });
    let config = common::uniform(2000.0, 20.0, 100);
    let out = run(&data, &net, &config, &mut recorder).unwrap();
    assert!(out.status.diverged(), "{:?}", out.status);
    assert!(out.t < 2000.0);
    assert!(out.loss.is_finite() && out.u.iter().all(|v| v.is_finite()), "{out:?}");
    assert!(out.network.w.norm_l2().is_finite());
    let tr = recorder.into_trajectory();
    for s in &tr.samples {
        let values = [s.loss, s.bound_ratio, s.distance_over_r_prime, s.u_infinity_gap, s.max_weight_distance];
        assert!(values.iter().all(|v| !v.is_nan()) && s.u.iter().all(|v| v.is_finite()), "{s:?}");
    }
    assert!(!out.error.final_state_error.is_nan());
}
