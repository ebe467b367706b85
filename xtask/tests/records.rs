//! Where each claim stands: the lines after the verdict table that point an inconclusive claim to a committed record.
//!
//! A claim left inconclusive is pointed to the committed record that meets its premise, with that
//! record's numbers; a refuted record says refuted; a missing record gives the honest reason, never
//! a panic.

use std::path::{Path, PathBuf};

use lemmas::result::{Premise, Role};
use lemmas::{ClaimId, ClaimResult, Verdict};
use xtask::records::{RECORDS, Record, committed_records, read_results, summary_lines};

fn docs() -> PathBuf {
    xtask::files::docs_dir()
}

/// The committed quick-profile results (`docs/results-quick.json`).
fn quick() -> Vec<ClaimResult> {
    read_results(&docs().join("results-quick.json")).expect("docs/results-quick.json reads as results")
}

/// The committed proof-width record (`docs/proof-width/results-proof-width.json`).
fn proof_width() -> Record {
    let results = read_results(&docs().join("proof-width/results-proof-width.json"))
        .expect("docs/proof-width/results-proof-width.json reads as results");
    Record { folder: "docs/proof-width".into(), results }
}

/// The line of `slide` (lines start with the slide padded to 8 characters).
fn line_of<'a>(lines: &'a [String], slide: &str) -> &'a str {
    let prefix = format!("{slide:<8} ");
    lines.iter().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no line for {slide}: {lines:#?}"))
}

/// The statement row at the record's widest width meeting its premise, as the JSON has it.
fn widest_met_row(r: &ClaimResult) -> &lemmas::result::WidthRow {
    r.statement_event().unwrap().rows.iter().filter(|row| row.premise_met).max_by_key(|row| row.m).unwrap()
}

/// Thm 2.1 is inconclusive in the quick results (premise not met); its line names the
/// proof-width record's page and states the record's seeds, width and verdict exactly as its JSON
/// does. Every claim of the quick results gets exactly one line, in order.
#[test]
fn an_inconclusive_theorem_points_to_its_proof_width_record() {
    let run = quick();
    let record = proof_width();
    let lines = summary_lines(&run, std::slice::from_ref(&record), Path::new("docs"));
    assert_eq!(lines.len(), run.len(), "{lines:#?}");
    for (line, r) in lines.iter().zip(&run) {
        assert!(line.starts_with(&format!("{:<8} {}", r.slide, r.verdict.word())), "{line}");
    }

    let here = run.iter().find(|r| r.claim == ClaimId::Thm21).unwrap();
    assert_eq!(here.verdict, Verdict::Inconclusive);
    assert!(!here.premise_met);
    let there = record.results.iter().find(|r| r.claim == ClaimId::Thm21).expect("the record holds Thm 2.1");
    let row = widest_met_row(there);
    let line = line_of(&lines, "Thm 2.1");
    assert!(line.contains("inconclusive here (premise not met)"), "{line}");
    assert!(line.contains("docs/proof-width/thm-2.1.md"), "{line}");
    let expected = format!(
        "at its proof width: {} — {}/{} seeds at m = {} (n = {})",
        there.verdict.word(),
        row.successes,
        row.seeds,
        row.m,
        there.config.n
    );
    assert!(line.contains(&expected), "{line:?} lacks {expected:?}");
    // The committed numbers, spelled out once, so that a change of the record is seen here too.
    assert!(line.contains("supported — 16/16 seeds at m = 175283974"), "{line}");
    // Thm 3.1 is decided by the record too, on its explicit route.
    let thm31 = line_of(&lines, "Thm 3.1");
    assert!(
        thm31.contains("supported — 12/12 seeds at m = 1402271787") && thm31.contains("docs/proof-width/thm-3.1.md"),
        "{thm31}"
    );

    // Lem 2.5 is inconclusive here because every seed is vacuous; the record decides it.
    let lem = line_of(&lines, "Lem 2.5");
    assert!(lem.contains("every seed vacuous") && lem.contains("docs/proof-width/lem-2.5.md"), "{lem}");
    // A claim supported here points nowhere.
    assert_eq!(line_of(&lines, "Lem 2.2"), "Lem 2.2  supported here");
}

/// The table of records names files that exist and read as results, and the committed records
/// hold the claims the README says they do.
#[test]
fn the_committed_records_read() {
    for (folder, file) in RECORDS {
        assert!(docs().join(folder).join(file).is_file(), "docs/{folder}/{file} is missing");
    }
    let (records, problems) = committed_records();
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(records.len(), RECORDS.len());
    let pw = records.iter().find(|r| r.folder == "docs/proof-width").unwrap();
    for claim in [ClaimId::Lem25, ClaimId::Thm21] {
        assert!(pw.results.iter().any(|r| r.claim == claim), "{claim:?} not in the proof-width record");
        assert!(docs().join("proof-width").join(format!("{}.md", claim.key())).is_file());
    }
}

