//! Pre-activations drawn from their law: at init the columns of Z = X Wᵀ are i.i.d. N(0, K) (docs/theory.md §4.3).
//!
//! So with K = L Lᵀ a neuron is z = L ξ, ξ ~ N(0, I_n).
//! Where only the patterns s_ir = 1{z_ir ≥ 0} (or Z itself) matter — H(0) = K ⊙ (S Sᵀ)/m of
//! slide Lem 2.2 (paper Lem 3.1), the flip certificate of Lem 2.3 — this replaces drawing W
//! (m × d normals) and a GEMM by n normals per neuron and a triangular product: when d > n it
//! draws fewer random numbers, and at d = n it still skips W and halves the product.
//!
//! It is statistically equivalent to `Network::init` followed by `X Wᵀ`, not bit-identical: the
//! numbers come from their own stream `(seed, trial, Purpose::Preactivations)`. When d < n (K is
//! singular) or K is too ill-conditioned for a Cholesky factor, the sampler draws w_r ~ N(0, I_d)
//! from that same stream and forms X Wᵀ instead; [`GaussianPreactivations::uses_cholesky`] says
//! which route is taken.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, Par};

use rayon::prelude::*;

use crate::chacha::ChaCha8Blocks;
use crate::error::require_positive;
use crate::network::ensure_fits;
use crate::par::{COLUMN_BLOCK, column_blocks_mut, matmul_par};
use crate::rng::Purpose;
use crate::{Dataset, Result};

/// Smallest pivot, relative to max K_ii = 1, accepted in the Cholesky factor of K; below it the
/// sampler keeps the X Wᵀ route.
const MIN_PIVOT: f64 = 1e-8;

/// A sampler of Z(0) for one data set: the Cholesky factor of K when d ≥ n and K is positive
/// definite, else the inputs X.
#[derive(Debug, Clone)]
pub struct GaussianPreactivations {
    n: usize,
    d: usize,
    /// L with K = L Lᵀ (lower triangular, n × n), or `None` for the X Wᵀ route.
    factor: Option<Mat<f64>>,
    x: Mat<f64>,
}

impl GaussianPreactivations {
    /// Factors K once (O(n³), sequential); later [`GaussianPreactivations::sample`] calls reuse it.
    pub fn new(data: &Dataset) -> Self {
        let (n, d) = (data.n(), data.d());
        let factor = if d >= n { cholesky_of(data) } else { None };
        GaussianPreactivations { n, d, factor, x: data.x().to_owned() }
    }

    /// Whether Z is drawn as L Ξ (true) or as X Wᵀ (false).
    pub fn uses_cholesky(&self) -> bool {
        self.factor.is_some()
    }

    /// The lower-triangular factor L of K = L Lᵀ, when the Cholesky route is taken.
    pub fn factor(&self) -> Option<faer::MatRef<'_, f64>> {
        self.factor.as_ref().map(|l| l.as_ref())
    }

    /// Z (n × m) with i.i.d. N(0, K) columns, from stream `(seed, trial, Preactivations)`.
    ///
    /// Cholesky route: neuron r takes the next n standard normals as ξ_r (neuron by neuron, so
    /// the first m′ columns of a width-m draw are the width-m′ draw), and Z = L Ξ (per column
    /// block, sequential GEMMs over row blocks of L that skip its zero upper triangle). X Wᵀ route: w_r takes the next d normals and
    /// Z = X Wᵀ. The draws are sequential, the products run on fixed column blocks: the bits do
    /// not depend on the thread count.
    pub fn sample(&self, m: usize, seed: u64, trial: u64) -> Result<Mat<f64>> {
        require_positive("m", m, "the width must be positive")?;
        ensure_fits(
            &format!("pre-activations Z ({} × {m})", self.n),
            (m as u64).saturating_mul(self.n.max(self.d) as u64).saturating_mul(8),
        )?;
        let mut z = Mat::<f64>::zeros(self.n, m);
        self.sample_into(z.as_mut(), seed, trial);
        Ok(z)
    }

    /// As [`GaussianPreactivations::sample`], into `z`, which is reshaped to n × m only when its
    /// shape differs: a Monte Carlo loop that keeps one buffer per thread draws every seed into the
    /// same pages instead of allocating (and faulting in) a fresh n × m matrix per seed. The same
    /// checks as `sample`, and the same bits.
    pub fn sample_reusing(&self, z: &mut Mat<f64>, m: usize, seed: u64, trial: u64) -> Result<()> {
        if (z.nrows(), z.ncols()) != (self.n, m) {
            *z = Mat::zeros(0, 0);
            *z = self.sample(m, seed, trial)?;
        } else {
            self.sample_into(z.as_mut(), seed, trial);
        }
        Ok(())
    }

    /// As [`GaussianPreactivations::sample`], into a caller's n × m matrix (so that a Monte
    /// Carlo loop can reuse one buffer per thread and skip fresh pages). Panics if `z` does not
    /// have n rows or has no column.
    pub fn sample_into(&self, mut z: MatMut<'_, f64>, seed: u64, trial: u64) {
        assert_eq!(z.nrows(), self.n, "sample_into: Z must have n rows");
        assert!(z.ncols() > 0, "sample_into: the width must be positive");
        let mut rng = ChaCha8Blocks::new(seed, trial, Purpose::Preactivations);
        match &self.factor {
            Some(l) => {
                // Ξ goes straight into Z (column r = ξ_r, in draw order); then Z ← L Z per column
                // block, through a per-thread scratch block.
                for r in 0..z.ncols() {
                    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is contiguous.
                    let col = z.as_mut().col_mut(r).try_as_col_major_mut().expect("contiguous columns").as_slice_mut();
                    rng.fill_standard_normals(col);
                }
                column_blocks_mut(z).into_par_iter().for_each(|(_, mut block)| {
                    SCRATCH.with_borrow_mut(|scratch| lower_times_in_place(l.as_ref(), block.as_mut(), scratch))
                });
            }
            None => {
                let m = z.ncols();
                let mut wt = Mat::<f64>::zeros(self.d, m);
                for r in 0..m {
                    // Owned faer Mat/Col (and column blocks of one) have unit row stride: each column is contiguous.
                    let col = wt.col_mut(r).try_as_col_major_mut().expect("contiguous columns").as_slice_mut();
                    rng.fill_standard_normals(col);
                }
                matmul_par(z, Accum::Replace, self.x.as_ref(), wt.as_ref(), 1.0);
            }
        }
    }
}

