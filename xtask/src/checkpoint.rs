//! Checkpoints: the append-only file of finished seeds behind `verify-lemmas --resume` and `--shard K/N`.
//!
//! The `merge` command that combines shards is here too.
//! A checkpoint is a JSON-lines file in the output folder, `checkpoint-<profile>.jsonl` for a whole
//! run and `checkpoint-<profile>-shard-K-of-N.jsonl` for shard K of N. Its first line is a
//! [`Header`] (written atomically when the file is created): the command, the profile, the shard
//! and every claim's configuration with its fingerprint. Each further line is one finished seed, a
//! [`SeedLine`], appended and flushed as soon as the seed is done, so a killed run loses at most the
//! seeds that were running. A last line cut short by the kill is ignored (and cut off on resume);
//! any other unreadable line is an error.
//!
//! Resuming takes every stored seed instead of recomputing it; f64 values round-trip exactly
//! through the JSON (serde_json's `float_roundtrip`; each line is read back and compared bit for
//! bit before it is written), so a resumed or merged run gives byte-identical results.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use lemmas::{CheckConfig, ClaimId, LemmaError, Profile, SeedOutcome, SeedStore, Shard};
use serde::{Deserialize, Serialize};

use crate::CommandError;
use crate::files::write_file;

/// Version of the file format, in every header.
pub const FORMAT: u32 = 1;

/// One claim of a run: its configuration and the configuration's fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimPlan {
    /// Which claim.
    pub claim: ClaimId,
    /// [`fingerprint`] of `config`; every seed line of the claim carries it.
    pub fingerprint: String,
    /// The configuration the seeds were run with.
    pub config: CheckConfig,
}

/// The first line of a checkpoint: what run its seeds belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub format: u32,
    /// The command that reproduces the results (without `--shard`, `--resume`, `--out`, `--threads`).
    pub command: String,
    /// The profile.
    pub profile: Profile,
    /// The shard this file holds, or `None` for a whole run.
    pub shard: Option<Shard>,
    /// Every claim of the run, in order.
    pub claims: Vec<ClaimPlan>,
}

impl Header {
    /// The header of a run of `plan`.
    pub fn new(command: String, profile: Profile, shard: Option<Shard>, plan: &[(ClaimId, CheckConfig)]) -> Self {
        let claims = plan
            .iter()
            .map(|(claim, config)| ClaimPlan {
                claim: *claim,
                fingerprint: fingerprint(*claim, config),
                config: config.clone(),
            })
            .collect();
        Header { format: FORMAT, command, profile, shard, claims }
    }

    /// The plan: each claim with its configuration.
    pub fn plan(&self) -> Vec<(ClaimId, CheckConfig)> {
        self.claims.iter().map(|c| (c.claim, c.config.clone())).collect()
    }

    /// Why a run with header `other` cannot continue this one (None when it can): the first
    /// difference, named.
    pub fn difference(&self, other: &Header) -> Option<String> {
        if self.format != other.format {
            return Some(format!("file format {} there, {} now", self.format, other.format));
        }
        if self.profile != other.profile {
            return Some(format!("profile {} there, {} now", self.profile.name(), other.profile.name()));
        }
        if self.shard != other.shard {
            let s = |s: Option<Shard>| s.map_or("no shard".to_string(), |s| format!("shard {}/{}", s.index, s.count));
            return Some(format!("{} there, {} now", s(self.shard), s(other.shard)));
        }
        let keys = |h: &Header| h.claims.iter().map(|c| c.claim.key()).collect::<Vec<_>>().join(",");
        if keys(self) != keys(other) {
            return Some(format!("claims {} there, {} now", keys(self), keys(other)));
        }
        for (a, b) in self.claims.iter().zip(&other.claims) {
            if b.config.seeds < a.config.seeds {
                return Some(format!(
                    "{}: seeds = {there} there, {} now; a resume may add seeds, not drop them: use --seeds {there} or more",
                    a.claim.key(),
                    b.config.seeds,
                    there = a.config.seeds,
                ));
            }
            let same_seeds = CheckConfig { seeds: a.config.seeds, ..b.config.clone() };
            if a.config != same_seeds || a.fingerprint != b.fingerprint {
                return Some(format!("{}: {}", a.claim.key(), config_difference(&a.config, &b.config)));
            }
        }
        None
    }

