//! The reduced solver against the full ones (`flow`, `descent`) on the same network: loss, λmin(H),
//! pattern-change fraction and max_r ‖w_r − w_r(0)‖ agree to rounding while the loss is above
//! 10⁻¹⁰ of its start, with the budget enlarged mid-run and neurons moved from frozen to active.

use faer::Mat;
use faer::linalg::solvers::Solve;
use flow::{ErrorEstimate, FlowConfig, SampleTimes, Snapshot, StepSize};
use model::{Dataset, Network, PatternBits, gram_h, lambda_min};
use reduced::{BudgetPolicy, Control, GivenNetwork, NeuronSource, Sample, SeededInit, System, run_flow, run_gd};

/// One observation, full or reduced.
#[derive(Debug, Clone, Copy)]
struct Obs {
    loss: f64,
    lambda_min: f64,
    changes: f64,
    distance: f64,
}

impl From<&Sample> for Obs {
    fn from(s: &Sample) -> Self {
        Obs { loss: s.loss, lambda_min: s.lambda_min_h, changes: s.pattern_change_fraction, distance: s.max_distance }
    }
}

/// Inputs on the sphere with some |x_iᵀx_j| ≥ 0.3 (so H(t) is far from diagonal) and labels scaled to `y_scale`.
fn data(n: usize, d: usize, y_scale: f64) -> Dataset {
    for seed in 0.. {
        let data = Dataset::sphere(n, d, seed, 0).unwrap();
        let k = data.input_gram();
        let max_off =
            (0..n).flat_map(|i| (0..i).map(move |j| (i, j))).map(|(i, j)| k[(i, j)].abs()).fold(0.0, f64::max);
        if (0.3..=0.9).contains(&max_off) {
            let y = faer::Col::from_fn(n, |i| y_scale * data.y()[i]);
            return data.with_labels(y).unwrap();
        }
    }
    unreachable!()
}

/// Compares while the full loss is above 10⁻¹⁰ of its start; returns how many samples were compared.
///
/// λmin(H), the pattern-change fraction and the distance agree to relative `tol`. The loss agrees
/// to |ΔL| ≤ tol·(L + ‖e‖‖e(0)‖), e = u − y: relative `tol` while ‖e‖ is comparable to ‖e(0)‖,
/// and below that the residual agrees to `tol`·‖e(0)‖ — u is a sum of m terms of size 1/√m whose
/// rounding (≈ 10⁻¹⁵ absolute, in either solver's summation order) is all that is left of
/// L = ½‖e‖² once e is small (docs/theory.md §5.4).
fn compare(full: &[Obs], red: &[Obs], tol: f64) -> usize {
    assert_eq!(full.len(), red.len(), "sample counts differ");
    let loss0 = full[0].loss;
    let e0 = (2.0 * loss0).sqrt();
    let rel = |a: f64, b: f64| (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE);
    let mut compared = 0;
    for (k, (f, r)) in full.iter().zip(red).enumerate() {
        if f.loss <= 1e-10 * loss0 {
            break;
        }
        let e = (2.0 * f.loss).sqrt();
        let loss_band = tol * (f.loss + e * e0);
        assert!((f.loss - r.loss).abs() <= loss_band, "sample {k}: loss {} vs {} (band {loss_band:e})", f.loss, r.loss);
        assert!(rel(f.lambda_min, r.lambda_min) <= tol, "sample {k}: λmin {} vs {}", f.lambda_min, r.lambda_min);
        assert!(rel(f.changes, r.changes) <= tol, "sample {k}: pattern changes {} vs {}", f.changes, r.changes);
        assert!(rel(f.distance, r.distance) <= tol, "sample {k}: distance {} vs {}", f.distance, r.distance);
        compared += 1;
    }
    compared
}

