//! `cargo xtask verify-lemmas`: run every claim's check under a profile and print the verdict table.
//!
//! It also takes a config file, writes JSON and reports, exits 0 / 1 (refuted) / 2 (bad input) / 3
//! (error), and is checkpointed, resumable and shardable.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lemmas::{CheckConfig, ClaimId, ClaimResult, Profile, RunContext, Shard, Verdict};
use serde_json::{Map, Value};

use crate::checkpoint::{self, Checkpoint, Header};
use crate::{CommandError, VERSION};

/// The environment variable of the test-only hook that plants a failed sanity identity: set it to a
/// claim key (e.g. "lem-2.2") and that claim's first sanity event fails on its first width, so
/// that the `error` verdict and exit status 3 can be tested. Never set in a real run.
pub const PLANT_SANITY_FAILURE: &str = "OVERPARAM_TEST_PLANT_SANITY_FAILURE";

/// Options of `verify-lemmas`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {
    /// Profile: quick (minutes; its reports are committed), paper (the large widths), tiny (seconds).
    #[arg(long, default_value = "quick")]
    pub profile: String,
    /// Seeds per width (overrides the profile); 1e3 is read as 1000.
    #[arg(long, value_parser = crate::parse::parse_count)]
    pub seeds: Option<u64>,
    /// Widths, comma-separated and increasing (overrides the profile), e.g. 100,1000,1e4.
    #[arg(long, value_delimiter = ',', value_parser = crate::parse::parse_usize_count)]
    pub widths: Option<Vec<usize>>,
    /// Failure probability δ in (0, 1) (overrides the profile).
    #[arg(long)]
    pub delta: Option<f64>,
    /// Master seed (data and every initialisation derive from it).
    #[arg(long)]
    pub master_seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::parse::parse_usize_count)]
    pub threads: Option<usize>,
    /// Output folder for the reports and the JSON of all results.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Claims to check, comma-separated (e.g. lem-2.2,thm-3.1); default all.
    #[arg(long, value_delimiter = ',')]
    pub claims: Option<Vec<String>>,
    /// JSON file of per-claim settings over the profile's, e.g. {"lem-2.2": {"seeds": 400, "n": 20}};
    /// the key "all" applies to every claim. The flags above override it.
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// Continue an interrupted run from its checkpoint in --out (finished seeds are not redone).
    #[arg(long)]
    pub resume: bool,
    /// Run only shard K of N (the seeds t with t mod N = K, K = 0..N−1) and keep them in its
    /// checkpoint; `cargo xtask merge` combines the N shards into the results.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Print the results JSON (the contents of results-<profile>.json) to stdout; the table and the
    /// other human-readable lines go to stderr.
    #[arg(long)]
    pub json: bool,
}

/// The settings a config file may give: the fields of [`CheckConfig`], in alphabetical order.
fn known_settings() -> Vec<String> {
    // The defaults' keys, and the settings left out of them when they hold their default.
    // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
    // null and the target is a String, so serialising cannot fail.
    let mut keys: Vec<String> = match serde_json::to_value(CheckConfig::default()).expect("serialises") {
        Value::Object(o) => o.keys().cloned().collect(),
        // CheckConfig is a struct with named fields: to_value always gives Value::Object.
        _ => unreachable!("a struct"),
    };
    keys.extend(["audit_every", "solver"].iter().map(|k| k.to_string()));
    keys.sort();
    keys.dedup();
    keys
}

/// The settings of a config file for one claim (`None`: the key "all").
type ClaimSettings = (Option<ClaimId>, Map<String, Value>);

