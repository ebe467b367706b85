//! The claim pages: an index with the verdict table, and one Markdown page (with SVG plots) per checked claim.

use lemmas::ClaimResult;
use lemmas::config::{CheckConfig, DataKind};
use lemmas::result::{EventResult, ExpectationResult, Relation, Target, WidthRow, Witness};

use crate::chart::{
    BarChart, BarSeries, ErrorBar, ErrorBars, LineChart, ReferenceLine, Series, render_bar_chart, render_line_chart,
};
use crate::format::{code_span, markdown_table, number, width, yes_no};
use crate::{Page, Provenance};

/// Renders `results` as `index.md`, one `<key>.md` per result (in the given order; a claim that
/// appears twice gets `<key>-2.md`, …) and the SVG plots under `img/`.
pub fn render_claims(results: &[ClaimResult], prov: &Provenance) -> Vec<Page> {
    let keys = page_keys(results);
    let mut pages = vec![Page { path: "index.md".into(), contents: String::new() }];
    let mut index_images = Vec::new();
    if !results.is_empty() {
        let path = "img/index-widths.svg".to_string();
        pages.push(Page { path: path.clone(), contents: render_bar_chart(&index_widths_chart(results)) });
        index_images.push(path);
    }
    pages[0].contents = index_page(results, &keys, &index_images, prov);
    for (res, key) in results.iter().zip(&keys) {
        let images = claim_images(res, key);
        let md = claim_page(res, &images, prov);
        pages.push(Page { path: format!("{key}.md"), contents: md });
        pages.extend(images.into_iter().map(|img| Page { path: img.path, contents: img.svg }));
    }
    pages
}

/// `claim.key()`, with "-2", "-3", … for repeats, so no two pages share a name.
fn page_keys(results: &[ClaimResult]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(results.len());
    for res in results {
        let base = res.claim.key();
        let seen = results.iter().take(keys.len()).filter(|r| r.claim == res.claim).count();
        keys.push(if seen == 0 { base.to_string() } else { format!("{base}-{}", seen + 1) });
    }
    keys
}

/// The statement's event: the one keyed "statement", else the first.
fn statement(res: &ClaimResult) -> Option<&EventResult> {
    res.events.iter().find(|e| e.key == "statement").or(res.events.first())
}

/// The largest width m run for this claim (over every event and expectation row).
fn largest_width(res: &ClaimResult) -> Option<usize> {
    let events = res.events.iter().flat_map(|e| e.rows.iter().map(|r| r.m));
    let expectations = res.expectations.iter().flat_map(|e| e.rows.iter().map(|r| r.m));
    events.chain(expectations).max()
}

pub(crate) fn provenance_section(prov: &Provenance) -> String {
    let mut s = String::from("## Provenance\n\n");
    s.push_str(&format!("- Command: {}\n", code_span(&prov.command)));
    s.push_str(&format!("- Profile: {}\n", prov.profile));
    s.push_str(&format!("- Version: {}\n", prov.version));
    s.push_str(&format!("- Seeds per width: {}\n", prov.seeds));
    for note in &prov.notes {
        s.push_str(&format!("- {note}\n"));
    }
    s
}

const VERDICT_LEGEND: &str = "Verdicts (SPEC §3): *supported* when the Clopper–Pearson lower bound is ≥ the claimed \
probability (for a deterministic claim: no violation beyond numerical tolerance); *refuted* when the upper bound is below \
it (or a deterministic violation); *inconclusive* otherwise, and whenever no width run meets the claim's width premise — \
a width below the premise can refute a proof step, never the claim.";

