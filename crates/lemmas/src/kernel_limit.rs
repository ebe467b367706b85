//! The kernel-limit (infinite-width) prediction of each margin the flow and GD claims record.
//!
//! At infinite width H(t) = H∞ for all t and the residual e = u − y follows the linear dynamics of
//! docs/theory.md §1.3; every margin the claims measure on a finite-width run (the decay ratio and
//! its late rate, Thm 3.1's per-step ratio, the movement against R′, λmin(H(t))/λ0) then has a
//! closed form in H∞'s eigendecomposition. The formulas and their derivations are docs/theory.md
//! §3.9. Everything here is a pure function of an [`InfiniteWidth`], the labels y, the start u(0)
//! (or the network and data it comes from) and the run's grid: the flow's horizon T with its
//! sample count, or GD's step η with its iteration count K.
//!
//! Any [`InfiniteWidth`] serves: [`InfiniteWidth::first_layer`] gives the kernel limit; one built
//! by [`InfiniteWidth::from_kernel`] from λ0 and H(0) gives the lazy (frozen-pattern) prediction
//! of the same margins at the run's own width.

use faer::{Col, ColRef, Mat};
use model::{Dataset, InfiniteWidth, Network, integer_power};

use crate::LemmaError;
use crate::trajectory::SAMPLE_INTERVALS;

/// Sub-steps per sample interval of the driven flow movement (patterns are re-read at each).
pub const DRIVEN_SUBSTEPS: usize = 50;

/// Inputs up to which the infinite-width movement limit is computed (a maximum over the 2ⁿ
/// activation patterns, at O(n) per pattern).
pub const LIMIT_MAX_INPUTS: usize = 16;

/// Below this λmin(K) the inputs are treated as linearly dependent, when not every activation
/// pattern has positive probability and the movement limit is not computed.
pub const INDEPENDENT_INPUTS: f64 = 1e-12;

/// The kernel-limit decay of a gradient-flow run sampled at t_k = T·k/N, k = 0..=N.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowDecay {
    /// The sample times t_k.
    pub times: Vec<f64>,
    /// ‖e(t_k)‖²/(e^{−λ0 t_k}‖e(0)‖²) at each sample (1 at t = 0).
    pub ratios: Vec<f64>,
    /// The maximum of `ratios` over the samples t > 0 (the margin the flow claims record).
    pub max_ratio: f64,
    /// −ln(‖e(t_N)‖²/‖e(t_a)‖²)/(t_N − t_a) ÷ λ0 with a = (N + 1)/2, the samples
    /// [`crate::trajectory::late_decay_rate`] takes.
    pub late_rate_over_lambda0: f64,
}

/// The kernel-limit decay of a GD run of K steps at step η.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GdDecay {
    /// max over 1 ≤ k ≤ K of ‖e(k)‖²/((1 − ηλ0/2)^k ‖e(0)‖²).
    pub max_ratio: f64,
    /// The k at which it is reached (1 or K: the ratio is log-convex in k).
    pub max_at: usize,
    /// (−ln(‖e(K)‖²/‖e(0)‖²)/K) ÷ (−ln(1 − ηλ0/2)), Thm 3.1's per-step ratio.
    pub per_step_ratio: f64,
}

/// One predicted max_r ‖w_r − w_r(0)‖, and its ratio to R′.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distance {
    /// The distance.
    pub distance: f64,
    /// `distance / r_prime`.
    pub over_r_prime: f64,
}

/// The linearised movement max_r ‖w_r − w_r(0)‖ under the kernel-limit residual, three ways.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MovementPrediction {
    /// R′ of the dynamics: 2√n‖e(0)‖/(√m λ0) for the flow, 4√n‖e(0)‖/(√m λ0) for GD.
    pub r_prime: f64,
    /// Frozen patterns: the maximum over the grid's checkpoints, at the network's width m.
    pub frozen: Distance,
    /// lim_{m→∞} √m × the frozen distance at this e(0) (the maximum over every activation
    /// pattern, |a_r| = 1), its ratio the width-free limit `limit / (√m R′)`. `None` when
    /// n > [`LIMIT_MAX_INPUTS`] or λmin(K) < [`INDEPENDENT_INPUTS`].
    pub limit: Option<Distance>,
    /// Each neuron driven by the kernel-limit residual but free to change its pattern (w_r
    /// integrated through its own switches): the limit of the measured maximum as m → ∞, where
    /// the frozen value falls short (docs/theory.md §3.9).
    pub driven: Distance,
}

/// λmin(H(t))/λ0 as the two linear theories predict it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LambdaMinPrediction {
    /// The kernel limit: H(t) = H∞, so λmin(H∞)/λ0 (exactly 1 for [`InfiniteWidth::first_layer`]).
    pub kernel_limit: f64,
    /// The lazy prediction at the network's width: patterns frozen, H(t) = H(0), so λmin(H(0))/λ0.
    pub lazy: f64,
}

fn invalid(name: &'static str, value: impl std::fmt::Display, reason: &str) -> LemmaError {
    LemmaError::Config { name, value: value.to_string(), reason: reason.to_string() }
}

/// The kernel-limit dynamics of one start: e(0) = u(0) − y in the kernel's eigenbasis, from which
/// every flow and GD prediction below is O(n) or O(n²).
pub struct KernelLimit<'a> {
    width: &'a InfiniteWidth,
    /// α = Uᵀ(u(0) − y).
    alpha: Col<f64>,
    /// Σ_j α_j² = ‖e(0)‖².
    norm_sq: f64,
}

