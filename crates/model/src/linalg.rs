//! Symmetric eigenvalues and eigenvectors, λmin, λmax, the spectral norm and the exponential of a
//! symmetric matrix (through faer).

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Col, Mat, MatRef, Par};

use crate::{ModelError, Result};

/// Eigenvalues of the symmetric matrix `a` (only its lower triangle is read), nondecreasing.
///
/// Runs faer's dense self-adjoint solver sequentially, so the bits do not depend on the thread
/// count. Errors on a non-square or non-finite matrix, or if the solver does not converge.
pub fn symmetric_eigenvalues(a: MatRef<'_, f64>) -> Result<Vec<f64>> {
    check_symmetric_input(a)?;
    let n = a.nrows();
    let par = Par::Seq;
    let mut s = Diag::<f64>::zeros(n);
    let req = evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::No, par, Default::default());
    let mut mem = MemBuffer::new(req);
    evd::self_adjoint_evd(a, s.as_mut(), None, par, MemStack::new(&mut mem), Default::default())
        .map_err(|_| ModelError::EigenSolver { n })?;
    Ok(s.column_vector().iter().copied().collect())
}

/// Eigenvalues (nondecreasing) and orthonormal eigenvectors (one per column, same order) of the
/// symmetric matrix `a` (lower triangle read); sequential like [`symmetric_eigenvalues`].
pub fn symmetric_eigen(a: MatRef<'_, f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    check_symmetric_input(a)?;
    let n = a.nrows();
    let par = Par::Seq;
    let mut s = Diag::<f64>::zeros(n);
    let mut u = Mat::<f64>::zeros(n, n);
    let req = evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, par, Default::default());
    let mut mem = MemBuffer::new(req);
    evd::self_adjoint_evd(a, s.as_mut(), Some(u.as_mut()), par, MemStack::new(&mut mem), Default::default())
        .map_err(|_| ModelError::EigenSolver { n })?;
    Ok((s.column_vector().iter().copied().collect(), u))
}

