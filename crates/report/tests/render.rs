//! The rendered pages: Markdown snapshots of real tiny results (with planted extremes) and well-formed SVG.
//!
//! Also checked: no "NaN", one index row per claim, the release's verdict changes.

use lemmas::config::{CheckConfig, ClaimId};
use lemmas::result::{ProofWidth, Role};
use lemmas::{ClaimResult, NoProgress, Verdict};
use report::{LineChart, Page, Provenance, ReferenceLine, Series, markdown_table, render_claims};

/// The tiny profile's common configuration (n = d = 4, widths 50 and 400, 12 seeds, δ = 0.2,
/// bisection 2, RK4 step 0.2) with the default horizon and iterations.
fn tiny() -> CheckConfig {
    let default = CheckConfig::default();
    CheckConfig { horizon: default.horizon, iterations: default.iterations, ..lemmas::Profile::tiny_base() }
}

fn provenance() -> Provenance {
    Provenance {
        command: "cargo xtask check --profile tiny".into(),
        profile: "tiny".into(),
        version: "0.0.0 (test fixture)".into(),
        seeds: 12,
        notes: vec!["Fixture: real tiny results, with extremes planted by hand in Thm 3.1.".into()],
    }
}

/// Lem 2.3 on the tiny configuration, as the lemmas crate computes it.
fn lemma_2_3() -> ClaimResult {
    lemmas::check(ClaimId::Lem23, &tiny(), &NoProgress).unwrap()
}

/// Thm 3.1 with every bound scaled by 0.01 (refuted rows), its verdict and a few values planted by
/// hand: a refuted claim, NaN, ∞ and 1e300 in the tables, a `|` in a proof route, a width 200.
fn theorem_3_1_refuted() -> ClaimResult {
    let cfg = CheckConfig { bound_scale: 0.01, widths: vec![50, 200], bisection_steps: 0, ..tiny() };
    let mut res = lemmas::check(ClaimId::Thm31, &cfg, &NoProgress).unwrap();
    res.verdict = Verdict::Refuted;
    res.proof_widths.push(ProofWidth::new("fixture | a width the run meets", "m", 100.0, 2.0));
    let st = res.events.iter_mut().find(|e| e.role == Role::Statement).unwrap();
    st.rows[0].slack_worst = 1e300;
    st.rows[1].slack_median = f64::INFINITY;
    if let Some(w) = st.rows[1].witness.as_mut() {
        w.measured = f64::NAN;
    }
    res
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
    assert!(thm.contains("| ≥ 1e300 |") && thm.contains("| ∞ |") && thm.contains("—"), "{thm}");
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
    assert_eq!(rows[1][3], "refuted");
    assert_eq!(rows[1][7], report::threshold_text(&results[1].threshold));
    assert!(!index.contains("What changed"), "release notes live in CHANGELOG.md, not in reports");
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
    assert_eq!(event_row.replace("\\|", "").matches('|').count(), 12, "{event_row}");
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
    for key in ["statement", "hoeffding-entrywise", "slide-entrywise", "spectral-step", "min-eigenvalue", "weyl"] {
        assert!(lem22_page.contains(&format!("### `{key}`")), "missing event {key}");
    }
    // Every page states its provenance.
    for p in pages.iter().filter(|p| p.path.ends_with(".md")) {
        assert!(p.contents.contains("## Provenance") && p.contents.contains("cargo xtask check --profile tiny"));
    }
}

/// Inference finding 1: a threshold is printed from decided ends only; one the seeds cannot place
/// reads "undetermined", and a refuted lower end survives an undetermined upper one.
#[test]
fn thresholds_print_decided_ends_only() {
    use lemmas::result::Threshold;
    let t = |lower, upper, why: Option<&str>| Threshold { lower, upper, undetermined: why.map(String::from) };
    assert_eq!(report::threshold_text(&t(Some(10), Some(40), None)), "(10, 40]");
    assert_eq!(report::threshold_text(&t(None, Some(40), None)), "≤ 40");
    assert_eq!(report::threshold_text(&t(Some(10), None, None)), "> 10");
    assert_eq!(report::threshold_text(&t(None, None, Some("undetermined: 20 seeds"))), "undetermined");
    assert_eq!(
        report::threshold_text(&t(Some(10), None, Some("undetermined: 20 seeds"))),
        "> 10 (upper end undetermined)"
    );
}

/// The hardest-quick record's page (the families, the data search with its estimate beside the
/// fresh interval, the published bounds' slopes) against its snapshot: a change of wording or of any
/// number on it shows here.
#[test]
fn the_hardest_quick_page_matches_its_snapshot() {
    use lemmas::scaling::{NoPointProgress, NoPointStore, ScalingContext, ScalingPlan, ScalingProfile, run_plan};
    let plan = ScalingPlan::of(ScalingProfile::HardestQuick);
    let ctx =
        ScalingContext { seeds: &lemmas::NoProgress, points: &NoPointProgress, store: &NoPointStore, shard: None };
    let result = run_plan(&plan, &ctx).unwrap().expect("no shard");
    let pages = report::render_scaling(&result, &provenance());
    assert_no_nan(&pages);
    let index = page(&pages, "index.md");
    assert!(index.contents.contains("## The data search"));
    assert!(index.contents.contains("Du et al. 2019 Thm 3.2, Thm 4.1: "), "{}", index.contents);
    insta::assert_snapshot!("hardest-quick-index.md", index.contents);
}
