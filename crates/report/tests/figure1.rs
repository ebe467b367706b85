//! The Fig. 1 page says what its numbers say: synthetic results must change the sentences; every width gets its band.
//!
//! The synthetic results are ones where the loss is slower than the bound, a median rises with m,
//! or the slope misses −1/2.

use lemmas::figure1::{Figure1Config, Figure1Curves, Figure1Result, Figure1Run, Figure1Width};
use report::{Provenance, render_figure1};

/// Loss 50·f^k; pattern change, distance and gap rising linearly to their finals; λmin(H(k)) = λ.
fn run(seed_index: usize, f: f64, pattern: f64, distance: f64, lambda: f64, gap: f64) -> Figure1Run {
    let k = 100;
    let rising = |end: f64| -> Vec<f64> { (0..=k).map(|i| end * (i as f64 / k as f64)).collect() };
    let curves = Figure1Curves {
        loss: (0..=k).map(|i| 50.0 * f.powi(i as i32)).collect(),
        pattern_change_fraction: rising(pattern),
        max_weight_distance: rising(distance),
        lambda_min_h: vec![Some(lambda); k + 1],
        infinite_width_gap: rising(gap),
    };
    Figure1Run { seed_index, trial: 0, status: "completed".into(), curves, max_infinite_width_gap: gap }
}

const WIDTHS: [usize; 3] = [100, 400, 1600];

/// η = 1, λ0 = 0.2: the bound's factor is q = 0.9.
fn result(seeds: usize, r: impl Fn(usize, usize) -> Figure1Run) -> Figure1Result {
    let cfg = Figure1Config { widths: WIDTHS.to_vec(), seeds, iterations: 100, ..Figure1Config::quick() };
    let ws = WIDTHS.iter().map(|&m| Figure1Width { m, runs: (0..seeds).map(|s| r(m, s)).collect() }).collect();
    Figure1Result::assemble(cfg, 1.0, "synthetic".into(), 0.2, 1.0, ws, vec![])
}

fn page(res: &Figure1Result) -> String {
    render_figure1(res, &Provenance { seeds: res.config.seeds as u64, ..Default::default() })[0].contents.clone()
}

/// Per-seed jitter in the last digits, so that seeds differ and intervals have width.
fn jitter(s: usize) -> f64 {
    1.0 + 0.01 * s as f64
}

/// The paper's picture: faster than the bound, everything falling with m, gap ∝ m^−1/2.
fn as_the_paper_says(m: usize, s: usize) -> Figure1Run {
    let x = 100.0 / m as f64;
    run(s, 0.6, 0.05 * x * jitter(s), x * jitter(s), 0.2, x.sqrt() * jitter(s * s % 5))
}

#[test]
fn the_paper_s_picture_is_described_as_such() {
    let md = page(&result(3, as_the_paper_says));
    assert!(md.contains("the loss falls faster than the bound's rate on all 9 runs"), "{md}");
    assert!(md.contains("it stays at or below (1 − ηλ0/2)^k L(0) at every iteration on all 9 runs"));
    assert!(md.contains("borne out for \"changes fewer patterns\", \"moves less\""), "{md}");
    assert!(md.contains("only weakly for \"converges faster\""), "equal losses tie: {md}");
    assert!(md.contains("the 1/√m prediction −0.5 lies inside it"), "{md}");
    assert!(md.contains("it stays at or above λ0/2 at every recorded iteration on every seed at every width"));
    assert!(!md.contains("slower than the bound's rate"));
}

#[test]
fn a_loss_slower_than_the_bound_is_called_slower() {
    let md = page(&result(3, |m, s| run(s, 0.95, 0.05 * 100.0 / m as f64, 1.0, 0.2, 1.0)));
    assert!(md.contains("the loss falls slower than the bound's rate on all 9 runs"), "{md}");
    assert!(md.contains("it exceeds (1 − ηλ0/2)^k L(0) on 9 of 9 runs (the first at m = 100, seed 0, k = 1)"), "{md}");
    assert!(!md.contains("faster than the bound's rate on all"));
    // 0.95^100 never reaches 1e-10.
    assert!(md.contains("not reached"));
    // Mixed: one width faster, the others slower.
    let md = page(&result(2, |m, s| run(s, if m == 100 { 0.5 } else { 0.95 }, 0.01, 1.0, 0.2, 1.0)));
    assert!(md.contains("the loss falls faster than the bound's rate on 2 of 6 runs and slower on 4"), "{md}");
}

#[test]
fn a_median_that_rises_with_m_is_reported() {
    let md = page(&result(3, |m, s| {
        let p = if m == 1600 { 0.5 } else { 0.05 * 100.0 / m as f64 };
        run(s, 0.6, p * jitter(s), 1.0 / m as f64, if m == 100 { 0.05 } else { 0.2 }, 1.0 / (m as f64).sqrt())
    }));
    assert!(md.contains("it rises from m = 400 to m = 1600"), "{md}");
    assert!(md.contains("not borne out for \"changes fewer patterns\""), "{md}");
    assert!(md.contains("falls below it at m = 100 (3 of 3 seeds)"), "{md}");
}

#[test]
fn the_slope_sentence_follows_the_interval() {
    // Planted slope −0.3 with small per-seed noise: the interval excludes −0.5 from above.
    let slow = page(&result(4, |m, s| run(s, 0.6, 0.01, 1.0, 0.2, (m as f64).powf(-0.3) * jitter(s * 3 % 4))));
    assert!(slow.contains("the 1/√m prediction −0.5 lies below it: the gap shrinks slower than 1/√m here"), "{slow}");
    let fast = page(&result(4, |m, s| run(s, 0.6, 0.01, 1.0, 0.2, (m as f64).powf(-0.8) * jitter(s * 3 % 4))));
    assert!(fast.contains("the 1/√m prediction −0.5 lies above it: the gap shrinks faster than 1/√m here"), "{fast}");
    let one = page(&result(1, as_the_paper_says));
    assert!(one.contains("one seed gives no interval"), "{one}");
}

#[test]
fn every_width_gets_a_band_in_every_panel() {
    let pages = render_figure1(&result(3, as_the_paper_says), &Provenance::default());
    let svgs: Vec<_> = pages.iter().filter(|p| p.path.ends_with(".svg")).collect();
    assert_eq!(svgs.len(), 5);
    for p in svgs {
        assert_eq!(p.contents.matches("<polygon opacity=\"0.18\"").count(), WIDTHS.len(), "{}", p.path);
    }
}