/// The full flow observed like the reduced one.
fn full_flow(data: &Dataset, net: &Network, h: f64, t_end: f64, intervals: usize) -> Vec<Obs> {
    let w0 = net.w.clone();
    let s0 = PatternBits::from_preactivations(net.forward(data).unwrap().z.as_ref());
    let mut out = Vec::new();
    struct Rec<'a> {
        w0: &'a Mat<f64>,
        s0: &'a PatternBits,
        out: &'a mut Vec<Obs>,
    }
    impl flow::Observer<Snapshot<'_>, flow::FlowError> for Rec<'_> {
        fn observe(&mut self, s: &Snapshot<'_>) -> flow::Result<flow::Control> {
            let h = gram_h(s.data.input_gram(), s.z, s.a);
            let now = PatternBits::from_preactivations(s.z);
            self.out.push(Obs {
                loss: s.loss,
                lambda_min: lambda_min(h.as_ref()).unwrap(),
                changes: model::pattern_change_fraction(&now, self.s0),
                distance: model::max_weight_distance(s.w, self.w0.as_ref()),
            });
            Ok(flow::Control::Continue)
        }
    }
    let config = FlowConfig {
        t_end,
        step: StepSize::Fixed(h),
        samples: SampleTimes::Uniform { intervals },
        error_estimate: ErrorEstimate::LocalSampled { every: usize::MAX },
        divergence_factor: 1e6,
        space: flow::Space::Weight,
    };
    flow::run(data, net, &config, &mut Rec { w0: &w0, s0: &s0, out: &mut out }).unwrap();
    out
}

fn full_gd(data: &Dataset, net: &Network, eta: f64, iterations: usize) -> Vec<Obs> {
    struct Rec<'a>(&'a mut Vec<Obs>);
    impl descent::Observer<descent::View<'_>, descent::DescentError> for Rec<'_> {
        fn observe(&mut self, view: &descent::View<'_>) -> descent::Result<descent::Control> {
            let (p, s) = (view.problem, view.state);
            self.0.push(Obs {
                loss: s.loss(),
                lambda_min: p.lambda_min_h_dense(s)?,
                changes: s.pattern_change_fraction(),
                distance: s.max_weight_distance(),
            });
            Ok(descent::Control::Continue)
        }
    }
    let config =
        descent::DescentConfig { learning_rate: descent::LearningRate::Fixed(eta), iterations, ..Default::default() };
    let mut out = Vec::new();
    descent::run(data, net, &config, &mut Rec(&mut out)).unwrap();
    out
}

/// The observer a reduced run is given, keeping every sample.
type Keep<'a> = model::FnObserver<&'a mut dyn FnMut(&Sample) -> reduced::Result<Control>>;

/// Runs the reduced system of `src` under `policy` through `run` (given the system, its initial
/// state and an observer that keeps every sample): the samples and the outcome.
fn reduced_run<S: NeuronSource>(
    data: &Dataset,
    src: &S,
    policy: BudgetPolicy,
    run: impl FnOnce(&System<'_, S>, reduced::State, &mut Keep<'_>) -> reduced::Result<reduced::Outcome>,
) -> (Vec<Obs>, reduced::Outcome) {
    let sys = System::new(data, src, policy).unwrap();
    let mut out = Vec::new();
    let mut keep = |s: &Sample| {
        out.push(Obs::from(s));
        Ok(Control::Continue)
    };
    let outcome = run(
        &sys,
        sys.initial_state().unwrap(),
        &mut model::FnObserver(&mut keep as &mut dyn FnMut(&Sample) -> reduced::Result<Control>),
    )
    .unwrap();
    (out, outcome)
}

fn reduced_flow<S: NeuronSource>(
    data: &Dataset,
    src: &S,
    policy: BudgetPolicy,
    h: f64,
    t_end: f64,
    intervals: usize,
) -> (Vec<Obs>, reduced::Outcome) {
    let times: Vec<f64> =
        (0..=intervals).map(|k| if k == intervals { t_end } else { t_end * k as f64 / intervals as f64 }).collect();
    reduced_run(data, src, policy, |sys, st, keep| run_flow(sys, st, h, &times, keep))
}

