//! The plain configuration every check takes, and the claims' identities (slide and paper numbers).

use serde::{Deserialize, Serialize};

use crate::LemmaError;

/// Which input data a check runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// x_i uniform on the unit sphere S^{d−1}, y_i ~ N(0, 1) (the paper's Fig. 1 setup).
    Sphere,
    /// x_i = e_i (d ≥ n), y_i ~ N(0, 1): H∞ = I/2, λ0 = 1/2.
    Orthonormal,
}

/// A claim of the paper, named by its slide number with the paper's beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ClaimId {
    /// Slide Lem 2.2 = paper Lem 3.1: H(0) is close to H∞.
    Lem22,
    /// Slide Lem 2.3 = paper Lem 3.2: small weight moves keep H close to H(0).
    Lem23,
    /// Slide Lem 2.4 = paper Lem 3.3: if λmin(H) ≥ λ0/2 then fast decay and small moves.
    Lem24,
    /// Slide Lem 2.5 = paper Lem 3.4: R′ < R closes the argument for all t.
    Lem25,
    /// Slide Thm 2.1 = paper Thm 3.2: gradient flow converges at rate exp(−λ0 t).
    Thm21,
    /// Slide Thm 2.6 = paper Thm 3.3: both layers trained, same rate.
    Thm26,
    /// Slide Thm 3.1 = paper Thm 4.1: discrete GD at rate (1 − ηλ0/2)^k.
    Thm31,
}

impl ClaimId {
    /// Every claim, in the order the reports list them.
    pub const ALL: [ClaimId; 7] = [
        ClaimId::Lem22,
        ClaimId::Lem23,
        ClaimId::Lem24,
        ClaimId::Lem25,
        ClaimId::Thm21,
        ClaimId::Thm26,
        ClaimId::Thm31,
    ];

    /// Slide number, e.g. "Lem 2.2".
    pub fn slide(self) -> &'static str {
        match self {
            ClaimId::Lem22 => "Lem 2.2",
            ClaimId::Lem23 => "Lem 2.3",
            ClaimId::Lem24 => "Lem 2.4",
            ClaimId::Lem25 => "Lem 2.5",
            ClaimId::Thm21 => "Thm 2.1",
            ClaimId::Thm26 => "Thm 2.6",
            ClaimId::Thm31 => "Thm 3.1",
        }
    }
    /// Paper number, e.g. "Lem 3.1".
    pub fn paper(self) -> &'static str {
        match self {
            ClaimId::Lem22 => "Lem 3.1",
            ClaimId::Lem23 => "Lem 3.2",
            ClaimId::Lem24 => "Lem 3.3",
            ClaimId::Lem25 => "Lem 3.4",
            ClaimId::Thm21 => "Thm 3.2",
            ClaimId::Thm26 => "Thm 3.3",
            ClaimId::Thm31 => "Thm 4.1",
        }
    }
    /// File-name key, e.g. "lem-2.2".
    pub fn key(self) -> &'static str {
        match self {
            ClaimId::Lem22 => "lem-2.2",
            ClaimId::Lem23 => "lem-2.3",
            ClaimId::Lem24 => "lem-2.4",
            ClaimId::Lem25 => "lem-2.5",
            ClaimId::Thm21 => "thm-2.1",
            ClaimId::Thm26 => "thm-2.6",
            ClaimId::Thm31 => "thm-3.1",
        }
    }
    /// Parses a key ("lem-2.2") or slide number ("Lem 2.2", "lem2.2").
    pub fn parse(s: &str) -> Option<ClaimId> {
        let norm: String = s.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_lowercase();
        ClaimId::ALL.into_iter().find(|c| c.key().replace('-', "") == norm)
    }
    /// Short name.
    pub fn title(self) -> &'static str {
        match self {
            ClaimId::Lem22 => "H(0) is close to H∞",
            ClaimId::Lem23 => "small weight moves keep H close to H(0)",
            ClaimId::Lem24 => "if λmin(H) ≥ λ0/2 then fast decay and small moves",
            ClaimId::Lem25 => "R′ < R closes the argument for all t",
            ClaimId::Thm21 => "gradient flow converges at rate exp(−λ0 t)",
            ClaimId::Thm26 => "both layers trained: same rate",
            ClaimId::Thm31 => "discrete GD: rate (1 − ηλ0/2)^k",
        }
    }
}

/// The plain configuration of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckConfig {
    /// Number of inputs n.
    pub n: usize,
    /// Input dimension d.
    pub d: usize,
    /// Data kind; the data are drawn once per check from `master_seed`.
    pub data: DataKind,
    /// Widths m to run, increasing.
    pub widths: Vec<usize>,
    /// Failure probability δ of the claim: events must hold with probability ≥ 1 − δ.
    pub delta: f64,
    /// Number of seeds (independent initialisations) per width.
    pub seeds: u64,
    /// Master seed: data and every initialisation derive from it (one stream per trial).
    pub master_seed: u64,
    /// Confidence of the two-sided Clopper–Pearson intervals.
    pub confidence: f64,
    /// Time horizon T of gradient-flow runs (or iteration count for GD, as `horizon` steps).
    pub horizon: f64,
    /// RK4 step h for gradient-flow runs.
    pub step: f64,
    /// c_η of the theorem step size η = c_η λ0 / n² (Thm 3.1).
    pub c_eta: f64,
    /// Iterations of discrete gradient descent (Thm 3.1).
    pub iterations: usize,
    /// Bisection steps refining the empirical width threshold between two widths of the sweep.
    pub bisection_steps: u32,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            n: 10,
            d: 10,
            data: DataKind::Sphere,
            widths: vec![100, 1_000, 10_000],
            delta: 0.1,
            seeds: 50,
            master_seed: 0,
            confidence: 0.95,
            horizon: 5.0,
            step: 0.05,
            c_eta: 1.0,
            iterations: 300,
            bisection_steps: 4,
        }
    }
}

impl CheckConfig {
    /// Checks every field's domain; the error names the field and what to do.
    pub fn validate(&self) -> Result<(), LemmaError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(LemmaError::Config { name, value, reason: reason.to_string() })
        };
        if self.n == 0 {
            return bad("n", "0".into(), "need at least one input");
        }
        if self.d == 0 {
            return bad("d", "0".into(), "need a positive input dimension");
        }
        if self.widths.is_empty() {
            return bad("widths", "[]".into(), "give at least one width");
        }
        if self.widths.contains(&0) {
            return bad("widths", format!("{:?}", self.widths), "a width m must be positive");
        }
        if self.widths.windows(2).any(|w| w[0] >= w[1]) {
            return bad("widths", format!("{:?}", self.widths), "widths must be strictly increasing");
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return bad("delta", self.delta.to_string(), "δ must lie in (0, 1)");
        }
        if self.seeds == 0 {
            return bad("seeds", "0".into(), "need at least one seed");
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return bad("confidence", self.confidence.to_string(), "the confidence must lie in (0, 1)");
        }
        if !(self.horizon.is_finite() && self.horizon > 0.0) {
            return bad("horizon", self.horizon.to_string(), "the horizon T must be positive and finite");
        }
        if !(self.step.is_finite() && self.step > 0.0) {
            return bad("step", self.step.to_string(), "the step must be positive and finite");
        }
        if !(self.c_eta.is_finite() && self.c_eta > 0.0) {
            return bad("c_eta", self.c_eta.to_string(), "c_η must be positive and finite");
        }
        if self.iterations == 0 {
            return bad("iterations", "0".into(), "need at least one gradient-descent iteration");
        }
        Ok(())
    }
}
