//! Slide Lem 2.5 (paper Lem 3.4): if R′ < R then for all t, λmin(H(t)) ≥ λ0/2 and the movement and decay bounds hold.
//!
//! Precisely, for all t: λmin(H(t)) ≥ λ0/2, max_r ‖w_r(t) − w_r(0)‖ ≤ R′ and the Lem 2.4 decay
//! hold. It is judged on the seeds where R′ < R, on inputs with K far from diagonal.

use model::{Dataset, InfiniteWidth, Network};

use crate::bounds::{log10_premise_width, premise_width};
use crate::claim::{Claim, Evaluation, Prepared};
use crate::claim::{EventSpec, MeasureSpec, Measurements, SeedCtx, SeedOutcome, worst_of};
use crate::result::{Observation, Premise, ProofWidth, Role, Target};
use crate::trajectory::{ROUNDING, decay_observation, dynamics, flow_config, horizon, run_until};
use crate::{CheckConfig, DataKind, LemmaError, Profile, Solver, make_data};

/// Slide Lem 2.5 = paper Lem 3.4.
pub struct Lem25;

/// The tiny profile: live seeds in seconds, so that the lemma can be supported — and refuted
/// under `bound_scale` — through its own code: the proof-width profile's data (n = d = 2
/// correlated, reduced solver), δ = 1/4 (target 1 − 2δ = ½, which 6 live seeds out of 6 support
/// and 0 out of 6 refute), 10 seeds (about one in four is vacuous), at twice the width where
/// R′ < R holds for the mean ‖y − u(0)‖ (m ≈ 5·10⁶).
pub fn tiny() -> CheckConfig {
    // 18 seeds: enough for the anytime-valid bound to refute the mutated claim (its joint event
    // fails on every live seed) even with two vacuous seeds (docs/theory.md §3.1, §3.8).
    crate::proof_width::lem25_at(CheckConfig { delta: 0.25, seeds: 18, ..crate::proof_width::base() }, 2.0)
}

/// One seed's network: stored (full solver) or streamed (reduced solver). One lives per seed
/// being evaluated, so the size of the larger variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
enum Seed<'a> {
    Full(Network),
    Reduced(crate::reduced_flow::ReducedSeed<'a>),
}

/// The statement, with its constants.
const STATEMENT: &str = "If R′ < R then for all t ≥ 0: λmin(H(t)) ≥ λ0/2, max_r ‖w_r(t) − w_r(0)‖ ≤ R′, and ‖y − u(t)‖² ≤ exp(−λ0 t)‖y − u(0)‖² (as proved, on Lem 2.2's and Lem 2.3's events too: probability ≥ 1 − 2δ given R′ < R).";

struct Evaluator<'a> {
    cfg: &'a CheckConfig,
    data: Dataset,
    reference: InfiniteWidth,
    lambda0: f64,
    big_r: f64,
    m_needed: f64,
    log10_m_needed: f64,
    t_end: f64,
}

