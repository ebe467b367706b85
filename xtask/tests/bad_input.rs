//! Bad input on the command line and in `.npy` files, one test per case: a one-line error naming the problem and what to do, exit status 2, and nothing written.

mod common;

use std::path::{Path, PathBuf};

use common::{arg, assert_user_error, files_under, temp, write_sphere, xtask};
use faer::{Col, Mat};

/// Runs `verify-lemmas` with `flags` into a fresh folder; expects a one-line error with `needle`
/// and an untouched (empty) output folder.
fn verify_refuses(name: &str, flags: &[&str], needle: &str) {
    let out = temp(name);
    let mut args = vec!["verify-lemmas", "--out", out.to_str().unwrap()];
    args.extend_from_slice(flags);
    assert_user_error(&xtask(&args), needle);
    assert_eq!(files_under(&out), Vec::<String>::new(), "nothing written on bad input");
}

/// Runs `train` on `dir`'s x.npy / y.npy with `flags`; expects a one-line error with `needle`
/// and no output file.
fn train_refuses(dir: &Path, flags: &[&str], needle: &str) {
    let out = arg(dir, "t.json");
    let (x, y) = (arg(dir, "x.npy"), arg(dir, "y.npy"));
    let mut args = vec!["train", "--x", &x, "--y", &y, "--out", &out];
    args.extend_from_slice(flags);
    assert_user_error(&xtask(&args), needle);
    assert!(!dir.join("t.json").exists(), "nothing partial is left behind");
}

fn kernel_refuses(path: &Path, needle: &str) {
    let h = path.with_file_name("h-out.npy");
    assert_user_error(&xtask(&["kernel", "--x", path.to_str().unwrap(), "--h-out", h.to_str().unwrap()]), needle);
    assert!(!h.exists(), "nothing written on bad input");
}

fn write_x(dir: &Path, name: &str, rows: &[&[f64]]) -> PathBuf {
    let x = Mat::from_fn(rows.len(), rows.first().map_or(3, |r| r.len()), |i, j| rows[i][j]);
    let path = dir.join(name);
    model::npy::write_matrix(&path, x.as_ref()).unwrap();
    path
}

// ---- `.npy` files -------------------------------------------------------------------------

#[test]
fn a_non_unit_row_is_named_and_normalise_accepts_it() {
    let dir = temp("nonunit");
    let x = write_x(&dir, "x.npy", &[&[1.0, 0.0], &[0.0, 2.0], &[0.6, 0.8]]);
    kernel_refuses(&x, "row 1 has norm 2");
    assert!(xtask(&["kernel", "--x", x.to_str().unwrap(), "--normalise"]).status.success());
}

#[test]
fn parallel_rows_are_named() {
    let dir = temp("parallel");
    let x = write_x(&dir, "x.npy", &[&[1.0, 0.0], &[0.0, 1.0], &[-1.0, 0.0]]);
    kernel_refuses(&x, "rows 0 and 2 are parallel");
}

#[test]
fn a_nan_input_is_named() {
    let dir = temp("nan");
    let x = write_x(&dir, "x.npy", &[&[1.0, 0.0], &[f64::NAN, 1.0]]);
    kernel_refuses(&x, "non-finite");
}

#[test]
fn an_infinite_label_is_named() {
    let dir = temp("inf");
    write_sphere(&dir, 4, 3);
    let y = Col::from_fn(4, |i| if i == 2 { f64::INFINITY } else { 0.5 });
    model::npy::write_vector(dir.join("y.npy"), y.as_ref()).unwrap();
    train_refuses(&dir, &["--width", "20"], "non-finite value (inf)");
}

#[test]
fn a_truncated_npy_is_named() {
    let dir = temp("trunc");
    let good = model::npy::matrix_to_npy_bytes(Mat::<f64>::identity(4, 4).as_ref());
    std::fs::write(dir.join("x.npy"), &good[..good.len() - 8]).unwrap();
    kernel_refuses(&dir.join("x.npy"), "truncated");
}

#[test]
fn a_corrupt_npy_is_named() {
    let dir = temp("junk");
    std::fs::write(dir.join("x.npy"), b"not numpy at all").unwrap();
    kernel_refuses(&dir.join("x.npy"), "not a valid .npy");
}

#[test]
fn a_missing_npy_is_named() {
    let dir = temp("missing");
    kernel_refuses(&dir.join("x.npy"), "cannot read");
}

#[test]
fn a_one_dimensional_x_is_a_wrong_shape() {
    let dir = temp("ndim");
    model::npy::write_vector(dir.join("x.npy"), Col::<f64>::zeros(3).as_ref()).unwrap();
    kernel_refuses(&dir.join("x.npy"), "expected a 2-D array");
}

