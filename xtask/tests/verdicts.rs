//! Verdicts reach the exit status (0, 1 or 3), and bound_scale refutes every claim through its own code.
//!
//! The status is 0 when all are supported or inconclusive, 1 when one is refuted, 3 when a sanity
//! identity failed.

mod common;

use std::process::Command;

use common::{stderr, stdout, temp};

fn results(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("results-tiny.json")).unwrap()).unwrap()
}

fn verify(out: &std::path::Path, claims: &str, config: Option<&str>, plant: Option<&str>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.args(["verify-lemmas", "--profile", "tiny", "--claims", claims, "--out", out.to_str().unwrap()]);
    let dir = out.parent().unwrap();
    if let Some(text) = config {
        let path = dir.join(format!("{claims}.json"));
        std::fs::write(&path, text).unwrap();
        c.args(["--config", path.to_str().unwrap()]);
    }
    c.env_remove(xtask::verify::PLANT_SANITY_FAILURE);
    if let Some(key) = plant {
        c.env(xtask::verify::PLANT_SANITY_FAILURE, key);
    }
    c.output().unwrap()
}

/// Every claim has a refuted statement row at bound_scale 0.01 on the tiny profile (Lem 2.5 on its
/// live seeds); the claims whose statement has no width premise are refuted, and the run exits with 1.
#[test]
fn a_scaled_bound_refutes_every_claim_and_exits_1() {
    let dir = temp("verdicts-scaled");
    let out = dir.join("out");
    let o = verify(
        &out,
        "lem-2.2,lem-2.3,lem-2.4,lem-2.5,thm-2.1,thm-2.6,thm-3.1",
        Some(r#"{"all": {"bound_scale": 0.01}}"#),
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let r = results(&out);
    for claim in r.as_array().unwrap() {
        let st = claim["events"].as_array().unwrap().iter().find(|e| e["role"] == "statement").unwrap();
        assert!(
            st["rows"].as_array().unwrap().iter().any(|row| row["verdict"] == "refuted"),
            "{}: {}",
            claim["slide"],
            st
        );
    }
    let verdict = |slide: &str| r.as_array().unwrap().iter().find(|c| c["slide"] == slide).unwrap()["verdict"].clone();
    assert_eq!(verdict("Lem 2.3"), "refuted");
    assert_eq!(verdict("Lem 2.4"), "refuted");
    assert_eq!(verdict("Lem 2.5"), "refuted");
    assert!(stdout(&o).contains("refuted"), "{}", stdout(&o));
}

/// The unscaled tiny profile of a claim exits 0; with a sanity identity planted to fail (the
/// test-only hook) the verdict is `error` and the run exits with 3.
#[test]
fn a_failed_sanity_identity_is_an_error_and_exits_3() {
    let dir = temp("verdicts-sanity");
    let out = dir.join("ok");
    let o = verify(&out, "lem-2.2", None, None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(results(&out)[0]["verdict"], "error");
    let out = dir.join("planted");
    let o = verify(&out, "lem-2.2", None, Some("lem-2.2"));
    assert_eq!(o.status.code(), Some(3), "{}\n{}", stdout(&o), stderr(&o));
    let r = results(&out);
    assert_eq!(r[0]["verdict"], "error");
    let page = std::fs::read_to_string(out.join("lem-2.2.md")).unwrap();
    assert!(page.contains("**Verdict: error.**") && page.contains("A sanity identity failed"), "{page}");
}

/// A bad bound_scale is bad input: exit 2 with a one-line error naming it.
#[test]
fn a_bad_bound_scale_is_bad_input() {
    let dir = temp("verdicts-bad");
    let o = verify(&dir.join("out"), "lem-2.2", Some(r#"{"all": {"bound_scale": -1}}"#), None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bound_scale") && stderr(&o).lines().count() == 1, "{}", stderr(&o));
}