/// Rows of L per GEMM in [`lower_times_in_place`].
const TRIANGLE_ROWS: usize = 32;

/// B ← L B for lower-triangular L (n × n) and a column block B (n × w): row block [r0, r1) of the
/// result is L[r0..r1, 0..r1] · B[0..r1] (the zero upper triangle is skipped), computed from the
/// last row block up so that each product reads rows of B not yet overwritten; one sequential
/// GEMM per row block, through `scratch`.
fn lower_times_in_place(l: faer::MatRef<'_, f64>, mut b: MatMut<'_, f64>, scratch: &mut Mat<f64>) {
    let (n, w) = (b.nrows(), b.ncols());
    if scratch.nrows() < TRIANGLE_ROWS.min(n) || scratch.ncols() < w {
        *scratch = Mat::zeros(TRIANGLE_ROWS.min(n), COLUMN_BLOCK.max(w));
    }
    let starts: Vec<usize> = (0..n).step_by(TRIANGLE_ROWS).collect();
    for &r0 in starts.iter().rev() {
        let r1 = (r0 + TRIANGLE_ROWS).min(n);
        let mut tmp = scratch.as_mut().submatrix_mut(0, 0, r1 - r0, w);
        matmul(tmp.as_mut(), Accum::Replace, l.submatrix(r0, 0, r1 - r0, r1), b.as_ref().subrows(0, r1), 1.0, Par::Seq);
        b.as_mut().subrows_mut(r0, r1 - r0).copy_from(tmp.as_ref());
    }
}

thread_local! {
    /// Per-thread scratch block of the in-place product Z ← L Z.
    static SCRATCH: std::cell::RefCell<Mat<f64>> = std::cell::RefCell::new(Mat::zeros(0, 0));
}

