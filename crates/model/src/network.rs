//! The network f(W, a, x) = m^{−1/2} Σ_r a_r σ(w_rᵀx): seeded init, forward pass, loss and gradients.
//!
//! See docs/theory.md §1.1.

use faer::{Accum, Col, ColRef, Mat, MatMut, MatRef};
use rand::RngExt;

use rayon::prelude::*;

pub use crate::error::{MEMORY_LIMIT_BYTES, ensure_fits};
use crate::error::{check_finite_col, check_finite_mat, require_positive};
use crate::par::{column_blocks_mut, column_ranges, matmul_par};
use crate::rng::{Purpose, stream};
use crate::{Dataset, ModelError, Result};

/// Rows of W drawn per block in [`Network::init`] (the draw order is row by row regardless).
const INIT_ROWS: usize = 64;

/// Weights of the two-layer network: `w` is m × d (row r is w_r), `a` has length m.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// First layer W, m × d.
    pub w: Mat<f64>,
    /// Second layer a, length m.
    pub a: Col<f64>,
}

/// The forward pass on a data set: pre-activations Z = X Wᵀ (n × m) and predictions u (length n).
#[derive(Debug, Clone)]
pub struct Forward {
    /// Z_ir = w_rᵀ x_i.
    pub z: Mat<f64>,
    /// u_i = m^{−1/2} Σ_r a_r σ(Z_ir).
    pub u: Col<f64>,
}

impl Network {
    /// Random init of docs/theory.md §1.1: w_r ~ N(0, I_d) from stream `(seed, trial, FirstLayer)`, drawn
    /// row by row, and a_r ~ unif{−1, +1} from `(seed, trial, SecondLayer)`.
    ///
    /// The streams are consumed neuron by neuron, so the first m′ neurons of a width-m network are
    /// the width-m′ network of the same seed: width sweeps are nested.
    pub fn init(m: usize, d: usize, seed: u64, trial: u64) -> Result<Self> {
        require_positive("m", m, "the width must be positive")?;
        require_positive("d", d, "the input dimension must be positive")?;
        ensure_fits(
            &format!("first-layer weights W ({m} × {d})"),
            (m as u64).saturating_mul(d as u64).saturating_mul(8),
        )?;
        // The FirstLayer stream, through the vectorised block function (the same numbers).
        let mut rng = crate::chacha::ChaCha8Blocks::new(seed, trial, Purpose::FirstLayer);
        // Draw row by row (the stream's order) into a buffer of INIT_ROWS rows, then lay the
        // rows out column-major; the block keeps both sides of the transposition in cache.
        let mut w = Mat::<f64>::zeros(m, d);
        let mut buf = vec![0.0f64; INIT_ROWS * d];
        for r0 in (0..m).step_by(INIT_ROWS) {
            let rows = INIT_ROWS.min(m - r0);
            let buf = &mut buf[..rows * d];
            rng.fill_standard_normals(buf);
            for k in 0..d {
                // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is contiguous.
                let col = w.col_mut(k).try_as_col_major_mut().expect("faer columns are contiguous").as_slice_mut();
                for (rr, out) in col[r0..r0 + rows].iter_mut().enumerate() {
                    *out = buf[rr * d + k];
                }
            }
        }
        let mut rng = stream(seed, trial, Purpose::SecondLayer);
        let a = Col::from_fn(m, |_| if rng.random::<bool>() { 1.0 } else { -1.0 });
        Ok(Network { w, a })
    }

    /// Validates given weights: W is m × d, a has length m, all finite, m ≥ 1.
    pub fn new(w: Mat<f64>, a: Col<f64>) -> Result<Self> {
        let net = Network { w, a };
        net.validate()?;
        Ok(net)
    }

    /// What [`Network::new`] checks, for a network whose public fields may have been set directly:
    /// m ≥ 1, a has m entries, W and a finite.
    pub fn validate(&self) -> Result<()> {
        if self.w.nrows() == 0 {
            return Err(ModelError::Empty { what: "first-layer weights W (no neurons)" });
        }
        if self.a.nrows() != self.w.nrows() {
            return Err(ModelError::Shape {
                what: "second layer a against first layer W".into(),
                expected: format!("{} entries (one per row of W)", self.w.nrows()),
                found: format!("{} entries", self.a.nrows()),
            });
        }
        check_finite_mat("first-layer weights W", self.w.as_ref())?;
        check_finite_col("second-layer weights a", self.a.as_ref())
    }

