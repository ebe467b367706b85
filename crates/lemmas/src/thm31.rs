//! Slide Thm 3.1 (paper Thm 4.1): discrete GD with η = c_η λ0/n² has ‖u(k) − y‖² ≤ (1 − ηλ0/2)^k ‖u(0) − y‖².
//!
//! Checked here: the explicit route of docs/theory.md §2.7 (c_η ≤ 1/4, width m₃.₁, budget 1 − 4δ),
//! audited inequality by inequality along every run, and the largest c_η at which the bound held on
//! every seed.
//! The route splits the neurons that can flip on input x_i within the radius R₃.₁ of W(0),
//! S_i^⊥ = {r : |w_r(0)ᵀx_i| < R₃.₁}, from the rest. Its inequalities become events checked between
//! consecutive iterates k → k + 1: the step length ‖u(k+1) − u(k)‖ ≤ ηn‖u(k) − y‖, the bounds on
//! |I₂ⁱ| and ‖H^⊥‖₂ (identities: sanity), the perturbation terms ≤ ηλ0/4 and the one-step factor
//! (proof steps), Markov on Σ_i |S_i^⊥| and on ‖y − u(0)‖², λmin(H(k)) ≥ λ0/2 and Cor. 4.1's
//! movement bound R′ = 4√n‖y − u(0)‖/(√m λ0). Runs use the full kernel-space GD of `descent`, or
//! the reduced solver of `reduced` (docs/theory.md §5) at the widths where it is chosen, with a
//! budget of at least R₃.₁ so that every flippable neuron is active.

use std::f64::consts::PI;
use std::sync::Arc;

use descent::{DescentConfig, GdStepper, LearningRate, Method, Problem};
use faer::Mat;
use model::{Dataset, InfiniteWidth, Network, h_infinity};
use reduced::{Dynamics, SeededInit, System};

use crate::bounds::{
    C_ETA_ROUTE, THM31_EVENTS_CHAINED as EVENTS_CHAINED, iterations_for, log10_thm31_proof_width as log10_proof_width,
    log10_thm31_width_order as log10_width_order, thm31_proof_width as proof_width, thm31_radius as radius,
    thm31_width_order as width_order,
};
use crate::claim::{Claim, Evaluation, Prepared};
use crate::claim::{EventSpec, Judge, MeasureSpec, Measurements, SeedCtx, SeedOutcome};
use crate::result::{Observation, Outcome, Premise, ProofWidth, Role, Target};
use crate::{CheckConfig, LemmaError, Profile, make_data};

/// Relative band for rounding in Thm 3.1's comparisons along a GD run: ‖y − u(k)‖² against its
/// bound and each audited step. Wider than the flows' one-shot `trajectory::ROUNDING` (1e-12),
/// since up to 10⁵ iterations accumulate their rounding into what is compared.
pub const GD_ROUNDING: f64 = 1e-9;

/// Horizons longer than this many iterations are refused before anything runs.
pub const MAX_ITERATIONS: f64 = 1e6;

/// Doublings of c_η tried by the step sweep (at most 2¹² × the configured c_η).
pub const SWEEP_DOUBLINGS: u32 = 12;

/// Audits stop once ‖y − u(k)‖² falls below this fraction of ‖y − u(0)‖²: below it u − y is a
/// difference of O(1) terms at rounding level and ratios of residuals measure rounding.
pub const AUDIT_FLOOR: f64 = 1e-20;

/// Rounding allowance of a difference of predictions, relative to their size (1 + max_i |u_i|).
const PREDICTION_ROUNDING: f64 = 1e-13;

/// The sweep of c_η runs GD up to divergence, which makes every neuron active in the reduced
/// solver: it runs only at widths below this.
pub const SWEEP_MAX_WIDTH: usize = crate::reduced_flow::AUTO_MIN_WIDTH;

/// Slide Thm 3.1 = paper Thm 4.1.
pub struct Thm31;

/// The statement, with its constants.
fn statement() -> String {
    format!(
        "With m = Ω(n⁶/(λ0⁴δ³)) and η = O(λ0/n²), with probability ≥ 1 − δ: ‖u(k) − y‖² ≤ (1 − ηλ0/2)^k ‖u(0) − y‖² for all k. Explicitly (docs/theory.md §2.7): with η = c_η λ0/n², c_η ≤ 1/4 and m ≥ m₃.₁, with probability ≥ 1 − {EVENTS_CHAINED}δ."
    )
}

struct Evaluator<'a> {
    cfg: &'a CheckConfig,
    data: Dataset,
    infinite: Arc<InfiniteWidth>,
    /// K = X Xᵀ, row-major.
    gram: Vec<f64>,
    lambda0: f64,
    y2: f64,
    eta: f64,
    iterations: usize,
    /// c_η at the stability limit η = 2/λmax(H∞).
    c_stable: f64,
    /// R₃.₁.
    radius: f64,
    /// m₃.₁ and Lem 2.2's m₂.₂.
    m31: f64,
    m22: f64,
}

