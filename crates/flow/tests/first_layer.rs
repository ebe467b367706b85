//! The first-layer flow against its oracles: exact without flips, monotone loss, du/dt = H(y − u), Lem 2.4, u∞.

use faer::{Col, Mat};
use flow::{Control, ErrorEstimate, FlowConfig, Recorder, RecorderOptions, SampleTimes, Snapshot, StepSize, run};
use model::{Dataset, InfiniteWidth, Network, PatternBits, expm_symmetric, gram_h, lambda_max};

mod common;
use common::{fixed_steps, network_with_margin, uniform};

/// While no pattern flips, H is constant and u(t) = y + e^{−H(0)t}(u(0) − y) exactly (docs/theory.md §1.3).
///
/// Every |w_r(0)ᵀx_i| ≥ 0.3 and ‖w_r(t) − w_r(0)‖ ≤ √n ‖y − u(0)‖ t / √m (the loss never increases),
/// which stays below 0.3 on [0, T]: no pattern can flip, and the test asserts it. RK4 with h = 0.005
/// (h·λmax(H) ≈ 0.005) then matches the closed form to ≤ 1e-9 at every sample.
#[test]
fn flow_without_pattern_flips_is_linear_and_exact() {
    let data = Dataset::sphere(4, 6, 21, 0).unwrap();
    let (m, t_end) = (4000, 3.0);
    let net = network_with_margin(&data, m, 0.3, 5);
    let fw0 = net.forward(&data).unwrap();
    let r0 = (&fw0.u - data.y()).norm_l2();
    let move_bound = (data.n() as f64).sqrt() * r0 * t_end / (m as f64).sqrt();
    assert!(move_bound < 0.3, "test setup: neurons could move {move_bound} ≥ margin");
    let h0 = gram_h(data.input_gram(), fw0.z.as_ref(), net.a.as_ref());

    let reference = InfiniteWidth::first_layer(&data).unwrap();
    let mut recorder = Recorder::new(&reference, RecorderOptions::default());
    let config = uniform(t_end, 0.005, 30);
    let outcome = run(&data, &net, &config, &mut recorder).unwrap();
    assert_eq!(outcome.status, flow::Status::Completed);
    assert_eq!(outcome.network.a, net.a, "a must stay fixed bit for bit");
    let trajectory = recorder.into_trajectory();
    let mut worst: f64 = 0.0;
    for s in &trajectory.samples {
        assert_eq!(s.pattern_change_fraction, 0.0, "a pattern flipped at t = {}", s.t);
        let e = expm_symmetric(h0.as_ref(), -s.t).unwrap();
        let exact = data.y() + e * (&fw0.u - data.y());
        let err = (0..data.n()).map(|i| (s.u[i] - exact[i]).powi(2)).sum::<f64>().sqrt();
        worst = worst.max(err);
    }
    let last = trajectory.samples.last().unwrap();
    println!(
        "no-flip flow: max |u_RK4 − u_exact| = {worst:.3e}; loss {:.4} → {:.4}",
        trajectory.samples[0].loss, last.loss
    );
    assert!(last.loss < 0.5 * trajectory.samples[0].loss, "the flow must move for the test to mean anything");
    assert!(worst <= 1e-9, "RK4 is off the exact linear flow by {worst}");
    assert!(last.u_error_estimate.unwrap() <= 1e-9);
}

/// Under the flow dL/dt = −‖∂L/∂W‖² ≤ 0, so the loss never increases along a sampled trajectory,
/// pattern flips included (the test asserts that some patterns flip).
#[test]
fn loss_never_increases_along_the_flow() {
    let data = Dataset::sphere(10, 5, 3, 0).unwrap();
    let net = Network::init(300, 5, 3, 0).unwrap();
    let reference = InfiniteWidth::first_layer(&data).unwrap();
    let mut recorder = Recorder::new(&reference, RecorderOptions { keep_u: false, ..Default::default() });
    let config = FlowConfig { error_estimate: ErrorEstimate::LocalSampled { every: 10 }, ..uniform(8.0, 0.01, 200) };
    run(&data, &net, &config, &mut recorder).unwrap();
    let samples = &recorder.trajectory().samples;
    for pair in samples.windows(2) {
        assert!(
            pair[1].loss <= pair[0].loss * (1.0 + 1e-12),
            "loss rose from {} to {} at t = {}",
            pair[0].loss,
            pair[1].loss,
            pair[1].t
        );
    }
    let last = samples.last().unwrap();
    assert!(last.pattern_change_fraction > 0.0, "no pattern flipped: the test would not cover flips");
    assert!(last.loss < 0.1 * samples[0].loss, "loss {} → {}", samples[0].loss, last.loss);
}

/// What [`Kept`] stores per sample.
struct KeptSample {
    t: f64,
    u: Col<f64>,
    h: Mat<f64>,
    z: Mat<f64>,
    patterns: PatternBits,
}

