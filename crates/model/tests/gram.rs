//! Gram matrices against their definitions, their infinite-width limits against Monte Carlo, and thread determinism.

use faer::{Col, Mat, MatRef};
use model::network::{grad_w, preactivations, residual};
use model::{
    Dataset, Network, g_infinity, gram_g, gram_g_direct, gram_h, gram_h_direct, h_infinity, lambda_min, lambda0,
};

fn max_abs_diff(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    let mut worst: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            worst = worst.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    worst
}

fn is_exactly_symmetric(a: MatRef<'_, f64>) -> bool {
    (0..a.nrows()).all(|i| (0..a.ncols()).all(|j| a[(i, j)] == a[(j, i)]))
}

#[test]
fn fast_gram_matrices_match_the_definition() {
    let data = Dataset::sphere(9, 5, 4, 0).unwrap();
    let mut net = Network::init(700, 5, 4, 0).unwrap();
    let z = preactivations(data.x(), net.w.as_ref());
    // Bit-packed path (|a_r| = 1).
    let h = gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
    let h_direct = gram_h_direct(data.x(), net.w.as_ref(), net.a.as_ref());
    assert!(max_abs_diff(h.as_ref(), h_direct.as_ref()) <= 1e-12);
    // Weighted path (a trained away from ±1): H carries a_r².
    net.a = Col::from_fn(700, |r| 0.5 + (r % 7) as f64 * 0.25);
    let h = gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
    let h_direct = gram_h_direct(data.x(), net.w.as_ref(), net.a.as_ref());
    assert!(max_abs_diff(h.as_ref(), h_direct.as_ref()) <= 1e-12);
    let g = gram_g(z.as_ref());
    let g_direct = gram_g_direct(data.x(), net.w.as_ref());
    assert!(max_abs_diff(g.as_ref(), g_direct.as_ref()) <= 1e-12);
}

#[test]
fn gram_matrices_are_symmetric_and_positive_semidefinite() {
    let data = Dataset::sphere(30, 10, 8, 0).unwrap();
    let net = Network::init(500, 10, 8, 0).unwrap();
    let z = preactivations(data.x(), net.w.as_ref());
    let h = gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
    let g = gram_g(z.as_ref());
    let hinf = h_infinity(data.input_gram());
    let ginf = g_infinity(data.input_gram());
    for m in [&h, &g, &hinf, &ginf] {
        assert!(is_exactly_symmetric(m.as_ref()));
        assert!(lambda_min(m.as_ref()).unwrap() >= -1e-12);
    }
    assert!(lambda0(&data).unwrap() > 0.0);
}

#[test]
fn infinite_width_kernels_at_known_angles() {
    // Orthogonal inputs: θ = π/2, so H∞_ij = 0 and G∞_ij = 1/(2π); diagonals exactly 1/2.
    let data = Dataset::orthonormal(3, 4, 0, 0).unwrap();
    let (h, g) = (h_infinity(data.input_gram()), g_infinity(data.input_gram()));
    for i in 0..3 {
        for j in 0..3 {
            let (eh, eg) = if i == j { (0.5, 0.5) } else { (0.0, 0.5 / std::f64::consts::PI) };
            assert_eq!(h[(i, j)], eh);
            assert!((g[(i, j)] - eg).abs() < 1e-16);
        }
    }
    assert_eq!(lambda0(&data).unwrap(), 0.5);
    // c = 1/2: θ = π/3, H∞ = (1/2)(2π/3)/(2π) = 1/6, G∞ = (√3/2 + π/3)/(2π).
    let x = Mat::from_fn(2, 2, |i, j| [[1.0, 0.0], [0.5, 0.75f64.sqrt()]][i][j]);
    let data = Dataset::new(x, Col::zeros(2), Default::default()).unwrap();
    let (h, g) = (h_infinity(data.input_gram()), g_infinity(data.input_gram()));
    assert!((h[(1, 0)] - 1.0 / 6.0).abs() < 1e-15);
    let pi = std::f64::consts::PI;
    assert!((g[(1, 0)] - (0.75f64.sqrt() + pi / 3.0) / (2.0 * pi)).abs() < 1e-15);
}

/// H(0) and G(0) at m = 10⁶ neurons against H∞ and G∞.
///
/// H: each H_ij(0) is a mean of m i.i.d. terms in an interval of length |x_iᵀx_j| ≤ 1, so by
/// Hoeffding and a union bound over n² entries, max_ij |H_ij(0) − H∞_ij| ≤ √(log(2n²/δ)/(2m))
/// with probability ≥ 1 − δ; δ = 10⁻⁶.
/// G: the terms σ(z_i)σ(z_j) are unbounded, so Hoeffding does not apply; their variance is at most
/// E σ(z)⁴ = 3/2 (Cauchy–Schwarz), and the band is 6 standard errors, 6 √(1.5/m) (a normal tail
/// of 2·10⁻⁹ per entry). Both bands are far narrower than any plausible wrong formula.
#[test]
fn infinite_width_closed_forms_match_monte_carlo_at_a_million_neurons() {
    let (n, d, m) = (6usize, 4usize, 1_000_000usize);
    let data = Dataset::sphere(n, d, 21, 0).unwrap();
    let net = Network::init(m, d, 21, 0).unwrap();
    let z = preactivations(data.x(), net.w.as_ref());
    let h = gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
    let g = gram_g(z.as_ref());
    let (hinf, ginf) = (h_infinity(data.input_gram()), g_infinity(data.input_gram()));
    let delta: f64 = 1e-6;
    let h_band = ((2.0 * (n * n) as f64 / delta).ln() / (2.0 * m as f64)).sqrt();
    let g_band = 6.0 * (1.5 / m as f64).sqrt();
    let (dh, dg) = (max_abs_diff(h.as_ref(), hinf.as_ref()), max_abs_diff(g.as_ref(), ginf.as_ref()));
    assert!(dh <= h_band, "max |H(0) − H∞| = {dh} > Hoeffding band {h_band}");
    assert!(dg <= g_band, "max |G(0) − G∞| = {dg} > CLT band {g_band}");
    for i in 0..n {
        assert_eq!(hinf[(i, i)], 0.5);
        assert_eq!(ginf[(i, i)], 0.5);
    }
}

fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

#[test]
fn same_seed_gives_identical_bits_on_one_and_two_threads() {
    let run = || {
        let data = Dataset::sphere(60, 40, 3, 1).unwrap();
        let net = Network::init(3000, 40, 3, 1).unwrap();
        let fw = net.forward(&data).unwrap();
        let r = residual(fw.u.as_ref(), data.y());
        let gw = grad_w(data.x(), fw.z.as_ref(), net.a.as_ref(), r.as_ref());
        let h = gram_h(data.input_gram(), fw.z.as_ref(), net.a.as_ref());
        let g = gram_g(fw.z.as_ref());
        let l0 = lambda0(&data).unwrap();
        let gmin = lambda_min(g.as_ref()).unwrap();
        (fw.u, gw, h, g, l0, gmin)
    };
    let one = on_threads(1, run);
    let two = on_threads(2, run);
    assert!(one.0.iter().zip(two.0.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
    for (a, b) in [(&one.1, &two.1), (&one.2, &two.2), (&one.3, &two.3)] {
        assert!(
            a.col_iter()
                .zip(b.col_iter())
                .all(|(ca, cb)| ca.iter().zip(cb.iter()).all(|(x, y)| x.to_bits() == y.to_bits()))
        );
    }
    assert_eq!(one.4.to_bits(), two.4.to_bits());
    assert_eq!(one.5.to_bits(), two.5.to_bits());
}
