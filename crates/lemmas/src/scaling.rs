//! How much width is really needed (docs/theory.md §6): sweeps of the threshold search over n, δ and d per claim.
//!
//! Also here: exponent fits, the proofs' exponents beside them, λ0 on the sphere against its limit,
//! and the findings the scaling page states.
//! A [`ScalingPlan`] is a list of series; a series is one event of one claim (its statement, or a
//! proof step with a width premise) at configurations that vary one thing: n (with d = n), δ, or d
//! at fixed n (which moves λ0). Every configuration is a *point*, named by a key that does not
//! depend on the series, so a configuration shared by two series (n = 16 in the n-series and
//! δ = 0.1 in the δ-series) is searched once. Points are searched one after another (seeds in
//! parallel inside a width) and their seeds go to a [`PointStore`], so a run resumes from its
//! checkpoint; a shard K/N runs the points whose index is K mod N, and a run over the union of the
//! shards' stores computes nothing and gives the same bytes.
//!
//! The flow claims (Thm 2.1, Thm 3.1) reach their seeds through their own `evaluate`, i.e. through
//! whatever solver `trajectory.rs` provides: a faster flow or a lazy-neuron reduced solver makes
//! the same plan cheaper without a change here.

use serde::{Deserialize, Serialize};

pub use crate::bounds::ProofOrders;
use crate::claim::SeedOutcome;
pub use crate::cost::{
    AUDIT_FIXED_FLOPS, ELEMENTWISE_FLOPS, FORECAST_FLOPS_PER_THREAD, NORMAL_FLOPS, REDUCED_FLOPS_PER_DRAW,
    REDUCED_FLOPS_PER_UPDATE,
};
use crate::data_search::{DataSearch, DataSearchConfig};
use crate::engine::{Progress, RunContext, SeedStore, Shard, evaluate_seeds, seed_state_bytes};
use crate::fit::{ExponentFit, FitPoint, fit_exponent, least_squares};
use crate::result::{Interval, Outcome, ProofWidth, Role};
use crate::threshold::{ClaimThreshold, SearchConfig, claim_threshold};
use crate::{CheckConfig, ClaimId, DataKind, GivenData, LemmaError};
use inference::Threshold;

/// The named scaling profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingProfile {
    /// The record: Lem 2.2 and Lem 2.3 over n up to 256 (three data draws per n), δ and d series
    /// at n = 16; Thm 2.1 and Lem 2.5's conclusion to n = 128, Thm 2.6 to n = 64, Thm 3.1 to n = 32
    /// (one draw at 32); within the 90-min
    /// budget on 2 cores (resumable; docs/scaling/RUN.md says what it took).
    Scaling,
    /// n ≤ 16: minutes in release; the pipeline end to end.
    ScalingQuick,
    /// A cut-down configuration (Lem 2.2 at n ∈ {4, 8}, δ ∈ {0.3, 0.2}) for the determinism and
    /// shard tests, seconds in a debug build.
    ScalingTest,
    /// The hardest-data study (docs/theory.md §6.1): the init events with a width premise (Lem 2.2's
    /// statement over n ∈ {4, 8, 16, 32}, Lem 2.3's `with-lem-2.2` over n ∈ {4, 8, 16}) on every
    /// structured family of [`HARD_FAMILIES`] and on sphere data at the same d; the page names the
    /// hardest family at each n (the largest refuted width).
    Hardest,
    /// The hardest-data pipeline end to end, seconds in a debug build: Lem 2.2 at n ∈ {4, 8}.
    HardestQuick,
}

impl ScalingProfile {
    /// Every profile.
    pub const ALL: [ScalingProfile; 5] = [
        ScalingProfile::Scaling,
        ScalingProfile::ScalingQuick,
        ScalingProfile::ScalingTest,
        ScalingProfile::Hardest,
        ScalingProfile::HardestQuick,
    ];
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ScalingProfile::Scaling => "scaling",
            ScalingProfile::ScalingQuick => "scaling-quick",
            ScalingProfile::ScalingTest => "scaling-test",
            ScalingProfile::Hardest => "hardest",
            ScalingProfile::HardestQuick => "hardest-quick",
        }
    }
    /// Whether it is a hardest-data profile (series over data families).
    pub fn is_hardest(self) -> bool {
        matches!(self, ScalingProfile::Hardest | ScalingProfile::HardestQuick)
    }
    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// What a series varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// n, with d = n: regressor log n.
    N,
    /// δ at fixed n: regressor log(1/δ).
    Delta,
    /// d at fixed n, which moves λ0: regressor log(1/λ0).
    Lambda0,
}

impl Axis {
    /// The variable's name in tables ("n", "1/δ", "1/λ0").
    pub fn variable(self) -> &'static str {
        match self {
            Axis::N => "n",
            Axis::Delta => "1/δ",
            Axis::Lambda0 => "1/λ0",
        }
    }
    /// The regressor x of a point.
    pub fn regressor(self, cfg: &CheckConfig, lambda0: f64) -> f64 {
        match self {
            Axis::N => (cfg.n as f64).ln(),
            Axis::Delta => (1.0 / cfg.delta).ln(),
            Axis::Lambda0 => (1.0 / lambda0).ln(),
        }
    }
}

/// One series: an event of a claim at configurations varying one thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSpec {
    /// Which claim.
    pub claim: ClaimId,
    /// Which event (its key).
    pub event: String,
    /// What varies.
    pub axis: Axis,
    /// The configurations (their `widths` are ignored: the search chooses the widths).
    pub configs: Vec<CheckConfig>,
    /// How the search runs (its `max_width` is lowered per point to what fits in memory).
    pub search: SearchConfig,
    /// The data family of a hardest-data series ("sphere" or a family's name; empty in the
    /// scaling profiles, whose data is the sphere's throughout).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data: String,
}

/// The structured families the hardest-data study runs, at ε = [`HARD_EPSILON`] (docs/theory.md §6.1).
pub const HARD_FAMILIES: [model::Family; 5] = [
    model::Family::Antipodal,
    model::Family::Clusters,
    model::Family::Xor,
    model::Family::CircleRandom,
    model::Family::BottomEigenvector,
];

/// The closeness ε of the hardest-data families (angle of near duplicates and near antipodes).
pub const HARD_EPSILON: f64 = 0.05;

/// The input dimension of the hardest-data study (a family's own dimension where it has one).
pub const HARD_D: usize = 3;

/// The hardest-data series of `claim`'s `event` over `ns`: sphere data at d = [`HARD_D`], then each
/// family of [`HARD_FAMILIES`].
fn hardest_series(claim: ClaimId, event: &str, ns: &[usize], delta: f64, search: &SearchConfig) -> Vec<SeriesSpec> {
    let params = model::FamilyParams { d: HARD_D, epsilon: HARD_EPSILON, ..model::FamilyParams::default() };
    let sphere = ("sphere".to_string(), DataKind::Sphere, None);
    let families = HARD_FAMILIES.into_iter().map(|family| {
        let kind =
            DataKind::Family { family: crate::FamilyName(family), epsilon: HARD_EPSILON, clusters: params.clusters };
        (family.name().to_string(), kind, Some(family))
    });
    std::iter::once(sphere)
        .chain(families)
        .map(|(data, kind, family)| {
            // The family's own dimension at each n (xor: 2^d ≥ n), sphere data at HARD_D.
            let d = |n: usize| family.map_or(HARD_D, |f| f.dimension_for(n, &params));
            SeriesSpec {
                claim,
                event: event.to_string(),
                axis: Axis::N,
                configs: ns.iter().map(|&n| CheckConfig { data: kind.clone(), ..base(n, d(n), delta, 0) }).collect(),
                search: search.clone(),
                data,
            }
        })
        .collect()
}

/// A scaling plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingPlan {
    /// The profile it comes from.
    pub profile: ScalingProfile,
    /// The first master seed: every point's data and initialisations derive from it, except the
    /// further data draws of an n-series, which take the next ones.
    pub master_seed: u64,
    /// The series.
    pub series: Vec<SeriesSpec>,
    /// The hardest-data profiles: the derivative-free search run from the hardest data of each
    /// event and n, its winner then re-measured from fresh seeds (docs/theory.md §6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_search: Option<DataSearchConfig>,
    /// Configurations the profile names but does not run, for their cost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
}

/// A configuration left out of a plan for its cost: its bound under the flop model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    /// Which claim.
    pub claim: ClaimId,
    /// Slide number and event, e.g. "Thm 2.1 (statement)".
    pub name: String,
    /// The data kind.
    pub data: String,
    /// n.
    pub n: usize,
    /// d.
    pub d: usize,
    /// λ0 of its data (none: the data could not be prepared).
    pub lambda0: Option<f64>,
    /// Seconds one seed takes at the search's largest width on one thread (flop model).
    pub seed_seconds: f64,
    /// The search's bound: every seed it may take, at the largest width, on one thread.
    pub bound_seconds: f64,
    /// Why, in words.
    pub reason: String,
}

/// The most a hardest-data flow configuration may cost under the flop model (every seed its search
/// may take, at its largest width, on one thread); dearer ones are left out and listed.
pub const HARD_POINT_BUDGET: f64 = 1000.0;

