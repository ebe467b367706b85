//! Both layers in kernel space: the state (Z, C, a) with Z = X Wᵀ and W − W(0) = Cᵀ X, one
//! n×n×m GEMM per evaluation instead of the two n×d×m GEMMs of (W, a).
//!
//! Training a as well does not take W out of the span of the inputs: dW/dt = −∂L/∂W = −Dᵀ X with
//! D = (r aᵀ/√m) ⊙ 1{Z ≥ 0} (n × m, r = u − y, a = a(t) now), so as for the first layer alone
//! (docs/theory.md §4.1) dZ/dt = −K D and dC/dt = −D, with K = X Xᵀ; the second layer moves by
//! da_r/dt = −∂L/∂a_r = −(1/√m) Σ_i relu(z_ir) r_i. A difference (or derivative) of two states has
//! δZ = K δC, so its norm ‖δW‖_F² + ‖δa‖² = Σ_r δc_r · δz_r + ‖δa‖² needs no GEMM.
//!
//! Cheaper than (W, a) when n ≤ d, where [`flow::Space::Auto`] takes it, as for the first layer
//! (or when asked for with [`flow::Space::Kernel`]). Deterministic: the GEMM is `model::par`'s blocked one
//! and the reductions are in a fixed order, so 1 and N threads give the same bits.

use faer::{Accum, Col, Mat};
use model::network::{grad_a, predictions};
use model::par::matmul_par;
use model::{Dataset, Network};

use flow::{ErrorParts, Evaluation, MatPool, OdeState, Result, VectorField};

/// The state (Z, C, a) of the both-layer flow in kernel space.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelBothState {
    /// Pre-activations Z = X Wᵀ (n × m).
    pub z: Mat<f64>,
    /// Coefficients C (n × m) with W − W(0) = Cᵀ X.
    pub c: Mat<f64>,
    /// The second layer a (m).
    pub a: Col<f64>,
}

/// Σ_r δc_r · δz_r, column by column in order.
fn dots(c: &Mat<f64>, z: &Mat<f64>) -> Vec<f64> {
    (0..c.ncols()).map(|j| c.col_as_slice(j).iter().zip(z.col_as_slice(j)).map(|(p, q)| p * q).sum()).collect()
}

impl OdeState for KernelBothState {
    fn axpy(&mut self, alpha: f64, x: &Self) {
        self.z.axpy(alpha, &x.z);
        self.c.axpy(alpha, &x.c);
        self.a.axpy(alpha, &x.a);
    }
    fn scale(&mut self, alpha: f64) {
        self.z.scale(alpha);
        self.c.scale(alpha);
        self.a.scale(alpha);
    }
    /// (‖δW‖_F² + ‖δa‖²)^{1/2} for a difference or a derivative (δZ = K δC).
    fn norm(&self) -> f64 {
        (dots(&self.c, &self.z).iter().sum::<f64>().abs() + self.a.squared_norm_l2()).sqrt()
    }
    fn is_finite(&self) -> bool {
        self.z.is_finite() && self.c.is_finite() && self.a.is_finite()
    }
}

impl KernelBothState {
    /// The start of a run from `net`: Z(0) = X W(0)ᵀ, C = 0, a(0).
    pub fn initial(data: &Dataset, net: &Network) -> Self {
        let z = model::network::preactivations(data.x(), net.w.as_ref());
        let c = Mat::zeros(data.n(), net.m());
        KernelBothState { z, c, a: net.a.clone() }
    }

    /// (W, a) with W = W(0) + Cᵀ X (one m×n×d GEMM).
    pub fn network(&self, data: &Dataset, w0: &Mat<f64>) -> Network {
        let mut w = w0.clone();
        // Wᵀ (d × m) += Xᵀ C.
        matmul_par(w.as_mut().transpose_mut(), Accum::Add, data.x().transpose(), self.c.as_ref(), 1.0);
        Network { w, a: self.a.clone() }
    }
}

/// d(Z, C, a)/dt = −(K D, D, ∂L/∂a): the both-layer gradient flow in kernel space.
#[derive(Debug)]
pub struct KernelBothField<'a> {
    /// The data set (its K = X Xᵀ is the kernel).
    pub data: &'a Dataset,
    /// Spare n × m buffers for Z and C (what the driver recycles is reused).
    pool: MatPool,
}

