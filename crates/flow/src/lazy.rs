//! The kernel-space RK4 step with its embedded error estimate for about one n×n×m GEMM: the ReLU
//! pattern is frozen where it provably cannot change within the step, and corrected exactly
//! (O(n) per entry) where it might.
//!
//! ## The step
//!
//! The field of [`crate::kernel`] is k_r = −(a_r/√m) K (s_r ∘ e) for neuron r (and dc_r/dt =
//! −(a_r/√m) s_r ∘ e), with s = 1{Z ≥ 0} and e = u − y. Classical RK4 evaluates it at the stage
//! points Z⁽¹⁾ = Z, Z⁽²⁾ = Z + h/2 k1, Z⁽³⁾ = Z + h/2 k2, Z⁽⁴⁾ = Z + h k3, with patterns s⁽ʲ⁾ and
//! residuals e_j. Write s⁽ʲ⁾ = s̄ + Δ⁽ʲ⁾ with s̄ the pattern at the start. Then
//! K(s⁽ʲ⁾_r ∘ e_j) = K(s̄_r ∘ e_j) + Σ_{i: Δ_ri ≠ 0} K_{:,i} Δ_ri e_{j,i}: the correction costs O(n)
//! per differing entry.
//!
//! *Certainty.* For any pattern s, |(K(s ∘ e))_i| ≤ ‖K_i‖ ‖e‖ (Cauchy–Schwarz on row i of K), so
//! from Z the entry (r, i) moves by at most c h (|a_r|/√m) ‖K_i‖ ‖e_{j−1}‖ on the way to stage
//! point j (c = 1/2, 1/2, 1), and by at most h (|a_r|/√m) ‖K_i‖ maxⱼ ‖e_j‖ to Z(t + h) (the RK4
//! weights sum to 1). An entry with |z_ri| strictly above that keeps its sign; z = 0 is never
//! certain, since 1{z ≥ 0} flips on the slightest negative move. A *screen* (one pass over Z)
//! lists the candidates |z_ri| ≤ (|a_r|/√m) ‖K_i‖ R for a reach R guessed as
//! `reach_margin` · h · ‖e‖ (2h‖e‖ by default: the loss decreases along the flow); every stage
//! checks h ‖e_j‖ ≤ R, and a step where that fails (or anything is not finite) is taken by the
//! exact fused step instead ([`LazyCounters::fallbacks`]). Only the candidates inside the stage's
//! own bound get their stage value computed, an O(n) dot product each:
//! z⁽ʲ⁾_ri = z_ri − c h (a_r/√m) [(K(s̄_r ∘ e_{j−1}))_i + corrections_i].
//!
//! *Stage predictions.* u⁽ʲ⁾ = (1/√m) Σ_r a_r s⁽ʲ⁾_r ∘ z⁽ʲ⁾_r. With H̄ = K ∘ (S̄ diag(a²) S̄ᵀ)/m
//! (the Gram matrix H of the start pattern, n × n),
//! u⁽ʲ⁾ = u0 − c h [H̄ e_{j−1} + (1/m) Σ_r a_r² s̄_r ∘ corr_r] + (1/√m) Σ_{Δ⁽ʲ⁾_ri ≠ 0} a_r Δ_ri z⁽ʲ⁾_ri,
//! where corr_r = Σ_{i ∈ Δ⁽ʲ⁻¹⁾_r} K_{:,i} Δ_ri e_{j−1,i}: O(n²) plus O(n) per differing entry.
//!
//! *The update.* With ē = (e1 + 2e2 + 2e3 + e4)/6,
//! Z(t + h) = Z − (h/√m) (K diag(ē)) (S̄ diag(a)) − h Σ_j w_j (a_r/√m) corr⁽ʲ⁾_r: ONE GEMM (in the
//! column blocks of the fused step, thread-count independent; S̄ diag(a) is kept with the pattern,
//! so no n×m operand is built per step) plus O(n) per differing entry. C moves by
//! −(h/√m) S̄ diag(a) ∘ ē 1ᵀ plus the sparse terms; the dense part only accumulates E = Σ h ē
//! (n numbers), C̃ = C + (1/√m) S̄ diag(a) ∘ E 1ᵀ is stored, a flip of (r, i) moves C̃_ri by
//! (a_r/√m) δ E_i so that C stays continuous, and C is settled when asked for
//! ([`LazyKernel::state`]): a pass over C per step saved. u(t + h) is then recomputed from
//! Z(t + h) by the prediction kernel (the bits of [`KernelField::predictions`]), in the same pass
//! that finds the pattern changes and screens the next step's candidates.
//!
//! *H̄ upkeep.* A flip of (r, i) by δ = ±1 changes row and column i of S̄ diag(a²) S̄ᵀ/m by
//! (a_r²/m) δ s̄_rl (and the diagonal by (a_r²/m) δ): O(n), applied flip by flip. Each update
//! rounds the touched entries once; H̄ is rebuilt from scratch (one n×m×n GEMM) as soon as some
//! row i has had [`REBUILD_ROW_FLIPS`] flips, so every entry has seen at most
//! 2 · [`REBUILD_ROW_FLIPS`] roundings (relative drift ≲ 256 ε ≈ 6e−14), and flows whose patterns
//! barely move never pay for a rebuild. Deterministic either way.
//!
//! ## The embedded error estimate
//!
//! The generic estimate is δ = (h/6)(k4 − k5) with k5 = F(Z(t + h)) (see [`crate::ode`]). Here
//! δc_r = −(h/6)(a_r/√m) q_r with q_r = s⁽⁴⁾_r ∘ e4 − s⁽⁵⁾_r ∘ e5 = s⁽⁵⁾_r ∘ δe + p_r, δe = e4 − e5
//! and p_r = (s⁽⁴⁾_r − s⁽⁵⁾_r) ∘ e4 sparse (stage-4 and end patterns differ only at candidates), and
//! δz_r = K δc_r. So, with H̄ already that of the end pattern s⁽⁵⁾,
//! - ‖δW‖_F² = Σ_r δc_r · δz_r = (h/6)² [δeᵀ H̄ δe + Σ_r (a_r²/m)(2 p_rᵀ K (s⁽⁵⁾_r ∘ δe) + p_rᵀ K p_r)]: O(n²);
//! - u(Z(t + h)) − u(Z(t + h) − δZ) = (h/6)[H̄ δe + (1/m) Σ_r a_r² s⁽⁵⁾_r ∘ K p_r] plus the exact
//!   change of the entries whose sign the shift δZ flips (candidates of the reach (h/6)(‖e4‖ + ‖e5‖),
//!   since ‖q_r‖ ≤ ‖e4‖ + ‖e5‖);
//! - per neuron, ‖δw_r‖² = δc_rᵀ K δc_r ≤ λmax(K) ‖δc_r‖², with ‖q_r‖² = Σ_i s⁽⁵⁾_ri δe_i² plus the
//!   sparse terms (one O(nm) pass over the pattern bytes). This *bounds* the exact per-neuron error
//!   of [`KernelField::error_parts`] and over-estimates it (by up to √(λmax(K)/λmin(K)), the
//!   exact value needing a GEMM). λmax(K) comes from the sequential eigensolver, padded by
//!   n ε ‖K‖_F for its backward error.

