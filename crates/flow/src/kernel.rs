//! The first-layer flow in kernel space: dZ/dt = −K D(Z) and dC/dt = −D(Z), with W − W(0) = Cᵀ X kept implicitly.
//!
//! Since Z = X Wᵀ and dW/dt = −∂L/∂W = −Dᵀ X with D = (r aᵀ/√m) ⊙ 1{Z ≥ 0} (n × m, r = u − y),
//! the pre-activations follow dZ/dt = −X Xᵀ D = −K D: one n×n by n×m GEMM per evaluation instead
//! of the two n×d×m GEMMs of weight space (docs/theory.md §4.1; the descent crate's kernel-space
//! step is the same move). The first layer is kept as C (n × m) with W(t) − W(0) = C(t)ᵀ X,
//! dC/dt = −D; since the field depends on Z alone, C is only accumulated. Cheaper than weight space
//! when n ≤ d; [`crate::Space::Auto`] picks it then.
//!
//! A [`KernelState`] difference δ = (δZ, δC) always has δZ = K δC, so ‖δW‖_F² = Σ_r δc_rᵀ K δc_r =
//! Σ_r δc_r · δz_r: the state norm, the per-neuron errors and the error of u need no GEMM.
//!
//! The RK4 step ([`VectorField::rk4_step`]) runs one pass over the neuron blocks of
//! [`COLUMN_BLOCK`] per stage: build D for the block (in per-thread scratch), one sequential GEMM
//! P = K D, add the stage to the output (Z and C), write the next stage's Z and the block's share
//! of its u. Only u needs all blocks (combined in block order between passes). The operations and
//! their order are those of the generic composition of [`VectorField::evaluate`] (the test
//! `fused_step_equals_the_generic_composition` checks the bits), and they do not depend on the
//! thread count. Below [`PARALLEL_WORK`] the blocks run on the calling thread (no rayon jobs).

use crate::pool::MatPool;
use std::cell::RefCell;

use faer::linalg::matmul::matmul;
use faer::{Accum, Col, Mat, MatMut, MatRef, Par};
use model::network::{add_relu_column, combine_prediction_partials};
use model::par::{COLUMN_BLOCK, column_blocks_mut};
use model::simd::{SimdKernel, dispatch};
use model::{Dataset, Network};
use rayon::prelude::*;

use crate::error::Result;
use crate::ode::{ErrorParts, Evaluation, OdeState, VectorField};

pub use model::par::PARALLEL_WORK;

/// The state of the kernel-space flow: Z = X Wᵀ (n × m) and C (n × m) with W − W(0) = Cᵀ X.
///
/// As an [`OdeState`] its norm is that of W for a difference of states or a derivative, where
/// δZ = K δC: ‖δW‖_F = (Σ_r δc_r · δz_r)^{1/2}.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelState {
    /// Pre-activations Z (n × m).
    pub z: Mat<f64>,
    /// Coefficients C (n × m), W − W(0) = Cᵀ X.
    pub c: Mat<f64>,
}

/// Σ_r c_r · z_r, column by column in order (a fixed order: the bits do not depend on threads).
fn column_dots(c: MatRef<'_, f64>, z: MatRef<'_, f64>) -> Vec<f64> {
    (0..c.ncols())
        .map(|j| {
            let (cj, zj) = (col(c, j), col(z, j));
            cj.iter().zip(zj).map(|(a, b)| a * b).sum::<f64>()
        })
        .collect()
}

impl OdeState for KernelState {
    fn axpy(&mut self, alpha: f64, x: &Self) {
        self.z.axpy(alpha, &x.z);
        self.c.axpy(alpha, &x.c);
    }
    fn scale(&mut self, alpha: f64) {
        self.z.scale(alpha);
        self.c.scale(alpha);
    }
    fn norm(&self) -> f64 {
        column_dots(self.c.as_ref(), self.z.as_ref()).iter().sum::<f64>().abs().sqrt()
    }
    fn is_finite(&self) -> bool {
        self.z.is_finite() && self.c.is_finite()
    }
}