fn reduced_gd<S: NeuronSource>(
    data: &Dataset,
    src: &S,
    policy: BudgetPolicy,
    eta: f64,
    iterations: usize,
) -> (Vec<Obs>, reduced::Outcome) {
    reduced_run(data, src, policy, |sys, st, keep| run_gd(sys, st, eta, iterations, |_| true, keep))
}

/// The full and the reduced run agree (see [`compare`]) on at least `at_least` samples, the budget
/// grew mid-run (two passes or more), and some pattern changed by the last compared sample (else the
/// comparison would be vacuous).
fn assert_agreement_through_growth(full: &[Obs], (red, outcome): (Vec<Obs>, reduced::Outcome), at_least: usize) {
    let compared = compare(full, &red, 1e-12);
    println!("{compared} samples, outcome {outcome:?}, last full {:?}", full.last());
    assert!(compared >= at_least, "only {compared} samples above 1e-10 of the initial loss");
    assert!(outcome.passes >= 2, "the budget never grew: {outcome:?}");
    assert!(full[compared - 1].changes > 0.0, "no pattern changed: the comparison is vacuous");
}

/// Full GD from `net` and reduced GD from `src` (the same network) agree through budget growth, on
/// at least 20 samples.
fn gd_agrees_through_growth(data: &Dataset, net: &Network, src: &impl NeuronSource, eta: f64, iterations: usize) {
    let full = full_gd(data, net, eta, iterations);
    assert_agreement_through_growth(&full, reduced_gd(data, src, SMALL_BUDGET, eta, iterations), 20);
}

/// A small initial budget, so that it must grow mid-run.
const SMALL_BUDGET: BudgetPolicy = BudgetPolicy { initial_factor: 0.02, growth: 2.0 };

#[test]
fn flow_n3_agrees_with_the_full_flow_through_budget_growth() {
    let data = data(3, 3, 1.0);
    // The full flow is the slow side (4 GEMM pairs per step): m = 5·10⁴, 400 steps.
    let m = 50_000;
    let net = Network::init(m, 3, 11, 0).unwrap();
    let (h, t_end, intervals) = (0.1, 40.0, 40);
    let full = full_flow(&data, &net, h, t_end, intervals);
    let src = SeededInit::new(&data, m, 11, 0).unwrap();
    assert_agreement_through_growth(&full, reduced_flow(&data, &src, SMALL_BUDGET, h, t_end, intervals), 10);
}

#[test]
fn samples_never_change_the_reduced_flow_and_it_matches_the_full_flow_between_grid_points() {
    let data = data(3, 3, 1.0);
    let m = 5_000;
    let (h, t_end) = (0.1, 4.0);
    let src = SeededInit::new(&data, m, 5, 0).unwrap();
    // 40 intervals lie on the grid; 7 put every inner sample between grid points.
    let (on_grid, _) = reduced_flow(&data, &src, SMALL_BUDGET, h, t_end, 40);
    let (between, _) = reduced_flow(&data, &src, SMALL_BUDGET, h, t_end, 7);
    let (a, b) = (on_grid.last().unwrap(), between.last().unwrap());
    assert_eq!(
        (a.loss.to_bits(), a.distance.to_bits(), a.changes.to_bits()),
        (b.loss.to_bits(), b.distance.to_bits(), b.changes.to_bits()),
        "the state at T depends on the sample times: {a:?} vs {b:?}"
    );
    // Off-grid samples are short steps from the grid point before them, as in flow::run.
    let net = Network::init(m, 3, 5, 0).unwrap();
    let full = full_flow(&data, &net, h, t_end, 7);
    assert!(compare(&full, &between, 1e-12) >= 4);
}

#[test]
fn gd_n3_agrees_with_full_gd_through_budget_growth() {
    let (data, m) = (data(3, 3, 1.0), 200_000);
    let net = Network::init(m, 3, 12, 0).unwrap();
    gd_agrees_through_growth(&data, &net, &SeededInit::new(&data, m, 12, 0).unwrap(), 0.5, 150);
}

