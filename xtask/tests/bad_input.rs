//! Bad input on the command line and in `.npy` files, one test per case.
//!
//! Each must give a one-line error naming the problem and what to do, exit status 2, and nothing
//! written.

mod common;

use std::path::{Path, PathBuf};

use common::{
    arg, assert_user_error, files_under, one_call_tests, stderr, stdout, temp, train, write_sphere, xtask, xtask_out,
};
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

/// A fresh folder holding a unit-sphere data set of `n` points in d = 3 (`x.npy`, `y.npy`).
fn sphere(name: &str, n: usize) -> PathBuf {
    let dir = temp(name);
    write_sphere(&dir, n, 3);
    dir
}

/// `train_refuses` on a fresh unit-sphere data set of `n` points in d = 3.
fn train_on_sphere_refuses(name: &str, n: usize, flags: &[&str], needle: &str) {
    train_refuses(&sphere(name, n), flags, needle);
}

/// Runs `figure1` with `flags` into a fresh folder; expects a one-line error with `needle` and an
/// untouched (empty) output folder.
fn figure1_refuses(name: &str, flags: &[&str], needle: &str) {
    let out = temp(name);
    assert_user_error(&xtask_out(&[&["figure1"][..], flags].concat(), &out), needle);
    assert_eq!(files_under(&out), Vec::<String>::new(), "nothing written on bad input");
}

fn kernel_refuses(path: &Path, needle: &str) {
    let h = path.with_file_name("h-out.npy");
    assert_user_error(&xtask(&["kernel", "--x", path.to_str().unwrap(), "--h-out", h.to_str().unwrap()]), needle);
    assert!(!h.exists(), "nothing written on bad input");
}

/// The `.npy` image of the matrix with these rows.
fn rows_npy(rows: &[&[f64]]) -> Vec<u8> {
    let x = Mat::from_fn(rows.len(), rows.first().map_or(3, |r| r.len()), |i, j| rows[i][j]);
    model::npy::matrix_to_npy_bytes(x.as_ref())
}

fn write_x(dir: &Path, name: &str, rows: &[&[f64]]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, rows_npy(rows)).unwrap();
    path
}

/// `kernel` on a fresh folder's `x.npy` holding `bytes` (`None`: no such file) is refused with `needle`.
fn x_file_refused(name: &str, bytes: Option<Vec<u8>>, needle: &str) {
    let dir = temp(name);
    if let Some(bytes) = bytes {
        std::fs::write(dir.join("x.npy"), bytes).unwrap();
    }
    kernel_refuses(&dir.join("x.npy"), needle);
}

/// `train` (with `flags`) on a unit-sphere set of `n` points whose labels are `y` is refused with `needle`.
fn labels_refused(name: &str, n: usize, y: Col<f64>, flags: &[&str], needle: &str) {
    let dir = sphere(name, n);
    model::npy::write_vector(dir.join("y.npy"), y.as_ref()).unwrap();
    train_refuses(&dir, flags, needle);
}

/// `n` labels of `fill`, but `at` at index `i`.
fn labels(n: usize, i: usize, at: f64, fill: f64) -> Col<f64> {
    Col::from_fn(n, |k| if k == i { at } else { fill })
}

/// `train` from the weights `--w w` (and `--a a`, when given) on a unit-sphere set of `n` points is
/// refused with `needle`.
fn weights_refused(name: &str, n: usize, w: Mat<f64>, a: Option<Col<f64>>, needle: &str) {
    let dir = sphere(name, n);
    model::npy::write_matrix(dir.join("w.npy"), w.as_ref()).unwrap();
    let mut flags = vec!["--w".to_string(), arg(&dir, "w.npy")];
    if let Some(a) = a {
        model::npy::write_vector(dir.join("a.npy"), a.as_ref()).unwrap();
        flags.extend(["--a".to_string(), arg(&dir, "a.npy")]);
    }
    train_refuses(&dir, &flags.iter().map(String::as_str).collect::<Vec<_>>(), needle);
}