impl Claim for Thm31 {
    fn config(&self, profile: Profile) -> CheckConfig {
        match profile {
            Profile::Tiny => CheckConfig { iterations: 50, ..Profile::tiny_base() },
            Profile::ProofWidth => crate::proof_width::thm31(),
            Profile::ProofWidthHard => crate::proof_width::thm31_on(crate::proof_width::hard_base()),
            // Small widths too, so that the search finds a refuted width below the supported
            // ones, and as many seeds as supporting 1 − δ = 0.9 at 95% takes (docs/theory.md §3.1).
            Profile::Quick => {
                let seeds = crate::proof_width::seeds_to_support(0.9);
                CheckConfig { iterations: 1, ..CheckConfig::sized(4, &[4, 16, 64, 256, 1_000], seeds) }
            }
            Profile::Paper => {
                CheckConfig { iterations: 1, ..CheckConfig::sized(10, &[100, 1_000, 10_000, 100_000], 200) }
            }
        }
    }
    /// ⌈16/(ηλ0)⌉ GD steps of 4n²m with η = c_η λ0/n², plus the audit's three n × n eigen-solves
    /// and H(k) (2n²m) at two iterates of every `audit_every` ([`crate::cost::AUDIT_FIXED_FLOPS`]
    /// each besides), and [`crate::cost::ELEMENTWISE_FLOPS`] per n × m entry of every step.
    fn seed_flops(&self, cfg: &CheckConfig, lambda0: f64, m: usize) -> f64 {
        if let Some(flops) = crate::cost::reduced_seed_flops(cfg, m) {
            return flops;
        }
        let (n, mf) = (cfg.n as f64, m as f64);
        let eta = LearningRate::theorem_eta(cfg.c_eta, lambda0, cfg.n);
        let k = (cfg.iterations as f64).max((16.0 / (eta * lambda0)).ceil());
        let audit =
            2.0 * (30.0 * n * n * n + 2.0 * n * n * mf + crate::cost::AUDIT_FIXED_FLOPS) / cfg.audit_every as f64;
        crate::cost::init_flops(cfg, m) + k * (4.0 * n * n * mf + crate::cost::ELEMENTWISE_FLOPS * n * mf + audit)
    }
    fn proof_orders(&self, _event: &str) -> Option<crate::bounds::ProofOrders> {
        Some(crate::bounds::thm21_thm31_orders())
    }
    fn prepare<'a>(&self, cfg: &'a CheckConfig) -> Result<Prepared<'a>, LemmaError> {
        if cfg.c_eta <= C_ETA_ROUTE {
            crate::claim::chained_target("Thm 3.1's route (c_η ≤ 1/4)", EVENTS_CHAINED, cfg.delta)?;
        }
        let data = make_data(cfg)?;
        let n = data.n();
        let infinite = Arc::new(InfiniteWidth::from_kernel_spectrum(h_infinity(data.input_gram())).map_err(dynamics)?);
        let lambda0 = crate::trajectory::positive_lambda0(infinite.lambda0())?;
        let eta = LearningRate::theorem_eta(cfg.c_eta, lambda0, n);
        let iterations = iterations_for(cfg.iterations, eta, lambda0);
        if iterations as f64 > MAX_ITERATIONS {
            return Err(LemmaError::Config {
                name: "c_eta",
                value: cfg.c_eta.to_string(),
                reason: format!(
                    "η = c_η λ0/n² = {eta:.3e} needs {iterations} iterations to reach ηλ0k/2 = 8, more than {MAX_ITERATIONS:e}: raise c_eta or lower n"
                ),
            });
        }
        let c_stable = 2.0 / infinite.lambda_max() * (n * n) as f64 / lambda0;
        let kref = data.input_gram();
        let gram = (0..n * n).map(|p| kref[(p / n, p % n)]).collect();
        let y2 = data.y().squared_norm_l2();
        Ok(Prepared::new(
            lambda0,
            statement(),
            Evaluator {
                cfg,
                gram,
                lambda0,
                y2,
                eta,
                iterations,
                c_stable,
                radius: radius(n, cfg.delta, lambda0),
                m31: proof_width(n, y2, cfg.delta, lambda0),
                m22: crate::bounds::proof_width_spec(n, cfg.delta, lambda0),
                data,
                infinite,
            },
        ))
    }
}

/// The flippable neurons' share of one iterate (docs/theory.md §2.7 steps 1–4).
#[derive(Debug, Clone)]
struct Flippable {
    /// H^⊥_ij = (1/m) K_ij Σ_{r∈S_i^⊥} s_ir s_jr, row-major (row i over S_i^⊥: not symmetric).
    h_perp: Vec<f64>,
    /// m^{−1/2} Σ_{r∈S_i^⊥} a_r σ(z_ir): the part of u_i made by S_i^⊥ (its change is I₂ⁱ).
    output: Vec<f64>,
    /// m^{−1/2} Σ_{r∈S_i^⊥} |a_r σ(z_ir)|: the size of that sum, for its rounding allowance.
    output_abs: Vec<f64>,
    /// |S_i^⊥|.
    counts: Vec<u64>,
}

/// The flippable split at radius R of the neurons (a_r, z_r(0), z_r) given (every neuron with
/// |z_ir(0)| < R on some input must be among them).
fn flippable<'n>(
    gram: &[f64],
    n: usize,
    m: usize,
    radius: f64,
    neurons: impl Iterator<Item = (f64, &'n [f64], &'n [f64])>,
) -> Flippable {
    let (mut coact, mut output, mut counts) = (vec![0u64; n * n], vec![0.0; n], vec![0u64; n]);
    let mut output_abs = vec![0.0; n];
    for (a, z0, z) in neurons {
        for i in 0..n {
            if z0[i].abs() < radius {
                counts[i] += 1;
                if z[i] > 0.0 {
                    output[i] += a * z[i];
                    output_abs[i] += (a * z[i]).abs();
                }
                if z[i] >= 0.0 {
                    for j in 0..n {
                        if z[j] >= 0.0 {
                            coact[i * n + j] += 1;
                        }
                    }
                }
            }
        }
    }
    let inv_m = 1.0 / m as f64;
    let inv_sqrt_m = inv_m.sqrt();
    Flippable {
        h_perp: (0..n * n).map(|p| gram[p] * (coact[p] as f64 * inv_m)).collect(),
        output: output.iter().map(|v| v * inv_sqrt_m).collect(),
        output_abs: output_abs.iter().map(|v| v * inv_sqrt_m).collect(),
        counts,
    }
}

/// ‖A‖₂ = √λmax(AᵀA) of a row-major n × n matrix.
fn spectral_norm(a: &[f64], n: usize) -> Result<f64, LemmaError> {
    let ata = Mat::from_fn(n, n, |i, j| (0..n).map(|l| a[l * n + i] * a[l * n + j]).sum::<f64>());
    Ok(model::lambda_max(ata.as_ref())?.max(0.0).sqrt())
}

/// One iterate as the checks see it.
struct Iterate {
    k: usize,
    /// e = u − y.
    e: Vec<f64>,
    /// ‖e‖² as the solver keeps it.
    residual_sq: f64,
    /// 1 + max_i |u_i|: the size of the predictions, for rounding allowances.
    u_size: f64,
    /// With the audit: λmin(H(k)), max_r ‖w_r(k) − w_r(0)‖ and the flippable split.
    audit: Option<(f64, f64, Flippable)>,
}