/// The configurations of `series` whose search fits in `budget` seconds (flop model, one thread),
/// and the others as [`LeftOut`].
fn within_budget(series: &SeriesSpec, budget: f64) -> (Vec<CheckConfig>, Vec<LeftOut>) {
    let mut kept = Vec::new();
    let mut out = Vec::new();
    for cfg in &series.configs {
        let name = format!("{} ({})", series.claim.slide(), series.event);
        let lambda0 = series.claim.claim().prepare(cfg).map(|p| p.lambda0());
        let seed =
            lambda0.as_ref().map_or(f64::INFINITY, |&l| seed_seconds(series.claim, cfg, l, series.search.max_width));
        let bound = series.search.max_seeds() as f64 * seed;
        if bound <= budget {
            kept.push(cfg.clone());
            continue;
        }
        let reason = match &lambda0 {
            Ok(_) => format!(
                "its search may take {} seeds at up to m = {}, {seed:.2} s each on one thread: about {bound:.0} s, over the {budget:.0} s allowed",
                series.search.max_seeds(),
                series.search.max_width
            ),
            Err(e) => format!("its data cannot be prepared: {e}"),
        };
        out.push(LeftOut {
            claim: series.claim,
            name,
            data: series.data.clone(),
            n: cfg.n,
            d: cfg.d,
            lambda0: lambda0.ok(),
            seed_seconds: if seed.is_finite() { seed } else { 0.0 },
            bound_seconds: if bound.is_finite() { bound } else { 0.0 },
            reason,
        });
    }
    (kept, out)
}

/// One configuration to search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Its key: claim, event, n, d, δ (the same in every series that has it).
    pub key: String,
    /// Which claim.
    pub claim: ClaimId,
    /// Which event.
    pub event: String,
    /// The configuration.
    pub config: CheckConfig,
    /// The search, with `max_width` fitted to memory.
    pub search: SearchConfig,
}

/// The key of a configuration of an event: claim, event, n, d, δ and a fingerprint (FNV-1a of the
/// whole configuration) so that seeds stored under it are never taken for another configuration.
pub fn point_key(claim: ClaimId, event: &str, cfg: &CheckConfig) -> String {
    let text = format!("{cfg:?}");
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{}/{event}/n={}/d={}/delta={}/{:08x}", claim.key(), cfg.n, cfg.d, cfg.delta, hash >> 32)
}

fn base(n: usize, d: usize, delta: f64, master_seed: u64) -> CheckConfig {
    CheckConfig {
        n,
        d,
        data: DataKind::Sphere,
        widths: vec![1],
        delta,
        seeds: 1,
        master_seed,
        ..CheckConfig::default()
    }
}

/// The flow claims' integration settings (as their quick profiles): RK4 step 0.1, horizon to λ0·T = 8.
fn flow(cfg: CheckConfig) -> CheckConfig {
    CheckConfig { horizon: 1.0, step: 0.1, ..cfg }
}

/// Thm 3.1 in the sweeps: the audit judges one step pair in [`SCALING_AUDIT_EVERY`] (its eigen-solves
/// cost far more than a GD step at these widths; the statement is judged at every step).
fn gd(cfg: CheckConfig) -> CheckConfig {
    CheckConfig { audit_every: SCALING_AUDIT_EVERY, ..cfg }
}

/// How often Thm 3.1's audit judges a step pair in the sweeps (see [`CheckConfig::audit_every`]).
pub const SCALING_AUDIT_EVERY: usize = 256;

/// The seconds-long profiles' search (scaling-test, hardest-quick): doubling from 64 to 2¹⁴, one
/// bisection step, looks of 24 and 48 seeds.
fn test_search() -> SearchConfig {
    SearchConfig {
        start: 64,
        ratio: 2.0,
        min_width: 1,
        max_width: 1 << 14,
        bisection_steps: 1,
        looks: vec![24, 48],
        error_rate: SERIES_ERROR,
    }
}

/// A geometric search from 64 for the init-only claims: up to 2²⁰, looks 60 … 960 seeds, α = 0.05.
fn init_search(bisection_steps: u32, looks: Vec<u64>) -> SearchConfig {
    SearchConfig {
        start: 64,
        ratio: 2.0,
        min_width: 1,
        max_width: 1 << 20,
        bisection_steps,
        looks,
        error_rate: SERIES_ERROR,
    }
}

/// What a claim's three series cover.
struct Sweep<'a> {
    /// n of the n-series (d = n).
    ns: &'a [usize],
    /// Independent data sets per n in the n-series (master seeds 0, 1, …): the fit's scatter then
    /// includes the data's, and λ0's variation between draws averages out.
    draws: u64,
    /// The fixed n of the δ- and d-series.
    n0: usize,
    /// δ of the δ-series (none: no δ-series).
    deltas: &'a [f64],
    /// d of the d-series at n₀ (none: no d-series).
    ds: &'a [usize],
    /// δ of the n- and d-series.
    delta0: f64,
}

/// Series over n (d = n), δ at n₀ and d at n₀ for `claim`'s `event`.
fn three_series(
    claim: ClaimId,
    event: &str,
    sweep: &Sweep<'_>,
    search: &SearchConfig,
    adjust: fn(CheckConfig) -> CheckConfig,
) -> Vec<SeriesSpec> {
    let Sweep { ns, draws, n0, deltas, ds, delta0 } = *sweep;
    let seed = 0;
    let s = |axis, configs: Vec<CheckConfig>| SeriesSpec {
        claim,
        event: event.to_string(),
        axis,
        configs: configs.into_iter().map(adjust).collect(),
        search: search.clone(),
        data: String::new(),
    };
    let mut out =
        vec![s(Axis::N, ns.iter().flat_map(|&n| (0..draws).map(move |k| base(n, n, delta0, seed + k))).collect())];
    if !deltas.is_empty() {
        out.push(s(Axis::Delta, deltas.iter().map(|&d| base(n0, n0, d, seed)).collect()));
    }
    if !ds.is_empty() {
        out.push(s(Axis::Lambda0, ds.iter().map(|&d| base(n0, d, delta0, seed)).collect()));
    }
    out
}

impl ScalingPlan {
    /// The plan of a profile.
    pub fn of(profile: ScalingProfile) -> Self {
        let id = |c: CheckConfig| c;
        let deltas = [0.2, 0.1, 0.05, 0.02];
        let sweep = |ns, draws, n0, deltas, ds| Sweep { ns, draws, n0, deltas, ds, delta0: 0.1 };
        let mut left_out = Vec::new();
        let series = match profile {
            ScalingProfile::ScalingTest => {
                let search = test_search();
                let sw = Sweep { ns: &[4, 8], draws: 1, n0: 4, deltas: &[0.3, 0.2], ds: &[], delta0: 0.2 };
                three_series(ClaimId::Lem22, "statement", &sw, &search, id)
            }
            ScalingProfile::ScalingQuick => {
                let init = init_search(2, vec![60, 120, 240, 480]);
                let flows = SearchConfig { start: 16, max_width: 1 << 14, looks: vec![30, 60, 120], ..init.clone() };
                let ns = [4, 8, 16];
                let mut s = Vec::new();
                s.extend(three_series(
                    ClaimId::Lem22,
                    "statement",
                    &sweep(&ns, 2, 8, &deltas, &[4, 8, 16, 32]),
                    &init,
                    id,
                ));
                s.extend(three_series(ClaimId::Lem23, "statement", &sweep(&ns, 1, 8, &[], &[]), &init, id));
                s.extend(three_series(
                    ClaimId::Lem23,
                    "with-lem-2.2",
                    &sweep(&ns, 2, 8, &deltas, &[4, 8, 16, 32]),
                    &init,
                    id,
                ));
                s.extend(three_series(ClaimId::Thm21, "statement", &sweep(&[4, 8], 1, 4, &[], &[]), &flows, flow));
                s.extend(three_series(ClaimId::Lem25, "conclusion", &sweep(&[4, 8], 1, 4, &[], &[]), &flows, flow));
                s
            }
            ScalingProfile::HardestQuick => {
                let search = test_search();
                hardest_series(ClaimId::Lem22, "statement", &[4, 8], 0.2, &search)
            }
            ScalingProfile::Hardest => {
                let init = init_search(3, vec![60, 120, 240, 480]);
                let ns = [4, 8, 16, 32];
                let mut s = hardest_series(ClaimId::Lem22, "statement", &ns, 0.1, &init);
                // Lem 2.3 to n = 16: on clusters its threshold passed 1.8·10⁵ at n = 16 already, and
                // n = 32 at widths near 2²⁰ would take hours on 2 cores (docs/hardest/RUN.md).
                s.extend(hardest_series(ClaimId::Lem23, "with-lem-2.2", &ns[..3], 0.1, &init));
                // The flow events at n ≤ 8 and m ≤ 2¹²: a flow to λ0·T = 8 takes 80/λ0 RK4 steps,
                // 4·10⁴ on `clusters` at n = 4 (λ0 = 0.002). Thm 3.1's GD takes 16n²/λ0² steps
                // there, 6·10⁷: it is left out (docs/theory.md §6.1).
                let flows = SearchConfig { start: 16, max_width: 1 << 10, looks: vec![30, 60, 120], ..init.clone() };
                for (claim, event) in [(ClaimId::Thm21, "statement"), (ClaimId::Lem25, "conclusion")] {
                    let mut series = hardest_series(claim, event, &ns[..2], 0.1, &flows);
                    for sp in &mut series {
                        sp.configs = sp.configs.drain(..).map(flow).collect();
                        let (kept, out) = within_budget(sp, HARD_POINT_BUDGET);
                        sp.configs = kept;
                        left_out.extend(out);
                    }
                    s.extend(series.into_iter().filter(|sp| !sp.configs.is_empty()));
                }
                s
            }
            ScalingProfile::Scaling => {
                let init = init_search(4, vec![60, 120, 240, 480, 960]);
                let flows = SearchConfig { start: 16, max_width: 1 << 14, looks: vec![30, 60, 120], ..init.clone() };
                let gd_search = SearchConfig { looks: vec![60, 120, 240, 480], ..flows.clone() };
                let ns = [4, 8, 16, 32, 64, 128, 256];
                let ds = [8, 16, 32, 64, 128];
                let mut s = Vec::new();
                s.extend(three_series(ClaimId::Lem22, "statement", &sweep(&ns, 3, 16, &deltas, &ds), &init, id));
                s.extend(three_series(ClaimId::Lem23, "statement", &sweep(&ns, 1, 16, &[], &[]), &init, id));
                s.extend(three_series(ClaimId::Lem23, "with-lem-2.2", &sweep(&ns, 3, 16, &deltas, &ds), &init, id));
                let small = [4, 8, 16, 32, 64, 128];
                s.extend(three_series(
                    ClaimId::Thm21,
                    "statement",
                    &sweep(&small, 2, 8, &deltas, &[4, 8, 16, 32]),
                    &flows,
                    flow,
                ));
                s.extend(three_series(
                    ClaimId::Lem25,
                    "conclusion",
                    &sweep(&small, 1, 8, &deltas, &[4, 8, 16, 32]),
                    // Its target 1 − 2δ reaches 0.96 at δ = 0.02: the last look must support it.
                    &SearchConfig { looks: vec![30, 60, 120, 240], ..flows.clone() },
                    flow,
                ));
                s.extend(three_series(ClaimId::Thm26, "statement", &sweep(&small[..5], 1, 8, &[], &[]), &flows, flow));
                let mut thm31 = three_series(
                    ClaimId::Thm31,
                    "statement",
                    &sweep(&small[..3], 2, 4, &deltas, &[3, 4, 8, 16]),
                    &gd_search,
                    gd,
                );
                // n = 32 with one data draw: GD at η = λ0/n² takes 16n²/λ0² steps of O(n²m) each, so
                // n = 32 took 18 min for one configuration in the record; n = 64 would take hours (theory §6).
                thm31[0].configs.push(gd(base(32, 32, 0.1, 0)));
                s.extend(thm31);
                s
            }
        };
        let data_search = match profile {
            ScalingProfile::HardestQuick => Some(DataSearchConfig {
                seeds: 24,
                candidates: 2,
                steps: 3,
                sigma: 0.05,
                sigma_min: 0.001,
                patience: 2,
                budget_seconds: 5.0,
            }),
            ScalingProfile::Hardest => Some(DataSearchConfig {
                seeds: 64,
                candidates: 4,
                steps: 12,
                sigma: 0.02,
                sigma_min: 0.001,
                patience: 4,
                budget_seconds: 300.0,
            }),
            _ => None,
        };
        ScalingPlan { profile, master_seed: 0, series, data_search, left_out }
    }

