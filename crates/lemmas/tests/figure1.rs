//! Fig. 1's statistics can fail: tests of its inits, bands, slope interval and findings.
//!
//! Inits are independent per (width, seed), bands hold every seed, the slope interval covers a
//! planted slope, and findings follow the numbers.

use lemmas::figure1::{
    Direction, Figure1Config, Figure1Curves, Figure1Result, Figure1Run, Figure1Width, LOSS_TARGET, MeanInterval,
    Nesting, Panel, init_trial, initialisation, iterations_to_target, least_squares_slope, t_interval,
};
use model::Network;
use model::chacha::ChaCha8Blocks;

fn small(nesting: Nesting) -> Figure1Config {
    Figure1Config {
        n: 12,
        d: 6,
        widths: vec![40, 160],
        iterations: 15,
        seeds: 4,
        nesting,
        lambda_min_every: 1,
        sgd_epochs: 0,
        ..Figure1Config::quick()
    }
}

fn rows(net: &Network, rows: usize) -> Vec<f64> {
    (0..rows).flat_map(|r| (0..net.w.ncols()).map(move |c| (r, c))).map(|(r, c)| net.w[(r, c)]).collect()
}

#[test]
fn independent_inits_share_nothing_across_widths_and_seeds() {
    let cfg = small(Nesting::Independent);
    let narrow = initialisation(&cfg, 3, 0).unwrap();
    let wide = initialisation(&cfg, 7, 0).unwrap();
    assert_ne!(rows(&narrow, 3), rows(&wide, 3), "the width-3 init must not be a prefix of the width-7 init");
    let other_seed = initialisation(&cfg, 3, 1).unwrap();
    assert_ne!(rows(&narrow, 3), rows(&other_seed, 3), "seeds 0 and 1 must differ");
    // Every (m, s) pair has its own trial, and none is a nested trial or the data's trial 0.
    let mut trials: Vec<u64> = [1usize, 2, 3, 100, 6400, 25_600, u32::MAX as usize]
        .iter()
        .flat_map(|&m| (0..50).map(move |s| init_trial(m, s, Nesting::Independent)))
        .collect();
    trials.extend((0..50).map(|s| init_trial(1, s, Nesting::Nested)));
    trials.push(0);
    let all = trials.len();
    trials.sort();
    trials.dedup();
    assert_eq!(trials.len(), all, "trials collide");
}

#[test]
fn nested_inits_are_prefixes_and_seed_0_is_the_earlier_single_init() {
    let cfg = small(Nesting::Nested);
    let narrow = initialisation(&cfg, 3, 2).unwrap();
    let wide = initialisation(&cfg, 7, 2).unwrap();
    assert_eq!(rows(&narrow, 3), rows(&wide, 3));
    assert!((0..3).all(|r| narrow.a[r] == wide.a[r]));
    let single = Network::init(7, cfg.d, cfg.seed, 1).unwrap();
    assert_eq!(rows(&initialisation(&cfg, 7, 0).unwrap(), 7), rows(&single, 7));
}

#[test]
fn bands_contain_every_seed_and_runs_repeat() {
    let cfg = small(Nesting::Independent);
    let res = lemmas::figure1::run(&cfg, |_, _| {}).unwrap();
    assert_eq!(res, lemmas::figure1::run(&cfg, |_, _| {}).unwrap(), "same seed, same result");
    for w in &res.widths {
        assert_eq!(w.runs.len(), cfg.seeds);
        for panel in [Panel::Loss, Panel::PatternChange, Panel::Distance, Panel::LambdaMin, Panel::Gap] {
            let band = w.band(panel);
            assert_eq!(band.len(), cfg.iterations + 1, "{panel:?}: one band point per iteration");
            for p in &band {
                assert_eq!(p.seeds, cfg.seeds);
                assert!(p.low <= p.median && p.median <= p.high, "{panel:?} at k = {}", p.k);
                for r in &w.runs {
                    let v = r.curves.panel(panel)[p.k].unwrap();
                    assert!(p.low <= v && v <= p.high, "{panel:?}, m = {}, seed {}, k = {}", w.m, r.seed_index, p.k);
                }
                // The band is tight: its ends are seeds' values.
                let vals: Vec<f64> = w.runs.iter().map(|r| r.curves.panel(panel)[p.k].unwrap()).collect();
                assert!(vals.contains(&p.low) && vals.contains(&p.high));
            }
        }
        // Independent seeds give different curves.
        assert_ne!(w.runs[0].curves.loss, w.runs[1].curves.loss);
    }
    let g = res.gap_slope.as_ref().unwrap();
    assert_eq!(g.seeds_used, cfg.seeds);
    let (lo, hi) = g.interval.unwrap();
    assert!(lo < g.mean && g.mean < hi);
}

