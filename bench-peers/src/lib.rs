//! `cargo xtask bench-peers`: the Rust kernels timed side by side with NumPy and JAX peers doing the same computations.
//!
//! One command, one run: the harness writes the inputs (X, y, W(0), a, and the Lem 2.2 data) as
//! `.npy` files, times the project's own code paths in this process, runs `peers/numpy_peer.py`
//! and `peers/jax_peer.py` on the same inputs (rounds alternate Rust, NumPy, JAX so that a change
//! of machine load hits all three), prints the table of ratios and checks that the three agree:
//! the GD trajectories (loss, λmin(H(k)), pattern changes, distance) to a relative 10⁻⁸, the
//! Lem 2.2 statistics of one given W(0) to 10⁻⁹, and the Lem 2.2 seed means within five standard
//! errors (the generators differ, so only the distributions can agree).
//!
//! The peers run with `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` removed from their environment
//! (they may be set on the machine and slow OpenBLAS down); nothing else is changed. Speed is
//! measured here and by criterion, never asserted in tests.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use descent::{DescentConfig, LearningRate, Method, Observer, Problem, Recorder, RecorderOptions};
use faer::{Accum, Mat, Par};
use lemmas::{CheckConfig, DataKind, NoProgress};
use model::network::preactivations;
use model::{
    Dataset, GaussianPreactivations, Network, PatternBits, gram_h, gram_h_from_patterns, h_infinity, lambda_max,
    lambda_min, spectral_norm_symmetric,
};
use serde_json::Value;

use xtask::CommandError;

mod main_job;

use xtask::{eprintln, println};
mod train;

/// Options of `bench-peers`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// n = d of the gradient-descent benchmarks (the paper's Fig. 1: 1000).
    #[arg(long, value_parser = xtask::parse::parse_usize_count, default_value_t = 1000)]
    pub n: usize,
    /// Width m of the gradient-descent benchmarks.
    #[arg(long, value_parser = xtask::parse::parse_usize_count, default_value_t = 10_000)]
    pub m: usize,
    /// Timed GD steps per implementation and round (the median is reported).
    #[arg(long, value_parser = xtask::parse::parse_usize_count, default_value_t = 4)]
    pub steps: usize,
    /// Rounds (Rust, NumPy, JAX in turn); each implementation's best round median is reported.
    #[arg(long, value_parser = xtask::parse::parse_usize_count, default_value_t = 3)]
    pub rounds: usize,
    /// n = d of the Lem 2.2 Monte Carlo.
    #[arg(long, value_parser = xtask::parse::parse_usize_count, default_value_t = 100)]
    pub mc_n: usize,
    /// Width m of the Lem 2.2 Monte Carlo.
    #[arg(long, value_parser = xtask::parse::parse_usize_count, default_value_t = 10_000)]
    pub mc_m: usize,
    /// Seeds of the Lem 2.2 Monte Carlo per implementation and round.
    #[arg(long, default_value_t = 64)]
    pub mc_seeds: u64,
    /// The Python interpreter with numpy, jax and threadpoolctl (peers/requirements.txt).
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Skip the JAX peer.
    #[arg(long)]
    pub skip_jax: bool,
    /// Also measure the peak memory of the paper-scale Fig. 1 run (`xtask figure1 --profile
    /// paper`, n = d = 1000, m up to 16000, 100 iterations) with /usr/bin/time; takes minutes.
    #[arg(long)]
    pub memory: bool,
    /// Also write the run as the page docs/performance.md (or the file given): the table, the
    /// agreement and, with --memory, the memory figures, between the page's fixed explanations.
    #[arg(long, num_args = 0..=1, default_missing_value = "docs/performance.md", value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Exit with status 1 when a target ratio is missed (agreement failures always do).
    #[arg(long)]
    pub require_targets: bool,
    /// Sizes n×m (n = d) of the gradient-flow rows, comma-separated.
    #[arg(long, default_value = "40x300,200x5000,1000x10000")]
    pub flow_sizes: String,
    /// RK4 step h of the gradient-flow rows (the same for Rust and NumPy).
    #[arg(long, default_value_t = 0.01)]
    pub flow_step: f64,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            n: 1000,
            m: 10_000,
            steps: 4,
            rounds: 3,
            mc_n: 100,
            mc_m: 10_000,
            mc_seeds: 64,
            python: "python3".into(),
            skip_jax: false,
            memory: false,
            markdown: None,
            require_targets: false,
            flow_sizes: "40x300,200x5000,1000x10000".into(),
            flow_step: 0.01,
        }
    }
}

/// Seed of the GD benchmark's data and network (as `figure1 --nested`, seed 0: data trial 0, network trial 1).
const SEED: u64 = 0;
/// Relative tolerance of the trajectory agreement.
const TRAJECTORY_TOLERANCE: f64 = 1e-8;

/// Runs the benchmarks and prints the report; see the module docs.
pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    if args.n == 0 || args.m == 0 || args.steps == 0 || args.rounds == 0 || args.mc_n < 2 || args.mc_seeds < 2 {
        return Err(CommandError::Input("n, m, steps, rounds must be positive; mc-n and mc-seeds at least 2".into()));
    }
    parse_flow_sizes(&args.flow_sizes)?;
    if !(args.flow_step.is_finite() && args.flow_step > 0.0) {
        return Err(CommandError::Input(format!(
            "--flow-step {}: the RK4 step must be finite and positive",
            args.flow_step
        )));
    }
    let peers = peers_dir();
    let dir = std::env::temp_dir().join(format!("du-bench-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_in(&args, &peers, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("peers")
}

/// Timings of one implementation (seconds per GD step; seeds per second).
#[derive(Debug, Clone, Default)]
struct Timings {
    gd: Option<f64>,
    gd_diag: Option<f64>,
    seeds_per_second: Option<f64>,
}

impl Timings {
    fn best(&mut self, other: &Timings) {
        let min = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        self.gd = min(self.gd, other.gd);
        self.gd_diag = min(self.gd_diag, other.gd_diag);
        self.seeds_per_second = max(self.seeds_per_second, other.seeds_per_second);
    }
}

/// A GD trajectory k = 0..=steps: loss, λmin(H(k)), pattern-change fraction, max distance.
#[derive(Debug, Clone, Default)]
struct Trajectory {
    loss: Vec<f64>,
    lambda_min: Vec<f64>,
    fraction: Vec<f64>,
    distance: Vec<f64>,
}

/// Parses "40x300,200x5000" into (n, m) pairs, each at least 1 × 1.
fn parse_flow_sizes(s: &str) -> Result<Vec<(usize, usize)>, CommandError> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (n, m) = p.trim().split_once(['x', '×']).ok_or_else(|| {
                CommandError::Input(format!("--flow-sizes {s}: '{p}' is not n×m (for example 200x5000)"))
            })?;
            let parse = |v: &str| v.trim().parse::<usize>().ok().filter(|&v| v >= 1);
            match (parse(n), parse(m)) {
                (Some(n), Some(m)) => Ok((n, m)),
                _ => Err(CommandError::Input(format!("--flow-sizes {s}: '{p}' needs two positive counts"))),
            }
        })
        .collect()
}