impl KernelState {
    /// The start of a run: Z(0) = X W(0)ᵀ, C = 0.
    pub fn initial(data: &Dataset, net: &Network) -> Self {
        let (n, m) = (data.n(), net.m());
        let parallel = parallel_for(n, m, data.d());
        let mut z = Mat::<f64>::zeros(n, m);
        blocked_matmul(z.as_mut(), Accum::Replace, data.x(), net.w.as_ref().transpose(), parallel);
        KernelState { z, c: Mat::zeros(n, m) }
    }

    /// W = W(0) + Cᵀ X (one m×n×d GEMM).
    pub fn weights(&self, data: &Dataset, w0: MatRef<'_, f64>) -> Mat<f64> {
        let mut w = w0.to_owned();
        let parallel = parallel_for(data.n(), self.c.ncols(), data.d());
        // Wᵀ (d × m) += Xᵀ C, cut into column blocks of Wᵀ, i.e. neuron blocks.
        blocked_matmul(w.as_mut().transpose_mut(), Accum::Add, data.x().transpose(), self.c.as_ref(), parallel);
        w
    }
}

/// Whether kernels on n × m arrays with inner dimension `inner` run their blocks in parallel
/// (the one rule of the workspace, [`model::par::parallel_for`]).
pub fn parallel_for(n: usize, m: usize, inner: usize) -> bool {
    model::par::parallel_for(n, m, inner)
}

/// `dst (+)= lhs · rhs` with the columns of dst in blocks of [`COLUMN_BLOCK`], one sequential faer
/// GEMM each, on one thread or in parallel: the same bits either way.
pub(crate) fn blocked_matmul(
    dst: MatMut<'_, f64>,
    accum: Accum,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    parallel: bool,
) {
    let blocks = column_blocks_mut(dst);
    let run = |(start, block): (usize, MatMut<'_, f64>)| {
        let width = block.ncols();
        matmul(block, accum, lhs, rhs.subcols(start, width), 1.0, Par::Seq);
    };
    if parallel { blocks.into_par_iter().for_each(run) } else { blocks.into_iter().for_each(run) }
}

pub(crate) fn map_blocks<T: Send, R: Send>(items: Vec<T>, parallel: bool, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    if parallel { items.into_par_iter().map(f).collect() } else { items.into_iter().map(f).collect() }
}

#[inline]
pub(crate) fn col(m: MatRef<'_, f64>, j: usize) -> &[f64] {
    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is one contiguous slice;
    // callers pass owned Mats or column blocks of one (inputs are copied into an owned Mat first).
    m.col(j).try_as_col_major().expect("faer matrices keep columns contiguous").as_slice()
}

#[inline]
pub(crate) fn col_mut(m: MatMut<'_, f64>, j: usize) -> &mut [f64] {
    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is one contiguous slice;
    // callers pass owned Mats or column blocks of one (inputs are copied into an owned Mat first).
    m.col_mut(j).try_as_col_major_mut().expect("faer matrices keep columns contiguous").as_slice_mut()
}

thread_local! {
    /// Per-thread scratch of the fused stages: D and P for one block (n × [`COLUMN_BLOCK`] each).
    static SCRATCH: RefCell<(Mat<f64>, Mat<f64>)> = RefCell::new((Mat::zeros(0, 0), Mat::zeros(0, 0)));
}

/// The first-layer gradient flow in kernel space (a fixed), on a [`KernelState`].
#[derive(Debug)]
pub struct KernelField<'a> {
    pub(crate) data: &'a Dataset,
    pub(crate) a: Vec<f64>,
    pub(crate) scale: f64,
    pub(crate) parallel: bool,
    pool: MatPool,
}

