//! The house rules a test can check from the source text: no import cycle, no claim imports a claim, few xtask crates.
//!
//! - No file-level import cycle in any crate: a file (module) names another through `crate::…`,
//!   `super::…` or a `use crate::{…}` group; test modules (`#[cfg(test)] mod … { … }`) do not count.
//!   The crate root (`lib.rs`, `main.rs`) is the crate's index, not a node: a name taken from it
//!   counts as an edge to the module it re-exports (`pub use module::Name`).
//! - No claim imports a claim: the claim modules are those of the `claims!` table in
//!   `crates/lemmas/src/lib.rs`.
//! - `lemmas` steps no dynamics by hand: its non-test code calls no `.step(` and walks no
//!   `Move::`s, so every run it drives goes through the one executor `model::execute` (through
//!   `trajectory::execute`, the only caller of `model::execute` in the crate) or a dynamics crate's
//!   own `run`, which goes through it too.
//! - `xtask` depends on at most [`XTASK_INTERNAL_CRATES`] internal crates.
//! - Every `.rs` file's first `//!` line is one sentence of at most [`FIRST_LINE_CHARS`] characters.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most internal crates `xtask` may depend on.
const XTASK_INTERNAL_CRATES: usize = 3;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ sits in the workspace").to_path_buf()
}

/// The source folders whose files form one module graph each.
fn source_roots() -> Vec<PathBuf> {
    let ws = workspace();
    let mut roots: Vec<PathBuf> = std::fs::read_dir(ws.join("crates"))
        .expect("crates/ is readable")
        .map(|e| e.expect("a directory entry").path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    roots.push(ws.join("xtask/src"));
    roots.push(ws.join("bench-peers/src"));
    roots.push(ws.join("python/src"));
    roots.sort();
    roots
}

/// Every `.rs` file below `dir`, by its module path (`a/b.rs` and `a/b/mod.rs` are `a::b`; the
/// root is the empty path).
fn modules(dir: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("a readable source folder") {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).expect("below dir").with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|l| l == "mod") {
                parts.pop();
            }
            if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
                parts.clear();
            }
            (parts, p)
        })
        .collect()
}

/// The text without comments, string and char literals, and `#[cfg(test)]` items.
fn code_of(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |k| i + 2 + k + 2);
            i = end;
        } else if b[i] == b'"' || (b[i] == b'r' && b.get(i + 1).is_some_and(|&c| c == b'"' || c == b'#')) {
            // A (raw) string literal.
            let mut hashes = 0;
            let raw = b[i] == b'r';
            if raw {
                i += 1;
                while b[i] == b'#' {
                    hashes += 1;
                    i += 1;
                }
            }
            i += 1;
            while i < b.len() {
                if !raw && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == b'"' && b[i + 1..].iter().take(hashes).filter(|&&c| c == b'#').count() == hashes {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            let end = text[i + 2..].find('\'').map_or(b.len(), |k| i + 2 + k + 1);
            i = end;
        } else {
            let ch = text[i..].chars().next().expect("inside the text");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    strip_cfg_test(&out)
}

/// Removes every item that follows `#[cfg(test)]` (a `mod … { … }` block or a one-line item).
fn strip_cfg_test(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(k) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..k]);
        let after = &rest[k + "#[cfg(test)]".len()..];
        let brace = after.find('{');
        let semi = after.find(';');
        rest = match (brace, semi) {
            (Some(bi), Some(si)) if si < bi => &after[si + 1..],
            (Some(bi), _) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (j, c) in after[bi..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = bi + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                &after[end..]
            }
            (None, Some(si)) => &after[si + 1..],
            (None, None) => "",
        };
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths (as segment lists) that `code` names from `prefix` (`crate` or `super`), expanding
/// `prefix::{a, b::c}` groups to their first segments.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let pat = format!("{prefix}::");
    let mut from = 0;
    while let Some(k) = code[from..].find(&pat) {
        let start = from + k;
        from = start + pat.len();
        if code[..start].chars().next_back().is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => items.push(std::mem::take(&mut item)),
                    _ if depth == 1 => item.push(c),
                    _ => {}
                }
            }
            items.push(item);
            for it in items {
                let segs: Vec<String> =
                    it.split("::").map(|s| s.split_whitespace().next().unwrap_or("").to_string()).collect();
                if segs.first().is_some_and(|s| !s.is_empty()) {
                    out.push(segs);
                }
            }
        } else {
            let end = rest.find(|c: char| !(is_ident(c) || c == ':')).unwrap_or(rest.len());
            let segs: Vec<String> = rest[..end].split("::").filter(|s| !s.is_empty()).map(String::from).collect();
            if !segs.is_empty() {
                out.push(segs);
            }
        }
    }
    out
}