    /// [`Network::validate`] and [`Network::check_against`] together: the network can run on `data`.
    pub fn validate_against(&self, data: &Dataset) -> Result<()> {
        if self.w.nrows() == 0 {
            return Err(ModelError::Empty { what: "first-layer weights W (no neurons)" });
        }
        self.check_against(data)?;
        self.validate()
    }

    /// Width m.
    pub fn m(&self) -> usize {
        self.w.nrows()
    }
    /// Input dimension d.
    pub fn d(&self) -> usize {
        self.w.ncols()
    }

    /// Checks that W has d columns for this data set.
    pub fn check_against(&self, data: &Dataset) -> Result<()> {
        if self.d() != data.d() {
            return Err(ModelError::Shape {
                what: "first-layer weights W against inputs X".into(),
                expected: format!("{} columns (the input dimension d)", data.d()),
                found: format!("{} columns", self.d()),
            });
        }
        Ok(())
    }

    /// Forward pass on `data`. Errors if W does not have d columns.
    pub fn forward(&self, data: &Dataset) -> Result<Forward> {
        self.check_against(data)?;
        ensure_fits(
            &format!("pre-activations Z ({} × {})", data.n(), self.m()),
            (data.n() as u64).saturating_mul(self.m() as u64).saturating_mul(8),
        )?;
        let z = preactivations(data.x(), self.w.as_ref());
        let u = predictions(z.as_ref(), self.a.as_ref());
        Ok(Forward { z, u })
    }
}

/// Z = X Wᵀ (n × m).
pub fn preactivations(x: MatRef<'_, f64>, w: MatRef<'_, f64>) -> Mat<f64> {
    let mut z = Mat::<f64>::zeros(x.nrows(), w.nrows());
    matmul_par(z.as_mut(), Accum::Replace, x, w.transpose(), 1.0);
    z
}

/// u_i = m^{−1/2} Σ_r a_r σ(Z_ir), summed per neuron block, blocks added in order.
///
/// The per-block sums are [`add_relu_column`] over the block's neurons in order, combined by
/// [`combine_prediction_partials`]; fused kernels that visit Z block by block use the same two
/// functions and so get the same bits.
pub fn predictions(z: MatRef<'_, f64>, a: ColRef<'_, f64>) -> Col<f64> {
    let (n, m) = (z.nrows(), z.ncols());
    let block = |(start, width): (usize, usize)| {
        let mut acc = vec![0.0; n];
        for r in start..start + width {
            match z.col(r).try_as_col_major() {
                Some(col) => add_relu_column(&mut acc, col.as_slice(), a[r]),
                None => {
                    let col: Vec<f64> = z.col(r).iter().copied().collect();
                    add_relu_column(&mut acc, &col, a[r]);
                }
            }
        }
        acc
    };
    // The same blocks on one thread below the work threshold (no rayon wake-ups on small problems).
    let partials: Vec<Vec<f64>> = if crate::par::parallel_for(n, m, 1) {
        column_ranges(m).map(block).collect()
    } else {
        crate::par::column_spans(m).into_iter().map(block).collect()
    };
    combine_prediction_partials(&partials, n, m)
}

/// acc_i += a_r σ(z_i) for one neuron's column z (terms with z_i ≤ 0 are skipped, not added as 0).
#[inline]
pub fn add_relu_column(acc: &mut [f64], z: &[f64], a_r: f64) {
    assert_eq!(acc.len(), z.len(), "add_relu_column: lengths differ");
    for (s, &v) in acc.iter_mut().zip(z) {
        // A select, not a branch, so that it vectorises; the same bits as `if v > 0 { *s += a_r v }`.
        *s = if v > 0.0 { *s + a_r * v } else { *s };
    }
}

/// u_i = m^{−1/2} Σ_blocks partial_i, blocks added in the order given (one partial per
/// [`crate::par::COLUMN_BLOCK`] of neurons, as [`predictions`] makes them).
pub fn combine_prediction_partials(partials: &[Vec<f64>], n: usize, m: usize) -> Col<f64> {
    let scale = 1.0 / (m as f64).sqrt();
    Col::from_fn(n, |i| partials.iter().map(|p| p[i]).sum::<f64>() * scale)
}

/// Residual u − y.
pub fn residual(u: ColRef<'_, f64>, y: ColRef<'_, f64>) -> Col<f64> {
    u - y
}

/// Loss L = ½ Σ_i (u_i − y_i)² (a sum, not a mean).
pub fn loss(u: ColRef<'_, f64>, y: ColRef<'_, f64>) -> f64 {
    0.5 * (u - y).squared_norm_l2()
}

