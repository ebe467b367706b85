//! The `train` rows of `bench-peers`: `cargo xtask train` against the NumPy peer's plain RK4 or
//! GD of the same dynamics, both timed as whole processes (start-up, reading the inputs, the run
//! and writing the result), at small sizes where thread wake-ups or start-up would show.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use model::{Dataset, Network};

use super::{Python, SEED, nums, write_inputs};
use xtask::{CommandError, eprintln};

/// One end-to-end case: the method, the sizes (d < n takes the weight-space path, d ≥ n kernel
/// space) and the steps (RK4 steps of h = 0.01, or GD iterations at η = 0.05).
pub(super) struct Case {
    pub(super) method: &'static str,
    pub(super) n: usize,
    pub(super) d: usize,
    pub(super) m: usize,
    pub(super) steps: usize,
}

impl Case {
    /// Which path `train` takes for it.
    pub(super) fn space(&self) -> &'static str {
        if self.d < self.n { "weight space" } else { "kernel space" }
    }
}

/// The cases of the rows: the flow on both paths, and GD.
pub(super) const CASES: [Case; 3] = [
    Case { method: "flow", n: 40, d: 25, m: 300, steps: 500 },
    Case { method: "flow", n: 25, d: 40, m: 300, steps: 500 },
    Case { method: "gd", n: 40, d: 25, m: 300, steps: 500 },
];
const H: f64 = 0.01;
const ETA: f64 = 0.05;

/// A row's result: each side's best whole-process wall time, and the relative gap of the final loss.
pub(super) struct TrainBench {
    pub(super) rust: f64,
    pub(super) numpy: f64,
    pub(super) loss_gap: f64,
}

/// Runs `rounds` alternating rounds of the two processes on the same inputs.
pub(super) fn train_bench(python: &Python, dir: &Path, case: &Case, rounds: usize) -> Result<TrainBench, CommandError> {
    let Case { method, n, d, m, steps } = *case;
    let data = Dataset::sphere(n, d, SEED, 0)?;
    let net = Network::init(m, d, SEED, 1)?;
    let sub = dir.join(format!("train-{method}-{n}x{d}x{m}"));
    std::fs::create_dir_all(&sub)?;
    let file = |name: &str| sub.join(name).to_string_lossy().into_owned();
    write_inputs(&sub, &data, &net)?;
    let exe = std::env::current_exe().map_err(|e| CommandError::Input(format!("cannot find the xtask binary: {e}")))?;
    let out = file("train.csv");
    let (steps_s, h_s, eta_s, horizon) =
        (steps.to_string(), H.to_string(), ETA.to_string(), (steps as f64 * H).to_string());
    let mut rust_args: Vec<String> = ["train", "--x", &file("X.npy"), "--y", &file("y.npy"), "--w", &file("W0.npy")]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let dynamics: Vec<&str> = if method == "gd" {
        vec!["--method", "gd", "--iterations", &steps_s, "--eta", &eta_s]
    } else {
        vec!["--method", "flow", "--horizon", &horizon, "--step", &h_s]
    };
    rust_args.extend(["--a", &file("a.npy"), "--out", &out].iter().map(|s| s.to_string()));
    rust_args.extend(dynamics.iter().map(|s| s.to_string()));
    let peer_args: Vec<&str> = if method == "gd" {
        vec!["gd", "--steps", &steps_s, "--eta", &eta_s]
    } else {
        vec!["flow", "--steps", &steps_s, "--h", &h_s]
    };
    let peer = Python { exe: python.exe.clone(), peers: python.peers.clone(), inputs: sub.clone() };
    let (mut rust, mut numpy, mut loss_gap) = (f64::INFINITY, f64::INFINITY, 0.0f64);
    for round in 0..rounds {
        eprintln!(
            "bench-peers: train --method {method}, n = {n}, d = {d}, m = {m}, {steps} steps as whole processes, round {}",
            round + 1
        );
        let t = Instant::now();
        let run = Command::new(&exe).args(&rust_args).output()?;
        rust = rust.min(t.elapsed().as_secs_f64());
        if !run.status.success() {
            return Err(CommandError::Input(format!(
                "xtask train failed ({}): {}",
                run.status,
                String::from_utf8_lossy(&run.stderr).trim()
            )));
        }
        let t = Instant::now();
        let np = peer.call("numpy_peer.py", &peer_args)?;
        numpy = numpy.min(t.elapsed().as_secs_f64());
        let np_final = *nums(&np, "losses")?.last().unwrap_or(&f64::NAN);
        let rust_final = final_loss(&std::fs::read_to_string(&out)?, steps)?;
        loss_gap = loss_gap.max((rust_final - np_final).abs() / np_final.abs().max(1e-300));
    }
    Ok(TrainBench { rust, numpy, loss_gap })
}

/// The loss of the CSV's last row, which must be step `steps`.
fn final_loss(csv: &str, steps: usize) -> Result<f64, CommandError> {
    let last = csv.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    let cells: Vec<&str> = last.split(',').collect();
    match (cells.get(1).and_then(|s| s.parse::<usize>().ok()), cells.get(2).and_then(|s| s.parse::<f64>().ok())) {
        (Some(step), Some(loss)) if step == steps => Ok(loss),
        _ => Err(CommandError::Input(format!("xtask train's CSV does not end at step {steps}: '{last}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_loss_is_read_from_the_last_row_at_the_last_step() {
        let csv = "t,step,loss\n0e0,0,2.5e-1\n5e0,500,1.25e-1\n";
        assert_eq!(final_loss(csv, 500).unwrap(), 0.125); // test: a well-formed CSV
        assert!(final_loss(csv, 499).is_err(), "a run that stopped early is refused");
        assert!(final_loss("t,step,loss\n", 500).is_err());
    }
}
