//! The rendered pages: Markdown snapshots of a hand-built fixture, well-formed SVG, no "NaN", one index row per claim.

use lemmas::config::{CheckConfig, ClaimId};
use lemmas::result::{
    EventResult, ExpectationResult, ExpectationRow, ProofWidth, Relation, Target, Threshold, WidthRow, Witness,
};
use lemmas::{ClaimResult, NoProgress, Verdict};
use report::{LineChart, Page, Provenance, ReferenceLine, Series, markdown_table, render_claims};

fn tiny() -> CheckConfig {
    CheckConfig { n: 4, d: 4, widths: vec![50, 400], seeds: 12, delta: 0.2, bisection_steps: 2, ..Default::default() }
}

fn provenance() -> Provenance {
    Provenance {
        command: "cargo xtask check --profile tiny".into(),
        profile: "tiny".into(),
        version: "0.0.0 (test fixture)".into(),
        seeds: 12,
        notes: vec!["Hand-built fixture: the numbers are realistic, not measured.".into()],
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    m: usize,
    premise: bool,
    k: u64,
    ci: (f64, f64),
    verdict: Verdict,
    median: f64,
    worst: f64,
    w: Witness,
) -> WidthRow {
    WidthRow {
        m,
        premise_met: premise,
        seeds: 12,
        successes: k,
        p_hat: k as f64 / 12.0,
        ci_lower: ci.0,
        ci_upper: ci.1,
        verdict,
        slack_median: median,
        slack_worst: worst,
        witness: w,
    }
}

fn witness(trial: u64, measured: f64, bound: f64, time: Option<f64>) -> Witness {
    Witness { trial, measured, bound, slack: measured / bound, time }
}

/// Lem 2.3 with the numbers of the lemmas crate's snapshot (n = d = 4, m ∈ {50, 400}, 12 seeds, δ = 0.2).
fn lemma_2_3() -> ClaimResult {
    let bound = 0.0439484;
    ClaimResult {
        claim: ClaimId::Lem23,
        slide: ClaimId::Lem23.slide().into(),
        paper: ClaimId::Lem23.paper().into(),
        title: ClaimId::Lem23.title().into(),
        statement: "With R = c δ λ0 / n², c = √(2π)/16: with probability ≥ 1 − δ over W(0), every W with \
                    ‖w_r − w_r(0)‖₂ ≤ R for all r has ‖H(W) − H(0)‖₂ < λ0/4."
            .into(),
        config: tiny(),
        lambda0: 0.175794,
        proof_widths: vec![ProofWidth {
            route: "no width premise for the first part; the λmin part uses Lem 2.2's width".into(),
            formula: "8 n² log(2n²/δ) / λ0² (Lem 2.2)".into(),
            width: 21021.1,
        }],
        premise_met: true,
        events: vec![
            EventResult {
                key: "statement".into(),
                description: "certificate B < λ0/4, so ‖H(W) − H(0)‖₂ < λ0/4 for every W in the ball".into(),
                target: Target::Probability(0.8),
                rows: vec![
                    row(
                        50,
                        true,
                        10,
                        (0.515862, 0.979137),
                        Verdict::Inconclusive,
                        0.0,
                        1.77631,
                        witness(1, 0.078066, bound, None),
                    ),
                    row(
                        400,
                        true,
                        12,
                        (0.735352, 1.0),
                        Verdict::Inconclusive,
                        0.041739,
                        0.450007,
                        witness(11, 0.0197771, bound, None),
                    ),
                ],
            },
            EventResult {
                key: "adversarial".into(),
                description: "‖H(W_adv) − H(0)‖₂ < λ0/4 for the adversarial W_adv in the ball".into(),
                target: Target::Probability(0.8),
                rows: vec![
                    row(
                        50,
                        true,
                        12,
                        (0.735352, 1.0),
                        Verdict::Inconclusive,
                        0.0,
                        0.456347,
                        witness(1, 0.0200557, bound, None),
                    ),
                    row(
                        400,
                        true,
                        12,
                        (0.735352, 1.0),
                        Verdict::Inconclusive,
                        0.0285217,
                        0.105753,
                        witness(11, 0.00464767, bound, None),
                    ),
                ],
            },
        ],
        expectations: vec![ExpectationResult {
            key: "anti-concentration".into(),
            description: "P(A_ir) ≤ 2R/√(2π), with A_ir = {|w_r(0)ᵀx_i| < R}".into(),
            relation: Relation::AtMost,
            rows: vec![
                ExpectationRow {
                    m: 50,
                    mean: 0.000833333,
                    standard_error: 0.000561833,
                    reference: 0.000274677,
                    slack: 3.03386,
                    verdict: Verdict::Inconclusive,
                },
                ExpectationRow {
                    m: 400,
                    mean: 0.000416667,
                    standard_error: 0.000140458,
                    reference: 0.000274677,
                    slack: 1.51693,
                    verdict: Verdict::Inconclusive,
                },
            ],
        }],
        threshold: Some(Threshold {
            empirical_width: Some(50),
            largest_failing_width: None,
            proof_to_empirical: Some(420.422),
        }),
        verdict: Verdict::Inconclusive,
        notes: vec!["R = 3.4426e-4: the ball is so small that almost no pattern can flip.".into()],
    }
}

/// A refuted deterministic claim (refuted at m = 2000, which meets the made-up proof width) with
/// the awkward values a renderer must survive: a slack of 1e300 (an unbounded ratio), ∞, NaN, an
/// infinite proof width, witness times, and `|` in table cells.
fn theorem_3_1_refuted() -> ClaimResult {
    let mut cfg = tiny();
    cfg.widths = vec![20, 200, 2000];
    ClaimResult {
        claim: ClaimId::Thm31,
        slide: ClaimId::Thm31.slide().into(),
        paper: ClaimId::Thm31.paper().into(),
        title: ClaimId::Thm31.title().into(),
        statement: "With η = c_η λ0/n²: ‖u(k) − y‖² ≤ (1 − ηλ0/2)^k ‖u(0) − y‖² for every k.".into(),
        config: cfg,
        lambda0: 0.5,
        proof_widths: vec![
            ProofWidth {
                route: "fixture | a width the run meets".into(),
                formula: "375 n² (made up for the fixture)".into(),
                width: 1500.0,
            },
            ProofWidth { route: "unbounded route".into(), formula: "n / 0".into(), width: f64::INFINITY },
        ],
        premise_met: true,
        events: vec![
            EventResult {
                key: "statement".into(),
                description: "‖u(k) − y‖² ≤ (1 − ηλ0/2)^k ‖u(0) − y‖² for k ≤ horizon".into(),
                target: Target::Always,
                rows: vec![
                    row(
                        20,
                        false,
                        3,
                        (0.0549, 0.5719),
                        Verdict::Refuted,
                        1.4,
                        1e300,
                        Witness { trial: 7, measured: 2.5, bound: 0.0, slack: 1e300, time: Some(12.0) },
                    ),
                    row(
                        200,
                        false,
                        12,
                        (0.735352, 1.0),
                        Verdict::Supported,
                        0.31,
                        0.92,
                        witness(2, 0.46, 0.5, Some(3.0)),
                    ),
                    row(
                        2000,
                        true,
                        11,
                        (0.6152, 0.9979),
                        Verdict::Refuted,
                        f64::NAN,
                        f64::INFINITY,
                        witness(0, f64::NAN, 0.5, Some(f64::INFINITY)),
                    ),
                ],
            },
            EventResult {
                key: "max-step".into(),
                description: "|largest η| on every seed < 2/λmax(H)".into(),
                target: Target::Probability(0.8),
                rows: vec![row(
                    200,
                    false,
                    12,
                    (0.735352, 1.0),
                    Verdict::Inconclusive,
                    0.5,
                    0.7,
                    witness(4, 0.7, 1.0, None),
                )],
            },
        ],
        expectations: vec![],
        threshold: Some(Threshold {
            empirical_width: None,
            largest_failing_width: Some(2000),
            proof_to_empirical: None,
        }),
        verdict: Verdict::Refuted,
        notes: vec![],
    }
}

fn fixture() -> Vec<ClaimResult> {
    vec![lemma_2_3(), theorem_3_1_refuted()]
}

fn page<'a>(pages: &'a [Page], path: &str) -> &'a Page {
    pages.iter().find(|p| p.path == path).unwrap_or_else(|| panic!("no page {path}"))
}

