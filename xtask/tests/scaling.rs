//! `cargo xtask scaling` end to end: the same bytes across threads, resumes and merged shards; the forecast; bad input.
//!
//! The cut-down scaling-test profile (Lem 2.2 at n ∈ {4, 8}, δ ∈ {0.3, 0.2}; about a second in a
//! debug build) gives the same bytes on 1 and 2 threads, after an interrupted run is resumed, and
//! when shards are merged; the scaling-quick profile (every pipeline at n ≤ 16, about 30 s in a
//! debug build) gives the same bytes on 2 threads as merged 1-thread shards. Also tested: the time
//! forecast, and that bad input is a one-line error.

mod common;

use std::path::Path;

use common::{assert_same_tree, assert_user_error, stderr, temp, xtask_out};

/// Runs `scaling` on `profile` into `dir` with `extra` flags; expects success.
fn scaling(profile: &str, dir: &Path, extra: &[&str]) -> std::process::Output {
    let o = xtask_out(&[&["scaling", "--profile", profile][..], extra].concat(), dir);
    assert!(o.status.success(), "{profile} {extra:?}: {}", stderr(&o));
    o
}

fn run(dir: &Path, extra: &[&str]) {
    scaling("scaling-test", dir, extra);
}

#[test]
fn threads_resume_and_shards_give_the_same_record() {
    let one = temp("scaling-one");
    run(&one, &["--threads", "1", "--keep-checkpoint"]);
    let checkpoint = std::fs::read_to_string(one.join("scaling-checkpoint.jsonl")).unwrap();
    std::fs::remove_file(one.join("scaling-checkpoint.jsonl")).unwrap();
    let index = std::fs::read_to_string(one.join("index.md")).unwrap();
    assert!(index.contains("## Exponents side by side") && index.contains("(Lem 3.1)"), "{index}");
    assert!(one.join("results.json").exists() && one.join("img/lem-2.2-statement-n-threshold.svg").exists());

    let two = temp("scaling-two");
    run(&two, &["--threads", "2"]);
    assert_same_tree(&one, &two);

    // Interrupted: half the seed lines and a line cut short by the kill, then --resume.
    let resumed = temp("scaling-resumed");
    let lines: Vec<&str> = checkpoint.lines().collect();
    let keep = lines.len() / 2;
    let mut partial = lines[..keep].join("\n");
    partial.push('\n');
    partial.push_str(&lines[keep][..lines[keep].len() / 2]);
    std::fs::write(resumed.join("scaling-checkpoint.jsonl"), partial).unwrap();
    let refused = xtask_out(&["scaling", "--profile", "scaling-test"], &resumed);
    assert_user_error(&refused, "--resume");
    run(&resumed, &["--resume"]);
    assert_same_tree(&one, &resumed);

    // Two shards, then a merge that computes nothing.
    let shards = temp("scaling-shards");
    for k in ["0/2", "1/2"] {
        run(&shards, &["--shard", k]);
    }
    let merged = temp("scaling-merged");
    let files = common::shard_checkpoints(&shards);
    let o = scaling("scaling-test", &merged, &["--merge", &files]);
    assert!(common::stdout(&o).contains("seeds: 0 computed"), "{}", common::stdout(&o));
    assert_same_tree(&one, &merged);
}

#[test]
fn bad_scaling_input_is_a_one_line_error() {
    let dir = temp("scaling-bad");
    for (args, needle) in [
        (&["scaling", "--profile", "fast"][..], "unknown profile 'fast'"),
        (&["scaling", "--profile", "scaling-test", "--claims", "thm-3.1"][..], "no series"),
        (&["scaling", "--profile", "scaling-test", "--shard", "2/2"][..], "--shard 2/2"),
        // Issue 27, class 6: a claim named twice is refused, as verify-lemmas refuses it.
        (&["scaling", "--profile", "scaling-test", "--claims", "lem-2.2,lem-2.2"][..], "--claims names lem-2.2 twice"),
    ] {
        assert_user_error(&xtask_out(args, &dir), needle);
    }
}

