//! The seeded minibatch sampler of SGD: b distinct indices of n per step, and the unbiased masked residual.

use faer::{ColMut, ColRef};
use model::Purpose;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Draws b distinct indices out of n per step from `stream(seed, trial, Purpose::Minibatch)`.
///
/// A partial Fisher–Yates shuffle of a persistent permutation: step t swaps position i with a
/// uniform j ∈ [i, n) for i < b, so the first b entries are a uniform ordered b-subset whatever
/// the permutation was before. O(b) per step, portable (u64 draws).
#[derive(Debug, Clone)]
pub(crate) struct MinibatchSampler {
    rng: ChaCha8Rng,
    order: Vec<usize>,
    batch_size: usize,
    /// n/b, the factor that makes the minibatch gradient unbiased (exactly 1 when b = n).
    scale: f64,
}

impl MinibatchSampler {
    /// Callers have checked 1 ≤ b ≤ n.
    pub(crate) fn new(n: usize, batch_size: usize, seed: u64, trial: u64) -> Self {
        MinibatchSampler {
            rng: model::stream(seed, trial, Purpose::Minibatch),
            order: (0..n).collect(),
            batch_size,
            scale: n as f64 / batch_size as f64,
        }
    }

    fn draw(&mut self) {
        let n = self.order.len() as u64;
        for i in 0..self.batch_size {
            let j = self.rng.random_range(i as u64..n) as usize;
            self.order.swap(i, j);
        }
    }

    pub(crate) fn current_batch(&self) -> &[usize] {
        &self.order[..self.batch_size]
    }

    /// Draws the next batch B and writes r̃ with r̃_i = (n/b) r_i for i ∈ B and 0 elsewhere, so that
    /// the gradient built from r̃ is (n/b) ∂L_B/∂W with E[(n/b) ∂L_B/∂W] = ∂L/∂W.
    pub(crate) fn masked_residual(&mut self, r: ColRef<'_, f64>, mut out: ColMut<'_, f64>) {
        self.draw();
        out.fill(0.0);
        for &i in &self.order[..self.batch_size] {
            out[i] = r[i] * self.scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Col;

    /// E r̃ = r: each index is drawn with probability b/n and scaled by n/b. Monte Carlo over 20000
    /// draws, band five standard errors per coordinate.
    #[test]
    fn masked_residual_is_unbiased_and_batches_are_distinct() {
        let (n, b, draws) = (7usize, 3usize, 20_000usize);
        let r = Col::from_fn(n, |i| 1.0 + i as f64);
        let mut s = MinibatchSampler::new(n, b, 5, 1);
        let mut out = Col::<f64>::zeros(n);
        let mut sum = vec![0.0; n];
        let mut sum_sq = vec![0.0; n];
        for _ in 0..draws {
            s.masked_residual(r.as_ref(), out.as_mut());
            let mut batch = s.current_batch().to_vec();
            batch.sort_unstable();
            batch.dedup();
            assert_eq!(batch.len(), b, "indices must be distinct");
            for i in 0..n {
                sum[i] += out[i];
                sum_sq[i] += out[i] * out[i];
            }
        }
        for i in 0..n {
            let mean = sum[i] / draws as f64;
            let var = sum_sq[i] / draws as f64 - mean * mean;
            let band = 5.0 * (var / draws as f64).sqrt();
            assert!((mean - r[i]).abs() < band, "coordinate {i}: mean {mean}, expected {} ± {band}", r[i]);
        }
    }
}