fn index_page(results: &[ClaimResult], keys: &[String], images: &[String], prov: &Provenance) -> String {
    let mut s = String::from("# Du et al. (ICLR 2019), checked by simulation\n\n");
    s.push_str(
        "Claims of *Gradient Descent Provably Optimizes Over-parameterized Neural Networks*, named by their slide \
         numbers with the paper's beside them. Each claim's page has the statement, the width its proof needs, \
         per-event tables over widths and seeds, and plots.\n\n",
    );
    s.push_str(&format!(
        "Produced by {} (profile {}, version {}, {} seeds per width).\n\n",
        code_span(&prov.command),
        prov.profile,
        prov.version,
        prov.seeds
    ));
    s.push_str("## Verdicts\n\n");
    if results.is_empty() {
        s.push_str("No claim was checked.\n\n");
    } else {
        let header = [
            "Slide",
            "Paper",
            "Claim",
            "Verdict",
            "Premise met",
            "Largest width run",
            "Proof width",
            "Empirical threshold",
            "Proof ÷ empirical",
        ];
        let rows: Vec<Vec<String>> = results
            .iter()
            .zip(keys)
            .map(|(res, key)| {
                let proof = match res.proof_widths.as_slice() {
                    [] => "—".to_string(),
                    [only] => width(only.width),
                    [first, rest @ ..] => format!("{} (first of {} routes)", width(first.width), rest.len() + 1),
                };
                let (threshold, ratio) = match &res.threshold {
                    None => ("not computed".to_string(), "—".to_string()),
                    Some(t) => (
                        t.empirical_width.map_or("not reached".to_string(), |m| m.to_string()),
                        t.proof_to_empirical.map_or("—".to_string(), number),
                    ),
                };
                vec![
                    format!("[{}]({key}.md)", res.slide),
                    res.paper.clone(),
                    format!("[{}]({key}.md)", res.title),
                    res.verdict.word().to_string(),
                    yes_no(res.premise_met).to_string(),
                    largest_width(res).map_or("—".to_string(), |m| m.to_string()),
                    proof,
                    threshold,
                    ratio,
                ]
            })
            .collect();
        s.push_str(&markdown_table(&header, &rows));
        s.push('\n');
        s.push_str(VERDICT_LEGEND);
        s.push_str(
            "\n\n*Empirical threshold*: the smallest width run at which the statement held with p̂ ≥ 1 − δ there and at \
             every larger width run. *Proof ÷ empirical*: how much wider the proof's (first) width is.\n\n",
        );
    }
    for img in images {
        s.push_str(&format!("![Proof width against empirical width, per claim]({img})\n\n"));
    }
    s.push_str(&provenance_section(prov));
    s
}

/// Proof width (first route), empirical threshold and largest width run, per claim.
fn index_widths_chart(results: &[ClaimResult]) -> BarChart {
    BarChart {
        title: "Width the proof needs against width that suffices".into(),
        y_label: "width m".into(),
        log_y: true,
        categories: results.iter().map(|r| r.slide.clone()).collect(),
        series: vec![
            BarSeries {
                label: "proof width (first route)".into(),
                values: results.iter().map(|r| r.proof_widths.first().map(|p| p.width)).collect(),
            },
            BarSeries {
                label: "empirical threshold".into(),
                values: results
                    .iter()
                    .map(|r| r.threshold.as_ref().and_then(|t| t.empirical_width).map(|m| m as f64))
                    .collect(),
            },
            BarSeries {
                label: "largest width run".into(),
                values: results.iter().map(|r| largest_width(r).map(|m| m as f64)).collect(),
            },
        ],
    }
}

/// A rendered plot of a claim page.
struct Image {
    path: String,
    alt: String,
    svg: String,
    /// Where it goes: after the statement's event table, or in the threshold section.
    section: Section,
}

#[derive(PartialEq)]
enum Section {
    Statement,
    Threshold,
}

fn claim_images(res: &ClaimResult, key: &str) -> Vec<Image> {
    let mut out = Vec::new();
    if let Some(ev) = statement(res).filter(|e| !e.rows.is_empty()) {
        out.push(Image {
            path: format!("img/{key}-probability.svg"),
            alt: format!("{}: probability of the statement against width", res.slide),
            svg: render_line_chart(&probability_chart(res, ev)),
            section: Section::Statement,
        });
        out.push(Image {
            path: format!("img/{key}-slack.svg"),
            alt: format!("{}: slack against width", res.slide),
            svg: render_line_chart(&slack_chart(res)),
            section: Section::Statement,
        });
    }
    if !res.proof_widths.is_empty() || largest_width(res).is_some() {
        out.push(Image {
            path: format!("img/{key}-widths.svg"),
            alt: format!("{}: proof width against empirical width", res.slide),
            svg: render_bar_chart(&widths_chart(res)),
            section: Section::Threshold,
        });
    }
    out
}

