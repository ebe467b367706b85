//! `--shard K/N` and `merge`: shards run as separate processes and merged give byte-identical results to one process.
//!
//! A merge of the wrong files is a one-line error.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{assert_same_tree, assert_user_error, files_under, stderr, stdout, temp, xtask};

/// Lem 2.2 over a wide sweep (its threshold is refined by bisection) and Lem 2.3 (events and
/// expectations); 40 seeds, so that the tiny profile's target 1 − δ = 0.8 can be supported (20
/// seeds support at most 0.75) and the threshold has two decided ends to bisect between.
const RUN: [&str; 8] =
    ["--profile", "tiny", "--claims", "lem-2.2,lem-2.3", "--widths", "10,100,1000,10000", "--seeds", "40"];

fn shard_file(dir: &Path, k: u64, n: u64) -> PathBuf {
    dir.join(format!("checkpoint-tiny-shard-{k}-of-{n}.jsonl"))
}

/// Runs shard K of N of `flags` into `dir`.
fn run_shard(dir: &Path, flags: &[&str], k: u64, n: u64) {
    let shard = format!("{k}/{n}");
    let mut args = vec!["verify-lemmas", "--out", dir.to_str().unwrap(), "--shard", &shard];
    args.extend_from_slice(flags);
    let o = xtask(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// (claim, m, trial) of every seed line of a checkpoint.
fn seeds_of(path: &Path) -> BTreeSet<(String, u64, u64)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["claim"].as_str().unwrap().to_string(), v["m"].as_u64().unwrap(), v["trial"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn two_shards_in_separate_processes_merge_to_the_single_run_byte_for_byte() {
    let dir = temp("two");
    let single = dir.join("single");
    let mut args = vec!["verify-lemmas", "--out", single.to_str().unwrap()];
    args.extend_from_slice(&RUN);
    let o = xtask(&args);
    assert!(o.status.success(), "{}", stderr(&o));

    // The two shards run at the same time, as on two machines, each on one thread.
    let shards = dir.join("shards");
    let children: Vec<_> = (0..2)
        .map(|k| {
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args([
                    "verify-lemmas",
                    "--out",
                    shards.to_str().unwrap(),
                    "--threads",
                    "1",
                    "--shard",
                    &format!("{k}/2"),
                ])
                .args(RUN)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("done: its seeds are in"), "{}", stdout(&o));
    }
    // Each shard holds exactly its slice of the sweep: trials t with t mod 2 = K, every sweep width.
    for k in 0..2u64 {
        let seeds = seeds_of(&shard_file(&shards, k, 2));
        let mut want = BTreeSet::new();
        for claim in ["Lem22", "Lem23"] {
            for m in [10, 100, 1000, 10000] {
                for t in (0..40).filter(|t| t % 2 == k) {
                    want.insert((claim.to_string(), m, t));
                }
            }
        }
        assert_eq!(seeds, want, "shard {k}/2");
    }

    let merged = dir.join("merged");
    let o = xtask(&["merge", shards.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The merge computed the bisection widths' seeds itself (they depend on all the shards).
    let line = stdout(&o).lines().find(|l| l.starts_with("seeds: ")).unwrap_or_default().to_string();
    assert!(line.starts_with("seeds: 320 from the shards, ") && !line.ends_with(" 0 computed"), "{line}");
    assert_same_tree(&single, &merged);
    // The shard files are kept (they are the shards' output); the merge's own checkpoint is gone.
    assert_eq!(files_under(&shards).len(), 2);
}

/// Two finished shards of a small run in `dir`.
fn two_small_shards(dir: &Path, seeds: &str) -> (PathBuf, PathBuf) {
    let flags = ["--profile", "tiny", "--claims", "lem-2.3", "--seeds", seeds];
    run_shard(dir, &flags, 0, 2);
    run_shard(dir, &flags, 1, 2);
    (shard_file(dir, 0, 2), shard_file(dir, 1, 2))
}

/// A fresh folder with two finished shards of a small run (4 seeds): (folder, shard 0, shard 1).
fn small_shards(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = temp(name);
    let (s0, s1) = two_small_shards(&dir, "4");
    (dir, s0, s1)
}

fn merge_refuses(inputs: &[&Path], needle: &str) {
    let out = temp("merge-out");
    let mut args = vec!["merge".to_string(), "--out".into(), out.to_str().unwrap().into()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_user_error(&xtask(&args), needle);
    assert_eq!(files_under(&out), Vec::<String>::new(), "nothing written");
}

#[test]
fn merge_refuses_a_missing_shard() {
    let (_, s0, _) = small_shards("missing");
    merge_refuses(&[&s0], "shard 1/2 missing");
}

#[test]
fn merge_refuses_an_unfinished_shard() {
    let (_, s0, s1) = small_shards("unfinished");
    let text = std::fs::read_to_string(&s1).unwrap();
    let kept: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&s1, kept.join("\n") + "\n").unwrap();
    merge_refuses(&[&s0, &s1], "(shard 1/2) is unfinished: lem-2.3 has");
}

#[test]
fn merge_refuses_shards_of_different_runs() {
    let (a, b) = (temp("runs-a"), temp("runs-b"));
    let (s0, _) = two_small_shards(&a, "4");
    let (_, s1) = two_small_shards(&b, "6");
    merge_refuses(&[&s0, &s1], "come from different runs (lem-2.3: seeds = 4 there, 6 now)");
}

#[test]
fn merge_refuses_a_shard_given_twice() {
    let (dir, s0, _) = small_shards("twice");
    let copy = dir.join("copy.jsonl");
    std::fs::copy(&s0, &copy).unwrap();
    merge_refuses(&[&s0, &copy], "shard 0/2 is given twice");
}

#[test]
fn merge_refuses_a_file_that_is_not_a_checkpoint() {
    let dir = temp("notcp");
    std::fs::write(dir.join("results.json"), b"[]\n").unwrap();
    merge_refuses(&[&dir.join("results.json")], "is not a verify-lemmas checkpoint");
    merge_refuses(&[&dir.join("nothing.jsonl")], "cannot read it");
    merge_refuses(&[&dir], "holds no shard checkpoint");
}

#[test]
fn merge_refuses_the_checkpoint_of_a_whole_run() {
    let (dir, s0, _) = small_shards("whole");
    // A whole run's checkpoint has no shard in its header.
    let text = std::fs::read_to_string(&s0).unwrap();
    let mut header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    header["shard"] = serde_json::Value::Null;
    let rest: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let whole = dir.join("checkpoint-tiny.jsonl");
    std::fs::write(&whole, format!("{header}\n{rest}")).unwrap();
    merge_refuses(&[&whole], "is the checkpoint of a whole run, not of a shard");
}

#[test]
fn bad_shard_values_are_named() {
    for (shard, needle) in [
        ("3", "--shard 3: expected K/N with 0 ≤ K < N"),
        ("a/b", "--shard a/b: expected K/N"),
        ("2/2", "K must lie in 0..2 (shards are numbered from 0)"),
        ("0/0", "the number of shards N must be at least 1"),
    ] {
        let out = temp("badshard");
        let o = xtask(&["verify-lemmas", "--profile", "tiny", "--shard", shard, "--out", out.to_str().unwrap()]);
        assert_user_error(&o, needle);
        assert_eq!(files_under(&out), Vec::<String>::new(), "nothing written");
    }
}

/// Issue 27, class 3: a header edited by hand is not trusted. δ changed in both shards' headers
/// with their fingerprints left alone used to merge (exit 0) into results labelled with the new δ
/// but computed under the old one; the reader now recomputes each fingerprint and refuses. The
/// same reader serves --resume.
#[test]
fn merge_refuses_headers_edited_behind_their_fingerprints() {
    let dir = temp("edited");
    let (s0, s1) = two_small_shards(&dir, "4");
    for s in [&s0, &s1] {
        let text = std::fs::read_to_string(s).unwrap();
        let (head, rest) = text.split_once('\n').unwrap();
        let mut header: serde_json::Value = serde_json::from_str(head).unwrap();
        let delta = &mut header["claims"][0]["config"]["delta"];
        assert!(delta.is_number());
        *delta = serde_json::json!(0.3);
        std::fs::write(s, format!("{header}\n{rest}")).unwrap();
    }
    merge_refuses(&[&s0, &s1], "lem-2.3's configuration does not match its fingerprint");
    let o = xtask(&[
        "verify-lemmas",
        "--profile",
        "tiny",
        "--claims",
        "lem-2.3",
        "--seeds",
        "4",
        "--shard",
        "0/2",
        "--resume",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_user_error(&o, "does not match its fingerprint");
}

/// Issue 27, class 4: a shard header edited to N = 0 shards (or K ≥ N) is refused when it is read,
/// in one line; `merge` used to divide by zero counting its seeds (exit 101).
#[test]
fn merge_refuses_a_header_with_an_impossible_shard() {
    for (index, count, needle) in [(0, 0, "at least 1"), (3, 2, "must lie in 0..2")] {
        let dir = temp(&format!("shard-{index}-{count}"));
        let (s0, s1) = two_small_shards(&dir, "4");
        let text = std::fs::read_to_string(&s0).unwrap();
        let (head, rest) = text.split_once('\n').unwrap();
        let mut header: serde_json::Value = serde_json::from_str(head).unwrap();
        header["shard"] = serde_json::json!({ "index": index, "count": count });
        std::fs::write(&s0, format!("{header}\n{rest}")).unwrap();
        merge_refuses(&[&s0, &s1], needle);
    }
}