/// What the audit reads of one GD iterate, whichever solver made it: the GD itself is descent's
/// [`GdStepper`] or the reduced [`Dynamics::gd`], run by `model::execute` (its one divergence rule),
/// and the audit is the observer of every iterate.
trait Look {
    /// The solver's state.
    type State;
    /// The iterate in `st` (with the audit's quantities when `audit`).
    fn iterate(&self, st: &Self::State, audit: bool) -> Result<Iterate, LemmaError>;
    /// max_r ‖w_r − w_r(0)‖ at `st` (between audits).
    fn max_distance(&self, st: &Self::State) -> Result<f64, LemmaError>;
}

/// The audit's view of kernel-space GD of `descent` on a stored network.
struct FullLook<'a> {
    problem: &'a Problem<'a>,
    gram: &'a [f64],
    radius: f64,
    /// The neurons with |z_ir(0)| < R on some input: index, a_r, z_r(0).
    candidates: Vec<(usize, f64, Vec<f64>)>,
}

impl<'a> FullLook<'a> {
    /// The view of runs of `problem` from `initial` (which names the candidates of S_i^⊥).
    fn new(problem: &'a Problem<'a>, initial: &descent::State, net: &Network, prep: &'a Evaluator<'_>) -> Self {
        let n = prep.data.n();
        let z0 = initial.preactivations();
        let candidates = (0..net.m())
            .filter(|&r| (0..n).any(|i| z0[(i, r)].abs() < prep.radius))
            .map(|r| (r, net.a[r], (0..n).map(|i| z0[(i, r)]).collect()))
            .collect();
        FullLook { problem, gram: &prep.gram, radius: prep.radius, candidates }
    }
}

impl Look for FullLook<'_> {
    type State = descent::State;
    fn iterate(&self, st: &descent::State, audit: bool) -> Result<Iterate, LemmaError> {
        let e: Vec<f64> = st.residual().iter().copied().collect();
        let u_size = 1.0 + st.predictions().iter().fold(0.0f64, |s, v| s.max(v.abs()));
        let audit = if audit {
            let z = st.preactivations();
            // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is contiguous.
            let column = |r: usize| z.col(r).try_as_col_major().expect("faer columns are contiguous").as_slice();
            let flip = flippable(
                self.gram,
                e.len(),
                self.problem.m(),
                self.radius,
                self.candidates.iter().map(|(r, a, z0)| (*a, z0.as_slice(), column(*r))),
            );
            Some((self.problem.lambda_min_h(st).map_err(dynamics)?, st.max_weight_distance(), flip))
        } else {
            None
        };
        Ok(Iterate { k: st.iteration(), e, residual_sq: st.residual_norm_sq(), u_size, audit })
    }
    fn max_distance(&self, st: &descent::State) -> Result<f64, LemmaError> {
        Ok(st.max_weight_distance())
    }
}

/// The audit's view of GD on the reduced solver (docs/theory.md §5): W(0) streamed, never stored.
struct ReducedLook<'s, 'a> {
    sys: &'s System<'a, SeededInit>,
    gram: &'s [f64],
    radius: f64,
    y: Vec<f64>,
}

impl Look for ReducedLook<'_, '_> {
    type State = reduced::State;
    fn iterate(&self, st: &reduced::State, audit: bool) -> Result<Iterate, LemmaError> {
        let e = st.residual().to_vec();
        let residual_sq = e.iter().map(|v| v * v).sum();
        let u_size = 1.0 + e.iter().zip(&self.y).fold(0.0f64, |s, (e, y)| s.max((e + y).abs()));
        let audit = if audit {
            let s = self.sys.sample(st).map_err(dynamics)?;
            let flip = flippable(self.gram, self.y.len(), self.sys.m(), self.radius, st.active_neurons());
            Some((s.lambda_min_h, s.max_distance, flip))
        } else {
            None
        };
        Ok(Iterate { k: st.step, e, residual_sq, u_size, audit })
    }
    fn max_distance(&self, st: &reduced::State) -> Result<f64, LemmaError> {
        Ok(self.sys.sample(st).map_err(dynamics)?.max_distance)
    }
}

/// A run's audit so far: the last iterate, the run's constants and the worst of every event.
struct Walk {
    /// u(0) − y.
    e0: Vec<f64>,
    prev: Iterate,
    r0sq: f64,
    r_prime: f64,
    flippable_total: u64,
    audit: Audit,
    statement: Observation,
    last_sq: f64,
    max_dist: f64,
}

/// The audit's events, each the worst over the run.
#[derive(Default)]
struct Audit {
    step_length: Option<Observation>,
    i2_bound: Option<Observation>,
    h_perp_bound: Option<Observation>,
    perturbation: Option<Observation>,
    one_step: Option<Observation>,
    lambda_min: Option<Observation>,
    movement: Option<Observation>,
}

/// Keeps in `slot` the worst observation of an event so far.
fn keep_worst(slot: &mut Option<Observation>, o: Observation) {
    *slot = Some(slot.map_or(o, |s| s.worst(o)));
}

/// One GD run at step η for `iterations` steps: the statement's observation and the run.
struct GdRun {
    statement: Observation,
    completed: bool,
    iterations: usize,
    per_step_ratio: f64,
    initial_residual_sq: f64,
    /// u(0) − y.
    initial_residual: Vec<f64>,
    audit: Audit,
    flippable_total: u64,
}

/// The judges of one seed's events.
struct Judges {
    statement: Judge,
    step_length: Judge,
    i2_bound: Judge,
    h_perp_bound: Judge,
    perturbation: Judge,
    one_step: Judge,
    lambda_min: Judge,
    movement: Judge,
}

impl Judges {
    fn of(seed: &SeedCtx<'_>) -> Self {
        Judges {
            statement: seed.judge("statement"),
            step_length: seed.judge("step-length").for_exact_arithmetic(),
            i2_bound: seed.judge("i2-bound").for_exact_arithmetic(),
            h_perp_bound: seed.judge("h-perp-bound").for_exact_arithmetic(),
            perturbation: seed.judge("perturbation").for_exact_arithmetic(),
            one_step: seed.judge("one-step").for_exact_arithmetic(),
            lambda_min: seed.judge("lambda-min").for_exact_arithmetic(),
            movement: seed.judge("movement").for_exact_arithmetic(),
        }
    }
}