fn target_probability(target: Target) -> f64 {
    match target {
        Target::Probability(p) => p,
        Target::Always => 1.0,
    }
}

fn probability_chart(res: &ClaimResult, ev: &EventResult) -> LineChart {
    let target = target_probability(ev.target);
    let line = match ev.target {
        Target::Probability(p) if (p - (1.0 - res.config.delta)).abs() < 1e-12 => format!("1 − δ = {}", number(p)),
        Target::Probability(p) => format!("claimed: {}", number(p)),
        Target::Always => "claimed: every seed (1)".to_string(),
    };
    LineChart {
        title: format!("{} (paper {}): P(statement) against width", res.slide, res.paper),
        x_label: "width m".into(),
        y_label: "probability".into(),
        log_x: true,
        log_y: false,
        y_range: Some((-0.03, 1.03)),
        series: vec![Series { label: "p̂".into(), points: ev.rows.iter().map(|r| (r.m as f64, r.p_hat)).collect() }],
        error_bars: vec![ErrorBars {
            label: format!("{}% Clopper–Pearson", number(100.0 * res.config.confidence)),
            bars: ev.rows.iter().map(|r| ErrorBar { x: r.m as f64, low: r.ci_lower, high: r.ci_upper }).collect(),
        }],
        reference_lines: vec![ReferenceLine { label: line, y: target }],
    }
}

/// The statement's median and worst slack, and the worst slack of every proof step.
fn slack_chart(res: &ClaimResult) -> LineChart {
    let points = |ev: &EventResult, f: fn(&WidthRow) -> f64| ev.rows.iter().map(|r| (r.m as f64, f(r))).collect();
    let mut series = Vec::new();
    let first = statement(res);
    if let Some(ev) = first {
        series.push(Series { label: format!("{}: median", ev.key), points: points(ev, |r| r.slack_median) });
        series.push(Series { label: format!("{}: worst", ev.key), points: points(ev, |r| r.slack_worst) });
    }
    for ev in res.events.iter().filter(|e| !first.is_some_and(|f| std::ptr::eq(*e, f))) {
        series.push(Series { label: format!("{}: worst", ev.key), points: points(ev, |r| r.slack_worst) });
    }
    LineChart {
        title: format!("{} (paper {}): slack (measured ÷ bound) against width", res.slide, res.paper),
        x_label: "width m".into(),
        y_label: "slack (≤ 1: within the bound)".into(),
        log_x: true,
        log_y: true,
        y_range: None,
        series,
        error_bars: vec![],
        reference_lines: vec![ReferenceLine { label: "slack = 1".into(), y: 1.0 }],
    }
}

fn widths_chart(res: &ClaimResult) -> BarChart {
    let mut categories = Vec::new();
    let mut values = Vec::new();
    for (i, p) in res.proof_widths.iter().enumerate() {
        categories.push(format!("proof, route {}", i + 1));
        values.push(Some(p.width));
    }
    categories.push("empirical threshold".into());
    values.push(res.threshold.as_ref().and_then(|t| t.empirical_width).map(|m| m as f64));
    categories.push("largest width run".into());
    values.push(largest_width(res).map(|m| m as f64));
    BarChart {
        title: format!("{} (paper {}): width the proof needs against width run", res.slide, res.paper),
        y_label: "width m".into(),
        log_y: true,
        categories,
        series: vec![BarSeries { label: String::new(), values }],
    }
}

fn data_word(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Sphere => "sphere: x_i uniform on the unit sphere, y_i ~ N(0, 1)",
        DataKind::Orthonormal => "orthonormal: x_i = e_i, y_i ~ N(0, 1)",
    }
}

