//! SVG charts drawn with plotters into strings: line charts and grouped bar charts.
//!
//! Line charts can have log axes, error bars and reference lines.
//! Values that cannot be placed are handled here, never passed to plotters: NaN points (and points
//! whose x is not finite, or not positive on a log axis) are skipped; y values that are ±∞, of
//! magnitude ≥ [`HUGE`], or ≤ 0 on a log axis are drawn at the edge of the plot with a triangle
//! marker and a legend entry "off scale". Axis ranges come from the placeable values only.
//! The legend sits in a panel right of the plot, so it never hides data. Log axes get ticks at
//! 1-2-5 multiples of powers of ten chosen here (plotters' own start at the first power of ten
//! inside the range, which leaves e.g. [0.3, 6] with a single label).

use plotters::coord::Shift;
use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::{HUGE, number, number_with_digits};

/// Width of every chart in pixels (plot and legend panel).
pub const CHART_WIDTH: u32 = 800;
/// Height of every chart in pixels.
pub const CHART_HEIGHT: u32 = 440;

/// A named polyline: points (x, y) in the caller's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend text; an empty label adds no legend entry.
    pub label: String,
    /// The points, joined in this order.
    pub points: Vec<(f64, f64)>,
}

/// A vertical interval [low, high] at x (e.g. a Clopper–Pearson interval).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorBar {
    /// Position on the x axis.
    pub x: f64,
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// A set of error bars sharing one legend entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorBars {
    /// Legend text; empty for none.
    pub label: String,
    /// The bars.
    pub bars: Vec<ErrorBar>,
}

/// A horizontal line across the whole plot (e.g. y = 1 − δ, slack = 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceLine {
    /// Legend text; empty for none.
    pub label: String,
    /// Its height.
    pub y: f64,
}

/// A shaded region between two curves (e.g. the min–max over seeds around a median line).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Band {
    /// Legend text; empty for none.
    pub label: String,
    /// Index of the series whose colour it takes (so a band matches its line).
    pub colour_of_series: usize,
    /// Points (x, low, high) in x order.
    pub points: Vec<(f64, f64, f64)>,
}

/// A line chart: series with markers, optional error bars and reference lines, linear or log axes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Caption above the plot.
    pub title: String,
    /// Description of the x axis.
    pub x_label: String,
    /// Description of the y axis.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Fixed y range (low, high); None fits the data. Ignored unless finite, low < high, and
    /// 0 < low on a log axis.
    pub y_range: Option<(f64, f64)>,
    /// The polylines; a series of more than 30 points is drawn without a marker per point.
    pub series: Vec<Series>,
    /// Error bars, drawn in grey beneath the series.
    pub error_bars: Vec<ErrorBars>,
    /// Horizontal reference lines.
    pub reference_lines: Vec<ReferenceLine>,
}

/// A line chart of `series` with a linear x axis and a linear or logarithmic y axis; the runner's
/// Fig. 1 panels (loss, pattern-change fraction, distance against iteration) are of this kind.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series], log_y: bool) -> String {
    render_line_chart(&LineChart {
        title: title.into(),
        x_label: x_label.into(),
        y_label: y_label.into(),
        log_y,
        series: series.to_vec(),
        ..Default::default()
    })
}

/// One named set of bars: one optional value per category.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarSeries {
    /// Legend text; empty for none.
    pub label: String,
    /// One value per category; None (or an unplaceable value) draws no bar.
    pub values: Vec<Option<f64>>,
    /// One-sided bounds per category, drawn where the category has no bar: an open triangle at the
    /// bound's height, pointing the way the value lies, labelled "≤ v" or "> v". Never a bar: a
    /// bound is not a value. Shorter than `categories` (or empty) means no bound for the rest.
    pub bounds: Vec<Option<OneSided>>,
}

/// A one-sided bound on a value a [`BarSeries`] could not determine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OneSided {
    /// The value is at most this.
    AtMost(f64),
    /// The value is larger than this.
    Above(f64),
}

impl OneSided {
    fn height(self) -> f64 {
        match self {
            OneSided::AtMost(v) | OneSided::Above(v) => v,
        }
    }

    fn text(self) -> String {
        match self {
            OneSided::AtMost(v) => format!("≤ {}", number(v)),
            OneSided::Above(v) => format!("> {}", number(v)),
        }
    }
}

