//! Slide Thm 2.1 (paper Thm 3.2): with m ≥ m₂.₁, w.p. ≥ 1 − 3δ, for all t, ‖u(t) − y‖² ≤ e^{−λ0 t}‖u(0) − y‖².
//!
//! Here u(t) follows the gradient flow.

use model::{Dataset, InfiniteWidth, Network};

use crate::bounds::{
    THM21_EVENTS_CHAINED as EVENTS_CHAINED, log10_thm21_proof_width as log10_proof_width,
    thm21_proof_width as proof_width,
};
use crate::claim::{Claim, Evaluation, Prepared};
use crate::claim::{EventSpec, MeasureSpec, Measurements, SeedCtx, SeedOutcome};
use crate::kernel_limit::{KernelLimit, flow_decay};
use crate::profile::flow_profile;
use crate::result::{Premise, ProofWidth, Relation, Role, Target};
use crate::trajectory::rate_note;
use crate::trajectory::{ROUNDING, decay_observation, dynamics, flow_config, horizon, late_decay_rate, run};
use crate::{CheckConfig, LemmaError, Profile, make_data};

/// Slide Thm 2.1 = paper Thm 3.2.
pub struct Thm21;

/// The statement, with its constants.
const STATEMENT: &str = "If m ≥ m₂.₁ then with probability ≥ 1 − 3δ over W(0), a: ‖u(t) − y‖² ≤ exp(−λ0 t)‖u(0) − y‖² for all t ≥ 0 (gradient flow of the first layer; the proof spends δ on each of Lem 2.2's, Lem 2.3's and Markov's events).";

struct Evaluator<'a> {
    cfg: &'a CheckConfig,
    data: Dataset,
    reference: InfiniteWidth,
    lambda0: f64,
    y2: f64,
    m21: f64,
    t_end: f64,
}

impl Claim for Thm21 {
    fn config(&self, profile: Profile) -> CheckConfig {
        match profile {
            Profile::ProofWidth => crate::proof_width::thm21(),
            Profile::ProofWidthHard => crate::proof_width::thm21_on(crate::proof_width::hard_base()),
            _ => flow_profile(profile),
        }
    }
    fn seed_flops(&self, cfg: &CheckConfig, lambda0: f64, m: usize) -> f64 {
        crate::cost::reduced_seed_flops(cfg, m).unwrap_or_else(|| crate::cost::first_layer_flow_flops(cfg, lambda0, m))
    }
    fn proof_orders(&self, _event: &str) -> Option<crate::bounds::ProofOrders> {
        Some(crate::bounds::thm21_thm31_orders())
    }
    fn prepare<'a>(&self, cfg: &'a CheckConfig) -> Result<Prepared<'a>, LemmaError> {
        crate::claim::chained_target("Thm 2.1", EVENTS_CHAINED, cfg.delta)?;
        let data = make_data(cfg)?;
        let reference = InfiniteWidth::first_layer(&data).map_err(dynamics)?;
        let lambda0 = crate::trajectory::positive_lambda0(reference.lambda0())?;
        let y2 = data.y().squared_norm_l2();
        let t_end = horizon(cfg, lambda0)?;
        Ok(Prepared::new(
            lambda0,
            STATEMENT,
            Evaluator { cfg, m21: proof_width(data.n(), y2, cfg.delta, lambda0), data, reference, lambda0, y2, t_end },
        ))
    }
}

