//! The paper's Fig. 1 (Sec. 5): full-batch GD on sphere data for several widths and independent initialisations.
//!
//! Its outputs: loss, pattern changes, distance, λmin(H(k)), the gap to u∞(k), bands over seeds and
//! the slope of the gap against m with an interval.
//! The experiment is described in docs/theory.md §2.8; the seeds follow docs/theory.md §3.5.
//! One data set (trial 0 of the master seed's input and label streams) is shared by every run;
//! what varies across seeds is the initialisation. By default each (width, seed) pair draws its
//! own init from its own stream ([`Nesting::Independent`], trial [`init_trial`]), so two widths
//! share nothing and a curve over m is as noisy as independent experiments are. The labelled
//! option [`Nesting::Nested`] (common random numbers) gives seed s the same stream at every width,
//! so a narrower init is a prefix of a wider one: smoother pictures, not independent evidence.
//!
//! Everything a page states as a finding is computed here ([`Figure1Findings`]) from the runs it
//! describes, by [`Figure1Result::assemble`], which the tests also feed with synthetic runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use descent::{DescentConfig, LearningRate, Method, Problem, Recorder, RecorderOptions, Status};
use model::{Dataset, InfiniteWidth, Network, h_infinity};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::LemmaError;

/// How the initialisations of different widths relate (docs/theory.md §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nesting {
    /// Every (width, seed) pair has its own stream: independent draws (the default).
    #[default]
    Independent,
    /// Common random numbers: seed s uses one stream at every width, so the width-m′ init is the
    /// first m′ neurons of the width-m init. For pictures only; widths are then not independent.
    Nested,
}

impl Nesting {
    /// The label a page prints.
    pub fn label(self) -> &'static str {
        match self {
            Nesting::Independent => "independent across widths and seeds",
            Nesting::Nested => "nested across widths (common random numbers)",
        }
    }
}

/// The most initialisations per width a configuration may ask for.
pub const MAX_SEEDS: usize = 1 << 20;
/// The largest width a configuration may ask for (the width is part of the stream index).
pub const MAX_WIDTH: usize = u32::MAX as usize;
/// "Converged" for the speed comparison: L(k) ≤ LOSS_TARGET · L(0), well above rounding level.
pub const LOSS_TARGET: f64 = 1e-10;

/// The trial of the init streams of width m, seed index s (data use trial 0).
///
/// Independent: (s + 1)·2³² + m, distinct for every (m, s) and never a nested trial.
/// Nested: 1 + s at every width (seed 0 is the single init of earlier versions).
pub fn init_trial(m: usize, seed_index: usize, nesting: Nesting) -> u64 {
    match nesting {
        Nesting::Independent => ((seed_index as u64 + 1) << 32) | m as u64,
        Nesting::Nested => 1 + seed_index as u64,
    }
}

/// q^k with the same multiplications in every build, for the crates that draw the bound without
/// depending on `model`.
pub use model::integer_power as power;

/// The initialisation of width m, seed index s: `Network::init` on the trial [`init_trial`].
pub fn initialisation(cfg: &Figure1Config, m: usize, seed_index: usize) -> Result<Network, LemmaError> {
    Ok(Network::init(m, cfg.d, cfg.seed, init_trial(m, seed_index, cfg.nesting))?)
}

/// Configuration of the Fig. 1 experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Config {
    /// Number of inputs n (the paper: 1000).
    pub n: usize,
    /// Input dimension d (the paper: 1000).
    pub d: usize,
    /// Widths m.
    pub widths: Vec<usize>,
    /// Iterations (the paper: 100).
    pub iterations: usize,
    /// Fixed step η; `None` chooses η = 1/λmax(H∞) rounded down to two significant digits.
    pub eta: Option<f64>,
    /// Master seed of data and initialisations.
    pub seed: u64,
    /// Initialisations S per width.
    pub seeds: usize,
    /// Independent streams per (width, seed), or nested widths (common random numbers).
    pub nesting: Nesting,
    /// Confidence of the slope's Student-t interval.
    pub confidence: f64,
    /// Record λmin(H(k)) every this many iterations (0 = never; it costs O(n³) each time).
    pub lambda_min_every: usize,
    /// Epochs of the GD-against-SGD comparison at the middle width (0 = skip it).
    pub sgd_epochs: usize,
    /// SGD batch size of that comparison.
    pub sgd_batch_size: usize,
}

