//! RK4 and its error estimate on a linear ODE dx/dt = A x with A symmetric, against the exact solution e^{At} x0.

use faer::{Col, Mat};
use flow::{
    Control, ErrorEstimate, Evaluation, Integration, Plan, Result, StepSelection, VectorField, choose_step, integrate,
};
use model::expm_symmetric;

/// dx/dt = A x.
struct Linear {
    a: Mat<f64>,
}

impl VectorField for Linear {
    type State = Col<f64>;
    fn evaluate(&self, _t: f64, x: &Col<f64>) -> Result<Evaluation<Col<f64>>> {
        Ok(Evaluation { derivative: &self.a * x, loss: 0.5 * x.squared_norm_l2() })
    }
}

/// A symmetric negative definite 5 × 5 matrix with eigenvalues in about [−2.6, −0.3] (a contracting flow).
fn problem() -> (Linear, Col<f64>) {
    let n = 5;
    let b = Mat::from_fn(n, n, |i, j| (((i * 7 + j * 3) % 5) as f64 - 2.0) / 4.0);
    let a = Mat::from_fn(n, n, |i, j| {
        let bbt: f64 = (0..n).map(|k| b[(i, k)] * b[(j, k)]).sum();
        -(bbt + if i == j { 0.3 } else { 0.0 })
    });
    let x0 = Col::from_fn(n, |i| 1.0 - 0.3 * i as f64);
    (Linear { a }, x0)
}

fn exact(p: &Linear, x0: &Col<f64>, t: f64) -> Col<f64> {
    expm_symmetric(p.a.as_ref(), t).unwrap() * x0
}

fn run(p: &Linear, x0: &Col<f64>, t_end: f64, h: f64, estimate: ErrorEstimate) -> Integration<Col<f64>> {
    let schedule = Plan { h, sample_times: vec![0.0, t_end], error_estimate: estimate, divergence_factor: 1e6 };
    integrate(p, x0.clone(), &schedule, |_| Ok(Control::Continue)).unwrap()
}

fn true_error(p: &Linear, x0: &Col<f64>, t_end: f64, h: f64) -> f64 {
    let out = run(p, x0, t_end, h, ErrorEstimate::LocalSampled { every: usize::MAX });
    (&out.state - exact(p, x0, t_end)).norm_l2()
}

/// At T = 2 and h = 0.2, 0.1, 0.05: h, the true global error, and the error reports of runs under
/// each of `estimates`.
fn against_the_truth<const N: usize>(estimates: [ErrorEstimate; N]) -> Vec<(f64, f64, [flow::ErrorReport; N])> {
    let (p, x0) = problem();
    let reports = |h: f64| estimates.map(|estimate| run(&p, &x0, 2.0, h, estimate).error);
    [0.2, 0.1, 0.05].into_iter().map(|h| (h, true_error(&p, &x0, 2.0, h), reports(h))).collect()
}

/// Classical RK4 is fourth order: halving h divides the global error by 2⁴ = 16 (band [12, 20]).
#[test]
fn rk4_is_fourth_order_on_a_linear_ode() {
    let (p, x0) = problem();
    let (e1, e2) = (true_error(&p, &x0, 2.0, 0.1), true_error(&p, &x0, 2.0, 0.05));
    let ratio = e1 / e2;
    println!("RK4 global errors at T = 2: h = 0.1: {e1:.3e}, h = 0.05: {e2:.3e}, ratio {ratio:.3}");
    assert!(e2 > 1e-12, "errors must stay well above rounding for the ratio to mean anything: {e2}");
    assert!((12.0..=20.0).contains(&ratio), "error ratio {ratio} is not ≈ 16");
}