#[test]
fn gd_n10_agrees_with_full_gd() {
    let data = data(10, 10, 0.3);
    let net = Network::init(50_000, 10, 13, 0).unwrap();
    gd_agrees_through_growth(&data, &net, &GivenNetwork::new(&data, &net).unwrap(), 0.3, 200);
}

/// One GD step of `sys` from `st`, by hand (no executor): the state after it.
fn gd_step<S: NeuronSource>(sys: &System<'_, S>, st: &mut reduced::State, eta: f64) {
    use model::Stepper;
    let from = st.step as f64 * eta;
    reduced::Dynamics::gd(sys, eta).step(st, from, from + eta).unwrap();
}

/// A neuron planted just outside the initial budget, on the side the dynamics push it across 0:
/// the full GD flips it; the reduced GD must have made it active by then (the budget grew and a
/// pass moved it from frozen to active at its exact state), and its flip is counted.
#[test]
fn a_planted_neuron_outside_the_budget_is_caught_before_it_flips() {
    let data = data(3, 3, 1.0);
    let (m, eta, iterations) = (20_000, 0.5, 80);
    let mut net = Network::init(m, 3, 14, 0).unwrap();
    // A pilot run gives the direction and size of the frozen neurons' motion: Δz = −(a/√m) K (s ⊙ c).
    let pilot_src = GivenNetwork::new(&data, &net).unwrap();
    let sys = System::new(&data, &pilot_src, BudgetPolicy::default()).unwrap();
    let rho_default = sys.initial_budget();
    let mut st = sys.initial_state().unwrap();
    for _ in 0..iterations {
        gd_step(&sys, &mut st, eta);
    }
    let c = st.cumulative_residual().to_vec();
    let k = data.input_gram();
    let kc0: f64 = (0..3).map(|j| k[(0, j)] * c[j]).sum();
    // An initial budget of 0.6 of that motion on input 0, so that it has to grow mid-run.
    let policy = BudgetPolicy { initial_factor: 0.6 * kc0.abs() / (m as f64).sqrt() / rho_default[0], growth: 2.0 };
    let rho0 = System::new(&data, &pilot_src, policy).unwrap().initial_budget();
    // Neuron p: z_p(0) = (1.01 ρ̄_0, 1, 1), all on, a_p = sign((K c)_0), so z_p0 falls by |K c|_0/√m.
    let p = 777;
    let target = faer::Col::from_fn(3, |i| if i == 0 { 1.01 * rho0[0] } else { 1.0 });
    let w_p = data.x().full_piv_lu().solve(&target);
    for t in 0..3 {
        net.w[(p, t)] = w_p[t];
    }
    net.a[p] = kc0.signum();
    assert!(kc0.abs() / (m as f64).sqrt() > 1.5 * rho0[0], "the planted neuron would not flip: the test is vacuous");
    // Full GD: when does neuron p flip on input 0?
    struct Flips(usize, Vec<bool>);
    impl descent::Observer<descent::View<'_>, descent::DescentError> for Flips {
        fn observe(&mut self, view: &descent::View<'_>) -> descent::Result<descent::Control> {
            let s = view.state;
            self.1.push(s.patterns().get(0, self.0) != s.initial_patterns().get(0, self.0));
            Ok(descent::Control::Continue)
        }
    }
    let mut flips = Flips(p, Vec::new());
    let config =
        descent::DescentConfig { learning_rate: descent::LearningRate::Fixed(eta), iterations, ..Default::default() };
    descent::run(&data, &net, &config, &mut flips).unwrap();
    let first_flip = flips.1.iter().position(|&f| f).expect("the full GD never flips the planted neuron: vacuous");
    // Reduced GD on the same network, stepped by hand to look at the active set.
    let src = GivenNetwork::new(&data, &net).unwrap();
    let sys = System::new(&data, &src, policy).unwrap();
    let mut st = sys.initial_state().unwrap();
    assert!(!st.active_indices().contains(&(p as u64)), "the planted neuron starts inside the budget");
    for k in 1..=iterations {
        gd_step(&sys, &mut st, eta);
        if flips.1[k] {
            assert!(st.active_indices().contains(&(p as u64)), "iteration {k}: neuron {p} has flipped but is frozen");
        }
    }
    assert!(first_flip > 1 && st.passes >= 2);
    println!("planted neuron flips at iteration {first_flip}; {} passes, {} active", st.passes, st.active_count());
}