    /// Only the series of `claims` (every series when empty).
    pub fn only(mut self, claims: &[ClaimId]) -> Self {
        if !claims.is_empty() {
            self.series.retain(|s| claims.contains(&s.claim));
            self.left_out.retain(|l| claims.contains(&l.claim));
        }
        self
    }

    /// The distinct points, in the order they first appear, with `max_width` lowered to the
    /// largest width whose seed state fits in [`model::network::MEMORY_LIMIT_BYTES`].
    pub fn points(&self) -> Vec<Point> {
        let mut out: Vec<Point> = Vec::new();
        for s in &self.series {
            for cfg in &s.configs {
                let key = point_key(s.claim, &s.event, cfg);
                let share = s.search.error_rate / s.configs.len().max(1) as f64;
                if let Some(p) = out.iter_mut().find(|p| p.key == key) {
                    p.search.error_rate = p.search.error_rate.min(share);
                    continue;
                }
                let per = seed_state_bytes(cfg, 1).max(1);
                let fits = (model::network::MEMORY_LIMIT_BYTES / per) as usize;
                let max_width = s.search.max_width.min(fits).max(s.search.start);
                out.push(Point {
                    key,
                    claim: s.claim,
                    event: s.event.clone(),
                    config: cfg.clone(),
                    search: SearchConfig { max_width, error_rate: share, ..s.search.clone() },
                });
            }
        }
        out
    }
}

/// Where a scaling run keeps its seeds: keyed by point, width and trial (the runner's checkpoint).
pub trait PointStore: Sync {
    /// The stored outcome, if any.
    fn get(&self, point: &str, m: usize, trial: u64) -> Option<SeedOutcome>;
    /// Records a freshly evaluated seed.
    fn put(&self, point: &str, m: usize, trial: u64, outcome: &SeedOutcome) -> Result<(), LemmaError>;
}

/// A store that keeps nothing.
pub struct NoPointStore;
impl PointStore for NoPointStore {
    fn get(&self, _: &str, _: usize, _: u64) -> Option<SeedOutcome> {
        None
    }
    fn put(&self, _: &str, _: usize, _: u64, _: &SeedOutcome) -> Result<(), LemmaError> {
        Ok(())
    }
}

/// One point's seeds in a [`PointStore`], as the engine's [`SeedStore`].
pub(crate) struct PointView<'a> {
    pub(crate) store: &'a dyn PointStore,
    pub(crate) point: &'a str,
}

impl SeedStore for PointView<'_> {
    fn get(&self, _: ClaimId, m: usize, trial: u64) -> Option<SeedOutcome> {
        self.store.get(self.point, m, trial)
    }
    fn put(&self, _: ClaimId, m: usize, trial: u64, outcome: &SeedOutcome) -> Result<(), LemmaError> {
        self.store.put(self.point, m, trial, outcome)
    }
}

/// Hears of each finished point.
pub trait PointProgress: Sync {
    /// Point `index` of `total` (its key) is done.
    fn point_done(&self, index: usize, total: usize, key: &str, result: &ClaimThreshold);
}

/// Hears nothing.
pub struct NoPointProgress;
impl PointProgress for NoPointProgress {
    fn point_done(&self, _: usize, _: usize, _: &str, _: &ClaimThreshold) {}
}

/// How a scaling run runs.
#[derive(Clone, Copy)]
pub struct ScalingContext<'a> {
    /// Per-seed ticks.
    pub seeds: &'a dyn Progress,
    /// Per-point notices.
    pub points: &'a dyn PointProgress,
    /// Seeds finished before, and where new ones go.
    pub store: &'a dyn PointStore,
    /// With a shard, only the points whose index is K mod N run, and the result is `None`.
    pub shard: Option<Shard>,
}

/// A point's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// Its key.
    pub key: String,
    /// n.
    pub n: usize,
    /// d.
    pub d: usize,
    /// δ.
    pub delta: f64,
    /// The master seed of its data and initialisations.
    pub master_seed: u64,
    /// λ0 of its data.
    pub lambda0: f64,
    /// The regressor of the series it is shown in.
    pub x: f64,
    /// The proof's width at this point (the claim's first proof width).
    pub proof_width: f64,
    /// The parameter-count floor ⌈n/d⌉ (md ≥ n).
    pub floor_width: f64,
    /// Proof width ÷ threshold: [proof ÷ upper, proof ÷ lower).
    pub proof_over_threshold: Interval,
    /// The search.
    pub threshold: ClaimThreshold,
}

/// Du et al.'s orders for an event's width premise; none when the event holds at any width (the
/// claim's own [`crate::claim::Claim::proof_orders`]).
pub fn proof_orders(claim: ClaimId, event: &str) -> Option<ProofOrders> {
    claim.claim().proof_orders(event)
}

/// The width of a proof route (one place reads `ProofWidth`, whatever its representation).
pub fn proof_width_value(p: &ProofWidth) -> f64 {
    p.width
}

/// One series' result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesResult {
    /// Which claim.
    pub claim: ClaimId,
    /// Slide number.
    pub slide: String,
    /// Paper number.
    pub paper: String,
    /// Which event.
    pub event: String,
    /// What the event says.
    pub description: String,
    /// What varies.
    pub axis: Axis,
    /// The claimed probability at the first point.
    pub target: f64,
    /// The data family of a hardest-data series (empty in the scaling profiles).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data: String,
    /// The points, in the series' order.
    pub points: Vec<PointResult>,
    /// log m* against the regressor (none with fewer than two distinct x).
    pub fit: Option<ExponentFit>,
    /// The least-squares slope of log(proof width) on the same regressor at the same points (the
    /// proof's local exponent with its constants and logarithms).
    pub proof_slope: Option<f64>,
    /// The slope of log(parameter-count floor ⌈n/d⌉).
    pub floor_slope: Option<f64>,
    /// The proof's nominal exponent on this axis (none: the event needs no width).
    pub proof_order: Option<f64>,
}

/// λ0 of one sphere data set against its large-n limit ¼ + ¼(1 − √(n/d))² (n ≤ d).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lambda0Row {
    /// n.
    pub n: usize,
    /// d.
    pub d: usize,
    /// The master seed of the data set.
    pub master_seed: u64,
    /// λ0 = λmin(H∞) of the drawn data.
    pub lambda0: f64,
    /// The limit (none for n > d, where it does not apply).
    pub limit: Option<f64>,
}

/// Where an interval lies relative to a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Entirely below it.
    Below,
    /// It lies inside the interval.
    Contains,
    /// Entirely above it.
    Above,
}

impl Comparison {
    /// Where `i` lies relative to `x` (an open end reaches ±∞).
    pub fn of(i: Interval, x: f64) -> Self {
        if i.upper.is_some_and(|u| u < x) {
            Comparison::Below
        } else if i.lower.is_some_and(|l| l > x) {
            Comparison::Above
        } else {
            Comparison::Contains
        }
    }
}

/// What the scaling page states, computed from the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesFinding {
    /// Slide number and event, e.g. "Lem 2.2 (statement)".
    pub name: String,
    /// The variable.
    pub variable: String,
    /// The measured exponent's interval.
    pub measured: Interval,
    /// The midpoint slope.
    pub slope: Option<f64>,
    /// The proof's nominal exponent.
    pub proof_order: Option<f64>,
    /// Where the interval lies relative to the proof's exponent (none: no proof width).
    pub against_proof: Option<Comparison>,
    /// Whether every point's threshold is m* = 1 (the event holds at every width).
    pub every_width: bool,
    /// Whether the interval contains 0 (no measurable dependence).
    pub contains_zero: bool,
    /// At the last point of the series: proof width ÷ threshold interval.
    pub last_ratio: Option<(f64, Interval)>,
}

