//! The Fig. 1 page: loss, pattern-change fraction, distance, λmin(H(k)) and the gap to u∞(k) against iteration.
//!
//! Per width, each curve is the median over seeds with a min–max band. The page also gives the
//! slope of the gap against m with its interval, and the findings, each sentence worded from the
//! numbers it reports.

use lemmas::figure1::{
    BoundComparison, Direction, Figure1Result, GapSlope, LOSS_TARGET, LambdaMinRow, Nesting, Panel, Trend, WidthStat,
};

use crate::chart::{Band, LineChart, Series, render_line_chart_with_bands};
use crate::format::{markdown_table, number, table_of};
use crate::{Page, Provenance};

/// Renders `figure1.md` and its panels under `img/` (the experiment: docs/theory.md §2.8).
pub fn render_figure1(res: &Figure1Result, prov: &Provenance) -> Vec<Page> {
    let seeds = res.config.seeds;
    let panels: [(&str, &str, &str, bool, Panel); 5] = [
        ("a-loss", "(a) training loss L(k)", "loss", true, Panel::Loss),
        ("b-patterns", "(b) pattern-change fraction", "fraction of (i, r) flipped", false, Panel::PatternChange),
        ("c-distance", "(c) max_r ‖w_r(k) − w_r(0)‖", "distance", false, Panel::Distance),
        ("d-lambda-min", "(d) λmin(H(k))", "λmin", false, Panel::LambdaMin),
        ("e-gap", "(e) ‖u(k) − u∞(k)‖", "gap to infinite width", true, Panel::Gap),
    ];
    let mut pages = Vec::new();
    let mut md = String::new();
    md.push_str("# Fig. 1 (paper Sec. 5): gradient descent on sphere data at several widths\n\n");
    md.push_str(&format!(
        "n = {}, d = {}: x_i uniform on the unit sphere, y_i ~ N(0, 1); full-batch GD of the first layer for {} iterations, {} initialisation{} per width (master seed {}). One data set serves every run, so the bands and intervals below are over initialisations for this data set ([theory §2.8](theory.md#28-fig-1-paper-sec-5)).\n\n",
        res.config.n,
        res.config.d,
        res.config.iterations,
        seeds,
        if seeds == 1 { "" } else { "s" },
        res.config.seed
    ));
    md.push_str(&format!(
        "- Step: η = {} — {}.\n- λ0 = λmin(H∞) = {}, λmax(H∞) = {}.\n- Widths: {}.\n- Initialisations: {} — {}.\n\n",
        number(res.eta),
        res.eta_rule,
        number(res.lambda0),
        number(res.lambda_max_infinity),
        res.config.widths.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "),
        res.config.nesting.label(),
        nesting_text(res.config.nesting),
    ));
    md.push_str(&format!(
        "In every panel the line of a width is the median over its {seeds} seed{} at each iteration and the shaded band is the min–max over them (every seed's curve lies inside its band).\n\n",
        if seeds == 1 { "" } else { "s" }
    ));
    md.push_str("## Findings\n\n");
    md.push_str("Each sentence is worded from the numbers of this run.\n\n");
    for line in findings_lines(res) {
        md.push_str(&format!("- {line}\n"));
    }
    md.push('\n');
    for (key, title, y_label, log_y, panel) in panels {
        let mut series = Vec::new();
        let mut bands = Vec::new();
        for (i, w) in res.widths.iter().enumerate() {
            let band = w.band(panel);
            if band.is_empty() {
                continue;
            }
            series.push(Series {
                label: format!("m = {}", w.m),
                points: band.iter().map(|p| (p.k as f64, p.median)).collect(),
            });
            bands.push(Band {
                label: String::new(),
                colour_of_series: i,
                points: band.iter().map(|p| (p.k as f64, p.low, p.high)).collect(),
            });
        }
        if series.is_empty() {
            continue;
        }
        if panel == Panel::Loss {
            series.extend(loss_bound(res));
        }
        let svg = render_line_chart_with_bands(
            &LineChart {
                title: format!("{title}: median and min–max over {seeds} seeds"),
                x_label: "iteration k".into(),
                y_label: y_label.into(),
                log_y,
                series,
                ..Default::default()
            },
            &bands,
        );
        let path = format!("img/figure1-{key}.svg");
        md.push_str(&format!("![{title}]({path})\n\n"));
        pages.push(Page { path, contents: svg });
    }
    md.push_str(&summary_table(res));
    md.push_str(&slope_section(res));
    md.push_str(&sgd_section(res));
    md.push_str(&crate::claims::provenance_section(prov));
    pages.insert(0, Page { path: "figure1.md".into(), contents: md });
    pages
}

