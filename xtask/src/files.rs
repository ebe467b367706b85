//! Writing reports: every file atomically (temporary file, then rename), folders created on demand.

use std::path::Path;

use report::Page;

use crate::UserError;

/// Writes each page under `root` (creating `root` and sub-folders), each file atomically.
pub fn write_pages(root: &Path, pages: &[Page]) -> Result<(), UserError> {
    for page in pages {
        write_file(&root.join(&page.path), page.contents.as_bytes())?;
    }
    Ok(())
}

/// Writes one file atomically, creating its folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), UserError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| UserError(format!("{}: cannot create folder ({e})", dir.display())))?;
    }
    model::npy::write_atomic(path, bytes)?;
    Ok(())
}
