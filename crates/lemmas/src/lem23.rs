//! Slide Lem 2.3 (paper Lem 3.2): with R = √(2π) δ λ0 / (16 n²), w.p. ≥ 1 − δ every W with ‖w_r − w_r(0)‖ ≤ R has ‖H(W) − H(0)‖₂ < λ0/4.

use faer::Mat;
use model::network::preactivations;
use model::{Dataset, Network, PatternBits, gram_h, h_infinity, lambda_min, spectral_norm_symmetric};
use statrs::function::erf::erf;
use std::f64::consts::PI;

use crate::engine::{EventSpec, ExpectationSpec, Progress, RunContext, SeedOutcome, measure_with};
use crate::result::{ClaimResult, Observation, ProofWidth, Relation, Target};
use crate::{CheckConfig, ClaimId, LemmaError, make_data};

/// The radius of Lem 2.3 with the explicit constant c = √(2π)/16: R = √(2π) δ λ0 / (16 n²).
pub fn radius(n: usize, delta: f64, lambda0: f64) -> f64 {
    (2.0 * PI).sqrt() * delta * lambda0 / (16.0 * (n * n) as f64)
}

/// The certificate B = (1/m) Σ_ij |x_iᵀx_j| Σ_r 1{A_ir ∪ A_jr}, A_ir = {|w_r(0)ᵀx_i| < R}, computed
/// from Z = X W(0)ᵀ alone. It bounds Σ_ij |H_ij(W) − H_ij(0)| for every W in the ball of radius R.
/// Also returns the fraction of (i, r) in A_ir.
pub fn certificate(k: faer::MatRef<'_, f64>, z: faer::MatRef<'_, f64>, r: f64) -> (f64, f64) {
    let (n, m) = (z.nrows(), z.ncols());
    // 1{R − |z| > 0} = 1{|z| < R}; PatternBits packs 1{· ≥ 0}, equal except on a null set.
    let near = Mat::from_fn(n, m, |i, c| if z[(i, c)].abs() < r { 1.0 } else { -1.0 });
    let bits = PatternBits::from_preactivations(near.as_ref());
    let both = bits.co_activation_counts();
    let mut b = 0.0;
    for i in 0..n {
        for j in 0..n {
            let union = both[i * n + i] + both[j * n + j] - both[i * n + j];
            b += k[(i, j)].abs() * union as f64;
        }
    }
    let flips: u64 = (0..n).map(|i| both[i * n + i] as u64).sum();
    (b / m as f64, flips as f64 / (n * m) as f64)
}