/// e^{τ A} for a symmetric A (lower triangle read), as U diag(e^{τ s}) Uᵀ from [`symmetric_eigen`]
/// (exactly symmetric). Errors on a non-finite τ.
pub fn expm_symmetric(a: MatRef<'_, f64>, tau: f64) -> Result<Mat<f64>> {
    if !tau.is_finite() {
        return Err(ModelError::InvalidParameter {
            name: "tau",
            value: tau.to_string(),
            reason: "the time must be finite".into(),
        });
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

/// Square, non-empty, finite lower triangle.
fn check_symmetric_input(a: MatRef<'_, f64>) -> Result<()> {
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
    Ok(())
}

/// Smallest eigenvalue λmin of the symmetric matrix `a`.
pub fn lambda_min(a: MatRef<'_, f64>) -> Result<f64> {
    // check_symmetric_input refuses n = 0, and the solver returns n eigenvalues.
    Ok(symmetric_eigenvalues(a)?[0])
}

/// Largest eigenvalue λmax of the symmetric matrix `a`.
pub fn lambda_max(a: MatRef<'_, f64>) -> Result<f64> {
    // check_symmetric_input refuses n = 0, and the solver returns n eigenvalues.
    Ok(*symmetric_eigenvalues(a)?.last().expect("non-empty"))
}

/// Spectral norm ‖a‖₂ = max |λ| of the symmetric matrix `a` (faer's `norm_l2` is Frobenius).
pub fn spectral_norm_symmetric(a: MatRef<'_, f64>) -> Result<f64> {
    let ev = symmetric_eigenvalues(a)?;
    Ok(ev[0].abs().max(ev[ev.len() - 1].abs()))
}

/// Below this order [`lambda_min_warm_started`] simply calls the dense solver.
pub const WARM_START_MIN_ORDER: usize = 64;

/// What [`lambda_min_warm_started`] carries from one call to the next: the last eigenvector
/// estimate of λmin, its eigenvalue, the spectral gap seen at the last dense solve and the shift
/// margin to try next. `Default` is the cold state.
#[derive(Debug, Clone)]
pub struct LambdaMinWarmStart {
    vector: Option<Col<f64>>,
    value: f64,
    gap: f64,
    margin: f64,
    dense_solves: usize,
    warm_solves: usize,
    /// Room for the Cholesky factors (n × n), kept between calls.
    work: Mat<f64>,
    factorizations: usize,
    inverse_steps: usize,
}

impl Default for LambdaMinWarmStart {
    fn default() -> Self {
        LambdaMinWarmStart {
            vector: None,
            value: 0.0,
            gap: 0.0,
            margin: 0.0,
            dense_solves: 0,
            warm_solves: 0,
            work: Mat::zeros(0, 0),
            factorizations: 0,
            inverse_steps: 0,
        }
    }
}

impl LambdaMinWarmStart {
    /// A cold start (the next call runs the dense solver).
    pub fn new() -> Self {
        Self::default()
    }
    /// Calls answered by the dense solver (cold starts and fallbacks).
    pub fn dense_solves(&self) -> usize {
        self.dense_solves
    }
    /// Calls answered by warm-started inverse iteration.
    pub fn warm_solves(&self) -> usize {
        self.warm_solves
    }
    /// Work done so far: (Cholesky factorisations, inverse-iteration steps).
    pub fn work_done(&self) -> (usize, usize) {
        (self.factorizations, self.inverse_steps)
    }
}

/// λmin of the symmetric matrix `a` (lower triangle read), warm-started from the previous call on
/// a nearby matrix (docs/theory.md §4.4).
///
/// Cold (first call, a different order, or a failed check): the dense solver of [`lambda_min`]
/// answers, bit for bit, and the eigenvector is then found by shifted inverse iteration.
/// Warm: with σ = λ_prev − δ, a Cholesky factorisation of A − σI must succeed (so λmin > σ);
/// inverse iteration from the previous eigenvector converges to λmin's eigenvector at the rate
/// (λ1 − σ)/(λ2 − σ); the Rayleigh quotient θ with its residual r = Av − θv, computed by a final
/// explicit product, is accepted when ‖r‖ ≤ 10⁻¹⁰·s (s = max |a_ii|, a scale) and a second
/// Cholesky of A − (θ − 10⁻⁹·s)I succeeds. The certificate says no eigenvalue lies below θ by
/// more than 10⁻⁹·s, so θ belongs to λmin (not to a higher eigenvalue the iteration might have
/// locked on); the residual then bounds θ − λmin by ‖r‖²/(λ2 − θ). Any failure falls back to
/// the dense solver. All kernels run sequentially: the bits depend only on the sequence of
/// matrices passed, never on the thread count.
pub fn lambda_min_warm_started(a: MatRef<'_, f64>, warm: &mut LambdaMinWarmStart) -> Result<f64> {
    check_symmetric_input(a)?;
    let n = a.nrows();
    if n < WARM_START_MIN_ORDER {
        return lambda_min(a);
    }
    if warm.work.nrows() != n {
        warm.work = Mat::zeros(n, n);
    }
    let scale = (0..n).map(|i| a[(i, i)].abs()).fold(0.0f64, f64::max).max(f64::MIN_POSITIVE);
    if let Some(v) = warm.vector.take().filter(|v| v.nrows() == n)
        && let Some((theta, v)) = warm_solve(a, scale, v, warm)
    {
        warm.margin = (4.0 * (theta - warm.value).abs()).max(1e-6 * scale).min(0.5 * warm.gap.max(1e-6 * scale));
        warm.value = theta;
        warm.vector = Some(v);
        warm.warm_solves += 1;
        return Ok(theta);
    }
    cold_solve(a, scale, warm)
}

const INVERSE_ITERATIONS: usize = 12;
const RESIDUAL_TOLERANCE: f64 = 1e-10;
const CERTIFICATE_GAP: f64 = 1e-9;

/// Dense eigenvalues, then the eigenvector of λmin by inverse iteration (kept for the next call).
fn cold_solve(a: MatRef<'_, f64>, scale: f64, warm: &mut LambdaMinWarmStart) -> Result<f64> {
    let n = a.nrows();
    let ev = symmetric_eigenvalues(a)?;
    let (l1, l2) = (ev[0], ev[1]);
    warm.dense_solves += 1;
    warm.gap = l2 - l1;
    warm.value = l1;
    warm.vector = None;
    let mut margin = (0.01 * warm.gap).max(1e-8 * scale);
    for _ in 0..4 {
        warm.factorizations += 1;
        if shifted_cholesky(a, l1 - margin, &mut warm.work) {
            // A start vector with a component along every eigenvector (generically).
            let mut v = Col::from_fn(n, |i| 1.0 + 0.5 * ((i as f64 * 0.618_033_988_749_895).fract() - 0.5));
            let norm = v.norm_l2();
            v /= norm;
            let (_, v, residual, steps) = inverse_iteration(a, warm.work.as_ref(), l1 - margin, v, scale);
            warm.inverse_steps += steps;
            if residual <= 10.0 * RESIDUAL_TOLERANCE * scale {
                warm.vector = Some(v);
                warm.margin = (0.1 * warm.gap).max(1e-6 * scale);
            }
            break;
        }
        margin *= 10.0;
    }
    Ok(l1)
}

/// The warm path; `None` sends the caller to the dense solver.
///
/// Up to three rounds of inverse iteration; a round that has not converged moves the shift up to
/// θ − 2‖r‖ (an eigenvalue lies within ‖r‖ of θ) and refactors, so a stale margin costs one
/// more factorisation instead of many slow iterations.
fn warm_solve(
    a: MatRef<'_, f64>,
    scale: f64,
    mut v: Col<f64>,
    warm: &mut LambdaMinWarmStart,
) -> Option<(f64, Col<f64>)> {
    let mut margin = warm.margin.max(1e-8 * scale);
    let mut sigma = None;
    for _ in 0..4 {
        warm.factorizations += 1;
        if shifted_cholesky(a, warm.value - margin, &mut warm.work) {
            sigma = Some(warm.value - margin);
            break;
        }
        margin *= 8.0;
    }
    let mut sigma = sigma?;
    for round in 0..3 {
        let (theta, next, residual, steps) = inverse_iteration(a, warm.work.as_ref(), sigma, v, scale);
        warm.inverse_steps += steps;
        v = next;
        if !theta.is_finite() {
            return None;
        }
        if residual <= 10.0 * RESIDUAL_TOLERANCE * scale {
            warm.factorizations += 1;
            return shifted_cholesky(a, theta - CERTIFICATE_GAP * scale, &mut warm.work).then_some((theta, v));
        }
        if round == 2 {
            break;
        }
        sigma = theta - 2.0 * residual;
        warm.factorizations += 1;
        if !shifted_cholesky(a, sigma, &mut warm.work) {
            return None;
        }
    }
    None
}

/// Factors A − σI (lower triangle of `a`) into `work` by a sequential Cholesky; false if A − σI
/// is not positive definite. Only the lower triangle of `work` holds L afterwards.
fn shifted_cholesky(a: MatRef<'_, f64>, sigma: f64, work: &mut Mat<f64>) -> bool {
    let n = a.nrows();
    for j in 0..n {
        // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is contiguous.
        let dst = work.col_mut(j).try_as_col_major_mut().expect("contiguous columns").as_slice_mut();
        match a.col(j).try_as_col_major() {
            Some(src) => dst[j..].copy_from_slice(&src.as_slice()[j..]),
            None => {
                for i in j..n {
                    dst[i] = a[(i, j)];
                }
            }
        }
        dst[j] -= sigma;
    }
    let par = Par::Seq;
    let req = llt::factor::cholesky_in_place_scratch::<f64>(n, par, Default::default());
    let mut mem = MemBuffer::new(req);
    llt::factor::cholesky_in_place(work.as_mut(), Default::default(), par, MemStack::new(&mut mem), Default::default())
        .is_ok()
}

/// A v for the symmetric A given by its lower triangle (each stored entry read once, in a fixed order).
fn symmetric_lower_matvec(a: MatRef<'_, f64>, v: &Col<f64>) -> Col<f64> {
    let n = a.nrows();
    let mut t = vec![0.0f64; n];
    let v: Vec<f64> = v.iter().copied().collect();
    for j in 0..n {
        let col: Vec<f64>;
        let col = match a.col(j).try_as_col_major() {
            Some(c) => c.as_slice(),
            None => {
                col = a.col(j).iter().copied().collect();
                &col
            }
        };
        let vj = v[j];
        let mut acc = col[j] * vj;
        for i in j + 1..n {
            t[i] += col[i] * vj;
            acc += col[i] * v[i];
        }
        t[j] += acc;
    }
    Col::from_fn(n, |i| t[i])
}

/// Inverse iteration with the factor L of A − σI from the unit vector `v`: returns the Rayleigh
/// quotient θ = vᵀAv, v and ‖Av − θv‖ (the last two from an explicit product), and the steps taken.
fn inverse_iteration(
    a: MatRef<'_, f64>,
    l: MatRef<'_, f64>,
    sigma: f64,
    mut v: Col<f64>,
    scale: f64,
) -> (f64, Col<f64>, f64, usize) {
    let n = a.nrows();
    let mut mem = MemBuffer::new(llt::solve::solve_in_place_scratch::<f64>(n, 1, Par::Seq));
    let mut steps = 0;
    for _ in 0..INVERSE_ITERATIONS {
        steps += 1;
        let mut w = v.clone();
        llt::solve::solve_in_place(l, w.as_mat_mut(), Par::Seq, MemStack::new(&mut mem));
        let norm = w.norm_l2();
        if !(norm.is_finite() && norm > 0.0) {
            return (f64::NAN, v, f64::INFINITY, steps);
        }
        // (A − σI) w = v, so A w = v + σ w: the residual of the new vector without a product.
        let av = (&v + sigma * &w) / norm;
        let next = w / norm;
        let theta = next.transpose() * &av;
        let residual = (&av - theta * &next).norm_l2();
        v = next;
        if residual <= RESIDUAL_TOLERANCE * scale {
            break;
        }
    }
    let av = symmetric_lower_matvec(a, &v);
    let theta = v.transpose() * &av;
    let residual = (&av - theta * &v).norm_l2();
    (theta, v, residual, steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn eigenvectors_satisfy_a_v_equals_lambda_v() {
        let a = Mat::from_fn(4, 4, |i, j| 1.0 / (1.0 + i as f64 + j as f64));
        let (ev, u) = symmetric_eigen(a.as_ref()).unwrap();
        assert_eq!(ev, symmetric_eigenvalues(a.as_ref()).unwrap());
        for (k, &lambda) in ev.iter().enumerate() {
            let v = u.col(k);
            let resid = (&a * v - v * lambda).norm_l2();
            assert!(resid < 1e-13 && (v.norm_l2() - 1.0).abs() < 1e-13, "pair {k}: residual {resid}");
        }
    }

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

    /// A symmetric matrix Q diag(λ) Qᵀ with a fixed orthogonal Q (Householder reflections of
    /// hashed vectors) and the given spectrum.
    fn with_spectrum(lambda: &[f64]) -> Mat<f64> {
        let n = lambda.len();
        let mut q = Mat::<f64>::identity(n, n);
        for h in 0..3 {
            let u = Col::from_fn(n, |i| ((i * 31 + h * 17) as f64 * 0.754_877_666).fract() - 0.5);
            let u = &u / u.norm_l2();
            let p = Mat::<f64>::identity(n, n) - 2.0 * &u * u.transpose();
            q = &p * &q;
        }
        let d = Mat::from_fn(n, n, |i, j| if i == j { lambda[i] } else { 0.0 });
        let a = &q * &d * q.transpose();
        Mat::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { a[(j, i)] })
    }

    /// Warm-started λmin against the dense solver along a slowly moving family, across a jump to
    /// an unrelated matrix and across a crossing of the two lowest eigenvalues (where the old
    /// eigenvector belongs to λ2: the certificate must reject it).
    #[test]
    fn warm_started_lambda_min_matches_the_dense_solver() {
        let n = 120;
        let base: Vec<f64> = (0..n).map(|i| 0.2 + 1.3 * (i as f64 / n as f64).powf(1.5)).collect();
        let mut warm = LambdaMinWarmStart::new();
        let check = |a: &Mat<f64>, warm: &mut LambdaMinWarmStart| {
            let dense = lambda_min(a.as_ref()).unwrap();
            let fast = lambda_min_warm_started(a.as_ref(), warm).unwrap();
            assert!((fast - dense).abs() <= 1e-12, "warm {fast} dense {dense}");
        };
        let b = with_spectrum(&base);
        let e = Mat::from_fn(n, n, |i, j| (((i + 1) * (j + 1)) as f64 * 0.618).sin() * 1e-5);
        let e = Mat::from_fn(n, n, |i, j| e[(i, j)] + e[(j, i)]);
        for t in 0..12 {
            check(&(&b + t as f64 * &e), &mut warm);
        }
        assert_eq!(warm.dense_solves(), 1, "only the first call may be dense");
        assert_eq!(warm.warm_solves(), 11);
        // Moves a hundred times larger than the gap: still right (more rounds or the dense solver).
        for t in 0..6 {
            check(&(&b + (100 * t) as f64 * &e), &mut warm);
        }
        // A jump: a different spectrum in a different basis.
        let other: Vec<f64> = (0..n).map(|i| 0.05 + (i as f64).sqrt()).collect();
        check(&with_spectrum(&other).transpose().to_owned(), &mut warm);
        // A crossing: λ1(t) rises, λ2(t) falls, eigenvectors fixed.
        let mut warm = LambdaMinWarmStart::new();
        for t in 0..6 {
            let mut spec = base.clone();
            spec[0] = 0.20 + 0.02 * t as f64;
            spec[1] = 0.27 - 0.02 * t as f64;
            check(&with_spectrum(&spec), &mut warm);
        }
        assert!(warm.dense_solves() >= 2, "the crossing must be caught: {warm:?}");
        // Small orders go straight to the dense solver.
        let small = with_spectrum(&base[..10]);
        assert_eq!(lambda_min_warm_started(small.as_ref(), &mut warm).unwrap(), lambda_min(small.as_ref()).unwrap());
    }
}
