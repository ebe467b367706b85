//! The claim pages: an index with the verdict table, and one Markdown page (with SVG plots) per checked claim.

use lemmas::ClaimResult;
use lemmas::config::{CheckConfig, DataKind};
use lemmas::result::{
    EventResult, ExpectationResult, Interval, Outcome, Premise, Relation, Role, Target, Threshold, WidthRow, Witness,
};

use crate::chart::{
    BarChart, BarSeries, ErrorBar, ErrorBars, LineChart, OneSided, ReferenceLine, Series, render_bar_chart,
    render_line_chart,
};
use crate::format::{code_span, interval_in, markdown_table, number, table_of, width, yes_no};
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

/// The statement's event (its role says so).
fn statement(res: &ClaimResult) -> Option<&EventResult> {
    res.statement_event()
}

/// "(lower, upper]" of a threshold: open ends are "≤ upper" or "> lower".
pub fn threshold_text(t: &Threshold) -> String {
    match (t.lower, t.upper, &t.undetermined) {
        (None, None, Some(_)) => return "undetermined".to_string(),
        (Some(l), None, Some(_)) => return format!("> {l} (upper end undetermined)"),
        _ => {}
    }
    match (t.lower, t.upper) {
        (Some(l), Some(u)) => format!("({l}, {u}]"),
        (None, Some(u)) => format!("≤ {u}"),
        (Some(l), None) => format!("> {l}"),
        (None, None) => "—".to_string(),
    }
}

/// An interval of ratios: "[a, b)", "≥ a", "< b".
pub fn interval_text(i: &Interval) -> String {
    interval_in(i, |a, b| format!("[{a}, {b})"), "<", "—")
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
    if prov.seeds > 0 {
        s.push_str(&format!("- Seeds per width: {}\n", prov.seeds));
    }
    for note in &prov.notes {
        s.push_str(&format!("- {note}\n"));
    }
    s
}

const VERDICT_LEGEND: &str = "Verdicts ([theory §3](theory.md#3-statistics-and-verdicts)): *supported* when the \
anytime-valid lower bound over the live seeds is ≥ the claimed probability (for a deterministic claim: every live seed \
holds beyond the numerical band); *refuted* when the upper bound, counting seeds within the band as successes, is below it \
(or a deterministic violation beyond the band); *error* when a sanity identity failed (the program is wrong; exit status \
3); *inconclusive* otherwise — in particular when no width run meets the statement's width premise, when no seed is live \
(every seed's premise failed), or when values lie within the numerical band. A width below the premise can refute a proof \
step, never the claim. `cargo xtask verify-lemmas` exits with 0 when every claim is supported or inconclusive, 1 when \
one is refuted, 2 on bad input (one line naming the problem) and 3 when one is `error`; `bound_scale` (a config key, \
default 1) multiplies every statement's and proof step's bound, so that `{\"all\": {\"bound_scale\": 0.01}}` must \
refute.";

/// The seeds per width of the claims, e.g. "100 (Lem 2.2, Lem 2.3), 40 (Thm 2.1)".
fn seeds_text(results: &[ClaimResult]) -> String {
    let mut groups: Vec<(u64, Vec<&str>)> = Vec::new();
    for r in results {
        match groups.iter_mut().find(|(s, _)| *s == r.config.seeds) {
            Some((_, v)) => v.push(&r.slide),
            None => groups.push((r.config.seeds, vec![&r.slide])),
        }
    }
    if groups.len() == 1 {
        return groups[0].0.to_string();
    }
    groups.iter().map(|(s, c)| format!("{s} ({})", c.join(", "))).collect::<Vec<_>>().join(", ")
}

