//! `cargo xtask verify-lemmas`: run every claim's check under a profile, print the verdict table, write JSON and reports.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lemmas::{CheckConfig, ClaimId, ClaimResult, Profile, Verdict};

use crate::files::{write_file, write_pages};
use crate::{UserError, VERSION};

/// Options of `verify-lemmas`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {
    /// Profile: quick (minutes; its reports are committed), paper (the large widths), tiny (seconds).
    #[arg(long, default_value = "quick")]
    pub profile: String,
    /// Seeds per width (overrides the profile).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Widths, comma-separated and increasing (overrides the profile), e.g. 100,1000,10000.
    #[arg(long, value_delimiter = ',')]
    pub widths: Option<Vec<usize>>,
    /// Failure probability δ in (0, 1) (overrides the profile).
    #[arg(long)]
    pub delta: Option<f64>,
    /// Master seed (data and every initialisation derive from it).
    #[arg(long)]
    pub master_seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output folder for the reports and the JSON of all results.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Claims to check, comma-separated (e.g. lem-2.2,thm-3.1); default all.
    #[arg(long, value_delimiter = ',')]
    pub claims: Option<Vec<String>>,
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
    let (json, pages) = render(&args, profile, &plan, &results);
    let path = args.out.join(format!("results-{}.json", profile.name()));
    write_file(&path, json.as_bytes())?;
    write_pages(&args.out, &pages)?;
    println!("wrote {} and {} report files under {}", path.display(), pages.len(), args.out.display());
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

/// The command line that reproduces these results: the profile and every override that changes
/// them (not the output folder or the thread count, which do not).
pub fn canonical_command(args: &Args, profile: Profile) -> String {
    let mut c = format!("cargo xtask verify-lemmas --profile {}", profile.name());
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
    let json = serde_json::to_string_pretty(results).expect("results serialise") + "\n";
    let prov = report::Provenance {
        command: canonical_command(args, profile),
        profile: profile.name().into(),
        version: VERSION.into(),
        seeds: plan.iter().map(|(_, c)| c.seeds).max().unwrap_or(0),
        notes: vec![
            "Seeds differ per claim; each claim's page lists its configuration.".into(),
            "The paper's Fig. 1 is on its own page: [figure1.md](figure1.md) (`cargo xtask figure1`).".into(),
        ],
    };
    (json, report::render_claims(results, &prov))
}

/// Runs the checks of a plan (no progress bars, no files): what the docs-freshness test regenerates.
pub fn compute(plan: &[(ClaimId, CheckConfig)]) -> Result<Vec<ClaimResult>, UserError> {
    plan.iter()
        .map(|(c, cfg)| {
            lemmas::check(*c, cfg, &lemmas::NoProgress).map_err(|e| UserError(format!("{}: {e}", c.slide())))
        })
        .collect()
}
