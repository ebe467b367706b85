//! The main job's section of `bench-peers`: each claim of the quick profile (what
//! `cargo xtask verify-lemmas` runs by default) timed on this machine beside the plan line's
//! forecast for it, so that docs/performance.md states both from one run.

use std::time::Instant;

use lemmas::NoProgress;

use xtask::estimate::{claim_seconds, plan_lambda0};
use xtask::{CommandError, eprintln};

/// One claim's measured seconds and its forecast.
pub(super) struct ClaimTime {
    pub(super) slide: &'static str,
    pub(super) seconds: f64,
    pub(super) forecast: f64,
}

/// Runs every claim of the quick profile in turn on the current thread pool (no reports written).
pub(super) fn quick_claim_times() -> Result<Vec<ClaimTime>, CommandError> {
    let args = xtask::verify::Args { profile: "quick".into(), ..Default::default() };
    let (_, plan) = xtask::verify::plan(&args)?;
    let lambda0 = plan_lambda0(&plan)?;
    let threads = rayon::current_num_threads();
    let mut out = Vec::new();
    for ((claim, cfg), l0) in plan.iter().zip(lambda0) {
        eprintln!("bench-peers: the quick profile's {}", claim.slide());
        let t = Instant::now();
        lemmas::check(*claim, cfg, &NoProgress)?;
        out.push(ClaimTime {
            slide: claim.slide(),
            seconds: t.elapsed().as_secs_f64(),
            forecast: claim_seconds(*claim, cfg, l0, threads),
        });
    }
    Ok(out)
}

/// The section's Markdown: a table of the claims and the whole, with the ratio of each forecast.
pub(super) fn section(times: &[ClaimTime]) -> String {
    let mut md = String::from(
        "\nThe main job (`cargo xtask verify-lemmas`, quick profile), claim by claim, on the same machine \
         (release build, reports not written):\n\n| claim | time | forecast | forecast ÷ time |\n|---|---|---|---|\n",
    );
    let row = |name: &str, seconds: f64, forecast: f64| {
        format!("| {name} | {seconds:.1} s | {forecast:.1} s | {:.2} |\n", forecast / seconds)
    };
    for t in times {
        md.push_str(&row(t.slide, t.seconds, t.forecast));
    }
    let (seconds, forecast) = times.iter().fold((0.0, 0.0), |(s, f), t| (s + t.seconds, f + t.forecast));
    md.push_str(&row("all seven", seconds, forecast));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_sums_the_claims_and_states_each_ratio() {
        let times = [
            ClaimTime { slide: "Lem 2.2", seconds: 2.0, forecast: 3.0 },
            ClaimTime { slide: "Thm 3.1", seconds: 8.0, forecast: 4.0 },
        ];
        let md = section(&times);
        assert!(md.contains("| Lem 2.2 | 2.0 s | 3.0 s | 1.50 |"), "{md}");
        assert!(md.contains("| Thm 3.1 | 8.0 s | 4.0 s | 0.50 |"), "{md}");
        assert!(md.contains("| all seven | 10.0 s | 7.0 s | 0.70 |"), "{md}");
    }
}