/// Reads a config file: a JSON object mapping claim keys (or "all") to objects of settings.
/// Every key and setting is checked here, for every claim, selected or not.
fn read_config(path: &Path) -> Result<Vec<ClaimSettings>, CommandError> {
    let err = |msg: String| CommandError::Input(format!("config {}: {msg}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it ({e}): check the path")))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| err(format!("not valid JSON ({e}): fix the file")))?;
    if let Some(key) = crate::parse::json_repeated_key(&text) {
        return Err(err(format!("{key} is given twice (the last would silently win): keep one")));
    }
    let Value::Object(claims) = value else {
        return Err(err(
            "expected a JSON object mapping claim keys to settings, e.g. {\"lem-2.2\": {\"seeds\": 100}}".into()
        ));
    };
    let known = known_settings();
    let mut out = Vec::new();
    for (key, settings) in claims {
        let claim = if key == "all" {
            None
        } else {
            Some(ClaimId::parse(&key).ok_or_else(|| {
                let keys: Vec<&str> = ClaimId::ALL.iter().map(|c| c.key()).collect();
                err(format!("unknown claim \"{key}\": use one of {} or \"all\"", keys.join(", ")))
            })?)
        };
        let Value::Object(settings) = settings else {
            return Err(err(format!("\"{key}\" must map to an object of settings, e.g. {{\"seeds\": 100}}")));
        };
        if let Some(unknown) = settings.keys().find(|k| !known.contains(k)) {
            return Err(err(format!("\"{key}\": unknown setting \"{unknown}\": use one of {}", known.join(", "))));
        }
        // Each value must have its setting's type (checked against the defaults, one at a time).
        // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
        // null and the target is a String, so serialising cannot fail.
        let mut probe = serde_json::to_value(CheckConfig::default()).expect("serialises");
        for (name, v) in &settings {
            // probe is to_value of a struct, a Value::Object: indexing it by a key inserts, it cannot panic.
            probe[name] = v.clone();
            serde_json::from_value::<CheckConfig>(probe.clone())
                .map_err(|e| err(format!("\"{key}\": setting \"{name}\" = {v}: {e}: fix its value")))?;
        }
        out.push((claim, settings));
    }
    Ok(out)
}

/// `base` with the settings of a config file applied (their types were checked on reading).
fn apply_settings(base: &CheckConfig, settings: &Map<String, Value>) -> CheckConfig {
    // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
    // null and the target is a String, so serialising cannot fail.
    let mut v = serde_json::to_value(base).expect("serialises");
    for (name, value) in settings {
        // v is to_value of a struct, a Value::Object: indexing it by a key inserts, it cannot panic.
        v[name] = value.clone();
    }
    // read_config deserialised every setting into CheckConfig and refused unknown keys; CheckConfig's
    // Deserialize is a plain derive (per-field), so any mix of checked settings deserialises.
    serde_json::from_value(v).expect("checked when the file was read")
}

