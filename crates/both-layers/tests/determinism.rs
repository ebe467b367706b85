//! The same seed gives bit-identical both-layer flows and GD runs on 1 and 2 rayon threads.

use flow::{FlowConfig, RecorderOptions, SampleTimes, StepSize};
use model::{Dataset, Network};

use both_layers::{GdConfig, Trajectory, descend};

fn runs_on(threads: usize, data: &Dataset, net: &Network) -> (Trajectory, Trajectory, Network, Network) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let reference = model::InfiniteWidth::both_layers(data).unwrap();
        let options = RecorderOptions { lambda_min_every: 4, keep_u: true };
        let config = FlowConfig {
            t_end: 0.5,
            step: StepSize::Fixed(0.02),
            samples: SampleTimes::Uniform { intervals: 8 },
            ..FlowConfig::default()
        };
        let mut flow_recorder = both_layers::recorder(&reference, options);
        let flow_out = both_layers::run(data, net, &config, &mut flow_recorder).unwrap();
        let mut gd_recorder = both_layers::recorder(&reference, options);
        let gd = GdConfig { eta: 0.05, iterations: 40, sample_every: 5, ..Default::default() };
        let gd_out = descend(data, net, &gd, &mut gd_recorder).unwrap();
        (flow_recorder.into_trajectory(), gd_recorder.into_trajectory(), flow_out.network, gd_out.network)
    })
}

/// m = 3000 spans 12 neuron blocks and W has 30 000 entries, so both thread counts split the work.
#[test]
fn same_seed_same_bits_on_one_and_two_threads() {
    let data = Dataset::sphere(20, 10, 4, 0).unwrap();
    let net = Network::init(3000, 10, 4, 0).unwrap();
    let one = runs_on(1, &data, &net);
    let two = runs_on(2, &data, &net);
    let bits = |t: &Trajectory| -> Vec<u64> {
        t.samples
            .iter()
            .flat_map(|s| {
                s.u.iter().chain([&s.loss, &s.second_layer.as_ref().unwrap().a_distance]).map(|v| v.to_bits())
            })
            .collect()
    };
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
    assert_eq!(bits(&one.0), bits(&two.0));
    assert_eq!(bits(&one.1), bits(&two.1));
    assert_eq!(one.2, two.2);
    assert_eq!(one.3, two.3);
    assert!(one.0.samples[4].second_layer.as_ref().unwrap().lambda_min_h_plus_g.is_some());
}
