//! `cargo xtask scaling`: the width-threshold sweeps of docs/theory.md §6, checkpointed per seed, resumable, shardable.
//!
//! The sweeps are threshold searches over n, δ and d, with exponent fits and the proofs' exponents
//! beside them; a run is shardable by configuration, and its record is under docs/scaling/.
//! The checkpoint `scaling-checkpoint[-shard-K-of-N].jsonl` in `--out` is JSON lines: a header,
//! then one line per finished seed keyed by its point (claim, event, n, d, δ and a fingerprint of
//! the whole configuration), width and trial. Because a key names everything the seed's outcome
//! depends on, a checkpoint serves any plan: a run restricted with `--claims` and a later full run
//! with `--resume` share their seeds. Outcomes round-trip through JSON bit for bit (each line is
//! read back and compared before it is written), so a resumed or merged run writes the same bytes.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use lemmas::scaling::{
    PointProgress, PointStore, ScalingContext, ScalingPlan, ScalingProfile, ScalingResult, run_plan,
};
use lemmas::threshold::ClaimThreshold;
use lemmas::{ClaimId, LemmaError, SeedOutcome, Shard};
use serde::{Deserialize, Serialize};

use crate::files::write_file;
use crate::{CommandError, VERSION};

/// Version of the checkpoint format.
pub const FORMAT: u32 = 1;

/// Options of `scaling`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Profile. `scaling`: scaling (the record, ≤ 90 min on 2 cores, resumable), scaling-quick
    /// (n ≤ 16, minutes), scaling-test (seconds; what the tests run). `hardest`: hardest (the
    /// record), hardest-quick (seconds). Default: the command's name.
    #[arg(long)]
    pub profile: Option<String>,
    /// Output folder (default docs/<profile>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these claims' series, comma-separated (e.g. lem-2.2,lem-2.3).
    #[arg(long, value_delimiter = ',')]
    pub claims: Option<Vec<String>>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::parse::parse_usize_count)]
    pub threads: Option<usize>,
    /// Continue from the checkpoint in --out (finished seeds are not redone).
    #[arg(long)]
    pub resume: bool,
    /// Run only the configurations whose index is K mod N, keeping their seeds in the shard's
    /// checkpoint; combine the shards with --merge.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Shard checkpoints to take seeds from (a merge: the results are those of one process).
    #[arg(long, value_delimiter = ',', value_name = "FILES")]
    pub merge: Vec<PathBuf>,
    /// Keep the checkpoint after the reports are written (it is deleted otherwise).
    #[arg(long)]
    pub keep_checkpoint: bool,
    /// Write the pages of the record in --out again from its results.json, running no seed (after
    /// a change to the pages' wording); results.json is rewritten in the current format.
    #[arg(long, conflicts_with_all = ["resume", "shard", "merge"])]
    pub render: bool,
}

/// The first line of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    format: u32,
    kind: String,
    shard: Option<Shard>,
}

/// One finished seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SeedLine {
    point: String,
    m: usize,
    trial: u64,
    outcome: SeedOutcome,
}

type Key = (String, usize, u64);

/// The checkpoint file of a scaling run or shard in `out`.
pub fn checkpoint_path(out: &Path, shard: Option<Shard>) -> PathBuf {
    match shard {
        None => out.join("scaling-checkpoint.jsonl"),
        Some(s) => out.join(format!("scaling-checkpoint-shard-{}-of-{}.jsonl", s.index, s.count)),
    }
}

