//! Data sets: unit-norm inputs x_i ∈ R^d with labels y_i, validated on construction (docs/theory.md §1.1, λ0 in §1.2).

use faer::{Col, ColRef, Mat, MatRef};
use rand_distr::{Distribution, StandardNormal};

use crate::error::{check_finite_col, check_finite_mat, require_positive};
use crate::rng::{Purpose, stream};
use crate::{ModelError, Result};

/// Smallest λ0 = λmin(H∞) a data set may have. Below it λ0 is not resolved from 0 by f64
/// eigenvalues of an n × n matrix with entries up to 1/2 (absolute error about n²·10⁻¹⁶ for
/// n = 1000), and the widths the theory needs (∝ λ0^−4) pass any machine. For one pair the bound
/// below reaches it only when the cosine rounds to within a few ulps of 1 (the bound is about
/// θ/(2π) at angle θ, and f64 resolves θ down to about 1.5·10⁻⁸).
///
/// The check is the bound λ0 ≤ 1/2 − |H∞_ij| for every pair (Cauchy interlacing on the 2×2
/// principal block [[1/2, H∞_ij], [H∞_ij, 1/2]]). It is not the paper's "no two parallel" assumption:
/// antipodal rows x, −x have H∞_ij = 0 (cosine −1, θ = π) and give λ0 = 1/2 for X = [[1], [−1]];
/// only rows close to coinciding (H∞_ij → 1/2 as the cosine → 1) make the bound small.
pub const LAMBDA0_TOLERANCE: f64 = 1e-9;

/// Largest ‖y‖² accepted: f64::MAX / 16 leaves room for ‖y − u‖² with |u_i| up to a few |y_i|.
pub const LABELS_NORM_SQ_LIMIT: f64 = f64::MAX / 16.0;

/// Allowed |‖x_i‖ − 1| for rows read from float32 files: float32 keeps about 7 digits
/// (unit roundoff 2^−24 ≈ 6·10⁻⁸), so a row normalised in float32 is off by up to about d·6·10⁻⁸.
pub const FLOAT32_NORM_TOLERANCE: f64 = 1e-5;

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
    /// Rows stored in float32: reject |‖x_i‖ − 1| above [`FLOAT32_NORM_TOLERANCE`] (naming float32),
    /// then divide each row by its f64 norm, so ‖x_i‖ = 1 holds to f64 precision.
    Float32,
}

impl Default for RowNorms {
    fn default() -> Self {
        RowNorms::Require { tolerance: DEFAULT_NORM_TOLERANCE }
    }
}

/// A validated data set: n ≥ 1 finite unit rows x_i ∈ R^d with λ0 not below [`LAMBDA0_TOLERANCE`]
/// (no two rows nearly coinciding), and n finite labels with finite ‖y‖².
///
/// Also keeps the input Gram matrix K = X Xᵀ, which every Gram matrix of the network uses.
#[derive(Debug, Clone)]
pub struct Dataset {
    x: Mat<f64>,
    y: Col<f64>,
    k: Mat<f64>,
}

impl Dataset {
    /// Validates `x` (n × d) and `y` (length n): shapes, finiteness, unit rows, the λ0 bound of
    /// every pair (see [`LAMBDA0_TOLERANCE`]), and the memory of K = X Xᵀ before allocating it.
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
        check_label_norm(y.as_ref())?;
        crate::error::ensure_fits(
            &format!("the input Gram matrix K = X Xᵀ ({n} × {n})"),
            (n as u64).saturating_mul(n as u64).saturating_mul(8),
        )?;
        for i in 0..n {
            let norm = x.row(i).norm_l2();
            match norms {
                RowNorms::Require { tolerance } => {
                    if (norm - 1.0).abs() > tolerance {
                        return Err(ModelError::NotUnitRow { row: i, norm, tolerance });
                    }
                }
                RowNorms::Normalise | RowNorms::Float32 => {
                    if norm == 0.0 {
                        return Err(ModelError::NotUnitRow { row: i, norm, tolerance: 0.0 });
                    }
                    if norms == RowNorms::Float32 && (norm - 1.0).abs() > FLOAT32_NORM_TOLERANCE {
                        return Err(ModelError::NotUnitRowFloat32 { row: i, norm, tolerance: FLOAT32_NORM_TOLERANCE });
                    }
                    for j in 0..d {
                        x[(i, j)] /= norm;
                    }
                }
            }
        }
        let k = input_gram_of(x.as_ref());
        check_lambda0_bound(k.as_ref())?;
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
                reason: "the sphere in d = 1 is {−1, +1}: two of the inputs coincide (λ0 = 0) with probability 1 − 2^{1−n}; use d ≥ 2".into(),
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
    /// The pair of rows closest to coinciding: the smallest bound λ0 ≤ 1/2 − |H∞_ij| over pairs
    /// (None for n = 1). A bound far below 1/2 means λ0 is tiny and the widths the theory needs huge.
    pub fn closest_pair(&self) -> Option<ClosestPair> {
        closest_pair_of(self.k.as_ref())
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
        check_label_norm(y.as_ref())?;
        Ok(Dataset { x: self.x.clone(), y, k: self.k.clone() })
    }
}

