//! GD against two exact oracles in a regime with no pattern flips: the linear recursion
//! u(k) = y + (I − ηH(0))^k (u(0) − y), and the gradient flow u(t) = y + e^{−H(0)t}(u(0) − y)
//! (docs/theory.md §1.3), whose gap to GD at t = kη is O(η).
//!
//! The horizon T comes from a certificate, not from luck: along GD with η ≤ 2/λmax(H(0)) and
//! along the flow, while no pattern flips ‖y − u‖ does not grow and
//! |d z_ir/dt| ≤ ‖dw_r/dt‖ ≤ (√n/√m) ‖y − u(0)‖, so no z_ir(0) can change sign before
//! min_ir |z_ir(0)| · √m / (√n ‖y − u(0)‖). T is half of that; zero flips are also measured.

mod common;

use common::KeepAll;
use descent::{DescentConfig, LearningRate, Method, Problem, Status};
use faer::{Col, Side};
use model::{Dataset, Network};

const N: usize = 5;
const D: usize = 5;
const M: usize = 1000;

struct Regime {
    data: Dataset,
    net: Network,
    /// Horizon T, half the certified flip-free time.
    t: f64,
    /// H(0).
    h0: faer::Mat<f64>,
    u0: Col<f64>,
}

fn regime() -> Regime {
    let data = Dataset::sphere(N, D, 4, 0).unwrap();
    let net = Network::init(M, D, 4, 0).unwrap();
    let problem =
        Problem::new(&data, &net, &DescentConfig { learning_rate: LearningRate::Fixed(1.0), ..Default::default() })
            .unwrap();
    let state = problem.initial_state().unwrap();
    let z = state.preactivations();
    let min_abs_z =
        z.col_iter().flat_map(|c| c.iter().map(|v| v.abs()).collect::<Vec<_>>()).fold(f64::INFINITY, f64::min);
    let r0 = state.residual().norm_l2();
    let t = 0.5 * min_abs_z * (M as f64).sqrt() / ((N as f64).sqrt() * r0);
    let h0 = problem.gram_h(&state).unwrap();
    Regime { t, h0, u0: state.predictions().to_owned(), data, net }
}

/// GD with η = horizon/steps; every iterate, after asserting that no pattern flipped.
fn gd(reg: &Regime, horizon: f64, steps: usize, method: Method) -> Vec<common::Snapshot> {
    let eta = horizon / steps as f64;
    let config =
        DescentConfig { learning_rate: LearningRate::Fixed(eta), iterations: steps, method, ..Default::default() };
    let problem = Problem::new(&reg.data, &reg.net, &config).unwrap();
    let mut keep = KeepAll::default();
    assert_eq!(problem.run(&mut keep).unwrap().status, Status::Completed);
    let z0 = &keep.snapshots[0].z;
    for s in &keep.snapshots {
        let flipped = (0..N).any(|i| (0..M).any(|r| (z0[(i, r)] >= 0.0) != (s.z[(i, r)] >= 0.0)));
        assert!(!flipped, "a pattern flipped at k = {}: the oracle does not apply", s.iteration);
    }
    keep.snapshots
}

/// Second oracle: u(k) = y + (I − ηH(0))^k (u(0) − y) at every k, by the recursion v ← v − ηH(0)v,
/// for both methods, to 1e-10. GD alone needs no certificate: if no pattern differs from k = 0 at
/// any iterate (measured), the recursion is exact; so the horizon here is 20 T.
#[test]
fn gd_without_flips_is_the_linear_recursion_with_h0() {
    let reg = regime();
    let (steps, horizon) = (100, 20.0 * reg.t);
    let eta = horizon / steps as f64;
    for method in [Method::KernelSpace, Method::WeightSpace] {
        let snapshots = gd(&reg, horizon, steps, method);
        let mut v = &reg.u0 - reg.data.y();
        let mut worst: f64 = 0.0;
        for s in &snapshots {
            worst = worst.max((&s.u - (reg.data.y() + &v)).norm_max());
            v = &v - (&reg.h0 * &v) * eta;
        }
        let moved = (&snapshots[steps].u - &reg.u0).norm_l2();
        println!("{method:?}: horizon {horizon:.3e}, ‖u(K) − u(0)‖ = {moved:.3e}, max error {worst:.2e}");
        assert!(worst <= 1e-10, "{method:?}: error {worst:e}");
        assert!(moved > 1e3 * 1e-10, "{method:?}: u moved only {moved:e}; the check would be vacuous");
    }
}

/// First oracle: the flow u(T) = y + V e^{−ΛT} Vᵀ (u(0) − y) with H(0) = V Λ Vᵀ; the gap
/// ‖u_GD(T/η) − u(T)‖ is O(η), so it halves (ratio in [1.7, 2.3]) when η halves.
#[test]
fn gd_approaches_the_gradient_flow_linearly_in_the_step() {
    let reg = regime();
    let evd = reg.h0.self_adjoint_eigen(Side::Lower).unwrap();
    let (s, v) = (evd.S(), evd.U());
    let coeff = v.transpose() * (&reg.u0 - reg.data.y());
    let scaled = Col::from_fn(N, |j| (-s[j] * reg.t).exp() * coeff[j]);
    let flow = reg.data.y() + v * scaled;
    let gaps: Vec<f64> = [100usize, 200, 400]
        .iter()
        .map(|&steps| (&gd(&reg, reg.t, steps, Method::KernelSpace)[steps].u - &flow).norm_l2())
        .collect();
    let ratios = [gaps[0] / gaps[1], gaps[1] / gaps[2]];
    println!("T = {:.3e}, gaps {gaps:?}, ratios {ratios:?}", reg.t);
    for r in ratios {
        assert!((1.7..=2.3).contains(&r), "gap ratio {r} when η halves (gaps {gaps:?})");
    }
}
