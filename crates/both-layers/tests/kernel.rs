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
    let kernel = KernelBothField::new(&data, net.m()).evaluate(0.0, &x).unwrap();
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

/// Both-layer GD in kernel space is GD on (W, a) to rounding, on a case whose patterns flip: the
/// samples' losses and (W, a) as the observers see them, and the final network; `Space::Auto`
/// takes kernel space here (d ≥ n), bit for bit. A step far too large diverges in both spaces at
/// the same iteration, with a finite last iterate.
#[test]
fn kernel_space_gd_is_weight_space_gd() {
    use both_layers::{GdConfig, descend};
    let data = Dataset::sphere(10, 12, 5, 0).unwrap();
    let net = Network::init(60, 12, 5, 0).unwrap();
    let config = GdConfig { eta: 0.5, iterations: 120, sample_every: 7, ..Default::default() };

    #[derive(Default)]
    struct Seen(Vec<(usize, f64, Mat<f64>, faer::Col<f64>)>);
    impl flow::Observer<Snapshot<'_>, flow::FlowError> for Seen {
        fn observe(&mut self, s: &Snapshot<'_>) -> flow::Result<Control> {
            self.0.push((s.step, s.loss, s.w.to_owned(), s.a.to_owned()));
            Ok(Control::Continue)
        }
    }
    let run = |space, eta| {
        let mut seen = Seen::default();
        let out = descend(&data, &net, &GdConfig { space, eta, ..config }, &mut seen).unwrap();
        (out, seen.0)
    };
    let (weight, weight_seen) = run(Space::Weight, 0.5);
    let (kernel, kernel_seen) = run(Space::Kernel, 0.5);
    let (auto, auto_seen) = run(Space::Auto, 0.5);
    assert_eq!((weight.status, weight.iterations), (kernel.status, kernel.iterations));
    assert_eq!(weight_seen.len(), 19, "k = 0, every 7th and the last");
    // Losses to rounding of u: relative to L(0), since the loss itself falls to ~1e-11.
    let l0 = weight_seen[0].1;
    for (a, b) in kernel_seen.iter().zip(&weight_seen) {
        assert_eq!(a.0, b.0);
        assert!((a.1 - b.1).abs() < 1e-13 * l0, "sample loss at k = {}: {} vs {}", a.0, a.1, b.1);
        assert!(rel(&a.2, &b.2) < 1e-11, "W at k = {}", a.0);
        assert!((&a.3 - &b.3).norm_max() < 1e-11 * b.3.norm_max(), "a at k = {}", a.0);
    }
    assert!(rel(&kernel.network.w, &weight.network.w) < 1e-11);
    assert!((kernel.loss - weight.loss).abs() < 1e-13 * l0 && weight.loss < 1e-6 * l0);
    assert_eq!((&auto.network.w, &auto.network.a, auto.loss), (&kernel.network.w, &kernel.network.a, kernel.loss));
    assert_eq!(auto_seen.len(), kernel_seen.len());
    let z0 = net.forward(&data).unwrap().z;
    let z1 = weight.network.forward(&data).unwrap().z;
    let flips = z0
        .col_iter()
        .zip(z1.col_iter())
        .map(|(p, q)| p.iter().zip(q.iter()).filter(|(x, y)| (**x >= 0.0) != (**y >= 0.0)).count())
        .sum::<usize>();
    assert!(flips > 5, "the case must flip patterns ({flips})");

    let (weight, _) = run(Space::Weight, 60.0);
    let (kernel, kernel_seen) = run(Space::Kernel, 60.0);
    assert!(kernel.status.diverged(), "{:?}", kernel.status);
    assert_eq!(format!("{:?}", kernel.status).split('{').next(), format!("{:?}", weight.status).split('{').next());
    assert_eq!(kernel.iterations, weight.iterations);
    assert!(kernel.loss.is_finite() && kernel.network.w.is_finite() && kernel.u.iter().all(|v| v.is_finite()));
    assert!(kernel_seen.iter().all(|s| s.1.is_finite()));
}