fn index_page(results: &[ClaimResult], keys: &[String], images: &[String], prov: &Provenance) -> String {
    let mut s = String::from("# Du et al. (ICLR 2019), checked by simulation\n\n");
    s.push_str(
        "Claims of *Gradient Descent Provably Optimizes Over-parameterized Neural Networks*, named by their slide \
         numbers with the paper's beside them. Each claim's page has the statement, the width its proof needs, \
         per-event tables over widths and seeds, and plots.\n\n",
    );
    s.push_str(&format!(
        "Produced by {} (profile {}, version {}; seeds per width: {}).\n\n",
        code_span(&prov.command),
        prov.profile,
        prov.version,
        seeds_text(results)
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
            "Statement's proof width",
            "Empirical threshold",
            "Proof ÷ empirical",
        ];
        let rows: Vec<Vec<String>> = results
            .iter()
            .zip(keys)
            .map(|(res, key)| {
                // The statement event's own width premise (inference finding 6): a statement that
                // holds at any width shows none, one whose constant is implicit says so, and the
                // other routes' widths stay on the claim's page.
                let proof = match statement(res).map(|e| &e.premise) {
                    Some(Premise::Width { width, .. }) => match res.proof_widths.iter().find(|p| p.width == *width) {
                        Some(p) => crate::format::proof_width(p),
                        None => crate::format::width(*width),
                    },
                    Some(Premise::ImplicitConstant) => "implicit constant".to_string(),
                    Some(Premise::AnyWidth) | None => "— (any width)".to_string(),
                };
                let threshold = threshold_text(&res.threshold);
                let ratio = res.proof_to_empirical.as_ref().map_or("—".to_string(), interval_text);
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
            "\n\n*Empirical threshold* (lower, upper]: *lower* is the largest width run at which the statement is \
             refuted, *upper* the smallest from which it is supported at every larger width run (\"≤ m\": already \
             supported at the smallest width run and nothing below it refuted, so the threshold may be lower still; \
             \"> m\": refuted at m, nothing supported above it). A width that is merely not supported is no end. \
             *Undetermined*: the seeds run cannot support the target at any width, whatever they show (the reason \
             is below). *Statement's proof width*: the width premise of the statement event itself (\"— (any width)\" when \
             it holds at every width, \"implicit constant\" when the paper gives only an order); the widths of \
             the other routes and events are on each claim's page. *Proof ÷ empirical*: that width divided by the \
             threshold, an interval because the threshold is one.\n\n",
        );
        for res in results {
            if let Some(why) = &res.threshold.undetermined {
                s.push_str(&format!("- {}: threshold {why}.\n", res.slide));
            }
        }
        if results.iter().any(|r| r.threshold.undetermined.is_some()) {
            s.push('\n');
        }
    }
    for img in images {
        s.push_str(&format!("![Proof width against empirical width, per claim]({img})\n\n"));
    }
    s.push_str(&provenance_section(prov));
    s
}

/// What a threshold lets a chart draw: a bar only when both ends are decided (at the upper end), an
/// open marker for a one-sided bound, nothing when it is undetermined.
fn threshold_marks(t: &Threshold) -> (Option<f64>, Option<OneSided>) {
    match (t.lower, t.upper) {
        (Some(_), Some(u)) if t.undetermined.is_none() => (Some(u as f64), None),
        (None, Some(u)) if t.undetermined.is_none() => (None, Some(OneSided::AtMost(u as f64))),
        (Some(l), None) => (None, Some(OneSided::Above(l as f64))),
        _ => (None, None),
    }
}

/// The statement's proof width, the empirical threshold and the largest width run, per claim.
fn index_widths_chart(results: &[ClaimResult]) -> BarChart {
    let marks: Vec<_> = results.iter().map(|r| threshold_marks(&r.threshold)).collect();
    BarChart {
        title: "Width the proof needs against width that suffices".into(),
        y_label: "width m".into(),
        log_y: true,
        categories: results.iter().map(|r| r.slide.clone()).collect(),
        series: vec![
            BarSeries {
                // The same width as the table's column (inference finding 6): the statement
                // event's own premise, none where it holds at any width or its constant is implicit.
                label: "statement's proof width".into(),
                values: results
                    .iter()
                    .map(|r| match statement(r).map(|e| &e.premise) {
                        Some(Premise::Width { width, .. }) => Some(*width),
                        _ => None,
                    })
                    .collect(),
                bounds: Vec::new(),
            },
            BarSeries {
                // A bar only where both ends are decided; a one-sided bound is an open marker.
                label: "empirical threshold (bar: upper end; triangle: one-sided bound)".into(),
                values: marks.iter().map(|m| m.0).collect(),
                bounds: marks.iter().map(|m| m.1).collect(),
            },
            BarSeries {
                label: "largest width run".into(),
                values: results.iter().map(|r| largest_width(r).map(|m| m as f64)).collect(),
                bounds: Vec::new(),
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
            label: format!("{}% anytime-valid bounds", number(100.0 * res.config.confidence)),
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
    let mut bounds = Vec::new();
    for (i, p) in res.proof_widths.iter().enumerate() {
        categories.push(format!("proof, route {}", i + 1));
        values.push(Some(p.width));
        bounds.push(None);
    }
    let (bar, bound) = threshold_marks(&res.threshold);
    categories.push("empirical threshold".into());
    values.push(bar);
    bounds.push(bound);
    categories.push("largest width run".into());
    values.push(largest_width(res).map(|m| m as f64));
    bounds.push(None);
    BarChart {
        title: format!("{} (paper {}): width the proof needs against width run", res.slide, res.paper),
        y_label: "width m".into(),
        log_y: true,
        categories,
        series: vec![BarSeries { label: String::new(), values, bounds }],
    }
}

fn data_word(kind: &DataKind) -> String {
    match kind {
        DataKind::Sphere => "sphere: x_i uniform on the unit sphere, y_i ~ N(0, 1)".into(),
        DataKind::Orthonormal => "orthonormal: x_i = e_i, y_i ~ N(0, 1)".into(),
        DataKind::Correlated => {
            "correlated: sphere draws with some |x_iᵀx_j| ≥ 0.3 and none above 0.9 (K far from diagonal), y_i ~ N(0, 1)"
                .into()
        }
        DataKind::Family { family, epsilon, clusters } => format!(
            "the structured family `{}` (theory §6.1) with ε = {epsilon}{}",
            family.0.name(),
            if family.0 == lemmas::Family::Clusters { format!(" and {clusters} clusters") } else { String::new() }
        ),
        DataKind::Given(g) => format!("given point by point ({}; theory §6.1)", g.origin),
    }
}

fn setup_table(cfg: &CheckConfig, lambda0: f64) -> String {
    let widths = cfg.widths.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", ");
    let rows = [
        ("inputs n", cfg.n.to_string()),
        ("dimension d", cfg.d.to_string()),
        ("data", data_word(&cfg.data)),
        ("λ0 = λmin(H∞)", number(lambda0)),
        ("widths m of the sweep", widths),
        ("bisection steps", cfg.bisection_steps.to_string()),
        ("δ", number(cfg.delta)),
        ("seeds per width", cfg.seeds.to_string()),
        ("master seed", cfg.master_seed.to_string()),
        ("interval confidence", number(cfg.confidence)),
        ("least horizon T (runs go to max(T, 8/λ0))", number(cfg.horizon)),
        ("least GD iterations (runs go to max(K, ⌈16/(ηλ0)⌉))", cfg.iterations.to_string()),
        ("bound_scale (mutation hook; 1 checks the paper)", number(cfg.bound_scale)),
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
                Some(_) if !p.log10().is_finite() => "no: the proof's width is unbounded".to_string(),
                Some(m) if p.log10_width.is_some() => format!(
                    "no: largest run m = {m} is {}× smaller",
                    crate::format::power_of_ten(p.log10() - (m as f64).log10())
                ),
                Some(m) if (m as f64) >= p.width => format!("yes (m = {m})"),
                Some(m) => format!("no: largest run m = {m} is {}× smaller", number(p.width / m as f64)),
            };
            vec![p.route.clone(), p.formula.clone(), crate::format::proof_width(p), met]
        })
        .collect();
    s.push_str(&markdown_table(&["route", "formula", "m needed", "met by the widths run"], &rows));
    s.push_str(&format!("\nPremise of the statement met at some width run: **{}**.\n\n", premise_words(res)));
    s
}

/// "yes" / "no" for the statement's premise, and for a per-seed premise (a conditional claim whose
/// seeds can be vacuous) how many seeds met it: such a premise can hold on some seeds below the
/// width where the proof makes it hold on average, so "yes" beside a proof width not met is no
/// contradiction once the counts are shown.
fn premise_words(res: &ClaimResult) -> String {
    let word = yes_no(res.premise_met).to_string();
    let Some(st) = statement(res) else { return word };
    let (live, vacuous) = st.rows.iter().fold((0, 0), |(l, v), r| (l + r.seeds, v + r.seeds_vacuous));
    if !matches!(st.premise, Premise::AnyWidth) || vacuous == 0 {
        return word;
    }
    format!("{word} (its per-seed premise held on {live} of {} seeds over the widths run)", live + vacuous)
}

fn target_text(ev: &EventResult) -> String {
    let mut s = match ev.target {
        Target::Probability(p) => format!("claimed probability ≥ {}", number(p)),
        Target::Always => "deterministic: must hold on every live seed".to_string(),
    };
    if let Some(b) = &ev.budget {
        s.push_str(&format!(" — {b}"));
    }
    s.push_str(&match &ev.premise {
        Premise::AnyWidth => "; no width premise".to_string(),
        Premise::Width { width: w, source } => format!("; needs m ≥ {} ({source})", width(*w)),
        Premise::ImplicitConstant => "; width premise with an implicit constant: no width meets it".to_string(),
    });
    s
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Statement => "the statement",
        Role::ProofStep => "a proof step",
        Role::Sanity => "a sanity identity: a failure is a bug, never evidence",
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Holds => "holds",
        Outcome::Fails => "fails",
        Outcome::WithinBand => "within band",
        Outcome::Vacuous => "vacuous",
    }
}

