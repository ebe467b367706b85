//! Named generators of structured data sets whose λ0 = λmin(H∞) is small (docs/theory.md §6.1).
//!
//! Every family returns a validated [`Dataset`] with unit rows and λ0 ≥ [`LAMBDA0_TOLERANCE`]
//! (checked here by an eigen-solve, O(n³), since [`Dataset::new`] checks only pairs of rows).
//! Randomness comes only from [`stream`]`(seed, trial, Purpose::Inputs)` for the inputs and
//! `(seed, trial, Purpose::Labels)` for random labels, so a family, n, parameters, seed and
//! trial fix the data set to the bit.
//!
//! | name | d | inputs | labels |
//! | --- | --- | --- | --- |
//! | `bottom-eigenvector` | `params.d` | uniform on S^{d−1} ([`Dataset::sphere`]) | H∞'s bottom eigenvector |
//! | `clusters` | `params.d` | k clusters, every point at angle ε from its centre | ±1 alternating in a cluster |
//! | `circle` | 2 | regular polygon with an odd number of vertices, random phase | ±1 alternating around |
//! | `circle-random` | 2 | uniform angles, sorted | ±1 alternating around |
//! | `sphere3` | 3 | uniform on S² | random ±1 |
//! | `antipodal` | `params.d` | pairs x, −(x rotated by ε) | ±σ on a pair, σ random ±1 |
//! | `xor` | `params.d` | sign patterns s/√d closed under s ↦ −s, each tilted by ε | parity ∏_j s_j |
//!
//! Labels: ±1 labels satisfy both conventions of the theory at once (|y_i| ≤ 1 and ‖y‖² = n); the
//! bottom eigenvector's are scaled by [`FamilyParams::scale`] to one of them.

use std::collections::HashSet;
use std::f64::consts::PI;

use faer::{Col, Mat};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::LAMBDA0_TOLERANCE;
use crate::error::require_positive;
use crate::rng::{Purpose, stream};
use crate::{Dataset, ModelError, Result, RowNorms, h_infinity, symmetric_eigen};

/// A named family of structured data sets (docs/theory.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Sphere inputs with labels along the eigenvector of λmin(H∞), the slowest mode of
    /// du/dt = H∞(y − u); the sign makes the entry of largest |v_i| (the first such) positive.
    /// Labels scaled by [`FamilyParams::scale`]. λ0 is the sphere's: the labels are what is hard.
    BottomEigenvector,
    /// `params.clusters` = k centres uniform on S^{d−1}; the rows of cluster j are a contiguous
    /// block (the first n mod k blocks one row longer), each row at angle exactly ε from its
    /// centre in a uniform tangent direction. Labels +1, −1, +1, … within each block.
    Clusters,
    /// d = 2: the first n vertices of the regular N-gon, N = n for odd n and n + 1 for even n
    /// (an even N-gon with N ≥ 6 has N/2 > d antipodal pairs and a singular H∞), rotated by a
    /// uniform phase. Labels (−1)^i around the circle.
    Circle,
    /// d = 2: n uniform angles, sorted. Labels (−1)^i around the circle.
    CircleRandom,
    /// d = 3: n points uniform on S². Labels independent uniform ±1.
    Sphere3,
    /// ⌊n/2⌋ pairs: x_{2k} = u_k uniform on S^{d−1} and x_{2k+1} = −(cos ε u_k + sin ε t_k), t_k a
    /// uniform unit tangent at u_k; an odd n adds one uniform row. Labels y_{2k} = σ_k,
    /// y_{2k+1} = −σ_k with σ_k uniform ±1 (the lone row: uniform ±1). Hard when n/2 > d.
    Antipodal,
    /// XOR-like: ⌈n/2⌉ distinct sign patterns s ∈ {±1}^d with s_1 = +1, each followed by −s
    /// (while rows remain); each row is s/√d tilted by angle ε in a uniform tangent direction.
    /// Labels: the parity ∏_j s_j (which the row's own signs keep, as ε < arcsin(1/√d)).
    ///
    /// Why H∞ is nearly singular: a two-layer ReLU network without biases has
    /// f(x) − f(−x) = (Σ_r a_r w_r)ᵀx, linear in x, and so has every function in the span of H∞'s
    /// feature map; with the closed form H∞_ij = c(π − θ)/(2π) the same reads
    /// zᵀH∞z = E‖Σ_i z_i 1{wᵀx_i ≥ 0} x_i‖². At ε = 0 the rows are antipodal pairs; a vector z
    /// equal to c_k on s_k and −c_k on −s_k gives Σ_i z_i 1{…} x_i = Σ_k c_k s_k/√d for every w,
    /// which vanishes for the ⌈n/2⌉ − d (or more) independent c in the null space of the d × ⌈n/2⌉
    /// matrix of patterns: H∞ is singular as soon as n/2 > d. On the whole cube every odd parity
    /// of degree ≥ 3 is such a z. The tilt ε lifts these eigenvalues to order ε.
    Xor,
}

impl Family {
    /// Every family, in a fixed order.
    pub const ALL: [Family; 7] = [
        Family::BottomEigenvector,
        Family::Clusters,
        Family::Circle,
        Family::CircleRandom,
        Family::Sphere3,
        Family::Antipodal,
        Family::Xor,
    ];

