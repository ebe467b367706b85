//! Slide Lem 2.5 (paper Lem 3.4): if R′ < R then for all t, λmin(H(t)) ≥ λ0/2, max_r ‖w_r(t) − w_r(0)‖ ≤ R′ and the Lem 2.4 decay hold.

use std::f64::consts::PI;

use flow::{ErrorEstimate, InfiniteWidth};
use model::Network;

use crate::engine::{EventSpec, ExpectationSpec, Progress, RunContext, SeedOutcome, measure_with};
use crate::result::{ClaimResult, Observation, ProofWidth, Relation, Target};
use crate::trajectory::{dynamics, flow_config, run, worst_decay};
use crate::{CheckConfig, ClaimId, LemmaError, make_data};

/// The width at which R′ < R holds for a given ‖y − u(0)‖: m > (32 n^{2.5} ‖y − u(0)‖ / (√(2π) δ λ0²))².
pub fn premise_width(n: usize, initial_residual_norm: f64, delta: f64, lambda0: f64) -> f64 {
    (32.0 * (n as f64).powf(2.5) * initial_residual_norm / ((2.0 * PI).sqrt() * delta * lambda0 * lambda0)).powi(2)
}

/// Checks Lem 2.5 end to end where R′ < R can hold (tiny n, orthonormal inputs), and elsewhere how far m is from it.
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
    let big_r = crate::lem23::radius(n, cfg.delta, lambda0);
    let expected_r0 = (data.y().squared_norm_l2() + n as f64 / 2.0).sqrt();
    let m_needed = premise_width(n, expected_r0, cfg.delta, lambda0);
    // The large widths of this claim make the shadow trajectory costly; sampled step doubling suffices.
    let flow_cfg = flow::FlowConfig { error_estimate: ErrorEstimate::LocalSampled { every: 4 }, ..flow_config(cfg) };
    let events = [
        EventSpec {
            key: "statement",
            description: "if R′ < R: at every sample λmin(H(t)) ≥ λ0/2, max_r ‖w_r(t) − w_r(0)‖ ≤ R′ and ‖y − u(t)‖² ≤ e^{−λ0 t}‖y − u(0)‖² (vacuous when R′ ≥ R; measured: R′/R)".into(),
            target: Target::Always,
        },
        EventSpec {
            key: "premise",
            description: format!("R′ < R = √(2π)δλ0/(16n²) = {big_r:.4e} (measured: R′; bound R)"),
            target: Target::Probability(1.0 - cfg.delta),
        },
    ];
    let expectations = [ExpectationSpec {
        key: "r-prime-over-r",
        description: "R′/R (the premise needs < 1; it falls like 1/√m)".into(),
        relation: Relation::AtMost,
        reference: 1.0,
        sd_floor: None,
    }];
    let eval = |m: usize, trial: u64| -> Result<SeedOutcome, LemmaError> {
        let net = Network::init(m, data.d(), cfg.master_seed, trial)?;
        // R′ needs only u(0): skip the flow when the premise fails.
        let u0 = net.forward(&data)?.u;
        let r0 = (data.y() - &u0).norm_l2();
        let r_prime = 2.0 * (n as f64).sqrt() * r0 / ((m as f64).sqrt() * lambda0);
        let premise = Observation::below(r_prime, big_r);
        let mut statement = premise;
        statement.holds = true;
        if premise.holds {
            let r = run(&data, &net, &reference, &flow_cfg, false)?;
            let (_, _, decay) = worst_decay(&r.points);
            let lmin_ok = r.points.iter().all(|p| p.lambda_min_h >= lambda0 / 2.0);
            let dist_ok = r.points.iter().all(|p| p.max_distance <= r.r_prime + p.distance_tolerance);
            statement.holds = decay && lmin_ok && dist_ok && r.completed;
        }
        Ok(SeedOutcome { events: vec![statement, premise], values: vec![r_prime / big_r] })
    };
    let premise = |m: usize| m as f64 >= m_needed;
    let Some(measured) = measure_with(ClaimId::Lem25, cfg, &events, &expectations, &premise, &eval, ctx)? else {
        return Ok(None);
    };
    let largest = *cfg.widths.last().expect("validated") as f64;
    Ok(Some(crate::assemble(
        ClaimId::Lem25,
        cfg,
        lambda0,
        "If R′ < R then for all t ≥ 0: λmin(H(t)) ≥ λ0/2, max_r ‖w_r(t) − w_r(0)‖ ≤ R′, and ‖y − u(t)‖² ≤ exp(−λ0 t)‖y − u(0)‖².",
        vec![ProofWidth {
            route: "R′ < R with ‖y − u(0)‖ at its mean √(‖y‖² + n/2)".into(),
            formula: "(32 n^{2.5} ‖y − u(0)‖ / (√(2π) δ λ0²))²".into(),
            width: m_needed,
        }],
        measured,
        vec![format!(
            "The largest width run is {} ({:.3e}× the width R′ < R needs); SPEC: the regime is reachable only for tiny n (n = d = 3, orthonormal inputs, δ = 1/2: m ≈ 10⁷, the paper profile).",
            largest as u64,
            largest / m_needed
        )],
    )))
}
