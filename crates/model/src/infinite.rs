//! The infinite-width reference: λ0 and a limit kernel K∞ with its eigendecomposition, giving the
//! gradient-flow prediction u∞(t) = y + e^{−K∞ t}(u(0) − y) and the GD prediction
//! u∞(k) = y + (I − ηK∞)^k (u(0) − y) from the same decomposition.
//!
//! At infinite width the kernel stays at its limit, so the predictions follow the linear dynamics
//! du/dt = K∞(y − u) and u(k+1) − y = (I − ηK∞)(u(k) − y) (docs/theory.md §1.3, §2.8): K∞ = H∞
//! when the first layer alone is trained, K∞ = H∞ + G∞ when both layers are. The decomposition
//! K∞ = U diag(s) Uᵀ comes from [`symmetric_eigen`] (faer's self-adjoint solver, run
//! sequentially so the bits do not depend on the thread count); every prediction then costs O(n²)
//! with plain loops (not faer's operators), for the same reason.

use faer::{Col, ColRef, Mat, MatRef};

use crate::{Dataset, ModelError, Result, g_infinity, h_infinity, symmetric_eigen};

/// base^k for a non-negative integer k, exact in sign for a negative base (never NaN for finite base).
///
/// Binary exponentiation written out (about 2 log₂ k multiplications, in a fixed order), not
/// `f64::powi`: the standard library leaves powi's rounding to the code generator, and a release
/// and a debug build gave u∞(k) that differed in the last bits, so Fig. 1's committed gaps did
/// not reproduce under `cargo xtask`.
pub fn integer_power(base: f64, k: usize) -> f64 {
    let (mut result, mut square, mut rest) = (1.0, base, k);
    loop {
        if rest & 1 == 1 {
            result *= square;
        }
        rest >>= 1;
        if rest == 0 {
            return result;
        }
        square *= square;
    }
}

/// The infinite-width reference of one data set: the λ0 the bounds use and the limit kernel K∞
/// with its eigendecomposition K∞ = U diag(s) Uᵀ (s nondecreasing).
///
/// Compute it once per data set and share it across seeds and widths; the flow and GD predictions
/// ([`Self::flow_prediction`], [`Self::gd_prediction`], or both through [`Self::trajectory`]) come
/// from the one decomposition.
#[derive(Debug, Clone)]
pub struct InfiniteWidth {
    lambda0: f64,
    kernel: Mat<f64>,
    eigenvalues: Vec<f64>,
    eigenvectors: Mat<f64>,
}

impl InfiniteWidth {
    /// First layer trained: K∞ = H∞, λ0 = λmin(H∞) from [`crate::lambda0`] (slide Thm 2.1 = paper Thm 3.2).
    pub fn first_layer(data: &Dataset) -> Result<Self> {
        let lambda0 = crate::lambda0(data)?;
        Self::from_kernel(lambda0, h_infinity(data.input_gram()))
    }

    /// Both layers trained: K∞ = H∞ + G∞, λ0 = λmin(H∞) from [`crate::lambda0`] (slide Thm 2.6).
    pub fn both_layers(data: &Dataset) -> Result<Self> {
        let lambda0 = crate::lambda0(data)?;
        let k = data.input_gram();
        let kernel = h_infinity(k) + g_infinity(k);
        Self::from_kernel(lambda0, kernel)
    }

    /// Any symmetric limit kernel (lower triangle read) with the λ0 the bounds use, which must be
    /// finite and positive.
    pub fn from_kernel(lambda0: f64, kernel: Mat<f64>) -> Result<Self> {
        if !(lambda0.is_finite() && lambda0 > 0.0) {
            return Err(ModelError::InvalidParameter {
                name: "lambda0",
                value: lambda0.to_string(),
                reason: "λ0 = λmin(H∞) must be finite and positive (no parallel inputs)".into(),
            });
        }
        let (eigenvalues, eigenvectors) = symmetric_eigen(kernel.as_ref())?;
        Ok(InfiniteWidth { lambda0, kernel, eigenvalues, eigenvectors })
    }

    /// A symmetric kernel (lower triangle read) whose λ0 is the smallest eigenvalue of this same
    /// decomposition, not checked for sign: what gradient descent uses for H∞ (its step
    /// η = c_η λ0/n² and the Thm 3.1 bound), and tests for H(0). For the first layer it is
    /// λmin(H∞) as [`Self::first_layer`] has it, but from the solver with eigenvectors, so the last
    /// bits may differ.
    pub fn from_kernel_spectrum(kernel: Mat<f64>) -> Result<Self> {
        let (eigenvalues, eigenvectors) = symmetric_eigen(kernel.as_ref())?;
        Ok(InfiniteWidth { lambda0: eigenvalues[0], kernel, eigenvalues, eigenvectors })
    }

