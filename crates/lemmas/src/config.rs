//! The plain configuration every check takes, and the claims' identities (slide and paper numbers).

use serde::{Deserialize, Serialize};

use crate::LemmaError;

/// Which input data a check runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// x_i uniform on the unit sphere S^{d−1}, y_i ~ N(0, 1) (the paper's Fig. 1 setup).
    Sphere,
    /// x_i = e_i (d ≥ n), y_i ~ N(0, 1): H∞ = I/2, λ0 = 1/2. K = I makes H(t) diagonal: the flow
    /// splits by coordinate, so a claim about the coupling of inputs is not tested on it.
    Orthonormal,
    /// Sphere data with K far from diagonal (docs/theory.md §2.4): the first trial t = 0, 1, … of
    /// the sphere streams in which some pair has |x_iᵀx_j| ≥ [`CORRELATED_MIN`] and no pair has
    /// |x_iᵀx_j| > [`CORRELATED_MAX`] (none near parallel). Needs n ≥ 2.
    Correlated,
    /// One of the structured hard families of `model::families` (docs/theory.md §6.1), drawn with
    /// the check's n, d and master seed, ±1 labels (or ‖y‖² = n along H∞'s bottom eigenvector).
    /// In JSON: `{"family": {"family": "antipodal", "epsilon": 0.05}}` (`clusters` defaults to 2).
    Family {
        /// The family, by its name.
        family: FamilyName,
        /// Its closeness ε (angle of near duplicates or near antipodes; tilt of `xor`).
        epsilon: f64,
        /// Its number of clusters (`clusters` only).
        #[serde(default = "two")]
        clusters: usize,
    },
    /// A data set given point by point: an instance of the hardest-data search (docs/theory.md
    /// §6.1). In JSON: `{"given": {"origin": …, "stream": 1, "x": [...], "y": [...]}}`.
    Given(GivenData),
}

/// Explicit inputs and labels, with the stream their initialisations are drawn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GivenData {
    /// Where the instance comes from, e.g. "searched from clusters".
    pub origin: String,
    /// The initialisation stream: two instances with the same stream (and n, d, δ) draw the same
    /// initialisations (the search's common random numbers); the fresh re-measurement of a
    /// search's winner takes another stream, so its seeds are independent of the search's.
    pub stream: u64,
    /// The inputs, row-major n × d, unit rows.
    pub x: Vec<f64>,
    /// The labels, n of them.
    pub y: Vec<f64>,
}

impl GivenData {
    /// The inputs and labels of `data`, with `origin` and `stream`.
    pub fn of(data: &model::Dataset, origin: impl Into<String>, stream: u64) -> Self {
        let x = data.x();
        GivenData {
            origin: origin.into(),
            stream,
            x: (0..data.n()).flat_map(|i| (0..data.d()).map(move |j| x[(i, j)])).collect(),
            y: data.y().iter().copied().collect(),
        }
    }
}

fn two() -> usize {
    2
}

/// A `model::Family`, written by its name in JSON (the model crate knows nothing of serde).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FamilyName(pub model::Family);

impl Serialize for FamilyName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for FamilyName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        model::Family::from_name(&name).map(FamilyName).map_err(serde::de::Error::custom)
    }
}

/// Correlated data: some pair of inputs has |x_iᵀx_j| at least this.
pub const CORRELATED_MIN: f64 = 0.3;
/// Correlated data: no pair of inputs has |x_iᵀx_j| above this.
pub const CORRELATED_MAX: f64 = 0.9;

pub use crate::ClaimId;

/// Which solver runs a first-layer gradient flow of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// The reduced solver (docs/theory.md §5) when m ≥ [`crate::reduced_flow::AUTO_MIN_WIDTH`] and
    /// n ≤ [`crate::reduced_flow::AUTO_MAX_INPUTS`], the full one otherwise.
    #[default]
    Auto,
    /// Store W and run every neuron.
    Full,
    /// The exact lazy-neuron reduction.
    Reduced,
}