    /// Whether some claim of `other` runs more seeds than this header (a resume that adds seeds).
    pub fn adds_seeds(&self, other: &Header) -> bool {
        self.claims.iter().zip(&other.claims).any(|(a, b)| b.config.seeds > a.config.seeds)
    }
}

/// The first field in which two configurations differ, e.g. "seeds = 12 there, 20 now".
fn config_difference(there: &CheckConfig, now: &CheckConfig) -> String {
    // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
    // null and the target is a String, so serialising cannot fail.
    let (a, b) = (serde_json::to_value(there).expect("serialises"), serde_json::to_value(now).expect("serialises"));
    // CheckConfig is a struct with named fields: to_value always gives Value::Object.
    let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (a, b) else { unreachable!("a struct") };
    a.iter()
        .find(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k} = {v} there, {} now", b.get(k).map_or("nothing".into(), |x| x.to_string())))
        .unwrap_or_else(|| "another configuration fingerprint".into())
}

/// A short, stable fingerprint of a claim's configuration: FNV-1a (64 bits) of the claim key and
/// the configuration's JSON, in hex. The seed count is left out: seed t of width m is the same
/// whatever the number of seeds (its stream depends on the configuration, m and t only), so a
/// checkpoint serves a resume that adds seeds (docs/theory.md §3.1: the bounds stay valid).
pub fn fingerprint(claim: ClaimId, config: &CheckConfig) -> String {
    lemmas::config::fingerprint(claim, &CheckConfig { seeds: 0, ..config.clone() })
}

/// One finished seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedLine {
    /// Which claim.
    pub claim: ClaimId,
    /// The fingerprint of the claim's configuration (as in the header).
    pub fingerprint: String,
    /// Width m.
    pub m: usize,
    /// Seed (trial) index.
    pub trial: u64,
    /// What the seed produced.
    pub outcome: SeedOutcome,
}

/// A seed's identity in a run.
pub type Key = (ClaimId, usize, u64);

/// The checkpoint of a whole run or shard.
pub fn path(out: &Path, profile: Profile, shard: Option<Shard>) -> PathBuf {
    match shard {
        None => out.join(format!("checkpoint-{}.jsonl", profile.name())),
        Some(s) => out.join(format!("checkpoint-{}-shard-{}-of-{}.jsonl", profile.name(), s.index, s.count)),
    }
}

/// Whether two outcomes are the same bit for bit (any NaN equals any NaN: they aggregate alike).
pub fn same_bits(a: &SeedOutcome, b: &SeedOutcome) -> bool {
    a.same_bits(b)
}

/// A checkpoint read from disk.
pub struct Loaded {
    /// Its header.
    pub header: Header,
    /// Its finished seeds.
    pub entries: HashMap<Key, SeedOutcome>,
    /// Bytes up to the end of the last complete line.
    pub complete_len: u64,
    /// Whether a last line cut short (by a kill) was ignored.
    pub cut_short: bool,
}