    /// The stable kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Family::BottomEigenvector => "bottom-eigenvector",
            Family::Clusters => "clusters",
            Family::Circle => "circle",
            Family::CircleRandom => "circle-random",
            Family::Sphere3 => "sphere3",
            Family::Antipodal => "antipodal",
            Family::Xor => "xor",
        }
    }

    /// The family of a name from [`Family::name`]; an unknown name is an error listing the known ones.
    pub fn from_name(name: &str) -> Result<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| ModelError::InvalidParameter {
            name: "family",
            value: format!("{name:?}"),
            reason: format!("unknown data family; known families: {}", Family::ALL.map(Family::name).join(", ")),
        })
    }

    /// The input dimension the family produces: 2 for the circles, 3 for `sphere3`, `params.d` otherwise.
    pub fn dimension(self, params: &FamilyParams) -> usize {
        match self {
            Family::Circle | Family::CircleRandom => 2,
            Family::Sphere3 => 3,
            _ => params.d,
        }
    }

    /// The smallest input dimension, at least [`Family::dimension`], at which the family can draw n
    /// points: `xor` needs n distinct sign patterns, 2^d ≥ n; every other family takes any n at its
    /// own dimension. (`generate` itself never raises d: it refuses an `xor` with n > 2^d.)
    pub fn dimension_for(self, n: usize, params: &FamilyParams) -> usize {
        match self {
            Family::Xor => params.d.max(n.next_power_of_two().trailing_zeros() as usize),
            _ => self.dimension(params),
        }
    }

    /// Whether the family reads `params.epsilon`.
    pub fn uses_epsilon(self) -> bool {
        matches!(self, Family::Clusters | Family::Antipodal | Family::Xor)
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How real-valued labels are scaled (±1 labels satisfy both and are left as they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelScale {
    /// max_i |y_i| = 1, so |y_i| ≤ 1 (the bounded-label convention).
    Bounded,
    /// ‖y‖² = n (the convention ‖y − u(0)‖² = O(n) of the width bounds).
    #[default]
    NormN,
}

/// The parameters of the families; each family reads the fields its doc names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilyParams {
    /// Input dimension d of `bottom-eigenvector`, `clusters`, `antipodal` and `xor` (at least 2).
    pub d: usize,
    /// The angle ε (radians, 0 < ε ≤ π/2; for `xor` ε < arcsin(1/√d)) by which a row leaves its
    /// cluster centre (`clusters`), its partner's antipode (`antipodal`) or its sign pattern (`xor`).
    pub epsilon: f64,
    /// Number of clusters k of `clusters` (1 ≤ k ≤ n).
    pub clusters: usize,
    /// Scale of real-valued labels (`bottom-eigenvector`).
    pub scale: LabelScale,
}

impl Default for FamilyParams {
    /// d = 4, ε = 0.05, k = 2, ‖y‖² = n.
    fn default() -> Self {
        FamilyParams { d: 4, epsilon: 0.05, clusters: 2, scale: LabelScale::NormN }
    }
}

/// The data set of `family` with n rows, from streams `(seed, trial, Inputs)` and `(seed, trial, Labels)`.
///
/// Errors (never panics) on n = 0, d < 2, ε outside its range, k outside 1..=n, n > 2^d for `xor`,
/// memory beyond [`crate::error::MEMORY_LIMIT_BYTES`], and a generated λ0 below [`LAMBDA0_TOLERANCE`].
pub fn generate(family: Family, n: usize, params: &FamilyParams, seed: u64, trial: u64) -> Result<Dataset> {
    require_positive("n", n, "need at least one input")?;
    let d = family.dimension(params);
    if d < 2 {
        return Err(ModelError::InvalidParameter {
            name: "d",
            value: d.to_string(),
            reason: format!("family {family} needs d ≥ 2 (a tangent direction at every point)"),
        });
    }
    crate::error::ensure_fits(
        "inputs X and their Gram matrices",
        (n as u64).saturating_mul((n as u64).saturating_add(d as u64)).saturating_mul(16),
    )?;
    if family.uses_epsilon() {
        check_epsilon(family, params.epsilon, d)?;
    }
    let mut rng = stream(seed, trial, Purpose::Inputs);
    let mut labels = stream(seed, trial, Purpose::Labels);
    let data = match family {
        Family::BottomEigenvector => {
            with_bottom_eigenvector_labels(&Dataset::sphere(n, d, seed, trial)?, params.scale)?
        }
        Family::Clusters => clusters(n, d, params.epsilon, params.clusters, &mut rng)?,
        Family::Circle => {
            let vertices = if n % 2 == 1 { n } else { n + 1 };
            let phase = 2.0 * PI * rng.random::<f64>();
            circle((0..n).map(|i| phase + 2.0 * PI * i as f64 / vertices as f64).collect())?
        }
        Family::CircleRandom => {
            let mut angles: Vec<f64> = (0..n).map(|_| 2.0 * PI * rng.random::<f64>()).collect();
            angles.sort_by(f64::total_cmp);
            circle(angles)?
        }
        Family::Sphere3 => {
            let rows = (0..n).map(|_| unit_gaussian(&mut rng, 3)).collect();
            dataset(rows, (0..n).map(|_| random_sign(&mut labels)).collect())?
        }
        Family::Antipodal => antipodal(n, d, params.epsilon, &mut rng, &mut labels)?,
        Family::Xor => xor(n, d, params.epsilon, &mut rng)?,
    };
    check_lambda0(family, data, params)
}

/// The same inputs with labels along the bottom eigenvector v of H∞ (unit, H∞v = λ0 v), scaled to
/// `scale`: y = √n·v for ‖y‖² = n, y = v/max|v_i| for max|y_i| = 1. The sign makes the entry of
/// largest |v_i| positive (the first such entry on a tie). When λmin(H∞) is a repeated eigenvalue
/// the vector is the solver's choice within its eigenspace.
pub fn with_bottom_eigenvector_labels(data: &Dataset, scale: LabelScale) -> Result<Dataset> {
    let (_, vectors) = symmetric_eigen(h_infinity(data.input_gram()).as_ref())?;
    let v: Vec<f64> = vectors.col(0).iter().copied().collect();
    let largest = (0..v.len()).fold(0, |best, i| if v[i].abs() > v[best].abs() { i } else { best });
    let sign = if v[largest] < 0.0 { -1.0 } else { 1.0 };
    data.with_labels(scaled(v.iter().map(|x| sign * x).collect(), scale)?)
}

/// One move of the hardest-data search (docs/theory.md §6.1): every input x_i tilted by a Gaussian
/// step of scale σ and put back on the sphere, x_i ← (x_i + σ g_i)/‖x_i + σ g_i‖, and the labels
/// moved by σ h and rescaled to `scale`. The draws are stream (`seed`, `trial`, `Auxiliary`), so a
/// move is the same on any thread and in any process. σ = 0 returns the data unchanged.
pub fn perturb(data: &Dataset, sigma: f64, scale: LabelScale, seed: u64, trial: u64) -> Result<Dataset> {
    if !(sigma.is_finite() && sigma >= 0.0) {
        return Err(ModelError::InvalidParameter {
            name: "sigma",
            value: sigma.to_string(),
            reason: "the step of a move must be finite and non-negative".into(),
        });
    }
    let (n, d) = (data.n(), data.d());
    let mut rng = stream(seed, trial, Purpose::Auxiliary);
    let x = data.x();
    let y = data.y();
    if sigma == 0.0 {
        return Dataset::new(x.to_owned(), y.to_owned(), RowNorms::default());
    }
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        // Tilting a unit vector by a Gaussian step of σ > 0 leaves it non-zero with probability 1;
        // a zero sum (of probability 0) draws again.
        loop {
            let row: Vec<f64> = (0..d)
                .map(|j| {
                    let g: f64 = StandardNormal.sample(&mut rng);
                    x[(i, j)] + sigma * g
                })
                .collect();
            if row.iter().any(|v| *v != 0.0) {
                rows.push(normalised(row));
                break;
            }
        }
    }
    let labels: Vec<f64> = (0..n)
        .map(|i| {
            let g: f64 = StandardNormal.sample(&mut rng);
            y[i] + sigma * g
        })
        .collect();
    let labels = scaled(labels, scale)?;
    dataset(rows, labels.iter().copied().collect())
}

