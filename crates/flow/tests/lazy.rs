//! The lazy kernel-space step against the exact fused RK4 step (`KernelField::rk4_step` with the
//! generic embedded estimate): without flips, with many, with a planted too-small certainty bound,
//! through the fallback, and on 1 and 2 threads.

use faer::Mat;
use flow::{ErrorParts, KernelField, KernelState, LazyKernel, LazyOptions, OdeState, VectorField};
use model::{Dataset, Network};

mod common;
use common::{fixed_steps, network_with_margin, uniform};

/// The exact step: k1 = F(x), the fused RK4 step, k5 = F(x_next) and the parts of (h/6)(k4 − k5);
/// also ‖F(x)‖, the scale of the cancellation in k4 − k5.
fn exact_step(field: &KernelField<'_>, x: &KernelState, h: f64) -> (KernelState, f64, ErrorParts, f64) {
    let k1 = field.evaluate(0.0, x).unwrap().derivative;
    let (next, k5, parts) = flow::embedded_step(field, 0.0, x, &k1, h).unwrap();
    (next, k5.loss, parts, k1.norm())
}

fn rel_mat(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_max() / b.norm_max().max(f64::MIN_POSITIVE)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

/// |lazy − exact| over what the comparison allows: 1e-9 relative, or the rounding floor of the
/// exact estimate itself, which subtracts two stages of size ‖F‖ (state part: 64 ε (h/6) ‖F(x)‖)
/// and two predictions of size ‖u‖ (u part: 64 ε ‖u‖). Above 1 fails.
fn excess(lazy: f64, exact: f64, floor: f64) -> f64 {
    (lazy - exact).abs() / (1e-9 * exact.abs() + floor)
}

/// Largest disagreements over `steps` steps of the lazy and the exact trajectories from the same start.
#[derive(Debug, Default)]
struct Agreement {
    /// Relative, of Z and C (max entry).
    state: f64,
    /// Relative, of u (max entry).
    u: f64,
    loss: f64,
    /// Relative, of the estimate's state part (for the record).
    error_state: f64,
    /// Relative, of the estimate's u part (for the record).
    error_u: f64,
    /// [`excess`] of the state and u parts (the asserted numbers).
    excess_state: f64,
    excess_u: f64,
    /// min over steps and neurons of bound / exact (exact above 1e-300).
    neuron_ratio: f64,
}

fn compare(field: &KernelField<'_>, lazy: &mut LazyKernel<'_>, x0: &KernelState, h: f64, steps: usize) -> Agreement {
    let mut x = x0.clone();
    let mut g = Agreement { neuron_ratio: f64::INFINITY, ..Agreement::default() };
    for _ in 0..steps {
        let (next, loss, parts, speed) = exact_step(field, &x, h);
        let s = lazy.step(h).unwrap();
        x = next;
        let got = lazy.state();
        g.state = g.state.max(rel_mat(&got.z, &x.z)).max(rel_mat(&got.c, &x.c));
        let u = field.predictions(x.z.as_ref());
        g.u = g.u.max((lazy.predictions() - &u).norm_max() / u.norm_max());
        g.loss = g.loss.max(rel(s.loss, loss));
        let (lazy_u, exact_u) = (s.error.u.unwrap(), parts.u.unwrap());
        g.error_state = g.error_state.max(rel(s.error.state, parts.state));
        g.error_u = g.error_u.max(rel(lazy_u, exact_u));
        let eps = f64::EPSILON;
        g.excess_state = g.excess_state.max(excess(s.error.state, parts.state, 64.0 * eps * h / 6.0 * speed));
        g.excess_u = g.excess_u.max(excess(lazy_u, exact_u, 64.0 * eps * u.norm_l2()));
        let (bound, exact) = (s.error.neurons.unwrap(), parts.neurons.unwrap());
        for (b, e) in bound.iter().zip(&exact) {
            if *e > 1e-300 {
                g.neuron_ratio = g.neuron_ratio.min(b / e);
            }
        }
    }
    g
}

/// The lazy stepper of `field` with `options` from `x0`, after [`compare`] over `steps` steps of `h`.
fn lazy_compared<'a>(
    field: &'a KernelField<'a>,
    x0: &KernelState,
    options: LazyOptions,
    h: f64,
    steps: usize,
) -> (LazyKernel<'a>, Agreement) {
    let mut lazy = LazyKernel::with_options(field, x0.clone(), options).unwrap();
    let g = compare(field, &mut lazy, x0, h, steps);
    (lazy, g)
}

