//! The exclusive lock on an output folder, held for a whole `verify-lemmas`, `merge`, `scaling` or `figure1` run.
//!
//! With it, two writers never share one checkpoint or overwrite each other's results. The lock is
//! the file `<out>/.overparam.lock` for a whole run or a merge (they write the results and the
//! reports), or `<out>/.overparam-shard-K-of-N.lock` for shard K of N (a shard writes only its own
//! checkpoint, so the N shards of a run may share a folder), created with `create_new` (atomic on
//! every local file system) and holding the holder's pid and command. A second run on the same
//! folder is refused with a message naming that pid. A lock whose pid no longer runs (the holder
//! was killed) is stale: it is taken over ([`OutputLock::takeover_note`] says so once the run is
//! under way, so that an error right after still prints one line only). The file is removed when
//! the run ends (on success and on error alike).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::CommandError;

/// The lock file's name inside the output folder.
pub const LOCK_FILE: &str = ".overparam.lock";

/// A held lock; dropping it removes the lock file.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    took_over: Option<String>,
}

/// Whether process `pid` is running (Linux: `/proc/<pid>` exists; elsewhere assumed running).
pub fn pid_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

impl OutputLock {
    /// Takes the lock of a whole run on `dir` (creating the folder), or explains who holds it.
    pub fn acquire(dir: &Path) -> Result<Self, CommandError> {
        Self::acquire_named(dir, LOCK_FILE)
    }

    /// Takes the lock of a run or shard (`shard = Some((K, N))`) on `dir`.
    pub fn acquire_for(dir: &Path, shard: Option<(u64, u64)>) -> Result<Self, CommandError> {
        match shard {
            None => Self::acquire(dir),
            Some((k, n)) => Self::acquire_named(dir, &format!(".overparam-shard-{k}-of-{n}.lock")),
        }
    }

    /// Takes the lock file `name` in `dir`.
    pub fn acquire_named(dir: &Path, name: &str) -> Result<Self, CommandError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| CommandError::Input(format!("{}: cannot create the output folder ({e})", dir.display())))?;
        let path = dir.join(name);
        let mut took_over = None;
        for _ in 0..3 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let me = format!(
                        "{}\n{}\n",
                        std::process::id(),
                        std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
                    );
                    f.write_all(me.as_bytes())
                        .and_then(|()| f.sync_all())
                        .map_err(|e| CommandError::Input(format!("{}: cannot write the lock ({e})", path.display())))?;
                    return Ok(OutputLock { path, took_over });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = text.lines().next().and_then(|l| l.trim().parse::<u32>().ok());
                    match pid {
                        Some(pid) if pid_alive(pid) => {
                            return Err(CommandError::Input(format!(
                                "{} is in use by process {pid} ({}; lock file {}): wait for it to finish, or use another --out",
                                dir.display(),
                                text.lines().nth(1).unwrap_or("another run").trim(),
                                path.display()
                            )));
                        }
                        Some(pid) => {
                            took_over = Some(format!(
                                "note: took over the lock {} of process {pid}, which no longer runs",
                                path.display()
                            ));
                        }
                        None => took_over = Some(format!("note: took over the unreadable lock {}", path.display())),
                    }
                    // Move the stale file aside first: of two runs taking it over, one rename wins.
                    let aside = path.with_extension(format!("stale.{}", std::process::id()));
                    if std::fs::rename(&path, &aside).is_ok() {
                        let _ = std::fs::remove_file(&aside);
                    }
                }
                Err(e) => return Err(CommandError::Input(format!("{}: cannot create the lock ({e})", path.display()))),
            }
        }
        Err(CommandError::Input(format!("{}: cannot take the lock (it keeps changing hands): retry", path.display())))
    }

    /// The note to print when a stale lock was taken over (None when the lock was free).
    pub fn takeover_note(&self) -> Option<&str> {
        self.took_over.as_deref()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-lock-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_held_lock_refuses_and_a_released_one_is_free() {
        let d = dir("held");
        let lock = OutputLock::acquire(&d).unwrap();
        let e = OutputLock::acquire(&d).unwrap_err().message();
        assert!(e.contains(&format!("in use by process {}", std::process::id())), "{e}");
        drop(lock);
        assert!(!d.join(LOCK_FILE).exists());
        OutputLock::acquire(&d).unwrap();
    }

    #[test]
    fn a_stale_lock_of_a_dead_pid_is_taken_over() {
        let d = dir("stale");
        std::fs::create_dir_all(&d).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(dead) || !Path::new("/proc").is_dir());
        std::fs::write(d.join(LOCK_FILE), format!("{dead}\nold run\n")).unwrap();
        let lock = OutputLock::acquire(&d).unwrap();
        assert!(lock.takeover_note().unwrap().contains(&format!("process {dead}")));
        let text = std::fs::read_to_string(lock.path()).unwrap();
        assert!(text.starts_with(&format!("{}\n", std::process::id())), "{text}");
    }
}
