//! Deterministic parallel kernels: fixed column blocks, sequential faer GEMMs inside each block.
//!
//! The block boundaries are constants, so the floating-point operations and their order are the
//! same on 1 thread and on N: only the schedule changes.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Columns per block in [`matmul_par`] and in the neuron-blocked kernels of this crate.
pub const COLUMN_BLOCK: usize = 256;

/// Work rows·inner·columns (half the flops of one GEMM) from which the blocks of a kernel run in
/// parallel; below it one thread does all blocks, which avoids rayon's wake-ups on small
/// problems (a weight-space flow at n = 40, d = 25, m = 300 spent 1 s of wall time for 0.33 s of
/// CPU in futex calls). Chosen by measurement with `cargo bench -p flow --bench step --
/// flow_step_threads` (ARCHITECTURE.md, "Threads on small problems"). The blocks are the same
/// either way, so are the bits.
pub const PARALLEL_WORK: usize = 1 << 22;

/// Whether kernels on rows × columns arrays with inner dimension `inner` run their blocks in parallel.
pub fn parallel_for(rows: usize, columns: usize, inner: usize) -> bool {
    columns > COLUMN_BLOCK && rows.saturating_mul(inner).saturating_mul(columns) >= PARALLEL_WORK
}

/// `dst ← alpha · lhs · rhs` (or `dst += …` with [`Accum::Add`]), with the columns of `dst` cut
/// into blocks of [`COLUMN_BLOCK`] that run in parallel, each as one sequential faer GEMM.
pub fn matmul_par(dst: MatMut<'_, f64>, accum: Accum, lhs: MatRef<'_, f64>, rhs: MatRef<'_, f64>, alpha: f64) {
    assert_eq!(dst.nrows(), lhs.nrows(), "matmul_par: rows of dst and lhs");
    assert_eq!(dst.ncols(), rhs.ncols(), "matmul_par: columns of dst and rhs");
    assert_eq!(lhs.ncols(), rhs.nrows(), "matmul_par: inner dimensions");
    let parallel = parallel_for(dst.nrows(), dst.ncols(), lhs.ncols());
    let blocks = column_blocks_mut(dst);
    let run = |(start, block): (usize, MatMut<'_, f64>)| {
        let width = block.ncols();
        matmul(block, accum, lhs, rhs.subcols(start, width), alpha, Par::Seq);
    };
    if parallel { blocks.into_par_iter().for_each(run) } else { blocks.into_iter().for_each(run) }
}

/// Splits `m` into `(start, block)` pairs of at most [`COLUMN_BLOCK`] columns.
pub fn column_blocks_mut(mut m: MatMut<'_, f64>) -> Vec<(usize, MatMut<'_, f64>)> {
    let mut out = Vec::with_capacity(m.ncols().div_ceil(COLUMN_BLOCK));
    let mut start = 0;
    while m.ncols() > 0 {
        let w = COLUMN_BLOCK.min(m.ncols());
        let (left, right) = m.split_at_col_mut(w);
        out.push((start, left));
        start += w;
        m = right;
    }
    out
}

/// Column block ranges `(start, width)` covering `0..ncols`.
pub fn column_ranges(ncols: usize) -> impl IndexedParallelIterator<Item = (usize, usize)> {
    (0..ncols.div_ceil(COLUMN_BLOCK)).into_par_iter().map(move |b| column_span(ncols, b))
}

/// The same ranges as [`column_ranges`], in order on the calling thread.
pub fn column_spans(ncols: usize) -> Vec<(usize, usize)> {
    (0..ncols.div_ceil(COLUMN_BLOCK)).map(|b| column_span(ncols, b)).collect()
}

/// Block b of `0..ncols`: its start and width.
fn column_span(ncols: usize, b: usize) -> (usize, usize) {
    (b * COLUMN_BLOCK, COLUMN_BLOCK.min(ncols - b * COLUMN_BLOCK))
}