/// Unit-sphere data (n × d) and the seeded init of width m, both drawn from `seed`.
fn problem(n: usize, d: usize, m: usize, seed: u64) -> (Dataset, Network) {
    (Dataset::sphere(n, d, seed, 0).unwrap(), Network::init(m, d, seed, 0).unwrap())
}

/// How many pre-activations of `data` change sign from `before` to `after`.
fn flipped(data: &Dataset, before: &Network, after: &Network) -> u64 {
    let patterns = |net: &Network| model::PatternBits::from_preactivations(net.forward(data).unwrap().z.as_ref());
    patterns(after).changed_count(&patterns(before))
}

fn check(g: &Agreement) {
    assert!(g.state <= 1e-11 && g.u <= 1e-11 && g.loss <= 1e-11, "{g:?}");
    assert!(g.excess_state <= 1.0 && g.excess_u <= 1.0, "{g:?}");
    assert!(g.neuron_ratio >= 1.0, "the per-neuron bounds must bound the exact errors: {g:?}");
}

/// No flips: every |z_ri(0)| ≥ 0.05 and the neurons move less than that; the step is one GEMM
/// with no stage corrections, and equals the exact step to rounding.
#[test]
fn no_flips_equals_the_exact_step() {
    let data = Dataset::sphere(8, 8, 1, 0).unwrap();
    let net = network_with_margin(&data, 2000, 0.05, 2);
    let field = KernelField::new(&data, &net.a);
    let x0 = KernelState::initial(&data, &net);
    let (lazy, g) = lazy_compared(&field, &x0, LazyOptions::default(), 0.01, 30);
    let c = lazy.counters();
    println!("no flips: {g:?} {c:?}");
    assert_eq!((c.flips, c.stage_flips, c.fallbacks), (0, 0, 0));
    check(&g);
    // Z − Z(0) = K C still holds.
    let x = lazy.state();
    assert!((&x.z - &x0.z - data.input_gram() * &x.c).norm_max() < 1e-12);
}

/// A narrow network with a long step: patterns change at the stage points and between steps,
/// and the lazy step still equals the exact one to rounding; `between` equals an exact step of
/// length τ and leaves the state alone.
#[test]
fn many_flips_equal_the_exact_step() {
    let (data, net) = problem(12, 12, 40, 3);
    let field = KernelField::new(&data, &net.a);
    let (lazy, g) = lazy_compared(&field, &KernelState::initial(&data, &net), LazyOptions::default(), 0.1, 60);
    let c = lazy.counters();
    println!("many flips: {g:?} {c:?}");
    assert!(c.flips >= 20 && c.stage_flips >= 20, "the case must change many patterns: {c:?}");
    assert_eq!(c.fallbacks, 0, "{c:?}");
    check(&g);
    let before = lazy.state().clone();
    let (xs, loss, parts) = lazy.between(0.037).unwrap();
    assert_eq!(lazy.state(), &before);
    let (exact, exact_loss, exact_parts, speed) = exact_step(&field, &before, 0.037);
    assert!(rel_mat(&xs.z, &exact.z) <= 1e-11 && rel_mat(&xs.c, &exact.c) <= 1e-11);
    assert!(rel(loss, exact_loss) <= 1e-11);
    let floor = 64.0 * f64::EPSILON * 0.037 / 6.0 * speed;
    println!("between: state {:e} vs {:e}", parts.state, exact_parts.state);
    assert!(excess(parts.state, exact_parts.state, floor) <= 1.0);
}