impl Evaluation for Evaluator<'_> {
    fn proof_widths(&self) -> Vec<ProofWidth> {
        vec![ProofWidth::new(
            "Lem 2.5's premise R′ < R with Markov ‖y − u(0)‖² ≤ (‖y‖² + n/2)/δ",
            "512 n⁵ (‖y‖² + n/2) / (π δ³ λ0⁴)",
            self.m21,
            log10_proof_width(self.data.n(), self.y2, self.cfg.delta, self.lambda0),
        )]
    }
    fn events(&self) -> Vec<EventSpec> {
        let delta = self.cfg.delta;
        vec![
            EventSpec::new(
                "statement",
                Role::Statement,
                Target::Probability(1.0 - f64::from(EVENTS_CHAINED) * delta),
                format!(
                    "‖y − u(t)‖² ≤ e^{{−λ0 t}}‖y − u(0)‖² at every sample t ∈ (0, {:.4}] (λ0·T = {:.3}; measured: max ratio; band: the integrator's error estimate)",
                    self.t_end,
                    self.lambda0 * self.t_end
                ),
            )
            .premise(Premise::Width { width: self.m21, source: "m₂.₁ = 512 n⁵ (‖y‖² + n/2)/(π δ³ λ0⁴)".into() })
            .budget("1 − 3δ: Lem 2.2's event, Lem 2.3's event and Markov's inequality each spend δ"),
            EventSpec::new(
                "markov-initial-residual",
                Role::ProofStep,
                Target::Probability(1.0 - delta),
                "‖y − u(0)‖² ≤ (‖y‖² + n/2)/δ (Markov's inequality on E‖y − u(0)‖² = ‖y‖² + n/2; any m)",
            ),
        ]
    }
    fn measures(&self) -> Vec<MeasureSpec> {
        let e = self.y2 + self.data.n() as f64 / 2.0;
        vec![
            MeasureSpec::compare(
                "initial-residual",
                Relation::Equal,
                e,
                format!("E‖y − u(0)‖² = ‖y‖² + n/2 = {e:.4} (the slide's ‖y‖² + n is looser)"),
            ),
            MeasureSpec::report(
                "decay-rate",
                "late decay rate −d log‖y − u‖²/dt over [T/2, T] ÷ λ0 (the bound's rate is 1)",
            ),
            MeasureSpec::report(
                "rate-vs-2-lambda-min",
                "late decay rate ÷ 2λmin(H(T)) (→ 1 as the slowest mode dominates)",
            ),
            MeasureSpec::report(
                "decay-ratio",
                "max over the samples t > 0 of ‖y − u(t)‖² ÷ (e^{−λ0 t}‖y − u(0)‖²) (the statement's margin)",
            ),
            MeasureSpec::report(
                "decay-ratio-kernel-limit",
                "the same maximum at infinite width from the seed's own u(0): e(t) = e^{−H∞t}e(0) (theory §3.9)",
            ),
            MeasureSpec::report(
                "decay-rate-kernel-limit",
                "the late decay rate ÷ λ0 at infinite width from the seed's own u(0) (theory §3.9)",
            ),
        ]
    }
    fn evaluate(&self, seed: &SeedCtx<'_>) -> Result<SeedOutcome, LemmaError> {
        // At large widths the reduced solver (docs/theory.md §5) runs the same network without storing it.
        let r = if crate::reduced_flow::use_reduced(self.cfg, seed.m, self.data.n()) {
            crate::reduced_flow::ReducedSeed::new(&self.data, seed.m, seed.init_seed, seed.trial)?.run(
                self.lambda0,
                self.cfg.step,
                self.t_end,
                None,
            )?
        } else {
            let net = Network::init(seed.m, self.data.d(), seed.init_seed, seed.trial)?;
            run(&self.data, &net, &self.reference, &flow_config(self.cfg, self.t_end), false)?
        };
        let statement = decay_observation(&seed.judge("statement"), &r.points, r.completed);
        let r0sq = r.initial_residual_norm.powi(2);
        // r.points is non-empty (late_decay_rate and last() below): execute() samples t = 0 whenever loss(0)
        // is finite, which this check's own data guarantee.
        let rate = late_decay_rate(&r.points);
        let last = r.points.last().expect("T is sampled");
        let markov = (self.y2 + self.data.n() as f64 / 2.0) / self.cfg.delta;
        let u0 = faer::Col::from_fn(self.data.n(), |i| self.data.y()[i] + r.initial_residual[i]);
        let limit = KernelLimit::new(&self.reference, self.data.y(), u0.as_ref())?;
        // None only when u(0) = y exactly (nothing to decay): the measures then have no value.
        let predicted = flow_decay(&limit, self.t_end, crate::trajectory::SAMPLE_INTERVALS).ok();
        let measured = r.points.iter().filter(|p| p.t > 0.0).map(|p| p.bound_ratio).fold(f64::NEG_INFINITY, f64::max);
        let out = SeedOutcome::default()
            .event("statement", statement)
            .event(
                "markov-initial-residual",
                seed.judge("markov-initial-residual").at_most(r0sq, markov, ROUNDING * markov),
            )
            .value("initial-residual", r0sq)
            .value("decay-rate", rate / self.lambda0)
            .value("rate-vs-2-lambda-min", rate / (2.0 * last.lambda_min_h))
            .value("decay-ratio", measured);
        Ok(match predicted {
            Some(p) => out
                .value("decay-ratio-kernel-limit", p.max_ratio)
                .value("decay-rate-kernel-limit", p.late_rate_over_lambda0),
            None => out,
        })
    }
    fn notes(&self, measured: &Measurements) -> Vec<String> {
        let mut notes = vec![
            format!(
                "Gradient flow integrated by RK4 with h = {} on [0, T], T = max(horizon, 8/λ0) = {:.4} (λ0·T = {:.3}: the bound falls by e^{{−{:.3}}}; [theory §3.6](theory.md#36-horizons)), sampled at {} times; a run stops early only at the rounding level.",
                self.cfg.step,
                self.t_end,
                self.lambda0 * self.t_end,
                self.lambda0 * self.t_end,
                crate::trajectory::SAMPLE_INTERVALS + 1
            ),
            "The bound is checked on [0, T] only; 'for all t' is outside any simulation.".into(),
        ];
        notes.extend(rate_note(measured));
        notes.extend(crate::kernel_limit::decay_note(measured));
        notes
    }
}