fn nesting_text(nesting: Nesting) -> &'static str {
    match nesting {
        Nesting::Independent => {
            "every (width, seed) pair draws its weights from its own stream, so no two widths share an initialisation and the curves over m are as noisy as independent experiments ([theory §3.5](theory.md#35-independent-seeds))"
        }
        Nesting::Nested => {
            "common random numbers, chosen with `--nested`: seed s uses one stream at every width, so a narrower initialisation is the first neurons of a wider one; the curves over m look smoother and more certain than independent draws would make them, and the widths are not independent evidence ([theory §3.5](theory.md#35-independent-seeds))"
        }
    }
}

/// The finding sentences, each chosen by the numbers it quotes.
pub(crate) fn findings_lines(res: &Figure1Result) -> Vec<String> {
    let f = &res.findings;
    let mut lines = Vec::new();
    let target = format!("L(k) ≤ {}·L(0)", number(LOSS_TARGET));
    let iters = |v: Option<f64>| v.map_or("not reached".to_string(), number);
    let plain = |v: Option<f64>| v.map_or("—".to_string(), number);
    lines.push(format!(
        "Convergence speed (panel a), iterations until {target}: {}",
        trend_sentence(&f.iterations_to_target, iters)
    ));
    lines.push(format!("Final pattern-change fraction (panel b): {}", trend_sentence(&f.final_pattern_change, plain)));
    lines.push(format!("Final max_r ‖w_r − w_r(0)‖ (panel c): {}", trend_sentence(&f.final_max_distance, plain)));
    let verdicts = [
        ("converges faster", &f.iterations_to_target),
        ("changes fewer patterns", &f.final_pattern_change),
        ("moves less", &f.final_max_distance),
    ];
    let agree: Vec<&str> =
        verdicts.iter().filter(|(_, t)| t.direction == Some(Direction::Falls)).map(|v| v.0).collect();
    let weak: Vec<&str> =
        verdicts.iter().filter(|(_, t)| t.direction == Some(Direction::NeverRises)).map(|v| v.0).collect();
    let against: Vec<&str> =
        verdicts.iter().filter(|(_, t)| matches!(t.direction, Some(Direction::Rises { .. }))).map(|v| v.0).collect();
    if res.widths.len() >= 2 {
        let mut s =
            "The paper's finding, larger m converges faster, changes fewer patterns and moves less: ".to_string();
        let mut parts = Vec::new();
        if !agree.is_empty() {
            parts.push(format!("borne out for \"{}\" (the medians fall at every step)", agree.join("\", \"")));
        }
        if !weak.is_empty() {
            parts.push(format!(
                "only weakly for \"{}\" (the medians never rise but tie somewhere)",
                weak.join("\", \"")
            ));
        }
        if !against.is_empty() {
            parts.push(format!("not borne out for \"{}\" (a median rises with m)", against.join("\", \"")));
        }
        let overlapping: Vec<&str> = verdicts.iter().filter(|(_, t)| !t.separated).map(|v| v.0).collect();
        if !overlapping.is_empty() && overlapping.len() < verdicts.len() {
            parts.push(format!("the seeds' ranges of adjacent widths overlap for \"{}\"", overlapping.join("\", \"")));
        } else if overlapping.len() == verdicts.len() {
            parts.push("the seeds' ranges of adjacent widths overlap somewhere for all three".into());
        }
        if agree.is_empty() && weak.is_empty() && against.is_empty() {
            parts.insert(0, "no comparison across widths (some width has no completed run)".into());
        }
        s.push_str(&parts.join("; "));
        s.push('.');
        lines.push(s);
    }
    if let Some(l) = lambda_min_sentence(res.lambda0, &f.lambda_min) {
        lines.push(l);
    }
    lines.push(slope_sentence(res.gap_slope.as_ref(), res.widths.len()));
    lines.push(bound_sentence(&f.bound));
    if f.diverged_runs > 0 {
        lines.push(format!(
            "{} run{} diverged; {} enter the final-value medians and the slope, and count as \"not reached\" in the convergence speed.",
            f.diverged_runs,
            if f.diverged_runs == 1 { "" } else { "s" },
            if f.diverged_runs == 1 { "it does not" } else { "they do not" }
        ));
    }
    lines
}