/// Reads a checkpoint: header, then seed lines; a last line without its newline is ignored.
pub fn load(path: &Path) -> Result<Loaded, CommandError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CommandError::Input(format!("{}: cannot read it ({e}): check the path", path.display())))?;
    let complete_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let corrupt = |line: usize, why: String| {
        CommandError::Input(format!(
            "{} line {line} is corrupt ({why}): the file was edited or comes from another program; delete it and rerun",
            path.display()
        ))
    };
    // complete_len is rposition(\n) + 1 or 0, ≤ bytes.len().
    let text = std::str::from_utf8(&bytes[..complete_len]).map_err(|e| corrupt(0, e.to_string()))?;
    let mut lines = text.lines();
    let header: Header = match lines.next() {
        None => return Err(CommandError::Input(format!("{} has no header line: it is not a checkpoint; delete it and rerun", path.display()))),
        Some(l) => serde_json::from_str(l).map_err(|e| {
            CommandError::Input(format!(
                "{} is not a verify-lemmas checkpoint (its first line does not read as a header: {e}); delete it or pass another file",
                path.display()
            ))
        })?,
    };
    if header.format != FORMAT {
        return Err(CommandError::Input(format!(
            "{} has checkpoint format {}, this program reads format {FORMAT}: rerun with this version",
            path.display(),
            header.format
        )));
    }
    // The header's configurations must be the ones its fingerprints were made from: a header
    // edited by hand (δ changed, fingerprint left alone) would label seeds computed under the old
    // values with the new ones.
    // A shard read from a file is checked as one given on the command line (N = 0 would divide
    // by zero when its seeds are counted).
    if let Some(s) = header.shard {
        lemmas::Shard::new(s.index, s.count).map_err(|e| corrupt(1, e.to_string()))?;
    }
    for c in &header.claims {
        if fingerprint(c.claim, &c.config) != c.fingerprint {
            return Err(corrupt(
                1,
                format!(
                    "{}'s configuration does not match its fingerprint {}: it was changed after the seeds were computed",
                    c.claim.key(),
                    c.fingerprint
                ),
            ));
        }
        c.config.validate().map_err(|e| corrupt(1, format!("{}: {e}", c.claim.key())))?;
    }
    let fingerprints: HashMap<ClaimId, &str> =
        header.claims.iter().map(|c| (c.claim, c.fingerprint.as_str())).collect();
    let mut entries = HashMap::new();
    for (i, l) in lines.enumerate() {
        let line_no = i + 2;
        let seed: SeedLine = serde_json::from_str(l).map_err(|e| corrupt(line_no, e.to_string()))?;
        match fingerprints.get(&seed.claim) {
            None => return Err(corrupt(line_no, format!("{} is not a claim of this run", seed.claim.key()))),
            Some(fp) if *fp != seed.fingerprint => {
                return Err(corrupt(
                    line_no,
                    format!("configuration fingerprint {} is not the header's {fp}", seed.fingerprint),
                ));
            }
            Some(_) => {}
        }
        let key = (seed.claim, seed.m, seed.trial);
        if let Some(old) = entries.get(&key)
            && !same_bits(old, &seed.outcome)
        {
            return Err(corrupt(
                line_no,
                format!("seed {} of {} at m = {} is stored twice, differently", seed.trial, seed.claim.key(), seed.m),
            ));
        }
        entries.insert(key, seed.outcome);
    }
    Ok(Loaded { header, entries, complete_len: complete_len as u64, cut_short: complete_len < bytes.len() })
}

/// Whether the file at `path` holds no seed: empty, or a readable checkpoint with only its header
/// (perhaps followed by a line cut short).
pub fn holds_only_a_header(path: &Path) -> bool {
    // An empty file (a run killed before its header reached the disk) holds nothing either.
    std::fs::metadata(path).is_ok_and(|m| m.len() == 0) || load(path).is_ok_and(|l| l.entries.is_empty())
}

/// A checkpoint file open for appending: the seed store of a run.
pub struct Checkpoint {
    path: PathBuf,
    fingerprints: HashMap<ClaimId, String>,
    entries: Mutex<HashMap<Key, SeedOutcome>>,
    file: Mutex<File>,
    from_file: u64,
    preloaded: u64,
    computed: AtomicU64,
}

