//! The both-layer flow against its identities: monotone loss and du/dt = (H + G)(y − u) with H weighted by a_r(t)².

use faer::{Col, Mat};
use flow::{Control, ErrorEstimate, FlowConfig, RecorderOptions, SampleTimes, Snapshot, StepSize};
use model::{Dataset, Network, gram_g, gram_h};

/// A width-`m` network whose neurons all have |w_r(0)ᵀx_i| ≥ `margin` (seeded init, filtered in order).
fn network_with_margin(data: &Dataset, m: usize, margin: f64, seed: u64) -> Network {
    let pool = Network::init(8 * m, data.d(), seed, 0).unwrap();
    let z = pool.forward(data).unwrap().z;
    let keep: Vec<usize> =
        (0..pool.m()).filter(|&r| (0..data.n()).all(|i| z[(i, r)].abs() >= margin)).take(m).collect();
    assert_eq!(keep.len(), m, "not enough neurons clear the margin");
    Network::new(Mat::from_fn(m, data.d(), |r, k| pool.w[(keep[r], k)]), Col::from_fn(m, |r| pool.a[keep[r]])).unwrap()
}

/// Under the flow dL/dt = −‖∂L/∂W‖² − ‖∂L/∂a‖² ≤ 0: the loss never increases along a sampled
/// trajectory, while a really moves.
#[test]
fn loss_never_increases_under_the_both_layer_flow() {
    let data = Dataset::sphere(10, 5, 3, 0).unwrap();
    let net = Network::init(300, 5, 3, 0).unwrap();
    let reference = model::InfiniteWidth::both_layers(&data).unwrap();
    let mut recorder = both_layers::recorder(&reference, RecorderOptions { keep_u: false, ..Default::default() });
    let config = FlowConfig {
        t_end: 8.0,
        step: StepSize::Fixed(0.01),
        samples: SampleTimes::Uniform { intervals: 200 },
        error_estimate: ErrorEstimate::LocalSampled { every: 10 },
        ..FlowConfig::default()
    };
    both_layers::run(&data, &net, &config, &mut recorder).unwrap();
    let samples = recorder.samples();
    for pair in samples.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(b.loss <= a.loss * (1.0 + 1e-12), "loss rose from {} to {} at t = {}", a.loss, b.loss, b.t);
    }
    let (first, last) = (&samples[0], samples.last().unwrap());
    assert!(last.second_layer.as_ref().unwrap().a_distance > 0.0 && last.pattern_change_fraction > 0.0);
    assert!(last.loss < 0.1 * first.loss, "loss {} → {}", first.loss, last.loss);
}

/// What [`Kept`] stores per sample.
struct KeptSample {
    t: f64,
    u: Col<f64>,
    h: Mat<f64>,
    g: Mat<f64>,
    z: Mat<f64>,
}

/// Keeps t, u, H(t) (with a(t)² weights), G(t) and Z at every sample.
struct Kept {
    samples: Vec<KeptSample>,
}

impl flow::Observer<flow::Snapshot<'_>, flow::FlowError> for Kept {
    fn observe(&mut self, s: &Snapshot<'_>) -> flow::Result<Control> {
        let h = gram_h(s.data.input_gram(), s.z, s.a);
        self.samples.push(KeptSample { t: s.t, u: s.u.to_owned(), h, g: gram_g(s.z), z: s.z.to_owned() });
        Ok(Control::Continue)
    }
}

/// du/dt = (H(t) + G(t))(y − u), H with a_r(t)² weights, by central differences at centres away
/// from kinks (every |z_ir(t)| above 4× its movement over [t − 2δ, t + 2δ]).
///
/// Tolerance: H and G vary on the window even without flips (a and σ(Z) move), so u''' has no
/// simple closed bound. The central difference errs by C δ² + O(δ⁴); the differences at δ and 2δ
/// give C δ² ≈ (D(2δ) − D(δ))/3 (Richardson), and the bound is twice that plus 1e-10 (rounding
/// ε‖u‖/δ and the O(h⁴) RK4 part). The extrapolation (4D(δ) − D(2δ))/3, accurate to O(δ⁴), must
/// land within a tenth of that bound. The test can fail: dropping G from the prediction must miss
/// by more than 100× the bound.
#[test]
fn du_dt_is_h_plus_g_times_residual() {
    let data = Dataset::sphere(10, 5, 8, 0).unwrap();
    let net = network_with_margin(&data, 300, 0.05, 8);
    let delta = 1e-3;
    let centres = [0.05, 0.2, 0.3, 0.45, 0.6, 0.8];
    let times: Vec<f64> =
        centres.iter().flat_map(|&c| [c - 2.0 * delta, c - delta, c, c + delta, c + 2.0 * delta]).collect();
    let config = FlowConfig {
        t_end: 0.8 + 2.0 * delta,
        step: StepSize::Fixed(1e-3),
        samples: SampleTimes::Explicit(times),
        error_estimate: ErrorEstimate::LocalSampled { every: 100 },
        ..FlowConfig::default()
    };
    let mut kept = Kept { samples: Vec::new() };
    both_layers::run(&data, &net, &config, &mut kept).unwrap();
    let mut checked = 0;
    for &c in &centres {
        let find = |t: f64| kept.samples.iter().find(|s| s.t == t).unwrap();
        let (m2, m1, at, p1, p2) =
            (find(c - 2.0 * delta), find(c - delta), find(c), find(c + delta), find(c + 2.0 * delta));
        let clear = (0..at.z.ncols()).all(|r| {
            (0..at.z.nrows()).all(|i| {
                let moved = (p2.z[(i, r)] - at.z[(i, r)]).abs().max((at.z[(i, r)] - m2.z[(i, r)]).abs());
                at.z[(i, r)].abs() > 4.0 * moved
            })
        });
        if !clear {
            println!("t = {c}: skipped (some z_ir near its kink)");
            continue;
        }
        let d1 = (&p1.u - &m1.u) * faer::Scale(1.0 / (2.0 * delta));
        let d2 = (&p2.u - &m2.u) * faer::Scale(1.0 / (4.0 * delta));
        let r = data.y() - &at.u;
        let predicted = (&at.h + &at.g) * &r;
        let err = (&d1 - &predicted).norm_l2();
        let bound = 2.0 * (&d2 - &d1).norm_l2() / 3.0 + 1e-10;
        let without_g = (&d1 - &at.h * &r).norm_l2();
        let extrapolated = (&d1 * faer::Scale(4.0 / 3.0) - &d2 * faer::Scale(1.0 / 3.0) - &predicted).norm_l2();
        println!(
            "t = {c}: |FD − (H + G)(y − u)| = {err:.3e} (bound {bound:.3e}); extrapolated {extrapolated:.3e}; without G: {without_g:.3e}"
        );
        assert!(err <= bound, "du/dt ≠ (H + G)(y − u) at t = {c}: {err} > {bound}");
        assert!(extrapolated <= bound / 10.0, "the O(δ⁴) extrapolation misses by {extrapolated} at t = {c}");
        assert!(without_g > 100.0 * bound, "the check cannot tell H from H + G at t = {c}");
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} centres were away from kinks");
}