/// Timed RK4 steps of a flow row: about 5·10⁹ / (n²m) (a few seconds of NumPy), between 2 and 2000.
fn flow_steps_for(n: usize, m: usize) -> usize {
    ((5e9 / (n as f64 * n as f64 * m as f64)).round() as usize).clamp(2, 2000)
}

/// One flow row: median seconds per step (Rust, NumPy), and the agreement of the loss at every
/// grid point and of u(T).
struct FlowBench {
    n: usize,
    m: usize,
    steps: usize,
    rust: f64,
    numpy: f64,
    loss_gap: f64,
    u_gap: f64,
}

/// The project's flow, as `flow::run` runs it for n = d (kernel space, embedded estimate: the
/// lazy step of `flow::lazy`, the fused step's result to rounding for about one GEMM): the median
/// time of one grid step with its error estimate, the loss at every grid point and u(T).
fn rust_flow(data: &Dataset, net: &Network, h: f64, steps: usize) -> Result<(f64, Vec<f64>, Vec<f64>), CommandError> {
    let field = flow::KernelField::new(data, &net.a);
    let flow_err = |e: flow::FlowError| CommandError::Internal(e.to_string());
    let mut lazy = flow::LazyKernel::new(&field, flow::KernelState::initial(data, net)).map_err(flow_err)?;
    let mut losses = vec![lazy.loss()];
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let t = Instant::now();
        let step = lazy.step(h).map_err(flow_err)?;
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(&step.error);
        losses.push(step.loss);
    }
    let u = lazy.predictions().to_owned();
    Ok((median(times), losses, u.iter().copied().collect()))
}

/// The peers' inputs in `dir`: X.npy, y.npy, W0.npy and a.npy.
fn write_inputs(dir: &Path, data: &Dataset, net: &Network) -> Result<(), CommandError> {
    model::npy::write_matrix(dir.join("X.npy"), data.x())?;
    model::npy::write_vector(dir.join("y.npy"), data.y())?;
    model::npy::write_matrix(dir.join("W0.npy"), net.w.as_ref())?;
    model::npy::write_vector(dir.join("a.npy"), net.a.as_ref())?;
    Ok(())
}

fn flow_bench(
    python: &Python,
    dir: &Path,
    n: usize,
    m: usize,
    h: f64,
    rounds: usize,
) -> Result<FlowBench, CommandError> {
    let data = Dataset::sphere(n, n, SEED, 0)?;
    let net = Network::init(m, n, SEED, 1)?;
    let sub = dir.join(format!("flow-{n}x{m}"));
    std::fs::create_dir_all(&sub)?;
    write_inputs(&sub, &data, &net)?;
    let peer = Python { exe: python.exe.clone(), peers: python.peers.clone(), inputs: sub };
    let steps = flow_steps_for(n, m);
    let (steps_s, h_s) = (steps.to_string(), h.to_string());
    let (mut rust, mut numpy) = (f64::INFINITY, f64::INFINITY);
    let (mut loss_gap, mut u_gap) = (0.0f64, 0.0f64);
    for round in 0..rounds {
        eprintln!("bench-peers: flow n = d = {n}, m = {m}, {steps} RK4 steps, round {}: Rust, NumPy", round + 1);
        let (t, losses, u) = rust_flow(&data, &net, h, steps)?;
        rust = rust.min(t);
        let out = peer.call("numpy_peer.py", &["flow", "--steps", &steps_s, "--h", &h_s])?;
        numpy = numpy.min(median(nums(&out, "step_seconds")?));
        let (np_losses, np_u) = (nums(&out, "losses")?, nums(&out, "u")?);
        let gap = |a: &[f64], b: &[f64]| {
            if a.len() != b.len() {
                return f64::INFINITY;
            }
            let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300);
            a.iter().zip(b).map(|(p, q)| (p - q).abs() / scale).fold(0.0, f64::max)
        };
        loss_gap = loss_gap.max(gap(&losses, &np_losses));
        u_gap = u_gap.max(gap(&u, &np_u));
    }
    Ok(FlowBench { n, m, steps, rust, numpy, loss_gap, u_gap })
}