/// All findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingFindings {
    /// One per series with a fit.
    pub series: Vec<SeriesFinding>,
    /// For data with d = n: (n, mean |λ0 − limit|/limit over the data sets) at the smallest and
    /// at the largest n run.
    pub lambda0_gap_smallest_n: Option<(usize, f64)>,
    /// See `lambda0_gap_smallest_n`.
    pub lambda0_gap_largest_n: Option<(usize, f64)>,
    /// Seeds on which a sanity identity failed (a bug when positive).
    pub sanity_failures: u64,
    /// The hardest-data profiles: for each event and n, the family that needed the most width.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hardest: Vec<HardestRow>,
    /// The hardest-data profiles: the exponent over n of the hardest data found, per event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hardest_exponents: Vec<HardestExponent>,
    /// The hardest-data profiles: every data set's thresholds against n and 1/λ0 together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lambda0_regressions: Vec<Lambda0Regression>,
}

/// The data that needed the most width for one event at one n, among the data of a hardest-data
/// run (docs/theory.md §6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardestRow {
    /// Slide number and event, e.g. "Lem 2.2 (statement)".
    pub name: String,
    /// n.
    pub n: usize,
    /// The data with the largest refuted width (the lower end of its threshold); empty when no
    /// data refuted any width at this n, so that none can be named the hardest.
    pub data: String,
    /// Its d and λ0.
    pub d: usize,
    /// λ0 of that data set.
    pub lambda0: f64,
    /// Its threshold interval (lower, upper].
    pub threshold: Threshold,
    /// The threshold on sphere data at the same n and d = [`HARD_D`] (none without sphere data).
    pub sphere: Option<Threshold>,
    /// λ0 of that sphere data set.
    pub sphere_lambda0: Option<f64>,
    /// The other data kinds whose threshold is the same as the hardest's (the seeds do not order them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ties: Vec<String>,
    /// How many data kinds ran at this n.
    pub kinds: usize,
    /// The level at which "the worst data set needs more than `threshold.lower`" holds: one minus
    /// the searches' error rates summed over every data kind at this n (the winner is chosen
    /// among them, so each one's error counts; docs/theory.md §6.1).
    pub level: f64,
    /// Where the largest threshold among the data at this n lies: (the largest lower end, the
    /// largest upper end], open above when any kind's is; it holds whenever every kind's
    /// interval does, so at `level`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<Threshold>,
    /// The error rates of the searches behind `envelope`, summed (1 − `level`, before clamping).
    #[serde(default)]
    pub error: f64,
}

/// The exponent over n of the hardest data found for one event: the fit of the envelopes
/// ([`HardestRow::envelope`]) at every n (docs/theory.md §6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardestExponent {
    /// Slide number and event.
    pub name: String,
    /// The fit of ln(envelope) on ln n (none with fewer than two n).
    pub fit: Option<ExponentFit>,
    /// The joint level of its interval: one minus every data kind's search error at every n,
    /// minus the t term's.
    pub level: f64,
}

/// One event's thresholds over every data set of a hardest-data run, fitted against n and 1/λ0
/// together: log m* = α log n + β log(1/λ0) + c (docs/theory.md §6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lambda0Regression {
    /// Slide number and event.
    pub name: String,
    /// The proof's exponents of n and 1/λ0 for this event (none: it needs no width).
    pub proof: Option<(f64, f64)>,
    /// Points (data set × n) in the fit.
    pub points: usize,
    /// α, the exponent of n at fixed λ0 (none: no fit).
    pub n: Option<ExponentFit>,
    /// β, the exponent of 1/λ0 at fixed n.
    pub lambda0: Option<ExponentFit>,
    /// The level of each interval: one minus every point's search error, minus the t term's.
    pub level: f64,
}

/// The λ0-regressions of the labelled series of `series`, one per event.
pub fn lambda0_regressions(series: &[SeriesResult]) -> Vec<Lambda0Regression> {
    let labelled: Vec<&SeriesResult> = series.iter().filter(|s| !s.data.is_empty()).collect();
    let mut names: Vec<String> = Vec::new();
    for s in &labelled {
        let name = format!("{} ({})", s.slide, s.event);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let points: Vec<&PointResult> = labelled
                .iter()
                .filter(|s| format!("{} ({})", s.slide, s.event) == name)
                .flat_map(|s| &s.points)
                .collect();
            let fit_points: Vec<inference::FitPoint2> = points
                .iter()
                .map(|p| {
                    let t = &p.threshold.search.threshold;
                    inference::FitPoint2 {
                        x: [(p.n as f64).ln(), (1.0 / p.lambda0).ln()],
                        lower: t.lower.map_or(0.0, |l| (l as f64).ln()),
                        upper: t.upper.map(|u| (u as f64).ln()),
                    }
                })
                .collect();
            let error: f64 = points.iter().map(|p| p.threshold.search.error_rate).sum();
            let proof = labelled
                .iter()
                .find(|s| format!("{} ({})", s.slide, s.event) == name)
                .and_then(|s| proof_orders(s.claim, &s.event))
                .map(|o| (o.n, o.lambda0));
            let fits = inference::fit_exponents2(&fit_points, FIT_CONFIDENCE);
            let (n, lambda0) = match fits {
                Some([a, b]) => (Some(a), Some(b)),
                None => (None, None),
            };
            Lambda0Regression {
                name,
                proof,
                points: points.len(),
                n,
                lambda0,
                level: inference::joint_confidence(error, FIT_CONFIDENCE).max(0.0),
            }
        })
        .collect()
}

/// The exponents of the hardest data found, one per event of `rows` with at least two n.
pub fn hardest_exponents(rows: &[HardestRow]) -> Vec<HardestExponent> {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if !names.contains(&r.name.as_str()) {
            names.push(&r.name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let of: Vec<&HardestRow> = rows.iter().filter(|r| r.name == name).collect();
            let points: Vec<FitPoint> = of
                .iter()
                .filter_map(|r| {
                    let e = r.envelope.as_ref()?;
                    Some(FitPoint {
                        x: (r.n as f64).ln(),
                        lower: e.lower.map_or(0.0, |l| (l as f64).ln()),
                        upper: e.upper.map(|u| (u as f64).ln()),
                    })
                })
                .collect();
            let error: f64 = of.iter().map(|r| r.error).sum();
            HardestExponent {
                name: name.to_string(),
                fit: fit_exponent(&points, FIT_CONFIDENCE),
                level: inference::joint_confidence(error, FIT_CONFIDENCE).max(0.0),
            }
        })
        .collect()
}

/// The hardest-data rows of `series`: for each (claim, event) and n, the data kind whose threshold
/// has the largest refuted width (ties: the larger upper end, an open one the largest).
pub fn hardest_rows(series: &[SeriesResult]) -> Vec<HardestRow> {
    let mut rows: Vec<HardestRow> = Vec::new();
    let labelled: Vec<&SeriesResult> = series.iter().filter(|s| !s.data.is_empty()).collect();
    let mut events: Vec<(ClaimId, &str)> = Vec::new();
    for s in &labelled {
        if !events.contains(&(s.claim, s.event.as_str())) {
            events.push((s.claim, s.event.as_str()));
        }
    }
    for (claim, event) in events {
        let of_event: Vec<&&SeriesResult> = labelled.iter().filter(|s| s.claim == claim && s.event == event).collect();
        let mut ns: Vec<usize> = of_event.iter().flat_map(|s| s.points.iter().map(|p| p.n)).collect();
        ns.sort_unstable();
        ns.dedup();
        for n in ns {
            let at: Vec<(&str, &PointResult)> = of_event
                .iter()
                .flat_map(|s| s.points.iter().filter(|p| p.n == n).map(move |p| (s.data.as_str(), p)))
                .collect();
            let th = |p: &PointResult| p.threshold.search.threshold.clone();
            let key = |p: &PointResult| {
                let t = &p.threshold.search.threshold;
                (t.lower.unwrap_or(0), t.upper.unwrap_or(usize::MAX))
            };
            // `at` is not empty: n was taken from these very points. The first of equal keys wins.
            let Some(&(data, best)) = at.iter().rev().max_by_key(|(_, p)| key(p)) else { continue };
            let ties = at.iter().filter(|(d, p)| *d != data && key(p) == key(best)).map(|(d, _)| d.to_string());
            let refuted = best.threshold.search.threshold.lower.is_some();
            let sphere = at.iter().find(|(d, _)| *d == "sphere").map(|(_, p)| *p);
            let error: f64 = at.iter().map(|(_, p)| p.threshold.search.error_rate).sum();
            let lowest = at.iter().filter_map(|(_, p)| p.threshold.search.threshold.lower).max();
            let open = at.iter().any(|(_, p)| p.threshold.search.threshold.upper.is_none());
            let highest = at.iter().filter_map(|(_, p)| p.threshold.search.threshold.upper).max();
            let envelope = Threshold { lower: lowest, upper: if open { None } else { highest }, undetermined: None };
            rows.push(HardestRow {
                name: format!("{} ({event})", claim.slide()),
                n,
                data: if refuted { data.to_string() } else { String::new() },
                d: best.d,
                lambda0: best.lambda0,
                threshold: th(best),
                sphere: sphere.map(th),
                sphere_lambda0: sphere.map(|p| p.lambda0),
                ties: if refuted { ties.collect() } else { Vec::new() },
                kinds: at.len(),
                level: (1.0 - error).max(0.0),
                envelope: Some(envelope),
                error,
            });
        }
    }
    rows
}

/// The result of a scaling run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingResult {
    /// The profile.
    pub profile: ScalingProfile,
    /// Confidence of the fits' t terms.
    pub confidence: f64,
    /// The joint level of every exponent interval (the searches' share and the t term together).
    #[serde(default)]
    pub joint_confidence: f64,
    /// The series.
    pub series: Vec<SeriesResult>,
    /// λ0 on the sphere against its limit, one row per distinct (n, d).
    pub lambda0: Vec<Lambda0Row>,
    /// The findings.
    pub findings: ScalingFindings,
    /// Seeds evaluated over every point (stored or computed).
    pub seeds_total: u64,
    /// Seeds the same widths would have taken without sequential stopping (each at its last look).
    pub seeds_without_stopping: u64,
    /// The hardest-data searches, one per event and n with a hardest data set (docs/theory.md §6.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub searches: Vec<SearchRecord>,
    /// The configurations the profile left out for their cost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
}