use std::cell::OnceCell;

use faer::linalg::matmul::matmul;
use faer::{Accum, Col, Mat, MatRef, Par};
use model::network::{add_relu_column, combine_prediction_partials};
use model::par::{COLUMN_BLOCK, column_blocks_mut};
use model::simd::{SimdKernel, dispatch};

use crate::error::{Result, invalid};
use crate::kernel::{KernelField, KernelState, blocked_matmul, col, col_mut, map_blocks};
use crate::ode::{ErrorParts, OdeState, VectorField, embedded_step};

/// Flips of one row i of the pattern (over all neurons) after which H̄ is rebuilt from scratch.
pub const REBUILD_ROW_FLIPS: u32 = 128;

/// Relative slack on every certainty bound, against the rounding of the bound itself.
const SLACK: f64 = 1.0 + 1e-12;

/// Stage steps c_j (as fractions of h) to stage points 2, 3, 4.
const STAGE: [f64; 3] = [0.5, 0.5, 1.0];

/// RK4 weights of the stages 1..4.
const WEIGHT: [f64; 4] = [1.0 / 6.0, 2.0 / 6.0, 2.0 / 6.0, 1.0 / 6.0];

/// No correction vector for this neuron group.
const NONE: usize = usize::MAX;

/// Tuning of a [`LazyKernel`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LazyOptions {
    /// The screen's reach is this × h × ‖e‖ at the start of a step (or the largest stage residual
    /// of the last step): a step whose stage residuals exceed it falls back to the exact step.
    pub reach_margin: f64,
    /// Multiplies every certainty bound. 1 is exact; below 1 the step is *wrong* where patterns
    /// flip (a knob for the tests that prove the bound matters).
    pub certainty_factor: f64,
    /// H̄ is rebuilt from scratch once some row of the pattern has flipped this often since the
    /// last rebuild ([`REBUILD_ROW_FLIPS`] by default; 1 rebuilds after every step with a flip).
    pub rebuild_row_flips: u32,
}

impl Default for LazyOptions {
    fn default() -> Self {
        LazyOptions { reach_margin: 2.0, certainty_factor: 1.0, rebuild_row_flips: REBUILD_ROW_FLIPS }
    }
}

/// What the lazy steps did, summed over the steps (between-samples included only in their clone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LazyCounters {
    /// Steps taken (fallbacks included).
    pub steps: usize,
    /// Steps taken by the exact fused step because a stage residual left the screened reach.
    pub fallbacks: usize,
    /// Screens that listed candidates (one per step in the end pass, plus re-screens).
    pub screens: usize,
    /// Candidates listed, summed over screens.
    pub candidates: usize,
    /// Stage values computed (uncertain entries at a stage), summed over stages and steps.
    pub uncertain: usize,
    /// Stage-point entries whose sign differed from the step's start pattern.
    pub stage_flips: usize,
    /// Pattern changes between consecutive grid states.
    pub flips: usize,
    /// Rebuilds of H̄ from scratch (the one in `new` included).
    pub rebuilds: usize,
}

/// The result of one [`LazyKernel::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct LazyStep {
    /// The loss ½‖u − y‖² at the new state (+∞ when not finite).
    pub loss: f64,
    /// The step's embedded error (h/6)(k4 − k5), in parts; `neurons` holds upper bounds (see the module docs).
    pub error: ErrorParts,
    /// Whether the exact fused step was taken (then `neurons` holds the exact per-neuron errors).
    pub fallback: bool,
}

/// An entry (neuron r, input i) of Z listed by a screen, with its value then (Z does not move
/// until the step's update: no random access into Z per stage).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cand {
    r: u32,
    i: u32,
    z: f64,
}