impl<'a> KernelField<'a> {
    /// The field of `data` with second layer `a` (length m); blocks in parallel from [`PARALLEL_WORK`].
    pub fn new(data: &'a Dataset, a: &Col<f64>) -> Self {
        Self::with_parallelism(data, a, parallel_for(data.n(), a.nrows(), data.n()))
    }

    /// As [`KernelField::new`], with the blocks on one thread or in parallel as asked (the same
    /// bits either way; for the benches that choose [`PARALLEL_WORK`]).
    pub fn with_parallelism(data: &'a Dataset, a: &Col<f64>, parallel: bool) -> Self {
        let m = a.nrows();
        KernelField {
            data,
            a: a.iter().copied().collect(),
            scale: 1.0 / (m as f64).sqrt(),
            parallel,
            pool: MatPool::new(data.n(), m),
        }
    }

    fn n(&self) -> usize {
        self.data.n()
    }
    fn m(&self) -> usize {
        self.a.len()
    }

    /// An n × m buffer whose entries the caller overwrites (reused, or fresh).
    fn take(&self) -> Mat<f64> {
        self.pool.take()
    }

    fn give(&self, m: Mat<f64>) {
        self.pool.give(m)
    }

    /// u = m^{−1/2} Σ_r a_r σ(z_r), per block in order (the bits of `model::network::predictions`).
    pub fn predictions(&self, z: MatRef<'_, f64>) -> Col<f64> {
        let (n, m) = (self.n(), self.m());
        let partials = map_blocks(model::par::column_spans(m), self.parallel, |(start, width)| {
            dispatch(Relu { z: z.subcols(start, width), a: &self.a[start..start + width] })
        });
        combine_prediction_partials(&partials, n, m)
    }

    /// The residual r = u − y and the loss ½‖r‖² (faer's sum, as the weight-space driver).
    fn residual(&self, u: &Col<f64>) -> (Vec<f64>, f64) {
        let r = u - self.data.y();
        let loss = 0.5 * r.squared_norm_l2();
        (r.iter().copied().collect(), loss)
    }
}

/// The block's share Σ_r a_r σ(z_r) of u (summed in neuron order, as `model::network::predictions`).
struct Relu<'a> {
    z: MatRef<'a, f64>,
    a: &'a [f64],
}

impl SimdKernel for Relu<'_> {
    type Output = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let mut acc = vec![0.0; self.z.nrows()];
        for (j, &aj) in self.a.iter().enumerate() {
            add_relu_column(&mut acc, col(self.z, j), aj);
        }
        acc
    }
}

/// −D for one block: −r_i a_r m^{−1/2} where z_ir ≥ 0, else 0 (a select, so that it vectorises).
pub(crate) fn build_minus_d(d: MatMut<'_, f64>, z: MatRef<'_, f64>, r: &[f64], a: &[f64], scale: f64) {
    dispatch(MinusD { d, z, r, a, scale });
}

struct MinusD<'a> {
    d: MatMut<'a, f64>,
    z: MatRef<'a, f64>,
    r: &'a [f64],
    a: &'a [f64],
    scale: f64,
}

impl SimdKernel for MinusD<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let MinusD { mut d, z, r, a, scale } = self;
        for (j, &ar) in a.iter().enumerate() {
            let dj = col_mut(d.as_mut(), j);
            let n = dj.len();
            let (zj, r) = (&col(z, j)[..n], &r[..n]);
            for i in 0..n {
                dj[i] = if zj[i] >= 0.0 { -(r[i] * ar * scale) } else { 0.0 };
            }
        }
    }
}

/// Pass 0 of a step for one block: Z₂ = Z + (h/2) P1, Z_out = Z + (h/6) P1, C_out = C + (h/6) D1,
/// and the block's share of u(Z₂).
struct FirstPass<'a> {
    z: MatRef<'a, f64>,
    c: MatRef<'a, f64>,
    p1: MatRef<'a, f64>,
    d1: MatRef<'a, f64>,
    zs: MatMut<'a, f64>,
    zo: MatMut<'a, f64>,
    co: MatMut<'a, f64>,
    a: &'a [f64],
    h: f64,
}

