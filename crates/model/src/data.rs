//! Data sets: unit-norm inputs x_i ∈ R^d with labels y_i, validated on construction (docs/theory.md §1.1).

use faer::{Col, ColRef, Mat, MatRef};
use rand_distr::{Distribution, StandardNormal};

use crate::rng::{Purpose, stream};
use crate::{ModelError, Result};

/// Two inputs count as parallel when |x_iᵀx_j| ≥ 1 − this (an angle below about 1.4·10⁻⁶ rad).
pub const PARALLEL_COSINE_GAP: f64 = 1e-12;

/// Default allowed |‖x_i‖ − 1| for [`RowNorms::Require`].
pub const DEFAULT_NORM_TOLERANCE: f64 = 1e-9;

/// What to do with input rows whose norm is not 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RowNorms {
    /// Reject any row with |‖x_i‖ − 1| above the tolerance (the default, tolerance 1e-9).
    Require {
        /// Allowed |‖x_i‖ − 1|.
        tolerance: f64,
    },
    /// Divide each row by its norm (a zero row is still an error).
    Normalise,
}

impl Default for RowNorms {
    fn default() -> Self {
        RowNorms::Require { tolerance: DEFAULT_NORM_TOLERANCE }
    }
}

/// A validated data set: n ≥ 1 finite unit rows x_i ∈ R^d, no two parallel, and n finite labels.
///
/// Also keeps the input Gram matrix K = X Xᵀ, which every Gram matrix of the network uses.
#[derive(Debug, Clone)]
pub struct Dataset {
    x: Mat<f64>,
    y: Col<f64>,
    k: Mat<f64>,
}

impl Dataset {
    /// Validates `x` (n × d) and `y` (length n): shapes, finiteness, unit rows, no parallel pair.
    pub fn new(mut x: Mat<f64>, y: Col<f64>, norms: RowNorms) -> Result<Self> {
        let (n, d) = (x.nrows(), x.ncols());
        if n == 0 {
            return Err(ModelError::Empty { what: "input matrix X (no rows)" });
        }
        if d == 0 {
            return Err(ModelError::Empty { what: "input matrix X (no columns)" });
        }
        if y.nrows() != n {
            return Err(ModelError::Shape {
                what: "labels y against inputs X".into(),
                expected: format!("{n} labels (one per row of X)"),
                found: format!("{} labels", y.nrows()),
            });
        }
        check_finite_mat("input matrix X", x.as_ref())?;
        check_finite_col("labels y", y.as_ref())?;
        for i in 0..n {
            let norm = x.row(i).norm_l2();
            match norms {
                RowNorms::Require { tolerance } => {
                    if (norm - 1.0).abs() > tolerance {
                        return Err(ModelError::NotUnitRow { row: i, norm, tolerance });
                    }
                }
                RowNorms::Normalise => {
                    if norm == 0.0 {
                        return Err(ModelError::NotUnitRow { row: i, norm, tolerance: 0.0 });
                    }
                    for j in 0..d {
                        x[(i, j)] /= norm;
                    }
                }
            }
        }
        let k = input_gram_of(x.as_ref());
        for j in 0..n {
            for i in j + 1..n {
                let c = k[(i, j)];
                if c.abs() >= 1.0 - PARALLEL_COSINE_GAP {
                    return Err(ModelError::ParallelRows { i: j, j: i, cosine: c });
                }
            }
        }
        Ok(Dataset { x, y, k })
    }

