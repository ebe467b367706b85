//! The reduced system, its state, its steppers (RK4 flow, GD) and their drivers (docs/theory.md §5).
//!
//! Notation: e = u − y, c the cumulative residual, b the cumulative |residual| (componentwise),
//! q_r the coefficients of w_r − w_r(0) = Xᵀ q_r (so z_r − z_r(0) = K q_r and
//! ‖w_r − w_r(0)‖² = q_rᵀ K q_r), s_r = 1{z_r ≥ 0}.
//!
//! RK4 in c-space is exact: a neuron whose pattern is the same at all four stages of a step has
//! stage derivatives −(a_r/√m) Xᵀ(s_r ⊙ e⁽ʲ⁾), so its RK4 update is −(a_r/√m) Xᵀ(s_r ⊙ Δc) with
//! Δc = h/6 (e⁽¹⁾ + 2e⁽²⁾ + 2e⁽³⁾ + e⁽⁴⁾), the RK4 combination of the stage residuals. The frozen
//! neurons therefore enter every stage through u_F(0) − H_F c⁽ʲ⁾, and the step is the full RK4
//! step of `flow` to rounding. The budget is checked at every stage: stage j of the step from t_k
//! sees c⁽ʲ⁾ = c_k + α_j e⁽ʲ⁻¹⁾, |c⁽ʲ⁾| ≤ b_k + α_j |e⁽ʲ⁻¹⁾|, so a frozen neuron has moved by at most
//! (1/√m)(|K| (b_k + α_j|e⁽ʲ⁻¹⁾|))_i on input i there; if that reaches the budget ρ̄_i at any
//! stage, or at the step's end, the step is discarded, the budget grows, and the step is redone
//! from t_k (where every frozen neuron is still provably frozen).

use faer::Mat;
use model::grid::Move;
use model::{Dataset, lambda_min};
use rayon::prelude::*;

use crate::error::{ReducedError, Result, invalid};
use crate::memory::MemoryEstimate;
use crate::source::NeuronSource;

/// Active neurons per parallel block (a constant: the bits do not depend on the thread count).
const ACTIVE_BLOCK: usize = 4096;
/// Relative safety margin of the budget check, far above the rounding of a stage's z.
const BUDGET_MARGIN: f64 = 1e-9;
/// Largest n (the frozen summary has 2ⁿ pattern counters).
pub const MAX_INPUTS: usize = 20;

/// How the movement budget ρ̄ is set and grown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetPolicy {
    /// ρ̄_i(initial) = factor · (1/√m)(|K| 1)_i · 2√(2(‖y‖² + n/2))/λ0: the movement bound of a
    /// run that decays at rate λ0/2 from a residual of twice the expected ‖y − u(0)‖².
    pub initial_factor: f64,
    /// On a violation the budget is multiplied by max(growth, 1.25 · the violation ratio) (> 1).
    pub growth: f64,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        BudgetPolicy { initial_factor: 1.0, growth: 2.0 }
    }
}

/// The reduced problem: data, K, |K| and the neuron stream.
#[derive(Debug)]
pub struct System<'a, S: NeuronSource> {
    source: &'a S,
    n: usize,
    d: usize,
    m: usize,
    inv_sqrt_m: f64,
    /// K row-major (symmetric).
    k: Vec<f64>,
    k_mat: Mat<f64>,
    abs_k: Vec<f64>,
    y: Vec<f64>,
    lambda0: f64,
    policy: BudgetPolicy,
}

/// Active neurons, structure of arrays (n entries per neuron for z0, z, q).
#[derive(Debug, Clone, Default)]
struct Active {
    index: Vec<u64>,
    a: Vec<f64>,
    z0: Vec<f64>,
    z: Vec<f64>,
    q: Vec<f64>,
}

impl Active {
    fn len(&self) -> usize {
        self.a.len()
    }
    fn append(&mut self, mut other: Active) {
        self.index.append(&mut other.index);
        self.a.append(&mut other.a);
        self.z0.append(&mut other.z0);
        self.z.append(&mut other.z);
        self.q.append(&mut other.q);
    }
}

/// Work buffers of the steppers (stage pre-activations, stage gradients, the step's increment),
/// kept between steps so that a step over millions of active neurons does not allocate and fault
/// in fresh pages: every entry a step reads it has written first. They carry no state: a clone
/// starts without them.
#[derive(Debug, Default)]
struct Scratch {
    zs: Vec<f64>,
    g: Vec<f64>,
    acc: Vec<f64>,
}

impl Clone for Scratch {
    fn clone(&self) -> Self {
        Scratch::default()
    }
}

impl Scratch {
    /// The buffers at `len` entries each (contents unspecified); the stage pre-activations only
    /// `with_stages` (RK4; GD has no stages).
    fn sized(mut self, len: usize, with_stages: bool) -> Self {
        for v in [&mut self.g, &mut self.acc] {
            v.resize(len, 0.0);
        }
        if with_stages {
            self.zs.resize(len, 0.0);
        }
        self
    }
}