impl Checkpoint {
    /// Opens the checkpoint at `path` for a run with `header`. Without `resume`, an existing file
    /// is an error (it is never overwritten); with it, the file's seeds are taken (the header must
    /// match) and a last line cut short is cut off. A missing file is created with its header.
    pub fn open(path: &Path, header: &Header, resume: bool) -> Result<Self, CommandError> {
        let mut exists =
            path.try_exists().map_err(|e| CommandError::Input(format!("{}: cannot check it ({e})", path.display())))?;
        let mut entries = HashMap::new();
        // A checkpoint that holds only its header (a run stopped before its first seed finished)
        // has nothing to keep: it never blocks a new run or a --resume with other options.
        if exists && holds_only_a_header(path) {
            exists = false;
        }
        if exists {
            if !resume {
                return Err(CommandError::Input(format!(
                    "{} holds the finished seeds of an earlier run: pass --resume to continue it, or delete it to start over",
                    path.display()
                )));
            }
            let loaded = load(path)?;
            if let Some(diff) = loaded.header.difference(header) {
                return Err(CommandError::Input(format!(
                    "{} was made with other parameters ({diff}): resume with the same options (more --seeds are welcome), or delete it to start over",
                    path.display()
                )));
            }
            if loaded.cut_short {
                let f = OpenOptions::new().write(true).open(path).map_err(|e| io_error(path, e))?;
                f.set_len(loaded.complete_len).map_err(|e| io_error(path, e))?;
            }
            if loaded.header.adds_seeds(header) {
                // The header names this run's seed counts from now on (a merge or a later resume
                // reads them), written with the seeds kept, all at once.
                let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
                let rest = text.split_once('\n').map_or("", |(_, rest)| rest);
                // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
                // null and the target is a String, so serialising cannot fail.
                let line = serde_json::to_string(header).expect("a header serialises") + "\n";
                write_file(path, (line + rest).as_bytes())?;
            }
            entries = loaded.entries;
        } else {
            // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
            // null and the target is a String, so serialising cannot fail.
            let line = serde_json::to_string(header).expect("a header serialises") + "\n";
            write_file(path, line.as_bytes())?;
        }
        let file = OpenOptions::new().append(true).open(path).map_err(|e| io_error(path, e))?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            fingerprints: header.claims.iter().map(|c| (c.claim, c.fingerprint.clone())).collect(),
            from_file: entries.len() as u64,
            entries: Mutex::new(entries),
            file: Mutex::new(file),
            preloaded: 0,
            computed: AtomicU64::new(0),
        })
    }

    /// Adds seeds finished elsewhere (the shards of a merge); they are not written to this file.
    pub fn preload(&mut self, seeds: HashMap<Key, SeedOutcome>) {
        // Not poisoned: guards only span HashMap get/insert and write_all/flush, which return errors, not panic.
        let entries = self.entries.get_mut().expect("not poisoned");
        for (k, v) in seeds {
            if entries.insert(k, v).is_none() {
                self.preloaded += 1;
            }
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Seeds taken from this file when it was opened (a resume).
    pub fn resumed(&self) -> u64 {
        self.from_file
    }

    /// Seeds added by [`Checkpoint::preload`].
    pub fn preloaded(&self) -> u64 {
        self.preloaded
    }

    /// Seeds computed (and appended) since the file was opened.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Deletes the file (after the results it served are written).
    pub fn remove(self) -> Result<(), CommandError> {
        drop(self.file);
        std::fs::remove_file(&self.path).map_err(|e| io_error(&self.path, e))
    }
}

pub(crate) fn io_error(path: &Path, e: std::io::Error) -> CommandError {
    CommandError::Input(format!("{}: {e}", path.display()))
}

impl SeedStore for Checkpoint {
    fn get(&self, claim: ClaimId, m: usize, trial: u64) -> Option<SeedOutcome> {
        // Not poisoned: guards only span HashMap get/insert and write_all/flush, which return errors, not panic.
        self.entries.lock().expect("not poisoned").get(&(claim, m, trial)).cloned()
    }

    fn put(&self, claim: ClaimId, m: usize, trial: u64, outcome: &SeedOutcome) -> Result<(), LemmaError> {
        let fingerprint = self.fingerprints.get(&claim).cloned().unwrap_or_default();
        let seed = SeedLine { claim, fingerprint, m, trial, outcome: outcome.clone() };
        // A derived struct of numbers, strings and enums with String-keyed maps: serde_json writes NaN/±∞ as
        // null and the target is a String, so serialising cannot fail.
        let line = serde_json::to_string(&seed).expect("a seed line serialises") + "\n";
        let back: SeedLine = serde_json::from_str(&line).map_err(|e| LemmaError::Store(e.to_string()))?;
        if !same_bits(&back.outcome, outcome) {
            return Err(LemmaError::Store(format!(
                "seed {trial} of {} at m = {m} does not survive JSON exactly ({line:?}): a bug; please report it",
                claim.slide()
            )));
        }
        {
            // Not poisoned: guards only span HashMap get/insert and write_all/flush, which return errors, not panic.
            let mut file = self.file.lock().expect("not poisoned");
            file.write_all(line.as_bytes()).and_then(|()| file.flush()).map_err(|e| {
                LemmaError::Store(format!(
                    "{}: cannot append a finished seed ({e}); make room, then rerun with --resume",
                    self.path.display()
                ))
            })?;
        }
        // Not poisoned: guards only span HashMap get/insert and write_all/flush, which return errors, not panic.
        self.entries.lock().expect("not poisoned").insert((claim, m, trial), outcome.clone());
        self.computed.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
