//! A step η too large is detected and shown as divergence: in Thm 3.1's results, its report and the run summary.
//!
//! It is also shown in `train`'s status.

mod common;

use common::{arg, read_json, stderr, stdout, temp, train, write_sphere, xtask_out};

#[test]
fn a_divergent_theorem_step_is_shown_in_results_report_and_summary() {
    let dir = temp("div-thm");
    std::fs::write(dir.join("config.json"), r#"{"thm-3.1": {"c_eta": 20000, "bisection_steps": 0}}"#).unwrap();
    let out = dir.join("out");
    let o = xtask_out(
        &["verify-lemmas", "--profile", "tiny", "--claims", "thm-3.1", "--config", &arg(&dir, "config.json")],
        &out,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // At m = 400 every seed diverges; at m = 50 nearly every one (a narrow network can land where
    // the step does not blow up), and the line counts what happened.
    let r = read_json(&out.join("results-tiny.json"));
    let no_div = r[0]["events"].as_array().unwrap().iter().find(|e| e["key"] == "no-divergence").unwrap();
    let rows = no_div["rows"].as_array().unwrap();
    for row in rows {
        assert_eq!(row["verdict"].as_str(), Some("refuted"), "{row}");
        assert!(row["successes"].as_u64().unwrap() * 4 < row["seeds"].as_u64().unwrap(), "{row}");
    }
    let at_50 = rows.iter().find(|row| row["m"] == 50).unwrap();
    let diverged_50 = at_50["seeds"].as_u64().unwrap() - at_50["successes"].as_u64().unwrap();
    let want = format!("diverged: Thm 3.1 at m = 50 ({diverged_50} of 12 seeds), m = 400 (12 of 12 seeds)");
    assert!(stdout(&o).contains(&want), "{want:?} not in {}", stdout(&o));
    let page = std::fs::read_to_string(out.join("thm-3.1.md")).unwrap();
    let section = &page[page.find("### `no-divergence`").expect("a no-divergence section")..];
    let row_50 = format!("| 50 | yes | {} / 12 | 0 | 0 |", 12 - diverged_50);
    assert!(section.contains(&row_50) && section.contains("refuted"), "{section}");
    // The default step does not diverge, and the summary says nothing.
    let out = dir.join("default");
    let o = xtask_out(&["verify-lemmas", "--profile", "tiny", "--claims", "thm-3.1"], &out);
    assert!(o.status.success() && !stdout(&o).contains("diverged"), "{}", stdout(&o));
}

#[test]
fn train_reports_a_divergent_step_as_divergence() {
    let dir = temp("div-train");
    write_sphere(&dir, 6, 4);
    let out = arg(&dir, "t.json");
    let o = train(&dir, &["--width", "200", "--eta", "20", "--iterations", "50", "--out", &out]);
    assert_eq!(o.status.code(), Some(xtask::data::EXIT_DIVERGED as i32), "{}", stderr(&o));
    assert!(stdout(&o).contains("diverged at iteration"), "{}", stdout(&o));
    let v = read_json(std::path::Path::new(&out));
    assert!(v["status"].as_str().unwrap().starts_with("diverged at iteration"), "{}", v["status"]);
    // Only finite iterates are recorded.
    assert!(v["samples"].as_array().unwrap().iter().all(|s| s["loss"].as_f64().is_some_and(f64::is_finite)));
}

/// Every method reports divergence the same way: one sentence (no debug dump), exit status 4.
#[test]
fn every_method_reports_divergence_as_a_sentence_and_exit_status_4() {
    let dir = temp("div-methods");
    write_sphere(&dir, 6, 4);
    for (method, flags) in [
        ("both-gd", &["--eta", "1e6", "--iterations", "50"][..]),
        ("gd", &["--eta", "1e6", "--iterations", "50"][..]),
        ("flow", &["--step", "1e3", "--horizon", "1e5"][..]),
        ("both-flow", &["--step", "1e3", "--horizon", "1e5"][..]),
    ] {
        let out = arg(&dir, &format!("{method}.json"));
        let o = train(&dir, &[&["--width", "50", "--method", method, "--out", &out][..], flags].concat());
        assert_eq!(o.status.code(), Some(4), "{method}: {} {}", stdout(&o), stderr(&o));
        let text = stdout(&o);
        let line = text.lines().find(|l| l.starts_with("diverged")).unwrap_or_else(|| panic!("{method}: {text}"));
        assert!(!text.contains("Diverged {") && !text.contains("LossGrowth"), "{method}: a debug dump: {text}");
        assert!(line.contains("lower"), "{method}: {line}");
    }
}

/// Issue 27, class 6: a Fig. 1 run whose step diverges says so in a line and exits 4 (as `train`
/// does), and its table shows "—" where a width has no completed run, never NaN.
#[test]
fn figure1_says_which_runs_diverged_and_exits_4() {
    let out = common::temp("f1div");
    let o = xtask_out(&["figure1", "--widths", "30", "--iterations", "20", "--seeds", "2", "--eta", "1e3"], &out);
    let text = common::stdout(&o);
    assert_eq!(o.status.code(), Some(4), "{text}{}", common::stderr(&o));
    assert!(text.contains("diverged: 2 of 2 runs at η = 1000"), "{text}");
    assert!(!text.contains("NaN"), "{text}");
    assert!(out.join("figure1-quick.json").exists(), "the reports are still written");
}
