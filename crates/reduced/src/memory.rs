//! Memory of a reduced run, counted from what it holds: O(2ⁿ + n·|A|), never O(n·m).

use crate::source::CHUNK_NEURONS;

/// Bytes a reduced run holds, by item (docs/theory.md §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryEstimate {
    /// Active neurons: index, a_r, z_r(0), z_r, q_r (8·(3n + 2) bytes each).
    pub active: u64,
    /// RK4 scratch per active neuron: the stage pre-activations, the stage derivative and the
    /// RK4 sum (8·3n bytes each).
    pub scratch: u64,
    /// Neurons a budget pass adds, held until they are appended (at most the active count).
    pub pass: u64,
    /// Pattern counts of the frozen neurons (2ⁿ counters) and the n × n matrices.
    pub frozen: u64,
    /// Chunk buffers of a pass, one per thread: w (d), z(0) (n) and a per neuron.
    pub chunks: u64,
    /// The stream-position table (32 bytes per chunk) and X.
    pub source: u64,
}

impl MemoryEstimate {
    /// The estimate for `active` active neurons at width m on n inputs in dimension d, with
    /// `threads` pass workers.
    pub fn of(n: usize, d: usize, m: u64, active: u64, threads: usize) -> Self {
        let (n64, d64) = (n as u64, d as u64);
        let per_active = 8 * (3 * n64 + 2);
        MemoryEstimate {
            active: active.saturating_mul(per_active),
            scratch: active.saturating_mul(24 * n64),
            pass: active.saturating_mul(per_active),
            frozen: (1u64 << n.min(40)).saturating_mul(8) + 8 * 8 * n64 * n64,
            chunks: (threads as u64) * (CHUNK_NEURONS as u64) * 8 * (d64 + n64 + 1),
            source: m.div_ceil(CHUNK_NEURONS as u64) * 32 + 8 * n64 * d64,
        }
    }

    /// Total bytes.
    pub fn total(&self) -> u64 {
        self.active
            .saturating_add(self.scratch)
            .saturating_add(self.pass)
            .saturating_add(self.frozen)
            .saturating_add(self.chunks)
            .saturating_add(self.source)
    }
}

/// An upper bound on the expected number of active neurons for budget ρ̄: a neuron is active
/// when some |z_ir(0)| ≤ ρ̄_i, z_ir(0) ~ N(0, 1), so by the union bound
/// E|A| ≤ m · min(1, Σ_i P(|N(0,1)| ≤ ρ̄_i)) ≤ m · min(1, Σ_i 2ρ̄_i/√(2π)) (≈ 0.8 m Σ_i ρ̄_i).
pub fn expected_active(m: u64, rho_bar: &[f64]) -> u64 {
    let p: f64 = rho_bar.iter().map(|r| 2.0 * r.max(0.0) / (2.0 * std::f64::consts::PI).sqrt()).sum();
    (m as f64 * p.min(1.0)).ceil() as u64
}
