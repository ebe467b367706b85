//! The scaling page: measured width thresholds against n, 1/δ and 1/λ0 beside the proofs' exponents.
//!
//! It also shows log-log charts, λ0 on the sphere against its limit, and findings worded from
//! `lemmas::scaling::ScalingFindings`.

use lemmas::registry;
use lemmas::result::Interval;
use lemmas::scaling::{
    Axis, Comparison, HARD_D, HardestExponent, HardestRow, Lambda0Regression, ScalingResult, SearchRecord,
    SeriesFinding, SeriesResult, proof_orders,
};

use crate::chart::{ErrorBar, ErrorBars, LineChart, Series, render_line_chart};
use crate::claims::{provenance_section, threshold_text};
use crate::format::{interval_in, markdown_table, number, table_of, width};
use crate::{Page, Provenance};

/// An exponent interval: "[a, b]", "≥ a", "≤ b", "unbounded".
pub fn exponent_text(i: &Interval) -> String {
    interval_in(i, |a, b| format!("[{a}, {b}]"), "≤", "unbounded")
}

fn opt(x: Option<f64>) -> String {
    x.map_or("—".into(), number)
}

/// An interval of ratios of widths: "a–b", "≥ a", "≤ b", "—".
fn ratio_text(i: &Interval) -> String {
    interval_in(i, |a, b| format!("{a}–{b}"), "≤", "—")
}

/// Every registered bound's slope along the series (`registry::series_slope`), or "—".
fn published_slopes(s: &SeriesResult) -> String {
    let points: Vec<(f64, registry::Point)> = s
        .points
        .iter()
        .map(|p| (p.x, registry::Point { n: p.n as f64, lambda0: p.lambda0, delta: p.delta, d: p.d as f64 }))
        .collect();
    // Bounds of one paper with the same slope share one entry: "Du et al. 2019 Thm 3.2, Thm 4.1: 6".
    let mut slopes: Vec<(String, Vec<&str>, String)> = Vec::new();
    for b in registry::BOUNDS {
        let Some(v) = registry::series_slope(b, &points) else { continue };
        let (paper, value) = (format!("{} {}", b.source.authors_short(), b.source.year), number(v));
        match slopes.iter_mut().find(|(p, _, v)| *p == paper && *v == value) {
            Some((_, theorems, _)) => theorems.push(b.theorem),
            None => slopes.push((paper, vec![b.theorem], value)),
        }
    }
    if slopes.is_empty() {
        return "—".into();
    }
    slopes.iter().map(|(p, t, v)| format!("{p} {}: {v}", t.join(", "))).collect::<Vec<_>>().join("; ")
}

/// A finding as a sentence.
fn finding_sentence(f: &SeriesFinding) -> String {
    let mut s = format!("**{}** against {}: measured exponent {}", f.name, f.variable, exponent_text(&f.measured));
    if let Some(a) = f.slope {
        s.push_str(&format!(" (midpoint fit {})", number(a)));
    }
    match (f.proof_order, f.against_proof) {
        (Some(o), Some(Comparison::Below)) => {
            s.push_str(&format!(", entirely below the proof's exponent {}", number(o)));
        }
        (Some(o), Some(Comparison::Above)) => {
            s.push_str(&format!(", entirely above the proof's exponent {} (steeper than the proof)", number(o)));
        }
        (Some(o), _) => s.push_str(&format!(", consistent with the proof's exponent {}", number(o))),
        (None, _) => s.push_str(" (the proof needs no width for it)"),
    }
    if f.every_width {
        s.push_str("; it held at every width, m* = 1, at every point");
    } else if f.contains_zero {
        s.push_str("; no dependence on it is measurable here (the interval contains 0)");
    }
    if let Some((_, r)) = &f.last_ratio {
        s.push_str(&format!("; at the last point the proof asks {} times the measured threshold", ratio_text(r)));
    }
    s.push('.');
    s
}

/// The value of the series' variable at a point, as printed.
fn variable_value(s: &SeriesResult, i: usize) -> String {
    let p = &s.points[i];
    match s.axis {
        Axis::N => p.n.to_string(),
        Axis::Delta => number(1.0 / p.delta),
        Axis::Lambda0 => number(1.0 / p.lambda0),
    }
}

fn chart_slug(s: &SeriesResult) -> String {
    let axis = match s.axis {
        Axis::N => "n",
        Axis::Delta => "delta",
        Axis::Lambda0 => "lambda0",
    };
    if s.data.is_empty() {
        format!("{}-{}-{axis}", s.claim.key(), s.event)
    } else {
        format!("{}-{}-{}-{axis}", s.claim.key(), s.event, s.data)
    }
}

