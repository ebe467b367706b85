//! Both layers in kernel space (Z, C, a) against (W, a): the same field, norms and runs.

use both_layers::{BothLayersField, KernelBothField, KernelBothState};
use faer::Mat;
use flow::{Control, FlowConfig, OdeState, SampleTimes, Snapshot, Space, StepSize, VectorField};
use model::{Dataset, Network};

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_max() / b.norm_max().max(f64::MIN_POSITIVE)
}

/// F(Z, C, a) is F(W, a) seen through Z = X Wᵀ and W − W(0) = Cᵀ X: dZ = X dWᵀ, dCᵀ X = dW, same da
/// and loss; the norm of the derivative is that of (dW, da).
#[test]
fn the_kernel_field_is_the_weight_field_in_other_coordinates() {
    let data = Dataset::sphere(7, 9, 3, 0).unwrap();
    let net = Network::init(50, 9, 3, 0).unwrap();
    let weight = BothLayersField { data: &data }.evaluate(0.0, &net).unwrap();
    let x = KernelBothState::initial(&data, &net);
    let kernel = KernelBothField { data: &data }.evaluate(0.0, &x).unwrap();
    assert!((weight.loss - kernel.loss).abs() <= 1e-14 * weight.loss);
    let dz = data.x() * weight.derivative.w.transpose();
    assert!(rel(&kernel.derivative.z, &dz) < 1e-12, "dZ = X dWᵀ");
    let dw = kernel.derivative.c.transpose() * data.x();
    assert!(rel(&dw, &weight.derivative.w) < 1e-12, "dW = dCᵀ X");
    assert!((&kernel.derivative.a - &weight.derivative.a).norm_max() <= 1e-14 * weight.derivative.a.norm_max());
    let (nk, nw) = (kernel.derivative.norm(), weight.derivative.norm());
    assert!((nk - nw).abs() <= 1e-12 * nw, "‖(dW, da)‖: {nk} vs {nw}");
}

#[derive(Default)]
struct Losses(Vec<(f64, f64)>);

impl flow::Observer<Snapshot<'_>, flow::FlowError> for Losses {
    fn observe(&mut self, s: &Snapshot<'_>) -> flow::Result<Control> {
        self.0.push((s.t, s.loss));
        Ok(Control::Continue)
    }
}

/// A run in kernel space is the run on (W, a) to rounding, on a case whose patterns flip; the
/// default (`Space::Auto`) takes kernel space here (d ≥ n), bit for bit, and (W, a) when d < n.
#[test]
fn a_kernel_space_run_is_the_weight_space_run() {
    let data = Dataset::sphere(10, 10, 4, 0).unwrap();
    let net = Network::init(40, 10, 4, 0).unwrap();
    let config = FlowConfig {
        t_end: 2.0,
        step: StepSize::Fixed(0.05),
        samples: SampleTimes::Explicit(vec![0.3, 1.0, 1.37]),
        ..Default::default()
    };
    let run = |space| {
        let mut seen = Losses::default();
        let out = both_layers::run(&data, &net, &FlowConfig { space, ..config.clone() }, &mut seen).unwrap();
        (out, seen.0)
    };
    let (weight, weight_seen) = run(Space::Weight);
    let (kernel, kernel_seen) = run(Space::Kernel);
    let (auto, auto_seen) = run(Space::Auto);
    assert_eq!((weight.space, kernel.space, auto.space), (Space::Weight, Space::Kernel, Space::Kernel));
    assert_eq!(
        (auto.network.w, auto.network.a, auto_seen),
        (kernel.network.w.clone(), kernel.network.a.clone(), kernel_seen.clone())
    );
    let narrow = Dataset::sphere(10, 4, 4, 0).unwrap();
    let narrow_net = Network::init(40, 4, 4, 0).unwrap();
    let narrow_auto = both_layers::run(&narrow, &narrow_net, &config, &mut ()).unwrap();
    assert_eq!(narrow_auto.space, Space::Weight, "d < n stays on (W, a)");
    assert_eq!((weight.status, weight.steps), (kernel.status, kernel.steps));
    assert!(rel(&kernel.network.w, &weight.network.w) < 1e-11, "final W");
    assert!((&kernel.network.a - &weight.network.a).norm_max() < 1e-11 * weight.network.a.norm_max());
    assert!((kernel.loss - weight.loss).abs() < 1e-11 * weight.loss);
    assert!(weight.loss < 0.5 * weight_seen[0].1, "the run must train");
    assert_eq!(weight_seen.len(), 5);
    for (a, b) in kernel_seen.iter().zip(&weight_seen) {
        assert_eq!(a.0, b.0);
        assert!((a.1 - b.1).abs() < 1e-11 * b.1, "sample loss {a:?} vs {b:?}");
    }
    let z0 = net.forward(&data).unwrap().z;
    let z1 = weight.network.forward(&data).unwrap().z;
    let flips = z0
        .col_iter()
        .zip(z1.col_iter())
        .flat_map(|(p, q)| p.iter().zip(q.iter()).filter(|(x, y)| (**x >= 0.0) != (**y >= 0.0)).collect::<Vec<_>>())
        .count();
    assert!(flips > 5, "the case must flip patterns ({flips})");
}