impl Figure1Config {
    /// The quick profile: n = d = 100, widths 100 … 6400, 100 iterations, 6 seeds (the docs
    /// freshness test runs it in a debug build: about 1.6× the time of one seed at widths up to 25600).
    pub fn quick() -> Self {
        Figure1Config {
            n: 100,
            d: 100,
            widths: vec![100, 400, 1_600, 6_400],
            iterations: 100,
            eta: None,
            seed: 0,
            seeds: 6,
            nesting: Nesting::Independent,
            confidence: 0.95,
            lambda_min_every: 1,
            sgd_epochs: 30,
            sgd_batch_size: 10,
        }
    }
    /// The paper profile: n = d = 1000, widths 1000 … 16000, 100 iterations, 6 seeds.
    pub fn paper() -> Self {
        Figure1Config {
            n: 1000,
            d: 1000,
            widths: vec![1_000, 2_000, 4_000, 8_000, 16_000],
            iterations: 100,
            eta: None,
            seed: 0,
            seeds: 6,
            nesting: Nesting::Independent,
            confidence: 0.95,
            lambda_min_every: 5,
            sgd_epochs: 10,
            sgd_batch_size: 100,
        }
    }

    /// FNV-1a (64 bits) of "figure1|" and the configuration's JSON, in hex.
    pub fn fingerprint(&self) -> String {
        // A derived struct of numbers and enums: serialising it cannot fail.
        crate::config::fnv_hex(&format!("figure1|{}", serde_json::to_string(self).unwrap_or_default()))
    }

    fn validate(&self) -> Result<(), LemmaError> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(LemmaError::Config { name, value, reason: reason.into() })
        };
        if self.widths.is_empty() || self.widths.contains(&0) {
            return bad("widths", format!("{:?}", self.widths), "give at least one positive width");
        }
        if let Some(&m) = self.widths.iter().find(|&&m| m > MAX_WIDTH) {
            return bad("widths", m.to_string(), "a width must be below 2^32");
        }
        if self.iterations == 0 {
            return bad("iterations", "0".into(), "need at least one");
        }
        if self.seeds == 0 || self.seeds > MAX_SEEDS {
            return bad("seeds", self.seeds.to_string(), "give between 1 and 2^20 initialisations per width");
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return bad("confidence", self.confidence.to_string(), "a confidence lies strictly between 0 and 1");
        }
        Ok(())
    }
}

/// The curves of one run, entry k for iteration k = 0, 1, …
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Figure1Curves {
    /// L(k) = ½‖y − u(k)‖² (panel a).
    pub loss: Vec<f64>,
    /// Pattern-change fraction (panel b).
    pub pattern_change_fraction: Vec<f64>,
    /// max_r ‖w_r(k) − w_r(0)‖ (panel c).
    pub max_weight_distance: Vec<f64>,
    /// λmin(H(k)) where recorded (panel d).
    pub lambda_min_h: Vec<Option<f64>>,
    /// ‖u(k) − u∞(k)‖ with u∞(k) = y + (I − ηH∞)^k (u(0) − y) (panel e).
    pub infinite_width_gap: Vec<f64>,
}

/// One quantity of the curves (a panel of the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// L(k).
    Loss,
    /// Pattern-change fraction.
    PatternChange,
    /// max_r ‖w_r(k) − w_r(0)‖.
    Distance,
    /// λmin(H(k)).
    LambdaMin,
    /// ‖u(k) − u∞(k)‖.
    Gap,
}

impl Figure1Curves {
    /// The values of one panel, entry k for iteration k (None where not recorded).
    pub fn panel(&self, panel: Panel) -> Vec<Option<f64>> {
        match panel {
            Panel::Loss => self.loss.iter().map(|&v| Some(v)).collect(),
            Panel::PatternChange => self.pattern_change_fraction.iter().map(|&v| Some(v)).collect(),
            Panel::Distance => self.max_weight_distance.iter().map(|&v| Some(v)).collect(),
            Panel::LambdaMin => self.lambda_min_h.clone(),
            Panel::Gap => self.infinite_width_gap.iter().map(|&v| Some(v)).collect(),
        }
    }
}

/// The run of one (width, seed) pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Run {
    /// Seed index s (0-based).
    pub seed_index: usize,
    /// The trial of its init streams ([`init_trial`]).
    pub trial: u64,
    /// "completed", or "diverged at iteration k".
    pub status: String,
    /// Its curves, every iteration.
    pub curves: Figure1Curves,
    /// max_k ‖u(k) − u∞(k)‖.
    pub max_infinite_width_gap: f64,
}

impl Figure1Run {
    /// The run completed its iterations.
    pub fn completed(&self) -> bool {
        self.status == "completed"
    }
}