/// A series' heading: claim, event, the data family (hardest-data runs) and the variable.
fn series_title(s: &SeriesResult) -> String {
    let on = if s.data.is_empty() { String::new() } else { format!(" on `{}` data", s.data) };
    format!("{} ({}): `{}`{on} against {}", s.slide, s.paper, s.event, s.axis.variable())
}

/// A hardest-data finding as a sentence: the family that needed the most width at one n, beside
/// sphere data; or why none can be named.
pub fn hardest_sentence(r: &HardestRow) -> String {
    let sphere = match (&r.sphere, r.sphere_lambda0) {
        (Some(t), Some(l)) => format!("sphere data at d = {HARD_D} (λ0 = {}): m* in {}", number(l), threshold_text(t)),
        _ => "no sphere data ran at this n".into(),
    };
    if r.data.is_empty() {
        return format!(
            "**{}** at n = {}: none of the {} data sets refuted a width, so none can be named the hardest (undetermined: every width tested was supported, or no width could be decided); {sphere}.",
            r.name, r.n, r.kinds
        );
    }
    let lower = r.threshold.lower.unwrap_or(0);
    let mut text = format!(
        "**{}** at n = {}: `{}` (d = {}, λ0 = {}) needs the most width of the {} data sets, m* in {}; {sphere}. The worst of them needs more than m = {lower} (at level {}%, every data set's search error counted)",
        r.name,
        r.n,
        r.data,
        r.d,
        number(r.lambda0),
        r.kinds,
        threshold_text(&r.threshold),
        number(100.0 * r.level)
    );
    if !r.ties.is_empty() {
        let ties: Vec<String> = r.ties.iter().map(|t| format!("`{t}`")).collect();
        text.push_str(&format!(
            "; it ties with {} (the same threshold: the seeds and the widths tested do not order them).",
            ties.join(", ")
        ));
    } else if r.data == "sphere" {
        text.push_str("; sphere data is itself the hardest here.");
    } else if r.sphere.as_ref().and_then(|t| t.upper).is_some_and(|u| u <= lower) {
        text.push_str(", more than sphere data needs at all.");
    } else {
        text.push_str(", and its interval overlaps the sphere's: the seeds do not separate the two.");
    }
    text
}

/// A data search as a sentence: what the search saw (its own, selection-biased estimate) and what
/// fresh seeds say of its winner against the start; or why it did not run.
pub fn search_sentence(r: &SearchRecord) -> String {
    let (Some(found), Some(fresh)) = (&r.search, &r.fresh) else {
        return format!(
            "**{}** at n = {}: no data search ({}).",
            r.name,
            r.n,
            r.skipped.as_deref().unwrap_or("not run")
        );
    };
    let k = found.seeds_per_step;
    let accepted = found.steps.iter().filter(|s| s.accepted).count();
    let mut text = format!(
        "**{}** at n = {}: from `{}` (λ0 = {}, m* in {}) the search ran {} steps and stopped because {}; ",
        r.name,
        r.n,
        r.start,
        opt(r.start_lambda0),
        threshold_text(&r.start_threshold),
        found.steps.len(),
        found.stop.words()
    );
    if accepted == 0 {
        text.push_str(&format!(
            "no candidate failed more often than the start at m = {} (it failed on {} seeds of the first step's {k}), so the winner is the start itself. ",
            r.width, found.start_failures
        ));
    } else {
        text.push_str(&format!(
            "its winner (λ0 = {}, {accepted} moves accepted) failed at m = {} on {} seeds of a step's {k}, against the start's {} on the first step — the search's own estimate, biased upward because it picks the best of its candidates on the same noise. ",
            number(found.winner_lambda0),
            r.width,
            found.winner_failures,
            found.start_failures
        ));
    }
    let start = &r.start_threshold;
    let verdict = if fresh.lower.is_some_and(|l| start.upper.is_some_and(|u| l >= u)) {
        "entirely above the start's: fresh seeds confirm harder data at a λ0 no smaller than the start's"
    } else if fresh.upper.is_some_and(|u| start.lower.is_some_and(|l| u <= l)) {
        "entirely below the start's: the fresh seeds show the winner easier than the start"
    } else {
        "overlapping the start's: the fresh seeds do not show the winner harder than the start"
    };
    text.push_str(&format!(
        "From fresh, independent seeds its threshold is m* in {}, {verdict}.",
        threshold_text(fresh)
    ));
    text
}

