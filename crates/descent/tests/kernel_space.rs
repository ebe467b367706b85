//! Kernel-space GD (Z ← Z − η K D, running distances) against plain weight-space GD, step by step.

mod common;

use common::{KeepAll, max_abs_col, max_abs_mat, max_abs_slice};
use descent::{DescentConfig, LearningRate, Method, Problem, Status};
use model::{Dataset, Network};

/// Both methods from the same init for 100 steps with a step large enough to flip patterns:
/// Z, u, losses, per-neuron squared distances and the materialised W agree to 1e-10.
#[test]
fn kernel_space_and_weight_space_agree_over_100_steps() {
    let (n, d, m) = (10, 6, 600);
    let data = Dataset::sphere(n, d, 21, 0).unwrap();
    let net = Network::init(m, d, 21, 0).unwrap();
    let run = |method| {
        let config =
            DescentConfig { learning_rate: LearningRate::Fixed(0.5), iterations: 100, method, ..Default::default() };
        let problem = Problem::new(&data, &net, &config).unwrap();
        let mut keep = KeepAll { materialise_at: vec![0, 37, 100], ..Default::default() };
        let outcome = problem.run(&mut keep).unwrap();
        assert_eq!(outcome.status, Status::Completed);
        keep.snapshots
    };
    let (plain, kernel) = (run(Method::WeightSpace), run(Method::KernelSpace));
    assert_eq!((plain.len(), kernel.len()), (101, 101));
    let (mut z_err, mut u_err, mut loss_err, mut q_err, mut w_err) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (p, k) in plain.iter().zip(&kernel) {
        z_err = z_err.max(max_abs_mat(p.z.as_ref(), k.z.as_ref()));
        u_err = u_err.max(max_abs_col(p.u.as_ref(), k.u.as_ref()));
        loss_err = loss_err.max((p.loss - k.loss).abs());
        q_err = q_err.max(max_abs_slice(&p.squared_distances, &k.squared_distances));
        if let (Some(wp), Some(wk)) = (&p.w, &k.w) {
            w_err = w_err.max(max_abs_mat(wp.as_ref(), wk.as_ref()));
        }
    }
    println!("max |ΔZ| {z_err:.2e}, |Δu| {u_err:.2e}, |ΔL| {loss_err:.2e}, |Δq| {q_err:.2e}, |ΔW| {w_err:.2e}");
    for (name, err) in [("Z", z_err), ("u", u_err), ("loss", loss_err), ("squared distances", q_err), ("W", w_err)] {
        assert!(err <= 1e-10, "{name} differs by {err:e}");
    }
    assert!(kernel[100].w.is_some() && plain[37].w.is_some());
    // The comparison is not vacuous: the loss fell, weights moved and some patterns flipped.
    let last = &kernel[100];
    assert!(last.loss < 0.5 * kernel[0].loss, "loss {} → {}", kernel[0].loss, last.loss);
    let moved = last.squared_distances.iter().cloned().fold(0.0, f64::max).sqrt();
    assert!(moved > 1e-2, "max distance {moved}");
    let flips = (0..n)
        .flat_map(|i| (0..m).map(move |r| (i, r)))
        .filter(|&(i, r)| (kernel[0].z[(i, r)] >= 0.0) != (last.z[(i, r)] >= 0.0));
    assert!(flips.count() > 0, "no pattern flipped: choose a larger step");
}