/// All seeds of one width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Width {
    /// Width m.
    pub m: usize,
    /// One run per seed, in seed order.
    pub runs: Vec<Figure1Run>,
}

/// The band of one curve at iteration k: min, median and max over the seeds that have a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BandPoint {
    /// Iteration k.
    pub k: usize,
    /// Smallest value over the seeds.
    pub low: f64,
    /// Median over the seeds.
    pub median: f64,
    /// Largest value over the seeds.
    pub high: f64,
    /// Seeds with a finite value at k.
    pub seeds: usize,
}

impl Figure1Width {
    /// The min–max band and the median over seeds of one panel, at every iteration where some
    /// seed has a finite value.
    pub fn band(&self, panel: Panel) -> Vec<BandPoint> {
        let curves: Vec<Vec<Option<f64>>> = self.runs.iter().map(|r| r.curves.panel(panel)).collect();
        let len = curves.iter().map(Vec::len).max().unwrap_or(0);
        (0..len)
            .filter_map(|k| {
                let vals: Vec<f64> =
                    curves.iter().filter_map(|c| c.get(k).copied().flatten()).filter(|v| v.is_finite()).collect();
                (!vals.is_empty()).then(|| BandPoint {
                    k,
                    low: vals.iter().copied().fold(f64::INFINITY, f64::min),
                    median: median(&vals),
                    high: vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    seeds: vals.len(),
                })
            })
            .collect()
    }
}

/// The slope of ln max_k ‖u(k) − u∞(k)‖ against ln m, per seed and over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapSlope {
    /// Per seed index: the least-squares slope over the widths, or None when that seed's run did
    /// not complete with a positive gap at every width (such a seed is left out).
    pub per_seed: Vec<Option<f64>>,
    /// Seeds whose slope enters the summary.
    pub seeds_used: usize,
    /// Mean of the per-seed slopes.
    pub mean: f64,
    /// Their sample standard deviation (None with one seed).
    pub standard_deviation: Option<f64>,
    /// Student-t interval for the mean slope at `confidence` (None with fewer than two seeds).
    pub interval: Option<(f64, f64)>,
    /// Its confidence.
    pub confidence: f64,
}

/// Median and range over seeds of one per-run number at one width (None: not reached / no run).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WidthStat {
    /// Width m.
    pub m: usize,
    /// Median over seeds; None when it is "not reached".
    pub median: Option<f64>,
    /// Smallest value; None when no seed reached it.
    pub low: Option<f64>,
    /// Largest value; None when some seed did not reach it.
    pub high: Option<f64>,
    /// Seeds counted.
    pub seeds: usize,
}

/// How the medians move as m grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Strictly smaller at every larger width.
    Falls,
    /// Never larger at a larger width, but equal somewhere.
    NeverRises,
    /// Larger at the wider of two adjacent widths (the first such pair).
    Rises {
        /// The narrower width.
        from_m: usize,
        /// The wider width.
        to_m: usize,
    },
}

/// A per-run number against width: medians, ranges and the direction of the medians.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// One entry per width, in the configuration's order.
    pub per_width: Vec<WidthStat>,
    /// Direction of the medians (None with fewer than two widths).
    pub direction: Option<Direction>,
    /// Every seed of each wider width lies below every seed of the next narrower one.
    pub separated: bool,
}

/// The loss against the form of Thm 3.1's bound, (1 − ηλ0/2)^k L(0), at Fig. 1's η.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundComparison {
    /// q = 1 − ηλ0/2.
    pub q: f64,
    /// Runs compared (every width and seed).
    pub runs: usize,
    /// Runs whose loss exceeds q^k L(0) at some iteration.
    pub runs_above_bound: usize,
    /// The first such (m, seed index, k), widths in order.
    pub first_above: Option<(usize, usize, usize)>,
    /// Per run, the loss factor per iteration (L(k₁)/L(0))^(1/k₁), with k₁ the first iteration
    /// where L ≤ LOSS_TARGET·L(0) (the last iteration if never): smallest and largest over runs
    /// (None when no run has one).
    pub factor_range: Option<(f64, f64)>,
    /// Runs whose factor is below q (faster than the bound's rate).
    pub runs_faster: usize,
    /// Runs whose factor is above q (slower).
    pub runs_slower: usize,
}

/// λmin(H(k)) against λ0/2 at one width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LambdaMinRow {
    /// Width m.
    pub m: usize,
    /// Runs with λmin(H(k)) recorded.
    pub runs: usize,
    /// Runs where some recorded λmin(H(k)) < λ0/2.
    pub runs_below_half_lambda0: usize,
    /// Smallest recorded λmin(H(k)) over seeds and iterations.
    pub smallest: Option<f64>,
}

