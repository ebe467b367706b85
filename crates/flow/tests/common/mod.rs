//! Helpers shared by the flow crate's integration tests.

#![allow(dead_code)]

use faer::{Col, Mat};
use flow::{FlowConfig, SampleTimes, StepSize};
use model::{Dataset, Network};

/// A width-`m` network whose pre-activations all satisfy |w_rᵀx_i| ≥ `margin` at t = 0: neurons of
/// the seeded init are kept in order when every |Z_ir| clears the margin (no pattern can flip
/// before the weights move by `margin`).
pub fn network_with_margin(data: &Dataset, m: usize, margin: f64, seed: u64) -> Network {
    let pool = Network::init(8 * m, data.d(), seed, 0).unwrap();
    let z = pool.forward(data).unwrap().z;
    let keep: Vec<usize> =
        (0..pool.m()).filter(|&r| (0..data.n()).all(|i| z[(i, r)].abs() >= margin)).take(m).collect();
    assert_eq!(keep.len(), m, "not enough neurons clear the margin");
    let w = Mat::from_fn(m, data.d(), |r, k| pool.w[(keep[r], k)]);
    let a = Col::from_fn(m, |r| pool.a[keep[r]]);
    Network::new(w, a).unwrap()
}

/// A run to `t_end` in fixed steps of `h`, sampled at `samples` (the other settings the defaults).
pub fn fixed_steps(t_end: f64, h: f64, samples: SampleTimes) -> FlowConfig {
    FlowConfig { t_end, step: StepSize::Fixed(h), samples, ..FlowConfig::default() }
}

/// [`fixed_steps`] sampled at `intervals` + 1 uniform times.
pub fn uniform(t_end: f64, h: f64, intervals: usize) -> FlowConfig {
    fixed_steps(t_end, h, SampleTimes::Uniform { intervals })
}