impl<'a> KernelLimit<'a> {
    /// The start u(0) against labels y under `width`'s kernel (y and u(0) finite, of length n).
    pub fn new(width: &'a InfiniteWidth, y: ColRef<'_, f64>, u0: ColRef<'_, f64>) -> Result<Self, LemmaError> {
        let n = width.n();
        for (name, v) in [("y", y), ("u0", u0)] {
            if v.nrows() != n {
                return Err(invalid(
                    name,
                    format!("{} entries", v.nrows()),
                    &format!("H∞ is {n} × {n}: need {n} entries"),
                ));
            }
            if let Some(i) = (0..n).find(|&i| !v[i].is_finite()) {
                return Err(invalid(name, format!("entry {i} = {}", v[i]), "every entry must be finite"));
            }
        }
        let e0 = Col::from_fn(n, |i| u0[i] - y[i]);
        let alpha = width.coefficients(e0.as_ref())?;
        let norm_sq = alpha.iter().map(|a| a * a).sum();
        Ok(KernelLimit { width, alpha, norm_sq })
    }

    /// Refuses e(0) = 0: every ratio below divides by ‖e(0)‖².
    fn nonzero(&self) -> Result<(), LemmaError> {
        if self.norm_sq > 0.0 && self.norm_sq.is_finite() {
            Ok(())
        } else {
            Err(invalid("u0", format!("‖u(0) − y‖² = {:e}", self.norm_sq), "u(0) = y leaves no residual to decay"))
        }
    }

    fn lambda0(&self) -> f64 {
        self.width.lambda0()
    }

    /// ln(Σ_j α_j² g_j / ‖e(0)‖²) from ln g_j (a log-sum-exp, so no term underflows alone).
    fn log_relative(&self, log_factor: impl Fn(f64) -> f64) -> f64 {
        let terms: Vec<f64> = (0..self.alpha.nrows())
            .filter(|&j| self.alpha[j] != 0.0)
            .map(|j| 2.0 * self.alpha[j].abs().ln() + log_factor(self.width.kernel_eigenvalues()[j]))
            .collect();
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if top == f64::NEG_INFINITY {
            return top;
        }
        top + terms.iter().map(|l| (l - top).exp()).sum::<f64>().ln() - self.norm_sq.ln()
    }

    /// ln(‖e(t)‖²/‖e(0)‖²) on the flow: e(t) = U diag(e^{−s t}) α.
    fn flow_log_relative(&self, t: f64) -> f64 {
        self.log_relative(|s| -2.0 * s * t)
    }

    /// ln(‖e(k)‖²/‖e(0)‖²) under GD: e(k) = U diag((1 − ηs)^k) α (k ≥ 1).
    fn gd_log_relative(&self, eta: f64, k: usize) -> f64 {
        self.log_relative(|s| 2.0 * k as f64 * ln_abs_one_minus(eta * s))
    }

    /// U diag(g(s_j)) α.
    fn in_basis(&self, g: impl Fn(f64) -> f64) -> Col<f64> {
        let (n, u) = (self.alpha.nrows(), self.width.kernel_eigenvectors());
        let scaled: Vec<f64> = (0..n).map(|j| self.alpha[j] * g(self.width.kernel_eigenvalues()[j])).collect();
        Col::from_fn(n, |i| (0..n).map(|j| u[(i, j)] * scaled[j]).sum())
    }
}

/// ln|1 − x|, through ln_1p while 1 − x > 0 (accurate for small x); −∞ at x = 1.
fn ln_abs_one_minus(x: f64) -> f64 {
    if x < 1.0 { (-x).ln_1p() } else { (x - 1.0).ln() }
}

/// ∫₀ᵗ e^{−s τ} dτ = (1 − e^{−s t})/s (= t at s = 0), without cancellation for small s t.
fn flow_weight(s: f64, t: f64) -> f64 {
    if s == 0.0 { t } else { -(-s * t).exp_m1() / s }
}

/// Σ_{j<k} (1 − ηs)^j = (1 − (1 − ηs)^k)/(ηs) (= k at ηs = 0), without cancellation for small ηs.
fn gd_weight(eta: f64, s: f64, k: usize) -> f64 {
    let x = eta * s;
    if x == 0.0 {
        k as f64
    } else if x < 1.0 && x > -1.0 {
        -(k as f64 * (-x).ln_1p()).exp_m1() / x
    } else {
        (1.0 - integer_power(1.0 - x, k)) / x
    }
}

fn check_horizon(t_end: f64, intervals: usize) -> Result<(), LemmaError> {
    if !(t_end.is_finite() && t_end > 0.0) {
        return Err(invalid("t_end", t_end, "the horizon T must be finite and positive"));
    }
    if intervals < 2 {
        return Err(invalid(
            "intervals",
            intervals,
            "need at least 2 sample intervals (the late rate uses t_N and t_(N+1)/2)",
        ));
    }
    Ok(())
}

fn check_eta(eta: f64) -> Result<(), LemmaError> {
    if eta.is_finite() && eta > 0.0 {
        Ok(())
    } else {
        Err(invalid("eta", eta, "the step η must be finite and positive"))
    }
}

/// The sample times T·k/N, k = 0..=N, as the flow recorder takes them.
fn sample_times(t_end: f64, intervals: usize) -> Vec<f64> {
    (0..=intervals).map(|k| t_end * k as f64 / intervals as f64).collect()
}

/// The kernel-limit decay ratio ‖e(t)‖²/(e^{−λ0 t}‖e(0)‖²) at the samples t_k = T·k/N of a flow run
/// (N = `intervals`, [`SAMPLE_INTERVALS`] in the claims), its maximum over t > 0 and its late rate.
pub fn flow_decay(res: &KernelLimit<'_>, t_end: f64, intervals: usize) -> Result<FlowDecay, LemmaError> {
    check_horizon(t_end, intervals)?;
    res.nonzero()?;
    let times = sample_times(t_end, intervals);
    let ratios: Vec<f64> = times
        .iter()
        .map(|&t| if t == 0.0 { 1.0 } else { (res.flow_log_relative(t) + res.lambda0() * t).exp() })
        .collect();
    let max_ratio = ratios[1..].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (ta, tb) = (times[times.len() / 2], times[intervals]);
    let late = -(res.flow_log_relative(tb) - res.flow_log_relative(ta)) / (tb - ta);
    Ok(FlowDecay { times, ratios, max_ratio, late_rate_over_lambda0: late / res.lambda0() })
}