impl Evaluator<'_> {
    fn route_applies(&self) -> bool {
        self.cfg.c_eta <= C_ETA_ROUTE
    }

    /// The width premise of the route's events: max(m₃.₁, m₂.₂) when c_η ≤ 1/4; otherwise the
    /// route does not apply and the paper's constants are implicit.
    fn route_premise(&self) -> Premise {
        if self.route_applies() {
            Premise::Width {
                width: self.m31.max(self.m22),
                source: "m₃.₁ = 8n(‖y‖² + n/2)·max(16n², 32n^{1.5})²/(πδ³λ0⁴) with c_η ≤ 1/4 (and Lem 2.2's m₂.₂)"
                    .into(),
            }
        } else {
            Premise::ImplicitConstant
        }
    }

    fn target(&self, events: u32) -> Target {
        Target::Probability((1.0 - f64::from(events) * self.cfg.delta).max(0.0))
    }

    /// Runs `stepper` from `state` for `iterations` steps at step η through `model::execute`,
    /// judging the statement at every k ≥ 1 and, with `judges.is_some()`, every audit event between
    /// consecutive iterates (the audit is the observer of every iterate; `look` reads them).
    #[allow(clippy::too_many_arguments)]
    fn run<S, L>(
        &self,
        stepper: &mut S,
        state: &mut S::State,
        look: &L,
        eta: f64,
        iterations: usize,
        statement: &Judge,
        judges: Option<&Judges>,
        m: usize,
    ) -> Result<GdRun, LemmaError>
    where
        S: model::Stepper,
        S::Error: std::fmt::Display,
        L: Look<State = S::State>,
    {
        let mut walk: Option<Walk> = None;
        let run = crate::trajectory::execute(stepper, state, model::grid::iterations(eta, iterations, 1), |st, _| {
            match walk.as_mut() {
                None => walk = Some(self.first(look, st, judges, m)?),
                Some(w) => self.next(w, look, st, eta, statement, judges, m)?,
            }
            Ok(model::Control::Continue)
        })?;
        // `execute` shows the start state whenever L(0) is finite, which the data's labels give.
        let Some(walk) = walk else {
            return Err(LemmaError::Dynamics("the GD run's initial loss is not finite".into()));
        };
        let completed = !run.status.diverged();
        let mut statement_obs = walk.statement;
        if !completed {
            statement_obs.outcome = Outcome::Fails;
        }
        let per_step = -(walk.last_sq / walk.r0sq).ln() / iterations as f64;
        let bound_rate = -(1.0 - eta * self.lambda0 / 2.0).ln();
        Ok(GdRun {
            statement: statement_obs,
            completed,
            iterations: walk.prev.k,
            per_step_ratio: per_step / bound_rate,
            initial_residual_sq: walk.r0sq,
            initial_residual: walk.e0,
            audit: walk.audit,
            flippable_total: walk.flippable_total,
        })
    }

    /// The audit of iterate 0.
    fn first<L: Look>(&self, look: &L, st: &L::State, judges: Option<&Judges>, m: usize) -> Result<Walk, LemmaError> {
        let prev = look.iterate(st, judges.is_some())?;
        let r0sq = prev.residual_sq;
        let r_prime = 4.0 * (self.data.n() as f64).sqrt() * r0sq.sqrt() / ((m as f64).sqrt() * self.lambda0);
        let flippable_total = prev.audit.as_ref().map_or(0, |(_, _, f)| f.counts.iter().sum());
        let mut audit = Audit::default();
        if let (Some(j), Some((lmin, dist, _))) = (judges, &prev.audit) {
            self.judge_iterate(j, &mut audit, *lmin, *dist, r_prime, 0);
        }
        let max_dist = prev.audit.as_ref().map_or(0.0, |(_, d, _)| *d);
        Ok(Walk {
            e0: prev.e.clone(),
            prev,
            r0sq,
            r_prime,
            flippable_total,
            audit,
            statement: Observation::vacuous(),
            last_sq: r0sq,
            max_dist,
        })
    }

    /// The audit of the iterate after `walk.prev`: the statement at it, and (with `judges`) the
    /// events at it and between the two.
    #[allow(clippy::too_many_arguments)]
    fn next<L: Look>(
        &self,
        walk: &mut Walk,
        look: &L,
        st: &L::State,
        eta: f64,
        statement: &Judge,
        judges: Option<&Judges>,
        m: usize,
    ) -> Result<(), LemmaError> {
        // The pair (k, k + 1) is audited when k is a multiple of `audit_every`.
        let every = self.cfg.audit_every.max(1);
        let audited =
            |k: usize| judges.is_some() && (k.is_multiple_of(every) || (k >= 1 && (k - 1).is_multiple_of(every)));
        let cur = look.iterate(st, audited(walk.prev.k + 1))?;
        let bound = descent::theorem_bound(eta, self.lambda0, walk.r0sq, cur.k);
        let ratio = descent::bound_ratio(cur.residual_sq, bound);
        walk.statement =
            walk.statement.worst(statement.at_most(ratio, 1.0, GD_ROUNDING * ratio.abs()).at_time(cur.k as f64));
        walk.last_sq = cur.residual_sq;
        if let Some(j) = judges
            && walk.prev.residual_sq > AUDIT_FLOOR * walk.r0sq
        {
            let dist = match cur.audit.as_ref() {
                Some((lmin, dist, _)) => {
                    self.judge_iterate(j, &mut walk.audit, *lmin, *dist, walk.r_prime, cur.k);
                    *dist
                }
                None => look.max_distance(st)?,
            };
            if walk.prev.audit.is_some() && cur.audit.is_some() {
                let inside = walk.max_dist < self.radius && dist < self.radius;
                self.judge_step(j, &mut walk.audit, eta, m, &walk.prev, &cur, inside)?;
            }
            walk.max_dist = walk.max_dist.max(dist);
        }
        walk.prev = cur;
        Ok(())
    }

    /// λmin(H(k)) ≥ λ0/2 and max_r ‖w_r(k) − w_r(0)‖ ≤ R′ at one iterate.
    fn judge_iterate(&self, j: &Judges, audit: &mut Audit, lmin: f64, dist: f64, r_prime: f64, k: usize) {
        let half = self.lambda0 / 2.0;
        keep_worst(&mut audit.lambda_min, j.lambda_min.at_least(lmin, half, GD_ROUNDING * half).at_time(k as f64));
        keep_worst(&mut audit.movement, j.movement.at_most(dist, r_prime, GD_ROUNDING * r_prime).at_time(k as f64));
    }

    /// The inequalities of steps 3–6 between iterates k and k + 1 (`inside`: every neuron stayed
    /// within R₃.₁ of W(0) up to k + 1, so that no neuron outside S_i^⊥ changed its pattern).
    #[allow(clippy::too_many_arguments)]
    fn judge_step(
        &self,
        j: &Judges,
        audit: &mut Audit,
        eta: f64,
        m: usize,
        prev: &Iterate,
        cur: &Iterate,
        inside: bool,
    ) -> Result<(), LemmaError> {
        let n = prev.e.len();
        let (nf, mf) = (n as f64, m as f64);
        let at = prev.k as f64;
        let eps = PREDICTION_ROUNDING * prev.u_size.max(cur.u_size);
        // judge_step's one call sits inside `if prev.audit.is_some() && cur.audit.is_some()`.
        let (lmin, _, fp) = prev.audit.as_ref().expect("audited");
        let (_, _, fc) = cur.audit.as_ref().expect("audited");
        let norm = prev.residual_sq.sqrt();
        // Step 5: ‖u(k+1) − u(k)‖ ≤ ηn‖u(k) − y‖ (u − y moves as u does).
        let du = prev.e.iter().zip(&cur.e).map(|(a, b)| (b - a).powi(2)).sum::<f64>().sqrt();
        let bound = eta * nf * norm;
        keep_worst(
            &mut audit.step_length,
            j.step_length.at_most(du, bound, GD_ROUNDING * bound + eps * nf.sqrt()).at_time(at),
        );
        // Step 4: |I₂ⁱ| ≤ η√n|S_i^⊥|‖u(k) − y‖/m, I₂ⁱ the change of S_i^⊥'s part of u_i (an empty
        // S_i^⊥ gives exactly 0 on both sides: its rounding allowance is 0 too).
        let i2: Vec<f64> = fc.output.iter().zip(&fp.output).map(|(a, b)| a - b).collect();
        let i2_eps: Vec<f64> =
            fc.output_abs.iter().zip(&fp.output_abs).map(|(a, b)| PREDICTION_ROUNDING * (a + b)).collect();
        for ((v, &count), e) in i2.iter().zip(&fp.counts).zip(&i2_eps) {
            let bound = eta * nf.sqrt() * count as f64 * norm / mf;
            keep_worst(&mut audit.i2_bound, j.i2_bound.at_most(v.abs(), bound, GD_ROUNDING * bound + e).at_time(at));
        }
        // Step 3: ‖H^⊥(k)‖₂ ≤ √n Σ_i |S_i^⊥| / m.
        let h_perp = spectral_norm(&fp.h_perp, n)?;
        let total: u64 = fp.counts.iter().sum();
        let bound = nf.sqrt() * total as f64 / mf;
        keep_worst(&mut audit.h_perp_bound, j.h_perp_bound.at_most(h_perp, bound, GD_ROUNDING * bound).at_time(at));
        // Step 7: 2η‖H^⊥‖ + 2‖I₂‖/‖u(k) − y‖ ≤ ηλ0/4.
        let i2_norm = i2.iter().map(|v| v * v).sum::<f64>().sqrt();
        let terms = 2.0 * eta * h_perp + 2.0 * i2_norm / norm;
        let terms_band = GD_ROUNDING * terms + 2.0 * i2_eps.iter().map(|v| v * v).sum::<f64>().sqrt() / norm;
        let bound = eta * self.lambda0 / 4.0;
        keep_worst(
            &mut audit.perturbation,
            j.perturbation.at_most(terms, bound, GD_ROUNDING * bound + terms_band).at_time(at),
        );
        // Step 6, while no neuron outside S_i^⊥ can have flipped.
        if inside {
            let ratio = cur.residual_sq / prev.residual_sq;
            let factor = 1.0 - 2.0 * eta * lmin + terms + eta * eta * nf * nf;
            let band = GD_ROUNDING * factor.abs()
                + terms_band
                + ratio * 2.0 * eps * nf.sqrt() * (1.0 / norm + 1.0 / cur.residual_sq.sqrt().max(f64::MIN_POSITIVE));
            keep_worst(&mut audit.one_step, j.one_step.at_most(ratio, factor, band).at_time(at));
        }
        Ok(())
    }

    /// A GD run of this seed at step η: on the reduced solver at the widths where it is chosen.
    fn gd(
        &self,
        seed: &SeedCtx<'_>,
        eta: f64,
        iterations: usize,
        statement: &Judge,
        judges: Option<&Judges>,
    ) -> Result<GdRun, LemmaError> {
        let n = self.data.n();
        if crate::reduced_flow::use_reduced(self.cfg, seed.m, n) {
            let source = SeededInit::new(&self.data, seed.m, seed.init_seed, seed.trial).map_err(dynamics)?;
            let sys = System::new(&self.data, &source, crate::reduced_flow::POLICY).map_err(dynamics)?;
            // Every neuron of S_i^⊥ must be active: a budget of at least R₃.₁ on every input.
            let budget = sys.initial_budget().iter().map(|r| r.max(self.radius * (1.0 + 1e-9))).collect();
            let mut st = sys.initial_state_with_budget(budget).map_err(dynamics)?;
            let y = self.data.y().iter().copied().collect();
            let look = ReducedLook { sys: &sys, gram: &self.gram, radius: self.radius, y };
            self.run(&mut Dynamics::gd(&sys, eta), &mut st, &look, eta, iterations, statement, judges, seed.m)
        } else {
            let net = Network::init(seed.m, self.data.d(), seed.init_seed, seed.trial)?;
            let config = DescentConfig {
                learning_rate: LearningRate::Fixed(eta),
                iterations,
                method: Method::KernelSpace,
                ..DescentConfig::default()
            };
            let problem =
                Problem::with_infinite_width(&self.data, &net, &config, self.infinite.clone()).map_err(dynamics)?;
            let mut st = problem.initial_state().map_err(dynamics)?;
            let look = FullLook::new(&problem, &st, &net, self);
            self.run(&mut GdStepper { problem: &problem }, &mut st, &look, eta, iterations, statement, judges, seed.m)
        }
    }
}