/// Everything the page states as a finding, computed from the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Findings {
    /// Iterations until L(k) ≤ LOSS_TARGET·L(0) (convergence speed, panel a).
    pub iterations_to_target: Trend,
    /// Final pattern-change fraction of completed runs (panel b).
    pub final_pattern_change: Trend,
    /// Final max_r ‖w_r − w_r(0)‖ of completed runs (panel c).
    pub final_max_distance: Trend,
    /// max_k ‖u(k) − u∞(k)‖ of completed runs (panel e).
    pub max_infinite_width_gap: Trend,
    /// The loss against the bound's form.
    pub bound: BoundComparison,
    /// λmin(H(k)) against λ0/2, per width (panel d).
    pub lambda_min: Vec<LambdaMinRow>,
    /// Runs that diverged.
    pub diverged_runs: usize,
}

/// The whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure1Result {
    /// Its configuration.
    pub config: Figure1Config,
    /// [`Figure1Config::fingerprint`] of `config`: `figure1 --from-json` recomputes it and refuses
    /// a configuration edited after the runs were computed.
    #[serde(default)]
    pub fingerprint: String,
    /// The step used.
    pub eta: f64,
    /// How η was chosen.
    pub eta_rule: String,
    /// λ0 = λmin(H∞).
    pub lambda0: f64,
    /// λmax(H∞).
    pub lambda_max_infinity: f64,
    /// One entry per width, each with one run per seed.
    pub widths: Vec<Figure1Width>,
    /// Slope of ln max-gap against ln m (≈ −1/2 expected) with its interval over seeds; None with
    /// fewer than two widths or no seed usable.
    pub gap_slope: Option<GapSlope>,
    /// The findings the page states.
    pub findings: Figure1Findings,
    /// GD against minibatch SGD from the same init (the slide deck's closing question): at
    /// Fig. 1's η, and at η·b/n (the step whose per-example size matches GD's).
    pub sgd: Vec<SgdSummary>,
}

/// Full-batch GD against minibatch SGD at one width, by epoch (about n examples seen per epoch),
/// from each of the width's S initialisations (the same inits as Fig. 1's runs at that width).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdSummary {
    /// Width m.
    pub m: usize,
    /// Batch size b.
    pub batch_size: usize,
    /// Common step η.
    pub eta: f64,
    /// SGD steps per epoch ⌈n/b⌉.
    pub steps_per_epoch: usize,
    /// One comparison per initialisation, in seed order (SGD's batches from a stream of their own per seed).
    pub runs: Vec<SgdRun>,
    /// Per epoch: min, median and max over the seeds of each quantity.
    pub by_epoch: Vec<SgdEpochBand>,
    /// Seeds whose two runs both completed, and among them those where SGD's final loss is below GD's.
    pub final_loss_sgd_lower: (usize, usize),
}

/// One epoch of an [`SgdRun`]: (e, GD loss, SGD loss, GD pattern change, SGD pattern change, GD max
/// distance, SGD max distance).
pub type EpochRow = (usize, f64, f64, f64, f64, f64, f64);

/// GD against SGD from one initialisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdRun {
    /// Seed index s (0-based): the init of Fig. 1's run (m, s).
    pub seed_index: usize,
    /// "completed" or "diverged at iteration k", for GD and SGD.
    pub status: (String, String),
    /// Per epoch e: (e, GD loss, SGD loss, GD pattern change, SGD pattern change, GD max distance, SGD max distance).
    pub by_epoch: Vec<EpochRow>,
}

impl SgdRun {
    /// Both runs completed their epochs.
    pub fn completed(&self) -> bool {
        self.status.0 == "completed" && self.status.1 == "completed"
    }
}

/// One epoch of the GD-against-SGD comparison over seeds: (min, median, max) of each quantity
/// over the seeds that reached the epoch with a finite value (None: no such seed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SgdEpochBand {
    /// Epoch e.
    pub epoch: usize,
    /// Seeds that reached it.
    pub seeds: usize,
    /// GD loss.
    pub gd_loss: Option<(f64, f64, f64)>,
    /// SGD loss.
    pub sgd_loss: Option<(f64, f64, f64)>,
    /// GD pattern-change fraction.
    pub gd_pattern_change: Option<(f64, f64, f64)>,
    /// SGD pattern-change fraction.
    pub sgd_pattern_change: Option<(f64, f64, f64)>,
    /// GD max_r ‖w_r − w_r(0)‖.
    pub gd_max_distance: Option<(f64, f64, f64)>,
    /// SGD max_r ‖w_r − w_r(0)‖.
    pub sgd_max_distance: Option<(f64, f64, f64)>,
}