/// The kernel-space flow stepped lazily (see the module docs): owns the state, the pattern, u, H̄
/// and its buffers; every step advances in place.
#[derive(Debug, Clone)]
pub struct LazyKernel<'a> {
    field: &'a KernelField<'a>,
    /// Z, and C̃ = C + (1/√m) (S̄ diag(a)) ∘ (E 1ᵀ): C is settled only when asked for.
    state: KernelState,
    /// E = Σ_steps h ē since C was last settled (n).
    cum: Vec<f64>,
    /// The state with C settled, made on demand.
    view: OnceCell<KernelState>,
    /// 1{z_ri ≥ 0}, column-major n × m (the pattern of `state.z`).
    pat: Vec<u8>,
    u: Col<f64>,
    e: Vec<f64>,
    loss: f64,
    /// H̄ = K ∘ (S̄ diag(a²) S̄ᵀ)/m for the pattern `pat`.
    hbar: Mat<f64>,
    row_flips: Vec<u32>,
    /// ‖K_i‖₂ per input.
    kn: Vec<f64>,
    /// |a_r|/√m per neuron.
    ra: Vec<f64>,
    /// An upper bound on λmax(K).
    lambda_k: f64,
    /// Every entry with |z_ri| ≤ ra_r kn_i reach (× the certainty factor), in (r, i) order.
    cands: Vec<Cand>,
    reach: f64,
    /// S̄ diag(a) (n × m), kept with the pattern: the right factor of the update's GEMM.
    sa: Mat<f64>,
    options: LazyOptions,
    counters: LazyCounters,
}

fn l2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn finite_or_inf(v: f64) -> f64 {
    if v.is_finite() { v } else { f64::INFINITY }
}

/// Groups of candidates by neuron: (r, first, end).
fn groups_of(cands: &[Cand]) -> Vec<(usize, usize, usize)> {
    let mut out: Vec<(usize, usize, usize)> = Vec::new();
    for (k, c) in cands.iter().enumerate() {
        match out.last_mut() {
            Some(g) if g.0 == c.r as usize => g.2 = k + 1,
            _ => out.push((c.r as usize, k, k + 1)),
        }
    }
    out
}

/// Column ranges (start, width) of the neuron blocks.
fn ranges(m: usize) -> Vec<(usize, usize)> {
    (0..m.div_ceil(COLUMN_BLOCK)).map(|b| (b * COLUMN_BLOCK, COLUMN_BLOCK.min(m - b * COLUMN_BLOCK))).collect()
}

/// Screen of one block: entries with |z_ri| ≤ ra_r kn_i reach, tested [`LANES`] rows at a time
/// without branches (almost no chunk has one).
#[inline(always)]
fn screen_block(z: MatRef<'_, f64>, start: usize, ra: &[f64], kn: &[f64], reach: f64, out: &mut Vec<Cand>) {
    for j in 0..z.ncols() {
        let t = ra[start + j] * reach;
        let r = (start + j) as u32;
        for (c, (zc, kc)) in col(z, j).chunks(LANES).zip(kn.chunks(LANES)).enumerate() {
            let hit = zc.iter().zip(kc).fold(false, |hit, (z, k)| hit | (z.abs() <= t * k));
            if hit {
                for (q, (z, k)) in zc.iter().zip(kc).enumerate() {
                    if z.abs() <= t * k {
                        out.push(Cand { r, i: (c * LANES + q) as u32, z: *z });
                    }
                }
            }
        }
    }
}

/// Rows per chunk of the branch-free loops, and independent partial sums of [`masked_dot`].
const LANES: usize = 8;

/// `v` where the pattern byte `s` (0 or 1) is 1, else +0: a bit mask, so that it vectorises
/// (a branch on a random pattern mispredicts half the time).
#[inline(always)]
fn select(s: u8, v: f64) -> f64 {
    f64::from_bits(v.to_bits() & 0u64.wrapping_sub(u64::from(s)))
}

/// Σ_l [s_l ≠ 0] x_l y_l in [`LANES`] interleaved partial sums added in a fixed order (so that it
/// vectorises; the bits do not depend on threads). With K symmetric, Σ_l K_il s_l e_l for column i.
#[inline(always)]
fn masked_dot(x: &[f64], s: &[u8], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let (xc, yc, sc) = (x.chunks_exact(LANES), y.chunks_exact(LANES), s.chunks_exact(LANES));
    let (xt, yt, st) = (xc.remainder(), yc.remainder(), sc.remainder());
    for ((x, y), s) in xc.zip(yc).zip(sc) {
        for q in 0..LANES {
            acc[q] += select(s[q], x[q] * y[q]);
        }
    }
    let mut tail = 0.0;
    for ((x, y), s) in xt.iter().zip(yt).zip(st) {
        tail += select(*s, x * y);
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Σ_l K_il s_rl e_l for a batch of entries (r, i), under the best instruction set.
struct Dots<'a> {
    k: MatRef<'a, f64>,
    pat: &'a [u8],
    e: &'a [f64],
    items: &'a [(u32, u32)],
}

impl SimdKernel for Dots<'_> {
    type Output = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let n = self.e.len();
        let Dots { k, pat, e, items } = self;
        items.iter().map(|&(r, i)| masked_dot(col(k, i as usize), &pat[r as usize * n..][..n], e)).collect()
    }
}

/// Σ_i s_ri v_i² for the neurons `start..start + width`.
struct MaskedSquares<'a> {
    pat: &'a [u8],
    v: &'a [f64],
    start: usize,
    width: usize,
}

