//! The ChaCha8 streams of [`crate::rng::stream`]: the same numbers as `rand_chacha::ChaCha8Rng`, faster.
//!
//! They are generated sixteen blocks at a time by a vectorisable block function.
//! `rand_chacha` computes four 64-byte blocks per refill with 128-bit lanes. Here the state is
//! laid out word-major across sixteen blocks (`x[word][block]`), so that each step of the
//! quarter-round is one 512-bit operation on AVX-512 (two on AVX2), dispatched at run time
//! ([`crate::simd`]). The output is the standard ChaCha keystream — key from the generator's
//! seed, 64-bit block counter in words 12–13, 64-bit stream id in words 14–15 — read as
//! little-endian `u32` words in order, exactly as `ChaCha8Rng` serves them; the tests compare
//! the two word for word.

use std::convert::Infallible;

use rand_chacha::ChaCha8Rng;

use crate::rng::{Purpose, stream};
use crate::simd::{SimdKernel, dispatch};

/// Where stream word `p` of a refill (block p / 16, word p % 16) sits in the word-major buffer.
#[inline(always)]
fn slot(p: usize) -> usize {
    (p % WORDS) * LANES + p / WORDS
}

/// Blocks computed per refill.
const LANES: usize = 16;
/// Words per ChaCha block.
const WORDS: usize = 16;
/// Double rounds of ChaCha8.
const DOUBLE_ROUNDS: usize = 4;
/// "expand 32-byte k".
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// A ChaCha8 generator with the stream of a [`ChaCha8Rng`], buffered sixteen blocks at a time.
///
/// Implements `rand`'s `Rng` (through `TryRng` with [`Infallible`]), so any distribution samples
/// from it; every `next_u32`, `next_u64` and `fill_bytes` returns what the `ChaCha8Rng` it was
/// made from would have returned.
#[derive(Clone)]
pub struct ChaCha8Blocks {
    key: [u32; 8],
    stream: u64,
    /// First block of the next refill.
    next_block: u64,
    buf: Box<[u32; LANES * WORDS]>,
    /// Next word of `buf` to serve.
    pos: usize,
}

impl std::fmt::Debug for ChaCha8Blocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChaCha8Blocks").field("stream", &self.stream).field("next_block", &self.next_block).finish()
    }
}

impl ChaCha8Blocks {
    /// The stream of [`stream`]`(seed, trial, purpose)`.
    pub fn new(seed: u64, trial: u64, purpose: Purpose) -> Self {
        Self::from_rng(&stream(seed, trial, purpose))
    }

    /// Continues `rng`'s stream from its current word position.
    pub fn from_rng(rng: &ChaCha8Rng) -> Self {
        let seed = rng.get_seed();
        // seed is [u8; 32] and i < 8: always a 4-byte slice.
        let key = std::array::from_fn(|i| u32::from_le_bytes(seed[4 * i..4 * i + 4].try_into().expect("4 bytes")));
        let word_pos = rng.get_word_pos();
        let block = (word_pos / WORDS as u128) as u64;
        let mut out = ChaCha8Blocks {
            key,
            stream: rng.get_stream(),
            next_block: block,
            buf: Box::new([0; LANES * WORDS]),
            pos: 0,
        };
        out.refill();
        out.pos = (word_pos % WORDS as u128) as usize;
        out
    }

    /// The stream [`stream`]`(seed, trial, purpose)` started at word `word_pos` (ChaCha is seekable
    /// by block: a later pass over one stretch of the stream need not generate what precedes it).
    pub fn at_word_pos(seed: u64, trial: u64, purpose: Purpose, word_pos: u128) -> Self {
        let mut rng = stream(seed, trial, purpose);
        rng.set_word_pos(word_pos);
        Self::from_rng(&rng)
    }

    /// The position of the next word served, in words from the start of the stream (what
    /// `ChaCha8Rng::get_word_pos` would say after the same draws).
    pub fn word_pos(&self) -> u128 {
        let first = self.next_block.wrapping_sub(LANES as u64);
        u128::from(first) * WORDS as u128 + self.pos as u128
    }