/// A grouped bar chart: categories along x, one bar per series in each category, value printed above.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    /// Caption above the plot.
    pub title: String,
    /// Description of the y axis.
    pub y_label: String,
    /// Logarithmic y axis (bars rise from the bottom edge).
    pub log_y: bool,
    /// Category names along x.
    pub categories: Vec<String>,
    /// The series; each has one value per category.
    pub series: Vec<BarSeries>,
}

/// Colours of successive series (Tableau 10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const REFERENCE_COLOURS: [RGBColor; 3] = [RGBColor(200, 0, 0), RGBColor(90, 90, 90), RGBColor(0, 120, 0)];
const ERROR_BAR_COLOUR: RGBColor = RGBColor(110, 110, 110);
/// Opacity of a [`Band`]'s fill.
const BAND_OPACITY: f64 = 0.18;
/// Series with more points than this are drawn as plain lines, without a marker per point.
const MARKER_LIMIT: usize = 30;

type DrawResult = Result<(), Box<dyn std::error::Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// The plot of a chart on an [`Area`], in Cartesian coordinates `X` × `Y`.
type Plot<'a, X, Y> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>;

/// The plot of a chart on `area`, framed as every chart is: a 12 px margin, `x_label_area` px
/// below the plot for the x labels and 72 px left of it for the y labels.
fn cartesian<'a, XS: AsRangedCoord, YS: AsRangedCoord>(
    area: &Area<'a>,
    x_label_area: i32,
    x_spec: XS,
    y_spec: YS,
) -> Result<Plot<'a, XS::CoordDescType, YS::CoordDescType>, Box<dyn std::error::Error>> {
    Ok(ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(x_label_area)
        .y_label_area_size(72)
        .build_cartesian_2d(x_spec, y_spec)?)
}

/// Where a y value goes on an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// Inside the axis' domain.
    At(f64),
    /// Above every placeable value (+∞, ≥ 1e300).
    High,
    /// Below every placeable value (−∞, ≤ −1e300, ≤ 0 on a log axis).
    Low,
    /// Not drawn (NaN).
    Skip,
}

fn place(v: f64, log: bool) -> Place {
    if v.is_nan() {
        Place::Skip
    } else if v >= HUGE {
        Place::High
    } else if v <= -HUGE || (log && v <= 0.0) {
        Place::Low
    } else {
        Place::At(v)
    }
}

/// x values are never clamped: a point whose x cannot be placed is dropped.
fn place_x(x: f64, log: bool) -> Option<f64> {
    (x.is_finite() && x.abs() < HUGE && (!log || x > 0.0)).then_some(x)
}

/// The y at which a placed value is drawn: clamped into the range, off-scale values at the edges.
fn y_drawn(p: Place, y_range: (f64, f64)) -> Option<f64> {
    match p {
        Place::At(v) => Some(v.clamp(y_range.0, y_range.1)),
        Place::High => Some(y_range.1),
        Place::Low => Some(y_range.0),
        Place::Skip => None,
    }
}

/// A padded range around `values` (or `fallback` if empty).
fn fit_range(values: impl IntoIterator<Item = f64>, log: bool, fallback: (f64, f64)) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        (lo, hi) = fallback;
    }
    if log {
        let (llo, lhi) = (lo.log10(), hi.log10());
        let pad = ((lhi - llo) * 0.06).max(0.08);
        (10f64.powf(llo - pad), 10f64.powf(lhi + pad))
    } else {
        let span = hi - lo;
        let pad = if span > 0.0 { span * 0.06 } else { lo.abs().max(1.0) * 0.1 };
        (lo - pad, hi + pad)
    }
}

/// Ticks of a log axis over `range` (labelled, light): the densest of 10^k, {1, 2, 5}·10^k,
/// {1, …, 9}·10^k that gives at most 10 labels and at least 2 (every n-th power of ten beyond 10
/// decades; linear 1-2-5 steps when even {1, …, 9}·10^k gives fewer than 2).
fn log_ticks(range: (f64, f64)) -> (Vec<f64>, Vec<f64>) {
    let (lo, hi) = range;
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |mantissas: &[f64]| -> Vec<f64> {
        (e0..=e1)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12))
            .collect()
    };
    let all = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    let light = if e1 - e0 <= 6 { within(&all) } else { within(&[1.0]) };
    for mantissas in [&all[..], &[1.0, 2.0, 5.0], &[1.0]] {
        let ticks = within(mantissas);
        if ticks.len() <= 10 {
            if ticks.len() >= 2 {
                return (ticks, light);
            }
            if mantissas.len() == all.len() {
                return (linear_ticks(range), light);
            }
        }
    }
    let powers = within(&[1.0]);
    let stride = powers.len().div_ceil(10);
    (powers.into_iter().step_by(stride.max(1)).collect(), vec![])
}

