//! Where each claim stands: the lines printed after the verdict table, one per claim run.
//!
//! A claim this run leaves inconclusive is pointed to the committed long-run record that meets its
//! premise (read from the record's results JSON at run time).
//! The records are named by a small table ([`RECORDS`]: a folder under `docs/` and its results
//! file). Reading them ([`committed_records`]) never fails the run: a missing or unreadable file
//! is reported as a problem and the lines are built without it. Building the lines
//! ([`summary_lines`]) is pure.

use std::path::Path;

use lemmas::result::{Premise, WidthRow};
use lemmas::{ClaimResult, Verdict};

/// The committed records, in order of preference when two hold the same claim: (folder under
/// `docs/`, results file in it).
pub const RECORDS: &[(&str, &str)] = &[
    // `cargo xtask verify-lemmas --profile proof-width`: claims at their own proof widths.
    ("proof-width", "results-proof-width.json"),
    // `cargo xtask verify-lemmas --profile paper --claims lem-2.5`: Lem 2.5 at m = 4·10⁶.
    ("paper-lem-2.5", "results-paper.json"),
];

/// One committed record: where it lives (as shown to the user, relative to the repository root,
/// e.g. `docs/proof-width`) and the results it holds.
#[derive(Debug, Clone)]
pub struct Record {
    /// The record's folder as printed, e.g. `docs/proof-width`; a claim's page is `<folder>/<key>.md`.
    pub folder: String,
    /// The claims it holds, as in its results JSON.
    pub results: Vec<ClaimResult>,
}

/// Reads a results JSON (an array of [`ClaimResult`]) and recomputes each claim's configuration
/// fingerprint (issue 27, class 3): a configuration edited after its numbers were computed would
/// otherwise label them. The error is one line naming the problem.
pub fn read_results(path: &Path) -> Result<Vec<ClaimResult>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let results: Vec<ClaimResult> =
        serde_json::from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
    for r in &results {
        let computed = lemmas::config::fingerprint(r.claim, &r.config);
        if computed != r.fingerprint {
            return Err(format!(
                "{}: {}'s configuration does not match its fingerprint '{}' (it reads as {computed}): it was changed after the results were computed",
                path.display(),
                r.slide,
                r.fingerprint
            ));
        }
    }
    Ok(results)
}

/// The records of [`RECORDS`] found under the repository's `docs/` folder, and one line per
/// record that could not be read (missing or not a results JSON). Never fails.
pub fn committed_records() -> (Vec<Record>, Vec<String>) {
    let docs = crate::files::docs_dir();
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (folder, file) in RECORDS {
        match read_results(&docs.join(folder).join(file)) {
            Ok(results) => records.push(Record { folder: format!("docs/{folder}"), results }),
            Err(e) => problems.push(e),
        }
    }
    (records, problems)
}

/// The statement's rows at widths meeting its premise.
fn premise_rows(r: &ClaimResult) -> Vec<&WidthRow> {
    r.statement_event().map(|e| e.rows.iter().filter(|row| row.premise_met).collect()).unwrap_or_default()
}

/// Whether the statement's width premise is a constant the paper leaves implicit.
fn implicit_premise(r: &ClaimResult) -> bool {
    r.statement_event().is_some_and(|e| e.premise == Premise::ImplicitConstant)
}

/// Why a claim is inconclusive in a run, in a few words.
fn why_inconclusive(r: &ClaimResult) -> &'static str {
    let rows = premise_rows(r);
    if rows.is_empty() {
        if implicit_premise(r) { "its width constant is implicit in the paper" } else { "premise not met" }
    } else if rows.iter().all(|row| row.seeds == 0) {
        "every seed vacuous"
    } else if rows.iter().any(|row| row.verdict == Verdict::Inconclusive && row.within_band > 0) {
        "a value within its numerical band"
    } else {
        "more seeds would decide"
    }
}

/// The record's account of `claim`: its result and the statement's row at the widest width that
/// meets the premise. None when the record does not hold the claim or no width of it meets the premise.
fn record_row(record: &Record, claim: lemmas::ClaimId) -> Option<(&ClaimResult, &WidthRow)> {
    let r = record.results.iter().find(|r| r.claim == claim)?;
    if !r.premise_met {
        return None;
    }
    let row = premise_rows(r).into_iter().max_by_key(|row| row.m)?;
    Some((r, row))
}

