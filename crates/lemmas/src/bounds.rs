//! The proofs' quantities: every width, radius and constant a claim's premise or proof route uses.
//!
//! The claims, the proof-width profile, the reduced solver's planning and the scaling forecast
//! import these from here; no claim imports another claim (docs/theory.md §2 derives each one).

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

/// Width of docs/theory.md §2.1's route: Hoeffding per entry with a union bound over n² entries, then
/// ‖·‖₂ ≤ ‖·‖_F ≤ nε: m₂.₂ = 8 n² log(2n²/δ) / λ0².
pub fn proof_width_spec(n: usize, delta: f64, lambda0: f64) -> f64 {
    let n2 = (n * n) as f64;
    8.0 * n2 * (2.0 * n2 / delta).ln() / (lambda0 * lambda0)
}

/// log10 of [`proof_width_spec`], computed in logs (finite for every δ > 0 and λ0 > 0).
pub fn log10_proof_width_spec(n: usize, delta: f64, lambda0: f64) -> f64 {
    let n2 = (n * n) as f64;
    (8.0 * n2 * ((2.0 * n2).ln() - delta.ln())).log10() - 2.0 * lambda0.log10()
}

/// log10 of [`proof_width_slide`], computed in logs.
pub fn log10_proof_width_slide(n: usize, delta: f64, lambda0: f64) -> f64 {
    (256.0 * (n * n) as f64 * ((n as f64).ln() - delta.ln())).log10() - 2.0 * lambda0.log10()
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

/// The radius of Lem 2.3 with the explicit constant c = √(2π)/16: R = √(2π) δ λ0 / (16 n²).
pub fn lem23_radius(n: usize, delta: f64, lambda0: f64) -> f64 {
    (2.0 * PI).sqrt() * delta * lambda0 / (16.0 * (n * n) as f64)
}

/// The width at which R′ < R holds for a given ‖y − u(0)‖: m > (32 n^{2.5} ‖y − u(0)‖ / (√(2π) δ λ0²))².
/// log10 of [`premise_width`], computed in logs (finite for every δ > 0, λ0 > 0, ‖y − u(0)‖ > 0).
pub fn log10_premise_width(n: usize, initial_residual_norm: f64, delta: f64, lambda0: f64) -> f64 {
    2.0 * (32f64.log10() + 2.5 * (n as f64).log10() + initial_residual_norm.log10()
        - 0.5 * (2.0 * PI).log10()
        - delta.log10()
        - 2.0 * lambda0.log10())
}

/// The width at which R′ < R holds for a given ‖y − u(0)‖ (see [`log10_premise_width`] for its log10).
pub fn premise_width(n: usize, initial_residual_norm: f64, delta: f64, lambda0: f64) -> f64 {
    (32.0 * (n as f64).powf(2.5) * initial_residual_norm / ((2.0 * PI).sqrt() * delta * lambda0 * lambda0)).powi(2)
}

/// m₂.₁ = 512 n⁵ (‖y‖² + n/2) / (π δ³ λ0⁴): Lem 2.5's premise chained with Markov on ‖y − u(0)‖².
pub fn thm21_proof_width(n: usize, y_norm_sq: f64, delta: f64, lambda0: f64) -> f64 {
    let n = n as f64;
    512.0 * n.powi(5) * (y_norm_sq + n / 2.0) / (PI * delta.powi(3) * lambda0.powi(4))
}

/// log10 of [`proof_width`], computed in logs (finite for every δ > 0 and λ0 > 0).
pub fn log10_thm21_proof_width(n: usize, y_norm_sq: f64, delta: f64, lambda0: f64) -> f64 {
    let n = n as f64;
    512f64.log10() + 5.0 * n.log10() + (y_norm_sq + n / 2.0).log10()
        - PI.log10()
        - 3.0 * delta.log10()
        - 4.0 * lambda0.log10()
}

/// The events the proof of Thm 2.1 chains, each spending δ: Lem 2.2's, Lem 2.3's and Markov's
/// (docs/theory.md §2.9). The statement's target is 1 − (this)·δ.
pub const THM21_EVENTS_CHAINED: u32 = 3;

/// ηλ0k/2 the runs reach: (1 − ηλ0/2)^k ≤ e^{−8} (docs/theory.md §3.6).
pub const ETA_LAMBDA0_K_HALF: f64 = 8.0;

/// The step constant of the explicit route: c_η ≤ 1/4, i.e. η ≤ λ0/(4n²), so that η²n² ≤ ηλ0/4
/// (docs/theory.md §2.7 step 7). Above it the route does not apply and the paper's own constant
/// is implicit.
pub const C_ETA_ROUTE: f64 = 0.25;

/// The events the route chains, each spending δ: Lem 2.2's, Lem 2.3's, Markov's on Σ_i |S_i^⊥| and
/// Markov's on ‖y − u(0)‖² (docs/theory.md §2.9). The statement's target is 1 − (this)·δ.
pub const THM31_EVENTS_CHAINED: u32 = 4;

/// The order of the width the paper asks for, n⁶/(λ0⁴ δ³), with the implicit constant set to 1.
pub fn thm31_width_order(n: usize, delta: f64, lambda0: f64) -> f64 {
    (n as f64).powi(6) / (lambda0.powi(4) * delta.powi(3))
}

/// log10 of [`width_order`], computed in logs.
pub fn log10_thm31_width_order(n: usize, delta: f64, lambda0: f64) -> f64 {
    6.0 * (n as f64).log10() - 4.0 * lambda0.log10() - 3.0 * delta.log10()
}

/// max(16n², 32n^{1.5}): the divisor of R₃.₁, set by Lem 2.3's λmin step (16n²) and the route's
/// perturbation step (32n^{1.5}); 16n² from n = 4 on.
pub fn radius_divisor(n: usize) -> f64 {
    let n = n as f64;
    (16.0 * n * n).max(32.0 * n.powf(1.5))
}

/// R₃.₁ = √(2π) δ λ0 / max(16n², 32n^{1.5}) (docs/theory.md §2.7 step 9).
pub fn thm31_radius(n: usize, delta: f64, lambda0: f64) -> f64 {
    (2.0 * PI).sqrt() * delta * lambda0 / radius_divisor(n)
}

/// m₃.₁ = 8 n (‖y‖² + n/2) max(16n², 32n^{1.5})² / (π δ³ λ0⁴): R′ < R₃.₁ with Markov on ‖y − u(0)‖².
pub fn thm31_proof_width(n: usize, y_norm_sq: f64, delta: f64, lambda0: f64) -> f64 {
    let nf = n as f64;
    8.0 * nf * (y_norm_sq + nf / 2.0) * radius_divisor(n).powi(2) / (PI * delta.powi(3) * lambda0.powi(4))
}

/// log10 of [`proof_width`], computed in logs (finite for every δ > 0 and λ0 > 0).
pub fn log10_thm31_proof_width(n: usize, y_norm_sq: f64, delta: f64, lambda0: f64) -> f64 {
    let nf = n as f64;
    8f64.log10() + nf.log10() + (y_norm_sq + nf / 2.0).log10() + 2.0 * radius_divisor(n).log10()
        - PI.log10()
        - 3.0 * delta.log10()
        - 4.0 * lambda0.log10()
}

/// Iterations for step η: max(least, ⌈16/(ηλ0)⌉), so that ηλ0k/2 ≥ 8.
pub fn iterations_for(least: usize, eta: f64, lambda0: f64) -> usize {
    least.max((2.0 * ETA_LAMBDA0_K_HALF / (eta * lambda0)).ceil() as usize)
}

/// The order of the width, n⁶ log(m/δ) / (λ0⁴ δ³), with the implicit constant set to 1.
pub fn thm26_width_order(n: usize, m: usize, delta: f64, lambda0: f64) -> f64 {
    (n as f64).powi(6) * (m as f64 / delta).ln() / (lambda0.powi(4) * delta.powi(3))
}

/// log10 of [`width_order`], computed in logs.
pub fn log10_thm26_width_order(n: usize, m: usize, delta: f64, lambda0: f64) -> f64 {
    6.0 * (n as f64).log10() + ((m as f64).ln() - delta.ln()).log10() - 4.0 * lambda0.log10() - 3.0 * delta.log10()
}

/// log10 of the width m at which m = n⁶ log(m/δ)/(λ0⁴δ³) (the implicit constant set to 1): the
/// smallest width that meets the order with log(m/δ) taken at that same width, since m grows
/// faster than log m. Solved by fixed-point iteration in logs, L ← log10 [`width_order`] at 10^L,
/// which contracts (its derivative is 1/ln(10^L/δ) < 1) and reaches f64 precision in a few steps.
pub fn log10_thm26_fixed_point_width(n: usize, delta: f64, lambda0: f64) -> f64 {
    let order = |log10_m: f64| {
        6.0 * (n as f64).log10() + (log10_m * std::f64::consts::LN_10 - delta.ln()).log10()
            - 4.0 * lambda0.log10()
            - 3.0 * delta.log10()
    };
    let mut l = order(1.0).max(1.0);
    for _ in 0..200 {
        let next = order(l);
        if !next.is_finite() || (next - l).abs() <= 1e-15 * l.abs() {
            return next;
        }
        l = next;
    }
    l
}

/// The exponents of one claim's width formula, as the proof states them (Du et al.) and as later
/// analyses improved them (orders only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofOrders {
    /// The formula's order, e.g. "n² log(n/δ)/λ0²".
    pub formula: String,
    /// Exponent of n.
    pub n: f64,
    /// Exponent of 1/δ (0 when only a logarithm).
    pub delta: f64,
    /// Exponent of 1/λ0.
    pub lambda0: f64,
}