impl SimdKernel for MaskedSquares<'_> {
    type Output = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let n = self.v.len();
        (self.start..self.start + self.width).map(|r| masked_dot(self.v, &self.pat[r * n..][..n], self.v)).collect()
    }
}

/// The end pass of a step over one block of neurons: its share of u (the bits of the prediction
/// kernel), the pattern changes (applied to the block's pattern bytes) and the screen.
struct EndPass<'a> {
    z: MatRef<'a, f64>,
    pat: &'a mut [u8],
    a: &'a [f64],
    ra: &'a [f64],
    kn: &'a [f64],
    reach: f64,
    start: usize,
}

impl SimdKernel for EndPass<'_> {
    type Output = (Vec<f64>, Vec<Cand>, Vec<Cand>);
    #[inline(always)]
    fn run(self) -> Self::Output {
        let EndPass { z, pat, a, ra, kn, reach, start } = self;
        let n = z.nrows();
        let mut acc = vec![0.0; n];
        let mut flips = Vec::new();
        for j in 0..z.ncols() {
            let zj = col(z, j);
            add_relu_column(&mut acc, zj, a[start + j]);
            let pj = &mut pat[j * n..(j + 1) * n];
            for (c, (zc, pc)) in zj.chunks(LANES).zip(pj.chunks_mut(LANES)).enumerate() {
                let diff = zc.iter().zip(pc.iter()).fold(0u8, |d, (z, p)| d | (u8::from(*z >= 0.0) ^ p));
                if diff != 0 {
                    for (q, (z, p)) in zc.iter().zip(pc.iter_mut()).enumerate() {
                        let s = u8::from(*z >= 0.0);
                        if s != *p {
                            *p = s;
                            flips.push(Cand { r: (start + j) as u32, i: (c * LANES + q) as u32, z: *z });
                        }
                    }
                }
            }
        }
        let mut cands = Vec::new();
        screen_block(z, start, ra, kn, reach, &mut cands);
        (acc, flips, cands)
    }
}

impl<'a> LazyKernel<'a> {
    /// The lazy stepper of `field` from `state` (finite, n × m both): builds the pattern, u, H̄
    /// (one n×m×n GEMM) and the bound on λmax(K) (a sequential n × n eigensolve).
    pub fn new(field: &'a KernelField<'a>, state: KernelState) -> Result<Self> {
        Self::with_options(field, state, LazyOptions::default())
    }

    /// As [`LazyKernel::new`] with the given options.
    pub fn with_options(field: &'a KernelField<'a>, state: KernelState, options: LazyOptions) -> Result<Self> {
        let (n, m) = (field.data.n(), field.a.len());
        for (name, mat) in [("state.z", &state.z), ("state.c", &state.c)] {
            if (mat.nrows(), mat.ncols()) != (n, m) {
                return Err(invalid(name, format!("{} × {}", mat.nrows(), mat.ncols()), format!("must be {n} × {m}")));
            }
        }
        if !state.is_finite() {
            return Err(invalid("state", "non-finite", "every entry must be finite"));
        }
        if !(options.reach_margin.is_finite() && options.reach_margin > 0.0) {
            return Err(invalid("reach_margin", options.reach_margin, "must be finite and positive"));
        }
        if !(options.certainty_factor.is_finite() && options.certainty_factor >= 0.0) {
            return Err(invalid("certainty_factor", options.certainty_factor, "must be finite and ≥ 0"));
        }
        let k = field.data.input_gram();
        let kn: Vec<f64> = (0..n).map(|i| l2(col(k, i))).collect();
        let frob = l2(&kn);
        let lambda_k = model::linalg::lambda_max(k)? + n as f64 * f64::EPSILON * frob;
        let ra: Vec<f64> = field.a.iter().map(|a| a.abs() * field.scale).collect();
        let mut pat = vec![0u8; n * m];
        for r in 0..m {
            let zr = col(state.z.as_ref(), r);
            for i in 0..n {
                pat[r * n + i] = u8::from(zr[i] >= 0.0);
            }
        }
        let sa = Mat::from_fn(n, m, |i, r| if state.z[(i, r)] >= 0.0 { field.a[r] } else { 0.0 });
        let mut lazy = LazyKernel {
            field,
            state,
            pat,
            u: Col::zeros(n),
            e: vec![0.0; n],
            loss: 0.0,
            hbar: Mat::zeros(n, n),
            row_flips: vec![0; n],
            kn,
            ra,
            lambda_k,
            cands: Vec::new(),
            reach: -1.0,
            sa,
            cum: vec![0.0; n],
            view: OnceCell::new(),
            options,
            counters: LazyCounters::default(),
        };
        let u = field.predictions(lazy.state.z.as_ref());
        lazy.set_predictions(u);
        lazy.rebuild();
        Ok(lazy)
    }

    fn n(&self) -> usize {
        self.state.z.nrows()
    }
    fn m(&self) -> usize {
        self.state.z.ncols()
    }

    /// The current state (Z, C); C is settled (an O(nm) pass and a copy) on the first call after a step.
    pub fn state(&self) -> &KernelState {
        self.view.get_or_init(|| KernelState { z: self.state.z.clone(), c: self.settled_c() })
    }
    /// The current state, by value.
    pub fn into_state(mut self) -> KernelState {
        self.settle();
        self.state
    }

    /// C = C̃ − (1/√m) (S̄ diag(a)) ∘ (E 1ᵀ).
    fn settled_c(&self) -> Mat<f64> {
        let scale = self.field.scale;
        let mut c = self.state.c.clone();
        for r in 0..self.m() {
            let (cr, sr) = (col_mut(c.as_mut(), r), col(self.sa.as_ref(), r));
            for ((c, s), e) in cr.iter_mut().zip(sr).zip(&self.cum) {
                *c -= scale * s * e;
            }
        }
        c
    }

