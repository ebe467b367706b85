//! The descent problem (data, initial network, η) and its GD step, in weight space or in kernel space.
//!
//! One step is W(k+1) = W(k) − η G(k) with G = Dᵀ X, D = (r̃ aᵀ/√m) ⊙ 1{Z(k) ≥ 0} (n × m), where
//! r̃ = u(k) − y for full-batch GD (G = ∂L/∂W) and the masked, n/b-scaled residual for SGD.
//!
//! Kernel space (docs/theory.md §4.1). Since Z = X Wᵀ, the step is Z ← Z − η X Xᵀ D = Z − η K D, one
//! n×n by n×m GEMM. The first layer itself is kept as coefficients C (n × m) with
//! W(k) − W(0) = Cᵀ X (the move of w_r lies in the span of the x_i), updated by C ← C − η D.
//! With c_r, d_r, p_r the columns of C, D and P = K D, the squared distance
//! q_r = ‖w_r(k) − w_r(0)‖² = c_rᵀ K c_r updates in O(n) per neuron, using K = Kᵀ:
//!
//! q_r ← (c_r − η d_r)ᵀ K (c_r − η d_r) = q_r − 2η p_rᵀ c_r + η² d_rᵀ p_r.
//!
//! The kernel-space step is fused per column block of [`COLUMN_BLOCK`] neurons: D and P exist
//! only for the block (in per-task scratch), and the pass that updates the block's C, Z and q
//! also packs the new patterns, adds the block's share of u(k+1) and checks finiteness, so Z is
//! read and written once per step. Each block runs one sequential faer GEMM and the blocks'
//! shares are combined in block order: the bits do not depend on the thread count.

use std::sync::{Arc, OnceLock};

use faer::{Accum, Col, Mat, MatMut, MatRef, Par};
use model::network::{add_relu_column, combine_prediction_partials, ensure_fits, grad_w, predictions};
use model::par::{COLUMN_BLOCK, column_blocks_mut, matmul_par};
use model::patterns::pattern_words;
use model::simd::{SimdKernel, dispatch};
use model::{Dataset, InfiniteWidth, ModelError, Network, PatternBits, h_infinity};
use rayon::prelude::*;

use crate::minibatch::MinibatchSampler;
use crate::state::{Position, State};
use crate::{DescentConfig, DescentError, LearningRate, Method, Result, Sampling};

/// A descent problem: data, the initial network (W(0), a), and a validated configuration with
/// its step size η resolved.
///
/// Only the first layer is trained; a stays fixed. H∞ and its spectrum (O(n³)) are computed once,
/// on first use (the theorem's step, the recorder's bound and u∞), or handed in.
#[derive(Debug)]
pub struct Problem<'a> {
    data: &'a Dataset,
    net: &'a Network,
    config: DescentConfig,
    eta: f64,
    infinite: OnceLock<Arc<InfiniteWidth>>,
}

impl<'a> Problem<'a> {
    /// Validates the configuration and the network against the data, and resolves η
    /// (η = c_η λ0/n² for [`LearningRate::Theorem`], which computes H∞'s spectrum here).
    pub fn new(data: &'a Dataset, net: &'a Network, config: &DescentConfig) -> Result<Self> {
        Self::build(data, net, config, OnceLock::new())
    }

    /// As [`Problem::new`], reusing an H∞ spectrum already computed for `data` (e.g. across a width sweep).
    pub fn with_infinite_width(
        data: &'a Dataset,
        net: &'a Network,
        config: &DescentConfig,
        infinite: Arc<InfiniteWidth>,
    ) -> Result<Self> {
        if infinite.n() != data.n() {
            return Err(DescentError::InvalidParameter {
                name: "infinite",
                value: format!("H∞ of size {}", infinite.n()),
                reason: format!("the data set has n = {} inputs", data.n()),
            });
        }
        let cell = OnceLock::new();
        let _ = cell.set(infinite);
        Self::build(data, net, config, cell)
    }