    fn refill(&mut self) {
        dispatch(Refill { key: &self.key, stream: self.stream, first_block: self.next_block, out: &mut self.buf });
        self.next_block = self.next_block.wrapping_add(LANES as u64);
        self.pos = 0;
    }

    #[inline]
    fn word(&mut self) -> u32 {
        if self.pos == LANES * WORDS {
            self.refill();
        }
        let w = self.buf[slot(self.pos)];
        self.pos += 1;
        w
    }
}

impl ChaCha8Blocks {
    /// Fills `out` with standard normals: exactly the numbers `StandardNormal.sample(self)`
    /// (rand_distr's ziggurat) would give, in order, and the stream left where it would leave it.
    ///
    /// The ziggurat's fast path (≈ 99% of draws: one u64, a table lookup, a compare) runs here
    /// on the buffered words; on a miss the u64 is handed back and `rand_distr` itself takes the
    /// draw, slow path and all, so the rare branches need no copy.
    pub fn fill_standard_normals(&mut self, out: &mut [f64]) {
        for o in out.iter_mut() {
            if self.pos + 2 <= LANES * WORDS {
                let bits = u64::from(self.buf[slot(self.pos)]) | (u64::from(self.buf[slot(self.pos + 1)]) << 32);
                let i = (bits & 0xff) as usize;
                // rand's `into_float_with_exponent(1)` of the top 52 bits, in [2, 4), minus 3.
                let u = f64::from_bits((bits >> 12) | (1024u64 << 52)) - 3.0;
                let x = u * ZIG_NORM_X[i];
                if x.abs() < ZIG_NORM_X[i + 1] {
                    self.pos += 2;
                    *o = x;
                    continue;
                }
            }
            *o = rand_distr::Distribution::sample(&rand_distr::StandardNormal, self);
        }
    }
}