/// About five ticks at a 1-2-5 step inside `range`.
fn linear_ticks((lo, hi): (f64, f64)) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn tick(v: &f64) -> String {
    // Round away binary noise (0.30000000000000004) before printing.
    number_with_digits(*v, 3)
}

fn svg_fallback(title: &str, error: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<svg width=\"{CHART_WIDTH}\" height=\"{CHART_HEIGHT}\" viewBox=\"0 0 {CHART_WIDTH} {CHART_HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n<text x=\"20\" y=\"40\">{}</text>\n<text x=\"20\" y=\"70\">\
         could not draw: {}</text>\n</svg>\n",
        esc(title),
        esc(error)
    )
}

/// What a legend entry shows beside its text.
#[derive(Debug, Clone, Copy)]
enum Glyph {
    Line(RGBColor),
    LineWithMarker(RGBColor),
    ErrorBar,
    Bar(RGBColor),
    OffScale,
    Band(RGBColor),
    Bound(RGBColor),
}

/// Width of the legend panel for these labels (0 without labels).
fn legend_width(entries: &[(String, Glyph)]) -> u32 {
    let longest = entries.iter().map(|(l, _)| l.chars().count()).max();
    longest.map_or(0, |n| (48 + 7 * n as u32).clamp(110, 300))
}