fn run_in(args: &Args, peers: &Path, dir: &Path) -> Result<ExitCode, CommandError> {
    let (n, m) = (args.n, args.m);
    eprintln!("bench-peers: data n = d = {n}, m = {m}; writing inputs to {}", dir.display());
    let data = Dataset::sphere(n, n, SEED, 0)?;
    let net = Network::init(m, n, SEED, 1)?;
    let eta = fig1_eta(&data)?;
    write_inputs(dir, &data, &net)?;
    let mc_cfg = CheckConfig {
        n: args.mc_n,
        d: args.mc_n,
        data: DataKind::Sphere,
        widths: vec![args.mc_m],
        seeds: args.mc_seeds,
        bisection_steps: 0,
        ..CheckConfig::default()
    };
    let mc_data = lemmas::make_data(&mc_cfg)?;
    model::npy::write_matrix(dir.join("X_mc.npy"), mc_data.x())?;
    let mc_net0 = Network::init(args.mc_m, args.mc_n, mc_cfg.master_seed, 0)?;
    model::npy::write_matrix(dir.join("W_mc.npy"), mc_net0.w.as_ref())?;

    let python = Python { exe: args.python.clone(), peers: peers.to_path_buf(), inputs: dir.to_path_buf() };
    let info = python.call("numpy_peer.py", &["info"]).map_err(|e| {
        CommandError::Input(format!(
            "{}\nthe peers need Python with numpy, jax and threadpoolctl: pip install -r peers/requirements.txt",
            e.message()
        ))
    })?;
    let blas = info.get("blas").map(|b| b.to_string()).unwrap_or_default();

    let load_before = load_average();
    let mut gemm: Vec<(String, f64)> = Vec::new();
    let step_flops = 2.0 * (n as f64) * (n as f64) * (m as f64);
    let (mut rust, mut numpy, mut jax) = (Timings::default(), Timings::default(), Timings::default());
    let mut rust_traj = Trajectory::default();
    let (mut numpy_traj, mut jax_traj) = (None, None);
    let (mut numpy_mc, mut jax_mc) = (None, None);
    let mut rust_weight_space = f64::INFINITY;
    let mut rust_sampler = 0.0f64;
    let mut sampler_values = Vec::new();
    let eta_s = eta.to_string();
    let steps_s = args.steps.to_string();
    let (mc_m_s, mc_seeds_s) = (args.mc_m.to_string(), args.mc_seeds.to_string());
    let gd_args = |task: &'static str| -> Vec<String> {
        vec![task.into(), "--steps".into(), steps_s.clone(), "--eta".into(), eta_s.clone()]
    };
    let mc_args = vec!["lem22".to_string(), "--m".into(), mc_m_s.clone(), "--seeds".into(), mc_seeds_s.clone()];
    for round in 0..args.rounds {
        eprintln!("bench-peers: round {} of {}: Rust", round + 1, args.rounds);
        let rates = gemm_rates();
        if gemm.is_empty() {
            gemm = rates;
        } else {
            for (best, (_, r)) in gemm.iter_mut().zip(rates) {
                best.1 = best.1.max(r);
            }
        }
        let (t, traj, ws) = rust_timings(&data, &net, eta, args.steps, &mc_cfg)?;
        rust.best(&t);
        rust_traj = traj;
        rust_weight_space = rust_weight_space.min(ws);
        let (rate, values) = sampler_seeds(&mc_data, args.mc_m, args.mc_seeds, mc_cfg.master_seed)?;
        rust_sampler = rust_sampler.max(rate);
        sampler_values = values;
        eprintln!("bench-peers: round {}: NumPy", round + 1);
        let (t, traj, mc) = peer_timings(&python, "numpy_peer.py", &gd_args, &mc_args)?;
        numpy.best(&t);
        numpy_traj = Some(traj);
        numpy_mc = Some(mc);
        if !args.skip_jax {
            eprintln!("bench-peers: round {}: JAX", round + 1);
            let (t, traj, mc) = peer_timings(&python, "jax_peer.py", &gd_args, &mc_args)?;
            jax.best(&t);
            jax_traj = Some(traj);
            jax_mc = Some(mc);
        }
    }

    let flows = parse_flow_sizes(&args.flow_sizes)?
        .into_iter()
        .map(|(fn_, fm)| flow_bench(&python, dir, fn_, fm, args.flow_step, args.rounds))
        .collect::<Result<Vec<_>, _>>()?;
    let trains = train::CASES
        .iter()
        .map(|case| Ok((case, train::train_bench(&python, dir, case, args.rounds)?)))
        .collect::<Result<Vec<_>, CommandError>>()?;
    let claim_times = main_job::quick_claim_times()?;

    // Agreement.
    let mut agreement = Vec::new();
    let mut agree = true;
    for (case, train) in &trains {
        let ok = train.loss_gap <= TRAJECTORY_TOLERANCE;
        agree &= ok;
        agreement.push(format!(
            "`train --method {}` ({}) vs the NumPy peer, n = {}, d = {}, m = {}: relative gap of the final loss {:.1e} (tolerance {TRAJECTORY_TOLERANCE:.0e}) — {}",
            case.method,
            case.space(),
            case.n,
            case.d,
            case.m,
            train.loss_gap,
            if ok { "agree" } else { "DISAGREE" }
        ));
    }
    for f in &flows {
        let ok = f.loss_gap <= TRAJECTORY_TOLERANCE && f.u_gap <= TRAJECTORY_TOLERANCE;
        agree &= ok;
        agreement.push(format!(
            "Gradient flow, Rust (kernel space) vs NumPy (weight space), n = d = {}, m = {}, {} RK4 steps of h = {}: largest gap of the loss at the grid points {:.1e}, of u(T) {:.1e} (relative to the largest entry; tolerance {TRAJECTORY_TOLERANCE:.0e}) — {}",
            f.n,
            f.m,
            f.steps,
            args.flow_step,
            f.loss_gap,
            f.u_gap,
            if ok { "agree" } else { "DISAGREE" }
        ));
    }
    for (name, traj) in [("NumPy", &numpy_traj), ("JAX", &jax_traj)] {
        if let Some(traj) = traj {
            let worst = trajectory_gap(&rust_traj, traj);
            let ok = worst.iter().all(|(_, v)| *v <= TRAJECTORY_TOLERANCE);
            agree &= ok;
            let detail: Vec<String> = worst.iter().map(|(k, v)| format!("{k} {v:.1e}")).collect();
            agreement.push(format!(
                "GD trajectory, Rust vs {name}, k = 0..={} (largest relative gap; tolerance {TRAJECTORY_TOLERANCE:.0e}): {} — {}",
                args.steps,
                detail.join(", "),
                if ok { "agree" } else { "DISAGREE" }
            ));
        }
    }
    let given = python.call("numpy_peer.py", &["lem22-given"])?;
    let (s0, e0, l0) = lem22_seed(&mc_data, &h_infinity(mc_data.input_gram()), &mc_net0)?;
    let gaps = [
        ("‖H(0) − H∞‖₂", s0, num(&given, "spectral")?),
        ("max |H(0) − H∞|", e0, num(&given, "entry_max")?),
        ("λmin(H(0))", l0, num(&given, "lambda_min")?),
    ];
    let worst_given = gaps.iter().map(|(_, a, b)| relative(*a, *b)).fold(0.0f64, f64::max);
    let ok = worst_given <= 1e-9;
    agree &= ok;
    agreement.push(format!(
        "Lem 2.2 statistics of one given W(0) (m = {}), Rust vs NumPy: largest relative gap {worst_given:.1e} (tolerance 1e-9) — {}",
        args.mc_m,
        if ok { "agree" } else { "DISAGREE" }
    ));
    let rust_seeds: Vec<f64> = (0..args.mc_seeds)
        .map(|t| {
            let net = Network::init(args.mc_m, args.mc_n, mc_cfg.master_seed, t)?;
            Ok(lem22_seed(&mc_data, &h_infinity(mc_data.input_gram()), &net)?.0)
        })
        .collect::<Result<_, CommandError>>()?;
    let mut pairs = vec![("Rust (Network::init)", &rust_seeds, "Rust (Cholesky sampler)", &sampler_values)];
    if let Some(values) = &numpy_mc {
        pairs.push(("Rust (Network::init)", &rust_seeds, "NumPy", values));
    }
    if let Some(values) = &jax_mc {
        pairs.push(("Rust (Network::init)", &rust_seeds, "JAX", values));
    }
    for (name_a, a, name_b, b) in pairs {
        let (z, ma, mb) = mean_gap(a, b);
        let ok = z.abs() <= 5.0;
        agree &= ok;
        agreement.push(format!(
            "Lem 2.2 mean of ‖H(0) − H∞‖₂ over {} seeds: {name_a} {ma:.5}, {name_b} {mb:.5}, difference {z:+.2} standard errors (band ±5) — {}",
            args.mc_seeds,
            if ok { "agree" } else { "DISAGREE" }
        ));
    }

    // Ratios and targets.
    let gemm_best = gemm.iter().map(|(_, r)| *r).fold(0.0f64, f64::max);
    let flop_time = step_flops / (gemm_best * 1e9);
    let mut rows = Vec::new();
    let mut targets_met = true;
    let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(x, y)| y / x);
    let fmt_ms = |v: Option<f64>| v.map_or("—".into(), fmt_seconds);
    let fmt_x = |v: Option<f64>| v.map_or("—".into(), |r| format!("{r:.2}×"));
    let mut target = |met: Option<bool>| -> &'static str {
        match met {
            Some(true) => "met",
            Some(false) => {
                targets_met = false;
                "MISSED"
            }
            None => "—",
        }
    };
    let r_np = ratio(rust.gd_diag, numpy.gd_diag);
    let r_jax = ratio(rust.gd_diag, jax.gd_diag);
    let diag_met = r_np.map(|r| r >= 3.0 && r_jax.is_none_or(|j| j >= 3.0));
    rows.push(format!(
        "| Fig. 1 step with diagnostics (H(k), λmin, patterns, distance), n = d = {n}, m = {m} | {} | {} | {} | {} | {} | ≥ 3× both | {} |",
        fmt_ms(rust.gd_diag),
        fmt_ms(numpy.gd_diag),
        fmt_ms(jax.gd_diag),
        fmt_x(r_np),
        fmt_x(r_jax),
        target(diag_met)
    ));
    rows.push(format!(
        "| GD step (kernel space, as the project runs it), n = d = {n}, m = {m} | {} | {} | {} | {} | {} | — | — |",
        fmt_ms(rust.gd),
        fmt_ms(numpy.gd),
        fmt_ms(jax.gd),
        fmt_x(ratio(rust.gd, numpy.gd)),
        fmt_x(ratio(rust.gd, jax.gd)),
    ));
    let flop_ratio = rust.gd.map(|t| t / flop_time);
    rows.push(format!(
        "| GD step ÷ its 2n²m FLOPs at faer's GEMM rate ({gemm_best:.0} GFLOP/s → {:.0} ms) | {} | | | | | ≤ 1.3 | {} |",
        flop_time * 1e3,
        flop_ratio.map_or("—".into(), |r| format!("{r:.2}")),
        target(flop_ratio.map(|r| r <= 1.3))
    ));
    let r_mc = ratio(numpy.seeds_per_second, rust.seeds_per_second);
    rows.push(format!(
        "| Lem 2.2 Monte Carlo as `lemmas::lem22` runs it (Z(0) from the Cholesky sampler), n = d = {}, m = {}: seeds per second | {} | {} | {} | {} | {} | ≥ 5× NumPy | {} |",
        args.mc_n,
        args.mc_m,
        fmt_rate(rust.seeds_per_second),
        fmt_rate(numpy.seeds_per_second),
        fmt_rate(jax.seeds_per_second),
        fmt_x(r_mc),
        fmt_x(ratio(jax.seeds_per_second, rust.seeds_per_second)),
        target(r_mc.map(|r| r >= 5.0))
    ));
    rows.push(format!(
        "| (reference) the sampler loop alone (`model::GaussianPreactivations` into a per-thread buffer, no engine bookkeeping): seeds per second | {} | | | {} | {} | — | — |",
        fmt_rate(Some(rust_sampler)),
        fmt_x(ratio(numpy.seeds_per_second, Some(rust_sampler))),
        fmt_x(ratio(jax.seeds_per_second, Some(rust_sampler))),
    ));
    for f in &flows {
        let r = f.numpy / f.rust;
        let goal = if f.n >= 200 { 2.0 } else { 1.0 };
        rows.push(format!(
            "| Gradient-flow step, RK4 with h = {}, n = d = {}, m = {} (Rust: kernel space, with its embedded error estimate; NumPy: plain RK4, no estimate) | {} | {} | — | {r:.2}× | — | ≥ {goal}× NumPy | {} |",
            args.flow_step,
            f.n,
            f.m,
            fmt_seconds(f.rust),
            fmt_seconds(f.numpy),
            target(Some(r >= goal))
        ));
    }
    for (case, train) in &trains {
        let r = train.numpy / train.rust;
        let steps = if case.method == "gd" { "GD iterations" } else { "RK4 steps" };
        rows.push(format!(
            "| `cargo xtask train --method {}` end to end (whole processes: start-up, inputs, {} {steps}, output), n = {}, d = {}, m = {} (Rust: {}; NumPy: `numpy_peer.py {}`) | {} | {} | — | {r:.2}× | — | ≥ 1× NumPy | {} |",
            case.method,
            case.steps,
            case.n,
            case.d,
            case.m,
            case.space(),
            case.method,
            fmt_seconds(train.rust),
            fmt_seconds(train.numpy),
            target(Some(r >= 1.0))
        ));
    }
    rows.push(format!(
        "| (reference) GD step in weight space (two n·d·m GEMMs), n = d = {n}, m = {m} | {} | | | {} | | — | — |",
        fmt_seconds(rust_weight_space),
        fmt_x(ratio(Some(rust_weight_space), numpy.gd)),
    ));

    let load_after = load_average();
    let mut md = String::new();
    md.push_str("| benchmark | Rust | NumPy | JAX | Rust vs NumPy | Rust vs JAX | target | |\n");
    md.push_str("|---|---|---|---|---|---|---|---|\n");
    for r in &rows {
        md.push_str(r);
        md.push('\n');
    }
    md.push_str(&format!(
        "\nMachine: {} threads; faer GEMM rates: {}; NumPy BLAS: {blas}; η = {eta}. Times are the best round's median over {} steps ({} rounds); ratios are peer time ÷ Rust time (for seeds per second, Rust ÷ peer).\n",
        rayon::current_num_threads(),
        gemm.iter().map(|(k, r)| format!("{k} {r:.0} GFLOP/s")).collect::<Vec<_>>().join(", "),
        args.steps,
        args.rounds,
    ));
    md.push_str(&format!(
        "Load average (1 min) before the run: {load_before:.2} (after: {load_after:.2}, which counts the run itself){}\n",
        if load_before > 1.0 {
            " — other processes were busy before the run: the ratios may be off, run again on a quiet machine"
        } else {
            ""
        }
    ));
    md.push_str(&main_job::section(&claim_times));
    md.push_str("\nAgreement:\n");
    for a in &agreement {
        md.push_str(&format!("- {a}\n"));
    }
    if args.memory {
        md.push_str(&memory_report(&data, eta)?);
    }
    println!("{md}");
    if let Some(path) = &args.markdown {
        let source = format!(
            "From one run of `cargo xtask bench-peers{}` on {} (n = d = {n}, m = {m}; Lem 2.2: n = d = {}, m = {}, {} seeds).",
            if args.memory { " --memory --markdown" } else { " --markdown" },
            utc_date_now(),
            args.mc_n,
            args.mc_m,
            args.mc_seeds,
        );
        xtask::files::write_file(path, performance_page(&format!("{source}\n\n{md}")).as_bytes())?;
        eprintln!("bench-peers: wrote {}", path.display());
    }
    Ok(if !agree || (args.require_targets && !targets_met) { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Heading that opens the run's own section of docs/performance.md.
pub const PERFORMANCE_RUN_HEADING: &str = "## The last run\n\n";
/// Heading that closes it.
pub const PERFORMANCE_AFTER_RUN_HEADING: &str = "\n## Where the time goes, and why\n";

/// The page docs/performance.md around the Markdown of one run (`run`: where it comes from, the
/// table, the agreement, optionally the memory figures). The text outside `run` explains the
/// method and holds no measured number.
pub fn performance_page(run: &str) -> String {
    let mut page = String::from(
        "# Performance

<!-- Written by `cargo xtask bench-peers --markdown`; the next run replaces it. -->

One command times the project's own code paths against NumPy and JAX peers that do the same
computations on the same inputs, prints the ratios and checks that the three agree:

```sh
python3 -m pip install -r peers/requirements.txt
cargo xtask bench-peers --markdown      # add --memory for the paper-scale Fig. 1 peak memory
```

It writes the inputs (X, y, W(0), a) as `.npy` files, runs `peers/numpy_peer.py` and
`peers/jax_peer.py` on them (with `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` removed from their
environment only, so that OpenBLAS picks its own kernel), alternates Rust, NumPy and JAX over
several rounds, and reports each one's best round (median over its steps). Agreement is checked
every run: the GD trajectories (loss, λmin(H(k)), pattern-change fraction, max distance) to a
relative 10⁻⁸, the Lem 2.2 statistics of one given W(0) to 10⁻⁹, and the Lem 2.2 seed means
within five standard errors (the generators differ, so only the laws can agree). The command exits
with status 1 on a disagreement (and, with `--require-targets`, on a missed target). Criterion
benches of each kernel: `cargo bench -p model`, `cargo bench -p descent` and `cargo bench -p flow`.

The peers are plain NumPy/JAX code for the formulas of docs/theory.md §1.1: the first-layer GD step
W ← W − η Dᵀ X with Z = X Wᵀ (two GEMMs), and for Fig. 1 at every iterate H(k) = K ⊙ (S Sᵀ)/m (a
GEMM on the 0/1 pattern matrix), `eigvalsh`, the pattern-change fraction and max_r ‖w_r − w_r(0)‖.
The project runs the same iteration in kernel space (docs/theory.md §4.1). The gradient-flow rows
time one RK4 step of dW/dt = −∂L/∂W at the same h on the same inputs: NumPy's is plain RK4 (four
evaluations, two GEMMs each), the project's runs in kernel space with the lazy step (the same RK4
step to rounding for about one n×n×m GEMM: the ReLU pattern is frozen where it provably cannot
change within the step and corrected exactly where it might, docs/theory.md §4.1) and also
computes its embedded error estimate, which NumPy does not; the loss at every grid point and u(T)
must agree to a relative 10⁻⁸. The `train` row times whole processes, start-up and file I/O
included: `cargo xtask train --method flow` on `.npy` inputs against `numpy_peer.py flow` on the
same files, at a small size (d < n, so the weight-space path) where thread wake-ups or a slow
start would show; the final losses must agree to 10⁻⁸. Last, the run times each claim of the
main job (`cargo xtask verify-lemmas`, quick profile) beside the forecast its plan line prints.

",
    );
    page.push_str(PERFORMANCE_RUN_HEADING);
    page.push_str(run.trim_end());
    page.push('\n');
    page.push_str(PERFORMANCE_AFTER_RUN_HEADING);
    page.push_str(
        "
- **Kernel-space step, fused** (docs/theory.md §4.1). Z ← Z − η K D is one 2n²m GEMM instead of
  two 2ndm GEMMs. The step runs per column block of neurons: build D for the block from the packed
  signs of Z (in cache for 64 neurons), one sequential faer GEMM, then one pass that updates C, Z
  and the running distances q_r, packs the new patterns, adds the block's share of u(k+1) and
  checks finiteness. Z is read and written once per step; D and P exist only per block
  (per-thread scratch). The elementwise kernels are compiled for
  AVX-512/AVX2 at run time (`model::simd`), with the arithmetic unchanged.
- **H(k) from bits** (docs/theory.md §4.2). Patterns are packed word-major (64 neurons per word),
  so the step packs them in place; S Sᵀ is AND + popcount in register tiles (AVX-512 `vpopcntq`
  when present), exact. After the first H(k) of a run the state keeps the counts S Sᵀ and each
  step updates them from the entries it flipped, O(n) per flip, so H(k) is one O(n²) pass; the
  Fig. 1 row's diagnostics are then mostly the two Cholesky factorisations of the warm λmin.
  The recorder also takes the gap to u∞(k) (O(n²)), which the peers do not.
- **Warm-started λmin** (docs/theory.md §4.4). After the first dense solve, a Cholesky factor of
  A − σI certifies λmin > σ, inverse iteration from the previous eigenvector gives θ, and θ is
  accepted only with a small residual and a second successful Cholesky just below θ; otherwise the
  dense solver answers.
- **Random numbers.** `Network::init` draws from the same ChaCha8 streams through a sixteen-block
  vectorised block function (`model::chacha`) and a fast path of rand_distr's ziggurat; both are
  checked draw for draw against `rand_chacha` and `rand_distr`.
- **Lem 2.2 sampler** (docs/theory.md §4.3). `model::GaussianPreactivations` draws Z(0) from its
  law, z_r = L ξ_r with K = L Lᵀ (d ≥ n), from its own stream: the same distribution as
  `Network::init` followed by X Wᵀ, not the same bits.
- **Buffers are reused, not reallocated.** The RK4 driver hands every intermediate state back
  to its vector field (`VectorField::recycle`) and takes copies from it (`duplicate`); the
  kernel-space fields keep a small pool of n × m buffers (`flow::MatPool`), so a run allocates
  its buffers once. Lem 2.2 draws each seed's Z(0) into a per-thread buffer. Fresh n × m buffers
  per stage cost more than the arithmetic at the quick profile's sizes: every page faulted in
  again, and the quick profile took 118 s instead of 69 s.
- **Determinism** (docs/theory.md §4.5). Fixed column blocks with sequential faer calls inside and
  ordered reductions; sequential eigenvalue and Cholesky work; integer counts. The same seed gives
  the same bits on 1 and 2 threads.

## Memory

The kernel-space state keeps Z and C (n × m each), the running distances and two packed pattern
matrices: about 16n + 8 + n/4 bytes per neuron, plus W(0) at 8d bytes per neuron held by the
network. With `--memory` the run above also reports the peak resident memory of
`cargo xtask figure1 --profile paper` and the state's size at each of its widths.
",
    );
    page
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock.
fn utc_date_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    civil_date((secs / 86_400) as i64)
}