/// Labels rescaled to `scale` (an all-zero vector is an error).
fn scaled(y: Vec<f64>, scale: LabelScale) -> Result<Col<f64>> {
    let n = y.len();
    let factor = match scale {
        LabelScale::Bounded => 1.0 / y.iter().fold(0.0f64, |m, v| m.max(v.abs())),
        LabelScale::NormN => (n as f64).sqrt() / y.iter().map(|v| v * v).sum::<f64>().sqrt(),
    };
    if !factor.is_finite() {
        return Err(ModelError::InvalidParameter {
            name: "labels",
            value: "0".into(),
            reason: "an all-zero label vector cannot be scaled to max|y_i| = 1 or ‖y‖² = n".into(),
        });
    }
    Ok(Col::from_fn(n, |i| y[i] * factor))
}

fn check_epsilon(family: Family, epsilon: f64, d: usize) -> Result<()> {
    let limit = if family == Family::Xor { (1.0 / (d as f64).sqrt()).asin() } else { PI / 2.0 };
    let inside = if family == Family::Xor { epsilon < limit } else { epsilon <= limit };
    if epsilon > 0.0 && inside {
        return Ok(());
    }
    let range = if family == Family::Xor {
        format!("0 < ε < arcsin(1/√d) = {limit:.6} (d = {d}), so every row keeps its pattern's signs")
    } else {
        "0 < ε ≤ π/2".into()
    };
    Err(ModelError::InvalidParameter {
        name: "epsilon",
        value: epsilon.to_string(),
        reason: format!("family {family} needs an angle {range}"),
    })
}

/// λ0 of the generated data must reach [`LAMBDA0_TOLERANCE`]; [`Dataset::new`] bounds it by pairs only.
fn check_lambda0(family: Family, data: Dataset, params: &FamilyParams) -> Result<Dataset> {
    let lambda0 = crate::lambda0(&data)?;
    if lambda0 >= LAMBDA0_TOLERANCE {
        return Ok(data);
    }
    let (name, value) =
        if family.uses_epsilon() { ("epsilon", params.epsilon.to_string()) } else { ("n", data.n().to_string()) };
    Err(ModelError::InvalidParameter {
        name,
        value,
        reason: format!(
            "family {family} gave λ0 = λmin(H∞) = {lambda0:.3e} at n = {}, d = {}, below the tolerance {LAMBDA0_TOLERANCE:e}",
            data.n(),
            data.d()
        ),
    })
}