/// Draws the title, then the plot (left) and the legend panel (right); a drawing error yields a
/// small SVG that names it.
fn svg(title: &str, legend: &[(String, Glyph)], draw: impl FnOnce(&Area<'_>) -> DrawResult) -> String {
    let mut buf = String::new();
    let outcome: DrawResult = (|| {
        let root = SVGBackend::with_string(&mut buf, (CHART_WIDTH, CHART_HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let body = root.titled(title, ("sans-serif", 20))?;
        let lw = legend_width(legend);
        let (plot, panel) = body.split_horizontally(CHART_WIDTH - lw);
        draw(&plot)?;
        draw_legend(&panel, legend)?;
        root.present()?;
        Ok(())
    })();
    match outcome {
        Ok(()) => buf,
        Err(e) => svg_fallback(title, &e.to_string()),
    }
}

/// Approximate advance of one character of the legend's 13 px sans-serif, in pixels.
const LEGEND_CHAR_PX: u32 = 7;

/// Splits `label` at spaces into lines of at most `width` characters (a longer word stands alone).
fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in label.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

fn draw_legend(panel: &Area<'_>, entries: &[(String, Glyph)]) -> DrawResult {
    let text = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    // Labels longer than the panel are wrapped, so that no text runs past the chart's right edge.
    let chars = ((panel.dim_in_pixel().0.saturating_sub(40)) / LEGEND_CHAR_PX).max(8) as usize;
    let mut y = 30;
    for (label, glyph) in entries {
        let at = EmptyElement::at((4, y));
        match *glyph {
            Glyph::Line(c) => panel.draw(&(at + PathElement::new([(0, 0), (24, 0)], c.stroke_width(2))))?,
            Glyph::LineWithMarker(c) => panel.draw(
                &(at + PathElement::new([(0, 0), (24, 0)], c.stroke_width(2)) + Circle::new((12, 0), 3, c.filled())),
            )?,
            Glyph::ErrorBar => {
                let s = ERROR_BAR_COLOUR.stroke_width(1);
                panel.draw(
                    &(at + PathElement::new([(12, -7), (12, 7)], s)
                        + PathElement::new([(7, -7), (17, -7)], s)
                        + PathElement::new([(7, 7), (17, 7)], s)),
                )?
            }
            Glyph::Bar(c) => panel.draw(&(at + Rectangle::new([(5, -6), (19, 6)], c.filled())))?,
            Glyph::OffScale => panel.draw(&(at + Polygon::new([(12, -6), (6, 4), (18, 4)], BLACK.filled())))?,
            Glyph::Band(c) => panel.draw(&(at + Rectangle::new([(0, -6), (24, 6)], c.mix(BAND_OPACITY).filled())))?,
            Glyph::Bound(c) => {
                panel.draw(&(at + PathElement::new([(12, -6), (6, 4), (18, 4), (12, -6)], c.stroke_width(2))))?
            }
        }
        let lines = wrap(label, chars);
        for (j, line) in lines.iter().enumerate() {
            panel.draw(&Text::new(line.clone(), (34, y + 16 * j as i32), text.clone()))?;
        }
        y += 22 + 16 * (lines.len() as i32 - 1);
    }
    Ok(())
}

/// Renders a [`LineChart`] as an SVG document.
pub fn render_line_chart(chart: &LineChart) -> String {
    render_line_chart_with_bands(chart, &[])
}

/// Renders a [`LineChart`] with shaded [`Band`]s beneath its series (the y range covers the bands).
/// Band values that cannot be placed (NaN, ±∞, ≤ 0 on a log axis) are clamped to the plot's edge.
pub fn render_line_chart_with_bands(chart: &LineChart, bands: &[Band]) -> String {
    let (lx, ly) = (chart.log_x, chart.log_y);
    let xs = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(chart.error_bars.iter().flat_map(|e| e.bars.iter().map(|b| b.x)))
        .chain(bands.iter().flat_map(|b| b.points.iter().map(|p| p.0)))
        .filter_map(|x| place_x(x, lx));
    let x_range = fit_range(xs, lx, if lx { (1.0, 10.0) } else { (0.0, 1.0) });
    let fixed = chart.y_range.filter(|&(lo, hi)| lo < hi && lo.is_finite() && hi.is_finite() && (!ly || lo > 0.0));
    let y_range = match fixed {
        Some(r) => r,
        None => {
            let series_ys =
                chart.series.iter().flat_map(|s| s.points.iter().filter(|p| place_x(p.0, lx).is_some()).map(|p| p.1));
            let bar_ys = chart
                .error_bars
                .iter()
                .flat_map(|e| e.bars.iter().filter(|b| place_x(b.x, lx).is_some()).flat_map(|b| [b.low, b.high]));
            let line_ys = chart.reference_lines.iter().map(|l| l.y);
            let band_ys = bands
                .iter()
                .flat_map(|b| b.points.iter().filter(|p| place_x(p.0, lx).is_some()).flat_map(|p| [p.1, p.2]));
            let ys = series_ys.chain(bar_ys).chain(line_ys).chain(band_ys).filter_map(|y| match place(y, ly) {
                Place::At(v) => Some(v),
                _ => None,
            });
            fit_range(ys, ly, if ly { (1.0, 10.0) } else { (0.0, 1.0) })
        }
    };

    // A point is off scale when drawn at an edge rather than at its value (matches draw_lines).
    let off_scale = chart.series.iter().flat_map(|s| &s.points).any(|&(x, y)| {
        place_x(x, lx).is_some()
            && match place(y, ly) {
                Place::At(v) => v < y_range.0 || v > y_range.1,
                Place::High | Place::Low => true,
                Place::Skip => false,
            }
    });
    let mut legend = Vec::new();
    for (i, l) in chart.reference_lines.iter().enumerate() {
        if !l.label.is_empty() && matches!(place(l.y, ly), Place::At(y) if y >= y_range.0 && y <= y_range.1) {
            legend.push((l.label.clone(), Glyph::Line(REFERENCE_COLOURS[i % REFERENCE_COLOURS.len()])));
        }
    }
    for e in chart.error_bars.iter().filter(|e| !e.label.is_empty()) {
        legend.push((e.label.clone(), Glyph::ErrorBar));
    }
    for b in bands.iter().filter(|b| !b.label.is_empty()) {
        legend.push((b.label.clone(), Glyph::Band(PALETTE[b.colour_of_series % PALETTE.len()])));
    }
    for (i, s) in chart.series.iter().enumerate().filter(|(_, s)| !s.label.is_empty()) {
        let c = PALETTE[i % PALETTE.len()];
        legend.push((
            s.label.clone(),
            if s.points.len() <= MARKER_LIMIT { Glyph::LineWithMarker(c) } else { Glyph::Line(c) },
        ));
    }
    if off_scale {
        legend.push(("off scale (drawn at the edge)".into(), Glyph::OffScale));
    }

    let (xr, yr) = (x_range.0..x_range.1, y_range.0..y_range.1);
    let (xt, xl) = log_ticks(x_range);
    let (yt, yl) = log_ticks(y_range);
    svg(&chart.title, &legend, |area| match (lx, ly) {
        (false, false) => draw_lines(area, chart, bands, xr, yr, y_range),
        (true, false) => {
            draw_lines(area, chart, bands, xr.log_scale().with_key_points(xt).with_light_points(xl), yr, y_range)
        }
        (false, true) => {
            draw_lines(area, chart, bands, xr, yr.log_scale().with_key_points(yt).with_light_points(yl), y_range)
        }
        (true, true) => draw_lines(
            area,
            chart,
            bands,
            xr.log_scale().with_key_points(xt).with_light_points(xl),
            yr.log_scale().with_key_points(yt).with_light_points(yl),
            y_range,
        ),
    })
}

fn draw_lines<XS, YS>(
    area: &Area<'_>,
    chart: &LineChart,
    bands: &[Band],
    x_spec: XS,
    y_spec: YS,
    y_range: (f64, f64),
) -> DrawResult
where
    XS: AsRangedCoord<Value = f64>,
    YS: AsRangedCoord<Value = f64>,
    XS::CoordDescType: ValueFormatter<f64>,
    YS::CoordDescType: ValueFormatter<f64>,
{
    let (lx, ly) = (chart.log_x, chart.log_y);
    let mut cc = cartesian(area, 48, x_spec, y_spec)?;
    cc.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .bold_line_style(BLACK.mix(0.15))
        .light_line_style(BLACK.mix(0.04))
        .draw()?;
    let (x_lo, x_hi) = {
        let r = cc.x_range();
        (r.start, r.end)
    };
    let y_at = |p: Place| y_drawn(p, y_range);

    for band in bands {
        let colour = PALETTE[band.colour_of_series % PALETTE.len()].mix(BAND_OPACITY);
        let edge = |v: f64| y_at(place(v, ly)).unwrap_or(y_range.0);
        let pts: Vec<(f64, f64, f64)> =
            band.points.iter().filter_map(|&(x, lo, hi)| Some((place_x(x, lx)?, edge(lo), edge(hi)))).collect();
        let outline: Vec<(f64, f64)> =
            pts.iter().map(|p| (p.0, p.2)).chain(pts.iter().rev().map(|p| (p.0, p.1))).collect();
        if outline.len() >= 3 {
            cc.draw_series(std::iter::once(Polygon::new(outline, colour.filled())))?;
        }
    }

    for (i, line) in chart.reference_lines.iter().enumerate() {
        let Place::At(y) = place(line.y, ly) else { continue };
        if y < y_range.0 || y > y_range.1 {
            continue;
        }
        let colour = REFERENCE_COLOURS[i % REFERENCE_COLOURS.len()];
        cc.draw_series(LineSeries::new([(x_lo, y), (x_hi, y)], colour.stroke_width(2)))?;
    }

    for bars in &chart.error_bars {
        let style = ERROR_BAR_COLOUR.stroke_width(1);
        let mut stems = Vec::new();
        let mut caps = Vec::new();
        for b in &bars.bars {
            let Some(x) = place_x(b.x, lx) else { continue };
            let (Some(lo), Some(hi)) = (y_at(place(b.low, ly)), y_at(place(b.high, ly))) else { continue };
            stems.push(PathElement::new([(x, lo), (x, hi)], style));
            caps.extend([lo, hi].map(|y| EmptyElement::at((x, y)) + PathElement::new([(-5, 0), (5, 0)], style)));
        }
        cc.draw_series(stems)?;
        cc.draw_series(caps)?;
    }

    for (i, s) in chart.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut on_scale = Vec::new();
        let mut off_scale = Vec::new();
        let mut path = Vec::new();
        for &(x, y) in &s.points {
            let Some(x) = place_x(x, lx) else { continue };
            let p = place(y, ly);
            let Some(yy) = y_at(p) else { continue };
            path.push((x, yy));
            match p {
                Place::At(v) if v >= y_range.0 && v <= y_range.1 => on_scale.push((x, yy)),
                Place::At(v) => off_scale.push((x, yy, v < y_range.0)),
                other => off_scale.push((x, yy, other == Place::Low)),
            }
        }
        cc.draw_series(LineSeries::new(path, colour.stroke_width(2)))?;
        if s.points.len() <= MARKER_LIMIT {
            cc.draw_series(on_scale.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
        }
        cc.draw_series(off_scale.into_iter().map(|(x, y, low)| {
            // A triangle pointing off the plot: up at the top edge, down at the bottom edge.
            let tip = if low { 7 } else { -7 };
            EmptyElement::at((x, y)) + Polygon::new([(0, tip), (-6, 0), (6, 0)], colour.filled())
        }))?;
    }
    Ok(())
}

/// One bar of a bar chart, in chart coordinates.
struct Bar {
    series: usize,
    x0: f64,
    x1: f64,
    top: f64,
    value: f64,
}

/// One one-sided bound of a bar chart, in chart coordinates.
struct Mark {
    series: usize,
    x: f64,
    y: f64,
    bound: OneSided,
}

/// Pixels one character of the bar values' 12 px font takes, for deciding whether a value fits
/// across its bar or is written upwards.
const VALUE_CHAR_PX: f64 = 6.5;

/// Renders a [`BarChart`] as an SVG document.
pub fn render_bar_chart(chart: &BarChart) -> String {
    let ly = chart.log_y;
    let k = chart.categories.len();
    let bounds_of = |s: &BarSeries| -> Vec<(usize, OneSided)> {
        s.bounds
            .iter()
            .take(k)
            .enumerate()
            .filter_map(|(c, b)| b.map(|b| (c, b)))
            .filter(|&(c, _)| s.values.get(c).copied().flatten().is_none())
            .collect()
    };
    let values = chart.series.iter().flat_map(|s| s.values.iter().take(k).flatten().copied());
    let marks = chart.series.iter().flat_map(|s| bounds_of(s).into_iter().map(|(_, b)| b.height()));
    let ys = values.chain(marks).filter_map(|v| match place(v, ly) {
        Place::At(v) => Some(v),
        _ => None,
    });
    // Bars rise from 0 on a linear axis: include it, and leave room for the value printed above.
    let ys: Vec<f64> = if ly { ys.collect() } else { ys.chain([0.0]).collect() };
    let (mut lo, mut hi) = fit_range(ys, ly, if ly { (1.0, 10.0) } else { (0.0, 1.0) });
    // Off-scale bars stop here, below the headroom where values are printed.
    let off_scale_top = hi;

    let group = 0.8;
    let s_count = chart.series.len().max(1) as f64;
    let legend: Vec<(String, Glyph)> = chart
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.label.is_empty())
        .map(|(i, s)| {
            let c = PALETTE[i % PALETTE.len()];
            let glyph = if s.values.iter().take(k).all(Option::is_none) && !bounds_of(s).is_empty() {
                Glyph::Bound(c)
            } else {
                Glyph::Bar(c)
            };
            (s.label.clone(), glyph)
        })
        .collect();
    // The plot's width in pixels (the chart less the legend panel, the y labels and the margins):
    // a value wider than its bar is written upwards, and then needs more headroom.
    let plot_px = f64::from(CHART_WIDTH - legend_width(&legend)) - 72.0 - 24.0;
    let bar_px = plot_px / k.max(1) as f64 * group / s_count;
    let widest = chart
        .series
        .iter()
        .flat_map(|s| {
            let v = s.values.iter().take(k).flatten().map(|&v| number(v));
            v.chain(bounds_of(s).into_iter().map(|(_, b)| b.text())).collect::<Vec<_>>()
        })
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0);
    let upright = widest as f64 * VALUE_CHAR_PX > bar_px - 2.0;
    let room = if upright { 0.25 } else { 0.08 };
    if ly {
        hi *= (hi / lo).powf(room);
    } else {
        hi += (hi - lo) * room;
        lo = lo.min(0.0);
    }
    let y_range = (lo, hi);

    let mut bars = Vec::new();
    let mut bound_marks = Vec::new();
    for (s, series) in chart.series.iter().enumerate() {
        let x_of = |c: usize| c as f64 - group / 2.0 + group * s as f64 / s_count;
        for (c, v) in series.values.iter().take(k).enumerate() {
            let Some(v) = *v else { continue };
            let top = match place(v, ly) {
                Place::At(v) => v.clamp(lo, hi),
                // An off-scale bar reaches the top; its printed value ("≥ 1e300", "∞") says why.
                Place::High => off_scale_top,
                Place::Low | Place::Skip => continue,
            };
            let x0 = x_of(c);
            bars.push(Bar { series: s, x0, x1: x0 + group / s_count, top, value: v });
        }
        for (c, bound) in bounds_of(series) {
            if let Place::At(y) = place(bound.height(), ly) {
                bound_marks.push(Mark { series: s, x: x_of(c) + group / s_count / 2.0, y: y.clamp(lo, hi), bound });
            }
        }
    }

    let xr = -0.5..k.max(1) as f64 - 0.5;
    let drawn = BarsDrawn { bars: &bars, marks: &bound_marks, upright };
    svg(&chart.title, &legend, |area| {
        if ly {
            let (yt, yl) = log_ticks(y_range);
            draw_bars(area, chart, &drawn, xr, (lo..hi).log_scale().with_key_points(yt).with_light_points(yl), y_range)
        } else {
            draw_bars(area, chart, &drawn, xr, lo..hi, y_range)
        }
    })
}

/// What [`draw_bars`] draws: the bars, the one-sided bounds, and whether values are written upwards.
struct BarsDrawn<'a> {
    bars: &'a [Bar],
    marks: &'a [Mark],
    upright: bool,
}