    fn build(
        data: &'a Dataset,
        net: &'a Network,
        config: &DescentConfig,
        infinite: OnceLock<Arc<InfiniteWidth>>,
    ) -> Result<Self> {
        config.validate(data.n())?;
        check_network(data, net)?;
        let (n, m) = (data.n() as u64, net.m() as u64);
        let arrays = match config.method {
            Method::WeightSpace => 1,
            Method::KernelSpace => 2,
        };
        ensure_fits(&format!("{arrays} descent arrays of {n} × {m}"), n.saturating_mul(m).saturating_mul(8 * arrays))?;
        let mut problem = Problem { data, net, config: config.clone(), eta: 0.0, infinite };
        problem.eta = match config.learning_rate {
            LearningRate::Fixed(eta) => eta,
            LearningRate::Theorem { c_eta } => {
                let lambda0 = problem.infinite_width()?.lambda0();
                let eta = LearningRate::theorem_eta(c_eta, lambda0, data.n());
                if !(eta.is_finite() && eta > 0.0) {
                    return Err(DescentError::InvalidLearningRate {
                        name: "eta",
                        value: eta,
                        reason: format!("the theorem's η = c_η λ0/n² is not positive (λ0 = {lambda0})"),
                    });
                }
                eta
            }
        };
        Ok(problem)
    }

