//! Resource estimates made before a long command starts (time, memory, disk including checkpoint growth), and the limits that refuse a flag scaled without bound.
//!
//! The estimates are deliberately rough (a factor of a few) but computed from the configuration,
//! never guessed per run: memory from the same per-seed state bound `verify-lemmas` refuses on
//! (`lemmas::engine::seed_state_bytes`), disk from the serialised size of a worst-case checkpoint
//! line, time from a flop count at a stated throughput. A command whose estimate passes a limit is
//! refused up front with the estimate in the message.

use lemmas::result::{Observation, Outcome};
use lemmas::{CheckConfig, ClaimId, SeedOutcome};

use crate::UserError;
use crate::checkpoint::SeedLine;

/// Most disk a run's checkpoint may be expected to take (64 GiB).
pub const DISK_LIMIT_BYTES: u64 = 64 << 30;

/// Most seeds one run may schedule (all claims, widths and bisection steps together).
pub const SEED_LIMIT: u64 = 100_000_000;

/// Longest run accepted by the flop bound (a year on all threads): past it a flag was surely
/// mistyped. The bound counts dense work without the kernel-space and sampler shortcuts, so it
/// overestimates (the quick profile's bound is hours, its run minutes); it is a refusal threshold,
/// not a forecast.
pub const TIME_LIMIT_SECONDS: f64 = 365.0 * 86_400.0;

/// Assumed sustained throughput of one thread on the dense kernels, in flop/s (a plain release
/// build reaches about 33 GFLOP/s per core on large GEMMs; the mixed work of a seed runs slower).
pub const FLOPS_PER_THREAD: f64 = 2e9;

/// Flops per n² counted for one update of an active neuron by the reduced solver (stage
/// pre-activations K g, gradients, outputs, the exact observables, Thm 3.1's audit): Thm 3.1's
/// proof-width seeds took about 60 ns per update at n = 2, 120 flops at [`FLOPS_PER_THREAD`].
pub const REDUCED_FLOPS_PER_UPDATE: f64 = 30.0;

/// Most trajectory samples `train` keeps in memory; longer runs are decimated (see `data::train`).
pub const MAX_TRAIN_SAMPLES: usize = 100_000;

/// Most worker threads accepted: this many per core (more only adds switching).
pub const THREADS_PER_CORE: usize = 8;

/// What a command is expected to take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Seeds (or steps) of work.
    pub work: u64,
    /// Wall time on `threads` threads by the flop bound, seconds (an overestimate).
    pub seconds: f64,
    /// Peak memory, bytes.
    pub memory_bytes: u64,
    /// Disk written (for verify-lemmas: the checkpoint at its largest), bytes.
    pub disk_bytes: u64,
}

/// Bytes of one checkpoint line at its largest: a seed line with 16 events and 16 values under
/// 40-character keys, every float written with all 17 significant digits and a 3-digit exponent
/// (no claim has more events, values or longer keys).
pub fn checkpoint_line_bytes(claim: ClaimId, m: usize, trial: u64) -> u64 {
    let x = -1.234_567_890_123_456_7e-300;
    let obs = Observation { outcome: Outcome::WithinBand, measured: x, bound: x, slack: x, band: x, time: Some(x) };
    let key = |k: usize| format!("{k:02}-{}", "k".repeat(37));
    let outcome = (0..16).fold(SeedOutcome::default(), |o, k| o.event(&key(k), obs).value(&key(k), x));
    let line = SeedLine { claim, fingerprint: "0123456789abcdef".into(), m, trial, outcome };
    serde_json::to_string(&line).expect("a seed line serialises").len() as u64 + 1
}

/// Seeds a claim's configuration schedules: every seed at every sweep width and bisection width.
pub fn claim_seeds(cfg: &CheckConfig) -> u64 {
    cfg.seeds.saturating_mul(cfg.widths.len() as u64 + u64::from(cfg.bisection_steps))
}