/// ∂L/∂W (m × d): row r is m^{−1/2} a_r Σ_i (u_i − y_i) 1{w_rᵀx_i ≥ 0} x_i.
///
/// Computed as Dᵀ X with D = (r aᵀ/√m) ⊙ 1{Z ≥ 0} (docs/theory.md §1.1, §4.1), one neuron block at a time.
pub fn grad_w(x: MatRef<'_, f64>, z: MatRef<'_, f64>, a: ColRef<'_, f64>, resid: ColRef<'_, f64>) -> Mat<f64> {
    let (n, m, d) = (x.nrows(), z.ncols(), x.ncols());
    let mut g = Mat::<f64>::zeros(m, d);
    let scale = 1.0 / (m as f64).sqrt();
    let blocks = column_blocks_mut(g.as_mut().transpose_mut());
    let run = |(start, gt_block): (usize, MatMut<'_, f64>)| {
        let width = gt_block.ncols();
        let dmat = Mat::<f64>::from_fn(n, width, |i, c| {
            let r = start + c;
            if z[(i, r)] >= 0.0 { resid[i] * a[r] * scale } else { 0.0 }
        });
        faer::linalg::matmul::matmul(gt_block, Accum::Replace, x.transpose(), dmat.as_ref(), 1.0, faer::Par::Seq);
    };
    if crate::par::parallel_for(d, m, n) {
        blocks.into_par_iter().for_each(run)
    } else {
        blocks.into_iter().for_each(run)
    }
    g
}

