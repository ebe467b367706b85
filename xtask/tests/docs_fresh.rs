//! The committed quick-profile reports under `docs/` are what the code produces now: regenerated and compared.
//!
//! Like rust-analyzer's `ensure_file_contents`: outside CI a stale file is rewritten (and the test
//! still fails, so the change is noticed and committed); in CI (`CI` set) it only fails, naming
//! the command to run. JSON is compared with floats rounded to 6 significant digits, so a
//! last-bit difference between processors (faer picks SIMD kernels at run time) is not staleness.

use std::path::{Path, PathBuf};

use xtask::{figure1, verify};

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

fn rounded(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            serde_json::json!(if x == 0.0 { 0.0 } else { format!("{x:.5e}").parse::<f64>().unwrap() })
        }
        Value::Array(a) => Value::Array(a.into_iter().map(rounded).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, rounded(v))).collect()),
        other => other,
    }
}

/// Compares `want` with the file; returns a description of the difference (after rewriting the file outside CI).
fn ensure(path: &Path, want: &str, json: bool) -> Option<String> {
    let have = std::fs::read_to_string(path).unwrap_or_default();
    let same = if json {
        match (serde_json::from_str(&have), serde_json::from_str(want)) {
            (Ok(a), Ok(b)) => rounded(a) == rounded(b),
            _ => false,
        }
    } else {
        have == want
    };
    if same {
        return None;
    }
    if std::env::var_os("CI").is_none() {
        xtask::files::write_file(path, want.as_bytes()).unwrap();
    }
    Some(path.display().to_string())
}

/// Compares the committed JSON file `json` (its name under `docs/` and the text the code produces
/// now; none: pages only) and every page with what the code produces now, and fails naming the
/// stale files and the `command` that regenerates them.
fn ensure_fresh(json: Option<(&str, &str)>, pages: &[report::Page], command: &str) {
    let mut stale: Vec<String> =
        json.and_then(|(name, text)| ensure(&docs().join(name), text, true)).into_iter().collect();
    stale.extend(pages.iter().filter_map(|p| ensure(&docs().join(&p.path), &p.contents, false)));
    assert!(
        stale.is_empty(),
        "stale reports: {}\nregenerate them with `{command}` and commit docs/ (outside CI this test has just rewritten them)",
        stale.join(", ")
    );
}

/// The committed pages follow from the committed results by the current report code: a change of
/// wording or of a chart is caught (and, outside CI, written) in seconds. The test below recomputes
/// the results themselves; rendered from equal results, the pages are equal too.
#[test]
fn quick_pages_render_from_the_committed_results() {
    let args = verify::Args { profile: "quick".into(), out: docs(), ..Default::default() };
    let (profile, plan) = verify::plan(&args).unwrap();
    let results = xtask::records::read_results(&docs().join("results-quick.json")).unwrap();
    let (_, pages) = verify::render(&args, profile, &plan, &results);
    ensure_fresh(None, &pages, "cargo xtask verify-lemmas");
}

#[test]
fn quick_profile_reports_are_fresh() {
    let args = verify::Args { profile: "quick".into(), out: docs(), ..Default::default() };
    let (profile, plan) = verify::plan(&args).unwrap();
    let results = verify::compute(&plan).unwrap();
    let (json, pages) = verify::render(&args, profile, &plan, &results);
    ensure_fresh(Some(("results-quick.json", &json)), &pages, "cargo xtask verify-lemmas");
}

#[test]
fn quick_figure1_report_is_fresh() {
    let args = figure1::Args { profile: "quick".into(), out: docs(), ..Default::default() };
    let cfg = figure1::config(&args).unwrap();
    let res = lemmas::figure1::run(&cfg, |_, _| {}).unwrap();
    let (json, pages) = figure1::render(&args, &res);
    ensure_fresh(Some(("figure1-quick.json", &json)), &pages, "cargo xtask figure1");
}

/// Reports describe results; history lives in CHANGELOG.md (inference finding 9): no committed
/// page carries release notes.
#[test]
fn no_committed_page_carries_release_notes() {
    let mut pages = Vec::new();
    let mut stack = vec![docs()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    assert!(pages.len() > 10, "{pages:?}");
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(!text.contains("What changed in this release"), "{} carries release notes", page.display());
    }
}