/// The exponent of the hardest data found, as a sentence.
pub fn hardest_exponent_sentence(e: &HardestExponent) -> String {
    let Some(fit) = &e.fit else {
        return format!("**{}**, the hardest data found at each n: fewer than two n, no exponent.", e.name);
    };
    let mut text = format!(
        "**{}**, the hardest data found at each n (the largest threshold among the data run there, which the worst data set needs at least): exponent against n {} at joint level {}%",
        e.name,
        exponent_text(&fit.interval),
        number(100.0 * e.level)
    );
    if let Some(a) = fit.slope {
        text.push_str(&format!(" (midpoint fit {})", number(a)));
    }
    text.push_str(". It is the exponent of these data sets' envelope: the worst data need at least the envelope at every n, which bounds their widths, not their exponent.");
    text
}

/// The fit against n and 1/λ0 together, as a sentence.
pub fn lambda0_regression_sentence(r: &Lambda0Regression) -> String {
    let (Some(n), Some(l)) = (&r.n, &r.lambda0) else {
        return format!(
            "**{}** against n and 1/λ0 together: no fit (fewer than three points, or n and λ0 do not vary independently).",
            r.name
        );
    };
    let mut text = format!(
        "**{}** over {} thresholds (every data set at every n) against n and 1/λ0 together: the exponent of n at fixed λ0 is {}, that of 1/λ0 at fixed n {} (each at level {}%)",
        r.name,
        r.points,
        exponent_text(&n.interval),
        exponent_text(&l.interval),
        number(100.0 * r.level)
    );
    if let Some((pn, pl)) = r.proof {
        let side = |i: &Interval, o: f64| match Comparison::of(*i, o) {
            Comparison::Below => "the measured one lies below it",
            Comparison::Above => "the measured one lies above it",
            Comparison::Contains => "the measured one is consistent with it",
        };
        text.push_str(&format!(
            "; the proof's are {} for n ({}) and {} for 1/λ0 ({})",
            number(pn),
            side(&n.interval, pn),
            number(pl),
            side(&l.interval, pl)
        ));
    }
    text.push('.');
    text
}