/// The civil date (proleptic Gregorian, YYYY-MM-DD) of `days` since 1970-01-01.
fn civil_date(days: i64) -> String {
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The 1-minute load average (Linux), or NaN.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

fn fmt_seconds(s: f64) -> String {
    if s >= 0.01 { format!("{:.0} ms", s * 1e3) } else { format!("{:.2} ms", s * 1e3) }
}

fn fmt_rate(v: Option<f64>) -> String {
    v.map_or("—".into(), |s| format!("{s:.0} /s"))
}

/// η of `figure1`: 1/λmax(H∞) rounded down to two significant digits.
fn fig1_eta(data: &Dataset) -> Result<f64, CommandError> {
    let raw = 1.0 / lambda_max(h_infinity(data.input_gram()).as_ref())?;
    let scale = 10f64.powi(raw.log10().floor() as i32 - 1);
    Ok((raw / scale).floor() * scale)
}

/// GFLOP/s of faer's GEMM here: a 2000³ product with faer's own parallelism, and the step's
/// K · D shape (1000 × 1000 by 1000 × 10⁴) through the project's blocked `matmul_par`; best of
/// three each (measured every round; the best round counts).
fn gemm_rates() -> Vec<(String, f64)> {
    let best = |f: &mut dyn FnMut()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let s = 2000;
    let a = Mat::<f64>::from_fn(s, s, |i, j| ((i * 7 + j * 3) % 13) as f64 - 6.0);
    let mut c = Mat::<f64>::zeros(s, s);
    let t = best(&mut || {
        faer::linalg::matmul::matmul(c.as_mut(), Accum::Replace, a.as_ref(), a.as_ref(), 1.0, Par::rayon(0))
    });
    let square = 2.0 * (s as f64).powi(3) / t / 1e9;
    let (n, m) = (1000, 10_000);
    let k = Mat::<f64>::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 13) as f64 - 6.0);
    let d = Mat::<f64>::from_fn(n, m, |i, j| ((i * 5 + j) % 7) as f64 - 3.0);
    let mut p = Mat::<f64>::zeros(n, m);
    let t = best(&mut || model::par::matmul_par(p.as_mut(), Accum::Replace, k.as_ref(), d.as_ref(), 1.0));
    let step_shape = 2.0 * (n * n * m) as f64 / t / 1e9;
    vec![("2000³ faer".into(), square), ("1000×1000·1000×10⁴ blocked".into(), step_shape)]
}