fn witness_text(w: &Option<Witness>) -> String {
    let Some(w) = w else { return "— (no live seed)".to_string() };
    let mut s =
        format!("seed {} ({}): {} vs bound {}", w.trial, outcome_word(w.outcome), number(w.measured), number(w.bound));
    if w.band > 0.0 {
        s.push_str(&format!(" ± {}", number(w.band)));
    }
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
        "successes / live seeds",
        "vacuous",
        "within band",
        "p̂",
        ci.as_str(),
        "verdict",
        "median slack",
        "worst slack",
        "worst seed",
    ];
    table_of(&header, &ev.rows, |r| {
        vec![
            r.m.to_string(),
            yes_no(r.premise_met).to_string(),
            format!("{} / {}", r.successes, r.seeds),
            r.seeds_vacuous.to_string(),
            r.within_band.to_string(),
            number(r.p_hat),
            format!("[{}, {}]", number(r.ci_lower), number(r.ci_upper)),
            r.verdict.word().to_string(),
            number(r.slack_median),
            number(r.slack_worst),
            witness_text(&r.witness),
        ]
    })
}

fn relation_text(relation: Relation) -> String {
    match relation {
        Relation::AtMost => "claimed: mean ≤ reference".to_string(),
        Relation::AtLeast => "claimed: mean ≥ reference".to_string(),
        Relation::Equal => "claimed: mean = reference".to_string(),
        Relation::Report => "reported over the seeds that gave a value".to_string(),
    }
}