/// The state of a reduced run at one time.
#[derive(Debug, Clone)]
pub struct State {
    /// Time t (GD: kη).
    pub t: f64,
    /// RK4 steps or GD iterations taken.
    pub step: usize,
    c: Vec<f64>,
    b: Vec<f64>,
    rho_bar: Vec<f64>,
    /// e = u − y at the state.
    e: Vec<f64>,
    frozen_counts: Vec<u64>,
    /// (1/√m) Σ_{r∈F} a_r σ(z_r(0)).
    frozen_u0: Vec<f64>,
    /// Σ_{r∈F} s_ir s_jr (n × n, row-major).
    frozen_coact: Vec<u64>,
    /// H_F = K ⊙ frozen_coact / m.
    h_f: Vec<f64>,
    active: Active,
    /// Budget passes over the stream (the first included).
    pub passes: usize,
    /// Largest active count so far.
    pub max_active: usize,
    /// Residual norm ‖u(0) − y‖ at the start.
    pub initial_residual_norm: f64,
    scratch: Scratch,
}

impl State {
    /// Active neurons now.
    pub fn active_count(&self) -> usize {
        self.active.len()
    }
    /// The budget ρ̄.
    pub fn budget(&self) -> &[f64] {
        &self.rho_bar
    }
    /// The cumulative residual c.
    pub fn cumulative_residual(&self) -> &[f64] {
        &self.c
    }
    /// The cumulative |residual| b.
    pub fn cumulative_abs_residual(&self) -> &[f64] {
        &self.b
    }
    /// Indices of the active neurons, in the order they were made active.
    pub fn active_indices(&self) -> &[u64] {
        &self.active.index
    }
    /// The residual e = u − y.
    pub fn residual(&self) -> &[f64] {
        &self.e
    }
    /// The active neurons in the order they were made active: (a_r, z_r(0), z_r(t)), each z with
    /// n entries. Every neuron with |z_ir(0)| ≤ ρ̄_i on some input i is among them, so a caller
    /// whose radius is at most [`State::budget`] sees every neuron that can flip within it.
    pub fn active_neurons(&self) -> impl Iterator<Item = (f64, &[f64], &[f64])> + '_ {
        let n = self.e.len().max(1);
        self.active
            .a
            .iter()
            .copied()
            .zip(self.active.z0.chunks_exact(n))
            .zip(self.active.z.chunks_exact(n))
            .map(|((a, z0), z)| (a, z0, z))
    }
}

/// What an observer sees at a sample: exact observables of the width-m network.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Time t (GD: kη).
    pub t: f64,
    /// RK4 steps or GD iterations taken.
    pub step: usize,
    /// Predictions u.
    pub u: Vec<f64>,
    /// Loss ½‖u − y‖².
    pub loss: f64,
    /// λmin(H(t)) of H = H_F + H_A(t).
    pub lambda_min_h: f64,
    /// (1/(mn)) Σ_{r,i} 1{s_ir(t) ≠ s_ir(0)} (only active neurons can contribute).
    pub pattern_change_fraction: f64,
    /// max_r ‖w_r(t) − w_r(0)‖ (over the active neurons and the patterns present among the frozen).
    pub max_distance: f64,
    /// max_r ‖∂L/∂w_r‖ = max_r ‖Xᵀ(s_r ⊙ e)‖/√m (over the active neurons and the frozen patterns).
    pub max_neuron_gradient: f64,
    /// The movement bound of the frozen neurons, max_i ρ_i(t)/ρ̄_i (< 1 by construction).
    pub budget_use: f64,
    /// Active neurons.
    pub active: usize,
    /// Budget passes so far.
    pub passes: usize,
}

/// What an observer wants after a sample: the one `model::Control` of every dynamics.
pub use model::Control;

/// How a reduced run went.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Time reached.
    pub t: f64,
    /// Steps (iterations) taken.
    pub steps: usize,
    /// Budget passes over the stream.
    pub passes: usize,
    /// Active neurons at the end.
    pub active: usize,
    /// Largest active count.
    pub max_active: usize,
    /// The final budget ρ̄.
    pub budget: Vec<f64>,
    /// Peak memory, counted from what the run held ([`MemoryEstimate`] at the largest active count).
    pub peak_memory: MemoryEstimate,
    /// How the run ended: the one `model::Status` of every dynamics (divergence by its one rule:
    /// a loss not finite or past `model::DEFAULT_DIVERGENCE_FACTOR` × its start).
    pub status: model::Status,
    /// Final loss.
    pub loss: f64,
}

/// Result of one budget pass.
struct Pass {
    counts: Vec<u64>,
    u0: Vec<f64>,
    new_active: Active,
}

impl<'a, S: NeuronSource> System<'a, S> {
    /// The reduced system of `data` with neurons from `source` (n must match).
    pub fn new(data: &'a Dataset, source: &'a S, policy: BudgetPolicy) -> Result<Self> {
        let (n, d, m) = (data.n(), data.d(), source.m());
        if source.n() != n {
            return Err(invalid(
                "source",
                source.n(),
                format!("the neuron source has {} inputs, the data {n}", source.n()),
            ));
        }
        if n > MAX_INPUTS {
            return Err(invalid("n", n, format!("the frozen summary holds 2ⁿ pattern counts: n ≤ {MAX_INPUTS}")));
        }
        if !(policy.initial_factor.is_finite() && policy.initial_factor > 0.0) {
            return Err(invalid("budget factor", policy.initial_factor, "must be finite and positive"));
        }
        if !(policy.growth.is_finite() && policy.growth > 1.0) {
            return Err(invalid("budget growth", policy.growth, "must be finite and > 1"));
        }
        let kref = data.input_gram();
        // p < n² and kref is the n × n input Gram.
        let k: Vec<f64> = (0..n * n).map(|p| kref[(p / n, p % n)]).collect();
        let abs_k = k.iter().map(|v| v.abs()).collect();
        let lambda0 = model::lambda0(data)?;
        Ok(System {
            source,
            n,
            d,
            m,
            inv_sqrt_m: 1.0 / (m as f64).sqrt(),
            k,
            k_mat: kref.to_owned(),
            abs_k,
            y: data.y().iter().copied().collect(),
            lambda0,
            policy,
        })
    }