fn trend_sentence(t: &Trend, fmt: impl Fn(Option<f64>) -> String) -> String {
    let medians =
        t.per_width.iter().map(|w| format!("{} at m = {}", fmt(w.median), w.m)).collect::<Vec<_>>().join(", ");
    let head = match t.direction {
        None if t.per_width.len() < 2 => return format!("one width only, median {medians}."),
        None => return format!("no comparison across widths, since some width has no completed run ({medians})."),
        Some(Direction::Falls) => "the median over seeds falls as m grows, at every step".to_string(),
        Some(Direction::NeverRises) => {
            "the median over seeds never rises as m grows, but it does not fall at every step".to_string()
        }
        Some(Direction::Rises { from_m, to_m }) => {
            format!("the median over seeds does not fall as m grows: it rises from m = {from_m} to m = {to_m}")
        }
    };
    let sep = if t.separated {
        "the seeds' ranges of adjacent widths do not overlap"
    } else {
        "the seeds' ranges of some adjacent widths overlap"
    };
    format!("{head} ({medians}); {sep}.")
}

fn lambda_min_sentence(lambda0: f64, rows: &[LambdaMinRow]) -> Option<String> {
    let recorded: Vec<&LambdaMinRow> = rows.iter().filter(|r| r.runs > 0).collect();
    if recorded.is_empty() {
        return None;
    }
    let above: Vec<String> =
        recorded.iter().filter(|r| r.runs_below_half_lambda0 == 0).map(|r| r.m.to_string()).collect();
    let below: Vec<String> = recorded
        .iter()
        .filter(|r| r.runs_below_half_lambda0 > 0)
        .map(|r| format!("m = {} ({} of {} seeds)", r.m, r.runs_below_half_lambda0, r.runs))
        .collect();
    let half = number(lambda0 / 2.0);
    let mut s = "λmin(H(k)) (panel d) against λ0/2 = ".to_string() + &half + ", the level Lem 2.3 and Thm 3.1 need: ";
    if below.is_empty() {
        s.push_str("it stays at or above λ0/2 at every recorded iteration on every seed at every width.");
    } else if above.is_empty() {
        s.push_str(&format!("it falls below λ0/2 at every width: {}.", below.join(", ")));
    } else {
        s.push_str(&format!(
            "it stays at or above λ0/2 on every seed at m = {}, and falls below it at {}.",
            above.join(", "),
            below.join(", ")
        ));
    }
    Some(s)
}

fn slope_sentence(slope: Option<&GapSlope>, widths: usize) -> String {
    let Some(g) = slope else {
        return if widths < 2 {
            "The slope of the gap to u∞ against m needs at least two widths.".into()
        } else {
            "No seed completed with a positive gap at every width, so there is no slope of the gap to u∞ against m."
                .into()
        };
    };
    let mut s = format!(
        "The gap to infinite width (panel e): the slope of ln max_k ‖u(k) − u∞(k)‖ against ln m has mean {} over {} seed{}",
        number(g.mean),
        g.seeds_used,
        if g.seeds_used == 1 { "" } else { "s" }
    );
    match g.interval {
        Some((lo, hi)) => {
            s.push_str(&format!(
                ", {}% Student-t interval [{}, {}]; ",
                number(100.0 * g.confidence),
                number(lo),
                number(hi)
            ));
            if lo <= -0.5 && -0.5 <= hi {
                s.push_str("the 1/√m prediction −0.5 lies inside it.");
            } else if hi < -0.5 {
                s.push_str("the 1/√m prediction −0.5 lies above it: the gap shrinks faster than 1/√m here.");
            } else {
                s.push_str("the 1/√m prediction −0.5 lies below it: the gap shrinks slower than 1/√m here.");
            }
        }
        None => s.push_str(" — one seed gives no interval, so this run cannot say whether −0.5 fits."),
    }
    s
}

