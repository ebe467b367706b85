//! Bit kernels behind [`crate::PatternBits`]: sign packing, S Sᵀ by AND + popcount, and XOR counts.
//!
//! They use runtime CPU dispatch.
//! Every kernel has one portable body; the dispatcher only decides which instruction set the
//! compiler may use for it (`avx512vpopcntdq` for a vector popcount, `popcnt` + `avx2` otherwise,
//! plain x86-64 or any other target last). The results are integers or bit patterns, so every
//! path gives exactly the same answer; the tests run each path the machine supports.

pub(crate) use crate::simd::Isa;

/// Rows (inputs i) of the counts matrix handled together by one tile of [`co_activation_counts`].
const TILE_I: usize = 2;
/// Columns (inputs j) of the counts matrix handled together by one tile (one AVX-512 register per 8).
const TILE_J: usize = 64;
/// Rows of the output handled by one parallel task of [`co_activation_counts`].
const TASK_ROWS: usize = 16;

/// Defines `$name(isa, args…)`, which runs `$body(args…)` compiled for the instruction set `isa`.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $body:ident) => {
        $(#[$meta])*
        $vis fn $name(isa: Isa, $($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,popcnt")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma,popcnt")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                match isa {
                    // SAFETY: `Isa::Avx512` is only made by `Isa::detect` (or the tests' list) after
                    // `is_x86_feature_detected!` confirmed the features enabled above.
                    Isa::Avx512 => unsafe { avx512($($arg),*) },
                    // SAFETY: as above, for `avx2`, `fma` and `popcnt`.
                    Isa::Avx2 => unsafe { avx2($($arg),*) },
                    Isa::Portable => $body($($arg),*),
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = isa;
                $body($($arg),*)
            }
        }
    };
}

multiversion! {
    /// ORs bit `bit` of `out[i]` with 1{col[i] ≥ 0} for every i (a NaN gives 0).
    pub(crate) fn pack_signs(col: &[f64], bit: u32, out: &mut [u64]) => pack_signs_body
}

#[inline(always)]
fn pack_signs_body(col: &[f64], bit: u32, out: &mut [u64]) {
    for (o, &v) in out.iter_mut().zip(col) {
        *o |= ((v >= 0.0) as u64) << bit;
    }
}

multiversion! {
    /// Σ popcount(a_k ⊕ b_k).
    pub(crate) fn xor_count(a: &[u64], b: &[u64]) -> u64 => xor_count_body
}

#[inline(always)]
fn xor_count_body(a: &[u64], b: &[u64]) -> u64 {
    assert_eq!(a.len(), b.len(), "xor_count: lengths differ");
    let mut acc = [0u64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += (x[l] ^ y[l]).count_ones() as u64;
        }
    }
    let tail: u64 = ra.iter().zip(rb).map(|(x, y)| (x ^ y).count_ones() as u64).sum();
    acc.iter().sum::<u64>() + tail
}

/// Lower-triangle tile of S Sᵀ: for i in `i0..i0 + ti` and j in `j0..j0 + tj` (j ≤ i only is used
/// by the caller), `out[(i − i0) · n + j] = Σ_w popcount(B[w·n + i] & B[w·n + j])`, with the
/// word-major layout B[w·n + i] of [`crate::PatternBits`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn counts_tile(bits: &[u64], n: usize, words: usize, i0: usize, ti: usize, j0: usize, tj: usize, out: &mut [u32]) {
    debug_assert!(ti <= TILE_I && tj <= TILE_J);
    let mut acc = [[0u64; TILE_J]; TILE_I];
    if ti == TILE_I && tj == TILE_J {
        for w in 0..words {
            let row = &bits[w * n..(w + 1) * n];
            // Inside the ti == TILE_I && tj == TILE_J branch: the slice has exactly TILE_J words.
            let bj: &[u64; TILE_J] = row[j0..j0 + TILE_J].try_into().expect("full tile");
            for (ii, acc_i) in acc.iter_mut().enumerate() {
                let bi = row[i0 + ii];
                for (a, &b) in acc_i.iter_mut().zip(bj) {
                    *a += (bi & b).count_ones() as u64;
                }
            }
        }
    } else {
        for w in 0..words {
            let row = &bits[w * n..(w + 1) * n];
            for (ii, acc_i) in acc.iter_mut().enumerate().take(ti) {
                let bi = row[i0 + ii];
                for (a, &b) in acc_i.iter_mut().zip(&row[j0..j0 + tj]) {
                    *a += (bi & b).count_ones() as u64;
                }
            }
        }
    }
    for (ii, acc_i) in acc.iter().enumerate().take(ti) {
        for (jj, &a) in acc_i.iter().enumerate().take(tj) {
            out[ii * n + j0 + jj] = a as u32;
        }
    }
}

