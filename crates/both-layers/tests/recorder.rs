//! The both-layer recorder: Thm 2.6's decay while the premise holds, λmin(H + G) ≥ λmin(H), a(t) − a(0).

use flow::{FlowConfig, RecorderOptions, SampleTimes, StepSize};
use model::{Dataset, Network};

/// Slide Thm 2.6 (paper Thm 3.3) on one trajectory. Deterministically, G ⪰ 0 gives
/// d/dt ‖y − u‖² = −2(y − u)ᵀ(H + G)(y − u) ≤ −2 λmin(H)‖y − u‖², so wherever λmin(H(s)) ≥ λ0/2
/// held (H with a_r(s)² weights), ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖² up to the integrator's error
/// estimate (× ANY_ORDER_FACTOR, since patterns flip). Also: λmin(H + G) ≥ λmin(H) (Weyl, G ⪰ 0),
/// ‖a(0) − a(0)‖ = 0 and a moves.
#[test]
fn thm_2_6_decay_holds_while_premise_holds() {
    let data = Dataset::sphere(6, 4, 2, 0).unwrap();
    let net = Network::init(2000, 4, 2, 0).unwrap();
    let reference = model::InfiniteWidth::both_layers(&data).unwrap();
    let mut recorder = both_layers::recorder(&reference, RecorderOptions { lambda_min_every: 1, keep_u: true });
    let config = FlowConfig {
        t_end: 6.0,
        step: StepSize::Fixed(0.01),
        samples: SampleTimes::Uniform { intervals: 60 },
        ..FlowConfig::default()
    };
    both_layers::run(&data, &net, &config, &mut recorder).unwrap();
    let tr = recorder.into_trajectory();
    let s0 = &tr.samples[0];
    assert_eq!(
        (
            s0.second_layer.as_ref().unwrap().a_distance,
            s0.second_layer.as_ref().unwrap().max_a_distance,
            s0.bound_ratio
        ),
        (0.0, 0.0, 1.0)
    );
    assert!(s0.u_infinity_gap < 1e-12);
    let r0_sq = tr.initial_residual_norm.powi(2);
    let mut held = 0;
    for s in &tr.samples {
        let (lh, lhg) = (s.lambda_min_h.unwrap(), s.second_layer.as_ref().unwrap().lambda_min_h_plus_g.unwrap());
        assert!(lhg >= lh - 1e-12, "λmin(H + G) = {lhg} < λmin(H) = {lh} at t = {}", s.t);
        assert!(s.second_layer.as_ref().unwrap().max_a_distance <= s.second_layer.as_ref().unwrap().a_distance);
        if s.premise_held != Some(true) {
            break;
        }
        held += 1;
        let eu = s.u_error_estimate.unwrap() * flow::ANY_ORDER_FACTOR;
        let slack = (2.0 * s.residual_sq.sqrt() * eu + eu * eu) / ((-tr.lambda0 * s.t).exp() * r0_sq);
        assert!(s.bound_ratio <= 1.0 + slack + 1e-12, "Thm 2.6 decay violated at t = {}", s.t);
    }
    assert!(held > 10, "premise held at only {held} samples");
    let last = tr.samples.last().unwrap();
    assert!(last.second_layer.as_ref().unwrap().a_distance > 0.0);
    println!(
        "Thm 2.6 at m = 2000: λ0 = {:.4}; t = {}: bound ratio {:.3e}, λmin(H) {:.4}, λmin(H + G) {:.4}, ‖a − a(0)‖ {:.3e}, gap to u∞ {:.3e}",
        tr.lambda0,
        last.t,
        last.bound_ratio,
        last.lambda_min_h.unwrap(),
        last.second_layer.as_ref().unwrap().lambda_min_h_plus_g.unwrap(),
        last.second_layer.as_ref().unwrap().a_distance,
        last.u_infinity_gap
    );
}

/// The same recorder observes a first-layer run (flow::run): there a stays put, bit for bit.
#[test]
fn first_layer_run_keeps_a_fixed() {
    let data = Dataset::sphere(6, 4, 3, 0).unwrap();
    let net = Network::init(200, 4, 3, 0).unwrap();
    let reference = model::InfiniteWidth::first_layer(&data).unwrap();
    let mut recorder = both_layers::recorder(&reference, RecorderOptions::default());
    let config = FlowConfig { t_end: 1.0, step: StepSize::Fixed(0.02), ..FlowConfig::default() };
    flow::run(&data, &net, &config, &mut recorder).unwrap();
    assert!(recorder.samples().iter().all(|s| s.second_layer.as_ref().unwrap().a_distance == 0.0));
    assert!(recorder.samples().last().unwrap().max_weight_distance > 0.0);
}
