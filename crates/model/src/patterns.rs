//! Activation patterns s_ir = 1{w_rᵀx_i ≥ 0} packed in bits, pattern-change fraction, and distances to init.

use faer::MatRef;
use rayon::prelude::*;

use crate::bitcount::{self, Isa};

/// The n × m pattern matrix S, s_ir = 1{Z_ir ≥ 0}, packed 64 neurons to a word.
///
/// Layout (word-major): word `w·n + i` holds neurons 64w … 64w + 63 on input i, neuron 64w + b in
/// bit b. So a block of 64 neurons is one contiguous run of n words, and a kernel that owns a
/// column block of Z (a multiple of 64 neurons) owns a contiguous slice of the bits. Bits past m
/// in the last word are zero, so popcounts need no masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternBits {
    n: usize,
    m: usize,
    words: usize,
    bits: Vec<u64>,
}

/// Words of a packed pattern column block: the number of 64-neuron words covering m neurons.
pub fn pattern_words(m: usize) -> usize {
    m.div_ceil(64)
}

impl PatternBits {
    /// Packs the signs of the pre-activations Z (n × m), 64 neurons per parallel task.
    pub fn from_preactivations(z: MatRef<'_, f64>) -> Self {
        let (n, m) = (z.nrows(), z.ncols());
        let words = pattern_words(m);
        let mut bits = vec![0u64; n * words];
        if n > 0 {
            let isa = Isa::detect();
            bits.par_chunks_mut(n).enumerate().for_each(|(w, out)| pack_word_column(isa, z, 64 * w, out));
        }
        PatternBits { n, m, words, bits }
    }

    /// Takes already packed bits in the word-major layout of [`PatternBits`] (length
    /// n · ⌈m/64⌉). Panics on a wrong length or a set bit past m.
    pub fn from_word_major(n: usize, m: usize, bits: Vec<u64>) -> Self {
        let words = pattern_words(m);
        assert_eq!(bits.len(), n * words, "from_word_major: expected n·⌈m/64⌉ words");
        if !m.is_multiple_of(64) && words > 0 {
            let mask = !0u64 << (m % 64);
            assert!(bits[(words - 1) * n..].iter().all(|w| w & mask == 0), "from_word_major: bits set past m");
        }
        PatternBits { n, m, words, bits }
    }

    /// The packed words, in the word-major layout described on [`PatternBits`].
    pub fn word_major(&self) -> &[u64] {
        &self.bits
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
        self.bits[(r / 64) * self.n + i] >> (r % 64) & 1 == 1
    }

    /// (S Sᵀ)_ij = #{r : s_ir = s_jr = 1}, by AND and popcount (docs/theory.md §4.2); row-major n × n.
    ///
    /// Tiles of the lower triangle run in parallel (rows in fixed groups); the counts are exact
    /// integers, so neither the schedule nor the instruction set can change them.
    pub fn co_activation_counts(&self) -> Vec<u32> {
        let n = self.n;
        let mut counts = vec![0u32; n * n];
        if n == 0 {
            return counts;
        }
        let isa = Isa::detect();
        let rows = bitcount::task_rows();
        counts.par_chunks_mut(rows * n).enumerate().for_each(|(t, out)| {
            let i0 = t * rows;
            bitcount::counts_rows(isa, &self.bits, n, self.words, i0, out.len() / n, out);
        });
        for i in 0..n {
            for j in i + 1..n {
                counts[i * n + j] = counts[j * n + i];
            }
        }
        counts
    }

    /// Brings `counts` = (S Sᵀ) of these patterns (row-major n × n, as [`Self::co_activation_counts`]
    /// gives) to the counts of `new`, touching only the pairs of a changed entry: a flip of s_ir
    /// changes (S Sᵀ)_ij by s′_ir s′_jr − s_ir s_jr for every j, so the work is O(n) per flipped
    /// entry instead of O(n² m / 64) for a recount. When more than n·⌈m/64⌉/64 entries flipped (where
    /// the two costs meet on a 2-core AVX-512 machine at n = 1000, m = 10⁴), the
    /// counts are recounted from `new` instead. Exact integers either way: the result is the
    /// recount's, bit for bit. Panics if the shapes differ or `counts` is not n².
    pub fn update_co_activation_counts(&self, new: &PatternBits, counts: &mut Vec<u32>) {
        self.update_counts_up_to(new, counts, (self.n * self.words / 64) as u64);
    }

