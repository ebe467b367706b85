//! Minibatch SGD: b = n is full-batch GD bit for bit; the sampler is reproducible from its seed;
//! the GD/SGD comparison measures both runs from the same init.

mod common;

use common::{KeepAll, fixed_step};
use descent::{LearningRate, Method, Problem, Sampling, SgdComparisonConfig, Status, compare_gd_sgd};
use model::{Dataset, Network};

fn setup() -> (Dataset, Network) {
    (Dataset::sphere(12, 6, 31, 0).unwrap(), Network::init(500, 6, 31, 0).unwrap())
}

fn trajectory(data: &Dataset, net: &Network, sampling: Sampling, method: Method) -> KeepAll {
    let problem = Problem::new(data, net, &fixed_step(0.3, 60, method, sampling)).unwrap();
    let mut keep = KeepAll { materialise_at: vec![60], ..Default::default() };
    assert_eq!(problem.run(&mut keep).unwrap().status, Status::Completed);
    keep
}

/// With b = n every step uses all inputs with scale n/b = 1: the same bits as full-batch GD,
/// in both methods (whatever the order the sampler draws the indices in).
#[test]
fn sgd_with_full_batch_equals_gd_exactly() {
    let (data, net) = setup();
    for method in [Method::KernelSpace, Method::WeightSpace] {
        let gd = trajectory(&data, &net, Sampling::FullBatch, method);
        let sgd = trajectory(&data, &net, Sampling::Minibatch { batch_size: 12, seed: 5, trial: 0 }, method);
        assert_eq!(gd.snapshots, sgd.snapshots, "{method:?}");
        assert!(gd.snapshots[60].loss < 0.1 * gd.snapshots[0].loss);
    }
}

/// The same seed gives the same trajectory; another seed or trial gives another one; and a
/// minibatch run is not full-batch GD.
#[test]
fn sgd_is_reproducible_from_its_seed_and_the_seed_matters() {
    let (data, net) = setup();
    let sgd = |seed, trial| {
        trajectory(&data, &net, Sampling::Minibatch { batch_size: 3, seed, trial }, Method::KernelSpace).snapshots
    };
    let a = sgd(5, 0);
    assert_eq!(a, sgd(5, 0));
    let (b, c) = (sgd(6, 0), sgd(5, 1));
    for other in [&b, &c] {
        assert_eq!(a[0], other[0], "k = 0 is the common init");
        assert_ne!(a[1].u, other[1].u, "the first minibatch should differ");
        assert_ne!(a[60].loss, other[60].loss);
    }
    let gd = trajectory(&data, &net, Sampling::FullBatch, Method::KernelSpace).snapshots;
    assert_ne!(a[1].u, gd[1].u);
    // SGD still trains: the full loss fell.
    assert!(a[60].loss < 0.5 * a[0].loss, "{} → {}", a[0].loss, a[60].loss);
}

/// GD for E epochs against SGD with b = 3 (⌈12/3⌉ = 4 steps per epoch) from the same init, with
/// the theorem's η: shapes of the result, the common start, and the measured differences.
#[test]
fn gd_and_sgd_are_compared_at_matched_epochs_and_iterations() {
    let (data, net) = setup();
    let config = SgdComparisonConfig {
        learning_rate: LearningRate::Theorem { c_eta: 20.0 },
        batch_size: 3,
        epochs: 40,
        seed: 9,
        ..Default::default()
    };
    let cmp = compare_gd_sgd(&data, &net, &config).unwrap();
    assert_eq!((cmp.gd_status, cmp.sgd_status), (Status::Completed, Status::Completed));
    assert_eq!(cmp.steps_per_epoch, 4);
    assert_eq!((cmp.gd_by_epoch.len(), cmp.sgd_by_epoch.len()), (41, 41));
    assert_eq!((cmp.gd_loss_by_iteration.len(), cmp.sgd_loss_by_iteration.len()), (41, 161));
    for (e, (g, s)) in cmp.gd_by_epoch.iter().zip(&cmp.sgd_by_epoch).enumerate() {
        assert_eq!((g.step, s.step), (e, 4 * e));
        assert_eq!(g.loss, cmp.gd_loss_by_iteration[e]);
        assert_eq!(s.loss, cmp.sgd_loss_by_iteration[4 * e]);
    }
    assert_eq!(cmp.gd_by_epoch[0], cmp.sgd_by_epoch[0], "both start from the same init");
    let by_epoch = cmp.loss_ratio_by_epoch();
    let by_iteration = cmp.loss_ratio_by_iteration();
    assert_eq!((by_epoch.len(), by_iteration.len()), (41, 41));
    assert!(by_epoch.iter().chain(&by_iteration).all(|r| r.is_finite() && *r > 0.0));
    let (g, s) = (cmp.gd_by_epoch.last().unwrap(), cmp.sgd_by_epoch.last().unwrap());
    println!(
        "η = {:.3e} (λ0 = {:.3}), after 40 epochs: L_GD = {:.3e}, L_SGD = {:.3e} (ratio {:.3}); \
         at iteration 40: ratio {:.3}; max distance GD {:.3e} SGD {:.3e}; pattern change GD {:.2e} SGD {:.2e}; \
         bound ratio GD {:.3} SGD {:.3}",
        cmp.eta,
        cmp.lambda0,
        g.loss,
        s.loss,
        by_epoch[40],
        by_iteration[40],
        g.max_weight_distance,
        s.max_weight_distance,
        g.pattern_change_fraction,
        s.pattern_change_fraction,
        g.discrete_bound_ratio.unwrap(),
        s.discrete_bound_ratio.unwrap(),
    );
    // Same examples seen, different trajectories. At a step this small each SGD step makes almost a
    // GD step of progress, so with 4 steps per epoch SGD is ahead per epoch.
    assert_ne!(g.loss, s.loss);
    assert!(by_epoch[40] < 1.0, "after 40 epochs L_SGD / L_GD = {}", by_epoch[40]);
    assert!(s.loss < cmp.sgd_by_epoch[0].loss, "SGD decreased the loss");
}