/// ∂L/∂a (length m): m^{−1/2} Σ_i (u_i − y_i) σ(w_rᵀx_i).
pub fn grad_a(z: MatRef<'_, f64>, resid: ColRef<'_, f64>) -> Col<f64> {
    let (n, m) = (z.nrows(), z.ncols());
    let scale = 1.0 / (m as f64).sqrt();
    let neuron = |r: usize| {
        let col = z.col(r);
        let mut s = 0.0;
        for i in 0..n {
            let v = col[i];
            if v > 0.0 {
                s += resid[i] * v;
            }
        }
        s * scale
    };
    // n flops a neuron: parallel only when n·m passes the work threshold (each sum is one thread's).
    let vals: Vec<f64> = if crate::par::parallel_for(1, m, n) {
        (0..m).into_par_iter().map(neuron).collect()
    } else {
        (0..m).map(neuron).collect()
    };
    Col::from_fn(m, |r| vals[r])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, StandardNormal};

    fn setup(n: usize, d: usize, m: usize, seed: u64) -> (Dataset, Network) {
        (Dataset::sphere(n, d, seed, 0).unwrap(), Network::init(m, d, seed, 0).unwrap())
    }

    fn loss_of(data: &Dataset, net: &Network) -> f64 {
        loss(net.forward(data).unwrap().u.as_ref(), data.y())
    }

    /// Forward pass against a plain loop over the definition f = m^{−1/2} Σ_r a_r σ(w_rᵀx).
    #[test]
    fn forward_matches_definition() {
        let (data, net) = setup(7, 4, 600, 3);
        let fw = net.forward(&data).unwrap();
        for i in 0..7 {
            let mut f = 0.0;
            for r in 0..600 {
                let zr: f64 = (0..4).map(|k| net.w[(r, k)] * data.x()[(i, k)]).sum();
                f += net.a[r] * zr.max(0.0);
            }
            f /= 600f64.sqrt();
            assert!((fw.u[i] - f).abs() < 1e-13, "{} vs {f}", fw.u[i]);
        }
    }

    /// ∂L/∂W and ∂L/∂a against central finite differences, at a point away from kinks.
    #[test]
    fn gradients_match_central_finite_differences() {
        let (data, net) = setup(6, 5, 40, 11);
        let fw = net.forward(&data).unwrap();
        let r = residual(fw.u.as_ref(), data.y());
        let gw = grad_w(data.x(), fw.z.as_ref(), net.a.as_ref(), r.as_ref());
        let ga = grad_a(fw.z.as_ref(), r.as_ref());
        let h = 1e-6;
        let min_abs_z =
            fw.z.col_iter()
                .flat_map(|c| c.iter().copied().collect::<Vec<_>>())
                .fold(f64::INFINITY, |a, v| a.min(v.abs()));
        assert!(min_abs_z > 1e-3, "test point too close to a kink: {min_abs_z}");
        let mut worst: f64 = 0.0;
        for rr in 0..40 {
            for k in 0..5 {
                let mut p = net.clone();
                p.w[(rr, k)] += h;
                let mut q = net.clone();
                q.w[(rr, k)] -= h;
                let fd = (loss_of(&data, &p) - loss_of(&data, &q)) / (2.0 * h);
                worst = worst.max((fd - gw[(rr, k)]).abs() / gw[(rr, k)].abs().max(1e-3));
            }
            let mut p = net.clone();
            p.a[rr] += h;
            let mut q = net.clone();
            q.a[rr] -= h;
            let fd = (loss_of(&data, &p) - loss_of(&data, &q)) / (2.0 * h);
            worst = worst.max((fd - ga[rr]).abs() / ga[rr].abs().max(1e-3));
        }
        assert!(worst <= 1e-6, "relative error {worst}");
    }

    /// W is the stream's normals laid out row by row (the blocked copy in `init` changes nothing).
    #[test]
    fn init_draws_row_by_row_from_the_first_layer_stream() {
        let (m, d) = (150, 7);
        let net = Network::init(m, d, 4, 9).unwrap();
        let mut rng = stream(4, 9, Purpose::FirstLayer);
        for r in 0..m {
            for k in 0..d {
                let v: f64 = StandardNormal.sample(&mut rng);
                assert_eq!(net.w[(r, k)].to_bits(), v.to_bits(), "({r}, {k})");
            }
        }
    }

    #[test]
    fn init_is_nested_in_width_and_signs_are_pm_one() {
        let big = Network::init(500, 3, 9, 2).unwrap();
        let small = Network::init(200, 3, 9, 2).unwrap();
        assert_eq!(big.w.subrows(0, 200), small.w.as_ref());
        assert_eq!(big.a.subrows(0, 200), small.a.as_ref());
        assert!(big.a.iter().all(|&v| v == 1.0 || v == -1.0));
        let plus = big.a.iter().filter(|&&v| v == 1.0).count();
        assert!((200..300).contains(&plus), "{plus} of 500 signs are +1");
    }

    #[test]
    fn bad_weights_and_widths_are_named_errors() {
        assert!(matches!(Network::init(0, 3, 0, 0), Err(ModelError::InvalidParameter { name: "m", .. })));
        assert!(matches!(Network::init(1 << 40, 1000, 0, 0), Err(ModelError::TooLarge { .. })));
        let e = Network::new(Mat::zeros(3, 2), Col::zeros(2)).unwrap_err();
        assert!(matches!(e, ModelError::Shape { .. }));
        let mut w = Mat::<f64>::zeros(3, 2);
        w[(2, 1)] = f64::NAN;
        assert!(matches!(Network::new(w, Col::zeros(3)), Err(ModelError::NonFinite { row: 2, col: 1, .. })));
        let data = Dataset::sphere(4, 3, 0, 0).unwrap();
        let net = Network::init(5, 4, 0, 0).unwrap();
        assert!(matches!(net.forward(&data), Err(ModelError::Shape { .. })));
    }

    /// E‖y − u(0)‖² = ‖y‖² + n/2 (docs/theory.md §1.3: E f = 0, E f² = 1/2, exact at every width), over
    /// 2000 seeds with the data fixed. Band: five standard errors of the seed mean (CLT), which a
    /// correct implementation leaves with probability below 10⁻⁶. The slide's ‖y‖² + n must fall
    /// outside the same band.
    #[test]
    fn expected_initial_residual_is_y_squared_plus_half_n() {
        let (n, d, m, seeds) = (8usize, 6usize, 50usize, 2000u64);
        let data = Dataset::sphere(n, d, 5, 0).unwrap();
        let y2 = data.y().squared_norm_l2();
        let excess: Vec<f64> = (0..seeds)
            .map(|t| {
                let net = Network::init(m, d, 77, t).unwrap();
                let u = net.forward(&data).unwrap().u;
                (data.y() - u).squared_norm_l2() - y2
            })
            .collect();
        let s = seeds as f64;
        let mean = excess.iter().sum::<f64>() / s;
        let var = excess.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (s - 1.0);
        let band = 5.0 * (var / s).sqrt();
        let half_n = n as f64 / 2.0;
        assert!((mean - half_n).abs() < band, "mean {mean}, expected {half_n} ± {band}");
        assert!((mean - n as f64).abs() > band, "mean {mean} cannot tell n/2 from n (band {band})");
    }
}