#[test]
fn t_interval_matches_the_closed_form() {
    // Values 1, 2, 3: mean 2, sd 1, t_{0.975, 2} = 4.302652729911275.
    let MeanInterval { mean, standard_deviation: sd, interval } = t_interval(&[1.0, 2.0, 3.0], 0.95).unwrap();
    let half = 4.302652729911275 / 3f64.sqrt();
    assert!((mean - 2.0).abs() < 1e-15 && (sd.unwrap() - 1.0).abs() < 1e-15);
    let (lo, hi) = interval.unwrap();
    assert!((lo - (2.0 - half)).abs() < 1e-9 && (hi - (2.0 + half)).abs() < 1e-9, "{lo} {hi}");
    assert_eq!(t_interval(&[5.0], 0.95), Some(MeanInterval { mean: 5.0, standard_deviation: None, interval: None }));
    assert_eq!(t_interval(&[], 0.95), None);
    assert_eq!(least_squares_slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]), Some(2.0));
    assert_eq!(least_squares_slope(&[(1.0, 1.0), (1.0, 3.0)]), None);
}

/// A synthetic run: loss L0·f^k, pattern change and distance rising linearly to the given finals,
/// λmin(H(k)) = λ, the gap rising linearly to `gap`.
fn synthetic_run(
    seed_index: usize,
    k: usize,
    f: f64,
    pattern: f64,
    distance: f64,
    lambda: f64,
    gap: f64,
) -> Figure1Run {
    let t = |i: usize| i as f64 / k as f64;
    Figure1Run {
        seed_index,
        trial: 0,
        status: "completed".into(),
        curves: Figure1Curves {
            loss: (0..=k).map(|i| 50.0 * f.powi(i as i32)).collect(),
            pattern_change_fraction: (0..=k).map(|i| pattern * t(i)).collect(),
            max_weight_distance: (0..=k).map(|i| distance * t(i)).collect(),
            lambda_min_h: (0..=k).map(|_| Some(lambda)).collect(),
            infinite_width_gap: (0..=k).map(|i| gap * t(i)).collect(),
        },
        max_infinite_width_gap: gap,
    }
}

fn synthetic(widths: &[usize], seeds: usize, run: impl Fn(usize, usize) -> Figure1Run) -> Figure1Result {
    let cfg = Figure1Config { widths: widths.to_vec(), seeds, iterations: 100, ..Figure1Config::quick() };
    let ws = widths.iter().map(|&m| Figure1Width { m, runs: (0..seeds).map(|s| run(m, s)).collect() }).collect();
    // η λ0 / 2 = 0.1: the bound's factor q = 0.9.
    Figure1Result::assemble(cfg, 1.0, "synthetic".into(), 0.2, 1.0, ws, vec![])
}

