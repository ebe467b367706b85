//! Helpers shared by the flow crate's integration tests.

use faer::{Col, Mat};
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
