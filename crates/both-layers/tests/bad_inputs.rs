//! Bad inputs to the both-layer flow and GD are named errors.

use faer::{Col, Mat};
use flow::{FlowConfig, FlowError, NoObserver, StepSize};
use model::{Dataset, ModelError, Network};

use both_layers::{GdConfig, descend};

#[test]
fn bad_inputs_are_named_errors() {
    let data = Dataset::sphere(5, 3, 1, 0).unwrap();
    let net = Network::init(50, 3, 1, 0).unwrap();
    let flow_ok = FlowConfig { t_end: 0.1, ..FlowConfig::default() };
    let gd_ok = GdConfig { iterations: 5, ..GdConfig::default() };
    assert!(both_layers::run(&data, &net, &flow_ok, &mut NoObserver).is_ok());
    assert!(descend(&data, &net, &gd_ok, &mut NoObserver).is_ok());

    let name = |e: FlowError| match e {
        FlowError::InvalidConfig { name, .. } => name,
        other => panic!("expected InvalidConfig, got {other:?}"),
    };
    // Flow: T < 0, h ≤ 0, h NaN.
    let flow_err = |c: FlowConfig| both_layers::run(&data, &net, &c, &mut NoObserver).unwrap_err();
    assert_eq!(name(flow_err(FlowConfig { t_end: -0.5, ..flow_ok.clone() })), "t_end");
    assert_eq!(name(flow_err(FlowConfig { step: StepSize::Fixed(0.0), ..flow_ok.clone() })), "step");
    assert_eq!(name(flow_err(FlowConfig { step: StepSize::Fixed(f64::NAN), ..flow_ok.clone() })), "step");
    // GD: η ≤ 0, η NaN or ∞, no sampling, divergence factor ≤ 1.
    let gd_err = |c: GdConfig| descend(&data, &net, &c, &mut NoObserver).unwrap_err();
    for eta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(name(gd_err(GdConfig { eta, ..gd_ok })), "eta");
    }
    assert_eq!(name(gd_err(GdConfig { sample_every: 0, ..gd_ok })), "sample_every");
    assert_eq!(name(gd_err(GdConfig { divergence_factor: 0.5, ..gd_ok })), "divergence_factor");
    // Weights: wrong shapes and NaN, for both entry points.
    let wrong_w = Network { w: Mat::zeros(50, 2), a: net.a.clone() };
    let wrong_a = Network { w: net.w.clone(), a: Col::zeros(51) };
    let mut nan_a = net.clone();
    nan_a.a[0] = f64::NAN;
    for bad in [&wrong_w, &wrong_a] {
        let e = descend(&data, bad, &gd_ok, &mut NoObserver).unwrap_err();
        assert!(matches!(e, FlowError::Model(ModelError::Shape { .. })), "{e}");
        let e = both_layers::run(&data, bad, &flow_ok, &mut NoObserver).unwrap_err();
        assert!(matches!(e, FlowError::Model(ModelError::Shape { .. })), "{e}");
    }
    let e = descend(&data, &nan_a, &gd_ok, &mut NoObserver).unwrap_err();
    assert!(matches!(e, FlowError::Model(ModelError::NonFinite { what: "second-layer weights a", .. })), "{e}");
    let e = both_layers::run(&data, &nan_a, &flow_ok, &mut NoObserver).unwrap_err();
    assert!(matches!(e, FlowError::Model(ModelError::NonFinite { .. })), "{e}");
}