fn setup_table(cfg: &CheckConfig, lambda0: f64) -> String {
    let widths = cfg.widths.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", ");
    let rows = [
        ("inputs n", cfg.n.to_string()),
        ("dimension d", cfg.d.to_string()),
        ("data", data_word(cfg.data).to_string()),
        ("λ0 = λmin(H∞)", number(lambda0)),
        ("widths m of the sweep", widths),
        ("bisection steps", cfg.bisection_steps.to_string()),
        ("δ", number(cfg.delta)),
        ("seeds per width", cfg.seeds.to_string()),
        ("master seed", cfg.master_seed.to_string()),
        ("interval confidence", number(cfg.confidence)),
        ("horizon T", number(cfg.horizon)),
        ("RK4 step h", number(cfg.step)),
        ("c_η (η = c_η λ0 / n²)", number(cfg.c_eta)),
    ];
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(k, v)| vec![k.to_string(), v]).collect();
    markdown_table(&["parameter", "value"], &rows)
}

fn proof_width_section(res: &ClaimResult) -> String {
    let mut s = String::from("## Width the proof needs\n\n");
    if res.proof_widths.is_empty() {
        s.push_str("The proof states no width.\n\n");
        return s;
    }
    let largest = largest_width(res);
    let rows: Vec<Vec<String>> = res
        .proof_widths
        .iter()
        .map(|p| {
            let met = match largest {
                None => "no width run".to_string(),
                Some(_) if !(p.width.is_finite() && p.width < crate::format::HUGE) => {
                    "no: the proof's width is unbounded".to_string()
                }
                Some(m) if (m as f64) >= p.width => format!("yes (m = {m})"),
                Some(m) => format!("no: largest run m = {m} is {}× smaller", number(p.width / m as f64)),
            };
            vec![p.route.clone(), p.formula.clone(), width(p.width), met]
        })
        .collect();
    s.push_str(&markdown_table(&["route", "formula", "m needed", "met by the widths run"], &rows));
    s.push_str(&format!("\nPremise of the claim met at some width run: **{}**.\n\n", yes_no(res.premise_met)));
    s
}

fn target_text(target: Target) -> String {
    match target {
        Target::Probability(p) => format!("claimed probability ≥ {}", number(p)),
        Target::Always => "deterministic: must hold on every seed".to_string(),
    }
}

fn witness_text(w: &Witness) -> String {
    let mut s = format!("seed {}: {} vs bound {}", w.trial, number(w.measured), number(w.bound));
    if let Some(t) = w.time {
        s.push_str(&format!(" at t = {}", number(t)));
    }
    s
}

fn event_table(ev: &EventResult, confidence: f64) -> String {
    let ci = format!("{}% CI", number(100.0 * confidence));
    let header = [
        "m",
        "premise met",
        "successes / seeds",
        "p̂",
        ci.as_str(),
        "verdict",
        "median slack",
        "worst slack",
        "worst seed",
    ];
    let rows: Vec<Vec<String>> = ev
        .rows
        .iter()
        .map(|r| {
            vec![
                r.m.to_string(),
                yes_no(r.premise_met).to_string(),
                format!("{} / {}", r.successes, r.seeds),
                number(r.p_hat),
                format!("[{}, {}]", number(r.ci_lower), number(r.ci_upper)),
                r.verdict.word().to_string(),
                number(r.slack_median),
                number(r.slack_worst),
                witness_text(&r.witness),
            ]
        })
        .collect();
    markdown_table(&header, &rows)
}

fn relation_text(relation: Relation) -> String {
    match relation {
        Relation::AtMost => "claimed: mean ≤ reference".to_string(),
        Relation::AtLeast => "claimed: mean ≥ reference".to_string(),
        Relation::Equal => "claimed: mean = reference".to_string(),
    }
}

fn expectation_table(ex: &ExpectationResult) -> String {
    let header = ["m", "mean", "standard error", "reference", "mean ÷ reference", "verdict"];
    let rows: Vec<Vec<String>> = ex
        .rows
        .iter()
        .map(|r| {
            vec![
                r.m.to_string(),
                number(r.mean),
                number(r.standard_error),
                number(r.reference),
                number(r.slack),
                r.verdict.word().to_string(),
            ]
        })
        .collect();
    markdown_table(&header, &rows)
}

