//! Gram matrices H(W), G(W) at finite width, their infinite-width limits H∞, G∞, and λ0 = λmin(H∞).
//!
//! See docs/theory.md §1.2.

use faer::{Accum, ColRef, Mat, MatRef};
use rayon::prelude::*;
use std::f64::consts::PI;

use crate::par::matmul_par;
use crate::patterns::PatternBits;
use crate::{Dataset, Result, lambda_min};

/// K = X Xᵀ for any X (n × d); [`Dataset::input_gram`] keeps it for validated data.
pub fn input_gram(x: MatRef<'_, f64>) -> Mat<f64> {
    crate::data::input_gram_of(x)
}

/// H∞_ij = c (π − θ) / (2π) with c = x_iᵀx_j, θ = arccos c (entries of K clamped to [−1, 1]).
///
/// The diagonal is exactly 1/2.
pub fn h_infinity(k: MatRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(k.nrows(), k.ncols(), |i, j| {
        if i == j {
            return 0.5;
        }
        let c = k[(i, j)].clamp(-1.0, 1.0);
        c * (PI - c.acos()) / (2.0 * PI)
    })
}

/// G∞_ij = (sin θ + (π − θ) c) / (2π) with c = x_iᵀx_j, θ = arccos c. The diagonal is exactly 1/2.
pub fn g_infinity(k: MatRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(k.nrows(), k.ncols(), |i, j| {
        if i == j {
            return 0.5;
        }
        let c = k[(i, j)].clamp(-1.0, 1.0);
        let theta = c.acos();
        (theta.sin() + (PI - theta) * c) / (2.0 * PI)
    })
}

/// λ0 = λmin(H∞) of a data set (positive when no two inputs are parallel; slide Thm 2.1, paper Thm 3.2).
pub fn lambda0(data: &Dataset) -> Result<f64> {
    lambda_min(h_infinity(data.input_gram()).as_ref())
}

/// H(W)_ij = (1/m) x_iᵀx_j Σ_r a_r² 1{Z_ir ≥ 0} 1{Z_jr ≥ 0}, from K = X Xᵀ and Z = X Wᵀ.
///
/// When every |a_r| = 1 (the first layer alone is trained) this is K ⊙ (S Sᵀ)/m with S Sᵀ from
/// bit-packed patterns (AND + popcount, exact integers); otherwise (S diag(a²) Sᵀ) by a GEMM.
pub fn gram_h(k: MatRef<'_, f64>, z: MatRef<'_, f64>, a: ColRef<'_, f64>) -> Mat<f64> {
    let (n, m) = (z.nrows(), z.ncols());
    assert_eq!((k.nrows(), k.ncols()), (n, n), "gram_h: K must be n × n");
    assert_eq!(a.nrows(), m, "gram_h: a must have m entries");
    let inv_m = 1.0 / m as f64;
    if a.iter().all(|v| v.abs() == 1.0) {
        return gram_h_from_patterns(k, &PatternBits::from_preactivations(z));
    }
    let s = Mat::from_fn(n, m, |i, r| if z[(i, r)] >= 0.0 { a[r].abs() } else { 0.0 });
    let mut ssa = Mat::<f64>::zeros(n, n);
    matmul_par(ssa.as_mut(), Accum::Replace, s.as_ref(), s.transpose(), 1.0);
    symmetric_from_lower(n, |i, j| k[(i, j)] * (ssa[(i, j)] * inv_m))
}

/// H(W) = K ⊙ (S Sᵀ)/m from packed patterns S (the first layer alone, every |a_r| = 1): the
/// bit-packed path of [`gram_h`], for callers that keep the patterns already.
pub fn gram_h_from_patterns(k: MatRef<'_, f64>, patterns: &PatternBits) -> Mat<f64> {
    gram_h_from_counts(k, &patterns.co_activation_counts(), patterns.m())
}