/// Balanced tags: every `<name …>` is closed by `</name>` in order, `<…/>` closes itself.
fn assert_well_formed_svg(svg: &str, title: &str, path: &str) {
    assert!(svg.starts_with("<svg"), "{path}: does not start with <svg");
    assert!(svg.trim_end().ends_with("</svg>"), "{path}: does not end with </svg>");
    let escaped = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    assert!(svg.contains(&escaped), "{path}: title {title:?} missing");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').map(|e| start + e).unwrap_or_else(|| panic!("{path}: unclosed <"));
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "{path}: '<' inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().unwrap_or_else(|| panic!("{path}: </{name}> without an opening tag"));
            assert_eq!(open, name.trim(), "{path}: mismatched closing tag");
        } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "{path}: unclosed tags {stack:?}");
}

fn assert_no_nan(pages: &[Page]) {
    for p in pages {
        assert!(!p.contents.contains("NaN"), "{} contains NaN", p.path);
        assert!(!p.contents.contains("=\"inf") && !p.contents.contains("-inf\""), "{} contains inf", p.path);
    }
}

/// The rendered Markdown of every page of the fixture, as it will be read.
#[test]
fn markdown_pages_match_their_snapshots() {
    let pages = render_claims(&fixture(), &provenance());
    let paths: Vec<&str> = pages.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "index.md",
            "img/index-widths.svg",
            "lem-2.3.md",
            "img/lem-2.3-probability.svg",
            "img/lem-2.3-slack.svg",
            "img/lem-2.3-widths.svg",
            "thm-3.1.md",
            "img/thm-3.1-probability.svg",
            "img/thm-3.1-slack.svg",
            "img/thm-3.1-widths.svg",
        ]
    );
    for p in pages.iter().filter(|p| p.path.ends_with(".md")) {
        insta::assert_snapshot!(p.path.replace('/', "-"), p.contents);
    }
}