/// The bound λ0 ≤ min over pairs of 1/2 − |H∞_ij| (Cauchy interlacing on 2×2 principal blocks of
/// H∞, docs/theory.md §1.2): an error with the bound when it is below [`LAMBDA0_TOLERANCE`].
fn check_lambda0_bound(k: MatRef<'_, f64>) -> Result<()> {
    match closest_pair_of(k) {
        Some(p) if p.lambda0_bound < LAMBDA0_TOLERANCE => Err(ModelError::SmallLambda0 {
            i: p.i,
            j: p.j,
            cosine: p.cosine,
            bound: p.lambda0_bound,
            tolerance: LAMBDA0_TOLERANCE,
            log10_width: -4.0 * p.lambda0_bound.log10(),
        }),
        _ => Ok(()),
    }
}

/// The pair of rows with the smallest bound λ0 ≤ 1/2 − |H∞_ij| (see [`Dataset::closest_pair`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosestPair {
    /// First row.
    pub i: usize,
    /// Second row.
    pub j: usize,
    /// Their cosine x_iᵀx_j.
    pub cosine: f64,
    /// 1/2 − |H∞_ij|, an upper bound on λ0.
    pub lambda0_bound: f64,
}

fn closest_pair_of(k: MatRef<'_, f64>) -> Option<ClosestPair> {
    let n = k.nrows();
    let mut worst: Option<ClosestPair> = None;
    for j in 0..n {
        for i in j + 1..n {
            // The angle from ‖x_i − x_j‖² and ‖x_i + x_j‖² rather than arccos(K_ij): near θ = 0
            // arccos turns a rounding error of 1e-16 in the cosine into θ ≈ 1.5e-8, which would
            // let two identical rows through with a bound of about 2.4e-9.
            let (kii, kjj, kij) = (k[(i, i)], k[(j, j)], k[(i, j)]);
            let theta = 2.0 * (kii + kjj - 2.0 * kij).max(0.0).sqrt().atan2((kii + kjj + 2.0 * kij).max(0.0).sqrt());
            let c = kij.clamp(-1.0, 1.0);
            let h = theta.cos() * (std::f64::consts::PI - theta) / (2.0 * std::f64::consts::PI);
            let bound = 0.5 - h.abs();
            if worst.is_none_or(|w| bound < w.lambda0_bound) {
                worst = Some(ClosestPair { i: j, j: i, cosine: c, lambda0_bound: bound });
            }
        }
    }
    worst
}

/// ‖y‖² must be finite and at most [`LABELS_NORM_SQ_LIMIT`] (labels of 1e308 overflow the loss).
fn check_label_norm(y: ColRef<'_, f64>) -> Result<()> {
    let norm_sq: f64 = (0..y.nrows()).map(|i| y[i] * y[i]).sum();
    if norm_sq.is_finite() && norm_sq <= LABELS_NORM_SQ_LIMIT {
        return Ok(());
    }
    let row = (0..y.nrows()).max_by(|&a, &b| y[a].abs().total_cmp(&y[b].abs())).unwrap_or(0);
    // Reached only when norm_sq is too large, so y is non-empty and row < y.nrows().
    Err(ModelError::LabelsOverflow { row, value: y[row], norm_sq })
}