/// The GD ratio ‖e(k)‖²/((1 − ηλ0/2)^k‖e(0)‖²) at one k, under the kernel limit.
pub fn gd_ratio_at(res: &KernelLimit<'_>, eta: f64, k: usize) -> Result<f64, LemmaError> {
    check_gd(res, eta)?;
    Ok(gd_ratio(res, eta, k))
}

/// Refuses η ≤ 0, ηλ0 ≥ 2 (where the bound (1 − ηλ0/2)^k is not a decay) and e(0) = 0.
fn check_gd(res: &KernelLimit<'_>, eta: f64) -> Result<(), LemmaError> {
    check_eta(eta)?;
    if eta * res.lambda0() >= 2.0 {
        return Err(invalid("eta", eta, "the bound (1 − ηλ0/2)^k needs ηλ0 < 2"));
    }
    res.nonzero()
}

fn gd_ratio(res: &KernelLimit<'_>, eta: f64, k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    (res.gd_log_relative(eta, k) - k as f64 * (-eta * res.lambda0() / 2.0).ln_1p()).exp()
}

/// The kernel-limit margins of a GD run of K = `iterations` steps at step η: the maximum decay
/// ratio over 1 ≤ k ≤ K and Thm 3.1's per-step ratio.
///
/// The ratio Σ_j w_j f_j^k (w_j ≥ 0, f_j = (1 − ηs_j)²/(1 − ηλ0/2)) is log-convex in k, so its
/// maximum over 1..=K is at k = 1 or k = K (docs/theory.md §3.9): O(n) per end, not O(nK).
pub fn gd_decay(res: &KernelLimit<'_>, eta: f64, iterations: usize) -> Result<GdDecay, LemmaError> {
    if iterations == 0 {
        return Err(invalid("iterations", 0, "need at least one GD step"));
    }
    check_gd(res, eta)?;
    let (first, last) = (gd_ratio(res, eta, 1), gd_ratio(res, eta, iterations));
    let (max_ratio, max_at) = if last > first { (last, iterations) } else { (first, 1) };
    let per_step = -res.gd_log_relative(eta, iterations) / iterations as f64;
    let bound_rate = -(-eta * res.lambda0() / 2.0).ln_1p();
    Ok(GdDecay { max_ratio, max_at, per_step_ratio: per_step / bound_rate })
}

/// ∫₀ᵗ e(s) ds = H∞⁻¹(I − e^{−H∞ t}) e(0) = U diag((1 − e^{−s_j t})/s_j) Uᵀ e(0), e = u − y on the
/// kernel-limit flow (t ≥ 0).
pub fn flow_residual_integral(res: &KernelLimit<'_>, t: f64) -> Result<Col<f64>, LemmaError> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(invalid("t", t, "the time must be finite and non-negative"));
    }
    Ok(res.in_basis(|s| flow_weight(s, t)))
}

/// Σ_{j<k} e(j) = (ηH∞)⁻¹(I − (I − ηH∞)^k) e(0) = U diag((1 − (1 − ηs_j)^k)/(ηs_j)) Uᵀ e(0) under
/// kernel-limit GD (the movement takes η times it).
pub fn gd_residual_sum(res: &KernelLimit<'_>, eta: f64, k: usize) -> Result<Col<f64>, LemmaError> {
    check_eta(eta)?;
    Ok(res.in_basis(|s| gd_weight(eta, s, k)))
}

/// The linearised movement of a flow run to T, its maximum over the samples T·k/N (k = 0..=N).
///
/// With frozen patterns s_ir = 1{w_r(0)ᵀx_i ≥ 0}, w_r(t) − w_r(0) = −(a_r/√m) Σ_i s_ir x_i c_i(t)
/// with c(t) = ∫₀ᵗ e(s) ds from [`flow_residual_integral`]; R′ = 2√n‖e(0)‖/(√m λ0). The driven
/// value integrates each neuron over [`DRIVEN_SUBSTEPS`] sub-steps per interval, its pattern read
/// at the start of each and the residual's integral over the sub-step taken exactly.
pub fn flow_movement(
    width: &InfiniteWidth,
    data: &Dataset,
    net: &Network,
    t_end: f64,
    intervals: usize,
) -> Result<MovementPrediction, LemmaError> {
    check_horizon(t_end, intervals)?;
    let start = Start::new(width, data, net)?;
    let res = KernelLimit::new(width, data.y(), start.u0.as_ref())?;
    res.nonzero()?;
    let sums: Vec<Col<f64>> =
        sample_times(t_end, intervals).into_iter().map(|t| res.in_basis(|s| flow_weight(s, t))).collect();
    let substeps = intervals * DRIVEN_SUBSTEPS;
    let h = t_end / substeps as f64;
    let increments = (0..substeps).map(|q| {
        let t = t_end * q as f64 / substeps as f64;
        (res.in_basis(|s| (-s * t).exp() * flow_weight(s, h)), (q + 1) % DRIVEN_SUBSTEPS == 0)
    });
    start.movement(data, net, &res, &sums, 2.0, increments)
}

