//! Gradient-flow trajectories on the reduced solver (docs/theory.md §5), for the flow claims at the proofs' own widths.
//!
//! The trajectories are of the first layer: the same sampled [`Run`] as `trajectory`, with bands
//! from a shadow run at h/2.
//! The network is `Network::init(m, d, init_seed, trial)` streamed (never stored); the flow is
//! RK4 at the check's step h, and a shadow at h/2 runs in lockstep on the same stream, as the
//! full solver's shadow error estimate does: the u error is (16/15)‖u_h − u_{h/2}‖ and the
//! per-neuron error (16/15) max_r ‖w_r,h − w_r,h/2‖ (an upper bound over the frozen patterns),
//! both multiplied by `flow::ANY_ORDER_FACTOR` to hold at any convergence order.

use flow::ANY_ORDER_FACTOR;
use model::{Control, Dataset};
use reduced::{BudgetPolicy, SeededInit, ShadowedFlow, State, System};

use crate::config::Solver;
use crate::trajectory::{Point, ROUNDING, ROUNDING_LEVEL, Run, SAMPLE_INTERVALS, dynamics};
use crate::{CheckConfig, LemmaError};

/// `Solver::Auto` takes the reduced solver from this width on.
pub const AUTO_MIN_WIDTH: usize = 1_000_000;
/// ... and up to this many inputs.
pub const AUTO_MAX_INPUTS: usize = 12;

/// The budget factor of the claims' reduced runs (see [`BudgetPolicy::initial_factor`]).
pub const BUDGET_FACTOR: f64 = 1.0;
/// The budget growth of the claims' reduced runs (see [`BudgetPolicy::growth`]).
pub const BUDGET_GROWTH: f64 = 4.0;

/// The budget policy of the claims' reduced runs: [`BUDGET_FACTOR`], grown by [`BUDGET_GROWTH`].
pub const POLICY: BudgetPolicy = BudgetPolicy { initial_factor: BUDGET_FACTOR, growth: BUDGET_GROWTH };

/// What planning needs of a configuration's reduced runs at width m, before any seed runs: n, d,
/// λ0 and the initial budget ρ̄ of [`POLICY`] (one data draw, no pass over the stream). `None`
/// when the data cannot be drawn (the check then refuses with the data's own error).
fn planning(cfg: &CheckConfig, m: usize) -> Option<(usize, usize, f64, Vec<f64>)> {
    let data = crate::make_data(cfg).ok()?;
    let source = SeededInit::new(&data, m, 0, 0).ok()?;
    let sys = System::new(&data, &source, POLICY).ok()?;
    Some((data.n(), data.d(), sys.lambda0(), sys.initial_budget()))
}

/// The memory one seed's reduced run (and its h/2 shadow) holds at width m: `MemoryEstimate`
/// for the expected active count at the initial budget grown once, twice. `None` when
/// the data cannot be drawn.
pub fn state_bytes(cfg: &CheckConfig, m: usize) -> Option<u64> {
    let (n, d, _, budget) = planning(cfg, m)?;
    let rho: Vec<f64> = budget.iter().map(|r| BUDGET_GROWTH * r).collect();
    let active = reduced::expected_active(m as u64, &rho);
    // One chunk buffer: the caller multiplies by the seeds in flight (and must not start rayon's
    // global pool while planning, so no thread count is asked for here).
    Some(2 * reduced::MemoryEstimate::of(n, d, m as u64, active, 1).total())
}

/// The work of one seed's reduced run at width m beyond its passes over the stream, in updates of
/// one active neuron, for time estimates: the expected active count with the budget grown once
/// (as in [`state_bytes`], and at least Thm 3.1's radius R₃.₁, whose route makes every neuron of
/// S_i^⊥ active) times the longer of the claims' two dynamics — RK4 to T = max(horizon, 8/λ0) with
/// its h/2 shadow (12 stage evaluations a step), or GD for Thm 3.1's K = max(iterations,
/// ⌈16/(ηλ0)⌉). `None` when the data cannot be drawn.
pub fn active_updates(cfg: &CheckConfig, m: usize) -> Option<f64> {
    let (n, _, lambda0, budget) = planning(cfg, m)?;
    let r31 = crate::bounds::thm31_radius(n, cfg.delta, lambda0);
    let rho: Vec<f64> = budget.iter().map(|r| (BUDGET_GROWTH * r).max(r31)).collect();
    let active = reduced::expected_active(m as u64, &rho) as f64;
    let flow = 12.0 * (cfg.horizon.max(8.0 / lambda0) / cfg.step).ceil();
    let eta = descent::LearningRate::theorem_eta(cfg.c_eta, lambda0, n);
    let gd = crate::bounds::iterations_for(cfg.iterations, eta, lambda0) as f64;
    Some(active * flow.max(gd))
}