#[test]
fn the_slope_interval_covers_a_planted_slope_at_its_confidence() {
    // Gap = m^β · exp(ε), ε ~ N(0, 0.15²) independently per (width, seed), β = −0.5: the 95% interval
    // must cover β in about 95% of 400 replications (binomial sd ≈ 1.1%), and miss a wrong β.
    let widths = [100usize, 400, 1600, 6400];
    let (reps, seeds) = (400, 6);
    let mut covered = 0;
    let mut covered_wrong = 0;
    let mut rng = ChaCha8Blocks::new(11, 0, model::Purpose::Auxiliary);
    let mut z = vec![0.0; widths.len() * seeds];
    for _ in 0..reps {
        rng.fill_standard_normals(&mut z);
        let noise: Vec<Vec<f64>> = z.chunks(seeds).map(|c| c.iter().map(|e| 0.15 * e).collect()).collect();
        let res = synthetic(&widths, seeds, |m, s| {
            let w = widths.iter().position(|&x| x == m).unwrap();
            synthetic_run(s, 100, 0.7, 0.01, 0.1, 0.2, (m as f64).powf(-0.5) * noise[w][s].exp())
        });
        let (lo, hi) = res.gap_slope.unwrap().interval.unwrap();
        covered += usize::from(lo <= -0.5 && -0.5 <= hi);
        covered_wrong += usize::from(lo <= -0.3 && -0.3 <= hi);
    }
    let rate = covered as f64 / reps as f64;
    assert!((0.91..=0.985).contains(&rate), "coverage {rate}");
    assert!(covered_wrong < reps / 20, "a slope of −0.3 was covered {covered_wrong} times");
}

#[test]
fn findings_follow_the_numbers() {
    let widths = [100usize, 400, 1600];
    // Faster than q = 0.9, falling pattern change and distance.
    let good = synthetic(&widths, 3, |m, s| {
        let x = 100.0 / m as f64;
        synthetic_run(s, 100, 0.6, 0.05 * x + 1e-4 * s as f64, x, 0.2, x.sqrt())
    });
    let f = &good.findings;
    assert_eq!(f.bound.runs, 9);
    assert_eq!((f.bound.runs_faster, f.bound.runs_slower, f.bound.runs_above_bound), (9, 0, 0));
    assert_eq!(f.final_pattern_change.direction, Some(Direction::Falls));
    assert!(f.final_pattern_change.separated);
    assert_eq!(f.final_max_distance.direction, Some(Direction::Falls));
    // Same loss at every width: convergence speed ties.
    assert_eq!(f.iterations_to_target.direction, Some(Direction::NeverRises));
    assert_eq!(iterations_to_target(&good.widths[0].runs[0]), Some((LOSS_TARGET.ln() / 0.6f64.ln()).ceil() as usize));
    assert!(f.lambda_min.iter().all(|r| r.runs_below_half_lambda0 == 0));

    // Slower than q, pattern change rising from 400 to 1600, λmin below λ0/2 at m = 100.
    let bad = synthetic(&widths, 3, |m, s| {
        let p = if m == 1600 { 0.5 } else { 0.01 };
        synthetic_run(s, 100, 0.95, p, 1.0, if m == 100 { 0.05 } else { 0.2 }, 1.0)
    });
    let f = &bad.findings;
    assert_eq!((f.bound.runs_faster, f.bound.runs_slower), (0, 9));
    assert_eq!(f.bound.runs_above_bound, 9);
    assert_eq!(f.bound.first_above, Some((100, 0, 1)));
    assert_eq!(f.final_pattern_change.direction, Some(Direction::Rises { from_m: 400, to_m: 1600 }));
    assert_eq!(f.lambda_min[0].runs_below_half_lambda0, 3);
    assert_eq!(f.iterations_to_target.per_width[0].median, None, "0.95^100 never reaches 1e-10");
}

#[test]
fn bad_configurations_are_named() {
    for (cfg, name) in [
        (Figure1Config { seeds: 0, ..small(Nesting::Independent) }, "seeds"),
        (Figure1Config { confidence: 1.0, ..small(Nesting::Independent) }, "confidence"),
        (Figure1Config { widths: vec![], ..small(Nesting::Independent) }, "widths"),
        (Figure1Config { iterations: 0, ..small(Nesting::Independent) }, "iterations"),
    ] {
        let e = lemmas::figure1::run(&cfg, |_, _| {}).unwrap_err().to_string();
        assert!(e.contains(name), "{e}");
    }
}