/// Runs Fig. 1: every (width, seed) pair, in parallel, collected in order (so the result does
/// not depend on the thread count). `progress(done, total)` counts finished runs.
pub fn run(cfg: &Figure1Config, progress: impl Fn(usize, usize) + Sync) -> Result<Figure1Result, LemmaError> {
    cfg.validate()?;
    let data = Dataset::sphere(cfg.n, cfg.d, cfg.seed, 0)?;
    let infinite = Arc::new(InfiniteWidth::from_kernel_spectrum(h_infinity(data.input_gram())).map_err(dynamics)?);
    let (lambda0, lambda_max) = (infinite.lambda0(), infinite.lambda_max());
    let (eta, eta_rule) = match cfg.eta {
        Some(eta) => {
            if !(eta.is_finite() && eta > 0.0) {
                return Err(LemmaError::Config {
                    name: "eta",
                    value: eta.to_string(),
                    reason: "η must be positive".into(),
                });
            }
            (eta, "given on the command line".to_string())
        }
        None => {
            let raw = 1.0 / lambda_max;
            let scale = 10f64.powi(raw.log10().floor() as i32 - 1);
            let eta = (raw / scale).floor() * scale;
            (
                eta,
                format!(
                    "η = 1/λmax(H∞) = {raw:.4} rounded down to two significant digits (half the stability limit 2/λmax of the infinite-width dynamics)"
                ),
            )
        }
    };
    let jobs: Vec<(usize, usize)> = cfg.widths.iter().flat_map(|&m| (0..cfg.seeds).map(move |s| (m, s))).collect();
    let total = jobs.len();
    let done = AtomicUsize::new(0);
    let runs: Vec<Figure1Run> = jobs
        .par_iter()
        .map(|&(m, s)| {
            let r = one_run(cfg, &data, &infinite, eta, m, s);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            r
        })
        .collect::<Result<_, _>>()?;
    let mut runs = runs.into_iter();
    let widths =
        cfg.widths.iter().map(|&m| Figure1Width { m, runs: runs.by_ref().take(cfg.seeds).collect() }).collect();
    let b = cfg.sgd_batch_size.clamp(1, cfg.n);
    let sgd = if cfg.sgd_epochs > 0 {
        vec![sgd_summary(cfg, &data, eta)?, sgd_summary(cfg, &data, eta * b as f64 / cfg.n as f64)?]
    } else {
        Vec::new()
    };
    Ok(Figure1Result::assemble(cfg.clone(), eta, eta_rule, lambda0, lambda_max, widths, sgd))
}

fn one_run(
    cfg: &Figure1Config,
    data: &Dataset,
    infinite: &Arc<InfiniteWidth>,
    eta: f64,
    m: usize,
    seed_index: usize,
) -> Result<Figure1Run, LemmaError> {
    let net = initialisation(cfg, m, seed_index)?;
    let dcfg = DescentConfig {
        learning_rate: LearningRate::Fixed(eta),
        iterations: cfg.iterations,
        method: Method::KernelSpace,
        ..DescentConfig::default()
    };
    let problem = Problem::with_infinite_width(data, &net, &dcfg, infinite.clone()).map_err(dynamics)?;
    // Every iterate is a sample; λmin(H(k)) at every `lambda_min_every`-th (warm-started).
    let mut rec = Recorder::new(infinite, RecorderOptions { lambda_min_every: cfg.lambda_min_every, keep_u: false });
    let outcome = problem.run(&mut rec).map_err(dynamics)?;
    let traj = rec.into_trajectory();
    let mut curves = Figure1Curves::default();
    for s in &traj.samples {
        curves.loss.push(s.loss);
        curves.pattern_change_fraction.push(s.pattern_change_fraction);
        curves.max_weight_distance.push(s.max_weight_distance);
        curves.lambda_min_h.push(s.lambda_min_h);
        curves.infinite_width_gap.push(s.u_infinity_gap);
    }
    let status = status_text(outcome.status);
    let max_gap = curves.infinite_width_gap.iter().copied().fold(0.0, f64::max);
    Ok(Figure1Run {
        seed_index,
        trial: init_trial(m, seed_index, cfg.nesting),
        status,
        curves,
        max_infinite_width_gap: max_gap,
    })
}

