//! What the theory predicts for discrete GD: the Thm 3.1 bound, the infinite-width trajectory u∞(k), the stability limit.

use faer::{Col, ColRef, Mat, MatRef};
use model::{Dataset, ModelError, h_infinity};

use crate::Result;

/// base^k for a non-negative integer k, exact in sign for a negative base (never NaN for finite base).
pub fn integer_power(base: f64, k: usize) -> f64 {
    if let Ok(k) = i32::try_from(k) {
        return base.powi(k);
    }
    let magnitude = base.abs().powf(k as f64);
    if base < 0.0 && k % 2 == 1 { -magnitude } else { magnitude }
}

/// The right-hand side of slide Thm 3.1 (paper Thm 4.1):
/// ‖y − u(k)‖² ≤ (1 − ηλ0/2)^k ‖y − u(0)‖².
pub fn theorem_bound(eta: f64, lambda0: f64, initial_residual_norm_sq: f64, k: usize) -> f64 {
    integer_power(1.0 - eta * lambda0 / 2.0, k) * initial_residual_norm_sq
}

/// measured / bound, defined without NaN: 0 when both are 0, +∞ when the bound is ≤ 0 but the
/// measured value is positive (the bound is then violated by any positive value).
pub fn bound_ratio(measured: f64, bound: f64) -> f64 {
    if bound > 0.0 {
        measured / bound
    } else if measured == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// The stability limit of GD on the linearised dynamics u(k+1) − y = (I − ηH)(u(k) − y):
/// η < 2/λmax(H). Returns +∞ for H = 0.
pub fn stability_limit(h: MatRef<'_, f64>) -> Result<f64> {
    let lambda_max = model::lambda_max(h)?;
    Ok(if lambda_max > 0.0 { 2.0 / lambda_max } else { f64::INFINITY })
}

/// The infinite-width Gram matrix H∞ of a data set with its spectral decomposition
/// H∞ = V diag(λ) Vᵀ (λ nondecreasing, so λ0 = λ_1).
///
/// Gives the infinite-width GD prediction u∞(k) = y + (I − ηH∞)^k (u(0) − y) (docs/theory.md §1.3, §2.8)
/// in O(n²) per k, and λ0 = λmin(H∞) for the theorem's step η = c_η λ0/n².
#[derive(Debug, Clone)]
pub struct InfiniteWidth {
    /// H∞ (n × n).
    pub h: Mat<f64>,
    /// Eigenvalues of H∞, nondecreasing.
    pub eigenvalues: Vec<f64>,
    /// Orthonormal eigenvectors of H∞, one per column, in the order of `eigenvalues`.
    pub eigenvectors: Mat<f64>,
}

impl InfiniteWidth {
    /// H∞ of `data` and its eigendecomposition (dense, sequential: the bits do not depend on the
    /// thread count). O(n³).
    pub fn of(data: &Dataset) -> Result<Self> {
        Self::from_matrix(h_infinity(data.input_gram()))
    }

    /// The eigendecomposition of a given symmetric H (lower triangle read); used for H∞, and by
    /// tests for H(0).
    pub fn from_matrix(h: Mat<f64>) -> Result<Self> {
        let (eigenvalues, eigenvectors) = model::symmetric_eigen(h.as_ref())?;
        Ok(InfiniteWidth { h, eigenvalues, eigenvectors })
    }

    /// n.
    pub fn n(&self) -> usize {
        self.h.nrows()
    }
    /// λ0 = λmin(H∞).
    pub fn lambda0(&self) -> f64 {
        self.eigenvalues[0]
    }
    /// λmax(H∞).
    pub fn lambda_max(&self) -> f64 {
        self.eigenvalues[self.eigenvalues.len() - 1]
    }

    fn check_length(&self, what: &str, v: ColRef<'_, f64>) -> Result<()> {
        if v.nrows() != self.n() {
            return Err(ModelError::Shape {
                what: format!("{what} against H∞"),
                expected: format!("{} entries", self.n()),
                found: format!("{} entries", v.nrows()),
            }
            .into());
        }
        Ok(())
    }

    /// Coefficients α = Vᵀ v of a vector in the eigenbasis.
    pub fn coefficients(&self, v: ColRef<'_, f64>) -> Result<Col<f64>> {
        self.check_length("vector", v)?;
        let n = self.n();
        Ok(Col::from_fn(n, |j| {
            let e = self.eigenvectors.col(j);
            (0..n).map(|i| e[i] * v[i]).sum()
        }))
    }

    /// u∞(k) = y + V diag((1 − ηλ_j)^k) α with α = Vᵀ(u(0) − y) from [`Self::coefficients`].
    pub fn discrete_prediction(
        &self,
        y: ColRef<'_, f64>,
        alpha: ColRef<'_, f64>,
        eta: f64,
        k: usize,
    ) -> Result<Col<f64>> {
        self.check_length("labels y", y)?;
        self.check_length("coefficients α", alpha)?;
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
        Ok(u)
    }

    /// The gradient-flow counterpart y + V diag(e^{−λ_j t}) α (the no-flip flow of docs/theory.md §1.3
    /// when built from H(0) instead of H∞).
    pub fn flow_prediction(&self, y: ColRef<'_, f64>, alpha: ColRef<'_, f64>, t: f64) -> Result<Col<f64>> {
        self.check_length("labels y", y)?;
        self.check_length("coefficients α", alpha)?;
        let n = self.n();
        let mut u = y.to_owned();
        for j in 0..n {
            let c = (-self.eigenvalues[j] * t).exp() * alpha[j];
            let e = self.eigenvectors.col(j);
            for i in 0..n {
                u[i] += c * e[i];
            }
        }
        Ok(u)
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
        assert_eq!(bound_ratio(0.0, 0.0), 0.0);
        assert_eq!(bound_ratio(1.0, -1.0), f64::INFINITY);
        assert_eq!(bound_ratio(1.0, 4.0), 0.25);
    }

    /// u∞(k) from the eigendecomposition against the recursion v ← (I − ηH∞) v.
    #[test]
    fn discrete_prediction_matches_the_recursion() {
        let data = Dataset::sphere(12, 4, 3, 0).unwrap();
        let iw = InfiniteWidth::of(&data).unwrap();
        let (n, eta) = (12, 0.7);
        let u0 = Col::from_fn(n, |i| (i as f64 * 0.37).sin());
        let y = data.y();
        let alpha = iw.coefficients((&u0 - y).as_ref()).unwrap();
        let mut v = &u0 - y;
        for k in 0..=30 {
            let pred = iw.discrete_prediction(y, alpha.as_ref(), eta, k).unwrap();
            let err = (&pred - (y + &v)).norm_max();
            assert!(err < 1e-12, "k = {k}: {err}");
            v = &v - (&iw.h * &v) * eta;
        }
        // The flow y + e^{−H∞t} α: u(0) at t = 0, and the limit of GD with η = t/k as k grows.
        let t = 2.0;
        assert!((&iw.flow_prediction(y, alpha.as_ref(), 0.0).unwrap() - &u0).norm_max() < 1e-14);
        let flow = iw.flow_prediction(y, alpha.as_ref(), t).unwrap();
        let gap = |k: usize| (&iw.discrete_prediction(y, alpha.as_ref(), t / k as f64, k).unwrap() - &flow).norm_l2();
        let ratio = gap(1000) / gap(2000);
        assert!((ratio - 2.0).abs() < 0.01, "O(η) convergence to the flow: ratio {ratio}");
        assert!(iw.coefficients(Col::<f64>::zeros(3).as_ref()).is_err());
        assert!((iw.lambda0() - model::lambda0(&data).unwrap()).abs() < 1e-12);
        let limit = stability_limit(iw.h.as_ref()).unwrap();
        assert!((limit - 2.0 / iw.lambda_max()).abs() < 1e-12);
    }
}
