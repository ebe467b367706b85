//! Slide Lem 2.2 (paper Lem 3.1): if m ≥ m₂.₂ then w.p. ≥ 1 − δ, ‖H(0) − H∞‖₂ ≤ λ0/4 and λmin(H(0)) ≥ 3λ0/4.

use model::{
    GaussianPreactivations, PatternBits, gram_h_from_patterns, h_infinity, lambda_min, spectral_norm_symmetric,
};

use crate::engine::{EventSpec, Progress, RunContext, SeedOutcome, measure_with};
use crate::result::{ClaimResult, Observation, ProofWidth, Target};
use crate::{CheckConfig, ClaimId, LemmaError, make_data};

/// Width of SPEC.md's route: Hoeffding per entry with a union bound over n² entries, then
/// ‖·‖₂ ≤ ‖·‖_F ≤ nε: m₂.₂ = 8 n² log(2n²/δ) / λ0².
pub fn proof_width_spec(n: usize, delta: f64, lambda0: f64) -> f64 {
    let n2 = (n * n) as f64;
    8.0 * n2 * (2.0 * n2 / delta).ln() / (lambda0 * lambda0)
}

/// Width of the slide's route (per entry 2√(log(1/δ′))/√m with δ′ = δ/n²): 256 n² log(n/δ) / λ0².
pub fn proof_width_slide(n: usize, delta: f64, lambda0: f64) -> f64 {
    256.0 * (n * n) as f64 * (n as f64 / delta).ln() / (lambda0 * lambda0)
}

/// Hoeffding's entrywise radius ε(m) = √(log(2n²/δ) / (2m)).
pub fn hoeffding_radius(n: usize, delta: f64, m: usize) -> f64 {
    ((2.0 * (n * n) as f64 / delta).ln() / (2.0 * m as f64)).sqrt()
}

/// The slide's entrywise radius 2√(log(n²/δ)) / √m.
pub fn slide_radius(n: usize, delta: f64, m: usize) -> f64 {
    2.0 * (((n * n) as f64 / delta).ln() / m as f64).sqrt()
}

/// Checks Lem 2.2 and its two proof steps (entrywise Hoeffding, spectral step) by Monte Carlo.
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
    let m_spec = proof_width_spec(n, cfg.delta, lambda0);
    let m_slide = proof_width_slide(n, cfg.delta, lambda0);
    let p = 1.0 - cfg.delta;
    let events = [
        EventSpec {
            key: "statement",
            description: "‖H(0) − H∞‖₂ ≤ λ0/4 and λmin(H(0)) ≥ 3λ0/4 (measured: ‖H(0) − H∞‖₂, bound λ0/4)".into(),
            target: Target::Probability(p),
        },
        EventSpec {
            key: "hoeffding-entrywise",
            description: "max_ij |H_ij(0) − H∞_ij| ≤ ε = √(log(2n²/δ)/(2m)) (Hoeffding + union bound; any m)".into(),
            target: Target::Probability(p),
        },
        EventSpec {
            key: "slide-entrywise",
            description: "max_ij |H_ij(0) − H∞_ij| ≤ 2√(log(n²/δ))/√m (the slide's per-entry radius; any m)".into(),
            target: Target::Probability(p),
        },
        EventSpec {
            key: "spectral-step",
            description: "‖H(0) − H∞‖₂ ≤ n · max_ij |H_ij(0) − H∞_ij| (deterministic: ‖·‖₂ ≤ ‖·‖_F ≤ n·max)".into(),
            target: Target::Always,
        },
        EventSpec {
            key: "min-eigenvalue",
            description: "λmin(H(0)) ≥ 3λ0/4 (measured λmin(H(0)), bound 3λ0/4)".into(),
            target: Target::Probability(p),
        },
    ];
    // H(0) depends on W(0) only through the patterns of Z(0) = X W(0)ᵀ, whose columns are
    // i.i.d. N(0, K): draw them directly (z_r = L ξ_r, K = L Lᵀ, SPEC.md §4) when d ≥ n.
    let sampler = GaussianPreactivations::new(&data);
    let eval = |m: usize, trial: u64| -> Result<SeedOutcome, LemmaError> {
        let z = sampler.sample(m, cfg.master_seed, trial)?;
        let h = gram_h_from_patterns(data.input_gram(), &PatternBits::from_preactivations(z.as_ref()));
        let diff = &h - &hinf;
        let spectral = spectral_norm_symmetric(diff.as_ref())?;
        let entry_max =
            (0..n).flat_map(|j| (0..n).map(move |i| (i, j))).fold(0.0f64, |a, (i, j)| a.max(diff[(i, j)].abs()));
        let lmin = lambda_min(h.as_ref())?;
        let mut statement = Observation::at_most(spectral, lambda0 / 4.0);
        statement.holds = statement.holds && lmin >= 0.75 * lambda0;
        // A tiny allowance for rounding in the eigenvalues: 1e-12 relative.
        let spectral_bound = n as f64 * entry_max * (1.0 + 1e-12) + 1e-15;
        Ok(SeedOutcome {
            events: vec![
                statement,
                Observation::at_most(entry_max, hoeffding_radius(n, cfg.delta, m)),
                Observation::at_most(entry_max, slide_radius(n, cfg.delta, m)),
                Observation::at_most(spectral, spectral_bound),
                Observation::at_least(lmin, 0.75 * lambda0),
            ],
            values: vec![],
        })
    };
    let premise = |m: usize| m as f64 >= m_spec;
    let Some(measured) = measure_with(ClaimId::Lem22, cfg, &events, &[], &premise, &eval, ctx)? else {
        return Ok(None);
    };
    Ok(Some(crate::assemble(
        ClaimId::Lem22,
        cfg,
        lambda0,
        "If m ≥ m₂.₂ then with probability ≥ 1 − δ over W(0): ‖H(0) − H∞‖₂ ≤ λ0/4 and λmin(H(0)) ≥ 3λ0/4.",
        vec![
            ProofWidth {
                route: "SPEC: Hoeffding per entry, union over n², ‖·‖₂ ≤ ‖·‖_F ≤ nε".into(),
                formula: "8 n² log(2n²/δ) / λ0²".into(),
                width: m_spec,
            },
            ProofWidth {
                route: "slide: per entry 2√(log(1/δ′))/√m with δ′ = δ/n²".into(),
                formula: "256 n² log(n/δ) / λ0²".into(),
                width: m_slide,
            },
        ],
        measured,
        vec![
            "The slide writes δ′ = n²δ where δ/n² is meant; both routes are checked step by step.".into(),
            "Z(0) = X W(0)ᵀ is drawn directly from its law (each column N(0, K), through a Cholesky factor of K when d ≥ n; SPEC.md §4): the same distribution as drawing W(0), not the same random numbers.".into(),
        ],
    )))
}