    /// Width m.
    pub fn m(&self) -> usize {
        self.m
    }
    /// The neuron stream.
    pub fn source(&self) -> &S {
        self.source
    }
    /// λ0 = λmin(H∞) of the data.
    pub fn lambda0(&self) -> f64 {
        self.lambda0
    }

    /// The initial budget of [`BudgetPolicy::initial_factor`].
    pub fn initial_budget(&self) -> Vec<f64> {
        let n = self.n;
        let y2: f64 = self.y.iter().map(|v| v * v).sum();
        let scale = 2.0 * (2.0 * (y2 + n as f64 / 2.0)).sqrt() / self.lambda0.max(1e-300);
        (0..n)
            .map(|i| {
                let row: f64 = (0..n).map(|j| self.abs_k[i * n + j]).sum();
                self.policy.initial_factor * self.inv_sqrt_m * row * scale
            })
            .collect()
    }

    /// The state at t = 0: one pass over the stream with the initial budget.
    pub fn initial_state(&self) -> Result<State> {
        self.initial_state_with_budget(self.initial_budget())
    }

    /// The state at t = 0 with a given budget ρ̄ (n positive entries).
    pub fn initial_state_with_budget(&self, rho_bar: Vec<f64>) -> Result<State> {
        let n = self.n;
        if rho_bar.len() != n || rho_bar.iter().any(|r| !(r.is_finite() && *r >= 0.0)) {
            return Err(invalid("budget", format!("{rho_bar:?}"), "need n finite entries ≥ 0"));
        }
        let mut st = State {
            t: 0.0,
            step: 0,
            c: vec![0.0; n],
            b: vec![0.0; n],
            rho_bar,
            e: vec![0.0; n],
            frozen_counts: vec![],
            frozen_u0: vec![],
            frozen_coact: vec![],
            h_f: vec![],
            active: Active::default(),
            passes: 0,
            max_active: 0,
            initial_residual_norm: 0.0,
            scratch: Scratch::default(),
        };
        let pass = self.pass(None, &st.rho_bar.clone(), &st.c)?;
        self.absorb(&mut st, pass)?;
        st.initial_residual_norm = norm(&st.e);
        Ok(st)
    }

    /// One pass over the stream: neurons active under `new` (and not under `old`) become active
    /// at their current state (c is the current cumulative residual); the rest are summarised.
    fn pass(&self, old: Option<&[f64]>, new: &[f64], c: &[f64]) -> Result<Pass> {
        let n = self.n;
        let patterns = 1usize << n;
        let counts: Vec<std::sync::atomic::AtomicU64> = (0..patterns).map(|_| Default::default()).collect();
        let parts = self.source.map_chunks(|chunk| {
            let mut local = vec![0u64; patterns];
            let mut u0 = vec![0.0; n];
            let mut fresh = Active::default();
            for (k, (z0, &a)) in chunk.z0.chunks_exact(n).zip(chunk.a).enumerate() {
                let inside = |rho: &[f64]| z0.iter().zip(rho).any(|(z, r)| z.abs() <= *r);
                if inside(new) {
                    if old.is_some_and(inside) {
                        continue;
                    }
                    // Frozen until now: q = −(a/√m)(s(0) ⊙ c), z = z(0) + K q.
                    let q: Vec<f64> =
                        (0..n).map(|i| if z0[i] >= 0.0 { -a * self.inv_sqrt_m * c[i] } else { 0.0 }).collect();
                    fresh.index.push((chunk.start + k) as u64);
                    fresh.a.push(a);
                    fresh.z0.extend_from_slice(z0);
                    for (i, z) in z0.iter().enumerate() {
                        let kq: f64 = (0..n).map(|j| self.k[i * n + j] * q[j]).sum();
                        fresh.z.push(z + kq);
                    }
                    fresh.q.extend_from_slice(&q);
                } else {
                    let mut p = 0usize;
                    for (i, &z) in z0.iter().enumerate() {
                        if z >= 0.0 {
                            p |= 1 << i;
                            u0[i] += a * z;
                        }
                    }
                    local[p] += 1;
                }
            }
            for (shared, &v) in counts.iter().zip(&local) {
                if v > 0 {
                    shared.fetch_add(v, std::sync::atomic::Ordering::Relaxed);
                }
            }
            (u0, fresh)
        });
        let mut u0 = vec![0.0; n];
        let mut new_active = Active::default();
        for (part, fresh) in parts {
            for i in 0..n {
                u0[i] += part[i];
            }
            new_active.append(fresh);
        }
        for v in u0.iter_mut() {
            *v *= self.inv_sqrt_m;
        }
        Ok(Pass { counts: counts.into_iter().map(|c| c.into_inner()).collect(), u0, new_active })
    }