/// Every SVG starts with <svg, ends with </svg>, has balanced tags and carries its title; no page
/// shows "NaN", though the fixture holds NaN, ∞ and 1e300.
#[test]
fn svgs_are_well_formed_and_nothing_shows_nan() {
    let pages = render_claims(&fixture(), &provenance());
    assert_no_nan(&pages);
    let titles = [
        ("img/index-widths.svg", "Width the proof needs against width that suffices"),
        ("img/lem-2.3-probability.svg", "Lem 2.3 (paper Lem 3.2): P(statement) against width"),
        ("img/lem-2.3-slack.svg", "Lem 2.3 (paper Lem 3.2): slack (measured ÷ bound) against width"),
        ("img/lem-2.3-widths.svg", "Lem 2.3 (paper Lem 3.2): width the proof needs against width run"),
        ("img/thm-3.1-probability.svg", "Thm 3.1 (paper Thm 4.1): P(statement) against width"),
        ("img/thm-3.1-slack.svg", "Thm 3.1 (paper Thm 4.1): slack (measured ÷ bound) against width"),
        ("img/thm-3.1-widths.svg", "Thm 3.1 (paper Thm 4.1): width the proof needs against width run"),
    ];
    for (path, title) in titles {
        assert_well_formed_svg(&page(&pages, path).contents, title, path);
    }
    // The infinite worst slack of Thm 3.1 is drawn at the top edge and announced in the legend.
    assert!(page(&pages, "img/thm-3.1-slack.svg").contents.contains("off scale (drawn at the edge)"));
    assert!(page(&pages, "img/thm-3.1-slack.svg").contents.contains("<polygon"));
    // And printed as such in the tables.
    let thm = &page(&pages, "thm-3.1.md").contents;
    assert!(thm.contains("| ≥ 1e300 |") && thm.contains("| ∞ |") && thm.contains("| — |"), "{thm}");
}

