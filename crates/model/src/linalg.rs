//! Symmetric eigenvalues, λmin, λmax and the spectral norm of a symmetric matrix (through faer).

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{MatRef, Par};

use crate::{ModelError, Result};

/// Eigenvalues of the symmetric matrix `a` (only its lower triangle is read), nondecreasing.
///
/// Runs faer's dense self-adjoint solver sequentially, so the bits do not depend on the thread
/// count. Errors on a non-square or non-finite matrix, or if the solver does not converge.
pub fn symmetric_eigenvalues(a: MatRef<'_, f64>) -> Result<Vec<f64>> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(ModelError::Shape {
            what: "symmetric matrix".into(),
            expected: format!("{n}×{n}"),
            found: format!("{}×{}", n, a.ncols()),
        });
    }
    if n == 0 {
        return Err(ModelError::Empty { what: "symmetric matrix" });
    }
    for j in 0..n {
        for i in j..n {
            let v = a[(i, j)];
            if !v.is_finite() {
                return Err(ModelError::NonFinite { what: "symmetric matrix", row: i, col: j, value: v });
            }
        }
    }
    let par = Par::Seq;
    let mut s = Diag::<f64>::zeros(n);
    let req = evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::No, par, Default::default());
    let mut mem = MemBuffer::new(req);
    evd::self_adjoint_evd(a, s.as_mut(), None, par, MemStack::new(&mut mem), Default::default())
        .map_err(|_| ModelError::EigenSolver { n })?;
    Ok(s.column_vector().iter().copied().collect())
}

/// Smallest eigenvalue λmin of the symmetric matrix `a`.
pub fn lambda_min(a: MatRef<'_, f64>) -> Result<f64> {
    Ok(symmetric_eigenvalues(a)?[0])
}

/// Largest eigenvalue λmax of the symmetric matrix `a`.
pub fn lambda_max(a: MatRef<'_, f64>) -> Result<f64> {
    Ok(*symmetric_eigenvalues(a)?.last().expect("non-empty"))
}

/// Spectral norm ‖a‖₂ = max |λ| of the symmetric matrix `a` (faer's `norm_l2` is Frobenius).
pub fn spectral_norm_symmetric(a: MatRef<'_, f64>) -> Result<f64> {
    let ev = symmetric_eigenvalues(a)?;
    Ok(ev[0].abs().max(ev[ev.len() - 1].abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn eigenvalues_of_a_known_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let a = Mat::from_fn(2, 2, |i, j| if i == j { 2.0 } else { 1.0 });
        let ev = symmetric_eigenvalues(a.as_ref()).unwrap();
        assert!((ev[0] - 1.0).abs() < 1e-14 && (ev[1] - 3.0).abs() < 1e-14, "{ev:?}");
        let b = Mat::from_fn(2, 2, |i, j| if i == j { -4.0 + i as f64 } else { 0.0 });
        assert_eq!(spectral_norm_symmetric(b.as_ref()).unwrap(), 4.0);
    }

    #[test]
    fn bad_matrices_are_named_errors() {
        let a = Mat::<f64>::zeros(2, 3);
        assert!(matches!(lambda_min(a.as_ref()), Err(ModelError::Shape { .. })));
        let mut b = Mat::<f64>::zeros(2, 2);
        b[(1, 0)] = f64::NAN;
        assert!(matches!(lambda_min(b.as_ref()), Err(ModelError::NonFinite { row: 1, col: 0, .. })));
    }
}