/// An adversarial W in the ball: each w_r moves by R along −Σ_{i ∈ A_r} sign(w_rᵀx_i) x_i, pushing
/// every flippable pre-activation of neuron r towards the other side at once.
pub fn adversarial_weights(data: &Dataset, net: &Network, z: faer::MatRef<'_, f64>, r: f64) -> Mat<f64> {
    let (n, d) = (data.n(), data.d());
    let mut w = net.w.clone();
    let x = data.x();
    for c in 0..net.m() {
        let mut v = vec![0.0; d];
        let mut any = false;
        for i in 0..n {
            let zi = z[(i, c)];
            if zi.abs() < r {
                any = true;
                let s = if zi >= 0.0 { -1.0 } else { 1.0 };
                for k in 0..d {
                    v[k] += s * x[(i, k)];
                }
            }
        }
        if !any {
            continue;
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        for k in 0..d {
            w[(c, k)] += r * v[k] / norm;
        }
    }
    w
}

/// Checks Lem 2.3: the certificate B, an adversarial W, and the proof's anti-concentration and Markov steps.
pub fn check(cfg: &CheckConfig, progress: &dyn Progress) -> Result<ClaimResult, LemmaError> {
    crate::complete(check_with(cfg, &RunContext::new(progress)))
}

/// [`check`] with a seed store and an optional shard: `None` for a shard, whose seeds go to the store.
pub fn check_with(cfg: &CheckConfig, ctx: &RunContext<'_>) -> Result<Option<ClaimResult>, LemmaError> {
    cfg.validate()?;
    let data = make_data(cfg)?;
    let n = data.n();
    let hinf = h_infinity(data.input_gram());
    let lambda0 = lambda_min(hinf.as_ref())?;
    let r = radius(n, cfg.delta, lambda0);
    let m22 = crate::lem22::proof_width_spec(n, cfg.delta, lambda0);
    let p = 1.0 - cfg.delta;
    let events = [
        EventSpec {
            key: "statement",
            description: format!(
                "certificate B < λ0/4, so ‖H(W) − H(0)‖₂ < λ0/4 for every W in the ball of radius R = {r:.3e} (any m)"
            ),
            target: Target::Probability(p),
        },
        EventSpec {
            key: "adversarial",
            description: "‖H(W_adv) − H(0)‖₂ < λ0/4 for the adversarial W_adv in the ball".into(),
            target: Target::Probability(p),
        },
        EventSpec {
            key: "with-lem-2.2",
            description: "λmin(H(W_adv)) > λ0/2 (with Lem 2.2's event: probability ≥ 1 − 2δ, needs m ≥ m₂.₂)".into(),
            target: Target::Probability(1.0 - 2.0 * cfg.delta),
        },
    ];
    let expectations = [
        ExpectationSpec {
            key: "flip-probability",
            description: format!(
                "fraction of (i, r) with |w_r(0)ᵀx_i| < R equals P(A_ir) = erf(R/√2) = {:.6e}, which the proof bounds by 2R/√(2π) = {:.6e} (anti-concentration)",
                erf(r / 2f64.sqrt()),
                2.0 * r / (2.0 * PI).sqrt()
            ),
            relation: Relation::Equal,
            reference: erf(r / 2f64.sqrt()),
            sd_floor: Some(|p, m| (p * (1.0 - p) / m as f64).sqrt()),
        },
        ExpectationSpec {
            key: "expected-certificate",
            description: "E B ≤ 4n²R/√(2π) (then Markov: P(B ≥ λ0/4) ≤ δ)".into(),
            relation: Relation::AtMost,
            reference: 4.0 * (n * n) as f64 * r / (2.0 * PI).sqrt(),
            sd_floor: None,
        },
    ];
    let eval = |m: usize, trial: u64| -> Result<SeedOutcome, LemmaError> {
        let net = Network::init(m, data.d(), cfg.master_seed, trial)?;
        let z = preactivations(data.x(), net.w.as_ref());
        let (b, flips) = certificate(data.input_gram(), z.as_ref(), r);
        let h0 = gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
        let w_adv = adversarial_weights(&data, &net, z.as_ref(), r);
        let z_adv = preactivations(data.x(), w_adv.as_ref());
        let h_adv = gram_h(data.input_gram(), z_adv.as_ref(), net.a.as_ref());
        let moved = spectral_norm_symmetric((&h_adv - &h0).as_ref())?;
        let lmin_adv = lambda_min(h_adv.as_ref())?;
        Ok(SeedOutcome {
            events: vec![
                Observation::below(b, lambda0 / 4.0),
                Observation::below(moved, lambda0 / 4.0),
                Observation { holds: lmin_adv > lambda0 / 2.0, ..Observation::at_least(lmin_adv, lambda0 / 2.0) },
            ],
            values: vec![flips, b],
        })
    };
    let premise = |_m: usize| true;
    let Some(measured) = measure_with(ClaimId::Lem23, cfg, &events, &expectations, &premise, &eval, ctx)? else {
        return Ok(None);
    };
    Ok(Some(crate::assemble(
        ClaimId::Lem23,
        cfg,
        lambda0,
        "With R = c δ λ0 / n², c = √(2π)/16: with probability ≥ 1 − δ over W(0), every W with ‖w_r − w_r(0)‖₂ ≤ R for all r has ‖H(W) − H(0)‖₂ < λ0/4; with Lem 2.2's event also λmin(H(W)) > λ0/2.",
        vec![ProofWidth {
            route: "no width premise for the first part; the λmin part uses Lem 2.2's width".into(),
            formula: "8 n² log(2n²/δ) / λ0² (Lem 2.2)".into(),
            width: m22,
        }],
        measured,
        vec![format!(
            "R = {r:.4e}: the ball is so small that almost no pattern can flip; the slack columns show how loose the bound is."
        )],
    )))
}
