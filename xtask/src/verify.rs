//! `cargo xtask verify-lemmas`: run every claim's check under a profile, print the verdict table, write JSON and reports.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lemmas::{CheckConfig, ClaimId, ClaimResult, Profile, Verdict};

use crate::UserError;

/// Options of `verify-lemmas`.
#[derive(clap::Args)]
pub struct Args {
    /// Profile: quick (minutes; its reports are committed), paper (the large widths), tiny (seconds).
    #[arg(long, default_value = "quick")]
    profile: String,
    /// Seeds per width (overrides the profile).
    #[arg(long)]
    seeds: Option<u64>,
    /// Widths, comma-separated and increasing (overrides the profile), e.g. 100,1000,10000.
    #[arg(long, value_delimiter = ',')]
    widths: Option<Vec<usize>>,
    /// Failure probability δ in (0, 1) (overrides the profile).
    #[arg(long)]
    delta: Option<f64>,
    /// Master seed (data and every initialisation derive from it).
    #[arg(long)]
    master_seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Output folder for the reports and the JSON of all results.
    #[arg(long, default_value = "docs")]
    out: PathBuf,
    /// Claims to check, comma-separated (e.g. lem-2.2,thm-3.1); default all.
    #[arg(long, value_delimiter = ',')]
    claims: Option<Vec<String>>,
}

/// The configuration of each selected claim, with command-line overrides applied and validated.
pub fn plan(args: &Args) -> Result<(Profile, Vec<(ClaimId, CheckConfig)>), UserError> {
    let profile = Profile::parse(&args.profile)
        .ok_or_else(|| UserError(format!("unknown profile '{}': use quick, paper or tiny", args.profile)))?;
    let claims: Vec<ClaimId> = match &args.claims {
        None => ClaimId::ALL.to_vec(),
        Some(names) => names
            .iter()
            .map(|s| {
                ClaimId::parse(s).ok_or_else(|| {
                    let known: Vec<&str> = ClaimId::ALL.iter().map(|c| c.key()).collect();
                    UserError(format!("unknown claim '{s}': use one of {}", known.join(", ")))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut out = Vec::new();
    for claim in claims {
        let mut cfg = profile.config(claim);
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
        cfg.validate().map_err(|e| UserError(format!("{}: {e}", claim.slide())))?;
        out.push((claim, cfg));
    }
    Ok((profile, out))
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
pub fn run(args: Args) -> Result<ExitCode, UserError> {
    let (profile, plan) = plan(&args)?;
    if let Some(t) = args.threads {
        if t == 0 {
            return Err(UserError("--threads must be at least 1".into()));
        }
        rayon::ThreadPoolBuilder::new().num_threads(t).build_global().map_err(|e| UserError(e.to_string()))?;
    }
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} seeds  {elapsed}")
        .expect("valid template")
        .progress_chars("=> ");
    let bars = Bars {
        bars: plan
            .iter()
            .map(|(c, cfg)| {
                let bar = multi.add(ProgressBar::new(cfg.seeds * cfg.widths.len() as u64));
                bar.set_style(style.clone());
                bar.set_prefix(c.slide());
                (*c, bar)
            })
            .collect(),
    };
    let mut results: Vec<ClaimResult> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for (claim, cfg) in &plan {
        match lemmas::check(*claim, cfg, &bars) {
            Ok(r) => results.push(r),
            Err(lemmas::LemmaError::Dynamics(msg)) if msg.contains("not built yet") => skipped.push(msg),
            Err(e) => return Err(UserError(format!("{}: {e}", claim.slide()))),
        }
        if let Some((_, bar)) = bars.bars.iter().find(|(c, _)| c == claim) {
            bar.finish();
        }
    }
    multi.clear().ok();
    print_table(&results);
    for s in &skipped {
        println!("skipped: {s}");
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| UserError(format!("{}: cannot create ({e})", args.out.display())))?;
    let json = serde_json::to_string_pretty(&results).expect("results serialise");
    let path = args.out.join(format!("results-{}.json", profile.name()));
    model::npy::write_atomic(&path, json.as_bytes())?;
    println!("wrote {}", path.display());
    let refuted = results.iter().any(|r| r.verdict == Verdict::Refuted);
    Ok(if refuted { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_table(results: &[ClaimResult]) {
    println!(
        "{:<8} {:<8} {:<13} {:<8} {:>12} {:>12}  title",
        "slide", "paper", "verdict", "premise", "proof m", "empirical m"
    );
    for r in results {
        let proof = r.proof_widths.first().map(|p| format!("{:.3e}", p.width)).unwrap_or_else(|| "—".into());
        let emp =
            r.threshold.as_ref().and_then(|t| t.empirical_width).map(|m| m.to_string()).unwrap_or_else(|| "—".into());
        println!(
            "{:<8} {:<8} {:<13} {:<8} {:>12} {:>12}  {}",
            r.slide,
            r.paper,
            r.verdict.word(),
            if r.premise_met { "met" } else { "not met" },
            proof,
            emp,
            r.title
        );
    }
}