/// Issue 13: a run says what it will take before it starts: a bound when no record of its
/// configurations exists, a forecast from the recorded widths and seeds when one does, and the
/// forecast stays below the bound.
#[test]
fn a_run_forecasts_its_time_from_the_earlier_record() {
    let dir = temp("scaling-forecast");
    let time_line = |o: &std::process::Output| {
        common::stdout(o).lines().find(|l| l.starts_with("time: ")).map(str::to_string).expect("a time line")
    };
    let line = time_line(&scaling("scaling-test", &dir, &[]));
    assert!(line.contains("no earlier record") && line.contains("at most"), "{line}");
    let line = time_line(&scaling("scaling-test", &dir, &[]));
    assert!(line.contains("for the 3 of 3 configurations"), "{line}");
    assert!(!line.contains("at most"), "every configuration is in the record: {line}");
}

/// Issue 13: the forecast of the `scaling` profile from its committed record lies within a factor
/// of two of the time the record took (what it is calibrated on, docs/scaling/RUN.md), and every
/// configuration of the profile is in the record.
#[test]
fn the_forecast_of_the_committed_record_is_within_twice_its_measured_time() {
    use lemmas::scaling::{RECORD_SECONDS, ScalingPlan, ScalingProfile, ScalingResult, forecast};
    let path = xtask::files::docs_dir().join("scaling/results.json");
    let record: ScalingResult = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let points = ScalingPlan::of(ScalingProfile::Scaling).points();
    let f = forecast(&points, Some(&record), 2).unwrap();
    assert_eq!(f.known, f.total, "the record covers the profile");
    let ratio = f.known_seconds / RECORD_SECONDS;
    eprintln!("forecast {:.0} s against the record's {RECORD_SECONDS} s: {ratio:.2}×", f.known_seconds);
    assert!((0.5..=2.0).contains(&ratio), "forecast {} s against {RECORD_SECONDS} s", f.known_seconds);
}

/// Issue 13: the `scaling-quick` profile (every claim's pipeline at n ≤ 16: Lem 2.2, Lem 2.3,
/// Thm 2.1 and Lem 2.5's conclusion) end to end: a run on 2 threads writes the same bytes as two
/// shards run on 1 thread each and merged — the same record on 1 and 2 threads, and sharded.
#[test]
fn scaling_quick_is_the_same_on_two_threads_and_as_merged_one_thread_shards() {
    let quick = |dir: &Path, extra: &[&str]| scaling("scaling-quick", dir, extra);
    let two = temp("scaling-quick-two");
    quick(&two, &["--threads", "2"]);
    let index = std::fs::read_to_string(two.join("index.md")).unwrap();
    assert!(index.contains("Lem 2.5 (conclusion)") && index.contains("Thm 2.1 (statement)"), "{index}");
    // The two 1-thread shards at once (each writes only its own checkpoint file).
    let shards = temp("scaling-quick-shards");
    let runs: Vec<Vec<String>> = ["0/2", "1/2"]
        .iter()
        .map(|k| {
            ["scaling", "--profile", "scaling-quick", "--out", shards.to_str().unwrap(), "--threads", "1", "--shard", k]
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
        .collect();
    for o in common::xtask_concurrently(&runs) {
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let merged = temp("scaling-quick-merged");
    let files = common::shard_checkpoints(&shards);
    let o = quick(&merged, &["--merge", &files]);
    assert!(common::stdout(&o).contains("seeds: 0 computed"), "{}", common::stdout(&o));
    assert_same_tree(&two, &merged);
}

/// Issue 27, class 2: a run deletes its checkpoint only when everything the checkpoint holds is
/// in its results. Seeds of configurations outside the run's plan (another claim's, another
/// profile's) keep the checkpoint, and the run says so; they used to be deleted with it.
#[test]
fn a_checkpoint_holding_other_configurations_is_kept() {
    let dir = temp("scaling-foreign");
    run(&dir, &["--keep-checkpoint"]);
    let path = dir.join("scaling-checkpoint.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut line: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    line["point"] = serde_json::json!("thm-2.1/statement/n=4/d=4/delta=0.1/00000000");
    std::fs::write(&path, format!("{text}{line}\n")).unwrap();
    let o = scaling("scaling-test", &dir, &["--resume"]);
    assert!(common::stdout(&o).contains("it also holds 1 seeds of configurations this run does not cover"));
    assert!(path.exists(), "kept");
    // Without such seeds the checkpoint goes, as before.
    std::fs::write(&path, &text).unwrap();
    run(&dir, &["--resume"]);
    assert!(!path.exists(), "deleted once everything it holds is in the results");
}
