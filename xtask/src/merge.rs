//! `merge`: the shard checkpoints of one run read back, checked against each other, and finished as one run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lemmas::SeedOutcome;

use crate::CommandError;
use crate::checkpoint::{Checkpoint, Header, Key, Loaded, io_error, load, path};

/// Options of `merge`.
#[derive(clap::Args, Debug, Clone)]
pub struct MergeArgs {
    /// The shard checkpoints (`checkpoint-<profile>-shard-K-of-N.jsonl`, K = 0..N−1), or folders holding them.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder for the reports and the JSON of all results (as for verify-lemmas).
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Worker threads for the seeds the merge computes itself (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Continue an interrupted merge from its own checkpoint in --out.
    #[arg(long)]
    pub resume: bool,
}

/// The shard files among `inputs` (a folder contributes its `checkpoint-*-shard-*.jsonl`).
fn shard_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, CommandError> {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| io_error(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.starts_with("checkpoint-") && name.contains("-shard-") && name.ends_with(".jsonl")
                })
                .collect();
            if found.is_empty() {
                return Err(CommandError::Input(format!(
                    "merge: {} holds no shard checkpoint (checkpoint-<profile>-shard-K-of-N.jsonl): pass the shards' output folders or files",
                    p.display()
                )));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Reads and checks the shards of one run: same run, every shard once, every shard finished.
/// Returns the run's header (without a shard) and the union of the shards' seeds.
pub fn read_shards(inputs: &[PathBuf]) -> Result<(Header, HashMap<Key, SeedOutcome>), CommandError> {
    let files = shard_files(inputs)?;
    let mut shards: BTreeMap<u64, (PathBuf, Loaded)> = BTreeMap::new();
    let mut first: Option<(PathBuf, Header)> = None;
    for f in files {
        let loaded = load(&f)?;
        let Some(shard) = loaded.header.shard else {
            return Err(CommandError::Input(format!(
                "merge: {} is the checkpoint of a whole run, not of a shard: merge only the files written with --shard K/N",
                f.display()
            )));
        };
        if let Some((f0, h0)) = &first {
            let unsharded = |h: &Header| Header { shard: None, ..h.clone() };
            // read_shards refuses a header without a shard (the let-else above) before it reaches first or shards.
            let count0 = h0.shard.expect("a shard").count;
            if shard.count != count0 {
                return Err(CommandError::Input(format!(
                    "merge: {} is a shard of {} and {} a shard of {count0}: merge the shards of one run only",
                    f.display(),
                    shard.count,
                    f0.display()
                )));
            }
            // Shards of one run have equal seed counts (a resume may add seeds to one of them).
            let (a, b) = (unsharded(h0), unsharded(&loaded.header));
            let seeds =
                a.claims.iter().zip(&b.claims).find(|(x, y)| x.config.seeds != y.config.seeds).map(|(x, y)| {
                    format!("{}: seeds = {} there, {} now", x.claim.key(), x.config.seeds, y.config.seeds)
                });
            if let Some(diff) = seeds.or_else(|| a.difference(&b)) {
                return Err(CommandError::Input(format!(
                    "merge: {} and {} come from different runs ({diff}): merge the shards of one run only",
                    f0.display(),
                    f.display()
                )));
            }
        } else {
            first = Some((f.clone(), loaded.header.clone()));
        }
        if let Some((f0, _)) = shards.get(&shard.index) {
            return Err(CommandError::Input(format!(
                "merge: shard {}/{} is given twice ({} and {}): pass each shard once",
                shard.index,
                shard.count,
                f0.display(),
                f.display()
            )));
        }
        shards.insert(shard.index, (f, loaded));
    }
    let (_, header) = first.ok_or_else(|| CommandError::Input("merge: no shard checkpoints given".into()))?;
    // read_shards refuses a header without a shard (the let-else above) before it reaches first or shards.
    let count = header.shard.expect("a shard").count;
    let missing: Vec<String> = (0..count).filter(|k| !shards.contains_key(k)).map(|k| format!("{k}/{count}")).collect();
    if !missing.is_empty() {
        return Err(CommandError::Input(format!(
            "merge: shard {} missing: run it (`{} --shard K/N`) and pass all {count} shard files",
            missing.join(", "),
            header.command
        )));
    }
    let mut union = HashMap::new();
    for (f, loaded) in shards.into_values() {
        // read_shards refuses a header without a shard (the let-else above) before it reaches first or shards.
        let shard = loaded.header.shard.expect("a shard");
        for c in &loaded.header.claims {
            let cfg = &c.config;
            for &m in &cfg.widths {
                let have = (0..cfg.seeds)
                    .filter(|&t| shard.contains(t) && loaded.entries.contains_key(&(c.claim, m, t)))
                    .count();
                let want = shard.seeds_in(cfg.seeds) as usize;
                if have < want {
                    let dir = f.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                    return Err(CommandError::Input(format!(
                        "merge: {} (shard {}/{}) is unfinished: {} has {have} of {want} seeds at m = {m}; finish it with `{} --shard {}/{} --resume --out {}`",
                        f.display(),
                        shard.index,
                        shard.count,
                        c.claim.key(),
                        header.command,
                        shard.index,
                        shard.count,
                        dir.display()
                    )));
                }
            }
        }
        union.extend(loaded.entries);
    }
    Ok((Header { shard: None, ..header }, union))
}

/// `cargo xtask merge`: combines the shards of a run into the results and reports a single process
/// running every seed would write, byte for byte. The shards hold every seed of the sweep widths;
/// the bisection widths depend on all of them, so the merge computes their seeds itself (with its
/// own checkpoint in --out, so an interrupted merge can --resume).
pub fn merge(args: MergeArgs) -> Result<ExitCode, CommandError> {
    let (header, seeds) = read_shards(&args.inputs)?;
    crate::verify::set_threads(args.threads)?;
    let lock = crate::lock::OutputLock::acquire(&args.out)?;
    let mut store = Checkpoint::open(&path(&args.out, header.profile, None), &header, args.resume)?;
    if let Some(note) = lock.takeover_note() {
        eprintln!("{note}");
    }
    store.preload(seeds);
    let code = crate::verify::execute(&header, &args.out, store, None)?;
    crate::verify::finish(&args.out, header.profile, code)?;
    Ok(code)
}
