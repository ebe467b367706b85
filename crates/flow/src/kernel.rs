//! The first-layer flow in kernel space: dZ/dt = −K D(Z) and dC/dt = −D(Z), with W − W(0) = Cᵀ X kept implicitly, RK4 stages fused per block of neurons.
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

use std::cell::RefCell;
use std::sync::Mutex;

use faer::linalg::matmul::matmul;
use faer::{Accum, Col, Mat, MatMut, MatRef, Par};
use model::network::{add_relu_column, combine_prediction_partials};
use model::par::{COLUMN_BLOCK, column_blocks_mut};
use model::{Dataset, Network};
use rayon::prelude::*;

use crate::error::Result;
use crate::ode::{ErrorParts, Evaluation, OdeState, VectorField};

/// Work n²·m (half the flops of one GEMM P = K D) from which the blocks of a kernel run in
/// parallel; below it one thread does all blocks, which avoids rayon's wake-ups on small
/// problems. Chosen by measurement (docs/performance.md, "Threads on small problems").
pub const PARALLEL_WORK: usize = 1 << 23;

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

/// Whether kernels on n × m arrays with inner dimension `inner` run their blocks in parallel.
pub fn parallel_for(n: usize, m: usize, inner: usize) -> bool {
    m > COLUMN_BLOCK && n.saturating_mul(inner).saturating_mul(m) >= PARALLEL_WORK
}

/// `dst (+)= lhs · rhs` with the columns of dst in blocks of [`COLUMN_BLOCK`], one sequential faer
/// GEMM each, on one thread or in parallel: the same bits either way.
fn blocked_matmul(dst: MatMut<'_, f64>, accum: Accum, lhs: MatRef<'_, f64>, rhs: MatRef<'_, f64>, parallel: bool) {
    let blocks = column_blocks_mut(dst);
    let run = |(start, block): (usize, MatMut<'_, f64>)| {
        let width = block.ncols();
        matmul(block, accum, lhs, rhs.subcols(start, width), 1.0, Par::Seq);
    };
    if parallel { blocks.into_par_iter().for_each(run) } else { blocks.into_iter().for_each(run) }
}

fn map_blocks<T: Send, R: Send>(items: Vec<T>, parallel: bool, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    if parallel { items.into_par_iter().map(f).collect() } else { items.into_iter().map(f).collect() }
}

#[inline]
fn col(m: MatRef<'_, f64>, j: usize) -> &[f64] {
    m.col(j).try_as_col_major().expect("faer matrices keep columns contiguous").as_slice()
}

#[inline]
fn col_mut(m: MatMut<'_, f64>, j: usize) -> &mut [f64] {
    m.col_mut(j).try_as_col_major_mut().expect("faer matrices keep columns contiguous").as_slice_mut()
}

thread_local! {
    /// Per-thread scratch of the fused stages: D and P for one block (n × [`COLUMN_BLOCK`] each).
    static SCRATCH: RefCell<(Mat<f64>, Mat<f64>)> = RefCell::new((Mat::zeros(0, 0), Mat::zeros(0, 0)));
}

/// The first-layer gradient flow in kernel space (a fixed), on a [`KernelState`].
#[derive(Debug)]
pub struct KernelField<'a> {
    data: &'a Dataset,
    a: Vec<f64>,
    scale: f64,
    parallel: bool,
    pool: Mutex<Vec<Mat<f64>>>,
}

/// Most n × m buffers a [`KernelField`] keeps for reuse.
const POOL: usize = 16;