impl<'a> KernelBothField<'a> {
    /// The field of `data` for m neurons.
    pub fn new(data: &'a Dataset, m: usize) -> Self {
        KernelBothField { data, pool: MatPool::new(data.n(), m) }
    }
}

impl VectorField for KernelBothField<'_> {
    type State = KernelBothState;

    fn evaluate(&self, _t: f64, x: &KernelBothState) -> Result<Evaluation<KernelBothState>> {
        let (n, m) = (x.z.nrows(), x.z.ncols());
        let scale = 1.0 / (m as f64).sqrt();
        let u = predictions(x.z.as_ref(), x.a.as_ref());
        let r = &u - self.data.y();
        let loss = 0.5 * r.squared_norm_l2();
        // −D, column by column: −r_i a_r/√m where z_ir ≥ 0.
        let mut minus_d = self.pool.take();
        for j in 0..m {
            for i in 0..n {
                minus_d[(i, j)] = if x.z[(i, j)] >= 0.0 { -(r[i] * x.a[j] * scale) } else { 0.0 };
            }
        }
        let mut dz = self.pool.take();
        matmul_par(dz.as_mut(), Accum::Replace, self.data.input_gram(), minus_d.as_ref(), 1.0);
        let ga = grad_a(x.z.as_ref(), r.as_ref());
        let da = Col::from_fn(m, |j| -ga[j]);
        Ok(Evaluation { derivative: KernelBothState { z: dz, c: minus_d, a: da }, loss })
    }

    /// ‖δ‖, per neuron ‖δw_r‖ = (δc_r · δz_r)^{1/2}, and ‖u(x) − u(x − δ)‖.
    fn error_parts(&self, x: &KernelBothState, delta: &KernelBothState) -> Result<ErrorParts> {
        let per = dots(&delta.c, &delta.z);
        let mut shifted = self.duplicate(x);
        shifted.axpy(-1.0, delta);
        let u = predictions(x.z.as_ref(), x.a.as_ref());
        let u_shifted = predictions(shifted.z.as_ref(), shifted.a.as_ref());
        self.recycle(shifted);
        Ok(ErrorParts {
            state: delta.norm(),
            neurons: Some(per.iter().map(|v| v.abs().sqrt()).collect()),
            u: Some((&u - &u_shifted).norm_l2()),
        })
    }

    fn recycle(&self, state: KernelBothState) {
        self.pool.give(state.z);
        self.pool.give(state.c);
    }

    fn duplicate(&self, x: &KernelBothState) -> KernelBothState {
        KernelBothState { z: self.pool.copy_of(&x.z), c: self.pool.copy_of(&x.c), a: x.a.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow::{ErrorEstimate, Plan, integrate};

    /// Buffers a run of `steps` RK4 steps allocates (the generic RK4 stages, shadow estimate).
    fn buffers_allocated(steps: usize) -> usize {
        // Test setup (fixed, valid sizes): the unwraps below fail only as the test fails.
        let data = Dataset::sphere(5, 7, 3, 0).unwrap(); // test: valid fixed sizes
        let net = Network::init(40, 7, 3, 0).unwrap(); // test: valid fixed sizes
        let field = KernelBothField::new(&data, net.m());
        let h = 0.01;
        let plan = Plan {
            h,
            sample_times: (0..=steps).map(|k| k as f64 * h).collect(),
            error_estimate: ErrorEstimate::Shadow,
            divergence_factor: 1e6,
        };
        let run =
            integrate(&field, KernelBothState::initial(&data, &net), &plan, |_| Ok(model::Control::Continue)).unwrap(); // test: a valid plan
        assert_eq!(run.steps, steps);
        field.pool.allocated()
    }

    /// The composed RK4 stages and the error estimate hand every buffer back: 200 steps allocate
    /// what 20 do (before, each step allocated about twenty n × m buffers).
    #[test]
    fn a_long_run_allocates_no_more_buffers_than_a_short_one() {
        let (short, long) = (buffers_allocated(20), buffers_allocated(200));
        assert_eq!(short, long, "{short} buffers over 20 steps, {long} over 200");
    }
}
