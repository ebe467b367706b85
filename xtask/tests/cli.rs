//! The command line as a user meets it: help, the data commands on `.npy` files, and one-line errors with exit status 2 for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use faer::{Col, Mat};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A bad-input run: exit status 2, one line on stderr starting "error:" and containing `needle`.
fn assert_user_error(o: &Output, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {e}");
    assert!(e.starts_with("error: ") && e.trim_end().lines().count() == 1, "not one line: {e}");
    assert!(e.contains(needle), "{e:?} does not mention {needle:?}");
}

fn write_sphere(dir: &Path, n: usize, d: usize) -> model::Dataset {
    let data = model::Dataset::sphere(n, d, 3, 0).unwrap();
    model::npy::write_matrix(dir.join("x.npy"), data.x()).unwrap();
    model::npy::write_vector(dir.join("y.npy"), data.y()).unwrap();
    data
}

#[test]
fn no_arguments_prints_help_and_every_command_has_help() {
    let o = xtask(&[]);
    let text = stdout(&o) + &stderr(&o);
    for cmd in ["verify-lemmas", "figure1", "kernel", "train"] {
        assert!(text.contains(cmd), "help lacks {cmd}: {text}");
        let h = xtask(&[cmd, "--help"]);
        assert!(h.status.success() && stdout(&h).contains("Usage"), "{cmd} --help");
    }
}

