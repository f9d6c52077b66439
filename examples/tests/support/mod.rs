//! Shared by the examples' tests.

/// Asserts that the README shows, as a Rust block, exactly the lines of
/// `source` between its `// README: begin` and `// README: end` markers.
pub(crate) fn assert_readme_shows(source: &str, what: &str) {
    let readme = include_str!("../../../README.md");
    let begin = "// README: begin\n";
    let start = source.find(begin).map(|i| i + begin.len());
    let end = source.find("// README: end");
    let (Some(start), Some(end)) = (start, end) else {
        panic!("the README markers are missing around {what}");
    };
    let block = format!("```rust\n{}```\n", &source[start..end]);
    assert!(
        readme.contains(&block),
        "README.md must show {what} exactly:\n{block}"
    );
}