/// A record whose statement is refuted at its widest width gives a line that says refuted, with
/// the edited counts.
#[test]
fn a_refuted_record_says_refuted() {
    let run = quick();
    let mut record = proof_width();
    let r = record.results.iter_mut().find(|r| r.claim == ClaimId::Thm21).unwrap();
    r.verdict = Verdict::Refuted;
    let st = r.events.iter_mut().find(|e| e.role == Role::Statement).unwrap();
    let row = st.rows.iter_mut().filter(|row| row.premise_met).max_by_key(|row| row.m).unwrap();
    row.successes = 3;
    row.p_hat = 3.0 / row.seeds as f64;
    row.verdict = Verdict::Refuted;
    let (m, seeds) = (row.m, row.seeds);

    let lines = summary_lines(&run, &[record], Path::new("docs"));
    let line = line_of(&lines, "Thm 2.1");
    let expected = format!("refuted — 3/{seeds} seeds at m = {m}");
    assert!(line.contains(&expected), "{line:?} lacks {expected:?}");
    assert!(!line.contains("supported"), "{line}");
}

/// Without any record (a missing file reads as an error, not a panic), a claim whose width
/// constant is implicit says so and points to this run's page; one whose premise is simply out
/// of reach says that no committed record meets it. Unreadable files are errors too.
#[test]
fn a_missing_record_gives_the_reason_without_a_pointer() {
    let dir = std::env::temp_dir().join(format!("xtask-records-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert!(read_results(&dir.join("no-such-results.json")).is_err());
    let garbled = dir.join("garbled.json");
    std::fs::write(&garbled, "[{\"slide\": 1}").unwrap();
    assert!(read_results(&garbled).is_err());
    std::fs::remove_dir_all(&dir).ok();

    let run = quick();
    let thm26 = run.iter().find(|r| r.claim == ClaimId::Thm26).unwrap();
    assert_eq!(thm26.statement_event().unwrap().premise, Premise::ImplicitConstant);
    let lines = summary_lines(&run, &[], Path::new("docs"));
    assert_eq!(
        line_of(&lines, "Thm 2.6"),
        "Thm 2.6  inconclusive (its width constant is implicit in the paper: no width can meet it; see docs/thm-2.6.md)"
    );
    let thm21 = line_of(&lines, "Thm 2.1");
    assert_eq!(
        thm21,
        "Thm 2.1  inconclusive here (premise not met); no committed record meets it (see docs/thm-2.1.md)"
    );
    assert!(lines.iter().all(|l| !l.contains("proof-width")), "{lines:#?}");

    // A record that holds other claims only is no record for Thm 2.1.
    let mut other = proof_width();
    other.results.retain(|r| r.claim != ClaimId::Thm21);
    let lines = summary_lines(&run, &[other], Path::new("docs"));
    assert!(line_of(&lines, "Thm 2.1").contains("no committed record meets it"), "{lines:#?}");
}

/// Inference finding 7: when this run's settings differ from the record's (here the mutation
/// bound_scale), the line says the record's verdict is for its own settings; with the same
/// settings it says nothing of the kind.
#[test]
fn a_record_made_under_other_settings_says_so() {
    let mut run = quick();
    let record = proof_width();
    let plain = summary_lines(&run, std::slice::from_ref(&record), Path::new("docs"));
    assert!(!line_of(&plain, "Thm 2.1").contains("its own settings"), "{plain:#?}");
    for r in &mut run {
        r.config.bound_scale = 0.01;
    }
    let lines = summary_lines(&run, std::slice::from_ref(&record), Path::new("docs"));
    let thm21 = line_of(&lines, "Thm 2.1");
    assert!(thm21.contains("the record's verdict is for its own settings, bound_scale 1 (this run 0.01)"), "{thm21}");
}

/// Issue 27, class 3: a record whose configuration was edited after its numbers were computed
/// (δ changed, fingerprint left alone) is refused in one line naming the claim; the committed
/// records all carry fingerprints that match.
#[test]
fn a_record_edited_behind_its_fingerprint_is_refused() {
    for (folder, file) in RECORDS {
        read_results(&docs().join(folder).join(file)).unwrap();
    }
    let text = std::fs::read_to_string(docs().join("proof-width/results-proof-width.json")).unwrap();
    let delta = text.find("\"delta\": ").expect("a δ in the record");
    let end = delta + text[delta..].find(',').unwrap();
    let edited = format!("{}\"delta\": 0.123{}", &text[..delta], &text[end..]);
    let dir = std::env::temp_dir().join(format!("xtask-records-edited-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("results.json");
    std::fs::write(&path, edited).unwrap();
    let err = read_results(&path).unwrap_err();
    assert!(err.contains("does not match its fingerprint") && !err.contains('\n'), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