/// Flops of one seed at width m: forward and backward passes cost about 4·n·m·d each, the Gram
/// matrices about 2·n²·m; a run takes max(iterations, horizon/step) of them (at least 1).
fn seed_flops(cfg: &CheckConfig, m: usize) -> f64 {
    if cfg.solver == lemmas::Solver::Reduced {
        // The reduced solver (docs/theory.md §5): about eight passes over the stream (run and
        // shadow, with budget growths), each d normals (≈ 20 flops) and an n × d product per neuron;
        // then the dynamics, REDUCED_FLOPS_PER_UPDATE · n² per update of an active neuron.
        let n = cfg.n as f64;
        let dynamics = lemmas::reduced_flow::active_updates(cfg, m).unwrap_or(0.0) * REDUCED_FLOPS_PER_UPDATE * n * n;
        return 8.0 * m as f64 * (cfg.d as f64 * (20.0 + n)) + dynamics;
    }
    let (n, d, m) = (cfg.n as f64, cfg.d as f64, m as f64);
    let steps = if cfg.step > 0.0 && cfg.horizon.is_finite() { cfg.horizon / cfg.step } else { f64::INFINITY };
    let steps = steps.max(cfg.iterations as f64).max(1.0);
    // RK4 takes four evaluations per step; count them for every claim (an upper estimate for GD).
    4.0 * steps * (8.0 * n * m * d + 2.0 * n * n * m)
}

/// The estimate of a `verify-lemmas` plan on `threads` threads.
pub fn plan_estimate(plan: &[(ClaimId, CheckConfig)], threads: usize) -> Estimate {
    let mut work = 0u64;
    let mut flops = 0.0;
    let mut memory = 0u64;
    let mut disk = 0u64;
    for (claim, cfg) in plan {
        let widest = cfg.widths.iter().copied().max().unwrap_or(0);
        work = work.saturating_add(claim_seeds(cfg));
        for &m in &cfg.widths {
            flops += cfg.seeds as f64 * seed_flops(cfg, m);
        }
        // The bisection widths lie below the widest sweep width.
        flops += cfg.seeds as f64 * f64::from(cfg.bisection_steps) * seed_flops(cfg, widest);
        let state = lemmas::engine::seed_state_bytes(cfg, widest);
        memory = memory.max(state.saturating_mul(threads.min(cfg.seeds.max(1) as usize) as u64));
        disk = disk.saturating_add(claim_seeds(cfg).saturating_mul(checkpoint_line_bytes(*claim, widest, cfg.seeds)));
    }
    Estimate {
        work,
        seconds: flops / (FLOPS_PER_THREAD * threads.max(1) as f64),
        memory_bytes: memory,
        disk_bytes: disk,
    }
}

/// Refuses a plan whose seeds, disk or time pass the limits, naming the estimate and the flag.
pub fn check_plan(e: &Estimate) -> Result<(), UserError> {
    if e.work > SEED_LIMIT {
        return Err(UserError(format!(
            "the run would compute {} seeds (more than {SEED_LIMIT}), its checkpoint would grow to up to about {} and it would take up to about {} by a flop bound: lower --seeds or --widths",
            e.work,
            bytes(e.disk_bytes),
            duration(e.seconds)
        )));
    }
    if e.disk_bytes > DISK_LIMIT_BYTES {
        return Err(UserError(format!(
            "the run's checkpoint would grow to about {} (more than {}): lower --seeds or --widths",
            bytes(e.disk_bytes),
            bytes(DISK_LIMIT_BYTES)
        )));
    }
    // Written so that a NaN estimate is refused too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(e.seconds <= TIME_LIMIT_SECONDS) {
        return Err(UserError(format!(
            "the run would take up to about {} by a flop bound (more than {}): lower --seeds or --widths, or raise the step",
            duration(e.seconds),
            duration(TIME_LIMIT_SECONDS)
        )));
    }
    if let Some(total) = machine_memory_bytes()
        && e.memory_bytes > total
    {
        return Err(UserError(format!(
            "the run would hold about {} at once (its seeds in flight on every thread), more than this machine's {}: lower --threads or --widths",
            bytes(e.memory_bytes),
            bytes(total)
        )));
    }
    Ok(())
}

/// The machine's memory (`MemTotal` of /proc/meminfo), where the system says it.
pub fn machine_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = text.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim();
    kib.parse::<u64>().ok().map(|k| k.saturating_mul(1024))
}

/// Validates what each claim derives from its configuration before anything is written: the
/// memory of its data's n × n matrices (K, H∞ and two eigensolver workspaces) and the data set
/// itself, built once (orthonormal inputs need d ≥ n, sphere inputs d ≥ 2, …). Seeds then cannot
/// fail on these after the run has started.
/// Call [`check_data_memory`] and [`check_plan`] first: this allocates the data.
pub fn check_data(plan: &[(ClaimId, CheckConfig)]) -> Result<(), UserError> {
    for (claim, cfg) in plan {
        lemmas::make_data(cfg).map_err(|e| UserError(format!("{}: {e}", claim.slide())))?;
    }
    Ok(())
}