fn bound_sentence(b: &BoundComparison) -> String {
    let mut s = format!(
        "Thm 3.1's bound in form, (1 − ηλ0/2)^k L(0) with q = 1 − ηλ0/2 = {}, at this η (drawn in panel a for the largest width; the theorem itself asks for η = O(λ0/n²), far smaller, so this compares rates and checks no theorem): ",
        number(b.q)
    );
    let range = b.factor_range.map_or("—".to_string(), |(lo, hi)| format!("[{}, {}]", number(lo), number(hi)));
    let factor = format!(
        "the loss factor per iteration (L(k₁)/L(0))^(1/k₁), k₁ the first iteration with L ≤ {}·L(0) or the last, lies in {range}",
        number(LOSS_TARGET)
    );
    if b.runs_faster == b.runs && b.runs > 0 {
        s.push_str(&format!("the loss falls faster than the bound's rate on all {} runs ({factor}, below q)", b.runs));
    } else if b.runs_slower == b.runs && b.runs > 0 {
        s.push_str(&format!("the loss falls slower than the bound's rate on all {} runs ({factor}, above q)", b.runs));
    } else {
        s.push_str(&format!(
            "the loss falls faster than the bound's rate on {} of {} runs and slower on {} ({factor}, against q)",
            b.runs_faster, b.runs, b.runs_slower
        ));
    }
    match b.first_above {
        None => {
            s.push_str(&format!("; it stays at or below (1 − ηλ0/2)^k L(0) at every iteration on all {} runs.", b.runs))
        }
        Some((m, seed, k)) => s.push_str(&format!(
            "; it exceeds (1 − ηλ0/2)^k L(0) on {} of {} runs (the first at m = {m}, seed {seed}, k = {k}).",
            b.runs_above_bound, b.runs
        )),
    }
    s
}

/// "median [min, max]" of a per-width statistic.
fn stat_cell(w: &WidthStat, fmt: impl Fn(Option<f64>) -> String) -> String {
    if w.seeds == 0 {
        return "—".into();
    }
    if w.seeds == 1 {
        return fmt(w.median);
    }
    format!("{} [{}, {}]", fmt(w.median), fmt(w.low), fmt(w.high))
}

fn summary_table(res: &Figure1Result) -> String {
    let f = &res.findings;
    let mut md = String::from("## Summary per width\n\n");
    md.push_str("Cells: median over seeds [min, max]; final values are those of completed runs.\n\n");
    let iters = |v: Option<f64>| v.map_or("not reached".to_string(), number);
    let plain = |v: Option<f64>| v.map_or("—".to_string(), number);
    let rows: Vec<Vec<String>> = res
        .widths
        .iter()
        .enumerate()
        .map(|(i, w)| {
            vec![
                w.m.to_string(),
                format!("{} of {}", w.runs.iter().filter(|r| r.completed()).count(), w.runs.len()),
                f.iterations_to_target.per_width.get(i).map_or("—".into(), |c| stat_cell(c, iters)),
                f.final_pattern_change.per_width.get(i).map_or("—".into(), |c| stat_cell(c, plain)),
                f.final_max_distance.per_width.get(i).map_or("—".into(), |c| stat_cell(c, plain)),
                f.lambda_min.get(i).and_then(|r| r.smallest).map_or("—".into(), number),
                f.max_infinite_width_gap.per_width.get(i).map_or("—".into(), |c| stat_cell(c, plain)),
            ]
        })
        .collect();
    md.push_str(&markdown_table(
        &[
            "m",
            "completed",
            &format!("iterations to {}·L(0)", number(LOSS_TARGET)),
            "final pattern change",
            "final max distance",
            "min λmin(H(k)) over seeds",
            "max_k ‖u − u∞‖",
        ],
        &rows,
    ));
    md.push('\n');
    md
}

fn slope_section(res: &Figure1Result) -> String {
    let Some(g) = &res.gap_slope else { return String::new() };
    let mut md = String::from("## The slope of the gap to u∞ against m\n\n");
    md.push_str(&format!(
        "Method: for each seed index s, the least-squares slope of ln max_k ‖u(k) − u∞(k)‖ on ln m over the {} widths; then the mean of these per-seed slopes with a two-sided {}% Student-t interval, mean ± t·sd/√S with S − 1 degrees of freedom. {}\n\n",
        res.widths.len(),
        number(100.0 * g.confidence),
        match res.config.nesting {
            Nesting::Independent => "The per-seed slopes are independent (each uses its own streams at every width).",
            Nesting::Nested => "The per-seed slopes are independent of each other; within one seed the widths share a stream (nested).",
        }
    ));
    let per: Vec<String> = g
        .per_seed
        .iter()
        .enumerate()
        .map(|(s, v)| {
            format!("seed {s}: {}", v.map_or("left out (a run did not complete with a positive gap)".into(), number))
        })
        .collect();
    md.push_str(&format!("- Per seed: {}.\n", per.join("; ")));
    md.push_str(&format!(
        "- Mean {} over {} seeds, standard deviation {}, interval {}.\n\n",
        number(g.mean),
        g.seeds_used,
        g.standard_deviation.map_or("— (one seed)".into(), number),
        g.interval.map_or("— (one seed)".into(), |(lo, hi)| format!("[{}, {}]", number(lo), number(hi)))
    ));
    md
}