    /// Installs a pass: the frozen summary is replaced, the new active neurons appended, e recomputed.
    fn absorb(&self, st: &mut State, pass: Pass) -> Result<()> {
        let n = self.n;
        let total = st.active.len() + pass.new_active.len();
        let bytes = MemoryEstimate::of(n, self.d, self.m as u64, total as u64, rayon::current_num_threads()).total();
        if bytes > model::network::MEMORY_LIMIT_BYTES {
            return Err(ReducedError::TooManyActive {
                active: total as u64,
                needed_mib: bytes >> 20,
                limit_mib: model::network::MEMORY_LIMIT_BYTES >> 20,
            });
        }
        st.active.append(pass.new_active);
        st.frozen_u0 = pass.u0;
        let mut coact = vec![0u64; n * n];
        for (p, &count) in pass.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            for i in 0..n {
                if p >> i & 1 == 1 {
                    for j in 0..n {
                        if p >> j & 1 == 1 {
                            coact[i * n + j] += count;
                        }
                    }
                }
            }
        }
        let inv_m = 1.0 / self.m as f64;
        st.h_f = (0..n * n).map(|p| self.k[p] * (coact[p] as f64 * inv_m)).collect();
        st.frozen_coact = coact;
        st.frozen_counts = pass.counts;
        st.passes += 1;
        st.max_active = st.max_active.max(st.active.len());
        let ua = self.active_output(&st.active.z, &st.active.a);
        st.e = self.residual_from(st, &st.c, &ua);
        Ok(())
    }

    /// Grows the budget (a violation ratio ≥ 1 was seen) and makes the newly reachable neurons active.
    fn enlarge(&self, st: &mut State, ratio: f64) -> Result<()> {
        let factor = self.policy.growth.max(1.25 * ratio);
        let old = st.rho_bar.clone();
        let new: Vec<f64> = old.iter().map(|r| r * factor).collect();
        let pass = self.pass(Some(&old), &new, &st.c)?;
        st.rho_bar = new;
        self.absorb(st, pass)
    }

    /// max_i ρ_i(b)/ρ̄_i with ρ(b) = (1/√m)|K| b, and whether it breaks the budget.
    fn budget_ratio(&self, b: &[f64], rho_bar: &[f64]) -> f64 {
        let n = self.n;
        (0..n)
            .map(|i| {
                let rho: f64 = (0..n).map(|j| self.abs_k[i * n + j] * b[j]).sum::<f64>() * self.inv_sqrt_m;
                if rho_bar[i] > 0.0 {
                    rho * (1.0 + BUDGET_MARGIN) / rho_bar[i]
                } else if rho > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max)
    }

    /// (1/√m) Σ_{r∈A} a_r σ(z_r), summed per block, blocks in order.
    fn active_output(&self, z: &[f64], a: &[f64]) -> Vec<f64> {
        let n = self.n;
        let parts: Vec<Vec<f64>> = z
            .par_chunks(ACTIVE_BLOCK * n)
            .zip(a.par_chunks(ACTIVE_BLOCK))
            .map(|(z, a)| {
                let mut acc = vec![0.0; n];
                for (zr, &ar) in z.chunks_exact(n).zip(a) {
                    for (s, &v) in acc.iter_mut().zip(zr) {
                        if v > 0.0 {
                            *s += ar * v;
                        }
                    }
                }
                acc
            })
            .collect();
        let mut out = vec![0.0; n];
        for p in parts {
            for i in 0..n {
                out[i] += p[i];
            }
        }
        out.iter().map(|v| v * self.inv_sqrt_m).collect()
    }

    /// e = u_F(0) − H_F c + u_A − y.
    fn residual_from(&self, st: &State, c: &[f64], ua: &[f64]) -> Vec<f64> {
        let n = self.n;
        (0..n)
            .map(|i| {
                let hc: f64 = (0..n).map(|j| st.h_f[i * n + j] * c[j]).sum();
                st.frozen_u0[i] - hc + ua[i] - self.y[i]
            })
            .collect()
    }

    /// zs = z + α K g per active neuron; returns (1/√m) Σ a σ(zs).
    fn stage_z(&self, z: &[f64], alpha: f64, g: &[f64], a: &[f64], zs: &mut [f64]) -> Vec<f64> {
        let n = self.n;
        let k = &self.k;
        zs.par_chunks_mut(ACTIVE_BLOCK * n)
            .zip(z.par_chunks(ACTIVE_BLOCK * n))
            .zip(g.par_chunks(ACTIVE_BLOCK * n))
            .for_each(|((zs, z), g)| {
                for ((zs, z), g) in zs.chunks_exact_mut(n).zip(z.chunks_exact(n)).zip(g.chunks_exact(n)) {
                    for i in 0..n {
                        let kg: f64 = (0..n).map(|j| k[i * n + j] * g[j]).sum();
                        zs[i] = z[i] + alpha * kg;
                    }
                }
            });
        self.active_output(zs, a)
    }

    /// g_r = −(a_r/√m)(s(zs_r) ⊙ e); acc_r = w g_r (first stage) or acc_r += w g_r.
    #[allow(clippy::too_many_arguments)]
    fn stage_g(&self, zs: &[f64], e: &[f64], a: &[f64], g: &mut [f64], acc: &mut [f64], w: f64, first: bool) {
        let n = self.n;
        let s = self.inv_sqrt_m;
        g.par_chunks_mut(ACTIVE_BLOCK * n)
            .zip(acc.par_chunks_mut(ACTIVE_BLOCK * n))
            .zip(zs.par_chunks(ACTIVE_BLOCK * n))
            .zip(a.par_chunks(ACTIVE_BLOCK))
            .for_each(|(((g, acc), zs), a)| {
                for (((g, acc), zs), &ar) in
                    g.chunks_exact_mut(n).zip(acc.chunks_exact_mut(n)).zip(zs.chunks_exact(n)).zip(a)
                {
                    for i in 0..n {
                        g[i] = if zs[i] >= 0.0 { -(ar * s) * e[i] } else { 0.0 };
                        acc[i] = if first { w * g[i] } else { acc[i] + w * g[i] };
                    }
                }
            });
    }

    /// q += acc, z += K acc (the end of a step).
    fn commit(&self, st: &mut State, acc: &[f64]) {
        let n = self.n;
        let k = &self.k;
        let Active { z, q, .. } = &mut st.active;
        z.par_chunks_mut(ACTIVE_BLOCK * n)
            .zip(q.par_chunks_mut(ACTIVE_BLOCK * n))
            .zip(acc.par_chunks(ACTIVE_BLOCK * n))
            .for_each(|((z, q), acc)| {
                for ((z, q), acc) in z.chunks_exact_mut(n).zip(q.chunks_exact_mut(n)).zip(acc.chunks_exact(n)) {
                    for i in 0..n {
                        let ka: f64 = (0..n).map(|j| k[i * n + j] * acc[j]).sum();
                        q[i] += acc[i];
                        z[i] += ka;
                    }
                }
            });
        let ua = self.active_output(&st.active.z, &st.active.a);
        st.e = self.residual_from(st, &st.c, &ua);
    }

    /// The exact observables at the state.
    pub fn sample(&self, st: &State) -> Result<Sample> {
        let n = self.n;
        let act = &st.active;
        // Co-activations and pattern changes of the active neurons.
        let se = |z: &[f64], out: &mut Vec<f64>| {
            out.clear();
            out.extend(z.iter().zip(&st.e).map(|(z, e)| if *z >= 0.0 { *e } else { 0.0 }));
        };
        let parts: Vec<(Vec<u64>, u64, f64, f64)> = act
            .z
            .par_chunks(ACTIVE_BLOCK * n)
            .zip(act.z0.par_chunks(ACTIVE_BLOCK * n))
            .zip(act.q.par_chunks(ACTIVE_BLOCK * n))
            .map(|((z, z0), q)| {
                let mut coact = vec![0u64; n * n];
                let mut changed = 0u64;
                let mut dist2: f64 = 0.0;
                let mut grad2: f64 = 0.0;
                let mut buf = Vec::with_capacity(n);
                for ((z, z0), q) in z.chunks_exact(n).zip(z0.chunks_exact(n)).zip(q.chunks_exact(n)) {
                    se(z, &mut buf);
                    grad2 = grad2.max(self.quadratic(&buf));
                    for i in 0..n {
                        if (z[i] >= 0.0) != (z0[i] >= 0.0) {
                            changed += 1;
                        }
                        if z[i] >= 0.0 {
                            for j in 0..n {
                                if z[j] >= 0.0 {
                                    coact[i * n + j] += 1;
                                }
                            }
                        }
                    }
                    dist2 = dist2.max(self.quadratic(q));
                }
                (coact, changed, dist2, grad2)
            })
            .collect();
        let mut coact = st.frozen_coact.clone();
        let mut changed = 0u64;
        let mut dist2: f64 = 0.0;
        let mut grad2: f64 = 0.0;
        for (c, ch, d, g) in parts {
            grad2 = grad2.max(g);
            for (t, v) in coact.iter_mut().zip(c) {
                *t += v;
            }
            changed += ch;
            dist2 = dist2.max(d);
        }
        // Frozen patterns present: ‖w_r − w_r(0)‖² = (s ⊙ c)ᵀ K (s ⊙ c) / m.
        let mut sc = vec![0.0; n];
        for (p, &count) in st.frozen_counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            for (i, (v, c)) in sc.iter_mut().zip(&st.c).enumerate() {
                *v = if p >> i & 1 == 1 { *c } else { 0.0 };
            }
            dist2 = dist2.max(self.quadratic(&sc) / self.m as f64);
            for (i, (v, e)) in sc.iter_mut().zip(&st.e).enumerate() {
                *v = if p >> i & 1 == 1 { *e } else { 0.0 };
            }
            grad2 = grad2.max(self.quadratic(&sc));
        }
        let inv_m = 1.0 / self.m as f64;
        let h = Mat::from_fn(n, n, |i, j| self.k_mat[(i, j)] * (coact[i * n + j] as f64 * inv_m));
        let lambda_min_h = lambda_min(h.as_ref())?;
        let u: Vec<f64> = st.e.iter().zip(&self.y).map(|(e, y)| e + y).collect();
        Ok(Sample {
            t: st.t,
            step: st.step,
            u,
            loss: 0.5 * st.e.iter().map(|v| v * v).sum::<f64>(),
            lambda_min_h,
            pattern_change_fraction: changed as f64 / (n as f64 * self.m as f64),
            max_distance: dist2.sqrt(),
            max_neuron_gradient: (grad2 / self.m as f64).sqrt(),
            budget_use: self.budget_ratio(&st.b, &st.rho_bar),
            active: act.len(),
            passes: st.passes,
        })
    }

    /// An upper bound on max_r ‖w_r(a) − w_r(b)‖ between two states of the same network (the
    /// same source), e.g. a run at h and its shadow at h/2: neurons active in either state are
    /// compared one by one (a neuron frozen in one state is at its frozen formula there); for the
    /// neurons frozen in both, the max over every frozen pattern present in either state of
    /// ‖Xᵀ(s ⊙ (c_a − c_b))‖/√m, a superset of the patterns frozen in both.
    pub fn neuron_gap(&self, a: &State, b: &State) -> f64 {
        let n = self.n;
        let index_of = |st: &State| -> std::collections::HashMap<u64, usize> {
            st.active.index.iter().enumerate().map(|(k, &r)| (r, k)).collect()
        };
        let (ia, ib) = (index_of(a), index_of(b));
        // q of active neuron k of `st`, or, for a neuron frozen there, −(a/√m)(s(0) ⊙ c).
        let frozen_q = |z0: &[f64], ar: f64, c: &[f64]| -> Vec<f64> {
            (0..n).map(|i| if z0[i] >= 0.0 { -ar * self.inv_sqrt_m * c[i] } else { 0.0 }).collect()
        };
        let mut gap2: f64 = 0.0;
        for (this, other, io) in [(a, b, &ib), (b, a, &ia)] {
            for (k, r) in this.active.index.iter().enumerate() {
                let qa = &this.active.q[k * n..(k + 1) * n];
                let qb = match io.get(r) {
                    Some(&j) => other.active.q[j * n..(j + 1) * n].to_vec(),
                    None => frozen_q(&this.active.z0[k * n..(k + 1) * n], this.active.a[k], &other.c),
                };
                let d: Vec<f64> = qa.iter().zip(&qb).map(|(x, y)| x - y).collect();
                gap2 = gap2.max(self.quadratic(&d));
            }
        }
        let dc: Vec<f64> = a.c.iter().zip(&b.c).map(|(x, y)| x - y).collect();
        let mut sd = vec![0.0; n];
        for p in 0..a.frozen_counts.len().max(b.frozen_counts.len()) {
            let present = |st: &State| st.frozen_counts.get(p).is_some_and(|&c| c > 0);
            if !(present(a) || present(b)) {
                continue;
            }
            for (i, (v, d)) in sd.iter_mut().zip(&dc).enumerate() {
                *v = if p >> i & 1 == 1 { *d } else { 0.0 };
            }
            gap2 = gap2.max(self.quadratic(&sd) / self.m as f64);
        }
        gap2.sqrt()
    }

    /// vᵀ K v.
    fn quadratic(&self, v: &[f64]) -> f64 {
        let n = self.n;
        (0..n).map(|i| v[i] * (0..n).map(|j| self.k[i * n + j] * v[j]).sum::<f64>()).sum()
    }

    /// The peak memory of a run whose largest active count was `max_active`.
    pub fn memory(&self, max_active: usize) -> MemoryEstimate {
        let mut est =
            MemoryEstimate::of(self.n, self.d, self.m as u64, max_active as u64, rayon::current_num_threads());
        est.source = est.source.max(self.source.heap_bytes() as u64);
        est
    }
}