/// Keeps t, u, H(t), Z and the patterns at every sample.
struct Kept {
    samples: Vec<KeptSample>,
}

impl flow::Observer<flow::Snapshot<'_>, flow::FlowError> for Kept {
    fn observe(&mut self, s: &Snapshot<'_>) -> flow::Result<Control> {
        let h = gram_h(s.data.input_gram(), s.z, s.a);
        let patterns = PatternBits::from_preactivations(s.z);
        self.samples.push(KeptSample { t: s.t, u: s.u.to_owned(), h, z: s.z.to_owned(), patterns });
        Ok(Control::Continue)
    }
}

/// True when no z_ir comes near its kink on [t − δ, t + δ]: each |z_ir(t)| exceeds 4× its own
/// movement over either half window. RK4 stages sit within about one step's movement of the
/// step's endpoints, so neither the steps nor their stages can cross z = 0.
fn away_from_kinks(before: &Mat<f64>, at: &Mat<f64>, after: &Mat<f64>) -> bool {
    (0..at.ncols()).all(|r| {
        (0..at.nrows()).all(|i| {
            let moved = (after[(i, r)] - at[(i, r)]).abs().max((at[(i, r)] - before[(i, r)]).abs());
            at[(i, r)].abs() > 4.0 * moved
        })
    })
}

/// du/dt = H(t)(y − u) (first layer), by central differences (u(t+δ) − u(t−δ))/(2δ) at centres
/// t away from pattern flips.
///
/// "Away" is checked per entry ([`away_from_kinks`]), not hoped for. Centres failing it are
/// skipped: after the first flips the flow can *slide* along a kink z_ir = 0 (on this seed two
/// entries chatter across it at every RK4 step from t ≈ 1), and there du/dt is a Filippov mixture
/// of both patterns' H, so the slide's du/dt = H(t)(y − u) is a statement about flip-free
/// stretches. At least four centres must qualify, one of them after a pattern flip.
///
/// Tolerance: with H constant on the window, u''' = H³(y − u), so the central difference errs by
/// at most δ²/6 · λmax(H)³ ‖y − u‖; the RK4 global error is a smooth function of t there (its
/// difference over 2δ is O(h⁴)) and rounding adds ~ε‖u‖/δ ≈ 1e-13. Bound: twice the first term + 1e-11.
#[test]
fn du_dt_is_h_times_residual() {
    let data = Dataset::sphere(10, 5, 8, 0).unwrap();
    let net = network_with_margin(&data, 300, 0.05, 8);
    let delta = 1e-3;
    let centres = [0.05, 0.2, 0.3, 0.45, 0.5, 0.6, 0.8, 1.2, 2.0];
    let times: Vec<f64> = centres.iter().flat_map(|&c| [c - delta, c, c + delta]).collect();
    let config = FlowConfig {
        error_estimate: ErrorEstimate::LocalSampled { every: 100 },
        ..fixed_steps(2.0 + delta, 1e-3, SampleTimes::Explicit(times))
    };
    let mut kept = Kept { samples: Vec::new() };
    run(&data, &net, &config, &mut kept).unwrap();
    let (mut checked, mut after_a_flip) = (0, 0);
    let patterns0 = &kept.samples[0].patterns;
    for &c in &centres {
        let find = |t: f64| kept.samples.iter().find(|s| s.t == t).unwrap();
        let (before, at, after) = (find(c - delta), find(c), find(c + delta));
        let flips = at.patterns.changed_count(patterns0);
        if !away_from_kinks(&before.z, &at.z, &after.z) {
            println!("t = {c}: skipped (some z_ir near its kink), flips since 0: {flips}");
            continue;
        }
        let fd = (&after.u - &before.u) * faer::Scale(1.0 / (2.0 * delta));
        let r = data.y() - &at.u;
        let predicted = &at.h * &r;
        let err = (&fd - &predicted).norm_l2();
        let lmax = lambda_max(at.h.as_ref()).unwrap();
        let bound = 2.0 * delta * delta / 6.0 * lmax.powi(3) * r.norm_l2() + 1e-11;
        println!(
            "t = {c}: |FD − H(y − u)| = {err:.3e} (bound {bound:.3e}, |H(y − u)| = {:.3e}), flips since 0: {flips}",
            predicted.norm_l2()
        );
        assert!(err <= bound, "du/dt ≠ H(y − u) at t = {c}: {err} > {bound}");
        checked += 1;
        after_a_flip += usize::from(flips > 0);
    }
    assert!(checked >= 4, "only {checked} centres were away from pattern flips");
    assert!(after_a_flip >= 1, "no checked centre came after a pattern flip");
}