/// H = K ⊙ (S Sᵀ)/m from the co-activation counts S Sᵀ (row-major n × n, symmetric, as
/// [`PatternBits::co_activation_counts`] gives or
/// [`PatternBits::update_co_activation_counts`] keeps) of m neurons. Each entry is
/// K_ij · (count_ij / m), the bits of [`gram_h_from_patterns`]; columns are filled in parallel,
/// each entry by itself, so the thread count cannot change them.
pub fn gram_h_from_counts(k: MatRef<'_, f64>, counts: &[u32], m: usize) -> Mat<f64> {
    let n = k.nrows();
    assert_eq!((k.ncols(), counts.len()), (n, n * n), "gram_h_from_counts: K must be n × n and counts n²");
    let inv_m = 1.0 / m as f64;
    let mut h = Mat::<f64>::zeros(n, n);
    // counts is symmetric: its rows are the columns of H.
    crate::par::column_blocks_mut(h.as_mut()).into_par_iter().for_each(|(start, mut block)| {
        for c in 0..block.ncols() {
            let j = start + c;
            // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is contiguous.
            let out = block.as_mut().col_mut(c).try_as_col_major_mut().expect("contiguous columns").as_slice_mut();
            let row = &counts[j * n..(j + 1) * n];
            match k.col(j).try_as_col_major() {
                Some(kc) => {
                    for ((o, &kv), &cv) in out.iter_mut().zip(kc.as_slice()).zip(row) {
                        *o = kv * (cv as f64 * inv_m);
                    }
                }
                None => {
                    for (i, (o, &cv)) in out.iter_mut().zip(row).enumerate() {
                        *o = k[(i, j)] * (cv as f64 * inv_m);
                    }
                }
            }
        }
    });
    h
}

/// H(W) by a plain loop over the definition (the oracle for [`gram_h`]). Each indicator
/// 1{w_rᵀx_i ≥ 0} is a plain dot product, taken once per (i, r) rather than once per (i, j, r):
/// the same values, in O(nmd + n²m) instead of O(n²md).
pub fn gram_h_direct(x: MatRef<'_, f64>, w: MatRef<'_, f64>, a: ColRef<'_, f64>) -> Mat<f64> {
    let (n, m) = (x.nrows(), w.nrows());
    let dot = |u: faer::RowRef<'_, f64>, v: faer::RowRef<'_, f64>| -> f64 { (0..u.ncols()).map(|k| u[k] * v[k]).sum() };
    let active: Vec<Vec<bool>> = (0..n).map(|i| (0..m).map(|r| dot(w.row(r), x.row(i)) >= 0.0).collect()).collect();
    let mut h = Mat::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            let mut s = 0.0;
            for r in 0..m {
                if active[i][r] && active[j][r] {
                    s += a[r] * a[r];
                }
            }
            h[(i, j)] = dot(x.row(i), x.row(j)) * s / m as f64;
        }
    }
    h
}

/// G(W)_ij = (1/m) Σ_r σ(Z_ir) σ(Z_jr), as one blocked GEMM on σ(Z).
pub fn gram_g(z: MatRef<'_, f64>) -> Mat<f64> {
    let (n, m) = (z.nrows(), z.ncols());
    let s = Mat::from_fn(n, m, |i, r| z[(i, r)].max(0.0));
    let mut g = Mat::<f64>::zeros(n, n);
    matmul_par(g.as_mut(), Accum::Replace, s.as_ref(), s.transpose(), 1.0 / m as f64);
    symmetric_from_lower(n, |i, j| g[(i, j)])
}

/// G(W) by a plain loop over the definition (the oracle for [`gram_g`]).
pub fn gram_g_direct(x: MatRef<'_, f64>, w: MatRef<'_, f64>) -> Mat<f64> {
    let (n, m) = (x.nrows(), w.nrows());
    let relu = |r: usize, i: usize| -> f64 { (0..x.ncols()).map(|k| w[(r, k)] * x[(i, k)]).sum::<f64>().max(0.0) };
    Mat::from_fn(n, n, |i, j| (0..m).map(|r| relu(r, i) * relu(r, j)).sum::<f64>() / m as f64)
}

/// An exactly symmetric matrix from the lower triangle of `f`.
fn symmetric_from_lower(n: usize, f: impl Fn(usize, usize) -> f64) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(n, n);
    for j in 0..n {
        for i in j..n {
            let v = f(i, j);
            out[(i, j)] = v;
            out[(j, i)] = v;
        }
    }
    out
}