/// Whether a check at width m on n inputs runs the reduced solver.
pub fn use_reduced(cfg: &CheckConfig, m: usize, n: usize) -> bool {
    match cfg.solver {
        Solver::Full => false,
        Solver::Reduced => true,
        Solver::Auto => m >= AUTO_MIN_WIDTH && n <= AUTO_MAX_INPUTS,
    }
}

/// The reduced network of one seed: its stream and its state at t = 0.
pub struct ReducedSeed<'a> {
    data: &'a Dataset,
    source: SeededInit,
    /// The state at t = 0, from the first pass (kept: the run and its shadow start from it).
    initial: std::cell::OnceCell<State>,
}

impl<'a> ReducedSeed<'a> {
    /// The width-m init of `(init_seed, trial)` on `data`.
    pub fn new(data: &'a Dataset, m: usize, init_seed: u64, trial: u64) -> Result<Self, LemmaError> {
        Ok(ReducedSeed {
            data,
            source: SeededInit::new(data, m, init_seed, trial).map_err(dynamics)?,
            initial: std::cell::OnceCell::new(),
        })
    }

    fn system(&self) -> Result<System<'_, SeededInit>, LemmaError> {
        // At these widths a pass over the stream costs far more than the active neurons it adds:
        // the default budget, grown fourfold when the motion reaches it.
        System::new(self.data, &self.source, POLICY).map_err(dynamics)
    }

    /// The state at t = 0 (one pass over the stream, made once).
    fn initial_state(&self, sys: &System<'_, SeededInit>) -> Result<State, LemmaError> {
        if let Some(st) = self.initial.get() {
            return Ok(st.clone());
        }
        let st = sys.initial_state().map_err(dynamics)?;
        Ok(self.initial.get_or_init(|| st).clone())
    }

    /// ‖y − u(0)‖ (one pass over the stream).
    pub fn initial_residual_norm(&self) -> Result<f64, LemmaError> {
        Ok(self.initial_state(&self.system()?)?.initial_residual_norm)
    }

    /// The flow to `t_end` at step h, sampled at [`SAMPLE_INTERVALS`] equal intervals, stopped at the
    /// rounding level or (with `stop_above_ratio`) once the decay ratio exceeds it.
    ///
    /// The run and its h/2 shadow advance together as one [`ShadowedFlow`] through the one executor
    /// `model::execute`: the grid of `flow::integrate` (t_k = k·h, the last step landing on T), a
    /// sample between grid points made from the grid point before it on copies that never feed
    /// back, and the one divergence rule (a loss not finite or past
    /// `model::DEFAULT_DIVERGENCE_FACTOR` × L(0) ends the run as not completed).
    pub fn run(&self, lambda0: f64, h: f64, t_end: f64, stop_above_ratio: Option<f64>) -> Result<Run, LemmaError> {
        let sys = self.system()?;
        // The shadow starts from the same state (the same pass would give the same bits).
        let st = self.initial_state(&sys)?;
        let r0 = st.initial_residual_norm;
        let initial_residual = st.residual().to_vec();
        let times: Vec<f64> = (0..=SAMPLE_INTERVALS)
            .map(|k| if k == SAMPLE_INTERVALS { t_end } else { t_end * k as f64 / SAMPLE_INTERVALS as f64 })
            .collect();
        let mut pair = (st.clone(), st);
        let mut points = Vec::with_capacity(times.len());
        let run = crate::trajectory::execute(
            &mut ShadowedFlow::new(&sys),
            &mut pair,
            model::grid::walk(h, &times),
            |(st, sh), at| {
                let p = self.point(&sys, st, sh, lambda0, r0, at.t)?;
                let done = at.index > 0
                    && (p.residual_sq <= ROUNDING_LEVEL * r0 * r0
                        || stop_above_ratio.is_some_and(|r| p.bound_ratio > r * (1.0 + 1e-6)));
                points.push(p);
                Ok(if done { Control::Stop } else { Control::Continue })
            },
        )?;
        Ok(Run {
            points,
            initial_residual_norm: r0,
            initial_residual,
            r_prime: r_prime(&sys, r0, lambda0),
            completed: !run.status.diverged(),
        })
    }

    fn point(
        &self,
        sys: &System<'_, SeededInit>,
        st: &State,
        sh: &State,
        lambda0: f64,
        r0: f64,
        t: f64,
    ) -> Result<Point, LemmaError> {
        let s = sys.sample(st).map_err(dynamics)?;
        let u_err: f64 = ANY_ORDER_FACTOR * 16.0 / 15.0
            * st.residual().iter().zip(sh.residual()).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
        let u_err = if u_err.is_finite() { u_err } else { f64::INFINITY };
        let residual_sq = 2.0 * s.loss;
        let bound = (-lambda0 * t).exp() * r0 * r0;
        let bound_ratio = if bound > 0.0 { residual_sq / bound } else { f64::INFINITY };
        let res = residual_sq.sqrt();
        let ratio_band = if t == 0.0 {
            0.0
        } else if bound > 0.0 {
            (2.0 * res * u_err + u_err * u_err) / bound + ROUNDING * bound_ratio
        } else {
            f64::INFINITY
        };
        let distance_band = if t == 0.0 { 0.0 } else { ANY_ORDER_FACTOR * 16.0 / 15.0 * sys.neuron_gap(st, sh) };
        Ok(Point {
            t,
            residual_sq,
            bound_ratio,
            ratio_band,
            u_error: u_err,
            lambda_min_h: s.lambda_min_h,
            lambda_min_h_plus_g: None,
            max_distance: s.max_distance,
            distance_band,
            max_neuron_gradient: s.max_neuron_gradient,
        })
    }
}