/// Classical RK4 at a fixed step on the reduced flow dc/dt = e, dz_r/dt = −(a_r/√m) K (s_r ⊙ e) (r ∈ A).
struct FlowStep;

/// Gradient descent with step η: c ← c + η e, z_r ← z_r − η (a_r/√m) K (s_r ⊙ e) (r ∈ A).
struct GdStep {
    eta: f64,
}

fn axpy(out: &mut [f64], alpha: f64, x: &[f64]) {
    for (o, v) in out.iter_mut().zip(x) {
        *o += alpha * v;
    }
}

fn plus(x: &[f64], alpha: f64, y: &[f64]) -> Vec<f64> {
    x.iter().zip(y).map(|(a, b)| a + alpha * b).collect()
}

fn plus_abs(x: &[f64], alpha: f64, y: &[f64]) -> Vec<f64> {
    x.iter().zip(y).map(|(a, b)| a + alpha * b.abs()).collect()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

impl FlowStep {
    /// One RK4 step of length dt, or the violation ratio if the budget broke at a stage (the state
    /// is then untouched).
    fn try_step<S: NeuronSource>(sys: &System<'_, S>, st: &mut State, dt: f64) -> Option<f64> {
        let mut scratch = std::mem::take(&mut st.scratch).sized(st.active.len() * sys.n, true);
        let ratio = Self::try_step_with(sys, st, dt, &mut scratch);
        st.scratch = scratch;
        ratio
    }

    /// [`FlowStep::try_step`] with its work buffers (stage_g and stage_z write every entry they
    /// later read, so their old contents never matter).
    fn try_step_with<S: NeuronSource>(
        sys: &System<'_, S>,
        st: &mut State,
        dt: f64,
        scratch: &mut Scratch,
    ) -> Option<f64> {
        let Scratch { zs, g, acc } = scratch;
        let (zs, g, acc) = (zs.as_mut_slice(), g.as_mut_slice(), acc.as_mut_slice());
        let a = &st.active.a;
        let e1 = st.e.clone();
        sys.stage_g(&st.active.z, &e1, a, g, acc, dt / 6.0, true);
        let mut c_out = plus(&st.c, dt / 6.0, &e1);
        let mut e_prev = e1.clone();
        let mut es = vec![e1];
        for (alpha, w) in [(0.5 * dt, dt / 3.0), (0.5 * dt, dt / 3.0), (dt, dt / 6.0)] {
            let ratio = sys.budget_ratio(&plus_abs(&st.b, alpha, &e_prev), &st.rho_bar);
            if ratio >= 1.0 {
                return Some(ratio);
            }
            let cs = plus(&st.c, alpha, &e_prev);
            let ua = sys.stage_z(&st.active.z, alpha, g, a, zs);
            let e = sys.residual_from(st, &cs, &ua);
            sys.stage_g(zs, &e, a, g, acc, w, false);
            axpy(&mut c_out, w, &e);
            e_prev = e.clone();
            es.push(e);
        }
        let mut b_out = st.b.clone();
        for (e, w) in es.iter().zip([dt / 6.0, dt / 3.0, dt / 3.0, dt / 6.0]) {
            for (b, v) in b_out.iter_mut().zip(e) {
                *b += w * v.abs();
            }
        }
        let ratio = sys.budget_ratio(&b_out, &st.rho_bar);
        if ratio >= 1.0 {
            return Some(ratio);
        }
        st.c = c_out;
        st.b = b_out;
        sys.commit(st, acc);
        None
    }
}

impl FlowStep {
    /// One RK4 step of length dt, the budget grown until it holds.
    fn step<S: NeuronSource>(sys: &System<'_, S>, st: &mut State, dt: f64) -> Result<()> {
        while let Some(ratio) = Self::try_step(sys, st, dt) {
            sys.enlarge(st, ratio)?;
        }
        st.t += dt;
        st.step += 1;
        Ok(())
    }
}

impl GdStep {
    /// One GD step of length η, the budget grown until it holds.
    fn step<S: NeuronSource>(&self, sys: &System<'_, S>, st: &mut State) -> Result<()> {
        let eta = self.eta;
        loop {
            let ratio = sys.budget_ratio(&plus_abs(&st.b, eta, &st.e), &st.rho_bar);
            if ratio < 1.0 {
                break;
            }
            sys.enlarge(st, ratio)?;
        }
        let mut scratch = std::mem::take(&mut st.scratch).sized(st.active.len() * sys.n, false);
        let e = st.e.clone();
        sys.stage_g(&st.active.z, &e, &st.active.a, &mut scratch.g, &mut scratch.acc, eta, true);
        st.b = plus_abs(&st.b, eta, &e);
        st.c = plus(&st.c, eta, &e);
        sys.commit(st, &scratch.acc);
        st.scratch = scratch;
        st.step += 1;
        st.t = st.step as f64 * eta;
        Ok(())
    }
}

pub use model::grid::steps_for;

/// The loss left the finite range or grew past this multiple of its start: divergence (the one
/// rule of `model::execute`, with the one default factor).
const DIVERGENCE_FACTOR: f64 = model::DEFAULT_DIVERGENCE_FACTOR;

fn finish<S: NeuronSource>(sys: &System<'_, S>, st: &State, status: model::Status) -> Outcome {
    Outcome {
        t: st.t,
        steps: st.step,
        passes: st.passes,
        active: st.active.len(),
        max_active: st.max_active,
        budget: st.rho_bar.clone(),
        peak_memory: sys.memory(st.max_active),
        status,
        loss: half_squared_norm(&st.e),
    }
}

/// ½‖v‖²: the loss of a residual.
fn half_squared_norm(v: &[f64]) -> f64 {
    0.5 * v.iter().map(|x| x * x).sum::<f64>()
}

/// Which step a [`Dynamics`] takes.
enum Update {
    Flow,
    Gd(GdStep),
}

/// The reduced dynamics on its [`System`] as a `model::Stepper`, for the one executor
/// `model::execute`: RK4 at the grid's step ([`Dynamics::flow`]) or GD with step η
/// ([`Dynamics::gd`]). The run's start loss is that of the run's very beginning
/// (`initial_residual_norm`); a step, in place, returns ½‖e‖² (+∞ when not finite), and a refused
/// step leaves the failing state (no copy is kept), which the outcome reports with its status.
pub struct Dynamics<'s, 'a, S: NeuronSource> {
    sys: &'s System<'a, S>,
    update: Update,
}

impl<'s, 'a, S: NeuronSource> Dynamics<'s, 'a, S> {
    /// RK4 gradient flow (the step is the grid's).
    pub fn flow(sys: &'s System<'a, S>) -> Self {
        Dynamics { sys, update: Update::Flow }
    }

    /// Gradient descent with step η (each grid step is one iteration; t = kη).
    pub fn gd(sys: &'s System<'a, S>, eta: f64) -> Self {
        Dynamics { sys, update: Update::Gd(GdStep { eta }) }
    }

    fn advance(&self, st: &mut State, dt: f64) -> Result<()> {
        match &self.update {
            Update::Flow => FlowStep::step(self.sys, st, dt),
            Update::Gd(gd) => gd.step(self.sys, st),
        }
    }
}

/// ½‖e‖², or +∞ when it is not finite (the executor's convention).
fn loss_of(st: &State) -> f64 {
    let loss = half_squared_norm(&st.e);
    if loss.is_finite() { loss } else { f64::INFINITY }
}

impl<S: NeuronSource> model::Stepper for Dynamics<'_, '_, S> {
    type State = State;
    type Error = ReducedError;

    fn start(&mut self, st: &State) -> Result<f64> {
        Ok(0.5 * st.initial_residual_norm.powi(2))
    }

    fn step(&mut self, st: &mut State, from: f64, to: f64) -> Result<f64> {
        self.advance(st, to - from)?;
        st.t = to;
        Ok(loss_of(st))
    }

    fn between(&mut self, st: &State, from: f64, to: f64) -> Result<Option<(State, f64)>> {
        let mut between = st.clone();
        self.advance(&mut between, to - from)?;
        between.t = to;
        between.step = st.step;
        let loss = loss_of(&between);
        Ok(Some((between, loss)))
    }
}

/// RK4 gradient flow with a shadow at h/2 in lockstep (two half steps per step, on the same
/// stream), as a `model::Stepper` on the pair (run, shadow): the run's error estimate by step
/// doubling, as the full solver's shadow gives it. The divergence rule sees the run's loss.
pub struct ShadowedFlow<'s, 'a, S: NeuronSource> {
    sys: &'s System<'a, S>,
}

impl<'s, 'a, S: NeuronSource> ShadowedFlow<'s, 'a, S> {
    /// RK4 flow of `sys` with its h/2 shadow.
    pub fn new(sys: &'s System<'a, S>) -> Self {
        ShadowedFlow { sys }
    }

    fn advance(&self, (run, shadow): &mut (State, State), dt: f64, to: f64) -> Result<()> {
        FlowStep::step(self.sys, run, dt)?;
        FlowStep::step(self.sys, shadow, 0.5 * dt)?;
        FlowStep::step(self.sys, shadow, 0.5 * dt)?;
        run.t = to;
        shadow.t = to;
        Ok(())
    }
}

impl<S: NeuronSource> model::Stepper for ShadowedFlow<'_, '_, S> {
    type State = (State, State);
    type Error = ReducedError;

    fn start(&mut self, pair: &(State, State)) -> Result<f64> {
        Ok(0.5 * pair.0.initial_residual_norm.powi(2))
    }

    fn step(&mut self, pair: &mut (State, State), from: f64, to: f64) -> Result<f64> {
        self.advance(pair, to - from, to)?;
        Ok(loss_of(&pair.0))
    }

    fn between(&mut self, pair: &(State, State), from: f64, to: f64) -> Result<Option<((State, State), f64)>> {
        let mut between = pair.clone();
        self.advance(&mut between, to - from, to)?;
        let loss = loss_of(&between.0);
        Ok(Some((between, loss)))
    }
}

/// Runs `dynamics` through `model::execute` and turns the run into an [`Outcome`].
fn execute<S, O, M>(dynamics: Dynamics<'_, '_, S>, mut st: State, moves: M, observer: &mut O) -> Result<Outcome>
where
    S: NeuronSource,
    O: model::Observer<Sample, ReducedError> + ?Sized,
    M: IntoIterator<Item = Move>,
{
    let sys = dynamics.sys;
    let mut dynamics = dynamics;
    let run = model::execute(&mut dynamics, &mut st, moves, DIVERGENCE_FACTOR, |_, st, _| {
        observer.observe(&sys.sample(st)?)
    })?;
    Ok(finish(sys, &st, run.status))
}

/// Gradient flow with RK4 on the grid t_k = k·h (the last step shortened to land on the last
/// sample time T), observed at every sample time (strictly increasing, starting at 0), as
/// `flow::run` does: a sample on a grid point (within 10⁻⁹·h) is the grid state; a sample between
/// grid points is a separate short step from the grid point before it, on a copy that never feeds
/// back, so the sample times never change the solution (docs/theory.md §3.3).
pub fn run_flow<S: NeuronSource, O: model::Observer<Sample, ReducedError> + ?Sized>(
    sys: &System<'_, S>,
    st: State,
    h: f64,
    sample_times: &[f64],
    observer: &mut O,
) -> Result<Outcome> {
    if !(h.is_finite() && h > 0.0) {
        return Err(invalid("h", h, "the RK4 step must be finite and positive"));
    }
    if sample_times.first() != Some(&0.0) || sample_times.windows(2).any(|p| !(p[1].is_finite() && p[1] > p[0])) {
        return Err(invalid("sample_times", format!("{sample_times:?}"), "must start at 0 and increase strictly"));
    }
    let t_end = sample_times[sample_times.len() - 1];
    if t_end > 0.0 && h > t_end * (1.0 + 1e-12) {
        return Err(invalid("h", h, format!("the RK4 step is longer than the horizon T = {t_end}: give h ≤ T")));
    }
    execute(Dynamics::flow(sys), st, model::grid::walk(h, sample_times), observer)
}

/// `iterations` GD steps with step η, observed at k = 0 and at every k with `sample(k)` (and at the end).
pub fn run_gd<S: NeuronSource, O: model::Observer<Sample, ReducedError> + ?Sized>(
    sys: &System<'_, S>,
    st: State,
    eta: f64,
    iterations: usize,
    sample: impl Fn(usize) -> bool,
    observer: &mut O,
) -> Result<Outcome> {
    if !(eta.is_finite() && eta > 0.0) {
        return Err(invalid("eta", eta, "the step must be finite and positive"));
    }
    let mut index = 0;
    let moves = (1..=iterations).flat_map(move |k| {
        let step = Move::Step { from: (k - 1) as f64 * eta, to: k as f64 * eta };
        let shown = (sample(k) || k == iterations).then(|| {
            index += 1;
            Move::OnGrid { index, t: k as f64 * eta }
        });
        std::iter::once(step).chain(shown)
    });
    execute(Dynamics::gd(sys, eta), st, moves, observer)
}
