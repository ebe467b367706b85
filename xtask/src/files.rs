//! Writing outputs: all of a command's files or none (temporaries first, then one rename each).
//!
//! Folders are created on demand.

use std::io::Write;
use std::path::{Path, PathBuf};

use report::Page;

use crate::CommandError;

/// Writes each page under `root` (creating `root` and sub-folders): all of them or none.
///
/// Pages are rendered as if they lived in the repository's `docs/` folder, so their links to the
/// documents there (`theory.md#…`, `figure1.md`) are bare names; written anywhere else (a record
/// such as `docs/paper-lem-2.5/`, or a user's `--out`), those links are rebased onto `docs/`
/// ([`rebase_links`]).
pub fn write_pages(root: &Path, pages: &[Page]) -> Result<(), CommandError> {
    write_pages_and(root, pages, &[])
}

/// [`write_pages`] together with other files (a command's results JSON) in one [`write_all`]: the
/// results and their pages land together or not at all.
pub fn write_pages_and(root: &Path, pages: &[Page], others: &[(PathBuf, &[u8])]) -> Result<(), CommandError> {
    let names: Vec<&str> = pages.iter().map(|p| p.path.as_str()).collect();
    let prefix = docs_prefix(root);
    let contents: Vec<String> = pages
        .iter()
        .map(|p| if p.path.ends_with(".md") { rebase_links(&p.contents, &names, &prefix) } else { p.contents.clone() })
        .collect();
    let mut files: Vec<(PathBuf, &[u8])> = others.to_vec();
    files.extend(pages.iter().zip(&contents).map(|(p, c)| (root.join(&p.path), c.as_bytes())));
    write_all(&files)
}

/// The repository's `docs/` folder.
pub fn docs_dir() -> PathBuf {
    normalise(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs"))
}

/// `path` made absolute and without `.`/`..` components (lexically: it need not exist yet).
fn normalise(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(path)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The relative path from `root` to the repository's `docs/` folder, with a trailing `/`
/// (empty when `root` is `docs/` itself).
pub fn docs_prefix(root: &Path) -> String {
    let (from, to) = (normalise(root), docs_dir());
    let (f, t): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut s = "../".repeat(f.len() - common);
    // common ≤ min(f.len(), t.len()) by take_while over zip.
    for c in &t[common..] {
        s.push_str(&c.as_os_str().to_string_lossy());
        s.push('/');
    }
    s
}

/// Rewrites Markdown links `](name…)` whose target is a bare file name (no folder, no scheme) that
/// is not among the pages written (`names`) but is a document of the repository's `docs/`, to
/// `prefix` + name. An empty prefix leaves the text as it is.
pub fn rebase_links(text: &str, names: &[&str], prefix: &str) -> String {
    if prefix.is_empty() {
        return text.to_string();
    }
    let docs = docs_dir();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        // i + 2 is the end of an ASCII "](" match in rest.
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let end = rest.find([')', '#']).unwrap_or(rest.len());
        let target = &rest[..end];
        let bare = !target.is_empty() && !target.contains('/') && !target.contains(':') && target.ends_with(".md");
        if bare && !names.contains(&target) && docs.join(target).is_file() {
            out.push_str(prefix);
        }
    }
    out.push_str(rest);
    out
}

/// Writes one file atomically, creating its folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CommandError> {
    write_all(&[(path.to_path_buf(), bytes)])
}

/// The temporary beside `path` that [`write_all`] renames onto it.
fn temporary(path: &Path) -> Result<PathBuf, CommandError> {
    let name = path.file_name().ok_or_else(|| CommandError::Input(format!("{}: not a file name", path.display())))?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp))
}

/// Writes every file or none: each goes to a temporary beside it (flushed to disk), and only when
/// all temporaries are written are they renamed onto their paths. A failure while writing removes
/// every temporary and leaves the old files (if any) untouched; the renames that follow are
/// same-folder renames, which fail only when the folder itself goes away.
pub fn write_all(files: &[(PathBuf, &[u8])]) -> Result<(), CommandError> {
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
                    CommandError::Input(format!("{}: cannot create folder ({e}); nothing was written", dir.display()))
                })?;
            }
            let tmp = temporary(path)?;
            let mut f = std::fs::File::create(&tmp).map_err(|e| {
                CommandError::Input(format!("{}: cannot write ({e}); nothing was written", path.display()))
            })?;
            written.push((tmp, path.as_path()));
            f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| {
                CommandError::Input(format!("{}: cannot write ({e}); nothing was written", path.display()))
            })
        })();
        if let Err(e) = result {
            cleanup(&written);
            return Err(e);
        }
    }
    for (i, (tmp, path)) in written.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            cleanup(&written[i..]);
            return Err(CommandError::Input(format!("{}: cannot write ({e})", path.display())));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_docs_are_rebased_only_outside_docs() {
        let docs = docs_dir();
        assert_eq!(docs_prefix(&docs), "");
        assert_eq!(docs_prefix(&docs.join("paper-lem-2.5")), "../");
        let text = "see [theory §3](theory.md#3-statistics-and-verdicts), [Fig. 1](figure1.md), [own](lem-2.5.md), [img](img/a.svg), [web](https://x.md)";
        let names = ["lem-2.5.md", "index.md"];
        assert_eq!(
            rebase_links(text, &names, "../"),
            "see [theory §3](../theory.md#3-statistics-and-verdicts), [Fig. 1](../figure1.md), [own](lem-2.5.md), [img](img/a.svg), [web](https://x.md)"
        );
        assert_eq!(rebase_links(text, &names, ""), text);
    }

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