impl Figure1Result {
    /// A result from its runs: the slope of the gap with its interval and the findings are
    /// computed here (the tests feed synthetic runs through this, too).
    pub fn assemble(
        config: Figure1Config,
        eta: f64,
        eta_rule: String,
        lambda0: f64,
        lambda_max_infinity: f64,
        widths: Vec<Figure1Width>,
        sgd: Vec<SgdSummary>,
    ) -> Figure1Result {
        let gap_slope = gap_slope(&widths, config.confidence);
        let findings = findings(&widths, eta, lambda0);
        let fingerprint = config.fingerprint();
        Figure1Result {
            config,
            fingerprint,
            eta,
            eta_rule,
            lambda0,
            lambda_max_infinity,
            widths,
            gap_slope,
            findings,
            sgd,
        }
    }

    /// Every run, widths in order, seeds in order.
    pub fn runs(&self) -> impl Iterator<Item = (usize, &Figure1Run)> {
        self.widths.iter().flat_map(|w| w.runs.iter().map(move |r| (w.m, r)))
    }
}

/// Least-squares slope of y on x (None with fewer than two distinct x or a non-finite value).
pub fn least_squares_slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 || points.iter().any(|p| !(p.0.is_finite() && p.1.is_finite())) {
        return None;
    }
    let k = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / k, points.iter().map(|p| p.1).sum::<f64>() / k);
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The mean of i.i.d. values with its spread and Student-t interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanInterval {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation (None with one value).
    pub standard_deviation: Option<f64>,
    /// mean ± t_{(1+c)/2, S−1} · sd/√S (None with one value).
    pub interval: Option<(f64, f64)>,
}

/// Mean, sample standard deviation and the two-sided Student-t interval
/// mean ± t_{(1+c)/2, S−1} · sd/√S of i.i.d. values (None for no values).
pub fn t_interval(values: &[f64], confidence: f64) -> Option<MeanInterval> {
    if values.is_empty() {
        return None;
    }
    let s = values.len() as f64;
    let mean = values.iter().sum::<f64>() / s;
    if values.len() < 2 {
        return Some(MeanInterval { mean, standard_deviation: None, interval: None });
    }
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (s - 1.0)).sqrt();
    // values.len() ≥ 2 (checked above), so the freedom S − 1 ≥ 1 > 0; inverse_cdf needs (1 + c)/2 ∈ [0, 1],
    // and the only caller passes a confidence Figure1Config::validate checked to lie in (0, 1).
    let t =
        StudentsT::new(0.0, 1.0, s - 1.0).expect("S − 1 ≥ 1 degrees of freedom").inverse_cdf((1.0 + confidence) / 2.0);
    let half = t * sd / s.sqrt();
    Some(MeanInterval { mean, standard_deviation: Some(sd), interval: Some((mean - half, mean + half)) })
}

fn gap_slope(widths: &[Figure1Width], confidence: f64) -> Option<GapSlope> {
    if widths.len() < 2 {
        return None;
    }
    let seeds = widths.iter().map(|w| w.runs.len()).max().unwrap_or(0);
    let per_seed: Vec<Option<f64>> = (0..seeds)
        .map(|s| {
            let pts: Option<Vec<(f64, f64)>> = widths
                .iter()
                .map(|w| {
                    let r = w.runs.iter().find(|r| r.seed_index == s)?;
                    (r.completed() && r.max_infinite_width_gap > 0.0)
                        .then(|| ((w.m as f64).ln(), r.max_infinite_width_gap.ln()))
                })
                .collect();
            least_squares_slope(&pts?)
        })
        .collect();
    let used: Vec<f64> = per_seed.iter().flatten().copied().collect();
    let MeanInterval { mean, standard_deviation, interval } = t_interval(&used, confidence)?;
    Some(GapSlope { seeds_used: used.len(), per_seed, mean, standard_deviation, interval, confidence })
}

/// Median of finite values (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    // Non-empty: both callers (band, SgdSummary::assemble) call it inside (!vals.is_empty()).then(…).
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