    /// C̃ ← C, E ← 0.
    fn settle(&mut self) {
        if self.cum.iter().any(|&e| e != 0.0) {
            self.state.c = self.settled_c();
            self.cum.iter_mut().for_each(|e| *e = 0.0);
        }
    }
    /// u at the current state (the bits of [`KernelField::predictions`]).
    pub fn predictions(&self) -> &Col<f64> {
        &self.u
    }
    /// u − y at the current state.
    pub fn residual(&self) -> &[f64] {
        &self.e
    }
    /// ½‖u − y‖² at the current state (+∞ when not finite).
    pub fn loss(&self) -> f64 {
        self.loss
    }
    /// The counters so far.
    pub fn counters(&self) -> LazyCounters {
        self.counters
    }
    /// The options in use.
    pub fn options(&self) -> LazyOptions {
        self.options
    }
    /// Changes the options from the next step on (the candidates are screened again).
    pub fn set_options(&mut self, options: LazyOptions) {
        self.view = OnceCell::new();
        self.options = options;
        self.reach = -1.0;
    }
    /// The upper bound on λmax(K) the per-neuron error bounds use.
    pub fn lambda_max_bound(&self) -> f64 {
        self.lambda_k
    }

    fn set_predictions(&mut self, u: Col<f64>) {
        let r = &u - self.field.data.y();
        self.loss = finite_or_inf(0.5 * r.squared_norm_l2());
        self.e = r.iter().copied().collect();
        self.u = u;
    }

    /// H̄ = K ∘ (S̄ diag(a²) S̄ᵀ)/m from scratch: M = (S̄ diag(a))(S̄ diag(a))ᵀ (blocked GEMM),
    /// lower triangle mirrored so that H̄ is exactly symmetric.
    fn rebuild(&mut self) {
        let (n, m) = (self.n(), self.m());
        let t = self.sa.as_ref();
        blocked_matmul(self.hbar.as_mut(), Accum::Replace, t, t.transpose(), crate::kernel::parallel_for(n, n, m));
        let k = self.field.data.input_gram();
        let s2 = self.field.scale * self.field.scale;
        for l in 0..n {
            for i in l..n {
                let v = k[(i, l)] * (s2 * self.hbar[(i, l)]);
                self.hbar[(i, l)] = v;
                self.hbar[(l, i)] = v;
            }
        }
        self.row_flips.iter_mut().for_each(|c| *c = 0);
        self.counters.rebuilds += 1;
    }

    /// H̄ v (sequential, column by column of the symmetric H̄).
    fn hbar_times(&self, v: &[f64]) -> Vec<f64> {
        (0..self.n()).map(|i| col(self.hbar.as_ref(), i).iter().zip(v).map(|(h, x)| h * x).sum::<f64>()).collect()
    }

    /// Lists the candidates of `reach` (one parallel pass over Z).
    fn screen(&self, reach: f64) -> Vec<Cand> {
        let reach = reach * SLACK * self.options.certainty_factor;
        let (z, ra, kn) = (self.state.z.as_ref(), &self.ra, &self.kn);
        let parts = map_blocks(ranges(self.m()), self.field.parallel, |(start, width)| {
            let mut out = Vec::new();
            screen_block(z.subcols(start, width), start, ra, kn, reach, &mut out);
            out
        });
        parts.concat()
    }