    /// [`Self::update_co_activation_counts`] with the flip count past which it recounts.
    fn update_counts_up_to(&self, new: &PatternBits, counts: &mut Vec<u32>, recount_above: u64) {
        assert_eq!((self.n, self.m), (new.n, new.m), "pattern shapes differ");
        let n = self.n;
        assert_eq!(counts.len(), n * n, "counts must be n × n");
        let flipped = self.changed_count(new);
        if flipped == 0 {
            return;
        }
        if flipped > recount_above {
            *counts = new.co_activation_counts();
            return;
        }
        for w in 0..self.words {
            let (old_w, new_w) = (&self.bits[w * n..(w + 1) * n], &new.bits[w * n..(w + 1) * n]);
            let mut neurons = old_w.iter().zip(new_w).fold(0u64, |acc, (a, b)| acc | (a ^ b));
            while neurons != 0 {
                let b = neurons.trailing_zeros();
                neurons &= neurons - 1;
                let bit = |word: u64| ((word >> b) & 1) as i64;
                for i in 0..n {
                    if bit(old_w[i] ^ new_w[i]) == 0 {
                        continue;
                    }
                    let (oi, ni) = (bit(old_w[i]), bit(new_w[i]));
                    for j in 0..n {
                        let (oj, nj) = (bit(old_w[j]), bit(new_w[j]));
                        let d = ni * nj - oi * oj;
                        if d == 0 {
                            continue;
                        }
                        counts[i * n + j] = (counts[i * n + j] as i64 + d) as u32;
                        // A pair with both entries flipped is met again from j's side.
                        if oj == nj {
                            counts[j * n + i] = (counts[j * n + i] as i64 + d) as u32;
                        }
                    }
                }
            }
        }
    }

    /// Number of (i, r) with s_ir ≠ s′_ir. Panics if the shapes differ.
    pub fn changed_count(&self, other: &PatternBits) -> u64 {
        assert_eq!((self.n, self.m), (other.n, other.m), "pattern shapes differ");
        let isa = Isa::detect();
        let chunk = 1 << 14;
        self.bits.par_chunks(chunk).zip(other.bits.par_chunks(chunk)).map(|(a, b)| bitcount::xor_count(isa, a, b)).sum()
    }
}

/// ORs the patterns of neurons `r0 .. r0 + 64` (those below m) of Z into `out` (n words, neuron
/// r0 + b in bit b); `out` starts zeroed.
fn pack_word_column(isa: Isa, z: MatRef<'_, f64>, r0: usize, out: &mut [u64]) {
    let m = z.ncols();
    for r in r0..(r0 + 64).min(m) {
        let bit = (r - r0) as u32;
        match z.col(r).try_as_col_major() {
            Some(col) => bitcount::pack_signs(isa, col.as_slice(), bit, out),
            None => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o |= ((z[(i, r)] >= 0.0) as u64) << bit;
                }
            }
        }
    }
}

/// ORs 1{z_i ≥ 0} into bit `bit` of `out[i]` (a NaN gives 0): the packing step of
/// [`PatternBits`] for one neuron, for kernels that build the word-major bits themselves (see
/// [`PatternBits::from_word_major`]).
pub fn pack_column_signs(z: &[f64], bit: u32, out: &mut [u64]) {
    assert!(bit < 64, "pack_column_signs: bit {bit} out of range");
    assert_eq!(z.len(), out.len(), "pack_column_signs: lengths differ");
    bitcount::pack_signs(Isa::detect(), z, bit, out)
}

/// Pattern-change fraction (1/(mn)) Σ_{r,i} 1{s_ir ≠ s′_ir} (docs/theory.md §1.1, Fig. 1(b)).
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

    /// Counts kept through a sequence of pattern changes (single flips, a pair of flips in one
    /// neuron, a diagonal entry, many flips that take the recount) equal a recount each time; a
    /// planted error in the kept counts is not hidden by the next update.
    #[test]
    fn updated_co_activation_counts_equal_a_recount() {
        let (n, m) = (19, 200);
        let z0 = Mat::from_fn(n, m, |i, r| ((i * 7 + r * 13) % 11) as f64 - 5.0);
        let mut z = z0.clone();
        let mut old = PatternBits::from_preactivations(z.as_ref());
        let mut counts = old.co_activation_counts();
        let changes: Vec<Vec<(usize, usize)>> = vec![
            vec![(3, 5)],
            vec![(0, 70), (18, 70)],
            vec![(4, 4), (4, 199), (11, 64)],
            (0..n).flat_map(|i| (0..m).filter(move |r| (i + r) % 3 == 0).map(move |r| (i, r))).collect(),
            vec![(7, 130)],
        ];
        for limit in [u64::MAX, 0] {
            for (step, flips) in changes.iter().enumerate() {
                for &(i, r) in flips {
                    z[(i, r)] = -z[(i, r)] - 0.5;
                }
                let new = PatternBits::from_preactivations(z.as_ref());
                old.update_counts_up_to(&new, &mut counts, limit);
                assert_eq!(counts, new.co_activation_counts(), "change {step}, recount above {limit}");
                old = new;
            }
        }
        let new = PatternBits::from_preactivations(z0.as_ref());
        old.update_co_activation_counts(&new, &mut counts);
        assert_eq!(counts, new.co_activation_counts(), "back to the start in one update");
        old = new;
        z = z0.clone();
        counts[5] += 1;
        z[(2, 3)] = -z[(2, 3)] - 0.5;
        let new = PatternBits::from_preactivations(z.as_ref());
        old.update_counts_up_to(&new, &mut counts, u64::MAX);
        assert_ne!(counts, new.co_activation_counts(), "an update only adds the flips' changes");
    }

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