    /// The data set.
    pub fn data(&self) -> &'a Dataset {
        self.data
    }
    /// The initial network (W(0), a).
    pub fn initial_network(&self) -> &'a Network {
        self.net
    }
    /// The configuration.
    pub fn config(&self) -> &DescentConfig {
        &self.config
    }
    /// The step size η.
    pub fn eta(&self) -> f64 {
        self.eta
    }
    /// Number of inputs n.
    pub fn n(&self) -> usize {
        self.data.n()
    }
    /// Width m.
    pub fn m(&self) -> usize {
        self.net.m()
    }

    /// H∞ with its spectrum, computed on first call (O(n³)).
    pub fn infinite_width(&self) -> Result<&InfiniteWidth> {
        if let Some(iw) = self.infinite.get() {
            return Ok(iw);
        }
        let iw = Arc::new(InfiniteWidth::from_kernel_spectrum(h_infinity(self.data.input_gram()))?);
        Ok(self.infinite.get_or_init(|| iw))
    }

    /// λ0 = λmin(H∞), computed on first call (O(n³)).
    pub fn lambda0(&self) -> Result<f64> {
        Ok(self.infinite_width()?.lambda0())
    }

    /// λ0 if H∞'s spectrum has been computed already (never computes it).
    pub fn lambda0_if_known(&self) -> Option<f64> {
        self.infinite.get().map(|iw| iw.lambda0())
    }

    /// The state at k = 0: Z(0), u(0), zero distances, the initial patterns, the sampler.
    pub fn initial_state(&self) -> Result<State> {
        let (n, m) = (self.n(), self.m());
        let forward = self.net.forward(self.data)?;
        if let Some(i) = forward.u.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite { what: "predictions u(0)", row: i, col: 0, value: forward.u[i] }.into());
        }
        for r in 0..m {
            if let Some(i) = column_slice(forward.z.as_ref(), r).iter().position(|v| !v.is_finite()) {
                let value = forward.z[(i, r)];
                return Err(ModelError::NonFinite { what: "pre-activations Z(0)", row: i, col: r, value }.into());
            }
        }
        let residual = &forward.u - self.data.y();
        let residual_norm_sq = residual.squared_norm_l2();
        let initial_patterns = PatternBits::from_preactivations(forward.z.as_ref());
        let position = match self.config.method {
            Method::WeightSpace => Position::Weights(self.net.w.clone()),
            Method::KernelSpace => Position::Coefficients(Mat::zeros(n, m)),
        };
        let sampler = match self.config.sampling {
            Sampling::FullBatch => None,
            Sampling::Minibatch { batch_size, seed, trial } => Some(MinibatchSampler::new(n, batch_size, seed, trial)),
        };
        Ok(State {
            iteration: 0,
            initial_predictions: forward.u.clone(),
            z: forward.z,
            u: forward.u,
            step_residual: residual.clone(),
            residual,
            residual_norm_sq,
            squared_distances: vec![0.0; m],
            position,
            patterns: initial_patterns.clone(),
            initial_patterns,
            sampler,
            z_finite: true,
            lambda_min_warm: Default::default(),
            co_activation: Default::default(),
        })
    }

    fn check_state(&self, state: &State) -> Result<()> {
        let (n, m) = (self.n(), self.m());
        let shape_ok = state.z.nrows() == n && state.z.ncols() == m;
        let method_ok = matches!(
            (&state.position, self.config.method),
            (Position::Weights(_), Method::WeightSpace) | (Position::Coefficients(_), Method::KernelSpace)
        );
        let sampling_ok = state.sampler.is_some() == matches!(self.config.sampling, Sampling::Minibatch { .. });
        if !(shape_ok && method_ok && sampling_ok) {
            return Err(DescentError::StateMismatch {
                reason: format!(
                    "state: Z {}×{}, problem: n = {n}, m = {m}, {:?}, {:?}",
                    state.z.nrows(),
                    state.z.ncols(),
                    self.config.method,
                    self.config.sampling
                ),
            });
        }
        Ok(())
    }

    /// One step k → k + 1 (no divergence check: the driver [`Problem::run`] owns stopping).
    pub fn step(&self, state: &mut State) -> Result<()> {
        self.check_state(state)?;
        match &mut state.sampler {
            None => state.step_residual.copy_from(&state.residual),
            Some(sampler) => sampler.masked_residual(state.residual.as_ref(), state.step_residual.as_mut()),
        }
        let State { position, z, squared_distances, step_residual, patterns: signs, .. } = &mut *state;
        let (u, patterns, z_finite) = match position {
            Position::Weights(w) => {
                self.weight_space_step(w, z, squared_distances, step_residual);
                let u = predictions(z.as_ref(), self.net.a.as_ref());
                let finite = z.col_iter().all(|c| c.iter().all(|v| v.is_finite()));
                (u, PatternBits::from_preactivations(z.as_ref()), finite)
            }
            Position::Coefficients(c) => self.kernel_space_step(c, z, signs, squared_distances, step_residual),
        };
        state.u = u;
        if let Some(counts) = state.co_activation.0.get_mut().unwrap_or_else(|e| e.into_inner()) {
            state.patterns.update_co_activation_counts(&patterns, counts);
        }
        state.patterns = patterns;
        state.z_finite = z_finite;
        state.residual = &state.u - self.data.y();
        state.residual_norm_sq = state.residual.squared_norm_l2();
        state.iteration += 1;
        Ok(())
    }

    /// W ← W − η Dᵀ X, Z = X Wᵀ, q_r = ‖w_r − w_r(0)‖² directly: the reference path.
    fn weight_space_step(&self, w: &mut Mat<f64>, z: &mut Mat<f64>, q: &mut [f64], rt: &Col<f64>) {
        let x = self.data.x();
        let g = grad_w(x, z.as_ref(), self.net.a.as_ref(), rt.as_ref());
        let eta = self.eta;
        let w0 = self.net.w.as_ref();
        q.iter_mut().for_each(|v| *v = 0.0);
        for k in 0..w.ncols() {
            let wk = column_slice_mut(w.as_mut(), k);
            for (((wv, &gv), &w0v), qv) in
                wk.iter_mut().zip(column_slice(g.as_ref(), k)).zip(column_slice(w0, k)).zip(q.iter_mut())
            {
                *wv -= eta * gv;
                let delta = *wv - w0v;
                *qv += delta * delta;
            }
        }
        matmul_par(z.as_mut(), Accum::Replace, x, w.as_ref().transpose(), 1.0);
    }

    /// Per column block: D, P = K D, then per neuron q_r, c_r ← c_r − η d_r, z_r ← z_r − η p_r
    /// (see the module docs), the new patterns, the block's share of u(k+1) and finiteness.
    /// Returns u(k+1), the patterns of Z(k+1) and whether Z(k+1) is finite.
    fn kernel_space_step(
        &self,
        c: &mut Mat<f64>,
        z: &mut Mat<f64>,
        signs: &PatternBits,
        q: &mut [f64],
        rt: &Col<f64>,
    ) -> (Col<f64>, PatternBits, bool) {
        let (n, m) = (self.n(), self.m());
        let a_slice = column_slice_of(self.net.a.as_ref());
        let k = self.data.input_gram();
        let scale = 1.0 / (m as f64).sqrt();
        let eta = self.eta;
        let rt = column_slice_of(rt.as_ref());
        let words_per_block = COLUMN_BLOCK / 64;
        let old_bits = signs.word_major();
        let mut bits = vec![0u64; n * pattern_words(m)];
        let z_blocks = column_blocks_mut(z.as_mut());
        let c_blocks = column_blocks_mut(c.as_mut());
        let results: Vec<(Vec<f64>, bool)> = z_blocks
            .into_par_iter()
            .zip(c_blocks)
            .zip(q.par_chunks_mut(COLUMN_BLOCK))
            .zip(bits.par_chunks_mut((n * words_per_block).max(1)))
            .map(|((((start, mut z_block), (_, mut c_block)), q_block), bits_block)| {
                debug_assert_eq!(start % 64, 0, "column blocks must start on a pattern word");
                SCRATCH.with_borrow_mut(|scratch| {
                    if scratch.0.nrows() != n {
                        *scratch = (Mat::<f64>::zeros(n, COLUMN_BLOCK), Mat::<f64>::zeros(n, COLUMN_BLOCK));
                    }
                    let (d_scratch, p_scratch) = scratch;
                    let width = z_block.ncols();
                    let mut d = d_scratch.as_mut().subcols_mut(0, width);
                    let words = (start / 64) * n..(start + width).div_ceil(64) * n;
                    dispatch(BuildD {
                        d: d.as_mut(),
                        signs: &old_bits[words],
                        rt,
                        a: &a_slice[start..start + width],
                        scale,
                    });
                    let mut p = p_scratch.as_mut().subcols_mut(0, width);
                    faer::linalg::matmul::matmul(p.as_mut(), Accum::Replace, k, d.as_ref(), 1.0, Par::Seq);
                    let (acc, finite) = dispatch(UpdateBlock {
                        d: d.as_ref(),
                        p: p.as_ref(),
                        c: c_block.as_mut(),
                        z: z_block.as_mut(),
                        q: q_block,
                        bits: bits_block,
                        a: &a_slice[start..start + width],
                        eta,
                    });
                    (acc, finite)
                })
            })
            .collect();
        let finite = results.iter().all(|(_, f)| *f);
        let partials: Vec<Vec<f64>> = results.into_iter().map(|(acc, _)| acc).collect();
        let u = combine_prediction_partials(&partials, n, m);
        (u, PatternBits::from_word_major(n, m, bits), finite)
    }

    /// W(k), materialised: the kept W in weight space, W(0) + Cᵀ X in kernel space (one m×n×d GEMM).
    pub fn weights(&self, state: &State) -> Result<Mat<f64>> {
        self.check_state(state)?;
        Ok(match &state.position {
            Position::Weights(w) => w.clone(),
            Position::Coefficients(c) => {
                let mut w = self.net.w.clone();
                matmul_par(w.as_mut(), Accum::Add, c.as_ref().transpose(), self.data.x(), 1.0);
                w
            }
        })
    }

    /// The network (W(k), a) at this state.
    pub fn network(&self, state: &State) -> Result<Network> {
        Ok(Network { w: self.weights(state)?, a: self.net.a.clone() })
    }

    /// H(k) = H(W(k)) (n × n) from K and Z(k): H_ij = (1/m) x_iᵀx_j Σ_r a_r² s_ir s_jr, from the
    /// co-activation counts of the state's packed patterns when every |a_r| = 1 (AND + popcount
    /// on the first call of a run; after that each step updates the counts from its flips).
    pub fn gram_h(&self, state: &State) -> Result<Mat<f64>> {
        self.check_state(state)?;
        if self.net.a.iter().all(|v| v.abs() == 1.0) {
            let mut counts = state.co_activation.0.lock().unwrap_or_else(|e| e.into_inner());
            let counts = counts.get_or_insert_with(|| state.patterns.co_activation_counts());
            return Ok(model::gram_h_from_counts(self.data.input_gram(), counts, self.m()));
        }
        Ok(model::gram_h(self.data.input_gram(), state.z.as_ref(), self.net.a.as_ref()))
    }

    /// λmin(H(k)), O(n²m/64) for H plus the eigenvalue: the dense solver on the first call of a
    /// run, then warm-started shifted inverse iteration from the previous call's eigenvector
    /// ([`model::lambda_min_warm_started`], agreeing with the dense solver to 10⁻¹²; the warm
    /// start travels with the state).
    pub fn lambda_min_h(&self, state: &State) -> Result<f64> {
        let h = self.gram_h(state)?;
        let mut warm = state.lambda_min_warm.0.lock().unwrap_or_else(|e| e.into_inner());
        Ok(model::lambda_min_warm_started(h.as_ref(), &mut warm)?)
    }

    /// λmin(H(k)) by the dense solver alone (the oracle of [`Problem::lambda_min_h`]), O(n³).
    pub fn lambda_min_h_dense(&self, state: &State) -> Result<f64> {
        Ok(model::lambda_min(self.gram_h(state)?.as_ref())?)
    }
}