    /// One RK4 step of length h in place, with its embedded error (see the module docs).
    pub fn step(&mut self, h: f64) -> Result<LazyStep> {
        if !(h.is_finite() && h > 0.0) {
            return Err(invalid("h", h, "the step must be finite and positive"));
        }
        self.counters.steps += 1;
        self.view = OnceCell::new();
        let need = self.options.reach_margin * h * l2(&self.e);
        if !need.is_finite() {
            return self.fallback(h);
        }
        if self.reach < need {
            self.cands = self.screen(need);
            self.reach = need;
            self.counters.screens += 1;
            self.counters.candidates += self.cands.len();
        }
        let n = self.n();
        let k = self.field.data.input_gram();
        let y = self.field.data.y();
        let groups = groups_of(&self.cands);
        let mut group = vec![0; self.cands.len()];
        for (g, &(_, lo, hi)) in groups.iter().enumerate() {
            group[lo..hi].iter_mut().for_each(|x| *x = g);
        }
        let nc = self.cands.len();
        // sgn[k][j]: the sign of candidate k at stage point j + 1 (index 0: the start pattern s̄).
        let mut sgn: Vec<[bool; 4]> =
            self.cands.iter().map(|c| [self.pat[c.r as usize * n + c.i as usize] != 0; 4]).collect();
        let mut zval = vec![0.0; nc];
        let mut es: Vec<Vec<f64>> = vec![self.e.clone()];
        let mut corr: Vec<(Vec<f64>, Vec<usize>)> = vec![(Vec::new(), vec![NONE; groups.len()])];
        let mut max_e: f64 = 0.0;
        for p in 0..4 {
            let norm = l2(&es[p]);
            // Also when a residual is not finite (a NaN compares false).
            let screened = h * norm <= self.reach;
            if !screened {
                return self.fallback(h);
            }
            max_e = max_e.max(norm);
            if p > 0 {
                corr.push(self.corrections(&groups, &sgn, p, &es[p]));
            }
            if p == 3 {
                break;
            }
            let (c, ep) = (STAGE[p], &es[p]);
            let (cbuf, cat) = &corr[p];
            let bound = c * h * norm * SLACK * self.options.certainty_factor;
            // The uncertain candidates of this stage, their dot products in one batch, their values.
            let (mut todo, mut pairs) = (Vec::new(), Vec::new());
            for (kk, cand) in self.cands.iter().enumerate() {
                let (r, i) = (cand.r as usize, cand.i as usize);
                if cand.z.abs() <= bound * self.ra[r] * self.kn[i] {
                    todo.push(kk);
                    pairs.push((cand.r, cand.i));
                } else {
                    sgn[kk][p + 1] = sgn[kk][0];
                }
            }
            self.counters.uncertain += todo.len();
            let dots = dispatch(Dots { k, pat: &self.pat, e: ep, items: &pairs });
            for (&kk, dot) in todo.iter().zip(dots) {
                let (r, i) = (self.cands[kk].r as usize, self.cands[kk].i as usize);
                let g = group[kk];
                let acc = if cat[g] != NONE { dot + cbuf[cat[g] + i] } else { dot };
                let zj = self.cands[kk].z - c * h * (self.field.a[r] * self.field.scale) * acc;
                zval[kk] = zj;
                sgn[kk][p + 1] = zj >= 0.0;
            }
            // u at stage point p + 2.
            let mut v = self.hbar_times(ep);
            for (g, &(r, _, _)) in groups.iter().enumerate() {
                if cat[g] != NONE {
                    let pr = &self.pat[r * n..(r + 1) * n];
                    let w = self.ra[r] * self.ra[r];
                    let cr = &cbuf[cat[g]..cat[g] + n];
                    for l in 0..n {
                        if pr[l] != 0 {
                            v[l] += w * cr[l];
                        }
                    }
                }
            }
            let mut u: Vec<f64> = (0..n).map(|i| self.u[i] - c * h * v[i]).collect();
            for (kk, cand) in self.cands.iter().enumerate() {
                if sgn[kk][p + 1] != sgn[kk][0] {
                    self.counters.stage_flips += 1;
                    let ar = self.field.a[cand.r as usize] * self.field.scale;
                    let dz = if sgn[kk][p + 1] { zval[kk] } else { -zval[kk] };
                    u[cand.i as usize] += ar * dz;
                }
            }
            es.push((0..n).map(|i| u[i] - y[i]).collect());
        }
        // The update: one GEMM for the start pattern, then the sparse corrections.
        let ebar: Vec<f64> = (0..n)
            .map(|i| WEIGHT[0] * es[0][i] + WEIGHT[1] * es[1][i] + WEIGHT[2] * es[2][i] + WEIGHT[3] * es[3][i])
            .collect();
        // Z += −(h/√m) (K diag(ē)) (S̄ diag(a)), in the column blocks of the fused step; C waits in E.
        let (scale, a) = (self.field.scale, &self.field.a);
        let ke = Mat::from_fn(n, n, |i, l| k[(i, l)] * ebar[l]);
        let sa = self.sa.as_ref();
        let items = column_blocks_mut(self.state.z.as_mut());
        map_blocks(items, self.field.parallel, |(start, zb)| {
            let width = zb.ncols();
            matmul(zb, Accum::Add, ke.as_ref(), sa.subcols(start, width), -h * scale, Par::Seq);
        });
        for (c, e) in self.cum.iter_mut().zip(&ebar) {
            *c += h * e;
        }
        for (g, &(r, lo, hi)) in groups.iter().enumerate() {
            let ar = a[r] * scale;
            for (p, (cbuf, cat)) in corr.iter().enumerate().skip(1) {
                if cat[g] == NONE {
                    continue;
                }
                let f = -h * WEIGHT[p] * ar;
                let zr = col_mut(self.state.z.as_mut(), r);
                for (zl, cl) in zr.iter_mut().zip(&cbuf[cat[g]..cat[g] + n]) {
                    *zl += f * cl;
                }
                let cr = col_mut(self.state.c.as_mut(), r);
                for (s, cand) in sgn[lo..hi].iter().zip(&self.cands[lo..hi]) {
                    if s[p] != s[0] {
                        let i = cand.i as usize;
                        let d = if s[p] { es[p][i] } else { -es[p][i] };
                        cr[i] += f * d;
                    }
                }
            }
        }
        let old = std::mem::take(&mut self.cands);
        let sgn4: Vec<bool> = sgn.iter().map(|s| s[3]).collect();
        let flips = self.finish(self.options.reach_margin * h * max_e);
        let error = self.error_parts(h, &es[3], &old, &sgn4, &flips);
        Ok(LazyStep { loss: self.loss, error, fallback: false })
    }

    /// corr_r = Σ_{i ∈ Δ_r} K_{:,i} Δ_ri e_i for the stage pattern `p`, per neuron group with a
    /// differing entry: a flat buffer and each group's offset (or [`NONE`]).
    fn corrections(
        &self,
        groups: &[(usize, usize, usize)],
        sgn: &[[bool; 4]],
        p: usize,
        e: &[f64],
    ) -> (Vec<f64>, Vec<usize>) {
        let n = self.n();
        let k = self.field.data.input_gram();
        let mut buf = Vec::new();
        let mut at = vec![NONE; groups.len()];
        for (g, &(_, lo, hi)) in groups.iter().enumerate() {
            for (s, cand) in sgn[lo..hi].iter().zip(&self.cands[lo..hi]) {
                if s[p] == s[0] {
                    continue;
                }
                if at[g] == NONE {
                    at[g] = buf.len();
                    buf.resize(buf.len() + n, 0.0);
                }
                let i = cand.i as usize;
                let coef = if s[p] { e[i] } else { -e[i] };
                for (b, kl) in buf[at[g]..at[g] + n].iter_mut().zip(col(k, i)) {
                    *b += coef * kl;
                }
            }
        }
        (buf, at)
    }