/// A trend over widths of one number per run; +∞ stands for "not reached".
fn trend(widths: &[Figure1Width], value: impl Fn(&Figure1Run) -> Option<f64>) -> Trend {
    let finite = |x: f64| x.is_finite().then_some(x);
    let mut meds = Vec::new();
    let mut per_width = Vec::new();
    for w in widths {
        let mut vals: Vec<f64> = w.runs.iter().filter_map(&value).collect();
        vals.sort_by(f64::total_cmp);
        let med = if vals.is_empty() {
            f64::NAN
        } else if vals.len() % 2 == 1 {
            vals[vals.len() / 2]
        } else {
            let (a, b) = (vals[vals.len() / 2 - 1], vals[vals.len() / 2]);
            if a.is_finite() && b.is_finite() { 0.5 * (a + b) } else { a.max(b) }
        };
        meds.push(med);
        per_width.push(WidthStat {
            m: w.m,
            median: finite(med),
            low: vals.first().copied().and_then(finite),
            high: vals.last().copied().and_then(finite),
            seeds: vals.len(),
        });
    }
    let direction = (meds.len() >= 2 && meds.iter().all(|v| !v.is_nan())).then(|| {
        let pairs: Vec<(usize, f64, f64)> = meds.windows(2).enumerate().map(|(i, p)| (i, p[0], p[1])).collect();
        if let Some(&(i, _, _)) = pairs.iter().find(|(_, a, b)| b > a) {
            Direction::Rises { from_m: widths[i].m, to_m: widths[i + 1].m }
        } else if pairs.iter().all(|(_, a, b)| b < a) {
            Direction::Falls
        } else {
            Direction::NeverRises
        }
    });
    let separated = widths.len() >= 2
        && widths.windows(2).all(|p| {
            let hi = p[1].runs.iter().filter_map(&value).fold(f64::NEG_INFINITY, f64::max);
            let lo = p[0].runs.iter().filter_map(&value).fold(f64::INFINITY, f64::min);
            hi < lo
        });
    Trend { per_width, direction, separated }
}

/// The first iteration k with L(k) ≤ LOSS_TARGET · L(0).
pub fn iterations_to_target(run: &Figure1Run) -> Option<usize> {
    let l0 = *run.curves.loss.first()?;
    run.curves.loss.iter().position(|&l| l <= LOSS_TARGET * l0)
}

/// (L(k₁)/L(0))^(1/k₁) with k₁ = [`iterations_to_target`] or the last iteration.
pub fn loss_factor_per_iteration(run: &Figure1Run) -> Option<f64> {
    let loss = &run.curves.loss;
    let l0 = *loss.first()?;
    let k1 = iterations_to_target(run).unwrap_or(loss.len() - 1);
    (k1 > 0 && l0 > 0.0).then(|| (loss[k1].max(0.0) / l0).powf(1.0 / k1 as f64))
}

fn findings(widths: &[Figure1Width], eta: f64, lambda0: f64) -> Figure1Findings {
    let iterations_to_target =
        trend(widths, |r| Some(iterations_to_target(r).filter(|_| r.completed()).map_or(f64::INFINITY, |k| k as f64)));
    let last = |v: &Vec<f64>| v.last().copied();
    let final_pattern_change =
        trend(widths, |r| r.completed().then(|| last(&r.curves.pattern_change_fraction)).flatten());
    let final_max_distance = trend(widths, |r| r.completed().then(|| last(&r.curves.max_weight_distance)).flatten());
    let max_infinite_width_gap = trend(widths, |r| r.completed().then_some(r.max_infinite_width_gap));

    let q = 1.0 - eta * lambda0 / 2.0;
    let mut bound = BoundComparison {
        q,
        runs: 0,
        runs_above_bound: 0,
        first_above: None,
        factor_range: None,
        runs_faster: 0,
        runs_slower: 0,
    };
    for w in widths {
        for r in &w.runs {
            let Some(&l0) = r.curves.loss.first() else { continue };
            bound.runs += 1;
            // A relative allowance of 1e-12 keeps k = 0 (L(0) ≤ L(0)) and rounding out of it.
            let above = r.curves.loss.iter().enumerate().position(|(k, &l)| l > l0 * power(q, k) * (1.0 + 1e-12));
            if let Some(k) = above {
                bound.runs_above_bound += 1;
                bound.first_above.get_or_insert((w.m, r.seed_index, k));
            }
            if let Some(f) = loss_factor_per_iteration(r) {
                let (lo, hi) = bound.factor_range.unwrap_or((f, f));
                bound.factor_range = Some((lo.min(f), hi.max(f)));
                if f < q {
                    bound.runs_faster += 1;
                } else if f > q {
                    bound.runs_slower += 1;
                }
            }
        }
    }
    let lambda_min = widths
        .iter()
        .map(|w| {
            let recorded: Vec<f64> = w
                .runs
                .iter()
                .filter_map(|r| r.curves.lambda_min_h.iter().flatten().copied().reduce(f64::min))
                .collect();
            LambdaMinRow {
                m: w.m,
                runs: recorded.len(),
                runs_below_half_lambda0: recorded.iter().filter(|&&v| v < lambda0 / 2.0).count(),
                smallest: recorded.iter().copied().reduce(f64::min),
            }
        })
        .collect();
    let diverged_runs = widths.iter().flat_map(|w| &w.runs).filter(|r| !r.completed()).count();
    Figure1Findings {
        iterations_to_target,
        final_pattern_change,
        final_max_distance,
        max_infinite_width_gap,
        bound,
        lambda_min,
        diverged_runs,
    }
}

