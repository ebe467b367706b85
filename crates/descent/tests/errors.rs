//! Every bad input is a named error, never a panic or a NaN.

use descent::{DescentConfig, DescentError, LearningRate, Problem, Sampling, SgdComparisonConfig, compare_gd_sgd};
use faer::{Col, Mat};
use model::{Dataset, ModelError, Network};

fn check(config: DescentConfig, expect: impl Fn(&DescentError) -> bool) {
    let data = Dataset::sphere(6, 4, 0, 0).unwrap();
    let net = Network::init(50, 4, 0, 0).unwrap();
    let e = descent::run(&data, &net, &config, &mut ()).unwrap_err();
    assert!(expect(&e), "{config:?} gave {e:?}");
    assert!(!e.to_string().is_empty());
}

#[test]
fn bad_input_is_a_named_error() {
    let fixed = |eta| DescentConfig { learning_rate: LearningRate::Fixed(eta), ..Default::default() };
    for eta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        check(fixed(eta), |e| matches!(e, DescentError::InvalidLearningRate { name: "eta", .. }));
    }
    for c_eta in [0.0, -2.0, f64::NAN] {
        let config = DescentConfig { learning_rate: LearningRate::Theorem { c_eta }, ..Default::default() };
        check(config, |e| matches!(e, DescentError::InvalidLearningRate { name: "c_eta", .. }));
    }
    for batch_size in [0, 7] {
        let config = DescentConfig { sampling: Sampling::Minibatch { batch_size, seed: 0, trial: 0 }, ..fixed(0.1) };
        check(config, |e| *e == DescentError::InvalidBatchSize { batch_size, n: 6 });
    }
    for divergence_factor in [1.0, 0.5, f64::NAN, f64::INFINITY] {
        let config = DescentConfig { divergence_factor, ..fixed(0.1) };
        check(config, |e| matches!(e, DescentError::InvalidParameter { name: "divergence_factor", .. }));
    }

    let data = Dataset::sphere(6, 4, 0, 0).unwrap();
    let config = fixed(0.1);
    // W with the wrong number of columns, a of the wrong length, W with no rows, non-finite W.
    let wrong_d = Network::init(50, 5, 0, 0).unwrap();
    let e = descent::run(&data, &wrong_d, &config, &mut ()).unwrap_err();
    assert!(matches!(e, DescentError::Model(ModelError::Shape { .. })), "{e:?}");
    let wrong_a = Network { w: Mat::zeros(50, 4), a: Col::zeros(49) };
    let e = descent::run(&data, &wrong_a, &config, &mut ()).unwrap_err();
    assert!(matches!(e, DescentError::Model(ModelError::Shape { .. })), "{e:?}");
    let empty = Network { w: Mat::zeros(0, 4), a: Col::zeros(0) };
    let e = descent::run(&data, &empty, &config, &mut ()).unwrap_err();
    assert!(matches!(e, DescentError::Model(ModelError::Empty { .. })), "{e:?}");
    let mut nan = Network::init(50, 4, 0, 0).unwrap();
    nan.w[(3, 2)] = f64::NAN;
    let e = descent::run(&data, &nan, &config, &mut ()).unwrap_err();
    assert!(matches!(e, DescentError::Model(ModelError::NonFinite { row: 3, col: 2, .. })), "{e:?}");

    // A state from another problem.
    let net = Network::init(50, 4, 0, 0).unwrap();
    let other = Network::init(60, 4, 0, 0).unwrap();
    let p = Problem::new(&data, &net, &config).unwrap();
    let q = Problem::new(&data, &other, &config).unwrap();
    let mut state = q.initial_state().unwrap();
    assert!(matches!(p.step(&mut state), Err(DescentError::StateMismatch { .. })));
    assert!(matches!(p.weights(&state), Err(DescentError::StateMismatch { .. })));

    // A zero sampling stride; a bad SGD comparison batch.
    check(DescentConfig { sample_every: 0, ..Default::default() }, |e| {
        matches!(e, DescentError::InvalidParameter { name: "sample_every", .. })
    });
    for batch_size in [0, 7] {
        let e = compare_gd_sgd(&data, &net, &SgdComparisonConfig { batch_size, ..Default::default() }).unwrap_err();
        assert_eq!(e, DescentError::InvalidBatchSize { batch_size, n: 6 });
    }
}