#[test]
fn labels_of_the_wrong_length_are_a_shape_mismatch() {
    let dir = temp("ylen");
    write_sphere(&dir, 5, 3);
    model::npy::write_vector(dir.join("y.npy"), Col::<f64>::zeros(4).as_ref()).unwrap();
    train_refuses(&dir, &[], "shape mismatch");
}

#[test]
fn weights_of_the_wrong_width_are_named() {
    let dir = temp("wcols");
    write_sphere(&dir, 5, 3);
    model::npy::write_matrix(dir.join("w.npy"), Mat::<f64>::zeros(7, 4).as_ref()).unwrap();
    model::npy::write_vector(dir.join("a.npy"), Col::<f64>::zeros(7).as_ref()).unwrap();
    train_refuses(&dir, &["--w", &arg(&dir, "w.npy"), "--a", &arg(&dir, "a.npy")], "columns");
}

#[test]
fn inputs_with_no_rows_are_n_0() {
    let dir = temp("n0");
    model::npy::write_matrix(dir.join("x.npy"), Mat::<f64>::zeros(0, 3).as_ref()).unwrap();
    kernel_refuses(&dir.join("x.npy"), "no rows");
}

#[test]
fn weights_with_no_rows_are_m_0() {
    let dir = temp("m0npy");
    write_sphere(&dir, 4, 3);
    model::npy::write_matrix(dir.join("w.npy"), Mat::<f64>::zeros(0, 3).as_ref()).unwrap();
    model::npy::write_vector(dir.join("a.npy"), Col::<f64>::zeros(0).as_ref()).unwrap();
    train_refuses(&dir, &["--w", &arg(&dir, "w.npy"), "--a", &arg(&dir, "a.npy")], "no neurons");
}

#[test]
fn weights_without_the_second_layer_are_named() {
    let dir = temp("wnoa");
    write_sphere(&dir, 4, 3);
    model::npy::write_matrix(dir.join("w.npy"), Mat::<f64>::zeros(5, 3).as_ref()).unwrap();
    train_refuses(&dir, &["--w", &arg(&dir, "w.npy")], "give both --w and --a");
}

// ---- flags --------------------------------------------------------------------------------

#[test]
fn delta_outside_0_1_is_named() {
    for delta in ["--delta=0", "--delta=1", "--delta=1.5", "--delta=-0.1", "--delta=NaN"] {
        verify_refuses("delta", &[delta], "δ must lie in (0, 1)");
    }
}

#[test]
fn an_unknown_profile_is_named() {
    verify_refuses("profile", &["--profile", "huge"], "unknown profile 'huge': use quick, paper or tiny");
}

#[test]
fn an_unknown_claim_is_named() {
    verify_refuses("claim", &["--claims", "lem-9.9"], "unknown claim 'lem-9.9': use one of lem-2.2");
}

#[test]
fn zero_seeds_are_named() {
    verify_refuses("seeds", &["--seeds", "0"], "seeds = 0: need at least one seed");
}

#[test]
fn width_0_is_named_in_verify_lemmas() {
    verify_refuses("m0", &["--widths", "0"], "a width m must be positive");
}

#[test]
fn widths_not_increasing_are_named() {
    verify_refuses("order", &["--widths", "100,10"], "widths must be strictly increasing");
}

#[test]
fn zero_threads_are_named() {
    verify_refuses("threads", &["--profile", "tiny", "--threads", "0"], "--threads must be at least 1");
}

#[test]
fn a_width_too_large_for_memory_is_refused_before_allocating() {
    let start = std::time::Instant::now();
    verify_refuses("memory", &["--widths", "100000000000", "--claims", "lem-2.2", "--seeds", "1"], "MiB allowed");
    // Estimated, not attempted: an allocation of ~10 TB would take far longer (or abort).
    assert!(start.elapsed().as_secs() < 20);
    // Every claim's state is estimated, not only Lem 2.2's: a width just past the limit for n = d = 10.
    verify_refuses("memory2", &["--widths", "20000000", "--claims", "thm-3.1"], "width m = 20000000");
}

#[test]
fn figure1_eta_not_positive_is_named() {
    for eta in ["--eta=-1", "--eta=0"] {
        let out = temp("f1eta");
        assert_user_error(&xtask(&["figure1", eta, "--out", out.to_str().unwrap()]), "η must be a positive");
        assert_eq!(files_under(&out), Vec::<String>::new());
    }
}