impl SimdKernel for FirstPass<'_> {
    type Output = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let FirstPass { z, c, p1, d1, mut zs, mut zo, mut co, a, h } = self;
        let n = z.nrows();
        let mut acc = vec![0.0; n];
        for (j, &aj) in a.iter().enumerate() {
            let (z, c, p1, d1) = (&col(z, j)[..n], &col(c, j)[..n], &col(p1, j)[..n], &col(d1, j)[..n]);
            let zs_j = &mut col_mut(zs.as_mut(), j)[..n];
            for i in 0..n {
                zs_j[i] = z[i] + (0.5 * h) * p1[i];
            }
            let zo_j = &mut col_mut(zo.as_mut(), j)[..n];
            for i in 0..n {
                zo_j[i] = z[i] + (h / 6.0) * p1[i];
            }
            let co_j = &mut col_mut(co.as_mut(), j)[..n];
            for i in 0..n {
                co_j[i] = c[i] + (h / 6.0) * d1[i];
            }
            add_relu_column(&mut acc, col(zs.as_ref(), j), aj);
        }
        acc
    }
}

/// After P = K D of a stage for one block: Z_out += w P, C_out += w D and, unless it is the last
/// stage, the next stage's Z = Z + step · P with the block's share of its u.
struct StagePass<'a> {
    p: MatRef<'a, f64>,
    d: MatRef<'a, f64>,
    z: MatRef<'a, f64>,
    zs: MatMut<'a, f64>,
    zo: MatMut<'a, f64>,
    co: MatMut<'a, f64>,
    a: &'a [f64],
    weight: f64,
    next: Option<f64>,
}

impl SimdKernel for StagePass<'_> {
    type Output = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let StagePass { p, d, z, mut zs, mut zo, mut co, a, weight, next } = self;
        let n = z.nrows();
        let mut acc = vec![0.0; n];
        for (j, &aj) in a.iter().enumerate() {
            let (pj, dj) = (&col(p, j)[..n], &col(d, j)[..n]);
            let zo_j = &mut col_mut(zo.as_mut(), j)[..n];
            for i in 0..n {
                zo_j[i] += weight * pj[i];
            }
            let co_j = &mut col_mut(co.as_mut(), j)[..n];
            for i in 0..n {
                co_j[i] += weight * dj[i];
            }
            if let Some(step) = next {
                let zj = &col(z, j)[..n];
                let zs_j = &mut col_mut(zs.as_mut(), j)[..n];
                for i in 0..n {
                    zs_j[i] = zj[i] + step * pj[i];
                }
                add_relu_column(&mut acc, zs_j, aj);
            }
        }
        acc
    }
}

