//! Checkpoints and `--resume`: a killed run resumes to byte-identical results without redoing or losing a seed.
//!
//! A cut-short last line is tolerated; checkpoints are never overwritten or mixed across
//! parameters.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_same_tree, assert_user_error, stderr, stdout, temp, xtask};

/// A run of Thm 2.1 long enough to be killed part-way (480 seeds of RK4 flows, a few seconds).
const SLOW: [&str; 6] = ["--profile", "tiny", "--claims", "thm-2.1", "--seeds", "240"];

fn run_into(out: &Path, flags: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["verify-lemmas", "--out", out.to_str().unwrap()];
    args.extend_from_slice(flags);
    args.extend_from_slice(extra);
    xtask(&args)
}

/// Finished seeds in a checkpoint: complete lines after the header.
fn finished_seeds(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.iter().filter(|&&b| b == b'\n').count().saturating_sub(1)
}

/// Seeds a result ran: the statement's rows, summed over widths.
fn seeds_run(out: &Path) -> u64 {
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results-tiny.json")).unwrap()).unwrap();
    r.as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["events"][0]["rows"].as_array().unwrap())
        .map(|row| row["seeds"].as_u64().unwrap())
        .sum()
}

#[test]
fn a_killed_run_resumes_to_identical_results_without_redoing_or_losing_seeds() {
    let dir = temp("kill");
    let (whole, killed) = (dir.join("whole"), dir.join("killed"));
    let o = run_into(&whole, &SLOW, &["--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let total = seeds_run(&whole);

    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["verify-lemmas", "--out", killed.to_str().unwrap(), "--threads", "2"])
        .args(SLOW)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = killed.join("checkpoint-tiny.jsonl");
    let deadline = Instant::now() + Duration::from_secs(120);
    while finished_seeds(&checkpoint) < 20 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed: make SLOW longer");
        assert!(Instant::now() < deadline, "no seed finished in time");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = finished_seeds(&checkpoint);
    assert!(!killed.join("results-tiny.json").exists(), "killed before any result was written");
    assert!((done as u64) < total, "killed part-way: {done} of {total} seeds");

    // Without --resume the checkpoint is not overwritten.
    let before = std::fs::read(&checkpoint).unwrap();
    assert_user_error(&run_into(&killed, &SLOW, &[]), "pass --resume to continue it");
    assert_eq!(std::fs::read(&checkpoint).unwrap(), before);

    let o = run_into(&killed, &SLOW, &["--resume", "--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = format!("seeds: {done} resumed from {}, {} computed", checkpoint.display(), total - done as u64);
    assert!(stdout(&o).contains(&expected), "{} lacks {expected:?}", stdout(&o));
    assert!(!checkpoint.exists(), "the checkpoint is removed once the results are written");
    assert_same_tree(&whole, &killed);
}

#[test]
fn a_last_line_cut_short_is_ignored_and_its_seed_recomputed() {
    let dir = temp("cut");
    let flags = ["--profile", "tiny", "--claims", "lem-2.2,thm-3.1", "--seeds", "6"];
    let whole = dir.join("whole");
    assert!(run_into(&whole, &flags, &[]).status.success());
    // A one-shard run keeps its checkpoint; cut its last line in half, as a kill mid-write would.
    let shard = dir.join("shard");
    assert!(run_into(&shard, &flags, &["--shard", "0/1"]).status.success());
    let path = shard.join("checkpoint-tiny-shard-0-of-1.jsonl");
    let full = std::fs::read(&path).unwrap();
    let lines = finished_seeds(&path);
    let last_start = full[..full.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let cut = last_start + (full.len() - last_start) / 2;
    std::fs::write(&path, &full[..cut]).unwrap();

    let o = run_into(&shard, &flags, &["--shard", "0/1", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("seeds: {} resumed from {}, 1 computed", lines - 1, path.display())),
        "{}",
        stdout(&o)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.ends_with('\n') && text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "no broken line is left"
    );
    assert_eq!(finished_seeds(&path), lines);

    let merged = dir.join("merged");
    let o = xtask(&["merge", path.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_tree(&whole, &merged);
}

#[test]
fn resume_without_a_checkpoint_starts_afresh() {
    let dir = temp("fresh");
    let flags = ["--profile", "tiny", "--claims", "lem-2.3"];
    let (a, b) = (dir.join("a"), dir.join("b"));
    assert!(run_into(&a, &flags, &[]).status.success());
    let o = run_into(&b, &flags, &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_tree(&a, &b);
}

#[test]
fn an_existing_checkpoint_is_not_overwritten_without_resume() {
    let out = temp("exists");
    std::fs::write(out.join("checkpoint-tiny.jsonl"), b"an earlier run\n").unwrap();
    assert_user_error(
        &run_into(&out, &["--profile", "tiny", "--claims", "lem-2.3"], &[]),
        "holds the finished seeds of an earlier run: pass --resume to continue it, or delete it to start over",
    );
    assert_eq!(std::fs::read(out.join("checkpoint-tiny.jsonl")).unwrap(), b"an earlier run\n");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "nothing else written");
}

#[test]
fn resuming_with_other_parameters_is_refused() {
    let out = temp("other");
    let flags = ["--profile", "tiny", "--claims", "lem-2.2", "--shard", "0/1"];
    assert!(run_into(&out, &flags, &["--seeds", "4"]).status.success());
    let path = out.join("checkpoint-tiny-shard-0-of-1.jsonl");
    let before = std::fs::read(&path).unwrap();
    assert_user_error(
        &run_into(&out, &flags, &["--seeds", "3", "--resume"]),
        "lem-2.2: seeds = 4 there, 3 now; a resume may add seeds, not drop them: use --seeds 4 or more",
    );
    assert_user_error(
        &run_into(&out, &flags, &["--seeds", "4", "--delta", "0.3", "--resume"]),
        "delta = 0.2 there, 0.3 now",
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "the checkpoint is untouched");
}

#[test]
fn a_corrupt_line_inside_a_checkpoint_is_refused() {
    let out = temp("corrupt");
    let flags = ["--profile", "tiny", "--claims", "lem-2.2", "--seeds", "4", "--shard", "0/1"];
    assert!(run_into(&out, &flags, &[]).status.success());
    let path = out.join("checkpoint-tiny-shard-0-of-1.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"claim\": garbage";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    assert_user_error(&run_into(&out, &flags, &["--resume"]), "line 3 is corrupt");
}

/// Issue 23 (anytime-valid inference): an inconclusive run can be given more seeds without
/// redoing its seeds or invalidating its bounds. `--resume` with a larger `--seeds` keeps every
/// finished seed, computes only the new ones, and gives the results a fresh run with that many
/// seeds gives, byte for byte.
#[test]
fn resuming_with_more_seeds_adds_them_and_matches_a_fresh_run() {
    let (grown, fresh) = (temp("grown"), temp("fresh"));
    let flags = ["--profile", "tiny", "--claims", "lem-2.2", "--shard", "0/1"];
    assert!(run_into(&grown, &flags, &["--seeds", "4"]).status.success());
    let path = grown.join("checkpoint-tiny-shard-0-of-1.jsonl");
    let first = finished_seeds(&path);
    let o = run_into(&grown, &flags, &["--seeds", "8", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(&format!("{first} resumed")), "{}", stdout(&o));
    assert!(finished_seeds(&path) > first, "the new seeds were added");
    assert!(run_into(&fresh, &flags, &["--seeds", "8"]).status.success());
    let (a, b) = (temp("grown-merged"), temp("fresh-merged"));
    for (from, to) in [(&grown, &a), (&fresh, &b)] {
        let o = xtask(&["merge", from.to_str().unwrap(), "--out", to.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(
        std::fs::read_to_string(a.join("results-tiny.json")).unwrap(),
        std::fs::read_to_string(b.join("results-tiny.json")).unwrap()
    );
    assert_eq!(seeds_run(&a), seeds_run(&b));
}