/// Names the crate root re-exports from a module: `pub use module::Name;` and
/// `pub use module::{A, B};` (one level).
fn root_reexports(root_code: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for stmt in root_code.split(';') {
        let s = stmt.trim();
        let Some(rest) = s.strip_prefix("pub use ") else { continue };
        let rest = rest.trim_start_matches("crate::").trim_start_matches("self::");
        let Some((module, names)) = rest.split_once("::") else { continue };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.split(" as ").last().unwrap_or("").trim();
            if !name.is_empty() {
                map.insert(name.to_string(), module.to_string());
            }
        }
    }
    map
}

/// The module graph of one source folder: module path → the modules its code names.
fn graph(dir: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mods = modules(dir);
    let root_code = mods.get(&Vec::new()).map(|p| code_of(&std::fs::read_to_string(p).expect("readable")));
    let reexports = root_code.as_deref().map(root_reexports).unwrap_or_default();
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        for k in (1..=path.len()).rev() {
            if mods.contains_key(&path[..k]) {
                return Some(path[..k].to_vec());
            }
        }
        let module = reexports.get(path.first()?)?;
        mods.contains_key(&vec![module.clone()]).then(|| vec![module.clone()])
    };
    let mut g = BTreeMap::new();
    for (m, p) in &mods {
        if m.is_empty() {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(p).expect("readable"));
        let mut edges = BTreeSet::new();
        for path in paths_after(&code, "crate") {
            if let Some(t) = resolve(&path) {
                edges.insert(t);
            }
        }
        for path in paths_after(&code, "super") {
            // `super::super::x` climbs one level per `super`.
            let ups = 1 + path.iter().take_while(|s| *s == "super").count();
            let Some(base) = m.len().checked_sub(ups) else { continue };
            let mut full: Vec<String> = m[..base].to_vec();
            full.extend(path.into_iter().skip(ups - 1));
            if let Some(t) = resolve(&full) {
                edges.insert(t);
            }
        }
        edges.retain(|t| t != m && !t.is_empty());
        g.insert(m.clone(), edges);
    }
    g
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Vec<String>) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        for w in t.g.get(v).into_iter().flatten() {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.stack.contains(&w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                comp.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), out: Vec::new() };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_crate_has_a_file_level_import_cycle() {
    let mut found = Vec::new();
    for root in source_roots() {
        for c in cycles(&graph(&root)) {
            found.push(format!("{}: {}", root.strip_prefix(workspace()).unwrap_or(&root).display(), c.join(" ↔ ")));
        }
    }
    assert!(found.is_empty(), "file-level import cycles:\n{}", found.join("\n"));
}

/// The checker finds a planted cycle, through a `use crate::{…}` group, a path and `super::`, and
/// ignores names inside comments, strings and test modules.
#[test]
fn the_cycle_check_finds_a_planted_cycle_and_ignores_tests_and_comments() {
    let dir = std::env::temp_dir().join(format!("tidy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).expect("a temp folder");
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("a temp file");
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub mod sub;\npub use c::Thing;\n");
    write("a.rs", "use crate::{b::f, Thing};\n// crate::c::nothing\nfn g() { f(); }\n");
    write("b.rs", "pub fn f() { let s = \"crate::a::x\"; crate::a::g(); }\n");
    write("c.rs", "pub struct Thing;\n#[cfg(test)]\nmod tests { use crate::a::g; }\n");
    write("sub/mod.rs", "pub mod inner;\n");
    write("sub/inner.rs", "use super::super::c::Thing;\n");
    let g = graph(&dir);
    let key = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
    assert_eq!(g[&key("a")], [key("b"), key("c")].into_iter().collect(), "a names b and, through the root, c");
    assert!(g[&key("c")].is_empty(), "a test module is no edge");
    assert_eq!(g[&key("sub::inner")], [key("c")].into_iter().collect());
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string()]]);
    write("b.rs", "pub fn f() { let s = \"crate::a::x\"; }\n");
    assert!(cycles(&graph(&dir)).is_empty(), "a name inside a string is no edge");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The claim modules of the `claims!` table.