/// Scale without storing W: at m = 10⁹, n = 3 the memory a reduced run holds (for the number of
/// active neurons its initial budget implies, an upper bound on the expectation) is far below the
/// 8·n·m bytes of Z(0) alone. A debug-build test cannot afford 3·10⁹ normals per pass, so the
/// real run is at m = 10⁷, where the same bound must cover what the run actually held.
#[test]
fn memory_is_far_below_storing_w() {
    let data = data(3, 3, 0.2);
    let m_big = 1_000_000_000u64;
    let src = SeededInit::new(&data, m_big as usize, 1, 0).unwrap();
    let sys = System::new(&data, &src, BudgetPolicy::default()).unwrap();
    let expected = reduced::expected_active(m_big, &sys.initial_budget());
    let est = reduced::MemoryEstimate::of(3, 3, m_big, expected, 2).total();
    assert!(est * 20 < 8 * 3 * m_big, "estimate {est} bytes at m = 10⁹ is not far below 8nm");
    // A real run.
    let m = 10_000_000usize;
    let src = SeededInit::new(&data, m, 1, 0).unwrap();
    let sys = System::new(&data, &src, BudgetPolicy::default()).unwrap();
    let st = sys.initial_state().unwrap();
    let out = run_gd(&sys, st, 0.5, 60, |_| false, &mut ()).unwrap();
    let bound = reduced::expected_active(m as u64, &out.budget);
    assert!(out.max_active as u64 <= bound, "{} active neurons, above the union bound {bound}", out.max_active);
    assert!(out.max_active > 0);
    let held = out.peak_memory.total();
    assert!(held <= reduced::MemoryEstimate::of(3, 3, m as u64, bound, rayon::current_num_threads()).total());
    // |A| grows like √m (the budget is ∝ 1/√m): at 10⁷ the run holds a few times less than Z(0).
    assert!(held * 2 < 8 * 3 * m as u64, "{held} bytes at m = {m}");
    println!(
        "m = 10⁹: estimate {est} bytes ({expected} active); m = {m}: {} active, {held} bytes held",
        out.max_active
    );
}

/// One divergence rule: GD far past its stability limit diverges on the reduced solver at the same
/// iteration, for the same reason (the loss past 10⁶ × L(0)), as descent's GD on the same network,
/// since both go through `model::execute`; and the reduced flow of that network completes.
#[test]
fn a_divergent_step_ends_both_solvers_at_the_same_iteration() {
    let data = data(3, 3, 1.0);
    let net = Network::init(2_000, 3, 3, 0).unwrap();
    let eta = 40.0;
    let config = descent::DescentConfig {
        learning_rate: descent::LearningRate::Fixed(eta),
        iterations: 50,
        ..Default::default()
    };
    let full = descent::run(&data, &net, &config, &mut ()).unwrap();
    let src = GivenNetwork::new(&data, &net).unwrap();
    let (_, red) = reduced_gd(&data, &src, BudgetPolicy::default(), eta, 50);
    let (
        model::Status::Diverged { step, reason, .. },
        model::Status::Diverged { step: red_step, reason: red_reason, .. },
    ) = (full.status, red.status)
    else {
        panic!("both runs must diverge at η = {eta}: full {:?}, reduced {:?}", full.status, red.status);
    };
    assert!(matches!(reason, model::Divergence::LossGrowth { .. }), "{reason:?}");
    assert!(matches!(red_reason, model::Divergence::LossGrowth { .. }), "{red_reason:?}");
    assert_eq!(step, red_step, "the full run diverged after {step} iterations, the reduced after {red_step}");
    let (_, flow) = reduced_flow(&data, &src, BudgetPolicy::default(), 0.1, 2.0, 4);
    assert_eq!(flow.status, model::Status::Completed);
}