/// Rejects a network that does not fit the data: W must have d columns and m ≥ 1 rows, a must
/// have m entries, all finite.
fn check_network(data: &Dataset, net: &Network) -> Result<()> {
    Ok(net.validate_against(data)?)
}

thread_local! {
    /// Per-thread scratch of the fused kernel-space step: D and P for one column block (n ×
    /// [`COLUMN_BLOCK`] each), kept between steps so that no step pays for fresh pages.
    static SCRATCH: std::cell::RefCell<(Mat<f64>, Mat<f64>)> = std::cell::RefCell::new((Mat::zeros(0, 0), Mat::zeros(0, 0)));
}

/// Fills D for one column block: d_ir = r̃_i a_r m^{−1/2} if s_ir = 1{z_ir ≥ 0} = 1, else 0 (a
/// select, so that it vectorises). The signs are read from the packed patterns of Z (the block's
/// words, word-major), which stay in cache for 64 neurons, instead of from Z itself.
struct BuildD<'a> {
    d: MatMut<'a, f64>,
    signs: &'a [u64],
    rt: &'a [f64],
    a: &'a [f64],
    scale: f64,
}

impl SimdKernel for BuildD<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let BuildD { mut d, signs, rt, a, scale } = self;
        for (col, &ar) in a.iter().enumerate() {
            let dr = column_slice_mut(d.as_mut(), col);
            let n = dr.len();
            let (words, bit, rt) = (&signs[(col / 64) * n..][..n], (col % 64) as u32, &rt[..n]);
            for i in 0..n {
                dr[i] = if (words[i] >> bit) & 1 == 1 { rt[i] * ar * scale } else { 0.0 };
            }
        }
    }
}