multiversion! {
    /// (S Sᵀ)_ij for a row block `i0..i0 + rows` of the output (row-major, `out` is rows × n), lower
    /// triangle j ≤ i only.
    pub(crate) fn counts_rows(bits: &[u64], n: usize, words: usize, i0: usize, rows: usize, out: &mut [u32]) => counts_rows_body
}

#[inline(always)]
fn counts_rows_body(bits: &[u64], n: usize, words: usize, i0: usize, rows: usize, out: &mut [u32]) {
    let mut ii = 0;
    while ii < rows {
        let ti = TILE_I.min(rows - ii);
        let i_last = i0 + ii + ti - 1;
        let mut j0 = 0;
        while j0 <= i_last {
            let tj = TILE_J.min(n - j0);
            counts_tile(bits, n, words, i0 + ii, ti, j0, tj, &mut out[ii * n..]);
            j0 += tj;
        }
        ii += ti;
    }
}

/// Rows of the output per parallel task of the S Sᵀ kernel.
pub(crate) const fn task_rows() -> usize {
    TASK_ROWS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible bit pattern without a generator: a multiplicative hash of the index.
    fn word(k: usize) -> u64 {
        (k as u64 ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9).rotate_left(17)
    }

    /// Every supported instruction set gives the plain loops' answers, on sizes with ragged tails.
    #[test]
    fn every_instruction_set_matches_plain_loops() {
        for isa in Isa::all_supported() {
            for (n, words) in [(1usize, 1usize), (7, 3), (65, 2), (130, 5), (203, 9)] {
                let bits: Vec<u64> = (0..n * words).map(word).collect();
                let mut out = vec![0u32; n * n];
                for i0 in (0..n).step_by(task_rows()) {
                    let rows = task_rows().min(n - i0);
                    counts_rows(isa, &bits, n, words, i0, rows, &mut out[i0 * n..(i0 + rows) * n]);
                }
                for i in 0..n {
                    for j in 0..=i {
                        let direct: u32 = (0..words).map(|w| (bits[w * n + i] & bits[w * n + j]).count_ones()).sum();
                        assert_eq!(out[i * n + j], direct, "{isa:?} n={n} ({i}, {j})");
                    }
                }
                let other: Vec<u64> = (0..n * words).map(|k| word(k + 11)).collect();
                let direct: u64 = bits.iter().zip(&other).map(|(a, b)| (a ^ b).count_ones() as u64).sum();
                assert_eq!(xor_count(isa, &bits, &other), direct, "{isa:?}");
            }
            let col: Vec<f64> = (0..37).map(|i| [-1.0, 0.0, -0.0, 2.5, f64::NAN, -1e-300][i % 6]).collect();
            let mut out = vec![1u64; 37];
            pack_signs(isa, &col, 63, &mut out);
            for (i, &v) in col.iter().enumerate() {
                assert_eq!(out[i], 1 | (((v >= 0.0) as u64) << 63), "{isa:?} {v}");
            }
        }
    }
}
