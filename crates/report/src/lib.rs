//! Renders check results as Markdown pages with SVG plots: pure functions from results to strings, no IO.
//!
//! [`render_claims`] turns a list of [`lemmas::ClaimResult`]s into an index page with the
//! verdict table and one page per claim (statement, proof widths, per-event tables, expectations,
//! threshold, notes, plots). The building blocks — [`markdown_table`], [`line_chart`],
//! [`render_line_chart`], [`render_bar_chart`] and the number formatting in [`format`] — are public
//! so the runner can render other pages (e.g. the paper's Fig. 1) in the same style.
//!
//! Output is deterministic: no timestamps, no hash-map iteration, floats printed with
//! [`format::SIGNIFICANT_DIGITS`] significant digits. Non-finite and huge values (|x| ≥ 1e300,
//! which the lemmas crate uses for an unbounded ratio) print as "∞" / "≥ 1e300" and are drawn at
//! the edge of a chart, never as "NaN".

pub mod chart;
mod claims;
mod figure1;
pub mod format;
mod scaling;

pub use chart::{
    BarChart, BarSeries, ErrorBar, ErrorBars, LineChart, OneSided, ReferenceLine, Series, line_chart, render_bar_chart,
    render_line_chart,
};
pub use claims::{interval_text, render_claims, threshold_text};
pub use figure1::render_figure1;
pub use format::{markdown_table, power_of_ten, proof_width};
pub use scaling::{exponent_text, render_scaling};

/// What produced a report; every page states it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provenance {
    /// The command line that produced the results, e.g. `cargo xtask check --profile quick`.
    pub command: String,
    /// The named profile of the run (e.g. "quick", "full").
    pub profile: String,
    /// The version of the code (crate version, git revision).
    pub version: String,
    /// Seeds (independent initialisations) per width, when one number holds for the whole report
    /// (0: not one number; the pages state each claim's).
    pub seeds: u64,
    /// Further remarks on the run (machine, threads, anything a reader needs).
    pub notes: Vec<String>,
}

/// One rendered file: a path relative to the report's root and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Relative path with `/` separators, e.g. "lem-2.2.md" or "img/lem-2.2-probability.svg".
    pub path: String,
    /// The file's text (Markdown or SVG).
    pub contents: String,
}