/// Unit rows and labels into a [`Dataset`] (rows are normalised here, so ‖x_i‖ = 1 to rounding).
fn dataset(rows: Vec<Vec<f64>>, labels: Vec<f64>) -> Result<Dataset> {
    let (n, d) = (rows.len(), rows.first().map_or(0, Vec::len));
    let x = Mat::from_fn(n, d, |i, j| rows[i][j]);
    Dataset::new(x, Col::from_fn(n, |i| labels[i]), RowNorms::Normalise)
}

fn normalised(mut v: Vec<f64>) -> Vec<f64> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// A uniform point of S^{d−1} (a normalised Gaussian; a zero draw, of probability 0, is drawn again).
fn unit_gaussian(rng: &mut ChaCha8Rng, d: usize) -> Vec<f64> {
    loop {
        let g: Vec<f64> = (0..d).map(|_| StandardNormal.sample(rng)).collect();
        if g.iter().any(|&x| x != 0.0) {
            return normalised(g);
        }
    }
}

/// A uniform unit tangent at the unit vector u (d ≥ 2): a Gaussian with its u-component removed.
fn tangent(rng: &mut ChaCha8Rng, u: &[f64]) -> Vec<f64> {
    loop {
        let g: Vec<f64> = (0..u.len()).map(|_| StandardNormal.sample(rng)).collect();
        let along: f64 = g.iter().zip(u).map(|(a, b)| a * b).sum();
        let t: Vec<f64> = g.iter().zip(u).map(|(a, b)| a - along * b).collect();
        if t.iter().map(|x| x * x).sum::<f64>() > 1e-12 {
            return normalised(t);
        }
    }
}

/// u tilted by angle ε in a uniform tangent direction: cos ε u + sin ε t.
fn tilted(rng: &mut ChaCha8Rng, u: &[f64], epsilon: f64) -> Vec<f64> {
    let t = tangent(rng, u);
    normalised(u.iter().zip(&t).map(|(a, b)| epsilon.cos() * a + epsilon.sin() * b).collect())
}

fn random_sign(rng: &mut ChaCha8Rng) -> f64 {
    if rng.random::<bool>() { 1.0 } else { -1.0 }
}

fn alternating(i: usize) -> f64 {
    if i.is_multiple_of(2) { 1.0 } else { -1.0 }
}

/// The sizes of k contiguous blocks of n rows, the first n mod k one row longer.
fn cluster_sizes(n: usize, k: usize) -> impl Iterator<Item = usize> {
    (0..k).map(move |j| n / k + usize::from(j < n % k))
}

fn clusters(n: usize, d: usize, epsilon: f64, k: usize, rng: &mut ChaCha8Rng) -> Result<Dataset> {
    if k == 0 || k > n {
        return Err(ModelError::InvalidParameter {
            name: "clusters",
            value: k.to_string(),
            reason: format!("the number of clusters k must satisfy 1 ≤ k ≤ n = {n}"),
        });
    }
    let (mut rows, mut labels) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for size in cluster_sizes(n, k) {
        let centre = unit_gaussian(rng, d);
        for p in 0..size {
            rows.push(tilted(rng, &centre, epsilon));
            labels.push(alternating(p));
        }
    }
    dataset(rows, labels)
}

fn circle(angles: Vec<f64>) -> Result<Dataset> {
    let labels = (0..angles.len()).map(alternating).collect();
    dataset(angles.iter().map(|a| vec![a.cos(), a.sin()]).collect(), labels)
}

fn antipodal(n: usize, d: usize, epsilon: f64, rng: &mut ChaCha8Rng, signs: &mut ChaCha8Rng) -> Result<Dataset> {
    let (mut rows, mut labels) = (Vec::with_capacity(n), Vec::with_capacity(n));
    while rows.len() < n {
        let u = unit_gaussian(rng, d);
        let sigma = random_sign(signs);
        let partner = (rows.len() + 1 < n).then(|| tilted(rng, &u, epsilon).iter().map(|x| -x).collect());
        rows.push(u);
        labels.push(sigma);
        if let Some(partner) = partner {
            rows.push(partner);
            labels.push(-sigma);
        }
    }
    dataset(rows, labels)
}