/// The data search from the hardest data of one event at one n, and its winner re-measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRecord {
    /// Slide number and event, e.g. "Lem 2.2 (statement)".
    pub name: String,
    /// Which claim.
    pub claim: ClaimId,
    /// Which event.
    pub event: String,
    /// n.
    pub n: usize,
    /// d.
    pub d: usize,
    /// The data it starts from (the hardest at this n).
    pub start: String,
    /// λ0 of the start: the floor of every candidate's λ0 (none: no start).
    pub start_lambda0: Option<f64>,
    /// The start's threshold.
    pub start_threshold: Threshold,
    /// The width m_s of the surrogate: the start's refuted width (the lower end of its threshold).
    pub width: usize,
    /// Seconds the whole budget would take on one thread under the flop model.
    pub forecast_seconds: f64,
    /// The search, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<DataSearch>,
    /// Why it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The winner's threshold from fresh seeds, independent of the search's (the sound search of
    /// docs/theory.md §3.7, at the start's error share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh: Option<Threshold>,
}

/// The data label of the searched instances' series.
pub const SEARCHED: &str = "searched";

/// The key under which a point's data search stores its seeds starts with the point's key and this.
pub const SEARCH_KEY: &str = "+search/";

/// The large-n limit of λ0 on the sphere, ¼ + ¼(1 − √(n/d))², for n ≤ d.
pub fn lambda0_limit(n: usize, d: usize) -> Option<f64> {
    (n <= d).then(|| 0.25 + 0.25 * (1.0 - (n as f64 / d as f64).sqrt()).powi(2))
}

/// Confidence of the exponent fits' Student-t term.
pub const FIT_CONFIDENCE: f64 = 0.975;

/// The error rate every series spends on its threshold searches together: a series of k points
/// searches each at [`SERIES_ERROR`]/k, so that its k threshold intervals cover jointly at
/// 1 − [`SERIES_ERROR`] (a point shared by several series takes the smallest share).
pub const SERIES_ERROR: f64 = 0.025;

/// The joint level every exponent interval states: 1 − [`SERIES_ERROR`] − (1 − [`FIT_CONFIDENCE`]),
/// confirmed by the planted-law test of the inference crate.
pub fn joint_confidence() -> f64 {
    inference::joint_confidence(SERIES_ERROR, FIT_CONFIDENCE)
}

/// Seconds one thread takes for one seed at width m: [`seed_flops`] at [`FORECAST_FLOPS_PER_THREAD`].
pub fn seed_seconds(claim: ClaimId, cfg: &CheckConfig, lambda0: f64, m: usize) -> f64 {
    seed_flops(claim, cfg, lambda0, m) / FORECAST_FLOPS_PER_THREAD
}

/// The wall time of the committed `scaling` record on 2 threads, seconds (docs/scaling/RUN.md).
pub const RECORD_SECONDS: f64 = 2087.0;

/// Flops of one seed of `claim` at width m (with λ0 of its data): the claim's own
/// [`crate::claim::Claim::seed_flops`], from the pieces of [`crate::cost`].
pub fn seed_flops(claim: ClaimId, cfg: &CheckConfig, lambda0: f64, m: usize) -> f64 {
    claim.claim().seed_flops(cfg, lambda0, m)
}

/// What a scaling run is expected to take, before it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Configurations found in the earlier record (same key: the same configuration).
    pub known: usize,
    /// All configurations.
    pub total: usize,
    /// Seconds for the known ones on `threads` threads: their recorded widths and seed counts
    /// under [`seed_flops`] at [`FORECAST_FLOPS_PER_THREAD`].
    pub known_seconds: f64,
    /// Seconds for the others at most: every width the search may test at its last look, each at
    /// the search's largest width.
    pub unknown_seconds_bound: f64,
}

/// The time forecast of `points` on `threads` threads, taking the tested widths and seeds of the
/// points `record` has; points already in a checkpoint are not discounted.
pub fn forecast(points: &[Point], record: Option<&ScalingResult>, threads: usize) -> Result<Forecast, LemmaError> {
    let threads = threads.max(1) as f64;
    let recorded = |key: &str| {
        record.and_then(|r| r.series.iter().flat_map(|s| &s.points).find(|p| p.key == key)).map(|p| &p.threshold)
    };
    let mut out = Forecast { known: 0, total: points.len(), known_seconds: 0.0, unknown_seconds_bound: 0.0 };
    for p in points {
        if let Some(t) = recorded(&p.key) {
            out.known += 1;
            let seconds: f64 =
                t.search.tests.iter().map(|w| w.seeds as f64 * seed_seconds(p.claim, &p.config, t.lambda0, w.m)).sum();
            out.known_seconds += seconds / threads;
        } else {
            let lambda0 = p.claim.claim().prepare(&p.config)?.lambda0();
            let seconds = p.search.max_seeds() as f64 * seed_seconds(p.claim, &p.config, lambda0, p.search.max_width);
            out.unknown_seconds_bound += seconds / threads;
        }
    }
    Ok(out)
}

/// Runs a plan. With a shard only its points run and the result is `None`.
pub fn run_plan(plan: &ScalingPlan, ctx: &ScalingContext<'_>) -> Result<Option<ScalingResult>, LemmaError> {
    let points = plan.points();
    // Every point is checked before the first seed runs: a plan that cannot finish is refused now,
    // not after an hour.
    for p in &points {
        crate::threshold::preflight(p.claim, &p.event, &p.config, &p.search)?;
    }
    let mut done: Vec<(String, ClaimThreshold)> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        if ctx.shard.is_some_and(|s| !s.contains(i as u64)) {
            continue;
        }
        let view = PointView { store: ctx.store, point: &p.key };
        let rctx = RunContext { progress: ctx.seeds, store: &view, shard: None, plant_sanity_failure: None };
        let t = claim_threshold(p.claim, &p.event, &p.config, &p.search, &rctx)?;
        ctx.points.point_done(i, points.len(), &p.key, &t);
        done.push((p.key.clone(), t));
    }
    if ctx.shard.is_some() {
        return Ok(None);
    }
    // Without a shard every point of plan.points() ran (or ? returned early), and points() has one key
    // per series config.
    let find = |key: &str| done.iter().find(|(k, _)| k == key).map(|(_, t)| t).expect("every point ran");
    let mut series: Vec<SeriesResult> = plan
        .series
        .iter()
        .map(|s| {
            let pts: Vec<PointResult> = s
                .configs
                .iter()
                .map(|cfg| point_result(s, cfg, find(&point_key(s.claim, &s.event, cfg)).clone()))
                .collect();
            series_result(s, pts)
        })
        .collect();
    let mut searches = Vec::new();
    if let Some(search) = &plan.data_search {
        let (records, searched) = run_searches(plan, &series, search, &points, ctx)?;
        searches = records;
        series.extend(searched);
    }
    let mut lambda0: Vec<Lambda0Row> = Vec::new();
    for p in series.iter().flat_map(|s| &s.points) {
        if !lambda0.iter().any(|r| (r.n, r.d, r.master_seed) == (p.n, p.d, p.master_seed)) {
            let limit = lambda0_limit(p.n, p.d);
            lambda0.push(Lambda0Row { n: p.n, d: p.d, master_seed: p.master_seed, lambda0: p.lambda0, limit });
        }
    }
    lambda0.sort_by_key(|r| (r.n, r.d, r.master_seed));
    let sanity_failures = done.iter().map(|(_, t)| t.sanity_failures).sum::<u64>()
        + searches.iter().filter_map(|r| r.search.as_ref()).map(|s| s.sanity_failures).sum::<u64>()
        + series
            .iter()
            .filter(|s| s.data == SEARCHED)
            .flat_map(|s| &s.points)
            .map(|p| p.threshold.sanity_failures)
            .sum::<u64>();
    let seeds_total = done.iter().map(|(_, t)| t.search.seeds_total).sum::<u64>()
        + searches.iter().filter_map(|r| r.search.as_ref()).map(|s| s.seeds_total).sum::<u64>()
        + series
            .iter()
            .filter(|s| s.data == SEARCHED)
            .flat_map(|s| &s.points)
            .map(|p| p.threshold.search.seeds_total)
            .sum::<u64>();
    let seeds_without_stopping = done.iter().map(|(_, t)| t.search.seeds_without_stopping).sum();
    let mut findings = findings(&series, &lambda0, sanity_failures);
    findings.hardest = hardest_rows(&series);
    findings.hardest_exponents = hardest_exponents(&findings.hardest);
    findings.lambda0_regressions = lambda0_regressions(&series);
    Ok(Some(ScalingResult {
        profile: plan.profile,
        confidence: FIT_CONFIDENCE,
        joint_confidence: joint_confidence(),
        series,
        lambda0,
        findings,
        seeds_total,
        seeds_without_stopping,
        searches,
        left_out: plan.left_out.clone(),
    }))
}