/// The orders of Lem 2.2's width m₂.₂ (also Lem 2.3's λmin part, which needs it).
pub fn lem22_orders() -> ProofOrders {
    ProofOrders {
        formula: "n² log(n/δ)/λ0² (m₂.₂ = 8 n² log(2n²/δ)/λ0²)".into(), n: 2.0, delta: 0.0, lambda0: 2.0
    }
}

/// The orders of Lem 2.5's premise R′ < R at the mean residual.
pub fn lem25_orders() -> ProofOrders {
    ProofOrders {
        formula: "n⁵‖y − u(0)‖²/(δ²λ0⁴), i.e. n⁶/(δ²λ0⁴) with ‖y − u(0)‖² ∝ n (R′ < R at the mean residual)".into(),
        n: 6.0,
        delta: 2.0,
        lambda0: 4.0,
    }
}

/// The orders of Thm 2.1's m₂.₁ and Thm 3.1's m₃.₁.
pub fn thm21_thm31_orders() -> ProofOrders {
    ProofOrders {
        formula: "n⁶/(λ0⁴δ³) (‖y − u(0)‖² ∝ n/δ substituted)".into(), n: 6.0, delta: 3.0, lambda0: 4.0
    }
}

/// The orders of Thm 2.6's width.
pub fn thm26_orders() -> ProofOrders {
    ProofOrders { formula: "n⁶ log(m/δ)/(λ0⁴δ³)".into(), n: 6.0, delta: 3.0, lambda0: 4.0 }
}
