//! A planted claim, compiled for tests only: one file and one line of the `claims!` table, run end to end.
//!
//! Its law is known exactly: a seed holds when m ≥ [`TRUE_THRESHOLD`] and fails below, so the
//! runner must refute 8, support 16 and bisect to the threshold; its cost model and proof orders
//! come from this file alone. The test below proves that adding a claim needs no other change:
//! the runner, the seed store, the thresholds, the cost model, the proofs' orders and the results
//! JSON all take it as they take the paper's claims.

use crate::bounds::ProofOrders;
use crate::claim::{Claim, Evaluation, EventSpec, Measurements, Prepared, SeedCtx, SeedOutcome};
use crate::result::{Premise, ProofWidth, Role, Target};
use crate::{CheckConfig, LemmaError, Profile};

/// The width from which every seed holds.
pub const TRUE_THRESHOLD: usize = 16;

/// The planted claim.
pub struct Planted;

/// The statement, with its constants.
fn statement() -> String {
    format!("Every seed holds at m ≥ {TRUE_THRESHOLD}.")
}

struct Evaluator;

impl Claim for Planted {
    fn config(&self, _profile: Profile) -> CheckConfig {
        CheckConfig { widths: vec![8, 64], seeds: 30, bisection_steps: 4, ..Profile::tiny_base() }
    }
    fn seed_flops(&self, _cfg: &CheckConfig, _lambda0: f64, m: usize) -> f64 {
        1000.0 * m as f64
    }
    fn proof_orders(&self, _event: &str) -> Option<ProofOrders> {
        Some(ProofOrders { formula: "16 (a constant)".into(), n: 0.0, delta: 0.0, lambda0: 0.0 })
    }
    fn prepare<'a>(&self, _cfg: &'a CheckConfig) -> Result<Prepared<'a>, LemmaError> {
        Ok(Prepared::new(0.5, statement(), Evaluator))
    }
}

impl Evaluation for Evaluator {
    fn proof_widths(&self) -> Vec<ProofWidth> {
        let m = TRUE_THRESHOLD as f64;
        vec![ProofWidth::new("the planted law", "16", m, m.log10())]
    }
    fn events(&self) -> Vec<EventSpec> {
        let premise = Premise::Width { width: TRUE_THRESHOLD as f64, source: "the planted law".into() };
        vec![EventSpec::new("statement", Role::Statement, Target::Always, "holds at m ≥ 16").premise(premise)]
    }
    fn evaluate(&self, seed: &SeedCtx<'_>) -> Result<SeedOutcome, LemmaError> {
        let measured = if seed.m >= TRUE_THRESHOLD { 0.5 } else { 2.0 };
        Ok(SeedOutcome::default().event("statement", seed.judge("statement").at_most(measured, 1.0, 0.0)))
    }
    fn notes(&self, _measured: &Measurements) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClaimId, ClaimResult, NoProgress, Verdict, check};

    #[test]
    fn a_claim_added_as_one_file_and_one_table_line_runs_end_to_end() {
        let id = ClaimId::parse("planted").expect("the table line makes it a claim");
        assert_eq!((id.slide(), id.key()), ("Planted", "planted"));
        let cfg = Profile::Quick.config(id);
        let result = check(id, &cfg, &NoProgress).expect("the runner takes it");
        assert_eq!(result.claim, id);
        assert_eq!(result.verdict, Verdict::Supported, "supported at the widths that meet m ≥ 16");
        let (lower, upper) = (result.threshold.lower.expect("8 is refuted"), result.threshold.upper.expect("64 holds"));
        assert!(lower < TRUE_THRESHOLD && TRUE_THRESHOLD <= upper && upper - lower <= 4, "{lower}..{upper}");
        assert_eq!(crate::scaling::seed_flops(id, &cfg, 0.5, 10), 10_000.0, "its own cost model");
        assert_eq!(crate::scaling::proof_orders(id, "statement").map(|o| o.formula), Some("16 (a constant)".into()));
        let json = serde_json::to_string(&result).expect("results serialise");
        let back: ClaimResult = serde_json::from_str(&json).expect("and read back");
        // (lemmas' serde_json parses floats to within an ulp; the runner's keeps every bit.)
        assert_eq!((back.claim, back.verdict, &back.threshold), (id, Verdict::Supported, &result.threshold));
    }
}