fn sgd_summary(cfg: &Figure1Config, data: &Dataset, eta: f64) -> Result<SgdSummary, LemmaError> {
    // run() called validate(), which refuses empty widths.
    let m = cfg.widths[cfg.widths.len() / 2];
    let b = cfg.sgd_batch_size.clamp(1, cfg.n);
    let compared: Vec<(usize, SgdRun)> = (0..cfg.seeds)
        .into_par_iter()
        .map(|s| {
            let net = initialisation(cfg, m, s)?;
            let c = descent::compare_gd_sgd(
                data,
                &net,
                &descent::SgdComparisonConfig {
                    learning_rate: LearningRate::Fixed(eta),
                    batch_size: b,
                    epochs: cfg.sgd_epochs,
                    seed: cfg.seed,
                    trial: init_trial(m, s, Nesting::Independent),
                    ..Default::default()
                },
            )
            .map_err(dynamics)?;
            let status = status_text;
            let by_epoch = c
                .gd_by_epoch
                .iter()
                .zip(&c.sgd_by_epoch)
                .enumerate()
                .map(|(e, (g, s))| {
                    (
                        e,
                        g.loss,
                        s.loss,
                        g.pattern_change_fraction,
                        s.pattern_change_fraction,
                        g.max_weight_distance,
                        s.max_weight_distance,
                    )
                })
                .collect();
            let run = SgdRun { seed_index: s, status: (status(c.gd_status), status(c.sgd_status)), by_epoch };
            Ok((c.steps_per_epoch, run))
        })
        .collect::<Result<_, LemmaError>>()?;
    let steps_per_epoch = compared.first().map_or(cfg.n.div_ceil(b), |c| c.0);
    let runs: Vec<SgdRun> = compared.into_iter().map(|c| c.1).collect();
    Ok(SgdSummary::assemble(m, b, eta, steps_per_epoch, runs))
}

impl SgdSummary {
    /// The summary of per-seed comparisons: bands per epoch and the final-loss count.
    pub fn assemble(m: usize, batch_size: usize, eta: f64, steps_per_epoch: usize, runs: Vec<SgdRun>) -> Self {
        let epochs = runs.iter().map(|r| r.by_epoch.len()).max().unwrap_or(0);
        let spread = |vals: Vec<f64>| -> Option<(f64, f64, f64)> {
            let finite: Vec<f64> = vals.into_iter().filter(|v| v.is_finite()).collect();
            (!finite.is_empty()).then(|| {
                (
                    finite.iter().copied().fold(f64::INFINITY, f64::min),
                    median(&finite),
                    finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                )
            })
        };
        let by_epoch = (0..epochs)
            .map(|e| {
                let rows: Vec<_> = runs.iter().filter_map(|r| r.by_epoch.get(e)).collect();
                let pick = |f: fn(&EpochRow) -> f64| spread(rows.iter().map(|r| f(r)).collect());
                SgdEpochBand {
                    epoch: e,
                    seeds: rows.len(),
                    gd_loss: pick(|r| r.1),
                    sgd_loss: pick(|r| r.2),
                    gd_pattern_change: pick(|r| r.3),
                    sgd_pattern_change: pick(|r| r.4),
                    gd_max_distance: pick(|r| r.5),
                    sgd_max_distance: pick(|r| r.6),
                }
            })
            .collect();
        let completed = runs.iter().filter(|r| r.completed()).count();
        let lower = runs.iter().filter(|r| r.completed() && r.by_epoch.last().is_some_and(|l| l.2 < l.1)).count();
        SgdSummary { m, batch_size, eta, steps_per_epoch, runs, by_epoch, final_loss_sgd_lower: (completed, lower) }
    }
}

/// A GD or SGD run's end in words ("completed" is what the report counts as a finished run).
/// A diverged run's status names its last accepted iterate k; the text names the failing one, k + 1.
fn status_text(status: Status) -> String {
    match status {
        Status::Completed => "completed".to_string(),
        Status::Stopped { step, .. } => format!("stopped at iteration {step}"),
        Status::Diverged { step, .. } => format!("diverged at iteration {}", step + 1),
    }
}

fn dynamics(e: impl std::fmt::Display) -> LemmaError {
    LemmaError::Dynamics(e.to_string())
}
