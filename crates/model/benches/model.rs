//! Criterion benches of the model's kernels: forward + gradient, H(W), λmin, at (n, d, m) = (100, 100, 10⁴) and (1000, 1000, 10⁴).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use model::network::{grad_w, preactivations, predictions, residual};
use model::{Dataset, Network, gram_h, lambda_min};
use std::time::Duration;

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("model");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (n, d, m) in [(100usize, 100usize, 10_000usize), (1000, 1000, 10_000)] {
        let data = Dataset::sphere(n, d, 0, 0).unwrap();
        let net = Network::init(m, d, 0, 0).unwrap();
        let label = format!("n{n}_d{d}_m{m}");
        group.bench_function(BenchmarkId::new("forward_and_gradient", &label), |b| {
            b.iter(|| {
                let z = preactivations(data.x(), net.w.as_ref());
                let u = predictions(z.as_ref(), net.a.as_ref());
                let r = residual(u.as_ref(), data.y());
                grad_w(data.x(), z.as_ref(), net.a.as_ref(), r.as_ref())
            })
        });
        let z = preactivations(data.x(), net.w.as_ref());
        group.bench_function(BenchmarkId::new("gram_h", &label), |b| {
            b.iter(|| gram_h(data.input_gram(), z.as_ref(), net.a.as_ref()))
        });
        let h = gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
        group.bench_function(BenchmarkId::new("lambda_min", &label), |b| b.iter(|| lambda_min(h.as_ref()).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
