//! Results do not depend on the thread count: every claim (the whole tiny profile) and Fig. 1 on 1 and 2 threads.
//!
//! The results are compared byte for byte.

mod common;

use common::{assert_same_tree, stderr, temp, xtask_concurrently, xtask_out};

#[test]
fn every_claim_gives_identical_results_on_one_and_two_threads() {
    let dir = temp("threads");
    // Lem 2.5's tiny seeds stream 5.6·10⁶ neurons each: four of them exercise the same reduced
    // solver (issue 26: a suite a contributor can wait for).
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"lem-2.5": {"seeds": 4}}"#).unwrap();
    // The two runs at once, each in its own folder (the bytes cannot depend on the load).
    let runs: Vec<Vec<String>> = ["1", "2"]
        .iter()
        .map(|t| {
            let out = dir.join(t);
            ["verify-lemmas", "--profile", "tiny", "--config", config.to_str().unwrap(), "--threads", t]
                .iter()
                .map(|s| s.to_string())
                .chain(["--out".to_string(), out.to_str().unwrap().to_string()])
                .collect()
        })
        .collect();
    for o in xtask_concurrently(&runs) {
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let json = std::fs::read_to_string(dir.join("1/results-tiny.json")).unwrap();
    for claim in lemmas::ClaimId::ALL {
        assert!(json.contains(&format!("\"claim\": \"{claim:?}\"")), "{} was run", claim.slide());
    }
    assert_same_tree(&dir.join("1"), &dir.join("2"));
}

#[test]
fn figure1_is_identical_on_one_and_two_threads() {
    let dir = temp("threads-f1");
    for t in ["1", "2"] {
        let out = dir.join(t);
        let o = xtask_out(&["figure1", "--widths", "100,2000", "--iterations", "20", "--threads", t], &out);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_same_tree(&dir.join("1"), &dir.join("2"));
}