impl Claim for Lem25 {
    fn config(&self, profile: Profile) -> CheckConfig {
        let correlated = CheckConfig {
            n: 2,
            d: 2,
            data: DataKind::Correlated,
            delta: 0.4,
            horizon: 1.0,
            step: 0.1,
            bisection_steps: 0,
            ..CheckConfig::default()
        };
        match profile {
            Profile::Tiny => tiny(),
            Profile::ProofWidth => crate::proof_width::lem25(),
            Profile::ProofWidthHard => crate::proof_width::lem25_on(crate::proof_width::hard_base()),
            // The exact reduced solver (theory §5): at these widths the full one took most of the
            // quick profile's time (about 215 of 328 s in release).
            Profile::Quick => {
                CheckConfig { widths: vec![1_000, 10_000, 100_000], seeds: 20, solver: Solver::Reduced, ..correlated }
            }
            Profile::Paper => CheckConfig { widths: vec![4_000_000], seeds: 6, step: 0.5, ..correlated },
        }
    }
    fn seed_flops(&self, cfg: &CheckConfig, lambda0: f64, m: usize) -> f64 {
        crate::cost::reduced_seed_flops(cfg, m).unwrap_or_else(|| crate::cost::first_layer_flow_flops(cfg, lambda0, m))
    }
    fn proof_orders(&self, _event: &str) -> Option<crate::bounds::ProofOrders> {
        Some(crate::bounds::lem25_orders())
    }
    fn prepare<'a>(&self, cfg: &'a CheckConfig) -> Result<Prepared<'a>, LemmaError> {
        if cfg.delta >= 0.5 {
            return Err(LemmaError::Config {
                name: "delta",
                value: cfg.delta.to_string(),
                reason: "Lem 2.5 rests on Lem 2.2's and Lem 2.3's events and claims probability 1 − 2δ: take δ < 1/2"
                    .into(),
            });
        }
        let data = make_data(cfg)?;
        let n = data.n();
        let reference = InfiniteWidth::first_layer(&data).map_err(dynamics)?;
        let lambda0 = crate::trajectory::positive_lambda0(reference.lambda0())?;
        let big_r = crate::bounds::lem23_radius(n, cfg.delta, lambda0);
        let expected_r0 = (data.y().squared_norm_l2() + n as f64 / 2.0).sqrt();
        let m_needed = premise_width(n, expected_r0, cfg.delta, lambda0);
        let log10_m_needed = log10_premise_width(n, expected_r0, cfg.delta, lambda0);
        let t_end = horizon(cfg, lambda0)?;
        Ok(Prepared::new(
            lambda0,
            STATEMENT,
            Evaluator { cfg, data, reference, lambda0, big_r, m_needed, log10_m_needed, t_end },
        ))
    }
}