#[test]
fn gd_against_sgd_runs_every_seed_from_fig1s_own_inits() {
    let cfg = Figure1Config {
        widths: vec![40, 80, 160],
        iterations: 6,
        sgd_epochs: 6,
        sgd_batch_size: 3,
        ..small(Nesting::Independent)
    };
    let res = lemmas::figure1::run(&cfg, |_, _| {}).unwrap();
    assert_eq!(res.sgd.len(), 2);
    for s in &res.sgd {
        assert_eq!(s.m, 80, "the middle width");
        assert_eq!(s.runs.len(), cfg.seeds, "one comparison per initialisation");
        let width = res.widths.iter().find(|w| w.m == s.m).unwrap();
        // GD from seed s's init at Fig. 1's η is Fig. 1's own run (m, s), epoch by epoch.
        if s.eta == res.eta {
            for (run, fig) in s.runs.iter().zip(&width.runs) {
                for row in &run.by_epoch {
                    let k = row.0;
                    let want = fig.curves.loss[k];
                    assert!(
                        (row.1 - want).abs() <= 1e-12 * want,
                        "seed {}, epoch {k}: {} vs {want}",
                        run.seed_index,
                        row.1
                    );
                }
            }
        }
        // Different inits and batch streams: no two seeds share an SGD trajectory.
        let finals: Vec<f64> = s.runs.iter().map(|r| r.by_epoch.last().unwrap().2).collect();
        for i in 0..finals.len() {
            for j in 0..i {
                assert_ne!(finals[i], finals[j], "seeds {i} and {j} gave the same SGD run");
            }
        }
        // The bands hold every seed and the median lies inside.
        for band in &s.by_epoch {
            let (lo, med, hi) = band.sgd_loss.unwrap();
            let vals: Vec<f64> = s.runs.iter().map(|r| r.by_epoch[band.epoch].2).collect();
            assert_eq!(band.seeds, vals.len());
            assert!(vals.iter().all(|&v| lo <= v && v <= hi) && lo <= med && med <= hi);
            assert!(vals.contains(&lo) && vals.contains(&hi));
        }
        let (completed, lower) = s.final_loss_sgd_lower;
        let want = s.runs.iter().filter(|r| r.completed() && r.by_epoch.last().is_some_and(|l| l.2 < l.1)).count();
        assert_eq!((completed, lower), (s.runs.iter().filter(|r| r.completed()).count(), want));
    }
}

#[test]
fn gd_against_sgd_counts_only_seeds_where_both_completed() {
    use lemmas::figure1::{SgdRun, SgdSummary};
    let run = |s: usize, gd: &str, rows: Vec<(usize, f64, f64, f64, f64, f64, f64)>| SgdRun {
        seed_index: s,
        status: (gd.to_string(), "completed".to_string()),
        by_epoch: rows,
    };
    let summary = SgdSummary::assemble(
        10,
        2,
        0.1,
        3,
        vec![
            run(0, "completed", vec![(0, 4.0, 4.0, 0.0, 0.0, 0.0, 0.0), (1, 2.0, 1.0, 0.1, 0.2, 0.3, 0.4)]),
            run(1, "completed", vec![(0, 6.0, 6.0, 0.0, 0.0, 0.0, 0.0), (1, 3.0, 5.0, 0.1, 0.2, 0.3, 0.4)]),
            run(2, "diverged at iteration 1", vec![(0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0)]),
        ],
    );
    assert_eq!(summary.final_loss_sgd_lower, (2, 1));
    assert_eq!(summary.by_epoch[0].gd_loss, Some((4.0, 5.0, 6.0)));
    assert_eq!(summary.by_epoch[1].seeds, 2);
    assert_eq!(summary.by_epoch[1].sgd_loss, Some((1.0, 3.0, 5.0)));
}