/// Searches from `start` (a configuration with its data) for data on which `event` of `claim`
/// fails more often at width `width`, with initialisation stream `stream`; every seed goes through
/// `store` under `"{key}+search/{fingerprint of the data}"`, so an interrupted search resumes.
#[allow(clippy::too_many_arguments)]
pub fn search_data(
    claim: ClaimId,
    event: &str,
    start: &CheckConfig,
    width: usize,
    config: &DataSearchConfig,
    stream: u64,
    key: &str,
    store: &dyn PointStore,
    progress: &dyn Progress,
) -> Result<DataSearch, LemmaError> {
    config.validate()?;
    let first = crate::data::make_data(start)?;
    let floor = model::lambda0(&first)?;
    let origin = start_word(start);
    let as_config = |data: &model::Dataset| CheckConfig {
        data: DataKind::Given(GivenData::of(data, origin.clone(), stream)),
        widths: vec![width],
        ..start.clone()
    };
    let mut seeds_total = 0u64;
    let mut sanity_failures = 0u64;
    let mut failures = |data: &model::Dataset, step: u64| -> Result<u64, LemmaError> {
        let cfg = as_config(data);
        let prepared = claim.claim().prepare(&cfg)?;
        let specs = prepared.events();
        if !specs.iter().any(|s| s.key == event) {
            return Err(LemmaError::Config {
                name: "event",
                value: event.to_string(),
                reason: format!("{} has no such event", claim.slide()),
            });
        }
        let point = format!("{key}+search/{}", crate::config::fingerprint(claim, &cfg));
        let view = PointView { store, point: &point };
        let rctx = RunContext { progress, store: &view, shard: None, plant_sanity_failure: None };
        let trials = step * config.seeds..(step + 1) * config.seeds;
        let outs = evaluate_seeds(claim, &prepared, &specs, &cfg, width, trials, &rctx)?;
        let sanity: Vec<&str> = specs.iter().filter(|s| s.role == Role::Sanity).map(|s| s.key).collect();
        seeds_total += outs.len() as u64;
        sanity_failures +=
            outs.iter().filter(|o| sanity.iter().any(|k| o.events[*k].outcome == Outcome::Fails)).count() as u64;
        Ok(outs.iter().filter(|o| o.events[event].outcome == Outcome::Fails).count() as u64)
    };
    let climb = crate::data_search::climb(&first, floor, config, stream, |data, step| failures(data, step))?;
    Ok(DataSearch {
        seeds_per_step: config.seeds,
        steps: climb.steps,
        stop: climb.stop,
        winner: GivenData::of(&climb.winner, format!("searched from {origin}"), stream),
        winner_lambda0: climb.winner_lambda0,
        start_failures: climb.start_failures,
        winner_failures: climb.winner_failures,
        seeds_total,
        sanity_failures,
    })
}

/// A data kind in a few words (the origin of a searched instance).
fn start_word(cfg: &CheckConfig) -> String {
    match &cfg.data {
        DataKind::Sphere => "sphere".into(),
        DataKind::Orthonormal => "orthonormal".into(),
        DataKind::Correlated => "correlated".into(),
        DataKind::Family { family, .. } => family.0.name().into(),
        DataKind::Given(g) => g.origin.clone(),
    }
}

fn point_result(s: &SeriesSpec, cfg: &CheckConfig, t: ClaimThreshold) -> PointResult {
    let proof = t.proof_widths.first().map_or(f64::NAN, proof_width_value);
    let th = &t.search.threshold;
    PointResult {
        key: point_key(s.claim, &s.event, cfg),
        n: cfg.n,
        d: cfg.d,
        delta: cfg.delta,
        master_seed: cfg.master_seed,
        lambda0: t.lambda0,
        x: s.axis.regressor(cfg, t.lambda0),
        proof_width: proof,
        floor_width: (cfg.n as f64 / cfg.d as f64).ceil().max(1.0),
        proof_over_threshold: Interval {
            lower: th.upper.map(|u| proof / u as f64),
            upper: th.lower.map(|l| proof / l as f64),
        },
        threshold: t,
    }
}

/// The stream of a point's data search (FNV-1a of its key); its fresh re-measurement takes the next.
fn search_stream(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)) & !1
}

/// The data searches of a hardest-data plan: from the hardest data of every event and n (in the
/// order of [`hardest_rows`]), each within its budget, and the winners' thresholds from fresh seeds
/// as one `searched` series per event.
fn run_searches(
    plan: &ScalingPlan,
    series: &[SeriesResult],
    config: &DataSearchConfig,
    points: &[Point],
    ctx: &ScalingContext<'_>,
) -> Result<(Vec<SearchRecord>, Vec<SeriesResult>), LemmaError> {
    let mut records = Vec::new();
    let mut searched: Vec<(SeriesSpec, Vec<PointResult>)> = Vec::new();
    let rows = hardest_rows(series);
    let total = rows.len();
    for (index, row) in rows.into_iter().enumerate() {
        // The start: of the data at this n whose threshold is placed at both ends, the one with the
        // largest refuted width (the first of equals, in plan order); that refuted width is the
        // surrogate's m_s, where the start fails often enough for a harder candidate to show. A
        // search from data refuted at the largest width tested could not show a harder instance.
        let mut start: Option<(&SeriesSpec, &CheckConfig, &PointResult)> = None;
        for (spec, result) in plan.series.iter().zip(series) {
            let name = format!("{} ({})", spec.claim.slide(), spec.event);
            if name != row.name || spec.data.is_empty() {
                continue;
            }
            for (cfg, p) in spec.configs.iter().zip(&result.points).filter(|(c, _)| c.n == row.n) {
                let t = &p.threshold.search.threshold;
                let (Some(lower), Some(_)) = (t.lower, t.upper) else { continue };
                if start.is_none_or(|(_, _, q)| q.threshold.search.threshold.lower.is_some_and(|l| lower > l)) {
                    start = Some((spec, cfg, p));
                }
            }
        }
        let Some((spec, cfg, p)) = start else {
            let (claim, event) = plan
                .series
                .iter()
                .find(|s| format!("{} ({})", s.claim.slide(), s.event) == row.name)
                .map(|s| (s.claim, s.event.clone()))
                .unwrap_or((ClaimId::Lem22, String::new()));
            records.push(SearchRecord {
                name: row.name.clone(),
                claim,
                event,
                n: row.n,
                d: row.d,
                start: String::new(),
                start_lambda0: None,
                start_threshold: row.threshold.clone(),
                width: 0,
                forecast_seconds: 0.0,
                search: None,
                skipped: Some(
                    "no data set at this n has a threshold placed at both ends (a refuted and a supported width), so there is no width to search at"
                        .into(),
                ),
                fresh: None,
            });
            continue;
        };
        let key = point_key(spec.claim, &spec.event, cfg);
        let Some(point) = points.iter().find(|q| q.key == key) else { continue };
        let th = &p.threshold.search.threshold;
        let width = th.lower.unwrap_or(1);
        let forecast_seconds = config.max_seeds() as f64 * seed_seconds(spec.claim, cfg, p.lambda0, width);
        let mut record = SearchRecord {
            name: row.name.clone(),
            claim: spec.claim,
            event: spec.event.clone(),
            n: row.n,
            d: cfg.d,
            start: spec.data.clone(),
            start_lambda0: Some(p.lambda0),
            start_threshold: th.clone(),
            width,
            forecast_seconds,
            search: None,
            skipped: None,
            fresh: None,
        };
        if forecast_seconds > config.budget_seconds {
            record.skipped = Some(format!(
                "its budget of {} seeds at m = {width} would take about {forecast_seconds:.0} s on one thread, over the {:.0} s allowed",
                config.max_seeds(),
                config.budget_seconds
            ));
            records.push(record);
            continue;
        }
        let stream = search_stream(&key);
        let found = search_data(spec.claim, &spec.event, cfg, width, config, stream, &key, ctx.store, ctx.seeds)?;
        let fresh_data = GivenData { stream: stream | 1, ..found.winner.clone() };
        let fresh_cfg = CheckConfig { data: DataKind::Given(fresh_data), ..cfg.clone() };
        let fresh_key = point_key(spec.claim, &spec.event, &fresh_cfg);
        let view = PointView { store: ctx.store, point: &fresh_key };
        let rctx = RunContext { progress: ctx.seeds, store: &view, shard: None, plant_sanity_failure: None };
        let t = claim_threshold(spec.claim, &spec.event, &fresh_cfg, &point.search, &rctx)?;
        ctx.points.point_done(index, total, &format!("{fresh_key} (searched data, fresh seeds)"), &t);
        record.fresh = Some(t.search.threshold.clone());
        record.search = Some(found);
        records.push(record);
        let out = SeriesSpec { configs: Vec::new(), data: SEARCHED.to_string(), ..spec.clone() };
        let slot = match searched.iter().position(|(s, _)| s.claim == out.claim && s.event == out.event) {
            Some(i) => i,
            None => {
                searched.push((out, Vec::new()));
                searched.len() - 1
            }
        };
        let (s, pts) = &mut searched[slot];
        s.configs.push(fresh_cfg.clone());
        pts.push(point_result(s, &fresh_cfg, t));
    }
    Ok((records, searched.into_iter().map(|(s, pts)| series_result(&s, pts)).collect()))
}

fn series_result(s: &SeriesSpec, points: Vec<PointResult>) -> SeriesResult {
    let fit_points: Vec<FitPoint> = points
        .iter()
        .map(|p| {
            let th = &p.threshold.search.threshold;
            FitPoint {
                x: p.x,
                lower: th.lower.map_or(0.0, |l| (l as f64).ln()),
                upper: th.upper.map(|u| (u as f64).ln()),
            }
        })
        .collect();
    let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
    let distinct = xs.iter().any(|x| (x - xs[0]).abs() > 1e-12);
    let slope_of = |ys: Vec<f64>| (distinct && ys.iter().all(|y| y.is_finite())).then(|| least_squares(&xs, &ys).0);
    let orders = proof_orders(s.claim, &s.event);
    let order = orders.as_ref().map(|o| match s.axis {
        Axis::N => o.n,
        Axis::Delta => o.delta,
        Axis::Lambda0 => o.lambda0,
    });
    let first = points.first().map(|p| &p.threshold);
    SeriesResult {
        claim: s.claim,
        slide: s.claim.slide().into(),
        paper: s.claim.paper().into(),
        event: s.event.clone(),
        description: first.map(|t| t.description.clone()).unwrap_or_default(),
        axis: s.axis,
        target: first.map_or(f64::NAN, |t| t.search.target),
        data: s.data.clone(),
        fit: if distinct { fit_exponent(&fit_points, FIT_CONFIDENCE) } else { None },
        proof_slope: if orders.is_some() {
            slope_of(points.iter().map(|p| p.proof_width.ln()).collect())
        } else {
            None
        },
        floor_slope: slope_of(points.iter().map(|p| p.floor_width.ln()).collect()),
        proof_order: order,
        points,
    }
}

