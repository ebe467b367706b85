//! `verify-lemmas --config FILE.json`: per-claim settings over the profile, flags over the file, and bad files.
//!
//! There is one test per kind of bad file (one-line error, exit status 2, nothing written).

mod common;

use std::path::Path;

use common::{arg, assert_user_error, files_under, read_json, stderr, temp, xtask, xtask_out};

/// Writes `text` as `dir/config.json` and returns its path.
fn config(dir: &Path, text: &str) -> String {
    std::fs::write(dir.join("config.json"), text).unwrap();
    arg(dir, "config.json")
}

/// A run with the config `text` is refused with a one-line error containing `needle`; the output
/// folder stays empty.
fn refuses(name: &str, text: &str, needle: &str) {
    let dir = temp(name);
    let out = dir.join("out");
    let file = config(&dir, text);
    let o = xtask_out(&["verify-lemmas", "--profile", "tiny", "--config", &file], &out);
    assert_user_error(&o, needle);
    assert!(stderr(&o).contains("config.json"), "the file is named: {}", stderr(&o));
    assert_eq!(files_under(&out), Vec::<String>::new(), "nothing written on bad input");
}

fn results(out: &Path) -> serde_json::Value {
    read_json(&out.join("results-tiny.json"))
}

#[test]
fn config_settings_override_the_profile_and_flags_override_them() {
    let dir = temp("cfg-ok");
    let file = config(&dir, r#"{"all": {"master_seed": 7}, "lem-2.2": {"seeds": 5, "widths": [20, 60]}}"#);
    let out = dir.join("a");
    let o = xtask_out(&["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2,lem-2.3", "--config", &file], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = results(&out);
    let (c22, c23) = (&r[0]["config"], &r[1]["config"]);
    assert_eq!((c22["seeds"].as_u64(), c22["widths"].clone()), (Some(5), serde_json::json!([20, 60])));
    assert_eq!((c22["master_seed"].as_u64(), c23["master_seed"].as_u64()), (Some(7), Some(7)));
    assert_eq!(c23["seeds"].as_u64(), Some(lemmas::Profile::Tiny.config(lemmas::ClaimId::Lem23).seeds));
    let page = std::fs::read_to_string(out.join("lem-2.2.md")).unwrap();
    assert!(page.contains("--config "), "the report's command names the config file");
    // A flag beats the file.
    let out = dir.join("b");
    let o = xtask_out(
        &["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2", "--config", &file, "--seeds", "3"],
        &out,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&out)[0]["config"]["seeds"].as_u64(), Some(3));
}

#[test]
fn a_missing_config_file_is_named() {
    let out = temp("cfg-missing");
    let o = xtask(&["verify-lemmas", "--config", &arg(&out, "config.json"), "--out", out.to_str().unwrap()]);
    assert_user_error(&o, "cannot read it");
    assert_eq!(files_under(&out), Vec::<String>::new());
}

#[test]
fn a_config_file_that_is_not_json_is_named() {
    refuses("cfg-json", r#"{"lem-2.2": {"seeds": 5"#, "not valid JSON");
}

#[test]
fn a_config_file_that_is_not_an_object_is_named() {
    refuses("cfg-array", "[1, 2]", "expected a JSON object mapping claim keys to settings");
}

#[test]
fn an_unknown_claim_in_a_config_file_is_named() {
    refuses("cfg-claim", r#"{"lem-9.9": {"seeds": 5}}"#, r#"unknown claim "lem-9.9": use one of lem-2.2"#);
}

#[test]
fn claim_settings_that_are_not_an_object_are_named() {
    refuses("cfg-settings", r#"{"lem-2.2": 5}"#, r#""lem-2.2" must map to an object of settings"#);
}

#[test]
fn an_unknown_setting_is_named() {
    refuses(
        "cfg-field",
        r#"{"lem-2.2": {"sedes": 5}}"#,
        r#"unknown setting "sedes": use one of audit_every, bisection_steps, bound_scale, c_eta, confidence, d, data, delta"#,
    );
}

#[test]
fn a_setting_of_the_wrong_type_is_named() {
    refuses("cfg-type", r#"{"thm-3.1": {"seeds": "many"}}"#, r#"setting "seeds" = "many": invalid type"#);
}

#[test]
fn delta_outside_0_1_in_a_config_file_is_named() {
    refuses(
        "cfg-delta",
        r#"{"lem-2.3": {"delta": 1.5}}"#,
        "lem-2.3: invalid configuration: delta = 1.5: δ must lie in (0, 1)",
    );
}

#[test]
fn n_0_in_a_config_file_is_named() {
    refuses("cfg-n0", r#"{"all": {"n": 0}}"#, "n = 0: need at least one input");
}

#[test]
fn width_0_in_a_config_file_is_named() {
    refuses("cfg-m0", r#"{"lem-2.2": {"widths": [0, 10]}}"#, "a width m must be positive");
}

#[test]
fn a_step_constant_not_positive_in_a_config_file_is_named() {
    refuses("cfg-eta", r#"{"thm-3.1": {"c_eta": 0}}"#, "c_η must be positive and finite");
    refuses("cfg-eta-neg", r#"{"thm-3.1": {"c_eta": -2.5}}"#, "c_eta = -2.5");
}

#[test]
fn a_width_too_large_for_memory_in_a_config_file_is_refused() {
    refuses("cfg-mem", r#"{"lem-2.5": {"widths": [1000, 1000000000000]}}"#, "MiB allowed");
}