    /// The paper's Fig. 1 setup: x_i uniform on the unit sphere S^{d−1}, y_i ~ N(0, 1).
    ///
    /// Inputs come from stream `(seed, trial, Inputs)`, labels from `(seed, trial, Labels)`.
    pub fn sphere(n: usize, d: usize, seed: u64, trial: u64) -> Result<Self> {
        check_sizes(n, d)?;
        if d < 2 && n > 1 {
            return Err(ModelError::InvalidParameter {
                name: "d",
                value: d.to_string(),
                reason: "on the sphere in d = 1 any two inputs are parallel; use d ≥ 2".into(),
            });
        }
        let mut rng = stream(seed, trial, Purpose::Inputs);
        let mut x = Mat::<f64>::zeros(n, d);
        for i in 0..n {
            let mut norm2 = 0.0;
            for j in 0..d {
                let g: f64 = StandardNormal.sample(&mut rng);
                x[(i, j)] = g;
                norm2 += g * g;
            }
            let norm = norm2.sqrt();
            for j in 0..d {
                x[(i, j)] /= norm;
            }
        }
        let y = gaussian_labels(n, seed, trial);
        Dataset::new(x, y, RowNorms::Require { tolerance: 1e-12 })
    }

    /// Orthonormal inputs x_i = e_i ∈ R^d (needs d ≥ n), y_i ~ N(0, 1). Here H∞ = I/2, λ0 = 1/2.
    ///
    /// By the rotation invariance of w_r ~ N(0, I_d) every orthonormal set behaves the same.
    pub fn orthonormal(n: usize, d: usize, seed: u64, trial: u64) -> Result<Self> {
        check_sizes(n, d)?;
        if d < n {
            return Err(ModelError::InvalidParameter {
                name: "d",
                value: d.to_string(),
                reason: format!("orthonormal inputs need d ≥ n = {n}"),
            });
        }
        let x = Mat::from_fn(n, d, |i, j| if i == j { 1.0 } else { 0.0 });
        Dataset::new(x, gaussian_labels(n, seed, trial), RowNorms::default())
    }

    /// Number of inputs n.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }
    /// Input dimension d.
    pub fn d(&self) -> usize {
        self.x.ncols()
    }
    /// Inputs X (n × d, unit rows).
    pub fn x(&self) -> MatRef<'_, f64> {
        self.x.as_ref()
    }
    /// Labels y (length n).
    pub fn y(&self) -> ColRef<'_, f64> {
        self.y.as_ref()
    }
    /// Input Gram matrix K = X Xᵀ (n × n, unit diagonal).
    pub fn input_gram(&self) -> MatRef<'_, f64> {
        self.k.as_ref()
    }
    /// Same inputs, new labels (validated: length n, finite).
    pub fn with_labels(&self, y: Col<f64>) -> Result<Self> {
        if y.nrows() != self.n() {
            return Err(ModelError::Shape {
                what: "labels y against inputs X".into(),
                expected: format!("{} labels", self.n()),
                found: format!("{} labels", y.nrows()),
            });
        }
        check_finite_col("labels y", y.as_ref())?;
        Ok(Dataset { x: self.x.clone(), y, k: self.k.clone() })
    }
}

fn check_sizes(n: usize, d: usize) -> Result<()> {
    if n == 0 {
        return Err(ModelError::InvalidParameter {
            name: "n",
            value: "0".into(),
            reason: "need at least one input".into(),
        });
    }
    if d == 0 {
        return Err(ModelError::InvalidParameter {
            name: "d",
            value: "0".into(),
            reason: "need a positive input dimension".into(),
        });
    }
    crate::network::ensure_fits("inputs X and their Gram matrix", (n as u64) * (n as u64 + d as u64) * 8)
}

fn gaussian_labels(n: usize, seed: u64, trial: u64) -> Col<f64> {
    let mut rng = stream(seed, trial, Purpose::Labels);
    Col::from_fn(n, |_| StandardNormal.sample(&mut rng))
}

/// K = X Xᵀ, computed with the deterministic blocked GEMM.
pub(crate) fn input_gram_of(x: MatRef<'_, f64>) -> Mat<f64> {
    let n = x.nrows();
    let mut k = Mat::<f64>::zeros(n, n);
    crate::par::matmul_par(k.as_mut(), faer::Accum::Replace, x, x.transpose(), 1.0);
    // Exact symmetry (the blocked GEMM may round the two triangles differently).
    for j in 0..n {
        for i in j + 1..n {
            k[(j, i)] = k[(i, j)];
        }
    }
    k
}