/// The median; NaN for an empty list (a peer that printed no timings), which the tables show as
/// such instead of panicking.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k == 0 {
        f64::NAN
    } else if k % 2 == 1 {
        v[k / 2]
    } else {
        0.5 * (v[k / 2 - 1] + v[k / 2])
    }
}

/// The project's timings: GD step and GD step with the Fig. 1 recorder (kernel space, as
/// `figure1` runs it), the weight-space step, and the real Lem 2.2 check's seeds per second.
fn rust_timings(
    data: &Dataset,
    net: &Network,
    eta: f64,
    steps: usize,
    mc_cfg: &CheckConfig,
) -> Result<(Timings, Trajectory, f64), CommandError> {
    let dyn_err = |e: descent::DescentError| CommandError::Input(e.to_string());
    let config = |method| DescentConfig {
        learning_rate: LearningRate::Fixed(eta),
        iterations: steps,
        method,
        ..DescentConfig::default()
    };
    let problem = Problem::new(data, net, &config(Method::KernelSpace)).map_err(dyn_err)?;
    // The plain step.
    let mut state = problem.initial_state().map_err(dyn_err)?;
    let mut times = Vec::new();
    for _ in 0..steps {
        let t = Instant::now();
        problem.step(&mut state).map_err(dyn_err)?;
        times.push(t.elapsed().as_secs_f64());
    }
    let gd = median(times);
    drop(state);
    // The step with the Fig. 1 diagnostics, through the recorder (λmin warm-started).
    // (The recorder also takes the gap to u∞(k), O(n²) a sample, from H∞'s eigendecomposition made
    // here, before the clock.)
    let reference = problem.infinite_width().map_err(dyn_err)?;
    let mut recorder = Recorder::new(reference, RecorderOptions { lambda_min_every: 1, keep_u: false });
    let mut state = problem.initial_state().map_err(dyn_err)?;
    recorder.observe(&descent::View { problem: &problem, state: &state, sample_index: 0 }).map_err(dyn_err)?;
    let mut times = Vec::new();
    for k in 1..=steps {
        let t = Instant::now();
        problem.step(&mut state).map_err(dyn_err)?;
        recorder.observe(&descent::View { problem: &problem, state: &state, sample_index: k }).map_err(dyn_err)?;
        times.push(t.elapsed().as_secs_f64());
    }
    let gd_diag = median(times);
    drop(state);
    let samples = recorder.into_trajectory().samples;
    let traj = Trajectory {
        loss: samples.iter().map(|s| s.loss).collect(),
        lambda_min: samples.iter().map(|s| s.lambda_min_h.unwrap_or(f64::NAN)).collect(),
        fraction: samples.iter().map(|s| s.pattern_change_fraction).collect(),
        distance: samples.iter().map(|s| s.max_weight_distance).collect(),
    };
    // The weight-space step (reference).
    let ws_problem = Problem::new(data, net, &config(Method::WeightSpace)).map_err(dyn_err)?;
    let mut state = ws_problem.initial_state().map_err(dyn_err)?;
    let t = Instant::now();
    ws_problem.step(&mut state).map_err(dyn_err)?;
    let weight_space = t.elapsed().as_secs_f64();
    drop(state);
    // The Lem 2.2 Monte Carlo, as `verify-lemmas` runs it.
    let t = Instant::now();
    lemmas::check(lemmas::ClaimId::Lem22, mc_cfg, &NoProgress)?;
    let seeds_per_second = mc_cfg.seeds as f64 / t.elapsed().as_secs_f64();
    Ok((Timings { gd: Some(gd), gd_diag: Some(gd_diag), seeds_per_second: Some(seeds_per_second) }, traj, weight_space))
}