#[test]
fn kernel_reports_lambda0_of_a_npy_data_set() {
    let dir = temp("kernel");
    let data = write_sphere(&dir, 12, 6);
    let o = xtask(&["kernel", "--x", dir.join("x.npy").to_str().unwrap(), "--h-out", dir.join("h.npy").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = format!("{:.10e}", model::lambda0(&data).unwrap());
    assert!(stdout(&o).contains(&expected), "{} lacks {expected}", stdout(&o));
    let h = model::npy::read_matrix(dir.join("h.npy")).unwrap();
    assert_eq!(h, model::h_infinity(data.input_gram()));
}

#[test]
fn bad_data_files_are_one_line_errors() {
    let dir = temp("bad");
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    // Non-unit row: named, and accepted with --normalise.
    let x = Mat::from_fn(3, 2, |i, j| [[1.0, 0.0], [0.0, 2.0], [0.6, 0.8]][i][j]);
    model::npy::write_matrix(dir.join("nonunit.npy"), x.as_ref()).unwrap();
    assert_user_error(&xtask(&["kernel", "--x", &path("nonunit.npy")]), "row 1 has norm 2");
    assert!(xtask(&["kernel", "--x", &path("nonunit.npy"), "--normalise"]).status.success());
    // Parallel rows: both indices named.
    let x = Mat::from_fn(3, 2, |i, j| [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]][i][j]);
    model::npy::write_matrix(dir.join("parallel.npy"), x.as_ref()).unwrap();
    assert_user_error(&xtask(&["kernel", "--x", &path("parallel.npy")]), "rows 0 and 2 are parallel");
    // NaN.
    let x = Mat::from_fn(2, 2, |i, j| if (i, j) == (1, 1) { f64::NAN } else { 1.0 });
    model::npy::write_matrix(dir.join("nan.npy"), x.as_ref()).unwrap();
    assert_user_error(&xtask(&["kernel", "--x", &path("nan.npy")]), "non-finite");
    // Truncated and corrupt files, a missing file.
    let good = model::npy::matrix_to_npy_bytes(Mat::<f64>::identity(4, 4).as_ref());
    std::fs::write(dir.join("trunc.npy"), &good[..good.len() - 8]).unwrap();
    assert_user_error(&xtask(&["kernel", "--x", &path("trunc.npy")]), "truncated");
    std::fs::write(dir.join("junk.npy"), b"not numpy at all").unwrap();
    assert_user_error(&xtask(&["kernel", "--x", &path("junk.npy")]), "not a valid .npy");
    assert_user_error(&xtask(&["kernel", "--x", &path("missing.npy")]), "cannot read");
    // Wrong shapes: y of the wrong length, W of the wrong width.
    write_sphere(&dir, 5, 3);
    model::npy::write_vector(dir.join("y4.npy"), Col::<f64>::zeros(4).as_ref()).unwrap();
    let out = path("t.json");
    assert_user_error(&xtask(&["train", "--x", &path("x.npy"), "--y", &path("y4.npy"), "--out", &out]), "shape mismatch");
    model::npy::write_matrix(dir.join("w.npy"), Mat::<f64>::zeros(7, 4).as_ref()).unwrap();
    model::npy::write_vector(dir.join("a.npy"), Col::<f64>::zeros(7).as_ref()).unwrap();
    let o = xtask(&["train", "--x", &path("x.npy"), "--y", &path("y.npy"), "--w", &path("w.npy"), "--a", &path("a.npy"), "--out", &out]);
    assert_user_error(&o, "columns");
    assert!(!dir.join("t.json").exists(), "nothing partial is left behind");
}

#[test]
fn train_writes_json_and_csv_trajectories() {
    let dir = temp("train");
    let data = write_sphere(&dir, 6, 4);
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    for (method, file) in [("gd", "gd.json"), ("flow", "flow.csv"), ("both-flow", "both.json"), ("both-gd", "bothgd.csv")] {
        let o = xtask(&[
            "train", "--x", &path("x.npy"), "--y", &path("y.npy"), "--width", "200", "--method", method, "--iterations", "20",
            "--horizon", "0.5", "--step", "0.05", "--eta", "0.2", "--out", &path(file),
        ]);
        assert!(o.status.success(), "{method}: {}", stderr(&o));
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(!text.contains("NaN"));
        if file.ends_with(".csv") {
            assert!(text.starts_with("t,step,loss"));
            assert!(text.lines().count() > 5);
        } else {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let samples = v["samples"].as_array().unwrap();
            assert!(samples.len() > 5);
            // The first sample's loss is the loss of the seeded init on these data.
            let net = model::Network::init(200, 4, 0, 0).unwrap();
            let u = net.forward(&data).unwrap().u;
            let l0 = model::network::loss(u.as_ref(), data.y());
            assert!((samples[0]["loss"].as_f64().unwrap() - l0).abs() < 1e-12 * l0.max(1.0));
        }
    }
}

#[test]
fn bad_run_options_are_one_line_errors() {
    let out = temp("opts");
    let o = out.to_str().unwrap();
    assert_user_error(&xtask(&["verify-lemmas", "--delta", "1.5", "--out", o]), "δ must lie in (0, 1)");
    assert_user_error(&xtask(&["verify-lemmas", "--profile", "huge", "--out", o]), "unknown profile 'huge'");
    assert_user_error(&xtask(&["verify-lemmas", "--claims", "lem-9.9", "--out", o]), "unknown claim 'lem-9.9'");
    assert_user_error(&xtask(&["verify-lemmas", "--seeds", "0", "--out", o]), "seeds");
    assert_user_error(&xtask(&["verify-lemmas", "--widths", "0", "--out", o]), "width");
    assert_user_error(&xtask(&["verify-lemmas", "--threads", "0", "--out", o]), "threads");
    assert_user_error(&xtask(&["figure1", "--eta=-1", "--out", o]), "η must be a positive");
    assert_user_error(&xtask(&["verify-lemmas", "--widths", "100000000000", "--claims", "lem-2.2", "--seeds", "1", "--out", o]), "MiB");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing written on bad input");
}

#[test]
fn verify_lemmas_writes_reports_and_exits_zero() {
    let out = temp("verify");
    let o = xtask(&["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2,lem-2.3", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Lem 2.2  Lem 3.1"));
    for f in ["results-tiny.json", "index.md", "lem-2.2.md", "lem-2.3.md", "img/lem-2.2-probability.svg"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
}