fn claim_modules(lib: &str) -> Vec<String> {
    let table = lib.split("claims! {").nth(1).expect("lib.rs has the claims! table");
    let table = &table[..table.find("\n}").expect("the table closes")];
    table
        .lines()
        .filter_map(|l| l.split("=>").nth(1))
        .map(|p| p.trim().split("::").next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn no_claim_imports_a_claim() {
    let src = workspace().join("crates/lemmas/src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lemmas' lib.rs");
    let claims = claim_modules(&lib);
    assert!(claims.len() >= 7, "the table lists the seven claims: {claims:?}");
    let g = graph(&src);
    let mut found = Vec::new();
    for c in &claims {
        for t in &g[&vec![c.clone()]] {
            if t.len() == 1 && claims.contains(&t[0]) {
                found.push(format!("{c} → {}", t[0]));
            }
        }
    }
    assert!(found.is_empty(), "claims import claims: {found:?}");
}

/// What a lemmas file's code (comments, strings and tests removed) does that steps a dynamics
/// outside the one executor: a `.step(` call, a `Move::` walked by hand, or `model::execute`
/// called anywhere but `trajectory.rs`.
fn hand_driven(file: &str, code: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    if code.contains(".step(") {
        found.push("calls .step(");
    }
    if code.contains("Move::") {
        found.push("walks Move::s");
    }
    if file != "trajectory.rs" && code.contains("model::execute(") {
        found.push("calls model::execute( outside trajectory.rs");
    }
    found
}

#[test]
fn lemmas_steps_no_dynamics_outside_the_executor() {
    let src = workspace().join("crates/lemmas/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() >= 20, "{} files", files.len());
    let mut found = Vec::new();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let code = code_of(&std::fs::read_to_string(f).expect("a readable source file"));
        for what in hand_driven(&name, &code) {
            found.push(format!("{name} {what}"));
        }
    }
    assert!(found.is_empty(), "lemmas drives dynamics outside model::execute: {found:?}");
    // The check catches a hand loop and a hand walk, and ignores comments, strings and tests.
    let planted = "fn gd(p: &Problem, s: &mut State) { for _ in 0..9 { p.step(s); } }\n\
        fn walk(w: Walk) { for mv in w { if let Move::Step { .. } = mv {} } }\n\
        fn run() { model::execute(a, b, c, 1e6, f); }\n";
    let found = hand_driven("thm31.rs", &code_of(planted));
    assert_eq!(found, ["calls .step(", "walks Move::s", "calls model::execute( outside trajectory.rs"]);
    let quiet = "// p.step(s) and Move::Step\nfn f() { let s = \".step( Move::\"; }\n\
        #[cfg(test)]\nmod tests {\n    fn t(p: &P) { p.step(s); }\n}\n";
    assert!(hand_driven("thm31.rs", &code_of(quiet)).is_empty(), "{:?}", code_of(quiet));
}

/// The internal crates a manifest's `[dependencies]` name.
fn internal_dependencies(manifest: &str, internal: &BTreeSet<String>) -> Vec<String> {
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    deps.lines()
        .filter_map(|l| l.split(['=', '.']).next())
        .map(|n| n.trim().to_string())
        .filter(|n| internal.contains(n))
        .collect()
}

#[test]
fn xtask_depends_on_few_internal_crates() {
    let ws = workspace();
    let root = std::fs::read_to_string(ws.join("Cargo.toml")).expect("the workspace manifest");
    let internal: BTreeSet<String> = root
        .lines()
        .filter(|l| l.contains("path = \"crates/"))
        .filter_map(|l| l.split('=').next())
        .map(|n| n.trim().to_string())
        .collect();
    assert!(internal.len() >= 8, "{internal:?}");
    let xtask = std::fs::read_to_string(ws.join("xtask/Cargo.toml")).expect("xtask's manifest");
    let deps = internal_dependencies(&xtask, &internal);
    assert!(deps.len() <= XTASK_INTERNAL_CRATES, "xtask depends on {} internal crates: {deps:?}", deps.len());
    // The check reads what it should: a manifest naming four internal crates fails it.
    let planted = "[dependencies]\nmodel.workspace = true\nflow = { workspace = true }\nlemmas.workspace = true\nreport.workspace = true\nclap.workspace = true\n[dev-dependencies]\ndescent.workspace = true\n";
    assert_eq!(internal_dependencies(planted, &internal), ["model", "flow", "lemmas", "report"]);
}

/// Every `.rs` file below `dir` (no `target` folders).
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries {
        let p = e.expect("a directory entry").path();
        if p.is_dir() && !p.ends_with("target") {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The first `//!` line of a file: one sentence of at most this many characters (the detail below).
const FIRST_LINE_CHARS: usize = 120;

#[test]
fn every_first_doc_line_is_one_short_sentence() {
    let ws = workspace();
    let mut files = Vec::new();
    for d in ["crates", "xtask", "bench-peers", "python/src", "tests"] {
        rust_files(&ws.join(d), &mut files);
    }
    assert!(files.len() > 100, "{} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).expect("readable");
            let first = text.lines().next().unwrap_or("");
            let n = first.chars().count();
            (n > FIRST_LINE_CHARS).then(|| format!("{}: {n} characters", p.strip_prefix(&ws).unwrap_or(p).display()))
        })
        .collect();
    assert!(long.is_empty(), "first //! lines longer than {FIRST_LINE_CHARS} characters:\n{}", long.join("\n"));
}
