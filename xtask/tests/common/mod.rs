//! Helpers for the process-level tests: run the `xtask` binary, fresh temporary folders, and the one-line-error check.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs the binary with `args` and waits for it.
pub fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().expect("runs")
}

/// Runs the binary with `args` followed by `--out out` (where most runs name their output).
pub fn xtask_out(args: &[&str], out: &Path) -> Output {
    xtask(&[args, &["--out", out.to_str().unwrap()]].concat())
}

/// Runs `train` on `dir`'s `x.npy` and `y.npy`, with `flags` after them.
pub fn train(dir: &Path, flags: &[&str]) -> Output {
    let (x, y) = (arg(dir, "x.npy"), arg(dir, "y.npy"));
    xtask(&[&["train", "--x", &x, "--y", &y][..], flags].concat())
}

/// A JSON file's contents.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One `#[test]` per entry `name: expression;` (doc comments allowed before the name): each test
/// evaluates its expression, a call of a helper that asserts. For lists of one-call tests that keep
/// a test name per case.
#[allow(unused_macros)]
macro_rules! one_call_tests {
    ($($(#[$attr:meta])* $name:ident: $call:expr;)*) => {
        $($(#[$attr])* #[test] fn $name() { $call; })*
    };
}
#[allow(unused_imports)]
pub(crate) use one_call_tests;

/// Runs the binary once per argument list, all at the same time, and waits for every one (for
/// tests that compare runs in separate folders: a 1-thread and a 2-thread run, or two shards,
/// share the machine's cores instead of waiting for each other).
pub fn xtask_concurrently(runs: &[Vec<String>]) -> Vec<Output> {
    let children: Vec<_> = runs
        .iter()
        .map(|args| {
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("starts")
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().expect("runs")).collect()
}

/// Its standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Its standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh, empty folder (unique per process and call, so tests running in parallel never share one).
pub fn temp(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("xtask-test-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `dir/file` as a string argument.
pub fn arg(dir: &Path, file: &str) -> String {
    dir.join(file).to_str().unwrap().to_string()
}

/// A bad-input run: exit status 2, one line on stderr starting "error:" and containing `needle`.
pub fn assert_user_error(o: &Output, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {e}");
    assert!(e.starts_with("error: ") && e.trim_end().lines().count() == 1, "not one line: {e}");
    assert!(e.contains(needle), "{e:?} does not mention {needle:?}");
}

/// The names of the files under `dir` (recursively, sorted), for "nothing was written" checks.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Every file under `dir` with its bytes, keyed by the path relative to `dir`.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let rel = Path::new(&f).strip_prefix(dir).unwrap().display().to_string();
            let bytes = std::fs::read(&f).unwrap();
            (rel, bytes)
        })
        .collect()
}

/// Asserts two output folders hold the same files with the same bytes.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ta), names(&tb), "different files in {} and {}", a.display(), b.display());
    for ((name, x), (_, y)) in ta.iter().zip(&tb) {
        assert!(x == y, "{name} differs between {} and {}", a.display(), b.display());
    }
}

/// Writes a unit-sphere data set (n × d) as `x.npy`, `y.npy` in `dir`.
pub fn write_sphere(dir: &Path, n: usize, d: usize) -> model::Dataset {
    let data = model::Dataset::sphere(n, d, 3, 0).unwrap();
    model::npy::write_matrix(dir.join("x.npy"), data.x()).unwrap();
    model::npy::write_vector(dir.join("y.npy"), data.y()).unwrap();
    data
}

/// The `--merge` argument of the two shard checkpoints a scaling-runner study left in `shards`.
pub fn shard_checkpoints(shards: &Path) -> String {
    format!(
        "{},{}",
        shards.join("scaling-checkpoint-shard-0-of-2.jsonl").display(),
        shards.join("scaling-checkpoint-shard-1-of-2.jsonl").display()
    )
}