/// The x-coordinates of rand_distr 0.6's 256-layer normal ziggurat (`ZIG_NORM_X`, generated by
/// its `ziggurat_tables.py`; copied under its MIT/Apache-2.0 licence). The tests check every
/// draw against `StandardNormal`, so a different table would fail them.
#[rustfmt::skip]
#[allow(clippy::excessive_precision)]
static ZIG_NORM_X: [f64; 257] = [
    3.910757959537090045, 3.654152885361008796, 3.449278298560964462, 3.320244733839166074,
    3.224575052047029100, 3.147889289517149969, 3.083526132001233044, 3.027837791768635434,
    2.978603279880844834, 2.934366867207854224, 2.894121053612348060, 2.857138730872132548,
    2.822877396825325125, 2.790921174000785765, 2.760944005278822555, 2.732685359042827056,
    2.705933656121858100, 2.680514643284522158, 2.656283037575502437, 2.633116393630324570,
    2.610910518487548515, 2.589575986706995181, 2.569035452680536569, 2.549221550323460761,
    2.530075232158516929, 2.511544441625342294, 2.493583041269680667, 2.476149939669143318,
    2.459208374333311298, 2.442725318198956774, 2.426670984935725972, 2.411018413899685520,
    2.395743119780480601, 2.380822795170626005, 2.366237056715818632, 2.351967227377659952,
    2.337996148795031370, 2.324308018869623016, 2.310888250599850036, 2.297723348901329565,
    2.284800802722946056, 2.272108990226823888, 2.259637095172217780, 2.247375032945807760,
    2.235313384928327984, 2.223443340090905718, 2.211756642882544366, 2.200245546609647995,
    2.188902771624720689, 2.177721467738641614, 2.166695180352645966, 2.155817819875063268,
    2.145083634046203613, 2.134487182844320152, 2.124023315687815661, 2.113687150684933957,
    2.103474055713146829, 2.093379631137050279, 2.083399693996551783, 2.073530263516978778,
    2.063767547809956415, 2.054107931648864849, 2.044547965215732788, 2.035084353727808715,
    2.025713947862032960, 2.016433734904371722, 2.007240830558684852, 1.998132471356564244,
    1.989106007615571325, 1.980158896898598364, 1.971288697931769640, 1.962493064942461896,
    1.953769742382734043, 1.945116560006753925, 1.936531428273758904, 1.928012334050718257,
    1.919557336591228847, 1.911164563769282232, 1.902832208548446369, 1.894558525668710081,
    1.886341828534776388, 1.878180486290977669, 1.870072921069236838, 1.862017605397632281,
    1.854013059758148119, 1.846057850283119750, 1.838150586580728607, 1.830289919680666566,
    1.822474540091783224, 1.814703175964167636, 1.806974591348693426, 1.799287584547580199,
    1.791640986550010028, 1.784033659547276329, 1.776464495522344977, 1.768932414909077933,
    1.761436365316706665, 1.753975320315455111, 1.746548278279492994, 1.739154261283669012,
    1.731792314050707216, 1.724461502945775715, 1.717160915015540690, 1.709889657069006086,
    1.702646854797613907, 1.695431651932238548, 1.688243209434858727, 1.681080704722823338,
    1.673943330923760353, 1.666830296159286684, 1.659740822855789499, 1.652674147080648526,
    1.645629517902360339, 1.638606196773111146, 1.631603456932422036, 1.624620582830568427,
    1.617656869570534228, 1.610711622367333673, 1.603784156023583041, 1.596873794420261339,
    1.589979870021648534, 1.583101723393471438, 1.576238702733332886, 1.569390163412534456,
    1.562555467528439657, 1.555733983466554893, 1.548925085471535512, 1.542128153226347553,
    1.535342571438843118, 1.528567729435024614, 1.521803020758293101, 1.515047842773992404,
    1.508301596278571965, 1.501563685112706548, 1.494833515777718391, 1.488110497054654369,
    1.481394039625375747, 1.474683555695025516, 1.467978458615230908, 1.461278162507407830,
    1.454582081885523293, 1.447889631277669675, 1.441200224845798017, 1.434513276002946425,
    1.427828197027290358, 1.421144398672323117, 1.414461289772464658, 1.407778276843371534,
    1.401094763676202559, 1.394410150925071257, 1.387723835686884621, 1.381035211072741964,
    1.374343665770030531, 1.367648583594317957, 1.360949343030101844, 1.354245316759430606,
    1.347535871177359290, 1.340820365893152122, 1.334098153216083604, 1.327368577624624679,
    1.320630975217730096, 1.313884673146868964, 1.307128989027353860, 1.300363230327433728,
    1.293586693733517645, 1.286798664489786415, 1.279998415710333237, 1.273185207661843732,
    1.266358287014688333, 1.259516886060144225, 1.252660221891297887, 1.245787495544997903,
    1.238897891102027415, 1.231990574742445110, 1.225064693752808020, 1.218119375481726552,
    1.211153726239911244, 1.204166830140560140, 1.197157747875585931, 1.190125515422801650,
    1.183069142678760732, 1.175987612011489825, 1.168879876726833800, 1.161744859441574240,
    1.154581450355851802, 1.147388505416733873, 1.140164844363995789, 1.132909248648336975,
    1.125620459211294389, 1.118297174115062909, 1.110938046009249502, 1.103541679420268151,
    1.096106627847603487, 1.088631390649514197, 1.081114409698889389, 1.073554065787871714,
    1.065948674757506653, 1.058296483326006454, 1.050595664586207123, 1.042844313139370538,
    1.035040439828605274, 1.027181966030751292, 1.019266717460529215, 1.011292417434978441,
    1.003256679539591412, 0.995156999629943084, 0.986990747093846266, 0.978755155288937750,
    0.970447311058864615, 0.962064143217605250, 0.953602409875572654, 0.945058684462571130,
    0.936429340280896860, 0.927710533396234771, 0.918898183643734989, 0.909987953490768997,
    0.900975224455174528, 0.891855070726792376, 0.882622229578910122, 0.873271068082494550,
    0.863795545546826915, 0.854189171001560554, 0.844444954902423661, 0.834555354079518752,
    0.824512208745288633, 0.814306670128064347, 0.803929116982664893, 0.793369058833152785,
    0.782615023299588763, 0.771654424216739354, 0.760473406422083165, 0.749056662009581653,
    0.737387211425838629, 0.725446140901303549, 0.713212285182022732, 0.700661841097584448,
    0.687767892786257717, 0.674499822827436479, 0.660822574234205984, 0.646695714884388928,
    0.632072236375024632, 0.616896989996235545, 0.601104617743940417, 0.584616766093722262,
    0.567338257040473026, 0.549151702313026790, 0.529909720646495108, 0.509423329585933393,
    0.487443966121754335, 0.463634336771763245, 0.437518402186662658, 0.408389134588000746,
    0.375121332850465727, 0.335737519180459465, 0.286174591747260509, 0.215241895913273806,
    0.000000000000000000,
];