fn check_sizes(n: usize, d: usize) -> Result<()> {
    require_positive("n", n, "need at least one input")?;
    require_positive("d", d, "need a positive input dimension")?;
    crate::error::ensure_fits("inputs X and their Gram matrix", (n as u64) * (n as u64 + d as u64) * 8)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Near-parallel rows: the bound decides, with λ0 itself checked against it. At an angle θ the
    /// bound 1/2 − H∞_ij ≈ θ/(2π) (for small θ); λ0 computed from the eigenvalues lies below it.
    #[test]
    fn near_parallel_rows_are_decided_by_the_lambda0_bound() {
        let row = |theta: f64| [theta.cos(), theta.sin()];
        let x = |theta: f64| {
            let (a, b) = (row(0.0), row(theta));
            Mat::from_fn(2, 2, |i, j| if i == 0 { a[j] } else { b[j] })
        };
        let y = Col::from_fn(2, |i| i as f64);
        // θ = 1e-6: bound ≈ 1.6e-7 > 1e-9, accepted; the computed λ0 is positive and below the bound.
        let d = Dataset::new(x(1e-6), y.clone(), RowNorms::default()).unwrap();
        let l0 = crate::lambda0(&d).unwrap();
        assert!(l0 > 0.0 && l0 <= 1e-6 / (2.0 * std::f64::consts::PI) * 1.01, "{l0}");
        assert_eq!(d.closest_pair().map(|p| (p.i, p.j)), Some((0, 1)));
        assert!(d.closest_pair().unwrap().lambda0_bound >= l0);
        // Two identical rows (here of a generic direction, whose cosine computes as 1 − 2^−53 or so):
        // refused, with the bound 0.
        let v = [0.6, 0.8f64];
        let (vn, m) = ((v[0] * v[0] + v[1] * v[1]).sqrt(), Mat::from_fn(2, 2, |_, c| v[c] / 1.0));
        assert!((vn - 1.0).abs() < 1e-12);
        let e = Dataset::new(m, Col::zeros(2), RowNorms::default()).unwrap_err();
        assert!(matches!(e, ModelError::SmallLambda0 { bound, .. } if bound == 0.0), "{e}");
        // θ = 1e-12: the cosine rounds to 1 in f64, H∞ is singular: refused with the value.
        let e = Dataset::new(x(1e-12), y.clone(), RowNorms::default()).unwrap_err();
        assert!(matches!(e, ModelError::SmallLambda0 { bound, .. } if bound < LAMBDA0_TOLERANCE), "{e}");
        assert!(e.to_string().contains("unbounded at λ0 = 0") && e.to_string().contains("nearly parallel"), "{e}");
    }

    #[test]
    fn float32_rows_get_a_float32_tolerance_and_are_renormalised() {
        let f = |v: f64| f64::from(v as f32);
        let x = Mat::from_fn(2, 2, |i, j| [[f(0.6), f(0.8)], [f(0.8), f(-0.6)]][i][j]);
        let y = Col::from_fn(2, |i| i as f64);
        assert!(matches!(Dataset::new(x.clone(), y.clone(), RowNorms::default()), Err(ModelError::NotUnitRow { .. })));
        let d = Dataset::new(x, y.clone(), RowNorms::Float32).unwrap();
        assert!((d.x().row(0).norm_l2() - 1.0).abs() < 1e-15);
        let e = Dataset::new(Mat::from_fn(2, 2, |i, j| if i == j { 1.001 } else { 0.0 }), y, RowNorms::Float32)
            .unwrap_err();
        assert!(e.to_string().contains("float32"), "{e}");
    }

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
        // ... normalised only when asked; then the two rows coincide and λ0 = 0, said with its bound.
        let e = Dataset::new(unit([[1.0, 0.0], [0.5, 0.0]]), y.clone(), RowNorms::Normalise).unwrap_err();
        assert!(matches!(e, ModelError::SmallLambda0 { i: 0, j: 1, cosine: 1.0, bound: 0.0, .. }), "{e}");
        assert!(
            e.to_string().contains("rows 0 and 1") && e.to_string().contains("≤ 1/2 − H∞_ij = 0.000e0 in f64"),
            "{e}"
        );
        // Antipodal rows are fine: H∞_ij = 0, and λ0 = 1/2 for X = [[1], [−1]] (and for [[s, s], [−s, −s]]).
        let d = Dataset::new(unit([[s, s], [-s, -s]]), y.clone(), RowNorms::default()).unwrap();
        assert!((crate::lambda0(&d).unwrap() - 0.5).abs() < 1e-15);
        let d =
            Dataset::new(Mat::from_fn(2, 1, |i, _| if i == 0 { 1.0 } else { -1.0 }), y.clone(), RowNorms::default())
                .unwrap();
        assert!((crate::lambda0(&d).unwrap() - 0.5).abs() < 1e-15);
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
        // Labels whose ‖y‖² overflows f64 are named as labels.
        let e = Dataset::new(
            unit([[1.0, 0.0], [0.0, 1.0]]),
            Col::from_fn(2, |i| if i == 1 { 1e308 } else { 1.0 }),
            RowNorms::default(),
        )
        .unwrap_err();
        assert!(matches!(e, ModelError::LabelsOverflow { row: 1, .. }) && e.to_string().starts_with("labels y"), "{e}");
        // Orthonormal data need d ≥ n.
        assert!(matches!(Dataset::orthonormal(3, 2, 0, 0), Err(ModelError::InvalidParameter { name: "d", .. })));
        assert!(Dataset::orthonormal(3, 3, 0, 0).is_ok());
    }
}
