//! Where the initial neurons come from: (z_r(0), a_r) streamed in chunks, never stored as W(0).
//!
//! [`SeededInit`] reproduces `model::Network::init(m, d, seed, trial)` draw for draw: w_r takes
//! the next d standard normals of the stream `(seed, trial, FirstLayer)` (rand_distr's ziggurat,
//! row by row), a_r the next bool of `(seed, trial, SecondLayer)`, and z_r(0) = X w_r. The
//! ziggurat consumes a variable number of words per normal, so neuron r's position in the stream
//! is not a formula of r: the first pass is sequential and records, at the start of every chunk
//! of [`CHUNK_NEURONS`] neurons, the word positions of both streams (32 bytes per chunk); every
//! later pass seeks there (ChaCha is seekable by block) and runs the chunks in parallel. The
//! results are combined in chunk order, so they do not depend on the thread count.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use faer::{Col, Mat, MatRef};
use model::chacha::ChaCha8Blocks;
use model::{Dataset, Network, Purpose};
use rand::RngExt;
use rayon::prelude::*;

use crate::error::{Result, invalid};

/// Neurons per chunk of a pass.
pub const CHUNK_NEURONS: usize = 1 << 14;

/// One chunk of neurons: indices `start..start + a.len()`.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// Index of the first neuron.
    pub start: usize,
    /// z_r(0) = X w_r(0), n entries per neuron, neuron after neuron.
    pub z0: &'a [f64],
    /// a_r ∈ {−1, +1}.
    pub a: &'a [f64],
}

/// A stream of initial neurons that can be passed over again (each pass gives the same numbers).
pub trait NeuronSource: Sync {
    /// Number of inputs n (entries of z_r).
    fn n(&self) -> usize;
    /// Width m.
    fn m(&self) -> usize;
    /// Calls `f` on every chunk (neurons in order within a chunk); the results come back in chunk
    /// order whatever the thread count.
    fn map_chunks<T: Send, F: Fn(Chunk<'_>) -> T + Sync>(&self, f: F) -> Vec<T>;
    /// Passes made so far.
    fn passes(&self) -> usize;
    /// Bytes this source holds besides the chunk buffers (the stream-position table).
    fn heap_bytes(&self) -> usize;
}

/// The init of `model::Network::init(m, d, seed, trial)`, streamed (see the module docs).
#[derive(Debug)]
pub struct SeededInit {
    x: Mat<f64>,
    m: usize,
    seed: u64,
    trial: u64,
    /// Word positions of the FirstLayer and SecondLayer streams at the start of every chunk.
    positions: OnceLock<Vec<(u128, u128)>>,
    passes: AtomicUsize,
}

impl SeededInit {
    /// The width-m init of `seed`, `trial` on `data`'s inputs (d = `data.d()`).
    pub fn new(data: &Dataset, m: usize, seed: u64, trial: u64) -> Result<Self> {
        if m == 0 {
            return Err(invalid("m", 0, "the width must be positive"));
        }
        Ok(SeededInit {
            x: data.x().to_owned(),
            m,
            seed,
            trial,
            positions: OnceLock::new(),
            passes: AtomicUsize::new(0),
        })
    }

    fn chunks(&self) -> usize {
        self.m.div_ceil(CHUNK_NEURONS)
    }

    /// Draws one chunk from the two generators into the buffers (w: len·d, z0: len·n, a: len).
    fn draw(&self, w_rng: &mut ChaCha8Blocks, a_rng: &mut ChaCha8Blocks, len: usize, bufs: &mut Buffers) {
        let (n, d) = (self.x.nrows(), self.x.ncols());
        bufs.w.resize(len * d, 0.0);
        bufs.z0.resize(len * n, 0.0);
        bufs.a.resize(len, 0.0);
        w_rng.fill_standard_normals(&mut bufs.w);
        for v in bufs.a.iter_mut() {
            *v = if a_rng.random::<bool>() { 1.0 } else { -1.0 };
        }
        project(self.x.as_ref(), &bufs.w, &mut bufs.z0);
    }
}

#[derive(Default)]
struct Buffers {
    w: Vec<f64>,
    z0: Vec<f64>,
    a: Vec<f64>,
}

/// z_r = X w_r for every neuron of a chunk (w: d per neuron, z: n per neuron).
fn project(x: MatRef<'_, f64>, w: &[f64], z: &mut [f64]) {
    let (n, d) = (x.nrows(), x.ncols());
    for (wr, zr) in w.chunks_exact(d).zip(z.chunks_exact_mut(n)) {
        for (i, zi) in zr.iter_mut().enumerate() {
            let mut s = 0.0;
            for (k, &wk) in wr.iter().enumerate() {
                s += x[(i, k)] * wk;
            }
            *zi = s;
        }
    }
}

impl NeuronSource for SeededInit {
    fn n(&self) -> usize {
        self.x.nrows()
    }
    fn m(&self) -> usize {
        self.m
    }
    fn passes(&self) -> usize {
        self.passes.load(Ordering::Relaxed)
    }
    fn heap_bytes(&self) -> usize {
        self.chunks() * 32 + self.x.nrows() * self.x.ncols() * 8
    }