/// The configuration of each selected claim, with command-line overrides applied and validated.
pub fn plan(args: &Args) -> Result<(Profile, Vec<(ClaimId, CheckConfig)>), CommandError> {
    let profile = Profile::parse(&args.profile).ok_or_else(|| {
        let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
        CommandError::Input(format!("unknown profile '{}': use {}", args.profile, names.join(", ")))
    })?;
    let claims: Vec<ClaimId> = match &args.claims {
        None => profile.claims().map_or_else(|| ClaimId::ALL.to_vec(), <[ClaimId]>::to_vec),
        Some(names) => names
            .iter()
            .map(|s| {
                ClaimId::parse(s).ok_or_else(|| {
                    let known: Vec<&str> = ClaimId::ALL.iter().map(|c| c.key()).collect();
                    CommandError::Input(format!("unknown claim '{s}': use one of {}", known.join(", ")))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    if let Some(c) = crate::parse::first_repeated(&claims) {
        return Err(CommandError::Input(format!("--claims names {} twice: name each claim once", c.key())));
    }
    let file = args.config.as_deref().map(read_config).transpose()?.unwrap_or_default();
    let mut out = Vec::new();
    for claim in claims {
        let mut cfg = profile.config(claim);
        if let Some(path) = &args.config {
            // "all" first, then the claim's own settings.
            for (_, settings) in
                file.iter().filter(|(c, _)| c.is_none()).chain(file.iter().filter(|(c, _)| *c == Some(claim)))
            {
                cfg = apply_settings(&cfg, settings);
            }
            let in_file =
                |e: lemmas::LemmaError| CommandError::Input(format!("config {}: {}: {e}", path.display(), claim.key()));
            cfg.validate().map_err(in_file)?;
            lemmas::engine::ensure_fits_in_memory(&cfg).map_err(in_file)?;
        }
        if let Some(s) = args.seeds {
            cfg.seeds = s;
        }
        if let Some(w) = &args.widths {
            cfg.widths = w.clone();
        }
        if let Some(d) = args.delta {
            cfg.delta = d;
        }
        if let Some(s) = args.master_seed {
            cfg.master_seed = s;
        }
        cfg.validate().map_err(|e| CommandError::Input(format!("{}: {e}", claim.slide())))?;
        lemmas::engine::ensure_fits_in_memory(&cfg)
            .map_err(|e| CommandError::Input(format!("{}: {e}", claim.slide())))?;
        out.push((claim, cfg));
    }
    Ok((profile, out))
}

/// Parses `--shard K/N`.
pub fn parse_shard(s: &str) -> Result<Shard, CommandError> {
    let parsed =
        s.split_once('/').and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    let Some((k, n)) = parsed else {
        return Err(CommandError::Input(format!("--shard {s}: expected K/N with 0 ≤ K < N, e.g. --shard 0/4")));
    };
    Shard::new(k, n).map_err(|e| CommandError::Input(format!("--shard {s}: {e}")))
}

/// Sets the size of rayon's global pool (once per process).
pub fn set_threads(threads: Option<usize>) -> Result<(), CommandError> {
    if let Some(t) = threads {
        crate::estimate::check_threads(t)?;
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| CommandError::Input(e.to_string()))?;
    }
    Ok(())
}

struct Bars {
    bars: Vec<(ClaimId, ProgressBar)>,
}

impl lemmas::Progress for Bars {
    fn seed_done(&self, claim: ClaimId, _m: usize, _trial: u64) {
        if let Some((_, bar)) = self.bars.iter().find(|(c, _)| *c == claim) {
            bar.inc(1);
        }
    }
}

/// Runs the checks, prints the verdict table, writes the results; exit status 1 when a claim is refuted.
/// Every finished seed goes to the run's checkpoint first; with `--shard` the checkpoint is the output.
pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    // The pool first: planning the proof-width profile draws its data, and the model's kernels
    // would otherwise start rayon's global pool at its default size.
    set_threads(args.threads)?;
    let (profile, plan) = plan(&args)?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    if args.json {
        crate::output::reserve_stdout_for_json();
    }
    let threads = rayon::current_num_threads();
    crate::estimate::check_data_memory(&plan)?;
    let lambda0 = crate::estimate::plan_lambda0(&plan)?;
    let estimate = crate::estimate::plan_estimate(&plan, &lambda0, threads);
    crate::estimate::check_plan(&estimate)?;
    println!("{}", crate::estimate::plan_line(profile, &plan, &estimate, threads));
    let started = std::time::Instant::now();
    let lock = crate::lock::OutputLock::acquire_for(&args.out, shard.map(|s| (s.index, s.count)))?;
    let header = Header::new(canonical_command(&args, profile), profile, shard, &plan);
    let store = Checkpoint::open(&checkpoint::path(&args.out, profile, shard), &header, args.resume)?;
    if let Some(note) = lock.takeover_note() {
        eprintln!("{note}");
    }
    let forecasts: Vec<f64> =
        plan.iter().zip(&lambda0).map(|((c, cfg), &l0)| crate::estimate::claim_seconds(*c, cfg, l0, threads)).collect();
    let code = execute(&header, &args.out, store, Some(&forecasts))?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "time: {} against the forecast of {} ({:.2}×)",
        crate::estimate::duration(took),
        crate::estimate::duration(estimate.seconds),
        took / estimate.seconds
    );
    if shard.is_none() {
        finish(&args.out, profile, code)?;
    }
    Ok(code)
}

/// The end of a whole run: the JSON on stdout under `--json`, then where the reports are and what
/// the exit status means.
pub fn finish(out: &Path, profile: Profile, code: ExitCode) -> Result<(), CommandError> {
    let path = out.join(format!("results-{}.json", profile.name()));
    if crate::output::json_on_stdout() {
        let text =
            std::fs::read_to_string(&path).map_err(|e| CommandError::Input(format!("{}: {e}", path.display())))?;
        crate::output::raw_stdout(&text);
    }
    let status = (0..=4u8).find(|&k| ExitCode::from(k) == code).unwrap_or(255);
    println!(
        "reports: {} (the verdict table, one page per claim) and {}; {}",
        out.join("index.md").display(),
        path.display(),
        crate::output::exit_meaning(status)
    );
    Ok(())
}

/// Runs the plan of `header` with `store` as the seed store. A whole run prints the verdict table,
/// writes the JSON and the reports (each atomically) and then deletes the checkpoint; a shard keeps
/// its checkpoint for `merge`.
/// `forecasts` holds each claim's forecast time, printed beside its measured one.
pub fn execute(
    header: &Header,
    out: &Path,
    store: Checkpoint,
    forecasts: Option<&[f64]>,
) -> Result<ExitCode, CommandError> {
    let plan = header.plan();
    let multi = MultiProgress::new();
    // A constant template that indicatif accepts; tests draw it.
    let style = ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} seeds  {elapsed}")
        .expect("valid template")
        .progress_chars("=> ");
    let bars = Bars {
        bars: plan
            .iter()
            .map(|(c, cfg)| {
                let seeds = header.shard.map_or(cfg.seeds, |s| s.seeds_in(cfg.seeds));
                let bar = multi.add(ProgressBar::new(seeds * cfg.widths.len() as u64));
                bar.set_style(style.clone());
                bar.set_prefix(c.slide());
                (*c, bar)
            })
            .collect(),
    };
    let _beat = crate::heartbeat::Heartbeat::watch("verify-lemmas", bars.bars.iter().map(|(_, b)| b.clone()).collect());
    // The test-only hook (xtask/tests/verdicts.rs): a claim key in this variable plants a failed
    // sanity identity in that claim, so that the `error` verdict and exit status 3 can be tested.
    let plant_sanity_failure = std::env::var(PLANT_SANITY_FAILURE).ok().and_then(|k| ClaimId::parse(&k));
    let ctx = RunContext { progress: &bars, store: &store, shard: header.shard, plant_sanity_failure };
    let mut results: Vec<ClaimResult> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut times: Vec<String> = Vec::new();
    for (i, (claim, cfg)) in plan.iter().enumerate() {
        let started = std::time::Instant::now();
        let result = lemmas::check_with(*claim, cfg, &ctx);
        let forecast = forecasts.and_then(|f| f.get(i)).map_or(String::new(), |f| format!(" (forecast {f:.1} s)"));
        times.push(format!("{} {:.1} s{forecast}", claim.slide(), started.elapsed().as_secs_f64()));
        match result {
            Ok(Some(r)) => results.push(r),
            Ok(None) => {}
            Err(lemmas::LemmaError::Dynamics(msg)) if msg.contains("not built yet") => skipped.push(msg),
            Err(e) => {
                multi.clear().ok();
                return Err(CommandError::Input(format!(
                    "{}: {e} (finished seeds are kept in {}: fix the cause, then rerun with --resume)",
                    claim.slide(),
                    store.path().display()
                )));
            }
        }
        if let Some((_, bar)) = bars.bars.iter().find(|(c, _)| c == claim) {
            bar.finish();
        }
    }
    multi.clear().ok();
    let seeds_line = |s: &Checkpoint| {
        let mut parts = Vec::new();
        if s.preloaded() > 0 {
            parts.push(format!("{} from the shards", s.preloaded()));
        }
        if s.resumed() > 0 {
            parts.push(format!("{} resumed from {}", s.resumed(), s.path().display()));
        }
        parts.push(format!("{} computed", s.computed()));
        format!("seeds: {}", parts.join(", "))
    };
    if let Some(shard) = header.shard {
        println!("{}", seeds_line(&store));
        println!(
            "shard {}/{} done: its seeds are in {}; when all {} shards are done, combine them with `cargo xtask merge <their files or folders> --out <folder>`",
            shard.index,
            shard.count,
            store.path().display(),
            shard.count
        );
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&results, out);
    println!("time per claim: {}", times.join(", "));
    for line in divergence_lines(&results) {
        println!("{line}");
    }
    for s in &skipped {
        println!("skipped: {s}");
    }
    if store.resumed() > 0 || store.preloaded() > 0 {
        println!("{}", seeds_line(&store));
    }
    let (json, pages) = render_with_command(header.command.clone(), header.profile, &plan, &results);
    let path = out.join(format!("results-{}.json", header.profile.name()));
    crate::files::write_pages_and(out, &pages, &[(path.clone(), json.as_bytes())])?;
    store.remove()?;
    println!("wrote {} and {} report files under {}", path.display(), pages.len(), out.display());
    Ok(ExitCode::from(exit_status(&results)))
}

/// The exit status of a run: 3 when a claim's verdict is `error` (a sanity identity failed: the
/// program is wrong), else 1 when a claim is refuted, else 0 (every claim supported or
/// inconclusive). Bad input exits with 2 before anything runs.
pub fn exit_status(results: &[ClaimResult]) -> u8 {
    if results.iter().any(|r| r.verdict == Verdict::Error) {
        3
    } else if results.iter().any(|r| r.verdict == Verdict::Refuted) {
        1
    } else {
        0
    }
}

/// One line per claim whose runs diverged (its `no-divergence` event failed on some seed): the
/// widths, how many seeds, and what to do.
pub fn divergence_lines(results: &[ClaimResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|r| {
            let event = r.events.iter().find(|e| e.key == "no-divergence")?;
            let rows: Vec<String> = event
                .rows
                .iter()
                .filter(|row| row.successes < row.seeds)
                .map(|row| format!("m = {} ({} of {} seeds)", row.m, row.seeds - row.successes, row.seeds))
                .collect();
            (!rows.is_empty()).then(|| {
                format!(
                    "diverged: {} at {}: the step η = c_η λ0/n² is past the stability limit; lower c_eta",
                    r.slide,
                    rows.join(", ")
                )
            })
        })
        .collect()
}

/// The verdict table, then where each claim stands ([`crate::records::summary_lines`]): a claim
/// left inconclusive here points to the committed record that meets its premise (this run's
/// pages are under `out`). A record that cannot be read is named in one line, never an error.
fn print_table(results: &[ClaimResult], out: &Path) {
    println!(
        "{:<8} {:<8} {:<13} {:<8} {:>12} {:>18}  title",
        "slide", "paper", "verdict", "premise", "proof m", "threshold (lo, up]"
    );
    for r in results {
        // The statement's own width premise, as on the index page (inference finding 6).
        let premise = r.statement_event().map(|e| e.premise.clone());
        let proof = match premise {
            Some(lemmas::result::Premise::Width { width, .. }) => {
                match r.proof_widths.iter().find(|p| p.width == width) {
                    Some(p) if p.log10_width.is_some() => report::power_of_ten(p.log10()),
                    _ => format!("{width:.3e}"),
                }
            }
            Some(lemmas::result::Premise::ImplicitConstant) => "implicit".into(),
            Some(lemmas::result::Premise::AnyWidth) | None => "any".into(),
        };
        let emp = report::threshold_text(&r.threshold);
        println!(
            "{:<8} {:<8} {:<13} {:<8} {:>12} {:>18}  {}",
            r.slide,
            r.paper,
            r.verdict.word(),
            if r.premise_met { "met" } else { "not met" },
            proof,
            emp,
            r.title
        );
    }
    if results.is_empty() {
        return;
    }
    let (records, problems) = crate::records::committed_records();
    println!("where each claim stands:");
    for line in crate::records::summary_lines(results, &records, out) {
        println!("{line}");
    }
    for p in problems {
        println!("(record not read: {p})");
    }
}

/// The command line that reproduces these results: the profile and every override that changes
/// them (not the output folder, the thread count, `--resume` or `--shard`, which do not).
pub fn canonical_command(args: &Args, profile: Profile) -> String {
    let mut c = format!("cargo xtask verify-lemmas --profile {}", profile.name());
    if let Some(p) = &args.config {
        c.push_str(&format!(" --config {}", p.display()));
    }
    if let Some(s) = args.seeds {
        c.push_str(&format!(" --seeds {s}"));
    }
    if let Some(w) = &args.widths {
        c.push_str(&format!(" --widths {}", w.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",")));
    }
    if let Some(d) = args.delta {
        c.push_str(&format!(" --delta {d}"));
    }
    if let Some(s) = args.master_seed {
        c.push_str(&format!(" --master-seed {s}"));
    }
    if let Some(cl) = &args.claims {
        c.push_str(&format!(" --claims {}", cl.join(",")));
    }
    c
}