impl Solver {
    /// True for the default (so that configurations that leave it out serialise as before).
    pub fn is_auto(&self) -> bool {
        *self == Solver::Auto
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
    /// Confidence 1 − α of every verdict (docs/theory.md §3.1: anytime-valid bounds, each side at α/2).
    pub confidence: f64,
    /// Least time horizon T of gradient-flow runs: the flow claims run to max(T, 8/λ0), so that the
    /// bound e^{−λ0 T} has fallen by e⁻⁸ (docs/theory.md §3.6).
    pub horizon: f64,
    /// RK4 step h for gradient-flow runs.
    pub step: f64,
    /// c_η of the theorem step size η = c_η λ0 / n² (Thm 3.1).
    pub c_eta: f64,
    /// Least number of iterations of discrete gradient descent (Thm 3.1): runs go to
    /// max(iterations, ⌈16/(ηλ0)⌉), where (1 − ηλ0/2)^k has fallen by about e⁻⁸ (docs/theory.md §3.6).
    pub iterations: usize,
    /// Bisection steps refining the empirical width threshold between two widths of the sweep.
    pub bisection_steps: u32,
    /// The mutation hook (docs/theory.md §3.8): every statement's and proof step's bound is scaled,
    /// a ≤-bound b to s·b and a ≥-bound b to b/s. 1 checks the paper; 0.01 must be refuted.
    #[serde(default = "one")]
    pub bound_scale: f64,
    /// Solver of the first-layer flows (Lem 2.5, Thm 2.1); the default picks the reduced one at
    /// large widths (docs/theory.md §5).
    #[serde(default, skip_serializing_if = "Solver::is_auto")]
    pub solver: Solver,
    /// Thm 3.1's audit (docs/theory.md §2.7) judges the route's inequalities between iterates k
    /// and k + 1 for k a multiple of this (1: every step). The eigen-solves of the audit cost far
    /// more than a small GD step, so the scaling sweeps, which measure the statement, audit a
    /// sample of the steps; the neurons' movement is still followed at every step.
    #[serde(default = "one_step", skip_serializing_if = "is_one_step")]
    pub audit_every: usize,
}

fn one() -> f64 {
    1.0
}

fn one_step() -> usize {
    1
}

fn is_one_step(k: &usize) -> bool {
    *k == 1
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
            bound_scale: 1.0,
            solver: Solver::Auto,
            audit_every: 1,
        }
    }
}

impl CheckConfig {
    /// The defaults with n = d = `n`, the sweep `widths` and `seeds` seeds per width.
    pub fn sized(n: usize, widths: &[usize], seeds: u64) -> Self {
        CheckConfig { n, d: n, widths: widths.to_vec(), seeds, ..CheckConfig::default() }
    }

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
        if !(self.bound_scale.is_finite() && self.bound_scale > 0.0) {
            return bad("bound_scale", self.bound_scale.to_string(), "the bound scale must be positive and finite");
        }
        if let DataKind::Given(g) = &self.data
            && (g.x.len() != self.n.saturating_mul(self.d) || g.y.len() != self.n)
        {
            let found = format!("{} inputs' coordinates and {} labels", g.x.len(), g.y.len());
            return bad(
                "data",
                found,
                &format!("given data need n·d = {} coordinates and n = {} labels", self.n * self.d, self.n),
            );
        }
        if self.data == DataKind::Correlated && self.n < 2 {
            return bad("n", self.n.to_string(), "correlated data need at least two inputs (a pair to correlate)");
        }
        if self.audit_every == 0 {
            return bad("audit_every", "0".into(), "audit every k-th step with k ≥ 1 (1: every step)");
        }
        if self.iterations == 0 {
            return bad("iterations", "0".into(), "need at least one gradient-descent iteration");
        }
        Ok(())
    }
}

/// A short, stable fingerprint of a claim's configuration: FNV-1a (64 bits) of the claim key and
/// the configuration's JSON, in hex. Every file that carries a configuration carries it (results,
/// checkpoints, records), and every reader recomputes it, so a configuration edited after its
/// numbers were computed is refused instead of labelling them.
pub fn fingerprint(claim: crate::ClaimId, config: &CheckConfig) -> String {
    // A derived struct of numbers, strings and enums: serialising it cannot fail.
    let json = serde_json::to_string(config).unwrap_or_default();
    fnv_hex(&format!("{}|{json}", claim.key()))
}

/// FNV-1a (64 bits) of `text`, as 16 hex digits.
pub fn fnv_hex(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}