impl Evaluation for Evaluator<'_> {
    fn proof_widths(&self) -> Vec<ProofWidth> {
        let (n, delta, lambda0) = (self.data.n(), self.cfg.delta, self.lambda0);
        vec![
            ProofWidth::new(
                "the route of theory §2.7: R′ = 4√n‖y − u(0)‖/(√m λ0) < R₃.₁ with Markov on ‖y − u(0)‖² (needs c_η ≤ 1/4)",
                "8 n (‖y‖² + n/2) max(16n², 32n^{1.5})² / (π δ³ λ0⁴)",
                self.m31,
                log10_proof_width(n, self.y2, delta, lambda0),
            ),
            ProofWidth::new(
                "paper: order only (the constant is implicit); shown with constant 1",
                "n⁶ / (λ0⁴ δ³)",
                width_order(n, delta, lambda0),
                log10_width_order(n, delta, lambda0),
            ),
        ]
    }
    fn events(&self) -> Vec<EventSpec> {
        let (k, eta) = (self.iterations, self.eta);
        let statement = EventSpec::new(
            "statement",
            Role::Statement,
            if self.route_applies() { self.target(EVENTS_CHAINED) } else { self.target(1) },
            format!(
                "‖y − u(k)‖² ≤ (1 − ηλ0/2)^k ‖y − u(0)‖² for k = 0..{k} (ηλ0k/2 = {:.3}), η = c_η λ0/n² = {eta:.4e} (measured: max_k ratio)",
                eta * self.lambda0 * k as f64 / 2.0
            ),
        )
        .premise(self.route_premise());
        let statement = if self.route_applies() {
            statement.budget("1 − 4δ: Lem 2.2's event, Lem 2.3's event, Markov's inequality on Σ_i |S_i^⊥| and on ‖y − u(0)‖² each spend δ")
        } else {
            statement
        };
        let r = self.radius;
        vec![
            statement,
            EventSpec::new(
                "markov-initial-residual",
                Role::ProofStep,
                self.target(1),
                "‖y − u(0)‖² ≤ (‖y‖² + n/2)/δ (Markov's inequality on E‖y − u(0)‖² = ‖y‖² + n/2; any m)",
            ),
            EventSpec::new(
                "markov-flippable",
                Role::ProofStep,
                self.target(1),
                format!(
                    "Σ_i |S_i^⊥| ≤ 2mnR₃.₁/(√(2π)δ), S_i^⊥ = {{r : |w_r(0)ᵀx_i| < R₃.₁}}, R₃.₁ = √(2π)δλ0/max(16n², 32n^{{1.5}}) = {r:.4e} (Markov's inequality on E Σ_i |S_i^⊥| ≤ 2mnR/√(2π); any m)"
                ),
            ),
            EventSpec::new(
                "perturbation",
                Role::ProofStep,
                self.target(1),
                "2η‖H^⊥(k)‖₂ + 2‖I₂(k)‖/‖y − u(k)‖ ≤ ηλ0/4 at every k (step 7; follows from the Markov step on Σ_i |S_i^⊥|; any m)",
            ),
            EventSpec::new(
                "one-step",
                Role::ProofStep,
                Target::Always,
                "‖y − u(k+1)‖² ≤ (1 − 2ηλmin(H(k)) + 2η‖H^⊥(k)‖₂ + 2‖I₂(k)‖/‖y − u(k)‖ + η²n²)‖y − u(k)‖² for every k while all w_r are within R₃.₁ of w_r(0) (step 6; a seed whose first step leaves the radius is vacuous)",
            ),
            EventSpec::new(
                "lambda-min",
                Role::ProofStep,
                self.target(EVENTS_CHAINED),
                "λmin(H(k)) ≥ λ0/2 at every k (Lem 2.2 and Lem 2.3 while every w_r stays within R₃.₁, which the width m₃.₁ gives with Markov on ‖y − u(0)‖² and on Σ_i |S_i^⊥|)",
            )
            .premise(self.route_premise())
            .budget("1 − 4δ: it rests on Lem 2.2's and Lem 2.3's events and on w_r staying within R₃.₁, which needs both Markov events (the flippable neurons' as well as the initial residual's)"),
            EventSpec::new(
                "movement",
                Role::ProofStep,
                self.target(EVENTS_CHAINED),
                "max_r ‖w_r(k) − w_r(0)‖ ≤ R′ = 4√n‖y − u(0)‖/(√m λ0) at every k (paper Cor. 4.1: the step bound summed along the rate)",
            )
            .premise(self.route_premise()),
            EventSpec::new(
                "no-divergence",
                Role::ProofStep,
                Target::Always,
                format!("the run completes all {k} iterations without divergence (measured: iterations before divergence; bound {k})"),
            ),
            EventSpec::new(
                "step-length",
                Role::Sanity,
                Target::Always,
                "‖u(k+1) − u(k)‖ ≤ ηn‖u(k) − y‖ (step 5: σ is 1-Lipschitz and ‖x_i‖ = 1; a failure is a bug)",
            ),
            EventSpec::new(
                "i2-bound",
                Role::Sanity,
                Target::Always,
                "|I₂ⁱ(k)| ≤ η√n|S_i^⊥|‖u(k) − y‖/m for every i, k (step 4; a failure is a bug)",
            ),
            EventSpec::new(
                "h-perp-bound",
                Role::Sanity,
                Target::Always,
                "‖H^⊥(k)‖₂ ≤ ‖H^⊥(k)‖_F ≤ √n Σ_i |S_i^⊥|/m (step 3; a failure is a bug)",
            ),
        ]
    }
    fn measures(&self) -> Vec<MeasureSpec> {
        let mut measures = vec![
            MeasureSpec::report(
                "decay-rate",
                format!(
                    "observed decay per step −log(‖y − u(K)‖²/‖y − u(0)‖²)/K ÷ the bound's −log(1 − ηλ0/2), K = {}",
                    self.iterations
                ),
            ),
            MeasureSpec::report(
                "decay-ratio",
                "max over k ≥ 1 of ‖y − u(k)‖² ÷ ((1 − ηλ0/2)^k ‖y − u(0)‖²) (the statement's margin)",
            ),
            MeasureSpec::report(
                "decay-ratio-kernel-limit",
                "the same maximum at infinite width from the seed's own u(0): e(k) = (I − ηH∞)^k e(0) (theory §3.9)",
            ),
            MeasureSpec::report(
                "decay-rate-kernel-limit",
                "the decay per step ÷ the bound's at infinite width from the seed's own u(0) (theory §3.9)",
            ),
            MeasureSpec::report(
                "r-prime-over-radius",
                "R′/R₃.₁ with R′ = 4√n‖y − u(0)‖/(√m λ0): the route's per-seed premise is R′ < R₃.₁ (< 1)",
            ),
        ];
        // The sweep runs at the largest width when it is below SWEEP_MAX_WIDTH (see `evaluate`).
        // CheckConfig::validate (run_claim, preflight, claim_threshold call it before prepare) refuses empty widths.
        if *self.cfg.widths.last().expect("validated") < SWEEP_MAX_WIDTH {
            measures.push(MeasureSpec::report(
                "c-eta-held",
                format!(
                    "at the largest width: the largest c_η = {}·2^j at which the bound held over its own horizon ηλ0k/2 = 8 (and at every smaller c_η of the sweep); the stability limit η < 2/λmax(H∞) is c_η < {:.4}",
                    self.cfg.c_eta, self.c_stable
                ),
            ));
        }
        measures
    }
    fn evaluate(&self, seed: &SeedCtx<'_>) -> Result<SeedOutcome, LemmaError> {
        let judges = Judges::of(seed);
        let base = self.gd(seed, self.eta, self.iterations, &judges.statement, Some(&judges))?;
        let (n, m) = (self.data.n(), seed.m as f64);
        let k = self.iterations as f64;
        let r0sq = base.initial_residual_sq;
        let markov = (self.y2 + n as f64 / 2.0) / self.cfg.delta;
        let flip_bound = 2.0 * m * n as f64 * self.radius / ((2.0 * PI).sqrt() * self.cfg.delta);
        let r_prime = 4.0 * (n as f64).sqrt() * r0sq.sqrt() / (m.sqrt() * self.lambda0);
        let u0 = faer::Col::from_fn(n, |i| self.data.y()[i] + base.initial_residual[i]);
        let limit = crate::kernel_limit::KernelLimit::new(&self.infinite, self.data.y(), u0.as_ref())?;
        // None past the bound's own range (ηλ0 ≥ 2, a c_η set by hand): the measure then has no value.
        let predicted = crate::kernel_limit::gd_decay(&limit, self.eta, self.iterations).ok();
        let a = &base.audit;
        let or_vacuous = |o: Option<Observation>| o.unwrap_or_else(Observation::vacuous);
        let mut out = SeedOutcome::default()
            .event("statement", base.statement)
            .event(
                "markov-initial-residual",
                seed.judge("markov-initial-residual").for_exact_arithmetic().at_most(
                    r0sq,
                    markov,
                    GD_ROUNDING * markov,
                ),
            )
            .event(
                "markov-flippable",
                seed.judge("markov-flippable").for_exact_arithmetic().at_most(
                    base.flippable_total as f64,
                    flip_bound,
                    0.0,
                ),
            )
            .event("perturbation", or_vacuous(a.perturbation))
            .event("one-step", or_vacuous(a.one_step))
            .event("lambda-min", or_vacuous(a.lambda_min))
            .event("movement", or_vacuous(a.movement))
            .event(
                "no-divergence",
                // Whether the run diverged is a count, not a bound: `bound_scale` does not move it,
                // so a mutation run never reports a divergence that did not happen.
                crate::claim::Judge::new(1.0).at_least(base.iterations as f64, k, 0.0).at_time(base.iterations as f64),
            )
            .event("step-length", or_vacuous(a.step_length))
            .event("i2-bound", or_vacuous(a.i2_bound))
            .event("h-perp-bound", or_vacuous(a.h_perp_bound))
            .value("decay-rate", if base.completed { base.per_step_ratio } else { 0.0 })
            .value("decay-ratio", base.statement.measured)
            .value("r-prime-over-radius", r_prime / self.radius);
        if let Some(p) = predicted {
            out = out.value("decay-ratio-kernel-limit", p.max_ratio).value("decay-rate-kernel-limit", p.per_step_ratio);
        }
        // CheckConfig::validate (run_claim, preflight, claim_threshold call it before prepare) refuses empty widths.
        if seed.m == *self.cfg.widths.last().expect("validated") && seed.m < SWEEP_MAX_WIDTH {
            // The sweep: c_η doubled until the bound fails on this seed (docs/theory.md §2.7).
            let judge = &judges.statement;
            let mut held = if base.statement.holds() { self.cfg.c_eta } else { 0.0 };
            let mut c = self.cfg.c_eta;
            for _ in 0..SWEEP_DOUBLINGS {
                if held == 0.0 {
                    break;
                }
                c *= 2.0;
                let eta = LearningRate::theorem_eta(c, self.lambda0, n);
                let run = self.gd(seed, eta, iterations_for(1, eta, self.lambda0), judge, None)?;
                if !run.statement.holds() {
                    break;
                }
                held = c;
            }
            out = out.value("c-eta-held", held);
        }
        Ok(out)
    }
    fn notes(&self, measured: &Measurements) -> Vec<String> {
        let mut notes = vec![if self.route_applies() {
            format!(
                "The explicit route of [theory §2.7](theory.md#27-thm-31-paper-thm-41) applies (c_η = {} ≤ 1/4): its width m₃.₁ = {:.4e} (with Lem 2.2's m₂.₂ = {:.4e}) is the statement's premise, and its budget 1 − {EVENTS_CHAINED}δ the target. R₃.₁ = {:.4e}.",
                self.cfg.c_eta, self.m31, self.m22, self.radius
            )
        } else {
            format!(
                "c_η = {} is above the explicit route's 1/4 ([theory §2.7](theory.md#27-thm-31-paper-thm-41)), and the paper's own step and width constants are implicit, so no width run can be said to meet the premise: the claim's verdict stays inconclusive and the per-width rows measure the event itself (the route's width at c_η ≤ 1/4 would be m₃.₁ = {:.4e}).",
                self.cfg.c_eta, self.m31
            )
        }];
        notes.push(format!(
            "η = c_η λ0/n² with c_η = {}; K = max(iterations, ⌈16/(ηλ0)⌉) = {} iterations, so the bound falls to (1 − ηλ0/2)^K ≈ e^{{−{:.3}}} ([theory §3.6](theory.md#36-horizons)).",
            self.cfg.c_eta,
            self.iterations,
            self.eta * self.lambda0 * self.iterations as f64 / 2.0
        ));
        notes.push(
            "The route's inequalities are checked between consecutive iterates: the step length, |I₂ⁱ| and ‖H^⊥‖₂ bounds hold for every W and are sanity identities; the perturbation terms, the one-step factor (while every neuron is within R₃.₁, so that only S_i^⊥ can flip), λmin(H(k)) ≥ λ0/2 and the movement bound R′ are proof steps. Audits stop once ‖y − u(k)‖² is below 10⁻²⁰ of its start (rounding level).".into(),
        );
        if self.cfg.audit_every > 1 {
            notes.push(format!(
                "The audit here judges the pairs (k, k + 1) with k a multiple of {} (λmin(H(k)) and the movement bound at those iterates); the one-step factor is judged only while the movement, followed at every step, has stayed within R₃.₁.",
                self.cfg.audit_every
            ));
        }
        if let Some(row) =
            measured.event("one-step").and_then(|e| e.rows.iter().rev().find(|r| r.seeds + r.seeds_vacuous > 0))
            && row.seeds == 0
        {
            notes.push(format!(
                "At m = {} every seed left the radius R₃.₁ in its first step, so the one-step factor was never live there (it is live where R′ < R₃.₁, i.e. from about m₃.₁).",
                row.m
            ));
        }
        if let Some(row) = measured.measure("c-eta-held").and_then(|m| m.rows.iter().find(|r| r.seeds > 0)) {
            notes.push(if row.min > 0.0 {
                format!(
                    "Step sweep at m = {} over {} seeds: the bound held on every seed up to c_η = {} (η = {:.4e}), the largest value of the doubling sweep to do so; the stability limit 2/λmax(H∞) is c_η = {:.4}, {:.3}× larger.",
                    row.m,
                    row.seeds,
                    row.min,
                    row.min * self.lambda0 / (self.data.n() * self.data.n()) as f64,
                    self.c_stable,
                    self.c_stable / row.min
                )
            } else {
                format!(
                    "Step sweep at m = {} over {} seeds: the bound failed on some seed already at c_η = {}; the stability limit 2/λmax(H∞) is c_η = {:.4}.",
                    row.m, row.seeds, self.cfg.c_eta, self.c_stable
                )
            });
        }
        notes.extend(crate::kernel_limit::decay_note(measured));
        notes
    }
}