/// The JSON of all results and the rendered report pages.
pub fn render(
    args: &Args,
    profile: Profile,
    plan: &[(ClaimId, CheckConfig)],
    results: &[ClaimResult],
) -> (String, Vec<report::Page>) {
    render_with_command(canonical_command(args, profile), profile, plan, results)
}

/// [`render`] with the reproducing command given (a merge takes it from the shards).
pub fn render_with_command(
    command: String,
    profile: Profile,
    plan: &[(ClaimId, CheckConfig)],
    results: &[ClaimResult],
) -> (String, Vec<report::Page>) {
    // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
    // null and the target is a String, so serialising cannot fail.
    let json = serde_json::to_string_pretty(results).expect("results serialise") + "\n";
    let prov = report::Provenance {
        command,
        profile: profile.name().into(),
        version: VERSION.into(),
        // Seeds differ per claim: each page and the index state the real counts.
        seeds: 0,
        notes: vec![
            format!(
                "Seeds per width: {}.",
                plan.iter().map(|(c, cfg)| format!("{} {}", c.slide(), cfg.seeds)).collect::<Vec<_>>().join(", ")
            ),
            "The paper's Fig. 1 is on its own page: [figure1.md](figure1.md) (`cargo xtask figure1`).".into(),
        ]
        .into_iter()
        .chain(lemmas::proof_width::notes(profile))
        .collect(),
    };
    (json, report::render_claims(results, &prov))
}

/// Runs the checks of a plan (no progress bars, no files): what the docs-freshness test regenerates.
pub fn compute(plan: &[(ClaimId, CheckConfig)]) -> Result<Vec<ClaimResult>, CommandError> {
    plan.iter()
        .map(|(c, cfg)| {
            lemmas::check(*c, cfg, &lemmas::NoProgress).map_err(|e| CommandError::Input(format!("{}: {e}", c.slide())))
        })
        .collect()
}