/// Thm 3.1's bound form (1 − ηλ0/2)^k L(0) for the largest width run, with L(0) the median over
/// its seeds, at Fig. 1's η (the theorem asks for η = O(λ0/n²); the panel shows how far a
/// practical step's loss stays below the bound's form).
fn loss_bound(res: &Figure1Result) -> Option<Series> {
    let w = res.widths.last()?;
    let band = w.band(Panel::Loss);
    let l0 = band.first()?.median;
    let q = res.findings.bound.q;
    let points = band.iter().map(|p| (p.k as f64, l0 * lemmas::figure1::power(q, p.k))).collect();
    Some(Series { label: format!("(1 − ηλ0/2)^k L(0), m = {}", w.m), points })
}

/// The GD-against-SGD section of the Fig. 1 page.
pub(crate) fn sgd_section(res: &Figure1Result) -> String {
    if res.sgd.is_empty() {
        return String::new();
    }
    let mut md = String::from("## What changes under SGD\n\n");
    md.push_str("The slide deck closes by asking what changes under SGD. Same data, and the same initialisations as Fig. 1's runs at the middle width (every seed); SGD draws batches of b inputs without replacement (a seeded stream of its own per seed) and scales the batch gradient by n/b, so it is unbiased. An epoch is one GD step or ⌈n/b⌉ SGD steps (about n examples seen). Both runs use the same step: first Fig. 1's η, then η·b/n. Each cell is the median over seeds with the [min, max] range.\n\n");
    for s in &res.sgd {
        md.push_str(&sgd_table(s));
    }
    md
}

fn spread(v: Option<(f64, f64, f64)>) -> String {
    match v {
        Some((low, median, high)) => format!("{} [{}, {}]", number(median), number(low), number(high)),
        None => "—".to_string(),
    }
}

fn sgd_table(s: &lemmas::figure1::SgdSummary) -> String {
    let seeds = s.runs.len();
    let stopped = |side: &dyn Fn(&lemmas::figure1::SgdRun) -> &str| -> String {
        let diverged: Vec<&str> = s.runs.iter().map(side).filter(|st| *st != "completed").collect();
        if diverged.is_empty() {
            format!("completed at all {seeds} seeds")
        } else {
            format!("{} at {} of {seeds} seeds ({})", "did not complete", diverged.len(), diverged.join(", "))
        }
    };
    let (completed, lower) = s.final_loss_sgd_lower;
    let finals = if completed == 0 {
        "No seed completed both runs, so their final losses are not compared.".to_string()
    } else {
        format!("SGD's final loss is below GD's at {lower} of the {completed} seeds where both completed.")
    };
    let mut md = format!(
        "### η = {}, b = {}, m = {}\n\nGD {}; SGD {}. {finals} A row counts the seeds that reached its epoch (a run that diverged stops there).\n\n",
        number(s.eta),
        s.batch_size,
        s.m,
        stopped(&|r| r.status.0.as_str()),
        stopped(&|r| r.status.1.as_str()),
    );
    let last = s.by_epoch.len();
    let pick: Vec<_> = s.by_epoch.iter().filter(|r| r.epoch % 5 == 0 || r.epoch + 1 == last).collect();
    let header = [
        "epoch",
        "seeds",
        "GD loss",
        "SGD loss",
        "GD pattern change",
        "SGD pattern change",
        "GD max distance",
        "SGD max distance",
    ];
    md.push_str(&table_of(&header, &pick, |r| {
        vec![
            r.epoch.to_string(),
            r.seeds.to_string(),
            spread(r.gd_loss),
            spread(r.sgd_loss),
            spread(r.gd_pattern_change),
            spread(r.sgd_pattern_change),
            spread(r.gd_max_distance),
            spread(r.sgd_max_distance),
        ]
    }));
    md.push('\n');
    md
}