/// Lem 2.4 (paper Lem 3.3) on a trajectory, over the samples where its premise λmin(H(s)) ≥ λ0/2 held:
/// ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖² up to the integrator's own error estimate (× ANY_ORDER_FACTOR,
/// since patterns flip), and
/// max_r ‖w_r(t) − w_r(0)‖ ≤ R'. Also the recorder's values at t = 0.
#[test]
fn lemma_2_4_holds_while_its_premise_holds() {
    let data = Dataset::sphere(6, 4, 2, 0).unwrap();
    let net = Network::init(2000, 4, 2, 0).unwrap();
    let reference = InfiniteWidth::first_layer(&data).unwrap();
    let mut recorder = Recorder::new(&reference, RecorderOptions { lambda_min_every: 1, keep_u: true });
    let config = uniform(6.0, 0.01, 60);
    run(&data, &net, &config, &mut recorder).unwrap();
    let tr = recorder.into_trajectory();
    let s0 = &tr.samples[0];
    assert_eq!((s0.t, s0.bound_ratio, s0.pattern_change_fraction, s0.max_weight_distance), (0.0, 1.0, 0.0, 0.0));
    assert!(s0.u_infinity_gap < 1e-12, "u∞(0) = u(0): gap {}", s0.u_infinity_gap);
    assert_eq!(s0.premise_held, Some(true), "premise fails at t = 0: the test would be vacuous");
    let held = tr.samples_while_premise_held();
    assert!(held.len() > 10);
    let r0_sq = tr.initial_residual_norm.powi(2);
    for s in held {
        let eu = s.u_error_estimate.unwrap() * flow::ANY_ORDER_FACTOR;
        let slack = (2.0 * s.residual_sq.sqrt() * eu + eu * eu) / ((-tr.lambda0 * s.t).exp() * r0_sq);
        assert!(s.bound_ratio <= 1.0 + slack + 1e-12, "Lem 2.4 decay violated at t = {}: {}", s.t, s.bound_ratio);
        assert!(s.distance_over_r_prime <= 1.0, "Lem 2.4 distance violated at t = {}", s.t);
        assert!(s.weight_distance_frobenius >= s.max_weight_distance);
    }
    let last = held.last().unwrap();
    println!(
        "Lem 2.4 at m = 2000: λ0 = {:.4}, R' = {:.4}; at t = {}: bound ratio {:.3e}, distance/R' {:.4}, λmin(H) {:.4}",
        tr.lambda0,
        tr.r_prime,
        last.t,
        last.bound_ratio,
        last.distance_over_r_prime,
        last.lambda_min_h.unwrap()
    );
}

/// The gap ‖u(t) − u∞(t)‖ to the infinite-width prediction shrinks with the width (like 1/√m:
/// 100× the width should give about a tenth; asserted: below a third).
#[test]
fn u_infinity_gap_shrinks_with_width() {
    let data = Dataset::sphere(5, 4, 13, 0).unwrap();
    let reference = InfiniteWidth::first_layer(&data).unwrap();
    let config = FlowConfig { error_estimate: ErrorEstimate::LocalSampled { every: 10 }, ..uniform(3.0, 0.02, 15) };
    let gap = |m: usize| {
        let net = Network::init(m, 4, 13, 0).unwrap();
        let mut recorder = Recorder::new(&reference, RecorderOptions::default());
        run(&data, &net, &config, &mut recorder).unwrap();
        recorder.trajectory().max_u_infinity_gap()
    };
    let (narrow, wide) = (gap(100), gap(10_000));
    println!("max_t ‖u(t) − u∞(t)‖: m = 100: {narrow:.4}, m = 10000: {wide:.4}");
    assert!(wide < narrow / 3.0, "gap did not shrink: {narrow} → {wide}");
}

/// `StepSize::Tolerance` in a run: the driver uses the chosen h, which met the tolerance on its
/// probe, and counts the probe's evaluations.
#[test]
fn run_uses_the_step_chosen_from_a_tolerance() {
    let data = Dataset::sphere(6, 4, 9, 0).unwrap();
    let net = Network::init(200, 4, 9, 0).unwrap();
    let selection = flow::StepSelection { tol: 1e-6, h_initial: 0.5, max_halvings: 20, probe_steps: 8 };
    let config = FlowConfig { t_end: 2.0, step: StepSize::Tolerance(selection), ..FlowConfig::default() };
    let out = run(&data, &net, &config, &mut flow::NoObserver).unwrap();
    let choice = out.step_choice.unwrap();
    assert_eq!(out.h, choice.h);
    assert!(choice.halvings >= 1 && choice.error_per_unit_time <= 1e-6, "{choice:?}");
    // 1 + 4 per grid step, and 4 per sample off the grid (a separate step with its estimate).
    let times = config.sample_times().unwrap();
    let off_grid = times.iter().filter(|&&t| ((t / out.h).round() * out.h - t).abs() > 1e-9 * out.h).count();
    assert!(off_grid > 0);
    assert_eq!(out.evaluations, choice.evaluations + 1 + 4 * out.steps + 4 * off_grid);
    println!(
        "tol 1e-6: h = {}, after {} halvings; run error estimate {:.2e}",
        out.h, choice.halvings, out.error.max_state_error
    );
}