impl<'a> KernelField<'a> {
    /// The field of `data` with second layer `a` (length m).
    pub fn new(data: &'a Dataset, a: &Col<f64>) -> Self {
        let m = a.nrows();
        KernelField {
            data,
            a: a.iter().copied().collect(),
            scale: 1.0 / (m as f64).sqrt(),
            parallel: parallel_for(data.n(), m, data.n()),
            pool: Mutex::new(Vec::new()),
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
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        pool.pop().unwrap_or_else(|| Mat::zeros(self.n(), self.m()))
    }

    fn give(&self, m: Mat<f64>) {
        if (m.nrows(), m.ncols()) == (self.n(), self.m()) {
            let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < POOL {
                pool.push(m);
            }
        }
    }

    /// u = m^{−1/2} Σ_r a_r σ(z_r), per block in order (the bits of `model::network::predictions`).
    pub fn predictions(&self, z: MatRef<'_, f64>) -> Col<f64> {
        let (n, m) = (self.n(), self.m());
        let ranges: Vec<(usize, usize)> =
            (0..m.div_ceil(COLUMN_BLOCK)).map(|b| (b * COLUMN_BLOCK, COLUMN_BLOCK.min(m - b * COLUMN_BLOCK))).collect();
        let partials = map_blocks(ranges, self.parallel, |(start, width)| {
            let mut acc = vec![0.0; n];
            for r in start..start + width {
                add_relu_column(&mut acc, col(z, r), self.a[r]);
            }
            acc
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

/// −D for one block: −r_i a_r m^{−1/2} where z_ir ≥ 0, else 0.
fn build_minus_d(mut d: MatMut<'_, f64>, z: MatRef<'_, f64>, r: &[f64], a: &[f64], scale: f64) {
    for (j, &ar) in a.iter().enumerate() {
        let dj = col_mut(d.as_mut(), j);
        let zj = col(z, j);
        for i in 0..dj.len() {
            dj[i] = if zj[i] >= 0.0 { -(r[i] * ar * scale) } else { 0.0 };
        }
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
        let partials = map_blocks(items, self.parallel, |(((start, mut zs_b), (_, mut zo_b)), (_, mut co_b))| {
            let width = zs_b.ncols();
            let mut acc = vec![0.0; n];
            for j in 0..width {
                let r = start + j;
                let (z, c, p1, d1) =
                    (col(x.z.as_ref(), r), col(x.c.as_ref(), r), col(k1.z.as_ref(), r), col(k1.c.as_ref(), r));
                let (zs_j, zo_j, co_j) =
                    (col_mut(zs_b.as_mut(), j), col_mut(zo_b.as_mut(), j), col_mut(co_b.as_mut(), j));
                for i in 0..n {
                    zs_j[i] = z[i] + (0.5 * h) * p1[i];
                    zo_j[i] = z[i] + (h / 6.0) * p1[i];
                    co_j[i] = c[i] + (h / 6.0) * d1[i];
                }
                add_relu_column(&mut acc, zs_j, self.a[r]);
            }
            acc
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
                |((((start, mut zs_b), (_, mut zo_b)), (_, mut co_b)), ((_, mut p4_b), (_, mut d4_b)))| {
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
                        let mut acc = vec![0.0; n];
                        for j in 0..width {
                            let (pj, dj) = (col(p.as_ref(), j), col(d.as_ref(), j));
                            let zo_j = col_mut(zo_b.as_mut(), j);
                            for i in 0..n {
                                zo_j[i] += weight * pj[i];
                            }
                            let co_j = col_mut(co_b.as_mut(), j);
                            for i in 0..n {
                                co_j[i] += weight * dj[i];
                            }
                            if let Some(step) = next {
                                let z = col(x.z.as_ref(), start + j);
                                let zs_j = col_mut(zs_b.as_mut(), j);
                                for i in 0..n {
                                    zs_j[i] = z[i] + step * pj[i];
                                }
                                add_relu_column(&mut acc, zs_j, a[j]);
                            }
                        }
                        acc
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
        let mut shifted = x.z.clone();
        shifted.axpy(-1.0, &delta.z);
        let u_shifted = self.predictions(shifted.as_ref());
        self.give(shifted);
        Ok(ErrorParts { state, neurons: Some(neurons), u: Some((&u - &u_shifted).norm_l2()) })
    }

    fn recycle(&self, state: KernelState) {
        self.give(state.z);
        self.give(state.c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ode::Rk4;

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