/// After P = K D for one column block, per neuron r of the block: q_r += −2η p_rᵀc_r + η² d_rᵀp_r,
/// c_r −= η d_r, z_r −= η p_r, then the new patterns of z_r into `bits` (the block's words,
/// word-major) and a_r σ(z_r) into the block's share of u. Returns that share and whether the
/// new z is finite.
struct UpdateBlock<'a> {
    d: MatRef<'a, f64>,
    p: MatRef<'a, f64>,
    c: MatMut<'a, f64>,
    z: MatMut<'a, f64>,
    q: &'a mut [f64],
    bits: &'a mut [u64],
    a: &'a [f64],
    eta: f64,
}

impl SimdKernel for UpdateBlock<'_> {
    type Output = (Vec<f64>, bool);
    #[inline(always)]
    fn run(self) -> (Vec<f64>, bool) {
        let UpdateBlock { d, p, mut c, mut z, q, bits, a, eta } = self;
        let n = z.nrows();
        let mut acc = vec![0.0; n];
        let mut finite = true;
        for (col, (q, &ar)) in q.iter_mut().zip(a).enumerate() {
            let (dr, pr) = (column_slice(d, col), column_slice(p, col));
            let cr = column_slice_mut(c.as_mut(), col);
            let (p_dot_c, d_dot_p) = two_dots(pr, cr, dr);
            *q += -2.0 * eta * p_dot_c + eta * eta * d_dot_p;
            for (cv, &dv) in cr.iter_mut().zip(dr) {
                *cv -= eta * dv;
            }
            let zr = column_slice_mut(z.as_mut(), col);
            for (zv, &pv) in zr.iter_mut().zip(pr) {
                *zv -= eta * pv;
            }
            finite &= zr.iter().fold(true, |all, v| all & v.is_finite());
            let (word, bit) = (col / 64, (col % 64) as u32);
            for (o, &v) in bits[word * n..(word + 1) * n].iter_mut().zip(zr.iter()) {
                *o |= ((v >= 0.0) as u64) << bit;
            }
            add_relu_column(&mut acc, zr, ar);
        }
        (acc, finite)
    }
}