/// Seeds per second of the Lem 2.2 per-seed statistics when Z(0) comes from the Cholesky sampler
/// (seeds in parallel, one reused Z buffer per thread), and ‖H(0) − H∞‖₂ per seed.
fn sampler_seeds(data: &Dataset, m: usize, seeds: u64, master_seed: u64) -> Result<(f64, Vec<f64>), CommandError> {
    use rayon::prelude::*;
    thread_local! {
        static Z: std::cell::RefCell<Mat<f64>> = std::cell::RefCell::new(Mat::zeros(0, 0));
    }
    let sampler = GaussianPreactivations::new(data);
    let hinf = h_infinity(data.input_gram());
    let n = data.n();
    let t = Instant::now();
    let values: Vec<(f64, f64, f64)> = (0..seeds)
        .into_par_iter()
        .map(|trial| {
            // Out of the slot for the draw (which runs on rayon: a waiting worker may start another
            // seed on this thread), back in after, as `lemmas::lem22` does.
            let mut z = Z.with_borrow_mut(|slot| std::mem::replace(slot, Mat::zeros(0, 0)));
            if z.nrows() != n || z.ncols() != m {
                z = Mat::zeros(n, m);
            }
            sampler.sample_into(z.as_mut(), master_seed, trial);
            let h = gram_h_from_patterns(data.input_gram(), &PatternBits::from_preactivations(z.as_ref()));
            Z.set(z);
            let diff = &h - &hinf;
            let entry =
                (0..n).flat_map(|j| (0..n).map(move |i| (i, j))).fold(0.0f64, |a, (i, j)| a.max(diff[(i, j)].abs()));
            Ok((spectral_norm_symmetric(diff.as_ref())?, entry, lambda_min(h.as_ref())?))
        })
        .collect::<Result<_, model::ModelError>>()?;
    let rate = seeds as f64 / t.elapsed().as_secs_f64();
    Ok((rate, values.into_iter().map(|v| v.0).collect()))
}