pub(crate) fn check_finite_mat(what: &'static str, a: MatRef<'_, f64>) -> Result<()> {
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            let v = a[(i, j)];
            if !v.is_finite() {
                return Err(ModelError::NonFinite { what, row: i, col: j, value: v });
            }
        }
    }
    Ok(())
}

pub(crate) fn check_finite_col(what: &'static str, a: ColRef<'_, f64>) -> Result<()> {
    for i in 0..a.nrows() {
        if !a[i].is_finite() {
            return Err(ModelError::NonFinite { what, row: i, col: 0, value: a[i] });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sphere_rows_are_unit_and_seeded() {
        let a = Dataset::sphere(20, 5, 1, 0).unwrap();
        let b = Dataset::sphere(20, 5, 1, 0).unwrap();
        let c = Dataset::sphere(20, 5, 1, 1).unwrap();
        for i in 0..20 {
            assert!((a.x().row(i).norm_l2() - 1.0).abs() < 1e-14);
        }
        assert_eq!(a.x(), b.x());
        assert_ne!(a.x(), c.x());
        assert_eq!(a.input_gram()[(3, 3)], a.x().row(3) * a.x().row(3).transpose());
    }

    #[test]
    fn every_bad_input_is_a_named_error() {
        let y = Col::from_fn(2, |i| i as f64);
        let unit = |v: [[f64; 2]; 2]| Mat::from_fn(2, 2, |i, j| v[i][j]);
        let s = 0.5f64.sqrt();
        // A non-unit row.
        let e = Dataset::new(unit([[1.0, 0.0], [0.5, 0.0]]), y.clone(), RowNorms::default()).unwrap_err();
        assert!(matches!(e, ModelError::NotUnitRow { row: 1, .. }), "{e}");
        // ... normalised only when asked; then the pair is parallel.
        let e = Dataset::new(unit([[1.0, 0.0], [0.5, 0.0]]), y.clone(), RowNorms::Normalise).unwrap_err();
        assert_eq!(e, ModelError::ParallelRows { i: 0, j: 1, cosine: 1.0 });
        // Anti-parallel rows are parallel too, and the message names both rows and the cosine.
        let e = Dataset::new(unit([[s, s], [-s, -s]]), y.clone(), RowNorms::default()).unwrap_err();
        assert!(matches!(e, ModelError::ParallelRows { i: 0, j: 1, cosine } if (cosine + 1.0).abs() < 1e-15));
        assert!(e.to_string().contains("rows 0 and 1"), "{e}");
        // NaN in X and in y.
        let e = Dataset::new(unit([[1.0, 0.0], [f64::NAN, 1.0]]), y.clone(), RowNorms::default()).unwrap_err();
        assert!(matches!(e, ModelError::NonFinite { row: 1, col: 0, .. }));
        let e = Dataset::new(unit([[1.0, 0.0], [0.0, 1.0]]), Col::from_fn(2, |_| f64::INFINITY), RowNorms::default())
            .unwrap_err();
        assert!(matches!(e, ModelError::NonFinite { what: "labels y", .. }));
        // Empty and inconsistent shapes.
        let e = Dataset::new(Mat::zeros(0, 3), Col::zeros(0), RowNorms::default()).unwrap_err();
        assert!(matches!(e, ModelError::Empty { .. }));
        let e = Dataset::new(unit([[1.0, 0.0], [0.0, 1.0]]), Col::zeros(3), RowNorms::default()).unwrap_err();
        assert!(matches!(e, ModelError::Shape { .. }));
        // Orthonormal data need d ≥ n.
        assert!(matches!(Dataset::orthonormal(3, 2, 0, 0), Err(ModelError::InvalidParameter { name: "d", .. })));
        assert!(Dataset::orthonormal(3, 3, 0, 0).is_ok());
    }
}