fn r_prime(sys: &System<'_, SeededInit>, r0: f64, lambda0: f64) -> f64 {
    let (n, m) = (sys_n(sys), sys.m() as f64);
    2.0 * n.sqrt() * r0 / (m.sqrt() * lambda0)
}

fn sys_n(sys: &System<'_, SeededInit>) -> f64 {
    reduced::NeuronSource::n(sys.source()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reduced trajectory is the full one (`trajectory::run`) to rounding at a width both can
    /// run: ratios, λmin(H), distances, and bands of the same size.
    #[test]
    fn reduced_run_matches_the_full_run() {
        let data = Dataset::sphere(3, 3, 2, 0).unwrap();
        let m = 5_000;
        let net = model::Network::init(m, 3, 5, 1).unwrap();
        let reference = model::InfiniteWidth::first_layer(&data).unwrap();
        let lambda0 = reference.lambda0();
        let cfg = CheckConfig { step: 0.1, ..CheckConfig::default() };
        let t_end = 8.0 / lambda0;
        let full = crate::trajectory::run(&data, &net, &reference, &crate::trajectory::flow_config(&cfg, t_end), false)
            .unwrap();
        let red = ReducedSeed::new(&data, m, 5, 1).unwrap().run(lambda0, 0.1, t_end, None).unwrap();
        assert_eq!(full.points.len(), red.points.len());
        assert!((full.r_prime - red.r_prime).abs() <= 1e-12 * full.r_prime);
        for (f, r) in full.points.iter().zip(&red.points) {
            assert_eq!(f.t, r.t);
            assert!((f.bound_ratio - r.bound_ratio).abs() <= 1e-10 * f.bound_ratio, "{f:?} vs {r:?}");
            assert!((f.lambda_min_h - r.lambda_min_h).abs() <= 1e-12, "{f:?} vs {r:?}");
            assert!((f.max_distance - r.max_distance).abs() <= 1e-12 * f.max_distance.max(1e-300));
            assert!((f.max_neuron_gradient - r.max_neuron_gradient).abs() <= 1e-10 * f.max_neuron_gradient);
            if f.t > 0.0 {
                // Same estimate, different summation: within a factor 2 (or both at rounding level).
                assert!(r.u_error <= 2.0 * f.u_error + 1e-13 && f.u_error <= 2.0 * r.u_error + 1e-13, "{f:?} vs {r:?}");
                assert!(r.distance_band >= 0.5 * f.distance_band - 1e-13, "{f:?} vs {r:?}");
            }
        }
    }
}