/// ‖H(0) − H∞‖₂, max_ij |H(0) − H∞| and λmin(H(0)) of one network, as `lemmas::lem22` computes them.
fn lem22_seed(data: &Dataset, hinf: &Mat<f64>, net: &Network) -> Result<(f64, f64, f64), CommandError> {
    let z = preactivations(data.x(), net.w.as_ref());
    let h = gram_h(data.input_gram(), z.as_ref(), net.a.as_ref());
    let diff = &h - hinf;
    let n = data.n();
    let entry = (0..n).flat_map(|j| (0..n).map(move |i| (i, j))).fold(0.0f64, |a, (i, j)| a.max(diff[(i, j)].abs()));
    Ok((spectral_norm_symmetric(diff.as_ref())?, entry, lambda_min(h.as_ref())?))
}

struct Python {
    exe: String,
    peers: PathBuf,
    inputs: PathBuf,
}

impl Python {
    fn call(&self, script: &str, args: &[&str]) -> Result<Value, CommandError> {
        let out = Command::new(&self.exe)
            .arg(self.peers.join(script))
            .args(args)
            .arg("--inputs")
            .arg(&self.inputs)
            .env_remove("OPENBLAS_CORETYPE")
            .env_remove("OPENBLAS_L2_SIZE")
            .output()
            .map_err(|e| CommandError::Input(format!("cannot run {} {script}: {e}", self.exe)))?;
        if !out.status.success() {
            return Err(CommandError::Input(format!(
                "{script} {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
        serde_json::from_str(line).map_err(|e| CommandError::Input(format!("{script}: unreadable output ({e})")))
    }
}

fn num(v: &Value, key: &str) -> Result<f64, CommandError> {
    v.get(key).and_then(Value::as_f64).ok_or_else(|| CommandError::Input(format!("peer output lacks '{key}'")))
}

fn nums(v: &Value, key: &str) -> Result<Vec<f64>, CommandError> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .ok_or_else(|| CommandError::Input(format!("peer output lacks '{key}'")))
}

/// A peer's GD, GD + diagnostics and Lem 2.2 timings, its trajectory and its seed values.
fn peer_timings(
    python: &Python,
    script: &str,
    gd_args: &dyn Fn(&'static str) -> Vec<String>,
    mc_args: &[String],
) -> Result<(Timings, Trajectory, Vec<f64>), CommandError> {
    let call = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        python.call(script, &refs)
    };
    let gd = call(gd_args("gd"))?;
    let diag = call(gd_args("gd-diag"))?;
    let mc = call(mc_args.to_vec())?;
    let seed_seconds = nums(&mc, "seed_seconds")?;
    let timings = Timings {
        gd: Some(median(nums(&gd, "step_seconds")?)),
        gd_diag: Some(median(nums(&diag, "step_seconds")?)),
        seeds_per_second: Some(seed_seconds.len() as f64 / seed_seconds.iter().sum::<f64>()),
    };
    let traj = Trajectory {
        loss: nums(&diag, "losses")?,
        lambda_min: nums(&diag, "lambda_min_h")?,
        fraction: nums(&diag, "pattern_change_fraction")?,
        distance: nums(&diag, "max_weight_distance")?,
    };
    Ok((timings, traj, nums(&mc, "spectral")?))
}

fn relative(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() / a.abs().max(b.abs()).max(1e-300) }
}

/// Largest gap per quantity: relative for loss, λmin and distance (absolute below 10⁻¹²), and for
/// the pattern-change fraction the absolute gap (a fraction of mn entries).
fn trajectory_gap(a: &Trajectory, b: &Trajectory) -> Vec<(&'static str, f64)> {
    let gap = |x: &[f64], y: &[f64], abs: bool| -> f64 {
        if x.len() != y.len() {
            return f64::INFINITY;
        }
        x.iter()
            .zip(y)
            .map(|(&p, &q)| if abs || p.abs().max(q.abs()) < 1e-12 { (p - q).abs() } else { relative(p, q) })
            .fold(0.0, f64::max)
    };
    vec![
        ("loss", gap(&a.loss, &b.loss, false)),
        ("λmin(H(k))", gap(&a.lambda_min, &b.lambda_min, false)),
        ("pattern-change fraction", gap(&a.fraction, &b.fraction, true)),
        ("max distance", gap(&a.distance, &b.distance, false)),
    ]
}

/// (difference of means in combined standard errors, mean a, mean b).
fn mean_gap(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let stats = |v: &[f64]| {
        let k = v.len() as f64;
        let mean = v.iter().sum::<f64>() / k;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
        (mean, var / k)
    };
    let ((ma, va), (mb, vb)) = (stats(a), stats(b));
    ((ma - mb) / (va + vb).sqrt().max(1e-300), ma, mb)
}

/// Peak memory of the paper-scale Fig. 1 run (a child `xtask figure1 --profile paper` under
/// /usr/bin/time -v) and the descent state's size per width.
fn memory_report(data: &Dataset, eta: f64) -> Result<String, CommandError> {
    let mut out = String::from("\nMemory (paper-scale Fig. 1: n = d = 1000, widths 1000…16000, 100 iterations):\n");
    let exe = std::env::current_exe()?;
    let tmp = std::env::temp_dir().join(format!("du-bench-peers-fig1-{}", std::process::id()));
    let t = Instant::now();
    let run = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(&exe)
        .args(["figure1", "--profile", "paper", "--out"])
        .arg(&tmp)
        .output();
    let _ = std::fs::remove_dir_all(&tmp);
    match run {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stderr);
            let kib = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
                .and_then(|v| v.trim().parse::<f64>().ok());
            out.push_str(&format!(
                "- peak resident memory of `cargo xtask figure1 --profile paper`: {} ({:.0} s)\n",
                kib.map_or("unknown".into(), |k| format!("{:.0} MiB", k / 1024.0)),
                t.elapsed().as_secs_f64()
            ));
        }
        Ok(o) => out.push_str(&format!(
            "- the Fig. 1 run failed: {}\n",
            String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
        )),
        Err(e) => out.push_str(&format!("- /usr/bin/time unavailable: {e}\n")),
    }
    out.push_str("- descent state per width (kernel space: Z and C, n × m each, distances, patterns of k and 0), plus W(0) (m × d) kept by the network:\n\n");
    out.push_str("| m | state | W(0) | state bytes per neuron |\n|---|---|---|---|\n");
    let n = data.n();
    for m in [1_000usize, 2_000, 4_000, 8_000, 16_000] {
        let sub = Network::init(m, data.d(), SEED, 1)?;
        let config =
            DescentConfig { learning_rate: LearningRate::Fixed(eta), iterations: 1, ..DescentConfig::default() };
        let problem = Problem::new(data, &sub, &config).map_err(|e| CommandError::Input(e.to_string()))?;
        let state = problem.initial_state().map_err(|e| CommandError::Input(e.to_string()))?;
        let bytes = state.heap_bytes();
        out.push_str(&format!(
            "| {m} | {:.1} MiB | {:.1} MiB | {:.0} (≈ 16n + 8 + n/4 for n = {n}) |\n",
            bytes as f64 / (1 << 20) as f64,
            (m * sub.d() * 8) as f64 / (1 << 20) as f64,
            bytes as f64 / m as f64
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::civil_date;

    #[test]
    fn civil_dates_match_the_calendar() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_788), "2026-12-01");
    }
}
