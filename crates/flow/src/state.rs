//! [`OdeState`] for faer columns and matrices and for the network (W, a), with deterministic parallel kernels.
//!
//! Long arrays are cut into chunks of [`CHUNK`] elements whose boundaries depend only on the
//! length, never on the thread count: `axpy` is elementwise (any schedule gives the same bits),
//! and sums of squares add per-chunk partial sums in chunk order.

use faer::{Col, Mat};
use model::Network;
use rayon::prelude::*;

use crate::ode::OdeState;

/// Elements per parallel chunk in the state kernels (a constant, so results are thread-count independent).
pub const CHUNK: usize = 1 << 14;

/// `y ← y + alpha · x`, elementwise.
fn axpy_slice(y: &mut [f64], alpha: f64, x: &[f64]) {
    assert_eq!(y.len(), x.len(), "axpy: lengths differ");
    let kernel = |y: &mut [f64], x: &[f64]| {
        for (yi, xi) in y.iter_mut().zip(x) {
            *yi += alpha * xi;
        }
    };
    if y.len() <= 2 * CHUNK {
        kernel(y, x);
    } else {
        y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(y, x)| kernel(y, x));
    }
}

/// Σ x_i², sequential within fixed chunks, chunks added in order.
/// `y ← alpha · y`, elementwise.
fn scale_slice(y: &mut [f64], alpha: f64) {
    let kernel = |y: &mut [f64]| y.iter_mut().for_each(|v| *v *= alpha);
    if y.len() <= 2 * CHUNK { kernel(y) } else { y.par_chunks_mut(CHUNK).for_each(kernel) }
}

fn sum_of_squares_slice(x: &[f64]) -> f64 {
    let kernel = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>();
    if x.len() <= CHUNK {
        kernel(x)
    } else {
        let partials: Vec<f64> = x.par_chunks(CHUNK).map(kernel).collect();
        partials.iter().sum()
    }
}

fn all_finite_slice(x: &[f64]) -> bool {
    if x.len() <= CHUNK {
        x.iter().all(|v| v.is_finite())
    } else {
        x.par_chunks(CHUNK).all(|c| c.iter().all(|v| v.is_finite()))
    }
}

fn col_slice(c: &Col<f64>) -> &[f64] {
    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is one contiguous slice.
    c.try_as_col_major().expect("an owned column is contiguous").as_slice()
}

fn col_slice_mut(c: &mut Col<f64>) -> &mut [f64] {
    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is one contiguous slice.
    c.try_as_col_major_mut().expect("an owned column is contiguous").as_slice_mut()
}

/// Sum of squares of a matrix, column by column in order.
pub(crate) fn mat_sum_of_squares(m: &Mat<f64>) -> f64 {
    (0..m.ncols()).map(|j| sum_of_squares_slice(m.col_as_slice(j))).sum()
}

impl OdeState for Col<f64> {
    fn axpy(&mut self, alpha: f64, x: &Self) {
        axpy_slice(col_slice_mut(self), alpha, col_slice(x));
    }
    fn scale(&mut self, alpha: f64) {
        scale_slice(col_slice_mut(self), alpha);
    }
    fn norm(&self) -> f64 {
        sum_of_squares_slice(col_slice(self)).sqrt()
    }
    fn is_finite(&self) -> bool {
        all_finite_slice(col_slice(self))
    }
}

impl OdeState for Mat<f64> {
    fn axpy(&mut self, alpha: f64, x: &Self) {
        assert_eq!((self.nrows(), self.ncols()), (x.nrows(), x.ncols()), "axpy: shapes differ");
        for j in 0..self.ncols() {
            axpy_slice(self.col_as_slice_mut(j), alpha, x.col_as_slice(j));
        }
    }
    fn scale(&mut self, alpha: f64) {
        for j in 0..self.ncols() {
            scale_slice(self.col_as_slice_mut(j), alpha);
        }
    }
    fn norm(&self) -> f64 {
        mat_sum_of_squares(self).sqrt()
    }
    fn is_finite(&self) -> bool {
        (0..self.ncols()).all(|j| all_finite_slice(self.col_as_slice(j)))
    }
}

/// The pair (W, a) as one vector of R^{md + m}; the norm is √(‖W‖_F² + ‖a‖²).
impl OdeState for Network {
    fn axpy(&mut self, alpha: f64, x: &Self) {
        self.w.axpy(alpha, &x.w);
        self.a.axpy(alpha, &x.a);
    }
    fn scale(&mut self, alpha: f64) {
        self.w.scale(alpha);
        self.a.scale(alpha);
    }
    fn norm(&self) -> f64 {
        (mat_sum_of_squares(&self.w) + sum_of_squares_slice(col_slice(&self.a))).sqrt()
    }
    fn is_finite(&self) -> bool {
        self.w.is_finite() && self.a.is_finite()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_plain_loops_across_chunk_boundaries() {
        let len = 3 * CHUNK + 17;
        let x = Col::from_fn(len, |i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5);
        let mut y = Col::from_fn(len, |i| (i % 13) as f64);
        let y0 = y.clone();
        y.axpy(-0.25, &x);
        for i in 0..len {
            assert_eq!(y[i], y0[i] + -0.25 * x[i]);
        }
        let chunked = x.norm();
        let plain = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((chunked - plain).abs() <= 1e-12 * plain);
        let mut bad = x.clone();
        bad[len - 1] = f64::NAN;
        assert!(x.is_finite() && !bad.is_finite());
        let m = Mat::from_fn(4, 3, |i, j| (i + 2 * j) as f64);
        assert_eq!(m.norm(), m.norm_l2());
        let net = Network { w: m.clone(), a: Col::from_fn(4, |i| i as f64) };
        assert!((net.norm().powi(2) - (m.squared_norm_l2() + 14.0)).abs() < 1e-12);
    }
}