fn expectation_table(ex: &ExpectationResult) -> String {
    let opt = |x: Option<f64>| x.map_or("—".to_string(), number);
    if ex.relation == Relation::Report {
        let header = ["m", "seeds", "mean", "min", "max"];
        return table_of(&header, &ex.rows, |r| {
            let blank = r.seeds == 0;
            let v = |x: f64| if blank { "—".to_string() } else { number(x) };
            vec![r.m.to_string(), r.seeds.to_string(), v(r.mean), v(r.min), v(r.max)]
        });
    }
    let header = ["m", "seeds", "mean", "standard error", "reference", "mean ÷ reference", "verdict"];
    table_of(&header, &ex.rows, |r| {
        vec![
            r.m.to_string(),
            r.seeds.to_string(),
            number(r.mean),
            number(r.standard_error),
            opt(r.reference),
            opt(r.slack),
            r.verdict.map_or("—", |v| v.word()).to_string(),
        ]
    })
}

fn image_link(img: &Image) -> String {
    format!("![{}]({})\n\n", img.alt, img.path)
}

/// Why the claim has its verdict, from its rows.
fn verdict_reason(res: &ClaimResult) -> String {
    use lemmas::Verdict;
    let Some(st) = statement(res) else { return String::new() };
    let met: Vec<&WidthRow> = st.rows.iter().filter(|r| r.premise_met).collect();
    match res.verdict {
        Verdict::Error => {
            let keys: Vec<String> = res
                .events
                .iter()
                .filter(|e| e.role == Role::Sanity && e.rows.iter().any(|r| r.verdict == Verdict::Error))
                .map(|e| code_span(&e.key))
                .collect();
            format!(
                "A sanity identity failed ({}): the program is wrong, and no verdict on the claim is given.",
                keys.join(", ")
            )
        }
        _ if met.is_empty() => "No width run meets the statement's width premise, so the rows measure the event but \
                                cannot decide the claim."
            .to_string(),
        _ if met.iter().all(|r| r.seeds == 0) => format!(
            "At the widths meeting the premise no seed is live ({} vacuous seeds): nothing was tested.",
            met.iter().map(|r| r.seeds_vacuous).sum::<u64>()
        ),
        v => format!(
            "From the statement's rows at the {} width(s) meeting the premise with a live seed ({} live, {} vacuous seeds in all): {}.",
            met.iter().filter(|r| r.seeds > 0).count(),
            met.iter().map(|r| r.seeds).sum::<u64>(),
            met.iter().map(|r| r.seeds_vacuous).sum::<u64>(),
            v.word()
        ),
    }
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
        "**Verdict: {}.** Premise met at some width run: {}. {}\n\n",
        res.verdict.word(),
        premise_words(res),
        verdict_reason(res)
    ));

    s.push_str(&format!("## Statement\n\nSlide {}, paper {}.\n\n{}\n\n", res.slide, res.paper, res.statement));

    s.push_str("## Setup\n\n");
    s.push_str(&setup_table(&res.config, res.lambda0));
    s.push('\n');

    s.push_str(&proof_width_section(res));

    s.push_str("## Events\n\n");
    s.push_str(
        "One row per width run. *Live* seeds are evidence; *vacuous* seeds are those whose per-seed premise failed \
         (counted apart); *within band* seeds had a value inside the numerical band of its bound (neither success nor \
         failure). The interval is the anytime-valid confidence sequence of theory §3.1 over the live seeds, from band \
         seeds counted as failures (lower) to band seeds counted as successes (upper). Slack = measured ÷ bound (bound ÷ measured for a lower bound): ≤ 1 \
         means within the bound; \"≥ 1e300\" stands for an unbounded ratio. The worst seed is a failing one if any, \
         else one within the band, else the one with the largest slack.\n\n",
    );
    if res.events.is_empty() {
        s.push_str("No event was measured.\n\n");
    }
    let first = statement(res);
    for ev in &res.events {
        let is_statement = first.is_some_and(|f| std::ptr::eq(ev, f));
        s.push_str(&format!(
            "### {}\n\n{} ({}; {}).\n\n",
            code_span(&ev.key),
            ev.description,
            role_text(ev.role),
            target_text(ev)
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
            "Means over the seeds that gave a value against the value the proof uses (refuted when the mean lies more \
             than {} standard errors on the wrong side), and reported per-seed quantities (rates, margins) with their \
             range.\n\n",
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
    let t = &res.threshold;
    let rows = vec![
        vec!["empirical threshold (lower, upper], from the statement's verdicts".to_string(), threshold_text(t)],
        vec![
            "lower: largest width run refuted below the upper end".to_string(),
            t.lower.map_or("none (no width run was refuted)".to_string(), |m| format!("m = {m}")),
        ],
        vec![
            "upper: smallest width run from which every larger one is supported".to_string(),
            t.upper.map_or("none (the largest width run is not supported)".to_string(), |m| format!("m = {m}")),
        ],
        vec![
            "statement's proof width ÷ empirical threshold".to_string(),
            match (&res.proof_to_empirical, statement(res).map(|e| &e.premise)) {
                (Some(r), _) => interval_text(r),
                (None, Some(Premise::Width { .. })) => "— (no end of the threshold is decided)".to_string(),
                (None, _) => "— (the statement has no proof width)".to_string(),
            },
        ],
    ];
    s.push_str(&markdown_table(&["", "value"], &rows));
    s.push('\n');
    if let Some(why) = &t.undetermined {
        s.push_str(&format!("The threshold is {why}.\n\n"));
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
