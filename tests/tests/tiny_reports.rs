//! Snapshot of the rendered Markdown of the tiny profile: every claim checked, rendered, and compared page by page.

use lemmas::{ClaimId, NoProgress, Profile};

#[test]
fn tiny_profile_markdown() {
    let results: Vec<_> = ClaimId::ALL
        .iter()
        .map(|&c| lemmas::check(c, &Profile::Tiny.config(c), &NoProgress).expect("tiny checks run"))
        .collect();
    let prov = report::Provenance {
        command: "cargo xtask verify-lemmas --profile tiny".into(),
        profile: "tiny".into(),
        version: "snapshot".into(),
        seeds: Profile::Tiny.config(ClaimId::Lem22).seeds,
        notes: vec![],
    };
    let pages = report::render_claims(&results, &prov);
    let markdown: Vec<_> = pages.iter().filter(|p| p.path.ends_with(".md")).collect();
    assert_eq!(markdown.len(), 1 + ClaimId::ALL.len(), "an index and one page per claim");
    for page in markdown {
        let name = page.path.trim_end_matches(".md").replace('.', "_");
        insta::assert_snapshot!(name, page.contents);
    }
}
