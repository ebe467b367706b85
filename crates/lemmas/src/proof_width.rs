//! The `proof-width` profile: Lem 2.5 and Thm 2.1 at widths that meet their own proof widths, on the reduced solver (docs/theory.md §5).
//!
//! Inputs: n = d = 2 correlated points (|x_1ᵀx_2| between 0.3 and 0.9, so K is far from
//! diagonal and no pair is near parallel), labels y_i ~ N(0, 1) of the master seed, δ = 0.1 (Lem
//! 2.5's target 1 − 2δ = 0.8, Thm 2.1's 1 − 3δ = 0.7), horizons λ0·T ≥ 8. The widths are computed
//! from the data: Lem 2.5 at 4 × the width where R′ < R holds for the mean ‖y − u(0)‖ (a seed is
//! live when its ‖y − u(0)‖ is below twice the mean, nearly always), Thm 2.1 at ⌈m₂.₁⌉ (and at
//! least Lem 2.2's m₂.₂). Seeds: the fewest for which all-successes would be *supported* by the
//! Clopper–Pearson lower end at 95% (Lem 2.5: 0.025^{1/k} ≥ 0.8 → 17, taken 24 to leave room for
//! vacuous seeds; Thm 2.1: 0.025^{1/k} ≥ 0.7 → 11, taken 12).

use crate::config::Solver;
use crate::{CheckConfig, DataKind, make_data};

/// The base of both claims' configurations.
fn base() -> CheckConfig {
    CheckConfig {
        n: 2,
        d: 2,
        data: DataKind::Correlated,
        delta: 0.1,
        horizon: 1.0,
        step: 0.25,
        bisection_steps: 0,
        solver: Solver::Reduced,
        ..CheckConfig::default()
    }
}

/// λ0 and ‖y‖² of the profile's data (the data are drawn from the configuration alone).
fn data_constants(cfg: &CheckConfig) -> (usize, f64, f64) {
    let data = make_data(cfg).expect("the proof-width profile's data are valid");
    let lambda0 = model::lambda0(&data).expect("a 2 × 2 eigenvalue");
    (data.n(), lambda0, data.y().squared_norm_l2())
}

/// Lem 2.5 at 4 × its premise width for the mean residual.
pub fn lem25() -> CheckConfig {
    let cfg = CheckConfig { seeds: 24, ..base() };
    let (n, lambda0, y2) = data_constants(&cfg);
    let m = 4.0 * crate::lem25::premise_width(n, (y2 + n as f64 / 2.0).sqrt(), cfg.delta, lambda0);
    CheckConfig { widths: vec![m.ceil() as usize], ..cfg }
}

/// Thm 2.1 at its proof width m₂.₁ (and Lem 2.2's m₂.₂ if larger).
pub fn thm21() -> CheckConfig {
    let cfg = CheckConfig { seeds: 12, ..base() };
    let (n, lambda0, y2) = data_constants(&cfg);
    let m =
        crate::thm21::proof_width(n, y2, cfg.delta, lambda0).max(crate::lem22::proof_width_spec(n, cfg.delta, lambda0));
    CheckConfig { widths: vec![m.ceil() as usize], ..cfg }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClaimId, Profile};

    /// Each claim of the profile is configured at a width that meets its own proof width, on the
    /// reduced solver, with data far from diagonal and a target that means something.
    #[test]
    fn the_profile_runs_at_the_proof_widths() {
        assert_eq!(Profile::ProofWidth.claims(), Some(&[ClaimId::Lem25, ClaimId::Thm21][..]));
        for id in [ClaimId::Lem25, ClaimId::Thm21] {
            let cfg = Profile::ProofWidth.config(id);
            cfg.validate().unwrap();
            let prep = id.claim().prepare(&cfg).unwrap();
            let needed = prep.proof_widths()[0].width;
            assert!(cfg.widths[0] as f64 >= needed, "{id:?}: width {} below the proof's {needed}", cfg.widths[0]);
            assert!(crate::reduced_flow::use_reduced(&cfg, cfg.widths[0], cfg.n));
            let data = make_data(&cfg).unwrap();
            let (_, hi) = crate::off_diagonal_range(&data);
            assert!((0.3..=0.9).contains(&hi));
            assert!(8.0 / prep.lambda0() >= 1.0);
            println!("{id:?}: width {} (proof {needed:.4e}), λ0 = {:.4}", cfg.widths[0], prep.lambda0());
        }
    }
}