/// ⌈n/2⌉ distinct patterns of the d − 1 free signs (the first sign is +1), uniformly without
/// replacement: by a partial Fisher–Yates shuffle of all 2^{d−1} when they are few, else by
/// rejecting repeats.
fn sign_patterns(count: usize, d: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<bool>> {
    let free = d - 1;
    let total = if free < 63 { Some(1u64 << free) } else { None };
    match total {
        Some(total) if total <= 2 * count as u64 => {
            let mut all: Vec<u64> = (0..total).collect();
            for i in 0..count {
                let j = rng.random_range(i as u64..total) as usize;
                all.swap(i, j);
            }
            all[..count].iter().map(|&bits| (0..free).map(|b| bits >> b & 1 == 1).collect()).collect()
        }
        _ => {
            let (mut seen, mut out) = (HashSet::new(), Vec::with_capacity(count));
            while out.len() < count {
                let p: Vec<bool> = (0..free).map(|_| rng.random::<bool>()).collect();
                if seen.insert(p.clone()) {
                    out.push(p);
                }
            }
            out
        }
    }
}

fn xor(n: usize, d: usize, epsilon: f64, rng: &mut ChaCha8Rng) -> Result<Dataset> {
    if d < 64 && n as u128 > 1u128 << d {
        return Err(ModelError::InvalidParameter {
            name: "n",
            value: n.to_string(),
            reason: format!("family xor needs n ≤ 2^d = {} distinct sign patterns (d = {d})", 1u128 << d),
        });
    }
    let scale = 1.0 / (d as f64).sqrt();
    let (mut rows, mut labels) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for free in sign_patterns(n.div_ceil(2), d, rng) {
        let s: Vec<f64> = std::iter::once(scale).chain(free.iter().map(|&b| if b { -scale } else { scale })).collect();
        for sign in [1.0, -1.0] {
            if rows.len() < n {
                let pattern: Vec<f64> = s.iter().map(|v| sign * v).collect();
                labels.push(pattern.iter().map(|v| v.signum()).product());
                rows.push(tilted(rng, &pattern, epsilon));
            }
        }
    }
    dataset(rows, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda0;

    /// A move keeps the inputs on the sphere and ‖y‖² = n, is the same for the same stream, differs
    /// between streams, moves further with a larger step, and is the identity at σ = 0.
    #[test]
    fn a_search_move_stays_on_the_sphere_and_repeats_by_stream() {
        let params = FamilyParams { d: 3, epsilon: 0.05, ..FamilyParams::default() };
        let data = generate(Family::Clusters, 8, &params, 1, 0).unwrap();
        let distance = |a: &Dataset, b: &Dataset| (a.x().to_owned() - b.x().to_owned()).norm_l2();
        let moved = perturb(&data, 0.1, LabelScale::NormN, 7, 3).unwrap();
        for i in 0..8 {
            assert!((moved.x().row(i).norm_l2() - 1.0).abs() < 1e-14, "row {i} is a unit vector");
        }
        let norm_sq: f64 = moved.y().iter().map(|v| v * v).sum();
        assert!((norm_sq - 8.0).abs() < 1e-12, "‖y‖² = n: {norm_sq}");
        let again = perturb(&data, 0.1, LabelScale::NormN, 7, 3).unwrap();
        assert_eq!(moved.x(), again.x());
        assert_eq!(moved.y(), again.y());
        let other = perturb(&data, 0.1, LabelScale::NormN, 7, 4).unwrap();
        assert!(distance(&moved, &other) > 0.0, "another trial is another move");
        let far = perturb(&data, 1.0, LabelScale::NormN, 7, 3).unwrap();
        assert!(distance(&far, &data) > distance(&moved, &data), "a larger step moves further");
        let still = perturb(&data, 0.0, LabelScale::NormN, 7, 3).unwrap();
        assert_eq!(still.x(), data.x());
        assert!(perturb(&data, f64::NAN, LabelScale::NormN, 7, 3).is_err(), "a NaN step is refused");
        assert!(perturb(&data, -0.1, LabelScale::NormN, 7, 3).is_err(), "a negative step is refused");
    }

    fn params(d: usize, epsilon: f64) -> FamilyParams {
        FamilyParams { d, epsilon, ..FamilyParams::default() }
    }

    fn sphere_lambda0(n: usize, d: usize) -> f64 {
        lambda0(&Dataset::sphere(n, d, 7, 0).unwrap()).unwrap()
    }

    /// The angle between two unit rows, accurate near 0 and π (from ‖a − b‖ and ‖a + b‖).
    fn angle(data: &Dataset, i: usize, j: usize) -> f64 {
        let (a, b) = (data.x().row(i), data.x().row(j));
        let minus: f64 = (0..data.d()).map(|c| (a[c] - b[c]).powi(2)).sum();
        let plus: f64 = (0..data.d()).map(|c| (a[c] + b[c]).powi(2)).sum();
        2.0 * minus.sqrt().atan2(plus.sqrt())
    }

    fn lambda0_of(family: Family, n: usize, p: &FamilyParams) -> f64 {
        lambda0(&generate(family, n, p, 7, 0).unwrap()).unwrap()
    }

    #[test]
    fn every_family_has_unit_rows_labels_in_convention_seeds_and_sizes() {
        for scale in [LabelScale::Bounded, LabelScale::NormN] {
            for family in Family::ALL {
                for n in [1, 2, 7, 8, 16] {
                    let p = FamilyParams { scale, clusters: n.min(2), ..FamilyParams::default() };
                    let a = generate(family, n, &p, 3, 0).unwrap_or_else(|e| panic!("{family} n = {n}: {e}"));
                    assert_eq!((a.n(), a.d()), (n, family.dimension(&p)), "{family}");
                    for i in 0..n {
                        assert!((a.x().row(i).norm_l2() - 1.0).abs() < 1e-12, "{family} row {i}");
                    }
                    let y: Vec<f64> = a.y().iter().copied().collect();
                    let norm_sq: f64 = y.iter().map(|v| v * v).sum();
                    let largest = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    if family == Family::BottomEigenvector {
                        match scale {
                            LabelScale::NormN => assert!((norm_sq - n as f64).abs() < 1e-12 * n as f64, "{norm_sq}"),
                            LabelScale::Bounded => assert!((largest - 1.0).abs() < 1e-15, "{largest}"),
                        }
                    } else {
                        // ±1 labels: both conventions at once.
                        assert!(y.iter().all(|v| v.abs() == 1.0), "{family}: {y:?}");
                        assert_eq!(norm_sq, n as f64);
                    }
                    let b = generate(family, n, &p, 3, 0).unwrap();
                    assert_eq!((a.x(), a.y()), (b.x(), b.y()), "{family} is not deterministic");
                    if n > 1 {
                        let c = generate(family, n, &p, 3, 1).unwrap();
                        assert_ne!(a.x(), c.x(), "{family}: trial 1 repeats trial 0");
                    }
                }
            }
        }
    }

    #[test]
    fn bad_parameters_are_named_errors() {
        let p = FamilyParams::default();
        let name_of = |r: Result<Dataset>| match r {
            Err(ModelError::InvalidParameter { name, .. }) => name,
            other => panic!("expected InvalidParameter, got {other:?}"),
        };
        for family in Family::ALL {
            assert_eq!(name_of(generate(family, 0, &p, 0, 0)), "n", "{family}");
            assert_eq!(Family::from_name(family.name()).unwrap(), family);
            if family.dimension(&p) == p.d {
                assert_eq!(name_of(generate(family, 4, &params(1, 0.05), 0, 0)), "d", "{family}");
                assert_eq!(name_of(generate(family, 4, &params(0, 0.05), 0, 0)), "d", "{family}");
            }
            if family.uses_epsilon() {
                for eps in [0.0, -0.1, f64::NAN, f64::INFINITY, 2.0] {
                    let e = generate(family, 4, &params(4, eps), 0, 0).unwrap_err();
                    assert!(matches!(e, ModelError::InvalidParameter { name: "epsilon", .. }), "{family} {eps}: {e}");
                    assert!(e.to_string().contains(family.name()), "{e}");
                }
            } else {
                // ε is not read: a NaN there changes nothing.
                assert!(generate(family, 4, &params(4, f64::NAN), 0, 0).is_ok(), "{family}");
            }
        }
        let clusters = |k| generate(Family::Clusters, 4, &FamilyParams { clusters: k, ..p }, 0, 0);
        assert_eq!(name_of(clusters(5)), "clusters");
        assert_eq!(name_of(clusters(0)), "clusters");
        assert!(clusters(4).is_ok());
        // xor: at most 2^d patterns, and ε below arcsin(1/√d) = π/6 at d = 4.
        let e = generate(Family::Xor, 17, &params(4, 0.05), 0, 0).unwrap_err();
        assert!(
            matches!(e, ModelError::InvalidParameter { name: "n", .. }) && e.to_string().contains("2^d = 16"),
            "{e}"
        );
        assert!(generate(Family::Xor, 16, &params(4, 0.52), 0, 0).is_ok());
        assert_eq!(name_of(generate(Family::Xor, 16, &params(4, 0.53), 0, 0)), "epsilon");
        // A λ0 below the tolerance is refused even though no pair of rows is close.
        let e = generate(Family::Antipodal, 64, &params(2, 1e-12), 0, 0).unwrap_err();
        assert!(e.to_string().contains("λ0 = λmin(H∞)") && e.to_string().contains("antipodal"), "{e}");
        // Memory is checked before allocating.
        assert!(matches!(generate(Family::Sphere3, usize::MAX, &p, 0, 0), Err(ModelError::TooLarge { .. })));
        let e = Family::from_name("xnor").unwrap_err().to_string();
        assert!(e.contains("\"xnor\"") && Family::ALL.iter().all(|f| e.contains(f.name())), "{e}");
    }

    /// Oracle: the Rayleigh quotient of the labels on H∞ is λ0 (docs/theory.md §6.1).
    #[test]
    fn bottom_eigenvector_labels_are_the_slowest_mode() {
        for (n, d) in [(8, 4), (16, 4), (30, 10)] {
            let data = generate(Family::BottomEigenvector, n, &params(d, 0.05), 11, 2).unwrap();
            let h = h_infinity(data.input_gram());
            let y = data.y();
            let hy: Vec<f64> = (0..n).map(|i| (0..n).map(|j| h[(i, j)] * y[j]).sum()).collect();
            let quotient = (0..n).map(|i| y[i] * hy[i]).sum::<f64>() / (0..n).map(|i| y[i] * y[i]).sum::<f64>();
            let l0 = lambda0(&data).unwrap();
            assert!((quotient - l0).abs() <= 1e-12 * l0, "{quotient} against λ0 = {l0}");
            // Eigenvector, not only a minimiser's value: ‖H∞y − λ0 y‖ small against ‖y‖ = √n.
            let residual = (0..n).map(|i| (hy[i] - l0 * y[i]).powi(2)).sum::<f64>().sqrt();
            assert!(residual < 1e-12 * (n as f64).sqrt(), "{residual}");
            // Sign: the largest |y_i| is positive. Same inputs as the sphere data.
            let top = (0..n).max_by(|&a, &b| y[a].abs().total_cmp(&y[b].abs())).unwrap();
            assert!(y[top] > 0.0);
            assert_eq!(data.x(), Dataset::sphere(n, d, 11, 2).unwrap().x());
        }
    }

    /// λmin of −Θ on the vectors orthogonal to 1, Θ the angles between the given rows.
    fn distance_eigenvalue(data: &Dataset, rows: std::ops::Range<usize>) -> f64 {
        let m = rows.len();
        let theta = Mat::from_fn(m, m, |a, b| angle(data, rows.start + a, rows.start + b));
        let p = Mat::from_fn(m, m, |a, b| f64::from(u8::from(a == b)) - 1.0 / m as f64);
        let projected = &p * (-&theta) * &p + Mat::from_fn(m, m, |_, _| 10.0 / m as f64);
        crate::lambda_min(projected.as_ref()).unwrap()
    }

    /// Oracle: λ0 = min_j λmin_{1⊥}(−Θ_j)/(2π) + O(ε²) over the clusters j (docs/theory.md §6.1).
    #[test]
    fn clusters_lambda0_shrinks_with_epsilon_as_the_distance_formula_says() {
        let (n, d) = (16, 4);
        let p = |epsilon| FamilyParams { d, epsilon, clusters: 4, scale: LabelScale::NormN };
        let sphere = sphere_lambda0(n, d);
        let mut last = f64::INFINITY;
        for eps in [0.4, 0.2, 0.1, 0.05, 0.01, 1e-3] {
            let data = generate(Family::Clusters, n, &p(eps), 7, 0).unwrap();
            let l0 = lambda0(&data).unwrap();
            assert!(l0 < last && l0 < sphere, "ε = {eps}: λ0 = {l0}, before {last}, sphere {sphere}");
            last = l0;
            // Rows at angle ε from a common centre are within 2ε of each other (triangle inequality).
            for (a, b) in (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).filter(|(a, b)| a / 4 == b / 4) {
                assert!(angle(&data, a, b) <= 2.0 * eps + 1e-12, "ε = {eps}: rows {a}, {b}");
            }
            // Interlacing on the closest pair bounds λ0 from above.
            assert!(l0 <= data.closest_pair().unwrap().lambda0_bound);
            let formula =
                (0..4).map(|j| distance_eigenvalue(&data, 4 * j..4 * j + 4)).fold(f64::INFINITY, f64::min) / (2.0 * PI);
            assert!((l0 - formula).abs() <= eps * formula, "ε = {eps}: λ0 = {l0}, formula {formula}");
        }
    }

    /// Oracles: λ0 ≤ (n/4)(1 − (1 − ε/π) cos ε) when n/2 > d, λ0 = ε/(2π) + O(ε²), and λ0 = 0 at ε = 0
    /// (docs/theory.md §6.1).
    #[test]
    fn antipodal_lambda0_is_epsilon_over_two_pi_and_below_the_derived_bound() {
        let (n, d) = (16, 3);
        let sphere = sphere_lambda0(n, d);
        let mut last = f64::INFINITY;
        for eps in [0.1, 0.05, 0.025, 0.0125] {
            let l0 = lambda0_of(Family::Antipodal, n, &params(d, eps));
            let bound = n as f64 / 4.0 * (1.0 - (1.0 - eps / PI) * eps.cos());
            assert!(l0 < last && l0 < sphere && l0 <= bound, "ε = {eps}: λ0 = {l0}, {last}, {sphere}, {bound}");
            last = l0;
        }
        // λ0 = ε/(2π) + O(ε²): the wedge between x_{2k} and −x_{2k+1} holds the whole slow mode.
        for eps in [0.0125, 1e-3, 1e-4] {
            let ratio = lambda0_of(Family::Antipodal, n, &params(d, eps)) / (eps / (2.0 * PI));
            assert!((ratio - 1.0).abs() <= 4.0 * eps, "ε = {eps}: λ0 / (ε/2π) = {ratio}");
        }
        // ε = 0 (built here: the generator refuses it): exactly antipodal pairs, n/2 > d, H∞ singular,
        // while every pair of rows passes Dataset::new's test.
        let data = generate(Family::Antipodal, n, &params(d, 0.05), 7, 0).unwrap();
        // Each pair is antipodal up to exactly ε (a near-duplicate pair would give the same λ0).
        for k in 0..n / 2 {
            assert!((angle(&data, 2 * k, 2 * k + 1) - (PI - 0.05)).abs() < 1e-12, "pair {k}");
        }
        let x = Mat::from_fn(n, d, |i, j| if i % 2 == 0 { data.x()[(i, j)] } else { -data.x()[(i - 1, j)] });
        let exact = Dataset::new(x, Col::zeros(n), RowNorms::default()).unwrap();
        assert!(lambda0(&exact).unwrap().abs() < 1e-14);
    }

    /// Oracles: λ0 between min_k and max_k of δ_k/(2π) to first order, δ_k the angle of pair k from
    /// antipodal; on the whole cube {±1}³/√3 the parity is a null vector of H∞ (docs/theory.md §6.1).
    #[test]
    fn xor_lambda0_is_far_below_sphere_data() {
        for (n, d) in [(8, 3), (16, 4), (16, 5)] {
            let data = generate(Family::Xor, n, &params(d, 0.01), 7, 0).unwrap();
            let (l0, sphere) = (lambda0(&data).unwrap(), sphere_lambda0(n, d));
            assert!(l0 < 0.1 * sphere, "n = {n}, d = {d}: λ0 = {l0}, sphere {sphere}");
            // At the default ε = 0.05 still well below, and shrinking with ε.
            let default = lambda0_of(Family::Xor, n, &params(d, 0.05));
            assert!(l0 < default && default < 0.5 * sphere, "n = {n}, d = {d}: {default}, sphere {sphere}");
            // λ0 = Σ c_k² δ_k / (2π‖c‖²) + O(ε²) on the slow modes, δ_k the pair's angle from antipodal.
            let delta: Vec<f64> = (0..n / 2).map(|k| PI - angle(&data, 2 * k, 2 * k + 1)).collect();
            let (lo, hi) = delta.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
            assert!(0.95 * lo / (2.0 * PI) <= l0 && l0 <= 1.05 * hi / (2.0 * PI), "{l0} against {delta:?}");
            // Labels: the parity of the row's own signs.
            for i in 0..n {
                let parity: f64 = data.x().row(i).iter().map(|v| v.signum()).product();
                assert_eq!(data.y()[i], parity);
            }
        }
        let cube = Mat::from_fn(8, 3, |i, j| if i >> j & 1 == 1 { -1.0 } else { 1.0 } / 3f64.sqrt());
        let parity = Col::from_fn(8, |i| if i.count_ones() % 2 == 1 { -1.0 } else { 1.0 });
        let data = Dataset::new(cube, parity.clone(), RowNorms::default()).unwrap();
        let h = h_infinity(data.input_gram());
        assert!((&h * &parity).norm_l2() < 1e-15, "{:?}", &h * &parity);
    }

    /// Oracles: the odd regular N-gon's H∞ is circulant with eigenvalues Σ_j h(2πj/N) cos(2πjk/N);
    /// the even one with N ≥ 6 is singular (N/2 antipodal pairs > d = 2).
    #[test]
    fn circle_lambda0_matches_the_circulant_spectrum() {
        let h = |t: f64| t.cos() * (PI - t) / (2.0 * PI);
        let p = FamilyParams::default();
        for n in [5, 9, 15] {
            let circulant = (0..n)
                .map(|k| {
                    (0..n)
                        .map(|j| {
                            let t = 2.0 * PI * j as f64 / n as f64;
                            h(t.min(2.0 * PI - t)) * (t * k as f64).cos()
                        })
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min);
            let l0 = lambda0_of(Family::Circle, n, &p);
            assert!((l0 - circulant).abs() < 1e-13, "n = {n}: {l0} against {circulant}");
            let gaps: Vec<f64> =
                (1..n).map(|i| angle(&generate(Family::Circle, n, &p, 7, 0).unwrap(), i - 1, i)).collect();
            assert!(gaps.iter().all(|g| (g - 2.0 * PI / n as f64).abs() < 1e-12), "{gaps:?}");
        }
        let even = Mat::from_fn(6, 2, |i, j| {
            let t = 2.0 * PI * i as f64 / 6.0;
            if j == 0 { t.cos() } else { t.sin() }
        });
        let data = Dataset::new(even, Col::zeros(6), RowNorms::Require { tolerance: 1e-12 }).unwrap();
        assert!(lambda0(&data).unwrap().abs() < 1e-14);
        // Random angles come sorted: labels alternate around the circle.
        let data = generate(Family::CircleRandom, 9, &p, 7, 0).unwrap();
        let phases: Vec<f64> = (0..9).map(|i| data.x()[(i, 1)].atan2(data.x()[(i, 0)]).rem_euclid(2.0 * PI)).collect();
        assert!(phases.windows(2).all(|w| w[0] < w[1]), "{phases:?}");
    }

    /// `dimension_for` is the smallest d at which `generate` draws n points: xor at 2^d ≥ n, and
    /// one dimension fewer is refused.
    #[test]
    fn dimension_for_is_the_smallest_that_generates() {
        let p = params(3, 0.05);
        for n in [4, 8, 9, 16, 33] {
            let d = Family::Xor.dimension_for(n, &p);
            assert_eq!(generate(Family::Xor, n, &params(d, 0.05), 7, 0).unwrap().d(), d, "n = {n}");
            if d > 3 {
                assert!(generate(Family::Xor, n, &params(d - 1, 0.05), 7, 0).is_err(), "n = {n}, d = {}", d - 1);
            }
        }
        assert_eq!(Family::Xor.dimension_for(8, &p), 3);
        assert_eq!(Family::Xor.dimension_for(9, &p), 4);
        assert_eq!(Family::CircleRandom.dimension_for(100, &p), 2);
        assert_eq!(Family::Antipodal.dimension_for(100, &p), 3);
    }

    /// The λ0 table of docs/theory.md §6.1 is this computation, to its three digits: each row's
    /// two entries (n = 8, d = 3 and n = 16, d = 4) against the family's (or the sphere's) λ0.
    #[test]
    fn the_documented_lambda0_table_is_computed() {
        // crates/model → the workspace root.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/model/");
        let theory = std::fs::read_to_string(root.join("docs/theory.md")).expect("docs/theory.md is readable");
        let section = theory.split("### 6.1 ").nth(1).expect("theory has §6.1");
        let rows: Vec<Vec<&str>> = section
            .lines()
            .skip_while(|l| !l.starts_with("| family |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
            .collect();
        assert_eq!(rows.len(), Family::ALL.len() + 1, "{rows:?}");
        let three_digits = |v: f64| format!("{v:.2e}");
        for row in &rows {
            let name = row[0].split('`').nth(1);
            for ((n, d), cell) in [(8, 3), (16, 4)].into_iter().zip(&row[1..]) {
                let value = match name {
                    None => sphere_lambda0(n, d),
                    Some(name) => lambda0_of(Family::from_name(name).unwrap(), n, &params(d, 0.05)),
                };
                assert_eq!(three_digits(value), *cell, "{} at n = {n}, d = {d}", row[0]);
            }
        }
    }
}
