//! `cargo xtask figure1`: the paper's Fig. 1 experiment, its JSON and its report page.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use lemmas::figure1::{Figure1Config, Figure1Result};

use crate::files::write_pages;
use crate::{CommandError, VERSION};

/// Options of `figure1`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {
    /// Profile: quick (n = d = 100) or paper (n = d = 1000).
    #[arg(long, default_value = "quick")]
    pub profile: String,
    /// Widths, comma-separated (overrides the profile).
    #[arg(long, value_parser = crate::parse::parse_usize_count, value_delimiter = ',')]
    pub widths: Option<Vec<usize>>,
    /// Fixed step η (default: 1/λmax(H∞) rounded down to two significant digits).
    #[arg(long)]
    pub eta: Option<f64>,
    /// Iterations (default 100, as in the paper).
    #[arg(long, value_parser = crate::parse::parse_usize_count)]
    pub iterations: Option<usize>,
    /// Master seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Initialisations per width (default: quick 6, paper 6).
    #[arg(long, value_parser = crate::parse::parse_usize_count)]
    pub seeds: Option<usize>,
    /// Nest the initialisations across widths (common random numbers: seed s uses one stream at
    /// every width). For pictures only; by default every (width, seed) pair is independent.
    #[arg(long)]
    pub nested: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = crate::parse::parse_usize_count)]
    pub threads: Option<usize>,
    /// Output folder.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Render the pages again from a result JSON written earlier with the same options, without
    /// recomputing (the JSON is left as it is).
    #[arg(long)]
    pub from_json: Option<PathBuf>,
}

/// The configuration with overrides applied.
pub fn config(args: &Args) -> Result<Figure1Config, CommandError> {
    let mut cfg = match args.profile.as_str() {
        "quick" => Figure1Config::quick(),
        "paper" => Figure1Config::paper(),
        other => return Err(CommandError::Input(format!("unknown profile '{other}': use quick or paper"))),
    };
    if let Some(w) = &args.widths {
        if let Some(m) = crate::parse::first_repeated(w) {
            return Err(CommandError::Input(format!("--widths names m = {m} twice: name each width once")));
        }
        cfg.widths = w.clone();
    }
    if let Some(e) = args.eta {
        if !(e.is_finite() && e > 0.0) {
            return Err(CommandError::Input(format!("--eta {e}: the step η must be a positive number")));
        }
        cfg.eta = Some(e);
    }
    if let Some(k) = args.iterations {
        if k == 0 {
            return Err(CommandError::Input("--iterations 0: need at least one iteration".into()));
        }
        cfg.iterations = k;
    }
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    if let Some(s) = args.seeds {
        if s == 0 || s > lemmas::figure1::MAX_SEEDS {
            return Err(CommandError::Input(format!("--seeds {s}: give between 1 and 2^20 initialisations per width")));
        }
        cfg.seeds = s;
    }
    if args.nested {
        cfg.nesting = lemmas::figure1::Nesting::Nested;
    }
    Ok(cfg)
}

/// The command line that reproduces a Fig. 1 result.
pub fn canonical_command(args: &Args) -> String {
    let mut c = format!("cargo xtask figure1 --profile {}", args.profile);
    if let Some(w) = &args.widths {
        c.push_str(&format!(" --widths {}", w.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",")));
    }
    if let Some(e) = args.eta {
        c.push_str(&format!(" --eta {e}"));
    }
    if let Some(k) = args.iterations {
        c.push_str(&format!(" --iterations {k}"));
    }
    if let Some(s) = args.seed {
        c.push_str(&format!(" --seed {s}"));
    }
    if let Some(s) = args.seeds {
        c.push_str(&format!(" --seeds {s}"));
    }
    if args.nested {
        c.push_str(" --nested");
    }
    c
}

/// The JSON and the pages of a Fig. 1 result.
pub fn render(args: &Args, res: &Figure1Result) -> (String, Vec<report::Page>) {
    // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
    // null and the target is a String, so serialising cannot fail.
    let json = serde_json::to_string_pretty(res).expect("results serialise") + "\n";
    let prov = report::Provenance {
        command: canonical_command(args),
        profile: args.profile.clone(),
        version: VERSION.into(),
        seeds: res.config.seeds as u64,
        notes: vec![format!("Initialisations: {}", res.config.nesting.label())],
    };
    (json, report::render_figure1(res, &prov))
}

/// Reads a result JSON and checks that it was computed with `cfg`.
fn read_result(path: &std::path::Path, cfg: &Figure1Config) -> Result<Figure1Result, CommandError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CommandError::Input(format!("--from-json {}: {e}", path.display())))?;
    let res: Figure1Result = serde_json::from_str(&text).map_err(|e| {
        CommandError::Input(format!("--from-json {}: not a Fig. 1 result of this version: {e}", path.display()))
    })?;
    let computed = res.config.fingerprint();
    if computed != res.fingerprint {
        return Err(CommandError::Input(format!(
            "--from-json {}: its configuration does not match its fingerprint '{}' (it reads as {computed}): it was changed after the runs were computed; rerun without --from-json",
            path.display(),
            res.fingerprint
        )));
    }
    if &res.config != cfg {
        return Err(CommandError::Input(format!(
            "--from-json {}: computed with another configuration than these options give; pass the options it was run with",
            path.display()
        )));
    }
    // Every per-width list holds one entry per configured width (an edited file may not).
    let f = &res.findings;
    let lists = [
        ("widths", res.widths.len()),
        ("iterations_to_target", f.iterations_to_target.per_width.len()),
        ("final_pattern_change", f.final_pattern_change.per_width.len()),
        ("final_max_distance", f.final_max_distance.per_width.len()),
        ("max_infinite_width_gap", f.max_infinite_width_gap.per_width.len()),
    ];
    if let Some((name, len)) = lists.iter().find(|(_, len)| *len != cfg.widths.len()) {
        return Err(CommandError::Input(format!(
            "--from-json {}: {name} has {len} entries for {} widths: the file is damaged; rerun without --from-json",
            path.display(),
            cfg.widths.len()
        )));
    }
    Ok(res)
}