/// L with K = L Lᵀ, if every pivot is at least [`MIN_PIVOT`] (sequential faer Cholesky).
fn cholesky_of(data: &Dataset) -> Option<Mat<f64>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::cholesky::llt;
    let n = data.n();
    let k = data.input_gram();
    let mut l = Mat::from_fn(n, n, |i, j| if i >= j { k[(i, j)] } else { 0.0 });
    let mut mem = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(n, Par::Seq, Default::default()));
    llt::factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    // faer leaves work in the strict upper triangle: L is the lower one.
    for j in 1..n {
        for i in 0..j {
            l[(i, j)] = 0.0;
        }
    }
    let min_pivot = (0..n).map(|i| l[(i, i)] * l[(i, i)]).fold(f64::INFINITY, f64::min);
    (min_pivot >= MIN_PIVOT).then_some(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use crate::{PatternBits, gram_h_from_patterns, h_infinity, spectral_norm_symmetric};
    use rand_distr::{Distribution, StandardNormal};

    /// The Cholesky route is exactly L ξ for the stream's normals (checked by a plain loop), and
    /// nested in the width; the X Wᵀ route is X w for the same stream's d normals per neuron.
    #[test]
    fn sampled_columns_are_the_factor_times_the_stream() {
        let data = Dataset::sphere(9, 12, 3, 0).unwrap();
        let s = GaussianPreactivations::new(&data);
        assert!(s.uses_cholesky());
        let l = s.factor().unwrap();
        let k = data.input_gram();
        for i in 0..9 {
            for j in 0..9 {
                let llt: f64 = (0..9).map(|t| l[(i, t)] * l[(j, t)]).sum();
                assert!((llt - k[(i, j)]).abs() < 1e-14, "({i}, {j}): {llt} vs {}", k[(i, j)]);
            }
        }
        let z = s.sample(300, 5, 2).unwrap();
        let mut rng = stream(5, 2, Purpose::Preactivations);
        for r in 0..300 {
            let xi: Vec<f64> = (0..9).map(|_| StandardNormal.sample(&mut rng)).collect();
            for i in 0..9 {
                let direct: f64 = (0..=i).map(|t| l[(i, t)] * xi[t]).sum();
                assert!((z[(i, r)] - direct).abs() <= 1e-13, "{} vs {direct}", z[(i, r)]);
            }
        }
        assert_eq!(s.sample(120, 5, 2).unwrap().as_ref(), z.as_ref().subcols(0, 120));
        // d < n: the X Wᵀ route.
        let data = Dataset::sphere(12, 5, 3, 0).unwrap();
        let s = GaussianPreactivations::new(&data);
        assert!(!s.uses_cholesky());
        let z = s.sample(40, 5, 2).unwrap();
        let mut rng = stream(5, 2, Purpose::Preactivations);
        for r in 0..40 {
            let w: Vec<f64> = (0..5).map(|_| StandardNormal.sample(&mut rng)).collect();
            for i in 0..12 {
                let direct: f64 = (0..5).map(|t| data.x()[(i, t)] * w[t]).sum();
                assert!((z[(i, r)] - direct).abs() <= 1e-13);
            }
        }
    }

    /// The law: (1/m) Z Zᵀ → K entrywise (band: six standard deviations of a mean of m products,
    /// sd ≤ √((1 + K_ij²)/m)), and the mean over seeds of ‖H(0) − H∞‖₂ matches the one from
    /// `Network::init` + X Wᵀ within five combined standard errors.
    #[test]
    fn sampled_preactivations_have_the_law_of_x_w_transpose() {
        let data = Dataset::sphere(12, 16, 1, 0).unwrap();
        let s = GaussianPreactivations::new(&data);
        let m = 40_000;
        let z = s.sample(m, 9, 0).unwrap();
        let k = data.input_gram();
        let zzt = &z * z.transpose() / m as f64;
        for i in 0..12 {
            for j in 0..12 {
                let band = 6.0 * ((1.0 + k[(i, j)] * k[(i, j)]) / m as f64).sqrt();
                assert!((zzt[(i, j)] - k[(i, j)]).abs() < band, "({i}, {j}): {} vs {}", zzt[(i, j)], k[(i, j)]);
            }
        }
        let hinf = h_infinity(k);
        let spectral = |z: &Mat<f64>| {
            let h = gram_h_from_patterns(k, &PatternBits::from_preactivations(z.as_ref()));
            spectral_norm_symmetric((&h - &hinf).as_ref()).unwrap()
        };
        let (m, seeds) = (200, 400u64);
        let a: Vec<f64> = (0..seeds).map(|t| spectral(&s.sample(m, 4, t).unwrap())).collect();
        let b: Vec<f64> = (0..seeds)
            .map(|t| {
                let net = crate::Network::init(m, 16, 4, t).unwrap();
                spectral(&crate::network::preactivations(data.x(), net.w.as_ref()))
            })
            .collect();
        let stats = |v: &[f64]| {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            (mean, v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / ((v.len() - 1) * v.len()) as f64)
        };
        let ((ma, va), (mb, vb)) = (stats(&a), stats(&b));
        let zscore = (ma - mb) / (va + vb).sqrt();
        assert!(zscore.abs() < 5.0, "means {ma} and {mb} differ by {zscore} standard errors");
    }

    /// The same bits on one thread and on two (fixed column blocks, sequential draws).
    #[test]
    fn same_bits_on_one_and_two_threads() {
        let data = Dataset::sphere(70, 80, 2, 0).unwrap();
        let s = GaussianPreactivations::new(&data);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| s.sample(1000, 3, 4).unwrap())
        };
        assert_eq!(on(1), on(2));
    }

    /// Drawing into a reused buffer gives the bits of a fresh draw, reshapes a buffer of another
    /// width, keeps the pages of one of the right width, and refuses a zero width as `sample` does.
    #[test]
    fn a_reused_buffer_holds_the_bits_of_a_fresh_draw() {
        // Test: fixed, valid sizes and widths; each unwrap fails only as the test fails.
        let data = Dataset::sphere(6, 8, 2, 0).unwrap(); // test: valid sizes
        let s = GaussianPreactivations::new(&data);
        let mut z = Mat::zeros(0, 0);
        s.sample_reusing(&mut z, 30, 1, 2).unwrap(); // test: valid width
        assert_eq!(z, s.sample(30, 1, 2).unwrap()); // test: valid width
        let address = z.as_ptr();
        s.sample_reusing(&mut z, 30, 1, 3).unwrap(); // test: valid width
        assert_eq!(z.as_ptr(), address, "the same width draws into the same pages");
        assert_eq!(z, s.sample(30, 1, 3).unwrap()); // test: valid width
        s.sample_reusing(&mut z, 12, 1, 3).unwrap(); // test: valid width
        assert_eq!(z, s.sample(12, 1, 3).unwrap()); // test: valid width
        assert!(s.sample_reusing(&mut z, 0, 1, 3).is_err());
    }
}
