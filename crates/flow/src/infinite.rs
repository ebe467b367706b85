//! Infinite-width predictions u∞(t) = y + e^{−H∞ t}(u(0) − y), and the exponential of a symmetric matrix.
//!
//! At infinite width the kernel stays at its limit, so the predictions follow the linear ODE
//! du/dt = K∞(y − u): K∞ = H∞ for the first layer (docs/theory.md §2.8), K∞ = H∞ + G∞
//! when both layers are trained. The exponential of a symmetric matrix is computed from its
//! eigendecomposition K = U diag(s) Uᵀ (faer's self-adjoint solver, run sequentially so the bits
//! do not depend on the thread count): e^{τK} = U diag(e^{τ s}) Uᵀ.

use faer::{Col, ColRef, Mat, MatRef};
use model::{Dataset, ModelError};

use crate::error::{Result, invalid};

/// Eigenvalues (nondecreasing) and orthonormal eigenvectors (columns) of a symmetric matrix.
///
/// Reads only the lower triangle. Errors on a non-square, empty or non-finite matrix.
pub fn symmetric_eigen(a: MatRef<'_, f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    Ok(model::symmetric_eigen(a)?)
}

/// e^{τ A} for a symmetric A, as U diag(e^{τ s}) Uᵀ (exactly symmetric).
pub fn expm_symmetric(a: MatRef<'_, f64>, tau: f64) -> Result<Mat<f64>> {
    if !tau.is_finite() {
        return Err(invalid("tau", tau, "the time must be finite"));
    }
    let (s, u) = symmetric_eigen(a)?;
    let n = s.len();
    let e: Vec<f64> = s.iter().map(|v| (tau * v).exp()).collect();
    let mut out = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            let v: f64 = (0..n).map(|k| u[(i, k)] * e[k] * u[(j, k)]).sum();
            out[(i, j)] = v;
            out[(j, i)] = v;
        }
    }
    Ok(out)
}

/// The infinite-width reference of one data set: λ0 and the limit kernel K∞ with its eigendecomposition.
///
/// Compute it once per data set and share it across seeds and widths.
#[derive(Debug, Clone)]
pub struct InfiniteWidth {
    lambda0: f64,
    kernel: Mat<f64>,
    eigenvalues: Vec<f64>,
    eigenvectors: Mat<f64>,
}

impl InfiniteWidth {
    /// First layer trained: K∞ = H∞, λ0 = λmin(H∞) (slide Thm 2.1 = paper Thm 3.2).
    pub fn first_layer(data: &Dataset) -> Result<Self> {
        let lambda0 = model::lambda0(data)?;
        Self::from_kernel(lambda0, model::h_infinity(data.input_gram()))
    }

    /// Any symmetric limit kernel (e.g. H∞ + G∞ for both layers) with the λ0 the bounds use.
    pub fn from_kernel(lambda0: f64, kernel: Mat<f64>) -> Result<Self> {
        if !(lambda0.is_finite() && lambda0 > 0.0) {
            return Err(invalid("lambda0", lambda0, "λ0 = λmin(H∞) must be finite and positive (no parallel inputs)"));
        }
        let (eigenvalues, eigenvectors) = symmetric_eigen(kernel.as_ref())?;
        Ok(InfiniteWidth { lambda0, kernel, eigenvalues, eigenvectors })
    }

    /// λ0.
    pub fn lambda0(&self) -> f64 {
        self.lambda0
    }
    /// The limit kernel K∞ (n × n).
    pub fn kernel(&self) -> MatRef<'_, f64> {
        self.kernel.as_ref()
    }
    /// Its eigenvalues, nondecreasing.
    pub fn kernel_eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }
    /// Number of inputs n.
    pub fn n(&self) -> usize {
        self.kernel.nrows()
    }

    /// The trajectory u∞(t) = y + e^{−K∞ t}(u(0) − y) from a given start (lengths must be n).
    pub fn trajectory(&self, u0: ColRef<'_, f64>, y: ColRef<'_, f64>) -> Result<InfiniteTrajectory<'_>> {
        let n = self.n();
        if u0.nrows() != n || y.nrows() != n {
            return Err(ModelError::Shape {
                what: "u(0) and y against the limit kernel".into(),
                expected: format!("{n} entries"),
                found: format!("{} and {}", u0.nrows(), y.nrows()),
            }
            .into());
        }
        // Plain loops (not faer's operators) so the bits never depend on the global parallelism.
        let u = &self.eigenvectors;
        let coefficients = Col::from_fn(n, |k| (0..n).map(|i| u[(i, k)] * (u0[i] - y[i])).sum());
        Ok(InfiniteTrajectory { width: self, y: y.to_owned(), coefficients })
    }
}

/// u∞(t) for one start u(0): the coefficients Uᵀ(u(0) − y) are computed once, each time costs O(n²).
#[derive(Debug, Clone)]
pub struct InfiniteTrajectory<'a> {
    width: &'a InfiniteWidth,
    y: Col<f64>,
    coefficients: Col<f64>,
}

impl InfiniteTrajectory<'_> {
    /// u∞(t) = y + U diag(e^{−s t}) Uᵀ (u(0) − y).
    pub fn at(&self, t: f64) -> Col<f64> {
        let w = self.width;
        let n = w.n();
        let scaled: Vec<f64> = (0..n).map(|k| self.coefficients[k] * (-w.eigenvalues[k] * t).exp()).collect();
        Col::from_fn(n, |i| self.y[i] + (0..n).map(|k| w.eigenvectors[(i, k)] * scaled[k]).sum::<f64>())
    }
}