/// The shadow estimate (16/15)‖x_h − x_{h/2}‖ is within a factor 2 of the true global error, at
/// several step sizes. The local (step-doubling) charge Σ rate·h is an *over*-estimate on this
/// contracting flow: it does not credit the damping of early errors. For one mode e^{−μt} the
/// over-estimate is (1 − e^{−μT}) / (μT e^{−μT}) (≈ 3.2 at μT = 2, ≈ 5 here), so the band is [1, 8].
#[test]
fn error_estimate_is_honest_on_a_linear_ode() {
    for (h, truth, [shadow, local]) in
        against_the_truth([ErrorEstimate::Shadow, ErrorEstimate::LocalSampled { every: 1 }])
    {
        let (rs, rl) = (shadow.final_state_error / truth, local.final_state_error / truth);
        println!("h = {h}: true {truth:.3e}, shadow/true {rs:.4}, local charge/true {rl:.3}");
        assert!((0.5..=2.0).contains(&rs), "shadow estimate off by {rs} at h = {h}");
        assert!((1.0..=8.0).contains(&rl), "local charge off by {rl} at h = {h}");
        assert!(shadow.max_state_error >= shadow.final_state_error);
        assert!(local.max_local_error_per_unit_time.unwrap() > 0.0 && shadow.max_local_error_per_unit_time.is_none());
    }
}

/// The estimate never changes the trajectory: embedded, shadow, every-step and every-third-step
/// checks give the same bits; evaluations: 1 + 4 per step (embedded), + 8 (shadow), + 7 per check.
#[test]
fn error_estimate_does_not_change_the_trajectory() {
    let (p, x0) = problem();
    let e = run(&p, &x0, 1.3, 0.07, ErrorEstimate::Embedded);
    let a = run(&p, &x0, 1.3, 0.07, ErrorEstimate::Shadow);
    let b = run(&p, &x0, 1.3, 0.07, ErrorEstimate::LocalSampled { every: 1 });
    let c = run(&p, &x0, 1.3, 0.07, ErrorEstimate::LocalSampled { every: 3 });
    assert_eq!(a.state, e.state);
    assert_eq!(a.state, b.state);
    assert_eq!(a.state, c.state);
    assert_eq!((a.steps, e.evaluations, a.evaluations, b.evaluations), (19, 1 + 19 * 4, 1 + 19 * 12, 1 + 19 * 11));
    assert_eq!(c.error.checked_steps, 7);
}

/// The grid is fixed by h: t_k = k·h and T; a sample between grid points is a separate step from
/// the grid point before it, and the last step is T − 16h.
#[test]
fn samples_sit_on_the_grid_or_step_off_it() {
    let (p, x0) = problem();
    let times = vec![0.0, 0.013, 0.1, 0.35, 1.0 / 3.0 + 0.5];
    let schedule =
        Plan { h: 0.05, sample_times: times.clone(), error_estimate: ErrorEstimate::Shadow, divergence_factor: 1e6 };
    assert_eq!(schedule.grid_steps(), 17);
    assert!((schedule.last_step() - (times[4] - 16.0 * 0.05)).abs() < 1e-15);
    let mut seen = Vec::new();
    let out = integrate(&p, x0.clone(), &schedule, |e| {
        seen.push((e.t, e.step, e.state.clone()));
        Ok(Control::Continue)
    })
    .unwrap();
    let ts: Vec<f64> = seen.iter().map(|s| s.0).collect();
    assert_eq!(ts, times);
    // 0.013 lies after grid point 0; 0.1 = 2h and 0.35 = 7h are grid points; T after 17 steps.
    let steps: Vec<usize> = seen.iter().map(|s| s.1).collect();
    assert_eq!(steps, vec![0, 0, 2, 7, 17]);
    assert_eq!(out.t, times[4]);
    for (t, _, state) in &seen {
        assert!((state - exact(&p, &x0, *t)).norm_l2() < 1e-6, "t = {t}");
    }
    // The same grid with only the end sampled: the same bits at T, and at 0.35 = 7h.
    let end_only = Plan { sample_times: vec![0.0, 0.35, times[4]], ..schedule.clone() };
    let mut at = Vec::new();
    let plain = integrate(&p, x0.clone(), &end_only, |e| {
        at.push(e.state.clone());
        Ok(Control::Continue)
    })
    .unwrap();
    assert_eq!(plain.state, out.state, "off-grid samples changed the trajectory");
    assert_eq!(at[1], seen[3].2);
    // An h longer than T is refused, never shortened.
    let long = Plan { h: 2.0, ..schedule };
    assert!(matches!(long.validate(), Err(flow::FlowError::InvalidConfig { name: "h", .. })));
}

