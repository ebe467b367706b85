//! Tidy: the repository is self-contained, cites only headings that exist, and every Rust file says what it is.
//!
//! In the spirit of rust-analyzer's `xtask/tests/tidy.rs`: one walk over the repository's text
//! files (everything except `target/`, `.git/` and virtual environments), failing with a list of
//! `file:line: problem` on
//!
//! - (a) a relative path that climbs out of the repository root (resolved from the file's folder,
//!   so `docs/x.md → ../README.md` is fine), or an absolute path into the machine's work area;
//! - (b) a mention of a design document that is not in the repository (the outside spec or style
//!   notes; the needles are built at run time so this file does not match itself);
//! - (c) a citation `theory.md §N.M` / `theory §N.M` of a heading that `docs/theory.md` lacks, and a
//!   relative Markdown link (or image) whose file, or `#anchor` in a Markdown file, does not exist;
//! - (d) a `.rs` file whose first line is not a `//!` sentence naming its role.
//!
//! [`OWNED_ELSEWHERE_UNTIL_MERGE`] excuses files that other branches are rewriting at the same
//! time; the test lists what they still trip and fails if an excused file is already clean, so the
//! list can only shrink.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// Files rewritten on other branches while this check was introduced; each still trips a rule.
/// Remove an entry as soon as its file is clean (the test says when).
const OWNED_ELSEWHERE_UNTIL_MERGE: &[&str] = &[];

/// Folders never walked (build output, version control, Python environments and caches).
const SKIP_DIRS: &[&str] = &["target", ".git", ".venv", "venv", "__pycache__", ".pytest_cache", "node_modules"];

/// File extensions read as text.
const TEXT_EXTENSIONS: &[&str] =
    &["rs", "md", "toml", "py", "sh", "txt", "json", "yml", "yaml", "cfg", "snap", "pyi", "ini", "lock"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives one level below the root").to_path_buf()
}

/// Every text file of the repository, as paths relative to the root with `/` separators.
fn text_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> =
            fs::read_dir(&dir).expect("readable folder").map(|e| e.expect("entry").path()).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            if path.is_dir() {
                if !SKIP_DIRS.contains(&name.as_str()) && !name.ends_with(".egg-info") {
                    stack.push(path);
                }
                continue;
            }
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            let rel = path.strip_prefix(root).expect("under the root").to_string_lossy().replace('\\', "/");
            // Scripts without an extension (.ci/run) are text too.
            let script = ext.is_empty() && fs::read(&path).map(|b| b.starts_with(b"#!")).unwrap_or(false);
            if (TEXT_EXTENSIONS.contains(&ext) && name != "Cargo.lock") || script {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// Lexically resolves `target` against the folder `base` (both relative to the root); `None` when
/// it climbs above the root.
fn resolve(base: &Path, target: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> = Vec::new();
    for c in base.join(target).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// The path-like tokens of a line that contain a parent step (`..` followed by a slash).
fn parent_paths(line: &str) -> Vec<String> {
    let parent = ["..", "/"].concat();
    let is_delim = |c: char| c.is_whitespace() || "\"'`()<>[]{},;=|*".contains(c);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = line[from..].find(&parent) {
        let at = from + pos;
        let start = line[..at].rfind(is_delim).map_or(0, |i| i + line[..at][i..].chars().next().unwrap().len_utf8());
        let end = line[at..].find(is_delim).map_or(line.len(), |i| at + i);
        out.push(line[start..end].to_string());
        from = end.max(at + parent.len());
    }
    out
}

/// GitHub's anchor of a heading: lower case, only letters, digits, spaces, `-` and `_` kept,
/// spaces turned into `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown text (duplicates get `-1`, `-2`, … as on GitHub); fenced code skipped.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        let base = slug(title);
        let count = seen.entry(base.clone()).or_insert(0);
        out.insert(if *count == 0 { base.clone() } else { format!("{base}-{count}") });
        *count += 1;
    }
    out
}

/// The section numbers of `docs/theory.md`: `## N. Title` gives N, `### N.M Title` gives N.M.
fn theory_sections(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let rest = if let Some(r) = line.strip_prefix("### ") {
            r
        } else if let Some(r) = line.strip_prefix("## ") {
            r
        } else {
            continue;
        };
        let number = rest.split_whitespace().next().unwrap_or("").trim_end_matches('.');
        if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit() || c == '.') {
            out.insert(number.to_string());
        }
    }
    out
}