/// Reads a checkpoint's seeds; a last line cut short by a kill is ignored. Returns the header, the
/// seeds and the length of the complete lines.
fn load(path: &Path) -> Result<(Header, HashMap<Key, SeedOutcome>, u64), CommandError> {
    let bytes =
        std::fs::read(path).map_err(|e| CommandError::Input(format!("{}: cannot read it ({e})", path.display())))?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    // complete is rposition(\n) + 1 or 0, ≤ bytes.len().
    let text = std::str::from_utf8(&bytes[..complete])
        .map_err(|e| CommandError::Input(format!("{}: not UTF-8 ({e}): delete it and rerun", path.display())))?;
    let mut lines = text.lines();
    let header: Header = lines
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .filter(|h: &Header| h.kind == "scaling-checkpoint")
        .ok_or_else(|| {
            CommandError::Input(format!(
                "{} is not a scaling checkpoint: delete it or pass another file",
                path.display()
            ))
        })?;
    if header.format != FORMAT {
        return Err(CommandError::Input(format!(
            "{} has format {}, this program reads {FORMAT}: rerun with this version",
            path.display(),
            header.format
        )));
    }
    let mut seeds = HashMap::new();
    for (i, l) in lines.enumerate() {
        let s: SeedLine = serde_json::from_str(l).map_err(|e| {
            CommandError::Input(format!(
                "{} line {} is corrupt ({e}): delete the file and rerun",
                path.display(),
                i + 2
            ))
        })?;
        seeds.insert((s.point, s.m, s.trial), s.outcome);
    }
    Ok((header, seeds, complete as u64))
}

/// The append-only checkpoint of a run: the [`PointStore`] of `lemmas::scaling`.
struct Checkpoint {
    path: PathBuf,
    seeds: Mutex<HashMap<Key, SeedOutcome>>,
    file: Mutex<std::fs::File>,
    computed: AtomicU64,
    resumed: u64,
}

impl Checkpoint {
    fn open(path: &Path, shard: Option<Shard>, resume: bool) -> Result<Self, CommandError> {
        let header = Header { format: FORMAT, kind: "scaling-checkpoint".into(), shard };
        let exists = path.try_exists().map_err(|e| CommandError::Input(format!("{}: {e}", path.display())))?;
        let mut seeds = HashMap::new();
        if exists {
            let (h, s, complete) = load(path)?;
            if !resume && !s.is_empty() {
                return Err(CommandError::Input(format!(
                    "{} holds the finished seeds of an earlier run: pass --resume to continue it, or delete it to start over",
                    path.display()
                )));
            }
            if h.shard != shard {
                return Err(CommandError::Input(format!(
                    "{} belongs to another shard: resume with the same --shard, or delete it",
                    path.display()
                )));
            }
            let f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| CommandError::Input(format!("{}: {e}", path.display())))?;
            f.set_len(complete).map_err(|e| CommandError::Input(format!("{}: {e}", path.display())))?;
            seeds = s;
        } else {
            // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
            // null and the target is a String, so serialising cannot fail.
            write_file(path, (serde_json::to_string(&header).expect("serialises") + "\n").as_bytes())?;
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| CommandError::Input(format!("{}: {e}", path.display())))?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            resumed: seeds.len() as u64,
            seeds: Mutex::new(seeds),
            file: Mutex::new(file),
            computed: AtomicU64::new(0),
        })
    }
}

