//! Slide Thm 2.1 (paper Thm 3.2): with m ≥ m₂.₁, w.p. ≥ 1 − δ the gradient flow has ‖u(t) − y‖² ≤ e^{−λ0 t}‖u(0) − y‖² for all t.

use std::f64::consts::PI;

use flow::InfiniteWidth;
use model::Network;

use crate::engine::{EventSpec, ExpectationSpec, Progress, RunContext, SeedOutcome, measure_with};
use crate::result::{ClaimResult, Observation, ProofWidth, Relation, Target};
use crate::trajectory::{decay_statement, dynamics, flow_config, late_decay_rate, run};
use crate::{CheckConfig, ClaimId, LemmaError, make_data};

/// m₂.₁ = 512 n⁵ (‖y‖² + n/2) / (π δ³ λ0⁴): Lem 2.5's premise chained with Markov on ‖y − u(0)‖².
pub fn proof_width(n: usize, y_norm_sq: f64, delta: f64, lambda0: f64) -> f64 {
    let n = n as f64;
    512.0 * n.powi(5) * (y_norm_sq + n / 2.0) / (PI * delta.powi(3) * lambda0.powi(4))
}

/// Checks Thm 2.1 on RK4 gradient-flow trajectories over [0, T], plus the Markov step on ‖y − u(0)‖².
pub fn check(cfg: &CheckConfig, progress: &dyn Progress) -> Result<ClaimResult, LemmaError> {
    crate::complete(check_with(cfg, &RunContext::new(progress)))
}

/// [`check`] with a seed store and an optional shard: `None` for a shard, whose seeds go to the store.
pub fn check_with(cfg: &CheckConfig, ctx: &RunContext<'_>) -> Result<Option<ClaimResult>, LemmaError> {
    cfg.validate()?;
    let data = make_data(cfg)?;
    let n = data.n();
    let reference = InfiniteWidth::first_layer(&data).map_err(dynamics)?;
    let lambda0 = reference.lambda0();
    let y2 = data.y().squared_norm_l2();
    let m21 = proof_width(n, y2, cfg.delta, lambda0);
    let p = 1.0 - cfg.delta;
    let flow_cfg = flow_config(cfg);
    let events = [
        EventSpec {
            key: "statement",
            description: format!(
                "‖y − u(t)‖² ≤ e^{{−λ0 t}}‖y − u(0)‖² at every sample t ∈ (0, {}] (measured: max ratio; allowance: the integrator's error estimate)",
                cfg.horizon
            ),
            target: Target::Probability(p),
        },
        EventSpec {
            key: "markov-initial-residual",
            description: "‖y − u(0)‖² ≤ (‖y‖² + n/2)/δ (Markov's inequality on E‖y − u(0)‖² = ‖y‖² + n/2)".into(),
            target: Target::Probability(p),
        },
    ];
    let expectations = [
        ExpectationSpec {
            key: "initial-residual",
            description: format!("E‖y − u(0)‖² = ‖y‖² + n/2 = {:.4} (the slide's ‖y‖² + n is looser)", y2 + n as f64 / 2.0),
            relation: Relation::Equal,
            reference: y2 + n as f64 / 2.0,
            sd_floor: None,
        },
        ExpectationSpec {
            key: "decay-rate",
            description: "late decay rate −d log‖y − u‖²/dt over [T/2, T] ÷ λ0 (the bound's rate is 1; ≈ 2λmin(H)/λ0 asymptotically)".into(),
            relation: Relation::AtLeast,
            reference: 1.0,
            sd_floor: None,
        },
        ExpectationSpec {
            key: "rate-vs-2-lambda-min",
            description: "late decay rate ÷ 2λmin(H(T)) (→ 1 as the slowest mode dominates)".into(),
            relation: Relation::AtLeast,
            reference: 1.0,
            sd_floor: None,
        },
    ];
    let eval = |m: usize, trial: u64| -> Result<SeedOutcome, LemmaError> {
        let net = Network::init(m, data.d(), cfg.master_seed, trial)?;
        let r = run(&data, &net, &reference, &flow_cfg, false)?;
        let statement = decay_statement(&r);
        let r0sq = r.initial_residual_norm.powi(2);
        let rate = late_decay_rate(&r.points);
        let last = r.points.last().expect("T is sampled");
        Ok(SeedOutcome {
            events: vec![statement, Observation::at_most(r0sq, (y2 + n as f64 / 2.0) / cfg.delta)],
            values: vec![r0sq, rate / lambda0, rate / (2.0 * last.lambda_min_h)],
        })
    };
    let premise = |m: usize| m as f64 >= m21;
    let Some(measured) = measure_with(ClaimId::Thm21, cfg, &events, &expectations, &premise, &eval, ctx)? else {
        return Ok(None);
    };
    Ok(Some(crate::assemble(
        ClaimId::Thm21,
        cfg,
        lambda0,
        "If m ≥ m₂.₁ then with probability ≥ 1 − δ over W(0), a: ‖u(t) − y‖² ≤ exp(−λ0 t)‖u(0) − y‖² for all t ≥ 0 (gradient flow of the first layer).",
        vec![ProofWidth {
            route: "Lem 2.5's premise R′ < R with Markov ‖y − u(0)‖² ≤ (‖y‖² + n/2)/δ (failure probabilities of Lem 2.2, 2.3 and Markov add)".into(),
            formula: "512 n⁵ (‖y‖² + n/2) / (π δ³ λ0⁴)".into(),
            width: m21,
        }],
        measured,
        vec![
            format!("Gradient flow integrated by RK4 with h = {} on [0, {}], sampled at {} times.", cfg.step, cfg.horizon, crate::trajectory::SAMPLE_INTERVALS + 1),
            "The bound is checked on [0, T] only; 'for all t' is outside any simulation.".into(),
        ],
    )))
}
