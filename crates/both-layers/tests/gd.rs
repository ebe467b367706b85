//! Gradient descent on (W, a): first order against the flow, monotone loss at a small step, divergence status.

use flow::{FlowConfig, NoObserver, RecorderOptions, SampleTimes, StepSize};
use model::{Dataset, Network};

use both_layers::{GdConfig, descend};

fn setup() -> (Dataset, Network) {
    (Dataset::sphere(8, 5, 6, 0).unwrap(), Network::init(400, 5, 6, 0).unwrap())
}

/// GD on [`setup`] with step `eta` for `iterations` iterations, sampled every `sample_every`,
/// recorded with `options`: the outcome and the trajectory.
fn recorded_gd(
    eta: f64,
    iterations: usize,
    sample_every: usize,
    options: RecorderOptions,
) -> (both_layers::GdOutcome, both_layers::Trajectory) {
    let (data, net) = setup();
    let reference = model::InfiniteWidth::both_layers(&data).unwrap();
    let mut recorder = both_layers::recorder(&reference, options);
    let config = GdConfig { eta, iterations, sample_every, ..Default::default() };
    let out = descend(&data, &net, &config, &mut recorder).unwrap();
    (out, recorder.into_trajectory())
}

/// GD is Euler's method on the flow: at t = kη its predictions differ from the flow's by O(η),
/// so halving η halves the gap (ratio in [1.5, 2.5]). The flow reference is RK4 with h = 1e-3,
/// whose own error estimate (of the weights; RK4 loses order at pattern flips) must be below 5% of the gaps.
#[test]
fn gd_tracks_the_both_layer_flow_to_first_order() {
    let (data, net) = setup();
    let config = FlowConfig {
        t_end: 1.0,
        step: StepSize::Fixed(1e-3),
        samples: SampleTimes::Uniform { intervals: 1 },
        // Step doubling: a tight estimate (the embedded one over-estimates by ~1/h on smooth stretches).
        error_estimate: flow::ErrorEstimate::Shadow,
        ..FlowConfig::default()
    };
    let flow_out = both_layers::run(&data, &net, &config, &mut NoObserver).unwrap();
    let gap = |eta: f64, iterations: usize| {
        let gd = descend(
            &data,
            &net,
            &GdConfig { eta, iterations, sample_every: iterations, ..Default::default() },
            &mut NoObserver,
        )
        .unwrap();
        assert_eq!(gd.status, flow::Status::Completed);
        gd.u.iter().zip(&flow_out.u).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt()
    };
    let (coarse, fine) = (gap(4e-3, 250), gap(2e-3, 500));
    println!(
        "‖u_GD − u_flow‖ at t = 1: η = 4e-3: {coarse:.3e}, η = 2e-3: {fine:.3e}, ratio {:.3}; flow error estimate {:.1e}",
        coarse / fine,
        flow_out.error.final_state_error
    );
    assert!((1.5..=2.5).contains(&(coarse / fine)), "GD is not first order in η: {coarse} / {fine}");
    assert!(flow_out.error.final_state_error < 0.05 * fine, "the RK4 reference is not accurate enough");
}

/// With η well below 2/λmax(H + G) the GD loss never increases; the recorder sees t = kη and the
/// discrete bound ratio, and a moves.
#[test]
fn gd_loss_decreases_with_a_small_step() {
    let (out, tr) = recorded_gd(0.05, 300, 5, RecorderOptions { lambda_min_every: 10, keep_u: false });
    assert_eq!((out.status, out.iterations), (flow::Status::Completed, 300));
    assert_eq!(tr.samples.len(), 61);
    for pair in tr.samples.windows(2) {
        assert!(pair[1].loss <= pair[0].loss, "GD loss rose at k = {}", pair[1].step);
    }
    let last = tr.samples.last().unwrap();
    assert_eq!((last.step, last.t), (300, 300.0 * 0.05));
    assert!(last.discrete_bound_ratio.is_some() && last.state_error_estimate.is_none());
    assert!(last.second_layer.as_ref().unwrap().a_distance > 0.0 && last.loss < 0.1 * tr.samples[0].loss);
    assert_eq!(out.loss, last.loss);
}

/// A huge step makes GD blow up: Diverged, with the last finite state, and nothing recorded is NaN.
#[test]
fn gd_divergence_is_a_status_not_nan() {
    let (out, tr) = recorded_gd(50.0, 1000, 1, RecorderOptions { lambda_min_every: 1, keep_u: true });
    assert!(out.status.diverged(), "{:?}", out.status);
    assert!(out.iterations < 1000);
    assert!(out.loss.is_finite() && out.u.iter().all(|v| v.is_finite()));
    assert!(out.network.w.norm_l2().is_finite() && out.network.a.norm_l2().is_finite());
    for s in &tr.samples {
        let b = s;
        let values = [
            b.loss,
            b.bound_ratio,
            b.distance_over_r_prime,
            b.u_infinity_gap,
            s.second_layer.as_ref().unwrap().a_distance,
        ];
        assert!(values.iter().all(|v| !v.is_nan()) && b.u.iter().all(|v| v.is_finite()), "{s:?}");
    }
    println!("η = 50: {:?} after {} iterations", out.status, out.iterations);
}