    fn map_chunks<T: Send, F: Fn(Chunk<'_>) -> T + Sync>(&self, f: F) -> Vec<T> {
        self.passes.fetch_add(1, Ordering::Relaxed);
        let len_of = |c: usize| CHUNK_NEURONS.min(self.m - c * CHUNK_NEURONS);
        match self.positions.get() {
            None => {
                // First pass: sequential, recording where every chunk starts.
                let mut w_rng = ChaCha8Blocks::new(self.seed, self.trial, Purpose::FirstLayer);
                let mut a_rng = ChaCha8Blocks::new(self.seed, self.trial, Purpose::SecondLayer);
                let mut positions = Vec::with_capacity(self.chunks());
                let mut bufs = Buffers::default();
                let mut out = Vec::with_capacity(self.chunks());
                for c in 0..self.chunks() {
                    positions.push((w_rng.word_pos(), a_rng.word_pos()));
                    self.draw(&mut w_rng, &mut a_rng, len_of(c), &mut bufs);
                    out.push(f(Chunk { start: c * CHUNK_NEURONS, z0: &bufs.z0, a: &bufs.a }));
                }
                let _ = self.positions.set(positions);
                out
            }
            Some(positions) => (0..self.chunks())
                .into_par_iter()
                .map(|c| {
                    let (pw, pa) = positions[c];
                    let mut w_rng = ChaCha8Blocks::at_word_pos(self.seed, self.trial, Purpose::FirstLayer, pw);
                    let mut a_rng = ChaCha8Blocks::at_word_pos(self.seed, self.trial, Purpose::SecondLayer, pa);
                    let mut bufs = Buffers::default();
                    self.draw(&mut w_rng, &mut a_rng, len_of(c), &mut bufs);
                    f(Chunk { start: c * CHUNK_NEURONS, z0: &bufs.z0, a: &bufs.a })
                })
                .collect(),
        }
    }
}

/// A stored network as a source: z_r(0) = X w_r from the model's GEMM (the very Z(0) of the full
/// solvers), a as given. For tests and planted neurons; it holds n·m numbers, so it is not for
/// the widths the reduction is for.
#[derive(Debug, Clone)]
pub struct GivenNetwork {
    n: usize,
    /// z0 neuron-major (n per neuron).
    z0: Vec<f64>,
    a: Vec<f64>,
    passes: std::sync::Arc<AtomicUsize>,
}

impl GivenNetwork {
    /// Wraps `net` on `data` (checks shapes and values).
    pub fn new(data: &Dataset, net: &Network) -> Result<Self> {
        net.validate_against(data)?;
        let z = net.forward(data)?.z;
        let (n, m) = (z.nrows(), z.ncols());
        let mut z0 = vec![0.0; n * m];
        for r in 0..m {
            for i in 0..n {
                z0[r * n + i] = z[(i, r)];
            }
        }
        let a: Vec<f64> = net.a.iter().copied().collect();
        if a.iter().any(|v| v.abs() != 1.0) {
            return Err(invalid("a", "not ±1", "the first-layer reduction needs a_r ∈ {−1, +1}"));
        }
        Ok(GivenNetwork { n, z0, a, passes: Default::default() })
    }

    /// The second layer (for building the same network elsewhere).
    pub fn a(&self) -> Col<f64> {
        Col::from_fn(self.a.len(), |r| self.a[r])
    }
}

impl NeuronSource for GivenNetwork {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.a.len()
    }
    fn passes(&self) -> usize {
        self.passes.load(Ordering::Relaxed)
    }
    fn heap_bytes(&self) -> usize {
        (self.z0.len() + self.a.len()) * 8
    }
    fn map_chunks<T: Send, F: Fn(Chunk<'_>) -> T + Sync>(&self, f: F) -> Vec<T> {
        self.passes.fetch_add(1, Ordering::Relaxed);
        let n = self.n;
        (0..self.a.len().div_ceil(CHUNK_NEURONS))
            .into_par_iter()
            .map(|c| {
                let start = c * CHUNK_NEURONS;
                let end = (start + CHUNK_NEURONS).min(self.a.len());
                // end = min(start + CHUNK_NEURONS, a.len()) with a.len() = m, and z0 holds n·m values (built in new).
                f(Chunk { start, z0: &self.z0[start * n..end * n], a: &self.a[start..end] })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed init is `Network::init` draw for draw: a exactly, z0 = X w to rounding, on the
    /// first (sequential) pass and on a second (seeking, parallel) pass alike.
    #[test]
    fn seeded_init_is_the_networks_init() {
        let data = Dataset::sphere(3, 5, 1, 0).unwrap();
        let m = 2 * CHUNK_NEURONS + 77;
        let net = Network::init(m, 5, 9, 4).unwrap();
        let z = net.forward(&data).unwrap().z;
        let src = SeededInit::new(&data, m, 9, 4).unwrap();
        for _pass in 0..2 {
            let chunks = src.map_chunks(|c| (c.start, c.z0.to_vec(), c.a.to_vec()));
            let mut seen = 0;
            for (start, z0, a) in chunks {
                assert_eq!(start, seen);
                for (k, &ar) in a.iter().enumerate() {
                    let r = start + k;
                    assert_eq!(ar, net.a[r]);
                    for i in 0..3 {
                        assert!((z0[k * 3 + i] - z[(i, r)]).abs() <= 1e-14 * (1.0 + z[(i, r)].abs()));
                    }
                }
                seen += a.len();
            }
            assert_eq!(seen, m);
        }
        assert_eq!(src.passes(), 2);
    }
}