#[test]
fn figure1_width_0_is_named() {
    let out = temp("f1m0");
    assert_user_error(&xtask(&["figure1", "--widths", "0", "--out", out.to_str().unwrap()]), "widths = [0]");
    assert_eq!(files_under(&out), Vec::<String>::new());
}

#[test]
fn figure1_zero_iterations_are_named() {
    let out = temp("f1k0");
    assert_user_error(&xtask(&["figure1", "--iterations", "0", "--out", out.to_str().unwrap()]), "--iterations 0");
    assert_eq!(files_under(&out), Vec::<String>::new());
}

#[test]
fn figure1_zero_seeds_are_named() {
    let out = temp("f1s0");
    assert_user_error(&xtask(&["figure1", "--seeds", "0", "--out", out.to_str().unwrap()]), "--seeds 0");
    assert_eq!(files_under(&out), Vec::<String>::new());
}

#[test]
fn figure1_from_json_renders_the_same_pages_and_refuses_other_options() {
    let dir = temp("f1json");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let opts = ["figure1", "--widths", "30,60", "--iterations", "5", "--seeds", "2"];
    let o = xtask(&[&opts[..], &["--out", a.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", common::stderr(&o));
    let json = a.join("figure1-quick.json");
    let o = xtask(&[&opts[..], &["--out", b.to_str().unwrap(), "--from-json", json.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", common::stderr(&o));
    let c = dir.join("c");
    let o = xtask(&["figure1", "--widths", "30,60", "--out", c.to_str().unwrap(), "--from-json", "/nonexistent.json"]);
    assert_user_error(&o, "--from-json /nonexistent.json");
    let o = xtask(
        &[&opts[..5], &["--seeds", "3", "--out", c.to_str().unwrap(), "--from-json", json.to_str().unwrap()]].concat(),
    );
    assert_user_error(&o, "another configuration");
    assert_eq!(files_under(&c), Vec::<String>::new());
    std::fs::remove_file(&json).unwrap();
    common::assert_same_tree(&a, &b);
}

#[test]
fn train_eta_not_positive_is_named() {
    let dir = temp("treta");
    write_sphere(&dir, 4, 3);
    train_refuses(&dir, &["--width", "20", "--eta", "0"], "eta = 0: must be positive");
    train_refuses(&dir, &["--width", "20", "--eta=-1"], "eta = -1: must be positive");
    train_refuses(
        &dir,
        &["--width", "20", "--method", "both-gd", "--eta", "0"],
        "the step η must be finite and positive",
    );
}

#[test]
fn train_width_0_is_named() {
    let dir = temp("trm0");
    write_sphere(&dir, 4, 3);
    train_refuses(&dir, &["--width", "0"], "m = 0: the width must be positive");
}

#[test]
fn train_width_too_large_for_memory_is_refused() {
    let dir = temp("trmem");
    write_sphere(&dir, 4, 3);
    train_refuses(&dir, &["--width", "100000000000"], "MiB allowed");
}

#[test]
fn train_rk4_step_0_is_named() {
    let dir = temp("trh0");
    write_sphere(&dir, 4, 3);
    train_refuses(
        &dir,
        &["--width", "20", "--method", "flow", "--step", "0"],
        "the RK4 step h must be finite and positive",
    );
}

#[test]
fn train_output_must_be_json_or_csv() {
    let dir = temp("trext");
    write_sphere(&dir, 4, 3);
    let (x, y, out) = (arg(&dir, "x.npy"), arg(&dir, "y.npy"), arg(&dir, "t.txt"));
    assert_user_error(&xtask(&["train", "--x", &x, "--y", &y, "--out", &out]), "must end in .json or .csv");
    assert!(!dir.join("t.txt").exists());
}

#[test]
fn train_zero_iterations_are_named() {
    let dir = temp("train-iter0");
    write_sphere(&dir, 5, 3);
    train_refuses(&dir, &["--method", "gd", "--iterations", "0"], "--iterations 0");
}

#[test]
fn train_horizon_not_positive_is_named() {
    let dir = temp("train-horizon0");
    write_sphere(&dir, 5, 3);
    train_refuses(&dir, &["--method", "flow", "--horizon", "0"], "--horizon 0");
}

#[test]
fn a_bad_label_file_is_the_file_named() {
    let dir = temp("ylabel");
    write_sphere(&dir, 5, 3);
    model::npy::write_vector(dir.join("y.npy"), Col::from_fn(5, |i| if i == 3 { f64::NAN } else { 0.0 }).as_ref())
        .unwrap();
    train_refuses(&dir, &[], "y.npy: labels y holds a non-finite value");
}
