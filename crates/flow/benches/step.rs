//! Criterion benches of one gradient-flow step with its embedded error estimate, in kernel space and weight space.
//!
//! Kernel space is benched fused (one n×n×m GEMM per stage) and lazy (about one GEMM per step); the
//! thread threshold of the kernel-space blocks is benched too.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use flow::{FirstLayerField, KernelField, KernelState, LazyKernel, VectorField};
use model::{Dataset, Network};
use std::time::Duration;

/// One grid step as `flow::integrate` takes it under the embedded estimate (`flow::embedded_step`).
fn embedded_step<F: VectorField>(field: &F, x: &F::State, k1: &F::State, h: f64) -> (F::State, F::State) {
    let (next, k5, parts) = flow::embedded_step(field, 0.0, x, k1, h).unwrap();
    std::hint::black_box(parts);
    (next, k5.derivative)
}

fn flow_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("flow_step");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (n, m) in [(40usize, 300usize), (200, 5000), (1000, 10_000)] {
        let data = Dataset::sphere(n, n, 0, 0).unwrap();
        let net = Network::init(m, n, 0, 0).unwrap();
        let label = format!("n{n}_d{n}_m{m}");
        let field = KernelField::new(&data, &net.a);
        let (mut x, mut k1) = {
            let x = KernelState::initial(&data, &net);
            let k1 = field.evaluate(0.0, &x).unwrap().derivative;
            (x, k1)
        };
        group.bench_function(BenchmarkId::new("KernelSpaceEmbedded", &label), |b| {
            b.iter(|| {
                let (next, k5) = embedded_step(&field, &x, &k1, 0.01);
                field.recycle(std::mem::replace(&mut x, next));
                field.recycle(std::mem::replace(&mut k1, k5));
            })
        });
        // The same step and estimate, lazily: one GEMM for the start pattern plus sparse corrections.
        let mut lazy = LazyKernel::new(&field, KernelState::initial(&data, &net)).unwrap();
        group.bench_function(BenchmarkId::new("LazyKernelEmbedded", &label), |b| {
            b.iter(|| std::hint::black_box(lazy.step(0.01).unwrap()))
        });
        println!("{label}: lazy counters {:?}", lazy.counters());
        if n <= 200 {
            let field = FirstLayerField { data: &data };
            let mut x = net.clone();
            let mut k1 = field.evaluate(0.0, &x).unwrap().derivative;
            group.bench_function(BenchmarkId::new("WeightSpaceEmbedded", &label), |b| {
                b.iter(|| {
                    let (next, k5) = embedded_step(&field, &x, &k1, 0.01);
                    (x, k1) = (next, k5);
                })
            });
        }
    }
    group.finish();
}

/// The kernel-space step with its blocks on one thread or in parallel, around `flow::PARALLEL_WORK`
/// (n²m = 2²³): where parallel blocks start to pay on the machine at hand.
fn threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("flow_step_threads");
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    for (n, m) in [(40usize, 300usize), (40, 1024), (64, 1024), (64, 2048), (100, 2048), (128, 4096)] {
        let data = Dataset::sphere(n, n, 0, 0).unwrap();
        let net = Network::init(m, n, 0, 0).unwrap();
        for parallel in [false, true] {
            let field = KernelField::with_parallelism(&data, &net.a, parallel);
            let mut x = KernelState::initial(&data, &net);
            let mut k1 = field.evaluate(0.0, &x).unwrap().derivative;
            let label = format!("n{n}_m{m}_work{}", n * n * m);
            let name = if parallel { "parallel" } else { "one_thread" };
            group.bench_function(BenchmarkId::new(name, &label), |b| {
                b.iter(|| {
                    let (next, k5) = embedded_step(&field, &x, &k1, 0.01);
                    field.recycle(std::mem::replace(&mut x, next));
                    field.recycle(std::mem::replace(&mut k1, k5));
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, flow_step, threads);
criterion_main!(benches);
