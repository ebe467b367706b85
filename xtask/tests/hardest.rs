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
    // The data search: one record per n, the search's estimate beside the fresh interval, and the
    // winners' `searched` series among the others.
    assert!(index.contains("## The data search") && index.contains("From fresh, independent seeds"), "{index}");
    let searches = results["searches"].as_array().expect("the searches");
    assert_eq!(searches.len(), 2, "{results}");
    assert!(searches.iter().any(|s| s["fresh"].is_object() && s["search"]["steps"].is_array()), "{results}");
    assert!(index.contains("`statement` on `searched` data against n"), "{index}");

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
    // The shards ran every family's seeds; the merge runs only the data searches (they need every
    // family's threshold) and their winners' fresh thresholds.
    let searched: u64 = searches.iter().map(|s| s["search"]["seeds_total"].as_u64().unwrap_or(0)).sum();
    assert!(searched > 0 && common::stdout(&o).contains("seeds: "), "{}", common::stdout(&o));
    assert_same_tree(&one, &merged);
    // A resume of the merged run computes nothing: the searches' seeds are in its checkpoint.
    let again = temp("hardest-again");
    hardest(&again, &["--threads", "2", "--keep-checkpoint"]);
    let o = hardest(&again, &["--resume"]);
    assert!(common::stdout(&o).contains("seeds: 0 computed"), "{}", common::stdout(&o));
    assert_same_tree(&one, &again);
    // --render writes the same pages again from results.json alone.
    std::fs::remove_file(again.join("index.md")).unwrap();
    let o = hardest(&again, &["--render"]);
    assert!(common::stdout(&o).contains("rendered again"), "{}", common::stdout(&o));
    assert_same_tree(&one, &again);
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
