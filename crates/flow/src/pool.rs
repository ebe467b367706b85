//! Reusable matrix buffers for a vector field, so that a long run allocates its buffers once.
//!
//! The RK4 driver hands every state it no longer needs back through
//! [`crate::VectorField::recycle`] and asks for copies through
//! [`crate::VectorField::duplicate`]. A field that keeps a [`MatPool`] serves both from it: a run
//! of thousands of steps then reuses a handful of n × m buffers instead of allocating, zeroing and
//! freeing a fresh one per stage (which the allocator returns to the kernel, so every page faults
//! again). Values are unaffected: a taken buffer is always overwritten before it is read.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use faer::Mat;

/// Most spare buffers a pool keeps (the rest are freed).
const SPARE: usize = 16;

/// Spare `rows × cols` matrices whose contents are unspecified until overwritten.
#[derive(Debug)]
pub struct MatPool {
    rows: usize,
    cols: usize,
    spare: Mutex<Vec<Mat<f64>>>,
    fresh: AtomicUsize,
}

impl MatPool {
    /// An empty pool of `rows × cols` buffers.
    pub fn new(rows: usize, cols: usize) -> Self {
        MatPool { rows, cols, spare: Mutex::new(Vec::new()), fresh: AtomicUsize::new(0) }
    }

    /// A `rows × cols` buffer the caller overwrites entirely (a spare one, or a fresh zero one).
    pub fn take(&self) -> Mat<f64> {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
        spare.unwrap_or_else(|| {
            self.fresh.fetch_add(1, Ordering::Relaxed);
            Mat::zeros(self.rows, self.cols)
        })
    }

    /// How many buffers the pool has allocated so far (not served from its spares).
    pub fn allocated(&self) -> usize {
        self.fresh.load(Ordering::Relaxed)
    }

    /// A buffer holding a copy of `x` (of the pool's shape).
    pub fn copy_of(&self, x: &Mat<f64>) -> Mat<f64> {
        let mut m = self.take();
        m.copy_from(x);
        m
    }

    /// Takes back a buffer; one of another shape, or beyond the spare limit, is freed.
    pub fn give(&self, m: Mat<f64>) {
        if (m.nrows(), m.ncols()) == (self.rows, self.cols) {
            let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
            if spare.len() < SPARE {
                spare.push(m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_is_taken_again_and_a_foreign_one_is_not() {
        let pool = MatPool::new(3, 2);
        let m = pool.take();
        let address = m.as_ptr();
        pool.give(m);
        assert_eq!(pool.take().as_ptr(), address, "the spare buffer is reused");
        assert_eq!(pool.allocated(), 1);
        pool.give(Mat::zeros(2, 3));
        assert_eq!(pool.spare.lock().unwrap().len(), 0, "a buffer of another shape is not kept"); // test: no other thread
        let x = Mat::from_fn(3, 2, |i, j| (i * 2 + j) as f64);
        assert_eq!(pool.copy_of(&x), x);
    }

    #[test]
    fn the_pool_keeps_at_most_its_spare_limit() {
        let pool = MatPool::new(1, 1);
        for _ in 0..SPARE + 5 {
            pool.give(Mat::zeros(1, 1));
        }
        assert_eq!(pool.spare.lock().unwrap().len(), SPARE); // test: no other thread holds the lock
    }
}