/// Runs Fig. 1, writes `figure1-<profile>.json` and `figure1.md` with its panels.
pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    let cfg = config(&args)?;
    if let Some(path) = &args.from_json {
        let res = read_result(path, &cfg)?;
        // The same exclusive lock as every command that writes into a folder (issue 27, class 8).
        let _lock = crate::lock::OutputLock::acquire(&args.out)?;
        let (_, pages) = render(&args, &res);
        write_pages(&args.out, &pages)?;
        println!("rendered {} report files under {} from {}", pages.len(), args.out.display(), path.display());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(t) = args.threads {
        crate::estimate::check_threads(t)?;
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| CommandError::Input(e.to_string()))?;
    }
    // Refused before the data is drawn or the lock taken (issue 27, class 5).
    crate::estimate::check_figure1(&crate::estimate::figure1_estimate(&cfg, rayon::current_num_threads()))?;
    // Taken before computing, so a second run on the same --out is refused at once, not after
    // minutes of work that one of the two would then overwrite (issue 27, class 8).
    let lock = crate::lock::OutputLock::acquire(&args.out)?;
    if let Some(note) = lock.takeover_note() {
        eprintln!("{note}");
    }
    let bar = ProgressBar::new((cfg.widths.len() * cfg.seeds) as u64);
    // A constant template that indicatif accepts; tests draw it.
    bar.set_style(
        ProgressStyle::with_template("  Fig. 1 [{bar:30}] {pos}/{len} runs (width, seed)  {elapsed}")
            .expect("valid")
            .progress_chars("=> "),
    );
    let beat = crate::heartbeat::Heartbeat::watch("figure1 (seeds × widths)", vec![bar.clone()]);
    let res = lemmas::figure1::run(&cfg, |done, _| bar.set_position(done as u64))?;
    drop(beat);
    bar.finish_and_clear();
    println!(
        "Fig. 1: n = {}, d = {}, η = {} ({}), {} seeds per width, {}",
        cfg.n,
        cfg.d,
        res.eta,
        res.eta_rule,
        cfg.seeds,
        cfg.nesting.label()
    );
    println!(
        "{:>8} {:>10} {:>14} {:>14} {:>12}  (medians over seeds)",
        "m", "completed", "pattern chg", "max distance", "max gap u∞"
    );
    let f = &res.findings;
    for (i, w) in res.widths.iter().enumerate() {
        // A width whose runs all diverged has no median: "—", never NaN.
        let med = |t: &lemmas::figure1::Trend| {
            t.per_width.get(i).and_then(|c| c.median).map_or("—".to_string(), |v| format!("{v:.4e}"))
        };
        println!(
            "{:>8} {:>10} {:>14} {:>14} {:>12}",
            w.m,
            format!("{}/{}", w.runs.iter().filter(|r| r.completed()).count(), w.runs.len()),
            med(&f.final_pattern_change),
            med(&f.final_max_distance),
            med(&f.max_infinite_width_gap)
        );
    }
    let diverged: Vec<String> = res
        .widths
        .iter()
        .flat_map(|w| {
            w.runs
                .iter()
                .filter(|r| !r.completed())
                .map(move |r| format!("m = {} seed {}: {}", w.m, r.seed_index, r.status))
        })
        .collect();
    if !diverged.is_empty() {
        println!(
            "diverged: {} of {} runs at η = {} ({}); their curves stop at the last finite iterate and they are left out of the medians",
            diverged.len(),
            res.widths.iter().map(|w| w.runs.len()).sum::<usize>(),
            res.eta,
            diverged.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                + if diverged.len() > 3 { "; …" } else { "" }
        );
    }
    if let Some(g) = &res.gap_slope {
        match g.interval {
            Some((lo, hi)) => println!(
                "slope of ln max-gap on ln m: {:.4}, {}% t-interval [{lo:.4}, {hi:.4}] over {} seeds",
                g.mean,
                100.0 * g.confidence,
                g.seeds_used
            ),
            None => println!("slope of ln max-gap on ln m: {:.4} (one seed, no interval)", g.mean),
        }
    }
    let (json, pages) = render(&args, &res);
    let path = args.out.join(format!("figure1-{}.json", args.profile));
    crate::files::write_pages_and(&args.out, &pages, &[(path.clone(), json.as_bytes())])?;
    println!("wrote {} and {} report files under {}", path.display(), pages.len(), args.out.display());
    // As `train`: a run that diverged is status 4 (the reports are still written).
    Ok(if diverged.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(crate::data::EXIT_DIVERGED) })
}