/// The linearised movement of a GD run of K steps at step η, its maximum over the iterates
/// ⌊jK/N + ½⌋, j = 0..=N, N = [`SAMPLE_INTERVALS`] (every iterate when K ≤ N).
///
/// w_r(k) − w_r(0) = −(a_r/√m) Σ_i s_ir x_i c_i(k) with c(k) = η Σ_{j<k} e(j) from
/// [`gd_residual_sum`]; R′ = 4√n‖e(0)‖/(√m λ0) (Thm 3.1's). The driven value is GD on each neuron
/// with the kernel-limit residual e(k), every iterate (K steps of O(nmd)).
pub fn gd_movement(
    width: &InfiniteWidth,
    data: &Dataset,
    net: &Network,
    eta: f64,
    iterations: usize,
) -> Result<MovementPrediction, LemmaError> {
    check_eta(eta)?;
    let start = Start::new(width, data, net)?;
    let res = KernelLimit::new(width, data.y(), start.u0.as_ref())?;
    res.nonzero()?;
    let n_checks = SAMPLE_INTERVALS.min(iterations);
    let mut checkpoints: Vec<usize> =
        (0..=n_checks).map(|j| (j * iterations + n_checks / 2) / n_checks.max(1)).collect();
    checkpoints.dedup();
    let sums: Vec<Col<f64>> = checkpoints.into_iter().map(|k| res.in_basis(|s| eta * gd_weight(eta, s, k))).collect();
    let increments = (0..iterations).map(|k| (res.in_basis(|s| eta * integer_power(1.0 - eta * s, k)), true));
    start.movement(data, net, &res, &sums, 4.0, increments)
}

/// λmin(H(t))/λ0 in the kernel limit (H(t) = H∞) and in the lazy one (H(t) = H(0) at the
/// network's width, H(0) with a_r² weights as the recorder takes it).
pub fn lambda_min_over_lambda0(
    width: &InfiniteWidth,
    data: &Dataset,
    net: &Network,
) -> Result<LambdaMinPrediction, LemmaError> {
    let start = Start::new(width, data, net)?;
    let lambda0 = width.lambda0();
    let h0 = model::gram_h(data.input_gram(), start.z0.as_ref(), net.a.as_ref());
    Ok(LambdaMinPrediction {
        kernel_limit: model::lambda0(data)? / lambda0,
        lazy: model::lambda_min(h0.as_ref())? / lambda0,
    })
}

/// The network's start on the data: Z(0) = X W(0)ᵀ and u(0), checked against H∞'s size.
struct Start {
    z0: Mat<f64>,
    u0: Col<f64>,
}

impl Start {
    fn new(width: &InfiniteWidth, data: &Dataset, net: &Network) -> Result<Self, LemmaError> {
        if data.n() != width.n() {
            return Err(invalid(
                "data",
                format!("n = {}", data.n()),
                &format!("H∞ is {0} × {0}: the data must have {0} inputs", width.n()),
            ));
        }
        net.validate_against(data)?;
        let forward = net.forward(data)?;
        Ok(Start { z0: forward.z, u0: forward.u })
    }

    /// The movement for the residual integrals `sums` (one per checkpoint) and the driven run
    /// through `increments` (c's change over each step, and whether to record after it), with
    /// R′ = `factor`·√n‖e(0)‖/(√m λ0).
    fn movement(
        &self,
        data: &Dataset,
        net: &Network,
        res: &KernelLimit<'_>,
        sums: &[Col<f64>],
        factor: f64,
        increments: impl Iterator<Item = (Col<f64>, bool)>,
    ) -> Result<MovementPrediction, LemmaError> {
        let (n, m) = (data.n() as f64, net.m() as f64);
        let zeros = Mat::<f64>::zeros(net.m(), net.d());
        // Row r of grad_w(X, Z, a, c) is m^{−1/2} a_r Σ_i c_i s_ir x_i: −(w_r − w_r(0)) with Z = Z(0).
        let max_distance = sums
            .iter()
            .map(|c| {
                let moved = model::network::grad_w(data.x(), self.z0.as_ref(), net.a.as_ref(), c.as_ref());
                model::max_weight_distance(moved.as_ref(), zeros.as_ref())
            })
            .fold(0.0, f64::max);
        let mut w = net.w.clone();
        let mut driven_distance = 0.0f64;
        for (dc, record) in increments {
            let z = model::network::preactivations(data.x(), w.as_ref());
            w -= model::network::grad_w(data.x(), z.as_ref(), net.a.as_ref(), dc.as_ref());
            if record {
                driven_distance = driven_distance.max(model::max_weight_distance(w.as_ref(), net.w.as_ref()));
            }
        }
        let r_prime = factor * n.sqrt() * res.norm_sq.sqrt() / (m.sqrt() * res.lambda0());
        let scaled_limit = pattern_limit(data, sums)?;
        Ok(MovementPrediction {
            r_prime,
            frozen: Distance { distance: max_distance, over_r_prime: max_distance / r_prime },
            limit: scaled_limit.map(|l| Distance { distance: l, over_r_prime: l / (m.sqrt() * r_prime) }),
            driven: Distance { distance: driven_distance, over_r_prime: driven_distance / r_prime },
        })
    }
}

/// max over the checkpoints c and every pattern S ⊆ {1..n} of ‖Σ_{i∈S} c_i x_i‖ = √(c_Sᵀ K_SS c_S):
/// lim_{m→∞} √m × the linearised distance when every pattern has positive probability (λmin(K) > 0).
fn pattern_limit(data: &Dataset, sums: &[Col<f64>]) -> Result<Option<f64>, LemmaError> {
    let (n, k) = (data.n(), data.input_gram());
    if n > LIMIT_MAX_INPUTS || model::lambda_min(k)? < INDEPENDENT_INPUTS {
        return Ok(None);
    }
    let mut best = 0.0f64;
    for c in sums {
        // Gray code: one input enters or leaves S per step; g = K c_S and q = c_Sᵀ K c_S follow it.
        let (mut g, mut q, mut inside) = (vec![0.0; n], 0.0f64, vec![false; n]);
        for step in 1u64..(1u64 << n) {
            let i = step.trailing_zeros() as usize;
            let sign = if inside[i] { -1.0 } else { 1.0 };
            if inside[i] {
                for (l, gl) in g.iter_mut().enumerate() {
                    *gl -= c[i] * k[(l, i)];
                }
            }
            q += sign * (2.0 * c[i] * g[i] + c[i] * c[i] * k[(i, i)]);
            if !inside[i] {
                for (l, gl) in g.iter_mut().enumerate() {
                    *gl += c[i] * k[(l, i)];
                }
            }
            inside[i] = !inside[i];
            best = best.max(q);
        }
    }
    Ok(Some(best.max(0.0).sqrt()))
}