impl Evaluation for Evaluator<'_> {
    fn proof_widths(&self) -> Vec<ProofWidth> {
        vec![ProofWidth::new(
            "R′ < R with ‖y − u(0)‖ at its mean √(‖y‖² + n/2)",
            "(32 n^{2.5} ‖y − u(0)‖ / (√(2π) δ λ0²))²",
            self.m_needed,
            self.log10_m_needed,
        )]
    }
    fn events(&self) -> Vec<EventSpec> {
        vec![
            EventSpec::new(
                "statement",
                Role::Statement,
                Target::Probability(1.0 - 2.0 * self.cfg.delta),
                format!(
                    "on seeds with R′ < R: at every sample t ≤ T = {:.4} (λ0·T = {:.3}), λmin(H(t)) ≥ λ0/2, max_r ‖w_r(t) − w_r(0)‖ ≤ R′ and ‖y − u(t)‖² ≤ e^{{−λ0 t}}‖y − u(0)‖² (measured: the worst of the three ratios; seeds with R′ ≥ R are vacuous)",
                    self.t_end,
                    self.lambda0 * self.t_end
                ),
            )
            .budget("1 − 2δ for the joint event: the proof gives P(R′ < R and a conclusion fails) ≤ 2δ (Lem 2.2's and Lem 2.3's events each spend δ), so the live seeds' conditional rate is bounded only by 2δ/P(R′ < R): supported when the conditional rate clears 1 − 2δ, refuted only when the joint event fails it")
            .implication(),
            EventSpec::new(
                "premise",
                Role::ProofStep,
                Target::Probability(1.0 - self.cfg.delta),
                format!("R′ < R = √(2π)δλ0/(16n²) = {:.4e} (measured: R′; bound R)", self.big_r),
            )
            .premise(Premise::Width { width: self.m_needed, source: "the width at which R′ < R for the mean ‖y − u(0)‖".into() }),
            EventSpec::new(
                "conclusion",
                Role::ProofStep,
                Target::Probability(1.0 - 2.0 * self.cfg.delta),
                "on every seed, whether or not R′ < R: the statement's three conclusions at every sample (what the scaling sweeps measure: the width the conclusion needs, against the width the premise asks)".to_string(),
            )
            .budget("1 − 2δ, as the statement")
            .premise(Premise::Width {
                width: self.m_needed,
                source: "the width at which R′ < R for the mean ‖y − u(0)‖ (the premise that implies the conclusion)".into(),
            }),
        ]
    }
    fn measures(&self) -> Vec<MeasureSpec> {
        vec![
            MeasureSpec::report("r-prime-over-r", "R′/R on every seed (the premise needs < 1; it falls like 1/√m)"),
            MeasureSpec::report("decay-ratio", "live seeds: max_t ‖y − u(t)‖² / (e^{−λ0 t}‖y − u(0)‖²) (≤ 1 claimed)"),
            MeasureSpec::report(
                "distance-over-r-prime",
                "live seeds: max_t max_r ‖w_r(t) − w_r(0)‖ / R′ (≤ 1 claimed)",
            ),
            MeasureSpec::report("lambda-min-over-half-lambda0", "live seeds: min_t λmin(H(t)) / (λ0/2) (≥ 1 claimed)"),
            MeasureSpec::report(
                "decay-ratio-kernel-limit",
                "live seeds: the decay ratio at infinite width from the seed's own u(0): e(t) = e^{−H∞t}e(0) (theory §3.9)",
            ),
            MeasureSpec::report(
                "lambda-min-over-half-lambda0-kernel-limit",
                "live seeds: λmin(H(t)) / (λ0/2) at infinite width, where H(t) = H∞: λmin(H∞)/(λ0/2) (theory §3.9)",
            ),
        ]
    }
    fn evaluate(&self, seed: &SeedCtx<'_>) -> Result<SeedOutcome, LemmaError> {
        let (data, lambda0, n) = (&self.data, self.lambda0, self.data.n());
        // At large widths the reduced solver (docs/theory.md §5) runs the same network without storing it.
        let solver = if crate::reduced_flow::use_reduced(self.cfg, seed.m, n) {
            Seed::Reduced(crate::reduced_flow::ReducedSeed::new(data, seed.m, seed.init_seed, seed.trial)?)
        } else {
            Seed::Full(Network::init(seed.m, data.d(), seed.init_seed, seed.trial)?)
        };
        // R′ needs only u(0).
        let r0 = match &solver {
            Seed::Reduced(red) => red.initial_residual_norm()?,
            Seed::Full(net) => (data.y() - &net.forward(data)?.u).norm_l2(),
        };
        let r_prime = 2.0 * (n as f64).sqrt() * r0 / ((seed.m as f64).sqrt() * lambda0);
        let premise = seed.judge("premise").below(r_prime, self.big_r, 0.0);
        let live_seed = r_prime < self.big_r;
        let out = SeedOutcome::default().event("premise", premise).value("r-prime-over-r", r_prime / self.big_r);
        // The conclusion is judged on every seed (the scaling sweeps' event); the statement only
        // where R′ < R. Both judges carry the same bound_scale (docs/theory.md §3.2).
        let st = seed.judge("conclusion");
        // The decay bound under bound_scale: once it fails beyond doubt, the seed's verdict is settled.
        let r = match &solver {
            Seed::Reduced(red) => red.run(lambda0, self.cfg.step, self.t_end, Some(st.scale))?,
            Seed::Full(net) => {
                run_until(data, net, &self.reference, &flow_config(self.cfg, self.t_end), false, Some(st.scale))?
            }
        };
        let live: Vec<_> = r.points.iter().filter(|p| p.t > 0.0).collect();
        let lmin_band = ROUNDING * n as f64;
        let conclusion = |j: &crate::claim::Judge| {
            let lmin = worst_of(live.iter().map(|p| j.at_least(p.lambda_min_h, lambda0 / 2.0, lmin_band).at_time(p.t)));
            let dist =
                worst_of(live.iter().map(|p| j.at_most(p.max_distance, r.r_prime, p.distance_band).at_time(p.t)));
            decay_observation(j, &r.points, r.completed).worst(lmin).worst(dist)
        };
        let out = out.event("conclusion", conclusion(&st));
        if !live_seed {
            return Ok(out.event("statement", Observation::vacuous()));
        }
        let max_of =
            |f: &dyn Fn(&crate::trajectory::Point) -> f64| live.iter().map(|p| f(p)).fold(f64::NEG_INFINITY, f64::max);
        let out = out
            .event("statement", conclusion(&seed.judge("statement")))
            .value("decay-ratio", max_of(&|p| p.bound_ratio))
            .value("distance-over-r-prime", max_of(&|p| p.max_distance / r.r_prime))
            .value("lambda-min-over-half-lambda0", -max_of(&|p| -p.lambda_min_h / (lambda0 / 2.0)))
            .value("lambda-min-over-half-lambda0-kernel-limit", self.reference.lambda0() / (lambda0 / 2.0));
        // The kernel limit from the seed's own u(0) = y + (u(0) − y).
        let u0 = faer::Col::from_fn(n, |i| data.y()[i] + r.initial_residual[i]);
        let limit = crate::kernel_limit::KernelLimit::new(&self.reference, data.y(), u0.as_ref())?;
        // None only when u(0) = y exactly (nothing to decay): the measure then has no value.
        Ok(match crate::kernel_limit::flow_decay(&limit, self.t_end, crate::trajectory::SAMPLE_INTERVALS) {
            Ok(p) => out.value("decay-ratio-kernel-limit", p.max_ratio),
            Err(_) => out,
        })
    }
    fn notes(&self, measured: &Measurements) -> Vec<String> {
        let (lo, hi) = crate::off_diagonal_range(&self.data);
        let mut notes = vec![format!(
            "Inputs: {} points on the sphere in d = {} with K far from diagonal (|x_iᵀx_j| between {lo:.3} and {hi:.3}; correlated data, [theory §2.4](theory.md#24-lem-25-paper-lem-34)): orthonormal inputs would make H(t) diagonal and the flow split by coordinate, which tests nothing.",
            self.data.n(),
            self.data.d()
        )];
        // CheckConfig::validate (run_claim, preflight, claim_threshold call it before prepare) refuses empty widths.
        let largest = *self.cfg.widths.last().expect("validated") as f64;
        notes.push(format!(
            "R′ < R needs m ≈ {:.3e} at the mean ‖y − u(0)‖; the largest width run is {} ({:.3e}× that). Runs go to T = max(horizon, 8/λ0) = {:.4} with RK4 step h = {} and the shadow error estimate as band.",
            self.m_needed, largest as u64, largest / self.m_needed, self.t_end, self.cfg.step
        ));
        if let Some(st) = measured.event("statement") {
            for row in &st.rows {
                notes.push(if row.seeds == 0 {
                    format!("m = {}: R′ ≥ R on all {} seeds, so no seed is evidence; the width is inconclusive.", row.m, row.seeds_vacuous)
                } else {
                    let margin = |key: &str| {
                        measured
                            .measure(key)
                            .and_then(|e| e.rows.iter().find(|r| r.m == row.m))
                            .map_or("—".to_string(), |r| format!("{:.4}–{:.4}", r.min, r.max))
                    };
                    format!(
                        "m = {}: {} live seeds (R′ < R), {} vacuous; on the live seeds the conclusion held beyond its band on {}; margins: decay ratio {}, distance/R′ {}, λmin/(λ0/2) {}.",
                        row.m,
                        row.seeds,
                        row.seeds_vacuous,
                        row.successes,
                        margin("decay-ratio"),
                        margin("distance-over-r-prime"),
                        margin("lambda-min-over-half-lambda0")
                    )
                });
            }
        }
        notes.extend(crate::kernel_limit::decay_note(measured));
        notes
    }
}