/// The memory of each claim's data (four n × n f64 matrices), checked before any estimate of time.
pub fn check_data_memory(plan: &[(ClaimId, CheckConfig)]) -> Result<(), UserError> {
    for (claim, cfg) in plan {
        let n = cfg.n as u64;
        model::network::ensure_fits(
            &format!("the data of n = {} inputs (four {} × {} f64 matrices)", cfg.n, cfg.n, cfg.n),
            n.saturating_mul(n).saturating_mul(4 * 8),
        )
        .map_err(|e| UserError(format!("{}: {e}", claim.slide())))?;
    }
    Ok(())
}

/// The one-line plan `verify-lemmas` prints before it starts.
pub fn plan_line(profile: lemmas::Profile, plan: &[(ClaimId, CheckConfig)], e: &Estimate, threads: usize) -> String {
    let claims: Vec<&str> = plan.iter().map(|(c, _)| c.key()).collect();
    let widest = plan.iter().flat_map(|(_, c)| c.widths.iter().copied()).max().unwrap_or(0);
    format!(
        "plan: {} claims ({}), profile {}, largest width m = {widest}, {} seeds; time at most about {} on {threads} threads (a flop bound; the bars show the real rate), {} of memory, checkpoint up to {}",
        plan.len(),
        claims.join(", "),
        profile.name(),
        e.work,
        duration(e.seconds),
        bytes(e.memory_bytes),
        bytes(e.disk_bytes)
    )
}

/// The number of cores, as rayon sees them.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Checks a `--threads` value: at least 1 and at most [`THREADS_PER_CORE`] × the cores.
pub fn check_threads(threads: usize) -> Result<(), UserError> {
    let cap = THREADS_PER_CORE * cores();
    if threads == 0 {
        return Err(UserError("--threads must be at least 1".into()));
    }
    if threads > cap {
        return Err(UserError(format!(
            "--threads {threads}: this machine has {} cores; use at most {cap} ({THREADS_PER_CORE} per core; results do not depend on it)",
            cores()
        )));
    }
    Ok(())
}

/// Bytes in the largest fitting unit, e.g. "3.2 GiB".
pub fn bytes(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{b} B") } else { format!("{v:.1} {}", units[u]) }
}

/// Seconds as a short duration, e.g. "40 s", "12 min", "3.5 h", "2.0e6 days".
pub fn duration(s: f64) -> String {
    if !s.is_finite() {
        "forever (a step count past f64)".into()
    } else if s < 90.0 {
        format!("{:.0} s", s.max(1.0))
    } else if s < 5400.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 2.0 * 86_400.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s < 1e5 * 86_400.0 {
        format!("{:.0} days", s / 86_400.0)
    } else {
        format!("{:.1e} days", s / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_readable() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(duration(40.0), "40 s");
        assert_eq!(duration(7200.0), "2.0 h");
    }

    /// The profiles themselves are never refused (their estimates stay inside every limit).
    #[test]
    fn every_profile_passes_its_own_estimate() {
        for profile in
            [lemmas::Profile::Tiny, lemmas::Profile::Quick, lemmas::Profile::Paper, lemmas::Profile::ProofWidth]
        {
            let claims = profile.claims().unwrap_or(ClaimId::ALL);
            let plan: Vec<_> = claims.iter().map(|&c| (c, profile.config(c))).collect();
            let e = plan_estimate(&plan, 2);
            eprintln!("{}: {}", profile.name(), plan_line(profile, &plan, &e, 2));
            check_plan(&e).unwrap();
            check_data_memory(&plan).unwrap();
        }
    }

    #[test]
    fn a_billion_seeds_is_refused_with_its_disk_estimate() {
        let mut cfg = lemmas::Profile::Tiny.config(ClaimId::ALL[0]);
        cfg.seeds = 1_000_000_000;
        let e = plan_estimate(&[(ClaimId::ALL[0], cfg)], 2);
        let msg = check_plan(&e).unwrap_err().0;
        assert!(msg.contains("seeds") && msg.contains("TiB"), "{msg}");
        let cfg = lemmas::Profile::Tiny.config(ClaimId::ALL[0]);
        assert!(check_plan(&plan_estimate(&[(ClaimId::ALL[0], cfg)], 2)).is_ok());
    }
}