/// The record that best stands for `claim`: one whose verdict decides (supported, refuted or
/// error) before one that is inconclusive; in [`RECORDS`] order otherwise.
fn best_record(records: &[Record], claim: lemmas::ClaimId) -> Option<(&Record, &ClaimResult, &WidthRow)> {
    let found: Vec<_> = records.iter().filter_map(|rec| record_row(rec, claim).map(|(r, row)| (rec, r, row))).collect();
    found.iter().find(|(_, r, _)| r.verdict != Verdict::Inconclusive).or_else(|| found.first()).copied()
}

/// What a record says of a claim, e.g. "at its proof width: supported — 12/12 seeds at m = 959435568
/// (n = 2), docs/proof-width/thm-2.1.md".
fn record_text(record: &Record, r: &ClaimResult, row: &WidthRow) -> String {
    let place = match r.proof_widths.first() {
        Some(p) if p.log10_width.map_or(row.m as f64 >= p.width, |l| (row.m as f64).log10() >= l) => {
            "at its proof width"
        }
        Some(_) => "below its proof width",
        None => "in a committed record",
    };
    let mut seeds = format!("{}/{} seeds", row.successes, row.seeds);
    let mut apart = Vec::new();
    if row.seeds_vacuous > 0 {
        apart.push(format!("{} vacuous", row.seeds_vacuous));
    }
    if row.within_band > 0 {
        apart.push(format!("{} within the band", row.within_band));
    }
    if !apart.is_empty() {
        seeds = format!("{seeds} ({})", apart.join(", "));
    }
    let alone =
        if row.verdict == r.verdict { String::new() } else { format!(" ({} at this width)", row.verdict.word()) };
    format!(
        "{place}: {} — {seeds} at m = {}{alone} (n = {}), {}/{}.md",
        r.verdict.word(),
        row.m,
        r.config.n,
        record.folder,
        r.claim.key()
    )
}

/// When this run's settings that change what a verdict means (the mutation `bound_scale`, the
/// confidence, δ) differ from the record's, a note saying the record's verdict is for its own
/// settings; empty otherwise (inference finding 7).
fn settings_note(run: &ClaimResult, record: &ClaimResult) -> String {
    let (a, b) = (&run.config, &record.config);
    let mut differ = Vec::new();
    if a.bound_scale != b.bound_scale {
        differ.push(format!("bound_scale {} (this run {})", b.bound_scale, a.bound_scale));
    }
    if a.confidence != b.confidence {
        differ.push(format!("confidence {} (this run {})", b.confidence, a.confidence));
    }
    if a.delta != b.delta {
        differ.push(format!("δ = {} (this run {})", b.delta, a.delta));
    }
    if differ.is_empty() {
        String::new()
    } else {
        format!(" — the record's verdict is for its own settings, {}, not this run's", differ.join(", "))
    }
}

/// One line per claim of this run (`run`), in its order: the verdict here and, for a claim left
/// inconclusive, why, and the committed record (of `records`) that meets its premise, with the
/// statement's seeds, width and verdict there — or, when none does, why not and this run's page
/// under `out`.
pub fn summary_lines(run: &[ClaimResult], records: &[Record], out: &Path) -> Vec<String> {
    run.iter()
        .map(|r| {
            let head = format!("{:<8} {}", r.slide, r.verdict.word());
            if r.verdict != Verdict::Inconclusive {
                return format!("{head} here");
            }
            let why = why_inconclusive(r);
            let page = out.join(format!("{}.md", r.claim.key()));
            match best_record(records, r.claim) {
                Some((rec, rr, row)) => {
                    format!("{head} here ({why}); {}{}", record_text(rec, rr, row), settings_note(r, rr))
                }
                None if r.premise_met => format!("{head} here ({why}; see {})", page.display()),
                None if implicit_premise(r) => {
                    format!("{head} ({why}: no width can meet it; see {})", page.display())
                }
                None => format!("{head} here ({why}); no committed record meets it (see {})", page.display()),
            }
        })
        .collect()
}