impl VectorField for KernelField<'_> {
    type State = KernelState;

    fn evaluate(&self, _t: f64, x: &KernelState) -> Result<Evaluation<KernelState>> {
        let u = self.predictions(x.z.as_ref());
        let (r, loss) = self.residual(&u);
        let (mut p, mut d) = (self.take(), self.take());
        let k = self.data.input_gram();
        let items: Vec<_> = column_blocks_mut(p.as_mut()).into_iter().zip(column_blocks_mut(d.as_mut())).collect();
        map_blocks(items, self.parallel, |((start, p_block), (_, mut d_block))| {
            let width = d_block.ncols();
            build_minus_d(
                d_block.as_mut(),
                x.z.as_ref().subcols(start, width),
                &r,
                &self.a[start..start + width],
                self.scale,
            );
            matmul(p_block, Accum::Replace, k, d_block.as_ref(), 1.0, Par::Seq);
        });
        Ok(Evaluation { derivative: KernelState { z: p, c: d }, loss })
    }

    fn rk4_step(&self, _t: f64, x: &KernelState, k1: &KernelState, h: f64) -> Result<(KernelState, KernelState)> {
        let (n, _) = (self.n(), self.m());
        let k = self.data.input_gram();
        let (mut zs, mut zo, mut co, mut p4, mut d4) =
            (self.take(), self.take(), self.take(), self.take(), self.take());
        // Pass 0: Z₂ = Z + h/2 P1, the output's first term, and u(Z₂) per block.
        let items: Vec<_> = column_blocks_mut(zs.as_mut())
            .into_iter()
            .zip(column_blocks_mut(zo.as_mut()))
            .zip(column_blocks_mut(co.as_mut()))
            .collect();
        let partials = map_blocks(items, self.parallel, |(((start, zs_b), (_, zo_b)), (_, co_b))| {
            let width = zs_b.ncols();
            dispatch(FirstPass {
                z: x.z.as_ref().subcols(start, width),
                c: x.c.as_ref().subcols(start, width),
                p1: k1.z.as_ref().subcols(start, width),
                d1: k1.c.as_ref().subcols(start, width),
                zs: zs_b,
                zo: zo_b,
                co: co_b,
                a: &self.a[start..start + width],
                h,
            })
        });
        let mut u = combine_prediction_partials(&partials, n, self.m());
        // Stages 2, 3, 4: weight of the stage in the output, and the step to the next stage's Z.
        for (weight, next) in [(h / 3.0, Some(0.5 * h)), (h / 3.0, Some(h)), (h / 6.0, None)] {
            let (r, _) = self.residual(&u);
            let last = next.is_none();
            let items: Vec<_> = column_blocks_mut(zs.as_mut())
                .into_iter()
                .zip(column_blocks_mut(zo.as_mut()))
                .zip(column_blocks_mut(co.as_mut()))
                .zip(column_blocks_mut(p4.as_mut()).into_iter().zip(column_blocks_mut(d4.as_mut())))
                .collect();
            let partials = map_blocks(
                items,
                self.parallel,
                |((((start, zs_b), (_, zo_b)), (_, co_b)), ((_, mut p4_b), (_, mut d4_b)))| {
                    let width = zs_b.ncols();
                    let a = &self.a[start..start + width];
                    SCRATCH.with_borrow_mut(|scratch| {
                        if scratch.0.nrows() != n {
                            *scratch = (Mat::zeros(n, COLUMN_BLOCK), Mat::zeros(n, COLUMN_BLOCK));
                        }
                        let (ds, ps) = scratch;
                        let (mut d, mut p) = if last {
                            (d4_b.as_mut(), p4_b.as_mut())
                        } else {
                            (ds.as_mut().subcols_mut(0, width), ps.as_mut().subcols_mut(0, width))
                        };
                        build_minus_d(d.as_mut(), zs_b.as_ref(), &r, a, self.scale);
                        matmul(p.as_mut(), Accum::Replace, k, d.as_ref(), 1.0, Par::Seq);
                        dispatch(StagePass {
                            p: p.as_ref(),
                            d: d.as_ref(),
                            z: x.z.as_ref().subcols(start, width),
                            zs: zs_b,
                            zo: zo_b,
                            co: co_b,
                            a,
                            weight,
                            next,
                        })
                    })
                },
            );
            if !last {
                u = combine_prediction_partials(&partials, n, self.m());
            }
        }
        self.give(zs);
        Ok((KernelState { z: zo, c: co }, KernelState { z: p4, c: d4 }))
    }

    /// ‖δW‖_F, per neuron ‖δw_r‖ = (δc_r · δz_r)^{1/2}, and ‖u(Z) − u(Z − δZ)‖.
    fn error_parts(&self, x: &KernelState, delta: &KernelState) -> Result<ErrorParts> {
        let dots = column_dots(delta.c.as_ref(), delta.z.as_ref());
        let state = dots.iter().sum::<f64>().abs().sqrt();
        let neurons: Vec<f64> = dots.iter().map(|v| v.abs().sqrt()).collect();
        let u = self.predictions(x.z.as_ref());
        let mut shifted = self.pool.copy_of(&x.z);
        shifted.axpy(-1.0, &delta.z);
        let u_shifted = self.predictions(shifted.as_ref());
        self.give(shifted);
        Ok(ErrorParts { state, neurons: Some(neurons), u: Some((&u - &u_shifted).norm_l2()) })
    }

    fn recycle(&self, state: KernelState) {
        self.give(state.z);
        self.give(state.c);
    }

    fn duplicate(&self, x: &KernelState) -> KernelState {
        KernelState { z: self.pool.copy_of(&x.z), c: self.pool.copy_of(&x.c) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ode::{ErrorEstimate, Plan, Rk4, integrate};

    /// Buffers allocated by a run of `steps` RK4 steps under `estimate` (with a sample at every step).
    fn buffers_allocated(steps: usize, estimate: ErrorEstimate) -> usize {
        // Test setup (fixed, valid sizes): the unwraps below fail only as the test fails.
        let data = Dataset::sphere(5, 7, 3, 0).unwrap(); // test: valid fixed sizes
        let net = Network::init(40, 7, 3, 0).unwrap(); // test: valid fixed sizes
        let field = KernelField::new(&data, &net.a);
        let h = 0.01;
        let plan = Plan {
            h,
            sample_times: (0..=steps).map(|k| k as f64 * h).collect(),
            error_estimate: estimate,
            divergence_factor: 1e6,
        };
        let run =
            integrate(&field, KernelState::initial(&data, &net), &plan, |_| Ok(model::Control::Continue)).unwrap(); // test: a valid plan
        assert_eq!(run.steps, steps);
        field.pool.allocated()
    }

    /// Every state the driver is done with goes back to the field: a run of 200 steps allocates
    /// exactly the buffers a run of 20 does, in every error-estimate mode. (Before the driver
    /// recycled its stages, the shadow mode allocated about 14 n × m buffers per step, each one
    /// zeroed and faulted in afresh: most of the kernel-space flows' time.)
    #[test]
    fn a_long_run_allocates_no_more_buffers_than_a_short_one() {
        for estimate in [ErrorEstimate::Embedded, ErrorEstimate::Shadow, ErrorEstimate::LocalSampled { every: 3 }] {
            let (short, long) = (buffers_allocated(20, estimate), buffers_allocated(200, estimate));
            assert_eq!(short, long, "{estimate:?}: {short} buffers over 20 steps, {long} over 200");
            assert!(short <= 24, "{estimate:?}: {short} buffers");
        }
    }

    /// The fused stages give the bits of RK4 composed from `evaluate`; Z = Z(0) + K C stays true.
    #[test]
    fn fused_step_equals_the_generic_composition() {
        let data = Dataset::sphere(7, 9, 3, 0).unwrap();
        let net = Network::init(600, 9, 3, 0).unwrap();
        let field = KernelField::new(&data, &net.a);
        let x0 = KernelState::initial(&data, &net);
        let mut x = x0.clone();
        for _ in 0..3 {
            let k1 = field.evaluate(0.0, &x).unwrap().derivative;
            let (fused, fused_k4) = field.rk4_step(0.0, &x, &k1, 0.05).unwrap();
            let (generic, generic_k4) = Rk4::step_with_last_stage(&field, 0.0, &x, &k1, 0.05).unwrap();
            assert_eq!(fused, generic);
            assert_eq!(fused_k4, generic_k4);
            x = fused;
        }
        let kc = data.input_gram() * &x.c;
        let drift = (&x.z - &x0.z - kc).norm_max();
        assert!(drift < 1e-13, "Z − Z(0) − K C = {drift}");
        assert!(x.c.norm_max() > 1e-4, "the test must move the weights");
        // W from C against the weight-space forward pass.
        let w = x.weights(&data, net.w.as_ref());
        let z = model::network::preactivations(data.x(), w.as_ref());
        assert!((&z - &x.z).norm_max() < 1e-13);
    }
}