/// The data searches: how each ran, the search's estimate beside the fresh interval.
fn search_section(searches: &[SearchRecord]) -> String {
    if searches.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "## The data search

From the hardest data at each n whose threshold is placed at both ends, a local search ([theory §6.1](theory.md#the-data-search)) moves every input on the sphere and the labels (‖y‖² = n) to make the event fail more often at the start's refuted width m_s, never taking data whose λ0 is below the start's (the comparison is at matched λ0). Every data set of a step is judged on the same seeds. The search picks its winner on that noise, so its own failure count is biased upward; the winner's threshold is therefore measured again from fresh seeds, independent of the search's, by the same sound threshold search as every other row, and it is that interval the findings and the exponents use.

",
    );
    for r in searches {
        md.push_str(&format!(
            "- {}
",
            search_sentence(r)
        ));
    }
    md.push('\n');
    let rows: Vec<Vec<String>> = searches
        .iter()
        .map(|r| {
            let found = r.search.as_ref();
            vec![
                r.name.clone(),
                r.n.to_string(),
                if r.start.is_empty() { "—".into() } else { format!("`{}`", r.start) },
                opt(r.start_lambda0),
                threshold_text(&r.start_threshold),
                if r.width == 0 { "—".into() } else { r.width.to_string() },
                found.map_or("—".into(), |f| format!("{} → {}", f.start_failures, f.winner_failures)),
                found.map_or("—".into(), |f| number(f.winner_lambda0)),
                found.map_or("—".into(), |f| {
                    format!("{} ({} accepted)", f.steps.len(), f.steps.iter().filter(|s| s.accepted).count())
                }),
                r.fresh.as_ref().map_or_else(|| "not run".into(), threshold_text),
            ]
        })
        .collect();
    md.push_str(&markdown_table(
        &[
            "event",
            "n",
            "start",
            "start λ0",
            "start m* in",
            "m_s",
            "failures at m_s: start → winner (search's estimate)",
            "winner λ0",
            "steps",
            "winner m* in (fresh seeds)",
        ],
        &rows,
    ));
    md.push('\n');
    md
}

/// The log-log chart of m* against the variable: threshold intervals as bars, the fit through the
/// midpoints and the proof's exponent drawn through the same centroid.
fn threshold_chart(s: &SeriesResult) -> String {
    let xs: Vec<f64> = s.points.iter().map(|p| p.x.exp()).collect();
    let mut bars = Vec::new();
    let mut mids = Vec::new();
    for (p, &x) in s.points.iter().zip(&xs) {
        let t = &p.threshold.search.threshold;
        let low = t.lower.map_or(1.0, |l| l as f64);
        if let Some(u) = t.upper {
            bars.push(ErrorBar { x, low, high: u as f64 });
            mids.push((x, (low * u as f64).sqrt()));
        }
    }
    // One point per x: the geometric mean of the midpoints of the data draws there.
    let mut line: Vec<(f64, f64, usize)> = Vec::new();
    for &(x, y) in &mids {
        match line.iter_mut().find(|(lx, _, _)| (*lx - x).abs() <= 1e-9 * x) {
            Some(p) => {
                p.1 += y.ln();
                p.2 += 1;
            }
            None => line.push((x, y.ln(), 1)),
        }
    }
    let points = line.iter().map(|&(x, s, k)| (x, (s / k as f64).exp())).collect();
    let mut series =
        vec![Series { label: "threshold interval midpoint (geometric mean over data draws)".into(), points }];
    if let Some(fit) = &s.fit
        && let (Some(a), Some(b)) = (fit.slope, fit.intercept)
    {
        let (x0, x1) = (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(0.0, f64::max));
        series.push(Series {
            label: format!("fit: slope {}", number(a)),
            points: vec![(x0, (b + a * x0.ln()).exp()), (x1, (b + a * x1.ln()).exp())],
        });
        if let Some(o) = s.proof_order {
            let cx = s.points.iter().map(|p| p.x).sum::<f64>() / s.points.len() as f64;
            let cy = b + a * cx;
            series.push(Series {
                label: format!("proof's exponent {} through the same centroid", number(o)),
                points: vec![(x0, (cy + o * (x0.ln() - cx)).exp()), (x1, (cy + o * (x1.ln() - cx)).exp())],
            });
        }
    }
    render_line_chart(&LineChart {
        title: format!("{} ({}): width threshold m* against {}", s.slide, s.event, s.axis.variable()),
        x_label: s.axis.variable().into(),
        y_label: "m* (threshold interval)".into(),
        log_x: true,
        log_y: true,
        y_range: None,
        series,
        error_bars: vec![ErrorBars { label: "threshold interval (lower, upper]".into(), bars }],
        reference_lines: vec![],
    })
}

/// Proof width ÷ threshold against the variable.
fn ratio_chart(s: &SeriesResult) -> String {
    let mut bars = Vec::new();
    let mut mids = Vec::new();
    for p in &s.points {
        let x = p.x.exp();
        if let (Some(a), Some(b)) = (p.proof_over_threshold.lower, p.proof_over_threshold.upper) {
            bars.push(ErrorBar { x, low: a, high: b });
            mids.push((x, (a * b).sqrt()));
        }
    }
    render_line_chart(&LineChart {
        title: format!("{} ({}): how many times wider the proof asks", s.slide, s.event),
        x_label: s.axis.variable().into(),
        y_label: "proof width ÷ m*".into(),
        log_x: true,
        log_y: true,
        y_range: None,
        series: vec![Series { label: "proof ÷ threshold (midpoint)".into(), points: mids }],
        error_bars: vec![ErrorBars { label: "proof ÷ (upper, lower]".into(), bars }],
        reference_lines: vec![],
    })
}

/// Renders the scaling record: `index.md` and its charts under `img/`.
pub fn render_scaling(res: &ScalingResult, prov: &Provenance) -> Vec<Page> {
    let mut pages = Vec::new();
    let hardest = res.profile.is_hardest();
    let mut md = String::from(if hardest {
        "# The hardest data: how much width structured inputs and labels need\n\n"
    } else {
        "# How much width is really needed\n\n"
    });
    if hardest {
        md.push_str(&format!(
            "The theorems hold for every data set with λ0 > 0 and every bounded label vector; random sphere data \
is easy. Each series here runs one event on one data family of [theory §6.1](theory.md#61-structured-hard-data-families) \
(or on sphere data at d = {HARD_D}, the comparison) over n, and each row is its empirical width threshold (lower, upper] \
of [theory §3.7](theory.md#37-width-thresholds): lower is a width where the event was refuted, upper one from which \
every tested width is supported. The hardest data at an n is the one with the largest refuted width, a lower \
bound on what the worst data set needs; its level counts the search errors of every data set it was chosen \
among. The exponent of a family over n is a lower bound on the worst-case exponent only for that family. λ0 \
is given beside every point: the proofs' widths grow as λ0⁻⁴.\n\n"
        ));
    } else {
        md.push_str(
        "Each row is the empirical width threshold of one event at one configuration: the interval \
(lower, upper] of [theory §3.7](theory.md#37-width-thresholds), found by the search of \
[theory §6](theory.md#6-scaling-of-the-needed-width) (a geometric grid extended up and down, bisection, \
sequential anytime-valid looks; lower is a width where the event was refuted, upper one from which \
every tested width is supported). Exponents are fitted as log m* = α x + β by interval regression, \
widened by a Student-t term for the scatter about the line; each series searches its k points at α/k \
each, so every exponent interval below holds at the joint level stated with it. Data: x_i uniform on the sphere, y ~ N(0, 1); \
the n-series draw several data sets per n (d = n); the 1/λ0-series vary d at fixed n, which moves λ0 but also \
the inputs' correlations, so its exponent is that of this family, not of λ0 alone.\n\n",
        );
    }
    md.push_str("## Findings\n\n");
    for r in &res.findings.hardest {
        md.push_str(&format!("- {}\n", hardest_sentence(r)));
    }
    for e in &res.findings.hardest_exponents {
        md.push_str(&format!("- {}\n", hardest_exponent_sentence(e)));
    }
    for r in &res.findings.lambda0_regressions {
        md.push_str(&format!("- {}\n", lambda0_regression_sentence(r)));
    }
    for f in &res.findings.series {
        md.push_str(&format!("- {}\n", finding_sentence(f)));
    }
    if let (Some((n0, g0)), Some((n1, g1))) = (res.findings.lambda0_gap_smallest_n, res.findings.lambda0_gap_largest_n)
    {
        md.push_str(&format!(
            "- λ0 of the sphere data with d = n lies on average {}% from its large-n limit ¼ + ¼(1 − √(n/d))² = ¼ at n = {n0} and {}% at n = {n1}{}.\n",
            number(100.0 * g0),
            number(100.0 * g1),
            if g1 < g0 {
                ": the generator and the kernel approach the limit as n grows"
            } else {
                ": the gap does not shrink with n, which the limit predicts it should (check the generator and H∞)"
            }
        ));
    }
    md.push_str(&format!(
        "- Sanity identities failed on {} seeds{}.\n",
        res.findings.sanity_failures,
        if res.findings.sanity_failures == 0 { "" } else { ": a bug (the run exits with status 3)" }
    ));
    md.push_str(&format!(
        "- {} seeds were evaluated over every configuration; testing each width at its last look would have taken {} (sequential stopping saved {}%).\n\n",
        res.seeds_total,
        res.seeds_without_stopping,
        number(100.0 * (1.0 - res.seeds_total as f64 / res.seeds_without_stopping.max(1) as f64))
    ));

    md.push_str(&search_section(&res.searches));
    if !res.left_out.is_empty() {
        md.push_str("## Left out for cost\n\nThe profile names these configurations but does not run them: the flop model (the forecast's) puts their search over the allowance. A flow runs to λ0·T = 8, so its cost grows as 1/λ0, and the hardest data have the smallest λ0.\n\n");
        md.push_str(&table_of(
            &["event", "data", "n", "d", "λ0", "s per seed at the largest width", "search bound", "why"],
            &res.left_out,
            |l| {
                vec![
                    l.name.clone(),
                    format!("`{}`", l.data),
                    l.n.to_string(),
                    l.d.to_string(),
                    opt(l.lambda0),
                    number(l.seed_seconds),
                    format!("{} s", number(l.bound_seconds)),
                    l.reason.clone(),
                ]
            },
        ));
        md.push('\n');
    }
    md.push_str("## Exponents side by side\n\n");
    md.push_str(
        "Measured α with its interval; the proof's local slope (the least-squares slope of the project's \
proof width, constants and logarithms included, at the same points); Du et al.'s nominal exponent; a \
published bound's slope at the same points (below); the slope of the parameter-count floor m ≥ n/d \
(md ≥ n is necessary for λmin(H(0)) > 0).\n\n",
    );
    let rows: Vec<Vec<String>> = res
        .series
        .iter()
        .map(|s| {
            let orders = proof_orders(s.claim, &s.event);
            vec![
                format!("{} ({})", s.slide, s.paper),
                if s.data.is_empty() { format!("`{}`", s.event) } else { format!("`{}` on `{}`", s.event, s.data) },
                s.axis.variable().into(),
                s.fit.as_ref().map_or("—".into(), |f| exponent_text(&f.interval)),
                s.fit.as_ref().map_or("—".into(), |f| opt(f.slope)),
                opt(s.proof_slope),
                orders.as_ref().map_or("— (any width)".into(), |o| {
                    format!("{} ({})", number(s.proof_order.unwrap_or(f64::NAN)), o.formula)
                }),
                published_slopes(s),
                opt(s.floor_slope),
            ]
        })
        .collect();
    let mut rows = rows;
    for e in &res.findings.hardest_exponents {
        let Some(fit) = &e.fit else { continue };
        rows.push(vec![
            e.name.clone(),
            "the hardest found at each n".into(),
            "n".into(),
            format!("{} (joint level {}%)", exponent_text(&fit.interval), number(100.0 * e.level)),
            opt(fit.slope),
            "—".into(),
            "—".into(),
            "—".into(),
            "—".into(),
        ]);
    }
    for r in &res.findings.lambda0_regressions {
        for (fit, against, order) in
            [(&r.n, "n at fixed λ0", r.proof.map(|p| p.0)), (&r.lambda0, "1/λ0 at fixed n", r.proof.map(|p| p.1))]
        {
            let Some(fit) = fit else { continue };
            rows.push(vec![
                r.name.clone(),
                "every data set, λ0 a regressor".into(),
                against.into(),
                format!("{} (level {}%)", exponent_text(&fit.interval), number(100.0 * r.level)),
                opt(fit.slope),
                "—".into(),
                order.map_or("—".into(), number),
                "—".into(),
                "—".into(),
            ]);
        }
    }
    md.push_str(&markdown_table(
        &[
            "claim",
            "event",
            "against",
            "measured α",
            "midpoint",
            "proof's local slope",
            "Du et al.",
            "published bounds' local slopes",
            "floor md ≥ n",
        ],
        &rows,
    ));
    md.push_str(
        "\nPublished bounds' local slopes: each bound of the registry ([theory §6.2](theory.md#62-published-width-bounds)), \
its width evaluated at every point's n, λ0, δ and d and fitted against the same variable as the thresholds, so the λ0 \
of each point moves it as it moves the proof's width. These are the convergence theorems' widths (order only, implicit \
constant 1), shown beside every event for scale: a lemma's own premise is the project's proof width.\n\n",
    );

    if !hardest {
        md.push_str("## λ0 on the sphere\n\n");
    }
    let header = ["n", "d", "data seed", "λ0 = λmin(H∞)", "limit ¼ + ¼(1 − √(n/d))²", "gap"];
    md.push_str(&if hardest {
        String::new()
    } else {
        table_of(&header, &res.lambda0, |r| {
            vec![
                r.n.to_string(),
                r.d.to_string(),
                r.master_seed.to_string(),
                number(r.lambda0),
                opt(r.limit),
                r.limit.map_or("—".into(), |l| format!("{}%", number(100.0 * (r.lambda0 - l) / l))),
            ]
        })
    });
    md.push('\n');

    for s in &res.series {
        md.push_str(&format!("## {}\n\n", series_title(s)));
        md.push_str(&format!("{} Claimed probability: {}.\n\n", s.description, number(s.target)));
        let rows: Vec<Vec<String>> = (0..s.points.len())
            .map(|i| {
                let p = &s.points[i];
                let search = &p.threshold.search;
                let mut row = vec![
                    p.n.to_string(),
                    p.d.to_string(),
                    number(p.delta),
                    number(p.lambda0),
                    threshold_text(&search.threshold),
                    search.tests.len().to_string(),
                    search.seeds_total.to_string(),
                    width(p.proof_width),
                    ratio_text(&p.proof_over_threshold),
                ];
                if s.axis != Axis::N {
                    row.insert(0, variable_value(s, i));
                }
                row
            })
            .collect();
        let mut header = vec!["n", "d", "δ", "λ0", "m* in", "widths tested", "seeds", "proof width", "proof ÷ m*"];
        if s.axis != Axis::N {
            header.insert(0, s.axis.variable());
        }
        md.push_str(&markdown_table(&header, &rows));
        if let Some(f) = &s.fit {
            md.push_str(&format!(
                "\nFit over {} points: α ∈ {}{} (box over the threshold intervals {}, ± t = {} × standard error {}).\n",
                f.points,
                exponent_text(&f.interval),
                if res.joint_confidence > 0.0 {
                    format!(" at joint level {}%", number(100.0 * res.joint_confidence))
                } else {
                    " (a record made before joint levels were stated: the interval has no joint level)".to_string()
                },
                exponent_text(&f.slope_box),
                number(f.t),
                number(f.standard_error)
            ));
        }
        let slug = chart_slug(s);
        pages.push(Page { path: format!("img/{slug}-threshold.svg"), contents: threshold_chart(s) });
        md.push_str(&format!("\n![{} threshold](img/{slug}-threshold.svg)\n", s.slide));
        if s.proof_order.is_some() {
            pages.push(Page { path: format!("img/{slug}-proof-ratio.svg"), contents: ratio_chart(s) });
            md.push_str(&format!("![{} proof ÷ threshold](img/{slug}-proof-ratio.svg)\n", s.slide));
        }
        md.push('\n');
    }
    md.push_str(&provenance_section(prov));
    pages.insert(0, Page { path: "index.md".into(), contents: md });
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three notations of an interval with optional ends, in each of their four cases.
    #[test]
    fn intervals_read_in_their_notations() {
        let (a, b) = (0.25, 1.5e6);
        let (na, nb) = (number(a), number(b));
        let cases = [(Some(a), Some(b)), (Some(a), None), (None, Some(b)), (None, None)];
        let texts = |f: fn(&Interval) -> String| -> Vec<String> {
            cases.iter().map(|&(lower, upper)| f(&Interval { lower, upper })).collect()
        };
        assert_eq!(
            texts(crate::claims::interval_text),
            [format!("[{na}, {nb})"), format!("≥ {na}"), format!("< {nb}"), "—".into()]
        );
        assert_eq!(
            texts(exponent_text),
            [format!("[{na}, {nb}]"), format!("≥ {na}"), format!("≤ {nb}"), "unbounded".into()]
        );
        assert_eq!(texts(ratio_text), [format!("{na}–{nb}"), format!("≥ {na}"), format!("≤ {nb}"), "—".into()]);
    }

    /// Each hardest-data finding says what its numbers show: a family above sphere data, an
    /// overlap, a tie, sphere data itself, and no refuted width (undetermined).
    #[test]
    fn hardest_sentences_follow_the_numbers() {
        use lemmas::result::Threshold;
        let t = |lower, upper| Threshold { lower, upper, undetermined: None };
        let row = HardestRow {
            name: "Lem 2.2 (statement)".into(),
            n: 8,
            data: "xor".into(),
            d: 3,
            lambda0: 0.015,
            threshold: t(Some(4096), Some(8192)),
            sphere: Some(t(Some(256), Some(512))),
            sphere_lambda0: Some(0.048),
            ties: Vec::new(),
            kinds: 6,
            level: 0.925,
            envelope: None,
            error: 0.075,
        };
        let above = hardest_sentence(&row);
        assert!(
            above.contains("`xor` (d = 3, λ0 = 0.015)") && above.contains("more than sphere data needs"),
            "{above}"
        );
        assert!(above.contains("more than m = 4096 (at level 92.5%"), "{above}");
        let overlap = hardest_sentence(&HardestRow { sphere: Some(t(Some(2048), Some(8192))), ..row.clone() });
        assert!(overlap.contains("overlaps the sphere's"), "{overlap}");
        let tie = hardest_sentence(&HardestRow { ties: vec!["clusters".into()], ..row.clone() });
        assert!(tie.contains("ties with `clusters`"), "{tie}");
        let sphere = hardest_sentence(&HardestRow { data: "sphere".into(), ..row.clone() });
        assert!(sphere.contains("sphere data is itself the hardest"), "{sphere}");
        let none = hardest_sentence(&HardestRow { data: String::new(), threshold: t(None, Some(64)), ..row });
        assert!(none.contains("undetermined") && !none.contains("more than m ="), "{none}");
    }

    /// The hardest-found exponent says its interval and level, and that it is an envelope's.
    #[test]
    fn the_hardest_exponent_sentence_follows_the_numbers() {
        use lemmas::fit::{FitPoint, fit_exponent};
        let points = [
            FitPoint { x: 4f64.ln(), lower: 1000f64.ln(), upper: Some(2000f64.ln()) },
            FitPoint { x: 8f64.ln(), lower: 8000f64.ln(), upper: Some(16000f64.ln()) },
        ];
        let e = HardestExponent { name: "Lem 2.2 (statement)".into(), fit: fit_exponent(&points, 0.975), level: 0.9 };
        let text = hardest_exponent_sentence(&e);
        assert!(text.contains("exponent against n [2, 4] at joint level 90%") && text.contains("envelope"), "{text}");
        let none = hardest_exponent_sentence(&HardestExponent { fit: None, ..e });
        assert!(none.contains("no exponent"), "{none}");
    }

    /// The λ0-regression sentence says both exponents, their level and where each lies against
    /// the proof's.
    #[test]
    fn the_lambda0_regression_sentence_follows_the_numbers() {
        let fit = |lo: f64, hi: f64| lemmas::fit::ExponentFit {
            points: 12,
            slope: Some((lo + hi) / 2.0),
            intercept: Some(0.0),
            slope_box: Interval { lower: Some(lo), upper: Some(hi) },
            standard_error: 0.0,
            t: 0.0,
            confidence: 0.975,
            interval: Interval { lower: Some(lo), upper: Some(hi) },
        };
        let r = Lambda0Regression {
            name: "Lem 2.2 (statement)".into(),
            proof: Some((2.0, 2.0)),
            points: 12,
            n: Some(fit(0.5, 1.0)),
            lambda0: Some(fit(1.5, 2.5)),
            level: 0.9,
        };
        let text = lambda0_regression_sentence(&r);
        assert!(text.contains("exponent of n at fixed λ0 is [0.5, 1]") && text.contains("each at level 90%"), "{text}");
        assert!(text.contains("2 for n (the measured one lies below it)"), "{text}");
        assert!(text.contains("2 for 1/λ0 (the measured one is consistent with it)"), "{text}");
        let none = lambda0_regression_sentence(&Lambda0Regression { n: None, lambda0: None, ..r });
        assert!(none.contains("no fit"), "{none}");
    }

    /// A data search's sentence follows its numbers: a winner whose fresh interval lies above the
    /// start's, overlaps it or lies below it; a search that accepted nothing; one not run.
    #[test]
    fn search_sentences_follow_the_numbers() {
        use lemmas::GivenData;
        use lemmas::data_search::{DataSearch, SearchStep, Stop};
        use lemmas::result::Threshold;
        let t = |lower, upper| Threshold { lower, upper, undetermined: None };
        let step = |incumbent, best, accepted| SearchStep { sigma: 0.2, incumbent, best, accepted, below_floor: 1 };
        let found = DataSearch {
            seeds_per_step: 64,
            steps: vec![step(20, Some(30), true), step(28, Some(25), false)],
            stop: Stop::Budget,
            winner: GivenData { origin: "searched from clusters".into(), stream: 2, x: vec![], y: vec![] },
            winner_lambda0: 0.021,
            start_failures: 20,
            winner_failures: 30,
            seeds_total: 640,
            sanity_failures: 0,
        };
        let record = SearchRecord {
            name: "Lem 2.3 (with-lem-2.2)".into(),
            claim: lemmas::ClaimId::Lem23,
            event: "with-lem-2.2".into(),
            n: 8,
            d: 3,
            start: "clusters".into(),
            start_lambda0: Some(0.02),
            start_threshold: t(Some(2048), Some(4096)),
            width: 2048,
            forecast_seconds: 10.0,
            search: Some(found.clone()),
            skipped: None,
            fresh: Some(t(Some(8192), Some(16384))),
        };
        let above = search_sentence(&record);
        assert!(
            above.contains("entirely above the start's") && above.contains("on 30 seeds of a step's 64"),
            "{above}"
        );
        assert!(above.contains("against the start's 20") && above.contains("biased upward"), "{above}");
        let overlap = search_sentence(&SearchRecord { fresh: Some(t(Some(2048), Some(8192))), ..record.clone() });
        assert!(overlap.contains("do not show the winner harder"), "{overlap}");
        let below = search_sentence(&SearchRecord { fresh: Some(t(Some(512), Some(1024))), ..record.clone() });
        assert!(below.contains("easier than the start"), "{below}");
        let still = DataSearch { steps: vec![step(20, Some(12), false)], stop: Stop::Patience, ..found };
        let kept = search_sentence(&SearchRecord { search: Some(still), ..record.clone() });
        assert!(kept.contains("the winner is the start itself") && kept.contains("no candidate"), "{kept}");
        let skipped = SearchRecord { search: None, fresh: None, skipped: Some("over the budget".into()), ..record };
        assert!(search_sentence(&skipped).contains("no data search (over the budget)"));
    }
}