fn findings(series: &[SeriesResult], lambda0: &[Lambda0Row], sanity_failures: u64) -> ScalingFindings {
    let list = series
        .iter()
        .filter_map(|s| {
            let fit = s.fit.as_ref()?;
            let i = fit.interval;
            let last = s.points.last().map(|p| (p.x, p.proof_over_threshold));
            Some(SeriesFinding {
                name: if s.data.is_empty() {
                    format!("{} ({})", s.slide, s.event)
                } else {
                    format!("{} ({}) on `{}` data", s.slide, s.event, s.data)
                },
                variable: s.axis.variable().into(),
                measured: i,
                slope: fit.slope,
                proof_order: s.proof_order,
                against_proof: s.proof_order.map(|o| Comparison::of(i, o)),
                every_width: s.points.iter().all(|p| p.threshold.search.threshold.upper == Some(1)),
                contains_zero: i.lower.is_none_or(|l| l <= 0.0) && i.upper.is_none_or(|u| u >= 0.0),
                last_ratio: last.filter(|_| s.proof_order.is_some()),
            })
        })
        .collect();
    let square: Vec<&Lambda0Row> = lambda0.iter().filter(|r| r.n == r.d && r.limit.is_some()).collect();
    let gap_at = |n: usize| {
        let gaps: Vec<f64> =
            square.iter().filter(|r| r.n == n).filter_map(|r| r.limit.map(|l| (r.lambda0 - l).abs() / l)).collect();
        (n, gaps.iter().sum::<f64>() / gaps.len() as f64)
    };
    let lambda0_gap_smallest_n = square.iter().map(|r| r.n).min().map(gap_at);
    let lambda0_gap_largest_n = square.iter().map(|r| r.n).max().map(gap_at);
    ScalingFindings {
        series: list,
        lambda0_gap_smallest_n,
        lambda0_gap_largest_n,
        sanity_failures,
        hardest: Vec::new(),
        hardest_exponents: Vec::new(),
        lambda0_regressions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NoProgress;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// The hardest-data rows name the data with the largest refuted width, the ties, and
    /// "undetermined" when nothing was refuted — checked on a real hardest-quick run whose
    /// thresholds are then overwritten with contrary results.
    #[test]
    fn the_hardest_data_is_the_largest_refuted_width_or_undetermined() {
        let plan = ScalingPlan::of(ScalingProfile::HardestQuick);
        assert_eq!(plan.series.len(), 1 + HARD_FAMILIES.len());
        for s in &plan.series {
            for cfg in &s.configs {
                let data = crate::make_data(cfg).expect("every hardest-quick data set draws");
                assert_eq!(data.d(), cfg.d, "{}: the configuration's d is the data's", s.data);
            }
        }
        let ctx = ScalingContext { seeds: &NoProgress, points: &NoPointProgress, store: &NoPointStore, shard: None };
        let mut result = run_plan(&plan, &ctx).unwrap().expect("no shard");
        let rows = hardest_rows(&result.series);
        assert_eq!(rows.len(), 2, "one row per n");
        // Six data kinds at each n, and the search's winner where a search ran (it is one more kind
        // the hardest is chosen among, so its error joins the level).
        let searched = |n: usize| result.searches.iter().filter(|r| r.n == n && r.fresh.is_some()).count();
        assert_eq!(searched(4), 1, "{:?}", result.searches);
        assert!(rows.iter().all(|r| r.kinds == 6 + searched(r.n) && r.level > 0.9 && r.level < 1.0), "{rows:?}");
        // Contrary results: at n = 4 sphere data alone refutes a width, and far above the rest.
        let set = |result: &mut ScalingResult, data: &str, n: usize, lower: Option<usize>, upper: Option<usize>| {
            for s in result.series.iter_mut().filter(|s| s.data == data) {
                for p in s.points.iter_mut().filter(|p| p.n == n) {
                    p.threshold.search.threshold = Threshold { lower, upper, undetermined: None };
                }
            }
        };
        for s in ["sphere", "antipodal", "clusters", "xor", "circle-random", "bottom-eigenvector", SEARCHED] {
            set(&mut result, s, 4, None, Some(64));
            set(&mut result, s, 8, None, Some(1));
        }
        set(&mut result, "sphere", 4, Some(4096), Some(8192));
        set(&mut result, "xor", 8, Some(32), Some(64));
        set(&mut result, "clusters", 8, Some(32), Some(64));
        let rows = hardest_rows(&result.series);
        assert_eq!((rows[0].data.as_str(), rows[0].threshold.lower), ("sphere", Some(4096)));
        assert!(rows[0].ties.is_empty());
        assert_eq!((rows[1].data.as_str(), rows[1].ties.clone()), ("clusters", vec!["xor".to_string()]));
        // The envelope at each n is (largest lower, largest upper], and its exponent over n is the
        // fit of those intervals: from (4096, 8192] at n = 4 to (32, 64] at n = 8, a box [−8, −6].
        let t = |l, u| Some(Threshold { lower: Some(l), upper: Some(u), undetermined: None });
        assert_eq!((rows[0].envelope.clone(), rows[1].envelope.clone()), (t(4096, 8192), t(32, 64)));
        let exponents = hardest_exponents(&rows);
        assert_eq!(exponents.len(), 1);
        let fit = exponents[0].fit.as_ref().expect("two n");
        let (lo, hi) = (fit.slope_box.lower.unwrap(), fit.slope_box.upper.unwrap());
        assert!((lo + 8.0).abs() < 1e-9 && (hi + 6.0).abs() < 1e-9, "{fit:?}");
        let error: f64 = rows.iter().map(|r| r.error).sum();
        assert!((exponents[0].level - (1.0 - error - (1.0 - FIT_CONFIDENCE))).abs() < 1e-12);
        // The λ0-regression recovers a planted law m* = 10·n·λ0⁻² written into every data set's
        // threshold (to a width of 1 in m*, far below the law's own spread over the data sets).
        let mut planted = result.clone();
        for s in planted.series.iter_mut().filter(|s| !s.data.is_empty()) {
            for p in &mut s.points {
                let v = (10.0 * p.n as f64 / p.lambda0.powi(2)).floor() as usize;
                p.threshold.search.threshold = Threshold { lower: Some(v), upper: Some(v + 1), undetermined: None };
            }
        }
        let regressions = lambda0_regressions(&planted.series);
        assert_eq!(regressions.len(), 1);
        let r = &regressions[0];
        assert_eq!((r.points, r.proof), (13, Some((2.0, 2.0))), "6 kinds at two n and one searched winner");
        let (n, l) = (r.n.as_ref().unwrap(), r.lambda0.as_ref().unwrap());
        assert!((n.slope.unwrap() - 1.0).abs() < 1e-3 && (l.slope.unwrap() - 2.0).abs() < 1e-3, "{n:?} {l:?}");
        assert!(n.interval.lower.unwrap() <= 1.0 && 1.0 <= n.interval.upper.unwrap());
        let error: f64 = planted
            .series
            .iter()
            .filter(|s| !s.data.is_empty())
            .flat_map(|s| &s.points)
            .map(|p| p.threshold.search.error_rate)
            .sum();
        assert!((r.level - (1.0 - error - (1.0 - FIT_CONFIDENCE))).abs() < 1e-12, "{}", r.level);
        // Nothing refuted at n = 8: no data set is named.
        set(&mut result, "xor", 8, None, Some(64));
        set(&mut result, "clusters", 8, None, Some(64));
        let rows = hardest_rows(&result.series);
        assert_eq!((rows[1].data.as_str(), rows[1].ties.len()), ("", 0), "{:?}", rows[1]);
        // The scaling profiles have no data labels, and no hardest rows.
        assert!(hardest_rows(&[SeriesResult { data: String::new(), ..result.series[0].clone() }]).is_empty());
    }

    #[derive(Default)]
    struct Memory {
        seeds: Mutex<HashMap<(String, usize, u64), SeedOutcome>>,
        puts: AtomicU64,
    }
    impl PointStore for Memory {
        fn get(&self, point: &str, m: usize, trial: u64) -> Option<SeedOutcome> {
            self.seeds.lock().unwrap().get(&(point.to_string(), m, trial)).cloned()
        }
        fn put(&self, point: &str, m: usize, trial: u64, outcome: &SeedOutcome) -> Result<(), LemmaError> {
            self.puts.fetch_add(1, Ordering::Relaxed);
            self.seeds.lock().unwrap().insert((point.to_string(), m, trial), outcome.clone());
            Ok(())
        }
    }

    fn run(plan: &ScalingPlan, store: &dyn PointStore, shard: Option<Shard>) -> Option<ScalingResult> {
        let ctx = ScalingContext { seeds: &NoProgress, points: &NoPointProgress, store, shard };
        run_plan(plan, &ctx).unwrap()
    }

    fn on_threads(threads: usize, plan: &ScalingPlan) -> ScalingResult {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(plan, &NoPointStore, None).unwrap())
    }

    /// The scaling-test profile (Lem 2.2 at n ∈ {4, 8} and δ ∈ {0.3, 0.2}; a few seconds in a
    /// debug build) is deterministic on 1 and 2 threads, and two shards merged into one store give
    /// the same result with nothing recomputed.
    #[test]
    fn the_scaling_test_profile_is_deterministic_and_shards_merge() {
        let plan = ScalingPlan::of(ScalingProfile::ScalingTest);
        let one = on_threads(1, &plan);
        let two = on_threads(2, &plan);
        let json = |r: &ScalingResult| serde_json::to_string(r).unwrap();
        assert_eq!(json(&one), json(&two));
        let store = Memory::default();
        for k in 0..2 {
            assert!(run(&plan, &store, Some(Shard::new(k, 2).unwrap())).is_none());
        }
        let computed = store.puts.load(Ordering::Relaxed);
        let merged = run(&plan, &store, None).unwrap();
        assert_eq!(store.puts.load(Ordering::Relaxed), computed, "the merge recomputed nothing");
        assert_eq!(json(&merged), json(&one));
        // And the result says something: every threshold is located between a refuted and a
        // supported width, far below the proof's width.
        for p in one.series.iter().flat_map(|s| &s.points) {
            let t = &p.threshold.search.threshold;
            let (lo, hi) = (t.lower.unwrap(), t.upper.unwrap());
            assert!(lo < hi && (hi as f64) < p.proof_width, "{}: ({lo}, {hi}] vs {}", p.key, p.proof_width);
        }
        assert_eq!(one.findings.sanity_failures, 0);
    }

    #[test]
    fn lambda0_limit_matches_the_closed_form() {
        assert_eq!(lambda0_limit(16, 16), Some(0.25));
        assert!((lambda0_limit(16, 64).unwrap() - (0.25 + 0.25 * 0.25)).abs() < 1e-15);
        assert_eq!(lambda0_limit(16, 8), None);
    }

    /// λ0 of sphere data from the generator and the kernel approaches ¼ + ¼(1 − √(n/d))²: a wrong
    /// H∞ (e.g. θ/(2π) for (π − θ)/(2π)) or non-uniform inputs would land elsewhere.
    #[test]
    fn lambda0_on_the_sphere_approaches_its_limit() {
        for (n, d) in [(120, 120), (120, 480)] {
            let data = model::Dataset::sphere(n, d, 1, 0).unwrap();
            let l0 = model::lambda_min(model::h_infinity(data.input_gram()).as_ref()).unwrap();
            let limit = lambda0_limit(n, d).unwrap();
            assert!((l0 - limit).abs() < 0.1 * limit, "n = {n}, d = {d}: λ0 = {l0}, limit {limit}");
        }
    }

    /// The forecast from a record charges each point its recorded seeds at their widths, and the
    /// bound for unrecorded points (every width at its last look, at the largest width) lies
    /// above it; a flow or GD seed costs more than an init-only one of the same size.
    #[test]
    fn the_forecast_follows_the_record_and_stays_below_its_bound() {
        let plan = ScalingPlan::of(ScalingProfile::ScalingTest);
        let points = plan.points();
        let record = run(&plan, &NoPointStore, None).unwrap();
        let f = forecast(&points, Some(&record), 2).unwrap();
        assert_eq!((f.known, f.total, f.unknown_seconds_bound), (points.len(), points.len(), 0.0));
        let by_hand: f64 = record
            .series
            .iter()
            .flat_map(|s| &s.points)
            .map(|p| (p.key.clone(), p))
            .collect::<std::collections::BTreeMap<_, _>>()
            .values()
            .map(|p| {
                let pt = points.iter().find(|q| q.key == p.key).unwrap();
                let t = &p.threshold;
                t.search
                    .tests
                    .iter()
                    .map(|w| w.seeds as f64 * seed_flops(pt.claim, &pt.config, t.lambda0, w.m))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / (2.0 * FORECAST_FLOPS_PER_THREAD);
        assert!((f.known_seconds - by_hand).abs() <= 1e-12 * by_hand, "{} vs {by_hand}", f.known_seconds);
        let none = forecast(&points, None, 2).unwrap();
        assert_eq!(none.known, 0);
        assert!(none.unknown_seconds_bound > f.known_seconds, "{none:?} vs {f:?}");
        let cfg = base(8, 8, 0.1, 0);
        let init = seed_flops(ClaimId::Lem22, &cfg, 0.2, 1000);
        assert!(seed_flops(ClaimId::Thm21, &flow(cfg.clone()), 0.2, 1000) > 100.0 * init);
        assert!(seed_flops(ClaimId::Thm31, &gd(cfg), 0.2, 1000) > 100.0 * init);
    }

    /// Every profile's points are valid and have distinct keys.
    #[test]
    fn every_profile_has_valid_points() {
        for p in ScalingProfile::ALL {
            let plan = ScalingPlan::of(p);
            let points = plan.points();
            assert!(!points.is_empty());
            for pt in &points {
                crate::threshold::preflight(pt.claim, &pt.event, &pt.config, &pt.search)
                    .unwrap_or_else(|e| panic!("{}: {e}", pt.key));
            }
            let mut keys: Vec<&str> = points.iter().map(|p| p.key.as_str()).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), points.len());
        }
    }

    /// The hardest profile runs a flow configuration only when its search fits the budget under the
    /// flop model, and lists every other with its cost; the dearest data (clusters, λ0 ≈ 2·10⁻³ at
    /// n = 4) are left out, sphere data at n = 4 are run; `only` keeps the claims' left-outs.
    #[test]
    fn the_hardest_profile_leaves_out_exactly_the_flows_over_budget() {
        let plan = ScalingPlan::of(ScalingProfile::Hardest);
        for p in plan.points().iter().filter(|p| matches!(p.claim, ClaimId::Thm21 | ClaimId::Lem25)) {
            let lambda0 = p.claim.claim().prepare(&p.config).unwrap().lambda0();
            let bound = p.search.max_seeds() as f64 * seed_seconds(p.claim, &p.config, lambda0, p.search.max_width);
            assert!(bound <= HARD_POINT_BUDGET, "{}: {bound}", p.key);
        }
        assert!(!plan.left_out.is_empty());
        for l in &plan.left_out {
            assert!(l.bound_seconds > HARD_POINT_BUDGET && l.reason.contains("over the"), "{l:?}");
        }
        let left = |data: &str, n: usize| plan.left_out.iter().any(|l| l.data == data && l.n == n);
        assert!(left("clusters", 4) && !left("sphere", 4));
        let sphere4 = plan
            .series
            .iter()
            .any(|s| s.claim == ClaimId::Thm21 && s.data == "sphere" && s.configs.iter().any(|c| c.n == 4));
        assert!(sphere4, "sphere data at n = 4 run for Thm 2.1");
        let only = ScalingPlan::of(ScalingProfile::Hardest).only(&[ClaimId::Lem22]);
        assert!(only.left_out.is_empty());
        let thm = ScalingPlan::of(ScalingProfile::Hardest).only(&[ClaimId::Thm21]);
        assert!(thm.left_out.iter().all(|l| l.claim == ClaimId::Thm21) && !thm.left_out.is_empty());
    }
}

