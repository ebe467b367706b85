//! Writing outputs: all of a command's files or none (temporaries first, then one rename each), folders created on demand.

use std::io::Write;
use std::path::{Path, PathBuf};

use report::Page;

use crate::UserError;

/// Writes each page under `root` (creating `root` and sub-folders): all of them or none.
pub fn write_pages(root: &Path, pages: &[Page]) -> Result<(), UserError> {
    let files: Vec<(PathBuf, &[u8])> = pages.iter().map(|p| (root.join(&p.path), p.contents.as_bytes())).collect();
    write_all(&files)
}

/// Writes one file atomically, creating its folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), UserError> {
    write_all(&[(path.to_path_buf(), bytes)])
}

/// The temporary beside `path` that [`write_all`] renames onto it.
fn temporary(path: &Path) -> Result<PathBuf, UserError> {
    let name = path.file_name().ok_or_else(|| UserError(format!("{}: not a file name", path.display())))?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp))
}

/// Writes every file or none: each goes to a temporary beside it (flushed to disk), and only when
/// all temporaries are written are they renamed onto their paths. A failure while writing removes
/// every temporary and leaves the old files (if any) untouched; the renames that follow are
/// same-folder renames, which fail only when the folder itself goes away.
pub fn write_all(files: &[(PathBuf, &[u8])]) -> Result<(), UserError> {
    let mut written: Vec<(PathBuf, &Path)> = Vec::new();
    let cleanup = |written: &[(PathBuf, &Path)]| {
        for (tmp, _) in written {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (path, bytes) in files {
        let result = (|| {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    UserError(format!("{}: cannot create folder ({e}); nothing was written", dir.display()))
                })?;
            }
            let tmp = temporary(path)?;
            let mut f = std::fs::File::create(&tmp)
                .map_err(|e| UserError(format!("{}: cannot write ({e}); nothing was written", path.display())))?;
            written.push((tmp, path.as_path()));
            f.write_all(bytes)
                .and_then(|()| f.sync_all())
                .map_err(|e| UserError(format!("{}: cannot write ({e}); nothing was written", path.display())))
        })();
        if let Err(e) = result {
            cleanup(&written);
            return Err(e);
        }
    }
    for (i, (tmp, path)) in written.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            cleanup(&written[i..]);
            return Err(UserError(format!("{}: cannot write ({e})", path.display())));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_file_leaves_none_written() {
        let dir = std::env::temp_dir().join(format!("xtask-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The second path's folder is a file: its temporary cannot be created.
        std::fs::write(dir.join("blocker"), b"x").unwrap();
        let files = [(dir.join("a.txt"), &b"a"[..]), (dir.join("blocker/b.txt"), &b"b"[..])];
        assert!(write_all(&files).is_err());
        let mut left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        left.sort();
        assert_eq!(left, vec![std::ffi::OsString::from("blocker")]);
        // Both written when both can be.
        let files = [(dir.join("a.txt"), &b"a"[..]), (dir.join("sub/b.txt"), &b"b"[..])];
        write_all(&files).unwrap();
        assert_eq!(std::fs::read(dir.join("sub/b.txt")).unwrap(), b"b");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