impl rand::TryRng for ChaCha8Blocks {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.word())
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        if self.pos + 2 <= LANES * WORDS {
            let (lo, hi) = (self.buf[slot(self.pos)], self.buf[slot(self.pos + 1)]);
            self.pos += 2;
            return Ok(u64::from(lo) | (u64::from(hi) << 32));
        }
        let lo = self.word();
        let hi = self.word();
        Ok(u64::from(lo) | (u64::from(hi) << 32))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        // Whole words in order; the unused bytes of a last, partial word are dropped.
        let mut chunks = dst.chunks_exact_mut(4);
        for c in &mut chunks {
            c.copy_from_slice(&self.word().to_le_bytes());
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let w = self.word().to_le_bytes();
            let k = tail.len();
            tail.copy_from_slice(&w[..k]);
        }
        Ok(())
    }
}

/// Sixteen consecutive ChaCha8 blocks into `out`, word-major: word w of block `lane` at
/// `w · 16 + lane` (see [`slot`]).
struct Refill<'a> {
    key: &'a [u32; 8],
    stream: u64,
    first_block: u64,
    out: &'a mut [u32; LANES * WORDS],
}

impl SimdKernel for Refill<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Refill { key, stream, first_block, out } = self;
        let block = |lane: usize| first_block.wrapping_add(lane as u64);
        let init: [[u32; LANES]; WORDS] = [
            [CONSTANTS[0]; LANES],
            [CONSTANTS[1]; LANES],
            [CONSTANTS[2]; LANES],
            [CONSTANTS[3]; LANES],
            [key[0]; LANES],
            [key[1]; LANES],
            [key[2]; LANES],
            [key[3]; LANES],
            [key[4]; LANES],
            [key[5]; LANES],
            [key[6]; LANES],
            [key[7]; LANES],
            std::array::from_fn(|lane| block(lane) as u32),
            std::array::from_fn(|lane| (block(lane) >> 32) as u32),
            [stream as u32; LANES],
            [(stream >> 32) as u32; LANES],
        ];
        let mut x = init;
        {
            let [x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15] = &mut x;
            for _ in 0..DOUBLE_ROUNDS {
                quarter_round(x0, x4, x8, x12);
                quarter_round(x1, x5, x9, x13);
                quarter_round(x2, x6, x10, x14);
                quarter_round(x3, x7, x11, x15);
                quarter_round(x0, x5, x10, x15);
                quarter_round(x1, x6, x11, x12);
                quarter_round(x2, x7, x8, x13);
                quarter_round(x3, x4, x9, x14);
            }
        }
        // Word-major, as computed (no transposition): stream word p is at `slot(p)`.
        for ((row, row0), dst) in x.iter_mut().zip(&init).zip(out.chunks_exact_mut(LANES)) {
            add_lanes(row, row0);
            dst.copy_from_slice(row);
        }
    }
}

/// a += b lane by lane (wrapping).
#[inline(always)]
fn add_lanes(a: &mut [u32; LANES], b: &[u32; LANES]) {
    for l in 0..LANES {
        a[l] = a[l].wrapping_add(b[l]);
    }
}