#[cfg(test)]
mod data_search_tests {
    use super::*;
    use crate::data_search::tests::quick;
    use crate::data_search::{DataSearchConfig, Stop};
    use crate::engine::NoProgress;

    /// Antipodal pairs at n = 4, d = 3 (±1 labels, ‖y‖² = n); Lem 2.2 needs m* in (1024, 2896] on them.
    fn start() -> CheckConfig {
        let data = DataKind::Family { family: crate::FamilyName(model::Family::Antipodal), epsilon: 0.05, clusters: 2 };
        CheckConfig { n: 4, d: 3, data, widths: vec![1], delta: 0.2, seeds: 1, ..CheckConfig::default() }
    }

    /// The search never moves below the start's λ0, replaces the incumbent only on strictly more
    /// failures on the same seeds, keeps its winner on the sphere with ‖y‖² = n, and is the same on
    /// one thread and on two.
    #[test]
    fn the_search_climbs_at_matched_lambda0_and_repeats_on_any_thread() {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                search_data(ClaimId::Lem22, "statement", &start(), 1024, &quick(), 11, "k", &NoPointStore, &NoProgress)
                    .unwrap()
            })
        };
        let one = run(1);
        assert_eq!(one, run(2), "the same search on 1 and 2 threads");
        let floor = model::lambda0(&crate::data::make_data(&start()).unwrap()).unwrap();
        assert!(one.winner_lambda0 >= floor, "{} < {floor}", one.winner_lambda0);
        for s in &one.steps {
            assert_eq!(s.accepted, s.best.is_some_and(|b| b > s.incumbent), "{s:?}");
        }
        let n = 4;
        let given = &one.winner;
        for i in 0..n {
            let norm: f64 = given.x[i * 3..i * 3 + 3].iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12);
        }
        let norm_sq: f64 = given.y.iter().map(|v| v * v).sum();
        assert!((norm_sq - n as f64).abs() < 1e-9);
        assert!(one.winner_failures >= one.start_failures);
        assert_eq!(one.sanity_failures, 0);
    }

    /// At a width where the event holds on every seed, nothing beats the incumbent: the search
    /// stops for patience and returns the start itself.
    #[test]
    fn where_nothing_fails_the_search_keeps_the_start() {
        let out =
            search_data(ClaimId::Lem22, "statement", &start(), 1 << 18, &quick(), 3, "k", &NoPointStore, &NoProgress);
        let out = out.unwrap();
        assert_eq!(out.stop, Stop::Patience);
        assert!(out.steps.iter().all(|s| !s.accepted && s.incumbent == 0));
        let first = crate::data::make_data(&start()).unwrap();
        assert_eq!(out.winner, GivenData::of(&first, "searched from antipodal", 3));
    }

    #[test]
    fn a_search_that_cannot_run_is_refused() {
        let bad = DataSearchConfig { steps: 0, ..quick() };
        let err = search_data(ClaimId::Lem22, "statement", &start(), 64, &bad, 1, "k", &NoPointStore, &NoProgress);
        assert!(err.unwrap_err().to_string().contains("steps"));
        let bad = DataSearchConfig { sigma_min: 1.0, ..quick() };
        assert!(
            search_data(ClaimId::Lem22, "statement", &start(), 64, &bad, 1, "k", &NoPointStore, &NoProgress).is_err()
        );
        let err = search_data(ClaimId::Lem22, "nothing", &start(), 64, &quick(), 1, "k", &NoPointStore, &NoProgress);
        assert!(err.unwrap_err().to_string().contains("nothing"));
    }
}
