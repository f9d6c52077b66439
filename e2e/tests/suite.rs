//! The whole end-to-end suite against the local API double, so that
//! `cargo test --workspace` runs it.

#![allow(clippy::unwrap_used)]

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_against_the_local_double() {
    let summary = e2e::run(e2e::Options::default()).await;
    assert_eq!(
        summary.failed,
        0,
        "{}\n{}",
        summary.lines.join("\n"),
        summary.line()
    );
    assert_eq!(summary.passed + summary.skipped, 10, "{}", summary.line());
    // Only the kubectl scenario may be skipped, and only without kubectl.
    assert!(summary.skipped <= 1, "{}", summary.lines.join("\n"));
    let skipped: Vec<&String> = summary
        .lines
        .iter()
        .filter(|l| l.starts_with("SKIP "))
        .collect();
    assert_eq!(skipped.len(), summary.skipped, "{}", summary.line());
    for line in &skipped {
        assert!(
            line.starts_with("SKIP kubectl-describe-and-events: kubectl is not on PATH"),
            "{line}"
        );
    }
    assert!(
        skipped.is_empty() || !kubectl_on_path(),
        "kubectl is on PATH but its scenario was skipped"
    );
}

/// Whether a `kubectl` file is in one of the PATH directories.
fn kubectl_on_path() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("kubectl").is_file()))
}

#[test]
fn options_from_the_command_line() {
    assert_eq!(
        e2e::Options::parse(["--kubeconfig", "kind.yaml"]).unwrap(),
        e2e::Options {
            kubeconfig: Some("kind.yaml".into())
        }
    );
    assert_eq!(e2e::Options::parse(["--help"]).unwrap_err(), e2e::USAGE);
    assert!(
        e2e::Options::parse(["--kubeconfig"])
            .unwrap_err()
            .contains("needs a path")
    );
    assert!(
        e2e::Options::parse(["--bogus"])
            .unwrap_err()
            .starts_with("unknown argument `--bogus`")
    );
}