    /// λ0, the value the bounds use.
    pub fn lambda0(&self) -> f64 {
        self.lambda0
    }
    /// λmax(K∞), the largest eigenvalue of the decomposition.
    pub fn lambda_max(&self) -> f64 {
        self.eigenvalues[self.eigenvalues.len() - 1]
    }
    /// The limit kernel K∞ (n × n).
    pub fn kernel(&self) -> MatRef<'_, f64> {
        self.kernel.as_ref()
    }
    /// Its eigenvalues, nondecreasing.
    pub fn kernel_eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }
    /// Its orthonormal eigenvectors, one per column, in the order of [`Self::kernel_eigenvalues`].
    pub fn kernel_eigenvectors(&self) -> MatRef<'_, f64> {
        self.eigenvectors.as_ref()
    }
    /// Number of inputs n.
    pub fn n(&self) -> usize {
        self.kernel.nrows()
    }

    fn check_length(&self, what: &str, v: ColRef<'_, f64>) -> Result<()> {
        if v.nrows() != self.n() {
            return Err(ModelError::Shape {
                what: format!("{what} against H∞"),
                expected: format!("{} entries", self.n()),
                found: format!("{} entries", v.nrows()),
            });
        }
        Ok(())
    }

    /// Coefficients α = Uᵀ v of a vector in the eigenbasis (α = Uᵀ(u(0) − y) for the predictions).
    pub fn coefficients(&self, v: ColRef<'_, f64>) -> Result<Col<f64>> {
        self.check_length("vector", v)?;
        let n = self.n();
        Ok(Col::from_fn(n, |j| {
            let e = self.eigenvectors.col(j);
            (0..n).map(|i| e[i] * v[i]).sum()
        }))
    }

    /// The gradient-flow prediction u∞(t) = y + U diag(e^{−s t}) α, α from [`Self::coefficients`].
    pub fn flow_prediction(&self, y: ColRef<'_, f64>, alpha: ColRef<'_, f64>, t: f64) -> Result<Col<f64>> {
        self.check_length("labels y", y)?;
        self.check_length("coefficients α", alpha)?;
        Ok(self.flow_unchecked(y, alpha, t))
    }

    /// The GD prediction u∞(k) = y + U diag((1 − ηs)^k) α, α from [`Self::coefficients`].
    pub fn gd_prediction(&self, y: ColRef<'_, f64>, alpha: ColRef<'_, f64>, eta: f64, k: usize) -> Result<Col<f64>> {
        self.check_length("labels y", y)?;
        self.check_length("coefficients α", alpha)?;
        Ok(self.gd_unchecked(y, alpha, eta, k))
    }

    /// Both predictions from a given start (lengths must be n): α = Uᵀ(u(0) − y) is computed once.
    pub fn trajectory(&self, u0: ColRef<'_, f64>, y: ColRef<'_, f64>) -> Result<InfiniteTrajectory<'_>> {
        let n = self.n();
        if u0.nrows() != n || y.nrows() != n {
            return Err(ModelError::Shape {
                what: "u(0) and y against the limit kernel".into(),
                expected: format!("{n} entries"),
                found: format!("{} and {}", u0.nrows(), y.nrows()),
            });
        }
        let residual = Col::from_fn(n, |i| u0[i] - y[i]);
        let coefficients = self.coefficients(residual.as_ref())?;
        Ok(InfiniteTrajectory { width: self, y: y.to_owned(), coefficients })
    }

    /// y + U diag(e^{−s t}) α, lengths checked by the caller.
    fn flow_unchecked(&self, y: ColRef<'_, f64>, alpha: ColRef<'_, f64>, t: f64) -> Col<f64> {
        let n = self.n();
        let scaled: Vec<f64> = (0..n).map(|k| alpha[k] * (-self.eigenvalues[k] * t).exp()).collect();
        Col::from_fn(n, |i| y[i] + (0..n).map(|k| self.eigenvectors[(i, k)] * scaled[k]).sum::<f64>())
    }

    /// y + U diag((1 − ηs)^k) α, lengths checked by the caller.
    fn gd_unchecked(&self, y: ColRef<'_, f64>, alpha: ColRef<'_, f64>, eta: f64, k: usize) -> Col<f64> {
        let n = self.n();
        let mut u = y.to_owned();
        for j in 0..n {
            let c = integer_power(1.0 - eta * self.eigenvalues[j], k) * alpha[j];
            if c == 0.0 {
                continue;
            }
            let e = self.eigenvectors.col(j);
            for i in 0..n {
                u[i] += c * e[i];
            }
        }
        u
    }
}

