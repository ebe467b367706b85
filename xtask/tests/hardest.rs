//! `cargo xtask hardest` end to end: hardest-quick gives the same bytes on 1 and 2 threads and as merged shards.
//!
//! The profile runs Lem 2.2 on sphere data and on every structured family of theory §6.1 at
//! n ∈ {4, 8} (about a second in release, seconds in a debug build); the page names the hardest
//! data at each n with its level. Bad profiles are one-line errors naming the command's own.

mod common;

use std::path::Path;

use common::{assert_same_tree, assert_user_error, stderr, temp, xtask_out};

fn hardest(dir: &Path, extra: &[&str]) -> std::process::Output {
    let o = xtask_out(&[&["hardest", "--profile", "hardest-quick"][..], extra].concat(), dir);
    assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
    o
}

#[test]
fn hardest_quick_is_the_same_on_one_and_two_threads_and_as_merged_shards() {
    let one = temp("hardest-one");
    hardest(&one, &["--threads", "1"]);
    let index = std::fs::read_to_string(one.join("index.md")).unwrap();
    assert!(index.starts_with("# The hardest data"), "{index}");
    for family in ["antipodal", "clusters", "xor", "circle-random", "bottom-eigenvector"] {
        assert!(index.contains(&format!("`statement` on `{family}` data against n")), "{family}: {index}");
        assert!(one.join(format!("img/lem-2.2-statement-{family}-n-threshold.svg")).exists(), "{family}");
    }
    for n in [4, 8] {
        assert!(index.contains(&format!("**Lem 2.2 (statement)** at n = {n}:")), "n = {n}: {index}");
    }
    assert!(index.contains("cargo xtask hardest --profile hardest-quick"), "{index}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["findings"]["hardest"].as_array().map(Vec::len), Some(2), "{results}");

    let two = temp("hardest-two");
    hardest(&two, &["--threads", "2"]);
    assert_same_tree(&one, &two);

    let shards = temp("hardest-shards");
    for k in ["0/2", "1/2"] {
        hardest(&shards, &["--shard", k, "--threads", "1"]);
    }
    let merged = temp("hardest-merged");
    let files = common::shard_checkpoints(&shards);
    let o = hardest(&merged, &["--merge", &files]);
    assert!(common::stdout(&o).contains("seeds: 0 computed"), "{}", common::stdout(&o));
    assert_same_tree(&one, &merged);
}

#[test]
fn each_study_takes_only_its_own_profiles() {
    let dir = temp("hardest-bad");
    assert_user_error(&xtask_out(&["hardest", "--profile", "scaling-test"], &dir), "use hardest, hardest-quick");
    assert_user_error(
        &xtask_out(&["scaling", "--profile", "hardest-quick"], &dir),
        "use scaling, scaling-quick, scaling-test",
    );
}