/// H̄ rebuilt from scratch after every step with a flip, or never after `new`: both equal the
/// exact step (the O(n) flip updates of H̄ are exact up to rounding).
#[test]
fn rebuilding_the_gram_matrix_or_not_gives_the_same_step() {
    let (data, net) = problem(12, 12, 40, 3);
    let field = KernelField::new(&data, &net.a);
    let x0 = KernelState::initial(&data, &net);
    for rebuild_row_flips in [1, u32::MAX] {
        let options = LazyOptions { rebuild_row_flips, ..LazyOptions::default() };
        let (lazy, g) = lazy_compared(&field, &x0, options, 0.1, 60);
        let c = lazy.counters();
        println!("rebuild after {rebuild_row_flips} row flips: {g:?} {c:?}");
        if rebuild_row_flips == 1 {
            assert!(c.rebuilds > 10, "{c:?}");
        } else {
            assert_eq!(c.rebuilds, 1, "{c:?}");
        }
        check(&g);
    }
}

/// The planted mutation: certainty bounds scaled by 0.01 miss stage-point flips, and the step
/// then disagrees with the exact one far beyond rounding; so the bound is what makes it exact.
#[test]
fn a_too_small_certainty_bound_breaks_the_step() {
    let (data, net) = problem(12, 12, 40, 3);
    let field = KernelField::new(&data, &net.a);
    let options = LazyOptions { certainty_factor: 0.01, ..LazyOptions::default() };
    let (lazy, g) = lazy_compared(&field, &KernelState::initial(&data, &net), options, 0.1, 60);
    println!("certainty factor 0.01: {g:?} {:?}", lazy.counters());
    assert!(g.state > 1e-6, "a too-small bound must change the trajectory: {g:?}");
}

/// The fallback: a reach margin of 0.5 makes every stage residual exceed the screen (the exact
/// fused step is taken); switching back and forth keeps agreeing with the exact trajectory.
#[test]
fn the_fallback_is_exact_and_the_lazy_step_resumes_after_it() {
    let (data, net) = problem(12, 12, 40, 3);
    let field = KernelField::new(&data, &net.a);
    let mut lazy = LazyKernel::new(&field, KernelState::initial(&data, &net)).unwrap();
    let h = 0.1;
    let mut worst: f64 = 0.0;
    for k in 0..30 {
        let margin = if (10..20).contains(&k) { 0.5 } else { 2.0 };
        lazy.set_options(LazyOptions { reach_margin: margin, ..LazyOptions::default() });
        let (next, loss, parts, _) = exact_step(&field, lazy.state(), h);
        let s = lazy.step(h).unwrap();
        assert_eq!(s.fallback, margin < 1.0, "step {k}");
        if s.fallback {
            // The same code path as the exact step: the same bits.
            assert_eq!(s.error, parts);
            assert_eq!(lazy.state(), &next);
            assert_eq!(s.loss, loss);
        }
        worst = worst.max(rel_mat(&lazy.state().z, &next.z)).max(rel_mat(&lazy.state().c, &next.c));
        worst = worst.max(rel(s.loss, loss));
    }
    assert_eq!(lazy.counters().fallbacks, 10);
    assert!(lazy.counters().stage_flips > 0);
    assert!(worst <= 1e-11, "{worst}");
}

/// Non-finite values end in +∞ or an error, never a panic.
#[test]
fn non_finite_steps_end_in_infinity_or_an_error() {
    let (data, net) = problem(6, 6, 30, 3);
    let field = KernelField::new(&data, &net.a);
    let mut lazy = LazyKernel::new(&field, KernelState::initial(&data, &net)).unwrap();
    assert!(lazy.step(f64::NAN).is_err() && lazy.step(0.0).is_err());
    for _ in 0..3 {
        if let Ok(s) = lazy.step(1e200) {
            assert!(s.loss == f64::INFINITY || s.loss.is_finite());
        }
    }
}

/// The same bits on 1 and 2 threads, with the blocks in parallel (m = 600: three neuron blocks).
#[test]
fn same_bits_on_one_and_two_threads() {
    let (data, net) = problem(10, 10, 600, 5);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let field = KernelField::with_parallelism(&data, &net.a, true);
            let mut lazy = LazyKernel::new(&field, KernelState::initial(&data, &net)).unwrap();
            let mut out = Vec::new();
            for _ in 0..20 {
                let s = lazy.step(0.1).unwrap();
                out.push((s.loss.to_bits(), s.error));
            }
            let between = lazy.between(0.05).unwrap();
            (lazy.state().clone(), lazy.counters(), out, between)
        })
    };
    let (one, two) = (run(1), run(2));
    assert!(one.1.flips > 0 && one.1.stage_flips > 0, "{:?}", one.1);
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
    assert_eq!(one.2, two.2);
    assert_eq!(one.3.0, two.3.0);
    assert_eq!(one.3.1.to_bits(), two.3.1.to_bits());
    assert_eq!(one.3.2, two.3.2);
}

