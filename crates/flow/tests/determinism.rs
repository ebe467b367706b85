//! The same seed gives bit-identical trajectories on 1 and 2 rayon threads.

use flow::{FlowConfig, Recorder, RecorderOptions, RunOutcome, SampleTimes, Space, StepSize, Trajectory, run};
use model::{Dataset, InfiniteWidth, Network};

fn run_on(
    threads: usize,
    data: &Dataset,
    net: &Network,
    reference: &InfiniteWidth,
    intervals: usize,
) -> (RunOutcome, Trajectory) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let config = FlowConfig {
            t_end: 1.0,
            step: StepSize::Fixed(0.02),
            samples: SampleTimes::Uniform { intervals },
            ..FlowConfig::default()
        };
        let mut recorder = Recorder::new(reference, RecorderOptions { lambda_min_every: 5, keep_u: true });
        let outcome = run(data, net, &config, &mut recorder).unwrap();
        (outcome, recorder.into_trajectory())
    })
}

/// m = 3000 spans 12 neuron blocks of the model's GEMMs and W has 30 000 entries (two chunks of
/// this crate's state kernels), so both thread counts really split the work (weight space, d < n).
/// Kernel space (d ≥ n) at n = d = 32, m = 8448: n²m is above `flow::PARALLEL_WORK`, so its 33
/// blocks run in parallel; 7 sample intervals put samples between grid points.
#[test]
fn same_seed_same_bits_on_one_and_two_threads() {
    let cases = [
        (Dataset::sphere(20, 10, 4, 0).unwrap(), 3000, 10, Space::Weight),
        (Dataset::sphere(32, 32, 4, 0).unwrap(), 8448, 7, Space::Kernel),
    ];
    for (data, m, intervals, space) in cases {
        assert_eq!(space.kernel(&data), data.d() >= data.n());
        let net = Network::init(m, data.d(), 4, 0).unwrap();
        let reference = InfiniteWidth::first_layer(&data).unwrap();
        let (o1, t1) = run_on(1, &data, &net, &reference, intervals);
        let (o2, t2) = run_on(2, &data, &net, &reference, intervals);
        assert_eq!(o1.space, space);
        if space == Space::Kernel {
            assert!(
                flow::kernel::parallel_for(data.n(), m, data.n()),
                "the kernel case must run its blocks in parallel"
            );
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(t1, t2);
        for (a, b) in t1.samples.iter().zip(&t2.samples) {
            assert_eq!(bits(&a.u), bits(&b.u));
            assert_eq!(a.loss.to_bits(), b.loss.to_bits());
            assert_eq!(a.u_error_estimate.map(f64::to_bits), b.u_error_estimate.map(f64::to_bits));
            assert_eq!(a.neuron_error_estimate.map(f64::to_bits), b.neuron_error_estimate.map(f64::to_bits));
        }
        assert_eq!(o1.network, o2.network);
        assert_eq!(bits(&o1.u), bits(&o2.u));
        assert_eq!(o1.error, o2.error);
        assert!(t1.samples[5].lambda_min_h.is_some() && t1.samples.last().unwrap().pattern_change_fraction > 0.0);
    }
}