fn draw_bars<YS>(
    area: &Area<'_>,
    chart: &BarChart,
    drawn: &BarsDrawn<'_>,
    x_spec: std::ops::Range<f64>,
    y_spec: YS,
    y_range: (f64, f64),
) -> DrawResult
where
    YS: AsRangedCoord<Value = f64>,
    YS::CoordDescType: ValueFormatter<f64>,
{
    let k = chart.categories.len();
    let category = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < k {
            chart.categories[i as usize].clone()
        } else {
            String::new()
        }
    };
    let mut cc = cartesian(area, 40, x_spec, y_spec)?;
    // With at most k + 1 labels the nicest step over [−0.5, k − 0.5] is 1: one label per category.
    cc.configure_mesh()
        .disable_x_mesh()
        .x_labels(k + 1)
        .x_label_formatter(&category)
        .y_label_formatter(&tick)
        .y_desc(chart.y_label.as_str())
        .bold_line_style(BLACK.mix(0.15))
        .light_line_style(BLACK.mix(0.04))
        .draw()?;
    let base = if chart.log_y { y_range.0 } else { 0.0 };
    let font = ("sans-serif", 12).into_font().color(&BLACK);
    // A value that does not fit across its bar is written upwards from just above it.
    let (text, offset) = if drawn.upright {
        (font.transform(FontTransform::Rotate270).pos(Pos::new(HPos::Left, VPos::Center)), (0, -4))
    } else {
        (font.pos(Pos::new(HPos::Center, VPos::Bottom)), (0, -4))
    };
    for s in 0..chart.series.len() {
        let colour = PALETTE[s % PALETTE.len()];
        let mine = || drawn.bars.iter().filter(move |b| b.series == s);
        cc.draw_series(mine().map(|b| Rectangle::new([(b.x0 + 0.01, base), (b.x1 - 0.01, b.top)], colour.filled())))?;
        cc.draw_series(mine().map(|b| {
            EmptyElement::at(((b.x0 + b.x1) / 2.0, b.top)) + Text::new(number(b.value), offset, text.clone())
        }))?;
        // A one-sided bound: an open triangle at its height, pointing down for "≤", up for ">".
        let marks = || drawn.marks.iter().filter(move |m| m.series == s);
        cc.draw_series(marks().map(|m| {
            let tip = match m.bound {
                OneSided::AtMost(_) => [(0, 6), (-6, -4), (6, -4), (0, 6)],
                OneSided::Above(_) => [(0, -6), (-6, 4), (6, 4), (0, -6)],
            };
            EmptyElement::at((m.x, m.y)) + PathElement::new(tip, colour.stroke_width(2))
        }))?;
        cc.draw_series(
            marks().map(|m| EmptyElement::at((m.x, m.y)) + Text::new(m.bound.text(), (0, -10), text.clone())),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded() {
        let (lo, hi) = fit_range([50.0, 400.0], true, (1.0, 10.0));
        assert!(lo < 50.0 && hi > 400.0);
        let (lo, hi) = fit_range([], false, (0.0, 1.0));
        assert!(lo < 0.0 && hi > 1.0);
        let (lo, hi) = fit_range([3.0], false, (0.0, 1.0));
        assert!(lo < 3.0 && hi > 3.0);
    }

    #[test]
    fn log_ticks_label_every_range() {
        let close = |t: Vec<f64>, want: &[f64]| {
            assert_eq!(t.len(), want.len(), "{t:?}");
            assert!(t.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9 * b), "{t:?}");
        };
        close(log_ticks((0.3, 6.0)).0, &[0.5, 1.0, 2.0, 5.0]);
        close(log_ticks((0.3, 0.95)).0, &[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
        close(log_ticks((38.0, 520.0)).0, &[50.0, 100.0, 200.0, 500.0]);
        let (t, _) = log_ticks((1e-3, 1e12));
        assert!(t.len() <= 10 && t.len() >= 2, "{t:?}");
        let (t, _) = log_ticks((2.1, 2.9));
        assert!(t.len() >= 2 && t.iter().all(|v| (2.1..=2.9).contains(v)), "{t:?}");
    }

    #[test]
    fn places_of_special_values() {
        assert_eq!(place(f64::NAN, false), Place::Skip);
        assert_eq!(place(1e300, true), Place::High);
        assert_eq!(place(f64::INFINITY, false), Place::High);
        assert_eq!(place(0.0, true), Place::Low);
        assert_eq!(place(0.0, false), Place::At(0.0));
        assert_eq!(place_x(0.0, true), None);
        assert_eq!(place_x(f64::NAN, false), None);
    }

    /// The `<text>` elements of an SVG: (x, transform attribute if any, content).
    fn texts(svg: &str) -> Vec<(f64, bool, String)> {
        svg.split("<text ")
            .skip(1)
            .map(|t| {
                let x = t.split("x=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|v| v.parse().ok()).unwrap();
                let head = t.split('>').next().unwrap();
                let body = t.split('>').nth(1).unwrap().split('<').next().unwrap().trim().to_string();
                (x, head.contains("rotate("), body)
            })
            .collect()
    }

    /// Issue 23, finding 8: a one-sided bound is drawn as an open marker labelled "≤ v", never as a
    /// bar; a category with neither draws nothing.
    #[test]
    fn one_sided_bounds_are_marks_not_bars() {
        let chart = BarChart {
            title: "t".into(),
            y_label: "m".into(),
            log_y: true,
            categories: vec!["a".into(), "b".into(), "c".into()],
            series: vec![BarSeries {
                label: "threshold".into(),
                values: vec![Some(10.0), None, None],
                bounds: vec![None, Some(OneSided::AtMost(100.0)), Some(OneSided::Above(1000.0))],
            }],
        };
        let svg = render_bar_chart(&chart);
        let filled_bars = svg.matches("fill=\"#1F77B4\" stroke=\"none\"").count();
        assert_eq!(filled_bars, 2, "one bar and its legend square: {svg}");
        let t = texts(&svg);
        assert!(t.iter().any(|(_, _, s)| s == "≤ 100"), "{t:?}");
        assert!(t.iter().any(|(_, _, s)| s == "&gt; 1000" || s == "> 1000"), "{t:?}");
        let mut without = chart.clone();
        without.series[0].bounds.clear();
        let svg = render_bar_chart(&without);
        assert!(!texts(&svg).iter().any(|(_, _, s)| s.contains("100")), "{svg}");
    }

    /// Issue 23, finding 8: a legend label longer than the panel is wrapped onto several lines, so
    /// no legend text runs past the chart's right edge.
    #[test]
    fn legend_labels_stay_inside_the_chart() {
        let long = "threshold interval midpoint (geometric mean over data draws), a label far longer than the panel";
        let chart = LineChart {
            title: "t".into(),
            series: vec![Series { label: long.into(), points: vec![(1.0, 1.0), (2.0, 3.0)] }],
            ..Default::default()
        };
        let svg = render_line_chart(&chart);
        let panel = f64::from(CHART_WIDTH - 300);
        let legend: Vec<_> = texts(&svg).into_iter().filter(|(x, _, _)| *x > panel).collect();
        assert!(legend.len() >= 2, "wrapped onto several lines: {legend:?}");
        for (x, _, s) in &legend {
            let end = x + (s.chars().count() as u32 * LEGEND_CHAR_PX) as f64;
            assert!(end <= CHART_WIDTH as f64, "{s:?} ends at {end}");
        }
        assert_eq!(legend.iter().map(|(_, _, s)| s.as_str()).collect::<Vec<_>>().join(" "), long);
    }

    /// Issue 23, finding 8: values wider than their bars are written upwards, so that neighbours'
    /// labels do not run into each other ("1.402e91.402e9"); values that fit stay across.
    #[test]
    fn values_wider_than_their_bars_are_written_upwards() {
        let many = BarChart {
            title: "t".into(),
            y_label: "m".into(),
            log_y: true,
            categories: (0..7).map(|i| i.to_string()).collect(),
            series: (0..3)
                .map(|s| BarSeries { label: format!("series {s}"), values: vec![Some(1.402e9); 7], bounds: Vec::new() })
                .collect(),
        };
        let values: Vec<_> = texts(&render_bar_chart(&many)).into_iter().filter(|(_, _, s)| s == "1.402e9").collect();
        assert_eq!(values.len(), 21);
        assert!(values.iter().all(|(_, upright, _)| *upright), "{values:?}");
        let few = BarChart { categories: vec!["a".into()], series: vec![many.series[0].clone()], ..many.clone() };
        let values: Vec<_> = texts(&render_bar_chart(&few)).into_iter().filter(|(_, _, s)| s == "1.402e9").collect();
        assert!(values.len() == 1 && !values[0].1, "{values:?}");
    }
}