/// "At m = …, the worst decay ratio was a–b over the seeds against a–b at infinite width from the
/// same u(0)", and whether the kernel limit alone predicts the bound: from a flow claim's
/// `decay-ratio` and `decay-ratio-kernel-limit` measures (none when either is missing).
pub(crate) fn decay_note(measured: &crate::claim::Measurements) -> Option<String> {
    let (seen, limit) = (measured.measure("decay-ratio")?, measured.measure("decay-ratio-kernel-limit")?);
    let row = seen.rows.iter().rev().find(|r| r.seeds > 0)?;
    let at = limit.rows.iter().find(|r| r.m == row.m && r.seeds > 0)?;
    let mut s = format!(
        "At m = {}, the worst decay ratio over the samples was {:.3}–{:.3} over {} seeds; the kernel limit from the same u(0) gives {:.3}–{:.3} (theory §3.9)",
        row.m, row.min, row.max, row.seeds, at.min, at.max
    );
    if at.max < 1.0 {
        s.push_str(&format!(
            ". The kernel limit alone keeps every seed's ratio below 1 (at most {:.3}): where the statement is supported, that is what the infinite-width limit predicts, and the finite width adds {}.",
            at.max,
            match row.max - at.max {
                d if d <= 0.0 => "nothing to the worst seed's ratio".to_string(),
                d if d < 5e-4 => "less than 0.001 to it".to_string(),
                d => format!("up to {d:.3} to it"),
            }
        ));
    } else {
        s.push_str(&format!(
            ". The kernel limit itself breaks the bound (its ratio reaches {:.3} > 1): the statement's bound is not implied by the kernel limit here.",
            at.max
        ));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckConfig;
    use crate::trajectory::{flow_config, late_decay_rate, run};

    /// The kernel limit of a start the test knows to be valid.
    fn limit<'a>(iw: &'a InfiniteWidth, y: ColRef<'_, f64>, u0: ColRef<'_, f64>) -> KernelLimit<'a> {
        KernelLimit::new(iw, y, u0).expect("a valid start")
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    /// A data set, its kernel limit and a start u(0) with a non-zero residual.
    fn setup(n: usize, d: usize, seed: u64) -> (Dataset, InfiniteWidth, Col<f64>) {
        let data = Dataset::sphere(n, d, seed, 0).unwrap();
        let iw = InfiniteWidth::first_layer(&data).unwrap();
        let u0 = Col::from_fn(n, |i| 0.3 * (1.7 * i as f64 + 0.4).sin());
        (data, iw, u0)
    }

    /// The closed form of ∫₀ᵗ e(s) ds against composite Simpson on flow_at(s) − y.
    #[test]
    fn flow_integral_matches_simpson_quadrature() {
        let (data, iw, u0) = setup(5, 4, 3);
        let y = data.y();
        let traj = iw.trajectory(u0.as_ref(), y).unwrap();
        for t in [0.3, 4.0, 25.0] {
            let intervals = 4000;
            let h = t / intervals as f64;
            let mut simpson = Col::<f64>::zeros(5);
            for k in 0..=intervals {
                let w = if k == 0 || k == intervals {
                    1.0
                } else if k % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                simpson += (traj.flow_at(k as f64 * h) - y) * (w * h / 3.0);
            }
            let closed = flow_residual_integral(&limit(&iw, y, u0.as_ref()), t).unwrap();
            let err = (&closed - &simpson).norm_l2() / simpson.norm_l2();
            assert!(err < 1e-9, "t = {t}: relative error {err:e}");
        }
        assert_eq!(flow_residual_integral(&limit(&iw, y, u0.as_ref()), 0.0).unwrap().norm_l2(), 0.0);
    }

    /// The closed form of Σ_{j<k} e(j) against the explicit loop over gd_at, including a step
    /// past 1/λmax(H∞) where some factors 1 − ηs_j are negative.
    #[test]
    fn gd_sum_matches_the_explicit_loop() {
        let (data, iw, u0) = setup(5, 4, 3);
        let y = data.y();
        let traj = iw.trajectory(u0.as_ref(), y).unwrap();
        for eta in [0.01, 0.7, 1.5 / iw.lambda_max()] {
            let mut sum = Col::<f64>::zeros(5);
            for k in 0..=60 {
                let closed = gd_residual_sum(&limit(&iw, y, u0.as_ref()), eta, k).unwrap();
                let err = (&closed - &sum).norm_l2();
                assert!(err <= 1e-12 * (1.0 + sum.norm_l2()), "η = {eta}, k = {k}: {err:e}");
                sum += traj.gd_at(eta, k) - y;
            }
        }
    }

    /// One input: H∞ = [½], λ0 = ½, e(t) = e^{−λ0 t} e(0), so the ratio is e^{−λ0 t} (its
    /// supremum over t > 0 is 1, its maximum over the samples e^{−λ0 T/N}), the late rate of
    /// ‖e‖² is 2λ0, GD's ratio is ((1 − η/2)²/(1 − η/4))^k, and every active neuron moves by
    /// |c(t)|/√m with c(T) = 2(1 − e^{−T/2}) e(0), against R′ = 4|e(0)|/√m.
    #[test]
    fn one_input_has_the_hand_computed_margins() {
        let data = Dataset::sphere(1, 3, 7, 0).unwrap();
        let iw = InfiniteWidth::first_layer(&data).unwrap();
        assert_eq!(iw.lambda0(), 0.5);
        let y = data.y();
        let e0 = 0.8;
        let u0 = Col::from_fn(1, |_| y[0] + e0);
        let (t_end, intervals) = (10.0, 40);
        let flow = flow_decay(&limit(&iw, y, u0.as_ref()), t_end, intervals).unwrap();
        for (t, r) in flow.times.iter().zip(&flow.ratios) {
            assert!(rel(*r, (-0.5 * t).exp()) < 1e-13, "t = {t}: {r}");
        }
        assert!(rel(flow.max_ratio, (-0.5 * t_end / intervals as f64).exp()) < 1e-13);
        assert!(rel(flow.late_rate_over_lambda0, 2.0) < 1e-12, "{}", flow.late_rate_over_lambda0);
        let (eta, k) = (0.3, 25);
        let gd = gd_decay(&limit(&iw, y, u0.as_ref()), eta, k).unwrap();
        let factor = (1.0 - eta / 2.0) * (1.0 - eta / 2.0) / (1.0 - eta / 4.0);
        assert!(rel(gd.max_ratio, factor) < 1e-13 && gd.max_at == 1, "{gd:?}");
        let per_step = -2.0 * (1.0 - eta / 2.0).ln() / -(1.0 - eta / 4.0).ln();
        assert!(rel(gd.per_step_ratio, per_step) < 1e-12, "{gd:?}");
        let c = flow_residual_integral(&limit(&iw, y, u0.as_ref()), t_end).unwrap();
        assert!(rel(c[0], 2.0 * (1.0 - (-0.5 * t_end).exp()) * e0) < 1e-14);

        // The movement, with the network's own u(0).
        let m = 64;
        let net = Network::init(m, 3, 11, 0).unwrap();
        let fwd = net.forward(&data).unwrap();
        let e0 = fwd.u[0] - y[0];
        let mv = flow_movement(&iw, &data, &net, t_end, intervals).unwrap();
        let c = 2.0 * (1.0 - (-0.5 * t_end).exp()) * e0.abs();
        assert!((0..m).any(|r| fwd.z[(0, r)] >= 0.0), "some neuron is active");
        assert!(rel(mv.frozen.distance, c / (m as f64).sqrt()) < 1e-13, "{mv:?}");
        assert!(rel(mv.r_prime, 4.0 * e0.abs() / (m as f64).sqrt()) < 1e-14);
        assert!(rel(mv.frozen.over_r_prime, (1.0 - (-0.5 * t_end).exp()) / 2.0) < 1e-13);
        // The farthest neuron (largest z(0)) never switches: driven and frozen agree.
        assert!(rel(mv.driven.distance, mv.frozen.distance) < 1e-12, "{mv:?}");
        assert!(
            rel(mv.limit.unwrap().distance, c) < 1e-13
                && rel(mv.limit.unwrap().over_r_prime, mv.frozen.over_r_prime) < 1e-13
        );
        // λmin(H(0)) = (active fraction) · 1, λ0 = ½.
        let active = (0..m).filter(|&r| fwd.z[(0, r)] >= 0.0).count() as f64 / m as f64;
        let lm = lambda_min_over_lambda0(&iw, &data, &net).unwrap();
        assert_eq!(lm.kernel_limit, 1.0);
        assert!(rel(lm.lazy, 2.0 * active) < 1e-14, "{lm:?}");
    }

    /// The flow's ratios against flow_at sample by sample, and GD's maximum (taken at the ends by
    /// log-convexity) against the maximum of the explicit loop over every k.
    #[test]
    fn ratios_match_the_trajectory_point_by_point() {
        let (data, iw, u0) = setup(6, 5, 1);
        let y = data.y();
        let traj = iw.trajectory(u0.as_ref(), y).unwrap();
        let e0sq = (&u0 - y).squared_norm_l2();
        let lambda0 = iw.lambda0();
        let flow = flow_decay(&limit(&iw, y, u0.as_ref()), 8.0 / lambda0, 40).unwrap();
        for (t, r) in flow.times.iter().zip(&flow.ratios) {
            let direct = (traj.flow_at(*t) - y).squared_norm_l2() / ((-lambda0 * t).exp() * e0sq);
            assert!(rel(*r, direct) < 1e-9, "t = {t}: {r} vs {direct}");
        }
        // A step near the stability limit, where the fast modes grow against the bound and the
        // maximum moves to k = K, and the theorem's step, where it stays at k = 1.
        for (eta, k_end) in [(1.95 / iw.lambda_max(), 30), (0.25 * lambda0 / 36.0, 200)] {
            let gd = gd_decay(&limit(&iw, y, u0.as_ref()), eta, k_end).unwrap();
            let (mut best, mut at) = (f64::NEG_INFINITY, 0);
            for k in 1..=k_end {
                let bound = integer_power(1.0 - eta * lambda0 / 2.0, k) * e0sq;
                let r = (traj.gd_at(eta, k) - y).squared_norm_l2() / bound;
                assert!(rel(gd_ratio_at(&limit(&iw, y, u0.as_ref()), eta, k).unwrap(), r) < 1e-9, "η = {eta}, k = {k}");
                if r > best {
                    (best, at) = (r, k);
                }
            }
            assert!(rel(gd.max_ratio, best) < 1e-9 && gd.max_at == at, "η = {eta}: {gd:?} vs {best} at {at}");
            let e_end = (traj.gd_at(eta, k_end) - y).squared_norm_l2();
            let per_step = -(e_end / e0sq).ln() / k_end as f64 / -(1.0 - eta * lambda0 / 2.0).ln();
            assert!(rel(gd.per_step_ratio, per_step) < 1e-9, "η = {eta}: {gd:?} vs {per_step}");
        }
    }

    /// The movement limit is the maximum over all 2ⁿ patterns (brute force), bounds √m × the
    /// finite-width value, and is reached at a width where every pattern is drawn; GD's movement
    /// tends to the flow's as η → 0 with ηK = T.
    #[test]
    fn movement_limit_is_the_pattern_maximum() {
        let (data, iw, _) = setup(3, 3, 4);
        let (t_end, intervals) = (8.0 / iw.lambda0(), 40);
        let small = Network::init(16, 3, 2, 0).unwrap();
        let large = Network::init(20_000, 3, 2, 0).unwrap();
        let (ms, ml) = (
            flow_movement(&iw, &data, &small, t_end, intervals).unwrap(),
            flow_movement(&iw, &data, &large, t_end, intervals).unwrap(),
        );
        // Brute force over subsets at the large network's u(0) and its checkpoints.
        let u0 = large.forward(&data).unwrap().u;
        let k = data.input_gram();
        let brute = sample_times(t_end, intervals)
            .into_iter()
            .map(|t| {
                let c = flow_residual_integral(&limit(&iw, data.y(), u0.as_ref()), t).unwrap();
                (0u32..8)
                    .map(|s| {
                        let v = |i: usize| if s >> i & 1 == 1 { c[i] } else { 0.0 };
                        (0..3)
                            .flat_map(|i| (0..3).map(move |j| (i, j)))
                            .map(|(i, j)| v(i) * v(j) * k[(i, j)])
                            .sum::<f64>()
                    })
                    .fold(0.0, f64::max)
                    .sqrt()
            })
            .fold(0.0, f64::max);
        let limit = ml.limit.unwrap().distance;
        assert!(rel(limit, brute) < 1e-12, "{limit} vs {brute}");
        assert!(ml.frozen.distance * (20_000f64).sqrt() <= limit * (1.0 + 1e-12));
        assert!(rel(ml.frozen.distance * (20_000f64).sqrt(), limit) < 1e-12, "every pattern is drawn at m = 20000");
        assert!(ms.frozen.distance * 4.0 <= ms.limit.unwrap().distance * (1.0 + 1e-12));
        // GD with η = T/K tends to the flow, frozen and driven alike (O(η)).
        let steps = 20_000;
        let gd = gd_movement(&iw, &data, &small, t_end / steps as f64, steps).unwrap();
        assert!(rel(gd.frozen.distance, ms.frozen.distance) < 1e-3, "{gd:?} vs {ms:?}");
        assert!(rel(gd.driven.distance, ms.driven.distance) < 1e-2, "{gd:?} vs {ms:?}");
        assert!(rel(gd.r_prime, 2.0 * ms.r_prime) < 1e-14);
        // Dependent inputs (n > d): not every pattern has positive probability, no limit given.
        let crowded = Dataset::sphere(4, 2, 0, 0).unwrap();
        let iw4 = InfiniteWidth::first_layer(&crowded).unwrap();
        let net2 = Network::init(32, 2, 0, 0).unwrap();
        assert_eq!(flow_movement(&iw4, &crowded, &net2, 1.0, 4).unwrap().limit, None);
    }

    /// The measured margins of a first-layer flow (max decay ratio, late rate ÷ λ0, distance ÷
    /// R′, λmin(H(T)) ÷ λ0) and their kernel-limit predictions.
    fn measured_and_predicted(data: &Dataset, iw: &InfiniteWidth, m: usize) -> ([f64; 4], [f64; 4]) {
        let lambda0 = iw.lambda0();
        let net = Network::init(m, data.d(), 9, 0).unwrap();
        let t_end = 8.0 / lambda0;
        let cfg = CheckConfig { step: 0.1, ..CheckConfig::default() };
        let r = run(data, &net, iw, &flow_config(&cfg, t_end), false).unwrap();
        assert!(r.completed && r.points.len() == SAMPLE_INTERVALS + 1, "m = {m}: the run reaches T");
        let max_of = |f: &dyn Fn(&crate::trajectory::Point) -> f64| {
            r.points.iter().filter(|p| p.t > 0.0).map(f).fold(f64::NEG_INFINITY, f64::max)
        };
        let measured = [
            max_of(&|p| p.bound_ratio),
            late_decay_rate(&r.points) / lambda0,
            max_of(&|p| p.max_distance) / r.r_prime,
            r.points[SAMPLE_INTERVALS].lambda_min_h / lambda0,
        ];
        let u0 = net.forward(data).unwrap().u;
        let decay = flow_decay(&limit(iw, data.y(), u0.as_ref()), t_end, SAMPLE_INTERVALS).unwrap();
        let mv = flow_movement(iw, data, &net, t_end, SAMPLE_INTERVALS).unwrap();
        let lm = lambda_min_over_lambda0(iw, data, &net).unwrap();
        let predicted = [decay.max_ratio, decay.late_rate_over_lambda0, mv.driven.over_r_prime, lm.kernel_limit];
        println!(
            "m = {m}: measured {measured:?}, predicted {predicted:?}, frozen distance ÷ R′ {:.5}, lazy λmin/λ0 {:.4}",
            mv.frozen.over_r_prime, lm.lazy
        );
        (measured, predicted)
    }

    /// At m = 10⁵ (n = d = 3) the flow is in the kernel regime: every margin is within 2% of its
    /// prediction (the distance against the driven one; the frozen one is 7% short, §3.9). At
    /// m = 8 every margin is more than 15% from it, so the agreement is not built in.
    #[test]
    fn kernel_regime_at_large_width_and_not_at_small() {
        let (data, iw, _) = setup(3, 3, 4);
        let (measured, predicted) = measured_and_predicted(&data, &iw, 100_000);
        for (k, (m, p)) in measured.iter().zip(&predicted).enumerate() {
            assert!(rel(*m, *p) < 0.02, "margin {k}: measured {m} vs predicted {p}");
        }
        let (measured, predicted) = measured_and_predicted(&data, &iw, 8);
        let off: Vec<f64> = measured.iter().zip(&predicted).map(|(m, p)| rel(*m, *p)).collect();
        assert!(off.iter().all(|&o| o > 0.15), "m = 8 should be far from the kernel regime: {off:?}");
    }

    /// Mismatched lengths, a non-positive or non-finite horizon or step, too few samples, NaN
    /// entries, u(0) = y and a network or data of the wrong size are refused with an error.
    #[test]
    fn bad_input_is_refused_with_a_clear_error() {
        let (data, iw, u0) = setup(3, 3, 4);
        let y = data.y();
        let short = Col::<f64>::zeros(2);
        let mut nan = u0.clone();
        nan[1] = f64::NAN;
        let is_config = |r: Result<(), LemmaError>, name: &str| match r {
            Err(LemmaError::Config { name: got, .. }) => assert_eq!(got, name),
            other => panic!("expected a configuration error on {name}, got {other:?}"),
        };
        let flow = |y: ColRef<'_, f64>, u: ColRef<'_, f64>, t: f64, n: usize| {
            KernelLimit::new(&iw, y, u).and_then(|l| flow_decay(&l, t, n)).map(|_| ())
        };
        is_config(flow(y, short.as_ref(), 1.0, 40), "u0");
        is_config(flow(short.as_ref(), u0.as_ref(), 1.0, 40), "y");
        is_config(flow(y, nan.as_ref(), 1.0, 40), "u0");
        is_config(flow(y, y, 1.0, 40), "u0");
        for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            is_config(flow(y, u0.as_ref(), t, 40), "t_end");
        }
        is_config(flow(y, u0.as_ref(), 1.0, 1), "intervals");
        let gd = |eta: f64, k: usize| gd_decay(&limit(&iw, y, u0.as_ref()), eta, k).map(|_| ());
        for eta in [0.0, -0.1, f64::NAN, 2.0 / iw.lambda0()] {
            is_config(gd(eta, 10), "eta");
        }
        is_config(gd(0.1, 0), "iterations");
        is_config(gd_residual_sum(&limit(&iw, y, u0.as_ref()), f64::NAN, 3).map(|_| ()), "eta");
        is_config(flow_residual_integral(&limit(&iw, y, u0.as_ref()), -1.0).map(|_| ()), "t");
        is_config(KernelLimit::new(&iw, y, short.as_ref()).map(|_| ()), "u0");
        let net = Network::init(8, 3, 0, 0).unwrap();
        let other = Dataset::sphere(4, 3, 0, 0).unwrap();
        is_config(flow_movement(&iw, &other, &net, 1.0, 4).map(|_| ()), "data");
        is_config(flow_movement(&iw, &data, &net, 0.0, 4).map(|_| ()), "t_end");
        is_config(gd_movement(&iw, &data, &net, -1.0, 4).map(|_| ()), "eta");
        is_config(lambda_min_over_lambda0(&iw, &other, &net).map(|_| ()), "data");
        let wrong_d = Network::init(8, 2, 0, 0).unwrap();
        assert!(matches!(flow_movement(&iw, &data, &wrong_d, 1.0, 4), Err(LemmaError::Model(_))));
        let mut broken = net.clone();
        broken.w[(0, 0)] = f64::NAN;
        assert!(matches!(lambda_min_over_lambda0(&iw, &data, &broken), Err(LemmaError::Model(_))));
    }

    /// The note beside the flow and GD margins follows the numbers: the finite width above the
    /// kernel limit, equal to it, a kernel limit that itself breaks the bound, and nothing to say
    /// without both measures.
    #[test]
    fn the_kernel_limit_note_follows_the_numbers() {
        use crate::result::{ExpectationResult, ExpectationRow, Relation};
        let measure = |key: &str, min: f64, max: f64| ExpectationResult {
            key: key.into(),
            description: String::new(),
            relation: Relation::Report,
            rows: vec![ExpectationRow {
                m: 100,
                seeds: 5,
                mean: (min + max) / 2.0,
                standard_error: 0.0,
                min,
                max,
                reference: None,
                slack: None,
                verdict: None,
            }],
        };
        let note = |seen: (f64, f64), limit: (f64, f64)| {
            decay_note(&crate::claim::Measurements {
                events: Vec::new(),
                expectations: vec![
                    measure("decay-ratio", seen.0, seen.1),
                    measure("decay-ratio-kernel-limit", limit.0, limit.1),
                ],
                threshold: crate::result::Threshold { lower: None, upper: None, undetermined: None },
            })
            .expect("both measures")
        };
        assert!(note((0.2, 0.5), (0.1, 0.3)).contains("the finite width adds up to 0.200"));
        assert!(note((0.1, 0.3), (0.1, 0.3)).contains("adds nothing to the worst seed"));
        assert!(note((0.1, 0.3001), (0.1, 0.3)).contains("adds less than 0.001"));
        let broken = note((0.5, 0.9), (0.8, 1.2));
        assert!(broken.contains("kernel limit itself breaks the bound") && !broken.contains("alone keeps"), "{broken}");
        let empty = crate::claim::Measurements {
            events: Vec::new(),
            expectations: vec![measure("decay-ratio", 0.1, 0.2)],
            threshold: crate::result::Threshold { lower: None, upper: None, undetermined: None },
        };
        assert_eq!(decay_note(&empty), None);
    }
}
