//! The `train` row of `bench-peers`: `cargo xtask train --method flow` against the NumPy peer's
//! plain RK4 of the same flow, both timed as whole processes (start-up, reading the inputs, the
//! run and writing the result), at a small size where thread wake-ups would show.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use model::{Dataset, Network};

use super::{Python, SEED, nums};
use crate::UserError;

/// Inputs, width and steps of the row: n = 40 points in d = 25 (so d < n: the weight-space path),
/// m = 300 neurons, 500 RK4 steps of h = 0.01.
pub(super) const SIZE: (usize, usize, usize) = (40, 25, 300);
const STEPS: usize = 500;
const H: f64 = 0.01;

/// The row's result: each side's best whole-process wall time, and the relative gap of the final loss.
pub(super) struct TrainBench {
    pub(super) rust: f64,
    pub(super) numpy: f64,
    pub(super) loss_gap: f64,
}

/// Runs `rounds` alternating rounds of the two processes on the same inputs.
pub(super) fn train_bench(python: &Python, dir: &Path, rounds: usize) -> Result<TrainBench, UserError> {
    let (n, d, m) = SIZE;
    let data = Dataset::sphere(n, d, SEED, 0)?;
    let net = Network::init(m, d, SEED, 1)?;
    let sub = dir.join(format!("train-{n}x{d}x{m}"));
    std::fs::create_dir_all(&sub)?;
    let file = |name: &str| sub.join(name).to_string_lossy().into_owned();
    model::npy::write_matrix(sub.join("X.npy"), data.x())?;
    model::npy::write_vector(sub.join("y.npy"), data.y())?;
    model::npy::write_matrix(sub.join("W0.npy"), net.w.as_ref())?;
    model::npy::write_vector(sub.join("a.npy"), net.a.as_ref())?;
    let exe = std::env::current_exe().map_err(|e| UserError(format!("cannot find the xtask binary: {e}")))?;
    let horizon = (STEPS as f64 * H).to_string();
    let out = file("train.csv");
    let rust_args = [
        "train",
        "--x",
        &file("X.npy"),
        "--y",
        &file("y.npy"),
        "--w",
        &file("W0.npy"),
        "--a",
        &file("a.npy"),
        "--method",
        "flow",
        "--horizon",
        &horizon,
        "--step",
        &H.to_string(),
        "--out",
        &out,
    ];
    let peer = Python { exe: python.exe.clone(), peers: python.peers.clone(), inputs: sub.clone() };
    let (steps_s, h_s) = (STEPS.to_string(), H.to_string());
    let (mut rust, mut numpy, mut loss_gap) = (f64::INFINITY, f64::INFINITY, 0.0f64);
    for round in 0..rounds {
        eprintln!(
            "bench-peers: train n = {n}, d = {d}, m = {m}, {STEPS} RK4 steps as whole processes, round {}",
            round + 1
        );
        let t = Instant::now();
        let run = Command::new(&exe).args(rust_args).output()?;
        rust = rust.min(t.elapsed().as_secs_f64());
        if !run.status.success() {
            return Err(UserError(format!(
                "xtask train failed ({}): {}",
                run.status,
                String::from_utf8_lossy(&run.stderr).trim()
            )));
        }
        let t = Instant::now();
        let np = peer.call("numpy_peer.py", &["flow", "--steps", &steps_s, "--h", &h_s])?;
        numpy = numpy.min(t.elapsed().as_secs_f64());
        let np_final = *nums(&np, "losses")?.last().unwrap_or(&f64::NAN);
        let rust_final = final_loss(&std::fs::read_to_string(&out)?, STEPS)?;
        loss_gap = loss_gap.max((rust_final - np_final).abs() / np_final.abs().max(1e-300));
    }
    Ok(TrainBench { rust, numpy, loss_gap })
}

/// The loss of the CSV's last row, which must be step `steps`.
fn final_loss(csv: &str, steps: usize) -> Result<f64, UserError> {
    let last = csv.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    let cells: Vec<&str> = last.split(',').collect();
    match (cells.get(1).and_then(|s| s.parse::<usize>().ok()), cells.get(2).and_then(|s| s.parse::<f64>().ok())) {
        (Some(step), Some(loss)) if step == steps => Ok(loss),
        _ => Err(UserError(format!("xtask train's CSV does not end at step {steps}: '{last}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_loss_is_read_from_the_last_row_at_the_last_step() {
        let csv = "t,step,loss\n0e0,0,2.5e-1\n5e0,500,1.25e-1\n";
        assert_eq!(final_loss(csv, 500).unwrap(), 0.125);
        assert!(final_loss(csv, 499).is_err(), "a run that stopped early is refused");
        assert!(final_loss("t,step,loss\n", 500).is_err());
    }
}