/// The predictions for one start u(0): the coefficients Uᵀ(u(0) − y) are computed once, each time
/// or step count costs O(n²).
#[derive(Debug, Clone)]
pub struct InfiniteTrajectory<'a> {
    width: &'a InfiniteWidth,
    y: Col<f64>,
    coefficients: Col<f64>,
}

impl InfiniteTrajectory<'_> {
    /// The gradient-flow prediction u∞(t) = y + U diag(e^{−s t}) Uᵀ (u(0) − y).
    pub fn flow_at(&self, t: f64) -> Col<f64> {
        self.width.flow_unchecked(self.y.as_ref(), self.coefficients.as_ref(), t)
    }

    /// The GD prediction u∞(k) = y + U diag((1 − ηs)^k) Uᵀ (u(0) − y).
    pub fn gd_at(&self, eta: f64, k: usize) -> Col<f64> {
        self.width.gd_unchecked(self.y.as_ref(), self.coefficients.as_ref(), eta, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_power_is_exact_in_sign_and_never_nan() {
        assert_eq!(integer_power(-2.0, 3), -8.0);
        assert_eq!(integer_power(-2.0, 4), 16.0);
        assert_eq!(integer_power(0.5, 0), 1.0);
        let big = (i32::MAX as usize) + 2;
        assert_eq!(integer_power(-1.0, big), -1.0);
        assert!(!integer_power(-3.0, big).is_nan());
    }

    /// u∞(k) from the eigendecomposition against the recursion v ← (I − ηH∞) v, and the flow as
    /// the limit of GD with η = t/k.
    #[test]
    fn gd_prediction_matches_the_recursion_and_tends_to_the_flow() {
        let data = Dataset::sphere(12, 4, 3, 0).unwrap();
        let iw = InfiniteWidth::from_kernel_spectrum(h_infinity(data.input_gram())).unwrap();
        let (n, eta) = (12, 0.7);
        let u0 = Col::from_fn(n, |i| (i as f64 * 0.37).sin());
        let y = data.y();
        let alpha = iw.coefficients((&u0 - y).as_ref()).unwrap();
        let trajectory = iw.trajectory(u0.as_ref(), y).unwrap();
        let mut v = &u0 - y;
        for k in 0..=30 {
            let pred = iw.gd_prediction(y, alpha.as_ref(), eta, k).unwrap();
            let err = (&pred - (y + &v)).norm_max();
            assert!(err < 1e-12, "k = {k}: {err}");
            assert_eq!(trajectory.gd_at(eta, k), pred, "k = {k}");
            v = &v - (iw.kernel() * &v) * eta;
        }
        // The flow y + e^{−H∞t} α: u(0) at t = 0, and the limit of GD with η = t/k as k grows.
        let t = 2.0;
        assert!((&iw.flow_prediction(y, alpha.as_ref(), 0.0).unwrap() - &u0).norm_max() < 1e-14);
        let flow = iw.flow_prediction(y, alpha.as_ref(), t).unwrap();
        assert_eq!(trajectory.flow_at(t), flow);
        let gap = |k: usize| (&iw.gd_prediction(y, alpha.as_ref(), t / k as f64, k).unwrap() - &flow).norm_l2();
        let ratio = gap(1000) / gap(2000);
        assert!((ratio - 2.0).abs() < 0.01, "O(η) convergence to the flow: ratio {ratio}");
        assert!(iw.coefficients(Col::<f64>::zeros(3).as_ref()).is_err());
        assert!(iw.trajectory(Col::<f64>::zeros(3).as_ref(), y).is_err());
        assert!((iw.lambda0() - crate::lambda0(&data).unwrap()).abs() < 1e-12);
        let first = InfiniteWidth::first_layer(&data).unwrap();
        assert_eq!(first.lambda0(), crate::lambda0(&data).unwrap());
        assert_eq!(first.kernel_eigenvalues(), iw.kernel_eigenvalues());
    }

    #[test]
    fn lambda0_must_be_finite_and_positive() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                InfiniteWidth::from_kernel(bad, Mat::identity(3, 3)),
                Err(ModelError::InvalidParameter { name: "lambda0", .. })
            ));
        }
        let data = Dataset::sphere(6, 3, 1, 0).unwrap();
        let both = InfiniteWidth::both_layers(&data).unwrap();
        assert_eq!(both.lambda0(), crate::lambda0(&data).unwrap());
        assert!(both.kernel_eigenvalues()[0] > both.lambda0() - 1e-12, "λmin(H∞ + G∞) ≥ λmin(H∞)");
    }
}
