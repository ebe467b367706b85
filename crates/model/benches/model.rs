//! Criterion benches of the model's kernels at (n, d, m) = (100, 100, 10⁴) and (1000, 1000, 10⁴).
//!
//! Benched: init, pre-activation sampler, forward + gradient, GEMM, patterns, S Sᵀ, H(W), λmin
//! dense and warm-started.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use faer::Accum;
use model::network::{grad_w, preactivations, predictions, residual};
use model::par::matmul_par;
use model::{
    Dataset, GaussianPreactivations, LambdaMinWarmStart, Network, PatternBits, gram_h, gram_h_from_patterns,
    lambda_min, lambda_min_warm_started,
};
use std::time::Duration;

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("model");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (n, d, m) in [(100usize, 100usize, 10_000usize), (1000, 1000, 10_000)] {
        let data = Dataset::sphere(n, d, 0, 0).unwrap();
        let net = Network::init(m, d, 0, 0).unwrap();
        let label = format!("n{n}_d{d}_m{m}");
        group.bench_function(BenchmarkId::new("network_init", &label), |b| {
            b.iter(|| Network::init(m, d, 0, 1).unwrap())
        });
        let sampler = GaussianPreactivations::new(&data);
        group.bench_function(BenchmarkId::new("gaussian_preactivations_cholesky", &label), |b| {
            b.iter(|| sampler.sample(m, 0, 1).unwrap())
        });
        group.bench_function(BenchmarkId::new("forward_and_gradient", &label), |b| {
            b.iter(|| {
                let z = preactivations(data.x(), net.w.as_ref());
                let u = predictions(z.as_ref(), net.a.as_ref());
                let r = residual(u.as_ref(), data.y());
                grad_w(data.x(), z.as_ref(), net.a.as_ref(), r.as_ref())
            })
        });
        let z = preactivations(data.x(), net.w.as_ref());
        // The GEMM of the kernel-space step, K (n × n) times an n × m matrix, on fixed column blocks.
        let mut p = faer::Mat::<f64>::zeros(n, m);
        group.bench_function(BenchmarkId::new("gemm_k_times_n_by_m", &label), |b| {
            b.iter(|| matmul_par(p.as_mut(), Accum::Replace, data.input_gram(), z.as_ref(), 1.0))
        });
        group.bench_function(BenchmarkId::new("pack_patterns", &label), |b| {
            b.iter(|| PatternBits::from_preactivations(z.as_ref()))
        });
        let bits = PatternBits::from_preactivations(z.as_ref());
        group.bench_function(BenchmarkId::new("co_activation_counts", &label), |b| {
            b.iter(|| bits.co_activation_counts())
        });
        group.bench_function(BenchmarkId::new("gram_h_from_patterns", &label), |b| {
            b.iter(|| gram_h_from_patterns(data.input_gram(), &bits))
        });
        group.bench_function(BenchmarkId::new("gram_h", &label), |b| {
            b.iter(|| gram_h(data.input_gram(), z.as_ref(), net.a.as_ref()))
        });
        let h = gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
        group.bench_function(BenchmarkId::new("lambda_min", &label), |b| b.iter(|| lambda_min(h.as_ref()).unwrap()));
        // Warm start from H of a slightly different network (the previous GD step's H, roughly).
        let mut moved = net.clone();
        for r in 0..m.min(200) {
            for k in 0..d {
                moved.w[(r, k)] = -moved.w[(r, k)];
            }
        }
        let h_prev = gram_h(data.input_gram(), preactivations(data.x(), moved.w.as_ref()).as_ref(), net.a.as_ref());
        let mut warm = LambdaMinWarmStart::new();
        lambda_min_warm_started(h_prev.as_ref(), &mut warm).unwrap();
        group.bench_function(BenchmarkId::new("lambda_min_warm_started", &label), |b| {
            b.iter_batched_ref(
                || warm.clone(),
                |w| lambda_min_warm_started(h.as_ref(), w).unwrap(),
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
