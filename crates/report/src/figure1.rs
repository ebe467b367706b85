//! The Fig. 1 page: loss, pattern-change fraction, distance, λmin(H(k)) and the gap to u∞(k) against iteration, one line per width.

use lemmas::figure1::{Figure1Result, Figure1Sample};

use crate::chart::{LineChart, Series, render_line_chart};
use crate::format::{markdown_table, number};
use crate::{Page, Provenance};

/// Renders `figure1.md` and its panels under `img/`.
pub fn render_figure1(res: &Figure1Result, prov: &Provenance) -> Vec<Page> {
    type Get = fn(&Figure1Sample) -> Option<f64>;
    let panels: [(&str, &str, &str, bool, Get); 5] = [
        ("a-loss", "(a) training loss L(k)", "loss", true, |s| Some(s.loss)),
        ("b-patterns", "(b) pattern-change fraction", "fraction of (i, r) flipped", false, |s| {
            Some(s.pattern_change_fraction)
        }),
        ("c-distance", "(c) max_r ‖w_r(k) − w_r(0)‖", "distance", false, |s| Some(s.max_weight_distance)),
        ("d-lambda-min", "(d) λmin(H(k))", "λmin", false, |s| s.lambda_min_h),
        ("e-gap", "(e) ‖u(k) − u∞(k)‖", "gap to infinite width", true, |s| Some(s.infinite_width_gap)),
    ];
    let mut pages = Vec::new();
    let mut md = String::new();
    md.push_str("# Fig. 1 (paper Sec. 5): gradient descent on sphere data at several widths\n\n");
    md.push_str(&format!(
        "n = {}, d = {}: x_i uniform on the unit sphere, y_i ~ N(0, 1); full-batch GD of the first layer for {} iterations, one initialisation per width (master seed {}).\n\n",
        res.config.n, res.config.d, res.config.iterations, res.config.seed
    ));
    md.push_str(&format!(
        "- Step: η = {} — {}.\n- λ0 = λmin(H∞) = {}, λmax(H∞) = {}.\n- Widths: {}.\n\n",
        number(res.eta),
        res.eta_rule,
        number(res.lambda0),
        number(res.lambda_max_infinity),
        res.config.widths.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", ")
    ));
    md.push_str("The paper's finding: larger m converges faster, changes fewer patterns and moves less. Panel (a) also draws Thm 3.1's bound (1 − ηλ0/2)^k L(0) at this η for the largest width: the theorem asks for a far smaller step (η = O(λ0/n²)), and the loss still falls far faster than the bound's rate.\n\n");
    for (key, title, y_label, log_y, get) in panels {
        let mut series: Vec<Series> = res
            .runs
            .iter()
            .map(|r| Series {
                label: format!("m = {}", r.m),
                points: r.samples.iter().filter_map(|s| get(s).map(|v| (s.k as f64, v))).collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        if series.is_empty() {
            continue;
        }
        if key == "a-loss" {
            series.extend(loss_bound(res));
        }
        let svg = render_line_chart(&LineChart {
            title: title.into(),
            x_label: "iteration k".into(),
            y_label: y_label.into(),
            log_y,
            series,
            ..Default::default()
        });
        let path = format!("img/figure1-{key}.svg");
        md.push_str(&format!("![{title}]({path})\n\n"));
        pages.push(Page { path, contents: svg });
    }
    md.push_str("## Summary per width\n\n");
    let rows: Vec<Vec<String>> = res
        .runs
        .iter()
        .map(|r| {
            let last = r.samples.last();
            vec![
                r.m.to_string(),
                r.status.clone(),
                last.map_or("—".into(), |s| number(s.loss)),
                last.map_or("—".into(), |s| number(s.pattern_change_fraction)),
                last.map_or("—".into(), |s| number(s.max_weight_distance)),
                r.samples.iter().filter_map(|s| s.lambda_min_h).reduce(f64::min).map_or("—".into(), number),
                number(r.max_infinite_width_gap),
            ]
        })
        .collect();
    md.push_str(&markdown_table(
        &["m", "status", "final loss", "final pattern change", "final max distance", "min λmin(H(k))", "max ‖u − u∞‖"],
        &rows,
    ));
    md.push('\n');
    if let Some(slope) = res.gap_slope {
        md.push_str(&format!(
            "Least-squares slope of log max‖u(k) − u∞(k)‖ against log m: {} (the 1/√m prediction is −0.5).\n\n",
            number(slope)
        ));
    }
    md.push_str(&sgd_section(res));
    md.push_str(&crate::claims::provenance_section(prov));
    pages.insert(0, Page { path: "figure1.md".into(), contents: md });
    pages
}

/// Thm 3.1's bound (1 − ηλ0/2)^k L(0) for the largest width run, at Fig. 1's η (the theorem asks
/// for η = O(λ0/n²); the panel shows how far a practical step's loss stays below the bound's form).
fn loss_bound(res: &Figure1Result) -> Option<Series> {
    let run = res.runs.last()?;
    let l0 = run.samples.first()?.loss;
    let q = 1.0 - res.eta * res.lambda0 / 2.0;
    let points = run.samples.iter().map(|s| (s.k as f64, l0 * q.powi(s.k as i32))).collect();
    Some(Series { label: format!("(1 − ηλ0/2)^k L(0), m = {}", run.m), points })
}

/// The GD-against-SGD section of the Fig. 1 page.
pub(crate) fn sgd_section(res: &Figure1Result) -> String {
    if res.sgd.is_empty() {
        return String::new();
    }
    let mut md = String::from("## What changes under SGD\n\n");
    md.push_str("The slide deck closes by asking what changes under SGD. Same data and initialisation; SGD draws batches of b inputs without replacement (a seeded stream) and scales the batch gradient by n/b, so it is unbiased. An epoch is one GD step or ⌈n/b⌉ SGD steps (about n examples seen). Both runs use the same step: first Fig. 1's η, then η·b/n.\n\n");
    for s in &res.sgd {
        md.push_str(&sgd_table(s));
    }
    md
}

fn sgd_table(s: &lemmas::figure1::SgdSummary) -> String {
    let mut md = format!(
        "### η = {}, b = {}, m = {}\n\nGD: {}; SGD: {}.\n\n",
        number(s.eta),
        s.batch_size,
        s.m,
        s.status.0,
        s.status.1
    );
    let pick: Vec<_> = s.by_epoch.iter().filter(|r| r.0 % 5 == 0 || r.0 + 1 == s.by_epoch.len()).collect();
    let rows: Vec<Vec<String>> = pick
        .iter()
        .map(|r| vec![r.0.to_string(), number(r.1), number(r.2), number(r.3), number(r.4), number(r.5), number(r.6)])
        .collect();
    md.push_str(&markdown_table(
        &[
            "epoch",
            "GD loss",
            "SGD loss",
            "GD pattern change",
            "SGD pattern change",
            "GD max distance",
            "SGD max distance",
        ],
        &rows,
    ));
    md.push('\n');
    md
}