/// The ChaCha quarter-round on one word of every lane.
#[inline(always)]
fn quarter_round(a: &mut [u32; LANES], b: &mut [u32; LANES], c: &mut [u32; LANES], d: &mut [u32; LANES]) {
    for l in 0..LANES {
        a[l] = a[l].wrapping_add(b[l]);
        d[l] = (d[l] ^ a[l]).rotate_left(16);
        c[l] = c[l].wrapping_add(d[l]);
        b[l] = (b[l] ^ c[l]).rotate_left(12);
        a[l] = a[l].wrapping_add(b[l]);
        d[l] = (d[l] ^ a[l]).rotate_left(8);
        c[l] = c[l].wrapping_add(d[l]);
        b[l] = (b[l] ^ c[l]).rotate_left(7);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{Isa, dispatch_with};
    use rand::Rng;

    /// Word for word the stream of `ChaCha8Rng`: u64 reads across refills, u32 reads at odd
    /// offsets, byte fills with a ragged tail, a start in the middle of a block, and a block
    /// counter that carries into its high word.
    #[test]
    fn same_stream_as_rand_chacha() {
        for (seed, trial) in [(0u64, 0u64), (7, 3), (u64::MAX, 1 << 40)] {
            let mut reference = stream(seed, trial, Purpose::FirstLayer);
            let mut fast = ChaCha8Blocks::new(seed, trial, Purpose::FirstLayer);
            for _ in 0..1000 {
                assert_eq!(fast.next_u64(), reference.next_u64());
            }
            assert_eq!(fast.next_u32(), reference.next_u32());
            for _ in 0..300 {
                assert_eq!(fast.next_u64(), reference.next_u64());
            }
            let (mut a, mut b) = ([0u8; 37], [0u8; 37]);
            fast.fill_bytes(&mut a);
            reference.fill_bytes(&mut b);
            assert_eq!(a, b);
            for _ in 0..700 {
                assert_eq!(fast.next_u32(), reference.next_u32());
            }
        }
        let mut reference = stream(1, 2, Purpose::Inputs);
        reference.set_word_pos(((1u128 << 32) - 3) * 16 + 5);
        let mut fast = ChaCha8Blocks::from_rng(&reference);
        for _ in 0..400 {
            assert_eq!(fast.next_u64(), reference.next_u64());
        }
    }

    /// A generator restarted at the word position of another continues it word for word, across
    /// a refill boundary and after normals that took the ziggurat's slow path.
    #[test]
    fn word_positions_seek_exactly() {
        let mut a = ChaCha8Blocks::new(4, 2, Purpose::FirstLayer);
        let mut buf = vec![0.0; 777];
        a.fill_standard_normals(&mut buf);
        let _ = a.next_u32();
        let mut b = ChaCha8Blocks::at_word_pos(4, 2, Purpose::FirstLayer, a.word_pos());
        for _ in 0..500 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_eq!(ChaCha8Blocks::new(4, 2, Purpose::FirstLayer).word_pos(), 0);
    }

    /// Every instruction set computes the same blocks.
    #[test]
    fn every_instruction_set_computes_the_same_blocks() {
        let key = [1u32, 2, 3, 4, 0xdead_beef, 6, 7, 0xffff_ffff];
        let blocks = |isa| {
            let mut out = [0u32; LANES * WORDS];
            dispatch_with(isa, Refill { key: &key, stream: 99, first_block: u64::MAX - 5, out: &mut out });
            out
        };
        let portable = blocks(Isa::Portable);
        for isa in Isa::all_supported() {
            assert_eq!(blocks(isa), portable, "{isa:?}");
        }
    }

    /// `fill_standard_normals` gives StandardNormal's draws bit for bit (10⁶ draws: about 10⁴
    /// misses of the fast path, a few in the tail layer) and leaves the stream where it would.
    #[test]
    fn fast_normals_are_rand_distr_normals() {
        use rand_distr::{Distribution, StandardNormal};
        let mut reference = stream(3, 1, Purpose::FirstLayer);
        let mut fast = ChaCha8Blocks::new(3, 1, Purpose::FirstLayer);
        let mut out = vec![0.0; 1_000_000];
        for chunk in out.chunks_mut(999) {
            fast.fill_standard_normals(chunk);
        }
        for (k, &v) in out.iter().enumerate() {
            let r: f64 = StandardNormal.sample(&mut reference);
            assert_eq!(v.to_bits(), r.to_bits(), "draw {k}");
        }
        assert_eq!(fast.next_u64(), reference.next_u64());
        assert!(out.iter().any(|v| v.abs() > 3.7), "no draw from the tail layer: the test is vacuous");
    }
}
