//! Criterion benches of one GD step: weight space, kernel space, and the Fig. 1 step with its diagnostics.
//!
//! Weight space does two n×d×m GEMMs; kernel space one fused n×n×m GEMM pass.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use descent::{DescentConfig, LearningRate, Method, Observer, Problem, Recorder, RecorderOptions};
use model::{Dataset, Network};
use std::time::Duration;

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("descent_step");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (n, d, m) in [(100usize, 100usize, 10_000usize), (1000, 1000, 10_000)] {
        let data = Dataset::sphere(n, d, 0, 0).unwrap();
        let net = Network::init(m, d, 0, 0).unwrap();
        let label = format!("n{n}_d{d}_m{m}");
        for method in [Method::WeightSpace, Method::KernelSpace] {
            let config = DescentConfig { learning_rate: LearningRate::Fixed(0.1), method, ..Default::default() };
            let problem = Problem::new(&data, &net, &config).unwrap();
            let mut state = problem.initial_state().unwrap();
            group.bench_function(BenchmarkId::new(format!("{method:?}"), &label), |b| {
                b.iter(|| problem.step(&mut state).unwrap())
            });
        }
        // The Fig. 1 step: kernel-space step, then H(k), warm-started λmin(H(k)), pattern changes
        // and distances through the recorder.
        let config = DescentConfig { learning_rate: LearningRate::Fixed(0.1), ..Default::default() };
        let problem = Problem::new(&data, &net, &config).unwrap();
        let mut state = problem.initial_state().unwrap();
        let reference = problem.infinite_width().unwrap();
        let mut recorder = Recorder::new(reference, RecorderOptions { lambda_min_every: 1, keep_u: false });
        recorder.observe(&descent::View { problem: &problem, state: &state, sample_index: 0 }).unwrap();
        let mut sample_index = 0;
        group.bench_function(BenchmarkId::new("KernelSpaceWithDiagnostics", &label), |b| {
            b.iter(|| {
                problem.step(&mut state).unwrap();
                sample_index += 1;
                recorder.observe(&descent::View { problem: &problem, state: &state, sample_index }).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
