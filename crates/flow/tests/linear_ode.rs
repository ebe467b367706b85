//! RK4 and its error estimate on a linear ODE dx/dt = A x with A symmetric, against the exact solution e^{At} x0.

use faer::{Col, Mat};
use flow::{
    Control, ErrorEstimate, Evaluation, Integration, Result, Schedule, StepSelection, VectorField, choose_step,
    expm_symmetric, integrate,
};

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
    let schedule = Schedule { h, sample_times: vec![0.0, t_end], error_estimate: estimate, divergence_factor: 1e6 };
    integrate(p, x0.clone(), &schedule, |_| Ok(Control::Continue)).unwrap()
}

fn true_error(p: &Linear, x0: &Col<f64>, t_end: f64, h: f64) -> f64 {
    let out = run(p, x0, t_end, h, ErrorEstimate::LocalSampled { every: usize::MAX });
    (&out.state - exact(p, x0, t_end)).norm_l2()
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
    let (p, x0) = problem();
    for h in [0.2, 0.1, 0.05] {
        let truth = true_error(&p, &x0, 2.0, h);
        let shadow = run(&p, &x0, 2.0, h, ErrorEstimate::Shadow).error;
        let local = run(&p, &x0, 2.0, h, ErrorEstimate::LocalSampled { every: 1 }).error;
        let (rs, rl) = (shadow.final_state_error / truth, local.final_state_error / truth);
        println!("h = {h}: true {truth:.3e}, shadow/true {rs:.4}, local charge/true {rl:.3}");
        assert!((0.5..=2.0).contains(&rs), "shadow estimate off by {rs} at h = {h}");
        assert!((1.0..=8.0).contains(&rl), "local charge off by {rl} at h = {h}");
        assert!(shadow.max_state_error >= shadow.final_state_error);
        assert!(local.max_local_error_per_unit_time.unwrap() > 0.0 && shadow.max_local_error_per_unit_time.is_none());
    }
}

/// The estimate never changes the trajectory: shadow, every-step and every-third-step checks give the same bits.
#[test]
fn error_estimate_does_not_change_the_trajectory() {
    let (p, x0) = problem();
    let a = run(&p, &x0, 1.3, 0.07, ErrorEstimate::Shadow);
    let b = run(&p, &x0, 1.3, 0.07, ErrorEstimate::LocalSampled { every: 1 });
    let c = run(&p, &x0, 1.3, 0.07, ErrorEstimate::LocalSampled { every: 3 });
    assert_eq!(a.state, b.state);
    assert_eq!(a.state, c.state);
    assert_eq!((a.steps, a.evaluations, b.evaluations), (19, 19 * 12, 19 * 11));
    assert_eq!(c.error.checked_steps, 7);
}

/// The driver lands exactly on every sample time, with equal steps ≤ h in between.
#[test]
fn driver_lands_exactly_on_sample_times() {
    let (p, x0) = problem();
    let times = vec![0.0, 0.013, 0.1, 0.35, 1.0 / 3.0 + 0.5];
    let schedule = Schedule {
        h: 0.05,
        sample_times: times.clone(),
        error_estimate: ErrorEstimate::Shadow,
        divergence_factor: 1e6,
    };
    let mut seen = Vec::new();
    let out = integrate(&p, x0.clone(), &schedule, |e| {
        seen.push((e.t, e.step));
        Ok(Control::Continue)
    })
    .unwrap();
    let ts: Vec<f64> = seen.iter().map(|s| s.0).collect();
    assert_eq!(ts, times);
    // ⌈0.013/0.05⌉ = 1, ⌈0.087/0.05⌉ = 2, ⌈0.25/0.05⌉ = 5, ⌈0.4833/0.05⌉ = 10.
    let steps: Vec<usize> = seen.iter().map(|s| s.1).collect();
    assert_eq!(steps, vec![0, 1, 3, 8, 18]);
    assert_eq!(out.t, times[4]);
    assert!((&out.state - exact(&p, &x0, times[4])).norm_l2() < 1e-6);
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
