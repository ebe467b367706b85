//! What the theory predicts for discrete GD: the Thm 3.1 bound and the stability limit (the
//! infinite-width trajectory u∞(k) is [`model::InfiniteWidth::gd_prediction`]).

use faer::MatRef;
use model::integer_power;

use crate::Result;

/// The right-hand side of slide Thm 3.1 (paper Thm 4.1):
/// ‖y − u(k)‖² ≤ (1 − ηλ0/2)^k ‖y − u(0)‖².
pub fn theorem_bound(eta: f64, lambda0: f64, initial_residual_norm_sq: f64, k: usize) -> f64 {
    integer_power(1.0 - eta * lambda0 / 2.0, k) * initial_residual_norm_sq
}

/// measured / bound, defined without NaN: 0 when both are 0, +∞ when the bound is ≤ 0 but the
/// measured value is positive (the bound is then violated by any positive value).
pub fn bound_ratio(measured: f64, bound: f64) -> f64 {
    guarded_ratio(measured, bound, 0.0)
}

/// a / b for b > 0; for b ≤ 0 no division: `zero` when a = 0, +∞ otherwise.
pub(crate) fn guarded_ratio(a: f64, b: f64, zero: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else if a == 0.0 {
        zero
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_ratio_is_never_nan() {
        assert_eq!(bound_ratio(0.0, 0.0), 0.0);
        assert_eq!(bound_ratio(1.0, -1.0), f64::INFINITY);
        assert_eq!(bound_ratio(1.0, 4.0), 0.25);
    }

    #[test]
    fn stability_limit_is_two_over_lambda_max() {
        let data = model::Dataset::sphere(12, 4, 3, 0).unwrap();
        let iw = model::InfiniteWidth::from_kernel_spectrum(model::h_infinity(data.input_gram())).unwrap();
        let limit = stability_limit(iw.kernel()).unwrap();
        assert!((limit - 2.0 / iw.lambda_max()).abs() < 1e-12);
    }
}
