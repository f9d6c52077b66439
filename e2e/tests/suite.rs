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
    assert_eq!(summary.passed + summary.skipped, 9, "{}", summary.line());
    // Only the kubectl scenario may be skipped, and only without kubectl.
    assert!(summary.skipped <= 1, "{}", summary.lines.join("\n"));
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