/// A line chart fed NaN, ±∞, 1e300 and, on a log axis, zeros and negatives still draws its finite points.
#[test]
fn line_chart_survives_non_finite_points() {
    let series = vec![
        Series {
            label: "loss".into(),
            points: vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 0.5), (f64::NAN, 3.0), (3.0, f64::INFINITY), (4.0, 0.0)],
        },
        Series { label: "all bad".into(), points: vec![(f64::INFINITY, f64::NAN), (1.0, f64::NEG_INFINITY)] },
        Series { label: "empty".into(), points: vec![] },
    ];
    for log_y in [false, true] {
        let svg = report::line_chart("Loss | against iteration <k>", "iteration k", "loss", &series, log_y);
        assert_well_formed_svg(&svg, "Loss | against iteration <k>", "line_chart");
        assert!(!svg.contains("NaN") && !svg.contains("inf\""), "{svg}");
        assert!(svg.contains("<polyline") || svg.contains("<path"), "no line drawn");
    }
    let chart = LineChart {
        title: "log-log".into(),
        log_x: true,
        log_y: true,
        series: vec![Series { label: String::new(), points: vec![(0.0, 1.0), (-1.0, 2.0), (10.0, -1.0)] }],
        reference_lines: vec![ReferenceLine { label: "y = undefined".into(), y: f64::NAN }],
        ..Default::default()
    };
    let svg = report::render_line_chart(&chart);
    assert_well_formed_svg(&svg, "log-log", "render_line_chart");
    assert!(!svg.contains("NaN") && !svg.contains("y = undefined"), "a NaN reference line is not drawn");
}

/// The index's verdict table has one row per claim, in order, with the claim's verdict word.
#[test]
fn index_has_one_row_per_claim_with_its_verdict() {
    let results = fixture();
    let pages = render_claims(&results, &provenance());
    let index = &page(&pages, "index.md").contents;
    let rows: Vec<Vec<&str>> = index
        .lines()
        .filter(|l| l.starts_with("| ["))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), results.len(), "{index}");
    for (row, res) in rows.iter().zip(&results) {
        assert_eq!(row.len(), 9, "{row:?}");
        assert_eq!(row[0], format!("[{}]({}.md)", res.slide, res.claim.key()));
        assert_eq!(row[1], res.paper);
        assert_eq!(row[3], res.verdict.word());
    }
    assert_eq!(rows[0][3], "inconclusive");
    assert_eq!(rows[1][3], "refuted");
    assert_eq!(rows[1][7], "not reached");
}

/// A `|` inside a cell is escaped, so the proof-width table keeps its four columns.
#[test]
fn tables_escape_pipes() {
    let pages = render_claims(&fixture(), &provenance());
    let thm = &page(&pages, "thm-3.1.md").contents;
    let line = thm.lines().find(|l| l.contains("a width the run meets")).expect("proof width row");
    assert!(line.starts_with("| fixture \\| a width the run meets |"), "{line}");
    let unescaped = line.replace("\\|", "").matches('|').count();
    assert_eq!(unescaped, 5, "four cells need five separators: {line}");
    let event_row = thm.lines().find(|l| l.starts_with("| 200 |")).expect("event row");
    assert_eq!(event_row.replace("\\|", "").matches('|').count(), 10, "{event_row}");
    assert_eq!(markdown_table(&["a|b"], &[vec!["|".into()]]), "| a\\|b |\n| --- |\n| \\| |\n");
}

/// Real results from the lemmas crate render, deterministically, with well-formed plots; a claim
/// checked twice gets a second page instead of overwriting the first.
#[test]
fn real_results_render_deterministically() {
    let lem22 = lemmas::check(ClaimId::Lem22, &tiny(), &NoProgress).unwrap();
    let lem23 = lemmas::check(ClaimId::Lem23, &tiny(), &NoProgress).unwrap();
    let results = vec![lem22.clone(), lem23, lem22];
    let pages = render_claims(&results, &provenance());
    assert_eq!(pages, render_claims(&results, &provenance()), "rendering is not deterministic");
    assert_no_nan(&pages);
    for p in pages.iter().filter(|p| p.path.ends_with(".svg")) {
        assert_well_formed_svg(&p.contents, "", &p.path);
    }
    for path in ["index.md", "lem-2.2.md", "lem-2.3.md", "lem-2.2-2.md", "img/lem-2.2-2-probability.svg"] {
        page(&pages, path);
    }
    let index = &page(&pages, "index.md").contents;
    assert_eq!(index.lines().filter(|l| l.starts_with("| [")).count(), 3);
    assert!(index.contains("(lem-2.2-2.md)"));
    let lem22_page = &page(&pages, "lem-2.2.md").contents;
    for key in ["statement", "hoeffding-entrywise", "slide-entrywise", "spectral-step", "min-eigenvalue"] {
        assert!(lem22_page.contains(&format!("### `{key}`")), "missing event {key}");
    }
    // Every page states its provenance.
    for p in pages.iter().filter(|p| p.path.ends_with(".md")) {
        assert!(p.contents.contains("## Provenance") && p.contents.contains("cargo xtask check --profile tiny"));
    }
}
