//! The command line as a user meets it: help, the data commands on `.npy` files, and a tiny verify-lemmas run.
//!
//! Bad input is in `bad_input.rs`.

mod common;

use common::{read_json, stderr, stdout, temp, train, write_sphere, xtask};

#[test]
fn no_arguments_prints_help_and_every_command_has_help() {
    let o = xtask(&[]);
    let text = stdout(&o) + &stderr(&o);
    for cmd in ["verify-lemmas", "merge", "figure1", "kernel", "train"] {
        assert!(text.contains(cmd), "help lacks {cmd}: {text}");
        let h = xtask(&[cmd, "--help"]);
        assert!(h.status.success() && stdout(&h).contains("Usage"), "{cmd} --help");
    }
}

#[test]
fn kernel_reports_lambda0_of_a_npy_data_set() {
    let dir = temp("kernel");
    let data = write_sphere(&dir, 12, 6);
    let o =
        xtask(&["kernel", "--x", dir.join("x.npy").to_str().unwrap(), "--h-out", dir.join("h.npy").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = format!("{:.10e}", model::lambda0(&data).unwrap());
    assert!(stdout(&o).contains(&expected), "{} lacks {expected}", stdout(&o));
    let h = model::npy::read_matrix(dir.join("h.npy")).unwrap();
    assert_eq!(h, model::h_infinity(data.input_gram()));
}

#[test]
fn kernel_shows_its_stages_on_a_terminal_and_nothing_when_piped() {
    let dir = temp("kernel-progress");
    write_sphere(&dir, 40, 8);
    let x = dir.join("x.npy");
    // Piped (as above): stderr carries no progress line.
    let piped = xtask(&["kernel", "--x", x.to_str().unwrap()]);
    assert!(piped.status.success() && !stderr(&piped).contains("kernel "), "{}", stderr(&piped));
    // On a terminal (util-linux `script` gives the run a pseudo-terminal): the stage is drawn.
    let cmd = format!("{} kernel --x {}", env!("CARGO_BIN_EXE_xtask"), x.display());
    let tty = std::process::Command::new("script").args(["-qec", &cmd, "/dev/null"]).output().expect("script(1) runs");
    let text = String::from_utf8_lossy(&tty.stdout).into_owned();
    assert!(tty.status.success(), "{text}");
    assert!(text.contains("kernel") && text.contains("reading and checking X"), "no stage drawn: {text}");
    assert!(text.contains("λ0 = λmin(H∞)"), "{text}");
}

#[test]
fn train_writes_json_and_csv_trajectories() {
    let dir = temp("train");
    let data = write_sphere(&dir, 6, 4);
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    for (method, file) in
        [("gd", "gd.json"), ("flow", "flow.csv"), ("both-flow", "both.json"), ("both-gd", "bothgd.csv")]
    {
        let flags = ["--width", "200", "--method", method, "--iterations", "20", "--horizon", "0.5", "--step", "0.05"];
        let o = train(&dir, &[&flags[..], &["--eta", "0.2", "--out", &path(file)]].concat());
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

/// Sampling never changes the flow: `--every 10` (500 samples) and `--every 100` (5000 samples,
/// most between the grid points of h = 0.01) give the same bits at every shared time, and the
/// status line names the step used, with the shorter last step when h does not divide T.
#[test]
fn train_flow_samples_never_change_the_solution() {
    let dir = temp("train-every");
    write_sphere(&dir, 6, 8);
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let run = |every: &str, step: &str, file: &str| {
        let flags = ["--width", "300", "--method", "flow", "--horizon", "0.5", "--step", step, "--every", every];
        let o = train(&dir, &[&flags[..], &["--out", &path(file)]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        (stdout(&o), read_json(&dir.join(file))["samples"].as_array().unwrap().clone())
    };
    let (status, coarse) = run("10", "0.01", "a.json");
    let (_, fine) = run("100", "0.01", "b.json");
    assert!(status.contains("RK4 step h = 0.01"), "{status}");
    assert_eq!((coarse.len(), fine.len()), (501, 5001));
    let mut shared = 0;
    for row in &coarse {
        let t = row["t"].as_f64().unwrap();
        if let Some(other) = fine.iter().find(|r| r["t"].as_f64().unwrap() == t) {
            for key in ["loss", "residual_sq", "max_weight_distance", "pattern_change_fraction"] {
                assert_eq!(
                    row[key].as_f64().unwrap().to_bits(),
                    other[key].as_f64().unwrap().to_bits(),
                    "{key} at t = {t}"
                );
            }
            shared += 1;
        }
    }
    assert!(shared >= 100, "only {shared} shared times");
    let (status, _) = run("1", "0.3", "c.json");
    assert!(status.contains("RK4 step h = 0.3, last step 2.000000e-1 to land on T = 0.5"), "{status}");
    let o = train(&dir, &["--method", "flow", "--horizon", "0.5", "--step", "5", "--out", &path("d.json")]);
    common::assert_user_error(&o, "longer than the horizon");
}

/// A long GD run keeps a bounded trajectory (at most 100000 samples, the last iterate among them),
/// and a diverged run's last accepted iterate is a row even when it falls between samples.
#[test]
fn train_trajectories_stay_bounded_and_keep_the_last_iterate() {
    let dir = temp("train-long");
    write_sphere(&dir, 4, 4);
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let run = |iterations: &str, eta: &str, every: &str, file: &str| {
        let flags = ["--width", "8", "--method", "gd", "--iterations", iterations, "--eta", eta, "--every", every];
        let o = train(&dir, &[&flags[..], &["--out", &path(file)]].concat());
        (o, read_json(&dir.join(file))["samples"].as_array().unwrap().clone())
    };
    let (o, rows) = run("1000000", "0.5", "1", "long.json");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(rows.len() <= 100_000 && rows.len() > 50_000, "{} samples", rows.len());
    assert_eq!(rows.last().unwrap()["step"].as_u64(), Some(1_000_000));
    assert!(stdout(&o).contains("to keep at most 100000 samples"), "{}", stdout(&o));
    let (o, rows) = run("100000", "50", "1000", "diverged.json");
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let text = stdout(&o);
    let at: u64 = text.split("diverged at iteration ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(at % 1000 != 1, "the divergence must fall between samples: {text}");
    assert_eq!(rows.last().unwrap()["step"].as_u64(), Some(at - 1), "{text}");
}

#[test]
fn verify_lemmas_writes_reports_and_exits_zero() {
    let out = temp("verify");
    let o =
        xtask(&["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2,lem-2.3", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Lem 2.2  Lem 3.1"));
    for f in ["results-tiny.json", "index.md", "lem-2.2.md", "lem-2.3.md", "img/lem-2.2-probability.svg"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
}

/// Issue 26: without a terminal (CI logs, `nohup`, pipes) a long run still shows life: plain
/// "progress:" lines on stderr at the heartbeat interval (15 s by default, shortened here through
/// `OVERPARAM_HEARTBEAT_MS`), naming the claim and its seeds done of total; stdout stays clean.
#[test]
fn runs_off_a_terminal_print_progress_lines_to_stderr() {
    let out = temp("heartbeat");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["verify-lemmas", "--profile", "tiny", "--claims", "thm-2.1", "--threads", "1"])
        .args(["--out", out.to_str().unwrap()])
        .env(xtask::heartbeat::INTERVAL_ENV, "5")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    let line =
        e.lines().find(|l| l.starts_with("progress: Thm 2.1 ")).unwrap_or_else(|| panic!("no progress line: {e}"));
    assert!(line.contains(" elapsed"), "{line}");
    let (done, total) = line["progress: Thm 2.1 ".len()..].split(',').next().unwrap().split_once('/').unwrap();
    assert!(done.parse::<u64>().unwrap() <= total.parse::<u64>().unwrap(), "{line}");
    assert!(!stdout(&o).contains("progress:"), "progress goes to stderr only");
    // Without the variable the interval is 15 s: a run of a few seconds prints no such line.
    let quiet = xtask(&["verify-lemmas", "--profile", "tiny", "--claims", "lem-2.2", "--out", out.to_str().unwrap()]);
    assert!(quiet.status.success() && !stderr(&quiet).contains("progress:"), "{}", stderr(&quiet));
}