/// The section numbers cited on a line: `theory.md §2.1`, `theory §3`, and the lists that follow
/// (`theory.md §1.3, §2.8`, `theory §4.1 and §4.2`).
fn theory_citations(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for needle in ["theory.md §", "theory §", "theory.md) §", "theory.md` §"] {
        let mut from = 0;
        while let Some(pos) = line[from..].find(needle) {
            let mut at = from + pos + needle.len();
            loop {
                let number: String = line[at..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                let number = number.trim_end_matches('.').to_string();
                if number.is_empty() {
                    break;
                }
                at += number.len();
                out.push(number);
                // A list continues with ", §", " and §", ", and §", "–§" or "/§".
                let rest = &line[at..];
                match [", and §", ", §", " and §", "–§", "/§"].iter().find(|sep| rest.starts_with(**sep)) {
                    Some(sep) => at += sep.len(),
                    None => break,
                }
            }
            from = at.max(from + pos + needle.len());
        }
    }
    out
}

/// The targets of the Markdown links and images of a line (`[t](target)`, `![a](target)`,
/// `[ref]: target`), inline code removed first.
fn markdown_links(line: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            plain.push(c);
        }
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = plain[from..].find("](") {
        let start = from + pos + 2;
        let mut depth = 1;
        let mut end = plain.len();
        for (i, c) in plain[start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let target = plain[start..end].split_whitespace().next().unwrap_or("").trim_matches(|c| c == '<' || c == '>');
        out.push(target.to_string());
        from = end.min(plain.len());
        if from == plain.len() {
            break;
        }
    }
    let trimmed = plain.trim_start();
    if trimmed.starts_with('[')
        && let Some(close) = trimmed.find("]:")
        && let Some(target) = trimmed[close + 2..].split_whitespace().next()
    {
        out.push(target.to_string());
    }
    out
}

/// Whether `word` occurs in `line` delimited by non-word characters (case-sensitive).
fn has_word(line: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(word).any(|(i, _)| {
        !line[..i].chars().next_back().is_some_and(is_word)
            && !line[i + word.len()..].chars().next().is_some_and(is_word)
    })
}

fn is_external(target: &str) -> bool {
    target.is_empty() || target.contains("://") || target.starts_with("mailto:")
}

/// Every problem of the repository, by file.
fn problems(root: &Path) -> BTreeMap<String, Vec<String>> {
    let theory_text = fs::read_to_string(root.join("docs/theory.md")).unwrap_or_default();
    let sections = theory_sections(&theory_text);
    let spec_word = ["SP", "EC"].concat();
    let outside_docs = [format!("{spec_word}.md"), ["STY", "LE.md"].concat(), format!("{spec_word} §")];
    let work_area = ["/", "work", "/"].concat();
    let mut anchor_cache: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();

    for rel in text_files(root) {
        let Ok(text) = fs::read_to_string(root.join(&rel)) else { continue };
        let dir = Path::new(&rel).parent().unwrap_or(Path::new("")).to_path_buf();
        let markdown = rel.ends_with(".md");
        let mut report =
            |line: usize, what: String| found.entry(rel.clone()).or_default().push(format!("{rel}:{line}: {what}"));

        if rel.ends_with(".rs") {
            let first = text.lines().next().unwrap_or("");
            let sentence = first.strip_prefix("//! ").map(str::trim).unwrap_or("");
            if sentence.split_whitespace().count() < 3 {
                report(1, format!("first line is not a `//!` sentence naming the file's role: {first:?}"));
            }
        }

        let mut fenced = false;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            for token in parent_paths(line) {
                if resolve(&dir, &token).is_none() {
                    report(n, format!("path reaches outside the repository: {token}"));
                }
            }
            if line.contains(&work_area) {
                report(n, "absolute path into the machine's work area".to_string());
            }
            let named = outside_docs
                .iter()
                .find(|needle| line.contains(needle.as_str()))
                .cloned()
                .or_else(|| has_word(line, &spec_word).then(|| spec_word.clone()));
            if let Some(needle) = named {
                report(n, format!("mentions {needle:?}, which is not in the repository: cite docs/theory.md"));
            }
            for number in theory_citations(line) {
                if !sections.contains(&number) {
                    report(n, format!("cites theory §{number}, a heading docs/theory.md does not have"));
                }
            }
            if !markdown {
                continue;
            }
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                continue;
            }
            if fenced {
                continue;
            }
            for target in markdown_links(line) {
                if is_external(&target) {
                    continue;
                }
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target.as_str(), None),
                };
                let resolved = if file.is_empty() { Some(PathBuf::from(&rel)) } else { resolve(&dir, file) };
                let Some(resolved) = resolved else {
                    continue; // reported by (a)
                };
                if !root.join(&resolved).exists() {
                    report(n, format!("broken link: {target} ({} does not exist)", resolved.display()));
                    continue;
                }
                if let Some(anchor) = anchor
                    && resolved.extension().is_some_and(|e| e == "md")
                {
                    let known = anchor_cache
                        .entry(resolved.clone())
                        .or_insert_with(|| anchors(&fs::read_to_string(root.join(&resolved)).unwrap_or_default()));
                    if !known.contains(anchor) {
                        report(n, format!("broken link: {target} (no heading with anchor #{anchor})"));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_repository_is_tidy() {
    let root = repo_root();
    let found = problems(&root);
    let mut failures = Vec::new();
    let mut pending = Vec::new();
    for (file, lines) in &found {
        if OWNED_ELSEWHERE_UNTIL_MERGE.contains(&file.as_str()) {
            pending.extend(lines.iter().cloned());
        } else {
            failures.extend(lines.iter().cloned());
        }
    }
    for file in OWNED_ELSEWHERE_UNTIL_MERGE {
        if !found.contains_key(*file) {
            failures.push(format!(
                "{file}: is clean now: remove it from OWNED_ELSEWHERE_UNTIL_MERGE in xtask/tests/tidy.rs"
            ));
        }
    }
    if !pending.is_empty() {
        eprintln!(
            "tidy: {} problems remain in {} files excused until their branches merge:\n{}",
            pending.len(),
            OWNED_ELSEWHERE_UNTIL_MERGE.len(),
            pending.join("\n")
        );
    }
    assert!(failures.is_empty(), "tidy found {} problems:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_rules_catch_what_they_claim() {
    // (a) climbing out is caught, staying inside is not.
    let up = ["..", "/"].concat();
    assert!(resolve(Path::new("docs"), &format!("{up}README.md")).is_some());
    assert!(resolve(Path::new("docs"), &format!("{up}{up}shared/x.md")).is_none());
    assert!(resolve(Path::new(""), &format!("{up}x")).is_none());
    assert_eq!(
        parent_paths(&format!("see ({up}a/b.md) and `{up}{up}c`")),
        vec![format!("{up}a/b.md"), format!("{up}{up}c")]
    );
    // (c) citations with lists, and the sections of a theory page.
    let page = "# T\n## 1. The model\n### 1.2 Gram matrices and λ0\n## 3. Statistics\n";
    let sections = theory_sections(page);
    assert_eq!(sections, ["1", "1.2", "3"].iter().map(|s| s.to_string()).collect());
    assert_eq!(theory_citations("(docs/theory.md §1.3, §2.8)"), vec!["1.3", "2.8"]);
    assert_eq!(theory_citations("[theory §3.3](theory.md#33-the-numerical-band) and theory §4"), vec!["3.3", "4"]);
    assert_eq!(theory_citations("docs/theory.md §4.1 and §4.2."), vec!["4.1", "4.2"]);
    // Anchors as GitHub writes them.
    let a = anchors(page);
    assert!(a.contains("12-gram-matrices-and-λ0") && a.contains("1-the-model"), "{a:?}");
    assert_eq!(slug("2.1 Lem 2.2 (paper Lem 3.1)"), "21-lem-22-paper-lem-31");
    assert_eq!(slug("3.1 Clopper–Pearson intervals and verdicts"), "31-clopperpearson-intervals-and-verdicts");
    // Links, with inline code ignored.
    assert_eq!(markdown_links("a [x](docs/a.md#b) `[no](c.md)` ![i](img/p.svg)"), vec!["docs/a.md#b", "img/p.svg"]);
    assert_eq!(markdown_links("[ref]: theory.md"), vec!["theory.md"]);
    // (b) the bare word, not inside longer words.
    let word = ["SP", "EC"].concat();
    assert!(has_word(&format!("route: \"{word}: Hoeffding\""), &word));
    assert!(!has_word(&format!("{word}TRAL {word}s x{word}"), &word));
}