fn image_link(img: &Image) -> String {
    format!("![{}]({})\n\n", img.alt, img.path)
}

fn claim_page(res: &ClaimResult, images: &[Image], prov: &Provenance) -> String {
    let mut s = format!("# {} (paper {}): {}\n\n", res.slide, res.paper, res.title);
    s.push_str(&format!(
        "[All claims](index.md) · produced by {} (profile {}, version {}).\n\n",
        code_span(&prov.command),
        prov.profile,
        prov.version
    ));
    s.push_str(&format!(
        "**Verdict: {}.** Premise met at some width run: {}. The verdict comes from the statement's rows at widths \
         that meet the premise; it is inconclusive when none does.\n\n",
        res.verdict.word(),
        yes_no(res.premise_met)
    ));

    s.push_str(&format!("## Statement\n\nSlide {}, paper {}.\n\n{}\n\n", res.slide, res.paper, res.statement));

    s.push_str("## Setup\n\n");
    s.push_str(&setup_table(&res.config, res.lambda0));
    s.push('\n');

    s.push_str(&proof_width_section(res));

    s.push_str("## Events\n\n");
    s.push_str(
        "One row per width run. Slack = measured ÷ bound (bound ÷ measured for a lower bound): ≤ 1 means within \
         the bound; \"≥ 1e300\" stands for an unbounded ratio. The worst seed is the one with the largest slack.\n\n",
    );
    if res.events.is_empty() {
        s.push_str("No event was measured.\n\n");
    }
    let first = statement(res);
    for ev in &res.events {
        let is_statement = first.is_some_and(|f| std::ptr::eq(ev, f));
        let role = if is_statement { "the statement" } else { "a proof step" };
        s.push_str(&format!(
            "### {}\n\n{} ({role}; {}).\n\n",
            code_span(&ev.key),
            ev.description,
            target_text(ev.target)
        ));
        s.push_str(&event_table(ev, res.config.confidence));
        s.push('\n');
        if is_statement {
            for img in images.iter().filter(|i| i.section == Section::Statement) {
                s.push_str(&image_link(img));
            }
        }
    }

    if !res.expectations.is_empty() {
        s.push_str("## Expectations\n\n");
        s.push_str(&format!(
            "Means over seeds against the value the proof uses; refuted when the mean lies more than {} standard \
             errors on the wrong side.\n\n",
            number(lemmas::EXPECTATION_Z)
        ));
        for ex in &res.expectations {
            s.push_str(&format!(
                "### {}\n\n{} ({}).\n\n",
                code_span(&ex.key),
                ex.description,
                relation_text(ex.relation)
            ));
            s.push_str(&expectation_table(ex));
            s.push('\n');
        }
    }

    s.push_str("## Threshold\n\n");
    match &res.threshold {
        None => s.push_str("No empirical width threshold was computed.\n\n"),
        Some(t) => {
            let empirical = match t.empirical_width {
                Some(m) => format!("m = {m}"),
                None => "not reached at any width run".to_string(),
            };
            let failing = match t.largest_failing_width {
                Some(m) => format!("m = {m}"),
                None => "none (the smallest width run already passed)".to_string(),
            };
            let rows = vec![
                vec!["smallest width with p̂ ≥ 1 − δ there and at every larger width".to_string(), empirical],
                vec!["largest failing width below it".to_string(), failing],
                vec![
                    "proof width (first route) ÷ empirical width".to_string(),
                    t.proof_to_empirical.map_or("—".to_string(), number),
                ],
            ];
            s.push_str(&markdown_table(&["", "value"], &rows));
            s.push('\n');
        }
    }
    for img in images.iter().filter(|i| i.section == Section::Threshold) {
        s.push_str(&image_link(img));
    }

    if !res.notes.is_empty() {
        s.push_str("## Notes\n\n");
        for note in &res.notes {
            s.push_str(&format!("- {note}\n"));
        }
        s.push('\n');
    }

    s.push_str(&provenance_section(prov));
    s
}