    /// After Z and C moved: u, e and the loss from Z (the prediction kernel's bits), the pattern
    /// changes (returned in (r, i) order, applied to the pattern and H̄), and the screen of `reach`.
    fn finish(&mut self, reach: f64) -> Vec<Cand> {
        let (n, m) = (self.n(), self.m());
        let z = self.state.z.as_ref();
        let screen_reach = reach * SLACK * self.options.certainty_factor;
        let items: Vec<_> = ranges(m).into_iter().zip(self.pat.chunks_mut(n * COLUMN_BLOCK)).collect();
        let (ra, kn, a) = (&self.ra, &self.kn, &self.field.a);
        let parts = map_blocks(items, self.field.parallel, |((start, width), pat)| {
            dispatch(EndPass { z: z.subcols(start, width), pat, a, ra, kn, reach: screen_reach, start })
        });
        let partials: Vec<Vec<f64>> = parts.iter().map(|p| p.0.clone()).collect();
        let u = combine_prediction_partials(&partials, n, m);
        let mut flips = Vec::new();
        let mut cands = Vec::new();
        for (_, f, c) in parts {
            flips.extend(f);
            cands.extend(c);
        }
        self.set_predictions(u);
        self.counters.screens += 1;
        self.counters.candidates += cands.len();
        self.cands = cands;
        self.reach = reach;
        self.apply_flips(&flips);
        flips
    }

    /// H̄ follows the pattern changes `flips` (already in `pat`): undone, then redone one by one,
    /// each adding (a_r²/m) δ K_il s_rl to row and column i; a rebuild once a row has had
    /// [`REBUILD_ROW_FLIPS`] flips.
    fn apply_flips(&mut self, flips: &[Cand]) {
        let n = self.n();
        for f in flips {
            self.pat[f.r as usize * n + f.i as usize] ^= 1;
        }
        let k = self.field.data.input_gram();
        for f in flips {
            let (r, i) = (f.r as usize, f.i as usize);
            let idx = r * n + i;
            self.pat[idx] ^= 1;
            let delta = if self.pat[idx] != 0 { 1.0 } else { -1.0 };
            // S̄ diag(a) follows; C̃ moves so that C stays put.
            self.sa[(i, r)] = if self.pat[idx] != 0 { self.field.a[r] } else { 0.0 };
            self.state.c[(i, r)] += self.field.scale * delta * self.field.a[r] * self.cum[i];
            let w = delta * self.ra[r] * self.ra[r];
            let pr = &self.pat[r * n..(r + 1) * n];
            for (l, (kl, s)) in col(k, i).iter().zip(pr).enumerate() {
                if l != i && *s != 0 {
                    let v = w * kl;
                    self.hbar[(i, l)] += v;
                    self.hbar[(l, i)] += v;
                }
            }
            self.hbar[(i, i)] += w * k[(i, i)];
            self.row_flips[i] += 1;
        }
        self.counters.flips += flips.len();
        if self.row_flips.iter().any(|&c| c >= self.options.rebuild_row_flips) {
            self.rebuild();
        }
    }

