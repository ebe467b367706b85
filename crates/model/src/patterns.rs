//! Activation patterns s_ir = 1{w_rᵀx_i ≥ 0} packed in bits, pattern-change fraction, and distances to init.

use faer::MatRef;
use rayon::prelude::*;

/// Rows of the pattern matrix handled by one parallel task when packing.
const ROW_CHUNK: usize = 16;

/// The n × m pattern matrix S, s_ir = 1{Z_ir ≥ 0}, packed 64 neurons to a word, row-major.
///
/// Bits past m in each row's last word are zero, so popcounts need no masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternBits {
    n: usize,
    m: usize,
    words: usize,
    bits: Vec<u64>,
}

impl PatternBits {
    /// Packs the signs of the pre-activations Z (n × m).
    pub fn from_preactivations(z: MatRef<'_, f64>) -> Self {
        let (n, m) = (z.nrows(), z.ncols());
        let words = m.div_ceil(64);
        let mut bits = vec![0u64; n * words];
        bits.par_chunks_mut(ROW_CHUNK * words.max(1)).enumerate().for_each(|(chunk, rows)| {
            let i0 = chunk * ROW_CHUNK;
            let rows_here = if words == 0 { 0 } else { rows.len() / words };
            for r in 0..m {
                let col = z.col(r);
                let (w, b) = (r / 64, r % 64);
                for li in 0..rows_here {
                    if col[i0 + li] >= 0.0 {
                        rows[li * words + w] |= 1u64 << b;
                    }
                }
            }
        });
        PatternBits { n, m, words, bits }
    }

    /// Number of inputs n.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Number of neurons m.
    pub fn m(&self) -> usize {
        self.m
    }
    /// s_ir.
    pub fn get(&self, i: usize, r: usize) -> bool {
        assert!(i < self.n && r < self.m, "pattern index out of range");
        self.bits[i * self.words + r / 64] >> (r % 64) & 1 == 1
    }
    fn row(&self, i: usize) -> &[u64] {
        &self.bits[i * self.words..(i + 1) * self.words]
    }

    /// (S Sᵀ)_ij = #{r : s_ir = s_jr = 1}, by AND and popcount (SPEC.md §4); row-major n × n.
    pub fn co_activation_counts(&self) -> Vec<u32> {
        let n = self.n;
        let mut counts = vec![0u32; n * n];
        counts.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, out)| {
            let ri = self.row(i);
            for (j, o) in out.iter_mut().enumerate().take(i + 1) {
                let rj = self.row(j);
                *o = ri.iter().zip(rj).map(|(a, b)| (a & b).count_ones()).sum();
            }
        });
        for i in 0..n {
            for j in i + 1..n {
                counts[i * n + j] = counts[j * n + i];
            }
        }
        counts
    }

    /// Number of (i, r) with s_ir ≠ s′_ir. Panics if the shapes differ.
    pub fn changed_count(&self, other: &PatternBits) -> u64 {
        assert_eq!((self.n, self.m), (other.n, other.m), "pattern shapes differ");
        self.bits.par_iter().zip(&other.bits).map(|(a, b)| (a ^ b).count_ones() as u64).sum()
    }
}

/// Pattern-change fraction (1/(mn)) Σ_{r,i} 1{s_ir ≠ s′_ir} (SPEC.md §1, Fig. 1(b)).
pub fn pattern_change_fraction(now: &PatternBits, init: &PatternBits) -> f64 {
    now.changed_count(init) as f64 / (now.n as f64 * now.m as f64)
}

/// Per-neuron distances ‖w_r − w_r(0)‖₂ (W is m × d).
pub fn neuron_distances(w: MatRef<'_, f64>, w0: MatRef<'_, f64>) -> Vec<f64> {
    assert_eq!((w.nrows(), w.ncols()), (w0.nrows(), w0.ncols()), "weight shapes differ");
    let mut d2 = vec![0.0f64; w.nrows()];
    for k in 0..w.ncols() {
        let (c, c0) = (w.col(k), w0.col(k));
        for (r, s) in d2.iter_mut().enumerate() {
            let v = c[r] - c0[r];
            *s += v * v;
        }
    }
    d2.into_iter().map(f64::sqrt).collect()
}

/// max_r ‖w_r − w_r(0)‖₂ (Lem 2.4's quantity, Fig. 1(c)).
pub fn max_weight_distance(w: MatRef<'_, f64>, w0: MatRef<'_, f64>) -> f64 {
    neuron_distances(w, w0).into_iter().fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn packing_counting_and_changes_match_plain_loops() {
        let (n, m) = (37, 131);
        let z = Mat::from_fn(n, m, |i, r| ((i * 7 + r * 13) % 11) as f64 - 5.0);
        let z2 = Mat::from_fn(n, m, |i, r| ((i * 5 + r * 3) % 7) as f64 - 3.0);
        let (s, s2) = (PatternBits::from_preactivations(z.as_ref()), PatternBits::from_preactivations(z2.as_ref()));
        let counts = s.co_activation_counts();
        let mut changed = 0;
        for i in 0..n {
            for r in 0..m {
                assert_eq!(s.get(i, r), z[(i, r)] >= 0.0);
                changed += (s.get(i, r) != s2.get(i, r)) as u64;
            }
            for j in 0..n {
                let direct = (0..m).filter(|&r| z[(i, r)] >= 0.0 && z[(j, r)] >= 0.0).count() as u32;
                assert_eq!(counts[i * n + j], direct);
            }
        }
        assert_eq!(s.changed_count(&s2), changed);
        assert_eq!(pattern_change_fraction(&s2, &s), changed as f64 / (n * m) as f64);
    }

    #[test]
    fn distances_to_init() {
        let w0 = Mat::from_fn(3, 2, |r, k| (r + k) as f64);
        let mut w = w0.clone();
        w[(1, 0)] += 3.0;
        w[(1, 1)] += 4.0;
        w[(2, 1)] -= 1.0;
        assert_eq!(neuron_distances(w.as_ref(), w0.as_ref()), vec![0.0, 5.0, 1.0]);
        assert_eq!(max_weight_distance(w.as_ref(), w0.as_ref()), 5.0);
    }
}