/// Lanes of the partial sums in [`two_dots`].
const DOT_LANES: usize = 8;

/// (pᵀc, dᵀp) with [`DOT_LANES`] interleaved partial sums added in a fixed order at the end (so
/// that the loop vectorises; the order depends only on the length).
#[inline]
fn two_dots(p: &[f64], c: &[f64], d: &[f64]) -> (f64, f64) {
    let mut pc = [0.0f64; DOT_LANES];
    let mut dp = [0.0f64; DOT_LANES];
    let (pch, cch, dch) = (p.chunks_exact(DOT_LANES), c.chunks_exact(DOT_LANES), d.chunks_exact(DOT_LANES));
    let (pt, ct, dt) = (pch.remainder(), cch.remainder(), dch.remainder());
    for ((pv, cv), dv) in pch.zip(cch).zip(dch) {
        for l in 0..DOT_LANES {
            pc[l] += pv[l] * cv[l];
            dp[l] += dv[l] * pv[l];
        }
    }
    for l in 0..pt.len() {
        pc[l] += pt[l] * ct[l];
        dp[l] += dt[l] * pt[l];
    }
    let fold = |v: [f64; DOT_LANES]| ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
    (fold(pc), fold(dp))
}

#[inline]
fn column_slice(m: MatRef<'_, f64>, j: usize) -> &[f64] {
    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is one contiguous slice;
    // callers pass owned Mats or column blocks of one (inputs are copied into an owned Mat first).
    m.col(j).try_as_col_major().expect("faer matrices keep columns contiguous").as_slice()
}

#[inline]
fn column_slice_of(c: faer::ColRef<'_, f64>) -> &[f64] {
    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is one contiguous slice;
    // callers pass owned Mats or column blocks of one (inputs are copied into an owned Mat first).
    c.try_as_col_major().expect("faer columns are contiguous").as_slice()
}

#[inline]
fn column_slice_mut(m: faer::MatMut<'_, f64>, j: usize) -> &mut [f64] {
    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is one contiguous slice;
    // callers pass owned Mats or column blocks of one (inputs are copied into an owned Mat first).
    m.col_mut(j).try_as_col_major_mut().expect("faer matrices keep columns contiguous").as_slice_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running q_r against c_rᵀ K c_r recomputed from C, after 30 kernel-space steps.
    #[test]
    fn running_squared_distances_equal_the_quadratic_form() {
        let data = Dataset::sphere(9, 4, 2, 0).unwrap();
        let net = Network::init(300, 4, 2, 0).unwrap();
        let config = DescentConfig { learning_rate: LearningRate::Fixed(0.8), ..Default::default() };
        let problem = Problem::new(&data, &net, &config).unwrap();
        let mut state = problem.initial_state().unwrap();
        for _ in 0..30 {
            problem.step(&mut state).unwrap();
        }
        let c = state.coefficients().unwrap();
        let kc = data.input_gram() * c;
        let mut worst: f64 = 0.0;
        for r in 0..300 {
            let direct: f64 = (0..9).map(|i| c[(i, r)] * kc[(i, r)]).sum();
            worst = worst.max((direct - state.squared_neuron_distances()[r]).abs());
        }
        assert!(worst < 1e-13, "{worst}");
        assert!(state.max_weight_distance() > 1e-3, "the test must move the weights");
    }
}