    /// The parts of (h/6)(k4 − k5) (see the module docs): `old` are the step's candidates with
    /// their stage-4 signs `sgn4`, `flips` the pattern changes of the step; pattern, H̄, e and the
    /// candidates are already those of the new state.
    fn error_parts(&self, h: f64, e4: &[f64], old: &[Cand], sgn4: &[bool], flips: &[Cand]) -> ErrorParts {
        let (n, m) = (self.n(), self.m());
        let k = self.field.data.input_gram();
        let e5 = &self.e;
        let de: Vec<f64> = (0..n).map(|i| e4[i] - e5[i]).collect();
        // p = (s⁽⁴⁾ − s⁽⁵⁾) ∘ e4 on candidates and on flips that were no candidates (s⁽⁴⁾ = s̄ there).
        let mut entries: Vec<(usize, usize, f64)> = Vec::new();
        let s5 = |r: usize, i: usize| self.pat[r * n + i] != 0;
        let (mut a, mut b) = (0, 0);
        while a < old.len() || b < flips.len() {
            let ka = old.get(a).map(|c| (c.r, c.i));
            let kb = flips.get(b).map(|c| (c.r, c.i));
            let (r, i, s4) = match (ka, kb) {
                (Some(x), Some(y)) if x == y => {
                    a += 1;
                    b += 1;
                    (x.0 as usize, x.1 as usize, sgn4[a - 1])
                }
                (Some(x), Some(y)) if x < y => {
                    a += 1;
                    (x.0 as usize, x.1 as usize, sgn4[a - 1])
                }
                (Some(x), None) => {
                    a += 1;
                    (x.0 as usize, x.1 as usize, sgn4[a - 1])
                }
                (_, Some(y)) => {
                    b += 1;
                    (y.0 as usize, y.1 as usize, !s5(y.0 as usize, y.1 as usize))
                }
                // The while condition guarantees one of old/flips still has an entry.
                (None, None) => unreachable!("the loop runs while one list has entries"),
            };
            if s4 != s5(r, i) {
                entries.push((r, i, if s4 { e4[i] } else { -e4[i] }));
            }
        }
        // Per neuron with entries: w_r = K p_r.
        let hde = self.hbar_times(&de);
        let mut quad = de.iter().zip(&hde).map(|(x, y)| x * y).sum::<f64>();
        let mut du = hde;
        let mut wbuf: Vec<f64> = Vec::new();
        let mut wat: Vec<(usize, usize)> = Vec::new();
        let mut q_extra: Vec<(usize, f64)> = Vec::new();
        let mut start = 0;
        while start < entries.len() {
            let r = entries[start].0;
            let mut end = start;
            while end < entries.len() && entries[end].0 == r {
                end += 1;
            }
            let off = wbuf.len();
            wbuf.resize(off + n, 0.0);
            for &(_, i, v) in &entries[start..end] {
                for (wl, kl) in wbuf[off..off + n].iter_mut().zip(col(k, i)) {
                    *wl += v * kl;
                }
            }
            let w = &wbuf[off..off + n];
            let pr = &self.pat[r * n..(r + 1) * n];
            let cross = masked_dot(w, pr, &de);
            let pkp: f64 = entries[start..end].iter().map(|&(_, i, v)| v * w[i]).sum();
            let a2 = self.ra[r] * self.ra[r];
            quad += a2 * (2.0 * cross + pkp);
            for l in 0..n {
                if pr[l] != 0 {
                    du[l] += a2 * w[l];
                }
            }
            let q: f64 = entries[start..end]
                .iter()
                .map(|&(_, i, v)| {
                    let base = if pr[i] != 0 { de[i] } else { 0.0 };
                    (base + v) * (base + v) - base * base
                })
                .sum();
            q_extra.push((r, q));
            wat.push((r, off));
            start = end;
        }
        let sixth = h / 6.0;
        let state = finite_or_inf(sixth * quad.abs().sqrt());
        // u(Z) − u(Z − δZ) = −(u(Z') − u(Z)), Z' = Z + (h/6)(a_r/√m) K q_r: the norm is the same.
        for v in du.iter_mut() {
            *v *= sixth;
        }
        let reach_u = sixth * (l2(e4) + l2(e5));
        let extra;
        let cands: &[Cand] = if reach_u <= self.reach {
            &self.cands
        } else {
            extra = self.screen(reach_u);
            &extra
        };
        let bound = reach_u * SLACK * self.options.certainty_factor;
        let pairs: Vec<(u32, u32, f64)> = cands
            .iter()
            .filter(|c| {
                let (r, i) = (c.r as usize, c.i as usize);
                c.z.abs() <= bound * self.ra[r] * self.kn[i]
            })
            .map(|c| (c.r, c.i, c.z))
            .collect();
        let items: Vec<(u32, u32)> = pairs.iter().map(|&(r, i, _)| (r, i)).collect();
        let dots = dispatch(Dots { k, pat: &self.pat, e: &de, items: &items });
        for (&(r, i, z), dot) in pairs.iter().zip(dots) {
            let (r, i) = (r as usize, i as usize);
            let mut y = dot;
            if let Ok(g) = wat.binary_search_by_key(&r, |&(r, _)| r) {
                y += wbuf[wat[g].1 + i];
            }
            let ar = self.field.a[r] * self.field.scale;
            let zs = z + sixth * ar * y;
            if (zs >= 0.0) != (self.pat[r * n + i] != 0) {
                du[i] += if zs >= 0.0 { ar * zs } else { -ar * zs };
            }
        }
        let u = finite_or_inf(l2(&du));
        // Per neuron: ‖δw_r‖ ≤ √λmax(K) (h/6)(|a_r|/√m) ‖q_r‖.
        let pat = &self.pat;
        let base = map_blocks(ranges(m), self.field.parallel, |(start, width)| {
            dispatch(MaskedSquares { pat, v: &de, start, width })
        })
        .concat();
        let mut q2 = base;
        for (r, q) in q_extra {
            q2[r] += q;
        }
        let root = self.lambda_k.sqrt();
        let neurons =
            q2.iter().zip(&self.ra).map(|(q, ra)| finite_or_inf(root * sixth * ra * q.max(0.0).sqrt())).collect();
        ErrorParts { state, neurons: Some(neurons), u: Some(u) }
    }

    /// The step by the exact fused RK4 ([`KernelField::rk4_step`] and the generic embedded
    /// estimate), then the pattern, H̄, u and the screen brought up to date.
    fn fallback(&mut self, h: f64) -> Result<LazyStep> {
        self.counters.fallbacks += 1;
        self.settle();
        let field = self.field;
        let k1 = field.evaluate(0.0, &self.state)?.derivative;
        let (next, k5, error) = embedded_step(field, 0.0, &self.state, &k1, h)?;
        field.recycle(k1);
        field.recycle(k5.derivative);
        let old = std::mem::replace(&mut self.state, next);
        field.recycle(old);
        let guess = self.options.reach_margin * h * l2(&self.e);
        self.finish(if guess.is_finite() { guess } else { 0.0 });
        Ok(LazyStep { loss: self.loss, error, fallback: true })
    }

    /// A step of length `tau` from the current state that leaves it untouched (for samples
    /// between grid points): the new state, its loss and the step's error parts.
    pub fn between(&self, tau: f64) -> Result<(KernelState, f64, ErrorParts)> {
        let mut copy = self.clone();
        let s = copy.step(tau)?;
        Ok((copy.into_state(), s.loss, s.error))
    }
}
