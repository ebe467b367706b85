//! docs/performance.md keeps the frame `cargo xtask bench-peers --markdown` writes around a run.

use std::path::Path;

use bench_peers::{PERFORMANCE_AFTER_RUN_HEADING, PERFORMANCE_RUN_HEADING, performance_page};

#[test]
fn the_committed_performance_page_is_what_bench_peers_writes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("docs/performance.md");
    let page = std::fs::read_to_string(&path).expect("docs/performance.md exists");
    let start =
        page.find(PERFORMANCE_RUN_HEADING).expect("the page has its run heading") + PERFORMANCE_RUN_HEADING.len();
    let end = page.find(PERFORMANCE_AFTER_RUN_HEADING).expect("the page has the heading after the run");
    let run = &page[start..end];
    assert!(run.contains("| benchmark | Rust | NumPy | JAX |"), "the run section holds the table:\n{run}");
    assert_eq!(
        performance_page(run),
        page,
        "docs/performance.md differs from the frame of `cargo xtask bench-peers --markdown` (bench_peers::performance_page): \
         rerun the command, or bring the page's fixed text in line with the function"
    );
}