impl PointStore for Checkpoint {
    fn get(&self, point: &str, m: usize, trial: u64) -> Option<SeedOutcome> {
        // Not poisoned: guards only span HashMap get/insert and write_all/flush, which return errors, not panic.
        self.seeds.lock().expect("not poisoned").get(&(point.to_string(), m, trial)).cloned()
    }
    fn put(&self, point: &str, m: usize, trial: u64, outcome: &SeedOutcome) -> Result<(), LemmaError> {
        let line = SeedLine { point: point.to_string(), m, trial, outcome: outcome.clone() };
        // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
        // null and the target is a String, so serialising cannot fail.
        let text = serde_json::to_string(&line).expect("serialises") + "\n";
        let back: SeedLine = serde_json::from_str(&text).map_err(|e| LemmaError::Store(e.to_string()))?;
        if !back.outcome.same_bits(outcome) {
            return Err(LemmaError::Store(format!(
                "a seed of {point} at m = {m} does not survive JSON exactly: a bug"
            )));
        }
        {
            // Not poisoned: guards only span HashMap get/insert and write_all/flush, which return errors, not panic.
            let mut f = self.file.lock().expect("not poisoned");
            f.write_all(text.as_bytes()).and_then(|()| f.flush()).map_err(|e| {
                LemmaError::Store(format!(
                    "{}: cannot append ({e}); make room, then rerun with --resume",
                    self.path.display()
                ))
            })?;
        }
        // Not poisoned: guards only span HashMap get/insert and write_all/flush, which return errors, not panic.
        self.seeds.lock().expect("not poisoned").insert((point.to_string(), m, trial), outcome.clone());
        self.computed.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

struct Lines {
    start: Instant,
    /// Seeds computed so far (no length: the search stops each width when decided), with the last
    /// finished configuration as its message; watched by the heartbeat off a terminal.
    seeds: indicatif::ProgressBar,
}

impl lemmas::Progress for Lines {
    fn seed_done(&self, _: ClaimId, _: usize, _: u64) {
        self.seeds.inc(1);
    }
}

impl PointProgress for Lines {
    fn point_done(&self, index: usize, total: usize, key: &str, t: &ClaimThreshold) {
        self.seeds.set_message(format!("seeds; configuration {} of {total} done", index + 1));
        println!(
            "[{}/{total}] {key}: m* in {} ({} widths, {} seeds; {:.0} s)",
            index + 1,
            report::threshold_text(&t.search.threshold),
            t.search.tests.len(),
            t.search.seeds_total,
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// Which study a run belongs to: `scaling` (sphere data over n, δ, d) or `hardest` (structured
/// data families over n); the same runner, checkpoints, shards and merge serve both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Study {
    /// `cargo xtask scaling`.
    Scaling,
    /// `cargo xtask hardest`.
    Hardest,
}

/// The command that reproduces a run (without --out, --threads, --resume, --shard, --merge).
fn canonical_command(profile: ScalingProfile, claims: &[ClaimId]) -> String {
    let command = if profile.is_hardest() { "hardest" } else { "scaling" };
    let mut s = format!("cargo xtask {command} --profile {}", profile.name());
    if !claims.is_empty() {
        s.push_str(&format!(" --claims {}", claims.iter().map(|c| c.key()).collect::<Vec<_>>().join(",")));
    }
    s
}

/// The time forecast printed before a run: from the earlier record in `out` (its results.json)
/// for the configurations it has, a bound for the others.
fn forecast_line(
    plan: &ScalingPlan,
    points: &[lemmas::scaling::Point],
    out: &Path,
    shard: Option<Shard>,
) -> Result<String, CommandError> {
    let record: Option<lemmas::scaling::ScalingResult> =
        std::fs::read_to_string(out.join("results.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
    let mine: Vec<lemmas::scaling::Point> = points
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| s.contains(*i as u64)))
        .map(|(_, p)| p.clone())
        .collect();
    let threads = rayon::current_num_threads();
    let f =
        lemmas::scaling::forecast(&mine, record.as_ref(), threads).map_err(|e| CommandError::Input(e.to_string()))?;
    let rate = format!("{:.1e} flop/s per thread", lemmas::scaling::FORECAST_FLOPS_PER_THREAD);
    let known = if f.known > 0 {
        format!(
            "about {} on {threads} threads for the {} of {} configurations in {} (their recorded widths and seeds, a flop model at {rate}; seeds already in a checkpoint are not discounted)",
            crate::estimate::duration(f.known_seconds),
            f.known,
            f.total,
            out.join("results.json").display()
        )
    } else {
        format!("no earlier record of these configurations in {}", out.display())
    };
    let unknown = if f.known < f.total {
        format!(
            "; the other {} at most {} (every width at its last look, at the largest width)",
            f.total - f.known,
            crate::estimate::duration(f.unknown_seconds_bound)
        )
    } else {
        String::new()
    };
    let searches = match &plan.data_search {
        Some(search) if shard.is_none() => {
            let mut at: Vec<(ClaimId, &str, usize)> = Vec::new();
            for sp in plan.series.iter().filter(|sp| !sp.data.is_empty()) {
                for c in &sp.configs {
                    if !at.contains(&(sp.claim, sp.event.as_str(), c.n)) {
                        at.push((sp.claim, sp.event.as_str(), c.n));
                    }
                }
            }
            format!(
                "; then up to {} data searches, each stopped at {} of flop-model time on one thread (at most {} on {threads} threads), and a fresh threshold search of each winner, costing about what its start's did",
                at.len(),
                crate::estimate::duration(search.budget_seconds),
                crate::estimate::duration(at.len() as f64 * search.budget_seconds / threads as f64)
            )
        }
        Some(_) => "; the data searches run in the merge, not in a shard".to_string(),
        None => String::new(),
    };
    Ok(format!("time: {known}{unknown}{searches}"))
}

/// Writes a record's pages and its results.json to `out`, all or nothing.
fn write_record(
    out: &Path,
    result: &ScalingResult,
    profile: ScalingProfile,
    claims: &[ClaimId],
) -> Result<(), CommandError> {
    let prov = report::Provenance {
        command: canonical_command(profile, claims),
        profile: profile.name().into(),
        version: VERSION.into(),
        seeds: 0,
        notes: vec!["Seeds per width are chosen by the sequential tests (see each row).".into()],
    };
    let pages = report::render_scaling(result, &prov);
    // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
    // null and the target is a String, so serialising cannot fail.
    let mut json = serde_json::to_string_pretty(result).expect("serialises");
    json.push('\n');
    crate::files::write_pages_and(out, &pages, &[(out.join("results.json"), json.as_bytes())])
}

/// Runs `cargo xtask scaling`.
pub fn run(args: Args, study: Study) -> Result<ExitCode, CommandError> {
    let hardest = study == Study::Hardest;
    let name = args.profile.as_deref().unwrap_or(if hardest { "hardest" } else { "scaling" });
    let profile = ScalingProfile::parse(name).filter(|p| p.is_hardest() == hardest).ok_or_else(|| {
        let names: Vec<&str> =
            ScalingProfile::ALL.iter().filter(|p| p.is_hardest() == hardest).map(|p| p.name()).collect();
        CommandError::Input(format!("unknown profile '{name}': use {}", names.join(", ")))
    })?;
    let claims: Vec<ClaimId> = args
        .claims
        .iter()
        .flatten()
        .map(|s| ClaimId::parse(s).ok_or_else(|| CommandError::Input(format!("unknown claim '{s}'"))))
        .collect::<Result<_, _>>()?;
    if let Some(c) = crate::parse::first_repeated(&claims) {
        return Err(CommandError::Input(format!("--claims names {} twice: name each claim once", c.key())));
    }
    let plan = ScalingPlan::of(profile).only(&claims);
    if plan.series.is_empty() {
        return Err(CommandError::Input(format!("profile {} has no series for the claims given", profile.name())));
    }
    let shard = args.shard.as_deref().map(crate::verify::parse_shard).transpose()?;
    crate::verify::set_threads(args.threads)?;
    let out = args.out.clone().unwrap_or_else(|| crate::files::docs_dir().join(profile.name()));
    if args.render {
        let _lock = crate::lock::OutputLock::acquire_named(&out, ".overparam-scaling.lock")?;
        let path = out.join("results.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CommandError::Input(format!("--render: cannot read {} ({e})", path.display())))?;
        let result: ScalingResult = serde_json::from_str(&text)
            .map_err(|e| CommandError::Input(format!("--render: {} is not a scaling record ({e})", path.display())))?;
        if result.profile != profile {
            return Err(CommandError::Input(format!(
                "--render: {} holds profile {}, not {}: pass --profile {}",
                path.display(),
                result.profile.name(),
                profile.name(),
                result.profile.name()
            )));
        }
        write_record(&out, &result, profile, &claims)?;
        println!("report: {} (rendered again from {})", out.join("index.md").display(), path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let points = plan.points();
    let bound: u64 = points.iter().map(|p| p.search.max_seeds()).sum();
    println!(
        "scaling: profile {}, {} series, {} configurations{}, at most {bound} seeds in all (an upper bound: each width's test stops when decided); out {}",
        profile.name(),
        plan.series.len(),
        points.len(),
        shard.map_or(String::new(), |s| format!(
            " (shard {}/{}: {} of them)",
            s.index,
            s.count,
            s.seeds_in(points.len() as u64)
        )),
        out.display()
    );
    println!("{}", forecast_line(&plan, &points, &out, shard)?);
    let lock_name = shard.map_or(".overparam-scaling.lock".to_string(), |s| {
        format!(".overparam-scaling-shard-{}-of-{}.lock", s.index, s.count)
    });
    let lock = crate::lock::OutputLock::acquire_named(&out, &lock_name)?;
    if let Some(note) = lock.takeover_note() {
        eprintln!("{note}");
    }
    let path = checkpoint_path(&out, shard);
    let store = Checkpoint::open(&path, shard, args.resume)?;
    let mut preloaded = 0;
    for f in &args.merge {
        let (h, seeds, _) = load(f)?;
        if h.shard.is_none() {
            return Err(CommandError::Input(format!("--merge {}: not a shard checkpoint", f.display())));
        }
        // Not poisoned: guards only span HashMap get/insert and write_all/flush, which return errors, not panic.
        let mut mine = store.seeds.lock().expect("not poisoned");
        for (k, v) in seeds {
            if mine.insert(k, v).is_none() {
                preloaded += 1;
            }
        }
    }
    let lines = Lines { start: Instant::now(), seeds: indicatif::ProgressBar::hidden() };
    lines.seeds.set_prefix("scaling");
    lines.seeds.set_message("seeds");
    let beat = crate::heartbeat::Heartbeat::watch("scaling", vec![lines.seeds.clone()]);
    let ctx = ScalingContext { seeds: &lines, points: &lines, store: &store, shard };
    let result = run_plan(&plan, &ctx);
    drop(beat);
    let result = result?;
    println!(
        "seeds: {} computed, {} resumed, {} from merged shards",
        store.computed.load(Ordering::Relaxed),
        store.resumed,
        preloaded
    );
    let Some(result) = result else {
        println!(
            "shard done: its seeds are in {}; combine the shards with `{} --merge <files>`",
            path.display(),
            canonical_command(profile, &claims)
        );
        return Ok(ExitCode::SUCCESS);
    };
    write_record(&out, &result, profile, &claims)?;
    // The checkpoint is deleted only when everything it holds is now in the results: seeds of
    // configurations outside this run's plan (other claims, another profile) would be lost.
    // The data searches' points (their candidates under "<point>+search/…", the winners in the
    // `searched` series) belong to this run too.
    let planned: std::collections::HashSet<&str> = points
        .iter()
        .map(|p| p.key.as_str())
        .chain(result.series.iter().flat_map(|s| s.points.iter().map(|p| p.key.as_str())))
        .collect();
    let ours = |k: &str| {
        planned.contains(k)
            || k.split_once(lemmas::scaling::SEARCH_KEY).is_some_and(|(point, _)| planned.contains(point))
    };
    let foreign = store.seeds.lock().map_or(0, |seeds| seeds.keys().filter(|k| !ours(k.0.as_str())).count());
    drop(store);
    if foreign > 0 {
        println!(
            "kept {}: it also holds {foreign} seeds of configurations this run does not cover (other claims or another profile); a run that covers them resumes from it",
            path.display()
        );
    } else if !args.keep_checkpoint {
        std::fs::remove_file(&path).map_err(|e| CommandError::Input(format!("{}: {e}", path.display())))?;
    }
    println!("report: {}", out.join("index.md").display());
    if result.findings.sanity_failures > 0 {
        eprintln!("error: a sanity identity failed on {} seeds: a bug", result.findings.sanity_failures);
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
