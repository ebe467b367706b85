//! The one cost model of a seed (flop-equivalents and bytes): its fitted constants and the pieces each claim composes.
//!
//! Each claim states its own `Claim::seed_flops` from these pieces; the `verify-lemmas` plan line,
//! the refusals and the scaling forecast all read it (at [`FORECAST_FLOPS_PER_THREAD`]).

use crate::CheckConfig;

/// Effective throughput of the time forecast's flop model, in flop/s per thread: calibrated on the
/// `scaling` record (docs/scaling/RUN.md: the forecast of the whole run lay within 1.1× of its
/// measured 2087 s before [`ELEMENTWISE_FLOPS`] and the other fitted terms joined the model,
/// 1.45× since; the model counts
/// dense work, so shortcuts such as the Cholesky sampler show up as a high effective rate). The
/// same rate serves the `verify-lemmas` plan line, whose tests hold it within 2× of every profile.
pub const FORECAST_FLOPS_PER_THREAD: f64 = 2.4e10;

/// Flops per n² counted for one update of an active neuron by the reduced solver (stage
/// pre-activations K g, gradients, outputs, the exact observables, Thm 3.1's audit).
pub const REDUCED_FLOPS_PER_UPDATE: f64 = 30.0;

/// Flop-equivalents per normal the reduced solver draws (with its neuron's share of the pass's
/// bookkeeping) at [`FORECAST_FLOPS_PER_THREAD`]: fitted on 2026-12-07 to Lem 2.5's tiny run
/// (10⁸ neurons drawn, 29.6 s of CPU on 2 threads), where the stream dominates; about 180 ns a
/// neuron at n = d = 2 over its eight passes.
pub const REDUCED_FLOPS_PER_DRAW: f64 = 270.0;

/// Flop-equivalents per entry of the n × m arrays that every stage of a flow and every GD step
/// touches elementwise beside its GEMMs (ReLU patterns, D, the updates of Z and C, the sums of
/// the observers), at [`FORECAST_FLOPS_PER_THREAD`]. Refitted on 2026-12-07, after the flows
/// stopped allocating per stage, to the quick profile's Lem 2.4 and Thm 2.1 (n = 6, where this
/// term is about two thirds of a stage) and checked on the paper profile's (n = 20).
pub const ELEMENTWISE_FLOPS: f64 = 45.0;

/// Flop-equivalents per standard normal drawn (ChaCha8 words and the normal transform, about
/// 4 ns): fitted on 2026-12-07 to Lem 2.2's quick (n = 10) and paper (n = 20) runs, where the
/// Cholesky sampler's n normals and n² products per neuron are most of the work.
pub const NORMAL_FLOPS: f64 = 90.0;

/// The fixed cost of one audited iterate of Thm 3.1 besides its O(n³) and n × m work, in
/// flop-equivalents (about 3 µs): the setup of its small eigen-solves and the bookkeeping of
/// its inequalities, which dominate at the quick profile's n = 4, m ≤ 1000 and an audit at every
/// step. Fitted on 2026-12-07 to that run; the `scaling` profile audits one step in
/// `SCALING_AUDIT_EVERY`, and its record's forecast stays within 2× with it.
pub const AUDIT_FIXED_FLOPS: f64 = 7.0e4;

/// A seed on the reduced solver (docs/theory.md §5): about eight passes over the stream (run and
/// shadow, with budget growths), each d normals ([`REDUCED_FLOPS_PER_DRAW`] each) and an n × d
/// product per neuron, then [`REDUCED_FLOPS_PER_UPDATE`]·n² per update of an active neuron;
/// `None` when the configuration runs the full solver at width m.
pub fn reduced_seed_flops(cfg: &CheckConfig, m: usize) -> Option<f64> {
    if !crate::reduced_flow::use_reduced(cfg, m, cfg.n) {
        return None;
    }
    let (n, d, mf) = (cfg.n as f64, cfg.d as f64, m as f64);
    let updates = crate::reduced_flow::active_updates(cfg, m).unwrap_or(0.0);
    Some(8.0 * mf * d * (REDUCED_FLOPS_PER_DRAW + n) + updates * REDUCED_FLOPS_PER_UPDATE * n * n)
}

/// The initialisation: m·d normals ([`NORMAL_FLOPS`] each) and the n × m pre-activations.
pub fn init_flops(cfg: &CheckConfig, m: usize) -> f64 {
    let (n, d, mf) = (cfg.n as f64, cfg.d as f64, m as f64);
    mf * d * (NORMAL_FLOPS + 2.0 * n)
}

/// RK4 steps of a flow to T = max(horizon, 8/λ0).
pub fn flow_steps(cfg: &CheckConfig, lambda0: f64) -> f64 {
    (cfg.horizon.max(8.0 / lambda0) / cfg.step).ceil()
}

/// A first-layer flow seed: ⌈max(T, 8/λ0)/h⌉ RK4 steps of 4 stages, tripled by step doubling,
/// each stage a kernel-space product (4n²m, d ≥ n) or a weight-space pair (4nmd), and
/// [`ELEMENTWISE_FLOPS`] per n × m entry.
pub fn first_layer_flow_flops(cfg: &CheckConfig, lambda0: f64, m: usize) -> f64 {
    let (n, d, mf) = (cfg.n as f64, cfg.d as f64, m as f64);
    let stage = if cfg.d >= cfg.n { 4.0 * n * n * mf } else { 4.0 * n * mf * d };
    init_flops(cfg, m) + flow_steps(cfg, lambda0) * 4.0 * 3.0 * (stage + ELEMENTWISE_FLOPS * n * mf)
}