fn dynamics(e: impl std::fmt::Display) -> LemmaError {
    LemmaError::Dynamics(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// m₃.₁ in logs equals the direct formula; for n ≥ 4 it is 2048 n⁵(‖y‖² + n/2)/(πδ³λ0⁴), four
    /// times Thm 2.1's m₂.₁; R₃.₁ is Lem 2.3's radius from n = 4 on and smaller below.
    #[test]
    fn the_route_constants_match_their_closed_forms() {
        for n in [2, 3, 4, 10] {
            let (y2, delta, lambda0) = (0.7, 0.1, 0.3);
            let m = proof_width(n, y2, delta, lambda0);
            assert!((m.log10() - log10_proof_width(n, y2, delta, lambda0)).abs() < 1e-12);
            let thm21 = crate::bounds::thm21_proof_width(n, y2, delta, lambda0);
            let r23 = crate::bounds::lem23_radius(n, delta, lambda0);
            if n >= 4 {
                let nf = n as f64;
                let closed = 2048.0 * nf.powi(5) * (y2 + nf / 2.0) / (PI * delta.powi(3) * lambda0.powi(4));
                assert!((m / closed - 1.0).abs() < 1e-12);
                assert!((m / thm21 - 4.0).abs() < 1e-12);
                assert!((radius(n, delta, lambda0) / r23 - 1.0).abs() < 1e-12);
            } else {
                assert!(m > 4.0 * thm21 && radius(n, delta, lambda0) < r23);
            }
        }
    }

    /// The flippable split by hand: two neurons on n = 2, one flippable on input 0 only.
    #[test]
    fn the_flippable_split_counts_and_sums_as_defined() {
        let k = [1.0, 0.5, 0.5, 1.0];
        let (z0a, za) = ([0.01, 2.0], [0.03, 1.5]);
        let (z0b, zb) = ([-1.0, 1.0], [-1.0, 1.0]);
        let f = flippable(&k, 2, 4, 0.05, [(1.0, &z0a[..], &za[..]), (-1.0, &z0b[..], &zb[..])].into_iter());
        assert_eq!(f.counts, vec![1, 0]);
        // Row 0 over S_0^⊥ = {a}: both of a's patterns are on.
        assert_eq!(f.h_perp, vec![0.25, 0.125, 0.0, 0.0]);
        assert_eq!(f.output, vec![0.03 / 2.0, 0.0]);
        assert_eq!(f.output_abs, vec![0.03 / 2.0, 0.0]);
        assert!((spectral_norm(&f.h_perp, 2).unwrap() - (0.25f64.powi(2) + 0.125f64.powi(2)).sqrt()).abs() < 1e-15);
    }
}