/// The embedded estimate (h/6)‖k4 − k5‖ summed over the steps over-estimates the true global
/// error on this smooth contracting flow (a third-order local error against RK4's fourth-order
/// one, and no credit for damping), by a factor that grows like 1/h.
#[test]
fn embedded_estimate_over_estimates_on_a_linear_ode() {
    for (h, truth, [embedded]) in against_the_truth([ErrorEstimate::Embedded]) {
        let ratio = embedded.final_state_error / truth;
        println!("h = {h}: true {truth:.3e}, embedded/true {ratio:.3}");
        assert!((1.0..=200.0).contains(&ratio), "embedded estimate off by {ratio} at h = {h}");
        assert_eq!(embedded.max_state_error, embedded.final_state_error);
    }
}

/// Step selection from a tolerance: the chosen h meets the tolerance on the probe, 2h did not,
/// and the global error at T stays below tol · T (this flow contracts, so local errors do not grow).
#[test]
fn step_from_tolerance_meets_it() {
    let (p, x0) = problem();
    let t_end = 2.0;
    for tol in [1e-4, 1e-7] {
        let sel = StepSelection { tol, h_initial: 1.0, max_halvings: 30, probe_steps: 8 };
        let choice = choose_step(&p, &x0, t_end, &sel).unwrap();
        assert!(choice.error_per_unit_time <= tol && choice.halvings > 0, "{choice:?}");
        let coarser = StepSelection { h_initial: 2.0 * choice.h, max_halvings: 0, ..sel };
        assert!(matches!(choose_step(&p, &x0, t_end, &coarser), Err(flow::FlowError::ToleranceNotMet { .. })));
        let err = true_error(&p, &x0, t_end, choice.h);
        println!(
            "tol {tol:.0e}: h = {}, probe rate {:.3e}, global error {err:.3e}",
            choice.h, choice.error_per_unit_time
        );
        assert!(err <= tol * t_end, "global error {err} above tol·T = {}", tol * t_end);
    }
}

/// A step past the divergence limit is refused in every estimate mode: the run returns the state,
/// step count and error report of the last accepted step (the stepper's undo), the same as a run
/// that stops there.
#[test]
fn a_refused_step_is_undone_in_every_mode() {
    let (mut p, x0) = problem();
    p.a = -&p.a; // expanding: the loss grows by e^{2μh} per step
    for estimate in [ErrorEstimate::Embedded, ErrorEstimate::Shadow, ErrorEstimate::LocalSampled { every: 1 }] {
        let plan = Plan { h: 0.1, sample_times: vec![0.0, 5.0], error_estimate: estimate, divergence_factor: 4.0 };
        let out = integrate(&p, x0.clone(), &plan, |_| Ok(Control::Continue)).unwrap();
        let flow::Status::Diverged { t, step, .. } = out.status else { panic!("{estimate:?}: {:?}", out.status) };
        assert!(step > 1 && out.steps == step && out.t == t, "{estimate:?}: {:?}", out.status);
        assert!(0.5 * out.state.squared_norm_l2() <= 4.0 * 0.5 * x0.squared_norm_l2());
        let stopped = Plan { sample_times: vec![0.0, t], ..plan };
        let reference = integrate(&p, x0.clone(), &stopped, |_| Ok(Control::Continue)).unwrap();
        assert_eq!(reference.steps, step);
        assert_eq!(out.state, reference.state, "{estimate:?}: the accepted state, bit for bit");
        assert_eq!(out.error.final_state_error, reference.error.final_state_error, "{estimate:?}: its error");
        assert_eq!(out.error.checked_steps, reference.error.checked_steps, "{estimate:?}");
    }
}