/// The `.npy` image of the 4 × 4 identity without its last 8 bytes.
fn truncated_npy() -> Vec<u8> {
    let mut bytes = model::npy::matrix_to_npy_bytes(Mat::<f64>::identity(4, 4).as_ref());
    bytes.truncate(bytes.len() - 8);
    bytes
}

// ---- `.npy` files -------------------------------------------------------------------------

#[test]
fn a_non_unit_row_is_named_and_normalise_accepts_it() {
    let dir = temp("nonunit");
    let x = write_x(&dir, "x.npy", &[&[1.0, 0.0], &[0.0, 2.0], &[0.6, 0.8]]);
    kernel_refuses(&x, "row 1 has norm 2");
    assert!(xtask(&["kernel", "--x", x.to_str().unwrap(), "--normalise"]).status.success());
}

/// Antipodal rows x, −x are fine (H∞_ij = 0, λ0 = 1/2); rows that nearly coincide are refused from
/// the bound on λ0, whose value the message gives.
#[test]
fn antipodal_rows_are_accepted_and_nearly_coinciding_rows_refused_by_their_lambda0_bound() {
    let dir = temp("parallel");
    let x = write_x(&dir, "x.npy", &[&[1.0], &[-1.0]]);
    let o = xtask(&["kernel", "--x", x.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("λ0 = λmin(H∞) = 5.0000000000e-1"), "{}", stdout(&o));
    let x = write_x(&dir, "x3.npy", &[&[1.0, 0.0], &[0.0, 1.0], &[-1.0, 0.0]]);
    assert!(xtask(&["kernel", "--x", x.to_str().unwrap()]).status.success());
    let t: f64 = 1e-13;
    let x = write_x(&dir, "near.npy", &[&[1.0, 0.0], &[0.0, 1.0], &[t.cos(), t.sin()]]);
    kernel_refuses(&x, "rows 0 and 2 are nearly parallel");
    kernel_refuses(&x, "λ0 = λmin(H∞) ≤ 1/2 − H∞_ij = 0.000e0 in f64, below the tolerance 1e-9");
    kernel_refuses(&x, "unbounded at λ0 = 0");
    // At θ = 1e-6 λ0 is tiny but resolved: accepted, with a note giving the bound.
    let t: f64 = 1e-6;
    let x = write_x(&dir, "close.npy", &[&[1.0, 0.0], &[0.0, 1.0], &[t.cos(), t.sin()]]);
    let o = xtask(&["kernel", "--x", x.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rows 0 and 2 are nearly parallel") && stderr(&o).contains("λ0 ≤ 1/2 − H∞_ij = 1.59"),
        "{}",
        stderr(&o)
    );
}

/// An `.npy` header whose element count overflows a usize is refused by its shape, not wrapped round.
#[test]
fn an_npy_shape_that_overflows_is_named() {
    let dir = temp("overflow");
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
    std::fs::write(dir.join("x.npy"), npy_bytes(header, &[0u8; 64])).unwrap();
    kernel_refuses(&dir.join("x.npy"), "more elements than this machine can address");
}

/// An `.npy` image with a hand-written (ASCII) header and raw data: as NumPy pads it, the header
/// ends in spaces and a newline so that the magic, version, length and header fill whole 64-byte
/// blocks.
fn npy_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let padded = format!("{header:<width$}\n", width = (10 + header.len() + 1).div_ceil(64) * 64 - 11);
    [&b"\x93NUMPY\x01\x00"[..], &(padded.len() as u16).to_le_bytes(), padded.as_bytes(), data].concat()
}

/// A float32 file rounded from unit rows is accepted (float32's tolerance, then renormalised); a
/// float32 row that is not unit is refused with a message naming float32.
#[test]
fn float32_inputs_are_read_with_a_float32_tolerance() {
    let dir = temp("f32");
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    let data = |v: [f32; 4]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    std::fs::write(dir.join("x.npy"), npy_bytes(header, &data([0.6, 0.8, 0.8, -0.6]))).unwrap();
    let o = xtask(&["kernel", "--x", dir.join("x.npy").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(dir.join("bad.npy"), npy_bytes(header, &data([0.6, 0.8, 0.9, -0.6]))).unwrap();
    kernel_refuses(&dir.join("bad.npy"), "the tolerance for float32 inputs");
}

/// X of shape (70000, 3) would need six 70000² f64 matrices (235 GB): refused before allocating.
#[test]
fn a_kernel_too_large_for_memory_is_refused_before_allocating() {
    let dir = temp("kmem");
    model::npy::write_matrix(dir.join("x.npy"), Mat::<f64>::zeros(70000, 3).as_ref()).unwrap();
    kernel_refuses(&dir.join("x.npy"), "kernel of n = 70000 inputs");
    kernel_refuses(&dir.join("x.npy"), "MiB allowed");
}

/// `kernel --h-out A --g-out B` writes both or neither: B's folder is a file, so A is not written.
#[test]
fn kernel_writes_both_outputs_or_neither() {
    let dir = temp("kboth");
    write_sphere(&dir, 5, 3);
    std::fs::write(dir.join("blocker"), b"x").unwrap();
    let (x, h, g) = (arg(&dir, "x.npy"), arg(&dir, "h.npy"), arg(&dir, "blocker/g.npy"));
    assert_user_error(&xtask(&["kernel", "--x", &x, "--h-out", &h, "--g-out", &g]), "nothing was written");
    assert!(!dir.join("h.npy").exists(), "H∞ was written although G∞ failed");
    let names: Vec<String> = files_under(&dir).into_iter().filter(|f| f.ends_with(".tmp")).collect();
    assert_eq!(names, Vec::<String>::new(), "no temporary left");
}

one_call_tests! {
    labels_too_large_for_the_loss_are_the_label_file_named: labels_refused(
        "ybig", 4, labels(4, 1, 1e308, 0.5), &["--width", "20"], "y.npy: labels y: ‖y‖² = inf is not finite");
    a_nan_input_is_named: x_file_refused("nan", Some(rows_npy(&[&[1.0, 0.0], &[f64::NAN, 1.0]])), "non-finite");
    an_infinite_label_is_named:
        labels_refused("inf", 4, labels(4, 2, f64::INFINITY, 0.5), &["--width", "20"], "non-finite value (inf)");
    a_truncated_npy_is_named: x_file_refused("trunc", Some(truncated_npy()), "truncated");
    a_corrupt_npy_is_named: x_file_refused("junk", Some(b"not numpy at all".to_vec()), "not a valid .npy");
    a_missing_npy_is_named: x_file_refused("missing", None, "cannot read");
    a_one_dimensional_x_is_a_wrong_shape: x_file_refused(
        "ndim", Some(model::npy::vector_to_npy_bytes(Col::<f64>::zeros(3).as_ref())), "expected a 2-D array");
    labels_of_the_wrong_length_are_a_shape_mismatch:
        labels_refused("ylen", 5, Col::<f64>::zeros(4), &[], "shape mismatch");
    weights_of_the_wrong_width_are_named:
        weights_refused("wcols", 5, Mat::<f64>::zeros(7, 4), Some(Col::<f64>::zeros(7)), "columns");
    inputs_with_no_rows_are_n_0:
        x_file_refused("n0", Some(model::npy::matrix_to_npy_bytes(Mat::<f64>::zeros(0, 3).as_ref())), "no rows");
    weights_with_no_rows_are_m_0:
        weights_refused("m0npy", 4, Mat::<f64>::zeros(0, 3), Some(Col::<f64>::zeros(0)), "no neurons");
    weights_without_the_second_layer_are_named:
        weights_refused("wnoa", 4, Mat::<f64>::zeros(5, 3), None, "give both --w and --a");
    a_bad_label_file_is_the_file_named:
        labels_refused("ylabel", 5, labels(5, 3, f64::NAN, 0.0), &[], "y.npy: labels y holds a non-finite value");
}

// ---- flags --------------------------------------------------------------------------------

#[test]
fn delta_outside_0_1_is_named() {
    for delta in ["--delta=0", "--delta=1", "--delta=1.5", "--delta=-0.1", "--delta=NaN"] {
        verify_refuses("delta", &[delta], "δ must lie in (0, 1)");
    }
}

one_call_tests! {
    an_unknown_profile_is_named: verify_refuses(
        "profile", &["--profile", "huge"], "unknown profile 'huge': use quick, paper, tiny, proof-width, proof-width-hard");
    an_unknown_claim_is_named:
        verify_refuses("claim", &["--claims", "lem-9.9"], "unknown claim 'lem-9.9': use one of lem-2.2");
    zero_seeds_are_named: verify_refuses("seeds", &["--seeds", "0"], "seeds = 0: need at least one seed");
    width_0_is_named_in_verify_lemmas: verify_refuses("m0", &["--widths", "0"], "a width m must be positive");
    widths_not_increasing_are_named:
        verify_refuses("order", &["--widths", "100,10"], "widths must be strictly increasing");
    zero_threads_are_named:
        verify_refuses("threads", &["--profile", "tiny", "--threads", "0"], "--threads must be at least 1");
}

#[test]
fn a_width_too_large_for_memory_is_refused_before_allocating() {
    let start = std::time::Instant::now();
    verify_refuses("memory", &["--widths", "100000000000", "--claims", "lem-2.2", "--seeds", "1"], "MiB allowed");
    // Estimated, not attempted: an allocation of ~10 TB would take far longer (or abort).
    assert!(start.elapsed().as_secs() < 20);
    // Every claim's state is estimated, not only Lem 2.2's: a width past the limit for Thm 3.1's quick n = d = 4.
    verify_refuses("memory2", &["--widths", "200000000", "--claims", "thm-3.1"], "width m = 200000000");
}

#[test]
fn figure1_eta_not_positive_is_named() {
    for eta in ["--eta=-1", "--eta=0"] {
        figure1_refuses("f1eta", &[eta], "η must be a positive");
    }
}

one_call_tests! {
    figure1_width_0_is_named: figure1_refuses("f1m0", &["--widths", "0"], "widths = [0]");
    figure1_zero_iterations_are_named: figure1_refuses("f1k0", &["--iterations", "0"], "--iterations 0");
    figure1_zero_seeds_are_named: figure1_refuses("f1s0", &["--seeds", "0"], "--seeds 0");
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
    // Issue 27, class 4: an edited file with an emptied per-width list is refused in one line
    // (it was an index out of bounds, exit 101).
    let mut damaged: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    damaged["findings"]["iterations_to_target"]["per_width"] = serde_json::json!([]);
    let edited = dir.join("damaged.json");
    std::fs::write(&edited, damaged.to_string()).unwrap();
    let o = xtask(&[&opts[..], &["--out", c.to_str().unwrap(), "--from-json", edited.to_str().unwrap()]].concat());
    assert_user_error(&o, "iterations_to_target has 0 entries for 2 widths");
    assert_eq!(files_under(&c), Vec::<String>::new());
    // Issue 27, class 3: the configuration edited behind its fingerprint (3 seeds in the file and
    // on the command line, the runs computed with 2) is refused before anything is written.
    let mut relabelled: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    relabelled["config"]["seeds"] = serde_json::json!(3);
    let edited = dir.join("relabelled.json");
    std::fs::write(&edited, relabelled.to_string()).unwrap();
    let o = xtask(
        &[&opts[..5], &["--seeds", "3", "--out", c.to_str().unwrap(), "--from-json", edited.to_str().unwrap()]]
            .concat(),
    );
    assert_user_error(&o, "does not match its fingerprint");
    assert_eq!(files_under(&c), Vec::<String>::new());
    std::fs::remove_file(&json).unwrap();
    common::assert_same_tree(&a, &b);
}

#[test]
fn train_eta_not_positive_is_named() {
    let dir = sphere("treta", 4);
    train_refuses(&dir, &["--width", "20", "--eta", "0"], "eta = 0: must be positive");
    train_refuses(&dir, &["--width", "20", "--eta=-1"], "eta = -1: must be positive");
    train_refuses(
        &dir,
        &["--width", "20", "--method", "both-gd", "--eta", "0"],
        "the step η must be finite and positive",
    );
}

one_call_tests! {
    train_width_0_is_named: train_on_sphere_refuses("trm0", 4, &["--width", "0"], "m = 0: the width must be positive");
    train_width_too_large_for_memory_is_refused:
        train_on_sphere_refuses("trmem", 4, &["--width", "100000000000"], "MiB allowed");
    train_rk4_step_0_is_named: train_on_sphere_refuses(
        "trh0", 4, &["--width", "20", "--method", "flow", "--step", "0"], "the RK4 step h must be finite and positive");
    train_zero_iterations_are_named:
        train_on_sphere_refuses("train-iter0", 5, &["--method", "gd", "--iterations", "0"], "--iterations 0");
    train_horizon_not_positive_is_named:
        train_on_sphere_refuses("train-horizon0", 5, &["--method", "flow", "--horizon", "0"], "--horizon 0");
    /// Issue 27, class 5: the full solver at m = 10⁹ (n = 4, d = 3: about 450 GiB) is refused before
    /// W is drawn, naming the width; the reduced solver (the default at this width) needs no W and runs.
    train_past_memory_is_refused_before_drawing_w: train_on_sphere_refuses(
        "train-mem", 4, &["--width", "1e9", "--solver", "full"], "at width m = 1000000000 needs about");
}

#[test]
fn train_output_must_be_json_or_csv() {
    let dir = sphere("trext", 4);
    assert_user_error(&train(&dir, &["--out", &arg(&dir, "t.txt")]), "must end in .json or .csv");
    assert!(!dir.join("t.txt").exists());
}

// ---- resources a flag can scale --------------------------------------------------------

#[test]
fn a_billion_seeds_are_refused_up_front_with_the_estimate() {
    let start = std::time::Instant::now();
    verify_refuses(
        "seeds1e9",
        &["--profile", "tiny", "--seeds", "1000000000"],
        "its checkpoint would grow to up to about",
    );
    verify_refuses("seeds1e9b", &["--profile", "tiny", "--seeds", "1e9"], "seeds (more than 100000000)");
    assert!(start.elapsed().as_secs() < 20, "refused, not started");
}

#[test]
fn too_many_threads_are_refused() {
    verify_refuses("threads1e5", &["--profile", "tiny", "--threads", "100000"], "--threads 100000: this machine has");
    let out = temp("f1threads");
    assert_user_error(&xtask(&["figure1", "--threads", "100000", "--out", out.to_str().unwrap()]), "use at most");
}

/// A GD run longer than the sample cap keeps at most 100000 samples, at a stated larger stride,
/// and always the last iterate.
#[test]
fn a_long_train_run_keeps_a_bounded_number_of_samples() {
    let dir = temp("longtrain");
    write_sphere(&dir, 3, 2);
    let o = train(&dir, &["--width", "4", "--iterations", "1000000", "--out", &arg(&dir, "t.csv")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("sampled every 11 iterations, not 1, to keep at most 100000 samples"),
        "{}",
        stdout(&o)
    );
    let text = std::fs::read_to_string(dir.join("t.csv")).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 1_000_000 / 11 + 2, "k = 0, 11, 22, …, and the last");
    assert!(rows.last().unwrap().split(',').nth(1) == Some("1000000"), "the last iterate is kept");
    assert_eq!(train::gd_stride(10_000_000, 1), 101);
    assert!(10_000_000 / train::gd_stride(10_000_000, 1) + 2 <= xtask::estimate::MAX_TRAIN_SAMPLES);
}

// ---- two writers, and checkpoints that hold nothing --------------------------------------

/// A run of `args` (then `--out`) on a fresh folder locked by this process is refused naming the
/// holder, and leaves nothing but the lock.
fn refused_while_locked(name: &str, args: &[&str]) {
    let out = temp(name);
    let lock = out.join(xtask::lock::LOCK_FILE);
    std::fs::write(&lock, format!("{}\ncargo xtask {} (a test)\n", std::process::id(), args[0])).unwrap();
    assert_user_error(&xtask_out(args, &out), &format!("is in use by process {}", std::process::id()));
    assert_eq!(files_under(&out), vec![lock.display().to_string()], "nothing but the holder's lock");
}

#[test]
fn an_output_folder_in_use_is_refused_naming_its_holder() {
    refused_while_locked("locked", &["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2"]);
}

/// Issue 27, class 8: `figure1` takes the same lock before it computes, so a second run on the
/// same folder is refused at once instead of being overwritten later by the first.
#[test]
fn figure1_on_a_folder_in_use_is_refused_naming_its_holder() {
    refused_while_locked("f1locked", &["figure1", "--widths", "30", "--iterations", "5", "--seeds", "1"]);
}

#[test]
fn a_stale_lock_of_a_killed_run_is_taken_over() {
    let out = temp("stale");
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(out.join(xtask::lock::LOCK_FILE), format!("{dead}\nkilled run\n")).unwrap();
    let o = xtask_out(&["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2", "--seeds", "2"], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("took over the lock") && stderr(&o).contains(&format!("process {dead}")),
        "{}",
        stderr(&o)
    );
    assert!(!out.join(xtask::lock::LOCK_FILE).exists(), "released at the end");
}

/// A checkpoint holding only its header (a run stopped before any seed finished) blocks neither a
/// new run nor a --resume with other options.
#[test]
fn a_header_only_checkpoint_blocks_nothing() {
    // The header is that of `--seeds 2`; the second run asks for 3 seeds and --resume.
    for (flags, name) in [(&["--seeds", "2"][..], "hdr-new"), (&["--resume", "--seeds", "3"][..], "hdr-resume")] {
        let out = temp(name);
        let args = xtask::verify::Args {
            profile: "tiny".into(),
            claims: Some(vec!["lem-2.2".into()]),
            seeds: Some(2),
            out: out.clone(),
            ..Default::default()
        };
        let (profile, plan) = xtask::verify::plan(&args).unwrap();
        let header =
            xtask::checkpoint::Header::new(xtask::verify::canonical_command(&args, profile), profile, None, &plan);
        let path = xtask::checkpoint::path(&out, profile, None);
        std::fs::write(&path, serde_json::to_string(&header).unwrap() + "\n").unwrap();
        let mut argv =
            vec!["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2", "--out", out.to_str().unwrap()];
        argv.extend_from_slice(flags);
        let o = xtask(&argv);
        assert!(o.status.success(), "{flags:?}: {}", stderr(&o));
        assert!(out.join("results-tiny.json").exists() && !path.exists());
    }
    // Issue 27, class 7: a 0-byte checkpoint (killed before its header reached the disk) holds
    // nothing either; it was described as "the finished seeds of an earlier run".
    let out = temp("hdr-empty");
    let path = out.join("checkpoint-tiny.jsonl");
    std::fs::write(&path, b"").unwrap();
    let o = xtask(&["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("results-tiny.json").exists() && !path.exists());
}

// ---- duplicates ----------------------------------------------------------------------------

one_call_tests! {
    a_claim_named_twice_is_refused:
        verify_refuses("dupclaim", &["--claims", "lem-2.2,thm-3.1,lem-2.2"], "--claims names lem-2.2 twice");
    figure1_width_named_twice_is_refused: figure1_refuses("f1dup", &["--widths", "10,10"], "names m = 10 twice");
}

#[test]
fn a_repeated_key_in_a_config_file_is_refused() {
    let dir = temp("dupkey");
    std::fs::write(dir.join("c.json"), r#"{"lem-2.2": {"seeds": 3, "seeds": 4}}"#).unwrap();
    verify_refuses("dupkey-out", &["--config", &arg(&dir, "c.json")], r#""lem-2.2"."seeds" is given twice"#);
    std::fs::write(dir.join("d.json"), r#"{"all": {"seeds": 3}, "all": {"n": 4}}"#).unwrap();
    verify_refuses("dupkey-out2", &["--config", &arg(&dir, "d.json")], r#""all" is given twice"#);
}

// ---- smaller ones --------------------------------------------------------------------------

/// `1e4` is a count; `1.5` and `1e-3` are not (a one-line clap error with the usage hint).
#[test]
fn counts_in_scientific_notation_are_accepted_when_whole() {
    // Parsed (the refusal is about their order, not their spelling).
    verify_refuses("sci", &["--widths", "1e4,1e3"], "widths must be strictly increasing");
    verify_refuses("sci2", &["--seeds", "1.5"], "1.5 is not a count");
    verify_refuses("sci3", &["--widths", "1e-3"], "not a whole number");
}

#[test]
fn clap_errors_are_one_line_with_the_usage() {
    for (argv, needle) in [
        (&["verify-lemmas", "--bogus"][..], "unexpected argument '--bogus'"),
        (&["train", "--x", "a.npy"][..], "the following required arguments were not provided"),
        (&["nonsense"][..], "unrecognized subcommand 'nonsense'"),
    ] {
        let o = xtask(argv);
        assert_user_error(&o, needle);
        assert!(stderr(&o).contains("(usage: xtask") && stderr(&o).contains("see --help)"), "{}", stderr(&o));
    }
}

/// Configurations whose derived quantities are impossible are refused before anything is written
/// (they used to be refused only once seeds had run, leaving a checkpoint behind).
#[test]
fn derived_quantities_are_validated_before_the_start() {
    let dir = temp("derived");
    let cases = [
        (r#"{"lem-2.2": {"data": "orthonormal", "n": 5, "d": 3}}"#, "orthonormal inputs need d ≥ n = 5"),
        (r#"{"lem-2.2": {"n": 4, "d": 1}}"#, "the sphere in d = 1"),
        (r#"{"thm-2.1": {"step": 1e-300}}"#, "step = 1e-300: the horizon T = max(horizon, 8/λ0)"),
        (r#"{"lem-2.2": {"n": 100000}}"#, "the data of n = 100000 inputs"),
    ];
    for (i, (config, needle)) in cases.iter().enumerate() {
        let file = dir.join(format!("c{i}.json"));
        std::fs::write(&file, config).unwrap();
        verify_refuses(&format!("derived-{i}"), &["--profile", "tiny", "--config", file.to_str().unwrap()], needle);
    }
}

/// Issue 27, class 7: a negative value written with a space (`--delta -0.1`) is read as the value
/// and refused with the real reason, on every command with a numeric flag — not "unexpected
/// argument '-0' found".
#[test]
fn negative_values_after_a_space_are_refused_with_the_real_reason() {
    verify_refuses("negdelta", &["--delta", "-0.1"], "δ must lie in (0, 1)");
    let dir = sphere("negtrain", 4);
    train_refuses(&dir, &["--width", "20", "--eta", "-1"], "eta = -1: must be positive");
    train_refuses(
        &dir,
        &["--width", "20", "--method", "flow", "--step", "-0.01"],
        "the RK4 step h must be finite and positive",
    );
    let out = temp("negfig");
    let o = xtask(&["figure1", "--out", out.to_str().unwrap(), "--eta", "-0.5"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(!e.contains("unexpected argument") && e.contains("-0.5"), "{e}");
}

/// Issue 27, class 7: one parser for counts on every command, as docs/promises.md says: `1e3` is
/// read as 1000 by figure1 and train as by verify-lemmas, and a fraction is refused by name.
#[test]
fn counts_in_scientific_notation_are_read_by_every_command() {
    let dir = sphere("counts", 4);
    let out = arg(&dir, "t.csv");
    let o = train(&dir, &["--width", "2e1", "--iterations", "1e1", "--out", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f1 = temp("counts-f1");
    let o =
        xtask(&["figure1", "--widths", "3e1", "--iterations", "5e0", "--seeds", "1e0", "--out", f1.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_user_error(&train(&dir, &["--width", "2.5", "--out", &out]), "2.5 is not a count");
}

/// Issue 27, class 7: a malformed `.npy` header is refused in one line (the parser's caret
/// diagram used to make it six).
#[test]
fn a_malformed_npy_header_is_one_line() {
    let dir = temp("npyhdr");
    let path = dir.join("bad.npy");
    std::fs::write(&path, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2 }", &[0u8; 48])).unwrap();
    kernel_refuses(&path, "not a valid .npy file");
}

/// Issue 27, class 5: a stream that is no `.npy` file is refused at its first bytes, not after
/// reading all of it (`kernel --x /dev/zero` read 500 MB and more before failing).
#[test]
fn a_stream_without_the_npy_magic_is_refused_at_once() {
    kernel_refuses(Path::new("/dev/zero"), "does not start with the .npy magic bytes");
}

/// Issue 27, class 5: the plan's memory estimate is compared with the machine's memory
/// (/proc/meminfo) before anything starts: 16 seeds in flight of about 13 GiB each (each under the
/// per-array limit) are refused with both numbers, where the run used to start and abort.
#[test]
fn a_plan_past_the_machines_memory_is_refused_with_both_numbers() {
    if xtask::estimate::machine_memory_bytes().is_none_or(|m| m > 200 << 30) {
        return; // not Linux, or a machine that could hold it: nothing to refuse here
    }
    verify_refuses(
        "machine-memory",
        &["--profile", "tiny", "--claims", "lem-2.2", "--widths", "2.5e7", "--threads", "16", "--seeds", "16"],
        "more than this machine's",
    );
}

/// Issue 27, class 1: a command's results and its pages are written together or not at all. With
/// `img` taken by a plain file (so no plot can be written), verify-lemmas and figure1 write
/// neither their JSON nor any page, and say so; their JSON used to be left without its pages.
#[test]
fn results_and_pages_land_together_or_not_at_all() {
    let out = temp("all-or-nothing");
    std::fs::write(out.join("img"), b"in the way").unwrap();
    let o = xtask_out(&["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2", "--seeds", "2"], &out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
    let f1 = temp("all-or-nothing-f1");
    std::fs::write(f1.join("img"), b"in the way").unwrap();
    let o = xtask_out(&["figure1", "--widths", "30", "--iterations", "5", "--seeds", "1"], &f1);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for dir in [&out, &f1] {
        let left: Vec<String> =
            files_under(dir).into_iter().filter(|f| !f.ends_with("/img") && !f.contains("checkpoint")).collect();
        assert_eq!(left, Vec::<String>::new(), "nothing but the obstacle (and a kept checkpoint)");
    }
}

/// Issue 27, class 5: `figure1` estimates before it starts: 10¹² iterations, or one seed at
/// m = 10⁸, are refused with the estimate in the message, and nothing is written.
#[test]
fn figure1_past_the_machine_is_refused_with_its_estimate() {
    let out = temp("fig-huge");
    for (flags, needle) in [
        (&["--iterations", "1e12"][..], "by a flop bound (more than"),
        (&["--seeds", "1", "--widths", "1e8"][..], "more than this machine's"),
    ] {
        assert_user_error(&xtask_out(&[&["figure1"][..], flags].concat(), &out), needle);
    }
    assert_eq!(files_under(&out), Vec::<String>::new());
}

/// Issue 27, class 4: an output folder whose name is not UTF-8 is no panic (the lock records the
/// command line with `args_os`, lossily): the run writes its results there and exits 0.
#[test]
fn an_output_folder_named_in_non_utf8_bytes_is_no_panic() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp("non-utf8");
    let out = dir.join(std::ffi::OsStr::from_bytes(b"out-\xff"));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.3", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(out.join("results-tiny.json").exists());
}