/// Records every sample's (t, step, loss, state error) and the first-layer weights at the last.
#[derive(Default)]
struct Seen {
    samples: Vec<(f64, usize, f64, f64)>,
}

impl flow::Observer<flow::Snapshot<'_>, flow::FlowError> for Seen {
    fn observe(&mut self, s: &flow::Snapshot<'_>) -> flow::Result<flow::Control> {
        self.samples.push((s.t, s.step, s.loss, s.error.map_or(f64::NAN, |e| e.state)));
        Ok(flow::Control::Continue)
    }
}

fn run_in(space: flow::Space, data: &Dataset, net: &Network, config: &flow::FlowConfig) -> (flow::RunOutcome, Seen) {
    let mut seen = Seen::default();
    let config = flow::FlowConfig { space, ..config.clone() };
    let out = flow::run(data, net, &config, &mut seen).unwrap();
    (out, seen)
}

/// `flow::run` in kernel space under the embedded estimate takes the lazy step; with the lazy step
/// off (`Space::KernelFused`) it takes the fused one: the same run to rounding, samples between
/// grid points included, on a case whose patterns flip.
#[test]
fn the_driver_runs_the_lazy_step_and_it_matches_the_fused_run() {
    let (data, net) = problem(12, 12, 40, 5);
    let config = fixed_steps(3.0, 0.1, flow::SampleTimes::Explicit(vec![0.05, 1.0, 1.37, 2.5]));
    let (lazy, lazy_seen) = run_in(flow::Space::Kernel, &data, &net, &config);
    let (fused, fused_seen) = run_in(flow::Space::KernelFused, &data, &net, &config);
    assert_eq!((lazy.status, lazy.steps, lazy.evaluations), (fused.status, fused.steps, fused.evaluations));
    assert_eq!((lazy.space, fused.space), (flow::Space::Kernel, flow::Space::KernelFused));
    assert!(rel_mat(&lazy.network.w, &fused.network.w) < 1e-11, "the final weights differ");
    assert!(rel(lazy.loss, fused.loss) < 1e-11);
    assert_eq!(lazy_seen.samples.len(), 6);
    for (a, b) in lazy_seen.samples.iter().zip(&fused_seen.samples) {
        assert_eq!((a.0, a.1), (b.0, b.1));
        assert!(rel(a.2, b.2) < 1e-11, "sample losses {a:?} vs {b:?}");
        // The summed embedded estimates agree up to the rounding floor of k4 − k5.
        assert!((a.3 - b.3).abs() <= 1e-6 * b.3 + 1e-12, "sample errors {a:?} vs {b:?}");
    }
    let changed = flipped(&data, &net, &fused.network);
    assert!(changed > 10, "the case must flip patterns (flipped {changed})");
}

/// A lazy run that diverges refuses the failing step and returns the last sampled state, finite,
/// with a status that names that sample.
#[test]
fn a_diverging_lazy_run_returns_its_last_sample() {
    let (data, net) = problem(6, 8, 30, 2);
    let config = flow::FlowConfig { divergence_factor: 2.0, ..uniform(400.0, 40.0, 10) };
    let (out, seen) = run_in(flow::Space::Kernel, &data, &net, &config);
    let flow::Status::Diverged { t, step, .. } = out.status else { panic!("h = 40 must diverge: {:?}", out.status) };
    let last = seen.samples.last().unwrap();
    assert_eq!((t, step), (last.0, last.1), "the status names the last sample");
    assert_eq!(out.t, t);
    assert!(out.network.w.is_finite() && out.loss.is_finite());
    assert!(rel(out.loss, last.2) < 1e-12, "the returned state is the one sampled");
}
