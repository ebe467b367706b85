//! The same seeds give bitwise-identical trajectories on 1 and on 2 rayon threads.

mod common;

use common::{KeepAll, fixed_step};
use descent::{Method, Problem, Recorder, RecorderOptions, Sample, Sampling};
use model::{Dataset, Network};

fn record(data: &Dataset, net: &Network, method: Method, sampling: Sampling) -> (Vec<common::Snapshot>, Vec<Sample>) {
    let problem = Problem::new(data, net, &fixed_step(0.4, 25, method, sampling)).unwrap();
    let recorder =
        Recorder::new(problem.infinite_width().unwrap(), RecorderOptions { lambda_min_every: 1, keep_u: true });
    let mut observers = (KeepAll { materialise_at: vec![0, 25], ..Default::default() }, recorder);
    problem.run(&mut observers).unwrap();
    (observers.0.snapshots, observers.1.into_trajectory().samples)
}

fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

/// m = 1000 spans four column blocks; both methods, full batch and SGD, with λmin(H(k)) recorded.
#[test]
fn same_seed_same_bits_on_one_and_two_threads() {
    let data = Dataset::sphere(40, 30, 17, 0).unwrap();
    let net = Network::init(1000, 30, 17, 0).unwrap();
    for method in [Method::KernelSpace, Method::WeightSpace] {
        for sampling in [Sampling::FullBatch, Sampling::Minibatch { batch_size: 7, seed: 3, trial: 2 }] {
            let one = on_threads(1, || record(&data, &net, method, sampling));
            let two = on_threads(2, || record(&data, &net, method, sampling));
            assert_eq!(one.0.len(), 26);
            assert!(one.0[25].w.is_some());
            assert_eq!(one, two, "{method:?}, {sampling:?}");
        }
    }
}
